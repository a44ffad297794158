"""The exact wording of settings rejections (SRS-041).

SRS-041: every rejection names the field, the value given and the allowed
range. The allowed range of the current depends on the site, so a message
about the current must quote the range of the site the user chose (not the
ranges of every site), and quote every site's range only when the site itself
is unusable. The numbers are written out from spec/limits.yaml on purpose: a
changed limit must fail here and pass through review.
"""
from __future__ import annotations

from collections.abc import Mapping

import pytest

from core.settings import SettingsError, allowed_text, parse_settings

SITE_RANGE = {"hands": "1..25 mA for hands", "feet": "1..25 mA for feet",
              "underarms": "1..5 mA for underarms"}
EVERY_SITE_RANGE = "1..25 mA for hands; 1..25 mA for feet; 1..5 mA for underarms"
SETTINGS_LIST = ("site, current_ma, minutes, ramp_up_s, ramp_down_s, reverse_polarity, start_polarity, "
                 "mode, pulse_khz, duty_percent")   # the last three: SRS-300
CURRENT_OK_MA = {"hands": 15.0, "feet": 15.0, "underarms": 3.0}


def messages(data) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    return info.value.messages


def settings_for(site: str, **overrides) -> dict:
    return {"site": site, "current_ma": CURRENT_OK_MA[site], "minutes": 15, **overrides}


# --- the current: the chosen site's range, or every site's range ---------------------------

@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("site", list(SITE_RANGE))
def test_missing_current_names_the_range_of_the_chosen_site(site):
    data = settings_for(site)
    del data["current_ma"]
    assert messages(data) == [f"current_ma: missing; allowed: {SITE_RANGE[site]}"]


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("site", list(SITE_RANGE))
@pytest.mark.parametrize("value,shown", [("abc", "'abc'"), (None, "None"), ([3], "[3]")])
def test_current_not_a_number_names_the_range_of_the_chosen_site(site, value, shown):
    assert messages(settings_for(site, current_ma=value)) == [
        f"current_ma: {shown} is not a number; allowed: {SITE_RANGE[site]}"]


@pytest.mark.req("SRS-041")
def test_site_given_as_a_non_dict_mapping_still_selects_its_range():
    # parse_settings takes any Mapping (e.g. a read-only view of parsed options)
    class Options(Mapping):
        def __init__(self, data: dict):
            self._data = data

        def __getitem__(self, key):
            return self._data[key]

        def __iter__(self):
            return iter(self._data)

        def __len__(self):
            return len(self._data)

    assert parse_settings(Options(settings_for("underarms"))).current_ma == 3.0
    assert messages(Options(settings_for("underarms", current_ma="x"))) == [
        "current_ma: 'x' is not a number; allowed: 1..5 mA for underarms"]


@pytest.mark.req("SRS-041")
def test_unknown_site_and_missing_current_names_every_site_range():
    assert messages({"site": "knees", "minutes": 15}) == [
        "site: 'knees' is not a site; allowed: one of hands, feet, underarms",
        f"current_ma: missing; allowed: {EVERY_SITE_RANGE}",
    ]


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("site,shown", [(["underarms"], "['underarms']"), ({"a": 1}, "{'a': 1}"),
                                        (5, "5"), (None, "None")])
def test_site_of_a_wrong_type_is_refused_without_a_crash(site, shown):
    # a site that is not text cannot select a range: every site's range is named
    assert messages({"site": site, "current_ma": "abc", "minutes": 15}) == [
        f"site: {shown} is not a site; allowed: one of hands, feet, underarms",
        f"current_ma: 'abc' is not a number; allowed: {EVERY_SITE_RANGE}",
    ]


# --- times: their ranges, and "whole minutes" only for minutes -------------------------------

