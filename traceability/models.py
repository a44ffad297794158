"""pydantic models of the data files; unknown fields are errors (extra="forbid").

Files (relative to the repository root):
- spec/requirements.yaml            user needs (UN-xx) and software requirements (SRS-xxx)
- spec/properties.yaml              state-machine properties (PROP-xx), owned by the verifier
- hazard_analysis/risk_management_plan.yaml  scales, risk matrix, software items
- hazard_analysis/hazards.yaml      hazards -> hazardous situations -> harms, risks, controls
- hazard_analysis/risk_controls.yaml risk control measures, each naming its requirements
- hazard_analysis/fmea.yaml         software FMEA per software item
- hazard_analysis/soup.yaml         SOUP: purpose of every runtime dependency
- hazard_analysis/soup_required.yaml  what the SOUP list must cover and what runs on the device
- hazard_analysis/risk_management_report.yaml  dependent-failure analysis, overall residual
                                    risk (ISO 14971 clause 8), risk management report (clause 9)
- docs/instructions_for_use.md      instructions for use; information controls cite its sections
- spec/links.lock                   review fingerprints (written by `ionto-trace review`)
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

UN_ID = r"^UN-\d{2,}$"
SRS_ID = r"^SRS-\d{3,}$"
HAZ_ID = r"^HAZ-\d{2,}$"
HS_ID = r"^HS-\d{2,}(\.\d+)?$"
RC_ID = r"^RC-\d{2,}$"
FM_ID = r"^FM-[A-Z]+-\d{2,}$"
PROP_ID = r"^PROP-\d{2,}$"

Kind = Literal["functional", "safety", "performance", "usability", "security"]
# "device maker": a duty on the hardware interface that the maker of the device must meet
# and verify (e.g. the 40 mA clamp); never verified by this project's tests
Method = Literal["test", "analysis", "inspection", "device maker"]
DEVICE_MAKER = "device maker"
Status = Literal["implemented", "planned"]
ControlType = Literal["inherent safety by design", "protective measure", "information for safety"]
Region = Literal["acceptable", "alarp", "unacceptable"]

_SHALL = re.compile(r"\bshall\b")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- requirements
class UserNeed(Strict):
    id: str = Field(pattern=UN_ID)
    title: str = Field(min_length=3)
    statement: str = Field(min_length=10)
    source: str = Field(min_length=3, description="where the need comes from (domain.md section)")


class Requirement(Strict):
    id: str = Field(pattern=SRS_ID)
    title: str = Field(min_length=3)
    statement: str = Field(min_length=10)
    rationale: str = Field(min_length=10)
    kind: Kind
    verification: Method
    status: Status
    parent: str | None = Field(default=None, pattern=UN_ID)
    evidence: list[str] = Field(default_factory=list,
                                description="files recording an analysis or inspection")

    @field_validator("statement")
    @classmethod
    def _has_shall(cls, value: str) -> str:
        if not _SHALL.search(value):
            raise ValueError("a requirement statement must say 'shall'")
        return value


class Property(BaseModel):
    """The verifier's record; only the fields traceability relies on are checked."""
    model_config = ConfigDict(extra="allow")
    id: str = Field(pattern=PROP_ID)
    title: str = ""
    statement: str = ""
    verifies: list[str] = Field(min_length=1)
    kind: str = ""


# ---------------------------------------------------------------- risk management plan
class Level(Strict):
    id: str = Field(pattern=r"^[SP]\d$")
    name: str
    description: str


