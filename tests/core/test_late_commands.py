"""SRS-316: the output table is judged on rows that ran under the command it
checks. On the real-time runner a command lands in a running loop, 1-2 ms
after the row boundary the supervisor decided at, or rows later when the
supervisor reads behind the loop. `LateCommands` reproduces that timing in
simulation, deterministically: every post of a decision is applied
`lag_ticks` ticks into the rows that follow it, and the rows say what
RealtimeDevice says of them (before_decision, decision_reference_ma).
Without SRS-316 a session stopped in a fast ramp ended in
output_table_violation ("reference rose") for lags of 1 to 150 ticks."""
from __future__ import annotations

import dataclasses

import pytest

from core.device import SimulatedDevice
from core.limits import load_limits
from core.scenario import parse_scenario
from core.settings import parse_settings
from core.supervisor import Supervisor
from tests.core._session_kit import PASSED_CHECKLIST

LIMITS = load_limits()
TICK_HZ = SimulatedDevice().tick_hz
DEFER_MAX_TICKS = round(LIMITS.clock_drift_max_ms * TICK_HZ / 1000)   # 200
POSTS = ("command", "enable_output", "set_polarity", "reset_fault", "search_contact", "arm", "disarm",
         "set_pulse")


class _Batch:
    """One row of `ticks_per_row` ticks, joined from the segments it ran in."""

    def __init__(self, parts, tpr: int, loop_ticks: int, before: bool, ref_at: float | None) -> None:
        self.rows_run = 1
        self.ticks_per_row = tpr
        self.events = 0
        for p in parts:
            self.events |= p.events
        self.charge_mas = sum(p.charge_mas for p in parts)
        self.max_current_ma = max((p.max_current_ma for p in parts), key=abs)
        self.last = dataclasses.replace(parts[-1].last, ticks=tpr)
        self.loop_ticks = loop_ticks
        self.before_decision = before
        self.decision_reference_ma = ref_at

    def rows(self):
        yield self.last


class LateCommands:
    """A simulated device whose posts land `lag_ticks` ticks into the rows
    after them (the loop ran on while the supervisor decided). `drop` names
    a (target_ma) command the device never applies: a loop that ignores the
    ramp-down, which the table check must still catch; from `hold_from_s`
    on a decision is never applied and its rows stay marked late."""

    def __init__(self, lag_ticks: int, seed: int = 3, drop_target_ma: float | None = None,
                 hold_from_s: float | None = None) -> None:
        self.dev = SimulatedDevice(seed=seed)
        self.lag_ticks = lag_ticks
        self.drop_target_ma = drop_target_ma
        self.hold_from_s = hold_from_s
        self._pending: list[tuple[str, tuple]] = []
        self._apply_in = 0
        self.decisions_applied = 0
        self.deferred_rows = 0

    def __getattr__(self, name):
        if name in POSTS:
            def post(*args):
                if name == "command" and self.drop_target_ma is not None and args[0] == self.drop_target_ma:
                    return
                if not self._pending:
                    held = self.hold_from_s is not None and self.dev.simulated_time_s >= self.hold_from_s
                    self._apply_in = 10**9 if held else self.lag_ticks
                self._pending.append((name, args))
            return post
        return getattr(self.dev, name)

    def _apply(self) -> None:
        for name, args in self._pending:
            getattr(self.dev, name)(*args)
        self._pending = []
        self.decisions_applied += 1

    def _run(self, ticks: int, parts: list) -> None:
        if ticks > 0:
            parts.append(self.dev.advance(1, ticks))

    def advance(self, max_rows: int, ticks_per_row: int):
        parts: list = []
        ref_at = None
        if self._pending:
            before = min(self._apply_in, ticks_per_row)
            self._run(before, parts)
            self._apply_in -= before
            if self._apply_in == 0 and before < ticks_per_row:
                self._apply()
                self._run(1, parts)               # the tick that applied it
                ref_at = parts[-1].last.reference_ma
                self._run(ticks_per_row - before - 1, parts)
        else:
            self._run(ticks_per_row, parts)
        late = bool(self._pending)
        self.deferred_rows += late
        return _Batch(parts, ticks_per_row, self.dev.loop_ticks, late, ref_at)


