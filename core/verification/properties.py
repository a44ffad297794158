"""Load and validate spec/properties.yaml (properties and monitors)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import formula
from .introspect import MachineModel

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "spec" / "properties.yaml"
CHECKS = (
    "output_agrees",
    "fault_one_step_energised",
    "fault_from_every_state",
    "fault_exit",
    "stop_from_active",
    "no_dead_end",
    "all_reachable",
)
_PROP_ID = re.compile(r"^PROP-\d{2}$")
_REQ_ID = re.compile(r"^SRS-\d{3}$")


class PropertiesError(ValueError):
    pass


@dataclass(frozen=True)
class Monitor:
    name: str
    meaning: str
    set: formula.Node
    clear: formula.Node
    set_text: str
    clear_text: str


@dataclass(frozen=True)
class Property:
    id: str
    title: str
    statement: str
    verifies: tuple[str, ...]
    kind: str
    ltl_text: str | None
    ltl: formula.Node | None
    check: str | None

    @property
    def slug(self) -> str:
        """The id as a Promela/C name: PROP-03 -> p03."""
        return "p" + self.id.split("-")[1]


@dataclass(frozen=True)
class Spec:
    monitors: tuple[Monitor, ...]
    properties: tuple[Property, ...]
    equivalent: dict[str, str]  # mutant id -> reason it cannot be told apart

    def guards_named(self) -> set[str]:
        names: set[str] = set()
        for m in self.monitors:
            names |= formula.guards_named(m.set) | formula.guards_named(m.clear)
        for p in self.properties:
            if p.ltl is not None:
                names |= formula.guards_named(p.ltl)
        return names

    def validate_for(self, model: MachineModel) -> None:
        names = [m.name for m in self.monitors]
        # a monitor named like an atom or operator would be shadowed by it in
        # every formula (a wrong proof), or break the Promela variable m_<name>
        own = formula.reserved_names(model)
        for m in self.monitors:
            if not m.name.isidentifier() or m.name in own:
                raise PropertiesError(f"monitor {m.name}.name: must be an identifier not among the "
                                      f"formula's own names {sorted(own)}")
            formula.check_names(m.set, model, names, f"monitor {m.name}.set")
            formula.check_names(m.clear, model, names, f"monitor {m.name}.clear")
            for node, part in ((m.set, "set"), (m.clear, "clear")):
                if node.temporal:
                    raise PropertiesError(f"monitor {m.name}.{part}: must be a plain condition")
        for p in self.properties:
            if p.ltl is not None:
                formula.check_names(p.ltl, model, names, p.id)


def _field(record: dict, key: str, where: str, kind=str, required=True):
    if key not in record:
        if required:
            raise PropertiesError(f"{where}: missing field {key!r}")
        return None
    value = record[key]
    if not isinstance(value, kind):
        raise PropertiesError(f"{where}.{key}: {value!r} is not a {kind.__name__}")
    return value


def load(path: str | Path = DEFAULT_PATH) -> Spec:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("properties"), list):
        raise PropertiesError(f"{path}: needs a top-level 'properties:' list")
    unknown = set(data) - {"monitors", "properties", "equivalent_mutants"}
    if unknown:
        raise PropertiesError(f"{path}: unknown top-level keys {sorted(unknown)}")
    monitors = []
    for i, rec in enumerate(data.get("monitors") or []):
        where = f"monitors[{i}]"
        name = _field(rec, "name", where)
        set_text, clear_text = _field(rec, "set", where), _field(rec, "clear", where)
        monitors.append(Monitor(name, _field(rec, "meaning", where), formula.parse(set_text),
                                formula.parse(clear_text), set_text, clear_text))
    props, seen = [], set()
    allowed = {"id", "title", "statement", "verifies", "kind", "ltl", "check"}
    for i, rec in enumerate(data["properties"]):
        where = f"properties[{i}]"
        if not isinstance(rec, dict):
            raise PropertiesError(f"{where}: not a mapping")
        extra = set(rec) - allowed
        if extra:
            raise PropertiesError(f"{where}: unknown fields {sorted(extra)} (allowed {sorted(allowed)})")
        pid = _field(rec, "id", where)
        if not _PROP_ID.match(pid) or pid in seen:
            raise PropertiesError(f"{where}.id: {pid!r} must be a new id of the form PROP-nn")
        seen.add(pid)
        verifies = _field(rec, "verifies", where, list)
        bad = [r for r in verifies if not isinstance(r, str) or not _REQ_ID.match(r)]
        if not verifies or bad:
            raise PropertiesError(f"{pid}.verifies: {verifies!r} must list SRS-nnn ids")
        kind = _field(rec, "kind", where)
        if kind not in ("invariant", "ltl"):
            raise PropertiesError(f"{pid}.kind: {kind!r} is not one of invariant, ltl")
        ltl_text = _field(rec, "ltl", where, required=kind == "ltl")
        check = _field(rec, "check", where, required=kind == "invariant")
        if check is not None and check not in CHECKS:
            raise PropertiesError(f"{pid}.check: {check!r} is not one of {CHECKS}")
        props.append(Property(pid, _field(rec, "title", where), _field(rec, "statement", where),
                              tuple(verifies), kind, ltl_text,
                              formula.parse(ltl_text) if ltl_text else None, check))
    equivalent = {}
    for i, rec in enumerate(data.get("equivalent_mutants") or []):
        where = f"equivalent_mutants[{i}]"
        equivalent[_field(rec, "mutant", where)] = _field(rec, "reason", where)
    return Spec(tuple(monitors), tuple(props), equivalent)
