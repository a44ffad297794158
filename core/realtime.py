"""The regulation loop in real time: `RealtimeDevice` (SRS-216).

The C runner (cext/runner.c) ticks the regulator every 100 us in its own
thread against absolute CLOCK_MONOTONIC deadlines, without the Python
interpreter; the board is the simulated load behind the C hardware
abstraction (cext/hal_sim.c). This module implements the `core.device.Device`
protocol on top of it, so that the supervisor, paced by the monotonic clock,
drives it unchanged (`ionto session --realtime`).

Commands go through the runner's mailbox (applied whole at the start of a
tick) and this module waits for the tick that applied them, so a refused
command raises as it does in simulation. Rows come from the runner's
per-tick records; `advance` returns when the rows asked for have been run in
real time, or early after a row with a regulator event.
"""
from __future__ import annotations

import collections
import sys
import threading
import time
import weakref

from core.regulator import (LIMITS, CommandRejected, FaultCode, FaultLatched, Polarity,
                            PolarityChangeRefused, RegulatorError, ResetRefused, RowBatch, _arm_status,
                            _enable_status, _to_bool, _to_c, checklist_message, ffi, fill_checklist, lib)

__all__ = ["RealtimeDevice", "LoopNotResponding", "ACK_TIMEOUT_S"]

# A command must be applied within this time: 50 ticks of margin over the
# one tick the mailbox needs, far inside the 50 ms watchdog (SRS-216).
ACK_TIMEOUT_S = 0.005
_POLL_S = 0.005               # advance: how often the records are looked at (at most)
_FINE_POLL_S = 0.0002         # ... and when the last row is due
_STALL_EXTRA_S = 0.020        # advance: wall time beyond the rows asked for before a stall is reported
POSTS_KEPT = 256              # posts whose mailbox sequence is kept for SRS-316 (a row is never that far behind)

_RESULT_INDEX = {lib.RT_OP_RESET: 0, lib.RT_OP_POLARITY: 1, lib.RT_OP_COMMAND: 2,
                 lib.RT_OP_ENABLE: 3, lib.RT_OP_SEARCH: 4, lib.RT_OP_KICK: 5,
                 lib.RT_OP_ARM: 6, lib.RT_OP_DISARM: 7}
_LOAD_EVENTS = {"lift_off": lib.HAL_SIM_EV_LIFT_OFF, "contact": lib.HAL_SIM_EV_CONTACT,
                "short": lib.HAL_SIM_EV_SHORT, "clear_short": lib.HAL_SIM_EV_CLEAR_SHORT,
                "change_load": lib.HAL_SIM_EV_CHANGE_LOAD, "stick_sensor": lib.HAL_SIM_EV_STICK_SENSOR,
                "unstick_sensor": lib.HAL_SIM_EV_UNSTICK_SENSOR}
# the runner is one per process (static C state); a weak reference, so that a
# forgotten device is still collected and its __del__ stops the runner
_active: "weakref.ReferenceType[RealtimeDevice] | None" = None


class LoopNotResponding(RegulatorError):
    """The runner did not apply a command within ACK_TIMEOUT_S (loop stalled or faulted)."""


