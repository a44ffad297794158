"""The `ionto` command (SRS-080..SRS-088).

    ionto session --site SITE --current MA --minutes MIN [options]
    ionto history [--db PATH] [--user NAME] [--json]
    ionto user add|list|show|set|remove ...      (core/cli_users.py, SRS-190..SRS-193)
    ionto course [show|score|set] [--user NAME]  (core/cli_users.py, SRS-073, SRS-194..SRS-199)

Exit codes (SRS-081): 0 completed; 1 refused or invalid input; 3 the session
ended in a fault; 4 stopped or interrupted (the contact timeout, or a session
bound of SRS-090: the JSON summary's `end_reason` names it). Every refusal happens before the
device is created, so nothing is energised; its message names the field, the
value and the allowed range, never a traceback. The live view goes to stderr;
stdout carries only the `--json` summary.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Sequence

from core.checklist import (CONTRAINDICATIONS, MODE_ASKED, MODE_FILE, MODE_FILE_CONFIRMED,
                            PREPARATION, ChecklistAnswers, ChecklistError, ChecklistRecord,
                            evaluate, load_checklist_with_hash, site_instructions)
from core.device import SimulatedDevice
from core import cli_users
from core.course import FrequencyRefused, admission
from core.realtime import RealtimeDevice
from core.regulator import RegulatorError
from core.history import History, HistoryError, default_db_path
from core.users import UserError, resolve_user, unlock
from core.liveview import LiveView
from core.scenario import ScenarioError, load_scenario
from core.settings import (PULSE_FIELDS, Mode, SettingsError, Site, TherapySettings, allowed_text,
                           default_mode, parse_settings, read_decimal)
from core.supervisor import SessionPlan, Supervisor
from core.trace import TraceWriter

EXIT_COMPLETED = 0
EXIT_REFUSED = 1
EXIT_FAULT = 3
EXIT_STOPPED = 4
EXIT_CODES = {"completed": EXIT_COMPLETED, "refused": EXIT_REFUSED, "fault": EXIT_FAULT,
              "stopped": EXIT_STOPPED, "interrupted": EXIT_STOPPED}

SEED_MAX = 2**64 - 1   # the simulated load's PRNG seed is a uint64 (core.regulator)
SITES = tuple(site.value for site in Site)


class Refused(Exception):
    """Invalid input or a refused session: exit 1 with this message."""


class DeviceFailed(Exception):
    """The device failed during a session, its output switched off: exit 3 with this message."""


class UsageError(Refused):
    """A malformed command line (unknown option, missing command, bad value type): exit 1."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments; this command's contract says 1. The
    message is printed once, in the form every error of `ionto` has."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _number_arg(text: str) -> float | str:
    """A number if it is ASCII decimal notation (SRS-140); otherwise the text,
    so that core.settings refuses it with the field's name and allowed range."""
    number = read_decimal(text)
    return text if number is None else number


def _seed_arg(text: str) -> int:
    try:
        if not (text.isascii() and text.isdigit()):   # int() reads '５', ' 1', '1_0' (SRS-140)
            raise ValueError(text)
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an integer; allowed 0..{SEED_MAX}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed 0..{SEED_MAX}")
    return value


