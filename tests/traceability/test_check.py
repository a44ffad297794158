"""`ionto-trace check` passes on consistent data and fails, naming the item,
on each kind of corruption (issue 4, point 5). All on a copy in tmp_path."""
from __future__ import annotations

import json

import pytest

from tests.traceability.conftest import SYNTH
from traceability.check import run_check

NEW_REQ = """
  - id: SRS-999
    title: A new safety requirement
    statement: The regulator shall do something new within 5 ms.
    rationale: Added by a test to show that an untested requirement fails (HAZ-01).
    kind: safety
    verification: test
    status: implemented
    parent: UN-08
"""
SRS005 = """  - id: SRS-005
    title: Hard current limit 30 mA"""


@pytest.mark.req("SRS-101")
def test_consistent_copy_passes(repo, capsys):
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert "0 error(s)" in out


@pytest.mark.req("SRS-101")
def test_removing_a_marker_makes_the_requirement_unverified(repo, capsys):
    repo.replace("tests/test_synthetic.py", '@pytest.mark.req("SRS-005")\n', "")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-005: field 'verification': implemented safety requirement has no passing test evidence" in out
    assert "marker no longer names SRS-005" in out  # the old result is stale, not evidence


@pytest.mark.req("SRS-101")
def test_adding_a_requirement_with_no_test_fails(repo, capsys):
    repo.write("spec/requirements.yaml", repo.read("spec/requirements.yaml") + NEW_REQ)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-999: field 'verification': implemented safety requirement has no passing test evidence" in out
    assert "SRS-999: new item, not yet reviewed" in out


@pytest.mark.req("SRS-101")
def test_deleting_a_control_leaves_dangling_references(repo, capsys):
    text = repo.read("hazard_analysis/risk_controls.yaml")
    start = text.index("  - id: RC-09")
    end = text.index("  - id: RC-10")
    repo.write("hazard_analysis/risk_controls.yaml", text[:start] + text[end:])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "hazard_analysis/hazards.yaml" in out and "HS-03: field 'controls': dangling: RC-09" in out


@pytest.mark.req("SRS-101", "SRS-100")
def test_duplicating_an_id_fails_naming_both_places(repo, capsys):
    text = repo.read("spec/requirements.yaml")
    start = text.index(SRS005)
    end = text.index("  - id: SRS-006")
    repo.write("spec/requirements.yaml", text + text[start:end].replace("Hard current", "Copy of hard current"))
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    line = text[:start].count("\n") + 1
    assert f"SRS-005: field 'id': duplicate id (first defined at spec/requirements.yaml:{line})" in out


@pytest.mark.req("SRS-101", "SRS-102")
def test_editing_a_requirement_text_makes_it_and_its_links_suspect(repo, capsys):
    repo.replace("spec/requirements.yaml", "REG_HARD_LIMIT_UA = 30 mA", "REG_HARD_LIMIT_UA = 35 mA")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-005: text changed since its last review (suspect)" in out
    assert "RC-01: field 'link': suspect link to SRS-005" in out
    # the review records it; the check passes again
    rc, out = repo.run(capsys, "review", "SRS-005")
    assert rc == 0, out
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out


@pytest.mark.req("SRS-101")
def test_requirement_without_parent_fails(repo, capsys):
    repo.replace("spec/requirements.yaml", SRS005, SRS005)  # anchor exists
    text = repo.read("spec/requirements.yaml")
    i = text.index(SRS005)
    j = text.index("    parent: UN-08", i)
    repo.write("spec/requirements.yaml", text[:j] + text[j + len("    parent: UN-08\n"):])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-005: field 'parent': requirement has no parent user need" in out


@pytest.mark.req("SRS-101")
def test_dangling_parent_fails(repo, capsys):
    text = repo.read("spec/requirements.yaml")
    i = text.index(SRS005)
    j = text.index("    parent: UN-08", i)
    repo.write("spec/requirements.yaml", text[:j] + "    parent: UN-99" + text[j + len("    parent: UN-08"):])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-005: field 'parent': dangling: UN-99 is not a known user need" in out


