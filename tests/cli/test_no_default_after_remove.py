"""Review 3 of issue 11, defect 1: the implied profile "default" exists only
for a history that never had a profile (SRS-191). Removing the only profile
must not let a session without --user start a fresh, unchecked "default"."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
T = datetime.fromisoformat("2026-01-01T07:00:00+00:00")


def at(hours: float) -> str:
    return (T + timedelta(hours=hours)).isoformat()


def session(db, now, *extra):
    return ["session", "--checklist", CHECKLIST, "--db", str(db), "--site", "hands",
            "--current", "10", "--minutes", "10", "--now", now, *extra]


def users(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT name, removed_at IS NOT NULL FROM users ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.req("SRS-191")
@pytest.mark.parametrize("born", [1990, 2023])   # adult, and a child under 5 in 2026
@pytest.mark.parametrize("hours_after", [2, 24 * 30])   # inside and far outside the guard
def test_session_without_user_is_refused_after_removing_the_only_profile(tmp_path, capsys, born,
                                                                          hours_after):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", str(born), "--db", str(db), "--now", at(0))[0] == 0
    if born == 1990:
        assert run(capsys, *session(db, at(1), "--user", "anna"))[0] == 0
    else:   # the child's own session is refused as under 5
        code, _, err = run(capsys, *session(db, at(1), "--user", "anna"))
        assert code == 1 and "5" in err
    assert run(capsys, "user", "remove", "anna", "--db", str(db), "--now", at(1.5))[0] == 0
    before = digest(db)
    code, out, err = run(capsys, *session(db, at(hours_after)))
    assert code == 1
    assert "no active user profile" in err and "anna" in err
    assert "ionto user restore NAME" in err and "ionto user add NAME --born YEAR" in err
    assert "nothing was energised" in err and "completed" not in err + out
    assert digest(db) == before
    assert users(db) == [("anna", 1)]          # no 'default' created


@pytest.mark.req("SRS-191")
def test_a_history_that_never_had_a_profile_still_gets_the_implied_default(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *session(db, at(0)))[0] == 0
    assert users(db) == [("default", 0)]
