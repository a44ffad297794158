"""The course of treatment per user and site (SRS-197, SRS-198) and the
frequency guard (SRS-073, SRS-194..SRS-196).

Every number here is set, with its rationale, by the requirement that cites
it (spec/requirements.yaml); domain.md sections in brackets.

The course is computed from the history, never stored twice: the sessions of
the user at the site, the scores given after them, and the user's choices
(severity, maintenance sessions a month) in the `courses` table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from core.history import DEFAULT_USER, History, HistoryError, SessionRecord, iso_utc
from core.limits import load_limits
from core.users import (ALL_SITES, User, age_refusal, find_user, list_users,
                        no_active_profile_refusal, parse_hdss)

__all__ = [
    "CourseStatus",
    "FrequencyRefused",
    "HDSS_TARGET_SESSIONS",
    "MIN_EFFECTIVE_TREAT_S",
    "admission",
    "check_write_clock",
    "course_status",
    "counts_toward_course",
    "counts_for_guard",
    "frequency_decision",
    "record_score",
    "set_course",
]

# [Session length] "10 min works as well as 30; under 10 min fails" (H94)
MIN_EFFECTIVE_TREAT_S = 600.0
# [Course] "initial treatment 9-18 sessions (by severity)": HDSS 1..4 spread
# evenly over 9..18, 3 sessions a step; not stated -> the longest course
HDSS_TARGET_SESSIONS = {1: 9, 2: 12, 3: 15, 4: 18}
TARGET_UNSTATED = 18
# [Initial phase] "never more than 1/day or 5/week" (DD); rolling windows in
# UTC, so midnight, time zones and daylight saving cannot open a gap
INITIAL_DAY = timedelta(hours=24)
INITIAL_PER_DAY = 1
INITIAL_WEEK = timedelta(days=7)
INITIAL_PER_WEEK = 5
# [Maintenance] 1-4/month (product description); "1-3/week" (K241267) is the
# densest maintenance in any source: 7 days / 3 = 56 h is the minimum interval
MONTH = timedelta(days=30)
PER_MONTH_RANGE = (1, 4)
PER_MONTH_DEFAULT = 2          # every 2 weeks: the middle of "every 2-4 weeks" (RAF)
MAINTENANCE_MIN_INTERVAL = timedelta(hours=56)
# [Initial phase] "raise by 1 mA per session" (DD)
RAISE_STEP_MA = 1.0
# the raise rests on the set current held for the set time: in the treatment
# phase (ramps left out) the charge must reach 90 % of set current x set time
# AND the current must be at the set current 90 % of that time (SRS-277; PR-042: a
# load rising to 5 kOhm held 15 mA for 40 s of 10 min, 43 %, with a peak of
# 15.03 mA). 10 % leaves room for the accuracy of SRS-002 (1 %) and a few
# anti-shock cuts or short pauses; a session lowered by the density limit
# (SRS-092) or the compliance for long does not reach it.
RAISE_MIN_CHARGE_PERCENT = 90.0
# HDSS 1: "never noticeable, never interferes" = normal sweating; two scores
# in a row so that one good day does not end the initial phase
NORMAL_HDSS = 1
NORMAL_SCORES_IN_A_ROW = 2

_LIMITS = load_limits()


class FrequencyRefused(HistoryError):
    """A session that would break the frequency guard, the age rule or the clock
    check: refused before Start, nothing energised; the message says why and,
    for the guard, the next allowed time."""


@dataclass
class CourseStatus:
    user: str
    site: str
    phase: str
    hdss: int | None
    target_sessions: int
    counted_sessions: int
    per_month: int
    alternate_polarity: bool
    maintenance_since: str | None
    next_allowed: str | None          # None: allowed now
    next_allowed_rule: str | None
    next_due: str | None
    last_settings: dict[str, Any] | None
    suggestion: dict[str, Any] | None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    restarts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def to_go(self) -> int:
        return 0 if self.phase == "maintenance" else max(0, self.target_sessions - self.counted_sessions)

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "site": self.site, "phase": self.phase, "hdss": self.hdss,
                "target_sessions": self.target_sessions, "sessions_done": self.counted_sessions,
                "sessions_to_go": self.to_go, "per_month": self.per_month,
                "alternate_polarity": self.alternate_polarity,
                "maintenance_since": self.maintenance_since, "next_allowed": self.next_allowed,
                "next_allowed_rule": self.next_allowed_rule, "next_due": self.next_due,
                "last_settings": self.last_settings, "suggestion": self.suggestion,
                "restarts": self.restarts, "sessions": self.sessions}


def parse_time(text: str) -> datetime:
    """A stored or given ISO 8601 time with its offset, as an aware datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment


