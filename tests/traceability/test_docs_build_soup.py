"""SOUP of the build and the tools (SRS-274, audit finding 3 of issue 10):
every [build-system] requirement of pyproject.toml is pinned exactly and is a
SOUP item at that version; every tool or platform component whose version is
probed is compared with its SOUP entry where it is installed (a warning where
it is absent). A mutated copy must be refused, the repository must pass."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.traceability.conftest import copy_tracked
from traceability.cli import main
from traceability.docs import soupver

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"


@pytest.fixture
def copy(tmp_path) -> Path:
    return copy_tracked(tmp_path / "repo")


def _findings(capsys, root: Path) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith(("ERROR", "WARNING"))]


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.req("SRS-274")
def test_the_build_requirements_are_pinned_exactly_and_each_is_a_soup_item_at_that_version(capsys):
    reqs = soupver.build_requirements(ROOT)
    assert [(n, v) for n, v, _ in reqs] == [("setuptools", "84.2.1"), ("wheel", "0.48.0"), ("cffi", "2.1.1")]
    found = _findings(capsys, ROOT)
    assert not [f for f in found if "pyproject.toml" in f or ("soup.yaml" in f and "'version'" in f)], found


@pytest.mark.parametrize("old, new, expected", [
    ('"setuptools==84.2.1"', '"setuptools>=77"', "ERROR: pyproject.toml: setuptools: field 'build-system.requires': "
     "build requirement 'setuptools>=77' is not pinned exactly"),
    ('"wheel==0.48.0"', '"wheel"', "ERROR: pyproject.toml: wheel: field 'build-system.requires': build "
     "requirement 'wheel' is not pinned exactly"),
    ('"wheel==0.48.0"', '"wheel==0.49.0"', "ERROR: hazard_analysis/soup.yaml: wheel: field 'version': build "
     "requirement 'wheel==0.49.0' of pyproject.toml is not the SOUP entry's version 0.48.0"),
    ('"cffi==2.1.1"', '"cffi==2.1.1", "ninja==1.11.1"', "ERROR: hazard_analysis/soup.yaml: ninja: field 'soup': "
     "build requirement 'ninja==1.11.1' of pyproject.toml has no SOUP entry"),
])
@pytest.mark.req("SRS-274")
def test_an_unpinned_or_unlisted_build_requirement_fails(copy, capsys, old, new, expected):
    _edit(copy, "pyproject.toml", old, new)
    assert [f for f in _findings(capsys, copy) if f.startswith(expected)]


@pytest.mark.parametrize("name, old, new, probe", [
    ("gcc", 'version: "12.2.0"\n    version_probe: gcc\n', 'version: "13.1.0"\n    version_probe: gcc\n', "gcc"),
    ("CPython", 'version: "3.11.7"', 'version: "3.12.1"', "python"),
])
@pytest.mark.req("SRS-274")
def test_a_tool_version_other_than_the_installed_one_fails(copy, capsys, name, old, new, probe):
    _edit(copy, SOUP, old, new)
    got = soupver.PROBES[probe]()
    wrong = new.split('"')[1]
    assert got != wrong
    assert [f for f in _findings(capsys, copy) if f.startswith(
        f"ERROR: {SOUP}: {name}: field 'version': {name} {got} is installed (probe {probe}) but the SOUP entry "
        f"reviews {wrong}")]


@pytest.mark.req("SRS-274")
def test_an_absent_tool_is_a_warning_not_a_pass_or_an_error(copy, capsys, monkeypatch):
    def absent():
        raise OSError("spin: not found")
    monkeypatch.setitem(soupver.PROBES, "spin", absent)
    found = _findings(capsys, copy)
    assert [f for f in found if f.startswith(f"WARNING: {SOUP}: SPIN: field 'version': SPIN is not installed here "
                                             "(NOT FOUND (OSError)): its version 6.5.2 was not compared")]
    assert not [f for f in found if f.startswith(f"ERROR: {SOUP}: SPIN")]
