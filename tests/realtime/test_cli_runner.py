"""`ionto session --realtime --runner`: bad combinations are refused before
anything is energised, with a message naming the option (SRS-216)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


def _session(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "core.cli", "session", "--site", "hands", "--current", "5",
            "--minutes", "10", "--checklist", CHECKLIST, "--seed", "1",
            "--db", str(tmp_path / "h.sqlite"), "--json", *extra]
    return subprocess.run(argv, cwd=ROOT, text=True, capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)


@pytest.mark.req("SRS-216")
def test_runner_without_realtime_is_refused(tmp_path):
    proc = _session(tmp_path, "--runner")
    assert proc.returncode == 1
    assert "--runner needs --realtime" in proc.stderr
    assert "nothing was energised" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.req("SRS-216")
def test_a_clock_drift_scenario_is_refused_with_the_runner(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("- {at_s: 5, event: clock_drift, percent: 1}\n")
    proc = _session(tmp_path, "--realtime", "--runner", "--scenario", str(scenario))
    assert proc.returncode == 1
    assert "clock_drift" in proc.stderr and "--runner" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.req("SRS-216")
@pytest.mark.parametrize("call, field", [
    (lambda: __import__("core.realtime").realtime.RealtimeDevice(seed=-1), "seed"),
    (lambda: __import__("core.realtime").realtime.RealtimeDevice(seed="1"), "seed"),
    (lambda: __import__("core.realtime").realtime.RealtimeDevice(load_ohms=99), "load_ohms"),
])
def test_a_realtime_device_with_bad_arguments_is_refused_naming_the_field(call, field):
    from core.regulator import CommandRejected
    with pytest.raises(CommandRejected, match=field):
        call()


@pytest.mark.req("SRS-216")
def test_out_of_range_commands_are_refused_before_they_reach_the_loop():
    from core.realtime import RealtimeDevice
    from core.regulator import CommandRejected
    dev = RealtimeDevice(seed=1)
    try:
        seq0 = dev.status().applied_seq
        for call, field in [(lambda: dev.command(30.001, 1.0), "target_ma=30.001 is out of range: allowed 0 to 30 mA"),
                            (lambda: dev.command(5.0, 0.0), "slew_ma_per_s=0.0 is out of range"),
                            (lambda: dev.command(float("nan"), 1.0), "target_ma=nan"),
                            (lambda: dev.set_polarity(2), "polarity=2 is out of range"),
                            (lambda: dev.enable_output("yes"), "on="),
                            (lambda: dev.short(0), "short_ohms=0 is out of range"),
                            (lambda: dev.stall(-1), "stall_ms=-1 is out of range"),
                            (lambda: dev.advance(0, 100), "max_rows=0 is out of range"),
                            (lambda: dev.advance(1, 0), "ticks_per_row=0 is out of range")]:
            with pytest.raises(CommandRejected, match=field.replace("(", r"\(").replace(".", r"\.")):
                call()
        assert dev.status().applied_seq == seq0    # nothing was posted
    finally:
        dev.close()
