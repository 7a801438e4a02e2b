#!/usr/bin/env bash
# Fetches, overlays, configures (once) and builds QEMU with our NVMe device.
# Rebuilds are incremental: ninja only recompiles what changed.
# NVME_OVERLAY=0 builds the tree as it is (the pristine base, for make bench);
# NINJA_TARGETS overrides what is built.
#
#   build-qemu.sh        the normal build ($QEMU_BUILD, gcc)
#   build-qemu.sh asan   clang with AddressSanitizer and UBSan, only what the
#                        nvme qtests need ($QEMU_BUILD_ASAN)
#   build-qemu.sh fuzz   clang, libFuzzer, ASan and UBSan: qemu-fuzz-x86_64
#                        and a qemu-system-x86_64 to replay reproducers
#                        ($QEMU_BUILD_FUZZ)
# The clang builds have their own ccache directory and run under nice, so
# that they do not slow down incremental builds next to them.
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavor=${1:-default}
extra=()
run=()
case "$flavor" in
default)
    dir=$QEMU_BUILD
    targets=${NINJA_TARGETS:-qemu-system-x86_64 qemu-img qemu-io tests/qtest/qos-test}
    ;;
asan | fuzz)
    extra=(--cc="ccache clang" --cxx="ccache clang++" --objcc="ccache clang"
           --enable-asan --enable-ubsan)
    run=(nice -n "${NVME_NICE:-10}")
    export CCACHE_DIR=${CCACHE_DIR_SANITIZER:-$CACHE/ccache-$flavor}
    if [ "$flavor" = asan ]; then
        dir=$QEMU_BUILD_ASAN
        targets=${NINJA_TARGETS:-qemu-system-x86_64 qemu-img tests/qtest/qos-test}
    else
        dir=$QEMU_BUILD_FUZZ
        extra+=(--enable-fuzzing)
        targets=${NINJA_TARGETS:-qemu-fuzz-x86_64 qemu-system-x86_64}
    fi
    ;;
*)
    die "usage: build-qemu.sh [asan|fuzz]"
    ;;
esac

"$REPO/scripts/deps.sh"
[ -n "${QEMU_SRC:-}" ] || "$REPO/scripts/fetch-qemu.sh" "$QEMU_TREE"
[ "${NVME_OVERLAY:-1}" = 0 ] || "$REPO/scripts/overlay.sh" "$QEMU_TREE"

if [ ! -f "$dir/build.ninja" ]; then
    log "configuring QEMU in $dir"
    mkdir -p "$dir"
    (cd "$dir" && "${run[@]}" "$QEMU_TREE/configure" \
        --python=/usr/bin/python3 --disable-download --without-default-features \
        --target-list=x86_64-softmmu --enable-kvm --enable-tcg --enable-slirp \
        --enable-linux-io-uring --enable-linux-aio --enable-tools \
        --disable-docs --disable-install-blobs --disable-werror \
        "${extra[@]}" ${QEMU_CONFIGURE_EXTRA:-}) >"$dir.configure.log" 2>&1 ||
        { tail -30 "$dir.configure.log"; die "configure failed (see $dir.configure.log)"; }
fi
log "building QEMU in $dir (ninja -j$JOBS)"
"${run[@]}" ninja -C "$dir" -j"$JOBS" $targets || die "build failed"

# The +ds source has no firmware blobs: let the build tree find Debian's
# (seabios, qemu-system-data) in the data directory of the build tree.
for f in /usr/share/seabios/*.bin /usr/share/qemu/*.bin /usr/share/qemu/*.rom \
         /usr/lib/ipxe/qemu/*.rom; do
    [ -e "$f" ] || continue
    mkdir -p "$dir/qemu-bundle/usr/local/share/qemu"
    dest="$dir/qemu-bundle/usr/local/share/qemu/$(basename "$f")"
    [ -e "$dest" ] || ln -sf "$(readlink -f "$f")" "$dest"
done
