"""The bare regulator's raw test interface (core/regulator.py `raw_*`,
issue 12 point 2): any int32 reaches the C, which answers with its status;
anything else is refused in Python with REG_ERR_RANGE, naming the argument
and the int32 range (SRS-018: out-of-range commands rejected, never clamped)."""
from __future__ import annotations

import math

import pytest

from core.regulator import (FLAG_COMPLIANCE_LIMITED, FLAG_OUTPUT_ENABLED, LIMITS, CommandRejected, FaultCode, FaultLatched, Polarity,
                            PolarityChangeRefused, PulseModeRefused, Regulator, RegulatorError, ResetRefused, SimulatedRig, ffi, lib)
from tests.arming_kit import CLEAR

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
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    assert reg.raw_enable(0) == lib.REG_OK


# ---- the wrapper's commands, messages and tick output (mutation run of
# core/regulator.py, issue 12 point 2): each figure is the C's own answer

def _rig_at_5ma():
    """A rig at 2 kOhm commanded to 5 mA at 5 mA/s, 0.2 s on: about 1 mA flowing."""
    rig = SimulatedRig(load_ohms=2000)
    rig.command(5.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    for _ in range(20):
        rig.kick_watchdog()
        row = rig.run(100)
    return rig, row


@pytest.mark.req("SRS-016", "SRS-035")
def test_a_polarity_change_under_current_is_refused_with_the_output_state_and_the_current_named():
    rig, row = _rig_at_5ma()
    assert row.output_enabled and row.measured_current_ma >= 0.5
    with pytest.raises(PolarityChangeRefused) as err:
        rig.set_polarity(Polarity.REVERSED)
    assert err.value.code == lib.REG_ERR_POLARITY_REFUSED
    assert str(err.value) == ("polarity=REVERSED refused: the output must be off and the current below 0.1 mA "
                              f"(output on, measured {row.measured_current_ma:g} mA)")
    assert rig.polarity is Polarity.NORMAL
    rig.enable_output(False)
    for _ in range(3):
        rig.kick_watchdog()
        rig.run(100)
    rig.set_polarity(Polarity.REVERSED)   # output off, no current: accepted
    assert rig.polarity is Polarity.REVERSED


@pytest.mark.req("SRS-016", "SRS-038")
@pytest.mark.parametrize("value", [0, 2, -2, True, False, 1.0, "1", None])
def test_a_polarity_other_than_plus_or_minus_one_is_refused_naming_both(value):
    reg = Regulator()
    with pytest.raises(CommandRejected) as err:
        reg.set_polarity(value)
    assert err.value.code == lib.REG_ERR_RANGE
    assert str(err.value) == (f"polarity={value!r} is out of range: allowed Polarity.NORMAL (1) or REVERSED (-1)")


def _latched_with_current():
    """A bare regulator that latched a fault at 40 mA on both channels."""
    reg = Regulator()
    reg.command(10, 1)
    reg.arm(CLEAR)
    reg.enable_output(True)
    out = reg.step(40_000, 40_000, 1000)
    assert out.fault != FaultCode.NONE
    return reg


@pytest.mark.req("SRS-017", "SRS-035")
def test_a_reset_while_current_flows_is_refused_with_the_measured_current_then_accepted_at_zero():
    reg = _latched_with_current()
    fault = reg.fault
    with pytest.raises(ResetRefused) as err:
        reg.reset_fault()
    assert err.value.code == lib.REG_ERR_RESET_REFUSED
    assert str(err.value) == "reset refused: current must be below 0.1 mA (measured 40 mA)"
    assert reg.fault is fault
    reg.step(0, 0, 0)
    reg.reset_fault()
    assert reg.fault is FaultCode.NONE


@pytest.mark.req("SRS-092", "SRS-035")
def test_a_contact_search_is_refused_with_a_fault_latched_or_the_output_off_and_runs_otherwise():
    reg = _latched_with_current()
    with pytest.raises(FaultLatched) as err:
        reg.search_contact()
    assert err.value.code == lib.REG_ERR_FAULT_LATCHED
    assert str(err.value) == f"contact search refused: fault {reg.fault.name} is latched"
    reg.step(0, 0, 0)
    reg.reset_fault()
    with pytest.raises(CommandRejected) as err:
        reg.search_contact()
    assert err.value.code == lib.REG_ERR_RANGE
    assert str(err.value) == "contact search refused: the output is not enabled"
    reg.arm(CLEAR)
    reg.enable_output(True)
    reg.search_contact()
    assert reg.fault is FaultCode.NONE


@pytest.mark.req("SRS-035")
def test_a_tick_returns_the_c_output_field_by_field():
    reg = Regulator()
    reg.command(10, 1)
    reg.arm(CLEAR)
    reg.enable_output(True)
    reg.kick_watchdog()
    out = reg.step(3_000, 2_000, 6_000)
    assert all(type(v) is int for v in out)
    assert out.status == lib.REG_OK
    assert out.polarity == Polarity.NORMAL
    assert out.target_ua == 10_000
    assert out.measured_ua == 3_000            # the larger channel
    assert out.fault == FaultCode.NONE
    assert out.flags & FLAG_OUTPUT_ENABLED
    raw = reg._out                              # the C struct the tuple copies
    assert out == (out.status, raw.drive_mv, raw.stage_on, raw.sense, raw.polarity, raw.flags, raw.fault,
                   raw.reference_ua, raw.target_ua, raw.measured_ua, raw.flowing_permille, raw.load_ohms,
                   raw.pulse_hz, raw.duty_percent)


@pytest.mark.req("SRS-038")
@pytest.mark.parametrize("position, name", [(0, "current_a_ua"), (1, "current_b_ua"), (2, "voltage_mv"),
                                            (3, "off_current_ua"), (4, "settled_a_ua"), (5, "settled_b_ua")])
@pytest.mark.parametrize("value", [2**31, -2**31 - 1])
def test_a_tick_reading_outside_int32_is_refused_naming_it(position, name, value):
    args = [0, 0, 0, 0, 0, 0]
    args[position] = value
    reg = Regulator()
    with pytest.raises(CommandRejected) as err:
        reg.step(*args)
    assert str(err.value) == f"{name}={value} is not an int32: {INT32_RANGE}"
    assert reg._reg.tick == 0                   # refused before the C ticked


@pytest.mark.req("SRS-038")
@pytest.mark.parametrize("method", ["freeze_loop", "disconnect_output"])
def test_freeze_and_disconnect_take_only_true_or_false(method):
    arg = {"freeze_loop": "frozen", "disconnect_output": "open_"}[method]
    rig = SimulatedRig()
    for value in (2, -1, 0.5, None):
        with pytest.raises(CommandRejected) as err:
            getattr(rig, method)(value)
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value) == f"{arg}={value!r} is out of range: allowed True or False"


