#!/usr/bin/env python3
"""Coverage gate of the Python core (issue 12 point 3): reads the data that
`coverage run --branch --source=core` left from the pytest step, writes
out/coverage-python.json (per module: lines and branches) and fails when
the branch coverage of core/ is below PY_BRANCH_MIN, or that of one module
below its floor in MODULE_BRANCH_MIN (SRS-296). The total's floor
(PY_BRANCH_MIN, default 95, the issue's goal) is armed from full runs of the
whole suite under pytest-xdist: 88.5-88.8 % (e1d5952, f43649a), then 96.6 %
(1470/1522) at ab10def with the coverage tests of stop 20 (one of them not
collected, so a lower bound); it may only rise.
Usage: py_coverage_gate.py DATA_FILE [min_branch_percent]"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import coverage


# Branch floors per module (percent), armed: each is a lower bound of what CI
# measures, less about two branches of slack for paths that only the
# hypothesis tests reach on some seeds, or that only the real-time tests reach
# when this VM wakes the loop in time (they skip otherwise). They only rise.
# Measured 2026-12-01 (covered/branches), full xdist run at ab10def: checklist
# 30/30, checklist_version 2/2 (s24), cli 112/120, cli_users 119/120, course 124/124, course_chart 10/10,
# device 2/2, history 78/82, limits 6/6, machine 14/14, realtime 75/82 (a
# real-time test skipped), regulator 51/54, scenario 46/46, settings 52/54,
# supervisor 241/254, trace 2/2, users 66/66, liveview 4/4; verification/ diagram 8/8, explore 149/150,
# formula 74/74, introspect 43/44, mutate 48/48, promela 45/46, properties 46/46
# (verification/cli.py 36/36 in tests/verification alone).
# realtime raised 85 -> 95 on 2026-12-02: the stop CI at dab77a3 measured 68/82
# (82.9 %) with six real-time tests skipped on a late VM; the branches now rest
# on tests that do not need a ticking loop (tests/core/test_realtime_wrapper.py
# with the argument and start tests of test_cov_realtime.py: 81/82 alone).
MODULE_BRANCH_MIN = {
    "core/checklist.py": 96, "core/checklist_version.py": 100, "core/cli.py": 90, "core/cli_users.py": 96, "core/course.py": 97,
    "core/course_chart.py": 80, "core/device.py": 50, "core/history.py": 92, "core/limits.py": 83,
    "core/liveview.py": 75, "core/machine.py": 92, "core/realtime.py": 95, "core/regulator.py": 90, "core/scenario.py": 95,
    "core/settings.py": 94, "core/supervisor.py": 93, "core/trace.py": 50, "core/users.py": 96,
    "core/verification/cli.py": 90, "core/verification/diagram.py": 85, "core/verification/explore.py": 97,
    "core/verification/formula.py": 97, "core/verification/introspect.py": 93,
    "core/verification/mutate.py": 95, "core/verification/promela.py": 93,
    "core/verification/properties.py": 95,
}


def failures(branch_pct: float, minimum: float, modules: dict[str, dict],
             floors: dict[str, float]) -> list[str]:
    """Why the gate fails (empty: it passes): the total below the minimum, a
    module below its floor, a module with a floor but no data."""
    why = []
    if branch_pct < minimum:
        why.append(f"core/ branches {branch_pct:.2f} % < {minimum:.0f} %")
    why += [f"module below its branch floor: {path} {modules[path]['branch_percent']:.1f} % < {floor} %"
            for path, floor in sorted(floors.items())
            if path in modules and modules[path]["branch_percent"] < floor]
    why += [f"no coverage data for {path}" for path in sorted(set(floors) - set(modules))]
    return why


def main() -> int:
    data_file = sys.argv[1]
    minimum = float(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PY_BRANCH_MIN", "95"))
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
    why = failures(branch_pct, minimum, modules, MODULE_BRANCH_MIN)
    for text in why:
        print(f"coverage (python): {text}")
    return 1 if why else 0

if __name__ == "__main__":
    sys.exit(main())
