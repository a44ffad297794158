"""The course's remaining rules on the history directly (core/course.py): the
admission under the write lock for an implied or too young user (SRS-190,
SRS-191, SRS-196), open rows with damaged settings and rows not yet past
their bound (SRS-278), a restart refused in the initial phase (SRS-279), the
suggestion after a session shorter than 10 min or with unreadable settings
(SRS-198), a damaged restart record (SRS-279)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from core.course import (FrequencyRefused, admission, close_stale_open_rows, course_status,
                         open_row_bound_s, restart_course, restarts)
from core.history import History
from core.limits import load_limits
from core.settings import parse_settings
from core.users import add_user, find_user, remove_user

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LIM = load_limits().settings


def settings(site="hands", current=10.0, minutes=10):
    return parse_settings({"site": site, "current_ma": current, "minutes": minutes})


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        yield h


def begin(h: History, user, start: datetime, admit=None) -> int:
    h.admit = admit
    if user is not None:
        h.user_id = user.user_id
    return h.begin_session(settings(), started_at=start.isoformat())


# --- admission (SRS-190, SRS-191, SRS-196) ----------------------------------------------
@pytest.mark.req("SRS-190", "SRS-196")
def test_a_user_too_young_on_the_session_date_is_refused_under_the_write_lock(hist):
    kid = add_user(hist, "kid", 2022, now=T0)
    with pytest.raises(FrequencyRefused, match=r"user 'kid' \(born 2022\) may be under 5 years on "
                                               r"2026-12-01: .*\(allowed from 2028\); nothing was energised"):
        begin(hist, kid, T0, admission(kid, "hands", lambda: T0))
    assert hist.query("SELECT COUNT(*) FROM sessions")[0][0] == 0


@pytest.mark.req("SRS-191", "SRS-196")
def test_an_existing_default_profile_is_the_implied_user(hist):
    default = add_user(hist, "default", None, now=T0)
    sid = begin(hist, None, T0, admission(None, "hands", lambda: T0))
    assert hist.query("SELECT user_id FROM sessions WHERE id = ?", (sid,))[0][0] == default.user_id
    assert hist.query("SELECT COUNT(*) FROM users")[0][0] == 1     # none created beside it


@pytest.mark.req("SRS-191", "SRS-196")
def test_without_user_a_history_with_profiles_is_refused_and_no_default_is_made(hist):
    add_user(hist, "anna", 1990, now=T0)
    with pytest.raises(FrequencyRefused, match=r"--user: .*h\.sqlite has user profiles now; give --user NAME"):
        begin(hist, None, T0, admission(None, "hands", lambda: T0))
    assert find_user(hist, "default") is None
    assert hist.query("SELECT COUNT(*) FROM sessions")[0][0] == 0


@pytest.mark.req("SRS-191", "SRS-196")
def test_without_user_a_history_with_only_removed_profiles_is_refused_naming_them(hist):
    remove_user(hist, add_user(hist, "anna", 1990, now=T0), T0)
    with pytest.raises(FrequencyRefused, match=r"only removed ones \(anna\); .*`ionto user restore NAME`.*"
                                               r"`ionto user add NAME --born YEAR`"):
        begin(hist, None, T0 + timedelta(hours=1), admission(None, "hands", lambda: T0 + timedelta(hours=1)))
    assert find_user(hist, "default") is None
    assert hist.query("SELECT COUNT(*) FROM sessions")[0][0] == 0


# --- open rows (SRS-278) -----------------------------------------------------------------
@pytest.mark.req("SRS-278")
@pytest.mark.parametrize("stored", ["not json {", "[1, 2]", "null"])
def test_an_open_row_with_unreadable_settings_counts_at_the_longest_bound(hist, stored):
    anna = add_user(hist, "anna", 1990, now=T0 - timedelta(days=1))
    sid = begin(hist, anna, T0)
    hist.write("UPDATE sessions SET settings = ? WHERE id = ?", (stored, sid))
    longest_s = open_row_bound_s({})
    assert longest_s == (LIM.minutes.max * 60 + 2 * (LIM.ramp_up_s.max + LIM.ramp_down_s.max)
                         + load_limits().session_length_extra_s + LIM.ramp_down_s.max)
    just_before = T0 + timedelta(seconds=longest_s) - timedelta(milliseconds=1)
    assert close_stale_open_rows(hist, just_before) == []          # still within its bound: kept open
    assert hist.query("SELECT ended_at FROM sessions WHERE id = ?", (sid,))[0][0] is None
    assert close_stale_open_rows(hist, T0 + timedelta(seconds=longest_s)) == [sid]
    ended, outcome, reason = hist.query("SELECT ended_at, outcome, end_reason FROM sessions WHERE id = ?",
                                        (sid,))[0]
    assert (outcome, reason) == ("interrupted", "no_end_recorded")
    assert datetime.fromisoformat(ended) == T0 + timedelta(seconds=longest_s)


# --- restart (SRS-279) -------------------------------------------------------------------
@pytest.mark.req("SRS-279")
def test_a_restart_in_the_initial_phase_is_refused_and_nothing_is_recorded(hist):
    anna = add_user(hist, "anna", 1990, now=T0)
    with pytest.raises(ValueError, match=re.escape(
            "--site: the course of user 'anna' at hands is in the initial phase already; nothing to "
            "restart; nothing was changed")):
        restart_course(hist, anna, "hands", T0)
    assert restarts(hist, anna, "hands") == []


@pytest.mark.req("SRS-279")
@pytest.mark.parametrize("detail, shown", [("not json {", {}), ("[1]", {}),
                                           ('{"from_phase": "maintenance"}', {"from_phase": "maintenance"})])
def test_a_damaged_restart_record_still_shows_its_time(hist, detail, shown):
    anna = add_user(hist, "anna", 1990, now=T0)
    hist.ensure_table("course_events")
    hist.write("INSERT INTO course_events (user_id, site, kind, at, detail) VALUES (?, 'hands', 'restart', ?, ?)",
               (anna.user_id, T0.isoformat(), detail))
    assert restarts(hist, anna, "hands") == [{"at": T0.isoformat(), **shown}]


# --- the suggestion (SRS-198) --------------------------------------------------------------
def _ended(h: History, sid: int, start: datetime, treat_s: float, current=10.0) -> None:
    h.end_session(sid, "completed", treat_s=treat_s, delivered_mamin=current * treat_s / 60,
                  max_current_ma=current, faults=[], ended_at=(start + timedelta(seconds=treat_s + 60)).isoformat(),
                  counts={"treat_delivered_mAmin": current * treat_s / 60, "treat_in_band_s": treat_s})


@pytest.mark.req("SRS-198")
def test_a_completed_session_held_at_its_current_but_shorter_than_10_min_gives_no_raise(hist):
    anna = add_user(hist, "anna", 1990, now=T0)
    sid = begin(hist, anna, T0)
    # 590 s of 600: 98 % of set time and charge at the set current, but under 10 min
    _ended(hist, sid, T0, 590.0)
    sug = course_status(hist, anna, "hands", T0 + timedelta(days=1)).suggestion
    assert sug["settings"]["current_ma"] == 10.0
    assert sug["reason"] == "last session shorter than 10 min: last current kept"


@pytest.mark.req("SRS-198", "SRS-277")
@pytest.mark.parametrize("field, value", [("current_ma", "ten"), ("current_ma", None), ("site", "nose")])
def test_a_last_session_with_unreadable_settings_gives_no_suggestion(hist, field, value):
    anna = add_user(hist, "anna", 1990, now=T0)
    sid = begin(hist, anna, T0)
    _ended(hist, sid, T0, 600.0)
    stored = json.loads(hist.query("SELECT settings FROM sessions WHERE id = ?", (sid,))[0][0])
    stored[field] = value
    hist.write("UPDATE sessions SET settings = ? WHERE id = ?", (json.dumps(stored), sid))
    site = "nose" if field == "site" else "hands"
    assert course_status(hist, anna, site, T0 + timedelta(days=1)).suggestion is None


@pytest.mark.req("SRS-277")
@pytest.mark.parametrize("minutes", ["ten", None])
def test_unreadable_set_minutes_give_no_raise(hist, minutes):
    anna = add_user(hist, "anna", 1990, now=T0)
    sid = begin(hist, anna, T0)
    _ended(hist, sid, T0, 600.0)
    stored = json.loads(hist.query("SELECT settings FROM sessions WHERE id = ?", (sid,))[0][0])
    stored["minutes"] = minutes
    hist.write("UPDATE sessions SET settings = ? WHERE id = ?", (json.dumps(stored), sid))
    sug = course_status(hist, anna, "hands", T0 + timedelta(days=1)).suggestion
    assert sug["settings"]["current_ma"] == 10.0          # no charge can reach an unknown set time
    assert "under 90 % of set current x time" in sug["reason"] and "x inf min" in sug["reason"]


# --- the chart (SRS-199) -------------------------------------------------------------------
@pytest.mark.req("SRS-199")
def test_the_chart_draws_the_scores_and_no_maintenance_line_in_the_initial_phase(hist, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from core.course import record_score
    from core.course_chart import write_chart
    drawn = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", drawn.append)      # keep the figure to look at it
    anna = add_user(hist, "anna", 1990, now=T0)
    for day, hdss in ((0, 3), (2, None)):
        start = T0 + timedelta(days=day)
        sid = begin(hist, anna, start)
        _ended(hist, sid, start, 600.0)
        if hdss is not None:
            record_score(hist, anna, sid, hdss, False, start + timedelta(hours=1))
    status = course_status(hist, anna, "hands", T0 + timedelta(days=3))
    assert status.phase == "initial" and status.maintenance_since is None
    path = write_chart(status, tmp_path / "h.sqlite")
    try:
        assert path == tmp_path / "h-course-anna-hands.png" and path.stat().st_size > 0
        (fig,) = drawn
        ax1, ax2, ax3 = fig.axes
        assert ax1.get_title() == "anna, hands: initial phase, 2/18 sessions counted"   # no HDSS stated: 18
        assert [line.get_label() for line in ax1.lines if line.get_linestyle() == "--"] == []   # no maintenance line
        (scores,) = ax3.lines                            # the one scored session, HDSS 3
        assert list(scores.get_ydata()) == [3] and scores.get_label() == "HDSS score"
        assert ax3.get_ylim() == (0.5, 4.5)
    finally:
        real_close("all")
