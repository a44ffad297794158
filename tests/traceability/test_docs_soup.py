"""The SOUP list against what is installed (SRS-183, SRS-186): every package a
plain install pulls in is a SOUP item at its pinned version; the platform
components and tools report the pinned version; the runtime lock pins the same
versions with hashes; report-only packages stay out of the device's install.
A different installed set fails here (update soup.yaml with a reviewed entry)."""
from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from traceability.data import load_project
from traceability.docs.soupver import installed_version, runtime_closure

ROOT = Path(__file__).resolve().parents[2]
REPORT_ONLY = {"jinja2", "matplotlib", "pydot", "reqif", "strictdoc"}
PLATFORM = {"CPython", "SQLite", "glibc", "gcc", "cppcheck", "SPIN"}
TEST_TOOLS = {"pytest", "hypothesis", "mutmut", "coverage", "gcovr", "build"}
# the C checks of scripts/cverify.sh and tests/realtime, and the report and document tools
C_TOOLS = {"clang", "Frama-C", "gcc-arm-none-eabi"}
REPORT_TOOLS = {"Chromium", "graphviz", "StrictDoc", "Jinja2", "matplotlib", "pydot", "reqif"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def soup():
    p = load_project(ROOT)
    assert not [f for f in p.findings if "soup" in f.file], p.findings
    return p.soup


@pytest.mark.req("SRS-183")
def test_every_package_a_runtime_install_pulls_in_is_soup_at_its_pinned_version(soup):
    installed = runtime_closure("ionto-core")
    listed = {_norm(s.name): s.version for s in soup if s.kind == "python"}
    assert set(installed) == set(listed), (sorted(set(installed) - set(listed)), sorted(set(listed) - set(installed)))
    assert installed == listed
    assert len(listed) == 9


@pytest.mark.req("SRS-183")
@pytest.mark.parametrize("name", sorted(PLATFORM | TEST_TOOLS | C_TOOLS | REPORT_TOOLS))
def test_platform_components_and_tools_report_the_pinned_version(soup, name):
    entry = next(s for s in soup if s.name == name)
    assert entry.version_probe, name
    assert installed_version(entry) == entry.version, (name, installed_version(entry), entry.version)


@pytest.mark.req("SRS-183")
def test_every_soup_entry_has_requirements_needs_and_a_dated_anomaly_review(soup):
    assert {s.name for s in soup} >= PLATFORM | TEST_TOOLS | C_TOOLS | REPORT_TOOLS | {"pydantic-core"}
    for s in soup:
        assert s.anomalies.reviewed <= date.today(), s.name
        assert "none known relevant to this use" not in s.known_anomalies, s.name   # the old model default
        assert len(s.anomalies.looked_at) >= 40 and len(s.anomalies.evaluation) >= 40, s.name
        # on the device: the runtime packages, the platform and setuptools' start-up hook (SRS-292, PR-051)
        assert s.on_device == (s.kind != "tool" or s.name == "setuptools"), s.name


@pytest.mark.req("SRS-183")
def test_runtime_lock_pins_every_runtime_soup_item_with_a_sha256_hash(soup):
    text = (ROOT / "requirements/runtime.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n\s+--hash=sha256:([0-9a-f]{64})$", text, re.M)
    locked = {_norm(n): v for n, v, _ in entries}
    assert locked == {_norm(s.name): s.version for s in soup if s.kind == "python"}
    assert len(entries) == len(re.findall(r"^[^#\s].*==", text, re.M))   # every pin carries a hash


@pytest.mark.req("SRS-186")
def test_device_dependencies_are_pinned_and_report_only_packages_are_in_the_report_extra(soup):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in project["dependencies"])
    versions = {_norm(s.name): s.version for s in soup}
    assert {_norm(n): v for n, v in pins.items()} == {_norm(n): versions[_norm(n)] for n in pins}
    assert not REPORT_ONLY & {_norm(n) for n in pins}
    report = {_norm(re.split(r"[=<>]", d)[0]) for d in project["optional-dependencies"]["report"]}
    assert REPORT_ONLY <= report
    assert not REPORT_ONLY & set(runtime_closure("ionto-core"))


@pytest.mark.req("SRS-183")
def test_no_anomaly_review_is_left_outstanding_and_cpython_and_gcc_name_their_sources(soup):
    """PR-022: the CPython and gcc entries said their review was outstanding;
    every entry now records a review done, and those two name what was read."""
    for s in soup:
        text = f"{s.anomalies.looked_at} {s.anomalies.evaluation}".lower()
        assert "not yet reviewed" not in text and "open item" not in text, s.name
    by_name = {s.name: s for s in soup}
    assert "3.11.8.rst" in by_name["CPython"].anomalies.looked_at
    assert "PR106523" in by_name["gcc"].anomalies.looked_at
