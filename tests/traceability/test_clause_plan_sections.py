"""PR-044: the clause map pins the plan sections each class C activity rests on
(SRS-285), and a clause the architecture relies on is never not applicable
(SRS-286). Each rule on a copy of the tracked tree that the reviewer's
reproducers mutate: every required section deleted, emptied or nulled, every
relied-on clause set not applicable with a rationale that names its condition."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability.cli import main
from traceability.docs.rules import CONDITIONAL, RELIED_ON

ROOT = Path(__file__).resolve().parents[2]
CLAUSES = "docs/iec62304_clauses.yaml"
PLANS = "docs/plans"


def _map() -> list[dict]:
    return yaml.safe_load((ROOT / CLAUSES).read_text())["clauses"]


def _required() -> dict[str, list[str]]:
    """PLAN.yaml:KEY -> the clauses of the repository's map that require it."""
    out: dict[str, list[str]] = {}
    for c in _map():
        for r in c.get("requires", []):
            if not r.startswith("architecture.md:"):   # architecture headings: test_architecture_sections.py
                out.setdefault(r, []).append(c["clause"])
    return out


REQUIRED = _required()
# The sections the reviewer deleted (PR-044's reproducers): each must be required.
REVIEWER = ["development_plan.yaml:verification_activities", "development_plan.yaml:problem_resolution",
            "development_plan.yaml:deliverables", "maintenance_plan.yaml:feedback",
            "maintenance_plan.yaml:trend_analysis", "maintenance_plan.yaml:device_maker_duties"]


_errors = static_errors


def _section_span(text: str, key: str) -> tuple[int, int]:
    """Start and end of the top-level section `key:` under `sections:` (2-space indent)."""
    m = re.search(rf"^  {re.escape(key)}:.*$", text, re.M)
    assert m, key
    end = re.search(r"^  [a-z_]+:", text[m.end():], re.M)
    return m.start(), (m.end() + end.start()) if end else len(text)


def _mutate(root: Path, required: str, how: str) -> None:
    plan, key = required.split(":")
    path = root / PLANS / plan
    text = path.read_text()
    start, end = _section_span(text, key)
    is_list = bool(re.match(rf"  {re.escape(key)}:\s*\n\s+- ", text[start:end]))
    new = {"deleted": "", "emptied": f"  {key}: []\n" if is_list else f'  {key}: "   "\n',
           "null": f"  {key}:\n"}[how]
    path.write_text(text[:start] + new + text[end:])


@pytest.mark.req("SRS-285")
def test_every_plan_section_is_required_by_an_activity_and_the_reviewers_are_among_them():
    sections = {f"{f}:{k}" for f in ("development_plan.yaml", "maintenance_plan.yaml")
                for k in yaml.safe_load((ROOT / PLANS / f).read_text())["sections"]}
    assert set(REQUIRED) == sections, set(REQUIRED) ^ sections
    assert len(sections) == 18   # unit_acceptance_class_c added for 5.5.4 (SRS-290)
    assert set(REVIEWER) <= set(REQUIRED)


@pytest.mark.req("SRS-285")
def test_the_repository_map_names_existing_non_empty_plan_sections(capsys):
    assert [e for e in _errors(capsys, ROOT) if f"{CLAUSES}: " in e] == []


@pytest.mark.parametrize("required", sorted(REQUIRED))
@pytest.mark.parametrize("how", ["deleted", "emptied", "null"])
@pytest.mark.req("SRS-285")
def test_a_deleted_or_emptied_plan_section_fails_naming_each_clause_and_the_section(copy, capsys, required, how):
    _mutate(copy, required, how)
    plan, key = required.split(":")
    what = (f"section '{key}' is missing from {PLANS}/{plan}" if how == "deleted"
            else f"section '{key}' of {PLANS}/{plan} is empty")
    errs = _errors(capsys, copy)
    for clause in REQUIRED[required]:
        mine = [e for e in errs if e.startswith(f"ERROR: {CLAUSES}: {clause}: field 'requires': {required}: {what}")]
        assert len(mine) == 1, (clause, required, how, [e for e in errs if CLAUSES in e])
    # nothing else of the map is affected
    others = [e for e in errs if f"{CLAUSES}: " in e and "field 'requires'" in e
              and not any(f"{CLAUSES}: {c}: " in e for c in REQUIRED[required])]
    assert others == []


