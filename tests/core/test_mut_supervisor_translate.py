"""The supervisor's bookkeeping and its translation of the regulator's status
into machine events (core/supervisor.py `_advance`, `_translate`, `_density`
and their helpers; issue 12 point 2), with batches and rows built by hand:
the treatment timer and the dose figures (SRS-065, SRS-277), the end of a
ramp and of a fall and their deadlines (SRS-065, SRS-255), the pause and the
contact timeout (SRS-061, SRS-062), the current density (SRS-092, SRS-141).
Plan: 5 mA, 10 min, ramps 10 s; limits of spec/limits.yaml: band 5 %,
pause bound 3x, drying 10 %/min up to 2x, excess bound 0.25 s."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from core.regulator import FaultCode

from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse fixture
from tests.core.test_mut_supervisor_units import HZ, Spy, row, sup_in


class _Obs:
    def __init__(self):
        self.seen = []

    def batch(self, start_tick, state, batch, sup):
        self.seen.append((start_tick, state, batch))


class _Stub:
    """Stands in for the device for one batch of `rows` rows of 100 ticks."""

    def __init__(self, sup, charge_mas, max_ma=0.0):
        self.sup, self.charge, self.max_ma, self.kicks = sup, charge_mas, max_ma, 0
        self.last = row(reference_ma=5.0)

    def kick_watchdog(self):
        self.kicks += 1

    def advance(self, rows, tpr):
        return SimpleNamespace(rows_run=rows, charge_mas=self.charge, max_current_ma=self.max_ma,
                               last=self.last, loop_ticks=0)


def _advanced(state, charge_mas, rows=50, max_ma=0.0, **plan):
    sup = sup_in(state, **plan)
    obs = _Obs()
    sup.observers = [obs]
    sup.device = _Stub(sup, charge_mas, max_ma)
    sup.tick = 1_000
    batch = sup._advance(rows, 100)
    return sup, obs, batch


# ---- the treatment timer and the dose (SRS-065, SRS-277) ---------------------------

@pytest.mark.req("SRS-065", "SRS-277", "SRS-002")
def test_a_treat_batch_counts_time_charge_and_its_time_at_the_set_current():
    # 0.5 s at a mean of 4.95 mA: within max(1 %, 0.05 mA) of 5 mA
    sup, obs, batch = _advanced("treat", 2.475, max_ma=-5.2)
    assert (sup.tick, sup.treat_ticks, sup.treat_in_band_ticks) == (6_000, 5_000, 5_000)
    assert sup.treat_charge_mas == pytest.approx(2.475) and sup.charge_mas == pytest.approx(2.475)
    assert sup.max_current_ma == 5.2 and sup.last is batch.last and sup.device.kicks == 1
    assert obs.seen == [(1_000, "treat", batch)]
    low, _, _ = _advanced("treat", 2.4749)
    assert low.treat_ticks == 5_000 and low.treat_in_band_ticks == 0
    rev, _, _ = _advanced("treat", -2.5)                   # reversed: the charge counts by its size
    assert rev.treat_charge_mas == 2.5 and rev.charge_mas == 2.5 and rev.treat_in_band_ticks == 5_000
    # 10 mA: 1 % (0.1 mA) is the wider band
    ten, _, _ = _advanced("treat", 4.95, current_ma=10.0)
    assert ten.treat_in_band_ticks == 5_000
    ten_low, _, _ = _advanced("treat", 4.9499, current_ma=10.0)
    assert ten_low.treat_in_band_ticks == 0
    none, _, _ = _advanced("treat", 0.0, rows=0)
    assert none.treat_in_band_ticks == 0 and none.tick == 1_000


@pytest.mark.req("SRS-065", "SRS-090")
@pytest.mark.parametrize("state,treat,paused,ramp", [("ramp", 0, 0, 5_000), ("paused", 0, 5_000, 0),
                                                     ("limited", 5_000, 0, 0), ("ramp_down", 0, 0, 0)])
def test_the_timer_runs_in_treat_and_limited_only(state, treat, paused, ramp):
    sup, obs, _ = _advanced(state, 1.0)
    assert (sup.treat_ticks, sup.paused_ticks, sup.ramp_ticks) == (treat, paused, ramp)
    assert sup.charge_mas == 1.0 and sup.treat_charge_mas == (1.0 if treat else 0.0)


# ---- ramp, fall and their deadlines (SRS-065, SRS-255) ------------------------------

@pytest.mark.req("SRS-065")
def test_the_ramp_completes_at_the_set_current_and_overruns_at_ramp_up_s_plus_5_s():
    sup = sup_in("ramp")
    sup._translate(row(reference_ma=5.0 - 2e-6, measured_current_ma=4.9))
    assert sup.state == "ramp"
    sup._translate(row(reference_ma=5.0 - 1e-6, measured_current_ma=4.9))
    assert sup.state == "treat"
    late = sup_in("ramp")
    late.tick = 150_000 - 1                                 # 15 s after the ramp began, less a tick
    late._translate(row(reference_ma=4.0, measured_current_ma=4.0))
    assert late.state == "ramp"
    late.tick = 150_000
    late._translate(row(reference_ma=4.0, measured_current_ma=4.0))
    assert (late.state, late.fault) == ("fault", "ramp_overrun")
    assert any("ramp not complete after 15.0 s" in e for e in late.log)


@pytest.mark.req("SRS-255")
def test_a_fall_ends_at_zero_or_is_a_fault_at_ramp_down_s_plus_5_s():
    sup = sup_in("ramp_down")
    sup._translate(row(reference_ma=1e-6, mean_current_ma=0.1, peak_current_ma=-0.1))
    assert sup.state == "idle"
    for flowing in (dict(reference_ma=2e-6), dict(mean_current_ma=-0.1001), dict(peak_current_ma=0.1001)):
        s = sup_in("ramp_down")
        s._translate(row(**flowing))
        assert s.state == "ramp_down"
    late = sup_in("ramp_down")
    late.tick = 150_000 - 1
    late._translate(row(reference_ma=1.0, mean_current_ma=1.0))
    assert late.state == "ramp_down"
    late.tick = 150_000
    late._translate(row(reference_ma=1.0, mean_current_ma=1.0))
    assert (late.state, late.fault) == ("fault", "ramp_down_overrun")
    assert any("ramp_down not at zero after 15.0 s: reference 1.0000 mA, mean 1.0000 mA" in e for e in late.log)
    rev = sup_in("reverse_down", reverse_polarity=True)
    rev._translate(row())
    assert rev.state == "polarity_switch"


@pytest.mark.req("SRS-053")
def test_a_fault_the_regulator_latched_is_the_sessions_fault_by_its_name():
    sup = sup_in("treat")
    sup._translate(row(fault=FaultCode.OVERCURRENT_TRIP))
    assert (sup.state, sup.fault) == ("fault", "overcurrent_trip")
    sup._enter_fault("short")
    assert sup.fault == "overcurrent_trip"                 # the first cause is kept


# ---- contact lost, back, timed out (SRS-061, SRS-062) --------------------------------

@pytest.mark.req("SRS-061")
@pytest.mark.parametrize("state", ["ramp", "treat", "reverse_down"])
def test_a_contact_loss_pauses_in_ramp_treat_and_the_reversal(state):
    sup = sup_in(state, reverse_polarity=True)
    sup._translate(row(contact_lost=True, reference_ma=0.0))
    assert sup.state == "paused"


@pytest.mark.req("SRS-061", "SRS-062")
def test_paused_resumes_on_contact_and_ends_after_60_s_without():
    sup = sup_in("paused")
    sup._translate(row(contact_lost=False, load_estimate_ohms=2000.0))
    assert sup.state == "ramp"
    lost = sup_in("paused")
    lost.paused_ticks = 600_000 - 1
    lost._translate(row(contact_lost=True))
    assert lost.state == "paused"
    lost.paused_ticks = 600_000
    lost._translate(row(contact_lost=True))
    assert (lost.state, lost.end_reason) == ("ramp_down", "contact_timeout")
    assert lost.result().outcome == "interrupted"


@pytest.mark.req("SRS-065", "SRS-066")
def test_the_session_clock_ends_treatment_and_starts_the_reversal_at_half_time():
    sup = sup_in("treat", reverse_polarity=True)
    sup.treat_ticks = sup.half_ticks - 1
    assert sup._timed_event() is False and not sup._reversal_due()
    sup.treat_ticks = sup.half_ticks
    assert sup._reversal_due() and sup._timed_event() is True and sup.state == "reverse_down"
    done = sup_in("limited")
    done.treat_ticks = done.treat_ticks_set - 1
    assert done._timed_event() is False
    done.treat_ticks = done.treat_ticks_set
    assert done._timed_event() is True and (done.state, done.end_reason) == ("ramp_down", "time_up")
    once = sup_in("treat", reverse_polarity=True)
    once.polarity_switches, once.treat_ticks = 1, once.half_ticks
    assert not once._reversal_due()


@pytest.mark.req("SRS-065")
def test_a_stop_ramps_down_once_and_keeps_its_first_reason():
    sup = sup_in("treat")
    sup.request_stop()
    sup.step()
    assert (sup.state, sup.end_reason, sup._stop_requested) == ("ramp_down", "stop", False)
    sup.request_stop()
    sup._begin_ramp_down("time_up")
    assert sup.end_reason == "stop"
    io = sup_in("ramp")
    io._stop_reason = "io_error"
    io.request_stop()
    io.step()
    assert (io.state, io.end_reason) == ("ramp_down", "io_error")


# ---- the current density (SRS-092, SRS-141) --------------------------------------------

def _treat_with_base(ohms=2000.0):
    sup = sup_in("treat")
    assert sup._density(row(load_estimate_ohms=ohms, measured_current_ma=5.0)) is False
    assert (sup._r_base0, sup._r_base) == (ohms, ohms)
    assert sup.log[-1].endswith(f"load baseline {ohms:.0f} ohm")
    return sup


@pytest.mark.req("SRS-092")
def test_the_baseline_is_the_first_treat_estimate_from_half_a_milliampere():
    sup = sup_in("treat")
    assert sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=0.4999)) is False
    assert sup._r_base is None
    assert sup._density(row(load_estimate_ohms=math.inf, measured_current_ma=5.0)) is False
    assert sup._r_base is None
    _treat_with_base()


@pytest.mark.req("SRS-092")
def test_the_baseline_follows_drying_at_10_percent_per_minute_and_up_to_twice():
    sup = _treat_with_base()
    sup.tick = 30 * HZ                                     # half a minute: at most +5 %
    assert sup._density(row(load_estimate_ohms=2300.0, measured_current_ma=5.0)) is True
    assert sup._r_base == pytest.approx(2100.0) and sup.state == "limited"
    # I_set x R_base / R_now = 4.565 mA, down to whole 1 % (0.05 mA)
    assert sup.density_target_ma == pytest.approx(4.55) and sup.density_limits == 1
    assert any("load 2300 ohm, 1.10x the baseline 2100 ohm: current lowered to 4.550 mA" in e for e in sup.log)
    slow = _treat_with_base()
    slow.tick = 60 * HZ                                    # a minute: up to +10 %, followed
    assert slow._density(row(load_estimate_ohms=2150.0, measured_current_ma=5.0)) is False
    assert slow._r_base == pytest.approx(2150.0) and slow.state == "treat"
    capped = _treat_with_base()
    capped._r_base = 3900.0
    capped.tick = 60 * HZ
    capped._density(row(load_estimate_ohms=4100.0, measured_current_ma=5.0))
    assert capped._r_base == pytest.approx(4000.0)          # twice the first baseline


@pytest.mark.req("SRS-092")
def test_within_5_percent_nothing_changes_and_beyond_three_times_it_pauses():
    sup = _treat_with_base()
    assert sup._density(row(load_estimate_ohms=2100.0, measured_current_ma=5.0)) is False
    assert sup.state == "treat" and sup.density_target_ma == 5.0
    far = _treat_with_base()
    assert far._density(row(load_estimate_ohms=5999.0, measured_current_ma=5.0)) is True
    assert far.state == "limited" and far.density_pauses == 0
    pause = _treat_with_base()
    assert pause._density(row(load_estimate_ohms=6000.0, measured_current_ma=5.0)) is True
    assert (pause.state, pause.density_pauses, pause._density_paused) == ("paused", 1, True)
    assert any("load 6000 ohm beyond 3x the baseline 2000 ohm: contact area too small" in e for e in pause.log)


@pytest.mark.req("SRS-092")
def test_limited_clears_only_within_the_band_at_the_set_current():
    sup = _treat_with_base()
    sup.machine.dispatch("density_limit")
    sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=0.15, reference_ma=5.0 - 2e-6))
    assert sup.state == "limited"
    sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=0.1499, reference_ma=5.0))
    assert sup.state == "limited"
    assert sup._density(row(load_estimate_ohms=2000.0, measured_current_ma=0.15, reference_ma=5.0)) is True
    assert sup.state == "treat"
    assert any("load 2000 ohm back within the baseline 2000 ohm: set current again" in e for e in sup.log)


@pytest.mark.req("SRS-092")
@pytest.mark.req("SRS-304")
def test_in_a_ramp_without_a_baseline_nothing_is_checked_with_one_the_band_and_the_pause_bound():
    sup = sup_in("ramp")
    assert sup._density(row(load_estimate_ohms=9000.0, measured_current_ma=5.0)) is False
    assert sup.state == "ramp"
    within = sup_in("ramp")
    within._r_base = 2000.0
    assert within._density(row(load_estimate_ohms=2100.0, measured_current_ma=5.0)) is False
    assert within.state == "ramp"
    beyond = sup_in("ramp")
    beyond._r_base = 2000.0
    assert beyond._density(row(load_estimate_ohms=5999.0, measured_current_ma=5.0)) is True
    assert beyond.state == "limited"
    pause = sup_in("ramp")
    pause._r_base = 2000.0
    assert pause._density(row(load_estimate_ohms=6000.0, measured_current_ma=5.0)) is True
    assert pause.state == "paused"


@pytest.mark.req("SRS-141")
def test_an_excess_beyond_half_the_bound_cuts_the_current_at_once():
    sup = _treat_with_base()
    sup.machine.dispatch("density_limit")
    sup.device.calls.clear()
    # 1.5x: target 3.33 mA; the fall from 5 mA at 5 mA/s lets 0.45 x 1.67 / 5 / 2 = 0.075 s through,
    # then half a second at 1.5 x 5 / 5: 0.225 s more
    sup._excess_tick = 0
    sup.tick = 5_000
    assert sup._density(row(load_estimate_ohms=3000.0, measured_current_ma=5.0, reference_ma=5.0)) is False
    assert sup.density_cuts == 1 and sup.device.calls[:3] == [("enable", False), ("command", 3.3, 0.5),
                                                               ("enable", True)]
    assert sup.density_target_ma == pytest.approx(3.3)
    under = _treat_with_base()
    under.machine.dispatch("density_limit")
    under._excess_tick, under.tick = 0, 100          # 10 ms: 0.0045 s + 0.075 s < 0.125 s
    under._density(row(load_estimate_ohms=3000.0, measured_current_ma=5.0, reference_ma=5.0))
    assert under.density_cuts == 0


@pytest.mark.req("SRS-092")
def test_a_pause_for_the_area_holds_for_a_second_and_until_the_load_is_back():
    sup = _treat_with_base()
    sup._density(row(load_estimate_ohms=6000.0, measured_current_ma=5.0))
    assert sup._density_paused
    sup.paused_ticks = 10_000 - 1
    assert sup._density_held(row(load_estimate_ohms=2000.0)) is True
    sup.paused_ticks = 10_000
    assert sup._density_held(row(load_estimate_ohms=2000.0)) is False
    assert sup._density_held(row(load_estimate_ohms=6000.0)) is True
    assert sup._density_held(row(load_estimate_ohms=math.inf)) is True
    sup.device.calls.clear()
    sup._translate(row(load_estimate_ohms=6000.0))        # contact, the area still too small
    assert sup.state == "paused" and sup.device.calls == [("search",)]
    assert sup_in("paused")._density_held(row()) is False
