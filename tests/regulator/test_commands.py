"""Out-of-range arguments are rejected with an error code, never clamped;
the wrapper's messages name the argument, the value and the range (SRS-018)."""
from __future__ import annotations

import math

import pytest

from core.regulator import CommandRejected, FaultCode, Regulator, SimulatedRig
from tests.arming_kit import CLEAR

REG_ERR_RANGE = -2

# (call, argument name, bad value, allowed range as the message shows it)
BAD_RIG_CALLS = [
    (lambda rig, v: rig.command(v, 1.0), "target_ma", 30.001, "0 to 30 mA"),
    (lambda rig, v: rig.command(v, 1.0), "target_ma", -0.001, "0 to 30 mA"),
    (lambda rig, v: rig.command(v, 1.0), "target_ma", 1000.0, "0 to 30 mA"),
    (lambda rig, v: rig.command(v, 1.0), "target_ma", math.nan, "0 to 30 mA"),
    (lambda rig, v: rig.command(v, 1.0), "target_ma", math.inf, "0 to 30 mA"),
    (lambda rig, v: rig.command(v, 1.0), "target_ma", "15", "0 to 30 mA"),
    (lambda rig, v: rig.command(10.0, v), "slew_ma_per_s", 0.0, "0.001 to 5 mA/s"),
    (lambda rig, v: rig.command(10.0, v), "slew_ma_per_s", 5.0001, "0.001 to 5 mA/s"),
    (lambda rig, v: rig.command(10.0, v), "slew_ma_per_s", -1.0, "0.001 to 5 mA/s"),
    (lambda rig, v: rig.short(v), "short_ohms", 0, "1 to 1000 ohm"),
    (lambda rig, v: rig.short(v), "short_ohms", 1000.5, "1 to 1000 ohm"),
    (lambda rig, v: rig.change_load(v, 1.0), "load_ohms", 99.9, "100 to 1000000 ohm"),
    (lambda rig, v: rig.change_load(v, 1.0), "load_ohms", 1e9, "100 to 1000000 ohm"),
    (lambda rig, v: rig.change_load(2000, v), "over_s", -0.001, "0 to 600 s"),
    (lambda rig, v: rig.change_load(2000, v), "over_s", 600.001, "0 to 600 s"),
    (lambda rig, v: rig.stick_sensor(v, 1.0), "channel", 2, "0 to 1"),
    (lambda rig, v: rig.stick_sensor(v, 1.0), "channel", -1, "0 to 1"),
    (lambda rig, v: rig.stick_sensor(0, v), "current_ma", 50.001, "0 to 50 mA"),
    (lambda rig, v: rig.stick_sensor(0, v), "current_ma", -0.1, "0 to 50 mA"),
    (lambda rig, v: rig.stick_sensor_noisy(v, 1.0, 3), "channel", 2, "0 to 1"),
    (lambda rig, v: rig.stick_sensor_noisy(0, v, 3), "current_ma", 50.001, "0 to 50 mA"),
    (lambda rig, v: rig.stick_sensor_noisy(0, 1.0, v), "noise_ua", -1, "0 to 1000 uA"),
    (lambda rig, v: rig.stick_sensor_noisy(0, 1.0, v), "noise_ua", 1000.6, "0 to 1000 uA"),
    (lambda rig, v: rig.stick_sensor_noisy(0, 1.0, v), "noise_ua", math.nan, "0 to 1000 uA"),
    (lambda rig, v: rig.stall(v), "stall_ms", -1, "0 to 600000 ms"),
    (lambda rig, v: rig.stall(v), "stall_ms", 600_001, "0 to 600000 ms"),
    (lambda rig, v: rig.run(v), "ticks", 0, "1 to 6000000 ticks"),
    (lambda rig, v: rig.run(v), "ticks", 6_000_001, "1 to 6000000 ticks"),
    (lambda rig, v: rig.run_rows(10, v), "ticks_per_row", 0, "1 to 6000000 ticks"),
    (lambda rig, v: rig.run_rows(v, 10), "max_rows", 0, "1 to"),
    (lambda rig, v: rig.enable_output(v), "on", 2, "True or False"),
    (lambda rig, v: rig.set_polarity(v), "polarity", 0, "NORMAL (1) or REVERSED (-1)"),
]


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("call,name,value,allowed", BAD_RIG_CALLS,
                         ids=[f"{c[1]}={c[2]!r}" for c in BAD_RIG_CALLS])
def test_rig_rejects_out_of_range_argument_with_clear_message(call, name, value, allowed):
    rig = SimulatedRig(seed=1)
    rig.command(10.0, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    before = rig.run(100)
    with pytest.raises(CommandRejected) as info:
        call(rig, value)
    message = str(info.value)
    assert name in message and repr(value) in message and allowed in message
    # nothing changed: not clamped, not applied
    after = rig.run(100)
    assert after.target_ma == before.target_ma == 10.0
    assert after.fault == FaultCode.NONE and after.output_enabled
    assert after.polarity == before.polarity


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("kwargs,name", [({"load_ohms": 50}, "load_ohms"), ({"load_ohms": 1_000_001}, "load_ohms"),
                                         ({"capacitance_uf": 0.0001}, "capacitance_uf"),
                                         ({"capacitance_uf": 101.0}, "capacitance_uf"),
                                         ({"seed": -1}, "seed")])
def test_rig_construction_rejects_bad_load(kwargs, name):
    with pytest.raises(CommandRejected, match=name):
        SimulatedRig(**kwargs)


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("target_ua,slew_na_per_s", [(30_001, 100_000), (-1, 100_000), (2**31 - 1, 100_000),
                                                     (-2**31, 100_000), (10_000, 0), (10_000, 999),
                                                     (10_000, 5_000_001), (10_000, -5), (10_000, 2**31 - 1)])
def test_c_command_returns_range_error_and_keeps_previous_command(target_ua, slew_na_per_s):
    reg = Regulator()
    assert reg.raw_command(10_000, 1_000_000) == 0                # 1 mA/s in nA/s
    assert reg.raw_command(target_ua, slew_na_per_s) == REG_ERR_RANGE
    reg.arm(CLEAR)
    reg.enable_output(True)
    out = None
    for _ in range(100):
        out = reg.step(0, 0, 0)
    assert out.target_ua == 10_000
    assert out.reference_ua == 10   # 100 ticks at the kept 1 mA/s: 0.1 uA per tick


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("value", [2, -2, 0, 2**31 - 1, -2**31])
def test_c_enable_and_polarity_reject_out_of_range(value):
    reg = Regulator()
    if value != 0:
        assert reg.raw_enable(value) == REG_ERR_RANGE
    assert not reg.enabled
    assert reg.raw_set_polarity(value) == REG_ERR_RANGE
    assert reg.step(0, 0, 0).polarity == 1


@pytest.mark.req("SRS-018")
def test_boundaries_are_accepted():
    rig = SimulatedRig(seed=1, load_ohms=100, capacitance_uf=0.001)
    rig.command(30.0, 5.0)
    rig.command(0.0, 0.001)
    rig.change_load(100_000, 600.0)
    rig.stick_sensor(1, 50.0)
    rig.unstick_sensor(1)
    rig.stall(600_000)
    rig.short(1000)
    SimulatedRig(seed=2**64 - 1, load_ohms=100_000, capacitance_uf=100.0)
