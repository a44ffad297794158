"""The simulated load, sensors, output stage and batch stepper (SRS-030..034)."""
from __future__ import annotations

import pytest

from _regulator_kit import ramped_rig, rows_ticks
from core.regulator import (EVENT_ANTISHOCK, EVENT_AT_TARGET, EVENT_FAULT, LIMITS, FaultCode,
                            SimulatedRig)
from tests.arming_kit import CLEAR


@pytest.mark.req("SRS-030")
def test_default_load_is_2_kohm_and_skin_resistance_falls_at_dc_onset():
    rig = ramped_rig(target_ma=10.0)                             # default load, 2 s ramp
    early = rig.run(100)
    early_ohms = early.voltage_v / early.mean_current_ma * 1000
    rig.run_rows(6000, 100, stop_on_event=False)                 # 60 s of direct current
    late = rig.run(100)
    late_ohms = late.voltage_v / late.mean_current_ma * 1000
    assert late_ohms == pytest.approx(2000, rel=0.02)
    assert late.load_ohms == pytest.approx(2000, rel=0.01)
    assert early_ohms >= 1.10 * late_ohms                        # fell by more than 9 % after onset


@pytest.mark.req("SRS-030")
@pytest.mark.parametrize("capacitance_uf,charged", [(10.0, True), (0.01, False)])
def test_skin_capacitance_holds_charge_after_the_output_cuts(capacitance_uf, charged):
    """R || C: with the stage off, the electrode shows the skin capacitor's
    voltage, decaying with R_skin * C (14 ms at 10 uF, 14 us at 0.01 uF)."""
    rig = ramped_rig(2000, 10.0, capacitance_uf)
    rig.enable_output(False)
    after_1ms = rig.run(10)
    assert after_1ms.mean_current_ma == 0.0
    if charged:
        assert after_1ms.voltage_v > 10.0
    else:
        assert after_1ms.voltage_v < 0.01


@pytest.mark.req("SRS-031")
def test_same_seed_same_run_other_seed_other_noise():
    def trace(seed):
        rig = SimulatedRig(seed=seed)
        rig.command(12.0, 5.0)
        rig.arm(CLEAR)
        rig.enable_output(True)
        rows = list(rig.run_rows(300, 100, stop_on_event=False).rows())
        return [(r.measured_current_ma, r.mean_current_ma, r.peak_current_ma, r.voltage_v, r.drive_v) for r in rows]

    assert trace(42) == trace(42)
    assert trace(42) != trace(43)


@pytest.mark.req("SRS-031")
def test_sensor_readings_are_quantised_and_noisy():
    reg_lsb_ua = 50_000 / 4096                                  # 12-bit ADC over 0..50 mA
    rig = ramped_rig(2000, 10.0)
    readings = [r.measured_current_ma * 1000 for r in rows_ticks(rig, 2000)]
    assert all(abs(x / reg_lsb_ua - round(x / reg_lsb_ua)) < 0.1 for x in readings)
    assert len(set(readings)) >= 4                              # noise spreads them
    assert max(readings) - min(readings) < 200                  # bounded noise (uA)


@pytest.mark.req("SRS-032")
@pytest.mark.parametrize("short_ohms", [1, 10, 100])
def test_hardware_clamp_40_ma_holds_whatever_the_drive(short_ohms):
    assert LIMITS.hardware_clamp_ma == 40.0
    rig = ramped_rig(2000, 25.0)                                # 50 V on the electrodes
    rig.short(short_ohms)
    batch = rig.run_rows(100, 1, stop_on_event=False)
    assert batch.max_current_ma == pytest.approx(40.0)          # would be 50 A at 1 ohm
    assert batch.last.fault == FaultCode.SHORT


@pytest.mark.req("SRS-033")
@pytest.mark.parametrize("at_tick", [1, 37, 999])
def test_events_act_at_the_tick_they_are_applied(at_tick):
    rig = ramped_rig(2000, 10.0)
    rig.run_rows(at_tick, 1, stop_on_event=False)
    rig.lift_off()
    assert rig.run(1).mean_current_ma == 0.0                    # the very next tick
    rig.run_rows(100, 10, stop_on_event=False)
    rig.contact()
    rig.run_rows(at_tick, 1, stop_on_event=False)
    rig.short(100)
    assert rig.run(1).peak_current_ma > 0.0                     # sense current into the short


@pytest.mark.req("SRS-033")
def test_load_change_is_spread_linearly_over_the_given_time():
    rig = ramped_rig(4000, 5.0, settle_s=60.0)                  # onset settled: 4 kOhm
    rig.change_load(2000, 1.0)
    half = rig.run_rows(50, 100, stop_on_event=False).last      # 0.5 s
    assert half.load_ohms == pytest.approx(3000, rel=0.02)
    end = rig.run_rows(60, 100, stop_on_event=False).last
    assert end.load_ohms == pytest.approx(2000, rel=0.01)
    assert end.mean_current_ma == pytest.approx(5.0, abs=0.05)  # regulated throughout
    assert end.antishock_cuts == 0


