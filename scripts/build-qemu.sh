#!/usr/bin/env bash
# Fetches, overlays, configures (once) and builds QEMU with our NVMe device.
# Rebuilds are incremental: ninja only recompiles what changed.
# NVME_OVERLAY=0 builds the tree as it is (the pristine base, for make bench);
# NINJA_TARGETS overrides what is built.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$REPO/scripts/deps.sh"
[ -n "${QEMU_SRC:-}" ] || "$REPO/scripts/fetch-qemu.sh" "$QEMU_TREE"
[ "${NVME_OVERLAY:-1}" = 0 ] || "$REPO/scripts/overlay.sh" "$QEMU_TREE"

if [ ! -f "$QEMU_BUILD/build.ninja" ]; then
    log "configuring QEMU in $QEMU_BUILD"
    mkdir -p "$QEMU_BUILD"
    (cd "$QEMU_BUILD" && "$QEMU_TREE/configure" \
        --python=/usr/bin/python3 --disable-download --without-default-features \
        --target-list=x86_64-softmmu --enable-kvm --enable-tcg --enable-slirp \
        --enable-linux-io-uring --enable-linux-aio --enable-tools \
        --disable-docs --disable-install-blobs --disable-werror \
        ${QEMU_CONFIGURE_EXTRA:-}) >"$QEMU_BUILD.configure.log" 2>&1 ||
        { tail -30 "$QEMU_BUILD.configure.log"; die "configure failed (see $QEMU_BUILD.configure.log)"; }
fi
log "building QEMU (ninja -j$JOBS)"
ninja -C "$QEMU_BUILD" -j"$JOBS" \
    ${NINJA_TARGETS:-qemu-system-x86_64 qemu-img qemu-io tests/qtest/qos-test} \
    || die "build failed"

# The +ds source has no firmware blobs: let the build tree find Debian's
# (seabios, qemu-system-data) in the data directory of the build tree.
for f in /usr/share/seabios/*.bin /usr/share/qemu/*.bin /usr/share/qemu/*.rom \
         /usr/lib/ipxe/qemu/*.rom; do
    [ -e "$f" ] || continue
    dest="$QEMU_BUILD/qemu-bundle/usr/local/share/qemu/$(basename "$f")"
    [ -e "$dest" ] || ln -sf "$(readlink -f "$f")" "$dest"
done
