"""I/O failures during a session (review F2, F5): a failing observer (the trace
on a full disk) or history write never cuts the output abruptly; the session
ends with a controlled ramp-down, and a failed end-of-session write does not
change the outcome. Scenario events due during the polarity switch fire at
their tick."""
from __future__ import annotations

import sqlite3

import pytest

import core.supervisor as supervisor_mod
from core.device import SimulatedDevice
from core.history import History, HistoryError
from core.scenario import parse_scenario
from core.supervisor import Supervisor

from tests.core._session_kit import PASSED_CHECKLIST, REF_EPS_MA, ZERO_MA, RowLog, run_session, settings, table_violations

SET_MA = 15.0
RAMP_S = 30.0
FAIL_AT_TREAT_S = 60.0


class FailingObserver:
    """Raises OSError (ENOSPC) once the session has spent 60 s in treat."""

    def __init__(self) -> None:
        self.failed_at_s: float | None = None

    def batch(self, start_tick, state, rowbatch, sup) -> None:
        if self.failed_at_s is None and state == "treat" and sup.treat_s >= FAIL_AT_TREAT_S:
            self.failed_at_s = sup.elapsed_s
            raise OSError(28, "No space left on device")


def _ramp_down_rows(rows):
    return [row for row in rows if row.state == "ramp_down"]


@pytest.mark.req("SRS-054", "SRS-060")
def test_observer_failure_ends_with_a_controlled_ramp_down_not_a_cut():
    log, failing = RowLog(), FailingObserver()
    sup = Supervisor(SimulatedDevice(seed=1), settings(), observers=[log, failing], checklist=PASSED_CHECKLIST)
    result = sup.run()
    assert failing.failed_at_s is not None
    assert result.outcome == "stopped" and result.fault is None
    assert result.states[-3:] == ["treat", "ramp_down", "idle"]
    down = _ramp_down_rows(log.rows)
    # the ramp-down starts at the set current and falls monotonically to zero
    assert down[0].r.reference_ma >= SET_MA - 30 * 0.5 * 0.01 - REF_EPS_MA
    refs = [row.r.reference_ma for row in down]
    assert all(b <= a + REF_EPS_MA for a, b in zip(refs, refs[1:]))
    assert abs(down[-1].r.mean_current_ma) <= ZERO_MA
    # the fall takes the ramp-down time (30 s for 15 mA), not one row
    assert down[-1].t_s - down[0].t_s >= RAMP_S - 0.5
    assert table_violations(log.rows, SET_MA) == []
    # the failure is reported, and the failing observer is not called again
    assert len(result.io_errors) == 1 and "No space left on device" in result.io_errors[0]
    assert 60.0 <= result.treat_s <= 60.0 + 61.0   # stopped about a batch after 60 s in treat


@pytest.mark.req("SRS-071", "SRS-054")
def test_progress_write_failure_is_logged_and_the_session_completes(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor_mod, "PROGRESS_WALL_S", 0.0)   # a write every step
    path = tmp_path / "h.sqlite"
    calls = {"n": 0}
    with History(path) as hist:
        def failing_progress(*args, **kwargs):
            calls["n"] += 1
            raise HistoryError(f"history {path}: cannot write: database is locked")
        monkeypatch.setattr(hist, "update_progress", failing_progress)
        result, rows, _ = run_session(history=hist)
        assert calls["n"] >= 3
        assert result.outcome == "completed" and result.treat_s == pytest.approx(600.0, abs=1e-9)
        assert result.history_error is None
        assert all("database is locked" in m for m in result.io_errors)
        assert len(result.io_errors) == calls["n"]
        assert hist.list_sessions()[0].outcome == "completed"   # end_session still wrote


@pytest.mark.req("SRS-071", "SRS-081")
def test_end_session_failure_keeps_the_outcome_and_leaves_the_row_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite"
    with History(path) as hist:
        def failing_end(*args, **kwargs):
            raise HistoryError(f"history {path}: cannot write: database is locked")
        monkeypatch.setattr(hist, "end_session", failing_end)
        result, rows, sup = run_session(history=hist)
        assert result.outcome == "completed" and result.fault is None
        assert "database is locked" in result.history_error
        assert sup.state == "idle" and abs(rows[-1].r.mean_current_ma) <= ZERO_MA
        stored = hist.list_sessions()
        assert [r.outcome for r in stored] == ["interrupted"]   # never lost


