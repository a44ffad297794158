"""Thin wrapper of the C regulator and the simulated load (SRS-035).

The only Python module that imports ``core._regulator_cffi``. It converts
user units (mA, V, s, ohm) to the C integer units (uA, mV, ticks), turns C
status codes into exceptions whose messages name the argument, its value and
the allowed range, and decodes trace rows. Every limit shown here is read
from the compiled module (``cext/regulator_config.h``, ``cext/simload.h``);
none is defined again in Python.

``SimulatedRig`` is the C regulator stepped against the C load model.
``Regulator`` is the bare C regulator, stepped with readings the caller
chooses (tests feed it arbitrary and garbage readings).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from collections.abc import Mapping
from typing import Any, Iterator, NamedTuple

from core._regulator_cffi import ffi, lib
from core.checklist_version import checklist_version

__all__ = [
    "Polarity", "FaultCode", "RegulatorError", "CommandRejected", "PolarityChangeRefused",
    "ResetRefused", "FaultLatched", "PulseModeRefused", "NotArmed", "ArmRefused", "checklist_codes", "checklist_message", "BatchResult", "RowBatch", "SimulatedRig", "Regulator",
    "TickOutput", "LoadTick", "Limits", "LIMITS",
    "EVENT_CONTACT_LOST", "EVENT_CONTACT_RESTORED", "EVENT_ANTISHOCK", "EVENT_FAULT",
    "EVENT_AT_TARGET", "EVENT_COMPLIANCE_START", "EVENT_COMPLIANCE_END", "EVENT_LOAD_MOVED",
    "FLAG_OUTPUT_ENABLED", "FLAG_CONTACT_LOST", "FLAG_COMPLIANCE_LIMITED", "FLAG_FAULT",
    "FLAG_AT_TARGET", "FLAG_ANTISHOCK_CUT", "FLAG_HOLDOFF",
]


class Polarity(IntEnum):
    NORMAL = lib.REG_POLARITY_NORMAL
    REVERSED = lib.REG_POLARITY_REVERSED


class FaultCode(IntEnum):
    NONE = lib.REG_FAULT_NONE
    OVERCURRENT_TRIP = lib.REG_FAULT_OVERCURRENT_TRIP
    TRANSIENTS = lib.REG_FAULT_TRANSIENTS
    SHORT = lib.REG_FAULT_SHORT
    SENSOR_DISAGREE = lib.REG_FAULT_SENSOR_DISAGREE
    SENSOR_RANGE = lib.REG_FAULT_SENSOR_RANGE
    WATCHDOG = lib.REG_FAULT_WATCHDOG
    VOLTAGE_IMPLAUSIBLE = lib.REG_FAULT_VOLTAGE_IMPLAUSIBLE
    SENSOR_FROZEN = lib.REG_FAULT_SENSOR_FROZEN
    PULSE_STAGE = lib.REG_FAULT_PULSE_STAGE


# events of a row (RowBatch.events, BatchResult.events): bit flags
EVENT_CONTACT_LOST = lib.SIM_EVENT_CONTACT_LOST
EVENT_CONTACT_RESTORED = lib.SIM_EVENT_CONTACT_RESTORED
EVENT_ANTISHOCK = lib.SIM_EVENT_ANTISHOCK
EVENT_FAULT = lib.SIM_EVENT_FAULT
EVENT_AT_TARGET = lib.SIM_EVENT_AT_TARGET
EVENT_COMPLIANCE_START = lib.SIM_EVENT_COMPLIANCE_START
EVENT_COMPLIANCE_END = lib.SIM_EVENT_COMPLIANCE_END
EVENT_LOAD_MOVED = lib.SIM_EVENT_LOAD_MOVED

# status flags of one tick (TickOutput.flags)
FLAG_OUTPUT_ENABLED = lib.REG_FLAG_OUTPUT_ENABLED
FLAG_CONTACT_LOST = lib.REG_FLAG_CONTACT_LOST
FLAG_COMPLIANCE_LIMITED = lib.REG_FLAG_COMPLIANCE_LIMITED
FLAG_FAULT = lib.REG_FLAG_FAULT
FLAG_AT_TARGET = lib.REG_FLAG_AT_TARGET
FLAG_ANTISHOCK_CUT = lib.REG_FLAG_ANTISHOCK_CUT
FLAG_HOLDOFF = lib.REG_FLAG_HOLDOFF


class RegulatorError(Exception):
    """A regulator command failed; ``code`` is the C status code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class CommandRejected(RegulatorError):
    """An argument is out of its range (nothing was changed)."""


class PolarityChangeRefused(RegulatorError):
    """Polarity change with the output on or |I| >= 0.1 mA."""


class PulseModeRefused(RegulatorError):
    """Pulse mode change with the output on or |I| >= 0.1 mA (SRS-259)."""


class ResetRefused(RegulatorError):
    """Fault reset while current still flows."""


class FaultLatched(RegulatorError):
    """The output cannot be enabled while a fault is latched."""


class NotArmed(RegulatorError):
    """The output cannot be enabled: no checklist arm in this session (SRS-307)."""


class ArmRefused(RegulatorError):
    """The C loop refused the checklist's raw answers (SRS-306): nothing armed."""


