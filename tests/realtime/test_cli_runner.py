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
