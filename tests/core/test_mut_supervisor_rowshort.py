"""The supervisor's short check on the row means (SRS-317, FM-REG-12), one
method at a time with rows built by hand at the boundaries the requirement
states: the mean voltage over the mean current below REG_SHORT_OHMS (250 ohm)
with at least REG_SHORT_MIN_UA (0.5 mA) flowing, judged once the drive is
settled (the batch ends of the last 0.5 s all under drive, the reference at
most twice their lowest). Plan: 5 mA, 10 min, ramps 10 s; a tick is 100 us."""
from __future__ import annotations

import pytest

import tests.core.test_mut_supervisor_units as units
from core.regulator import LIMITS as REG_LIMITS
from core.regulator import lib
from core.supervisor import (FAULT_ROW_SHORT, ROW_SHORT_MIN_MA, ROW_SHORT_OHMS, ROW_SHORT_RISE_MAX,
                             ROW_SHORT_SETTLE_S, ROW_SHORT_STATES)

HZ = 10_000
DRIVING = ["ramp", "treat", "limited", "reverse_down", "ramp_down"]
SETTLE_TICKS = 5_000


def sup_in(state: str):
    return units.sup_in(state, reverse_polarity=state == "reverse_down")


def short_row(mean_ma: float = 5.0, ohms: float = 200.0, reference_ma: float = 5.0, **kw):
    """A row whose mean voltage over its mean current is `ohms` (either sign)."""
    return units.row(mean_current_ma=mean_ma, mean_voltage_v=mean_ma * ohms / 1000.0,
                     reference_ma=reference_ma, target_ma=5.0, measured_current_ma=abs(mean_ma), **kw)


def settled(sup, reference_ma: float = 5.0):
    """A batch end under drive 0.5 s ago, at `reference_ma`."""
    sup._row_refs.clear()
    sup._row_refs.append((sup.tick - SETTLE_TICKS, reference_ma))


@pytest.mark.req("SRS-317")
def test_the_bound_and_the_current_are_the_regulators_own():
    assert ROW_SHORT_OHMS == REG_LIMITS.short_ohms == lib.REG_SHORT_OHMS == 250
    assert ROW_SHORT_MIN_MA == REG_LIMITS.short_min_ma == lib.REG_SHORT_MIN_UA / 1000 == 0.5
    assert (ROW_SHORT_SETTLE_S, ROW_SHORT_RISE_MAX) == (0.5, 2.0)
    assert ROW_SHORT_STATES == tuple(DRIVING)


# ---- the short on the row means ----------------------------------------------------

@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("state", DRIVING)
@pytest.mark.parametrize("mean_ma,ohms", [(5.0, 249.99), (-5.0, 249.99), (0.5, 200.0), (25.0, 125.0),
                                          (-0.5, 100.0)])
def test_a_settled_row_below_250_ohm_with_0_5_mA_ends_in_the_fault(state, mean_ma, ohms):
    """Mean V / mean I below 250 ohm with at least 0.5 mA (either polarity):
    the fault short_on_row_means, the output off, the row's figures logged."""
    sup = sup_in(state)
    sup.tick = 300_000
    settled(sup)
    assert sup._row_short(short_row(mean_ma, ohms)) is True
    assert sup.state == "fault" and sup.fault == FAULT_ROW_SHORT == "short_on_row_means"
    assert ("enable", False) in sup.device.calls
    v = abs(mean_ma) * ohms / 1000.0
    assert any(f"30.000s row mean {v:.3f} V over {abs(mean_ma):.3f} mA = {ohms:.0f} ohm, below 250 ohm "
               f"in {state}: a short the regulator did not latch" in e for e in sup.log), sup.log


@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("mean_ma,ohms", [(5.0, 250.0), (-5.0, 250.0), (0.4999, 100.0), (-0.4999, 100.0),
                                          (25.0, 2000.0), (0.0, 0.0)])
def test_no_fault_at_250_ohm_or_below_0_5_mA(mean_ma, ohms):
    sup = sup_in("treat")
    sup.tick = 300_000
    settled(sup)
    assert sup._row_short(short_row(mean_ma, ohms)) is False
    assert sup.state == "treat" and sup.fault is None and sup.device.calls == []


@pytest.mark.req("SRS-317")
def test_an_unsettled_drive_is_not_judged():
    """Driving for less than 0.5 s: a 100 ohm row is not judged."""
    sup = sup_in("treat")
    sup.tick = 300_000
    sup._row_refs.clear()
    sup._row_refs.append((sup.tick - SETTLE_TICKS + 1, 5.0))
    assert sup._row_short(short_row(5.0, 100.0)) is False
    assert sup.state == "treat" and sup.fault is None


