"""Provenance of evidence: the commit and a hash of the sources a run tested.

Test results (the pytest plugin, JUnit XML properties), benchmark records and
the verifier's results carry `commit` and `source_sha256`; `ionto-trace check`
recomputes both for the tree it checks and treats evidence whose commit or
source hash differs as "evidence from another build": an error, never counted.

The source hash covers the working tree, not the commit: every file git
tracks or would track (untracked files not ignored) under SOURCE_PATHS, as it
is on disk, so an uncommitted change gives a different hash. Generated files
(out/, caches) are ignored by .gitignore and so are not part of it, with one
exception: the compiled regulator (BUILT_ARTEFACTS, core/_regulator_cffi*.so)
is what the tests actually ran, so it is hashed too; a loop rebuilt from
changed C sources, or an old build left beside new sources, then no longer
matches the results of an earlier run (issue 9, G4). The hash also names how
many artefacts it found, so a missing build differs from any present one.
Without git the same files are found by walking the folders.
"""
from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from pathlib import Path

# Code, tests and the data the code reads when it runs (limits) or verifies (properties).
# The requirements and the risk file are claims ABOUT the sources, guarded by the review
# fingerprints (spec/links.lock), so editing them does not make test evidence foreign.
# examples/ (scenario and checklist files the tests and the demo run) and scripts/ (the gates
# that produce evidence: coverage, mutation, cppcheck, the C verifier) are part of it (G5).
SOURCE_PATHS = ("cext", "core", "traceability", "tests", "bench", "examples", "scripts", "spec/limits.yaml",
                "spec/properties.yaml", "pyproject.toml", "setup.py")
# the compiled C loop the tests load (ignored by git, so listed by pattern; G4)
BUILT_ARTEFACTS = ("core/_regulator_cffi*.so", "core/_regulator_cffi*.pyd")
NOT_SOURCES: set[str] = set()
_SKIP_DIRS = {"__pycache__", ".hypothesis", ".pytest_cache", "build", "out", "mutants"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".o", ".tmp")
UNKNOWN = "unknown"


def _git(root: Path, *args: str) -> str | None:
    try:
        run = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.decode("utf-8", "surrogateescape") if run.returncode == 0 else None


def commit(root: Path) -> str:
    """HEAD's full hash, or 'unknown' outside a git checkout."""
    head = _git(root, "rev-parse", "HEAD")
    return head.strip() if head and head.strip() else UNKNOWN


def dirty(root: Path) -> bool:
    """True when tracked or new (not ignored) source files differ from HEAD."""
    out = _git(root, "status", "--porcelain", "--", *SOURCE_PATHS)
    return bool(out and out.strip())


def source_files(root: Path) -> list[str]:
    """Relative paths of the source files, sorted."""
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *SOURCE_PATHS)
    if listed is not None:
        files = {f for f in listed.split("\0") if f}
    else:
        files = set()
        for top in SOURCE_PATHS:
            path = root / top
            if path.is_file():
                files.add(top)
            elif path.is_dir():
                for f in path.rglob("*"):
                    rel = f.relative_to(root)
                    if f.is_file() and not _SKIP_DIRS & set(rel.parts) and not f.name.endswith(_SKIP_SUFFIXES):
                        files.add(rel.as_posix())
    return sorted(files - NOT_SOURCES)


def built_artefacts(root: Path) -> list[str]:
    """Relative paths of the compiled extension module(s) present, sorted."""
    found = {f.relative_to(root).as_posix() for pattern in BUILT_ARTEFACTS for f in root.glob(pattern)
             if f.is_file()}
    return sorted(found)


def source_sha256(root: Path) -> str:
    """sha256 over (path, content hash) of every source file as it is on disk and of
    the built extension; a tracked file deleted from the working tree counts as a
    change too."""
    total = hashlib.sha256()
    built = built_artefacts(root)
    total.update(f"built artefacts: {len(built)}\n".encode())
    for rel in source_files(root) + built:
        try:
            digest = hashlib.sha256((root / rel).read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        total.update(f"{rel}\0{digest}\n".encode("utf-8", "surrogateescape"))
    return total.hexdigest()


def provenance(root: Path) -> dict[str, str]:
    """What a run records: commit, source hash, and the tools it ran with."""
    try:
        import pytest
        pytest_version = pytest.__version__
    except ImportError:  # the verifier or a benchmark may run without pytest
        pytest_version = "not installed"
    return {"commit": commit(root), "dirty": "yes" if dirty(root) else "no",
            "source_sha256": source_sha256(root),
            "python": platform.python_version(), "os": platform.platform(),
            "pytest": pytest_version}


def short(value: str | None) -> str:
    return (value or UNKNOWN)[:12]
