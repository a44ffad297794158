"""Numbers in scenario files: ASCII decimal notation only (SRS-140, SRS-083).

The scenario loader reads only YAML 1.2 ASCII numbers; every other notation
stays text and is refused naming the entry, the field and its allowed range.
Checked for every numeric field of every scenario event. (Settings records
and the CLI: tests/cli/test_numeric_input.py.)
"""
from __future__ import annotations

import pytest

from core.scenario import EVENT_FIELDS, ScenarioError, load_scenario

BAD = ["５", "１０", "١٠", "۱۰", "१०", "১০", "๑๐", "𝟏𝟎", "1_0", "0x1", "0o7", "1:30", ".inf", "-.inf",
       ".nan", "1e400", '""', '"10"', '"1,5"', "٫5", "ten"]
GOOD_FIELDS = {"ohms": "500", "over_s": "1", "channel": "0", "mA": "5", "ms": "10", "percent": "1"}
FIELDS = [("lift_off", "at_s")] + [(event, name) for event, spec in EVENT_FIELDS.items()
                                   for name in spec]


def _write(tmp_path, event: str, field: str, value: str):
    fields = {"at_s": "1", **{k: GOOD_FIELDS[k] for k in EVENT_FIELDS[event]}}
    fields[field] = value
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    path = tmp_path / "s.yaml"
    path.write_text(f"- {{event: {event}, {body}}}\n", encoding="utf-8")
    return path


@pytest.mark.req("SRS-140", "SRS-083")
@pytest.mark.parametrize("event,field", FIELDS)
@pytest.mark.parametrize("value", BAD)
def test_every_scenario_number_refuses_other_notations(tmp_path, event, field, value):
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, event, field, value))
    text = str(info.value)
    assert f"field {field!r}" in text and "allowed" in text, text
    assert "not a number" in text or "out of range" in text, text


@pytest.mark.req("SRS-140", "SRS-083")
@pytest.mark.parametrize("event,field", FIELDS)
def test_ascii_numbers_are_read(tmp_path, event, field):
    good = GOOD_FIELDS.get(field, "1")
    (ev,) = load_scenario(_write(tmp_path, event, field, good))
    assert (ev.at_s if field == "at_s" else ev.fields[field]) == float(good)
