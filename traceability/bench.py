"""Benchmark records (out/bench/<SRS id>.json, written by bench/_record.py) as
evidence of kind "analysis: benchmark record".

A performance requirement verified by analysis counts as verified when its
record exists and every figure met its goal. A missed goal is a figure of the
machine the benchmark ran on, so it is a warning naming the figure, the value
and the goal, never an error: a slow CI machine must not fail the build. A
malformed record, a record naming an unknown id, or a `met` flag that
contradicts its own value and goal, is an error naming the file and field.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from traceability.data import Project, _describe
from traceability.models import SRS_ID

BENCH_DIR = "out/bench"
EVIDENCE_KIND = "analysis: benchmark record"


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    value: float = Field(allow_inf_nan=False)
    unit: str = Field(min_length=1)
    goal: float = Field(allow_inf_nan=False)
    comparison: Literal["<=", ">="]
    met: bool

    def meets_goal(self) -> bool:
        return self.value <= self.goal if self.comparison == "<=" else self.value >= self.goal

    def text(self) -> str:
        return f"{self.value:.4g} {self.unit} (goal {self.comparison} {self.goal:g} {self.unit})"


class Machine(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)  # more machine facts are welcome
    cpu_count: int | None = Field(ge=1)
    platform: str = Field(min_length=1)
    load_average: list[float] | None = Field(min_length=3, max_length=3)

    def text(self) -> str:
        load = "/".join(f"{x:.2f}" for x in self.load_average) if self.load_average else "n/a"
        return f"{self.cpu_count or '?'} CPU(s), {self.platform}, load average {load}"


class BenchRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    requirement: str = Field(pattern=SRS_ID)
    benchmark: str = Field(min_length=1)
    figures: dict[str, Figure] = Field(min_length=1)
    machine: Machine
    date: _dt.datetime
    commit: str = Field(min_length=1)
    source_sha256: str | None = None   # traceability.provenance; absent in older records

    def commit_text(self) -> str:
        dirty = self.commit.endswith("-dirty")
        return self.commit.removesuffix("-dirty")[:12] + (" (with uncommitted changes)" if dirty else "")


@dataclass
class BenchEvidence:
    file: str            # relative to the root, e.g. out/bench/SRS-021.json
    record: BenchRecord
    counted: bool        # the requirement is a performance requirement verified by analysis

    @property
    def missed(self) -> list[tuple[str, Figure]]:
        return [(name, f) for name, f in self.record.figures.items() if not f.met]

    @property
    def met(self) -> bool:
        return not self.missed

    def summary(self) -> str:
        r = self.record
        return (f"{r.benchmark} on {r.machine.text()}, {r.date.isoformat(timespec='seconds')}, "
                f"commit {r.commit_text()}")


def load_bench(p: Project) -> dict[str, BenchEvidence]:
    """Every valid record under out/bench/, by requirement id; findings for the rest."""
    out: dict[str, BenchEvidence] = {}
    directory = p.root / BENCH_DIR
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        ev = _load_one(p, path)
        if ev is not None:
            out[ev.record.requirement] = ev
    return out


def _load_one(p: Project, path: Path) -> BenchEvidence | None:
    rel = f"{BENCH_DIR}/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        p.error(rel, "", "", f"unreadable benchmark record: {exc}")
        return None
    try:
        rec = BenchRecord.model_validate_json(text)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            if err["type"] == "json_invalid":
                p.error(rel, path.stem, "", f"benchmark record is not valid JSON: {err['msg']}")
            else:
                p.error(rel, path.stem, loc or "", f"malformed benchmark record: {_describe(err)}")
        return None
    bad = False
    if path.stem != rec.requirement:
        p.error(rel, rec.requirement, "requirement",
                f"record names {rec.requirement} but its file is {path.name}: one file per id, "
                f"{rec.requirement}.json")
        bad = True
    for name, f in rec.figures.items():
        if f.met != f.meets_goal():
            p.error(rel, rec.requirement, f"figures.{name}.met",
                    f"met is {str(f.met).lower()} but the value is {f.text()}: the record contradicts itself")
            bad = True
    req = p.reqs.get(rec.requirement)
    if req is None:
        if rec.requirement not in p.where:  # an invalid record is already reported by its own file
            p.error(rel, rec.requirement, "requirement",
                    f"benchmark record names an unknown requirement {rec.requirement}")
        return None
    if bad:
        return None
    counted = req.kind == "performance" and req.verification == "analysis"
    if not counted:
        file, line = p.loc(req.id)
        p.warn(file, req.id, "verification",
               f"benchmark record {rel} is not counted as evidence: only a performance requirement "
               f"verified by analysis takes it (this one is {req.kind}, verified by {req.verification})", line)
    return BenchEvidence(rel, rec, counted)


__all__ = ["BENCH_DIR", "EVIDENCE_KIND", "BenchEvidence", "BenchRecord", "Figure", "load_bench"]
