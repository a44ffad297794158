#!/usr/bin/env bash
# Dynamic and static checks of the C regulation loop (issue 12), one
# subcommand per CI step (scripts/dev.sh test runs them in this order):
#   sanitize   the regulator tests against an ASan+UBSan build of the extension
#   coverage   gcov of cext/regulator.c and cext/arming.c under the regulator tests: gate on lines
#              and branches (thresholds below, exceptions in tools/cverify/coverage-exceptions.md)
#   fuzz       the libFuzzer harness (tools/cverify/fuzz_regulator.c), a bounded
#              run from the committed corpus (FUZZ_SECONDS, default 60)
#   eva        Frama-C Eva over the API with arbitrary inputs: no alarm allowed
#   arm        cross-compile for Cortex-M4 and Cortex-M0+ with -Werror: code size, worst stack
#   casts      MISRA C:2012 rule 10.8 (composite expression cast to another
#              essential type category or wider), which cppcheck's addon misses
# Figures go to out/cverify/*.json (the audit report can read them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${PYTHON:-python}"
OUT="$ROOT/out/cverify"
mkdir -p "$OUT"
COMMIT="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# the regulator tests the C checks run (the two slow files, 2 min of lift-off
# cases and the wheel build, run in the main pytest step)
C_TESTS=(tests/regulator/test_mutation_kills.py tests/regulator/test_commands.py
         tests/regulator/test_protection.py tests/regulator/test_sense_level.py
         tests/regulator/test_search_contact.py tests/regulator/test_load_estimate.py
         tests/regulator/test_wrapper_inputs.py tests/regulator/test_common_cause_sensing.py
         tests/regulator/test_load_model.py tests/regulator/test_slew_resolution.py
         tests/regulator/test_regulation.py tests/regulator/test_safety_review.py
         tests/regulator/test_invariants.py tests/regulator/test_simload.py
         tests/regulator/test_sensor_noise_floor.py tests/regulator/test_recontact_band.py
         tests/regulator/test_recontact_band_sweep.py tests/regulator/test_mut_kill_detectors.py
         tests/regulator/test_recontact_lower_load.py tests/regulator/test_fall_never_waits.py
         tests/regulator/test_pulsed_regulator.py tests/regulator/test_arming.py
         tests/regulator/test_pulsed_short.py tests/regulator/test_settled_plausible.py)
# gates: they may only rise
C_LINE_MIN="${C_LINE_MIN:-100}"
C_BRANCH_MIN="${C_BRANCH_MIN:-100}"

