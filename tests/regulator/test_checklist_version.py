"""The checklist version the C loop arms on is derived from the ordered item
ids of core/checklist.py (SRS-309, PR-073 F6): the C holds it as a constant
generated from the Python list, the wrapper computes it from the items whose
answers it sends, and reg_arm refuses any other: a reordered list, an item
swapped between the sections, an item dropped and another added (same
counts) never arm."""
from __future__ import annotations

import importlib.util
import pathlib

import pytest

import core.checklist as checklist_module
from core.checklist import CONTRAINDICATIONS, PREPARATION, ChecklistAnswers, ChecklistItem
from core.checklist_version import checklist_version, fnv1a_32
from core.regulator import ArmRefused, NotArmed, Regulator, SimulatedRig, checklist_message, lib
from tests.arming_kit import CLEAR

ROOT = pathlib.Path(__file__).resolve().parents[2]
ZERO_MA = 0.1            # "no current" (SRS-016's 0.1 mA)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_checklist_version",
                                                  ROOT / "scripts" / "gen_checklist_version.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ids(items) -> list[str]:
    return [item.id for item in items]


@pytest.mark.req("SRS-309")
def test_fnv1a_32_gives_the_published_values():
    # the FNV-1a 32 test vectors (offset basis 0x811c9dc5, prime 0x01000193)
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert fnv1a_32(b"foobar") == 0xBF9CF968


@pytest.mark.req("SRS-309")
def test_the_checked_in_header_is_the_one_generated_from_the_python_list():
    # fails when core/checklist.py changed and cext/checklist_version.h was not regenerated
    header = ROOT / "cext" / "checklist_version.h"
    assert header.read_text() == _generator().product_header(), \
        "cext/checklist_version.h is out of date: run scripts/gen_checklist_version.py"
    assert _generator().main(["--check"]) == 0


@pytest.mark.req("SRS-309")
def test_the_compiled_constant_is_the_version_of_the_product_list():
    version = checklist_version(_ids(CONTRAINDICATIONS), _ids(PREPARATION))
    assert lib.REG_ARM_CHECKLIST_VERSION == version
    assert 0 < version <= 2**31 - 1                  # fits reg_checklist_t's int32_t version
    assert f"#define REG_ARM_CHECKLIST_VERSION 0x{version:08X}\n" in (ROOT / "cext" / "checklist_version.h").read_text()
    assert checklist_message(CLEAR)[0] == version    # the wrapper sends the same for the same items


def _reordered():
    contra = list(CONTRAINDICATIONS)
    contra[0], contra[4] = contra[4], contra[0]      # pregnancy <-> cardiac_pacemaker
    return tuple(contra), PREPARATION


def _swapped_between_sections():
    contra, prep = list(CONTRAINDICATIONS), list(PREPARATION)
    contra[11], prep[2] = prep[2], contra[11]        # 12 and 3 items still
    return tuple(contra), tuple(prep)


def _dropped_and_added():
    contra = [item for item in CONTRAINDICATIONS if item.id != "seizures_or_epilepsy"]
    contra.append(ChecklistItem("diabetes", "Do you have diabetes?", "diabetes (a changed list)"))
    return tuple(contra), PREPARATION


def _preparation_reordered():
    prep = list(PREPARATION)
    prep[0], prep[2] = prep[2], prep[0]
    return CONTRAINDICATIONS, tuple(prep)


CHANGED = {"reordered": _reordered, "swapped": _swapped_between_sections,
           "dropped_and_added": _dropped_and_added, "preparation_reordered": _preparation_reordered}


@pytest.mark.req("SRS-309")
@pytest.mark.parametrize("change", sorted(CHANGED))
def test_a_changed_item_list_with_the_same_counts_is_refused(monkeypatch, change):
    contra, prep = CHANGED[change]()
    assert (len(contra), len(prep)) == (lib.REG_ARM_CONTRAINDICATIONS, lib.REG_ARM_PREPARATION_STEPS)
    assert _ids(contra) + _ids(prep) != _ids(CONTRAINDICATIONS) + _ids(PREPARATION)
    # the Python side changed without the C: every answer of the changed list passes
    monkeypatch.setattr(checklist_module, "CONTRAINDICATIONS", contra)
    monkeypatch.setattr(checklist_module, "PREPARATION", prep)
    answers = ChecklistAnswers({item.id: False for item in contra}, {item.id: True for item in prep})
    version, contra_codes, prep_codes = checklist_message(answers)
    assert set(contra_codes) == {lib.REG_ANSWER_NO} and set(prep_codes) == {lib.REG_ANSWER_YES}
    assert version == checklist_version(_ids(contra), _ids(prep)) != lib.REG_ARM_CHECKLIST_VERSION
    rig = SimulatedRig(seed=4)
    rig.command(10, 5)
    with pytest.raises(ArmRefused) as info:
        rig.arm(answers)
    assert info.value.code == lib.REG_ERR_RANGE and not rig.armed
    assert f"version 0x{lib.REG_ARM_CHECKLIST_VERSION:08X}" in str(info.value)
    with pytest.raises(NotArmed):
        rig.enable_output(True)
    assert rig.run_rows(100, 100, stop_on_event=False).max_current_ma <= ZERO_MA   # 1 s
    # and the CI check would see it: the header generated from this list differs
    assert _generator().render(_ids(contra), _ids(prep)) != (ROOT / "cext" / "checklist_version.h").read_text()


@pytest.mark.req("SRS-309")
def test_the_product_list_arms_and_delivers():
    rig = SimulatedRig(seed=4)
    rig.command(10, 5)
    rig.arm(CLEAR)
    assert rig.armed
    rig.enable_output(True)
    assert rig.run_rows(300, 100, stop_on_event=False).last.mean_current_ma > 9.5   # 3 s: 10 mA


@pytest.mark.req("SRS-309")
def test_raw_codes_carry_the_version_of_the_list_python_holds_not_the_c_constant(monkeypatch):
    # fill_checklist without a version (the runner's mailbox, raw_arm) computes it from core.checklist
    from core.regulator import ffi, fill_checklist
    codes = ([lib.REG_ANSWER_NO] * 12, [lib.REG_ANSWER_YES] * 3)
    c = ffi.new("reg_checklist_t *")
    fill_checklist(c, *codes)
    assert c.version == lib.REG_ARM_CHECKLIST_VERSION
    contra, prep = _reordered()
    monkeypatch.setattr(checklist_module, "CONTRAINDICATIONS", contra)
    fill_checklist(c, *codes)
    assert c.version == checklist_version(_ids(contra), _ids(prep)) != lib.REG_ARM_CHECKLIST_VERSION
    reg = Regulator()
    assert reg.raw_arm(*codes) == lib.REG_ERR_RANGE and not reg.armed
    fill_checklist(c, *codes, version=1234)                # an explicit version is sent as given
    assert c.version == 1234
