"""The `ionto` command: options, exit codes, --json, --trace, history, the live
view and the interactive checklist (SRS-080..SRS-088)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import core.cli as cli
from core.history import History
from core.trace import COLUMNS

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")
SUMMARY_KEYS = {"outcome", "fault", "site", "current_mA", "minutes", "treat_s",
                "delivered_mAmin", "max_current_mA", "states", "session_id",
                # SRS-090, SRS-092, SRS-093
                "end_reason", "pauses", "antishock_cuts", "ramp_s", "density_limits",
                "density_pauses", "checklist"}


def ionto(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The command as a user runs it: a separate process, stdin not a terminal."""
    return subprocess.run([sys.executable, "-m", "core.cli", *argv], cwd=cwd, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)


def session_args(tmp_path: Path, *extra: str, minutes: str = "10") -> list[str]:
    return ["session", "--site", "hands", "--current", "15", "--minutes", minutes,
            "--checklist", CHECKLIST, "--seed", "1", "--db", str(tmp_path / "h.sqlite"),
            "--json", *extra]


def write_scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return str(path)


# --- exit codes, as processes --------------------------------------------------
@pytest.mark.req("SRS-081", "SRS-084", "SRS-080")
def test_completed_session_exits_0_with_the_json_summary(tmp_path):
    p = ionto(*session_args(tmp_path))
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)           # stdout holds exactly one JSON document
    assert set(summary) == SUMMARY_KEYS
    assert summary["outcome"] == "completed" and summary["fault"] is None
    assert summary["site"] == "hands" and summary["current_mA"] == 15 and summary["minutes"] == 10
    assert abs(summary["treat_s"] - 600) <= 0.01
    assert summary["delivered_mAmin"] == pytest.approx(157.5, rel=0.01)
    assert 15 <= summary["max_current_mA"] <= 15 * 1.02 + 0.1
    assert summary["states"] == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    assert summary["session_id"] == 1


@pytest.mark.req("SRS-081", "SRS-064")
def test_fault_exits_3(tmp_path):
    scenario = write_scenario(tmp_path, "- {at_s: 100, event: short, ohms: 20}\n")
    p = ionto(*session_args(tmp_path, "--scenario", scenario))
    assert p.returncode == 3, p.stderr
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "fault" and summary["fault"] == "short"
    assert summary["states"][-1] == "fault"


@pytest.mark.req("SRS-081", "SRS-054")
def test_stop_exits_4(tmp_path):
    scenario = write_scenario(tmp_path, "- {at_s: 100, event: stop}\n")
    p = ionto(*session_args(tmp_path, "--scenario", scenario))
    assert p.returncode == 4, p.stderr
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "stopped" and abs(summary["treat_s"] - 70) <= 0.01


@pytest.mark.req("SRS-081", "SRS-062")
def test_contact_timeout_is_interrupted_and_exits_4(tmp_path):
    scenario = write_scenario(tmp_path, "- {at_s: 100, event: lift_off}\n")
    p = ionto(*session_args(tmp_path, "--scenario", scenario))
    assert p.returncode == 4, p.stderr
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "interrupted" and summary["fault"] is None
    with History(tmp_path / "h.sqlite") as h:
        assert [r.outcome for r in h.list_sessions()] == ["interrupted"]


@pytest.mark.req("SRS-081", "SRS-082")
def test_refusals_exit_1_as_a_process_without_traceback(tmp_path):
    for argv in (["session", "--site", "hands", "--current", "40", "--minutes", "10",
                  "--checklist", CHECKLIST, "--db", str(tmp_path / "h.sqlite")],
                 ["session", "--bogus"], ["frobnicate"], []):
        p = ionto(*argv)
        assert p.returncode == 1, (argv, p.stderr)
        assert "Traceback" not in p.stderr
        assert p.stderr.startswith(("ionto: refused: ", "ionto: error: ")) and p.stderr.count("ionto:") == 1
        assert p.stdout == ""


# --- bad input of every kind, in process --------------------------------------
@pytest.fixture
def no_energy(monkeypatch):
    """Any attempt to create the device fails the test: nothing may be energised."""
    def refuse(*a, **k):
        raise AssertionError("the device was created for a refused session")
    monkeypatch.setattr(cli, "SimulatedDevice", refuse)


def refused(capsys, argv: list[str]) -> str:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "Traceback" not in err
    return err


def base(tmp_path: Path, **override: str) -> list[str]:
    opts = {"--site": "hands", "--current": "15", "--minutes": "10", "--checklist": CHECKLIST,
            "--db": str(tmp_path / "h.sqlite")}
    opts.update(override)
    argv = ["session"]
    for k, v in opts.items():
        if v is not None:
            argv += [k, v]
    return argv


