"""The PI law of regulate() at the compliance edge, to the 1/2^20 mV of its
integrator (SRS-004 PI with anti-windup, SRS-006 compliance 60 V, SRS-022
the drive rise limit): written against cext/regulator.c regulate's listed
survivors (ROR >= -> > #2, ROR > -> >= #4, CRP 0 -> 1 #2, #10, #12).

The bare regulator is brought to a steady drive near 59 V on a 16 kOhm load
(started on 1 kOhm, where the first readings give evidence of load and arm
the collapse tier, SRS-025, then the load rises slowly to 16 kOhm). From
there the test chooses every current reading: the error e = setpoint -
reading of each tick is the test's, and the voltage reading is 16 kOhm x the
current reading, so that the load estimate stays at exactly R_Q(16000) =
16384 = 2^14 (its filter step, (r_inst - r) / 4, is 0). The gains are then
Kp = 26 x 2^14 / 2^30 mV = 0.40625 mV and Ki = 205 x 2^14 / 2^30 = 3.203125
mV per uA, and every integrator value is a multiple of 2^14: the exact states
of the edge (the unclamped drive exactly 60 V, a drive of exactly 59.98 V)
are reached by choosing the readings.

pi_law() is regulate()'s PI law as the design states it (docs/design/
regulator.md: conditional integration, the integrator clamped to
0..compliance, the drive rising by at most 20 mV per tick with the
integrator set back to what was applied while that limit acts). A test reads
the integrator and the load estimate of reg_state_t once, at the start of
its sequence (unit level: the PI state is not published), then predicts the
drive of every tick of the sequence from the law and its own readings, and
compares it with the drive the regulator returns (reg_output_t.drive_mv).
"""
from __future__ import annotations

import pytest

from core.regulator import FaultCode, Regulator
from core.regulator import lib     # the wrapper's handle: only it imports the cffi module (SRS-035)
from tests.arming_kit import CLEAR
from _regulator_kit import tick

Q2_PER_MV = 1 << 20                          # the integrator's unit: 1/2^20 mV
COMPLIANCE_MV = lib.REG_COMPLIANCE_MV        # 60 V (SRS-006)
Q2_COMPLIANCE = COMPLIANCE_MV * Q2_PER_MV
RISE_MV = lib.REG_DRIVE_RISE_MV_PER_TICK     # 20 mV per tick (SRS-022)
KP_NUM, KI_NUM = lib.REG_KP_NUM, lib.REG_KI_NUM   # gains in 1/1024 (x the load estimate)
LOAD_OHMS = 16_000
R_EST_Q = LOAD_OHMS * 1024 // 1000           # R_Q(16 kOhm) = 2^14
TARGET_UA = 3700                             # 59.2 V on 16 kOhm: below compliance
DITHER_UA = 13                               # a live channel moves (SRS-026, SRS-130)
FLAG_COMPLIANCE = lib.REG_FLAG_COMPLIANCE_LIMITED


def _clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def pi_law(integ_q2: int, r_est_q: int, e_ua: int, last_mv: int) -> tuple[int, int]:
    """One tick of the PI law (no blind-rise bound: evidence and an armed
    collapse tier at a setpoint >= 0.2 mA, SRS-025): the integrator after
    the tick and the drive in mV."""
    scaled = e_ua * r_est_q
    p_q2 = scaled * KP_NUM
    unclamped = integ_q2 + p_q2
    # anti-windup: no integration further into a saturated drive
    if not ((unclamped >= Q2_COMPLIANCE and e_ua > 0) or (unclamped <= 0 and e_ua < 0)):
        integ_q2 = _clamp(integ_q2 + scaled * KI_NUM, 0, Q2_COMPLIANCE)
    drive_q2 = _clamp(integ_q2 + p_q2, 0, Q2_COMPLIANCE)
    rise_q2 = (last_mv + RISE_MV) * Q2_PER_MV
    if drive_q2 > rise_q2:                   # the rise limit acts: no windup behind it
        drive_q2 = rise_q2
        integ_q2 = _clamp(rise_q2 - p_q2, 0, Q2_COMPLIANCE)
    return integ_q2, drive_q2 // Q2_PER_MV


