"""The settled pair's plausibility (SRS-312, PR-075): one fault of the
PWM-triggered sampling at the on-phase's end (lost, mistimed into the
off-phase, a board that never fills it) fails both settled channels together
and would hide contacts of 125-250 ohm in pulsed mode (SRS-311). Pulsed, the
pair cannot be right when its channels are apart beyond SRS-013's
max(0.5 mA, 10 %), when its larger channel is above the peak by that
tolerance, or, while the peak puts V/I below 250 ohm with >= 0.5 mA flowing,
when it puts V/I above 20 kOhm (REG_SETTLED_MAX_OHMS = REG_OPEN_OHMS);
6 such readings in a row (one more than the short's 5) latch SENSOR_DISAGREE
with the output off. The board template's unfilled default is out of range
and latches SENSOR_RANGE at the first pulsed tick."""
from __future__ import annotations

import pytest

from core.regulator import ffi, lib  # the wrapper's handle: only it imports the cffi module (SRS-035)
from core.regulator import LIMITS, FaultCode, Regulator
from tests.arming_kit import enabled_regulator

BAD_TICKS = 6                 # REG_SETTLED_BAD_TICKS: REG_SHORT_TICKS + 1
MAX_OHMS = 20_000             # REG_SETTLED_MAX_OHMS = REG_OPEN_OHMS (SRS-010)
TRAINS = [(4.3, 50), (5.0, 65), (10.0, 80)]
HELD: dict = {}


def test_the_constants_are_those_the_requirement_names():
    assert (lib.REG_SETTLED_BAD_TICKS, lib.REG_SETTLED_MAX_OHMS) == (BAD_TICKS, MAX_OHMS)
    assert lib.REG_SETTLED_BAD_TICKS == LIMITS.short_ticks + 1
    assert (lib.REG_DISAGREE_ABS_UA, lib.REG_DISAGREE_PERCENT) == (500, 10)


def _loop_step(reg: Regulator, out, k: int, peak_ohms: float, settled):
    """One closed-loop tick: the stage drives the electrodes, the peak is
    drive / peak_ohms on both channels (one LSB of dither: a live ADC,
    SRS-026), the settled pair settled(peak_ua, v_mv) -> (a, b); the sense
    level reads the 2 V divider."""
    reg.kick_watchdog()
    d = (k % 2) * 12
    if out.sense:
        return reg.step(9 + d, 9 + d, 5, settled_a_ua=9 + d, settled_b_ua=9 + d)
    v = out.drive_mv
    peak = int(v * 1000 / peak_ohms) + d
    sa, sb = settled(peak, v)
    return reg.step(peak, peak, v, settled_a_ua=sa, settled_b_ua=sb)


def _skin(settled_ohms: float):
    return lambda peak, v: (int(v * 1000 / settled_ohms),) * 2


def _held(train, target_ma: float, peak_ohms: float, settled_ohms: float):
    """Held at target_ma on a load whose peak reads peak_ohms and whose
    settled pulse reads settled_ohms (a skin RC: 130..240 on the series
    resistance, 700 settled, as PR-069's 700 ohm/0.1 uF); a copy of one held
    state per case. Returns (regulator, last output)."""
    key = (train, target_ma, peak_ohms, settled_ohms)
    if key not in HELD:
        reg = enabled_regulator(target_ma, train)
        out = reg.step(0, 0, 0)
        for k in range(int(target_ma / 5.0 * 10_000) + 3000):
            out = _loop_step(reg, out, k, peak_ohms, _skin(settled_ohms))
        assert out.fault == FaultCode.NONE and out.reference_ua == int(target_ma * 1000), out
        HELD[key] = (bytes(ffi.buffer(reg._reg, ffi.sizeof("reg_state_t"))), reg, out)
    snap, reg, out = HELD[key]
    ffi.memmove(reg._reg, snap, len(snap))
    return reg, out


def _run(held, n: int, peak_ohms: float, settled):
    """n closed-loop ticks from a held state, up to the first fault."""
    reg, out = held
    outs = []
    for k in range(n):
        out = _loop_step(reg, out, k, peak_ohms, settled)
        outs.append(out)
        if out.fault != FaultCode.NONE:
            break
    return outs


