#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed, N skipped"
# summed over all of them; exits non-zero when anything failed.
#   qtests:      QEMU's meson harness, suite "nvme" (TAP subtests counted)
#   functional:  tests/functional/run.py (guest boots under TCG)
set -uo pipefail
. "$(dirname "$0")/common.sh"

run_qtest=1
run_functional=1
case "${1:-}" in
--qtest-only) run_functional= ;;
--functional-only) run_qtest= ;;
esac

passed=0 failed=0 skipped=0

if [ -n "$run_qtest" ]; then
    log "qtests (meson test --suite nvme)"
    (cd "$QEMU_BUILD" && meson test --no-rebuild --suite nvme --print-errorlogs)
    rc=$?
    tap="$QEMU_BUILD/meson-logs/testlog.txt"
    p=$(grep -cE '^ok [0-9]+' "$tap" | head -1)
    s=$(grep -cE '^ok [0-9]+.*# SKIP' "$tap" | head -1)
    f=$(grep -cE '^not ok [0-9]+' "$tap" | head -1)
    # A crashed test binary reports no "not ok" line: count it once.
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
    fi
    printf 'qtest: %d passed, %d failed, %d skipped\n' $((p - s)) "$f" "$s"
    passed=$((passed + p - s)) failed=$((failed + f)) skipped=$((skipped + s))
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