@dataclass(frozen=True)
class Limits:
    """Build-time limits of the compiled regulator, in user units."""

    tick_hz: int = lib.REG_TICK_HZ
    hard_limit_ma: float = lib.REG_HARD_LIMIT_UA / 1000
    trip_ma: float = lib.REG_TRIP_UA / 1000
    compliance_v: float = lib.REG_COMPLIANCE_MV / 1000
    slew_min_ma_per_s: float = lib.REG_SLEW_MIN_NA_PER_S / 1_000_000
    slew_max_ma_per_s: float = lib.REG_SLEW_MAX_NA_PER_S / 1_000_000
    watchdog_ms: float = lib.REG_WATCHDOG_MS
    zero_current_ma: float = lib.REG_ZERO_CURRENT_UA / 1000
    sense_v: float = lib.REG_SENSE_MV / 1000
    sense_series_ohms: int = lib.REG_SENSE_SERIES_OHMS
    antishock_band_percent: int = lib.REG_ANTISHOCK_BAND_PERCENT
    antishock_floor_ma: float = lib.REG_ANTISHOCK_FLOOR_UA / 1000
    transient_count: int = lib.REG_TRANSIENT_COUNT
    transient_window_s: float = lib.REG_TRANSIENT_WINDOW_TICKS / lib.REG_TICK_HZ
    short_ohms: int = lib.REG_SHORT_OHMS
    short_ticks: int = lib.REG_SHORT_TICKS
    short_min_ma: float = lib.REG_SHORT_MIN_UA / 1000
    disagree_ticks: int = lib.REG_DISAGREE_TICKS
    open_ohms: int = lib.REG_OPEN_OHMS
    drive_rise_v_per_tick: float = lib.REG_DRIVE_RISE_MV_PER_TICK / 1000
    compliance_hold_margin_ma: float = lib.REG_COMPLIANCE_HOLD_MARGIN_UA / 1000
    plausible_abs_v: float = lib.REG_PLAUSIBLE_ABS_MV / 1000
    plausible_percent: int = lib.REG_PLAUSIBLE_PERCENT
    plausible_ticks: int = lib.REG_PLAUSIBLE_TICKS
    hardware_clamp_ma: float = lib.SIM_CLAMP_UA / 1000


LIMITS = Limits()

# argument name -> (C units per user unit, C minimum, C maximum, user unit)
_ARGS = {
    "target_ma": (1000, lib.REG_TARGET_MIN_UA, lib.REG_TARGET_MAX_UA, "mA"),
    # nA/s (SRS-028): fine enough that every ramp of the settings range ends within 10 ms of its length
    "slew_ma_per_s": (1_000_000, lib.REG_SLEW_MIN_NA_PER_S, lib.REG_SLEW_MAX_NA_PER_S, "mA/s"),
    "load_ohms": (1, lib.SIM_LOAD_MIN_OHMS, lib.SIM_LOAD_MAX_OHMS, "ohm"),
    "capacitance_uf": (1000, lib.SIM_CAPACITANCE_MIN_NF, lib.SIM_CAPACITANCE_MAX_NF, "uF"),
    "short_ohms": (1, lib.SIM_SHORT_MIN_OHMS, lib.SIM_SHORT_MAX_OHMS, "ohm"),
    "over_s": (1000, 0, lib.SIM_CHANGE_MAX_MS, "s"),
    "current_ma": (1000, lib.REG_ADC_CURRENT_MIN_UA, lib.REG_ADC_CURRENT_MAX_UA, "mA"),
    "voltage_v": (1000, lib.REG_ADC_VOLTAGE_MIN_MV, lib.REG_ADC_VOLTAGE_MAX_MV, "V"),
    "channel": (1, 0, 1, "(0 = A, 1 = B)"),
    "noise_ua": (1, 0, lib.SIM_STUCK_NOISE_MAX_UA, "uA"),
    "stall_ms": (1, 0, lib.SIM_STALL_MAX_MS, "ms"),
    "ticks": (1, 1, lib.SIM_MAX_TICKS_PER_ROW, "ticks"),
    "ticks_per_row": (1, 1, lib.SIM_MAX_TICKS_PER_ROW, "ticks"),
    # SRS-258: pulse train of the pulsed drive
    "pulse_khz": (1000, lib.REG_PULSE_MIN_HZ, lib.REG_PULSE_MAX_HZ, "kHz"),
    "duty_percent": (1, lib.REG_PULSE_DUTY_MIN_PERCENT, lib.REG_PULSE_DUTY_MAX_PERCENT, "%"),
    "drive_v": (1000, 0, lib.REG_COMPLIANCE_MV, "V"),
    # FM-REG-12: the common gain of a failed settled sampling (simulation only)
    "gain": (1000, 0, lib.SIM_SETTLED_GAIN_MAX_PERMILLE, "(times the true value)"),
}
MAX_ROWS = 2_000_000  # buffer size guard of run_rows (memory, not safety)
_INT32_MAX = 2**31 - 1


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _range_text(name: str) -> str:
    scale, lo, hi, unit = _ARGS[name]
    return f"allowed {_number(lo / scale)} to {_number(hi / scale)} {unit}"