BAD_SETTINGS = [
    ({"--current": "26"}, ["--current", "26 mA", "1..25 mA for hands"]),
    ({"--current": "0.5"}, ["--current", "0.5 mA", "1..25 mA for hands"]),
    ({"--site": "feet", "--current": "25.5"}, ["--current", "25.5", "1..25 mA for feet"]),
    ({"--site": "underarms", "--current": "6"}, ["--current", "6 mA", "1..5 mA for underarms"]),
    ({"--site": "underarms", "--current": "0.9"}, ["0.9", "1..5 mA for underarms"]),
    ({"--current": "abc"}, ["--current", "'abc'", "not a number", "1..25 mA"]),
    ({"--current": "nan"}, ["--current", "1..25 mA"]),
    ({"--minutes": "9"}, ["--minutes", "9 min", "10..30 min"]),
    ({"--minutes": "31"}, ["--minutes", "31 min", "10..30 min"]),
    ({"--minutes": "10.5"}, ["--minutes", "10.5", "whole"]),
    (({"--site": "elbow"}), ["--site", "'elbow'", "hands, feet, underarms"]),
    ({"--ramp-up": "9"}, ["--ramp-up", "9 s", "10..120 s"]),
    ({"--ramp-up": "121"}, ["--ramp-up", "121 s", "10..120 s"]),
    ({"--ramp-down": "9.5"}, ["--ramp-down", "9.5 s", "10..120 s"]),
    ({"--ramp-down": "121"}, ["--ramp-down", "121 s", "10..120 s"]),
    ({"--site": None}, ["missing --site", "hands, feet, underarms"]),
    ({"--current": None, "--minutes": None}, ["--current", "1..25 mA for hands", "--minutes",
                                              "10..30 min"]),
]


@pytest.mark.req("SRS-082", "SRS-041")
@pytest.mark.parametrize("override, words", BAD_SETTINGS)
def test_bad_settings_refused_naming_field_value_and_range(tmp_path, capsys, no_energy,
                                                         override, words):
    err = refused(capsys, base(tmp_path, **override))
    for word in words:
        assert word in err
    assert not (tmp_path / "h.sqlite").exists()   # no history row for a refused session


@pytest.mark.req("SRS-082")
@pytest.mark.parametrize("seed, words", [("-1", ["--seed", "-1", f"0..{2**64 - 1}"]),
                                         (str(2**64), ["--seed", str(2**64), f"0..{2**64 - 1}"]),
                                         ("x1", ["--seed", "'x1'", "not an integer"])])
def test_bad_seed_refused(tmp_path, capsys, no_energy, seed, words):
    err = refused(capsys, base(tmp_path) + ["--seed", seed])
    for word in words:
        assert word in err


@pytest.mark.req("SRS-082", "SRS-083")
@pytest.mark.parametrize("text, words", [
    ("- {at_s: 5, event: earthquake}\n", ["--scenario", "entry 0", "'event'", "'earthquake'",
                                          "lift_off"]),
    ("- {at_s: 5, event: stop}\n- {at_s: -1, event: lift_off}\n", ["entry 1", "'at_s'", "-1",
                                                                   "0 <= value"]),
    ("- {event: stop}\n", ["entry 0", "'at_s'", "missing"]),
    ("- {at_s: 5, event: short, ohms: 0}\n", ["entry 0", "'ohms'", "1 <= value <= 1000"]),
    ("- {at_s: 5, event: load, ohms: 2000, over_s: 700}\n", ["'over_s'", "700", "0 <= value <= 600"]),
    ("- {at_s: 5, event: sensor_stuck, channel: 3, mA: 1}\n", ["'channel'", "3", "0 <= value <= 1"]),
    ("- {at_s: 5, event: stall}\n", ["'ms'", "missing", "1 <= value <= 600000"]),
    ("- {at_s: 5, event: stop, why: 1}\n", ["'why'", "unknown"]),
    ("- {at_s: 5, event: [stop\n", ["not valid YAML"]),
    ("at_s: 5\n", ["expected a list"]),
])
def test_bad_scenario_refused_before_start(tmp_path, capsys, no_energy, text, words):
    err = refused(capsys, base(tmp_path) + ["--scenario", write_scenario(tmp_path, text)])
    for word in words:
        assert word in err


CHECK_OK = Path(CHECKLIST).read_text()


