"""The checklist's answers arm the C loop once (SRS-310, PR-073 F4): after
the arm the supervisor drops them, so a second begin() on the same
Supervisor, after a completed session or a fault acknowledged back to idle,
is refused until new answers are given with begin(checklist=...); nothing is
recorded, armed or energised. The CLI's path (one Supervisor, one begin()
per run) is unchanged."""
from __future__ import annotations

import pytest

from core.checklist import ChecklistAnswers, ChecklistRecord
from core.device import SimulatedDevice
from core.regulator import NotArmed

from _session_kit import PASSED_CHECKLIST, ZERO_MA, RowLog, run_session

MISSING = "checklist: missing: the answers given armed one session and were dropped"


class _Spy(SimulatedDevice):
    """Records each arm, polarity and pulse call with the machine state it came in."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.sup = None
        self.calls: list[tuple[str, str]] = []

    def arm(self, answers) -> None:
        self.calls.append(("arm", self.sup.state if self.sup else "-"))
        super().arm(answers)

    def set_polarity(self, polarity) -> None:
        self.calls.append(("set_polarity", self.sup.state if self.sup else "-"))
        super().set_polarity(polarity)


def _new_record(**contraindications: bool) -> ChecklistRecord:
    """A second session's answers, asked again: all clear unless told."""
    answers = ChecklistAnswers({**PASSED_CHECKLIST.answers.contraindications, **contraindications},
                               dict(PASSED_CHECKLIST.answers.preparation))
    return ChecklistRecord(mode="asked", answers=answers)


def _completed() -> tuple[_Spy, object]:
    device = _Spy()
    result, rows, sup = run_session(device=device)
    assert result.outcome == "completed" and sup.state == "idle" and not device._rig.armed
    assert max(r.r.peak_current_ma for r in rows) > 14.5                 # the first session delivered 15 mA
    return device, sup


def _after_fault() -> tuple[_Spy, object]:
    device = _Spy()
    _, _, sup = run_session(device=device, scenario=[{"at_s": 40, "event": "short", "ohms": 10}])
    assert sup.state == "fault" and sup.fault == "short" and not device._rig.armed
    assert sup.acknowledge_fault() is True and sup.state == "idle"
    device._rig.clear_short()                        # the cause removed before a new session
    return device, sup


def _assert_nothing_energised(device: _Spy, sup, arms_before: int) -> None:
    assert sup.state == "idle"
    assert [c for c in device.calls if c[0] == "arm"][arms_before:] == []   # the loop never armed again
    assert not device._rig.armed
    with pytest.raises(NotArmed):                                           # the C loop refuses an enable
        device.enable_output(True)
    batch = device._rig.run_rows(200, 100, stop_on_event=False)             # 2 s at the device
    assert batch.max_current_ma <= ZERO_MA and not batch.last.output_enabled


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("after", ["completed", "fault_acknowledged"])
def test_a_second_begin_without_new_answers_is_refused_and_energises_nothing(after):
    device, sup = _completed() if after == "completed" else _after_fault()
    device.sup = sup
    arms = len([c for c in device.calls if c[0] == "arm"])
    assert arms == 1
    tick_before, calls_before = sup.tick, list(device.calls)
    with pytest.raises(ValueError) as info:
        sup.begin()
    assert str(info.value) == (MISSING + "; begin(checklist=...) with a new ChecklistRecord whose answers "
                               "pass is required for this session; nothing was energised")
    assert device.calls == calls_before and sup.tick == tick_before         # refused before any command
    _assert_nothing_energised(device, sup, arms)
    rows = RowLog()
    sup.observers.append(rows)
    sup.run()                                        # a run() after the refusal starts nothing either
    assert rows.rows == [] and sup.state == "idle" and not device._rig.armed


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("after", ["completed", "fault_acknowledged"])
def test_a_second_begin_with_new_answers_arms_once_more_and_delivers(after):
    device, sup = _completed() if after == "completed" else _after_fault()
    device.sup = sup
    record = _new_record()
    rows = RowLog()
    sup.observers.append(rows)
    sup.begin(checklist=record)
    assert sup.state == "ramp" and device._rig.armed and sup.checklist is record
    assert [c for c in device.calls if c[0] == "arm"] == [("arm", "checklist")] * 2
    sup.run()
    assert max(r.r.peak_current_ma for r in rows.rows) > 14.5               # the second session's 15 mA
    assert sup.state == "idle" and not device._rig.armed
    with pytest.raises(ValueError, match="checklist: missing"):              # and those answers are spent too
        sup.begin()


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("item", ["pregnancy", "cardiac_pacemaker", "skin_damage_or_inflammation"])
def test_new_answers_with_a_contraindication_are_refused(item):
    device, sup = _completed()
    device.sup = sup
    calls_before = list(device.calls)
    with pytest.raises(ValueError) as info:
        sup.begin(checklist=_new_record(**{item: True}))
    assert str(info.value).startswith("checklist: refused: ") and str(info.value).endswith("nothing was energised")
    assert item.replace("_", " ").split()[0] in str(info.value)               # the reason names the item
    assert device.calls == calls_before and sup.checklist is PASSED_CHECKLIST
    _assert_nothing_energised(device, sup, 1)
    with pytest.raises(ValueError, match="checklist: missing"):              # the refused answers were not kept
        sup.begin()


@pytest.mark.req("SRS-310")
@pytest.mark.parametrize("bad", [{"pregnancy": False}, "checklist.yaml", 0])
def test_begin_with_something_other_than_a_record_names_what_is_required(bad):
    device, sup = _completed()
    with pytest.raises(ValueError, match=f"checklist: a ChecklistRecord whose answers pass is required "
                                         f"\\(got {type(bad).__name__}\\); nothing was energised"):
        sup.begin(checklist=bad)
    _assert_nothing_energised(device, sup, 1)


@pytest.mark.req("SRS-310")
def test_the_cli_path_one_begin_per_supervisor_is_unchanged():
    # the constructor's answers arm the first begin(), as the CLI's run() does it
    device = _Spy()
    result, rows, sup = run_session(device=device)
    assert result.outcome == "completed" and sup.end_reason == "time_up"
    assert [c for c in device.calls if c[0] == "arm"] == [("arm", "checklist")]
    assert max(r.r.peak_current_ma for r in rows) > 14.5
