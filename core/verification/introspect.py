"""Read a python-statemachine class into a neutral model of its table.

The model holds only what the class declares: states (with their entry in the
class's OUTPUT_TABLE), events, and transitions in declaration order with the
names of their guards (`cond`, `unless` as "!name") and validators. Every other
part of `core.verification` works from this model or from the class itself,
so nothing is ever copied by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from enum import Enum
from itertools import product

OFF = "OFF"  # the permission name meaning "output disabled"


class IntrospectionError(ValueError):
    """The class cannot be read into a model (e.g. no OUTPUT_TABLE)."""


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    event: str
    conds: tuple[str, ...] = ()       # "name" must be true, "!name" must be false
    validators: tuple[str, ...] = ()  # each must pass (raise nothing)
    internal: bool = False


@dataclass(frozen=True)
class MachineModel:
    name: str
    states: tuple[str, ...]
    initial: str
    output: dict[str, str] = field(hash=False)   # state -> permission name (e.g. "OFF")
    permissions: tuple[str, ...]                  # every permission name, OFF first
    events: tuple[str, ...]
    transitions: tuple[Transition, ...]

    @cached_property
    def guards(self) -> tuple[str, ...]:
        """Every guard and validator name, each a boolean input of the environment."""
        names: list[str] = []
        for t in self.transitions:
            for spec in t.conds + t.validators:
                name = spec.lstrip("!")
                if name not in names:
                    names.append(name)
        return tuple(names)

    def energised(self, state: str) -> bool:
        return self.output[state] != OFF

    @cached_property
    def by_pair(self) -> dict[tuple[str, str], list[Transition]]:
        """The transitions grouped by (source, event), in declaration order."""
        index: dict[tuple[str, str], list[Transition]] = {}
        for t in self.transitions:
            index.setdefault((t.source, t.event), []).append(t)
        return index

    def outgoing(self, state: str, event: str) -> list[Transition]:
        """The transitions of `state` for `event`, in declaration order."""
        return self.by_pair.get((state, event), [])

    def relevant(self, state: str, event: str) -> list[str]:
        """The guards and validators that matter for (state, event), each once,
        in declaration order (a new list on every call)."""
        names: list[str] = []
        for t in self.outgoing(state, event):
            for spec in t.conds + t.validators:
                name = spec.lstrip("!")
                if name not in names:
                    names.append(name)
        return names

    def step(self, state: str, event: str, values: dict[str, bool]) -> Transition | None:
        """python-statemachine's selection rule: the transitions of `state` for
        `event` in declaration order; a failing validator aborts the event, the
        first transition whose conditions all hold is taken. None: not taken."""
        for t in self.outgoing(state, event):
            if not all(values[v] for v in t.validators):
                return None
            if all(_cond_holds(c, values) for c in t.conds):
                return t
        return None

    def valuations(self, state: str, event: str) -> list[dict[str, bool]]:
        """Every combination of the guards that matter for (state, event); the
        other guards cannot change the outcome, so they are fixed to True."""
        relevant = self.relevant(state, event)
        base = dict.fromkeys(self.guards, True)
        out = []
        for combo in product((False, True), repeat=len(relevant)):
            values = dict(base)
            values.update(zip(relevant, combo))
            out.append(values)
        return out

    def with_changes(self, **kwargs) -> "MachineModel":
        return replace(self, **kwargs)


def _cond_holds(spec: str, values: dict[str, bool]) -> bool:
    return not values[spec[1:]] if spec.startswith("!") else values[spec]


def _perm_name(value) -> str:
    return value.name if isinstance(value, Enum) else str(value)


def _spec_names(group, with_negation: bool) -> tuple[str, ...]:
    names = []
    for spec in group:
        if spec.is_convention:
            continue
        name = spec.attr_name
        if not name.isidentifier():
            raise IntrospectionError(
                f"guard {name!r}: only named methods are supported (design.md), not expressions"
            )
        names.append(f"!{name}" if with_negation and spec.expected_value is False else name)
    return tuple(names)


def introspect(machine_class) -> MachineModel:
    """The neutral model of `machine_class` (a StateMachine with OUTPUT_TABLE)."""
    table = getattr(machine_class, "OUTPUT_TABLE", None)
    if not isinstance(table, dict):
        raise IntrospectionError(f"{machine_class.__name__}: no OUTPUT_TABLE dict")
    states = tuple(s.id for s in machine_class.states)
    missing = [s for s in states if s not in table]
    extra = [s for s in table if s not in states]
    if missing or extra:
        raise IntrospectionError(
            f"{machine_class.__name__}.OUTPUT_TABLE: states without entry {missing}, "
            f"entries without state {extra}"
        )
    output = {s: _perm_name(table[s]) for s in states}
    sample = next(iter(table.values()))
    if isinstance(sample, Enum):
        permissions = tuple(m.name for m in type(sample))
    else:
        permissions = tuple(sorted(set(output.values())))
    if OFF not in permissions:
        raise IntrospectionError(f"permission values {permissions} have no {OFF!r}")
    permissions = (OFF,) + tuple(p for p in permissions if p != OFF)
    transitions = []
    for state in machine_class.states:
        for t in state.transitions:
            if t.target is None or len(t.targets) != 1:
                raise IntrospectionError(f"{t}: only single-target transitions are supported")
            for event in t.events:
                transitions.append(
                    Transition(
                        source=state.id,
                        target=t.target.id,
                        event=event.id,
                        conds=_spec_names(t.cond, with_negation=True),
                        validators=_spec_names(t.validators, with_negation=False),
                        internal=bool(t.internal),
                    )
                )
    return MachineModel(
        name=machine_class.__name__,
        states=states,
        initial=machine_class.initial_state.id,
        output=output,
        permissions=permissions,
        events=tuple(e.id for e in machine_class._events),
        transitions=tuple(transitions),
    )