# a copy of what the tests need, with the extension built by FLAGS
copy_tree() {
    local dir="$1"; shift
    rm -rf "$dir"; mkdir -p "$dir"
    cp -r core cext spec traceability hazard_analysis pyproject.toml "$dir/"
    mkdir -p "$dir/tests"; cp tests/*.py "$dir/tests/"; cp -r tests/regulator "$dir/tests/"
    find "$dir" -name '*.so' -delete
    "$PY" scripts/cverify/build_ext.py "$dir" "$@" >/dev/null
}

sanitize() {
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/ionto-asan.XXXXXX")"
    copy_tree "$dir" -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
    local t0=$SECONDS rc=0
    ( cd "$dir" && LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
        ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$PY" -m pytest -q -p no:cacheprovider --no-trace-results "${C_TESTS[@]}" ) > "$OUT/sanitize.log" 2>&1 || rc=$?
    tail -1 "$OUT/sanitize.log"
    local reports; reports=$(grep -c -E 'ERROR: AddressSanitizer|runtime error:' "$OUT/sanitize.log" || true)
    printf '{"commit": "%s", "tests": %d, "exit": %d, "sanitizer_reports": %d, "wall_s": %d}\n' \
        "$COMMIT" "${#C_TESTS[@]}" "$rc" "$reports" $((SECONDS - t0)) > "$OUT/sanitize.json"
    rm -rf "$dir"
    [ "$rc" = 0 ] && [ "$reports" = 0 ] || { echo "sanitize: FAILED (exit $rc, $reports sanitizer reports; $OUT/sanitize.log)" >&2; return 1; }
    echo "sanitize: regulator tests clean under ASan+UBSan"
}

coverage_c() {
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/ionto-gcov.XXXXXX")"
    copy_tree "$dir" -O0 --coverage
    ( cd "$dir" && "$PY" -m pytest -q -p no:cacheprovider --no-trace-results "${C_TESTS[@]}" ) > "$OUT/gcov-tests.log" 2>&1 \
        || { tail -20 "$OUT/gcov-tests.log"; echo "coverage: the tests failed" >&2; rm -rf "$dir"; return 1; }
    # gcov's branch counts, with the exceptions justified in writing excluded by marker
    # the objects were compiled from this checkout's cext/ (build_ext.py)
    ( cd "$dir/_build" && "$PY" -m gcovr --root "$ROOT" --filter "$ROOT/cext/regulator.c" --filter "$ROOT/cext/arming.c" \
        --exclude-unreachable-branches --json-summary "$OUT/gcov-regulator.json" --json-summary-pretty \
        --txt "$OUT/gcov-regulator.txt" --txt-metric branch . ) >/dev/null
    local rc=0
    "$PY" - "$OUT/gcov-regulator.json" "$C_LINE_MIN" "$C_BRANCH_MIN" "$COMMIT" <<'PY' || rc=$?
import json, sys
path, line_min, branch_min, commit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
data = json.load(open(path))
data["commit"] = commit
data["thresholds"] = {"line_percent": line_min, "branch_percent": branch_min}
json.dump(data, open(path, "w"), indent=2)
ok = len(data["files"]) == 2          # regulator.c and the checklist gate arming.c, each gated
for f in data["files"]:
    lines, branches = f["line_percent"], f["branch_percent"]
    print(f"coverage: {f['filename']} lines {lines:.1f} % ({f['line_covered']}/{f['line_total']}), "
          f"branches {branches:.1f} % ({f['branch_covered']}/{f['branch_total']}); gates {line_min:.0f} / {branch_min:.0f} %")
    ok = ok and lines >= line_min and branches >= branch_min
sys.exit(0 if ok else 1)
PY
    rm -rf "$dir"
    [ $rc = 0 ] || { grep -v '100%' "$OUT/gcov-regulator.txt" | head -20; echo "coverage: below the gate" >&2; return 1; }
}

fuzz() {
    local secs="${FUZZ_SECONDS:-60}"
    local bin="$OUT/fuzz_regulator"
    clang -g -O1 -std=c99 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Icext \
        tools/cverify/fuzz_regulator.c cext/regulator.c cext/arming.c -o "$bin"
    local corpus work; work="$(mktemp -d "${TMPDIR:-/tmp}/ionto-fuzz.XXXXXX")"
    corpus=tools/cverify/fuzz_corpus
    cp "$corpus"/* "$work"/ 2>/dev/null || true
    local rc=0
    ( cd "$OUT" && "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 "$work" ) \
        > "$OUT/fuzz.log" 2>&1 || rc=$?
    local runs; runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/fuzz.log" | grep -o '[0-9]*$' || echo 0)
    local cov; cov=$(grep -o 'cov: [0-9]*' "$OUT/fuzz.log" | tail -1 | grep -o '[0-9]*' || echo 0)
    printf '{"commit": "%s", "seconds": %d, "runs": %s, "edges_covered": %s, "exit": %d, "findings": %d, "corpus_files": %d}\n' \
        "$COMMIT" "$secs" "${runs:-0}" "${cov:-0}" "$rc" $([ $rc = 0 ] && echo 0 || echo 1) \
        "$(ls "$corpus" | wc -l)" > "$OUT/fuzz.json"
    if [ "$rc" = 0 ] && [ -n "${FUZZ_MERGE:-}" ]; then
        # long runs (make fuzz-long): keep the inputs that add coverage
        "$bin" -merge=1 "$corpus" "$work" >> "$OUT/fuzz.log" 2>&1
    fi
    rm -rf "$work"
    [ $rc = 0 ] || { grep -m5 -E 'ERROR|SUMMARY|deadly' "$OUT/fuzz.log" >&2; echo "fuzz: FINDING (crash input in $OUT)" >&2; return 1; }
    echo "fuzz: $runs runs in $secs s, $cov edges, 0 findings (invariants I1-I23 of tools/cverify/fuzz_regulator.c)"
}

eva() {
    # precision 3 finishes in about 30 s; EVA_PRECISION=7 for a slower, finer run
    local precision="${EVA_PRECISION:-3}"
    local rc=0
    frama-c -eva -eva-precision "$precision" -main eva_main -cpp-extra-args="-I$ROOT/cext" \
        cext/regulator.c cext/arming.c tools/cverify/eva_driver.c > "$OUT/eva.log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || { tail -20 "$OUT/eva.log" >&2; echo "eva: frama-c failed" >&2; return 1; }
    # alarms as "file: text" (no line numbers); each accepted one is listed
    # with its reason in tools/cverify/eva-accepted.txt, any other fails
    "$PY" - "$OUT/eva.log" tools/cverify/eva-accepted.txt "$precision" "$COMMIT" "$OUT/eva.json" <<'PY'
import json, re, sys
log, accepted_path, precision, commit, out = sys.argv[1:]
text = open(log).read()
alarms = sorted({f"{m.group(1)}: {' '.join(m.group(2).split())}"
                 for m in re.finditer(r"\[eva:alarm\] (?:\S*/)?([\w.]+):\d+: Warning: \n((?:  .*\n)+)", text)})
