"""The traceability check: links, evidence and risk acceptability.

Errors (exit 1) -- the build must not pass:
  data files missing or invalid; duplicate or dangling ids; a requirement with
  no parent; a hazard (situation) with no control; a control with no
  requirement; an implemented safety requirement without passing evidence; a
  failing test or a violated property; a test marker or result naming an
  unknown id; an unacceptable residual risk (other than an open risk of the
  plan), or an ALARP one without a benefit-risk statement; a software item
  without FMEA; a runtime dependency without SOUP entry, and the SOUP rules
  of traceability/soup_rules.py (a required component or tool without entry,
  an on_device flag other than what the device process loads, start-up code
  of the environment without entry);
  unreviewed changes and suspect links; no test results;
  a benchmark record (out/bench/*.json) that is malformed, names an unknown
  id, sits in a file not named after its id, or whose `met` contradicts its
  value and goal; the documentation rules of traceability/docs/rules.py (a
  problem report open without a risk evaluation or closed without its
  verifying test, a class C clause with nothing behind it, a software unit
  without a design note, a cited source key missing from the bibliography).
  Risk file (issue 9; each message names file, line and [rule: ...]):
  effective-control    a credited control names a requirement that is planned,
                       failed or (after a test run) unverified
  reviewed             a risk estimate, control list, FMEA row, hardware-duty
                       text or the plan changed since its review (fingerprints)
  harm-severity        a harm text without "(Sn)" or with another severity
  independent-control  a probability lowered only by controls carried out by
                       the failing item or its common-cause group (plan)
  systematic-probability  a software failure rated below the plan's
                       systematic_occurrence
  control-type         a software control typed inherent safety without a
                       type_rationale; control-means: unknown implemented_by
  hardware-duty        a hardware control with no `verification: device maker`
                       requirement, or a test marker naming one
  ifu-cited            information for safety citing no existing section of
                       docs/instructions_for_use.md
  evidence-provenance  test results, verifier results or a benchmark record
                       from another commit or other sources (or with neither);
                       the sources include the built extension, examples/ and
                       scripts/ (provenance.py)
  Second audit (issue 9, G1-G9):
  caused-by            a hazardous situation naming no cause, so that the
                       independence and systematic rules apply to every one
  information-last     a probability or severity lowered when the only control
                       independent of the cause is information for safety
                       (ISO 14971 7.1); independent-control also counts a
                       control that relies_on the cause as dependent, and
                       covers a lowered severity too
  control-means        implemented_by user for a non-information control or one
                       resting on software functions (requirements verified by
                       test or analysis); hardware carrying out information
  fmea-severity        an FMEA severity that no situation of its hazards has
  benefit-risk         a benefit-risk statement without the benefit and its
                       [SOURCE], the residual risk by id, or the conclusion
                       ("outweighs"); an unknown source or id in it
  open-risk            an open risk of the plan (no control independent of its
                       cause: residual kept at the initial risk, unacceptable,
                       shown as a warning) that takes a credit, is not in the
                       unacceptable region, names no item, or is not named in
                       the report's overall residual-risk evaluation
  reviewed             also the instructions for use (IFU) and the risk
                       management report (RMR) as reviewed items
  Every message names its rule ([rule: NAME]); the messages written without one
  get the rule of the check that raised them (data.RULE_OF_FUNCTION).
Warnings (shown, exit 0) -- visible in the report, not blocking:
  an open risk of the plan (unacceptable, not accepted; rule open-risk holds
  it to its initial risk and to the report); an implemented non-safety
  requirement without evidence; a safety requirement verified by some of its
  tests while others skipped in this run (which, and why); a planned
  requirement whose tests already pass; stale results (test or marker gone
  since the run); tests without a marker; a user need or a control nobody
  uses; a safety requirement no control names; spec/properties.yaml or the
  verifier's results missing; surviving table mutants; a benchmark goal
  missed on the machine that ran it (naming figure, value and goal: a slow
  machine must never fail the build); a benchmark record for a requirement
  that is not a performance requirement verified by analysis.

Evidence: passing tests, proven properties, inspection records, and for a
performance requirement verified by analysis a benchmark record whose
figures all met their goals ("analysis: benchmark record", traceability/bench.py).
"""
from __future__ import annotations

import contextlib
import gc
import json
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from traceability import DEFAULT_RESULTS, DEFAULT_VERIFICATION
from traceability.bench import BENCH_DIR, BenchEvidence, load_bench
from traceability.docs.rules import check_docs
from traceability.docs.soupver import build_requirements, installed_version
from traceability.data import (CONTROLS, FMEA, HAZARDS, IFU, PLAN, PROPERTIES, REQUIREMENTS, RISK_REPORT, SOUP,
                               Project, load_project, soup_listed)
from traceability.findings import ERROR, WARNING, Finding
from traceability.lock import check_links, load_lock
from traceability.models import DEVICE_MAKER, Risk
from traceability.provenance import commit as _commit
from traceability.provenance import short
from traceability.provenance import source_sha256 as _source_sha256
from traceability.scan import Scan, ScannedTest, scan_tests, split_nodeid
from traceability.soup_rules import check_soup_rules

PASS = {"passed"}
FAIL = {"failed", "error", "xpassed"}
ID_PREFIXES = ("SRS-", "PROP-")
OTHER_BUILD = "evidence from another build"   # a requirement status, as the report shows it
HARM_SEVERITY = re.compile(r"\((S\d)\)")


@dataclass
class Evidence:
    nodeid: str
    file: str
    line: int
    outcome: str
    run_id: str = ""
    message: str = ""
    foreign: bool = False   # from a run of another commit or other sources: never counted


