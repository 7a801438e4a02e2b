#!/usr/bin/env bash
# make bench: compares our NVMe device model with upstream QEMU's.  A
# benchmark, not a test: CI never runs it.  See bench/README.md.
#   BENCH_QUICK=1   smoke mode (tiny N, one fio cell, about 5 minutes)
#   BENCH_N, BENCH_REPS, BENCH_CG_N, BENCH_CG_REPS, BENCH_FIO_RUNTIME,
#   BENCH_FIO_REPS
#   BENCH_SKIP="cpu callgrind fio crc"   skip parts (space separated)
set -euo pipefail
. "$(dirname "$0")/common.sh"

BENCH_DIR=$REPO/bench
RAW=${BENCH_RAW:-$BUILD/bench}
UP_BUILD=${UPSTREAM_BUILD:-$BUILD/upstream-build}
OURS=$QEMU_BUILD/qemu-system-x86_64
UPSTREAM=$UP_BUILD/qemu-system-x86_64
QUICK=${BENCH_QUICK:-0}
SKIP=" ${BENCH_SKIP:-} "
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
    N=${BENCH_N:-400} REPS=${BENCH_REPS:-1} CG_N=${BENCH_CG_N:-100} CG_REPS=1
    FIO_RT=${BENCH_FIO_RUNTIME:-3} FIO_REPS=${BENCH_FIO_REPS:-1}
    qflag=--quick mode=quick
else
    N=${BENCH_N:-10000} REPS=${BENCH_REPS:-3} CG_N=${BENCH_CG_N:-1000}
    CG_REPS=${BENCH_CG_REPS:-3}
    FIO_RT=${BENCH_FIO_RUNTIME:-10} FIO_REPS=${BENCH_FIO_REPS:-1}
    qflag= mode=full
fi

start=$(date +%s)
[ -x "$OURS" ] || die "no $OURS (run make build)"
command -v valgrind >/dev/null || case $SKIP in *" callgrind "*) ;;
    *) die "valgrind not installed (apt-get install valgrind, or BENCH_SKIP=callgrind)" ;; esac

"$BENCH_DIR/build-upstream.sh"
[ -x "$UPSTREAM" ] || die "no upstream binary at $UPSTREAM"

rm -rf "$RAW"
mkdir -p "$RAW"

if [[ $SKIP != *" cpu "* ]]; then
    # One after the other: CPU time must not be shared with another QEMU.
    for w in ours upstream; do
        bin=$OURS; [ $w = upstream ] && bin=$UPSTREAM
        log "device cost, CPU time: $w (N=$N, reps=$REPS)"
        python3 "$BENCH_DIR/devcost.py" --qemu "$bin" --n "$N" --reps "$REPS" \
            $qflag --out "$RAW/devcost-cpu-$w.json" --log "$RAW/devcost-cpu-$w.log"
    done
fi

if [[ $SKIP != *" callgrind "* ]]; then
    # Instruction counts do not depend on scheduling: run both at once.
    log "device cost, callgrind: ours and upstream in parallel (N=$CG_N, reps $CG_REPS)"
    pids=()
    for w in ours upstream; do
        bin=$OURS; [ $w = upstream ] && bin=$UPSTREAM
        python3 "$BENCH_DIR/devcost.py" --qemu "$bin" --n "$CG_N" --callgrind \
            --reps "$CG_REPS" $qflag --out "$RAW/devcost-cg-$w.json" \
            --log "$RAW/devcost-cg-$w.log" 2>"$RAW/devcost-cg-$w.progress" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || die "callgrind run failed (see $RAW)"; done
    # Upstream has no iothread= property: ours only.
    log "device cost, callgrind: ours with iothread= (main-loop thread)"
    python3 "$BENCH_DIR/devcost.py" --qemu "$OURS" --n "$CG_N" --callgrind \
        --reps "$CG_REPS" --iothread $qflag \
        --out "$RAW/devcost-cg-ours-iothread.json" \
        --log "$RAW/devcost-cg-ours-iothread.log" \
        2>"$RAW/devcost-cg-ours-iothread.progress" ||
        die "callgrind iothread run failed (see $RAW)"

fi

if [[ $SKIP != *" fio "* ]]; then
    log "fio in the guest (runtime ${FIO_RT}s, reps $FIO_REPS)"
    python3 "$BENCH_DIR/fiobench.py" --ours "$OURS" --upstream "$UPSTREAM" \
        --cache "$CACHE" --logdir "$RAW/fio-logs" --runtime "$FIO_RT" \
        --reps "$FIO_REPS" $qflag --out "$RAW/fio.json"
fi

if [[ $SKIP != *" crc "* ]]; then
    log "protection information guards: MB/s"
    gcc -O2 -std=gnu11 $(pkg-config --cflags glib-2.0) -I "$QEMU_BUILD" \
        -I "$QEMU_TREE/include" -I "$QEMU_TREE" -I "$REPO/hw/nvme" \
        "$BENCH_DIR/crcbench.c" "$REPO/hw/nvme/crc.c" \
        $(pkg-config --libs glib-2.0) -o "$RAW/crcbench"
    "$RAW/crcbench" >"$RAW/crc.json"
fi

elapsed=$(( $(date +%s) - start ))
python3 "$BENCH_DIR/report.py" --dir "$RAW" --out "$BENCH_DIR/RESULTS.md" \
    --meta "date=$(date -u '+%Y-%m-%d %H:%M UTC')" --meta "mode=$mode" \
    --meta "nproc=$(nproc)" \
    --meta "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    --meta "qemu_version=$("$UPSTREAM" --version | head -1)" \
    --meta "elapsed=$((elapsed / 60)) min $((elapsed % 60)) s"
log "wrote $BENCH_DIR/RESULTS.md ($mode mode, $((elapsed / 60)) min $((elapsed % 60)) s)"