EPILOG = """exit codes:
  0  the session completed
  1  refused or invalid input (nothing energised; the message names the field and the allowed range)
  3  the session ended in a fault, or the device failed during it (output switched off)
  4  the session was stopped (Stop, Ctrl-C) or interrupted

messages on stderr: 'ionto: refused: ...' (a session that was not started),
'ionto: error: ...' (a malformed command line, a failure to write a file, or a
device that failed during a session).
"""
SESSION_EXAMPLES = """examples:
  ionto session --site hands --current 15 --minutes 10 --checklist examples/checklist.yaml
  ionto session --last --checklist examples/checklist.yaml --json
  ionto session --site feet --current 12 --minutes 15 --checklist examples/checklist.yaml \\
                --scenario examples/scenario-liftoff.yaml --trace out/t.csv
"""
HISTORY_EXAMPLES = """examples:
  ionto history
  ionto history --db out/history.sqlite --json
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("ionto-core")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _default(field: str) -> Any:
    return TherapySettings.model_fields[field].default


def _pulse_default(field: str) -> float:
    from core.limits import load_limits
    return float(getattr(load_limits().settings, field).default)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="ionto", description="Tap-water iontophoresis control core (simulated device by "
                     "default).", epilog=EPILOG + "\n" + SESSION_EXAMPLES + HISTORY_EXAMPLES, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{session,history,user,course}")
    db_help = f"history database (default: {default_db_path()})"

    s = sub.add_parser("session", help="run a treatment session (simulated device by default)",
                       description="Run one treatment session: checklist, ramp up, treatment, ramp down.",
                       epilog=EPILOG + "\n" + SESSION_EXAMPLES, formatter_class=fmt)
    need = s.add_argument_group("settings (required unless --last gives them)")
    need.add_argument("--site", help=f"treated area: {allowed_text('site')}")
    need.add_argument("--current", type=_number_arg, metavar="MA",
                      help=f"set current in mA, step 0.01: {allowed_text('current_ma')}")
    need.add_argument("--minutes", type=_number_arg, metavar="MIN",
                      help=f"treatment time: {allowed_text('minutes')}")
    opt = s.add_argument_group("session options")
    opt.add_argument("--ramp-up", type=_number_arg, metavar="S", dest="ramp_up_s",
                     help=f"ramp-up time in seconds: {allowed_text('ramp_up_s')} (default {_default('ramp_up_s'):g})")
    opt.add_argument("--ramp-down", type=_number_arg, metavar="S", dest="ramp_down_s",
                     help=f"ramp-down time in seconds: {allowed_text('ramp_down_s')} "
                          f"(default {_default('ramp_down_s'):g})")
    opt.add_argument("--reverse-polarity", action=argparse.BooleanOptionalAction, default=None,
                     help="reverse the polarity at half time (ramp down, swap, ramp up) "
                          f"(default: {'on' if _default('reverse_polarity') else 'off'})")
    opt.add_argument("--mode", metavar="{dc,pulsed}",
                     help="output: plain DC, or pulsed DC whose pulse peak is the set current "
                          "(default: pulsed for underarms, dc for hands and feet; with --last the last "
                          "session's)")
    opt.add_argument("--pulse-khz", type=_number_arg, metavar="F", dest="pulse_khz",
                     help=f"pulse frequency in kHz: {allowed_text('pulse_khz')} "
                          f"(default {_pulse_default('pulse_khz'):g})")
    opt.add_argument("--duty", type=_number_arg, metavar="P", dest="duty_percent",
                     help=f"pulse duty in percent: {allowed_text('duty_percent')} ".replace("%", "%%")
                          + f"(default {_pulse_default('duty_percent'):g})")
    opt.add_argument("--last", action="store_true",
                     help="take the settings of the last session in the history (options given "
                          "override), its starting polarity too: Last Setting repeats the last "
                          "settings, also where polarity alternation is chosen (then a notice says so)")
    opt.add_argument("--checklist", metavar="FILE",
                     help="checklist answers, YAML (format: examples/checklist.yaml); required without a "
                          "terminal; on a terminal the file's answers are shown and must be confirmed, "
                          "and without this option the questions are asked")
    opt.add_argument("--scenario", metavar="FILE",
                     help="YAML list of timed simulated-device events (e.g. examples/scenario-liftoff.yaml)")
    opt.add_argument("--seed", type=_seed_arg, default=0,
                     help=f"simulation seed, 0..{SEED_MAX} (default: %(default)s)")
    opt.add_argument("--realtime", action="store_true",
                     help="pace the session to wall time (default: as fast as the machine allows)")
    opt.add_argument("--runner", action="store_true",
                     help="with --realtime: the regulation loop runs in C at 10 kHz in its own thread "
                          "(the real-time runner, the simulated load as its board; SRS-216)")
    opt.add_argument("--db", metavar="PATH", help=db_help)
    cli_users.add_session_options(opt)
    opt.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    opt.add_argument("--trace", metavar="FILE", help="write a CSV trace, one row per 10 ms")

    h = sub.add_parser("history", help="list the recorded sessions (read-only)",
                       description="List the recorded sessions. Read-only: a database that does not exist "
                                   "is reported, never created.",
                       epilog=HISTORY_EXAMPLES, formatter_class=fmt)
    h.add_argument("--db", metavar="PATH", help=db_help)
    h.add_argument("--user", metavar="NAME",
                   help="only this user's sessions (required when the history has two or more users)")
    h.add_argument("--json", action="store_true",
                   help="print the sessions as JSON, with the keys of the session summary")
    cli_users.add_parsers(sub, db_help, fmt)
    return parser


def _terminal_out():
    """Where the checklist's questions go (SRS-086): stderr if it is a
    terminal, else stdout if that is one (stderr redirected to a log), else
    None. A redirected stream must not make a terminal user's session
    unattended."""
    for stream in (sys.stderr, sys.stdout):
        if stream.isatty():
            return stream
    return None


def _interactive() -> bool:
    return sys.stdin.isatty() and _terminal_out() is not None


def _tell(text: str) -> None:
    """A checklist line to the user at the terminal."""
    print(text, file=_terminal_out() or sys.stderr)


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        if args.command == "history":
            return cmd_history(args)
        if args.command in ("user", "course"):
            _check_db_arg(args.db)
            run = cli_users.cmd_user if args.command == "user" else cli_users.cmd_course
            try:
                return run(args, history_path(args.db))
            except HistoryError as exc:   # a damaged row, a lock: named, never a traceback
                raise Refused(f"--db: {exc}") from None
        return cmd_session(args)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `ionto history | head`): not an
        # error of ours. Point stdout at /dev/null so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_COMPLETED
    except KeyboardInterrupt:  # before Start (a running session handles Ctrl-C as Stop)
        exc = Refused("interrupted by the user before Start; nothing was energised")
        _say(f"ionto: refused: {exc}")
        return EXIT_REFUSED
    except UsageError as exc:
        _say(f"ionto: error: {exc}")
        return EXIT_REFUSED
    except (Refused, UserError) as exc:
        _say(f"ionto: refused: {exc}")
        if "--json" in argv and argv[0] == "session":
            print(json.dumps(_refused_summary(str(exc))))
        return EXIT_REFUSED
    except DeviceFailed as exc:
        _say(f"ionto: error: {exc}")
        if "--json" in argv and argv[0] == "session":
            print(json.dumps({**_refused_summary(str(exc)), "outcome": "fault", "fault": "device_error"}))
        return EXIT_FAULT


def _refused_summary(reason: str) -> dict[str, Any]:
    return {"outcome": "refused", "fault": None, "site": None, "current_mA": None,
            "minutes": None, "treat_s": 0.0, "delivered_mAmin": 0.0, "max_current_mA": 0.0,
            "states": [], "session_id": None, "reason": reason, "end_reason": None,
            "pauses": 0, "antishock_cuts": 0, "ramp_s": 0.0, "density_limits": 0,
            "density_pauses": 0, "checklist": None}


# --- session -------------------------------------------------------------------
def cmd_session(args: argparse.Namespace) -> int:
    # Everything is checked before the device exists: nothing is energised on
    # a refusal, and a refused session writes no history row.
    _check_db_arg(args.db)
    # the device's wall clock (--now: simulated; refused with --realtime)
    clock = cli_users.session_clock(args.now, args.realtime)
    _refuse_trace_over_inputs(args)   # before anything is opened for writing
    _refuse_suggested_with_settings(args)
    if args.runner and not args.realtime:
        raise Refused("--runner needs --realtime (the loop ticks on the wall clock); nothing was energised")
    with ExitStack() as stack:
        history: History | None = None
        user = None   # None: the implied profile 'default' of a history without profiles
        if args.user and not history_path(args.db).exists():
            raise Refused(f"--user: no user {args.user!r}: the history {str(history_path(args.db))!r} "
                          "does not exist")
        if not (args.last or args.suggested):
            # bad settings are refused before the history is opened: a refused
            # command never creates or upgrades it (SRS-281)
            _refuse_runner_pulsed(args, _resolve_settings(args, None))
            if args.scenario:
                _load_scenario(args.scenario)
        if args.last or args.suggested or history_path(args.db).exists():
            history = stack.enter_context(_open_history(args.db, clock=clock))
            user = cli_users.session_user(history, args.user)
        settings = _resolve_settings(args, history, user, clock)
        _refuse_runner_pulsed(args, settings)
        if history is not None:   # age, clock, frequency: before the checklist is asked
            cli_users.check_session(history, user, settings.site.value, clock)
        scenario = _load_scenario(args.scenario) if args.scenario else []
        _refuse_runner_drift(args, scenario)
        checklist = _run_checklist(args, settings.site.value)
        # the C runner starts before the history or the trace is created, so
        # that one that does not start leaves no file behind (SRS-281); it
        # ticks with the output off until the session. The simulation is
        # made only when everything has been checked.
        runner = _start_runner(args) if args.runner else None
        if runner is not None:
            stack.callback(runner.close)   # also when a later check refuses
        if history is None:
            history = stack.enter_context(_open_history(args.db, clock=clock))
            user = cli_users.session_user(history, args.user)
        # the same checks again, under the write lock of the session row (SRS-196)
        history.clock = clock
        history.admit = admission(user, settings.site.value, clock)
        trace = None
        if args.trace:
            try:
                trace = open(args.trace, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise Refused(f"--trace: cannot write {args.trace!r}: {exc.strerror}") from None
            stack.callback(_close_trace, trace, args.trace)
        notice = cli_users.birth_year_notice(user)
        if notice:
            _say(notice)
        for line in cli_users.polarity_lines(history, user, settings.site.value,
                                             settings.start_polarity.value, clock):
            _say(line)
        summary = _run_session(args, settings, runner, scenario, history, trace, checklist)
    if args.json:
        print(json.dumps(summary))
    else:
        _say(_summary_text(summary))
        if args.trace:
            _say(f"trace:   {args.trace}")
        _say(f"history: {history_path(args.db)}")
    return EXIT_CODES[summary["outcome"]]


# the settings a suggestion sets: given with --suggested they would replace
# what was shown and confirmed (SRS-198, review 3 of issue 11, defect 3)
_SUGGESTION_OPTIONS = (("--current", "current"), ("--minutes", "minutes"), ("--ramp-up", "ramp_up_s"),
                       ("--ramp-down", "ramp_down_s"),
                       ("--reverse-polarity/--no-reverse-polarity", "reverse_polarity"),
                       ("--polarity", "polarity"), ("--mode", "mode"), ("--pulse-khz", "pulse_khz"),
                       ("--duty", "duty_percent"), ("--last", "last"))


def _refuse_suggested_with_settings(args: argparse.Namespace) -> None:
    """--suggested runs exactly the suggestion shown and confirmed: options
    that would change it are refused, before anything is opened."""
    if not args.suggested:
        return
    given = [opt for opt, attr in _SUGGESTION_OPTIONS
             if (args.last if attr == "last" else getattr(args, attr) is not None)]
    if given:
        raise Refused(f"--suggested cannot be combined with {', '.join(given)}: the suggestion shown "
                      "and confirmed is exactly what runs (only --site chooses it); leave these out, "
                      "or leave out --suggested and give the settings; nothing was energised")


def _refuse_runner_pulsed(args: argparse.Namespace, settings: TherapySettings) -> None:
    """The real-time runner's board (the simulated load behind cext/runner.c)
    has no pulse stage: a pulsed session there is refused (SRS-300)."""
    if args.runner and settings.mode is Mode.PULSED:
        raise Refused("--runner: the real-time runner's board has no pulsed output (SRS-300); give "
                      "--mode dc, or leave out --runner; nothing was energised")


def _check_db_arg(db: str | None) -> None:
    if db is not None and not db.strip():
        raise Refused("--db: an empty path is not allowed; give a file path, or leave --db "
                      f"out for the default {str(default_db_path())!r}")


def _same_file(a: str, b: str) -> bool:
    """True if both names reach one file (links and relative paths included)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _refuse_trace_over_inputs(args: argparse.Namespace) -> None:
    """`--trace` truncates its file: refuse a name that reaches the history or an
    input file, which would be destroyed (SRS-071: nothing stored is lost)."""
    if not args.trace:
        return
    others = [("--db" if args.db else "--db (default)", str(history_path(args.db))),
              ("--checklist", args.checklist), ("--scenario", args.scenario)]
    for option, path in others:
        if path and _same_file(args.trace, path):
            raise Refused(f"--trace {args.trace!r} is the same file as {option} {path!r}; "
                          "writing the trace would destroy it: give --trace another file")