@pytest.mark.req("SRS-101")
def test_hazard_without_control_fails(repo, capsys):
    repo.replace("hazard_analysis/hazards.yaml", "controls: [RC-02, RC-01, RC-03, RC-04]", "controls: []")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "HAZ-01: field 'situations.HS-01.controls': hazard has no control" in out


@pytest.mark.req("SRS-101")
def test_control_without_requirement_fails(repo, capsys):
    repo.replace("hazard_analysis/risk_controls.yaml", "requirements: [SRS-012, SRS-311]", "requirements: []")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "RC-09: field 'requirements': risk control names no requirement" in out


@pytest.mark.req("SRS-101")
def test_failing_test_fails_and_shows_on_the_requirement(repo, capsys):
    data = repo.results()
    entry = next(t for t in data["tests"] if t["ids"] == ["SRS-009"])
    entry["outcome"], entry["message"] = "failed", "AssertionError: trip took 3 ticks"
    repo.set_results(data)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert f"{entry['nodeid']}: field 'outcome': test failed (verifies SRS-009)" in out
    a = run_check(repo.root)
    assert a.status["SRS-009"] == "failed"
    assert a.need_status["UN-08"] == "failed" and ("SRS-009", "failed") in a.need_failing["UN-08"]


@pytest.mark.req("SRS-101")
def test_skipped_test_is_no_evidence_for_a_safety_requirement(repo, capsys):
    data = repo.results()
    next(t for t in data["tests"] if t["ids"] == ["SRS-013"])["outcome"] = "skipped"
    repo.set_results(data)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "SRS-013: field 'verification': implemented safety requirement has no passing test evidence" in out


@pytest.mark.req("SRS-101")
def test_a_skipped_test_of_a_verified_safety_requirement_is_named_in_a_warning(repo, capsys):
    """The requirement is verified by its passing test, and the report says
    which of its tests this run lacks, and why."""
    src = repo.read(SYNTH)
    line = src.count("\n") + 2
    repo.write(SYNTH, src + '\n@pytest.mark.req("SRS-013")\ndef test_on_the_real_clock():\n    pass\n')
    data = repo.results()
    passing = next(t for t in data["tests"] if t["ids"] == ["SRS-013"])
    assert passing["outcome"] == "passed"
    skipped = dict(passing, nodeid=f"{SYNTH}::test_on_the_real_clock", line=line, outcome="skipped",
                   message="Skipped: this machine woke the loop 4.2 ms late")
    data["tests"].append(skipped)
    repo.set_results(data)
    rc, out = repo.run(capsys, "check")
    assert rc == 0
    assert (f"SRS-013: field 'verification': 1 of its 2 tests skipped in this run, its verification here "
            f"rests on the others: {skipped['nodeid']} (Skipped: this machine woke the loop 4.2 ms late)") in out
    assert run_check(repo.root).status["SRS-013"] == "verified"
    passing["outcome"] = "skipped"             # none passing: the error, not this warning
    repo.set_results(data)
    rc, out = repo.run(capsys, "check")
    assert rc == 1 and "tests skipped in this run" not in out


@pytest.mark.req("SRS-101")
def test_unknown_id_in_a_marker_fails_before_tests_run(repo, capsys):
    repo.write("tests/test_new.py", 'import pytest\n\n\n@pytest.mark.req("SRS-999")\ndef test_x():\n    pass\n')
    rc, out = repo.run(capsys, "check", "--static")
    assert rc == 1
    assert "tests/test_new.py:4: SRS-999: field 'req marker': test marker names an unknown id" in out


