"""The bare regulator's raw test interface (core/regulator.py `raw_*`,
issue 12 point 2): any int32 reaches the C, which answers with its status;
anything else is refused in Python with REG_ERR_RANGE, naming the argument
and the int32 range (SRS-018: out-of-range commands rejected, never clamped)."""
from __future__ import annotations

import pytest

from core.regulator import CommandRejected, Regulator, lib

INT32_RANGE = "allowed -2147483648 to 2147483647"


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("value", [-2**31, 2**31 - 1])
def test_the_int32_ends_reach_the_c_which_refuses_them_as_commands(value):
    reg = Regulator()
    assert reg.raw_command(value, 1_000_000) == lib.REG_ERR_RANGE
    assert reg.raw_command(10_000, value) == lib.REG_ERR_RANGE
    assert reg.raw_enable(value) == lib.REG_ERR_RANGE


@pytest.mark.req("SRS-018")
@pytest.mark.parametrize("value", [-2**31 - 1, 2**31, -2**32, -3**31, 10**30, True, 1.0, "1", None])
def test_a_value_outside_int32_or_not_an_int_is_refused_naming_the_argument(value):
    reg = Regulator()
    for call, name in ((lambda: reg.raw_command(value, 1_000_000), "target_ua"),
                       (lambda: reg.raw_command(10_000, value), "slew_na_per_s"),
                       (lambda: reg.raw_enable(value), "on")):
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value) == f"{name}={value!r} is not an int32: {INT32_RANGE}"


@pytest.mark.req("SRS-018")
def test_valid_raw_values_are_accepted():
    reg = Regulator()
    assert reg.raw_command(10_000, 1_000_000) == lib.REG_OK
    assert reg.raw_enable(1) == lib.REG_OK
    assert reg.raw_enable(0) == lib.REG_OK
