"""Benchmark records (out/bench/<id>.json, bench/_record.py) as evidence of kind
"analysis: benchmark record": a record whose figures all met their goals
verifies a performance requirement verified by analysis; a missed goal is a
warning naming the figure, value and goal (never an error: a slow machine
must not fail the build); a malformed record or one naming an unknown id is
an error naming the file and the field. All on a copy in tmp_path."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from traceability.check import run_check
from traceability.report import write_report

BENCH_HELPER = Path(__file__).resolve().parents[2] / "bench/_record.py"
RID = "SRS-089"            # performance, verified by analysis: 20-min session <= 2 s
RECORD = f"out/bench/{RID}.json"


def _helper():
    spec = importlib.util.spec_from_file_location("bench_record", BENCH_HELPER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _only_bench_evidence(repo, rid: str = RID) -> None:
    """Take away the synthetic passing test of rid, so that a record is its only evidence."""
    repo.replace("tests/test_synthetic.py", f'@pytest.mark.req("{rid}")\n', "")
    data = repo.results()
    data["tests"] = [t for t in data["tests"] if t["ids"] != [rid]]
    repo.set_results(data)


def _write(repo, wall_s: float, rid: str = RID) -> Path:
    h = _helper()
    return h.write_record(rid, {"command_wall_s": h.figure(wall_s, "s", 2.0, "<="),
                                "speedup_x": h.figure(150.0, "x", 100.0, ">=")},
                          benchmark="bench/bench_session.py --quick", out_dir=repo.root / "out/bench")


def _valid() -> dict:
    return {"requirement": RID, "benchmark": "bench/bench_session.py",
            "figures": {"command_wall_s": {"value": 0.7, "unit": "s", "goal": 2.0, "comparison": "<=",
                                           "met": True}},
            "machine": {"cpu_count": 2, "platform": "Linux", "load_average": [0.5, 0.5, 0.5]},
            "date": "2025-01-01T12:00:00+00:00", "commit": "abc123"}


@pytest.mark.req("SRS-101")
def test_without_record_or_test_a_performance_requirement_warns_only(repo, capsys):
    _only_bench_evidence(repo)
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert (f"{RID}: field 'verification': implemented performance requirement has no passing evidence "
            "(no passing test, no benchmark record in out/bench/") in out
    assert run_check(repo.root).status[RID] == "unverified"


@pytest.mark.req("SRS-101")
def test_record_meeting_every_goal_verifies(repo, capsys):
    _only_bench_evidence(repo)
    path = _write(repo, wall_s=0.65)
    rec = json.loads(path.read_text())
    assert path == repo.path(RECORD)
    assert rec["figures"]["command_wall_s"] == {"value": 0.65, "unit": "s", "goal": 2.0,
                                                "comparison": "<=", "met": True}
    assert rec["figures"]["speedup_x"]["met"] is True
    assert rec["machine"]["cpu_count"] >= 1 and rec["date"] and rec["commit"]
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert RID not in out  # no finding at all about it
    a = run_check(repo.root)
    assert a.status[RID] == "verified"
    assert a.bench[RID].counted and a.bench[RID].met


@pytest.mark.req("SRS-101")
def test_missed_goal_warns_naming_figure_value_and_goal_and_does_not_fail(repo, capsys):
    _only_bench_evidence(repo)
    _write(repo, wall_s=2.5)
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out  # a slower machine never fails the build
    assert (f"WARNING: {RECORD}: {RID}: field 'figures.command_wall_s': benchmark goal missed on this "
            "machine: command_wall_s = 2.5 s (goal <= 2 s); bench/bench_session.py --quick on ") in out
    assert "speedup_x" not in out  # the figure that met its goal is not reported
    assert "0 error(s)" in out
    a = run_check(repo.root)
    assert a.status[RID] == "unverified"
    assert not [f for f in a.warnings if f.item == RID and "no passing evidence" in f.message]


@pytest.mark.req("SRS-101")
def test_missed_goal_with_a_passing_test_stays_verified_and_still_warns(repo, capsys):
    _write(repo, wall_s=3.0)  # the synthetic passing test of SRS-089 is kept
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert "command_wall_s = 3 s (goal <= 2 s)" in out
    assert run_check(repo.root).status[RID] == "verified"


def _corrupt(rec: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = rec
    for k in parents:
        node = node[k]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return rec


@pytest.mark.req("SRS-101")
@pytest.mark.parametrize("field, value, message", [
    ("figures.command_wall_s.goal", KeyError, "malformed benchmark record: missing (required)"),
    ("figures.command_wall_s.value", "fast", "malformed benchmark record: Input should be a valid number"),
    ("figures.command_wall_s.value", True, "malformed benchmark record: Input should be a valid number"),
    ("figures.command_wall_s.comparison", "<", "malformed benchmark record: Input should be '<=' or '>='"),
    ("figures.command_wall_s.met", "yes", "malformed benchmark record: Input should be a valid boolean"),
    ("figures.command_wall_s.colour", "red", "malformed benchmark record: unknown field (not allowed)"),
    ("figures", {}, "malformed benchmark record: Dictionary should have at least 1 item"),
    ("machine.cpu_count", 0, "malformed benchmark record: Input should be greater than or equal to 1"),
    ("date", "yesterday", "malformed benchmark record: Input should be a valid datetime"),
    ("requirement", "SRS-89", "malformed benchmark record: String should match pattern"),
    ("commit", KeyError, "malformed benchmark record: missing (required)"),
])
def test_malformed_record_is_an_error_naming_file_and_field(repo, capsys, field, value, message):
    repo.write(RECORD, json.dumps(_corrupt(_valid(), field, value)))
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert f"ERROR: {RECORD}: {RID}: field '{field}': {message}" in out


@pytest.mark.req("SRS-101")
def test_met_flag_contradicting_value_and_goal_is_an_error(repo, capsys):
    rec = _corrupt(_valid(), "figures.command_wall_s.value", 2.4)  # met stays true
    repo.write(RECORD, json.dumps(rec))
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert (f"ERROR: {RECORD}: {RID}: field 'figures.command_wall_s.met': met is true but the value is "
            "2.4 s (goal <= 2 s): the record contradicts itself") in out


@pytest.mark.req("SRS-101")
def test_record_that_is_not_json_is_an_error_naming_the_file(repo, capsys):
    repo.write(RECORD, '{"requirement": "SRS-089",')
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert f"ERROR: {RECORD}: {RID}: benchmark record is not valid JSON" in out


@pytest.mark.req("SRS-101")
def test_record_for_an_unknown_id_is_an_error(repo, capsys):
    rec = _valid()
    rec["requirement"] = "SRS-999"
    repo.write("out/bench/SRS-999.json", json.dumps(rec))
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert ("ERROR: out/bench/SRS-999.json: SRS-999: field 'requirement': benchmark record names an "
            "unknown requirement SRS-999") in out


@pytest.mark.req("SRS-101")
def test_record_in_a_file_not_named_after_its_id_is_an_error(repo, capsys):
    repo.write("out/bench/SRS-021.json", json.dumps(_valid()))  # names SRS-089
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert ("ERROR: out/bench/SRS-021.json: SRS-089: field 'requirement': record names SRS-089 but its "
            "file is SRS-021.json") in out


@pytest.mark.req("SRS-101")
def test_record_for_a_requirement_verified_by_test_is_not_counted(repo, capsys):
    rid = "SRS-005"  # safety, verified by test
    _only_bench_evidence(repo, rid)
    _write(repo, wall_s=0.5, rid=rid)
    rc, out = repo.run(capsys, "check")
    assert rc == 1  # still an unverified safety requirement: a benchmark is not its evidence
    assert f"benchmark record out/bench/{rid}.json is not counted as evidence" in out
    assert f"{rid}: field 'verification': implemented safety requirement has no passing test evidence" in out


@pytest.mark.req("SRS-101")
def test_static_check_does_not_read_records(repo, capsys):
    repo.write(RECORD, "not json")
    rc, out = repo.run(capsys, "check", "--static")
    assert rc == 0, out


@pytest.mark.req("SRS-103")
def test_report_shows_figures_goal_machine_and_date(repo, tmp_path):
    _only_bench_evidence(repo)
    rec = json.loads(_write(repo, wall_s=2.5).read_text())
    repo.stamp()  # the record as the bench script writes it on this copy
    write_report(run_check(repo.root), tmp_path)
    page = (tmp_path / "verification.html").read_text()
    md = (tmp_path / "report.md").read_text()
    assert '<h2 id="benchmarks">Benchmarks</h2>' in page and "\n## Benchmarks\n" in md
    row = next(line for line in md.splitlines() if line.startswith(f"| {RID} | **"))
    machine = f"{rec['machine']['cpu_count']} CPU(s), {rec['machine']['platform']}"
    for text in ("analysis: benchmark record `out/bench/SRS-089.json` (goal missed)",
                 "command_wall_s = 2.5 s (goal <= 2 s) MISSED", "speedup_x = 150 x (goal >= 100 x) met",
                 machine, rec["date"]):
        assert text in row, text
    section = md[md.index("\n## Benchmarks\n"):]
    assert (f"| {RID} | `bench/bench_session.py --quick` | command_wall_s | 2.5 s | <= 2 s | missed | "
            f"{machine}") in section
    assert f"| {RID} | `bench/bench_session.py --quick` | speedup_x | 150 x | >= 100 x | met |" in section
    assert rec["date"] in section


@pytest.mark.req("SRS-101")
def test_helper_computes_met_and_refuses_bad_input():
    h = _helper()
    assert h.figure(30.0, "ns/tick", 30, "<=")["met"] is True
    assert h.figure(30.1, "ns/tick", 30, "<=")["met"] is False
    assert h.figure(99.9, "x", 100, ">=")["met"] is False
    with pytest.raises(ValueError, match="comparison must be one of"):
        h.figure(1.0, "s", 2.0, "<")
    with pytest.raises(ValueError, match="finite"):
        h.figure(float("nan"), "s", 2.0, "<=")
    with pytest.raises(ValueError, match="requirement must be an id like SRS-021"):
        h.write_record("UN-01", {"a_s": h.figure(1, "s", 2, "<=")})
