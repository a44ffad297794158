"""PR-043: a phase once reached is kept; `course set --hdss`, `user set --hdss`
or a later score never move a maintenance course back; only `ionto course
restart --site S`, confirmed, recorded and shown, does (SRS-279)."""
from __future__ import annotations

import io
import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import core.cli as cli
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
DAYS = [0, 1, 2, 3, 4, 7, 8, 9, 10]     # 9 sessions, at most 5 in 7 days


def course(capsys, db, now) -> dict:
    code, out, _ = run(capsys, "course", "--user", "fay", "--site", "hands", "--db", db, "--json",
                       "--no-chart", "--now", now.isoformat())
    assert code == 0
    return json.loads(out)[0]


@pytest.fixture(scope="module")
def _maintenance_db(tmp_path_factory) -> bytes:
    """The reviewer's case, built once: HDSS 1, 9 sessions -> maintenance."""
    db = str(tmp_path_factory.mktemp("fay") / "h.sqlite")
    assert cli.main(["user", "add", "fay", "--born", "1990", "--hdss", "1", "--sites", "hands",
                     "--db", db, "--now", (T0 - timedelta(hours=1)).isoformat()]) == 0
    for day in DAYS:
        sys.stdin = io.StringIO("")
        try:
            assert cli.main(["session", "--user", "fay", "--site", "hands", "--current", "10",
                             "--minutes", "10", "--checklist", CHECKLIST, "--db", db, "--json",
                             "--now", (T0 + timedelta(days=day)).isoformat()]) == 0
        finally:
            sys.stdin = sys.__stdin__
    return Path(db).read_bytes()


@pytest.fixture
def fay_in_maintenance(_maintenance_db, tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    db.write_bytes(_maintenance_db)
    last = T0 + timedelta(days=DAYS[-1])
    c = course(capsys, str(db), last + timedelta(hours=1))
    assert c["phase"] == "maintenance" and c["sessions_done"] == 9
    return str(db), last


@pytest.mark.req("SRS-279")
@pytest.mark.parametrize("hdss", ["1", "2", "3", "4"])
@pytest.mark.parametrize("how", ["course", "user"])
def test_a_new_severity_keeps_maintenance(fay_in_maintenance, capsys, hdss, how):
    db, last = fay_in_maintenance
    now = last + timedelta(hours=2)
    argv = (["course", "set", "--user", "fay", "--site", "hands", "--hdss", hdss] if how == "course"
            else ["user", "set", "fay", "--hdss", hdss])
    assert run(capsys, *argv, "--db", db, "--now", now.isoformat())[0] == 0
    c = course(capsys, db, now)
    assert c["phase"] == "maintenance" and c["sessions_to_go"] == 0
    assert c["suggestion"]["settings"]["current_ma"] == 10          # no +1 mA in maintenance
    # the 56 h maintenance interval still refuses a session 24 h after the last
    code, _, err = run(capsys, "session", "--user", "fay", "--site", "hands", "--current", "10",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", db,
                       "--now", (last + timedelta(hours=24)).isoformat())
    assert code == 1 and "at least 56 h between maintenance sessions" in err
    assert "next allowed " + (last + timedelta(hours=56)).isoformat(timespec="minutes") in err


@pytest.mark.req("SRS-279")
def test_a_later_score_keeps_maintenance(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "fay", "--born", "1990", "--hdss", "4", "--sites", "hands",
               "--db", db, "--now", (T0 - timedelta(hours=1)).isoformat())[0] == 0
    for day in range(2):           # two sessions scored HDSS 1: normal sweating -> maintenance
        run(capsys, "session", "--user", "fay", "--site", "hands", "--current", "10", "--minutes", "10",
            "--checklist", CHECKLIST, "--db", db, "--now", (T0 + timedelta(days=day)).isoformat())
        assert run(capsys, "course", "score", "--user", "fay", "--session", str(day + 1), "--hdss", "1",
                   "--db", db, "--now", (T0 + timedelta(days=day, hours=1)).isoformat())[0] == 0
    assert course(capsys, db, T0 + timedelta(days=2))["phase"] == "maintenance"
    assert run(capsys, "course", "score", "--user", "fay", "--session", "2", "--hdss", "4", "--db", db,
               "--now", (T0 + timedelta(days=2)).isoformat())[0] == 0
    assert course(capsys, db, T0 + timedelta(days=2))["phase"] == "maintenance"


@pytest.mark.req("SRS-279")
@pytest.mark.parametrize("yes, stdin", [(False, ""), (False, "y\n")])
def test_restart_without_yes_and_no_terminal_is_refused_and_changes_nothing(fay_in_maintenance, capsys,
                                                                            yes, stdin):
    db, last = fay_in_maintenance
    before = Path(db).read_bytes()
    code, _, err = run(capsys, "course", "restart", "--user", "fay", "--site", "hands", "--db", db,
                       "--now", (last + timedelta(hours=3)).isoformat(), stdin=stdin)
    assert code == 1 and "must be confirmed with --yes; nothing was changed" in err
    assert Path(db).read_bytes() == before


@pytest.mark.req("SRS-279")
def test_restart_is_confirmed_recorded_shown_and_counts_only_later_sessions(fay_in_maintenance, capsys):
    db, last = fay_in_maintenance
    at = last + timedelta(hours=3)
    code, out, _ = run(capsys, "course", "restart", "--user", "fay", "--site", "hands", "--yes", "--db", db,
                       "--json", "--now", at.isoformat())
    event = json.loads(out)
    assert code == 0 and event["from_phase"] == "maintenance" and event["sessions_counted"] == 9
    row = sqlite3.connect(db).execute("SELECT kind, at, detail FROM course_events").fetchall()
    assert len(row) == 1 and row[0][0] == "restart" and datetime.fromisoformat(row[0][1]) == at
    c = course(capsys, db, at)
    assert c["phase"] == "initial" and c["sessions_done"] == 0 and c["sessions_to_go"] == 9
    assert c["restarts"][0]["at"] == row[0][1]
    code, out, _ = run(capsys, "course", "--user", "fay", "--site", "hands", "--db", db, "--no-chart",
                       "--now", at.isoformat())
    assert "restarted 2026-12-11T11:00+00:00 from the maintenance phase (confirmed, recorded)" in out
    # the guard still counts the sessions before the restart: 1 a day
    code, _, err = run(capsys, "session", "--user", "fay", "--site", "hands", "--current", "10",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", db, "--now", at.isoformat())
    assert code == 1 and "at most 1 session per site in 24 h" in err
    # a second restart in the initial phase is refused
    code, _, err = run(capsys, "course", "restart", "--user", "fay", "--site", "hands", "--yes", "--db", db,
                       "--now", at.isoformat())
    assert code == 1 and "initial phase already" in err
