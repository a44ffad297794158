"""Exact-boundary tests of the regulator's protective functions, written
against the mutants that survived the earlier regulator tests (issue 12
point 1): each test states a requirement at its number, on both sides of it.

The bare regulator is driven by a small ideal plant (a resistor: the current
is drive / R, the voltage reading is the drive; under the sense level the
current through the sense resistor and the divider voltage). A live channel
must move (SRS-026, SRS-130 noise floor), so the plant adds a deterministic
dither of DITHER_UA = 13 uA (about 1 LSB) to every other current reading
above the open-circuit noise bound; a boundary test turns it off on the
readings it judges or picks its sign so that it keeps the load on the side
the test states. Every reading is thus known to the microampere.
scripts/c_mutation.py runs this file first.
"""
from __future__ import annotations

import pytest

from core.regulator import LIMITS, FaultCode, Regulator
from core.regulator import ffi, lib     # the wrapper's handles: only it imports the cffi module (SRS-035)
from tests.arming_kit import CLEAR

FLAG_CUT = lib.REG_FLAG_ANTISHOCK_CUT
WINDOW_TICKS = lib.REG_TRANSIENT_WINDOW_TICKS
HOLDOFF_TICKS = lib.REG_ANTISHOCK_HOLDOFF_TICKS
Q2_PER_MV = 1 << 20
# SRS-130: a live channel moves by >= 1 LSB (12.2 uA) rms; the plant's dither
# of 13 uA on every other reading makes every capped tick-to-tick change
# 13 uA (mean 13 uA, 2.6x the 5 uA floor), so long plain-drive runs never
# latch SENSOR_FROZEN
DITHER_UA = 13


