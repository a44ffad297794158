"""The `ionto` command (core/cli.py; issue 12 point 2, mutation run of the
module): fast checks, in this process, of what SRS-080..SRS-088, SRS-140,
SRS-216 and SRS-281 promise on the command line: exit codes, the --json
summary and its figures, the CSV trace, each refusal's prefix, field and
allowed range, and that a refused command writes nothing.

Sessions are cut short (a `stop` or `short` event 1 s after Start, ramps of
10 s): one whole 10-minute session only, for exit code 0.
"""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

import core.cli as cli
from core.history import History
from tests.cli.in_process import Terminal, digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
SEED_MAX = 18446744073709551615          # 2**64 - 1: the simulated load's uint64 seed
SUMMARY_KEYS = {"outcome", "fault", "site", "current_mA", "minutes", "treat_s", "delivered_mAmin",
                "max_current_mA", "states", "session_id", "end_reason", "pauses", "antishock_cuts",
                "ramp_s", "density_limits", "density_pauses", "checklist"}
TRACE_COLUMNS = ["t_s", "state", "target_mA", "reference_mA", "current_mA", "peak_mA", "voltage_V",
                 "polarity", "fault"]


def _scenario(tmp_path: Path, text: str, name: str = "scenario.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _session(tmp_path: Path, *extra: str, current: str = "15", site: str = "hands",
             event: str | None = "stop") -> list[str]:
    """A session of 15 mA, 10 min, ramps of 10 s; by default stopped 1 s after Start."""
    args = ["session", "--site", site, "--current", current, "--minutes", "10", "--ramp-up", "10",
            "--ramp-down", "10", "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite")]
    if event == "stop":
        args += ["--scenario", _scenario(tmp_path, "- {at_s: 1, event: stop}\n")]
    elif event == "short":
        args += ["--scenario", _scenario(tmp_path, "- {at_s: 1, event: short, ohms: 20}\n")]
    return args + list(extra)


def _refused(capsys, *argv: str, stdin: str = "", terminal: bool = False) -> str:
    """Exit 1, one message with the refusal prefix, nothing on stdout; the
    message from its prefix on (the site's instructions may come before it)."""
    code, out, err = run(capsys, *argv, stdin=stdin, terminal=terminal)
    assert code == 1, err
    assert err.count("ionto: refused: ") == 1 and "ionto: error:" not in err, err
    if "--json" not in argv and not terminal:
        assert out == ""
    return err[err.index("ionto: refused: "):]


def _usage_error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err.count("ionto: error: ") == 1 and err.startswith("ionto: error: "), err
    assert "refused" not in err
    return err


# ---- exit codes and the --json summary (SRS-081, SRS-084) -------------------

@pytest.mark.req("SRS-081", "SRS-084", "SRS-080")
def test_a_completed_session_exits_0_with_one_json_summary_of_its_figures(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, "--json", "--seed", "1", event=None))
    assert code == 0, err
    summary = json.loads(out)                  # stdout is exactly one JSON document
    assert set(summary) == SUMMARY_KEYS
    assert (summary["outcome"], summary["fault"], summary["end_reason"]) == ("completed", None, "time_up")
    assert (summary["site"], summary["current_mA"], summary["minutes"]) == ("hands", 15.0, 10)
    assert summary["treat_s"] == pytest.approx(600.0, abs=0.01)
    # 10 min at 15 mA plus two 10 s ramps (half the set current on average): 152.5 mA*min
    assert summary["delivered_mAmin"] == pytest.approx(152.5, rel=0.01)
    assert 15.0 <= summary["max_current_mA"] <= 15.0 * 1.02 + 0.1
    assert summary["states"] == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    assert (summary["session_id"], summary["checklist"], summary["ramp_s"]) == (1, "file", 10.0)
    assert (summary["pauses"], summary["antishock_cuts"], summary["density_limits"]) == (0, 0, 0)
    # rounded to 4 decimals (SRS-084's figures as the history stores them)
    for key in ("treat_s", "delivered_mAmin", "max_current_mA"):
        assert round(summary[key], 4) == summary[key]
    assert "session 1" not in out and "history:" not in out     # the text summary is for stderr only


@pytest.mark.req("SRS-081", "SRS-084")
def test_a_stopped_session_exits_4_and_its_summary_says_stop(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, "--json"))
    assert code == 4, err
    summary = json.loads(out)
    assert (summary["outcome"], summary["end_reason"], summary["fault"]) == ("stopped", "stop", None)
    assert summary["treat_s"] == 0.0 and summary["states"][-1] == "idle"
    assert 0.0 < summary["max_current_mA"] < 15.0 * 1.0 / 10.0 + 0.2    # 1 s into a 10 s ramp to 15 mA
    assert 0.0 < summary["delivered_mAmin"] < 0.1
    assert summary["session_id"] == 1 and summary["checklist"] == "file"


@pytest.mark.req("SRS-081", "SRS-084")
def test_a_fault_exits_3_and_its_summary_names_the_fault(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, "--json", event="short"))
    assert code == 3, err
    summary = json.loads(out)
    assert (summary["outcome"], summary["fault"], summary["states"][-1]) == ("fault", "short", "fault")


