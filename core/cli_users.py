"""`ionto user` and `ionto course`, and the user/clock options of `ionto
session` and `ionto history` (SRS-190..SRS-199).

Kept apart from core/cli.py so that the session command stays readable; every
refusal here is a UserError (exit 1, `ionto: refused: ...`, no traceback) and
happens before anything is written or energised.
"""
from __future__ import annotations

import argparse
import functools
import getpass
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from core.course import (HDSS_TARGET_SESSIONS, MIN_EFFECTIVE_TREAT_S, PER_MONTH_RANGE, FrequencyRefused,
                         check_before_start, check_write_clock, course_status, parse_time, keep_reached_phase, record_score, restart_course,
                         set_course)
from core.history import DEFAULT_USER, History, HistoryError
from core.users import (ALL_SITES, HDSS_RANGE, PIN_DIGITS, User, UserError, add_user, age_refusal,
                        find_removed_user, find_user, list_users, no_active_profile_refusal, parse_born, parse_hdss, parse_name, parse_pin,
                        parse_sites, remove_user, resolve_user, restore_user, unlock,
                        update_user)

Clock = Callable[[], datetime]

USER_EXAMPLES = """examples:
  ionto user add anna --born 1990 --hdss 3 --sites hands,feet --pin
  ionto user list
  ionto user show anna
  ionto user remove anna
  ionto user restore anna
"""
COURSE_EXAMPLES = """examples:
  ionto course --user anna
  ionto course --user anna --site hands --json
  ionto course score --user anna --session 12 --hdss 2 [--discomfort]
  ionto course set --user anna --site hands --per-month 2
  ionto course restart --user anna --site hands --yes
"""


# --- options -------------------------------------------------------------------------
def add_session_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--user", metavar="NAME",
                       help="the user whose session it is (may be left out when the history has one "
                            "profile, or none: then the profile 'default')")
    group.add_argument("--now", metavar="TIMESTAMP",
                       help="the SIMULATED device's wall clock at Start, ISO 8601 with a time zone "
                            "(e.g. 2026-12-01T08:00:00+01:00); default: the system clock. Refused with "
                            "--realtime: there the device's own clock rules (SRS-195)")
    group.add_argument("--polarity", metavar="{normal,reversed}",
                       help="the polarity the session starts with (default: normal; a maintenance "
                            "course may alternate it: `ionto course set --alternate-polarity`)")
    group.add_argument("--suggested", action="store_true",
                       help="take the course's suggestion for this user and site (last settings, "
                            "+1 mA in the initial phase); shown, and confirmed on a terminal, or "
                            "without a terminal with --yes")
    group.add_argument("--yes", action="store_true",
                       help="with --suggested and no terminal: the suggestion shown is confirmed "
                            "(required there: a suggestion is never applied unconfirmed)")


