"""PR-045 (SRS-287): the libraries behind the standard library that the device
process loads (OpenSSL behind hashlib.scrypt, SQLite behind sqlite3), git and
pip are SOUP items at the versions found on this machine; a recorded version
other than the found one is an error naming the entry, the recorded and the
found version; pip is no longer exempt; every shared library the `ionto`
process links is covered by an entry or stated as loaded but not used."""
from __future__ import annotations

import importlib.metadata as md
import re
import sqlite3
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import copy_tracked
from traceability.cli import main
from traceability.docs import soupgen
from traceability.docs.soupver import installed_version
from traceability.data import load_project

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"


def _found() -> dict[str, tuple[str, str]]:
    """entry name -> (version probe, the version this machine has, read here independently of soupver)."""
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout
    return {
        "OpenSSL": ("openssl", re.match(r"OpenSSL (\S+)", ssl.OPENSSL_VERSION).group(1)),
        "SQLite": ("sqlite", sqlite3.sqlite_version),
        "git": ("git", re.match(r"git version (\S+)", git).group(1)),
        "pip": ("dist", md.version("pip")),
    }


FOUND = _found()


@pytest.fixture
def copy(tmp_path) -> Path:
    return copy_tracked(tmp_path / "repo")


def _errors(capsys, root: Path) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith("ERROR")]


def _entries(root: Path) -> list[dict]:
    return yaml.safe_load((root / SOUP).read_text())["soup"]


def _set_version(root: Path, name: str, version: str) -> None:
    path = root / SOUP
    text = path.read_text()
    pat = re.compile(r'(^  - name: "?' + re.escape(name) + r'"?\n(?:    .*\n)*?    version: )"?[^"\n]+"?', re.M)
    assert pat.search(text), name
    path.write_text(pat.sub(lambda m: m.group(1) + f'"{version}"', text, count=1))


def _drop(root: Path, name: str) -> None:
    path = root / SOUP
    text = path.read_text()
    m = re.search(r'^  - name: "?' + re.escape(name) + r'"?\n(?:(?:    |      ).*\n)*', text, re.M)
    assert m, name
    path.write_text(text[:m.start()] + text[m.end():])


@pytest.mark.req("SRS-287")
def test_the_pin_hash_is_openssl_on_this_interpreter():
    import hashlib
    assert hashlib.scrypt.__module__ == "_hashlib"       # scrypt exists only through OpenSSL's libcrypto
    assert "scrypt" in (ROOT / "core/users.py").read_text()


@pytest.mark.parametrize("name", sorted(FOUND))
@pytest.mark.req("SRS-287")
def test_each_entry_is_at_the_version_found_here(name):
    probe, found = FOUND[name]
    entry = next(s for s in load_project(ROOT).soup if s.name == name)
    assert entry.version_probe == probe
    assert installed_version(entry, ROOT) == found
    assert entry.version == found, (name, entry.version, found)


@pytest.mark.parametrize("name", sorted(FOUND))
@pytest.mark.req("SRS-287")
def test_a_recorded_version_other_than_the_found_one_fails_naming_entry_recorded_and_found(copy, capsys, name):
    if name == "pip" and not soupgen.in_virtualenv():
        pytest.skip("the installed-distribution rule runs only in the project's virtual environment")
    probe, found = FOUND[name]
    wrong = "0.0.1"
    _set_version(copy, name, wrong)
    mine = [e for e in _errors(capsys, copy) if e.startswith(f"ERROR: {SOUP}: {name}: field 'version': ")]
    assert len(mine) == 1, mine
    if probe == "dist":
        assert f"installed version {found} is not the reviewed version {wrong}" in mine[0]
    else:
        assert f"{name} {found} is installed (probe {probe}) but the SOUP entry reviews {wrong}" in mine[0]


@pytest.mark.req("SRS-287", "SRS-221")
def test_pip_is_not_exempt_and_an_environment_without_its_entry_fails(copy, capsys):
    assert "pip" not in soupgen.NOT_SOUP
    if not soupgen.in_virtualenv():
        pytest.skip("the installed-distribution rule runs only in the project's virtual environment")
    _drop(copy, "pip")
    assert [e for e in _errors(capsys, copy) if e.startswith(
        f"ERROR: {SOUP}: pip: field 'soup': pip {FOUND['pip'][1]} is installed in {sys.prefix} but has no SOUP entry")]


@pytest.mark.parametrize("name, probe", [("OpenSSL", "openssl"), ("git", "git")])
@pytest.mark.req("SRS-287")
def test_a_probed_component_without_an_entry_fails_and_soupgen_writes_it_from_the_probe(copy, capsys, name,
                                                                                         probe):
    _drop(copy, name)
    assert [e for e in _errors(capsys, copy) if e.startswith(
        f"ERROR: {SOUP}: {name}: field 'soup': {name} (probe {probe}) has no SOUP entry")]
    from datetime import date
    text = soupgen.missing_entries(copy, date(2026, 12, 1))
    written = [e for e in yaml.safe_load(text) if e["name"] == name]
    assert len(written) == 1
    assert written[0]["version"] == FOUND[name][1] and written[0]["version_probe"] == probe


def _device_libraries() -> dict[str, list[str]]:
    """soname -> extension modules linking it, in a process that imports what `ionto` imports."""
    code = ("import sys, core.cli, core.cli_users\n"
            "print('\\n'.join(sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())}"
            " - {''})))")
    files = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout.split()
    libs: dict[str, list[str]] = {}
    for f in (f for f in files if f.endswith(".so")):
        ldd = subprocess.run(["ldd", f], capture_output=True, text=True).stdout
        for line in ldd.splitlines():
            so = Path(line.split()[0]).name
            if so.startswith("linux-vdso") or so == "statically":
                continue    # the kernel's page; a module linked statically
            libs.setdefault(so, []).append(Path(f).name)
    return libs


@pytest.mark.req("SRS-287")
def test_every_library_the_device_process_links_is_a_soup_item_or_stated_unused():
    libs = _device_libraries()
    assert {"libcrypto.so.3", "libsqlite3.so.0", "libc.so.6"} <= set(libs), libs
    names = {s.name for s in load_project(ROOT).soup}
    unknown = {so: mods for so, mods in libs.items() if so not in soupgen.DEVICE_LIBRARIES}
    assert unknown == {}, unknown
    for so in libs:
        cover = soupgen.DEVICE_LIBRARIES[so]
        assert cover.startswith("not used: ") or cover in names, (so, cover)
    # the "not used" ones: no module of core/ imports what would call them
    used = set()
    for path in (ROOT / "core").rglob("*.py"):
        used |= set(re.findall(r"^\s*(?:import|from) ([a-z_0-9]+)", path.read_text(), re.M))
    assert used.isdisjoint({"zlib", "bz2", "lzma", "gzip", "zipfile", "tarfile", "binascii", "uuid", "ssl"})
    pydantic_core = next(s for s in load_project(ROOT).soup if s.name == "pydantic-core")
    assert "libgcc_s" in pydantic_core.needs
