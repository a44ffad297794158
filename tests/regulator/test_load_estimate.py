"""The regulator's published load estimate (SRS-027): the one interface the
supervisor's current-density tracking (issue 8 point 7) reads."""
from __future__ import annotations

import math

import pytest

from _regulator_kit import CAPACITANCES_UF, ramped_rig
from core.regulator import SimulatedRig


@pytest.mark.req("SRS-027")
@pytest.mark.parametrize("capacitance_uf", CAPACITANCES_UF)
@pytest.mark.parametrize("load_ohms,target_ma", [(500, 10.0), (2000, 15.0), (5000, 8.0), (10000, 4.0)])
def test_estimate_under_drive_is_within_5_percent_of_the_model_load(load_ohms, target_ma, capacitance_uf):
    rig = ramped_rig(load_ohms, target_ma, capacitance_uf, settle_s=0.5)
    rows = list(rig.run_rows(50, 10, stop_on_event=False).rows())
    for r in rows:
        assert r.load_estimate_ohms == pytest.approx(r.load_ohms, rel=0.05), r


@pytest.mark.req("SRS-027")
def test_estimate_is_unknown_when_off_and_while_open():
    rig = SimulatedRig(seed=3)
    assert math.isinf(rig.run(10).load_estimate_ohms)             # output off
    rig.command(5.0, 5.0)
    rig.enable_output(True)
    on = rig.run_rows(200, 10, stop_on_event=False).last
    assert on.load_estimate_ohms == pytest.approx(on.load_ohms, rel=0.05)
    rig.lift_off()
    lifted = rig.run_rows(20, 10, stop_on_event=False).last
    assert lifted.contact_lost and math.isinf(lifted.load_estimate_ohms)
    rig.enable_output(False)
    assert math.isinf(rig.run(10).load_estimate_ohms)


@pytest.mark.req("SRS-027")
def test_estimate_follows_a_load_change():
    rig = ramped_rig(2000, 10.0)
    rig.change_load(4000, 0.5)
    rows = list(rig.run_rows(200, 10, stop_on_event=False).rows())
    assert rows[-1].load_estimate_ohms == pytest.approx(rows[-1].load_ohms, rel=0.05)
    assert all(r.load_estimate_ohms == pytest.approx(r.load_ohms, rel=0.10) for r in rows[60:])
