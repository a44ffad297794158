"""Table mutation on a small machine with a validator: the dropped-validator
mutant, the SPIN sample at its bounds, the run in several processes, and the
verifier faults (class and model differ; SPIN and exploration disagree) that
stop the run instead of passing it."""
from __future__ import annotations

import pytest
from statemachine import State, StateMachine

from core.verification import explore, mutate, promela, properties
from core.verification.introspect import introspect


class Lamp(StateMachine):
    off = State(initial=True)
    on = State()
    broken = State()
    switch = off.to(on, cond="powered") | on.to(off)
    fail = off.to(broken) | on.to(broken)
    repair = broken.to(off, validators="fixed")
    OUTPUT_TABLE = {"off": "OFF", "on": "HOLDING", "broken": "OFF"}

    def powered(self):
        return True

    def fixed(self):
        return None


MODEL = introspect(Lamp)


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "properties:\n"
        "  - {id: PROP-01, title: repaired only when fixed, statement: s, verifies: [SRS-123], kind: ltl,\n"
        "     ltl: \"[] (took(repair) -> guard(fixed))\"}\n")
    return properties.load(path)


@pytest.mark.req("SRS-123")
def test_a_dropped_validator_is_a_mutant_and_is_caught(spec):
    ms = {m.id: m for m in mutate.mutants(MODEL)}
    # 5 dropped, 5 x 2 redirected, 1 guard, 1 validator, 3 x 1 permissions
    assert len(ms) == 20
    m = ms["drop validator fixed of broken--repair-->off"]
    assert [t.validators for t in m.model.outgoing("broken", "repair")] == [()]
    assert mutate.kind_of(m.id) == "drop validator"
    done = mutate.check_by_exploration(m, spec)
    assert (done.caught_by, done.caught_by_ltl) == (["PROP-01"], ["PROP-01"])
    assert done.counterexample == ["fail", "repair [!fixed]"]


@pytest.mark.req("SRS-123")
def test_spin_sample_is_empty_for_zero_and_everything_when_asked_for_more():
    ms = mutate.mutants(MODEL)
    assert mutate.spin_sample(ms, 0) == [] and mutate.spin_sample(ms, -1) == []
    assert mutate.spin_sample(ms, 20) == ms and mutate.spin_sample(ms, 10**6) == ms
    five = mutate.spin_sample(ms, 5)
    assert len(five) == len({m.id for m in five}) == 5
    assert {mutate.kind_of(m.id) for m in five} == {"drop", "redirect", "drop guard", "drop validator",
                                                    "permission"}


@pytest.mark.req("SRS-123", "SRS-122")
def test_several_processes_give_the_same_verdicts_as_one(spec):
    one = mutate.run(MODEL, spec, spin_size=0, jobs=1)
    two = mutate.run(MODEL, spec, spin_size=2, jobs=2)
    assert [(m.id, m.caught_by, m.counterexample) for m in two] == \
        [(m.id, m.caught_by, m.counterexample) for m in one]
    # only the validator's mutant lets repair happen without fixed
    assert sorted(m.id for m in one if m.caught_by) == ["drop validator fixed of broken--repair-->off"]
    assert [m.spin_caught_by is not None for m in two].count(True) == 2
    assert all(m.spin_caught_by is None for m in one)


@pytest.mark.req("SRS-123", "SRS-121")
def test_a_mutant_class_that_differs_from_its_model_stops_the_run(spec, monkeypatch):
    # verifier fault injected: the class is built from the unmutated table
    build = explore.build_class
    monkeypatch.setattr(mutate.explore, "build_class", lambda model, name=None: build(MODEL, name))
    m = next(x for x in mutate.mutants(MODEL) if x.id == "redirect off--switch-->on to broken")
    with pytest.raises(RuntimeError) as exc:
        mutate.check_by_exploration(m, spec)
    # the class goes to on where the mutant's table says broken
    assert str(exc.value).startswith(
        "mutant redirect off--switch-->on to broken: class and model differ: [\"switch in off: class "
        "[({'powered': False, 'fixed': True}, None), ({'powered': True, 'fixed': True}, 'on')] vs model "
        "[({'powered': False, 'fixed': True}, None), ({'powered': True, 'fixed': True}, 'broken')]\"")


@pytest.mark.req("SRS-123", "SRS-122")
def test_spin_disagreeing_with_exploration_on_a_mutant_stops_the_run(spec, monkeypatch):
    # verifier fault injected: SPIN's side proves everything
    monkeypatch.setattr(promela, "check", lambda model, spec: [
        promela.SpinResult(p.id, True, [], "") for p in spec.properties])
    with pytest.raises(RuntimeError, match=r"^mutant drop validator fixed of broken--repair-->off: exploration "
                                           r"and SPIN disagree: \['PROP-01'\] vs \[\]$"):
        mutate.run(MODEL, spec, spin_size=20, jobs=1)
