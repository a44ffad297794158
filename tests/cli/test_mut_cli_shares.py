"""The `ionto` command (core/cli.py; issue 12 point 2): fast in-process checks
added for the survivors of the mutation run's 1-in-10 shares 1 to 9 (shares 0
and 1 have theirs in tests/cli/test_mut_cli.py). Each asserts what a
requirement or the README's synopsis says: the help's placeholders and
defaults, what a terminal shows, the settings a --last or --suggested takes,
the site's instructions, the pace of --realtime, a closed stdout.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path

import pytest

import core.cli as cli
from core.checklist import site_instructions
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


def _scenario(tmp_path: Path, text: str, name: str = "scenario.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _session(tmp_path: Path, *extra: str, current: str = "15", site: str = "hands") -> list[str]:
    """A session of 15 mA, 10 min, ramps of 10 s, stopped 1 s after Start."""
    return ["session", "--site", site, "--current", current, "--minutes", "10", "--ramp-up", "10",
            "--ramp-down", "10", "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite"),
            "--scenario", _scenario(tmp_path, "- {at_s: 1, event: stop}\n"), *extra]


def _at(day: int) -> str:
    return f"2026-03-{day:02d}T08:00:00+00:00"


def _help(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


# ---- help (SRS-080: the options as README.md's synopsis gives them, each default) ----

def _synopsis(command: str) -> list[str]:
    """The `--option PLACEHOLDER` pairs of README.md's synopsis of a command."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("Synopsis (the options SRS-080 refers to):"):]
    block = block[:block.index("\n\n", block.index("ionto history"))]
    lines, current = [], None
    for line in block.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "ionto":
            current = words[1]
        if current == command:
            lines.append(line)
    return re.findall(r"(--[a-z-]+ [A-Z]+)\b", " ".join(lines))


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command, least", [("session", 9), ("history", 2)])
def test_the_usage_line_names_each_option_as_the_readme_synopsis_does(capsys, command, least):
    usage = " ".join(_help(capsys, command).split("\n\n")[0].split())
    pairs = _synopsis(command)
    assert len(pairs) >= least, pairs      # site, current, minutes, ramps, checklist, scenario, seed, db, trace
    for pair in pairs:
        assert f"[{pair}]" in usage or f" {pair} " in f"{usage} ", (pair, usage)


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command", ["session", "history"])
def test_the_help_shows_the_default_history_file(capsys, monkeypatch, tmp_path, command):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")      # the path on one line, not cut by the help's wrapping
    text = " ".join(_help(capsys, command).split())
    assert f"--db PATH history database (default: {tmp_path / 'data' / 'ionto' / 'history.sqlite'})" in text


def _option_entries(help_text: str) -> dict[str, str]:
    """Each option of a help's option sections with its explanation."""
    entries: dict[str, str] = {}
    name = None
    for line in help_text.splitlines():
        m = re.match(r"^  (-\S.*?)(?:  +(\S.*))?$", line)
        if m:
            name = m.group(1).split()[0].rstrip(",")
            entries[name] = m.group(2) or ""
        elif name and line.startswith("      ") and line.strip():
            entries[name] = (entries[name] + " " + line.strip()).strip()
        elif not line.strip() or not line.startswith(" "):
            name = None
    return entries


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command, options", [
    ("session", ["--site", "--current", "--minutes", "--ramp-up", "--ramp-down", "--reverse-polarity",
                 "--last", "--checklist", "--scenario", "--seed", "--realtime", "--runner", "--db",
                 "--json", "--trace", "--mode", "--pulse-khz", "--duty"]),   # the last three: SRS-300
    ("history", ["--db", "--user", "--json"])])
def test_each_option_of_the_help_is_explained(capsys, command, options):
    entries = _option_entries(_help(capsys, command))
    for option in options:
        assert len(entries.get(option, "").split()) >= 3, (option, entries.get(option))


@pytest.mark.req("SRS-080")
def test_the_commands_help_explains_session_and_history(capsys):
    lines = [" ".join(line.split()) for line in _help(capsys).splitlines()]
    assert "session run a treatment session (simulated device by default)" in lines
    assert "history list the recorded sessions (read-only)" in lines


# ---- what a terminal shows (SRS-086, SRS-088) ---------------------------------

@pytest.mark.req("SRS-086", "SRS-042")
def test_on_a_terminal_a_contraindication_of_the_file_is_shown_as_yes(tmp_path, capsys, monkeypatch):
    text = Path(CHECKLIST).read_text().replace("pregnancy: false", "pregnancy: true") \
        .replace("cosmetics_removed: true", "cosmetics_removed: false")
    args = _session(tmp_path)
    args[args.index("--checklist") + 1] = _scenario(tmp_path, text, "checklist.yaml")
    monkeypatch.setattr(cli, "_terminal_out", lambda: sys.stderr)
    code, out, err = run(capsys, *args, stdin="y\n", terminal=True)
    lines = err.splitlines()
    assert code == 1
    assert "  Are you pregnant? yes" in lines and "  Are you breast-feeding? no" in lines
    assert "  Have you removed all metal jewelry? yes" in lines
    assert "  Have you removed cosmetics and antiperspirant from the area? no" in lines
    assert "ionto: refused: session refused by the checklist:\n" in err    # after the confirmation


class _Tty:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


@pytest.mark.req("SRS-088")
def test_the_live_view_draws_each_frame_from_the_latest_reading(tmp_path, capsys, monkeypatch):
    screen = _Tty()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr("core.liveview.REDRAW_S", 0.0)   # every batch drawn
    args = _session(tmp_path, "--json")
    args[args.index("--scenario") + 1] = _scenario(tmp_path, "- {at_s: 5, event: stop}\n")
    code = cli.main(args)
    assert code == 4
    assert "ionto: error" not in screen.text        # no observer failed
    frames = screen.text.split("Ctrl-C stops the session")[1].split("\r")[1:]
    assert len(frames) >= 5
    # 5 s into a 10 s ramp to 15 mA: some frame before the end shows 4 mA or more flowing
    shown = [float(m) for f in frames[:-1] for m in re.findall(r"(\d+\.\d+) mA", f)]
    assert shown and max(shown) >= 4.0, frames[-3:]


