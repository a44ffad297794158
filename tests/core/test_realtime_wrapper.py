"""RealtimeDevice's own decisions (core/realtime.py, SRS-216) given what the
runner reports, on any machine: the tick's results as exceptions, the rows
of `advance` (whole, early at an event, padded after a stall, lost), the
commands it posts, and its start-up refusals.

The runner's answers are fixed here: the device's `_post` and `status`, or
the module's `lib.rt_rows` and `lib.hal_sim_event_done`, are replaced for
one test. tests/core/test_cov_realtime.py runs the same paths on the ticking
runner, but it skips when this VM wakes the loop later than SRS-214's bound;
these do not depend on the machine's timing (the coverage gate's floor for
core/realtime.py rests on them)."""
from __future__ import annotations

import re
import time

import pytest

from core import realtime
from core.realtime import LoopNotResponding, RealtimeDevice
from core.regulator import (CommandRejected, FaultCode, FaultLatched, NotArmed, Polarity,
                            PolarityChangeRefused, RegulatorError, ResetRefused, ffi, lib)

OPS = {"reset": lib.RT_OP_RESET, "polarity": lib.RT_OP_POLARITY, "command": lib.RT_OP_COMMAND,
       "enable": lib.RT_OP_ENABLE, "search": lib.RT_OP_SEARCH, "kick": lib.RT_OP_KICK,
       "arm": lib.RT_OP_ARM, "disarm": lib.RT_OP_DISARM}


def results_with(op: int, code: int) -> list[int]:
    """The tick's results: REG_OK but `code` for `op`, at the op's bit
    position (runner.h: "in RT_OP_* bit order")."""
    out = [lib.REG_OK] * lib.RT_OP_COUNT
    out[op.bit_length() - 1] = code
    return out


class Lib:
    """The module's `lib` with some functions replaced."""

    def __init__(self, real, **replaced) -> None:
        self._real, self._replaced = real, replaced

    def __getattr__(self, name):
        return self._replaced.get(name) or getattr(self._real, name)


@pytest.fixture
def dev():
    d = RealtimeDevice(seed=1, realtime_priority=False)
    yield d
    d.close()


@pytest.fixture
def posted(dev):
    """Replace the device's mailbox: records (ops, fields), answers with
    `posted.results` and a status with `posted.status` fields."""
    class Mailbox:
        results = [lib.REG_OK] * lib.RT_OP_COUNT
        calls: list = []
        status = ffi.new("rt_status_t *")

    box = Mailbox()
    box.calls = []

    def post(ops, checklist=None, **fields):
        box.calls.append((ops, fields))
        return list(box.results)

    dev._post = post
    dev.status = lambda: box.status
    return box


# --- the tick's results as the simulation's exceptions -----------------------------------
@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("code, fault, exc, text", [
    (lib.REG_ERR_FAULT_LATCHED, FaultCode.SHORT, FaultLatched,
     "output cannot be enabled: fault SHORT is latched; reset_fault() with no current flowing first"),
    (lib.REG_ERR_FAULT_LATCHED, FaultCode.WATCHDOG, FaultLatched,
     "output cannot be enabled: fault WATCHDOG is latched; reset_fault() with no current flowing first"),
    (lib.REG_ERR_NOT_ARMED, FaultCode.NONE, NotArmed,
     "output cannot be enabled: no checklist arm in this session; arm(answers) with the checklist's "
     "answers first (SRS-307)"),
])
def test_an_enable_refused_by_the_tick_raises_as_in_simulation(dev, posted, code, fault, exc, text):
    posted.results = results_with(lib.RT_OP_ENABLE, code)
    posted.status.fault = fault
    with pytest.raises(exc, match=re.escape(text)) as raised:
        dev.enable_output(True)
    assert raised.value.code == code


