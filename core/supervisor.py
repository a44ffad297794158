"""The session supervisor: the only code that commands the regulator (SRS-060).

It runs a session on a clock (simulated by default, the monotonic clock with
`--realtime`, SRS-069) in rows of ticks at most 10 ms long. Before every batch
it turns the machine's output permission (`TherapyMachine.OUTPUT_TABLE`) into
device commands; after every batch it checks that the regulator did what the
table allows (an output seen on where the table says OFF is a fault) and turns
the regulator's status into machine events:

    contact lost -> paused (timer stopped)     contact back -> ramp from 0
    anti-shock cut -> ramp again from 0         regulator fault -> fault
    no contact within the limit -> ramp_down, session interrupted

Treatment time counts rows spent in `treat` only (SRS-065). Batches end
exactly at scenario event ticks, at half time and at the end of the set time,
so those happen at their tick, not at the next batch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from core.device import Device
from core.history import History
from core.limits import load_limits
from core.machine import GuardInputs, OutputPermission, TherapyMachine, TransitionNotAllowed
from core.regulator import FaultCode, Polarity, RegulatorError
from core.scenario import ScenarioEvent, apply_event
from core.settings import TherapySettings

# The row length (supervisor period) and "no current" come from spec/limits.yaml.
_LIMITS = load_limits()
ROW_S = _LIMITS.supervisor_period_max_ms / 1000.0    # trace row spacing (SRS-085)
ZERO_CURRENT_MA = _LIMITS.zero_current_ma            # |I| at or below: no current (SRS-066)
REFERENCE_EPS_MA = 1e-6     # float slack when comparing references
POST_FAULT_OBSERVE_S = 0.5  # rows run after a fault to record that no current flows
REALTIME_MAX_ROWS = 10      # 100 ms batches when paced: responsive stop and view
FAST_MAX_ROWS = 6_000       # 60 s per batch at most: bounded row buffers
PROGRESS_WALL_S = 10.0      # wall time between history progress writes (a commit each)
# Longest wait for a history lock held by another program, inside the control
# loop: the watchdog is kicked just before the write, and 20 ms plus a 10 ms
# row stays inside its 50 ms window (the disk's own commit time adds to this;
# see _record_progress).
PROGRESS_WAIT_S = 0.02
SWITCH_ATTEMPTS = 20        # rows (200 ms) waiting for |I| to settle before a switch

# Supervisor-detected faults, reported beside the regulator's FaultCode names.
FAULT_TABLE_VIOLATION = "output_table_violation"
FAULT_SUPERVISOR = "supervisor_error"
FAULT_RAMP_OVERRUN = "ramp_overrun"    # a ramp that never completes (spec/limits.yaml)


@dataclass(frozen=True)
class SessionPlan:
    """What the supervisor needs of validated settings."""
    site: str
    current_ma: float
    minutes: float
    ramp_up_s: float
    ramp_down_s: float
    reverse_polarity: bool
    contact_timeout_s: float = _LIMITS.contact_timeout_s   # SRS-062

    @property
    def treat_time_s(self) -> float:
        return self.minutes * 60.0

    @classmethod
    def from_settings(cls, settings: TherapySettings) -> "SessionPlan":
        # The regulator works in whole uA; settings come in steps of 0.01 mA
        # (spec/limits.yaml current_step_ma), so this is exact, and the checks
        # below compare with what the regulator is actually commanded.
        current_ma = round(float(settings.current_ma) * 1000.0) / 1000.0
        return cls(site=str(settings.site.value), current_ma=current_ma,
                   minutes=float(settings.minutes), ramp_up_s=float(settings.ramp_up_s),
                   ramp_down_s=float(settings.ramp_down_s),
                   reverse_polarity=bool(settings.reverse_polarity))


@dataclass
class SessionResult:
    outcome: str                      # completed, stopped, interrupted, fault
    fault: str | None
    treat_s: float
    elapsed_s: float                  # since Start, including pauses and ramps
    delivered_mamin: float
    max_current_ma: float
    states: list[str]
    polarity_switches: int = 0
    session_id: int | None = None
    events: list[str] = field(default_factory=list)
    # I/O trouble that did not change the outcome's meaning (SRS-071, SRS-081):
    # the end of the session could not be written, or progress writes failed.
    history_error: str | None = None
    io_errors: list[str] = field(default_factory=list)


class Clock(Protocol):
    def start(self) -> None: ...
    def wait_until(self, sim_s: float) -> None: ...


class SimulatedClock:
    """Simulated time: run as fast as the machine allows."""
    def start(self) -> None:
        pass

    def wait_until(self, sim_s: float) -> None:
        pass


class MonotonicClock:
    """Pace the session to wall time (a device, or --realtime)."""
    def __init__(self, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._sleep, self._now = sleep, now
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = self._now()

    def wait_until(self, sim_s: float) -> None:
        delay = self._t0 + sim_s - self._now()
        if delay > 0:
            self._sleep(delay)


class Observer(Protocol):
    """Receives each batch (trace writer, live view, tests)."""
    def batch(self, start_tick: int, state: str, rowbatch, sup: "Supervisor") -> None: ...


class _StateEntryClocks:
    """Machine listener: the per-state clocks restart on entering their state
    (an anti-shock re-ramp, ramp -> ramp, is an entry too)."""

    def __init__(self, sup: "Supervisor") -> None:
        self._sup = sup

    def on_enter_ramp(self) -> None:
        self._sup._ramp_start_tick = self._sup.tick  # a ramp from 0: its deadline starts

    def on_enter_paused(self) -> None:
        self._sup.paused_ticks = 0  # the contact timeout counts from the lift-off

    def on_enter_polarity_switch(self) -> None:
        self._sup._switch_ticks = 0  # the settle time allowed starts now


class Supervisor:
    def __init__(self, device: Device, settings: TherapySettings, *,
                 scenario: Iterable[ScenarioEvent] = (), clock: Clock | None = None,
                 observers: Iterable[Observer] = (), realtime: bool = False,
                 history: History | None = None) -> None:
        self.device = device
        self.settings = settings
        self.plan = plan = SessionPlan.from_settings(settings)
        self.history = history
        self.session_id: int | None = None
        self._next_progress_wall = time.monotonic() + PROGRESS_WALL_S
        self.clock = clock or (MonotonicClock() if realtime else SimulatedClock())
        self.observers = list(observers)
        self.tick_hz = int(device.tick_hz)
        self.ticks_per_row = max(1, int(self.tick_hz * ROW_S))
        self.max_rows = REALTIME_MAX_ROWS if realtime else FAST_MAX_ROWS
        self.slew_up = plan.current_ma / plan.ramp_up_s
        self.slew_down = plan.current_ma / plan.ramp_down_s
        self.treat_ticks_set = round(plan.treat_time_s * self.tick_hz)
        self.half_ticks = self.treat_ticks_set // 2
        self.contact_timeout_ticks = round(plan.contact_timeout_s * self.tick_hz)
        self.ramp_limit_ticks = round((plan.ramp_up_s + _LIMITS.ramp_overrun_s) * self.tick_hz)
        self._ramp_start_tick = 0
        self._scenario = sorted(scenario, key=lambda e: e.at_s)
        self._next_event = 0
        self.machine = TherapyMachine(GuardInputs(reversal_enabled=plan.reverse_polarity,
                                                  reset_regulator=self._reset_regulator),
                                      listeners=[_StateEntryClocks(self)])
        # bookkeeping
        self.tick = 0
        self.treat_ticks = 0
        self.paused_ticks = 0
        self.charge_mas = 0.0
        self.max_current_ma = 0.0
        self.fault: str | None = None
        self.end_reason: str | None = None      # why ramp_down was entered
        self.polarity_switches = 0
        self.last = None                        # last BatchResult seen
        self._cuts_seen = 0
        self._verify_next_row = False
        self._stop_requested = False
        self._stop_reason = "stop"
        self._switch_ticks = 0                  # time spent in polarity_switch
        self._commanded: tuple | None = None
        self.log: list[str] = []
        self.io_errors: list[str] = []          # observer / progress write failures
        self.history_error: str | None = None   # end_session failed

    # -- public --------------------------------------------------------------
    def request_stop(self) -> None:
        """The user's Stop button (or Ctrl-C): a controlled ramp-down."""
        self._stop_requested = True

    def acknowledge_fault(self) -> bool:
        """The user's acknowledgement of a latched fault (SRS-053).

        Leaves fault for idle only when the regulator's reset succeeds with no
        current flowing; otherwise the machine stays in fault and this returns
        False. The output stays off either way: a new session starts again
        from idle through the checklist (SRS-057)."""
        if self.state != "fault":
            raise TransitionNotAllowed(self.machine.acknowledge, self.machine.configuration)
        self._deenergise()
        try:
            self.machine.dispatch("acknowledge")
        except TransitionNotAllowed:  # the reset guard said no: current flows
            self.log.append(f"{self.elapsed_s:.3f}s acknowledge refused: reset not possible")
            return False
        self.log.append(f"{self.elapsed_s:.3f}s acknowledge -> {self.state}")
        return self.state == "idle"

    @property
    def state(self) -> str:
        return self.machine.state_id

    @property
    def reversed(self) -> bool:
        """The half-time reversal happened (once per session, never switched back)."""
        return self.polarity_switches > 0

    @property
    def treat_s(self) -> float:
        return self.treat_ticks / self.tick_hz

    @property
    def elapsed_s(self) -> float:
        return self.tick / self.tick_hz

    def begin(self) -> None:
        """Start pressed, checklist already confirmed: idle -> checklist -> ramp.
        The history row is committed first, marked interrupted until the end
        (SRS-071): a crash leaves it, never loses it."""
        if self.history is not None:
            self.session_id = self.history.begin_session(self.settings)
        self._send("start")
        self._send("checklist_passed")
        self.clock.start()

    def run(self) -> SessionResult:
        if self.state == "idle" and self.tick == 0:
            self.begin()
        try:
            while self.machine.is_active:
                self.step()
                self._record_progress()
            self._enforce()  # idle after the ramp-down: output stage off
            if self.state == "fault":
                self._observe_after_fault()
        except BaseException:
            self._deenergise()
            raise
        result = self.result()
        if self.history is not None and self.session_id is not None:
            # The output is off by now. A failed write must not change what the
            # session was (its outcome and exit code): it is reported beside it,
            # and the row stays marked interrupted, never lost (SRS-071).
            try:
                self.history.end_session(
                    self.session_id, result.outcome, treat_s=result.treat_s,
                    delivered_mamin=result.delivered_mamin,
                    max_current_ma=result.max_current_ma,
                    faults=[result.fault] if result.fault else [], states=result.states)
            except Exception as exc:  # noqa: BLE001 - any storage failure, reported
                self.history_error = f"{type(exc).__name__}: {exc}"
                self.log.append(f"{self.elapsed_s:.3f}s history end not written: {exc}")
                result.history_error = self.history_error
        return result

    def _record_progress(self) -> None:
        """Figures so far into the history row, once per PROGRESS_WALL_S of wall
        time: what a crash could lose is bounded in real time, and a fast
        simulation does not wait on disk commits.

        A failed write (e.g. the database locked by another program) is logged
        and the session goes on: the row already exists, marked interrupted,
        and end_session writes the final figures; stopping a treatment because
        crash-insurance bookkeeping lags would cut the therapy short with no
        gain in safety. The watchdog is kicked right before, and the lock wait
        is bounded (PROGRESS_WAIT_S), so a locked file cannot starve the kick.
        The commit's own disk time is not bounded here; on hardware whose
        storage can stall, run this write off the control thread."""
        now = time.monotonic()
        if self.history is None or self.session_id is None or now < self._next_progress_wall:
            return
        self._next_progress_wall = now + PROGRESS_WALL_S
        self.device.kick_watchdog()
        try:
            self.history.update_progress(
                self.session_id, treat_s=self.treat_s, delivered_mamin=self.charge_mas / 60.0,
                max_current_ma=self.max_current_ma, faults=[self.fault] if self.fault else [],
                states=list(self.machine.states_visited), wait_s=PROGRESS_WAIT_S)
        except Exception as exc:  # noqa: BLE001 - any storage failure; see above
            self._io_error(f"history progress not written: {exc}")

    def _io_error(self, message: str) -> None:
        self.io_errors.append(message)
        self.log.append(f"{self.elapsed_s:.3f}s {message}")

    def _notify(self, start_tick: int, state: str, batch) -> None:
        """Hand a batch to the observers. One that raises (the trace writer on a
        full disk) is dropped and the session ends with a controlled ramp-down:
        the trace is part of the session's record. Never a sudden cut."""
        for obs in list(self.observers):
            try:
                obs.batch(start_tick, state, batch, self)
            except Exception as exc:  # noqa: BLE001 - any observer failure
                self.observers.remove(obs)
                self._io_error(f"observer {type(obs).__name__} failed: "
                               f"{type(exc).__name__}: {exc}; stopping the session")
                self._stop_requested = True
                self._stop_reason = "io_error"

    def result(self) -> SessionResult:
        if self.state == "fault" or self.fault:
            outcome = "fault"
        elif self.end_reason == "time_up":
            outcome = "completed"
        elif self.end_reason == "contact_timeout":
            outcome = "interrupted"
        else:
            outcome = "stopped"
        return SessionResult(
            outcome=outcome, fault=self.fault, treat_s=self.treat_s, elapsed_s=self.elapsed_s,
            delivered_mamin=self.charge_mas / 60.0, max_current_ma=self.max_current_ma,
            states=list(self.machine.states_visited), polarity_switches=self.polarity_switches,
            session_id=self.session_id, events=list(self.log),
            history_error=self.history_error, io_errors=list(self.io_errors))

    # -- one step: command, run to the next boundary, check, translate --------
    def step(self) -> None:
        if self._apply_due_events():
            return
        if self._stop_requested and self.state != "ramp_down":
            self._stop_requested = False
            self._begin_ramp_down(self._stop_reason)
            return
        self._stop_requested = False
        if self._timed_event():
            return
        if self.state == "polarity_switch":
            self._switch_polarity()
            return
        self._enforce()
        if self.machine.is_active:
            self._run_batch(self._rows_to_boundary())

    def _timed_event(self) -> bool:
        """Events the session clock decides, due before any further row."""
        if self.state == "treat":
            if self.treat_ticks >= self.treat_ticks_set:
                self._begin_ramp_down("time_up")
                return True
            if self._reversal_due():
                self._send("half_time")
                return True
        elif self.state == "paused" and self.paused_ticks >= self.contact_timeout_ticks:
            self._begin_ramp_down("contact_timeout")
            return True
        return False

    def _reversal_due(self) -> bool:
        return (self.plan.reverse_polarity and not self.reversed
                and self.treat_ticks >= self.half_ticks)

    def _rows_to_boundary(self) -> tuple[int, int]:
        """(rows, ticks_per_row) up to the next tick where something must happen."""
        limit = min(self.max_rows * self.ticks_per_row, self._ticks_to_next_event())
        state = self.state
        if state == "treat":
            if self.plan.reverse_polarity and not self.reversed and self.treat_ticks < self.half_ticks:
                limit = min(limit, self.half_ticks - self.treat_ticks)
            limit = min(limit, self.treat_ticks_set - self.treat_ticks)
        elif state == "paused":
            limit = min(limit, self.contact_timeout_ticks - self.paused_ticks)
        elif state == "ramp":
            limit = min(limit, self._ramp_start_tick + self.ramp_limit_ticks - self.tick)
        elif state in ("reverse_down", "ramp_down") and self._reference_at_zero():
            limit = min(limit, self.ticks_per_row)  # waiting for |I| to settle: row by row
        if self._verify_next_row:
            # a new command: check after one row that the regulator obeys it
            # (a batch only stops early on regulator events, not on disobedience)
            limit = min(limit, self.ticks_per_row)
            self._verify_next_row = False
        limit = max(1, limit)
        if limit < self.ticks_per_row:
            return 1, limit
        return limit // self.ticks_per_row, self.ticks_per_row

    def _advance(self, rows: int, tpr: int):
        """Kick, step the device, and book what the rows delivered: the one place
        the session clock, the treatment timer and the dose figures move."""
        state, start_tick = self.state, self.tick
        timer_running = self.machine.treatment_timer_running  # SRS-065: the machine decides
        self.device.kick_watchdog()
        batch = self.device.advance(rows, tpr)
        ticks = batch.rows_run * tpr
        self.tick += ticks
        if timer_running:
            self.treat_ticks += ticks
        if state == "paused":
            self.paused_ticks += ticks
        self.charge_mas += abs(batch.charge_mas)
        self.max_current_ma = max(self.max_current_ma, abs(batch.max_current_ma))
        self.last = batch.last
        self._notify(start_tick, state, batch)
        self.clock.wait_until(self.elapsed_s)
        return batch

    def _run_batch(self, rows_tpr: tuple[int, int]) -> None:
        rows, tpr = rows_tpr
        state = self.state
        ref_before = self.last.reference_ma if self.last is not None else 0.0
        batch = self._advance(rows, tpr)
        violation = self._check_table(state, batch, ref_before)
        if violation:
            self.log.append(f"{self.elapsed_s:.3f}s table violation in {state}: {violation}")
            self._enter_fault(FAULT_TABLE_VIOLATION)
            return
        self._translate(batch.last)

    # -- the output table, enforced --------------------------------------------
    def _enforce(self) -> None:
        """Command the device as the current state's table entry says."""
        permission = self.machine.output_permission
        if permission is OutputPermission.OFF and self.state in TherapyMachine.SENSE_LEVEL_STATES:
            # Sense level only: the regulator watches for the returning contact
            # only with its stage on, in sense mode (REG_SENSE_MV through the
            # hardware sense resistor: <= 0.1 mA). Target 0: on contact it
            # holds 0 mA until the supervisor ramps again.
            want = (0.0, self.slew_down, None)
        elif permission is OutputPermission.OFF:
            want = (0.0, self.slew_down, False)
        elif permission is OutputPermission.FALLING:
            # only down: the target goes to 0; an output that is off stays off
            want = (0.0, self.slew_down, None)
        else:  # RISING and HOLDING: toward (or at) the set current, never faster than ramp-up
            want = (self.plan.current_ma, self.slew_up, True)
        if want == self._commanded:
            return
        target_ma, slew, on = want
        try:
            if on is False:
                self.device.enable_output(False)
                self.device.command(target_ma, slew)
            else:
                self.device.command(target_ma, slew)
                if on:
                    self.device.enable_output(True)
        except RegulatorError as exc:
            self.log.append(f"{self.elapsed_s:.3f}s command refused in {self.state}: {exc}")
            self._enter_fault(FAULT_SUPERVISOR)
            return
        self._commanded = want
        self._verify_next_row = True

    def _check_table(self, state: str, batch, ref_before: float) -> str | None:
        """What the regulator did against what the table allowed; None if fine."""
        last = batch.last
        if last.fault != FaultCode.NONE:
            return None  # the regulator cut the output itself; handled as a fault
        permission = TherapyMachine.OUTPUT_TABLE[state]
        if permission is OutputPermission.OFF:
            if last.output_enabled and state not in TherapyMachine.SENSE_LEVEL_STATES:
                return "output enabled"
            if max(last.reference_ma, last.target_ma) > REFERENCE_EPS_MA:
                return f"reference {last.reference_ma:.4f} / target {last.target_ma:.4f} mA"
            if abs(last.mean_current_ma) > ZERO_CURRENT_MA:
                return f"current {last.mean_current_ma:.3f} mA with the output off"
            return None
        if max(last.reference_ma, last.target_ma) > self.plan.current_ma + REFERENCE_EPS_MA:
            return (f"reference {last.reference_ma:.4f} mA / target {last.target_ma:.4f} mA "
                    f"above the set current")
        if (permission is OutputPermission.HOLDING
                and last.reference_ma < self.plan.current_ma - REFERENCE_EPS_MA
                and not last.contact_lost and last.antishock_cuts == self._cuts_seen):
            return f"reference {last.reference_ma:.4f} mA not held at the set current"
        if permission is OutputPermission.FALLING:
            if last.target_ma > REFERENCE_EPS_MA:
                return f"target {last.target_ma:.4f} mA while falling"
            if last.reference_ma > ref_before + REFERENCE_EPS_MA:
                return f"reference rose from {ref_before:.4f} to {last.reference_ma:.4f} mA"
        return None

    # -- regulator status -> machine events --------------------------------------
    def _translate(self, last) -> None:
        state = self.state
        if last.fault != FaultCode.NONE:
            self._enter_fault(FaultCode(last.fault).name.lower())
            return
        if last.contact_lost and state in ("ramp", "treat", "reverse_down"):
            self._send("contact_lost")
            return
        if state == "paused":
            if not last.contact_lost:
                self._send("contact_restored")
            else:
                self._timed_event()  # the contact timeout
            return
        if last.antishock_cuts > self._cuts_seen:   # the rig counts cuts since creation
            self._cuts_seen = last.antishock_cuts
            if state in ("ramp", "treat"):
                self._send("antishock_cut")
                return
        if state == "ramp" and last.reference_ma >= self.plan.current_ma - REFERENCE_EPS_MA:
            self._send("ramp_complete")
        elif state == "ramp" and self.tick - self._ramp_start_tick >= self.ramp_limit_ticks:
            self.log.append(f"{self.elapsed_s:.3f}s ramp not complete after "
                            f"{self.ramp_limit_ticks / self.tick_hz:.1f} s")
            self._enter_fault(FAULT_RAMP_OVERRUN)
        elif state in ("reverse_down", "ramp_down") and self._at_zero(last):
            self._send("at_zero")
        else:
            self._timed_event()

    def _reference_at_zero(self) -> bool:
        return self.last is not None and self.last.reference_ma <= REFERENCE_EPS_MA

    def _at_zero(self, last) -> bool:
        return (last.reference_ma <= REFERENCE_EPS_MA
                and abs(last.mean_current_ma) <= ZERO_CURRENT_MA
                and abs(last.peak_current_ma) <= ZERO_CURRENT_MA)

    def _begin_ramp_down(self, reason: str) -> None:
        if self.end_reason is None:
            self.end_reason = reason
        self._send(reason if reason in ("time_up", "contact_timeout") else "stop")

    # -- half-time polarity reversal: output off, |I| <= 0.1 mA, then swap ----------
    def _switch_polarity(self) -> None:
        """Rows with the output off until |I| <= 0.1 mA, then swap. The rows end
        at scenario event ticks and on a stop request: step() applies those at
        their tick and comes back here; the time allowed for |I| to settle
        (SWITCH_ATTEMPTS rows) counts across such returns."""
        self._enforce()  # OFF: output disabled, target 0
        limit_ticks = SWITCH_ATTEMPTS * self.ticks_per_row
        while self.state == "polarity_switch":
            if self._switch_ticks >= limit_ticks:
                self.log.append(f"{self.elapsed_s:.3f}s current did not settle for the "
                                "polarity switch")
                self._enter_fault(FAULT_SUPERVISOR)
                return
            to_event = self._ticks_to_next_event()
            if to_event <= 0 or self._stop_requested:
                return
            ticks = min(self.ticks_per_row, to_event, limit_ticks - self._switch_ticks)
            self._run_batch((1, ticks))
            self._switch_ticks += ticks
            if self.state != "polarity_switch":
                return
            if self.last.output_enabled or not self._at_zero(self.last):
                continue
            try:
                self.device.set_polarity(Polarity.REVERSED)
            except RegulatorError as exc:
                self.log.append(f"{self.elapsed_s:.3f}s polarity change refused: {exc}")
                continue
            self.polarity_switches += 1
            self._send("polarity_switched")
            return

    def _ticks_to_next_event(self) -> int:
        """Ticks until the next scenario event (a large number if none is left)."""
        if self._next_event >= len(self._scenario):
            return 1 << 62
        return self._scenario[self._next_event].at_tick(self.tick_hz) - self.tick

    # -- scenario events at their tick ----------------------------------------------
    def _apply_due_events(self) -> bool:
        applied = False
        while self._ticks_to_next_event() <= 0:
            ev = self._scenario[self._next_event]
            self._next_event += 1
            self.log.append(f"{self.elapsed_s:.3f}s scenario {ev.event} {ev.fields or ''}".rstrip())
            if ev.event == "stop":
                self.request_stop()
            else:
                apply_event(self.device, ev)
            applied = True
        return applied

    # -- faults ------------------------------------------------------------------------
    def _enter_fault(self, code: str) -> None:
        if self.fault is None:
            self.fault = code
        if self.state != "fault":
            self._send("fault")
        self._deenergise()

    def _deenergise(self) -> None:
        """Best effort output off; the regulator's own limits stand behind this."""
        try:
            self.device.enable_output(False)
            self.device.command(0.0, self.slew_down)
        except Exception as exc:  # noqa: BLE001 - the regulator has latched off anyway
            self.log.append(f"de-energise: {exc}")
        self._commanded = (0.0, self.slew_down, False)

    def _observe_after_fault(self) -> None:
        """Keep the output off for a moment and record that nothing flows."""
        end = self.tick + round(POST_FAULT_OBSERVE_S * self.tick_hz)
        while self.tick < end:
            self._deenergise()
            rows = min(self.max_rows, max(1, (end - self.tick) // self.ticks_per_row))
            batch = self._advance(rows, self.ticks_per_row)
            if batch.last.output_enabled:
                self.log.append(f"{self.elapsed_s:.3f}s output enabled in fault")

    def _reset_regulator(self) -> bool:
        """Guard input for `acknowledge`: reset only with no current flowing."""
        if self.last is not None and not self._at_zero(self.last):
            return False
        try:
            self.device.reset_fault()
        except RegulatorError:
            return False
        return True

    def _send(self, event: str) -> None:
        try:
            self.machine.dispatch(event)
        except TransitionNotAllowed:
            # A supervisor bug: an event the machine does not allow here.
            self.log.append(f"{self.elapsed_s:.3f}s event {event} refused in {self.state}")
            if self.state != "fault":
                self.machine.dispatch("fault")
            self.fault = self.fault or FAULT_SUPERVISOR
        if self.machine.last_error is not None and self.fault is None and self.state == "fault":
            self.fault = FAULT_SUPERVISOR
        self.log.append(f"{self.elapsed_s:.3f}s {event} -> {self.state}")
