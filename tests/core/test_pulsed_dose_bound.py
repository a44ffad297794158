"""A pulsed stage running a longer duty than commanded (HAZ-47 / HS-93): what
the duty check (SRS-303) catches over the review's grid, and the dose bound
on duty x set current (SRS-090) that holds where it does not."""
from __future__ import annotations

import itertools

import pytest

import core.supervisor as supervisor
from _session_kit import LIMITS, PASSED_CHECKLIST, run_session, settings
from core.device import SimulatedDevice

MARGIN = 1.0 + LIMITS.session_charge_margin_percent / 100.0


class WrongDuty(SimulatedDevice):
    """A board whose PWM runs `extra` points more duty than the regulator commands."""

    def __init__(self, extra: int, **kw) -> None:
        super().__init__(seed=1, **kw)
        self.extra = extra

    def set_pulse(self, pulse_khz, duty_percent=None):
        super().set_pulse(pulse_khz, duty_percent + self.extra)


def pulsed_bound_mamin(current_ma: float, duty: float, minutes: int = 10, up_s=30.0, down_s=30.0) -> float:
    return duty * current_ma * (minutes + (up_s + down_s) / 2.0 / 60.0) * MARGIN


# the review's grid (independent review of issue 14, F2): 50 % commanded, the
# board 5 or 30 points longer; hands 15 mA at 2 kOhm, 5 mA at 10 kOhm
GRID = list(itertools.product((2000, 10_000), (0.01, 0.1, 1.0), (4.3, 10.0), (5, 30)))
# caught by duty x peak (SRS-303): at 1 uF all, at 0.1 uF the +30 ones, at
# 0.01 uF only 10 kOhm/10 kHz/+30; the other 12 a working stage's low mean/peak hides
CAUGHT = {(2000, 0.1, 4.3, 30), (2000, 0.1, 10.0, 30), (2000, 1.0, 4.3, 30), (2000, 1.0, 10.0, 5),
          (2000, 1.0, 10.0, 30), (10_000, 0.01, 10.0, 30), (10_000, 0.1, 4.3, 30), (10_000, 0.1, 10.0, 30),
          (10_000, 1.0, 4.3, 5), (10_000, 1.0, 4.3, 30), (10_000, 1.0, 10.0, 5), (10_000, 1.0, 10.0, 30)}


@pytest.mark.req("SRS-090", "SRS-303")
@pytest.mark.parametrize("duty", [50, 65, 80])
def test_the_pulsed_charge_bound_is_on_duty_x_set_current(duty):
    sup = supervisor.Supervisor(SimulatedDevice(seed=1), settings(mode="pulsed", current_ma=15.0, pulse_khz=10.0,
                                                                  duty_percent=duty, minutes=10),
                                checklist=PASSED_CHECKLIST)
    assert sup.charge_bound_mas / 60.0 == pytest.approx(pulsed_bound_mamin(15.0, duty / 100), rel=1e-12)
    # dc keeps the set current x (time + half ramps), + 10 %: 173.25 mA*min
    sup = supervisor.Supervisor(SimulatedDevice(seed=1), settings(current_ma=15.0, minutes=10),
                                checklist=PASSED_CHECKLIST)
    assert sup.charge_bound_mas / 60.0 == pytest.approx(15.0 * 10.5 * 1.1, rel=1e-12)


@pytest.mark.req("SRS-303", "SRS-090")
@pytest.mark.parametrize("load_ohms,capacitance_uf,khz,extra", GRID)
def test_the_review_grid_is_caught_or_held_within_the_dose_bound(load_ohms, capacitance_uf, khz, extra):
    current_ma = 15.0 if load_ohms == 2000 else 5.0
    result, rows, sup = run_session(device=WrongDuty(extra, load_ohms=load_ohms, capacitance_uf=capacitance_uf),
                                    mode="pulsed", current_ma=current_ma, pulse_khz=khz, duty_percent=50)
    bound = pulsed_bound_mamin(current_ma, 0.5)
    assert result.delivered_mamin <= bound
    if (load_ohms, capacitance_uf, khz, extra) in CAUGHT:
        assert result.outcome == "fault" and result.fault == "pulse_duty"
        assert result.delivered_mamin <= current_ma * 0.5   # within the first 30 s at the peak
    else:
        # missed: the session runs, its mean within duty x set current + the
        # bound's 10 % (a working stage at a high skin capacitance gives about
        # duty x set); 2 kOhm/1 uF/4.3 kHz/+5 comes closest: 7.85 of 7.5 mA
        assert result.fault is None
        treat = [r.r for r in rows if r.state == "treat"]
        mean_ma = sum(r.mean_current_ma * r.ticks for r in treat) / sum(r.ticks for r in treat)
        assert mean_ma <= 0.5 * current_ma * MARGIN
    assert sum((k in CAUGHT) for k in GRID) == 12


@pytest.mark.req("SRS-090", "SRS-303")
@pytest.mark.parametrize("extra", [5, 30])
def test_the_dose_bound_ends_a_longer_duty_the_duty_check_misses(monkeypatch, extra):
    # the duty check defeated (as at a low skin capacitance): at 10 uF the
    # stage's mean is about (50 + extra) % of 15 mA, above duty x set
    monkeypatch.setattr(supervisor, "PULSE_DUTY_MARGIN", 10.0)
    result, rows, sup = run_session(device=WrongDuty(extra, load_ohms=2000, capacitance_uf=10.0),
                                    mode="pulsed", current_ma=15.0, pulse_khz=10.0, duty_percent=50)
    bound = pulsed_bound_mamin(15.0, 0.5)   # 86.6 mA*min
    assert result.outcome == "interrupted" and result.end_reason == "charge_bound"
    assert bound * 0.97 <= result.delivered_mamin <= bound
    # without the bound: (50 + extra) % x 15 mA x 10.5 min
    assert result.delivered_mamin < (0.5 + extra / 100) * 15.0 * 10.5 * 0.99


@pytest.mark.req("SRS-090", "SRS-303")
@pytest.mark.parametrize("khz,duty", [(4.3, 50), (10.0, 80), (5.0, 65)])
@pytest.mark.parametrize("load_ohms,capacitance_uf", [(500, 10.0), (2000, 10.0), (2000, 0.01), (10_000, 1.0)])
def test_a_working_stage_completes_within_the_pulsed_charge_bound(khz, duty, load_ohms, capacitance_uf):
    current_ma = 5.0 if load_ohms == 10_000 else 15.0
    result, _, _ = run_session(device=SimulatedDevice(seed=1, load_ohms=load_ohms, capacitance_uf=capacitance_uf),
                               mode="pulsed", current_ma=current_ma, pulse_khz=khz, duty_percent=duty)
    assert result.outcome == "completed" and result.fault is None, (result.outcome, result.end_reason)
    assert result.delivered_mamin <= pulsed_bound_mamin(current_ma, duty / 100) / MARGIN * 1.01


@pytest.mark.req("SRS-303")
@pytest.mark.parametrize("load_ohms,khz", [(2000, 4.3), (2000, 10.0), (10_000, 4.3)])
def test_a_duty_5_points_long_at_10_uf_is_a_fault(load_ohms, khz):
    current_ma = 15.0 if load_ohms == 2000 else 5.0
    result, rows, _ = run_session(device=WrongDuty(5, load_ohms=load_ohms, capacitance_uf=10.0), mode="pulsed",
                                  current_ma=current_ma, pulse_khz=khz, duty_percent=50)
    assert result.outcome == "fault" and result.fault == "pulse_duty"
    assert next(r.t_s for r in rows if r.state == "fault") <= 30.0
