"""The documentation rules `ionto-trace check` enforces (SRS-181..SRS-184, SRS-273, SRS-275):

- a problem report that is open without a risk evaluation, or closed without
  a test that verifies its fix (the test must exist), is an error; so is one
  naming an unknown requirement or hazard;
- every IEC 62304 class C activity of the clause map must point to a document
  of the set or a file that exists (or say why it does not apply); the plan
  sections it requires must exist and be non-empty (SRS-285); a clause the
  architecture relies on is never not applicable (SRS-286);
- every software unit (C function of cext/, Python module under core/) has a
  design note keyed by its file and name that is a design, not a placeholder
  (traceability/docs/noterules.py), and no note is left for a unit that is gone
  (SRS-184, SRS-293);
- every source key the requirements and the risk file cite is in the bibliography;
- every distribution installed in the virtual environment is a SOUP item at its
  reviewed version (SRS-221, scope in traceability/docs/soupgen.py), checked
  also without the records.
Without the records (a copy of only the data files, as the tests use) the
rules are skipped with a warning.
"""
from __future__ import annotations

import re
from pathlib import Path

from traceability.docs import DOC_IDS
from traceability.docs.records import (BIBLIOGRAPHY, CLAUSES, DESIGN_DIR, MAINT_PLAN, PLANS_DIR, PROBLEMS_DIR,
                                       RecordError, design_note_sections, load_bibliography, load_clauses,
                                       load_design_notes, load_plan, load_problem_reports)
from traceability.docs.soupgen import check_installed, check_probed
from traceability.docs.noterules import note_faults
from traceability.docs.units import c_scan, py_units
from traceability.data import SOUP
from traceability.yamlload import DataError, load_yaml

# The plans a clause-map activity can be satisfied by: document id -> file of docs/plans/.
PLAN_DOCS = {"development-plan": "development_plan.yaml", "maintenance-plan": "maintenance_plan.yaml"}

CITED = re.compile(r"\[([A-Z][A-Z0-9-]+(?:(?:, |,|/| )[A-Z][A-Z0-9-]+)*)\]")
CITING_FILES = ("spec/requirements.yaml", "spec/limits.yaml", "hazard_analysis/hazards.yaml",
                "hazard_analysis/risk_controls.yaml", "hazard_analysis/fmea.yaml")


def present(root: Path) -> bool:
    return (root / CLAUSES).exists() or (root / PROBLEMS_DIR).is_dir()


def check_docs(a) -> None:
    """Add findings to the analysis `a` (traceability.check.Analysis)."""
    p = a.project
    root = p.root
    check_installed(p, SOUP)
    check_probed(p, SOUP)
    if not present(root):
        p.warn(CLAUSES, "", "", "documentation records not found (clause map, problems/): the IEC 62304 "
               "rules are not checked")
        return
    _problem_reports(a)
    interval_days = review_interval_days(p)
    _soup_reviews(p, interval_days)
    from traceability.docs.build import render_markdown   # the documents import these rules' records
    _clause_map(p, render_markdown(root, a), interval_days)
    _design_notes(p)
    _bibliography(p)


def _problem_reports(a) -> None:
    p = a.project
    reports, errors = load_problem_reports(p.root)
    for e in errors:
        p.error(e.split(":")[0], "", "", e.split(": ", 1)[-1])
    _numbering(p, [pr.id for pr in reports])
    _fix_commits(p, reports)
    tests = {f"{f}::{q}" for (f, q) in a.scan.tests}
    for pr in reports:
        rel = f"{PROBLEMS_DIR}/{pr.id}.yaml"
        if pr.status == "open" and pr.risk_evaluation is None:
            p.error(rel, pr.id, "risk_evaluation", "open problem report without a risk evaluation "
                    "(severity, probability, rationale)")
        if pr.status == "closed" and not pr.tests:
            p.error(rel, pr.id, "tests", "closed problem report without the test that verifies its fix")
        for t in pr.tests:
            if t not in tests:
                p.error(rel, pr.id, "tests", f"{t} is not a test of the repository (file::test_name)")
            elif pr.status == "closed" and not a.static and a.results is not None:
                _closed_fix_verified(a, rel, pr.id, t)
        _hollow(a, rel, pr)
        for rid in pr.requirements:
            if rid not in p.reqs and rid not in p.where:
                p.error(rel, pr.id, "requirements", f"dangling: {rid} is not a known requirement")
        for h in pr.hazards:
            if h not in p.hazards and h not in p.situations and h not in p.where:
                p.error(rel, pr.id, "hazards", f"dangling: {h} is not a known hazard or situation")
        if pr.risk_evaluation is not None and p.plan is not None:
            r = pr.risk_evaluation
            if r.severity not in {s.id for s in p.plan.severity} or \
                    r.probability not in {x.id for x in p.plan.probability}:
                p.error(rel, pr.id, "risk_evaluation", f"({r.severity}, {r.probability}) is not on the "
                        "scales of the risk management plan")
            elif p.plan.region(r.severity, r.probability) == "unacceptable" and pr.status == "open":
                p.error(rel, pr.id, "risk_evaluation", "open problem report with an unacceptable risk")