# ---- the settings a session takes (SRS-082, SRS-198) ---------------------------

@pytest.mark.req("SRS-082")
def test_two_invalid_settings_are_named_one_a_line(tmp_path, capsys):
    code, out, err = run(capsys, "session", "--site", "hands", "--current", "40", "--minutes", "5",
                         "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite"))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    at = lines.index("ionto: refused: invalid settings:")
    named = lines[at + 1:]
    assert len(named) == 2, lines
    assert named[0].startswith("  --current (current_ma): ") and "1..25 mA" in named[0]
    assert named[1].startswith("  --minutes (minutes): ") and "10..30 min" in named[1]
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-198", "SRS-080")
def test_last_on_a_history_of_sessions_without_a_profile_takes_the_last_of_them(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1), current="12", site="feet"))[0] == 4
    with sqlite3.connect(db) as con:   # sessions that belong to nobody, as before profiles
        con.execute("UPDATE sessions SET user_id = NULL")
        con.execute("DELETE FROM users")
    con.close()
    code, out, err = run(capsys, "history", "--db", str(db), "--json")    # no profile: every session
    assert code == 0, err
    assert [(r["session_id"], r["current_mA"]) for r in json.loads(out)] == [(1, 12)]
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--last", "--checklist", CHECKLIST, "--scenario", scenario,
                         "--db", str(db), "--json", "--now", _at(2))
    assert code == 4, err
    summary = json.loads(out)
    assert (summary["site"], summary["current_mA"], summary["minutes"]) == ("feet", 12.0, 10)


@pytest.mark.req("SRS-198")
def test_suggested_with_a_site_suggests_from_that_sites_last_session(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--sites", "hands,feet", "--db", db,
               "--now", _at(1))[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "bob", "--now", _at(2), current="20", site="feet"))[0] == 4
    assert run(capsys, *_session(tmp_path, "--user", "bob", "--now", _at(3), current="9"))[0] == 4
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--user", "bob", "--site", "feet", "--suggested", "--yes",
                         "--checklist", CHECKLIST, "--scenario", scenario, "--db", db, "--json",
                         "--now", _at(4))
    assert code == 4, err
    assert "suggestion for bob, feet: 20 mA, 10 min" in err       # not the later hands session's 9 mA
    assert (json.loads(out)["site"], json.loads(out)["current_mA"]) == ("feet", 20.0)


@pytest.mark.req("SRS-087", "SRS-230")
def test_history_json_of_a_row_without_a_starting_polarity_says_normal(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--polarity", "reversed", "--now", _at(1)))[0] == 4
    assert run(capsys, *_session(tmp_path, "--now", _at(2)))[0] == 4
    with sqlite3.connect(db) as con:   # a row recorded before the starting polarity was stored
        con.execute("UPDATE sessions SET settings = json_remove(settings, '$.start_polarity') WHERE id = 2")
    con.close()
    code, out, err = run(capsys, "history", "--db", str(db), "--json")
    assert code == 0, err
    assert [r["start_polarity"] for r in json.loads(out)] == ["reversed", "normal"]


# ---- the site's instructions (SRS-043), --realtime's pace (SRS-080) -------------

@pytest.mark.req("SRS-043")
@pytest.mark.parametrize("site", ["hands", "underarms"])
def test_the_sites_instructions_are_shown_before_start(tmp_path, capsys, site):
    code, _, err = run(capsys, *_session(tmp_path, current="5", site=site))
    assert code == 4
    lines = err.splitlines()
    text = site_instructions(site)
    assert len(text) > 40 and text in lines
    assert lines.index(text) < lines.index(next(line for line in lines if line.startswith("session 1: ")))
    assert ("trays" in text) == (site == "hands") and ("pads" in text) == (site == "underarms")


@pytest.mark.req("SRS-080")
def test_realtime_paces_the_session_to_wall_time(tmp_path, capsys):
    start = time.monotonic()
    code, out, err = run(capsys, *_session(tmp_path, "--realtime", "--json"))
    elapsed_s = time.monotonic() - start
    assert code == 4, err
    assert json.loads(out)["end_reason"] == "stop"
    assert elapsed_s >= 0.9          # the stop event 1 s after Start, on the wall clock


# ---- stdout closed by its reader (SRS-087) --------------------------------------

@pytest.mark.req("SRS-087", "SRS-081")
def test_a_reader_that_went_away_ends_the_listing_quietly(tmp_path, capsys, monkeypatch):
    def gone(_args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "cmd_history", gone)
    out_file = tmp_path / "out.txt"
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT)

    class Stdout:
        def fileno(self) -> int:
            return fd

    monkeypatch.setattr(sys, "stdout", Stdout())
    try:
        code = cli.main(["history", "--db", str(tmp_path / "h.sqlite")])
        # stdout now reaches the null device: the exit flush cannot fail again
        assert os.path.samestat(os.fstat(fd), os.stat(os.devnull))
    finally:
        os.close(fd)
    assert code == 0
    assert "Traceback" not in capsys.readouterr().err


# ---- the starting polarity's notice (SRS-230) -----------------------------------

@pytest.mark.req("SRS-230")
def test_last_in_maintenance_with_alternation_names_the_polarity_to_follow(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "cleo", "--born", "1985", "--sites", "hands", "--db", db,
               "--now", _at(1))[0] == 0
    for day in (1, 2):   # two whole sessions scored HDSS 1 end the initial phase
        whole = [a for a in _session(tmp_path, "--user", "cleo", "--now", _at(day), current="12")]
        del whole[whole.index("--scenario"):whole.index("--scenario") + 2]
        assert run(capsys, *whole)[0] == 0
        assert run(capsys, "course", "score", "--user", "cleo", "--session", str(day), "--hdss", "1",
                   "--db", db, "--now", f"2026-03-{day:02d}T09:00:00+00:00")[0] == 0
    assert run(capsys, "course", "set", "--user", "cleo", "--site", "hands", "--per-month", "4",
               "--alternate-polarity", "--db", db, "--now", "2026-03-02T09:00:00+00:00")[0] == 0
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, _, err = run(capsys, "session", "--last", "--user", "cleo", "--checklist", CHECKLIST,
                       "--scenario", scenario, "--db", db, "--now", _at(6))
    assert code == 4, err
    lines = err.splitlines()
    assert "starting polarity: normal" in lines
    assert ("notice: polarity alternation is chosen for cleo, hands in maintenance (course set "
            "--alternate-polarity), but this session starts normal like the last one (session 2); to "
            "follow the alternation use --suggested or --polarity reversed") in lines


