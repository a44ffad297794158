"""SOUP rules of `ionto-trace check` that rest on data, not on a test (PR-048, PR-051):

- the list hazard_analysis/soup_required.yaml names at least the components of
  REQUIRED_FLOOR (SRS-292's names; the device platform of DEVICE_FLOOR on_device),
  and every command the scripts and Python files call (traceability/soup_commands.py)
  is a listed component's or listed as no SOUP item (SRS-292, PR-057);
- every name of hazard_analysis/soup_required.yaml, and every direct requirement
  of the optional dependencies of pyproject.toml (the dev and report tools), has
  a SOUP entry (SRS-292);
- an entry's on_device is true exactly for what the device process loads: the
  distributions pinned in requirements/runtime.lock and the names the list marks
  on_device (SRS-292);
- run in a virtual environment, every *.pth file of its site-packages that runs
  code at interpreter start (an `import` line, which site.py executes in every
  process, the device's included) belongs to ionto-core or to a distribution
  with a SOUP entry (SRS-294; check_installed compares the versions).
Each message names the entry (or file) and ends with [rule: soup].
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import os
import re
import sysconfig
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from traceability.data import SOUP, SOUP_REQUIRED, Project, soup_listed
from traceability.docs.soupver import _norm

RUNTIME_LOCK = "requirements/runtime.lock"
# PR-057: the names SRS-292 requires the list to hold, so that a reviewed deletion
# from both the list and the SOUP list still fails the check
REQUIRED_FLOOR = ("CPython", "glibc", "SQLite", "OpenSSL", "setuptools", "gcc", "cppcheck", "clang", "Frama-C",
                  "gcc-arm-none-eabi", "SPIN", "pip", "pytest", "coverage", "gcovr", "mutmut", "StrictDoc",
                  "Chromium", "graphviz", "git")
DEVICE_FLOOR = ("CPython", "glibc", "SQLite", "OpenSSL", "setuptools")   # what the device process loads
PROJECT = "ionto-core"
# An exact pin as pip reads it: NAME[extras] == VERSION [; marker], spaces allowed
# (PEP 508). `===` (arbitrary equality), a wildcard `==1.*`, a range, a URL and
# an option line (-r, -e, --index-url) are no exact pin (audit finding 2).
EXACT_PIN = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*==\s*"
                       r"([A-Za-z0-9!+_.-]+)\s*(?:;.*)?$")
HASH_OPTION = re.compile(r"\s--hash=sha256:[0-9a-f]{64}\b")


@dataclass(frozen=True)
class LockLine:
    line_no: int
    text: str               # the requirement as written, continuation lines joined, hashes removed
    name: str | None        # normalised (PEP 503) for an exact pin, else None
    version: str | None
    problem: str | None     # why the line is not an exact pin with a hash


def read_lock(text: str) -> list[LockLine]:
    """Each requirement of a lock file: an exact pin with its hash, or the reason it is not."""
    out, buf, start = [], "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw)     # a comment (pip: `#` at the start or after a space)
        if not buf:
            start = no
        buf += " " + line.rstrip()
        if buf.endswith("\\"):
            buf = buf[:-1]
            continue
        logical, buf = buf.strip(), ""
        if logical:
            out.append(_lock_line(start, logical))
    if buf.strip():
        out.append(_lock_line(start, buf.strip()))
    return out


def _lock_line(no: int, logical: str) -> LockLine:
    hashes = HASH_OPTION.findall(" " + logical)
    req = HASH_OPTION.sub("", " " + logical).strip()
    m = EXACT_PIN.match(req)
    if req.startswith("-") or m is None:
        return LockLine(no, req, None, None, "not an exact pin NAME==VERSION: a device lock allows only exact "
                        "pins with sha256 hashes (no range, ===, wildcard, URL, -r/-e or other option)")
    name, version = _norm(m.group(1)), m.group(2)
    if not hashes:
        return LockLine(no, req, name, version, "has no --hash=sha256:...: a device lock allows only exact "
                        "pins with sha256 hashes")
    return LockLine(no, req, name, version, None)


def runtime_lock(root: Path) -> list[LockLine] | None:
    path = root / RUNTIME_LOCK
    return read_lock(path.read_text(encoding="utf-8")) if path.exists() else None


def runtime_pins(root: Path) -> dict[str, str] | None:
    """normalised name -> pinned version of requirements/runtime.lock (every exact pin,
    with a hash or not); None when absent."""
    lines = runtime_lock(root)
    if lines is None:
        return None
    return {x.name: x.version for x in lines if x.name and x.version}


def check_lock_lines(p: Project) -> None:
    """Audit finding 2 of issue 10: every requirement line is an exact pin with a hash, or an error naming it."""
    for x in runtime_lock(p.root) or []:
        if x.problem:
            p.error(RUNTIME_LOCK, f"line {x.line_no}", "", f"{x.text!r} {x.problem} [rule: soup]")


def extras_requirements(root: Path) -> dict[str, str]:
    """normalised name -> extra, for the direct requirements of [project.optional-dependencies]."""
    path = root / "pyproject.toml"
    if not path.exists():
        return {}
    extras = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("optional-dependencies", {})
    return {_norm(re.split(r"[\s<>=!~;\[]", text.strip(), maxsplit=1)[0]): extra
            for extra, reqs in extras.items() for text in reqs}


def device_names(p: Project) -> dict[str, str] | None:
    """normalised name -> why the device process loads it; None when the lock is missing."""
    pins = runtime_pins(p.root)
    if pins is None:
        return None
    out = {n: f"{RUNTIME_LOCK} pins it, and a plain install pulls it in" for n in pins}
    for r in p.soup_required.required if p.soup_required else []:
        if r.on_device:
            out[_norm(r.name)] = f"{SOUP_REQUIRED} lists it on_device: {r.why}"
    return out


def check_required(p: Project) -> None:
    """PR-048: the required names and the dev and report tools have SOUP entries."""
    for r in p.soup_required.required if p.soup_required else []:
        if not soup_listed(p, r.name):
            p.error(SOUP, r.name, "soup", f"{r.name} has no SOUP entry, but {SOUP_REQUIRED} requires one: "
                    f"{r.why}; add a reviewed one [rule: soup]")
    for name, extra in sorted(extras_requirements(p.root).items()):
        if not soup_listed(p, name):
            p.error(SOUP, name, "soup", f"{name}, a requirement of the {extra} extra of pyproject.toml, has no "
                    "SOUP entry: add a reviewed one [rule: soup]")


def check_floor(p: Project) -> None:
    """PR-057: the list holds SRS-292's names, the device platform marked on_device."""
    if p.soup_required is None:
        return    # the loader reports the missing or unreadable list
    listed = {_norm(r.name): r for r in p.soup_required.required}
    for name in REQUIRED_FLOOR:
        r = listed.get(_norm(name))
        if r is None:
            p.error(SOUP_REQUIRED, name, "required", f"{name} is not listed, but SRS-292 requires it (the floor "
                    "REQUIRED_FLOOR of traceability/soup_rules.py): list it with on_device, why and its commands, "
                    "and keep its SOUP entry [rule: soup]")
        elif name in DEVICE_FLOOR and not r.on_device:
            p.error(SOUP_REQUIRED, name, "on_device", f"on_device is false, but the device process loads {name} "
                    "(DEVICE_FLOOR of traceability/soup_rules.py): set on_device: true [rule: soup]")