@dataclass
class Analysis:
    project: Project
    scan: Scan
    results_path: Path
    verification_path: Path
    results: dict | None = None
    verification: dict | None = None
    tests: list[Evidence] = field(default_factory=list)
    by_id: dict[str, list[Evidence]] = field(default_factory=lambda: defaultdict(list))
    prop_result: dict[str, str] = field(default_factory=dict)
    bench: dict[str, BenchEvidence] = field(default_factory=dict)  # SRS id -> benchmark record
    status: dict[str, str] = field(default_factory=dict)        # SRS/PROP id -> verified|failed|unverified|planned
    need_status: dict[str, str] = field(default_factory=dict)
    need_failing: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # UN -> [(SRS, what failed)]
    suspect: dict[str, list[str]] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    unmarked: list[Evidence] = field(default_factory=list)
    static: bool = False                 # test results were not read
    pending: list[str] = field(default_factory=list)  # evidence not yet produced (not a failure)
    build: dict[str, str] = field(default_factory=dict)  # commit and source hash of the tree checked
    foreign_by_id: dict[str, list[Evidence]] = field(default_factory=lambda: defaultdict(list))
    foreign_runs: dict[str, str] = field(default_factory=dict)  # run id -> why it is another build

    @property
    def verdict(self) -> str:
        """PASSED; FAILED on any error; NOT YET VERIFIED when no error was found but
        evidence that was simply not produced yet (no test run) is missing."""
        if self.errors:
            return "FAILED"
        return "NOT YET VERIFIED" if self.pending else "PASSED"

    @property
    def findings(self) -> list[Finding]:
        return self.project.findings

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read_json(p: Project, path: Path, what: str) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        p.error(_rel(p.root, path), "", "", f"unreadable {what}: {exc}")
        return None
    if not isinstance(data, dict):
        p.error(_rel(p.root, path), "", "", f"{what} must be a JSON object")
        return None
    return data