@pytest.mark.req("SRS-082", "SRS-042", "SRS-043", "SRS-044")
@pytest.mark.parametrize("text, words", [
    (CHECK_OK.replace("pregnancy: false", "pregnancy: true"), ["pregnancy", "contraindication"]),
    (CHECK_OK.replace("cardiac_pacemaker: false", "cardiac_pacemaker: true"), ["cardiac_pacemaker"]),
    (CHECK_OK.replace("metal_jewelry_removed: true", "metal_jewelry_removed: false"),
     ["metal_jewelry_removed", "not confirmed"]),
    (CHECK_OK.replace("  seizures_or_epilepsy: false", ""), ["seizures_or_epilepsy", "missing"]),
    (CHECK_OK.replace("heart_disease: false", "heart_disease: maybe"), ["heart_disease", "maybe"]),
    ("contraindications: [\n", ["--checklist", "not valid YAML"]),
])
def test_checklist_refusals_name_the_item(tmp_path, capsys, no_energy, text, words):
    path = tmp_path / "checklist.yaml"
    path.write_text(text)
    err = refused(capsys, base(tmp_path, **{"--checklist": str(path)}))
    for word in words:
        assert word in err


@pytest.mark.req("SRS-082", "SRS-086")
def test_missing_checklist_without_a_terminal_is_refused(tmp_path, capsys, no_energy):
    err = refused(capsys, base(tmp_path, **{"--checklist": None}))
    assert "--checklist FILE is required" in err


@pytest.mark.req("SRS-082")
def test_missing_files_are_refused(tmp_path, capsys, no_energy):
    err = refused(capsys, base(tmp_path, **{"--checklist": str(tmp_path / "none.yaml")}))
    assert "none.yaml" in err and "cannot read" in err
    err = refused(capsys, base(tmp_path) + ["--scenario", str(tmp_path / "none.yaml")])
    assert "none.yaml" in err and "does not exist" in err
    err = refused(capsys, base(tmp_path) + ["--trace", str(tmp_path / "no" / "dir" / "t.csv")])
    assert "--trace" in err and "t.csv" in err
    err = refused(capsys, base(tmp_path, **{"--db": str(tmp_path)}))
    assert "--db" in err and "directory" in err
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all" * 100)
    err = refused(capsys, base(tmp_path, **{"--db": str(junk)}))
    assert "junk.sqlite" in err
    assert junk.read_text() == "not a database at all" * 100   # left unchanged


@pytest.mark.req("SRS-082", "SRS-072")
def test_last_with_empty_history_is_refused(tmp_path, capsys, no_energy):
    err = refused(capsys, ["session", "--last", "--checklist", CHECKLIST,
                           "--db", str(tmp_path / "h.sqlite")])
    assert "--last" in err and "no session" in err


@pytest.mark.req("SRS-082", "SRS-084")
def test_refusal_with_json_prints_a_refused_summary(tmp_path, capsys, no_energy):
    code = cli.main(base(tmp_path, **{"--current": "99"}) + ["--json"])
    out, err = capsys.readouterr()
    assert code == 1
    summary = json.loads(out)
    assert summary["outcome"] == "refused" and summary["delivered_mAmin"] == 0
    assert SUMMARY_KEYS <= set(summary) and "99" in summary["reason"]


