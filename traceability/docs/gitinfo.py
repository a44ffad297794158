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
MAX_LISTED = 10   # uncommitted paths named in the documents


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
    uncommitted: tuple[str, ...] = ()   # `git status --porcelain` lines: modified, staged or untracked
    truncated: str = ""  # a shallow clone's cut, a replace ref or a graft: where ("" on a full clone)

    def uncommitted_note(self) -> str:
        """What the documents say about changes that no commit holds ("" when clean)."""
        if not self.uncommitted:
            return ""
        untracked = sum(line.startswith("??") for line in self.uncommitted)
        shown = ", ".join(line[3:] for line in self.uncommitted[:MAX_LISTED])
        more = f" and {len(self.uncommitted) - MAX_LISTED} more" if len(self.uncommitted) > MAX_LISTED else ""
        return (f"These documents include {len(self.uncommitted)} uncommitted change(s), "
                f"{untracked} of them untracked file(s) (untracked files that .gitignore does not "
                f"ignore count as uncommitted changes): {shown}{more}")

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
    # PR-047: git walks up to an enclosing checkout; an exported tree inside one is not that commit
    top = _run(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top.strip()).resolve() != root.resolve():
        return Git(root, "unknown", f"{root} is not the top of a git work tree (an export inside another "
                                    "checkout?), so its commit and revision history are unavailable; build "
                                    "the documents from the top of a git clone")
    # Untracked files count: a new problems/PR-*.yaml or design note enters the
    # documents, so a "clean" commit without it would not reproduce them.
    status = _run(root, "status", "--porcelain", "--untracked-files=all")
    hidden = _hidden_changes(root)
    if status is None or hidden is None:
        return Git(root, head.strip() + " + uncommitted changes",
                   uncommitted=("?? (git status failed: the working tree cannot be proved clean)",))
    changes = tuple(line for line in status.splitlines() if line.strip())
    changes += tuple(h for h in hidden if h not in changes)
    commit = head.strip() + (" + uncommitted changes" if changes else "")
    cuts = [note for note in (_shallow_note(root), _rewritten_note(root)) if note]
    return Git(root, commit, uncommitted=changes, truncated="; ".join(cuts))


def _shallow_note(root: Path) -> str:
    """PR-052: a shallow clone's log stops at its cut, so each revision history
    says where; "" on a full clone."""
    flag = (_run(root, "rev-parse", "--is-shallow-repository") or "").strip()
    rel = (_run(root, "rev-parse", "--git-path", "shallow") or "").strip()
    path = (root / rel) if rel else None
    cut = path.read_text(encoding="utf-8").split() if path and path.is_file() else []
    if flag != "true" and not cut:
        return ""
    short = (_run(root, "rev-parse", "--short", *cut) or "").split() if cut else []
    at = ", ".join(short or cut) or "an unknown commit"
    return (f"shallow clone: history truncated at {at} (older commits are not in this clone, so this "
            "revision history is incomplete; build the documents from a full clone)")


def _rewritten_note(root: Path) -> str:
    """PR-059: a replace ref (`git replace --graft`) or a graft file (info/grafts)
    gives commits other parents, so `git log` stops or detours there as in a
    shallow clone, in a clone that says it is full; "" when there is neither."""
    replaced = _run(root, "replace", "-l")
    rel = (_run(root, "rev-parse", "--git-path", "info/grafts") or "").strip()
    path = (root / rel) if rel else None
    grafts = path.read_text(encoding="utf-8").splitlines() if path and path.is_file() else []
    grafted = [line.split()[0] for line in grafts if line.strip() and not line.lstrip().startswith("#")]
    if replaced is None:   # fail closed: the replace refs could not be listed
        return ("history may be truncated: git replace -l failed, so replaced commits cannot be ruled out "
                "(this revision history may be incomplete; build the documents from a full clone)")
    notes = []
    for what, names in (("git replace refs (refs/replace/)", replaced.split()), (f"the graft file {rel}", grafted)):
        if names:
            short = (_run(root, "rev-parse", "--short", *names) or "").split()
            notes.append(f"history truncated or rewritten by {what} at {', '.join(short or names)} (git log "
                         "follows the replacement, so this revision history may be cut short or altered; build "
                         "the documents from a full clone without replace refs or grafts)")
    return "; ".join(notes)


def _hidden_changes(root: Path) -> tuple[str, ...] | None:
    """PR-046: what `git status` does not show: files flagged skip-worktree (S) or
    assume-unchanged (lower-case tag), and untracked files hidden by
    .git/info/exclude or core.excludesFile (only .gitignore may hide a file)."""
    flags = _run(root, "ls-files", "-v")
    others = _run(root, "ls-files", "--others", "--exclude-per-directory=.gitignore")
    if flags is None or others is None:
        return None
    out = [f"!! {line[2:]} (skip-worktree or assume-unchanged: git status does not compare it)"
           for line in flags.splitlines() if line[:1] == "S" or line[:1].islower()]
    out += [f"?? {path}" for path in others.splitlines() if path.strip()]
    return tuple(out)