def _close_trace(stream, name: str) -> None:
    """Close the trace after the session; a failure is reported, the outcome stays."""
    try:
        stream.close()
    except OSError as exc:
        _say(f"ionto: error: --trace {name!r}: could not be completed: {exc}")


def _resolve_settings(args: argparse.Namespace, history, user=None, clock=None) -> TherapySettings:
    """Settings from the options, or from the last session with --last (options
    given override those); validated by core.settings (field, value, range)."""
    given = {"site": args.site, "current_ma": args.current, "minutes": args.minutes,
             "ramp_up_s": args.ramp_up_s, "ramp_down_s": args.ramp_down_s,
             "reverse_polarity": args.reverse_polarity, "start_polarity": args.polarity,
             "mode": args.mode, "pulse_khz": args.pulse_khz, "duty_percent": args.duty_percent}
    given = {k: v for k, v in given.items() if v is not None}
    data: dict[str, Any] = {}
    if args.suggested:
        data.update(cli_users.suggested_settings(history, user, args.site, clock, _interactive(), _ask,
                                                 confirmed=args.yes))
    elif args.last:
        last = _last_settings(history, user, args.site)
        if last is None:
            raise Refused(f"--last: the history {str(history_path(args.db))!r} holds no session; "
                          "give --site, --current and --minutes")
        data.update(last)
        if given.get("mode") == Mode.DC.value:   # dc chosen over a pulsed Last Setting
            for name in PULSE_FIELDS:
                data.pop(name, None)
    elif "mode" not in given and given.get("site") in set(Site):
        data["mode"] = default_mode(given["site"]).value   # the site's default mode (SRS-300)
    data.update(given)
    missing = [opt for opt, key in (("--site", "site"), ("--current", "current_ma"),
                                    ("--minutes", "minutes")) if key not in data]
    if missing:
        raise Refused("missing " + ", ".join(
            f"{opt} (allowed: {allowed_text(_OPTION_FIELD[opt], data.get('site'))})"
            for opt in missing))
    try:
        return parse_settings(data)
    except SettingsError as exc:
        raise Refused("invalid settings:\n  " + "\n  ".join(
            _with_option(m) for m in exc.messages)) from None


