"""Score of a mutmut 3 run of scripts/mutation.sh, net of the reviewed list.

Run by scripts/mutation.sh inside its throw-away copy (the folder that holds
mutants/), with the interpreter mutmut runs under (it imports mutmut to read
the mutants back). Usage:

    py_mutation_score.py RESULTS REVIEWED MIN_SCORE ELAPSED_S TARGET...

RESULTS is `mutmut results --all true` output, REVIEWED the YAML list
(tools/mutation/py-mutation-reviewed.yaml), TARGET the mutated files.

A reviewed mutant is found by a key that does not use mutmut's number (mutmut
numbers each function's mutants from 1, so any edit of a function renumbers
them): FILE:FUNCTION:OLD -> NEW#N, OLD and NEW the lines the mutant changes
(stripped, joined with " | ") and N the occurrence among that function's
mutants with the same change. Status `equivalent` (with a reason): out of the
score. Status `survivor`: counted as surviving, printed as known. The run
fails (exit 1) when the score is below MIN_SCORE, when an entry of a mutated
file matches no mutant (stale: the code changed, review it again), when an
equivalent entry's mutant was killed (the review was wrong), or when the list
is malformed.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

STATUSES = ("equivalent", "survivor")
SEPARATOR = "ǁ"  # mutmut's separator of a class name in a mutant's name


def function_of(mutant_name: str) -> str:
    """`core.history.xǁHistoryǁ_create__mutmut_3` -> `History._create`."""
    mangled = mutant_name.partition("__mutmut_")[0].rpartition(".")[2]
    if SEPARATOR in mangled:
        _, cls, func = mangled.split(SEPARATOR)
        return f"{cls}.{func}"
    return mangled[2:] if mangled.startswith("x_") else mangled


def number_of(mutant_name: str) -> int:
    return int(mutant_name.rpartition("__mutmut_")[2])


def change_of(diff: str) -> str:
    """The lines a unified diff removes and adds: `OLD -> NEW`."""
    old = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return f"{' | '.join(old)} -> {' | '.join(new)}"


def keys_of(path: str, diffs: dict[str, str]) -> dict[str, str]:
    """Mutant name -> stable key, for the mutants of one file (name -> diff)."""
    seen: Counter[str] = Counter()
    keys = {}
    for name in sorted(diffs, key=lambda n: (function_of(n), number_of(n))):
        base = f"{path}:{function_of(name)}:{change_of(diffs[name])}"
        seen[base] += 1
        keys[name] = f"{base}#{seen[base]}"
    return keys


def load_reviewed(text: str) -> tuple[dict[str, dict], list[str]]:
    """The entries by key, and the errors of the list (duplicates, bad fields)."""
    import yaml

    data = yaml.safe_load(text) or {}
    entries, errors = {}, []
    for i, e in enumerate(data.get("mutants") or []):
        key = e.get("key") if isinstance(e, dict) else None
        if not isinstance(key, str) or not key:
            errors.append(f"entry {i + 1}: no key")
            continue
        if e.get("status") not in STATUSES:
            errors.append(f"{key}: status must be one of {', '.join(STATUSES)}, not {e.get('status')!r}")
        if not str(e.get("reason") or "").strip():
            errors.append(f"{key}: no reason")
        if key in entries:
            errors.append(f"{key}: listed twice")
        entries[key] = e
    return entries, errors


@dataclass
class Score:
    killed: int = 0
    judged: int = 0
    excluded: list[str] = field(default_factory=list)     # equivalent, in this run
    known: list[str] = field(default_factory=list)        # survivor entries that survived
    new: list[str] = field(default_factory=list)          # survivors not listed
    errors: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.judged if self.judged else 0.0


def score(status: dict[str, str], keys: dict[str, str], reviewed: dict[str, dict],
          targets: list[str]) -> Score:
    """status: mutant name -> mutmut status of every mutant of the targets
    (`not checked` for those outside the share); keys: name -> stable key."""
    s = Score()
    by_key = {k: n for n, k in keys.items()}
    for key, entry in reviewed.items():
        if key.split(":", 1)[0] in targets and key not in by_key:
            s.errors.append(f"stale entry (no such mutant now; review the function again): {key}")
    for name, st in sorted(status.items()):
        entry = reviewed.get(keys.get(name, ""), {})
        if entry.get("status") == "equivalent" and st in ("survived", "timeout", "killed"):
            if st == "killed":
                s.errors.append(f"reviewed equivalent but killed (the review is wrong): {keys[name]} ({name})")
            s.excluded.append(name)
            continue
        if st in ("killed", "survived", "timeout"):
            s.judged += 1
            s.killed += st == "killed"
        if st == "survived":
            (s.known if entry.get("status") == "survivor" else s.new).append(name)
    return s


def read_status(results: str) -> dict[str, str]:
    status = {}
    for line in results.splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line.rstrip())
        if m:
            status[m.group(1)] = m.group(2)
    return status


def mutant_diffs(path: str, names: list[str]) -> dict[str, str]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    return {n: get_diff_for_mutant(n, path=path) for n in names}


def module_of(path: str) -> str:
    return path[:-3].replace("/", ".")


def main(argv: list[str]) -> int:
    results, reviewed_path, min_score, elapsed_s, *targets = argv
    status = read_status(Path(results).read_text(encoding="utf-8"))
    reviewed, errors = load_reviewed(Path(reviewed_path).read_text(encoding="utf-8"))
    # keys only for the functions the list names and for the survivors (cheap)
    listed = {tuple(k.split(":", 2)[:2]) for k in reviewed}
    keys: dict[str, str] = {}
    for path in targets:
        names = [n for n in status if n.startswith(module_of(path) + ".")]
        wanted = [n for n in names if (path, function_of(n)) in listed or status[n] == "survived"]
        # a key's #N counts all mutants of the function with that change
        funcs = {function_of(n) for n in wanted}
        keys.update(keys_of(path, mutant_diffs(path, [n for n in names if function_of(n) in funcs])))
    s = score(status, keys, reviewed, targets)
    s.errors[:0] = errors
    counts = Counter(status.values())
    print(f"mutants: {len(status)}  " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"reviewed equivalent, not in the score: {len(s.excluded)} (list {reviewed_path})")
    print(f"mutation score: {s.percent:.1f} % (killed {s.killed} of {s.judged}); "
          f"threshold {float(min_score):.0f} %; {elapsed_s} s")
    for n in s.known:
        print(f"    survived (reviewed survivor): {n}")
    for n in s.new:
        print(f"    survived: {n}\n        key: {keys[n]}")
    for e in s.errors:
        print(f"mutation: {e}", file=sys.stderr)
    return 0 if s.judged and s.percent >= float(min_score) and not s.errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
