"""SRS-025 (d), PR-026: the tiers of the unseen-lift rule at their bounds
(issue 12 point 1).

A run of readings at the open-circuit noise is "contact lost" once it is as
long as the filtered mean at the run's last reading above the noise needs:
from 121 uA 5 readings, from 91 uA 21, from 71 uA 81, from 61 uA 250, from
51 uA 3000, below it none. The numbers are written here as the requirement
states them, not taken from regulator_config.h: a test that reads the limit
from the build moves with a mutated limit and cannot fail.

The bare regulator is fed readings the test chooses, kicked every tick: a
ramp on a 1.5 kOhm plant to 0.1 mA (drive ~140 mV, above the 90 mV that
re-contact onto 500 ohm may meet at 0.1 mA; the setpoint below 120 uA, so
the collapse tier of (a) stays unarmed), then readings that steer the filter
(1/8 per tick in 1/16 uA, C integer arithmetic) to exactly the mean wanted on
a reading above the noise (at most 3 at the noise in a row on the way, fewer
than any tier's run), then readings of 0 (a lift). Nothing sets the regulator's
state by hand. scripts/c_mutation.py runs this file in its FAST selection.
"""
from __future__ import annotations

import collections
import functools

import pytest

from core.regulator import Regulator
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from _regulator_kit import tick, v_of
from tests.arming_kit import CLEAR

WINDOW_TICKS = 100                 # one 10 ms sense window (SRS-010)
SLEW_MAX_NA_PER_S = 5_000_000      # 5 mA/s
NOISE_UA = 50                      # REG_OPEN_NOISE_UA: a reading above it is evidence
MEAN_Q = 16                        # the filtered mean in 1/16 uA (SRS-025 (a))
MEAN_DIV = 8                       # filtered by 1/8 per tick
# SRS-025 (d): (run mean from which, readings at the noise) as the statement gives them
TIERS_UA_READINGS = [(121, 5), (91, 21), (71, 81), (61, 250), (51, 3000)]
LONGEST_READINGS = 3000
PLANT_OHMS = 1500
# steering readings: at the noise, or above it and below a 160 uA reading
STEER_READINGS_UA = (0, 25, NOISE_UA, *range(NOISE_UA + 1, 160))
NOISE_RUN_MAX = 3


def window(reg: Regulator, sum_mv: int):
    """One sense window whose voltage readings add up to exactly sum_mv."""
    base, extra = divmod(sum_mv, WINDOW_TICKS)
    for k in range(WINDOW_TICKS):
        out = tick(reg, 0, base + (1 if k < extra else 0))
    return out


def filtered(mean_q: int, i_ua: int) -> int:
    """One step of the filter of SRS-025 (a): C division truncates toward 0."""
    d = i_ua * MEAN_Q - mean_q
    return mean_q + (d // MEAN_DIV if d >= 0 else -(-d // MEAN_DIV))


@functools.lru_cache(maxsize=None)
def steering(mean_q: int, goal_q: int) -> tuple[int, ...]:
    """The shortest readings that take the filter from mean_q to exactly
    goal_q on a reading above the noise (breadth-first over the filter's
    states). Readings at the noise (0..50 uA) may help it down, at most
    NOISE_RUN_MAX in a row (fewer than any tier's run)."""
    start = (mean_q, 0)
    came: dict = {start: None}
    todo = collections.deque([start])
    found = None
    while todo and found is None:
        q, run = todo.popleft()
        for i_ua in STEER_READINGS_UA:
            state = (filtered(q, i_ua), 0 if i_ua > NOISE_UA else run + 1)
            if state[1] > NOISE_RUN_MAX or state in came:
                continue
            came[state] = ((q, run), i_ua)
            if state == (goal_q, 0):
                found = state
                break
            todo.append(state)
    assert found is not None, (mean_q, goal_q)
    readings = []
    state = found
    while came[state] is not None:
        state, i_ua = came[state]
        readings.append(i_ua)
    return tuple(readings[::-1])


def ramped(target_ua: int = 100, probe_sum_mv: int = 1350):
    """Enabled, probe window (1.5 kOhm behind the sense resistor: 13.5 mV),
    then a ramp on the 1.5 kOhm plant (i = drive / 1.5, with a 13 uA dither)
    to target_ua, held there for a while."""
    reg = Regulator()
    assert reg.raw_command(target_ua, SLEW_MAX_NA_PER_S) == lib.REG_OK
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    window(reg, probe_sum_mv)
    out = tick(reg, 0, 0)
    for k in range(600):
        out = tick(reg, v_of(out) * 1000 // PLANT_OHMS + (k % 2) * 13, v_of(out))
    assert reg._out.setpoint_ua == target_ua and out.sense == 0
    return reg, out


def run_from_mean(goal_q: int):
    """The ramped regulator, then readings that leave the filtered mean at
    exactly goal_q on the last of them (above the noise: the run's start)."""
    reg, out = ramped()
    readings = steering(reg._reg.arm_mean_q, goal_q)
    assert len(readings) <= 40
    for i_ua in readings:
        out = tick(reg, i_ua, v_of(out))
        assert out.sense == 0
    assert reg._reg.arm_mean_q == goal_q               # the filter reached it through readings
    assert reg._out.setpoint_ua == 100 and reg._reg.open_armed == 0
    # the held drive is above 150 ohm x (setpoint + 0.5 mA) = 90 mV: the run rule may act
    assert out.drive_mv * 1000 > 150 * (100 + 500)
    return reg, out


def readings_until_lift(reg: Regulator, out, limit: int) -> int | None:
    """Readings of 0 (a lift) until contact lost; None if none within limit."""
    for n in range(1, limit + 1):
        out = tick(reg, 0, v_of(out))
        if out.sense:
            assert out.flags & lib.REG_FLAG_CONTACT_LOST
            return n
        assert out.drive_mv * 1000 > 150 * (100 + 500)
    return None


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("tier", range(len(TIERS_UA_READINGS)))
def test_a_run_from_exactly_the_tier_mean_is_a_lift_after_its_readings(tier):
    """From a filtered mean of exactly 121 (91, 71, 61, 51) uA the 5th (21st,
    81st, 250th, 3000th) reading at the noise is contact lost, not one before."""
    mean_ua, readings = TIERS_UA_READINGS[tier]
    reg, out = run_from_mean(mean_ua * MEAN_Q)
    assert readings_until_lift(reg, out, readings + 5) == readings


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("tier", range(len(TIERS_UA_READINGS)))
def test_a_run_from_1_16_ua_below_the_tier_mean_needs_the_next_tier(tier):
    """From 120 15/16 uA (90 15/16, 70 15/16, 60 15/16) the next tier's count
    applies: 21 (81, 250, 3000) readings; from 50 15/16 uA no run is a lift."""
    mean_ua, _ = TIERS_UA_READINGS[tier]
    nxt = TIERS_UA_READINGS[tier + 1][1] if tier + 1 < len(TIERS_UA_READINGS) else None
    reg, out = run_from_mean(mean_ua * MEAN_Q - 1)
    assert readings_until_lift(reg, out, LONGEST_READINGS + 50) == nxt
