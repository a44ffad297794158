"""The C real-time runner (cext/runner.c) with the simulated board
(cext/hal_sim.c): commands reach the tick whole (SRS-212), a late or stalled
loop ends with the output disconnect open within its bound (SRS-214,
SRS-215), the hardware abstraction carries the board (SRS-210)."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.regulator import Regulator, ffi, fill_checklist, lib
from tests.arming_kit import CLEAR_CODES

RT_BOUND_NS = lib.RT_LATE_FAULT_NS          # 0.8 ms (runner.h, SRS-214)
STALL_BOUND_NS = lib.RT_LATE_FAULT_NS + lib.RT_PERIOD_NS + lib.RT_MONITOR_NS   # 1.1 ms (SRS-215)


class PlatformLate(Exception):
    """The machine woke the loop later than the bound before the test's own fault."""


ATTEMPTS = 5   # fresh runners tried when the machine itself misses the bound


class Runner:
    """The runner with the simulated board, commands acknowledged."""

    def __init__(self) -> None:
        self.hal = ffi.new("hal_t *")
        assert lib.hal_sim_bind(self.hal, 7, 2000, 1000) == lib.REG_OK
        assert lib.rt_start(self.hal, lib.RT_OPT_REALTIME) == lib.REG_OK
        self.cmd = ffi.new("rt_command_t *")
        self.seq = ffi.new("uint32_t *")
        self.st = ffi.new("rt_status_t *")
        self.snapshots: list[tuple[int, int, int, int, int, int]] = []
        end = time.monotonic() + 1.0
        while self.status().loop_ticks == 0:   # the first tick's status
            if self.st.loop_fault != lib.RT_FAULT_NONE:
                raise PlatformLate()
            assert time.monotonic() < end, "the runner did not tick within 1 s"
        self.arm()                             # a passed checklist, as every session (SRS-307)
        self.snapshots.clear()                 # only statuses that a tick published

    def arm(self) -> None:
        """The all-clear checklist to the loop through the mailbox (RT_OP_ARM)."""
        fill_checklist(ffi.addressof(self.cmd[0], "checklist"), *CLEAR_CODES)
        self.post(lib.RT_OP_ARM)
        assert self.st.results[6] == lib.REG_OK

    def status(self):
        assert lib.rt_status(self.st) == lib.REG_OK
        s = self.st
        self.snapshots.append((s.applied_seq, s.target_ua, s.slew_fa_per_tick, s.enabled,
                               s.watchdog_count, int(s.loop_ticks)))
        return s

    def post(self, ops: int, target_ua: int = 0, slew_na_per_s: int = 0, on: int = 0) -> tuple[int, int]:
        """Post, wait for the tick that applied it; (sequence, loop ticks at the post)."""
        c = self.cmd
        c.ops, c.target_ua, c.slew_na_per_s, c.on, c.polarity = ops, target_ua, slew_na_per_s, on, 1
        ticks0 = int(self.status().loop_ticks)
        assert lib.rt_post(c, self.seq) == lib.REG_OK
        seq = self.seq[0]
        end = time.monotonic() + 1.0
        while self.status().applied_seq != seq:
            if self.st.loop_fault != lib.RT_FAULT_NONE:
                raise PlatformLate()
            assert time.monotonic() < end, "command not applied within 1 s"
        return seq, ticks0

    def disconnected(self) -> bool:
        out = ffi.new("int32_t *")
        lib.hal_sim_disconnected(out)
        return bool(out[0])

    def stop(self) -> None:
        lib.rt_stop()


def with_runner(body) -> None:
    """body(runner) on a fresh runner; again on a new one when the machine
    woke the loop beyond the bound before the test's own fault (a loaded
    machine without PREEMPT_RT); skipped, with the figure, if it always did."""
    late_ms = []
    for _ in range(ATTEMPTS):
        r = None
        try:
            r = Runner()
            body(r)
            return
        except PlatformLate:
            s = ffi.new("rt_stats_t *")
            lib.rt_stats(s)
            late_ms.append(round(s.max_late_ns / 1e6, 2))
        finally:
            lib.rt_stop()
    pytest.skip(f"this machine woke the loop late beyond the {RT_BOUND_NS / 1e6:g} ms bound in "
                f"{ATTEMPTS} runs (max lateness {late_ms} ms) before the test's own fault")


def _check_not_late(r: Runner) -> None:
    if r.status().loop_fault != lib.RT_FAULT_NONE:
        raise PlatformLate()


