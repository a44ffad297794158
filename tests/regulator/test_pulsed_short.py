"""The short check in pulsed mode (SRS-311, SRS-012, PR-069): the count runs
on the pulse's peak as in DC, and the fault also needs 3 readings in a row of
the settled pulse (the larger of the two channels at the on-phase's end,
counted at least as half the peak) below 250 ohm. A pulse into a discharged
skin capacitance meets only the series resistance (150-210 ohm at 500-700
ohm); a metal contact has no capacitance and is latched at the same reading as
on the peak alone; in DC nothing changes."""
from __future__ import annotations

import pytest

from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from core.regulator import LIMITS, CommandRejected, FaultCode, Regulator, SimulatedRig
from tests.arming_kit import CLEAR, enabled_regulator

SHORT_TICKS = 5            # REG_SHORT_TICKS: 0.5 ms (SRS-012)
SETTLED_TICKS = 3          # REG_SHORT_SETTLED_TICKS (SRS-311)
SETTLED_DIV = 2            # REG_SHORT_SETTLED_DIV: the settled pulse counts at least peak / 2
SHORT_MIN_UA = 500         # REG_SHORT_MIN_UA
PULSES = [(4.3, 50), (4.3, 80), (5.0, 50), (10.0, 50), (10.0, 80)]


def _end_of_first_run(flags: list[bool], n: int) -> int:
    """Index of the reading that ends the first run of n true flags in a row."""
    run = 0
    for i, f in enumerate(flags):
        run = run + 1 if f else 0
        if run == n:
            return i
    raise AssertionError(f"no run of {n}")


def _regulator(pulse, target_ma=5.0) -> Regulator:
    return enabled_regulator(target_ma, pulse)


def _loop(reg: Regulator, ticks: int, peak_ohms: float, settled_ohms: float):
    """Closed loop on a pulsed load seen only through its readings: the peak
    is drive / peak_ohms on both channels, the settled pulse drive /
    settled_ohms, the voltage the drive (the stage drives the electrodes);
    the sense level reads the 2 V divider onto 500 ohm. Returns the outputs."""
    outs = []
    out = reg.step(0, 0, 0)
    for k in range(ticks):
        reg.kick_watchdog()
        d = (k % 2) * 12                                   # one 12-bit step of dither: a live ADC (SRS-026)
        if out.sense:
            out = reg.step(9 + d, 9 + d, 5, settled_a_ua=9 + d, settled_b_ua=9 + d)
        else:
            v = out.drive_mv
            peak = int(v * 1000 / peak_ohms) + d
            settled = int(v * 1000 / settled_ohms) + d
            out = reg.step(peak, peak, v, settled_a_ua=settled, settled_b_ua=settled)
        outs.append(out)
        if out.fault != FaultCode.NONE:
            break
    return outs


@pytest.mark.req("SRS-311", "SRS-012", "SRS-259")
@pytest.mark.parametrize("pulse", PULSES)
def test_a_peak_on_the_series_resistance_with_a_settled_load_is_no_short(pulse):
    """Peak V/I 210 ohm (700 ohm load, 0.1 uF), settled pulse 700 ohm: the
    pulsed loop reaches 5 mA and holds it for 2 s without a fault."""
    outs = _loop(_regulator(pulse), 20_000, peak_ohms=210, settled_ohms=700)
    assert all(o.fault == FaultCode.NONE for o in outs)
    assert outs[-1].reference_ua == 5000
    assert max(o.measured_ua for o in outs) >= 5000


@pytest.mark.req("SRS-311", "SRS-012")
@pytest.mark.parametrize("pulse", PULSES)
def test_a_metal_contact_in_pulsed_mode_is_a_short(pulse):
    """210 ohm on the peak and on the settled pulse (no capacitance): SHORT
    at the 5th reading in a row of at least 0.5 mA, output off."""
    outs = _loop(_regulator(pulse), 20_000, peak_ohms=210, settled_ohms=210)
    assert outs[-1].fault == FaultCode.SHORT and outs[-1].stage_on == 0 and outs[-1].drive_mv == 0
    flowing = [o.measured_ua >= SHORT_MIN_UA for o in outs]
    assert len(outs) - 1 == _end_of_first_run(flowing, SHORT_TICKS)