@pytest.mark.req("SRS-041")
def test_minutes_messages_say_whole_minutes():
    data = settings_for("hands")
    del data["minutes"]
    assert messages(data) == ["minutes: missing; allowed: 10..30 min (whole minutes)"]
    assert messages(settings_for("hands", minutes=15.5)) == [
        "minutes: 15.5 is not a whole number; allowed: 10..30 min (whole minutes)"]
    assert messages(settings_for("hands", minutes="ten")) == [
        "minutes: 'ten' is not a number; allowed: 10..30 min (whole minutes)"]


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("field", ["ramp_up_s", "ramp_down_s"])
def test_ramp_messages_name_seconds_only(field):
    assert messages(settings_for("feet", **{field: "fast"})) == [
        f"{field}: 'fast' is not a number; allowed: 10..120 s"]
    assert messages(settings_for("feet", **{field: True})) == [
        f"{field}: True is not a number; allowed: 10..120 s"]


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("minutes", [1234567, 2**70, -1234567])
def test_large_whole_numbers_are_quoted_digit_for_digit(minutes):
    # the value named must be the value given, not a rounded form such as 1.23457e+06
    assert messages(settings_for("hands", minutes=minutes)) == [
        f"minutes: {minutes} min is outside the allowed range 10..30 min"]


@pytest.mark.req("SRS-041")
def test_number_too_large_to_read_still_names_field_value_and_range():
    (line,) = messages(settings_for("hands", minutes=1e20))
    assert line.startswith("minutes: 100000000000000000000 is not valid (")
    assert line.endswith("); allowed: 10..30 min (whole minutes)")


# --- unknown settings, keys and shapes ---------------------------------------------------

@pytest.mark.req("SRS-041")
def test_unknown_setting_lists_every_setting():
    assert messages(settings_for("hands", voltage_v=60)) == [
        f"voltage_v: unknown setting (value 60); settings are {SETTINGS_LIST}"]


@pytest.mark.req("SRS-041")
def test_key_that_is_not_text_is_refused_naming_the_settings():
    (line,) = messages({**settings_for("hands"), 7: 2})
    assert line.startswith("7: 7 is not valid (")
    assert line.endswith(f"); allowed: no such setting; settings are {SETTINGS_LIST}")


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("data,kind", [(["hands", 15, 15], "list"), ("hands", "str"),
                                       (None, "NoneType"), (15, "int")])
def test_not_a_mapping_names_what_was_given(data, kind):
    assert messages(data) == [f"settings: expected a mapping of settings, got {kind}"]


@pytest.mark.req("SRS-041")
def test_error_text_lists_one_field_per_line():
    data = settings_for("underarms", current_ma=6, minutes=40)
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    assert str(info.value) == (
        "invalid settings:\n"
        "  current_ma: 6 mA is outside the allowed range 1..5 mA for underarms\n"
        "  minutes: 40 min is outside the allowed range 10..30 min")


# --- allowed_text: the words the CLI quotes for a missing option ------------------------------

@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("field,site,expected", [
    ("site", None, "one of hands, feet, underarms"),
    ("current_ma", "hands", "1..25 mA for hands"),
    ("current_ma", "feet", "1..25 mA for feet"),
    ("current_ma", "underarms", "1..5 mA for underarms"),
    ("current_ma", None, EVERY_SITE_RANGE),
    ("current_ma", "knees", EVERY_SITE_RANGE),
    ("minutes", "hands", "10..30 min (whole minutes)"),
    ("ramp_up_s", None, "10..120 s"),
    ("ramp_down_s", "underarms", "10..120 s"),
    ("reverse_polarity", None, "true or false"),
    ("start_polarity", None, "one of normal, reversed"),
    ("mode", None, "one of dc, pulsed"),                                       # SRS-300
    ("pulse_khz", None, "4.3..10 kHz in steps of 0.1 kHz, with mode pulsed"),
    ("duty_percent", None, "50..80 % (whole percent), with mode pulsed"),
    ("voltage_v", None, f"no such setting; settings are {SETTINGS_LIST}"),
])
def test_allowed_text_per_field(field, site, expected):
    assert allowed_text(field, site) == expected


# --- the value is quoted as given, never rounded -------------------------------------------

