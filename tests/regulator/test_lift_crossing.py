"""A lift-off that begins before the first 0.16 mA reading and lasts while the
slewed reference passes 0.2 mA (SRS-025 (c); issue 8 point 1, the residual the
independent review found on main: 500 ohm, 1 uF, 25 mA at 1 mA/s, lifted at
tick 150 for 1899 ticks: 6.56 mA above the reference at re-contact; 0.125 mA
at 3 mA/s with chatter [1, 98, 38] ticks: 0.506 mA above).

Required: at every setpoint from 0 up, after a lift of any length (0.1 ms to
minutes) at any point of a ramp, no sample of the true current exceeds the
slewed reference + 0.5 mA, over 500 ohm..10 kOhm, 0.01..10 uF, references
0..1 mA and contact chatter every 1..20 ms."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _regulator_kit import rows_ticks
from core.regulator import FaultCode, LIMITS, SimulatedRig
from tests.arming_kit import CLEAR

BAND_MA = 0.5                 # SRS-011 / SRS-025 (c): slewed reference + 0.5 mA
BOOT_HIGH_V = 0.12            # REG_BLIND_RISE_BOOT_MV: the largest blind drive before evidence


def _excess(rows) -> list[float]:
    """Per tick: true peak current above the smaller of the last two slewed references."""
    return [r.peak_current_ma - min(p.reference_ma, r.reference_ma) for p, r in zip(rows, rows[1:])]


def _lift(rig: SimulatedRig, ticks: int, row_ticks: int = 1):
    rig.lift_off()
    rows = list(rig.run_rows(max(1, ticks // row_ticks), row_ticks, stop_on_event=False).rows())
    rig.contact()
    return rows


@pytest.mark.req("SRS-025", "SRS-011")
def test_reviewers_crossing_case_500_ohm_25_ma_at_1_ma_per_s():
    rig = SimulatedRig(seed=0, load_ohms=500, capacitance_uf=1.0)
    rig.command(25.0, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = rows_ticks(rig, 150)
    assert max(r.measured_current_ma for r in rows) < 0.16       # the lift begins before any evidence
    lifted = _lift(rig, 1899)                                    # and lasts until the reference would be 0.2 mA
    # the reference waits while the blind-rise bound holds the drive with no
    # evidence (it used to run on to 0.2 mA and free the drive toward 1 V)
    assert lifted[-1].reference_ma < 0.2
    rows += lifted + rows_ticks(rig, 3000)
    assert max(_excess(rows)) <= BAND_MA                          # was 6.56 mA
    assert max(r.drive_v for r in lifted if not r.contact_lost) <= BOOT_HIGH_V + 1e-9
    assert rows[-1].fault == FaultCode.NONE and rows[-1].measured_current_ma > 0.3


@pytest.mark.req("SRS-025", "SRS-011")
def test_reviewers_chatter_case_lift_inside_the_enable_probe():
    """A one-tick lift inside the enable probe read the 2 V sense level and
    raised the window mean above the high boot threshold: 0.12 V blind drive at
    500 ohm. A window with an open-circuit reading now takes the low bound."""
    rig = SimulatedRig(seed=0, load_ohms=500, capacitance_uf=1.0)
    rig.command(0.125, 3.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = [rig.run(1)]
    for k, ticks in enumerate([1, 98, 38]):
        (rig.lift_off if k % 2 == 0 else rig.contact)()
        rows += rows_ticks(rig, ticks)
    rig.contact()
    rows += rows_ticks(rig, 1000)
    assert max(_excess(rows)) <= BAND_MA                          # was 0.506 mA


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("load_ohms", [500, 1000, 2000, 5000, 10_000])
@pytest.mark.parametrize("capacitance_uf", [0.01, 0.1, 1.0, 10.0])
def test_lift_spanning_the_crossing_grid(load_ohms, capacitance_uf):
    """Deterministic grid: lifts that begin at enable, inside the probe or
    before the first 0.16 mA reading and last until the reference would be
    past 0.2 mA (0.25, 0.5, 1 mA and, on a 25 mA ramp, 2 mA), then contact."""
    for target_ma, slew in ((1.0, 5.0), (1.0, 1.0), (25.0, 1.0)):
        for lift_at_ticks in (0, 50, 150, 300):
            for lift_to_ma in (0.25, 0.5, 1.0, 2.0):
                if lift_to_ma > target_ma:
                    continue
                rig = SimulatedRig(seed=lift_at_ticks + int(lift_to_ma * 100), load_ohms=load_ohms,
                                   capacitance_uf=capacitance_uf)
                rig.command(target_ma, slew)
                rig.arm(CLEAR)
                rig.enable_output(True)
                rows = rows_ticks(rig, lift_at_ticks) if lift_at_ticks else [rig.run(1)]
                lift_ticks = int(lift_to_ma / slew * LIMITS.tick_hz) - lift_at_ticks
                rows += _lift(rig, lift_ticks, row_ticks=10)
                rows += rows_ticks(rig, 3000)
                worst = max(_excess(rows))
                assert worst <= BAND_MA, (target_ma, slew, lift_at_ticks, lift_to_ma, worst)
                assert rows[-1].fault == FaultCode.NONE, (target_ma, slew, lift_at_ticks, lift_to_ma)


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("load_ohms", [500, 10_000])
def test_lift_of_a_minute_before_any_evidence(load_ohms):
    """0.1 ms to minutes: lifted 15 ms after enable (after the probe, before
    any reading) for 60 s, on a 1 mA ramp (0.05 mA/s) that would have passed
    0.2 mA after 4 s: the reference waits, the drive stays at the boot bound,
    re-contact stays within the band."""
    rig = SimulatedRig(seed=9, load_ohms=load_ohms, capacitance_uf=1.0)
    rig.command(1.0, 0.05)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = rows_ticks(rig, 150)
    lifted = _lift(rig, 600_000, row_ticks=100)
    assert lifted[-1].reference_ma < 0.2 and not lifted[-1].contact_lost   # the reference waited
    assert max(r.peak_current_ma for r in lifted) == 0.0
    assert max(r.drive_v for r in lifted) <= BOOT_HIGH_V + 1e-9
    rows += lifted[-1:] + rows_ticks(rig, 3000)
    assert max(_excess(rows)) <= BAND_MA
    assert rows[-1].fault == FaultCode.NONE


@pytest.mark.req("SRS-025", "SRS-011")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(500, 10_000), st.floats(0.01, 10), st.floats(0.0, 1.0),
       st.floats(0.05, 5.0), st.integers(0, 400), st.integers(1, 4000),
       st.lists(st.integers(10, 200), min_size=0, max_size=12))
def test_unseen_lift_then_chatter(seed, load_ohms, capacitance_uf, target_ma, slew, lift_at_ticks, lift_ticks,
                                  chatter):
    """Hypothesis: a lift before (or around) the first reading, of 0.1 ms..0.4 s,
    then contact chatter every 1..20 ms, then contact."""
    rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    rig.command(target_ma, slew)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = [rig.run(1)] + (rows_ticks(rig, lift_at_ticks) if lift_at_ticks else [])
    rows += _lift(rig, lift_ticks)
    for k, ticks in enumerate(chatter):
        (rig.contact if k % 2 == 0 else rig.lift_off)()
        rows += rows_ticks(rig, ticks)
    rig.contact()
    rows += rows_ticks(rig, 1000)
    assert max(_excess(rows)) <= BAND_MA
    assert max(r.peak_current_ma for r in rows) <= LIMITS.hard_limit_ma
