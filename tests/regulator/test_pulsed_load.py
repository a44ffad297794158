"""Load model of the pulsed drive (SRS-258, issue 14 slice 1): the board's PWM
gates a fixed drive with F and D; the skin capacitance charges in each
on-phase and discharges through the skin resistance in each off-phase, solved
in closed form per segment. Peak, mean and skin voltage swing are checked
against the periodic steady state of the circuit, computed here from its own
formulas, over loads 500 ohm..10 kOhm and 0.01..10 uF."""
from __future__ import annotations

import math

import pytest

from core.regulator import lib     # the wrapper's handles: only it imports the cffi module (SRS-035)
from core.regulator import LIMITS, CommandRejected, SimulatedRig

TICK_S = 1 / LIMITS.tick_hz
# 100 ticks hold a whole number of periods at each frequency (43, 50, 100)
WINDOW_TICKS = 100
LOADS_OHMS = (500, 2000, 10_000)
CAPACITANCES_UF = (0.01, 1.0, 10.0)
PULSE_KHZ = (4.3, 5.0, 10.0)
DUTIES_PERCENT = (50, 80)
REL_TOL = 0.01       # 1 %: the skin resistance drifts by < 0.3 % over the settling (onset, SRS-030)
SWING_ABS_TOL_V = 0.001


def drive_v(load_ohms: float) -> float:
    """10 mA of plain DC into the load, at most 60 V: the edge current
    (drive / series resistance) stays below the 40 mA hardware clamp."""
    return min(0.01 * load_ohms, 60.0)


def steady_state(v: float, rs: float, rsk: float, c_f: float, f_hz: float, duty: float):
    """Periodic steady state of a series R plus (R || C) driven by v in the
    on-phase and left open (no current) in the off-phase: peak current,
    mean current (A) and skin voltage swing (V)."""
    period = 1 / f_hz
    t_on = duty * period
    t_off = period - t_on
    v_inf = v * rsk / (rs + rsk)
    tau_on = c_f * rs * rsk / (rs + rsk)
    tau_off = c_f * rsk
    e_on = math.exp(-t_on / tau_on)
    e_off = math.exp(-t_off / tau_off)
    v_lo = v_inf * (1 - e_on) * e_off / (1 - e_on * e_off)   # skin voltage at the rising edge
    v_hi = v_inf + (v_lo - v_inf) * e_on                      # and at the falling edge
    charge = ((v - v_inf) * t_on + (v_inf - v_lo) * tau_on * (1 - e_on)) / rs
    return (v - v_lo) / rs, charge / period, v_hi - v_lo


def settle_ticks(load_ohms: float, capacitance_uf: float) -> int:
    """12 skin time constants (C x skin resistance at onset), at least 200 ticks."""
    tau_s = capacitance_uf * 1e-6 * load_ohms * 0.7 * 1.25
    return max(200, math.ceil(12 * tau_s / TICK_S))