# ---- a history from before profiles (SRS-200) -----------------------------------

@pytest.mark.req("SRS-200")
def test_a_session_on_a_version_1_history_stamps_the_migrated_profile_with_now(tmp_path, capsys):
    from datetime import datetime
    from core.history import _SESSIONS_V1
    db = tmp_path / "v1.sqlite"
    con = sqlite3.connect(db)
    con.executescript(_SESSIONS_V1)
    settings = {"site": "hands", "current_ma": 15, "minutes": 20, "ramp_up_s": 30.0, "ramp_down_s": 30.0,
                "reverse_polarity": False}
    con.execute("INSERT INTO sessions (settings, site, current_ma, minutes, started_at, ended_at, outcome,"
                " treat_s, delivered_mamin, max_current_ma, states) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (json.dumps(settings), "hands", 15, 20, "2026-03-01T07:00:00.000+00:00",
                 "2026-03-01T07:21:00.000+00:00", "completed", 1200, 300, 15.0, '["idle","treat","idle"]'))
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    code, _, err = run(capsys, *_session(tmp_path, "--db", str(db), "--now", "2026-03-05T10:30:00+01:00",
                                         site="feet", current="10"))
    assert code == 4, err
    con = sqlite3.connect(db)
    created = con.execute("SELECT created_at FROM users WHERE name = 'default'").fetchone()[0]
    con.close()
    assert datetime.fromisoformat(created) == datetime.fromisoformat("2026-03-05T09:30:00+00:00")


# ---- refusals and errors, their whole text (SRS-071, SRS-042, SRS-082, SRS-087) ----

@pytest.mark.req("SRS-071", "SRS-082")
def test_a_trace_onto_the_history_is_refused_saying_what_to_do(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    code, out, err = run(capsys, *_session(tmp_path, "--trace", db))
    assert (code, out) == (1, "")
    assert err == (f"ionto: refused: --trace {db!r} is the same file as --db {db!r}; writing the trace "
                   "would destroy it: give --trace another file\n")


@pytest.mark.req("SRS-086", "SRS-042")
def test_each_checklist_reason_is_one_line_of_the_refusal(tmp_path, capsys):
    from core.checklist import evaluate, load_checklist
    text = Path(CHECKLIST).read_text().replace("pregnancy: false", "pregnancy: true") \
        .replace("cosmetics_removed: true", "cosmetics_removed: false")
    path = _scenario(tmp_path, text, "checklist.yaml")
    args = _session(tmp_path)
    args[args.index("--checklist") + 1] = path
    code, _, err = run(capsys, *args)
    reasons = evaluate(load_checklist(path)).reasons
    assert code == 1 and len(reasons) == 2
    assert err.splitlines() == ["ionto: refused: session refused by the checklist:"] + [f"  {r}" for r in reasons]


@pytest.mark.req("SRS-082", "SRS-070")
def test_an_end_of_session_not_recorded_is_reported_with_the_outcome(tmp_path, capsys, monkeypatch):
    class EndNotWritten(cli.Supervisor):
        def run(self):
            result = super().run()
            result.history_error = "OperationalError: disk I/O error"
            return result

    monkeypatch.setattr(cli, "Supervisor", EndNotWritten)
    code, _, err = run(capsys, *_session(tmp_path))
    assert code == 4
    assert ("ionto: error: the end of session 1 could not be written to the history (OperationalError: "
            "disk I/O error); its row stays marked interrupted. The session itself ended: stopped") \
        in err.splitlines()


@pytest.mark.req("SRS-087")
def test_the_history_listing_shows_a_fault_and_how_the_session_ended(tmp_path, capsys):
    args = _session(tmp_path)
    args[args.index("--scenario") + 1] = _scenario(tmp_path, "- {at_s: 1, event: short, ohms: 20}\n")
    assert run(capsys, *args)[0] == 3
    with sqlite3.connect(tmp_path / "h.sqlite") as con:   # as a fault during a contact timeout's ramp-down
        con.execute("UPDATE sessions SET end_reason = 'contact_timeout' WHERE id = 1")
    con.close()
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"))
    assert code == 0
    row = out.splitlines()[-1]
    assert row.startswith("#1 ") and " fault " in row
    assert row.endswith(" mA fault=short ended=contact_timeout checklist=file"), row


# ---- share 3: the terminal's questions, the record, the listing (SRS-086, SRS-093, SRS-087) ----

@pytest.mark.req("SRS-086")
def test_with_stderr_redirected_the_questions_go_to_the_terminal_on_stdout(tmp_path, capsys, monkeypatch):
    from core.checklist import CONTRAINDICATIONS, PREPARATION
    screen = _Tty()
    monkeypatch.setattr(sys, "stdout", screen)         # the terminal; stderr goes to a log (capsys)
    args = _session(tmp_path)
    at = args.index("--checklist")
    del args[at:at + 2]
    code, _, err = run(capsys, *args, stdin="maybe\n" + "n\n" * len(CONTRAINDICATIONS) + "y\n" * len(PREPARATION),
                       terminal=True)
    assert code == 4, err
    assert "[y/n]" not in err
    assert screen.text.startswith("Before the session (hands): answer each question with y or n.\n")
    assert "[y/n] please answer y or n\n" in screen.text          # the answer 'maybe'
    for item in (*CONTRAINDICATIONS, *PREPARATION):   # each question asked by its own words
        assert f"{item.question} [y/n] " in screen.text


@pytest.mark.req("SRS-093")
def test_the_history_records_the_checklist_files_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = _session(tmp_path, "--now", _at(1))
    args[args.index("--checklist") + 1] = "examples/checklist.yaml"       # relative: stored resolved
    assert run(capsys, *args)[0] == 4
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"), "--json")
    record = json.loads(out)[0]["checklist_record"]
    assert record["mode"] == "file" and record["file"] == CHECKLIST
    assert record["sha256"] == hashlib.sha256(Path(CHECKLIST).read_bytes()).hexdigest()


@pytest.mark.req("SRS-082", "SRS-070")
def test_a_history_that_cannot_record_the_start_refuses_naming_db(tmp_path, capsys, monkeypatch):
    from core.history import HistoryError

    def locked(self):
        raise HistoryError("history h.sqlite: database is locked")

    monkeypatch.setattr(cli.Supervisor, "begin", locked)
    code, _, err = run(capsys, *_session(tmp_path))
    assert code == 1
    assert err.splitlines()[-1] == ("ionto: refused: --db: the session could not be recorded, so it was not "
                                    "started; nothing was energised: history h.sqlite: database is locked")


@pytest.mark.req("SRS-191", "SRS-192")
def test_history_of_a_user_with_a_pin_asks_for_it(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--pin", "--db", db, "--now", _at(1),
               stdin="2468\n")[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "ann", "--now", _at(2)), stdin="2468\n")[0] == 4
    code, out, err = run(capsys, "history", "--user", "ann", "--db", db, stdin="2468\n")
    assert code == 0, err
    assert out.startswith("#1 ")
    code, out, err = run(capsys, "history", "--user", "ann", "--db", db, stdin="1111\n")
    assert code == 1 and out == "" and "PIN" in err