@pytest.mark.req("SRS-041")
def test_a_value_just_over_the_limit_is_quoted_unrounded():
    # Rounded to 6 digits, 25.0000001 would read "25 mA is outside 1..25 mA": a
    # message that contradicts itself.
    text = " ".join(messages(settings_for("hands", current_ma=25.0000001)))
    assert "25.0000001 mA" in text
    assert "1..25 mA for hands" in text


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("raw", [b"3", bytearray(b"3")])
def test_bytes_are_not_a_current(raw):
    text = " ".join(messages(settings_for("hands", current_ma=raw)))
    assert text.startswith("current_ma:")
    assert "not a number" in text


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("site,current", [("hands", 20.0004), ("feet", 12.3456), ("underarms", 1.005)])
def test_a_current_off_the_0_01_ma_step_is_refused_not_rounded(site, current):
    # the regulator works in whole uA: a rounded setting would be another value
    # than the one the user set (supervisor safety review, F1)
    assert messages(settings_for(site, current_ma=current)) == [
        f"current_ma: {current!r} mA is not a multiple of 0.01 mA; "
        f"allowed {SITE_RANGE[site].replace(' for ' + site, '')} for {site} in steps of 0.01 mA"]


@pytest.mark.req("SRS-040")
@pytest.mark.parametrize("current", [1.01, 12.35, 24.99, 0.1 * 3 * 10])
def test_currents_on_the_step_are_accepted(current):
    assert parse_settings(settings_for("hands", current_ma=current)).current_ma == current


# --- the pulsed mode's fields (SRS-300): field, value as given, the range of spec/limits.yaml --

PULSE_RANGE = "4.3..10 kHz in steps of 0.1 kHz, with mode pulsed"
DUTY_RANGE = "50..80 % (whole percent), with mode pulsed"


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("extra,line", [
    ({"mode": "ac"}, "mode: 'ac' is not a mode; allowed: one of dc, pulsed"),
    ({"mode": 5}, "mode: 5 is not a mode; allowed: one of dc, pulsed"),
    ({"mode": "pulsed", "pulse_khz": 4.2}, "pulse_khz: 4.2 kHz is outside the allowed range 4.3..10 kHz"),
    ({"mode": "pulsed", "pulse_khz": 10.1}, "pulse_khz: 10.1 kHz is outside the allowed range 4.3..10 kHz"),
    ({"mode": "pulsed", "pulse_khz": 5.05},
     "pulse_khz: 5.05 kHz is not a multiple of 0.1 kHz; allowed 4.3..10 kHz for the pulse frequency in steps of 0.1 kHz"),
    ({"mode": "pulsed", "pulse_khz": "fast"}, f"pulse_khz: 'fast' is not a number; allowed: {PULSE_RANGE}"),
    ({"mode": "pulsed", "duty_percent": 49}, "duty_percent: 49 % is outside the allowed range 50..80 %"),
    ({"mode": "pulsed", "duty_percent": 81}, "duty_percent: 81 % is outside the allowed range 50..80 %"),
    ({"mode": "pulsed", "duty_percent": 50.5}, f"duty_percent: 50.5 is not a whole number; allowed: {DUTY_RANGE}"),
    ({"mode": "pulsed", "duty_percent": "x"}, f"duty_percent: 'x' is not a number; allowed: {DUTY_RANGE}"),
    ({"pulse_khz": 5}, "pulse_khz: 5 kHz is given, but only mode pulsed has a pulse train; give mode pulsed or "
                       f"leave pulse_khz out (allowed: {PULSE_RANGE})"),
    ({"mode": "dc", "duty_percent": 60}, "duty_percent: 60 % is given, but only mode pulsed has a pulse train; give "
                                         f"mode pulsed or leave duty_percent out (allowed: {DUTY_RANGE})"),
])
def test_a_bad_pulse_setting_names_its_field_the_value_and_the_range(extra, line):
    assert messages(settings_for("hands", **extra)) == [line]


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("extra", [{"mode": "pulsed", "pulse_khz": 4.3, "duty_percent": 50},
                                   {"mode": "pulsed", "pulse_khz": 10, "duty_percent": 80}])
def test_the_pulse_range_ends_are_accepted(extra):
    s = parse_settings(settings_for("hands", **extra))
    assert (s.pulse_khz, s.duty_percent) == (extra["pulse_khz"], extra["duty_percent"])
