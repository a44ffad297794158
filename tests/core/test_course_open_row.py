"""PR-039: a session row with no recorded end (running in another program, or
a crash) locks the device for every user until its start + its session bound;
past the bound it is closed as 'interrupted' by the next session's write
(SRS-278)."""
from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import core.cli as cli
from core.course import FrequencyRefused, check_before_start, open_row_bound_s
from core.history import History
from core.limits import load_limits
from core.settings import parse_settings
from core.users import add_user, find_user
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
UTC = timezone.utc
T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
EXTRA_S = load_limits().session_length_extra_s
S = timedelta(seconds=1)


def open_row(db: Path, name: str, born: int = 1990, **settings) -> int:
    """A user and a session row begun and never ended (begin_session only)."""
    with History(db) as h:
        user = add_user(h, name, born, now=T0 - timedelta(days=1))
        h.user_id = user.user_id
        data = {"site": "hands", "current_ma": 10, "minutes": 10, **settings}
        return h.begin_session(parse_settings(data), started_at=T0.isoformat())


@pytest.mark.req("SRS-278")
@pytest.mark.parametrize("minutes", [10, 20, 30])
@pytest.mark.parametrize("up_s, down_s", [(10, 10), (30, 30), (120, 120), (10, 120)])
@pytest.mark.parametrize("reversal", [False, True])
def test_the_bound_is_set_time_ramps_extra_and_a_ramp_down(minutes, up_s, down_s, reversal):
    settings = {"minutes": minutes, "ramp_up_s": up_s, "ramp_down_s": down_s, "reverse_polarity": reversal}
    ramps = (2 if reversal else 1) * (up_s + down_s)
    assert open_row_bound_s(settings) == minutes * 60 + ramps + EXTRA_S + down_s
    # unreadable or missing values count at their maxima (30 min, 120 s, reversal)
    assert open_row_bound_s({}) == 30 * 60 + 2 * 240 + EXTRA_S + 120
    assert open_row_bound_s({"minutes": "x", "ramp_up_s": True}) == open_row_bound_s({})


@pytest.mark.req("SRS-278")
@pytest.mark.parametrize("minutes", [10, 30])
@pytest.mark.parametrize("up_s, down_s", [(10, 10), (120, 120)])
@pytest.mark.parametrize("reversal", [False, True])
@pytest.mark.parametrize("other_site", ["hands", "feet"])
def test_any_user_is_refused_until_the_open_rows_bound(tmp_path, minutes, up_s, down_s, reversal, other_site):
    db = tmp_path / "h.sqlite"
    sid = open_row(db, "carl", minutes=minutes, ramp_up_s=up_s, ramp_down_s=down_s,
                   reverse_polarity=reversal)
    until = T0 + timedelta(seconds=open_row_bound_s({"minutes": minutes, "ramp_up_s": up_s,
                                                      "ramp_down_s": down_s, "reverse_polarity": reversal}))
    with History(db) as h:
        dora = add_user(h, "dora", 1985, now=T0 - timedelta(days=1))
        carl = find_user(h, "carl")
        for who in (dora, carl):        # any user, the open row's own included
            own_site = who is carl and other_site == "hands"   # there the 24 h guard speaks first
            for now in (T0, T0 + 5 * 60 * S, until - S, until - timedelta(milliseconds=1)):
                with pytest.raises(FrequencyRefused) as exc:
                    check_before_start(h, who, other_site, now)
                msg = str(exc.value)
                if own_site:
                    assert "at most 1 session per site in 24 h" in msg
                    continue
                assert f"session {sid} (user 'carl', hands, started {T0.isoformat()})" in msg
                assert f"next allowed {until.isoformat(timespec='seconds')} " in msg
                assert "nothing was energised" in msg
            if not own_site:
                check_before_start(h, who, other_site, until)    # exactly the bound: allowed


@pytest.fixture
def energised(monkeypatch):
    made: list[str] = []
    real = cli.SimulatedDevice

    def make(*a, **k):
        made.append("sim")
        return real(*a, **k)
    monkeypatch.setattr(cli, "SimulatedDevice", make)
    return made


@pytest.mark.req("SRS-278", "SRS-195")
def test_the_reviewers_case_dora_at_15_05_is_refused_and_the_crash_row_is_closed_later(
        tmp_path, capsys, energised):
    db = tmp_path / "h.sqlite"
    sid = open_row(db, "carl")        # 10 min, ramps 30 s / 30 s, reversal as default
    with History(db) as h:
        add_user(h, "dora", 1985, now=T0 - timedelta(days=1))
    until = T0 + timedelta(seconds=open_row_bound_s(json.loads(
        sqlite3.connect(db).execute("SELECT settings FROM sessions").fetchone()[0])))
    session = ["--site", "feet", "--current", "10", "--minutes", "10", "--checklist", CHECKLIST,
               "--db", str(db), "--json"]
    before = db.read_bytes()
    for when in (T0 + 5 * 60 * S, until - S):
        code, out, err = run(capsys, "session", "--user", "dora", *session, "--now", when.isoformat())
        assert code == 1 and json.loads(out)["outcome"] == "refused"
        assert f"session {sid} (user 'carl', hands, started" in err and "nothing was energised" in err
        assert db.read_bytes() == before
    assert energised == []
    code, out, _ = run(capsys, "session", "--user", "dora", *session, "--now", until.isoformat())
    assert code == 0 and json.loads(out)["outcome"] == "completed"
    row = sqlite3.connect(db).execute("SELECT outcome, ended_at, end_reason, counts FROM sessions"
                                      " WHERE id = ?", (sid,)).fetchone()
    assert row[0] == "interrupted" and row[2] == "no_end_recorded"
    assert datetime.fromisoformat(row[1]) == until
    assert json.loads(row[3]) == {"closed_at": until.isoformat(timespec="milliseconds")}
