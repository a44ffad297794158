"""`ionto-trace docs` and the documentation rules of `ionto-trace check`
(SRS-180..SRS-182, SRS-184, SRS-185). The rules are tested on a copy of the
tracked files (no .git: also the "without git" case); the generator with git
on the repository itself."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from traceability.cli import main
from traceability.docs import DOCUMENTS
from traceability.docs.units import all_units

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (ROOT / f).is_file()]


@pytest.fixture
def copy(tmp_path, tracked) -> Path:
    """The tracked files of the repository without .git."""
    root = tmp_path / "repo"
    for rel in tracked:
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    return root


def _run(capsys, root: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["--root", str(root), *args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _check(capsys, root: Path) -> tuple[int, str]:
    rc, out, err = _run(capsys, root, "check", "--static")
    return rc, out + err


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


# ---------------------------------------------------------------- the generator (SRS-180)
@pytest.mark.req("SRS-180")
def test_docs_writes_every_document_with_its_clause_the_commit_and_git_history(tmp_path, capsys):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    out = tmp_path / "docs"
    rc, stdout, _ = _run(capsys, ROOT, "docs", "--out", str(out))
    assert rc == 0, stdout
    assert len(DOCUMENTS) == 10
    index = (out / "index.html").read_text()
    for did, title, clause in DOCUMENTS:
        html, md = (out / f"{did}.html").read_text(), (out / f"{did}.md").read_text()
        assert f'href="{did}.html"' in index
        for text in (html, md):
            assert f"IEC 62304 clause {clause}" in text, did
            assert head in text, did
            assert "Revision history unavailable" not in text, did
        # at least one revision row: a short hash, a date, an author, a subject
        assert re.search(r"\| `[0-9a-f]{7,}` \| \d{4}-\d\d-\d\d \| [^|]+ \| [^|]+ \|", md), did
        # the closing listing names the document, its size and what it is generated from
        line = next(x for x in stdout.splitlines() if x.strip().startswith(f"{did}.html/.md"))
        assert re.search(r"\d+\.\d KiB", line) and f"IEC 62304 {clause}" in line and " from " in line


@pytest.mark.req("SRS-180", "SRS-184")
def test_detailed_design_has_every_unit_with_interface_and_note(tmp_path, capsys):
    out = tmp_path / "docs"
    assert _run(capsys, ROOT, "docs", "--out", str(out))[0] == 0
    md = (out / "detailed-design.md").read_text()
    units = all_units(ROOT)
    assert sum(u.kind == "C function" for u in units) >= 37 and sum(u.kind == "Python module" for u in units) >= 20
    for u in units:
        assert f"## {u.name} ({u.kind}, {u.file}:{u.line})" in md, u.name
    assert "MISSING: no design note" not in md
    assert "int32_t reg_tick(reg_state_t *reg, const reg_inputs_t *in, reg_output_t *out)" in md


@pytest.mark.req("SRS-180", "SRS-181")
def test_release_record_lists_open_problem_reports_with_their_risk_and_exact_soup_versions(tmp_path, capsys):
    out = tmp_path / "docs"
    assert _run(capsys, ROOT, "docs", "--out", str(out))[0] == 0
    md = (out / "release-record.md").read_text()
    assert "| version | 0.1.0 |" in md
    assert re.search(r"\| PR-021 \| [^|]+ \| S3 \| P1 \| ", md)
    assert "| cffi | 2.1.1 | 2.1.1 |" in md and "| SPIN | 6.5.2 | 6.5.2 |" in md
    assert "PR-001" not in md.split("## Verification summary")[0]   # closed reports are not residual


@pytest.mark.req("SRS-180")
def test_without_git_every_document_says_why_the_history_is_missing(copy, tmp_path, capsys):
    out = tmp_path / "docs"
    rc, stdout, err = _run(capsys, copy, "docs", "--out", str(out))
    assert rc == 0, stdout + err
    assert "warning: revision history unavailable:" in err and "not a git checkout" in err
    for did, _, _ in DOCUMENTS:
        text = (out / f"{did}.md").read_text()
        assert "Revision history unavailable:" in text and "build the documents from a git clone" in text, did
        assert "commit `unknown`" in text


# ---------------------------------------------------------------- the repository passes the rules
@pytest.mark.req("SRS-181", "SRS-182", "SRS-184", "SRS-185")
def test_the_repository_satisfies_every_documentation_rule(capsys):
    rc, out = _check(capsys, ROOT)
    bad = [x for x in out.splitlines() if x.startswith("ERROR") and
           any(k in x for k in ("problems/", "iec62304_clauses", "docs/design", "bibliography"))]
    assert not bad, "\n".join(bad)
    assert "documentation records not found" not in out


# ---------------------------------------------------------------- problem reports (SRS-181)
@pytest.mark.req("SRS-181")
def test_open_problem_report_without_risk_evaluation_fails(copy, capsys):
    path = copy / "problems/PR-021.yaml"
    path.write_text(path.read_text().split("risk_evaluation:")[0])
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "problems/PR-021.yaml: PR-021: field 'risk_evaluation': open problem report without a risk evaluation" in out


@pytest.mark.req("SRS-181")
def test_closed_problem_report_without_a_test_fails(copy, capsys):
    path = copy / "problems/PR-024.yaml"
    text = re.sub(r"tests:\n(- .*\n)+", "tests: []\n", path.read_text())
    path.write_text(text)
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "problems/PR-024.yaml: PR-024: field 'tests': closed problem report without the test that verifies its fix" in out


@pytest.mark.req("SRS-181")
def test_problem_report_naming_a_missing_test_or_unknown_ids_fails(copy, capsys):
    _edit(copy, "problems/PR-024.yaml", "test_a_duplicate_key_refuses_the_file_naming_key_and_line",
          "test_that_was_renamed")
    _edit(copy, "problems/PR-024.yaml", "- SRS-083", "- SRS-999")
    _edit(copy, "problems/PR-024.yaml", "- HAZ-12", "- HAZ-99")
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "PR-024: field 'tests': tests/core/test_scenarios.py::test_that_was_renamed is not a test" in out
    assert "PR-024: field 'requirements': dangling: SRS-999 is not a known requirement" in out
    assert "PR-024: field 'hazards': dangling: HAZ-99 is not a known hazard or situation" in out


@pytest.mark.req("SRS-181")
def test_problem_report_with_a_bad_status_names_file_and_field(copy, capsys):
    _edit(copy, "problems/PR-001.yaml", "status: closed", "status: fixed")
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert re.search(r"problems/PR-001\.yaml.*status: Input should be 'open' or 'closed'", out), out


# ---------------------------------------------------------------- clause map (SRS-182)
@pytest.mark.req("SRS-182")
def test_clause_with_nothing_that_satisfies_it_fails(copy, capsys):
    _edit(copy, "docs/iec62304_clauses.yaml",
          '{clause: "9.6", activity: "analyse problems for trends", satisfied_by: ["doc:problem-reports"], '
          'covers: ["trend"], requires: ["maintenance_plan.yaml:trend_analysis"]}',
          '{clause: "9.6", activity: "analyse problems for trends", satisfied_by: [], covers: ["trend"], '
          'requires: ["maintenance_plan.yaml:trend_analysis"]}')
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert ("docs/iec62304_clauses.yaml: 9.6: field 'satisfied_by': class C activity 'analyse problems for trends' "
            "has no document, record or check that satisfies it") in out


@pytest.mark.req("SRS-182")
def test_clause_pointing_to_a_missing_file_or_unknown_document_fails(copy, capsys):
    (copy / "scripts/cppcheck.sh").unlink()
    _edit(copy, "docs/iec62304_clauses.yaml", '"doc:maintenance-plan", "file:docs/plans/maintenance_plan.yaml"',
          '"doc:maintenance-handbook"')
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "5.1.12: field 'satisfied_by': file:scripts/cppcheck.sh: file not found" in out
    assert "6.1: field 'satisfied_by': doc:maintenance-handbook: no such document in the set" in out


@pytest.mark.req("SRS-182")
def test_every_class_c_clause_of_4_to_9_is_in_the_map():
    import yaml
    clauses = {c["clause"] for c in yaml.safe_load((ROOT / "docs/iec62304_clauses.yaml").read_text())["clauses"]}
    expected = ({"4.1", "4.2", "4.3", "4.4"} | {f"5.1.{i}" for i in range(1, 13)} | {f"5.2.{i}" for i in range(1, 7)}
                | {f"5.3.{i}" for i in range(1, 7)} | {f"5.4.{i}" for i in range(1, 5)}
                | {f"5.5.{i}" for i in range(1, 6)} | {f"5.6.{i}" for i in range(1, 9)}
                | {f"5.7.{i}" for i in range(1, 6)} | {f"5.8.{i}" for i in range(1, 9)} | {"6.1"}
                | {f"6.2.{i}" for i in range(1, 6)} | {"6.3.1", "6.3.2"} | {f"7.1.{i}" for i in range(1, 5)}
                | {"7.2.1", "7.2.2", "7.3.1", "7.3.3"} | {f"7.4.{i}" for i in range(1, 4)}
                | {f"8.1.{i}" for i in range(1, 4)} | {f"8.2.{i}" for i in range(1, 5)} | {"8.3"}
                | {f"9.{i}" for i in range(1, 9)})
    assert expected <= clauses, sorted(expected - clauses)


# ---------------------------------------------------------------- design notes (SRS-184)
@pytest.mark.req("SRS-184")
def test_a_new_c_function_without_a_design_note_fails(copy, capsys):
    _edit(copy, "cext/regulator.c", "static int32_t min_i32(int32_t a, int32_t b)\n{",
          "static int32_t abs_i32(int32_t a)\n{\n    return (a < 0) ? -a : a;\n}\n\n"
          "static int32_t min_i32(int32_t a, int32_t b)\n{")
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert re.search(r"docs/design/: cext/regulator\.c:abs_i32: software unit \(C function, cext/regulator\.c:\d+\) "
                     r"has no design note: add a section '## `cext/regulator\.c:abs_i32`'", out)


@pytest.mark.req("SRS-184")
def test_a_module_without_a_note_and_a_note_without_a_unit_fail(copy, capsys):
    (copy / "core/newmodule.py").write_text('"""A new module."""\n')
    _edit(copy, "docs/design/regulator.md", "## `cext/regulator.c:max_i32`", "## `cext/regulator.c:max_int32`")
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "docs/design/: core/newmodule.py: software unit (Python module, core/newmodule.py:1) has no design note" in out
    assert re.search(r"docs/design/regulator\.md:\d+: cext/regulator\.c:max_int32: design note for a unit that is "
                     r"not in the code", out)
    assert "docs/design/: cext/regulator.c:max_i32: software unit (C function" in out


# ---------------------------------------------------------------- bibliography (SRS-185)
@pytest.mark.req("SRS-185")
def test_a_cited_source_key_missing_from_the_bibliography_fails(copy, capsys):
    path = copy / "docs/bibliography.yaml"
    text = path.read_text()
    start = text.index("- key: HXS\n")
    end = text.index("- key:", start + 5)
    path.write_text(text[:start] + text[end:])
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "docs/bibliography.yaml: HXS: field 'sources': source key cited by the requirements or the risk file" in out


@pytest.mark.req("SRS-185")
def test_the_repository_cites_no_file_outside_it(tracked):
    for rel in tracked:
        if rel.endswith((".py", ".yaml", ".md", ".h", ".c", ".sh", ".toml")) and rel not in (
                "docs/domain.md", "docs/design_rules.md", "tests/traceability/test_docs.py"):
            assert "../shared/" not in (ROOT / rel).read_text(encoding="utf-8"), rel


@pytest.mark.req("SRS-180")
def test_verification_report_says_whether_the_results_are_for_the_documents_commit(tmp_path, capsys):
    import json
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"],
                           capture_output=True, text=True, check=True).stdout.strip()
    commit = head + (" + uncommitted changes" if dirty else "")
    for run_commit, expected in ((commit, "the same commit as these documents"),
                                 ("0" * 40, "NOT the commit of these documents")):
        results = tmp_path / "results.json"
        results.write_text(json.dumps({"schema": 1, "tests": [], "runs": [
            {"run_id": "r1", "finished": "2026-11-30T00:00:00+00:00", "full": True, "commit": run_commit}]}))
        out = tmp_path / "docs"
        assert _run(capsys, ROOT, "docs", "--out", str(out), "--results", str(results))[0] == 0
        md = (out / "verification.md").read_text()
        assert f"last run r1 finished 2026-11-30T00:00:00+00:00 (full suite) at commit {run_commit}; {expected}" in md


@pytest.mark.req("SRS-180")
def test_an_output_path_that_cannot_be_written_is_one_error_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    rc, out, err = _run(capsys, ROOT, "docs", "--out", str(blocker / "docs"))
    assert rc == 1
    assert err.strip().splitlines()[-1].startswith(f"ionto-trace: error: cannot write the documents to {blocker / 'docs'}: ")
    assert "Traceback" not in out + err


@pytest.mark.req("SRS-181")
def test_a_problem_report_that_does_not_load_fails_docs_naming_the_file(copy, tmp_path, capsys):
    (copy / "problems/PR-099.yaml").write_text("id: PR-099\ntitle: [unclosed\n")
    rc, out, err = _run(capsys, copy, "docs", "--out", str(tmp_path / "docs"))
    assert rc == 1
    assert "ERROR: problems/PR-099.yaml: not valid YAML" in out


@pytest.mark.req("SRS-183")
def test_a_soup_review_older_than_the_maintenance_plan_allows_warns_and_a_future_one_fails(copy, capsys):
    path = copy / "hazard_analysis/soup.yaml"
    text = path.read_text()
    path.write_text(text.replace("reviewed: 2026-11-30", "reviewed: 2020-01-01", 1))
    from traceability.data import load_project
    from traceability.lock import review
    review(load_project(copy), ["SOUP:cffi"])   # the entry is fingerprinted (SRS-288): its edit is reviewed
    rc, out = _check(capsys, copy)
    assert rc == 0
    assert re.search(r"WARNING: hazard_analysis/soup\.yaml: cffi: field 'anomalies\.reviewed': known-anomaly review "
                     r"is \d+ days old \(the maintenance plan asks for one at least every 92 days\)", out), out
    path.write_text(text.replace("reviewed: 2026-11-30", "reviewed: 2999-01-01", 1))
    rc, out = _check(capsys, copy)
    assert rc == 1
    assert "ERROR: hazard_analysis/soup.yaml: cffi: field 'anomalies.reviewed': review date 2999-01-01 is in the future" in out


@pytest.mark.req("SRS-186")
def test_docs_without_the_report_extra_is_one_error_line_naming_the_extra(tmp_path, capsys, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_jinja(name, *args, **kwargs):
        if name == "jinja2" or name.startswith("jinja2."):
            raise ImportError("No module named 'jinja2'")
        return real(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "traceability.docs.build", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_jinja)
    rc, out, err = _run(capsys, ROOT, "docs", "--out", str(tmp_path / "docs"))
    assert rc == 1
    assert err.strip() == ("ionto-trace: error: the documents need the report extra "
                           "(pip install 'ionto-core[report]'): No module named 'jinja2'")
    assert not (tmp_path / "docs").exists()
