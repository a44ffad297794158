"""SRS-316: the output table is judged on rows that ran under the command it
checks. On the real-time runner a command lands in a running loop, 1-2 ms
after the row boundary the supervisor decided at, or rows later when the
supervisor reads behind the loop. `LateCommands` reproduces that timing in
simulation, deterministically: every post of a decision is applied
`lag_ticks` ticks into the rows that follow it, and the rows say what
RealtimeDevice says of them (posts_applied, decision_reference_ma).
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
from tests.core._session_kit import PASSED_CHECKLIST, run_session

LIMITS = load_limits()
TICK_HZ = SimulatedDevice().tick_hz
POSTS = ("command", "enable_output", "set_polarity", "reset_fault", "search_contact", "arm", "disarm",
         "set_pulse")


class _Batch:
    """One row of `ticks_per_row` ticks, whole, as rt_rows gives it: the mean
    current and voltage over every tick of the row (those before a post that
    landed in it too), its largest current, the state at its end."""

    def __init__(self, parts, tpr: int, loop_ticks: int, applied: int, ref_at: float | None,
                 post_part: int | None) -> None:
        self.rows_run = 1
        self.ticks_per_row = tpr
        self.events = 0
        for p in parts:
            self.events |= p.events
        self.charge_mas = sum(p.charge_mas for p in parts)
        self.max_current_ma = max((p.max_current_ma for p in parts), key=abs)
        rows = [p.last for p in parts]
        self.last = dataclasses.replace(
            rows[-1], ticks=tpr,
            mean_current_ma=sum(r.mean_current_ma * r.ticks for r in rows) / tpr,
            mean_voltage_v=sum(r.mean_voltage_v * r.ticks for r in rows) / tpr,
            peak_current_ma=max((r.peak_current_ma for r in rows), key=abs))
        self.loop_ticks = loop_ticks
        self.posts_applied = applied
        self.decision_reference_ma = ref_at
        self.decision_mean_current_ma = None
        if post_part is not None:   # the mean from the tick that applied the last post on
            after = rows[post_part:]
            self.decision_mean_current_ma = (sum(r.mean_current_ma * r.ticks for r in after)
                                             / sum(r.ticks for r in after))

    def rows(self):
        yield self.last


class LateCommands:
    """A simulated device read `lag_ticks` ticks behind its loop, as the
    runner is: every post (kicks too) is applied in a tick of its own, at
    the tick `lag_ticks` after the last row read and one tick after the post
    before it (RealtimeDevice waits for the tick that applied each post), so
    the posts of one decision and successive decisions land in different
    ticks and rows; rows carry what RealtimeDevice gives (posts_applied,
    decision_reference_ma, decision_mean_current_ma). `drop_target_ma`: a
    command the loop never applies (a loop that ignores the ramp-down, which
    the table check must still catch)."""

    def __init__(self, lag_ticks: int, seed: int = 3, drop_target_ma: float | None = None, **load) -> None:
        self.dev = SimulatedDevice(seed=seed, **load)
        self.lag_ticks = lag_ticks
        self.drop_target_ma = drop_target_ma
        self._read = 0                   # ticks of rows read
        self._queue: list = []           # (tick it applies in, post number or 0 for a kick, name, args)
        self._last_apply = -1
        self.posts_made = 0
        self.commands = 0                # command posts (target and slew)
        self._applied = 0
        self._rows_applied = 0

    def __getattr__(self, name):
        if name not in POSTS and name != "kick_watchdog":
            return getattr(self.dev, name)

        def post(*args):
            number = 0
            self.commands += name == "command"
            if name != "kick_watchdog":
                self.posts_made += 1
                number = self.posts_made
            self._last_apply = max(self._read + self.lag_ticks, self._last_apply + 1)
            self._queue.append((self._last_apply, number, name, args))
        return post

    def _apply(self, name: str, args: tuple) -> None:
        if name == "command" and self.drop_target_ma is not None and args[0] == self.drop_target_ma:
            return
        getattr(self.dev, name)(*args)

    def advance(self, max_rows: int, ticks_per_row: int):
        parts, t, end, ref_at, post_part = [], self._read, self._read + ticks_per_row, None, None
        while self._queue and self._queue[0][0] < end:
            at, number, name, args = self._queue.pop(0)
            if at > t:
                parts.append(self.dev.advance(1, at - t))
            self._apply(name, args)
            parts.append(self.dev.advance(1, 1))      # the tick that applied it
            t = at + 1
            if number:
                self._applied = number
                ref_at = parts[-1].last.reference_ma
                post_part = len(parts) - 1
        if end > t:
            parts.append(self.dev.advance(1, end - t))
        self._read = end
        if self._applied == self._rows_applied:
            ref_at = post_part = None
        self._rows_applied = self._applied
        return _Batch(parts, ticks_per_row, self.dev.loop_ticks, self._applied, ref_at, post_part)


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
    assert dev.posts_made >= 4                 # the start (arm, command, enable), the ramp-down
    # the session length moves by at most the lag of each post and a row
    assert abs(sup.elapsed_s - sim_sup.elapsed_s) <= dev.posts_made * (lag_ticks + 100) / TICK_HZ


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


def _same_as_on_time(scenario, lag_ticks: int, load=None, **settings):
    on_time, _, _ = run_session(scenario, device=SimulatedDevice(seed=1, **(load or {})), **settings)
    late, _, sup = run_session(scenario, device=LateCommands(lag_ticks, seed=1, **(load or {})), **settings)
    assert on_time.fault is None
    assert (late.outcome, late.fault, late.end_reason) == (on_time.outcome, None, on_time.end_reason), \
        [e for e in sup.log if "violation" in e or "fault" in e or "found at once" in e or "density" in e][:6]
    return on_time, late, sup


# the hand lifted early in the ramp and put back, twice (tests/core/test_ramp_liftoff.py):
# on time two ordinary pauses, no stall counted "with contact", the session goes on
SECOND_LIFT = [{"at_s": 0.5, "event": "lift_off"}, {"at_s": 10, "event": "contact"},
               {"at_s": 10.6, "event": "lift_off"}, {"at_s": 20, "event": "contact"}, {"at_s": 60, "event": "stop"}]


@pytest.mark.req("SRS-316", "SRS-257")
@pytest.mark.parametrize("lag_ticks", [19, 100, 150, 199])
def test_a_stall_pause_is_not_ended_by_a_row_that_ran_before_its_contact_search(lag_ticks):
    """(Independent review of c22a27c, F1.) The stall's pause (command 0,
    then the contact search) is decided at a row boundary; the next row
    still ran under the ramp and shows no contact loss. Taken for the
    contact found at once ("the hand was in"), it ramped again and counted a
    quiet stall: the second lift-off ended in no_current_with_contact with
    the hand out, or in output_table_violation. Rows before the latest posts
    now decide nothing but a fault."""
    _same_as_on_time(SECOND_LIFT, lag_ticks, current_ma=2.0)


@pytest.mark.req("SRS-316", "SRS-092")
@pytest.mark.parametrize("ohms, lag_ticks", [(2250, 100), (2250, 199), (2240, 100), (2240, 130), (2240, 199)])
def test_limited_is_not_cleared_by_a_row_that_ran_before_the_lowering(ohms, lag_ticks):
    """(Review F2.) A load at the density band's edge: treat lowers the
    current (limited); the next row still ran at the set current, and
    density_clear sent treat back while the lowering had begun: the HOLDING
    check then saw 9.96 mA below 10 mA (output_table_violation)."""
    scenario = [{"at_s": 30, "event": "load", "ohms": ohms, "over_s": 5}, {"at_s": 60, "event": "stop"}]
    _same_as_on_time(scenario, lag_ticks, current_ma=10.0, ramp_up_s=10.0, ramp_down_s=10.0)


@pytest.mark.req("SRS-316", "SRS-060")
@pytest.mark.parametrize("lag_ticks, stop_s", [(150, 40), (199, 40), (240, 60)])
def test_decisions_in_limited_wait_for_their_rows_and_the_stop_is_judged_by_its_own(lag_ticks, stop_s):
    """(Review F2, F3.) In limited the density target moved at consecutive
    rows judged before the last lowering had landed (735 commands in 24 s at
    a lag of 150 ticks, 2 on time), and the first row after a stop, still
    under limited's command, was judged against FALLING ('target 7.1000 mA
    while falling'). Each row is judged by the state whose posts it ran
    under, and decided on only once it ran under the latest."""
    scenario = [{"at_s": 30, "event": "load", "ohms": 3000, "over_s": 5}, {"at_s": stop_s, "event": "stop"}]
    settings = dict(current_ma=10.0, ramp_up_s=10.0, ramp_down_s=10.0)
    _same_as_on_time(scenario, lag_ticks, **settings)
    counted = {}
    for lag in (0, lag_ticks):
        dev = LateCommands(lag, seed=1)
        run_session(scenario, device=dev, **settings)
        counted[lag] = dev.commands
    assert counted[lag_ticks] <= 2 * counted[0], counted


def _row_after_disable(device):
    """5 mA flowing, then the output disabled: the row in which it lands."""
    device.arm(PASSED_CHECKLIST.answers)
    device.command(5.0, 5.0)
    device.enable_output(True)
    for _ in range(150):
        device.advance(1, 100)                  # 1.5 s: the reference at 5 mA (5 mA/s)
    device.enable_output(False)
    return device.advance(1, 100)


@pytest.mark.req("SRS-316")
@pytest.mark.parametrize("lag_ticks", [19, 50])
def test_the_row_in_which_a_disable_lands_has_its_whole_mean_and_the_mean_after_it(lag_ticks):
    """(Second review of SRS-316, F2.) The row in which a disable lands ran
    lag_ticks ticks at 5 mA: its mean over the row's 100 ticks is about
    5 mA x lag / 100 (0.95 mA at 19 ticks), as rt_rows gives it; the mean
    from the tick that applied the disable on is no current."""
    batch = _row_after_disable(LateCommands(lag_ticks, seed=1))
    assert batch.last.mean_current_ma == pytest.approx(5.0 * lag_ticks / 100, rel=0.15)
    assert abs(batch.decision_mean_current_ma) <= LIMITS.zero_current_ma


@pytest.mark.req("SRS-316", "SRS-060", "SRS-092")
@pytest.mark.parametrize("lag_ticks", [12, 15, 19, 50])
def test_a_density_pause_with_late_posts_ends_as_on_time(lag_ticks):
    """(Second review, F1.) 10 mA, the load from 2 to 6.5 kOhm at 12 s (3.25x
    the baseline: contact area too small, paused), stop at 16 s. On time: a
    density pause, stopped, no fault. The first paused row's mean current
    was 0.45-1.81 mA (10 mA for the lag's ticks), above paused's 0.1 mA: a
    false output_table_violation. The off rule judges that row by its
    current from the tick that applied the pause's posts on."""
    scenario = [{"at_s": 12, "event": "load", "ohms": 6500}, {"at_s": 16, "event": "stop"}]
    settings = dict(current_ma=10.0, ramp_up_s=10.0, ramp_down_s=10.0)
    on_time, _, _ = run_session(scenario, device=SimulatedDevice(seed=1), **settings)
    assert (on_time.outcome, on_time.fault) == ("stopped", None) and on_time.density_pauses >= 1
    late, _, sup = run_session(scenario, device=LateCommands(lag_ticks, seed=1), **settings)
    assert (late.outcome, late.fault) == ("stopped", None), [e for e in sup.log if "violation" in e]
    assert late.density_pauses >= 1
