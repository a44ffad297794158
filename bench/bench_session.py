"""Benchmark (SRS-089): wall time of a simulated 20-minute session at 10 kHz
with `--json`, as the user runs it. Goal: <= 2 s. Prints, never fails.

    python bench/bench_session.py [--repeat N] [--quick]

Writes out/bench/SRS-089.json (bench/_record.py). A failed session (non-zero
exit, or not completed) is a crash and exits 1; a missed goal is not.

Figures: the whole command (process start, imports, checklist, history,
session, summary) and, in process, the session alone split into the C batch
stepping and the supervisor's own Python overhead.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _record import figure, write_record  # noqa: E402

GOAL_S = 2.0
MINUTES = 20


def command_once(db: Path) -> float:
    argv = [sys.executable, "-m", "core.cli", "session", "--site", "hands", "--current", "15",
            "--minutes", str(MINUTES), "--checklist", str(ROOT / "examples" / "checklist.yaml"),
            "--seed", "1", "--db", str(db), "--json"]
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        print(f"session exited {p.returncode}: {p.stderr.strip()}")
        sys.exit(1)  # the figure would not be a session's time
    return wall


def in_process_once() -> tuple[float, float]:
    from core.checklist import ChecklistRecord, load_checklist
    from core.device import SimulatedDevice
    from core.settings import parse_settings
    from core.supervisor import Supervisor

    class TimedDevice(SimulatedDevice):
        c_s = 0.0

        def advance(self, max_rows, ticks_per_row):
            t = time.perf_counter()
            try:
                return super().advance(max_rows, ticks_per_row)
            finally:
                TimedDevice.c_s += time.perf_counter() - t

    settings = parse_settings({"site": "hands", "current_ma": 15, "minutes": MINUTES})
    TimedDevice.c_s = 0.0
    # the shipped checklist: a Supervisor runs only on a passed one (SRS-093)
    answers = load_checklist(ROOT / "examples" / "checklist.yaml")
    sup = Supervisor(TimedDevice(seed=1), settings,
                     checklist=ChecklistRecord(mode="file", answers=answers, source="examples/checklist.yaml"))
    t0 = time.perf_counter()
    result = sup.run()
    total = time.perf_counter() - t0
    if result.outcome != "completed":
        sys.exit(f"in-process session ended {result.outcome!r}, not 'completed'")
    return total, TimedDevice.c_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one run of each (CI): same figures, no best-of")
    args = ap.parse_args()
    n = 1 if args.quick else args.repeat
    if n < 1:
        ap.error(f"--repeat must be at least 1 (got {n})")
    with tempfile.TemporaryDirectory() as tmp:
        walls = [command_once(Path(tmp) / f"h{i}.sqlite") for i in range(n)]
    inproc = [in_process_once() for _ in range(n)]
    ticks = MINUTES * 60 * 10_000 + 2 * 30 * 10_000   # treatment + 30 s ramps each way
    best = min(walls)
    print(f"bench_session: simulated {MINUTES}-min session at 10 kHz (+ 2 x 30 s ramps), --json")
    print(f"  ionto session wall time: best {best:.3f} s, median {statistics.median(walls):.3f} s "
          f"over {n} runs (goal <= {GOAL_S:.1f} s: {'met' if best <= GOAL_S else 'NOT met'})")
    total, c_s = min(inproc)
    print(f"  session alone (in process): {total:.3f} s; C batch stepping {c_s:.3f} s "
          f"({1e9 * c_s / ticks:.1f} ns/tick), supervisor overhead {total - c_s:.3f} s")
    write_record("SRS-089", {"command_wall_s": figure(best, "s", GOAL_S, "<="),
                             "session_in_process_wall_s": figure(total, "s", GOAL_S, "<=")})


if __name__ == "__main__":
    main()
