"""TherapyMachine against the contract of docs/architecture.md ("State machine contract").

The expected table below is written out from the contract, not read from the
code, so a changed transition in core/machine.py fails here.
"""
from __future__ import annotations

import itertools
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.machine import (
    ACTIVE_STATES,
    GUARD_NAMES,
    GuardInputs,
    OutputPermission,
    TherapyMachine,
    TransitionNotAllowed,
)

OFF, RISING, HOLDING, FALLING, REDUCED = (
    OutputPermission.OFF, OutputPermission.RISING, OutputPermission.HOLDING,
    OutputPermission.FALLING, OutputPermission.REDUCED)

CONTRACT_OUTPUT = {
    "idle": OFF, "checklist": OFF, "ramp": RISING, "treat": HOLDING, "limited": REDUCED,
    "paused": OFF,
    "reverse_down": FALLING, "polarity_switch": OFF, "ramp_down": FALLING, "fault": OFF,
}
STATES = list(CONTRACT_OUTPUT)
ACTIVE = [s for s in STATES if s not in ("idle", "fault")]
EVENTS = ["start", "checklist_passed", "checklist_refused", "ramp_complete", "contact_lost",
          "contact_restored", "contact_timeout", "antishock_cut", "half_time", "at_zero",
          "polarity_switched", "time_up", "stop", "fault", "acknowledge",
          "density_limit", "density_clear"]

# (source, event) -> (target, guard name or None)
CONTRACT = {
    ("idle", "start"): ("checklist", None),
    ("checklist", "checklist_passed"): ("ramp", None),
    ("checklist", "checklist_refused"): ("idle", None),
    ("ramp", "ramp_complete"): ("treat", None),
    ("ramp", "contact_lost"): ("paused", None),
    ("treat", "contact_lost"): ("paused", None),
    ("reverse_down", "contact_lost"): ("paused", None),
    ("paused", "contact_restored"): ("ramp", None),
    ("paused", "contact_timeout"): ("ramp_down", None),
    ("ramp", "antishock_cut"): ("ramp", None),
    ("treat", "antishock_cut"): ("ramp", None),
    ("treat", "half_time"): ("reverse_down", "reversal_enabled"),
    ("reverse_down", "at_zero"): ("polarity_switch", None),
    ("ramp_down", "at_zero"): ("idle", None),
    ("polarity_switch", "polarity_switched"): ("ramp", None),
    ("treat", "time_up"): ("ramp_down", None),
    # current density (SRS-092): treat at a lowered current and back
    ("treat", "density_limit"): ("limited", None),
    ("limited", "density_clear"): ("treat", None),
    ("limited", "contact_lost"): ("paused", None),
    ("limited", "antishock_cut"): ("ramp", None),
    ("limited", "half_time"): ("reverse_down", "reversal_enabled"),
    ("limited", "time_up"): ("ramp_down", None),
    ("fault", "acknowledge"): ("idle", "regulator_reset_ok"),
}
CONTRACT.update({(s, "stop"): ("ramp_down", None) for s in ACTIVE})
CONTRACT.update({(s, "fault"): ("fault", None) for s in STATES if s != "fault"})

# event paths from idle that reach each state (guards true)
PATH = {
    "idle": [],
    "checklist": ["start"],
    "ramp": ["start", "checklist_passed"],
    "treat": ["start", "checklist_passed", "ramp_complete"],
    "limited": ["start", "checklist_passed", "ramp_complete", "density_limit"],
    "paused": ["start", "checklist_passed", "ramp_complete", "contact_lost"],
    "reverse_down": ["start", "checklist_passed", "ramp_complete", "half_time"],
    "polarity_switch": ["start", "checklist_passed", "ramp_complete", "half_time", "at_zero"],
    "ramp_down": ["start", "checklist_passed", "ramp_complete", "time_up"],
    "fault": ["fault"],
}


def machine_in(state: str, reversal: bool = True, reset_ok: bool = True) -> TherapyMachine:
    sm = TherapyMachine(GuardInputs(reversal_enabled=True, reset_regulator=lambda: True))
    for event in PATH[state]:
        sm.dispatch(event)
    assert sm.state_id == state
    sm.guards = GuardInputs.fixed(reversal_enabled=reversal, reset_ok=reset_ok)
    return sm


# --- SRS-050: states and the one output table --------------------------------------

