"""A history row damaged outside ionto is named, never a crash (SRS-071;
issue 12 points 2-3: these checks of core/history.py `_record` were neither
covered nor mutation-tested). Each column is damaged alone; the error names
the session, the column and what it must be; the file is left unchanged.

The second part kills the survivors of the full mutation run of core/history.py
(docs/mutation-session.md): read-only opens, locks and their waits, failed
set-ups and migrations, what a session row reads back, progress writes."""
from __future__ import annotations

import sqlite3

import pytest

from core.history import History, HistoryError
from core.settings import parse_settings


def _one_session(path) -> int:
    settings = parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})
    with History(path) as h:
        sid = h.begin_session(settings)
        h.end_session(sid, "completed", treat_s=600.0, delivered_mamin=100.0, max_current_ma=10.1)
    return sid


def _damage_and_list(path, column: str, value) -> str:
    sid = _one_session(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA ignore_check_constraints = ON")  # as an outside editor may
    db.execute(f"UPDATE sessions SET {column} = ? WHERE id = ?", (value, sid))
    db.commit()
    db.close()
    before = path.read_bytes()
    with History(path) as h, pytest.raises(HistoryError) as err:
        h.list_sessions()
    assert path.read_bytes() == before
    text = str(err.value)
    assert text.startswith(f"history {path}: session {sid}: ") and text.endswith("; the file was left unchanged")
    return text.split(f"session {sid}: ", 1)[1]


@pytest.mark.req("SRS-071")
def test_an_undamaged_row_reads_back_with_its_figures(tmp_path):
    path = tmp_path / "h.sqlite"
    _one_session(path)
    with History(path) as h:
        rec = h.list_sessions()[0]
    assert (rec.outcome, rec.treat_s, rec.delivered_mamin, rec.max_current_ma) == ("completed", 600.0, 100.0, 10.1)


@pytest.mark.req("SRS-071")
@pytest.mark.parametrize("column,value", [("settings", "{not json"), ("faults", "[1,"), ("states", "")])
def test_text_that_is_not_json_is_named_undecodable(tmp_path, column, value):
    assert _damage_and_list(tmp_path / "h.sqlite", column, value).startswith("stored data cannot be decoded (")


@pytest.mark.req("SRS-071")
@pytest.mark.parametrize("value,kind", [("[1, 2]", "list"), ("7", "int"), ('"hands"', "str")])
def test_settings_that_are_not_a_mapping_are_named_with_their_type(tmp_path, value, kind):
    assert _damage_and_list(tmp_path / "h.sqlite", "settings", value).startswith(
        f"settings must be a mapping, got {kind};")


@pytest.mark.req("SRS-071")
@pytest.mark.parametrize("column", ["faults", "states"])
@pytest.mark.parametrize("value", ['"fault"', "{}", "[1]", '["ok", null]'])
def test_faults_and_states_must_be_lists_of_text(tmp_path, column, value):
    assert _damage_and_list(tmp_path / "h.sqlite", column, value).startswith(
        f"{column} must be a list of text;")


@pytest.mark.req("SRS-071")
@pytest.mark.parametrize("column", ["treat_s", "delivered_mamin", "max_current_ma"])
@pytest.mark.parametrize("value", ["six hundred", b"\x01"])   # NOT NULL; numeric text becomes a number
def test_a_figure_that_is_not_a_number_is_named_with_its_value(tmp_path, column, value):
    assert _damage_and_list(tmp_path / "h.sqlite", column, value).startswith(
        f"{column} = {value!r} is not a number;")


@pytest.mark.req("SRS-071")
def test_a_start_time_that_is_not_text_is_named(tmp_path):
    assert _damage_and_list(tmp_path / "h.sqlite", "started_at", b"\x01").startswith(
        "start time or outcome 'completed' not readable;")


@pytest.mark.req("SRS-071")
@pytest.mark.parametrize("outcome", ["exploded", "Completed", ""])
def test_an_unknown_outcome_is_refused_on_opening_by_the_integrity_check(tmp_path, outcome):
    # the table's CHECK lists the outcomes; integrity_check reports a row that
    # breaks it before any row is read (so `_record`'s own outcome test is a
    # second line that a file cannot reach)
    path = tmp_path / "h.sqlite"
    sid = _one_session(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA ignore_check_constraints = ON")
    db.execute("UPDATE sessions SET outcome = ? WHERE id = ?", (outcome, sid))
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (f"history {path}: corrupt (CHECK constraint failed in sessions); "
                              "the file was left unchanged")
    assert path.read_bytes() == before


def _foreign_db(path, version: int, tables: tuple[str, ...]) -> bytes:
    db = sqlite3.connect(path)
    for t in tables:
        db.execute(f"CREATE TABLE {t} (x)")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    return path.read_bytes()


@pytest.mark.req("SRS-070")
@pytest.mark.parametrize("version,tables", [(0, ("sessions",)), (0, ("other",)), (3, ("other",)),
                                            (7, ("other",)), (1, ("other",)), (2, ()), (-1, ("sessions",))])
def test_a_file_that_is_not_an_ionto_history_is_refused_and_left_unchanged(tmp_path, version, tables):
    # a table named "sessions" is not enough, nor is schema version 3 alone
    path = tmp_path / "h.sqlite"
    before = _foreign_db(path, version, tables)
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (f"history {path}: not an ionto history (schema version {version}, "
                              "expected 3); the file was left unchanged")
    assert path.read_bytes() == before


@pytest.mark.req("SRS-070")
@pytest.mark.parametrize("version", [4, 99])
def test_a_history_of_a_newer_schema_is_refused_naming_both_versions(tmp_path, version):
    path = tmp_path / "h.sqlite"
    before = _foreign_db(path, version, ("sessions",))
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (
        f"history {path}: written by a newer ionto (schema version {version}); this ionto reads "
        "schema versions up to 3: use the newer ionto, or give --db another file; the file was left unchanged")
    assert path.read_bytes() == before


@pytest.mark.req("SRS-072")
def test_last_settings_are_those_of_the_latest_session(tmp_path):
    path = tmp_path / "h.sqlite"
    first = parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})
    latest = parse_settings({"site": "feet", "current_ma": 12.5, "minutes": 15})
    with History(path) as h:
        assert h.last_settings() is None
        h.begin_session(first)
        h.begin_session(latest)
        assert h.last_settings() == latest