class RiskManagementPlan(Strict):
    schema_version: Literal[1] = 1
    scope: str
    severity: list[Level] = Field(min_length=2)
    probability: list[Level] = Field(min_length=2)
    matrix: dict[str, list[Region]] = Field(description="severity id -> region per probability, P1 first")
    acceptance_policy: str
    software_items: list[str] = Field(min_length=1)
    control_means: list[str] = Field(default_factory=lambda: ["hardware", "user"],
                                     description="what else carries out a control besides a software item")
    common_cause_groups: list[list[str]] = Field(
        default_factory=list, description="items that fail together: none is independent of another")
    systematic_occurrence: str = Field(default="P4", pattern=r"^P\d$",
                                       description="lowest occurrence of a systematic software failure")
    open_risk: list[str] = Field(
        default_factory=list, description="situations and FMEA rows with no control independent of their "
        "cause: residual risk kept at the initial risk, in the unacceptable region, shown as a warning (an "
        "open risk-control action, not an accepted risk) and named in the report's overall evaluation; "
        "any other unacceptable residual risk, or an open risk that takes a credit, is an error")

    @model_validator(mode="after")
    def _matrix_complete(self) -> "RiskManagementPlan":
        sev = [s.id for s in self.severity]
        if sorted(self.matrix) != sorted(sev):
            raise ValueError(f"matrix rows {sorted(self.matrix)} must be exactly the severity ids {sev}")
        for sid, row in self.matrix.items():
            if len(row) != len(self.probability):
                raise ValueError(f"matrix row {sid} has {len(row)} entries; "
                                 f"one per probability level ({len(self.probability)}) is required")
        return self

    def region(self, severity: str, probability: str) -> Region:
        col = [p.id for p in self.probability].index(probability)
        return self.matrix[severity][col]


# ---------------------------------------------------------------- hazards and controls
class Risk(Strict):
    severity: str = Field(pattern=r"^S\d$")
    probability: str = Field(pattern=r"^P\d$")


class Situation(Strict):
    id: str = Field(pattern=HS_ID)
    sequence_of_events: list[str] = Field(min_length=1)
    hazardous_situation: str
    harm: str
    initial_risk: Risk
    controls: list[str] = Field(default_factory=list)
    residual_risk: Risk
    benefit_risk: str | None = Field(default=None,
                                     description="required when the residual risk is in the ALARP region")
    caused_by: list[str] = Field(default_factory=list,
                                 description="software items or control means whose failure starts the "
                                             "sequence; controls carried out by them are not independent")


class Hazard(Strict):
    id: str = Field(pattern=HAZ_ID)
    title: str
    hazard: str = Field(description="the potential source of harm (energy, function, information)")
    category: Literal["burn", "shock", "electrical", "software", "use", "information"]
    sources: list[str] = Field(default_factory=list, description="domain.md source keys")
    situations: list[Situation] = Field(default_factory=list)


class RiskControl(Strict):
    id: str = Field(pattern=RC_ID)
    title: str
    type: ControlType
    description: str
    requirements: list[str] = Field(default_factory=list)
    implemented_by: str = Field(description="the software item of the plan, or a control means "
                                            "(hardware, user) that carries out the control")
    type_rationale: str | None = Field(default=None, description="why a software control is "
                                       "'inherent safety by design' rather than a protective measure")
    instructions: list[str] = Field(default_factory=list,
                                    description="anchors of sections of docs/instructions_for_use.md")
    relies_on: list[str] = Field(default_factory=list, description="software items or control means whose "
                                 "correct input the control needs (the checklist relies on the user's answers): "
                                 "the control is not independent of a cause among them")


# ---------------------------------------------------------------- software FMEA
class FailureMode(Strict):
    id: str = Field(pattern=FM_ID)
    failure_mode: str
    cause: str
    effect: str
    hazards: list[str] = Field(min_length=1)
    severity: str = Field(pattern=r"^S\d$")
    occurrence: str = Field(pattern=r"^P\d$", description="probability before controls")
    detection: str
    controls: list[str] = Field(min_length=1)
    residual_risk: Risk
    benefit_risk: str | None = None


class FmeaItem(Strict):
    item: str
    description: str
    failure_modes: list[FailureMode] = Field(min_length=1)


class FmeaFile(Strict):
    schema_version: Literal[1] = 1
    items: list[FmeaItem]


# ---------------------------------------------------------------- risk evaluation and report
class DependentFailure(Strict):
    pair: list[str] = Field(min_length=2, max_length=2, description="two controls claimed independent")
    title: str
    shared: list[str] = Field(min_length=1, description="what the two have in common (causes of common failure)")
    measures: str
    conclusion: str


class RiskReport(Strict):
    schema_version: Literal[1] = 1
    dependent_failure_analysis: list[DependentFailure] = Field(min_length=1)
    overall_residual_risk: str = Field(min_length=20, description="ISO 14971 clause 8")
    benefit_risk: str = Field(min_length=20)
    report: list[str] = Field(min_length=1, description="ISO 14971 clause 9 statements")


# ---------------------------------------------------------------- SOUP
MIN_REVIEW_CHARS = 20