def _hollow(a, rel: str, pr) -> None:
    """PR-050 (IEC 62304 9.1, 9.2, 9.7): a report names what its defect breaks
    (a requirement or a hazard); a closed report's fix is verified by a test
    whose req marker names one of its requirements (not any passing test)."""
    p = a.project
    if not pr.requirements and not pr.hazards:
        p.error(rel, pr.id, "requirements", "a problem report names neither a requirement nor a hazard: "
                "name the requirement or the hazard its defect affects [rule: problem-links]")
    if pr.status != "closed" or not pr.tests or not pr.requirements:
        return
    named = set(pr.requirements)
    verifying = []
    for t in pr.tests:
        file, _, qual = t.partition("::")
        scanned = a.scan.tests.get((file, qual))
        if scanned is not None and set(scanned.ids) & named:
            verifying.append(t)
    if not verifying:
        p.error(rel, pr.id, "tests", f"closed problem report: none of its tests has a req marker naming one of "
                f"its requirements ({', '.join(sorted(named))}): the fix is not shown verified against what "
                "it broke [rule: problem-links]")


def _fix_commits(p, reports) -> None:
    """PR-050: every commit a report names exists in the history (checked only at
    the top of a full git clone; an export or a shallow clone says why not)."""
    from traceability.docs.gitinfo import _run
    root = p.root
    named = [(pr, c) for pr in reports for c in pr.commits]
    if not named:
        return
    top = _run(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top.strip()).resolve() != root.resolve():
        return   # not a clone (an export, a test's copy): no history to look in
    if (_run(root, "rev-parse", "--is-shallow-repository") or "").strip() == "true":
        p.warn(PROBLEMS_DIR, "", "commits", "a shallow clone: the fix commits of the problem reports are not "
               "checked (clone the whole history) [rule: problem-links]")
        return
    for pr, c in named:
        if _run(root, "cat-file", "-e", f"{c}^{{commit}}") is None:
            p.error(f"{PROBLEMS_DIR}/{pr.id}.yaml", pr.id, "commits", f"{c} is not a commit of this "
                    "repository's history [rule: problem-links]")


def _numbering(p, ids: list[str]) -> None:
    """PR ids run PR-001.. without gaps, except ids in problems/retired.yaml (never
    used, with the reason): a missing id is a deleted report until explained (SRS-288)."""
    from traceability.docs.records import RETIRED, load_retired
    try:
        retired = {r.id for r in load_retired(p.root).retired}
    except RecordError as exc:
        p.error(RETIRED, "", "", f"{exc} [rule: problem-numbering]")
        return
    present = set(ids)
    for rid in sorted(present & retired):
        p.error(RETIRED, rid, "retired", f"{rid} is listed as retired (never used) but "
                f"{PROBLEMS_DIR}/{rid}.yaml exists [rule: problem-numbering]")
    last = max((int(i[3:]) for i in present | retired), default=0)
    for n in range(1, last + 1):
        rid = f"PR-{n:03d}"
        if rid not in present and rid not in retired:
            p.error(f"{PROBLEMS_DIR}/{rid}.yaml", rid, "id", f"numbering gap: {rid} has no file and is not in "
                    f"{RETIRED} (problem reports are never deleted: close it; an id never used is listed "
                    "there with the reason) [rule: problem-numbering]")


