"""Shared by the real-time runner's tests: run a body on a fresh
RealtimeDevice, again when the loaded machine stopped the loop (a late
wake-up beyond SRS-214's bound is the loop's own fault, not the body's)."""
from __future__ import annotations

import pytest

from core.realtime import RealtimeDevice
from core.regulator import lib

ATTEMPTS = 5


def on_device(body, seed: int = 1) -> None:
    """body(device) on a fresh device, again when the machine stopped the loop;
    skips after ATTEMPTS such runs. A failure with the loop running fails."""
    for _ in range(ATTEMPTS):
        dev = RealtimeDevice(seed=seed, warn=lambda _t: None)
        try:
            body(dev)
            if dev.status().loop_fault == lib.RT_FAULT_NONE:
                return
        except Exception:
            if dev.status().loop_fault == lib.RT_FAULT_NONE:
                raise
        finally:
            dev.close()
    pytest.skip(f"the machine stopped the real-time loop in {ATTEMPTS} runs")
