"""The audit report's example course (issue 11, SRS-199, SRS-230): the course
the main job runs (scripts/example_course.py) as its chart, its sessions and
the commands with their answers. Reads the files that script writes; never
imports core. The code computes; _course.html.j2 / _course.md.j2 lay out.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

COURSE_DIR = "out/course"
COURSE_JSON = f"{COURSE_DIR}/course.json"
TRANSCRIPT_JSON = f"{COURSE_DIR}/transcript.json"
CHART_NAME = "course-example.png"      # the chart's name inside the report
HOW = "run `bash scripts/dev.sh demo` or `python scripts/example_course.py`"


def _said(step: dict[str, Any]) -> str:
    """What a command answered, in one line: the suggestion and the outcome of
    a session, the refusal, or the last line printed."""
    err = [ln for ln in step.get("stderr", "").splitlines()
           if ln.startswith(("suggestion", "ionto:"))]
    out = step.get("stdout", "").splitlines()
    if step["command"].startswith("ionto session") and out:
        try:
            summary = json.loads(out[0])
            err.append(f"{summary['outcome']}: {summary['current_mA']:g} mA, "
                       f"treated {summary['treat_s'] / 60:.1f} min")
        except (ValueError, KeyError, TypeError):
            err.append(out[0])
    elif not err and out:
        err.append(out[-1] if not out[-1].startswith("[") else "(course as JSON)")
    return "; ".join(err)


def example_course(root: Path, out: Path) -> dict[str, Any]:
    """The section's data; `note` says where it comes from or why it is missing."""
    course_path, steps_path = root / COURSE_JSON, root / TRANSCRIPT_JSON
    missing = [p for p in (COURSE_JSON, TRANSCRIPT_JSON) if not (root / p).exists()]
    if missing:
        return {"present": False, "note": f"not available: {', '.join(missing)} not found ({HOW})"}
    try:
        (course,) = json.loads(course_path.read_text(encoding="utf-8"))
        steps = json.loads(steps_path.read_text(encoding="utf-8"))
        sessions = [{"id": s["session_id"], "started_at": s["started_at"][:16].replace("T", " "),
                     "current_mA": s["current_mA"], "treat_min": round(s["treat_s"] / 60, 1),
                     "polarity": s.get("start_polarity", "normal"), "counts": s["counts"],
                     "hdss": s["hdss"], "outcome": s["outcome"]} for s in course["sessions"]]
        commands = [{"command": st["command"], "exit": st["exit"], "said": _said(st),
                     "as_expected": st["exit"] == st.get("expected", st["exit"])} for st in steps]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {"present": False, "note": f"not available: {COURSE_DIR} has unexpected content "
                                          f"({type(exc).__name__}: {exc}); {HOW}"}
    chart = None
    source = Path(course.get("chart") or "")
    if source.is_file():
        shutil.copyfile(source, out / CHART_NAME)
        chart = CHART_NAME
    refusals = [c for c in commands if c["exit"] == 1]
    return {
        "present": True, "chart": chart, "sessions": sessions, "commands": commands,
        "user": course["user"], "site": course["site"], "phase": course["phase"],
        "done": course["sessions_done"], "target": course["target_sessions"],
        "per_month": course["per_month"], "alternate": course.get("alternate_polarity", False),
        "maintenance_since": course["maintenance_since"], "next_allowed": course["next_allowed"],
        "next_due": course["next_due"], "suggestion": course["suggestion"],
        "refusals": len(refusals), "unexpected": [c for c in commands if not c["as_expected"]],
        "note": f"{COURSE_JSON} and {TRANSCRIPT_JSON}: {len(commands)} commands, "
                f"{len(sessions)} sessions, {len(refusals)} refused"
                + ("" if chart else "; chart not found"),
    }
