"""Settings ranges per site and session limits, read from `spec/limits.yaml`.

That file is the one place for these numbers. It is read through
importlib.resources from the `spec` package, so it is found both in a checkout
and in an installed wheel. The file itself is validated strictly: unknown or
missing keys, a minimum above its maximum, a default outside its range or a
missing rationale are errors at import time of the first user.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["Limits", "LimitsFileError", "Range", "SessionValue", "SiteLimits", "load_limits"]

LIMITS_PACKAGE = "spec"
LIMITS_FILE = "limits.yaml"


class LimitsFileError(RuntimeError):
    """spec/limits.yaml is missing or malformed (a build error, not a user error)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Strict):
    """An inclusive range with its unit and the reason for its ends."""

    min: float
    max: float
    unit: str
    rationale: str = Field(min_length=20)
    default: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not self.min < self.max:
            raise ValueError(f"min {self.min} must be below max {self.max}")
        if self.default is not None and not self.min <= self.default <= self.max:
            raise ValueError(f"default {self.default} outside {self.min}..{self.max}")
        return self

    def contains(self, value: float) -> bool:
        return self.min <= value <= self.max

    def text(self) -> str:
        """'1..25 mA' (whole numbers printed without a decimal point)."""
        return f"{_num(self.min)}..{_num(self.max)} {self.unit}"


class ModeDefault(_Strict):
    """The output mode a site starts with when the user chooses none (SRS-300)."""

    value: Literal["dc", "pulsed"]
    rationale: str = Field(min_length=20)


class SiteLimits(_Strict):
    instruction_key: Literal["trays", "pads"]
    mode_default: ModeDefault
    current_ma: Range


class BoolSetting(_Strict):
    default: bool
    rationale: str = Field(min_length=20)


class Settings(_Strict):
    minutes: Range
    ramp_up_s: Range
    ramp_down_s: Range
    reverse_polarity: BoolSetting
    pulse_khz: Range
    duty_percent: Range


class SessionValue(_Strict):
    value: float = Field(gt=0)
    unit: str
    rationale: str = Field(min_length=20)


class Session(_Strict):
    contact_timeout_s: SessionValue
    zero_current_ma: SessionValue
    current_step_ma: SessionValue
    pulse_khz_step: SessionValue
    ramp_overrun_s: SessionValue
    supervisor_period_max_ms: SessionValue
    session_charge_margin_percent: SessionValue
    session_length_extra_s: SessionValue
    session_ramp_time_max_ramps: SessionValue
    session_antishock_cuts_max: SessionValue
    session_pauses_max: SessionValue
    loop_tick_tolerance_percent: SessionValue
    clock_drift_max_ms: SessionValue
    clock_drift_window_s: SessionValue
    load_drying_rate_max_percent_per_min: SessionValue
    load_drying_rise_max_ratio: SessionValue
    load_limit_band_percent: SessionValue
    load_pause_ratio: SessionValue
    density_excess_max_s: SessionValue


class Limits(_Strict):
    schema_version: Literal[1]
    sites: dict[Literal["hands", "feet", "underarms"], SiteLimits]
    settings: Settings
    session: Session

    @model_validator(mode="after")
    def _all_sites(self) -> "Limits":
        missing = {"hands", "feet", "underarms"} - set(self.sites)
        if missing:
            raise ValueError(f"sites missing: {sorted(missing)}")
        return self

    def current_range(self, site: str) -> Range:
        return self.sites[site].current_ma

    @property
    def contact_timeout_s(self) -> float:
        return self.session.contact_timeout_s.value

    @property
    def zero_current_ma(self) -> float:
        return self.session.zero_current_ma.value

    @property
    def current_step_ma(self) -> float:
        return self.session.current_step_ma.value

    @property
    def pulse_khz_step(self) -> float:
        return self.session.pulse_khz_step.value

    def mode_default(self, site: str) -> str:
        return self.sites[site].mode_default.value

    @property
    def ramp_overrun_s(self) -> float:
        return self.session.ramp_overrun_s.value

    @property
    def supervisor_period_max_ms(self) -> float:
        return self.session.supervisor_period_max_ms.value

    @property
    def session_charge_margin_percent(self) -> float:
        return self.session.session_charge_margin_percent.value

    @property
    def session_length_extra_s(self) -> float:
        return self.session.session_length_extra_s.value

    @property
    def session_ramp_time_max_ramps(self) -> float:
        return self.session.session_ramp_time_max_ramps.value

    @property
    def session_antishock_cuts_max(self) -> float:
        return self.session.session_antishock_cuts_max.value

    @property
    def session_pauses_max(self) -> float:
        return self.session.session_pauses_max.value

    @property
    def loop_tick_tolerance_percent(self) -> float:
        return self.session.loop_tick_tolerance_percent.value

    @property
    def clock_drift_max_ms(self) -> float:
        return self.session.clock_drift_max_ms.value

    @property
    def clock_drift_window_s(self) -> float:
        return self.session.clock_drift_window_s.value

    @property
    def load_drying_rate_max_percent_per_min(self) -> float:
        return self.session.load_drying_rate_max_percent_per_min.value

    @property
    def load_drying_rise_max_ratio(self) -> float:
        return self.session.load_drying_rise_max_ratio.value

    @property
    def load_limit_band_percent(self) -> float:
        return self.session.load_limit_band_percent.value

    @property
    def load_pause_ratio(self) -> float:
        return self.session.load_pause_ratio.value

    @property
    def density_excess_max_s(self) -> float:
        return self.session.density_excess_max_s.value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_limits(text: str, source: str = LIMITS_FILE) -> Limits:
    """Validate the text of a limits file; raise LimitsFileError naming the key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LimitsFileError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return Limits.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise LimitsFileError(f"{source}: " + "; ".join(lines)) from exc


@functools.cache
def load_limits() -> Limits:
    """The product's limits (read once per process)."""
    try:
        text = resources.files(LIMITS_PACKAGE).joinpath(LIMITS_FILE).read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        raise LimitsFileError(f"cannot read {LIMITS_PACKAGE}/{LIMITS_FILE}: {exc}") from exc
    return parse_limits(text, f"{LIMITS_PACKAGE}/{LIMITS_FILE}")
