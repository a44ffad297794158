"""The reference never waits to fall (SRS-253, PR-061): before any evidence
of a current the blind-rise bound holds the drive and the reference waits
(SRS-025), but a lower target (a ramp-down, a lowered density target) always
slews it down at the commanded slew. Before the fix a lift-off just after the
enable probe left the reference at 0.047-0.055 mA for ever: the ramp-down
never reached zero and the session never ended."""
from __future__ import annotations

import pytest

from core.regulator import FaultCode, SimulatedRig
from tests.arming_kit import CLEAR

ROW_TICKS = 100          # 10 ms rows
STUCK_MA = 0.02          # the waiting reference is clearly above 0 (measured 0.047 mA)


def _lifted_before_evidence(ohms: float, capacitance_uf: float, lift_ms: float, slew: float):
    """A ramp toward 6 mA, the hand lifted lift_ms after enable (the enable
    probe is 10 ms), then 1 s lifted: no current ever showed."""
    rig = SimulatedRig(seed=3, load_ohms=ohms, capacitance_uf=capacitance_uf)
    rig.command(6.0, slew)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(int(lift_ms * 10), 1, stop_on_event=False)
    rig.lift_off()
    lifted = rig.run_rows(100, ROW_TICKS, stop_on_event=False).last
    return rig, lifted


@pytest.mark.req("SRS-253", "SRS-003")
@pytest.mark.parametrize("ohms", [500, 2000, 5000, 10000])
@pytest.mark.parametrize("capacitance_uf", [0.01, 1.0, 10.0])
@pytest.mark.parametrize("lift_ms", [10.5, 12.0, 20.0, 40.0])
def test_a_reference_waiting_for_evidence_falls_to_zero_at_the_commanded_slew(ohms, capacitance_uf, lift_ms):
    slew = 0.5
    rig, lifted = _lifted_before_evidence(ohms, capacitance_uf, lift_ms, slew)
    # the case of PR-061: waiting above 0, and no contact loss reported
    assert lifted.reference_ma > STUCK_MA and not lifted.contact_lost
    rig.command(0.0, slew)
    fall_rows = int(lifted.reference_ma / slew / 0.01) + 1     # at most one row late
    rows = list(rig.run_rows(fall_rows, ROW_TICKS, stop_on_event=False).rows())
    assert rows[-1].reference_ma == 0.0
    refs = [lifted.reference_ma] + [r.reference_ma for r in rows]
    # never up, and at most the slew's step per row (SRS-003)
    assert all(b <= a + 1e-9 and a - b <= slew * 0.01 + 1e-3 for a, b in zip(refs, refs[1:]))
    assert rows[-1].fault == FaultCode.NONE


@pytest.mark.req("SRS-253")
@pytest.mark.parametrize("new_target_ma", [0.0, 0.01, 0.02])
def test_a_lower_target_below_the_waiting_reference_is_reached(new_target_ma):
    rig, lifted = _lifted_before_evidence(5000, 1.0, 12.0, 0.5)
    rig.command(new_target_ma, 5.0)
    last = rig.run_rows(10, ROW_TICKS, stop_on_event=False).last
    assert last.reference_ma == pytest.approx(new_target_ma, abs=1e-9)
