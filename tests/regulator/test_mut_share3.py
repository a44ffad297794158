"""Exact-edge tests of the regulator against the C mutants that survived
share 3 of scripts/c_mutation.py's 1-in-8 split (issue 12 point 1): each
states a requirement at its number, on both sides where one side alone
cannot fail. The limits are written here as the requirements state them,
not read from regulator_config.h: a test that reads the limit from the build
moves with a mutated limit and cannot fail.

The bare regulator is fed readings the test chooses, kicked every tick. At
plain drive the voltage reading is the last drive (a plausible channel,
SRS-023) unless a test says otherwise. A live channel must move (SRS-026,
SRS-130), so a steady current is read by the two channels 13 uA apart in
turn (each channel moves by 13 uA every tick; the larger reading, the one
the loop uses, stays the plant's current + 13 uA, or the current itself when
the test subtracts the 13 uA). scripts/c_mutation.py runs this file in its
FAST selection (< 1 s).
"""
from __future__ import annotations

import pytest

from core.regulator import FaultCode, Regulator, ResetRefused
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from _regulator_kit import tick
from test_mut_kill_detectors import enabled, setpoint_ua, window
from tests.arming_kit import CLEAR

DITHER_UA = 13                     # about 1 LSB (12.2 uA): a live channel's least noise (SRS-130)
FLAG_CONTACT_LOST = lib.REG_FLAG_CONTACT_LOST
FLAG_COMPLIANCE = lib.REG_FLAG_COMPLIANCE_LIMITED
PROBE_TICKS = 100                  # the enable probe: one 10 ms window at the sense level (SRS-010)


def live(reg: Regulator, i_ua: int, v_mv: int, k: int, sign: int = 1):
    """One plain-drive tick, no fault: the channels read i_ua and i_ua +
    sign x DITHER_UA (not below 0), swapped every tick (both move; the
    larger is fixed)."""
    d = sign * DITHER_UA
    return _pair(reg, max(0, i_ua + d * (k % 2)), max(0, i_ua + d * ((k + 1) % 2)), v_mv)


def _pair(reg: Regulator, a_ua: int, b_ua: int, v_mv: int):
    """One tick with the two channels given, kicked; no fault."""
    reg.kick_watchdog()
    out = reg.step(a_ua, b_ua, v_mv)
    assert out.fault == FaultCode.NONE, out
    return out


