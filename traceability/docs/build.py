"""Builds the documents: one data model per document (the code computes),
laid out by two templates (HTML and Markdown) that only lay out."""
from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from traceability.data import CONTROLS, FMEA, HAZARDS, PLAN, REQUIREMENTS, SOUP
from traceability.docs import DOCUMENTS
from traceability.docs.gitinfo import Git, open_git
from traceability.docs.acceptance import c_criteria, py_criteria
from traceability.docs.records import (BIBLIOGRAPHY, CLAUSES, DESIGN_DIR, DEV_PLAN, MAINT_PLAN, PROBLEMS_DIR,
                                       RecordError, load_bibliography, load_clauses, load_design_notes,
                                       load_plan, load_problem_reports)
from traceability.docs.soupver import _norm, installed_version
from traceability.docs.units import REGULATOR_C, all_units
from traceability.outwrite import refuse_links, write_out

# the tick pipeline: every regulator test steps it, whatever requirement it is marked with
C_PIPELINE = {"reg_tick", "control"}
SIMLOAD_C = "cext/simload.c"
DEV_TOOLS = ("build", "Jinja2", "strictdoc")   # pytest, hypothesis, mutmut: SOUP items (tools)


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    pre: str = ""


@dataclass
class Document:
    id: str
    title: str
    clause: str
    sources: list[str]
    intro: str
    sections: list[Section] = field(default_factory=list)
    revisions: list = field(default_factory=list)
    history_note: str = ""
    history_truncated: str = ""   # a shallow clone's cut (PR-052)
    files: list[tuple[str, int]] = field(default_factory=list)   # written (name, bytes)


@dataclass
class DocsResult:
    out: Path
    commit: str
    git_problem: str
    documents: list[Document]
    errors: list[str]
    truncated: str = ""


def _plan_sections(plan) -> list[Section]:
    out = []
    for heading, body in plan.sections.items():
        s = Section(heading.replace("_", " ").capitalize())
        if isinstance(body, str):
            s.paragraphs = [body]
        elif body and isinstance(body[0], str):
            s.rows, s.head = [[b] for b in body], ["item"]
        else:
            s.head = ["activity", "how", "pass criteria"]
            s.rows = [[a.name, a.how, a.pass_criteria] for a in body]
        out.append(s)
    return out


def _trend_analysis(prs) -> Section:
    """Problem reports counted by month found, source and hazard (IEC 62304 9.6):
    a recurring cause shows as a count of two or more."""
    from collections import Counter
    by_month = Counter(str(r.found_on)[:7] for r in prs)
    by_source = Counter(r.found_by for r in prs)
    by_hazard = Counter(h for r in prs for h in r.hazards)
    s = Section("Trend analysis (9.6)", head=["grouped by", "value", "reports", "open"])
    for label, counts, key in (("month found", by_month, lambda r, v: str(r.found_on)[:7] == v),
                               ("found by", by_source, lambda r, v: r.found_by == v),
                               ("hazard", by_hazard, lambda r, v: v in r.hazards)):
        for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            s.rows.append([label, value, str(n), str(sum(r.status == "open" and key(r, value) for r in prs))])
    recurring = sorted(h for h, n in by_hazard.items() if n >= 2)
    s.paragraphs.append(f"Trend analysis of {len(prs)} problem report(s): hazards with two or more reports "
                        f"(recurring, reviewed under the maintenance plan): {', '.join(recurring) or 'none'}.")
    return s


