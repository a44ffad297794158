"""The audit gaps of issue 9 (second audit, G1-G9): each rule of `ionto-trace check`
fires on a corrupted copy of the risk file (tmp_path), naming file, line and rule,
and the real repository passes it (test_the_real_risk_file_passes_every_rule)."""
from __future__ import annotations

import re
import shutil

import pytest

from audit_helpers import REPO, block, edit, errors, expect, line_of
from traceability.check import run_check

HAZARDS = "hazard_analysis/hazards.yaml"
CONTROLS = "hazard_analysis/risk_controls.yaml"
FMEA = "hazard_analysis/fmea.yaml"
PLAN = "hazard_analysis/risk_management_plan.yaml"
REPORT = "hazard_analysis/risk_management_report.yaml"
IFU = "docs/instructions_for_use.md"
NEW_RULES = ("caused-by", "information-last", "control-means", "fmea-severity", "benefit-risk", "open-risk",
             "independent-control", "systematic-probability", "reviewed")


@pytest.fixture(scope="module")
def real():
    """The check of the repository itself (static: the data, the links, the rules)."""
    return run_check(REPO, static=True)


# ---------------------------------------------------------------- the real file
@pytest.mark.req("SRS-241")
def test_the_real_risk_file_passes_every_rule(real):
    assert [str(f) for f in real.errors] == []


@pytest.mark.req("SRS-241")
def test_every_situation_of_the_real_file_names_its_cause(real):
    """G1: all 44 situations, not 6 of 44, are subject to the independence and systematic rules."""
    situations = real.project.situations
    assert len(situations) >= 44
    assert [sid for sid, (_, s) in situations.items() if not s.caused_by] == []


@pytest.mark.req("SRS-241", "SRS-297")
def test_the_real_open_risks_are_shown_one_warning_each(real):
    """G2: the items with no control independent of the cause are not silently accepted: none
    takes a credit (no independence finding at all), each shows its unacceptable residual risk
    as one warning, and the list is exact."""
    plan = real.project.plan
    shown = {f.item: f.message for f in real.warnings if "open risk of" in f.message}
    assert set(shown) == set(plan.open_risk) and len(shown) == 15   # FM-SM-01 closed by RC-93; FM-REG-12 opened by PR-075, closed by RC-96
    for item in plan.open_risk:
        assert "[rule: risk-acceptability]" in shown[item] and "is unacceptable per the risk matrix" in shown[item]
    assert {"HS-14", "HS-34"} <= set(shown)
    assert not [f for f in real.findings if "[rule: independent-control]" in f.message
                or "[rule: information-last]" in f.message]


@pytest.mark.req("SRS-241")
def test_content_fixes_of_the_audit_hold_in_the_real_file(real):
    p = real.project
    # HS-42: the per-site ranges come from the altered file itself, so RC-06 is not credited
    assert "RC-06" not in p.situations["HS-42"][1].controls
    assert p.situations["HS-42"][1].residual_risk.probability == "P3"
    # RC-21's display is shown by the CLI, not carried out by the user
    assert p.controls["RC-21"].implemented_by == "CLI"
    # the checklist relies on the user's declaration, the cause of HS-14 and HS-34
    assert "user declaration" in p.controls["RC-16"].relies_on
    for sid in ("HS-14", "HS-34"):
        assert p.situations[sid][1].caused_by == ["user declaration"]
    # the hazards name sources of harm (energy), the causes moved into the sequences
    for hid in ("HAZ-08", "HAZ-12", "HAZ-13", "HAZ-17", "HAZ-45"):
        text = p.hazards[hid].hazard
        assert re.match(r"(DC electrical energy|cumulative DC dose)", text), (hid, text)
        assert "is in the sequence" in text or "are in the sequences" in text, (hid, text)


# ---------------------------------------------------------------- G1 causes
@pytest.mark.req("SRS-241")
def test_a_situation_without_cause_fails(repo, capsys):
    edit(repo, HAZARDS, "HS-01", "        caused_by: [regulator]\n", "")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-01"), "HS-01", "caused-by", "no cause named")


@pytest.mark.req("SRS-241")
def test_a_situation_that_had_no_cause_is_now_subject_to_independence(repo, capsys):
    """HS-03 was one of the 38 situations the independence rule skipped: credited to the
    preparation information alone, its P4 -> P2 is refused."""
    edit(repo, HAZARDS, "HS-03", "controls: [RC-09, RC-96, RC-03, RC-17]", "controls: [RC-17]")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-03"), "HS-03", "information-last",
           "lowered from P4 to P2", "information for safety (RC-17)")


@pytest.mark.req("SRS-241")
def test_a_situation_caused_by_software_is_rated_as_systematic(repo, capsys):
    edit(repo, HAZARDS, "HS-01", "initial_risk: {severity: S3, probability: P4}",
         "initial_risk: {severity: S3, probability: P3}")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-01"), "HS-01", "systematic-probability",
           "P3 rates a systematic failure of software (regulator) below the plan's P4")


