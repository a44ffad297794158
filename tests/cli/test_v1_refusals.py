"""PR-041 (review 3 of issue 11, defects 5 and 6): a version-1 history is
migrated only in the transaction of the command's first successful write;
every refused command leaves its bytes unchanged (sha256 before/after), and
the migrated profile 'default' is stamped with the command's clock (--now)."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from core.history import _SESSIONS_V1
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


@pytest.fixture(scope="module")
def v1_orig(tmp_path_factory) -> Path:
    """As the review's mkv1.py: two completed hands sessions, 2026-03-01/02 07:00Z."""
    path = tmp_path_factory.mktemp("v1") / "v1.orig"
    db = sqlite3.connect(path)
    db.executescript(_SESSIONS_V1)
    for day, current in ((1, 15), (2, 16)):
        settings = {"site": "hands", "current_ma": current, "minutes": 20, "ramp_up_s": 30.0,
                    "ramp_down_s": 30.0, "reverse_polarity": False}
        db.execute("INSERT INTO sessions (settings, site, current_ma, minutes, started_at, ended_at,"
                   " outcome, treat_s, delivered_mamin, max_current_ma, states) VALUES"
                   " (?,?,?,?,?,?,?,?,?,?,?)",
                   (json.dumps(settings), "hands", current, 20, f"2026-03-0{day}T07:00:00.000+00:00",
                    f"2026-03-0{day}T07:21:00.000+00:00", "completed", 1200, 300, float(current),
                    '["idle","treat","idle"]'))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def session(db, *extra, checklist=CHECKLIST):
    return ["session", "--checklist", checklist, "--db", str(db), *extra]


def refusals(tmp_path: Path) -> list[tuple[str, list[str], str]]:
    bad = tmp_path / "bad.yaml"
    bad.write_text("contraindications: {pacemaker: false}\n")
    return [
        ("frequency guard", session(tmp_path / "t.sqlite", "--site", "hands", "--current", "16", "--minutes",
                                    "20", "--now", "2026-03-02T12:00:00+00:00"), "frequency guard"),
        ("unknown user", session(tmp_path / "t.sqlite", "--user", "nobody", "--site", "hands", "--current",
                                 "10", "--minutes", "10", "--now", "2026-03-05T08:00:00+00:00"), "nobody"),
        ("bad checklist", session(tmp_path / "t.sqlite", "--site", "feet", "--current", "10", "--minutes", "10",
                                  "--now", "2026-03-05T08:05:00+00:00", checklist=str(bad)), "--checklist"),
        ("clock backwards", session(tmp_path / "t.sqlite", "--site", "feet", "--current", "10", "--minutes",
                                    "10", "--now", "2026-02-05T12:00:00+00:00"), "clock"),
        ("unknown session id", ["course", "score", "--db", str(tmp_path / "t.sqlite"), "--session", "99",
                                "--hdss", "2", "--now", "2026-03-05T08:00:00+00:00"], "no session 99"),
        ("unknown user on remove", ["user", "remove", "nobody", "--db", str(tmp_path / "t.sqlite"),
                                    "--now", "2026-03-05T08:00:00+00:00"], "nobody"),
        ("clock on user add", ["user", "add", "y", "--born", "1990", "--db", str(tmp_path / "t.sqlite"),
                               "--now", "2026-03-01T12:00:00+00:00"], "clock"),
        ("clock on course set", ["course", "set", "--site", "hands", "--per-month", "3", "--db",
                                 str(tmp_path / "t.sqlite"), "--now", "2026-02-01T12:00:00+00:00"], "clock"),
    ]


CASES = ["frequency guard", "unknown user", "bad checklist", "clock backwards", "unknown session id",
         "unknown user on remove", "clock on user add", "clock on course set"]


@pytest.mark.req("SRS-281", "SRS-200")
@pytest.mark.parametrize("case", CASES)
def test_every_refusal_leaves_a_version_1_file_unchanged(tmp_path, capsys, v1_orig, case):
    db = tmp_path / "t.sqlite"
    shutil.copyfile(v1_orig, db)
    before = sha(db)
    _, argv, words = next(c for c in refusals(tmp_path) if c[0] == case)
    code, out, err = run(capsys, *argv)
    assert code == 1 and words in err and "Traceback" not in err
    assert sha(db) == before
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()


@pytest.mark.req("SRS-200")
@pytest.mark.parametrize("now", ["2026-03-03T08:00:00+00:00", "2026-06-30T23:59:00+02:00",
                                 "2027-01-01T00:00:00+00:00"])
def test_the_first_write_migrates_with_the_commands_clock(tmp_path, capsys, v1_orig, now):
    db = tmp_path / "t.sqlite"
    shutil.copyfile(v1_orig, db)
    assert run(capsys, *session(db, "--site", "feet", "--current", "10", "--minutes", "10",
                                "--now", now))[0] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    created = con.execute("SELECT created_at FROM users WHERE name = 'default'").fetchone()[0]
    owners = con.execute("SELECT DISTINCT user_id FROM sessions").fetchall()
    con.close()
    from datetime import datetime
    assert datetime.fromisoformat(created) == datetime.fromisoformat(now)   # not the system clock
    assert owners == [(1,)]
    # a later write with a --now after that one is not refused by the migration's stamp
    later = datetime.fromisoformat(now).replace(microsecond=0)
    from datetime import timedelta
    code, _, err = run(capsys, "user", "add", "z", "--born", "1990", "--db", str(db),
                       "--now", (later + timedelta(days=1)).isoformat())
    assert code == 0, err


@pytest.mark.req("SRS-200")
def test_user_add_is_a_first_write_too(tmp_path, capsys, v1_orig):
    db = tmp_path / "t.sqlite"
    shutil.copyfile(v1_orig, db)
    assert run(capsys, "user", "add", "y", "--born", "1990", "--db", str(db),
               "--now", "2026-03-04T08:00:00+00:00")[0] == 0
    con = sqlite3.connect(db)
    rows = con.execute("SELECT name, created_at FROM users ORDER BY id").fetchall()
    con.close()
    assert rows == [("default", "2026-03-04T08:00:00.000+00:00"), ("y", "2026-03-04T08:00:00.000+00:00")]