def _closed_fix_verified(a, rel: str, pr_id: str, test: str) -> None:
    """SRS-275: with test results read, a closed report's fix is verified only by
    its tests passing in a run of this build (a parametrised test: every case)."""
    got = [e.outcome for e in a.tests if not e.foreign and (e.nodeid == test or e.nodeid.startswith(test + "["))]
    if not got:
        a.project.error(rel, pr_id, "tests", f"closed problem report: its test {test} did not run in the "
                        "test results of this build: the fix is not verified (run it, or reopen the report "
                        "with a risk evaluation)")
    elif any(o != "passed" for o in got):
        bad = sorted({o for o in got if o != "passed"})
        a.project.error(rel, pr_id, "tests", f"closed problem report: its test {test} {'/'.join(bad)} in the "
                        "test results of this build: the fix is not verified (reopen the report with a risk "
                        "evaluation, or fix it)")


def review_interval_days(p) -> int | None:
    """The maintenance plan's review interval (review_interval_days), the one
    number SOUP reviews and not-applicable rationales are aged by; None, with
    an error naming the plan, when the plan does not load."""
    try:
        return load_plan(p.root, MAINT_PLAN).review_interval_days
    except RecordError as exc:
        p.error(MAINT_PLAN, "", "review_interval_days", "the review interval cannot be read, so no review "
                f"is aged: {str(exc).split(': ', 1)[-1]}")
        return None


def _soup_reviews(p, interval_days: int | None) -> None:
    from datetime import date
    from traceability.data import SOUP
    today = date.today()
    pending = [s.name for s in p.soup if s.anomalies.search == "pending"]
    if pending:   # SRS-276: an open item of the release record, never a pass
        p.warn(SOUP, "", "anomalies.search", f"{len(pending)} SOUP item(s) with the anomaly search pending "
               f"(open item of the release record): {', '.join(pending[:5])}{' ...' if len(pending) > 5 else ''}")
    for s in p.soup:
        age = (today - s.anomalies.reviewed).days
        if age < 0:
            p.error(SOUP, s.name, "anomalies.reviewed", f"review date {s.anomalies.reviewed} is in the future")
        elif interval_days is not None and age > interval_days:
            p.warn(SOUP, s.name, "anomalies.reviewed", f"known-anomaly review is {age} days old (the maintenance "
                   f"plan asks for one at least every {interval_days} days): review the item's tracker again")


def _span(prefix: str, last: int) -> set[str]:
    return {f"{prefix}.{i}" for i in range(1, last + 1)}


# The activities IEC 62304:2006+A1:2015 asks of class C software in clauses 4-9
# (7.3.2 was deleted by A1); the map must list each (SRS-222).
CLASS_C_ACTIVITIES = frozenset(
    {"4.1", "4.2", "4.3", "4.4", "6.1", "6.3.1", "6.3.2", "7.2.1", "7.2.2", "7.3.1", "7.3.3", "8.3"}
    | _span("5.1", 12) | _span("5.2", 6) | _span("5.3", 6) | _span("5.4", 4) | _span("5.5", 5)
    | _span("5.6", 8) | _span("5.7", 5) | _span("5.8", 8) | _span("6.2", 5) | _span("7.1", 4)
    | _span("7.4", 3) | _span("8.1", 3) | _span("8.2", 4) | _span("9", 8))


# The only class C activities that IEC 62304 makes conditional: clause -> (the
# condition, a word the not_applicable rationale must name). Every other
# activity of clauses 4-9 applies to class C software (SRS-273).
CONDITIONAL = {
    "4.4": ("applies only where legacy software is used (4.4)", "legacy"),
    "5.3.3": ("applies only where a software item is SOUP", "SOUP"),
    "5.3.4": ("applies only where a software item is SOUP", "SOUP"),
    "5.3.5": ("applies only where segregation is essential to risk control", "segregation"),
    "7.1.3": ("applies only where a SOUP failure can contribute to a hazardous situation", "SOUP"),
    "8.1.2": ("applies only where SOUP is used", "SOUP"),
}
MIN_RATIONALE = 20   # characters: a rationale, not a blank or a word

# Conditional clauses this architecture relies on: never not applicable, whatever
# the rationale says (SRS-286). clause -> what of the design relies on it.
SOUP_ON_DEVICE = ("the device runs on SOUP: CPython, SQLite, OpenSSL (hashlib.scrypt), glibc, pydantic, "
                  "python-statemachine, cffi (hazard_analysis/soup.yaml)")
