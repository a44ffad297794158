"""SOUP rules of `ionto-trace check` that rest on data, not on a test (PR-048, PR-051):

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

import importlib.metadata as md
import re
import sysconfig
import tomllib
from pathlib import Path

from traceability.data import SOUP, SOUP_REQUIRED, Project, soup_listed
from traceability.docs.soupver import _norm

RUNTIME_LOCK = "requirements/runtime.lock"
PROJECT = "ionto-core"
LOCK_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", re.M)


def runtime_pins(root: Path) -> dict[str, str] | None:
    """normalised name -> pinned version of requirements/runtime.lock; None when absent."""
    path = root / RUNTIME_LOCK
    if not path.exists():
        return None
    return {_norm(n): v for n, v in LOCK_PIN.findall(path.read_text(encoding="utf-8"))}


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


def pth_owners() -> dict[Path, md.Distribution]:
    """resolved path of each *.pth file a distribution's RECORD lists -> that distribution."""
    out: dict[Path, md.Distribution] = {}
    for d in md.distributions():
        for f in d.files or []:
            if f.name.endswith(".pth"):
                out[Path(d.locate_file(f)).resolve()] = d
    return out


def startup_files() -> list[tuple[Path, md.Distribution | None]]:
    """(the .pth file, the distribution it belongs to or None) for each one that runs code."""
    owners = pth_owners()
    found = []
    for site in site_dirs():
        for pth in sorted(site.glob("*.pth")):
            if runs_code(pth):
                found.append((pth, owners.get(pth.resolve())))
    return found


def check_startup_files(p: Project) -> None:
    """PR-051: code that every interpreter start runs is a SOUP item's (only in a virtual environment)."""
    from traceability.docs.soupgen import in_virtualenv
    if not in_virtualenv():
        return   # check_installed warns that the environment rules were not applied
    for pth, dist in startup_files():
        if dist is None:
            p.error(SOUP, pth.name, "soup", f"{pth} runs code at every interpreter start (the device process's "
                    "too) but belongs to no installed distribution: remove it, or install it from a "
                    "distribution with a reviewed SOUP entry [rule: soup]")
            continue
        name = dist.metadata["Name"]
        if _norm(name) != PROJECT and not soup_listed(p, name):
            p.error(SOUP, name, "soup", f"{pth.name} of {name} {dist.version} runs code at every interpreter "
                    f"start (the device process's too), but {name} has no SOUP entry: add a reviewed one "
                    "(`python -m traceability.docs.soupgen` writes it from the metadata) [rule: soup]")


def check_soup_rules(p: Project) -> None:
    check_required(p)
    check_on_device(p)
    check_startup_files(p)
