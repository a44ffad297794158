"""PR-046, PR-047 (third review of issue 10, findings 4 and 5): the documents'
commit stamp sees changes git status hides (skip-worktree, assume-unchanged,
.git/info/exclude), and an exported tree inside a checkout is not stamped with
the checkout's commit."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from traceability.docs.gitinfo import open_git


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "docs/plans").mkdir(parents=True)
    (root / "docs/plans/development_plan.yaml").write_text("title: plan\n")
    (root / "problems").mkdir()
    (root / "problems/PR-001.yaml").write_text("id: PR-001\n")
    (root / ".gitignore").write_text("out/\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return root


@pytest.mark.req("SRS-180")
def test_a_clean_clone_is_stamped_clean(clone):
    g = open_git(clone)
    assert g.problem == "" and g.uncommitted == () and not g.commit.endswith("uncommitted changes")
    (clone / "out").mkdir()
    (clone / "out/x.html").write_text("ignored by .gitignore")
    assert open_git(clone).uncommitted == ()


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
@pytest.mark.req("SRS-180")
def test_an_edit_hidden_by_an_index_flag_is_an_uncommitted_change(clone, flag):
    _git(clone, "update-index", flag, "docs/plans/development_plan.yaml")
    (clone / "docs/plans/development_plan.yaml").write_text("title: edited\n")
    assert _git(clone, "status", "--porcelain") == ""   # git status alone sees nothing
    g = open_git(clone)
    assert g.commit.endswith(" + uncommitted changes"), g.commit
    assert any("docs/plans/development_plan.yaml" in x for x in g.uncommitted), g.uncommitted


@pytest.mark.req("SRS-180")
def test_a_file_hidden_by_info_exclude_is_an_uncommitted_change(clone):
    (clone / ".git/info").mkdir(exist_ok=True)
    (clone / ".git/info/exclude").write_text("problems/PR-099.yaml\n")
    (clone / "problems/PR-099.yaml").write_text("id: PR-099\n")
    assert _git(clone, "status", "--porcelain") == ""
    g = open_git(clone)
    assert g.commit.endswith(" + uncommitted changes")
    assert "?? problems/PR-099.yaml" in g.uncommitted


@pytest.mark.req("SRS-180")
def test_an_exported_tree_inside_a_checkout_has_no_history(clone):
    old = clone / "out/old"
    old.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(clone), "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    g = open_git(old)
    assert g.commit == "unknown"
    assert "not the top of a git work tree" in g.problem and g.history(["docs"]) == []
