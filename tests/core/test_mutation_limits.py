"""The limits file's reader at the points mutation testing found untested
(issue 12 point 2, mutmut survivors in core/limits.py): the range text and
the error messages that name the file and the key."""
from __future__ import annotations

import pytest
import yaml

from core.limits import LIMITS_FILE, LimitsFileError, Range, load_limits, parse_limits

REASON = "a rationale long enough to pass"


@pytest.mark.req("SRS-062")
@pytest.mark.parametrize("lo,hi,unit,text", [(1.0, 25.0, "mA", "1..25 mA"), (0.5, 2.5, "mA", "0.5..2.5 mA"),
                                             (10, 120, "s", "10..120 s"), (0.25, 3.0, "x", "0.25..3 x")])
def test_range_text_prints_whole_numbers_without_a_point(lo, hi, unit, text):
    assert Range(min=lo, max=hi, unit=unit, rationale=REASON).text() == text


@pytest.mark.req("SRS-062")
def test_invalid_yaml_names_the_source():
    with pytest.raises(LimitsFileError) as err:
        parse_limits("sites: [", "my/limits.yaml")
    assert str(err.value).startswith("my/limits.yaml: not valid YAML: ")


@pytest.mark.req("SRS-062")
def test_a_file_that_is_not_a_mapping_is_named_at_the_top():
    with pytest.raises(LimitsFileError) as err:
        parse_limits("5", "x.yaml")
    assert str(err.value).startswith("x.yaml: (top): ")


@pytest.mark.req("SRS-062")
def test_each_bad_key_is_named_by_its_dotted_path_and_all_are_listed():
    data = yaml.safe_load(load_limits_text())
    data["sites"]["hands"]["current_ma"]["min"] = "low"
    data["sites"]["feet"]["current_ma"]["unit"] = 5
    with pytest.raises(LimitsFileError) as err:
        parse_limits(yaml.safe_dump(data), "z.yaml")
    message = str(err.value)
    assert message.startswith("z.yaml: ")
    parts = message[len("z.yaml: "):].split("; ")
    assert sorted(p.split(": ")[0] for p in parts) == ["sites.feet.current_ma.unit", "sites.hands.current_ma.min"]
    assert all(len(p.split(": ", 1)[1]) > 10 for p in parts)       # each with pydantic's reason


def load_limits_text() -> str:
    from importlib import resources
    return resources.files("spec").joinpath(LIMITS_FILE).read_text(encoding="utf-8")


@pytest.mark.req("SRS-062")
def test_the_shipped_file_parses_to_the_cached_limits():
    assert parse_limits(load_limits_text()) == load_limits()
