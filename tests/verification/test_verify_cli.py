"""`ionto-verify`: passes on the real machine, fails on broken ones, writes the
results the traceability report reads. Its wall time is a figure, not a
test: CI prints it as the "state-machine verification" step (the developers'
guide: speed targets are benchmarks, never timed tests; CI at 29f408b failed
here at 86.9 s on a loaded machine)."""
from __future__ import annotations

import json

import pytest

from core.verification import cli

BROKEN = "tests.verification.broken_machines:"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("verify")
    rc = cli.main(["--out", str(out), "--spin-mutants", "2"])
    return rc, out


@pytest.mark.req("SRS-120", "SRS-121", "SRS-122", "SRS-123", "SRS-124")
def test_real_machine_passes_and_results_are_written(real_run, capsys):
    rc, out = real_run
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    ids = [p["id"] for p in doc["properties"]]
    assert ids == [f"PROP-{i:02d}" for i in range(1, 18)]
    for p in doc["properties"]:
        assert p["result"] == "proven" and p["counterexample"] == []
        assert p["method"] in ("exploration", "exploration+spin")
        assert set(p) >= {"id", "result", "method", "counterexample"}
    tm = doc["table_mutation"]
    assert tm["total"] == tm["caught"] == 443
    assert tm["survivors"] == [] and tm["equivalent"] == []
    assert tm["checked_by"]["spin"] == 2
    assert doc["diagram_svg"].endswith("therapy_machine.svg")


@pytest.mark.req("SRS-120")
def test_output_names_each_property_then_the_mutation_figure(tmp_path, capsys):
    rc = cli.main(["--out", str(tmp_path), "--no-mutation"])
    text = capsys.readouterr().out
    assert rc == 0
    for i in range(1, 18):
        assert f"PROP-{i:02d}  proven" in text
    assert "verification PASSED" in text


@pytest.mark.req("SRS-120", "SRS-057", "PROP-08")
@pytest.mark.parametrize("broken, prop, events", [
    ("AckToChecklist", "PROP-08", "fault -> acknowledge [regulator_reset_ok] -> checklist_passed"),
    ("NoFaultFromTreat", "PROP-02", "start -> checklist_passed -> ramp_complete -> fault"),
    ("StopToIdle", "PROP-04", "start -> checklist_passed -> ramp_complete -> stop"),
    ("LyingOutput", "PROP-01", "start -> checklist_passed -> contact_lost"),
])
def test_broken_machine_fails_with_a_counterexample(tmp_path, capsys, broken, prop, events):
    rc = cli.main(["--machine", BROKEN + broken, "--out", str(tmp_path), "--no-mutation"])
    text = capsys.readouterr().out
    assert rc == 1
    assert f"{prop}  violated" in text
    assert f"counterexample: {events}" in text
    assert "verification FAILED" in text
    doc = json.loads((tmp_path / "results.json").read_text())
    assert next(p for p in doc["properties"] if p["id"] == prop)["result"] == "violated"


@pytest.mark.req("SRS-120")
def test_unreadable_inputs_exit_2_with_a_message(tmp_path, capsys):
    assert cli.main(["--machine", "statemachine:StateMachine", "--out", str(tmp_path)]) == 2
    assert "no OUTPUT_TABLE" in capsys.readouterr().err
    bad = tmp_path / "p.yaml"
    bad.write_text("properties:\n  - {id: PROP-01, title: t, statement: s, verifies: [X-1], kind: ltl, ltl: 'true'}\n")
    assert cli.main(["--properties", str(bad), "--out", str(tmp_path)]) == 2
    assert "PROP-01.verifies: ['X-1'] must list SRS-nnn ids" in capsys.readouterr().err
    bad.write_text("properties:\n  - {id: PROP-01, title: t, statement: s, verifies: [SRS-050], kind: ltl,"
                   " ltl: '[] at(nowhere)'}\n")
    assert cli.main(["--properties", str(bad), "--out", str(tmp_path)]) == 2
    assert "at(nowhere): no state 'nowhere' in TherapyMachine" in capsys.readouterr().err
