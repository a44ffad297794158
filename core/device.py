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

from core.regulator import BatchResult, Polarity, RowBatch, SimulatedRig


class Readings(Protocol):
    """What `Device.advance` reports: the shape of `core.regulator.RowBatch`,
    which a hardware driver fills from the regulator's status rows."""

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
    """

    tick_hz: int
    hard_limit_ma: float
    compliance_v: float
    watchdog_ms: float

    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        """Set the target current and the slew the reference may move at."""

    def enable_output(self, on: bool) -> None:
        """Switch the output stage on or off."""

    def set_polarity(self, polarity: Polarity) -> None:
        """Swap the electrodes; refused unless the output is off and |I| < 0.1 mA."""

    def kick_watchdog(self) -> None:
        """Tell the regulator the supervisor is alive."""

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
        """Output to the sense level only (reference 0, at most 10 uA) until the
        regulator sees a load below its contact threshold; each sense window
        reports the load estimate (SRS-092, SRS-027)."""

    def advance(self, max_rows: int, ticks_per_row: int) -> Readings:
        """Run up to `max_rows` rows of `ticks_per_row` ticks; return early
        after the first row with a regulator event (contact, anti-shock cut,
        fault, reference reaching target, compliance limiting)."""


class SimulatedDevice:
    """The default device: the C regulator driving the C load model.

    Load events (lift-off, short, ...) exist only here: they are how scenarios
    and tests act on the simulated patient, never part of `Device`.
    """

    def __init__(self, seed: int = 0, load_ohms: float = 2000.0) -> None:
        self._rig = SimulatedRig(seed=seed, load_ohms=load_ohms)
        self.tick_hz = int(self._rig.tick_hz)
        self.hard_limit_ma = float(self._rig.hard_limit_ma)
        self.compliance_v = float(self._rig.compliance_v)
        self.watchdog_ms = float(self._rig.watchdog_ms)
        self._frozen = False
        self._drift = 0.0          # simulated clock error of the loop's timer (fraction)
        self._drift_ticks = 0.0    # ticks the drifting loop clock has gained (or lost)

    # -- Device --------------------------------------------------------------
    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        self._rig.command(target_ma, slew_ma_per_s)

    def enable_output(self, on: bool) -> None:
        self._rig.enable_output(on)

    def set_polarity(self, polarity: Polarity) -> None:
        self._rig.set_polarity(polarity)

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
        # While a timing fault is simulated (a stopped tick, a drifting loop
        # clock) each row is handed over on its own, as a device delivers its
        # rows every 10 ms: the supervisor checks each as it would on hardware
        # instead of one long simulated batch at its end.
        if self._frozen or self._drift:
            max_rows = 1
        before = self._rig.loop_ticks
        batch = self._rig.run_rows(max_rows, ticks_per_row, kick_each_row=True,
                                   stop_on_event=True)
        if self._drift:
            self._drift_ticks += (batch.loop_ticks - before) * self._drift
        batch.loop_ticks = self.loop_ticks
        return batch

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