# --- issue 12 point 2, the full mutation run of core/history.py ----------------------------------
# (each test below kills survivors of that run; docs/mutation-session.md lists them)

SETTINGS = parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})


@pytest.mark.req("SRS-281")
def test_a_read_only_open_reads_a_history_without_changing_a_byte(tmp_path):
    path = tmp_path / "h.sqlite"
    sid = _one_session(path)
    before = path.read_bytes()
    with History(path, readonly=True) as h:
        assert [(r.session_id, r.outcome, r.treat_s) for r in h.list_sessions()] == [(sid, "completed", 600.0)]
        assert h.last_settings() == parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})
        with pytest.raises(HistoryError) as err:           # SQLite's mode=ro: no write gets through
            h.begin_session(SETTINGS)
    assert str(err.value) == f"history {path}: cannot write: attempt to write a readonly database"
    assert path.read_bytes() == before


@pytest.mark.req("SRS-281")
def test_a_read_only_open_of_an_empty_file_is_refused_and_sets_nothing_up(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    with pytest.raises(HistoryError) as err:
        History(path, readonly=True)
    assert str(err.value) == (f"history {path}: empty (0 bytes, no tables): not an ionto history; "
                              "a read does not set one up; the file was left unchanged")
    assert path.read_bytes() == b""


@pytest.mark.req("SRS-281", "SRS-200")
@pytest.mark.parametrize("version", [1, 2])
def test_a_read_only_open_of_an_old_schema_is_refused_and_not_upgraded(tmp_path, version):
    from tests.core.test_history_schema import _v1_db
    from tests.core.test_users_history import _v2_db
    path = tmp_path / "old.sqlite"
    (_v1_db if version == 1 else _v2_db)(path, 3)
    before = path.read_bytes()
    with pytest.raises(HistoryError) as err:
        History(path, readonly=True)
    assert str(err.value) == (
        f"history {path}: schema version {version}; a read does not upgrade it: the next command that "
        "writes the history (ionto session, ionto user add) upgrades it in place to version 3, keeping "
        "every session; the file was left unchanged")
    assert path.read_bytes() == before


@pytest.mark.req("SRS-070")
@pytest.mark.parametrize("readonly", [False, True])
def test_a_file_locked_by_another_program_is_named_after_the_wait_and_left_unchanged(tmp_path, monkeypatch,
                                                                                   readonly):
    import time

    import core.history as history_mod
    path = tmp_path / "h.sqlite"
    _one_session(path)
    before = path.read_bytes()
    monkeypatch.setattr(history_mod, "_BUSY_TIMEOUT_S", 0.2)   # the wait is this constant's
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")                          # readers are locked out too
    try:
        start = time.monotonic()
        with pytest.raises(HistoryError) as err:
            History(path, readonly=readonly)
        waited_s = time.monotonic() - start
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(err.value) == (f"history {path}: locked by another program (database is locked); close it "
                              "and try again; the file was left unchanged")
    assert 0.15 <= waited_s < 2.0
    assert path.read_bytes() == before


@pytest.mark.req("SRS-070")
def test_a_file_with_objects_but_no_table_is_not_taken_over(tmp_path):
    # version 0 and no table, yet not empty (a view): the set-up finds the file
    # not empty under its write lock, writes nothing and refuses it
    path = tmp_path / "view.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE VIEW answer AS SELECT 42")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (f"history {path}: set up meanwhile by another program as schema version 0; "
                              "the file was left unchanged")
    assert path.read_bytes() == before


