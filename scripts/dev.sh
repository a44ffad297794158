#!/usr/bin/env bash
# One entry point for a fresh Debian machine: installs what the project needs,
# then runs the main job (demo) or the checks (test). See README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${IONTO_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

setup() {
    local missing=()
    command -v spin >/dev/null || missing+=(spin)
    command -v cppcheck >/dev/null || missing+=(cppcheck)
    command -v dot >/dev/null || missing+=(graphviz)
    command -v gcc >/dev/null || missing+=(gcc)
    # headless Chromium loads every page of the audit report in the test run
    command -v chromium >/dev/null || missing+=(chromium)
    # the C checks of issue 12: libFuzzer (clang), Frama-C Eva, the Cortex-M cross-compiler
    command -v clang >/dev/null || missing+=(clang)
    command -v frama-c >/dev/null || missing+=(frama-c-base)
    command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    [ -f "$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["include"])')/Python.h" ] || missing+=(python3-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    # pip at the version of its SOUP entry (hazard_analysis/soup.yaml, checked by ionto-trace)
    "$PY" -m pip install -q pip==26.3 >/dev/null
    # setuptools at its SOUP entry's version too: `python -m venv` puts ensurepip's
    # into the environment, and its distutils-precedence.pth runs at every
    # interpreter start, the device process's included (PR-051)
    "$PY" -m pip install -q -c requirements/tools.lock setuptools >/dev/null
    # the device's runtime packages exactly as locked (versions and sha256 hashes,
    # the SOUP list of hazard_analysis/soup.yaml), before anything else can pick them
    echo "setup: installing the runtime lock (requirements/runtime.lock, hashes checked)"
    "$PY" -m pip install -q --require-hashes -r requirements/runtime.lock
    echo "setup: installing the project (compiles cext/ with cffi)"
    # dev: tests, mutation, packaging; report: StrictDoc (imports the ReqIF export)
    # ... at the reviewed versions of the SOUP list (requirements/tools.lock)
    "$PY" -m pip install -q -c requirements/tools.lock -e ".[dev,report]"
}

# step NAME COMMAND...: run one step, print and remember its wall time
STEPS=()
step() {
    local name="$1"; shift
    echo "== $name"
    local t0=$SECONDS
    "$@"
    STEPS+=("$(printf '%5d s  %s' $((SECONDS - t0)) "$name")")
}
times() {
    echo "== wall time per step"
    printf '%s\n' "${STEPS[@]}"
}

benchmarks() {
    python bench/bench_session.py --quick
    python bench/bench_trace.py --quick
    python bench/bench_regulator.py
}

run_tests() {
    export PATH="$VENV/bin:$PATH"
    trap times EXIT
    step "static analysis of cext/ (cppcheck, MISRA C:2012 addon)" bash scripts/cppcheck.sh
    step "MISRA 10.8 cast check of cext/" bash scripts/cverify.sh casts
    step "cross-compile regulator.c for Cortex-M4 and M0+ (-Werror, size, worst stack)" bash scripts/cverify.sh arm
    rm -rf out/test-results out/.coverage out/.coverage.*
    # results.json (the plugin) and JUnit XML with each test's ids as properties;
    # coverage.py records the branches of core/ in every pytest process on the way
    # (tests/conftest.py; combined for the gate below). pytest-xdist runs the tests
    # on every core (IONTO_TEST_WORKERS: a number, or 0 for one process).
    step "pytest (unit, C through cffi, hypothesis, CLI, SPIN, packaging, ReqIF in StrictDoc)" \
        env IONTO_COVERAGE_DATA="$PWD/out/.coverage" python -m pytest -q -p no:cacheprovider \
        --numprocesses="${IONTO_TEST_WORKERS:-auto}" --maxprocesses=4 --dist=worksteal \
        --junitxml=out/test-results/junit.xml
    step "coverage gate of core/ (coverage.py, branches)" \
        sh -c 'python -m coverage combine -q --data-file=out/.coverage out/ && python scripts/py_coverage_gate.py out/.coverage'
    step "regulator tests under ASan+UBSan" bash scripts/cverify.sh sanitize
    step "coverage gate of regulator.c (gcov: lines and branches)" bash scripts/cverify.sh coverage
    step "fuzzing regulator.c (libFuzzer, bounded run, committed corpus)" bash scripts/cverify.sh fuzz
    step "abstract interpretation of regulator.c (Frama-C Eva)" bash scripts/cverify.sh eva
    # threshold: a lower bound of the score measured on this sample (95.5 % at stop 19, 106 of 111
    # killed; 67.3 % before tests/regulator/test_mut_kill_detectors.py; 100 %, 150 of 150, on
    # 2026-12-02 with no listed survivor left); reviewed equivalents in
    # tools/cverify/c-mutation-reviewed.yaml; it only rises
    step "mutation testing of regulator.c (C mutants, a stable 1-in-8 sample)" \
        python scripts/c_mutation.py --share 8 --min-score "${C_MUTATION_MIN_SCORE:-100}"
    step "state-machine verification" ionto-verify
    # before the check, which reads out/bench/*.json as evidence; a missed goal is a
    # warning of the check (the scripts exit 0 on speed), a crashed script fails here
    step "benchmarks (figures, never a failure)" benchmarks
    step "traceability check" ionto-trace check
    step "traceability check on the JUnit XML" ionto-trace check -q --results out/test-results/junit.xml
    step "audit report" ionto-trace report --out out/report
    # the newcomer's view: the report the README points to says PASSED, and every
    # page loads in a browser without a broken link, a missing image or a console error
    step "audit report in headless Chromium" ionto-trace site-check out/report --expect-verdict PASSED
    # the IEC 62304 class C documents, from the same results, then every page loaded
    step "IEC 62304 documents" ionto-trace docs --out out/docs
    step "IEC 62304 documents in headless Chromium" ionto-trace site-check out/docs
    step "mutation testing" bash scripts/mutation.sh
    # issue 12 point 2: one session module of core/ per commit (CI_ROTATION of
    # scripts/mutation.sh: limits, scenario, history, regulator, device, trace,
    # cli, supervisor; commit count mod 8),
    # a share of its mutants, against its own tests, with that module's threshold
    step "mutation testing of a session module of core/ (rotating, one module per commit)" \
        env MUTATION_SET=session-rotate bash scripts/mutation.sh
}

# The demo session (SRS-199: the main job is re-runnable). OUT: IONTO_OUT, or out.
demo_session() {
    export PATH="$VENV/bin:$PATH"
    local out="${IONTO_OUT:-out}"
    mkdir -p "$out"
    echo "== demo session on the simulated device (hands, 15 mA, 10 min)"
    # A fresh demo history each run: on the last run's history the frequency
    # guard (SRS-073) refuses a second session within 24 h. The last run's
    # history is kept as history.previous.sqlite; its trace and summary go.
    local f
    for f in "$out"/history.sqlite-wal "$out"/history.sqlite-shm "$out"/history.sqlite-journal; do
        [ ! -e "$f" ] || mv -f "$f" "${f/history.sqlite/history.previous.sqlite}"
    done
    [ ! -e "$out/history.sqlite" ] || mv -f "$out/history.sqlite" "$out/history.previous.sqlite"
    rm -f "$out/demo-trace.csv" "$out/demo-summary.json"
    set +e
    ionto session --site hands --current 15 --minutes 10 \
        --checklist examples/checklist.yaml --seed 1 \
        --db "$out/history.sqlite" --trace "$out/demo-trace.csv" --json > "$out/demo-summary.json"
    local rc=$?
    set -e
    cat "$out/demo-summary.json"
    echo "session exit code: $rc"
    if [ -s "$out/demo-trace.csv" ]; then   # only a trace this run wrote
        echo "trace:   $(cd "$out" && pwd)/demo-trace.csv"
    else
        echo "trace:   none (the session wrote no trace)"
    fi
    echo "history: $(cd "$out" && pwd)/history.sqlite  (ionto history --db $out/history.sqlite)"
    return $rc
}

run_demo() {
    export PATH="$VENV/bin:$PATH"
    mkdir -p out
    local rc=0
    demo_session || rc=$?
    echo "== example course: a simulated user day by day (--now), shown in the audit report"
    "$PY" scripts/example_course.py out/course || rc=1
    echo "== audit report (not yet verified until \`bash scripts/dev.sh test\` has run the tests)"
    ionto-trace report --out out/report
    echo "== IEC 62304 class C documents"
    ionto-trace docs --out out/docs
    return $rc
}

case "${1:-}" in
    setup) setup ;;
    test) setup; run_tests ;;
    demo) setup; run_demo ;;
    demo-session) demo_session ;;   # the demo session alone, no setup (tests/cli/test_demo_rerun.py)
    *) echo "usage: scripts/dev.sh setup|test|demo|demo-session" >&2; exit 2 ;;
esac
