"""Settings ranges per site (SRS-040) and readable rejections (SRS-041).

The numbers are written out here on purpose: a change to spec/limits.yaml
must fail these tests and so pass through review.
"""
from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.limits import LimitsFileError, load_limits, parse_limits
from core.settings import (
    FIELDS,
    SettingsError,
    Site,
    TherapySettings,
    parse_settings,
    settings_error_messages,
)

CURRENT_RANGE_MA = {"hands": (1.0, 25.0), "feet": (1.0, 25.0), "underarms": (1.0, 5.0)}
MINUTES = (10, 30)
RAMP_S = (10.0, 120.0)
RAMP_DEFAULT_S = 30.0
VALID = {"site": "hands", "current_ma": 15.0, "minutes": 15}


def refusal(**overrides) -> list[str]:
    data = {**VALID, **overrides}
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    return info.value.messages


def only_line(lines: list[str], field: str) -> str:
    mine = [line for line in lines if line.startswith(f"{field}:")]
    assert len(mine) == 1, lines
    return mine[0]


# --- the limits file ------------------------------------------------------------------

@pytest.mark.req("SRS-040")
def test_limits_file_holds_the_documented_numbers_with_rationale():
    limits = load_limits()
    for site, (low, high) in CURRENT_RANGE_MA.items():
        rng = limits.current_range(site)
        assert (rng.min, rng.max, rng.unit) == (low, high, "mA")
    assert "[SWI]" in limits.current_range("underarms").rationale
    assert "[MED]" in limits.current_range("hands").rationale
    assert "[GIL]" in limits.current_range("feet").rationale
    m = limits.settings.minutes
    assert (m.min, m.max) == MINUTES and "[H94]" in m.rationale and "[SAALF" in m.rationale
    for ramp in (limits.settings.ramp_up_s, limits.settings.ramp_down_s):
        assert (ramp.min, ramp.max, ramp.default) == (*RAMP_S, RAMP_DEFAULT_S)
        assert "[IDC]" in ramp.rationale
    assert limits.settings.reverse_polarity.default is False
    assert limits.contact_timeout_s == 60.0
    assert limits.zero_current_ma == 0.1
    assert limits.supervisor_period_max_ms == 10.0


@pytest.mark.req("SRS-040")
def test_limits_file_is_package_data_of_spec():
    # found through importlib.resources (checkout or wheel) and shipped by pyproject
    assert resources.files("spec").joinpath("limits.yaml").is_file()
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "spec" in pyproject["tool"]["setuptools"]["packages"]
    assert "*.yaml" in pyproject["tool"]["setuptools"]["package-data"]["spec"]


GOOD_LIMITS = resources.files("spec").joinpath("limits.yaml").read_text()


@pytest.mark.req("SRS-040")
@pytest.mark.parametrize("change,named", [
    (("max: 5.0", "max: 0.5"), "sites.underarms.current_ma"),          # min above max
    (("default: 30.0", "default: 300.0"), "settings.ramp_up_s"),       # default outside range
    (("schema_version: 1", "schema_version: 1\nextra_key: 3"), "extra_key"),
    (("  contact_timeout_s:", "  contact_timeout:"), "session.contact_timeout"),
])
def test_malformed_limits_file_is_refused_naming_the_key(change, named):
    bad = GOOD_LIMITS.replace(*change, 1)
    assert bad != GOOD_LIMITS
    with pytest.raises(LimitsFileError, match=named.replace(".", r"\.")):
        parse_limits(bad)


@pytest.mark.req("SRS-040")
def test_limits_file_not_yaml_is_refused():
    with pytest.raises(LimitsFileError, match="not valid YAML"):
        parse_limits("sites: [")


# --- valid settings -------------------------------------------------------------------

@pytest.mark.req("SRS-040")
def test_defaults_and_fields():
    s = parse_settings(VALID)
    assert FIELDS == ("site", "current_ma", "minutes", "ramp_up_s", "ramp_down_s", "reverse_polarity",
                      "start_polarity", "mode", "pulse_khz", "duty_percent")   # the last three: SRS-300
    assert s.site is Site.HANDS
    assert (s.ramp_up_s, s.ramp_down_s, s.reverse_polarity, s.start_polarity) == (30.0, 30.0, False,
                                                                                  "normal")
    with pytest.raises(ValidationError):
        s.current_ma = 20.0  # frozen: a validated setting cannot be changed afterwards
    assert s.to_record() == {"site": "hands", "current_ma": 15.0, "minutes": 15,
                             "ramp_up_s": 30.0, "ramp_down_s": 30.0, "reverse_polarity": False,
                             "start_polarity": "normal"}


