"""PR-041: a refused command never creates or upgrades the history, and the
read commands (ionto history, ionto course, ionto user list/show) open it
read-only (SQLite mode=ro): a version-1 file is left byte for byte, with a
message that the next writing command upgrades it; a 0-byte file is an error
(SRS-281). Every case compares the file's SHA-256 before and after."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

import core.cli as cli
from core.history import _SESSIONS_V1
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
NOW = "2026-12-01T08:00:00Z"


def v1_db(path: Path, n: int = 2) -> Path:
    db = sqlite3.connect(path)
    db.executescript(_SESSIONS_V1)
    for i in range(n):
        db.execute("INSERT INTO sessions (settings, site, current_ma, minutes, started_at, ended_at, outcome,"
                   " treat_s, delivered_mamin, max_current_ma) VALUES (?, 'hands', 10, 10, ?, ?, 'completed',"
                   " 600, 100, 10)", (json.dumps({"site": "hands", "current_ma": 10, "minutes": 10}),
                                      f"2025-01-0{i + 1}T08:00:00.000+00:00", f"2025-01-0{i + 1}T08:11:00.000+00:00"))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    return path


@pytest.fixture
def energised(monkeypatch):
    made: list[str] = []
    real = cli.SimulatedDevice

    def make(*a, **k):
        made.append("sim")
        return real(*a, **k)
    monkeypatch.setattr(cli, "SimulatedDevice", make)
    return made


BAD = {"--current 40": ["--current", "40", "--minutes", "10"],
       "--current 0": ["--current", "0", "--minutes", "10"],
       "--current 25.01": ["--current", "25.01", "--minutes", "10"],
       "--minutes 9": ["--current", "10", "--minutes", "9"],
       "--minutes 31": ["--current", "10", "--minutes", "31"],
       "--ramp-up 5": ["--current", "10", "--minutes", "10", "--ramp-up", "5"],
       "--ramp-down 121": ["--current", "10", "--minutes", "10", "--ramp-down", "121"]}


@pytest.mark.req("SRS-281")
@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("kind", ["v1", "missing", "empty"])
def test_a_refused_session_neither_creates_nor_upgrades_the_history(tmp_path, capsys, energised, bad, kind):
    db = tmp_path / "h.sqlite"
    if kind == "v1":
        v1_db(db)
    elif kind == "empty":
        db.write_bytes(b"")
    before = digest(db)
    code, out, err = run(capsys, "session", "--site", "hands", *BAD[bad], "--checklist", CHECKLIST,
                         "--db", str(db), "--json", "--now", NOW)
    option = bad.split()[0]
    assert code == 1 and json.loads(out)["outcome"] == "refused"
    assert option in err and "allowed" in err
    assert digest(db) == before and energised == []


READS = {"history": ["history"], "history --json": ["history", "--json"],
         "course": ["course", "--no-chart"], "course --json": ["course", "--json", "--no-chart"],
         "user list": ["user", "list"], "user show": ["user", "show", "default"]}


@pytest.mark.req("SRS-281", "SRS-200")
@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_leaves_a_version_1_history_byte_for_byte_and_says_what_upgrades_it(tmp_path, capsys, read):
    db = v1_db(tmp_path / "v1.sqlite")
    before = digest(db)
    code, out, err = run(capsys, *READS[read], "--db", str(db))
    assert code == 1 and "schema version 1; a read does not upgrade it" in err
    assert "the next command that writes the history (ionto session, ionto user add) upgrades it" in err
    assert digest(db) == before and sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1
    # the next writing command upgrades it, every session kept
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", NOW)[0] == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2


@pytest.mark.req("SRS-281")
@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_of_a_0_byte_file_is_an_error_and_leaves_it_empty(tmp_path, capsys, read):
    db = tmp_path / "zero.sqlite"
    db.write_bytes(b"")
    code, out, err = run(capsys, *READS[read], "--db", str(db))
    assert code == 1 and "empty (0 bytes, no tables): not an ionto history" in err
    assert db.read_bytes() == b""


@pytest.mark.req("SRS-281")
@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_of_a_missing_file_creates_nothing(tmp_path, capsys, read):
    db = tmp_path / "missing.sqlite"
    code, out, err = run(capsys, *READS[read], "--db", str(db))
    if read.startswith("history"):      # SRS-087: "no sessions recorded", exit 0
        assert code == 0 and ("does not exist" in out or json.loads(out) == [])
    else:
        assert code == 1 and "does not exist" in err
    assert not db.exists()


@pytest.mark.req("SRS-281")
@pytest.mark.parametrize("read", sorted(READS))
def test_a_read_of_a_current_history_changes_no_byte(tmp_path, capsys, read):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "default", "--born", "1990", "--db", str(db), "--now", NOW)[0] == 0
    assert run(capsys, "session", "--site", "hands", "--current", "10", "--minutes", "10", "--checklist",
               CHECKLIST, "--db", str(db), "--now", NOW)[0] == 0
    before = digest(db)
    code, out, err = run(capsys, *READS[read], "--db", str(db), *(["--now", "2026-12-02T08:00:00Z"]
                                                                  if read.startswith("course") else []))
    assert code == 0, err
    assert digest(db) == before
