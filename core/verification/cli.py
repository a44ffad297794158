"""`ionto-verify`: verify the therapy state machine as it runs.

Prints each property's id and result, then the table-mutation figure; writes
out/verification/results.json (read by the traceability report) and the state
diagram; exits 1 when a property fails or a non-equivalent mutant survives,
2 when the verifier itself cannot run (e.g. SPIN missing, bad properties file).
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from . import diagram, explore, mutate, promela
from .introspect import IntrospectionError, introspect
from .properties import DEFAULT_PATH, PropertiesError, load

DEFAULT_MACHINE = "core.machine:TherapyMachine"
DEFAULT_OUT = Path("out/verification")
SPIN_MUTANTS = 6  # mutants also model-checked by SPIN in the default run (time budget: 60 s)


def load_class(spec: str):
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"--machine {spec!r}: expected module:Class")
    return getattr(importlib.import_module(module), name)


def verify(machine_class, props_path=DEFAULT_PATH, out_dir: Path = DEFAULT_OUT,
           spin: bool = True, spin_mutants: int = SPIN_MUTANTS, jobs: int = 1,
           mutation: bool = True, svg_name: str = "therapy_machine.svg") -> dict:
    """Run everything; return the results document (also written to disk)."""
    spec = load(props_path)
    model = introspect(machine_class)
    spec.validate_for(model)
    started = time.perf_counter()

    # 1. the class itself, driven under every event and guard value
    lts, mismatches = explore.drive_class(machine_class, model)
    diffs = explore.conformance(lts, explore.lts_of_model(model))
    if diffs:  # the neutral model would not describe the class: refuse to go on
        raise IntrospectionError(f"{model.name}: the model read from the class does not match "
                                 f"what the class does: {diffs[:3]}")
    by_id = {r.id: r for r in explore.check(model, lts, spec, mismatches)}

    # 2. SPIN on the Promela model generated from the same introspection
    if spin:
        for s in promela.check(model, spec):
            r = by_id.get(s.id)
            if r is None:
                by_id[s.id] = explore.Result(s.id, "proven" if s.holds else "violated", "spin",
                                             s.counterexample, s.detail)
                continue
            r.method = "exploration+spin"
            if not s.holds and r.result == "proven":
                # the two checkers disagree: keep the violation (fail safe)
                r.result, r.counterexample = "violated", s.counterexample
                r.detail = f"SPIN finds a violation the explorer does not: {s.detail}"
            elif s.holds and r.result == "violated" and r.via == "ltl":
                r.detail += " (SPIN disagrees: verifier fault)"
            if not s.holds and not r.counterexample:
                r.counterexample = s.counterexample
    results = [by_id[p.id] for p in spec.properties if p.id in by_id]

    # 3. every single mutation of the table
    table = None
    if mutation:
        done = mutate.run(model, spec, spin_size=spin_mutants if spin else 0, jobs=jobs)
        caught = [m for m in done if m.caught_by]
        equivalent = [{"mutant": m.id, "reason": spec.equivalent[m.id]}
                      for m in done if not m.caught_by and m.id in spec.equivalent]
        survivors = [m.id for m in done if not m.caught_by and m.id not in spec.equivalent]
        spin_checked = [m for m in done if m.spin_caught_by is not None]
        table = {
            "total": len(done),
            "caught": len(caught),
            "survivors": survivors,
            "equivalent": equivalent,
            "by_kind": _by_kind(done),
            "checked_by": {
                "exploration": len(done),
                "spin": len(spin_checked),
                "spin_sample": [{"mutant": m.id, "caught_by": m.spin_caught_by} for m in spin_checked],
            },
            "mutants": [{"mutant": m.id, "caught_by": m.caught_by,
                         "counterexample": m.counterexample} for m in done],
        }

    out_dir.mkdir(parents=True, exist_ok=True)
    svg = diagram.write_svg(model, out_dir / svg_name)
    doc = {
        "machine": f"{machine_class.__module__}.{machine_class.__name__}",
        "states": len(model.states),
        "events": len(model.events),
        "transitions": len(model.transitions),
        "properties": [
            {"id": r.id, "result": r.result, "method": r.method,
             "counterexample": r.counterexample, "detail": r.detail,
             "verifies": next(p.verifies for p in spec.properties if p.id == r.id)}
            for r in results
        ],
        "table_mutation": table,
        "diagram_svg": str(svg),
        "duration_s": round(time.perf_counter() - started, 2),
        **_provenance(),
    }
    (out_dir / "results.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return doc


def _provenance() -> dict:
    """Commit and source hash of the tree verified: `ionto-trace check` counts these
    results only for that tree. A developer tool's lazy import of the trace tool's
    one hashing function (nothing on a device runs ionto-verify)."""
    try:
        from traceability.provenance import provenance
    except ImportError:  # the trace tool is not installed: results are then "another build"
        return {}
    root = Path(__file__).resolve().parents[2]
    return {k: v for k, v in provenance(root).items() if k in ("commit", "source_sha256")}


def _by_kind(done) -> dict:
    kinds: dict[str, dict[str, int]] = {}
    for m in done:
        k = kinds.setdefault(mutate.kind_of(m.id), {"total": 0, "caught": 0})
        k["total"] += 1
        k["caught"] += bool(m.caught_by)
    return kinds


def passed(doc: dict) -> bool:
    ok = all(p["result"] == "proven" for p in doc["properties"])
    if doc["table_mutation"] is not None:
        ok = ok and not doc["table_mutation"]["survivors"]
    return ok


def report(doc: dict, out=None) -> None:
    out = out or sys.stdout
    for p in doc["properties"]:
        line = f"{p['id']}  {p['result']:<8}  {p['method']}"
        if p["result"] != "proven":
            line += f"\n    counterexample: {' -> '.join(p['counterexample']) or '(none)'}"
            if p["detail"]:
                line += f"\n    {p['detail']}"
        print(line, file=out)
    tm = doc["table_mutation"]
    if tm is not None:
        print(f"table mutants: {tm['caught']}/{tm['total']} caught "
              f"({tm['checked_by']['exploration']} by exploration, "
              f"{tm['checked_by']['spin']} also by SPIN), "
              f"{len(tm['equivalent'])} equivalent, {len(tm['survivors'])} surviving", file=out)
        for s in tm["survivors"]:
            print(f"    SURVIVOR: {s}", file=out)
    print(f"diagram: {doc['diagram_svg']}", file=out)
    print(f"verification {'PASSED' if passed(doc) else 'FAILED'} in {doc['duration_s']} s", file=out)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("ionto-core")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ionto-verify", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    ap.add_argument("--machine", default=DEFAULT_MACHINE, help="module:Class to verify")
    ap.add_argument("--properties", default=str(DEFAULT_PATH), help="properties YAML")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output directory")
    ap.add_argument("--no-spin", action="store_true", help="exploration only (not for CI)")
    ap.add_argument("--spin-mutants", type=int, default=SPIN_MUTANTS,
                    help=f"table mutants also checked by SPIN (default {SPIN_MUTANTS}; -1: all)")
    ap.add_argument("--jobs", type=int, default=1, help="processes for the mutant exploration")
    ap.add_argument("--no-mutation", action="store_true", help="skip the table mutation")
    ap.add_argument("--diagram", help="also write the SVG diagram here (e.g. docs/therapy_machine.svg)")
    args = ap.parse_args(argv)
    try:
        cls = load_class(args.machine)
        doc = verify(cls, args.properties, Path(args.out), spin=not args.no_spin,
                     spin_mutants=10**6 if args.spin_mutants < 0 else args.spin_mutants,
                     jobs=args.jobs, mutation=not args.no_mutation)
    except (PropertiesError, IntrospectionError, promela.SpinError, ValueError, ImportError,
            AttributeError, RuntimeError) as exc:
        print(f"ionto-verify: error: {exc}", file=sys.stderr)
        return 2
    if args.diagram:
        diagram.write_svg(introspect(cls), args.diagram)
    report(doc)
    return 0 if passed(doc) else 1


if __name__ == "__main__":
    sys.exit(main())
