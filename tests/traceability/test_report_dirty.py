"""The audit report's commit stamp counts untracked, non-ignored files as
uncommitted changes, as the documents' stamp does (issue 10, second review)."""
from __future__ import annotations

import subprocess

import pytest

from traceability.report import _git


def _repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("out/\n")
    (tmp_path / "a.py").write_text("A = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"],
                   check=True)
    return tmp_path


@pytest.mark.req("SRS-180")
def test_an_untracked_module_marks_the_report_as_with_uncommitted_changes(tmp_path):
    root = _repo(tmp_path)
    assert not _git(root).endswith("(with uncommitted changes)")
    (root / "out").mkdir()
    (root / "out" / "x.txt").write_text("ignored\n")
    assert not _git(root).endswith("(with uncommitted changes)")
    (root / "zz_untracked.py").write_text("X = 1\n")
    assert _git(root).endswith("(with uncommitted changes)")


@pytest.mark.req("SRS-180")
@pytest.mark.parametrize("command", ["docs", "report"])
@pytest.mark.parametrize("out,why", [("docs", "holds files under version control"), ("", "--out is empty"),
                                     (".", "is the repository or contains it"),
                                     ("..", "is the repository or contains it")])
def test_an_output_folder_over_the_sources_is_refused(command, out, why):
    """`ionto-trace docs --out docs` overwrote docs/architecture.md, an input of
    the architecture document (issue 10, second review): exit 1, nothing written."""
    import pathlib
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]
    before = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    run = subprocess.run([sys.executable, "-m", "traceability.cli", command, "--out", out], cwd=root,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert why in run.stderr and "Traceback" not in run.stderr
    after = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    assert after == before