def add_parsers(sub, db_help: str, fmt) -> None:
    u = sub.add_parser("user", help="user profiles of a shared device",
                       description="User profiles: name, year of birth, sites, severity, optional PIN.",
                       epilog=USER_EXAMPLES, formatter_class=fmt)
    usub = u.add_subparsers(dest="user_command", required=True, metavar="{add,list,show,set,remove,restore}")
    a = usub.add_parser("add", help="add a profile")
    a.add_argument("name", help="1..32 letters, digits, space, '.', '_', '-'")
    a.add_argument("--born", required=True, metavar="YEAR", help="year of birth, 1900..this year")
    a.add_argument("--hdss", metavar="N", help=f"sweating severity HDSS {HDSS_RANGE[0]}..{HDSS_RANGE[1]}")
    a.add_argument("--sites", metavar="LIST", help=f"sites treated, of {','.join(ALL_SITES)} (default: all)")
    a.add_argument("--pin", action="store_true",
                   help=f"protect the profile with a PIN of {PIN_DIGITS[0]}..{PIN_DIGITS[1]} digits "
                        "(asked on a terminal, else read from the first line of stdin)")
    s = usub.add_parser("set", help="change the year of birth or the severity")
    s.add_argument("name")
    s.add_argument("--born", metavar="YEAR")
    s.add_argument("--hdss", metavar="N")
    usub.add_parser("list", help="list the profiles (names only)").add_argument(
        "--all", action="store_true", help="also the removed profiles, marked")
    usub.add_parser("show", help="one profile and its courses").add_argument("name")
    usub.add_parser("remove", help="remove a profile (its sessions are kept, marked)").add_argument("name")
    usub.add_parser("restore", help="restore a removed profile with its sessions, course and "
                                    "frequency guard").add_argument("name")
    for p in (a, s, *[usub.choices[n] for n in ("list", "show", "remove", "restore")]):
        p.add_argument("--db", metavar="PATH", help=db_help)
        p.add_argument("--json", action="store_true", help="print JSON on stdout")
        p.add_argument("--now", metavar="TIMESTAMP", help="the device's wall clock, ISO 8601 with a time zone")

    c = sub.add_parser("course", help="the course of treatment of a user",
                       description="Phase, sessions done and to go, next allowed and next due date, "
                                   "last settings and the suggestion, and a chart (PNG next to the history).",
                       epilog=COURSE_EXAMPLES, formatter_class=fmt)
    csub = c.add_subparsers(dest="course_command", required=False, metavar="{show,score,set,restart}")
    shows = [c, csub.add_parser("show", help="the course (default)")]
    sc = csub.add_parser("score", help="the sweating score after a session (HDSS 1..4)")
    sc.add_argument("--session", required=True, type=_session_id, metavar="ID")
    sc.add_argument("--hdss", required=True, metavar="N")
    sc.add_argument("--discomfort", action="store_true", help="the session was uncomfortable")
    st = csub.add_parser("set", help="the severity and the maintenance sessions a month")
    st.add_argument("--site", required=True, choices=ALL_SITES)
    st.add_argument("--per-month", type=_per_month, metavar="N",
                    help=f"maintenance sessions a month, {PER_MONTH_RANGE[0]}..{PER_MONTH_RANGE[1]}")
    st.add_argument("--hdss", metavar="N")
    st.add_argument("--alternate-polarity", action=argparse.BooleanOptionalAction, default=None,
                    help="in maintenance, suggest the polarity opposite to the last session's "
                         "(shown with --suggested and confirmed; default: off)")
    rs = csub.add_parser("restart", help="move a course in maintenance back to the initial phase "
                                         "(confirmed, recorded; only later sessions count)")
    rs.add_argument("--site", required=True, choices=ALL_SITES)
    rs.add_argument("--yes", action="store_true",
                    help="confirm without a terminal (required there); on a terminal the question is asked")
    for p in (*shows, sc, st, rs):
        p.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS if p is not c else None)
        p.add_argument("--db", metavar="PATH", help=db_help, default=argparse.SUPPRESS if p is not c else None)
        p.add_argument("--now", metavar="TIMESTAMP", default=argparse.SUPPRESS if p is not c else None,
                       help="the device's wall clock, ISO 8601 with a time zone")
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS if p is not c else False)
    for p in shows:
        p.add_argument("--site", choices=ALL_SITES, default=argparse.SUPPRESS if p is not c else None)
        p.add_argument("--no-chart", action="store_true", default=argparse.SUPPRESS if p is not c else False,
                       help="do not write the chart")


SESSION_ID_MAX = 2**63 - 1   # the largest SQLite INTEGER (rowid)


def _session_id(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a session id (a whole number >= 1)") from None
    if not 1 <= value <= SESSION_ID_MAX:   # SQLite's INTEGER: a larger id cannot exist
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: a session id is a whole number "
                                          f"from 1 to {SESSION_ID_MAX}")
    return value


def _per_month(text: str) -> int:
    lo, hi = PER_MONTH_RANGE
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; allowed {lo}..{hi}") from None
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{value} is outside the allowed range {lo}..{hi}")
    return value


# --- clock and PIN -----------------------------------------------------------------------
class SimulatedWallClock:
    """The simulated device's wall clock (--now): the time given at Start,
    advanced by the session's simulated time (an observer of the supervisor
    feeds it), so started_at is exactly --now and ended_at is --now plus the
    simulated session length."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed_s = 0.0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s)

    def batch(self, start_tick: int, state: str, rowbatch, sup) -> None:
        self.elapsed_s = sup.elapsed_s


NOW_YEARS = (2000, 2099)   # a device clock outside this is a flat battery or a typo
# the UTC offsets of real time zones (Baker Island -12:00 .. Line Islands +14:00)
UTC_OFFSETS = (timedelta(hours=-12), timedelta(hours=14))


def clock_from(now_text: str | None) -> Clock:
    """The device's wall clock: the system clock (local time zone), or with
    --now the simulated device's clock (SimulatedWallClock)."""
    if now_text is None:
        return lambda: datetime.now().astimezone()
    try:
        start = parse_time(now_text.strip())
    except (TypeError, ValueError):
        raise UserError(f"--now: {now_text!r} is not an ISO 8601 time with a time zone; allowed e.g. "
                        "2026-12-01T08:00:00+01:00 or 2026-12-01T07:00:00Z") from None
    offset = start.utcoffset()
    if offset is None or not UTC_OFFSETS[0] <= offset <= UTC_OFFSETS[1]:
        raise UserError(f"--now: {now_text!r} has the UTC offset {_offset_text(offset)}; allowed "
                        "-12:00 .. +14:00 (the offsets of real time zones)")
    try:   # near year 1 or 9999 the offset moves the time out of datetime's range
        utc_year = start.astimezone(timezone.utc).year
    except OverflowError:
        utc_year = None
    if utc_year is None or not NOW_YEARS[0] <= utc_year <= NOW_YEARS[1]:
        raise UserError(f"--now: {now_text!r} is outside the allowed range {NOW_YEARS[0]}-01-01 .. "
                        f"{NOW_YEARS[1]}-12-31 (UTC)")
    return SimulatedWallClock(start)


