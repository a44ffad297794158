"""The audit report: DIR/index.html and DIR/report.md from one Analysis.

Plain string building (no template engine: Jinja2 is not a declared
dependency). Every section is produced once as (html, markdown). Pictures:
the risk matrices are SVG drawn by hand; the reference session is a
matplotlib PNG; the state diagram is the verifier's SVG, or rendered from
`core.machine` via python-statemachine + pydot when that SVG is missing.
"""
from __future__ import annotations

import csv
import datetime as _dt
import html
import importlib.metadata as md
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from traceability.bench import BENCH_DIR, EVIDENCE_KIND, BenchEvidence
from traceability.check import FAIL, PASS, Analysis, Evidence, no_gc, runtime_dependencies

TRACE_CSV = "out/demo-trace.csv"
DIAGRAM_SVG = "out/verification/therapy_machine.svg"
REGION_COLOUR = {"acceptable": "#b7e1a1", "alarp": "#ffe08a", "unacceptable": "#f4a09c"}
STATUS_COLOUR = {"verified": "#2e7d32", "failed": "#c62828", "unverified": "#ef6c00",
                 "planned": "#546e7a", "partially verified": "#ef6c00", "proven": "#2e7d32",
                 "violated": "#c62828"}
CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top;font-size:90%}th{background:#eee}.b{color:#fff;padding:1px 5px;border-radius:3px;
font-size:85%}code{font-size:90%}nav a{margin-right:1em}.small{font-size:85%;color:#555}
h2{border-bottom:2px solid #888;margin-top:2em}details{margin:.3em 0}"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def badge(status: str, label: str | None = None) -> str:
    """A coloured status; `label` shows other words in the status's colour."""
    return (f'<span class="b" style="background:{STATUS_COLOUR.get(status, "#777")}">'
            f'{esc(status if label is None else label)}</span>')


def md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


class Doc:
    """Collects each section twice: HTML and Markdown."""

    def __init__(self) -> None:
        self.html: list[str] = []
        self.md: list[str] = []
        self.toc: list[tuple[str, str]] = []

    def h2(self, anchor: str, title: str) -> None:
        self.toc.append((anchor, title))
        self.html.append(f'<h2 id="{anchor}">{esc(title)}</h2>')
        self.md.append(f"\n## {title}\n")

    def h3(self, title: str, anchor: str = "") -> None:
        self.html.append(f'<h3{f" id={chr(34)}{anchor}{chr(34)}" if anchor else ""}>{esc(title)}</h3>')
        self.md.append(f"\n### {title}\n")

    def para(self, text: str, html_text: str | None = None) -> None:
        self.html.append(f"<p>{html_text if html_text is not None else esc(text)}</p>")
        self.md.append(text + "\n")

    def table(self, headers: list[str], rows: list[list[tuple[str, str] | str]]) -> None:
        """Each cell is text, or (html, markdown) when the two differ."""
        h = ["<table><tr>" + "".join(f"<th>{esc(x)}</th>" for x in headers) + "</tr>"]
        m = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for row in rows:
            hc, mc = [], []
            for cell in row:
                if isinstance(cell, tuple):
                    hc.append(cell[0])
                    mc.append(md_cell(cell[1]))
                else:
                    hc.append(esc(cell))
                    mc.append(md_cell(cell))
            h.append("<tr>" + "".join(f"<td>{c}</td>" for c in hc) + "</tr>")
            m.append("| " + " | ".join(mc) + " |")
        h.append("</table>")
        self.html.append("\n".join(h))
        self.md.append("\n".join(m) + "\n")

    def image(self, src: str, alt: str) -> None:
        self.html.append(f'<p><img src="{esc(src)}" alt="{esc(alt)}" style="max-width:100%"></p>')
        self.md.append(f"![{alt}]({src})\n")

    def raw(self, html_text: str, md_text: str) -> None:
        self.html.append(html_text)
        self.md.append(md_text)


# ---------------------------------------------------------------- helpers
def _git(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not available (git not found)"
    if not head:
        return "not a git checkout"
    return head + (" (with uncommitted changes)" if dirty else "")


def _ev_text(e: Evidence) -> tuple[str, str]:
    h = f'{badge(e.outcome) if e.outcome in PASS | FAIL else esc(e.outcome)} <code>{esc(e.nodeid)}</code> ' \
        f'<span class="small">{esc(e.file)}:{e.line}</span>'
    if e.outcome in FAIL and e.message:
        h += f'<br><span class="small">{esc(e.message[:200])}</span>'
    return h, f"{e.outcome} `{e.nodeid}` ({e.file}:{e.line})"


def _bench_text(b: BenchEvidence) -> tuple[str, str]:
    """A benchmark record as evidence: each figure against its goal, then where and when it ran."""
    st = ("verified" if b.met else "unverified") if b.counted else "planned"
    label = "goals met" if b.met else "goal missed"
    if not b.counted:
        label += ", not counted"
    figs = [(name, f, "met" if f.met else "MISSED") for name, f in b.record.figures.items()]
    h = (f'{badge(st, label)} {esc(EVIDENCE_KIND)} <code>{esc(b.file)}</code><br>'
         + "<br>".join(f"{esc(n)} = {esc(f.text())} <b>{m}</b>" for n, f, m in figs)
         + f'<br><span class="small">{esc(b.summary())}</span>')
    md_text = (f"{EVIDENCE_KIND} `{b.file}` ({label}): "
               + ", ".join(f"{n} = {f.text()} {m}" for n, f, m in figs) + f"; {b.summary()}")
    return h, md_text


def risk_svg(plan, counts: Counter, title: str) -> str:
    """Severity rows (worst on top) x probability columns, coloured by region, count per cell."""
    sev = list(plan.severity)[::-1]
    prob = plan.probability
    cw, ch, left, top = 90, 44, 150, 40
    w, hgt = left + cw * len(prob) + 10, top + ch * len(sev) + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{hgt}" font-family="sans-serif" '
           f'font-size="12"><title>{esc(title)}</title>',
           f'<text x="{left}" y="18" font-size="14" font-weight="bold">{esc(title)}</text>']
    for i, s in enumerate(sev):
        y = top + i * ch
        out.append(f'<text x="4" y="{y + ch / 2 + 4}">{esc(s.id)} {esc(s.name)}</text>')
        for j, p in enumerate(prob):
            x = left + j * cw
            region = plan.region(s.id, p.id)
            n = counts.get((s.id, p.id), 0)
            out.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{REGION_COLOUR[region]}" '
                       f'stroke="#666"><title>{esc(s.id)}/{esc(p.id)}: {region}, {n}</title></rect>')
            if n:
                out.append(f'<text x="{x + cw / 2}" y="{y + ch / 2 + 6}" text-anchor="middle" '
                           f'font-size="18" font-weight="bold">{n}</text>')
    yb = top + ch * len(sev) + 16
    for j, p in enumerate(prob):
        out.append(f'<text x="{left + j * cw + cw / 2}" y="{yb}" text-anchor="middle">{esc(p.id)} '
                   f'{esc(p.name)}</text>')
    out.append(f'<text x="{left}" y="{yb + 22}" class="small">probability per session; number = '
               f'hazardous situations in the cell</text></svg>')
    return "\n".join(out)


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


# ---------------------------------------------------------------- sections
def _summary(d: Doc, a: Analysis) -> None:
    p = a.project
    st = Counter(a.status[r] for r in p.reqs)
    implemented = sum(1 for r in p.reqs.values() if r.status == "implemented")
    pct = 100.0 * st["verified"] / implemented if implemented else 0.0
    outcomes = Counter(e.outcome for e in a.tests)
    kinds = Counter(r.kind for r in p.reqs.values())
    ctypes = Counter(c.type for c in p.controls.values())
    props = Counter(a.prop_result.get(x, "no result") for x in p.props)
    d.h2("summary", "Summary")
    verdict = "PASSED" if not a.errors else "FAILED"
    d.para(f"ionto-trace check: {verdict} with {len(a.errors)} error(s) and {len(a.warnings)} warning(s).",
           f"<b>ionto-trace check: {badge('verified' if not a.errors else 'failed')} {verdict}</b> with "
           f"{len(a.errors)} error(s) and {len(a.warnings)} warning(s) (see <a href='#findings'>findings</a>).")
    rows = [
        ["user needs", str(len(p.needs))],
        ["requirements", f"{len(p.reqs)} ({implemented} implemented, {st['planned']} planned); "
                         + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))],
        [("<b>verified</b>", "**verified**"),
         (f"<b>{st['verified']} of {implemented} implemented ({pct:.1f} %)</b>",
          f"**{st['verified']} of {implemented} implemented ({pct:.1f} %)**")],
        ["failed / unverified / planned", f"{st['failed']} / {st['unverified']} / {st['planned']}"],
        ["hazards / hazardous situations", f"{len(p.hazards)} / {len(p.situations)}"],
        ["risk controls", f"{len(p.controls)} (" + ", ".join(f"{k} {v}" for k, v in sorted(ctypes.items())) + ")"],
        ["FMEA failure modes", f"{len(p.fmea)} over {len(p.fmea_items)} software items"],
        ["test results", f"{len(a.tests)} (" + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ")"
         if a.results else "no test results: run pytest first"],
        ["state-machine properties", f"{len(p.props)} (" + ", ".join(f"{k} {v}" for k, v in sorted(props.items()))
         + ")" if p.props else "spec/properties.yaml not found"],
        ["suspect or unreviewed items", str(len(a.suspect))],
        ["benchmark records", (f"{len(a.bench)} ({sum(1 for b in a.bench.values() if b.met)} with every goal "
                               f"met; see <a href='#benchmarks'>benchmarks</a>)",
                               f"{len(a.bench)} ({sum(1 for b in a.bench.values() if b.met)} with every goal met)")],
    ]
    if a.results and a.results.get("runs"):
        last = a.results["runs"][-1]
        rows.append(["latest test run", f"{last.get('run_id')} finished {last.get('finished')} "
                     f"({'full suite' if last.get('full') else 'partial: ' + ' '.join(last.get('args', []))})"])
    d.table(["", ""], rows)


