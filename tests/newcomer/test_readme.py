"""The README as a newcomer reads it (SRS-112): every file it names exists and is
used (by a test, by the test command, or here), and its `ionto` commands run as
written. The README's two commands themselves run in CI (.ci/run: demo, then
test, whose last steps rebuild the report and load it in headless Chromium
with --expect-verdict PASSED); running them again inside the suite would run
the suite inside itself."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from core import cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TOP = ("cext", "core", "spec", "hazard_analysis", "traceability", "tests", "examples", "scripts", "docs",
       "bench", "out", ".ci", ".venv")
PATH = re.compile(r"(?<![\w/.$~-])((?:" + "|".join(re.escape(t) for t in TOP) + r")/[\w./<>-]*\w/?|[\w/]*\w/?)")
# outputs the README's commands write (checked where they are produced: CI, the demo, the tests)
GENERATED = {"out/demo-trace.csv", "out/history.sqlite", "out/report/index.html", "out/t.csv",
             "out/test-results/results.json", "out/test-results/junit.xml", "out/requirements.reqif",
             "out/report", "out/bench/<requirement", "out/sdoc", ".venv/bin"}
# where a file counts as used: the tests, and what the test command runs
USERS = [*ROOT.glob("tests/**/*.py"), ROOT / "scripts/dev.sh", ROOT / ".ci/run", *ROOT.glob("scripts/*.sh"),
         ROOT / "cext/build_cffi.py", ROOT / "Makefile"]


def readme_paths() -> list[str]:
    found = []
    for m in re.finditer(r"`([^`]+)`|\]\(([^)]+)\)|^ {4}(.+)$", README, re.M):
        text = next(g for g in m.groups() if g)
        for word in re.split(r"[\s,;()]+", text):
            word = word.strip(".:'\"")
            if word.startswith(tuple(t + "/" for t in TOP)) or word in ("README.md", "pyproject.toml", "setup.py"):
                found.append(word.rstrip("/") if not word.endswith("/") else word)
    return sorted(set(found))


@pytest.mark.req("SRS-112")
def test_every_file_the_readme_names_exists_and_is_used():
    paths = readme_paths()
    assert "examples/scenario-liftoff.yaml" in paths and "docs/architecture.md" in paths
    users_text = "\n".join(p.read_text(errors="replace") for p in USERS if p.is_file())
    missing, unused = [], []
    for rel in paths:
        if rel.rstrip("/") in GENERATED or rel.startswith(("out/", ".venv/")):
            continue
        path = ROOT / rel
        if rel.endswith("/"):
            if not path.is_dir():
                missing.append(rel)
            continue
        if not path.exists():
            missing.append(rel)
            continue
        if path.suffix in (".yaml", ".yml"):
            assert yaml.safe_load(path.read_text()) is not None, rel      # used: read here
        elif path.suffix == ".svg":
            assert ET.fromstring(path.read_bytes()).tag.endswith("svg"), rel
        elif path.suffix == ".md":
            assert len(path.read_text()) > 100, rel
        elif not _used(rel, users_text):
            unused.append(rel)
    assert missing == [], f"named in README.md but missing: {missing}"
    assert unused == [], f"named in README.md but used by no test or CI step: {unused}"


def _used(rel: str, text: str) -> bool:
    """Named by path or file name, or imported (`core.verification.diagram`,
    `from core.verification import diagram`)."""
    module = rel.removesuffix(".py").replace("/", ".")
    package, _, name = module.rpartition(".")
    return any(x in text for x in (rel, Path(rel).name, module, f"from {package} import {name}"))


def _commands() -> list[list[str]]:
    block = README[README.index("## Using the core"):README.index("Synopsis")]
    block = block.replace("\\\n", " ")   # continued lines
    return [shlex.split(line.strip()) for line in block.splitlines()
            if line.startswith("    ionto session") or line.startswith("    ionto history")]


@pytest.mark.req("SRS-112", "SRS-080")
def test_the_readmes_ionto_commands_run_as_written(tmp_path, monkeypatch, capsys):
    """Run in a copy of examples/, with the default history under $XDG_DATA_HOME."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    commands = _commands()
    assert len(commands) >= 4, commands
    for argv in commands:
        assert argv[0] == "ionto"
        capsys.readouterr()
        code = cli.main(argv[1:])
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)
        if "--scenario" in argv:
            assert "examples/scenario-liftoff.yaml" in argv and Path("out/t.csv").stat().st_size > 0
            trace = Path("out/t.csv").read_text()
            assert ",contact_lost," in trace or "paused" in trace, "the lift-off shows in the trace"
    listed = json.loads(out) if argv[1:] == ["history", "--json"] else None
    assert listed is not None and len(listed) == len(commands) - 1
    assert [r["outcome"] for r in listed] == ["completed"] * (len(commands) - 1)
