#!/usr/bin/env python3
"""Mutation testing of the C regulation loop (issue 12 point 1).

Mutants of cext/regulator.c and cext/arming.c, the checklist gate
(operators in scripts/cmut_ops.py), and of the
numeric limits of cext/regulator_config.h are built one at a time into the
cffi extension and run against a focused selection of the regulator tests
(pytest -x: the first failing test kills the mutant). Workers run in
parallel, each in its own copy of the checkout; each worker keeps pytest and
its dependencies imported and forks one child per mutant, so a mutant costs
its compile (the mutated file only) plus the tests until the first failure.

Killer first: the test that killed a mutant in an earlier run (the committed
tools/cverify/c-mutation-killers.json, keyed like the reviewed file) is run
alone first; only when it does not fail does the mutant meet the whole
selection, so a stale entry costs one test and never a verdict. Every cached
killer must pass alone on the unmutated source before it is used.
--update-killers writes this run's killers back to that file.

Every mutant must be killed, except those listed in the reviewed file
(tools/cverify/c-mutation-reviewed.yaml) as equivalent, each with its reason,
or as a known survivor awaiting a test (printed, counted against the score).
The run fails (exit 1) on any survivor not listed there, or when the score
killed / (killed + survived) falls below --min-score. It prints killed /
total and its wall time, and writes out/c-mutation.json.

Usage: scripts/c_mutation.py [--jobs N] [--min-score P] [--only SUBSTR] [--all]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cmut_ops  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
REVIEWED = ROOT / "tools" / "cverify" / "c-mutation-reviewed.yaml"
KILLERS = ROOT / "tools" / "cverify" / "c-mutation-killers.json"
SOURCE = "cext/regulator.c"
# every C file mutated; the first is the regulator
SOURCES = (SOURCE, "cext/arming.c")
CONFIG = "cext/regulator_config.h"
# the focused selection, fastest killers first (pytest -x stops at the first
# failure). A mutant that survives FAST is run against SLOW too. Not run here:
# test_lift_low_setpoints.py (2 min) and test_wrapper_build.py (the wheel);
# they run in the main test step.
FAST = [
    # the checklist gate (SRS-306, SRS-307), < 3 s
    "tests/regulator/test_arming.py",
    # the pulsed mode (SRS-259), ~2 s: nothing after it drives pulsed, so its
    # mutants would otherwise run the whole list before meeting their killer
    "tests/regulator/test_pulsed_regulator.py",
    # the pulsed short on the settled pulse (SRS-311, PR-069)
    "tests/regulator/test_pulsed_short.py",
    "tests/regulator/test_mutation_kills.py",
    # exact-number tests of the SRS-024/025/130/131 detectors (the reviewed survivors' kills), < 1 s
    "tests/regulator/test_mut_kill_detectors.py",
    # regulate()'s PI law at its exact edges (the compliance clamp, the rise limit's set-back,
    # the integrator's lower clamp, the compliance flag at 1 uA), < 1 s (s28)
    "tests/regulator/test_pi_compliance_edge.py",
    # the full run's survivors of s28 (a reused struct's short count, the pulsed counts at init), < 1 s
    "tests/regulator/test_mut_full_run.py",
    # share 3's survivors of s30 (frozen/quiet channels, the open tiers' edges, the plausible
    # voltage, the load estimate's period, compliance cleared, the contact level, the implausible
    # reading's reported current), < 1 s
    "tests/regulator/test_mut_share3.py",
    # SRS-025 (d) at each lift tier's bound, and what a restart forgets (PR-026, PR-038), < 1 s
    "tests/regulator/test_lift_tier_boundaries.py",
    "tests/regulator/test_restart_from_zero.py",
    # SRS-025 (b) on the high boot bound, and after an anti-shock cut (s28), < 0.2 s
    "tests/regulator/test_short_contact_boot_bound.py",
    # PR-065: a glitch on the first plain tick after the probe is no evidence (bare regulator, < 1 s)
    "tests/regulator/test_probe_glitch.py::test_a_glitch_after_the_probe_is_no_evidence",
    # the settled pair's plausibility (SRS-312, PR-075), ~20 s: after the short files above,
    # which killed 62 of the 147 mutants of the 1-in-8 sample at s26
    "tests/regulator/test_settled_plausible.py",
    "tests/regulator/test_commands.py",
    "tests/regulator/test_protection.py",
    "tests/regulator/test_sense_level.py",
    "tests/regulator/test_search_contact.py",
    "tests/regulator/test_load_estimate.py",
    "tests/regulator/test_wrapper_inputs.py",
    "tests/regulator/test_common_cause_sensing.py",
    # the tests of the noise floor (SRS-130) and of the settled contact (SRS-131)
    "tests/regulator/test_sensor_noise_floor.py",
    "tests/regulator/test_contact_settle.py",
    # re-contact within the reference + 0.5 mA at every setpoint (SRS-025, issue 8 point 1)
    "tests/regulator/test_recontact_band.py",
    # the at-target flag's tick (SRS-314; slew_toward's fraction after the last carry), ~3 s
    "tests/regulator/test_at_target_tick.py",
]
# with --deep, run for a mutant that survives FAST: together about a minute
SLOW = [
    "tests/regulator/test_load_model.py",
    "tests/regulator/test_slew_resolution.py",
    "tests/regulator/test_regulation.py",
    "tests/regulator/test_safety_review.py",
    "tests/regulator/test_invariants.py",
    "tests/regulator/test_recontact_band_sweep.py",
    # PR-026: the review's session (the run's starting mean taken from the filter)
    "tests/regulator/test_recontact_lower_load.py",
]
COPY = ["core", "cext", "tests/conftest.py", "tests/arming_kit.py", "tests/machine_share.py", "tests/regulator", "traceability", "spec",
        "hazard_analysis", "pyproject.toml"]


KILLED = ("killed", "trapped", "timeout")   # the outcomes that detect a mutant


def compile_flags() -> list[str]:
    # -fsanitize=bounds-strict, trapping (no runtime library): an index past a
    # fixed array (a struct's last member too), which the tests cannot see (a
    # write past cut_ticks onto words the same call then zeroes), ends the test
    # process by a signal: the mutant is killed, counted apart as "trapped"
    return ["-std=c99", "-O1", "-fPIC", "-w", "-fsanitize=bounds-strict", "-fsanitize-undefined-trap-on-error",
            "-I", "cext", "-I", sysconfig.get_paths()["include"]]


class Worker:
    """One copy of the checkout with the unchanged objects prebuilt."""

    def __init__(self, n: int, base: pathlib.Path):
        self.dir = base / f"w{n}"
        self.dir.mkdir()
        for item in COPY:
            src = ROOT / item
            dst = self.dir / item
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
            elif src.exists():
                shutil.copy2(src, dst)
        sys.path.insert(0, str(self.dir / "cext"))
        import build_cffi  # the declarations the real build uses
        build_cffi.ffibuilder.emit_c_code(str(self.dir / "cext" / "_wrapper.c"))
        self.so = self.dir / "core" / ("_regulator_cffi" + ".abi3.so")
        self.compiled: dict[str, str] = {}   # path -> text of its last compile (SOURCES, CONFIG)
        # every other C file of the real build (cext/build_cffi.py SOURCES), compiled once
        mutated = {pathlib.Path(s).name for s in SOURCES}
        self.others = ["_wrapper.c", *(s for s in build_cffi.SOURCES if s not in mutated)]
        for c in self.others:
            self.cc(["-c", f"cext/{c}", "-o", f"cext/{c}.o"])

    def cc(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(["gcc", *compile_flags(), *args], cwd=self.dir, capture_output=True, text=True)

    def build(self, files: dict[str, str]) -> bool:
        """Every file of `files` written; a source recompiled only when its
        text (or the limits it includes) differs from its last compile."""
        config_changed = files.get(CONFIG) != self.compiled.get(CONFIG)
        for rel, text in files.items():
            (self.dir / rel).write_text(text)
        for source in SOURCES:
            if config_changed or files.get(source) != self.compiled.get(source):
                self.compiled.pop(source, None)
                if self.cc(["-c", source, "-o", source + ".o"]).returncode != 0:
                    return False
                self.compiled[source] = files.get(source, "")
        self.compiled[CONFIG] = files.get(CONFIG, "")
        for rel in (f"cext/{c}" for c in self.others):
            if config_changed:
                self.cc(["-c", rel, "-o", rel + ".o"])  # the limits are compiled into every file
        objs = [s + ".o" for s in SOURCES] + [f"cext/{c}.o" for c in self.others]
        r = self.cc(["-shared", *objs, "-lm", "-lpthread", "-o", str(self.so)])
        return r.returncode == 0

    def run_tests(self, tests: list[str], timeout_s: float) -> tuple[str, str]:
        """(outcome, the test that failed or hung: '' when none)."""
        seen = self.dir / "pytest-seen.txt"
        seen.unlink(missing_ok=True)
        pid = os.fork()
        if pid == 0:  # child: pytest in the worker's copy, quiet
            try:
                os.chdir(self.dir)
                sys.path.insert(0, str(self.dir))
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                import pytest
                rc = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-trace-results", *tests],
                                 plugins=[_Seen(seen)])
                os._exit(int(rc))
            except BaseException:  # noqa: BLE001 - the child must never return
                os._exit(99)
        deadline = time.monotonic() + timeout_s
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", _last_line(seen)   # the test that was running
            time.sleep(0.02)
        who = _last_line(seen)
        if os.WIFSIGNALED(status):
            return "trapped", who  # a bounds trap or another crash: detected, told apart from a failed test
        rc = os.WEXITSTATUS(status)
        if rc == 0:
            return "survived", who
        if rc == 1:
            return "killed", who
        return f"error:{rc}", who


class _Seen:
    """pytest plugin of the forked child: each test's node id as it starts (the
    last line is the one that failed under -x, or the one a timeout cut)."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        with open(self.path, "a") as f:
            f.write(nodeid + "\n")