commands = st.lists(
    st.one_of(
        st.tuples(st.just("command"), st.integers(lib.REG_TARGET_MIN_UA, lib.REG_TARGET_MAX_UA),
                  st.integers(lib.REG_SLEW_MIN_NA_PER_S, lib.REG_SLEW_MAX_NA_PER_S)),
        st.tuples(st.just("enable"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("kick"), st.just(0), st.just(0)),
    ),
    min_size=1, max_size=30)


@pytest.mark.req("SRS-212")
@settings(max_examples=25, deadline=None)
@given(seqs=commands)
def test_a_command_is_never_seen_half_applied(seqs):
    with_runner(lambda runner: _no_torn_command(runner, seqs))


def _no_torn_command(runner, seqs):
    """Every status the tick publishes shows the target and the slew of the
    same command (never a new target with the old slew), and an enable
    arrives with its watchdog restart in the same tick."""
    oracle = Regulator()          # the same commands on a bare regulator: the expected state
    expected = {}                 # applied sequence -> (target uA, slew fA/tick)
    expected[runner.status().applied_seq] = (runner.st.target_ua, runner.st.slew_fa_per_tick)
    state = (runner.st.target_ua, runner.st.slew_fa_per_tick)
    for kind, a, b in seqs:
        if kind == "command":
            assert oracle.raw_command(a, b) == lib.REG_OK
            state = (oracle._reg.target_ua, oracle._reg.slew_fa_per_tick)
            seq, _ = runner.post(lib.RT_OP_COMMAND, target_ua=a, slew_na_per_s=b)
            expected[seq] = state
        elif kind == "enable":
            seq, ticks0 = runner.post(lib.RT_OP_ENABLE | lib.RT_OP_KICK, on=a)
            expected[seq] = state
            s = runner.st
            if a == 1 and s.fault == lib.REG_FAULT_NONE:
                # the watchdog restarted in the tick that applied the enable: it
                # counts at most the ticks since the post
                assert s.enabled == 1
                assert s.watchdog_count <= int(s.loop_ticks) - ticks0
        else:
            seq, _ = runner.post(lib.RT_OP_KICK)
            expected[seq] = state
    torn = [(seq, t, sl) for seq, t, sl, *_ in runner.snapshots
            if seq in expected and (t, sl) != expected[seq]]
    assert torn == []


@pytest.mark.req("SRS-212")
def test_a_post_racing_the_tick_is_taken_whole_or_at_the_next_tick():
    with_runner(_racing_posts)


def _racing_posts(runner):
    """Posts without waiting, as fast as the thread can: each status shows a
    (target, slew) pair that was posted together (target = slew / 10 here)."""
    posted = set()
    c = ffi.new("rt_command_t *")
    seq = ffi.new("uint32_t *")
    end = time.monotonic() + 1.0
    k = 0
    pairs = set()
    while time.monotonic() < end:
        k = k % 3000 + 1
        c.ops, c.target_ua, c.slew_na_per_s = lib.RT_OP_COMMAND, k * 10, k * 100 + lib.REG_SLEW_MIN_NA_PER_S
        assert lib.rt_post(c, seq) == lib.REG_OK
        posted.add(k)
        s = runner.status()
        pairs.add((s.target_ua, s.slew_fa_per_tick))
    applied = [(t, sl) for t, sl in pairs if t != 0]
    assert applied, "no command was applied in 1 s"
    for t, sl in applied:
        k = t // 10
        # slew in fA/tick = 100 x nA/s (regulator.c): the pair of one post
        assert sl == (k * 100 + lib.REG_SLEW_MIN_NA_PER_S) * 100, (t, sl)


@pytest.mark.req("SRS-215")
def test_a_stalled_runner_ends_with_the_disconnect_open_within_its_bound():
    with_runner(_stalled)


def _stalled(runner):
    runner.post(lib.RT_OP_COMMAND | lib.RT_OP_ENABLE | lib.RT_OP_KICK, target_ua=5000,
                slew_na_per_s=5_000_000, on=1)
    time.sleep(0.05)
    _check_not_late(runner)
    assert not runner.disconnected()
    assert lib.rt_inject_stall(1, 300_000) == lib.REG_OK    # the loop thread stops for 300 ms
    time.sleep(0.4)
    s = runner.status()
    assert s.loop_fault == lib.RT_FAULT_STALLED
    assert runner.disconnected()
    # from the start of the last tick to the disconnect: the bound, plus only
    # the monitor thread's own wake-up lateness (the platform's, measured)
    unattended_ns = s.fault_ns - s.last_tick_ns
    assert unattended_ns - s.fault_wake_late_ns <= STALL_BOUND_NS, unattended_ns
    ticks = int(s.loop_ticks)
    time.sleep(0.05)
    assert int(runner.status().loop_ticks) == ticks      # the loop no longer ticks


@pytest.mark.req("SRS-214")
@pytest.mark.parametrize("overrun_us", [150, 400, 1000])
def test_a_missed_deadline_burst_ends_with_the_disconnect_open(overrun_us):
    with_runner(lambda runner: _burst(runner, overrun_us))


def _burst(runner, overrun_us):
    """Ticks that each overrun the period: the lateness builds up, and no
    tick runs later than the 0.8 ms bound; the first one beyond it opens the
    disconnect and stops the loop."""
    runner.post(lib.RT_OP_COMMAND | lib.RT_OP_ENABLE | lib.RT_OP_KICK, target_ua=5000,
                slew_na_per_s=5_000_000, on=1)
    time.sleep(0.05)
    _check_not_late(runner)
    assert lib.rt_inject_stall(100, overrun_us) == lib.REG_OK
    time.sleep(0.3)
    s = runner.status()
    stats = ffi.new("rt_stats_t *")
    lib.rt_stats(stats)
    assert s.loop_fault in (lib.RT_FAULT_LATE, lib.RT_FAULT_STALLED)
    assert runner.disconnected()
    assert stats.max_run_late_ns <= RT_BOUND_NS
    if s.loop_fault == lib.RT_FAULT_LATE:
        assert s.fault_wake_late_ns > RT_BOUND_NS


@pytest.mark.req("SRS-211")
def test_the_runner_ticks_at_10_khz_against_the_monotonic_clock():
    with_runner(_rate)


def _rate(runner):
    t0 = time.monotonic()
    n0 = int(runner.status().loop_ticks)
    time.sleep(1.0)
    n1 = int(runner.status().loop_ticks)
    t1 = time.monotonic()
    _check_not_late(runner)
    # absolute deadlines: no drift beyond the one tick of the readings' skew
    expected = (t1 - t0) * lib.REG_TICK_HZ
    assert abs((n1 - n0) - expected) <= 0.01 * expected + 20


@pytest.mark.req("SRS-211")
def test_the_schedule_keeps_the_clock_when_the_machine_wakes_the_loop_late():
    """SRS-211 on the real clock on any machine, one without PREEMPT_RT included
    (this VM wakes the loop up to ms late; the loop then stops ticking by
    SRS-214, and the test above skips): over 1 s the thread's wake-ups keep the
    absolute 10 kHz deadlines (they go on after a loop fault), and over the
    span the loop ran (the whole second, up to its late fault, or none) it ran
    one tick per period of the clock. Never skipped: a loop that stopped early
    leaves the wake-ups to show the schedule."""
    hal = ffi.new("hal_t *")
    assert lib.hal_sim_bind(hal, 7, 2000, 1000) == lib.REG_OK
    assert lib.rt_start(hal, lib.RT_OPT_REALTIME) == lib.REG_OK
    try:
        _schedule()
    finally:
        lib.rt_stop()


def _schedule() -> None:
    stats = ffi.new("rt_stats_t *")
    st = ffi.new("rt_status_t *")
    end = time.monotonic() + 1.0
    while lib.rt_stats(stats) == lib.REG_OK and stats.wakeups == 0:   # the thread's first wake-up
        assert time.monotonic() < end, "the runner did not wake within 1 s"
    assert lib.rt_status(st) == lib.REG_OK
    ticks0, last_tick0_ns = int(st.loop_ticks), int(st.last_tick_ns)
    lib.rt_stats(stats)
    t0, wakeups0 = time.monotonic(), int(stats.wakeups)
    time.sleep(1.0)
    lib.rt_stats(stats)
    wakeups1, t1 = int(stats.wakeups), time.monotonic()
    assert lib.rt_status(st) == lib.REG_OK
    expected = (t1 - t0) * lib.REG_TICK_HZ
    # absolute deadlines: a late wake-up is caught up, the count does not drift
    assert abs((wakeups1 - wakeups0) - expected) <= 0.01 * expected + 20
    # the ticks between two ticks' start times: one per period while the loop ran
    span_ticks = (int(st.last_tick_ns) - last_tick0_ns) / lib.RT_PERIOD_NS
    assert abs((int(st.loop_ticks) - ticks0) - span_ticks) <= 0.01 * span_ticks + 20
    if st.loop_fault == lib.RT_FAULT_NONE:   # it ran the whole second
        assert abs(span_ticks - expected) <= 0.01 * expected + 20
    assert stats.max_run_late_ns <= RT_BOUND_NS   # no tick ran later than SRS-214's bound


@pytest.mark.req("SRS-210")
def test_the_board_template_fills_every_function_of_the_hal():
    hal = ffi.new("hal_t *")
    assert lib.hal_template_bind(hal) == lib.REG_OK
    for name in ("read_inputs", "apply_output", "disconnect", "now_ns"):
        assert getattr(hal, name) != ffi.NULL, name
    assert lib.hal_template_bind(ffi.NULL) == lib.REG_ERR_NULL
    # a HAL with a missing function is refused: the runner never calls NULL
    hal.disconnect = ffi.NULL
    assert lib.rt_start(hal, 0) == lib.REG_ERR_NULL


@pytest.mark.req("SRS-213")
def test_rows_carry_the_events_of_the_simulated_run_in_the_same_bits():
    # runner.c repeats the SIM_EVENT_* values so that a board build does not need simload.h
    assert (lib.SIM_EVENT_CONTACT_LOST, lib.SIM_EVENT_LOAD_MOVED) == (0x01, 0x80)
