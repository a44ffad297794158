"""Loads spec/ and hazard_analysis/ into one Project, collecting findings.

A file that fails validation does not stop the load: the valid records are
kept and the ids of the invalid ones are still registered, so that one typo
gives one precise message instead of a cascade of "unknown id" errors.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from traceability import models as m
from traceability.findings import ERROR, WARNING, Finding
from traceability.yamlload import DataError, Loaded, load_yaml

REQUIREMENTS = "spec/requirements.yaml"
PROPERTIES = "spec/properties.yaml"
PLAN = "hazard_analysis/risk_management_plan.yaml"
HAZARDS = "hazard_analysis/hazards.yaml"
CONTROLS = "hazard_analysis/risk_controls.yaml"
FMEA = "hazard_analysis/fmea.yaml"
SOUP = "hazard_analysis/soup.yaml"
SOUP_REQUIRED = "hazard_analysis/soup_required.yaml"
RISK_REPORT = "hazard_analysis/risk_management_report.yaml"
IFU = "docs/instructions_for_use.md"
LOCK = "spec/links.lock"
# a section of the instructions for use: a Markdown heading ending in {#anchor}
IFU_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*\{#([a-z0-9][a-z0-9-]*)\}\s*$")


@dataclass
class Project:
    root: Path
    needs: dict[str, m.UserNeed] = field(default_factory=dict)
    reqs: dict[str, m.Requirement] = field(default_factory=dict)
    props: dict[str, m.Property] = field(default_factory=dict)
    plan: m.RiskManagementPlan | None = None
    hazards: dict[str, m.Hazard] = field(default_factory=dict)
    situations: dict[str, tuple[str, m.Situation]] = field(default_factory=dict)
    controls: dict[str, m.RiskControl] = field(default_factory=dict)
    fmea: dict[str, tuple[str, m.FailureMode]] = field(default_factory=dict)
    fmea_items: list[str] = field(default_factory=list)
    soup: list[m.Soup] = field(default_factory=list)
    soup_required: m.SoupRequiredFile | None = None
    soup_invalid: set[str] = field(default_factory=set)   # normalised names of entries that did not load
    risk_report: m.RiskReport | None = None
    ifu_text: str | None = None
    ifu_sections: dict[str, tuple[int, str]] = field(default_factory=dict)  # anchor -> (line, title)
    # every id (valid or not) -> (file, line); invalid ids are known but not loaded
    where: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    have_properties: bool = False

    def error(self, file: str, item: str, fld: str, msg: str, line: int | None = None) -> None:
        self.findings.append(Finding(ERROR, file, item, fld, with_rule(msg, sys._getframe(1)), line))

    def warn(self, file: str, item: str, fld: str, msg: str, line: int | None = None) -> None:
        self.findings.append(Finding(WARNING, file, item, fld, with_rule(msg, sys._getframe(1)), line))

    def loc(self, item_id: str) -> tuple[str, int | None]:
        return self.where.get(item_id, ("?", None))

    def register(self, item_id: str, file: str, line: int | None) -> None:
        """Record where an id is defined; a second definition is an error naming both places."""
        if item_id in self.where:
            first_file, first_line = self.where[item_id]
            self.error(file, item_id, "id",
                       f"duplicate id (first defined at {first_file}:{first_line})", line)
            return
        self.where[item_id] = (file, line)


# ---------------------------------------------------------------- rule names (G9)
# Every message names the rule that found it, `[rule: NAME]`, so that a reader can look the
# rule up (check.py's docstring) and a test can tell findings apart. Messages written with
# their own `[rule: ...]` keep it; the others get the rule of the check that raised them:
# by the function of traceability/check.py, else by the module.
RULE_OF_FUNCTION = {
    "_read_json": "evidence-file", "_run_check": "evidence-provenance", "_check_markers": "markers",
    "_load_results": "evidence", "_report_foreign": "evidence-provenance", "_load_verification": "evidence",
    "_check_requirements": "requirements", "_risk_findings": "risk-acceptability", "_check_risk": "risk-links",
    "_harm_severity": "harm-severity", "_independent": "independent-control", "_fmea_severity": "fmea-severity",
    "_systematic": "systematic-probability", "_check_controls": "effective-control",
    "_control_means": "control-means", "_benefit_risk": "benefit-risk", "_check_soup": "soup",
    "_open_risk": "open-risk",
}
RULE_OF_MODULE = {"traceability.data": "data", "traceability.lock": "reviewed", "traceability.bench": "bench-record",
                  "traceability.docs.rules": "docs", "traceability.check": "check"}


def with_rule(msg: str, frame) -> str:
    """The message with its `[rule: NAME]` (added from the raising check when it has none)."""
    if "[rule:" in msg:
        return msg
    module = frame.f_globals.get("__name__", "")
    name = RULE_OF_FUNCTION.get(frame.f_code.co_name) if module == "traceability.check" else None
    return f"{msg} [rule: {name or RULE_OF_MODULE.get(module, module.rsplit('.', 1)[-1] or 'check')}]"


# ---------------------------------------------------------------- validation helpers
# how to fill a required field that older records did not have (issue 9)
FIELD_HINTS = {
    "implemented_by": "name what carries the control out: a software item of "
                      "hazard_analysis/risk_management_plan.yaml, or hardware, or user [rule: control-means]",
}


def _describe(err: dict) -> str:
    msg = err["msg"]
    value = err.get("input")
    if err["type"] == "missing":
        hint = FIELD_HINTS.get(str(err["loc"][-1]) if err.get("loc") else "")
        return "missing (required)" + (f": {hint}" if hint else "")
    if err["type"] == "extra_forbidden":
        return "unknown field (not allowed)"
    if not isinstance(value, (dict, list)):
        msg += f" (got {value!r})"
    return msg


def _report(project: Project, file: str, loaded: Loaded, exc: ValidationError,
            base: tuple = (), id_key: str = "id") -> None:
    """Turn pydantic errors into findings naming file, line, id (the record's
    `id_key` field: a SOUP entry is named by its name) and field."""
    for err in exc.errors():
        loc = base + tuple(err["loc"])
        node: Any = loaded.data
        item_id, line, rest = "", loaded.line_of(node), []
        for part in loc:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                rest.append(str(part))
                continue
            if isinstance(node, dict):
                line = loaded.line_of(node) or line
                if isinstance(node.get(id_key), str):
                    item_id, rest = node[id_key], []
                    continue
            rest.append(str(part))
        project.error(file, item_id, ".".join(rest), _describe(err), line)


def _load(project: Project, rel: str, required: bool = True) -> Loaded | None:
    path = project.root / rel
    if not path.exists():
        if required:
            project.error(rel, "", "", "file not found")
        return None
    try:
        return load_yaml(path, rel)
    except DataError as exc:
        project.error(rel, "", "", str(exc).removeprefix(f"{rel}: "))
        return None


def _items(project: Project, rel: str, loaded: Loaded, key: str, model: type[BaseModel]) -> list:
    """Validate the list under `key` record by record; register every id found."""
    raw = loaded.data.get(key) if isinstance(loaded.data, dict) else None
    if not isinstance(raw, list):
        project.error(rel, "", key, "missing or not a list")
        return []
    good = []
    for i, rec in enumerate(raw):
        line = loaded.line_of(rec)
        rid = rec.get("id") if isinstance(rec, dict) else None
        if isinstance(rid, str):
            project.register(rid, rel, line)
        try:
            good.append(model.model_validate(rec))
        except ValidationError as exc:
            _report(project, rel, loaded, exc, (key, i))
    return good


def _top(project: Project, rel: str, loaded: Loaded, allowed: set[str]) -> bool:
    if not isinstance(loaded.data, dict):
        project.error(rel, "", "", "the file must be a mapping at top level")
        return False
    for key in loaded.data:
        if key not in allowed:
            project.error(rel, "", str(key), "unknown top-level field (not allowed)")
    if loaded.data.get("schema_version", 1) != 1:
        project.error(rel, "", "schema_version", f"unsupported (got {loaded.data['schema_version']!r}, allowed 1)")
    return True


# ---------------------------------------------------------------- loaders per file
def load_project(root: Path) -> Project:
    p = Project(root=root)
    _load_requirements(p)
    _load_properties(p)
    _load_plan(p)
    _load_controls(p)
    _load_hazards(p)
    _load_fmea(p)
    _load_soup(p)
    _load_soup_required(p)
    _load_risk_report(p)
    _load_ifu(p)
    return p


def _load_requirements(p: Project) -> None:
    ld = _load(p, REQUIREMENTS)
    if ld and _top(p, REQUIREMENTS, ld, {"schema_version", "user_needs", "requirements"}):
        p.needs = {n.id: n for n in _items(p, REQUIREMENTS, ld, "user_needs", m.UserNeed)}
        p.reqs = {r.id: r for r in _items(p, REQUIREMENTS, ld, "requirements", m.Requirement)}


def _load_properties(p: Project) -> None:
    ld = _load(p, PROPERTIES, required=False)
    if ld is None:
        if not (p.root / PROPERTIES).exists():
            p.warn(PROPERTIES, "", "", "not found: PROP ids are unknown and no property evidence is used")
        return
    p.have_properties = True
    if isinstance(ld.data, dict):
        p.props = {x.id: x for x in _items(p, PROPERTIES, ld, "properties", m.Property)}
    else:
        p.error(PROPERTIES, "", "", "the file must be a mapping with a 'properties' list")


def _load_plan(p: Project) -> None:
    ld = _load(p, PLAN)
    if ld is None:
        return
    p.where.setdefault("RMP", (PLAN, 1))  # the plan as one reviewed item (lock.PLAN_ID)
    try:
        p.plan = m.RiskManagementPlan.model_validate(ld.data)
    except ValidationError as exc:
        _report(p, PLAN, ld, exc)


def _load_controls(p: Project) -> None:
    ld = _load(p, CONTROLS)
    if ld and _top(p, CONTROLS, ld, {"schema_version", "risk_controls"}):
        p.controls = {c.id: c for c in _items(p, CONTROLS, ld, "risk_controls", m.RiskControl)}


def _load_hazards(p: Project) -> None:
    ld = _load(p, HAZARDS)
    if not (ld and _top(p, HAZARDS, ld, {"schema_version", "hazards"})):
        return
    for hz in _items(p, HAZARDS, ld, "hazards", m.Hazard):
        p.hazards[hz.id] = hz
    # situations carry ids too: register them (the hazard record was validated whole)
    for raw in ld.data.get("hazards") or []:
        if not isinstance(raw, dict):
            continue
        for s in raw.get("situations") or []:
            if isinstance(s, dict) and isinstance(s.get("id"), str):
                p.register(s["id"], HAZARDS, ld.line_of(s))
    for hz in p.hazards.values():
        for s in hz.situations:
            p.situations[s.id] = (hz.id, s)


def _load_fmea(p: Project) -> None:
    ld = _load(p, FMEA)
    if ld is None:
        return
    try:
        f = m.FmeaFile.model_validate(ld.data)
    except ValidationError as exc:
        _report(p, FMEA, ld, exc)
        return
    for it in f.items:
        p.fmea_items.append(it.item)
        for fm in it.failure_modes:
            p.fmea[fm.id] = (it.item, fm)
    for raw_item in ld.data["items"]:
        for raw in raw_item["failure_modes"]:
            p.register(raw["id"], FMEA, ld.line_of(raw))


def _load_soup(p: Project) -> None:
    """Entry by entry, each error named by the entry's name: one bad entry does not
    hide the others from the SOUP rules (PR-051)."""
    ld = _load(p, SOUP)
    if ld is None or not _top(p, SOUP, ld, {"schema_version", "soup"}):
        return
    raw = ld.data.get("soup")
    if not isinstance(raw, list):
        p.error(SOUP, "", "soup", "missing or not a list")
        return
    for i, rec in enumerate(raw):
        try:
            p.soup.append(m.Soup.model_validate(rec))
        except ValidationError as exc:
            _report(p, SOUP, ld, exc, ("soup", i), id_key="name")
            if isinstance(rec, dict) and isinstance(rec.get("name"), str):
                p.soup_invalid.add(soup_key(rec["name"]))


def soup_key(name: str) -> str:
    """A SOUP or distribution name, normalised (PEP 503) for comparison."""
    return re.sub(r"[-_.]+", "-", name).lower()


def soup_listed(p: Project, name: str) -> bool:
    """An entry by this name exists; one that did not load counts (its own error says why),
    so that the rules needing an entry do not repeat it as missing."""
    key = soup_key(name)
    return key in p.soup_invalid or any(soup_key(s.name) == key for s in p.soup)


def _load_soup_required(p: Project) -> None:
    ld = _load(p, SOUP_REQUIRED)
    if ld is None:
        return
    try:
        p.soup_required = m.SoupRequiredFile.model_validate(ld.data)
    except ValidationError as exc:
        _report(p, SOUP_REQUIRED, ld, exc, id_key="name")


def _load_risk_report(p: Project) -> None:
    ld = _load(p, RISK_REPORT)
    if ld is None:
        return
    p.where.setdefault("RMR", (RISK_REPORT, 1))  # the report as one reviewed item (lock.REPORT_ID)
    try:
        p.risk_report = m.RiskReport.model_validate(ld.data)
    except ValidationError as exc:
        _report(p, RISK_REPORT, ld, exc)


def _load_ifu(p: Project) -> None:
    path = p.root / IFU
    if not path.exists():
        p.error(IFU, "", "", "file not found: the information controls cite the instructions for use")
        return
    p.ifu_text = path.read_text(encoding="utf-8")
    p.where.setdefault("IFU", (IFU, 1))  # the instructions as one reviewed item (lock.IFU_ID)
    for n, line in enumerate(p.ifu_text.splitlines(), 1):
        hit = IFU_HEADING.match(line)
        if hit:
            anchor = hit.group(3)
            if anchor in p.ifu_sections:
                p.error(IFU, anchor, "", f"duplicate section anchor (first at line {p.ifu_sections[anchor][0]})", n)
            p.ifu_sections[anchor] = (n, hit.group(2))
