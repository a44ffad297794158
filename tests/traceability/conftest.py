"""Fixtures: a COPY of the repository's requirements and risk file in tmp_path,
with synthetic test sources and results in which every implemented
requirement and every property has one passing test, so that `check` passes
on it; each test then corrupts one thing and expects a precise message."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from traceability.cli import main
from traceability.data import load_project
from traceability.lock import review
from traceability.provenance import commit, source_sha256

REPO = Path(__file__).resolve().parents[2]
DATA = ["spec/requirements.yaml", "spec/properties.yaml", "hazard_analysis/risk_management_plan.yaml",
        "hazard_analysis/hazards.yaml", "hazard_analysis/risk_controls.yaml", "hazard_analysis/fmea.yaml",
        "hazard_analysis/soup.yaml", "hazard_analysis/soup_required.yaml",
        "hazard_analysis/risk_management_report.yaml", "docs/instructions_for_use.md", "pyproject.toml",
        "requirements/runtime.lock"]
SYNTH = "tests/test_synthetic.py"


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.frozen = False   # True: leave the evidence's provenance as it was written

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

    def stamp(self) -> None:
        """Give every record of evidence this copy's build, as a re-run on the edited
        copy would: tests that corrupt data or test sources then see only their own
        finding. Tests of provenance itself set `frozen` to keep the old stamps."""
        build = build_of(self.root)
        paths = [self.path("out/test-results/results.json"), self.path("out/verification/results.json"),
                 *sorted(self.path("out/bench").glob("*.json"))]
        for path in paths:
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if not isinstance(data, dict):
                continue
            for rec in (data.get("runs") or []) if "runs" in data else [data]:
                if isinstance(rec, dict):
                    rec.update({k: v for k, v in build.items() if k in rec or "runs" in data
                                or "properties" in data or k == "source_sha256"})
            path.write_text(json.dumps(data))

    def run(self, capsys, *args: str) -> tuple[int, str]:
        if not self.frozen:
            self.stamp()
        capsys.readouterr()
        rc = main(["--root", str(self.root), *args])
        cap = capsys.readouterr()
        return rc, cap.out + cap.err


def build_of(root: Path) -> dict:
    """The provenance a run on this copy records (the copy is no git checkout)."""
    return {"commit": commit(root), "source_sha256": source_sha256(root)}


def _synthesise(root: Path) -> None:
    project = load_project(root)
    ids = [r.id for r in project.reqs.values()   # a hardware duty is the device maker's to verify
           if r.status == "implemented" and r.verification != "device maker"] + list(project.props)
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
        {"schema": 1, "runs": [{"run_id": "synthetic", "full": True, **build_of(root)}], "tests": results}))
    ver = root / "out/verification"
    ver.mkdir(parents=True)
    (ver / "results.json").write_text(json.dumps(
        {**build_of(root), "properties": [{"id": p, "result": "proven", "method": "explore", "counterexample": []}
                        for p in project.props],
         "table_mutation": {"total": 10, "caught": 10, "survivors": [], "equivalent": []}}))


def copy_tracked(root: Path) -> Path:
    """A copy of every file git tracks in the repository, at root (for the
    checks that read the whole tree: documents, SOUP, build, problem reports)."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True,
                            check=True).stdout
    for rel in listed.splitlines():
        if (REPO / rel).is_file():
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst)
    return root


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Path:
    """The tracked tree, copied once per test module."""
    return copy_tracked(tmp_path_factory.mktemp("tracked"))


@pytest.fixture
def copy(tracked, tmp_path) -> Path:
    """A fresh copy of the tracked tree for one test to corrupt."""
    root = tmp_path / "repo"
    shutil.copytree(tracked, root, symlinks=True)
    return root


def static_errors(capsys, root: Path) -> list[str]:
    """The ERROR lines of `ionto-trace check --static` on root."""
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith("ERROR")]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    for rel in DATA:
        if (REPO / rel).exists():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / rel, tmp_path / rel)
    _synthesise(tmp_path)
    review(load_project(tmp_path), [], everything=True)
    return Repo(tmp_path)
