"""A session whose current never becomes plausible ends (SRS-025, SRS-026;
issue 8 points 1 and 2). With the blind-rise bound held until the first
0.16 mA reading (SRS-025), a ramp whose current never shows keeps the drive
at the boot bound; the reference waits with it, so the supervisor's
ramp-overrun bound ends the session instead of a "completed" session with no
treatment."""
from __future__ import annotations

import pytest

from _session_kit import LIMITS, run_session

NO_CURRENT_MA = 0.05          # at most the boot bound's trickle (0.12 V into the load)


@pytest.mark.req("SRS-025", "SRS-026")
@pytest.mark.parametrize("name,scenario", [
    ("both channels read 0 from Start", [{"at_s": 0, "event": "sensor_stuck", "channel": 0, "mA": 0.0},
                                         {"at_s": 0, "event": "sensor_stuck", "channel": 1, "mA": 0.0}]),
    ("hands out of the tray from Start", [{"at_s": 0, "event": "lift_off"}]),
    ("partial contact of 20 kOhm from Start", [{"at_s": 0, "event": "load", "ohms": 20_000}]),
])
def test_a_session_whose_current_never_shows_does_not_complete(name, scenario):
    result, rows, sup = run_session(scenario, seed=3)
    assert result.outcome != "completed", name
    assert result.treat_s == 0.0
    assert result.max_current_ma <= NO_CURRENT_MA
    # it ends within the ramp-overrun bound (ramp_up_s + ramp_overrun_s) or the contact timeout
    assert result.elapsed_s <= 30.0 + LIMITS.ramp_overrun_s + LIMITS.contact_timeout_s + 1.0