RELIED_ON = {
    "5.3.3": SOUP_ON_DEVICE,
    "5.3.4": SOUP_ON_DEVICE,
    "5.3.5": "the C regulator enforces every patient limit on its own, segregated from the Python core, "
             "which cannot command it past them (design layering 1, risk controls in C)",
    "7.1.3": SOUP_ON_DEVICE,
    "8.1.2": SOUP_ON_DEVICE,
}
ARCHITECTURE = "docs/architecture.md"


def _clause_map(p, texts: dict[str, str] | None = None, interval_days: int | None = None) -> None:
    try:
        cm = load_clauses(p.root)
    except RecordError as exc:
        p.error(CLAUSES, "", "", str(exc).split(": ", 1)[-1])
        return
    seen = set()
    plans: dict[str, object] = {}
    for c in cm.clauses:
        if c.clause in seen:
            p.error(CLAUSES, c.clause, "clause", "clause listed twice")
        seen.add(c.clause)
        if c.not_applicable is not None:
            _not_applicable(p, c, interval_days)
            continue
        _plan_sections(p, c, plans)
        if not c.satisfied_by:
            p.error(CLAUSES, c.clause, "satisfied_by", f"class C activity '{c.activity}' has no document, "
                    "record or check that satisfies it")
        for t in c.satisfied_by:
            kind, _, target = t.partition(":")
            if kind == "doc" and target not in DOC_IDS:
                p.error(CLAUSES, c.clause, "satisfied_by", f"{t}: no such document in the set "
                        f"(documents: {', '.join(DOC_IDS)})")
            elif kind == "file" and not any(p.root.glob(target)):
                p.error(CLAUSES, c.clause, "satisfied_by", f"{t}: file not found")
        if texts is not None:
            _covers(p, c, texts)
    for clause in sorted(CLASS_C_ACTIVITIES - seen, key=lambda x: [int(n) for n in x.split(".")]):
        p.error(CLAUSES, clause, "clause", f"class C activity {clause} of IEC 62304 is not in the clause map: "
                "add it with what satisfies it (or why it does not apply)")


_ABSENT = object()


def _plan_data(root: Path, name: str, plans: dict[str, object]):
    """The `sections` mapping of docs/plans/NAME as read (no model: a deleted or
    emptied section must be named, not hidden behind a load error), or a message."""
    if name not in plans:
        rel = f"{PLANS_DIR}/{name}"
        try:
            data = load_yaml(root / rel, rel).data
            sections = data.get("sections") if isinstance(data, dict) else None
            plans[name] = sections if isinstance(sections, dict) else f"{rel} has no sections mapping"
        except (DataError, OSError) as exc:
            plans[name] = f"{rel} does not load ({str(exc).split(': ', 1)[-1] or type(exc).__name__})"
    return plans[name]


def _plan_sections(p, c, plans: dict[str, object]) -> None:
    """SRS-285: each required plan section exists and is non-empty; an activity
    satisfied by a plan names at least one section of it."""
    for plan_doc, plan_file in PLAN_DOCS.items():
        if any(t in (f"doc:{plan_doc}", f"file:{PLANS_DIR}/{plan_file}") for t in c.satisfied_by) and \
                not any(r.startswith(plan_file + ":") for r in c.requires):
            p.error(CLAUSES, c.clause, "requires", f"class C activity '{c.activity}' is satisfied by the "
                    f"{plan_doc} but names none of its sections: add {plan_file}:KEY, the section that "
                    "carries it")
    for r in c.requires:
        if r.startswith("architecture.md:"):
            _architecture_section(p, c, r)
            continue
        plan_file, _, path = r.partition(":")
        sections = _plan_data(p.root, plan_file, plans)
        if isinstance(sections, str):
            p.error(CLAUSES, c.clause, "requires", f"{r}: {sections}: class C activity '{c.activity}' has "
                    "no plan behind it")
            continue
        value = sections
        for key in path.split("."):
            value = value.get(key, _ABSENT) if isinstance(value, dict) else _ABSENT
        if value is _ABSENT:
            p.error(CLAUSES, c.clause, "requires", f"{r}: section '{path}' is missing from "
                    f"{PLANS_DIR}/{plan_file}: class C activity '{c.activity}' has no plan content")
        elif value is None or (isinstance(value, (str, list, dict)) and not (
                value.strip() if isinstance(value, str) else value)):
            p.error(CLAUSES, c.clause, "requires", f"{r}: section '{path}' of {PLANS_DIR}/{plan_file} is "
                    f"empty: class C activity '{c.activity}' has no plan content")


