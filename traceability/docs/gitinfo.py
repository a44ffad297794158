"""The commit and the revision history of each document's sources, from git.

Without git (not installed, or not a checkout: an exported tarball) every
document still builds and says plainly that its revision history is unavailable
and why, instead of inventing one."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAX_REVISIONS = 15


@dataclass(frozen=True)
class Revision:
    commit: str
    date: str
    author: str
    subject: str


@dataclass
class Git:
    root: Path
    commit: str          # full hash, "+ uncommitted changes" when dirty; or "unknown"
    problem: str = ""    # why there is no history ("" when git works)

    def history(self, paths: list[str]) -> list[Revision]:
        if self.problem:
            return []
        out = _run(self.root, "log", f"-n{MAX_REVISIONS}", "--date=short",
                   "--format=%h%x1f%ad%x1f%an%x1f%s", "--", *paths)
        revs = []
        for line in (out or "").splitlines():
            parts = line.split("\x1f")
            if len(parts) == 4:
                revs.append(Revision(*parts))
        return revs


def _run(root: Path, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout if r.returncode == 0 else None


def open_git(root: Path) -> Git:
    if shutil.which("git") is None:
        return Git(root, "unknown", "git is not installed, so the commit and the revision history "
                                    "cannot be read; build the documents from a git clone")
    head = _run(root, "rev-parse", "HEAD")
    if head is None:
        return Git(root, "unknown", f"{root} is not a git checkout with history (an export?), so the "
                                    "commit and the revision history cannot be read; build the "
                                    "documents from a git clone")
    dirty = _run(root, "status", "--porcelain", "--untracked-files=no")
    commit = head.strip() + (" + uncommitted changes" if dirty else "")
    return Git(root, commit)
