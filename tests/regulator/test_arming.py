"""The C loop's checklist gate (SRS-306, SRS-307; RC-93): the output is
enabled only after the loop judged the checklist's raw answers itself."""
from __future__ import annotations

import pytest

from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers
from core.regulator import (ArmRefused, FaultCode, FaultLatched, NotArmed, Regulator, SimulatedRig,
                            checklist_codes, lib)
from tests.arming_kit import CLEAR, CLEAR_CODES

NO, YES = lib.REG_ANSWER_NO, lib.REG_ANSWER_YES
N_CONTRA, N_PREP = lib.REG_ARM_CONTRAINDICATIONS, lib.REG_ARM_PREPARATION_STEPS
ZERO_MA = 0.1            # "no current" (SRS-016's 0.1 mA)
# codes that are not the passing one: zeroed, one bit off, all ones, the other
# answer, the int32 ends
GARBAGE = (0, 1, 0x5B, 0xA4, 0xFF, -1, -2**31, 2**31 - 1)


def _enable_refused(reg: Regulator, word_cleared: bool = True) -> None:
    """enable(1) refused as NOT_ARMED, output off, no fault, no drive for 100 ticks."""
    assert reg.raw_enable(1) == lib.REG_ERR_NOT_ARMED
    assert not reg.enabled and reg.fault == FaultCode.NONE
    if word_cleared:                        # the armed word itself is cleared, not just "not the pattern"
        assert reg._reg.armed == 0
    for _ in range(100):
        reg.kick_watchdog()
        out = reg.step(0, 0, 0)
        assert out.stage_on == 0 and out.drive_mv == 0 and out.fault == FaultCode.NONE


@pytest.mark.req("SRS-306")
def test_the_c_counts_the_products_checklist_itself():
    # twelve contraindications and three preparation steps (docs/domain.md):
    # the C's own count agrees with the Python list it is checked against
    assert (N_CONTRA, N_PREP) == (12, 3) == (len(CONTRAINDICATIONS), len(PREPARATION))
    # the two codes: neither zero nor all ones, and 8 bits apart (no single flip turns one into the other)
    assert NO not in (0, 0xFF) and YES not in (0, 0xFF) and bin(NO ^ YES).count("1") == 8


@pytest.mark.req("SRS-307")
def test_enable_is_refused_before_any_arm():
    reg = Regulator()
    assert reg.raw_command(15_000, 5_000_000) == lib.REG_OK
    _enable_refused(reg)
    assert not reg.armed


@pytest.mark.req("SRS-307")
def test_a_rig_never_shows_current_before_an_arm():
    rig = SimulatedRig(seed=3)
    rig.command(15, 5)
    with pytest.raises(NotArmed, match="no checklist arm"):
        rig.enable_output(True)
    batch = rig.run_rows(100, 100, stop_on_event=False)       # 1 s
    assert batch.max_current_ma <= ZERO_MA and not batch.last.output_enabled
    assert batch.last.fault == FaultCode.NONE                  # a refusal, not a fault


@pytest.mark.req("SRS-306", "SRS-307")
def test_all_clear_answers_arm_and_enable():
    reg = Regulator()
    assert reg.raw_arm(*CLEAR_CODES) == lib.REG_OK and reg.armed
    assert reg.raw_enable(1) == lib.REG_OK and reg.enabled


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("index", range(N_CONTRA))
def test_each_contraindication_answered_yes_refuses(index):
    reg = Regulator()
    contra = [NO] * N_CONTRA
    contra[index] = YES
    assert reg.raw_arm(contra, [YES] * N_PREP) == lib.REG_ERR_ARM_REFUSED
    _enable_refused(reg)


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("index", range(N_PREP))
def test_each_preparation_step_answered_no_refuses(index):
    reg = Regulator()
    prep = [YES] * N_PREP
    prep[index] = NO
    assert reg.raw_arm([NO] * N_CONTRA, prep) == lib.REG_ERR_ARM_REFUSED
    _enable_refused(reg)


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("code", GARBAGE)
@pytest.mark.parametrize("index", range(N_CONTRA + N_PREP))
def test_each_answer_missing_zeroed_or_garbage_refuses(index, code):
    reg = Regulator()
    contra, prep = list(CLEAR_CODES[0]), list(CLEAR_CODES[1])
    if index < N_CONTRA:
        contra[index] = code
    else:
        prep[index - N_CONTRA] = code
    assert reg.raw_arm(contra, prep) == lib.REG_ERR_ARM_REFUSED
    _enable_refused(reg)


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("n_contra,n_prep", [(0, 0), (0, N_PREP), (N_CONTRA, 0), (1, 1)]
                         + [(n, N_PREP) for n in range(1, N_CONTRA)] + [(N_CONTRA, n) for n in range(1, N_PREP)]
                         + [(N_CONTRA + 1, N_PREP), (N_CONTRA, N_PREP + 1)])