def build_model(root: Path, analysis, git: Git) -> tuple[list[Document], list[str]]:
    p = analysis.project
    errors: list[str] = []
    docs: dict[str, Document] = {}
    meta = {d[0]: d for d in DOCUMENTS}

    def doc(did: str, sources: list[str], intro: str) -> Document:
        d = Document(did, meta[did][1], meta[did][2], sources, intro)
        docs[did] = d
        return d

    def safe(fn, *args):
        try:
            return fn(*args)
        except RecordError as exc:
            errors.append(str(exc))
            return None

    # ---- development plan (5.1)
    plan = safe(load_plan, root, DEV_PLAN)
    d = doc("development-plan", [DEV_PLAN, "pyproject.toml", SOUP, "scripts/dev.sh"],
            "How ionto-core is developed, verified and released; the activities, their pass criteria and tools.")
    if plan:
        d.sections += _plan_sections(plan)
    tools = Section("Tools with versions (read from this machine)", head=["tool", "version", "use"])
    for name in DEV_TOOLS:
        if name in {s.name for s in p.soup}:   # listed below with its SOUP entry
            continue
        try:
            v = md.version(name)
        except md.PackageNotFoundError:
            v = "NOT INSTALLED (install the dev and report extras)"
        tools.rows.append([name, v, "verification / documentation tool (never on the device)"])
    direct = _direct_extras(root)
    transitive = 0
    for s in p.soup:
        if s.kind == "python":
            continue
        if s.version_probe == "dist" and _norm(s.name) not in direct:
            transitive += 1    # a dependency of a tool, not a tool of the plan: in the SOUP list
            continue
        tools.rows.append([s.name, installed_version(s), s.purpose])
    if transitive:
        tools.paragraphs.append(f"The {transitive} packages these tools pull in (dev and report extras) are "
                                "SOUP items with their versions in the SOUP list (soup.html).")
    d.sections.append(tools)
    d.sections.append(Section("Verification thresholds (read from the scripts that enforce them)",
                              head=["threshold", "value", "set in", "gate"], rows=_thresholds(root)))
    d.sources = list(dict.fromkeys(d.sources + [f for _, f, _, _ in THRESHOLDS]))

    # ---- architecture (5.3)
    d = doc("architecture", ["docs/architecture.md", PLAN, CONTROLS, FMEA],
            "Software items, their interfaces, the segregation that risk control relies on, and the "
            "hardware duties of the device maker. The interface contracts are docs/architecture.md, "
            "reproduced below.")
    if p.plan is not None:
        d.sections.append(Section("Software items (risk management plan, each with its FMEA)",
                                  head=["software item", "FMEA failure modes"],
                                  rows=[[i, ", ".join(f for f, (it, _) in p.fmea.items() if it == i) or "-"]
                                        for i in p.plan.software_items]))
    # SRS-289: the argument is a reviewed record (docs/architecture.md), never prose typed here
    from traceability.docs.records import architecture_sections
    seg = (architecture_sections(root) or {}).get("Segregation for risk control")
    d.sections.append(Section("Segregation for risk control (docs/architecture.md)", paragraphs=[
        *([x.strip() for x in seg.split("\n\n") if x.strip()] if seg else
          ["(docs/architecture.md has no 'Segregation for risk control' section)"])]))
    hw = [[c.id, c.title, c.description] for c in p.controls.values()
          if "hardware" in (c.title + " " + c.description).lower()]
    d.sections.append(Section("Hardware interface the device maker must meet (risk controls)",
                              head=["control", "title", "duty"], rows=hw))
    arch = root / "docs/architecture.md"
    d.sections.append(Section("Interface contracts (docs/architecture.md)",
                              pre=arch.read_text(encoding="utf-8") if arch.exists() else "(not found)"))

    # ---- detailed design (5.4) and per-unit acceptance (5.5.4)
    units = all_units(root)
    notes = load_design_notes(root)
    tests_by_id: dict[str, list[str]] = {}
    for (f, q), t in analysis.scan.tests.items():
        for i in t.ids:
            tests_by_id.setdefault(i, []).append(f"{f}::{q}")
    d = doc("detailed-design", ["cext", "core", DESIGN_DIR],
            f"Every software unit: {sum(u.kind == 'C function' for u in units)} C functions of cext/ "
            f"and {sum(u.kind == 'Python module' for u in units)} Python modules of core/. Interface and comment "
            f"are read from the code; the design note is kept beside the code in {DESIGN_DIR}/, headed by the "
            "unit's file and name.")
    for u in units:
        note = notes[u.key].text if u.key in notes else "MISSING: no design note (ionto-trace check fails)"
        d.sections.append(Section(f"{u.name} ({u.kind}, {u.file}:{u.line})", paragraphs=[
            f"Code comment: {u.comment or '(none)'}", f"Design: {note}",
            f"Requirements named in the code: {', '.join(u.ids) or 'none (a helper of the units that name them)'}"],
            pre=u.interface))

    # ---- verification (5.5-5.7)
    vplan = plan.sections.get("verification_levels") if plan else None
    d = doc("verification", [DEV_PLAN, "tests", "out/test-results/results.json", "out/verification/results.json"],
            "Plans: the levels and pass criteria of the development plan. Reports: the results of the last "
            "test run read by the traceability check, bound to the commit stamped on this document.")
    acc = Section("Unit acceptance criteria (5.5.4) and the tests that apply them",
                  head=["unit", "acceptance criteria", "tests (marked with the unit's requirements)", "result"])
    outcome = {}
    for e in analysis.tests:
        outcome[e.nodeid.split("[")[0]] = outcome.get(e.nodeid.split("[")[0], set()) | {e.outcome}
    mutated = _mutation_targets(root)
    by_file: dict[str, list[str]] = {}
    for (f, q) in analysis.scan.tests:
        by_file.setdefault(f, []).append(f"{f}::{q}")
    c_tests = sorted(t for f, ts in by_file.items() if f.startswith("tests/regulator/") for t in ts)
    thresholds = {name: value for name, value, _, _ in _thresholds(root)}
    for u in units:
        ts = sorted({t for i in u.ids for t in tests_by_id.get(i, [])})
        how = "tests marked with the requirements the unit names"
        if u.file == "cext/hal_template.c" and not ts:
            ts, how = [], ("none: a template of a real board, compiled in the build but never run; the device "
                           "maker verifies its board (SRS-217)")
        elif u.file == SIMLOAD_C and not ts:
            ts, how = c_tests, ("every test of the regulator (tests/regulator/), all of which run it on "
                                "this simulated rig")
        elif u.kind == "C function" and u.file != REGULATOR_C and not ts:
            # the runner and the boards are exercised as a whole by the real-time tests
            ts = sorted(t for f, tl in by_file.items() if f.startswith("tests/realtime/") for t in tl)
            how = "every test of the real-time runner (tests/realtime/), which runs the loop on the board"
        elif u.kind == "C function" and (not ts or (u.file == REGULATOR_C and u.name in C_PIPELINE)):
            ts, how = c_tests, "every test of the regulator (tests/regulator/), all of which step the tick"
        elif not ts:
            ts = sorted(t for f, tl in by_file.items() if _imports(root / f, u.file) for t in tl)
            how = "no requirement named in the module: the tests that import it"
            if not ts:
                mirror = "tests/" + u.file.split("/")[-2] + "/"
                ts = sorted(t for f, tl in by_file.items() if f.startswith(mirror) for t in tl)
                how = f"no requirement named and no test imports it directly: the tests of {mirror}"
        res = {o for t in ts for o in outcome.get(t, set())}
        verdict = ("not run" if not res else "FAILED" if res & {"failed", "error"} else "passed")
        # SRS-290: criteria true for each unit, thresholds from the scripts
        crit = (c_criteria(root, u, REGULATOR_C) if u.kind == "C function"
                else py_criteria(root, u, mutated, thresholds["MUTATION_MIN_SCORE"]))
        acc.rows.append([u.name, crit, f"{len(ts)} ({how}): " + ", ".join(ts[:3]) + (" ..." if len(ts) > 3 else ""),
                         verdict])
    levels = Section("Test plan and report per level (5.5, 5.6, 5.7)",
                     head=["level", "tests", "results"])
    if isinstance(vplan, list):
        for a in vplan:
            if isinstance(a, str):
                continue
            dirs = tuple(re.findall(r"tests/\w+/", a.how))
            got = [e for e in analysis.tests if e.nodeid.startswith(dirs)]
            passed = sum(e.outcome == "passed" for e in got)
            levels.rows.append([a.name, a.how, f"{passed} passed of {len(got)} recorded" if got else "not run"])
    run = (analysis.results or {}).get("runs", [{}])[-1] if analysis.results else {}
    bound = ("no test run recorded" if not run else
             f"last run {run.get('run_id', '?')} finished {run.get('finished', '?')} "
             f"({'full suite' if run.get('full') else 'partial run'}) at commit {run.get('commit', 'not recorded')}; "
             + ("the same commit as these documents" if run.get("commit") == git.commit else
                "NOT the commit of these documents: the results are not evidence for this commit"))
    summary = Section("Verification summary", paragraphs=[f"Test results: {bound}.",
        f"Verdict of `ionto-trace check`: {analysis.verdict} ({len(analysis.errors)} error(s), "
        f"{len(analysis.warnings)} warning(s)); {len(analysis.tests)} test results read.",
        _status_line("Requirements", [analysis.status.get(r, "unverified") for r in p.reqs]),
        _status_line("State-machine properties", [analysis.status.get(x, "unverified") for x in p.props]),
        _status_line("Test results", [e.outcome for e in analysis.tests])]
        + [f"Not yet verified: {x}" for x in analysis.pending])
    d.sections += [summary, levels, acc]

    # ---- problem reports (9)
    prs, pr_errors = load_problem_reports(root)
    errors += pr_errors
    d = doc("problem-reports", [PROBLEMS_DIR], "Every problem report under version control, one file each "
            f"in {PROBLEMS_DIR}/ (IEC 62304 9.1-9.8). Open reports are the known residual anomalies "
            "of the release record.")
    d.sections.append(Section("Log", head=["id", "status", "title", "found by / on", "requirements, hazards",
                                           "risk evaluation", "verified by"],
                              rows=[[r.id, r.status, r.title, f"{r.found_by}, {r.found_on}",
                                     ", ".join(r.requirements + r.hazards),
                                     (f"{r.risk_evaluation.severity}/{r.risk_evaluation.probability}: "
                                      f"{r.risk_evaluation.rationale}") if r.risk_evaluation else "-",
                                     "; ".join(r.tests) or "-"] for r in prs]))
    d.sections.append(_retired_section(root, errors))
    d.sections.append(_trend_analysis(prs))
    for r in prs:
        d.sections.append(Section(f"{r.id}: {r.title}", paragraphs=[
            f"Source: {r.source}", f"Description: {r.description}", f"Investigation: {r.investigation}",
            f"Change: {r.change or '-'} (commits {', '.join(r.commits) or '-'})", f"Status: {r.status}"]))

    # ---- SOUP
    d = doc("soup", [SOUP, "requirements/runtime.lock", "pyproject.toml"],
            "Every package a runtime install pulls in, every package the dev and report extras pull in "
            "(written from their metadata by traceability/docs/soupgen.py; `ionto-trace check` fails on a "
            "package installed in the virtual environment without an entry) and every platform component "
            "and tool, with the "
            "pinned version, the version found on the machine that built this document, its requirements "
            "(5.3.3), what it needs (5.3.4) and its reviewed known anomalies (7.1.3).")
    soup_rows = []
    for s in p.soup:
        got = installed_version(s)
        soup_rows.append([s.name, s.kind + (" (on device)" if s.on_device else " (development)"), s.version,
                          got if got == s.version else f"{got} - DIFFERS", s.purpose, s.requirements, s.needs,
                          f"{s.anomalies.looked_at} Evaluation: {s.anomalies.evaluation} "
                          f"(anomaly search {s.anomalies.search.upper()}; reviewed {s.anomalies.reviewed})"])
    d.sections.append(Section("SOUP items", head=["name", "kind", "pinned", "found here", "purpose",
                                                   "requirements", "needs", "known anomalies"], rows=soup_rows))

    # ---- release record (5.8)
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    d = doc("release-record", ["pyproject.toml", PROBLEMS_DIR, SOUP, HAZARDS, FMEA],
            "What is released, with which known residual anomalies and which verification.")
    d.sections.append(Section("Release", head=["field", "value"], rows=[
        ["product", "ionto-core"], ["version", version], ["commit", git.commit],
        ["revision history", git.truncated or (f"unavailable: {git.problem}" if git.problem
                                               else "complete (full clone)")],
        ["verification verdict", analysis.verdict]]))
    open_prs = [r for r in prs if r.status == "open"]
    d.sections.append(Section("Known residual anomalies (open problem reports) with their evaluated risk",
                              head=["id", "title", "severity", "probability", "rationale"],
                              rows=[[r.id, r.title, r.risk_evaluation.severity if r.risk_evaluation else "?",
                                     r.risk_evaluation.probability if r.risk_evaluation else "?",
                                     r.risk_evaluation.rationale if r.risk_evaluation else "NOT EVALUATED"]
                                    for r in open_prs]))
    d.sections.append(summary)
    pending = [s for s in p.soup if s.anomalies.search == "pending"]
    d.sections.append(Section(
        f"Open items: SOUP whose anomaly search is pending ({len(pending)} of {len(p.soup)})",
        paragraphs=[f"OPEN ITEM, not a pass: for these {len(pending)} SOUP items only the metadata was reviewed; "
                    "their published anomaly lists (issue tracker, release notes, advisories) were not searched "
                    "for the pinned version (IEC 62304 7.1.3). Each stays open until its entry says "
                    "`search: done`." if pending else "None: the anomaly lists of every SOUP item were searched."],
        head=["name", "version", "on device", "metadata reviewed"],
        rows=[[s.name, s.version, "yes" if s.on_device else "no", str(s.anomalies.reviewed)] for s in pending]))
    d.sections.append(Section("SOUP with exact versions", head=["name", "pinned", "found here"],
                              rows=[[r[0], r[2], r[3]] for r in soup_rows]))

    # ---- maintenance plan (6)
    mplan = safe(load_plan, root, MAINT_PLAN)
    d = doc("maintenance-plan", [MAINT_PLAN, PROBLEMS_DIR, SOUP], "How feedback, problems and SOUP updates "
            "are handled after release.")
    if mplan:
        d.sections += _plan_sections(mplan)
        d.sections.append(Section("Review interval", paragraphs=[
            f"At most {mplan.review_interval_days} days between two reviews of a SOUP item's known anomalies "
            "and of a not-applicable clause's rationale (review_interval_days): `ionto-trace check` warns on an "
            "older SOUP review and fails on an older not-applicable rationale."]))

    # ---- clause map
    cm = safe(load_clauses, root)
    d = doc("clause-map", [CLAUSES], "Every class C activity of IEC 62304 clauses 4-9 and the document, "
            "record or check that satisfies it (`ionto-trace check` fails where one has none).")
    if cm:
        d.intro += f" Standard: {cm.standard}."
        d.sections.append(Section("Clauses", head=["clause", "activity", "satisfied by",
                                                   "plan sections (must exist, non-empty)"], rows=[
            [c.clause, c.activity, [_link(t) for t in c.satisfied_by] or _not_applicable_cell(c),
             ", ".join(c.requires) or "-"]
            for c in cm.clauses]))

    # ---- bibliography
    bib = safe(load_bibliography, root)
    d = doc("bibliography", [BIBLIOGRAPHY, "docs/domain.md", REQUIREMENTS, HAZARDS],
            "The domain facts the requirements and the risk file cite (docs/domain.md) and the source of "
            "each key cited in [brackets].")
    if bib:
        d.sections.append(Section("Sources", head=["key", "source", "facts taken from it"],
                                  rows=[[s.key, s.source, s.facts] for s in bib.sources]))
    dom = root / "docs/domain.md"
    d.sections.append(Section("Domain facts (docs/domain.md)",
                              pre=dom.read_text(encoding="utf-8") if dom.exists() else "(not found)"))

    for d in docs.values():
        d.revisions = git.history(d.sources)
        d.history_note = git.problem
        d.history_truncated = git.truncated
    return [docs[i] for i, _, _ in DOCUMENTS], errors


