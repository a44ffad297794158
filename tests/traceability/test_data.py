"""Data files are validated on load: duplicate keys, unknown or missing fields,
bad values are errors naming file, line, id and field (SRS-100)."""
from __future__ import annotations

import pytest

from traceability.check import run_check


def _errors(repo) -> list[str]:
    return [str(f) for f in run_check(repo.root, static=True).errors]


@pytest.mark.req("SRS-100")
def test_duplicate_key_is_an_error_with_its_line(repo):
    text = repo.read("spec/requirements.yaml")
    i = text.index("  - id: SRS-012")
    j = text.index("    kind: safety", i)
    repo.write("spec/requirements.yaml", text[:j] + "    kind: functional\n" + text[j:])
    line = text[:j].count("\n") + 1
    errs = _errors(repo)
    assert any(f"spec/requirements.yaml: line {line + 1}: duplicate key 'kind' (first at line {line})" in e
               for e in errs), errs


@pytest.mark.req("SRS-100")
def test_unknown_field_names_id_and_field(repo):
    repo.replace("spec/requirements.yaml", "  - id: SRS-012\n", "  - id: SRS-012\n    colour: red\n")
    assert any("SRS-012: field 'colour': unknown field (not allowed)" in e for e in _errors(repo))


@pytest.mark.req("SRS-100")
def test_missing_field_names_id_and_field(repo):
    text = repo.read("spec/requirements.yaml")
    i = text.index("  - id: SRS-012")
    j = text.index("    rationale:", i)
    k = text.index("    kind:", j)
    repo.write("spec/requirements.yaml", text[:j] + text[k:])
    errs = _errors(repo)
    assert any("SRS-012: field 'rationale': missing (required)" in e for e in errs), errs
    # the id stays known: no cascade of dangling references from RC-09
    assert not any("dangling: SRS-012" in e for e in errs), errs


@pytest.mark.req("SRS-100")
def test_bad_enum_value_names_the_value(repo):
    text = repo.read("spec/requirements.yaml")
    i = text.index("  - id: SRS-012")
    j = text.index("    kind: safety", i)
    repo.write("spec/requirements.yaml", text[:j] + "    kind: safty" + text[j + len("    kind: safety"):])
    errs = _errors(repo)
    assert any("SRS-012: field 'kind': Input should be 'functional', 'safety'" in e and "(got 'safty')" in e
               for e in errs), errs


@pytest.mark.req("SRS-100")
def test_statement_without_shall_is_refused(repo):
    repo.replace("spec/requirements.yaml", "Any reading outside its ADC range (cext/regulator_config.h) shall latch",
                 "Any reading outside its ADC range (cext/regulator_config.h) latches")
    assert any("SRS-014: field 'statement': Value error, a requirement statement must say 'shall'" in e
               for e in _errors(repo))


@pytest.mark.req("SRS-100")
def test_bad_risk_level_and_control_type_are_refused(repo):
    repo.replace("hazard_analysis/risk_controls.yaml", "latches a fault\n    type: protective measure",
                 "latches a fault\n    type: hope")
    repo.replace("hazard_analysis/hazards.yaml", "initial_risk: {severity: S3, probability: P4}",
                 "initial_risk: {severity: S3, probability: Q4}")
    errs = _errors(repo)
    assert any("RC-03: field 'type': Input should be 'inherent safety by design'" in e for e in errs), errs
    assert any("HS-01: field 'initial_risk.probability'" in e and "(got 'Q4')" in e for e in errs), errs
    assert not any("dangling" in e for e in errs), errs  # invalid records stay known ids


@pytest.mark.req("SRS-100")
def test_incomplete_risk_matrix_is_refused(repo):
    repo.replace("hazard_analysis/risk_management_plan.yaml",
                 "  S1: [acceptable, acceptable, acceptable, acceptable, alarp]\n",
                 "  S1: [acceptable, acceptable, acceptable, acceptable]\n")
    assert any("risk_management_plan.yaml" in e and "matrix row S1 has 4 entries" in e for e in _errors(repo))


@pytest.mark.req("SRS-100")
def test_unknown_top_level_field_and_invalid_yaml(repo):
    repo.write("hazard_analysis/risk_controls.yaml", repo.read("hazard_analysis/risk_controls.yaml") + "extra: 1\n")
    repo.write("hazard_analysis/fmea.yaml", "items: [\n")
    errs = _errors(repo)
    assert any("hazard_analysis/risk_controls.yaml: field 'extra': unknown top-level field" in e for e in errs), errs
    assert any("hazard_analysis/fmea.yaml: not valid YAML" in e for e in errs), errs


@pytest.mark.req("SRS-100")
def test_missing_file_is_named(repo):
    repo.path("hazard_analysis/hazards.yaml").unlink()
    assert "ERROR: hazard_analysis/hazards.yaml: file not found [rule: data]" in _errors(repo)
