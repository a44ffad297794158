"""Exhaustive exploration of the machine under every event and guard value.

`drive_class` sends every event in every state to a real instance of the
class (guards replaced by injected values, so every combination is tried)
and records what python-statemachine does: that is the labelled transition
system (LTS) of the machine as it runs. `lts_of_model` computes the same from
the neutral model; `conformance` compares the two. The properties are then
checked on the LTS, together with the monitors, by a breadth-first search
that keeps the path to every configuration, so a violation comes with the
sequence of events that leads to it.
"""
from __future__ import annotations

import warnings
from collections import deque
from itertools import product
from dataclasses import dataclass, field

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from . import formula
from .introspect import OFF, MachineModel
from .properties import Property, Spec

# (state, event) -> [(guard values, target state or None when refused)]
Lts = dict[tuple[str, str], list[tuple[dict[str, bool], str | None]]]


@dataclass
class Result:
    id: str
    result: str                      # "proven" | "violated"
    method: str                      # "exploration", "spin", "exploration+spin"
    counterexample: list[str] = field(default_factory=list)
    detail: str = ""
    via: str = ""                    # what found the violation: "ltl" or the check's name

    def as_json(self) -> dict:
        return {"id": self.id, "result": self.result, "method": self.method,
                "counterexample": self.counterexample, "detail": self.detail}


# --- the class, driven ---------------------------------------------------------
def _injected(name: str, validator: bool):
    def guard(self, *args, **kwargs):
        ok = self._verify_values[name]
        if validator and not ok:
            raise _ValidatorRefused(name)
        return ok
    guard.__name__ = name
    return guard


class _ValidatorRefused(Exception):
    pass


def probe_class(machine_class, model: MachineModel):
    """A subclass whose guards and validators return injected values."""
    validators = {v for t in model.transitions for v in t.validators}
    attrs = {g: _injected(g, g in validators) for g in model.guards}
    return type(f"Probe{machine_class.__name__}", (machine_class,), attrs)


def build_class(model: MachineModel, name: str | None = None):
    """A python-statemachine class with the table of `model` (used for mutants),
    so that a mutant runs on the library's own semantics, not on ours."""
    states = {s: State(initial=(s == model.initial)) for s in model.states}
    attrs: dict = {s: st for s, st in states.items()}
    attrs["validate_disconnected_states"] = False  # let the properties judge
    attrs["validate_trap_states"] = False
    attrs["OUTPUT_TABLE"] = dict(model.output)
    attrs["output_permission"] = property(lambda self: self.OUTPUT_TABLE[self.current_state_value])
    by_event: dict[str, object] = {}
    for t in model.transitions:
        kwargs = {"internal": t.internal}
        conds = [c for c in t.conds if not c.startswith("!")]
        unless = [c[1:] for c in t.conds if c.startswith("!")]
        if conds:
            kwargs["cond"] = conds
        if unless:
            kwargs["unless"] = unless
        if t.validators:
            kwargs["validators"] = list(t.validators)
        tl = states[t.source].to(states[t.target], **kwargs)
        by_event[t.event] = tl if t.event not in by_event else by_event[t.event] | tl
    for i, (event, tl) in enumerate(by_event.items()):
        attrs[f"_event_{i}"] = Event(tl, id=event)
    for g in model.guards:
        attrs[g] = lambda self: True  # replaced by probe_class
    return type(name or f"{model.name}Variant", (StateMachine,), attrs)