# (name, file, pattern whose group 1 is the default value, what it gates)
THRESHOLDS = (
    ("MUTATION_MIN_SCORE", "scripts/mutation.sh", r"MUTATION_MIN_SCORE:-(\d+(?:\.\d+)?)",
     "mutation score of the core (%)"),
    ("C_MUTATION_MIN_SCORE", "scripts/dev.sh", r"C_MUTATION_MIN_SCORE:-(\d+(?:\.\d+)?)",
     "C mutation score of the 1-in-8 sample (%)"),
    ("C_LINE_MIN", "scripts/cverify.sh", r"C_LINE_MIN:-(\d+(?:\.\d+)?)", "line coverage of regulator.c (%)"),
    ("C_BRANCH_MIN", "scripts/cverify.sh", r"C_BRANCH_MIN:-(\d+(?:\.\d+)?)",
     "branch coverage of regulator.c (%)"),
    ("PY_BRANCH_MIN", "scripts/py_coverage_gate.py", r"\"PY_BRANCH_MIN\", \"(\d+(?:\.\d+)?)\"",
     "branch coverage of core/ (%)"),
)


def _thresholds(root: Path) -> list[list[str]]:
    rows = []
    for name, rel, pattern, gate in THRESHOLDS:
        path = root / rel
        m = re.search(pattern, path.read_text(encoding="utf-8")) if path.exists() else None
        value = m.group(1) if m else f"NOT FOUND in {rel}"
        if value in ("0", "0.0"):
            value += " (does not bind yet)"
        rows.append([name, value, rel, gate])
    return rows