@pytest.mark.req("SRS-091", "SRS-035")
def test_a_frozen_loop_does_not_tick_and_runs_again_when_released():
    rig = SimulatedRig()
    rig.run(10)
    rig.freeze_loop(True)
    rig.run(10)
    assert rig.loop_ticks == 10
    rig.freeze_loop(False)
    rig.run(10)
    assert rig.loop_ticks == 20


@pytest.mark.req("SRS-091", "SRS-035")
def test_an_open_disconnect_lets_no_current_flow_and_closing_it_lets_it_flow_again():
    rig, row = _rig_at_5ma()
    assert row.mean_current_ma > 0.5
    rig.disconnect_output(True)
    rig.kick_watchdog()
    row = rig.run(10)
    assert row.peak_current_ma == 0.0 and row.contact_lost
    rig.disconnect_output(False)      # contact seen again (after its hold-off): a restart from 0 (SRS-011)
    for _ in range(40):
        rig.kick_watchdog()
        row = rig.run(100)
    assert row.mean_current_ma > 0.5 and not row.contact_lost


@pytest.mark.req("SRS-038")
def test_a_noisy_stuck_sensor_names_the_argument_out_of_range():
    rig = SimulatedRig()
    cases = ((lambda: rig.stick_sensor_noisy(2, 1.0, 10), "channel=2 is out of range: allowed 0 to 1 (0 = A, 1 = B)"),
             (lambda: rig.stick_sensor_noisy(0, 1e6, 10), "current_ma=1000000.0 is out of range: "),
             (lambda: rig.stick_sensor_noisy(0, 1.0, -1), "noise_ua=-1 is out of range: allowed 0 to "))
    for call, text in cases:
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value).startswith(text)
    rig.stick_sensor_noisy(1, 1.0, 10)    # in range: accepted


