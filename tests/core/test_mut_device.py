"""The simulated device (core/device.py `SimulatedDevice`; issue 12 point 2,
mutation run of the module): the C regulator with the C load model through
`core.regulator.SimulatedRig` (SRS-067), its own clock and loop-tick count
(SRS-091) and the load events the scenarios act with (SRS-033).

Each test is one fast check of what the Device protocol or the class's
docstrings promise: commands, load events and batching give, row for row,
what the rig gives for the same calls; the tick count, the simulated clock,
clock drift, a stopped loop and the output disconnect with their figures.
"""
from __future__ import annotations

import pytest

from core.device import Device, SimulatedDevice
from core.regulator import (EVENT_AT_TARGET, LIMITS, CommandRejected, FaultCode, Polarity, RowBatch,
                            SimulatedRig)
from core.regulator import lib
from tests.arming_kit import CLEAR

TICK_HZ = 10_000          # the regulator's tick rate (SRS-001's 100 us tick)


def _same(batch: RowBatch, twin: RowBatch) -> None:
    """Two batches agree in every row and every total."""
    assert (batch.rows_run, batch.events, batch.charge_mas, batch.max_current_ma) == \
        (twin.rows_run, twin.events, twin.charge_mas, twin.max_current_ma)
    assert list(batch.rows()) == list(twin.rows())


def _twins(seed: int = 0, load_ohms: float = 2000.0):
    return SimulatedDevice(seed=seed, load_ohms=load_ohms), SimulatedRig(seed=seed, load_ohms=load_ohms)


def _advance_both(dev: SimulatedDevice, rig: SimulatedRig, max_rows: int, ticks_per_row: int) -> RowBatch:
    """The device's batch, checked against the rig's own: per-row kicks and a
    stop at the first row with an event (Device.advance's contract)."""
    batch = dev.advance(max_rows, ticks_per_row)
    _same(batch, rig.run_rows(max_rows, ticks_per_row, kick_each_row=True, stop_on_event=True))
    return batch


def _run_for(dev: SimulatedDevice, seconds: float, ticks_per_row: int = 100,
             rig: SimulatedRig | None = None) -> RowBatch:
    """Advance (batches end early on events) by the rows that make `seconds`
    of simulated time; the last batch. With `rig`, each batch is checked
    against the rig's own. Counted in rows run, never in the device's clock,
    so that a wrong clock fails a test instead of looping."""
    rows_left = round(seconds * TICK_HZ / ticks_per_row)
    while True:
        batch = (dev.advance(rows_left, ticks_per_row) if rig is None
                 else _advance_both(dev, rig, rows_left, ticks_per_row))
        assert 1 <= batch.rows_run <= rows_left
        rows_left -= batch.rows_run
        if rows_left == 0:
            return batch


# ---- what the device is: the protocol, its limits, the default load --------

@pytest.mark.req("SRS-067")
def test_the_simulated_device_is_a_device_with_the_regulators_limits():
    dev = SimulatedDevice()
    assert isinstance(dev, Device)
    assert dev.tick_hz == TICK_HZ and type(dev.tick_hz) is int
    assert (dev.hard_limit_ma, dev.compliance_v, dev.watchdog_ms) == (30.0, 60.0, 50.0)
    assert (dev.hard_limit_ma, dev.compliance_v, dev.watchdog_ms) == \
        (LIMITS.hard_limit_ma, LIMITS.compliance_v, LIMITS.watchdog_ms)
    assert all(type(v) is float for v in (dev.hard_limit_ma, dev.compliance_v, dev.watchdog_ms))


@pytest.mark.req("SRS-067", "SRS-091")
def test_a_new_device_has_run_no_tick_and_no_time():
    dev = SimulatedDevice()
    assert dev.loop_ticks == 0
    assert dev.simulated_time_s == 0.0


