"""Where the short-contact rule of SRS-025 (b) (PR-038) acts: only where the
load is known low, and after an anti-shock cut the load is known low.

SRS-025 (b): without a reading above REG_OPEN_NOISE_UA (50 uA) the drive
stays within a blind rise above the drive of the last tick whose reading was
above it (below 100 uA max(10 mV, 1/4 of that drive)); above a setpoint of
55 uA and below 120 uA, one of the first 2 readings above 50 uA after one at
or below it never raises that drive when the load is known low: the low boot
bound (70 mV), and the reference at its target, the last sense window below
1.3 kOhm, or an anti-shock cut since that window.

- On the high boot bound (120 mV: a probe window read above 2.5 kOhm with no
  open-circuit reading) the load is not known low: the first reading above
  the setpoint after one at the noise is evidence like any other and its
  tick's drive is the one the blind rise is measured from (a 4..5 kOhm load at
  10 uF starts only by such readings, PR-038).
- After an anti-shock cut whose reading gave the low boot bound, the load is
  known low whatever the sense window before the cut read (here 1.5 kOhm,
  above 1.3 kOhm, with the reference below its target): such a reading never
  raises the anchor.

The bare regulator is fed readings the test chooses, kicked every tick
(helpers of test_lift_tier_boundaries.py). scripts/c_mutation.py runs this
file in its FAST selection.
"""
from __future__ import annotations

import pytest

from core.regulator import Regulator
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from test_lift_tier_boundaries import MEAN_Q, SLEW_MAX_NA_PER_S, TIERS_UA_READINGS, window
from _regulator_kit import tick, v_of
from tests.arming_kit import CLEAR

HIGH_BOOT_MV = 120                 # REG_BLIND_RISE_BOOT_MV: the load above 2.5 kOhm
LOW_BOOT_MV = 70                   # REG_BLIND_BOOT_LOW_MV
HOLDOFF_TICKS = 100                # SRS-008: 10 ms after an anti-shock cut


