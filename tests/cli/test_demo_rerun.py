"""The main job's demo session runs again and again (SRS-199; independent
review of issue 11: the second run within 24 h was refused by the frequency
guard and printed the previous run's trace path)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def demo_session(out: Path, venv: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, IONTO_OUT=str(out), IONTO_VENV=str(venv))
    return subprocess.run(["bash", str(ROOT / "scripts" / "dev.sh"), "demo-session"], cwd=ROOT,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def trace_line(stdout: str) -> str:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("trace:")]
    return line


@pytest.mark.req("SRS-199", "SRS-073")
def test_the_demo_session_completes_on_three_runs_in_a_row(tmp_path):
    venv = Path(sys.prefix)
    for run in (1, 2, 3):   # within seconds: a shared history would refuse runs 2 and 3 (24 h)
        proc = demo_session(tmp_path, venv)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        summary = json.loads((tmp_path / "demo-summary.json").read_text())
        assert summary["outcome"] == "completed" and summary["treat_s"] == 600
        assert summary["current_mA"] == 15 and summary["session_id"] == 1   # a fresh history
        assert trace_line(proc.stdout) == f"trace:   {tmp_path.resolve()}/demo-trace.csv"
        assert (tmp_path / "demo-trace.csv").stat().st_size > 0
        assert (tmp_path / "history.previous.sqlite").exists() == (run > 1)


@pytest.mark.req("SRS-199")
def test_a_failed_demo_session_prints_no_stale_trace_path(tmp_path):
    """An `ionto` that refuses (exit 1, no trace): the last run's trace is
    gone and no trace path is printed; the exit code is the session's."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "ionto"
    fake.write_text('#!/bin/sh\necho \'{"outcome": "refused"}\'\necho "ionto: refused: test" >&2\nexit 1\n')
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo-trace.csv").write_text("t_s,state\n0.0,IDLE\n")   # the previous run's
    proc = demo_session(out, venv)
    assert proc.returncode == 1
    assert trace_line(proc.stdout) == "trace:   none (the session wrote no trace)"
    assert not (out / "demo-trace.csv").exists() and "session exit code: 1" in proc.stdout