def _start_time(history: History, session_id: int, text: Any, what: str = "start time") -> datetime:
    try:
        return parse_time(text)
    except (TypeError, ValueError):
        raise FrequencyRefused(f"history {history.path}: session {session_id}: {what} {text!r} is "
                               "not readable; the frequency guard cannot be checked; the file was "
                               "left unchanged") from None


def counts_for_guard(r: SessionRecord) -> bool:
    """A session the frequency guard counts: any that may have delivered
    current. An interrupted row (a crash) counts: how much it gave is unknown."""
    return r.outcome == "interrupted" or r.delivered_mamin > 0 or r.treat_s > 0


def counts_toward_course(r: SessionRecord) -> bool:
    """A session that counts toward the course: treatment time reached the
    minimum effective time (10 min), whatever the outcome."""
    return r.treat_s >= MIN_EFFECTIVE_TREAT_S


# --- the course table ------------------------------------------------------------
def _course_row(history: History, user: User, site: str) -> tuple[int | None, int, bool]:
    rows = history.query("SELECT hdss, per_month, alternate_polarity FROM courses"
                         " WHERE user_id = ? AND site = ?", (user.user_id, site))
    if rows:
        return rows[0][0], rows[0][1], bool(rows[0][2])
    return user.hdss, PER_MONTH_DEFAULT, False


def _kept_phase(history: History, user: User, site: str) -> tuple[str, str | None]:
    """The phase stored as reached (SRS-279): 'maintenance' once reached is
    kept whatever the severity or the scores say later; 'initial' otherwise."""
    rows = history.query("SELECT phase, maintenance_since FROM courses WHERE user_id = ? AND site = ?",
                         (user.user_id, site))
    if rows and rows[0][0] == "maintenance":
        return "maintenance", rows[0][1]
    return "initial", None


def restarts(history: History, user: User, site: str) -> list[dict[str, Any]]:
    """The recorded course restarts of this user and site, oldest first (SRS-279)."""
    if not history.has_table("course_events"):
        return []
    rows = history.query("SELECT at, detail FROM course_events WHERE user_id = ? AND site = ?"
                         " AND kind = 'restart' ORDER BY id", (user.user_id, site))
    found = []
    for at, detail in rows:
        try:
            data = json.loads(detail)
        except (TypeError, ValueError, RecursionError):
            data = {}
        found.append({"at": at, **(data if isinstance(data, dict) else {})})
    return found


def keep_reached_phase(history: History, user: User, site: str, now: datetime) -> None:
    """Before a change that could move the phase back (severity, a score):
    store the phase reached so far (SRS-279, PR-043)."""
    status = course_status(history, user, site, now)
    if status.phase == "maintenance":
        _ensure_course(history, user, site, now)
        history.write("UPDATE courses SET phase = 'maintenance', maintenance_since = ?"
                      " WHERE user_id = ? AND site = ? AND phase <> 'maintenance'",
                      (status.maintenance_since, user.user_id, site))


