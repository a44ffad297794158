"""`ionto-verify` paths the full runs of test_verify_cli.py do not take: bad
--machine, a class that does not do what its table says, --no-spin, a
property only SPIN decides, the two checkers disagreeing, surviving and
equivalent table mutants, --diagram, and a missing pydot, spin or trace tool."""
from __future__ import annotations

import json
import runpy
import sys
import textwrap

import pytest

from core.machine import TherapyMachine
from core.verification import cli, promela
from tests.verification import broken_machines as bm

HERE = "tests.verification.test_cov_verify_cli:"


class Lenient(TherapyMachine):
    """The real table, but an event without a transition is ignored instead of
    refused: the running class no longer does what the model read from it says."""
    allow_event_without_transition = True




def _props(tmp_path, body: str):
    path = tmp_path / "props.yaml"
    path.write_text(textwrap.dedent(body))
    return str(path)


@pytest.mark.req("SRS-120")
def test_machine_without_a_class_name_exits_2_naming_the_option(tmp_path, capsys):
    assert cli.main(["--machine", "core.machine", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == \
        "ionto-verify: error: --machine 'core.machine': expected module:Class\n"


@pytest.mark.req("SRS-120")
def test_python_dash_m_runs_the_same_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["ionto-verify", "--machine", "core.machine", "--out", str(tmp_path)])
    monkeypatch.delitem(sys.modules, "core.verification.cli")  # run as __main__, not the imported copy
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("core.verification.cli", run_name="__main__")
    assert exc.value.code == 2
    assert "--machine 'core.machine': expected module:Class" in capsys.readouterr().err


@pytest.mark.req("SRS-120", "SRS-121")
def test_a_class_that_does_not_do_what_its_table_says_is_refused(tmp_path, capsys):
    # the neutral model would describe another machine than the one that runs
    assert cli.main(["--machine", HERE + "Lenient", "--out", str(tmp_path), "--no-mutation"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ionto-verify: error: Lenient: the model read from the class does not match "
                          "what the class does: [")
    # (checklist, acknowledge) is the first pair in sorted order: the class stays
    # in checklist (event ignored), the table refuses the event (None)
    values = "{'reversal_enabled': True, 'regulator_reset_ok': True}"
    assert f"acknowledge in checklist: class [({values}, 'checklist')] vs model [({values}, None)]" in err
    assert not (tmp_path / "results.json").exists()


@pytest.mark.req("SRS-120", "SRS-121")
def test_no_spin_decides_every_property_by_exploration_alone(tmp_path, capsys):
    rc = cli.main(["--out", str(tmp_path), "--no-spin", "--no-mutation"])
    text = capsys.readouterr().out
    assert rc == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [p["id"] for p in doc["properties"]] == [f"PROP-{i:02d}" for i in range(1, 18)]
    assert {(p["result"], p["method"]) for p in doc["properties"]} == {("proven", "exploration")}
    assert doc["table_mutation"] is None and "table mutants" not in text
    assert "verification PASSED" in text


@pytest.mark.req("SRS-120", "SRS-122", "SRS-053")
def test_a_liveness_property_is_decided_by_spin_alone_and_fails_the_run(tmp_path, capsys):
    # the user may never acknowledge a fault: SPIN finds the lasso; the explorer
    # checks [] conditions only, so the result is SPIN's
    props = _props(tmp_path, """
        properties:
          - {id: PROP-01, title: t, statement: s, verifies: [SRS-053], kind: ltl,
             ltl: "[] (at(fault) -> <> at(idle))"}
    """)
    rc = cli.main(["--properties", props, "--out", str(tmp_path), "--no-mutation"])
    text = capsys.readouterr().out
    assert rc == 1
    (p,) = json.loads((tmp_path / "results.json").read_text())["properties"]
    assert (p["id"], p["result"], p["method"], p["verifies"]) == ("PROP-01", "violated", "spin", ["SRS-053"])
    assert "<cycle>" in p["counterexample"] and p["detail"].endswith(" states stored")
    assert "PROP-01  violated  spin\n    counterexample: " in text and "verification FAILED" in text


@pytest.mark.req("SRS-120", "SRS-121", "SRS-122")
def test_a_property_false_in_the_initial_state_is_violated_with_no_events(tmp_path, capsys):
    props = _props(tmp_path, """
        properties:
          - {id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] true"}
          - {id: PROP-02, title: t, statement: s, verifies: [SRS-050], kind: ltl, ltl: "[] false"}
    """)
    rc = cli.main(["--properties", props, "--out", str(tmp_path), "--no-mutation"])
    text = capsys.readouterr().out
    assert rc == 1
    ok, bad = json.loads((tmp_path / "results.json").read_text())["properties"]
    assert (ok["result"], ok["method"]) == ("proven", "exploration+spin")
    assert (bad["result"], bad["method"], bad["counterexample"]) == ("violated", "exploration+spin", [])
    assert bad["detail"] == "violates [] false"
    assert "PROP-02  violated  exploration+spin\n    counterexample: (none)\n    violates [] false\n" in text


def _fake_spin(holds: bool, counterexample=()):
    def check(model, spec):
        return [promela.SpinResult(p.id, holds, list(counterexample), "12 states stored")
                for p in spec.properties if p.ltl is not None]
    return check


@pytest.mark.req("SRS-120", "SRS-122")
def test_when_spin_finds_a_violation_the_explorer_misses_the_violation_is_kept(tmp_path, capsys, monkeypatch):
    # a fault injected into SPIN's side: the two checkers disagree; fail safe
    monkeypatch.setattr(cli.promela, "check", _fake_spin(False, ["start", "stop"]))
    rc = cli.main(["--out", str(tmp_path), "--no-mutation"])
    assert rc == 1
    props = {p["id"]: p for p in json.loads((tmp_path / "results.json").read_text())["properties"]}
    p01 = props["PROP-01"]
    assert (p01["result"], p01["method"], p01["counterexample"]) == ("violated", "exploration+spin", ["start", "stop"])
    assert p01["detail"] == "SPIN finds a violation the explorer does not: 12 states stored"
    assert props["PROP-02"]["result"] == "proven"  # a check only exploration decides: not touched
    assert "verification FAILED" in capsys.readouterr().out


@pytest.mark.req("SRS-120", "SRS-122", "PROP-08")
def test_when_spin_proves_what_the_explorer_refutes_the_violation_stays_marked_as_a_fault(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.promela, "check", _fake_spin(True))
    rc = cli.main(["--machine", "tests.verification.broken_machines:AckToChecklist", "--out", str(tmp_path),
                   "--no-mutation"])
    assert rc == 1
    props = {p["id"]: p for p in json.loads((tmp_path / "results.json").read_text())["properties"]}
    p08 = props["PROP-08"]
    assert (p08["result"], p08["method"]) == ("violated", "exploration+spin")
    assert p08["counterexample"] == ["fault", "acknowledge [regulator_reset_ok]", "checklist_passed"]
    assert p08["detail"].startswith("violates ") and p08["detail"].endswith(" (SPIN disagrees: verifier fault)")
    capsys.readouterr()


LAMP_PROPS = """
    properties:
      - {id: PROP-01, title: broken is off, statement: s, verifies: [SRS-123], kind: ltl,
         ltl: "[] (at(broken) -> off)"}
      - {id: PROP-02, title: every state reachable, statement: s, verifies: [SRS-123], kind: invariant,
         check: all_reachable}
    equivalent_mutants:
      - {mutant: "drop guard powered of off--switch-->on", reason: "powered() is always true in Lamp"}
"""


@pytest.mark.req("SRS-123", "SRS-120")
def test_surviving_mutants_are_named_and_fail_the_run_equivalent_ones_do_not(tmp_path, capsys):
    props = _props(tmp_path, LAMP_PROPS)
    rc = cli.main(["--machine", "tests.verification.lamp:Lamp", "--properties", props, "--out", str(tmp_path), "--no-spin"])
    text = capsys.readouterr().out
    assert rc == 1
    tm = json.loads((tmp_path / "results.json").read_text())["table_mutation"]
    # 5 transitions dropped, 5 x 2 redirected, 1 guard and 1 validator dropped, 3 x 1 permissions
    assert tm["total"] == 20
    # caught: on unreachable without off--switch-->on (dropped, or redirected to off or
    # broken: 1 + 2, by PROP-02); broken HOLDING (PROP-01). Nothing else is caught.
    assert tm["by_kind"] == {"drop": {"total": 5, "caught": 1}, "redirect": {"total": 10, "caught": 2},
                             "drop guard": {"total": 1, "caught": 0}, "drop validator": {"total": 1, "caught": 0},
                             "permission": {"total": 3, "caught": 1}}
    assert tm["equivalent"] == [{"mutant": "drop guard powered of off--switch-->on",
                                 "reason": "powered() is always true in Lamp"}]
    assert tm["caught"] == 4 and len(tm["survivors"]) == 20 - 4 - 1
    assert "drop guard powered of off--switch-->on" not in tm["survivors"]
    assert "drop validator fixed of broken--repair-->off" in tm["survivors"]
    assert tm["checked_by"] == {"exploration": 20, "spin": 0, "spin_sample": []}
    assert f"table mutants: {tm['caught']}/20 caught (20 by exploration, 0 also by SPIN), 1 equivalent, " \
           f"{len(tm['survivors'])} surviving" in text
    assert "    SURVIVOR: drop validator fixed of broken--repair-->off\n" in text
    assert "verification FAILED" in text


@pytest.mark.req("SRS-124")
def test_diagram_option_writes_the_svg_where_asked(tmp_path, capsys):
    svg = tmp_path / "docs" / "machine.svg"
    assert cli.main(["--out", str(tmp_path / "out"), "--no-spin", "--no-mutation", "--diagram", str(svg)]) == 0
    text = svg.read_text()
    assert "<svg" in text and ">treat</text>" in text and "half_time [reversal_enabled]" in text
    assert svg.read_bytes() == (tmp_path / "out" / "therapy_machine.svg").read_bytes()
    capsys.readouterr()


@pytest.mark.req("SRS-186")
def test_without_pydot_the_diagram_step_names_the_report_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # not installed: import fails
    assert cli.main(["--out", str(tmp_path), "--no-spin", "--no-mutation"]) == 2
    assert capsys.readouterr().err == ("ionto-verify: error: the state diagram needs pydot, a report-only "
                                       "package: pip install 'ionto-core[report]'\n")


@pytest.mark.req("SRS-186")
def test_version_works_without_pydot_and_from_an_uninstalled_tree(capsys, monkeypatch):
    from importlib import metadata
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"ionto-verify {metadata.version('ionto-core')}\n"

    def missing(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == "ionto-verify unknown (not installed)\n"


@pytest.mark.req("SRS-122", "SRS-120")
def test_without_spin_on_the_path_the_run_stops_with_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no spin, no gcc
    assert cli.main(["--out", str(tmp_path), "--no-mutation"]) == 2
    assert capsys.readouterr().err == ("ionto-verify: error: spin and gcc are needed "
                                       "(Debian: apt-get install spin gcc); see README\n")


@pytest.mark.req("SRS-170")
def test_results_carry_the_commit_and_source_hash_only_with_the_trace_tool(tmp_path, capsys, monkeypatch):
    assert cli.main(["--out", str(tmp_path), "--no-spin", "--no-mutation"]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert len(doc["source_sha256"]) == 64 and doc["commit"]
    monkeypatch.setitem(sys.modules, "traceability.provenance", None)  # the trace tool is not installed
    assert cli.main(["--out", str(tmp_path), "--no-spin", "--no-mutation"]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert "commit" not in doc and "source_sha256" not in doc  # "another build" for ionto-trace check
    capsys.readouterr()


@pytest.mark.req("SRS-120")
def test_report_of_a_violation_without_detail_shows_only_the_counterexample(capsys):
    doc = {"properties": [{"id": "PROP-05", "result": "violated", "method": "spin",
                           "counterexample": ["start", "stop"], "detail": ""}],
           "table_mutation": None, "diagram_svg": "d.svg", "duration_s": 1.5}
    cli.report(doc)
    assert capsys.readouterr().out == ("PROP-05  violated  spin\n    counterexample: start -> stop\n"
                                       "diagram: d.svg\nverification FAILED in 1.5 s\n")