# --- boundaries on both sides, per site -------------------------------------------------

@pytest.mark.req("SRS-040", "SRS-041")
@pytest.mark.parametrize("site", list(CURRENT_RANGE_MA))
def test_current_boundaries_per_site(site):
    low, high = CURRENT_RANGE_MA[site]
    assert parse_settings({**VALID, "site": site, "current_ma": low}).current_ma == low
    assert parse_settings({**VALID, "site": site, "current_ma": high}).current_ma == high
    for bad in (low - 0.01, high + 0.01, 0.0, -1.0):
        line = only_line(refusal(site=site, current_ma=bad), "current_ma")
        assert f"{bad:g} mA" in line
        assert f"allowed range {low:g}..{high:g} mA for {site}" in line


@pytest.mark.req("SRS-040", "SRS-041")
def test_underarms_refuses_a_hands_current():
    assert parse_settings({**VALID, "site": "hands", "current_ma": 20}).current_ma == 20
    line = only_line(refusal(site="underarms", current_ma=20), "current_ma")
    assert line == "current_ma: 20 mA is outside the allowed range 1..5 mA for underarms"


@pytest.mark.req("SRS-040", "SRS-041")
def test_minutes_boundaries():
    low, high = MINUTES
    assert parse_settings({**VALID, "minutes": low}).minutes == 10
    assert parse_settings({**VALID, "minutes": high}).minutes == 30
    assert only_line(refusal(minutes=9), "minutes") == \
        "minutes: 9 min is outside the allowed range 10..30 min"
    assert only_line(refusal(minutes=31), "minutes") == \
        "minutes: 31 min is outside the allowed range 10..30 min"
    line = only_line(refusal(minutes=15.5), "minutes")
    assert "15.5" in line and "not a whole number" in line and "10..30 min" in line


@pytest.mark.req("SRS-040", "SRS-041")
@pytest.mark.parametrize("field", ["ramp_up_s", "ramp_down_s"])
def test_ramp_boundaries(field):
    low, high = RAMP_S
    assert getattr(parse_settings({**VALID, field: low}), field) == low
    assert getattr(parse_settings({**VALID, field: high}), field) == high
    assert only_line(refusal(**{field: 9.9}), field) == \
        f"{field}: 9.9 s is outside the allowed range 10..120 s"
    assert only_line(refusal(**{field: 120.5}), field) == \
        f"{field}: 120.5 s is outside the allowed range 10..120 s"


@pytest.mark.req("SRS-040", "SRS-041")
@settings(max_examples=200, deadline=None)
@given(site=st.sampled_from(list(CURRENT_RANGE_MA)),
       current=st.floats(min_value=-100, max_value=100, allow_nan=False))
def test_current_accepted_exactly_inside_the_site_range(site, current):
    low, high = CURRENT_RANGE_MA[site]
    data = {**VALID, "site": site, "current_ma": current}
    steps = current / 0.01  # the 0.01 mA resolution of spec/limits.yaml
    on_step = abs(steps - round(steps)) <= 1e-6
    if low <= current <= high and on_step:
        assert parse_settings(data).current_ma == current
    elif low <= current <= high:
        with pytest.raises(SettingsError) as info:
            parse_settings(data)
        line = only_line(info.value.messages, "current_ma")
        assert "not a multiple of 0.01 mA" in line
        assert f"{low:g}..{high:g} mA for {site}" in line
    else:
        with pytest.raises(SettingsError) as info:
            parse_settings(data)
        line = only_line(info.value.messages, "current_ma")
        assert f"{low:g}..{high:g} mA for {site}" in line