# (set current mA, ramp-up s, ramp-down s, stop s): the real-time test's
# session, and the fastest rise against the slowest fall the settings allow
# (2.5 mA/s up, 0.21 mA/s down), where a lag of 8 ticks already shows a rise
SESSIONS = [(5.0, 10.0, 10.0, 8.0), (25.0, 10.0, 120.0, 4.0)]


def _session(device, stop_at_s: float = 8.0, current_ma: float = 5.0, up_s: float = 10.0, down_s: float = 10.0):
    settings = parse_settings({"site": "hands", "current_ma": current_ma,
                               "minutes": int(LIMITS.settings.minutes.min),
                               "ramp_up_s": up_s, "ramp_down_s": down_s, "reverse_polarity": False})
    sup = Supervisor(device, settings, scenario=parse_scenario([{"at_s": stop_at_s, "event": "stop"}]),
                     checklist=PASSED_CHECKLIST)
    return sup.run(), sup


def _violation_s(sup) -> float:
    """When the supervisor logged the table violation."""
    line = next(e for e in sup.log if "table violation" in e)
    return float(line.split("s ", 1)[0])


_ON_TIME: dict = {}


def _on_time(setting):
    if setting not in _ON_TIME:
        current, up, down, stop = setting
        _ON_TIME[setting] = _session(SimulatedDevice(seed=3), stop, current, up, down)
    return _ON_TIME[setting]


@pytest.mark.req("SRS-316")
@pytest.mark.parametrize("setting", SESSIONS)
@pytest.mark.parametrize("lag_ticks", [1, 8, 12, 19, 50, 99, 100, 101, 150])
def test_a_session_stopped_in_the_ramp_with_late_commands_ends_as_on_time(setting, lag_ticks):
    """Lags within a row (the runner's 1-2 ms, p50 12-19 ticks) and of one
    to one and a half rows (a supervisor reading behind): the same outcome
    and states as with commands on time, no fault."""
    sim, sim_sup = _on_time(setting)
    current, up, down, stop = setting
    dev = LateCommands(lag_ticks)
    res, sup = _session(dev, stop, current, up, down)
    assert res.fault is None, sup.log[-3:]
    assert (res.outcome, res.end_reason, res.states) == (sim.outcome, sim.end_reason, sim.states)
    assert dev.decisions_applied >= 2          # the start (arm, command, enable), the ramp-down
    # the session length moves by at most the lag of each decision and a row
    assert abs(sup.elapsed_s - sim_sup.elapsed_s) <= dev.decisions_applied * (lag_ticks + 100) / TICK_HZ


@pytest.mark.req("SRS-316")
@pytest.mark.parametrize("lag_ticks", [1, 19, 150])
def test_a_loop_that_ignores_the_ramp_down_is_still_caught(lag_ticks):
    """The ramp-down's target 0 never reaches the loop: the reference goes
    on rising, and the first row after the rest of the decision applied
    ends the session in output_table_violation."""
    res, sup = _session(LateCommands(lag_ticks, drop_target_ma=0.0))
    assert res.fault == "output_table_violation"
    assert any("while falling" in e for e in sup.log), sup.log[-3:]
    # judged in the row where the rest of the decision landed, or the next
    assert 8.0 < _violation_s(sup) <= 8.0 + (lag_ticks + 2 * 100) / TICK_HZ


@pytest.mark.req("SRS-316")
def test_rows_marked_late_forever_are_judged_after_the_bound():
    """A device that marks every row as run before the command (the
    ramp-down never applied): the check waits at most clock_drift_max_ms of
    rows (200 ticks, two rows), then judges the row as it is."""
    dev = LateCommands(19, hold_from_s=1.0)
    res, sup = _session(dev)
    assert res.fault == "output_table_violation"
    assert any("reference rose" in e or "while falling" in e for e in sup.log), sup.log[-3:]
    # the rows after the stop: two deferred (200 ticks), the third judged
    assert _violation_s(sup) == pytest.approx(8.0 + (DEFER_MAX_TICKS + 100) / TICK_HZ)
