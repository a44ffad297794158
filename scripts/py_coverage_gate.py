#!/usr/bin/env python3
"""Coverage gate of the Python core (issue 12 point 3): reads the data that
`coverage run --branch --source=core` left from the pytest step, writes
out/coverage-python.json (per module: lines and branches) and fails when
the branch coverage of core/ is below PY_BRANCH_MIN, or that of one module
below its floor in MODULE_BRANCH_MIN. The issue's goal is 95 % of core/. The
total's floor (PY_BRANCH_MIN, default 88) is armed from full runs of the whole suite:
88.8 % (1216/1370) at e1d5952 under `coverage run`, 88.5 % (1213/1370) at
f43649a under pytest-xdist with the two real-time tests skipped on a loaded
machine; it may only rise.
Usage: py_coverage_gate.py DATA_FILE [min_branch_percent]"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import coverage


# Branch floors per module (percent), armed: each is a lower bound of what CI
# measures, taken from tests/core + tests/cli alone (CI runs those and more),
# less about two branches of slack for paths that only the hypothesis tests
# reach on some seeds. They only rise. Measured 2026-12-01 (covered/branches):
# checklist 30/30, cli 94/108, device 2/2, history 67/70, limits 6/6,
# machine 14/14, regulator 29/54 (tests/regulator not run), scenario 46/46,
# settings 50/52, supervisor 221/240, trace 2/2. Modules not listed (realtime,
# verification/, users, course: measured by other test folders) have no floor.
# Floors added 2026-12-01 from the full xdist run at f43649a: cli_users 77/84,
# course 65/70, users 38/44 (the course and user modules of issue 11).
MODULE_BRANCH_MIN = {
    "core/cli_users.py": 85, "core/course.py": 88, "core/users.py": 80,
    "core/checklist.py": 96, "core/cli.py": 85, "core/device.py": 50, "core/history.py": 92,
    "core/limits.py": 83, "core/machine.py": 92, "core/regulator.py": 50, "core/scenario.py": 95,
    "core/settings.py": 94, "core/supervisor.py": 91, "core/trace.py": 50,
}


def main() -> int:
    data_file = sys.argv[1]
    minimum = float(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PY_BRANCH_MIN", "88"))
    cov = coverage.Coverage(data_file=data_file, branch=True, source=["core"])
    cov.load()
    out = pathlib.Path("out")
    raw = out / "coverage-python-raw.json"
    cov.json_report(outfile=str(raw))
    data = json.loads(raw.read_text())
    modules = {}
    for path, f in sorted(data["files"].items()):
        s = f["summary"]
        modules[path] = {"lines": s["num_statements"], "lines_covered": s["covered_lines"],
                         "branches": s["num_branches"], "branches_covered": s["covered_branches"],
                         "line_percent": round(100.0 * s["covered_lines"] / max(1, s["num_statements"]), 1),
                         "branch_percent": round(100.0 * s["covered_branches"] / max(1, s["num_branches"]), 1)}
    t = data["totals"]
    branch_pct = 100.0 * t["covered_branches"] / max(1, t["num_branches"])
    line_pct = 100.0 * t["covered_lines"] / max(1, t["num_statements"])
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    for path, floor in MODULE_BRANCH_MIN.items():
        if path in modules:
            modules[path]["branch_min_percent"] = floor
    (out / "coverage-python.json").write_text(json.dumps({
        "commit": commit, "source": "core/", "line_percent": round(line_pct, 2),
        "branch_percent": round(branch_pct, 2), "branch_min_percent": minimum, "modules": modules}, indent=2) + "\n")
    raw.unlink()
    for path, m in modules.items():
        print(f"    {path:32s} lines {m['line_percent']:5.1f} %  branches {m['branch_percent']:5.1f} % "
              f"({m['branches_covered']}/{m['branches']})")
    print(f"coverage (python): core/ lines {line_pct:.1f} %, branches {branch_pct:.1f} % "
          f"({t['covered_branches']}/{t['num_branches']}); gate {minimum:.0f} % of branches; out/coverage-python.json")
    below = [f"{path} {modules[path]['branch_percent']:.1f} % < {floor} %"
             for path, floor in sorted(MODULE_BRANCH_MIN.items())
             if path in modules and modules[path]["branch_percent"] < floor]
    missing = sorted(set(MODULE_BRANCH_MIN) - set(modules))
    for text in below:
        print(f"coverage (python): module below its branch floor: {text}")
    for path in missing:
        print(f"coverage (python): no coverage data for {path}")
    return 0 if branch_pct >= minimum and not below and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