def _direct_extras(root: Path) -> set[str]:
    """Normalised names of the dev and report extras' own requirements (pyproject.toml)."""
    path = root / "pyproject.toml"
    extras = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get(
        "optional-dependencies", {}) if path.exists() else {}
    return {_norm(re.split(r"[\s;\[<>=!~(]", r, maxsplit=1)[0]) for reqs in extras.values() for r in reqs}


def _status_line(what: str, states: list[str]) -> str:
    counts: dict[str, int] = {}
    for x in states:
        counts[x] = counts.get(x, 0) + 1
    return f"{what}: {len(states)}" + (" (" + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ")"
                                       if states else "")


def _mutation_targets(root: Path) -> set[str]:
    """The files scripts/mutation.sh mutates (its TARGETS=(...) line)."""
    path = root / "scripts/mutation.sh"
    m = re.search(r"^TARGETS=\(([^)]*)\)", path.read_text(encoding="utf-8"), re.M) if path.exists() else None
    return set(m.group(1).split()) if m else set()


def _imports(test_file: Path, module_file: str) -> bool:
    """Does the test file name the module (dotted path, or `from package import name`)?"""
    # a package's __init__.py runs on the import of any of its modules
    dotted = module_file.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
    package, _, name = dotted.rpartition(".")
    try:
        text = test_file.read_text(encoding="utf-8")
    except OSError:
        return False
    return dotted in text or re.search(rf"from {re.escape(package)} import [^\n]*\b{name}\b", text) is not None


