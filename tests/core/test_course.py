"""The frequency guard and the course (SRS-073, SRS-194..SRS-198), on the
history directly: boundaries with numbers, midnight and time-zone edges, the
clock going backwards, two programs at once."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from core.course import (HDSS_TARGET_SESSIONS, FrequencyRefused, admission, check_before_start,
                         course_status, frequency_decision, parse_time, record_score,
                         set_course)
from core.history import History
from core.settings import parse_settings
from core.users import add_user

UTC = timezone.utc
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def settings(site="hands", current=10.0, minutes=10):
    return parse_settings({"site": site, "current_ma": current, "minutes": minutes})


def add_session(h: History, user, start: datetime, *, site="hands", current=10.0,
                treat_s=600.0, outcome="completed", faults=()):
    h.user_id = user.user_id
    sid = h.begin_session(settings(site, current), started_at=start.isoformat())
    h.end_session(sid, outcome, treat_s=treat_s, delivered_mamin=current * treat_s / 60 if treat_s else 0,
                  max_current_ma=current, faults=list(faults),
                  ended_at=(start + timedelta(seconds=treat_s + 60)).isoformat(),
                  # as the supervisor records them: held at the set current throughout (SRS-277)
                  counts={"treat_delivered_mAmin": current * treat_s / 60, "treat_in_band_s": treat_s})
    return sid


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        yield h


@pytest.fixture
def anna(hist):
    return add_user(hist, "anna", 1990, hdss=3, now=T0)


# --- the rule itself, over the windows' edges -----------------------------------------
@pytest.mark.req("SRS-073")
@pytest.mark.parametrize("gap_s, allowed", [(24 * 3600 - 1, False), (24 * 3600 - 0.001, False),
                                            (24 * 3600, True), (24 * 3600 + 1, True)])
def test_one_session_per_site_in_24_h_allowed_again_exactly_24_h_later(gap_s, allowed):
    nxt, rule = frequency_decision([T0], T0 + timedelta(seconds=gap_s), "initial", 2)
    assert (nxt is None) is allowed
    if not allowed:
        assert nxt == T0 + 24 * H and "1 session per site in 24 h" in rule


@pytest.mark.req("SRS-073")
def test_the_5th_session_in_a_rolling_week_passes_and_the_6th_is_refused():
    starts = [T0 + i * D for i in range(4)]           # days 0..3
    assert frequency_decision(starts, T0 + 4 * D, "initial", 2) == (None, None)   # the 5th
    starts.append(T0 + 4 * D)
    for day in (5, 6):                                 # the 6th within 7 days of the 1st
        nxt, rule = frequency_decision(starts, T0 + day * D, "initial", 2)
        assert nxt == T0 + 7 * D and "5 sessions per site in 7 days" in rule
    assert frequency_decision(starts, T0 + 7 * D - timedelta(milliseconds=1), "initial", 2)[0] == T0 + 7 * D
    assert frequency_decision(starts, T0 + 7 * D, "initial", 2) == (None, None)


@pytest.mark.req("SRS-073")
def test_next_allowed_is_when_the_5th_most_recent_leaves_the_week():
    # 5 sessions on days 0, 1, 2, 5, 6: the window holds 5 until day 0 leaves it
    starts = [T0 + d * D for d in (0, 1, 2, 5, 6)]
    assert frequency_decision(starts, T0 + 6 * D + 12 * H, "initial", 2)[0] == T0 + 7 * D
    # 6 starts inside 8 days: the 5th most recent (day 1) decides
    starts = [T0 + d * D for d in (0, 1, 2, 3, 5, 6)]
    assert frequency_decision(starts, T0 + 7 * D + H, "initial", 2)[0] == T0 + 8 * D


@pytest.mark.req("SRS-073", "SRS-195")
def test_midnight_does_not_open_the_day():
    late = datetime(2026, 12, 1, 23, 50, tzinfo=UTC)
    for after in (timedelta(minutes=20), 10 * H, 23 * H + 59 * timedelta(minutes=1)):
        nxt, _ = frequency_decision([late], late + after, "initial", 2)
        assert nxt == late + 24 * H


@pytest.mark.req("SRS-073", "SRS-195")
@pytest.mark.parametrize("offset_h", [-11, -5, 0, 1, 5.5, 14])
def test_time_zones_do_not_change_the_decision(offset_h):
    tz = timezone(timedelta(hours=offset_h))
    start = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)           # the night Europe moves clocks on
    for gap in (timedelta(hours=23, minutes=59), 24 * H):
        now_local = (start + gap).astimezone(tz)
        assert frequency_decision([start.astimezone(tz)], now_local, "initial", 2) == \
            frequency_decision([start], start + gap, "initial", 2)
    # a user who flies west and whose local date changes twice still waits 24 h
    now_west = (start + 20 * H).astimezone(timezone(timedelta(hours=-10)))
    assert frequency_decision([start], now_west, "initial", 2)[0] == start + 24 * H


@pytest.mark.req("SRS-194")
@pytest.mark.parametrize("per_month", [1, 2, 3, 4])
def test_maintenance_allows_the_chosen_count_in_30_days_and_56_h_apart(per_month):
    since = T0 - 60 * D
    starts = [T0 + i * 60 * H for i in range(per_month)]      # 60 h apart: > 56 h
    last = starts[-1]
    # the count is reached: refused until the oldest of them is 30 days old
    nxt, rule = frequency_decision(starts, last + 60 * H, "maintenance", per_month, since)
    assert nxt == starts[0] + timedelta(days=30) and f"at most {per_month} sessions" in rule
    assert frequency_decision(starts, starts[0] + timedelta(days=30), "maintenance", per_month,
                              since) == (None, None)
    # below the count: the 56 h interval decides
    fewer = starts[:-1] + [last]
    if per_month > 1:
        short = frequency_decision(fewer[:-1] + [last], last + 55 * H, "maintenance", per_month + 1, since)
        assert short[0] == last + 56 * H and "56 h" in short[1]
        assert frequency_decision(fewer, last + 56 * H, "maintenance", per_month + 1, since) == (None, None)


@pytest.mark.req("SRS-194")
def test_maintenance_counts_only_sessions_after_the_initial_phase_ended():
    initial = [T0 + i * D for i in range(5)]                   # the end of the initial phase
    since = initial[-1]
    now = since + 57 * H
    assert frequency_decision(initial, now, "maintenance", 2, since) == (None, None)
    nxt, _ = frequency_decision(initial + [now], now + 57 * H, "maintenance", 2, since)
    assert nxt is None                                          # 1 of 2 in 30 days
    nxt, rule = frequency_decision(initial + [now, now + 57 * H], now + 120 * H, "maintenance", 2, since)
    assert nxt == now + timedelta(days=30) and "at most 2" in rule


# --- on the history ----------------------------------------------------------------------------
@pytest.mark.req("SRS-073")
def test_guard_counts_every_session_that_may_have_delivered_current(hist, anna):
    add_session(hist, anna, T0, treat_s=0, outcome="fault")      # faulted before any charge: not counted
    check_before_start(hist, anna, "hands", T0 + H)
    add_session(hist, anna, T0 + H, treat_s=30, outcome="stopped")  # 30 s: counted for the guard
    with pytest.raises(FrequencyRefused, match="next allowed 2026-12-02T09:00"):
        check_before_start(hist, anna, "hands", T0 + 2 * H)
    hist.user_id = anna.user_id
    hist.begin_session(settings(), started_at=(T0 + 30 * H).isoformat())   # crash: stays interrupted
    with pytest.raises(FrequencyRefused, match="1 session per site in 24 h"):
        check_before_start(hist, anna, "hands", T0 + 31 * H)


@pytest.mark.req("SRS-073", "SRS-191")
def test_guard_is_per_user_and_per_site(hist, anna):
    ben = add_user(hist, "ben", 1985, now=T0)
    add_session(hist, anna, T0)
    check_before_start(hist, anna, "feet", T0 + H)     # another site
    check_before_start(hist, ben, "hands", T0 + H)     # another user
    with pytest.raises(FrequencyRefused):
        check_before_start(hist, anna, "hands", T0 + H)


@pytest.mark.req("SRS-195")
def test_a_clock_earlier_than_a_recorded_session_is_refused(hist, anna):
    add_session(hist, anna, T0)
    for back in (timedelta(milliseconds=1), H, 3 * D):
        with pytest.raises(FrequencyRefused, match="clock went backwards"):
            check_before_start(hist, anna, "feet", T0 - back)
    # another user's session in the future refuses too: the clock is the device's
    ben = add_user(hist, "ben", 1985, now=T0)
    with pytest.raises(FrequencyRefused, match="earlier than the start of session 1"):
        check_before_start(hist, ben, "hands", T0 - H)


@pytest.mark.req("SRS-196")
def test_two_programs_starting_at_once_only_one_starts(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        user = add_user(h, "anna", 1990, now=T0)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        with History(path) as h:
            check = admission(user, "hands", lambda: T0)

            def slow_admit(history: History) -> None:
                check(history)
                time.sleep(0.3)   # the other program's check falls between this check and the insert
            h.admit = slow_admit
            barrier.wait()
            try:
                h.begin_session(settings())
                results.append("started")
            except FrequencyRefused as exc:
                results.append(f"refused: {exc}")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.split(":")[0] for r in results) == ["refused", "started"], results
    with History(path) as h:
        assert len(h.list_sessions()) == 1


@pytest.mark.req("SRS-196")
def test_a_refusal_under_the_lock_writes_nothing(hist, anna):
    add_session(hist, anna, T0)
    hist.admit = admission(anna, "hands", lambda: T0 + H)
    with pytest.raises(FrequencyRefused):
        hist.begin_session(settings())
    assert len(hist.list_sessions()) == 1
    hist.admit = admission(anna, "hands", lambda: T0 + 24 * H)
    hist.begin_session(settings())                       # the lock is free again
    assert [r.user_id for r in hist.list_sessions()] == [anna.user_id] * 2


# --- the course -----------------------------------------------------------------------------------
@pytest.mark.req("SRS-197")
@pytest.mark.parametrize("hdss, target", [(1, 9), (2, 12), (3, 15), (4, 18), (None, 18)])
def test_hdss_sets_the_target_and_the_count_reaching_it_ends_the_initial_phase(hist, hdss, target):
    user = add_user(hist, "u", 1990, hdss=hdss, now=T0)
    for i in range(target - 1):
        add_session(hist, user, T0 + i * 2 * D)
    status = course_status(hist, user, "hands", T0 + 2 * target * D)
    assert (status.phase, status.counted_sessions, status.target_sessions, status.to_go) == \
        ("initial", target - 1, target, 1)
    add_session(hist, user, T0 + (target - 1) * 2 * D)
    status = course_status(hist, user, "hands", T0 + 2 * target * D)
    assert (status.phase, status.counted_sessions, status.to_go) == ("maintenance", target, 0)
    assert HDSS_TARGET_SESSIONS.get(hdss, 18) == target


@pytest.mark.req("SRS-197")
@pytest.mark.parametrize("treat_s, counts", [(0, False), (300, False), (599.99, False), (600, True),
                                             (1800, True)])
def test_a_session_counts_toward_the_course_from_10_minutes(hist, anna, treat_s, counts):
    add_session(hist, anna, T0, treat_s=treat_s, outcome="stopped")
    assert course_status(hist, anna, "hands", T0 + D).counted_sessions == int(counts)


@pytest.mark.req("SRS-197")
def test_two_hdss_1_scores_in_a_row_end_the_initial_phase(hist, anna):
    ids = [add_session(hist, anna, T0 + i * D) for i in range(4)]
    record_score(hist, anna, ids[0], 1, False, T0)
    record_score(hist, anna, ids[1], 2, False, T0)
    record_score(hist, anna, ids[2], 1, False, T0)
    assert course_status(hist, anna, "hands", T0 + 5 * D).phase == "initial"
    record_score(hist, anna, ids[3], 1, False, T0)
    status = course_status(hist, anna, "hands", T0 + 5 * D)
    assert status.phase == "maintenance" and parse_time(status.maintenance_since) == T0 + 3 * D


@pytest.mark.req("SRS-197", "SRS-194")
@pytest.mark.parametrize("per_month, due_days", [(1, 30), (2, 15), (3, 10), (4, 7.5)])
def test_in_maintenance_the_next_session_is_due_30_days_over_n(hist, per_month, due_days):
    user = add_user(hist, "u", 1990, hdss=1, now=T0)
    set_course(hist, user, "hands", T0, per_month=per_month)
    for i in range(9):
        add_session(hist, user, T0 + i * 2 * D)
    status = course_status(hist, user, "hands", T0 + 17 * D)
    assert status.phase == "maintenance"
    assert status.next_due == (T0 + 16 * D + timedelta(days=due_days)).isoformat(timespec="milliseconds")


@pytest.mark.req("SRS-197", "SRS-194")
@pytest.mark.parametrize("per_month", [1, 2, 3, 4])
def test_next_due_is_never_before_the_guard_allows_the_next_session(hist, per_month):
    user = add_user(hist, "u", 1990, hdss=1, now=T0)
    set_course(hist, user, "hands", T0, per_month=per_month)
    for i in range(9):                       # initial phase ends with the 9th, on day 16
        add_session(hist, user, T0 + i * 2 * D)
    first = T0 + 16 * D + 56 * H             # maintenance sessions 56 h apart (the minimum)
    for k in range(per_month):
        add_session(hist, user, first + k * 56 * H)
    last = first + (per_month - 1) * 56 * H
    status = course_status(hist, user, "hands", last + H)
    allowed = parse_time(status.next_allowed)
    # the month is full: allowed again 30 days after the first maintenance session
    assert allowed == max(first + 30 * D, last + 56 * H)
    due = last + timedelta(days=30 / per_month)
    assert parse_time(status.next_due) == max(due, allowed)
    if per_month >= 2:   # 30 days / N after the last would be before the guard allows it
        assert due < allowed and parse_time(status.next_due) == allowed


@pytest.mark.req("SRS-194")
@pytest.mark.parametrize("per_month", [0, 5, -1])
def test_maintenance_count_out_of_range_is_refused(hist, anna, per_month):
    with pytest.raises(ValueError, match=r"--per-month .*allowed range 1\.\.4"):
        set_course(hist, anna, "hands", T0, per_month=per_month)


@pytest.mark.req("SRS-197")
def test_a_score_only_for_ones_own_session(hist, anna):
    ben = add_user(hist, "ben", 1985, now=T0)
    sid = add_session(hist, ben, T0)
    with pytest.raises(ValueError, match="no session 1 of user 'anna'"):
        record_score(hist, anna, sid, 2, False, T0)


# --- the suggestion -----------------------------------------------------------------------------------
@pytest.mark.req("SRS-198")
def test_suggestion_raises_1_ma_in_the_initial_phase_up_to_the_site_maximum(hist, anna):
    from core.limits import load_limits
    for site in ("hands", "feet", "underarms"):
        top = load_limits().current_range(site).max
        for last, expect in ((top - 3, top - 2), (top - 1, top), (top - 0.5, top), (top, top)):
            add_session(hist, anna, T0, site=site, current=last)
            sug = course_status(hist, anna, site, T0 + 30 * D).suggestion
            assert sug["settings"]["current_ma"] == pytest.approx(expect), (site, last)
            assert sug["settings"]["site"] == site


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("case", ["fault", "discomfort", "short"])
def test_no_raise_after_a_fault_discomfort_or_a_short_session(hist, anna, case):
    sid = add_session(hist, anna, T0, current=12.0,
                      outcome="fault" if case == "fault" else "completed",
                      faults=["short"] if case == "fault" else (),
                      treat_s=300 if case == "short" else 600)
    if case == "discomfort":
        record_score(hist, anna, sid, 3, True, T0)
    sug = course_status(hist, anna, "hands", T0 + D).suggestion
    assert sug["settings"]["current_ma"] == 12.0 and "kept" in sug["reason"]


@pytest.mark.req("SRS-198", "SRS-191")
def test_last_setting_and_suggestion_are_the_users_own(hist, anna):
    ben = add_user(hist, "ben", 1985, now=T0)
    add_session(hist, ben, T0, current=20.0)
    add_session(hist, anna, T0 + H, current=8.0, site="feet")
    assert hist.last_settings().current_ma == 8.0                      # device-wide: anna's feet
    assert hist.last_settings(ben.user_id).current_ma == 20.0
    assert hist.last_settings(anna.user_id, "hands") is None
    assert course_status(hist, anna, "hands", T0 + D).suggestion is None
    assert course_status(hist, anna, "feet", T0 + D).suggestion["settings"]["current_ma"] == 9.0
