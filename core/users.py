"""User profiles of a shared device (SRS-190..SRS-193).

A profile is a name, a year of birth, the sites treated, an optional severity
(HDSS 1-4) and an optional PIN; it lives in the history database (schema 3).
Every input is checked here, where it enters, and a bad one gives a UserError
naming the field, the value and the allowed range. The PIN is stored only as
a salted scrypt hash (SRS-192). Removing a profile marks it removed; its
sessions stay in the history for the audit trail (SRS-193).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.history import DEFAULT_USER, EXTRA_DDL, History, HistoryError, iso_utc
from core.settings import Site

__all__ = [
    "BORN_MIN",
    "MIN_AGE_YEARS",
    "NAME_MAX",
    "PIN_DIGITS",
    "User",
    "UserError",
    "add_user",
    "age_refusal",
    "check_pin",
    "find_user",
    "hash_pin",
    "list_users",
    "parse_born",
    "parse_hdss",
    "parse_name",
    "parse_pin",
    "parse_sites",
    "remove_user",
    "resolve_user",
    "update_user",
]

NAME_MAX = 32                       # characters
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*\Z")
BORN_MIN = 1900                     # oldest year of birth accepted
MIN_AGE_YEARS = 5                   # domain.md, Contraindications: "children under 5"
HDSS_RANGE = (1, 4)                 # Hyperhidrosis Disease Severity Scale
PIN_DIGITS = (4, 8)                 # a PIN is 4 to 8 digits
# SRS-282: after 5 wrong PINs in a row the profile is locked for 15 min, on
# the device's own clock (never --now), stored in the history so that a
# restart does not reset it: a 4-digit PIN then takes 10**4 / 2 / 5 x 15 min
# = about 10 days of guessing on average, instead of seconds
PIN_ATTEMPTS_MAX = 5
PIN_LOCKOUT = timedelta(minutes=15)
# scrypt cost (RFC 7914 parameters; n = 2**14, r = 8 is the interactive-login
# figure of the scrypt paper): about 16 MiB and a few tens of ms per guess
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SALT_BYTES = 2**14, 8, 1, 16
ALL_SITES = tuple(s.value for s in Site)


class UserError(ValueError):
    """Bad input about a user, or a user that cannot be used: exit 1."""


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    born: int | None          # None: unknown (the "default" profile of a migrated history)
    hdss: int | None
    sites: tuple[str, ...]
    has_pin: bool
    created_at: str
    removed_at: str | None

    def to_dict(self) -> dict:
        return {"name": self.name, "born": self.born, "hdss": self.hdss, "sites": list(self.sites),
                "pin": self.has_pin, "created_at": self.created_at, "removed_at": self.removed_at}


# --- parsing (each names its field and range) ------------------------------------
def parse_name(text: str) -> str:
    name = (text or "").strip()
    if not name or len(name) > NAME_MAX or not _NAME_RE.match(name):
        raise UserError(f"name: {text!r} is not allowed; allowed: 1..{NAME_MAX} characters, "
                        "letters, digits, space, '.', '_', '-', starting with a letter or digit")
    return name


def parse_born(text: str | int, now: datetime) -> int:
    try:
        year = int(str(text).strip(), 10)
    except ValueError:
        raise UserError(f"--born (year of birth): {text!r} is not a year; allowed "
                        f"{BORN_MIN}..{now.year}") from None
    if not BORN_MIN <= year <= now.year:
        raise UserError(f"--born (year of birth): {year} is outside the allowed range "
                        f"{BORN_MIN}..{now.year} (the device clock's year)")
    return year


def parse_hdss(text: str | int) -> int:
    lo, hi = HDSS_RANGE
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        raise UserError(f"--hdss (sweating severity, HDSS): {text!r} is not a whole number; "
                        f"allowed {lo}..{hi}") from None
    if not lo <= value <= hi:
        raise UserError(f"--hdss (sweating severity, HDSS): {value} is outside the allowed "
                        f"range {lo}..{hi}")
    return value


def parse_sites(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ALL_SITES
    sites = tuple(dict.fromkeys(s.strip() for s in text.split(",")))
    bad = [s for s in sites if s not in ALL_SITES]
    if bad or not sites:
        raise UserError(f"--sites: {text!r} is not allowed; allowed: one or more of "
                        f"{', '.join(ALL_SITES)}, separated by commas")
    return sites


def parse_pin(text: str) -> str:
    lo, hi = PIN_DIGITS
    pin = text.strip()
    if not (pin.isascii() and pin.isdigit() and lo <= len(pin) <= hi):
        # the PIN itself is never echoed
        raise UserError(f"PIN: must be {lo}..{hi} digits (0-9); {len(pin)} characters given")
    return pin


# --- PIN --------------------------------------------------------------------------
def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """Salted scrypt hash; the PIN itself is never stored (SRS-192)."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False   # a damaged hash never matches
    return hmac.compare_digest(got.hex(), digest)


