"""Review 3 of issue 11, defect 3 (SRS-198): with --suggested the suggestion
shown and confirmed is exactly what runs; options that would change it are
refused (exit 1, naming them, nothing energised, the history unchanged), on
a terminal and off it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import core.cli as cli
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
T = datetime.fromisoformat("2026-01-01T08:00:00+00:00")


def at(day: int) -> str:
    return (T + timedelta(days=day)).isoformat()


@pytest.fixture
def energised(monkeypatch):
    made: list[str] = []
    for name in ("SimulatedDevice", "RealtimeDevice"):
        real = getattr(cli, name)

        def make(*a, _real=real, _name=name, **k):
            made.append(_name)
            return _real(*a, **k)
        monkeypatch.setattr(cli, name, make)
    return made


OVERRIDES = [(["--current", "20"], "--current"), (["--current", "11"], "--current"),
             (["--minutes", "30"], "--minutes"), (["--ramp-up", "60"], "--ramp-up"),
             (["--ramp-down", "60"], "--ramp-down"),
             (["--reverse-polarity"], "--reverse-polarity"), (["--no-reverse-polarity"], "--reverse-polarity"),
             (["--polarity", "reversed"], "--polarity"), (["--polarity", "normal"], "--polarity"),
             (["--last"], "--last"),
             (["--current", "25", "--minutes", "30"], "--current, --minutes")]


@pytest.mark.req("SRS-198", "SRS-201")
@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("extra,named", OVERRIDES)
def test_suggested_with_a_setting_is_refused(tmp_path, capsys, monkeypatch, energised, terminal,
                                             extra, named):
    db = tmp_path / "h.sqlite"
    base = ["--checklist", CHECKLIST, "--db", str(db), "--json"]
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    assert run(capsys, "session", "--user", "bob", "--site", "feet", "--current", "20", "--minutes", "10",
               *base, "--now", at(1))[0] == 0
    before, made = digest(db), len(energised)
    if terminal:
        monkeypatch.setattr(cli, "_interactive", lambda: True)
        monkeypatch.setattr(cli, "_confirm_file_answers", lambda *a: None)
    code, out, err = run(capsys, "session", "--user", "bob", "--site", "feet", "--suggested", "--yes",
                         *extra, *base, "--now", at(2), stdin="y\ny\n")
    assert code == 1 and f"--suggested cannot be combined with {named}" in err
    assert "nothing was energised" in err and "Traceback" not in err
    assert json.loads(out)["outcome"] == "refused"
    assert digest(db) == before and len(energised) == made


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("terminal", [False, True])
def test_suggested_alone_runs_exactly_the_suggestion(tmp_path, capsys, monkeypatch, terminal):
    db = tmp_path / "h.sqlite"
    base = ["--checklist", CHECKLIST, "--db", str(db), "--json"]
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    assert run(capsys, "session", "--user", "bob", "--site", "feet", "--current", "20", "--minutes", "10",
               *base, "--now", at(1))[0] == 0
    if terminal:
        monkeypatch.setattr(cli, "_interactive", lambda: True)
        monkeypatch.setattr(cli, "_confirm_file_answers", lambda *a: None)
    code, out, err = run(capsys, "session", "--user", "bob", "--site", "feet", "--suggested", "--yes",
                         *base, "--now", at(2), stdin="y\n")
    summary = json.loads(out)
    assert code == 0 and "suggestion for bob, feet: 21 mA, 10 min" in err
    assert summary["current_mA"] == 21 and summary["minutes"] == 10
