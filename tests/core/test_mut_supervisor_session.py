"""The session supervisor (core/supervisor.py; issue 12 point 2, its fast
mutation list): short simulated sessions at 5 mA with 10 s ramps (each well
under half a second, stopped by a scenario or with a shortened treatment
time) and the supervisor's figures of a plan, each checked against what its
requirement states: the figures of SRS-065/074/090/255, the treatment timer of
SRS-065, the pause and re-ramp of SRS-061, the contact timeout of SRS-062, the
loop checks of SRS-091/252, the reversal of SRS-066/230, the density limit of
SRS-092, the faults and acknowledgement of SRS-053, the records of SRS-071.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from core.checklist import ChecklistRecord
from core.device import SimulatedDevice
from core.machine import TransitionNotAllowed
from core.regulator import Polarity
from core.scenario import parse_scenario
from core.supervisor import (MonotonicClock, SessionPlan, Supervisor, ramp_duration_s,
                             ramp_slews)

from tests.core._session_kit import PASSED_CHECKLIST, RowLog, settings
from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse

HZ = 10_000            # the regulator's tick (SRS-001: 100 us)
ROW = 0.01             # one supervisor row (SRS-085: 10 ms)
SET_MA = 5.0
RAMP_S = 10.0          # the shortest ramps the settings allow


class Bounded(SimulatedDevice):
    """The simulated device that refuses to run more than MAX_BATCHES batches:
    a session these tests run needs a few hundred (0.5 s each at most, row by
    row only briefly), so a supervisor that never ends fails at once instead
    of looping (counted in batches, never in the device's clock)."""
    MAX_BATCHES = 3000

    def __init__(self, **kw):
        super().__init__(**kw)
        self.batches = 0

    def advance(self, max_rows, ticks_per_row):
        self.batches += 1
        assert self.batches <= self.MAX_BATCHES, "the session does not end"
        return super().advance(max_rows, ticks_per_row)


def make(scenario=(), *, device=None, observers=(), **overrides) -> tuple[Supervisor, RowLog]:
    log = RowLog()
    data = {"current_ma": SET_MA, "ramp_up_s": RAMP_S, "ramp_down_s": RAMP_S, **overrides}
    sup = Supervisor(device if device is not None else Bounded(seed=1), settings(**data),
                     scenario=parse_scenario(list(scenario)), observers=[log, *observers],
                     checklist=PASSED_CHECKLIST)
    return sup, log


def shorten(sup: Supervisor, treat_s: float) -> None:
    """A treatment time shorter than the settings allow (10 min), to end on
    time_up in a fraction of a second."""
    sup.treat_ticks_set = round(treat_s * HZ)
    sup.half_ticks = sup.treat_ticks_set // 2


def at(result, text: str) -> float:
    """The session time (s) of the first log line containing `text`."""
    line = next(e for e in result.events if text in e)
    return float(line.split("s ", 1)[0])


def rows_in(log: RowLog, *states: str) -> int:
    return sum(1 for r in log.rows if r.state in states)


# ---- the plan's figures ------------------------------------------------------

@pytest.mark.req("SRS-065", "SRS-090", "SRS-255", "SRS-062", "SRS-074")
def test_the_figures_of_a_plan_are_those_the_requirements_state():
    s = settings(current_ma=15.0, minutes=10, ramp_up_s=30.0, ramp_down_s=20.0, reverse_polarity=True)
    sup = Supervisor(SimulatedDevice(seed=1), s, checklist=PASSED_CHECKLIST)
    assert (sup.tick_hz, sup.ticks_per_row, sup.max_rows) == (HZ, 100, 6000)
    assert sup.treat_ticks_set == 6_000_000 and sup.half_ticks == 3_000_000      # 10 min, half of it
    assert sup.contact_timeout_ticks == 600_000                                   # 60 s (SRS-062)
    assert sup.ramp_limit_ticks == 350_000 and sup.fall_limit_ticks == 250_000   # ramp + 5 s
    assert sup.slew_down == pytest.approx(0.75)                                   # 15 mA in 20 s
    assert (sup.slew_up, sup.slew_fast_ticks, sup.slew_up_late) == (0.5, 300_000, 0.5)
    # 15 mA x (600 s + two of each ramp, halved) + 10 %; 600 s + ramps + 600 s; 12 ramps
    assert sup.charge_bound_mas == pytest.approx(15.0 * (600 + 2 * (30 + 20) / 2) * 1.1)
    assert sup.length_bound_ticks == (600 + 100 + 600) * HZ
    assert sup.ramp_bound_ticks == 12 * 30 * HZ
    assert sup.density_target_ma == 15.0 and sup.plan.treat_time_s == 600.0
    assert (sup.tick, sup.treat_ticks, sup.pauses, sup.cuts, sup.fault, sup.end_reason) == (0, 0, 0, 0, None, None)
    assert sup.state == "idle" and not sup.reversed and sup.last is None
    one_way = Supervisor(SimulatedDevice(seed=1), settings(current_ma=15.0, ramp_up_s=30.0, ramp_down_s=20.0),
                         checklist=PASSED_CHECKLIST)
    assert one_way.charge_bound_mas == pytest.approx(15.0 * (600 + (30 + 20) / 2) * 1.1)
    assert one_way.length_bound_ticks == (600 + 50 + 600) * HZ
    paced = Supervisor(SimulatedDevice(seed=1), s, checklist=PASSED_CHECKLIST, realtime=True)
    assert paced.max_rows == 1 and isinstance(paced.clock, MonotonicClock)


@pytest.mark.req("SRS-074", "SRS-230")
def test_the_plan_takes_the_settings_in_the_regulators_units():
    plan = SessionPlan.from_settings(settings(current_ma=12.34, minutes=12, ramp_up_s=45.0, ramp_down_s=15.0,
                                              reverse_polarity=True, start_polarity="reversed"))
    assert (plan.site, plan.current_ma, plan.minutes, plan.ramp_up_s, plan.ramp_down_s) == (
        "hands", 12.34, 12.0, 45.0, 15.0)
    assert plan.reverse_polarity is True and plan.start_reversed is True
    assert plan.contact_timeout_s == 60.0 and plan.treat_time_s == 720.0
    normal = SessionPlan.from_settings(settings())
    assert normal.reverse_polarity is False and normal.start_reversed is False


@pytest.mark.req("SRS-074")
def test_the_ramp_reaches_the_set_current_at_ramp_up_s_within_a_row():
    for current, ramp in ((15.0, 30.0), (5.0, 10.0), (1.01, 119.0), (24.99, 13.0), (1.0, 120.0)):
        fast, n1, slow = ramp_slews(current, ramp, HZ)
        assert fast >= slow and fast - slow in (0.0, pytest.approx(0.001))
        assert 0 <= n1 <= round(ramp * HZ)
        assert abs(ramp_duration_s(current, fast, n1, slow, HZ) - ramp) <= ROW
    assert ramp_slews(1.01, 119.0, HZ) == (pytest.approx(0.009), 580_000, pytest.approx(0.008))
    assert ramp_duration_s(5.0, 0.5, 100_000, 0.5, HZ) == 10.0


@pytest.mark.req("SRS-093")
def test_no_supervisor_without_a_passed_checklist_or_a_clock():
    with pytest.raises(ValueError, match=r"^checklist: a ChecklistRecord whose answers pass is required "
                       r"\(got NoneType\); nothing was energised$"):
        Supervisor(SimulatedDevice(), settings(), checklist=None)
    answers = PASSED_CHECKLIST.answers
    prep = {k: False for k in answers.preparation}
    failed = ChecklistRecord(mode="file", answers=replace(answers, preparation=prep), source="x")
    from core.checklist import evaluate
    reasons = evaluate(failed.answers).reasons
    assert len(reasons) >= 2
    with pytest.raises(ValueError) as refused:
        Supervisor(SimulatedDevice(), settings(), checklist=failed)
    assert str(refused.value) == "checklist: refused: " + "; ".join(reasons) + "; nothing was energised"
    with pytest.raises(ValueError, match=r"\(got str\); nothing was energised$"):
        Supervisor(SimulatedDevice(), settings(), checklist="passed")

    class _Board:          # a device with no simulation clock
        tick_hz = HZ
    with pytest.raises(ValueError, match=r"^a device without a simulation clock runs only paced \(realtime\): "
                       r"its loop is checked against time.monotonic$"):
        Supervisor(_Board(), settings(), checklist=PASSED_CHECKLIST)
    paced = Supervisor(_Board(), settings(), checklist=PASSED_CHECKLIST, realtime=True)
    assert paced._monotonic is __import__("time").monotonic


# ---- whole short sessions ----------------------------------------------------

@pytest.mark.req("SRS-065", "SRS-060")
def test_a_stopped_session_ramps_treats_and_ramps_down_with_the_timer_in_treat_only():
    sup, log = make([{"at_s": 12.0, "event": "stop"}])
    r = sup.run()
    assert (r.outcome, r.end_reason, r.fault) == ("stopped", "stop", None)
    assert r.states == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    assert at(r, "ramp_complete -> treat") == pytest.approx(RAMP_S, abs=ROW)
    assert at(r, "stop -> ramp_down") == 12.0
    assert r.treat_s == pytest.approx(rows_in(log, "treat") * ROW) and r.treat_s == pytest.approx(2.0, abs=ROW)
    assert r.elapsed_s == pytest.approx(12.0 + RAMP_S, abs=2 * ROW) and r.elapsed_s == sup.tick / HZ
    assert r.ramp_s == pytest.approx(RAMP_S, abs=ROW) and r.counts()["ramp_s"] == round(r.ramp_s, 3)
    # 5 mA for 2 s plus two 10 s ramps at half of it: 60 mA*s = 1 mA*min, within 2 %
    assert r.delivered_mamin == pytest.approx(1.0, rel=0.02)
    assert r.treat_delivered_mamin == pytest.approx(SET_MA * r.treat_s / 60.0, rel=0.02)
    assert r.treat_in_band_s == pytest.approx(r.treat_s, abs=ROW)
    assert SET_MA <= r.max_current_ma <= SET_MA * 1.02
    assert (r.pauses, r.antishock_cuts, r.density_limits, r.density_pauses, r.polarity_switches) == (0, 0, 0, 0, 0)
    assert r.counts() == {"pauses": 0, "antishock_cuts": 0, "ramp_s": round(r.ramp_s, 3),
                          "density_limits": 0, "density_pauses": 0}
    assert r.session_id is None and r.history_error is None and r.io_errors == []
    # the output table held in every row; nothing flows after the end
    assert all(row.r.reference_ma <= SET_MA + 1e-6 for row in log.rows)
    assert log.rows[-1].r.reference_ma == 0.0 and abs(log.rows[-1].r.mean_current_ma) <= 0.1
    assert r.events == sup.log and r.events is not sup.log


@pytest.mark.req("SRS-065", "SRS-066")
def test_time_up_with_the_half_time_reversal_completes_the_session():
    sup, log = make(reverse_polarity=True)
    shorten(sup, 4.0)
    r = sup.run()
    assert (r.outcome, r.end_reason, r.polarity_switches) == ("completed", "time_up", 1)
    assert r.states == ["idle", "checklist", "ramp", "treat", "reverse_down", "polarity_switch", "ramp",
                        "treat", "ramp_down", "idle"]
    assert r.treat_s == 4.0 and sup.reversed
    first = at(r, "ramp_complete -> treat")
    assert at(r, "half_time -> reverse_down") == pytest.approx(first + 2.0, abs=ROW)   # half of 4 s
    switch = [row for row in log.rows if row.state == "polarity_switch"]
    assert switch and all(abs(row.r.mean_current_ma) <= 0.1 for row in switch[-1:])
    pol = [row.r.polarity for row in log.rows if row.state == "treat"]
    assert pol[0] == Polarity.NORMAL and pol[-1] == Polarity.REVERSED
    assert r.ramp_s == pytest.approx(2 * RAMP_S, abs=2 * ROW)
    assert r.treat_delivered_mamin == pytest.approx(SET_MA * 4.0 / 60.0, rel=0.02)
    assert r.treat_in_band_s == pytest.approx(4.0, abs=2 * ROW)


@pytest.mark.req("SRS-230", "SRS-066")
def test_a_session_started_reversed_swaps_to_normal_at_half_time():
    sup, log = make(reverse_polarity=True, start_polarity="reversed")
    shorten(sup, 2.0)
    r = sup.run()
    assert r.outcome == "completed" and r.polarity_switches == 1
    pol = [row.r.polarity for row in log.rows if row.state == "treat"]
    assert pol[0] == Polarity.REVERSED and pol[-1] == Polarity.NORMAL
    assert log.rows[0].r.polarity == Polarity.REVERSED


@pytest.mark.req("SRS-061", "SRS-065")
def test_a_lift_off_pauses_with_the_timer_stopped_and_the_contact_back_ramps_from_zero():
    sup, log = make([{"at_s": 12.0, "event": "lift_off"}, {"at_s": 14.0, "event": "contact"},
                     {"at_s": 30.0, "event": "stop"}])
    r = sup.run()
    assert r.states == ["idle", "checklist", "ramp", "treat", "paused", "ramp", "treat", "ramp_down", "idle"]
    assert at(r, "contact_lost -> paused") == pytest.approx(12.0, abs=ROW)
    back = at(r, "contact_restored -> ramp")
    assert 14.0 < back <= 14.5
    assert at(r, "ramp_complete -> treat", ) == pytest.approx(10.0, abs=ROW)
    again = [row for row in log.rows if row.state == "ramp" and row.t_s > back]
    assert again[0].r.reference_ma <= 0.5 * 2 * ROW          # from 0 at the ramp's slew
    assert r.pauses == 1 and r.counts()["pauses"] == 1
    assert r.treat_s == pytest.approx(rows_in(log, "treat") * ROW)
    assert r.treat_s == pytest.approx((12.0 - 10.0) + (30.0 - back - RAMP_S), abs=2 * ROW)
    assert r.ramp_s == pytest.approx(2 * RAMP_S, abs=2 * ROW)
    assert rows_in(log, "paused") * ROW == pytest.approx(back - 12.0, abs=2 * ROW)


@pytest.mark.req("SRS-062")
def test_no_contact_for_60_s_ends_the_session_interrupted():
    sup, log = make([{"at_s": 12.0, "event": "lift_off"}])
    r = sup.run()
    assert (r.outcome, r.end_reason) == ("interrupted", "contact_timeout")
    paused = at(r, "contact_lost -> paused")
    assert at(r, "contact_timeout -> ramp_down") == pytest.approx(paused + 60.0, abs=ROW)
    assert r.states[-3:] == ["paused", "ramp_down", "idle"]
    assert r.treat_s == pytest.approx(2.0, abs=2 * ROW)


@pytest.mark.req("SRS-091", "SRS-252")
def test_a_stopped_tick_disconnects_within_half_a_second_and_latches_loop_stalled():
    sup, log = make([{"at_s": 12.0, "event": "ticks_stop"}])
    r = sup.run()
    assert (r.outcome, r.fault, r.end_reason) == ("fault", "loop_stalled", None)
    assert 12.0 < at(r, "loop_stalled: regulator ticks advanced 0 in") <= 12.5 + ROW
    assert at(r, "fault -> fault") == at(r, "loop_stalled")
    # after the fault the output is observed off for 0.5 s
    assert r.elapsed_s == pytest.approx(at(r, "fault -> fault") + 0.5, abs=ROW)
    assert r.states[-1] == "fault"
    assert "output disconnected" in next(e for e in r.events if "loop_stalled:" in e)


@pytest.mark.req("SRS-091")
def test_a_loop_1_percent_fast_is_a_clock_drift_fault_within_the_window():
    sup, log = make([{"at_s": 12.0, "event": "clock_drift", "percent": 1.0}])
    r = sup.run()
    assert (r.outcome, r.fault) == ("fault", "clock_drift")
    # 1 % gains 20 ms in 2 s; the check runs every 0.5 s
    assert 13.5 <= at(r, "clock_drift: device clock") <= 15.0
    line = next(e for e in r.events if "clock_drift: device clock" in e)
    assert "bound 20." in line and "output disconnected" in line


@pytest.mark.req("SRS-092")
def test_a_load_up_by_a_fifth_limits_the_current_to_the_baselines_density():
    sup, log = make([{"at_s": 12.0, "event": "load", "ohms": 2400}, {"at_s": 25.0, "event": "stop"}],
                    current_ma=10.0)
    r = sup.run()
    assert r.states == ["idle", "checklist", "ramp", "treat", "limited", "ramp_down", "idle"]
    assert r.density_limits == 1 and sup.density_target_ma < 10.0
    line = next(e for e in r.events if "current lowered to" in e)
    r_now = float(line.split("load ", 1)[1].split(" ohm")[0])
    base = float(line.split("the baseline ", 1)[1].split(" ohm")[0])
    # I_set x R_base / R_now, down to whole 1 % of the set current
    want = int(10.0 * base / r_now / 0.1 + 1e-9) * 0.1
    assert f"{r_now / base:.2f}x the baseline" in line and r_now / base > 1.05
    assert f"current lowered to {want:.3f} mA" in line
    # the timer runs in limited (SRS-065)
    assert r.treat_s == pytest.approx(rows_in(log, "treat", "limited") * ROW)
    limited = [row.r.reference_ma for row in log.rows if row.state == "limited"]
    assert max(limited[-100:]) <= sup.density_target_ma + 1e-6 < 10.0


@pytest.mark.req("SRS-092")
def test_a_load_beyond_three_times_the_baseline_pauses_for_the_contact_area():
    sup, log = make([{"at_s": 12.0, "event": "load", "ohms": 7000}, {"at_s": 25.0, "event": "stop"}],
                    current_ma=10.0)
    r = sup.run()
    assert (r.density_pauses, r.pauses) == (1, 1)
    assert at(r, "contact area too small") == pytest.approx(12.0, abs=ROW)
    assert r.states[:5] == ["idle", "checklist", "ramp", "treat", "paused"]
    assert all(row.r.reference_ma == 0.0 for row in log.rows if row.state == "paused")
    assert r.treat_s == pytest.approx(2.0, abs=2 * ROW)


@pytest.mark.req("SRS-053")
def test_a_regulator_fault_latches_and_only_a_reset_with_no_current_acknowledges_it():
    sup, log = make([{"at_s": 12.0, "event": "short", "ohms": 100}], current_ma=10.0)
    r = sup.run()
    assert (r.outcome, r.fault, r.end_reason) == ("fault", "short", None)
    assert r.elapsed_s == pytest.approx(at(r, "fault -> fault") + 0.5, abs=ROW)
    assert all(not row.r.output_enabled for row in log.rows if row.state == "fault")
    assert sup.acknowledge_fault() is True and sup.state == "idle"
    assert sup.log[-1].endswith("acknowledge -> idle")
    with pytest.raises(TransitionNotAllowed):
        sup.acknowledge_fault()


# ---- the clock -------------------------------------------------------------------

@pytest.mark.req("SRS-069")
def test_the_monotonic_clock_sleeps_until_the_sessions_time_and_never_back():
    now, slept = [100.0], []
    clock = MonotonicClock(sleep=slept.append, now=lambda: now[0])
    clock.start()
    now[0] = 100.2
    clock.wait_until(0.5)
    assert slept == [pytest.approx(0.3)]
    clock.wait_until(0.2)
    clock.wait_until(0.1)
    assert slept == [pytest.approx(0.3)]
