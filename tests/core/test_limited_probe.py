"""Contact in limited told apart by cause, and every fall bounded (PR-061,
PR-062; SRS-061, SRS-253, SRS-254, SRS-255, SRS-090).

- Only a loss that begins within CUT_PROBE_S of the supervisor's own density
  cut is that cut's contact check and may last LIMITED_CONTACT_CHECK_S; any
  other loss in limited pauses at once (before: losses under 1 s were never
  paused, 198.7 s in limited without contact recorded as completed).
- A lift-off just after the cut's probe, which the regulator cannot see at a
  small setpoint, pauses once the reference has stalled for LIMITED_STALL_S
  (before: the timer ran to time_up at 0 mA and the ramp-down never ended).
- A ramp-down that does not reach zero in ramp_down_s + ramp_overrun_s is a
  fault with the output off (before: 1-tick batches without end)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import math

from core.supervisor import (CUT_PROBE_S, FAULT_FALL_OVERRUN, LIMITED_CONTACT_CHECK_S,
                             LIMITED_STALL_S, OPEN_CHECK_MIN_MA, OPEN_CHECK_RATIO, OPEN_CHECK_S,
                             Supervisor)
from core.device import SimulatedDevice
from core.scenario import parse_scenario
from tests.core._session_kit import (LIMITS, PASSED_CHECKLIST, ROW_S, ZERO_MA, RowLog, run_session,
                                     settings, table_violations)

ENTER_LIMITED = {"at_s": 120, "event": "load", "ohms": 3000, "over_s": 1}   # 2 -> 3 kOhm in 1 s
TIMEOUT_S = LIMITS.contact_timeout_s
OVERRUN_S = LIMITS.ramp_overrun_s
# Longest time from a lift-off the regulator does not report to the pause,
# measured over loads 3-9 kOhm, 1-15 mA and lift-offs 0.02-3 s after a cut:
# 2.0 s (the stall window of 1 s, plus batch ends up to a density check
# apart; /work/measure/s21 grids f2, f7, grid61). Before the rise share of
# SRS-254 a creeping reference took up to 13.5 s.
PAUSE_AFTER_LIFT_MAX_S = LIMITED_STALL_S + 2 * 0.5 + 2 * ROW_S


def _first(rows, state, after_s=0.0):
    return next(r.t_s for r in rows if r.state == state and r.t_s > after_s)


def _row(**fields):
    base = dict(fault=0, contact_lost=False, antishock_cuts=0, reference_ma=10.0,
                measured_current_ma=10.0, compliance_limited=False, load_estimate_ohms=math.inf,
                mean_current_ma=10.0, peak_current_ma=10.0, target_ma=10.0, output_enabled=True,
                mean_voltage_v=20.0)   # 2 kOhm on the row means (SRS-298, read by SRS-317)
    base.update(fields)
    return SimpleNamespace(**base)


def _in_treat():
    sup = Supervisor(SimulatedDevice(seed=1), settings(current_ma=10.0), checklist=PASSED_CHECKLIST)
    sup.begin()
    sup.machine.dispatch("ramp_complete")
    sup.searches = []     # the contact search the check asks for (no rows run here)
    sup.device.search_contact = lambda: sup.searches.append(sup.tick)
    return sup


def _in_limited():
    """A supervisor in limited just after its own density cut (tick of the cut set)."""
    sup = _in_treat()
    sup.machine.dispatch("density_limit")
    sup._cut_tick = sup.tick
    return sup


def _lost(sup, new_cuts=0):
    return _row(contact_lost=True, reference_ma=0.0, measured_current_ma=0.0,
                antishock_cuts=sup._cuts_seen + new_cuts)


@pytest.mark.req("SRS-254", "SRS-061", "SRS-062", "SRS-253")
@pytest.mark.parametrize("ohms, current_ma, lift_after_cut_s", [
    (5000, 15.0, 0.25),     # the reviewer's reproducer (PR-061)
    (5000, 15.0, 0.30), (3000, 15.0, 0.24), (5000, 5.0, 0.30), (5000, 5.0, 0.50),
    (5000, 5.0, 0.10), (5000, 15.0, 0.03), (3000, 15.0, 3.0),
])
def test_a_lift_off_after_a_density_cut_pauses_and_the_session_ends(ohms, current_ma, lift_after_cut_s):
    lift_s = 120 + lift_after_cut_s
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": ohms},
                                     {"at_s": lift_s, "event": "lift_off"}], current_ma=current_ma)
    assert sup.density_cuts >= 1 and _first(rows, "limited") < lift_s
    paused_at = _first(rows, "paused", after_s=lift_s)
    assert paused_at <= lift_s + PAUSE_AFTER_LIFT_MAX_S
    # the timer stopped there: at most that long counted without contact
    assert result.treat_s <= lift_s - 30 + PAUSE_AFTER_LIFT_MAX_S
    # the session ends: the contact timeout, then a ramp-down that reaches zero
    assert result.outcome == "interrupted" and sup.end_reason == "contact_timeout"
    assert result.fault is None
    assert result.elapsed_s <= paused_at + TIMEOUT_S + 3 * ROW_S
    # nothing flows through the lifted hand meanwhile (SRS-011)
    assert max(r.r.peak_current_ma for r in rows if r.t_s > lift_s + ROW_S) <= ZERO_MA
    assert table_violations(rows, current_ma) == []


@pytest.mark.req("SRS-061", "SRS-090")
@pytest.mark.parametrize("off_s, period_s", [(0.7, 1.0), (0.5, 2.0), (0.3, 1.5), (0.92, 1.0)])
def test_short_losses_in_limited_each_pause_and_end_on_the_pauses_bound(off_s, period_s):
    scenario, t = [ENTER_LIMITED], 200.0
    while t < 700:
        scenario += [{"at_s": round(t, 3), "event": "lift_off"},
                     {"at_s": round(t + off_s, 3), "event": "contact"}]
        t += period_s
    result, rows, sup = run_session(scenario, current_ma=10.0)
    assert _first(rows, "limited") < 200
    # every lift-off met in limited pauses within two rows of it
    lifts = [e["at_s"] for e in scenario if e["event"] == "lift_off"]
    for lift in lifts:
        at_lift = [r for r in rows if lift < r.t_s <= lift + ROW_S]
        if at_lift and at_lift[0].state == "limited":
            assert any(r.state == "paused" for r in rows if lift < r.t_s <= lift + 3 * ROW_S), lift
    # never recorded as a completed session: the pauses bound ends it
    # (a contact too short to settle stays paused until the contact timeout)
    assert result.outcome == "interrupted"
    assert sup.end_reason in ("pauses_bound", "contact_timeout")
    if sup.end_reason == "pauses_bound":
        assert sup.pauses == LIMITS.session_pauses_max + 1
    lost_in_limited_s = sum(ROW_S for r in rows if r.state == "limited" and r.r.contact_lost)
    assert lost_in_limited_s <= 2 * ROW_S * sup.pauses, lost_in_limited_s   # was 198.7 s
    assert table_violations(rows, 10.0) == []


@pytest.mark.req("SRS-061", "SRS-066")
def test_a_cut_probe_interrupted_by_half_time_leaves_no_wait_behind():
    # PR-062 (2): half_time during the wait took limited to reverse_down with the
    # loss's start kept; a density cut in a later limited episode then paused at once
    scenario = [ENTER_LIMITED, {"at_s": 329.5, "event": "lift_off"}, {"at_s": 340, "event": "contact"},
                {"at_s": 420, "event": "load", "ohms": 5800}]
    # 5.8 kOhm (2.88x the 2016 ohm baseline): a density cut, not the 3x pause.
    # Since SRS-304 the re-ramps before it end lowered and the 6 kOhm step of
    # before (2.98x) is read as 6101 ohm while the current rises after the
    # cut: beyond 3x, a pause SRS-092 asks for, not the wait of PR-062.
    result, rows, sup = run_session(scenario, current_ma=15.0, reverse_polarity=True)
    later_limited = [r for r in rows if r.state == "limited" and r.t_s > 430]
    assert later_limited, "the 5.8 kOhm step is met in a later limited episode"
    assert any("420.010s current cut to 0" in line for line in sup.log), "the step cuts the current in limited"
    # the one pause is the lift-off's: not the cut's probe when half time follows
    # a cut at once (370.72 s), nor a later density cut (review of the fix)
    assert sup.pauses == 1
    assert result.outcome == "completed"
    assert table_violations(rows, 15.0) == []


@pytest.mark.req("SRS-090", "SRS-061")
def test_an_antishock_cut_reported_with_a_contact_loss_in_limited_counts_in_that_row():
    # PR-062 (3): a contact wait used to return before the cut was counted
    sup = _in_limited()
    row = _lost(sup, new_cuts=1)
    sup._translate(row)
    assert sup.cuts == 1 and sup.state == "limited"    # counted now, still waiting
    sup.tick += round(CUT_PROBE_S * sup.tick_hz) + 1
    sup._translate(row)
    assert sup.cuts == 1                                # once, not again


@pytest.mark.req("SRS-061")
def test_a_loss_beyond_the_cut_probe_window_pauses_at_once():
    sup = _in_limited()
    sup.tick += round(CUT_PROBE_S * sup.tick_hz) + 1    # first seen just after the window
    sup._translate(_lost(sup))
    assert sup.state == "paused"


@pytest.mark.req("SRS-061")
def test_a_loss_within_the_cut_probe_window_waits_at_most_the_contact_check():
    sup = _in_limited()
    cut = sup._cut_tick
    sup.tick += round(CUT_PROBE_S * sup.tick_hz)        # first seen at the window's end
    row = _lost(sup)
    sup._translate(row)
    assert sup.state == "limited"
    sup.tick = cut + round(LIMITED_CONTACT_CHECK_S * sup.tick_hz) - 1
    sup._translate(row)
    assert sup.state == "limited"
    sup.tick += 1
    sup._translate(row)
    assert sup.state == "paused"


def _never_at_zero(reverse: bool):
    log = RowLog()
    sup = Supervisor(SimulatedDevice(seed=1), settings(current_ma=10.0, reverse_polarity=reverse),
                     observers=[log], checklist=PASSED_CHECKLIST)
    sup._at_zero = lambda last: False     # a fall that never reaches zero (the PR-061 regulator)
    result = sup.run()
    return result, log.rows, sup


@pytest.mark.req("SRS-255")
@pytest.mark.parametrize("reverse, fall_state", [(False, "ramp_down"), (True, "reverse_down")])
def test_a_ramp_down_that_never_reaches_zero_is_a_fault_within_its_bound(reverse, fall_state):
    result, rows, sup = _never_at_zero(reverse)
    entered = next(r.t_s for r in rows if r.state == fall_state) - ROW_S
    bound_s = sup.plan.ramp_down_s + OVERRUN_S
    faulted = next(r.t_s for r in rows if r.state == "fault")
    assert result.fault == FAULT_FALL_OVERRUN
    assert bound_s <= faulted - entered <= bound_s + 2 * ROW_S
    # the output is off from the fault on, and nothing flows
    fault_rows = [r for r in rows if r.state == "fault"]
    assert all(not r.r.output_enabled for r in fault_rows[1:])
    assert fault_rows[-1].r.peak_current_ma <= ZERO_MA


@pytest.mark.req("SRS-254", "SRS-092")
@pytest.mark.parametrize("current_ma", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("ohms", [3000, 5000])
def test_a_reference_held_at_its_target_is_no_stall_at_small_currents(current_ma, ohms):
    # review of the fix: at 1-2 mA the slew shows in whole uA only every few rows,
    # and a target raised by 1 % after the reference had sat at it for 1 s paused
    # with the hand in (11 pauses, pauses_bound at 1 mA on 5 kOhm)
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": ohms}], current_ma=current_ma)
    assert "limited" in result.states
    assert sup.pauses == 0 and not any("no current" in line for line in sup.log)
    assert result.outcome == "completed" and abs(result.treat_s - 600) <= ROW_S + 1e-9


@pytest.mark.req("SRS-256", "SRS-061", "SRS-062")
@pytest.mark.parametrize("current_ma, drop_after_cut_s, lift_after_drop_s, seed", [
    (25.0, 0.3, 0.05, 1),    # the review's reproducer: 509.6 s counted with the hand out
    (10.0, 0.5, 0.05, 1), (10.0, 0.5, 0.02, 2), (25.0, 0.3, 0.02, 2), (20.0, 0.2, 0.1, 1),
])
def test_a_lift_off_during_a_re_rise_the_regulator_does_not_report_pauses(current_ma, drop_after_cut_s,
                                                                       lift_after_drop_s, seed):
    drop_s = round(120.01 + drop_after_cut_s, 3)
    lift_s = round(drop_s + lift_after_drop_s, 3)
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": 5000},
                                     {"at_s": drop_s, "event": "load", "ohms": 1000},
                                     {"at_s": lift_s, "event": "lift_off"}],
                                    current_ma=current_ma, seed=seed)
    paused_at = _first(rows, "paused", after_s=lift_s)
    # the reference re-rises at the ramp-up slew; once at OPEN_CHECK_MIN_MA the
    # check needs OPEN_CHECK_S, seen at batch ends up to a density check apart
    slew = current_ma / 30.0
    bound_s = OPEN_CHECK_MIN_MA / slew + OPEN_CHECK_S + 0.5 + 2 * ROW_S
    assert paused_at <= lift_s + max(bound_s, PAUSE_AFTER_LIFT_MAX_S)
    assert result.outcome == "interrupted" and sup.end_reason == "contact_timeout"
    assert result.treat_s <= paused_at - 30 + ROW_S
    assert max(r.r.peak_current_ma for r in rows if r.t_s > lift_s + ROW_S) <= ZERO_MA


@pytest.mark.req("SRS-256")
@pytest.mark.parametrize("reference_ma", [OPEN_CHECK_MIN_MA, 1.0, 10.0, 25.0])
def test_no_current_at_a_reference_pauses_after_the_open_check_time(reference_ma):
    sup = _in_treat()
    below = reference_ma / OPEN_CHECK_RATIO - 0.001
    row = _row(reference_ma=reference_ma, measured_current_ma=below, antishock_cuts=sup._cuts_seen)
    sup._translate(row)
    assert sup.state == "treat"
    sup.tick += round(OPEN_CHECK_S * sup.tick_hz) - 1
    sup._translate(row)
    assert sup.state == "treat"
    sup.tick += 1
    sup._translate(row)
    assert sup.state == "paused" and sup.searches == [sup.tick]


@pytest.mark.req("SRS-256")
@pytest.mark.parametrize("fields", [
    {"measured_current_ma": 10.0 / OPEN_CHECK_RATIO},          # a quarter flows: not absent
    # held by compliance, not open: 2 mA flows, below a quarter of the reference (compliance
    # with at most 1 mA, 60 kOhm at 60 V, is an open circuit the regulator missed: SRS-315)
    {"compliance_limited": True, "measured_current_ma": 2.0},
    {"reference_ma": OPEN_CHECK_MIN_MA - 0.001, "measured_current_ma": 0.0},  # below the noise-safe level
])
def test_the_open_check_leaves_a_flowing_or_compliance_held_current_alone(fields):
    sup = _in_treat()
    row = _row(antishock_cuts=sup._cuts_seen, **fields)
    for _ in range(5):
        sup._translate(row)
        sup.tick += round(OPEN_CHECK_S * sup.tick_hz)
    assert sup.state == "treat"


@pytest.mark.req("SRS-256")
def test_one_flowing_batch_end_restarts_the_open_check():
    sup = _in_treat()
    absent = _row(measured_current_ma=0.0, antishock_cuts=sup._cuts_seen)
    flowing = _row(antishock_cuts=sup._cuts_seen)
    half = round(OPEN_CHECK_S * sup.tick_hz) // 2 + 1
    for row in (absent, flowing, absent, absent):
        sup._translate(row)
        sup.tick += half
    assert sup.state == "treat"    # 2 x half since the flowing row: not yet
    sup.tick += half
    sup._translate(absent)
    assert sup.state == "paused"


@pytest.mark.req("SRS-256", "SRS-061", "SRS-062")
@pytest.mark.parametrize("current_ma, area_ohms, drop_at_s, drop_ohms, lift_after_s", [
    (1.0, 5800, 122.01, 1000, 0.02),   # second review: density target 0.34 mA, 507.97 s counted
    (1.0, 6000, 122.01, 800, 0.3), (1.0, 5500, 125.0, 1200, 0.02), (1.1, 5800, 122.01, 1000, 0.02),
])
def test_a_lift_off_at_a_density_target_below_half_a_milliamp_pauses(current_ma, area_ohms, drop_at_s,
                                                                   drop_ohms, lift_after_s):
    lift_s = round(drop_at_s + lift_after_s, 3)
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": area_ohms},
                                     {"at_s": drop_at_s, "event": "load", "ohms": drop_ohms},
                                     {"at_s": lift_s, "event": "lift_off"}], current_ma=current_ma)
    assert sup.density_target_ma >= OPEN_CHECK_MIN_MA    # every target is within the open check
    paused_at = _first(rows, "paused", after_s=lift_s)
    # a reference rising at the full slew with no current: the open check, once
    # the reference is at OPEN_CHECK_MIN_MA (measured: 4.5-5 s at 1 mA)
    open_check_s = OPEN_CHECK_MIN_MA / (current_ma / 30.0) + OPEN_CHECK_S + 0.5 + 2 * ROW_S
    assert paused_at <= lift_s + max(open_check_s, PAUSE_AFTER_LIFT_MAX_S)
    assert result.outcome == "interrupted" and sup.end_reason == "contact_timeout"
    assert result.treat_s <= paused_at - 30 + ROW_S


@pytest.mark.req("SRS-254", "SRS-061")
@pytest.mark.parametrize("current_ma, ratio, lift_after_s", [
    (2.0, 2.5, 0.3), (2.0, 2.5, 0.5),    # second review: 11-13.5 s counted, a 1 uA creep
    (1.5, 3.0, 0.4), (2.5, 2.0, 0.6), (5.0, 2.5, 0.3),
])
def test_a_reference_creeping_after_a_lift_off_is_a_stall(current_ma, ratio, lift_after_s):
    lift_s = 120 + lift_after_s
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": 2000 * ratio},
                                     {"at_s": lift_s, "event": "lift_off"}], current_ma=current_ma)
    paused_at = _first(rows, "paused", after_s=lift_s)
    assert paused_at <= lift_s + PAUSE_AFTER_LIFT_MAX_S
    assert result.outcome == "interrupted" and sup.end_reason == "contact_timeout"
