"""JUnit XML carries each test's requirement ids; `check` weighs it as evidence (SRS-109)."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from traceability.provenance import commit, source_sha256
from traceability.junit import read_junit

SRC = '''import pytest

@pytest.mark.req("SRS-001", "SRS-002")
def test_two():
    assert True

@pytest.mark.req("SRS-003")
@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x == 1

class TestGroup:
    @pytest.mark.req("SRS-004")
    def test_in_class(self):
        pass

def test_unmarked():
    pass


from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, rule


class Machine(RuleBasedStateMachine):
    @rule()
    def step(self):
        pass


TestMachine = Machine.TestCase   # defined in hypothesis' file: JUnit names that file
TestMachine.settings = settings(max_examples=2, stateful_step_count=2)
'''


def _junit(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(SRC)
    (tmp_path / "tests" / "conftest.py").write_text('pytest_plugins = ["traceability.pytest_plugin"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\njunit_family = xunit1\n")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=junit.xml"],
                   cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return tmp_path / "junit.xml"


@pytest.mark.req("SRS-109")
def test_each_testcase_carries_its_ids_as_a_verifies_property(tmp_path):
    root = ET.parse(_junit(tmp_path)).getroot()
    props = {c.get("name"): [p.get("value") for p in c.iter("property") if p.get("name") == "verifies"]
             for c in root.iter("testcase")}
    assert props == {"test_two": ["SRS-001, SRS-002"], "test_param[1]": ["SRS-003"],
                     "test_param[2]": ["SRS-003"], "test_in_class": ["SRS-004"], "test_unmarked": [], "runTest": []}


@pytest.mark.req("SRS-109")
def test_reader_gives_the_plugins_node_ids_outcomes_and_lines(tmp_path):
    data = read_junit(_junit(tmp_path))
    import json
    plugin = json.loads((tmp_path / "out/test-results/results.json").read_text())
    want = {t["nodeid"]: (t["ids"], t["file"], t["line"], t["outcome"]) for t in plugin["tests"]}
    got = {t["nodeid"]: (t["ids"], t["file"], t["line"], t["outcome"]) for t in data["tests"]}
    assert got == want
    assert got["tests/test_x.py::test_param[2]"][3] == "failed"
    assert "tests/test_x.py::TestGroup::test_in_class" in got
    assert got["tests/test_x.py::TestMachine::runTest"][1] == "tests/test_x.py"


@pytest.mark.req("SRS-109")
def test_check_accepts_junit_xml_as_evidence(repo, capsys):
    data = repo.results()
    cases = "".join(
        f'<testcase classname="tests.test_synthetic" name="{t["nodeid"].split("::")[1]}" '
        f'file="{t["file"]}" line="{t["line"] - 1}" time="0.01"><properties>'
        f'<property name="verifies" value="{", ".join(t["ids"])}"/></properties></testcase>'
        for t in data["tests"])
    build = "".join(f'<property name="ionto_{k}" value="{v}"/>' for k, v in (("commit", commit(repo.root)), ("source_sha256", source_sha256(repo.root))))
    repo.write("out/test-results/junit.xml", f'<?xml version="1.0"?><testsuites><testsuite name="pytest">'
               f'<properties>{build}</properties>{cases}</testsuite></testsuites>')
    rc, out = repo.run(capsys, "check", "--results", str(repo.path("out/test-results/junit.xml")))
    assert rc == 0, out
    # a failure in the XML fails the check, naming the test and what it verifies
    first = data["tests"][0]
    name = first["nodeid"].split("::")[1]
    text = repo.read("out/test-results/junit.xml").replace(
        f'name="{name}" file', f'name="{name}" file', 1).replace(
        f'name="{name}"', f'name="{name}"', 1)
    head, tail = text.split(f'name="{name}"', 1)
    tail = tail.replace("</properties></testcase>", '</properties><failure message="boom"/></testcase>', 1)
    repo.write("out/test-results/junit.xml", head + f'name="{name}"' + tail)
    rc, out = repo.run(capsys, "check", "--results", str(repo.path("out/test-results/junit.xml")))
    assert rc == 1 and f"test failed (verifies {first['ids'][0]}): boom" in out, out
    repo.write("out/test-results/junit.xml", "<html/>")
    rc, out = repo.run(capsys, "check", "--results", str(repo.path("out/test-results/junit.xml")))
    assert rc == 1 and "unreadable JUnit XML test results" in out
