"""A stopped regulation loop or a drifting device clock is noticed (SRS-091, issue 8 point 9).

The supervisor checks after every batch that the regulator's own tick count
advanced by the ticks it ran (2 %, spec/limits.yaml) and that the device's
tick clock agrees with its own within 20 ms; otherwise it opens the
independent output disconnect (a path that does not need the loop) and
latches loop_stalled or clock_drift. The simulated stopped tick keeps the
stage at its last command: only the disconnect ends the current.
"""
from __future__ import annotations

import pytest

from core.device import Device, SimulatedDevice
from core.scenario import ScenarioError, parse_scenario

from tests.core._session_kit import LIMITS, ROW_S, ZERO_MA, run_session

BOUND_ROWS = 2   # rows from the stopped tick to no current (SRS-091)


def _after(rows, t_s):
    return [r for r in rows if r.t_s > t_s + 1e-9]


@pytest.mark.req("SRS-091", "SRS-067")
@pytest.mark.parametrize("state,at_s,before", [
    ("ramp", 10.0, []),
    ("treat", 100.0, []),
    ("paused", 101.0, [{"at_s": 100.0, "event": "lift_off"}]),
    ("limited", 121.0, [{"at_s": 120.0, "event": "load", "ohms": 3000.0, "over_s": 0.5}]),
])
def test_a_stopped_tick_disconnects_the_output_within_two_rows(state, at_s, before):
    result, rows, sup = run_session(before + [{"at_s": at_s, "event": "ticks_stop"}])
    assert result.outcome == "fault" and result.fault == "loop_stalled", result.events
    in_state = [r for r in rows if r.t_s <= at_s + 1e-9][-1]
    assert in_state.state == state
    after = _after(rows, at_s)
    # no current from the second row after the stop on, in every row recorded
    assert all(abs(r.r.mean_current_ma) <= ZERO_MA and abs(r.r.peak_current_ma) <= ZERO_MA
               for r in after[BOUND_ROWS:]), [(r.t_s, r.r.mean_current_ma) for r in after[:4]]
    assert after[BOUND_ROWS - 1].t_s - at_s <= BOUND_ROWS * ROW_S + 1e-9
    if state in ("ramp", "treat", "limited"):
        # the stage held its drive: without the disconnect current would still flow
        assert abs(in_state.r.mean_current_ma) > 1.0
    assert any("output disconnected" in e for e in result.events)


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("percent,bound_s", [(5.0, 2 * ROW_S), (-5.0, 2 * ROW_S),
                                             (1.0, 2.0 + 2 * ROW_S), (-1.0, 2.0 + 2 * ROW_S)])
def test_a_drifting_device_clock_disconnects_the_output(percent, bound_s):
    result, rows, _ = run_session([{"at_s": 100.0, "event": "clock_drift", "percent": percent}])
    assert result.outcome == "fault" and result.fault == "clock_drift", result.events
    after = _after(rows, 100.0)
    tripped = next(r.t_s for r in after if r.state == "fault" or abs(r.r.mean_current_ma) <= ZERO_MA)
    assert tripped - 100.0 <= bound_s + ROW_S, tripped
    assert all(abs(r.r.mean_current_ma) <= ZERO_MA for r in after if r.t_s > tripped + ROW_S)


@pytest.mark.req("SRS-091")
def test_a_drift_inside_the_bound_is_not_a_fault():
    # 0.1 % over 10 s: 10 ms, half the 20 ms bound
    result, _, _ = run_session([{"at_s": 60.0, "event": "clock_drift", "percent": 0.1},
                                {"at_s": 70.0, "event": "clock_drift", "percent": 0.0}])
    assert result.outcome == "completed" and result.fault is None, result.events


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("scenario", [
    [],
    [{"at_s": 40, "event": "lift_off"}, {"at_s": 45, "event": "contact"}],
    [{"at_s": 100, "event": "load", "ohms": 1200}],
])
@pytest.mark.parametrize("reverse", [False, True])
def test_normal_sessions_never_trip_the_loop_checks(scenario, reverse):
    result, _, _ = run_session(scenario, reverse_polarity=reverse)
    assert result.fault not in ("loop_stalled", "clock_drift"), result.events
    assert result.outcome == "completed"


@pytest.mark.req("SRS-091", "SRS-067")
def test_the_device_protocol_reports_loop_ticks_and_has_an_independent_disconnect():
    dev = SimulatedDevice(seed=0)
    assert isinstance(dev, Device)
    assert hasattr(Device, "disconnect_output") and hasattr(Device, "loop_ticks")
    t0 = dev.loop_ticks
    batch = dev.advance(3, 100)
    assert batch.loop_ticks - t0 == 300 == dev.loop_ticks - t0
    dev.command(5.0, 5.0)
    dev.enable_output(True)
    for _ in range(20):
        batch = dev.advance(10, 100)
    assert batch.last.mean_current_ma > 4.0
    dev.stop_ticks()
    frozen = dev.advance(10, 100)
    assert frozen.rows_run == 1 and frozen.loop_ticks == batch.loop_ticks   # one row: as a device delivers it
    assert frozen.last.mean_current_ma > 4.0           # the stage keeps its last command
    dev.disconnect_output()
    assert abs(dev.advance(10, 100).last.mean_current_ma) <= ZERO_MA


@pytest.mark.req("SRS-083", "SRS-091")
@pytest.mark.parametrize("entry,words", [
    ({"at_s": 1, "event": "clock_drift", "percent": 51}, ["'percent'", "51", "-50 <= value <= 50"]),
    ({"at_s": 1, "event": "clock_drift"}, ["'percent'", "missing"]),
    ({"at_s": 1, "event": "ticks_stop", "ms": 3}, ["'ms'", "unknown"]),
])
def test_bad_loop_events_are_refused_naming_the_field(entry, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario([entry])
    for w in words:
        assert w in str(info.value)


@pytest.mark.req("SRS-091")
def test_the_bounds_are_in_the_limits_file():
    assert LIMITS.loop_tick_tolerance_percent == 2.0
    assert LIMITS.clock_drift_max_ms == 20.0
    assert LIMITS.clock_drift_max_ms < LIMITS.supervisor_period_max_ms * 5   # inside the 50 ms watchdog window


@pytest.mark.req("SRS-091", "SRS-092", "SRS-083")
def test_the_example_scenarios_run_as_their_comments_say(tmp_path):
    from pathlib import Path

    from core.scenario import load_scenario
    from core.supervisor import Supervisor
    from tests.core._session_kit import settings as kit_settings

    root = Path(__file__).resolve().parents[2] / "examples"
    sup = Supervisor(SimulatedDevice(seed=1), kit_settings(),
                     scenario=load_scenario(root / "scenario_partial_lift.yaml"))
    result = sup.run()
    assert result.outcome == "completed" and "limited" in result.states
    sup = Supervisor(SimulatedDevice(seed=1), kit_settings(),
                     scenario=load_scenario(root / "scenario_loop_stall.yaml"))
    assert sup.run().fault == "loop_stalled"