@pytest.mark.req("SRS-087")
def test_the_listing_shows_the_treated_minutes_and_every_fault(tmp_path, capsys):
    assert run(capsys, *_session(tmp_path))[0] == 4
    with sqlite3.connect(tmp_path / "h.sqlite") as con:   # a row as a longer session records it
        con.execute("UPDATE sessions SET treat_s = 90, faults = '[\"short\", \"open_circuit\"]',"
                    " end_reason = 'time_up' WHERE id = 1")           # time_up: not named
    con.close()
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"))
    row = out.splitlines()[-1]
    assert code == 0 and "  treated  1.50 min  " in row       # 90 s
    assert row.endswith(" fault=short,open_circuit checklist=file"), row


@pytest.mark.req("SRS-087")
def test_history_json_of_a_session_without_a_checklist_record_says_none(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path))[0] == 4
    with sqlite3.connect(db) as con:   # a row recorded before the checklist was (version 1)
        con.execute("UPDATE sessions SET checklist_mode = NULL, checklist_file = NULL, checklist_sha256 = NULL,"
                    " checklist_answers = '{}'")
    con.close()
    code, out, err = run(capsys, "history", "--db", str(db), "--json")
    assert code == 0, err
    row = json.loads(out)[0]
    assert (row["checklist"], row["checklist_record"]) == (None, None)


@pytest.mark.req("SRS-087")
def test_the_history_help_says_it_only_reads(capsys):
    text = " ".join(_help(capsys, "history").split())
    assert "Read-only: a database that does not exist is reported, never created." in text


@pytest.mark.req("SRS-080")
def test_main_reads_the_command_line_when_given_no_arguments(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["ionto", "history", "--db", str(tmp_path / "none.sqlite")])
    assert cli.main() == 0
    assert capsys.readouterr().out == f"no sessions recorded: {tmp_path / 'none.sqlite'} does not exist\n"


@pytest.mark.req("SRS-191", "SRS-196")
def test_a_profile_added_meanwhile_to_a_new_history_owns_the_session(tmp_path, capsys, monkeypatch):
    """The history does not exist when the session is asked for; while the
    checklist waits, another program adds the first profile: with one profile
    --user may be left out, so the session is that profile's."""
    from core.history import History
    from tests.cli.in_process import Terminal
    db = str(tmp_path / "h.sqlite")
    args = _session(tmp_path, "--now", _at(2))
    monkeypatch.setattr(cli, "_terminal_out", lambda: sys.stderr)

    class Meanwhile(Terminal):
        def readline(self, *_):
            sys.stdin = io.StringIO("")
            try:
                assert cli.main(["user", "add", "ann", "--born", "1980", "--db", db, "--now", _at(1)]) == 0
            finally:
                sys.stdin = self
            return "y\n"

    sys.stdin = Meanwhile("")
    try:
        code = cli.main(args)
    finally:
        sys.stdin = sys.__stdin__
    assert code == 4, capsys.readouterr().err
    with History(tmp_path / "h.sqlite") as h:
        assert [r.outcome for r in h.list_sessions(h.query("SELECT id FROM users WHERE name = 'ann'")[0][0])] \
            == ["stopped"]


# ---- share 4: a suggestion confirmed on a terminal, the live view's last frame, --version, --now ----

@pytest.mark.req("SRS-198")
def test_on_a_terminal_a_suggestion_is_confirmed_by_answering(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "bob", "--born", "1990", "--db", db, "--now", _at(1))[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "bob", "--now", _at(2), current="20", site="feet"))[0] == 4
    monkeypatch.setattr(cli, "_terminal_out", lambda: sys.stderr)
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--user", "bob", "--site", "feet", "--suggested",
                         "--checklist", CHECKLIST, "--scenario", scenario, "--db", db, "--json",
                         "--now", _at(3), stdin="y\ny\n", terminal=True)      # the suggestion, the file
    assert code == 4, err
    assert "Use these settings? [y/n] " in err
    assert json.loads(out)["current_mA"] == 20.0


@pytest.mark.req("SRS-088")
def test_the_live_views_last_frame_is_drawn_however_recent_the_one_before(tmp_path, capsys, monkeypatch):
    screen = _Tty()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr("core.liveview.REDRAW_S", 1e9)     # no frame is due by the time it was drawn
    assert cli.main(_session(tmp_path, "--json")) == 4
    frames = screen.text.split("Ctrl-C stops the session")[1].split("\r")[1:]
    assert frames and frames[-1].lstrip().lower().startswith("idle"), frames


@pytest.mark.req("SRS-080")
def test_version_of_a_checkout_that_is_not_installed_says_so(capsys, monkeypatch):
    import importlib.metadata as metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == "ionto unknown (not installed)\n"


