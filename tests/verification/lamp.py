"""A machine small enough for a full mutation run in a test (20 mutants), with a
guard and a validator: shared by the verifier's tests of SPIN, mutation and
the CLI, with the one property they check."""
from __future__ import annotations

from pathlib import Path

from statemachine import State, StateMachine

from core.verification import properties
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


def repaired_only_when_fixed(folder: Path, verifies: str) -> properties.Spec:
    """The property 'repair is taken only with its validator passing', verifying `verifies`."""
    path = folder / "p.yaml"
    path.write_text(
        "properties:\n"
        f"  - {{id: PROP-01, title: repaired only when fixed, statement: s, verifies: [{verifies}], kind: ltl,\n"
        "     ltl: \"[] (took(repair) -> guard(fixed))\"}\n")
    return properties.load(path)