def _rise_mv(anchor_mv: int) -> int:
    """SRS-025 (b): the blind rise below 100 uA, max(10 mV, 1/4 of the drive)."""
    return max(10, anchor_mv // 4)


def _enabled_after_window(window_arg: int):
    """A bare regulator armed, 1 mA at the fastest slew, enabled, its probe
    window read (window() of test_lift_tier_boundaries.py)."""
    reg = Regulator()
    assert reg.raw_command(1000, SLEW_MAX_NA_PER_S) == lib.REG_OK
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    return reg, window(reg, window_arg)


def _ramp_on(reg: Regulator, out, plant_ohms: int, setpoint_ua: int):
    """Plain ticks on a resistive plant (i = drive / R, 13 uA dither) until
    the setpoint reaches setpoint_ua."""
    k = 0
    while reg._out.setpoint_ua < setpoint_ua:
        out = tick(reg, v_of(out) * 1000 // plant_ohms + (k % 2) * 13, v_of(out))
        k += 1
        assert k < 5000
    return out


def _noise_then_above(reg: Regulator, out):
    """A reading at the noise (the drive rises blind), then one 30 uA above
    the setpoint (above it, but not more than 50 uA: unscaled). Returns the
    anchor before, the drive the second reading was taken at, the output."""
    anchor_mv = reg._reg.anchor_mv
    out = tick(reg, 0, v_of(out))                        # at the noise
    risen_mv = out.drive_mv
    assert risen_mv > anchor_mv
    setpoint = reg._out.setpoint_ua
    assert 55 < setpoint < 100
    out = tick(reg, setpoint + 30, v_of(out))            # the first above the noise after it
    return anchor_mv, risen_mv, out


def _lift_drives(reg: Regulator, out) -> list[int]:
    """Readings of 0 (a lift) until the run is contact lost (SRS-025 (d));
    the drives of the plain ticks of the lift."""
    run_readings = next(n for mean_ua, n in TIERS_UA_READINGS if reg._reg.run_mean_q >= mean_ua * MEAN_Q)
    drives = []
    for _ in range(run_readings):
        out = tick(reg, 0, v_of(out))
        drives.append(out.drive_mv)
    assert out.sense and out.flags & lib.REG_FLAG_CONTACT_LOST
    drives.pop()                                         # the sense level
    return drives


def _short_contact_then_lift(reg: Regulator, out, plant_ohms: int, boot_mv: int) -> tuple[int, int, int]:
    """The ramp on to a setpoint of 80 uA (the boot bound boot_mv, no
    evidence yet, the reference below its 1 mA target), a reading at the
    noise then one above the setpoint, then a lift: (the anchor before, the
    drive the reading above was taken at, the largest drive of the lift)."""
    out = _ramp_on(reg, out, plant_ohms, 80)
    assert reg._reg.boot_mv == boot_mv and reg._reg.evidence == 0
    assert out.reference_ua < 1000
    anchor_mv, risen_mv, out = _noise_then_above(reg, out)
    return anchor_mv, risen_mv, max(_lift_drives(reg, out))


@pytest.mark.req("SRS-025")
def test_on_the_high_boot_bound_a_reading_above_the_setpoint_after_the_noise_raises_the_anchor():
    """Probe window 27 mV (3.7 kOhm: the 120 mV boot bound, above 1.3 kOhm),
    a ramp to 1 mA until the setpoint is 80 uA on a plant that reads drive /
    2 kOhm (every reading of the ramp above the noise, none of 160 uA; the
    reference below its target); a reading at the noise, the
    drive rises, then a reading 30 uA above the setpoint: the load is not
    known low, so that tick's drive is the anchor, and in the lift that
    follows the drive rises to it + max(10 mV, 1/4 of it), above both the
    earlier anchor's bound and the 120 mV boot bound."""
    plant_ohms = 2000
    reg, out = _enabled_after_window(2700)
    anchor_mv, risen_mv, lift_max_mv = _short_contact_then_lift(reg, out, plant_ohms, HIGH_BOOT_MV)
    assert lift_max_mv == risen_mv + _rise_mv(risen_mv)
    assert lift_max_mv > max(anchor_mv + _rise_mv(anchor_mv), HIGH_BOOT_MV)


@pytest.mark.req("SRS-025")
def test_after_an_anti_shock_cut_the_load_is_known_low_whatever_the_window_read():
    """Probe window 13.5 mV (1.5 kOhm: above 1.3 kOhm, the low boot bound), a
    ramp to 1 mA on a 1.5 kOhm plant; at 0.1 mA one reading of 0.7 mA at the
    drive (V/I below 2.5 kOhm: an anti-shock cut, the low boot bound), the
    10 ms hold-off, the ramp again to 80 uA (the reference below its target);
    then a reading at the noise, the drive rises, and a reading 30 uA above
    the setpoint: a short contact on a load known low, so the anchor stays
    the drive of the last evidence before it, and in the lift that follows
    the drive rises to that anchor + max(10 mV, 1/4 of it), not to the
    risen drive's."""
    plant_ohms = 1500
    reg, out = _enabled_after_window(1350)
    assert reg._reg.boot_mv == LOW_BOOT_MV
    assert reg._reg.low_load == 0                        # the window: not low (1.5 kOhm > 1.3 kOhm)
    out = _ramp_on(reg, out, plant_ohms, 100)
    assert reg._reg.low_load == 0
    out = tick(reg, 700, v_of(out))
    assert out.flags & lib.REG_FLAG_ANTISHOCK_CUT and out.reference_ua == 0
    assert reg._reg.low_load == 1                        # the cut: known low (SRS-025 (b))
    for _ in range(HOLDOFF_TICKS):
        out = tick(reg, 0, 0)
    anchor_mv, risen_mv, lift_max_mv = _short_contact_then_lift(reg, out, plant_ohms, LOW_BOOT_MV)
    assert lift_max_mv == anchor_mv + _rise_mv(anchor_mv)
    assert lift_max_mv < risen_mv + _rise_mv(risen_mv)