@pytest.mark.req("SRS-195")
def test_now_with_realtime_is_refused_naming_both(tmp_path, capsys):
    code, out, err = run(capsys, *_session(tmp_path, "--realtime", "--now", _at(1)))
    assert (code, out) == (1, "")
    assert err.startswith(f"ionto: refused: --now: {_at(1)!r} sets a simulated wall clock and is not allowed "
                          "with --realtime")
    assert not (tmp_path / "h.sqlite").exists()


# ---- share 5: --last no longer allowed, the help's section headings (SRS-080) ----

@pytest.mark.req("SRS-080")
def test_last_settings_no_longer_allowed_name_each_field_on_its_own_line(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1)))[0] == 4
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET settings = json_set(settings, '$.current_ma', 40, '$.minutes', 5)")
    con.close()
    code, _, err = run(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", str(db), "--now", _at(2))
    lines = err.splitlines()
    assert code == 1
    assert lines[0] == "ionto: refused: --last: the last session's settings are no longer allowed:"
    assert len(lines) == 3 and lines[1].startswith("  current_ma: ") and lines[2].startswith("  minutes: ")
    assert "1..25 mA" in lines[1] and "10..30 min" in lines[2]


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command", [[], ["session"]])
def test_the_exit_codes_and_examples_have_their_headings(capsys, command):
    lines = _help(capsys, *command).splitlines()
    assert "exit codes:" in lines and "examples:" in lines
    assert lines.index("exit codes:") < lines.index("examples:")
    assert lines[lines.index("examples:") - 1] == ""      # a section of its own


# ---- share 6: two users, --last without a history, the figures' decimals, the runner ----

@pytest.mark.req("SRS-198", "SRS-191")
def test_with_two_users_last_and_history_take_the_named_users_own(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    for name in ("ann", "bob"):
        assert run(capsys, "user", "add", name, "--born", "1980", "--db", db, "--now", _at(1))[0] == 0
    assert run(capsys, *_session(tmp_path, "--user", "ann", "--now", _at(2), current="12"))[0] == 4
    assert run(capsys, *_session(tmp_path, "--user", "bob", "--now", _at(3), current="9"))[0] == 4
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--last", "--user", "ann", "--site", "hands", "--checklist",
                         CHECKLIST, "--scenario", scenario, "--db", db, "--json", "--now", _at(4))
    assert code == 4, err
    assert json.loads(out)["current_mA"] == 12.0          # ann's own, not bob's later 9 mA
    code, out, err = run(capsys, "history", "--user", "bob", "--db", db, "--json")
    assert code == 0, err
    assert [(r["session_id"], r["current_mA"]) for r in json.loads(out)] == [(2, 9)]


@pytest.mark.req("SRS-080")
def test_last_without_a_history_is_refused_asking_for_the_settings(tmp_path, capsys):
    db = tmp_path / "none.sqlite"
    code, out, err = run(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", str(db))
    assert (code, out) == (1, "")
    assert err == (f"ionto: refused: --last: the history {str(db)!r} holds no session; give --site, "
                   "--current and --minutes\n")


@pytest.mark.req("SRS-198", "SRS-082")
def test_suggested_with_a_setting_is_refused_saying_what_to_leave_out(tmp_path, capsys):
    code, _, err = run(capsys, "session", "--site", "hands", "--suggested", "--minutes", "12", "--checklist",
                       CHECKLIST, "--db", str(tmp_path / "h.sqlite"))
    assert code == 1
    assert err == ("ionto: refused: --suggested cannot be combined with --minutes: the suggestion shown and "
                   "confirmed is exactly what runs (only --site chooses it); leave these out, or leave out "
                   "--suggested and give the settings; nothing was energised\n")


@pytest.mark.req("SRS-084")
def test_the_summary_keeps_the_fraction_of_a_second_treated(tmp_path, capsys):
    args = _session(tmp_path, "--json")
    args[args.index("--scenario") + 1] = _scenario(tmp_path, "- {at_s: 15.25, event: stop}\n")
    code, out, err = run(capsys, *args)
    assert code == 4, err
    treat_s = json.loads(out)["treat_s"]
    # stopped 15.25 s after Start, 10 s of ramp-up: about 5.25 s treated (not rounded to 5)
    assert isinstance(treat_s, float) and treat_s == pytest.approx(5.25, abs=0.05)


@pytest.mark.req("SRS-080")
@pytest.mark.parametrize("command", [["course"], ["user", "add"]])
def test_the_user_and_course_help_show_the_default_history_file(capsys, monkeypatch, tmp_path, command):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "400")
    text = " ".join(_help(capsys, *command).split())
    assert f"--db PATH history database (default: {tmp_path / 'data' / 'ionto' / 'history.sqlite'})" in text



# ---- share 9: a pulsed session's listing and live view, a damaged row listed (SRS-301, SRS-087) ----

def _pulsed_session(tmp_path: Path, *extra: str) -> list[str]:
    """A pulsed session of 15 mA peak at 4.5 kHz and 60 % duty, stopped 15 s
    after Start: 5 s of treatment after the 10 s ramp-up."""
    args = _session(tmp_path, "--mode", "pulsed", "--pulse-khz", "4.5", "--duty", "60", *extra)
    args[args.index("--scenario") + 1] = _scenario(tmp_path, "- {at_s: 15, event: stop}\n")
    return args


@pytest.mark.req("SRS-301", "SRS-087")
def test_the_listing_of_a_pulsed_session_shows_its_train_and_mean(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, *_pulsed_session(tmp_path, "--now", _at(1)))[0] == 4
    assert run(capsys, *_session(tmp_path, "--now", _at(2), current="12"))[0] == 4     # a dc session
    code, out, err = run(capsys, "history", "--db", db, "--json")
    assert code == 0, err
    pulsed, dc = json.loads(out)
    mean_ma = pulsed["mean_current_mA"]
    assert 0.5 * 15 <= mean_ma <= 0.7 * 15, mean_ma      # about duty x peak: 60 % of 15 mA
    code, out, err = run(capsys, "history", "--db", db)
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].startswith("#1 ") and rows[1].startswith("#2 ")
    assert f"   15 mA  10 min pulsed 4.5 kHz 60 % mean {mean_ma:.2f} mA  treated " in rows[0], rows[0]
    assert "   12 mA  10 min  treated " in rows[1] and "pulsed" not in rows[1] and " mean " not in rows[1]