def test_an_empty_short_or_long_list_refuses(n_contra, n_prep):
    # every answer given is a passing one: only the count is wrong
    reg = Regulator()
    assert reg.raw_arm([NO] * n_contra, [YES] * n_prep) == lib.REG_ERR_RANGE
    _enable_refused(reg)


@pytest.mark.req("SRS-306", "SRS-307")
@pytest.mark.parametrize("refusal", ["short", "version", "yes", "garbage"])
def test_every_refusal_ends_an_earlier_arm_and_switches_off(refusal):
    reg = Regulator()
    assert reg.raw_arm(*CLEAR_CODES) == lib.REG_OK and reg.raw_enable(1) == lib.REG_OK
    contra, prep = list(CLEAR_CODES[0]), list(CLEAR_CODES[1])
    version = lib.REG_ARM_CHECKLIST_VERSION
    if refusal == "short":
        contra = contra[:-1]
    elif refusal == "version":
        version += 1
    elif refusal == "yes":
        contra[4] = YES
    else:
        prep[2] = 0x1234
    expected = lib.REG_ERR_ARM_REFUSED if refusal in ("yes", "garbage") else lib.REG_ERR_RANGE
    assert reg.raw_arm(contra, prep, version=version) == expected
    assert not reg.enabled and not reg.armed and reg._reg.armed == 0
    _enable_refused(reg)


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("version", [0, 1, 2, -1, 2**31 - 1, lib.REG_ARM_CHECKLIST_VERSION - 1,
                                     lib.REG_ARM_CHECKLIST_VERSION + 1, lib.REG_ARM_CHECKLIST_VERSION ^ 1 << 30])
def test_another_checklist_version_refuses(version):
    reg = Regulator()
    assert reg.raw_arm(*CLEAR_CODES, version=version) == lib.REG_ERR_RANGE
    _enable_refused(reg)


def _answers_without(section: str, item_id: str, value=None, misspelt: bool = False) -> ChecklistAnswers:
    contra, prep = dict(CLEAR.contraindications), dict(CLEAR.preparation)
    target = contra if section == "contraindications" else prep
    old = target.pop(item_id)
    if misspelt:
        target[item_id[:-1]] = old         # the same answer under a misspelt name
    elif value is not None:
        target[item_id] = value
    return ChecklistAnswers(contra, prep)


ALL_ITEMS = ([("contraindications", i.id) for i in CONTRAINDICATIONS]
             + [("preparation", i.id) for i in PREPARATION])


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("section,item_id", ALL_ITEMS)
@pytest.mark.parametrize("how", ["missing", "misspelt", "0", "None", "'no'", "1"])
def test_the_wrapper_never_turns_a_missing_answer_into_no(section, item_id, how):
    value = {"0": 0, "None": None, "'no'": "no", "1": 1}.get(how)
    answers = _answers_without(section, item_id, value=value, misspelt=how == "misspelt")
    contra, prep = checklist_codes(answers)
    assert contra.count(NO) + prep.count(YES) == N_CONTRA + N_PREP - 1   # exactly that one is not passing
    rig = SimulatedRig()
    rig.command(10, 5)
    with pytest.raises(ArmRefused, match="not answered"):
        rig.arm(answers)
    with pytest.raises(NotArmed):
        rig.enable_output(True)
    assert rig.run_rows(20, 100, stop_on_event=False).max_current_ma <= ZERO_MA


@pytest.mark.req("SRS-306")
@pytest.mark.parametrize("answers", [None, 42, ChecklistAnswers({}, {}), ChecklistAnswers([], [])])
def test_no_answers_at_all_refuse(answers):
    rig = SimulatedRig()
    with pytest.raises(ArmRefused):
        rig.arm(answers)
    assert not rig.armed