@pytest.mark.req("SRS-311", "SRS-012", "SRS-259")
def test_dc_judges_the_reading_and_ignores_the_settled_inputs():
    """In DC the same readings (210 ohm, settled inputs saying 700 ohm) are a
    SHORT at the 5th reading in a row of at least 0.5 mA: the settled inputs are not read."""
    outs = _loop(_regulator(None), 20_000, peak_ohms=210, settled_ohms=700)
    assert outs[-1].fault == FaultCode.SHORT
    flowing = [o.measured_ua >= SHORT_MIN_UA for o in outs]
    assert len(outs) - 1 == _end_of_first_run(flowing, SHORT_TICKS)


def _held_at_500_ohm(pulse) -> Regulator:
    """Pulsed (or DC) at 5 mA on a 500 ohm load without capacitance."""
    reg = _regulator(pulse)
    outs = _loop(reg, 12_000, peak_ohms=500, settled_ohms=500)
    assert outs[-1].fault == FaultCode.NONE and outs[-1].reference_ua == 5000
    return reg


def _short_readings(reg: Regulator, n: int, settled_low_from: int, a_low=True, b_low=True, v_mv=1000,
                   settled_high_ua=1000):
    """n readings of a 200 ohm short at 5 mA (V 1 V); the settled pulse
    reads the short (5 mA) from reading settled_low_from on (1-based), before
    it settled_high_ua (1 mA: 1 kOhm, credited as 2.5 mA, 400 ohm); a channel
    not low stays there."""
    outs = []
    for k in range(1, n + 1):
        reg.kick_watchdog()
        d = (k % 2) * 12
        low = k >= settled_low_from
        sa = 5000 + d if (low and a_low) else settled_high_ua
        sb = 5000 + d if (low and b_low) else settled_high_ua
        outs.append(reg.step(5000 + d, 5000 + d, v_mv, settled_a_ua=sa, settled_b_ua=sb))
        if outs[-1].fault != FaultCode.NONE:
            break
    return outs


@pytest.mark.req("SRS-311", "SRS-012")
@pytest.mark.parametrize("settled_low_from", [1, 2, 3])
def test_a_settled_reading_within_2_readings_keeps_the_latch_at_the_5th(settled_low_from):
    """The settled pulse of a short's first pulse comes at most 2 readings
    after its peak: the fault latches at the 5th reading, as on the peak alone."""
    outs = _short_readings(_held_at_500_ohm((4.3, 80)), 20, settled_low_from)
    assert [o.fault for o in outs] == [FaultCode.NONE] * (SHORT_TICKS - 1) + [FaultCode.SHORT]
    assert outs[-1].stage_on == 0


@pytest.mark.req("SRS-311", "SRS-012")
@pytest.mark.parametrize("settled_low_from", [4, 5, 10])
def test_the_fault_needs_3_settled_readings_in_a_row(settled_low_from):
    outs = _short_readings(_held_at_500_ohm((4.3, 80)), 40, settled_low_from)
    latched = len(outs)
    assert outs[-1].fault == FaultCode.SHORT
    assert latched == settled_low_from + SETTLED_TICKS - 1


@pytest.mark.req("SRS-311", "SRS-012")
def test_a_settled_pulse_above_250_ohm_is_no_short():
    outs = _short_readings(_held_at_500_ohm((10.0, 50)), 200, settled_low_from=10_000)
    assert len(outs) == 200 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-311", "SRS-312", "SRS-012")
@pytest.mark.parametrize("pulse", PULSES)
@pytest.mark.parametrize("peak_ohms,latched", [(100, True), (124, True), (126, False), (200, False)])
def test_a_dead_settled_pair_latches_short_below_125_ohm_and_a_sensor_fault_above(pulse, peak_ohms, latched):
    """Both settled channels at 0 (failed low together): the settled pulse
    counts as half the peak, so V/I on the peak below 250 / 2 = 125 ohm is
    still latched as SHORT at the 5th reading; above it the pair cannot be
    right (0 puts V/I above 20 kOhm while the peak reads a short, SRS-312):
    SENSOR_DISAGREE at the 6th reading, output off. Never silence."""
    assert latched == (peak_ohms < LIMITS.short_ohms / SETTLED_DIV)
    v_mv = 5 * peak_ohms
    outs = _short_readings(_held_at_500_ohm(pulse), 200, settled_low_from=10_000, v_mv=v_mv, settled_high_ua=0)
    if latched:
        assert len(outs) == SHORT_TICKS and outs[-1].fault == FaultCode.SHORT
    else:
        assert len(outs) == SHORT_TICKS + 1 and outs[-1].fault == FaultCode.SENSOR_DISAGREE
        assert outs[-1].stage_on == 0