def _matrices(d: Doc, a: Analysis, out: Path) -> None:
    p, plan = a.project, a.project.plan
    d.h2("risk", "Risk matrix before and after controls")
    if plan is None:
        d.para("not available: the risk management plan did not load (see findings)")
        return
    before, after = Counter(), Counter()
    for _, s in p.situations.values():
        before[(s.initial_risk.severity, s.initial_risk.probability)] += 1
        after[(s.residual_risk.severity, s.residual_risk.probability)] += 1
    for name, counts, title in (("risk_before.svg", before, "Initial risk (before controls)"),
                                ("risk_after.svg", after, "Residual risk (after controls)")):
        (out / name).write_text(risk_svg(plan, counts, title), encoding="utf-8")
        d.image(name, title)
    d.para("Regions: green acceptable, yellow ALARP (needs a benefit-risk statement), red unacceptable. "
           + plan.acceptance_policy)
    d.table(["severity"] + [x.id for x in plan.probability],
            [[s.id] + [plan.region(s.id, x.id) for x in plan.probability] for s in plan.severity])


def _req_cell(a: Analysis, rid: str) -> tuple[str, str]:
    r = a.project.reqs.get(rid)
    st = a.status.get(rid, "unknown")
    title = r.title if r else "(unknown id)"
    return (f'<a href="#{esc(rid)}">{esc(rid)}</a> {esc(title)} {badge(st)}', f"[{rid}](#{rid.lower()}) {title} ({st})")