@pytest.mark.req("SRS-067", "SRS-030")
def test_the_default_device_is_the_rig_at_seed_0_and_2_kohm():
    dev, rig = SimulatedDevice(), SimulatedRig(seed=0, load_ohms=2000.0)
    for dv in (dev, rig):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    for _ in range(3):
        _same(dev.advance(100, 100), rig.run_rows(100, 100))


@pytest.mark.req("SRS-067", "SRS-031")
@pytest.mark.parametrize("seed,load_ohms", [(7, 1500.0), (1, 2000.0), (0, 3000.0)])
def test_seed_and_load_reach_the_rig(seed, load_ohms):
    dev, rig = _twins(seed, load_ohms)
    for dv in (dev, rig):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    for _ in range(4):
        _advance_both(dev, rig, 100, 100)
    # and another seed or load is told apart by the same comparison
    other = SimulatedRig(seed=seed + 1, load_ohms=load_ohms)
    again = SimulatedDevice(seed=seed, load_ohms=load_ohms)
    for dv in (other, again):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    assert list(again.advance(100, 100).rows()) != list(other.run_rows(100, 100).rows())


@pytest.mark.req("SRS-067", "SRS-258")
@pytest.mark.parametrize("seed,load_ohms,capacitance_uf", [(7, 1500.0, 0.1), (1, 2500.0, 10.0)])
def test_seed_load_and_skin_capacitance_reach_the_rig(seed, load_ohms, capacitance_uf):
    # a device built with a skin capacitance runs the rig of that seed, load
    # and capacitance row for row; the default capacitance, another seed or
    # another load would be told apart by the same comparison
    dev = SimulatedDevice(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    twin = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    others = [SimulatedRig(seed=seed, load_ohms=load_ohms), SimulatedRig(seed=seed + 1, load_ohms=load_ohms,
              capacitance_uf=capacitance_uf), SimulatedRig(seed=seed, load_ohms=2000.0, capacitance_uf=capacitance_uf)]
    for dv in (dev, twin, *others):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    batch = dev.advance(100, 100)
    _same(batch, twin.run_rows(100, 100, kick_each_row=True, stop_on_event=True))
    rows = list(batch.rows())
    for other in others:
        assert rows != list(other.run_rows(100, 100, kick_each_row=True, stop_on_event=True).rows())


# ---- commands ---------------------------------------------------------------

@pytest.mark.req("SRS-067")
def test_command_and_enable_reach_the_regulator_the_reference_rises_at_the_slew():
    dev, rig = _twins()
    for dv in (dev, rig):
        dv.command(5.0, 2.5)
        dv.arm(CLEAR)
        dv.enable_output(True)
    batch = _run_for(dev, 0.2, 100, rig)       # 0.2 s at 2.5 mA/s
    assert dev.simulated_time_s == pytest.approx(0.2, abs=1e-12)
    assert batch.last.target_ma == 5.0 and batch.last.output_enabled
    assert batch.last.reference_ma == pytest.approx(0.5, abs=0.001)
    dev.enable_output(False)
    assert not dev.advance(1, 100).last.output_enabled


@pytest.mark.req("SRS-067", "SRS-016")
def test_set_polarity_swaps_the_electrodes_with_the_output_off():
    dev = SimulatedDevice()
    assert dev.advance(1, 100).last.polarity is Polarity.NORMAL
    dev.set_polarity(Polarity.REVERSED)
    assert dev.advance(1, 100).last.polarity is Polarity.REVERSED


@pytest.mark.req("SRS-067", "SRS-015")
def test_a_stall_trips_the_watchdog_within_50_ms_and_reset_fault_clears_it():
    dev = SimulatedDevice()
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    _run_for(dev, 0.1)
    dev.stall(300)
    rows = 0
    while True:                # rows of 1 ms: the fault within 50 ms and one row
        batch = dev.advance(1000, 10)
        rows += batch.rows_run
        if batch.last.fault:
            break
        assert rows <= 51
    assert batch.last.fault is FaultCode.WATCHDOG and not batch.last.output_enabled
    _run_for(dev, 0.3)          # the stall over, no current: a reset is allowed
    dev.reset_fault()
    assert dev.advance(1, 100).last.fault is FaultCode.NONE


@pytest.mark.req("SRS-067", "SRS-015")
def test_advance_kicks_the_watchdog_each_row_no_fault_over_a_second():
    dev, rig = _twins()
    for dv in (dev, rig):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    batch = _run_for(dev, 1.0, 100, rig)     # rows of 10 ms, watchdog 50 ms
    assert dev.simulated_time_s == pytest.approx(1.0, abs=1e-12)
    assert batch.last.fault is FaultCode.NONE and batch.last.output_enabled
    assert batch.last.reference_ma == pytest.approx(5.0)


@pytest.mark.req("SRS-067")
def test_advance_returns_after_the_first_row_with_an_event():
    dev = SimulatedDevice()
    dev.command(0.5, 5.0)     # at target after 0.1 s
    dev.arm(CLEAR)
    dev.enable_output(True)
    rows = 0
    for _ in range(100):       # each batch ends at an event (a load move or the target)
        batch = dev.advance(1000, 10)
        assert 1 <= batch.rows_run <= 1000
        rows += batch.rows_run
        if batch.events & EVENT_AT_TARGET:
            break
    assert batch.last.reference_ma == 0.5
    assert rows * 10 / TICK_HZ == pytest.approx(0.1, abs=0.001)
    assert batch.rows_run < 1000


@pytest.mark.req("SRS-067", "SRS-092")
def test_search_contact_is_refused_with_the_output_off_and_runs_with_it_on():
    dev = SimulatedDevice()
    with pytest.raises(CommandRejected) as err:
        dev.search_contact()
    assert "output is not enabled" in str(err.value)
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    _run_for(dev, 0.2)
    dev.search_contact()
    batch = dev.advance(10, 100)
    assert batch.last.reference_ma == 0.0       # the sense level only: reference 0 at once
    assert batch.last.peak_current_ma <= 0.010


# ---- the loop's tick count and the simulated clock (SRS-091) -----------------

@pytest.mark.req("SRS-091")
def test_loop_ticks_and_simulated_time_count_every_tick_run():
    dev = SimulatedDevice()
    batch = dev.advance(3, 100)
    assert batch.rows_run == 3
    assert dev.loop_ticks == 300 and batch.loop_ticks == 300
    assert dev.simulated_time_s == pytest.approx(0.03, abs=1e-12)
    batch = dev.advance(2, 50)
    assert dev.loop_ticks == 400 and batch.loop_ticks == 400
    assert dev.simulated_time_s == pytest.approx(0.04, abs=1e-12)


@pytest.mark.req("SRS-091")
@pytest.mark.parametrize("percent,gained", [(2.0, 200), (-2.0, -200), (0.5, 50)])
def test_clock_drift_gains_its_percent_of_the_ticks_on_the_simulated_clock(percent, gained):
    dev = SimulatedDevice()
    dev.advance(10, 100)                       # 1000 ticks before the drift
    dev.clock_drift(percent)
    for _ in range(10):                         # 10 000 ticks, 1 s, drifting
        batch = dev.advance(10, 100)
        assert batch.loop_ticks == dev.loop_ticks
    assert dev.simulated_time_s == pytest.approx(1.1, abs=1e-12)
    assert dev.loop_ticks == 11_000 + gained
    dev.clock_drift(0)                          # back to the right rate: the gain stays
    dev.advance(10, 100)
    assert dev.loop_ticks == 12_000 + gained


@pytest.mark.req("SRS-091")
def test_a_stopped_loop_runs_no_tick_keeps_its_output_and_the_clock_goes_on():
    dev = SimulatedDevice()
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    before = _run_for(dev, 0.3)
    ticks = dev.loop_ticks
    dev.stop_ticks()
    batch = dev.advance(10, 100)
    assert dev.loop_ticks == ticks and batch.loop_ticks == ticks
    assert dev.simulated_time_s == pytest.approx(0.4, abs=0.011)
    # the stage keeps its last command: current still flows
    assert batch.last.mean_current_ma >= 0.5 * before.last.mean_current_ma > 0.5


@pytest.mark.req("SRS-091")
def test_disconnect_output_stops_the_current_whatever_the_stage_does():
    dev = SimulatedDevice()
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    assert _run_for(dev, 0.3).last.mean_current_ma > 0.5
    dev.disconnect_output()
    batch = _run_for(dev, 0.2)
    assert batch.last.output_enabled                     # the regulator still drives ...
    assert batch.last.mean_current_ma == 0.0 and batch.last.peak_current_ma == 0.0   # ... into an open circuit


# ---- load events (SRS-033): as the rig applies them ---------------------------

def _driven_twins():
    dev, rig = _twins()
    for dv in (dev, rig):
        dv.command(5.0, 5.0)
        dv.arm(CLEAR)
        dv.enable_output(True)
    for _ in range(3):
        _advance_both(dev, rig, 10, 100)
    return dev, rig


@pytest.mark.req("SRS-033", "SRS-067")
@pytest.mark.parametrize("event,args", [
    ("lift_off", ()), ("short", (150.0,)), ("change_load", (1000.0,)), ("change_load", (1000.0, 0.2)),
    ("stick_sensor", (1, 7.0)), ("stall", (80.0,)),
])
def test_a_load_event_acts_as_the_rigs(event, args):
    dev, rig = _driven_twins()
    getattr(dev, event)(*args)
    getattr(rig, event)(*(args if event != "change_load" or len(args) == 2 else args + (0.0,)))
    for _ in range(5):
        _advance_both(dev, rig, 10, 100)


@pytest.mark.req("SRS-033")
def test_lift_off_and_contact_change_the_model_load():
    dev = SimulatedDevice()
    dev.command(5.0, 5.0)
    dev.arm(CLEAR)
    dev.enable_output(True)
    _run_for(dev, 0.2)
    dev.lift_off()
    batch = dev.advance(10, 100)
    assert batch.last.load_ohms == float("inf") and batch.last.mean_current_ma == 0.0
    dev.contact()
    dev.search_contact()
    batch = _run_for(dev, 0.2)
    # the 2 kOhm load again (its skin part relaxing after the DC onset, SRS-030)
    assert batch.last.load_ohms == pytest.approx(SimulatedRig(load_ohms=2000.0).run(10).load_ohms, rel=0.05)


@pytest.mark.req("SRS-033")
def test_change_load_without_a_time_is_at_once_and_over_s_spreads_it():
    at_once, spread = SimulatedDevice(), SimulatedDevice()
    full = SimulatedRig(load_ohms=1000.0).run(10).load_ohms        # the model's load at 1 kOhm
    at_once.change_load(1000.0)
    assert at_once.advance(1, 100).last.load_ohms == full
    spread.change_load(1000.0, over_s=1.0)
    half = _run_for(spread, 0.5).last.load_ohms
    assert full < half < SimulatedRig(load_ohms=2000.0).run(10).load_ohms
    assert _run_for(spread, 0.6).last.load_ohms == full


@pytest.mark.req("SRS-033")
def test_short_and_stuck_sensor_figures():
    dev = SimulatedDevice()
    dev.short(150.0)
    assert dev.advance(1, 100).last.load_ohms == 150.0
    dev.stick_sensor(0, 7.0)
    assert dev.advance(1, 100).last.measured_current_ma == 7.0


@pytest.mark.req("SRS-317")
def test_fail_settled_reaches_the_rigs_settled_sampling():
    dev = SimulatedDevice()
    dev.fail_settled("scaled", 0.4)
    assert (dev._rig._rig.settled_fault, dev._rig._rig.settled_gain_permille) == (lib.SIM_SETTLED_SCALED, 400)
    dev.fail_settled("stale")
    assert (dev._rig._rig.settled_fault, dev._rig._rig.settled_gain_permille) == (lib.SIM_SETTLED_STALE, 1000)
