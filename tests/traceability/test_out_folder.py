"""PR-052 (third review of issue 10): `ionto-trace docs --out .git/docs-out`
and `--out problems/docs` were accepted: only a folder already holding tracked
files was refused. `docs --out` and `report --out` now refuse the git
directory and every records folder, tracked yet or not, however the path is
spelled (symlink, `..`), with one line naming the folder and why, exit 1 and
nothing written; out/ and a folder outside the repository stay allowed
(SRS-295)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from traceability.cli import RECORD_DIRS, _out_problem, main

ROOT = Path(__file__).resolve().parents[2]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small clone: problems/, docs/ and examples/ tracked; no spec/ or tests/ yet."""
    root = tmp_path / "repo"
    for rel, text in {"problems/PR-001.yaml": "id: PR-001\n", "docs/architecture.md": "# A\n",
                      "examples/checklist.yaml": "x: 1\n", "README.md": "r\n", ".gitignore": "out/\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (root / "gitlink").symlink_to(".git")                      # untracked links, as a user may make
    (tmp_path / "records-link").symlink_to(root / "problems")
    return root


def _tree(root: Path) -> set[str]:
    return {str(Path(d, f).relative_to(root)) for d, dirs, files in os.walk(root) for f in files + dirs}


REFUSED_GIT = [".git/docs-out", ".git", "gitlink/docs-out", "out/../.git/docs-out", "problems/../.git/x"]
REFUSED_RECORDS = ([f"{d}/docs-out" for d in RECORD_DIRS] + ["examples/new", "out/../spec/docs",
                                                              "../records-link/docs-out", "spec"])


@pytest.mark.req("SRS-295")
@pytest.mark.parametrize("command", ["docs", "report"])
@pytest.mark.parametrize("out", REFUSED_GIT + REFUSED_RECORDS)
def test_an_output_folder_in_git_or_a_records_folder_is_refused_with_one_line_and_nothing_written(
        repo, capsys, monkeypatch, command, out):
    monkeypatch.chdir(repo)
    before, stamp = _tree(repo), _git(repo, "status", "--porcelain", "--ignored")
    capsys.readouterr()
    rc = main(["--root", str(repo), command, "--out", out])
    err = capsys.readouterr().err
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ionto-trace {command}: error: --out {out} "), err
    where = Path(out).resolve()
    if out in REFUSED_GIT:
        assert f"is inside the git directory {repo / '.git'}:" in lines[0]
    else:
        top = where.relative_to(repo).parts[0]
        assert f"is inside {top}/, a folder of records and sources under version control" in lines[0]
    if Path(out).absolute() != where:   # a symlink or `..`: the line says where it leads
        assert f"(resolves to {where})" in lines[0]
    assert "Traceback" not in err
    assert _tree(repo) == before and _git(repo, "status", "--porcelain", "--ignored") == stamp


@pytest.mark.req("SRS-295")
def test_the_git_directory_of_a_worktree_is_refused_from_the_worktree(repo, tmp_path, monkeypatch):
    """A worktree's .git is a file; its git directory lies under the main clone's .git/."""
    wt = tmp_path / "wt"
    _git(repo, "worktree", "add", "-q", str(wt))
    monkeypatch.chdir(wt)
    common = (repo / ".git").resolve()
    why = _out_problem(wt, str(common / "docs-out"))
    assert why is not None and f"is inside the git directory {common}:" in why, why
    why = _out_problem(wt, "problems/docs")
    assert why is not None and "is inside problems/" in why, why


@pytest.mark.req("SRS-295")
def test_out_and_a_folder_outside_the_repository_stay_allowed(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(repo)
    for out in ("out/docs", "out/report", "out", str(tmp_path / "elsewhere/docs"), "../elsewhere"):
        assert _out_problem(repo, out) is None, out
    monkeypatch.chdir(ROOT)
    assert _out_problem(ROOT, "out/docs") is None


@pytest.mark.req("SRS-295")
def test_the_records_folders_are_every_tracked_top_level_folder_but_none_that_is_ignored():
    tops = {line.split("/", 1)[0] for line in _git(ROOT, "ls-files").splitlines() if "/" in line}
    assert {"problems", "docs", "spec", "hazard_analysis", "cext", "core", "tests", "traceability",
            "scripts"} == set(RECORD_DIRS)
    assert set(RECORD_DIRS) <= tops and "out" not in tops
