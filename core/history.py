"""Treatment history in SQLite (SRS-070..SRS-072; users and courses: SRS-190..SRS-200).

A session row is written and committed when the session starts, with outcome
'interrupted'; the end of the session updates it. A crash mid-session thus
leaves the row marked interrupted, never lost. `last_settings()` is "Last
Setting". A file that is not a readable ionto history gives a HistoryError
naming the file; it is never overwritten, repaired or deleted.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from core.settings import TherapySettings, parse_settings

__all__ = [
    "OUTCOMES",
    "DEFAULT_USER",
    "History",
    "HistoryError",
    "SessionRecord",
    "default_db_path",
]

OUTCOMES: tuple[str, ...] = ("completed", "stopped", "interrupted", "fault", "refused")
SCHEMA_VERSION = 3  # PRAGMA user_version of an ionto history

# Version 2 (SRS-093, SRS-090): why the session ended and how its checklist
# was answered. A version-1 file is migrated in place, in one transaction,
# keeping every session (the new columns stay NULL / empty for old rows).
_V2_COLUMNS = (
    "end_reason TEXT",                               # why it ended (time_up, a bound, ...)
    "checklist_mode TEXT",                           # asked, file_confirmed, file
    "checklist_file TEXT",                           # the file's path (file modes)
    "checklist_sha256 TEXT",                         # SHA-256 of the file's bytes
    "checklist_answers TEXT NOT NULL DEFAULT '{}'",  # JSON: the answers given
    "counts TEXT NOT NULL DEFAULT '{}'",             # JSON: pauses, cuts, ramp time, density events
)

# Version 3 (SRS-200, SRS-191): user profiles, each user's course per site and
# the scores given after a session; every session belongs to a user. A v2 (or
# v1) file is migrated in place in one transaction: its sessions all belong to
# the profile "default" (DEFAULT_USER), created by the migration without a
# year of birth: they were recorded before profiles existed, so nobody can say
# whose they were; the device's sole user so far is the best reading.
DEFAULT_USER = "default"
_V3_DDL = (
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,                  -- casefolded name: unique among active users
        born INTEGER,                            -- year of birth; NULL: unknown (migrated default)
        hdss INTEGER CHECK (hdss IS NULL OR hdss BETWEEN 1 AND 4),
        sites TEXT NOT NULL,                     -- JSON list of the sites treated
        pin_hash TEXT,                           -- scrypt$n$r$p$salt$hash, never the PIN
        created_at TEXT NOT NULL,
        removed_at TEXT                          -- set by `user remove`: sessions are kept
    )""",
    "CREATE UNIQUE INDEX users_active_name ON users(name_key) WHERE removed_at IS NULL",
    """CREATE TABLE courses (
        user_id INTEGER NOT NULL REFERENCES users(id),
        site TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT 'initial' CHECK (phase IN ('initial', 'maintenance')),
        hdss INTEGER CHECK (hdss IS NULL OR hdss BETWEEN 1 AND 4),
        per_month INTEGER NOT NULL DEFAULT 2 CHECK (per_month BETWEEN 1 AND 4),
        alternate_polarity INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        maintenance_since TEXT,
        PRIMARY KEY (user_id, site)
    )""",
    """CREATE TABLE scores (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id),
        hdss INTEGER NOT NULL CHECK (hdss BETWEEN 1 AND 4),
        discomfort INTEGER NOT NULL DEFAULT 0,
        given_at TEXT NOT NULL
    )""",
    "ALTER TABLE sessions ADD COLUMN user_id INTEGER REFERENCES users(id)",
)
_ALL_SITES_JSON = '["hands", "feet", "underarms"]'
# Additive tables of schema 3 (SRS-279, SRS-281), created by the first write
# that needs them, inside its transaction, so that opening, reading or a
# refused command never changes the file; a file without them has none.
# pin_attempts lives in its own file beside the history (SRS-282).
EXTRA_DDL = {
    "course_events": """CREATE TABLE IF NOT EXISTS course_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id),
        site TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('restart')),
        at TEXT NOT NULL,                        -- ISO 8601, UTC
        detail TEXT NOT NULL DEFAULT '{}'        -- JSON: the phase left, sessions counted
    )""",
    # a score given again for a session replaces the row in `scores`; the
    # row replaced is kept here (audit trail: a reported discomfort is never
    # lost, and it still blocks the +1 mA raise, SRS-198)
    "scores_superseded": """CREATE TABLE IF NOT EXISTS scores_superseded (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        hdss INTEGER NOT NULL CHECK (hdss BETWEEN 1 AND 4),
        discomfort INTEGER NOT NULL DEFAULT 0,
        given_at TEXT NOT NULL,                  -- when this score was given
        superseded_at TEXT NOT NULL              -- when a later score replaced it
    )""",
    "pin_attempts": """CREATE TABLE IF NOT EXISTS pin_attempts (
        user_id INTEGER PRIMARY KEY,             -- users.id of the history beside it
        failures INTEGER NOT NULL DEFAULT 0,     -- wrong PINs in a row
        locked_until TEXT                        -- ISO 8601, UTC; NULL: not locked
    )""",
}