_OPTION_FIELD = {"--site": "site", "--current": "current_ma", "--minutes": "minutes",
                 "--ramp-up": "ramp_up_s", "--ramp-down": "ramp_down_s",
                 "--reverse-polarity": "reverse_polarity", "--polarity": "start_polarity",
                 "--mode": "mode", "--pulse-khz": "pulse_khz", "--duty": "duty_percent"}


def _with_option(message: str) -> str:
    """'current_ma: 40 mA is outside ...' -> '--current (current_ma): 40 mA is outside ...'."""
    field, _, rest = message.partition(":")
    option = next((o for o, f in _OPTION_FIELD.items() if f == field), None)
    return f"{option} ({field}):{rest}" if option else message


def _load_scenario(path: str) -> list:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise Refused(f"--scenario: {exc}") from None


def _run_checklist(args: argparse.Namespace, site: str) -> ChecklistRecord:
    """Refuse unless no contraindication applies and every step is confirmed.

    On a terminal every session's checklist is answered by the user: asked,
    or a file's answers shown and confirmed (SRS-086). Without a terminal a
    file is required and its answers are used as given. The record says which
    (SRS-093)."""
    if args.checklist:
        try:
            answers, sha256 = load_checklist_with_hash(args.checklist)
        except ChecklistError as exc:
            raise Refused(f"--checklist: {exc}") from None
        mode = MODE_FILE
        if _interactive():
            _confirm_file_answers(args.checklist, answers)
            mode = MODE_FILE_CONFIRMED
        record = ChecklistRecord(mode, answers, source=str(Path(args.checklist).resolve()),
                                 sha256=sha256)
    elif _interactive():
        answers = _ask_checklist(site)
        record = ChecklistRecord(MODE_ASKED, answers)
    else:
        raise Refused("--checklist FILE is required when not on a terminal (stdin is not a tty); "
                      "see examples/checklist.yaml")
    result = evaluate(answers)
    if result.refused:
        raise Refused("session refused by the checklist:\n  " + "\n  ".join(result.reasons))
    _say(site_instructions(site))   # stderr: --json keeps stdout for the summary
    return record


