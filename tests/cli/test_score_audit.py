"""Review 3 of issue 11, defect 4 (SRS-198): a later score for the same
session never erases an earlier one; a discomfort in ANY score of the last
session keeps the current (no +1 mA); `ionto course` shows every score."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
T = datetime.fromisoformat("2026-01-01T08:00:00+00:00")


def at(minutes: float) -> str:
    return (T + timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def bob(tmp_path, capsys) -> str:
    db = str(tmp_path / "s.sqlite")
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--db", db, "--now", at(0))[0] == 0
    assert run(capsys, "session", "--user", "bob", "--site", "feet", "--current", "12", "--minutes", "10",
               "--checklist", CHECKLIST, "--db", db, "--now", at(1))[0] == 0
    return db


def course(capsys, db: str, minutes: float) -> tuple[dict, str]:
    code, out, _ = run(capsys, "course", "--user", "bob", "--site", "feet", "--no-chart", "--json",
                       "--db", db, "--now", at(minutes))
    assert code == 0
    code, text, _ = run(capsys, "course", "--user", "bob", "--site", "feet", "--no-chart",
                        "--db", db, "--now", at(minutes))
    return json.loads(out)[0], text


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("pattern", [(True, False), (True, False, False), (False, True, False),
                                     (False, False, True), (True, True)])
def test_a_discomfort_in_any_score_keeps_the_current(bob, capsys, pattern):
    for i, discomfort in enumerate(pattern):
        argv = ["course", "score", "--user", "bob", "--session", "1", "--hdss", str(2 + i % 2),
                "--db", bob, "--now", at(70 + 20 * i)] + (["--discomfort"] if discomfort else [])
        assert run(capsys, *argv)[0] == 0
    status, text = course(capsys, bob, 200)
    assert status["suggestion"]["settings"]["current_ma"] == 12
    assert "discomfort reported" in status["suggestion"]["reason"]
    given = status["sessions"][-1]["scores"]
    assert [g["discomfort"] for g in given] == list(pattern)        # every score kept, in order
    assert [g["hdss"] for g in given] == [2 + i % 2 for i in range(len(pattern))]
    assert status["sessions"][-1]["hdss"] == 2 + (len(pattern) - 1) % 2   # the latest counts for the phase
    assert text.count("HDSS ") == len(pattern) and "with discomfort" in text
    con = sqlite3.connect(bob)
    kept = con.execute("SELECT COUNT(*) FROM scores").fetchone()[0] + \
        con.execute("SELECT COUNT(*) FROM scores_superseded").fetchone()[0]
    con.close()
    assert kept == len(pattern)


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("count", [1, 2, 3])
def test_without_any_discomfort_the_raise_stays(bob, capsys, count):
    for i in range(count):
        assert run(capsys, "course", "score", "--user", "bob", "--session", "1", "--hdss", "2",
                   "--db", bob, "--now", at(70 + 20 * i))[0] == 0
    status, _ = course(capsys, bob, 200)
    assert status["suggestion"]["settings"]["current_ma"] == 13
    assert len(status["sessions"][-1]["scores"]) == count