@pytest.mark.req("SRS-311", "SRS-012")
@pytest.mark.parametrize("low_channel", ["a", "b"])
def test_one_settled_channel_failing_low_cannot_hide_a_short(low_channel):
    """The larger of the two settled channels counts: one reading 1 mA while
    the other reads the short's 5 mA still latches at the 5th reading."""
    outs = _short_readings(_held_at_500_ohm((10.0, 50)), 20, 1,
                           a_low=(low_channel == "b"), b_low=(low_channel == "a"))
    assert len(outs) == SHORT_TICKS and outs[-1].fault == FaultCode.SHORT


@pytest.mark.req("SRS-311", "SRS-014")
@pytest.mark.parametrize("channel", ["a", "b"])
@pytest.mark.parametrize("bad_ua", [-1, 50_001])
def test_a_settled_reading_out_of_range_is_implausible_in_pulsed_mode_only(channel, bad_ua):
    """Pulsed: SENSOR_RANGE with the output off; DC: not read, no fault."""
    for pulse, fault in (((10.0, 50), FaultCode.SENSOR_RANGE), (None, FaultCode.NONE)):
        reg = _held_at_500_ohm(pulse)
        reg.kick_watchdog()
        sa, sb = (bad_ua, 1000) if channel == "a" else (1000, bad_ua)
        out = reg.step(5000, 5000, 2500, settled_a_ua=sa, settled_b_ua=sb)
        assert out.fault == fault
        if fault != FaultCode.NONE:
            assert out.stage_on == 0 and out.drive_mv == 0


# ---- the simulated board: a metal contact (SimulatedRig.short) ----

