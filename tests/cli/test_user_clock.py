"""PR-040: every command that writes the history checks the clock like
`ionto session` (SRS-280): no time before the last recorded event, the years
and UTC offsets of --now; and the profile to restore is chosen by its
sessions, never by a (typed) removal time."""
from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import core.cli as cli
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
T = datetime.fromisoformat("2026-06-01T10:00:00+00:00")


def at(hours: float) -> str:
    return (T + timedelta(hours=hours)).isoformat()


def session(db, user, now):
    return ["session", "--user", user, "--site", "hands", "--current", "10", "--minutes", "10",
            "--checklist", CHECKLIST, "--db", str(db), "--json", "--now", now]


@pytest.mark.req("SRS-280", "SRS-193")
def test_the_reviewers_sequence_is_refused(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    assert run(capsys, "user", "remove", "anna", "--db", str(db), "--now", "2099-01-01T00:00:00Z")[0] == 0
    before = digest(db)
    for now in (at(1), "2098-12-31T23:59:59Z"):   # any time before the recorded removal
        code, _, err = run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", now)
        assert code == 1 and "earlier than the last recorded event (profile 1 removed, 2099-01-01" in err
        assert "nothing was changed" in err and digest(db) == before
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db),
               "--now", "2099-01-01T00:00:00Z")[0] == 0        # at the event itself: allowed


@pytest.fixture
def annas(tmp_path, capsys) -> Path:
    """anna #1 without sessions, anna #2 with one session, both removed; then
    #1's removal time typed far later than #2's (the review's trap)."""
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    assert run(capsys, "user", "remove", "anna", "--db", str(db), "--now", at(1))[0] == 0
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(2))[0] == 0
    assert run(capsys, *session(db, "anna", at(3)))[0] == 0
    assert run(capsys, "user", "remove", "anna", "--db", str(db), "--now", at(4))[0] == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE users SET removed_at = '2030-01-01T00:00:00.000+00:00' WHERE id = 1")
    con.commit()
    con.close()
    return db


@pytest.mark.req("SRS-280", "SRS-193")
def test_restore_picks_the_profile_with_sessions_not_the_latest_removal(annas, capsys):
    now = "2030-01-02T00:00:00Z"
    code, _, err = run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(annas), "--now", now)
    assert code == 1 and "a removed profile 'anna' with 1 sessions exists" in err
    code, out, _ = run(capsys, "user", "restore", "anna", "--db", str(annas), "--json", "--now", now)
    assert code == 0 and json.loads(out) == {"name": "anna", "restored": True, "sessions": 1}
    rows = sqlite3.connect(annas).execute("SELECT id, removed_at FROM users ORDER BY id").fetchall()
    assert rows[0][1] is not None and rows[1] == (2, None)        # #2, the one with the session
    code, _, err = run(capsys, *session(annas, "anna", "2030-01-02T01:00:00Z"))
    assert code == 0                                                # the restored profile is usable


@pytest.mark.req("SRS-280", "SRS-193")
def test_of_several_with_sessions_the_one_with_the_latest_session_is_restored(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    for k, hours in enumerate((0, 48)):     # two profiles 'anna', each with one session
        assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(hours))[0] == 0
        assert run(capsys, *session(db, "anna", at(hours + 1)))[0] == 0
        assert run(capsys, "user", "remove", "anna", "--db", str(db), "--now", at(hours + 2))[0] == 0
        if k == 0:   # make room for a second profile of the name (as an older ionto allowed)
            con = sqlite3.connect(db)
            con.execute("UPDATE users SET name_key = 'anna-old' WHERE id = 1")
            con.commit()
            con.close()
    con = sqlite3.connect(db)
    con.execute("UPDATE users SET name_key = 'anna'")
    con.execute("UPDATE users SET removed_at = '2030-01-01T00:00:00.000+00:00' WHERE id = 1")
    con.commit()
    con.close()
    code, out, _ = run(capsys, "user", "restore", "anna", "--db", str(db), "--json",
                       "--now", "2030-01-02T00:00:00Z")
    assert code == 0
    rows = sqlite3.connect(db).execute("SELECT id, removed_at FROM users ORDER BY id").fetchall()
    assert rows[1] == (2, None) and rows[0][1] is not None          # the latest session's profile


WRITES = {
    "user add": ["user", "add", "ben", "--born", "1980"],
    "user set": ["user", "set", "anna", "--hdss", "2"],
    "user remove": ["user", "remove", "anna"],
    "course score": ["course", "score", "--user", "anna", "--session", "1", "--hdss", "2"],
    "course set": ["course", "set", "--user", "anna", "--site", "hands", "--per-month", "3"],
    "course restart": ["course", "restart", "--user", "anna", "--site", "hands", "--yes"],
}


@pytest.mark.req("SRS-280", "SRS-195")
@pytest.mark.parametrize("command", sorted(WRITES))
@pytest.mark.parametrize("back_s", [1, 3600, 86400 * 365])
def test_every_writing_command_refuses_a_clock_before_the_last_event(tmp_path, capsys, command, back_s):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    assert run(capsys, *session(db, "anna", at(1)))[0] == 0
    ended = datetime.fromisoformat(sqlite3.connect(db).execute("SELECT ended_at FROM sessions").fetchone()[0])
    before = digest(db)
    code, _, err = run(capsys, *WRITES[command], "--db", str(db),
                       "--now", (ended - timedelta(seconds=back_s)).isoformat())
    assert code == 1 and "earlier than the last recorded event (session 1 end" in err
    assert "nothing was changed" in err and digest(db) == before


@pytest.mark.req("SRS-280", "SRS-195")
def test_user_restore_refuses_a_clock_before_the_last_event(annas, capsys):
    before = digest(annas)
    code, _, err = run(capsys, "user", "restore", "anna", "--db", str(annas), "--now", at(5))
    assert code == 1 and "earlier than the last recorded event (profile 1 removed, 2030-01-01" in err
    assert digest(annas) == before


BAD_NOW = {"1999-12-31T23:59:59Z": "outside the allowed range 2000-01-01 .. 2099-12-31 (UTC)",
           "2100-01-01T00:00:00Z": "outside the allowed range 2000-01-01 .. 2099-12-31 (UTC)",
           "2026-06-01T10:00:00+14:30": "allowed -12:00 .. +14:00",
           "2026-06-01T10:00:00-12:30": "allowed -12:00 .. +14:00",
           "2026-06-01T10:00:00": "not an ISO 8601 time with a time zone",
           "tomorrow": "not an ISO 8601 time with a time zone"}


@pytest.mark.req("SRS-280", "SRS-195")
@pytest.mark.parametrize("command", sorted(WRITES) + ["user restore"])
@pytest.mark.parametrize("now", sorted(BAD_NOW))
def test_every_writing_command_checks_the_range_of_now(tmp_path, capsys, command, now):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", at(0))[0] == 0
    before = digest(db)
    argv = WRITES.get(command, ["user", "restore", "anna"])
    code, _, err = run(capsys, *argv, "--db", str(db), "--now", now)
    assert code == 1 and "--now:" in err and BAD_NOW[now] in err and digest(db) == before
