"""The audit report: a small static site in DIR (and DIR/report.md) from one Analysis.

The code computes one data model (`build_model`); Jinja2 templates in
`traceability/templates/` lay it out, one page per part of the audit package:

    index.html         summary, verdict, what is not yet verified, the parts, and the provenance
                       of the evidence (commit, source hash, Python, OS, tool versions)
    risk.html          scales and risk matrices, hazards -> situations -> controls, controls (type,
                       means, description), FMEA, dependent-failure analysis, overall residual
                       risk and the risk management report (ISO 14971 clauses 8 and 9)
    ifu.html           the instructions for use (docs/instructions_for_use.md) that the
                       information controls cite, one anchor per section
    requirements.html  user needs -> requirements, their controls (backlinks) and evidence
    matrix.html        the trace matrix hazard x control x requirement x tests, with counts,
                       and the reverse trace test -> requirement -> control -> hazard
    verification.html  unverified and suspect items, tests (parametrised cases folded),
                       state machine and its properties, reference session, benchmarks
    soup.html          runtime dependencies with installed versions
    findings.html      every finding of the check
    search.html        offline search over every id (search_index.js, no server needed)

Every id (UN, SRS, HAZ, HS, RC, FM, PROP and each test) has one anchor on its
home page; every mention elsewhere links to it, and each item lists what
links to it (backlinks). Pictures: the risk matrices are SVG from a template;
the reference session is a matplotlib PNG; the state diagram is the
verifier's SVG, or rendered from `core.machine` when that SVG is missing.
"""
from __future__ import annotations

import csv
import datetime as _dt
import importlib.metadata as md
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace as NS

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from traceability.bench import BENCH_DIR, EVIDENCE_KIND
import platform
import re

from traceability.check import FAIL, OTHER_BUILD, PASS, Analysis, no_gc, runtime_dependencies
from traceability.course_section import example_course
from traceability.data import IFU, IFU_HEADING
from traceability.docs.report_sections import SECTION_PAGES, append_markdown, section_model
from traceability.models import DEVICE_MAKER
from traceability.outwrite import refuse_links, write_out
from traceability.provenance import short

TRACE_CSV = "out/demo-trace.csv"
DIAGRAM_SVG = "out/verification/therapy_machine.svg"
PAGES = [("index.html", "Summary"), ("risk.html", "Risk file"), ("requirements.html", "Requirements"),
         ("matrix.html", "Trace matrix"), ("verification.html", "Verification"), ("soup.html", "SOUP"),
         ("ifu.html", "Instructions for use"), ("findings.html", "Findings")]
TOOLS = ("ionto-core", "pytest", "pydantic", "python-statemachine", "cffi", "jinja2", "hypothesis", "pyyaml")
STATIC = ("style.css", "search.js")
PAGES += SECTION_PAGES   # the IEC 62304 clause map and the bibliography (issue 10)
MAX_FINDINGS = 2000


