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


# ---------------------------------------------------------------- audit finding 1: links inside DIR
@pytest.mark.req("SRS-295")
@pytest.mark.parametrize("command", ["docs", "report"])
@pytest.mark.parametrize("link, target", [("index.html", "../../problems/PR-001.yaml"),   # a file link
                                          ("sub", "../../problems"),                      # a folder link
                                          ("deep/er/report.md", "../../../../docs/architecture.md")])
def test_a_link_inside_the_output_folder_is_refused_and_no_record_changes(repo, capsys, monkeypatch, command,
                                                                         link, target):
    """`docs --out out/atk` with out/atk/index.html -> ../../problems/PR-001.yaml overwrote the record."""
    monkeypatch.chdir(repo)
    path = repo / "out/atk" / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    records = {p: p.read_bytes() for p in (repo / "problems/PR-001.yaml", repo / "docs/architecture.md")}
    before = _tree(repo)
    capsys.readouterr()
    rc = main(["--root", str(repo), command, "--out", "out/atk"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith(f"ionto-trace {command}: error: --out out/atk: {path} is a symbolic link "
                               f"(to {target}) inside the output folder"), err
    assert "Traceback" not in err
    assert {p: p.read_bytes() for p in records} == records and _tree(repo) == before


@pytest.mark.req("SRS-295")
def test_each_file_is_written_in_place_of_a_link_never_through_it(tmp_path):
    """A link made after the folder was checked (or a hard link) is replaced, the file it leads to untouched;
    a name that resolves outside the folder is refused."""
    from traceability.outwrite import OutputRefused, write_out
    record = tmp_path / "PR-001.yaml"
    record.write_text("id: PR-001\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").symlink_to(record)
    os.link(record, out / "report.md")
    assert write_out(out, "index.html", "<html>") == 6
    assert write_out(out, "report.md", "# r\n") == 4 and write_out(out, "report.md", "more\n", append=True) == 9
    assert record.read_text() == "id: PR-001\n" and record.stat().st_nlink == 1
    assert not (out / "index.html").is_symlink() and (out / "index.html").read_text() == "<html>"
    assert (out / "report.md").read_text() == "# r\nmore\n"
    (out / "sub").symlink_to(tmp_path)
    with pytest.raises(OutputRefused, match=r"resolves to .*, outside the output folder"):
        write_out(out, "sub/x.html", "x")
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report.md", "sub"]


# ---------------------------------------------------------------- audit finding 10
@pytest.mark.req("SRS-295")
@pytest.mark.parametrize("out, why", [(".Git/x", "is inside the git directory"), (".GIT", "is inside the git directory"),
                                      ("Problems/x", "is inside Problems/, a folder of records"),
                                      ("SPEC/docs", "is inside SPEC/, a folder of records"),
                                      ("Examples/new", "is inside Examples/, a folder of records")])
def test_the_records_folders_and_the_git_directory_match_whatever_the_case(repo, monkeypatch, out, why):
    """On a case-insensitive file system `Problems/x` is problems/x."""
    monkeypatch.chdir(repo)
    problem = _out_problem(repo, out)
    assert problem is not None and why in problem, problem


@pytest.mark.req("SRS-295")
def test_from_a_worktree_the_main_clones_records_folders_are_refused_too(repo, tmp_path, monkeypatch):
    wt = tmp_path / "wt"
    _git(repo, "worktree", "add", "-q", str(wt))
    monkeypatch.chdir(wt)
    for out in (repo / "problems/docs", repo / "docs", repo / "spec/x", repo / "Examples/y"):
        why = _out_problem(wt, str(out))
        top = out.relative_to(repo).parts[0]
        assert why is not None and f"is inside {top}/ of the main clone {repo}, a folder of records" in why, why
    why = _out_problem(wt, str(repo))
    assert why is not None and "is the repository or contains it" in why, why
    assert _out_problem(wt, str(repo / "out/docs")) is None and _out_problem(wt, "out/docs") is None
