"""PR-050 (SRS-291): hollow problem reports fail the check. A report names a
requirement or a hazard; a closed report's fix is verified by a test whose req
marker names one of its requirements; every fix commit exists in the history
of the clone being checked."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import REPO, static_errors

UNRELATED = "tests/regulator/test_wrapper_build.py::test_extension_is_compiled_out_of_line_api_mode"


def _closed_with_requirements(root: Path) -> list[str]:
    out = []
    for f in sorted((root / "problems").glob("PR-*.yaml")):
        d = yaml.safe_load(f.read_text())
        if d["status"] == "closed" and d["requirements"]:
            out.append(d["id"])
    return out


def _set_list(path: Path, field: str, items: list[str]) -> None:
    text = path.read_text()
    body = "".join(f"- {x}\n" for x in items) if items else ""
    new, n = re.subn(rf"(?m)^{field}:( \[\])?\n(?:- .*\n)*", f"{field}:{'' if items else ' []'}\n{body}", text)
    assert n == 1, (path, field)
    path.write_text(new)


@pytest.mark.req("SRS-291")
def test_the_repositorys_reports_pass():
    assert not [e for e in static_errors_of(REPO) if "problem-links" in e]


def static_errors_of(root: Path) -> list[str]:
    r = subprocess.run([sys.executable, "-m", "traceability.cli", "--root", str(root), "check", "--static"],
                       capture_output=True, text=True, cwd=REPO)
    return [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("ERROR")]


@pytest.mark.req("SRS-291")
def test_every_closed_report_pointed_at_an_unrelated_test_fails(copy, capsys):
    closed = _closed_with_requirements(copy)
    assert len(closed) >= 30
    for rid in closed:
        _set_list(copy / f"problems/{rid}.yaml", "tests", [UNRELATED])
    errs = [e for e in static_errors(capsys, copy) if "none of its tests has a req marker" in e]
    assert sorted(re.search(r"(PR-\d+)", e).group(1) for e in errs) == closed
    assert all("[rule: problem-links]" in e for e in errs)


@pytest.mark.req("SRS-291")
@pytest.mark.parametrize("requirements, hazards, fails", [([], [], True), (["SRS-181"], [], False),
                                                           ([], ["HAZ-06"], False)])
def test_a_report_names_a_requirement_or_a_hazard(copy, capsys, requirements, hazards, fails):
    path = copy / "problems/PR-050.yaml"
    _set_list(path, "requirements", requirements)
    _set_list(path, "hazards", hazards)
    errs = [e for e in static_errors(capsys, copy) if "names neither a requirement nor a hazard" in e]
    assert bool(errs) is fails
    if fails:
        assert "problems/PR-050.yaml" in errs[0] and "[rule: problem-links]" in errs[0]


@pytest.mark.req("SRS-291")
def test_a_fix_commit_missing_from_the_history_fails_and_an_export_is_not_judged(tmp_path, copy, capsys):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(clone)], check=True)
    path = clone / "problems/PR-045.yaml"
    text = path.read_text()
    real = re.search(r"(?m)^commits:\n- (\S+)", text).group(1)
    path.write_text(text.replace(f"- {real}\n", "- abcdef1234567890abcdef1234567890abcdef12\n", 1))
    errs = [e for e in static_errors_of(clone) if "is not a commit of this repository" in e]
    assert len(errs) == 1 and "PR-045" in errs[0] and "abcdef12" in errs[0]
    # the same edit in a copy without history (an export): not judged, no false error
    (copy / "problems/PR-045.yaml").write_text(path.read_text())
    assert not [e for e in static_errors(capsys, copy) if "is not a commit of this repository" in e]