def restart_course(history: History, user: User, site: str, now: datetime) -> dict[str, Any]:
    """Back to the initial phase: only by this explicit, confirmed call, recorded
    in course_events with the phase left and the sessions counted (SRS-279).
    Sessions before the restart stay in the history and in the frequency
    guard; only later ones count toward the new initial phase."""
    status = course_status(history, user, site, now)
    if status.phase != "maintenance":
        raise ValueError(f"--site: the course of user {user.name!r} at {site} is in the initial "
                         "phase already; nothing to restart; nothing was changed")
    history.ensure_table("course_events")
    _ensure_course(history, user, site, now)
    detail = {"from_phase": status.phase, "maintenance_since": status.maintenance_since,
              "sessions_counted": status.counted_sessions}
    with history._write():
        history.execute("INSERT INTO course_events (user_id, site, kind, at, detail)"
                        " VALUES (?, ?, 'restart', ?, ?)",
                        (user.user_id, site, iso_utc(now), json.dumps(detail, sort_keys=True)))
        # the new initial phase is sized by the profile's severity as it is now
        # (a stale course severity would keep a mistyped HDSS's target)
        history.execute("UPDATE courses SET phase = 'initial', maintenance_since = NULL,"
                        " hdss = COALESCE(?, hdss) WHERE user_id = ? AND site = ?",
                        (user.hdss, user.user_id, site))
    return {"at": iso_utc(now), **detail}


def _ensure_course(history: History, user: User, site: str, now: datetime) -> None:
    history.write("INSERT OR IGNORE INTO courses (user_id, site, hdss, per_month, started_at)"
                  " VALUES (?, ?, ?, ?, ?)", (user.user_id, site, user.hdss, PER_MONTH_DEFAULT,
                                               iso_utc(now)))


def set_course(history: History, user: User, site: str, now: datetime, *,
               per_month: int | None = None, hdss: int | None = None,
               alternate_polarity: bool | None = None) -> None:
    if per_month is not None:
        lo, hi = PER_MONTH_RANGE
        if isinstance(per_month, bool) or not lo <= per_month <= hi:
            raise ValueError(f"--per-month (maintenance sessions a month): {per_month} is outside "
                             f"the allowed range {lo}..{hi}")
    if hdss is not None:
        hdss = parse_hdss(hdss)
        keep_reached_phase(history, user, site, now)   # a severity never moves the phase back
    _ensure_course(history, user, site, now)
    if per_month is not None:
        history.write("UPDATE courses SET per_month = ? WHERE user_id = ? AND site = ?",
                      (per_month, user.user_id, site))
    if hdss is not None:
        history.write("UPDATE courses SET hdss = ? WHERE user_id = ? AND site = ?",
                      (hdss, user.user_id, site))
    if alternate_polarity is not None:
        if not isinstance(alternate_polarity, bool):
            raise ValueError(f"--alternate-polarity: {alternate_polarity!r} is not allowed; allowed: "
                             "--alternate-polarity or --no-alternate-polarity")
        history.write("UPDATE courses SET alternate_polarity = ? WHERE user_id = ? AND site = ?",
                      (int(alternate_polarity), user.user_id, site))


def _scores(history: History, session_ids: list[int]) -> dict[int, tuple[int, bool]]:
    """Per session: (the latest HDSS, discomfort in ANY score given for it):
    a later score never erases a reported discomfort (SRS-198)."""
    found: dict[int, tuple[int, bool]] = {}
    for sid, given in all_scores(history, session_ids).items():
        found[sid] = (given[-1]["hdss"], any(g["discomfort"] for g in given))
    return found


