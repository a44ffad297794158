"""Mutation survivors of core/scenario.py (issue 12 point 2): a refused
scenario names the entry, the field, the value and the allowed range
(SRS-083). The value is shown readably at every size: an integer from 10**15
on as its first 6 digits and its length, text longer than 60 characters cut
at 50, a value too deep to print named as such."""
from __future__ import annotations

import pytest

from core.scenario import AT_S, Bound, ScenarioError, parse_scenario

AT_S_RANGE = "allowed: a number with 0 <= value <= 14400 s"


def _refusal(entry) -> str:
    with pytest.raises(ScenarioError) as err:
        parse_scenario([entry])
    return str(err.value)


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("value,shown", [
    (10**15, "100000... (16 digits)"),            # the first abbreviated
    (-10**15, "-100000... (16 digits)"),
    (1234567 * 10**12, "123456... (19 digits)"),
    (10**15 - 1, "999999999999999"),             # the last printed whole
    (-(10**15 - 1), "-999999999999999"),
    (14401, "14401"),
])
def test_an_integer_time_out_of_range_is_shown_whole_below_10_to_the_15(value, shown):
    assert _refusal({"at_s": value, "event": "contact"}) == (
        f"scenario entry 0: field 'at_s' = {shown} is out of range; {AT_S_RANGE}")


@pytest.mark.req("SRS-083")
def test_an_integer_beyond_the_int_to_text_limit_is_named_not_printed():
    assert _refusal({"at_s": 10**5000, "event": "contact"}) == (
        "scenario entry 0: field 'at_s' = an integer of more than 4300 digits is out of range; "
        + AT_S_RANGE)


@pytest.mark.req("SRS-083")
def test_an_event_name_of_60_characters_is_shown_whole():
    name = "x" * 58                                 # repr: 60 characters with its quotes
    assert _refusal({"at_s": 1, "event": name}).startswith(
        f"scenario entry 0: field 'event' = '{name}' is unknown; allowed: lift_off, contact,")


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("length", [59, 200])
def test_an_event_name_over_60_characters_is_cut_at_50(length):
    name = "y" * length
    shown = f"'{'y' * 49}... ({length + 2} characters)"
    assert _refusal({"at_s": 1, "event": name}).startswith(
        f"scenario entry 0: field 'event' = {shown} is unknown;")


@pytest.mark.req("SRS-083")
def test_an_entry_too_deep_to_print_is_named_so():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert _refusal(deep) == ("scenario entry 0: expected a mapping with 'at_s' and 'event', "
                              "got a deeply nested value")


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("bound,text", [
    (AT_S, "a number with 0 <= value <= 14400 s"),
    (Bound(0, 1, integer=True), "an integer with 0 <= value <= 1"),
    (Bound(0.5, 2.5, low_open=True, unit="mA"), "a number with 0.5 < value <= 2.5 mA"),
    (Bound(-50, 50, low_open=True, integer=True), "an integer with -50 < value <= 50"),
])
def test_the_allowed_range_says_integer_or_number_and_whether_the_low_end_is_open(bound, text):
    assert bound.describe() == text


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("value,inside", [(0.5, False), (0.5000001, True), (2.5, True), (2.5000001, False)])
def test_an_open_low_end_excludes_its_value_and_the_high_end_includes_its(value, inside):
    assert Bound(0.5, 2.5, low_open=True).contains(value) is inside


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("value,inside", [(-0.0001, False), (0.0, True), (14400.0, True), (14400.001, False)])
def test_a_closed_low_end_includes_its_value(value, inside):
    assert AT_S.contains(value) is inside


