"""SOUP anomaly search status (SRS-276, audit finding 6 of issue 10): each
entry says whether its published anomaly lists were searched; a pending search
is an open item of the release record, never a pass."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.traceability.conftest import copy_tracked
from traceability.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOUP = "hazard_analysis/soup.yaml"


def _entries(root: Path) -> list[dict]:
    return yaml.safe_load((root / SOUP).read_text())["soup"]


@pytest.fixture
def copy(tmp_path) -> Path:
    return copy_tracked(tmp_path / "repo")


def _findings(capsys, root: Path) -> list[str]:
    capsys.readouterr()
    main(["--root", str(root), "check", "--static"])
    cap = capsys.readouterr()
    return [x for x in (cap.out + cap.err).splitlines() if x.startswith(("ERROR", "WARNING"))]


@pytest.mark.req("SRS-276")
def test_every_entry_states_its_search_and_none_that_was_not_searched_says_done():
    entries = _entries(ROOT)
    assert len(entries) >= 128
    for e in entries:
        a = e["anomalies"]
        assert a["search"] in ("done", "pending"), e["name"]
        if re.search(r"not\s+searched", a["looked_at"]):
            assert a["search"] == "pending", e["name"]


@pytest.mark.req("SRS-276")
def test_the_release_record_lists_every_pending_search_as_an_open_item(tmp_path, capsys):
    pending = [e["name"] for e in _entries(ROOT) if e["anomalies"]["search"] == "pending"]
    assert len(pending) >= 97
    main(["--root", str(ROOT), "docs", "--out", str(tmp_path / "docs")])
    capsys.readouterr()
    md = (tmp_path / "docs/release-record.md").read_text()
    head = f"## Open items: SOUP whose anomaly search is pending ({len(pending)} of {len(_entries(ROOT))})"
    assert head in md
    section = md[md.index(head):md.index("\n## ", md.index(head) + 5)]
    assert f"OPEN ITEM, not a pass: for these {len(pending)} SOUP items only the metadata was reviewed" in section
    rows = re.findall(r"^\| ([^|]+?) \| [^|]+ \| (?:yes|no) \| \d{4}-\d\d-\d\d \| *$", section, re.M)
    assert rows == pending
    assert "anomaly search PENDING" in (tmp_path / "docs/soup.md").read_text()


@pytest.mark.req("SRS-276")
def test_the_check_warns_with_the_count_of_pending_searches(capsys):
    n = sum(e["anomalies"]["search"] == "pending" for e in _entries(ROOT))
    assert [f for f in _findings(capsys, ROOT) if f.startswith(
        f"WARNING: {SOUP}: field 'anomalies.search': {n} SOUP item(s) with the anomaly search pending "
        "(open item of the release record)")]


@pytest.mark.parametrize("old, new, expected", [
    ("search: pending\n      reviewed: 2026-12-01", "search: done\n      reviewed: 2026-12-01",
     "search is 'done' but looked_at says the tracker was not searched"),
    ("      search: pending\n", "", "search"),
    ("search: pending\n", "search: reviewed\n", "search"),
])
@pytest.mark.req("SRS-276")
def test_a_search_status_that_is_missing_unknown_or_contradicted_fails(copy, capsys, old, new, expected):
    path = copy / SOUP
    text = path.read_text()
    # the first entry the generator wrote as not searched (hand-written entries
    # such as OpenSSL's may come before it with another looked_at)
    at = text.index("its issue tracker was not searched")
    at = text.index(old, at) if old in text[at:] else text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):])
    errs = [f for f in _findings(capsys, copy) if f.startswith(f"ERROR: {SOUP}")]
    # the entry's fingerprint (SRS-288) may be named too: the rule's own error must be there
    assert any(expected in e for e in errs), errs
