"""`ionto-trace check` fails on a class C activity missing from the clause map
(SRS-222), naming each missing clause; the repository's map lists them all."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from traceability.docs.rules import CLASS_C_ACTIVITIES

ROOT = Path(__file__).resolve().parents[2]
MAP = "docs/iec62304_clauses.yaml"


@pytest.fixture
def with_map(repo):
    shutil.copyfile(ROOT / MAP, repo.path(MAP))
    return repo


def _missing(out: str) -> list[str]:
    return re.findall(r"ERROR: docs/iec62304_clauses\.yaml: ([\d.]+): field 'clause': class C activity \1 of "
                      r"IEC 62304 is not in the clause map", out)


@pytest.mark.req("SRS-222")
def test_the_list_of_class_c_activities_has_every_clause_of_4_to_9():
    assert len(CLASS_C_ACTIVITIES) == 93
    assert {"4.4", "5.1.12", "5.8.8", "6.3.2", "7.3.3", "7.4.3", "8.3", "9.8"} <= CLASS_C_ACTIVITIES
    assert "7.3.2" not in CLASS_C_ACTIVITIES   # deleted by IEC 62304 A1:2015


@pytest.mark.req("SRS-222")
def test_the_repository_map_lists_every_class_c_activity(with_map, capsys):
    rc, out = with_map.run(capsys, "check")
    assert _missing(out) == []


@pytest.mark.req("SRS-222")
@pytest.mark.parametrize("removed", [["9.6"], ["4.1", "5.3.6", "8.3"], sorted(CLASS_C_ACTIVITIES)])
def test_an_activity_removed_from_the_map_fails_the_check_naming_it(with_map, capsys, removed):
    path = with_map.path(MAP)
    lines = path.read_text().splitlines(keepends=True)
    kept = [x for x in lines if not any(f'{{clause: "{c}",' in x for c in removed)]
    assert len(lines) - len(kept) == len(removed)
    path.write_text("".join(kept) + ("  []\n" if len(removed) == len(CLASS_C_ACTIVITIES) else ""))
    rc, out = with_map.run(capsys, "check")
    assert rc == 1
    assert sorted(_missing(out)) == sorted(removed)
