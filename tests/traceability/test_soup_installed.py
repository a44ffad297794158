"""Every distribution installed in the project's virtual environment is a
SOUP item at its reviewed version, and `ionto-trace check` fails otherwise
(SRS-221); the entries for the dev and report extras come from the
distributions' metadata (traceability/docs/soupgen.py)."""
from __future__ import annotations

import importlib.metadata as md
import re
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from traceability.data import load_project
from traceability.docs import soupgen
from traceability.models import Soup

ROOT = Path(__file__).resolve().parents[2]
NOT_SOUP = {"ionto-core"}   # pip is a SOUP item (PR-045), setuptools too (PR-051)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _entry_block(text: str, name: str) -> tuple[int, int]:
    start = text.index(f'  - name: "{name}"\n')
    end = text.find("\n  - name:", start + 5)
    return start, (len(text) if end < 0 else end + 1)


@pytest.fixture(scope="module")
def listed() -> dict[str, Soup]:
    return {_norm(s.name): s for s in load_project(ROOT).soup}


@pytest.mark.req("SRS-221")
def test_the_tests_run_in_a_virtual_environment():
    # the rule (and the two tests below) apply to the project's .venv
    assert sys.prefix != sys.base_prefix


@pytest.mark.req("SRS-221")
def test_every_distribution_installed_here_is_a_soup_item_at_its_installed_version(listed):
    installed = {_norm(d.metadata["Name"]): d.version for d in md.distributions()}
    for name in NOT_SOUP:
        installed.pop(name, None)
    assert len(installed) >= 110
    missing = sorted(set(installed) - set(listed))
    assert not missing, missing
    differ = {n: (v, listed[n].version) for n, v in installed.items() if listed[n].version != v}
    assert not differ, differ


@pytest.mark.req("SRS-221")
def test_every_package_the_dev_and_report_extras_pull_in_is_listed_off_the_device(listed):
    """The closure computed here on its own: requirements with their extras, markers evaluated."""
    found: dict[str, set[str]] = {}
    todo = [(r, extra) for extra in ("dev", "report") for r in md.requires("ionto-core")
            if f'extra == "{extra}"' in r]
    while todo:
        text, extra = todo.pop()
        req = Requirement(text)
        key = _norm(req.name)
        if extra in found.setdefault(key, set()):
            continue
        found[key].add(extra)
        for sub in md.requires(req.name) or []:
            r = Requirement(sub)
            if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in req.extras | {""}):
                todo.append((sub, extra))
    runtime = {_norm(s.name) for s in listed.values() if s.kind == "python"}
    extra_only = set(found) - runtime
    assert len(extra_only) >= 100
    assert not sorted(extra_only - set(listed)), sorted(extra_only - set(listed))
    for name in extra_only:
        s = listed[name]
        assert (s.kind, s.on_device) == ("tool", False), name
        assert s.version == md.version(name), name
        assert s.anomalies.reviewed <= date.today() and len(s.anomalies.evaluation) >= 40, name


@pytest.mark.req("SRS-221")
def test_check_fails_on_an_installed_distribution_without_an_entry_or_at_another_version(repo, capsys):
    path = repo.path("hazard_analysis/soup.yaml")
    text = path.read_text()
    a, b = _entry_block(text, "Arpeggio")
    text = text[:a] + text[b:]
    numpy = md.version("numpy")
    text = text.replace(f'  - name: "numpy"\n    kind: "tool"\n    version: "{numpy}"',
                        '  - name: "numpy"\n    kind: "tool"\n    version: "1.0.0"', 1)
    path.write_text(text)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert (f"ERROR: hazard_analysis/soup.yaml: Arpeggio: field 'soup': Arpeggio {md.version('Arpeggio')} is "
            f"installed in {sys.prefix} but has no SOUP entry") in out
    assert (f"ERROR: hazard_analysis/soup.yaml: numpy: field 'version': installed version {numpy} is not the "
            "reviewed version 1.0.0") in out
    assert out.count("has no SOUP entry") == 1 and out.count("is not the reviewed version") == 1


@pytest.mark.req("SRS-221")
def test_the_generator_writes_the_missing_entry_from_the_metadata_and_the_check_passes_again(repo, capsys):
    path = repo.path("hazard_analysis/soup.yaml")
    text = path.read_text()
    a, b = _entry_block(text, "Arpeggio")
    # written back with the deleted entry's own review date, so that its review stamp
    # still matches on any later day (the generator's default date is today)
    reviewed_on = re.search(r"\n      reviewed: (\S+)\n", text[a:b]).group(1)
    path.write_text(text[:a] + text[b:])
    capsys.readouterr()
    assert soupgen.main(["--root", str(repo.root), "--reviewed", "2026-11-29"]) == 0
    printed = capsys.readouterr().out
    entries = yaml.safe_load("soup:\n" + printed)["soup"]
    assert len(entries) == 1
    e = Soup.model_validate(entries[0])
    meta = md.metadata("Arpeggio")
    assert (e.name, e.version, e.kind, e.version_probe, e.on_device) == (
        "Arpeggio", md.version("Arpeggio"), "tool", "dist", False)
    assert e.purpose.startswith(meta["Summary"].rstrip(".") + "; pulled in by the report extra (strictdoc -> ")
    assert e.needs.startswith("CPython (any version); pure Python") or e.needs.startswith(
        f"CPython {meta['Requires-Python']}; pure Python")
    assert e.anomalies.reviewed == date(2026, 11, 29)
    assert f"metadata of Arpeggio {md.version('Arpeggio')}" in e.anomalies.looked_at
    assert soupgen.main(["--root", str(repo.root), "--write", "--reviewed", reviewed_on]) == 0
    rc, out = repo.run(capsys, "check")
    assert rc == 0 and "has no SOUP entry" not in out, out


@pytest.mark.req("SRS-221")
def test_outside_a_virtual_environment_the_rule_is_not_applied_and_says_so(repo, capsys, monkeypatch):
    path = repo.path("hazard_analysis/soup.yaml")
    text = path.read_text()
    a, b = _entry_block(text, "Arpeggio")
    path.write_text(text[:a] + text[b:])
    # the entry is fingerprinted (SRS-288): its deletion is reviewed, so only the installed-package rule is in play
    assert repo.run(capsys, "review", "SOUP:Arpeggio", "--note", "removed for this test")[0] == 0
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert "WARNING: hazard_analysis/soup.yaml: not run in a virtual environment" in out
    assert "has no SOUP entry" not in out


@pytest.mark.req("SRS-180")
def test_the_development_plan_lists_each_tool_with_its_version_and_counts_what_they_pull_in(tmp_path, listed):
    from traceability.cli import main
    import tomllib
    out = tmp_path / "docs"
    assert main(["--root", str(ROOT), "docs", "--out", str(out)]) == 0
    plan = (out / "development-plan.md").read_text().split("## Tools with versions", 1)[1].split("\n## ")[0]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    direct = {_norm(re.split(r"[<>=;\[ ]", r)[0]) for reqs in extras.values() for r in reqs}
    tools = [s for s in listed.values()
             if s.kind != "python" and (s.version_probe != "dist" or _norm(s.name) in direct)]
    transitive = [s for s in listed.values() if s.kind == "tool" and s.version_probe == "dist"
                  and _norm(s.name) not in direct]
    assert len(transitive) >= 95
    for s in tools:
        assert f"| {s.name} | {s.version} | " in plan, s.name
    for s in transitive:
        assert f"| {s.name} | " not in plan, s.name
    assert f"The {len(transitive)} packages these tools pull in (dev and report extras) are SOUP items" in plan