def _ramped(seed: int = 0) -> SimulatedRig:
    rig = SimulatedRig(seed=seed)
    rig.command(10, 5)
    rig.arm(CLEAR)
    rig.enable_output(True)
    last = rig.run_rows(300, 100, stop_on_event=False).last     # 3 s: 10 mA reached
    assert last.reference_ma == 10 and last.mean_current_ma > 9.5, last
    return rig


@pytest.mark.req("SRS-307")
def test_disarm_switches_off_and_refuses_a_new_enable():
    rig = _ramped()
    rig.disarm()
    assert not rig.armed
    last = rig.run_rows(20, 100, stop_on_event=False).last        # 0.2 s
    assert not last.output_enabled and last.mean_current_ma <= ZERO_MA
    with pytest.raises(NotArmed):
        rig.enable_output(True)
    assert rig.run_rows(100, 100, stop_on_event=False).max_current_ma <= ZERO_MA


@pytest.mark.req("SRS-307")
def test_a_latched_fault_ends_the_arm():
    rig = _ramped()
    rig.short(10)                                                  # 10 ohm: SHORT latches
    last = rig.run_rows(50, 100, stop_on_event=False).last
    assert last.fault == FaultCode.SHORT and not rig.armed
    with pytest.raises(FaultLatched):
        rig.enable_output(True)
    rig.clear_short()
    rig.reset_fault()
    assert rig.fault == FaultCode.NONE
    with pytest.raises(NotArmed):                                  # the reset does not re-arm
        rig.enable_output(True)
    assert rig.run_rows(100, 100, stop_on_event=False).max_current_ma <= ZERO_MA
    rig.arm(CLEAR)                                                 # a new checklist: a new session
    rig.enable_output(True)
    assert rig.run_rows(300, 100, stop_on_event=False).last.mean_current_ma > 9.5


@pytest.mark.req("SRS-307")
def test_a_refused_arm_switches_an_enabled_output_off():
    rig = _ramped()
    contra = dict(CLEAR.contraindications, cardiac_pacemaker=True)
    with pytest.raises(ArmRefused):
        rig.arm(ChecklistAnswers(contra, dict(CLEAR.preparation)))
    assert not rig.armed
    last = rig.run_rows(20, 100, stop_on_event=False).last
    assert not last.output_enabled and last.mean_current_ma <= ZERO_MA


@pytest.mark.req("SRS-307")
def test_a_pause_keeps_the_arm():
    # the session's own pauses (polarity switch, density cut) switch off and on again
    rig = _ramped()
    rig.enable_output(False)
    assert rig.run_rows(20, 100, stop_on_event=False).last.mean_current_ma <= ZERO_MA
    assert rig.armed
    rig.enable_output(True)
    assert rig.run_rows(300, 100, stop_on_event=False).last.mean_current_ma > 9.5


@pytest.mark.req("SRS-307")
def test_the_lift_off_pause_resumes_without_a_new_arm():
    rig = _ramped()
    rig.lift_off()
    assert rig.run_rows(50, 100, stop_on_event=False).last.contact_lost
    rig.command(0, 5)                       # the supervisor's pause: target 0 at the sense level
    rig.contact()
    assert not rig.run_rows(100, 100, stop_on_event=False).last.contact_lost
    rig.command(10, 5)
    assert rig.armed
    assert rig.run_rows(300, 100, stop_on_event=False).last.mean_current_ma > 9.5


@pytest.mark.req("SRS-307")
@pytest.mark.parametrize("word", [0, 1, lib.REG_ARMED_PATTERN ^ 1, lib.REG_ARMED_PATTERN ^ 0x8000, 0xFFFFFFFF])
def test_only_the_armed_pattern_arms(word):
    # a zeroed or single-bit-flipped state word never reads as armed
    reg = Regulator()
    reg._reg.armed = word
    _enable_refused(reg, word_cleared=False)


@pytest.mark.req("SRS-306")
def test_null_pointers_are_refused():
    from core.regulator import ffi
    reg = Regulator()
    answers = ffi.new("reg_checklist_t *")
    assert lib.reg_arm(ffi.NULL, answers) == lib.REG_ERR_NULL
    assert lib.reg_arm(reg._reg, ffi.NULL) == lib.REG_ERR_NULL
    assert lib.reg_disarm(ffi.NULL) == lib.REG_ERR_NULL
    assert not reg.armed