# ---------------------------------------------------------------- G2 information last
@pytest.mark.req("SRS-241")
def test_information_alone_does_not_lower_a_failure_modes_probability(repo, capsys):
    """FM-SUP-03 (supervisor) credited to the session instructions instead of the C loop's
    zero-current polarity change."""
    edit(repo, FMEA, "FM-SUP-03", "controls: [RC-12]", "controls: [RC-45]")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, FMEA, line_of(repo, FMEA, "FM-SUP-03"), "FM-SUP-03", "information-last",
           "lowered from P4 to P1", "information for safety (RC-45)")


@pytest.mark.req("SRS-241")
def test_information_beside_an_independent_protective_measure_passes(repo, capsys):
    """The same row with the C loop's control and the information: no finding."""
    edit(repo, FMEA, "FM-SUP-03", "controls: [RC-12]", "controls: [RC-12, RC-45]")
    repo.run(capsys, "review", "FM-SUP-03")
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out
    assert not [x for x in out.splitlines() if "FM-SUP-03" in x and "rule: information-last" in x]


@pytest.mark.req("SRS-241")
def test_a_control_relying_on_the_cause_is_not_independent(repo, capsys):
    """HS-60's age check relies on the year of birth the user declares: with the cause a false
    declaration, the check is no independent control."""
    edit(repo, HAZARDS, "HS-60", "caused_by: [user]", "caused_by: [user declaration]")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-60"), "HS-60", "independent-control",
           "lowered from P3 to P1 only by controls carried out by checklist, history")


@pytest.mark.req("SRS-241", "SRS-297")
def test_no_plan_entry_exempts_an_item_from_the_independence_rules(repo, capsys):
    """FM-CLI-03 is an open risk; lowered on its own checklist's control, the finding is an
    error (independent-control), and so is the credit taken by an open risk (open-risk)."""
    edit(repo, FMEA, "FM-CLI-03", "controls: [RC-16, RC-43]", "controls: [RC-16]")
    edit(repo, FMEA, "FM-CLI-03", "residual_risk: {severity: S5, probability: P4}",
         "residual_risk: {severity: S5, probability: P1}")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, FMEA, line_of(repo, FMEA, "FM-CLI-03"), "FM-CLI-03", "independent-control")
    expect(out, FMEA, line_of(repo, FMEA, "FM-CLI-03"), "FM-CLI-03", "open-risk", "an open risk takes no credit")
    # HS-14 lowered on the instructions alone: information-last, an error whatever the plan lists
    edit(repo, HAZARDS, "HS-14", "residual_risk: {severity: S5, probability: P3}",
         "residual_risk: {severity: S5, probability: P1}")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-14"), "HS-14", "information-last")


# ---------------------------------------------------------------- G3 means against type
@pytest.mark.req("SRS-241")
def test_a_user_control_resting_on_software_functions_fails(repo, capsys):
    """RC-21 as it was: implemented_by user, though the live view and summary are the CLI's."""
    edit(repo, CONTROLS, "RC-21", "implemented_by: CLI", "implemented_by: user")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, CONTROLS, line_of(repo, CONTROLS, "RC-21"), "RC-21", "control-means",
           "implemented_by user, but SRS-088, SRS-084 are software functions")


@pytest.mark.req("SRS-241")
def test_the_user_carries_out_no_protective_measure_and_hardware_no_information(repo, capsys):
    edit(repo, CONTROLS, "RC-09", "implemented_by: regulator", "implemented_by: user")
    edit(repo, CONTROLS, "RC-43", "implemented_by: user", "implemented_by: hardware")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, CONTROLS, line_of(repo, CONTROLS, "RC-09"), "RC-09", "control-means",
           "the user carries out only information for safety, but RC-09 is typed 'protective measure'")
    expect(out, CONTROLS, line_of(repo, CONTROLS, "RC-43"), "RC-43", "control-means",
           "hardware carries out no information for safety")


@pytest.mark.req("SRS-241")
def test_relies_on_names_a_known_item(repo, capsys):
    edit(repo, CONTROLS, "RC-16", "relies_on: [user declaration]", "relies_on: [the moon]")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, CONTROLS, line_of(repo, CONTROLS, "RC-16"), "RC-16", "control-means", "'the moon'")


# ---------------------------------------------------------------- G7 severity
@pytest.mark.req("SRS-241")
def test_a_severity_lowered_without_an_independent_control_fails(repo, capsys):
    edit(repo, FMEA, "FM-HIS-01", "residual_risk: {severity: S2, probability: P4}",
         "residual_risk: {severity: S1, probability: P4}")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, FMEA, line_of(repo, FMEA, "FM-HIS-01"), "FM-HIS-01", "information-last",
           "the severity is lowered from S2 to S1")


@pytest.mark.req("SRS-241")
@pytest.mark.parametrize("severity", ["S1", "S2", "S4", "S5"])
def test_an_fmea_severity_that_no_situation_of_its_hazards_has_fails(repo, capsys, severity):
    """FM-REG-01 names HAZ-01, whose situations are all S3: any other rating is refused."""
    edit(repo, FMEA, "FM-REG-01", "severity: S3", f"severity: {severity}")
    edit(repo, FMEA, "FM-REG-01", "residual_risk: {severity: S3,", f"residual_risk: {{severity: {severity},")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, FMEA, line_of(repo, FMEA, "FM-REG-01"), "FM-REG-01", "fmea-severity",
           f"{severity} is not the severity of any hazardous situation of HAZ-01 (S3 in")


