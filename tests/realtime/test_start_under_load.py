"""SRS-214 on a loaded machine: the loop's schedule starts at its first tick.
Before it no tick has run and the output is off (reg_init), so the time the
thread takes to be first scheduled is no late tick. A runner that counted it
failed 11 of 30 starts at normal priority beside 4 CPU-bound processes on this
2-core machine ("did not tick within 1 s", the loop dead before its first
tick); a late tick after the first still stops the loop (test_runner.py)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from core.realtime import LoopNotResponding, RealtimeDevice

HOGS = 4          # CPU-bound processes beside the starts (2 cores here)
STARTS = 40


@pytest.mark.req("SRS-214")
def test_every_start_beside_cpu_bound_processes_reaches_its_first_tick():
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]
    failed = []
    try:
        time.sleep(0.3)   # the hogs running before the first start
        for seed in range(STARTS):
            try:
                with RealtimeDevice(seed=seed, realtime_priority=False, warn=lambda _t: None) as dev:
                    assert dev.status().loop_ticks > 0
            except LoopNotResponding as exc:
                failed.append(f"seed {seed}: {exc}")
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert failed == [], f"{len(failed)} of {STARTS} starts failed: {failed[:3]}"

