"""Every single mutation of the machine's table, each checked by the properties.

mutmut changes function bodies, never a class-level table; this module does
that part. From the neutral model it derives every mutant: drop a transition,
redirect a transition to each other state, drop each guard and each validator,
set each state's output permission to each other value. Each mutant becomes a
real python-statemachine class (explore.build_class), is driven by the
explorer and checked by every property; a sample is also checked by SPIN.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import explore
from .introspect import MachineModel, Transition
from .properties import Spec


@dataclass
class Mutant:
    id: str
    model: MachineModel
    caught_by: list[str] = field(default_factory=list)   # property ids
    caught_by_ltl: list[str] = field(default_factory=list)  # those whose [] formula failed
    counterexample: list[str] = field(default_factory=list)
    spin_caught_by: list[str] | None = None               # None: not run through SPIN


def _key(t: Transition) -> str:
    return f"{t.source}--{t.event}-->{t.target}"


def mutants(model: MachineModel) -> list[Mutant]:
    out: list[Mutant] = []
    ts = list(model.transitions)
    for i, t in enumerate(ts):
        rest = tuple(ts[:i] + ts[i + 1:])
        out.append(Mutant(f"drop {_key(t)}", model.with_changes(transitions=rest)))
    for i, t in enumerate(ts):
        for s in model.states:
            if s == t.target:
                continue
            moved = replace(t, target=s, internal=False)
            out.append(Mutant(f"redirect {_key(t)} to {s}",
                              model.with_changes(transitions=tuple(ts[:i] + [moved] + ts[i + 1:]))))
    for i, t in enumerate(ts):
        for c in t.conds:
            less = replace(t, conds=tuple(x for x in t.conds if x != c))
            out.append(Mutant(f"drop guard {c} of {_key(t)}",
                              model.with_changes(transitions=tuple(ts[:i] + [less] + ts[i + 1:]))))
        for v in t.validators:
            less = replace(t, validators=tuple(x for x in t.validators if x != v))
            out.append(Mutant(f"drop validator {v} of {_key(t)}",
                              model.with_changes(transitions=tuple(ts[:i] + [less] + ts[i + 1:]))))
    for s in model.states:
        for p in model.permissions:
            if p == model.output[s]:
                continue
            table = dict(model.output)
            table[s] = p
            out.append(Mutant(f"permission {s} {model.output[s]} to {p}", model.with_changes(output=table)))
    return out


def check_by_exploration(m: Mutant, spec: Spec) -> Mutant:
    """Build the mutant as a class, drive it, check every property."""
    cls = explore.build_class(m.model)
    lts, mismatches = explore.drive_class(cls, m.model, declared_only=True)
    diffs = explore.conformance(lts, explore.lts_of_model(m.model))
    if diffs:  # the model and the library disagree: a verifier bug, never a pass
        raise RuntimeError(f"mutant {m.id}: class and model differ: {diffs[:2]}")
    for r in explore.check(m.model, lts, spec, mismatches):
        if r.result == "violated" and r.method == "exploration":
            m.caught_by.append(r.id)
            if r.via == "ltl":
                m.caught_by_ltl.append(r.id)
            if not m.counterexample:
                m.counterexample = r.counterexample
    return m


def _explore_one(args):
    mutant, spec = args
    return check_by_exploration(mutant, spec)


def kind_of(mutant_id: str) -> str:
    """The kind of a table mutation: its first word, or the first two for a
    dropped guard or validator ("drop guard of ...")."""
    words = mutant_id.split(" ")
    if mutant_id.startswith("drop ") and " of " in mutant_id:
        return " ".join(words[:2])
    return words[0]


def spin_sample(all_mutants: list[Mutant], size: int) -> list[Mutant]:
    """A deterministic sample spread over every kind of mutation."""
    if size <= 0:
        return []
    if size >= len(all_mutants):
        return list(all_mutants)
    kinds: dict[str, list[Mutant]] = {}
    for m in all_mutants:
        kinds.setdefault(kind_of(m.id), []).append(m)
    picked: list[Mutant] = []
    i = 0
    while len(picked) < size:  # round robin over the kinds, evenly spaced within each
        for group in kinds.values():
            step = max(1, len(group) // max(1, size // len(kinds) + 1))
            idx = (i * step + i) % len(group)
            if group[idx] not in picked and len(picked) < size:
                picked.append(group[idx])
        i += 1
    return picked


def run(model: MachineModel, spec: Spec, spin_size: int = 0, jobs: int = 2) -> list[Mutant]:
    """Check every mutant by exploration (in `jobs` processes), and `spin_size`
    of them also by SPIN, which must find the same LTL violations."""
    from . import promela  # SPIN only when asked
    all_mutants = mutants(model)
    if jobs > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(jobs) as pool:
            done = pool.map(_explore_one, [(m, spec) for m in all_mutants], chunksize=8)
    else:
        done = [check_by_exploration(m, spec) for m in all_mutants]
    sample = spin_sample(done, spin_size)
    invariant_ids = {p.id for p in spec.properties
                     if p.ltl is not None and explore.formula.is_invariant(p.ltl)}

    def by_spin(m: Mutant) -> None:
        results = promela.check(m.model, spec)
        m.spin_caught_by = [r.id for r in results if not r.holds]
        expected = set(m.caught_by_ltl)
        got = {pid for pid in m.spin_caught_by if pid in invariant_ids}
        if expected != got:
            raise RuntimeError(f"mutant {m.id}: exploration and SPIN disagree: "
                               f"{sorted(expected)} vs {sorted(got)}")

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(by_spin, sample))
    return done
