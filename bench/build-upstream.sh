#!/usr/bin/env bash
# Builds pristine upstream QEMU (with upstream's own nvme device) for the
# benchmark's comparison runs: the same build as ours, without our overlay.
# Idempotent: ninja does nothing once built.
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"

UP_SRC=${UPSTREAM_SRC:-$BUILD/upstream-src}
UP_BUILD=${UPSTREAM_BUILD:-$BUILD/upstream-build}

"$REPO/scripts/fetch-qemu.sh" "$UP_SRC"
QEMU_SRC=$UP_SRC QEMU_BUILD=$UP_BUILD NVME_OVERLAY=0 \
    NINJA_TARGETS=qemu-system-x86_64 "$REPO/scripts/build-qemu.sh" \
    >"$BUILD/upstream-build.log" 2>&1 ||
    { tail -30 "$BUILD/upstream-build.log"; die "upstream build failed"; }
