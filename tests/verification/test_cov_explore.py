"""The explorer's graph checks on machines the real one is not (no fault state,
no stop event, a fault left the wrong way), classes built with `unless` and
validators, events a class does not have, and classes the verifier cannot read."""
from __future__ import annotations

from dataclasses import replace

import pytest
from statemachine import State, StateMachine

from core.machine import TherapyMachine
from core.verification import explore, properties
from core.verification.introspect import IntrospectionError, introspect
from tests.verification import broken_machines as bm


class Lamp(StateMachine):
    """No fault state, no stop event; a guard, an `unless` and a validator."""
    off = State(initial=True)
    on = State()
    broken = State()
    switch = off.to(on, cond="powered") | off.to(broken, unless="powered") | on.to(off)
    fail = on.to(broken)
    repair = broken.to(off, validators="fixed")
    OUTPUT_TABLE = {"off": "OFF", "on": "HOLDING", "broken": "OFF"}

    def powered(self):
        return True

    def fixed(self):
        return None


class TwoKeys(StateMachine):
    """A transition with two conditions: three of four valuations refuse it."""
    locked = State(initial=True)
    unlocked = State()
    turn = locked.to(unlocked, cond=["key_a", "key_b"]) | unlocked.to(locked)
    OUTPUT_TABLE = {"locked": "OFF", "unlocked": "HOLDING"}

    def key_a(self):
        return True

    def key_b(self):
        return True


def _spec(tmp_path, *props: str):
    body = "properties:\n" + "".join(
        f"  - {{id: PROP-{i:02d}, title: t, statement: s, verifies: [SRS-121], {p}}}\n"
        for i, p in enumerate(props, 1))
    path = tmp_path / "p.yaml"
    path.write_text(body)
    return properties.load(path)


def _check(cls, spec):
    model = introspect(cls) if isinstance(cls, type) else cls
    lts, mismatches = explore.drive_class(cls if isinstance(cls, type) else explore.build_class(cls), model)
    return {r.id: r for r in explore.check(model, lts, spec, mismatches)}


@pytest.mark.req("SRS-121", "SRS-123")
def test_a_class_built_from_a_model_with_unless_and_validators_runs_as_the_model_says():
    model = introspect(Lamp)
    built = explore.build_class(model, name="LampCopy")
    assert introspect(built).transitions == model.transitions
    lts, mismatches = explore.drive_class(built, model)
    assert explore.conformance(lts, explore.lts_of_model(model)) == [] and mismatches == []
    assert sorted((v["powered"], t) for v, t in lts[("off", "switch")]) == [(False, "broken"), (True, "on")]
    assert sorted((v["fixed"], t) for v, t in lts[("broken", "repair")]) == [(False, None), (True, "off")]


@pytest.mark.req("SRS-121")
def test_an_event_the_class_lacks_is_refused_in_every_state():
    # dropping fail's only transition removes the event from the built class,
    # while the model still lists it: driven in full, it is refused everywhere
    model = introspect(Lamp)
    less = model.with_changes(transitions=tuple(t for t in model.transitions if t.event != "fail"))
    cls = explore.build_class(less)
    assert "fail" not in {e.id for e in cls._events} and "fail" in less.events
    lts, _ = explore.drive_class(cls, less)
    assert {s: [t for _, t in lts[(s, "fail")]] for s in less.states} == dict.fromkeys(less.states, [None])
    assert explore.conformance(lts, explore.lts_of_model(less)) == []


@pytest.mark.req("SRS-121")
def test_refusals_under_different_guard_values_are_explored_once_with_the_first_values(tmp_path):
    spec = _spec(tmp_path, 'kind: ltl, ltl: "[] ((tried(turn) && src_is(locked)) -> taken)"')
    model = introspect(TwoKeys)
    lts, _ = explore.drive_class(TwoKeys, model)
    assert [t for _, t in lts[("locked", "turn")]] == [None, None, None, "unlocked"]
    explorer = explore.Explorer(model, lts, spec)
    assert [t for _, t in explorer._outcomes("locked", "turn")] == [None, "unlocked"]
    r = _check(TwoKeys, spec)["PROP-01"]
    assert (r.result, r.counterexample) == ("violated", ["turn [!key_a, !key_b]"])