@pytest.mark.req("SRS-258")
@pytest.mark.parametrize("duty", DUTIES_PERCENT)
@pytest.mark.parametrize("pulse_khz", PULSE_KHZ)
@pytest.mark.parametrize("capacitance_uf", CAPACITANCES_UF)
@pytest.mark.parametrize("load_ohms", LOADS_OHMS)
def test_peak_mean_and_swing_match_the_circuit(load_ohms, capacitance_uf, pulse_khz, duty):
    rig = SimulatedRig(seed=3, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    v = drive_v(load_ohms)
    rig.drive_open_loop(v, settle_ticks(load_ohms, capacitance_uf), pulse_khz, duty)
    window = rig.drive_open_loop(v, WINDOW_TICKS, pulse_khz, duty)
    last = window[-1]
    peak_a, mean_a, swing_v = steady_state(v, last.series_ohms, last.skin_ohms, capacitance_uf * 1e-6,
                                           pulse_khz * 1000, duty / 100)
    mean_ma = sum(t.mean_ma for t in window) / len(window)
    assert mean_ma == pytest.approx(mean_a * 1000, rel=REL_TOL)
    assert max(t.peak_ma for t in window) == pytest.approx(peak_a * 1000, rel=REL_TOL)
    # the on-phase reading is the pulse's peak, the off-phase reading no current
    assert last.on_reading_ma == pytest.approx(peak_a * 1000, rel=REL_TOL)
    assert all(t.off_reading_ma == 0.0 for t in window)
    # a tick spans at most one period: its swing is at most the period's
    largest_swing_v = max(t.skin_swing_v for t in window)
    assert largest_swing_v <= swing_v * (1 + REL_TOL) + SWING_ABS_TOL_V
    if pulse_khz == 10.0 or (pulse_khz == 5.0 and duty == 50):
        # here a tick holds a whole on-phase from its rising edge: the full swing
        assert largest_swing_v == pytest.approx(swing_v, rel=REL_TOL, abs=SWING_ABS_TOL_V)


@pytest.mark.req("SRS-258")
def test_the_figures_that_make_pulses_milder():
    """2 kOhm, 1 uF, 20 V for 0.2 s, 10 kHz at 50 % against plain DC: the
    figures, within 0.1 % of the circuit (the onset drifts the skin
    resistance by < 1e-5 within a tick)."""
    pulsed = SimulatedRig(seed=4, load_ohms=2000, capacitance_uf=1.0)
    pulsed.drive_open_loop(20.0, 2000, 10, 50)
    t = pulsed.drive_open_loop(20.0, 1, 10, 50)[0]
    assert t.series_ohms == pytest.approx(600)           # 30 % of 2 kOhm (SRS-030)
    peak_a, mean_a, swing_v = steady_state(20.0, t.series_ohms, t.skin_ohms, 1e-6, 10_000, 0.5)
    assert t.peak_ma == pytest.approx(peak_a * 1000, rel=1e-3)
    assert t.mean_ma == pytest.approx(mean_a * 1000, rel=1e-3)
    assert t.skin_swing_v == pytest.approx(swing_v, rel=1e-3)
    # written out: 13.88 mA peak, 6.79 mA mean, 0.340 V swing on an 11.7 V skin
    assert (t.peak_ma, t.mean_ma, t.skin_swing_v) == pytest.approx((13.878, 6.795, 0.3397), rel=1e-3)
    assert t.skin_v == pytest.approx(11.67, rel=1e-3)
    dc = SimulatedRig(seed=4, load_ohms=2000, capacitance_uf=1.0)
    dc.drive_open_loop(20.0, 2000)
    d = dc.drive_open_loop(20.0, 1)[0]
    # the same drive as DC: 8.54 mA, no swing, a 14.9 V skin
    assert (d.mean_ma, d.peak_ma, d.skin_v) == pytest.approx((8.536, 8.536, 14.88), rel=1e-3)
    assert d.skin_swing_v < 1e-5


@pytest.mark.req("SRS-258", "SRS-030")
@pytest.mark.parametrize("load_ohms,capacitance_uf", [(500, 0.01), (2000, 1.0), (10_000, 10.0)])
def test_plain_dc_is_the_resistive_divider(load_ohms, capacitance_uf):
    rig = SimulatedRig(seed=5, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    v = drive_v(load_ohms)
    rig.drive_open_loop(v, settle_ticks(load_ohms, capacitance_uf))
    t = rig.drive_open_loop(v, 1)[0]
    dc_ma = v / (t.series_ohms + t.skin_ohms) * 1000
    assert t.mean_ma == pytest.approx(dc_ma, rel=REL_TOL)
    assert t.peak_ma == pytest.approx(dc_ma, rel=REL_TOL)
    assert t.on_reading_ma == pytest.approx(dc_ma, rel=REL_TOL) and t.off_reading_ma == 0.0
    assert t.skin_swing_v < 0.001


@pytest.mark.req("SRS-258")
def test_lifted_off_no_current_in_either_phase():
    rig = SimulatedRig(seed=6, load_ohms=2000, capacitance_uf=1.0)
    rig.drive_open_loop(20.0, 200, 5, 50)
    rig.lift_off()
    ticks = rig.drive_open_loop(20.0, 20, 5, 50)
    assert all(t.mean_ma == 0.0 and t.peak_ma == 0.0 for t in ticks)
    assert ticks[-1].on_reading_ma == 0.0 and ticks[-1].off_reading_ma == 0.0


@pytest.mark.req("SRS-258")
def test_back_to_dc_after_pulses():
    rig = SimulatedRig(seed=7, load_ohms=2000, capacitance_uf=1.0)
    rig.drive_open_loop(20.0, 500, 10, 50)
    rig.drive_open_loop(20.0, 300)
    t = rig.drive_open_loop(20.0, 1)[0]
    assert t.peak_ma == pytest.approx(t.mean_ma, rel=1e-3)
    assert t.mean_ma == pytest.approx(20.0 / (t.series_ohms + t.skin_ohms) * 1000, rel=REL_TOL)


@pytest.mark.req("SRS-258")
@pytest.mark.parametrize("pulse_khz,duty,field,allowed", [
    (4.29, 50, "pulse_khz", "allowed 4.3 to 10 kHz"),
    (10.01, 50, "pulse_khz", "allowed 4.3 to 10 kHz"),
    (0, 50, "pulse_khz", "allowed 4.3 to 10 kHz"),
    (10, 49, "duty_percent", "allowed 50 to 80 %"),
    (10, 81, "duty_percent", "allowed 50 to 80 %"),
    (5, 0, "duty_percent", "allowed 50 to 80 %"),
    (5, 50.5, "duty_percent", "allowed 50 to 80 %"),
])
def test_pulse_outside_its_range_is_refused(pulse_khz, duty, field, allowed):
    rig = SimulatedRig(seed=8)
    with pytest.raises(CommandRejected) as e:
        rig.drive_open_loop(20.0, 1, pulse_khz, duty)
    assert field in str(e.value) and allowed in str(e.value)
    if float(duty).is_integer():   # the board itself refuses it too, with nothing applied
        assert lib.sim_set_pulse(rig._rig, round(pulse_khz * 1000), int(duty)) == lib.REG_ERR_RANGE
    rig.drive_open_loop(20.0, 100)
    t = rig.drive_open_loop(20.0, 1)[0]
    assert t.peak_ma == pytest.approx(t.mean_ma, rel=1e-3)


@pytest.mark.req("SRS-258")
@pytest.mark.parametrize("pulse_khz,duty", [(4.3, 50), (10, 80)])
def test_the_range_ends_are_accepted(pulse_khz, duty):
    rig = SimulatedRig(seed=9)
    ticks = rig.drive_open_loop(20.0, 100, pulse_khz, duty)
    assert min(t.mean_ma for t in ticks) < max(t.peak_ma for t in ticks)
