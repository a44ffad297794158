"""PR-052 (third review of issue 10): a not-applicable clause reviewed on
1990-01-01 was accepted. Its review now ages by the maintenance plan's review
interval (review_interval_days, 92 days), the same number SOUP reviews age by
(SRS-286): older, or in the future, is an error naming the clause
and the date. Each case on a copy of the tracked tree."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLAUSES = "docs/iec62304_clauses.yaml"
MAINT_PLAN = "docs/plans/maintenance_plan.yaml"
RATIONALE = "no legacy software: every item of the packages table was developed under this process"


def _days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def _set_legacy_review(root: Path, reviewed: str) -> None:
    path = root / CLAUSES
    pat = re.compile(r'^  - \{clause: "4\.4",.*$', re.M)
    text = path.read_text()
    assert pat.search(text)
    path.write_text(pat.sub(f'  - {{clause: "4.4", activity: "legacy software", not_applicable: "{RATIONALE}", '
                            f'architecture: "Packages and who owns what", reviewed: {reviewed}}}', text))


def _set_interval(root: Path, line: str) -> None:
    path = root / MAINT_PLAN
    text = path.read_text()
    assert "\nreview_interval_days: 92\n" in text
    path.write_text(text.replace("\nreview_interval_days: 92\n", f"\n{line}", 1))


def _legacy_errors(capsys, root: Path) -> list[str]:
    return [e for e in static_errors(capsys, root) if e.startswith(f"ERROR: {CLAUSES}: 4.4: ")]


@pytest.mark.req("SRS-286")
def test_the_plans_review_interval_is_92_days_and_every_not_applicable_clause_of_the_repository_is_within_it(
        capsys):
    assert yaml.safe_load((ROOT / MAINT_PLAN).read_text())["review_interval_days"] == 92
    clauses = yaml.safe_load((ROOT / CLAUSES).read_text())["clauses"]
    assert [c for c in clauses if c.get("not_applicable") is not None]   # the rule has a clause to age
    errs = static_errors(capsys, ROOT)
    assert [e for e in errs if f"{CLAUSES}: " in e or MAINT_PLAN in e] == []


@pytest.mark.req("SRS-286")
@pytest.mark.parametrize("days, fails", [(0, False), (92, False), (93, True), (-1, True)])
def test_a_not_applicable_review_fails_when_older_than_the_plans_interval_or_in_the_future(copy, capsys, days,
                                                                                          fails):
    reviewed = _days_ago(days)
    _set_legacy_review(copy, reviewed)
    errs = _legacy_errors(capsys, copy)
    if not fails:
        assert errs == []
    elif days < 0:
        assert errs == [f"ERROR: {CLAUSES}: 4.4: field 'reviewed': review date {reviewed} is in the future "
                        "[rule: docs]"]
    else:
        assert errs == [f"ERROR: {CLAUSES}: 4.4: field 'reviewed': review date {reviewed} is 93 days old, older "
                        f"than the review interval of the maintenance plan (92 days, {MAINT_PLAN} "
                        "review_interval_days): review the rationale again and set the date [rule: docs]"]


@pytest.mark.req("SRS-286")
def test_the_reviewers_1990_review_date_fails_naming_the_clause_and_the_date(copy, capsys):
    _set_legacy_review(copy, "1990-01-01")
    errs = _legacy_errors(capsys, copy)
    assert len(errs) == 1 and "field 'reviewed': review date 1990-01-01 is " in errs[0], errs
    rc = main(["--root", str(copy), "check", "--static"])
    assert rc == 1


@pytest.mark.req("SRS-286")
def test_the_interval_is_read_from_the_maintenance_plan_for_clauses_and_soup_alike(copy, capsys, tmp_path):
    _set_interval(copy, "review_interval_days: 30\n")
    _set_legacy_review(copy, _days_ago(30))
    assert _legacy_errors(capsys, copy) == []
    _set_legacy_review(copy, _days_ago(31))
    errs = _legacy_errors(capsys, copy)
    assert len(errs) == 1 and "is 31 days old, older than the review interval of the maintenance plan (30 days" \
        in errs[0], errs
    soup = copy / "hazard_analysis/soup.yaml"
    text = soup.read_text()
    assert "reviewed: 2026-11-30" in text.split("- name: cffi", 1)[1].split("- name:", 1)[0]
    head, tail = text.split("- name: cffi", 1)
    soup.write_text(head + "- name: cffi" + tail.replace("reviewed: 2026-11-30", f"reviewed: {_days_ago(31)}", 1))
    capsys.readouterr()
    main(["--root", str(copy), "check", "--static"])
    out = capsys.readouterr().out
    assert ("hazard_analysis/soup.yaml: cffi: field 'anomalies.reviewed': known-anomaly review is 31 days old "
            "(the maintenance plan asks for one at least every 30 days)") in out, out
    main(["--root", str(copy), "docs", "--out", str(tmp_path / "docs")])
    capsys.readouterr()
    assert "At most 30 days between two reviews" in (tmp_path / "docs/maintenance-plan.md").read_text()


@pytest.mark.req("SRS-286")
@pytest.mark.parametrize("line, why", [("", "review_interval_days: Field required"),
                                       ("review_interval_days: 0\n", "review_interval_days: Input should be "
                                                                     "greater than or equal to 1"),
                                       # audit of issue 10, finding 8: 36500 days aged nothing, `true` read as 1
                                       ("review_interval_days: 36500\n", "review_interval_days: Input should be "
                                                                         "less than or equal to 366"),
                                       ("review_interval_days: 367\n", "less than or equal to 366"),
                                       ("review_interval_days: true\n", "Input should be a valid integer"),
                                       ("review_interval_days: '92'\n", "Input should be a valid integer"),
                                       ("review_interval_days: 92.0\n", "Input should be a valid integer")])
def test_a_plan_without_a_valid_interval_fails_naming_the_plan_and_the_field(copy, capsys, line, why):
    _set_interval(copy, line)
    errs = [e for e in static_errors(capsys, copy) if e.startswith(f"ERROR: {MAINT_PLAN}: field "
                                                                   "'review_interval_days': ")]
    assert len(errs) == 1 and why in errs[0], errs


@pytest.mark.req("SRS-286")
def test_the_longest_allowed_interval_366_days_still_ages_a_1990_review(copy, capsys):
    _set_interval(copy, "review_interval_days: 366\n")
    _set_legacy_review(copy, _days_ago(366))
    assert _legacy_errors(capsys, copy) == []
    _set_legacy_review(copy, "1990-01-01")
    errs = _legacy_errors(capsys, copy)
    assert len(errs) == 1 and "review date 1990-01-01 is " in errs[0] and "(366 days" in errs[0], errs