class Plant:
    """A bare regulator on an ideal resistive load, kicked every tick."""

    def __init__(self, target_ua: int = 1000, slew_na_per_s: int = 5_000_000, ohms: int = 1000):
        self.reg = Regulator()
        assert self.reg.raw_command(target_ua, slew_na_per_s) == lib.REG_OK
        self.reg.arm(CLEAR)
        assert self.reg.raw_enable(1) == lib.REG_OK
        self.ohms = ohms
        self.out = None
        self.k = 0

    def readings(self) -> tuple[int, int]:
        out = self.out
        if out is None or not out.stage_on:
            return 0, 0
        if out.sense:    # the sense level through its resistor into the load
            ua = out.drive_mv * 1000 // (lib.REG_SENSE_SERIES_OHMS + self.ohms)
            return ua, ua * self.ohms // 1000
        return out.drive_mv * 1000 // self.ohms, out.drive_mv

    def tick(self, extra_ua: int = 0, current_ua: int | None = None, voltage_mv: int | None = None,
             dither_sign: int = 1):
        i_ua, v_mv = self.readings()
        if current_ua is not None:
            i_ua = current_ua
        if voltage_mv is not None:
            v_mv = voltage_mv
        # a live channel is never frozen or quiet (SRS-026, SRS-130): DITHER_UA
        # added on every other reading above the open-circuit noise bound; its
        # sign (or 0) is chosen by a boundary test to keep the load on the side
        # it states
        dither = dither_sign * DITHER_UA * (self.k % 2) if i_ua > lib.REG_OPEN_NOISE_UA else 0
        self.k += 1
        self.reg.kick_watchdog()
        self.out = self.reg.step(i_ua + dither + extra_ua, i_ua + dither + extra_ua, v_mv)
        return self.out

    def run(self, ticks: int):
        for _ in range(ticks):
            out = self.tick()
            assert out.fault == FaultCode.NONE, out
        return self.out

    def ramped(self):
        # 1 mA at 5 mA/s: 0.2 s. The reference slews on during the 10 ms enable
        # probe (SRS-010); at 1 kOhm the 70 mV boot bound already gives a
        # reading above 50 uA, so the blind-rise bound (SRS-025) never holds
        # the reference back (first 160 uA reading after ~32 ms)
        self.run(2000)
        assert self.out.reference_ua == self.reg._reg.target_ua and self.out.sense == 0
        return self

    def cut(self):
        """One reading above the anti-shock band: a cut, then the hold-off."""
        out = self.tick(extra_ua=self.reg._reg.setpoint_ua // 5 + lib.REG_ANTISHOCK_FLOOR_UA + 100)
        assert out.flags & FLAG_CUT, out
        for _ in range(HOLDOFF_TICKS):
            self.tick()
        return out


# ---- SRS-017: reset refused from exactly 0.1 mA -----------------------------

def _latched() -> Regulator:
    reg = Regulator()
    out = reg.step(-1, 0, 0)                                  # implausible reading: a fault
    assert out.fault == FaultCode.SENSOR_RANGE
    return reg


@pytest.mark.req("SRS-017")
@pytest.mark.parametrize("a_ua,b_ua", [(100, 0), (0, 100), (100, 100)])
def test_reset_is_refused_at_exactly_0_1_ma_on_either_channel(a_ua, b_ua):
    reg = _latched()
    reg.step(a_ua, b_ua, 0)
    assert reg.raw_reset_fault() == lib.REG_ERR_RESET_REFUSED
    assert reg.step(0, 0, 0).fault == FaultCode.SENSOR_RANGE


@pytest.mark.req("SRS-017")
def test_reset_is_accepted_at_99_ua_and_clears_the_fault():
    reg = _latched()
    reg.step(99, 99, 0)
    assert reg.raw_reset_fault() == lib.REG_OK
    assert reg.step(0, 0, 0).fault == FaultCode.NONE
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK


@pytest.mark.req("SRS-017")
def test_reset_clears_the_transient_history():
    plant = Plant().ramped()
    plant.cut()
    plant.cut()
    assert plant.cut().fault == FaultCode.TRANSIENTS
    plant.tick(current_ua=0, voltage_mv=0)
    assert plant.reg.raw_reset_fault() == lib.REG_OK
    assert plant.reg._reg.cut_stored == 0 and plant.reg._reg.cut_index == 0
    plant.reg.arm(CLEAR)
    assert plant.reg.raw_enable(1) == lib.REG_OK
    plant.out = None
    plant.ramped()
    assert plant.cut().fault == FaultCode.NONE                # one cut after the reset: no fault


# ---- SRS-012: the short threshold at 250 ohm, 0.5 mA, 5 ticks ---------------

def _short_ticks(current_ua: int, voltage_mv: int, ticks: int, dither_sign: int = -1) -> list:
    plant = Plant(target_ua=1000).ramped()
    return [plant.tick(current_ua=current_ua, voltage_mv=voltage_mv, dither_sign=dither_sign) for _ in range(ticks)]


@pytest.mark.req("SRS-012")
def test_load_just_below_250_ohm_is_a_short_on_the_5th_tick():
    # 1002 / 1015 uA at 250 mV (the dither added, +13 uA): 249.5 / 246.3 ohm,
    # below the threshold on every reading
    outs = _short_ticks(1002, 250, 5, dither_sign=1)
    assert all(o.fault == FaultCode.NONE for o in outs[:4])
    assert outs[4].fault == FaultCode.SHORT and outs[4].stage_on == 0 and outs[4].drive_mv == 0
    assert lib.REG_SHORT_OHMS == 250 and lib.REG_SHORT_TICKS == 5


@pytest.mark.req("SRS-012")
def test_load_of_exactly_250_ohm_is_not_a_short():
    # 1000 / 987 uA at 250 mV (the dither subtracted, -13 uA): 250 / 253.3 ohm
    outs = _short_ticks(1000, 250, 40, dither_sign=-1)
    assert all(o.fault == FaultCode.NONE for o in outs)
    # exactly 250 ohm on every reading, for 10 ticks (a steady reading is
    # judged frozen only after 20, and the SRS-130 mean of 13 uA decays to
    # 13 x (31/32)^10 = 9.4 uA, above 5 uA): not below the threshold, no short
    outs = _short_ticks(1000, 250, 10, dither_sign=0)
    assert all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-012")
def test_short_needs_half_a_milliamp():
    plant = Plant(target_ua=1000).ramped()
    plant.reg._reg.short_count = 0
    # exactly 499 uA on a dead short for 10 ticks (no dither: frozen only
    # after 20 equal readings, the SRS-130 mean stays above 5 uA), then
    # 486/499 uA (dither subtracted): below 0.5 mA on every reading
    for k in range(40):
        out = plant.tick(current_ua=499, voltage_mv=0, dither_sign=0 if k < 10 else -1)
        assert max(plant.reg._reg.last_a_ua, plant.reg._reg.last_b_ua) <= 499
        assert out.fault == FaultCode.NONE
    plant = Plant(target_ua=1000).ramped()
    # 500..514 uA (dither added): at or above 0.5 mA on every reading
    outs = [plant.tick(current_ua=500 + (k % 2), voltage_mv=0, dither_sign=1) for k in range(5)]
    assert all(o.fault == FaultCode.NONE for o in outs[:4])
    assert outs[-1].fault == FaultCode.SHORT


# ---- SRS-013: the 10 % arm of the channel comparison ------------------------

@pytest.mark.req("SRS-013")
@pytest.mark.parametrize("swap", [False, True])
def test_channels_10_percent_apart_are_tolerated_and_just_beyond_latch(swap):
    # at 10 mA the 10 % arm (1 mA) is above the 0.5 mA floor: it decides
    def pair(a, b):
        return (b, a) if swap else (a, b)
    reg = Regulator()
    for _ in range(50):                       # exactly 10 % of the larger: tolerated
        assert reg.step(*pair(10_000, 9_000), 10_000).fault == FaultCode.NONE
    for _ in range(4):
        assert reg.step(*pair(10_000, 8_999), 10_000).fault == FaultCode.NONE
    out = reg.step(*pair(10_000, 8_999), 10_000)
    assert out.fault == FaultCode.SENSOR_DISAGREE
    assert lib.REG_DISAGREE_PERCENT == 10 and lib.REG_DISAGREE_TICKS == 5


@pytest.mark.req("SRS-013")
def test_channels_just_over_the_floor_apart_latch_at_low_current():
    reg = Regulator()
    for _ in range(50):                       # 500 uA apart at 2 mA (25 %): within the floor
        assert reg.step(2000, 1500, 2000).fault == FaultCode.NONE
    outs = [reg.step(2000, 1499, 2000) for _ in range(5)]
    assert outs[3].fault == FaultCode.NONE and outs[4].fault == FaultCode.SENSOR_DISAGREE


# ---- API: status codes and NULL arguments (SRS-020) -------------------------

@pytest.mark.req("SRS-020")
def test_every_call_refuses_null_and_reports_success():
    state = ffi.new("reg_state_t *")
    inputs = ffi.new("reg_inputs_t *")
    out = ffi.new("reg_output_t *")
    null = ffi.NULL
    assert lib.reg_init(null) == lib.REG_ERR_NULL
    assert lib.reg_init(state) == lib.REG_OK
    assert lib.reg_command(null, 0, lib.REG_SLEW_MIN_NA_PER_S) == lib.REG_ERR_NULL
    assert lib.reg_enable(null, 0) == lib.REG_ERR_NULL
    assert lib.reg_set_polarity(null, lib.REG_POLARITY_NORMAL) == lib.REG_ERR_NULL
    assert lib.reg_kick(null) == lib.REG_ERR_NULL
    assert lib.reg_kick(state) == lib.REG_OK
    assert lib.reg_search_contact(null) == lib.REG_ERR_NULL
    assert lib.reg_reset_fault(null) == lib.REG_ERR_NULL
    assert lib.reg_tick(null, inputs, out) == lib.REG_ERR_NULL
    assert lib.reg_tick(state, null, out) == lib.REG_ERR_NULL
    assert lib.reg_tick(state, inputs, null) == lib.REG_ERR_NULL
    assert state.tick == 0                    # a refused tick changes nothing
    assert lib.reg_tick(state, inputs, out) == lib.REG_OK and state.tick == 1


@pytest.mark.req("SRS-020")
def test_init_sets_every_field_to_its_documented_start():
    state = ffi.new("reg_state_t *")
    ffi.memmove(state, b"\xa5" * ffi.sizeof("reg_state_t"), ffi.sizeof("reg_state_t"))
    assert lib.reg_init(state) == lib.REG_OK
    assert state.polarity == lib.REG_POLARITY_NORMAL and state.fault == lib.REG_FAULT_NONE
    assert state.slew_fa_per_tick == lib.REG_SLEW_MIN_NA_PER_S * 100
    assert state.last_a_ua == -1 and state.last_b_ua == -1
    assert state.r_est_q == lib.REG_REST_INIT_OHMS * 1024 // 1000
    assert state.boot_mv == lib.REG_BLIND_BOOT_LOW_MV
    assert list(state.cut_ticks) == [0] * lib.REG_TRANSIENT_COUNT
    zero = ("reference_ua", "reference_frac_fa", "target_ua", "permille_recip", "enabled", "contact_lost",
            "probing", "open_count", "contact_count", "short_count", "disagree_count", "watchdog_count",
            "holdoff_count", "compliance_count", "compliance_limited", "estimate_count", "load_q",
            "sense_sum_mv", "sense_n", "sense_hist_at", "sense_hist_n", "sense_max_mv", "last_max_ua", "last_drive_mv", "last_plain",
            "plausible_count", "frozen_a_count", "frozen_b_count", "saturated", "blind_held", "hold_on", "hold_ua",
            "hold_frac_fa", "setpoint_ua", "open_armed", "anchor_mv", "evidence", "integ_q2", "tick",
            "cut_index", "cut_stored", "cut_total")
    assert {f: getattr(state, f) for f in zero} == {f: 0 for f in zero}
    # SRS-130: the noise-floor filters start at the cap, with no last reading
    for q in (state.quiet_a, state.quiet_b):
        assert (q.prev_ua, q.mean_q) == (0, lib.REG_QUIET_STEP_CAP_UA * lib.REG_QUIET_Q)


# ---- SRS-003: a falling reference stops exactly at its target ---------------

@pytest.mark.req("SRS-003")
def test_reference_slewing_down_with_a_fraction_stops_at_the_target_never_below():
    reg = Regulator()
    assert reg.raw_command(1000, 3_000_000) == lib.REG_OK        # 0.3 uA per tick
    reg.arm(CLEAR)
    assert reg.raw_enable(1) == lib.REG_OK
    reg.kick_watchdog()
    reg.step(0, 0, 9)
    reg.step(0, 0, 9)                                            # 0.6 uA: 0 uA + 6e8 fA
    assert (reg._reg.reference_ua, reg._reg.reference_frac_fa) == (0, 600_000_000)
    assert reg.raw_command(0, 5_000_000) == lib.REG_OK           # 0.5 uA per tick down to 0
    refs = []
    for _ in range(4):
        out = reg.step(0, 0, 9)
        refs.append((out.reference_ua, reg._reg.reference_frac_fa))
    assert refs == [(0, 100_000_000), (0, 0), (0, 0), (0, 0)]


# ---- SRS-008: 3 cuts within 10 s, counted in ticks, at any time of a session

def _three_cuts(gap_first_to_third_ticks: int, run_before_ticks: int) -> int:
    plant = Plant().ramped()
    plant.run(run_before_ticks)
    plant.cut()
    t_first = plant.reg._reg.tick - HOLDOFF_TICKS                # the tick of the first cut
    plant.run(gap_first_to_third_ticks // 2)
    plant.cut()
    plant.run(gap_first_to_third_ticks - (plant.reg._reg.tick - t_first) - 1)
    out = plant.cut()
    assert plant.reg._reg.tick - HOLDOFF_TICKS - t_first == gap_first_to_third_ticks
    return out.fault


@pytest.mark.req("SRS-008")
@pytest.mark.parametrize("run_before_s", [0, 12])
def test_third_cut_one_tick_inside_the_window_latches_at_any_time(run_before_s):
    # 12 s of running first: the window is measured from the cuts, not from the start
    fault = _three_cuts(WINDOW_TICKS - 1, run_before_s * LIMITS.tick_hz)
    assert fault == FaultCode.TRANSIENTS


@pytest.mark.req("SRS-008")
@pytest.mark.parametrize("run_before_s", [0, 12])
def test_third_cut_exactly_10_s_after_the_first_does_not_latch(run_before_s):
    fault = _three_cuts(WINDOW_TICKS, run_before_s * LIMITS.tick_hz)
    assert fault == FaultCode.NONE
    assert WINDOW_TICKS == 10 * LIMITS.tick_hz and lib.REG_TRANSIENT_COUNT == 3


@pytest.mark.req("SRS-008")
def test_two_cuts_within_the_window_do_not_latch_and_the_third_does():
    plant = Plant().ramped()
    plant.run(3 * LIMITS.tick_hz)
    assert plant.cut().fault == FaultCode.NONE
    assert plant.cut().fault == FaultCode.NONE
    out = plant.cut()
    assert out.fault == FaultCode.TRANSIENTS and out.stage_on == 0 and out.drive_mv == 0


# ---- SRS-022: no windup behind the drive rise limit -------------------------

@pytest.mark.req("SRS-022")
def test_integrator_is_set_back_to_the_applied_drive_while_the_rise_limit_acts():
    plant = Plant(target_ua=5000, ohms=1000)
    plant.run(12_000)
    assert plant.out.reference_ua == 5000
    plant.ohms = 3000            # the load triples: the loop wants far more drive than 20 mV/tick
    limited = 0
    for _ in range(3000):
        before = plant.out.drive_mv
        out = plant.tick()
        assert out.fault == FaultCode.NONE
        assert out.drive_mv - before <= lib.REG_DRIVE_RISE_MV_PER_TICK
        if out.drive_mv - before == lib.REG_DRIVE_RISE_MV_PER_TICK:
            limited += 1
            # the integrator holds at most what was applied: no windup behind the limit
            assert plant.reg._reg.integ_q2 <= (out.drive_mv + 1) * Q2_PER_MV
        # when the drive has caught up the current settles without an overshoot
        # (a wound integrator would carry the drive on up at 20 mV per tick)
        assert not out.flags & FLAG_CUT
        assert plant.readings()[0] <= 5000 + lib.REG_ANTISHOCK_FLOOR_UA
    assert limited >= 50


# ---- SRS-024: the held setpoint is released when the reference falls below it

@pytest.mark.req("SRS-024")
def test_hold_is_released_when_a_lowered_reference_falls_below_it():
    # 10 mA into 10 kOhm needs 100 V: the drive saturates at 60 V. The ideal
    # plant cannot start at 10 kOhm: the SRS-025 boot bound (120 mV) gives it
    # 12 uA, never a reading above the 50 uA noise bound, and the reference
    # waits (a noisy channel shows such a current on some ticks). So 1 mA is
    # ramped on 1 kOhm, the load then rises by 10 ohm per tick to 10 kOhm
    # (the skin drying: no 4x fall of the current in one tick, SRS-024), and
    # then the target is raised to 10 mA.
    plant = Plant(target_ua=1000, ohms=1000).ramped()
    while plant.ohms < 10_000:
        plant.ohms += 10
        plant.run(1)
    assert plant.reg.raw_command(10_000, 5_000_000) == lib.REG_OK
    plant.run(30_000)
    state = plant.reg._reg
    assert state.hold_on == 1 and state.hold_ua < state.reference_ua
    held_ua = state.hold_ua
    assert held_ua <= lib.REG_COMPLIANCE_MV * 1000 // 10_000 + lib.REG_COMPLIANCE_HOLD_MARGIN_UA + 2
    assert plant.reg.raw_command(1000, 5_000_000) == lib.REG_OK
    released = None
    for k in range(20_000):
        plant.tick()
        assert state.setpoint_ua <= state.reference_ua
        if state.hold_on == 0:
            released = k
            break
    assert released is not None
    assert state.setpoint_ua == state.reference_ua <= held_ua


# ---- SRS-020: the tick counter saturates instead of overflowing -------------

@pytest.mark.req("SRS-020")
def test_tick_counter_saturates_at_its_maximum():
    reg = Regulator()
    reg._reg.tick = 2**63 - 2
    reg.step(0, 0, 0)
    assert reg._reg.tick == 2**63 - 1
    reg.step(0, 0, 0)
    assert reg._reg.tick == 2**63 - 1


# ---- SRS-007: the band at exactly 20 % of the reference ---------------------

@pytest.mark.req("SRS-007")
def test_antishock_band_is_exactly_20_percent_above_a_10_ma_reference():
    # at 10 mA the 20 % arm (2 mA) is above the 0.5 mA floor: it decides
    plant = Plant(target_ua=10_000, ohms=1000)
    plant.run(25_000)
    assert plant.reg._reg.setpoint_ua == 10_000
    # no dither on these two readings: they are exact
    out = plant.tick(current_ua=12_000, voltage_mv=plant.out.drive_mv, dither_sign=0)    # exactly +20 %: no cut
    assert not out.flags & FLAG_CUT and out.fault == FaultCode.NONE
    out = plant.tick(current_ua=12_001, voltage_mv=plant.out.drive_mv, dither_sign=0)    # +20 % + 1 uA: cut
    assert out.flags & FLAG_CUT and out.stage_on == 0
    assert lib.REG_ANTISHOCK_BAND_PERCENT == 20


# ---- SRS-010: the output turned off ends a lost contact ---------------------

@pytest.mark.req("SRS-010")
def test_disabling_the_output_clears_contact_lost():
    plant = Plant().ramped()
    out = None
    for _ in range(40):                                   # lift-off: no current, the drive on the electrodes
        out = plant.tick(current_ua=0)
    assert out.flags & lib.REG_FLAG_CONTACT_LOST
    assert plant.reg.raw_enable(0) == lib.REG_OK
    out = plant.tick(current_ua=0, voltage_mv=0)
    assert not out.flags & lib.REG_FLAG_CONTACT_LOST and out.stage_on == 0


# ---- SRS-025: the collapse tier fires only above the short threshold's drive

@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("ohms,lost", [(1000, True), (200, False)])
def test_collapse_to_noise_is_open_only_when_the_drive_is_above_a_short(ohms, lost):
    # 0.4 mA: armed (>= 160 uA), below the short check's 0.5 mA. At 1 kOhm the
    # drive (400 mV) is what a load above 250 ohm needs: a collapse is a lift-off
    # at once; at 200 ohm (80 mV) it is not, and the loop goes on regulating
    plant = Plant(target_ua=400, ohms=ohms)
    plant.run(3000)
    assert plant.reg._reg.open_armed == 1 and plant.reg._reg.setpoint_ua == 400
    out = plant.tick(current_ua=0)
    assert bool(out.flags & lib.REG_FLAG_CONTACT_LOST) == lost
    assert out.fault == FaultCode.NONE


# ---- SRS-007: the anti-shock band's 0.5 mA floor and the hold-off's length (PR-075's C mutation of control) ----


@pytest.mark.req("SRS-007")
def test_the_anti_shock_floor_is_0_5_ma_exactly_where_20_percent_is_less():
    """At 2 mA set the band is setpoint + max(20 % = 0.4 mA, 0.5 mA): a
    reading exactly 0.5 mA above the setpoint is no cut, 0.501 mA is
    (kills control's ROR > -> >= on the floor)."""
    p = Plant(target_ua=2000)
    p.run(6000)
    sp = p.reg._reg.setpoint_ua
    assert sp == 2000 and p.out.reference_ua == 2000
    out = p.tick(current_ua=sp + lib.REG_ANTISHOCK_FLOOR_UA, dither_sign=0)
    assert not out.flags & FLAG_CUT and out.stage_on == 1
    sp = p.reg._reg.setpoint_ua
    out = p.tick(current_ua=sp + lib.REG_ANTISHOCK_FLOOR_UA + 1, dither_sign=0)
    assert out.flags & FLAG_CUT and out.drive_mv == 0


@pytest.mark.req("SRS-007")
def test_the_hold_off_after_a_cut_lasts_exactly_10_ms():
    """After a cut the output holds off for REG_ANTISHOCK_HOLDOFF_TICKS (100
    ticks, 10 ms) flagged HOLDOFF, then drives again (kills control's
    CRP 0 -> 1 on the hold-off count, which ends it one tick early)."""
    assert HOLDOFF_TICKS == 100
    p = Plant(target_ua=1000).ramped()
    out = p.tick(extra_ua=p.reg._reg.setpoint_ua // 5 + lib.REG_ANTISHOCK_FLOOR_UA + 100)
    assert out.flags & FLAG_CUT
    held = 0
    while True:
        out = p.tick()
        if not out.flags & lib.REG_FLAG_HOLDOFF:
            break
        held += 1
        assert out.drive_mv == 0 and held <= 2 * HOLDOFF_TICKS
    assert held == HOLDOFF_TICKS


@pytest.mark.req("SRS-025", "SRS-007")
@pytest.mark.parametrize("v_mv,boot_mv", [(5000, lib.REG_BLIND_RISE_BOOT_MV), (4999, lib.REG_BLIND_BOOT_LOW_MV)])
def test_a_cut_reading_at_2500_ohm_exactly_restarts_from_the_high_boot_bound(v_mv, boot_mv):
    """The re-ramp after a cut starts from the blind-rise bound of the load
    the cut reading met: V/I >= REG_BLIND_BOOT_HIGH_OHMS (2500 ohm) the high
    bound, below it the low one. 2 mA at 5.000 V is 2500 ohm exactly, at
    4.999 V 2499.5 (kills control's AOR * -> / #3, CRP 1000LL -> 999/1001 and
    ROR >= -> > on that comparison)."""
    assert lib.REG_BLIND_BOOT_HIGH_OHMS == 2500
    p = Plant(target_ua=1000).ramped()
    out = p.tick(current_ua=2000, voltage_mv=v_mv, dither_sign=0)
    assert out.flags & FLAG_CUT
    assert p.reg._reg.boot_mv == boot_mv


@pytest.mark.req("SRS-014", "SRS-009")
@pytest.mark.parametrize("a_ua,b_ua,fault", [(50_000, 50_000, FaultCode.OVERCURRENT_TRIP),
                                             (50_001, 50_000, FaultCode.SENSOR_RANGE)])
def test_a_current_reading_of_50_ma_exactly_is_in_the_adc_range(a_ua, b_ua, fault):
    """50 000 uA is the ADC's last plausible reading: it trips (30 mA, V/I
    1.2 kOhm: OVERCURRENT_TRIP), 50 001 is out of range (SENSOR_RANGE; kills
    reg_tick's ROR > -> >= #1)."""
    reg = Regulator()
    out = reg.step(a_ua, b_ua, 60_000)
    assert out.fault == fault


# ---- the full run's survivors of s29 (scripts/c_mutation.py, every mutant) --

@pytest.mark.req("SRS-008")
def test_the_cut_history_holds_at_most_three_entries_over_any_number_of_cuts():
    """count_up saturates at its limit (design note): four cuts 5.1 s apart
    (no three within 10 s, no fault) leave 3 stored entries and a total of 4;
    a count past 3 would read a fourth entry of the three-entry ring."""
    plant = Plant().ramped()
    for k in range(4):
        out = plant.cut()
        assert out.fault == FaultCode.NONE
        assert (plant.reg._reg.cut_stored, plant.reg._reg.cut_total) == (min(k + 1, 3), k + 1)
        if k < 3:
            plant.run(WINDOW_TICKS * 51 // 100 - HOLDOFF_TICKS)


@pytest.mark.req("SRS-307")
def test_init_ends_the_arm_of_a_reused_struct():
    """reg_init writes every field (design note): a struct armed for an
    earlier session refuses an enable once initialised again."""
    reg = Regulator()
    reg.arm(CLEAR)
    assert reg._reg.armed == lib.REG_ARMED_PATTERN
    assert lib.reg_init(reg._reg) == lib.REG_OK
    assert reg._reg.armed == 0
    assert reg.raw_enable(1) == lib.REG_ERR_NOT_ARMED


@pytest.mark.req("SRS-002")
@pytest.mark.parametrize("target_ua", [1, 2, 3, 7, 999, 1000, 1001, 15000, 29999, 30000])
def test_the_flowing_fraction_is_the_reading_over_the_target_at_every_target(target_ua):
    """reg_command precomputes (1000 << 16) / target for the flowing fraction
    (design note): the reciprocal of each target, also after another target;
    a reading of half the target flows 500 per mille (499 by the floor of the
    reciprocal at odd targets), the whole target 1000 (999)."""
    reg = Regulator()
    assert reg.raw_command(30000 if target_ua != 30000 else 1, 1_000_000) == lib.REG_OK
    assert reg.raw_command(target_ua, 1_000_000) == lib.REG_OK
    assert reg._reg.permille_recip == 65_536_000 // target_ua
    for reading_ua, permille in ((target_ua // 2, 1000 * (target_ua // 2) // target_ua), (target_ua, 1000)):
        out = reg.step(reading_ua, reading_ua, 0)
        assert out.flowing_permille in (permille - 1, permille), (reading_ua, out.flowing_permille)


@pytest.mark.req("SRS-010")
def test_an_enable_after_an_upset_enable_word_restarts_from_zero_with_the_probe():
    """A new enable restarts from zero and starts the contact probe (design
    note), also when the enable word was cleared by an upset while driving
    (the reference, the integrator and the load estimate still held)."""
    plant = Plant().ramped()
    state = plant.reg._reg
    assert state.reference_ua == 1000 and state.integ_q2 > 0 and state.probing == 0
    state.enabled = 0                                           # an upset of the enable word
    assert plant.reg.raw_enable(1) == lib.REG_OK
    assert (state.enabled, state.probing, state.reference_ua, state.integ_q2, state.load_q) == (1, 1, 0, 0, 0)


@pytest.mark.req("SRS-092")
def test_a_contact_search_during_the_hold_off_after_a_cut_senses_at_once():
    """The search drops to the sense level flagged contact lost (design
    note): called in the 10 ms hold-off after an anti-shock cut, the next
    tick already senses (no HOLDOFF tick)."""
    plant = Plant().ramped()
    out = plant.tick(extra_ua=plant.reg._reg.setpoint_ua // 5 + lib.REG_ANTISHOCK_FLOOR_UA + 100)
    assert out.flags & FLAG_CUT and plant.reg._reg.holdoff_count == HOLDOFF_TICKS
    assert lib.reg_search_contact(plant.reg._reg) == lib.REG_OK
    assert plant.reg._reg.holdoff_count == 0
    out = plant.tick()
    assert not out.flags & lib.REG_FLAG_HOLDOFF and out.flags & lib.REG_FLAG_CONTACT_LOST and out.sense == 1


@pytest.mark.req("SRS-017")
def test_a_reset_with_a_fault_latched_starts_every_count_and_the_cut_history_again():
    """reg_reset_fault with a fault latched clears the fault, the counts of
    readings in a row of the sensor checks with the noise-floor filters, and
    the anti-shock history (design note), and never the watchdog count."""
    reg = _latched()
    reg.step(0, 0, 0)                                         # no current: a reset is allowed
    state = reg._reg
    counts = ("disagree_count", "plausible_count", "frozen_a_count", "frozen_b_count", "stuck_count",
              "settled_bad_count", "cut_index", "cut_stored")
    for k, name in enumerate(counts):
        setattr(state, name, k + 1)
    for i in range(lib.REG_TRANSIENT_COUNT):
        state.cut_ticks[i] = 1000 + i
    state.quiet_a.prev_ua, state.quiet_a.mean_q = 700, 5
    state.quiet_b.prev_ua, state.quiet_b.mean_q = 800, 6
    state.watchdog_count = 42
    assert reg.raw_reset_fault() == lib.REG_OK
    assert state.fault == lib.REG_FAULT_NONE
    assert {name: getattr(state, name) for name in counts} == {name: 0 for name in counts}
    assert list(state.cut_ticks) == [0] * lib.REG_TRANSIENT_COUNT
    start = (0, lib.REG_QUIET_STEP_CAP_UA * lib.REG_QUIET_Q)
    assert (state.quiet_a.prev_ua, state.quiet_a.mean_q) == start == (state.quiet_b.prev_ua, state.quiet_b.mean_q)
    assert state.watchdog_count == 42