# ---------------------------------------------------------------- G8 benefit-risk structure
def _set_br(repo, rel: str, item: str, text: str) -> None:
    rec = block(repo, rel, item)
    new = re.sub(r"(?ms)^(\s+)benefit_risk: >-\n(?:\1  .*\n?)+", lambda m: f"{m.group(1)}benefit_risk: >-\n"
                 f"{m.group(1)}  {text}\n", rec)
    assert new != rec
    repo.replace(rel, rec, new)


@pytest.mark.req("SRS-241")
@pytest.mark.parametrize("text, missing", [
    ("Any text at all that says something about the risk.", "the benefit with its source"),
    ("The benefit [MED] outweighs the risk of a lesion.", "the residual risk(s) it weighs, by id"),
    ("The benefit [MED] is large; HS-04 is small.", "the conclusion"),
])
def test_a_benefit_risk_statement_without_its_parts_fails(repo, capsys, text, missing):
    _set_br(repo, HAZARDS, "HS-04", text)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, HAZARDS, line_of(repo, HAZARDS, "HS-04"), "HS-04", "benefit-risk", missing)


@pytest.mark.req("SRS-241")
def test_a_benefit_risk_statement_naming_unknown_ids_or_sources_fails(repo, capsys):
    shutil.copyfile(REPO / "docs/bibliography.yaml", repo.path("docs/bibliography.yaml"))
    _set_br(repo, HAZARDS, "HS-04", "The benefit [MED, NOSUCHKEY] outweighs HS-04 and HS-99.")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    line = line_of(repo, HAZARDS, "HS-04")
    expect(out, HAZARDS, line, "HS-04", "benefit-risk", "cites [NOSUCHKEY], which docs/bibliography.yaml")
    expect(out, HAZARDS, line, "HS-04", "benefit-risk", "names HS-99, which does not exist")
    assert not [x for x in errors(out, "benefit-risk") if "[MED]" in x]


@pytest.mark.req("SRS-241")
def test_the_reports_overall_benefit_risk_is_checked_too(repo, capsys):
    text = repo.read(REPORT)
    start = text.index("benefit_risk: >-")
    end = text.index("\nreport:")
    repo.write(REPORT, text[:start] + "benefit_risk: The benefit [MED] outweighs the overall residual risk." +
               text[end:])
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, REPORT, None, "RMR", "benefit-risk", "the residual risk(s) it weighs, by id")


# ---------------------------------------------------------------- G6 documents reviewed
@pytest.mark.req("SRS-241")
def test_a_changed_ifu_or_risk_report_is_an_unreviewed_change(repo, capsys):
    repo.write(IFU, repo.read(IFU).replace("pacemaker", "hearing aid", 1))
    repo.replace(REPORT, "Evaluated over all", "Looked at over all")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    expect(out, IFU, 1, "IFU", "reviewed", "text changed since its last review", "the whole instructions for use")
    expect(out, REPORT, 1, "RMR", "reviewed", "text changed since its last review")
    # the information controls that cite the instructions become suspect with them
    expect(out, CONTROLS, line_of(repo, CONTROLS, "RC-43"), "RC-43", "reviewed", "suspect link to IFU")
    repo.run(capsys, "review", "IFU", "RMR")
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out


# ---------------------------------------------------------------- G9 every message names its rule
@pytest.mark.req("SRS-241")
def test_every_message_names_its_rule(repo, capsys):
    """A copy broken in many ways at once: every finding, error or warning, carries [rule: NAME]."""
    repo.write(FMEA, "items: [\n")                                   # invalid YAML
    repo.path("hazard_analysis/soup.yaml").unlink()                 # a missing file
    repo.replace("tests/test_synthetic.py", '@pytest.mark.req("SRS-012")',
                 '@pytest.mark.req("SRS-999")')                      # an unknown id
    edit(repo, HAZARDS, "HS-01", "controls: [RC-02, RC-01, RC-03, RC-04]", "controls: [RC-02, RC-98]")
    data = repo.results()
    data["tests"][0]["outcome"] = "failed"                          # a failing test
    data["tests"].append({"nodeid": "tests/gone.py::test_x", "ids": [], "file": "tests/gone.py", "line": 1,
                          "outcome": "passed", "run_id": "synthetic"})
    repo.set_results(data)
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    findings = run_check(repo.root).findings
    assert len(findings) >= 8, out
    assert [str(f) for f in findings if not re.search(r"\[rule: [a-z][a-z-]*\]$", f.message)] == []
    assert {"data", "markers", "evidence", "risk-links", "soup"} <= {
        re.search(r"\[rule: ([a-z-]+)\]$", f.message).group(1) for f in findings}


@pytest.mark.req("SRS-241")
def test_every_message_of_the_real_repository_names_its_rule(real):
    assert [str(f) for f in real.findings if "[rule: " not in f.message] == []
