"""Review 3 of issue 11, defect 8 (SRS-197): `user set NAME --hdss N` gives
the user's courses still in the initial phase the new target, as `course set
--site S --hdss N` does; a course in maintenance stays there."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
TARGET = {1: 9, 2: 12, 3: 15, 4: 18}


def targets(capsys, db) -> dict[str, tuple[int, str]]:
    code, out, _ = run(capsys, "course", "--user", "hal", "--db", db, "--json", "--no-chart",
                       "--now", "2026-01-10T08:00:00+00:00")
    assert code == 0
    return {c["site"]: (c["target_sessions"], c["phase"]) for c in json.loads(out)}


def hal(capsys, db, first: int) -> None:
    assert run(capsys, "user", "add", "hal", "--born", "1990", "--hdss", str(first), "--sites", "hands,feet",
               "--db", db, "--now", "2026-01-01T07:00:00+00:00")[0] == 0
    assert run(capsys, "session", "--user", "hal", "--site", "hands", "--current", "10", "--minutes", "10",
               "--checklist", CHECKLIST, "--db", db, "--now", "2026-01-01T08:00:00+00:00")[0] == 0


@pytest.mark.req("SRS-197")
@pytest.mark.parametrize("first", [1, 2, 3, 4])
@pytest.mark.parametrize("new", [1, 2, 3, 4])
def test_user_set_and_course_set_give_the_same_target(tmp_path, capsys, first, new):
    via_user, via_course = str(tmp_path / "u.sqlite"), str(tmp_path / "c.sqlite")
    hal(capsys, via_user, first)
    hal(capsys, via_course, first)
    code, out, _ = run(capsys, "user", "set", "hal", "--hdss", str(new), "--db", via_user,
                       "--now", "2026-01-02T08:00:00+00:00")
    assert code == 0 and f"HDSS {new}; course hands: target {TARGET[new]} sessions" in out
    for site in ("hands", "feet"):
        assert run(capsys, "course", "set", "--user", "hal", "--site", site, "--hdss", str(new),
                   "--db", via_course, "--now", "2026-01-02T08:00:00+00:00")[0] == 0
    assert targets(capsys, via_user) == targets(capsys, via_course) == {
        "hands": (TARGET[new], "initial"), "feet": (TARGET[new], "initial")}


@pytest.mark.req("SRS-197", "SRS-279")
def test_a_course_in_maintenance_stays_there(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    hal(capsys, db, 1)
    for day in range(2, 10):   # 9 sessions in all, one a day, at most 5 in 7 days
        now = f"2026-01-{day + (day > 5) * 2:02d}T08:00:00+00:00"
        assert run(capsys, "session", "--user", "hal", "--site", "hands", "--current", "10", "--minutes", "10",
                   "--checklist", CHECKLIST, "--db", db, "--now", now)[0] == 0, now
    code, out, _ = run(capsys, "course", "--user", "hal", "--site", "hands", "--db", db, "--json",
                       "--no-chart", "--now", "2026-01-30T08:00:00+00:00")
    assert json.loads(out)[0]["phase"] == "maintenance"
    code, out, _ = run(capsys, "user", "set", "hal", "--hdss", "4", "--db", db, "--json",
                       "--now", "2026-01-30T08:00:00+00:00")
    assert code == 0 and json.loads(out)["courses_retargeted"] == []
    code, out, _ = run(capsys, "course", "--user", "hal", "--site", "hands", "--db", db, "--json",
                       "--no-chart", "--now", "2026-01-30T08:00:00+00:00")
    assert json.loads(out)[0]["phase"] == "maintenance"