# ---- the settled drive -------------------------------------------------------------

@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("state", DRIVING)
def test_the_drive_is_settled_from_0_5_s_of_batch_ends_under_drive(state):
    """The first batch end under drive starts the window; one tick short of
    0.5 s it is not settled, at 0.5 s it is (the reference unchanged)."""
    sup = sup_in(state)
    sup._row_refs.clear()
    sup.tick = 100_000
    assert sup._row_settled(short_row(reference_ma=4.0)) is False
    assert list(sup._row_refs) == [(100_000, 4.0)]
    sup.tick = 100_000 + SETTLE_TICKS - 1
    assert sup._row_settled(short_row(reference_ma=4.0)) is False
    sup.tick = 100_000 + SETTLE_TICKS
    assert sup._row_settled(short_row(reference_ma=4.0)) is True


@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("state", ["paused", "fault", "polarity_switch"])
def test_a_state_that_does_not_drive_restarts_the_window(state):
    sup = sup_in("reverse_down" if state == "polarity_switch" else "treat")
    sup.machine.dispatch({"paused": "contact_lost", "fault": "fault", "polarity_switch": "at_zero"}[state])
    assert sup.state == state
    sup.tick = 300_000
    settled(sup)
    assert sup._row_settled(short_row()) is False
    assert list(sup._row_refs) == []


@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("now_ma,is_settled", [(2.0, True), (2.0001, False), (0.5, True)])
def test_the_reference_at_most_doubled_over_the_window(now_ma, is_settled):
    """The lowest reference at the window's batch ends is 1.0 mA: now at 2.0
    mA settled, above it not (a ramp from 0 is judged from 1 s on); a fall
    is settled."""
    sup = sup_in("ramp")
    sup.tick = 300_000
    sup._row_refs.clear()
    sup._row_refs.extend([(300_000 - SETTLE_TICKS, 1.5), (300_000 - 2_000, 1.0)])
    assert sup._row_settled(short_row(reference_ma=now_ma)) is is_settled


@pytest.mark.req("SRS-317")
def test_the_window_keeps_the_newest_batch_end_at_or_before_its_start():
    """Batch ends older than the newest one at or before the window's start
    are dropped: a restart from 0 more than 0.5 s ago no longer counts."""
    sup = sup_in("treat")
    sup.tick = 300_000
    sup._row_refs.clear()
    sup._row_refs.extend([(290_000, 0.0), (294_000, 2.6), (295_000, 2.5), (298_000, 4.0)])
    assert sup._row_settled(short_row(reference_ma=5.0)) is True
    assert list(sup._row_refs) == [(295_000, 2.5), (298_000, 4.0), (300_000, 5.0)]
    sup.tick = 300_001
    sup._row_refs.clear()
    sup._row_refs.extend([(290_000, 0.0), (295_001, 2.4)])
    assert sup._row_settled(short_row(reference_ma=5.0)) is False   # 5.0 > 2 x 2.4
    assert list(sup._row_refs) == [(295_001, 2.4), (300_001, 5.0)]


@pytest.mark.req("SRS-317")
def test_a_restart_from_zero_is_judged_from_1_s_on():
    """A ramp at 2.5 mA/s from 0, batch ends every 0.1 s: settled from the
    batch end at 1.0 s (2.5 mA, twice the 1.25 mA of 0.5 s before)."""
    sup = sup_in("ramp")
    sup._row_refs.clear()
    first = []
    for k in range(0, 21):
        sup.tick = 100_000 + k * 1_000
        if sup._row_settled(short_row(reference_ma=round(0.25 * k, 6))):
            first.append(k)
    assert first[0] == 10 and first == list(range(10, 21))


# ---- wired into every batch end ------------------------------------------------------

@pytest.mark.req("SRS-317")
@pytest.mark.parametrize("polarity_reversed", [False, True])
@pytest.mark.parametrize("state", DRIVING)
def test_every_batch_end_of_a_driving_state_runs_the_row_short_check(state, polarity_reversed):
    """The same 200 ohm row at two batch ends 0.5 s apart: the second ends
    the session in short_on_row_means (either polarity), in every driving state."""
    sup = sup_in(state)
    sign = -1.0 if polarity_reversed else 1.0
    ref = 1.0 if state == "ramp" else 5.0      # a ramp not yet complete
    last = short_row(sign * ref, 200.0, reference_ma=ref)
    sup._row_refs.clear()
    sup.tick += 100
    sup._translate(last)
    assert sup.state == state and sup.fault is None
    sup.tick += SETTLE_TICKS
    sup._translate(last)
    assert sup.state == "fault" and sup.fault == "short_on_row_means"
