"""The history's and the profiles' I/O-error and refusal paths (issue 12
point 3): a file another program holds locked, a read-only open of a missing
file, a damaged PIN-attempts record, a restore over an active profile."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from core.history import History, HistoryError
from core.settings import parse_settings
from core.users import (DEFAULT_USER, UserError, add_user, pin_attempts_path, remove_user,
                        resolve_user, restore_user, unlock)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
SETTINGS = parse_settings({"site": "hands", "current_ma": 10.0, "minutes": 10})


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        yield h


def _locked_by_another_program(path, *, exclusive: bool):
    """A second connection holding the write lock (EXCLUSIVE: readers too)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN IMMEDIATE")
    return other


# -- history (SRS-070, SRS-071, SRS-281) ------------------------------------------------------
@pytest.mark.req("SRS-281")
def test_a_read_only_open_of_a_missing_history_is_refused_and_creates_nothing(tmp_path):
    path = tmp_path / "none" / "h.sqlite"
    with pytest.raises(HistoryError) as err:
        History(path, readonly=True)
    assert str(err.value) == f"history {path}: does not exist; a read does not create it"
    assert not path.exists() and not path.parent.exists()


@pytest.mark.req("SRS-071")
def test_a_session_row_refused_while_another_program_writes_is_named_and_nothing_is_added(hist):
    hist.begin_session(SETTINGS)
    hist.execute("PRAGMA busy_timeout = 0")   # do not wait the 5 s default in a test
    other = _locked_by_another_program(hist.path, exclusive=False)
    try:
        with pytest.raises(HistoryError) as err:
            hist.begin_session(SETTINGS)
        assert str(err.value) == f"history {hist.path}: cannot write: database is locked"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [r.session_id for r in hist.list_sessions()] == [1]


@pytest.mark.req("SRS-070")
def test_reads_while_another_program_holds_the_file_exclusively_are_named_errors(hist):
    hist.begin_session(SETTINGS)
    hist.execute("PRAGMA busy_timeout = 0")
    other = _locked_by_another_program(hist.path, exclusive=True)
    try:
        other.execute("UPDATE sessions SET outcome = 'completed'")   # takes the exclusive lock now
        expected = f"history {hist.path}: cannot read: database is locked"
        for read in (hist.list_sessions, hist.last_settings,
                     lambda: hist.query("SELECT COUNT(*) FROM sessions")):
            with pytest.raises(HistoryError) as err:
                read()
            assert str(err.value) == expected
    finally:
        other.execute("ROLLBACK")
        other.close()
    # nothing changed: the other program rolled back, the row is as written
    assert [(r.session_id, r.outcome) for r in hist.list_sessions()] == [(1, "interrupted")]


# -- profiles (SRS-191, SRS-193, SRS-282) --------------------------------------------------
@pytest.mark.req("SRS-191")
def test_a_history_without_profiles_gets_the_default_profile_when_a_session_is_recorded(hist):
    with pytest.raises(UserError) as err:
        resolve_user(hist, None)
    assert "has no user profile; add one with `ionto user add NAME --born YEAR`" in str(err.value)
    user = resolve_user(hist, None, create_default=True, now=NOW)
    assert user.name == DEFAULT_USER
    assert resolve_user(hist, None).user_id == user.user_id   # the only profile: implied


@pytest.mark.req("SRS-193")
def test_restore_over_an_active_profile_of_that_name_is_refused_and_changes_nothing(hist):
    old = add_user(hist, "Ann", 1990, now=NOW)
    remove_user(hist, old, NOW)
    new = add_user(hist, "ann", 1985, now=NOW)   # no sessions: a new profile is allowed
    with pytest.raises(UserError) as err:
        restore_user(hist, old)
    assert str(err.value) == ("name: an active user 'Ann' exists already; remove it first or keep it; "
                              "nothing was changed")
    assert resolve_user(hist, "ann").user_id == new.user_id
    assert hist.query("SELECT removed_at IS NOT NULL FROM users WHERE id = ?", (old.user_id,)) == [(1,)]


def _never_asked():
    raise AssertionError("the PIN must not be asked while the profile is locked")


@pytest.mark.req("SRS-282")
def test_an_unreadable_pin_attempts_record_locks_for_a_full_period_without_asking(hist):
    user = add_user(hist, "Ann", 1990, pin="1234", now=NOW)
    pin_attempts_path(hist).write_bytes(b"not a database" * 100)
    before = datetime.now(timezone.utc)
    with pytest.raises(UserError) as err:
        unlock(hist, user, _never_asked)
    message = str(err.value)
    assert message.startswith("PIN: user 'Ann' is locked after 5 wrong PINs until ")
    until = datetime.fromisoformat(message.split(" until ")[1].split(" (device clock)")[0])
    # a full 15 min from now (to the second), never "no lockout"
    assert 15 * 60 - 1 <= (until - before).total_seconds() <= 15 * 60 + 60


@pytest.mark.req("SRS-282")
def test_a_damaged_lock_time_locks_for_a_full_period_without_asking(hist):
    user = add_user(hist, "Ann", 1990, pin="1234", now=NOW)
    with pytest.raises(UserError):
        unlock(hist, user, lambda: "9999")          # one wrong PIN: the record exists
    con = sqlite3.connect(pin_attempts_path(hist))
    with con:
        con.execute("UPDATE pin_attempts SET locked_until = 'soon' WHERE user_id = ?", (user.user_id,))
    con.close()
    with pytest.raises(UserError) as err:
        unlock(hist, user, _never_asked)
    assert "is locked after 5 wrong PINs until " in str(err.value)


@pytest.mark.req("SRS-282")
def test_another_profiles_wrong_pins_do_not_count_against_this_one(hist):
    ann = add_user(hist, "Ann", 1990, pin="1234", now=NOW)
    bob = add_user(hist, "Bob", 1980, pin="5678", now=NOW)
    for _ in range(4):
        with pytest.raises(UserError):
            unlock(hist, ann, lambda: "0000")
    asked = []
    unlock(hist, bob, lambda: asked.append(1) or "5678")   # no record for Bob: unlocked
    assert asked == [1]
    with pytest.raises(UserError) as err:
        unlock(hist, bob, lambda: "0000")
    assert "(1 of 5 before a 15 min lockout)" in str(err.value)