@pytest.mark.req("SRS-040", "SRS-041")
@settings(max_examples=150, deadline=None)
@given(minutes=st.integers(min_value=-1000, max_value=1000),
       ramp_up=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
       ramp_down=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
def test_times_accepted_exactly_inside_their_ranges(minutes, ramp_up, ramp_down):
    data = {**VALID, "minutes": minutes, "ramp_up_s": ramp_up, "ramp_down_s": ramp_down}
    expect_bad = {
        "minutes": not 10 <= minutes <= 30,
        "ramp_up_s": not 10.0 <= ramp_up <= 120.0,
        "ramp_down_s": not 10.0 <= ramp_down <= 120.0,
    }
    if not any(expect_bad.values()):
        assert parse_settings(data).minutes == minutes
        return
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    bad_fields = {line.split(":")[0] for line in info.value.messages}
    assert bad_fields == {f for f, bad in expect_bad.items() if bad}


# --- every other kind of bad input --------------------------------------------------------

@pytest.mark.req("SRS-041")
def test_unknown_site_names_the_allowed_sites():
    lines = refusal(site="knees")
    assert only_line(lines, "site") == "site: 'knees' is not a site; allowed: one of hands, feet, underarms"
    assert not [line for line in lines if line.startswith("current_ma")]  # 15 mA fits some site


@pytest.mark.req("SRS-041")
def test_unknown_site_still_checks_the_widest_current_range():
    line = only_line(refusal(site="knees", current_ma=26), "current_ma")
    assert line == "current_ma: 26 mA is outside the allowed range 1..25 mA for any site"


@pytest.mark.req("SRS-041")
def test_extra_field_is_forbidden():
    line = only_line(refusal(voltage_v=60), "voltage_v")
    assert "unknown setting (value 60)" in line and "current_ma" in line


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("field,allowed", [("site", "hands, feet, underarms"),
                                           ("current_ma", "1..25 mA for hands"),
                                           ("minutes", "10..30 min")])
def test_missing_field_names_the_allowed_range(field, allowed):
    data = {k: v for k, v in VALID.items() if k != field}
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    line = only_line(info.value.messages, field)
    assert "missing" in line and allowed in line


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("field,value,allowed", [
    ("current_ma", "abc", "1..25 mA for hands"),
    ("current_ma", True, "1..25 mA for hands"),
    ("current_ma", math.nan, "1..25 mA for hands"),
    ("current_ma", math.inf, "1..25 mA for hands"),
    ("current_ma", None, "1..25 mA for hands"),
    ("minutes", "ten", "10..30 min"),
    ("minutes", False, "10..30 min"),
    ("ramp_up_s", [30], "10..120 s"),
    ("ramp_down_s", "fast", "10..120 s"),
])
def test_not_a_number_names_field_value_and_range(field, value, allowed):
    line = only_line(refusal(**{field: value}), field)
    assert "is not a number" in line
    assert repr(value) in line or str(value) in line
    assert allowed in line


@pytest.mark.req("SRS-041")
@pytest.mark.parametrize("value", ["yes", 1, "true", None])
def test_reverse_polarity_must_be_a_real_boolean(value):
    line = only_line(refusal(reverse_polarity=value), "reverse_polarity")
    assert line == f"reverse_polarity: {value!r} is not true or false; allowed: true or false"


@pytest.mark.req("SRS-041")
def test_every_bad_field_is_reported_at_once():
    lines = refusal(site="underarms", current_ma=6, minutes=40, ramp_up_s=1, ramp_down_s=999)
    assert [line.split(":")[0] for line in lines] == [
        "current_ma", "minutes", "ramp_up_s", "ramp_down_s"]
    assert "SettingsError" not in str(SettingsError(lines))
    assert str(SettingsError(lines)).startswith("invalid settings:")


@pytest.mark.req("SRS-041")
def test_not_a_mapping():
    with pytest.raises(SettingsError, match="expected a mapping"):
        parse_settings(["hands", 15, 15])  # type: ignore[arg-type]


@pytest.mark.req("SRS-041")
def test_helper_works_on_a_raw_validation_error():
    with pytest.raises(ValidationError) as info:
        TherapySettings(site="feet", current_ma=30, minutes=20)
    assert settings_error_messages(info.value, {"site": "feet"}) == [
        "current_ma: 30 mA is outside the allowed range 1..25 mA for feet"]


@pytest.mark.req("SRS-140")
def test_read_decimal_accepts_ascii_decimal_notation_only():
    """The reader behind every numeric setting: finite ASCII decimal numbers
    as floats; anything else (another script's digits, separators, spaces,
    inf/nan, an overflow to inf, a non-string) is None, never a guess."""
    from core.settings import read_decimal
    good = {"0": 0.0, "-2.5": -2.5, "+.5": 0.5, "5.": 5.0, "1E2": 100.0, "25": 25.0, "1e-3": 0.001}
    for text, value in good.items():
        got = read_decimal(text)
        assert got == value and type(got) is float, (text, got)
    for text in ("", " 1", "1 ", "1_0", "0x1", "inf", "-inf", "nan", "NaN", "1e400", "-1e400",
                 "\uff15", "\u0661\u0660", "1,5", "--1", "1e", "."):
        assert read_decimal(text) is None, text
    for not_text in (5, 5.0, None, b"5", ["5"]):
        assert read_decimal(not_text) is None, not_text