@pytest.mark.req("SRS-081", "SRS-084")
def test_without_json_the_summary_goes_to_stderr_as_text(tmp_path, capsys):
    trace = tmp_path / "t.csv"
    code, out, err = run(capsys, *_session(tmp_path, "--trace", str(trace)))
    assert (code, out) == (4, "")
    lines = err.splitlines()
    summary = next(line for line in lines if line.startswith("session 1: "))
    assert summary.startswith("session 1: stopped; hands 15 mA, treated 0.00 of 10 min, ")
    assert " mA*min delivered, max " in summary and summary.endswith(" mA")
    assert "(fault" not in summary and "(ended" not in summary   # a stop ends normally
    assert f"trace:   {trace}" in lines
    assert f"history: {tmp_path / 'h.sqlite'}" in lines


@pytest.mark.req("SRS-081", "SRS-084")
def test_the_text_summary_of_a_fault_names_it(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, event="short"))
    assert (code, out) == (3, "")
    summary = next(line for line in err.splitlines() if line.startswith("session 1: "))
    assert summary.startswith("session 1: fault (fault: short)")
    assert "trace:" not in err


@pytest.mark.req("SRS-084", "SRS-090")
def test_the_text_summary_names_an_end_other_than_time_up_or_stop():
    s = {"session_id": 7, "outcome": "stopped", "fault": None, "end_reason": "contact_timeout",
         "site": "feet", "current_mA": 12.5, "minutes": 15, "treat_s": 90.0, "delivered_mAmin": 18.75,
         "max_current_mA": 12.5123, "density_limits": 2}
    assert cli._summary_text(s) == (
        "session 7: stopped (ended: contact_timeout) (current lowered 2x: contact area); feet 12.5 mA, "
        "treated 1.50 of 15 min, 18.8 mA*min delivered, max 12.51 mA")
    s.update(end_reason="time_up", density_limits=0, outcome="completed", treat_s=900.0)
    assert cli._summary_text(s) == ("session 7: completed; feet 12.5 mA, treated 15.00 of 15 min, "
                                    "18.8 mA*min delivered, max 12.51 mA")


# ---- the CSV trace (SRS-085) --------------------------------------------------

@pytest.mark.req("SRS-085")
def test_the_trace_has_the_columns_and_a_row_at_most_10_ms_apart(tmp_path, capsys):
    trace = tmp_path / "t.csv"
    code, _, err = run(capsys, *_session(tmp_path, "--trace", str(trace), "--json"))
    assert code == 4, err
    rows = list(csv.reader(trace.open(newline="")))
    assert rows[0] == TRACE_COLUMNS
    t = [float(r[0]) for r in rows[1:]]
    assert len(t) >= 100                          # 1 s of ramp and the ramp-down at 100 rows a second
    assert all(0 < b - a <= 0.010 + 1e-9 for a, b in zip(t, t[1:]))
    assert {r[1] for r in rows[1:]} >= {"ramp", "ramp_down"}


@pytest.mark.req("SRS-085", "SRS-082")
def test_a_trace_that_cannot_be_opened_is_refused_before_start(tmp_path, capsys):
    bad = tmp_path / "no-such-dir" / "t.csv"
    err = _refused(capsys, *_session(tmp_path, "--trace", str(bad)))
    assert f"--trace: cannot write {str(bad)!r}: No such file or directory" in err
    assert not (tmp_path / "h.sqlite").exists() or History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-085", "SRS-071")
@pytest.mark.parametrize("option", ["--checklist", "--scenario", "--db"])
def test_a_trace_onto_an_input_or_the_history_is_refused_and_the_file_kept(tmp_path, capsys, option):
    args = _session(tmp_path)
    History(tmp_path / "h.sqlite").close()
    target = args[args.index(option) + 1]
    before = digest(Path(target))
    err = _refused(capsys, *args, "--trace", target)
    assert f"--trace {target!r} is the same file as {option} {target!r}" in err
    assert "give --trace another file" in err
    assert digest(Path(target)) == before


@pytest.mark.req("SRS-085", "SRS-071")
def test_a_trace_onto_the_default_history_is_refused_naming_it(tmp_path, capsys, monkeypatch):
    default = tmp_path / "default.sqlite"
    monkeypatch.setattr(cli, "default_db_path", lambda: default)
    History(default).close()
    args = _session(tmp_path)
    db = args.index("--db")
    del args[db:db + 2]
    err = _refused(capsys, *args, "--trace", str(default))
    assert f"is the same file as --db (default) {str(default)!r}" in err


@pytest.mark.req("SRS-085", "SRS-071")
def test_a_trace_through_a_link_to_the_history_is_refused(tmp_path, capsys):
    History(tmp_path / "h.sqlite").close()
    (tmp_path / "link.csv").symlink_to(tmp_path / "h.sqlite")
    err = _refused(capsys, *_session(tmp_path, "--trace", str(tmp_path / "link.csv")))
    assert "is the same file as --db" in err
    assert cli._same_file(str(tmp_path / "x" / ".." / "new.csv"), str(tmp_path / "new.csv"))
    assert not cli._same_file(str(tmp_path / "a.csv"), str(tmp_path / "h.sqlite"))


# ---- refusals: prefix, field, allowed range, nothing written (SRS-082, SRS-140, SRS-281) ----

