"""The output mode in the settings (SRS-300, issue 14 slice 3a): dc or pulsed,
the pulse train's ranges (those of the regulator, SRS-258), each refusal
naming the field and its range, the per-site default, the record a dc session
keeps (that of every older history) and Last Setting of a pulsed session.

The numbers are written out on purpose: a change to spec/limits.yaml or to
cext/regulator_config.h must fail here and pass through review."""
from __future__ import annotations

import json

import pytest

from core.history import History
from core.limits import load_limits
from core.regulator import lib
from core.settings import Mode, SettingsError, default_mode, parse_settings

UNDERARMS = {"site": "underarms", "current_ma": 4.0, "minutes": 10}
PULSED = {**UNDERARMS, "mode": "pulsed"}
DC_RECORD = {"site": "underarms", "current_ma": 4.0, "minutes": 10, "ramp_up_s": 30.0,
             "ramp_down_s": 30.0, "reverse_polarity": False, "start_polarity": "normal"}


def messages(**data) -> list[str]:
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    return info.value.messages


@pytest.mark.req("SRS-300", "SRS-258")
def test_the_pulse_ranges_are_the_regulators():
    limits = load_limits().settings
    assert (limits.pulse_khz.min, limits.pulse_khz.max, limits.pulse_khz.default) == (4.3, 10.0, 10.0)
    assert (limits.duty_percent.min, limits.duty_percent.max, limits.duty_percent.default) == (50, 80, 50)
    # the settings never admit what the regulator refuses, nor the reverse
    assert (round(limits.pulse_khz.min * 1000), round(limits.pulse_khz.max * 1000)) == (
        lib.REG_PULSE_MIN_HZ, lib.REG_PULSE_MAX_HZ)
    assert (limits.duty_percent.min, limits.duty_percent.max) == (
        lib.REG_PULSE_DUTY_MIN_PERCENT, lib.REG_PULSE_DUTY_MAX_PERCENT)


@pytest.mark.req("SRS-300")
def test_pulsed_without_a_train_takes_10_khz_at_50_percent_and_dc_has_none():
    s = parse_settings(PULSED)
    assert (s.mode, s.pulse_khz, s.duty_percent) == (Mode.PULSED, 10.0, 50)
    d = parse_settings(UNDERARMS)     # the model's own default: dc (an older record)
    assert (d.mode, d.pulse_khz, d.duty_percent) == (Mode.DC, None, None)


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("khz,duty", [(4.3, 50), (10.0, 80), (5.0, 65), ("7.5", "60")])
def test_boundaries_and_inner_values_are_accepted(khz, duty):
    s = parse_settings({**PULSED, "pulse_khz": khz, "duty_percent": duty})
    assert (s.pulse_khz, s.duty_percent) == (float(khz), int(duty))


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("field,value,expected", [
    ("pulse_khz", 4.2, "pulse_khz: 4.2 kHz is outside the allowed range 4.3..10 kHz"),
    ("pulse_khz", 10.1, "pulse_khz: 10.1 kHz is outside the allowed range 4.3..10 kHz"),
    ("pulse_khz", 4.35, "pulse_khz: 4.35 kHz is not a multiple of 0.1 kHz; allowed 4.3..10 kHz for the "
                        "pulse frequency in steps of 0.1 kHz"),
    ("pulse_khz", "1e400", "pulse_khz: '1e400' is not a number; allowed: 4.3..10 kHz in steps of 0.1 kHz, "
                           "with mode pulsed"),
    ("pulse_khz", True, "pulse_khz: True is not a number; allowed: 4.3..10 kHz in steps of 0.1 kHz, "
                        "with mode pulsed"),
    ("duty_percent", 49, "duty_percent: 49 % is outside the allowed range 50..80 %"),
    ("duty_percent", 81, "duty_percent: 81 % is outside the allowed range 50..80 %"),
    ("duty_percent", 50.5, "duty_percent: 50.5 is not a whole number; allowed: 50..80 % (whole percent), "
                           "with mode pulsed"),
    ("mode", "ac", "mode: 'ac' is not a mode; allowed: one of dc, pulsed"),
])
def test_a_bad_value_is_refused_naming_field_value_and_range(field, value, expected):
    assert messages(**{**PULSED, field: value}) == [expected]


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("field,value,unit", [("pulse_khz", 5.0, "kHz"), ("duty_percent", 60, "%")])
def test_a_pulse_field_with_mode_dc_is_refused(field, value, unit):
    for data in ({**UNDERARMS, field: value}, {**UNDERARMS, "mode": "dc", field: value}):
        (line,) = messages(**data)
        assert line.startswith(f"{field}: {value:g} {unit} is given, but only mode pulsed has a pulse train")
        assert "4.3..10 kHz" in line if field == "pulse_khz" else "50..80 %" in line


@pytest.mark.req("SRS-300")
def test_the_default_mode_is_pulsed_for_underarms_only():
    assert {site: default_mode(site) for site in ("hands", "feet", "underarms")} == {
        "hands": Mode.DC, "feet": Mode.DC, "underarms": Mode.PULSED}


@pytest.mark.req("SRS-300")
def test_a_dc_record_is_the_record_of_before_and_a_pulsed_one_carries_its_train():
    assert parse_settings(UNDERARMS).to_record() == DC_RECORD
    assert parse_settings({**UNDERARMS, "mode": "dc"}).to_record() == DC_RECORD
    pulsed = parse_settings({**PULSED, "pulse_khz": 4.3, "duty_percent": 70})
    assert pulsed.to_record() == {**DC_RECORD, "mode": "pulsed", "pulse_khz": 4.3, "duty_percent": 70}
    assert parse_settings(pulsed.to_record()) == pulsed      # read back whole


@pytest.mark.req("SRS-300")
def test_last_setting_restores_the_train_and_an_older_record_reads_as_dc(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        pulsed = parse_settings({**PULSED, "pulse_khz": 5.0, "duty_percent": 60})
        h.begin_session(pulsed)
        assert h.last_settings() == pulsed
        sid = h.begin_session(parse_settings(PULSED))
        # a row as a history before SRS-300 wrote it: the settings without a mode
        h.write("UPDATE sessions SET settings = ? WHERE id = ?", (json.dumps(DC_RECORD), sid))
        last = h.last_settings()
    assert (last.mode, last.pulse_khz, last.duty_percent) == (Mode.DC, None, None)