def _chain(d: Doc, a: Analysis) -> None:
    p, plan = a.project, a.project.plan
    d.h2("chain", "Hazards: situation -> harm -> controls -> requirements -> tests")
    reg = (lambda r: plan.region(r.severity, r.probability) if plan else "?")
    for hz in p.hazards.values():
        d.h3(f"{hz.id} {hz.title}", hz.id)
        d.para(f"Hazard: {hz.hazard}. Category {hz.category}. Sources: {', '.join(hz.sources) or '-'}.")
        for s in hz.situations:
            rows = []
            for cid in s.controls:
                c = p.controls.get(cid)
                if c is None:
                    rows.append([cid, "(unknown control)", "", ""])
                    continue
                reqs = [_req_cell(a, rid) for rid in c.requirements]
                tests = []
                for rid in c.requirements:
                    ev = a.by_id.get(rid, [])
                    bad = [e for e in ev if e.outcome in FAIL]
                    ok = sum(1 for e in ev if e.outcome in PASS)
                    h = f"{esc(rid)}: {ok} passed" + "".join(f"<br>{_ev_text(e)[0]}" for e in bad)
                    m = f"{rid}: {ok} passed" + "".join(f"; {_ev_text(e)[1]}" for e in bad)
                    tests.append((h, m))
                rows.append([f"{c.id}", (f"{esc(c.title)}<br><i>{esc(c.type)}</i>", f"{c.title} ({c.type})"),
                             ("<br>".join(x[0] for x in reqs), "; ".join(x[1] for x in reqs)),
                             ("<br>".join(x[0] for x in tests), "; ".join(x[1] for x in tests))])
            d.raw(f"<p><b>{esc(s.id)}</b> sequence of events: {esc(' -> '.join(s.sequence_of_events))}<br>"
                  f"<b>hazardous situation:</b> {esc(s.hazardous_situation)}<br><b>harm:</b> {esc(s.harm)}<br>"
                  f"<b>initial risk:</b> {s.initial_risk.severity}/{s.initial_risk.probability} "
                  f"({reg(s.initial_risk)}) &rarr; <b>residual risk:</b> {s.residual_risk.severity}/"
                  f"{s.residual_risk.probability} ({reg(s.residual_risk)})"
                  + (f"<br><b>benefit-risk:</b> {esc(s.benefit_risk)}" if s.benefit_risk else "") + "</p>",
                  f"**{s.id}** sequence of events: {' -> '.join(s.sequence_of_events)}  \n"
                  f"hazardous situation: {s.hazardous_situation}  \nharm: {s.harm}  \n"
                  f"initial risk {s.initial_risk.severity}/{s.initial_risk.probability} ({reg(s.initial_risk)})"
                  f" -> residual {s.residual_risk.severity}/{s.residual_risk.probability} "
                  f"({reg(s.residual_risk)})" + (f"  \nbenefit-risk: {s.benefit_risk}" if s.benefit_risk else "")
                  + "\n")
            d.table(["control", "title / type", "requirements", "tests"], rows)


