"""The audit report's example course (SRS-199, SRS-230): the section lays out
what scripts/example_course.py wrote (course.json, transcript.json, chart),
says clearly when it is missing, and the main job produces it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from traceability.check import run_check
from traceability.course_section import COURSE_JSON, TRANSCRIPT_JSON, example_course
from traceability.report import write_report

ROOT = Path(__file__).parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def session(sid: int, day: int, current: float, polarity: str, hdss, treat_s=600.0) -> dict:
    return {"session_id": sid, "started_at": f"2026-01-{day:02d}T07:00:00.000+00:00",
            "outcome": "completed", "current_mA": current, "treat_s": treat_s,
            "start_polarity": polarity, "counts": treat_s >= 600, "hdss": hdss, "discomfort": False}


def write_course(repo, chart: Path | None) -> None:
    course = {"user": "example", "site": "hands", "phase": "maintenance", "hdss": 2,
              "target_sessions": 12, "sessions_done": 3, "sessions_to_go": 0, "per_month": 2,
              "alternate_polarity": True, "maintenance_since": "2026-01-06T07:00:00.000+00:00",
              "next_allowed": "2026-01-11T15:00:00.000+00:00", "next_due": "2026-01-24T07:00:00.000+00:00",
              "last_settings": {}, "suggestion": {"settings": {"current_ma": 11.0, "minutes": 10,
                                                               "start_polarity": "normal"},
                                                  "reason": "maintenance: last current kept"},
              "sessions": [session(1, 5, 10.0, "normal", 1), session(2, 6, 11.0, "normal", 1),
                           session(3, 9, 11.0, "reversed", None)],
              "chart": None if chart is None else str(chart)}
    steps = [{"command": "ionto session --suggested --now 2026-01-09T08:00:00+01:00", "exit": 0,
              "expected": 0, "stdout": json.dumps({"outcome": "completed", "current_mA": 11.0,
                                                    "treat_s": 600.0}),
              "stderr": "suggestion for example, hands: 11 mA, 10 min, polarity reversed (x)\nFill the trays"},
             {"command": "ionto session --suggested --now 2026-01-10T08:00:00+01:00", "exit": 1,
              "expected": 1, "stdout": "",
              "stderr": "ionto: refused: frequency guard: ...; next allowed 2026-01-11T16:00+01:00"}]
    repo.write(COURSE_JSON, json.dumps([course]))
    repo.write(TRANSCRIPT_JSON, json.dumps(steps))


@pytest.mark.req("SRS-199", "SRS-230")
def test_the_report_shows_the_example_course_with_its_chart_sessions_and_refusal(repo, tmp_path):
    chart = repo.path("out/course/history-course-example-hands.png")
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_bytes(PNG)
    write_course(repo, chart)
    out = tmp_path / "report"
    write_report(run_check(repo.root), out)
    page, md = (out / "verification.html").read_text(), (out / "report.md").read_text()
    assert (out / "course-example.png").read_bytes() == PNG
    assert 'src="course-example.png"' in page and "](course-example.png)" in md
    assert '<h2 id="course">Example course (simulated)</h2>' in page and "## Example course (simulated)" in md
    assert '<a href="#course">Example course</a>' in page
    assert "<b>maintenance</b> phase, 3 sessions counted (target 12" in page
    # one row per session, with the polarity it started with and the score
    for row in ("<td>#1</td><td>2026-01-05 07:00</td><td>10.0</td><td>10.0</td><td>normal</td><td>yes</td><td>1</td>",
                "<td>#3</td><td>2026-01-09 07:00</td><td>11.0</td><td>10.0</td><td>reversed</td><td>yes</td><td></td>"):
        assert row in page
    assert "| #3 | 2026-01-09 07:00 | 11.0 | 10.0 | reversed | yes |  | completed |" in md
    # the commands: the suggestion and outcome in one line, the refusal with its next allowed time
    assert ("suggestion for example, hands: 11 mA, 10 min, polarity reversed (x); completed: 11 mA, "
            "treated 10.0 min") in page
    assert "next allowed 2026-01-11T16:00+01:00" in page and "(1 refused, exit 1)" in page
    assert "did not end as the example expects" not in page


@pytest.mark.req("SRS-199")
def test_a_missing_example_course_is_said_with_how_to_make_it(repo, tmp_path):
    write_report(run_check(repo.root), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert (f"not available: {COURSE_JSON}, {TRANSCRIPT_JSON} not found (run `bash scripts/dev.sh demo` "
            "or `python scripts/example_course.py`)") in md
    assert not (tmp_path / "course-example.png").exists()


@pytest.mark.req("SRS-199")
def test_damaged_example_files_are_named_not_a_traceback(repo, tmp_path):
    repo.write(COURSE_JSON, "[{]")
    repo.write(TRANSCRIPT_JSON, "[]")
    got = example_course(repo.root, tmp_path)
    assert got["present"] is False
    assert got["note"].startswith("not available: out/course has unexpected content (JSONDecodeError")


@pytest.mark.req("SRS-199")
def test_a_step_that_ended_otherwise_is_shown(repo, tmp_path):
    write_course(repo, None)
    steps = json.loads(repo.path(TRANSCRIPT_JSON).read_text())
    steps[1]["exit"] = 0            # the refusal did not happen
    repo.write(TRANSCRIPT_JSON, json.dumps(steps))
    write_report(run_check(repo.root), tmp_path)
    page = (tmp_path / "verification.html").read_text()
    assert "did not end as the example expects" in page and "(exit 0)" in page
    assert "chart not found" in page


@pytest.mark.slow
@pytest.mark.req("SRS-073", "SRS-194", "SRS-197", "SRS-199", "SRS-230")
def test_the_main_jobs_example_course_runs_day_by_day_into_maintenance(tmp_path):
    out = tmp_path / "course"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "example_course.py"), str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (course,) = json.loads((out / "course.json").read_text())
    steps = json.loads((out / "transcript.json").read_text())
    assert (course["phase"], course["sessions_done"], course["per_month"], course["alternate_polarity"]) == \
        ("maintenance", 11, 2, True)
    assert course["maintenance_since"] == "2026-01-15T07:00:00.000+00:00"        # 2nd HDSS 1 in a row
    assert [s["current_mA"] for s in course["sessions"]] == [10, 11, 12, 13, 14, 15, 16, 17, 18, 18, 18]
    assert [s["start_polarity"] for s in course["sessions"]] == ["normal"] * 9 + ["reversed", "normal"]
    refused = [s["stderr"] for s in steps if s["exit"] == 1]
    assert len(refused) == 2 and all(s["exit"] == s["expected"] for s in steps)
    assert "at most 5 sessions per site in 7 days" in refused[0]
    assert "next allowed 2026-01-12T08:00+01:00" in refused[0]                  # 5th session + 7 days
    assert "at least 56 h between maintenance sessions" in refused[1]
    assert "next allowed 2026-01-20T16:00+01:00" in refused[1]                  # 18 Jan 08:00 + 56 h
    chart = Path(course["chart"])
    assert chart == out / "history-course-example-hands.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