def _confirm_file_answers(path: str, answers: ChecklistAnswers) -> None:
    """A file's answers on a terminal: shown, and confirmed for today (SRS-086)."""
    _tell(f"Checklist answers from {path}:")
    for item in CONTRAINDICATIONS:
        value = answers.contraindications.get(item.id)
        _tell(f"  {item.question} {'yes' if value else 'no'}")
    for item in PREPARATION:
        value = answers.preparation.get(item.id)
        _tell(f"  {item.question} {'yes' if value else 'no'}")
    if not _ask("Are these answers true for you today?"):
        raise Refused(f"--checklist: the answers of {path!r} were not confirmed; nothing was "
                      "energised: correct the file, or leave --checklist out to be asked")


def _ask(question: str) -> bool:
    while True:
        out = _terminal_out() or sys.stderr
        out.write(f"{question} [y/n] ")
        out.flush()
        line = sys.stdin.readline()
        if not line:
            raise Refused("checklist: input ended before every question was answered")
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        _tell("please answer y or n")


def _ask_checklist(site: str) -> ChecklistAnswers:
    _tell(f"Before the session ({site}): answer each question with y or n.")
    contra = {item.id: _ask(item.question) for item in CONTRAINDICATIONS}
    prep = {item.id: _ask(item.question) for item in PREPARATION}
    return ChecklistAnswers(contra, prep)


