"""How each session's checklist was answered, recorded (SRS-086, SRS-093, issue 8 point 10).

On a terminal every session's checklist is answered by the user: asked, or
the answers of --checklist FILE shown and confirmed. Without a terminal the
file's answers are used as given. The history row records the mode, the file
and its SHA-256, and the answers; a session bound's end reason is recorded too.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pytest

from core import cli
from core.history import History

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = ROOT / "examples" / "checklist.yaml"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _argv(tmp_path, *extra, checklist=str(CHECKLIST)):
    argv = ["session", "--site", "hands", "--current", "15", "--minutes", "10",
            "--db", str(tmp_path / "h.sqlite"), "--json", *extra]
    return argv + (["--checklist", checklist] if checklist else [])


def _only_record(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        (rec,) = h.list_sessions()
    return rec


@pytest.mark.req("SRS-086", "SRS-093")
def test_a_file_on_a_terminal_is_shown_and_must_be_confirmed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Tty("y\n"))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    assert cli.main(_argv(tmp_path)) == 0
    out, err = capsys.readouterr()
    assert "Checklist answers from" in err and "Are you pregnant? no" in err
    assert "Are these answers true for you today?" in err
    assert json.loads(out)["checklist"] == "file_confirmed"
    rec = _only_record(tmp_path)
    assert rec.checklist["mode"] == "file_confirmed"
    assert rec.checklist["file"] == str(CHECKLIST.resolve())
    assert rec.checklist["sha256"] == hashlib.sha256(CHECKLIST.read_bytes()).hexdigest()
    assert rec.checklist["answers"]["contraindications"]["pregnancy"] is False
    assert len(rec.checklist["answers"]["contraindications"]) == 12
    assert rec.checklist["answers"]["preparation"] == {
        "cosmetics_removed": True, "metal_jewelry_removed": True, "skin_cracks_covered": True}


@pytest.mark.req("SRS-086", "SRS-082")
def test_file_answers_not_confirmed_on_a_terminal_refuse_the_session(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Tty("n\n"))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli, "SimulatedDevice", lambda *a, **k: pytest.fail("energised"))
    assert cli.main(_argv(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "were not confirmed" in err and "Traceback" not in err
    assert not (tmp_path / "h.sqlite").exists() or History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-093")
def test_asked_checklist_is_recorded_with_its_answers(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Tty("n\n" * 12 + "y\n" * 3))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    assert cli.main(_argv(tmp_path, checklist=None)) == 0
    rec = _only_record(tmp_path)
    assert rec.checklist["mode"] == "asked"
    assert rec.checklist["file"] is None and rec.checklist["sha256"] is None
    assert set(rec.checklist["answers"]["contraindications"].values()) == {False}


@pytest.mark.req("SRS-093", "SRS-086")
def test_without_a_terminal_the_file_is_recorded_as_unattended(tmp_path, capsys):
    assert cli.main(_argv(tmp_path)) == 0       # pytest's stdin is not a terminal
    rec = _only_record(tmp_path)
    assert rec.checklist["mode"] == "file"
    assert rec.checklist["sha256"] == hashlib.sha256(CHECKLIST.read_bytes()).hexdigest()
    assert cli.main(["history", "--db", str(tmp_path / "h.sqlite")]) == 0
    assert "checklist=file" in capsys.readouterr().out


@pytest.mark.req("SRS-090", "SRS-081", "SRS-093")
def test_a_session_bound_gives_exit_4_and_its_end_reason_in_json_and_history(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("".join(f"- {{at_s: {t}, event: lift_off}}\n- {{at_s: {t + 1}, event: contact}}\n"
                                for t in range(40, 700, 30)))
    assert cli.main(_argv(tmp_path, "--scenario", str(scenario))) == 4
    summary = json.loads(capsys.readouterr().out)
    assert summary["outcome"] == "interrupted"
    assert summary["end_reason"] in ("pauses_bound", "ramp_time_bound", "charge_bound", "length_bound")
    assert _only_record(tmp_path).end_reason == summary["end_reason"]