@pytest.mark.req("SRS-121", "SRS-052", "SRS-053", "SRS-056")
def test_checks_about_fault_and_stop_fail_on_a_machine_without_them(tmp_path):
    spec = _spec(tmp_path, "kind: invariant, check: fault_one_step_energised",
                 "kind: invariant, check: fault_from_every_state",
                 "kind: invariant, check: fault_exit",
                 "kind: invariant, check: stop_from_active",
                 "kind: invariant, check: all_reachable")
    r = _check(Lamp, spec)
    assert [(x.result, x.counterexample, x.detail) for x in r.values()] == [
        ("violated", [], "no state named fault"),
        ("violated", [], "no state named fault"),
        ("violated", [], "no state fault or no event acknowledge"),
        ("violated", [], "no event stop"),
        ("proven", [], ""),
    ]
    assert [x.via for x in r.values()] == ["fault_one_step_energised", "fault_from_every_state", "fault_exit",
                                           "stop_from_active", ""]


@pytest.mark.req("SRS-121", "SRS-053", "SRS-057")
def test_fault_exit_names_an_acknowledgement_to_the_wrong_state(tmp_path):
    spec = _spec(tmp_path, "kind: invariant, check: fault_exit")
    r = _check(bm.AckToChecklist, spec)["PROP-01"]
    assert (r.result, r.counterexample) == ("violated", ["fault", "acknowledge [regulator_reset_ok]"])
    assert r.detail == "acknowledge leaves fault to checklist"


@pytest.mark.req("SRS-121", "SRS-053")
def test_fault_exit_refuses_an_acknowledgement_without_its_guard(tmp_path):
    real = introspect(TherapyMachine)
    ts = tuple(replace(t, conds=()) if (t.source, t.event) == ("fault", "acknowledge") else t
               for t in real.transitions)
    spec = _spec(tmp_path, "kind: invariant, check: fault_exit")
    r = _check(real.with_changes(transitions=ts), spec)["PROP-01"]
    assert (r.result, r.counterexample) == ("violated", ["fault", "acknowledge"])
    assert r.detail == "acknowledge leaves fault for every guard value (unguarded)"


@pytest.mark.req("SRS-121")
def test_every_check_the_loader_allows_is_implemented_and_no_other(tmp_path):
    model = introspect(TherapyMachine)
    lts, _ = explore.drive_class(TherapyMachine, model)
    explorer = explore.Explorer(model, lts, _spec(tmp_path, "kind: invariant, check: all_reachable"))
    explorer.run([])
    for name in properties.CHECKS:
        assert explore.graph_check(name, model, lts, explorer, [])[0] is None, name
    with pytest.raises(ValueError, match=r"^unknown check 'no_deadlock'$"):
        explore.graph_check("no_deadlock", model, lts, explorer, [])


@pytest.mark.req("SRS-120")
def test_a_guard_written_as_an_expression_is_refused():
    class Expr(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b, cond="x and y") | b.to(a)
        OUTPUT_TABLE = {"a": "OFF", "b": "HOLDING"}

    with pytest.raises(IntrospectionError,
                       match=r"^guard 'x and y': only named methods are supported \(design.md\), not expressions$"):
        introspect(Expr)


@pytest.mark.req("SRS-120")
def test_a_table_without_an_off_permission_is_refused():
    class NoOff(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)
        OUTPUT_TABLE = {"a": "LOW", "b": "HIGH"}

    with pytest.raises(IntrospectionError, match=r"^permission values \('HIGH', 'LOW'\) have no 'OFF'$"):
        introspect(NoOff)


@pytest.mark.req("SRS-120")
def test_a_transition_without_a_target_is_refused():
    class NoTarget(StateMachine):
        a = State(initial=True)
        b = State()
        go = a.to(b) | b.to(a)
        ping = a.to(None)
        OUTPUT_TABLE = {"a": "OFF", "b": "HOLDING"}

    with pytest.raises(IntrospectionError,
                       match=r"^transition ping from A to None: only single-target transitions are supported$"):
        introspect(NoTarget)
