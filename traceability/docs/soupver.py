"""The installed version of each SOUP item, read from the distribution's
metadata or the tool's own version output, never typed by hand."""
from __future__ import annotations

import importlib.metadata as md
import os
import platform
import re
import subprocess

PROBES = {
    "python": lambda: platform.python_version(),
    "sqlite": lambda: __import__("sqlite3").sqlite_version,
    "glibc": lambda: os.confstr("CS_GNU_LIBC_VERSION").split()[-1],
    "gcc": lambda: _cmd(["gcc", "-dumpfullversion"], r"(\d+\.\d+(?:\.\d+)?)"),
    "cppcheck": lambda: _cmd(["cppcheck", "--version"], r"Cppcheck (\S+)"),
    "spin": lambda: _cmd(["spin", "-V"], r"Spin Version (\S+)"),
    "clang": lambda: _cmd(["clang", "--version"], r"clang version (\d+\.\d+\.\d+)"),
    "frama-c": lambda: _cmd(["frama-c", "-version"], r"(\d+\.\d+(?:-\w+)?) \("),
    "arm-none-eabi-gcc": lambda: _cmd(["arm-none-eabi-gcc", "-dumpfullversion"], r"(\d+\.\d+\.\d+)"),
    "chromium": lambda: _cmd(["chromium", "--version"], r"Chromium (\d+(?:\.\d+)+)"),
    "dot": lambda: _cmd(["dot", "-V"], r"graphviz version (\S+)"),
}


def _cmd(argv: list[str], pattern: str) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    m = re.search(pattern, r.stdout + r.stderr)
    if not m:
        raise RuntimeError(f"`{' '.join(argv)}` printed no version")
    return m.group(1)


def installed_version(entry) -> str:
    """The version found on this machine, or 'NOT FOUND (...)'."""
    try:
        if entry.kind == "python" or entry.version_probe == "dist":   # the distribution's metadata
            return md.version(entry.name)
        return PROBES[entry.version_probe or ""]()
    except (md.PackageNotFoundError, KeyError, OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return f"NOT FOUND ({type(exc).__name__})"


def runtime_closure(dist: str = "ionto-core") -> dict[str, str]:
    """Every distribution a plain install of `dist` pulls in (its requirements
    without extras, recursively, markers evaluated on this interpreter):
    normalised name -> installed version. Needs `packaging` (a dev tool)."""
    from packaging.requirements import Requirement
    found: dict[str, str] = {}
    todo = [dist]
    while todo:
        name = todo.pop()
        for text in md.requires(name) or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = _norm(req.name)
            if key not in found:
                found[key] = md.version(req.name)
                todo.append(req.name)
    return found


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
