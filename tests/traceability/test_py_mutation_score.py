"""tools/mutation/py_mutation_score.py: the Python mutation score net of the
reviewed list (tools/mutation/py-mutation-reviewed.yaml). A verification tool,
not device behaviour: no requirement marker."""
from __future__ import annotations

import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("py_mutation_score", ROOT / "tools/mutation/py_mutation_score.py")
P = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = P   # its dataclass looks the module up
_spec.loader.exec_module(P)

DIFF = """--- core/history.py
+++ core/history.py
@@ -1,3 +1,3 @@
 def _create(self) -> None:
-    self._db.execute("COMMIT")
+    self._db.execute("commit")
"""
M = "core.history.xǁHistoryǁ_create__mutmut_"
KEY = 'core/history.py:History._create:self._db.execute("COMMIT") -> self._db.execute("commit")'


def test_a_key_names_file_function_and_change_not_mutmuts_number():
    # the same change under two numbers: the first by number is #1
    keys = P.keys_of("core/history.py", {M + "15": DIFF, M + "9": DIFF})
    assert keys == {M + "9": KEY + "#1", M + "15": KEY + "#2"}
    assert P.function_of("core.history.x__is_locked__mutmut_3") == "_is_locked"


def _reviewed(status="equivalent", key=KEY + "#1"):
    entries, errors = P.load_reviewed(f'mutants:\n  - key: {key!r}\n    status: {status}\n    reason: "why"\n')
    assert errors == []
    return entries


def test_an_equivalent_survivor_is_out_of_the_score_and_counted_as_excluded():
    status = {M + "9": "survived", M + "10": "killed", M + "11": "survived"}
    keys = {M + "9": KEY + "#1", M + "11": "other#1"}
    s = P.score(status, keys, _reviewed(), ["core/history.py"])
    assert (s.killed, s.judged, s.excluded, s.new, s.errors) == (1, 2, [M + "9"], [M + "11"], [])
    assert s.percent == 50.0


def test_a_listed_survivor_counts_as_surviving_but_is_not_new():
    s = P.score({M + "9": "survived"}, {M + "9": KEY + "#1"}, _reviewed("survivor"), ["core/history.py"])
    assert (s.killed, s.judged, s.known, s.new) == (0, 1, [M + "9"], [])


def test_a_stale_entry_of_a_mutated_file_fails_and_one_of_another_file_does_not():
    s = P.score({M + "9": "killed"}, {M + "9": "renumbered#1"}, _reviewed(), ["core/history.py"])
    assert len(s.errors) == 1 and s.errors[0].startswith("stale entry") and KEY in s.errors[0]
    assert P.score({}, {}, _reviewed(), ["core/scenario.py"]).errors == []


def test_an_equivalent_entry_whose_mutant_is_killed_fails():
    s = P.score({M + "9": "killed"}, {M + "9": KEY + "#1"}, _reviewed(), ["core/history.py"])
    assert len(s.errors) == 1 and "killed" in s.errors[0]


def test_a_malformed_list_is_reported_entry_by_entry():
    _, errors = P.load_reviewed("mutants:\n  - key: a\n    status: maybe\n  - key: a\n    status: equivalent\n"
                                "    reason: x\n  - status: equivalent\n")
    assert errors == ["a: status must be one of equivalent, survivor, not 'maybe'", "a: no reason",
                      "a: listed twice", "entry 3: no key"]


def test_the_reviewed_list_of_the_repository_is_well_formed():
    _, errors = P.load_reviewed((ROOT / "tools/mutation/py-mutation-reviewed.yaml").read_text(encoding="utf-8"))
    assert errors == []