# --- the table ---------------------------------------------------------------------
_COLUMNS = "id, name, born, hdss, sites, pin_hash IS NOT NULL, created_at, removed_at"


def _user(row: tuple) -> User:
    try:
        sites = tuple(json.loads(row[4]))
    except (TypeError, ValueError):
        sites = ()
    return User(row[0], row[1], row[2], row[3], sites, bool(row[5]), row[6], row[7])


def list_users(history: History, *, include_removed: bool = False) -> list[User]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return [_user(r) for r in history.query(f"SELECT {_COLUMNS} FROM users{where} ORDER BY id")]


def no_active_profile_refusal(history: History) -> str | None:
    """Why a session without --user may not use the implied profile "default"
    (SRS-191, PR-040 review 3): it exists only for a history that never had a
    profile. With removed profiles and no active one, a fresh "default" would
    start the frequency guard and the age check from nothing."""
    removed = list_users(history, include_removed=True)
    if not removed:
        return None
    names = ", ".join(sorted({u.name for u in removed}))
    return (f"--user: the history has no active user profile, only removed ones ({names}); a "
            "profile is not created implicitly once one has existed: restore one with "
            "`ionto user restore NAME` or add one with `ionto user add NAME --born YEAR`, then give "
            "--user NAME; nothing was energised")


def find_user(history: History, name: str) -> User | None:
    rows = history.query(f"SELECT {_COLUMNS} FROM users WHERE name_key = ? AND removed_at IS NULL",
                         (name.strip().casefold(),))
    return _user(rows[0]) if rows else None


def _pin_hash(history: History, user: User) -> str | None:
    rows = history.query("SELECT pin_hash FROM users WHERE id = ?", (user.user_id,))
    return rows[0][0] if rows else None


def add_user(history: History, name: str, born: int | None, *, hdss: int | None = None,
             sites: tuple[str, ...] = ALL_SITES, pin: str | None = None,
             now: datetime) -> User:
    name = parse_name(name)
    if find_user(history, name) is not None:
        raise UserError(f"name: a user {name!r} exists already (names are compared ignoring "
                        "case); choose another name")
    removed = find_removed_user(history, name)
    if removed is not None and removed[1] > 0:
        # a new profile under the old name would start the course and the
        # frequency guard from nothing (SRS-193, HAZ-11)
        raise UserError(f"name: a removed profile {removed[0].name!r} with {removed[1]} sessions "
                        f"exists; restore it with `ionto user restore {removed[0].name}` (its "
                        "sessions, course and frequency guard go on), or choose another name "
                        "(one person, one profile); nothing was changed")
    history.write(
        "INSERT INTO users (name, name_key, born, hdss, sites, pin_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, name.casefold(), born, hdss, json.dumps(list(sites)),
         None if pin is None else hash_pin(pin), iso_utc(now)))
    user = find_user(history, name)
    assert user is not None
    return user


def update_user(history: History, user: User, *, born: int | None = None,
                hdss: int | None = None) -> User:
    if born is not None:
        history.write("UPDATE users SET born = ? WHERE id = ?", (born, user.user_id))
    if hdss is not None:
        history.write("UPDATE users SET hdss = ? WHERE id = ?", (hdss, user.user_id))
    return find_user(history, user.name) or user


