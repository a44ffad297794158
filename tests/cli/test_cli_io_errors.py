"""Review F2..F4 and nits: I/O errors and hostile files give a clear message and
the right exit code, never a traceback; --trace never overwrites the history or
an input file."""
from __future__ import annotations

import json
import os
import sqlite3

import pytest

import core.cli as cli
from core.history import History, HistoryError

from tests.cli.test_cli import CHECKLIST, ionto, session_args, write_scenario

HUGE = "1" + "0" * 400   # beyond a float's range: int -> float overflows


def _no_traceback(p) -> None:
    assert "Traceback" not in p.stderr and "File \"" not in p.stderr


# --- F2 -----------------------------------------------------------------------
@pytest.mark.req("SRS-081", "SRS-082", "SRS-054")
def test_trace_on_a_full_disk_stops_with_a_ramp_down_exit_4(tmp_path):
    p = ionto(*session_args(tmp_path, "--trace", "/dev/full"))
    assert p.returncode == 4, p.stderr
    _no_traceback(p)
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "stopped"
    assert summary["states"][-2:] == ["ramp_down", "idle"]
    assert "No space left on device" in p.stderr and "stopping the session" in p.stderr
    with History(tmp_path / "h.sqlite") as h:
        assert [r.outcome for r in h.list_sessions()] == ["stopped"]


@pytest.mark.req("SRS-081", "SRS-082")
def test_history_write_failing_at_start_refuses_with_exit_1(tmp_path, capsys, monkeypatch):
    def locked(self, settings, started_at=None, checklist=None):
        raise HistoryError(f"history {self.path}: cannot write: database is locked")
    monkeypatch.setattr(History, "begin_session", locked)
    code = cli.main(session_args(tmp_path))
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "database is locked" in err and "nothing was energised" in err
    assert json.loads(out)["outcome"] == "refused"


@pytest.mark.req("SRS-081", "SRS-071")
def test_history_end_failing_keeps_exit_0_of_a_completed_session(tmp_path, capsys, monkeypatch):
    def locked(self, *a, **k):
        raise HistoryError(f"history {self.path}: cannot write: database is locked")
    monkeypatch.setattr(History, "end_session", locked)
    code = cli.main(session_args(tmp_path))
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["outcome"] == "completed"
    assert "could not be written to the history" in err and "database is locked" in err
    assert "stays marked interrupted" in err
    with History(tmp_path / "h.sqlite") as h:
        assert [r.outcome for r in h.list_sessions()] == ["interrupted"]