class RealtimeDevice:
    """The C regulator ticked at 10 kHz by the C runner, the simulated load as the board."""

    def __init__(self, seed: int = 0, load_ohms: float = 2000.0, realtime_priority: bool = True,
                 warn=None) -> None:
        global _active
        running = _active() if _active is not None else None
        if running is not None and running._running:
            raise RegulatorError(lib.RT_ERR_STATE, "a RealtimeDevice is already running in this process: "
                                                   "close() it first")
        self.tick_hz = int(LIMITS.tick_hz)
        self.hard_limit_ma = float(LIMITS.hard_limit_ma)
        self.compliance_v = float(LIMITS.compliance_v)
        self.watchdog_ms = float(LIMITS.watchdog_ms)
        self._lock = threading.Lock()     # one mailbox writer at a time (runner.h)
        self._hal = ffi.new("hal_t *")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
            raise CommandRejected(lib.REG_ERR_RANGE, f"seed={seed!r} is out of range: allowed 0 to {2**64 - 1}")
        ohms = _to_c("load_ohms", load_ohms)
        status = lib.hal_sim_bind(self._hal, seed, ohms, lib.SIM_DEFAULT_CAPACITANCE_NF)
        if status != lib.REG_OK:
            raise CommandRejected(status, f"load_ohms={load_ohms!r} is out of range: allowed "
                                          f"{lib.SIM_LOAD_MIN_OHMS} to {lib.SIM_LOAD_MAX_OHMS} ohm")
        self._cmd = ffi.new("rt_command_t *")
        self._seq = ffi.new("uint32_t *")
        self._st = ffi.new("rt_status_t *")
        self._batch = ffi.new("rt_batch_t *")
        self._stall_until = 0.0
        self._first_applied: int | None = None
        self._ticks_read: int | None = None   # the last loop_ticks read before the first rows
        self._started = False
        # SRS-316: the posts that change what the loop does (every op but a
        # lone kick), counted, with the mailbox sequence of the recent ones,
        # and how many of them the last row read had applied
        self.posts_made = 0
        self._post_seqs: collections.deque[tuple[int, int]] = collections.deque(maxlen=POSTS_KEPT)
        self._rows_applied = 0
        status = lib.rt_start(self._hal, lib.RT_OPT_REALTIME if realtime_priority else 0)
        if status != lib.REG_OK:
            raise RegulatorError(status, f"the real-time runner did not start (status {status})")
        self._running = True
        _active = weakref.ref(self)
        try:
            self._settle_start(realtime_priority, warn)
        except BaseException:
            # a runner that never ticked is stopped here, not left running for
            # the next device to refuse ("already running": one start-up
            # failure cascaded into 12 refusals)
            self.close()
            raise

    def _settle_start(self, realtime_priority: bool, warn) -> None:
        """The priority warning, then the first tick (within 1 s)."""
        st = self.status()
        self.realtime = bool(st.realtime and st.locked)
        if realtime_priority and not self.realtime:
            (warn or _warn)("ionto: real-time priority not permitted (SCHED_FIFO "
                            f"{'granted' if st.realtime else 'refused'}, mlockall "
                            f"{'granted' if st.locked else 'refused'}): the loop runs at normal "
                            "priority; late ticks beyond "
                            f"{lib.RT_LATE_FAULT_NS / 1e6:g} ms will stop the output (SRS-214)")
        self._next_tick = self._wait_first_tick()

    # -- runner ----------------------------------------------------------------
    def status(self):
        """A consistent copy of the last tick's status (rt_status_t)."""
        lib.rt_status(self._st)
        return self._st

    def stats(self):
        s = ffi.new("rt_stats_t *")
        lib.rt_stats(s)
        return s

    def close(self) -> None:
        """Stop the runner; the output disconnect is opened (rt_stop)."""
        global _active
        if self._running:
            lib.rt_stop()
            self._running = False
            if _active is not None and _active() is self:
                _active = None

    def __enter__(self) -> "RealtimeDevice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten device must not leave a thread ticking
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _wait_first_tick(self) -> int:
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ticks = int(self.status().loop_ticks)
            if ticks > 0:
                return ticks
            time.sleep(0.001)
        raise LoopNotResponding(lib.RT_ERR_STATE, "the real-time runner did not tick within 1 s")

    def _post(self, ops: int, checklist: tuple[int, list[int], list[int]] | None = None,
              **fields: int) -> list[int]:
        """Post one command, wait for the tick that applied it; its results.
        `checklist`: the version and raw answer codes of RT_OP_ARM (none:
        version 0 and an empty list, which the C refuses)."""
        with self._lock:
            cmd = self._cmd
            cmd.ops = ops
            version, contra, prep = checklist if checklist is not None else (0, [], [])
            fill_checklist(ffi.addressof(cmd[0], "checklist"), contra, prep, version)
            cmd.target_ua = fields.get("target_ua", 0)
            cmd.slew_na_per_s = fields.get("slew_na_per_s", 0)
            cmd.on = fields.get("on", 0)
            cmd.polarity = fields.get("polarity", 1)
            status = lib.rt_post(cmd, self._seq)
            if status != lib.REG_OK:
                raise CommandRejected(status, f"ops={ops!r} is out of range")
            seq = self._seq[0]
            if ops != lib.RT_OP_KICK:
                self.posts_made += 1
                self._post_seqs.append((self.posts_made, int(seq)))
            end = time.monotonic() + ACK_TIMEOUT_S
            while True:
                st = self.status()
                if st.applied_seq == seq:
                    if self._first_applied is None:
                        # the session's rows start at its first command: the
                        # ticks before ran with the output off (reg_init)
                        self._first_applied = int(st.loop_ticks) - 1
                    return list(st.results)
                if time.monotonic() > end or st.loop_fault != lib.RT_FAULT_NONE:
                    raise LoopNotResponding(lib.RT_ERR_STATE,
                                            f"the regulation loop did not apply the command within "
                                            f"{ACK_TIMEOUT_S * 1000:g} ms (loop fault {st.loop_fault})")
                time.sleep(0.0002)

    # -- Device ----------------------------------------------------------------
    def command(self, target_ma: float, slew_ma_per_s: float) -> None:
        target = _to_c("target_ma", target_ma)
        slew = _to_c("slew_ma_per_s", slew_ma_per_s)
        bad_target = not lib.REG_TARGET_MIN_UA <= target <= lib.REG_TARGET_MAX_UA
        bad_slew = not lib.REG_SLEW_MIN_NA_PER_S <= slew <= lib.REG_SLEW_MAX_NA_PER_S
        if bad_target or bad_slew:   # nothing is posted for a value out of range
            from core.regulator import _range_text
            name, value = ("target_ma", target_ma) if bad_target else ("slew_ma_per_s", slew_ma_per_s)
            raise CommandRejected(lib.REG_ERR_RANGE, f"{name}={value!r} is out of range: {_range_text(name)}")
        self._result(self._post(lib.RT_OP_COMMAND, target_ua=target, slew_na_per_s=slew), lib.RT_OP_COMMAND)

    def enable_output(self, on: bool) -> None:
        on_c = _to_bool("on", on)
        # an enable carries its kick: the tick that enables also restarts the watchdog
        ops = lib.RT_OP_ENABLE | (lib.RT_OP_KICK if on_c and self._kicks_allowed() else 0)
        results = self._post(ops, on=on_c)
        status = results[_RESULT_INDEX[lib.RT_OP_ENABLE]]
        # refused as in simulation: the same exceptions and messages
        _enable_status(status, self.status().fault if status == lib.REG_ERR_FAULT_LATCHED else 0, on)

    def arm(self, answers) -> None:
        """The checklist's raw answers to the loop through the mailbox, judged
        there at the start of a tick (SRS-306, SRS-307)."""
        _arm_status(self._post(lib.RT_OP_ARM, checklist=checklist_message(answers))[_RESULT_INDEX[lib.RT_OP_ARM]])

    def disarm(self) -> None:
        """The session ended: output off and the arm ended (SRS-307)."""
        self._result(self._post(lib.RT_OP_DISARM), lib.RT_OP_DISARM)

    def set_polarity(self, polarity: Polarity) -> None:
        if isinstance(polarity, bool) or not isinstance(polarity, int) or polarity not in (1, -1):
            raise CommandRejected(lib.REG_ERR_RANGE, f"polarity={polarity!r} is out of range: allowed "
                                                     "Polarity.NORMAL (1) or REVERSED (-1)")
        results = self._post(lib.RT_OP_POLARITY, polarity=int(polarity))
        if results[_RESULT_INDEX[lib.RT_OP_POLARITY]] == lib.REG_ERR_POLARITY_REFUSED:
            st = self.status()
            raise PolarityChangeRefused(
                lib.REG_ERR_POLARITY_REFUSED,
                f"polarity={Polarity(polarity).name} refused: the output must be off and the current below "
                f"{LIMITS.zero_current_ma:g} mA (output {'on' if st.enabled else 'off'}, measured "
                f"{st.measured_ua / 1000:g} mA)")
        self._result(results, lib.RT_OP_POLARITY)

    def kick_watchdog(self) -> None:
        if self._kicks_allowed():
            self._kick()

    def _kick(self) -> None:
        try:
            self._post(lib.RT_OP_KICK)
        except LoopNotResponding:
            pass   # a lost kick errs on the safe side: the watchdog trips (SRS-015)

    def reset_fault(self) -> None:
        results = self._post(lib.RT_OP_RESET)
        if results[_RESULT_INDEX[lib.RT_OP_RESET]] == lib.REG_ERR_RESET_REFUSED:
            raise ResetRefused(lib.REG_ERR_RESET_REFUSED, f"reset refused: current must be below "
                                                          f"{LIMITS.zero_current_ma:g} mA (measured "
                                                          f"{self.status().measured_ua / 1000:g} mA)")
        self._result(results, lib.RT_OP_RESET)

    def search_contact(self) -> None:
        # refused as in simulation (SRS-216): the same exception and message
        results = self._post(lib.RT_OP_SEARCH)
        status = results[_RESULT_INDEX[lib.RT_OP_SEARCH]]
        if status == lib.REG_ERR_FAULT_LATCHED:
            raise FaultLatched(status, f"contact search refused: fault {FaultCode(self.status().fault).name} "
                                       "is latched")
        if status == lib.REG_ERR_RANGE:
            raise CommandRejected(status, "contact search refused: the output is not enabled")
        self._result(results, lib.RT_OP_SEARCH)

    @property
    def loop_ticks(self) -> int:
        ticks = int(self.status().loop_ticks)
        if not self._started:
            self._ticks_read = ticks
        return ticks

    def disconnect_output(self) -> None:
        lib.rt_disconnect()

    def advance(self, max_rows: int, ticks_per_row: int) -> RowBatch:
        """The next rows as the loop runs them: returns when `max_rows` rows of
        `ticks_per_row` ticks have run, early after a row with an event, or,
        if the loop stops ticking, after the wall time of the rows asked for
        (plus 20 ms) with the rows that time covers and the loop's own tick
        count, so that the supervisor's liveness check sees the stall."""
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or not 1 <= max_rows <= 2_000_000:
            raise CommandRejected(lib.REG_ERR_RANGE, f"max_rows={max_rows!r} is out of range: allowed 1 to "
                                                     "2000000 rows")
        if (isinstance(ticks_per_row, bool) or not isinstance(ticks_per_row, int)
                or not 1 <= ticks_per_row <= lib.RT_MAX_TICKS_PER_ROW):
            raise CommandRejected(lib.REG_ERR_RANGE, f"ticks_per_row={ticks_per_row!r} is out of range: "
                                                     f"allowed 1 to {lib.RT_MAX_TICKS_PER_ROW} ticks")
        rows = ffi.new("rt_row_t[]", max_rows)
        if not self._started:
            # the rows start where the caller last read loop_ticks: the supervisor
            # reads it at Start, beside its monotonic clock's zero, so its liveness
            # check counts the ticks from there (rows from the first command
            # instead made the first batch 5..10 ticks long on a loaded machine,
            # a false clock_drift fault at Start; and a command before Start, such
            # as the reversed polarity, made it short). Without a read: the first command.
            self._started = True
            begin = self._ticks_read if self._ticks_read is not None else self._first_applied
            if begin is not None:
                self._next_tick = max(self._next_tick, begin)
        start = time.monotonic()
        wall_s = max_rows * ticks_per_row / self.tick_hz
        b = self._batch
        while True:
            status = lib.rt_rows(self._next_tick, ticks_per_row, max_rows, 1, rows, b)
            if status != lib.REG_OK:
                raise LoopNotResponding(status, f"rows from tick {self._next_tick} were overwritten before "
                                                "they were read (the reader fell 6.5 s behind)")
            done = b.rows_run == max_rows or (b.rows_run > 0 and rows[b.rows_run - 1].events != 0)
            elapsed = time.monotonic() - start
            if done:
                break
            if elapsed > wall_s + _STALL_EXTRA_S:
                return self._stalled_batch(rows, b, ticks_per_row, max_rows, elapsed)
            # the supervisor is alive while it waits: it kicks at each poll, as
            # SimulatedDevice kicks at each row (a stalled supervisor's kicks stop)
            st = self.status()
            if self._kicks_allowed() and st.loop_fault == lib.RT_FAULT_NONE:
                self._kick()
            # wake when the rows asked for are due, so that the supervisor's
            # next command lands close to the row boundary it decided at
            due_s = (self._next_tick + max_rows * ticks_per_row - int(st.loop_ticks)) / self.tick_hz
            time.sleep(min(_POLL_S, max(_FINE_POLL_S, due_s)))
        from_tick = self._next_tick
        # the loop's own tick number at the end of these rows (the records are
        # stamped by the tick): what the supervisor's liveness check compares
        self._next_tick = int(b.next_tick)
        batch = RowBatch(rows, b.rows_run, b.events, b.charge_uas / 1000, b.max_current_ua / 1000,
                         ticks_per_row, self._next_tick)
        self._mark_decision(batch, rows, from_tick, ticks_per_row)
        return batch

    def _mark_decision(self, batch: RowBatch, rows, from_tick: int, tpr: int) -> None:
        """SRS-316: a post lands at the start of the tick after it, so the rows
        the supervisor reads after a decision may still have run under the
        posts before it. The batch says how many posts its last row had
        applied (posts_applied) and, when the last of those was applied within this batch, the
        reference after the tick that applied it (decision_reference_ma) and,
        when that was in the last row, the row's mean current from that tick
        on (decision_mean_current_ma: the row's own mean covers its ticks
        before it too)."""
        n = int(batch.rows_run)
        applied, seq = self._posts_applied(int(rows[n - 1].applied_seq))
        batch.posts_applied = applied
        if applied == self._rows_applied:
            return   # no post was applied within this batch
        self._rows_applied = applied
        if seq is None:
            return
        first = next(i for i in range(n) if not _seq_before(int(rows[i].applied_seq), seq))
        ticks = ffi.new("rt_row_t[]", tpr)
        one = ffi.new("rt_batch_t *")
        if lib.rt_rows(from_tick + first * tpr, 1, tpr, 0, ticks, one) != lib.REG_OK or one.rows_run != tpr:
            return   # records overwritten: the fall is judged from the row before
        k = next(i for i in range(tpr) if not _seq_before(int(ticks[i].applied_seq), seq))
        batch.decision_reference_ma = ticks[k].reference_ua / 1000
        if first == n - 1:
            # the last row ran its first k ticks under the posts before: its
            # current from the tick that applied them on, for the off rule
            after_ua = sum(ticks[i].mean_current_ua for i in range(k, tpr)) / (tpr - k)
            batch.decision_mean_current_ma = after_ua / 1000

    def _posts_applied(self, row_seq: int) -> tuple[int, int | None]:
        """How many posts a row whose tick had applied mailbox sequence
        `row_seq` had applied, with the last one's sequence (older than the
        posts kept: one fewer than the oldest kept, which the supervisor
        treats as part of a decision, and no sequence)."""
        for count, seq in reversed(self._post_seqs):
            if not _seq_before(row_seq, seq):
                return count, seq
        return (self._post_seqs[0][0] - 1 if self._post_seqs else 0), None

    def _stalled_batch(self, rows, b, tpr: int, max_rows: int, elapsed: float) -> RowBatch:
        # the loop stopped: the rows the wall time covers, the last known
        # readings repeated, no current credited (the disconnect is the
        # supervisor's to open), the loop's own tick count
        n = max(1, min(max_rows, int(elapsed * self.tick_hz) // tpr))
        got = int(b.rows_run)
        for i in range(got, n):
            if got > 0:
                rows[i] = rows[got - 1]
            rows[i].ticks = tpr
            rows[i].events = 0
            rows[i].mean_current_ua = 0.0
            rows[i].peak_current_ua = 0.0
            rows[i].polarity = rows[i].polarity or 1
        self._next_tick = int(b.next_tick)
        return RowBatch(rows, n, b.events, b.charge_uas / 1000, b.max_current_ua / 1000, tpr, int(self.status().loop_ticks))

    # -- the simulated board's load events (scenarios and tests only) ----------
    def _load_event(self, event: int, arg: int = 0, arg2: int = 0) -> None:
        status = lib.hal_sim_post(event, arg, arg2)
        if status != lib.REG_OK:
            raise CommandRejected(status, f"load event {event} refused")
        done = ffi.new("uint32_t *")
        end = time.monotonic() + ACK_TIMEOUT_S
        while time.monotonic() < end:
            lib.hal_sim_event_done(done)
            if done[0]:
                return
            time.sleep(0.0002)
        raise LoopNotResponding(lib.RT_ERR_STATE, "the load event was not applied within "
                                                  f"{ACK_TIMEOUT_S * 1000:g} ms")

    def lift_off(self) -> None:
        self._load_event(lib.HAL_SIM_EV_LIFT_OFF)

    def contact(self) -> None:
        self._load_event(lib.HAL_SIM_EV_CONTACT)

    def short(self, ohms: float) -> None:
        c = _to_c("short_ohms", ohms)
        if not lib.SIM_SHORT_MIN_OHMS <= c <= lib.SIM_SHORT_MAX_OHMS:
            raise CommandRejected(lib.REG_ERR_RANGE, f"short_ohms={ohms!r} is out of range: allowed "
                                                     f"{lib.SIM_SHORT_MIN_OHMS} to {lib.SIM_SHORT_MAX_OHMS} ohm")
        self._load_event(lib.HAL_SIM_EV_SHORT, c)

    def change_load(self, ohms: float, over_s: float = 0.0) -> None:
        c = _to_c("load_ohms", ohms)
        ms = _to_c("over_s", over_s)
        if not lib.SIM_LOAD_MIN_OHMS <= c <= lib.SIM_LOAD_MAX_OHMS:
            raise CommandRejected(lib.REG_ERR_RANGE, f"load_ohms={ohms!r} is out of range: allowed "
                                                     f"{lib.SIM_LOAD_MIN_OHMS} to {lib.SIM_LOAD_MAX_OHMS} ohm")
        if not 0 <= ms <= lib.SIM_CHANGE_MAX_MS:
            raise CommandRejected(lib.REG_ERR_RANGE, f"over_s={over_s!r} is out of range: allowed 0 to "
                                                     f"{lib.SIM_CHANGE_MAX_MS / 1000:g} s")
        self._load_event(lib.HAL_SIM_EV_CHANGE_LOAD, c, ms)

    def stick_sensor(self, channel: int, current_ma: float) -> None:
        if isinstance(channel, bool) or channel not in (0, 1):
            raise CommandRejected(lib.REG_ERR_RANGE, f"channel={channel!r} is out of range: allowed 0 to 1")
        ua = _to_c("current_ma", current_ma)
        if not lib.REG_ADC_CURRENT_MIN_UA <= ua <= lib.REG_ADC_CURRENT_MAX_UA:
            from core.regulator import _range_text
            raise CommandRejected(lib.REG_ERR_RANGE, f"current_ma={current_ma!r} is out of range: "
                                                     f"{_range_text('current_ma')}")
        self._load_event(lib.HAL_SIM_EV_STICK_SENSOR, channel, ua)

    def stall(self, ms: float) -> None:
        """The supervisor's kicks stop arriving for `ms` (a stalled supervisor)."""
        c_ms = _to_c("stall_ms", ms)
        if not 0 <= c_ms <= lib.SIM_STALL_MAX_MS:
            raise CommandRejected(lib.REG_ERR_RANGE, f"stall_ms={ms!r} is out of range: allowed 0 to "
                                                     f"{lib.SIM_STALL_MAX_MS} ms")
        self._stall_until = time.monotonic() + c_ms / 1000.0

    def _kicks_allowed(self) -> bool:
        return time.monotonic() >= self._stall_until

    def stop_ticks(self) -> None:
        """The runner stops ticking (fault injection: a stall of 1 s inside a tick)."""
        lib.rt_inject_stall(1, 1_000_000)

    @staticmethod
    def _result(results: list[int], op: int) -> None:
        status = results[_RESULT_INDEX[op]]
        if status != lib.REG_OK:
            raise RegulatorError(status, f"the regulator refused the command (status {status})")


def _seq_before(seq: int, decision: int) -> bool:
    """The mailbox sequence `seq` is older than `decision` (32-bit, wrapping)."""
    return ((seq - decision) & 0xFFFFFFFF) >= 0x80000000


def _warn(text: str) -> None:
    print(text, file=sys.stderr)
