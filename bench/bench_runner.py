"""Wake-up latency of the C real-time runner beside the platform's floor (issue 13).

Not a test: prints figures. Four runs of --seconds each (default 60):
  floor  a bare clock_nanosleep loop at the runner's period (100 us), in C
  runner the regulation loop ticking the simulated board (cext/runner.c)
each with SCHED_FIFO + mlockall (where permitted) and without. For each:
wake-up latency p50 / p99 / p99.9 / max (10 us histogram bins, max exact),
deadline misses (a wake-up more than one period late), wake-ups beyond the
runner's fault bound (RT_LATE_FAULT_NS, SRS-214), and the CPU share of the
loop thread. The runner keeps waking and measuring after a loop fault (it
only stops ticking the regulator), so its figures cover the whole run.

    .venv/bin/python bench/bench_runner.py [--seconds 60]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.regulator import ffi, lib  # noqa: E402


def percentile_us(hist, p: float) -> float:
    n = sum(hist)
    if n == 0:
        return float("nan")
    need, acc = p * n, 0
    for i, count in enumerate(hist):
        acc += count
        if acc >= need:
            if i == len(hist) - 1:
                return float("inf")                       # the open-ended last bin
            return (i + 1) * lib.RT_HIST_BIN_NS / 1000   # upper edge of the bin
    return float("inf")


def summary(name: str, stats, extra: str = "") -> str:
    hist = list(stats.hist)
    beyond = sum(hist[lib.RT_LATE_FAULT_NS // lib.RT_HIST_BIN_NS:])
    cpu = stats.cpu_ns / stats.wall_ns * 100 if stats.wall_ns else float("nan")
    def us(p: float) -> str:
        v = percentile_us(hist, p)
        return f"{'>' + str(len(hist) * lib.RT_HIST_BIN_NS // 1000 - 10):>7}" if v == float("inf") else f"{v:7.0f}"
    return (f"{name:<22} p50 {us(0.50)} us  p99 {us(0.99)} us  "
            f"p99.9 {us(0.999)} us  max {stats.max_late_ns / 1000:8.0f} us  "
            f"misses {stats.misses:7d} / {stats.wakeups}  beyond {lib.RT_LATE_FAULT_NS / 1e6:g} ms "
            f"{beyond:5d}  cpu {cpu:5.1f} %{extra}")


def run_floor(seconds: float, realtime: bool):
    stats = ffi.new("rt_stats_t *")
    status = lib.rt_floor(int(seconds * 1000), lib.RT_OPT_REALTIME if realtime else 0, stats)
    note = "" if status == lib.REG_OK else "  (SCHED_FIFO refused: normal priority)"
    return stats, note


def run_runner(seconds: float, realtime: bool):
    hal = ffi.new("hal_t *")
    lib.hal_sim_bind(hal, 1, 2000, 1000)
    if lib.rt_start(hal, lib.RT_OPT_REALTIME if realtime else 0) != lib.REG_OK:
        raise SystemExit("bench_runner: the runner did not start")
    cmd = ffi.new("rt_command_t *")
    seq = ffi.new("uint32_t *")
    cmd.ops = lib.RT_OP_COMMAND | lib.RT_OP_ENABLE | lib.RT_OP_KICK
    cmd.target_ua, cmd.slew_na_per_s, cmd.on, cmd.polarity = 10000, 5_000_000, 1, 1
    lib.rt_post(cmd, seq)
    cmd.ops = lib.RT_OP_KICK
    end = time.monotonic() + seconds
    while time.monotonic() < end:      # the supervisor's kicks, every 10 ms
        lib.rt_post(cmd, seq)
        time.sleep(0.01)
    st = ffi.new("rt_status_t *")
    lib.rt_status(st)
    stats = ffi.new("rt_stats_t *")
    lib.rt_stats(stats)
    lib.rt_stop()
    note = ""
    if realtime and not (st.realtime and st.locked):
        note += "  (SCHED_FIFO/mlockall refused)"
    if st.loop_fault != lib.RT_FAULT_NONE:
        fault = {lib.RT_FAULT_LATE: "late tick", lib.RT_FAULT_STALLED: "stalled"}[st.loop_fault]
        note += (f"  loop fault ({fault}) after {st.loop_ticks} ticks "
                 f"({st.loop_ticks / lib.REG_TICK_HZ:.2f} s): disconnect open, no more ticks")
    return stats, note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each of the four runs (default 60)")
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"period {lib.RT_PERIOD_NS / 1000:g} us, fault bound {lib.RT_LATE_FAULT_NS / 1000:g} us, "
          f"{args.seconds:g} s per run, {os.cpu_count()} CPUs, load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for realtime in (True, False):
        label = "SCHED_FIFO" if realtime else "normal"
        stats, note = run_floor(args.seconds, realtime)
        print(summary(f"floor  {label}", stats, note))
        stats, note = run_runner(args.seconds, realtime)
        print(summary(f"runner {label}", stats, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