def _not_applicable_cell(c) -> str:
    """SRS-286: the rationale with the architecture heading it rests on and its review date."""
    return (f"not applicable: {c.not_applicable} (architecture: {c.architecture or 'none named'}; "
            f"reviewed {c.reviewed.isoformat() if c.reviewed else 'never'})")


def _link(target: str) -> dict:
    """A clause-map target as a cell item: a document of the set is a link (the
    site check then proves the page exists), a file is its path."""
    kind, _, name = target.partition(":")
    return {"text": name, "href": f"{name}.html" if kind == "doc" else ""}


def write_docs(root: Path, out: Path, analysis) -> DocsResult:
    git = open_git(root)
    docs, errors = build_model(root, analysis, git)
    env = Environment(loader=PackageLoader("traceability.docs", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
                      undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    refuse_links(out)      # SRS-295: before anything is written
    out.mkdir(parents=True, exist_ok=True)
    ctx = {"commit": git.commit, "git_problem": git.problem, "documents": docs,
           "uncommitted": git.uncommitted_note(), "truncated": git.truncated}
    for d in docs:
        for ext, tpl in (("html", "doc.html.j2"), ("md", "doc.md.j2")):
            text = env.get_template(tpl).render(doc=d, **ctx)
            name = f"{d.id}.{ext}"
            d.files.append((name, write_out(out, name, text)))
    write_out(out, "index.html", env.get_template("index.html.j2").render(**ctx))
    return DocsResult(out, git.commit, git.problem, docs, errors, git.truncated)


def _retired_section(root: Path, errors: list[str]) -> Section:
    """SRS-288: the ids never used, with the reason; every other id has a report."""
    from traceability.docs.records import RETIRED, RecordError, load_retired
    try:
        retired = load_retired(root).retired
    except RecordError as exc:
        errors.append(str(exc))
        retired = []
    return Section("Retired ids (never used)", paragraphs=[
        f"The numbering has no gap other than these ids ({RETIRED}); a problem report is never deleted, "
        "it is closed. `ionto-trace check` fails on any other missing id."],
        head=["id", "reason"], rows=[[r.id, r.reason] for r in retired])


def render_markdown(root: Path, analysis) -> dict[str, str]:
    """Each document of the set as Markdown, for the clause map's coverage rule
    (SRS-273): the text an auditor reads, without git history (not needed to
    find a key phrase, and slow)."""
    git = Git(root, "not read by the check", "not read by the check")
    docs, _ = build_model(root, analysis, git)
    env = Environment(loader=PackageLoader("traceability.docs", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    tpl = env.get_template("doc.md.j2")
    return {d.id: tpl.render(doc=d, commit=git.commit, git_problem=git.problem, documents=docs,
                             uncommitted="") for d in docs}
