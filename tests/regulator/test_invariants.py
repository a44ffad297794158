"""Hypothesis: under arbitrary commands and readings (garbage included) the
drive never exceeds compliance, the commanded current never exceeds the hard
limit, and a latched fault stays latched until a valid reset (SRS-019)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.regulator import (LIMITS, CommandRejected, FaultCode, FaultLatched, NotArmed,
                            PolarityChangeRefused, Regulator, ResetRefused, SimulatedRig, lib)

import pytest
from tests.arming_kit import CLEAR, CLEAR_CODES

INT32 = st.integers(-2**31, 2**31 - 1)
HARD_LIMIT_UA = int(LIMITS.hard_limit_ma * 1000)
COMPLIANCE_MV = int(LIMITS.compliance_v * 1000)
SENSE_MV = int(LIMITS.sense_v * 1000)
ZERO_UA = int(LIMITS.zero_current_ma * 1000)
ADC_MAX_UA, ADC_MAX_MV = 50_000, 80_000

current_reading = st.one_of(st.integers(0, ADC_MAX_UA), st.integers(-2, 2), st.sampled_from([ADC_MAX_UA, ADC_MAX_UA + 1]),
                            INT32)
voltage_reading = st.one_of(st.integers(0, ADC_MAX_MV), st.sampled_from([-1, ADC_MAX_MV + 1]), INT32)
ops = st.one_of(
    st.tuples(st.just("command"), st.one_of(st.integers(-10, HARD_LIMIT_UA + 10), INT32),
              st.one_of(st.integers(-10, 5010).map(lambda x: x * 1000), st.integers(990, 5_000_010), INT32)),
    st.tuples(st.just("enable"), st.one_of(st.integers(-1, 2), INT32)),
    st.tuples(st.just("polarity"), st.one_of(st.sampled_from([1, -1, 0, 2]), INT32)),
    st.tuples(st.just("kick")),
    st.tuples(st.just("reset")),
    st.tuples(st.just("read"), current_reading, current_reading, voltage_reading),
    st.tuples(st.just("plant"), st.integers(1, 200_000), st.integers(1, 300)),
    # the checklist arm (SRS-307): mostly all clear, else arbitrary codes and counts
    st.tuples(st.just("arm"), st.one_of(st.just(CLEAR_CODES[0]), st.lists(INT32, max_size=13)),
              st.one_of(st.just(CLEAR_CODES[1]), st.lists(INT32, max_size=4))),
    st.tuples(st.just("disarm")),
)


class Checker:
    """Steps a bare regulator and checks the invariants after every tick."""

    def __init__(self) -> None:
        self.reg = Regulator()
        self.latched = FaultCode.NONE
        self.last_reading_ok = True
        self.last_max_ua = 0
        self.prev_ref_ua = 0
        self.slew_ua_per_s = 1.0
        self.armed = False

    def step(self, a: int, b: int, v: int):
        out = self.reg.step(a, b, v)
        assert out.status == 0
        assert 0 <= out.drive_mv <= COMPLIANCE_MV
        if out.sense:
            assert out.drive_mv <= SENSE_MV
        assert 0 <= out.reference_ua <= HARD_LIMIT_UA and 0 <= out.target_ua <= HARD_LIMIT_UA
        # the reference never moves faster than the slew (it may restart at 0)
        step_ua = self.slew_ua_per_s / LIMITS.tick_hz + 1
        assert out.reference_ua == 0 or abs(out.reference_ua - self.prev_ref_ua) <= step_ua
        self.prev_ref_ua = out.reference_ua
        if self.latched != FaultCode.NONE:
            assert out.fault == self.latched            # stays latched, first code kept
        self.latched = FaultCode(out.fault)
        if out.fault != FaultCode.NONE:
            assert out.stage_on == 0 and out.drive_mv == 0
            self.armed = False                          # a fault ends the arm (SRS-307)
        self.last_reading_ok = 0 <= a <= ADC_MAX_UA and 0 <= b <= ADC_MAX_UA and 0 <= v <= ADC_MAX_MV
        self.last_max_ua = max(a, b)
        return out

    def apply(self, op) -> None:
        kind = op[0]
        if kind == "command":
            if self.reg.raw_command(op[1], op[2]) == 0:
                assert 0 <= op[1] <= HARD_LIMIT_UA and 1000 <= op[2] <= 5_000_000   # nA/s
                self.slew_ua_per_s = op[2] / 1000
        elif kind == "enable":
            was_enabled = self.reg.enabled
            status = self.reg.raw_enable(op[1])
            if op[1] == 1 and self.latched != FaultCode.NONE:
                assert status != 0 and not self.reg.enabled
            elif op[1] == 1 and not self.armed:         # never on without a checklist arm (SRS-307)
                assert status == lib.REG_ERR_NOT_ARMED and not self.reg.enabled and not was_enabled
        elif kind == "arm":
            status = self.reg.raw_arm(op[1], op[2])
            self.armed = status == 0
            assert self.armed == (list(op[1]) == CLEAR_CODES[0] and list(op[2]) == CLEAR_CODES[1])
            if not self.armed:
                assert not self.reg.enabled             # a refused arm switches the output off
        elif kind == "disarm":
            self.reg.disarm()
            self.armed = False
            assert not self.reg.enabled
        elif kind == "polarity":
            self.reg.raw_set_polarity(op[1])
        elif kind == "kick":
            self.reg.kick_watchdog()
        elif kind == "reset":
            status = self.reg.raw_reset_fault()
            if status == 0:
                assert self.last_reading_ok and self.last_max_ua < ZERO_UA
                self.latched = FaultCode.NONE
            else:
                assert self.reg.fault == self.latched
        elif kind == "read":
            self.step(op[1], op[2], op[3])
        else:                                           # a resistive load answering the drive
            ohms, ticks = op[1], op[2]
            drive_mv = 0
            for _ in range(ticks):
                i_ua = min(40_000, drive_mv * 1000 // ohms)
                out = self.step(i_ua, i_ua, min(ADC_MAX_MV, i_ua * ohms // 1000))
                drive_mv = out.drive_mv if out.stage_on else 0


@pytest.mark.req("SRS-019", "SRS-005", "SRS-006", "SRS-017", "SRS-018")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=1, max_size=80))
def test_bare_regulator_invariants_under_arbitrary_sequences(sequence):
    checker = Checker()
    for op in sequence:
        checker.apply(op)


rig_ops = st.one_of(
    st.tuples(st.just("command"), st.floats(-1, 35), st.floats(0, 6)),
    st.tuples(st.just("enable"), st.booleans()),
    st.tuples(st.just("polarity"), st.sampled_from([1, -1])),
    st.tuples(st.just("reset")),
    st.tuples(st.just("lift_off")), st.tuples(st.just("contact")),
    st.tuples(st.just("short"), st.integers(1, 1000)), st.tuples(st.just("clear_short")),
    st.tuples(st.just("change_load"), st.integers(100, 100_000), st.floats(0, 0.05)),
    st.tuples(st.just("stick"), st.integers(0, 1), st.floats(0, 50)),
    st.tuples(st.just("unstick"), st.integers(0, 1)),
    st.tuples(st.just("stall"), st.integers(0, 100)),
    st.tuples(st.just("run"), st.integers(1, 3000)),
    st.tuples(st.just("arm")), st.tuples(st.just("disarm")),
)


class RigChecker:
    """Runs a rig per tick and checks the invariants on every tick."""

    def __init__(self, rig: SimulatedRig) -> None:
        self.rig = rig
        self.latched = FaultCode.NONE
        self.above_run = 0

    def run(self, ticks: int) -> None:
        for row in self.rig.run_rows(ticks, 1, stop_on_event=False).rows():
            assert row.drive_v <= LIMITS.compliance_v
            assert row.reference_ma <= LIMITS.hard_limit_ma and row.target_ma <= LIMITS.hard_limit_ma
            assert row.peak_current_ma <= LIMITS.hardware_clamp_ma
            if row.contact_lost:
                assert row.drive_v <= LIMITS.sense_v
            # true current above the hard limit: never for more than 1 ms
            self.above_run = self.above_run + 1 if row.peak_current_ma > LIMITS.hard_limit_ma else 0
            assert self.above_run <= LIMITS.tick_hz // 1000
            if self.latched != FaultCode.NONE:
                assert row.fault == self.latched and not row.output_enabled
            self.latched = row.fault

    def apply(self, op) -> None:
        rig, kind = self.rig, op[0]
        try:
            if kind == "command":
                rig.command(op[1], op[2])
            elif kind == "enable":
                rig.enable_output(op[1])
            elif kind == "arm":
                rig.arm(CLEAR)
            elif kind == "disarm":
                rig.disarm()
            elif kind == "polarity":
                rig.set_polarity(op[1])
            elif kind == "reset":
                rig.reset_fault()
                self.latched = FaultCode.NONE
            elif kind in ("lift_off", "contact", "clear_short"):
                getattr(rig, kind)()
            elif kind == "short":
                rig.short(op[1])
            elif kind == "change_load":
                rig.change_load(op[1], op[2])
            elif kind == "stick":
                rig.stick_sensor(op[1], op[2])
            elif kind == "unstick":
                rig.unstick_sensor(op[1])
            elif kind == "stall":
                rig.stall(op[1])
            else:
                self.run(op[1])
        except NotArmed as exc:
            assert kind == "enable" and not rig.armed, exc
        except (CommandRejected, FaultLatched, PolarityChangeRefused) as exc:
            assert kind in ("command", "enable", "polarity"), exc
        except ResetRefused:
            assert kind == "reset" and rig.fault == self.latched


@pytest.mark.req("SRS-019", "SRS-009", "SRS-032", "SRS-033")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(500, 10_000), st.floats(0.01, 10), st.floats(1, 25),
       st.lists(rig_ops, min_size=1, max_size=30))
def test_rig_invariants_under_arbitrary_events(seed, load_ohms, capacitance_uf, target_ma, sequence):
    rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    checker = RigChecker(rig)
    rig.command(target_ma, 5.0)                     # energised before the events start
    rig.arm(CLEAR)
    rig.enable_output(True)
    checker.run(2000)
    for op in sequence:
        checker.apply(op)
        if op[0] != "stall":
            rig.kick_watchdog()
        checker.run(10)