@pytest.mark.req("SRS-216", "SRS-015")
def test_an_enable_carries_a_kick_only_when_on_and_the_supervisor_is_not_stalled(dev, posted):
    dev.enable_output(True)
    dev.enable_output(False)
    dev.stall(1000)                     # the supervisor's kicks stop for 1 s
    dev.enable_output(True)
    dev.kick_watchdog()                 # stalled: nothing posted
    assert [ops for ops, _ in posted.calls] == [lib.RT_OP_ENABLE | lib.RT_OP_KICK, lib.RT_OP_ENABLE,
                                                lib.RT_OP_ENABLE]
    assert [f["on"] for _, f in posted.calls] == [1, 0, 1]
    dev.stall(0)
    dev.kick_watchdog()
    assert posted.calls[-1] == (lib.RT_OP_KICK, {})


@pytest.mark.req("SRS-216", "SRS-015")
def test_a_kick_the_loop_does_not_take_is_lost_without_an_error(dev):
    posted = []

    def never_applied(ops, checklist=None, **fields):
        posted.append(ops)
        raise LoopNotResponding(lib.RT_ERR_STATE, "not applied")
    dev._post = never_applied
    dev.kick_watchdog()                 # the watchdog errs safe: it trips
    assert posted == [lib.RT_OP_KICK]   # the kick was sent


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("enabled, measured_ua, shown", [(1, 734, "output on, measured 0.734 mA"),
                                                        (0, 120, "output off, measured 0.12 mA")])
def test_a_polarity_change_refused_by_the_tick_names_the_output_and_the_current(dev, posted, enabled,
                                                                                measured_ua, shown):
    posted.results = results_with(lib.RT_OP_POLARITY, lib.REG_ERR_POLARITY_REFUSED)
    posted.status.enabled, posted.status.measured_ua = enabled, measured_ua
    with pytest.raises(PolarityChangeRefused, match=re.escape(
            f"polarity=REVERSED refused: the output must be off and the current below 0.1 mA ({shown})")):
        dev.set_polarity(Polarity.REVERSED)
    assert posted.calls == [(lib.RT_OP_POLARITY, {"polarity": -1})]


@pytest.mark.req("SRS-216")
def test_a_reset_refused_by_the_tick_names_the_measured_current(dev, posted):
    posted.results = results_with(lib.RT_OP_RESET, lib.REG_ERR_RESET_REFUSED)
    posted.status.measured_ua = 5000
    with pytest.raises(ResetRefused, match=re.escape("reset refused: current must be below 0.1 mA "
                                                     "(measured 5 mA)")) as raised:
        dev.reset_fault()
    assert raised.value.code == lib.REG_ERR_RESET_REFUSED


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("code, exc, text", [
    (lib.REG_ERR_FAULT_LATCHED, FaultLatched, "contact search refused: fault SENSOR_FROZEN is latched"),
    (lib.REG_ERR_RANGE, CommandRejected, "contact search refused: the output is not enabled"),
])
def test_a_contact_search_refused_by_the_tick_says_why(dev, posted, code, exc, text):
    posted.results = results_with(lib.RT_OP_SEARCH, code)
    posted.status.fault = FaultCode.SENSOR_FROZEN
    with pytest.raises(exc, match=re.escape(text)):
        dev.search_contact()


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("name, call", [
    ("polarity", lambda d: d.set_polarity(Polarity.NORMAL)),
    ("reset", lambda d: d.reset_fault()),
    ("search", lambda d: d.search_contact()),
    ("command", lambda d: d.command(1.0, 5.0)),
    ("disarm", lambda d: d.disarm()),
])
def test_any_other_refusal_of_the_tick_raises_with_its_status(dev, posted, name, call):
    posted.results = results_with(OPS[name], lib.REG_ERR_NULL)
    with pytest.raises(RegulatorError, match=re.escape(
            f"the regulator refused the command (status {lib.REG_ERR_NULL})")) as raised:
        call(dev)
    assert raised.value.code == lib.REG_ERR_NULL
    posted.results = [lib.REG_OK] * lib.RT_OP_COUNT
    call(dev)                           # all REG_OK: taken without an error
    assert [ops for ops, _ in posted.calls] == [OPS[name]] * 2