def removed_profiles(history: History, name: str) -> list[tuple[User, int, str | None]]:
    """Every removed profile of this name (ignoring case): (user, sessions,
    start of its last session or None), oldest profile first."""
    rows = history.query(f"SELECT {_COLUMNS} FROM users WHERE name_key = ? AND removed_at IS NOT NULL"
                         " ORDER BY id", (name.strip().casefold(),))
    found = []
    for row in rows:
        user = _user(row)
        count, last = history.query("SELECT COUNT(*), MAX(started_at) FROM sessions WHERE user_id = ?",
                                    (user.user_id,))[0]
        found.append((user, int(count), last))
    return found


def _when(text: str | None) -> datetime:
    """A stored time for ordering; unreadable or absent sorts first."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def find_removed_user(history: History, name: str) -> tuple[User, int] | None:
    """The removed profile of this name to restore, chosen by its sessions,
    never by the removal time (a typed clock can set that; SRS-280, PR-040):
    the profile with sessions; of several with sessions, the one whose last
    session started latest (the person's current course); of none with
    sessions, the newest profile. None if there is no removed profile."""
    found = removed_profiles(history, name)
    if not found:
        return None
    with_sessions = [f for f in found if f[1] > 0]
    if with_sessions:
        pick = max(with_sessions, key=lambda f: (_when(f[2]), f[0].user_id))
    else:
        pick = found[-1]
    return pick[0], pick[1]


def restore_user(history: History, user: User) -> User:
    """Undo `remove`: the same profile, with its sessions, course and guard (SRS-193)."""
    if find_user(history, user.name) is not None:
        raise UserError(f"name: an active user {user.name!r} exists already; remove it first or "
                        "keep it; nothing was changed")
    history.write("UPDATE users SET removed_at = NULL WHERE id = ?", (user.user_id,))
    restored = find_user(history, user.name)
    assert restored is not None
    return restored


def remove_user(history: History, user: User, now: datetime) -> int:
    """Mark the profile removed; its sessions stay (audit trail). Returns how many."""
    history.write("UPDATE users SET removed_at = ? WHERE id = ?", (iso_utc(now), user.user_id))
    return history.query("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user.user_id,))[0][0]


def resolve_user(history: History, name: str | None, *, create_default: bool = False,
                 now: datetime | None = None) -> User:
    """The user a command acts for (SRS-191). With `--user NAME`, that profile.
    Without it: the only active profile if there is exactly one; on a history
    with no profile at all, the profile "default" (created when a session is
    to be recorded); with two or more, refused: the user must be named."""
    if name is not None:
        user = find_user(history, parse_name(name))
        if user is None:
            if removed_profiles(history, parse_name(name)):   # the same person: restore, never re-add
                raise UserError(f"--user: user {name!r} was removed from {history.path}; restore the "
                                f"profile with its sessions and course: `ionto user restore {name}`")
            names = [u.name for u in list_users(history)]
            raise UserError(f"--user: no user {name!r} in {history.path}; users: "
                            f"{', '.join(names) if names else 'none (add one: ionto user add NAME --born YEAR)'}")
        return user
    users = list_users(history)
    if len(users) == 1:
        return users[0]
    if not users and create_default:
        return add_user(history, DEFAULT_USER, None, now=now or datetime.now().astimezone())
    if not users:
        raise UserError(f"--user: {history.path} has no user profile; add one with "
                        "`ionto user add NAME --born YEAR`")
    raise UserError(f"--user: {history.path} has {len(users)} users "
                    f"({', '.join(u.name for u in users)}); give --user NAME")


def _utc_now() -> datetime:
    """The device's own clock for the PIN lockout: a typed --now never moves it."""
    return datetime.now(timezone.utc)


def pin_attempts_path(history: History):
    """The wrong-PIN record beside the history (SRS-282): a file of its own, so
    that a wrong PIN changes no byte of the history (SRS-192) and a read-only
    command (SRS-281) can still count it; it survives a restart like the history.
    Keyed by the history's real path: a symbolic link to the history (or a
    relative name) reaches the same record, so it cannot sidestep a lockout."""
    real = Path(os.path.realpath(history.path))
    return real.with_name(real.name + ".pin-attempts")


def _pin_state(history: History, user: User) -> tuple[int, datetime | None]:
    path = pin_attempts_path(history)
    if not path.exists():
        return 0, None
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            rows = con.execute("SELECT failures, locked_until FROM pin_attempts WHERE user_id = ?",
                               (user.user_id,)).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        # unreadable: treated as locked for a full period, never as no lockout
        return 0, _utc_now() + PIN_LOCKOUT
    if not rows:
        return 0, None
    until = None
    if rows[0][1]:
        try:
            until = datetime.fromisoformat(rows[0][1])
        except ValueError:    # damaged: locked for a full period from now
            until = _utc_now() + PIN_LOCKOUT
    return int(rows[0][0] or 0), until


def _store_pin_state(history: History, user: User, failures: int, until: datetime | None) -> None:
    """Committed at once, so that a crash cannot forget a wrong PIN."""
    try:
        con = sqlite3.connect(pin_attempts_path(history), timeout=5.0)
        try:
            with con:
                con.execute(EXTRA_DDL["pin_attempts"])
                con.execute("INSERT OR REPLACE INTO pin_attempts (user_id, failures, locked_until)"
                            " VALUES (?, ?, ?)", (user.user_id, failures,
                                                  None if until is None else iso_utc(until)))
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise HistoryError(f"history {history.path}: cannot record the PIN attempt in "
                           f"{pin_attempts_path(history)}: {exc}") from None


def unlock(history: History, user: User, read_pin) -> None:
    """A user with a PIN is usable only with it (SRS-192). `read_pin()` returns
    the PIN typed; a wrong one is refused, naming the user, nothing changed
    but the count of wrong PINs: the 5th in a row locks the profile for
    15 min (SRS-282), during which no PIN is asked or accepted."""
    stored = _pin_hash(history, user)
    if stored is None:
        return
    now = _utc_now()
    failures, until = _pin_state(history, user)
    if until is not None and now < until:
        raise UserError(f"PIN: user {user.name!r} is locked after {PIN_ATTEMPTS_MAX} wrong PINs until "
                        f"{until.isoformat(timespec='seconds')} (device clock); nothing was shown or changed")
    pin = read_pin()
    if pin is None or not pin.strip():
        # nothing typed or piped: an input error, not a guess, so it is not
        # counted (else anyone could lock a member out with </dev/null)
        raise UserError(f"PIN: wrong or missing PIN for user {user.name!r}: none was given (allowed: "
                        f"{PIN_DIGITS[0]}..{PIN_DIGITS[1]} "
                        "digits; asked on a terminal, else the first line of stdin); not counted as a "
                        "wrong PIN; nothing was shown or changed")
    if not check_pin(pin.strip(), stored):
        failures = 0 if until is not None else failures   # a lockout that ran out starts a new count
        failures += 1
        if failures >= PIN_ATTEMPTS_MAX:
            lock = now + PIN_LOCKOUT
            _store_pin_state(history, user, 0, lock)
            raise UserError(f"PIN: wrong or missing PIN for user {user.name!r}; {PIN_ATTEMPTS_MAX} wrong "
                            f"PINs in a row: locked until {lock.isoformat(timespec='seconds')} (device "
                            "clock); nothing was shown or changed")
        _store_pin_state(history, user, failures, None)
        raise UserError(f"PIN: wrong or missing PIN for user {user.name!r} ({failures} of "
                        f"{PIN_ATTEMPTS_MAX} before a {PIN_LOCKOUT.seconds // 60} min lockout); nothing "
                        "was shown or changed")
    if failures or until is not None:
        _store_pin_state(history, user, 0, None)


def age_refusal(user: User, now: datetime) -> str | None:
    """Why this profile may not start a session on `now`'s date, or None
    (SRS-190). With only a year of birth, the age is certain to be at least
    (year now - year born - 1): a profile is allowed from the calendar year of
    its 6th birthday, the first in which it is surely 5 or older."""
    if user.born is None:
        return None   # unknown (migrated default profile): the checklist question decides
    surely = now.year - user.born - 1
    if surely < MIN_AGE_YEARS:
        return (f"user {user.name!r} (born {user.born}) may be under {MIN_AGE_YEARS} years on "
                f"{now.date().isoformat()}: children under {MIN_AGE_YEARS} must not be treated "
                f"(allowed from {user.born + MIN_AGE_YEARS + 1}); nothing was energised")
    return None