def _last_line(path: pathlib.Path) -> str:
    lines = path.read_text().splitlines() if path.exists() else []
    return lines[-1] if lines else ""


def load_killers(worker: "Worker", timeout_s: float) -> dict[str, str]:
    """The committed killers whose test passes alone, as it is run for a mutant,
    on the unmutated source (a test that failed alone would kill every mutant it
    is cached for; one renamed or deleted since ends in a pytest error)."""
    if not KILLERS.exists():
        return {}
    cached = json.loads(KILLERS.read_text()).get("killers", {})
    usable = set()
    for test in sorted(set(cached.values())):
        state, _ = worker.run_tests([test], timeout_s)
        if state == "survived":
            usable.add(test)
        else:
            print(f"c-mutation: cached killer {test} does not pass alone on the unmutated source "
                  f"({state}); not used", file=sys.stderr)
    return {k: t for k, t in cached.items() if t in usable}


SIBLING_TRIES = 3


def sibling_killers(key: str, killers: dict[str, str]) -> list[str]:
    """The cached killers of the other mutants of `key`'s function (path:function:),
    most frequent first, at most SIBLING_TRIES."""
    prefix = ":".join(key.split(":")[:2]) + ":"
    counts: dict[str, int] = {}
    for k, test in killers.items():
        if k.startswith(prefix) and k != key:
            counts[test] = counts.get(test, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))[:SIBLING_TRIES]


