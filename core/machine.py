"""The therapy state machine: the one place that decides what the output may do.

States, events and the output table are fixed by docs/architecture.md ("State
machine contract"). The machine does no I/O and never touches the regulator:
it decides, `core.supervisor` acts. Guards read their inputs from a small
`GuardInputs` object so that a verifier can enumerate every guard value.

Use `dispatch(event)` to drive it: an event not allowed raises
`TransitionNotAllowed` (strict `StateMachine` semantics); an exception inside
an action or guard sends the machine to `fault` (SRS-055).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

__all__ = [
    "ACTIVE_STATES",
    "GUARD_NAMES",
    "GuardInputs",
    "OutputPermission",
    "TherapyMachine",
    "TransitionNotAllowed",
]


class OutputPermission(StrEnum):
    """What the output stage may do in a state (enforced by the supervisor)."""

    OFF = "off"          # output disabled, reference 0 (sense level only)
    RISING = "rising"    # reference may rise from 0 to the set current under the slew
    HOLDING = "holding"  # reference held at the set current
    FALLING = "falling"  # reference may only fall toward 0
    # reference at or below the set current, lowered to the current-density
    # bound (SRS-092) and back toward the set current under the ramp-up slew
    REDUCED = "reduced"


def _reset_refused() -> bool:
    # Fail safe: without a real reset function, acknowledging never leaves fault.
    return False


@dataclass
class GuardInputs:
    """Inputs the guards read at the moment an event is processed.

    reversal_enabled: the session's "polarity reversal at half time" setting.
    reset_regulator: tries the regulator's fault reset; returns True only if
        the reset succeeded with no current flowing (SRS-017, SRS-053). It is
        called once per `acknowledge` event, from the guard.
    """

    reversal_enabled: bool = False
    reset_regulator: Callable[[], bool] = field(default=_reset_refused)

    @classmethod
    def fixed(cls, reversal_enabled: bool, reset_ok: bool) -> "GuardInputs":
        """Constant guard values, for exhaustive exploration and tests."""
        return cls(reversal_enabled=reversal_enabled, reset_regulator=lambda: reset_ok)


GUARD_NAMES: tuple[str, ...] = ("reversal_enabled", "regulator_reset_ok")


class TherapyMachine(StateMachine):
    """idle -> checklist -> ramp -> treat -> ramp_down -> idle, with pause,
    half-time reversal and a latched fault (docs/architecture.md)."""

    # --- states -----------------------------------------------------------
    idle = State(initial=True)
    checklist = State()
    ramp = State()
    treat = State()
    limited = State()     # treat at a current lowered for the current density (SRS-092)
    paused = State()
    reverse_down = State()
    polarity_switch = State()
    ramp_down = State()
    fault = State()

    # --- what the output may do in each state: the one table (SRS-050) ----
    OUTPUT_TABLE: dict[str, OutputPermission] = {
        "idle": OutputPermission.OFF,
        "checklist": OutputPermission.OFF,
        "ramp": OutputPermission.RISING,
        "treat": OutputPermission.HOLDING,
        "limited": OutputPermission.REDUCED,
        "paused": OutputPermission.OFF,
        "reverse_down": OutputPermission.FALLING,
        "polarity_switch": OutputPermission.OFF,
        "ramp_down": OutputPermission.FALLING,
        "fault": OutputPermission.OFF,
    }

    # OFF states in which the stage may stay at the sense level (target 0,
    # through the hardware sense resistor) to notice a returning contact
    SENSE_LEVEL_STATES: frozenset[str] = frozenset({"paused"})

    # --- events (transition table) ----------------------------------------
    start = idle.to(checklist)
    checklist_passed = checklist.to(ramp)
    checklist_refused = checklist.to(idle)
    ramp_complete = ramp.to(treat)
    contact_lost = (ramp.to(paused) | treat.to(paused) | limited.to(paused)
                    | reverse_down.to(paused))
    contact_restored = paused.to(ramp)
    contact_timeout = paused.to(ramp_down)
    # an anti-shock cut restarts the reference from 0: back to (or again in) ramp
    antishock_cut = ramp.to.itself() | treat.to(ramp) | limited.to(ramp)
    # the load rose faster or further than skin drying (a smaller contact
    # area): the current is lowered to keep the density (SRS-092); back to
    # treat when the load is back and the reference at the set current
    density_limit = treat.to(limited)
    density_clear = limited.to(treat)
    half_time = (treat.to(reverse_down, cond="reversal_enabled")
                 | limited.to(reverse_down, cond="reversal_enabled"))
    at_zero = reverse_down.to(polarity_switch) | ramp_down.to(idle)
    polarity_switched = polarity_switch.to(ramp)
    time_up = treat.to(ramp_down) | limited.to(ramp_down)
    # Stop (the user's button) from every active state; pressing it again
    # during ramp-down changes nothing (internal: no exit/entry).
    stop = (
        checklist.to(ramp_down)
        | ramp.to(ramp_down)
        | treat.to(ramp_down)
        | limited.to(ramp_down)
        | paused.to(ramp_down)
        | reverse_down.to(ramp_down)
        | polarity_switch.to(ramp_down)
        | ramp_down.to.itself(internal=True)
    )
    acknowledge = fault.to(idle, cond="regulator_reset_ok")
    # The event shares its id with the state `fault`; the attribute name differs
    # only because a class body cannot bind one name twice. After class creation
    # `TherapyMachine.fault` is the event; the state is `states_map["fault"]`.
    fault_event = Event(
        idle.to(fault)
        | checklist.to(fault)
        | ramp.to(fault)
        | treat.to(fault)
        | limited.to(fault)
        | paused.to(fault)
        | reverse_down.to(fault)
        | polarity_switch.to(fault)
        | ramp_down.to(fault),
        id="fault",
    )

    def __init__(self, guards: GuardInputs | None = None, listeners: list[object] | None = None):
        self.guards = guards if guards is not None else GuardInputs()
        self.states_visited: list[str] = []
        self.transitions_taken: list[tuple[str, str, str]] = []  # (event, source, target)
        self.last_error: BaseException | None = None  # cause of the current fault, if an exception
        self.errors: list[BaseException] = []          # every exception caught, for the record
        super().__init__(listeners=listeners)
        self.states_visited.append(self.state_id)

    # --- guards (short, named: tools read them from the table) -------------
    def reversal_enabled(self) -> bool:
        return bool(self.guards.reversal_enabled)

    def regulator_reset_ok(self) -> bool:
        return self.guards.reset_regulator() is True

    # --- actions -------------------------------------------------------------
    def on_acknowledge(self) -> None:
        # the fault is cleared, so is its cause; `errors` keeps the record
        self.last_error = None

    # --- queries ------------------------------------------------------------
    @property
    def state_id(self) -> str:
        return str(self.current_state_value)

    @property
    def output_permission(self) -> OutputPermission:
        return self.OUTPUT_TABLE[self.state_id]

    @property
    def is_active(self) -> bool:
        """A session is under way (every state but idle and fault)."""
        return self.state_id in ACTIVE_STATES

    @property
    def treatment_timer_running(self) -> bool:
        """The treatment time counts in treat and limited (SRS-065, SRS-092):
        limited is treatment at a lowered current; the charge bound (SRS-090)
        and the set time both hold there."""
        return self.state_id in ("treat", "limited")

    @property
    def polarity_change_allowed(self) -> bool:
        """Polarity may be swapped only here, with the output off (SRS-058)."""
        return self.state_id == "polarity_switch"

    @classmethod
    def transition_table(cls) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """Every declared transition as (source, event, target, guard names)."""
        rows = []
        for state in cls.states:
            for transition in state.transitions:
                guards = tuple(
                    str(spec.func) for spec in transition.cond if not spec.is_convention
                )
                for event in transition.events:
                    rows.append((state.id, event.id, transition.target.id, guards))
        return rows

    @classmethod
    def event_ids(cls) -> list[str]:
        return [e.id for e in cls._events]

    @classmethod
    def state_ids(cls) -> list[str]:
        return [s.id for s in cls.states]

    # --- driving --------------------------------------------------------------
    def dispatch(self, event: str) -> str:
        """Process one event; return the state id afterwards.

        Raises TransitionNotAllowed when the event is not allowed in the current
        state (or its guard is false); the state is then unchanged. Any other
        exception raised by an action or guard is caught: the machine goes to
        fault and keeps the exception in `last_error`.
        """
        source = self.state_id
        try:
            self.send(event)
        except TransitionNotAllowed:
            raise
        except Exception as exc:  # an action failed: the only safe place is fault
            self._record(event, source)
            self.last_error = exc
            self.errors.append(exc)
            self._enter_fault_after_error()
            return self.state_id
        self._record(event, source)
        return self.state_id

    def _enter_fault_after_error(self) -> None:
        if self.state_id == "fault":
            return
        source = self.state_id
        try:
            self.send("fault")
        except Exception as exc:  # even the fault entry failed: force the state
            self.errors.append(exc)
            self.current_state_value = "fault"
        self._record("fault", source)

    def _record(self, event: str, source: str) -> None:
        target = self.state_id
        if target != source or event == "antishock_cut":
            # the re-ramp in ramp (ramp -> ramp) is a transition worth logging
            self.transitions_taken.append((event, source, target))
        if target != source:
            self.states_visited.append(target)


ACTIVE_STATES: frozenset[str] = frozenset(TherapyMachine.state_ids()) - {"idle", "fault"}


def _check_output_table() -> None:
    # The table and the states must match one to one; a mismatch is a build error.
    states = set(TherapyMachine.state_ids())
    table = set(TherapyMachine.OUTPUT_TABLE)
    if states != table:
        raise RuntimeError(f"OUTPUT_TABLE does not match the states: {sorted(states ^ table)}")


_check_output_table()