@pytest.mark.req("SRS-216")
def test_a_command_posts_its_target_in_ua_and_slew_in_na_per_s(dev, posted):
    dev.command(12.34, 0.5)
    assert posted.calls == [(lib.RT_OP_COMMAND, {"target_ua": 12340, "slew_na_per_s": 500_000})]


# --- the mailbox itself ---------------------------------------------------------------------
@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("ops", [0, 1 << lib.RT_OP_COUNT, 0xFFFF_FFFF])
def test_ops_the_runner_refuses_are_an_error_naming_them(dev, ops):
    with pytest.raises(CommandRejected, match=re.escape(f"ops={ops!r} is out of range")):
        dev._post(ops)


@pytest.mark.req("SRS-216", "SRS-215")
@pytest.mark.parametrize("loop_fault", [lib.RT_FAULT_LATE, lib.RT_FAULT_STALLED])
def test_a_command_on_a_faulted_loop_is_not_responding_naming_the_fault(dev, loop_fault):
    faulted = ffi.new("rt_status_t *")
    faulted.loop_fault = loop_fault
    faulted.applied_seq = 0xFFFF_FFFF    # never the posted one
    dev.status = lambda: faulted
    t0 = time.monotonic()
    with pytest.raises(LoopNotResponding, match=re.escape(
            f"the regulation loop did not apply the command within 5 ms (loop fault {loop_fault})")):
        dev.command(1.0, 5.0)
    assert time.monotonic() - t0 < realtime.ACK_TIMEOUT_S   # a faulted loop is not waited for


@pytest.mark.req("SRS-216")
def test_a_command_never_applied_is_not_responding_after_the_ack_time_out(dev):
    silent = ffi.new("rt_status_t *")
    silent.applied_seq = 0xFFFF_FFFF
    dev.status = lambda: silent
    t0 = time.monotonic()
    with pytest.raises(LoopNotResponding, match=re.escape("(loop fault 0)")):
        dev.disarm()
    assert time.monotonic() - t0 >= realtime.ACK_TIMEOUT_S


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("event", [0, 99, -1])
def test_a_load_event_the_board_refuses_is_an_error(dev, event):
    with pytest.raises(CommandRejected, match=re.escape(f"load event {event} refused")):
        dev._load_event(event)


@pytest.mark.req("SRS-216")
def test_a_load_event_the_board_never_takes_is_not_responding(dev, monkeypatch):
    monkeypatch.setattr(realtime, "lib", Lib(lib, hal_sim_event_done=lambda done: None))
    with pytest.raises(LoopNotResponding, match=re.escape("the load event was not applied within 5 ms")):
        dev.lift_off()


# --- advance: the rows the runner reports -----------------------------------------------------
class Rows:
    """rt_rows answering from a script: each call gives rows_run rows (their
    events) and a status; the last entry repeats."""

    def __init__(self, script) -> None:
        self.script, self.calls = list(script), []

    def __call__(self, from_tick, tpr, max_rows, stop_on_event, rows, b):
        self.calls.append((from_tick, tpr, max_rows, stop_on_event))
        status, events = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        for i, ev in enumerate(events):
            rows[i].ticks, rows[i].events, rows[i].mean_current_ua = tpr, ev, 1000.0 + i
            rows[i].target_ua, rows[i].polarity = 1000, -1
        b.rows_run, b.events = len(events), 0
        for ev in events:
            b.events |= ev
        b.next_tick = from_tick + len(events) * tpr
        b.charge_uas, b.max_current_ua = 0.5, 1000.0 + len(events)
        return status


