"""Re-contact onto a lower load than before the lift (SRS-025 (d), SRS-011;
PR-026, issue 8 point 1): the drive held during a lift that is not seen is
the drive that regulated the old load, and re-contact onto a tenth of it
meets ten times the current. The review's session: 5 kOhm, 1 uF, a ramp to
25 mA at 2.5 mA/s, lifted near 0.15 mA and put down on 500 ohm: 5.5 mA for
one tick (4.3..4.5 mA on main 7d92797, lifts of 5 and 10 ms).

What holds (regulator_config.h, REG_LIFT_*): a lift is told by a run of
readings at the noise as long as the tier of the current the run began from
needs (5 readings from a run mean of 121 uA .. 3000 from 51 uA), or at once
by the armed collapse tier; every lift at least that long, onto any load
down to 1/10 of the one before, stays within the slewed reference + 0.5 mA.
A shorter lift cannot be told from the current's own noise (PR-026)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from _regulator_kit import rows_ticks
from core.regulator import FaultCode, SimulatedRig, lib
from test_recontact_band import BAND_MA, _worst_excess_ma
from tests.arming_kit import CLEAR

ROW_TICKS = 100                   # 10 ms rows while the ramp runs to the lift
TIERS = [(lib.REG_LIFT_FAST_MEAN_UA, lib.REG_LIFT_FAST_TICKS), (lib.REG_LIFT_MID_MEAN_UA, lib.REG_LIFT_MID_TICKS),
         (lib.REG_LIFT_LOW_MEAN_UA, lib.REG_LIFT_LOW_TICKS), (lib.REG_LIFT_SLOW_MEAN_UA, lib.REG_LIFT_SLOW_TICKS),
         (lib.REG_LIFT_FAINT_MEAN_UA, lib.REG_LIFT_FAINT_TICKS)]


def _reviewers_session(lift_at_ticks: int, lift_ticks: int):
    rig = SimulatedRig(seed=0, load_ohms=5000, capacitance_uf=1.0)
    rig.command(25, 2.5)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rows = rows_ticks(rig, lift_at_ticks)
    rig.lift_off()
    rig.change_load(500, 0)
    lifted = rows_ticks(rig, lift_ticks)
    rig.contact()
    return rows + lifted, lifted, rows_ticks(rig, 3000)


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.parametrize("lift_ticks", [50, 100])         # 5 ms (the review), 10 ms
@pytest.mark.parametrize("lift_at_ticks", [560, 570, 575, 593])
def test_reviewers_session_lifted_onto_500_ohm_stays_within_the_band(lift_at_ticks, lift_ticks):
    """Main 7d92797: 4.34..4.51 mA peak at references of 0.143..0.145 mA
    (lifted at 560..575 ticks; at 593 the collapse tier was already armed).
    Now the lift is seen within it and re-contact meets the sense level."""
    before, lifted, after = _reviewers_session(lift_at_ticks, lift_ticks)
    assert any(r.contact_lost for r in lifted)
    assert _worst_excess_ma(before + after) <= BAND_MA
    assert max(r.peak_current_ma for r in after) <= 0.01 + BAND_MA
    assert all(r.fault == FaultCode.NONE for r in before + after)


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.xfail(strict=True, reason="PR-026 (open): a lift 40 ms after the enable onto a tenth of the load "
                                       "meets the held drive for one tick, 0.519 mA above the reference")
def test_pr026_residual_an_early_lift_onto_a_tenth_of_the_load():
    rig = SimulatedRig(seed=856, load_ohms=1656, capacitance_uf=1.0)
    rig.command(10.0, 1.0)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(400 // ROW_TICKS + 1, ROW_TICKS, stop_on_event=False)
    rows = rows_ticks(rig, 20)
    needed = _tier_ticks(rig._reg.run_mean_q) if not (rig._reg.open_armed or rig._reg.contact_lost) else 1
    rig.lift_off()
    rig.change_load(500, 0)
    rows += rows_ticks(rig, needed or 0)
    rig.contact()
    rows += rows_ticks(rig, 1000)
    assert _worst_excess_ma(rows) <= BAND_MA


def _tier_ticks(run_mean_q: int) -> int | None:
    return next((ticks for mean_ua, ticks in TIERS if run_mean_q >= mean_ua * lib.REG_OPEN_ARM_Q), None)


@pytest.mark.req("SRS-025", "SRS-011")
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="PR-026 (open): about 1 in 400 lifts onto a lower load exceeds the reference + 0.5 mA "
                          "(worst measured 0.691 mA); issue 8 point 1 does not hold yet")
# no shrink phase while it is an expected failure: shrinking a known counterexample
# cost minutes per run (8 min of the ASan step); every example is still generated
@settings(max_examples=400, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@example(5000, 1.0, 25.0, 10.0, 570, 0, 0.1, 0)          # the review's session (5 ms lift at 575 ticks)
@example(10_000, 0.01, 1.0, 120.0, 30_000, 0, 0.1, 1)
@example(500, 10.0, 25.0, 10.0, 3000, 2000, 1.0, 2)
@given(load_ohms=st.integers(500, 10_000),
       capacitance_uf=st.floats(0.01, 10.0),
       target_ma=st.floats(1.0, 25.0),
       ramp_s=st.floats(10.0, 120.0),
       lift_at_ticks=st.one_of(st.integers(1, 3000), st.integers(1, 20_000), st.integers(1, 60_000)),
       extra_ticks=st.integers(0, 3000),
       load_ratio=st.one_of(st.just(0.1), st.floats(0.1, 1.0)),
       seed=st.integers(0, 2**32))
def test_a_lift_long_enough_to_be_told_onto_a_load_down_to_a_tenth(load_ohms, capacitance_uf, target_ma, ramp_s,
                                                                    lift_at_ticks, extra_ticks, load_ratio, seed):
    """Any point of the first 6 s of a ramp to 1..25 mA over 10..120 s (the
    ramp passes 0.2 mA within 2.4 s at most; above, the collapse tier is
    armed), 500 ohm..10 kOhm, 0.01..10 uF, then a lift onto a load of
    1/10..1 of the one before (at least 500 ohm), lasting the readings its
    tier needs and up to 0.3 s more: every tick within the slewed reference
    + 0.5 mA. Excluded (assume): a run that began from a mean below 51 uA,
    where no run tells a lift (the residual of PR-026; e.g. 1993 ohm, 1 uF,
    1 mA/s, lifted after the probe for 14 ms onto 500 ohm: the blind bound's
    77 mV met 0.5007 mA above the reference). The property does NOT hold
    yet (PR-026, open): over 400 random draws of these strategies 1 is above
    the band (0.691 mA; /work/measure/s23/pr026_rate.py), and the
    derandomized run finds 1656 ohm, 1 uF, 10 mA over 10 s, lifted at 40 ms
    onto 500 ohm (0.519 mA, on 42e35ef too) and 776 ohm, 1 uF, 23 mA over
    91 s, lifted at 0.36 s onto 500 ohm (0.503 mA). Strict xfail: it turns
    red when the property holds, so the mark is removed with PR-026's fix."""
    rig = SimulatedRig(seed=seed, load_ohms=load_ohms, capacitance_uf=capacitance_uf)
    rig.command(target_ma, target_ma / ramp_s)
    rig.arm(CLEAR)
    rig.enable_output(True)
    rig.run_rows(lift_at_ticks // ROW_TICKS + 1, ROW_TICKS, stop_on_event=False)
    rows = rows_ticks(rig, 20)
    reg = rig._reg
    needed = 1 if (reg.open_armed or reg.contact_lost) else _tier_ticks(reg.run_mean_q)
    assume(needed is not None)
    rig.lift_off()
    rig.change_load(max(500, round(load_ohms * load_ratio)), 0)
    rows += rows_ticks(rig, needed + extra_ticks)
    rig.contact()
    rows += rows_ticks(rig, 1000)
    assert _worst_excess_ma(rows) <= BAND_MA
    assert all(r.fault == FaultCode.NONE for r in rows)