_SESSIONS_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    settings TEXT NOT NULL,              -- TherapySettings as JSON
    site TEXT NOT NULL,
    current_ma REAL NOT NULL,
    minutes INTEGER NOT NULL,
    started_at TEXT NOT NULL,            -- ISO 8601, UTC
    ended_at TEXT,                       -- NULL until the session ends
    outcome TEXT NOT NULL DEFAULT 'interrupted'
        CHECK (outcome IN ('completed', 'stopped', 'interrupted', 'fault', 'refused')),
    treat_s REAL NOT NULL DEFAULT 0,
    delivered_mamin REAL NOT NULL DEFAULT 0,
    max_current_ma REAL NOT NULL DEFAULT 0,
    faults TEXT NOT NULL DEFAULT '[]',   -- JSON list of fault codes
    states TEXT NOT NULL DEFAULT '[]'    -- JSON list of states visited, in order
);
"""
# a new file: version 1's table, then every later step, one statement each
_SCHEMA: tuple[str, ...] = (_SESSIONS_V1,
                            *(f"ALTER TABLE sessions ADD COLUMN {c}" for c in _V2_COLUMNS),
                            *_V3_DDL)


_BUSY_TIMEOUT_S = 5.0  # sqlite3.connect's default wait for another program's lock


def _is_locked(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


class HistoryError(RuntimeError):
    """The history file cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class SessionRecord:
    session_id: int
    settings: dict[str, Any]
    started_at: str
    ended_at: str | None
    outcome: str
    treat_s: float
    delivered_mamin: float
    max_current_ma: float
    faults: list[str]
    states: list[str]
    end_reason: str | None = None          # schema 2; None for sessions of version 1
    checklist: dict[str, Any] | None = None  # mode, file, sha256, answers; None before 2
    counts: dict[str, Any] = field(default_factory=dict)  # schema 2: pauses, antishock_cuts, ...
    user_id: int | None = None              # schema 3: the user the session belongs to

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_db_path() -> Path:
    """Per-user history: $XDG_DATA_HOME/ionto/history.sqlite, else ~/.local/share/ionto/."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ionto" / "history.sqlite"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """How the history stores a time: ISO 8601 in UTC, to the millisecond."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


