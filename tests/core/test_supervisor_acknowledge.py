"""Leaving fault (SRS-053, SRS-057): only the user's acknowledgement with the
regulator's reset at no current leads to idle; nothing is energised again."""
from __future__ import annotations

import pytest

from core.machine import TransitionNotAllowed
from tests.core._session_kit import NOISE_FLOOR_MA, ZERO_MA, run_session


@pytest.mark.req("SRS-053", "SRS-057")
def test_acknowledge_after_a_short_leads_to_idle_with_the_output_off():
    result, rows, sup = run_session([{"at_s": 40.0, "event": "short", "ohms": 100}])
    assert result.outcome == "fault" and result.fault == "short"
    assert sup.state == "fault"
    assert sup.acknowledge_fault() is True
    assert sup.state == "idle"
    # idle again, the output stays off: a new session needs Start and the checklist
    batch = sup.device.advance(10, sup.ticks_per_row)
    assert not batch.last.output_enabled
    assert batch.max_current_ma < NOISE_FLOOR_MA


@pytest.mark.req("SRS-053", "SRS-017")
def test_acknowledge_is_refused_while_a_channel_reads_current():
    # channel A stuck at 5 mA: the channels disagree (fault), and the larger
    # channel says current flows, so the reset and the acknowledgement are refused
    result, rows, sup = run_session([{"at_s": 40.0, "event": "sensor_stuck", "channel": 0, "mA": 5.0}])
    assert result.outcome == "fault"
    assert sup.last.measured_current_ma >= ZERO_MA
    assert sup.acknowledge_fault() is False
    assert sup.state == "fault"


@pytest.mark.req("SRS-051", "SRS-053")
def test_acknowledge_outside_fault_is_refused():
    result, rows, sup = run_session()
    assert result.outcome == "completed" and sup.state == "idle"
    with pytest.raises(TransitionNotAllowed):
        sup.acknowledge_fault()
