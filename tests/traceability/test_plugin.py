"""The pytest plugin records outcomes with ids, node id and file:line; a full
run replaces the file, a partial run merges into it (SRS-106). Each case runs
pytest in a subprocess on a small project in tmp_path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS_A = '''import pytest


@pytest.mark.req("SRS-001")
def test_pass():
    pass


@pytest.mark.req("SRS-002", "SRS-003")
@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x == 1


@pytest.mark.req("SRS-004")
class TestGroup:
    @pytest.mark.req("SRS-005")
    def test_method(self):
        pytest.skip("not today")


def test_unmarked():
    pass
'''
TESTS_B = '''import pytest


@pytest.mark.req("SRS-006")
def test_b():
    pass
'''


def _project(tmp: Path) -> Path:
    (tmp / "tests").mkdir(parents=True)
    (tmp / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (tmp / "tests/conftest.py").write_text('pytest_plugins = ["traceability.pytest_plugin"]\n')
    (tmp / "tests/test_a.py").write_text(TESTS_A)
    (tmp / "tests/test_b.py").write_text(TESTS_B)
    return tmp


def _pytest(root: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("IONTO_TRACE_RESULTS", None)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                   cwd=root, env=env, capture_output=True, text=True, timeout=120)
    return json.loads((root / "out/test-results/results.json").read_text())


def _by_id(data: dict) -> dict[str, dict]:
    return {t["nodeid"]: t for t in data["tests"]}


@pytest.mark.req("SRS-106")
def test_full_run_records_outcome_ids_and_location(tmp_path):
    root = _project(tmp_path)
    data = _pytest(root)
    t = _by_id(data)
    assert t["tests/test_a.py::test_pass"]["ids"] == ["SRS-001"]
    assert t["tests/test_a.py::test_pass"]["outcome"] == "passed"
    assert t["tests/test_a.py::test_pass"]["file"] == "tests/test_a.py"
    assert t["tests/test_a.py::test_pass"]["line"] == 4  # the decorated definition
    assert t["tests/test_a.py::test_param[1]"]["outcome"] == "passed"
    assert t["tests/test_a.py::test_param[2]"]["outcome"] == "failed"
    assert t["tests/test_a.py::test_param[2]"]["ids"] == ["SRS-002", "SRS-003"]
    assert "assert 2 == 1" in t["tests/test_a.py::test_param[2]"]["message"]
    method = t["tests/test_a.py::TestGroup::test_method"]
    assert method["ids"] == ["SRS-004", "SRS-005"] and method["outcome"] == "skipped"
    assert t["tests/test_a.py::test_unmarked"]["ids"] == []
    assert data["runs"][-1]["full"] is True and data["runs"][-1]["ran"] == 6


@pytest.mark.req("SRS-106")
def test_a_run_on_xdist_workers_records_what_one_process_records(tmp_path):
    """CI runs pytest with -n (scripts/dev.sh): the workers collect, the
    controller writes; every entry and the JUnit ids must be as without it."""
    one = _by_id(_pytest(_project(tmp_path / "one")))
    root = _project(tmp_path / "xdist")
    data = _pytest(root, "-n", "2", "--junitxml", "out/junit.xml")
    many = _by_id(data)
    drop = ("duration_s", "run_id")
    assert {k: {f: v for f, v in e.items() if f not in drop} for k, e in many.items()} == \
        {k: {f: v for f, v in e.items() if f not in drop} for k, e in one.items()}
    assert len(many) == 6 and data["runs"][-1]["ran"] == 6 and data["runs"][-1]["collected"] == 6
    assert data["runs"][-1]["full"] is True
    xml = (root / "out/junit.xml").read_text()
    assert xml.count('name="verifies" value="SRS-002, SRS-003"') == 2
    assert 'value="SRS-004, SRS-005"' in xml and "ionto_item" not in xml


@pytest.mark.req("SRS-106")
def test_partial_run_merges_and_names_its_run(tmp_path):
    root = _project(tmp_path)
    first = _pytest(root)
    (root / "tests/test_b.py").write_text(TESTS_B.replace("pass", "assert False"))
    second = _pytest(root, "tests/test_b.py")
    t = _by_id(second)
    assert len(t) == len(_by_id(first))  # test_a entries kept
    assert t["tests/test_b.py::test_b"]["outcome"] == "failed"
    assert t["tests/test_b.py::test_b"]["run_id"] == second["runs"][-1]["run_id"]
    assert t["tests/test_a.py::test_pass"]["run_id"] == first["runs"][-1]["run_id"]
    assert second["runs"][-1]["full"] is False and len(second["runs"]) == 2


@pytest.mark.req("SRS-106")
def test_keyword_filtered_run_is_partial_and_deselected_tests_keep_their_result(tmp_path):
    root = _project(tmp_path)
    _pytest(root)
    data = _pytest(root, "-k", "test_b")
    assert data["runs"][-1]["full"] is False
    assert _by_id(data)["tests/test_a.py::test_pass"]["outcome"] == "passed"


@pytest.mark.req("SRS-106")
def test_full_run_replaces_so_a_deleted_test_leaves_no_evidence(tmp_path):
    root = _project(tmp_path)
    _pytest(root)
    (root / "tests/test_b.py").unlink()
    data = _pytest(root)
    assert not any(n.startswith("tests/test_b.py") for n in _by_id(data))
    assert len(data["runs"]) == 1


@pytest.mark.req("SRS-106")
def test_results_location_can_be_chosen(tmp_path):
    root = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--trace-results", "elsewhere/r.json"], cwd=root, env=env, capture_output=True, timeout=120)
    assert json.loads((root / "elsewhere/r.json").read_text())["tests"]
    assert not (root / "out/test-results/results.json").exists()