def _requirements(d: Doc, a: Analysis) -> None:
    p = a.project
    d.h2("requirements", "Requirements and their verification, by user need")
    d.para("A user need shows every failing test of the requirements that refine it.")
    by_parent: dict[str, list] = {}
    orphans = []
    for r in p.reqs.values():
        (by_parent.setdefault(r.parent, []) if r.parent in p.needs else orphans).append(r)
    verifies: dict[str, list[str]] = {}
    for x in p.props.values():
        for rid in x.verifies:
            verifies.setdefault(rid, []).append(x.id)
    groups = [(n.id, f"{n.id} {n.title}", n) for n in p.needs.values()] + [("", "no parent", None)]
    for key, title, need in groups:
        reqs = by_parent.get(key, []) if need else orphans
        if not need and not reqs:
            continue
        st = a.need_status.get(key, "unverified")
        d.raw(f'<h3 id="{esc(key)}">{esc(title)} {badge(st)}</h3>'
              + (f"<p>{esc(need.statement)} <span class='small'>({esc(need.source)})</span></p>" if need else ""),
              f"\n### {title} ({st})\n\n" + (f"{need.statement} ({need.source})\n" if need else ""))
        failing = [(rid, e) for rid, _ in a.need_failing.get(key, []) for e in a.by_id.get(rid, [])
                   if e.outcome in FAIL]
        failing_props = [(rid, x) for rid, _ in a.need_failing.get(key, []) for x in verifies.get(rid, [])
                         if a.status.get(x) == "failed"]
        if failing or failing_props:
            d.raw("<p><b>Failing:</b><br>" + "<br>".join(f"{esc(rid)}: {_ev_text(e)[0]}" for rid, e in failing)
                  + "".join(f"<br>{esc(rid)}: property {esc(x)} {badge('failed')}" for rid, x in failing_props)
                  + "</p>",
                  "Failing: " + "; ".join(f"{rid}: {_ev_text(e)[1]}" for rid, e in failing)
                  + "".join(f"; {rid}: property {x} failed" for rid, x in failing_props) + "\n")
        rows = []
        for r in reqs:
            ev = a.by_id.get(r.id, [])
            cells_h = [_ev_text(e)[0] for e in ev] + [
                f"property {esc(x)} {badge(a.prop_result.get(x, 'no result'))}" for x in verifies.get(r.id, [])]
            cells_m = [_ev_text(e)[1] for e in ev] + [
                f"property {x} {a.prop_result.get(x, 'no result')}" for x in verifies.get(r.id, [])]
            if r.id in a.bench:
                bh, bm = _bench_text(a.bench[r.id])
                cells_h.append(bh)
                cells_m.append(bm)
            flag = " (suspect)" if r.id in a.suspect else ""
            rows.append([(f'<span id="{esc(r.id)}"></span><b>{esc(r.id)}</b>{esc(flag)}', r.id + flag),
                         (f"<b>{esc(r.title)}</b><br>{esc(r.statement)}<br><span class='small'>"
                          f"{esc(r.rationale)}</span>", f"**{r.title}**: {r.statement}"),
                         f"{r.kind} / {r.verification} / {r.status}",
                         (badge(a.status.get(r.id, '?')), a.status.get(r.id, "?")),
                         ("<br>".join(cells_h) or "none", "; ".join(cells_m) or "none")])
        d.table(["id", "requirement", "kind / method / status", "verification",
                 "evidence (tests, properties, benchmark records)"],
                rows)


