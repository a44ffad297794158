"""SRS-316 on the runner itself: every row carries the mailbox sequence its
last tick had applied, and RealtimeDevice marks the rows a supervisor reads
behind the loop that ran before its latest command, and gives the reference
at the tick that applied it."""
from __future__ import annotations

import time

import pytest

from core.realtime import RealtimeDevice, _seq_before
from core.regulator import lib
from tests.arming_kit import CLEAR

ATTEMPTS = 5
TPR = 100


def _on_device(body) -> None:
    """body(device) on a fresh device, again when the loaded machine stopped the loop."""
    for _ in range(ATTEMPTS):
        dev = RealtimeDevice(seed=1, warn=lambda _t: None)
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


@pytest.mark.req("SRS-316")
def test_the_mailbox_sequence_compares_across_its_wrap():
    assert _seq_before(4, 6) and not _seq_before(6, 6) and not _seq_before(8, 6)
    assert _seq_before(0xFFFFFFFE, 2) and not _seq_before(2, 0xFFFFFFFE)
    # ahead by less than half the range is after, by half or more before
    assert _seq_before(0x7FFFFFFF, 0) is False and _seq_before(0x7FFFFFFE, 0xFFFFFFFF) is False
    assert _seq_before(0x80000000, 0) is True


@pytest.mark.req("SRS-316")
def test_rows_read_behind_the_loop_say_they_ran_before_the_fall():
    def body(dev):
        dev.arm(CLEAR)
        dev.command(5.0, 5.0)
        dev.enable_output(True)
        _ = dev.loop_ticks                           # the rows start here
        first = dev.advance(1, TPR)
        assert first.before_decision is False
        assert first.decision_reference_ma is not None   # the enable's first row
        rising = [dev.advance(1, TPR) for _ in range(5)]
        assert all(b.before_decision is False and b.decision_reference_ma is None for b in rising)
        assert rising[-1].last.reference_ma > rising[0].last.reference_ma   # the ramp at 5 mA/s
        time.sleep(0.030)                            # the loop runs on 30 ms ahead of the reader
        dev.command(0.0, 1.0)
        marked = []
        while True:
            b = dev.advance(1, TPR)
            if not b.before_decision:
                break
            assert b.decision_reference_ma is None
            assert _seq_before(int(b._buf[0].applied_seq), dev._decision_seq)
            marked.append(b)
        assert len(marked) >= 2, len(marked)           # 30 ms of rows ran under the rise
        assert marked[-1].last.reference_ma > rising[-1].last.reference_ma
        ref_at = b.decision_reference_ma
        assert ref_at is not None and not _seq_before(int(b._buf[0].applied_seq), dev._decision_seq)
        # rising up to the tick that applied the fall (one 0.1 uA step of it in that tick)
        assert ref_at >= marked[-1].last.reference_ma - 0.0002
        assert b.last.reference_ma <= ref_at
        after = dev.advance(1, TPR)
        assert after.before_decision is False and after.decision_reference_ma is None
        assert after.last.reference_ma < b.last.reference_ma
        dev.kick_watchdog()                          # a lone kick is no decision
        kicked = dev.advance(1, TPR)
        assert kicked.before_decision is False and kicked.decision_reference_ma is None
    _on_device(body)
