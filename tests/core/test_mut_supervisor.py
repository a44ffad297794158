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


def judge(sup, state, ref_before=0.0, *, rows=1, tpr=100, before=False, ref_at=None, **row):
    last = dict(fault=FaultCode.NONE, output_enabled=True, reference_ma=0.0, target_ma=0.0,
                mean_current_ma=0.0, contact_lost=False, antishock_cuts=0)
    last.update(row)
    batch = SimpleNamespace(last=SimpleNamespace(**last), rows_run=rows, ticks_per_row=tpr,
                            before_decision=before, decision_reference_ma=ref_at)
    return sup._judge_table(state, batch, ref_before)


@pytest.mark.req("SRS-316")
def test_a_row_before_the_command_waits_for_the_next_batch_for_at_most_200_ticks():
    sup = Supervisor(SimulatedDevice(seed=1), settings(current_ma=SET_MA), checklist=PASSED_CHECKLIST)
    assert sup.table_defer_max_ticks == 200    # clock_drift_max_ms 20 ms at 10 kHz
    rising = dict(reference_ma=5.1, target_ma=0.0)     # in ramp_down: the ramp's rise, before the command
    assert judge(sup, "ramp_down", 5.0, rows=199, tpr=1, before=True, **rising) is None
    assert judge(sup, "ramp_down", 5.0, rows=1, tpr=1, before=True, **rising) is None        # 200: still waits
    assert judge(sup, "ramp_down", 5.0, rows=1, tpr=1, before=True, **rising) == (
        "reference rose from 5.0000 to 5.1000 mA")                                       # 201: judged as it is
    # a batch judged starts the count again
    assert judge(sup, "ramp_down", 5.0, rows=2, tpr=100, before=True, **rising) is None
    assert judge(sup, "ramp_down", 5.0, rows=1, tpr=100, before=True, **rising) == (
        "reference rose from 5.0000 to 5.1000 mA")
    assert judge(sup, "ramp_down", 5.2, **rising) is None
    assert judge(sup, "ramp_down", 5.0, rows=2, tpr=100, before=True, **rising) is None
    # an unmarked batch is judged at once, whatever waited before
    assert judge(sup, "ramp_down", 5.0, **rising) == "reference rose from 5.0000 to 5.1000 mA"
    assert judge(sup, "idle", output_enabled=True, before=True) is None
    assert judge(sup, "idle", output_enabled=True) == "output enabled"


@pytest.mark.req("SRS-316")
def test_the_fall_is_judged_from_the_reference_at_the_tick_that_applied_the_command(sup):
    sup._table_deferred_ticks = 0
    # the reference rose after the row boundary until the command landed at 5.3 mA
    assert judge(sup, "ramp_down", 5.0, ref_at=5.3, reference_ma=5.25) is None
    assert judge(sup, "ramp_down", 5.0, ref_at=5.3, reference_ma=5.3) is None
    assert judge(sup, "ramp_down", 5.0, ref_at=5.3, reference_ma=5.3001) == (
        "reference rose from 5.3000 to 5.3001 mA")
    # the reference at the command bounds the fall even below the row boundary's
    assert judge(sup, "ramp_down", 5.0, ref_at=4.9, reference_ma=4.95) == (
        "reference rose from 4.9000 to 4.9500 mA")
    # without it (simulation): the row boundary's
    assert judge(sup, "ramp_down", 5.0, reference_ma=4.95) is None
    nothing = SimpleNamespace(last=SimpleNamespace(fault=FaultCode.NONE, output_enabled=True, reference_ma=5.1,
                                                   target_ma=0.0, mean_current_ma=0.0, contact_lost=False,
                                                   antishock_cuts=0), rows_run=1, ticks_per_row=100)
    assert sup._judge_table("ramp_down", nothing, 5.0) == "reference rose from 5.0000 to 5.1000 mA"
