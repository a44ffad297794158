"""ThreadSanitizer over the runner: commands, load events, status and row
reads from one thread while the runner ticks, then a stall (SRS-212,
SRS-213). The harness is tests/realtime/tsan_harness.c, built here with
-fsanitize=thread against the C sources themselves."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SOURCES = ["cext/runner.c", "cext/hal_sim.c", "cext/simload.c", "cext/regulator.c", "cext/arming.c"]


@pytest.mark.req("SRS-212", "SRS-213")
def test_the_runner_is_clean_under_thread_sanitizer(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "tsan_runner"
    build = subprocess.run([cc, "-std=c99", "-D_POSIX_C_SOURCE=200809L", "-g", "-O1", "-fsanitize=thread",
                            "-Wno-tsan", "-Icext", "tests/realtime/tsan_harness.c", *SOURCES,
                            "-lm", "-lpthread", "-o", str(exe)],
                           cwd=ROOT, capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        pytest.skip(f"this compiler cannot build with ThreadSanitizer: {build.stderr[:200]}")
    assert build.returncode == 0, build.stderr
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
    assert "ThreadSanitizer" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    ticks = int(run.stdout.split()[1])
    assert ticks > 0   # the runner ticked while the harness posted