def _bare(reg: Regulator, n: int, a_ua: int, b_ua: int, v_mv: int, sa: int, sb: int):
    """n fixed readings (n < 20: no frozen channel, SRS-026), up to the first fault."""
    outs = []
    for _ in range(n):
        reg.kick_watchdog()
        outs.append(reg.step(a_ua, b_ua, v_mv, settled_a_ua=sa, settled_b_ua=sb))
        if outs[-1].fault != FaultCode.NONE:
            break
    return outs


def _assert_sensor_fault_at_6th(outs):
    assert [o.fault for o in outs] == [FaultCode.NONE] * (BAD_TICKS - 1) + [FaultCode.SENSOR_DISAGREE]
    assert outs[-1].stage_on == 0 and outs[-1].drive_mv == 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@pytest.mark.req("SRS-312", "SRS-311", "SRS-012")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("target_ma", [5.0, 15.0, 25.0])
@pytest.mark.parametrize("ohms", [130, 150, 200, 240])
def test_a_dead_settled_pair_where_the_peak_reads_125_to_250_ohm_latches_a_sensor_fault(train, target_ma, ohms):
    """Held on a load whose peak reads 130..240 ohm (the settled pulse 700):
    the pair then reads 0 (trigger lost, a board that leaves 0) or 1 uA below
    V / 20 kOhm (an off-phase sample with its noise): the 6th reading latches
    SENSOR_DISAGREE (0.6 ms), output off. At V / 20 kOhm (rounded up) the
    pair is plausible, and it reads no short (20 kOhm > 250): 200 ticks, no fault."""
    for dead in (lambda p, v: (0, 0),
                 lambda p, v: (_ceil_div(v * 1000, MAX_OHMS) - 1,) * 2):
        _assert_sensor_fault_at_6th(_run(_held(train, target_ma, ohms, 700), 40, ohms, dead))
    at_bound = lambda p, v: (_ceil_div(v * 1000, MAX_OHMS),) * 2
    outs = _run(_held(train, target_ma, ohms, 700), 200, ohms, at_bound)
    assert len(outs) == 200 and all(o.fault == FaultCode.NONE for o in outs)
    assert min(o.measured_ua for o in outs) >= target_ma * 1000 * 0.95


@pytest.mark.req("SRS-312", "SRS-311", "SRS-012")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("target_ma", [5.0, 15.0])
def test_healthy_settled_pairs_at_125_to_250_ohm_peaks_hold_for_2_s(train, target_ma):
    """The PR-069 loads: peak 150 / 210 ohm, settled 500 / 700 / 1000 ohm,
    2 s more at the target without a fault."""
    for peak_ohms, settled_ohms in ((150, 500), (210, 700), (240, 1000)):
        outs = _run(_held(train, target_ma, peak_ohms, settled_ohms), 20_000, peak_ohms, _skin(settled_ohms))
        assert len(outs) == 20_000 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-312", "SRS-311", "SRS-012")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("ohms", [100, 124])
def test_below_125_ohm_a_dead_pair_still_latches_short_first(train, ohms):
    """A metal contact below 125 ohm with the pair at 0, held at 5 mA on a
    500 ohm load (drive 2.5 V: the contact's 0.5..0.62 V is within SRS-023's
    2 V) then the contact read: the peak / 2 credit latches SHORT at the 5th
    reading, one before the plausibility's 6th."""
    reg, _ = _held(train, 5.0, 500, 500)
    outs = _bare(reg, 15, 5000, 5012, 5 * ohms, 0, 0)
    assert len(outs) == LIMITS.short_ticks and outs[-1].fault == FaultCode.SHORT


@pytest.mark.req("SRS-312", "SRS-311")
@pytest.mark.parametrize("train", TRAINS)
def test_the_v_over_i_bound_applies_only_where_the_peak_reads_a_short(train):
    """Held at 5 mA with the peak at 250 ohm: the pair at 0 with the peak at
    exactly 250 ohm is not judged, at 249.8 ohm it is; held at 0.5 mA on
    200 ohm: 0.499 mA is not judged, 0.5 mA is."""
    reg, _ = _held(train, 5.0, 250, 700)
    outs = _bare(reg, 15, 5000, 4988, 1250, 0, 0)
    assert len(outs) == 15 and all(o.fault == FaultCode.NONE for o in outs)
    reg, _ = _held(train, 5.0, 250, 700)
    _assert_sensor_fault_at_6th(_bare(reg, 15, 5000, 4988, 1249, 0, 0))
    reg, _ = _held(train, 0.5, 200, 700)
    outs = _bare(reg, 15, 499, 487, 100, 0, 0)
    assert len(outs) == 15 and all(o.fault == FaultCode.NONE for o in outs)
    reg, _ = _held(train, 0.5, 200, 700)
    _assert_sensor_fault_at_6th(_bare(reg, 15, 500, 488, 100, 0, 0))


