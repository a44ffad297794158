"""The supervisor's contact search (SRS-092): sense level only, the load
estimate of each sense window published, refused without an enabled output."""
from __future__ import annotations

import math

import pytest

from core.regulator import CommandRejected, FaultLatched, SimulatedRig
from tests.arming_kit import CLEAR

SENSE_MAX_MA = 0.010   # IEC 60601-1 d.c. patient auxiliary current, normal condition (SRS-029)


def _treating(load_ohms: float = 2000.0) -> SimulatedRig:
    rig = SimulatedRig(seed=3, load_ohms=load_ohms)
    rig.command(10.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(300, 10, stop_on_event=False)
    return rig


@pytest.mark.req("SRS-092", "SRS-029")
@pytest.mark.parametrize("fingertip_ohms", [8000.0, 15000.0])
def test_search_holds_the_sense_level_and_reports_the_load(fingertip_ohms):
    rig = _treating()
    rig.command(0.0, 5.0)
    rig.change_load(fingertip_ohms, 0.0)
    rig.search_contact()
    rows = list(rig.run_rows(400, 10, stop_on_event=False).rows())
    # the treatment current is cut at once: from the second row on only the sense level
    assert max(r.peak_current_ma for r in rows[1:]) <= SENSE_MAX_MA
    assert all(r.reference_ma == 0.0 for r in rows)
    # contact is found (the load is below the contact threshold) and its estimate published
    found = [r for r in rows if not r.contact_lost]
    assert found, "contact never found"
    # against the model's load (with the skin's DC-onset excess) at the contact
    # tick. A 10 ms window reads low while the skin capacitance still charges
    # from the 9 uA sense level (tau ~ 12 ms at 15 kOhm, 1 uF): stated bound
    # 0.7..1.25 x; low is on the side the supervisor re-checks under drive.
    for _ in range(3):                       # the supervisor searches again while paused
        assert 0.7 * found[0].load_ohms <= found[0].load_estimate_ohms <= 1.25 * found[0].load_ohms
        rig.search_contact()
        found = [r for r in rig.run_rows(400, 10, stop_on_event=False).rows() if not r.contact_lost]
        assert found


@pytest.mark.req("SRS-092")
def test_search_finds_no_contact_while_lifted_and_reports_none():
    rig = _treating()
    rig.command(0.0, 5.0)
    rig.lift_off()
    rig.search_contact()
    rows = list(rig.run_rows(200, 10, stop_on_event=False).rows())
    assert all(r.contact_lost for r in rows)
    assert max(r.peak_current_ma for r in rows) == 0.0
    assert math.isinf(rows[-1].load_estimate_ohms)


@pytest.mark.req("SRS-092")
def test_search_is_refused_with_the_output_off_or_a_fault_latched():
    rig = SimulatedRig(seed=1)
    with pytest.raises(CommandRejected, match="not enabled"):
        rig.search_contact()
    rig = _treating()
    rig.short(50)
    rig.run_rows(10, 10, stop_on_event=False)
    assert rig.fault.name != "NONE"
    with pytest.raises(FaultLatched):
        rig.search_contact()
