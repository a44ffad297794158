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
    ramp reference stalled, no current -> paused with a contact search; the
      contact found at once twice, no current between -> fault (SRS-257)
    load up faster than drying -> limited (density, SRS-092, SRS-141)

After every batch (one row when paced) it also checks that the regulation
loop ticked as many ticks as the rows run and that its clock agrees with the
supervisor's own time base (SRS-091); a stall or drift opens the output
disconnect.

Treatment time counts rows spent in `treat` only (SRS-065). Batches end
exactly at scenario event ticks, at half time and at the end of the set time,
so those happen at their tick, not at the next batch.
"""
from __future__ import annotations

import collections

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from core.checklist import ChecklistRecord, evaluate
from core.device import Device, PulsedOutput
from core.history import History
from core.limits import load_limits
from core.machine import GuardInputs, OutputPermission, TherapyMachine, TransitionNotAllowed
from core.regulator import LIMITS as REG_LIMITS
from core.regulator import FaultCode, Polarity, RegulatorError
from core.scenario import ScenarioEvent, apply_event
from core.settings import Mode, TherapySettings

# The row length (supervisor period) and "no current" come from spec/limits.yaml.
_LIMITS = load_limits()
ROW_S = _LIMITS.supervisor_period_max_ms / 1000.0    # trace row spacing (SRS-085)
ZERO_CURRENT_MA = _LIMITS.zero_current_ma            # |I| at or below: no current (SRS-066)
REFERENCE_EPS_MA = 1e-6     # float slack when comparing references
TARGET_HELD_SLACK_MA = 0.0005 + REFERENCE_EPS_MA   # half the regulator's 1 uA target step, plus the float slack
POST_FAULT_OBSERVE_S = 0.5  # rows run after a fault to record that no current flows
# Paced (a device, --realtime): one row per batch, so that the loop checks of
# SRS-091 run every row (10 ms), whatever the device could batch.
REALTIME_MAX_ROWS = 1
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
FAULT_FALL_OVERRUN = "ramp_down_overrun"  # a ramp-down that never reaches zero (SRS-255)
FAULT_LOOP_STALLED = "loop_stalled"    # the regulator's tick count stopped advancing (SRS-091)
FAULT_CLOCK_DRIFT = "clock_drift"      # the device's tick clock disagrees with ours (SRS-091)
# a ramp stalled twice with the contact sensed and no current shown (SRS-257):
# the current channels read nothing where the sense window sees a hand
FAULT_NO_CURRENT = "no_current_with_contact"
# pulsed (SRS-303): a batch's mean current above its duty's share of its
# largest current: the stage runs a longer duty than the one commanded
FAULT_PULSE_DUTY = "pulse_duty"
# an open circuit held at compliance that the regulator did not report (SRS-315)
FAULT_OPEN_UNREPORTED = "open_circuit_unreported"
# a short seen on the row means, which the regulator did not latch (SRS-317)
FAULT_ROW_SHORT = "short_on_row_means"
# The mean of a batch at most duty x its largest current: the stage sinks
# nothing between the pulses and no pulse carries more than its peak. 5 %
# above it (a duty 2.5 points long at 50 %) plus 0.05 mA (the sense level's
# ungated 0.1 mA) is a fault; a working stage stays 1-3 % below (SRS-303).
PULSE_DUTY_MARGIN = 0.05
PULSE_DUTY_MARGIN_MA = 0.05

# Why a session ended early on one of its bounds (SRS-090): the end reason in
# the result, the JSON summary and the history; the outcome is "interrupted".
BOUND_CHARGE = "charge_bound"
BOUND_LENGTH = "length_bound"
BOUND_RAMP_TIME = "ramp_time_bound"
BOUND_CUTS = "cuts_bound"
BOUND_PAUSES = "pauses_bound"
SESSION_BOUNDS = (BOUND_CHARGE, BOUND_LENGTH, BOUND_RAMP_TIME, BOUND_CUTS, BOUND_PAUSES)


def ramp_slews(current_ma: float, ramp_up_s: float, tick_hz: int,
               step_ma_per_s: float = REG_LIMITS.slew_min_ma_per_s) -> tuple[float, int, float]:
    """The ramp-up as the regulator can be commanded (SRS-074): (fast slew,
    ticks at the fast slew, slow slew), both multiples of the regulator's slew
    step, so that the reference reaches `current_ma` in `ramp_up_s` within one
    tick plus the step's rounding (far inside one 10 ms row), whatever the
    regulator's slew resolution is, as long as the step is a multiple of it
    (the smallest slew it accepts is). One slew alone, rounded to the step,
    misses ramp_up_s by up to ramp_up_s**2 * step / current (6 s at 1 mA,
    119 s and 1 uA/s, issue 8 point 4)."""
    exact = current_ma / ramp_up_s
    k = math.ceil(exact / step_ma_per_s - 1e-9)
    fast = k * step_ma_per_s
    total_ticks = round(ramp_up_s * tick_hz)
    if k <= 1 or abs(fast - exact) <= 1e-12 * max(1.0, exact):
        return fast, total_ticks, fast
    slow = (k - 1) * step_ma_per_s
    # fast * t1 + slow * (T - t1) = I  ->  t1 = (I - slow * T) / (fast - slow)
    t1_s = (current_ma - slow * ramp_up_s) / (fast - slow)
    n1 = min(total_ticks, max(0, round(t1_s * tick_hz)))
    return fast, n1, slow


def ramp_duration_s(current_ma: float, fast: float, fast_ticks: int, slow: float,
                    tick_hz: int) -> float:
    """How long the regulator's reference takes to reach `current_ma` under the
    slews of `ramp_slews` (ticks of a whole pA step, as cext/regulator.c)."""
    pa = round(current_ma * 1e9)
    fast_pa = round(fast * 1e9 / tick_hz)
    slow_pa = round(slow * 1e9 / tick_hz)
    if fast_pa * fast_ticks >= pa:
        return math.ceil(pa / fast_pa) / tick_hz
    rest = pa - fast_pa * fast_ticks
    return (fast_ticks + math.ceil(rest / slow_pa)) / tick_hz


def _load_estimate_ohms(last) -> float:
    """The load the regulator sees, in ohm (SRS-092, SRS-027); math.inf when
    unknown: the regulator's own estimate (V/I under drive, the sense divider's
    window mean at the sense level), which reads only the device's sensors."""
    if last is None:
        return math.inf
    return float(last.load_estimate_ohms)


