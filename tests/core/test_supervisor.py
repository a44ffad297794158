"""The supervisor runs a whole session on the simulated device and enforces the
machine's output table at every step (SRS-060, SRS-065..SRS-069)."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from core.device import Device, SimulatedDevice
from core.history import History
from core.machine import OutputPermission, TherapyMachine
from core.regulator import Polarity
from core.supervisor import (FAULT_RAMP_OVERRUN, FAULT_TABLE_VIOLATION, REALTIME_MAX_ROWS, MonotonicClock,
                             Supervisor)
from tests.core._session_kit import (PASSED_CHECKLIST, LIMITS, MIN_MINUTES, ROW_S, ZERO_MA, RowLog, run_session,
                                     settings, table_violations)

SET_S = MIN_MINUTES * 60


@pytest.fixture(scope="module")
def plain():
    """One completed 10-minute hands session at 15 mA, 30 s ramps."""
    return run_session()


@pytest.mark.req("SRS-060", "SRS-065")
def test_completed_session_visits_the_states_in_order_and_treats_the_set_time(plain):
    result, rows, _ = plain
    assert result.outcome == "completed" and result.fault is None
    assert result.states == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    assert abs(result.treat_s - SET_S) <= ROW_S
    # ramp 30 s + treat + ramp down 30 s: the timer counted treat only
    assert result.elapsed_s == pytest.approx(30 + SET_S + 30, abs=0.1)
    treat_rows_s = sum(row.r.ticks for row in rows if row.state == "treat") / 10_000
    assert abs(treat_rows_s - SET_S) <= ROW_S


@pytest.mark.req("SRS-060", "SRS-085")
def test_every_row_obeys_the_output_table_and_rows_are_at_most_10ms_apart(plain):
    result, rows, _ = plain
    assert table_violations(rows, 15.0) == []
    gaps = [b.t_s - a.t_s for a, b in zip(rows, rows[1:])]
    assert rows[0].t_s <= ROW_S and max(gaps) <= ROW_S + 1e-9
    assert abs(rows[-1].r.mean_current_ma) <= ZERO_MA and abs(rows[-1].r.peak_current_ma) <= ZERO_MA


@pytest.mark.req("SRS-068")
def test_delivered_charge_and_max_current(plain):
    result, rows, _ = plain
    # 15 mA for 10 min plus two 30 s linear ramps (mean 7.5 mA): 150 + 3.75 + 3.75 mA*min
    assert result.delivered_mamin == pytest.approx(157.5, rel=0.01)
    peak = max(row.r.peak_current_ma for row in rows)
    assert result.max_current_ma == pytest.approx(peak, abs=1e-9)
    # SRS-003: never more than 2 % + 0.1 mA above the reference (15 mA at most)
    assert 15.0 <= result.max_current_ma <= 15.0 * 1.02 + 0.1


@pytest.mark.req("SRS-068", "SRS-071")
def test_history_row_written_at_start_and_updated_at_end(tmp_path: Path):
    db = tmp_path / "h.sqlite"
    seen_at_start: list[tuple] = []

    class Peek:
        def batch(self, start_tick, state, rowbatch, sup):
            if not seen_at_start:  # read by another connection: the row is committed
                with sqlite3.connect(db) as con:
                    seen_at_start.extend(con.execute("SELECT id, outcome FROM sessions").fetchall())

    with History(db) as history:
        sup = Supervisor(SimulatedDevice(seed=1), settings(), observers=[Peek()], history=history,
                         checklist=PASSED_CHECKLIST)
        result = sup.run()
        records = history.list_sessions()
    assert seen_at_start == [(result.session_id, "interrupted")]
    assert len(records) == 1
    rec = records[0]
    assert rec.outcome == "completed" and rec.faults == []
    assert rec.delivered_mamin == pytest.approx(result.delivered_mamin)
    assert rec.max_current_ma == pytest.approx(result.max_current_ma)
    assert rec.treat_s == pytest.approx(result.treat_s)
    assert rec.states == result.states


@pytest.mark.req("SRS-066")
def test_half_time_reversal_ramps_down_switches_at_zero_and_never_back():
    result, rows, sup = run_session(reverse_polarity=True)
    assert result.outcome == "completed"
    assert result.states == ["idle", "checklist", "ramp", "treat", "reverse_down",
                             "polarity_switch", "ramp", "treat", "ramp_down", "idle"]
    assert result.polarity_switches == 1
    changes = [i for i in range(1, len(rows)) if rows[i].r.polarity != rows[i - 1].r.polarity]
    assert len(changes) == 1  # switched once, never back
    i = changes[0]
    assert rows[0].r.polarity == Polarity.NORMAL and rows[-1].r.polarity == Polarity.REVERSED
    # the switch happened after a row with the output off and |I| <= 0.1 mA all
    # through it; the first reversed row ramps up again from 0
    before, after = rows[i - 1], rows[i]
    assert before.state == "polarity_switch" and not before.r.output_enabled
    assert abs(before.r.peak_current_ma) <= ZERO_MA and abs(before.r.mean_current_ma) <= ZERO_MA
    assert after.state == "ramp" and after.r.reference_ma <= 0.5 * ROW_S + 1e-6
    assert abs(after.r.peak_current_ma) <= after.r.reference_ma * 1.02 + ZERO_MA
    # at half time: treat rows before the switch add up to half the set time
    treat_before_s = sum(row.r.ticks for row in rows[:i] if row.state == "treat") / 10_000
    assert abs(treat_before_s - SET_S / 2) <= ROW_S
    assert abs(result.treat_s - SET_S) <= ROW_S
    assert table_violations(rows, 15.0) == []


class _Spy:
    """A Device that records each command with the machine state it came in."""

    def __init__(self, inner: SimulatedDevice) -> None:
        self.inner, self.calls, self.sup = inner, [], None
        for name in ("tick_hz", "hard_limit_ma", "compliance_v", "watchdog_ms"):
            setattr(self, name, getattr(inner, name))

    def _log(self, *call):
        self.calls.append((self.sup.state if self.sup else "idle", *call))

    def command(self, target_ma, slew):
        self._log("command", target_ma, slew)
        self.inner.command(target_ma, slew)

    def enable_output(self, on):
        self._log("enable_output", on)
        self.inner.enable_output(on)

    def set_polarity(self, polarity):
        self._log("set_polarity", polarity)
        self.inner.set_polarity(polarity)

    def kick_watchdog(self):
        self.inner.kick_watchdog()

    def reset_fault(self):
        self._log("reset_fault")
        self.inner.reset_fault()

    def advance(self, max_rows, ticks_per_row):
        return self.inner.advance(max_rows, ticks_per_row)

    def __getattr__(self, name):  # load events of the simulated device
        return getattr(self.inner, name)


@pytest.mark.req("SRS-060", "SRS-058")
def test_commands_follow_the_output_table_of_the_state_they_are_given_in():
    spy = _Spy(SimulatedDevice(seed=2))
    scenario = [{"at_s": 60, "event": "lift_off"}, {"at_s": 70, "event": "contact"},
                {"at_s": 500, "event": "stop"}]
    result, rows, sup = run_session(scenario, device=spy, reverse_polarity=True)
    assert result.outcome == "stopped"
    assert isinstance(spy, Device)
    for state, method, *args in spy.calls:
        permission = TherapyMachine.OUTPUT_TABLE[state]
        if method == "enable_output" and args[0]:
            assert permission in (OutputPermission.RISING, OutputPermission.HOLDING), state
        if method == "command":
            target_ma, slew = args
            if permission in (OutputPermission.RISING, OutputPermission.HOLDING):
                assert target_ma == 15.0 and slew == pytest.approx(15.0 / 30.0)
            else:
                assert target_ma == 0.0, state
        if method == "set_polarity":
            assert state == "polarity_switch"
    assert ("polarity_switch", "enable_output", False) in spy.calls
    assert ("paused", "command", 0.0, pytest.approx(0.5)) in spy.calls
    assert spy.calls[-2:] == [("idle", "enable_output", False), ("idle", "command", 0.0, 0.5)]


class _StuckOn(_Spy):
    """A device whose output ignores being switched off: the supervisor must see it."""

    def enable_output(self, on):
        self._log("enable_output", on)
        if on:
            self.inner.enable_output(True)


@pytest.mark.req("SRS-060")
def test_output_seen_on_where_the_table_says_off_is_a_fault():
    spy = _StuckOn(SimulatedDevice(seed=3))
    result, rows, sup = run_session(device=spy, reverse_polarity=True)
    assert result.outcome == "fault" and result.fault == FAULT_TABLE_VIOLATION
    assert result.states[-2:] == ["polarity_switch", "fault"]
    # caught after the first row in polarity_switch, before any swap
    first_off = next(i for i, r in enumerate(rows) if r.state == "polarity_switch")
    first_fault = next(i for i, r in enumerate(rows) if r.state == "fault")
    assert first_fault - first_off == 1
    assert all(r.r.polarity == Polarity.NORMAL for r in rows)


class _IgnoresZero(_Spy):
    """A device that keeps the old target when told 0: ramp-down would not fall."""

    def command(self, target_ma, slew):
        self._log("command", target_ma, slew)
        if target_ma > 0:
            self.inner.command(target_ma, slew)


@pytest.mark.req("SRS-060", "SRS-054")
def test_target_not_falling_in_ramp_down_is_a_fault_and_the_output_goes_off():
    spy = _IgnoresZero(SimulatedDevice(seed=4))
    result, rows, sup = run_session([{"at_s": 100, "event": "stop"}], device=spy)
    assert result.outcome == "fault" and result.fault == FAULT_TABLE_VIOLATION
    first_fault = next(i for i, r in enumerate(rows) if r.state == "fault")
    assert rows[first_fault].t_s - 100 <= 2 * ROW_S
    assert all(not r.r.output_enabled for r in rows[first_fault:])


class _CommandsLess(_Spy):
    """A device that commands slightly less than asked: its reference never
    reaches the set current, so the ramp would never complete."""

    def command(self, target_ma, slew):
        self._log("command", target_ma, slew)
        self.inner.command(target_ma * 0.99, slew)


@pytest.mark.req("SRS-065", "SRS-060")
def test_a_ramp_that_never_completes_is_a_fault_after_ramp_up_plus_the_overrun():
    # supervisor safety review F1: a ramp without end would deliver current with
    # the treatment timer stopped, for ever
    spy = _CommandsLess(SimulatedDevice(seed=5))
    result, rows, sup = run_session(device=spy, ramp_up_s=30.0)
    assert result.outcome == "fault" and result.fault == FAULT_RAMP_OVERRUN
    assert result.treat_s == 0.0
    first_fault = next(r for r in rows if r.state == "fault")
    limit_s = 30.0 + LIMITS.ramp_overrun_s
    assert limit_s <= first_fault.t_s <= limit_s + 2 * ROW_S
    assert all(not r.r.output_enabled for r in rows if r.state == "fault")


@pytest.mark.req("SRS-065")
@pytest.mark.parametrize("current_ma", [12.35, 1.01, 24.99])
def test_a_current_in_0_01_ma_steps_completes_the_set_time(current_ma):
    result, rows, sup = run_session(current_ma=current_ma)
    assert result.outcome == "completed"
    assert result.treat_s == pytest.approx(MIN_MINUTES * 60.0, abs=ROW_S)
    treat = [r.r.reference_ma for r in rows if r.state == "treat"]
    assert treat and all(abs(ref - current_ma) < 1e-9 for ref in treat)


@pytest.mark.req("SRS-069")
def test_realtime_clock_paces_the_session_to_the_monotonic_clock():
    now = [1000.0]
    sleeps: list[float] = []

    def sleep(d: float) -> None:
        sleeps.append(d)
        now[0] += d

    log = RowLog()
    clock = MonotonicClock(sleep=sleep, now=lambda: now[0])
    sup = Supervisor(SimulatedDevice(seed=1), settings(), clock=clock, realtime=True,
                     observers=[log], checklist=PASSED_CHECKLIST)
    result = sup.run()
    assert result.outcome == "completed"
    assert now[0] - 1000.0 == pytest.approx(result.elapsed_s, abs=1e-6)
    # batches of at most REALTIME_MAX_ROWS rows: the clock is consulted every 100 ms
    assert len(sleeps) >= result.elapsed_s / (REALTIME_MAX_ROWS * ROW_S) - 1
    assert max(sleeps) <= REALTIME_MAX_ROWS * ROW_S + 1e-9


@pytest.mark.req("SRS-067")
def test_simulated_device_is_a_device_and_the_default():
    assert isinstance(SimulatedDevice(seed=0), Device)
    cli = Path(__file__).parents[2] / "core" / "cli.py"
    assert "SimulatedDevice(seed=args.seed)" in cli.read_text()


@pytest.mark.req("SRS-060")
def test_no_module_but_the_supervisor_commands_the_device():
    core = Path(__file__).parents[2] / "core"
    pattern = re.compile(r"\.(command|enable_output|set_polarity|reset_fault|kick_watchdog)\(")
    allowed = {"supervisor.py", "device.py", "regulator.py"}
    offenders = [str(p.relative_to(core)) for p in core.rglob("*.py")
                 if p.name not in allowed and pattern.search(p.read_text())]
    assert offenders == []


# ---------------------------------------------------------------- no session without a passed checklist
@pytest.mark.req("SRS-093")
def test_the_supervisor_refuses_to_run_without_a_passed_checklist():
    """Independent review of issue 8 (PR-029): through the Python API a
    Supervisor without a checklist ran and recorded a completed session.
    Now the constructor refuses, naming the field, before the device is
    touched; a checklist whose answers fail is refused the same way."""
    from dataclasses import replace as dc_replace

    from core.checklist import ChecklistAnswers, ChecklistRecord

    class Untouchable(SimulatedDevice):
        def enable_output(self, *a, **k):  # pragma: no cover - must never be called
            raise AssertionError("the output was enabled")

    dev = Untouchable(seed=1)
    for bad in (None, "file", {"contraindications": {}, "preparation": {}}):
        with pytest.raises(ValueError, match=r"^checklist: a ChecklistRecord whose answers pass is required"):
            Supervisor(dev, settings(), checklist=bad)
    answers = PASSED_CHECKLIST.answers
    contraindicated = dict(answers.contraindications)
    first = next(iter(contraindicated))
    contraindicated[first] = True        # one contraindication present
    failing = ChecklistRecord(mode="asked", answers=ChecklistAnswers(contraindicated, dict(answers.preparation)))
    with pytest.raises(ValueError, match=r"^checklist: refused: .*nothing was energised$"):
        Supervisor(dev, settings(), checklist=failing)
    assert dev.loop_ticks == 0
    # the passed record is accepted and kept for the history
    assert Supervisor(SimulatedDevice(seed=1), settings(), checklist=dc_replace(PASSED_CHECKLIST)).checklist \
        == PASSED_CHECKLIST
