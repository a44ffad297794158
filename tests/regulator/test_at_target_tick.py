"""REG_FLAG_AT_TARGET (the row event EVENT_AT_TARGET, its rising edge) comes
on the tick the slewed reference reaches the target (SRS-314): rising, the
first tick whose output shows reference_ua equal to the target; falling,
when the reference's sub-uA part above the target is spent, at most
1 uA / slew after that. Kills cext/regulator.c slew_toward's two listed
survivors (ROR >= -> > #2 and CRP 0 -> 1 #3: the fraction left after the
last carry, the flag a tick late)."""
from __future__ import annotations

import math

import pytest

from core.regulator import EVENT_AT_TARGET, LIMITS, SimulatedRig, _to_c
from tests.arming_kit import CLEAR

FA_PER_UA = 10**9
FA_PER_TICK_PER_NA_PER_S = 1_000_000 // LIMITS.tick_hz   # 1 nA/s = 100 fA per tick


def _ticks(rig: SimulatedRig, n: int):
    """n rows of one tick each, not stopped at events: (reference_ua, events) per tick."""
    batch = rig.run_rows(n, 1, stop_on_event=False)
    return [(round(r.reference_ma * 1000), r.events) for r in batch.rows()]


def _ramp(rig: SimulatedRig, target_ma: float, slew_ma_per_s: float, margin_ticks: int = 50):
    rig.command(target_ma, slew_ma_per_s)
    step_fa = _to_c("slew_ma_per_s", slew_ma_per_s) * FA_PER_TICK_PER_NA_PER_S
    return _ticks(rig, math.ceil(round(target_ma * 1000) * FA_PER_UA / step_fa) + margin_ticks), step_fa


@pytest.mark.req("SRS-314", "SRS-003")
@pytest.mark.parametrize("target_ma, slew_ma_per_s", [
    (1.0, 0.3), (0.05, 0.025), (0.5, 0.123), (2.5, 2.1), (5.0, 3.3), (7.77, 3.333), (13.37, 5.0), (25.0, 5.0)])
def test_the_flag_rises_on_the_tick_the_rising_reference_reaches_the_target(target_ma, slew_ma_per_s):
    rig = SimulatedRig(seed=3, load_ohms=1000)
    rig.arm(CLEAR)
    rig.enable_output(True)
    ticks, _ = _ramp(rig, target_ma, slew_ma_per_s)
    target_ua = round(target_ma * 1000)
    reached = next(k for k, (ref, _) in enumerate(ticks) if ref == target_ua)
    flagged = [k for k, (_, ev) in enumerate(ticks) if ev & EVENT_AT_TARGET]
    assert flagged == [reached], (reached, flagged[:3])
    assert all(ref < target_ua for ref, _ in ticks[:reached])


@pytest.mark.req("SRS-314", "SRS-003")
@pytest.mark.parametrize("start_ma, target_ma, slew_ma_per_s", [
    (5.0, 4.0, 0.7), (25.0, 24.5, 2.5), (10.0, 9.99, 0.003), (13.37, 12.0, 1.1), (5.0, 1.0, 2.0)])
def test_the_flag_rises_when_the_falling_reference_has_spent_its_fraction(start_ma, target_ma, slew_ma_per_s):
    rig = SimulatedRig(seed=3, load_ohms=1000)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.command(start_ma, 5.0)
    rig.run_rows(round(start_ma / 5.0 * LIMITS.tick_hz) // 100 + 2, 100, stop_on_event=False)   # at the start
    span_ma = start_ma - target_ma
    rig.command(target_ma, slew_ma_per_s)
    step_fa = _to_c("slew_ma_per_s", slew_ma_per_s) * FA_PER_TICK_PER_NA_PER_S
    fraction_ticks = math.ceil(FA_PER_UA / step_fa)           # 1 uA at this slew
    ticks = _ticks(rig, math.ceil(round(span_ma * 1000) * FA_PER_UA / step_fa) + fraction_ticks + 50)
    target_ua = round(target_ma * 1000)
    reached = next(k for k, (ref, _) in enumerate(ticks) if ref == target_ua)
    flagged = [k for k, (_, ev) in enumerate(ticks) if ev & EVENT_AT_TARGET]
    assert len(flagged) == 1 and reached <= flagged[0] <= reached + fraction_ticks, (reached, flagged[:3])
    assert all(ref == target_ua for ref, _ in ticks[reached:])  # never below the target