class History:
    """One open history database. Use as a context manager or call close()."""

    def __init__(self, path: str | Path | None = None, *, readonly: bool = False,
                 clock: Callable[[], datetime] | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        # readonly (SRS-281): opened with SQLite's mode=ro, never created,
        # migrated or written; a file not at schema 3 is refused, unchanged
        self.readonly = readonly
        # Set by the caller before a session (core.cli): whose session it is,
        # the device's wall clock, and the admission check (SRS-196) that
        # begin_session runs under the write lock, so that two programs can
        # never both pass it for one user and site.
        self.user_id: int | None = None
        # the command's clock (--now) also stamps what a migration creates
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.admit: Callable[["History"], None] | None = None
        existed = self.path.exists()
        if self.path.is_dir():
            raise HistoryError(f"history {self.path}: is a directory, not a history file")
        if readonly and not existed:
            raise HistoryError(f"history {self.path}: does not exist; a read does not create it")
        try:
            if readonly:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S)
            else:
                if not existed:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"history {self.path}: cannot open: {exc}") from None
        try:
            self._check_or_create()
        except HistoryError:
            self._db.close()
            raise

    def _check_or_create(self) -> None:
        try:
            # the first read fails on a file that is not SQLite ("not a database");
            # version and tables are read in one read transaction, so another
            # program setting the file up at the same moment is seen either not
            # at all or whole (never version 0 with its tables)
            self._db.execute("BEGIN")
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                tables = [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            finally:
                if self._db.in_transaction:
                    self._db.execute("COMMIT")
            if version == 0 and not tables and self.readonly:
                raise HistoryError(
                    f"history {self.path}: empty ({self.path.stat().st_size} bytes, no tables): not an "
                    "ionto history; a read does not set one up; the file was left unchanged")
            if version == 0 and not tables:  # new, empty file: ours to set up
                self._create()
                return
            ok = self._db.execute("PRAGMA quick_check").fetchone()[0]
        except (sqlite3.Error, UnicodeDecodeError) as exc:   # damaged table names decode badly
            if _is_locked(exc):
                raise HistoryError(
                    f"history {self.path}: locked by another program ({exc}); close it and "
                    "try again; the file was left unchanged") from None
            raise HistoryError(
                f"history {self.path}: unreadable or corrupt ({exc}); the file was left unchanged"
            ) from None
        if ok != "ok":
            raise HistoryError(f"history {self.path}: corrupt ({ok}); the file was left unchanged")
        if isinstance(version, int) and version > SCHEMA_VERSION and "sessions" in tables:
            raise HistoryError(
                f"history {self.path}: written by a newer ionto (schema version {version}); this "
                f"ionto reads schema versions up to {SCHEMA_VERSION}: use the newer ionto, or "
                "give --db another file; the file was left unchanged")
        if version in (1, 2) and "sessions" in tables and self.readonly:
            raise HistoryError(
                f"history {self.path}: schema version {version}; a read does not upgrade it: the next "
                f"command that writes the history (ionto session, ionto user add) upgrades it in place "
                f"to version {SCHEMA_VERSION}, keeping every session; the file was left unchanged")
        if version in (1, 2) and "sessions" in tables:
            self._migrate(version)
            return
        if version != SCHEMA_VERSION or "sessions" not in tables:
            raise HistoryError(
                f"history {self.path}: not an ionto history (schema version {version}, "
                f"expected {SCHEMA_VERSION}); the file was left unchanged"
            )

    def _create(self) -> None:
        """Set up a new file under the write lock; another program that set it
        up in the meantime is left to have done so (two first uses at once)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise HistoryError(f"history {self.path}: set up meanwhile by another program as schema "
                               f"version {version}; the file was left unchanged")

    def _migrate(self, version: int) -> None:
        """Version 1 or 2 -> 3 in place, in one transaction: every session kept
        and given to the profile "default"; on any error (or an interruption:
        SQLite's journal rolls an unfinished transaction back on the next open)
        the file is left as it was, still readable at its old version.

        The transaction is left OPEN (PR-041): it is committed with the
        command's first successful write, and a command refused before it
        closes the file, which rolls the migration back: the file's bytes are
        unchanged. The write lock is held meanwhile (one command at a time
        upgrades a file)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            # another program may have migrated it between our first read and the lock
            if self._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                self._db.execute("COMMIT")
                return
            if version == 1:
                for column in _V2_COLUMNS:
                    self._db.execute(f"ALTER TABLE sessions ADD COLUMN {column}")
            for ddl in _V3_DDL:
                self._db.execute(ddl)
            has_sessions = self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] > 0
            if has_sessions:
                cur = self._db.execute(
                    "INSERT INTO users (name, name_key, born, hdss, sites, pin_hash, created_at)"
                    " VALUES (?, ?, NULL, NULL, ?, NULL, ?)",
                    (DEFAULT_USER, DEFAULT_USER.casefold(), _ALL_SITES_JSON, iso_utc(self.clock())))
                self._db.execute("UPDATE sessions SET user_id = ?", (cur.lastrowid,))
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            # no COMMIT here: see above
        except sqlite3.Error as exc:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise HistoryError(f"history {self.path}: cannot migrate schema version {version} to "
                               f"{SCHEMA_VERSION} ({exc}); the file was left unchanged") from None

    # --- writing ------------------------------------------------------------
    def begin_session(self, settings: TherapySettings, started_at: str | None = None,
                      checklist: Any = None) -> int:
        """Write the session row, committed, with outcome 'interrupted'; return its id.

        `checklist` (a core.checklist.ChecklistRecord) says how the checklist
        was answered and with which answers (SRS-093)."""
        record = settings.to_record()
        mode = source = sha = None
        answers: dict[str, Any] = {}
        if checklist is not None:
            mode, source, sha = checklist.mode, checklist.source, checklist.sha256
            answers = checklist.answers_dict()
        try:
            # one write transaction: the admission check sees every session
            # committed by any program and no other can insert in between
            # (a migration still open holds that lock already: it commits with the row)
            if not self._db.in_transaction:
                self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path}: cannot write: {exc}") from None
        with self._write():
            if self.admit is not None:
                self.admit(self)
            cur = self._db.execute(
                "INSERT INTO sessions (settings, site, current_ma, minutes, started_at, outcome,"
                " checklist_mode, checklist_file, checklist_sha256, checklist_answers, user_id)"
                " VALUES (?, ?, ?, ?, ?, 'interrupted', ?, ?, ?, ?, ?)",
                (json.dumps(record, sort_keys=True), record["site"], record["current_ma"],
                 record["minutes"], started_at or iso_utc(self.clock()), mode, source, sha,
                 json.dumps(answers, sort_keys=True), self.user_id),
            )
        return int(cur.lastrowid)

    def update_progress(self, session_id: int, *, treat_s: float, delivered_mamin: float,
                        max_current_ma: float, faults: list[str] | None = None,
                        states: list[str] | None = None, wait_s: float | None = None) -> None:
        """Record the figures so far; the outcome stays 'interrupted' until end_session.

        `wait_s` bounds the wait for a lock held by another program (default:
        sqlite's 5 s): the supervisor calls this inside its control loop."""
        if wait_s is not None:
            self._db.execute(f"PRAGMA busy_timeout = {max(0, int(wait_s * 1000))}")
        try:
            self._update(session_id, "interrupted", None, treat_s, delivered_mamin,
                         max_current_ma, faults or [], states or [])
        finally:
            if wait_s is not None:
                self._db.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")

    def end_session(self, session_id: int, outcome: str, *, treat_s: float, delivered_mamin: float,
                    max_current_ma: float, faults: list[str] | None = None,
                    states: list[str] | None = None, ended_at: str | None = None,
                    end_reason: str | None = None, counts: dict[str, Any] | None = None) -> None:
        """Close the session row with its outcome, end reason and figures
        (`counts`: what the session bounds of SRS-090 counted)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
        self._update(session_id, outcome, ended_at or iso_utc(self.clock()), treat_s, delivered_mamin,
                     max_current_ma, faults or [], states or [])
        if end_reason is not None or counts:
            with self._write():
                self._db.execute("UPDATE sessions SET end_reason = ?, counts = ? WHERE id = ?",
                                 (None if end_reason is None else str(end_reason),
                                  json.dumps(counts or {}), session_id))

    def _update(self, session_id: int, outcome: str, ended_at: str | None, treat_s: float,
                delivered_mamin: float, max_current_ma: float, faults: list[str],
                states: list[str]) -> None:
        with self._write():
            cur = self._db.execute(
                "UPDATE sessions SET outcome = ?, ended_at = ?, treat_s = ?, delivered_mamin = ?,"
                " max_current_ma = ?, faults = ?, states = ? WHERE id = ?",
                (outcome, ended_at, float(treat_s), float(delivered_mamin), float(max_current_ma),
                 json.dumps([str(f) for f in faults]), json.dumps([str(s) for s in states]),
                 session_id),
            )
        if cur.rowcount != 1:
            raise HistoryError(f"history {self.path}: no session with id {session_id}")

    def _write(self):
        return _WriteTransaction(self)

    # --- reading --------------------------------------------------------------
    def list_sessions(self, user_id: int | None = None) -> list[SessionRecord]:
        """Every session, oldest first; only `user_id`'s if given."""
        where, params = ("", ()) if user_id is None else (" WHERE user_id = ?", (user_id,))
        try:
            rows = self._db.execute(
                "SELECT id, settings, started_at, ended_at, outcome, treat_s, delivered_mamin,"
                " max_current_ma, faults, states, end_reason, checklist_mode, checklist_file,"
                " checklist_sha256, checklist_answers, counts, user_id FROM sessions"
                + where + " ORDER BY id", params
            ).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path}: cannot read: {exc}") from None
        return [self._record(r) for r in rows]

    def _record(self, r: tuple) -> SessionRecord:
        """One stored row, checked: a row edited or damaged outside ionto gives a
        HistoryError naming the row, never a crash of the caller."""
        try:
            settings = json.loads(r[1])
            faults, states = json.loads(r[8]), json.loads(r[9])
        except (TypeError, ValueError, RecursionError) as exc:
            raise HistoryError(f"history {self.path}: session {r[0]}: stored data cannot be "
                               f"decoded ({exc}); the file was left unchanged") from None
        if not isinstance(settings, dict):
            raise HistoryError(f"history {self.path}: session {r[0]}: settings must be a "
                               f"mapping, got {type(settings).__name__}; the file was left unchanged")
        for name, value in (("faults", faults), ("states", states)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise HistoryError(f"history {self.path}: session {r[0]}: {name} must be a list "
                                   f"of text; the file was left unchanged")
        for name, value in (("treat_s", r[5]), ("delivered_mamin", r[6]),
                            ("max_current_ma", r[7])):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise HistoryError(f"history {self.path}: session {r[0]}: {name} = {value!r} "
                                   f"is not a number; the file was left unchanged")
        if not isinstance(r[2], str) or r[4] not in OUTCOMES:
            raise HistoryError(f"history {self.path}: session {r[0]}: start time or outcome "
                               f"{r[4]!r} not readable; the file was left unchanged")
        checklist = None
        if r[11] is not None:
            try:
                answers = json.loads(r[14])
            except (TypeError, ValueError, RecursionError) as exc:
                raise HistoryError(f"history {self.path}: session {r[0]}: checklist answers cannot "
                                   f"be decoded ({exc}); the file was left unchanged") from None
            checklist = {"mode": r[11], "file": r[12], "sha256": r[13], "answers": answers}
        counts = self._json_mapping(r[0], "counts", r[15])
        return SessionRecord(r[0], settings, r[2], r[3], r[4], float(r[5]), float(r[6]),
                             float(r[7]), faults, states, end_reason=r[10], checklist=checklist,
                             counts=counts, user_id=r[16])

    def last_settings(self, user_id: int | None = None, site: str | None = None, *,
                      unowned: bool = False) -> TherapySettings | None:
        """"Last Setting": the settings of the most recent session, or None if there is none;
        with `user_id` / `site`, of that user's / site's most recent session
        (SRS-198); with `unowned`, only of sessions that belong to no user.

        The stored settings are validated again against today's limits; if a
        limit was tightened since, this raises SettingsError rather than
        recalling a value no longer allowed.
        """
        try:
            row = self._db.execute(
                "SELECT settings, id FROM sessions WHERE (? IS NULL OR user_id = ?)"
                " AND (? IS NULL OR site = ?) AND (? = 0 OR user_id IS NULL)"
                " ORDER BY id DESC LIMIT 1",
                (user_id, user_id, site, site, int(unowned))).fetchone()
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path}: cannot read: {exc}") from None
        if row is None:
            return None
        return parse_settings(self._json_mapping(row[1], "settings", row[0]))

    def _json_mapping(self, session_id: int, name: str, text: Any) -> dict[str, Any]:
        """A stored JSON mapping, checked: damage gives a HistoryError naming
        the session and the field, never a crash of the caller."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError, RecursionError) as exc:
            raise HistoryError(f"history {self.path}: session {session_id}: {name} cannot be "
                               f"decoded ({exc}); the file was left unchanged") from None
        if not isinstance(data, dict):
            raise HistoryError(f"history {self.path}: session {session_id}: {name} must be a "
                               f"mapping, got {type(data).__name__}; the file was left unchanged")
        return data

    # --- for core.users and core.course ----------------------------------------
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a read; a SQLite error becomes a HistoryError naming the file."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path}: cannot read: {exc}") from None

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """A statement inside the transaction already open (the `admit` check
        of begin_session): committed or rolled back with the session row."""
        return self._db.execute(sql, params)

    def write(self, sql: str, params: tuple = ()) -> int:
        """One committed write; returns the new row id (or rows changed)."""
        with self._write():
            cur = self._db.execute(sql, params)
        return int(cur.lastrowid if sql.lstrip().upper().startswith("INSERT") else cur.rowcount)

    def has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def ensure_table(self, name: str) -> None:
        """One of EXTRA_DDL, created (committed) if missing; only a write calls this."""
        if not self.has_table(name):
            with self._write():
                self._db.execute(EXTRA_DDL[name])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _WriteTransaction:
    """Commit on success, roll back on error; SQLite errors become HistoryError."""

    def __init__(self, history: History):
        self.history = history

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        db = self.history._db
        if exc is None:
            try:
                db.commit()
                return False
            except sqlite3.Error as err:
                exc = err
        db.rollback()
        if isinstance(exc, sqlite3.Error):
            raise HistoryError(f"history {self.history.path}: cannot write: {exc}") from None
        return False