ARCH_MIN_WORDS = 40   # SRS-289: a required architecture section says something: at least this many words of body


def _architecture_section(p, c, r: str) -> None:
    """SRS-289: the docs/architecture.md heading a clause rests on exists with a
    body of at least ARCH_MIN_WORDS words (not "TBD")."""
    from traceability.docs.records import ARCHITECTURE, architecture_sections
    head = r.partition(":")[2]
    sections = architecture_sections(p.root)
    if sections is None:
        p.error(CLAUSES, c.clause, "requires", f"{r}: {ARCHITECTURE} not found: class C activity "
                f"'{c.activity}' has no architecture behind it [rule: architecture-section]")
    elif head not in sections:
        p.error(CLAUSES, c.clause, "requires", f"{r}: heading '{head}' is missing from {ARCHITECTURE}: class C "
                f"activity '{c.activity}' has no architecture behind it [rule: architecture-section]")
    elif len(re.findall(r"\w+", sections[head])) < ARCH_MIN_WORDS:
        words = len(re.findall(r"\w+", sections[head]))
        p.error(CLAUSES, c.clause, "requires", f"{r}: section '{head}' of {ARCHITECTURE} has {words} word(s), "
                f"at least {ARCH_MIN_WORDS} required: class C activity '{c.activity}' has no architecture "
                "behind it [rule: architecture-section]")


def _not_applicable(p, c, interval_days: int | None) -> None:
    cond = CONDITIONAL.get(c.clause)
    if cond is None:
        p.error(CLAUSES, c.clause, "not_applicable", f"class C activity '{c.activity}' cannot be not "
                "applicable: IEC 62304 makes only " + ", ".join(CONDITIONAL) + " conditional; give what "
                "satisfies it (satisfied_by, covers)")
    elif c.clause in RELIED_ON:
        p.error(CLAUSES, c.clause, "not_applicable", f"class C activity '{c.activity}' cannot be not "
                f"applicable, whatever the rationale says: the architecture relies on it ({RELIED_ON[c.clause]})")
    else:
        _not_applicable_rationale(p, c, cond, interval_days)
    if c.satisfied_by:
        p.error(CLAUSES, c.clause, "satisfied_by", "an activity that is not applicable has no targets")


def _not_applicable_rationale(p, c, cond: tuple[str, str], interval_days: int | None) -> None:
    """SRS-273, SRS-286: a rationale naming the condition, tied to a heading of the
    architecture document, reviewed on a date that is not in the future and not
    older than the maintenance plan's review interval (PR-052)."""
    from datetime import date
    if len(c.not_applicable.strip()) < MIN_RATIONALE or cond[1].lower() not in c.not_applicable.lower():
        p.error(CLAUSES, c.clause, "not_applicable", f"the rationale must name the condition ({cond[0]}): "
                f"at least {MIN_RATIONALE} characters naming '{cond[1]}', got {c.not_applicable!r}")
    path = p.root / ARCHITECTURE
    headings = re.findall(r"^#{2,3} +(.+?)\s*$", path.read_text(encoding="utf-8"), re.M) if path.exists() else []
    if not c.architecture or c.architecture.strip() not in headings:
        p.error(CLAUSES, c.clause, "architecture", f"a not-applicable activity names the heading of "
                f"{ARCHITECTURE} its rationale rests on: got {c.architecture!r}, not a heading there")
    if c.reviewed is None:
        p.error(CLAUSES, c.clause, "reviewed", "a not-applicable activity needs the date its rationale was "
                "reviewed (reviewed: YYYY-MM-DD)")
    elif c.reviewed > date.today():
        p.error(CLAUSES, c.clause, "reviewed", f"review date {c.reviewed} is in the future")
    elif interval_days is not None and (date.today() - c.reviewed).days > interval_days:
        p.error(CLAUSES, c.clause, "reviewed", f"review date {c.reviewed} is {(date.today() - c.reviewed).days} "
                f"days old, older than the review interval of the maintenance plan ({interval_days} days, "
                f"{MAINT_PLAN} review_interval_days): review the rationale again and set the date")