def _env() -> Environment:
    env = Environment(loader=PackageLoader("traceability", "templates"),
                      autoescape=select_autoescape(["html", "svg", "html.j2", "svg.j2"], default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["mdcell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    env.filters["slug"] = slug
    return env


def slug(text: str) -> str:
    """An anchor for a test function: its node id without the parameters (no
    whitespace, so a valid HTML id and URL fragment as it is)."""
    return "t-" + text


# ---------------------------------------------------------------- helpers
def _git(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        # untracked, non-ignored files count (as in the documents' stamp): an
        # untracked module is in the build the report speaks for (issue 10 review)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not available (git not found)"
    if not head:
        return "not a git checkout"
    return head + (" (with uncommitted changes)" if dirty else "")


def _diagram(a: Analysis, out: Path) -> tuple[str | None, str]:
    """Copy the verifier's SVG, or render one; returns (file name, note)."""
    root = a.project.root
    src = None
    if a.verification and a.verification.get("diagram_svg"):
        cand = Path(a.verification["diagram_svg"])
        src = cand if cand.is_absolute() else root / cand
    if src is None or not src.exists():
        src = root / DIAGRAM_SVG
    if src.exists():
        shutil.copyfile(src, out / "state_machine.svg")
        return "state_machine.svg", f"from {src.relative_to(root) if src.is_relative_to(root) else src} (ionto-verify)"
    try:  # the one allowed import of core: render the diagram when the verifier has not
        import sys
        sys.path.insert(0, str(root))
        try:
            from core.machine import TherapyMachine  # type: ignore
            from statemachine.contrib.diagram import DotGraphMachine
            svg = DotGraphMachine(TherapyMachine)().create_svg()
        finally:
            sys.path.remove(str(root))
        (out / "state_machine.svg").write_bytes(svg)
        return "state_machine.svg", "rendered from core.machine.TherapyMachine (python-statemachine, pydot)"
    except Exception as exc:  # noqa: BLE001 -- any failure here only removes a picture
        return None, f"not available: no {DIAGRAM_SVG} and rendering failed ({type(exc).__name__}: {exc})"


def _session_plot(root: Path, out: Path) -> tuple[str | None, str]:
    path = root / TRACE_CSV
    if not path.exists():
        return None, f"not available: {TRACE_CSV} not found (run `scripts/dev.sh demo` or `ionto session --trace`)"
    cols: dict[str, list] = {k: [] for k in ("t_s", "state", "target_mA", "reference_mA", "current_mA",
                                             "peak_mA", "voltage_V")}
    try:
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                for k in cols:
                    cols[k].append(row[k] if k == "state" else float(row[k]))
    except (KeyError, ValueError) as exc:
        return None, f"not available: {TRACE_CSV} has unexpected content ({exc})"
    if not cols["t_s"]:
        return None, f"not available: {TRACE_CSV} is empty"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    states = list(dict.fromkeys(cols["state"]))
    fig, ax = plt.subplots(3, 1, figsize=(11, 8), sharex=True, height_ratios=[3, 2, 2])
    t = cols["t_s"]
    for k, style in (("target_mA", "--"), ("reference_mA", "-"), ("current_mA", "-"), ("peak_mA", ":")):
        ax[0].plot(t, cols[k], style, label=k, linewidth=1)
    ax[0].set_ylabel("mA")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[1].plot(t, cols["voltage_V"], color="tab:purple", linewidth=1)
    ax[1].set_ylabel("V")
    ax[2].step(t, [states.index(s) for s in cols["state"]], where="post", color="tab:gray")
    ax[2].set_yticks(range(len(states)), states, fontsize=8)
    ax[2].set_xlabel("time (s)")
    fig.suptitle(f"Reference simulated session ({TRACE_CSV}, {len(t)} rows)")
    fig.tight_layout()
    fig.savefig(out / "session.png", dpi=90)
    plt.close(fig)
    return "session.png", f"{TRACE_CSV}: {len(t)} rows, {t[-1]:.0f} s"


def ifu_blocks(text: str | None) -> list[NS]:
    """The instructions for use as blocks for ifu.html.j2: headings (with their {#anchor}),
    paragraphs and bullet lists, which is all the file uses. Inline `code` becomes a part
    of its own; the template escapes every text."""
    if text is None:
        return []
    blocks: list[NS] = []
    para: list[str] = []

    def parts(t: str) -> list[NS]:
        return [NS(code=bool(k % 2), text=x) for k, x in enumerate(t.split("`")) if x]

    def flush() -> None:
        if para:
            blocks.append(NS(kind="p", parts=parts(" ".join(para))))
            para.clear()

    for line in text.splitlines():
        head = IFU_HEADING.match(line) or re.match(r"^(#{1,6})\s+(.*?)\s*()$", line)
        if head:
            flush()
            blocks.append(NS(kind="h", level=min(6, len(head.group(1)) + 1),  # the page's h1 comes first
                             anchor=head.group(3), parts=parts(head.group(2))))
        elif line.startswith("- "):
            flush()
            if not blocks or blocks[-1].kind != "ul":
                blocks.append(NS(kind="ul", items=[]))
            blocks[-1].items.append(line[2:].strip())
        elif line.startswith("  ") and blocks and blocks[-1].kind == "ul" and not para:
            blocks[-1].items[-1] += " " + line.strip()
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
    flush()
    for b in blocks:
        if b.kind == "ul":
            b.items = [parts(x) for x in b.items]
    return blocks


def _tool_versions() -> list[tuple[str, str]]:
    rows = [("Python", platform.python_version()), ("OS", platform.platform())]
    for name in TOOLS:
        try:
            rows.append((name, md.version(name)))
        except md.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def _provenance(a: Analysis) -> dict:
    """Where the evidence comes from: this tree, each test run, the verifier's results."""
    build = a.build or {}
    runs = []
    for run in ((a.results or {}).get("runs") or [])[-10:]:
        if not isinstance(run, dict):
            continue
        rid = str(run.get("run_id", ""))
        runs.append({"id": rid, "finished": run.get("finished", ""), "full": run.get("full"),
                     "commit": short(run.get("commit")), "source": short(run.get("source_sha256")),
                     "python": run.get("python", "?"), "os": run.get("os", "?"), "pytest": run.get("pytest", "?"),
                     "other": a.foreign_runs.get(rid, "")})
    ver = a.verification or {}
    return {"commit": build.get("commit", "not checked (static)"), "source": build.get("source_sha256", ""),
            "runs": runs, "verification": {"commit": short(ver.get("commit")), "source": short(ver.get("source_sha256")),
                                           "other": ver.get("other_build", "")} if a.verification else None,
            "tools": _tool_versions()}


def _reverse_trace(tests, req_controls: dict, control_hazards: dict) -> dict:
    """Rows of test -> requirement -> control -> hazard: one per (test function, id).
    The per-requirement part is shared by every test of that requirement, so it is
    computed (and laid out, in prerender) once per requirement, not per test."""
    traces: dict[str, NS] = {}
    rows = []
    for g in tests:
        ids = g.ids or [None]
        for k, rid in enumerate(ids):
            t = None
            if rid is not None:
                t = traces.get(rid)
                if t is None:
                    cids = req_controls.get(rid, [])
                    hz = list(dict.fromkeys(h for c in cids for h in control_hazards.get(c, [])))
                    t = traces[rid] = NS(rid=rid, control_ids=cids, hazard_ids=hz, html="",
                                         controls=", ".join(cids) or "-", hazards=", ".join(hz) or "-")
            rows.append(NS(name=g.name, anchor=g.anchor, span=len(ids) if k == 0 else 0, t=t))
    return {"rows": rows, "traces": list(traces.values())}


# ---------------------------------------------------------------- the data model
def _fold(evidence) -> list[dict]:
    """Tests grouped by function: parametrised cases become one entry with their count."""
    groups: dict[str, dict] = {}
    for e in evidence:
        base = e.nodeid.split("[", 1)[0]
        g = groups.get(base)
        if g is None:
            g = groups[base] = {"name": base, "anchor": slug(base), "file": e.file, "line": e.line,
                                "count": 0, "outcomes": {}, "failing": []}
        g["count"] += 1
        g["outcomes"][e.outcome] = g["outcomes"].get(e.outcome, 0) + 1
        if e.outcome in FAIL:
            g["failing"].append({"nodeid": e.nodeid, "outcome": e.outcome, "message": e.message[:300],
                                 "file": e.file, "line": e.line})
    for g in groups.values():
        g["status"] = ("failed" if g["failing"] else
                       "verified" if g["outcomes"].get("passed") else "unverified")
        g["outcome_text"] = ", ".join(f"{n} {k}" for k, n in sorted(g["outcomes"].items()))
    # attribute objects, not dicts: a template's `g.name` on a dict costs a failed getattr each time
    return [NS(**g) for g in groups.values()]


def _risk_matrix(plan, counts: Counter, title: str) -> dict:
    """Geometry and counts of one matrix (severity rows, worst on top; probability columns)."""
    sev = list(plan.severity)[::-1]
    cw, ch, left, top = 90, 44, 150, 40
    cells = []
    for i, s in enumerate(sev):
        for j, p in enumerate(plan.probability):
            cells.append({"x": left + j * cw, "y": top + i * ch, "s": s.id, "p": p.id,
                          "region": plan.region(s.id, p.id), "n": counts.get((s.id, p.id), 0)})
    return {"title": title, "cw": cw, "ch": ch, "left": left, "top": top,
            "width": left + cw * len(plan.probability) + 10, "height": top + ch * len(sev) + 60,
            "rows": [{"y": top + i * ch, "label": f"{s.id} {s.name}"} for i, s in enumerate(sev)],
            "cols": [{"x": left + j * cw + cw / 2, "label": f"{p.id} {p.name}"}
                     for j, p in enumerate(plan.probability)],
            "bottom": top + ch * len(sev) + 16, "cells": cells}


def build_model(a: Analysis, out: Path) -> dict:
    p, plan = a.project, a.project.plan
    root = p.root
    refs: dict[str, str] = {}   # id -> page#anchor, the one home of each id
    for page, records in (("requirements.html", (p.needs, p.reqs)),
                          ("risk.html", (p.hazards, p.situations, p.controls, p.fmea)),
                          ("verification.html", (p.props,))):
        for ids in records:
            refs.update((i, f"{page}#{i}") for i in ids)

    # links both ways
    control_situations: dict[str, list[str]] = defaultdict(list)
    control_hazards: dict[str, list[str]] = defaultdict(list)
    control_fmea: dict[str, list[str]] = defaultdict(list)
    hazard_fmea: dict[str, list[str]] = defaultdict(list)
    for hz in p.hazards.values():
        for s in hz.situations:
            for c in s.controls:
                control_situations[c].append(s.id)
                if hz.id not in control_hazards[c]:
                    control_hazards[c].append(hz.id)
    for fid, (_, fm) in p.fmea.items():
        for c in fm.controls:
            control_fmea[c].append(fid)
        for h in fm.hazards:
            hazard_fmea[h].append(fid)
    req_controls: dict[str, list[str]] = defaultdict(list)
    req_hazards: dict[str, list[str]] = defaultdict(list)
    for c in p.controls.values():
        for rid in c.requirements:
            req_controls[rid].append(c.id)
            for h in control_hazards.get(c.id, []):
                if h not in req_hazards[rid]:
                    req_hazards[rid].append(h)
    verifies: dict[str, list[str]] = defaultdict(list)
    for x in p.props.values():
        for rid in x.verifies:
            verifies[rid].append(x.id)

    region = (lambda r: plan.region(r.severity, r.probability) if plan else "?")
    status = lambda i: a.status.get(i, "unknown")  # noqa: E731

    # tests, folded; each group's ids (for backlinks from the test list)
    test_ids: dict[str, set[str]] = defaultdict(set)
    for rid, evs in a.by_id.items():
        for e in evs:
            test_ids[e.nodeid.split("[", 1)[0]].add(rid)
    tests = _fold(a.tests)
    by_name = {g.name: g for g in tests}
    for g in tests:
        g.ids = sorted(test_ids.get(g.name, ()))
        refs.setdefault(g.name, f"verification.html#{g.anchor}")
    # per id: the function's line (all its cases; a marker applies to the function)
    folded_by_id = {rid: [by_name[b] for b in dict.fromkeys(e.nodeid.split("[", 1)[0] for e in evs)]
                    for rid, evs in a.by_id.items()}

    # ---- risk file
    hazards = []
    for hz in p.hazards.values():
        sits = []
        for s in hz.situations:
            sits.append({"s": s, "initial_region": region(s.initial_risk),
                         "residual_region": region(s.residual_risk),
                         "controls": [{"id": c, "title": p.controls[c].title if c in p.controls else
                                       "(unknown control)",
                                       "requirements": p.controls[c].requirements if c in p.controls else []}
                                      for c in s.controls]})
        hazards.append({"h": hz, "situations": sits, "fmea": hazard_fmea.get(hz.id, [])})
    controls = [{"c": c, "situations": control_situations.get(c.id, []),
                 "hazards": control_hazards.get(c.id, []), "fmea": control_fmea.get(c.id, []),
                 "reqs": [{"id": r, "status": status(r)} for r in c.requirements],
                 "ifu": [{"anchor": x, "title": p.ifu_sections.get(x, (0, "(missing section)"))[1]}
                         for x in c.instructions],
                 "verified_by": ("the device maker (hardware duty)" if any(
                     r in p.reqs and p.reqs[r].verification == DEVICE_MAKER for r in c.requirements)
                     else "this project's evidence")}
                for c in p.controls.values()]
    fmea = []
    by_item: dict[str, list] = defaultdict(list)
    for fid, (item, fm) in p.fmea.items():
        by_item[item].append({"f": fm, "residual_region": region(fm.residual_risk)})
    for item in p.fmea_items:
        fmea.append({"item": item, "modes": by_item.get(item, [])})
    matrices = []
    if plan is not None:
        before, after = Counter(), Counter()
        for _, s in p.situations.values():
            before[(s.initial_risk.severity, s.initial_risk.probability)] += 1
            after[(s.residual_risk.severity, s.residual_risk.probability)] += 1
        matrices = [("risk_before.svg", _risk_matrix(plan, before, "Initial risk (before controls)")),
                    ("risk_after.svg", _risk_matrix(plan, after, "Residual risk (after controls)"))]

    # ---- requirements by user need
    by_parent: dict[str, list] = defaultdict(list)
    orphans = []
    for r in p.reqs.values():
        (by_parent[r.parent] if r.parent in p.needs else orphans).append(r)

    def req_entry(r) -> dict:
        bench = a.bench.get(r.id)
        return NS(**{"r": r, "status": status(r.id), "suspect": r.id in a.suspect,
                "controls": req_controls.get(r.id, []), "hazards": req_hazards.get(r.id, []),
                "tests": folded_by_id.get(r.id, []),
                "props": [{"id": x, "result": a.prop_result.get(x, "no result")} for x in verifies.get(r.id, [])],
                "bench": None if bench is None else {
                    "file": bench.file, "met": bench.met, "counted": bench.counted,
                    "summary": bench.summary(),
                    "figures": [{"name": n, "text": f.text(), "met": f.met} for n, f in bench.record.figures.items()]},
                "inspection": r.evidence if r.verification == "inspection" else []})

    needs = []
    for n in p.needs.values():
        failing = [{"rid": rid, "tests": [g for g in folded_by_id.get(rid, []) if g.failing],
                    "props": [x for x in verifies.get(rid, []) if a.status.get(x) == "failed"]}
                   for rid, _ in a.need_failing.get(n.id, [])]
        needs.append({"id": n.id, "title": n.title, "need": n, "status": a.need_status.get(n.id, "unverified"),
                      "failing": failing, "reqs": [req_entry(r) for r in by_parent.get(n.id, [])]})
    if orphans:
        needs.append({"id": "no-parent", "title": "no parent", "need": None, "status": "unverified",
                      "failing": [], "reqs": [req_entry(r) for r in orphans]})

    # ---- trace matrix: hazard x control x requirement x tests (counts, links)
    matrix = []
    for hz in p.hazards.values():
        cids = list(dict.fromkeys(c for s in hz.situations for c in s.controls))
        hrows = []
        for cid in cids:
            c = p.controls.get(cid)
            rids = c.requirements if c else []
            crows = []
            for rid in rids or [None]:
                evs = a.by_id.get(rid, []) if rid else []
                crows.append(NS(**{"rid": rid, "status": status(rid) if rid else "none",
                              "passed": sum(1 for e in evs if e.outcome in PASS),
                              "failed": sum(1 for e in evs if e.outcome in FAIL),
                              "total": len(evs), "groups": len(folded_by_id.get(rid, [])) if rid else 0,
                              "props": len(verifies.get(rid, [])) if rid else 0}))
            hrows.append({"cid": cid, "title": c.title if c else "(unknown control)", "rows": crows})
        matrix.append({"id": hz.id, "title": hz.title, "controls": hrows,
                       "span": sum(len(x["rows"]) for x in hrows) or 1})

    # ---- reverse trace: test -> requirements -> controls -> hazards, laid out here once
    # (one row per test function; the per-requirement part is built once and shared)
    reverse = _reverse_trace(tests, req_controls, control_hazards)

    # ---- gaps
    gaps = [{"id": rid, "title": r.title, "kind": r.kind, "status": a.status.get(rid)}
            for rid, r in p.reqs.items() if a.status.get(rid) in ("failed", "unverified", "planned", OTHER_BUILD)]

    # ---- state machine, session, benchmarks
    diagram, diagram_note = _diagram(a, out)
    session, session_note = _session_plot(root, out)
    res = {r.get("id"): r for r in (a.verification or {}).get("properties", [])}
    props = [{"x": x, "result": res.get(x.id, {}).get("result", "no result"),
              "method": res.get(x.id, {}).get("method", ""),
              "tests": folded_by_id.get(x.id, [])} for x in p.props.values()]
    bench_rows = []
    for rid, b in sorted(a.bench.items()):
        r = b.record
        for name, f in r.figures.items():
            bench_rows.append({"rid": rid, "benchmark": r.benchmark, "figure": name,
                               "value": f"{f.value:.4g} {f.unit}", "goal": f"{f.comparison} {f.goal:g} {f.unit}",
                               "met": f.met, "machine": r.machine.text(),
                               "date": r.date.isoformat(timespec="seconds"),
                               "commit": r.commit_text() + ("" if b.counted else "; not counted: see findings")})

    # ---- SOUP
    purposes = {s.name.lower().replace("_", "-"): s for s in p.soup}
    soup = []
    for dep in runtime_dependencies(root):
        try:
            ver = md.version(dep)
        except md.PackageNotFoundError:
            ver = "NOT INSTALLED"
        s = purposes.get(dep.lower().replace("_", "-"))
        soup.append({"name": dep, "version": ver,
                     "purpose": s.purpose if s else "MISSING (no entry in hazard_analysis/soup.yaml)",
                     "safety": s.safety_relevance if s else "", "anomalies": s.known_anomalies if s else ""})

    # ---- summary
    st = Counter(a.status[r] for r in p.reqs)
    # a hardware duty is implemented by the device maker, never verified here: not in the ratio
    implemented = sum(1 for r in p.reqs.values() if r.status == "implemented" and r.verification != DEVICE_MAKER)
    outcomes = Counter(e.outcome for e in a.tests)
    last_run = None
    if a.results and a.results.get("runs"):
        last = a.results["runs"][-1]
        last_run = {"id": last.get("run_id"), "finished": last.get("finished"), "full": last.get("full"),
                    "args": " ".join(last.get("args", []))}
    summary = {
        "needs": len(p.needs), "reqs": len(p.reqs), "implemented": implemented,
        "planned": st["planned"], "verified": st["verified"], "failed": st["failed"],
        "unverified": st["unverified"],
        "pct": 100.0 * st["verified"] / implemented if implemented else 0.0,
        "kinds": sorted(Counter(r.kind for r in p.reqs.values()).items()),
        "hazards": len(p.hazards), "situations": len(p.situations), "controls": len(p.controls),
        "control_types": sorted(Counter(c.type for c in p.controls.values()).items()),
        "fmea": len(p.fmea), "fmea_items": len(p.fmea_items),
        "tests": len(a.tests), "test_groups": len(tests), "outcomes": sorted(outcomes.items()),
        "have_results": a.results is not None,
        "props": len(p.props), "prop_results": sorted(Counter(a.prop_result.get(x, "no result")
                                                              for x in p.props).items()),
        "suspect": len(a.suspect), "bench": len(a.bench),
        "device_maker": st[DEVICE_MAKER], "other_build": st[OTHER_BUILD],
        "bench_met": sum(1 for b in a.bench.values() if b.met), "last_run": last_run,
    }
    findings = sorted(a.findings, key=lambda f: f.level)
    search = ([{"i": n.id, "t": n.title, "k": "user need", "u": refs[n.id], "x": n.statement}
               for n in p.needs.values()]
              + [{"i": r.id, "t": r.title, "k": f"requirement ({status(r.id)})", "u": refs[r.id],
                  "x": r.statement} for r in p.reqs.values()]
              + [{"i": h.id, "t": h.title, "k": "hazard", "u": refs[h.id], "x": h.hazard}
                 for h in p.hazards.values()]
              + [{"i": sid, "t": s.hazardous_situation[:120], "k": "hazardous situation", "u": refs[sid],
                  "x": s.harm} for sid, (_, s) in p.situations.items()]
              + [{"i": c.id, "t": c.title, "k": "risk control", "u": refs[c.id], "x": c.description}
                 for c in p.controls.values()]
              + [{"i": fid, "t": fm.failure_mode, "k": "failure mode", "u": refs[fid], "x": fm.effect}
                 for fid, (_, fm) in p.fmea.items()]
              + [{"i": x.id, "t": x.title or x.statement[:120], "k": "property", "u": refs[x.id],
                  "x": x.statement} for x in p.props.values()]
              + [{"i": g.name, "t": f"{g.count} case(s): {g.outcome_text}", "k": "test",
                  "u": refs[g.name], "x": " ".join(g.ids)} for g in tests])
    return {
        "title": "Audit report: iontophoresis control core",
        "built": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "commit": _git(root), "verdict": a.verdict, "pending": a.pending,
        "open_risks": [oid for oid in plan.open_risk if refs.get(oid)] if plan is not None else [],
        "errors": len(a.errors), "warnings": len(a.warnings), "pages": PAGES, "refs": refs,
        "summary": summary, "plan": plan, "matrices": matrices, "hazards": hazards, "controls": controls,
        "fmea": fmea, "needs": needs, "matrix": matrix, "gaps": gaps,
        "suspect": sorted(a.suspect.items()), "stale": a.stale[:500], "tests": tests,
        "diagram": diagram, "diagram_note": diagram_note, "session": session, "session_note": session_note,
        "props": props, "mutation": (a.verification or {}).get("table_mutation"),
        "have_verification": a.verification is not None,
        "bench_rows": bench_rows, "bench_dir": BENCH_DIR, "evidence_kind": EVIDENCE_KIND,
        "soup": soup, "findings": findings[:MAX_FINDINGS], "findings_more": max(0, len(findings) - MAX_FINDINGS),
        "search": search, "trace_csv": TRACE_CSV,
        "reverse": reverse, "provenance": _provenance(a), "risk_report": p.risk_report,
        "ifu": ifu_blocks(p.ifu_text), "ifu_file": IFU, "other_build": OTHER_BUILD, "device_maker": DEVICE_MAKER,
    }


SEP = "\x1e"   # record separator between the test functions laid out in one render


def prerender(env: Environment, model: dict) -> None:
    """Each test function appears on several pages: laid out once (one render of
    _tests.html.j2 / _tests.md.j2 over all of them), then placed by the pages."""
    tests = model["tests"]
    html = env.get_template("_tests.html.j2").render(tests=tests, sep=SEP).split(SEP)
    md = env.get_template("_tests.md.j2").render(tests=tests, sep=SEP).split(SEP)
    for g, h, m_ in zip(tests, html, md):
        g.html, g.md = Markup(h), m_
    traces = model["reverse"]["traces"]
    cells = env.get_template("_reverse.html.j2").render(traces=traces, sep=SEP, refs=model["refs"]).split(SEP)
    for t, c in zip(traces, cells):
        t.html = Markup(c)


# ---------------------------------------------------------------- entry point
def write_report(a: Analysis, out: Path) -> Path:
    with no_gc():
        return _write_report(a, out)


def _write_report(a: Analysis, out: Path) -> Path:
    refuse_links(out)      # SRS-295: before anything is written
    out.mkdir(parents=True, exist_ok=True)
    env = _env()
    model = build_model(a, out)
    model.update(section_model(a.project.root))
    model["course"] = example_course(a.project.root, out)   # the main job's example course (issue 11)
    prerender(env, model)
    for name, matrix in model["matrices"]:
        write_out(out, name, env.get_template("risk_matrix.svg.j2").render(m=matrix))
    for page, _ in PAGES + [("search.html", "Search")]:
        html = env.get_template(page + ".j2").render(page=page, **model)
        write_out(out, page, html)
    write_out(out, "search_index.js", env.get_template("search_index.js.j2").render(**model))
    for name in STATIC:
        source, _, _ = env.loader.get_source(env, f"static/{name}")  # copied as it is
        write_out(out, name, source)
    write_out(out, "report.md", env.get_template("report.md.j2").render(**model))
    append_markdown(env, model, out / "report.md")
    return out / "index.html"