def check_commands(p: Project) -> None:
    """PR-057: every command the scripts and Python files call is a listed component's or no SOUP item."""
    from traceability.soup_commands import called_commands
    if p.soup_required is None:
        return
    mapped = {c for r in p.soup_required.required for c in r.commands}
    not_soup = {c for group in p.soup_required.not_soup for c in group.commands}
    called = called_commands(p.root)
    for cmd, files in sorted(called.items()):
        if cmd not in mapped and cmd not in not_soup:
            shown = ", ".join(sorted(files)[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            p.error(SOUP_REQUIRED, cmd, "commands", f"{cmd} is called by {shown} but is neither among the commands "
                    "of a required component nor under not_soup: add it to the component it belongs to (with a "
                    "SOUP entry) or under not_soup with why [rule: soup]")
    for cmd in sorted((mapped | not_soup) - set(called)):
        p.warn(SOUP_REQUIRED, cmd, "commands", f"{cmd} is listed but no script or Python file calls it (as far as "
               "the static scan of traceability/soup_commands.py sees): remove it if it is no longer used "
               "[rule: soup]")


def check_on_device(p: Project) -> None:
    """PR-048: on_device says whether the device process loads the item, as the data says."""
    device = device_names(p)
    if device is None:
        p.error(RUNTIME_LOCK, "", "", "file not found: the distributions the device process loads are not "
                f"known, so on_device of the SOUP entries cannot be checked [rule: soup]")
        return
    for s in p.soup:
        why = device.get(_norm(s.name))
        if why and not s.on_device:
            p.error(SOUP, s.name, "on_device", f"on_device is false, but the device process loads {s.name}: "
                    f"{why}; set on_device: true and review its anomalies for the device [rule: soup]")
        elif not why and s.on_device:
            p.error(SOUP, s.name, "on_device", f"on_device is true, but the device process does not load "
                    f"{s.name}: it is neither pinned in {RUNTIME_LOCK} nor on_device in {SOUP_REQUIRED} (a "
                    "development, verification, build or report tool is off the device): set on_device: false, "
                    f"or list it on_device in {SOUP_REQUIRED} with why [rule: soup]")


# ---------------------------------------------------------------- start-up code of the environment
def site_dirs() -> list[Path]:
    """The site-packages directories of the running interpreter (its environment)."""
    paths = sysconfig.get_paths()
    return sorted({Path(paths["purelib"]), Path(paths["platlib"])})


def runs_code(pth: Path) -> bool:
    """site.py executes a .pth line that starts with `import` (space or tab); other lines are paths."""
    try:
        lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    return any(line.startswith(("import ", "import\t")) for line in lines)


# Modules site.py imports at every interpreter start when they are on the path
# (audit finding 5 of issue 10: a sitecustomize.py in site-packages passed).
START_UP_MODULES = ("sitecustomize", "usercustomize")


def _record_files() -> dict[Path, tuple[md.Distribution, md.PackagePath]]:
    """resolved path of each file a distribution of the site dirs lists in its RECORD -> (it, its row)."""
    sites = tuple(str(x) for x in site_dirs())
    return dict(_record_files_of(sites, _records_stamp(sites)))


def _records_stamp(sites: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What each site dir holds and the contents of its distributions' metadata: an install,
    a removal or an edited RECORD gives a new stamp, and so a fresh read below."""
    stamp = []
    for site in sites:
        try:
            stamp.append((site, str(sorted(os.listdir(site)))))
            for dist in os.scandir(site):
                if dist.name.endswith((".dist-info", ".egg-info")) and dist.is_dir():
                    # the contents, not the times: two writes within a clock tick share a time
                    stamp += [(f.path, hashlib.sha256(Path(f.path).read_bytes()).hexdigest())
                              for f in os.scandir(dist.path) if f.is_file()]
        except OSError:
            stamp.append((site, "unreadable"))
    return tuple(stamp)


# reading every RECORD took about 0.7 s, and a check reads them twice (the tests run
# many checks in one process); the stamp above keeps the cache true to the disk
@lru_cache(maxsize=4)
def _record_files_of(sites: tuple[str, ...], _stamp: tuple[tuple[str, str], ...]) \
        -> tuple[tuple[Path, tuple[md.Distribution, md.PackagePath]], ...]:
    out: dict[Path, tuple[md.Distribution, md.PackagePath]] = {}
    for d in md.distributions(path=list(sites)):
        for f in d.files or []:
            if f.name.endswith(".pth") or f.parts[0].split(".")[0] in START_UP_MODULES:
                out[Path(d.locate_file(f)).resolve()] = (d, f)
    return tuple(out.items())


def pth_owners() -> dict[Path, md.Distribution]:
    """resolved path of each *.pth file a distribution's RECORD lists -> that distribution."""
    return {path: d for path, (d, f) in _record_files().items() if f.name.endswith(".pth")}


def _customize_files(site: Path) -> list[Path]:
    """sitecustomize / usercustomize as a module, a compiled module or a package."""
    return sorted(x for x in site.iterdir() if x.name.split(".")[0] in START_UP_MODULES)


def startup_files() -> list[tuple[Path, md.Distribution | None]]:
    """(the file, the distribution it belongs to or None) for each .pth file that runs code
    and each sitecustomize / usercustomize module of the site dirs."""
    owners = {path: d for path, (d, _) in _record_files().items()}
    found = []
    for site in site_dirs():
        for pth in sorted(site.glob("*.pth")):
            if runs_code(pth):
                found.append((pth, owners.get(pth.resolve())))
        for x in _customize_files(site) if site.is_dir() else []:
            main = x / "__init__.py" if x.is_dir() else x
            found.append((x, owners.get(main.resolve())))
    return found


def _record_hash(path: Path, row: md.PackagePath) -> str | None:
    """Why `path` differs from its RECORD row (sha256), or None when it matches."""
    if row.hash is None or row.hash.mode != "sha256":
        return "its RECORD row holds no sha256"
    got = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
    return None if got == row.hash.value else f"its sha256 {got} is not the one its RECORD lists ({row.hash.value})"


def _distribution_entry(p: Project, name: str):
    """The SOUP entry a distribution matches: a Python package (kind python) or a tool read from its
    distribution metadata (version_probe dist), never a tool such as the clang compiler."""
    return next((s for s in p.soup if _norm(s.name) == _norm(name) and
                 (s.kind == "python" or s.version_probe == "dist")), None)


def check_startup_files(p: Project) -> None:
    """PR-051: code that every interpreter start runs is a SOUP item's (only in a virtual environment)."""
    from traceability.docs.soupgen import in_virtualenv
    if not in_virtualenv():
        return   # check_installed warns that the environment rules were not applied
    records = _record_files()
    for path, (dist, row) in sorted(records.items(), key=lambda x: str(x[0])):
        why = _record_hash(path, row) if path.is_file() else None
        if why:
            p.error(SOUP, path.name, "soup", f"{path} of {dist.metadata['Name']} {dist.version} was changed after "
                    f"install: {why}; reinstall the distribution [rule: soup]")
    for path, dist in startup_files():
        what = "runs code at every interpreter start (the device process's too)"
        if dist is None:
            p.error(SOUP, path.name, "soup", f"{path} {what} but belongs to no installed distribution: remove "
                    "it, or install it from a distribution with a reviewed SOUP entry [rule: soup]")
            continue
        name = dist.metadata["Name"]
        if _norm(name) == PROJECT:
            continue
        if not soup_listed(p, name):
            p.error(SOUP, name, "soup", f"{path.name} of {name} {dist.version} {what}, but {name} has no SOUP "
                    "entry: add a reviewed one (`python -m traceability.docs.soupgen` writes it from the "
                    "metadata) [rule: soup]")
        elif _distribution_entry(p, name) is None:
            p.error(SOUP, name, "soup", f"{path.name} of the distribution {name} {dist.version} {what}, but the "
                    f"SOUP entry {name} is no Python distribution (neither kind python nor version_probe dist): "
                    "a distribution of that name is not the reviewed item [rule: soup]")


def check_soup_rules(p: Project) -> None:
    check_lock_lines(p)
    check_floor(p)
    check_required(p)
    check_commands(p)
    check_on_device(p)
    check_startup_files(p)
