"""A contact loss and an anti-shock cut while the current is lowered for the
current density (state limited) are acted on as in treat (PR-053):
SRS-061/062 pause and contact timeout, SRS-090 the cut counted."""
from __future__ import annotations

import pytest

from core.supervisor import LIMITED_CONTACT_CHECK_S
from tests.core._session_kit import LIMITS, ROW_S, run_session, table_violations

ENTER_LIMITED = {"at_s": 120, "event": "load", "ohms": 3000, "over_s": 1}   # 2 -> 3 kOhm in 1 s
TIMEOUT_S = LIMITS.contact_timeout_s


def _limited_from(rows) -> float:
    return next(r.t_s for r in rows if r.state == "limited")


@pytest.mark.req("SRS-061", "SRS-062", "SRS-092")
@pytest.mark.parametrize("current_ma, lift_at_s", [(10.0, 200), (15.0, 150), (5.0, 400), (20.0, 125)])
def test_a_lift_off_in_limited_pauses_and_the_contact_timeout_ends_the_session(current_ma, lift_at_s):
    result, rows, sup = run_session([ENTER_LIMITED, {"at_s": lift_at_s, "event": "lift_off"}],
                                    current_ma=current_ma)
    assert _limited_from(rows) < lift_at_s
    paused_at = next(r.t_s for r in rows if r.state == "paused")
    # far from a density cut: paused at once, as in treat (PR-062), the timer stopped there
    assert lift_at_s < paused_at <= lift_at_s + 2 * ROW_S
    assert result.outcome == "interrupted" and sup.end_reason == "contact_timeout"
    assert result.treat_s <= lift_at_s - 30 + 2 * ROW_S
    assert abs(result.elapsed_s - (paused_at + TIMEOUT_S)) <= 3 * ROW_S
    assert table_violations(rows, current_ma) == []


@pytest.mark.req("SRS-061", "SRS-092")
def test_a_hand_back_within_the_timeout_resumes_from_zero_and_completes():
    result, rows, sup = run_session([ENTER_LIMITED, {"at_s": 200, "event": "lift_off"},
                                     {"at_s": 230, "event": "contact"}], current_ma=10.0)
    assert result.outcome == "completed"
    i = next(i for i, r in enumerate(rows) if r.state == "paused")
    resumed = next(r for r in rows[i:] if r.state == "ramp")
    assert resumed.r.reference_ma <= 0.2        # from 0 under the ramp slew (SRS-061)
    # the set time is treated in full: the pause did not count
    assert abs(result.treat_s - 600) <= 2 * ROW_S
    assert table_violations(rows, 10.0) == []


@pytest.mark.req("SRS-092", "SRS-061")
@pytest.mark.parametrize("ohms, current_ma", [(2600, 25.0), (3500, 15.0), (5000, 15.0), (5000, 25.0)])
def test_the_regulators_contact_check_after_a_density_cut_does_not_pause(ohms, current_ma):
    # a load step cuts the current for the density (SRS-141); the regulator's
    # enable probe then reports contact lost for about 0.2 s with the hand in
    result, rows, sup = run_session([{"at_s": 120, "event": "load", "ohms": ohms}], current_ma=current_ma)
    lost_s = [r.t_s for r in rows if r.state == "limited" and r.r.contact_lost]
    assert lost_s and max(lost_s) - min(lost_s) < LIMITED_CONTACT_CHECK_S
    assert "paused" not in result.states, sup.log[-10:]
    assert result.outcome == "completed" and abs(result.treat_s - 600) <= ROW_S + 1e-9


@pytest.mark.req("SRS-090", "SRS-063")
def test_an_antishock_cut_in_limited_counts_toward_the_session_bound():
    result, rows, sup = run_session([ENTER_LIMITED, {"at_s": 200, "event": "load", "ohms": 1500}],
                                    current_ma=10.0)
    assert "limited" in result.states[:5]
    assert result.antishock_cuts == 1
    assert any("anti-shock cut in limited" in line for line in sup.log)
    assert table_violations(rows, 10.0) == []
