"""Suspect links by fingerprint; `ionto-trace review ID` records the review (SRS-102)."""
from __future__ import annotations

import pytest

from traceability.data import LOCK, load_project
from traceability.lock import fingerprints
from traceability.yamlload import load_yaml


@pytest.mark.req("SRS-102")
def test_each_link_stores_the_fingerprint_of_its_target(repo):
    lock = load_yaml(repo.path(LOCK), LOCK).data
    fps = fingerprints(load_project(repo.root))
    assert lock["links"]["SRS-005"]["UN-08"] == fps["UN-08"]
    assert lock["links"]["RC-01"]["SRS-005"] == fps["SRS-005"]
    assert lock["links"]["HAZ-01"]["RC-02"] == fps["RC-02"]


@pytest.mark.req("SRS-102")
def test_changed_user_need_makes_every_child_link_suspect(repo, capsys):
    repo.replace("spec/requirements.yaml", "The user can lift hands out of the trays",
                 "The user may lift hands out of the trays")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    for child in ("SRS-007", "SRS-010", "SRS-011", "SRS-061", "SRS-062", "SRS-063"):
        assert f"{child}: field 'link': suspect link to UN-09: UN-09 changed" in out
    rc, _ = repo.run(capsys, "review", "UN-09")
    assert rc == 0
    rc, out = repo.run(capsys, "check")
    assert rc == 0, out


@pytest.mark.req("SRS-102")
def test_changed_control_makes_its_hazards_links_suspect(repo, capsys):
    repo.replace("hazard_analysis/risk_controls.yaml", "A load below 250 Ohm with at least 0.5 mA flowing",
                 "A load below 100 Ohm with current flowing")
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "RC-09: text changed since its last review" in out
    assert "HAZ-02: field 'link': suspect link to RC-09" in out


@pytest.mark.req("SRS-102")
def test_status_change_is_not_a_text_change(repo, capsys):
    # the first requirement (SRS-001) back to planned: no requirement is planned any more
    repo.replace("spec/requirements.yaml", "    status: implemented\n", "    status: planned\n")
    rc, out = repo.run(capsys, "check")
    assert "SRS-001: text changed" not in out
    assert "suspect" not in out


@pytest.mark.req("SRS-102")
def test_review_of_an_unknown_id_is_refused(repo, capsys):
    rc, out = repo.run(capsys, "review", "SRS-777")
    assert rc == 2
    assert "unknown id(s): SRS-777" in out


@pytest.mark.req("SRS-102")
def test_missing_review_record_fails_the_check(repo, capsys):
    repo.path(LOCK).unlink()
    rc, out = repo.run(capsys, "check")
    assert rc == 1
    assert "spec/links.lock: no review record" in out


@pytest.mark.req("SRS-102")
def test_review_log_records_who_and_what(repo, capsys):
    rc, _ = repo.run(capsys, "review", "SRS-005", "--note", "limit rationale re-read")
    assert rc == 0
    log = load_yaml(repo.path(LOCK), LOCK).data["log"]
    assert log[-1]["ids"] == "SRS-005" and log[-1]["note"] == "limit rationale re-read" and log[-1]["at"]
