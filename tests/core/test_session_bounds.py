"""Session bounds: charge, length, time in ramp, cuts and pauses (SRS-090, issue 8 point 3).

The charge bound is I_set x (set time + half of each set ramp, twice with
reversal) x 1.10; length = set time + set ramps + 600 s; time in ramp = 12 x
ramp_up_s; 10 anti-shock cuts; 10 pauses (spec/limits.yaml). Reaching one ends
the session with its ramp-down, outcome interrupted, end_reason the bound.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.supervisor import SESSION_BOUNDS

from tests.core._session_kit import LIMITS, ROW_S, run_session, table_violations

MARGIN = 1.0 + LIMITS.session_charge_margin_percent / 100.0


def prescribed_mamin(current_ma, minutes, up_s=30.0, down_s=30.0, reverse=False):
    ramps = (2 if reverse else 1) * (up_s + down_s) / 2.0
    return current_ma * (minutes * 60.0 + ramps) / 60.0


def lifts(every_s, lifted_s, until_s, first_s=60.0):
    ev, t = [], first_s
    while t < until_s:
        ev += [{"at_s": t, "event": "lift_off"}, {"at_s": t + lifted_s, "event": "contact"}]
        t += every_s
    return ev


def _ended_on_a_bound(result, sup):
    assert result.outcome == "interrupted", result.events
    assert result.end_reason in SESSION_BOUNDS
    assert result.states[-2:] == ["ramp_down", "idle"]      # the controlled ramp-down
    assert any(f"session bound {result.end_reason}" in e for e in result.events)


@pytest.mark.req("SRS-090")
def test_hands_lifted_every_25_s_end_on_a_bound_below_the_prescribed_charge():
    # issue 8: 1 s lifts every 25 s for 30 min gave 2.2x the prescribed charge, "completed"
    result, rows, sup = run_session(lifts(25.0, 1.0, 3000.0), current_ma=5.0, minutes=30)
    _ended_on_a_bound(result, sup)
    assert result.delivered_mamin <= prescribed_mamin(5.0, 30) * MARGIN
    assert result.ramp_s <= LIMITS.session_ramp_time_max_ramps * 30.0 + ROW_S
    assert table_violations(rows, 5.0) == []


@pytest.mark.req("SRS-090")
@pytest.mark.parametrize("every_s,ramp_up_s", [(45.0, 10.0), (70.0, 10.0), (100.0, 30.0)])
def test_restless_sessions_never_deliver_more_than_the_charge_bound(every_s, ramp_up_s):
    result, rows, sup = run_session(lifts(every_s, 1.0, 2400.0), current_ma=20.0, minutes=10,
                                    ramp_up_s=ramp_up_s)
    bound = prescribed_mamin(20.0, 10, up_s=ramp_up_s) * MARGIN
    assert result.delivered_mamin <= bound, (result.delivered_mamin, bound, result.end_reason)
    assert result.outcome in ("completed", "interrupted")
    if result.outcome == "interrupted":
        _ended_on_a_bound(result, sup)
    assert result.elapsed_s <= (600.0 + ramp_up_s + 30.0 + LIMITS.session_length_extra_s) + ROW_S


@pytest.mark.req("SRS-090")
def test_load_halved_every_5_5_s_ends_on_the_cut_bound():
    # issue 8: 325 cuts, 1,827 s in ramp, "completed"
    ev, t = [], 40.0
    while t < 2400:
        ev += [{"at_s": t, "event": "load", "ohms": 1000.0},
               {"at_s": t + 2.75, "event": "load", "ohms": 2000.0, "over_s": 2.0}]
        t += 5.5
    result, rows, sup = run_session(ev, current_ma=10.0, minutes=10)
    _ended_on_a_bound(result, sup)
    assert result.antishock_cuts <= LIMITS.session_antishock_cuts_max + 1
    assert result.ramp_s <= LIMITS.session_ramp_time_max_ramps * 30.0 + ROW_S
    assert result.delivered_mamin <= prescribed_mamin(10.0, 10) * MARGIN


@pytest.mark.req("SRS-090")
def test_a_current_that_never_becomes_plausible_ends_the_session():
    # both channels read 0 from Start (issue 8 point 2: endless pause/ramp cycles)
    result, rows, sup = run_session([{"at_s": 0, "event": "sensor_stuck", "channel": 0, "mA": 0.0},
                                     {"at_s": 0, "event": "sensor_stuck", "channel": 1, "mA": 0.0}])
    assert result.outcome in ("interrupted", "fault")
    if result.outcome == "interrupted":
        _ended_on_a_bound(result, sup)
        assert result.pauses <= LIMITS.session_pauses_max + 1
    assert result.elapsed_s <= 600.0 + 60.0 + LIMITS.session_length_extra_s + ROW_S


@pytest.mark.req("SRS-090")
@pytest.mark.parametrize("reverse", [False, True])
def test_a_normal_session_completes_well_inside_every_bound(reverse):
    result, rows, sup = run_session([], current_ma=25.0, reverse_polarity=reverse)
    assert result.outcome == "completed" and result.end_reason == "time_up"
    full = prescribed_mamin(25.0, 10, reverse=reverse)
    assert 0.97 * full <= result.delivered_mamin <= full * 1.01
    assert result.pauses == 0 and result.antishock_cuts == 0


@pytest.mark.req("SRS-090")
def test_the_bounds_are_in_the_limits_file_with_their_rationale():
    for key in ("session_charge_margin_percent", "session_length_extra_s",
                "session_ramp_time_max_ramps", "session_antishock_cuts_max", "session_pauses_max"):
        value = getattr(LIMITS.session, key)
        assert value.value > 0 and len(value.rationale) > 100
    assert LIMITS.session_charge_margin_percent == 10.0


@pytest.mark.req("SRS-090")
@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.floats(35.0, 1500.0), st.floats(0.05, 70.0),
                          st.sampled_from(["lift", "load"])), max_size=40),
       st.sampled_from([5.0, 15.0, 25.0]), st.sampled_from([10.0, 30.0]))
def test_no_pattern_of_lift_offs_and_load_steps_exceeds_the_charge_and_length_bounds(
        events, current_ma, ramp_up_s):
    scenario = []
    for at_s, length_s, kind in events:
        if kind == "lift":
            scenario += [{"at_s": at_s, "event": "lift_off"},
                         {"at_s": at_s + length_s, "event": "contact"}]
        else:
            scenario += [{"at_s": at_s, "event": "load", "ohms": 1000.0},
                         {"at_s": at_s + length_s, "event": "load", "ohms": 2000.0, "over_s": 1.0}]
    result, rows, sup = run_session(scenario, current_ma=current_ma, ramp_up_s=ramp_up_s)
    assert result.delivered_mamin <= prescribed_mamin(current_ma, 10, up_s=ramp_up_s) * MARGIN
    assert result.elapsed_s <= 600.0 + ramp_up_s + 30.0 + LIMITS.session_length_extra_s + ROW_S
    assert result.ramp_s <= LIMITS.session_ramp_time_max_ramps * ramp_up_s + ROW_S
    assert result.pauses <= LIMITS.session_pauses_max + 1
    assert result.antishock_cuts <= LIMITS.session_antishock_cuts_max + 1
    if result.outcome == "interrupted":
        assert result.end_reason in SESSION_BOUNDS + ("contact_timeout",)