@pytest.mark.req("SRS-082", "SRS-281")
@pytest.mark.parametrize("option, value, expected", [
    ("--current", "40", "--current (current_ma): "),
    ("--minutes", "9", "--minutes (minutes): "),
    ("--ramp-up", "121", "--ramp-up (ramp_up_s): "),
    ("--ramp-down", "9", "--ramp-down (ramp_down_s): "),
    ("--site", "knees", "--site (site): "),
    ("--current", "５", "--current (current_ma): "),
])
def test_an_invalid_setting_is_refused_naming_option_field_and_range(tmp_path, capsys, option, value,
                                                                     expected):
    args = _session(tmp_path)
    args[args.index(option) + 1] = value
    err = _refused(capsys, *args)
    assert err.startswith("ionto: refused: invalid settings:\n  " + expected)
    allowed = {"--current": "1..25 mA", "--minutes": "10..30 min", "--ramp-up": "10..120 s",
               "--ramp-down": "10..120 s", "--site": "hands, feet, underarms"}[option]
    assert allowed in err
    assert not (tmp_path / "h.sqlite").exists()          # SRS-281: nothing created


@pytest.mark.req("SRS-082")
def test_missing_settings_are_refused_with_each_option_and_its_range(tmp_path, capsys):
    err = _refused(capsys, "session", "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite"))
    assert err == ("ionto: refused: missing --site (allowed: one of hands, feet, underarms), "
                   "--current (allowed: 1..25 mA for hands; 1..25 mA for feet; 1..5 mA for underarms), "
                   "--minutes (allowed: 10..30 min (whole minutes))\n")
    err = _refused(capsys, "session", "--site", "underarms", "--minutes", "10", "--checklist", CHECKLIST,
                   "--db", str(tmp_path / "h.sqlite"))
    assert err == "ionto: refused: missing --current (allowed: 1..5 mA for underarms)\n"
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-082", "SRS-084")
def test_a_refused_session_with_json_prints_the_refused_summary(tmp_path, capsys):
    args = _session(tmp_path, "--json")
    args[args.index("--current") + 1] = "40"
    code, out, err = run(capsys, *args)
    assert code == 1
    summary = json.loads(out)
    assert set(summary) == SUMMARY_KEYS | {"reason"}
    assert summary["outcome"] == "refused" and summary["reason"].startswith("invalid settings:")
    assert err == f"ionto: refused: {summary['reason']}\n"
    assert {k: summary[k] for k in ("fault", "site", "current_mA", "minutes", "session_id", "end_reason",
                                    "checklist")} == dict.fromkeys(
        ("fault", "site", "current_mA", "minutes", "session_id", "end_reason", "checklist"))
    assert (summary["treat_s"], summary["delivered_mAmin"], summary["max_current_mA"], summary["ramp_s"]) == \
        (0.0, 0.0, 0.0, 0.0)
    assert (summary["pauses"], summary["antishock_cuts"], summary["density_limits"],
            summary["density_pauses"], summary["states"]) == (0, 0, 0, 0, [])


@pytest.mark.req("SRS-082", "SRS-084")
def test_json_given_to_another_command_prints_no_session_summary(tmp_path, capsys):
    err = _refused(capsys, "history", "--db", " ", "--json")
    assert err.startswith("ionto: refused: --db: an empty path is not allowed")
    assert capsys.readouterr().out == ""


@pytest.mark.req("SRS-082", "SRS-140")
@pytest.mark.parametrize("seed, message", [
    ("-1", "'-1' is not an integer; allowed 0..18446744073709551615"),
    ("1.5", "'1.5' is not an integer; allowed 0..18446744073709551615"),
    ("５", "'５' is not an integer; allowed 0..18446744073709551615"),
    (" 1", "' 1' is not an integer; allowed 0..18446744073709551615"),
    ("", "'' is not an integer; allowed 0..18446744073709551615"),
    (str(SEED_MAX + 1), "18446744073709551616 is out of range; allowed 0..18446744073709551615"),
])
def test_a_bad_seed_is_a_usage_error_naming_seed_and_its_range(tmp_path, capsys, seed, message):
    err = _usage_error(capsys, *_session(tmp_path, "--seed", seed))
    assert f"--seed: invalid _seed_arg value: {message}" in err or f"--seed: {message}" in err, err
    assert err.rstrip().endswith("(see `ionto session --help`)")
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-080", "SRS-140")
@pytest.mark.parametrize("text, value", [("0", 0), (str(SEED_MAX), SEED_MAX), ("007", 7)])
def test_seeds_of_the_whole_uint64_range_are_taken(text, value):
    assert cli._seed_arg(text) == value
    assert type(cli._seed_arg(text)) is int


@pytest.mark.req("SRS-140")
def test_numbers_are_read_in_ascii_decimal_notation_and_other_text_kept():
    assert cli._number_arg("12.5") == 12.5 and cli._number_arg("1e1") == 10.0
    assert cli._number_arg("1_0") == "1_0" and cli._number_arg("inf") == "inf"


@pytest.mark.req("SRS-082")
@pytest.mark.parametrize("argv, expected", [
    ([], "the following arguments are required: {session,history,user,course} (see `ionto --help`)"),
    (["treat"], "invalid choice: 'treat'"),
    (["session", "--bogus"], "unrecognized arguments: --bogus (see `ionto --help`)"),
    (["history", "--db"], "argument --db: expected one argument (see `ionto history --help`)"),
])
def test_a_malformed_command_line_is_one_error_exit_1(capsys, argv, expected):
    err = _usage_error(capsys, *argv)
    assert expected in err and err.count("\n") == 1


