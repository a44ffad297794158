"""Exact-number tests of the regulator's detectors and limits (SRS-002..006,
010, 022..027, 130, 131), written against the C mutants that survived the
FAST selection (issue 12 point 1, tools/cverify/c-mutation-reviewed.yaml):
each states a requirement at its number, on both sides where one side alone
cannot fail.

The bare regulator is fed readings the test chooses, kicked every tick. At
the sense level (enable probe, contact search) the readings are any voltage
with no current: no detector but the sense windows looks at them. At plain
drive the voltage reading is the last drive (a plausible channel, SRS-023)
and the currents are chosen per test; a live channel must move (SRS-026,
SRS-130), so steady readings alternate between two values.
scripts/c_mutation.py runs this file in its FAST selection.
"""
from __future__ import annotations

import pytest

from core.regulator import FaultCode, Regulator
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from _regulator_kit import tick, v_of
from tests.arming_kit import CLEAR

WINDOW_TICKS = lib.REG_CONTACT_WINDOW_TICKS       # one 10 ms sense window
SLEW_MAX_NA_PER_S = lib.REG_SLEW_MAX_NA_PER_S     # 5 mA/s: 0.5 uA per tick
FLAG_CONTACT_LOST = lib.REG_FLAG_CONTACT_LOST


def enabled(target_ua: int, slew_na_per_s: int = SLEW_MAX_NA_PER_S) -> Regulator:
    reg = Regulator()
    assert reg.raw_command(target_ua, slew_na_per_s) == lib.REG_OK
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    return reg


def window(reg: Regulator, sum_mv: int):
    """One sense window whose voltage readings add up to exactly sum_mv."""
    base, extra = divmod(sum_mv, WINDOW_TICKS)
    for k in range(WINDOW_TICKS):
        out = tick(reg, 0, base + (1 if k < extra else 0))
        if k < WINDOW_TICKS - 1:     # the window's last reading may end the sense level
            assert out.sense == 1 and out.drive_mv == lib.REG_SENSE_MV
    return out


def setpoint_ua(reg: Regulator) -> int:
    """The published setpoint of the last tick (reg_output_t.setpoint_ua)."""
    return reg._out.setpoint_ua


# ---- SRS-025 (b): the boot bound and the open-circuit tick of the probe ---------

@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("max_mv,bound_mv", [(313, 120), (314, 70)])
def test_probe_window_with_an_open_circuit_tick_takes_the_low_boot_bound(max_mv, bound_mv):
    # a window mean of 32.8 mV (above the 22 mV of 2.5 kOhm): the high bound
    # of 120 mV, unless one reading is at or above REG_BLIND_BOOT_OPEN_MV =
    # 314 mV (an open-circuit tick): then 70 mV
    assert lib.REG_BLIND_BOOT_OPEN_MV == 314
    reg = enabled(1000)
    for v in [30] * (WINDOW_TICKS - 1) + [max_mv]:
        out = tick(reg, 0, v)
        assert out.sense == 1
    assert not out.flags & FLAG_CONTACT_LOST
    # no current reading above the noise bound: the drive stays at the boot
    # bound (the reference waits), and rises to it
    drives = []
    for _ in range(300):
        out = tick(reg, 0, v_of(out))
        drives.append(out.drive_mv)
    assert max(drives) == bound_mv
    assert drives[-1] == bound_mv


# ---- SRS-131: contact return, the 8 mV settle rule over 22 windows -----------

def _contact_return(open_windows: int, rise_sum_mv: int, base_sum_mv: int = 3000):
    """Contact lost at the probe, open_windows at the sense level, then 22
    windows below the contact level: 20 at base_sum_mv / 100 (30 mV), the
    last 2 higher by rise_sum_mv / 100 each. Returns the tick output after
    each of the 22."""
    reg = enabled(1000)
    out = window(reg, lib.REG_SENSE_MV * WINDOW_TICKS)             # open: contact lost
    assert out.flags & FLAG_CONTACT_LOST
    for _ in range(open_windows):
        out = window(reg, lib.REG_SENSE_MV * WINDOW_TICKS)
        assert out.flags & FLAG_CONTACT_LOST
    outs = []
    for k in range(lib.REG_CONTACT_HIST):
        late = k >= lib.REG_CONTACT_HIST - lib.REG_CONTACT_WINDOWS
        outs.append(window(reg, base_sum_mv + (rise_sum_mv if late else 0)))
    return outs