def on_plant(reg: Regulator, ohms: int, ticks: int, out, sign: int = 1):
    """ticks plain ticks on a resistor of `ohms`: the current drive / ohms,
    the voltage the drive; returns the last output."""
    for k in range(ticks):
        drive_mv = 0 if out.sense else out.drive_mv
        out = live(reg, drive_mv * 1000 // ohms, drive_mv, k, sign)
    return out


def after_probe(target_ua: int, probe_sum_mv: int = 0):
    """Enabled at target_ua (5 mA/s), the enable probe's window summing to
    probe_sum_mv (a contact): the probe's last tick."""
    reg = enabled(target_ua)
    out = window(reg, probe_sum_mv)
    assert out.flags & FLAG_CONTACT_LOST == 0
    return reg, out


# ---- SRS-026: a frozen channel latches at the 20th unchanged reading ----------

FROZEN_TICKS = 20                  # SRS-026: 20 ticks (2 ms) without a change


@pytest.mark.req("SRS-026")
@pytest.mark.parametrize("channel", ["a", "b"])
def test_a_frozen_channel_latches_at_its_20th_unchanged_reading(channel):
    """1 mA on 1 kOhm; then one channel reads ~1 mA on every tick (the
    other keeps moving by 13 uA): no fault through its 19th unchanged
    reading, SENSOR_FROZEN with the output off at the 20th. (Its quiet mean,
    SRS-130, is still above 5 uA: 13 uA steps before, 0 since.)"""
    reg, out = after_probe(1000)
    out = on_plant(reg, 1000, 2500, out)
    frozen_ua = out.measured_ua + 1     # the larger reading + 1: a change on either channel
    assert 990 <= frozen_ua <= 1020
    for k in range(FROZEN_TICKS + 1):   # its first reading of frozen_ua is a change
        live_ua = frozen_ua + DITHER_UA * (k % 2)
        a, b = (frozen_ua, live_ua) if channel == "a" else (live_ua, frozen_ua)
        reg.kick_watchdog()
        out = reg.step(a, b, out.drive_mv)
        if k < FROZEN_TICKS:
            assert out.fault == FaultCode.NONE, (k, out)
    assert out.fault == FaultCode.SENSOR_FROZEN
    assert out.stage_on == 0 and out.drive_mv == 0


# ---- SRS-130: the noise floor of each channel ----------------------------------

QUIET_Q = 64                       # SRS-130: the mean in 1/64 uA ...
QUIET_DIV = 32                     # ... filtered by 1/32 per reading ...
QUIET_CAP_UA = 50                  # ... each change counted up to 50 uA ...
QUIET_MIN_UA = 5                   # ... and below 5 uA it latches
NOISE_UA = 50                      # REG_OPEN_NOISE_UA: a reading above it is judged


def quiet_mean(mean_q: int, prev_ua: int, now_ua: int) -> int:
    """One judged reading of the noise-floor filter (C division truncates toward 0)."""
    d = min(abs(now_ua - prev_ua), QUIET_CAP_UA) * QUIET_Q - mean_q
    return mean_q + (d // QUIET_DIV if d >= 0 else -(-d // QUIET_DIV))


def quiet_session():
    """Output enabled at a target of 0 after a probe of a contact: the drive
    stays 0 and the currents are the test's. The first plain tick follows the
    probe (not judged) and the second follows a reading not judged: both
    restart the filter at 50 uA; the third reading is the first judged."""
    reg, out = after_probe(0)
    for _ in range(2):
        out = _pair(reg, 60, 60, 0)
    return reg, out


@pytest.mark.req("SRS-130")
@pytest.mark.parametrize("quiet_channel", ["a", "b"])
def test_one_quiet_channel_latches_while_the_other_is_live(quiet_channel):
    """One channel moves by 1 uA per reading (60/61 uA), the other by 13 uA:
    the quiet one's mean falls from 50 uA below 5 uA at the reading the
    filter of SRS-130 says (the 81st), and SENSOR_FROZEN latches there,
    though the other channel is live."""
    reg, out = quiet_session()
    mean_q, prev_ua, latch_at = QUIET_CAP_UA * QUIET_Q, 60, None
    for n in range(1, 200):
        quiet_ua, live_ua = 60 + n % 2, 60 + DITHER_UA * (n % 2)
        mean_q, prev_ua = quiet_mean(mean_q, prev_ua, quiet_ua), quiet_ua
        a, b = (quiet_ua, live_ua) if quiet_channel == "a" else (live_ua, quiet_ua)
        reg.kick_watchdog()
        out = reg.step(a, b, 0)
        if mean_q < QUIET_MIN_UA * QUIET_Q:
            latch_at = n
            break
        assert out.fault == FaultCode.NONE, (n, out)
    assert latch_at == 81
    assert out.fault == FaultCode.SENSOR_FROZEN and out.stage_on == 0


@pytest.mark.req("SRS-130")
@pytest.mark.parametrize("reading_ua", [NOISE_UA, NOISE_UA + 1])
def test_a_reading_of_exactly_50_ua_is_not_judged_by_the_noise_floor(reading_ua):
    """Channel a moves by 1 uA per reading (52/51 uA) until, after a 51,
    one more change of 1 uA would take its mean below 5 uA; then it reads
    reading_ua (the channel b live at +13 uA). 51 uA is judged: no change,
    the mean below 5 uA, SENSOR_FROZEN at that reading. 50 uA is at the
    noise bound, not above it: not judged, no fault, and the mean restarts
    from 50 uA (the next 51 uA follows a reading not judged either), so the
    fault comes only when the filter, started again, falls below 5 uA (81
    readings later)."""
    reg, out = quiet_session()
    mean_q, prev_ua, n = QUIET_CAP_UA * QUIET_Q, 60, 0
    while True:
        n += 1
        a = 51 + n % 2                                   # 52, 51, 52, ...
        if quiet_mean(mean_q, prev_ua, a) < QUIET_MIN_UA * QUIET_Q:
            break
        mean_q, prev_ua = quiet_mean(mean_q, prev_ua, a), a
        out = _pair(reg, a, a + DITHER_UA * (n % 2), 0)
    # a 1 uA change (52 after 51) would take the mean below 5 uA; so would 50 uA, were it judged
    assert (n, a, prev_ua) == (81, 52, 51) and mean_q >= QUIET_MIN_UA * QUIET_Q
    assert quiet_mean(mean_q, prev_ua, NOISE_UA) < QUIET_MIN_UA * QUIET_Q
    reg.kick_watchdog()
    out = reg.step(reading_ua, reading_ua + DITHER_UA, 0)
    if reading_ua > NOISE_UA:
        assert out.fault == FaultCode.SENSOR_FROZEN and out.stage_on == 0
        return
    assert out.fault == FaultCode.NONE
    # restarted: 51 uA after the 50 uA reading is not judged (its previous
    # reading is at the bound), then the filter runs again from 50 uA
    out = _pair(reg, 51, 51 + DITHER_UA, 0)
    mean_q, prev_ua, more = QUIET_CAP_UA * QUIET_Q, 51, 0
    while mean_q >= QUIET_MIN_UA * QUIET_Q:
        more += 1
        a = 51 + more % 2
        mean_q, prev_ua = quiet_mean(mean_q, prev_ua, a), a
        reg.kick_watchdog()
        out = reg.step(a, a + DITHER_UA * (more % 2), 0)
        if mean_q >= QUIET_MIN_UA * QUIET_Q:
            assert out.fault == FaultCode.NONE, (more, out)
    assert more == 81 and out.fault == FaultCode.SENSOR_FROZEN


# ---- SRS-025 (a): the collapse tier at a drive of exactly 250 ohm x setpoint ----

@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("drive_mv,lost_at_once", [(100, True), (99, False)])
def test_the_collapse_tier_fires_from_a_drive_of_250_ohm_times_the_setpoint(drive_mv, lost_at_once):
    """0.4 mA (armed by its 400 uA readings); the plant is 250 ohm (current
    4 x drive), or 4 uA more: the loop settles at a drive of exactly 100 mV
    (250 ohm x 400 uA: 'the last drive at least REG_SHORT_OHMS x setpoint')
    or 99 mV. Then a reading of 0: contact lost at once at 100 mV; not at
    99 mV (there a short's jitter, the short check decides; the unseen-lift
    run of SRS-025 (d) tells that lift later)."""
    reg, out = after_probe(400)
    extra_ua = 400 - 4 * drive_mv
    for k in range(1500):
        d = 0 if out.sense else out.drive_mv
        out = live(reg, 4 * d + extra_ua, d, k, sign=-1)   # the larger channel: 4 d + extra
    assert setpoint_ua(reg) == 400 and out.drive_mv == drive_mv
    reg.kick_watchdog()
    out = reg.step(0, 0, drive_mv)
    assert out.fault == FaultCode.NONE
    assert bool(out.flags & FLAG_CONTACT_LOST) == lost_at_once
    assert (out.sense == 1 and out.drive_mv == lib.REG_SENSE_MV) == lost_at_once


# ---- SRS-025 (a): armed by a reading of 160 uA, not 159 uA ----------------------

@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("peak_ua,lost_at_reading", [(159, 5), (160, 1)])
def test_the_collapse_tier_is_armed_by_160_ua_not_159(peak_ua, lost_at_reading):
    """0.12 mA on 1 kOhm, the channels 13 uA below the plant's current in
    turn (readings 107..120 uA: the filtered mean ~114 uA stays below 131 uA
    and nothing arms the tier). One reading of peak_ua, then readings of 0:
    after 160 uA the tier is armed, contact lost at the first 0; after 159 uA
    it is not, and the lift is told by the unseen-lift run of SRS-025 (d)
    (the run's mean from 121 uA: at the 5th reading of 0)."""
    reg, out = after_probe(120)
    out = on_plant(reg, 1000, 1000, out, sign=-1)
    assert setpoint_ua(reg) == 120 and out.measured_ua <= 120
    out = _pair(reg, peak_ua, peak_ua - DITHER_UA, out.drive_mv)
    lost = []
    for n in range(1, 8):
        out = _pair(reg, 0, 0, 0 if out.sense else out.drive_mv)
        if out.flags & FLAG_CONTACT_LOST:
            lost.append(n)
    assert lost[0] == lost_at_reading


# ---- SRS-024: the 1/4-of-setpoint tier ------------------------------------------

@pytest.mark.req("SRS-024")
@pytest.mark.parametrize("reading_ua,lost", [(249, True), (250, False)])
def test_the_quarter_tier_fires_below_a_quarter_of_the_setpoint(reading_ua, lost):
    """1 mA on 500 ohm (armed, the drive ~0.5 V: no 1 V tier): a reading
    below 1/4 of the setpoint, 249 uA, is contact lost at once; 250 uA
    (exactly 1/4) is not."""
    reg, out = after_probe(1000)
    out = on_plant(reg, 500, 3000, out)
    assert setpoint_ua(reg) == 1000 and out.drive_mv < 1000
    reg.kick_watchdog()
    out = reg.step(reading_ua, reading_ua, out.drive_mv)
    assert out.fault == FaultCode.NONE
    assert bool(out.flags & FLAG_CONTACT_LOST) == lost


# ---- SRS-023: a voltage reading 2 V below the drive is plausible, 2.001 V not ----

PLAUSIBLE_ABS_MV = 2000            # SRS-023: max(2 V, 10 % of the drive)
PLAUSIBLE_TICKS = 5


@pytest.mark.req("SRS-023")
@pytest.mark.parametrize("below_mv,fault_at", [(PLAUSIBLE_ABS_MV, None), (PLAUSIBLE_ABS_MV + 1, PLAUSIBLE_TICKS)])
def test_a_voltage_reading_2_v_below_the_drive_is_plausible(below_mv, fault_at):
    """4 mA on 1 kOhm (a drive of ~4 V: 10 % of it is below 2 V); the
    voltage channel then reads below_mv under the last drive: 2000 mV below
    for 12 ticks is no fault; 2001 mV below latches VOLTAGE_IMPLAUSIBLE at
    the 5th reading in a row."""
    reg, out = after_probe(4000)
    out = on_plant(reg, 1000, 8400, out)
    assert 3900 <= out.drive_mv <= 4000
    for n in range(1, 13):
        i_ua = out.drive_mv     # 1 kOhm: the current is drive / R; V/I stays above the 250 ohm short
        reg.kick_watchdog()
        out = reg.step(i_ua + DITHER_UA * (n % 2), i_ua + DITHER_UA * ((n + 1) % 2), out.drive_mv - below_mv)
        if n == fault_at:
            assert out.fault == FaultCode.VOLTAGE_IMPLAUSIBLE and out.stage_on == 0
            return
        assert out.fault == FaultCode.NONE, (n, out)
    assert fault_at is None


# ---- SRS-027: the published load estimate is updated every 4th tick --------------

@pytest.mark.req("SRS-027")
def test_the_load_estimate_under_drive_is_updated_every_4th_tick():
    """After a probe window of 0 mV (load 0: unknown) the plain ticks read
    300 uA at 300 mV (1 kOhm): the estimate stays unknown for 3 ticks and is
    the 4th tick's V/I, taken whole, from the 4th; the 8th moves it by 1/4 of
    its error to the 8th tick's V/I (600 mV: 2 kOhm), nothing in between."""
    reg, out = after_probe(1000)
    assert out.load_ohms == 0
    seen = []
    for n in range(1, 12):
        v_mv = 300 if n <= 4 else 600
        out = _pair(reg, 300 + DITHER_UA * (n % 2), 300, v_mv)
        seen.append(out.load_ohms)
    q_4 = 300 * 1024 // 300                 # 1/1024 mV per uA, as the C keeps it
    q_8 = q_4 + (600 * 1024 // 300 - q_4) // 4
    assert seen == [0] * 3 + [q_4 * 1000 // 1024] * 4 + [q_8 * 1000 // 1024] * 4
    assert seen[3] == 1000 and seen[7] == 1250


# ---- SRS-006: compliance limited, reported after 5 ms, cleared after 5 ms --------

COMPLIANCE_MV = 60000
COMPLIANCE_TICKS = 50              # SRS-006 / REG_COMPLIANCE_TICKS: 5 ms


@pytest.mark.req("SRS-006")
def test_compliance_limited_is_cleared_after_5_ms_off_the_limit():
    """5 mA on 1 kOhm, then the load rises to 15 kOhm (75 V needed): the
    drive reaches the 60 V limit with the current below the setpoint, and
    "compliance limited" is reported at the 50th tick there (not before).
    Then the current reaches the setpoint (the channels 20 and 33 uA above
    it in turn): the status stays for 49 ticks and is cleared at the 50th."""
    reg, out = after_probe(5000)
    out = on_plant(reg, 1000, 10500, out)
    at_limit = 0
    for k in range(3500):
        ohms = min(15000, 1000 + k * 14000 // 3000)
        d = out.drive_mv
        out = live(reg, d * 1000 // ohms, d, k)
        at_limit = at_limit + 1 if out.drive_mv == COMPLIANCE_MV else 0
        assert bool(out.flags & FLAG_COMPLIANCE) == (at_limit >= COMPLIANCE_TICKS), (k, at_limit, out)
    assert at_limit > COMPLIANCE_TICKS and out.measured_ua < setpoint_ua(reg)
    for n in range(1, COMPLIANCE_TICKS + 1):
        sp = setpoint_ua(reg)
        out = live(reg, sp + 20, out.drive_mv, n)
        assert bool(out.flags & FLAG_COMPLIANCE) == (n < COMPLIANCE_TICKS), (n, out)
    assert out.drive_mv < COMPLIANCE_MV


# ---- SRS-006: the fraction flowing is at most the whole target ---------------------

@pytest.mark.req("SRS-006")
@pytest.mark.parametrize("reading_ua", [1001, 1500, 2000])
def test_the_fraction_flowing_is_at_most_1000_permille(reading_ua):
    """A target of 1 mA and a reading above it: 1000 per mille (the whole
    target), never more (reg_output_t.flowing_permille: 0..1000)."""
    reg = Regulator()
    assert reg.raw_command(1000, 1_000_000) == lib.REG_OK
    out = reg.step(reading_ua, reading_ua, 0)
    assert out.flowing_permille == 1000


# ---- SRS-014, SRS-017: an implausible reading counts as current flowing -------------

ADC_CURRENT_MAX_UA = 50000         # SRS-014: the current channels' full scale, 50 mA


@pytest.mark.req("SRS-014", "SRS-017", "SRS-259", "SRS-312")
@pytest.mark.parametrize("implausible", ["voltage", "off_phase", "settled"])
def test_an_implausible_reading_refuses_the_reset_as_a_current_above_full_scale(implausible):
    """A reading out of its ADC range with both current channels at 0: a
    voltage reading (DC), or in the pulsed mode the off-phase reading
    (SRS-259) or a settled channel (SRS-312). The current is unknown and
    counts as flowing, one microampere above the 50 mA full scale
    (50.001 mA), which the refused reset reports."""
    reg = Regulator()
    if implausible != "voltage":
        assert reg.raw_command(1000, 1_000_000) == lib.REG_OK
        assert reg.raw_set_pulse(10000, 50) == lib.REG_OK       # 10 kHz, 50 %: changed with the output off
        reg.arm(CLEAR)
        assert reg.raw_enable(1) == lib.REG_OK                  # the off-phase and settled readings are judged
    reg.kick_watchdog()
    if implausible == "voltage":
        out = reg.step(0, 0, 80001)
    elif implausible == "off_phase":
        out = reg.step(0, 0, 0, off_current_ua=ADC_CURRENT_MAX_UA + 1)
    else:
        out = reg.step(0, 0, 0, settled_a_ua=ADC_CURRENT_MAX_UA + 1, settled_b_ua=0)
    assert out.fault == FaultCode.SENSOR_RANGE and out.stage_on == 0
    with pytest.raises(ResetRefused) as refused:
        reg.reset_fault()
    assert str(refused.value) == ("reset refused: current must be below 0.1 mA "
                                  f"(measured {(ADC_CURRENT_MAX_UA + 1) / 1000:g} mA)")
    assert reg.fault == FaultCode.SENSOR_RANGE


# ---- SRS-010 / SRS-029: the probe's window at 157 mV is no contact -----------------

CONTACT_MV = 157                   # SRS-029: REG_CONTACT_MV, a load below 18.75 kOhm


@pytest.mark.req("SRS-010", "SRS-029")
@pytest.mark.parametrize("sum_mv,lost", [(CONTACT_MV * PROBE_TICKS, True), (CONTACT_MV * PROBE_TICKS - 1, False)])
def test_a_probe_window_mean_of_157_mv_is_no_contact(sum_mv, lost):
    """The enable probe's window: a mean of 157 mV (sum 15 700 mV) is not
    below REG_CONTACT_MV: contact lost, the reference at 0 and the sense
    level kept; 15 699 mV is contact: the plain drive starts."""
    reg = enabled(1000)
    out = window(reg, sum_mv)
    assert bool(out.flags & FLAG_CONTACT_LOST) == lost
    out = tick(reg, 0, 0)
    assert out.sense == (1 if lost else 0)
    assert (out.reference_ua == 0) == lost


# ---- SRS-131: every one of the 22 windows below 157 mV --------------------------------

CONTACT_HIST = 22                  # SRS-131: the last 22 window means


@pytest.mark.req("SRS-131", "SRS-029")
@pytest.mark.parametrize("sum_mv,back_at", [(CONTACT_MV * PROBE_TICKS, None),
                                            (CONTACT_MV * PROBE_TICKS - 1, CONTACT_HIST)])
def test_a_return_needs_every_window_below_157_mv(sum_mv, back_at):
    """Contact lost at the probe (an open circuit), then flat windows (no
    rise): windows of a 157 mV mean are never a return (30 windows); of
    15 699 mV the contact is back at the 22nd window, when the history is
    full."""
    reg = enabled(1000)
    out = window(reg, 2000 * PROBE_TICKS)
    assert out.flags & FLAG_CONTACT_LOST
    for n in range(1, 31):
        out = window(reg, sum_mv)
        assert bool(out.flags & FLAG_CONTACT_LOST) == (back_at is None or n < back_at), n
        if back_at is not None and n == back_at:
            assert out.sense == 0 and out.drive_mv == 0
            return
    assert back_at is None


# ---- SRS-025 (b): the low-load window below 1.3 kOhm --------------------------------------

# A sense window says "below 1.3 kOhm" (SRS-025 (b)) when its mean is below
# 2 V x 1.3 k / (1.3 k + 220 k) = 11.749 mV: over the 100-tick window a sum of
# 1174 mV is below, 1175 mV is not (s30: the C once rounded the mean down to
# 11 mV, 1.217 kOhm, and judged 1.217..1.3 kOhm not low)
LOW_LOAD_SUM_MV = 1175          # the first window sum that is not below 1.3 kOhm


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("probe_sum_mv,second_lift_mv", [(LOW_LOAD_SUM_MV - 1, 77),
                                                         (LOW_LOAD_SUM_MV, 96)])
def test_a_short_contact_keeps_the_anchor_only_after_a_window_below_1_3_kohm(probe_sum_mv, second_lift_mv):
    """A ramp to 1 mA on 1 kOhm after a probe window of mean 11.74 or 11.75 mV
    (the low boot bound of 70 mV either way). At a setpoint of 80 uA the
    hand lifts (readings 0): the drive rises from the 62 mV anchor to its
    blind bound 62 + 15 = 77 mV. One contact reading 20 uA above the
    setpoint (within the noise bound above it: the drive unscaled), then a
    second lift. After a window below 11.749 mV the load is known low and the
    reading, the first above the noise after the lift, keeps the anchor at
    62 mV: the second lift holds 77 mV again. After a window of 11.75 mV the
    load is not known low (the reference not yet at its target), the
    reading re-anchors on the wound-up 77 mV and the second lift rises to
    77 + 19 = 96 mV."""
    reg, out = after_probe(1000, probe_sum_mv)
    k = 0
    while setpoint_ua(reg) < 80:
        drive_mv = 0 if out.sense else out.drive_mv
        out = live(reg, drive_mv, drive_mv, k)        # 1 kOhm: i = drive
        k += 1
    assert out.drive_mv == 62 and out.reference_ua < 1000
    drives = []
    for _ in range(10):
        out = _pair(reg, 0, 0, out.drive_mv)
        drives.append(out.drive_mv)
    assert max(drives) == drives[-1] == 77
    contact_ua = setpoint_ua(reg) + 20
    out = _pair(reg, contact_ua, contact_ua, out.drive_mv)
    drives = []
    for _ in range(10):
        out = _pair(reg, 0, 0, out.drive_mv)
        drives.append(out.drive_mv)
    assert max(drives) == drives[-1] == second_lift_mv


# ---- SRS-025 (b): only a reading after a plain drive is evidence, after a re-enable too ----

GLITCH_UA = 160                    # a reading that would be the first 160 uA reading (evidence)
LOW_BOOT_MV = 70                   # SRS-025 (b): the boot bound of a load below 2.5 kOhm


@pytest.mark.req("SRS-025")
@pytest.mark.parametrize("enables", [1, 2])
def test_a_glitch_after_the_probe_of_a_second_enable_is_no_evidence(enables):
    """As tests/regulator/test_probe_glitch.py, after a first enable with 20
    plain ticks, a disable and a new enable: the first plain tick after the
    new probe reads the sense level's tick, so a 160 uA glitch there is no
    evidence (the plain ticks of the first enable do not count): through a
    lift after it the drive stays at the 70 mV boot bound and no higher."""
    reg, out = after_probe(1000, 1350)
    if enables == 2:
        out = on_plant(reg, 1000, 20, out)
        assert out.sense == 0 and out.stage_on == 1
        assert reg.raw_enable(0) == lib.REG_OK
        out = tick(reg, 0, 0)
        assert reg.raw_enable(1) == lib.REG_OK
        out = window(reg, 1350)
        assert out.sense == 1 and out.flags & FLAG_CONTACT_LOST == 0
    out = tick(reg, GLITCH_UA, 0)
    assert out.sense == 0
    drives = []
    for _ in range(400):
        out = tick(reg, 0, out.drive_mv)
        assert out.flags & FLAG_CONTACT_LOST == 0
        drives.append(out.drive_mv)
    assert max(drives) == LOW_BOOT_MV
