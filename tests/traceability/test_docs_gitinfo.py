"""The documents' commit stamp counts every change that no commit holds:
modified, staged and untracked (not ignored) files (SRS-180). An untracked
problem report entering the documents under a "clean" commit was an audit
finding."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from traceability.cli import main
from traceability.docs.gitinfo import open_git

ROOT = Path(__file__).resolve().parents[2]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A git repository holding a committed copy of the tracked files."""
    root = tmp_path_factory.mktemp("gitinfo") / "repo"
    for rel in _git(ROOT, "ls-files").splitlines():
        if (ROOT / rel).is_file():
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "copy")
    return root


@pytest.mark.req("SRS-180")
def test_a_clean_checkout_is_stamped_with_its_bare_commit(repo):
    git = open_git(repo)
    assert git.commit == _git(repo, "rev-parse", "HEAD").strip()
    assert git.uncommitted == () and git.uncommitted_note() == ""


@pytest.mark.req("SRS-180")
def test_an_ignored_file_is_not_an_uncommitted_change(repo):
    ignored = repo / "out/report.html"          # out/ is in .gitignore
    ignored.parent.mkdir(exist_ok=True)
    ignored.write_text("generated")
    try:
        assert not open_git(repo).commit.endswith("uncommitted changes")
    finally:
        shutil.rmtree(ignored.parent)


@pytest.mark.req("SRS-180")
def test_an_untracked_problem_report_makes_the_documents_say_uncommitted_changes(repo, tmp_path, capsys):
    head = _git(repo, "rev-parse", "HEAD").strip()
    pr = repo / "problems/PR-099.yaml"
    pr.write_text((repo / "problems/PR-001.yaml").read_text().replace("id: PR-001", "id: PR-099"))
    try:
        git = open_git(repo)
        assert git.commit == head + " + uncommitted changes"
        assert git.uncommitted == ("?? problems/PR-099.yaml",)
        out = tmp_path / "docs"
        main(["--root", str(repo), "docs", "--out", str(out)])
        capsys.readouterr()
        note = ("These documents include 1 uncommitted change(s), 1 of them untracked file(s) (untracked "
                "files that .gitignore does not ignore count as uncommitted changes): problems/PR-099.yaml")
        for name in ("problem-reports.md", "release-record.md"):
            text = (out / name).read_text()
            assert f"commit `{head} + uncommitted changes`" in text, name
            assert f"**Uncommitted changes:** {note}." in text, name
        assert note in (out / "index.html").read_text()
    finally:
        pr.unlink()


@pytest.mark.req("SRS-180")
def test_a_modified_tracked_file_is_an_uncommitted_change_too(repo):
    path = repo / "docs/plans/maintenance_plan.yaml"
    text = path.read_text()
    path.write_text(text + "\n")
    try:
        git = open_git(repo)
        assert git.commit.endswith(" + uncommitted changes")
        assert git.uncommitted == (" M docs/plans/maintenance_plan.yaml",)
        assert "1 uncommitted change(s), 0 of them untracked file(s)" in git.uncommitted_note()
    finally:
        path.write_text(text)