# Below this measured current the V/I estimate is too coarse to use (1 uA steps
# of the current reading and the sense-level offset): 0.5 mA.
LOAD_ESTIMATE_MIN_MA = 0.5
# In limited the load is checked from 0.15 mA (7.5 x the 20 uA rms sensor
# noise; the regulator's estimate is filtered, within about 5 % from 0.2 mA):
# the current there is lowered (below 0.5 mA at small set currents) or rises
# again after a density cut (SRS-141). An error lowers the current further
# or pauses early, never raises it.
LOAD_LIMITED_MIN_MA = 0.15
# The load is checked for the current density at least this often in treat
# and limited (SRS-092): fifty 10 ms rows; skin burns from current density
# build up over minutes, the open-circuit cut of the regulator is the fast backstop.
DENSITY_CHECK_S = 0.5
# Longest batch in ANY state (SRS-252, PR-028): the loop checks of SRS-091 run
# after every batch, so in fast (unpaced) simulation a stopped tick is seen
# within this much simulated time in ramp, ramp-down, the reversal and pause
# too, not only in treat (unbounded batches let current flow 25-60 s).
# Paced runs are one row per batch anyway.
LOOP_CHECK_MAX_S = DENSITY_CHECK_S
# Batch starts whose post count is kept for SRS-316: rows are read at most a
# few batches behind the posts (a post waits for the tick that applied it)
DECISIONS_KEPT = 512
# Share of density_excess_max_s the supervisor may plan with (its estimate of
# the excess so far plus that of a fall at the fastest slew); the rest covers
# the row that detects a rise and the estimate's error (SRS-141).
DENSITY_EXCESS_BUDGET = 0.5
# After a pause for a too small contact area the sense level settles this long
# before a sense estimate may resume the session (SRS-092).
SENSE_SETTLE_S = 1.0
# In limited the regulator's own contact check after a density cut (its enable
# probe, then the search at the sense level: about 0.3 s) may report contact
# lost while the hand is in; a loss that lasts this long is a lift-off and
# pauses as in treat (SRS-061). The treatment timer runs meanwhile, at most
# this long per loss, with the output at the sense level (PR-053).
LIMITED_CONTACT_CHECK_S = 1.0
# Only a loss first reported within this long after the supervisor's own
# density cut can be that cut's contact check (the enable probe is one 10 ms
# window; rows stop at the event, so it is seen within two rows). Any other
# loss in limited is a lift-off and pauses at once, as in treat (SRS-061,
# PR-062: chatter of 0.5-0.9 s losses was never paused when the wait was by
# duration alone).
CUT_PROBE_S = 0.05
# In limited the reference rises after a density cut toward the lowered
# target; the regulator holds it back only while no current shows (SRS-025:
# before any evidence the reference waits). A reference below the target that
# has not risen as commanded for this long is a current that never shows, e.g. a lift-off
# just after the cut's probe that the regulator cannot see at a small
# setpoint (PR-061): the regulator is sent to its contact search and the
# session pauses as on a lift-off (SRS-254). The treatment timer runs at most
# this long (plus one density check) at the small reference meanwhile.
LIMITED_STALL_S = 1.0
# ... "not moved" meaning: risen by less than this share of the commanded
# ramp-up slew over the window (the regulator slews the reference at the full
# slew whenever it does not wait for evidence, SRS-025)
STALL_RISE_SHARE = 0.25
# The same stall check in a ramp (SRS-257, PR-063): before any current has
# shown the regulator's reference waits (SRS-025) and a lift-off there is
# not reported (its collapse tier is armed only by a 160 uA reading); the
# check pauses with the contact search instead of waiting for ramp_overrun.
RAMP_STALL_S = 1.0
# A stall pause whose contact search finds the contact within this long
# (its first settled sense windows take 0.22 s) had the hand in: the current
# channels read nothing with a contact. Counted; with no current shown
# since, the next ramp stall ends the session as a fault (issue 8 point 2:
# a channel pair reading 0 never turns into a series of pauses).
STALL_CONTACT_S = 1.0
# ... and that next stall must last this long with no reading above the noise
# bound: a hand in at 15 kOhm after a quick return lets the reference creep at
# under a quarter of a 25 mA / 120 s slew for over a second before its current
# shows (review of PR-063, F2), a channel pair reading nothing never shows it
DEAD_STALL_S = 5.0
# A reading at least this large at a batch end is current shown: the
# regulator's own evidence threshold (REG_OPEN_ARM_UA, cext/regulator_config.h).
CURRENT_SHOWN_MA = 0.16
# A reading above the open-circuit noise bound (REG_OPEN_NOISE_UA) is a current
# that shows, however weakly: an open circuit never reads above it (PR-026). A
# ramp stall counts only when no batch-end reading of its window was above it
# (review of PR-063, F2: at 15 kOhm after a return the reference crept with
# 60..150 uA flowing, and two stalls faulted a working session).
NOISE_BOUND_MA = 0.05
# The sense level reads its whole 2 V on an open circuit and at most 157 mV on a
# contact (REG_CONTACT_MV). A row of a ramp stall's pause at or above twice that
# (REG_BLIND_BOOT_OPEN_MV) had the hand out, or a drive held higher than the blind
# bound lets a channel pair reading nothing reach: that pause is no evidence that
# the hand was in (review of PR-063, F1: a hand back 0.1..0.8 s after the pause,
# then lifted again early, ended in no_current_with_contact).
OPEN_LEVEL_V = 0.314
# The supervisor's own open-circuit check (SRS-256): in treat and limited a
# reading below a quarter of a reference of at least 0.2 mA (a quarter of it
# is 2.5 x the 20 uA rms noise of one reading, and a current that flows reads
# below it only 7.5 sigma low on both channels at once; every density target
# is at least a third of the 1 mA minimum setting), not compliance limited and not
# reported as contact lost, for 0.5 s, is a lift-off the regulator did not
# report: after a cut the regulator's own collapse tier is armed only by a
# 160 uA reading, so a lift-off before one let the reference rise to 10 mA
# with the hand out (safety review of the PR-061 fix: 509.6 s counted, 0 pauses).
OPEN_CHECK_MIN_MA = 0.2
OPEN_CHECK_RATIO = 4
OPEN_CHECK_S = 0.5
# ... and beside it, where SRS-256 does not look (SRS-315, FM-REG-03): the drive
# compliance limited with a reading at or below OPEN_AT_COMPLIANCE_MAX_MA is an
# open circuit or a partial contact held at 60 V: at most 1 mA at 60 V is a load
# of 60 kOhm or more, three times the 20 kOhm above which the regulator's own
# open tier reports open within 2 ms; a working session at compliance reads
# 2.98 mA or more (the independent review's 360 sessions, lowest at 15-18 kOhm
# DC). The regulator's slowest lift tier reports within 0.3 s (3000 readings,
# REG_LIFT_FAINT_TICKS), so after OPEN_CHECK_S its detector has failed: the
# output disconnect opens, not the regulator's own search.
OPEN_AT_COMPLIANCE_MAX_MA = 1.0
# The supervisor's own short check (SRS-317, FM-REG-12): the row's mean
# electrode voltage over its mean current (SRS-298's averaging channels, not
# the PWM-triggered settled pair the regulator's pulsed short rests on, SRS-311)
# below the regulator's short bound, with at least its short current flowing.
# Bound and current are the C loop's own (REG_SHORT_OHMS, REG_SHORT_MIN_UA).
ROW_SHORT_OHMS = REG_LIMITS.short_ohms
ROW_SHORT_MIN_MA = REG_LIMITS.short_min_ma
# While the output drives ...
ROW_SHORT_STATES = ("ramp", "treat", "limited", "reverse_down", "ramp_down")
# ... and the reference has at most doubled over the last 0.5 s: the mean
# ratio is the load's DC resistance Rs + Rp once the skin capacitance carries
# no mean current; while the current rises it carries about Rp x C x the
# relative rise per second, which lowers the ratio (a ramp from 0, judged from
# 1 s on: up to 5 % with Rp x C = 70 ms, 0.7 x 10 kOhm x 10 uF, the top of the
# design range; measured at most 4.1 %, 0.78 x the load without this condition).
ROW_SHORT_SETTLE_S = 0.5
ROW_SHORT_RISE_MAX = 2.0


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
    start_reversed: bool = False     # the session starts reversed (SRS-230)

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
                   reverse_polarity=bool(settings.reverse_polarity),
                   start_reversed=settings.start_polarity == "reversed")


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
    # why the session ended: time_up, stop, contact_timeout, io_error, one of
    # SESSION_BOUNDS (SRS-090), or None after a fault
    end_reason: str | None = None
    pauses: int = 0
    antishock_cuts: int = 0
    ramp_s: float = 0.0
    density_limits: int = 0       # times the current was lowered for density (SRS-092)
    density_pauses: int = 0       # pauses for a contact area too small (SRS-092)
    # the treatment phase only (treatment timer running, ramps left out), for
    # the +1 mA rule of SRS-277: the charge, and the time whose mean current
    # was within the regulation band of the set current (SRS-002 accuracy)
    treat_delivered_mamin: float = 0.0
    treat_in_band_s: float = 0.0
    # I/O trouble that did not change the outcome's meaning (SRS-071, SRS-081):
    # the end of the session could not be written, or progress writes failed.
    history_error: str | None = None
    io_errors: list[str] = field(default_factory=list)

    # pulsed (SRS-301): (pulse_khz, duty_percent); None in dc
    pulse: tuple[float, int] | None = None

    def pulsed_figures(self) -> dict[str, object]:
        """A pulsed session's figures beside the dc ones (SRS-301): its train,
        the largest true current (the pulse peak) and the mean current of the
        treatment phase (its charge over its time); nothing in dc, whose
        summary and record stay as they were."""
        if self.pulse is None:
            return {}
        treat_min = self.treat_s / 60.0
        mean_ma = self.treat_delivered_mamin / treat_min if treat_min > 0 else 0.0
        return {"mode": "pulsed", "pulse_khz": self.pulse[0], "duty_percent": self.pulse[1],
                "peak_current_mA": round(self.max_current_ma, 4), "mean_current_mA": round(mean_ma, 4)}

    def counts(self) -> dict[str, int | float]:
        """What the session bounds of SRS-090 and SRS-092 counted, as the
        summary and the history record them."""
        return {"pauses": self.pauses, "antishock_cuts": self.antishock_cuts,
                "ramp_s": round(self.ramp_s, 3), "density_limits": self.density_limits,
                "density_pauses": self.density_pauses}


class Clock(Protocol):
    def start(self) -> None: ...
    def wait_until(self, sim_s: float) -> None: ...


class SimulatedClock:
    """Simulated time: run as fast as the machine allows (no pacing)."""
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
        self._sup.pauses += 1       # bounded per session (SRS-090)

    def on_enter_polarity_switch(self) -> None:
        self._sup._switch_ticks = 0  # the settle time allowed starts now

    def on_enter_state(self, target) -> None:
        """A fall's bound starts on entering it (SRS-255). What a density
        episode kept does not survive a state change (PR-062): the stall and
        open-check windows restart, and a cut's probe window is kept only into
        limited and reverse_down (half time may come just after a cut)."""
        if target.id in ("ramp_down", "reverse_down"):
            self._sup._fall_start_tick = self._sup.tick
        if target.id not in ("limited", "reverse_down"):
            self._sup._cut_tick = None
            self._sup._probe_loss = False
        self._sup._ref_seen_ma = None
        self._sup._absent_since_tick = None