def _offset_text(offset: timedelta | None) -> str:
    if offset is None:
        return "none"
    sign, minutes = ("-", -offset) if offset < timedelta(0) else ("+", offset)
    hours, rest = divmod(int(minutes.total_seconds()) // 60, 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def session_clock(now_text: str | None, realtime: bool) -> Clock:
    """The wall clock of a session. With --realtime the session runs on wall
    time, so its clock is the device's own (the system clock) and a typed
    --now is refused: a typed year must never pass the age check or the
    frequency guard of a session paced to real time (SRS-195, HAZ-10)."""
    if realtime and now_text is not None:
        raise UserError(f"--now: {now_text!r} sets a simulated wall clock and is not allowed with "
                        "--realtime (the device's own clock rules there); leave --now out, or "
                        "leave --realtime out to simulate a session at that time; nothing was energised")
    return clock_from(None if realtime else now_text)


def read_pin(prompt: str) -> str | None:
    """On a terminal the PIN is asked without echo; otherwise the first line of stdin."""
    if sys.stdin.isatty():
        try:
            return getpass.getpass(prompt, stream=sys.stderr)
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


# --- opening the history for a user ---------------------------------------------------------
def _refuse_history_errors(func):
    """Before Start: a damaged or locked history is a refusal naming the file
    (exit 1), never a traceback; FrequencyRefused keeps its own message."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except FrequencyRefused as exc:
            raise UserError(str(exc)) from None
        except HistoryError as exc:
            raise UserError(f"--db: {exc}") from None
    return wrapper


def _open(db: Path, *, must_exist: bool, readonly: bool = False, clock: Clock | None = None) -> History:
    if must_exist and not db.exists():
        raise UserError(f"--db: {db} does not exist: no user profile is recorded there")
    try:
        return History(db, readonly=readonly, clock=clock)
    except (HistoryError, OSError) as exc:
        raise UserError(f"--db: {exc}") from None


@_refuse_history_errors
def session_user(history: History, name: str | None) -> User | None:
    """The user of a session, unlocked with the PIN; None: the implied profile
    'default' of a history without profiles, created with the session row."""
    if name is None and not list_users(history):
        refusal = no_active_profile_refusal(history)
        if refusal:
            raise UserError(refusal)
        return None
    user = resolve_user(history, name)
    unlock(history, user, lambda: read_pin(f"PIN for {user.name}: "))
    return user


def birth_year_notice(user: User | None) -> str | None:
    """SRS-190: a profile without a year of birth (the implied or migrated
    "default") has no age to check; the checklist's child_under_5 question is
    then the only age check, which every session start says."""
    if user is not None and user.born is not None:
        return None
    name = user.name if user is not None else DEFAULT_USER
    return (f"note: profile {name!r} has no year of birth, so only the checklist's question "
            f"'child under 5' checks the age; state it with `ionto user set {name} --born YEAR`")


@_refuse_history_errors
def check_session(history: History, user: User | None, site: str, clock: Clock) -> None:
    """Before the checklist: age, clock and frequency (read only). The same
    check runs again under the write lock when the session row is written."""
    now = clock()
    if user is None:
        return
    if site not in user.sites:
        raise UserError(f"--site: {site!r} is not among the sites of user {user.name!r} "
                        f"({', '.join(user.sites)}); nothing was energised")
    refusal = age_refusal(user, now)
    if refusal:
        raise UserError(refusal)
    check_before_start(history, user, site, now)


@_refuse_history_errors
def suggested_settings(history: History, user: User | None, site: str | None, clock: Clock,
                       interactive: bool, ask, confirmed: bool = False) -> dict[str, Any]:
    if user is None:
        raise UserError("--suggested: the history has no user profile and no course; give the settings")
    sites = [site] if site else [s for s in user.sites]
    statuses = [course_status(history, user, s, clock()) for s in sites]
    statuses = [s for s in statuses if s.suggestion]
    if not statuses:
        raise UserError(f"--suggested: user {user.name!r} has no session{' at ' + site if site else ''} "
                        "to suggest from; give --site, --current and --minutes")
    status = max(statuses, key=lambda s: s.sessions[-1]["started_at"]) if not site else statuses[0]
    check_session(history, user, status.site, clock)   # a refused session gets no suggestion
    sug = status.suggestion
    print(f"suggestion for {user.name}, {status.site}: {sug['settings']['current_ma']:g} mA, "
          f"{sug['settings']['minutes']} min, polarity {sug['settings']['start_polarity']} "
          f"({sug['reason']})", file=sys.stderr)
    if interactive and not ask("Use these settings?"):
        raise UserError("--suggested: the suggestion was not confirmed; nothing was energised")
    if not interactive and not confirmed:
        raise UserError("--suggested: without a terminal the suggestion shown must be confirmed with "
                        "--yes (or give --site, --current and --minutes); nothing was energised")
    return dict(sug["settings"])


@_refuse_history_errors
def polarity_lines(history: History | None, user: User | None, site: str, start_polarity: str,
                   clock: Clock) -> list[str]:
    """What every session start says about polarity (SRS-230): the starting
    polarity; and, where the user chose alternation and the course is in
    maintenance, a notice when this session starts like the site's last one
    (e.g. with --last, which repeats the last settings, polarity included)."""
    lines = [f"starting polarity: {start_polarity}"]
    if history is None or user is None:
        return lines
    status = course_status(history, user, site, clock())
    if not (status.alternate_polarity and status.phase == "maintenance" and status.sessions):
        return lines
    last = status.sessions[-1]["start_polarity"]
    if start_polarity == last:
        other = "normal" if last == "reversed" else "reversed"
        lines.append(f"notice: polarity alternation is chosen for {user.name}, {site} in maintenance "
                     f"(course set --alternate-polarity), but this session starts {start_polarity} "
                     f"like the last one (session {status.sessions[-1]['session_id']}); to follow "
                     f"the alternation use --suggested or --polarity {other}")
    return lines


# --- ionto user ---------------------------------------------------------------------------------
def cmd_user(args: argparse.Namespace, db: Path) -> int:
    clock = clock_from(args.now)
    if args.user_command == "add":
        name = parse_name(args.name)
        born = parse_born(args.born, clock())
        hdss = parse_hdss(args.hdss) if args.hdss is not None else None
        sites = parse_sites(args.sites)
        pin = None
        if args.pin:
            pin = parse_pin(read_pin(f"new PIN for {name} ({PIN_DIGITS[0]}..{PIN_DIGITS[1]} digits): ") or "")
            if sys.stdin.isatty() and (read_pin("PIN again: ") or "").strip() != pin:
                raise UserError("PIN: the two entries differ; the profile was not added")
        history = _open(db, must_exist=False, clock=clock)
        try:
            _write_clock(history, clock())
            user = add_user(history, name, born, hdss=hdss, sites=sites, pin=pin, now=clock())
        finally:
            history.close()
        _out(args, user.to_dict(), f"user {user.name} added (born {user.born}, sites "
                                   f"{','.join(user.sites)}{', PIN set' if user.has_pin else ''})")
        return 0
    if not db.exists():
        raise UserError(f"--db: {db} does not exist: no user profile is recorded there")
    # input checked before the file is opened; reads open it read-only (SRS-281)
    name = parse_name(args.name) if getattr(args, "name", None) is not None else None
    if args.user_command == "set":
        born = parse_born(args.born, clock()) if args.born is not None else None
        hdss = parse_hdss(args.hdss) if args.hdss is not None else None
    history = _open(db, must_exist=True, readonly=args.user_command in ("list", "show"), clock=clock)
    try:
        if args.user_command == "list":
            users = list_users(history, include_removed=args.all)
            rows = [{"name": u.name, "removed_at": u.removed_at,
                     "sessions": history.query("SELECT COUNT(*) FROM sessions WHERE user_id = ?",
                                               (u.user_id,))[0][0]} for u in users]
            text = "\n".join(f"{r['name']}" + (f"  (removed {r['removed_at']}; {r['sessions']} sessions "
                                                "kept for the audit trail)" if r["removed_at"] else "")
                             for r in rows) or f"no user profile in {db}"
            _out(args, rows, text)
            return 0
        if args.user_command in ("restore", "set", "remove"):
            _write_clock(history, clock())
        if args.user_command == "restore":
            removed = find_removed_user(history, parse_name(args.name))
            if removed is None:
                raise UserError(f"name: no removed profile {args.name!r} in {db}; "
                                "`ionto user list --all` lists them")
            user = removed[0]
            unlock(history, user, lambda: read_pin(f"PIN for {user.name}: "))
            user = restore_user(history, user)
            _out(args, {"name": user.name, "restored": True, "sessions": removed[1]},
                 f"user {user.name} restored with its {removed[1]} sessions, course and frequency guard")
            return 0
        user = resolve_user(history, args.name)
        unlock(history, user, lambda: read_pin(f"PIN for {user.name}: "))
        if args.user_command == "show":
            data = user.to_dict()
            data["courses"] = [course_status(history, user, s, clock()).to_dict() for s in user.sites]
            for c in data["courses"]:
                c.pop("sessions")
            _out(args, data, "\n".join([f"user {user.name}: born {user.born or 'unknown'}, HDSS "
                                         f"{user.hdss or 'not stated'}, sites {','.join(user.sites)}"
                                         f"{', PIN set' if user.has_pin else ''}"]
                                        + [_course_line(c, clock().tzinfo) for c in data["courses"]]))
            return 0
        if args.user_command == "set":
            if hdss is not None:   # a severity never moves a reached phase back (SRS-279)
                for site in user.sites:
                    keep_reached_phase(history, user, site, clock())
            user = update_user(history, user, born=born, hdss=hdss)
            retargeted: list[str] = []
            if hdss is not None:   # as `course set --hdss`: the initial courses take the new target
                retargeted = [r[0] for r in history.query(
                    "SELECT site FROM courses WHERE user_id = ? AND phase = 'initial' ORDER BY site",
                    (user.user_id,))]
                history.write("UPDATE courses SET hdss = ? WHERE user_id = ? AND phase = 'initial'",
                              (hdss, user.user_id))
            note = "".join(f"; course {site}: target {HDSS_TARGET_SESSIONS[hdss]} sessions"
                           for site in retargeted) if hdss is not None else ""
            _out(args, dict(user.to_dict(), courses_retargeted=retargeted),
                 f"user {user.name}: born {user.born}, HDSS {user.hdss or 'not stated'}{note}")
            return 0
        kept = remove_user(history, user, clock())
        _out(args, {"name": user.name, "removed": True, "sessions_kept": kept},
             f"user {user.name} removed; {kept} sessions kept in the history, marked as of a removed user")
        return 0
    finally:
        history.close()


def _write_clock(history: History, now: datetime) -> None:
    try:
        check_write_clock(history, now)
    except FrequencyRefused as exc:
        raise UserError(str(exc)) from None


def _restart(args, history: History, user: User, clock: Clock) -> int:
    """`ionto course restart` (SRS-279): the only way back to the initial phase,
    confirmed on a terminal or by --yes, and recorded."""
    if args.site not in user.sites:
        raise UserError(f"--site: {args.site!r} is not among the sites of user {user.name!r} "
                        f"({', '.join(user.sites)}); nothing was changed")
    status = course_status(history, user, args.site, clock())
    if status.phase != "maintenance":
        raise UserError(f"--site: the course of user {user.name!r} at {args.site} is in the initial "
                        "phase already; nothing to restart; nothing was changed")
    print(f"restart the course of {user.name}, {args.site}: back to the initial phase (1 session a "
          "day, 5 a week, +1 mA suggestions); only sessions from now on count toward it", file=sys.stderr)
    if sys.stdin.isatty():
        answer = input("Restart the course? [y/N] ") if not args.yes else "y"
        if answer.strip().lower() not in ("y", "yes"):
            raise UserError("restart: not confirmed; nothing was changed")
    elif not args.yes:
        raise UserError("restart: without a terminal the restart must be confirmed with --yes; "
                        "nothing was changed")
    try:
        event = restart_course(history, user, args.site, clock())
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _out(args, dict(event, user=user.name, site=args.site),
         f"course of {user.name}, {args.site} restarted at {event['at']}: initial phase again "
         f"(was maintenance since {event['maintenance_since']}, {event['sessions_counted']} sessions counted)")
    return 0


def _out(args, data: Any, text: str) -> None:
    print(json.dumps(data) if getattr(args, "json", False) else text)


def _local(text: str | None, tz) -> str | None:
    return None if text is None else parse_time(text).astimezone(tz).isoformat(timespec="minutes")


def _course_line(c: dict[str, Any], tz=None) -> str:
    nxt = _local(c["next_allowed"], tz) or "now"
    due = f", next due {_local(c['next_due'], tz)}" if c["next_due"] else ""
    due += ", polarity alternates in maintenance" if c.get("alternate_polarity") else ""
    return (f"  {c['site']}: {c['phase']} phase, {c['sessions_done']} sessions done, "
            f"{c['sessions_to_go']} to go (target {c['target_sessions']}), next allowed {nxt}{due}")


# --- ionto course ---------------------------------------------------------------------------------
def cmd_course(args: argparse.Namespace, db: Path) -> int:
    clock = clock_from(args.now)
    command = args.course_command or "show"
    if command == "score":   # input checked before the file is opened (SRS-281)
        parse_hdss(args.hdss)
    if command == "set" and args.hdss is not None:
        parse_hdss(args.hdss)
    history = _open(db, must_exist=True, readonly=command == "show", clock=clock)
    try:
        user = resolve_user(history, args.user)
        unlock(history, user, lambda: read_pin(f"PIN for {user.name}: "))
        command = args.course_command or "show"
        if command in ("score", "set", "restart"):
            _write_clock(history, clock())
        if command == "score":
            try:
                record_score(history, user, args.session, parse_hdss(args.hdss), args.discomfort, clock())
            except ValueError as exc:
                raise UserError(str(exc)) from None
            _out(args, {"session_id": args.session, "hdss": int(args.hdss), "discomfort": args.discomfort},
                 f"score recorded for session {args.session}: HDSS {args.hdss}"
                 f"{', discomfort' if args.discomfort else ''}")
            return 0
        if command == "restart":
            return _restart(args, history, user, clock)
        if command == "set":
            if args.site not in user.sites:   # a course only where the profile treats
                raise UserError(f"--site: {args.site!r} is not among the sites of user {user.name!r} "
                                f"({', '.join(user.sites)}); nothing was changed")
            try:
                set_course(history, user, args.site, clock(), per_month=args.per_month,
                           hdss=args.hdss, alternate_polarity=args.alternate_polarity)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        sites = [args.site] if getattr(args, "site", None) else list(user.sites)
        statuses = [course_status(history, user, s, clock()) for s in sites]
        charts = []
        if not getattr(args, "no_chart", False) and command == "show":
            try:
                from core.course_chart import write_chart
            except ImportError:  # matplotlib is in the `report` extra, not the device install
                write_chart = None
                print("ionto: course chart not written: matplotlib is not installed "
                      "(pip install 'ionto-core[report]'); use --no-chart to silence this", file=sys.stderr)
            for st in statuses:
                if st.sessions and write_chart is not None:
                    charts.append(str(write_chart(st, db)))
        data = [dict(st.to_dict(), chart=next((c for c in charts if f"-{st.site}." in c), None))
                for st in statuses]
        lines = [f"user {user.name} (minimum effective time {MIN_EFFECTIVE_TREAT_S / 60:g} min: "
                 "shorter sessions do not count)"]
        for c in data:
            lines.append(_course_line(c, clock().tzinfo))
            if c["suggestion"]:
                s = c["suggestion"]
                lines.append(f"    suggestion: {s['settings']['current_ma']:g} mA, {s['settings']['minutes']} min, "
                             f"polarity {s['settings']['start_polarity']} ({s['reason']})")
            last = c["sessions"][-1] if c["sessions"] else None
            if last and last["scores"]:   # every score kept: a discomfort stays visible
                given = "; ".join(f"HDSS {g['hdss']}{' with discomfort' if g['discomfort'] else ''} "
                                  f"({_local(g['given_at'], clock().tzinfo)})" for g in last["scores"])
                lines.append(f"    scores of session {last['session_id']}: {given}")
            for r in c.get("restarts", []):
                lines.append(f"    restarted {_local(r['at'], clock().tzinfo)} from the "
                             f"{r.get('from_phase', 'maintenance')} phase (confirmed, recorded)")
            if c["chart"]:
                lines.append(f"    chart: {c['chart']}")
        _out(args, data, "\n".join(lines))
        return 0
    finally:
        history.close()