@pytest.mark.req("SRS-131")
@pytest.mark.parametrize("open_windows", [0, 1, 23, 50])
def test_contact_returns_when_the_last_two_windows_rose_by_exactly_8_mv(open_windows):
    # mean of the last 2 windows 38 mV, of the 2 windows 20 earlier 30 mV:
    # risen by exactly REG_CONTACT_RISE_MV = 8 mV, settled; contact on the
    # 22nd window below REG_CONTACT_MV (157 mV), not before; after any
    # number of open windows before (the history ring wraps)
    assert (lib.REG_CONTACT_HIST, lib.REG_CONTACT_WINDOWS, lib.REG_CONTACT_MV) == (22, 2, 157)
    outs = _contact_return(open_windows, 800)
    assert all(o.flags & FLAG_CONTACT_LOST for o in outs[:-1])
    last = outs[-1]
    assert not last.flags & FLAG_CONTACT_LOST
    assert last.sense == 0 and last.drive_mv == 0 and last.reference_ua == 0   # restarts from 0


@pytest.mark.req("SRS-131")
@pytest.mark.parametrize("rise_sum_mv", [801, 900, 1200])
def test_contact_does_not_return_when_the_last_two_windows_rose_by_more_than_8_mv(rise_sum_mv):
    # 8.01, 9 and 12 mV of rise: still charging, not contact
    outs = _contact_return(0, rise_sum_mv)
    assert all(o.flags & FLAG_CONTACT_LOST for o in outs)
    assert all(o.sense == 1 for o in outs)


@pytest.mark.req("SRS-131")
@pytest.mark.parametrize("rise_sum_mv,back", [(800, True), (801, False)])
def test_settle_rule_holds_at_8_mv_from_windows_reading_0_mv(rise_sum_mv, back):
    # the earlier windows at exactly 0 mV (a sum of 0: a load below 110 ohm
    # reads under 1 mV at the sense level) count as 0 in the rise: 8 mV is
    # settled, 8.01 mV is not (a history storing such a window's sum as 1
    # would take the 8.01 mV as 8.00 mV)
    outs = _contact_return(0, rise_sum_mv, base_sum_mv=0)
    assert all(o.flags & FLAG_CONTACT_LOST for o in outs[:-1])
    assert bool(outs[-1].flags & FLAG_CONTACT_LOST) is not back


@pytest.mark.req("SRS-131")
@pytest.mark.parametrize("rise_sum_mv", [-3000, 0, 200, 500])
def test_contact_returns_when_the_windows_fell_or_rose_by_less_than_8_mv(rise_sum_mv):
    outs = _contact_return(0, rise_sum_mv)
    assert all(o.flags & FLAG_CONTACT_LOST for o in outs[:-1])
    assert not outs[-1].flags & FLAG_CONTACT_LOST


# ---- SRS-025 (b): the blind-rise allowance below and from 100 uA -------------

def _blind_lift(target_ua: int):
    """Ramp the bare regulator on 1 kOhm to target_ua, then lift (reading 0):
    returns (anchor_mv, drives during the lift). The anchor is the drive of
    the last tick before a reading above REG_OPEN_NOISE_UA (60 uA, no more
    than the noise bound above the setpoint: not scaled)."""
    reg = enabled(target_ua)
    window(reg, 900)                                    # 1 kOhm behind the sense resistor: contact
    out = tick(reg, 0, 0)
    for k in range(3000):                               # plant: 1 kOhm, i = drive (mV) uA
        out = tick(reg, out.drive_mv + (k % 2) * 13, out.drive_mv)
    assert setpoint_ua(reg) == target_ua
    anchor_mv = out.drive_mv
    out = tick(reg, 60, out.drive_mv)                   # the last evidence: 60 uA
    drives = []
    for _ in range(200):
        out = tick(reg, 0, v_of(out))
        if out.sense:                                   # the run of readings at the noise told the lift (PR-026)
            break
        assert setpoint_ua(reg) == target_ua
        drives.append(out.drive_mv)
    return anchor_mv, drives