@pytest.mark.req("SRS-306")
def test_the_wrappers_refusal_names_what_was_refused():
    from core.regulator import RegulatorError, _arm_status
    with pytest.raises(ArmRefused, match=f"not the product's \\({N_CONTRA} contraindications, {N_PREP} "):
        _arm_status(lib.REG_ERR_RANGE)
    with pytest.raises(ArmRefused, match="contraindication not answered no"):
        _arm_status(lib.REG_ERR_ARM_REFUSED)
    with pytest.raises(RegulatorError):
        _arm_status(lib.REG_ERR_NULL)
    _arm_status(lib.REG_OK)


# ---- the arm word is read every tick, not only at reg_enable (SRS-307, PR-073 F5) ----
N_TICKS = 500                                   # 5 s at the 100 Hz tick


def _off(out) -> bool:
    """'Off' in reg_output_t: no drive, stage off, no sense pulse, not reported enabled."""
    return (out.drive_mv, out.stage_on, out.sense, out.flags & lib.REG_FLAG_OUTPUT_ENABLED) == (0, 0, 0, 0)


@pytest.mark.req("SRS-307")
@pytest.mark.parametrize("reading_ua,voltage_mv", [(0, 0), (5_000, 10_000)])
def test_an_enable_word_written_without_an_arm_never_drives(reading_ua, voltage_mv):
    # a memory fault sets the enable word; nothing armed: no tick drives
    # (before PR-073 F5 the sense level, 2000 mV, drove from the first tick)
    reg = Regulator()
    assert reg.raw_command(10_000, 5_000_000) == lib.REG_OK
    reg._reg.enabled = 1
    assert reg._reg.armed == 0
    for tick in range(N_TICKS):
        reg.kick_watchdog()
        out = reg.step(reading_ua, reading_ua, voltage_mv)
        assert _off(out), (tick, out)
        assert out.fault == FaultCode.NONE


@pytest.mark.req("SRS-307")
def test_an_enable_word_written_on_a_rig_without_an_arm_shows_no_current():
    rig = SimulatedRig(seed=5)
    rig.command(15, 5)
    rig._reg.enabled = 1
    batch = rig.run_rows(N_TICKS // 100, 100, stop_on_event=False)   # 5 s
    assert batch.max_current_ma <= ZERO_MA and not batch.last.output_enabled
    assert batch.last.drive_v == 0.0


@pytest.mark.req("SRS-307")
@pytest.mark.parametrize("bit", range(32))
def test_one_flipped_bit_of_the_armed_word_switches_the_output_off_on_that_tick(bit):
    rig = _ramped()
    before = rig.run(1)
    assert before.output_enabled and before.drive_v > 1.0 and before.mean_current_ma > 9.5
    rig._reg.armed ^= 1 << bit                    # the enable word still reads 1
    assert rig._reg.enabled == 1
    row = rig.run(1)                              # the very next tick
    assert row.drive_v == 0.0 and not row.output_enabled, row
    assert row.peak_current_ma <= ZERO_MA, row
    later = rig.run_rows(100, 1, stop_on_event=False)              # and it stays off (1 s)
    assert later.max_current_ma <= ZERO_MA and not later.last.output_enabled


@pytest.mark.req("SRS-307")
@pytest.mark.parametrize("bit", range(16))
def test_one_flipped_bit_of_the_armed_word_stops_the_bare_loops_sense_drive(bit):
    # the cffi regulator alone: sense drive (2000 mV, stage on) until the flip, off from that tick
    reg = Regulator()
    assert reg.raw_arm(*CLEAR_CODES) == lib.REG_OK
    assert reg.raw_command(10_000, 5_000_000) == lib.REG_OK and reg.raw_enable(1) == lib.REG_OK
    for _ in range(10):
        reg.kick_watchdog()
        out = reg.step(0, 0, 0)
    assert out.drive_mv == lib.REG_SENSE_MV and out.stage_on == 1
    reg._reg.armed ^= 1 << bit
    for tick in range(N_TICKS):
        reg.kick_watchdog()
        out = reg.step(0, 0, 0)
        assert _off(out), (tick, out)
