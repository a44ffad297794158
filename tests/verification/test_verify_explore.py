"""Exhaustive exploration: the real machine satisfies every property; broken
machines are caught, each with the sequence of events that shows it."""
from __future__ import annotations

import pytest
from statemachine import State, StateMachine

from core.machine import TherapyMachine
from core.verification import explore, properties
from core.verification.introspect import introspect
from tests.verification import broken_machines as bm

SPEC = properties.load()
ALL_PROPS = tuple(p.id for p in SPEC.properties)


def explore_class(cls):
    model = introspect(cls)
    lts, mismatches = explore.drive_class(cls, model)
    return {r.id: r for r in explore.check(model, lts, SPEC, mismatches)}


@pytest.mark.req("SRS-121", "SRS-050", "SRS-052", "SRS-053", "SRS-054", "SRS-056", "SRS-057", "SRS-058",
                 "PROP-01", "PROP-02", "PROP-03", "PROP-04", "PROP-05", "PROP-06", "PROP-07", "PROP-08",
                 "PROP-09", "PROP-10", "PROP-11", "PROP-12", "PROP-13", "PROP-14", "PROP-15", "PROP-16")
def test_real_machine_satisfies_every_property_under_every_event_and_guard_value():
    # the marker above must name every property of the spec
    assert ALL_PROPS == tuple(f"PROP-{i:02d}" for i in range(1, 18))
    results = explore_class(TherapyMachine)
    assert len(SPEC.properties) >= 16
    assert set(results) == set(ALL_PROPS)  # every property has an exploration verdict
    assert {pid: r.result for pid, r in results.items()} == dict.fromkeys(ALL_PROPS, "proven")


@pytest.mark.req("SRS-121", "SRS-053", "SRS-057", "PROP-03", "PROP-08")
def test_acknowledge_to_checklist_is_caught_with_its_path():
    r = explore_class(bm.AckToChecklist)
    assert r["PROP-03"].result == "violated"
    assert r["PROP-03"].counterexample == ["fault", "acknowledge [regulator_reset_ok]"]
    assert r["PROP-08"].counterexample == ["fault", "acknowledge [regulator_reset_ok]", "checklist_passed"]


@pytest.mark.req("SRS-121", "SRS-052", "PROP-02", "PROP-10")
def test_missing_fault_transition_in_treat_is_caught():
    r = explore_class(bm.NoFaultFromTreat)
    for pid in ("PROP-02", "PROP-10"):
        assert r[pid].result == "violated"
        assert r[pid].counterexample == ["start", "checklist_passed", "ramp_complete", "fault"]
    assert "treat" in r["PROP-02"].detail


@pytest.mark.req("SRS-121", "SRS-061", "PROP-13")
def test_unhandled_lift_off_is_caught_as_a_refused_event():
    r = explore_class(bm.NoContactLostInTreat)
    assert r["PROP-13"].result == "violated"
    assert r["PROP-13"].counterexample == ["start", "checklist_passed", "ramp_complete", "contact_lost"]


@pytest.mark.req("SRS-121", "SRS-066", "PROP-12")
def test_unguarded_half_time_reversal_is_caught_with_the_guard_value():
    r = explore_class(bm.UnguardedHalfTime)
    assert r["PROP-12"].result == "violated"
    assert r["PROP-12"].counterexample[-1] == "half_time [!reversal_enabled]"


@pytest.mark.req("SRS-121", "SRS-050", "SRS-056", "PROP-01")
def test_output_rising_during_checklist_is_caught():
    r = explore_class(bm.ChecklistRising)
    assert r["PROP-01"].result == "violated"
    assert r["PROP-01"].counterexample == ["start"]


@pytest.mark.req("SRS-121", "SRS-054", "PROP-04")
def test_stop_without_ramp_down_is_caught():
    r = explore_class(bm.StopToIdle)
    assert r["PROP-04"].result == "violated"
    assert r["PROP-04"].counterexample == ["start", "checklist_passed", "ramp_complete", "stop"]


@pytest.mark.req("SRS-121", "SRS-060", "PROP-01")
def test_running_machine_that_reports_another_permission_than_its_table_is_caught():
    r = explore_class(bm.LyingOutput)
    assert r["PROP-01"].result == "violated"
    assert "in paused: output_permission HOLDING, table OFF" in r["PROP-01"].detail
    assert r["PROP-01"].counterexample == ["start", "checklist_passed", "contact_lost"]


class Trap(StateMachine):
    """A toy therapy machine with a dead end (latched 'stuck') and an orphan state."""
    validate_disconnected_states = False
    idle = State(initial=True)
    checklist = State()
    ramp = State()
    treat = State()
    stuck = State()
    orphan = State()
    fault = State()
    start = idle.to(checklist)
    checklist_passed = checklist.to(ramp)
    ramp_complete = ramp.to(treat)
    time_up = treat.to(stuck)
    checklist_refused = checklist.to(idle)
    contact_lost = ramp.to(idle) | treat.to(idle)
    stop = stuck.to.itself() | orphan.to(idle)
    acknowledge = fault.to(idle)
    OUTPUT_TABLE = {"idle": "OFF", "checklist": "OFF", "ramp": "RISING", "treat": "HOLDING",
                    "stuck": "OFF", "orphan": "OFF", "fault": "OFF"}


@pytest.mark.req("SRS-121", "SRS-050", "PROP-06", "PROP-07")
def test_dead_end_and_unreachable_state_are_caught():
    model = introspect(Trap)
    spec = properties.Spec(SPEC.monitors, tuple(p for p in SPEC.properties if p.id in ("PROP-06", "PROP-07")), {})
    lts, _ = explore.drive_class(Trap, model)
    r = {x.id: x for x in explore.check(model, lts, spec)}
    assert r["PROP-06"].result == "violated"
    assert r["PROP-06"].counterexample == ["start", "checklist_passed", "ramp_complete", "time_up"]
    assert r["PROP-07"].result == "violated"
    assert "orphan" in r["PROP-07"].detail and "fault" in r["PROP-07"].detail