@pytest.mark.parametrize("plan", ["development_plan.yaml", "maintenance_plan.yaml"])
@pytest.mark.req("SRS-285")
def test_a_deleted_plan_file_fails_for_every_clause_requiring_it(copy, capsys, plan):
    (copy / PLANS / plan).unlink()
    errs = _errors(capsys, copy)
    for required, clauses in REQUIRED.items():
        if required.startswith(plan):
            for clause in clauses:
                assert [e for e in errs if e.startswith(f"ERROR: {CLAUSES}: {clause}: field 'requires': "
                                                       f"{required}: {PLANS}/{plan} does not load")], (clause, errs)


@pytest.mark.req("SRS-285")
def test_an_activity_satisfied_by_a_plan_without_a_required_section_fails(copy, capsys):
    path = copy / CLAUSES
    text = path.read_text()
    line = next(x for x in text.splitlines() if x.startswith('  - {clause: "5.1.6",'))
    path.write_text(text.replace(line, re.sub(r", requires: \[[^\]]*\]", "", line)))
    errs = _errors(capsys, copy)
    assert [e for e in errs if e.startswith(f"ERROR: {CLAUSES}: 5.1.6: field 'requires': class C activity "
                                            "'software verification planning' is satisfied by the "
                                            "development-plan but names none of its sections")], errs


@pytest.mark.req("SRS-285")
def test_a_malformed_required_section_is_refused(copy, capsys):
    path = copy / CLAUSES
    path.write_text(path.read_text().replace('"development_plan.yaml:archive"', '"archive"', 1))
    errs = _errors(capsys, copy)
    assert [e for e in errs if CLAUSES in e and "requires 'archive' must be PLAN.yaml:KEY" in e], errs


# ---------------------------------------------------------------- not applicable (SRS-286)
def _set_not_applicable(root: Path, clause: str, rationale: str, extra: str = "") -> None:
    path = root / CLAUSES
    text = path.read_text()
    pat = re.compile(r'^  - \{clause: "' + re.escape(clause) + r'",.*$', re.M)
    assert pat.search(text), clause
    path.write_text(pat.sub(lambda m: f'  - {{clause: "{clause}", activity: "x", not_applicable: "{rationale}"'
                            f'{extra}}}', text))


@pytest.mark.req("SRS-286")
def test_the_clauses_the_architecture_relies_on_are_listed_as_data():
    assert set(RELIED_ON) == {"5.3.3", "5.3.4", "5.3.5", "7.1.3", "8.1.2"}
    assert set(RELIED_ON) <= set(CONDITIONAL)
    assert set(CONDITIONAL) - set(RELIED_ON) == {"4.4"}


@pytest.mark.parametrize("clause", sorted(RELIED_ON))
@pytest.mark.req("SRS-286")
def test_a_clause_the_architecture_relies_on_cannot_be_not_applicable_whatever_the_rationale(copy, capsys,
                                                                                             clause):
    word = CONDITIONAL[clause][1]
    rationale = f"no {word} is relied on by this product for risk control; reviewed by the integrator"
    _set_not_applicable(copy, clause, rationale, ', architecture: "Packages and who owns what", reviewed: 2026-11-30')
    errs = [e for e in _errors(capsys, copy) if f"{CLAUSES}: {clause}: " in e]
    assert len(errs) == 1, errs
    assert errs[0].startswith(f"ERROR: {CLAUSES}: {clause}: field 'not_applicable': class C activity 'x' cannot "
                              "be not applicable, whatever the rationale says: the architecture relies on it ("
                              + RELIED_ON[clause])


@pytest.mark.req("SRS-286")
def test_legacy_software_is_not_applicable_only_with_an_architecture_heading_and_a_review_date(copy, capsys):
    good = "no legacy software: every item of the packages table was developed under this process"
    future = (date.today() + timedelta(days=30)).isoformat()
    cases = {
        "": ["field 'architecture'", "field 'reviewed': a not-applicable activity needs the date"],
        ', architecture: "Legacy components"': ["field 'architecture': a not-applicable activity names the "
                                                "heading of docs/architecture.md its rationale rests on: got "
                                                "'Legacy components', not a heading there",
                                                "field 'reviewed'"],
        f', architecture: "Packages and who owns what", reviewed: {future}': [
            f"field 'reviewed': review date {future} is in the future"],
        # within the maintenance plan's review interval whatever day the test runs (PR-052)
        f', architecture: "Packages and who owns what", reviewed: {date.today() - timedelta(days=1)}': [],
    }
    for extra, expected in cases.items():
        _set_not_applicable(copy, "4.4", good, extra)
        errs = [e for e in _errors(capsys, copy) if f"{CLAUSES}: 4.4: " in e]
        assert len(errs) == len(expected), (extra, errs)
        for want in expected:
            assert [e for e in errs if want in e], (extra, want, errs)
