"""`ionto-trace report`: a site (one page per part) + Markdown with every section (SRS-103, SRS-107)."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from traceability.check import run_check
from traceability.report import write_report

SECTIONS = [("index.html", "Summary"), ("risk.html", "Risk matrix before and after controls"),
            ("risk.html", "Hazards: situation -&gt; harm -&gt; controls -&gt; requirements -&gt; tests"),
            ("requirements.html", "Requirements and their verification, by user need"),
            ("verification.html", "Unverified and suspect"),
            ("verification.html", "Therapy state machine"), ("verification.html", "Reference simulated session"),
            ("verification.html", "Benchmarks"), ("soup.html", "SOUP (runtime dependencies)"),
            ("findings.html", "Check findings")]
PICTURES = {"risk_before.svg": "risk.html", "risk_after.svg": "risk.html", "state_machine.svg": "verification.html",
            "session.png": "verification.html"}
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
    md = (out / "report.md").read_text()
    for file, title in SECTIONS:
        assert f">{title}</h2>" in (out / file).read_text(), title
        assert f"## {title.replace('-&gt;', '->')}" in md, title
    for pic, file in PICTURES.items():
        assert (out / pic).stat().st_size > 0, pic
        assert f'src="{pic}"' in (out / file).read_text() and f"]({pic})" in md
    assert (out / "state_machine.svg").read_text() == SVG  # the verifier's diagram is used as is
    page = (out / "index.html").read_text()
    assert "Built " in page and " from commit " in page
    assert "<b>ionto-trace check: PASSED</b>" in page


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
    # the only unacceptable residual cells are the plan's open risks (SRS-297), counted where they lie
    open_cells = Counter(f"{s.residual_risk.severity}/{s.residual_risk.probability}"
                         for sid, (_, s) in a.project.situations.items() if sid in a.project.plan.open_risk)
    shown = {m.group(1): int(m.group(2)) for m in re.finditer(r"<title>(S\d/P\d): unacceptable, (\d+)</title>", after)}
    assert open_cells == Counter({"S5/P3": 2})   # HS-14, HS-34
    assert {k: v for k, v in shown.items() if v} == dict(open_cells)


@pytest.mark.req("SRS-297")
def test_the_summary_says_the_overall_residual_risk_is_not_acceptable_naming_each_open_risk(repo, tmp_path):
    a = run_check(repo.root)
    write_report(a, tmp_path)
    listed = a.project.plan.open_risk
    assert len(listed) == 15     # FM-SM-01 closed by the C checklist gate (RC-93); FM-REG-12 opened by PR-075 (pulsed settled pair), closed by RC-96
    page = (tmp_path / "index.html").read_text()
    md = (tmp_path / "report.md").read_text()
    box = page[page.index('id="verdict"'):page.index("</section>")]   # beside the verdict, not in a sub-page
    assert "<b>Overall residual risk: not acceptable.</b> 15 residual risk(s)" in box
    assert f"**Overall residual risk: not acceptable.** 15 residual risk(s)" in md
    for oid in listed:
        assert f">{oid}</a>" in box and oid in md, oid


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
    page = (tmp_path / "requirements.html").read_text()
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
    for name in ("cffi", "pydantic", "python-statemachine", "PyYAML"):
        assert f"| {name} | {md_.version(name)} | " in md, name


# ---------------------------------------------------------------- the site (SRS-107)
def _site(repo, tmp_path, capsys):
    out = tmp_path / "site"
    rc, msg = repo.run(capsys, "report", "--out", str(out))
    assert rc == 0, msg
    return out


@pytest.mark.req("SRS-107")
def test_every_id_has_one_anchor_and_links_both_ways(repo, tmp_path, capsys):
    out = _site(repo, tmp_path, capsys)
    a = run_check(repo.root)
    p = a.project
    pages = {f: (out / f).read_text() for f in ("risk.html", "requirements.html", "verification.html")}
    homes = {**{i: "requirements.html" for i in [*p.needs, *p.reqs]},
             **{i: "risk.html" for i in [*p.hazards, *p.situations, *p.controls, *p.fmea]},
             **{i: "verification.html" for i in p.props}}
    for item, page in homes.items():
        assert pages[page].count(f'id="{item}"') == 1, item
    # control -> requirement and requirement -> control (backlink), hazard -> control and back
    c = next(c for c in p.controls.values() if c.requirements)
    rid = c.requirements[0]
    row = pages["requirements.html"].split(f'<tr id="{rid}">', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="risk.html#{c.id}">{c.id}</a>' in row
    hz = next(h for h in p.hazards.values() if any(c.id in s.controls for s in h.situations))
    assert f'<a href="risk.html#{hz.id}">{hz.id}</a>' in row
    crow = pages["risk.html"].split(f'<tr id="{c.id}">', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="requirements.html#{rid}">{rid}</a>' in crow
    assert f'<a href="risk.html#{hz.id}">{hz.id}</a>' in crow


@pytest.mark.req("SRS-107")
def test_parametrised_cases_fold_into_one_line_with_their_count(repo, tmp_path, capsys):
    data = repo.results()
    base = data["tests"][0]
    cases = [dict(base, nodeid=f"{base['nodeid']}[{i}]") for i in range(97)]
    data["tests"] = data["tests"][1:] + cases
    repo.set_results(data)
    out = _site(repo, tmp_path, capsys)
    rid = base["ids"][0]
    row = (out / "requirements.html").read_text().split(f'<tr id="{rid}">', 1)[1].split("</tr>", 1)[0]
    assert row.count(f"<code>{base['nodeid']}</code>") == 1 and "&times;97" in row and "97 passed" in row
    assert f"x97 ({base['file']}:{base['line']})" in (out / "report.md").read_text()


@pytest.mark.req("SRS-107")
def test_trace_matrix_counts_and_links_every_hazard_control_and_requirement(repo, tmp_path, capsys):
    out = _site(repo, tmp_path, capsys)
    a = run_check(repo.root)
    page = (out / "matrix.html").read_text()
    for h in a.project.hazards.values():
        assert f'<a href="risk.html#{h.id}">{h.id}</a>' in page
        for s in h.situations:
            for cid in s.controls:
                assert f'<a href="risk.html#{cid}">{cid}</a>' in page
                for rid in a.project.controls[cid].requirements:
                    assert f'<a href="requirements.html#{rid}">{rid}</a>' in page
    assert f"{len(a.project.hazards)} hazards, {len(a.project.controls)} risk controls" in page


@pytest.mark.req("SRS-107")
def test_search_index_print_stylesheet_and_templates(repo, tmp_path, capsys):
    import json as _json
    from pathlib import Path
    out = _site(repo, tmp_path, capsys)
    text = (out / "search_index.js").read_text()
    entries = _json.loads(text[text.index("=") + 1:].strip().rstrip(";"))
    ids = {e["i"] for e in entries}
    p = run_check(repo.root).project
    assert set(p.reqs) | set(p.needs) | set(p.hazards) | set(p.controls) | set(p.props) <= ids
    assert "@media print" in (out / "style.css").read_text()
    for page in ("index", "risk", "requirements", "matrix", "verification", "soup", "findings", "search"):
        html = (out / f"{page}.html").read_text()
        assert '<link rel="stylesheet" href="style.css">' in html and 'id="q"' in html, page
    # laid out by templates: the module builds data, it holds no markup
    import traceability.report as rep
    src = Path(rep.__file__).read_text()
    assert "<table" not in src and "<td" not in src and "<h2" not in src


@pytest.mark.req("SRS-107")
def test_verdict_says_not_yet_verified_before_the_tests_run(repo, tmp_path, capsys):
    repo.path("out/test-results/results.json").unlink()
    rc, msg = repo.run(capsys, "report", "--out", str(tmp_path / "site"))
    assert rc == 0 and msg.count("report: ") == 1, msg
    assert "verdict: NOT YET VERIFIED" in msg and "FAILED" not in msg
    page = (tmp_path / "site" / "index.html").read_text()
    assert "<b>ionto-trace check: NOT YET VERIFIED</b>" in page and "the tests have not run yet" in page
    # a real error is still a failure
    repo.replace("spec/requirements.yaml", "parent: UN-09", "parent: UN-99")
    rc, msg = repo.run(capsys, "report", "--out", str(tmp_path / "site2"))
    assert "verdict: FAILED" in msg