def all_scores(history: History, session_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every score given per session, oldest first: the replaced ones kept in
    scores_superseded, then the current one in scores."""
    if not session_ids:
        return {}
    marks = ",".join("?" * len(session_ids))
    rows = []
    if history.has_table("scores_superseded"):
        rows += history.query("SELECT session_id, hdss, discomfort, given_at FROM scores_superseded"
                              f" WHERE session_id IN ({marks}) ORDER BY id", tuple(session_ids))
    rows += history.query(f"SELECT session_id, hdss, discomfort, given_at FROM scores"
                          f" WHERE session_id IN ({marks})", tuple(session_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    for sid, hdss, discomfort, given_at in rows:
        found.setdefault(sid, []).append({"hdss": hdss, "discomfort": bool(discomfort),
                                          "given_at": given_at})
    return found


def record_score(history: History, user: User, session_id: int, hdss: int, discomfort: bool,
                 now: datetime) -> None:
    """The user's sweating score (HDSS 1-4) after one of their own sessions."""
    hdss = parse_hdss(hdss)
    rows = history.query("SELECT user_id FROM sessions WHERE id = ?", (session_id,))
    if not rows or rows[0][0] != user.user_id:
        raise ValueError(f"--session: no session {session_id} of user {user.name!r}")
    site = history.query("SELECT site FROM sessions WHERE id = ?", (session_id,))[0][0]
    keep_reached_phase(history, user, site, now)         # nor does a score given later
    history.ensure_table("scores_superseded")
    with history._write():   # the replaced score kept, the new one stored: together or not at all
        history.execute("INSERT INTO scores_superseded (session_id, hdss, discomfort, given_at,"
                        " superseded_at) SELECT session_id, hdss, discomfort, given_at, ? FROM scores"
                        " WHERE session_id = ?", (iso_utc(now), session_id))
        history.execute("INSERT OR REPLACE INTO scores (session_id, hdss, discomfort, given_at)"
                        " VALUES (?, ?, ?, ?)", (session_id, hdss, int(discomfort), iso_utc(now)))


# --- the guard ---------------------------------------------------------------------
def frequency_decision(starts: list[datetime], now: datetime, phase: str, per_month: int,
                       maintenance_since: datetime | None = None) -> tuple[datetime | None, str | None]:
    """(next allowed time, rule) if a session at `now` would break the
    frequency rule of `phase`, else (None, None). `starts`: the start times of
    the sessions the guard counts for this user and site (SRS-073, SRS-194)."""
    starts = sorted(starts)
    limits: list[tuple[datetime, str]] = []

    def window(span: timedelta, most: int, rule: str, since: datetime | None = None) -> None:
        # refused while `most` sessions started in (now - span, now]
        inside = [s for s in starts if s > now - span and (since is None or s > since)]
        if len(inside) >= most:
            limits.append((inside[-most] + span, rule))

    window(INITIAL_DAY, INITIAL_PER_DAY, f"at most {INITIAL_PER_DAY} session per site in 24 h")
    if phase == "initial":
        window(INITIAL_WEEK, INITIAL_PER_WEEK,
               f"at most {INITIAL_PER_WEEK} sessions per site in 7 days (initial phase)")
    else:
        window(MONTH, per_month, f"at most {per_month} sessions per site in 30 days "
                                 "(maintenance, as chosen)", since=maintenance_since)
        window(MAINTENANCE_MIN_INTERVAL, 1, "at least 56 h between maintenance sessions")
    # every start inside (now - span, now] gives start + span > now: each
    # limit found is still ahead, so allowed again exactly span after it
    if not limits:
        return None, None
    return max(limits, key=lambda lim: lim[0])


def open_row_bound_s(settings: dict[str, Any]) -> float:
    """How long a session with these settings can run at most (SRS-278): the
    session bound of SRS-090 (set time + ramps, twice with reversal, +
    session_length_extra_s) plus the ramp-down that ends a bounded session.
    A value that is missing or unreadable counts at its allowed maximum, so
    a damaged row never shortens the bound."""
    lim = _LIMITS.settings

    def value(key: str, rng) -> float:
        v = settings.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not rng.min <= v <= rng.max:
            return float(rng.max)
        return float(v)
    minutes = value("minutes", lim.minutes)
    up, down = value("ramp_up_s", lim.ramp_up_s), value("ramp_down_s", lim.ramp_down_s)
    reversal = settings.get("reverse_polarity")
    ramps = (2 if reversal is not False else 1) * (up + down)
    return minutes * 60.0 + ramps + _LIMITS.session_length_extra_s + down


def _open_rows(history: History) -> list[tuple[int, str, str, str, datetime]]:
    """Rows with no end (a session running in another program, or a crash):
    (id, user name, site, start text, the latest time it can still run to)."""
    rows = history.query("SELECT s.id, COALESCE(u.name, '(no profile)'), s.site, s.started_at,"
                         " s.settings FROM sessions s LEFT JOIN users u ON u.id = s.user_id"
                         " WHERE s.ended_at IS NULL")
    found = []
    for sid, name, site, start_text, settings_text in rows:
        start = _start_time(history, sid, start_text)
        try:
            settings = json.loads(settings_text)
        except (TypeError, ValueError, RecursionError):
            settings = {}
        if not isinstance(settings, dict):
            settings = {}
        found.append((sid, name, site, start_text,
                      start + timedelta(seconds=open_row_bound_s(settings))))
    return found


def _check_open_rows(history: History, now: datetime) -> None:
    """One device, one patient, one session at a time (SRS-278, PR-039): a row
    still open is treated as lasting to its start + its session bound, and a
    start before that is refused for ANY user, naming the row."""
    for sid, name, site, start_text, until in _open_rows(history):
        if now < until:
            local = until.astimezone(now.tzinfo).isoformat(timespec="seconds")
            raise FrequencyRefused(
                f"open session: session {sid} (user {name!r}, {site}, started {start_text}) has no "
                f"recorded end: it may still be running in another program, or it crashed; one "
                f"device treats one person at a time: next allowed {local} (its start + its session "
                "bound); nothing was energised")


def close_stale_open_rows(history: History, now: datetime) -> list[int]:
    """Inside the session row's write transaction (SRS-278): a row still open
    past its session bound is a crash; it is closed as 'interrupted' with
    ended_at = its bound and end_reason 'no_end_recorded', and the time it was
    closed in its counts, so it no longer locks the device. Returns the ids."""
    closed = []
    for sid, _name, _site, _start, until in _open_rows(history):
        if now >= until:
            history.execute("UPDATE sessions SET ended_at = ?, outcome = 'interrupted',"
                            " end_reason = 'no_end_recorded', counts = ? WHERE id = ?"
                            " AND ended_at IS NULL",
                            (iso_utc(until), json.dumps({"closed_at": iso_utc(now)}), sid))
            closed.append(sid)
    return closed


# every time the history records, with what it belongs to (SRS-280)
_RECORDED_TIMES = (
    ("sessions", "session {id} start", "SELECT id, started_at FROM sessions"),
    ("sessions", "session {id} end", "SELECT id, ended_at FROM sessions WHERE ended_at IS NOT NULL"),
    ("users", "profile {id} created", "SELECT id, created_at FROM users"),
    ("users", "profile {id} removed", "SELECT id, removed_at FROM users WHERE removed_at IS NOT NULL"),
    ("scores", "score of session {id}", "SELECT session_id, given_at FROM scores"),
    ("scores_superseded", "score of session {id}", "SELECT session_id, given_at FROM scores_superseded"),
    ("courses", "course of profile {id} started", "SELECT user_id, started_at FROM courses"),
    ("course_events", "course event {id}", "SELECT id, at FROM course_events"),
)


def check_write_clock(history: History, now: datetime, outcome: str = "nothing was changed") -> None:
    """Every command that writes the history (user add/set/remove/restore,
    course set/score/restart) refuses a clock earlier than the last event it
    recorded (SRS-280, PR-040): a typed or wrong clock must not place a
    removal, a profile or a score before what is already recorded, or open
    the windows of the frequency guard. Raises FrequencyRefused."""
    latest: tuple[datetime, str, str] | None = None
    for table, what, sql in _RECORDED_TIMES:
        if not history.has_table(table):
            continue
        for rid, text in history.query(sql):
            moment = _start_time(history, rid, text, "recorded time")
            if latest is None or moment > latest[0]:
                latest = (moment, what.format(id=rid), text)
    if latest is not None and now < latest[0]:
        raise FrequencyRefused(
            f"clock: the device clock reads {iso_utc(now)}, earlier than the last recorded event "
            f"({latest[1]}, {latest[2]}): the clock went backwards or the history is from the future; "
            f"set the clock (--now: not before that time); {outcome}")


def _check_clock(history: History, now: datetime) -> None:
    """The device clock must not be earlier than any recorded session's start:
    a clock that went backwards (or a history from the future) would open the
    guard's windows, so it is refused, not trusted (SRS-195). Every other
    recorded event (profiles created or removed, scores, course events) is
    checked too, as for the other writing commands (SRS-280)."""
    # every row: offsets may differ, so text order is not time order (a course
    # is tens of sessions a year: reading them all is cheap)
    for sid, text, end_text in history.query("SELECT id, started_at, ended_at FROM sessions"):
        start = _start_time(history, sid, text)
        if start > now:
            raise FrequencyRefused(
                f"clock: the device clock reads {iso_utc(now)}, earlier than the start of session "
                f"{sid} ({text}): the clock went backwards or the history is from the future; "
                "set the clock; nothing was energised")
        # one device runs one session at a time: a start before the end of a
        # recorded session is a clock gone backwards too (a row still open,
        # ended_at NULL, is an interrupted one: its start is all that is known)
        if end_text is not None and _start_time(history, sid, end_text, "end time") > now:
            raise FrequencyRefused(
                f"clock: the device clock reads {iso_utc(now)}, earlier than the end of session "
                f"{sid} ({end_text}): sessions on one device cannot overlap, so the clock went "
                "backwards or the history is from the future; set the clock; nothing was energised")
    check_write_clock(history, now, "nothing was energised")


# --- the course --------------------------------------------------------------------
def course_status(history: History, user: User, site: str, now: datetime) -> CourseStatus:
    records = [r for r in history.list_sessions(user.user_id) if r.settings.get("site") == site]
    hdss, per_month, alternate = _course_row(history, user, site)
    target = HDSS_TARGET_SESSIONS.get(hdss, TARGET_UNSTATED) if hdss else TARGET_UNSTATED
    given = all_scores(history, [r.session_id for r in records])
    scores = _scores(history, [r.session_id for r in records])
    restarted = restarts(history, user, site)
    restart_at = parse_time(restarted[-1]["at"]) if restarted else None
    phase, counted, since = "initial", 0, None
    normal_run = 0
    rows: list[dict[str, Any]] = []
    for r in records:
        # after a restart only the later sessions count toward the new course
        counts = counts_toward_course(r) and (
            restart_at is None or _start_time(history, r.session_id, r.started_at) >= restart_at)
        score = scores.get(r.session_id)
        if counts and phase == "initial":
            counted += 1
            normal_run = normal_run + 1 if score and score[0] <= NORMAL_HDSS else 0
            if counted >= target or normal_run >= NORMAL_SCORES_IN_A_ROW:
                phase, since = "maintenance", r.started_at
        elif counts:
            counted += 1
        rows.append({"session_id": r.session_id, "started_at": r.started_at, "outcome": r.outcome,
                     "current_mA": r.settings.get("current_ma"), "treat_s": r.treat_s,
                     "start_polarity": r.settings.get("start_polarity", "normal"),
                     "counts": counts, "hdss": score[0] if score else None,
                     "discomfort": score[1] if score else None,
                     "scores": given.get(r.session_id, [])})
    kept, kept_since = _kept_phase(history, user, site)
    if kept == "maintenance" and phase == "initial":   # reached once: kept (SRS-279)
        phase, since = "maintenance", kept_since
    guard_starts = [_start_time(history, r.session_id, r.started_at)
                    for r in records if counts_for_guard(r)]
    since_dt = parse_time(since) if since else None
    nxt, rule = frequency_decision(guard_starts, now, phase, per_month, since_dt)
    next_due = None
    if phase == "maintenance" and records:
        due = _start_time(history, records[-1].session_id, records[-1].started_at) + MONTH / per_month
        # never due before the guard allows it (sessions taken early fill the month)
        next_due = iso_utc(due if nxt is None else max(due, nxt))
    last = records[-1] if records else None
    return CourseStatus(
        user=user.name, site=site, phase=phase, hdss=hdss, target_sessions=target,
        counted_sessions=counted, per_month=per_month, alternate_polarity=alternate,
        maintenance_since=since,
        next_allowed=None if nxt is None else iso_utc(nxt), next_allowed_rule=rule,
        next_due=next_due, last_settings=None if last is None else dict(last.settings),
        suggestion=_suggest(last, scores, phase, alternate), sessions=rows, restarts=restarted)


def _suggest(last: SessionRecord | None, scores: dict[int, tuple[int, bool]],
             phase: str, alternate: bool = False) -> dict[str, Any] | None:
    """The next session's proposal (SRS-198): the last settings at this site,
    with +1 mA in the initial phase up to the site's maximum unless the last
    session ended in a fault, did not reach the effective time, or the user
    reported discomfort after it; in maintenance, where the user chose it,
    the polarity opposite to the last session's (SRS-230). Shown and
    confirmed, never applied silently."""
    if last is None:
        return None
    settings = dict(last.settings)
    site = str(settings.get("site"))
    try:
        current = float(settings.get("current_ma"))
        site_max = _LIMITS.current_range(site).max
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    score = scores.get(last.session_id)
    why = "last current kept"
    if phase != "initial":
        why = "maintenance: last current kept"
    elif last.outcome == "fault" or last.faults:
        why = "last session ended in a fault: last current kept"
    elif score and score[1]:
        why = "discomfort reported after the last session: last current kept"
    elif last.outcome != "completed":
        why = f"last session not completed ({last.outcome}): last current kept"
    elif settings.get("mode") == "pulsed":
        # SRS-277: a pulsed mean is duty x peak and less at a low skin
        # capacitance, so its charge never shows the set current tolerated
        why = ("last session was pulsed: its mean current (duty x peak, less at a low skin "
               "capacitance) cannot show the set current held, so the +1 mA raise is made only "
               "after a completed DC session: last current kept")
    elif not reached_set_current(last.max_current_ma, current):
        why = (f"last session did not reach its set current ({last.max_current_ma:.2f} of "
               f"{current:g} mA): last current kept")
    elif not _treatment_figures(last):
        why = ("last session recorded no treatment-phase charge and time at the set current "
               "(recorded before SRS-277 asked for them): last current kept")
    elif not held_set_charge(_treatment_figures(last)[0], current, _set_minutes(settings)):
        why = (f"last session delivered {_treatment_figures(last)[0]:.1f} mA*min in the treatment "
               f"phase (ramps left out), under {RAISE_MIN_CHARGE_PERCENT:g} % of set current x time "
               f"({current:g} mA x {_set_minutes(settings):g} min = "
               f"{current * _set_minutes(settings):.1f} mA*min): last current kept")
    elif not held_set_time(_treatment_figures(last)[1], _set_minutes(settings)):
        why = (f"last session held its set current for {_treatment_figures(last)[1]:.0f} s of "
               f"{_set_minutes(settings) * 60:.0f} s of treatment, under "
               f"{RAISE_MIN_CHARGE_PERCENT:g} %: last current kept")
    elif not counts_toward_course(last):
        why = "last session shorter than 10 min: last current kept"
    elif current + RAISE_STEP_MA > site_max:
        current, why = site_max, f"at the site's maximum {site_max:g} mA"
    else:
        current, why = round(current + RAISE_STEP_MA, 2), f"+{RAISE_STEP_MA:g} mA (initial phase)"
    settings["current_ma"] = current
    # a row recorded before the setting existed started normal (the only polarity then)
    last_polarity = settings.get("start_polarity", "normal")
    settings["start_polarity"] = last_polarity
    if phase == "maintenance" and alternate:
        # also the first maintenance session: opposite to the last initial one
        settings["start_polarity"] = "normal" if last_polarity == "reversed" else "reversed"
        why += f"; polarity {settings['start_polarity']} (alternating, last {last_polarity})"
    return {"settings": settings, "reason": why}


def _set_minutes(settings: dict[str, Any]) -> float:
    try:
        return float(settings.get("minutes"))
    except (TypeError, ValueError):
        return float("inf")   # unreadable: no charge can reach it, so no raise


def _treatment_figures(r: SessionRecord) -> tuple[float, float] | None:
    """(charge in mA*min, seconds at the set current) of the TREATMENT phase,
    as the supervisor recorded them in the row's counts (SRS-277); None for a
    row without them (recorded earlier, or damaged): then no raise."""
    charge, in_band = r.counts.get("treat_delivered_mAmin"), r.counts.get("treat_in_band_s")
    for value in (charge, in_band):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            return None
    return float(charge), float(in_band)


def held_set_charge(treat_delivered_mamin: float, set_current_ma: float, set_minutes: float) -> bool:
    """The treatment phase (ramps left out) delivered at least
    RAISE_MIN_CHARGE_PERCENT of set current x set treatment time (SRS-277):
    the user tolerated the set current for the session, not only at its
    peak (PR-042)."""
    return treat_delivered_mamin >= RAISE_MIN_CHARGE_PERCENT / 100.0 * set_current_ma * set_minutes


def held_set_time(treat_in_band_s: float, set_minutes: float) -> bool:
    """The current was within SRS-002's accuracy of the set current for at
    least RAISE_MIN_CHARGE_PERCENT of the set treatment time (SRS-277)."""
    return treat_in_band_s >= RAISE_MIN_CHARGE_PERCENT / 100.0 * set_minutes * 60.0


def reached_set_current(max_current_ma: float, set_current_ma: float) -> bool:
    """The session's current reached its setting, within the regulator's
    accuracy (SRS-002: max(1 % of the target, 50 uA)): only then has the user
    tolerated the set current, the ground for the next +1 mA (SRS-198)."""
    return max_current_ma >= set_current_ma - max(0.01 * set_current_ma, 0.05)


def admission(user: User | None, site: str, clock) -> Any:
    """The check `History.begin_session` runs under its write lock (SRS-196):
    the user (created if it is the implied default), age, clock and frequency,
    read again from the database so that a session started meanwhile by
    another program is seen. Raises FrequencyRefused; sets the row's user."""
    def admit(history: History) -> None:
        now = clock()
        who = user if user is not None else _implied_default(history, now)
        refusal = age_refusal(who, now)
        if refusal:
            raise FrequencyRefused(refusal)
        check_before_start(history, who, site, now)
        close_stale_open_rows(history, now)   # committed with the new row, or not at all
        history.user_id = who.user_id
        history.execute(   # inside the open transaction: no commit of its own
            "INSERT OR IGNORE INTO courses (user_id, site, hdss, per_month, started_at)"
            " VALUES (?, ?, ?, ?, ?)", (who.user_id, site, who.hdss, PER_MONTH_DEFAULT, iso_utc(now)))
    return admit


def _implied_default(history: History, now: datetime) -> User:
    """The profile "default" of a history with no profile (SRS-191), created
    inside the session's transaction: a refused session leaves no trace."""
    existing = find_user(history, DEFAULT_USER)
    if existing is not None:
        return existing
    if list_users(history):
        raise FrequencyRefused(f"--user: {history.path} has user profiles now; give --user NAME")
    refusal = no_active_profile_refusal(history)   # removed ones: never a fresh default
    if refusal:
        raise FrequencyRefused(refusal)
    history.execute("INSERT INTO users (name, name_key, born, hdss, sites, pin_hash, created_at)"
                    " VALUES (?, ?, NULL, NULL, ?, NULL, ?)",
                    (DEFAULT_USER, DEFAULT_USER.casefold(), json.dumps(list(ALL_SITES)), iso_utc(now)))
    user = find_user(history, DEFAULT_USER)
    assert user is not None
    return user


def check_before_start(history: History, user: User, site: str, now: datetime) -> None:
    """Refuse (FrequencyRefused) a session the clock check or the frequency
    guard forbids, with the next allowed time."""
    _check_clock(history, now)
    status = course_status(history, user, site, now)
    if status.next_allowed is not None:
        local = parse_time(status.next_allowed).astimezone(now.tzinfo)
        raise FrequencyRefused(
            f"frequency guard: user {user.name!r}, {site}, {status.phase} phase: "
            f"{status.next_allowed_rule}; next allowed {local.isoformat(timespec='minutes')}; "
            "nothing was energised")
    # after the guard, so that a user's own refusal keeps its rule's message
    _check_open_rows(history, now)
