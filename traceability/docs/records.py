"""The documentation records under version control, validated on load.

problems/PR-*.yaml      one problem report each (IEC 62304 clause 9)
docs/plans/*.yaml       development plan (5.1) and maintenance plan (6) as data
docs/iec62304_clauses.yaml  clause map: every class C activity -> what satisfies it
docs/bibliography.yaml  the sources the requirements and the risk file cite
docs/design/*.md        one design note per software unit (5.4), headed by its key in
                        backticks: cext/file.c:function or core/module.py
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from traceability.yamlload import DataError, load_yaml

PROBLEMS_DIR = "problems"
DEV_PLAN = "docs/plans/development_plan.yaml"
MAINT_PLAN = "docs/plans/maintenance_plan.yaml"
CLAUSES = "docs/iec62304_clauses.yaml"
BIBLIOGRAPHY = "docs/bibliography.yaml"
DESIGN_DIR = "docs/design"
PLANS_DIR = "docs/plans"
PLAN_SECTION = re.compile(r"[a-z0-9_]+\.yaml:[a-z0-9_]+(\.[a-z0-9_]+)*")
ARCHITECTURE = "docs/architecture.md"
# a heading of docs/architecture.md a clause rests on (SRS-289): "architecture.md:HEADING"
ARCH_SECTION = re.compile(r"architecture\.md:\S.*")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- problem reports (9)
class RiskEvaluation(Strict):
    severity: str = Field(pattern=r"^S\d$")
    probability: str = Field(pattern=r"^P\d$")
    rationale: str = Field(min_length=20)


class ProblemReport(Strict):
    id: str = Field(pattern=r"^PR-\d{3}$")
    title: str
    found_by: str
    found_on: date
    source: str = Field(description="where it was reported: review, issue, commit")
    description: str
    requirements: list[str] = Field(default_factory=list)
    hazards: list[str] = Field(default_factory=list, description="HAZ or HS ids")
    investigation: str
    change: str = ""
    commits: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list, description="file::test that verify the fix")
    status: Literal["open", "closed"]
    risk_evaluation: RiskEvaluation | None = None


# ---------------------------------------------------------------- plans (5.1, 6)
class Activity(Strict):
    name: str
    how: str
    pass_criteria: str = ""


class Plan(Strict):
    schema_version: Literal[1] = 1
    title: str
    clause: str
    sections: dict[str, str | list[Activity] | list[str]]


MAX_REVIEW_INTERVAL_DAYS = 366


class MaintenancePlan(Plan):
    # The longest time between two reviews of a SOUP item's known anomalies and
    # of a not-applicable clause's rationale: the one number `ionto-trace check`
    # ages both by (SRS-183, SRS-286).
    # A strict int (`true` is no interval) of at most 366 days: IEC 62304 practice
    # reviews SOUP anomalies at least yearly, and 36500 aged nothing (audit finding 8).
    review_interval_days: StrictInt = Field(ge=1, le=MAX_REVIEW_INTERVAL_DAYS)


# ---------------------------------------------------------------- clause map
class Clause(Strict):
    clause: str = Field(pattern=r"^[4-9](\.\d+)*$")
    activity: str
    satisfied_by: list[str] = Field(default_factory=list)
    # Key phrases (case-insensitive) the check finds in the targets: each phrase
    # in at least one target, each target holding at least one phrase (SRS-273).
    covers: list[str] = Field(default_factory=list)
    # Plan sections that must exist and be non-empty (SRS-285): "PLAN.yaml:KEY",
    # PLAN a file of docs/plans/, KEY a dotted key path under its `sections`.
    requires: list[str] = Field(default_factory=list)
    not_applicable: str | None = None
    # A not-applicable entry: the docs/architecture.md heading its rationale rests
    # on, and the date that rationale was reviewed (SRS-286).
    architecture: str | None = None
    reviewed: date | None = None

    @model_validator(mode="after")
    def _prefixes(self) -> "Clause":
        for t in self.satisfied_by:
            if not t.startswith(("doc:", "file:")):
                raise ValueError(f"target {t!r} must start with doc: or file:")
        for r in self.requires:
            if not (PLAN_SECTION.fullmatch(r) or ARCH_SECTION.fullmatch(r)):
                raise ValueError(f"requires {r!r} must be PLAN.yaml:KEY (a file of {PLANS_DIR}/ and a key "
                                 "path under its sections, e.g. development_plan.yaml:verification_activities) "
                                 "or architecture.md:HEADING (a heading of docs/architecture.md)")
        return self


class ClauseMap(Strict):
    schema_version: Literal[1] = 1
    standard: str
    clauses: list[Clause]


# ---------------------------------------------------------------- bibliography
class Source(Strict):
    key: str = Field(pattern=r"^[A-Z][A-Z0-9-]*$")
    source: str
    facts: str = ""


class Bibliography(Strict):
    schema_version: Literal[1] = 1
    document: str
    sources: list[Source]


class RecordError(Exception):
    """A record file that does not load: the message names file, item and field."""


def _load(root: Path, rel: str, model: type[BaseModel]):
    path = root / rel
    if not path.exists():
        raise RecordError(f"{rel}: file not found")
    try:
        data = load_yaml(path, rel).data
        return model.model_validate(data)
    except DataError as exc:
        raise RecordError(str(exc)) from exc
    except ValidationError as exc:
        raise RecordError(f"{rel}: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())) from exc


def load_problem_reports(root: Path) -> tuple[list[ProblemReport], list[str]]:
    """All PR files, sorted by id; a file that does not load is an error message, not a stop."""
    reports, errors = [], []
    for path in sorted((root / PROBLEMS_DIR).glob("*.yaml")):
        if path.name == RETIRED_FILE:
            continue
        rel = f"{PROBLEMS_DIR}/{path.name}"
        try:
            pr = _load(root, rel, ProblemReport)
        except RecordError as exc:
            errors.append(str(exc))
            continue
        if path.stem != pr.id:
            errors.append(f"{rel}: {pr.id}: field 'id': the file must be named {pr.id}.yaml")
        reports.append(pr)
    return reports, errors


RETIRED_FILE = "retired.yaml"
RETIRED = f"{PROBLEMS_DIR}/{RETIRED_FILE}"


class RetiredId(Strict):
    id: str = Field(pattern=r"^PR-\d{3}$")
    reason: str = Field(min_length=20)


class RetiredList(Strict):
    schema_version: Literal[1] = 1
    retired: list[RetiredId] = Field(default_factory=list)


def load_retired(root: Path) -> RetiredList:
    """PR ids never used (the numbering has no other gaps); an absent file is an empty list."""
    if not (root / RETIRED).exists():
        return RetiredList()
    return _load(root, RETIRED, RetiredList)


def load_plan(root: Path, rel: str) -> Plan:
    return _load(root, rel, MaintenancePlan if rel == MAINT_PLAN else Plan)


def load_clauses(root: Path) -> ClauseMap:
    return _load(root, CLAUSES, ClauseMap)


def load_bibliography(root: Path) -> Bibliography:
    return _load(root, BIBLIOGRAPHY, Bibliography)


NOTE_HEADING = re.compile(r"^## `([^`]+)`\s*$")


def architecture_sections(root: Path) -> dict[str, str] | None:
    """heading text -> body (until the next heading of the same or a higher level)
    of docs/architecture.md; None when the file is missing."""
    path = root / ARCHITECTURE
    if not path.exists():
        return None
    out: dict[str, str] = {}
    stack: list[tuple[int, str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines() + ["# <end>"]:
        m = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
        if m:
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                _, head, body = stack.pop()
                out.setdefault(head, "\n".join(body).strip())
            for _, _, body in stack:
                body.append(line)
            stack.append((level, m.group(2), []))
        else:
            for _, _, body in stack:
                body.append(line)
    return out


class Note(NamedTuple):
    file: str     # docs/design/x.md
    text: str
    line: int     # of its heading


def design_note_sections(root: Path) -> list[tuple[str, Note]]:
    """Every note section (a level-2 heading of a key in backticks) of docs/design/*.md
    in order, duplicates kept."""
    out: list[tuple[str, Note]] = []
    for path in sorted((root / DESIGN_DIR).glob("*.md")):
        rel = f"{DESIGN_DIR}/{path.name}"
        name, body, at = None, [], 0
        lines = path.read_text(encoding="utf-8").splitlines()
        for k, line in enumerate(lines + ["## `<end>`"], start=1):
            m = NOTE_HEADING.match(line)
            if m:
                if name is not None:
                    out.append((name, Note(rel, "\n".join(body).strip(), at)))
                name, body, at = m.group(1), [], k
            elif name is not None:
                body.append(line)
    return out


def load_design_notes(root: Path) -> dict[str, Note]:
    """unit key -> (note file, note text, heading line) from docs/design/*.md; the key is
    `cext/file.c:function` for a C function and the module's path for a Python module
    (SRS-293). A key given twice keeps its first note (the rules report the second)."""
    notes: dict[str, Note] = {}
    for key, note in design_note_sections(root):
        notes.setdefault(key, note)
    return notes
