"""A short real-time session (the C runner at 10 kHz, paced by the monotonic
clock) agrees with the simulated run of the same settings, seed and
scenario (SRS-216); the supervisor drives both unchanged."""
from __future__ import annotations

import pytest

from core.device import SimulatedDevice
from core.limits import load_limits
from core.realtime import RealtimeDevice
from core.regulator import lib
from core.scenario import parse_scenario
from core.settings import parse_settings
from core.supervisor import Supervisor
from tests.core._session_kit import PASSED_CHECKLIST

LIMITS = load_limits()
STOP_AT_S = 8.0            # the user stops during the ramp: a ~16 s session
CURRENT_MA = 5.0
# stated tolerances of the agreement (SRS-216)
ROW_MEAN_TOL_MA = 0.10     # per 10 ms row, same session time (sensor noise is 0.02 mA rms)
CHARGE_TOL_PERCENT = 2.0   # delivered charge
LENGTH_TOL_S = 0.05        # session length: a command lands within a few ticks of its row


class Rows:
    def __init__(self) -> None:
        self.rows: list[tuple[float, str, float]] = []

    def batch(self, start_tick, state, rowbatch, sup) -> None:
        tick = start_tick
        for r in rowbatch.rows():
            tick += r.ticks
            self.rows.append((tick / sup.tick_hz, state, r.mean_current_ma))


def _run(device, realtime: bool, stop_at_s: float = STOP_AT_S, current_ma: float = CURRENT_MA):
    settings = parse_settings({"site": "hands", "current_ma": current_ma,
                               "minutes": int(LIMITS.settings.minutes.min),
                               "ramp_up_s": 10.0, "ramp_down_s": 10.0, "reverse_polarity": False})
    rows = Rows()
    sup = Supervisor(device, settings, scenario=parse_scenario([{"at_s": stop_at_s, "event": "stop"}]),
                     observers=[rows], realtime=realtime, checklist=PASSED_CHECKLIST)
    return sup.run(), rows.rows, sup


# A command lands on the runner 1-2 ms after the row boundary the supervisor
# decided at (p50 12-19 ticks); the supervisor judges the output table on the
# rows after it (SRS-316): until 2026-12-02 a session stopped during the ramp
# could end in output_table_violation ("reference rose") with nothing wrong,
# kept here as an expected failure (tests/core/test_late_commands.py now
# reproduces that timing in simulation).


@pytest.mark.req("SRS-216", "SRS-316")
def test_a_realtime_session_stopped_in_the_ramp_agrees_with_the_simulated_run():
    _agree(STOP_AT_S, CURRENT_MA)


@pytest.mark.req("SRS-216")
def test_a_realtime_session_stopped_in_treat_agrees_with_the_simulated_run():
    """Stopped just after the ramp (2 mA, 10 s ramps): a ~21 s session."""
    _agree(10.5, 2.0)


def _agree(stop_at_s: float, current_ma: float) -> None:
    sim, sim_rows, sim_sup = _run(SimulatedDevice(seed=3), False, stop_at_s, current_ma)
    dev = RealtimeDevice(seed=3)
    try:
        rt, rt_rows, rt_sup = _run(dev, True, stop_at_s, current_ma)
        loop_fault = dev.status().loop_fault
        stats = dev.stats()
    finally:
        dev.close()
    if loop_fault != lib.RT_FAULT_NONE:
        # the safety path worked (output off, session ended in a fault); the
        # agreement cannot be judged on a machine that misses the bound
        assert rt.fault is not None
        pytest.skip(f"this machine woke the loop {stats.max_late_ns / 1e6:.2f} ms late, beyond the "
                    f"{lib.RT_LATE_FAULT_NS / 1e6:g} ms bound (SRS-214): the session ended in {rt.fault}")
    if rt.fault in ("loop_stalled", "clock_drift"):
        # the supervisor's own timing checks (SRS-091) ended it: the output went off; the
        # agreement cannot be judged on a machine that late either
        pytest.skip(f"the supervisor's timing check ended the real-time session in {rt.fault} "
                    "(a machine without PREEMPT_RT, loaded)")
    assert rt.outcome == sim.outcome and rt.fault is None and rt.end_reason == sim.end_reason
    assert rt.states == sim.states
    assert abs(rt_sup.elapsed_s - sim_sup.elapsed_s) <= LENGTH_TOL_S
    assert abs(rt.delivered_mamin - sim.delivered_mamin) <= CHARGE_TOL_PERCENT / 100 * sim.delivered_mamin
    sim_at = {round(t, 2): i for t, _s, i in sim_rows}
    worst = max(abs(i - sim_at[round(t, 2)]) for t, _s, i in rt_rows if round(t, 2) in sim_at)
    assert worst <= ROW_MEAN_TOL_MA, worst
