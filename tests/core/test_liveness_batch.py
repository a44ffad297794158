"""In fast (unpaced) simulation a stopped tick is caught within one bounded batch
in every state (SRS-252, PR-028).

The supervisor checks the regulator's tick count after every batch (SRS-091).
Unpaced, a batch used to run up to the next event: a phase long outside treat,
so the stopped loop held its drive and current flowed 25 s (ramp), 57.7 s
(ramp-down) or 60 s (reversal) before the check. Every batch is now at most
LOOP_CHECK_MAX_S (0.5 s) long, so the current stops within 0.5 s + one row.
"""
from __future__ import annotations

import pytest

from core.supervisor import LOOP_CHECK_MAX_S

from tests.core._session_kit import ROW_S, ZERO_MA, run_session

# one reference session with a reversal at half time: the times at which each state runs
_OVERRIDES = {"reverse_polarity": True}


def _state_times() -> dict[str, list[float]]:
    _, rows, _ = run_session(**_OVERRIDES)
    times: dict[str, list[float]] = {}
    done: set[str] = set()
    prev = None
    for r in rows:   # the first contiguous stretch of each state
        if prev is not None and r.state != prev:
            done.add(prev)
        if r.state not in done:
            times.setdefault(r.state, []).append(r.t_s)
        prev = r.state
    return times


_TIMES = None


def _time_in(state: str, share: float) -> float:
    global _TIMES
    if _TIMES is None:
        _TIMES = _state_times()
    ts = _TIMES[state]
    return round(ts[0] + share * (ts[-1] - ts[0]), 2)


@pytest.mark.req("SRS-252", "SRS-091")
def test_the_batch_bound_is_the_density_check_period():
    assert LOOP_CHECK_MAX_S == 0.5


@pytest.mark.req("SRS-252", "SRS-091")
@pytest.mark.parametrize("state,share", [("ramp", 0.1), ("ramp", 0.5), ("ramp_down", 0.2),
                                         ("reverse_down", 0.5), ("treat", 0.3)])
def test_a_stopped_tick_stops_the_current_within_one_bounded_batch(state, share):
    at_s = _time_in(state, share)
    result, rows, sup = run_session([{"at_s": at_s, "event": "ticks_stop"}], **_OVERRIDES)
    assert sup.max_rows > 1                                  # fast simulation: batches of many rows
    assert result.outcome == "fault" and result.fault == "loop_stalled", result.events
    before = [r for r in rows if r.t_s <= at_s + 1e-9]
    assert before[-1].state == state
    assert abs(before[-1].r.mean_current_ma) > ZERO_MA      # current was flowing when the tick stopped
    flowing = [r.t_s - at_s for r in rows if r.t_s > at_s + 1e-9 and abs(r.r.peak_current_ma) > ZERO_MA]
    # before: 25 s (ramp), 57.7 s (ramp-down), 60 s (reversal); now within the bound + one row
    assert flowing and max(flowing) <= LOOP_CHECK_MAX_S + ROW_S + 1e-9, max(flowing)
