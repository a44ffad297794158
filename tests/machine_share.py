"""One machine shared by the pytest-xdist workers, held alone by the real-time tests.

The real-time runner's tests measure the wake-up lateness of a 10 kHz thread
(SRS-211, SRS-214); beside another worker's CPU-bound test a 2-core machine
wakes it milliseconds late and the measurement is of the neighbour. So every
test holds one lock file shared, and a real-time module (tests/realtime, or
marked machine_alone; tests/conftest.py) holds it alone: its first test waits for the other workers' current tests to end, and
they wait for its last. A turnstile lock keeps the shared holders from
starving the exclusive one. Outside xdist (one process) nothing is locked, nor
in a pytest that a test starts (it inherits the worker's environment but is no
worker: locking there would wait on its own parent)."""
from __future__ import annotations

import contextlib
import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _lock_paths(config: pytest.Config) -> tuple[Path, Path] | None:
    worker = getattr(config, "workerinput", None)   # set on an xdist worker only
    if worker is None:
        return None
    run = worker["testrunuid"]
    base = Path(tempfile.gettempdir()) / f"ionto-machine-{run}"
    return base.with_suffix(".turnstile"), base.with_suffix(".lock")


@contextlib.contextmanager
def _hold(config: pytest.Config, mode: int) -> Iterator[None]:
    paths = _lock_paths(config)
    if paths is None:
        yield
        return
    turnstile, lock = paths
    with open(turnstile, "a") as gate, open(lock, "a") as handle:
        # an exclusive holder waits at the gate, closed behind it, so later shared
        # holders queue behind it instead of overtaking it
        fcntl.flock(gate, fcntl.LOCK_EX)
        if mode == fcntl.LOCK_EX:
            fcntl.flock(handle, fcntl.LOCK_EX)
        fcntl.flock(gate, fcntl.LOCK_UN)
        if mode == fcntl.LOCK_SH:
            fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared(config: pytest.Config):
    """Held by an ordinary test: any number at once, none beside an exclusive holder."""
    return _hold(config, fcntl.LOCK_SH)


def exclusive(config: pytest.Config):
    """Held by the real-time tests: no other worker runs a test meanwhile."""
    return _hold(config, fcntl.LOCK_EX)
