"""`ionto course` and the frequency guard on the command line (SRS-073,
SRS-194..SRS-199): a whole initial course day by day with --now, refusals
with the next allowed time and nothing energised, maintenance, the chart,
two processes at once, a clock going backwards, midnight."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import core.cli as cli
from core.history import History
from tests.cli.in_process import run

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


def at(day: int, hour: int = 8, minute: int = 0) -> str:
    return (datetime.fromisoformat("2026-12-01T00:00:00+01:00")
            + timedelta(days=day - 1, hours=hour, minutes=minute)).isoformat()


@pytest.fixture
def energised(monkeypatch):
    """Counts the devices created: a refused session creates none."""
    made: list[int] = []
    real = cli.SimulatedDevice

    def make(*a, **k):
        made.append(1)
        return real(*a, **k)
    monkeypatch.setattr(cli, "SimulatedDevice", make)
    return made


@pytest.mark.req("SRS-073", "SRS-194", "SRS-197", "SRS-198", "SRS-199")
def test_an_initial_course_day_by_day_then_maintenance(tmp_path, capsys, energised):
    db = str(tmp_path / "h.sqlite")
    assert run(capsys, "user", "add", "anna", "--born", "1990", "--hdss", "1", "--sites", "hands",
               "--db", db, "--now", at(1))[0] == 0
    base = ["--user", "anna", "--checklist", CHECKLIST, "--db", db, "--json"]
    code, out, _ = run(capsys, "session", "--site", "hands", "--current", "10", "--minutes", "10",
                       *base, "--now", at(1))
    assert code == 0 and json.loads(out)["treat_s"] == 600
    log = []
    for day in range(2, 13):
        code, out, err = run(capsys, "session", "--suggested", "--yes", "--site", "hands", *base, "--now", at(day))
        s = json.loads(out)
        log.append((day, s["outcome"], s["current_mA"], err))
    done = [(d, c) for d, o, c, _ in log if o == "completed"]
    refused = {d: e for d, o, _, e in log if o == "refused"}
    # days 1-5 treated, days 6 and 7 refused (5 in 7 days), 8-11 treated: 9 = HDSS 1's target
    assert [d for d, _ in done] == [2, 3, 4, 5, 8, 9, 10, 11]
    assert [c for _, c in done] == [11, 12, 13, 14, 15, 16, 17, 18]        # +1 mA a session
    for day in (6, 7):
        assert "at most 5 sessions per site in 7 days" in refused[day]
        assert f"next allowed {at(8)[:16]}" in refused[day]
    assert "56 h between maintenance sessions" in refused[12]
    assert f"next allowed {at(13, 16)[:16]}" in refused[12]                # day 11 08:00 + 56 h
    assert len(energised) == 9                                             # refusals energise nothing
    code, out, _ = run(capsys, "course", "--user", "anna", "--db", db, "--json", "--now", at(12))
    (course,) = json.loads(out)
    assert {k: course[k] for k in ("phase", "sessions_done", "sessions_to_go", "target_sessions",
                                   "per_month")} == {"phase": "maintenance", "sessions_done": 9,
                                                     "sessions_to_go": 0, "target_sessions": 9,
                                                     "per_month": 2}
    assert course["next_due"] == "2026-12-26T07:00:00.000+00:00"          # day 11 + 30 / 2 days
    assert course["suggestion"]["settings"]["current_ma"] == 18           # maintenance: kept
    chart = Path(course["chart"])
    assert chart == tmp_path / "h-course-anna-hands.png" and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run(capsys, "session", "--suggested", "--yes", "--site", "hands", *base, "--now", at(14))
    assert code == 0 and json.loads(out)["current_mA"] == 18
    with History(db) as h:
        assert len(h.list_sessions()) == 10


@pytest.mark.req("SRS-197", "SRS-198")
def test_scores_end_the_initial_phase_and_discomfort_stops_the_raise(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    run(capsys, "user", "add", "ben", "--born", "1980", "--db", db, "--now", at(1))
    base = ["--user", "ben", "--checklist", CHECKLIST, "--db", db, "--json"]
    assert run(capsys, "session", "--site", "feet", "--current", "12", "--minutes", "10", *base,
               "--now", at(1))[0] == 0
    assert run(capsys, "course", "score", "--user", "ben", "--session", "1", "--hdss", "3",
               "--discomfort", "--db", db, "--now", at(1, 9))[0] == 0
    code, out, _ = run(capsys, "session", "--suggested", "--yes", "--site", "feet", *base, "--now", at(2))
    assert json.loads(out)["current_mA"] == 12                             # discomfort: not raised
    for sid in (2,):
        assert run(capsys, "course", "score", "--user", "ben", "--session", str(sid), "--hdss", "1",
                   "--db", db, "--now", at(2, 9))[0] == 0
    run(capsys, "session", "--suggested", "--yes", "--site", "feet", *base, "--now", at(3))
    assert run(capsys, "course", "score", "--user", "ben", "--session", "3", "--hdss", "1", "--db", db,
               "--now", at(3, 9))[0] == 0
    code, out, _ = run(capsys, "course", "--user", "ben", "--site", "feet", "--db", db, "--json",
                       "--no-chart", "--now", at(4))
    (course,) = json.loads(out)
    assert (course["phase"], course["sessions_done"], course["target_sessions"], course["chart"]) == \
        ("maintenance", 3, 18, None)
    assert [s["hdss"] for s in course["sessions"]] == [3, 1, 1]


@pytest.mark.req("SRS-073", "SRS-195")
def test_midnight_and_time_zones_do_not_open_a_second_session(tmp_path, capsys, energised):
    db = str(tmp_path / "h.sqlite")
    base = ["--site", "hands", "--current", "10", "--minutes", "10", "--checklist", CHECKLIST,
            "--db", db, "--json"]
    assert run(capsys, "session", *base, "--now", "2026-12-01T23:50:00+01:00")[0] == 0
    for now in ("2026-12-02T00:10:00+01:00",      # after local midnight
                "2026-12-01T18:30:00-05:00",      # the same moment seen from New York
                "2026-12-02T23:49:00+01:00",      # one minute short of 24 h
                "2026-12-02T22:49:59.999Z"):      # a millisecond short, in UTC
        code, out, err = run(capsys, "session", *base, "--now", now)
        assert code == 1 and json.loads(out)["outcome"] == "refused", now
        assert "1 session per site in 24 h" in err
    code, _, err = run(capsys, "session", *base, "--now", "2026-12-02T12:10:00-05:00")
    assert code == 1 and "next allowed 2026-12-02T17:50-05:00" in err    # shown in the clock's zone
    assert run(capsys, "session", *base, "--now", "2026-12-02T22:50:00Z")[0] == 0   # exactly 24 h
    assert len(energised) == 2


@pytest.mark.req("SRS-195")
def test_a_clock_gone_backwards_is_refused(tmp_path, capsys, energised):
    db = str(tmp_path / "h.sqlite")
    base = ["--current", "10", "--minutes", "10", "--checklist", CHECKLIST, "--db", db, "--json"]
    assert run(capsys, "session", "--site", "hands", *base, "--now", at(5))[0] == 0
    before = Path(db).read_bytes()
    code, _, err = run(capsys, "session", "--site", "feet", *base, "--now", at(4))
    assert code == 1 and "clock went backwards" in err and "nothing was energised" in err
    assert Path(db).read_bytes() == before and len(energised) == 1


@pytest.mark.req("SRS-196")
def test_two_processes_at_once_one_session(tmp_path):
    db = str(tmp_path / "h.sqlite")
    subprocess.run([sys.executable, "-m", "core.cli", "user", "add", "anna", "--born", "1990", "--db", db,
                    "--now", at(1, 7)],
                   cwd=ROOT, check=True, capture_output=True)
    argv = [sys.executable, "-m", "core.cli", "session", "--user", "anna", "--site", "hands", "--current",
            "10", "--minutes", "10", "--checklist", CHECKLIST, "--db", db, "--now", at(1)]
    procs = [subprocess.Popen(argv, cwd=ROOT, text=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(code for code, _ in results) == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    assert "frequency guard" in refused and "next allowed" in refused and "Traceback" not in refused
    with History(db) as h:
        assert len(h.list_sessions()) == 1


@pytest.mark.req("SRS-198")
@pytest.mark.parametrize("answer, code", [("n\n", 1), ("y\n", 0)])
def test_on_a_terminal_the_suggestion_is_shown_and_must_be_confirmed(tmp_path, capsys, monkeypatch,
                                                                     answer, code):
    db = str(tmp_path / "h.sqlite")
    base = ["--checklist", CHECKLIST, "--db", db, "--json"]
    assert run(capsys, "session", "--site", "hands", "--current", "10", "--minutes", "10", *base,
               "--now", at(1))[0] == 0
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli, "_confirm_file_answers", lambda *a: None)   # the checklist's own question
    got, out, err = run(capsys, "session", "--suggested", "--site", "hands", *base, "--now", at(2),
                        stdin=answer)
    assert got == code and "suggestion for default, hands: 11 mA, 10 min, polarity normal (+1 mA (initial phase))" in err
    assert "Use these settings?" in err
    if code:
        assert "the suggestion was not confirmed; nothing was energised" in err
    else:
        assert json.loads(out)["current_mA"] == 11


@pytest.mark.req("SRS-195", "SRS-201")
def test_a_damaged_start_time_is_refused_naming_the_session(tmp_path, capsys, energised):
    import sqlite3
    db = str(tmp_path / "h.sqlite")
    base = ["--site", "hands", "--current", "10", "--minutes", "10", "--checklist", CHECKLIST, "--db", db]
    assert run(capsys, "session", *base, "--now", at(1))[0] == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE sessions SET started_at = 'garbage'")
    con.commit()
    con.close()
    for argv in (["session", *base, "--now", at(3)], ["course", "--db", db, "--now", at(3)]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "session 1: start time 'garbage' is not readable" in err
    assert len(energised) == 1


@pytest.mark.req("SRS-230", "SRS-198")
def test_alternating_polarity_is_suggested_in_maintenance_and_taken_only_when_confirmed(
        tmp_path, capsys, monkeypatch, energised):
    db = str(tmp_path / "h.sqlite")
    run(capsys, "user", "add", "cleo", "--born", "1985", "--sites", "hands", "--db", db, "--now", at(1))
    base = ["--user", "cleo", "--checklist", CHECKLIST, "--db", db, "--json"]

    def history() -> list[str]:
        got = run(capsys, "history", "--user", "cleo", "--db", db, "--json")[1]
        return [r["start_polarity"] for r in json.loads(got)]

    # two sessions scored HDSS 1 (normal sweating) end the initial phase
    for day, how in ((1, ["--site", "hands", "--current", "12", "--minutes", "10"]),
                     (2, ["--suggested", "--yes", "--site", "hands"])):
        assert run(capsys, "session", *how, *base, "--now", at(day))[0] == 0
        assert run(capsys, "course", "score", "--user", "cleo", "--session", str(day), "--hdss", "1",
                   "--db", db, "--now", at(day, 9))[0] == 0
    assert run(capsys, "course", "set", "--user", "cleo", "--site", "hands", "--alternate-polarity",
               "--db", db, "--now", at(2, 9))[0] == 0
    code, out, _ = run(capsys, "course", "--user", "cleo", "--db", db, "--json", "--no-chart",
                       "--now", at(5))
    (course,) = json.loads(out)
    assert (course["phase"], course["alternate_polarity"]) == ("maintenance", True)
    assert course["suggestion"]["settings"]["start_polarity"] == "reversed"
    # on a terminal: shown with its polarity; declined -> nothing energised, nothing stored
    made = len(energised)
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli, "_confirm_file_answers", lambda *a: None)
    code, _, err = run(capsys, "session", "--suggested", "--site", "hands", *base, "--now", at(5),
                       stdin="n\n")
    # day 2 took 13 mA (+1 mA, initial); maintenance keeps it, and reverses the polarity
    assert code == 1 and "suggestion for cleo, hands: 13 mA, 10 min, polarity reversed" in err
    assert "alternating, last normal" in err and "not confirmed; nothing was energised" in err
    assert len(energised) == made and history() == ["normal", "normal"]
    code, _, err = run(capsys, "session", "--suggested", "--site", "hands", *base, "--now", at(5),
                       stdin="y\n")
    assert code == 0 and history() == ["normal", "normal", "reversed"]
    monkeypatch.setattr(cli, "_interactive", lambda: False)
    # given settings never take the suggestion's polarity: normal unless --polarity says otherwise
    assert run(capsys, "session", "--site", "hands", "--current", "12", "--minutes", "10", *base,
               "--now", at(20))[0] == 0
    assert history() == ["normal", "normal", "reversed", "normal"]
    code, out, _ = run(capsys, "course", "--user", "cleo", "--db", db, "--json", "--no-chart",
                       "--now", at(21))
    assert json.loads(out)[0]["suggestion"]["settings"]["start_polarity"] == "reversed"
    assert "start-reversed" in run(capsys, "history", "--user", "cleo", "--db", db)[1].splitlines()[2]


@pytest.mark.req("SRS-230", "SRS-201")
@pytest.mark.parametrize("value", ["sideways", "", "Reversed ", "1", "-1"])
def test_a_bad_polarity_is_refused_naming_the_option(tmp_path, capsys, energised, value):
    db = tmp_path / "h.sqlite"
    code, out, err = run(capsys, "session", "--site", "hands", "--current", "12", "--minutes", "10",
                         "--polarity", value, "--checklist", CHECKLIST, "--db", str(db), "--now", at(1))
    assert code == 1 and "--polarity (start_polarity)" in err and "allowed: one of normal, reversed" in err
    assert energised == [] and not db.exists()


@pytest.mark.req("SRS-201", "SRS-230")
def test_course_set_only_at_the_users_own_sites(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    run(capsys, "user", "add", "dora", "--born", "1980", "--sites", "hands", "--db", str(db), "--now", at(1))
    before = db.read_bytes()
    code, out, err = run(capsys, "course", "set", "--user", "dora", "--site", "feet", "--alternate-polarity",
                         "--db", str(db), "--now", at(1))
    assert (code, out) == (1, "")
    assert "--site: 'feet' is not among the sites of user 'dora' (hands); nothing was changed" in err
    assert db.read_bytes() == before
    code, out, _ = run(capsys, "course", "set", "--user", "dora", "--site", "hands", "--alternate-polarity",
                       "--db", str(db), "--json", "--now", at(1))
    assert code == 0 and json.loads(out)[0]["alternate_polarity"] is True
