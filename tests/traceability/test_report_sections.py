"""The audit report renders the IEC 62304 clause map and the bibliography
(SRS-220): a page each and a section each in report.md, every clause with
every target and whether it exists, every source key with its source."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from traceability.cli import main
from traceability.docs import DOC_IDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert main(["--root", str(ROOT), "report", "--out", str(out)]) == 0
    return out


def _row(page: str, row_id: str) -> str:
    m = re.search(rf'<tr id="{re.escape(row_id)}">(.*?)</tr>', page, re.S)
    assert m, row_id
    return html.unescape(m.group(1))


def _md_row(md: str, first_cell: str) -> str:
    rows = [x for x in md.splitlines() if x.startswith(f"| {first_cell} | ")]
    assert len(rows) == 1, (first_cell, rows)
    return rows[0]


@pytest.mark.req("SRS-220")
def test_every_clause_of_the_map_is_in_the_report_with_each_target_found(report):
    clauses = yaml.safe_load((ROOT / "docs/iec62304_clauses.yaml").read_text())["clauses"]
    assert len(clauses) >= 93
    page = (report / "clauses.html").read_text()
    md = (report / "report.md").read_text().split("## IEC 62304 clause map", 1)[1].split("## Bibliography")[0]
    assert f"activities: {len(clauses)}; " in md and "; missing or dangling: 0." in md
    for c in clauses:
        row, mrow = _row(page, f"clause-{c['clause']}"), _md_row(md, c["clause"])
        assert c["activity"] in row and c["activity"] in mrow
        if not c.get("satisfied_by"):
            assert f"not applicable: {c['not_applicable']}" in row and "not applicable" in mrow
        for t in c.get("satisfied_by", []):
            kind, _, name = t.partition(":")
            shown = f"{name}.html" if kind == "doc" else name
            assert f"<code>{shown}</code>" in row and f"`{shown}`" in mrow, t
            assert (name in DOC_IDS) if kind == "doc" else any(ROOT.glob(name)), t
        assert "MISSING" not in mrow and "NOTHING" not in mrow
        assert "st-failed" not in row


@pytest.mark.req("SRS-220")
def test_every_source_key_is_in_the_report_with_its_source_and_citing_files(report):
    sources = yaml.safe_load((ROOT / "docs/bibliography.yaml").read_text())["sources"]
    assert len(sources) >= 30
    page = (report / "bibliography.html").read_text()
    md = (report / "report.md").read_text().split("## Bibliography of the domain facts", 1)[1]
    for s in sources:
        row, mrow = _row(page, f"bib-{s['key']}"), _md_row(md, s["key"])
        assert s["source"] in row and s["source"].replace("|", "\\|") in mrow, s["key"]
    # a key the requirements cite names spec/requirements.yaml among its citing files
    cited = re.findall(r"\[([A-Z][A-Z0-9-]+)\]", (ROOT / "spec/requirements.yaml").read_text())
    key = next(k for k in cited if k in {s["key"] for s in sources})
    assert "spec/requirements.yaml" in _row(page, f"bib-{key}")


@pytest.mark.req("SRS-220")
def test_both_pages_are_in_every_page_navigation_and_the_markdown_once(report):
    for page in ("index.html", "risk.html", "soup.html", "clauses.html", "bibliography.html"):
        text = (report / page).read_text()
        assert '<a href="clauses.html"' in text and '<a href="bibliography.html"' in text, page
    md = (report / "report.md").read_text()
    assert md.count("\n## IEC 62304 clause map\n") == 1 and md.count("\n## Bibliography of the domain facts\n") == 1
    assert md.index("## Check findings") < md.index("## IEC 62304 clause map")


@pytest.mark.req("SRS-220")
def test_a_dangling_target_and_an_activity_with_nothing_are_marked_in_the_report(repo, tmp_path, capsys):
    repo.write("scripts/present.sh", "#!/bin/sh\n")
    repo.write("docs/iec62304_clauses.yaml", yaml.safe_dump({
        "schema_version": 1, "standard": "IEC 62304 test", "clauses": [
            {"clause": "5.1.1", "activity": "plan",
             "satisfied_by": ["doc:development-plan", "file:scripts/present.sh"]},
            {"clause": "5.1.12", "activity": "defects", "satisfied_by": ["file:scripts/gone.sh", "doc:handbook"]},
            {"clause": "9.6", "activity": "trends", "satisfied_by": []},
            {"clause": "4.4", "activity": "legacy", "not_applicable": "no legacy software here"}]}))
    out = tmp_path / "report"
    rc, msg = repo.run(capsys, "report", "--out", str(out))
    assert rc == 0 and "verdict: FAILED" in msg, msg    # the check fails; the report is still written
    page = (out / "clauses.html").read_text()
    assert "st-failed" not in _row(page, "clause-5.1.1") and "1 file(s)" in _row(page, "clause-5.1.1")
    bad = _row(page, "clause-5.1.12")
    assert "scripts/gone.sh</code>: not found" in bad and "handbook.html</code>: not a document of the set" in bad
    assert bad.count("st-failed") == 2
    assert "st-failed" in _row(page, "clause-9.6") and "nothing" in _row(page, "clause-9.6")
    assert "not applicable: no legacy software here" in _row(page, "clause-4.4")
    md = (out / "report.md").read_text()
    assert "activities: 4; satisfied: 1; not applicable: 1; missing or dangling: 2." in md
    assert "| 9.6 | trends | NOTHING |" in md
    assert "file `scripts/gone.sh`: not found (MISSING)" in md


@pytest.mark.req("SRS-220")
def test_without_the_records_the_report_says_which_file_is_missing(repo, tmp_path, capsys):
    out = tmp_path / "report"
    repo.run(capsys, "report", "--out", str(out))
    assert "docs/iec62304_clauses.yaml: file not found" in (out / "clauses.html").read_text()
    assert "docs/bibliography.yaml: file not found" in (out / "bibliography.html").read_text()
    md = (out / "report.md").read_text()
    assert "Not available: docs/iec62304_clauses.yaml: file not found" in md
    assert "Not available: docs/bibliography.yaml: file not found" in md