def _gaps(d: Doc, a: Analysis) -> None:
    p = a.project
    d.h2("gaps", "Unverified and suspect")
    rows = []
    for rid, r in p.reqs.items():
        st = a.status.get(rid)
        if st in ("failed", "unverified", "planned"):
            rows.append([rid, r.title, r.kind, (badge(st), st)])
    d.h3("Requirements not verified")
    if rows:
        d.table(["id", "title", "kind", "status"], rows)
    else:
        d.para("none: every requirement is verified.")
    d.h3("Suspect or unreviewed items and links")
    if a.suspect:
        d.table(["id", "why"], [[k, "; ".join(v)] for k, v in sorted(a.suspect.items())])
    else:
        d.para("none: every item and link matches its review record (spec/links.lock).")
    if a.stale:
        d.h3("Stale test results (not counted)")
        d.table(["test"], [[s] for s in a.stale[:500]])


def _machine(d: Doc, a: Analysis, out: Path) -> None:
    d.h2("machine", "Therapy state machine")
    name, note = _diagram(a, out)
    if name:
        d.image(name, "therapy state machine")
    d.para(note)
    p = a.project
    if p.props:
        rows = []
        res = {r.get("id"): r for r in (a.verification or {}).get("properties", [])}
        for x in p.props.values():
            r = res.get(x.id, {})
            st = r.get("result", "no result")
            rows.append([x.id, x.title or x.statement[:80], ", ".join(x.verifies),
                         (badge(st), st), r.get("method", "")])
        d.table(["property", "title", "verifies", "result", "method"], rows)
        mut = (a.verification or {}).get("table_mutation")
        if mut:
            d.para(f"Table mutation: {mut.get('caught')} of {mut.get('total')} mutants caught; "
                   f"{len(mut.get('equivalent', []))} explained as equivalent; survivors: "
                   f"{', '.join(map(str, mut.get('survivors', []))) or 'none'}.")
        elif a.verification is None:
            d.para("No verifier results (out/verification/results.json): run ionto-verify.")


