"""Findings of the independent review of issue 11 (course, users): the
simulated clock never reaches a real-time session (SRS-195), a removed name
re-added does not start from nothing (SRS-193), the starting polarity is
always shown (SRS-230)."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import core.cli as cli
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


@pytest.fixture
def energised(monkeypatch):
    """Counts the devices created, simulated and real-time: a refusal creates none."""
    made: list[str] = []
    for name in ("SimulatedDevice", "RealtimeDevice"):
        real = getattr(cli, name)

        def make(*a, _real=real, _name=name, **k):
            made.append(_name)
            return _real(*a, **k)
        monkeypatch.setattr(cli, name, make)
    return made


# --- 1. --now is a simulated clock: refused with --realtime ------------------------------------
NOW_VALUES = ["2030-01-01T08:00:00Z", "2099-12-31T23:59:59+00:00", "2000-01-01T00:00:00+14:00",
              "2026-12-01T08:00:00+01:00", "2031-06-15T12:00:00-12:00", "not-a-time", "2026-12-01T08:00:00"]


@pytest.mark.req("SRS-195", "SRS-190")
@pytest.mark.parametrize("now", NOW_VALUES)
@pytest.mark.parametrize("runner", [False, True])
def test_now_is_refused_with_realtime_whatever_its_value(tmp_path, capsys, energised, now, runner):
    db = tmp_path / "h.sqlite"
    born = datetime.now(timezone.utc).year - 3      # a child of 3 by the device's own clock
    assert run(capsys, "user", "add", "kid", "--born", str(born), "--db", str(db))[0] == 0
    before = db.read_bytes()
    code, out, err = run(capsys, "session", "--user", "kid", "--site", "hands", "--current", "5",
                         "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--realtime",
                         *(["--runner"] if runner else []), "--now", now, "--json")
    assert code == 1
    assert "--now" in err and "--realtime" in err and "nothing was energised" in err
    assert json.loads(out)["outcome"] == "refused" and json.loads(out)["treat_s"] == 0.0
    assert energised == [] and db.read_bytes() == before


@pytest.mark.req("SRS-195", "SRS-190")
def test_realtime_takes_the_devices_own_clock_for_the_age_check(tmp_path, capsys, energised):
    """The reviewer's case: born 3 years ago by the system clock; without --now
    the real-time session reads the system clock and the age check refuses it."""
    db = tmp_path / "h.sqlite"
    year = datetime.now(timezone.utc).year
    assert run(capsys, "user", "add", "kid", "--born", str(year - 3), "--db", str(db))[0] == 0
    before = db.read_bytes()
    code, _, err = run(capsys, "session", "--user", "kid", "--site", "hands", "--current", "5",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--realtime")
    assert code == 1 and f"{year - 3 + 6}" in err          # first year allowed: the 6th birthday's
    assert energised == [] and db.read_bytes() == before


@pytest.mark.req("SRS-195")
def test_the_help_says_now_is_simulated_and_refused_with_realtime(capsys):
    with pytest.raises(SystemExit):
        cli.main(["session", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "SIMULATED device's wall clock" in text and "Refused with --realtime" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`--now` is refused with `--realtime`" in readme


# --- 2. a removed name is restored, never re-added from nothing ----------------------------------
T0 = "2026-12-01T08:00:00+01:00"


def later(minutes: int) -> str:
    return (datetime.fromisoformat(T0) + timedelta(minutes=minutes)).isoformat()


def carl_with_one_session(capsys, db: Path, *, pin: str | None = None) -> None:
    add = ["user", "add", "carl", "--born", "1980", "--sites", "hands", "--db", str(db), "--now", T0]
    assert run(capsys, *add, *(["--pin"] if pin else []), stdin=f"{pin}\n" if pin else "")[0] == 0
    code, out, _ = run(capsys, "session", "--user", "carl", "--site", "hands", "--current", "10",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--now", T0, "--json",
                       stdin=f"{pin}\n" if pin else "")
    assert code == 0 and json.loads(out)["outcome"] == "completed"
    assert run(capsys, "user", "remove", "carl", "--db", str(db), "--now", later(30),
               stdin=f"{pin}\n" if pin else "")[0] == 0


@pytest.mark.req("SRS-193", "SRS-201")
@pytest.mark.parametrize("name", ["carl", "CARL", "Carl"])
def test_adding_a_removed_name_with_sessions_is_refused_naming_restore(tmp_path, capsys, name):
    db = tmp_path / "h.sqlite"
    carl_with_one_session(capsys, db)
    before = db.read_bytes()
    code, _, err = run(capsys, "user", "add", name, "--born", "1980", "--sites", "hands",
                       "--db", str(db), "--now", later(60))
    assert code == 1
    assert "name:" in err and "with 1 sessions" in err and "ionto user restore carl" in err
    assert db.read_bytes() == before


@pytest.mark.req("SRS-193", "SRS-073")
def test_a_restored_profile_keeps_its_sessions_course_and_guard(tmp_path, capsys, energised):
    db = tmp_path / "h.sqlite"
    carl_with_one_session(capsys, db)
    code, out, _ = run(capsys, "user", "restore", "carl", "--db", str(db), "--now", later(60), "--json")
    assert code == 0 and json.loads(out) == {"name": "carl", "restored": True, "sessions": 1}
    made = len(energised)
    for minutes in (60, 23 * 60 + 59):          # 1 h later, and 1 min before the 24 h are over
        code, _, err = run(capsys, "session", "--user", "carl", "--site", "hands", "--current", "10",
                           "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db),
                           "--now", later(minutes))
        assert code == 1 and "next allowed 2026-12-02T08:00+01:00" in err   # the start + 24 h
    assert len(energised) == made
    code, out, _ = run(capsys, "course", "--user", "carl", "--db", str(db), "--json", "--no-chart",
                       "--now", later(61))
    (course,) = json.loads(out)
    assert code == 0 and course["sessions_done"] == 1 and course["sessions_to_go"] == 17
    code, out, _ = run(capsys, "session", "--user", "carl", "--site", "hands", "--current", "10",
                       "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--json",
                       "--now", later(24 * 60 + 10))
    assert code == 0 and json.loads(out)["outcome"] == "completed"


@pytest.mark.req("SRS-193", "SRS-192", "SRS-201")
def test_restore_bad_input_is_refused_and_changes_nothing(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    carl_with_one_session(capsys, db, pin="4711")
    before = db.read_bytes()
    for argv, stdin, said in [(["restore", "carl"], "1234\n", "PIN: wrong or missing PIN"),
                              (["restore", "carl"], "", "PIN: wrong or missing PIN"),
                              (["restore", "nobody"], "", "name: no removed profile 'nobody'"),
                              (["restore", "???"], "", "name")]:
        code, _, err = run(capsys, "user", *argv, "--db", str(db), "--now", later(60), stdin=stdin)
        assert code == 1 and said in err, err
        assert db.read_bytes() == before
    assert run(capsys, "user", "restore", "carl", "--db", str(db), "--now", later(60), stdin="4711\n")[0] == 0
    code, _, err = run(capsys, "user", "restore", "carl", "--db", str(db), "--now", later(61))
    assert code == 1 and "no removed profile 'carl'" in err


@pytest.mark.req("SRS-193")
def test_a_removed_name_without_sessions_may_be_added_again(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    base = ["--db", str(db), "--now", T0]
    assert run(capsys, "user", "add", "dora", "--born", "1990", *base)[0] == 0
    assert run(capsys, "user", "remove", "dora", *base)[0] == 0
    code, out, _ = run(capsys, "user", "add", "dora", "--born", "1991", *base, "--json")
    assert code == 0 and json.loads(out)["born"] == 1991


@pytest.mark.req("SRS-193")
def test_the_ifu_says_one_person_one_profile():
    ifu = " ".join((ROOT / "docs" / "instructions_for_use.md").read_text(encoding="utf-8").split())
    assert "One person, one profile" in ifu and "ionto user restore NAME" in ifu


# --- 3. the starting polarity is always shown; a notice where alternation is not followed ---------
def at(day: int, hour: int = 8) -> str:
    return (datetime.fromisoformat("2026-12-01T08:00:00+01:00")
            + timedelta(days=day - 1, hours=hour - 8)).isoformat()


NOTICE = "notice: polarity alternation is chosen for cleo, hands in maintenance"


def cleo_in_maintenance(capsys, db: str, *, alternate: bool) -> list[str]:
    run(capsys, "user", "add", "cleo", "--born", "1985", "--sites", "hands", "--db", db, "--now", at(1))
    base = ["--user", "cleo", "--checklist", CHECKLIST, "--db", db, "--json"]
    for day in (1, 2):   # two sessions scored HDSS 1 end the initial phase
        code, _, err = run(capsys, "session", "--site", "hands", "--current", "12", "--minutes", "10",
                           *base, "--now", at(day))
        assert code == 0 and "starting polarity: normal" in err and "notice:" not in err
        assert run(capsys, "course", "score", "--user", "cleo", "--session", str(day), "--hdss", "1",
                   "--db", db, "--now", at(day, 9))[0] == 0
    assert run(capsys, "course", "set", "--user", "cleo", "--site", "hands", "--per-month", "4",
               "--alternate-polarity" if alternate else "--no-alternate-polarity",
               "--db", db, "--now", at(2, 9))[0] == 0
    return base


def polarities(capsys, db: str) -> list[str]:
    got = run(capsys, "history", "--user", "cleo", "--db", db, "--json")[1]
    return [r["start_polarity"] for r in json.loads(got)]


@pytest.mark.req("SRS-230", "SRS-198")
def test_every_start_shows_its_polarity_and_a_missed_alternation_is_named(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    base = cleo_in_maintenance(capsys, db, alternate=True)
    # (day, options, starting polarity, notice naming the option to follow it, or None)
    steps = [(5, ["--last"], "normal", "--polarity reversed"),           # Last Setting repeats: normal again
             (8, ["--suggested", "--yes", "--site", "hands"], "reversed", None),  # follows the alternation
             (11, ["--site", "hands", "--current", "12", "--minutes", "10", "--polarity", "reversed"],
              "reversed", "--polarity normal"),                        # explicit, like the last one
             (14, ["--site", "hands", "--current", "12", "--minutes", "10"], "normal", None)]
    for day, options, polarity, follow in steps:
        code, out, err = run(capsys, "session", *options, *base, "--now", at(day))
        assert code == 0 and json.loads(out)["outcome"] == "completed", err
        assert f"starting polarity: {polarity}" in err
        if follow is None:
            assert "notice:" not in err
        else:
            assert NOTICE in err and f"starts {polarity} like the last one" in err
            assert f"use --suggested or {follow}" in err
    assert polarities(capsys, db) == ["normal", "normal", "normal", "reversed", "reversed", "normal"]


@pytest.mark.req("SRS-230")
def test_no_notice_without_alternation_or_in_the_initial_phase(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    base = cleo_in_maintenance(capsys, db, alternate=False)
    for day in (5, 8):   # maintenance, alternation off: --last repeats normal, silently
        code, _, err = run(capsys, "session", "--last", *base, "--now", at(day))
        assert code == 0 and "starting polarity: normal" in err and "notice:" not in err
    db2 = str(tmp_path / "h2.sqlite")   # initial phase with alternation chosen: no notice
    run(capsys, "user", "add", "cleo", "--born", "1985", "--sites", "hands", "--db", db2, "--now", at(1))
    run(capsys, "course", "set", "--user", "cleo", "--site", "hands", "--alternate-polarity",
        "--db", db2, "--now", at(1))
    for day in (1, 2, 3):
        code, _, err = run(capsys, "session", "--site", "hands", "--current", "12", "--minutes", "10",
                           "--polarity", "reversed", "--user", "cleo", "--checklist", CHECKLIST,
                           "--db", db2, "--now", at(day))
        assert code == 0 and "starting polarity: reversed" in err and "notice:" not in err


# --- 5. --now: out of datetime's range, and only real UTC offsets ----------------------------------
BAD_NOW = {"9999-12-31T23:59:59-12:00": "outside the allowed range 2000-01-01 .. 2099-12-31 (UTC)",
           "0001-01-01T00:00:00+01:00": "outside the allowed range 2000-01-01 .. 2099-12-31 (UTC)",
           "9999-12-31T23:59:59+14:00": "outside the allowed range 2000-01-01 .. 2099-12-31 (UTC)",
           "2026-12-01T08:00:00+23:59": "UTC offset +23:59; allowed -12:00 .. +14:00",
           "2026-12-01T08:00:00+14:01": "UTC offset +14:01; allowed -12:00 .. +14:00",
           "2026-12-01T08:00:00-12:01": "UTC offset -12:01; allowed -12:00 .. +14:00",
           "2026-12-01T08:00:00-23:59": "UTC offset -23:59; allowed -12:00 .. +14:00"}


@pytest.mark.req("SRS-195", "SRS-201")
@pytest.mark.parametrize("now", sorted(BAD_NOW))
def test_a_now_out_of_range_or_with_an_unreal_offset_is_a_clear_refusal(tmp_path, capsys, energised, now):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--db", str(db), "--now", T0)[0] == 0
    before = db.read_bytes()
    for argv in (["session", "--user", "anna", "--site", "hands", "--current", "10", "--minutes", "10",
                  "--checklist", CHECKLIST],
                 ["course", "--user", "anna", "--no-chart"],
                 ["user", "add", "ben", "--born", "1990"],
                 ["user", "show", "anna"]):
        code, _, err = run(capsys, *argv, "--db", str(db), "--now", now)
        assert code == 1 and "--now" in err and BAD_NOW[now] in err, err
        assert db.read_bytes() == before
    assert energised == []


@pytest.mark.req("SRS-195")
@pytest.mark.parametrize("offset", ["-12:00", "-03:30", "Z", "+05:45", "+14:00"])
def test_every_real_offset_is_accepted(tmp_path, capsys, offset):
    db = tmp_path / "h.sqlite"
    code, out, _ = run(capsys, "session", "--site", "hands", "--current", "10", "--minutes", "10",
                       "--checklist", CHECKLIST, "--db", str(db), "--json",
                       "--now", f"2026-12-01T08:00:00{offset}")
    assert code == 0 and json.loads(out)["outcome"] == "completed"


# --- 6. a session starting before the end of the last one: a clock gone backwards -----------------
@pytest.mark.req("SRS-195", "SRS-201")
def test_a_start_before_the_end_of_a_recorded_session_is_refused(tmp_path, capsys, energised):
    db = tmp_path / "h.sqlite"
    for name in ("anna", "ben"):
        assert run(capsys, "user", "add", name, "--born", "1990", "--db", str(db), "--now", T0)[0] == 0
    session = ["--current", "10", "--minutes", "10", "--checklist", CHECKLIST, "--db", str(db), "--json"]
    code, out, _ = run(capsys, "session", "--user", "anna", "--site", "hands", *session, "--now", T0)
    assert code == 0
    (row,) = json.loads(run(capsys, "history", "--user", "anna", "--db", str(db), "--json")[1])
    end = datetime.fromisoformat(row["ended_at"])
    assert end - datetime.fromisoformat(T0) >= timedelta(minutes=10)     # 10 min treated, plus ramps
    before = db.read_bytes()
    # another site, another user: one device runs one session at a time
    for user, site, when in (("anna", "feet", datetime.fromisoformat(T0) + timedelta(minutes=5)),
                             ("ben", "hands", end - timedelta(seconds=1))):
        code, _, err = run(capsys, "session", "--user", user, "--site", site, *session,
                           "--now", when.isoformat())
        assert code == 1 and "earlier than the end of session 1" in err and "nothing was energised" in err
        assert db.read_bytes() == before
    assert len(energised) == 1
    code, out, _ = run(capsys, "session", "--user", "ben", "--site", "hands", *session,
                       "--now", (end + timedelta(seconds=1)).isoformat())
    assert code == 0 and json.loads(out)["outcome"] == "completed"


# --- 7. +1 mA only after a completed session at its set current; --yes without a terminal ---------
from core.course import _suggest, reached_set_current   # noqa: E402
from core.history import SessionRecord                   # noqa: E402


def record(outcome: str, set_ma: float, max_ma: float, treat_s: float = 600.0) -> SessionRecord:
    return SessionRecord(session_id=1, settings={"site": "hands", "current_ma": set_ma, "minutes": 10},
                         started_at=T0, ended_at=None, outcome=outcome, treat_s=treat_s,
                         delivered_mamin=set_ma * treat_s / 60, max_current_ma=max_ma, faults=[], states=[],
                         counts={"treat_delivered_mAmin": set_ma * treat_s / 60, "treat_in_band_s": treat_s})


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("set_ma, max_ma, raised", [
    (10, 10.0, True), (10, 9.9, True), (10, 9.89, False),      # 1 % of 10 mA = 0.1 mA
    (1, 0.95, True), (1, 0.949, False),                          # 50 uA below 5 mA
    (20, 19.8, True), (20, 19.79, False), (10, 4.0, False)])
def test_the_raise_needs_the_set_current_reached(set_ma, max_ma, raised):
    assert reached_set_current(max_ma, set_ma) is raised
    sug = _suggest(record("completed", set_ma, max_ma), {}, "initial")
    assert sug["settings"]["current_ma"] == (set_ma + 1 if raised else set_ma)
    if not raised:
        assert f"did not reach its set current ({max_ma:.2f} of {set_ma:g} mA)" in sug["reason"]


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("outcome", ["stopped", "interrupted", "fault"])
@pytest.mark.parametrize("treat_s", [60.0, 600.0, 900.0])
def test_a_session_not_completed_is_never_followed_by_a_raise(outcome, treat_s):
    sug = _suggest(record(outcome, 10, 10.0, treat_s), {}, "initial")
    assert sug["settings"]["current_ma"] == 10 and "last current kept" in sug["reason"]


@pytest.mark.req("SRS-198")
def test_a_session_the_user_stopped_after_10_min_gives_no_raise(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    scenario = tmp_path / "stop.yaml"
    scenario.write_text("- {at_s: 700, event: stop}\n")
    base = ["--checklist", CHECKLIST, "--db", db, "--json"]
    code, out, _ = run(capsys, "session", "--site", "hands", "--current", "12", "--minutes", "15",
                       "--scenario", str(scenario), *base, "--now", at(1))
    first = json.loads(out)
    assert first["outcome"] == "stopped" and 600 <= first["treat_s"] < 900
    code, out, err = run(capsys, "session", "--suggested", "--yes", "--site", "hands", *base, "--now", at(2))
    assert code == 0 and json.loads(out)["current_mA"] == 12
    assert "last session not completed (stopped): last current kept" in err


@pytest.mark.req("SRS-198", "SRS-201")
def test_without_a_terminal_the_suggestion_needs_yes(tmp_path, capsys, energised, monkeypatch):
    db = tmp_path / "h.sqlite"
    base = ["--checklist", CHECKLIST, "--db", str(db), "--json"]
    assert run(capsys, "session", "--site", "hands", "--current", "10", "--minutes", "10", *base,
               "--now", at(1))[0] == 0
    before = db.read_bytes()
    code, out, err = run(capsys, "session", "--suggested", "--site", "hands", *base, "--now", at(2))
    assert code == 1 and "suggestion for default, hands: 11 mA" in err
    assert "must be confirmed with --yes" in err and "nothing was energised" in err
    assert json.loads(out)["outcome"] == "refused" and db.read_bytes() == before and len(energised) == 1
    # on a terminal --yes does not skip the question: declined, nothing runs
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli, "_confirm_file_answers", lambda *a: None)
    code, _, err = run(capsys, "session", "--suggested", "--yes", "--site", "hands", *base, "--now", at(2),
                       stdin="n\n")
    assert code == 1 and "Use these settings?" in err and db.read_bytes() == before
    monkeypatch.setattr(cli, "_interactive", lambda: False)
    code, out, _ = run(capsys, "session", "--suggested", "--yes", "--site", "hands", *base, "--now", at(2))
    assert code == 0 and json.loads(out)["current_mA"] == 11 and len(energised) == 2
