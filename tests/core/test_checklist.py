"""Checklist: contraindications (SRS-042), preparation and site instructions
(SRS-043), checklist files (SRS-044)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.checklist import (
    CONTRAINDICATIONS,
    PREPARATION,
    ChecklistAnswers,
    ChecklistError,
    evaluate,
    load_checklist,
    parse_checklist,
    site_instructions,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "checklist.yaml"

# the twelve contraindications and three steps of domain.md, as snake_case ids
CONTRAINDICATION_IDS = [
    "pregnancy", "breast_feeding", "child_under_5", "heart_disease", "cardiac_pacemaker",
    "electronic_or_metallic_implant", "seizures_or_epilepsy", "impaired_sensibility",
    "severe_vascular_disorder", "local_thrombosis", "malignant_disorder",
    "skin_damage_or_inflammation",
]
PREPARATION_IDS = ["cosmetics_removed", "metal_jewelry_removed", "skin_cracks_covered"]


def clear() -> dict:
    return {"contraindications": {i: False for i in CONTRAINDICATION_IDS},
            "preparation": {i: True for i in PREPARATION_IDS}}


def answers(data: dict) -> ChecklistAnswers:
    return ChecklistAnswers(data["contraindications"], data["preparation"])


def refused_with(text: str) -> list[str]:
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, "test.yaml")
    return info.value.messages


@pytest.mark.req("SRS-042", "SRS-043")
def test_items_are_the_twelve_and_three_of_the_product_description():
    assert [i.id for i in CONTRAINDICATIONS] == CONTRAINDICATION_IDS
    assert [i.id for i in PREPARATION] == PREPARATION_IDS
    for item in CONTRAINDICATIONS + PREPARATION:
        assert item.question.endswith("?") and item.reason


@pytest.mark.req("SRS-042", "SRS-043")
def test_all_clear_passes():
    result = evaluate(answers(clear()))
    assert result.passed and not result.refused and result.reasons == ()


@pytest.mark.req("SRS-042")
@pytest.mark.parametrize("item", CONTRAINDICATIONS, ids=lambda i: i.id)
def test_each_contraindication_refuses_with_its_reason(item):
    data = clear()
    data["contraindications"][item.id] = True
    result = evaluate(answers(data))
    assert result.refused
    assert result.reasons == (f"contraindication {item.id}: {item.reason}",)


@pytest.mark.req("SRS-042")
def test_several_contraindications_give_every_reason():
    data = clear()
    data["contraindications"].update(pregnancy=True, cardiac_pacemaker=True)
    reasons = evaluate(answers(data)).reasons
    assert len(reasons) == 2
    assert "pregnancy" in reasons[0] and "pacemaker" in reasons[1]


@pytest.mark.req("SRS-043")
@pytest.mark.parametrize("item", PREPARATION, ids=lambda i: i.id)
def test_each_unconfirmed_preparation_step_refuses(item):
    data = clear()
    data["preparation"][item.id] = False
    result = evaluate(answers(data))
    assert result.refused
    assert result.reasons == (f"preparation {item.id} not confirmed: {item.reason}",)


@pytest.mark.req("SRS-042", "SRS-043")
def test_unanswered_items_fail_safe():
    result = evaluate(ChecklistAnswers({}, {}))
    assert result.refused
    assert len(result.reasons) == 12 + 3


@pytest.mark.req("SRS-043")
def test_site_instructions():
    for site in ("hands", "feet"):
        text = site_instructions(site)
        assert "tap water" in text and "trays" in text and site in text
    pads = site_instructions("underarms")
    assert "pads" in pads and "tap water" in pads and "under each arm" in pads


# --- checklist files --------------------------------------------------------------------

@pytest.mark.req("SRS-044")
def test_shipped_example_is_all_clear():
    raw = yaml.safe_load(EXAMPLE.read_text())
    assert set(raw) == {"contraindications", "preparation"}
    assert raw["contraindications"] == {i: False for i in CONTRAINDICATION_IDS}
    assert raw["preparation"] == {i: True for i in PREPARATION_IDS}
    assert evaluate(load_checklist(EXAMPLE)).passed


@pytest.mark.req("SRS-044", "SRS-042")
def test_file_with_a_contraindication_parses_and_refuses():
    data = clear()
    data["contraindications"]["electronic_or_metallic_implant"] = True
    result = evaluate(parse_checklist(yaml.safe_dump(data)))
    assert result.reasons == ("contraindication electronic_or_metallic_implant: "
                              "an electronic or metallic implant is a contraindication",)


@pytest.mark.req("SRS-044")
def test_unknown_item_is_refused_naming_it():
    data = clear()
    data["contraindications"]["diabetes"] = False
    data["preparation"]["hands_washed"] = True
    messages = refused_with(yaml.safe_dump(data))
    assert messages[0].startswith("contraindications.diabetes: unknown item; allowed items: pregnancy,")
    assert messages[1].startswith("preparation.hands_washed: unknown item; allowed items: cosmetics_removed")
    assert len(messages) == 2


@pytest.mark.req("SRS-044")
def test_unknown_section_is_refused():
    data = clear()
    data["notes"] = {"x": True}
    assert refused_with(yaml.safe_dump(data)) == [
        "notes: unknown section; allowed sections: contraindications, preparation"]


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("section,item", [("contraindications", "pregnancy"),
                                          ("preparation", "skin_cracks_covered")])
def test_missing_item_is_refused_naming_it(section, item):
    data = clear()
    del data[section][item]
    assert refused_with(yaml.safe_dump(data)) == [f"{section}.{item}: missing; must be true or false"]


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("section", ["contraindications", "preparation"])
def test_missing_section_is_refused(section):
    data = clear()
    del data[section]
    messages = refused_with(yaml.safe_dump(data))
    assert messages == [f"{section}: missing (a mapping of "
                        f"{12 if section == 'contraindications' else 3} items, each true or false)"]


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("raw", ["no", "yes", "off", "'false'", "0", "1", "~", "[false]"])
def test_non_boolean_value_is_refused_naming_the_item(raw):
    text = yaml.safe_dump(clear()).replace("pregnancy: false", f"pregnancy: {raw}")
    assert f"pregnancy: {raw}" in text
    messages = refused_with(text)
    assert len(messages) == 1
    assert messages[0].startswith("contraindications.pregnancy: ")
    assert messages[0].endswith("is not true or false")


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("text,kind", [("- pregnancy\n- breast_feeding\n", "list"),
                                       ("just text\n", "str"), ("", "empty")])
def test_not_a_mapping_is_refused(text, kind):
    assert refused_with(text) == [
        f"must be a mapping with 'contraindications' and 'preparation', got {kind}"]


@pytest.mark.req("SRS-044")
def test_section_not_a_mapping_is_refused():
    data = clear()
    data["preparation"] = ["cosmetics_removed"]
    assert refused_with(yaml.safe_dump(data)) == [
        "preparation: must be a mapping of item: true/false, got list"]


@pytest.mark.req("SRS-044")
def test_bad_yaml_is_refused():
    messages = refused_with("contraindications: {pregnancy: false\n")
    assert messages[0].startswith("not valid YAML")
    assert "line" in messages[0]


@pytest.mark.req("SRS-044")
def test_duplicate_item_is_refused():
    # with a duplicate, which answer counts would depend on the order: refuse instead
    text = yaml.safe_dump(clear()) + ""
    text = text.replace("pregnancy: false", "pregnancy: false\n  pregnancy: true")
    messages = refused_with(text)
    assert "duplicate key 'pregnancy'" in messages[0]


@pytest.mark.req("SRS-044")
def test_unreadable_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ChecklistError) as info:
        load_checklist(missing)
    assert str(missing) in str(info.value) and "cannot read" in str(info.value)


# ---------------------------------------------------------------- input files (SRS-142)
@pytest.mark.req("SRS-142")
def test_input_file_bound_is_256_kib():
    from core.checklist import INPUT_FILE_MAX_BYTES
    assert INPUT_FILE_MAX_BYTES == 262144


@pytest.mark.req("SRS-142")
@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 200_001, 262144])
def test_a_regular_file_up_to_the_bound_is_read_whole(tmp_path, size):
    from core.checklist import read_input_file
    data = bytes((i * 7 + 3) % 251 for i in range(size))
    f = tmp_path / "in.yaml"
    f.write_bytes(data)
    assert read_input_file(f) == data


@pytest.mark.req("SRS-142")
def test_one_byte_over_a_given_bound_is_refused_naming_the_bound(tmp_path):
    from core.checklist import read_input_file
    f = tmp_path / "in.yaml"
    f.write_bytes(b"x" * 11)
    assert read_input_file(f, max_bytes=11) == b"x" * 11
    with pytest.raises(OSError) as info:
        read_input_file(f, max_bytes=10)
    assert str(info.value) == "larger than 10 bytes (allowed: at most 10 bytes)"


@pytest.mark.req("SRS-142")
def test_special_files_are_refused_before_any_read(tmp_path):
    import os
    from core.checklist import read_input_file
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo, tmp_path):
        with pytest.raises(OSError) as info:
            read_input_file(path, max_bytes=5)
        assert str(info.value) == "not a regular file (allowed: a regular file of at most 5 bytes)"


@pytest.mark.req("SRS-142")
def test_checklist_loader_names_a_special_file(tmp_path):
    from core.checklist import ChecklistError, load_checklist_with_hash
    with pytest.raises(ChecklistError) as info:
        load_checklist_with_hash("/dev/zero")
    assert "/dev/zero" in str(info.value) and "not a regular file" in str(info.value)
