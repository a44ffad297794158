"""The hardware seam: what the supervisor needs from a device (SRS-067).

Real hardware implements `Device`; `SimulatedDevice` (the C regulator with the
C load model, through `core.regulator.SimulatedRig`) is the default and what
the tests use. Only `core.supervisor` calls the commanding methods.

The regulator itself (C, on the device's MCU or in the simulation) enforces
every patient-protecting limit; nothing passed through this interface can
raise them.
"""
from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

from core.checklist import ChecklistAnswers
from core.regulator import BatchResult, Polarity, RowBatch, SimulatedRig


class Readings(Protocol):
    """What `Device.advance` reports: the shape of `core.regulator.RowBatch`,
    which a hardware driver fills from the regulator's status rows.

    Duties the supervisor relies on (SRS-067):
    - 1 <= rows_run <= the rows asked, each row exactly the ticks asked; a
      batch with no row run is taken as a stopped loop (SRS-091).
    - `last` is the status at the end of the last row run (a whole snapshot,
      never a mix of two ticks); the supervisor reads from it: fault,
      output_enabled, contact_lost, reference_ma, target_ma, mean_current_ma
      and peak_current_ma (on hardware: the measured patient current; the
      output-table check and "no current" use them, SRS-066), mean_voltage_v
      (the electrode voltage's mean over the row, SRS-298: the density and
      short checks on the row means, SRS-302, SRS-317), the
      measured_current_ma and load_estimate_ohms of the regulator (math.inf
      while unknown, SRS-027, SRS-092), and antishock_cuts, a count that
      never decreases while the device is on (each increase is one cut).
    - `loop_ticks` is read from the loop's own tick counter when the rows are
      in, never computed from the rows run (SRS-091).
    - charge_mas and max_current_ma cover every tick of the batch: the
      session's delivered charge and its bound are summed from them (SRS-090).
    - A device whose commands land in a running loop (RealtimeDevice) also
      counts its posts other than a lone kick (`posts_made`) and sets, per
      batch, `posts_applied` (how many of them the last row had applied) and,
      when the last of those
      was applied within the batch, `decision_reference_ma` (the reference
      after the tick that applied it) and, when that tick is in the last row,
      `decision_mean_current_ma` (that row's mean current from the tick on);
      the supervisor judges the row by the
      state that made those posts and decides on it only when it had applied
      them all (SRS-316). A device whose commands apply before its next row
      has no `posts_made` and leaves them None.
    """

    rows_run: int           # rows actually run (fewer when an event ended the batch)
    events: int             # EVENT_* bits that happened in the batch
    last: BatchResult       # readings and status at the end of the last row
    charge_mas: float       # integral of the patient current over the batch, mA*s
    max_current_ma: float   # largest patient current in the batch
    loop_ticks: int         # the regulator's own tick count at the end (SRS-091)

    def rows(self) -> Iterator[BatchResult]:
        """Per-row readings (trace, tests)."""


