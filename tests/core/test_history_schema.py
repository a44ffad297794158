"""History schema: in-place migration of version 1, refusal of newer (SRS-093, SRS-071).
Schema 3 (users, courses) and the migration of version 2: test_users_history.py."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

from core.checklist import ChecklistAnswers, ChecklistRecord
from core.history import SCHEMA_VERSION, History, HistoryError
from core.settings import parse_settings

V1_SCHEMA = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    settings TEXT NOT NULL, site TEXT NOT NULL, current_ma REAL NOT NULL,
    minutes INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'interrupted'
        CHECK (outcome IN ('completed', 'stopped', 'interrupted', 'fault', 'refused')),
    treat_s REAL NOT NULL DEFAULT 0, delivered_mamin REAL NOT NULL DEFAULT 0,
    max_current_ma REAL NOT NULL DEFAULT 0, faults TEXT NOT NULL DEFAULT '[]',
    states TEXT NOT NULL DEFAULT '[]'
);
PRAGMA user_version = 1;
"""


def _v1_db(path, n=25):
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    for i in range(n):
        db.execute("INSERT INTO sessions (settings, site, current_ma, minutes, started_at, ended_at,"
                   " outcome, treat_s, delivered_mamin, max_current_ma, faults, states)"
                   " VALUES (?, 'hands', ?, 10, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ('{"current_ma": %d.0, "minutes": 10, "ramp_down_s": 30.0, "ramp_up_s": 30.0, '
                    '"reverse_polarity": false, "site": "hands"}' % (1 + i % 25), float(1 + i % 25),
                    f"2025-01-{1 + i % 28:02d}T10:00:00.000+00:00", None if i == 3 else "x",
                    ["completed", "stopped", "interrupted", "fault"][i % 4], 600.0, 10.0 * i, 1.0 + i,
                    '["short"]' if i % 4 == 3 else "[]", '["idle", "checklist"]'))
    db.commit()
    db.close()


@pytest.mark.req("SRS-093", "SRS-071")
def test_a_populated_version_1_history_is_migrated_in_place_losing_no_session(tmp_path):
    path = tmp_path / "v1.sqlite"
    _v1_db(path)
    before = sqlite3.connect(path).execute(
        "SELECT id, settings, started_at, ended_at, outcome, treat_s, delivered_mamin,"
        " max_current_ma, faults, states FROM sessions ORDER BY id").fetchall()
    with History(path) as h:
        records = h.list_sessions()
        assert [(r.session_id, r.outcome, r.delivered_mamin, r.faults) for r in records] == [
            (b[0], b[4], b[6], [] if b[8] == "[]" else ["short"]) for b in before]
        assert all(r.end_reason is None and r.checklist is None for r in records)
        assert h.last_settings().current_ma == 25.0   # Last Setting still works
        # new sessions go on being numbered after the old ones, with the new columns
        answers = ChecklistAnswers({"pregnancy": False}, {"cosmetics_removed": True})
        sid = h.begin_session(parse_settings({"site": "hands", "current_ma": 10, "minutes": 10}),
                              checklist=ChecklistRecord("file", answers, "/x.yaml", "ab" * 32))
        h.end_session(sid, "interrupted", treat_s=1, delivered_mamin=1, max_current_ma=1,
                      end_reason="pauses_bound")
        assert sid == before[-1][0] + 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == len(before) + 1
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with History(path) as h:   # opening again: no second migration
        last = h.list_sessions()[-1]
    assert last.end_reason == "pauses_bound"
    assert last.checklist == {"mode": "file", "file": "/x.yaml", "sha256": "ab" * 32,
                              "answers": {"contraindications": {"pregnancy": False},
                                          "preparation": {"cosmetics_removed": True}}}


@pytest.mark.req("SRS-093", "SRS-071")
def test_a_history_from_a_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "v4.sqlite"
    _v1_db(path, n=2)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(HistoryError) as info:
        History(path)
    text = str(info.value)
    assert "newer ionto" in text and "schema version 4" in text and "up to 3" in text
    assert "left unchanged" in text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.req("SRS-093")
def test_a_new_history_is_created_at_version_3(tmp_path):
    with History(tmp_path / "n.sqlite") as h:
        assert h.list_sessions() == []
    db = sqlite3.connect(tmp_path / "n.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    cols = {r[1] for r in db.execute("PRAGMA table_info(sessions)")}
    assert {"end_reason", "checklist_mode", "checklist_file", "checklist_sha256",
            "checklist_answers"} <= cols


@pytest.mark.req("SRS-090", "SRS-071")
@pytest.mark.parametrize("stored", ["{not json", "[1, 2]", "7"])
def test_session_counts_are_kept_and_a_damaged_record_is_named(tmp_path, stored):
    path = tmp_path / "h.sqlite"
    settings = parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})
    with History(path) as h:
        sid = h.begin_session(settings)
        h.end_session(sid, "interrupted", treat_s=60.0, delivered_mamin=10.0, max_current_ma=10.1,
                      end_reason="pauses_bound", counts={"pauses": 11, "antishock_cuts": 2})
        rec = h.list_sessions()[0]
    assert rec.end_reason == "pauses_bound" and rec.counts == {"pauses": 11, "antishock_cuts": 2}
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET counts = ?", (stored,))
    db.commit()
    db.close()
    with History(path) as h:
        with pytest.raises(HistoryError, match=f"session {sid}: counts "):
            h.list_sessions()