@pytest.mark.req("SRS-070", "SRS-071")
def test_a_new_file_whose_set_up_fails_half_way_is_left_without_any_table(tmp_path, monkeypatch):
    import core.history as history_mod
    path = tmp_path / "h.sqlite"
    monkeypatch.setattr(history_mod, "_SCHEMA", (history_mod._SCHEMA[0], "CREATE TABLE this is not sql"))
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (f'history {path}: unreadable or corrupt (near "is": syntax error); '
                              "the file was left unchanged")
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0   # rolled back whole
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()
    monkeypatch.undo()                                        # the next ionto sets it up
    with History(path) as h:
        assert h.list_sessions() == []


@pytest.mark.req("SRS-200")
def test_a_file_migrated_by_another_program_meanwhile_is_used_as_it_is(tmp_path, monkeypatch):
    """Another program upgrades the file between this one's first read and its
    write lock: this one finds version 3 under the lock and migrates nothing."""
    from tests.core.test_users_history import _v2_db
    path = tmp_path / "v2.sqlite"
    _v2_db(path, 4)
    real_connect = sqlite3.connect

    class Racing(sqlite3.Connection):
        raced = False

        def execute(self, sql, *args):
            if sql == "BEGIN IMMEDIATE" and not Racing.raced:
                Racing.raced = True
                with History(path) as other:                  # migrates, commits with its first write
                    other.begin_session(SETTINGS)
            return super().execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real_connect(*a, factory=Racing, **k))
    with History(path) as h:
        assert Racing.raced
        assert not h._db.in_transaction                      # its read of the version is closed
        sid = h.begin_session(SETTINGS)
        sessions = h.list_sessions()
    assert len(sessions) == 6 and sessions[-1].session_id == sid
    db = real_connect(path)
    assert db.execute("SELECT name FROM users").fetchall() == [("default",)]   # one migration only
    db.close()


@pytest.mark.req("SRS-200", "SRS-071")
def test_a_migration_that_fails_is_rolled_back_and_named(tmp_path):
    from tests.core.test_users_history import _v2_db
    path = tmp_path / "v2.sqlite"
    _v2_db(path, 3)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (x)")                      # in the way of schema 3's table
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError) as err:
        History(path)
    assert str(err.value) == (f"history {path}: cannot migrate schema version 2 to 3 (table users already "
                              "exists); the file was left unchanged")
    assert path.read_bytes() == before


