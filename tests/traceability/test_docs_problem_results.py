"""A closed problem report is verified only by its tests passing in the
results of this build (SRS-275, audit finding 5 of issue 10): with results
read, a test of a closed report that failed or did not run is an error;
--static does not read results and does not judge them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import copy_tracked

from traceability.cli import main
from traceability.provenance import commit, source_sha256

ROOT = Path(__file__).resolve().parents[2]
PR = "problems/PR-001.yaml"


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return copy_tracked(tmp_path_factory.mktemp("pr") / "repo")


def _results(root: Path, path: Path, outcomes: dict[str, str | None]) -> Path:
    tests = [{"nodeid": n, "file": n.split("::")[0], "line": 1, "outcome": o, "run_id": "r1", "ids": []}
             for n, o in outcomes.items() if o is not None]
    path.write_text(json.dumps({"schema": 1, "tests": tests, "runs": [
        {"run_id": "r1", "finished": "2026-12-01T00:00:00+00:00", "full": False,
         "commit": commit(root), "source_sha256": source_sha256(root)}]}))
    return path


def _pr_errors(capsys, root: Path, *args: str) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", *args])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith(f"ERROR: {PR}")]


@pytest.fixture(scope="module")
def tests_of_pr(copy) -> list[str]:
    pr = yaml.safe_load((copy / PR).read_text())
    assert pr["status"] == "closed" and len(pr["tests"]) == 3
    return pr["tests"]


@pytest.mark.req("SRS-275")
def test_a_closed_report_whose_tests_passed_in_this_build_is_verified(copy, tests_of_pr, tmp_path, capsys):
    res = _results(copy, tmp_path / "r.json", {t: "passed" for t in tests_of_pr})
    assert _pr_errors(capsys, copy, "--results", str(res)) == []


@pytest.mark.req("SRS-275")
def test_a_closed_report_whose_test_failed_or_did_not_run_fails(copy, tests_of_pr, tmp_path, capsys):
    ok, failed, missing = tests_of_pr
    res = _results(copy, tmp_path / "r.json", {ok: "passed", failed: "failed", missing: None})
    errs = _pr_errors(capsys, copy, "--results", str(res))
    assert len(errs) == 2, errs
    assert [e for e in errs if f"PR-001: field 'tests': closed problem report: its test {failed} failed in the "
            "test results of this build: the fix is not verified" in e]
    assert [e for e in errs if f"PR-001: field 'tests': closed problem report: its test {missing} did not run "
            "in the test results of this build: the fix is not verified" in e]
    # --static reads no results and so judges none
    assert _pr_errors(capsys, copy, "--static") == []


@pytest.mark.req("SRS-275")
def test_a_skipped_case_of_a_parametrised_test_or_a_run_of_another_build_does_not_verify(copy, tests_of_pr,
                                                                                        tmp_path, capsys):
    a, b, c = tests_of_pr
    res = _results(copy, tmp_path / "r.json", {a: "passed", b + "[x]": "passed", b + "[y]": "skipped", c: "passed"})
    errs = _pr_errors(capsys, copy, "--results", str(res))
    assert len(errs) == 1 and f"its test {b} skipped in the test results" in errs[0], errs
    other = json.loads(res.read_text())
    other["runs"][0]["source_sha256"] = "0" * 64
    res.write_text(json.dumps(other))
    errs = _pr_errors(capsys, copy, "--results", str(res))
    assert len(errs) == 3 and all("did not run in the test results of this build" in e for e in errs), errs
