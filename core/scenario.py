"""Scenario files: timed events acted on the simulated device (SRS-083).

A scenario is a YAML list of mappings `{at_s: seconds since Start, event:
NAME, ...fields}`. Everything is checked before Start: an unknown event, a
missing or negative time, an unknown or missing field and an out-of-range
value each refuse the whole file with a message naming the entry index, the
field, the value and the allowed range. Nothing is energised on a refusal.

The ranges below bound what a scenario may ask of the *simulated* patient
(test inputs), not therapy limits; those live in spec/limits.yaml.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.checklist import read_input_file, unique_key_mapping


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Bound:
    """Closed or half-open numeric range with a readable description."""
    low: float
    high: float
    low_open: bool = False
    integer: bool = False
    unit: str = ""

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def describe(self) -> str:
        op = "<" if self.low_open else "<="
        kind = "an integer" if self.integer else "a number"
        return f"{kind} with {self.low:g} {op} value <= {self.high:g}{self.unit and ' ' + self.unit}"


# Longest time a scenario may reach: the longest session (60 min), its ramps,
# a full contact timeout and slack; an event later than that can never fire.
AT_S = Bound(0.0, 4 * 3600.0, unit="s")

# event name -> {field: (bound, required)}. The ohm, ms and mA ranges are
# those the simulated load accepts (cext/simload.h SIM_*); a value outside
# them could not be acted, so it is refused here, before Start.
EVENT_FIELDS: dict[str, dict[str, tuple[Bound, bool]]] = {
    "lift_off": {},
    "contact": {},
    "short": {"ohms": (Bound(1.0, 1000.0, unit="ohm"), True)},
    "load": {"ohms": (Bound(100.0, 1_000_000.0, unit="ohm"), True),
             "over_s": (Bound(0.0, 600.0, unit="s"), False)},
    "sensor_stuck": {"channel": (Bound(0, 1, integer=True), True),
                     "mA": (Bound(0.0, 50.0, unit="mA"), True)},
    "stall": {"ms": (Bound(1.0, 600_000.0, unit="ms"), True)},
    # the regulation loop's tick interrupt stops for good (SRS-091)
    "ticks_stop": {},
    # the loop's timer runs fast (or slow, negative) by this much (SRS-091)
    "clock_drift": {"percent": (Bound(-50.0, 50.0, unit="%"), True)},
    "stop": {},
}


@dataclass(frozen=True)
class ScenarioEvent:
    index: int          # position in the file, for messages
    at_s: float
    event: str
    fields: dict[str, float] = field(default_factory=dict)

    def at_tick(self, tick_hz: int) -> int:
        return round(self.at_s * tick_hz)


def _show(raw: Any) -> str:
    """The value for a message; a huge integer is abbreviated, not printed whole."""
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**15:
        try:
            digits = str(abs(raw))
        except ValueError:  # beyond Python's int-to-text limit
            return "an integer of more than 4300 digits"
        return f"{'-' if raw < 0 else ''}{digits[:6]}... ({len(digits)} digits)"
    try:
        text = repr(raw)
    except RecursionError:
        return "a deeply nested value"
    return text if len(text) <= 60 else f"{text[:50]}... ({len(text)} characters)"


def _number(entry_no: int, name: str, raw: Any, bound: Bound) -> float:
    where = f"scenario entry {entry_no}: field '{name}'"
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ScenarioError(f"{where} = {_show(raw)} is not a number; allowed: {bound.describe()}")
    # Compare without float(): a YAML integer may be far beyond a float's range
    # (OverflowError); Python compares int with float exactly.
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ScenarioError(f"{where} = {raw!r} is out of range; allowed: {bound.describe()}")
    if bound.integer and isinstance(raw, float) and not raw.is_integer():
        raise ScenarioError(f"{where} = {raw!r} is not an integer; allowed: {bound.describe()}")
    if not bound.contains(raw):
        raise ScenarioError(f"{where} = {_show(raw)} is out of range; allowed: {bound.describe()}")
    return int(raw) if bound.integer else float(raw)


def _entry(entry_no: int, raw: Any) -> ScenarioEvent:
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario entry {entry_no}: expected a mapping with 'at_s' and "
                            f"'event', got {_show(raw)}")
    if "event" not in raw:
        raise ScenarioError(f"scenario entry {entry_no}: field 'event' is missing; allowed: "
                            f"{', '.join(EVENT_FIELDS)}")
    name = raw["event"]
    if not isinstance(name, str) or name not in EVENT_FIELDS:
        raise ScenarioError(f"scenario entry {entry_no}: field 'event' = {_show(name)} is unknown; "
                            f"allowed: {', '.join(EVENT_FIELDS)}")
    if "at_s" not in raw:
        raise ScenarioError(f"scenario entry {entry_no}: field 'at_s' is missing; allowed: "
                            f"{AT_S.describe()}")
    at_s = _number(entry_no, "at_s", raw["at_s"], AT_S)
    spec = EVENT_FIELDS[name]
    for key in raw:
        if key not in ("at_s", "event") and key not in spec:
            allowed = ", ".join(["at_s", "event", *spec])
            raise ScenarioError(f"scenario entry {entry_no}: field {key!r} is unknown for event "
                                f"'{name}'; allowed fields: {allowed}")
    values: dict[str, float] = {}
    for key, (bound, required) in spec.items():
        if key not in raw:
            if required:
                raise ScenarioError(f"scenario entry {entry_no}: field '{key}' is missing for "
                                    f"event '{name}'; allowed: {bound.describe()}")
            continue
        values[key] = _number(entry_no, key, raw[key], bound)
    return ScenarioEvent(index=entry_no, at_s=at_s, event=name, fields=values)


def parse_scenario(data: Any) -> list[ScenarioEvent]:
    """Validate already-parsed YAML; events sorted by time (stable: file order
    decides between events at the same time). Entries are numbered from 0."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise ScenarioError(f"scenario: expected a list of events, got {type(data).__name__}")
    events = [_entry(i, raw) for i, raw in enumerate(data)]
    return sorted(events, key=lambda e: e.at_s)