@pytest.mark.req("SRS-301", "SRS-088")
@pytest.mark.parametrize("mode", ["pulsed", "dc"])
def test_the_live_view_of_a_pulsed_session_shows_the_peak_and_the_mean(tmp_path, capsys, monkeypatch, mode):
    screen = _Tty()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr("core.liveview.REDRAW_S", 0.0)   # every batch drawn
    args = _pulsed_session(tmp_path, "--json")
    args[args.index("--mode") + 1] = mode
    if mode == "dc":
        del args[args.index("--pulse-khz"):args.index("--duty") + 2]
    assert cli.main(args) == 4
    frames = screen.text.split("Ctrl-C stops the session")[1].split("\r")[1:]
    treating = [f for f in frames if f.lstrip().startswith("treat")]
    assert treating, frames[-3:]
    if mode == "pulsed":   # the peak (the set current, 15 mA) first, then the mean
        figures = [re.search(r"(\d+\.\d+) mA peak +(\d+\.\d+) mA mean", f) for f in treating]
        assert all(figures), treating[-1]
        peak_ma, mean_ma = (float(x) for x in figures[-1].groups())
        assert peak_ma == pytest.approx(15, abs=0.5) and 0.5 * 15 <= mean_ma <= 0.7 * 15, treating[-1]
    else:
        assert not any("peak" in f or "mean" in f for f in treating), treating[-1]


@pytest.mark.req("SRS-087", "SRS-072", "SRS-082")
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_listing_a_damaged_row_is_refused_naming_db_and_the_row(tmp_path, capsys, json_flag):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1)))[0] == 4
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET settings = '{not json' WHERE id = 1")
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    code, out, err = run(capsys, "history", "--db", str(db), *json_flag)
    assert (code, out) == (1, "")
    assert err.startswith(f"ionto: refused: --db: history {db}: session 1: ") and err.count("\n") == 1, err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before      # read-only (SRS-281)


@pytest.mark.req("SRS-300", "SRS-198")
def test_last_of_a_pulsed_session_with_mode_dc_runs_dc_without_the_train(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_pulsed_session(tmp_path, "--now", _at(1)))[0] == 4
    scenario = _scenario(tmp_path, "- {at_s: 1, event: stop}\n")
    code, out, err = run(capsys, "session", "--last", "--mode", "dc", "--checklist", CHECKLIST, "--scenario",
                         scenario, "--db", str(db), "--json", "--now", _at(2))
    assert code == 4, err
    summary = json.loads(out)
    assert (summary["site"], summary["current_mA"], summary["minutes"]) == ("hands", 15.0, 10)
    assert not {"mode", "pulse_khz", "duty_percent"} & set(summary)       # a dc summary (SRS-301)
    with sqlite3.connect(db) as con:
        stored = [json.loads(s) for (s,) in con.execute("SELECT settings FROM sessions ORDER BY id")]
    con.close()
    assert (stored[0]["mode"], stored[0]["pulse_khz"], stored[0]["duty_percent"]) == ("pulsed", 4.5, 60)
    assert stored[1].get("mode", "dc") == "dc" and "pulse_khz" not in stored[1] and "duty_percent" not in stored[1]


@pytest.mark.req("SRS-080", "SRS-300")
@pytest.mark.parametrize("option, field", [("--pulse-khz", "pulse_khz"), ("--duty", "duty_percent")])
def test_the_help_of_a_pulse_option_shows_its_range_and_default_from_the_limits(capsys, option, field):
    from core.limits import load_limits
    limit = getattr(load_limits().settings, field)
    entry = _option_entries(_help(capsys, "session"))[option]
    assert f"{float(limit.min):g}..{float(limit.max):g}" in entry, entry      # 4.3..10, 50..80
    assert entry.endswith(f"(default {float(limit.default):g})"), entry
    assert "with mode pulsed" in entry, entry


# ---- share 8: a pulsed row's other marks and a missing mean, the runner's refusal, the PIN's prompt ----

@pytest.mark.req("SRS-301", "SRS-087", "SRS-230")
def test_the_listing_of_a_pulsed_session_keeps_its_polarity_marks(tmp_path, capsys):
    assert run(capsys, *_pulsed_session(tmp_path, "--polarity", "reversed", "--reverse-polarity"))[0] == 4
    code, out, err = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"))
    assert code == 0, err
    row = out.splitlines()[0]
    assert " 10 min reversal start-reversed pulsed 4.5 kHz 60 % mean " in row, row


@pytest.mark.req("SRS-301", "SRS-087")
def test_the_listing_of_a_pulsed_session_without_a_recorded_mean_leaves_the_mean_out(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_pulsed_session(tmp_path))[0] == 4
    with sqlite3.connect(db) as con:   # a row whose end was not written: no counts
        con.execute("UPDATE sessions SET counts = '{}' WHERE id = 1")
    con.close()
    code, out, err = run(capsys, "history", "--db", str(db))
    assert code == 0, err
    row = out.splitlines()[0]
    assert " 10 min pulsed 4.5 kHz 60 %  treated " in row and " mean " not in row, row


@pytest.mark.req("SRS-300", "SRS-082", "SRS-216")
def test_the_runner_with_a_pulsed_session_is_refused_saying_what_to_give(tmp_path, capsys):
    args = _pulsed_session(tmp_path, "--realtime", "--runner")
    code, out, err = run(capsys, *args)
    assert (code, out) == (1, "")
    assert err == ("ionto: refused: --runner: the real-time runner's board has no pulsed output (SRS-300); give "
                   "--mode dc, or leave out --runner; nothing was energised\n")
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.req("SRS-192")
def test_history_on_a_terminal_asks_the_users_pin_without_echo_naming_the_user(tmp_path, capsys, monkeypatch):
    import core.cli_users as cli_users
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--pin", "--db", db, "--now", _at(1),
               stdin="2468\n")[0] == 0
    asked = []

    def getpass(prompt, stream=None):
        asked.append((prompt, stream))
        return "2468"

    monkeypatch.setattr(cli_users.getpass, "getpass", getpass)
    code, out, err = run(capsys, "history", "--user", "ann", "--db", db, terminal=True)
    assert code == 0, err
    assert len(asked) == 1 and asked[0][1] is sys.stderr
    assert isinstance(asked[0][0], str) and "PIN" in asked[0][0] and "ann" in asked[0][0], asked


