"""What a restart from zero forgets and what it assumes (SRS-025 (a), (b),
(d); SRS-011, SRS-008; PR-026, PR-038; issue 12 point 1).

- (a)/(d): the filtered mean is that of the readings since the last restart:
  a run of readings at the noise after a restart began from the mean those
  readings give, not from the current that flowed before it.
- (b), PR-038: after an anti-shock cut the load is known from V/I of the cut
  reading (the low boot bound below 2.5 kOhm) with the last sense window
  below 1.3 kOhm: a reading above the setpoint that follows one at the noise
  is a short contact and never raises the anchor of the blind rise.

The bare regulator is fed readings the test chooses, kicked every tick
(helpers of test_lift_tier_boundaries.py). scripts/c_mutation.py runs this
file in its FAST selection.
"""
from __future__ import annotations

import pytest

from core.regulator import Regulator
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from test_lift_tier_boundaries import (LONGEST_READINGS, MEAN_DIV, MEAN_Q, PLANT_OHMS, SLEW_MAX_NA_PER_S,
                                       TIERS_UA_READINGS, ramped, tick, v_of, window)
from tests.arming_kit import CLEAR

CONTACT_HIST_WINDOWS = 22          # SRS-131: windows below the contact level before contact returns
HIGH_BOOT_SUM_MV = 2700            # a 3.7 kOhm window (27 mV): the 120 mV boot bound, the run rule may act
HOLDOFF_TICKS = 100                # SRS-008: 10 ms after an anti-shock cut


def _restart_by_enable(reg: Regulator, out):
    """Output off and on again: the enable probe, one window at 27 mV."""
    assert reg.raw_enable(0) == lib.REG_OK
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    return window(reg, HIGH_BOOT_SUM_MV)


def _restart_by_contact_search(reg: Regulator, out):
    """The supervisor's contact search (SRS-092), then the contact back after
    22 settled windows at 27 mV (SRS-131)."""
    reg.search_contact()
    for _ in range(CONTACT_HIST_WINDOWS):
        out = window(reg, HIGH_BOOT_SUM_MV)
    assert out.sense == 0 and not out.flags & lib.REG_FLAG_CONTACT_LOST
    return out


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("restart", [_restart_by_enable, _restart_by_contact_search])
def test_a_run_after_a_restart_begins_from_the_mean_of_the_readings_since(restart):
    """0.1 mA held on 1.5 kOhm (filtered mean ~100 uA), then a restart; the
    first plain reading after it is at the noise, the second 100 uA: the
    filter from 0 makes the run's mean 100 / 8 = 12.5 uA, below 51 uA, so
    3050 readings at the noise are never contact lost (the mean from before
    the restart would tell a lift within 21 readings)."""
    reg, out = ramped()
    assert reg._reg.arm_mean_q >= 91 * MEAN_Q
    out = restart(reg, out)
    out = tick(reg, 0, v_of(out))                  # the first plain tick: its reading met the sense level
    out = tick(reg, 100, v_of(out))
    assert out.sense == 0
    assert reg._reg.run_mean_q == 100 * MEAN_Q // MEAN_DIV
    drives = []
    for _ in range(LONGEST_READINGS + 50):
        out = tick(reg, 0, v_of(out))
        assert out.sense == 0 and not out.flags & lib.REG_FLAG_CONTACT_LOST
        drives.append(out.drive_mv)
    # the run rule's drive condition held: only the mean kept it from acting
    assert max(drives) * 1000 > 150 * (reg._out.setpoint_ua + 500)


def _cut_then_ramp(probe_sum_mv: int):
    """Ramp to 1 mA on the 1.5 kOhm plant, probe window probe_sum_mv; at a
    setpoint of 0.1 mA one reading of 0.7 mA at the drive (V/I well below
    2.5 kOhm: an anti-shock cut, the low boot bound), the 10 ms hold-off, then
    the ramp again on the plant until the setpoint is 80 uA."""
    reg = Regulator()
    assert reg.raw_command(1000, SLEW_MAX_NA_PER_S) == lib.REG_OK
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    out = window(reg, probe_sum_mv)
    k = 0
    while reg._out.setpoint_ua < 100:
        out = tick(reg, v_of(out) * 1000 // PLANT_OHMS + (k % 2) * 13, v_of(out))
        k += 1
        assert k < 5000
    out = tick(reg, 700, v_of(out))
    assert out.flags & lib.REG_FLAG_ANTISHOCK_CUT and out.reference_ua == 0
    for _ in range(HOLDOFF_TICKS):
        out = tick(reg, 0, 0)
    k = 0
    while reg._out.setpoint_ua < 80:
        out = tick(reg, v_of(out) * 1000 // PLANT_OHMS + (k % 2) * 13, v_of(out))
        k += 1
        assert k < 5000
    assert out.reference_ua < 1000 and reg._reg.boot_mv == 70 and reg._reg.evidence == 0
    return reg, out


@pytest.mark.req("SRS-025")
def test_after_an_anti_shock_cut_a_short_contact_never_raises_the_anchor():
    """Probe window 9 mV (1 kOhm, below 1.3 kOhm), an anti-shock cut at 0.1 mA
    (the low boot bound), the ramp again to 80 uA (the reference below its
    target); then a reading at the noise, the drive rises, and a reading of
    110 uA (above the setpoint): a short contact, so the anchor stays the
    drive of the last evidence before it; in the lift that follows the drive
    rises to that anchor + max(10 mV, 1/4 of it), not to the risen drive's."""
    reg, out = _cut_then_ramp(900)
    anchor_mv = reg._reg.anchor_mv
    out = tick(reg, 0, v_of(out))                        # at the noise
    risen_mv = out.drive_mv
    assert risen_mv > anchor_mv
    setpoint = reg._out.setpoint_ua
    out = tick(reg, setpoint + 30, v_of(out))            # above the setpoint, not scaled
    assert 55 < setpoint < 100
    run_readings = next(n for mean_ua, n in TIERS_UA_READINGS if reg._reg.run_mean_q >= mean_ua * MEAN_Q)
    drives = []
    for _ in range(run_readings):
        out = tick(reg, 0, v_of(out))
        drives.append(out.drive_mv)
    assert out.sense and out.flags & lib.REG_FLAG_CONTACT_LOST    # the run told the lift (SRS-025 (d))
    drives.pop()                                         # the sense level
    assert max(drives) == anchor_mv + max(10, anchor_mv // 4)
    assert max(drives) < risen_mv + max(10, risen_mv // 4)