@contextlib.contextmanager
def no_gc():
    """Pause the cyclic garbage collector: loading builds ~10^6 small containers,
    and its repeated full passes made the run superlinear in the data size."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_check(root: Path, results: Path | None = None, verification: Path | None = None,
              static: bool = False) -> Analysis:
    with no_gc():
        return _run_check(root, results, verification, static)


def run_check_for_report(root: Path, results: Path | None = None,
                         verification: Path | None = None) -> Analysis:
    """The check behind a report: with no test results yet (e.g. right after the
    demo, before `scripts/dev.sh test`), the data, links and markers are checked
    (static) and the missing evidence is said plainly instead of counted as
    errors; an error found is still an error."""
    res = results or root / DEFAULT_RESULTS
    if res.exists():
        a = run_check(root, results, verification)
    else:
        a = run_check(root, results, verification, static=True)
        a.pending.append(f"no test results ({_rel(root, res)}): the tests have not run yet, so no "
                         "requirement counts as verified; run `bash scripts/dev.sh test` (or pytest)")
    ver = verification or root / DEFAULT_VERIFICATION
    if a.project.props and not ver.exists():
        a.pending.append(f"no verifier results ({_rel(root, ver)}): run `ionto-verify` "
                         "(part of `bash scripts/dev.sh test`)")
    return a


def _run_check(root: Path, results: Path | None, verification: Path | None, static: bool) -> Analysis:
    project = load_project(root)
    a = Analysis(project, scan_tests(root),
                 results or root / DEFAULT_RESULTS, verification or root / DEFAULT_VERIFICATION)
    a.static = static
    if not static:
        a.build = {"commit": _commit(root), "source_sha256": _source_sha256(root)}
    known = set(project.reqs) | set(project.props) | {i for i in project.where if i.startswith(ID_PREFIXES)}
    _check_markers(a, known)
    if not static:
        _load_results(a, known)
        _load_verification(a)
        a.bench = load_bench(project)
        for rid, ev in a.bench.items():
            why = _other_build(a, {"commit": ev.record.commit, "source_sha256": ev.record.source_sha256})
            if why and ev.counted:
                ev.counted = False
                project.error(ev.file, rid, "source_sha256", f"benchmark record is {OTHER_BUILD}: {why}; not "
                              "counted: re-run its bench/ script on this tree [rule: evidence-provenance]")
    _check_requirements(a, static)
    _check_risk(a)
    _check_controls(a, static)
    _check_soup(a)
    check_docs(a)
    a.suspect = check_links(project, load_lock(project))
    return a


# ---------------------------------------------------------------- tests and markers
def _check_markers(a: Analysis, known: set[str]) -> None:
    p = a.project
    for file, line, msg in a.scan.errors:
        p.error(file, "", "", msg, line)
    for mk in a.scan.markers:
        for rid in mk.ids:
            if rid not in known:
                p.error(mk.file, rid, "req marker", "test marker names an unknown id", mk.line)
            elif rid in p.reqs and p.reqs[rid].verification == DEVICE_MAKER:
                p.error(mk.file, rid, "req marker", f"{rid} is a hardware duty (verification: {DEVICE_MAKER}): "
                        "the device maker verifies it, a test of this project cannot; mark the test with the "
                        "requirement on the simulator instead [rule: hardware-duty]", mk.line)
        if mk.dynamic:
            p.warn(mk.file, "", "req marker", "marker arguments are not string literals: "
                   "not checkable before the tests run", mk.line)


def _load_results(a: Analysis, known: set[str]) -> None:
    p = a.project
    label = _rel(p.root, a.results_path)
    if not a.results_path.exists():
        p.error(label, "", "", "no test results: run pytest first (the traceability plugin writes them)")
        return
    if a.results_path.suffix.lower() == ".xml":
        from traceability.junit import JUnitError, read_junit
        try:
            a.results = read_junit(a.results_path)
        except (OSError, JUnitError) as exc:
            p.error(label, "", "", f"unreadable JUnit XML test results: {exc}")
            return
    else:
        a.results = _read_json(p, a.results_path, "test results")
    if a.results is None:
        return
    runs = _check_runs(a)
    unknown_run = 0
    stale_files: dict[str, int] = defaultdict(int)
    for t in a.results.get("tests", []):
        try:
            ev = Evidence(t["nodeid"], t["file"], int(t["line"]), t["outcome"],
                          t.get("run_id", ""), t.get("message", ""))
            ids = list(t["ids"])
        except (KeyError, TypeError, ValueError) as exc:
            p.error(label, "", "tests", f"malformed test entry {t!r:.120}: {exc}")
            continue
        ev.foreign = ev.run_id not in runs or bool(runs[ev.run_id])
        file, qual = split_nodeid(ev.nodeid)
        if file not in a.scan.files:
            stale_files[file] += 1
            continue
        src = a.scan.tests.get((file, qual))
        if src is None and a.scan.dynamic(file, qual):
            src = ScannedTest(file, qual, ev.line, set(ids), dynamic=True)  # trust the recorded ids
        if src is None:
            a.stale.append(ev.nodeid)
            p.warn(ev.file, ev.nodeid, "", "result is stale: this test no longer exists in the "
                   "source; re-run pytest", ev.line)
            continue
        if not src.dynamic:
            gone = sorted(set(ids) - src.ids)
            new = sorted(src.ids - set(ids))
            if gone or new:
                a.stale.append(ev.nodeid)
                what = (f"marker no longer names {', '.join(gone)}" if gone else "") + \
                       ("; " if gone and new else "") + \
                       (f"marker now names {', '.join(new)}" if new else "")
                p.warn(ev.file, ev.nodeid, "req marker",
                       f"result is stale ({what}); not counted as evidence; re-run pytest", ev.line)
                ids = [i for i in ids if i in src.ids]
        for bad in t.get("marker_errors", []):
            p.error(ev.file, ev.nodeid, "req marker", f"marker argument {bad} is not an id string", ev.line)
        a.tests.append(ev)
        unknown_run += ev.run_id not in runs
        if not ids:
            a.unmarked.append(ev)
        for rid in ids:
            if rid not in known:
                if src.dynamic:  # a literal one was already reported by the scan
                    p.error(ev.file, rid, "req marker", f"test {ev.nodeid} names an unknown id", ev.line)
                continue
            (a.foreign_by_id if ev.foreign else a.by_id)[rid].append(ev)
        if ev.outcome in FAIL and not ev.foreign:
            p.error(ev.file, ev.nodeid, "outcome",
                    f"test {ev.outcome} (verifies {', '.join(ids) or 'no id'}): {ev.message[:200]}", ev.line)
    _report_foreign(a, label, runs)
    if unknown_run:
        p.error(label, "", "tests", f"{unknown_run} test result(s) name a run that the file does not record "
                "(no commit, no source hash): evidence from another build, not counted; re-run pytest "
                "[rule: evidence-provenance]")
    for file, n in sorted(stale_files.items()):
        a.stale.append(file)
        p.warn(file, "", "", f"{n} recorded result(s) from a test file that no longer exists; "
               "not counted; re-run pytest")
    if a.unmarked:
        sample = ", ".join(e.nodeid for e in a.unmarked[:3])
        p.warn(label, "", "req marker", f"{len(a.unmarked)} test(s) carry no req marker (e.g. {sample})")


def _other_build(a: Analysis, record: dict) -> str:
    """Why a record (a test run, the verifier's results, a benchmark) is from another
    build than the tree being checked; "" when its commit and source hash match."""
    got_commit = str(record.get("commit") or "").removesuffix("-dirty")
    got_src = str(record.get("source_sha256") or "")
    if not got_commit or not got_src:
        return "it records no commit or no source hash (written by an older tool)"
    want_commit, want_src = a.build.get("commit", ""), a.build.get("source_sha256", "")
    if got_src != want_src:
        return (f"it tested sources {short(got_src)} at commit {short(got_commit)}, this tree's sources are "
                f"{short(want_src)} at commit {short(want_commit)} (uncommitted changes count)")
    if got_commit != want_commit:
        return f"it ran at commit {short(got_commit)}, this tree is commit {short(want_commit)}"
    return ""


def _check_runs(a: Analysis) -> dict[str, str]:
    """run id -> "" (this build) or why it is another build."""
    runs: dict[str, str] = {}
    for run in a.results.get("runs", []) if a.results else []:
        if isinstance(run, dict):
            runs[str(run.get("run_id", ""))] = _other_build(a, run)
    return runs


def _report_foreign(a: Analysis, label: str, runs: dict[str, str]) -> None:
    """One error per run of another build that still holds counted results (stale ones are not)."""
    counts: dict[str, int] = defaultdict(int)
    for ev in a.tests:
        if ev.foreign and ev.run_id in runs:
            counts[ev.run_id] += 1
    for rid, n in counts.items():
        a.foreign_runs[rid] = runs[rid]
        a.project.error(label, rid, "runs", f"{OTHER_BUILD}: {runs[rid]}; its {n} result(s) are not "
                        "counted: re-run pytest on this tree [rule: evidence-provenance]")


def _load_verification(a: Analysis) -> None:
    p = a.project
    label = _rel(p.root, a.verification_path)
    if not a.verification_path.exists():
        if p.props:
            p.warn(label, "", "", "no verification results: run ionto-verify; "
                   "properties give no evidence until then")
        return
    a.verification = _read_json(p, a.verification_path, "verification results")
    if a.verification is None:
        return
    why = _other_build(a, a.verification)
    if why:
        p.error(label, "", "source_sha256", f"{OTHER_BUILD}: {why}; no property counts as proven: "
                "re-run ionto-verify on this tree [rule: evidence-provenance]")
        a.verification = {**a.verification, "properties": [], "other_build": why}
        return
    for r in a.verification.get("properties", []):
        pid, result = r.get("id"), r.get("result")
        if pid not in p.props:
            p.warn(label, str(pid), "id", "verification result for an unknown property")
            continue
        a.prop_result[pid] = result
        if result != "proven":
            cex = r.get("counterexample") or []
            file, line = p.loc(pid)
            p.error(file, pid, "result", f"property {result!r} by {r.get('method', '?')}"
                    + (f"; counterexample: {' -> '.join(map(str, cex))[:300]}" if cex else ""), line)
    mut = a.verification.get("table_mutation") or {}
    if mut.get("survivors"):
        p.warn(label, "", "table_mutation", f"{len(mut['survivors'])} table mutant(s) survived: "
               f"{', '.join(map(str, mut['survivors'][:5]))}")


# ---------------------------------------------------------------- requirements
def _check_requirements(a: Analysis, static: bool) -> None:
    p = a.project
    verifies: dict[str, list[str]] = defaultdict(list)
    for x in p.props.values():
        for rid in x.verifies:
            verifies[rid].append(x.id)
            if rid not in p.reqs and rid not in p.where:
                file, line = p.loc(x.id)
                p.error(file, x.id, "verifies", f"dangling: {rid} is not a known requirement", line)
    # properties: proven by the verifier, or failing/passing tests marked with them
    for pid in p.props:
        tests = a.by_id.get(pid, [])
        res = a.prop_result.get(pid)
        if res == "violated" or any(e.outcome in FAIL for e in tests):
            a.status[pid] = "failed"
        elif res == "proven" or any(e.outcome in PASS for e in tests):
            a.status[pid] = "verified"
        else:
            a.status[pid] = "unverified"
    children: dict[str, list[str]] = defaultdict(list)
    for r in p.reqs.values():
        file, line = p.loc(r.id)
        if r.parent is None:
            p.error(file, r.id, "parent", "requirement has no parent user need", line)
        elif r.parent not in p.needs:
            p.error(file, r.id, "parent", f"dangling: {r.parent} is not a known user need", line)
        else:
            children[r.parent].append(r.id)
        tests = a.by_id.get(r.id, [])
        failed = any(e.outcome in FAIL for e in tests) or any(a.status.get(x) == "failed" for x in verifies[r.id])
        passed = any(e.outcome in PASS for e in tests) or any(a.prop_result.get(x) == "proven" for x in verifies[r.id])
        if r.verification == "inspection" and r.evidence:
            missing = [e for e in r.evidence if not (p.root / e).exists()]
            if missing:
                p.error(file, r.id, "evidence", f"inspection record(s) not found: {', '.join(missing)}", line)
            else:
                passed = True
        bench = a.bench.get(r.id)
        if bench is not None and bench.counted:
            passed = passed or bench.met
            for name, f in bench.missed:
                p.warn(bench.file, r.id, f"figures.{name}",
                       f"benchmark goal missed on this machine: {name} = {f.text()}; "
                       f"{bench.summary()}; not counted as evidence", None)
        st = "failed" if failed else "verified" if passed else "unverified"
        skipped = [e for e in tests if e.outcome == "skipped"]
        if skipped and passed and not failed and r.kind == "safety" and not static:
            # verified by the others, but the audit report says which evidence this run lacks
            p.warn(file, r.id, "verification",
                   f"{len(skipped)} of its {len(tests)} tests skipped in this run, its verification here "
                   f"rests on the others: {skipped[0].nodeid} ({skipped[0].message[:160]})", line)
        if r.verification == DEVICE_MAKER:
            # a duty on the hardware interface: the device maker's verification, not ours
            a.status[r.id] = DEVICE_MAKER
            continue
        if st == "unverified" and any(e.outcome in PASS for e in a.foreign_by_id.get(r.id, [])):
            st = OTHER_BUILD   # the run is reported once as an error (_check_runs)
        if r.status == "planned":
            if passed and not failed:
                p.warn(file, r.id, "status", "status is planned but its tests pass: set it to implemented", line)
            st = "planned"
        elif st == "unverified" and not static:
            if r.kind == "safety":
                p.error(file, r.id, "verification",
                        f"implemented safety requirement has no passing {r.verification} evidence "
                        "(no passing test marked with it, no proven property)", line)
            elif not (bench is not None and bench.counted):  # a missed goal was reported above
                hint = (f" (no passing test, no benchmark record in {BENCH_DIR}/: run its bench/ script)"
                        if r.kind == "performance" and r.verification == "analysis" else "")
                p.warn(file, r.id, "verification",
                       f"implemented {r.kind} requirement has no passing evidence{hint}", line)
        a.status[r.id] = st
    for n in p.needs.values():
        kids = children.get(n.id, [])
        file, line = p.loc(n.id)
        if not kids:
            p.warn(file, n.id, "", "user need has no requirement refining it", line)
        states = [a.status[k] for k in kids if a.status[k] != DEVICE_MAKER]
        a.need_failing[n.id] = [(k, a.status[k]) for k in kids if a.status[k] == "failed"]
        if "failed" in states:
            a.need_status[n.id] = "failed"
        elif states and all(s == "verified" for s in states):
            a.need_status[n.id] = "verified"
        elif any(s == "verified" for s in states):
            a.need_status[n.id] = "partially verified"
        else:
            a.need_status[n.id] = "unverified"


# ---------------------------------------------------------------- risk file
def _risk_findings(a: Analysis, file: str, item: str, fld: str, initial, residual,
                   benefit: str | None, line: int | None) -> None:
    p, plan = a.project, a.project.plan
    if plan is None:
        return
    sev = [s.id for s in plan.severity]
    prob = [x.id for x in plan.probability]
    for name, risk in (("initial", initial), ("residual_risk", residual)):
        if risk is None:
            continue
        if risk.severity not in sev or risk.probability not in prob:
            p.error(file, item, name, f"({risk.severity}, {risk.probability}) is not on the scales "
                    f"of {PLAN} (severity {sev}, probability {prob})", line)
            return
    region = plan.region(residual.severity, residual.probability)
    if region == "unacceptable":
        # an open risk of the plan (no independent control exists; kept at its initial risk) is shown, not
        # accepted: _open_risk holds it to that; every other unacceptable residual risk fails
        (p.warn if item in plan.open_risk else p.error)(
            file, item, fld, f"residual risk ({residual.severity}, {residual.probability}) is unacceptable per "
            "the risk matrix" + (f" (open risk of {PLAN}: no control independent of the cause exists, so none is "
                                 "credited; a risk-control action, not an accepted risk; the overall residual "
                                 f"risk is not acceptable while it is open) [rule: risk-acceptability]"
                                 if item in plan.open_risk else ""), line)
    elif region == "alarp" and not benefit:
        p.error(file, item, "benefit_risk", f"residual risk ({residual.severity}, {residual.probability}) "
                "is in the ALARP region: a benefit-risk statement is required [rule: benefit-risk]", line)
    if benefit:
        _benefit_risk(a, file, item, "benefit_risk", benefit, line)
    if initial is not None and (sev.index(residual.severity) > sev.index(initial.severity)
                                or prob.index(residual.probability) > prob.index(initial.probability)):
        p.error(file, item, fld, "residual risk is higher than the initial risk", line)


BR_SOURCE = re.compile(r"\[([A-Z][A-Za-z0-9/-]*(?:[,;]\s*[A-Z][A-Za-z0-9/-]*)*)\]")
BR_IDS = re.compile(r"\b(?:HS-\d{2,}(?:\.\d+)?|FM-[A-Z]+-\d{2,}|HAZ-\d{2,}|RC-\d{2,}|SRS-\d{3,})\b")
BR_RESIDUAL = re.compile(r"\b(?:HS-\d{2,}(?:\.\d+)?|FM-[A-Z]+-\d{2,})\b")
BR_CONCLUSION = re.compile(r"\boutweighs?\b", re.I)


def _bibliography_keys(p: Project) -> set[str] | None:
    """Source keys of docs/bibliography.yaml; None when it cannot be read (reported by the docs rules)."""
    from traceability.docs.records import RecordError, load_bibliography
    try:
        return {s.key for s in load_bibliography(p.root).sources}
    except (RecordError, OSError):
        return None


def _benefit_risk(a: Analysis, file: str, item: str, fld: str, text: str, line: int | None) -> None:
    """The structure an auditor expects of a benefit-risk statement (ISO 14971 7.4, G8): the
    medical benefit with its source ([KEY] of the bibliography), the residual risk(s) it weighs
    named by id (HS-/FM-; every id named must exist), and the conclusion ("... outweighs ...")."""
    p = a.project
    missing = []
    keys = [k for m in BR_SOURCE.finditer(text) for k in re.split(r"[,;]\s*", m.group(1))]
    keys = [k for k in keys if not BR_IDS.fullmatch(k)]
    if not keys:
        missing.append("the benefit with its source ([KEY] of docs/bibliography.yaml, e.g. [MED, H94])")
    if not BR_RESIDUAL.search(text):
        missing.append("the residual risk(s) it weighs, by id (HS-.. or FM-..)")
    if not BR_CONCLUSION.search(text):
        missing.append('the conclusion ("the benefit ... outweighs ...")')
    if missing:
        p.error(file, item, fld, f"benefit-risk statement lacks {'; '.join(missing)} [rule: benefit-risk]", line)
    bib = _bibliography_keys(p) if keys else None
    for k in keys:
        if bib is not None and k not in bib:
            p.error(file, item, fld, f"benefit-risk statement cites [{k}], which docs/bibliography.yaml does not "
                    "hold [rule: benefit-risk]", line)
    known = set(p.where) | set(p.situations) | set(p.fmea) | set(p.controls) | set(p.reqs) | set(p.hazards)
    for rid in dict.fromkeys(BR_IDS.findall(text)):
        if rid not in known:
            p.error(file, item, fld, f"benefit-risk statement names {rid}, which does not exist "
                    "[rule: benefit-risk]", line)


def _check_risk(a: Analysis) -> None:
    p = a.project
    used_controls: set[str] = set()
    for hz in p.hazards.values():
        file, line = p.loc(hz.id)
        if not hz.situations:
            p.error(file, hz.id, "situations", "hazard has no hazardous situation, hence no control", line)
        for s in hz.situations:
            sfile, sline = p.loc(s.id)
            if not s.controls:
                p.error(sfile, hz.id, f"situations.{s.id}.controls", "hazard has no control", sline)
            for c in s.controls:
                used_controls.add(c)
                if c not in p.controls and c not in p.where:
                    p.error(sfile, s.id, "controls", f"dangling: {c} is not a known risk control", sline)
            _risk_findings(a, sfile, s.id, "residual_risk", s.initial_risk, s.residual_risk, s.benefit_risk, sline)
            _harm_severity(a, sfile, s, sline)
            if p.plan is not None:
                means = set(p.plan.software_items) | set(p.plan.control_means)
                if not s.caused_by:
                    # G1: without a cause neither the independence nor the systematic rule could apply
                    p.error(sfile, s.id, "caused_by", "no cause named: say which software item or control "
                            f"means ({', '.join(sorted(means))}) starts the sequence, so that the controls can "
                            "be judged independent of it [rule: caused-by]", sline)
                for cause in s.caused_by:
                    if cause not in means:
                        p.error(sfile, s.id, "caused_by", f"{cause!r} is neither a software item nor a control "
                                f"means of {PLAN} (allowed: {', '.join(sorted(means))}) [rule: control-means]", sline)
            _independent(a, sfile, s.id, s.caused_by, s.controls, s.initial_risk, s.residual_risk, sline)
            _systematic(a, sfile, s.id, "initial_risk.probability", s.caused_by, s.initial_risk.probability, sline)
    controlled: set[str] = set()
    for c in p.controls.values():
        file, line = p.loc(c.id)
        if not c.requirements:
            p.error(file, c.id, "requirements", "risk control names no requirement", line)
        for rid in c.requirements:
            controlled.add(rid)
            if rid not in p.reqs and rid not in p.where:
                p.error(file, c.id, "requirements", f"dangling: {rid} is not a known requirement", line)
    for fid, (item, fm) in p.fmea.items():
        file, line = p.loc(fid)
        for hz in fm.hazards:
            if hz not in p.hazards and hz not in p.where:
                p.error(file, fid, "hazards", f"dangling: {hz} is not a known hazard", line)
        for c in fm.controls:
            used_controls.add(c)
            if c not in p.controls and c not in p.where:
                p.error(file, fid, "controls", f"dangling: {c} is not a known risk control", line)
        _risk_findings(a, file, fid, "residual_risk", Risk(severity=fm.severity, probability=fm.occurrence),
                       fm.residual_risk, fm.benefit_risk, line)
        _independent(a, file, fid, [item], fm.controls, Risk(severity=fm.severity, probability=fm.occurrence),
                     fm.residual_risk, line)
        _fmea_severity(a, file, fid, fm, line)
        _systematic(a, file, fid, "occurrence", [item], fm.occurrence, line)
    for cid in p.controls:
        if cid not in used_controls:
            file, line = p.loc(cid)
            p.warn(file, cid, "", "risk control is not used by any hazardous situation or failure mode", line)
    for r in p.reqs.values():
        if r.kind == "safety" and r.id not in controlled:
            file, line = p.loc(r.id)
            p.warn(file, r.id, "kind", "safety requirement is not named by any risk control", line)
    _open_risk(a)
    if p.plan is not None and (p.root / FMEA).exists():
        for item in p.plan.software_items:
            if item not in p.fmea_items:
                p.error(FMEA, item, "items", f"software item '{item}' of {PLAN} has no FMEA entry")


def _open_risk(a: Analysis) -> None:
    """The plan's open risks stay what they claim: each names an existing situation or FMEA
    row that takes no credit (residual risk = initial risk), lies in the unacceptable region
    (an item re-rated or given an independent control leaves the list) and is named by id in
    the overall residual-risk evaluation of the risk management report (clause 8)."""
    p = a.project
    if p.plan is None:
        return
    overall = p.risk_report.overall_residual_risk if p.risk_report is not None else None
    for oid in p.plan.open_risk:
        if oid in p.situations:
            s = p.situations[oid][1]
            initial, residual = s.initial_risk, s.residual_risk
        elif oid in p.fmea:
            fm = p.fmea[oid][1]
            initial, residual = Risk(severity=fm.severity, probability=fm.occurrence), fm.residual_risk
        else:
            p.error(PLAN, oid, "open_risk", f"{oid} is no hazardous situation or FMEA row [rule: open-risk]", 1)
            continue
        file, line = p.loc(oid)
        if (residual.severity, residual.probability) != (initial.severity, initial.probability):
            p.error(file, oid, "residual_risk", f"{oid} is an open risk of {PLAN}, yet its residual risk "
                    f"({residual.severity}, {residual.probability}) is lowered from its initial risk "
                    f"({initial.severity}, {initial.probability}): an open risk takes no credit; credit a control "
                    "independent of the cause and take it out of open_risk, or keep the initial risk "
                    "[rule: open-risk]", line)
        elif p.plan.region(residual.severity, residual.probability) != "unacceptable":
            p.error(PLAN, oid, "open_risk", f"{oid} ({residual.severity}, {residual.probability}) is not in the "
                    "unacceptable region: take it out of open_risk (an ALARP risk needs a benefit-risk "
                    "statement) [rule: open-risk]", 1)
        if overall is not None and not re.search(rf"\b{re.escape(oid)}\b", overall):
            p.error(RISK_REPORT, oid, "overall_residual_risk", f"{oid} is an open risk of {PLAN} (unacceptable, "
                    "not accepted) but the overall residual-risk evaluation does not name it [rule: open-risk]")


def _harm_severity(a: Analysis, file: str, s, line: int | None) -> None:
    """The harm text states its severity, e.g. "(S3)"; it must be the initial risk's."""
    said = HARM_SEVERITY.findall(s.harm)
    if not said:
        a.project.error(file, s.id, "harm", f"the harm text does not state its severity: end it with "
                        f"\"({s.initial_risk.severity})\" [rule: harm-severity]", line)
    elif any(x != s.initial_risk.severity for x in said):
        a.project.error(file, s.id, "harm", f"the harm text says {', '.join(said)} but initial_risk.severity is "
                        f"{s.initial_risk.severity}: make them agree (a severity is lowered only by a control "
                        "that limits the harm, in residual_risk) [rule: harm-severity]", line)


def _dependent(plan, items: list[str]) -> set[str]:
    """The items themselves and every item of a common-cause group that holds one of them."""
    out = set(items)
    for group in plan.common_cause_groups:
        if out & set(group):
            out |= set(group)
    return out


def _independent(a: Analysis, file: str, item: str, causes: list[str], controls: list[str],
                 before: Risk, after: Risk, line: int | None) -> None:
    """A probability or a severity lowered by the controls needs one control carried out by
    something that does not fail with the cause (plan: only independent controls are
    credited), and that control must not be information for safety alone (ISO 14971 7.1
    ranks it last: the user may not read or follow it)."""
    p, plan = a.project, a.project.plan
    if plan is None or not causes:
        return
    lowered = [(what, b, c) for what, b, c in (("probability", before.probability, after.probability),
                                                ("severity", before.severity, after.severity)) if b != c]
    if not lowered:
        return
    dependent = _dependent(plan, causes)
    known = [c for c in controls if c in p.controls]
    independent = [c for c in known if p.controls[c].implemented_by not in dependent
                   and not _dependent(plan, p.controls[c].relies_on) & dependent]

    for what, b, c in lowered:
        if known and not independent:
            p.error(file, item, f"residual_risk.{what}",
                    f"the {what} is lowered from {b} to {c} only by controls carried out by "
                    f"{', '.join(sorted({p.controls[x].implemented_by for x in known}))}, which fail with the cause "
                    f"({', '.join(causes)}; common-cause groups of {PLAN}; or rely on it: relies_on): credit a "
                    f"control carried out by another item, hardware or the user, or keep the {what} at {b}"
                    " [rule: independent-control]", line)
        elif independent and all(p.controls[x].type == "information for safety" for x in independent):
            p.error(file, item, f"residual_risk.{what}",
                    f"the {what} is lowered from {b} to {c} and the only control independent of the cause "
                    f"({', '.join(causes)}) is information for safety ({', '.join(independent)}), which ISO 14971 "
                    "7.1 ranks last and which does not by itself lower a risk: credit an independent protective "
                    f"measure or inherent safety by design, or keep the {what} at {b} "
                    "[rule: information-last]", line)


def _fmea_severity(a: Analysis, file: str, fid: str, fm, line: int | None) -> None:
    """The FMEA row's severity is the severity of a harm the hazard analysis names for its
    hazards: a lower one understates it, one no situation has is a harm not analysed."""
    p = a.project
    sev: set[str] = set()
    for hz in fm.hazards:
        if hz in p.hazards:
            sev |= {s.initial_risk.severity for s in p.hazards[hz].situations}
    if sev and fm.severity not in sev:
        p.error(file, fid, "severity", f"{fm.severity} is not the severity of any hazardous situation of "
                f"{', '.join(fm.hazards)} ({', '.join(sorted(sev))} in {HAZARDS}): rate the failure mode with the "
                "severity of the harm it leads to, or add the situation to the hazard analysis "
                "[rule: fmea-severity]", line)


def _systematic(a: Analysis, file: str, item: str, fld: str, causes: list[str], probability: str,
                line: int | None) -> None:
    """A systematic software failure is not rarer than the plan says (IEC 62304: assume it happens)."""
    plan = a.project.plan
    if plan is None or not set(causes) & set(plan.software_items):
        return
    order = [x.id for x in plan.probability]
    if probability in order and plan.systematic_occurrence in order and \
            order.index(probability) < order.index(plan.systematic_occurrence):
        a.project.error(file, item, fld, f"{probability} rates a systematic failure of software "
                        f"({', '.join(c for c in causes if c in plan.software_items)}) below the plan's "
                        f"{plan.systematic_occurrence} (systematic_occurrence in {PLAN}): rate it "
                        f"{plan.systematic_occurrence} or higher and credit independent controls "
                        "[rule: systematic-probability]", line)


def _credited(p: Project) -> dict[str, list[str]]:
    """control id -> the situations and failure modes that credit it."""
    out: dict[str, list[str]] = defaultdict(list)
    for sid, (_, s) in p.situations.items():
        for c in s.controls:
            out[c].append(sid)
    for fid, (_, fm) in p.fmea.items():
        for c in fm.controls:
            out[c].append(fid)
    return out


def _check_controls(a: Analysis, static: bool) -> None:
    """ISO 14971 rules on each control: effective (requirements implemented and
    verified), typed by priority, hardware verified by the device maker's duty,
    information citing the instructions for use; and the dependent-failure analysis."""
    p, plan = a.project, a.project.plan
    credited = _credited(p)
    means = (set(plan.software_items) | set(plan.control_means)) if plan else set()
    for c in p.controls.values():
        file, line = p.loc(c.id)
        users = credited.get(c.id, [])
        for rid in c.requirements:
            r = p.reqs.get(rid)
            if r is None or not users:
                continue
            st = a.status.get(rid)
            why = ("is planned" if r.status == "planned" else
                   "failed its tests" if st == "failed" else
                   # an unverified safety requirement is an error of its own already
                   "is not verified (no passing evidence)" if st == "unverified" and not static
                   and r.kind != "safety" else "")
            if why:
                p.error(file, c.id, "requirements",
                        f"{rid} {why}, yet {c.id} is credited in {', '.join(users[:6])}"
                        f"{' ...' if len(users) > 6 else ''}: a control counts only when its requirements are "
                        f"implemented and verified; implement and verify {rid}, or take it out of {c.id} and "
                        "re-estimate the residual risks [rule: effective-control]", line)
        if plan is not None and c.implemented_by not in means:
            p.error(file, c.id, "implemented_by", f"{c.implemented_by!r} is neither a software item nor a "
                    f"control means of {PLAN} (allowed: {', '.join(sorted(means))}) [rule: control-means]", line)
        _control_means(a, c, file, line)
        software = plan is not None and c.implemented_by in plan.software_items
        if software and c.type == "inherent safety by design" and not c.type_rationale:
            p.error(file, c.id, "type", f"a check carried out by software ({c.implemented_by}) is a protective "
                    "measure, not inherent safety by design (ISO 14971 7.1): change the type, or say in "
                    "type_rationale why the design removes the hazard itself [rule: control-type]", line)
        duties = [rid for rid in c.requirements if rid in p.reqs and p.reqs[rid].verification == DEVICE_MAKER]
        if c.implemented_by == "hardware" and not duties:
            p.error(file, c.id, "requirements", "a hardware control is verified by a requirement on the hardware "
                    f"interface that the device maker must meet: name one with verification: {DEVICE_MAKER} "
                    f"(a requirement on the simulator does not verify the device) [rule: hardware-duty]", line)
        if c.type == "information for safety":
            if not c.instructions:
                p.error(file, c.id, "instructions", f"information for safety must cite the sections of {IFU} "
                        "that carry it (anchors of its headings, `## Title {#anchor}`) [rule: ifu-cited]", line)
            for anchor in c.instructions:
                if p.ifu_text is not None and anchor not in p.ifu_sections:
                    p.error(file, c.id, "instructions", f"{IFU} has no section {{#{anchor}}}: add the heading "
                            f"or cite an existing one ({', '.join(sorted(p.ifu_sections)) or 'none'}) "
                            "[rule: ifu-cited]", line)
    if p.risk_report is not None:
        _benefit_risk(a, RISK_REPORT, "RMR", "benefit_risk", p.risk_report.benefit_risk, None)
        for d in p.risk_report.dependent_failure_analysis:
            for cid in d.pair:
                if cid not in p.controls and cid not in p.where:
                    p.error(RISK_REPORT, cid, "dependent_failure_analysis.pair",
                            f"dangling: {cid} is not a known risk control ({d.title})")


def _control_means(a: Analysis, c, file: str, line: int | None) -> None:
    """What carries a control out must fit its type and its requirements (G3): the user
    carries out only information for safety, and only what a document gives them (a
    requirement verified by inspection); a requirement the software fulfils (verified by
    test or analysis) means a software item carries the control out, and hardware
    carries out no information."""
    p, plan = a.project, a.project.plan
    if plan is None:
        return
    if c.implemented_by == "user":
        if c.type != "information for safety":
            p.error(file, c.id, "implemented_by", f"the user carries out only information for safety, but {c.id} "
                    f"is typed {c.type!r}: name the software item or hardware that carries it out, or type it "
                    "information for safety [rule: control-means]", line)
        sw = [rid for rid in c.requirements if rid in p.reqs
              and p.reqs[rid].verification in ("test", "analysis")]
        if sw:
            p.error(file, c.id, "implemented_by", f"implemented_by user, but {', '.join(sw)} "
                    f"{'is a software function' if len(sw) == 1 else 'are software functions'} (verified by "
                    "test or analysis): the software item that shows or does it carries the control out; name "
                    "it in implemented_by, or split the control into the software part and the user's "
                    "instructions [rule: control-means]", line)
    elif c.implemented_by == "hardware" and c.type == "information for safety":
        p.error(file, c.id, "type", "hardware carries out no information for safety: type it by what the "
                "hardware does, or name what gives the information [rule: control-means]", line)
    means = set(plan.software_items) | set(plan.control_means)
    for dep in c.relies_on:
        if dep not in means:
            p.error(file, c.id, "relies_on", f"{dep!r} is neither a software item nor a control means of "
                    f"{PLAN} (allowed: {', '.join(sorted(means))}) [rule: control-means]", line)


def _check_soup(a: Analysis) -> None:
    p = a.project
    for dep in runtime_dependencies(p.root):
        if not soup_listed(p, dep):
            p.error(SOUP, dep, "soup", "runtime dependency of pyproject.toml has no SOUP entry (purpose)")
    _check_build_requirements(p)
    _check_tool_versions(p)
    _check_soup_pins(p)
    check_soup_rules(p)   # required entries, on_device, start-up code (PR-048, PR-051)


RUNTIME_LOCK = "requirements/runtime.lock"


def _check_soup_pins(p: Project) -> None:
    """PR-048 (part): a platform component or tool outside Python names how its
    version is probed, and requirements/runtime.lock pins each package at the
    version its SOUP entry reviews."""
    for s in p.soup:
        if s.kind != "python" and not s.version_probe:
            p.error(SOUP, s.name, "version_probe", f"{s.kind} {s.name} has no version_probe: a version outside "
                    "Python is read from the tool's own output, never typed [rule: soup]")
    from traceability.soup_rules import runtime_lock
    listed = {_norm(s.name): s for s in p.soup}
    for x in runtime_lock(p.root) or []:
        if x.name is None:
            continue     # not an exact pin: check_lock_lines names it
        name, pin = x.text.split("=", 1)[0].split("[", 1)[0].strip(), x.version
        s = listed.get(_norm(name))
        if s is None and not soup_listed(p, name):
            p.error(SOUP, name, "soup", f"{RUNTIME_LOCK} pins {name}=={pin} but it has no SOUP entry [rule: soup]")
        elif s is not None and s.version != pin:
            p.error(SOUP, s.name, "version", f"{RUNTIME_LOCK} pins {name}=={pin} but the SOUP entry reviews "
                    f"{s.version} [rule: soup]")


def _check_build_requirements(p: Project) -> None:
    """SRS-274: pip builds the C extension in an isolated environment from
    [build-system] requires; an unpinned requirement lets any later release in."""
    listed = {_norm(s.name): s for s in p.soup}
    for name, pin, text in build_requirements(p.root):
        if pin is None:
            p.error("pyproject.toml", name, "build-system.requires", f"build requirement {text!r} is not pinned "
                    "exactly: write NAME==VERSION (the version reviewed in its SOUP entry)")
            continue
        s = listed.get(name)
        if s is None and not soup_listed(p, name):
            p.error(SOUP, name, "soup", f"build requirement {text!r} of pyproject.toml has no SOUP entry: "
                    "add a reviewed one")
        elif s is not None and s.version != pin:
            p.error(SOUP, s.name, "version", f"build requirement {text!r} of pyproject.toml is not the SOUP "
                    f"entry's version {s.version}")


def _check_tool_versions(p: Project) -> None:
    """SRS-274: each tool and platform component whose version is probed (its
    own version output) must be the reviewed version where it is installed."""
    for s in p.soup:
        if s.kind == "python" or s.version_probe in (None, "dist", "build"):
            continue    # distributions: check_installed; build tools: _check_build_requirements
        got = installed_version(s, p.root)
        if got.startswith("NOT FOUND"):
            p.warn(SOUP, s.name, "version", f"{s.name} is not installed here ({got}): its version "
                   f"{s.version} was not compared")
        elif got != s.version:
            p.error(SOUP, s.name, "version", f"{s.name} {got} is installed (probe {s.version_probe}) but the "
                    f"SOUP entry reviews {s.version}: review the installed version's anomalies and update "
                    "the entry, or install the reviewed one")


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def runtime_dependencies(root: Path) -> list[str]:
    """Names of [project].dependencies in pyproject.toml (empty if there is none)."""
    path = root / "pyproject.toml"
    if not path.exists():
        return []
    deps = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("dependencies", [])
    names = []
    for d in deps:
        name = d
        for sep in "<>=!~;[ ":
            name = name.split(sep)[0]
        names.append(name.strip())
    return names


__all__ = ["Analysis", "Evidence", "run_check", "runtime_dependencies",
           "REQUIREMENTS", "PROPERTIES", "HAZARDS", "CONTROLS", "FMEA"]
