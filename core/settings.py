"""Therapy settings: what the user chooses before Start (SRS-040, SRS-041).

The allowed ranges come from spec/limits.yaml (core.limits). Bad input is
rejected here, where it enters, with one message per field that names the
field, the value given and the allowed range: `settings_error_messages()`
turns a pydantic ValidationError into those lines; `parse_settings()` raises
`SettingsError` carrying them.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.limits import Range, load_limits

__all__ = [
    "FIELDS",
    "Mode",
    "PULSE_FIELDS",
    "SettingsError",
    "Site",
    "StartPolarity",
    "TherapySettings",
    "allowed_text",
    "default_mode",
    "parse_settings",
    "read_decimal",
    "settings_error_messages",
]

_LIMITS = load_limits()


class Site(StrEnum):
    HANDS = "hands"
    FEET = "feet"
    UNDERARMS = "underarms"


class StartPolarity(StrEnum):
    """Which polarity the session starts with (SRS-230): a maintenance course
    may alternate it between sessions [HXP]; "normal" is every earlier session's."""
    NORMAL = "normal"
    REVERSED = "reversed"


class Mode(StrEnum):
    """The output (SRS-300): plain DC, or DC gated into pulses whose peak is
    the set current (SRS-259)."""
    DC = "dc"
    PULSED = "pulsed"


# the pulse train's settings: only with mode pulsed (SRS-300)
PULSE_FIELDS = ("pulse_khz", "duty_percent")


def default_mode(site: str) -> Mode:
    """The mode a session at `site` runs when none is chosen (SRS-300,
    spec/limits.yaml mode_default): pulsed for underarms, dc elsewhere."""
    return Mode(_LIMITS.mode_default(site))


if {s.value for s in Site} != set(_LIMITS.sites):  # the enum and the spec must agree
    raise RuntimeError("core.settings.Site does not match the sites of spec/limits.yaml")

_SETTINGS = _LIMITS.settings

# The only number notation a user may type (SRS-140): ASCII digits, an optional
# sign, point and exponent, nothing around them. float() and pydantic also read
# '５' (full-width), '١٠' (Arabic-Indic), '1_0', ' 1' and 'inf': a value the
# user did not mean to type must be refused, never guessed.
DECIMAL_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)


def read_decimal(text: str) -> float | None:
    """`text` as a finite float if it is ASCII decimal notation, else None."""
    if not isinstance(text, str) or DECIMAL_RE.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None
_NUMERIC = ("current_ma", "minutes", "ramp_up_s", "ramp_down_s", *PULSE_FIELDS)