class Rig:
    """A bare regulator whose readings the test chooses, kicked every tick."""

    def __init__(self, target_ua: int = TARGET_UA, r_est_q: int = R_EST_Q):
        self.r_est_q = r_est_q
        self.reg = Regulator()
        assert self.reg.raw_command(target_ua, lib.REG_SLEW_MAX_NA_PER_S) == lib.REG_OK
        self.reg.arm(CLEAR)
        assert self.reg.raw_enable(1) == lib.REG_OK
        self.state = self.reg._reg
        self.out = None
        self.k = 0

    def step(self, i_ua: int, v_mv: int):
        self.out = tick(self.reg, i_ua, v_mv)
        self.k += 1
        return self.out

    def resistor(self, ohms: int):
        """One tick on a resistive load: the reading of the last tick's drive."""
        out = self.out
        if out is None or not out.stage_on:
            return self.step(0, 0)
        if out.sense:
            i_ua = out.drive_mv * 1000 // (lib.REG_SENSE_SERIES_OHMS + ohms)
            return self.step(i_ua, i_ua * ohms // 1000)
        i_ua = out.drive_mv * 1000 // ohms
        if i_ua > lib.REG_OPEN_NOISE_UA:
            i_ua += DITHER_UA * (self.k % 2)
        return self.step(i_ua, out.drive_mv)

    def error(self, e_ua: int):
        """One tick whose reading is the setpoint - e_ua; the voltage reading
        the load whose estimate is r_est_q (v x 1024 / i = r_est_q, or
        r_est_q + 1 below 1 mA: the estimate's filter step is 0)."""
        i_ua = self.state.setpoint_ua - e_ua
        return self.step(i_ua, -(-self.r_est_q * i_ua // 1024))

    @property
    def setpoint_ua(self) -> int:
        return self.state.setpoint_ua


def land_estimate(rig: Rig, ohms: int, ticks: int = 400):
    """Ticks on a resistive load whose voltage reading puts the load estimate
    at exactly rig.r_est_q: from within 3 of it (where the filter's step
    (r_inst - r) / 4 is 0) one reading r_inst = r + 4 x (r_est_q - r) puts
    it there, and then r_inst = r_est_q keeps it."""
    for _ in range(ticks):
        i_ua = rig.out.drive_mv * 1000 // ohms + DITHER_UA * (rig.k % 2)
        r = rig.state.r_est_q
        x = r + 4 * (rig.r_est_q - r)
        v_mv = -(-x * i_ua // 1024)
        assert v_mv * 1024 // i_ua == x
        rig.step(i_ua, v_mv)
    assert rig.state.r_est_q == rig.r_est_q


def at_16k() -> Rig:
    """A steady drive near 59 V on 16 kOhm, load estimate exactly 2^14."""
    rig = Rig()
    for k in range(10_000):          # 1 kOhm for 0.1 s, then 1 -> 16 kOhm over 0.8 s
        rig.resistor(1000 + max(0, min(k - 1000, 8000)) * 15 // 8)
    assert rig.out.reference_ua == TARGET_UA and rig.setpoint_ua == TARGET_UA
    assert rig.state.evidence == 1 and rig.state.open_armed == 1      # no blind-rise bound (SRS-025)
    land_estimate(rig, LOAD_OHMS)
    assert rig.state.integ_q2 % R_EST_Q == 0       # set back by the rise limit at the dither's steps
    assert 58_000 < rig.out.drive_mv < 59_900 and rig.state.hold_on == 0 and rig.state.saturated == 0
    return rig


def run(rig: Rig, errors: list[int]) -> tuple[list[int], list[int]]:
    """The drives the regulator gives for these errors, and those the law
    predicts from the integrator read before the first of them."""
    integ_q2, last_mv = rig.state.integ_q2, rig.out.drive_mv
    predicted, drives = [], []
    for e in errors:
        assert rig.state.r_est_q == rig.r_est_q
        integ_q2, mv = pi_law(integ_q2, rig.r_est_q, e, last_mv)
        predicted.append(mv)
        drives.append(rig.error(e).drive_mv)
        last_mv = mv
    return drives, predicted


def climb_to(rig: Rig, drive_mv: int):
    """Rise-limited ticks (+20 mV each) to exactly drive_mv: first ticks that
    bring the drive to drive_mv modulo 20 mV (the law, searched)."""
    while (drive_mv - rig.out.drive_mv) % RISE_MV:
        integ_q2, last_mv = rig.state.integ_q2, rig.out.drive_mv
        fits = [e for e in range(-80, 5)
                if (drive_mv - pi_law(integ_q2, R_EST_Q, e, last_mv)[1]) % RISE_MV == 0]
        e = fits[0] if fits else -DITHER_UA
        drives, predicted = run(rig, [e])
        assert drives == predicted
    n = (drive_mv - rig.out.drive_mv) // RISE_MV
    drives, predicted = run(rig, [100 + DITHER_UA * (k % 2) for k in range(n)])
    assert drives == predicted
    assert rig.out.drive_mv == drive_mv


# ---- the compliance tick's integrator: ROR >= -> > #2 -------------------------

@pytest.mark.req("SRS-004", "SRS-006")
def test_no_integration_on_a_tick_whose_pi_output_is_exactly_compliance():
    rig = at_16k()
    climb_to(rig, 59_960)
    # search two ticks: the last rise-limited tick (to 59.98 V) with e_c uA
    # below the setpoint, and A, not limited, to a drive below 60 V, after
    # which a current e_T uA below the setpoint puts integrator + P at exactly
    # 60 V (the integrator is a multiple of 2^14: e_T is an integer for some)
    plan = None
    integ_q2, last_mv = rig.state.integ_q2, rig.out.drive_mv
    for e_c in range(100, 300):
        after_c, drive_c = pi_law(integ_q2, R_EST_Q, e_c, last_mv)
        assert drive_c == COMPLIANCE_MV - RISE_MV
        for e_a in range(0, 40):
            after_a, drive_a = pi_law(after_c, R_EST_Q, e_a, drive_c)
            rest = Q2_COMPLIANCE - after_a
            if (after_a != after_c + e_a * R_EST_Q * KI_NUM or rest % (R_EST_Q * KP_NUM)
                    or not COMPLIANCE_MV - RISE_MV <= drive_a < COMPLIANCE_MV):
                continue
            e_t = rest // (R_EST_Q * KP_NUM)
            if 5 <= e_t <= 100 and (plan is None or e_t > plan[2]):
                plan = (e_c, e_a, e_t)
    assert plan is not None
    e_c, e_a, e_t = plan
    drives, predicted = run(rig, [e_c, e_a])
    assert drives == predicted and drives[1] >= COMPLIANCE_MV - RISE_MV
    before_q2 = rig.state.integ_q2
    assert before_q2 + e_t * R_EST_Q * KP_NUM == Q2_COMPLIANCE       # the exact edge
    out = rig.error(e_t)
    assert out.drive_mv == COMPLIANCE_MV
    # the drive is at compliance with the current below the setpoint: the
    # integrator holds (unit level: read from reg_state_t)
    assert rig.state.integ_q2 == before_q2
    # the current rises above the setpoint: the drive leaves compliance and
    # falls by exactly (Kp + Ki) x 100 uA from integrator + P = 60 V - P(e_T)
    drives, predicted = run(rig, [-100, -100 + DITHER_UA, -100])
    assert drives == predicted
    expected = (before_q2 - 100 * R_EST_Q * (KP_NUM + KI_NUM)) // Q2_PER_MV
    assert drives[0] == expected
    # a wound integrator (60 V) would give a drive higher by P(e_T) >= 2 mV
    assert (Q2_COMPLIANCE - 100 * R_EST_Q * (KP_NUM + KI_NUM)) // Q2_PER_MV - expected >= 2


# ---- a rise of exactly 20 mV to 60 V: ROR > -> >= #4 ---------------------------

@pytest.mark.req("SRS-022", "SRS-006", "SRS-004")
def test_a_rise_to_exactly_60_v_is_the_compliance_clamp_not_a_rise_limit_set_back():
    # from exactly 59.98 V a current 100 uA below the setpoint asks for 60.32
    # V (integrator 59.98 V - P + Ki x 100 uA, plus P): the drive is 60 V,
    # both the compliance clamp and 59.98 V + 20 mV. The compliance clamp
    # limits: the integrator is clamped at 60 V (anti-windup), not set back to
    # 60 V - P as behind the rise limit (SRS-022), which acts only when the
    # drive it allows is below what the PI asks and below compliance
    rig = at_16k()
    climb_to(rig, COMPLIANCE_MV - RISE_MV)
    drives, predicted = run(rig, [100, -100, -100 + DITHER_UA, -100])
    assert drives == predicted
    assert drives[0] == COMPLIANCE_MV
    # the current 100 uA above the setpoint: from the integrator at 60 V the
    # drive falls by exactly (Kp + Ki) x 100 uA = 360.9 mV: 59 639 mV; from
    # 60 V - P(100 uA) it would be 40.6 mV lower
    assert drives[1] == (Q2_COMPLIANCE - 100 * R_EST_Q * (KP_NUM + KI_NUM)) // Q2_PER_MV == 59_639
    assert not rig.out.flags & FLAG_COMPLIANCE


# ---- the compliance flag at 1 uA below the setpoint: CRP 0 -> 1 #12 ---------------

@pytest.mark.req("SRS-006")
@pytest.mark.parametrize("e_ua,limited", [(1, True), (0, False)])
def test_compliance_limited_after_5_ms_at_60_v_with_the_current_1_ua_below_the_setpoint(e_ua, limited):
    # the drive at 60 V and the current below the setpoint by 1 uA, the least
    # a reading can fall short, on every other tick, by 14 uA on the others
    # (a live channel moves, SRS-026, SRS-130): the load needs more than
    # compliance on every tick, and after REG_COMPLIANCE_TICKS (5 ms) the
    # status is "compliance limited" (SRS-006). With the current at the
    # setpoint exactly on every other tick the load does not need more on
    # those ticks: the 5 ms never run out
    assert lib.REG_COMPLIANCE_TICKS == 50
    rig = at_16k()
    climb_to(rig, COMPLIANCE_MV - RISE_MV)
    assert rig.error(100).drive_mv == COMPLIANCE_MV
    flags = []
    for k in range(80):
        out = rig.error(e_ua + (DITHER_UA + 1) * (k % 2))
        assert out.drive_mv == COMPLIANCE_MV and rig.setpoint_ua == TARGET_UA
        flags.append(bool(out.flags & FLAG_COMPLIANCE))
    if limited:
        # counted from the tick that reached 60 V
        assert flags.index(True) == lib.REG_COMPLIANCE_TICKS - 2 and all(flags[lib.REG_COMPLIANCE_TICKS - 2:])
    else:
        assert not any(flags)


# ---- the integrator's lower clamp: CRP 0 -> 1 #2 (its read) and #10 (the set-back) --

SMALL_R_EST_Q = 3413           # 3.333 kOhm: 231 x 133 x 3413 = 100 x 2^20 - 1


@pytest.mark.req("SRS-022", "SRS-004")
def test_integrator_set_back_below_zero_is_zero_to_the_last_2_20th_of_a_millivolt():
    # a load estimate of 3413 (3.333 kOhm) at 2 mA; the current 500 uA above
    # the setpoint (the anti-shock band's floor, SRS-007) lowers the drive to
    # 60..107 mV; then a reading 1.2..1.5 mA below the setpoint asks a P term
    # alone above what the rise limit allows (SRS-022): the drive rises 20 mV
    # and the integrator is set back to drive - P < 0, clamped to 0. The next
    # tick, 133 uA below the setpoint, integrates from 0: (Ki + Kp) x 133 uA
    # x 3413 / 2^20 = 100 mV - 1/2^20 mV: a drive of 99 mV; from an
    # integrator of 1/2^20 mV it would be 100 mV
    assert (KP_NUM + KI_NUM) * 133 * SMALL_R_EST_Q == 100 * Q2_PER_MV - 1
    rig = Rig(target_ua=2000, r_est_q=SMALL_R_EST_Q)
    for k in range(6000):          # 1 kOhm for 0.1 s, then 1 -> 3.333 kOhm over 0.2 s
        rig.resistor(1000 + max(0, min(k - 1000, 2000)) * 2333 // 2000)
    assert rig.out.reference_ua == 2000 and rig.setpoint_ua == 2000
    assert rig.state.evidence == 1 and rig.state.open_armed == 1      # no blind-rise bound (SRS-025)
    land_estimate(rig, 3333)
    assert 6000 < rig.out.drive_mv < 7000
    # the falls: 500 uA above the setpoint, the last less, to 60..107 mV (law)
    while rig.out.drive_mv > 107:
        integ_q2, last_mv = rig.state.integ_q2, rig.out.drive_mv
        e = next(e for e in range(-500, 0)
                 if pi_law(integ_q2, SMALL_R_EST_Q, e, last_mv)[1] >= 60)
        drives, predicted = run(rig, [e])
        assert drives == predicted
    last_mv = rig.out.drive_mv
    assert rig.state.integ_q2 > 0
    # the reading 1 500 uA below the setpoint (not below a quarter of it: no
    # collapse, SRS-024): P = 26 x 1500 x 3413 / 2^20 = 126.9 mV > drive + 20 mV
    drives, predicted = run(rig, [1500, 133, 133 - DITHER_UA, 133])
    assert drives == predicted
    assert drives[0] == last_mv + RISE_MV
    assert drives[1] == 99


# ---- the setpoint's lower bound: CRP 0 -> 1 #1 ------------------------------------

@pytest.mark.req("SRS-004")
def test_a_zero_setpoint_regulates_toward_zero_current_after_a_run():
    """Verifies the unit regulate() against its detailed design (docs/design/
    regulator.md, cext/regulator.c:regulate: e = setpoint - i_ua, the PI law
    of SRS-004) at a setpoint of 0, the bound of the setpoint's range.

    After the run at 3.7 mA on 16 kOhm a target of 0 brings the reference
    down at 5 mA/s; on the resistor the current reading falls to 0 (a drive
    below 16 mV) and the drive rests there, the integrator held (e = 0),
    above 0: a state a 0 setpoint gives exactly. From there
    the test chooses the readings: 0 uA (e = 0: the integrator holds, P = 0,
    the drive is the integrator's floor) and 1..3 uA (e < 0: the drive
    falls by (Kp + Ki) x e x estimate). The load estimate is frozen below
    REG_REST_MIN_CURRENT_UA (0.2 mA) near 15 kOhm (R_Q ~ 15 360), where 1 uA
    of e is worth 231 x R_Q / 2^20 > 3 mV: regulated toward 1 uA instead of
    0, the drive would rise by 3 mV or more on every tick that reads 0."""
    rig = at_16k()
    assert rig.reg.raw_command(0, lib.REG_SLEW_MAX_NA_PER_S) == lib.REG_OK
    for _ in range(8000):                    # 3.7 mA at 0.5 uA per tick: 7 400 ticks
        rig.resistor(LOAD_OHMS)
    assert rig.out.reference_ua == 0 and rig.setpoint_ua == 0 and rig.state.hold_on == 0
    assert rig.out.drive_mv * 1000 // LOAD_OHMS == 0 < rig.out.drive_mv      # the current reads 0
    rig.r_est_q = rig.state.r_est_q          # frozen below 0.2 mA: run() checks it stays
    assert lib.REG_REST_MIN_OHMS * 1024 // 1000 < rig.r_est_q <= R_EST_Q
    integ_q2, last_mv = rig.state.integ_q2, rig.out.drive_mv
    assert integ_q2 > 0
    # 1 uA of e crosses whole mV of the drive: (Kp + Ki) x 1 uA x estimate >= 3 mV
    assert (integ_q2 + (KP_NUM + KI_NUM) * rig.r_est_q) // Q2_PER_MV >= integ_q2 // Q2_PER_MV + 3
    errors = [0, 0, -1, 0, 0, -3, -2, 0, 0, 0]      # readings 0, 0, 1, 0, 0, 3, 2, 0 ... uA
    drives, predicted = run(rig, errors)
    assert drives == predicted
    assert drives[0] == drives[1] == integ_q2 // Q2_PER_MV == last_mv       # e = 0: held
    # the falls, exactly: the integrator by Ki x e x estimate, the drive by that and P
    fall_q2 = -1 * rig.r_est_q * KI_NUM
    assert drives[2] == (integ_q2 + fall_q2 - 1 * rig.r_est_q * KP_NUM) // Q2_PER_MV < last_mv
    assert drives[3] == (integ_q2 + fall_q2) // Q2_PER_MV
    # no rise bound acts: no drive rises by 20 mV, or to the last evidence's drive
    assert max(drives) <= last_mv < rig.state.anchor_mv
    assert rig.setpoint_ua == 0 and rig.out.fault == FaultCode.NONE