@pytest.mark.req("SRS-050")
def test_states_events_and_output_table_match_the_contract():
    assert TherapyMachine.state_ids() == STATES
    assert sorted(TherapyMachine.event_ids()) == sorted(EVENTS)
    assert TherapyMachine.OUTPUT_TABLE == CONTRACT_OUTPUT
    assert TherapyMachine().state_id == "idle"  # initial state
    assert set(ACTIVE_STATES) == set(ACTIVE)
    assert GUARD_NAMES == ("reversal_enabled", "regulator_reset_ok")


@pytest.mark.req("SRS-050")
@pytest.mark.parametrize("state", STATES)
def test_output_permission_in_each_state_is_the_table_entry(state):
    sm = machine_in(state)
    assert sm.output_permission is CONTRACT_OUTPUT[state]
    # the timer runs in treat and in limited, treatment at a lowered current (SRS-065, SRS-092)
    assert sm.treatment_timer_running is (state in ("treat", "limited"))


@pytest.mark.req("SRS-050", "SRS-051")
def test_declared_transition_table_is_exactly_the_contract():
    declared = {
        (src, ev): (dst, guards[0] if guards else None)
        for src, ev, dst, guards in TherapyMachine.transition_table()
    }
    assert len(TherapyMachine.transition_table()) == len(CONTRACT)  # no duplicates
    assert declared == CONTRACT


# --- every transition, every refused event ---------------------------------------

@pytest.mark.req("SRS-050")
@pytest.mark.parametrize("source,event", sorted(CONTRACT))
def test_every_allowed_transition(source, event):
    sm = machine_in(source)
    target = CONTRACT[(source, event)][0]
    assert sm.dispatch(event) == target
    assert sm.state_id == target
    assert sm.output_permission is CONTRACT_OUTPUT[target]


REFUSED = [(s, e) for s, e in itertools.product(STATES, EVENTS) if (s, e) not in CONTRACT]


@pytest.mark.req("SRS-051")
def test_refused_matrix_is_complete():
    # 10 states x 17 events = 170 pairs; the rest of the contract's 40 are refused
    assert len(REFUSED) + len(CONTRACT) == 170
    assert len(REFUSED) == 130


@pytest.mark.req("SRS-051")
@pytest.mark.parametrize("state,event", REFUSED)
def test_every_refused_event_raises_and_changes_nothing(state, event):
    sm = machine_in(state)
    visited = list(sm.states_visited)
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch(event)
    assert sm.state_id == state
    assert sm.states_visited == visited
    assert sm.last_error is None


@pytest.mark.req("SRS-051")
@pytest.mark.parametrize("state", STATES)
def test_unknown_event_raises(state):
    sm = machine_in(state)
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("energise")
    assert sm.state_id == state


@pytest.mark.req("SRS-051")
def test_half_time_refused_when_reversal_disabled():
    sm = machine_in("treat", reversal=False)
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("half_time")
    assert sm.state_id == "treat"
    assert sm.output_permission is HOLDING


# --- SRS-052/053: fault ------------------------------------------------------------

@pytest.mark.req("SRS-052")
@pytest.mark.parametrize("state", [s for s in STATES if s != "fault"])
def test_fault_from_every_state(state):
    sm = machine_in(state)
    assert sm.dispatch("fault") == "fault"
    assert sm.output_permission is OFF


@pytest.mark.req("SRS-052")
def test_every_state_where_output_may_be_on_has_a_fault_transition():
    on_states = {s for s, p in TherapyMachine.OUTPUT_TABLE.items() if p is not OFF}
    assert on_states == {"ramp", "treat", "limited", "reverse_down", "ramp_down"}
    with_fault = {src for src, ev, dst, _ in TherapyMachine.transition_table() if ev == "fault"}
    assert on_states <= with_fault


@pytest.mark.req("SRS-053")
def test_acknowledge_needs_a_successful_reset_and_leads_to_idle():
    calls = []

    def reset() -> bool:
        calls.append(1)
        return len(calls) >= 2  # the first reset is refused (current flowing)

    sm = TherapyMachine(GuardInputs(reset_regulator=reset))
    sm.dispatch("start")
    sm.dispatch("fault")
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("acknowledge")
    assert sm.state_id == "fault" and len(calls) == 1
    assert sm.dispatch("acknowledge") == "idle"
    assert len(calls) == 2  # the reset is tried exactly once per acknowledge


@pytest.mark.req("SRS-053")
def test_default_guards_never_leave_fault():
    sm = TherapyMachine()
    sm.dispatch("fault")
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("acknowledge")
    assert sm.state_id == "fault"


