"""PR-052 (third review of issue 10): on a shallow clone the revision history
showed the one commit it holds without saying that the history is cut. Each
document's revision history, the index and the release record now say where
it is cut; a full clone says nothing of the kind (SRS-180). Real clones with
`git clone --depth 1`, as a reviewer would make one."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from traceability.cli import main
from traceability.docs import DOCUMENTS
from traceability.docs.gitinfo import open_git

ROOT = Path(__file__).resolve().parents[2]
CUT = "shallow clone: history truncated at "


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


def _shallow_clone(source: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--depth", "1", source.as_uri(), str(dest)], check=True,
                   capture_output=True)
    assert _git(dest, "rev-parse", "--is-shallow-repository").strip() == "true"
    return dest


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A repository of three commits: a depth-1 clone cuts two of them off."""
    root = tmp_path / "small"
    (root / "docs").mkdir(parents=True)
    _git(root, "init", "-q")
    for n in range(3):
        (root / "docs/plan.md").write_text(f"revision {n}\n")
        _commit(root, f"revision {n}")
    return root


@pytest.mark.req("SRS-180")
def test_a_full_clone_is_not_said_to_be_truncated(small):
    git = open_git(small)
    assert git.problem == "" and git.truncated == ""
    assert len(git.history(["docs"])) == 3


@pytest.mark.req("SRS-180")
def test_a_shallow_clone_says_its_history_is_truncated_at_its_cut_commit(small, tmp_path):
    clone = _shallow_clone(small, tmp_path / "clone")
    head = _git(clone, "rev-parse", "--short", "HEAD").strip()
    git = open_git(clone)
    assert git.truncated.startswith(CUT + head + " "), git.truncated
    assert len(git.history(["docs"])) == 1     # the log stops at the cut: hence the note
    assert git.commit == _git(clone, "rev-parse", "HEAD").strip() and git.problem == ""


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    """A committed copy of the tracked tree, with a second commit on top."""
    root = tmp_path_factory.mktemp("full") / "repo"
    for rel in _git(ROOT, "ls-files").splitlines():
        if (ROOT / rel).is_file():
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dst)
    _git(root, "init", "-q")
    _commit(root, "copy")
    (root / "README.md").write_text((root / "README.md").read_text() + "\n")
    _commit(root, "second")
    return root


def _docs(capsys, root: Path, out: Path) -> str:
    capsys.readouterr()
    main(["--root", str(root), "docs", "--out", str(out)])
    return capsys.readouterr().err


@pytest.mark.req("SRS-180")
def test_every_document_and_the_release_record_of_a_shallow_clone_say_the_history_is_truncated(
        full, tmp_path, capsys):
    clone = _shallow_clone(full, tmp_path / "clone")
    cut = CUT + _git(clone, "rev-parse", "--short", "HEAD").strip()
    out = tmp_path / "docs"
    err = _docs(capsys, clone, out)
    assert f"ionto-trace docs: warning: {cut}" in err
    for did, _, _ in DOCUMENTS:
        md, html = (out / f"{did}.md").read_text(), (out / f"{did}.html").read_text()
        history = md[md.index("## Revision history"):]
        assert f"**History truncated:** {cut} " in history, did
        assert f"<b>History truncated:</b> {cut} " in html[html.index('id="revisions"'):], did
    assert f"| revision history | {cut} " in (out / "release-record.md").read_text()
    assert f"<b>History truncated:</b> {cut} " in (out / "index.html").read_text()


@pytest.mark.req("SRS-180")
def test_the_documents_of_a_full_clone_do_not_say_truncated(full, tmp_path, capsys):
    out = tmp_path / "docs"
    err = _docs(capsys, full, out)
    assert "shallow" not in err
    for did, _, _ in DOCUMENTS:   # the history sections: the problem-report log quotes PR-052's words
        md, html = (out / f"{did}.md").read_text(), (out / f"{did}.html").read_text()
        for history in (md[md.index("## Revision history"):], html[html.index('id="revisions"'):]):
            assert "History truncated" not in history and CUT not in history, did
    assert "History truncated" not in (out / "index.html").read_text()
    assert "| revision history | complete (full clone) |" in (out / "release-record.md").read_text()


# ---------------------------------------------------------------- PR-059: replace refs and grafts
REWRITTEN = "history truncated or rewritten by "


@pytest.mark.req("SRS-180")
def test_a_full_clone_grafted_by_git_replace_says_its_history_is_truncated_at_the_replaced_commit(small):
    """The auditor's reproducer: `git replace --graft HEAD` in a full clone."""
    head = _git(small, "rev-parse", "--short", "HEAD").strip()
    _git(small, "replace", "--graft", "HEAD")
    git = open_git(small)
    assert _git(small, "rev-parse", "--is-shallow-repository").strip() == "false"
    assert len(git.history(["docs"])) == 1     # 3 commits, 1 shown: hence the note
    assert git.truncated.startswith(f"{REWRITTEN}git replace refs (refs/replace/) at {head} "), git.truncated
    assert git.problem == "" and CUT not in git.truncated


@pytest.mark.req("SRS-180")
def test_a_graft_file_says_the_history_is_truncated_at_the_grafted_commit(small):
    full_head = _git(small, "rev-parse", "HEAD").strip()
    grafts = small / _git(small, "rev-parse", "--git-path", "info/grafts").strip()
    grafts.parent.mkdir(parents=True, exist_ok=True)
    grafts.write_text(f"# a comment line is no graft\n{full_head}\n")
    git = open_git(small)
    short = _git(small, "rev-parse", "--short", "HEAD").strip()
    assert len(git.history(["docs"])) == 1
    assert git.truncated.startswith(f"{REWRITTEN}the graft file .git/info/grafts at {short} "), git.truncated
    grafts.write_text("# only a comment\n")
    assert open_git(small).truncated == "" and len(open_git(small).history(["docs"])) == 3


@pytest.mark.req("SRS-180")
def test_every_document_and_the_release_record_of_a_grafted_full_clone_say_the_history_is_truncated(
        full, tmp_path, capsys):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", full.as_uri(), str(clone)], check=True, capture_output=True)
    _git(clone, "replace", "--graft", "HEAD")
    cut = f"{REWRITTEN}git replace refs (refs/replace/) at {_git(clone, 'rev-parse', '--short', 'HEAD').strip()}"
    out = tmp_path / "docs"
    err = _docs(capsys, clone, out)
    assert f"ionto-trace docs: warning: {cut}" in err
    for did, _, _ in DOCUMENTS:
        md, html = (out / f"{did}.md").read_text(), (out / f"{did}.html").read_text()
        assert f"**History truncated:** {cut} " in md[md.index("## Revision history"):], did
        assert f"<b>History truncated:</b> {cut} " in html[html.index('id="revisions"'):], did
    record = (out / "release-record.md").read_text()
    assert f"| revision history | {cut} " in record and "complete (full clone)" not in record
    assert f"<b>History truncated:</b> {cut} " in (out / "index.html").read_text()