@pytest.mark.req("SRS-082")
@pytest.mark.parametrize("command", ["session", "history", "user", "course"])
def test_an_empty_db_path_is_refused_naming_db_and_the_default(tmp_path, capsys, monkeypatch, command):
    default = tmp_path / "default.sqlite"
    monkeypatch.setattr(cli, "default_db_path", lambda: default)
    argv = {"session": _session(tmp_path), "history": ["history"], "user": ["user", "list"],
            "course": ["course", "show"]}[command]
    argv = [a for a in argv]
    if "--db" in argv:
        argv[argv.index("--db") + 1] = "  "
    else:
        argv += ["--db", ""]
    err = _refused(capsys, *argv)
    assert err == ("ionto: refused: --db: an empty path is not allowed; give a file path, or leave --db "
                   f"out for the default {str(default)!r}\n")
    assert not default.exists()


@pytest.mark.req("SRS-216", "SRS-082")
def test_runner_without_realtime_is_refused_naming_the_option(tmp_path, capsys):
    err = _refused(capsys, *_session(tmp_path, "--runner"))
    assert err == ("ionto: refused: --runner needs --realtime (the loop ticks on the wall clock); "
                   "nothing was energised\n")
    assert History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-216", "SRS-082")
def test_a_clock_drift_event_with_the_runner_is_refused_naming_the_event(tmp_path, capsys):
    args = _session(tmp_path, "--realtime", "--runner", event=None)
    scenario = _scenario(tmp_path, "- {at_s: 2.5, event: clock_drift, percent: 1}\n")
    err = _refused(capsys, *args, "--scenario", scenario)
    assert err.startswith("ionto: refused: --scenario: event 'clock_drift' at 2.5 s cannot be simulated "
                          "with --runner")
    assert History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-083", "SRS-082", "SRS-281")
def test_a_bad_scenario_is_refused_naming_scenario_before_the_history_is_created(tmp_path, capsys):
    args = _session(tmp_path, event=None)
    err = _refused(capsys, *args, "--scenario", _scenario(tmp_path, "- {at_s: -1, event: stop}\n"))
    assert err.startswith("ionto: refused: --scenario: ") and "at_s" in err
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-198", "SRS-082")
@pytest.mark.parametrize("extra, named", [
    (["--current", "12"], "--current"), (["--minutes", "12"], "--minutes"),
    (["--ramp-up", "20"], "--ramp-up"), (["--ramp-down", "20"], "--ramp-down"),
    (["--no-reverse-polarity"], "--reverse-polarity/--no-reverse-polarity"),
    (["--polarity", "reversed"], "--polarity"), (["--last"], "--last"),
    (["--last", "--current", "12"], "--current, --last"),
])
def test_suggested_with_a_setting_is_refused_naming_each_option_given(tmp_path, capsys, extra, named):
    argv = ["session", "--site", "hands", "--suggested", "--checklist", CHECKLIST,
            "--db", str(tmp_path / "h.sqlite"), *extra]
    err = _refused(capsys, *argv)
    assert err.startswith(f"ionto: refused: --suggested cannot be combined with {named}: ")
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-082", "SRS-191")
def test_an_unknown_user_of_a_missing_history_is_refused_naming_both(tmp_path, capsys):
    err = _refused(capsys, *_session(tmp_path, "--user", "ann"))
    assert err == (f"ionto: refused: --user: no user 'ann': the history {str(tmp_path / 'h.sqlite')!r} "
                   "does not exist\n")
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-082", "SRS-071")
def test_a_history_that_is_not_one_is_refused_naming_db(tmp_path, capsys):
    (tmp_path / "h.sqlite").write_text("not a database, not to be overwritten")
    before = digest(tmp_path / "h.sqlite")
    err = _refused(capsys, *_session(tmp_path))
    assert err.startswith("ionto: refused: --db: ")
    assert digest(tmp_path / "h.sqlite") == before


@pytest.mark.req("SRS-082")
def test_ctrl_c_before_start_is_a_refusal_with_nothing_energised(tmp_path, capsys, monkeypatch):
    class Interrupted(Terminal):
        def readline(self, *_):
            raise KeyboardInterrupt

    import sys
    monkeypatch.setattr(cli, "_terminal_out", lambda: sys.stderr)
    sys.stdin = Interrupted("")
    try:
        code = cli.main(_session(tmp_path))
    finally:
        sys.stdin = sys.__stdin__
    _, err = capsys.readouterr()
    assert code == 1
    assert err.endswith("ionto: refused: interrupted by the user before Start; nothing was energised\n")
    assert History(tmp_path / "h.sqlite").list_sessions() == []


# ---- the checklist (SRS-086, SRS-093) ---------------------------------------------

@pytest.mark.req("SRS-086")
def test_without_a_terminal_a_checklist_file_is_required(tmp_path, capsys):
    args = _session(tmp_path)
    at = args.index("--checklist")
    del args[at:at + 2]
    err = _refused(capsys, *args)
    assert err == ("ionto: refused: --checklist FILE is required when not on a terminal (stdin is not a "
                   "tty); see examples/checklist.yaml\n")


@pytest.mark.req("SRS-086", "SRS-042")
def test_a_contraindication_refuses_the_session_naming_it(tmp_path, capsys):
    text = Path(CHECKLIST).read_text().replace("pregnancy: false", "pregnancy: true")
    args = _session(tmp_path)
    args[args.index("--checklist") + 1] = _scenario(tmp_path, text, "checklist.yaml")
    err = _refused(capsys, *args)
    assert err.startswith("ionto: refused: session refused by the checklist:\n  ")
    assert "pregnan" in err.lower()
    assert History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-086", "SRS-082")
def test_a_checklist_file_that_cannot_be_read_is_refused_naming_checklist(tmp_path, capsys):
    args = _session(tmp_path)
    args[args.index("--checklist") + 1] = str(tmp_path / "missing.yaml")
    err = _refused(capsys, *args)
    assert err.startswith("ionto: refused: --checklist: ")