@pytest.mark.req("SRS-216")
def test_advance_returns_when_the_rows_asked_for_have_run_and_the_next_call_follows_on(dev, monkeypatch):
    rows = Rows([(lib.REG_OK, []), (lib.REG_OK, [0, 0, 0])])
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=rows))
    read = dev.loop_ticks                # the Start read: the rows begin there
    b = dev.advance(3, 100)
    assert (b.rows_run, b.ticks, b.loop_ticks) == (3, 300, read + 300)
    assert [r.mean_current_ma for r in b.rows()] == [1.0, 1.001, 1.002]
    assert (b.charge_mas, b.max_current_ma) == (0.0005, 1.003)
    dev.advance(3, 100)
    assert [c[0] for c in rows.calls] == [read, read, read + 300]   # polled until done, then on
    assert all(c[1:] == (100, 3, 1) for c in rows.calls)


@pytest.mark.req("SRS-216")
def test_advance_returns_early_after_a_row_with_an_event(dev, monkeypatch):
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.REG_OK, [0, lib.SIM_EVENT_CONTACT_LOST])])))
    t0 = time.monotonic()
    b = dev.advance(1000, 100)           # 10 s asked for
    assert time.monotonic() - t0 < 1.0
    assert b.rows_run == 2 and b.events == lib.SIM_EVENT_CONTACT_LOST


@pytest.mark.req("SRS-216", "SRS-215")
@pytest.mark.parametrize("ran", [0, 2])
def test_a_loop_that_stops_gives_the_rows_its_wall_time_covers_without_current(dev, monkeypatch, ran):
    """After the wall time of the rows asked for plus 20 ms: the rows run,
    then the last readings repeated (none: normal polarity, no target) with
    no current credited and no events, as many rows as asked for."""
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.REG_OK, [0] * ran)])))
    t0 = time.monotonic()
    b = dev.advance(5, 100)              # 50 ms asked for
    waited = time.monotonic() - t0
    assert waited >= 0.05 + realtime._STALL_EXTRA_S
    rows = list(b.rows())
    assert b.rows_run == 5 == len(rows)
    assert [r.mean_current_ma for r in rows[:ran]] == [1.0, 1.001][:ran]
    filler = rows[ran:]
    assert filler and all(r.mean_current_ma == 0.0 and r.peak_current_ma == 0.0 and r.events == 0
                          and r.ticks == 100 for r in filler)
    assert all(r.polarity == (Polarity.REVERSED if ran else Polarity.NORMAL) for r in filler)
    assert all(r.target_ma == (1.0 if ran else 0.0) for r in filler)
    assert b.charge_mas == 0.0005       # the runner's own total, not the filler's


@pytest.mark.req("SRS-216")
def test_rows_lost_from_the_ring_are_an_error_naming_the_tick(dev, monkeypatch):
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.RT_ERR_LOST, [])])))
    first = dev._next_tick
    with pytest.raises(LoopNotResponding, match=re.escape(
            f"rows from tick {first} were overwritten before they were read")) as raised:
        dev.advance(1, 100)
    assert raised.value.code == lib.RT_ERR_LOST


# --- start and stop ----------------------------------------------------------------------
@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("ohms", [99, 1_000_001])
def test_a_load_out_of_range_is_refused_before_the_runner_starts(ohms):
    with pytest.raises(CommandRejected, match=re.escape(
            f"load_ohms={ohms!r} is out of range: allowed 100 to 1000000 ohm")):
        RealtimeDevice(seed=1, load_ohms=ohms)
    RealtimeDevice(seed=1, realtime_priority=False).close()   # nothing left running


@pytest.mark.req("SRS-216")
def test_a_refused_priority_is_warned_on_stderr_when_no_warn_is_given(monkeypatch, capsys):
    normal = ffi.new("rt_status_t *")
    normal.loop_ticks = 1                # ticking, at normal priority
    monkeypatch.setattr(RealtimeDevice, "status", lambda self: normal)
    dev = RealtimeDevice(seed=1, realtime_priority=True)
    dev.close()
    assert dev.realtime is False
    assert capsys.readouterr().err == (
        "ionto: real-time priority not permitted (SCHED_FIFO refused, mlockall refused): the loop runs at "
        "normal priority; late ticks beyond 0.8 ms will stop the output (SRS-214)\n")


