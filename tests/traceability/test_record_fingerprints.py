"""Third review of issue 10, finding 1 (SRS-288): problem reports, SOUP entries
and the list of required ones (SOUPREQ, SRS-292), the plans, the clause map and
the design notes are fingerprinted in
spec/links.lock; a changed record without review, a reviewed record deleted
without review and any deleted problem report fail `ionto-trace check --static`
with the file, the record and the rule; problem-report ids have no gap except
the retired ids. Each rule on a copy of the tracked tree, over every record of
each kind at once (each must get its own error)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import static_errors
from traceability.cli import main
from traceability.data import load_project
from traceability.docs.records import load_design_notes, load_retired
from traceability.lock import record_fingerprints, review

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"
PR_FILES = sorted(p.name for p in (ROOT / "problems").glob("PR-*.yaml"))
PR_IDS = [n[:-5] for n in PR_FILES]
KINDS = ["PR-", "SOUP:", "SOUPREQ", "PLAN:", "CLAUSES", "NOTE:"]
REQUIRED = "hazard_analysis/soup_required.yaml"


_errors = static_errors


def _records(root: Path) -> dict[str, str]:
    """record id -> file, as the check sees them."""
    return {rid: f for rid, (f, _) in record_fingerprints(load_project(root)).items()}


def _yaml_edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _change(root: Path, kind: str) -> None:
    """Change every record of one kind the way the reviewer did (a rating lowered, a text edited)."""
    if kind == "PR-":
        for name in PR_FILES:
            def lower(d):
                r = d.get("risk_evaluation")
                if r:   # the reviewer's reproducer: severity and probability lowered (or raised at the floor)
                    r["severity"] = "S2" if r["severity"] == "S1" else "S1"
                    r["probability"] = "P2" if r["probability"] == "P1" else "P1"
                else:
                    d["description"] += " (edited)"
            _yaml_edit(root / "problems" / name, lower)
    elif kind == "SOUP:":
        _yaml_edit(root / SOUP, lambda d: [s.update(purpose=s["purpose"] + " (edited)") for s in d["soup"]])
    elif kind == "SOUPREQ":   # a name taken off the list of required entries (SRS-292)
        _yaml_edit(root / REQUIRED, lambda d: d.update(required=[r for r in d["required"] if r["name"] != "SPIN"]))
    elif kind == "PLAN:":
        for p in (root / "docs/plans").glob("*.yaml"):
            _yaml_edit(p, lambda d: d.update(title=d["title"] + " (edited)"))
    elif kind == "CLAUSES":
        _yaml_edit(root / "docs/iec62304_clauses.yaml", lambda d: d["clauses"][0].update(activity="edited"))
    else:
        for p in (root / "docs/design").glob("*.md"):
            p.write_text(re.sub(r"^(## `[^`]+`\s*)$", r"\1\nEdited.", p.read_text(), flags=re.M))


def _delete(root: Path, kind: str) -> None:
    if kind == "PR-":
        for name in PR_FILES:
            (root / "problems" / name).unlink()
    elif kind == "SOUP:":
        _yaml_edit(root / SOUP, lambda d: d.update(soup=[]))
    elif kind == "SOUPREQ":
        (root / REQUIRED).unlink()
    elif kind == "PLAN:":
        for p in (root / "docs/plans").glob("*.yaml"):
            p.unlink()
    elif kind == "CLAUSES":
        (root / "docs/iec62304_clauses.yaml").unlink()
    else:
        for p in (root / "docs/design").glob("*.md"):
            p.unlink()


@pytest.mark.req("SRS-288")
def test_every_record_kind_is_fingerprinted_and_the_repository_is_reviewed(capsys):
    recs = _records(ROOT)
    for kind in KINDS:
        assert [r for r in recs if r.startswith(kind)], kind
    assert set(PR_IDS) <= set(recs)
    assert len([r for r in recs if r.startswith("NOTE:")]) == len(load_design_notes(ROOT))
    lock = yaml.safe_load((ROOT / "spec/links.lock").read_text())["items"]
    assert set(recs) <= set(lock)
    assert [e for e in _errors(capsys, ROOT) if "[rule: reviewed]" in e or "problem-numbering" in e] == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.req("SRS-288")
def test_a_changed_record_of_every_kind_fails_naming_file_record_and_rule(copy, capsys, kind):
    before = {r: f for r, f in _records(copy).items() if r.startswith(kind)}
    _change(copy, kind)
    errs = _errors(capsys, copy)
    for rid, file in before.items():
        mine = [e for e in errs if e.startswith(f"ERROR: {file}: {rid}: text changed since its last review")
                and e.endswith("[rule: reviewed]")]
        assert len(mine) == 1, (rid, [e for e in errs if rid in e])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.req("SRS-288")
def test_a_deleted_record_of_every_kind_fails_naming_file_record_and_rule(copy, capsys, kind):
    before = {r: f for r, f in _records(copy).items() if r.startswith(kind)}
    _delete(copy, kind)
    errs = _errors(capsys, copy)
    said = ("problem report deleted: problem reports are never deleted: close it" if kind == "PR-"
            else "reviewed record deleted without review")
    for rid, file in before.items():
        file = "docs/design" if kind == "NOTE:" else file   # the lock does not keep which note file held it
        mine = [e for e in errs if e.startswith(f"ERROR: {file}: {rid}: {said}") and e.endswith("[rule: reviewed]")]
        assert len(mine) == 1, (rid, [e for e in errs if rid in e])


@pytest.mark.req("SRS-288")
def test_review_refuses_to_drop_a_deleted_problem_report_and_review_all_keeps_it(copy, capsys):
    for name in ("PR-025.yaml", "PR-026.yaml", "PR-038.yaml"):   # the reviewer's reproducer
        (copy / "problems" / name).unlink()
    with pytest.raises(KeyError, match="never deleted"):
        review(load_project(copy), ["PR-025"])
    review(load_project(copy), [], everything=True)
    errs = _errors(capsys, copy)
    for rid in ("PR-025", "PR-026", "PR-038"):
        assert [e for e in errs if e.startswith(f"ERROR: problems/{rid}.yaml: {rid}: problem report deleted")], rid


@pytest.mark.req("SRS-288")
def test_a_reviewed_deletion_of_another_record_passes(copy, capsys):
    notes = load_design_notes(copy)
    name = sorted(notes)[0]
    path = copy / notes[name][0]
    path.write_text(re.sub(rf"^## `{re.escape(name)}`\s*$", "## `__gone__`", path.read_text(), flags=re.M))
    review(load_project(copy), [f"NOTE:{name}", "NOTE:__gone__"])
    assert [e for e in _errors(capsys, copy) if "[rule: reviewed]" in e] == []


@pytest.mark.req("SRS-288")
def test_the_repository_numbering_is_gap_free_but_for_the_retired_ids_with_reasons():
    retired = load_retired(ROOT).retired
    numbers = sorted(int(i[3:]) for i in PR_IDS + [r.id for r in retired])
    assert numbers == list(range(1, numbers[-1] + 1))
    assert [r.id for r in retired] == [f"PR-0{n}" for n in range(32, 38)] + ["PR-067", "PR-068"]
    assert all("never used" in r.reason for r in retired)


@pytest.mark.req("SRS-288")
def test_every_unexplained_gap_fails_with_the_numbering_rule(copy, capsys):
    (copy / "problems/retired.yaml").unlink()
    errs = _errors(capsys, copy)
    for rid in [f"PR-0{n}" for n in range(32, 38)] + ["PR-067", "PR-068"]:
        assert [e for e in errs if e.startswith(f"ERROR: problems/{rid}.yaml: {rid}: field 'id': numbering gap")
                and e.endswith("[rule: problem-numbering]")], (rid, errs)


@pytest.mark.req("SRS-288")
def test_a_retired_id_that_has_a_file_fails(copy, capsys):
    shutil.copy(copy / "problems/PR-031.yaml", copy / "problems/PR-032.yaml")
    _yaml_edit(copy / "problems/PR-032.yaml", lambda d: d.update(id="PR-032"))
    errs = _errors(capsys, copy)
    assert [e for e in errs if e.startswith("ERROR: problems/retired.yaml: PR-032: field 'retired': PR-032 is "
                                            "listed as retired") and "problem-numbering" in e], errs


@pytest.mark.req("SRS-288")
def test_the_problem_report_log_lists_the_retired_ids_with_their_reason():
    from traceability.check import run_check
    from traceability.docs.build import render_markdown
    text = render_markdown(ROOT, run_check(ROOT, static=True))["problem-reports"]
    assert "Retired ids (never used)" in text
    for r in load_retired(ROOT).retired:
        assert r.id in text and r.reason.split()[0] in text