def drive_class(machine_class, model: MachineModel, declared_only: bool = False) -> tuple[Lts, list[str]]:
    """Send every event in every state under every relevant guard combination to
    an instance of `machine_class`; return the LTS and any disagreement between
    the instance's `output_permission` and the table. With `declared_only`
    (used for the hundreds of mutants), pairs (state, event) without a declared
    transition are not sent: strict semantics refuses them, which the full run
    on the real class shows for every such pair."""
    probe = probe_class(machine_class, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sm = probe()
        class_events = {e.id for e in machine_class._events}
        lts: Lts = {}
        mismatches: list[str] = []
        for state in model.states:
            for event in model.events:
                outcomes = []
                if declared_only and not model.outgoing(state, event):
                    lts[(state, event)] = [(dict.fromkeys(model.guards, True), None)]
                    continue
                for values in model.valuations(state, event):
                    sm._verify_values = values
                    sm.current_state_value = state
                    target = None
                    if event in class_events:
                        try:
                            sm.send(event)
                            target = str(sm.current_state_value)
                        except (TransitionNotAllowed, _ValidatorRefused):
                            target = None
                    outcomes.append((values, target))
                    reported = getattr(sm, "output_permission", None)
                    here = target or state
                    if reported is not None:
                        name = getattr(reported, "name", str(reported))
                        if name != model.output[here]:
                            mismatches.append(f"in {here}: output_permission {name}, table {model.output[here]}")
                lts[(state, event)] = outcomes
    return lts, mismatches


def lts_of_model(model: MachineModel) -> Lts:
    lts: Lts = {}
    for state in model.states:
        for event in model.events:
            outcomes = []
            for values in model.valuations(state, event):
                t = model.step(state, event, values)
                outcomes.append((values, t.target if t else None))
            lts[(state, event)] = outcomes
    return lts


def conformance(a: Lts, b: Lts) -> list[str]:
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            diffs.append(f"{key[1]} in {key[0]}: class {a.get(key)} vs model {b.get(key)}")
    return diffs


# --- exploration -----------------------------------------------------------------
def _label(event: str, values: dict[str, bool], model: MachineModel, state: str,
           observed=()) -> str:
    """The event, with the guard values that mattered for it."""
    relevant = model.relevant(state, event)
    relevant += [g for g in observed if g not in relevant and not values.get(g, True)]
    if not relevant:
        return event
    return f"{event} [" + ", ".join(n if values[n] else f"!{n}" for n in relevant) + "]"


class Explorer:
    """BFS over (state, monitors) with every event and guard value."""

    def __init__(self, model: MachineModel, lts: Lts, spec: Spec):
        self.model, self.lts, self.spec = model, lts, spec
        # guards the properties read: every value is tried even where the
        # machine ignores them (e.g. a mutant that dropped a guard)
        self.observed = sorted(spec.guards_named())
        self.monitor_names = [m.name for m in spec.monitors]
        self._update = self._compile_monitors()
        self._cache: dict = {}

    def _compile_monitors(self):
        """One function (monitors, step) -> monitors, in the order of the spec:
        cleared if `clear` holds, else set if `set` holds, else unchanged."""
        lines = ["def update(mons, st, src, ev, taken, g):",
                 f"    m = dict(zip({self.monitor_names!r}, mons))"]
        for mon in self.spec.monitors:
            clear = formula.to_python(mon.clear, self.model)
            set_ = formula.to_python(mon.set, self.model)
            lines.append(f"    m[{mon.name!r}] = False if {clear} else (True if {set_} else m[{mon.name!r}])")
        lines.append(f"    return tuple(m[n] for n in {self.monitor_names!r})")
        scope: dict = {}
        exec("\n".join(lines), scope)  # noqa: S102 (text built from parsed formulas)
        return scope["update"]

    def run(self, invariants: list[tuple[str, object]]) -> dict[str, list[str] | None]:
        """Check each invariant predicate on every step; return the path
        (labelled events) to the first violation of each, or None."""
        model = self.model
        g0 = dict.fromkeys(self.observed, False)
        init_mons = self._update(tuple(False for _ in self.monitor_names),
                                 model.initial, model.initial, None, False, g0)
        start = (model.initial, init_mons)
        parent: dict = {start: None}
        found: dict[str, list[str] | None] = {pid: None for pid, _ in invariants}
        m0 = dict(zip(self.monitor_names, init_mons))
        for pid, pred in invariants:
            if not pred(model.initial, model.initial, None, False, m0, g0):
                found[pid] = []
        queue = deque([start])
        while queue:
            node = queue.popleft()
            st, mons = node
            for event in model.events:
                for values, target in self._outcomes(st, event):
                    taken = target is not None
                    new_st = target if taken else st
                    new_mons = self._update(mons, new_st, st, event, taken, values)
                    m = dict(zip(self.monitor_names, new_mons))
                    step = (node, (event, values, st))
                    for pid, pred in invariants:
                        if found[pid] is None and not pred(new_st, st, event, taken, m, values):
                            found[pid] = self._path(parent, node) + [self._text(step[1], last=True)]
                    nxt = (new_st, new_mons)
                    if nxt not in parent:
                        parent[nxt] = step
                        queue.append(nxt)
        self.parent = parent
        return found

    def _outcomes(self, st: str, event: str):
        """The LTS outcomes, with every value of the observed guards the
        machine does not read here; one per distinct (target, observed values)."""
        relevant = self.model.relevant(st, event)
        free = [g for g in self.observed if g not in relevant]
        seen = set()
        for values, target in self.lts[(st, event)]:
            for combo in product((True, False), repeat=len(free)):  # True first: short labels
                full = {**values, **dict(zip(free, combo))}
                key = (target, tuple(full.get(g) for g in self.observed))
                if key not in seen:
                    seen.add(key)
                    yield full, target

    def _text(self, step, last: bool = False) -> str:
        """The step as text; the violating (last) step also shows the guards the
        properties read, since the violation may hinge on one the machine ignored."""
        event, values, st = step
        return _label(event, values, self.model, st, self.observed if last else ())

    def _path(self, parent, node) -> list[str]:
        out = []
        while parent[node] is not None:
            node, step = parent[node]
            out.append(self._text(step))
        return out[::-1]

    def path_to_state(self, state: str) -> list[str] | None:
        best = None
        for node in self.parent:
            if node[0] == state:
                path = self._path(self.parent, node)
                if best is None or len(path) < len(best):
                    best = path
        return best


# --- graph checks (what one run of LTL cannot say) ----------------------------------
def _succ(lts: Lts, model: MachineModel, state: str, skip_events=()) -> set[str]:
    out = set()
    for event in model.events:
        if event in skip_events:
            continue
        for _, target in lts[(state, event)]:
            if target is not None:
                out.add(target)
    return out


def _reachable(lts: Lts, model: MachineModel, start: str, allowed=None, skip_events=()) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        s = todo.pop()
        for t in _succ(lts, model, s, skip_events):
            if t not in seen and (allowed is None or t in allowed):
                seen.add(t)
                todo.append(t)
    return seen


def graph_check(name: str, model: MachineModel, lts: Lts, explorer: Explorer,
                mismatches: list[str]) -> tuple[list[str] | None, str]:
    """(counterexample or None, detail)."""
    reach = _reachable(lts, model, model.initial)
    path = explorer.path_to_state

    def for_all_values(state, event, ok) -> list[str] | None:
        for values, target in lts[(state, event)]:
            if not ok(target):
                return (path(state) or []) + [_label(event, values, model, state)]
        return None

    fault = "fault" if "fault" in model.states else None
    if name == "output_agrees":
        if mismatches:
            return path(mismatches[0].split(":")[0][3:]) or [], "; ".join(mismatches[:3])
        return None, "output_permission equals OUTPUT_TABLE in every configuration"
    if name in ("fault_one_step_energised", "fault_from_every_state"):
        if fault is None:
            return [], "no state named fault"
        for s in model.states:
            if s not in reach or s == fault:
                continue
            if name == "fault_one_step_energised" and not model.energised(s):
                continue
            cex = for_all_values(s, "fault", lambda t: t == fault)
            if cex is not None:
                return cex, f"event fault in {s} does not lead to fault"
        return None, ""
    if name == "fault_exit":
        if fault is None or "acknowledge" not in model.events:
            return [], "no state fault or no event acknowledge"
        for event in model.events:
            for values, target in lts[(fault, event)]:
                if target not in (None, fault) and not (event == "acknowledge" and target == model.initial):
                    return (path(fault) or []) + [_label(event, values, model, fault)], \
                        f"{event} leaves fault to {target}"
        outcomes = [t for _, t in lts[(fault, "acknowledge")]]
        if None not in outcomes:
            return (path(fault) or []) + ["acknowledge"], "acknowledge leaves fault for every guard value (unguarded)"
        if model.initial not in outcomes:
            return (path(fault) or []), "acknowledge never leaves fault"
        return None, ""
    if name == "stop_from_active":
        if "stop" not in model.events:
            return [], "no event stop"
        falling = {x for x in model.states if model.output[x] == "FALLING"}
        quiet = {x for x in model.states if model.output[x] in (OFF, "FALLING")}
        for s in model.states:
            if s not in reach or s in (model.initial, fault):
                continue
            cex = for_all_values(s, "stop", lambda t: t is not None and t in falling)
            if cex is not None:
                return cex, f"stop in {s} does not lead to a falling output"
            target = next(t for _, t in lts[(s, "stop")])
            after = _reachable(lts, model, target, allowed=quiet, skip_events=("fault",))
            if not any(model.output[x] == OFF for x in after):
                return (path(s) or []) + ["stop"], f"after stop in {s} no OFF state is reached"
        return None, ""
    if name == "no_dead_end":
        for s in sorted(reach, key=model.states.index):
            if model.initial not in _reachable(lts, model, s):
                return path(s) or [], f"{model.initial} cannot be reached again from {s}"
        return None, ""
    if name == "all_reachable":
        missing = [s for s in model.states if s not in reach]
        return (([], f"unreachable: {missing}") if missing else (None, ""))
    raise ValueError(f"unknown check {name!r}")


def check(model: MachineModel, lts: Lts, spec: Spec, mismatches: list[str] | None = None,
          first_only: bool = False) -> list[Result]:
    """Every property that exploration can decide, on this LTS."""
    explorer = Explorer(model, lts, spec)
    invariants = [(p.id, formula.compile_predicate(p.ltl.args[0], model))
                  for p in spec.properties if p.ltl is not None and formula.is_invariant(p.ltl)]
    found = explorer.run(invariants)
    results = []
    for p in spec.properties:
        cex, detail, checked, via = None, "", False, ""
        if p.id in found:
            checked = True
            cex = found[p.id]
            detail, via = ("", "") if cex is None else (f"violates {p.ltl_text.strip()}", "ltl")
        if p.check and cex is None:
            checked = True
            cex, detail = graph_check(p.check, model, lts, explorer, mismatches or [])
            via = p.check if cex is not None else ""
        if not checked:
            continue
        results.append(Result(p.id, "proven" if cex is None else "violated", "exploration",
                              cex or [], detail, via))
        if first_only and cex is not None:
            break
    return results