def target_text(root: Path, target: str, texts: dict[str, str]) -> str:
    """The text a clause-map target holds: a document of the set as rendered
    (Markdown), a file's text, or every text file under a directory or glob."""
    kind, _, name = target.partition(":")
    if kind == "doc":
        return texts.get(name, "")
    parts = []
    for path in sorted(root.glob(name)):
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        for f in files:
            try:
                parts.append(f.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, OSError):
                continue   # a binary file covers nothing
    return "\n".join(parts)


def _covers(p, c, texts: dict[str, str]) -> None:
    if not c.covers:
        p.error(CLAUSES, c.clause, "covers", f"no key phrase: list the phrase(s) of '{c.activity}' that "
                "the targets must contain")
        return
    if any(len(k.strip()) < 4 for k in c.covers):
        p.error(CLAUSES, c.clause, "covers", f"key phrases of at least 4 characters, got {c.covers}")
    held = {t: target_text(p.root, t, texts).lower() for t in c.satisfied_by}
    for k in c.covers:
        if not any(k.lower() in text for text in held.values()):
            p.error(CLAUSES, c.clause, "covers", f"'{k}' is in none of the targets "
                    f"({', '.join(c.satisfied_by)}): no target covers '{c.activity}'")
    for t, text in held.items():
        if text and not any(k.lower() in text for k in c.covers):
            p.error(CLAUSES, c.clause, "satisfied_by", f"{t} does not cover '{c.activity}': none of "
                    f"{c.covers} is in it")


def _design_notes(p) -> None:
    """SRS-184, SRS-293: a note per unit (keyed by file and name), no placeholder, no note without a unit."""
    units, unreadable = c_scan(p.root)
    units += py_units(p.root)
    for exc in unreadable:   # fail closed: a file whose functions cannot be read has unknown units
        p.error(exc.file, "", "", f"its C functions cannot be read, so its units are unknown: {exc.message} "
                "[rule: design-units]")
    notes = load_design_notes(p.root)
    seen: dict[str, str] = {}
    for key, note in design_note_sections(p.root):
        first = notes[key]
        if (first.file, first.line) != (note.file, note.line):
            p.error(note.file, key, "", f"second design note for the unit (the first is {first.file}:{first.line}): "
                    "one note per unit [rule: design-note]", note.line)
    for u in units:
        where = f"{u.kind}, {u.file}:{u.line}"
        if u.key not in notes:
            p.error(f"{DESIGN_DIR}/", u.key, "", f"software unit ({where}) has no design note: add a section "
                    f"'## `{u.key}`' with its design [rule: design-note]")
            continue
        note = notes[u.key]
        for fault in note_faults(u, note.text):
            p.error(note.file, u.key, "", f"design note of the software unit ({where}) is {fault} "
                    "[rule: design-note]", note.line)
        same = " ".join(note.text.split()).lower()
        if same in seen:
            p.error(note.file, u.key, "", f"design note of the software unit ({where}) is the note of "
                    f"{seen[same]} word for word: a note is written for its own unit [rule: design-note]", note.line)
        seen.setdefault(same, u.key)
    keys = {u.key for u in units}
    unread = {exc.file for exc in unreadable}
    for key, note in notes.items():
        if key not in keys and key.split(":")[0] not in unread:
            p.error(note.file, key, "", "design note for a unit that is not in the code (renamed or removed?); "
                    "a C function's note is headed `cext/file.c:function` [rule: design-note]", note.line)


def _bibliography(p) -> None:
    try:
        bib = load_bibliography(p.root)
    except RecordError as exc:
        p.error(BIBLIOGRAPHY, "", "", str(exc).split(": ", 1)[-1])
        return
    keys = {s.key for s in bib.sources}
    cited = set()
    for hz in p.hazards.values():
        cited.update(hz.sources)
    for rel in CITING_FILES:
        path = p.root / rel
        if path.exists():
            for m in CITED.finditer(path.read_text(encoding="utf-8")):
                cited.update(k for k in re.split(r"[,/ ]+", m.group(1)) if k)
    for key in sorted(cited - keys):
        if re.fullmatch(r"(SRS|RC|HAZ|HS|FM|UN|PROP)(-[A-Z]*-?\d+)?", key):
            continue
        p.error(BIBLIOGRAPHY, key, "sources", "source key cited by the requirements or the risk file "
                "is not in the bibliography")