accepted = {}
for line in open(accepted_path):
    if line.strip() and not line.startswith("#"):
        key, _, reason = line.rstrip("\n").partition(" # ")
        accepted[key.strip()] = reason.strip()
new = [a for a in alarms if a not in accepted]
for a in alarms:
    print(("    NEW ALARM: " if a in new else "    accepted:  ") + a)
json.dump({"commit": commit, "precision": int(precision), "alarms": len(alarms),
           "accepted": len(alarms) - len(new), "new": new}, open(out, "w"), indent=2)
print(f"eva: {len(alarms)} alarms at precision {precision}, {len(alarms) - len(new)} accepted "
      f"(tools/cverify/eva-accepted.txt), {len(new)} new")
sys.exit(1 if new else 0)
PY
}

arm() {
    local rc=0
    printf '{"commit": "%s", "targets": [' "$COMMIT" > "$OUT/arm.json"
    local sep=""
    # IONTO_TARGET_HW: the board configuration, whose functions are design units too
    # (BUILD_CONFIGS of traceability/docs/units.py, PR-058)
    for cpu in cortex-m4 cortex-m0plus; do
        local d="$OUT/arm-$cpu"; mkdir -p "$d"
        arm-none-eabi-gcc -DIONTO_TARGET_HW -mcpu="$cpu" -mthumb -std=c99 -Os -Wall -Wextra -Werror -Wconversion -Wshadow \
            -fstack-usage -fcallgraph-info=su -ffunction-sections -Icext -c cext/regulator.c -o "$d/regulator.o" \
            -dumpdir "$d/" || { rc=1; continue; }
        # the checklist gate (arming.c) is part of the loop's image
        arm-none-eabi-gcc -DIONTO_TARGET_HW -mcpu="$cpu" -mthumb -std=c99 -Os -Wall -Wextra -Werror -Wconversion -Wshadow \
            -fstack-usage -fcallgraph-info=su -ffunction-sections -Icext -c cext/arming.c -o "$d/arming.o" \
            -dumpdir "$d/" || { rc=1; continue; }
        local text; text=$(arm-none-eabi-size -t "$d/regulator.o" "$d/arming.o" | awk 'END{print $1}')
        local stack; stack=$("$PY" scripts/cverify/worst_stack.py "$d"/*.ci)
        echo "arm: $cpu  text $text bytes  worst stack $stack bytes"
        printf '%s{"cpu": "%s", "text_bytes": %s, "worst_stack_bytes": %s}' "$sep" "$cpu" "$text" "$stack" >> "$OUT/arm.json"
        sep=", "
    done
    echo "]}" >> "$OUT/arm.json"
    return $rc
}

casts() {
    "$PY" scripts/cverify/misra_casts.py cext/regulator.c cext/arming.c cext/simload.c
}

case "${1:-}" in
    sanitize) sanitize ;;
    coverage) coverage_c ;;
    fuzz) fuzz ;;
    eva) eva ;;
    arm) arm ;;
    casts) casts ;;
    *) echo "usage: scripts/cverify.sh sanitize|coverage|fuzz|eva|arm|casts" >&2; exit 2 ;;
esac
