"""`ionto user`, `--user` and the PIN on the command line (SRS-190..SRS-193,
SRS-201): a user's data only under that user, bad input of every kind
refused with the field and the range, exit 1, nothing stored changed,
nothing energised."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import core.cli as cli
from core.history import History
from tests.cli.in_process import digest, run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
NOW = "2026-12-01T08:00:00+01:00"
# the profiles are added on the simulated clock before NOW: added on the system
# clock they would be later than NOW on every day after it (a clock going backwards)
ADDED = "2026-12-01T07:00:00+01:00"
YEAR = 2026     # --born's upper end: the year of the device clock, NOW (the bad-input test passes --now NOW)


def session(db, *extra, site="hands", current="12", now=NOW):
    return ["session", "--site", site, "--current", current, "--minutes", "10", "--checklist", CHECKLIST,
            "--db", str(db), "--json", "--now", now, *extra]


@pytest.fixture
def no_energy(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the device was created for a refused session")
    monkeypatch.setattr(cli, "SimulatedDevice", refuse)


@pytest.fixture
def family(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--hdss", "3", "--db", str(db), "--now", ADDED,
               "--pin", stdin="2468\n")[0] == 0
    assert run(capsys, "user", "add", "ben", "--born", "2015", "--sites", "hands,feet",
               "--db", str(db), "--now", ADDED)[0] == 0
    return db


# --- profiles ----------------------------------------------------------------------------------
@pytest.mark.req("SRS-190", "SRS-193")
def test_add_list_show_remove(family, capsys):
    db = str(family)
    code, out, _ = run(capsys, "user", "list", "--db", db, "--json")
    assert code == 0 and [u["name"] for u in json.loads(out)] == ["anna", "ben"]
    code, out, _ = run(capsys, "user", "show", "anna", "--db", db, "--json", stdin="2468\n")
    shown = json.loads(out)
    assert code == 0 and (shown["born"], shown["hdss"], shown["pin"]) == (1990, 3, True)
    assert [c["target_sessions"] for c in shown["courses"]] == [15, 15, 15]
    assert "2468" not in out
    code, out, _ = run(capsys, "user", "remove", "ben", "--db", db)
    assert code == 0 and "0 sessions kept" in out
    code, out, _ = run(capsys, "user", "list", "--all", "--db", db)
    assert "anna" in out and "ben  (removed" in out


@pytest.mark.req("SRS-193", "SRS-191")
def test_a_removed_users_sessions_are_kept_and_it_takes_no_more(family, capsys):
    db = str(family)
    assert run(capsys, *session(db, "--user", "ben"))[0] == 0
    assert run(capsys, "user", "remove", "ben", "--db", db, "--now", "2026-12-02T08:00:00+01:00")[0] == 0
    with History(db) as h:
        assert len(h.list_sessions()) == 1
    code, out, _ = run(capsys, "user", "list", "--all", "--db", db, "--json")
    assert json.loads(out)[1] == {"name": "ben", "removed_at": json.loads(out)[1]["removed_at"],
                                  "sessions": 1}
    code, _, err = run(capsys, *session(db, "--user", "ben", now="2026-12-05T08:00:00+01:00"))
    assert code == 1 and "user 'ben' was removed" in err


@pytest.mark.req("SRS-191")
def test_with_two_users_the_user_must_be_named(family, capsys, no_energy):
    for argv in (session(family), ["history", "--db", str(family)], ["course", "--db", str(family)]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "has 2 users (anna, ben); give --user NAME" in err


@pytest.mark.req("SRS-191", "SRS-198")
def test_each_user_sees_and_recalls_only_their_own_sessions(family, capsys):
    db = str(family)
    assert run(capsys, *session(db, "--user", "anna", current="20"), stdin="2468\n")[0] == 0
    # one device, one session at a time: ben's after the end of anna's (SRS-195)
    assert run(capsys, *session(db, "--user", "ben", current="8", now="2026-12-01T08:30:00+01:00"))[0] == 0
    code, out, _ = run(capsys, "history", "--db", db, "--user", "ben", "--json")
    assert code == 0 and [s["current_mA"] for s in json.loads(out)] == [8]
    code, out, _ = run(capsys, "history", "--db", db, "--user", "anna", "--json", stdin="2468\n")
    assert [s["current_mA"] for s in json.loads(out)] == [20]
    # Last Setting is the user's own: ben gets 8 mA, not anna's 20
    code, out, _ = run(capsys, "session", "--last", "--user", "ben", "--checklist", CHECKLIST, "--db", db,
                       "--json", "--now", "2026-12-02T09:00:00+01:00")
    assert code == 0 and json.loads(out)["current_mA"] == 8


@pytest.mark.req("SRS-191")
def test_a_single_profile_is_implied_and_a_history_without_profiles_uses_default(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    assert run(capsys, *session(db))[0] == 0                   # no profile: recorded under "default"
    code, out, _ = run(capsys, "user", "list", "--db", str(db), "--json")
    assert [u["name"] for u in json.loads(out)] == ["default"]
    code, out, _ = run(capsys, "course", "--db", str(db), "--json", "--no-chart", "--now", NOW)
    assert code == 0 and json.loads(out)[0]["user"] == "default"
    assert json.loads(out)[0]["sessions_done"] == 1


# --- the PIN -------------------------------------------------------------------------------------
@pytest.mark.req("SRS-192")
@pytest.mark.parametrize("argv", [
    ["user", "show", "anna"], ["user", "remove", "anna"], ["user", "set", "anna", "--born", "1991"],
    ["history", "--user", "anna"], ["course", "--user", "anna"],
    ["course", "set", "--user", "anna", "--site", "hands", "--per-month", "3"],
])
@pytest.mark.parametrize("pin", ["2467", "", "24680"])
def test_a_wrong_pin_shows_and_changes_nothing(family, capsys, argv, pin):
    before = digest(family)
    code, out, err = run(capsys, *argv, "--db", str(family), stdin=pin + "\n")
    assert code == 1 and "PIN: wrong or missing PIN for user 'anna'" in err and out == ""
    assert digest(family) == before


@pytest.mark.req("SRS-192")
def test_a_wrong_pin_starts_no_session(family, capsys, no_energy):
    before = digest(family)
    code, _, err = run(capsys, *session(family, "--user", "anna"), stdin="1111\n")
    assert code == 1 and "wrong or missing PIN" in err and digest(family) == before


# --- the age -------------------------------------------------------------------------------------
@pytest.mark.req("SRS-190")
@pytest.mark.parametrize("born, allowed", [(2026, False), (2022, False), (2021, False), (2020, True),
                                           (2019, True)])
def test_a_profile_under_5_cannot_start(tmp_path, capsys, monkeypatch, born, allowed):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "kid", "--born", str(born), "--db", str(db), "--now", NOW)[0] == 0
    if not allowed:
        monkeypatch.setattr(cli, "SimulatedDevice", lambda *a, **k: pytest.fail("energised"))
    code, _, err = run(capsys, *session(db, "--user", "kid", current="5"))
    assert code == (0 if allowed else 1), err
    if not allowed:
        assert "may be under 5 years on 2026-12-01" in err and f"allowed from {born + 6}" in err
        with History(db) as h:
            assert h.list_sessions() == []


@pytest.mark.req("SRS-190")
def test_a_site_not_in_the_profile_is_refused(family, capsys, no_energy):
    code, _, err = run(capsys, *session(family, "--user", "ben", site="underarms", current="4"))
    assert code == 1 and "'underarms' is not among the sites of user 'ben' (hands, feet)" in err


# --- bad input of every kind -----------------------------------------------------------------------
BAD = [
    (["user", "add", "-x", "--born", "1990"], ["error"]),
    (["user", "add", "a/b", "--born", "1990"], ["name:", "1..32 characters"]),
    (["user", "add", "x" * 33, "--born", "1990"], ["name:", "1..32"]),
    (["user", "add", "carl", "--born", "1899"], ["--born (year of birth)", f"1900..{YEAR}"]),
    (["user", "add", "carl", "--born", str(YEAR + 1)], ["--born", f"1900..{YEAR}"]),
    (["user", "add", "carl", "--born", "nineteen"], ["--born", "not a year"]),
    (["user", "add", "carl", "--born", "1990", "--hdss", "5"], ["--hdss", "1..4"]),
    (["user", "add", "carl", "--born", "1990", "--hdss", "two"], ["--hdss", "1..4"]),
    (["user", "add", "carl", "--born", "1990", "--sites", "head"], ["--sites", "hands, feet, underarms"]),
    (["user", "add", "carl", "--born", "1990", "--pin"], ["PIN: must be 4..8 digits"]),
    (["user", "add", "ANNA", "--born", "1990"], ["exists already"]),
    (["user", "add", "carl"], ["--born"]),
    (["user", "show", "carl"], ["no user 'carl'", "users: anna, ben"]),
    (["user", "set", "ben", "--hdss", "0"], ["--hdss", "1..4"]),
    (["session", "--user", "carl", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST], ["--user", "no user 'carl'"]),
    (["session", "--user", "ben", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST, "--now", "2026-12-01T08:00:00"], ["--now", "time zone", "+01:00"]),
    (["session", "--user", "ben", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST, "--now", "1 Dec 2026"], ["--now", "ISO 8601"]),
    (["session", "--user", "ben", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST, "--now", "2026-13-01T08:00:00Z"], ["--now", "ISO 8601"]),
    (["session", "--user", "ben", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST, "--now", "9999-12-31T23:59:59+00:00"], ["--now", "2000-01-01 .. 2099-12-31"]),
    (["session", "--user", "ben", "--site", "hands", "--current", "10", "--minutes", "10",
      "--checklist", CHECKLIST, "--now", "1999-12-31T23:59:59+01:00"], ["--now", "allowed range"]),
    (["course", "--user", "carl"], ["no user 'carl'"]),
    (["course", "--user", "ben", "--now", "yesterday"], ["--now", "ISO 8601"]),
    (["course", "score", "--user", "ben", "--session", "0", "--hdss", "2"], ["--session", "session id"]),
    (["course", "score", "--user", "ben", "--session", "x", "--hdss", "2"], ["--session"]),
    (["course", "score", "--user", "ben", "--session", "1", "--hdss", "2"], ["no session 1 of user 'ben'"]),
    (["course", "score", "--user", "ben", "--session", "1", "--hdss", "7"], ["--hdss", "1..4"]),
    (["course", "set", "--user", "ben", "--site", "hands", "--per-month", "5"], ["--per-month", "1..4"]),
    (["course", "set", "--user", "ben", "--site", "head"], ["--site", "invalid choice"]),
    (["history", "--user", "carl"], ["no user 'carl'"]),
    (["history", "--user", ""], ["name:"]),
]


@pytest.mark.req("SRS-201")
@pytest.mark.parametrize("argv, words", BAD)
def test_bad_input_is_refused_naming_the_field_exit_1_nothing_changed(family, capsys, no_energy, argv,
                                                                      words):
    before = digest(family)
    extra = [] if argv[0] in ("session", "history") or "--now" in argv else ["--now", NOW]
    code, out, err = run(capsys, *argv, *extra, "--db", str(family), stdin="12\n")
    assert code == 1, err
    for w in words:
        assert w in err, (w, err)
    assert digest(family) == before


@pytest.mark.req("SRS-201")
@pytest.mark.parametrize("command", [["user", "list"], ["user", "show", "x"], ["course"],
                                     ["course", "score", "--session", "1", "--hdss", "1"]])
def test_read_commands_do_not_create_a_history(tmp_path, capsys, command):
    db = tmp_path / "none.sqlite"
    code, _, err = run(capsys, *command, "--db", str(db))
    assert code == 1 and "does not exist" in err and not db.exists()


@pytest.mark.req("SRS-201")
@pytest.mark.parametrize("command", [["user", "list"], ["user", "add", "x", "--born", "1990"],
                                     ["course"], ["history"], ["session", "--user", "x"]])
def test_db_option_on_every_command_bad_paths_refused(tmp_path, capsys, no_energy, command):
    junk = tmp_path / "junk.txt"
    junk.write_text("not a database\n" * 200)
    before = digest(junk)
    for db, words in (("", "--db: an empty path"), (str(tmp_path), "directory"),
                      (str(junk), "not a database")):
        code, _, err = run(capsys, *command, "--db", db)
        assert code == 1, (command, db, err)
        if not (command[0] == "session" and db):   # a session names the missing history or the user
            assert words in err or "--db" in err, (command, db, err)
    assert digest(junk) == before


@pytest.mark.req("SRS-201")
def test_as_a_process_no_traceback(tmp_path):
    db = tmp_path / "h.sqlite"
    for argv in (["user", "add", "x", "--born", "3000"], ["user", "show", "nobody"],
                 ["course", "--user", "x"], ["user", "add", "y", "--born", "1990", "--pin"]):
        p = subprocess.run([sys.executable, "-m", "core.cli", *argv, "--db", str(db)], cwd=ROOT,
                           text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 1 and p.stderr.startswith("ionto: ") and "Traceback" not in p.stderr


@pytest.mark.req("SRS-193", "SRS-191")
def test_after_the_last_user_is_removed_nothing_of_theirs_is_shown_or_recalled(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", db, "--now", ADDED)[0] == 0
    assert run(capsys, *session(db, current="20"))[0] == 0              # implied: anna
    assert run(capsys, "user", "remove", "anna", "--db", db, "--now", "2026-12-02T08:00:00+01:00")[0] == 0
    code, out, _ = run(capsys, "history", "--db", db, "--json")
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, "session", "--last", "--checklist", CHECKLIST, "--db", db, "--now",
                       "2026-12-03T08:00:00+01:00")
    # not anna's 20 mA, and no fresh implied 'default' (review 3, defect 1)
    assert code == 1 and "no active user profile" in err and "ionto user restore NAME" in err
    with History(db) as h:
        assert [r.settings["current_ma"] for r in h.list_sessions()] == [20]   # kept
