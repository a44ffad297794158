"""A history row damaged outside ionto is named, never a crash (SRS-071;
issue 12 points 2-3: these checks of core/history.py `_record` were neither
covered nor mutation-tested). Each column is damaged alone; the error names
the session, the column and what it must be; the file is left unchanged."""
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
