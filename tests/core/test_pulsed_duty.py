"""A pulsed stage that runs a longer duty than commanded (SRS-303, HAZ-47 /
HS-93): the supervisor ends the session in the fault pulse_duty with the
output off; a stage that runs the commanded duty never trips it."""
from __future__ import annotations

import pytest

from _session_kit import ZERO_MA, run_session
from core.device import SimulatedDevice
from core.regulator import FaultCode, SimulatedRig
from core.supervisor import PULSE_DUTY_MARGIN, PULSE_DUTY_MARGIN_MA
from tests.arming_kit import CLEAR


class WrongDuty(SimulatedDevice):
    """A board whose PWM runs `extra` points more duty than the regulator commands."""

    def __init__(self, extra: int, **kw) -> None:
        super().__init__(seed=1, **kw)
        self.extra = extra

    def set_pulse(self, pulse_khz, duty_percent=None):
        super().set_pulse(pulse_khz, duty_percent + self.extra)


@pytest.mark.req("SRS-303")
def test_the_margin_is_5_percent_and_50_ua():
    assert (PULSE_DUTY_MARGIN, PULSE_DUTY_MARGIN_MA) == (0.05, 0.05)


@pytest.mark.req("SRS-303")
@pytest.mark.parametrize("extra,within_s", [(5, 30.0), (30, 3.0)])
def test_a_longer_duty_ends_in_pulse_duty_with_the_output_off(extra, within_s):
    result, rows, _ = run_session(device=WrongDuty(extra), mode="pulsed", current_ma=15.0)
    assert result.outcome == "fault" and result.fault == "pulse_duty"
    fault_at = next(r.t_s for r in rows if r.state == "fault")
    assert fault_at <= within_s
    after = [r.r for r in rows if r.state == "fault"]
    assert after and all(abs(r.mean_current_ma) <= ZERO_MA and not r.output_enabled for r in after[1:])
    # caught before a 10-minute session's dose: at most what 30 s at the set peak deliver
    assert result.delivered_mamin <= 15.0 * 0.5


@pytest.mark.req("SRS-303", "SRS-258")
@pytest.mark.parametrize("pulse", [(4.3, 50), (10.0, 50), (10.0, 80), (5.0, 65)])
@pytest.mark.parametrize("load_ohms,capacitance_uf", [(500, 1.0), (500, 10.0), (2000, 0.01), (2000, 1.0),
                                                      (2000, 10.0), (10_000, 0.01), (10_000, 10.0)])
def test_a_working_stage_stays_below_its_duty_share_of_the_peak(pulse, load_ohms, capacitance_uf):
    rig = SimulatedRig(seed=1, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    rig.set_pulse(*pulse)
    rig.command(2.0 if load_ohms > 5000 else 10.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    judged = 0
    for rows in (1, 1, 7, 7, 50, 300):     # batches while rising and held
        batch = rig.run_rows(rows, 100, stop_on_event=False)
        assert batch.last.fault == FaultCode.NONE
        if batch.max_current_ma < 0.5:     # the check's floor (the enable probe, the ramp's start)
            continue
        judged += 1
        mean_ma = batch.charge_mas / (rows * 0.01)
        # at most 99 % of the duty's share: the 5 % margin of the check is never approached
        assert mean_ma <= pulse[1] / 100 * batch.max_current_ma * 0.99
    assert judged >= 3


@pytest.mark.req("SRS-303")
@pytest.mark.parametrize("capacitance_uf,khz,duty,scenario", [
    (0.01, 4.3, 50, [{"at_s": 100, "event": "lift_off"}, {"at_s": 103, "event": "contact"}]),
    (10.0, 10.0, 80, [{"at_s": 100, "event": "lift_off"}, {"at_s": 103, "event": "contact"},
                      {"at_s": 200, "event": "load", "ohms": 4000, "over_s": 0}]),
    (1.0, 10.0, 50, [{"at_s": 200, "event": "load", "ohms": 4000, "over_s": 0}]),
])
def test_a_working_stage_completes_through_a_lift_off_and_a_density_cut(capacitance_uf, khz, duty, scenario):
    result, _, _ = run_session(device=SimulatedDevice(seed=1, capacitance_uf=capacitance_uf), mode="pulsed",
                               current_ma=15.0, pulse_khz=khz, duty_percent=duty, scenario=scenario)
    assert result.outcome == "completed" and result.fault is None
