"""Error paths of the therapy machine: the output table check (SRS-050) and
exceptions inside actions and guards (SRS-055).

SRS-055: an exception inside an action takes the machine to fault; the
machine's record (`errors`, `transitions_taken`, `states_visited`) must say
what really happened, because the supervisor writes it to the history.
"""
from __future__ import annotations

import pytest

from core import machine as machine_module
from core.machine import GuardInputs, OutputPermission, TherapyMachine, TransitionNotAllowed


# --- SRS-050: the output table and the states match one to one -------------------------------

@pytest.mark.req("SRS-050")
def test_table_check_accepts_the_shipped_table():
    machine_module._check_output_table()  # raises on any mismatch


@pytest.mark.req("SRS-050")
def test_table_check_names_a_state_without_an_output_entry(monkeypatch):
    table = dict(TherapyMachine.OUTPUT_TABLE)
    del table["paused"]
    monkeypatch.setattr(TherapyMachine, "OUTPUT_TABLE", table)
    with pytest.raises(RuntimeError) as info:
        machine_module._check_output_table()
    assert str(info.value) == "OUTPUT_TABLE does not match the states: ['paused']"


@pytest.mark.req("SRS-050")
def test_table_check_names_an_entry_without_a_state(monkeypatch):
    table = {**TherapyMachine.OUTPUT_TABLE, "standby": OutputPermission.HOLDING}
    del table["ramp"]
    monkeypatch.setattr(TherapyMachine, "OUTPUT_TABLE", table)
    with pytest.raises(RuntimeError) as info:
        machine_module._check_output_table()
    assert str(info.value) == "OUTPUT_TABLE does not match the states: ['ramp', 'standby']"


# --- SRS-055: exceptions inside actions and guards --------------------------------------------

class FailsAfterRampComplete:
    """An action that runs after the state changed (python-statemachine `after_<event>`)."""

    def after_ramp_complete(self):
        raise RuntimeError("hold command failed")


@pytest.mark.req("SRS-055")
def test_action_failing_after_the_state_changed_is_recorded_then_faults():
    sm = TherapyMachine(listeners=[FailsAfterRampComplete()])
    sm.dispatch("start")
    sm.dispatch("checklist_passed")
    assert sm.dispatch("ramp_complete") == "fault"
    assert sm.output_permission is OutputPermission.OFF
    # treat was entered, then left for fault: both steps, under their own event
    assert sm.transitions_taken[-2:] == [("ramp_complete", "ramp", "treat"),
                                         ("fault", "treat", "fault")]
    assert sm.states_visited[-3:] == ["ramp", "treat", "fault"]
    assert [str(e) for e in sm.errors] == ["hold command failed"]
    assert sm.last_error is sm.errors[0]


@pytest.mark.req("SRS-055", "SRS-053")
def test_guard_failing_in_fault_stays_in_fault_with_one_error_recorded():
    failure = OSError("reset line unreadable")

    def reset() -> bool:
        raise failure

    sm = TherapyMachine(GuardInputs(reset_regulator=reset))
    sm.dispatch("start")
    sm.dispatch("fault")
    taken = list(sm.transitions_taken)
    assert sm.dispatch("acknowledge") == "fault"
    # already in fault: no second fault entry is attempted, so the record holds
    # exactly the one failure and no transition
    assert sm.errors == [failure]
    assert sm.last_error is failure
    assert sm.transitions_taken == taken
    assert sm.states_visited == ["idle", "checklist", "fault"]
    # and the fault is still left normally once the reset works
    sm.guards = GuardInputs.fixed(reversal_enabled=False, reset_ok=True)
    assert sm.dispatch("acknowledge") == "idle"
    assert sm.last_error is None and sm.errors == [failure]


@pytest.mark.req("SRS-055", "SRS-051")
def test_refused_event_is_not_an_action_failure():
    # strict semantics: a refused event raises to the caller and is no fault
    sm = TherapyMachine()
    with pytest.raises(TransitionNotAllowed):
        sm.dispatch("ramp_complete")
    assert sm.state_id == "idle"
    assert sm.errors == [] and sm.last_error is None
    assert sm.transitions_taken == []
