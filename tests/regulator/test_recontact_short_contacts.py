"""Sub-millisecond contact chatter at low setpoints (SRS-025 (c), issue 8
point 1, PR-038): contacts of one or two ticks (0.1..0.2 ms) between lifts,
at every setpoint 0.05..0.115 mA in 5 uA steps, on loads 500 ohm..1.5 kOhm
(where a drive wound up blind meets re-contact through 30 % of the load) and
0.01..1 uF: no sample of the true current exceeds the slewed reference +
0.5 mA. The sweep that would have found PR-038: on main e1d5952 it gives
cases up to 0.55 mA above the reference (the drive compounded 52 -> 70 ->
87 mV at 500 ohm by re-anchoring the 1/4 blind rise on each short contact)."""
from __future__ import annotations

import pytest

from _regulator_kit import rows_ticks
from core.regulator import FaultCode, SimulatedRig
from tests.arming_kit import CLEAR

BAND_MA = 0.5                                   # SRS-011, SRS-025 (c)
LOADS_OHMS = (500, 600, 800, 1000, 1500)
CAPACITANCES_UF = (0.01, 0.1, 1.0)
SETPOINTS_MA = tuple(round(0.05 + 0.005 * k, 3) for k in range(14))     # 0.05..0.115 mA
# lift, contact, lift, contact, ... in ticks (0.1 ms): one- and two-tick
# contacts after lifts of 0.5..20 ms, as a hand skimming the water
CHATTER_TICKS = ((5, 1, 5, 2, 40, 1, 200, 1, 3, 2, 120, 1),
                 (2, 2, 2, 1, 70, 2, 2, 1, 150, 1, 30, 2))


def _worst_excess_ma(rows) -> float:
    return max(r.peak_current_ma - min(p.reference_ma, r.reference_ma) for p, r in zip(rows, rows[1:]))


def _run(load_ohms, capacitance_uf, setpoint_ma, chatter, seed):
    rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    rig.command(setpoint_ma, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = rows_ticks(rig, 300)                 # probe, ramp (<= 23 ms), held
    for k, ticks in enumerate(chatter):
        (rig.lift_off if k % 2 == 0 else rig.contact)()
        rows += rows_ticks(rig, ticks)
    rig.contact()
    rows += rows_ticks(rig, 300)
    return rows


@pytest.mark.req("SRS-025", "SRS-011", "SRS-022")
@pytest.mark.parametrize("capacitance_uf", CAPACITANCES_UF)
@pytest.mark.parametrize("load_ohms", LOADS_OHMS)
def test_short_contacts_at_every_low_setpoint_stay_within_reference_plus_0_5_ma(load_ohms, capacitance_uf):
    over = []
    for step, setpoint_ma in enumerate(SETPOINTS_MA):
        for n, chatter in enumerate(CHATTER_TICKS):
            rows = _run(load_ohms, capacitance_uf, setpoint_ma, chatter, seed=step * 7 + n)
            assert all(r.fault == FaultCode.NONE for r in rows), (setpoint_ma, chatter)
            excess_ma = _worst_excess_ma(rows)
            if excess_ma > BAND_MA:
                over.append((setpoint_ma, n, round(excess_ma, 3)))
    assert over == []


# The rule is scoped to loads known low (the low boot bound, and the reference
# at its target or a sense window below 1.3 kOhm): a 4..5 kOhm load at 10 uF
# reads ~1.7..2.3 kOhm in the enable probe and starts only by such readings;
# with the rule on every low boot bound its 1 mA/s ramp ended 31..61 ms late.
@pytest.mark.req("SRS-025", "SRS-028")
@pytest.mark.parametrize("load_ohms", (4000, 5000))
def test_a_4_to_5_kohm_10_uf_start_still_ends_its_ramp_within_one_row(load_ohms):
    late_ticks = []
    for target_ma in (0.08, 0.1, 0.15):
        for seed in range(8):
            rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=10.0)
            rig.command(target_ma, 1.0)
            rig.arm(CLEAR)
            rig.enable_output(True)
            rows = rows_ticks(rig, int(target_ma * 10_000) + 200)
            at_target = next(k for k, r in enumerate(rows, 1) if r.reference_ma >= target_ma)
            late_ticks.append(at_target - int(target_ma * 10_000))
    assert max(late_ticks) <= 100                 # one 10 ms supervisor row (SRS-028)


# Not up to 55 uA: there every reading above the 50 uA noise is above the
# setpoint, and an 800 ohm return to 0.05 mA settled 5.7 ms later with it.
@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("capacitance_uf", CAPACITANCES_UF)
def test_a_return_to_0_05_ma_at_800_ohm_settles_within_2_ms_of_the_reference(capacitance_uf):
    rig = SimulatedRig(seed=5, load_ohms=800, capacitance_uf=capacitance_uf)
    rig.command(0.05, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows_ticks(rig, 2500)
    rig.lift_off()
    rows_ticks(rig, 500)
    rig.contact()
    rows = rows_ticks(rig, 2000)
    reached = next(k for k, r in enumerate(rows) if r.reference_ma >= 0.05)
    settled = next(k for k, r in enumerate(rows) if k >= reached and abs(r.mean_current_ma - 0.05) <= 0.0125)
    assert settled - reached <= 20