# --- features -------------------------------------------------------------------
@pytest.mark.req("SRS-072", "SRS-080")
def test_last_takes_the_settings_of_the_last_session_and_options_override(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    first = ["session", "--site", "feet", "--current", "12", "--minutes", "10", "--ramp-up",
             "20", "--ramp-down", "40", "--reverse-polarity", "--checklist", CHECKLIST,
             "--db", db, "--json", "--now", "2026-12-01T08:00:00Z"]   # days apart: SRS-073
    assert cli.main(first) == 0
    capsys.readouterr()
    assert cli.main(["session", "--last", "--checklist", CHECKLIST, "--db", db, "--json",
                     "--now", "2026-12-02T08:00:00Z"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["site"], again["current_mA"], again["minutes"]) == ("feet", 12, 10)
    assert "polarity_switch" in again["states"]
    assert cli.main(["session", "--last", "--current", "13", "--no-reverse-polarity",
                     "--checklist", CHECKLIST, "--db", db, "--json",
                     "--now", "2026-12-03T08:00:00Z"]) == 0
    third = json.loads(capsys.readouterr().out)
    assert third["current_mA"] == 13 and "polarity_switch" not in third["states"]
    with History(db) as h:
        records = h.list_sessions()
    assert [r.settings["ramp_down_s"] for r in records] == [40, 40, 40]
    assert [r.settings["current_ma"] for r in records] == [12, 12, 13]


@pytest.mark.req("SRS-085")
def test_trace_has_the_columns_and_one_row_per_10ms(tmp_path, capsys):
    trace = tmp_path / "t.csv"
    assert cli.main(session_args(tmp_path, "--trace", str(trace), "--reverse-polarity")) == 0
    summary = json.loads(capsys.readouterr().out)
    with trace.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    t = [float(r["t_s"]) for r in rows]
    assert t[0] <= 0.01 and all(0 < b - a <= 0.01 + 1e-9 for a, b in zip(t, t[1:]))
    assert t[-1] == pytest.approx(600 + 4 * 30, abs=0.1)   # 4 ramps of 30 s around 10 min
    assert {r["state"] for r in rows} == set(summary["states"]) - {"idle", "checklist"}
    # the polarity changes once, after a row at |I| <= 0.1 mA in polarity_switch
    flips = [i for i in range(1, len(rows)) if rows[i]["polarity"] != rows[i - 1]["polarity"]]
    assert len(flips) == 1 and rows[flips[0]]["polarity"] == "reversed"
    before = rows[flips[0] - 1]
    assert before["state"] == "polarity_switch" and float(before["peak_mA"]) <= 0.1
    assert all(r["fault"] == "none" for r in rows)
    assert max(float(r["peak_mA"]) for r in rows) == pytest.approx(summary["max_current_mA"],
                                                                   abs=1e-3)


@pytest.mark.req("SRS-087")
def test_history_lists_sessions(tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert cli.main(["history", "--db", db]) == 0
    assert "no sessions" in capsys.readouterr().out
    scenario = write_scenario(tmp_path, "- {at_s: 50, event: stop}\n")
    # a day apart: one session per site in 24 h (SRS-073)
    cli.main(session_args(tmp_path, "--scenario", scenario, "--now", "2026-12-01T08:00:00Z"))
    cli.main(session_args(tmp_path, "--now", "2026-12-02T08:00:00Z"))
    capsys.readouterr()
    assert cli.main(["history", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "stopped" in lines[0] and "completed" in lines[1]
    assert cli.main(["history", "--db", db, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["outcome"] for r in listed] == ["stopped", "completed"]
    assert listed[1]["delivered_mAmin"] == pytest.approx(157.5, rel=0.01)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.req("SRS-086", "SRS-042")
def test_interactive_checklist_on_a_terminal(tmp_path, monkeypatch, capsys, no_energy):
    # every contraindication "no" except the first, every step "yes": refused naming it
    answers = "y\n" + "n\n" * 11 + "y\n" * 3
    monkeypatch.setattr(sys, "stdin", _Tty(answers))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    err = refused(capsys, base(tmp_path, **{"--checklist": None}))
    assert "Are you pregnant?" in err and "Is there large skin damage" in err
    assert "contraindication pregnancy" in err


@pytest.mark.req("SRS-086", "SRS-088")
def test_interactive_checklist_passes_and_live_view_goes_to_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Tty("n\n" * 12 + "maybe\n" + "y\n" * 3))
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    code = cli.main(base(tmp_path, **{"--checklist": None}) + ["--json"])
    out = capsys.readouterr().out
    err = tty.getvalue()
    assert code == 0
    assert json.loads(out)["outcome"] == "completed"     # stdout: the summary only
    assert "please answer y or n" in err
    last_line = err.split("\r")[-1]
    for word in ("idle", "mA", " V ", "kOhm", "% flowing", "0:00 left", "[" + "#" * 24 + "]"):
        assert word in last_line, last_line
    assert "trays" in err                                   # site instructions shown


@pytest.mark.req("SRS-088")
def test_live_view_line_shows_state_current_voltage_load_flowing_time_left_and_bar():
    from core.liveview import format_line
    line = format_line("treat", 12.0, 24.0, 2000.0, 0.8, 125.0, 0.5)
    assert line.startswith("treat")
    for word in ("12.00 mA", "24.0 V", "2.00 kOhm", "80% flowing", "2:05 left",
                 "[" + "#" * 12 + "." * 12 + "]"):
        assert word in line


@pytest.mark.req("SRS-069", "SRS-054", "SRS-081")
def test_realtime_session_paced_by_the_clock_and_ctrl_c_is_a_controlled_stop(tmp_path):
    import signal
    import time
    argv = [sys.executable, "-m", "core.cli", *session_args(tmp_path, "--realtime")]
    proc = subprocess.Popen(argv, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    db = tmp_path / "h.sqlite"
    deadline = time.monotonic() + 30
    while not db.exists() and time.monotonic() < deadline:   # the session has started
        time.sleep(0.05)
    time.sleep(1.0)
    t_stop = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    ramp_down_wall_s = time.monotonic() - t_stop
    assert proc.returncode == 4, err
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["outcome"] == "stopped"
    assert summary["states"][-3:] == ["ramp", "ramp_down", "idle"]
    # paced: about 1 s of ramp at 0.5 mA/s, then the same current ramps down in real time
    peak = summary["max_current_mA"]
    assert 0.2 < peak < 3.0
    assert ramp_down_wall_s >= peak / 0.5 * 0.8
