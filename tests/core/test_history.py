"""Treatment history (SRS-070), crash safety (SRS-071), Last Setting (SRS-072)."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.history import OUTCOMES, History, HistoryError, default_db_path
from core.settings import SettingsError, parse_settings

HANDS = parse_settings({"site": "hands", "current_ma": 15, "minutes": 20})
UNDERARMS = parse_settings({"site": "underarms", "current_ma": 4.5, "minutes": 10,
                            "ramp_up_s": 45, "ramp_down_s": 20, "reverse_polarity": True})


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.req("SRS-070")
def test_session_row_holds_settings_times_outcome_charge_and_faults(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        sid = h.begin_session(HANDS, started_at="2025-01-01T10:00:00.000+00:00")
        h.end_session(sid, "fault", treat_s=301.5, delivered_mamin=75.4, max_current_ma=15.3,
                      faults=["SHORT"], states=["idle", "checklist", "ramp", "treat", "fault"],
                      ended_at="2025-01-01T10:06:00.000+00:00")
        (rec,) = h.list_sessions()
    assert rec.session_id == sid
    assert rec.settings == {"site": "hands", "current_ma": 15.0, "minutes": 20, "ramp_up_s": 30.0,
                            "ramp_down_s": 30.0, "reverse_polarity": False, "start_polarity": "normal"}
    assert (rec.started_at, rec.ended_at) == ("2025-01-01T10:00:00.000+00:00",
                                              "2025-01-01T10:06:00.000+00:00")
    assert rec.outcome == "fault"
    assert (rec.treat_s, rec.delivered_mamin, rec.max_current_ma) == (301.5, 75.4, 15.3)
    assert rec.faults == ["SHORT"]
    assert rec.states == ["idle", "checklist", "ramp", "treat", "fault"]
    assert json.loads(json.dumps(rec.to_dict()))["outcome"] == "fault"


@pytest.mark.req("SRS-070")
def test_sessions_listed_oldest_first_and_persist(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        for outcome in OUTCOMES:
            sid = h.begin_session(HANDS)
            h.end_session(sid, outcome, treat_s=1, delivered_mamin=0.25, max_current_ma=15)
    with History(path) as h:
        assert [r.outcome for r in h.list_sessions()] == list(OUTCOMES)
        assert [r.session_id for r in h.list_sessions()] == [1, 2, 3, 4, 5]


@pytest.mark.req("SRS-070")
def test_unknown_outcome_is_refused(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        sid = h.begin_session(HANDS)
        with pytest.raises(ValueError, match="outcome: 'done' is not one of completed"):
            h.end_session(sid, "done", treat_s=0, delivered_mamin=0, max_current_ma=0)
        assert h.list_sessions()[0].outcome == "interrupted"


@pytest.mark.req("SRS-070")
def test_ending_an_unknown_session_is_an_error(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        with pytest.raises(HistoryError, match="no session with id 42"):
            h.end_session(42, "completed", treat_s=0, delivered_mamin=0, max_current_ma=0)


@pytest.mark.req("SRS-071")
def test_row_is_interrupted_from_the_start(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        sid = h.begin_session(HANDS)
        # a second connection (another process) already sees the committed row
        other = sqlite3.connect(path)
        assert other.execute("SELECT outcome, ended_at FROM sessions WHERE id=?", (sid,)).fetchone() \
            == ("interrupted", None)
        other.close()


@pytest.mark.req("SRS-071")
def test_crash_mid_session_leaves_the_row_interrupted(tmp_path):
    path = tmp_path / "h.sqlite"
    # a real crash: the process dies (os._exit, no close, no end) mid-session
    code = textwrap.dedent(f"""
        import os
        from core.history import History
        from core.settings import parse_settings
        h = History({str(path)!r})
        sid = h.begin_session(parse_settings({{"site": "feet", "current_ma": 18, "minutes": 15}}))
        h.update_progress(sid, treat_s=120.0, delivered_mamin=36.0, max_current_ma=18.1,
                          states=["idle", "checklist", "ramp", "treat"])
        os._exit(9)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2])
    assert proc.returncode == 9, proc.stderr
    with History(path) as h:
        (rec,) = h.list_sessions()
    assert rec.outcome == "interrupted" and rec.ended_at is None
    assert rec.settings["site"] == "feet" and rec.settings["current_ma"] == 18.0
    assert (rec.treat_s, rec.delivered_mamin, rec.max_current_ma) == (120.0, 36.0, 18.1)
    assert rec.states == ["idle", "checklist", "ramp", "treat"]


@pytest.mark.req("SRS-071")
def test_dropped_connection_without_end_leaves_interrupted(tmp_path):
    path = tmp_path / "h.sqlite"
    h = History(path)
    h.begin_session(UNDERARMS)
    h._db.close()  # connection dropped without end_session
    with History(path) as again:
        assert [r.outcome for r in again.list_sessions()] == ["interrupted"]


@pytest.mark.req("SRS-072")
def test_last_settings_recalls_the_most_recent_session(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        assert h.last_settings() is None
        h.begin_session(HANDS)
        sid = h.begin_session(UNDERARMS)
        h.end_session(sid, "completed", treat_s=600, delivered_mamin=45, max_current_ma=4.5)
        assert h.last_settings() == UNDERARMS
        h.begin_session(HANDS)  # even a session that never ended is the last one
        assert h.last_settings() == HANDS


@pytest.mark.req("SRS-072")
def test_last_settings_are_checked_against_todays_limits(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        h.begin_session(UNDERARMS)
    db = sqlite3.connect(path)  # a limit tightened since (here simulated by editing the row)
    bad = dict(UNDERARMS.to_record(), current_ma=12.0)
    db.execute("UPDATE sessions SET settings=?", (json.dumps(bad),))
    db.commit()
    db.close()
    with History(path) as h, pytest.raises(SettingsError, match="current_ma: 12 mA .* 1..5 mA"):
        h.last_settings()


# --- files that are not a usable history: clear error, file untouched ----------------------

@pytest.mark.req("SRS-070")
@pytest.mark.parametrize("content", [b"this is not a database" * 50, bytes(range(256)) * 40])
def test_corrupt_file_gives_a_clear_error_and_is_left_unchanged(tmp_path, content):
    path = tmp_path / "h.sqlite"
    path.write_bytes(content)
    before = digest(path)
    with pytest.raises(HistoryError) as info:
        History(path)
    assert str(path) in str(info.value)
    assert "corrupt" in str(info.value) and "left unchanged" in str(info.value)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]


@pytest.mark.req("SRS-070")
def test_damaged_history_is_detected_and_left_unchanged(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        for _ in range(50):
            h.begin_session(HANDS)
    data = bytearray(path.read_bytes())
    data[1024:6144] = b"\xa5" * 5120  # damage the pages after the header
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(HistoryError, match="corrupt"):
        History(path)
    assert digest(path) == before


@pytest.mark.req("SRS-070")
def test_foreign_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT)")
    db.commit()
    db.close()
    before = digest(path)
    with pytest.raises(HistoryError, match="not an ionto history"):
        History(path)
    assert digest(path) == before


@pytest.mark.req("SRS-070")
def test_unopenable_path_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="cannot open"):
        History(blocker / "history.sqlite")  # parent is a file
    with pytest.raises(HistoryError, match="is a directory"):
        History(tmp_path)
    assert blocker.read_text() == "x"


@pytest.mark.req("SRS-070")
def test_default_path_is_per_user(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "ionto" / "history.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "ionto" / "history.sqlite"
    with History() as h:  # creates the folders on first use
        h.begin_session(HANDS)
    assert default_db_path().is_file()
