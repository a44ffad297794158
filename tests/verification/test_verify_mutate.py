"""Every single mutation of the table is generated and caught."""
from __future__ import annotations

from collections import Counter

import pytest

from core.machine import TherapyMachine
from core.verification import mutate, properties
from core.verification.introspect import introspect

SPEC = properties.load()
MODEL = introspect(TherapyMachine)


@pytest.mark.req("SRS-123")
def test_every_single_table_mutation_is_generated():
    ms = mutate.mutants(MODEL)
    n_t, n_s, n_p = len(MODEL.transitions), len(MODEL.states), len(MODEL.permissions)
    n_guards = sum(len(t.conds) + len(t.validators) for t in MODEL.transitions)
    kinds = Counter(m.id.split(" ")[0] + (" guard" if m.id.startswith("drop guard") else "") for m in ms)
    assert kinds["drop"] == n_t == 40
    assert kinds["redirect"] == n_t * (n_s - 1) == 360
    assert kinds["drop guard"] == n_guards == 3
    assert kinds["permission"] == n_s * (n_p - 1) == 40
    assert len(ms) == 443 and len({m.id for m in ms}) == 443
    # each mutant differs from the real table in exactly one place
    for m in ms:
        changed_t = set(m.model.transitions) ^ set(MODEL.transitions)
        changed_p = {s for s in MODEL.states if m.model.output[s] != MODEL.output[s]}
        assert (len(changed_t) in (1, 2) and not changed_p) or (not changed_t and len(changed_p) == 1), m.id


@pytest.mark.req("SRS-123", "SRS-121", "SRS-122")
def test_every_table_mutant_is_caught_and_spin_agrees_on_a_sample(capsys):
    done = mutate.run(MODEL, SPEC, spin_size=3, jobs=1)
    caught = [m for m in done if m.caught_by]
    print(f"table mutants: {len(caught)}/{len(done)} caught")
    assert len(done) == 443
    assert [m.id for m in done if not m.caught_by] == []
    sampled = [m for m in done if m.spin_caught_by is not None]
    assert len(sampled) == 3
    # mutate.run raises if SPIN and the explorer disagree; a caught mutant has a path
    assert all(m.counterexample or m.caught_by for m in caught)


@pytest.mark.req("SRS-123")
def test_without_the_lift_off_property_mutants_survive(tmp_path):
    # the mutation test has teeth: drop PROP-13 and its mutants are reported
    import yaml
    data = yaml.safe_load(open(properties.DEFAULT_PATH))
    data["properties"] = [p for p in data["properties"] if p["id"] != "PROP-13"]
    path = tmp_path / "props.yaml"
    path.write_text(yaml.safe_dump(data))
    weak = properties.load(path)
    m = next(x for x in mutate.mutants(MODEL) if x.id == "drop treat--contact_lost-->paused")
    assert mutate.check_by_exploration(m, weak).caught_by == []
    m = next(x for x in mutate.mutants(MODEL) if x.id == "drop treat--contact_lost-->paused")
    assert mutate.check_by_exploration(m, SPEC).caught_by == ["PROP-13"]