@pytest.mark.req("SRS-053")
def test_reset_result_must_be_exactly_true():
    # a truthy non-bool (e.g. a status code 1 from a careless wrapper) is not success
    sm = TherapyMachine(GuardInputs(reset_regulator=lambda: 1))
    sm.dispatch("fault")
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("acknowledge")


@pytest.mark.req("SRS-053")
@pytest.mark.parametrize("event", [e for e in EVENTS if e != "acknowledge"])
def test_fault_is_left_only_by_acknowledge(event):
    sm = machine_in("fault")
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch(event)
    assert sm.state_id == "fault"


# --- SRS-054: stop ---------------------------------------------------------------------

@pytest.mark.req("SRS-054")
@pytest.mark.parametrize("state", ACTIVE)
def test_stop_from_every_active_state_ramps_down_to_idle(state):
    sm = machine_in(state)
    assert sm.dispatch("stop") == "ramp_down"
    assert sm.output_permission is FALLING
    assert sm.dispatch("stop") == "ramp_down"  # pressing again changes nothing
    assert sm.dispatch("at_zero") == "idle"
    assert sm.output_permission is OFF


@pytest.mark.req("SRS-054")
@pytest.mark.parametrize("state", ["idle", "fault"])
def test_stop_outside_a_session_raises(state):
    sm = machine_in(state)
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("stop")


# --- SRS-055: an exception in an action goes to fault -----------------------------------

class Boom:
    """A listener whose entry actions raise where told to."""

    def __init__(self, *states: str):
        self.states = set(states)

    def _maybe(self, state: str) -> None:
        if state in self.states:
            raise RuntimeError(f"action failed entering {state}")

    def on_enter_ramp(self):
        self._maybe("ramp")

    def on_enter_treat(self):
        self._maybe("treat")

    def on_enter_fault(self):
        self._maybe("fault")

    def on_stop(self):
        self._maybe("stop")


@pytest.mark.req("SRS-055")
def test_exception_in_entry_action_goes_to_fault():
    boom = Boom("treat")
    sm = TherapyMachine(listeners=[boom])
    sm.dispatch("start")
    sm.dispatch("checklist_passed")
    assert sm.dispatch("ramp_complete") == "fault"
    assert sm.output_permission is OFF
    assert isinstance(sm.last_error, RuntimeError)
    assert "treat" in str(sm.last_error)
    assert sm.states_visited == ["idle", "checklist", "ramp", "fault"]
    assert sm.transitions_taken[-1] == ("fault", "ramp", "fault")


@pytest.mark.req("SRS-055", "SRS-053")
def test_acknowledge_clears_the_cause_but_keeps_the_record():
    sm = TherapyMachine(GuardInputs(reset_regulator=lambda: True), listeners=[Boom("treat")])
    sm.dispatch("start")
    sm.dispatch("checklist_passed")
    sm.dispatch("ramp_complete")
    assert sm.state_id == "fault" and sm.last_error is not None
    assert sm.dispatch("acknowledge") == "idle"
    assert sm.last_error is None
    assert len(sm.errors) == 1


@pytest.mark.req("SRS-055")
def test_exception_in_transition_action_goes_to_fault():
    sm = TherapyMachine(listeners=[Boom("stop")])
    sm.dispatch("start")
    sm.dispatch("checklist_passed")
    assert sm.dispatch("stop") == "fault"


@pytest.mark.req("SRS-055")
def test_exception_in_fault_entry_still_ends_in_fault():
    sm = TherapyMachine(listeners=[Boom("ramp", "fault")])
    sm.dispatch("start")
    assert sm.dispatch("checklist_passed") == "fault"
    assert sm.output_permission is OFF
    assert "ramp" in str(sm.last_error)  # the cause of the fault
    assert ["ramp" in str(e) for e in sm.errors] == [True, False]
    assert "fault" in str(sm.errors[1])
    # the machine still works afterwards: strict and acknowledgeable
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("start")


@pytest.mark.req("SRS-055")
def test_exception_in_guard_goes_to_fault():
    def broken_reversal_flag():
        raise OSError("settings store unreadable")

    sm = machine_in("treat")
    sm.guards = GuardInputs(reset_regulator=broken_reversal_flag)
    sm.dispatch("fault")
    assert sm.dispatch("acknowledge") == "fault"  # reset raised: stays in fault
    assert isinstance(sm.last_error, OSError)


