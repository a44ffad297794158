"""History schema 3 (SRS-200): a populated version-2 (and version-1) history is
migrated in place keeping every session, all given to the profile "default";
a failed migration leaves the file at its old version, readable; a newer one
is refused unchanged."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime

import pytest

import core.history as history_mod
from core.history import DEFAULT_USER, SCHEMA_VERSION, History, HistoryError
from core.users import add_user, find_user, list_users
from tests.core.test_history_schema import _v1_db

_V2_COLUMNS = ["end_reason TEXT", "checklist_mode TEXT", "checklist_file TEXT", "checklist_sha256 TEXT",
               "checklist_answers TEXT NOT NULL DEFAULT '{}'", "counts TEXT NOT NULL DEFAULT '{}'"]


def _v2_db(path, n=30):
    _v1_db(path, n)
    db = sqlite3.connect(path)
    for column in _V2_COLUMNS:
        db.execute(f"ALTER TABLE sessions ADD COLUMN {column}")
    db.execute("UPDATE sessions SET end_reason = 'time_up', counts = '{\"pauses\": 1}' WHERE id % 2 = 0")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def _rows(path):
    db = sqlite3.connect(path)
    cols = ("id, settings, site, current_ma, minutes, started_at, ended_at, outcome, treat_s,"
            " delivered_mamin, max_current_ma, faults, states, end_reason, counts")
    try:
        return db.execute(f"SELECT {cols} FROM sessions ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.req("SRS-200", "SRS-071")
def test_a_populated_version_2_history_is_migrated_keeping_every_session(tmp_path):
    path = tmp_path / "v2.sqlite"
    _v2_db(path)
    before = _rows(path)
    with History(path) as h:
        default = find_user(h, DEFAULT_USER)
        assert default is not None and default.born is None and default.has_pin is False
        assert [u.name for u in list_users(h)] == [DEFAULT_USER]
        records = h.list_sessions()
        assert len(records) == 30 and {r.user_id for r in records} == {default.user_id}
        assert h.list_sessions(default.user_id) == records
        assert [r.counts for r in records][:2] == [{}, {"pauses": 1}]
    # PR-041: the migration commits only with the first successful write
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    with History(path) as h:
        add_user(h, "anna", 1990, now=datetime.fromisoformat("2026-12-01T08:00:00+00:00"))
    assert _rows(path) == before                               # every column of every session unchanged
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {"users", "courses", "scores"} <= {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    with History(path) as h:                                   # opened again: no second default
        assert [u.name for u in list_users(h)] == [DEFAULT_USER, "anna"]


@pytest.mark.req("SRS-200")
def test_a_version_1_history_goes_to_3_in_one_step(tmp_path):
    path = tmp_path / "v1.sqlite"
    _v1_db(path, n=5)
    with History(path) as h:
        assert {r.user_id for r in h.list_sessions()} == {find_user(h, DEFAULT_USER).user_id}
        assert all(r.end_reason is None for r in h.list_sessions())


@pytest.mark.req("SRS-200")
def test_an_empty_old_history_gets_no_default_profile(tmp_path):
    path = tmp_path / "v2.sqlite"
    _v2_db(path, n=0)
    with History(path) as h:
        assert list_users(h) == []


@pytest.mark.req("SRS-200", "SRS-071")
@pytest.mark.parametrize("fail_at", range(len(history_mod._V3_DDL)))
def test_a_migration_failing_half_way_leaves_the_version_2_file_as_it_was(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "v2.sqlite"
    _v2_db(path, n=12)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    broken = list(history_mod._V3_DDL)
    broken[fail_at] = "CREATE TABLE this is not sql"
    monkeypatch.setattr(history_mod, "_V3_DDL", tuple(broken))
    with pytest.raises(HistoryError, match="cannot migrate schema version 2 to 3.*left unchanged"):
        History(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 12
    db.close()
    monkeypatch.undo()                                         # the next ionto migrates it
    with History(path) as h:
        assert len(h.list_sessions()) == 12


@pytest.mark.req("SRS-200")
def test_an_interrupted_migration_is_rolled_back_by_the_journal(tmp_path):
    """A process killed inside the migration's transaction: the hot journal
    restores the file when it is next opened."""
    import subprocess
    import sys
    path = tmp_path / "v2.sqlite"
    _v2_db(path, n=8)
    before = _rows(path)
    code = (
        "import os, sqlite3, core.history as hm\n"
        "real = hm._V3_DDL\n"
        "class Die(tuple):\n"
        "    def __iter__(self):\n"
        "        for i, ddl in enumerate(real):\n"
        "            if i == 3: os._exit(9)\n"
        "            yield ddl\n"
        "hm._V3_DDL = Die(real)\n"
        f"hm.History({str(path)!r})\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path.parent), capture_output=True,
                       env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).parents[2])})
    assert p.returncode == 9, p.stderr
    assert (tmp_path / "v2.sqlite-journal").exists()           # the transaction was left open
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    assert _rows(path) == before
    with History(path) as h:
        assert len(h.list_sessions()) == 8 and len(list_users(h)) == 1


@pytest.mark.req("SRS-200")
@pytest.mark.parametrize("version", [4, 99])
def test_a_newer_history_is_refused_unchanged(tmp_path, version):
    path = tmp_path / "new.sqlite"
    _v2_db(path, n=3)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(HistoryError, match=f"schema version {version}.*up to 3.*left unchanged"):
        History(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


@pytest.mark.req("SRS-200", "SRS-196")
@pytest.mark.parametrize("start", ["new", "v2"])
def test_programs_opening_one_history_at_once_all_succeed(tmp_path, start):
    """First use by several programs at once: one sets up or migrates the
    file, the others find it done (no 'table exists', no second default)."""
    import threading
    path = tmp_path / "h.sqlite"
    if start == "v2":
        _v2_db(path, n=6)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            History(path).close()
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with History(path) as h:
        assert len(h.list_sessions()) == (6 if start == "v2" else 0)
        assert len(list_users(h)) == (1 if start == "v2" else 0)
