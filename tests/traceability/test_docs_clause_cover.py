"""Audit findings of issue 10 on the clause map and the detailed design:
not_applicable only for the clauses IEC 62304 makes conditional, each target
covering its activity by its key phrases (SRS-273), and a design note for
every C function of cext/ (SRS-184). Each rule: a
mutated copy of the data that the check refuses, and the real repository
passing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.traceability.conftest import copy_tracked
from traceability.cli import main
from traceability.docs.rules import CLASS_C_ACTIVITIES, CONDITIONAL, RELIED_ON
from traceability.docs.units import all_units, c_units

ROOT = Path(__file__).resolve().parents[2]
CLAUSES = "docs/iec62304_clauses.yaml"


@pytest.fixture
def copy(tmp_path) -> Path:
    return copy_tracked(tmp_path / "repo")


def _errors(capsys, root: Path) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith("ERROR")]


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def _entry(clause: str) -> re.Pattern:
    return re.compile(r'^  - \{clause: "' + re.escape(clause) + r'",.*$', re.M)


@pytest.mark.req("SRS-273", "SRS-182", "SRS-184")
def test_the_repository_passes_the_clause_map_and_design_note_rules(capsys):
    errs = [e for e in _errors(capsys, ROOT) if CLAUSES in e or "docs/design" in e]
    assert errs == []


@pytest.mark.req("SRS-273")
def test_not_applicable_is_refused_for_every_activity_the_standard_does_not_make_conditional(copy, capsys):
    path = copy / CLAUSES
    text = path.read_text()
    for clause in CLASS_C_ACTIVITIES:
        text = _entry(clause).sub(lambda m: f'  - {{clause: "{clause}", activity: "x", not_applicable: " "}}',
                                  text)
    path.write_text(text)
    errs = [e for e in _errors(capsys, copy) if CLAUSES in e]
    for clause in CLASS_C_ACTIVITIES:
        mine = [e for e in errs if f"{CLAUSES}: {clause}: field 'not_applicable'" in e]
        assert len(mine) == 1, (clause, mine)
        if clause in RELIED_ON:   # SRS-286: the architecture relies on it, whatever the rationale
            assert "cannot be not applicable, whatever the rationale says: the architecture relies on it" \
                in mine[0], mine[0]
        elif clause in CONDITIONAL:
            assert f"the rationale must name the condition ({CONDITIONAL[clause][0]})" in mine[0]
            assert "got ' '" in mine[0]
        else:
            assert "cannot be not applicable: IEC 62304 makes only 4.4, 5.3.3, 5.3.4, 5.3.5, 7.1.3, 8.1.2 " \
                   "conditional" in mine[0], mine[0]
    assert len(CLASS_C_ACTIVITIES - set(CONDITIONAL)) == 87


@pytest.mark.req("SRS-273")
def test_a_conditional_clause_is_not_applicable_only_with_a_rationale_naming_its_condition(copy, capsys):
    path = copy / CLAUSES
    text = _entry("5.3.5").sub('  - {clause: "5.3.5", activity: "segregation", not_applicable: '
                               '"no item relies on segregation for risk control"}', path.read_text())
    text = _entry("8.1.2").sub('  - {clause: "8.1.2", activity: "identify SOUP", not_applicable: '
                               '"nothing of the kind is used here at all"}', text)       # 39 chars, no "SOUP"
    text = _entry("4.4").sub('  - {clause: "4.4", activity: "legacy software", not_applicable: "legacy"}', text)
    path.write_text(text)
    errs = [e for e in _errors(capsys, copy) if CLAUSES in e]
    # a rationale naming the condition is no longer enough where the architecture relies on the clause (SRS-286)
    assert [e for e in errs if ": 5.3.5: " in e] == [
        f"ERROR: {CLAUSES}: 5.3.5: field 'not_applicable': class C activity 'segregation' cannot be not "
        f"applicable, whatever the rationale says: the architecture relies on it ({RELIED_ON['5.3.5']}) "
        "[rule: docs]"]
    assert [e for e in errs if ": 8.1.2: field 'not_applicable': class C activity 'identify SOUP' cannot be not "
            "applicable, whatever the rationale says: the architecture relies on it (the device runs on SOUP" in e]
    assert [e for e in errs if ": 4.4: field 'not_applicable': the rationale must name the condition "
            "(applies only where legacy software is used (4.4)): at least 20 characters naming 'legacy'" in e]
    assert [e for e in errs if ": 4.4: field 'not_applicable'" in e and "got 'legacy'" in e]


@pytest.mark.parametrize("rel, old, clauses, phrase", [
    ("docs/plans/development_plan.yaml", "  archive: >-", ["5.8.7"], "archive copy"),
    ("docs/plans/maintenance_plan.yaml", "  change_request_approval: >-", ["6.2.4", "8.2.1"], "approv"),
])
@pytest.mark.req("SRS-273")
def test_a_plan_without_the_activity_its_map_entry_names_fails(copy, capsys, rel, old, clauses, phrase):
    path = copy / rel
    text = path.read_text()
    start = text.index(old)
    end = re.search(r"^  [a-z_]+:", text[start + len(old):], re.M)
    path.write_text(text[:start] + text[start + len(old) + end.start():])
    errs = _errors(capsys, copy)
    for clause in clauses:
        assert [e for e in errs if f"{CLAUSES}: {clause}: field 'covers': '{phrase}' is in none of the targets"
                in e], (clause, errs)


@pytest.mark.req("SRS-273")
def test_a_target_without_the_key_phrase_and_an_entry_without_phrases_fail(copy, capsys):
    path = copy / CLAUSES
    text = path.read_text()
    text = text.replace('satisfied_by: ["doc:problem-reports"], covers: ["trend"]',
                        'satisfied_by: ["doc:problem-reports", "doc:bibliography"], covers: ["trend"]', 1)
    text = text.replace(', covers: ["archive copy", "archived"]', "", 1)
    path.write_text(text)
    errs = _errors(capsys, copy)
    assert [e for e in errs if f"{CLAUSES}: 9.6: field 'satisfied_by': doc:bibliography does not cover "
            "'analyse problems for trends': none of ['trend'] is in it" in e]
    assert [e for e in errs if f"{CLAUSES}: 5.8.7: field 'covers': no key phrase" in e]


@pytest.mark.req("SRS-273")
def test_the_problem_report_log_has_a_trend_analysis(tmp_path, capsys):
    main(["--root", str(ROOT), "docs", "--out", str(tmp_path / "docs")])
    capsys.readouterr()
    md = (tmp_path / "docs/problem-reports.md").read_text()
    n = len(list((ROOT / "problems").glob("PR-*.yaml")))
    assert "## Trend analysis (9.6)" in md
    assert f"Trend analysis of {n} problem report(s)" in md
    hazard_rows = re.findall(r"^\| hazard \| (\S+) \| (\d+) \| (\d+) \| *$", md, re.M)
    assert hazard_rows and sum(int(c) for _, c, _ in hazard_rows) >= n


# ---------------------------------------------------------------- every C function of cext/ is a unit (SRS-184)
C_FILES = ("cext/regulator.c", "cext/arming.c", "cext/runner.c", "cext/hal_sim.c", "cext/hal_template.c", "cext/simload.c")


@pytest.mark.req("SRS-184")
def test_every_function_defined_in_the_c_files_is_a_unit_simload_included():
    units = c_units(ROOT)
    by_file = {f: {u.name for u in units if u.file == f} for f in C_FILES}
    for f in C_FILES:
        # a definition: a name followed by '(' at column 0 or after a type, whose body opens on a line "{"
        lines = (ROOT / f).read_text().splitlines()
        defined = set()
        for i, line in enumerate(lines):
            if line.startswith("{"):
                j = i - 1
                while j > 0 and not re.match(r"^[A-Za-z]", lines[j]):
                    j -= 1
                m = re.search(r"\b([a-z_]\w*)\(", lines[j])
                if m:
                    defined.add(m.group(1))
        assert defined and defined == by_file[f], (f, defined ^ by_file[f])
    assert {"rt_post", "rt_rows", "make_thread", "to_ts", "hal_template_bind", "board_disconnect",
            "sim_run_rows", "plant_step"} <= {u.name for u in units}
    assert {u.file for u in all_units(ROOT) if u.kind == "C function"} == set(C_FILES)


@pytest.mark.parametrize("unit, file", [("rt_post", "cext/runner.c"), ("monitor_thread", "cext/runner.c"),
                                        ("hal_template_bind", "cext/hal_template.c"),
                                        ("take_event", "cext/hal_sim.c")])
@pytest.mark.req("SRS-184")
def test_deleting_a_runner_or_board_design_note_fails(copy, capsys, unit, file):
    path = copy / "docs/design/runner.md"
    text = path.read_text()
    start = text.index(f"## `{file}:{unit}`\n")
    end = text.find("\n## `", start + 5)
    path.write_text(text[:start] + (text[end + 1:] if end >= 0 else ""))
    errs = _errors(capsys, copy)
    assert [e for e in errs if f"docs/design/: {file}:{unit}: software unit (C function, {file}:" in e
            and f"has no design note: add a section '## `{file}:{unit}`'" in e], errs
