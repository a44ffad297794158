"""The neutral model is read from the class, and describes what the class does."""
from __future__ import annotations

import pytest
from statemachine import State, StateMachine

from core.machine import OutputPermission, TherapyMachine
from core.verification import explore
from core.verification.introspect import IntrospectionError, introspect


class Toy(StateMachine):
    """Two transitions for one event (first match wins), unless and a validator."""
    off = State(initial=True)
    on = State()
    broken = State()
    go = off.to(on, cond="ready") | off.to(broken, unless="ready")
    halt = on.to(off) | broken.to(off, validators="repaired")
    OUTPUT_TABLE = {"off": "OFF", "on": "HOLDING", "broken": "OFF"}

    def ready(self):
        return True

    def repaired(self):
        return None


@pytest.mark.req("SRS-120", "SRS-050")
def test_model_of_the_real_machine_is_its_class():
    m = introspect(TherapyMachine)
    assert m.states == tuple(s.id for s in TherapyMachine.states)
    assert len(m.states) == 10
    assert m.initial == "idle"
    assert m.events == tuple(e.id for e in TherapyMachine._events)
    assert len(m.events) == 17
    assert m.output == {s: p.name for s, p in TherapyMachine.OUTPUT_TABLE.items()}
    assert m.permissions == ("OFF",) + tuple(p.name for p in OutputPermission if p.name != "OFF")
    assert set(m.guards) == {"reversal_enabled", "regulator_reset_ok"}
    declared = sum(len(list(t.events)) for s in TherapyMachine.states for t in s.transitions)
    assert len(m.transitions) == declared == 40
    half = m.outgoing("treat", "half_time")
    assert [(t.target, t.conds) for t in half] == [("reverse_down", ("reversal_enabled",))]
    ack = m.outgoing("fault", "acknowledge")
    assert [(t.target, t.conds) for t in ack] == [("idle", ("regulator_reset_ok",))]
    assert [t.internal for t in m.outgoing("ramp_down", "stop")] == [True]


@pytest.mark.req("SRS-120")
def test_cond_unless_and_validators_are_read_by_name():
    m = introspect(Toy)
    assert [(t.target, t.conds) for t in m.outgoing("off", "go")] == [("on", ("ready",)), ("broken", ("!ready",))]
    assert [t.validators for t in m.outgoing("broken", "halt")] == [("repaired",)]
    assert m.guards == ("ready", "repaired")


@pytest.mark.req("SRS-120", "SRS-121")
def test_the_model_predicts_what_the_class_does_for_every_event_and_guard_value():
    for cls in (TherapyMachine, Toy):
        m = introspect(cls)
        driven, mismatches = explore.drive_class(cls, m)
        assert explore.conformance(driven, explore.lts_of_model(m)) == []
        assert mismatches == []
    # every (state, event) pair of the real machine was sent, both guard values where they matter
    m = introspect(TherapyMachine)
    driven, _ = explore.drive_class(TherapyMachine, m)
    assert len(driven) == 10 * 17
    assert sorted((v["reversal_enabled"], t) for v, t in driven[("treat", "half_time")]) == \
        [(False, None), (True, "reverse_down")]
    assert sorted((v["regulator_reset_ok"], t) for v, t in driven[("fault", "acknowledge")]) == \
        [(False, None), (True, "idle")]


@pytest.mark.req("SRS-120")
def test_validator_refusal_is_a_refused_event():
    m = introspect(Toy)
    assert m.step("broken", "halt", {"ready": True, "repaired": False}) is None
    assert m.step("broken", "halt", {"ready": True, "repaired": True}).target == "off"
    assert m.step("off", "go", {"ready": False, "repaired": True}).target == "broken"


@pytest.mark.req("SRS-120")
def test_a_machine_without_output_table_is_refused_with_its_name():
    class NoTable(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)

    with pytest.raises(IntrospectionError, match="NoTable: no OUTPUT_TABLE"):
        introspect(NoTable)

    class PartialTable(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)
        OUTPUT_TABLE = {"a": "OFF"}

    with pytest.raises(IntrospectionError, match=r"states without entry \['b'\]"):
        introspect(PartialTable)
