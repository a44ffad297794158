"""requirements/tools.lock pins every SOUP Python package at its reviewed
version (SRS-221): a fresh clone installs what was reviewed."""
from __future__ import annotations

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements/tools.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _reviewed() -> dict[str, str]:
    soup = yaml.safe_load((ROOT / "hazard_analysis/soup.yaml").read_text())["soup"]
    return {e["name"].lower(): str(e["version"]) for e in soup
            if e["kind"] == "python" or e.get("version_probe") == "dist"}


@pytest.mark.req("SRS-221")
def test_the_tools_lock_pins_each_reviewed_package_at_its_reviewed_version():
    assert _pins() == _reviewed()


@pytest.mark.req("SRS-221")
def test_setup_installs_the_extras_under_the_tools_lock():
    dev_sh = (ROOT / "scripts/dev.sh").read_text()
    assert '-c requirements/tools.lock -e ".[dev,report]"' in dev_sh
