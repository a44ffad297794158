"""Scenario files are validated before Start (SRS-083): every bad entry is
refused with a message naming the entry index, the field, the value and the
allowed range."""
from __future__ import annotations

import pytest

from core.scenario import EVENT_FIELDS, ScenarioError, load_scenario, parse_scenario

pytestmark = pytest.mark.req("SRS-083")


def test_valid_scenario_is_sorted_by_time_and_keeps_fields():
    events = parse_scenario([
        {"at_s": 30, "event": "contact"},
        {"at_s": 12.5, "event": "lift_off"},
        {"at_s": 40, "event": "load", "ohms": 4000, "over_s": 5},
        {"at_s": 40, "event": "sensor_stuck", "channel": 1, "mA": 3.0},
        {"at_s": 50, "event": "stall", "ms": 80},
        {"at_s": 60, "event": "short", "ohms": 50},
        {"at_s": 70, "event": "stop"},
    ])
    assert [e.event for e in events] == ["lift_off", "contact", "load", "sensor_stuck",
                                         "stall", "short", "stop"]
    assert [e.index for e in events] == [1, 0, 2, 3, 4, 5, 6]
    assert events[2].fields == {"ohms": 4000.0, "over_s": 5.0}
    assert events[3].fields == {"channel": 1, "mA": 3.0}
    assert events[0].at_tick(10_000) == 125_000


def test_empty_file_is_an_empty_scenario():
    assert parse_scenario(None) == []


@pytest.mark.parametrize("entries, words", [
    ([{"at_s": 1, "event": "explode"}], ["entry 0", "'event'", "'explode'", "lift_off", "stop"]),
    ([{"event": "stop"}], ["entry 0", "'at_s'", "missing", "0 <= value <= 14400"]),
    ([{"at_s": 1, "event": "stop"}, {"at_s": -0.5, "event": "stop"}],
     ["entry 1", "'at_s'", "-0.5", "out of range", "0 <= value"]),
    ([{"at_s": "soon", "event": "stop"}], ["entry 0", "'at_s'", "'soon'", "not a number"]),
    ([{"at_s": True, "event": "stop"}], ["entry 0", "'at_s'", "True", "not a number"]),
    ([{"at_s": float("nan"), "event": "stop"}], ["entry 0", "'at_s'", "nan", "out of range"]),
    ([{"at_s": 1}], ["entry 0", "'event'", "missing"]),
    ([{"at_s": 1, "event": "short"}], ["entry 0", "'ohms'", "missing", "short", "1 <= value <= 1000"]),
    ([{"at_s": 1, "event": "short", "ohms": 5000}], ["entry 0", "'ohms'", "5000", "1 <= value <= 1000"]),
    ([{"at_s": 1, "event": "load", "ohms": 50}], ["'ohms'", "50", "100 <= value <= 1e+06"]),
    ([{"at_s": 1, "event": "load", "ohms": 900, "over_s": -1}], ["'over_s'", "-1", "0 <= value <= 600"]),
    ([{"at_s": 1, "event": "sensor_stuck", "channel": 2, "mA": 1}],
     ["'channel'", "2", "integer with 0 <= value <= 1"]),
    ([{"at_s": 1, "event": "sensor_stuck", "channel": 0.5, "mA": 1}], ["'channel'", "0.5", "not an integer"]),
    ([{"at_s": 1, "event": "sensor_stuck", "channel": 0, "mA": 51}], ["'mA'", "51", "0 <= value <= 50"]),
    ([{"at_s": 1, "event": "sensor_stuck", "channel": 0}], ["'mA'", "missing"]),
    ([{"at_s": 1, "event": "stall", "ms": 0}], ["'ms'", "0", "1 <= value <= 600000"]),
    ([{"at_s": 1, "event": "stop", "ohms": 3}], ["entry 0", "'ohms'", "unknown", "stop"]),
    ([{"at_s": 1, "event": "stop"}, "stop"], ["entry 1", "expected a mapping"]),
])
def test_bad_entry_refused_with_index_field_value_and_range(entries, words):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(entries)
    for word in words:
        assert word in str(err.value)


def test_not_a_list_refused():
    with pytest.raises(ScenarioError, match="expected a list"):
        parse_scenario({"at_s": 1, "event": "stop"})


def test_every_event_name_of_the_issue_is_known():
    assert set(EVENT_FIELDS) == {"lift_off", "contact", "short", "load", "sensor_stuck",
                                 "stall", "stop", "ticks_stop", "clock_drift"}


def test_missing_unreadable_and_bad_yaml_files(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path)  # a directory
    bad = tmp_path / "bad.yaml"
    bad.write_text("- at_s: 1\n  event: [stop\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("text, key", [
    ("- {at_s: 5, event: clock_drift, percent: 1, percent: 2}\n", "percent"),
    ("- at_s: 1\n  event: lift_off\n  at_s: 2\n", "at_s"),
])
def test_a_duplicate_key_refuses_the_file_naming_key_and_line(tmp_path, text, key):
    """The last duplicate would otherwise win silently (independent review)."""
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=f"duplicate key '{key}'") as info:
        load_scenario(path)
    assert "line " in str(info.value)


@pytest.mark.req("SRS-083", "SRS-033")
def test_scenario_ranges_are_what_the_simulated_load_accepts():
    """The bounds repeat cext/simload.h (scenario.py may not import the cffi
    module): each bound must be accepted by the rig and just beyond refused."""
    from core.regulator import CommandRejected, SimulatedRig

    rig = SimulatedRig(seed=0)
    acts = {("short", "ohms"): rig.short,
            ("load", "ohms"): lambda v: rig.change_load(v, 0.0),
            ("load", "over_s"): lambda v: rig.change_load(2000.0, v),
            ("sensor_stuck", "mA"): lambda v: rig.stick_sensor(0, v),
            ("stall", "ms"): rig.stall}
    for (event, name), act in acts.items():
        bound = EVENT_FIELDS[event][name][0]
        for inside in (bound.low, bound.high):
            act(inside)
        beyond = [bound.high * 1.01 + 1]
        if bound.low > 0 and event != "stall":   # a 0 ms stall is refused here on purpose
            beyond.append(bound.low * 0.99 - 1e-3)
        for value in beyond:
            with pytest.raises(CommandRejected):
                act(value)


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("written", ["1:30", "0x10", "1_0", "0b11", "0o17"])
def test_yaml_1_1_number_forms_are_refused_not_read_as_another_time(tmp_path, written):
    # YAML 1.1 reads 1:30 as 90 (base 60) and 0x10 as 16: a time the user did not mean
    path = tmp_path / "s.yaml"
    path.write_text(f"- {{at_s: {written}, event: stop}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert f"scenario entry 0: field 'at_s' = '{written}' is not a number" in str(info.value)


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("written,at_s", [("90", 90.0), ("12.5", 12.5), ("1.5e1", 15.0), ("0.25", 0.25)])
def test_plain_decimal_numbers_are_read(tmp_path, written, at_s):
    path = tmp_path / "s.yaml"
    path.write_text(f"- {{at_s: {written}, event: stop}}\n", encoding="utf-8")
    assert load_scenario(path)[0].at_s == at_s