@pytest.mark.req("SRS-200")
@pytest.mark.parametrize("n", [0, 1, 2])
def test_a_migrated_history_gives_its_sessions_to_default_and_only_if_it_has_any(tmp_path, n):
    from tests.core.test_users_history import _v2_db
    path = tmp_path / "v2.sqlite"
    _v2_db(path, n)
    with History(path) as h:
        h.write("UPDATE sessions SET site = site")           # a first write commits the migration
        users = h.query("SELECT id, name, born FROM users")
        owners = {r.user_id for r in h.list_sessions()}
    assert users == ([(1, "default", None)] if n else [])
    assert owners == ({1} if n else set())


@pytest.mark.req("SRS-093", "SRS-191")
def test_a_session_without_checklist_or_user_reads_back_with_none_of_them(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        h.begin_session(SETTINGS)
        (rec,) = h.list_sessions()
        stored = h.query("SELECT checklist_mode, checklist_file, checklist_sha256, checklist_answers,"
                         " user_id FROM sessions")
        assert h.last_settings(unowned=True) == SETTINGS     # it belongs to no user
    assert (rec.checklist, rec.user_id) == (None, None)
    assert stored == [(None, None, None, "{}", None)]


@pytest.mark.req("SRS-093")
def test_a_checklist_asked_without_a_file_reads_back_with_its_mode_and_answers(tmp_path):
    from core.checklist import ChecklistAnswers, ChecklistRecord
    answers = ChecklistAnswers(contraindications={"pacemaker": False}, preparation={"jewellery_removed": True})
    with History(tmp_path / "h.sqlite") as h:
        h.begin_session(SETTINGS, checklist=ChecklistRecord(mode="asked", answers=answers))
        (rec,) = h.list_sessions()
    assert rec.checklist == {"mode": "asked", "file": None, "sha256": None,
                             "answers": {"contraindications": {"pacemaker": False},
                                         "preparation": {"jewellery_removed": True}}}


@pytest.mark.req("SRS-093", "SRS-071")
def test_damaged_checklist_answers_are_named_with_the_session(tmp_path):
    from core.checklist import ChecklistAnswers, ChecklistRecord
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        h.begin_session(SETTINGS)
        sid = h.begin_session(SETTINGS, checklist=ChecklistRecord(
            mode="asked", answers=ChecklistAnswers(contraindications={}, preparation={})))
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET checklist_answers = '{cut' WHERE id = ?", (sid,))
    db.commit()
    db.close()
    with History(path) as h, pytest.raises(HistoryError) as err:
        h.list_sessions()
    assert str(err.value).startswith(f"history {path}: session {sid}: checklist answers cannot be decoded (")
    assert str(err.value).endswith("); the file was left unchanged")


@pytest.mark.req("SRS-191", "SRS-070")
def test_sessions_are_listed_per_user_and_read_back_with_their_user(tmp_path):
    from datetime import datetime, timezone

    from core.users import add_user
    now = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    with History(tmp_path / "h.sqlite") as h:
        anna, ben = (add_user(h, name, 1990, now=now) for name in ("anna", "ben"))
        ids = {}
        for user in (anna, ben, anna):
            h.user_id = user.user_id
            ids.setdefault(user.user_id, []).append(h.begin_session(SETTINGS))
        for user in (anna, ben):
            recs = h.list_sessions(user.user_id)
            assert [r.session_id for r in recs] == ids[user.user_id]
            assert {r.user_id for r in recs} == {user.user_id}
        assert len(h.list_sessions()) == 3


@pytest.mark.req("SRS-070")
def test_an_outcome_not_known_is_refused_listing_the_five(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        sid = h.begin_session(SETTINGS)
        with pytest.raises(ValueError) as err:
            h.end_session(sid, "aborted", treat_s=1.0, delivered_mamin=0.1, max_current_ma=1.0)
    assert str(err.value) == "outcome: 'aborted' is not one of completed, stopped, interrupted, fault, refused"


@pytest.mark.req("SRS-090", "SRS-070")
def test_counts_without_an_end_reason_leave_the_end_reason_empty(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        sid = h.begin_session(SETTINGS)
        h.end_session(sid, "stopped", treat_s=30.0, delivered_mamin=5.0, max_current_ma=10.0,
                      counts={"pauses": 2})
        (rec,) = h.list_sessions()
    assert (rec.end_reason, rec.counts) == (None, {"pauses": 2})


@pytest.mark.req("SRS-090", "SRS-071")
@pytest.mark.parametrize("stored,kind", [("[1, 2]", "list"), ("7", "int"), ('"x"', "str")])
def test_counts_that_are_not_a_mapping_are_named_with_their_type(tmp_path, stored, kind):
    assert _damage_and_list(tmp_path / "h.sqlite", "counts", stored).startswith(
        f"counts must be a mapping, got {kind};")


@pytest.mark.req("SRS-072", "SRS-071")
def test_last_setting_of_a_damaged_row_names_the_session_and_the_field(tmp_path):
    path = tmp_path / "h.sqlite"
    _one_session(path)
    sid = _one_session(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET settings = '[1]' WHERE id = ?", (sid,))
    db.commit()
    db.close()
    with History(path) as h, pytest.raises(HistoryError) as err:
        h.last_settings()
    assert str(err.value) == (f"history {path}: session {sid}: settings must be a mapping, got list; "
                              "the file was left unchanged")


@pytest.mark.req("SRS-070")
def test_a_sessions_table_without_the_history_columns_gives_a_read_error_naming_the_file(tmp_path):
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sessions (x)")
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    with History(path) as h:
        for read, column in ((h.list_sessions, "id"), (h.last_settings, "settings")):
            with pytest.raises(HistoryError) as err:
                read()
            assert str(err.value) == f"history {path}: cannot read: no such column: {column}"


@pytest.mark.req("SRS-196")
def test_the_admission_check_runs_on_this_history_and_its_refusal_adds_no_row(tmp_path):
    seen = []

    def admit(history):
        seen.append((history, history.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]))
        if len(seen) == 2:
            raise PermissionError("second session refused")

    with History(tmp_path / "h.sqlite") as h:
        h.admit = admit
        h.begin_session(SETTINGS)
        with pytest.raises(PermissionError, match="second session refused"):
            h.begin_session(SETTINGS)
        assert seen == [(h, 0), (h, 1)]
        assert len(h.list_sessions()) == 1
        assert not h._db.in_transaction                      # rolled back, lock released


@pytest.mark.req("SRS-071")
def test_a_commit_refused_by_another_programs_read_is_named_and_rolled_back(tmp_path, monkeypatch):
    import core.history as history_mod
    monkeypatch.setattr(history_mod, "_BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        sid = h.begin_session(SETTINGS)
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM sessions").fetchone()   # holds a shared lock
        try:
            with pytest.raises(HistoryError) as err:
                h.end_session(sid, "completed", treat_s=600.0, delivered_mamin=100.0, max_current_ma=10.0)
        finally:
            reader.execute("ROLLBACK")
            reader.close()
        assert str(err.value) == f"history {path}: cannot write: database is locked"
        assert [(r.outcome, r.treat_s) for r in h.list_sessions()] == [("interrupted", 0.0)]


@pytest.mark.req("SRS-070")
def test_times_are_stored_in_utc_whatever_the_local_zone(monkeypatch):
    import time
    from datetime import datetime, timedelta, timezone

    from core.history import iso_utc
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        moment = datetime(2026, 1, 15, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
        assert iso_utc(moment) == "2026-01-15T11:30:05.123+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.req("SRS-281")
def test_a_read_only_open_of_a_missing_file_is_refused_and_creates_nothing(tmp_path):
    path = tmp_path / "none" / "h.sqlite"
    with pytest.raises(HistoryError) as err:
        History(path, readonly=True)
    assert str(err.value) == f"history {path}: does not exist; a read does not create it"
    assert not path.parent.exists()


@pytest.mark.req("SRS-071", "SRS-196")
def test_a_session_row_while_another_program_writes_is_refused_naming_the_lock(tmp_path, monkeypatch):
    import core.history as history_mod
    monkeypatch.setattr(history_mod, "_BUSY_TIMEOUT_S", 0.1)
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        h.begin_session(SETTINGS)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(HistoryError) as err:
                h.begin_session(SETTINGS)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert str(err.value) == f"history {path}: cannot write: database is locked"
        assert len(h.list_sessions()) == 1


@pytest.mark.req("SRS-071")
def test_progress_is_recorded_and_the_session_stays_interrupted(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        sid = h.begin_session(SETTINGS)
        h.update_progress(sid, treat_s=120.0, delivered_mamin=36.0, max_current_ma=18.1,
                          faults=["short"], states=["idle", "checklist", "ramp", "treat"])
        (rec,) = h.list_sessions()
        assert (rec.outcome, rec.ended_at, rec.treat_s, rec.delivered_mamin, rec.max_current_ma) == (
            "interrupted", None, 120.0, 36.0, 18.1)
        assert (rec.faults, rec.states) == (["short"], ["idle", "checklist", "ramp", "treat"])
        h.update_progress(sid, treat_s=180.0, delivered_mamin=54.0, max_current_ma=18.1)
        (rec,) = h.list_sessions()
        assert (rec.treat_s, rec.faults, rec.states) == (180.0, [], [])
        with pytest.raises(HistoryError) as err:
            h.update_progress(sid + 1, treat_s=1.0, delivered_mamin=0.1, max_current_ma=1.0)
        assert str(err.value) == f"history {h.path}: no session with id {sid + 1}"


@pytest.mark.req("SRS-071", "SRS-064")
@pytest.mark.parametrize("wait_s,timeout_ms", [(0.9995, 999), (0.05, 50), (-1.0, 0)])   # ms cut, not rounded
def test_a_progress_write_waits_for_a_lock_at_most_its_bound_then_the_default_again(tmp_path, wait_s,
                                                                                     timeout_ms):
    import time
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        sid = h.begin_session(SETTINGS)
        seen = []
        h._db.set_trace_callback(lambda sql: seen.append(sql) if "busy_timeout" in sql else None)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            start = time.monotonic()
            with pytest.raises(HistoryError) as err:
                h.update_progress(sid, treat_s=1.0, delivered_mamin=0.1, max_current_ma=1.0, wait_s=wait_s)
            waited_s = time.monotonic() - start
        finally:
            other.execute("ROLLBACK")
            other.close()
        h._db.set_trace_callback(None)
        assert str(err.value) == f"history {path}: cannot write: database is locked"
        assert seen == [f"PRAGMA busy_timeout = {timeout_ms}", "PRAGMA busy_timeout = 5000"]
        assert timeout_ms / 1000 * 0.8 <= waited_s < timeout_ms / 1000 + 1.0
        assert h.query("PRAGMA busy_timeout") == [(5000,)]      # sqlite's 5 s for every other write


@pytest.mark.req("SRS-191")
def test_a_write_returns_the_new_row_id_of_an_insert_and_the_rows_changed_otherwise(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        for _ in range(3):
            h.begin_session(SETTINGS)
        assert h.write("INSERT INTO scores (session_id, hdss, given_at) VALUES (?, 2, 'x')", (2,)) == 2
        assert h.write("\n  insert into scores (session_id, hdss, given_at) VALUES (?, 2, 'x')", (3,)) == 3
        assert h.write("UPDATE sessions SET site = ? WHERE id >= ?", ("feet", 2)) == 2   # last row id: 3
        assert h.query("SELECT id FROM sessions WHERE site = ? ORDER BY id", ("feet",)) == [(2,), (3,)]
        h.begin_session(SETTINGS)
        assert h.execute("SELECT COUNT(*) FROM sessions WHERE id > ?", (2,)).fetchone() == (2,)
        with pytest.raises(HistoryError) as err:
            h.query("SELECT x FROM no_such_table WHERE x = ?", (1,))
        assert str(err.value) == f"history {h.path}: cannot read: no such table: no_such_table"


@pytest.mark.req("SRS-281")
def test_an_extra_table_is_created_once_by_the_write_that_needs_it(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        assert not h.has_table("course_events")
        h.ensure_table("course_events")
        assert h.has_table("course_events") and not h.has_table("scores_superseded")
        h.write("INSERT INTO course_events (user_id, site, kind, at) VALUES (1, 'hands', 'restart', 'x')")
        h.ensure_table("course_events")                    # again: kept as it is
        assert h.query("SELECT COUNT(*) FROM course_events") == [(1,)]
    with History(path, readonly=True) as h:                # committed
        assert h.has_table("course_events")