@runtime_checkable
class Device(Protocol):
    """A current-regulated output stage with its regulator loop.

    Time advances only in `advance`: on hardware it waits for the loop's next
    rows of ticks and returns their readings; in simulation it computes them.
    Every method either does what it says or raises a
    `core.regulator.RegulatorError` subclass (nothing else); the supervisor
    latches a fault on any refusal it does not expect. Nothing passed in can
    raise a limit of the regulator (SRS-001..SRS-029): those are the loop's
    own. A device without a simulation clock (`simulated_time_s`) is run
    only paced, against time.monotonic (SRS-091).
    """

    tick_hz: int
    hard_limit_ma: float
    compliance_v: float
    watchdog_ms: float

    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        """Set the target current and the slew the reference may move at, in
        both directions (the loop's own maximum, 5 mA/s, bounds a fall too),
        from the next tick on. Out of range: CommandRejected, nothing changed."""

    def enable_output(self, on: bool) -> None:
        """Switch the output stage on or off. Off: no drive from the next tick,
        reference and regulator state back to 0. On (from off): an enable
        probe at the sense level, then the reference from 0 under the slew;
        refused (FaultLatched) while a fault is latched, and (NotArmed) before
        the session's checklist armed the loop (arm). On while on: nothing
        changes."""

    def arm(self, answers: ChecklistAnswers) -> None:
        """Hand the session's checklist answers, raw, to the regulator loop,
        which judges them itself (every contraindication answered no, every
        preparation step yes, its own count of the items); only then can the
        output be enabled: enable_output(True) raises NotArmed before it
        (SRS-306, SRS-307). Refused: ArmRefused, nothing armed, output off.
        The arm holds through pauses and ends at disarm or any latched fault."""

    def disarm(self) -> None:
        """The session ended: output off, the arm ended (SRS-307)."""

    def set_polarity(self, polarity: Polarity) -> None:
        """Swap the electrodes; refused unless the output is off and |I| < 0.1 mA."""

    def kick_watchdog(self) -> None:
        """Tell the regulator the supervisor is alive; without a kick for
        watchdog_ms the loop latches WATCHDOG with the output off (SRS-015)."""

    @property
    def loop_ticks(self) -> int:
        """The regulator's own tick count now (reg_tick calls since power-up),
        read from the loop's status, never computed by the caller (SRS-091)."""

    def disconnect_output(self) -> None:
        """Open the independent output disconnect (a relay or switch in series
        with the electrodes, driven by a path that does not need the
        regulation loop): no current flows, whatever the output stage does,
        until the device is powered off. Used when the loop itself cannot be
        trusted (SRS-091); hardware duty in hazard_analysis (RC-32)."""

    def reset_fault(self) -> None:
        """Clear a latched fault; refused while current flows."""

    def search_contact(self) -> None:
        """Output to the sense level only (reference 0 at once, at most 10 uA)
        until the regulator sees a load below its contact threshold, with
        contact_lost reported meanwhile; each sense window reports the load
        estimate (SRS-092, SRS-027). Refused with the output off or a fault
        latched."""

    def advance(self, max_rows: int, ticks_per_row: int) -> Readings:
        """Run up to `max_rows` rows of `ticks_per_row` ticks; return early
        after the first row with a regulator event: contact lost or restored,
        anti-shock cut, fault, reference reaching its target, compliance
        limiting starting or ending, and a load-moved event (the regulator's
        load estimate moved by more than 5 % since the batch began) only
        while the stage drives, never at the sense level or with the stage
        off, where the contact events cover the load (SIM_EVENT_LOAD_MOVED:
        the current-density check acts within a row of a shrinking contact,
        SRS-092). On hardware it returns when the rows have happened, and
        also when the loop stops ticking (then with the rows that did happen,
        possibly none, and loop_ticks as they are): it never blocks on a
        stopped loop (SRS-091)."""


@runtime_checkable
class PulsedOutput(Protocol):
    """A device whose board gates the drive into pulses (SRS-259, SRS-300):
    a capability beside `Device`, which a DC-only board does not offer."""

    def set_pulse(self, pulse_khz: float | None, duty_percent: int | None = None) -> None:
        """Pulsed drive at pulse_khz and duty_percent from the next enable,
        or plain DC (None); refused (PulseModeRefused) unless the output is
        off and |I| < 0.1 mA, out of range: CommandRejected, nothing changed."""


