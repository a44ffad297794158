"""The supervisor's check of every row against the output table (SRS-060),
row by row, at the boundaries of each rule (issue 12 points 2 and 3: these
branches were neither covered nor mutation-tested: a simulated device obeys
the table, so only a row that breaks it reaches them). Set current 15 mA;
"no current" is |I| <= 0.1 mA (SRS-066); references are compared with a
1e-6 mA float slack."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.device import SimulatedDevice
from core.regulator import FaultCode
from core.supervisor import Supervisor

from tests.core._session_kit import PASSED_CHECKLIST, settings

SET_MA = 15.0
OFF_STATES = ("idle", "checklist", "polarity_switch", "fault")
FALLING_STATES = ("ramp_down", "reverse_down")


@pytest.fixture(scope="module")
def sup() -> Supervisor:
    return Supervisor(SimulatedDevice(seed=1), settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)


def check(sup, state, ref_before=0.0, **row) -> str | None:
    last = dict(fault=FaultCode.NONE, output_enabled=False, reference_ma=0.0, target_ma=0.0,
                mean_current_ma=0.0, contact_lost=False, antishock_cuts=0)
    last.update(row)
    return sup._check_table(state, SimpleNamespace(last=SimpleNamespace(**last)), ref_before)


@pytest.mark.req("SRS-060")
@pytest.mark.parametrize("state", OFF_STATES)
def test_off_states_refuse_an_enabled_output_a_reference_and_a_current(sup, state):
    assert check(sup, state) is None
    assert check(sup, state, output_enabled=True) == "output enabled"
    assert check(sup, state, reference_ma=0.001) == "reference 0.0010 / target 0.0000 mA"
    assert check(sup, state, target_ma=0.0025) == "reference 0.0000 / target 0.0025 mA"
    assert check(sup, state, reference_ma=1e-6, target_ma=1e-6) is None   # the float slack
    assert check(sup, state, reference_ma=2e-6) == "reference 0.0000 / target 0.0000 mA"
    assert check(sup, state, mean_current_ma=0.1) is None                  # 0.1 mA is "no current"
    assert check(sup, state, mean_current_ma=-0.1) is None
    assert check(sup, state, mean_current_ma=0.1001) == "current 0.100 mA with the output off"
    assert check(sup, state, mean_current_ma=-0.25) == "current -0.250 mA with the output off"


@pytest.mark.req("SRS-060")
def test_paused_keeps_the_sense_level_enabled_but_no_reference_or_current(sup):
    assert check(sup, "paused", output_enabled=True) is None
    assert check(sup, "paused", output_enabled=True, target_ma=0.5) == "reference 0.0000 / target 0.5000 mA"
    assert check(sup, "paused", output_enabled=True, mean_current_ma=0.2) == (
        "current 0.200 mA with the output off")


@pytest.mark.req("SRS-060")
@pytest.mark.parametrize("state", ("ramp", "treat", "limited", "ramp_down", "reverse_down"))
def test_no_state_lets_the_reference_or_target_above_the_set_current(sup, state):
    held = dict(output_enabled=True, reference_ma=SET_MA, target_ma=0.0 if state in FALLING_STATES else SET_MA)
    assert check(sup, state, SET_MA, **held) is None
    assert check(sup, state, SET_MA, **{**held, "reference_ma": SET_MA + 1e-6}) is None
    assert check(sup, state, SET_MA, **{**held, "reference_ma": SET_MA + 0.001}) == (
        f"reference 15.0010 mA / target {held['target_ma']:.4f} mA above the set current")
    assert check(sup, state, SET_MA, output_enabled=True, reference_ma=1.0, target_ma=15.5) == (
        "reference 1.0000 mA / target 15.5000 mA above the set current")


@pytest.mark.req("SRS-060")
def test_treat_holds_the_reference_at_the_set_current(sup):
    assert check(sup, "treat", SET_MA, output_enabled=True, reference_ma=SET_MA - 1e-6, target_ma=SET_MA) is None
    assert check(sup, "treat", SET_MA, output_enabled=True, reference_ma=14.99, target_ma=SET_MA) == (
        "reference 14.9900 mA not held at the set current")
    # a lost contact or a new anti-shock cut lowers the reference lawfully
    assert check(sup, "treat", SET_MA, output_enabled=True, reference_ma=3.0, contact_lost=True) is None
    assert check(sup, "treat", SET_MA, output_enabled=True, reference_ma=3.0, antishock_cuts=1) is None
    # rising and reduced states may be below it
    assert check(sup, "ramp", 2.0, output_enabled=True, reference_ma=2.5, target_ma=SET_MA) is None
    assert check(sup, "limited", 9.0, output_enabled=True, reference_ma=9.0, target_ma=9.0) is None


@pytest.mark.req("SRS-060")
@pytest.mark.parametrize("state", FALLING_STATES)
def test_falling_states_command_zero_and_never_raise_the_reference(sup, state):
    assert check(sup, state, 5.0, output_enabled=True, reference_ma=4.9) is None
    assert check(sup, state, 5.0, output_enabled=True, reference_ma=5.0 + 1e-6) is None
    assert check(sup, state, 5.0, output_enabled=True, reference_ma=5.001) == (
        "reference rose from 5.0000 to 5.0010 mA")
    assert check(sup, state, 5.0, output_enabled=True, reference_ma=4.0, target_ma=1e-6) is None
    assert check(sup, state, 5.0, output_enabled=True, reference_ma=4.0, target_ma=0.002) == (
        "target 0.0020 mA while falling")


@pytest.mark.req("SRS-060")
@pytest.mark.parametrize("state", OFF_STATES + ("treat", "ramp_down"))
def test_a_row_in_which_the_regulator_latched_a_fault_is_left_to_the_fault_handling(sup, state):
    assert check(sup, state, 0.0, fault=FaultCode.OVERCURRENT_TRIP, output_enabled=True,
                 reference_ma=SET_MA + 5, target_ma=SET_MA + 5, mean_current_ma=20.0) is None


@pytest.mark.req("SRS-092")
def test_the_load_estimate_is_unknown_before_the_first_row_and_the_regulators_after():
    import math

    from core.supervisor import _load_estimate_ohms
    assert _load_estimate_ohms(None) == math.inf
    assert _load_estimate_ohms(SimpleNamespace(load_estimate_ohms=1234)) == 1234.0
    assert type(_load_estimate_ohms(SimpleNamespace(load_estimate_ohms=1234))) is float



def late_batch(applied, rows=1, tpr=100, ref_at=None, **row):
    last = dict(fault=FaultCode.NONE, output_enabled=True, reference_ma=0.0, target_ma=0.0,
                mean_current_ma=0.0, contact_lost=False, antishock_cuts=0, voltage_v=0.0)
    last.update(row)
    row = SimpleNamespace(**last)
    return SimpleNamespace(last=row, rows_run=rows, ticks_per_row=tpr, rows=lambda: [row],
                           posts_applied=applied, decision_reference_ma=ref_at)


class _Posts(SimulatedDevice):
    posts_made = 0


@pytest.mark.req("SRS-316")
def test_each_row_is_judged_by_the_state_whose_posts_it_ran_under():
    dev = _Posts(seed=1)
    sup = Supervisor(dev, settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    for posts, state in ((3, "ramp"), (3, "treat"), (5, "limited"), (6, "ramp_down")):
        dev.posts_made = posts
        sup._note_decision(state)
    sup._note_decision("ramp_down")                        # unchanged: not recorded twice
    assert list(sup._decisions) == [(3, "ramp"), (3, "treat"), (5, "limited"), (6, "ramp_down")]
    assert sup._posts_made == 6
    assert sup._row_state(late_batch(6), "ramp_down") == "ramp_down" and not sup._stale(late_batch(6))
    assert sup._row_state(late_batch(7), "ramp_down") == "ramp_down" and not sup._stale(late_batch(7))
    assert sup._row_state(late_batch(5), "ramp_down") == "limited" and sup._stale(late_batch(5))
    assert sup._row_state(late_batch(3), "ramp_down") == "treat"     # the latest state with those posts
    assert sup._row_state(late_batch(4), "ramp_down") is None        # part of limited's posts
    assert sup._row_state(late_batch(2), "ramp_down") is None        # older than any kept
    assert sup._row_state(late_batch(None), "ramp_down") == "ramp_down" and not sup._stale(late_batch(None))
    # a device without a post count: every row is the current state's
    plain = Supervisor(SimulatedDevice(seed=1), settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    plain._note_decision("treat")
    assert plain._posts_made is None and not plain._decisions
    assert plain._row_state(late_batch(0), "treat") == "treat" and not plain._stale(late_batch(0))


@pytest.mark.req("SRS-316")
def test_a_row_with_part_of_a_decision_waits_at_most_200_ticks_then_the_decision_before_judges_it():
    dev = _Posts(seed=1)
    sup = Supervisor(dev, settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    assert sup.table_defer_max_ticks == 200    # clock_drift_max_ms 20 ms at 10 kHz
    for posts, state in ((3, "treat"), (5, "paused")):
        dev.posts_made = posts
        sup._note_decision(state)
    part = late_batch(4, rows=199, tpr=1)
    assert sup._judged_state(part, None, "paused") is None
    assert sup._judged_state(late_batch(4, rows=1, tpr=1), None, "paused") is None       # 200: waits
    assert sup._judged_state(late_batch(4, rows=1, tpr=1), None, "paused") == "treat"    # 201: judged
    # past the bound every such row is judged, until a whole one
    assert sup._judged_state(late_batch(4, rows=2, tpr=100), None, "paused") == "treat"
    assert sup._judged_state(late_batch(5), "paused", "paused") == "paused"              # a whole row resets
    assert sup._judged_state(late_batch(4, rows=2, tpr=100), None, "paused") is None
    assert sup._judged_state(late_batch(4, rows=1, tpr=1), None, "paused") == "treat"
    # the last whole decision before it, not the first
    dev.posts_made = 8
    sup._note_decision("ramp")
    sup._table_deferred_ticks = 0
    assert sup._judged_state(late_batch(7, rows=3, tpr=100), None, "ramp") == "paused"
    # no whole decision before it: the state now
    sup._decisions.clear()
    sup._decisions.append((5, "paused"))
    sup._table_deferred_ticks = 0
    assert sup._judged_state(late_batch(4, rows=3, tpr=100), None, "paused") == "paused"


@pytest.mark.req("SRS-316")
def test_a_fall_is_judged_from_the_reference_at_the_tick_that_applied_the_command():
    assert Supervisor._fall_from(late_batch(6, ref_at=5.3), 5.0) == 5.3
    assert Supervisor._fall_from(late_batch(6, ref_at=4.9), 5.0) == 4.9      # stricter below the boundary's
    assert Supervisor._fall_from(late_batch(6, ref_at=0.0), 5.0) == 0.0
    assert Supervisor._fall_from(late_batch(6), 5.0) == 5.0
    assert Supervisor._fall_from(SimpleNamespace(), 5.0) == 5.0


@pytest.mark.req("SRS-316")
def test_a_row_before_the_latest_posts_decides_nothing_but_a_fault():
    """_run_batch on a stale row: the table judged by its own state, no
    machine event, a regulator fault still latched at once."""
    dev = _Posts(seed=1)
    sup = Supervisor(dev, settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    sup.begin()
    dev.posts_made = 1000                            # posts the rows have not applied
    seen = []
    sup._translate = lambda last: seen.append(last)
    sup._advance = lambda rows, tpr: late_batch(0, **{"reference_ma": 0.0})
    sup._check_loop = lambda batch, rows_run_ticks: False
    sup._run_batch((1, 100))
    assert seen == [] and sup.fault is None and sup._row_stale is True
    dev.posts_made = 0
    sup._run_batch((1, 100))
    assert len(seen) == 1 and sup._row_stale is False
    # paused: a row before the pause's posts that read the open level is not
    # the pause's (SRS-257: the stall's "hand was out")
    sup.machine.current_state_value = "paused"
    sup._stall_pause_tick, sup._stall_saw_open = sup.tick, False
    sup._advance = lambda rows, tpr: late_batch(0, voltage_v=59.0)
    dev.posts_made = 1000
    sup._run_batch((1, 100))
    assert sup._stall_saw_open is False and len(seen) == 1
    dev.posts_made = 0
    sup._run_batch((1, 100))
    assert sup._stall_saw_open is True and len(seen) == 2
    dev.posts_made = 1000
    sup._advance = lambda rows, tpr: late_batch(0, fault=FaultCode.SHORT)
    sup._run_batch((1, 100))
    assert sup.fault == "short" and len(seen) == 2


@pytest.mark.req("SRS-316", "SRS-303")
def test_the_pulsed_duty_of_a_row_before_the_latest_posts_is_judged_by_its_own_state():
    """A row that still ran under treat's posts after the supervisor paused:
    its mean against the duty is treat's to judge (paused has no duty check)."""
    dev = _Posts(seed=1)
    sup = Supervisor(dev, settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    sup.begin()
    sup._duty = 0.5
    sup._check_loop = lambda batch, rows_run_ticks: False
    sup._translate = lambda last: None
    for posts, state in ((5, "treat"), (7, "paused")):
        dev.posts_made = posts
        sup._note_decision(state)
    sup.machine.current_state_value = "paused"
    batch = late_batch(5, reference_ma=SET_MA, target_ma=SET_MA)
    batch.max_current_ma, batch.charge_mas = 10.0, 10.0 * 0.01      # a mean of 10 mA at a 10 mA peak
    sup._advance = lambda rows, tpr: batch
    sup._run_batch((1, 100))
    assert sup.fault == "pulse_duty"


@pytest.mark.req("SRS-316")
def test_the_row_in_which_the_posts_landed_is_off_by_its_current_from_their_tick_on(sup):
    """The off rule reads the row's current from the tick that applied its
    posts when the device gives it (the row's own mean covers the ticks
    before them), and the row's mean otherwise."""
    def off(mean_ma, after_ma):
        last = SimpleNamespace(fault=FaultCode.NONE, output_enabled=False, reference_ma=0.0, target_ma=0.0,
                               mean_current_ma=mean_ma, contact_lost=False, antishock_cuts=0)
        return sup._check_table("idle", SimpleNamespace(last=last, decision_mean_current_ma=after_ma), 0.0)
    assert off(0.95, 0.05) is None
    assert off(0.95, 0.1) is None
    assert off(0.05, 0.1001) == "current 0.100 mA with the output off"
    assert off(0.05, -0.2) == "current -0.200 mA with the output off"
    assert off(0.95, None) == "current 0.950 mA with the output off"
    assert off(0.1, None) is None


def _posting_supervisor(state: str | None = None, posts: int = 0, ref_before_ma: float | None = None):
    """A supervisor on a device that counts posts, begun, in `state`, with
    `posts` made and the last row's reference; no loop check, no decisions."""
    dev = _Posts(seed=1)
    sup = Supervisor(dev, settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    sup.begin()
    sup._check_loop = lambda batch, rows_run_ticks: False
    sup._translate = lambda last: None
    if state is not None:
        sup.machine.current_state_value = state
    dev.posts_made = posts
    if ref_before_ma is not None:
        sup.last = SimpleNamespace(reference_ma=ref_before_ma)
    return dev, sup


@pytest.mark.req("SRS-316")
def test_run_batch_judges_a_row_by_the_state_recorded_with_its_posts_and_a_fall_from_the_posts_tick():
    dev, sup = _posting_supervisor("ramp_down", posts=5, ref_before_ma=5.0)
    # a fresh row: the fall judged from the reference at the tick of its posts (4.9), not the row before (5.0)
    sup._advance = lambda rows, tpr: late_batch(5, ref_at=4.9, reference_ma=4.95)
    sup._run_batch((1, 100))
    assert sup.fault == "output_table_violation"
    assert sup.log[-2].endswith("table violation in ramp_down: reference rose from 4.9000 to 4.9500 mA")


@pytest.mark.req("SRS-316")
def test_run_batch_judges_a_stale_row_by_the_state_that_made_its_posts():
    dev, sup = _posting_supervisor("ramp_down", posts=5, ref_before_ma=5.0)
    sup._advance = lambda rows, tpr: late_batch(5, reference_ma=4.99)
    sup._run_batch((1, 100))                          # records (5, ramp_down); the fall is fine
    assert sup.fault is None
    sup.machine.current_state_value = "paused"
    dev.posts_made = 7                                 # paused's posts, not yet in the rows
    sup._advance = lambda rows, tpr: late_batch(5, reference_ma=5.2)
    sup._run_batch((1, 100))                          # a row of ramp_down's posts: judged by ramp_down
    assert sup.fault == "output_table_violation"
    assert "table violation in ramp_down: reference rose" in sup.log[-2]


@pytest.mark.req("SRS-316")
def test_run_batch_judges_a_row_with_part_of_a_decision_by_the_state_now_when_none_came_before():
    dev, sup = _posting_supervisor("paused", posts=5)
    sup._advance = lambda rows, tpr: late_batch(4, rows=2, reference_ma=0.0, target_ma=0.0)
    sup._decisions.clear()
    sup._run_batch((2, 100))                          # 200 ticks: waits
    assert sup.fault is None
    sup._advance = lambda rows, tpr: late_batch(4, rows=1, reference_ma=0.0, target_ma=0.5)
    sup._run_batch((1, 100))                          # past the bound: judged by paused
    assert sup.fault == "output_table_violation"
    assert "table violation in paused: reference 0.0000 / target 0.5000 mA" in sup.log[-2]


@pytest.mark.req("SRS-316")
def test_the_polarity_switch_waits_for_a_row_under_its_own_posts():
    """polarity_switch swaps only on a row that had applied its posts (the
    output off): a row before them that shows the output off and no current
    does not swap."""
    dev, sup = _posting_supervisor("polarity_switch")
    swaps = []
    dev.set_polarity = lambda polarity: swaps.append(polarity)
    rows = iter([True, True, False])
    def run_batch(rows_tpr):
        sup._row_stale = next(rows)
        sup.last = SimpleNamespace(output_enabled=False, mean_current_ma=0.0, reference_ma=0.0, target_ma=0.0)
    sup._run_batch = run_batch
    sup._at_zero = lambda last: True
    sent = []
    sup._send = lambda event: sent.append(event)
    sup._switch_ticks = 0
    sup._switch_polarity()
    assert sent == ["polarity_switched"] and sup._switch_ticks == 3 * sup.ticks_per_row
    assert len(swaps) == 1