def _on_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)


@pytest.mark.req("SRS-086", "SRS-093")
def test_on_a_terminal_the_files_answers_are_shown_and_confirmed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_terminal_out", lambda: __import__("sys").stderr)
    code, out, err = run(capsys, *_session(tmp_path, "--json"), stdin="maybe\ny\n", terminal=True)
    assert code == 4, err
    assert json.loads(out)["checklist"] == "file_confirmed"
    assert f"Checklist answers from {CHECKLIST}:" in err
    assert "  Are you pregnant? no" in err.splitlines()
    assert "  Have you removed all metal jewelry? yes" in err.splitlines()
    assert err.count("Are these answers true for you today? [y/n] ") == 2
    assert "please answer y or n" in err
    row = History(tmp_path / "h.sqlite").list_sessions()[0]
    assert row.checklist["mode"] == "file_confirmed"


@pytest.mark.req("SRS-086")
def test_on_a_terminal_answers_not_confirmed_refuse_the_session(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_terminal_out", lambda: __import__("sys").stderr)
    err = _refused(capsys, *_session(tmp_path), stdin="no\n", terminal=True)
    assert f"--checklist: the answers of {CHECKLIST!r} were not confirmed; nothing was energised" in err
    assert History(tmp_path / "h.sqlite").list_sessions() == []


@pytest.mark.req("SRS-086", "SRS-093")
def test_on_a_terminal_without_a_file_each_question_is_asked(tmp_path, capsys, monkeypatch):
    from core.checklist import CONTRAINDICATIONS, PREPARATION
    monkeypatch.setattr(cli, "_terminal_out", lambda: __import__("sys").stderr)
    args = _session(tmp_path, "--json")
    at = args.index("--checklist")
    del args[at:at + 2]
    answers = "n\n" * len(CONTRAINDICATIONS) + "YES\n" * len(PREPARATION)
    code, out, err = run(capsys, *args, stdin=answers, terminal=True)
    assert code == 4, err
    assert json.loads(out)["checklist"] == "asked"
    assert "Before the session (hands): answer each question with y or n." in err
    assert err.count("[y/n] ") == len(CONTRAINDICATIONS) + len(PREPARATION)
    # input that ends before the last question refuses
    args[args.index("--db") + 1] = str(tmp_path / "h2.sqlite")
    err = _refused(capsys, *args, stdin="n\n" * 3, terminal=True)
    assert err.endswith("checklist: input ended before every question was answered\n")


@pytest.mark.req("SRS-086")
def test_questions_go_to_a_terminal_stderr_else_stdout_else_nowhere(monkeypatch):
    import io
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    err, out = Tty(), Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    assert cli._terminal_out() is err
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert cli._terminal_out() is out
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert cli._terminal_out() is None
    monkeypatch.setattr(sys, "stdin", Tty())
    assert cli._interactive() is False
    monkeypatch.setattr(sys, "stdout", out)
    assert cli._interactive() is True


# ---- Last Setting (SRS-080, SRS-198) -------------------------------------------

@pytest.mark.req("SRS-080", "SRS-082")
def test_last_with_an_empty_history_is_refused_naming_last(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    History(db).close()
    err = _refused(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", str(db))
    assert err == (f"ionto: refused: --last: the history {str(db)!r} holds no session; give --site, "
                   "--current and --minutes\n")


@pytest.mark.req("SRS-080")
def test_last_repeats_the_last_settings_and_options_given_override(tmp_path, capsys):
    # a day apart each (the frequency guard allows one session per site and day)
    code, _, err = run(capsys, *_session(tmp_path, "--json", "--now", "2026-12-01T08:00:00+00:00",
                                         current="12", site="feet"))
    assert code == 4, err
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--last", "--checklist", CHECKLIST, "--scenario", scenario,
                         "--db", str(tmp_path / "h.sqlite"), "--json", "--now", "2026-12-02T08:00:00+00:00")
    assert code == 4, err
    s = json.loads(out)
    assert (s["site"], s["current_mA"], s["minutes"], s["session_id"]) == ("feet", 12.0, 10, 2)
    code, out, err = run(capsys, "session", "--last", "--current", "11.5", "--checklist", CHECKLIST,
                         "--scenario", scenario, "--db", str(tmp_path / "h.sqlite"), "--json",
                         "--now", "2026-12-03T08:00:00+00:00")
    assert code == 4, err
    assert (json.loads(out)["site"], json.loads(out)["current_mA"]) == ("feet", 11.5)


# ---- ionto history (SRS-087, SRS-281) ----------------------------------------------

@pytest.mark.req("SRS-087", "SRS-281")
def test_history_of_a_missing_file_says_so_and_creates_nothing(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "history", "--db", str(db)) == (
        0, f"no sessions recorded: {db} does not exist\n", "")
    assert run(capsys, "history", "--db", str(db), "--json") == (0, "[]\n", "")
    assert not db.exists()


@pytest.mark.req("SRS-087")
def test_history_of_an_empty_file_says_no_sessions(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    History(db).close()
    assert run(capsys, "history", "--db", str(db)) == (0, f"no sessions recorded in {db}\n", "")
    assert run(capsys, "history", "--db", str(db), "--json") == (0, "[]\n", "")


@pytest.mark.req("SRS-087", "SRS-084")
def test_history_lists_each_session_with_the_summary_keys(tmp_path, capsys):
    run(capsys, *_session(tmp_path, event="short"))
    run(capsys, *_session(tmp_path, "--reverse-polarity", "--polarity", "reversed", current="7.5",
                          site="feet"))
    db = str(tmp_path / "h.sqlite")
    code, out, err = run(capsys, "history", "--db", db, "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [r["session_id"] for r in rows] == [1, 2]
    first, second = rows
    assert set(first) >= SUMMARY_KEYS
    assert (first["outcome"], first["fault"], first["faults"], first["site"], first["current_mA"],
            first["minutes"]) == ("fault", "short", ["short"], "hands", 15.0, 10)
    assert (first["ramp_up_s"], first["ramp_down_s"], first["reverse_polarity"],
            first["start_polarity"]) == (10.0, 10.0, False, "normal")
    assert (second["outcome"], second["fault"], second["end_reason"], second["site"],
            second["current_mA"]) == ("stopped", None, "stop", "feet", 7.5)
    assert (second["reverse_polarity"], second["start_polarity"]) == (True, "reversed")
    assert second["checklist"] == "file" and second["checklist_record"]["mode"] == "file"
    assert (second["pauses"], second["antishock_cuts"], second["density_pauses"]) == (0, 0, 0)
    assert second["treat_s"] == 0.0 and 0.0 < second["delivered_mAmin"] < 0.1
    assert 0.0 < second["max_current_mA"] < 1.0 and second["started_at"] and second["ended_at"]
    assert second["states"][-1] == "idle"

    code, out, err = run(capsys, "history", "--db", db)
    lines = out.splitlines()
    assert (code, err, len(lines)) == (0, "", 2)
    assert lines[0].startswith("#1    ") and " fault       hands      " in lines[0]
    assert "   15 mA  10 min  treated  0.00 min" in lines[0]
    assert lines[0].endswith(" fault=short checklist=file")
    assert " stopped     feet       " in lines[1] and "  7.5 mA  10 min reversal start-reversed  " in lines[1]
    assert lines[1].endswith(" mA checklist=file") and "ended=" not in lines[1]


@pytest.mark.req("SRS-087", "SRS-090")
def test_history_names_an_end_other_than_time_up_or_stop(tmp_path, capsys):
    scenario = _scenario(tmp_path, "- {at_s: 1, event: lift_off}\n")
    args = _session(tmp_path, event=None)
    code, out, err = run(capsys, *args, "--scenario", scenario, "--json")
    end = json.loads(out)["end_reason"]
    assert code == 4 and end not in ("time_up", "stop"), err
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"))
    assert out.rstrip().endswith(f" ended={end} checklist=file")


@pytest.mark.req("SRS-087")
def test_a_stored_value_of_an_unexpected_type_is_shown_as_text():
    assert cli._cell(7.5, "5g") == "  7.5"
    assert cli._cell(None, "5g") == "None "
    assert cli._cell("x", "5g") == "'x'  "


# ---- help (SRS-080) ------------------------------------------------------------

@pytest.mark.req("SRS-080")
def test_session_help_shows_each_range_and_default_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["session", "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("--site SITE treated area: one of hands, feet, underarms",
                     "--current MA set current in mA, step 0.01: 1..25 mA for hands;",
                     "--minutes MIN treatment time: 10..30 min (whole minutes)",
                     "--ramp-up S ramp-up time in seconds: 10..120 s (default 30)",
                     "--ramp-down S ramp-down time in seconds: 10..120 s (default 30)",
                     "(default: off)", "--seed SEED simulation seed, 0..18446744073709551615 (default: 0)",
                     "0 the session completed", "1 refused or invalid input", "3 the session ended in a fault",
                     "4 the session was stopped", "examples: ionto session --site hands"):
        assert expected in text, expected


@pytest.mark.req("SRS-080")
def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"ionto {version('ionto-core')}\n"


# ---- the live view, Ctrl-C and errors during a session (SRS-088, SRS-054, SRS-082) ----

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.req("SRS-088")
def test_on_a_terminal_the_live_view_ends_with_the_sessions_last_state(tmp_path, capsys, monkeypatch):
    screen = _Tty()
    monkeypatch.setattr(sys, "stderr", screen)
    code = cli.main(_session(tmp_path, "--json"))
    assert code == 4
    text = screen.getvalue()
    view = text[text.index("Ctrl-C stops the session: the current ramps down to 0 first"):]
    frames = view.split("\r")
    assert len(frames) >= 2 and frames[-1].endswith("\n")
    # the last frame is drawn when the session has ended: 0 mA flowing, in state idle
    assert frames[-1].lstrip().lower().startswith("idle"), frames[-1]


@pytest.mark.req("SRS-054", "SRS-081")
def test_ctrl_c_during_the_session_is_the_stop_button(tmp_path, capsys, monkeypatch):
    class CtrlC(cli.Supervisor):
        def run(self):
            os.kill(os.getpid(), signal.SIGINT)   # the user presses Ctrl-C once the session runs
            return super().run()

    monkeypatch.setattr(cli, "Supervisor", CtrlC)
    previous = signal.getsignal(signal.SIGINT)
    code, out, err = run(capsys, *_session(tmp_path, "--json", event=None))
    assert code == 4, err
    summary = json.loads(out)
    assert (summary["outcome"], summary["end_reason"]) == ("stopped", "stop")
    assert summary["states"][-2:] == ["ramp_down", "idle"] and summary["treat_s"] < 1.0
    assert signal.getsignal(signal.SIGINT) is previous      # the handler is put back


@pytest.mark.req("SRS-082", "SRS-085")
def test_a_trace_write_failing_during_the_session_is_reported_as_an_error(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, "--json", "--trace", "/dev/full", event=None))
    assert code == 4
    assert json.loads(out)["outcome"] == "stopped"
    errors = [line for line in err.splitlines() if line.startswith("ionto: error: ")]
    # the session's own report (then the trace's close fails too)
    assert any("No space left on device" in e and "stopping the session" in e for e in errors), errors


@pytest.mark.req("SRS-084", "SRS-064")
def test_the_text_summary_names_both_the_fault_and_an_end_reason():
    s = {"session_id": 3, "outcome": "fault", "fault": "short", "end_reason": "fault_latched",
         "site": "hands", "current_mA": 15, "minutes": 10, "treat_s": 0.0, "delivered_mAmin": 0.0,
         "max_current_mA": 1.0}
    assert cli._summary_text(s).startswith("session 3: fault (fault: short) (ended: fault_latched); hands 15 mA")


# ---- help (SRS-080): the exit codes and examples keep their lines ----------------

def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command", [[], ["session"]])
def test_help_lists_the_exit_codes_one_a_line(capsys, command):
    lines = _help(capsys, *command).splitlines()
    for code_line in ("  0  the session completed",
                      "  3  the session ended in a fault, or the device failed during it (output switched off)",
                      "  4  the session was stopped (Stop, Ctrl-C) or interrupted"):
        assert code_line in lines
    assert "  ionto session --site hands --current 15 --minutes 10 --checklist examples/checklist.yaml" \
        in lines


@pytest.mark.req("SRS-080", "SRS-087")
def test_history_help_lists_its_examples_one_a_line(capsys):
    lines = _help(capsys, "history").splitlines()
    assert "  ionto history" in lines and "  ionto history --db out/history.sqlite --json" in lines


@pytest.mark.req("SRS-080")
def test_session_help_shows_the_default_pace(capsys):
    text = " ".join(_help(capsys, "session").split())
    assert "--realtime pace the session to wall time (default: as fast as the machine allows)" in text


# ---- history files (SRS-281), users and courses (SRS-190, SRS-191, SRS-198) ----------

@pytest.mark.req("SRS-281", "SRS-087")
def test_history_of_a_file_without_tables_is_refused_and_left_unchanged(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"")
    err = _refused(capsys, "history", "--db", str(db))
    assert err.startswith("ionto: refused: --db: ")
    assert db.read_bytes() == b""


def _at(day: int) -> str:
    return f"2026-03-{day:02d}T08:00:00+00:00"


@pytest.mark.req("SRS-190", "SRS-191")
def test_user_and_course_commands_reach_their_own_command(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--db", db, "--now", _at(1))[0] == 0
    code, out, err = run(capsys, "user", "list", "--db", db)
    assert (code, err) == (0, "") and "ann" in out.split()
    code, out, err = run(capsys, "course", "show", "--user", "ann", "--db", db)
    assert code == 0 and "ann" in out and out != run(capsys, "user", "list", "--db", db)[1]


@pytest.mark.req("SRS-190")
def test_a_profile_without_a_year_of_birth_gets_the_age_notice(tmp_path, capsys):
    code, _, err = run(capsys, *_session(tmp_path))
    assert code == 4
    assert ("note: profile 'default' has no year of birth, so only the checklist's question 'child under 5' "
            "checks the age; state it with `ionto user set default --born YEAR`") in err.splitlines()


@pytest.mark.req("SRS-190", "SRS-196")
def test_a_frequency_refusal_of_a_profile_comes_before_the_checklist(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--db", db, "--now", _at(1))[0] == 0
    args = _session(tmp_path, "--user", "ann", "--now", _at(2))
    assert run(capsys, *args)[0] == 4
    code, out, err = run(capsys, *args[:-2], "--now", "2026-03-02T09:00:00+00:00")
    assert code == 1 and "frequency guard" in err and "nothing was energised" in err
    assert "Fill both trays" not in err          # refused before the checklist was evaluated


@pytest.mark.req("SRS-191", "SRS-082")
def test_a_site_not_among_the_users_sites_is_refused_before_start(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--sites", "feet", "--db", db,
               "--now", _at(1))[0] == 0
    err = _refused(capsys, *_session(tmp_path, "--user", "ann", "--now", _at(2)))
    assert err.startswith("ionto: refused: --site: 'hands' is not among the sites of user 'ann' (feet)")
    assert "Fill both trays" not in err


@pytest.mark.req("SRS-198")
def test_last_takes_the_last_session_at_the_site_given(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, *_session(tmp_path, "--now", _at(1), current="12", site="feet"))[0] == 4
    assert run(capsys, *_session(tmp_path, "--now", _at(2), current="9"))[0] == 4
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--last", "--site", "feet", "--checklist", CHECKLIST,
                         "--scenario", scenario, "--db", db, "--json", "--now", _at(3))
    assert code == 4, err
    assert (json.loads(out)["site"], json.loads(out)["current_mA"]) == ("feet", 12.0)


@pytest.mark.req("SRS-080", "SRS-082")
def test_last_settings_no_longer_allowed_are_refused_naming_them(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1)))[0] == 4
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET settings = json_set(settings, '$.current_ma', 40) WHERE id = 1")
    con.close()
    err = _refused(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", str(db), "--now", _at(2))
    assert err.startswith("ionto: refused: --last: the last session's settings are no longer allowed:\n  ")
    assert "current_ma" in err and "1..25 mA" in err


@pytest.mark.req("SRS-080", "SRS-072")
def test_last_of_a_damaged_row_is_refused_naming_last(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1)))[0] == 4
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET settings = '{not json' WHERE id = 1")
    con.close()
    err = _refused(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", str(db), "--now", _at(2))
    assert err.startswith("ionto: refused: --last: ") and "session 1" in err


@pytest.mark.req("SRS-198")
def test_suggested_runs_the_courses_suggestion_for_the_user_and_site(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--db", db, "--now", _at(1))[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "bob", "--now", _at(2), current="20", site="feet"))[0] == 4
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--user", "bob", "--site", "feet", "--suggested", "--yes",
                         "--checklist", CHECKLIST, "--scenario", scenario, "--db", db, "--json",
                         "--now", _at(3))
    assert code == 4, err
    # the last session was stopped: its current is kept (+1 mA only after a completed one)
    assert "suggestion for bob, feet: 20 mA, 10 min" in err
    assert (json.loads(out)["current_mA"], json.loads(out)["minutes"]) == (20.0, 10)


@pytest.mark.req("SRS-190", "SRS-195")
def test_the_default_profile_is_created_at_the_devices_clock(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", "2026-03-01T08:00:00+01:00"))[0] == 4
    with sqlite3.connect(db) as con:
        created = con.execute("SELECT created_at FROM users").fetchall()
    con.close()
    assert [c[0][:16] for c in created] == ["2026-03-01T07:00"]


@pytest.mark.req("SRS-196")
def test_a_session_started_meanwhile_by_another_program_is_seen_under_the_write_lock(
        tmp_path, capsys, monkeypatch):
    """While this session waits for the checklist's confirmation, another
    `ionto session` of the same user and site runs: the check under the
    write lock of the session row refuses this one."""
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--db", db, "--now", _at(1))[0] == 0
    args = _session(tmp_path, "--user", "ann", "--now", _at(2))
    monkeypatch.setattr(cli, "_terminal_out", lambda: sys.stderr)

    class Meanwhile(Terminal):
        def readline(self, *_):
            sys.stdin = io.StringIO("")                 # the other program: no terminal
            try:
                assert cli.main([*args[:-2], "--now", "2026-03-02T07:00:00+00:00"]) == 4
            finally:
                sys.stdin = self
            return "y\n"

    sys.stdin = Meanwhile("")
    try:
        code = cli.main(args)
    finally:
        sys.stdin = sys.__stdin__
    err = capsys.readouterr().err
    assert code == 1 and "frequency guard" in err and "nothing was energised" in err
    with History(tmp_path / "h.sqlite") as h:
        assert [r.outcome for r in h.list_sessions()] == ["stopped"]


@pytest.mark.req("SRS-072", "SRS-082")
@pytest.mark.parametrize("command", [["course", "show", "--user", "ann"], ["user", "show", "ann"]])
def test_a_damaged_row_read_by_user_or_course_is_refused_naming_db_and_the_row(tmp_path, capsys, command):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--db", str(db), "--now", _at(1))[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "ann", "--now", _at(2)))[0] == 4
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET settings = '{not json' WHERE id = 1")
    con.close()
    before = digest(db)
    err = _refused(capsys, *command, "--db", str(db))
    assert err.startswith(f"ionto: refused: --db: history {db}: session 1: ")
    assert digest(db) == before


@pytest.mark.req("SRS-230")
@pytest.mark.parametrize("polarity", ["normal", "reversed"])
def test_every_session_prints_its_starting_polarity_before_start(tmp_path, capsys, polarity):
    code, _, err = run(capsys, *_session(tmp_path, "--polarity", polarity))
    assert code == 4
    lines = err.splitlines()
    assert f"starting polarity: {polarity}" in lines
    assert lines.index(f"starting polarity: {polarity}") < lines.index(
        next(line for line in lines if line.startswith("session 1: ")))


@pytest.mark.req("SRS-082", "SRS-085")
def test_a_trace_that_cannot_be_completed_is_reported_naming_trace(tmp_path, capsys):
    code, _, err = run(capsys, *_session(tmp_path, "--trace", "/dev/full"))
    assert code == 4
    assert any(line.startswith("ionto: error: --trace '/dev/full': could not be completed: ")
               and "No space left on device" in line for line in err.splitlines()), err


@pytest.mark.req("SRS-082")
def test_a_settings_message_of_a_field_without_an_option_is_kept_as_it_is():
    assert cli._with_option("current_ma: 40 mA is outside") == "--current (current_ma): 40 mA is outside"
    assert cli._with_option("checklist: not a file") == "checklist: not a file"


@pytest.mark.req("SRS-086", "SRS-042")
def test_each_contraindication_that_applies_is_named_on_its_own_line(tmp_path, capsys):
    text = Path(CHECKLIST).read_text().replace("pregnancy: false", "pregnancy: true") \
        .replace("heart_disease: false", "heart_disease: true")
    args = _session(tmp_path)
    args[args.index("--checklist") + 1] = _scenario(tmp_path, text, "checklist.yaml")
    err = _refused(capsys, *args)
    lines = err.splitlines()
    assert lines[0] == "ionto: refused: session refused by the checklist:"
    assert len(lines) == 3 and all(line.startswith("  ") and not line.startswith("   ") for line in lines[1:])
    assert "pregnan" in lines[1].lower() and "heart" in lines[2].lower()