@pytest.mark.req("SRS-082", "SRS-070")
def test_history_locked_at_open_says_locked(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    History(path).close()
    locker = sqlite3.connect(path, isolation_level=None, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        code = cli.main(["history", "--db", str(path)])
    finally:
        locker.rollback()
        locker.close()
    err = capsys.readouterr().err
    assert code == 1 and "locked by another program" in err and "corrupt" not in err


@pytest.mark.req("SRS-082")
@pytest.mark.parametrize("command", ["session", "history"])
def test_empty_db_path_is_refused(tmp_path, capsys, command):
    argv = session_args(tmp_path) if command == "session" else ["history"]
    argv = [a for a in argv]
    if "--db" in argv:
        argv[argv.index("--db") + 1] = ""
    else:
        argv += ["--db", ""]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 1 and "--db: an empty path is not allowed" in err


# --- F3 -------------------------------------------------------------------------
@pytest.mark.req("SRS-083", "SRS-082")
@pytest.mark.parametrize("text, words", [
    (f"- {{at_s: {HUGE}, event: stop}}\n", ["entry 0", "'at_s'", "401 digits", "out of range",
                                            "14400"]),
    (f"- {{at_s: 1, event: sensor_stuck, channel: {HUGE}, mA: 1}}\n",
     ["entry 0", "'channel'", "401 digits", "out of range", "0 <= value <= 1"]),
    (f"- {{at_s: 1, event: short, ohms: -{HUGE}}}\n", ["entry 0", "'ohms'", "out of range"]),
    ("[" * 3000 + "]" * 3000 + "\n", ["nested too deeply"]),
    ("- {at_s: 1" + "0" * 5000 + ", event: stop}\n", ["cannot be read"]),
])
def test_hostile_scenario_files_exit_1_with_a_message(tmp_path, text, words):
    p = ionto(*session_args(tmp_path, "--scenario", write_scenario(tmp_path, text)))
    assert p.returncode == 1
    _no_traceback(p)
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    assert not (tmp_path / "h.sqlite").exists()   # refused before Start


@pytest.mark.req("SRS-044", "SRS-082")
@pytest.mark.parametrize("text, words", [
    ("contraindications:\n  pregnancy: " + HUGE + "\n", ["pregnancy", "401 characters",
                                                         "not true or false"]),
    ("[" * 3000 + "]" * 3000 + "\n", ["nested too deeply"]),
])
def test_hostile_checklist_files_exit_1_with_a_message(tmp_path, text, words):
    path = tmp_path / "cl.yaml"
    path.write_text(text)
    argv = session_args(tmp_path)
    argv[argv.index("--checklist") + 1] = str(path)
    p = ionto(*argv)
    assert p.returncode == 1
    _no_traceback(p)
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def _damage(path, column: str, value) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(f"UPDATE sessions SET {column} = ? WHERE id = 1", (value,))
    db.close()


@pytest.mark.req("SRS-070", "SRS-072", "SRS-087")
@pytest.mark.parametrize("column, value", [
    ("settings", "{not json"), ("settings", "[1, 2]"), ("settings", "5"),
    ("faults", "{"), ("states", '"text"'), ("settings", "[" * 5000 + "]" * 5000),
])
def test_damaged_history_rows_exit_1_naming_the_row(tmp_path, column, value):
    assert ionto(*session_args(tmp_path)).returncode == 0
    _damage(tmp_path / "h.sqlite", column, value)
    for argv in (["history", "--db", str(tmp_path / "h.sqlite")],
                 ["history", "--db", str(tmp_path / "h.sqlite"), "--json"]):
        p = ionto(*argv)
        assert p.returncode == 1, p.stdout
        _no_traceback(p)
        assert "session 1" in p.stderr and "left unchanged" in p.stderr
    if column == "settings":
        argv = session_args(tmp_path, "--last")
        p = ionto(*argv[:1], *argv[7:])   # session --checklist ... --last, no --site etc.
        assert p.returncode == 1
        _no_traceback(p)
        assert "session 1" in p.stderr


@pytest.mark.req("SRS-087")
def test_history_lists_a_row_with_settings_values_of_an_odd_type(tmp_path):
    assert ionto(*session_args(tmp_path)).returncode == 0
    _damage(tmp_path / "h.sqlite", "settings", json.dumps({"site": 3, "current_ma": "x"}))
    p = ionto("history", "--db", str(tmp_path / "h.sqlite"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("#1") and "'x'   mA None min" in p.stdout


# --- F4 -------------------------------------------------------------------------
@pytest.mark.req("SRS-071", "SRS-082")
@pytest.mark.parametrize("target", ["db", "db_link", "db_relative", "checklist", "scenario"])
def test_trace_naming_an_input_or_the_history_is_refused_and_nothing_is_lost(
        tmp_path, target, monkeypatch, capsys):
    assert ionto(*session_args(tmp_path)).returncode == 0
    db = tmp_path / "h.sqlite"
    scenario = write_scenario(tmp_path, "- {at_s: 100, event: stop}\n")
    checklist = tmp_path / "cl.yaml"
    checklist.write_text(open(CHECKLIST).read())
    (tmp_path / "link.csv").symlink_to(db)
    trace, option = {"db": (str(db), "--db"), "db_link": (str(tmp_path / "link.csv"), "--db"),
                     "db_relative": ("h.sqlite", "--db"), "checklist": (str(checklist), "--checklist"),
                     "scenario": (scenario, "--scenario")}[target]
    before = {p: p.read_bytes() for p in (db, checklist, tmp_path / "scenario.yaml")}
    argv = session_args(tmp_path, "--trace", trace, "--scenario", scenario)
    argv[argv.index("--checklist") + 1] = str(checklist)
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert f"--trace {trace!r} is the same file as {option}" in err
    assert {p: p.read_bytes() for p in before} == before      # nothing truncated
    with History(db) as h:
        assert len(h.list_sessions()) == 1


@pytest.mark.req("SRS-071")
def test_trace_over_the_default_history_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    default = tmp_path / "ionto" / "history.sqlite"
    default.parent.mkdir()
    History(default).close()
    before = default.read_bytes()
    argv = [a for a in session_args(tmp_path, "--trace", str(default))]
    i = argv.index("--db")
    del argv[i:i + 2]
    assert cli.main(argv) == 1
    assert "--db (default)" in capsys.readouterr().err
    assert default.read_bytes() == before