@pytest.mark.req("SRS-015", "SRS-035")
def test_run_steps_exactly_the_ticks_asked_and_kicks_nothing_by_itself():
    rig = SimulatedRig(load_ohms=2000)
    rig.command(5.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.kick_watchdog()
    row = rig.run(100)
    assert (row.ticks, rig.loop_ticks) == (100, 100)
    assert row.fault is FaultCode.NONE
    row = rig.run(int(LIMITS.watchdog_ms * LIMITS.tick_hz / 1000))   # 50 ms more, no kick
    assert row.fault is FaultCode.WATCHDOG


class _FailingInit:
    """The compiled module with reg_init answering an error: the wrapper's
    check of a failed initialisation, which a fresh C state never reaches."""

    def __init__(self, status):
        self._status = status

    def reg_init(self, _state):
        return self._status

    def __getattr__(self, name):
        return getattr(lib, name)


@pytest.mark.req("SRS-035")
@pytest.mark.parametrize("status", [lib.REG_ERR_RANGE, -99])
def test_a_failed_initialisation_raises_with_its_code(monkeypatch, status):
    import core.regulator as wrapper

    monkeypatch.setattr(wrapper, "lib", _FailingInit(status))
    with pytest.raises(RegulatorError) as err:
        Regulator()
    assert type(err.value) is RegulatorError
    assert err.value.code == status
    assert str(err.value) == f"reg_init failed: regulator error {status}"


@pytest.mark.req("SRS-016", "SRS-017", "SRS-035")
def test_the_raw_polarity_and_reset_calls_return_the_c_status():
    reg = _latched_with_current()
    assert reg.raw_reset_fault() == lib.REG_ERR_RESET_REFUSED
    assert reg.raw_set_polarity(-1) == lib.REG_ERR_POLARITY_REFUSED
    with pytest.raises(CommandRejected) as err:
        reg.raw_set_polarity(2**31)
    assert str(err.value) == f"polarity=2147483648 is not an int32: {INT32_RANGE}"
    reg.step(0, 0, 0)
    assert reg.raw_reset_fault() == lib.REG_OK
    assert reg.raw_set_polarity(-1) == lib.REG_OK
    assert reg.raw_set_polarity(5) == lib.REG_ERR_RANGE


@pytest.mark.req("SRS-027", "SRS-035")
def test_a_tick_returns_the_load_estimate_of_a_sense_window():
    # 9 uA and 18 mV at the 2 V sense level: about 2 kOhm once the first window is in
    reg = Regulator()
    reg.command(10, 1)
    reg.arm(CLEAR)
    reg.enable_output(True)
    for _ in range(100):
        reg.kick_watchdog()
        out = reg.step(9, 9, 18)
    assert out.load_ohms == reg._out.load_ohms
    assert 1900 <= out.load_ohms <= 2100


@pytest.mark.req("SRS-016", "SRS-035")
def test_a_polarity_change_with_the_output_off_but_current_measured_names_the_output_off():
    reg = Regulator()
    out = reg.step(5_000, 5_000, 1_000)        # output never enabled: 5 mA read anyway
    assert out.fault == FaultCode.NONE and not reg.enabled
    with pytest.raises(PolarityChangeRefused) as err:
        reg.set_polarity(Polarity.REVERSED)
    assert str(err.value) == ("polarity=REVERSED refused: the output must be off and the current below 0.1 mA "
                              "(output off, measured 5 mA)")


def _ramping_rig():
    rig = SimulatedRig(load_ohms=2000)
    rig.command(5.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    return rig


@pytest.mark.req("SRS-015", "SRS-035")
def test_run_rows_kicks_each_row_and_stops_at_an_event_unless_told_not_to():
    b = _ramping_rig().run_rows(50, 100)           # defaults: kick each row, stop on an event
    assert b.rows_run < 50 and b.events != 0 and b.last.fault is FaultCode.NONE
    assert type(b.events) is int
    assert (b.ticks_per_row, b.ticks, b.loop_ticks) == (100, 100 * b.rows_run, 100 * b.rows_run)
    assert b.peak_currents_ma() == [row.peak_current_ma for row in b.rows()]
    assert max(b.peak_currents_ma()) > 0.1
    b = _ramping_rig().run_rows(50, 100, stop_on_event=False)
    assert (b.rows_run, b.loop_ticks, b.last.fault) == (50, 5000, FaultCode.NONE)
    b = _ramping_rig().run_rows(50, 100, kick_each_row=False, stop_on_event=False)
    assert b.last.fault is FaultCode.WATCHDOG   # 5 s without a kick


@pytest.mark.req("SRS-015", "SRS-035")
def test_run_kicks_nothing_even_across_rows():
    # a kick at each row's start would keep this rig alive: 2 x 30 ms after one kick
    rig = _ramping_rig()
    rig.kick_watchdog()
    assert rig.run(300).fault is FaultCode.NONE
    assert rig.run(300).fault is FaultCode.WATCHDOG


@pytest.mark.req("SRS-038")
def test_run_rows_takes_max_rows_up_to_its_limit_and_names_each_argument():
    from core.regulator import MAX_ROWS

    rig = SimulatedRig()
    rig.lift_off()
    rig.command(1.0, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    assert rig.run_rows(MAX_ROWS, 1).rows_run >= 1    # the largest buffer is accepted (stops at contact lost)
    cases = ((lambda: rig.run_rows(MAX_ROWS + 1, 1), f"max_rows={MAX_ROWS + 1} is out of range: allowed 1 to {MAX_ROWS} rows"),
             (lambda: rig.run_rows("3", 1), f"max_rows='3' is not an integer: allowed 1 to {MAX_ROWS} rows"),
             (lambda: rig.run_rows(1, "2"), "ticks_per_row='2' is not an integer: allowed 1 to "),
             (lambda: rig.run_rows(1, 1, kick_each_row=2), "kick_each_row=2 is out of range: allowed True or False"),
             (lambda: rig.run_rows(1, 1, stop_on_event=2), "stop_on_event=2 is out of range: allowed True or False"),
             (lambda: rig.run("5"), "ticks='5' is not an integer: allowed 1 to "),
             (lambda: rig.stick_sensor("0", 1.0), "channel='0' is not an integer: allowed 0 to 1 (0 = A, 1 = B)"),
             (lambda: rig.stick_sensor_noisy("0", 1.0, 1), "channel='0' is not an integer: allowed 0 to 1 (0 = A, 1 = B)"),
             (lambda: rig.unstick_sensor("0"), "channel='0' is not an integer: allowed 0 to 1 (0 = A, 1 = B)"),
             (lambda: rig.unstick_sensor(2), "channel=2 is out of range: allowed 0 to 1 (0 = A, 1 = B)"),
             (lambda: rig.stick_voltage(1e9), "voltage_v=1000000000.0 is out of range: allowed "))
    for call, text in cases:
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value).startswith(text)


@pytest.mark.req("SRS-038")
def test_at_the_ends_of_the_load_and_current_ranges_the_other_argument_is_named():
    rig = SimulatedRig()
    lo_ma, hi_ma = lib.REG_ADC_CURRENT_MIN_UA / 1000, lib.REG_ADC_CURRENT_MAX_UA / 1000
    for ohms in (lib.SIM_LOAD_MIN_OHMS, lib.SIM_LOAD_MAX_OHMS):
        with pytest.raises(CommandRejected) as err:
            rig.change_load(ohms, -1)
        assert str(err.value).startswith("over_s=-1 is out of range")
    for ma in (lo_ma, hi_ma):
        with pytest.raises(CommandRejected) as err:
            rig.stick_sensor_noisy(0, ma, -1)
        assert str(err.value).startswith("noise_ua=-1 is out of range")


@pytest.mark.req("SRS-023", "SRS-035")
def test_a_voltage_channel_stuck_at_0_v_under_current_latches_the_implausible_voltage_fault():
    rig, row = _rig_at_5ma()
    assert row.fault is FaultCode.NONE and row.measured_current_ma > 0.5
    rig.stick_voltage(0.0)
    rig.kick_watchdog()
    assert rig.run(100).fault is FaultCode.VOLTAGE_IMPLAUSIBLE


@pytest.mark.req("SRS-035")
def test_a_batch_totals_charge_and_largest_current_in_user_units():
    b = _ramping_rig().run_rows(30, 100, stop_on_event=False)
    rows = list(b.rows())
    tick_s = 1 / LIMITS.tick_hz
    assert b.charge_mas == pytest.approx(sum(r.mean_current_ma * r.ticks * tick_s for r in rows), rel=1e-6)
    assert b.max_current_ma == pytest.approx(max(r.peak_current_ma for r in rows), rel=1e-9)
    assert 0.5 < b.max_current_ma < 2.0          # 5 mA/s for 0.3 s, the probe window first


def _row_fields_match_the_c_row(row, raw):
    """The decoded row against the C row: uA -> mA, mV -> V, permille -> fraction."""
    assert row.ticks == raw.ticks
    assert row.mean_current_ma == raw.mean_current_ua / 1000
    assert row.peak_current_ma == raw.peak_current_ua / 1000
    assert row.measured_current_ma == raw.measured_ua / 1000
    assert row.voltage_v == raw.voltage_mv / 1000
    assert row.mean_voltage_v == raw.mean_voltage_v and row.skin_swing_v == raw.skin_swing_v   # model rows carry both
    assert row.reference_ma == raw.reference_ua / 1000
    assert row.target_ma == raw.target_ua / 1000
    assert row.polarity is Polarity(raw.polarity)
    assert row.output_enabled is bool(raw.flags & FLAG_OUTPUT_ENABLED)
    assert row.compliance_limited is bool(raw.flags & FLAG_COMPLIANCE_LIMITED)
    assert row.flowing_fraction == raw.flowing_permille / 1000
    assert row.drive_v == raw.drive_mv / 1000
    assert row.setpoint_ma == raw.setpoint_ua / 1000
    assert row.events == raw.events and type(row.events) is int
    assert row.load_ohms == (math.inf if raw.load_ohms == 0.0 else raw.load_ohms)
    assert row.load_estimate_ohms == (math.inf if raw.load_estimate_ohms <= 0.0 else raw.load_estimate_ohms)


@pytest.mark.req("SRS-035", "SRS-027")
def test_decoded_rows_convert_every_field_of_the_c_row():
    rig = _ramping_rig()
    b = rig.run_rows(30, 100, stop_on_event=False)
    rows = list(b.rows())
    for i, row in enumerate(rows):
        _row_fields_match_the_c_row(row, b._buf[i])
    last = rows[-1]
    # figures the conversion must give, independent of the C row
    assert 1000 < last.load_ohms < 5000 and 1000 < last.load_estimate_ohms < 5000
    assert 0.5 < last.mean_current_ma < 2.0 and 0.5 < last.setpoint_ma < 2.0
    assert 1.0 < last.voltage_v < 10.0 and 1.0 < last.drive_v < 20.0
    assert last.flowing_fraction == pytest.approx(last.measured_current_ma / last.target_ma, abs=0.001)
    assert last.output_enabled and not last.compliance_limited
    idle = SimulatedRig().run(10)                      # output never enabled: no estimate yet
    assert idle.load_estimate_ohms == math.inf and not idle.output_enabled
    rig.lift_off()
    row = rig.run(10)
    assert row.load_ohms == math.inf


@pytest.mark.req("SRS-035")
def test_a_row_at_the_compliance_limit_is_flagged():
    rig = SimulatedRig(load_ohms=10_000)         # 15 mA x 10 kOhm is far above 60 V
    rig.command(15.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    for _ in range(60):
        rig.kick_watchdog()
        row = rig.run(200)
    assert row.compliance_limited and row.drive_v == LIMITS.compliance_v and row.fault is FaultCode.NONE
    _row_fields_match_the_c_row(row, rig._one[0])


@pytest.mark.req("SRS-035")
def test_a_status_code_without_its_own_exception_raises_a_regulator_error_with_it():
    from core.regulator import _check

    _check(lib.REG_OK, "target_ma", 1.0)
    with pytest.raises(RegulatorError) as err:
        _check(-99, "target_ma", 1.0)
    assert type(err.value) is RegulatorError
    assert (err.value.code, str(err.value)) == (-99, "target_ma=1.0: regulator error -99")


@pytest.mark.req("SRS-038", "SRS-018")
def test_refusals_in_python_carry_the_range_code_and_name_the_range():
    from core.regulator import MAX_ROWS

    rig = SimulatedRig()
    tpr_max = lib.SIM_MAX_TICKS_PER_ROW
    cases = ((lambda: rig.command("1", 1.0), "target_ma='1' is not a finite number: allowed 0 to 30 mA"),
             (lambda: rig.command(math.nan, 1.0), "target_ma=nan is not a finite number: allowed 0 to 30 mA"),
             (lambda: rig.command(10**400, 1.0), f"target_ma={10**400!r} is out of range: allowed 0 to 30 mA"),
             (lambda: rig.command(0, 0), "slew_ma_per_s=0 is out of range: allowed 0.001 to 5 mA/s"),
             (lambda: rig.command(30, 0), "slew_ma_per_s=0 is out of range: allowed 0.001 to 5 mA/s"),
             (lambda: rig.run("5"), f"ticks='5' is not an integer: allowed 1 to {tpr_max} ticks"),
             (lambda: rig.run(tpr_max + 1), f"ticks={tpr_max + 1} is out of range: allowed 1 to {tpr_max} ticks"),
             (lambda: rig.enable_output(2), "on=2 is out of range: allowed True or False"),
             (lambda: SimulatedRig(seed=2**64), f"seed={2**64} is out of range: allowed 0 to 2**64-1"),
             (lambda: SimulatedRig(seed=-1), "seed=-1 is out of range: allowed 0 to 2**64-1"),
             (lambda: SimulatedRig(load_ohms=lib.SIM_LOAD_MIN_OHMS, capacitance_uf=-1.0),
              "capacitance_uf=-1.0 is out of range: allowed "),
             (lambda: SimulatedRig(load_ohms=lib.SIM_LOAD_MAX_OHMS, capacitance_uf=-1.0),
              "capacitance_uf=-1.0 is out of range: allowed "),
             (lambda: SimulatedRig(load_ohms=1e12), "load_ohms=1000000000000.0 is out of range: allowed "),
             (lambda: rig.run_rows(0, 1), f"max_rows=0 is out of range: allowed 1 to {MAX_ROWS} rows"))
    for call, text in cases:
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value).startswith(text), str(err.value)
    assert rig.run(tpr_max).ticks == tpr_max      # the top of the range is accepted
    assert SimulatedRig().seed == 0 and SimulatedRig(seed=2**64 - 1).seed == 2**64 - 1


@pytest.mark.req("SRS-038")
@pytest.mark.parametrize("value", [True, False, 1, 0])
def test_true_false_one_and_zero_are_accepted_as_switches(value):
    rig = SimulatedRig()
    rig.freeze_loop(value)
    rig.run(10)
    assert rig.loop_ticks == (0 if value else 10)


@pytest.mark.req("SRS-017", "SRS-035")
def test_enabling_with_a_fault_latched_is_refused_naming_the_fault_and_the_way_out():
    reg = _latched_with_current()
    reg.step(0, 0, 0)
    with pytest.raises(FaultLatched) as err:
        reg.arm(CLEAR)
        reg.enable_output(True)
    assert err.value.code == lib.REG_ERR_FAULT_LATCHED
    assert str(err.value) == (f"output cannot be enabled: fault {reg.fault.name} is latched; "
                              "reset_fault() with no current flowing first")


# ---- the pulsed mode's wrapper (SRS-258, SRS-259; issue 14, mutation run of
# core/regulator.py): messages, refusals and decoded fields with their figures

@pytest.mark.req("SRS-259")
def test_a_refused_pulse_mode_names_the_mode_the_output_state_and_the_current():
    reg = Regulator()
    reg.step(1234, 0, 0)                               # output off, 1.234 mA still read
    with pytest.raises(PulseModeRefused) as err:
        reg.set_pulse(10, 50)
    assert isinstance(err.value, RegulatorError) and err.value.code == lib.REG_ERR_MODE_REFUSED
    assert str(err.value) == ("mode=pulsed 10 kHz 50 % refused: the output must be off and the current "
                              "below 0.1 mA (output off, measured 1.234 mA)")
    assert reg.pulse is None
    reg.step(0, 0, 0)
    reg.set_pulse(4.3, 80)                             # off, no current: accepted
    assert reg.pulse == (4.3, 80)
    reg.command(5.0, 5.0)
    reg.arm(CLEAR)
    reg.enable_output(True)
    for mode, khz, duty in (("dc", None, None), ("pulsed 4.5 kHz 60 %", 4.5, 60)):
        with pytest.raises(PulseModeRefused) as err:
            reg.set_pulse(khz, duty)
        assert str(err.value) == (f"mode={mode} refused: the output must be off and the current "
                                  "below 0.1 mA (output on, measured 0 mA)")
    assert reg.pulse == (4.3, 80)


@pytest.mark.req("SRS-259")
@pytest.mark.parametrize("khz,duty,hz", [(4.3, 50, 4300), (10, 80, 10_000), (7.25, 65, 7250)])
def test_an_accepted_pulse_mode_is_published_in_hz_and_percent(khz, duty, hz):
    reg = Regulator()
    reg.set_pulse(khz, duty)
    assert reg.pulse == (hz / 1000, duty)
    out = reg.step(0, 0, 0)
    assert (out.pulse_hz, out.duty_percent) == (hz, duty)
    reg.set_pulse(None)                                # back to DC: (0, 0) to the C
    assert reg.pulse is None
    out = reg.step(0, 0, 0)
    assert (out.pulse_hz, out.duty_percent) == (0, 0)


@pytest.mark.req("SRS-259", "SRS-018")
@pytest.mark.parametrize("value", [2**31, -2**31 - 1, True, 1.0, "1", None])
def test_raw_pulse_and_off_phase_values_outside_int32_are_refused_naming_the_argument(value):
    reg = Regulator()
    for call, name in ((lambda: reg.raw_set_pulse(value, 50), "pulse_hz"),
                       (lambda: reg.raw_set_pulse(10_000, value), "duty_percent"),
                       (lambda: reg.step(0, 0, 0, off_current_ua=value), "off_current_ua")):
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == lib.REG_ERR_RANGE
        assert str(err.value) == f"{name}={value!r} is not an int32: {INT32_RANGE}"
    assert reg.raw_set_pulse(10_000, 50) == lib.REG_OK


@pytest.mark.req("SRS-259")
@pytest.mark.parametrize("stuck", [2, -1, None])
def test_a_stuck_stage_argument_out_of_range_is_refused_naming_it(stuck):
    rig = SimulatedRig()
    with pytest.raises(CommandRejected) as err:
        rig.stick_pulse_stage(stuck)
    assert err.value.code == lib.REG_ERR_RANGE
    assert str(err.value) == f"stuck={stuck!r} is out of range: allowed True or False"


@pytest.mark.req("SRS-258")
@pytest.mark.parametrize("kwargs,message", [
    (dict(drive_v=60.001, ticks=1), "drive_v=60.001 is out of range: allowed 0 to 60 V"),
    (dict(drive_v=-0.001, ticks=1), "drive_v=-0.001 is out of range: allowed 0 to 60 V"),
    (dict(drive_v=20.0, ticks=0), f"ticks=0 is out of range: allowed 1 to {lib.SIM_MAX_TICKS_PER_ROW} ticks"),
    (dict(drive_v=20.0, ticks=1.0), f"ticks=1.0 is not an integer: allowed 1 to {lib.SIM_MAX_TICKS_PER_ROW} ticks"),
    (dict(drive_v=20.0, ticks=1, pulse_khz=10), "duty_percent=None is not an integer: allowed 50 to 80 %"),
    (dict(drive_v=20.0, ticks=1, duty_percent=50), "pulse_khz=None is not a finite number: allowed 4.3 to 10 kHz"),
])
def test_open_loop_drive_arguments_are_refused_naming_the_field_and_range(kwargs, message):
    rig = SimulatedRig(seed=8)
    with pytest.raises(CommandRejected) as err:
        rig.drive_open_loop(**kwargs)
    assert err.value.code == lib.REG_ERR_RANGE and str(err.value) == message


@pytest.mark.req("SRS-258", "SRS-259")
def test_a_stuck_stage_reads_the_plain_current_in_the_off_phase():
    """2 kOhm, 1 uF, 20 V at 10 kHz / 50 % with the pulse stage stuck on: the
    board never gates, so the drive is plain DC and both readings are the DC
    current, 20 V over series plus skin resistance (8.54 mA, as without pulses)."""
    rig = SimulatedRig(seed=4, load_ohms=2000, capacitance_uf=1.0)
    rig.stick_pulse_stage(True)
    rig.drive_open_loop(20.0, 2000, 10, 50)
    t = rig.drive_open_loop(20.0, 1, 10, 50)[0]
    dc_ma = 20.0 / (t.series_ohms + t.skin_ohms) * 1000
    assert t.off_reading_ma == pytest.approx(dc_ma, rel=1e-3)
    assert t.on_reading_ma == pytest.approx(dc_ma, rel=1e-3)
    assert (t.mean_ma, t.peak_ma) == pytest.approx((8.536, 8.536), rel=1e-3)
    _load_tick_matches_the_c_tick(rig, t)
    rig.stick_pulse_stage(False)                       # gated again: nothing flows in the off-phase
    t = rig.drive_open_loop(20.0, 5, 10, 50)[-1]
    assert t.off_reading_ma == 0.0 and t.on_reading_ma == pytest.approx(t.peak_ma, rel=1e-3)
    _load_tick_matches_the_c_tick(rig, t)


def _load_tick_matches_the_c_tick(rig, t):
    """The LoadTick of the last tick against the C's sim_tick_t: uA -> mA, V and ohm as they are."""
    raw = ffi.new("sim_tick_t *")
    assert lib.sim_last_tick(rig._rig, raw) == lib.REG_OK
    assert t == (raw.mean_ua / 1000, raw.peak_ua / 1000, raw.skin_swing_v, raw.skin_v,
                 raw.on_reading_ua / 1000, raw.off_reading_ua / 1000, raw.series_ohms, raw.skin_ohms)
    assert t.on_reading_ma > 1.0 and t.series_ohms > 100 and t.skin_ohms > 100   # each a live value


@pytest.mark.req("SRS-258", "SRS-035")
def test_decoded_rows_carry_the_skin_voltage_swing_of_the_pulses():
    """2 kOhm, 1 uF, 15 mA peak at 10 kHz / 50 %: each row carries the C row's
    largest swing, about 0.37 V (0.340 V at a 13.88 mA peak, SRS-258); plain DC
    at the same 15 mA swings only by the loop's corrections, a few mV."""
    rig = SimulatedRig(seed=3, load_ohms=2000, capacitance_uf=1.0)
    rig.set_pulse(10, 50)
    rig.command(15.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(310, 100, stop_on_event=False)
    b = rig.run_rows(10, 100, stop_on_event=False)
    rows = list(b.rows())
    for i, row in enumerate(rows):
        _row_fields_match_the_c_row(row, b._buf[i])
        assert row.skin_swing_v == b._buf[i].skin_swing_v
    assert all(0.30 < r.skin_swing_v < 0.45 for r in rows), [r.skin_swing_v for r in rows]
    assert b.last.skin_swing_v == rows[-1].skin_swing_v
    dc = SimulatedRig(seed=3, load_ohms=2000, capacitance_uf=1.0)
    dc.command(15.0, 5.0)
    dc.arm(CLEAR)
    dc.enable_output(True)
    dc.run_rows(310, 100, stop_on_event=False)
    assert all(0.0 < r.skin_swing_v < 0.01 for r in dc.run_rows(10, 100, stop_on_event=False).rows())


@pytest.mark.req("SRS-216", "SRS-258")
def test_a_row_of_the_real_time_runner_decodes_with_no_skin_swing():
    """The runner's rows (rt_row_t: a board) carry no load-model quantity; the
    decoder gives 0 V of swing for them (it raised AttributeError, so every
    real-time session failed at its first row once the pulsed model added it)."""
    from core.regulator import _decode
    row = ffi.new("rt_row_t *")[0]
    row.polarity, row.ticks, row.voltage_mv = 1, 100, 1234
    got = _decode(row)
    assert got.skin_swing_v == 0.0 and got.ticks == 100 and got.voltage_v == 1.234


# ---- the checklist arm's wrapper (SRS-306, SRS-307): exact messages, unanswered codes ----
from core.regulator import ArmRefused, NotArmed, Regulator as _ArmReg, checklist_codes as _codes  # noqa: E402
from core.regulator import ffi as _ffi, fill_checklist as _fill, lib as _armlib  # noqa: E402
from tests.arming_kit import CLEAR as _CLEAR  # noqa: E402


@pytest.mark.req("SRS-307")
def test_enable_without_an_arm_says_what_to_do_and_stays_off():
    reg = _ArmReg()
    reg.command(5.0, 1.0)
    with pytest.raises(NotArmed) as info:
        reg.enable_output(True)
    assert str(info.value).endswith("output cannot be enabled: no checklist arm in this session; arm(answers) "
                                    "with the checklist's answers first (SRS-307)")
    assert info.value.code == _armlib.REG_ERR_NOT_ARMED and not reg.enabled


@pytest.mark.req("SRS-306")
def test_a_refused_arm_names_why_in_words():
    reg = _ArmReg()
    yes = {k: True for k in _CLEAR.contraindications}
    with pytest.raises(ArmRefused) as info:
        reg.arm(type(_CLEAR)(yes, dict(_CLEAR.preparation)))
    assert info.value.code == _armlib.REG_ERR_ARM_REFUSED
    assert str(info.value).endswith("checklist refused by the regulator: a contraindication not answered no "
                                    "or a preparation step not answered yes; output off (SRS-306)")
    c = _ffi.new("reg_checklist_t *")
    _fill(c, [_armlib.REG_ANSWER_NO] * 11, [_armlib.REG_ANSWER_YES] * 3)
    assert _armlib.reg_arm(reg._reg, c) == _armlib.REG_ERR_RANGE
    with pytest.raises(ArmRefused) as info:
        from core.regulator import _arm_status
        _arm_status(_armlib.REG_ERR_RANGE)
    assert str(info.value).endswith("checklist refused by the regulator: the list is not the product's "
                                    "(12 contraindications, 3 preparation steps, items and order of version "
                                    f"0x{_armlib.REG_ARM_CHECKLIST_VERSION:08X}); output off (SRS-306, SRS-309)")


@pytest.mark.req("SRS-306")
def test_only_true_and_false_have_a_code_and_padding_is_unanswered():
    contra, prep = _codes(type(_CLEAR)({k: 1 for k in _CLEAR.contraindications}, {k: "yes" for k in _CLEAR.preparation}))
    assert set(contra) == {0} and set(prep) == {0}
    c = _ffi.new("reg_checklist_t *")
    _fill(c, [_armlib.REG_ANSWER_NO] * 12, [_armlib.REG_ANSWER_YES] * 2)
    assert (c.n_preparation, c.preparation[2]) == (2, 0)
    _fill(c, [_armlib.REG_ANSWER_NO] * 10, [_armlib.REG_ANSWER_YES] * 3)
    assert (c.n_contraindications, c.contraindication[10], c.contraindication[11]) == (10, 0, 0)


@pytest.mark.req("SRS-307")
def test_disarm_ends_the_arm_and_the_output():
    reg = _ArmReg()
    reg.arm(_CLEAR)
    reg.command(5.0, 1.0)
    reg.enable_output(True)
    assert reg.armed and reg.enabled
    reg.disarm()
    assert not reg.armed and not reg.enabled
    with pytest.raises(NotArmed):
        reg.enable_output(True)


@pytest.mark.req("SRS-035")
@pytest.mark.parametrize("voltage_mv", [0, 1, 12_345, 80_000])
def test_a_board_row_without_a_model_voltage_takes_its_mean_voltage_from_the_voltage_channel(voltage_mv):
    # rt_row_t (the real-time runner, a board) has no mean_voltage_v nor
    # skin_swing_v: the row's voltage reading stands in, in volts
    from core.regulator import _decode

    raw = ffi.new("rt_row_t *")
    raw.voltage_mv, raw.polarity, raw.ticks = voltage_mv, int(Polarity.NORMAL), 10
    row = _decode(raw[0])
    assert row.mean_voltage_v == voltage_mv / 1000 == row.voltage_v
    assert row.skin_swing_v == 0.0


@pytest.mark.req("SRS-309")
def test_an_arm_reads_the_product_item_list_once(monkeypatch):
    # the codes and the version come from one read of the items: a list that
    # changed between two reads would send codes of one list with the version
    # of another (the C refuses that as a foreign list)
    import core.regulator as regulator
    from core.checklist import CONTRAINDICATIONS, PREPARATION

    reads = []

    def items():
        reads.append(1)
        if len(reads) == 1:
            return CONTRAINDICATIONS, PREPARATION
        return (CONTRAINDICATIONS[1], CONTRAINDICATIONS[0], *CONTRAINDICATIONS[2:]), PREPARATION

    monkeypatch.setattr(regulator, "_product_items", items)
    reg = Regulator()
    reg.arm(CLEAR)
    assert reg.armed and len(reads) == 1


@pytest.mark.req("SRS-306")
def test_an_arm_status_without_its_own_exception_names_the_answers():
    from core.regulator import _arm_status

    _arm_status(lib.REG_OK)
    with pytest.raises(RegulatorError) as err:
        _arm_status(lib.REG_ERR_NULL)
    assert type(err.value) is RegulatorError
    assert str(err.value) == f"answers=None: regulator error {lib.REG_ERR_NULL}"


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("contra,prep", [(None, None), ([False] * 12, [True] * 3), ("no", "yes")])
def test_sections_that_are_missing_or_not_mappings_give_unanswered_codes(contra, prep):
    # an answers object lacking a section, or holding a list or text in it,
    # is unanswered throughout (code 0), never an AttributeError: the C refuses it
    from types import SimpleNamespace

    from core.checklist import CONTRAINDICATIONS, PREPARATION
    from core.regulator import ArmRefused, checklist_codes

    for answers in (SimpleNamespace(), SimpleNamespace(contraindications=contra),
                    SimpleNamespace(preparation=prep), SimpleNamespace(contraindications=contra, preparation=prep)):
        assert checklist_codes(answers) == ([0] * len(CONTRAINDICATIONS), [0] * len(PREPARATION))
        reg = Regulator()
        with pytest.raises(ArmRefused):
            reg.arm(answers)
        assert not reg.armed
    # a valid section beside a missing one keeps its codes
    half = SimpleNamespace(contraindications=CLEAR.contraindications)
    assert checklist_codes(half) == ([lib.REG_ANSWER_NO] * len(CONTRAINDICATIONS), [0] * len(PREPARATION))


@pytest.mark.req("SRS-035", "SRS-259")
def test_a_simulated_pulsed_row_reports_the_models_mean_voltage_not_the_last_reading():
    rig = SimulatedRig(load_ohms=2000)
    rig.set_pulse(10.0, 50)
    rig.command(5.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    b = rig.run_rows(20, 100, stop_on_event=False)
    rows = list(b.rows())
    for i, row in enumerate(rows):
        _row_fields_match_the_c_row(row, b._buf[i])
    # at 50 % duty the mean electrode voltage is well below the on-phase reading
    assert any(abs(r.mean_voltage_v - r.voltage_v) > 0.1 for r in rows)


@pytest.mark.req("SRS-306", "SRS-309")
def test_an_arm_refused_for_a_foreign_list_carries_the_range_code():
    from core.regulator import ArmRefused, _arm_status

    with pytest.raises(ArmRefused) as err:
        _arm_status(lib.REG_ERR_RANGE)
    assert err.value.code == lib.REG_ERR_RANGE
    with pytest.raises(ArmRefused) as err:
        _arm_status(lib.REG_ERR_ARM_REFUSED)
    assert err.value.code == lib.REG_ERR_ARM_REFUSED


@pytest.mark.req("SRS-038")
def test_an_enable_status_without_its_own_exception_names_the_value_given():
    from core.regulator import _enable_status

    with pytest.raises(RegulatorError) as err:
        _enable_status(lib.REG_ERR_NULL, 0, True)
    assert str(err.value) == f"on=True: regulator error {lib.REG_ERR_NULL}"


@pytest.mark.req("SRS-307")
def test_a_disarm_the_c_refuses_raises_naming_the_disarm():
    reg = Regulator()
    reg._reg = ffi.NULL                      # the only status reg_disarm refuses with
    with pytest.raises(RegulatorError) as err:
        reg.disarm()
    assert str(err.value) == f"disarm=None: regulator error {lib.REG_ERR_NULL}"


@pytest.mark.req("SRS-316")
def test_a_simulated_batch_gives_no_late_command_marks():
    """SRS-316: a simulated command applies before the next row, so a batch
    of the rig gives no post count, no mark and no reference or mean at a
    post (the supervisor then judges it as before)."""
    rig = SimulatedRig(seed=1)
    batch = rig.run_rows(2, 100)
    assert batch.posts_applied is None
    assert batch.decision_reference_ma is None and batch.decision_mean_current_ma is None


# ---- the settled sampling's fault hook of the simulated board (FM-REG-12, SRS-317) -----------

def _settled_reading(rig: SimulatedRig) -> tuple[int, int]:
    inp = _ffi.new("reg_inputs_t *")
    assert _armlib.sim_hal_read(rig._rig, inp) == _armlib.REG_OK
    return inp.settled_a_ua, inp.settled_b_ua


@pytest.mark.req("SRS-317")
def test_a_failed_settled_sampling_reads_as_its_mode_says_the_other_readings_true():
    """Pulsed, settled current 10 mA, off-phase 0.5 mA, peak 12 mA: both
    settled channels read (within the 49 uA noise bound) the true 10 mA, 0,
    the off-phase's 0.5 mA, the value kept when the fault began, or the gain
    x the true value; the peak channels keep the peak; "ok" ends the fault."""
    rig = SimulatedRig()
    r = rig._rig
    r.pulse_hz, r.i_settled_a, r.i_off_a, r.i_end_a = 10, 0.010, 0.0005, 0.012

    def near(ua):
        a, b = _settled_reading(rig)
        return abs(a - ua) <= 49 and abs(b - ua) <= 49

    assert near(10_000)
    for mode, gain, want in (("zero", 1.0, 0), ("off_phase", 1.0, 500), ("scaled", 0.4, 4_000),
                             ("scaled", 1.5, 15_000), ("stale", 1.0, 10_000)):
        rig.fail_settled(mode, gain)
        assert near(want), mode
    r.i_settled_a = 0.020                       # stale: still the value of the fault's start
    assert near(10_000)
    inp = _ffi.new("reg_inputs_t *")
    _armlib.sim_hal_read(r, inp)
    assert abs(inp.current_a_ua - 12_000) <= 49 and abs(inp.current_b_ua - 12_000) <= 49
    rig.fail_settled("ok")
    assert near(20_000)
    assert (r.settled_fault, r.settled_gain_permille) == (_armlib.SIM_SETTLED_OK, 1000)


@pytest.mark.req("SRS-317", "SRS-038")
def test_the_settled_fault_modes_map_to_the_boards_codes_and_bad_arguments_are_named():
    rig = SimulatedRig()
    codes = {"ok": _armlib.SIM_SETTLED_OK, "zero": _armlib.SIM_SETTLED_ZERO,
             "off_phase": _armlib.SIM_SETTLED_OFF_PHASE, "stale": _armlib.SIM_SETTLED_STALE,
             "scaled": _armlib.SIM_SETTLED_SCALED}
    assert list(codes.values()) == [0, 1, 2, 3, 4]
    for mode, code in codes.items():
        rig.fail_settled(mode, 0.25)
        assert (rig._rig.settled_fault, rig._rig.settled_gain_permille) == (code, 250)
    rig.fail_settled("scaled")
    assert rig._rig.settled_gain_permille == 1000          # the default gain is 1
    rig.fail_settled("scaled", 2.0)
    assert rig._rig.settled_gain_permille == 2000
    cases = ((lambda: rig.fail_settled("Zero"),
              "mode='Zero' is out of range: allowed ok, zero, off_phase, stale, scaled"),
             (lambda: rig.fail_settled("scaled", 2.001), "gain=2.001 is out of range: allowed 0 to 2 (times the true value)"),
             (lambda: rig.fail_settled("scaled", -0.001), "gain=-0.001 is out of range: allowed 0 to 2 (times the true value)"))
    for call, text in cases:
        with pytest.raises(CommandRejected) as err:
            call()
        assert err.value.code == _armlib.REG_ERR_RANGE
        assert str(err.value) == text
    assert (rig._rig.settled_fault, rig._rig.settled_gain_permille) == (_armlib.SIM_SETTLED_SCALED, 2000)


@pytest.mark.req("SRS-317")
def test_the_short_current_is_the_regulators_in_mA():
    assert LIMITS.short_min_ma == _armlib.REG_SHORT_MIN_UA / 1000 == 0.5