def visible_text(text: str) -> str:
    """`text` without whitespace, separators and format or control characters
    (Unicode Zs, Cf, Cc: U+200B, U+FEFF, U+00A0 ...): what a reader sees."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in ("Zs", "Cf", "Cc"))


class AnomalyReview(Strict):
    """IEC 62304 7.1.3: what was looked at for the pinned version, the conclusion, when.
    `search` says honestly whether the item's published anomaly lists (issue
    tracker, release notes, advisories) were searched for this version: "done",
    or "pending" (only the metadata was reviewed on `reviewed`), an open item of
    the release record (SRS-276)."""
    looked_at: str = Field(min_length=MIN_REVIEW_CHARS)
    evaluation: str = Field(min_length=MIN_REVIEW_CHARS)
    search: Literal["done", "pending"] = Field(description="anomaly search of the published lists")
    reviewed: date

    @field_validator("looked_at", "evaluation", mode="before")
    @classmethod
    def _not_blank(cls, v):
        """PR-051: a review without text is no review (SRS-276); named before the length rule.
        Audit finding 3 of issue 10: zero-width and other format or control characters are no
        text either (21 U+200B passed str.strip())."""
        if isinstance(v, str) and not visible_text(v):
            raise ValueError("blank: state what was looked at for this version and what it means for "
                             "this use (search done or pending)")
        if isinstance(v, str) and len(visible_text(v)) < MIN_REVIEW_CHARS <= len(v):
            raise ValueError(f"{len(visible_text(v))} visible character(s), at least {MIN_REVIEW_CHARS} needed "
                             "(invisible and format characters do not count)")
        return v

    @model_validator(mode="after")
    def _honest(self) -> "AnomalyReview":
        if self.search != "done":
            return self
        if re.search(r"not\s+searched", self.looked_at, re.I):
            raise ValueError("search is 'done' but looked_at says the tracker was not searched: "
                             "write search: pending")
        from traceability.docs.noterules import PLACEHOLDER   # the design notes' phrase list (SRS-293)
        for name in ("looked_at", "evaluation"):
            m = PLACEHOLDER.search(getattr(self, name))
            if m:
                raise ValueError(f"search is 'done' but {name} is a placeholder, not a review: it says "
                                 f"'{m.group(0).strip()}'; state what was found, or write search: pending")
        return self


class Soup(Strict):
    name: str
    kind: Literal["python", "platform", "tool"]
    version: str = Field(min_length=1, description="the pinned version whose anomalies were reviewed")
    version_probe: Literal["python", "sqlite", "openssl", "git", "glibc", "gcc", "cppcheck", "spin", "clang", "frama-c",
                           "arm-none-eabi-gcc", "chromium", "dot", "dist", "build"] | None = Field(
        default=None, description="how the installed version is read (kind platform/tool)")
    on_device: bool
    purpose: str
    requirements: str = Field(min_length=10, description="functional and performance requirements (5.3.3)")
    needs: str = Field(min_length=3, description="hardware and software it needs (5.3.4)")
    safety_relevance: str
    anomalies: AnomalyReview

    @property
    def known_anomalies(self) -> str:
        a = self.anomalies
        return f"{a.evaluation} (looked at: {a.looked_at}; reviewed {a.reviewed.isoformat()})"


class RequiredSoup(Strict):
    """One name hazard_analysis/soup.yaml must have an entry for (PR-048, SRS-292)."""
    name: str = Field(min_length=1)
    on_device: bool = Field(description="the device process (`ionto`) loads it")
    why: str = Field(min_length=10, description="what the product or its verification uses it for")
    commands: list[str] = Field(default_factory=list,
                                description="executables or `python -m` modules by which it is called")


class NotSoupCommands(Strict):
    """Commands the scripts call that are no SOUP item, and why."""
    commands: list[str] = Field(min_length=1)
    why: str = Field(min_length=20)


class SoupRequiredFile(Strict):
    schema_version: Literal[1] = 1
    required: list[RequiredSoup] = Field(min_length=1)
    not_soup: list[NotSoupCommands] = Field(default_factory=list)


# ---------------------------------------------------------------- review record
class LinksLock(Strict):
    schema_version: Literal[1] = 1
    items: dict[str, str] = Field(default_factory=dict, description="item id -> reviewed fingerprint")
    links: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="source id -> {target id: target fingerprint at review}")
    log: list[dict[str, str]] = Field(default_factory=list)
