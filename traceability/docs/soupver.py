"""The installed version of each SOUP item, read from the distribution's
metadata or the tool's own version output, never typed by hand."""
from __future__ import annotations

import functools
import importlib.metadata as md
import os
import platform
import re
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!-]*)\s*$")

PROBES = {
    "python": lambda: platform.python_version(),
    "sqlite": lambda: __import__("sqlite3").sqlite_version,
    # the libcrypto behind hashlib (scrypt of the PINs, core/users.py), as the interpreter reports it
    "openssl": lambda: _match(__import__("ssl").OPENSSL_VERSION, r"OpenSSL (\d+\.\d+\.\d+\w*)", "ssl.OPENSSL_VERSION"),
    "git": lambda: _cmd(["git", "--version"], r"git version (\d+(?:\.\d+)+)"),
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
    return _match(_tool_output(tuple(argv), os.environ.get("PATH", "")), pattern, f"`{' '.join(argv)}`")


# a tool's version does not change while a process runs; keyed on PATH, which says which
# program the name runs (a check calls each probe again for every document it writes)
@functools.lru_cache(maxsize=64)
def _tool_output(argv: tuple[str, ...], path: str) -> str:
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def _match(text: str, pattern: str, source: str) -> str:
    m = re.search(pattern, text)
    if not m:
        raise RuntimeError(f"{source} gave no version")
    return m.group(1)


def build_requirements(root: Path) -> list[tuple[str, str | None, str]]:
    """[build-system] requires of pyproject.toml: (normalised name, exact pinned
    version or None when not pinned with ==, the requirement as written)."""
    path = root / "pyproject.toml"
    if not path.exists():
        return []
    reqs = tomllib.loads(path.read_text(encoding="utf-8")).get("build-system", {}).get("requires", [])
    out = []
    for text in reqs:
        m = PIN.match(text)
        name = m.group(1) if m else re.split(r"[\s<>=!~;\[]", text.strip(), maxsplit=1)[0]
        out.append((_norm(name), m.group(2) if m else None, text))
    return out


def installed_version(entry, root: Path = REPO) -> str:
    """The version found on this machine, or 'NOT FOUND (...)'. A build tool
    (probe "build") exists only in pip's isolated build environment, which pip
    fills from the exact pins of [build-system] requires: its version is that pin."""
    try:
        if entry.version_probe == "build":
            pins = {n: v for n, v, _ in build_requirements(root)}
            if pins.get(_norm(entry.name)) is None:
                raise KeyError(entry.name)
            return pins[_norm(entry.name)]
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