def load_scenario(path: str | Path) -> list[ScenarioEvent]:
    """Read and validate a scenario file; ScenarioError names what is wrong."""
    path = Path(path)
    try:
        text = read_input_file(path).decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"scenario file {str(path)!r} cannot be read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_NumbersLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise ScenarioError(f"scenario file {str(path)!r} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"scenario file {str(path)!r} is nested too deeply to read; "
                            "allowed: a flat list of event mappings") from None
    except ValueError as exc:  # e.g. an integer beyond Python's int-to-text limit
        raise ScenarioError(f"scenario file {str(path)!r} holds a value that cannot be read: "
                            f"{exc}") from None
    return parse_scenario(data)


class _NumbersLoader(yaml.SafeLoader):
    """Numbers as YAML 1.2 writes them: `1:30` (YAML 1.1 base 60: 90), `0x10`
    and `1_0` stay text and are refused as "not a number", never read as a
    time the user did not mean. A duplicate key is refused (the last one
    would otherwise win silently), as in checklist files."""


_NumbersLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, unique_key_mapping)


_NumbersLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_NumbersLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_NumbersLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def apply_event(device: Any, event: ScenarioEvent) -> None:
    """Act a load event on the simulated device. `stop` is the supervisor's
    business and never reaches here."""
    f = event.fields
    if event.event == "lift_off":
        device.lift_off()
    elif event.event == "contact":
        device.contact()
    elif event.event == "short":
        device.short(f["ohms"])
    elif event.event == "load":
        device.change_load(f["ohms"], f.get("over_s", 0.0))
    elif event.event == "sensor_stuck":
        device.stick_sensor(int(f["channel"]), f["mA"])
    elif event.event == "stall":
        device.stall(f["ms"])
    elif event.event == "ticks_stop":
        device.stop_ticks()
    elif event.event == "clock_drift":
        device.clock_drift(f["percent"])
    else:  # pragma: no cover - parse_scenario admits nothing else
        raise ScenarioError(f"event {event.event!r} is not a load event")