@pytest.mark.req("SRS-055")
def test_exception_in_guard_outside_fault_goes_to_fault():
    class BadFlag:
        def __bool__(self):
            raise ValueError("corrupt flag")

    sm = machine_in("treat")
    sm.guards = GuardInputs(reversal_enabled=BadFlag())  # type: ignore[arg-type]
    assert sm.dispatch("half_time") == "fault"
    assert isinstance(sm.last_error, ValueError)


# --- SRS-056..058: paths -------------------------------------------------------------------

def _graph(without: str | None = None) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {s: set() for s in STATES}
    for src, _ev, dst, _g in TherapyMachine.transition_table():
        if without not in (src, dst):
            graph[src].add(dst)
    return graph


def _reachable(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in graph[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.req("SRS-056")
@pytest.mark.parametrize("gate", ["checklist", "ramp"])
def test_treat_only_through_checklist_and_ramp(gate):
    assert "treat" in _reachable("idle", _graph())
    assert "treat" not in _reachable("idle", _graph(without=gate))


@pytest.mark.req("SRS-056")
def test_treat_is_entered_only_from_ramp():
    # ... or back from limited, which is entered only from treat (SRS-092)
    assert {src for src, _e, dst, _g in TherapyMachine.transition_table() if dst == "treat"} == {
        "ramp", "limited"}
    assert {src for src, _e, dst, _g in TherapyMachine.transition_table() if dst == "limited"} == {
        "treat"}


@pytest.mark.req("SRS-057")
@pytest.mark.parametrize("gate", ["idle", "checklist"])
def test_after_fault_no_energised_state_without_idle_and_checklist(gate):
    energised = {s for s, p in TherapyMachine.OUTPUT_TABLE.items() if p in (RISING, HOLDING)}
    assert energised == {"ramp", "treat"}
    assert energised <= _reachable("fault", _graph())
    assert not energised & _reachable("fault", _graph(without=gate))


@pytest.mark.req("SRS-058")
def test_polarity_change_only_in_polarity_switch_with_output_off():
    allowed = [s for s in STATES if machine_in(s).polarity_change_allowed]
    assert allowed == ["polarity_switch"]
    assert TherapyMachine.OUTPUT_TABLE["polarity_switch"] is OFF
    # the only way into polarity_switch is a falling ramp to zero
    into = {(src, ev) for src, ev, dst, _g in TherapyMachine.transition_table()
            if dst == "polarity_switch"}
    assert into == {("reverse_down", "at_zero")}
    assert TherapyMachine.OUTPUT_TABLE["reverse_down"] is FALLING


# --- the record of a session -------------------------------------------------------------

@pytest.mark.req("SRS-050")
def test_states_visited_in_a_session_with_reversal_and_pause():
    sm = TherapyMachine(GuardInputs(reversal_enabled=True))
    for ev in ["start", "checklist_passed", "ramp_complete", "contact_lost", "contact_restored",
               "ramp_complete", "half_time", "at_zero", "polarity_switched", "antishock_cut",
               "ramp_complete", "time_up", "at_zero"]:
        sm.dispatch(ev)
    # the re-ramp inside ramp is logged as a transition but is no new state visited
    assert sm.states_visited == [
        "idle", "checklist", "ramp", "treat", "paused", "ramp", "treat", "reverse_down",
        "polarity_switch", "ramp", "treat", "ramp_down", "idle",
    ]
    assert sm.transitions_taken[9] == ("antishock_cut", "ramp", "ramp")
    assert len(sm.transitions_taken) == 13


# --- model-based random sequences ---------------------------------------------------------

@pytest.mark.req("SRS-050", "SRS-051", "SRS-052", "SRS-053")
@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(EVENTS), st.booleans(), st.booleans()),
                      max_size=40))
def test_random_event_sequences_follow_the_contract(steps):
    sm = TherapyMachine()
    state = "idle"
    for event, reversal, reset_ok in steps:
        sm.guards = GuardInputs.fixed(reversal_enabled=reversal, reset_ok=reset_ok)
        expected = CONTRACT.get((state, event))
        guard_ok = expected is not None and (
            expected[1] is None
            or (expected[1] == "reversal_enabled" and reversal)
            or (expected[1] == "regulator_reset_ok" and reset_ok)
        )
        if guard_ok:
            state = expected[0]
            assert sm.dispatch(event) == state
        else:
            with pytest.raises(TransitionNotAllowed):
                sm.dispatch(event)
        assert sm.state_id == state
        assert sm.output_permission is CONTRACT_OUTPUT[state]
        assert sm.states_visited[-1] == state
