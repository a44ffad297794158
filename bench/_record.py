"""Writes a benchmark's figures as a record that `ionto-trace check` reads.

Every benchmark calls `write_record` once per requirement it measures; the
record goes to out/bench/<requirement id>.json (or $IONTO_BENCH_DIR):

    {"requirement": "SRS-089", "benchmark": "bench/bench_session.py --quick",
     "figures": {"command_wall_s": {"value": 0.67, "unit": "s", "goal": 2.0,
                                    "comparison": "<=", "met": true}},
     "machine": {"cpu_count": 2, "platform": "...", "python": "3.11.2",
                 "load_average": [0.5, 0.6, 0.7]},
     "date": "2025-01-01T12:00:00+00:00", "commit": "<sha>[-dirty]",
     "source_sha256": "<hash of the sources measured>"}

A missed goal is a figure of this machine, never a failure: the benchmark
still exits 0 and the check shows a warning. The machine's load is recorded
because a busy machine makes wall-time figures worse.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from traceability.provenance import source_sha256  # the check compares it with the tree it checks

ROOT = Path(__file__).resolve().parents[1]
OUT_ENV = "IONTO_BENCH_DIR"
OUT_DIR = "out/bench"
COMPARISONS = ("<=", ">=")
REQ_ID = re.compile(r"^SRS-\d{3,}$")


def figure(value: float, unit: str, goal: float, comparison: str) -> dict:
    """One measured figure against its goal; `met` is computed here, never by the caller."""
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS} (got {comparison!r})")
    value, goal = float(value), float(goal)
    if not (math.isfinite(value) and math.isfinite(goal)):
        raise ValueError(f"value and goal must be finite numbers (got value {value}, goal {goal})")
    if not unit:
        raise ValueError("unit must be a non-empty string (use 'x' for a ratio)")
    met = value <= goal if comparison == "<=" else value >= goal
    return {"value": value, "unit": unit, "goal": goal, "comparison": comparison, "met": met}


def machine() -> dict:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not available on every platform
        load = None
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "load_average": load}


def commit(root: Path = ROOT) -> str:
    """HEAD's hash, with '-dirty' when tracked files differ from it; 'unknown' without git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + ("-dirty" if dirty else "")) if head else "unknown"


def _command() -> str:
    script = Path(sys.argv[0]).resolve()
    name = script.relative_to(ROOT).as_posix() if script.is_relative_to(ROOT) else str(script)
    return " ".join([name, *sys.argv[1:]])


def write_record(requirement: str, figures: dict[str, dict], benchmark: str | None = None,
                 out_dir: Path | None = None) -> Path:
    """Write out/bench/<requirement>.json atomically and print one line saying so."""
    if not REQ_ID.match(requirement):
        raise ValueError(f"requirement must be an id like SRS-021 (got {requirement!r})")
    if not figures:
        raise ValueError("a record needs at least one figure")
    directory = out_dir or Path(os.environ.get(OUT_ENV) or ROOT / OUT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    record = {"requirement": requirement, "benchmark": benchmark or _command(), "figures": figures,
              "machine": machine(),
              "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "commit": commit(), "source_sha256": source_sha256(ROOT)}
    path = directory / f"{requirement}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    missed = [n for n, f in figures.items() if not f["met"]]
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"  record: {shown} ({'goal missed on this machine: ' + ', '.join(missed) if missed else 'all goals met'})")
    return path
