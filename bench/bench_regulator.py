"""Benchmark of the C regulator + load (SRS-021, SRS-089). Prints figures;
never asserts on speed.

    python3 bench/bench_regulator.py
"""
from __future__ import annotations

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from core.regulator import Regulator, SimulatedRig  # noqa: E402
from pyref_regulator import PyRig  # noqa: E402
from _record import figure, write_record  # noqa: E402
from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers  # noqa: E402

# the checklist arm a passed session gives the loop (SRS-307): all clear
CLEAR = ChecklistAnswers({i.id: False for i in CONTRAINDICATIONS}, {i.id: True for i in PREPARATION})

GOAL_NS_PER_TICK = 30  # SRS-021
GOAL_SPEEDUP_X = 100  # SRS-021

SESSION_TICKS = 12_000_000  # 20 min at 10 kHz


def best_of(repeats: int, fn, clock=time.perf_counter) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def energised_rig() -> SimulatedRig:
    rig = SimulatedRig(seed=1)
    rig.command(15.0, 0.5)
    rig.arm(CLEAR)
    rig.enable_output(True)
    return rig


def main() -> None:
    # batch: a whole 20-minute session in 10 ms rows, one C call
    def session():
        energised_rig().run_rows(SESSION_TICKS // 100, 100, stop_on_event=False)
    batch_s = best_of(3, session)
    batch_ns = batch_s / SESSION_TICKS * 1e9
    # CPU time of this process: the figure that does not depend on other load
    batch_cpu_ns = best_of(3, session, time.process_time) / SESSION_TICKS * 1e9

    # single tick from Python: the rig (regulator + load) and the bare regulator
    rig = energised_rig()
    n_single = 100_000

    def single_rig():
        run = rig.run
        kick = rig.kick_watchdog
        for _ in range(n_single):
            kick()
            run(1)
    single_rig_ns = best_of(3, single_rig) / n_single * 1e9
    reg = Regulator()
    reg.command(15.0, 0.5)
    reg.arm(CLEAR)
    reg.enable_output(True)

    def single_reg():
        step = reg.step
        kick = reg.kick_watchdog
        for _ in range(n_single):
            kick()
            step(5000, 5000, 10_000)
    single_reg_ns = best_of(3, single_reg) / n_single * 1e9

    # the same regulator and load in pure Python
    n_py = 200_000
    py = PyRig(seed=1)
    py.command(15.0, 0.5)
    py.enabled = 1
    py_ns = best_of(3, lambda: py.run(n_py)) / n_py * 1e9
    py_cpu_ns = best_of(3, lambda: py.run(n_py), time.process_time) / n_py * 1e9

    print("regulator + load benchmark (10 kHz ticks; best of 3)")
    print(f"  batch (run_rows, 10 ms rows), wall:  {batch_ns:8.1f} ns/tick   (goal <= 30)")
    print(f"  batch (run_rows, 10 ms rows), CPU:   {batch_cpu_ns:8.1f} ns/tick")
    print(f"  20-min session (12 M ticks):         {batch_s:8.3f} s         (goal < 2)")
    print(f"  single tick from Python, rig.run(1): {single_rig_ns:8.1f} ns/tick")
    print(f"  single tick from Python, bare step:  {single_reg_ns:8.1f} ns/tick")
    print(f"  pure Python regulator + load, wall:  {py_ns:8.1f} ns/tick")
    print(f"  pure Python regulator + load, CPU:   {py_cpu_ns:8.1f} ns/tick")
    print(f"  ratio pure Python / batch (wall):    {py_ns / batch_ns:8.0f} x       (goal >= 100)")
    print(f"  ratio pure Python / batch (CPU):     {py_cpu_ns / batch_cpu_ns:8.0f} x")
    write_record("SRS-021", {
        "batch_wall_ns_per_tick": figure(batch_ns, "ns/tick", GOAL_NS_PER_TICK, "<="),
        "batch_cpu_ns_per_tick": figure(batch_cpu_ns, "ns/tick", GOAL_NS_PER_TICK, "<="),
        "python_to_batch_wall_ratio": figure(py_ns / batch_ns, "x", GOAL_SPEEDUP_X, ">="),
    })


if __name__ == "__main__":
    main()
