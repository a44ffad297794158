"""The example course of the main job (issue 11, SRS-199): one simulated user
runs an initial course day by day with `--now`, passes into maintenance with
alternating polarity (SRS-230), and is refused once with the next allowed
time. Each command runs as a user would type it (`ionto`, no terminal), into a
fresh history under OUT; the audit report shows the result
(traceability/course_section.py).

    python scripts/example_course.py [OUT]      (default out/course)

Writes OUT/history.sqlite, its chart OUT/history-course-example-hands.png,
OUT/course.json (`ionto course --json`) and OUT/transcript.json (every
command with its exit code and output). Exits 1 when a step did not end as
the course expects (a session refused that should run, or the reverse).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKLIST = "examples/checklist.yaml"
USER, SITE = "example", "hands"
DAY1 = datetime.fromisoformat("2026-01-05T08:00:00+01:00")   # a Monday
# (day, what, expected exit): HDSS scores fall as sweating improves; two
# scores of 1 in a row end the initial phase (SRS-197)
PLAN = [
    (1, "first", 0), (2, "suggested", 0), (3, "suggested", 0), (4, "suggested", 0),
    (5, "suggested", 0),
    (6, "suggested", 1),          # 6th session in 7 days: refused with the next allowed time
    (8, "suggested", 0), (9, "suggested", 0), (10, "suggested", 0),
    (11, "choose", 0),            # alternating polarity chosen; the 2nd score of 1 ends the initial phase
    (14, "suggested", 0),         # first maintenance session: polarity reversed
    (15, "suggested", 1),         # 56 h since day 14 not over: refused
    (29, "suggested", 0),         # back to normal polarity
]
SCORES = {1: 3, 2: 3, 3: 3, 4: 2, 5: 2, 6: 2, 7: 2, 8: 1, 9: 1}   # session id -> HDSS


def at(day: int, hour: int = 8) -> str:
    return (DAY1 + timedelta(days=day - 1, hours=hour - 8)).isoformat()


class Transcript:
    def __init__(self, ionto: str, out: Path) -> None:
        self.ionto, self.out, self.steps = ionto, out, []

    def run(self, *argv: str, expect: int = 0) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.ionto, *argv], cwd=ROOT, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300)
        shown = " ".join(a if a != str(self.db) else os.path.relpath(a, ROOT) for a in argv)
        self.steps.append({"command": f"ionto {shown}", "exit": proc.returncode,
                           "expected": expect, "stdout": proc.stdout.strip(),
                           "stderr": proc.stderr.strip()})
        return proc

    @property
    def db(self) -> Path:
        return self.out / "history.sqlite"


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else ROOT / "out" / "course").resolve()
    if out.exists():
        shutil.rmtree(out)       # a fresh history each run: the course starts on day 1
    out.mkdir(parents=True)
    ionto = shutil.which("ionto") or str(Path(sys.executable).with_name("ionto"))
    t = Transcript(ionto, out)
    db = str(t.db)
    t.run("user", "add", USER, "--born", "1988", "--hdss", "2", "--sites", SITE, "--db", db,
          "--now", at(1))
    session = ["--user", USER, "--site", SITE, "--checklist", CHECKLIST, "--db", db, "--json"]
    sid = 0
    for day, what, expect in PLAN:
        if what == "first":
            t.run("session", *session, "--current", "10", "--minutes", "10", "--now", at(day))
        else:
            if what == "choose":
                t.run("course", "set", "--user", USER, "--site", SITE, "--per-month", "2",
                      "--alternate-polarity", "--db", db, "--now", at(day - 1, 20))
            t.run("session", *session, "--suggested", "--yes", "--now", at(day), expect=expect)
        if t.steps[-1]["exit"] == 0:
            sid += 1
            if sid in SCORES:
                t.run("course", "score", "--user", USER, "--session", str(sid),
                      "--hdss", str(SCORES[sid]), "--db", db, "--now", at(day, 9))
    proc = t.run("course", "--user", USER, "--site", SITE, "--db", db, "--json",
                 "--now", at(PLAN[-1][0], 12))
    (out / "transcript.json").write_text(json.dumps(t.steps, indent=1), encoding="utf-8")
    bad = [s for s in t.steps if s["exit"] != s["expected"]]
    if proc.returncode == 0:
        (out / "course.json").write_text(proc.stdout, encoding="utf-8")
    for s in t.steps:   # the command, then what it said: the suggestion or refusal, the outcome
        said = [ln for ln in s["stderr"].splitlines() if ln.startswith(("suggestion", "ionto:"))]
        said += s["stdout"].splitlines()[:1] if s["command"].startswith("ionto session") else []
        print(f"[exit {s['exit']}] {s['command']}")
        for line in said or s["stdout"].splitlines()[-1:]:
            print(f"    {line[:200]}")
    for s in bad:
        print(f"example course: {s['command']!r} ended {s['exit']}, expected {s['expected']}",
              file=sys.stderr)
    return 1 if bad or proc.returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