class _TraceObserver:
    def __init__(self, writer: TraceWriter) -> None:
        self.writer = writer

    def batch(self, start_tick: int, state: str, rowbatch, sup: Supervisor) -> None:
        self.writer.write_rows(start_tick, state, rowbatch.rows())
        # flushed per batch: a full disk shows up during the session, which
        # then stops with a ramp-down, not only when the file is closed
        self.writer.flush()


class _LiveObserver:
    def __init__(self, view: LiveView) -> None:
        self.view = view

    def batch(self, start_tick: int, state: str, rowbatch, sup: Supervisor) -> None:
        self.view.update(sup.state, rowbatch.last, sup.treat_s)


def _refuse_runner_drift(args, scenario) -> None:
    drift = [e for e in scenario if e.event == "clock_drift"]
    if args.runner and drift:
        raise Refused(f"--scenario: event 'clock_drift' at {drift[0].at_s:g} s cannot be simulated "
                      "with --runner (the loop runs on the monotonic clock); nothing was energised")


def _start_runner(args) -> RealtimeDevice:
    """The C runner at 10 kHz with the simulated load as its board (SRS-216)."""
    try:
        return RealtimeDevice(seed=args.seed, warn=_say)
    except RegulatorError as exc:   # RealtimeDevice has stopped the runner again: nothing ticks
        raise Refused(f"--runner: {exc}; nothing was energised") from None


def _run_session(args, settings: TherapySettings, runner: RealtimeDevice | None, scenario, history,
                 trace_stream, checklist: ChecklistRecord | None = None) -> dict:
    plan = SessionPlan.from_settings(settings)
    device = runner if runner is not None else SimulatedDevice(seed=args.seed)
    try:
        return _supervise(args, settings, plan, device, scenario, history, trace_stream, checklist)
    finally:
        if runner is not None:
            runner.close()   # stops the runner; the output disconnect opens