class _ChecklistArm:
    """Machine listener: the C loop's checklist gate (SRS-307). The raw answers
    go to the loop only on the transition out of the checklist state into
    ramp, so a machine that reaches ramp by another path leaves the loop
    unarmed and the output off; the session's end (idle) and any fault end
    the arm. ArmRefused propagates: the machine goes to fault (SRS-055)."""

    def __init__(self, sup: "Supervisor") -> None:
        self._sup = sup

    def on_exit_checklist(self, target) -> None:
        if target.id == "ramp":
            # the answers arm once: dropped here, never handed over twice (SRS-310)
            answers, self._sup._arm_answers = self._sup._arm_answers, None
            self._sup.device.arm(answers)

    def on_enter_idle(self) -> None:
        self._disarm()

    def on_enter_fault(self) -> None:
        self._disarm()

    def _disarm(self) -> None:
        try:
            self._sup.device.disarm()
        except Exception as exc:  # noqa: BLE001 - logged; a fault in the loop ends the arm anyway
            getattr(self._sup, "log", []).append(f"disarm: {exc}")


def _passed_checklist(checklist):
    """The record, when it is a ChecklistRecord whose answers pass; else
    ValueError. No session without a checklist that passed (SRS-093, PR-029):
    the machine's checklist_passed event is sent only for answers evaluated
    here, whoever calls the supervisor (the CLI, or a device maker's code)."""
    if not isinstance(checklist, ChecklistRecord):
        raise ValueError("checklist: a ChecklistRecord whose answers pass is required "
                         f"(got {type(checklist).__name__}); nothing was energised")
    verdict = evaluate(checklist.answers)
    if not verdict.passed:
        raise ValueError("checklist: refused: " + "; ".join(verdict.reasons)
                         + "; nothing was energised")
    return checklist