@pytest.mark.req("SRS-071", "SRS-064")
def test_a_locked_history_delays_a_progress_write_by_at_most_the_bound(tmp_path, monkeypatch):
    """A lock held by another program: the in-loop write waits PROGRESS_WAIT_S
    (20 ms), not sqlite's 5 s, and the watchdog was kicked just before it."""
    import time
    path = tmp_path / "h.sqlite"
    with History(path) as hist:
        sid = hist.begin_session(settings())
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            t0 = time.monotonic()
            with pytest.raises(HistoryError, match="locked"):
                hist.update_progress(sid, treat_s=1.0, delivered_mamin=0.1, max_current_ma=1.0,
                                     wait_s=supervisor_mod.PROGRESS_WAIT_S)
            waited_s = time.monotonic() - t0
        finally:
            locker.rollback()
            locker.close()
        assert waited_s < 0.5          # sqlite's default wait would be 5 s
        assert supervisor_mod.PROGRESS_WAIT_S + supervisor_mod.ROW_S < 0.050  # inside the window
        hist.update_progress(sid, treat_s=2.0, delivered_mamin=0.2, max_current_ma=1.0)
        assert hist.list_sessions()[0].treat_s == 2.0   # the normal wait is restored


@pytest.mark.req("SRS-064")
def test_progress_write_is_preceded_by_a_watchdog_kick(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor_mod, "PROGRESS_WALL_S", 0.0)
    order: list[str] = []

    class KickSpy(SimulatedDevice):
        def kick_watchdog(self) -> None:
            order.append("kick")
            super().kick_watchdog()

    with History(tmp_path / "h.sqlite") as hist:
        real = hist.update_progress

        def spy(*a, **k):
            order.append("write")
            return real(*a, **k)
        monkeypatch.setattr(hist, "update_progress", spy)
        run_session(history=hist, device=KickSpy(seed=1))
    writes = [i for i, what in enumerate(order) if what == "write"]
    assert len(writes) >= 3
    assert all(order[i - 1] == "kick" for i in writes)


# --- F5: scenario events during the polarity switch ------------------------------
HALF_S = 10.0 + 300.0 + 10.0   # ramp-up 10 s, half of 10 min, ramp-down 10 s


class LoadSpy(SimulatedDevice):
    """Records the supervisor tick at which a load event reaches the device."""
    sup = None

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)
        self.load_ticks: list[int] = []

    def change_load(self, ohms: float, over_s: float = 0.0) -> None:
        self.load_ticks.append(self.sup.tick)
        super().change_load(ohms, over_s)


@pytest.mark.req("SRS-083", "SRS-066")
@pytest.mark.parametrize("offset_s", [0.0005, 0.005, 0.0123, 0.150])
def test_events_due_during_the_polarity_switch_fire_at_their_tick(offset_s):
    at_s = HALF_S + offset_s
    device = LoadSpy(seed=1)
    result, rows, sup = run_session(
        [{"at_s": at_s, "event": "load", "ohms": 2500}], device=device, current_ma=25.0,
        ramp_up_s=10.0, ramp_down_s=10.0, reverse_polarity=True)
    switch_entered = [e for e in sup.log if "-> polarity_switch" in e]
    assert switch_entered and float(switch_entered[0].split("s ")[0]) == pytest.approx(HALF_S, abs=0.011)
    assert device.load_ticks == [round(at_s * sup.tick_hz)]   # at its tick, not a row later
    assert result.outcome == "completed" and result.polarity_switches == 1


@pytest.mark.req("SRS-083", "SRS-064")
def test_stall_during_the_polarity_switch_faults_within_the_watchdog_window():
    at_s = HALF_S + 0.005
    result, rows, sup = run_session(
        [{"at_s": at_s, "event": "stall", "ms": 100}], current_ma=25.0,
        ramp_up_s=10.0, ramp_down_s=10.0, reverse_polarity=True)
    assert result.fault == "watchdog"
    fault_rows = [row.t_s for row in rows if row.r.fault.name != "NONE"]
    # 50 ms watchdog window, seen at the end of the row in which it trips
    assert 0.050 - 1e-9 <= fault_rows[0] - at_s <= 0.050 + 0.010