def _supervise(args, settings, plan, device, scenario, history, trace_stream, checklist) -> dict:
    observers: list[Any] = []
    if trace_stream is not None:
        observers.append(_TraceObserver(TraceWriter(trace_stream, device.tick_hz)))
    live = None
    if sys.stderr.isatty():
        live = LiveView(sys.stderr, plan.current_ma, plan.treat_time_s,
                        pulsed=settings.mode is Mode.PULSED)
        observers.append(_LiveObserver(live))
    if isinstance(history.clock, cli_users.SimulatedWallClock):
        observers.append(history.clock)   # --now: the wall clock follows simulated time
    sup = Supervisor(device, settings, scenario=scenario, observers=observers,
                     realtime=args.realtime, history=history, checklist=checklist)
    # Ctrl-C is the Stop button: a controlled ramp-down, never an abrupt exit.
    previous = signal.signal(signal.SIGINT, lambda *_: sup.request_stop())
    try:
        try:
            sup.begin()   # writes the history row first; the output is still off
        except FrequencyRefused as exc:   # the admission check under the write lock
            raise Refused(str(exc)) from None
        except (HistoryError, OSError) as exc:   # before any command to the device
            raise Refused(f"--db: the session could not be recorded, so it was not started; "
                          f"nothing was energised: {exc}") from None
        except RegulatorError as exc:   # the polarity or pulse train, set before the row and the output
            raise Refused(f"the device did not take the session's start: {exc}; nothing was energised "
                          "or recorded") from None
        try:
            result = sup.run()
        except RegulatorError as exc:   # run() switched the output off before it raised
            raise DeviceFailed(f"the device failed during session {sup.session_id}: {exc}; the output was "
                               "switched off; the session stays recorded as interrupted") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        if live is not None:
            if sup.last is not None:
                live.update(sup.state, sup.last, sup.treat_s, force=True)
            live.close()
    for message in result.io_errors:
        _say(f"ionto: error: {message}")
    if result.history_error:
        _say(f"ionto: error: the end of session {result.session_id} could not be written to the "
             f"history ({result.history_error}); its row stays marked interrupted. "
             f"The session itself ended: {result.outcome}")
    return {"outcome": result.outcome, "fault": result.fault, "site": plan.site,
            "current_mA": plan.current_ma, "minutes": settings.minutes,
            "treat_s": round(result.treat_s, 4), "delivered_mAmin": round(result.delivered_mamin, 4),
            "max_current_mA": round(result.max_current_ma, 4), "states": result.states,
            "session_id": result.session_id, "end_reason": result.end_reason,
            **result.counts(),
            "checklist": None if checklist is None else checklist.mode,
            **result.pulsed_figures()}


def _summary_text(s: dict[str, Any]) -> str:
    fault = f" (fault: {s['fault']})" if s["fault"] else ""
    if s.get("end_reason") and s["end_reason"] not in ("time_up", "stop"):
        fault += f" (ended: {s['end_reason']})"
    if s.get("density_limits"):
        fault += f" (current lowered {s['density_limits']}x: contact area)"
    text = (f"session {s['session_id']}: {s['outcome']}{fault}; {s['site']} "
            f"{s['current_mA']:g} mA, treated {s['treat_s'] / 60:.2f} of {s['minutes']:g} min, "
            f"{s['delivered_mAmin']:.1f} mA*min delivered, max {s['max_current_mA']:.2f} mA")
    if s.get("mode") == Mode.PULSED.value:   # the set current is the peak; the mean beside it (SRS-301)
        text += (f"; pulsed {s['pulse_khz']:g} kHz {s['duty_percent']} %: peak "
                 f"{s['peak_current_mA']:.2f} mA, mean {s['mean_current_mA']:.2f} mA in treatment")
    return text


# --- history ---------------------------------------------------------------------
def history_path(db: str | None) -> Path:
    return Path(db) if db else default_db_path()


def _open_history(db: str | None, *, readonly: bool = False, clock=None) -> History:
    try:
        return History(history_path(db), readonly=readonly, clock=clock)
    except (HistoryError, OSError) as exc:
        raise Refused(f"--db: {exc}") from None


def _last_settings(history: History, user=None, site: str | None = None) -> dict[str, Any] | None:
    """Last Setting as a dict the options can override: the user's own, at
    the site if given (SRS-198); without a profile, the last of a session that
    belongs to nobody (never one of a removed user)."""
    try:
        if user is None:
            last = history.last_settings(unowned=True)
        else:
            last = history.last_settings(user.user_id, site)
    except SettingsError as exc:
        raise Refused("--last: the last session's settings are no longer allowed:\n  "
                      + "\n  ".join(exc.messages)) from None
    except HistoryError as exc:
        raise Refused(f"--last: {exc}") from None
    return None if last is None else last.to_record()


# a session of history version 1 recorded no counts: shown as unknown (None)
_COUNTS_UNKNOWN = {"pauses": None, "antishock_cuts": None, "ramp_s": None,
                   "density_limits": None, "density_pauses": None}