@pytest.mark.req("SRS-080", "SRS-300")
def test_the_usage_line_shows_the_allowed_modes(capsys):
    from core.settings import Mode
    usage = " ".join(_help(capsys, "session").split("\n\n")[0].split())
    modes = sorted(m.value for m in Mode)
    assert modes == ["dc", "pulsed"]
    assert f"[--mode {{{','.join(modes)}}}]" in usage, usage


# ---- a runner that does not start: refused, exit 1, no traceback, no file created or changed (SRS-281) ----
def _untouched(tmp_path: Path) -> tuple[Path, Path]:
    """A history path that does not exist and a trace file from before."""
    trace = tmp_path / "before.csv"
    trace.write_text("a trace of an earlier session\n")
    return tmp_path / "h.sqlite", trace


@pytest.mark.req("SRS-216", "SRS-081", "SRS-281")
def test_a_runner_that_does_not_start_is_refused_leaving_every_file_as_it_was(tmp_path, capsys, monkeypatch):
    from core import realtime
    made = []

    class NotStarting:
        def __init__(self, **kwargs):
            made.append(kwargs)
            raise realtime.LoopNotResponding(realtime.lib.RT_ERR_STATE,
                                             "the real-time runner did not tick within 1 s")

    monkeypatch.setattr(cli, "RealtimeDevice", NotStarting)
    db, trace = _untouched(tmp_path)
    code, out, err = run(capsys, *_session(tmp_path, "--realtime", "--runner", "--seed", "7", "--trace", str(trace)))
    assert (code, out) == (1, "")
    assert err.endswith("\nionto: refused: --runner: the real-time runner did not tick within 1 s; nothing was "
                        "energised\n"), err
    assert "Traceback" not in err
    assert [m["seed"] for m in made] == [7]            # the board's seed is the one given
    assert not db.exists() and trace.read_text() == "a trace of an earlier session\n"


@pytest.mark.req("SRS-216", "SRS-081", "SRS-281")
def test_a_runner_already_running_in_the_process_is_refused_with_its_own_message(tmp_path, capsys):
    from core.realtime import RealtimeDevice
    db, trace = _untouched(tmp_path)
    with RealtimeDevice(seed=1, realtime_priority=False):
        code, out, err = run(capsys, *_session(tmp_path, "--realtime", "--runner", "--trace", str(trace)))
    assert (code, out) == (1, "")
    assert err.endswith("\nionto: refused: --runner: a RealtimeDevice is already running in this process: "
                        "close() it first; nothing was energised\n"), err
    assert not db.exists() and trace.read_text() == "a trace of an earlier session\n"


@pytest.mark.req("SRS-216", "SRS-281")
@pytest.mark.parametrize("extra, reason", [
    (["--runner"], "--runner needs --realtime (the loop ticks on the wall clock); nothing was energised"),
    (["--realtime", "--runner", "DRIFT"], "--scenario: event 'clock_drift' at 2 s cannot be simulated with "
                                          "--runner (the loop runs on the monotonic clock); nothing was energised"),
])
def test_the_runners_option_refusals_leave_every_file_as_it_was(tmp_path, capsys, extra, reason):
    db, trace = _untouched(tmp_path)
    args = _session(tmp_path, "--trace", str(trace), *[e for e in extra if e != "DRIFT"])
    if "DRIFT" in extra:
        args[args.index("--scenario") + 1] = _scenario(tmp_path, "- {at_s: 2, event: clock_drift, percent: 1}\n")
    code, out, err = run(capsys, *args)
    assert (code, out) == (1, "")
    assert err.endswith(f"ionto: refused: {reason}\n"), err
    assert not db.exists() and trace.read_text() == "a trace of an earlier session\n"


# ---- a device that fails at Start or during the session: named, no traceback ----
@pytest.mark.req("SRS-216", "SRS-081", "SRS-071")
def test_a_device_that_refuses_the_starting_polarity_is_refused_with_nothing_recorded(tmp_path, capsys,
                                                                                   monkeypatch):
    from core.device import SimulatedDevice
    from core.realtime import LoopNotResponding

    class SwapLost(SimulatedDevice):
        def set_polarity(self, polarity):
            raise LoopNotResponding(-20, "the regulation loop did not apply the command within 5 ms (loop fault 1)")

    monkeypatch.setattr(cli, "SimulatedDevice", SwapLost)
    code, out, err = run(capsys, *_session(tmp_path, "--polarity", "reversed", "--now", _at(1)))
    assert (code, out) == (1, "")
    assert err.endswith("ionto: refused: the device did not take the session's start: the regulation loop did "
                        "not apply the command within 5 ms (loop fault 1); nothing was energised or recorded\n"), err
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"), "--json")
    assert (code, json.loads(out)) == (0, [])


@pytest.mark.req("SRS-216", "SRS-081", "SRS-071")
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_device_that_fails_during_the_session_ends_it_with_exit_3_and_the_row_kept(tmp_path, capsys,
                                                                                 monkeypatch, json_flag):
    from core.device import SimulatedDevice
    from core.realtime import LoopNotResponding
    lost = "rows from tick 500 were overwritten before they were read (the reader fell 6.5 s behind)"
    seen = []

    class RowsLost(SimulatedDevice):
        calls = 0

        def advance(self, max_rows, ticks_per_row):
            RowsLost.calls += 1
            if RowsLost.calls == 3:
                raise LoopNotResponding(-22, lost)
            return super().advance(max_rows, ticks_per_row)

        def enable_output(self, on):
            seen.append(on)
            super().enable_output(on)

    monkeypatch.setattr(cli, "SimulatedDevice", RowsLost)
    code, out, err = run(capsys, *_session(tmp_path, "--now", _at(1), *json_flag))
    assert code == 3, err
    message = (f"the device failed during session 1: {lost}; the output was switched off; the session stays "
               "recorded as interrupted")
    assert err.endswith(f"ionto: error: {message}\n") and "Traceback" not in err, err
    assert seen[0] is True and seen[-1] is False          # enabled for the ramp, off at the end
    if json_flag:
        summary = json.loads(out)
        assert (summary["outcome"], summary["fault"], summary["reason"]) == ("fault", "device_error", message)
    else:
        assert out == ""
    code, out, _ = run(capsys, "history", "--db", str(tmp_path / "h.sqlite"), "--json")
    (row,) = json.loads(out)
    assert row["outcome"] == "interrupted"                  # kept, never lost (SRS-071)