def in_share(key: str, share: int, index: int = 0) -> bool:
    """Share `index` of a stable 1-in-share split by a hash of the key: the same
    mutants for the same index, whatever else changed; the shares 0..share-1
    together hold every mutant once."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % max(1, share) == index % max(1, share)


def commit_count() -> int:
    r = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else 0


def load_reviewed() -> dict[str, dict]:
    if not REVIEWED.exists():
        return {}
    data = yaml.safe_load(REVIEWED.read_text()) or {}
    return {e["key"]: e for e in data.get("mutants", [])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("C_MUTATION_JOBS", "2")))
    ap.add_argument("--min-score", type=float, default=float(os.environ.get("C_MUTATION_MIN_SCORE", "0")))
    ap.add_argument("--only", default="", help="run only mutants whose key contains one of these (comma-separated)")
    ap.add_argument("--all", action="store_true", help="also run the mutants reviewed as equivalent")
    ap.add_argument("--deep", action="store_true", help="run SLOW too for a mutant that survives FAST")
    ap.add_argument("--share", type=int, default=int(os.environ.get("C_MUTATION_SHARE", "1")),
                    help="run 1 in N mutants, chosen by a hash of the key (the same ones every run)")
    ap.add_argument("--share-index", default=os.environ.get("C_MUTATION_SHARE_INDEX", "0"),
                    help="which of the shares: a number, or 'commit' for the commit count mod --share "
                         "(CI: consecutive commits run every share in turn)")
    ap.add_argument("--verbose", action="store_true", help="print each mutant's outcome as it comes")
    ap.add_argument("--update-killers", action="store_true",
                    help=f"write the tests that killed this run's mutants to {KILLERS.relative_to(ROOT)}")
    ap.add_argument("--json", default=str(ROOT / "out" / "c-mutation.json"))
    args = ap.parse_args()
    t0 = time.monotonic()
    # every child's hypothesis tests derandomized, without a database (tests/conftest.py's
    # "mutation" profile): a verdict that depends on which mutant ran before is no verdict
    os.environ["IONTO_MUTATION"] = "1"
    import pytest  # noqa: F401 - imported once, inherited by every forked child
    import hypothesis  # noqa: F401

    texts = {path: (ROOT / path).read_text() for path in (*SOURCES, CONFIG)}
    cfg = texts[CONFIG]
    ms = cmut_ops.keyed([m for path in SOURCES for m in cmut_ops.mutants(path, texts[path])]
                        + cmut_ops.limit_mutants(CONFIG, cfg))
    reviewed = load_reviewed()
    only = [s for s in args.only.split(",") if s] or [""]
    if args.share_index == "commit":
        share_index = commit_count() % max(1, args.share)
    elif args.share_index.isdigit() and int(args.share_index) < max(1, args.share):
        share_index = int(args.share_index)
    else:
        print(f"c-mutation: --share-index must be 'commit' or 0 to {max(1, args.share) - 1}, "
              f"not {args.share_index!r}", file=sys.stderr)
        return 2
    todo = [(k, m) for k, m in ms if any(s in k for s in only) and in_share(k, args.share, share_index)]
    # reviewed mutants are not run again unless --all: an equivalent one
    # cannot be killed, a known survivor is counted as surviving
    skipped = [] if args.all else [(k, m) for k, m in todo if reviewed.get(k, {}).get("status") == "equivalent"]
    carried = {} if args.all else {k: "survived" for k, m in todo if reviewed.get(k, {}).get("status") == "survivor"}
    todo = [(k, m) for k, m in todo if k not in carried]
    todo = [km for km in todo if km not in skipped]

    base = pathlib.Path(tempfile.mkdtemp(prefix="ionto-cmut-"))
    results: dict[str, str] = {}
    new_killers: dict[str, str] = {}
    hits = 0
    sibling_total = 0
    try:
        jobs = max(1, args.jobs)
        workers = [Worker(n, base) for n in range(jobs)]
        # baseline: the unmutated tree must pass the selection; its time sets the timeout
        w = workers[0]
        assert w.build(dict(texts)), "the unmutated source does not compile"
        tb = time.monotonic()
        state, _ = w.run_tests(FAST + SLOW if args.deep else FAST, 1800)
        base_s = time.monotonic() - tb
        if state != "survived":
            print(f"c-mutation: the tests fail on the unmutated source ({state})", file=sys.stderr)
            return 2
        timeout_s = 2 * base_s + 30
        tk = time.monotonic()
        killers = load_killers(w, timeout_s)
        killers_s = time.monotonic() - tk
        print(f"c-mutation: {len(ms)} mutants, share {share_index} of 1-in-{max(1, args.share)}, "
              f"{len(skipped)} reviewed equivalent skipped, "
              f"{len(todo)} to run on {jobs} workers; selection {base_s:.0f} s unmutated; "
              f"{sum(1 for k, _ in todo if k in killers)} with a cached killer "
              f"({len(set(killers.values()))} tests, each passed alone unmutated in {killers_s:.0f} s)")
        # one process per worker: fork the workers, each takes every jobs-th mutant
        pipes = []
        for n, wk in enumerate(workers):
            r, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                out: dict[str, str] = {}
                found: dict[str, str] = {}
                cache_hits = 0
                sibling_hits = 0
                for k, m in todo[n::jobs]:
                    # the mutated file, every other one restored to its original
                    files = dict(texts)
                    files[m.path] = m.apply(texts[m.path])
                    if not wk.build(files):
                        out[k] = "stillborn"
                        continue
                    state, who = "survived", ""
                    if k in killers:
                        state, who = wk.run_tests([killers[k]], timeout_s)
                        if state in KILLED:
                            cache_hits += 1
                    else:
                        # no killer of its own: first the tests that killed other
                        # mutants of the same function (cheap; the verdict is the
                        # same, a failing test, whichever test finds it)
                        for test in sibling_killers(k, killers):
                            state, who = wk.run_tests([test], timeout_s)
                            if state in KILLED:
                                sibling_hits += 1
                                break
                    if state not in KILLED:
                        state, who = wk.run_tests(FAST, timeout_s)
                    if state == "survived" and args.deep:
                        state, who = wk.run_tests(SLOW, timeout_s)
                    out[k] = state
                    if state in KILLED and who:
                        found[k] = who
                    if args.verbose:
                        print(f"  {state:9s} {k}  {who}", flush=True)
                os.write(wfd, json.dumps({"out": out, "killers": found, "hits": cache_hits,
                                            "sibling_hits": sibling_hits}).encode())
                os._exit(0)
            os.close(wfd)
            pipes.append((pid, r))
        for pid, r in pipes:
            chunks = []
            while True:
                b = os.read(r, 1 << 16)
                if not b:
                    break
                chunks.append(b)
            os.waitpid(pid, 0)
            part = json.loads(b"".join(chunks) or b"{}")
            results.update(part.get("out", {}))
            new_killers.update(part.get("killers", {}))
            hits += part.get("hits", 0)
            sibling_total += part.get("sibling_hits", 0)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    results.update(carried)
    killed = sum(1 for s in results.values() if s in KILLED)
    trapped = sum(1 for s in results.values() if s == "trapped")
    stillborn = sum(1 for s in results.values() if s == "stillborn")
    errors = {k: s for k, s in results.items() if s.startswith("error")}
    survived = sorted(k for k, s in results.items() if s == "survived")
    known = [k for k in survived if reviewed.get(k, {}).get("status") == "survivor"]
    equivalent_run = [k for k in survived if reviewed.get(k, {}).get("status") == "equivalent"]
    new = [k for k in survived if k not in reviewed]
    judged = killed + len(survived) - len(equivalent_run)
    score = 100.0 * killed / judged if judged else 0.0
    wall_s = time.monotonic() - t0
    by_mutant = {k: m for k, m in ms}
    for k in survived:
        m = by_mutant[k]
        tag = "NEW SURVIVOR" if k in new else reviewed[k]["status"]
        print(f"    {tag}: {m.path}:{m.line} {m.function} {m.operator} {m.original!r} -> {m.replacement!r}   [{k}]")
    for k, s in errors.items():
        print(f"    {s}: {k}")
    print(f"c-mutation: {hits} of {killed} killed by their cached killer alone, {sibling_total} by a cached killer "
          f"of another mutant of the same function, the others by the selection; "
          f"{trapped} of them by a crash (a bounds trap or another signal) rather than a failed assertion")
    if args.update_killers:
        kept = json.loads(KILLERS.read_text()).get("killers", {}) if KILLERS.exists() else {}
        kept = {k: t for k, t in kept.items() if k in by_mutant}   # a mutant that no longer exists
        kept.update(new_killers)
        KILLERS.write_text(json.dumps({
            "about": "the test that last killed each C mutant, run first by scripts/c_mutation.py "
                     "(--update-killers); a stale entry costs one test, never a verdict",
            "killers": dict(sorted(kept.items()))}, indent=1) + "\n")
    print(f"c-mutation: killed {killed} / {judged} non-equivalent mutants ({score:.1f} %); "
          f"{len(skipped) + len(equivalent_run)} equivalent (reviewed), {stillborn} not compiled, "
          f"{len(known)} known survivors, {len(new)} new survivors; threshold {args.min_score:.1f} %; {wall_s:.0f} s wall")
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.json).write_text(json.dumps({
        "tool": "scripts/c_mutation.py", "sources": [*SOURCES, CONFIG], "total": len(ms),
        "killed": killed, "trapped": trapped, "judged": judged, "score_percent": round(score, 2),
        "equivalent": len(skipped) + len(equivalent_run), "stillborn": stillborn,
        "known_survivors": known, "new_survivors": new, "errors": sorted(errors),
        "threshold_percent": args.min_score, "share": args.share, "share_index": share_index, "deep": args.deep,
        "ran": len(todo), "killed_by_cached_killer": hits, "wall_s": round(wall_s, 1),
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
    }, indent=2) + "\n")
    ok = not new and not errors and score >= args.min_score
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