@pytest.mark.req("SRS-311", "SRS-012", "SRS-259")
@pytest.mark.parametrize("pulse", PULSES + [None])
@pytest.mark.parametrize("target_ma", [1.0, 2.0])
def test_a_short_in_pulsed_mode_is_latched_within_0_5_ms_of_flowing_readings(pulse, target_ma):
    """2 kOhm at 1 uF, then a 100 ohm short: the anti-shock cut restarts the
    current from 0 into the short, and SHORT latches at the 5th reading in a
    row of at least 0.5 mA (0.5 ms, SRS-012), as in DC (None); a reading above
    the trip level latches it at once."""
    rig = SimulatedRig(seed=3, load_ohms=2000, capacitance_uf=1.0)
    if pulse is not None:
        rig.set_pulse(*pulse)
    rig.command(target_ma, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(int(target_ma / 5.0 / 0.01) + 20, 100, stop_on_event=False)
    assert rig.fault == FaultCode.NONE
    rig.short(100)
    rows = []
    while rig.fault == FaultCode.NONE and len(rows) < 40_000:
        rows += list(rig.run_rows(100, 1, stop_on_event=False).rows())
    latched = next(i for i, r in enumerate(rows) if r.fault != FaultCode.NONE)
    assert rows[latched].fault == FaultCode.SHORT
    # at once on a reading above the trip level (SRS-009, classed by its V/I),
    # otherwise at the 5th reading in a row of at least 0.5 mA
    tripped = [r.measured_current_ma > LIMITS.trip_ma for r in rows[:latched + 1]]
    if target_ma == 1.0:
        assert not any(tripped)      # about 20 mA into 100 ohm: the 5-reading count decides
    if any(tripped):
        assert tripped.index(True) == latched
    else:
        flowing = [r.measured_current_ma >= SHORT_MIN_UA / 1000 for r in rows[:latched + 1]]
        assert _end_of_first_run(flowing, SHORT_TICKS) == latched
    assert sum(1 for r in rows if r.peak_current_ma > LIMITS.hard_limit_ma) <= 10   # <= 1 ms (SRS-005)


@pytest.mark.req("SRS-311", "SRS-018")
@pytest.mark.parametrize("value", [2**31, -2**31 - 1, True, 1.0, "1"])
@pytest.mark.parametrize("name", ["settled_a_ua", "settled_b_ua"])
def test_a_settled_value_outside_int32_is_refused_naming_the_argument(name, value):
    reg = Regulator()
    with pytest.raises(CommandRejected) as err:
        reg.step(0, 0, 0, **{name: value})
    assert err.value.code == lib.REG_ERR_RANGE
    assert str(err.value).startswith(f"{name}={value!r} is not an int32")


@pytest.mark.req("SRS-311", "SRS-012")
def test_the_peak_itself_must_read_below_250_ohm():
    """A settled reading above the peak (227 ohm) does not make a peak of
    exactly 250 ohm a short: both must be below the bound; 249.8 ohm is.
    The exact peak is held for 10 readings (a steady reading is judged
    frozen only after 20, and the SRS-130 mean stays above 5 uA)."""
    # 1250 mV over 5000 uA: exactly 250 ohm; 1249 mV over 5000 / 5012 uA: 249.8 / 249.2 ohm
    for v_mv, dither, n, fault_at in ((1250, 0, 10, None), (1249, 12, 40, SHORT_TICKS)):
        reg = _held_at_500_ohm((10.0, 50))
        outs = []
        for k in range(1, n + 1):
            reg.kick_watchdog()
            peak = 5000 + (k % 2) * dither
            outs.append(reg.step(peak, peak, v_mv, settled_a_ua=5500 + (k % 2), settled_b_ua=5500))
            if outs[-1].fault != FaultCode.NONE:
                break
        if fault_at is None:
            assert len(outs) == n and all(o.fault == FaultCode.NONE for o in outs)
        else:
            assert len(outs) == fault_at and outs[-1].fault == FaultCode.SHORT


@pytest.mark.req("SRS-311", "SRS-012")
def test_the_settled_pulse_must_read_below_250_ohm():
    """Peak 200 ohm (1 V over 5 mA); the settled pulse at exactly 250 ohm
    (4000 uA) is no short for 40 readings, at 249.9 ohm (4001 uA) it is, at
    the 5th reading."""
    for settled_ua, fault_at in ((4000, None), (4001, SHORT_TICKS)):
        reg = _held_at_500_ohm((4.3, 50))
        outs = []
        for k in range(1, 41):
            reg.kick_watchdog()
            peak = 5000 + (k % 2) * 12
            outs.append(reg.step(peak, peak, 1000, settled_a_ua=settled_ua, settled_b_ua=settled_ua - (k % 2)))
            if outs[-1].fault != FaultCode.NONE:
                break
        if fault_at is None:
            assert len(outs) == 40 and all(o.fault == FaultCode.NONE for o in outs)
        else:
            assert len(outs) == fault_at and outs[-1].fault == FaultCode.SHORT


@pytest.mark.req("SRS-311", "SRS-014")
@pytest.mark.parametrize("channel", ["a", "b"])
@pytest.mark.parametrize("edge_ua", [lib.REG_ADC_CURRENT_MIN_UA, lib.REG_ADC_CURRENT_MAX_UA])
def test_a_settled_reading_at_the_ends_of_the_adc_range_is_plausible(channel, edge_ua):
    """0 and 50 000 uA are readings, not faults: the peak reads 500 ohm, so
    no short either (the settled V/I alone is not one)."""
    reg = _held_at_500_ohm((10.0, 50))
    reg.kick_watchdog()
    sa, sb = (edge_ua, 1000) if channel == "a" else (1000, edge_ua)
    out = reg.step(5000, 5000, 2500, settled_a_ua=sa, settled_b_ua=sb)
    assert out.fault == FaultCode.NONE and out.stage_on == 1


@pytest.mark.req("SRS-311", "SRS-014")
def test_an_implausible_settled_reading_counts_as_current_flowing():
    """Out of range with the peak at 0: the unknown current counts as
    flowing, so the reset is refused in that tick (SRS-014, SRS-017)."""
    reg = _held_at_500_ohm((10.0, 50))
    reg.kick_watchdog()
    out = reg.step(0, 0, 0, settled_a_ua=-1, settled_b_ua=0)
    assert out.fault == FaultCode.SENSOR_RANGE
    assert reg.raw_reset_fault() == lib.REG_ERR_RESET_REFUSED
