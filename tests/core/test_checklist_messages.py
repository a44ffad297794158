"""Checklist file rejections name the file and each bad item (SRS-044).

The CLI shows `str(ChecklistError)` as it is ("--checklist: <error>"), so the
text must start with the file the user gave and list one problem per line.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.checklist import ChecklistError, evaluate, load_checklist

CONTRAINDICATION_IDS = [
    "pregnancy", "breast_feeding", "child_under_5", "heart_disease", "cardiac_pacemaker",
    "electronic_or_metallic_implant", "seizures_or_epilepsy", "impaired_sensibility",
    "severe_vascular_disorder", "local_thrombosis", "malignant_disorder",
    "skin_damage_or_inflammation",
]
PREPARATION_IDS = ["cosmetics_removed", "metal_jewelry_removed", "skin_cracks_covered"]


def clear_text() -> str:
    return yaml.safe_dump({"contraindications": {i: False for i in CONTRAINDICATION_IDS},
                           "preparation": {i: True for i in PREPARATION_IDS}}, sort_keys=False)


def refused(path: Path) -> ChecklistError:
    with pytest.raises(ChecklistError) as info:
        load_checklist(path)
    return info.value


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("content,problem", [
    ("contraindications: {pregnancy: false\n", "not valid YAML"),
    ("- pregnancy\n", "must be a mapping with 'contraindications' and 'preparation', got list"),
    (clear_text().replace("  pregnancy: false\n", ""), "contraindications.pregnancy: missing"),
])
def test_bad_file_is_refused_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "answers.yaml"
    path.write_text(content, encoding="utf-8")
    err = refused(path)
    assert err.source == str(path)
    assert str(err).startswith(f"checklist {path}:\n  {problem}")


@pytest.mark.req("SRS-044")
def test_every_problem_on_its_own_line(tmp_path):
    path = tmp_path / "answers.yaml"
    text = clear_text().replace("  pregnancy: false\n", "  pregnancy: 'no'\n")
    path.write_text(text.replace("  cosmetics_removed: true\n", ""), encoding="utf-8")
    assert str(refused(path)) == (
        f"checklist {path}:\n"
        "  contraindications.pregnancy: 'no' is not true or false\n"
        "  preparation.cosmetics_removed: missing; must be true or false")


@pytest.mark.req("SRS-044")
def test_unreadable_file_is_refused_naming_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    err = refused(missing)
    assert err.source == str(missing)
    assert str(err).startswith(f"checklist {missing}:\n  cannot read: ")
    assert len(err.messages) == 1


@pytest.mark.req("SRS-044")
def test_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(("# Fragebogen f\u00fcr die Behandlung\n" + clear_text()).encode("latin-1"))
    err = refused(path)
    assert str(err).startswith(f"checklist {path}:\n  cannot read: ")


@pytest.mark.req("SRS-044", "SRS-042")
def test_utf8_file_with_non_ascii_comments_is_read(tmp_path):
    # a checklist file is UTF-8 whatever the user's locale
    path = tmp_path / "answers.yaml"
    path.write_text("# Fragebogen f\u00fcr die Behandlung \u2013 alles gepr\u00fcft\n" + clear_text(),
                    encoding="utf-8")
    assert evaluate(load_checklist(path)).passed


@pytest.mark.req("SRS-044")
def test_duplicate_item_names_the_item_and_its_line(tmp_path):
    # which of two answers counts must never depend on the parser: the second
    # one is pointed at so that the user can delete the wrong one
    path = tmp_path / "answers.yaml"
    text = clear_text().replace("  pregnancy: false\n", "  pregnancy: false\n  pregnancy: true\n")
    assert text.splitlines()[2] == "  pregnancy: true"
    path.write_text(text, encoding="utf-8")
    err = refused(path)
    assert len(err.messages) == 1
    assert "duplicate key 'pregnancy'" in err.messages[0]
    assert "line 3, column 3" in err.messages[0]


@pytest.mark.req("SRS-044")
@pytest.mark.parametrize("content", ["? [a, b]\n: true\n", "contraindications:\n  ? {x: 1}\n  : false\n"])
def test_a_list_or_mapping_as_item_name_is_refused_not_a_crash(tmp_path, content):
    path = tmp_path / "checklist.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChecklistError) as info:
        load_checklist(path)
    assert str(info.value).startswith(f"checklist {path}:")
    assert "item name must be text" in str(info.value)
    assert "line " in str(info.value)  # where in the file


# --- hostile contents: a clear refusal naming the file, never a crash (SRS-044) --------

from core.checklist import parse_checklist  # noqa: E402


@pytest.mark.req("SRS-044")
def test_deeply_nested_yaml_is_refused_naming_the_source():
    text = "contraindications: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, source="deep.yaml")
    assert info.value.source == "deep.yaml"
    assert info.value.messages == [
        "nested too deeply to read; allowed: two mappings of item: true/false"]


@pytest.mark.req("SRS-044")
def test_a_number_too_long_to_read_is_refused_naming_the_source():
    text = "contraindications:\n  pregnancy: " + "1" * 5000 + "\n"
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, source="big.yaml")
    assert info.value.source == "big.yaml"
    assert len(info.value.messages) == 1
    assert info.value.messages[0].startswith("holds a value that cannot be read: ")


@pytest.mark.req("SRS-044")
def test_a_huge_binary_number_answer_is_named_without_its_digits():
    # YAML 1.1 reads 0b... without the 4300-digit limit; its decimal text is unprintable
    text = "contraindications:\n  pregnancy: 0b" + "1" * 20000 + "\n"
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, source="bin.yaml")
    assert ("contraindications.pregnancy: a number of more than 4300 digits "
            "is not true or false") in info.value.messages


@pytest.mark.req("SRS-044")
def test_a_long_answer_is_cut_short_in_the_message_and_a_short_one_is_whole():
    long_value = "x" * 41          # repr: 43 characters, over the 40 shown whole
    short_value = "y" * 38         # repr: exactly 40 characters, shown whole
    text = (f"contraindications:\n  pregnancy: {long_value}\n"
            f"  breast_feeding: {short_value}\n")
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, source="long.yaml")
    msgs = info.value.messages
    assert f"contraindications.pregnancy: '{'x' * 29}... (43 characters) is not true or false" in msgs
    assert f"contraindications.breast_feeding: '{short_value}' is not true or false" in msgs


@pytest.mark.req("SRS-044")
def test_a_list_as_item_name_names_its_type():
    with pytest.raises(ChecklistError) as info:
        parse_checklist("? [a, b]\n: true\n", source="key.yaml")
    assert "an item name must be text, not list" in str(info.value)


@pytest.mark.req("SRS-044")
def test_an_answer_one_character_over_the_limit_is_cut():
    with pytest.raises(ChecklistError) as info:
        parse_checklist("contraindications:\n  pregnancy: " + "z" * 39 + "\n", source="f.yaml")
    assert f"contraindications.pregnancy: '{'z' * 29}... (41 characters) is not true or false" \
        in info.value.messages


@pytest.mark.req("SRS-044")
def test_a_value_too_deep_to_print_is_named_not_printed():
    from core.checklist import _show
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert _show(deep) == "a deeply nested value"
