"""`ionto-trace report`: HTML + Markdown with every section (SRS-103)."""
from __future__ import annotations

import pytest

from traceability.check import run_check
from traceability.report import write_report

SECTIONS = ["Summary", "Risk matrix before and after controls",
            "Hazards: situation -&gt; harm -&gt; controls -&gt; requirements -&gt; tests",
            "Requirements and their verification, by user need", "Unverified and suspect",
            "Therapy state machine", "Reference simulated session", "Benchmarks", "SOUP (runtime dependencies)",
            "Check findings"]
CSV = ("t_s,state,target_mA,reference_mA,current_mA,peak_mA,voltage_V,polarity,fault\n"
       "0.00,ramp,15,0.0,0.0,0.0,0.0,1,NONE\n0.01,ramp,15,0.5,0.49,0.5,1.0,1,NONE\n"
       "0.02,treat,15,15,15.01,15.1,30.0,1,NONE\n0.03,ramp_down,15,7,7.0,7.1,14.0,1,NONE\n")
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>verifier diagram</title></svg>'


@pytest.mark.req("SRS-103")
def test_report_has_every_section_and_picture(repo, tmp_path, capsys):
    repo.write("out/demo-trace.csv", CSV)
    repo.write("out/verification/therapy_machine.svg", SVG)
    out = tmp_path / "report"
    rc, msg = repo.run(capsys, "report", "--out", str(out))
    assert rc == 0, msg
    page = (out / "index.html").read_text()
    md = (out / "report.md").read_text()
    for title in SECTIONS:
        assert f">{title}</h2>" in page, title
        assert f"## {title.replace('-&gt;', '->')}" in md, title
    for pic in ("risk_before.svg", "risk_after.svg", "state_machine.svg", "session.png"):
        assert (out / pic).stat().st_size > 0, pic
        assert f'src="{pic}"' in page and f"]({pic})" in md
    assert (out / "state_machine.svg").read_text() == SVG  # the verifier's diagram is used as is
    assert "Built " in page and " from commit " in page
    assert "<b>ionto-trace check: " in page and "PASSED" in page


@pytest.mark.req("SRS-103")
def test_risk_matrices_count_situations_per_cell(repo, tmp_path):
    a = run_check(repo.root)
    write_report(a, tmp_path)
    before = (tmp_path / "risk_before.svg").read_text()
    after = (tmp_path / "risk_after.svg").read_text()
    n_s3p4 = sum(1 for _, s in a.project.situations.values()
                 if (s.initial_risk.severity, s.initial_risk.probability) == ("S3", "P4"))
    assert f"<title>S3/P4: unacceptable, {n_s3p4}</title>" in before
    n_after = sum(1 for _, s in a.project.situations.values()
                  if (s.residual_risk.severity, s.residual_risk.probability) == ("S3", "P1"))
    assert f"<title>S3/P1: acceptable, {n_after}</title>" in after
    assert "unacceptable, 0</title>" in after and "unacceptable, 1" not in after


@pytest.mark.req("SRS-103")
def test_failing_test_is_shown_on_its_user_need_with_file_and_line(repo, tmp_path):
    data = repo.results()
    entry = next(t for t in data["tests"] if t["ids"] == ["SRS-010"])
    entry.update(outcome="failed", message="AssertionError: drive 7.2 V > 5 V")
    repo.set_results(data)
    write_report(run_check(repo.root), tmp_path)
    md = (tmp_path / "report.md").read_text()
    section = md[md.index("### UN-09 Safe interruption (failed)"):]
    section = section[:section.index("\n### ", 5)]
    assert f"SRS-010: failed `{entry['nodeid']}` ({entry['file']}:{entry['line']})" in section
    gaps = md[md.index("## Unverified and suspect"):md.index("## Therapy state machine")]
    assert "| SRS-010 | Open circuit goes to sense level | safety | failed |" in gaps
    page = (tmp_path / "index.html").read_text()
    assert "AssertionError: drive 7.2 V &gt; 5 V" in page


@pytest.mark.req("SRS-103")
def test_missing_inputs_are_said_clearly(repo, tmp_path):
    repo.path("out/test-results/results.json").unlink()
    write_report(run_check(repo.root), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "not available: out/demo-trace.csv not found" in md
    assert "no test results: run pytest first" in md
    assert "| SRS-005 | Hard current limit 30 mA | safety | unverified |" in md


@pytest.mark.req("SRS-103")
def test_soup_lists_every_runtime_dependency_with_version(repo, tmp_path):
    import importlib.metadata as md_
    write_report(run_check(repo.root), tmp_path)
    md = (tmp_path / "report.md").read_text()
    for name in ("cffi", "pydantic", "python-statemachine", "PyYAML", "pydot", "matplotlib", "reqif"):
        assert f"| {name} | {md_.version(name)} | " in md, name