@pytest.mark.req("SRS-216")
def test_a_runner_that_never_ticks_is_stopped_and_the_start_fails_after_1_s(monkeypatch):
    still = ffi.new("rt_status_t *")     # loop_ticks stays 0
    with monkeypatch.context() as m:
        m.setattr(RealtimeDevice, "status", lambda self: still)
        t0 = time.monotonic()
        with pytest.raises(LoopNotResponding, match="the real-time runner did not tick within 1 s"):
            RealtimeDevice(seed=1, realtime_priority=False)
        assert 1.0 <= time.monotonic() - t0 < 3.0
    assert lib.rt_stop() != lib.REG_OK    # the failed start left nothing running
    RealtimeDevice(seed=1, realtime_priority=False).close()


@pytest.mark.req("SRS-216")
def test_closing_a_device_that_is_no_longer_the_active_one_stops_its_runner(monkeypatch):
    dev = RealtimeDevice(seed=1, realtime_priority=False)
    monkeypatch.setattr(realtime, "_active", None)
    dev.close()
    assert lib.rt_stop() != lib.REG_OK    # stopped
    assert realtime._active is None


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("call, event", [
    (lambda d: d.lift_off(), (lib.HAL_SIM_EV_LIFT_OFF, 0, 0)),
    (lambda d: d.contact(), (lib.HAL_SIM_EV_CONTACT, 0, 0)),
    (lambda d: d.short(1), (lib.HAL_SIM_EV_SHORT, 1, 0)),
    (lambda d: d.short(1000), (lib.HAL_SIM_EV_SHORT, 1000, 0)),
    (lambda d: d.change_load(100, over_s=0.0), (lib.HAL_SIM_EV_CHANGE_LOAD, 100, 0)),
    (lambda d: d.change_load(8000, over_s=2.5), (lib.HAL_SIM_EV_CHANGE_LOAD, 8000, 2500)),
    (lambda d: d.change_load(1_000_000, over_s=600), (lib.HAL_SIM_EV_CHANGE_LOAD, 1_000_000, 600_000)),
    (lambda d: d.stick_sensor(0, 0.0), (lib.HAL_SIM_EV_STICK_SENSOR, 0, 0)),
    (lambda d: d.stick_sensor(1, 50.0), (lib.HAL_SIM_EV_STICK_SENSOR, 1, 50_000)),
])
def test_a_load_event_in_range_reaches_the_board_in_its_units(dev, monkeypatch, call, event):
    sent = []

    def post(ev, arg, arg2):
        sent.append((ev, arg, arg2))
        return lib.REG_OK

    def done(out):
        out[0] = 1

    monkeypatch.setattr(realtime, "lib", Lib(lib, hal_sim_post=post, hal_sim_event_done=done))
    call(dev)
    assert sent == [event]


@pytest.mark.req("SRS-216", "SRS-015")
def test_advance_kicks_at_each_poll_unless_the_supervisor_is_stalled_or_the_loop_faulted(dev, monkeypatch):
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.REG_OK, []), (lib.REG_OK, []),
                                                                (lib.REG_OK, [0])])))
    ticking = ffi.new("rt_status_t *")   # a loop without a fault, whatever the machine did to the real one
    dev.status = lambda: ticking
    kicks = []
    dev._kick = lambda: kicks.append(1)
    dev.advance(1, 100)
    assert len(kicks) == 2               # two polls before the row came
    kicks.clear()
    dev.stall(1000)
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.REG_OK, []), (lib.REG_OK, [0])])))
    dev.advance(1, 100)
    assert kicks == []                   # a stalled supervisor does not kick
    dev.stall(0)
    faulted = ffi.new("rt_status_t *")
    faulted.loop_fault = lib.RT_FAULT_LATE
    dev.status = lambda: faulted
    monkeypatch.setattr(realtime, "lib", Lib(lib, rt_rows=Rows([(lib.REG_OK, []), (lib.REG_OK, [0])])))
    dev.advance(1, 100)
    assert kicks == []                   # nor into a faulted loop