class TherapySettings(BaseModel):
    """One session's settings; immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    site: Site
    current_ma: float
    minutes: int
    ramp_up_s: float = _SETTINGS.ramp_up_s.default
    ramp_down_s: float = _SETTINGS.ramp_down_s.default
    reverse_polarity: StrictBool = _SETTINGS.reverse_polarity.default
    start_polarity: StartPolarity = StartPolarity.NORMAL
    # SRS-300: a record without a mode (every history before it) is dc; the
    # pulse train's fields are None in dc and default from limits.yaml when pulsed
    mode: Mode = Mode.DC
    pulse_khz: float | None = None
    duty_percent: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _pulse_defaults(cls, data: Any) -> Any:
        # pulsed without a frequency or duty: the defaults of spec/limits.yaml
        if isinstance(data, Mapping) and data.get("mode") == Mode.PULSED.value:
            data = dict(data)
            for name in PULSE_FIELDS:
                if data.get(name) is None:
                    data[name] = getattr(_SETTINGS, name).default
        return data

    @field_validator(*_NUMERIC, mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        # pydantic would read True as 1: a yes/no is never a current or a time
        if isinstance(value, bool):
            raise PydanticCustomError("not_a_number", "a true/false value is not a number")
        if isinstance(value, (bytes, bytearray)):  # raw bytes are no user input
            raise PydanticCustomError("not_a_number", "bytes are not a number")
        if isinstance(value, str):   # text only in ASCII decimal notation (SRS-140)
            number = read_decimal(value)
            if number is None:
                raise PydanticCustomError("not_a_number", "not a number in ASCII decimal notation")
            return number
        return value

    @field_validator("current_ma")
    @classmethod
    def _current_in_site_range(cls, value: float, info: ValidationInfo) -> float:
        site = info.data.get("site")
        if site is None:  # site itself invalid: still check the widest range
            if not _widest_current().contains(value):
                _raise_out_of_range(value, _widest_current(), "for any site")
            return value
        rng = _LIMITS.current_range(site)
        if not rng.contains(value):
            _raise_out_of_range(value, rng, f"for {site}")
        _check_current_step(value, rng, site)
        return value

    @field_validator("minutes", "ramp_up_s", "ramp_down_s")
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        rng: Range = getattr(_SETTINGS, str(info.field_name))
        if not rng.contains(value):
            _raise_out_of_range(value, rng, "")
        return value

    @field_validator(*PULSE_FIELDS)
    @classmethod
    def _pulse_in_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return value
        if info.data.get("mode") is Mode.DC:   # (an invalid mode has its own message)
            raise PydanticCustomError(
                "pulse_without_mode",
                "{value} {unit} is given, but only mode pulsed has a pulse train; give mode pulsed "
                "or leave {field} out (allowed: {allowed})",
                {"value": _fmt(value), "unit": getattr(_SETTINGS, str(info.field_name)).unit,
                 "field": info.field_name, "allowed": allowed_text(str(info.field_name))})
        rng: Range = getattr(_SETTINGS, str(info.field_name))
        if not rng.contains(value):
            _raise_out_of_range(value, rng, "")
        if info.field_name == "pulse_khz":
            _check_step(value, _LIMITS.pulse_khz_step, rng, "the pulse frequency")
        return value

    def to_record(self) -> dict[str, Any]:
        """Plain JSON-able dict (history, --json). A dc session's record has no
        mode and no pulse fields: the same record as before SRS-300, which
        reads back as dc."""
        record = self.model_dump(mode="json")
        if self.mode is Mode.DC:
            for name in ("mode", *PULSE_FIELDS):
                del record[name]
        return record


FIELDS: tuple[str, ...] = tuple(TherapySettings.model_fields)


def _widest_current() -> Range:
    ranges = [s.current_ma for s in _LIMITS.sites.values()]
    return Range(
        min=min(r.min for r in ranges),
        max=max(r.max for r in ranges),
        unit=ranges[0].unit,
        rationale="union of the per-site ranges of spec/limits.yaml",
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # repr, never a rounded format: a message must quote the value it refuses
    return repr(value)


def _check_current_step(value: float, rng: Range, site: str) -> None:
    # refused, never rounded: the regulator would otherwise command another value
    steps = value / _LIMITS.current_step_ma
    if abs(steps - round(steps)) > 1e-6:
        raise PydanticCustomError(
            "out_of_range",
            "{value} {unit} is not a multiple of {step} {unit}; allowed {allowed} for {site} "
            "in steps of {step} {unit}",
            {"value": _fmt(value), "unit": rng.unit, "step": _fmt(_LIMITS.current_step_ma),
             "allowed": rng.text(), "site": site},
        )


def _check_step(value: float, step: float, rng: Range, what: str) -> None:
    # refused, never rounded: the regulator would otherwise run another value
    steps = value / step
    if abs(steps - round(steps)) > 1e-6:
        raise PydanticCustomError(
            "out_of_range",
            "{value} {unit} is not a multiple of {step} {unit}; allowed {allowed} for {what} "
            "in steps of {step} {unit}",
            {"value": _fmt(value), "unit": rng.unit, "step": _fmt(step), "allowed": rng.text(),
             "what": what},
        )


def _raise_out_of_range(value: float, rng: Range, qualifier: str) -> None:
    where = f" {qualifier}" if qualifier else ""
    raise PydanticCustomError(
        "out_of_range",
        "{value} {unit} is outside the allowed range {allowed}{where}",
        {"value": _fmt(value), "unit": rng.unit, "allowed": rng.text(), "where": where},
    )


def allowed_text(field: str, site: str | None = None) -> str:
    """The allowed values of a settings field, in words, e.g. '1..5 mA for underarms'."""
    if field == "site":
        return "one of " + ", ".join(s.value for s in Site)
    if field == "current_ma":
        if site in _LIMITS.sites:
            return f"{_LIMITS.current_range(site).text()} for {site}"
        return "; ".join(f"{r.current_ma.text()} for {name}" for name, r in _LIMITS.sites.items())
    if field in ("minutes", "ramp_up_s", "ramp_down_s"):
        rng: Range = getattr(_SETTINGS, field)
        whole = " (whole minutes)" if field == "minutes" else ""
        return rng.text() + whole
    if field == "reverse_polarity":
        return "true or false"
    if field == "start_polarity":
        return "one of " + ", ".join(p.value for p in StartPolarity)
    if field == "mode":
        return "one of " + ", ".join(m.value for m in Mode)
    if field == "pulse_khz":
        return (f"{_SETTINGS.pulse_khz.text()} in steps of {_fmt(_LIMITS.pulse_khz_step)} kHz, "
                "with mode pulsed")
    if field == "duty_percent":
        return f"{_SETTINGS.duty_percent.text()} (whole percent), with mode pulsed"
    return "no such setting; settings are " + ", ".join(FIELDS)


_NOT_A_NUMBER = frozenset(
    {"not_a_number", "finite_number", "float_type", "float_parsing", "int_type", "int_parsing"}
)


def settings_error_messages(exc: ValidationError, data: Mapping[str, Any] | None = None) -> list[str]:
    """One readable line per bad field: field, value given, allowed range."""
    site = data.get("site") if data is not None else None
    site = site if isinstance(site, str) else None
    lines: list[str] = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        value = err.get("input")
        kind = err["type"]
        if kind == "out_of_range":
            lines.append(f"{field}: {err['msg']}")
        elif kind == "missing":
            lines.append(f"{field}: missing; allowed: {allowed_text(field, site)}")
        elif kind == "extra_forbidden":
            lines.append(f"{field}: unknown setting (value {_fmt(value)}); settings are {', '.join(FIELDS)}")
        elif kind == "pulse_without_mode":
            lines.append(f"{field}: {err['msg']}")
        elif field == "site":
            lines.append(f"site: {_fmt(value)} is not a site; allowed: {allowed_text('site')}")
        elif field == "mode" and kind == "enum":
            lines.append(f"mode: {_fmt(value)} is not a mode; allowed: {allowed_text('mode')}")
        elif kind == "int_from_float":
            lines.append(f"{field}: {_fmt(value)} is not a whole number; allowed: {allowed_text(field, site)}")
        elif kind in _NOT_A_NUMBER:
            lines.append(f"{field}: {_fmt(value)} is not a number; allowed: {allowed_text(field, site)}")
        elif kind in ("bool_type", "bool_parsing"):
            lines.append(f"{field}: {_fmt(value)} is not true or false; allowed: {allowed_text(field, site)}")
        elif kind in ("dict_type", "model_type"):
            lines.append(f"settings: expected a mapping of settings, got {type(value).__name__}")
        else:  # wrong type (not a number, not a bool, ...)
            lines.append(f"{field}: {_fmt(value)} is not valid ({err['msg']}); allowed: {allowed_text(field, site)}")
    return lines


class SettingsError(ValueError):
    """Settings refused; `messages` holds one line per bad field."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("invalid settings:\n  " + "\n  ".join(messages))


def parse_settings(data: Mapping[str, Any]) -> TherapySettings:
    """Validate user input; raise SettingsError with readable messages."""
    try:
        return TherapySettings.model_validate(dict(data) if isinstance(data, Mapping) else data)
    except ValidationError as exc:
        raise SettingsError(settings_error_messages(exc, data if isinstance(data, Mapping) else None)) from None
