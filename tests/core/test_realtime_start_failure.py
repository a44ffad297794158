"""A RealtimeDevice whose runner never ticks at start-up is stopped before the
error reaches the caller (SRS-216): CI on a loaded machine saw one start-up
time-out leave the runner running, and the next 12 devices in that process
were refused as "already running"."""
from __future__ import annotations

import pytest

from core import realtime
from core.realtime import LoopNotResponding, RealtimeDevice
from core.regulator import RegulatorError


def _never_ticks(self) -> int:
    raise LoopNotResponding(realtime.lib.RT_ERR_STATE, "the real-time runner did not tick within 1 s")


@pytest.mark.req("SRS-216")
def test_a_start_that_never_ticks_stops_the_runner_and_the_next_device_starts(monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(RealtimeDevice, "_wait_first_tick", _never_ticks)
        with pytest.raises(LoopNotResponding) as failed:
            RealtimeDevice(seed=1, realtime_priority=False)
        # the traceback (kept, as a failing test's report keeps it) holds the
        # half-made device: its __del__ cannot be what stops the runner
        assert failed.traceback
        assert realtime.lib.rt_stop() != realtime.lib.REG_OK   # nothing left running to stop
        del failed
    with RealtimeDevice(seed=2, realtime_priority=False) as dev:   # not refused as "already running"
        assert dev.status().loop_ticks > 0


@pytest.mark.req("SRS-216")
def test_a_running_device_still_refuses_a_second_one():
    with RealtimeDevice(seed=3, realtime_priority=False):
        with pytest.raises(RegulatorError, match="already running"):
            RealtimeDevice(seed=4, realtime_priority=False)