def _to_c(name: str, value: float) -> int:
    """User value -> C integer (SRS-018, SRS-038). Rounding never moves a value
    into range: an out-of-range value stays out of range and the C rejects it.
    Every float (finite, infinite, NaN), every int of any size and every
    non-number ends here as an int32 or a CommandRejected naming the argument
    and its range: no OverflowError, TypeError or ValueError escapes."""
    scale, lo, hi, _unit = _ARGS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is not a finite number: {_range_text(name)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float: out of every range
        finite = True
    if not finite:
        raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is not a finite number: {_range_text(name)}")
    if isinstance(value, float):
        value = float(value)     # a float subclass (numpy.float64) multiplies like a float, without warnings
    x = value * scale            # int * int stays exact; a float may overflow to +-inf
    if isinstance(x, float) and not math.isfinite(x):
        n = hi + 1 if x > 0 else lo - 1
    else:
        n = round(x)
        if x > hi:
            n = max(n, hi + 1)
        elif x < lo:
            n = min(n, lo - 1)
    return max(-_INT32_MAX, min(_INT32_MAX, n))


def _check(status: int, name: str, value: object) -> None:
    if status == lib.REG_OK:
        return
    if status == lib.REG_ERR_RANGE:
        raise CommandRejected(status, f"{name}={value!r} is out of range: {_range_text(name)}")
    raise RegulatorError(status, f"{name}={value!r}: regulator error {status}")


def _to_bool(name: str, on: object) -> int:
    if on is True or on is False or (isinstance(on, int) and on in (0, 1)):
        return int(on)
    raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={on!r} is out of range: allowed True or False")


@dataclass(frozen=True)
class BatchResult:
    """One row (or one batch) of the simulation, in user units."""

    ticks: int
    mean_current_ma: float     # true patient current (load model), mean
    peak_current_ma: float     # true patient current, largest value in the row
    measured_current_ma: float # regulator's reading (larger of the two channels)
    voltage_v: float           # electrode voltage (load model)
    reference_ma: float
    target_ma: float
    polarity: Polarity
    output_enabled: bool       # enabled by command, armed (SRS-307) and no fault latched
    contact_lost: bool
    compliance_limited: bool
    flowing_fraction: float    # measured / target (1.0 when the target is 0)
    antishock_cuts: int        # cuts since the rig was created
    fault: FaultCode
    load_ohms: float           # model load; math.inf while lifted off
    drive_v: float = 0.0       # drive command at the end of the row
    setpoint_ma: float = 0.0   # regulated value: the reference, held lower while compliance limited
    events: int = 0            # EVENT_* bits within the row
    load_estimate_ohms: float = math.inf  # the regulator's load estimate (SRS-027); math.inf when unknown
    skin_swing_v: float = 0.0  # largest skin-voltage swing of a tick in the row (SRS-258); 0 from a board
    # electrode voltage, mean over the row (SRS-302): pulsed, exact over every
    # segment; in DC and from a board without it, the reading at the row's end
    mean_voltage_v: float = 0.0


_POLARITIES = {p.value: p for p in Polarity}
_FAULTS = {f.value: f for f in FaultCode}


def _decode(row) -> BatchResult:
    flags = row.flags
    load = row.load_ohms
    return BatchResult(
        ticks=row.ticks,
        mean_current_ma=row.mean_current_ua / 1000,
        peak_current_ma=row.peak_current_ua / 1000,
        measured_current_ma=row.measured_ua / 1000,
        voltage_v=row.voltage_mv / 1000,
        reference_ma=row.reference_ua / 1000,
        target_ma=row.target_ua / 1000,
        polarity=_POLARITIES[row.polarity],
        output_enabled=bool(flags & FLAG_OUTPUT_ENABLED),
        contact_lost=bool(flags & FLAG_CONTACT_LOST),
        compliance_limited=bool(flags & FLAG_COMPLIANCE_LIMITED),
        flowing_fraction=row.flowing_permille / 1000,
        antishock_cuts=row.antishock_cuts,
        fault=_FAULTS[row.fault],
        load_ohms=math.inf if load == 0.0 else load,
        drive_v=row.drive_mv / 1000,
        setpoint_ma=row.setpoint_ua / 1000,
        events=row.events,
        load_estimate_ohms=math.inf if row.load_estimate_ohms <= 0.0 else row.load_estimate_ohms,
        # a model quantity: the real-time runner's rows (rt_row_t, a board) carry none
        skin_swing_v=getattr(row, "skin_swing_v", 0.0),
        mean_voltage_v=getattr(row, "mean_voltage_v", row.voltage_mv / 1000),
    )


class LoadTick(NamedTuple):
    """One tick of the load model (SRS-258), in user units."""

    mean_ma: float          # true patient current, mean over the tick
    peak_ma: float          # largest true current within the tick
    skin_swing_v: float     # skin voltage, highest minus lowest within the tick
    skin_v: float           # skin voltage at the end of the tick
    on_reading_ma: float    # largest current of the last on-phase (plain DC: the tick's end)
    off_reading_ma: float   # current at the end of the last off-phase (plain DC: 0)
    series_ohms: float      # the model's series and skin resistance in this tick
    skin_ohms: float


class RowBatch:
    """Result of SimulatedRig.run_rows: totals computed in C, rows on demand."""

    __slots__ = ("rows_run", "events", "last", "charge_mas", "max_current_ma", "ticks_per_row",
                 "loop_ticks", "decision_reference_ma", "decision_mean_current_ma", "posts_applied", "_buf")

    def __init__(self, buf, rows_run: int, events: int, charge_mas: float,
                 max_current_ma: float, ticks_per_row: int, loop_ticks: int = 0) -> None:
        self._buf = buf
        self.loop_ticks = loop_ticks   # the regulator's own tick count at the end of the batch
        self.rows_run = rows_run
        self.events = events
        self.charge_mas = charge_mas
        self.max_current_ma = max_current_ma
        self.ticks_per_row = ticks_per_row
        self.last = _decode(buf[rows_run - 1])
        # SRS-316, set by a device whose commands land in a running loop
        # (RealtimeDevice): how many of its posts the last row had applied,
        # and the reference after the tick that applied the last of them when
        # that tick is in this batch. In simulation a command applies before
        # the next row: None, None, None.
        self.posts_applied: int | None = None
        self.decision_reference_ma: float | None = None
        # and, when that tick is in the last row, the row's mean current from it on
        self.decision_mean_current_ma: float | None = None

    @property
    def ticks(self) -> int:
        return self.rows_run * self.ticks_per_row

    def rows(self) -> Iterator[BatchResult]:
        """Per-row values (for the CSV trace); decoded lazily."""
        buf = self._buf
        for i in range(self.rows_run):
            yield _decode(buf[i])

    def peak_currents_ma(self) -> list[float]:
        """Largest true current of each row (cheaper than rows())."""
        buf = self._buf
        return [buf[i].peak_current_ua / 1000 for i in range(self.rows_run)]


_row_alloc = ffi.new_allocator(should_clear_after_alloc=False)


class _RegulatorCommands:
    """The regulator's commands in user units, shared by the simulated rig and
    the bare regulator; `_reg` is the C regulator state."""

    _reg: Any

    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        _command(self._reg, target_ma, slew_ma_per_s)

    def enable_output(self, on: bool) -> None:
        _enable(self._reg, on)

    def arm(self, answers: Any) -> None:
        """Hand the checklist's raw answers (core.checklist.ChecklistAnswers) to
        the C loop, which judges them itself; the output can be enabled only
        after it armed (SRS-306, SRS-307). ArmRefused: nothing armed, output off."""
        _arm(self._reg, answers)

    def disarm(self) -> None:
        """The session ended: output off and the arm ended (SRS-307)."""
        _check(lib.reg_disarm(self._reg), "disarm", None)

    @property
    def armed(self) -> bool:
        return int(self._reg.armed) == lib.REG_ARMED_PATTERN

    def set_polarity(self, polarity: Polarity) -> None:
        _set_polarity(self._reg, polarity)

    def set_pulse(self, pulse_khz: float | None, duty_percent: int | None = None) -> None:
        """Pulsed drive at pulse_khz and duty_percent, or plain DC (None):
        only with the output off and no current flowing (SRS-259)."""
        _set_pulse(self._reg, pulse_khz, duty_percent)

    @property
    def pulse(self) -> tuple[float, int] | None:
        """(pulse_khz, duty_percent) of the pulsed drive; None in DC."""
        return None if self._reg.pulse_hz == 0 else (self._reg.pulse_hz / 1000, int(self._reg.duty_percent))

    def reset_fault(self) -> None:
        _reset(self._reg)

    def search_contact(self) -> None:
        """Sense level only until a load below the contact threshold is seen
        (SRS-092): the supervisor's pause for a contact area too small."""
        status = lib.reg_search_contact(self._reg)
        if status == lib.REG_ERR_FAULT_LATCHED:
            raise FaultLatched(status, f"contact search refused: fault {FaultCode(self._reg.fault).name} "
                                       "is latched")
        if status == lib.REG_ERR_RANGE:
            raise CommandRejected(status, "contact search refused: the output is not enabled")
        _check(status, "search_contact", None)

    @property
    def fault(self) -> FaultCode:
        return FaultCode(self._reg.fault)


class SimulatedRig(_RegulatorCommands):
    """The C regulator stepped against the C load model (SRS-030..035).

    Commands go to the regulator exactly as on a device; the load events
    (lift_off, contact, short, change_load, stick_sensor, stall) act on the
    simulated patient, sensors and supervisor at the current tick.
    """

    tick_hz: int = LIMITS.tick_hz
    hard_limit_ma: float = LIMITS.hard_limit_ma
    compliance_v: float = LIMITS.compliance_v
    watchdog_ms: float = LIMITS.watchdog_ms

    def __init__(self, seed: int = 0, load_ohms: float = float(lib.SIM_DEFAULT_LOAD_OHMS),
                 capacitance_uf: float = lib.SIM_DEFAULT_CAPACITANCE_NF / 1000) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
            raise CommandRejected(lib.REG_ERR_RANGE, f"seed={seed!r} is out of range: allowed 0 to 2**64-1")
        self._rig = ffi.new("sim_rig_t *")
        self._reg = ffi.addressof(self._rig[0], "reg")
        self._batch = ffi.new("sim_batch_t *")
        self._one = ffi.new("sim_row_t[1]")
        ohms = _to_c("load_ohms", load_ohms)
        nf = _to_c("capacitance_uf", capacitance_uf)
        status = lib.sim_init(self._rig, seed, ohms, nf)
        if status == lib.REG_ERR_RANGE:
            bad = "load_ohms" if not lib.SIM_LOAD_MIN_OHMS <= ohms <= lib.SIM_LOAD_MAX_OHMS else "capacitance_uf"
            _check(status, bad, load_ohms if bad == "load_ohms" else capacitance_uf)
        _check(status, "load_ohms", load_ohms)
        self.seed = seed

    # ---- regulator commands: _RegulatorCommands; the kick goes through the
    # simulation so that a stall event can suppress it
    def kick_watchdog(self) -> None:
        lib.sim_kick(self._rig)

    @property
    def polarity(self) -> Polarity:
        return Polarity(self._reg.polarity)

    # ---- stepping ------------------------------------------------------------
    def run(self, ticks: int) -> BatchResult:
        """One batch of ``ticks`` ticks; kicks nothing by itself."""
        n = _in_range("ticks", _int_arg("ticks", ticks))
        status = lib.sim_run_rows(self._rig, self._one, 1, n, 0, self._batch)
        _check(status, "ticks", ticks)
        return _decode(self._one[0])

    def run_rows(self, max_rows: int, ticks_per_row: int, kick_each_row: bool = True,
                 stop_on_event: bool = True) -> RowBatch:
        """Up to ``max_rows`` rows of ``ticks_per_row`` ticks in one C call."""
        rows = _int_arg("max_rows", max_rows)
        if not 1 <= rows <= MAX_ROWS:
            raise CommandRejected(lib.REG_ERR_RANGE,
                                  f"max_rows={max_rows!r} is out of range: allowed 1 to {MAX_ROWS} rows")
        tpr = _in_range("ticks_per_row", _int_arg("ticks_per_row", ticks_per_row))
        options = 0
        if _to_bool("kick_each_row", kick_each_row):
            options |= lib.SIM_OPT_KICK_EACH_ROW
        if _to_bool("stop_on_event", stop_on_event):
            options |= lib.SIM_OPT_STOP_ON_EVENT
        buf = _row_alloc("sim_row_t[]", rows)
        status = lib.sim_run_rows(self._rig, buf, rows, tpr, options, self._batch)
        _check(status, "ticks_per_row", ticks_per_row)
        b = self._batch
        return RowBatch(buf, b.rows_run, b.events, b.charge_uas / 1000, b.max_current_ua / 1000, tpr,
                        int(b.loop_ticks))

    # ---- load events (act at the current tick) ------------------------------
    def lift_off(self) -> None:
        lib.sim_lift_off(self._rig)

    def contact(self) -> None:
        lib.sim_contact(self._rig)

    def short(self, ohms: float) -> None:
        _check(lib.sim_short(self._rig, _to_c("short_ohms", ohms)), "short_ohms", ohms)

    def clear_short(self) -> None:
        lib.sim_clear_short(self._rig)

    def change_load(self, ohms: float, over_s: float) -> None:
        c_ohms = _to_c("load_ohms", ohms)
        c_ms = _to_c("over_s", over_s)
        status = lib.sim_change_load(self._rig, c_ohms, c_ms)
        bad_ohms = not lib.SIM_LOAD_MIN_OHMS <= c_ohms <= lib.SIM_LOAD_MAX_OHMS
        _check(status, "load_ohms" if bad_ohms else "over_s", ohms if bad_ohms else over_s)

    def stick_sensor(self, channel: int, current_ma: float) -> None:
        c_channel = _to_c("channel", _int_arg("channel", channel))
        c_ua = _to_c("current_ma", current_ma)
        status = lib.sim_stick_sensor(self._rig, c_channel, c_ua)
        bad_channel = c_channel not in (0, 1)
        _check(status, "channel" if bad_channel else "current_ma", channel if bad_channel else current_ma)

    def fail_settled(self, mode: str, gain: float = 1.0) -> None:
        """Both settled channels fail together (FM-REG-12): mode "zero" (the
        trigger lost), "off_phase" (mistimed into the off-phase), "stale"
        (the value now, kept), "scaled" (gain x the true value, a common gain
        fault) or "ok" (the fault ends). Pulsed readings only."""
        modes = {"ok": lib.SIM_SETTLED_OK, "zero": lib.SIM_SETTLED_ZERO,
                 "off_phase": lib.SIM_SETTLED_OFF_PHASE, "stale": lib.SIM_SETTLED_STALE,
                 "scaled": lib.SIM_SETTLED_SCALED}
        if mode not in modes:
            raise CommandRejected(lib.REG_ERR_RANGE,
                                  f"mode={mode!r} is out of range: allowed {', '.join(modes)}")
        permille = _to_c("gain", gain)
        _check(lib.sim_fail_settled(self._rig, modes[mode], permille), "gain", gain)

    def stick_sensor_noisy(self, channel: int, current_ma: float, noise_ua: float) -> None:
        """The channel reads current_ma +- noise_ua (unquantised jitter) whatever
        flows: a stuck channel that stays noisy (issue 8 point 2)."""
        c_channel = _to_c("channel", _int_arg("channel", channel))
        c_ua = _to_c("current_ma", current_ma)
        c_noise = _to_c("noise_ua", noise_ua)
        status = lib.sim_stick_sensor_noisy(self._rig, c_channel, c_ua, c_noise)
        if c_channel not in (0, 1):
            _check(status, "channel", channel)
        elif not lib.REG_ADC_CURRENT_MIN_UA <= c_ua <= lib.REG_ADC_CURRENT_MAX_UA:
            _check(status, "current_ma", current_ma)
        _check(status, "noise_ua", noise_ua)

    def unstick_sensor(self, channel: int) -> None:
        c_channel = _to_c("channel", _int_arg("channel", channel))
        _check(lib.sim_unstick_sensor(self._rig, c_channel), "channel", channel)

    def stick_voltage(self, voltage_v: float) -> None:
        """The electrode-voltage channel reads voltage_v from now on (a failed channel)."""
        _check(lib.sim_stick_voltage(self._rig, _to_c("voltage_v", voltage_v)), "voltage_v", voltage_v)

    def unstick_voltage(self) -> None:
        lib.sim_unstick_voltage(self._rig)

    def stall(self, ms: float) -> None:
        _check(lib.sim_stall(self._rig, _to_c("stall_ms", ms)), "stall_ms", ms)

    def freeze_loop(self, frozen: bool) -> None:
        """The tick interrupt stops (True) or runs again (False): while stopped
        the regulator is not ticked and the stage keeps its last command."""
        _check(lib.sim_freeze_loop(self._rig, _to_bool("frozen", frozen)), "frozen", frozen)

    def disconnect_output(self, open_: bool) -> None:
        """The independent output disconnect (hardware, not the loop): while
        open no current flows whatever the regulator commands."""
        _check(lib.sim_disconnect(self._rig, _to_bool("open_", open_)), "open_", open_)

    def stick_pulse_stage(self, stuck: bool) -> None:
        """The pulse stage stuck on (True): the board never gates the drive,
        current flows between the pulses (SRS-259)."""
        _check(lib.sim_stick_pulse_stage(self._rig, _to_bool("stuck", stuck)), "stuck", stuck)

    def drive_open_loop(self, drive_v: float, ticks: int, pulse_khz: float | None = None,
                        duty_percent: int | None = None) -> list[LoadTick]:
        """The stage drives drive_v plainly for ``ticks`` ticks, gated by the
        board's PWM at pulse_khz and duty_percent (None: plain DC), with the
        regulator not ticked: the load model alone (SRS-258). One LoadTick
        per tick."""
        n = _in_range("ticks", _int_arg("ticks", ticks))
        out = ffi.new("reg_output_t *")
        out.drive_mv = _in_range("drive_v", drive_v)
        out.pulse_hz, out.duty_percent = _pulse_c(pulse_khz, duty_percent)
        out.stage_on = 1
        out.polarity = lib.REG_POLARITY_NORMAL
        mean = ffi.new("double *")
        peak = ffi.new("double *")
        tick = ffi.new("sim_tick_t *")
        result = []
        for _ in range(n):
            lib.sim_hal_apply(self._rig, out, mean, peak)
            lib.sim_last_tick(self._rig, tick)
            result.append(LoadTick(tick.mean_ua / 1000, tick.peak_ua / 1000, tick.skin_swing_v,
                                   tick.skin_v, tick.on_reading_ua / 1000, tick.off_reading_ua / 1000,
                                   tick.series_ohms, tick.skin_ohms))
        return result

    @property
    def loop_ticks(self) -> int:
        """The regulator's own tick count (reg_tick calls since init)."""
        return int(self._reg.tick)


def _int_arg(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        allowed = _range_text(name) if name in _ARGS else f"allowed 1 to {MAX_ROWS} rows"
        raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is not an integer: {allowed}")
    return value


def _in_range(name: str, value: float) -> int:
    """_to_c, and the range checked here: for arguments the C takes unsigned."""
    _scale, lo, hi, _unit = _ARGS[name]
    n = _to_c(name, value)
    if not lo <= n <= hi:
        raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is out of range: {_range_text(name)}")
    return n


def _raw_int32(name: str, value: object) -> int:
    """A raw C argument (bare-regulator test interface): any int32, else CommandRejected."""
    if isinstance(value, bool) or not isinstance(value, int) or not -2**31 <= value <= _INT32_MAX:
        raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is not an int32: allowed -2147483648 to 2147483647")
    return value


# ---- commands shared by SimulatedRig and Regulator (user units) -----------
def _command(reg, target_ma: float, slew_ma_per_s: float) -> None:
    target = _to_c("target_ma", target_ma)
    slew = _to_c("slew_ma_per_s", slew_ma_per_s)
    status = lib.reg_command(reg, target, slew)
    bad_target = not lib.REG_TARGET_MIN_UA <= target <= lib.REG_TARGET_MAX_UA
    _check(status, "target_ma" if bad_target else "slew_ma_per_s", target_ma if bad_target else slew_ma_per_s)


def _enable(reg, on: bool) -> None:
    _enable_status(lib.reg_enable(reg, _to_bool("on", on)), reg.fault, on)


def _enable_status(status: int, fault: int, on: object) -> None:
    """reg_enable's status as the wrapper's exceptions (also the runner's results)."""
    if status == lib.REG_ERR_FAULT_LATCHED:
        raise FaultLatched(status, f"output cannot be enabled: fault {FaultCode(fault).name} is latched; "
                                   "reset_fault() with no current flowing first")
    if status == lib.REG_ERR_NOT_ARMED:
        raise NotArmed(status, "output cannot be enabled: no checklist arm in this session; arm(answers) "
                               "with the checklist's answers first (SRS-307)")
    _check(status, "on", on)


def _answer_code(value: object) -> int:
    """One raw answer as the C's code: only the booleans True and False have
    a code; anything else (missing, None, 0, "no", a misspelt item's absence)
    is unanswered, which the C refuses (SRS-306)."""
    if value is True:
        return lib.REG_ANSWER_YES
    if value is False:
        return lib.REG_ANSWER_NO
    return 0


def _product_items() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The product's item lists (core.checklist), read at each call: the
    item ids, not their evaluation."""
    from core import checklist
    return checklist.CONTRAINDICATIONS, checklist.PREPARATION


def _items_version(contraindications, preparation) -> int:
    """The version of these ordered items (SRS-309): computed from the ids,
    never the C's constant, so a list that differs from the one the C was
    generated from is refused there."""
    return checklist_version([item.id for item in contraindications], [item.id for item in preparation])


def checklist_codes(answers: Any) -> tuple[list[int], list[int]]:
    """The raw answer codes of a checklist, looked up by the product's item
    ids (core.checklist): a missing or misspelt item gives code 0. Not a
    verdict: the C loop judges the codes (SRS-306)."""
    return _codes_of(answers, *_product_items())


def _codes_of(answers: Any, contra_items, prep_items) -> tuple[list[int], list[int]]:
    contra = getattr(answers, "contraindications", None)
    prep = getattr(answers, "preparation", None)
    contra = contra if isinstance(contra, Mapping) else {}
    prep = prep if isinstance(prep, Mapping) else {}
    return ([_answer_code(contra.get(item.id)) for item in contra_items],
            [_answer_code(prep.get(item.id)) for item in prep_items])


def checklist_message(answers: Any) -> tuple[int, list[int], list[int]]:
    """(version, contraindication codes, preparation codes) of one arm: the
    codes looked up by the product's items and the version of those same
    items, read once (SRS-306, SRS-309)."""
    contra_items, prep_items = _product_items()
    return (_items_version(contra_items, prep_items), *_codes_of(answers, contra_items, prep_items))


def fill_checklist(c_answers, contraindications: list[int], preparation: list[int],
                   version: int | None = None) -> None:
    """A reg_checklist_t from code lists; the counts are the lists' lengths,
    and a list longer than the C's array is cut to it with its true count
    kept, so the C refuses it on the count. `version` None: the version of
    the product's item list as core.checklist holds it now (SRS-309), not
    the C's constant."""
    c_answers.version = _items_version(*_product_items()) if version is None else version
    c_answers.n_contraindications = len(contraindications)
    for i in range(lib.REG_ARM_CONTRAINDICATIONS):
        c_answers.contraindication[i] = contraindications[i] if i < len(contraindications) else 0
    c_answers.n_preparation = len(preparation)
    for i in range(lib.REG_ARM_PREPARATION_STEPS):
        c_answers.preparation[i] = preparation[i] if i < len(preparation) else 0


def _arm_status(status: int) -> None:
    if status == lib.REG_ERR_ARM_REFUSED:
        raise ArmRefused(status, "checklist refused by the regulator: a contraindication not answered no "
                                 "or a preparation step not answered yes; output off (SRS-306)")
    if status == lib.REG_ERR_RANGE:
        raise ArmRefused(status, "checklist refused by the regulator: the list is not the product's "
                                 f"({lib.REG_ARM_CONTRAINDICATIONS} contraindications, "
                                 f"{lib.REG_ARM_PREPARATION_STEPS} preparation steps, items and order of "
                                 f"version 0x{lib.REG_ARM_CHECKLIST_VERSION:08X}); output off (SRS-306, SRS-309)")
    _check(status, "answers", None)


def _arm(reg, answers: Any) -> None:
    version, contra, prep = checklist_message(answers)
    c_answers = ffi.new("reg_checklist_t *")
    fill_checklist(c_answers, contra, prep, version)
    _arm_status(lib.reg_arm(reg, c_answers))


def _set_polarity(reg, polarity: Polarity) -> None:
    if isinstance(polarity, bool) or not isinstance(polarity, int) or polarity not in (1, -1):
        raise CommandRejected(lib.REG_ERR_RANGE,
                              f"polarity={polarity!r} is out of range: allowed Polarity.NORMAL (1) or REVERSED (-1)")
    status = lib.reg_set_polarity(reg, int(polarity))
    if status == lib.REG_ERR_POLARITY_REFUSED:
        raise PolarityChangeRefused(
            status,
            f"polarity={Polarity(polarity).name} refused: the output must be off and the current below "
            f"{LIMITS.zero_current_ma:g} mA (output {'on' if reg.enabled else 'off'}, "
            f"measured {reg.last_max_ua / 1000:g} mA)")
    _check(status, "polarity", polarity)


def _pulse_c(pulse_khz: float | None, duty_percent: int | None) -> tuple[int, int]:
    """(pulse_hz, duty_percent) in C units: (0, 0) for DC; each checked with its range."""
    if pulse_khz is None and duty_percent is None:
        return 0, 0
    return _in_range("pulse_khz", pulse_khz), _in_range("duty_percent", _int_arg("duty_percent", duty_percent))


def _set_pulse(reg, pulse_khz: float | None, duty_percent: int | None) -> None:
    hz, duty = _pulse_c(pulse_khz, duty_percent)
    status = lib.reg_set_pulse(reg, hz, duty)
    if status == lib.REG_ERR_MODE_REFUSED:
        mode = "dc" if hz == 0 else f"pulsed {hz / 1000:g} kHz {duty} %"
        raise PulseModeRefused(
            status,
            f"mode={mode} refused: the output must be off and the current below "
            f"{LIMITS.zero_current_ma:g} mA (output {'on' if reg.enabled else 'off'}, "
            f"measured {reg.last_max_ua / 1000:g} mA)")
    _check(status, "pulse_khz", pulse_khz)   # not reached: the ranges were checked above


def _reset(reg) -> None:
    status = lib.reg_reset_fault(reg)
    if status == lib.REG_ERR_RESET_REFUSED:
        raise ResetRefused(status, f"reset refused: current must be below {LIMITS.zero_current_ma:g} mA "
                                   f"(measured {reg.last_max_ua / 1000:g} mA)")
    _check(status, "reset", None)


class TickOutput(NamedTuple):
    """Drive command and status of one bare-regulator tick, C units."""

    status: int
    drive_mv: int
    stage_on: int
    sense: int
    polarity: int
    flags: int
    fault: int
    reference_ua: int
    target_ua: int
    measured_ua: int
    flowing_permille: int
    load_ohms: int = 0   # load estimate (SRS-027), 0 when unknown
    pulse_hz: int = 0    # the pulse train the board applies (SRS-259); 0: DC
    duty_percent: int = 0


class Regulator(_RegulatorCommands):
    """The bare C regulator, stepped with readings the caller chooses.

    ``command``/``enable_output``/``set_polarity``/``reset_fault`` take user
    units and raise like SimulatedRig; ``raw_*`` return the C status code
    with C integer arguments (for tests that feed arbitrary values).
    """

    def __init__(self) -> None:
        self._reg = ffi.new("reg_state_t *")
        status = lib.reg_init(self._reg)
        if status != lib.REG_OK:  # the C API's status is checked by every caller (issue 12)
            raise RegulatorError(status, f"reg_init failed: regulator error {status}")
        self._in = ffi.new("reg_inputs_t *")
        self._out = ffi.new("reg_output_t *")

    def kick_watchdog(self) -> None:
        lib.reg_kick(self._reg)

    @property
    def enabled(self) -> bool:
        return bool(self._reg.enabled)

    # raw C calls: int32 arguments, C status returned
    def raw_command(self, target_ua: int, slew_na_per_s: int) -> int:
        return lib.reg_command(self._reg, _raw_int32("target_ua", target_ua), _raw_int32("slew_na_per_s", slew_na_per_s))

    def raw_enable(self, on: int) -> int:
        return lib.reg_enable(self._reg, _raw_int32("on", on))

    def raw_arm(self, contraindications: list[int], preparation: list[int],
                version: int | None = None) -> int:
        """reg_arm with these codes (any int32) and counts = the lists' lengths;
        `version` None: the product item list's version (fill_checklist)."""
        c_answers = ffi.new("reg_checklist_t *")
        fill_checklist(c_answers, [_raw_int32("code", c) for c in contraindications],
                       [_raw_int32("code", c) for c in preparation],
                       None if version is None else _raw_int32("version", version))
        return lib.reg_arm(self._reg, c_answers)

    def raw_set_polarity(self, polarity: int) -> int:
        return lib.reg_set_polarity(self._reg, _raw_int32("polarity", polarity))

    def raw_reset_fault(self) -> int:
        return lib.reg_reset_fault(self._reg)

    def raw_set_pulse(self, pulse_hz: int, duty_percent: int) -> int:
        return lib.reg_set_pulse(self._reg, _raw_int32("pulse_hz", pulse_hz), _raw_int32("duty_percent", duty_percent))

    def step(self, current_a_ua: int, current_b_ua: int, voltage_mv: int, off_current_ua: int = 0,
             settled_a_ua: int | None = None, settled_b_ua: int | None = None) -> TickOutput:
        """One tick with the given readings (int32, any value); off_current_ua
        is the off-phase reading, judged only in pulsed mode (SRS-259);
        settled_a_ua/settled_b_ua the channels at the on-phase's end, judged
        only in pulsed mode (SRS-012, PR-069), by default the channel readings
        themselves (a load without capacitance)."""
        self._in.current_a_ua = _raw_int32("current_a_ua", current_a_ua)
        self._in.current_b_ua = _raw_int32("current_b_ua", current_b_ua)
        self._in.voltage_mv = _raw_int32("voltage_mv", voltage_mv)
        self._in.off_current_ua = _raw_int32("off_current_ua", off_current_ua)
        self._in.settled_a_ua = _raw_int32("settled_a_ua", current_a_ua if settled_a_ua is None else settled_a_ua)
        self._in.settled_b_ua = _raw_int32("settled_b_ua", current_b_ua if settled_b_ua is None else settled_b_ua)
        status = lib.reg_tick(self._reg, self._in, self._out)
        o = self._out
        return TickOutput(status, o.drive_mv, o.stage_on, o.sense, o.polarity, o.flags, o.fault,
                          o.reference_ua, o.target_ua, o.measured_ua, o.flowing_permille, o.load_ohms,
                          o.pulse_hz, o.duty_percent)