@pytest.mark.req("SRS-101")
def test_unknown_id_in_a_complex_marker_is_found_by_the_ast_scan(repo, capsys):
    repo.write("tests/test_new.py", "import pytest\n\npytestmark = [pytest.mark.req(\n    'SRS-998')]\n\n\n"
               "@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.req('SRS-997'))])\n"
               "def test_x(x):\n    pass\n")
    rc, out = repo.run(capsys, "check", "--static")
    assert rc == 1
    assert "tests/test_new.py:3: SRS-998: field 'req marker'" in out
    assert "tests/test_new.py:7: SRS-997: field 'req marker'" in out


@pytest.mark.req("SRS-101")
def test_unacceptable_residual_risk_fails(repo, capsys):
    text = repo.read("hazard_analysis/hazards.yaml")
    i = text.index("id: HS-09")
    j = text.index("residual_risk: {severity: S3, probability: P1}", i)
    repo.write("hazard_analysis/hazards.yaml",
               text[:j] + "residual_risk: {severity: S3, probability: P4}" + text[j + 46:])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "HS-09: field 'residual_risk': residual risk (S3, P4) is unacceptable per the risk matrix" in out


@pytest.mark.req("SRS-101")
def test_alarp_residual_risk_needs_a_benefit_risk_statement(repo, capsys):
    text = repo.read("hazard_analysis/hazards.yaml")
    i = text.index("id: HS-04")
    j = text.index("        benefit_risk: >-", i)
    k = text.index("  - id: HAZ-03", j)
    repo.write("hazard_analysis/hazards.yaml", text[:j] + text[k:])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "HS-04: field 'benefit_risk': residual risk (S3, P3) is in the ALARP region" in out


@pytest.mark.req("SRS-101")
def test_missing_results_say_run_pytest_first(repo, capsys):
    repo.path("out/test-results/results.json").unlink()
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "out/test-results/results.json: no test results: run pytest first" in out


@pytest.mark.req("SRS-101")
def test_violated_property_fails_naming_it(repo, capsys):
    path = "out/verification/results.json"
    data = json.loads(repo.read(path))
    if not data["properties"]:
        pytest.fail("spec/properties.yaml has no properties to test with")
    data["properties"][0].update(result="violated", counterexample=["start", "fault", "acknowledge"])
    repo.write(path, json.dumps(data))
    pid = data["properties"][0]["id"]
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert f"{pid}: field 'result': property 'violated' by explore; counterexample: start -> fault -> acknowledge" in out


@pytest.mark.req("SRS-101")
def test_dependency_without_soup_entry_fails(repo, capsys):
    text = repo.read("hazard_analysis/soup.yaml")
    i = text.index("  - name: PyYAML")
    j = text.index("  - name: CPython")
    repo.write("hazard_analysis/soup.yaml", text[:i] + text[j:])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "hazard_analysis/soup.yaml: PyYAML: field 'soup': runtime dependency of pyproject.toml has no SOUP entry" in out


@pytest.mark.req("SRS-101")
def test_software_item_without_fmea_fails(repo, capsys):
    repo.replace("hazard_analysis/fmea.yaml", "  - item: history", "  - item: historie")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "hazard_analysis/fmea.yaml: history: field 'items': software item 'history'" in out


@pytest.mark.req("SRS-101")
def test_stale_result_of_a_deleted_test_is_not_evidence(repo, capsys):
    repo.write("tests/test_synthetic.py", "import pytest\n")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "result is stale: this test no longer exists in the source" in out
    assert "SRS-009: field 'verification': implemented safety requirement has no passing" in out


@pytest.mark.req("SRS-101")
def test_the_repository_data_and_markers_are_valid(capsys):
    """The real spec/, hazard_analysis/, review record and test markers: no error
    before evidence (the evidence is checked by `ionto-trace check` after pytest)."""
    from tests.traceability.conftest import REPO
    a = run_check(REPO, static=True)
    assert [str(f) for f in a.errors] == []
    assert len(a.project.reqs) >= 70 and len(a.project.hazards) >= 13
