"""Issue 14 "Done when": a pulsed underarm session and a pulsed hands session
run end to end with `ionto session` as a user runs it (a separate process,
stdin not a terminal), each with its trace (SRS-300, SRS-301)."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CHECKLIST = str(ROOT / "examples" / "checklist.yaml")


@pytest.mark.req("SRS-300", "SRS-301")
@pytest.mark.parametrize("site,set_ma,extra", [
    ("underarms", 5.0, []),                                   # pulsed by the site's default
    ("hands", 15.0, ["--mode", "pulsed", "--pulse-khz", "5", "--duty", "50"]),
])
def test_a_pulsed_session_runs_end_to_end_with_its_trace(tmp_path, site, set_ma, extra):
    trace = tmp_path / "trace.csv"
    p = subprocess.run([sys.executable, "-m", "core.cli", "session", "--site", site, "--current", f"{set_ma:g}",
                        "--minutes", "10", "--checklist", CHECKLIST, "--seed", "1",
                        "--db", str(tmp_path / "h.sqlite"), "--json", "--trace", str(trace), *extra],
                       cwd=ROOT, text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["outcome"] == "completed" and summary["mode"] == "pulsed"
    assert summary["states"] == ["idle", "checklist", "ramp", "treat", "ramp_down", "idle"]
    assert summary["treat_s"] == pytest.approx(600, abs=0.01)
    rows = list(csv.DictReader(trace.open()))
    treat = [r for r in rows if r["state"] == "treat"]
    assert len(treat) == pytest.approx(60_000, abs=2)                # one row per 10 ms
    peaks = [float(r["peak_mA"]) for r in rows]
    # the set current is the peak: held within SRS-002 in treat, never above SRS-003's bound
    assert max(peaks) <= set_ma * 1.02 + 0.1
    assert min(float(r["peak_mA"]) for r in treat) >= set_ma - max(0.01 * set_ma, 0.05)
    assert max(peaks) == pytest.approx(summary["peak_current_mA"], abs=1e-4)
    # the mean (current_mA) is about half the peak at 50 %: what the skin receives
    mean_ma = sum(float(r["current_mA"]) for r in treat) / len(treat)
    assert 0.45 * set_ma <= mean_ma <= 0.5 * set_ma
    assert mean_ma == pytest.approx(summary["mean_current_mA"], rel=0.001)
