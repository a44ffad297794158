"""Every argument of every wrapper method, given any float (finite, infinite,
NaN), any int of any size or any non-number, either is accepted or raises a
RegulatorError subclass naming the argument and its range (SRS-038,
SRS-018, SRS-035; issue 8 point 6: command(1e308, 1) raised OverflowError)."""
from __future__ import annotations

import decimal
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.regulator import CommandRejected, FaultCode, Polarity, RegulatorError, Regulator, SimulatedRig
from tests.arming_kit import CLEAR

try:
    import numpy as np
except ImportError:  # numpy is optional
    np = None

NON_NUMBERS = ["15", "", None, decimal.Decimal("1"), decimal.Decimal("NaN"), 1 + 0j, complex(math.nan, 0),
               [1.0], (1.0,), {}, object(), b"1", float]
if np is not None:
    NON_NUMBERS += [np.int64(5), np.int32(-1), np.uint64(2**63), np.float32(np.nan), np.array([1.0]),
                    np.float64(np.inf), np.float64(1e308)]

ANY_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(),
                      st.integers(min_value=2**60), st.integers(max_value=-2**60), st.sampled_from(NON_NUMBERS))

# method, argument name in the message, call with the value in that position
RIG_CALLS = [
    ("command target", "target_ma", lambda rig, v: rig.command(v, 1.0)),
    ("command slew", "slew_ma_per_s", lambda rig, v: rig.command(1.0, v)),
    ("short", "short_ohms", lambda rig, v: rig.short(v)),
    ("change_load ohms", "load_ohms", lambda rig, v: rig.change_load(v, 1.0)),
    ("change_load over", "over_s", lambda rig, v: rig.change_load(2000, v)),
    ("stick_sensor channel", "channel", lambda rig, v: rig.stick_sensor(v, 1.0)),
    ("stick_sensor current", "current_ma", lambda rig, v: rig.stick_sensor(0, v)),
    ("unstick_sensor", "channel", lambda rig, v: rig.unstick_sensor(v)),
    ("stick_voltage", "voltage_v", lambda rig, v: rig.stick_voltage(v)),
    ("stall", "stall_ms", lambda rig, v: rig.stall(v)),
    ("run", "ticks", lambda rig, v: rig.run(v)),
    ("run_rows rows", "max_rows", lambda rig, v: rig.run_rows(v, 1)),
    ("run_rows ticks", "ticks_per_row", lambda rig, v: rig.run_rows(1, v)),
    ("run_rows kick", "kick_each_row", lambda rig, v: rig.run_rows(1, 1, kick_each_row=v)),
    ("run_rows stop", "stop_on_event", lambda rig, v: rig.run_rows(1, 1, stop_on_event=v)),
    ("enable_output", "on", lambda rig, v: rig.enable_output(v)),
    ("set_polarity", "polarity", lambda rig, v: rig.set_polarity(v)),
    ("freeze_loop", "frozen", lambda rig, v: rig.freeze_loop(v)),
    ("disconnect_output", "open_", lambda rig, v: rig.disconnect_output(v)),
    ("constructor seed", "seed", lambda rig, v: SimulatedRig(seed=v)),
    ("constructor load", "load_ohms", lambda rig, v: SimulatedRig(load_ohms=v)),
    ("constructor capacitance", "capacitance_uf", lambda rig, v: SimulatedRig(capacitance_uf=v)),
]
REG_CALLS = [
    ("command target", "target_ma", lambda reg, v: reg.command(v, 1.0)),
    ("command slew", "slew_ma_per_s", lambda reg, v: reg.command(1.0, v)),
    ("raw_command target", "target_ua", lambda reg, v: reg.raw_command(v, 1000)),
    ("raw_command slew", "slew_na_per_s", lambda reg, v: reg.raw_command(1000, v)),
    ("raw_enable", "on", lambda reg, v: reg.raw_enable(v)),
    ("raw_set_polarity", "polarity", lambda reg, v: reg.raw_set_polarity(v)),
    ("step a", "current_a_ua", lambda reg, v: reg.step(v, 0, 0)),
    ("step b", "current_b_ua", lambda reg, v: reg.step(0, v, 0)),
    ("step v", "voltage_mv", lambda reg, v: reg.step(0, 0, v)),
    ("enable_output", "on", lambda reg, v: reg.enable_output(v)),
    ("set_polarity", "polarity", lambda reg, v: reg.set_polarity(v)),
]


def _try(call, target, name, value):
    try:
        call(target, value)
    except RegulatorError as exc:
        text = str(exc)
        assert text.startswith(f"{name}=") or f" {name}=" in text or name in text, text
        assert "allowed" in text, text                          # the message names the range
        return False
    return True


@pytest.mark.req("SRS-038", "SRS-018", "SRS-035")
@pytest.mark.parametrize("args,name", [((1e308, 1), "target_ma"), ((-1e308, 1), "target_ma"),
                                       ((1, 1e308), "slew_ma_per_s"), ((1, -1e308), "slew_ma_per_s")])
def test_the_reviewers_overflow_calls_are_command_rejected(args, name):
    for target in (Regulator(), SimulatedRig(seed=1)):
        with pytest.raises(CommandRejected, match=f"^{name}=.* allowed"):
            target.command(*args)
        assert target._reg.target_ua == 0                     # nothing changed


@pytest.mark.req("SRS-038", "SRS-018", "SRS-035")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RIG_CALLS), ANY_VALUE)
def test_every_rig_argument_accepts_or_rejects_with_a_regulator_error(call, value):
    label, name, fn = call
    if label.startswith("run") and isinstance(value, int) and not isinstance(value, bool) and value > 1000:
        value = -value                                         # a valid huge batch only costs time
    rig = SimulatedRig(seed=2)
    _try(fn, rig, name, value)


@pytest.mark.req("SRS-038", "SRS-018", "SRS-035")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REG_CALLS), ANY_VALUE)
def test_every_regulator_argument_accepts_or_rejects_with_a_regulator_error(call, value):
    _label, name, fn = call
    reg = Regulator()
    _try(fn, reg, name, value)


@pytest.mark.req("SRS-038", "SRS-018")
@pytest.mark.parametrize("label,name,fn", RIG_CALLS)
def test_every_rig_argument_rejects_every_non_number_and_non_finite(label, name, fn):
    for value in NON_NUMBERS + [math.nan, math.inf, -math.inf, 1e308, -1e308, 10**400, -10**400]:
        accepted = _try(fn, SimulatedRig(seed=2), name, value)
        # bool-like flags accept only True/False/0/1; nothing here is a valid value of any argument
        assert not accepted, (label, value)


@pytest.mark.req("SRS-038", "SRS-018")
def test_accepted_values_still_work_after_the_change():
    rig = SimulatedRig(seed=4, load_ohms=2000.0, capacitance_uf=1)
    rig.command(10, 5)                                         # ints are numbers
    rig.arm(CLEAR)
    rig.enable_output(True)
    assert rig.run(100).fault == FaultCode.NONE
    rig.enable_output(False)
    rig.run(100)
    rig.set_polarity(Polarity.REVERSED)
    assert rig.polarity == Polarity.REVERSED
