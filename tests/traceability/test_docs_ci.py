"""CI builds the IEC 62304 documents (SRS-180): the README's main command
(`scripts/dev.sh demo`) writes the report and the documents, the test command
rebuilds both from the test results and loads every page in Chromium, and
.ci/run runs both commands."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _function(script: str, name: str) -> list[str]:
    """The command lines of a shell function (comments and blank lines dropped)."""
    body = re.search(rf"^{name}\(\) {{\n(.*?)^}}", script, re.S | re.M)
    assert body, name
    text = re.sub(r"\\\n\s*", " ", body.group(1))   # continued lines joined
    return [x.strip() for x in text.splitlines() if x.strip() and not x.strip().startswith("#")]


@pytest.fixture(scope="module")
def dev_sh() -> str:
    return (ROOT / "scripts/dev.sh").read_text()


@pytest.mark.req("SRS-180")
def test_the_demo_writes_the_report_then_the_documents(dev_sh):
    demo = _function(dev_sh, "run_demo")
    report = demo.index("ionto-trace report --out out/report")
    docs = demo.index("ionto-trace docs --out out/docs")
    assert report < docs


@pytest.mark.req("SRS-180")
def test_the_test_command_builds_and_loads_the_documents_after_the_check_and_the_report(dev_sh):
    steps = [x for x in _function(dev_sh, "run_tests") if x.startswith("step ")]
    names = [re.match(r'step "[^"]*" (.*)', x).group(1) for x in steps if re.match(r'step "[^"]*" ', x)]

    def at(command: str) -> int:
        found = [i for i, n in enumerate(names) if n.strip() == command]
        assert len(found) == 1, (command, names)
        return found[0]

    pytest_step = next(i for i, n in enumerate(names) if "-m pytest" in n)
    check, report = at("ionto-trace check"), at("ionto-trace report --out out/report")
    docs, loaded = at("ionto-trace docs --out out/docs"), at("ionto-trace site-check out/docs")
    assert pytest_step < check < report < docs < loaded
    assert "set -euo pipefail" in dev_sh    # a failing step stops the run


@pytest.mark.req("SRS-180")
def test_ci_runs_the_demo_and_the_test_command_on_a_clean_clone():
    ci = [x.strip() for x in (ROOT / ".ci/run").read_text().splitlines() if x.strip() and not x.startswith("#")]
    demo = next(i for i, x in enumerate(ci) if x.startswith("bash scripts/dev.sh demo"))
    test = ci.index("bash scripts/dev.sh test")
    assert demo < test and "set -euo pipefail" in ci
