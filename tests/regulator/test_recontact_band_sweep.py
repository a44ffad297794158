"""Re-contact at every setpoint (SRS-025 (c), issue 8 point 1): each setpoint
from 0 to 1 mA in 0.02 mA steps, lifts of 0.1 to 30 ms, at the corners of the
load range; the true current never exceeds the slewed reference + 0.5 mA."""
from __future__ import annotations

import pytest

from _regulator_kit import rows_ticks
from core.regulator import FaultCode, SimulatedRig
from test_recontact_band import BAND_MA, _worst_excess_ma
from tests.arming_kit import CLEAR


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("load_ohms,capacitance_uf", [(500, 0.01), (500, 10.0), (2000, 1.0), (10_000, 0.01),
                                                      (10_000, 10.0)])
def test_every_setpoint_from_0_to_1_ma_lifts_of_0_1_to_30_ms(load_ohms, capacitance_uf):
    """Each setpoint in 0.02 mA steps: regulated for 30 ms, then lifts of 1, 2,
    5, 20, 100 and 300 ticks, each followed by 30 ms of contact. 500 ohm at
    0.01 uF is the worst case: the skin discharges within one tick, and
    re-contact meets the drive through the 150 ohm series resistance."""
    for step in range(51):
        setpoint_ma = step * 0.02
        rig = SimulatedRig(seed=step, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
        rig.command(setpoint_ma, 5.0)
        rig.arm(CLEAR)
        rig.enable_output(True)
        rig.run_rows(int(setpoint_ma / 5.0 * 10_000) + 200, 1, stop_on_event=False)
        rows = rows_ticks(rig, 300)
        for lift_ticks in (1, 2, 5, 20, 100, 300):
            rig.lift_off()
            rows += rows_ticks(rig, lift_ticks)
            rig.contact()
            rows += rows_ticks(rig, 300)
        assert _worst_excess_ma(rows) <= BAND_MA, setpoint_ma
        assert all(r.fault == FaultCode.NONE for r in rows), setpoint_ma