@pytest.mark.req("SRS-033")
def test_stuck_channel_reads_the_stuck_value():
    rig = SimulatedRig(seed=3)
    rig.stick_sensor(0, 20.0)
    last = rig.run(3)
    assert last.measured_current_ma == 20.0                     # larger channel is reported
    assert last.fault == FaultCode.NONE                         # 3 ticks: not yet
    assert rig.run(5).fault == FaultCode.SENSOR_DISAGREE


@pytest.mark.req("SRS-034")
def test_row_peak_shows_the_spike_the_mean_hides():
    rig = ramped_rig(2000, 15.0)
    rig.short(10)
    batch = rig.run_rows(1, 1000, stop_on_event=False)           # one 100 ms row
    row = batch.last
    assert row.peak_current_ma == pytest.approx(40.0)           # the one-tick clamp spike
    assert row.mean_current_ma < 1.0                            # averages it away
    assert batch.max_current_ma == row.peak_current_ma


@pytest.mark.req("SRS-034")
def test_batch_totals_match_the_rows():
    rig = SimulatedRig(seed=8)
    rig.command(10.0, 5.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    batch = rig.run_rows(500, 100, stop_on_event=False)
    rows = list(batch.rows())
    assert len(rows) == batch.rows_run == 500
    row_s = 100 / LIMITS.tick_hz
    assert batch.charge_mas == pytest.approx(sum(r.mean_current_ma * row_s for r in rows), rel=1e-9)
    assert batch.max_current_ma == max(r.peak_current_ma for r in rows)
    assert all(r.peak_current_ma >= r.mean_current_ma for r in rows)
    assert batch.events & EVENT_AT_TARGET


@pytest.mark.req("SRS-034")
def test_run_rows_stops_after_the_first_row_with_an_event():
    # settled past the skin's DC onset (10 s time constant), whose falling
    # load is itself an event (EVENT_LOAD_MOVED, SRS-092) while it lasts
    rig = ramped_rig(2000, 15.0, settle_s=60.0)
    batch = rig.run_rows(1000, 100)
    assert batch.rows_run == 1000 and batch.events == 0         # nothing happened
    rig.change_load(1500, 0.0)
    batch = rig.run_rows(1000, 100)
    assert batch.rows_run == 1 and batch.events & EVENT_ANTISHOCK
    assert batch.last.events == batch.events
    rig.short(100)                                              # found on the re-ramp (>= 0.5 mA)
    for _ in range(20):   # the falling load estimate ends batches on the way (EVENT_LOAD_MOVED)
        batch = rig.run_rows(1000, 100)
        rows = list(batch.rows())
        assert batch.events == rows[-1].events and batch.events != 0
        assert all(r.events == 0 for r in rows[:-1]) and batch.rows_run < 1000
        if batch.events & EVENT_FAULT:
            break
    assert batch.events & EVENT_FAULT


@pytest.mark.req("SRS-034")
def test_twenty_minute_session_in_one_call():
    """The 12 M-tick path of a whole session (its speed is benchmarked, not tested)."""
    rig = SimulatedRig(seed=1)
    rig.command(15.0, 0.5)
    rig.arm(CLEAR)
    rig.enable_output(True)
    batch = rig.run_rows(120_000, 100, stop_on_event=False)     # 20 min, 10 ms rows
    assert batch.ticks == 12_000_000 and batch.last.fault == FaultCode.NONE
    assert batch.charge_mas == pytest.approx(15.0 * 1200 - 15.0 * 30 / 2, rel=0.01)


@pytest.mark.req("SRS-092", "SRS-034")
@pytest.mark.parametrize("to_ohms", [2300.0, 3000.0, 4000.0])   # below a 4x step (contact lost, SRS-024)
def test_a_batch_ends_at_the_row_where_the_load_estimate_moved(to_ohms):
    """A shrinking contact area ends the batch within a row or two of the
    load estimate moving by more than SIM_LOAD_MOVED_PERCENT (5 %), so the
    supervisor's density check acts at once, not at the next batch."""
    from core.regulator import EVENT_LOAD_MOVED
    rig = ramped_rig(2000, 5.0, settle_s=60.0)
    rig.change_load(to_ohms, 0.0)
    batch = rig.run_rows(1000, 100)
    assert batch.events & EVENT_LOAD_MOVED
    assert batch.rows_run <= 2
    assert abs(batch.last.load_estimate_ohms - 2000.0) > 0.05 * 2000.0