def _history_json(r) -> dict[str, Any]:
    """A history row with the keys of the session's --json summary (current_mA,
    delivered_mAmin, max_current_mA, fault, ...), plus what only the history has."""
    st = r.settings
    return {"session_id": r.session_id, "outcome": r.outcome, "fault": r.faults[-1] if r.faults else None,
            "site": st.get("site"), "current_mA": st.get("current_ma"), "minutes": st.get("minutes"),
            "ramp_up_s": st.get("ramp_up_s"), "ramp_down_s": st.get("ramp_down_s"),
            "reverse_polarity": st.get("reverse_polarity"),
            "start_polarity": st.get("start_polarity", "normal"), "treat_s": r.treat_s,
            "delivered_mAmin": r.delivered_mamin, "max_current_mA": r.max_current_ma, "states": r.states,
            "faults": r.faults, "started_at": r.started_at, "ended_at": r.ended_at,
            "end_reason": r.end_reason, **_COUNTS_UNKNOWN, **r.counts,
            "checklist": None if r.checklist is None else r.checklist.get("mode"),
            "checklist_record": r.checklist,
            # a pulsed session's train (SRS-301); a dc record has none, as before
            **{k: st[k] for k in ("mode", *PULSE_FIELDS) if k in st}}


def cmd_history(args: argparse.Namespace) -> int:
    _check_db_arg(args.db)
    path = history_path(args.db)
    if not path.exists():   # read-only: never create a database by listing it
        if args.json:
            print("[]")
        else:
            print(f"no sessions recorded: {path} does not exist")
        return EXIT_COMPLETED
    history = _open_history(args.db, readonly=True)   # never migrated or written (SRS-281)
    try:
        records = _visible_sessions(history, args.user)
    except HistoryError as exc:
        raise Refused(f"--db: {exc}") from None
    finally:
        history.close()
    if args.json:
        print(json.dumps([_history_json(r) for r in records]))
        return EXIT_COMPLETED
    if not records:
        print(f"no sessions recorded in {history_path(args.db)}")
    for r in records:
        st = r.settings
        rev = " reversal" if st.get("reverse_polarity") else ""
        rev += " start-reversed" if st.get("start_polarity") == "reversed" else ""
        if st.get("mode") == Mode.PULSED.value:   # SRS-301: the train, and the mean beside the peak
            mean = r.counts.get("mean_current_mA")
            rev += (f" pulsed {_cell(st.get('pulse_khz'), 'g')} kHz {_cell(st.get('duty_percent'), '')} %"
                    + ("" if mean is None else f" mean {_cell(mean, '.2f')} mA"))
        fault = f" fault={','.join(r.faults)}" if r.faults else ""
        if r.end_reason and r.end_reason not in ("time_up", "stop"):
            fault += f" ended={r.end_reason}"
        if r.checklist:
            fault += f" checklist={r.checklist['mode']}"
        print(f"#{r.session_id:<4} {r.started_at}  {r.outcome:<11} {_cell(st.get('site'), '<9')} "
              f"{_cell(st.get('current_ma'), '5g')} mA {_cell(st.get('minutes'), '3')} min{rev}  "
              f"treated {r.treat_s / 60:5.2f} min  {r.delivered_mamin:7.1f} mA*min  "
              f"max {r.max_current_ma:5.2f} mA{fault}")
    return EXIT_COMPLETED


def _visible_sessions(history: History, name: str | None) -> list:
    """A user's data only under that user and PIN (SRS-191, SRS-192): with
    profiles, the named (or only) user's sessions; without, every session."""
    if name is None and not cli_users.list_users(history):
        # no active profile: the sessions of nobody; a removed user's stay hidden
        return [r for r in history.list_sessions() if r.user_id is None]
    user = resolve_user(history, name)
    unlock(history, user, lambda: cli_users.read_pin(f"PIN for {user.name}: "))
    return history.list_sessions(user.user_id)


def _cell(value: Any, spec: str) -> str:
    """A stored settings value for the listing; one of an unexpected type is
    shown as text rather than crashing the listing."""
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return format(repr(value), spec.rstrip("g"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
