"""Benchmark of `ionto-trace check` + `report` on generated data sets (SRS-105).

Generates a repository with N requirements, N/10 hazards, N/5 controls, test
sources with one test function per result and a results file with 5 results
per requirement, then times check and report in-process. Prints figures at
several sizes to show that the time grows linearly. Goal: 10,000
requirements and 50,000 results in at most 10 s for check + report together.
Never fails on speed (prints only); tests/traceability/test_bench.py asserts
the growth and the CPU-time budget at smaller sizes.

    python3 bench/bench_trace.py            # 2,500 / 5,000 / 10,000 requirements
    python3 bench/bench_trace.py --quick    # 2,500 and 10,000 (CI): the goal figures
    python3 bench/bench_trace.py 10000      # one size (no record: growth not measured)

When both 2,500 and 10,000 are measured it writes out/bench/SRS-105.json
(bench/_record.py): time at the goal size, and growth for 4x the size.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULTS_PER_REQ = 5
TESTS_PER_FILE = 500
# the goals of SRS-105, in one place (tests/traceability/test_bench.py uses them too)
GOAL_REQS = 10_000
GOAL_TOTAL_S = 10.0
GROWTH_BASE_REQS = GOAL_REQS // 4
GOAL_GROWTH_4X = 6.0   # 4x the size may take at most 6x the time (linear 4x, quadratic 16x)


def _yaml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid YAML scalar


def generate(root: Path, n_reqs: int, n_results: int | None = None) -> None:
    """Write a complete, consistent data set under root (every check passes on it)."""
    n_results = n_results if n_results is not None else n_reqs * RESULTS_PER_REQ
    (root / "spec").mkdir(parents=True, exist_ok=True)
    (root / "hazard_analysis").mkdir(parents=True, exist_ok=True)
    (root / "requirements").mkdir(parents=True, exist_ok=True)
    # the SOUP list with what the check holds it against (SRS-292): the required
    # components and the device's runtime lock
    for f in ("hazard_analysis/risk_management_plan.yaml", "hazard_analysis/soup.yaml",
              "hazard_analysis/soup_required.yaml", "requirements/runtime.lock", "pyproject.toml"):
        shutil.copyfile(REPO / f, root / f)
    # the plan's open risks name the repository's own items, which the generated data do not have
    plan = root / "hazard_analysis/risk_management_plan.yaml"
    plan.write_text(plan.read_text().split("\nopen_risk:")[0] + "\n")
    n_needs = max(1, n_reqs // 100)
    lines = ["schema_version: 1", "user_needs:"]
    for i in range(1, n_needs + 1):
        lines += [f"  - id: UN-{i:04d}", f"    title: Need {i}", f"    statement: The user needs thing number {i}.",
                  "    source: generated"]
    lines.append("requirements:")
    for i in range(1, n_reqs + 1):
        lines += [f"  - id: SRS-{i:05d}", f"    title: Requirement {i}",
                  f"    statement: The system shall do thing {i} within {i % 97} ms.",
                  f"    rationale: Generated for the benchmark, controls HAZ-{(i - 1) // 10 + 1:04d}.",
                  f"    kind: {'safety' if i % 3 == 0 else 'functional'}", "    verification: test",
                  "    status: implemented", f"    parent: UN-{(i - 1) % n_needs + 1:04d}"]
    (root / "spec/requirements.yaml").write_text("\n".join(lines) + "\n")
    n_ctrl = max(1, n_reqs // 5)
    lines = ["schema_version: 1", "risk_controls:"]
    for c in range(1, n_ctrl + 1):
        reqs = ", ".join(f"SRS-{i:05d}" for i in range(5 * (c - 1) + 1, min(5 * c, n_reqs) + 1))
        lines += [f"  - id: RC-{c:04d}", f"    title: Control {c}", "    type: protective measure",
                  f"    implemented_by: {'regulator' if c % 2 else 'supervisor'}",  # independent of each other
                  f"    description: Generated control {c}.", f"    requirements: [{reqs}]"]
    (root / "hazard_analysis/risk_controls.yaml").write_text("\n".join(lines) + "\n")
    n_haz = max(1, n_reqs // 10)
    lines = ["schema_version: 1", "hazards:"]
    for h in range(1, n_haz + 1):
        ctrls = ", ".join(f"RC-{c:04d}" for c in (2 * h - 1, 2 * h) if c <= n_ctrl)
        lines += [f"  - id: HAZ-{h:04d}", f"    title: Hazard {h}", "    hazard: generated energy",
                  "    category: electrical", "    situations:", f"      - id: HS-{h:04d}",
                  "        sequence_of_events: [a thing happens, another thing happens]",
                  "        hazardous_situation: exposed", "        harm: minor harm (S3)",
                  "        initial_risk: {severity: S3, probability: P4}", f"        controls: [{ctrls}]",
                  "        residual_risk: {severity: S3, probability: P1}",
                  "        caused_by: [hardware]"]  # every situation names its cause (rule caused-by)
    (root / "hazard_analysis/hazards.yaml").write_text("\n".join(lines) + "\n")
    lines = ["schema_version: 1", "items:"]
    for k, item in enumerate(["regulator", "state machine", "supervisor", "settings", "checklist", "history", "CLI"]):
        lines += [f"  - item: {item}", "    description: generated", "    failure_modes:",
                  f"      - id: FM-GEN-{k + 1:02d}", "        failure_mode: fails", "        cause: bug",
                  "        effect: harm", "        hazards: [HAZ-0001]", "        severity: S3",
                  "        occurrence: P4", "        detection: tests", "        controls: [RC-0001, RC-0002]",
                  "        residual_risk: {severity: S3, probability: P1}"]
    (root / "hazard_analysis/fmea.yaml").write_text("\n".join(lines) + "\n")
    (root / "hazard_analysis/risk_management_report.yaml").write_text(
        "schema_version: 1\ndependent_failure_analysis:\n  - pair: [RC-0001, RC-0002]\n    title: generated\n"
        "    shared: [nothing]\n    measures: generated\n    conclusion: independent\n"
        "overall_residual_risk: Generated for the benchmark; acceptable.\n"
        "benefit_risk: Benefit of the generated therapy [MED]; residual risk HS-0001 weighed; the benefit "
        "outweighs it.\nreport: [generated]\n")
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs/instructions_for_use.md").write_text("# Instructions for use\n")
    # test sources and results: result j verifies requirement j % n_reqs
    tests_dir = root / "tests"
    tests_dir.mkdir(exist_ok=True)
    results = []
    n_files = (n_results + TESTS_PER_FILE - 1) // TESTS_PER_FILE
    for f in range(n_files):
        rel = f"tests/test_gen_{f:04d}.py"
        src = ["import pytest", ""]
        for j in range(f * TESTS_PER_FILE, min((f + 1) * TESTS_PER_FILE, n_results)):
            rid = f"SRS-{j % n_reqs + 1:05d}"
            line = len(src) + 1
            src += [f'@pytest.mark.req("{rid}")', f"def test_{j}():", f"    assert {j} == {j}", ""]
            results.append({"nodeid": f"{rel}::test_{j}", "ids": [rid], "file": rel, "line": line,
                            "outcome": "passed", "duration_s": 0.001, "run_id": "bench"})
        (root / rel).write_text("\n".join(src))
    out = root / "out/test-results"
    out.mkdir(parents=True, exist_ok=True)
    from traceability.provenance import commit, source_sha256  # the run's provenance on this tree
    (out / "results.json").write_text(json.dumps(
        {"schema": 1, "runs": [{"run_id": "bench", "full": True, "commit": commit(root),
                                "source_sha256": source_sha256(root)}], "tests": results}))


def measure(n_reqs: int, n_results: int | None = None) -> dict:
    from traceability.check import run_check
    from traceability.data import load_project
    from traceability.lock import review
    from traceability.report import write_report
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, n_reqs, n_results)
        review(load_project(root), [], everything=True)
        t0, c0 = time.perf_counter(), time.process_time()
        a = run_check(root)
        t1 = time.perf_counter()
        write_report(a, root / "out/report")
        t2, c2 = time.perf_counter(), time.process_time()
        return {"requirements": len(a.project.reqs), "results": len(a.tests), "errors": len(a.errors),
                "check_s": t1 - t0, "report_s": t2 - t1, "total_s": t2 - t0, "cpu_s": c2 - c0,
                "first_error": str(a.errors[0]) if a.errors else ""}


def record(by_size: dict[int, dict]) -> None:
    """Write the SRS-105 record when the goal size and its quarter were measured."""
    if GOAL_REQS not in by_size or GROWTH_BASE_REQS not in by_size:
        print(f"  no record written: measure {GROWTH_BASE_REQS} and {GOAL_REQS} requirements for the goal figures")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _record import figure, write_record
    goal, base = by_size[GOAL_REQS], by_size[GROWTH_BASE_REQS]
    write_record("SRS-105", {
        "check_and_report_wall_s": figure(goal["total_s"], "s", GOAL_TOTAL_S, "<="),
        "check_and_report_cpu_s": figure(goal["cpu_s"], "s", GOAL_TOTAL_S, "<="),
        "growth_4x_size_cpu_ratio": figure(goal["cpu_s"] / base["cpu_s"], "x", GOAL_GROWTH_4X, "<="),
    })


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    sizes = [int(x) for x in argv if x != "--quick"] or (
        [GROWTH_BASE_REQS, GOAL_REQS] if quick else [GROWTH_BASE_REQS, 5000, GOAL_REQS])
    by_size = {}
    print(f"{'requirements':>12} {'results':>8} {'check s':>8} {'report s':>9} {'total s':>8} {'cpu s':>6} {'us/result':>10}")
    for n in sizes:
        m = measure(n)
        by_size[n] = m
        print(f"{m['requirements']:>12} {m['results']:>8} {m['check_s']:>8.2f} {m['report_s']:>9.2f} "
              f"{m['total_s']:>8.2f} {m['cpu_s']:>6.2f} {1e6 * m['total_s'] / max(1, m['results']):>10.1f}"
              + (f"  ({m['errors']} check errors: {m['first_error']})" if m["errors"] else ""))
        if m["errors"]:  # a crash, not a speed miss: the figure would not be the goal's workload
            raise SystemExit(f"bench_trace: the generated data set failed the check ({m['errors']} errors)")
    print("goal (SRS-105): 10,000 requirements + 50,000 results, check + report <= 10 s "
          "(wall time; cpu s is the process's own CPU time, unaffected by other load)")
    record(by_size)


if __name__ == "__main__":
    main(sys.argv[1:])
