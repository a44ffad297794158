"""`ionto user`, `ionto course` and the user options of `ionto session`
(core/cli_users.py): refusals naming the option, exit 1, the file unchanged;
the PIN and the restart question on a terminal; the chart per site (SRS-190,
SRS-192, SRS-197..SRS-199, SRS-279)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import core.cli as cli
import core.cli_users as cli_users
from core.course import parse_time
from core.history import History
from core.users import add_user
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
NOW = "2027-01-10T08:00:00+01:00"
LATER = "2027-01-11T08:00:00+01:00"


def run_tty(capsys, *argv, typed: str = "") -> tuple[int, str, str]:
    return run(capsys, *argv, stdin=typed, terminal=True)


def add(capsys, db, name="anna", *extra):
    code, _, err = run(capsys, "user", "add", name, "--born", "1990", "--db", str(db), "--now", NOW, *extra)
    assert code == 0, err


@pytest.mark.req("SRS-197")
@pytest.mark.parametrize("value, text", [("two", "'two' is not a whole number; allowed 1..4"),
                                         ("5", "5 is outside the allowed range 1..4"),
                                         ("0", "0 is outside the allowed range 1..4")])
def test_per_month_not_a_whole_number_in_range_is_refused_naming_it(tmp_path, capsys, value, text):
    db = tmp_path / "h.sqlite"
    add(capsys, db)
    before = digest(db)
    code, _, err = run(capsys, "course", "set", "--user", "anna", "--site", "hands", "--per-month", value,
                       "--db", str(db), "--now", LATER)
    assert code == 1 and "--per-month" in err and text in err, err
    assert digest(db) == before


# --- the PIN on a terminal (SRS-192) ----------------------------------------------------------
@pytest.mark.req("SRS-192")
def test_a_pin_typed_twice_differently_on_a_terminal_adds_no_profile(tmp_path, capsys, monkeypatch):
    typed = iter(["2468", "2469"])
    monkeypatch.setattr(cli_users.getpass, "getpass", lambda prompt, stream=None: next(typed))
    db = tmp_path / "h.sqlite"
    code, _, err = run_tty(capsys, "user", "add", "anna", "--born", "1990", "--pin", "--db", str(db), "--now", NOW)
    assert code == 1 and "PIN: the two entries differ; the profile was not added" in err
    assert not db.exists()


@pytest.mark.req("SRS-192")
def test_a_pin_typed_twice_alike_on_a_terminal_protects_the_profile(tmp_path, capsys, monkeypatch):
    asked: list[str] = []

    def getpass(prompt, stream=None):
        asked.append(prompt)
        return "2468"
    monkeypatch.setattr(cli_users.getpass, "getpass", getpass)
    db = tmp_path / "h.sqlite"
    code, out, err = run_tty(capsys, "user", "add", "anna", "--born", "1990", "--pin", "--db", str(db), "--now", NOW)
    assert code == 0 and "PIN set" in out, err
    assert asked == ["new PIN for anna (4..8 digits): ", "PIN again: "]     # asked without echo


@pytest.mark.req("SRS-192")
def test_an_end_of_input_at_the_pin_prompt_is_a_missing_pin_and_shows_nothing(tmp_path, capsys, monkeypatch):
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        add_user(h, "anna", 1990, pin="2468", now=parse_time(NOW))
    before = digest(db)

    def eof(prompt, stream=None):
        raise EOFError
    monkeypatch.setattr(cli_users.getpass, "getpass", eof)
    code, out, err = run_tty(capsys, "user", "show", "anna", "--db", str(db), "--now", LATER)
    assert code == 1 and "PIN" in err and out == ""   # nothing of the profile shown
    assert digest(db) == before


# --- --suggested without a user or a session (SRS-198) -------------------------------------------
@pytest.mark.req("SRS-198")
def test_suggested_on_a_history_without_profiles_is_refused(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    code, _, err = run(capsys, "session", "--suggested", "--yes", "--site", "hands", "--checklist", CHECKLIST,
                       "--db", str(db), "--now", NOW)
    assert code == 1
    assert "--suggested: the history has no user profile and no course; give the settings" in err


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("site, where", [(["--site", "hands"], " at hands"), ([], "")])
def test_suggested_for_a_user_without_sessions_is_refused(tmp_path, capsys, site, where):
    db = tmp_path / "h.sqlite"
    add(capsys, db)
    before = digest(db)
    code, _, err = run(capsys, "session", "--suggested", "--yes", "--user", "anna", *site, "--checklist",
                       CHECKLIST, "--db", str(db), "--now", LATER)
    assert code == 1
    assert (f"--suggested: user 'anna' has no session{where} to suggest from; give --site, --current "
            "and --minutes") in err
    assert digest(db) == before


# --- course restart (SRS-279) --------------------------------------------------------------------
def _in_maintenance(db: Path, site: str = "hands") -> None:
    """The course stored as having reached maintenance (SRS-279 keeps it there)."""
    with History(db) as h:
        uid = h.query("SELECT id FROM users WHERE name = 'anna'")[0][0]
        h.write("INSERT OR IGNORE INTO courses (user_id, site, hdss, per_month, started_at) VALUES (?, ?, NULL, 2, ?)",
                (uid, site, NOW))
        h.write("UPDATE courses SET phase = 'maintenance', maintenance_since = ? WHERE user_id = ? AND site = ?",
                (NOW, uid, site))


@pytest.mark.req("SRS-279")
def test_a_restart_at_a_site_the_user_does_not_treat_is_refused(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    add(capsys, db, "anna", "--sites", "hands")
    before = digest(db)
    code, _, err = run(capsys, "course", "restart", "--user", "anna", "--site", "feet", "--yes",
                       "--db", str(db), "--now", LATER)
    assert code == 1
    assert "--site: 'feet' is not among the sites of user 'anna' (hands); nothing was changed" in err
    assert digest(db) == before


@pytest.mark.req("SRS-279")
@pytest.mark.parametrize("answer", ["n\n", "\n", "maybe\n"])
def test_a_restart_not_confirmed_on_a_terminal_changes_nothing(tmp_path, capsys, answer):
    db = tmp_path / "h.sqlite"
    add(capsys, db)
    _in_maintenance(db)
    before = digest(db)
    code, out, err = run_tty(capsys, "course", "restart", "--user", "anna", "--site", "hands",
                             "--db", str(db), "--now", LATER, typed=answer)
    assert code == 1 and "restart: not confirmed; nothing was changed" in err
    assert "Restart the course? [y/N]" in out
    assert digest(db) == before


@pytest.mark.req("SRS-279")
@pytest.mark.parametrize("argv, typed", [([], "y\n"), ([], " YES \n"), (["--yes"], "")])
def test_a_restart_confirmed_on_a_terminal_is_recorded(tmp_path, capsys, argv, typed):
    db = tmp_path / "h.sqlite"
    add(capsys, db)
    _in_maintenance(db)
    code, out, err = run_tty(capsys, "course", "restart", "--user", "anna", "--site", "hands", *argv,
                             "--db", str(db), "--now", LATER, "--json", typed=typed)
    assert code == 0, err
    event = json.loads(out.split("[y/N] ", 1)[-1])   # after the question, when asked
    assert event["from_phase"] == "maintenance" and event["maintenance_since"] == NOW
    code, out, _ = run(capsys, "course", "--user", "anna", "--site", "hands", "--db", str(db), "--json",
                       "--now", LATER)
    (course,) = json.loads(out)
    assert course["phase"] == "initial" and len(course["restarts"]) == 1


# --- the chart per site (SRS-199) -----------------------------------------------------------
@pytest.mark.req("SRS-199")
def test_the_chart_is_written_only_for_a_site_with_sessions(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    add(capsys, db, "anna", "--sites", "hands,feet")
    code, _, err = run(capsys, "session", "--user", "anna", "--site", "hands", "--current", "5",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--now", NOW)
    assert code == 0, err
    code, out, err = run(capsys, "course", "--user", "anna", "--db", str(db), "--json", "--now", LATER)
    assert code == 0, err
    by_site = {c["site"]: c for c in json.loads(out)}
    assert by_site["hands"]["chart"] == str(tmp_path / "h-course-anna-hands.png")
    assert Path(by_site["hands"]["chart"]).stat().st_size > 0
    assert by_site["feet"]["chart"] is None and by_site["feet"]["sessions"] == []
    assert not (tmp_path / "h-course-anna-feet.png").exists()


@pytest.mark.req("SRS-191")
@pytest.mark.parametrize("file_exists", [False, True])
def test_a_session_without_user_on_a_history_never_with_profiles_is_the_default_profiles(tmp_path, capsys,
                                                                                        file_exists):
    db = tmp_path / "h.sqlite"
    if file_exists:            # a history with its tables and no profile: checked before the checklist too
        History(db).close()
    code, out, err = run(capsys, "session", "--site", "hands", "--current", "5", "--minutes", "10",
                         "--checklist", CHECKLIST, "--db", str(db), "--now", NOW, "--json")
    assert code == 0, err
    assert "note: profile 'default' has no year of birth" in err
    with History(db) as h:
        assert h.query("SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id") == [("default",)]
