"""A Supervisor runs one session and its checklist answers arm the C loop
once (SRS-310; PR-073 F4, PR-074): a second begin() on the same Supervisor,
after a completed session or a fault acknowledged back to idle, is refused
before anything is recorded, armed or energised, and the first session's
result is kept. A new session is a new Supervisor with its own checklist
record, which reports its own treatment time, charge and outcome. The CLI's
path (one Supervisor, one begin() per run) is unchanged."""
from __future__ import annotations

import pytest

from core.checklist import ChecklistAnswers, ChecklistRecord
from core.regulator import NotArmed
from core.supervisor import Supervisor

from _session_kit import PASSED_CHECKLIST, CallSpy, ZERO_MA, RowLog, run_session, settings

REFUSED = ("session: this Supervisor has run its session (its answers armed the loop once and its result "
           "is kept); a new session needs a new Supervisor with its own checklist record; nothing was energised")


def _new_record(**contraindications: bool) -> ChecklistRecord:
    """A second session's answers, asked again: all clear unless told."""
    answers = ChecklistAnswers({**PASSED_CHECKLIST.answers.contraindications, **contraindications},
                               dict(PASSED_CHECKLIST.answers.preparation))
    return ChecklistRecord(mode="asked", answers=answers)


def _completed() -> tuple[CallSpy, object]:
    device = CallSpy()
    result, rows, sup = run_session(device=device)
    assert result.outcome == "completed" and sup.state == "idle" and not device._rig.armed
    assert max(r.r.peak_current_ma for r in rows) > 14.5                 # the first session delivered 15 mA
    return device, sup


def _after_fault() -> tuple[CallSpy, object]:
    device = CallSpy()
    _, _, sup = run_session(device=device, scenario=[{"at_s": 40, "event": "short", "ohms": 10}])
    assert sup.state == "fault" and sup.fault == "short" and not device._rig.armed
    assert sup.acknowledge_fault() is True and sup.state == "idle"
    device._rig.clear_short()                        # the cause removed before a new session
    return device, sup


def _assert_nothing_energised(device: CallSpy, sup, arms_before: int) -> None:
    assert sup.state == "idle"
    assert [c for c in device.calls if c[0] == "arm"][arms_before:] == []   # the loop never armed again
    assert not device._rig.armed
    with pytest.raises(NotArmed):                                           # the C loop refuses an enable
        device.enable_output(True)
    batch = device._rig.run_rows(200, 100, stop_on_event=False)             # 2 s at the device
    assert batch.max_current_ma <= ZERO_MA and not batch.last.output_enabled


def _new_supervisor(device: CallSpy, record: ChecklistRecord, log: RowLog) -> Supervisor:
    sup = Supervisor(device, settings(), observers=[log], checklist=record)
    device.sup = sup
    return sup


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("after", ["completed", "fault_acknowledged"])
def test_a_second_begin_on_one_supervisor_is_refused_and_energises_nothing(after):
    device, sup = _completed() if after == "completed" else _after_fault()
    device.sup = sup
    arms = len([c for c in device.calls if c[0] == "arm"])
    assert arms == 1
    result_before = sup.result()
    tick_before, calls_before = sup.tick, list(device.calls)
    with pytest.raises(ValueError) as info:
        sup.begin()
    assert str(info.value) == REFUSED
    assert device.calls == calls_before and sup.tick == tick_before         # refused before any command
    _assert_nothing_energised(device, sup, arms)
    rows = RowLog()
    sup.observers.append(rows)
    sup.run()                                        # a run() after the refusal starts nothing either
    assert rows.rows == [] and sup.state == "idle" and not device._rig.armed
    assert sup.result() == result_before                                    # the first session's result kept


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("after", ["completed", "fault_acknowledged"])
def test_a_new_supervisor_on_the_same_device_runs_its_own_session(after):
    # PR-074: begun on the old object, the second session ran 60 s with no
    # treatment (after a completed one) or reported the old "short"
    device, _ = _completed() if after == "completed" else _after_fault()
    rows = RowLog()
    sup = _new_supervisor(device, _new_record(), rows)
    result = sup.run()
    assert [c for c in device.calls if c[0] == "arm"] == [("arm", "checklist")] * 2
    assert result.outcome == "completed" and result.fault is None and sup.end_reason == "time_up"
    assert result.treat_s == pytest.approx(600.0, abs=0.02)                 # its own 10 min, set in settings()
    assert max(r.r.peak_current_ma for r in rows.rows) > 14.5               # the second session's 15 mA
    # its own charge: 15 mA x 10 min plus two 30 s ramps at half of it (157.5), not the sum of both sessions
    assert 150.0 <= result.delivered_mamin <= 160.0
    assert sup.state == "idle" and not device._rig.armed


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("item", ["pregnancy", "cardiac_pacemaker", "skin_damage_or_inflammation"])
def test_a_new_supervisor_with_a_contraindication_is_refused(item):
    device, _ = _completed()
    calls_before = list(device.calls)
    with pytest.raises(ValueError) as info:
        Supervisor(device, settings(), checklist=_new_record(**{item: True}))
    assert str(info.value).startswith("checklist: refused: ") and str(info.value).endswith("nothing was energised")
    assert item.replace("_", " ").split()[0] in str(info.value)               # the reason names the item
    assert device.calls == calls_before and not device._rig.armed
    with pytest.raises(NotArmed):
        device.enable_output(True)
    batch = device._rig.run_rows(200, 100, stop_on_event=False)
    assert batch.max_current_ma <= ZERO_MA and not batch.last.output_enabled


@pytest.mark.req("SRS-310")
def test_the_cli_path_one_begin_per_supervisor_is_unchanged():
    # the constructor's answers arm the first begin(), as the CLI's run() does it
    device = CallSpy()
    result, rows, sup = run_session(device=device)
    assert result.outcome == "completed" and sup.end_reason == "time_up"
    assert [c for c in device.calls if c[0] == "arm"] == [("arm", "checklist")]
    assert max(r.r.peak_current_ma for r in rows) > 14.5
