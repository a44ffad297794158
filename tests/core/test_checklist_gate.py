"""The supervisor arms the C loop from the checklist's raw answers only on
leaving the checklist state for ramp (SRS-308); the loop's gate holds when
the Python side fails: a machine that skips the checklist, a checklist
evaluation that lets a missing answer through, a CLI that hands over no
answers (FM-SM-01, FM-CHK-01, FM-CLI-02; RC-93)."""
from __future__ import annotations

import pytest

import core.supervisor as supervisor_module
from core.checklist import ChecklistAnswers, ChecklistRecord, ChecklistResult
from core.device import SimulatedDevice
from core.scenario import parse_scenario
from core.supervisor import Supervisor

from _session_kit import PASSED_CHECKLIST, CallSpy, ZERO_MA, RowLog, run_session, settings


@pytest.mark.req("SRS-308")
def test_the_normal_session_arms_once_on_leaving_the_checklist_and_disarms_at_its_end():
    device = CallSpy()
    result, rows, sup = run_session(device=device)
    assert sup.end_reason == "time_up" and sup.fault is None and sup.state == "idle"
    assert max(r.r.peak_current_ma for r in rows) > 14.5           # the set 15 mA was delivered
    arms = [c for c in device.calls if c[0] == "arm"]
    assert arms == [("arm", "checklist")]                           # once, on the way out of checklist
    assert device.calls[-1][0] == "disarm" and not device._rig.armed
    assert "machine" not in " ".join(sup.log)


@pytest.mark.req("SRS-308")
def test_a_pause_and_the_lift_off_keep_the_sessions_arm():
    device = CallSpy()
    result, rows, sup = run_session(device=device, scenario=[
        {"at_s": 40, "event": "lift_off"}, {"at_s": 45, "event": "contact"}])
    assert sup.pauses == 1 and sup.end_reason == "time_up" and sup.fault is None
    after = [r for r in rows if r.t_s > 50 and r.state == "treat"]
    assert after and max(r.r.mean_current_ma for r in after) > 14.5  # back at 15 mA, same arm
    assert [c for c in device.calls if c[0] == "arm"] == [("arm", "checklist")]


def _rows_of(sup: Supervisor, log: RowLog) -> list:
    sup.run()
    return log.rows


@pytest.mark.req("SRS-308")
def test_a_machine_forced_from_idle_to_ramp_never_shows_current():
    # FM-SM-01: a wrong table entry takes the machine to ramp without the checklist
    log = RowLog()
    device = SimulatedDevice(seed=2)
    sup = Supervisor(device, settings(), observers=[log], checklist=PASSED_CHECKLIST)
    sup.machine.current_state_value = "ramp"           # idle -> ramp, the checklist state skipped
    rows = _rows_of(sup, log)
    assert rows, "the session ran no row"
    peak_ma = max(r.r.peak_current_ma for r in rows)
    assert peak_ma <= ZERO_MA, peak_ma
    assert not any(r.r.output_enabled for r in rows)
    assert sup.state == "fault"                        # the refused enable ends the session
    assert any("command refused" in line and "no checklist arm" in line for line in sup.log), sup.log


@pytest.mark.parametrize("answers", [
    # FM-CHK-01: a permissive evaluation passes a missing contraindication answer
    ChecklistAnswers({k: v for k, v in PASSED_CHECKLIST.answers.contraindications.items() if k != "pregnancy"},
                     dict(PASSED_CHECKLIST.answers.preparation)),
    # ... a misspelt one
    ChecklistAnswers({**{k: v for k, v in PASSED_CHECKLIST.answers.contraindications.items()
                         if k != "cardiac_pacemaker"}, "cardiac_pacemakr": False},
                     dict(PASSED_CHECKLIST.answers.preparation)),
    # ... a contraindication answered yes
    ChecklistAnswers({**PASSED_CHECKLIST.answers.contraindications, "heart_disease": True},
                     dict(PASSED_CHECKLIST.answers.preparation)),
    # FM-CLI-02: a CLI that skipped the questions hands over no answers
    ChecklistAnswers({}, {}),
], ids=["missing", "misspelt", "yes", "none"])
@pytest.mark.req("SRS-308")
def test_answers_the_python_checklist_lets_through_never_show_current(monkeypatch, answers):
    monkeypatch.setattr(supervisor_module, "evaluate", lambda _answers: ChecklistResult(passed=True))
    log = RowLog()
    device = SimulatedDevice(seed=3)
    record = ChecklistRecord(mode="file", answers=answers)
    sup = Supervisor(device, settings(), observers=[log], checklist=record,
                     scenario=parse_scenario([]))
    rows = _rows_of(sup, log)
    assert max((r.r.peak_current_ma for r in rows), default=0.0) <= ZERO_MA
    assert sup.state == "fault" and not device._rig.armed
    assert any("ArmRefused" in type(e).__name__ for e in sup.machine.errors), sup.machine.errors


@pytest.mark.req("SRS-308")
def test_leaving_the_checklist_for_anything_but_ramp_never_arms():
    device = CallSpy()
    sup = Supervisor(device, settings(), checklist=PASSED_CHECKLIST)
    device.sup = sup
    sup.machine.dispatch("start")
    assert sup.state == "checklist"
    sup.machine.dispatch("fault")                     # checklist -> fault
    assert sup.state == "fault"
    assert [c for c in device.calls if c[0] == "arm"] == [] and not device._rig.armed
    assert device.calls[-1] == ("disarm", "fault")


class _DisarmFails(SimulatedDevice):
    def disarm(self) -> None:
        raise RuntimeError("bus error")


@pytest.mark.req("SRS-308")
def test_a_failing_disarm_is_logged_and_the_session_still_ends():
    result, rows, sup = run_session(device=_DisarmFails(seed=1))
    assert sup.end_reason == "time_up" and sup.state == "idle"
    assert any(line == "disarm: bus error" for line in sup.log), sup.log[-5:]
