"""Findings of the independent review of issue 11 (course, users): the
simulated clock never reaches a real-time session (SRS-195), a removed name
re-added does not start from nothing (SRS-193), the starting polarity is
always shown (SRS-230)."""
from __future__ import annotations

import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import core.cli as cli

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


def run(capsys, *argv, stdin: str = "") -> tuple[int, str, str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = cli.main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def energised(monkeypatch):
    """Counts the devices created, simulated and real-time: a refusal creates none."""
    made: list[str] = []
    for name in ("SimulatedDevice", "RealtimeDevice"):
        real = getattr(cli, name)

        def make(*a, _real=real, _name=name, **k):
            made.append(_name)
            return _real(*a, **k)
        monkeypatch.setattr(cli, name, make)
    return made


# --- 1. --now is a simulated clock: refused with --realtime ------------------------------------
NOW_VALUES = ["2030-01-01T08:00:00Z", "2099-12-31T23:59:59+00:00", "2000-01-01T00:00:00+14:00",
              "2026-12-01T08:00:00+01:00", "2031-06-15T12:00:00-12:00", "not-a-time", "2026-12-01T08:00:00"]


@pytest.mark.req("SRS-195", "SRS-190")
@pytest.mark.parametrize("now", NOW_VALUES)
@pytest.mark.parametrize("runner", [False, True])
def test_now_is_refused_with_realtime_whatever_its_value(tmp_path, capsys, energised, now, runner):
    db = tmp_path / "h.sqlite"
    born = datetime.now(timezone.utc).year - 3      # a child of 3 by the device's own clock
    assert run(capsys, "user", "add", "kid", "--born", str(born), "--db", str(db))[0] == 0
    before = db.read_bytes()
    code, out, err = run(capsys, "session", "--user", "kid", "--site", "hands", "--current", "5",
                         "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--realtime",
                         *(["--runner"] if runner else []), "--now", now, "--json")
    assert code == 1
    assert "--now" in err and "--realtime" in err and "nothing was energised" in err
    assert json.loads(out)["outcome"] == "refused" and json.loads(out)["treat_s"] == 0.0
    assert energised == [] and db.read_bytes() == before


@pytest.mark.req("SRS-195", "SRS-190")
def test_realtime_takes_the_devices_own_clock_for_the_age_check(tmp_path, capsys, energised):
    """The reviewer's case: born 3 years ago by the system clock; without --now
    the real-time session reads the system clock and the age check refuses it."""
    db = tmp_path / "h.sqlite"
    year = datetime.now(timezone.utc).year
    assert run(capsys, "user", "add", "kid", "--born", str(year - 3), "--db", str(db))[0] == 0
    before = db.read_bytes()
    code, _, err = run(capsys, "session", "--user", "kid", "--site", "hands", "--current", "5",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--realtime")
    assert code == 1 and f"{year - 3 + 6}" in err          # first year allowed: the 6th birthday's
    assert energised == [] and db.read_bytes() == before


@pytest.mark.req("SRS-195")
def test_the_help_says_now_is_simulated_and_refused_with_realtime(capsys):
    with pytest.raises(SystemExit):
        cli.main(["session", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "SIMULATED device's wall clock" in text and "Refused with --realtime" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`--now` is refused with `--realtime`" in readme

