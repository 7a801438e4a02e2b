#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed, N skipped"
# summed over all of them; exits non-zero when anything failed.
#   qtests:      QEMU's meson harness, suite "nvme" (TAP subtests counted)
#   qtest-asan:  the same suite on the clang AddressSanitizer/UBSan build
#                (scripts/build-qemu.sh asan); any sanitizer report, leaks
#                included, fails the test. NVME_ASAN=0 skips it.
#   functional:  tests/functional/run.py (guest boots under TCG)
set -uo pipefail
. "$(dirname "$0")/common.sh"

run_qtest=1
run_asan=1
run_functional=1
case "${1:-}" in
--qtest-only) run_asan='' run_functional='' ;;
--asan-only) run_qtest='' run_functional='' ;;
--functional-only) run_qtest='' run_asan='' ;;
esac
[ "${NVME_ASAN:-1}" != 0 ] || [ "${1:-}" = --asan-only ] || run_asan=''

passed=0 failed=0 skipped=0

# run_nvme_suite LABEL BUILD_DIR [meson test options]: runs the nvme suite of
# one build and adds its TAP results to the totals. A test binary that
# crashed (a sanitizer abort, say) without a "not ok" line counts once.
run_nvme_suite() {
    local label=$1 dir=$2 rc p s f
    shift 2
    (cd "$dir" && meson test --no-rebuild --suite nvme --print-errorlogs "$@")
    rc=$?
    read -r p s f < <(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, re, sys
ok = skip = bad = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout") or ""
    ok += len(re.findall(r"^ok [0-9]+", out, re.M))
    skip += len(re.findall(r"^ok [0-9]+.*# SKIP", out, re.M))
    notok = len(re.findall(r"^not ok [0-9]+", out, re.M))
    crashed = t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL")
    bad += notok or int(crashed)
print(ok, skip, bad)
PY
)
    if [ -z "$f" ] || { [ "$rc" != 0 ] && [ "$f" = 0 ]; }; then
        p=${p:-0} s=${s:-0} f=$((${f:-0} + 1))
    fi
    printf '%s: %d passed, %d failed, %d skipped\n' "$label" $((p - s)) "$f" "$s"
    passed=$((passed + p - s)) failed=$((failed + f)) skipped=$((skipped + s))
}

if [ -n "$run_qtest" ]; then
    log "qtests (meson test --suite nvme)"
    run_nvme_suite qtest "$QEMU_BUILD"
fi

if [ -n "$run_asan" ]; then
    log "qtests under AddressSanitizer/UBSan (build: $QEMU_BUILD_ASAN)"
    start=$SECONDS
    if "$REPO/scripts/build-qemu.sh" asan; then
        built=$SECONDS
        # Every report is fatal: ASan aborts, LSan runs when each QEMU and
        # each qos-test exits, UBSan stops at the first finding. libqtest
        # turns a QEMU that aborted or exited non-zero into a failed test.
        # The suppressions cover leaks of QEMU outside hw/nvme; matching
        # them needs whole allocation stacks, through GLib, which has no
        # frame pointers (fast_unwind_on_malloc=0).
        export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:print_summary=1${NVME_ASAN_OPTIONS:+:$NVME_ASAN_OPTIONS}"
        export LSAN_OPTIONS="suppressions=$REPO/scripts/lsan-suppressions.txt:print_suppressions=0${NVME_LSAN_OPTIONS:+:$NVME_LSAN_OPTIONS}"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${NVME_UBSAN_OPTIONS:+:$NVME_UBSAN_OPTIONS}"
        # GLib before 2.76 keeps g_slice memory in its own magazines, which
        # hides slice leaks from LSan.
        export G_SLICE=always-malloc
        run_nvme_suite qtest-asan "$QEMU_BUILD_ASAN" \
            --timeout-multiplier "${NVME_ASAN_TIMEOUT_MULTIPLIER:-3}"
        unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS G_SLICE
        log "qtest-asan: build $((built - start)) s, tests $((SECONDS - built)) s"
    else
        echo "qtest-asan: 0 passed, 1 failed, 0 skipped (the ASan build failed)"
        failed=$((failed + 1))
    fi
fi

if [ -n "$run_functional" ]; then
    log "functional tests (tests/functional/run.py)"
    out=$(mktemp)
    python3 "$REPO/tests/functional/run.py" | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^functional: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    rm -f "$out"
    if [ -z "$line" ]; then
        echo "functional: runner gave no summary (exit $rc)"
        failed=$((failed + 1))
    else
        read -r p f s <<<"$(sed -E 's/^functional: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")"
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
        if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
            failed=$((failed + 1))
        fi
    fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
