"""SRS-316 on the runner itself: every row carries the mailbox sequence its
last tick had applied, and RealtimeDevice marks the rows a supervisor reads
behind the loop that ran before its latest command, and gives the reference
at the tick that applied it."""
from __future__ import annotations

import time

import pytest

from core.realtime import RealtimeDevice, _seq_before
from core.regulator import ffi, lib
from tests.arming_kit import CLEAR
from tests.realtime_kit import on_device

TPR = 100


@pytest.mark.req("SRS-316")
def test_the_mailbox_sequence_compares_across_its_wrap():
    assert _seq_before(4, 6) and not _seq_before(6, 6) and not _seq_before(8, 6)
    assert _seq_before(0xFFFFFFFE, 2) and not _seq_before(2, 0xFFFFFFFE)
    # ahead by less than half the range is after, by half or more before
    assert _seq_before(0x7FFFFFFF, 0) is False and _seq_before(0x7FFFFFFE, 0xFFFFFFFF) is False
    assert _seq_before(0x80000000, 0) is True


def _one_tick(tick: int):
    """The runner's record of one tick, as a one-tick row: (applied_seq,
    reference_ua, mean_current_ua), copied out of the cffi buffer it owns."""
    row = ffi.new("rt_row_t[]", 1)
    batch = ffi.new("rt_batch_t *")
    assert lib.rt_rows(tick, 1, 1, 0, row, batch) == lib.REG_OK and batch.rows_run == 1
    return int(row[0].applied_seq), int(row[0].reference_ua), float(row[0].mean_current_ua)


@pytest.mark.req("SRS-316")
def test_rows_read_behind_the_loop_say_how_many_posts_they_ran_under():
    def body(dev):
        dev.arm(CLEAR)
        dev.command(5.0, 5.0)
        dev.enable_output(True)
        assert dev.posts_made == 3
        _ = dev.loop_ticks                           # the rows start here
        first = dev.advance(1, TPR)
        assert first.posts_applied == 3
        assert first.decision_reference_ma is not None   # the enable's first row
        rising = [dev.advance(1, TPR) for _ in range(5)]
        assert all((b.posts_applied, b.decision_reference_ma) == (3, None)
                   for b in rising)
        assert rising[-1].last.reference_ma > rising[0].last.reference_ma   # the ramp at 5 mA/s
        time.sleep(0.030)                            # the loop runs on 30 ms ahead of the reader
        dev.command(0.0, 1.0)
        assert dev.posts_made == 4
        marked = []
        while True:
            b = dev.advance(1, TPR)
            if b.posts_applied == dev.posts_made:
                break
            assert (b.posts_applied, b.decision_reference_ma) == (3, None)
            marked.append(b)
        assert len(marked) >= 2, len(marked)           # 30 ms of rows ran under the rise
        assert marked[-1].last.reference_ma > rising[-1].last.reference_ma
        assert b.posts_applied == 4
        ref_at = b.decision_reference_ma
        # rising up to the tick that applied the fall, one 0.1 uA step of it in that tick
        step_ma = 1.0 / lib.REG_TICK_HZ
        assert ref_at is not None and ref_at <= marked[-1].last.reference_ma + (TPR * 5.0 / lib.REG_TICK_HZ)
        assert b.last.reference_ma <= ref_at
        applied_ticks = (ref_at - b.last.reference_ma) / step_ma    # ticks of the fall in this row
        assert 0 <= applied_ticks <= TPR + 1e-6
        # the row's ticks read one by one: the first that had applied the fall
        # gives the reference, and the current from it on the mean after it
        seq = dev._post_seqs[-1][1]
        ticks = [_one_tick(t) for t in range(b.loop_ticks - TPR, b.loop_ticks)]
        k = next(i for i, (applied, _ref, _ua) in enumerate(ticks) if not _seq_before(applied, seq))
        assert ref_at == ticks[k][1] / 1000
        assert b.decision_mean_current_ma == pytest.approx(
            sum(ua for _a, _r, ua in ticks[k:]) / (TPR - k) / 1000, abs=1e-9)
        after = dev.advance(1, TPR)
        assert (after.posts_applied, after.decision_reference_ma) == (4, None)
        assert after.last.reference_ma == pytest.approx(b.last.reference_ma - TPR * step_ma, abs=2e-3)
        dev.kick_watchdog()                          # a lone kick is no post
        kicked = dev.advance(1, TPR)
        assert dev.posts_made == 4 and kicked.posts_applied == 4
    on_device(body)


@pytest.mark.req("SRS-316")
def test_posts_applied_by_a_row_from_its_mailbox_sequence():
    """The count of posts a row had applied, from the sequences kept (no
    runner needed): the newest post whose sequence the row had reached, with
    that sequence; a row older than every post kept counts one fewer than the
    oldest kept, with no sequence."""
    import collections

    dev = object.__new__(RealtimeDevice)
    dev._post_seqs = collections.deque(maxlen=4)
    assert dev._posts_applied(10) == (0, None)           # nothing posted yet
    for count, seq in ((7, 20), (8, 22), (9, 26), (10, 30)):
        dev._post_seqs.append((count, seq))
    assert [dev._posts_applied(s)[0] for s in (19, 20, 21, 22, 25, 26, 29, 30, 99)] == [6, 7, 7, 8, 8, 9, 9, 10, 10]
    assert [dev._posts_applied(s)[1] for s in (19, 21, 30)] == [None, 20, 30]
    dev._post_seqs.clear()                                  # the sequence wraps
    for count, seq in ((9, 0xFFFFFFF6), (10, 0xFFFFFFFA), (11, 0xFFFFFFFE), (12, 2)):
        dev._post_seqs.append((count, seq))
    rows = (0xFFFFFFF5, 0xFFFFFFF8, 0xFFFFFFFA, 0xFFFFFFFD, 0xFFFFFFFE, 0, 2, 3)
    assert [dev._posts_applied(s) for s in rows] == [(8, None), (9, 0xFFFFFFF6), (10, 0xFFFFFFFA), (10, 0xFFFFFFFA),
                                                     (11, 0xFFFFFFFE), (11, 0xFFFFFFFE), (12, 2), (12, 2)]