class SimulatedDevice:
    """The default device: the C regulator driving the C load model.

    Load events (lift-off, short, ...) exist only here: they are how scenarios
    and tests act on the simulated patient, never part of `Device`.
    """

    def __init__(self, seed: int = 0, load_ohms: float = 2000.0,
                 capacitance_uf: float | None = None) -> None:
        # the skin capacitance: the load model's default unless given (SRS-258)
        self._rig = (SimulatedRig(seed=seed, load_ohms=load_ohms) if capacitance_uf is None
                     else SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf))
        self.tick_hz = int(self._rig.tick_hz)
        self.hard_limit_ma = float(self._rig.hard_limit_ma)
        self.compliance_v = float(self._rig.compliance_v)
        self.watchdog_ms = float(self._rig.watchdog_ms)
        self._frozen = False
        self._drift = 0.0          # simulated clock error of the loop's timer (fraction)
        self._drift_ticks = 0.0    # ticks the drifting loop clock has gained (or lost)
        self._sim_ticks = 0        # simulated time, in ticks (simulated_time_s)

    # -- Device --------------------------------------------------------------
    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        self._rig.command(target_ma, slew_ma_per_s)

    def enable_output(self, on: bool) -> None:
        self._rig.enable_output(on)

    def arm(self, answers: ChecklistAnswers) -> None:
        self._rig.arm(answers)

    def disarm(self) -> None:
        self._rig.disarm()

    def set_polarity(self, polarity: Polarity) -> None:
        self._rig.set_polarity(polarity)

    def set_pulse(self, pulse_khz: float | None, duty_percent: int | None = None) -> None:
        self._rig.set_pulse(pulse_khz, duty_percent)

    def kick_watchdog(self) -> None:
        self._rig.kick_watchdog()

    def reset_fault(self) -> None:
        self._rig.reset_fault()

    def search_contact(self) -> None:
        self._rig.search_contact()

    @property
    def loop_ticks(self) -> int:
        return self._rig.loop_ticks + round(self._drift_ticks)

    def disconnect_output(self) -> None:
        self._rig.disconnect_output(True)

    def advance(self, max_rows: int, ticks_per_row: int) -> RowBatch:
        # The per-row kick stands in for the supervisor kicking at each row
        # (a device timer would); a stall event makes the rig ignore kicks.
        # Rows are batched as asked, timing faults or not: the supervisor's
        # loop checks do not rely on how a device batches (SRS-091).
        before = self._rig.loop_ticks
        batch = self._rig.run_rows(max_rows, ticks_per_row, kick_each_row=True,
                                   stop_on_event=True)
        self._sim_ticks += batch.rows_run * ticks_per_row
        if self._drift:
            self._drift_ticks += (batch.loop_ticks - before) * self._drift
        batch.loop_ticks = self.loop_ticks
        return batch

    @property
    def simulated_time_s(self) -> float:
        """The simulated world's clock: every simulated tick, whether or not
        the regulator's loop ran it (stop_ticks) or its timer drifts
        (clock_drift). The supervisor's time base for the loop checks in
        simulation, in place of time.monotonic (SRS-091)."""
        return self._sim_ticks / self.tick_hz

    # -- simulated load events (scenarios and tests only) --------------------
    def lift_off(self) -> None:
        self._rig.lift_off()

    def contact(self) -> None:
        self._rig.contact()

    def short(self, ohms: float) -> None:
        self._rig.short(ohms)

    def change_load(self, ohms: float, over_s: float = 0.0) -> None:
        self._rig.change_load(ohms, over_s)

    def stick_sensor(self, channel: int, current_ma: float) -> None:
        self._rig.stick_sensor(channel, current_ma)

    def fail_settled(self, mode: str, gain: float = 1.0) -> None:
        """Both settled channels fail together (FM-REG-12; SimulatedRig.fail_settled)."""
        self._rig.fail_settled(mode, gain)

    def stall(self, ms: float) -> None:
        self._rig.stall(ms)

    def stop_ticks(self) -> None:
        """The tick interrupt stops: reg_tick is no longer called and the stage
        keeps its last command (a hung loop, issue 8 point 9)."""
        self._frozen = True
        self._rig.freeze_loop(True)

    def clock_drift(self, percent: float) -> None:
        """The loop's timer runs `percent` fast (negative: slow) from now on:
        its tick count gains on the supervisor's clock."""
        self._drift = float(percent) / 100.0
