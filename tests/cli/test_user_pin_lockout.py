"""PIN strength (issue 11, point 6; SRS-282): 4..8 digits; after 5 wrong PINs
in a row the profile is locked for 15 min on the device's own clock, stored
beside the history so that it survives a restart; a wrong PIN changes no
byte of the history."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import core.cli as cli
import core.users as users
from core.users import PIN_ATTEMPTS_MAX, PIN_LOCKOUT
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
T = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)
READS = [["user", "show", "anna"], ["history", "--user", "anna"], ["course", "--user", "anna", "--no-chart"]]


@pytest.fixture
def clock(monkeypatch):
    now = {"t": T}
    monkeypatch.setattr(users, "_utc_now", lambda: now["t"])
    return now


@pytest.fixture
def anna(tmp_path, capsys) -> Path:
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--pin", "--db", str(db),
               "--now", "2026-11-30T08:00:00Z", stdin="2468\n")[0] == 0
    return db


@pytest.mark.req("SRS-282", "SRS-192")
@pytest.mark.parametrize("digits, ok", [(0, False), (1, False), (3, False), (4, True), (8, True), (9, False)])
def test_a_pin_has_4_to_8_digits(tmp_path, capsys, digits, ok):
    db = tmp_path / "h.sqlite"
    code, _, err = run(capsys, "user", "add", "anna", "--born", "1990", "--pin", "--db", str(db),
                       stdin="7" * digits + "\n")
    assert code == (0 if ok else 1)
    if not ok:
        assert "PIN: must be 4..8 digits (0-9)" in err and not db.exists()


@pytest.mark.req("SRS-282")
@pytest.mark.parametrize("argv", READS)
def test_five_wrong_pins_lock_the_profile_for_15_min(anna, capsys, clock, argv):
    before = digest(anna)
    for n in range(1, PIN_ATTEMPTS_MAX):
        code, out, err = run(capsys, *argv, "--db", str(anna), stdin="1111\n")
        assert code == 1 and out == "" and f"({n} of 5 before a 15 min lockout)" in err
    code, _, err = run(capsys, *argv, "--db", str(anna), stdin="1111\n")
    until = T + PIN_LOCKOUT
    assert code == 1 and f"5 wrong PINs in a row: locked until {until.isoformat(timespec='seconds')}" in err
    # locked: even the right PIN is refused, up to the last second, whatever --now says
    for after in (timedelta(0), timedelta(minutes=14, seconds=59)):
        clock["t"] = T + after
        code, out, err = run(capsys, *argv, "--db", str(anna), stdin="2468\n")
        assert code == 1 and out == "" and "is locked after 5 wrong PINs until" in err
    code, _, err = run(capsys, "course", "--user", "anna", "--no-chart", "--db", str(anna),
                       "--now", "2099-01-01T00:00:00Z", stdin="2468\n")
    assert code == 1 and "is locked" in err
    assert digest(anna) == before                     # the history itself: no byte changed
    clock["t"] = until                                # 15 min later: the right PIN opens it
    assert run(capsys, *argv, "--db", str(anna), stdin="2468\n")[0] == 0
    code, _, err = run(capsys, *argv, "--db", str(anna), stdin="1111\n")
    assert code == 1 and "(1 of 5 before a 15 min lockout)" in err   # a new count


@pytest.mark.req("SRS-282")
def test_the_right_pin_resets_the_count(anna, capsys, clock):
    for _ in range(PIN_ATTEMPTS_MAX - 1):
        run(capsys, "user", "show", "anna", "--db", str(anna), stdin="1111\n")
    assert run(capsys, "user", "show", "anna", "--db", str(anna), stdin="2468\n")[0] == 0
    code, _, err = run(capsys, "user", "show", "anna", "--db", str(anna), stdin="1111\n")
    assert "(1 of 5 before a 15 min lockout)" in err


@pytest.mark.req("SRS-282")
def test_the_lockout_survives_a_restart(anna, capsys):
    import subprocess
    for _ in range(PIN_ATTEMPTS_MAX):
        run(capsys, "user", "show", "anna", "--db", str(anna), stdin="1111\n")
    proc = subprocess.run([sys.executable, "-m", "core.cli", "user", "show", "anna", "--db", str(anna)],
                          cwd=ROOT, input="2468\n", text=True, capture_output=True, timeout=60)
    assert proc.returncode == 1 and "is locked after 5 wrong PINs" in proc.stderr
    assert "Traceback" not in proc.stderr