def _tol(base_ua: int) -> int:
    """The largest difference SRS-013 allows against base_ua: max(500, 10 %)."""
    return max(500, base_ua // 10)


@pytest.mark.req("SRS-312", "SRS-013")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("target_ma", [2.0, 5.0, 15.0])
@pytest.mark.parametrize("low", ["a", "b"])
def test_settled_channels_apart_beyond_srs013_latch_a_sensor_fault(train, target_ma, low):
    """A 1000 ohm load (settled = peak): one settled channel lower than the
    other by max(0.5 mA, 10 % of the larger) is plausible for 200 ticks;
    1 uA more latches SENSOR_DISAGREE at the 6th reading."""
    def apart(extra):
        def f(p, v):
            lo = p - _tol(p) - extra
            return (lo, p) if low == "a" else (p, lo)
        return f
    outs = _run(_held(train, target_ma, 1000, 1000), 200, 1000, apart(0))
    assert len(outs) == 200 and all(o.fault == FaultCode.NONE for o in outs)
    _assert_sensor_fault_at_6th(_run(_held(train, target_ma, 1000, 1000), 40, 1000, apart(1)))


@pytest.mark.req("SRS-312", "SRS-013")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("target_ma", [2.0, 5.0, 15.0])
def test_a_settled_pair_above_the_peak_beyond_the_tolerance_latches_a_sensor_fault(train, target_ma):
    """The on-phase's end belongs to the pulse whose peak is held: the pair
    may read above the peak by max(0.5 mA, 10 % of the peak), not 1 uA more
    (6th reading: SENSOR_DISAGREE). A 1000 ohm load: no short either way."""
    def above(extra):
        return lambda p, v: (p + _tol(p) + extra,) * 2
    outs = _run(_held(train, target_ma, 1000, 1000), 200, 1000, above(0))
    assert len(outs) == 200 and all(o.fault == FaultCode.NONE for o in outs)
    _assert_sensor_fault_at_6th(_run(_held(train, target_ma, 1000, 1000), 40, 1000, above(1)))


@pytest.mark.req("SRS-312", "SRS-013")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("sa,sb,bad", [(15_000, 13_500, False), (15_000, 13_499, True),
                                       (13_500, 15_000, False), (13_499, 15_000, True),
                                       (16_500, 16_500, False), (16_501, 16_501, True)])
def test_the_10_percent_tolerance_is_exact_at_15_ma(train, sa, sb, bad):
    """Fixed readings at 15.000 mA (10 % = 1.5 mA exactly, above the 0.5 mA
    floor): channels 1.5 mA apart or the pair 1.5 mA above the peak are
    plausible for 15 readings, 1 uA more latches SENSOR_DISAGREE at the 6th."""
    reg, out = _held(train, 15.0, 1000, 1000)
    outs = _bare(reg, 15, 15_000, 14_988, out.drive_mv, sa, sb)
    if bad:
        _assert_sensor_fault_at_6th(outs)
    else:
        assert len(outs) == 15 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-312", "SRS-311")
@pytest.mark.parametrize("train", TRAINS)
@pytest.mark.parametrize("settled_ua,bad", [(50, False), (49, True)])
def test_the_20_kohm_bound_is_exact(train, settled_ua, bad):
    """Fixed readings at 5 mA, 1.000 V (the peak reads 200 ohm): a pair at
    50 uA is 20 kOhm exactly, plausible for 15 readings; at 49 uA (20.4 kOhm)
    SENSOR_DISAGREE at the 6th."""
    reg, _ = _held(train, 5.0, 200, 700)
    outs = _bare(reg, 15, 5000, 4988, 1000, settled_ua, settled_ua)
    if bad:
        _assert_sensor_fault_at_6th(outs)
    else:
        assert len(outs) == 15 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-312")
def test_the_count_needs_6_implausible_readings_in_a_row():
    """5 dead readings, one healthy, 5 dead: no fault; the next dead one
    (the 6th in a row) latches."""
    seq = iter([0] * 5 + [-1] + [0] * 6)
    def pair(p, v):
        s = next(seq)
        return (int(v * 1000 / 700),) * 2 if s < 0 else (0, 0)
    outs = _run(_held((4.3, 50), 15.0, 200, 700), 12, 200, pair)
    assert [o.fault for o in outs] == [FaultCode.NONE] * 11 + [FaultCode.SENSOR_DISAGREE]


@pytest.mark.req("SRS-312", "SRS-311")
def test_dc_does_not_read_the_settled_pair():
    """DC: the same dead or apart pair changes nothing (a 200 ohm contact at
    5 mA is a SHORT at the 5th reading, a 1000 ohm load at 15 mA no fault)."""
    reg, _ = _held(None, 5.0, 500, 500)
    outs = _bare(reg, 15, 5000, 5012, 1000, 0, 0)
    assert len(outs) == LIMITS.short_ticks and outs[-1].fault == FaultCode.SHORT
    outs = _run(_held(None, 15.0, 1000, 1000), 200, 1000, lambda p, v: (0, 40_000))
    assert len(outs) == 200 and all(o.fault == FaultCode.NONE for o in outs)


@pytest.mark.req("SRS-312", "SRS-210", "SRS-014")
def test_the_board_templates_unfilled_settled_inputs_latch_sensor_range_at_the_first_pulsed_tick():
    """hal_template.c leaves settled_a_ua/settled_b_ua at -1 (out of range):
    a board port that never fills them ends the first pulsed tick in
    SENSOR_RANGE; in DC they are not read."""
    hal = ffi.new("hal_t *")
    assert lib.hal_template_bind(hal) == lib.REG_OK
    inp = ffi.new("reg_inputs_t *")
    assert hal.read_inputs(ffi.NULL, inp) == lib.REG_OK
    assert (inp.settled_a_ua, inp.settled_b_ua) == (-1, -1)
    for train, fault in (((4.3, 50), FaultCode.SENSOR_RANGE), (None, FaultCode.NONE)):
        reg, _ = _held(train, 5.0, 1000, 1000)
        reg.kick_watchdog()
        out = reg.step(5000, 5000, 5000, settled_a_ua=inp.settled_a_ua, settled_b_ua=inp.settled_b_ua)
        assert out.fault == fault


@pytest.mark.req("SRS-210", "SRS-311", "SRS-312")
def test_the_board_interface_states_the_settled_inputs_and_the_not_gated_duty():
    """What the device maker implements (cext/hal.h read_inputs and the
    template's BOARD notes) names the settled inputs with their requirements
    and the duty that the on-phase samples follow the electrode while the
    stage is not gated (PR-066, review F2)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    hal = (root / "cext" / "hal.h").read_text()
    read_inputs = hal[:hal.index("int32_t (*read_inputs)")]
    for needle in ("settled_a_ua/settled_b_ua", "SRS-298", "SRS-311", "SRS-312", "follow\n     * the electrode"):
        assert needle in read_inputs, needle
    assert "(the settled pulse, SRS-012)" not in hal
    template = (root / "cext" / "hal_template.c").read_text()
    for needle in ("settled_a_ua/settled_b_ua", "SRS-298", "SRS-311", "not gated", "in->settled_a_ua = -1;",
                   "in->settled_b_ua = -1;"):
        assert needle in template, needle


@pytest.mark.req("SRS-312", "SRS-259")
@pytest.mark.parametrize("first,second", [((4.3, 50), (10.0, 50)), ((10.0, 80), (5.0, 65))])
def test_a_mode_change_restarts_the_settled_pair_count(first, second):
    """A new pulse train samples its on-phase's end anew: 5 implausible
    readings under the old train, output off, a new train, output on: the
    count starts again, and the 6th implausible reading under the new train
    latches SENSOR_DISAGREE, neither the 1st (the old count kept) nor the
    5th (restarted at 1)."""
    reg = enabled_regulator(5.0, first)
    # settled channels 0.6 mA apart (beyond SRS-013's 0.5 mA floor) under a 0.6 mA peak
    apart = (600, 600, 2000, 0, 600)
    assert [o.fault for o in _bare(reg, BAD_TICKS - 1, *apart)] == [FaultCode.NONE] * (BAD_TICKS - 1)
    reg.enable_output(False)
    reg.kick_watchdog()
    assert reg.step(0, 0, 0).fault == FaultCode.NONE           # output off: the pair is not judged
    reg.set_pulse(*second)                                      # accepted: output off, < 0.1 mA
    reg.enable_output(True)
    _assert_sensor_fault_at_6th(_bare(reg, 15, *apart))