@pytest.mark.req("SRS-025")
def test_blind_rise_at_99_ua_is_a_quarter_of_the_anchor():
    anchor_mv, drives = _blind_lift(99)
    assert anchor_mv >= 80                              # 1/4 of it above the 10 mV floor
    assert max(drives) == anchor_mv + max(10, anchor_mv // 4)


@pytest.mark.req("SRS-025")
def test_blind_rise_from_100_ua_is_a_sixteenth_of_the_anchor():
    anchor_mv, drives = _blind_lift(100)
    assert anchor_mv >= 80
    assert max(drives) == anchor_mv + max(2, anchor_mv // 16)


# ---- SRS-025 (b) / SRS-024: the setpoint held while the blind bound holds ----

@pytest.mark.req("SRS-025", "SRS-024")
def test_setpoint_held_at_the_current_plus_0_2_ma_while_the_blind_bound_holds():
    # evidence from a 170 uA reading at a setpoint below 120 uA (the collapse
    # tier not armed), then a lift: the drive is held by the blind bound far
    # below compliance while the reference rises to 1 mA; the setpoint stays
    # at most the measured current (0) + 0.2 mA
    reg = enabled(1000)
    window(reg, 900)
    out = tick(reg, 0, 0)
    assert setpoint_ua(reg) < lib.REG_OPEN_FIRE_MIN_UA
    out = tick(reg, 170, out.drive_mv)
    for _ in range(2000):                               # 0.2 s: the reference passes 1 mA
        out = tick(reg, 0, v_of(out))
        assert out.drive_mv < 1000 and out.stage_on == 1 and out.sense == 0
        assert setpoint_ua(reg) <= 0 + lib.REG_COMPLIANCE_HOLD_MARGIN_UA
    assert out.reference_ua == 1000 and setpoint_ua(reg) == 200


# ---- SRS-025 (a): the collapse tier armed by the filtered mean (131 uA) --------

def _collapse_after(readings: tuple[int, int]):
    """Ramp on 1 kOhm to 120 uA, then readings alternating the pair for 60
    ticks, then one reading of 0: returns its tick output."""
    reg = enabled(120)
    window(reg, 900)
    out = tick(reg, 0, 0)
    for k in range(3000):
        out = tick(reg, out.drive_mv + (k % 2) * 13, out.drive_mv)
        assert out.measured_ua < lib.REG_OPEN_ARM_UA
    assert setpoint_ua(reg) == 120
    for k in range(60):
        out = tick(reg, readings[k % 2], out.drive_mv)
        assert not out.flags & FLAG_CONTACT_LOST
    assert out.drive_mv * 1000 >= lib.REG_SHORT_OHMS * 120 and out.drive_mv < 1000
    return tick(reg, 0, v_of(out))


@pytest.mark.req("SRS-025")
def test_filtered_mean_of_131_5_ua_arms_the_collapse_tier():
    # 128/135 uA: the 1/8 filtered mean reaches 131.5 uA (>= 131, < 132), no
    # reading reaches 160 uA; the next reading of 0 is contact lost at once
    assert lib.REG_OPEN_ARM_MEAN_UA == 131
    out = _collapse_after((128, 135))
    assert out.flags & FLAG_CONTACT_LOST and out.sense == 1


@pytest.mark.req("SRS-025")
def test_filtered_mean_of_130_5_ua_does_not_arm_the_collapse_tier():
    # 127/134 uA: the filtered mean stays at or below 130.5 uA: not armed, and
    # a reading of 0 at well under 1 V is not yet contact lost
    out = _collapse_after((127, 134))
    assert not out.flags & FLAG_CONTACT_LOST and out.sense == 0


# ---- SRS-130: the noise-floor filter restarts from 50 uA ---------------------

def _quiet_latch_reading(step_ua: int) -> int:
    """The judged reading on which the SRS-130 mean (from 50 uA, 1/32 per
    reading, C integer arithmetic in 1/64 uA) falls below 5 uA."""
    q = 50 * 64
    n = 0
    while q >= 5 * 64:
        n += 1
        d = step_ua * 64 - q
        q += -(-d // 32) if d < 0 else d // 32        # C division truncates toward 0
    return n


@pytest.mark.req("SRS-130")
def test_quiet_channel_latches_on_the_reading_the_50_ua_restart_gives():
    # readings alternating 300/304 uA (4 uA changes, below the 5 uA floor),
    # the first judged reading after the probe: from the 50 uA restart the
    # mean falls below 5 uA on the 130th judged reading, not earlier
    n = _quiet_latch_reading(4)
    assert n == 130
    reg = enabled(1000, 1_000_000)
    window(reg, 900)
    out = tick(reg, 304, 0)                            # the first plain tick: not judged
    out = tick(reg, 300, out.drive_mv)                 # previous reading not plain: not judged
    for k in range(1, n):
        out = tick(reg, 300 + 4 * (k % 2), out.drive_mv)
    reg.kick_watchdog()
    out = reg.step(300 + 4 * (n % 2), 300 + 4 * (n % 2), out.drive_mv)
    assert out.fault == FaultCode.SENSOR_FROZEN and out.stage_on == 0


# ---- SRS-010: the enable probe is one window of exactly 100 readings ---------

@pytest.mark.req("SRS-010")
def test_enable_probe_is_one_window_of_exactly_100_sense_readings():
    reg = enabled(1000)
    outs = [tick(reg, 0, 9) for _ in range(WINDOW_TICKS)]   # 1 kOhm behind the sense resistor
    assert all(o.sense == 1 and o.drive_mv == lib.REG_SENSE_MV for o in outs)
    out = tick(reg, 0, 0)                               # the 101st tick drives plainly
    assert out.sense == 0 and out.stage_on == 1 and not out.flags & FLAG_CONTACT_LOST


# ---- SRS-024 / SRS-010: "above 20 kOhm with at least 1 V" for 2 ms ------------

def _apparent_load(extra_mv: int):
    """Ramp on 1 kOhm to 2 mA, then readings of an apparent load of exactly
    20 kOhm (2000/2013 uA at 40000/40260 mV) plus extra_mv, not beyond the
    noise bound (not 'clear'): returns the tick outputs of 40 readings."""
    reg = enabled(2000)
    window(reg, 900)
    out = tick(reg, 0, 0)
    for k in range(5000):                               # 0.4 s of ramp, then held
        out = tick(reg, out.drive_mv + (k % 2) * 13, out.drive_mv)
    assert out.reference_ua == 2000
    outs = []
    for k in range(2 * lib.REG_OPEN_TICKS):
        i_ua = 2000 + 13 * (k % 2)
        outs.append(tick(reg, i_ua, i_ua * lib.REG_OPEN_OHMS // 1000 + extra_mv))
    return outs


@pytest.mark.req("SRS-024", "SRS-010")
def test_apparent_load_of_exactly_20_kohm_is_not_contact_lost():
    assert (lib.REG_OPEN_OHMS, lib.REG_OPEN_TICKS) == (20_000, 20)
    outs = _apparent_load(0)
    assert not any(o.flags & FLAG_CONTACT_LOST for o in outs)
    assert all(o.sense == 0 for o in outs)


@pytest.mark.req("SRS-024", "SRS-010")
def test_apparent_load_just_above_20_kohm_is_contact_lost_after_exactly_2_ms():
    # 20 kOhm + 1 mV (20.0005 kOhm): above the threshold, within the noise
    # bound (not clear at once): contact lost on the 20th reading, not before
    outs = _apparent_load(1)
    n = lib.REG_OPEN_TICKS
    assert not any(o.flags & FLAG_CONTACT_LOST for o in outs[:n - 1])
    assert outs[n - 1].flags & FLAG_CONTACT_LOST and outs[n - 1].sense == 1


# ---- SRS-003: a falling reference at exactly the commanded slew --------------

def _plant_1k(reg: Regulator, out, ticks: int, k0: int = 0):
    """ticks of a 1 kOhm resistive load (i = drive, uA) with the dither."""
    outs = []
    for k in range(k0, k0 + ticks):
        out = tick(reg, v_of(out) + (k % 2) * 13, v_of(out))
        outs.append(out)
    return outs


@pytest.mark.req("SRS-003")
def test_reference_falls_at_exactly_the_commanded_slew():
    # from 1 mA down at 1 mA/s: 0.1 uA per tick, 100 uA in 0.1 s, never faster
    reg = enabled(1000)
    window(reg, 900)
    out = _plant_1k(reg, tick(reg, 0, 0), 3000)[-1]
    assert out.reference_ua == 1000
    assert reg.raw_command(0, 1_000_000) == lib.REG_OK
    outs = _plant_1k(reg, out, 1000, 1)
    for n, o in enumerate(outs, start=1):
        assert o.reference_ua == 1000 - -(-n // 10), n          # 1000 - ceil(n / 10)
    assert outs[-1].reference_ua == 900


# ---- SRS-025 (b): the anchor of a reading above the setpoint at zero drive ---

@pytest.mark.req("SRS-025")
def test_blind_rise_after_evidence_at_zero_drive_is_10_mv():
    # a reading of 300 uA above a setpoint of ~50 uA drives the output to 0;
    # the next reading above the noise bound makes 0 mV the drive of the last
    # evidence: during the lift that follows the drive rises to 0 + 10 mV
    # (below 100 uA: max(10 mV, 1/4 of 0)), not beyond
    reg = enabled(1000)
    window(reg, 900)
    out = tick(reg, 300, 0)
    assert out.drive_mv == 0
    out = tick(reg, 300, 0)                             # evidence with the last drive 0
    assert out.drive_mv == 0
    drives = []
    for _ in range(60):                                 # setpoint 51..80 uA
        out = tick(reg, 0, out.drive_mv)
        assert setpoint_ua(reg) < lib.REG_BLIND_FINE_MIN_UA
        drives.append(out.drive_mv)
    assert max(drives) == 10 and drives[-1] == 10


# ---- SRS-024: after the compliance hold ends the setpoint is the reference ---

@pytest.mark.req("SRS-024")
def test_setpoint_follows_the_reference_down_after_the_compliance_hold_ended():
    # a load drying from 1 to 16 kOhm during the ramp to 4 mA (64 V needed):
    # held at compliance (setpoint <= I + 0.2 mA); the load falls to 14 kOhm
    # (56 V): the hold rises back to the reference and ends; at the ramp-down
    # the setpoint is the falling reference
    reg = enabled(4000)
    window(reg, 900)
    out = tick(reg, 0, 0)
    held = False
    for k in range(12_000):
        load_ohms = min(16_000, 1000 + 15 * k // 6)
        i_ua = v_of(out) * 1000 // load_ohms + (k % 2) * 13
        out = tick(reg, i_ua, v_of(out))
        if out.drive_mv == lib.REG_COMPLIANCE_MV and out.reference_ua > i_ua + lib.REG_COMPLIANCE_HOLD_MARGIN_UA:
            held = True
            assert setpoint_ua(reg) <= i_ua + lib.REG_COMPLIANCE_HOLD_MARGIN_UA
    assert held and out.reference_ua == 4000
    for k in range(6000):
        out = tick(reg, out.drive_mv * 1000 // 14_000 + (k % 2) * 13, out.drive_mv)
    assert out.drive_mv < lib.REG_COMPLIANCE_MV and setpoint_ua(reg) == 4000
    assert reg.raw_command(0, SLEW_MAX_NA_PER_S) == lib.REG_OK
    for k in range(400):
        out = tick(reg, out.drive_mv * 1000 // 14_000 + (k % 2) * 13, out.drive_mv)
        assert setpoint_ua(reg) == out.reference_ua < 4000 - k // 2 + 1


# ---- SRS-006: the fraction flowing, 1000 per mille with a target of 0 --------

@pytest.mark.req("SRS-006")
def test_fraction_flowing_is_1000_permille_with_a_target_of_0():
    reg = enabled(0)
    out = tick(reg, 0, 9)
    assert out.target_ua == 0 and out.flowing_permille == 1000
    reg = enabled(1000)
    out = tick(reg, 0, 9)                               # target 1 mA, nothing flows yet
    assert out.flowing_permille == 0


# ---- SRS-006: the drive never above 60 V ---------------------------------------

@pytest.mark.req("SRS-006")
def test_drive_is_held_at_exactly_60_v_when_the_load_needs_more():
    # 4 mA into a load drying from 1 to 16 kOhm (64 V needed)
    reg = enabled(4000)
    window(reg, 900)
    out = tick(reg, 0, 0)
    drives = []
    for k in range(12_000):
        load_ohms = min(16_000, 1000 + 15 * k // 6)
        out = tick(reg, v_of(out) * 1000 // load_ohms + (k % 2) * 13, v_of(out))
        drives.append(out.drive_mv)
    assert max(drives) == 60_000 and drives[-1] == 60_000
    assert out.flags & lib.REG_FLAG_COMPLIANCE_LIMITED and out.fault == FaultCode.NONE


# ---- SRS-022: the drive rises by at most 20 mV per tick ------------------------

@pytest.mark.req("SRS-022")
def test_drive_rises_by_exactly_20_mv_per_tick_when_the_load_doubles():
    # 1 mA on 1 kOhm, then 2 kOhm: the PI asks for ~100 mV more per tick;
    # the drive rises by exactly 20 mV per tick until it reaches ~2 V
    reg = enabled(1000)
    window(reg, 900)
    out = _plant_1k(reg, tick(reg, 0, 0), 3000)[-1]
    assert out.reference_ua == 1000
    drives = [out.drive_mv]
    for k in range(60):
        out = tick(reg, out.drive_mv // 2 + (k % 2) * 13, out.drive_mv)
        drives.append(out.drive_mv)
    steps = [b - a for a, b in zip(drives, drives[1:])]
    assert max(steps) == 20
    assert steps[:20] == [20] * 20


# ---- SRS-023: the voltage reading below the drive by max(2 V, 10 %) ------------

def _implausible_at(below_extra_mv: int, ticks: int):
    """A load drying from 1 to 12 kOhm under 2.5 mA (30 V), then voltage
    readings below the last drive by max(2 V, 10 %) + below_extra_mv."""
    reg = enabled(2500)
    window(reg, 900)
    out = tick(reg, 0, 0)
    for k in range(8000):
        load_ohms = min(12_000, 1000 + 11 * k // 5)
        out = tick(reg, v_of(out) * 1000 // load_ohms + (k % 2) * 13, v_of(out))
    assert 25_000 < out.drive_mv < 60_000 and out.reference_ua == 2500
    outs = []
    for k in range(ticks):
        d = out.drive_mv
        i_ua = d * 1000 // 12_000 + (k % 2) * 13
        reg.kick_watchdog()
        out = reg.step(i_ua, i_ua, d - max(2000, d * 10 // 100) - below_extra_mv)
        outs.append(out)
        if out.fault:
            break
    return outs


@pytest.mark.req("SRS-023")
def test_voltage_10_percent_below_the_drive_is_plausible():
    outs = _implausible_at(0, 50)
    assert len(outs) == 50 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-023")
def test_voltage_more_than_10_percent_below_the_drive_latches_on_the_5th_tick():
    outs = _implausible_at(1, 50)
    assert len(outs) == 5 and all(o.fault == FaultCode.NONE for o in outs[:4])
    assert outs[4].fault == FaultCode.VOLTAGE_IMPLAUSIBLE and outs[4].stage_on == 0


# ---- SRS-025 (b): no blind bound from a setpoint of 200 uA (armed) -------------

def _rise_at_setpoint(target_ua: int):
    """Ramp on 1 kOhm to 250 uA (armed by readings >= 160 uA, the load
    estimate 1 kOhm), down to target_ua, then readings of 60/73 uA (the load
    rose): returns the drives and their steps."""
    reg = enabled(250)
    window(reg, 900)
    out = _plant_1k(reg, tick(reg, 0, 0), 3000)[-1]
    assert reg.raw_command(target_ua, SLEW_MAX_NA_PER_S) == lib.REG_OK
    out = _plant_1k(reg, out, 400)[-1]
    assert setpoint_ua(reg) == target_ua and out.load_ohms > 900
    drives = [out.drive_mv]
    for k in range(10):
        out = tick(reg, 60 + 13 * (k % 2), out.drive_mv)
        drives.append(out.drive_mv)
    return drives, [b - a for a, b in zip(drives, drives[1:])]


@pytest.mark.req("SRS-025", "SRS-022")
def test_from_200_ua_the_drive_rises_under_the_rise_limit_only():
    drives, steps = _rise_at_setpoint(200)
    assert steps == [20] * 10


@pytest.mark.req("SRS-025")
def test_below_200_ua_the_drive_rises_by_a_sixteenth_of_the_last_evidence():
    drives, steps = _rise_at_setpoint(199)
    # each reading (60/73 uA) is evidence, at most 50 uA above the setpoint:
    # the anchor is the last drive, the rise max(2 mV, 1/16 of it)
    assert steps == [max(2, d // 16) for d in drives[:-1]]


# ---- SRS-027: the load estimate at the sense level ----------------------------

@pytest.mark.req("SRS-027")
@pytest.mark.parametrize("mean_mv,load_ohms", [(1500, 660_000), (500, 73_333), (100, 11_578)])
def test_sense_window_publishes_220_kohm_x_v_over_2_v_minus_v(mean_mv, load_ohms):
    # 220 kOhm x 1.5 V / 0.5 V = 660 kOhm; x 0.5 / 1.5 = 73.3 kOhm; x 0.1 / 1.9
    # = 11.58 kOhm (in whole ohms through the 1/1024 scale: at most 1 ohm low)
    reg = enabled(1000)
    out = window(reg, mean_mv * WINDOW_TICKS)
    assert load_ohms - 1 <= out.load_ohms <= load_ohms


# ---- SRS-002 / SRS-004: the PI law with its gains ------------------------------

@pytest.mark.req("SRS-002", "SRS-004")
@pytest.mark.parametrize("error_ua", [-400, -150, 5])
def test_one_tick_of_the_pi_with_integral_205_and_proportional_26_per_1024(error_ua):
    # a load drying from 1 to 12 kOhm under 2.5 mA; then one reading off the
    # setpoint: the drive is (integrator + e x R_est x (Ki + Kp)) / 2^20 mV,
    # Ki = 205/1024 (0.2 per tick), Kp = 26/1024 (0.025), R_est in 1/1024 mV/uA;
    # unclamped (within 0..60 V, a rise under 20 mV)
    reg = enabled(2500)
    window(reg, 900)
    out = tick(reg, 0, 0)
    for k in range(8000):
        load_ohms = min(12_000, 1000 + 11 * k // 5)
        out = tick(reg, v_of(out) * 1000 // load_ohms + (k % 2) * 13, v_of(out))
    assert setpoint_ua(reg) == 2500
    integ_q2, r_est_q, last_mv = reg._reg.integ_q2, reg._reg.r_est_q, out.drive_mv
    assert r_est_q > 10_000
    out = tick(reg, 2500 - error_ua, out.drive_mv)
    want_mv = (integ_q2 + error_ua * r_est_q * (205 + 26)) >> 20
    assert 0 < want_mv < last_mv + 20
    assert out.drive_mv == want_mv


# ---- SRS-024: from a compliance hold the setpoint rises at the commanded slew --

@pytest.mark.req("SRS-024")
def test_setpoint_rises_from_each_hold_no_faster_than_the_commanded_slew():
    # 4 mA at 2 mA/s (0.2 uA per tick) into a load drying from 1 to 16 kOhm
    # over 2 s (at compliance from 1.93 s: the current falls while held),
    # then falling to 14 kOhm: from every hold (setpoint = current + 0.2 mA)
    # the setpoint rises by at most 0.2 uA x ticks since that hold
    reg = enabled(4000, 2_000_000)
    window(reg, 900)
    out = tick(reg, 0, 0)
    origin = None
    rises = 0
    for k in range(30_000):
        load_ohms = min(16_000, 1000 + 15 * k // 20) if k < 24_000 else 14_000
        i_ua = v_of(out) * 1000 // load_ohms + (k % 2) * 13
        before = setpoint_ua(reg)
        out = tick(reg, i_ua, v_of(out))
        now = setpoint_ua(reg)
        if now < out.reference_ua:                      # held
            if origin is None or now < before:
                origin = (k, now)                       # a new hold, lower than the last
                # (a hold at the same value is missed: the bound from the
                # older one is looser, never wrong)
            else:
                rises += now > before
                assert now - origin[1] <= (k - origin[0]) * 2 // 10, (k, origin, now)
        else:
            origin = None
    assert rises > 100 and out.reference_ua == 4000 and setpoint_ua(reg) == 4000


# ---- SRS-025 (d), PR-026: a run of readings at the noise tells a lift --------

LIFT_TIERS = [                                          # (run mean uA, readings in a row), regulator_config.h
    (lib.REG_LIFT_FAST_MEAN_UA, lib.REG_LIFT_FAST_TICKS),
    (lib.REG_LIFT_MID_MEAN_UA, lib.REG_LIFT_MID_TICKS),
    (lib.REG_LIFT_LOW_MEAN_UA, lib.REG_LIFT_LOW_TICKS),
    (lib.REG_LIFT_SLOW_MEAN_UA, lib.REG_LIFT_SLOW_TICKS),
    (lib.REG_LIFT_FAINT_MEAN_UA, lib.REG_LIFT_FAINT_TICKS),
]


def _run_began_from(run_mean_ua_q: int):
    """The bare regulator at 0.1 mA on 1 kOhm (drive ~100 mV, above the 90 mV
    that re-contact onto 500 ohm may meet at 0.1 mA; the setpoint below 120
    uA, so the collapse tier of (a) stays unarmed), a last reading above the
    noise, then the run's starting mean set to run_mean_ua_q (1/16 uA)."""
    reg = enabled(100)
    window(reg, 900)
    out = tick(reg, 0, 0)
    for k in range(3000):                               # plant: 1 kOhm, i = drive (mV) uA
        out = tick(reg, out.drive_mv + (k % 2) * 13, out.drive_mv)
    out = tick(reg, 100, out.drive_mv)                  # the last evidence
    assert reg._reg.open_armed == 0 and reg._reg.unseen_run == 0
    reg._reg.run_mean_q = run_mean_ua_q
    return reg, out


def _readings_until_lift(reg, out, limit: int) -> int | None:
    """Readings at 0 (a lift) until the sense level; None if none within limit."""
    for n in range(1, limit + 1):
        out = tick(reg, 0, v_of(out))
        if out.sense:
            assert out.flags & FLAG_CONTACT_LOST
            return n
    return None


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("tier", range(len(LIFT_TIERS)))
def test_a_run_at_the_noise_is_a_lift_after_the_readings_of_its_tier(tier):
    """(d): from a run mean of exactly the tier's figure the K-th reading at
    the noise is contact lost, not the (K-1)-th; 1/16 uA below it the next
    tier's count applies (none below the faintest)."""
    mean_ua, ticks = LIFT_TIERS[tier]
    reg, out = _run_began_from(mean_ua * lib.REG_OPEN_ARM_Q)
    assert _readings_until_lift(reg, out, ticks + 5) == ticks
    reg, out = _run_began_from(mean_ua * lib.REG_OPEN_ARM_Q - 1)
    nxt = LIFT_TIERS[tier + 1][1] if tier + 1 < len(LIFT_TIERS) else None
    assert _readings_until_lift(reg, out, lib.REG_LIFT_FAINT_TICKS + 50) == nxt


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("reading_ua,lift", [(lib.REG_OPEN_NOISE_UA, True), (lib.REG_OPEN_NOISE_UA + 1, False)])
def test_a_reading_above_the_noise_restarts_the_run(reading_ua, lift):
    """A reading of 50 uA is at the noise (the run goes on), 51 uA is above it
    (the run restarts from that reading's mean)."""
    reg, out = _run_began_from(lib.REG_LIFT_FAST_MEAN_UA * lib.REG_OPEN_ARM_Q)
    for _ in range(lib.REG_LIFT_FAST_TICKS - 1):
        out = tick(reg, 0, v_of(out))
    out = tick(reg, reading_ua, v_of(out))
    assert bool(out.sense) == lift
    if not lift:
        assert reg._reg.unseen_run == 0 and reg._reg.run_mean_q == reg._reg.arm_mean_q


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("drive_mv,setpoint,lift", [(90, 100, False), (91, 100, True), (299, 1498, False),
                                                    (300, 1498, True), (300, 1499, True)])
def test_a_run_is_a_lift_only_above_the_drive_re_contact_onto_500_ohm_may_meet(drive_mv, setpoint, lift):
    """Only a held drive above 150 ohm x (setpoint + 0.5 mA) (0.3 x 500 ohm,
    the lowest regulated load): 90 mV at a 100 uA setpoint is exactly it,
    300 mV is 0.3 mV above it at 1498 uA (299.7 mV) and 0.15 mV above it at
    1499 uA (299.85 mV: a band of 0.501 mA would make it exactly the bound)."""
    reg, out = _run_began_from(lib.REG_LIFT_FAST_MEAN_UA * lib.REG_OPEN_ARM_Q)
    for _ in range(lib.REG_LIFT_FAST_TICKS - 1):
        out = tick(reg, 0, v_of(out))
    assert not out.sense and reg._reg.setpoint_ua == 100 and reg._reg.open_armed == 0
    reg._reg.setpoint_ua = setpoint                     # the setpoint of the last tick, as looks_open reads it
    reg._reg.last_drive_mv = drive_mv
    out = tick(reg, 0, drive_mv)
    assert bool(out.sense) == lift


@pytest.mark.req("SRS-025")
def test_a_restart_forgets_the_run_and_its_mean():
    """After the lift is told (a restart), the run and its starting mean are 0:
    the next readings at the noise need a new reading above it first."""
    reg, out = _run_began_from(lib.REG_LIFT_FAST_MEAN_UA * lib.REG_OPEN_ARM_Q)
    assert _readings_until_lift(reg, out, 10) == lib.REG_LIFT_FAST_TICKS
    assert reg._reg.unseen_run == 0 and reg._reg.run_mean_q == 0