class _Spy:
    """Records the load calls a scenario event makes on the simulated device."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, *args))


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("entry,call", [
    ({"event": "lift_off"}, ("lift_off",)),
    ({"event": "contact"}, ("contact",)),
    ({"event": "short", "ohms": 50}, ("short", 50.0)),
    ({"event": "load", "ohms": 5000, "over_s": 30}, ("change_load", 5000.0, 30.0)),
    ({"event": "load", "ohms": 100}, ("change_load", 100.0, 0.0)),          # at once by default
    ({"event": "sensor_stuck", "channel": 1, "mA": 2.5}, ("stick_sensor", 1, 2.5)),
    ({"event": "stall", "ms": 250}, ("stall", 250.0)),
    ({"event": "ticks_stop"}, ("stop_ticks",)),
    ({"event": "clock_drift", "percent": -1.5}, ("clock_drift", -1.5)),
])
def test_each_event_acts_once_on_the_device_with_its_values(entry, call):
    from core.scenario import apply_event
    (event,) = parse_scenario([{"at_s": 1, **entry}])
    spy = _Spy()
    apply_event(spy, event)
    assert spy.calls == [call]
    assert all(type(a) is type(b) for a, b in zip(spy.calls[0][1:], call[1:]))


@pytest.mark.req("SRS-083")
def test_a_scenario_file_nested_too_deeply_is_refused_naming_the_file(tmp_path):
    from core.scenario import load_scenario
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (f"scenario file {str(path)!r} is nested too deeply to read; "
                              "allowed: a flat list of event mappings")


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("entry,allowed", [
    ({"event": "load", "ohms": 500, "volts": 3}, "at_s, event, ohms, over_s"),
    ({"event": "contact", "ohms": 500}, "at_s, event"),
])
def test_an_unknown_field_is_refused_listing_the_fields_of_its_event(entry, allowed):
    key = next(k for k in entry if k not in ("event", "ohms")) if entry["event"] == "load" else "ohms"
    assert _refusal({"at_s": 1, **entry}) == (
        f"scenario entry 0: field {key!r} is unknown for event '{entry['event']}'; allowed fields: {allowed}")


@pytest.mark.req("SRS-083")
def test_a_missing_event_field_lists_every_event_name():
    assert _refusal({"at_s": 1}) == (
        "scenario entry 0: field 'event' is missing; allowed: lift_off, contact, short, load, "
        "sensor_stuck, stall, ticks_stop, clock_drift, stop")


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("data,kind", [({"at_s": 1, "event": "stop"}, "dict"), ("stop", "str"), (5, "int")])
def test_a_scenario_that_is_not_a_list_is_refused_naming_what_it_is(data, kind):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data)
    assert str(err.value) == f"scenario: expected a list of events, got {kind}"


@pytest.mark.req("SRS-083")
@pytest.mark.parametrize("channel", [1, 1.0])
def test_an_integer_field_is_read_as_an_integer(channel):
    # the channel is an index (0 or 1), logged and acted as such, never 1.0
    (event,) = parse_scenario([{"at_s": 1, "event": "sensor_stuck", "channel": channel, "mA": 2}])
    assert event.fields == {"channel": 1, "mA": 2.0}
    assert type(event.fields["channel"]) is int and type(event.fields["mA"]) is float


@pytest.mark.req("SRS-083")
def test_a_stop_event_given_to_the_device_is_refused_and_nothing_acted():
    # `stop` ends the session in the supervisor; it is no load event
    from core.scenario import ScenarioEvent, apply_event
    spy = _Spy()
    with pytest.raises(ScenarioError) as err:
        apply_event(spy, ScenarioEvent(index=3, at_s=5.0, event="stop"))
    assert str(err.value) == "event 'stop' is not a load event"
    assert spy.calls == []


@pytest.mark.req("SRS-083")
def test_a_missing_scenario_file_is_refused_naming_it(tmp_path):
    from core.scenario import load_scenario
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == f"scenario file {str(path)!r} does not exist"


@pytest.mark.req("SRS-142")
def test_a_directory_as_scenario_file_is_refused_naming_it_and_the_allowed_kind(tmp_path):
    from core.scenario import load_scenario
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path)
    assert str(err.value) == (f"scenario file {str(tmp_path)!r} cannot be read: not a regular file "
                              "(allowed: a regular file of at most 262144 bytes)")


@pytest.mark.req("SRS-083")
def test_a_scenario_file_not_in_utf8_is_refused_naming_it(tmp_path):
    from core.scenario import load_scenario
    path = tmp_path / "latin1.yaml"
    path.write_bytes("- {at_s: 1, event: stop}  # Stromstärke\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"scenario file {str(path)!r} cannot be read: 'utf-8' codec can't decode")


@pytest.mark.req("SRS-083")
def test_a_scenario_file_that_is_not_yaml_is_refused_naming_it_and_the_line(tmp_path):
    from core.scenario import load_scenario
    path = tmp_path / "bad.yaml"
    path.write_text("- at_s: 1\n  event: [stop\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"scenario file {str(path)!r} is not valid YAML: while parsing")
    assert "line 2, column 10" in str(err.value)


@pytest.mark.req("SRS-140", "SRS-083")
def test_an_integer_of_5000_digits_in_a_file_is_refused_naming_the_file(tmp_path):
    # beyond Python's int-to-text limit of 4300 digits: refused, never a traceback
    from core.scenario import load_scenario
    path = tmp_path / "big.yaml"
    path.write_text("- {at_s: " + "1" * 5000 + ", event: stop}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"scenario file {str(path)!r} holds a value that cannot be read: ")
    assert "(4300 digits)" in str(err.value) and "5000 digits" in str(err.value)
