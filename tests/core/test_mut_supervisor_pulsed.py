"""The supervisor's pulsed mode one method at a time (core/supervisor.py, issue
12 point 2, its fast mutation list): the pulse train commanded before Start
and a device without a pulse stage refused (SRS-300), the peak and mean
figures (SRS-301), the load as mean voltage over mean current (SRS-302), the
duty check (SRS-303). Plan: 5 mA, 10 min, ramps 10 s, 10 kHz at 50 %."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.supervisor import SessionResult, Supervisor

from tests.core._session_kit import PASSED_CHECKLIST, settings
from tests.core.test_mut_supervisor_units import _ends_within_10_s  # noqa: F401 - autouse fixture
from tests.core.test_mut_supervisor_units import Spy, row, sup_in

PULSED = {"mode": "pulsed", "pulse_khz": 10.0, "duty_percent": 50}


class PulseSpy(Spy):
    def set_pulse(self, pulse_khz, duty_percent=None):
        self._call("pulse", pulse_khz, duty_percent)
        super().set_pulse(pulse_khz, duty_percent)


def pulsed_in(state="ramp", **overrides):
    return sup_in(state, device=PulseSpy(), **{**PULSED, **overrides})


@pytest.mark.req("SRS-300")
def test_begin_commands_the_pulse_train_with_the_output_off_before_start():
    dev = PulseSpy()
    sup = Supervisor(dev, settings(current_ma=5.0, ramp_up_s=10.0, ramp_down_s=10.0, pulse_khz=4.3,
                                   duty_percent=65, mode="pulsed"), checklist=PASSED_CHECKLIST)
    sup.begin()
    assert dev.calls[0] == ("pulse", 4.3, 65)
    assert not [c for c in dev.calls if c == ("enable", True)]     # nothing energised before it


@pytest.mark.req("SRS-300")
def test_a_device_without_a_pulse_stage_is_refused_naming_the_device():
    class NoPulse:      # a simulated device's clock, no set_pulse
        tick_hz = 10_000
        simulated_time_s = 0.0
    with pytest.raises(ValueError) as err:
        Supervisor(NoPulse(), settings(current_ma=5.0, **PULSED), checklist=PASSED_CHECKLIST)
    assert str(err.value) == "mode pulsed: the device NoPulse has no pulsed output; nothing was energised"


@pytest.mark.req("SRS-301")
def test_the_result_gives_the_train_the_peak_and_the_treatment_mean():
    r = SessionResult(outcome="completed", fault=None, treat_s=600.0, elapsed_s=620.0, delivered_mamin=26.0,
                      max_current_ma=5.01234, states=[], treat_delivered_mamin=25.12345, pulse=(10.0, 50))
    assert r.pulsed_figures() == {"mode": "pulsed", "pulse_khz": 10.0, "duty_percent": 50,
                                  "peak_current_mA": 5.0123, "mean_current_mA": 2.5123}
    none = SessionResult(outcome="fault", fault="x", treat_s=0.0, elapsed_s=1.0, delivered_mamin=0.0,
                         max_current_ma=0.0, states=[], pulse=(4.3, 80))
    assert none.pulsed_figures()["mean_current_mA"] == 0.0     # no treatment time: no mean
    sup = pulsed_in("treat", pulse_khz=4.3, duty_percent=65)
    assert sup.result().pulse == (4.3, 65)
    assert sup_in("treat").result().pulse is None                # dc: nothing new


@pytest.mark.req("SRS-302")
@pytest.mark.parametrize("state", ["ramp", "treat", "limited"])
def test_driving_the_load_is_the_mean_voltage_over_the_mean_current(state):
    sup = pulsed_in(state)
    last = row(mean_voltage_v=6.0, mean_current_ma=-2.5, load_estimate_ohms=1234.0)
    assert sup._load_ohms(last) == pytest.approx(2400.0)
    assert sup._load_ohms(row(mean_voltage_v=6.0, mean_current_ma=0.0, load_estimate_ohms=1234.0)) == float("inf")
    # a mean under 1 mA (a 50 % train at 1.6 mA peak) is a load all the same
    assert sup._load_ohms(row(mean_voltage_v=1.6, mean_current_ma=0.8, load_estimate_ohms=1234.0)) == 2000.0


@pytest.mark.req("SRS-302")
def test_at_the_sense_level_and_in_dc_the_regulators_estimate_stays():
    last = row(mean_voltage_v=6.0, mean_current_ma=2.5, load_estimate_ohms=1234.0)
    assert pulsed_in("paused")._load_ohms(last) == 1234.0
    assert sup_in("treat")._load_ohms(last) == 1234.0


def _batch(mean_ma, peak_ma, ticks=5_000):
    return SimpleNamespace(max_current_ma=peak_ma, charge_mas=mean_ma * ticks / 10_000)


@pytest.mark.req("SRS-303")
@pytest.mark.parametrize("state", ["ramp", "treat", "limited"])
def test_a_mean_above_the_duty_share_of_the_peak_plus_5_percent_and_50_ua_is_a_fault(state):
    # 50 % of 10 mA x 1.05 + 0.05 mA = 5.3 mA
    sup = pulsed_in(state)
    assert sup._duty_exceeded(state, _batch(5.299, 10.0), 5_000) is False and sup.fault is None
    assert sup._duty_exceeded(state, _batch(5.3, 10.0), 5_000) is False and sup.fault is None   # not above
    assert sup._duty_exceeded(state, _batch(-5.301, -10.0), 5_000) is True
    assert (sup.state, sup.fault) == ("fault", "pulse_duty")
    assert any("pulsed: mean 5.301 mA above 5.300 mA, the 50 % duty of the largest current 10.000 mA" in e
               for e in sup.log)


@pytest.mark.req("SRS-303")
def test_the_duty_is_judged_from_a_peak_of_0_5_ma_under_drive_only():
    sup = pulsed_in("treat")
    # 0.5 mA peak: bound 0.3125 mA; 0.499 mA: not judged
    assert sup._duty_exceeded("treat", _batch(0.32, 0.5), 5_000) is True
    other = pulsed_in("treat")
    assert other._duty_exceeded("treat", _batch(0.49, 0.499), 5_000) is False
    assert other._duty_exceeded("paused", _batch(5.0, 5.0), 5_000) is False
    assert other._duty_exceeded("ramp_down", _batch(5.0, 5.0), 5_000) is False
    assert other._duty_exceeded("treat", _batch(5.0, 5.0), 0) is False
    assert other.fault is None and other.state == "treat"
    one_tick = pulsed_in("treat")                           # a batch of one tick is judged too
    assert one_tick._duty_exceeded("treat", _batch(5.301, 10.0, ticks=1), 1) is True


@pytest.mark.req("SRS-303")
def test_each_pulsed_batch_is_checked_and_a_working_stage_goes_on():
    sup = pulsed_in("ramp")
    while sup.state == "ramp" and sup.tick < 120_000:      # the 10 s ramp, every batch judged
        sup.step()
    assert sup.fault is None and sup.state == "treat" and sup.max_current_ma >= 4.9


@pytest.mark.req("SRS-301")
def test_the_mean_of_a_treatment_under_a_minute_is_its_charge_over_its_time():
    r = SessionResult(outcome="stopped", fault=None, treat_s=30.0, elapsed_s=45.0, delivered_mamin=1.5,
                      max_current_ma=5.0, states=[], treat_delivered_mamin=1.25, pulse=(10.0, 50))
    assert r.pulsed_figures()["mean_current_mA"] == 2.5


@pytest.mark.req("SRS-303")
def test_the_duty_message_names_the_commanded_duty():
    sup = pulsed_in("treat", duty_percent=65)
    # 65 % of 10 mA x 1.05 + 0.05 mA = 6.875 mA
    assert sup._duty_exceeded("treat", _batch(6.9, 10.0), 5_000) is True
    assert any("above 6.875 mA, the 65 % duty of the largest current 10.000 mA" in e for e in sup.log)


@pytest.mark.req("SRS-303", "SRS-090")
def test_the_pulsed_charge_bound_is_on_the_duty_share_of_the_set_current():
    assert pulsed_in("treat").charge_bound_mas == pytest.approx(0.5 * sup_in("treat").charge_bound_mas)


class FullDuty(PulseSpy):
    """A stage whose mean is its peak (100 % duty for the 50 % commanded)."""
    def advance(self, max_rows, ticks_per_row):
        b = super().advance(max_rows, ticks_per_row)
        return SimpleNamespace(rows_run=b.rows_run, max_current_ma=b.max_current_ma, loop_ticks=b.loop_ticks,
                               rows=b.rows, last=b.last,
                               charge_mas=abs(b.max_current_ma) * b.rows_run * ticks_per_row / 10_000)


@pytest.mark.req("SRS-303")
def test_a_ramp_batch_whose_mean_is_its_peak_ends_in_pulse_duty():
    sup = sup_in("ramp", device=FullDuty(), **PULSED)
    while sup.state == "ramp" and sup.tick < 50_000:
        sup.step()
    assert (sup.state, sup.fault) == ("fault", "pulse_duty") and sup.max_current_ma < 1.0
