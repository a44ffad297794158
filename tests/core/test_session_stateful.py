"""Random event sequences through supervisor and simulated device; after every
step each row must obey the machine's output table (SRS-060, PROP style).

Hypothesis interleaves load events (lift-off, contact, load changes, short,
stuck sensor, stall), the Stop button and time. Batches are capped at 1 s so
that events land at any point of a session (ramp, treat, pause, ramp-down)."""
from __future__ import annotations

from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import pytest

from core.device import SimulatedDevice
from core.machine import OutputPermission, TherapyMachine
from core.regulator import Polarity
from core.supervisor import Supervisor
from tests.core._session_kit import PASSED_CHECKLIST, NOISE_FLOOR_MA, ZERO_MA, settings

EPS = 1e-6


class TableChecker:
    """Observer: checks every row of every batch against the output table."""

    def __init__(self, set_current_ma: float) -> None:
        self.set_current_ma = set_current_ma
        self.violations: list[str] = []
        self.prev_state: str | None = None
        self.prev_ref = 0.0
        self.polarity_changes = 0
        self.prev_polarity = Polarity.NORMAL
        self.prev_enabled = False
        self.prev_peak = 0.0

    def batch(self, start_tick, state, rowbatch, sup) -> None:
        permission = TherapyMachine.OUTPUT_TABLE[state]
        t = start_tick
        for r in rowbatch.rows():
            t += r.ticks
            where = f"{t / sup.tick_hz:.4f}s {state}"
            if permission is OutputPermission.OFF:
                if r.output_enabled and state != "paused":   # paused: sense level, target 0
                    self.violations.append(f"{where}: output enabled")
                if max(r.reference_ma, r.target_ma) > EPS:
                    self.violations.append(f"{where}: reference {r.reference_ma} in an OFF state")
            elif max(r.reference_ma, r.target_ma) > self.set_current_ma + EPS:
                self.violations.append(f"{where}: reference {r.reference_ma} above set current")
            if state == "fault" and abs(r.peak_current_ma) >= NOISE_FLOOR_MA:
                self.violations.append(f"{where}: {r.peak_current_ma} mA flowing in fault")
            if permission is OutputPermission.FALLING:
                if r.target_ma > EPS:
                    self.violations.append(f"{where}: target {r.target_ma} while falling")
                if state == self.prev_state and r.reference_ma > self.prev_ref + EPS:
                    self.violations.append(f"{where}: reference rose to {r.reference_ma}")
            if r.polarity != self.prev_polarity:
                # swapped between the previous row and this one: that row must have
                # been in polarity_switch, output off, |I| <= 0.1 mA throughout
                self.polarity_changes += 1
                if self.prev_state != "polarity_switch" or self.prev_enabled \
                        or self.prev_peak > ZERO_MA or r.reference_ma > EPS + 0.1:
                    self.violations.append(f"{where}: polarity changed after a row in "
                                           f"{self.prev_state} at {self.prev_peak} mA")
            self.prev_state, self.prev_ref, self.prev_polarity = state, r.reference_ma, r.polarity
            self.prev_enabled, self.prev_peak = r.output_enabled, abs(r.peak_current_ma)


class SessionUnderEvents(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 2**16), current=st.sampled_from([5.0, 15.0, 25.0]),
                reverse=st.booleans(), batch_rows=st.sampled_from([1, 10, 100, 1000]),
                warmup_s=st.integers(0, 700))
    def start(self, seed: int, current: float, reverse: bool, batch_rows: int,
              warmup_s: int) -> None:
        self.device = SimulatedDevice(seed=seed)
        self.checker = TableChecker(current)
        s = settings(current_ma=current, reverse_polarity=reverse, ramp_up_s=10.0,
                     ramp_down_s=10.0)
        self.sup = Supervisor(self.device, s, observers=[self.checker], checklist=PASSED_CHECKLIST)
        self.sup.begin()
        # start the random events somewhere in the session: ramp, treat, reversal, end
        self.sup.max_rows = 1000
        while self.running() and self.sup.elapsed_s < warmup_s:
            self.sup.step()
        self.sup.max_rows = batch_rows   # from here short batches: events land anywhere

    def running(self) -> bool:
        return self.sup.state not in ("idle", "fault")

    @rule(steps=st.integers(1, 100))
    def time_passes(self, steps: int) -> None:
        for _ in range(steps):
            if not self.running():
                break
            self.sup.step()

    # contact and load changes are common; events that end in a fault are rarer
    # (repeated entries weigh the choice) so that sessions go on after them
    @precondition(lambda self: self.running())
    @rule(kind=st.sampled_from(["lift_off", "lift_off", "contact", "contact", "load", "load",
                                "stop",
                                "short", "sensor_stuck", "stall"]),
          ohms=st.integers(1, 5000), over_s=st.sampled_from([0.0, 0.5, 5.0]),
          channel=st.integers(0, 1), ma=st.floats(0, 40), ms=st.integers(1, 200))
    def event(self, kind: str, ohms: int, over_s: float, channel: int, ma: float,
              ms: int) -> None:
        if kind == "lift_off":
            self.device.lift_off()
        elif kind == "contact":
            self.device.contact()
        elif kind == "load":
            self.device.change_load(max(ohms, 500), over_s)
        elif kind == "stop":
            self.sup.request_stop()
        elif kind == "short":
            self.device.short(min(ohms, 200))
        elif kind == "sensor_stuck":
            self.device.stick_sensor(channel, ma)
        else:
            self.device.stall(ms)

    @invariant()
    def output_table_holds(self) -> None:
        assert self.checker.violations == []
        assert self.sup.fault != "output_table_violation"
        assert self.checker.polarity_changes <= 1          # never switched back

    @invariant()
    def timer_counts_treat_only_and_never_past_the_set_time(self) -> None:
        assert self.sup.treat_ticks <= self.sup.treat_ticks_set
        if self.sup.state == "fault":
            assert self.sup.fault is not None

    @invariant()
    def off_states_leave_the_output_off(self) -> None:
        last = self.sup.last
        if last is not None and self.sup.machine.output_permission is OutputPermission.OFF \
                and self.sup.state != "paused" and self.checker.prev_state == self.sup.state:
            assert not last.output_enabled


SessionUnderEvents.TestCase.settings = hsettings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestSessionUnderEvents = pytest.mark.req("SRS-060", "SRS-058", "SRS-066")(
    SessionUnderEvents.TestCase)