# ---- the survivors of the full cli run of 2026-12-02 (all ten shares, 1534 mutants) ----
def _stored_summary(capsys, db: Path) -> list[dict]:
    code, out, err = run(capsys, "history", "--db", str(db), "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.req("SRS-301", "SRS-087")
def test_the_history_json_of_a_pulsed_session_carries_its_train_and_of_a_dc_one_none(tmp_path, capsys):
    assert run(capsys, *_pulsed_session(tmp_path, "--now", _at(1)))[0] == 4
    assert run(capsys, *_session(tmp_path, "--now", _at(2)))[0] == 4          # hands: dc
    pulsed, dc = _stored_summary(capsys, tmp_path / "h.sqlite")
    assert (pulsed["mode"], pulsed["pulse_khz"], pulsed["duty_percent"]) == ("pulsed", 4.5, 60)
    assert not {"mode", "pulse_khz", "duty_percent"} & set(dc)


@pytest.mark.req("SRS-300", "SRS-198")
def test_last_of_a_dc_session_with_mode_dc_runs_the_same_dc_session(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *_session(tmp_path, "--now", _at(1), current="12"))[0] == 4
    code, out, err = run(capsys, "session", "--last", "--mode", "dc", "--checklist", CHECKLIST, "--scenario",
                         _scenario(tmp_path, "- {at_s: 1, event: stop}\n"), "--db", str(db), "--json",
                         "--now", _at(2))
    assert code == 4, err
    summary = json.loads(out)
    assert (summary["site"], summary["current_mA"], summary["minutes"]) == ("hands", 12.0, 10)
    assert not {"mode", "pulse_khz", "duty_percent"} & set(summary)


@pytest.mark.req("SRS-300")
@pytest.mark.parametrize("site, current, mode", [("underarms", "3", "pulsed"), ("hands", "12", "dc"),
                                                 ("feet", "12", "dc")])
def test_a_session_without_mode_runs_its_sites_default_mode(tmp_path, capsys, site, current, mode):
    from core.limits import load_limits
    limits = load_limits()
    code, out, err = run(capsys, *_session(tmp_path, "--json", "--now", _at(1), site=site, current=current))
    assert code == 4, err
    summary = json.loads(out)
    assert limits.mode_default(site) == mode
    if mode == "pulsed":
        assert (summary["mode"], summary["pulse_khz"], summary["duty_percent"]) == (
            "pulsed", float(limits.settings.pulse_khz.default), int(limits.settings.duty_percent.default))
    else:
        assert not {"mode", "pulse_khz", "duty_percent"} & set(summary)
    code, out, err = run(capsys, *_session(tmp_path, "--json", "--mode", "dc", "--now", _at(2), site=site,
                                           current=current))
    assert code == 4, err
    assert "mode" not in json.loads(out)       # a mode given is taken over the site's default


@pytest.mark.req("SRS-301", "SRS-087")
def test_the_summary_line_of_a_pulsed_session_gives_the_train_the_peak_and_the_mean(tmp_path, capsys):
    code, _, err = run(capsys, *_pulsed_session(tmp_path, "--now", _at(1)))
    assert code == 4, err
    (last,) = [line for line in err.splitlines() if line.startswith("session 1: ")]   # stderr: the summary
    m = re.search(r"; pulsed 4\.5 kHz 60 %: peak (\d+\.\d\d) mA, mean (\d+\.\d\d) mA in treatment$", last)
    assert m, last
    peak_ma, mean_ma = float(m.group(1)), float(m.group(2))
    assert peak_ma == pytest.approx(15, abs=0.5) and 0.5 * 15 <= mean_ma <= 0.7 * 15
    code, _, err = run(capsys, *_session(tmp_path, "--now", _at(2)))
    (last,) = [line for line in err.splitlines() if line.startswith("session 2: ")]
    assert code == 4 and "pulsed" not in last and " peak " not in last, last


@pytest.mark.req("SRS-190")
def test_the_year_of_birth_note_is_left_out_for_a_profile_with_one(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    code, _, err = run(capsys, *_session(tmp_path, "--now", _at(1)))
    assert code == 4, err
    assert ("note: profile 'default' has no year of birth, so only the checklist's question 'child under 5' "
            "checks the age; state it with `ionto user set default --born YEAR`") in err
    assert run(capsys, "user", "add", "ann", "--born", "1980", "--db", db, "--now", _at(2))[0] == 0
    code, _, err = run(capsys, *_session(tmp_path, "--user", "ann", "--now", _at(3)))
    assert code == 4, err
    assert "no year of birth" not in err      # ann's age is checked from her year


@pytest.mark.req("SRS-216")
def test_a_runner_session_runs_on_the_runner_and_stops_it_at_the_end(tmp_path, capsys, monkeypatch):
    from core.device import SimulatedDevice
    made = []

    class Runner(SimulatedDevice):
        """The runner's place in the session, on the simulated rig (no wall-clock loop)."""

        def __init__(self, seed=0, warn=None):   # RealtimeDevice's defaults
            super().__init__(seed=seed)
            self.batches, self.closed = 0, 0
            made.append(self)

        def advance(self, max_rows, ticks_per_row):
            self.batches += 1
            return super().advance(max_rows, ticks_per_row)

        def close(self):
            self.closed += 1

    monkeypatch.setattr(cli, "RealtimeDevice", Runner)
    code, out, err = run(capsys, *_session(tmp_path, "--realtime", "--runner", "--json"))
    assert code == 4, err                                    # stopped at 1 s by the scenario
    (runner,) = made
    assert runner.batches > 0 and runner.closed >= 1          # the session ran on it, then stopped it
    assert json.loads(out)["max_current_mA"] > 0