class Supervisor:
    def __init__(self, device: Device, settings: TherapySettings, *,
                 scenario: Iterable[ScenarioEvent] = (), clock: Clock | None = None,
                 observers: Iterable[Observer] = (), realtime: bool = False,
                 history: History | None = None, checklist=None,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.device = device
        # The supervisor's own time base for the loop checks (SRS-091): a
        # device's loop is compared with the host's time.monotonic; a
        # simulated device (no loop of its own in real time) with its
        # simulation clock, the simulated world's time that the regulator's
        # tick count does not drive. Tests may inject either.
        if monotonic is None:
            sim_clock = getattr(device, "simulated_time_s", None)
            monotonic = ((lambda: float(device.simulated_time_s)) if sim_clock is not None
                         else time.monotonic)
            if sim_clock is None and not realtime:
                raise ValueError("a device without a simulation clock runs only paced "
                                 "(realtime): its loop is checked against time.monotonic")
        self._monotonic = monotonic
        self.checklist = _passed_checklist(checklist)   # ChecklistRecord for the history (SRS-093)
        self._arm_answers = checklist.answers   # for one arm only, then None (SRS-310)
        self._begun = False                     # one session per Supervisor (SRS-310)
        self.settings = settings
        self.plan = plan = SessionPlan.from_settings(settings)
        # pulsed (SRS-300): the duty as a fraction, None in dc; a device
        # without a pulse stage is refused before anything is recorded
        self._duty: float | None = None
        if settings.mode is Mode.PULSED:
            if not isinstance(device, PulsedOutput):
                raise ValueError(f"mode pulsed: the device {type(device).__name__} has no pulsed "
                                 "output; nothing was energised")
            self._duty = settings.duty_percent / 100.0
        self.history = history
        self.session_id: int | None = None
        self._next_progress_wall = time.monotonic() + PROGRESS_WALL_S
        self.clock = clock or (MonotonicClock() if realtime else SimulatedClock())
        self.observers = list(observers)
        self.tick_hz = int(device.tick_hz)
        self.ticks_per_row = max(1, int(self.tick_hz * ROW_S))
        self.max_rows = REALTIME_MAX_ROWS if realtime else FAST_MAX_ROWS
        # the ramp-up in two slews of the regulator's step (SRS-074)
        self.slew_up, self.slew_fast_ticks, self.slew_up_late = ramp_slews(
            plan.current_ma, plan.ramp_up_s, self.tick_hz)
        self.slew_down = plan.current_ma / plan.ramp_down_s
        self.treat_ticks_set = round(plan.treat_time_s * self.tick_hz)
        self.half_ticks = self.treat_ticks_set // 2
        self.contact_timeout_ticks = round(plan.contact_timeout_s * self.tick_hz)
        self.ramp_limit_ticks = round((plan.ramp_up_s + _LIMITS.ramp_overrun_s) * self.tick_hz)
        self._ramp_start_tick = 0
        # a ramp-down (from at most the set current) ends within its set time
        # plus the same margin (SRS-255)
        self.fall_limit_ticks = round((plan.ramp_down_s + _LIMITS.ramp_overrun_s) * self.tick_hz)
        # SRS-316: how long a row that had applied part of a decision waits
        # for the rest before it is judged by the decision before
        self.table_defer_max_ticks = int(_LIMITS.clock_drift_max_ms * self.tick_hz) // 1000
        self._fall_start_tick = 0
        # session bounds (SRS-090, spec/limits.yaml)
        reversal = 1 if plan.reverse_polarity else 0
        ramps_s = (1 + reversal) * (plan.ramp_up_s + plan.ramp_down_s)
        # pulsed (SRS-090, SRS-303): on duty x set current, the most mean a
        # working stage delivers whatever the load, so that a stage running a
        # longer duty meets a dose bound the duty check may miss at low C
        share = 1.0 if self._duty is None else self._duty
        self.charge_bound_mas = (share * plan.current_ma * (plan.treat_time_s + ramps_s / 2.0)
                                 * (1.0 + _LIMITS.session_charge_margin_percent / 100.0))
        self.length_bound_ticks = round((plan.treat_time_s + ramps_s
                                         + _LIMITS.session_length_extra_s) * self.tick_hz)
        self.ramp_bound_ticks = round(_LIMITS.session_ramp_time_max_ramps * plan.ramp_up_s
                                      * self.tick_hz)
        self.ramp_ticks = 0          # time in ramp, whole session
        self.pauses = 0              # entries into paused
        self.cuts = 0                # anti-shock cuts acted on
        # current density (SRS-092): the load's baseline and the allowed current
        self._r_base0: float | None = None    # load at the first treat row
        self._r_base: float | None = None     # baseline, following skin drying
        self._r_base_tick = 0
        self.density_target_ma = plan.current_ma
        self.density_limits = 0               # entries into limited
        self.density_cuts = 0                 # lowerings done as a cut to 0 (SRS-141)
        self._excess_s = 0.0                  # density excess of this episode, s (SRS-141)
        self._excess_tick = 0
        self.density_pauses = 0               # pauses for a load beyond the pause bound
        self._density_paused = False          # in such a pause now
        self._cut_tick: int | None = None     # tick of the last density cut, in limited (PR-062)
        self._probe_loss = False              # the contact loss now is that cut's check
        self._ref_seen_ma: float | None = None  # in limited and ramp: the reference at the stall window's start
        self._ref_moved_tick = 0
        self._stall_pause_tick: int | None = None  # a ramp stall's pause, until it resumes (SRS-257)
        self._quiet_stalls = 0                # stall pauses with contact and no current since (SRS-257)
        self._stall_saw_open = False          # a row of the stall's pause read the open level
        self._weak_current_tick: int | None = None   # last batch end reading above the noise bound
        self._absent_since_tick: int | None = None  # first batch end with no current (SRS-256)
        self._open_held_since_tick: int | None = None  # first batch end open at compliance (SRS-315)
        # (tick, reference) at the batch ends of the last ROW_SHORT_SETTLE_S under drive (SRS-317)
        self._row_refs: collections.deque[tuple[int, float]] = collections.deque()
        # SRS-316, with a device whose posts land in a running loop: the posts
        # made when each batch began and the state that made them, the posts
        # made by now, and the ticks of rows that had applied part of a decision
        self._decisions: collections.deque[tuple[int, str]] = collections.deque(maxlen=DECISIONS_KEPT)
        self._posts_made: int | None = None
        self._table_deferred_ticks = 0
        self._row_stale = False               # the last row read ran before the latest posts
        # loop liveness (SRS-091): reference points taken at Start
        self._loop_ticks0: int | None = None
        self._loop_ticks_prev: int | None = None
        self._mono0_s = 0.0
        self._mono_at_batch_s = 0.0
        # (supervisor s, device s) since Start, for the drift over the last
        # clock_drift_window_s (SRS-091): a rate bound, not a sum since Start
        self._clock_samples: collections.deque[tuple[float, float]] = collections.deque()
        self._scenario = sorted(scenario, key=lambda e: e.at_s)
        self._next_event = 0
        self.machine = TherapyMachine(GuardInputs(reversal_enabled=plan.reverse_polarity,
                                                  reset_regulator=self._reset_regulator),
                                      listeners=[_StateEntryClocks(self), _ChecklistArm(self)])
        # bookkeeping
        self.tick = 0
        self.treat_ticks = 0
        self.paused_ticks = 0
        self.charge_mas = 0.0
        self.treat_charge_mas = 0.0      # while the treatment timer runs (SRS-277)
        self.treat_in_band_ticks = 0     # of those, ticks in batches at the set current
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
        (SRS-071): a crash leaves it, never loses it. A Supervisor runs one
        session (SRS-310): its answers arm the loop once, and its bookkeeping
        (time, charge, fault, scenario) is that session's, so a second begin()
        is refused before anything is recorded or energised."""
        if self._begun:
            raise ValueError("session: this Supervisor has run its session (its answers armed the loop once "
                             "and its result is kept); a new session needs a new Supervisor with its own "
                             "checklist record; nothing was energised")
        self._begun = True
        if self.plan.start_reversed:
            # before anything is recorded or energised: the regulator accepts
            # the swap only with the output off and no current (SRS-230)
            self.device.set_polarity(Polarity.REVERSED)
        if self._duty is not None:
            # the same for the pulse train: set while the output is off (SRS-259, SRS-300)
            self.device.set_pulse(self.settings.pulse_khz, self.settings.duty_percent)
        if self.history is not None:
            self.session_id = self.history.begin_session(self.settings, checklist=self.checklist)
        self._send("start")
        self._send("checklist_passed")
        self.clock.start()
        self._loop_ticks0 = self._loop_ticks_prev = int(self.device.loop_ticks)
        self._mono0_s = float(self._monotonic())

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
                    faults=[result.fault] if result.fault else [], states=result.states,
                    end_reason=result.end_reason,
                    counts={**result.counts(),   # the history also keeps the treatment figures
                            "treat_delivered_mAmin": round(result.treat_delivered_mamin, 4),
                            "treat_in_band_s": round(result.treat_in_band_s, 3),
                            **{k: v for k, v in result.pulsed_figures().items()   # SRS-301
                               if k.endswith("_mA")}})
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
        elif self.end_reason == "contact_timeout" or self.end_reason in SESSION_BOUNDS:
            outcome = "interrupted"
        else:
            outcome = "stopped"
        return SessionResult(
            outcome=outcome, fault=self.fault, treat_s=self.treat_s, elapsed_s=self.elapsed_s,
            delivered_mamin=self.charge_mas / 60.0, max_current_ma=self.max_current_ma,
            states=list(self.machine.states_visited), polarity_switches=self.polarity_switches,
            session_id=self.session_id, events=list(self.log),
            history_error=self.history_error, io_errors=list(self.io_errors),
            end_reason=None if (self.state == "fault" or self.fault) else self.end_reason,
            pauses=self.pauses, antishock_cuts=self.cuts, ramp_s=self.ramp_ticks / self.tick_hz,
            density_limits=self.density_limits, density_pauses=self.density_pauses,
            treat_delivered_mamin=self.treat_charge_mas / 60.0,
            treat_in_band_s=self.treat_in_band_ticks / self.tick_hz,
            pulse=None if self._duty is None else (float(self.settings.pulse_khz or 0),
                                                    int(self.settings.duty_percent or 0)))

    # -- one step: command, run to the next boundary, check, translate --------
    def step(self) -> None:
        if self._apply_due_events():
            return
        if self._stop_requested and self.state != "ramp_down":
            self._stop_requested = False
            self._begin_ramp_down(self._stop_reason)
            return
        self._stop_requested = False
        if self._session_bound():
            return
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
        if self.state in ("treat", "limited"):
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

    def _session_bound(self) -> bool:
        """A session bound reached (SRS-090): end with the controlled ramp-down
        and say which bound. Checked before every batch; batches end before the
        charge bound can be passed (_rows_to_boundary)."""
        if self.state in ("ramp_down", "idle", "fault", "checklist"):
            return False
        reason = None
        if self.charge_mas + self._ramp_down_charge_mas() + self._row_charge_mas() >= self.charge_bound_mas:
            reason = BOUND_CHARGE
        elif self.tick >= self.length_bound_ticks:
            reason = BOUND_LENGTH
        elif self.ramp_ticks >= self.ramp_bound_ticks:
            reason = BOUND_RAMP_TIME
        elif self.cuts > _LIMITS.session_antishock_cuts_max:
            reason = BOUND_CUTS
        elif self.pauses > _LIMITS.session_pauses_max:
            reason = BOUND_PAUSES
        if reason is None:
            return False
        self.log.append(f"{self.elapsed_s:.3f}s session bound {reason}: delivered "
                        f"{self.charge_mas / 60.0:.2f} mA*min (bound {self.charge_bound_mas / 60.0:.2f}), "
                        f"{self.elapsed_s:.1f} s, ramp {self.ramp_ticks / self.tick_hz:.1f} s, "
                        f"{self.cuts} cuts, {self.pauses} pauses")
        self._begin_ramp_down(reason)
        return True

    def _ramp_down_charge_mas(self) -> float:
        """Charge the ramp-down from the present reference still delivers."""
        ref = self.last.reference_ma if self.last is not None else 0.0
        return ref * ref / (2.0 * self.slew_down)

    def _row_charge_mas(self) -> float:
        """At most what one more row at the set current delivers."""
        return self.plan.current_ma * self.ticks_per_row / self.tick_hz

    def _ticks_to_charge_bound(self) -> int:
        """Ticks at the set current before the charge bound is in reach."""
        left = self.charge_bound_mas - self.charge_mas - self._ramp_down_charge_mas()
        return max(1, int(left / (1.1 * self.plan.current_ma) * self.tick_hz) - self.ticks_per_row)

    def _reversal_due(self) -> bool:
        return (self.plan.reverse_polarity and not self.reversed
                and self.treat_ticks >= self.half_ticks)

    def _rows_to_boundary(self) -> tuple[int, int]:
        """(rows, ticks_per_row) up to the next tick where something must happen."""
        limit = min(self.max_rows * self.ticks_per_row, self._ticks_to_next_event(),
                    self.length_bound_ticks - self.tick,
                    round(LOOP_CHECK_MAX_S * self.tick_hz))   # SRS-252: liveness every 0.5 s
        state = self.state
        if self.machine.output_permission is not OutputPermission.OFF:
            limit = min(limit, self._ticks_to_charge_bound())
        if state in ("treat", "limited"):
            # the load is checked for the current density every DENSITY_CHECK_S (SRS-092)
            limit = min(limit, round(DENSITY_CHECK_S * self.tick_hz))
            if self.plan.reverse_polarity and not self.reversed and self.treat_ticks < self.half_ticks:
                limit = min(limit, self.half_ticks - self.treat_ticks)
            limit = min(limit, self.treat_ticks_set - self.treat_ticks)
        elif state == "paused":
            limit = min(limit, self.contact_timeout_ticks - self.paused_ticks)
        elif state == "ramp":
            limit = min(limit, self._ramp_start_tick + self.ramp_limit_ticks - self.tick,
                        self.ramp_bound_ticks - self.ramp_ticks)
            to_slow = self._ramp_start_tick + self.slew_fast_ticks - self.tick
            if to_slow > 0:
                limit = min(limit, to_slow)  # the slew changes there (SRS-074)
            if self._r_base is not None:   # the pause bound is checked in ramp too (SRS-092)
                limit = min(limit, round(DENSITY_CHECK_S * self.tick_hz))
        elif state in ("reverse_down", "ramp_down"):
            limit = min(limit, self._fall_start_tick + self.fall_limit_ticks - self.tick)
            if self._reference_at_zero():
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
        # the time base when the rows are in, before any pacing sleep (SRS-091)
        self._mono_at_batch_s = float(self._monotonic())
        ticks = batch.rows_run * tpr
        self.tick += ticks
        if timer_running:
            self.treat_ticks += ticks
            self.treat_charge_mas += abs(batch.charge_mas)
            # the batch's mean current within SRS-002's accuracy of the set
            # current: held at it (a batch partly below counts as not held)
            set_ma = self.plan.current_ma
            if ticks > 0 and abs(batch.charge_mas) / (ticks / self.tick_hz) >= set_ma - max(0.01 * set_ma, 0.05):
                self.treat_in_band_ticks += ticks
        if state == "paused":
            self.paused_ticks += ticks
        elif state == "ramp":
            self.ramp_ticks += ticks
        self.charge_mas += abs(batch.charge_mas)
        self.max_current_ma = max(self.max_current_ma, abs(batch.max_current_ma))
        self.last = batch.last
        self._notify(start_tick, state, batch)
        self.clock.wait_until(self.elapsed_s)
        return batch

    def _run_batch(self, rows_tpr: tuple[int, int]) -> None:
        rows, tpr = rows_tpr
        state = self.state
        self._note_decision(state)
        ref_before = self.last.reference_ma if self.last is not None else 0.0
        batch = self._advance(rows, tpr)
        if self._check_loop(batch, rows_run_ticks=batch.rows_run * tpr):
            return
        row_state = self._row_state(batch, state)
        stale = self._stale(batch)
        if state == "paused" and not stale:
            self._note_open_rows(batch)
        if (self._duty is not None and row_state is not None
                and self._duty_exceeded(row_state, batch, batch.rows_run * tpr)):
            return
        self._row_stale = stale
        judged = self._judged_state(batch, row_state, state)
        violation = None if judged is None else self._check_table(judged, batch, self._fall_from(batch, ref_before))
        if violation:
            self.log.append(f"{self.elapsed_s:.3f}s table violation in {judged}: {violation}")
            self._enter_fault(FAULT_TABLE_VIOLATION)
            return
        if stale:
            # a row before the latest posts decides nothing but a fault (SRS-316)
            if batch.last.fault != FaultCode.NONE:
                self._enter_fault(FaultCode(batch.last.fault).name.lower())
            return
        self._translate(batch.last)

    # -- rows that ran before the latest posts (SRS-316) ---------------------------
    def _note_decision(self, state: str) -> None:
        """The device's count of posts as a batch begins, with the state that
        made them (a device whose posts apply before its next row has none)."""
        posts = getattr(self.device, "posts_made", None)
        if posts is None:
            return
        self._posts_made = int(posts)
        if not self._decisions or self._decisions[-1] != (self._posts_made, state):
            self._decisions.append((self._posts_made, state))

    def _stale(self, batch) -> bool:
        """The batch's last row ran before the latest posts were applied."""
        applied = getattr(batch, "posts_applied", None)
        return applied is not None and self._posts_made is not None and applied < self._posts_made

    def _row_state(self, batch, state: str) -> str | None:
        """The state whose posts the batch's last row ran under: the state now
        unless the row had applied fewer posts than were made; None when the
        row had applied part of one state's posts (a command without its
        enable)."""
        if not self._stale(batch):
            return state
        applied = batch.posts_applied
        for posts, made_in in reversed(self._decisions):
            if posts == applied:
                return made_in
            if posts < applied:
                return None
        return None

    def _judged_state(self, batch, row_state: str | None, state: str) -> str | None:
        """The state the output table judges the last row by: its own
        (_row_state); for a row that had applied part of a decision none, for
        at most table_defer_max_ticks of such rows in a row (the posts of one
        decision land a tick apart), then the last whole decision before it."""
        if row_state is not None:
            self._table_deferred_ticks = 0
            return row_state
        self._table_deferred_ticks += batch.rows_run * batch.ticks_per_row
        if self._table_deferred_ticks <= self.table_defer_max_ticks:
            return None
        older = [made_in for posts, made_in in self._decisions if posts < batch.posts_applied]
        return older[-1] if older else state

    @staticmethod
    def _fall_from(batch, ref_before: float) -> float:
        """The reference a fall is judged from: at the tick that applied the
        row's last post when that tick is in this batch (the rows before it
        still ran under the posts before), else the last row's before."""
        at_post = getattr(batch, "decision_reference_ma", None)
        return ref_before if at_post is None else at_post

    def _duty_exceeded(self, state: str, batch, ticks: int) -> bool:
        """Pulsed (SRS-303): a batch under drive whose mean current exceeds
        the commanded duty's share of its largest current is a fault with the
        output off (HAZ-47: a longer duty than chosen, a higher mean)."""
        peak_ma = abs(batch.max_current_ma)
        if state not in ("ramp", "treat", "limited") or ticks <= 0 or peak_ma < LOAD_ESTIMATE_MIN_MA:
            return False
        mean_ma = abs(batch.charge_mas) / (ticks / self.tick_hz)
        bound_ma = self._duty * peak_ma * (1.0 + PULSE_DUTY_MARGIN) + PULSE_DUTY_MARGIN_MA
        if mean_ma <= bound_ma:
            return False
        self.log.append(f"{self.elapsed_s:.3f}s pulsed: mean {mean_ma:.3f} mA above {bound_ma:.3f} mA, "
                        f"the {100 * self._duty:.0f} % duty of the largest current {peak_ma:.3f} mA")
        self._enter_fault(FAULT_PULSE_DUTY)
        return True

    # -- the regulation loop is alive and on time (SRS-091) --------------------------
    def _check_loop(self, batch, rows_run_ticks: int) -> bool:
        """After every batch (one row when paced): the regulator's tick count
        advanced by the ticks the device says it ran, within
        loop_tick_tolerance_percent (at least one tick), and the device's
        tick clock agrees with the
        supervisor's monotonic time base within clock_drift_max_ms since
        Start. A batch with no row run, a loop that did not tick (stalled),
        ticked too many or too few, or a clock off by more than the bound
        opens the output disconnect, a path that does not need the loop, and
        latches a fault. True if it did."""
        if self._loop_ticks_prev is None:   # begin() was bypassed: start the reference here
            self._loop_ticks0 = self._loop_ticks_prev = int(batch.loop_ticks) - rows_run_ticks
            self._mono0_s = float(self._monotonic()) - rows_run_ticks / self.tick_hz
        ticks = int(batch.loop_ticks)
        advanced = ticks - self._loop_ticks_prev
        self._loop_ticks_prev = ticks
        tolerance = max(1, round(rows_run_ticks * _LIMITS.loop_tick_tolerance_percent / 100.0))
        device_s = (ticks - self._loop_ticks0) / self.tick_hz
        mono_s = self._mono_at_batch_s - self._mono0_s
        drift_ms, span_s = self._window_drift_ms(mono_s, device_s)
        # batches longer than a row (fast simulation) make the span longer than
        # the window: the bound is a rate, so it scales with the span
        drift_bound_ms = _LIMITS.clock_drift_max_ms * max(1.0, span_s / _LIMITS.clock_drift_window_s)
        code = None
        if rows_run_ticks <= 0:
            code, detail = FAULT_LOOP_STALLED, "the device returned without running a row"
        elif advanced < rows_run_ticks - tolerance and advanced <= rows_run_ticks // 2:
            code = FAULT_LOOP_STALLED   # (almost) no tick: the interrupt stopped
            detail = f"regulator ticks advanced {advanced} in {rows_run_ticks}"
        elif abs(advanced - rows_run_ticks) > tolerance:
            code = FAULT_CLOCK_DRIFT    # ticked too many or too few for the rows run
            detail = f"regulator ticks advanced {advanced} in {rows_run_ticks}"
        elif abs(drift_ms) > drift_bound_ms:
            code = FAULT_CLOCK_DRIFT
            detail = (f"device clock {device_s:.3f} s, supervisor's monotonic clock "
                      f"{mono_s:.3f} s: {drift_ms:+.1f} ms over the last {span_s:.1f} s "
                      f"(bound {drift_bound_ms:.1f} ms)")
        if code is None:
            return False
        self.log.append(f"{self.elapsed_s:.3f}s {code}: {detail}; output disconnected")
        self._disconnect()
        self._enter_fault(code)
        return True

    def _window_drift_ms(self, mono_s: float, device_s: float) -> tuple[float, float]:
        """Drift of the device clock against ours, in ms, and the span it is
        measured over: from the newest sample at or before the last
        clock_drift_window_s (from Start while the session is shorter). A
        crystal tens of ppm off never reaches the bound, a loop 0.5 % off
        does within 4 s (SRS-091, spec/limits.yaml)."""
        samples = self._clock_samples
        if not samples:
            samples.append((0.0, 0.0))   # Start: both clocks at 0
        samples.append((mono_s, device_s))
        window_s = _LIMITS.clock_drift_window_s
        # keep the newest sample at or before the window's start as its reference
        while len(samples) > 2 and samples[1][0] <= mono_s - window_s:
            samples.popleft()
        mono_then_s, device_then_s = samples[0]
        return ((device_s - device_then_s) - (mono_s - mono_then_s)) * 1000.0, mono_s - mono_then_s

    def _disconnect(self) -> None:
        """The independent output disconnect (Device.disconnect_output): no
        current whatever the regulator's stage does, without the loop."""
        try:
            self.device.disconnect_output()
        except Exception as exc:  # noqa: BLE001 - logged; the fault is latched anyway
            self.log.append(f"{self.elapsed_s:.3f}s output disconnect failed: {exc}")

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
        elif permission is OutputPermission.REDUCED:
            # toward the density bound: down at the regulator's fastest slew,
            # back up toward the set current under the ramp-up slew (SRS-092)
            target = self.density_target_ma
            ref = self.last.reference_ma if self.last is not None else 0.0
            slew = self.slew_up if target >= ref - REFERENCE_EPS_MA else REG_LIMITS.slew_max_ma_per_s
            if self._commanded is not None and self._commanded[0] == target and self._commanded[2]:
                slew = self._commanded[1]   # an unchanged target keeps its slew (after a cut: up)
            want = (target, slew, True)
        elif permission is OutputPermission.FALLING:
            # only down: the target goes to 0; an output that is off stays off
            want = (0.0, self.slew_down, None)
        else:  # RISING and HOLDING: toward (or at) the set current, never faster than ramp-up
            want = (self.plan.current_ma, self._rising_slew(), True)
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

    def _rising_slew(self) -> float:
        """The ramp's slew now: the fast step until its tick, then the slow one
        (SRS-074); outside a ramp the fast one (the reference is at the target)."""
        if self.state == "ramp" and self.tick - self._ramp_start_tick >= self.slew_fast_ticks:
            return self.slew_up_late
        return self.slew_up

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
            # the row in which its posts landed: its current from their tick on (SRS-316)
            mean_ma = getattr(batch, "decision_mean_current_ma", None)
            mean_ma = last.mean_current_ma if mean_ma is None else mean_ma
            if abs(mean_ma) > ZERO_CURRENT_MA:
                return f"current {mean_ma:.3f} mA with the output off"
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
        if state == "reverse_down" and last.contact_lost and self._cut_probe_loss():
            pass   # the cut's own check, half time just after a cut: the fall goes on (PR-062)
        elif last.contact_lost and state in ("ramp", "treat", "reverse_down"):
            self._send("contact_lost")
            return
        if self._open_at_compliance(last) or self._row_short(last):
            return
        if state == "limited":
            self._count_limited_cuts(last)   # before anything else: never late (PR-062)
            if self._limited_contact_lost(last) or self._limited_stalled(last):
                return
        if state in ("ramp", "treat", "limited") and last.measured_current_ma >= CURRENT_SHOWN_MA:
            self._quiet_stalls = 0   # current shows: the channels read (SRS-257)
        if state == "ramp" and self._ramp_stalled(last):
            return
        if state in ("treat", "limited") and self._current_absent(last):
            return
        if state == "paused":
            if not last.contact_lost and not self._area_too_small(last) and not self._density_held(last):
                self._stall_search_contact()
                self._send("contact_restored")
                return
            if not last.contact_lost:
                self._search_again()   # contact, but the area is still too small (or not yet settled)
            self._timed_event()  # the contact timeout
            return
        if last.antishock_cuts > self._cuts_seen:   # the rig counts cuts since creation
            self._cuts_seen = last.antishock_cuts
            if state in ("ramp", "treat"):
                self.cuts += 1          # bounded per session (SRS-090)
                self._send("antishock_cut")
                return
        if state in ("ramp", "treat", "limited") and self._density(last):
            return
        if state == "ramp" and last.reference_ma >= self.plan.current_ma - REFERENCE_EPS_MA:
            self._send("ramp_complete")
        elif state == "ramp" and self.tick - self._ramp_start_tick >= self.ramp_limit_ticks:
            self.log.append(f"{self.elapsed_s:.3f}s ramp not complete after "
                            f"{self.ramp_limit_ticks / self.tick_hz:.1f} s")
            self._enter_fault(FAULT_RAMP_OVERRUN)
        elif state in ("reverse_down", "ramp_down") and self._at_zero(last):
            self._send("at_zero")
        elif state in ("reverse_down", "ramp_down") and self.tick - self._fall_start_tick >= self.fall_limit_ticks:
            self.log.append(f"{self.elapsed_s:.3f}s {state} not at zero after "
                            f"{self.fall_limit_ticks / self.tick_hz:.1f} s: reference "
                            f"{last.reference_ma:.4f} mA, mean {last.mean_current_ma:.4f} mA")
            self._enter_fault(FAULT_FALL_OVERRUN)
        else:
            self._timed_event()

    def _count_limited_cuts(self, last) -> None:
        """An anti-shock cut in limited: the regulator restarted from 0 toward
        the lowered target under the ramp-up slew; the session stays limited,
        but each cut counts toward the bound (SRS-090, PR-053), in the row
        that reports it (PR-062: a contact wait used to delay it)."""
        if last.antishock_cuts > self._cuts_seen:   # the rig counts cuts since creation
            self.cuts += last.antishock_cuts - self._cuts_seen
            self._cuts_seen = last.antishock_cuts
            self.log.append(f"{self.elapsed_s:.3f}s anti-shock cut in limited ({self.cuts} this session)")

    def _cut_probe_loss(self) -> bool:
        """The contact loss reported now is the supervisor's own density cut's
        contact check: first seen within CUT_PROBE_S of the cut, and no longer
        than LIMITED_CONTACT_CHECK_S from it (SRS-061, PR-062)."""
        if self._cut_tick is None:
            return False
        since_cut = self.tick - self._cut_tick
        if not self._probe_loss and since_cut <= round(CUT_PROBE_S * self.tick_hz):
            self._probe_loss = True
        return self._probe_loss and since_cut < round(LIMITED_CONTACT_CHECK_S * self.tick_hz)

    def _limited_contact_lost(self, last) -> bool:
        """A contact loss in limited. The density cut's own contact check may
        last LIMITED_CONTACT_CHECK_S from the cut; any other loss, or a check
        that lasts longer, pauses as a lift-off does (SRS-061; the contact
        timeout runs from there, SRS-062). True if the row is done with."""
        if not last.contact_lost:
            self._probe_loss = False
            return False
        if self._cut_probe_loss():
            self._timed_event()   # the cut's own check: the time may be up meanwhile
            return True
        self._probe_loss = False
        self._cut_tick = None
        self.log.append(f"{self.elapsed_s:.3f}s contact lost in limited: a lift-off")
        self._send("contact_lost")
        return True

    def _limited_stalled(self, last) -> bool:
        """The reference below the target rose less than STALL_RISE_SHARE of the
        commanded slew over LIMITED_STALL_S: the current never shows (SRS-254,
        PR-061). The regulator's contact search
        decides: the session pauses, and resumes from 0 if the search finds
        the contact. True if the row is done with."""
        stall = self._reference_stalled(last, self.density_target_ma, self.slew_up, LIMITED_STALL_S)
        if stall is None:
            return False
        rise_ma, window_s = stall
        self.log.append(f"{self.elapsed_s:.3f}s reference at {last.reference_ma:.4f} mA below the target "
                        f"{self.density_target_ma:.3f} mA rose {1000 * rise_ma:.0f} uA "
                        f"in {window_s:.2f} s: no current shows, contact search")
        self._pause_with_search()
        return True

    def _ramp_stalled(self, last) -> bool:
        """In a ramp, the reference waiting for a current that never shows
        (SRS-257, PR-063): the same check over RAMP_STALL_S against the
        ramp's slew now, while the reading is below CURRENT_SHOWN_MA and no
        reading of the window was above NOISE_BOUND_MA. The first stall
        pauses with the contact search (a lifted hand: resume on contact, or
        the contact timeout); a stall of DEAD_STALL_S after one whose search
        found the contact at once with the sense level never open, with no
        current shown since, is a fault: the channels read nothing with a hand in.
        True if the row is done with."""
        if last.measured_current_ma >= CURRENT_SHOWN_MA:
            # the current shows: the reference no longer waits for evidence, and
            # a ramp held short of its target with current is ramp_overrun's
            self._ref_seen_ma = None
            return False
        if last.measured_current_ma > NOISE_BOUND_MA:
            self._weak_current_tick = self.tick
        window_min_s = DEAD_STALL_S if self._quiet_stalls >= 1 else RAMP_STALL_S
        stall = self._reference_stalled(last, self.plan.current_ma, self._rising_slew(), window_min_s)
        if stall is None:
            return False
        if self._weak_current_tick is not None and self._weak_current_tick >= self._ref_moved_tick:
            # a current shows in the window, below CURRENT_SHOWN_MA: the reference
            # waits for it (a high load), no lift-off; ramp_overrun bounds the wait
            self._ref_seen_ma, self._ref_moved_tick = last.reference_ma, self.tick
            return False
        rise_ma, window_s = stall
        self.log.append(f"{self.elapsed_s:.3f}s ramp reference at {last.reference_ma:.4f} mA rose "
                        f"{1000 * rise_ma:.0f} uA in {window_s:.2f} s, reading "
                        f"{last.measured_current_ma:.3f} mA: no current shows")
        if self._quiet_stalls >= 1:
            self.log.append(f"{self.elapsed_s:.3f}s the contact is sensed but no current has shown "
                            f"over {self._quiet_stalls + 1} ramps: current channels not plausible")
            self._enter_fault(FAULT_NO_CURRENT)
            return True
        self.log.append(f"{self.elapsed_s:.3f}s contact search")
        if self._pause_with_search():
            self._stall_pause_tick = self.tick
            self._stall_saw_open = False
        return True

    def _note_open_rows(self, batch) -> None:
        """During a ramp stall's pause: whether a row read the open level."""
        if self._stall_pause_tick is not None and not self._stall_saw_open:
            self._stall_saw_open = any(r.voltage_v >= OPEN_LEVEL_V for r in batch.rows())

    def _stall_search_contact(self) -> None:
        """The contact is back after a ramp stall's pause: found within
        STALL_CONTACT_S the hand was in while no current showed (SRS-257)."""
        if self._stall_pause_tick is None:
            return
        if self._stall_saw_open:
            self.log.append(f"{self.elapsed_s:.3f}s contact back after the stall; the sense level "
                            "read open during the pause: the hand was out")
        elif self.tick - self._stall_pause_tick <= round(STALL_CONTACT_S * self.tick_hz):
            self._quiet_stalls += 1
            self.log.append(f"{self.elapsed_s:.3f}s contact found at once after the stall: "
                            f"the hand was in ({self._quiet_stalls} such stall)")
        self._stall_pause_tick = None

    def _reference_stalled(self, last, target_ma: float, slew_ma_per_s: float,
                           window_min_s: float) -> tuple[float, float] | None:
        """(rise, window) of the reference over a window of at least
        `window_min_s` when it is below `target_ma` and rose less than
        STALL_RISE_SHARE of the slew over it; None when not stalled (SRS-254,
        SRS-257)."""
        ref = last.reference_ma
        # A window starts at the target (one held at its target is not
        # stalled when the target then steps up by 1 % and a slow slew takes
        # rows to show it: false pauses at 1 mA), on a fall or a restart from
        # 0, and after each window in which the reference rose by at least
        # STALL_RISE_SHARE of the commanded slew: a reference creeping in 1 uA
        # steps is stalled too (13.5 s counted at 2 mA, second review).
        # The regulator holds a target in whole uA (SRS-018): a density target
        # of 1 % steps (5.2731 mA) is held at 5.273 mA, which is at its target.
        if (self._ref_seen_ma is None or ref >= target_ma - TARGET_HELD_SLACK_MA
                or ref < self._ref_seen_ma - REFERENCE_EPS_MA):
            self._ref_seen_ma, self._ref_moved_tick = ref, self.tick
            return None
        window_s = (self.tick - self._ref_moved_tick) / self.tick_hz
        if window_s < window_min_s:
            return None
        rise_ma = ref - self._ref_seen_ma
        if rise_ma >= STALL_RISE_SHARE * slew_ma_per_s * window_s:
            self._ref_seen_ma, self._ref_moved_tick = ref, self.tick
            return None
        return rise_ma, window_s

    def _current_absent(self, last) -> bool:
        """The supervisor's own open-circuit check (SRS-256): with the reference
        at least OPEN_CHECK_MIN_MA, the drive not compliance limited and no
        contact loss reported, a reading below 1/OPEN_CHECK_RATIO of the
        reference at every batch end for OPEN_CHECK_S is a lift-off the
        regulator did not report. The regulator's contact search decides.
        True if the row is done with."""
        absent = (last.reference_ma >= OPEN_CHECK_MIN_MA and not last.compliance_limited
                  and not last.contact_lost
                  and last.measured_current_ma * OPEN_CHECK_RATIO < last.reference_ma)
        if not absent:
            self._absent_since_tick = None
            return False
        if self._absent_since_tick is None:
            self._absent_since_tick = self.tick
        if self.tick - self._absent_since_tick < round(OPEN_CHECK_S * self.tick_hz):
            return False
        self._absent_since_tick = None
        self.log.append(f"{self.elapsed_s:.3f}s reading {last.measured_current_ma:.3f} mA at a reference of "
                        f"{last.reference_ma:.3f} mA for {OPEN_CHECK_S:.1f} s in {self.state}: "
                        "no current flows, contact search")
        self._pause_with_search()
        return True

    def _open_at_compliance(self, last) -> bool:
        """The supervisor's check of an open circuit at compliance (SRS-315):
        while the output drives (the state's output permission is not OFF, the
        output enabled), the drive
        compliance limited, no contact loss reported and a reading at or below
        OPEN_AT_COMPLIANCE_MAX_MA at every batch end for OPEN_CHECK_S, the regulator's
        open-circuit detector has failed (FM-REG-03): the output disconnect
        opens and the fault latches. The window restarts only when a batch end
        breaks the condition. True if it did."""
        held = (self.machine.output_permission is not OutputPermission.OFF and last.compliance_limited
                and not last.contact_lost and abs(last.measured_current_ma) <= OPEN_AT_COMPLIANCE_MAX_MA
                and last.output_enabled)
        if not held:
            self._open_held_since_tick = None
            return False
        if self._open_held_since_tick is None:
            self._open_held_since_tick = self.tick
        if self.tick - self._open_held_since_tick < round(OPEN_CHECK_S * self.tick_hz):
            return False
        self.log.append(f"{self.elapsed_s:.3f}s compliance limited with a reading of "
                        f"{abs(last.measured_current_ma):.3f} mA and no contact loss reported for "
                        f"{OPEN_CHECK_S:.1f} s in {self.state}: an open circuit (or a contact above "
                        "60 kOhm) the regulator did not report; output disconnected")
        self._disconnect()
        self._enter_fault(FAULT_OPEN_UNREPORTED)
        return True

    def _row_short(self, last) -> bool:
        """The supervisor's short check on the row means (SRS-317): once the
        drive is steady (_row_settled), a row whose mean current is at least
        ROW_SHORT_MIN_MA and whose mean voltage over it is below ROW_SHORT_OHMS
        is a short the regulator did not latch (pulsed, its check rests on the
        settled pair, FM-REG-12): the fault latches with the output off. True
        if it did."""
        if not self._row_settled(last):
            return False
        mean_ma = abs(last.mean_current_ma)
        if mean_ma < ROW_SHORT_MIN_MA:
            return False
        ohms = 1000.0 * abs(last.mean_voltage_v) / mean_ma
        if ohms >= ROW_SHORT_OHMS:
            return False
        self.log.append(f"{self.elapsed_s:.3f}s row mean {abs(last.mean_voltage_v):.3f} V over "
                        f"{mean_ma:.3f} mA = {ohms:.0f} ohm, below {ROW_SHORT_OHMS} ohm in "
                        f"{self.state}: a short the regulator did not latch")
        self._enter_fault(FAULT_ROW_SHORT)
        return True

    def _row_settled(self, last) -> bool:
        """In a state that drives the output, the batch ends of the last
        ROW_SHORT_SETTLE_S were all in such a state and the reference now is
        at most ROW_SHORT_RISE_MAX times the lowest of theirs (SRS-317)."""
        refs = self._row_refs
        if self.state not in ROW_SHORT_STATES:
            refs.clear()
            return False
        window_start = self.tick - round(ROW_SHORT_SETTLE_S * self.tick_hz)
        # keep the newest batch end at or before the window's start
        while len(refs) > 1 and refs[1][0] <= window_start:
            refs.popleft()
        refs.append((self.tick, last.reference_ma))
        if refs[0][0] > window_start:
            return False   # driving for less than the window
        return last.reference_ma <= ROW_SHORT_RISE_MAX * min(ref for _, ref in refs)

    # -- current density when the contact area shrinks (SRS-092) ------------------------
    def _load_ohms(self, last) -> float:
        """The load for the density checks. Pulsed and driving (SRS-302): the
        mean electrode voltage over the mean current of the last row, which
        in the pulse train's steady state is the DC load whatever the skin
        capacitance (the regulator's V/I on the pulse peak reads 27-85 % of
        it); so the baseline, the drive's estimates and the sense level's
        (never gated, SRS-259) compare as in DC. Otherwise the regulator's."""
        if self._duty is None or self.state not in ("ramp", "treat", "limited") or last is None:
            return _load_estimate_ohms(last)
        mean_ma = abs(last.mean_current_ma)
        return 1000.0 * abs(last.mean_voltage_v) / mean_ma if mean_ma > 0.0 else math.inf

    def _area_too_small(self, last) -> bool:
        """The load beyond the pause bound of the baseline (fingertips, a pad
        that slipped). Unknown (no estimate) counts as not too small: the
        regulator's contact detection decides, and the ramp checks again."""
        r_now = self._load_ohms(last)
        return (self._r_base is not None and math.isfinite(r_now)
                and r_now >= _LIMITS.load_pause_ratio * self._r_base)

    def _density_held(self, last) -> bool:
        """After a pause for a too small contact area, the session stays paused
        for SENSE_SETTLE_S (the sense level settles) and then until a sense
        estimate shows the load back within the pause bound, whether or not
        the electrodes were lifted out fully meanwhile; otherwise the contact
        timeout ends it. (A contact the regulator reports always comes with
        a sense-window estimate, SRS-027.)"""
        if not self._density_paused:
            return False
        if self.paused_ticks < round(SENSE_SETTLE_S * self.tick_hz):
            return True   # the sense level settles first (the cut discharges the load)
        r_now = self._load_ohms(last)
        return not (math.isfinite(r_now) and not self._area_too_small(last))

    def _density(self, last) -> bool:
        """Track the load against its baseline; lower the current so the
        estimated density (I x R, R inversely proportional to the wetted area)
        does not exceed its value at the baseline; pause beyond the pause
        bound; give the set current back when the load is back. True if an
        event was sent."""
        r_now = self._load_ohms(last)
        if not math.isfinite(r_now):
            return False
        state = self.state
        # in limited the current is already lowered (at 1 mA set, below 0.5 mA)
        # or re-rises from 0 after a cut: the load is watched from a lower current
        min_ma = LOAD_LIMITED_MIN_MA if state == "limited" else LOAD_ESTIMATE_MIN_MA
        if last.measured_current_ma < min_ma:
            return False
        if state == "ramp":
            if self._area_too_small(last):
                return self._density_pause(r_now)
            return self._ramp_density(r_now)
        if self._r_base is None:
            self._r_base0 = self._r_base = r_now
            self._r_base_tick = self.tick
            self.log.append(f"{self.elapsed_s:.3f}s load baseline {r_now:.0f} ohm")
            return False
        minutes = (self.tick - self._r_base_tick) / self.tick_hz / 60.0
        self._r_base_tick = self.tick
        if state == "treat" and r_now > self._r_base:
            # skin drying: followed no faster and no further than normal, and
            # only while the load is within the band (never in limited: a
            # smaller area held for minutes must not raise the baseline)
            self._r_base = max(self._r_base, min(
                r_now, self._r_base * (1.0 + _LIMITS.load_drying_rate_max_percent_per_min / 100.0 * minutes),
                self._r_base0 * _LIMITS.load_drying_rise_max_ratio))
        ratio = r_now / self._r_base
        if ratio >= _LIMITS.load_pause_ratio:
            return self._density_pause(r_now)
        within = ratio <= 1.0 + _LIMITS.load_limit_band_percent / 100.0
        allowed = self.plan.current_ma if within else self.plan.current_ma / ratio
        self.density_target_ma = self._whole_percent_ma(allowed)
        excess_s = self._track_excess_s(ratio, last)
        if (not within and excess_s + self._fall_excess_s(ratio, last.reference_ma)
                > DENSITY_EXCESS_BUDGET * _LIMITS.density_excess_max_s
                and not self._density_cut()):
            return True   # the cut was refused: fault
        if state == "treat" and not within:
            self.density_limits += 1
            self.log.append(f"{self.elapsed_s:.3f}s load {r_now:.0f} ohm, {ratio:.2f}x the baseline "
                            f"{self._r_base:.0f} ohm: current lowered to "
                            f"{self.density_target_ma:.3f} mA (current density)")
            self._send("density_limit")
            return True
        if (state == "limited" and within
                and last.reference_ma >= self.plan.current_ma - REFERENCE_EPS_MA):
            self.log.append(f"{self.elapsed_s:.3f}s load {r_now:.0f} ohm back within the baseline "
                            f"{self._r_base:.0f} ohm: set current again")
            self._send("density_clear")
            return True
        return False

    def _whole_percent_ma(self, allowed_ma: float) -> float:
        """`allowed_ma` down to a whole 1 % of the set current, at least 1 %:
        the density never above the baseline's, and not a new command every
        row for estimate noise (SRS-092, SRS-304)."""
        step_ma = self.plan.current_ma / 100.0
        return max(step_ma, math.floor(allowed_ma / step_ma + 1e-9) * step_ma)

    def _ramp_density(self, r_now: float) -> bool:
        """A re-ramp after a pause (a baseline exists) onto a smaller contact
        area (SRS-304): a load more than the band above the baseline ends the
        ramp at once into limited, lowered to I_set x R_base / R_now as in
        treat (SRS-092), instead of climbing to the set current first (the
        density check of treat acts only at the ramp's end). True if sent."""
        if self._r_base is None:
            return False
        ratio = r_now / self._r_base
        if ratio <= 1.0 + _LIMITS.load_limit_band_percent / 100.0:
            return False
        self.density_target_ma = self._whole_percent_ma(self.plan.current_ma / ratio)
        # the density now (reference at most the target) is within the band: an
        # excess episode starts from 0 (SRS-141)
        self._excess_s, self._excess_tick = 0.0, self.tick
        self.density_limits += 1
        self.log.append(f"{self.elapsed_s:.3f}s load {r_now:.0f} ohm in the ramp, {ratio:.2f}x the baseline "
                        f"{self._r_base:.0f} ohm: ramp ended, current lowered to "
                        f"{self.density_target_ma:.3f} mA (current density)")
        self._send("ramp_complete")
        self._send("density_limit")
        return True

    def _track_excess_s(self, ratio: float, last) -> float:
        """The density excess over the band since the density last was within
        it (seconds at the baseline density), summed from the estimates at
        each check over the time since the previous one (SRS-141)."""
        band = 1.0 + _LIMITS.load_limit_band_percent / 100.0
        density = ratio * last.measured_current_ma / self.plan.current_ma
        dt_s = (self.tick - self._excess_tick) / self.tick_hz
        self._excess_tick = self.tick
        if density <= band:
            self._excess_s = 0.0    # back within the band: a new episode starts from 0
        else:
            self._excess_s += (density - band) * dt_s
        return self._excess_s

    def _fall_excess_s(self, ratio: float, ref_ma: float) -> float:
        """The density excess over the band (in seconds at the baseline
        density) that lowering the reference from `ref_ma` to the density
        target at the regulator's fastest slew would let through: the
        density falls linearly from ratio x ref / I_set (SRS-141)."""
        fall_ma = ref_ma - self.density_target_ma
        if fall_ma <= REFERENCE_EPS_MA:
            return 0.0
        over = ratio * ref_ma / self.plan.current_ma - (1.0 + _LIMITS.load_limit_band_percent / 100.0)
        return max(0.0, over) * fall_ma / REG_LIMITS.slew_max_ma_per_s / 2.0

    def _density_cut(self) -> bool:
        """Lower the current for the density at once (SRS-141), as the
        anti-shock cut does: output restarted, so the reference is 0 from the
        next tick, then up under the ramp-up slew to the density target (the
        regulator's enable probe checks the contact first). False if the
        device refused (fault entered)."""
        target = self.density_target_ma
        try:
            self.device.enable_output(False)
            self.device.command(target, self.slew_up)
            self.device.enable_output(True)
        except RegulatorError as exc:
            self.log.append(f"{self.elapsed_s:.3f}s density cut refused in {self.state}: {exc}")
            self._enter_fault(FAULT_SUPERVISOR)
            return False
        self._commanded = (target, self.slew_up, True)
        self._verify_next_row = True
        self._cut_tick = self.tick   # its contact check may follow (PR-062)
        self.density_cuts += 1
        self.log.append(f"{self.elapsed_s:.3f}s current cut to 0 and rising to {target:.3f} mA: "
                        "a fall at the fastest slew would exceed the density bound")
        return True

    def _search_again(self) -> None:
        """Paused for a contact area too small: the regulator saw a contact,
        but its sense estimate is still beyond the pause bound (or not yet
        settled); back to the sense level to watch the load (SRS-092)."""
        try:
            self.device.search_contact()
        except RegulatorError as exc:
            self.log.append(f"{self.elapsed_s:.3f}s contact search refused in {self.state}: {exc}")
            self._enter_fault(FAULT_SUPERVISOR)

    def _density_pause(self, r_now: float) -> bool:
        self.density_pauses += 1
        self.log.append(f"{self.elapsed_s:.3f}s load {r_now:.0f} ohm beyond "
                        f"{_LIMITS.load_pause_ratio:g}x the baseline {self._r_base:.0f} ohm: "
                        "contact area too small, paused: place the hands (pads) fully again")
        if self._pause_with_search():
            self._density_paused = True
        return True

    def _pause_with_search(self) -> bool:
        """As the regulator does on a lift-off: the reference to 0 at once and
        the stage at the sense level (at most 10 uA) until a sense window
        shows the load; then paused, as on a lift-off. False if the device
        refused (fault entered)."""
        try:
            self.device.command(0.0, self.slew_down)
            self.device.search_contact()
        except RegulatorError as exc:
            self.log.append(f"{self.elapsed_s:.3f}s command refused in {self.state}: {exc}")
            self._enter_fault(FAULT_SUPERVISOR)
            return False
        self._commanded = (0.0, self.slew_down, None)
        self._verify_next_row = True
        self._send("contact_lost")
        return True

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
            if self._row_stale or self.last.output_enabled or not self._at_zero(self.last):
                continue   # a row before the latest posts decides nothing (SRS-316)
            try:
                self.device.set_polarity(Polarity.NORMAL if self.plan.start_reversed
                                         else Polarity.REVERSED)
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
            if batch.rows_run <= 0:   # a device that runs no row: nothing more to observe
                self.log.append(f"{self.elapsed_s:.3f}s the device ran no row in fault")
                return
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
