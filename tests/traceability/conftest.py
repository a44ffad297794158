"""Fixtures: a COPY of the repository's requirements and risk file in tmp_path,
with synthetic test sources and results in which every implemented
requirement and every property has one passing test, so that `check` passes
on it; each test then corrupts one thing and expects a precise message."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from traceability.cli import main
from traceability.data import load_project
from traceability.lock import review

REPO = Path(__file__).resolve().parents[2]
DATA = ["spec/requirements.yaml", "spec/properties.yaml", "hazard_analysis/risk_management_plan.yaml",
        "hazard_analysis/hazards.yaml", "hazard_analysis/risk_controls.yaml", "hazard_analysis/fmea.yaml",
        "hazard_analysis/soup.yaml", "pyproject.toml"]
SYNTH = "tests/test_synthetic.py"


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text()

    def write(self, rel: str, text: str) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_text(text)

    def replace(self, rel: str, old: str, new: str, count: int = 1) -> None:
        text = self.read(rel)
        assert old in text, f"fixture text {old!r} not found in {rel}"
        self.write(rel, text.replace(old, new, count))

    def results(self) -> dict:
        return json.loads(self.read("out/test-results/results.json"))

    def set_results(self, data: dict) -> None:
        self.write("out/test-results/results.json", json.dumps(data))

    def run(self, capsys, *args: str) -> tuple[int, str]:
        capsys.readouterr()
        rc = main(["--root", str(self.root), *args])
        cap = capsys.readouterr()
        return rc, cap.out + cap.err


def _synthesise(root: Path) -> None:
    project = load_project(root)
    ids = [r.id for r in project.reqs.values() if r.status == "implemented"] + list(project.props)
    src, results = ["import pytest", ""], []
    for rid in ids:
        name = "test_" + rid.lower().replace("-", "_")
        line = len(src) + 1
        src += [f'@pytest.mark.req("{rid}")', f"def {name}():", "    assert True", ""]
        results.append({"nodeid": f"{SYNTH}::{name}", "ids": [rid], "file": SYNTH, "line": line,
                        "outcome": "passed", "duration_s": 0.0, "run_id": "synthetic"})
    (root / SYNTH).parent.mkdir(parents=True, exist_ok=True)
    (root / SYNTH).write_text("\n".join(src))
    out = root / "out/test-results"
    out.mkdir(parents=True)
    (out / "results.json").write_text(json.dumps(
        {"schema": 1, "runs": [{"run_id": "synthetic", "full": True}], "tests": results}))
    ver = root / "out/verification"
    ver.mkdir(parents=True)
    (ver / "results.json").write_text(json.dumps(
        {"properties": [{"id": p, "result": "proven", "method": "explore", "counterexample": []}
                        for p in project.props],
         "table_mutation": {"total": 10, "caught": 10, "survivors": [], "equivalent": []}}))


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    for rel in DATA:
        if (REPO / rel).exists():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / rel, tmp_path / rel)
    _synthesise(tmp_path)
    review(load_project(tmp_path), [], everything=True)
    return Repo(tmp_path)