def _session(d: Doc, a: Analysis, out: Path) -> None:
    d.h2("session", "Reference simulated session")
    name, note = _session_plot(a.project.root, out)
    if name:
        d.image(name, "reference session: current, voltage and state over time")
    d.para(note)


def _benchmarks(d: Doc, a: Analysis) -> None:
    d.h2("benchmarks", "Benchmarks")
    d.para(f"Figures recorded by the bench/ scripts in {BENCH_DIR}/ on the machine that ran them. A "
           "performance requirement verified by analysis is verified when every figure met its goal; a missed "
           "goal is a warning (a slower machine), never a build failure.")
    if not a.bench:
        d.para(f"No benchmark records: run the bench/ scripts (they write {BENCH_DIR}/<id>.json).")
        return
    rows = []
    for rid, b in sorted(a.bench.items()):
        r = b.record
        for name, f in r.figures.items():
            st = "met" if f.met else "missed"
            rows.append([rid, (f"<code>{esc(r.benchmark)}</code>", f"`{r.benchmark}`"), name,
                         f"{f.value:.4g} {f.unit}", f"{f.comparison} {f.goal:g} {f.unit}",
                         (badge("verified" if f.met else "unverified", st), st),
                         r.machine.text(), r.date.isoformat(timespec="seconds"),
                         r.commit_text() + ("" if b.counted else "; not counted: see findings")])
    d.table(["requirement", "benchmark", "figure", "value", "goal", "result", "machine", "date", "commit"], rows)


def _soup(d: Doc, a: Analysis) -> None:
    d.h2("soup", "SOUP (runtime dependencies)")
    purposes = {s.name.lower().replace("_", "-"): s for s in a.project.soup}
    rows = []
    for dep in runtime_dependencies(a.project.root):
        try:
            ver = md.version(dep)
        except md.PackageNotFoundError:
            ver = "NOT INSTALLED"
        s = purposes.get(dep.lower().replace("_", "-"))
        rows.append([dep, ver, s.purpose if s else "MISSING (no entry in hazard_analysis/soup.yaml)",
                     s.safety_relevance if s else "", s.known_anomalies if s else ""])
    d.table(["name", "installed version", "purpose", "safety relevance", "known anomalies"], rows)


def _findings(d: Doc, a: Analysis) -> None:
    d.h2("findings", "Check findings")
    if not a.findings:
        d.para("none.")
        return
    rows = [[(badge("failed" if f.level == "error" else "unverified"), f.level), f"{f.file}:{f.line or ''}",
             f.item, f.field, f.message] for f in sorted(a.findings, key=lambda f: f.level)]
    d.table(["level", "where", "id", "field", "message"], rows[:2000])
    if len(rows) > 2000:
        d.para(f"... and {len(rows) - 2000} more (run ionto-trace check).")


# ---------------------------------------------------------------- entry point
def write_report(a: Analysis, out: Path) -> Path:
    with no_gc():
        return _write_report(a, out)


def _write_report(a: Analysis, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    root = a.project.root
    built = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    commit = _git(root)
    d = Doc()
    _summary(d, a)
    _matrices(d, a, out)
    _chain(d, a)
    _requirements(d, a)
    _gaps(d, a)
    _machine(d, a, out)
    _session(d, a, out)
    _benchmarks(d, a)
    _soup(d, a)
    _findings(d, a)
    title = "Audit report: iontophoresis control core"
    head = f"Built {built} from commit {commit}."
    nav = " ".join(f'<a href="#{x}">{esc(t)}</a>' for x, t in d.toc)
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1><p>{esc(head)}</p><nav>{nav}</nav>\n"
            + "\n".join(d.html) + "\n</body></html>\n")
    (out / "index.html").write_text(page, encoding="utf-8")
    mdtext = f"# {title}\n\n{head}\n\n" + "\n".join(f"- [{t}](#{x})" for x, t in d.toc) + "\n" + "\n".join(d.md)
    (out / "report.md").write_text(mdtext, encoding="utf-8")
    return out / "index.html"
