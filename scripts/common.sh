# Shared settings for the build glue; sourced by the other scripts.
# Everything can be overridden from the environment or the make command line.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-nvme}
QEMU_SUITE=${QEMU_SUITE:-bookworm-backports}
QEMU_VERSION_GLOB=${QEMU_VERSION_GLOB:-qemu_10.0.*.orig.tar.xz}
# Source tree the overlay goes into: a user's own (QEMU_SRC) or our unpacked copy.
QEMU_TREE=${QEMU_SRC:-$BUILD/qemu-src}
QEMU_BUILD=${QEMU_BUILD:-$BUILD/qemu-build}
# Clang builds with AddressSanitizer and UBSan: one for the qtests, one for
# libFuzzer (scripts/build-qemu.sh asan|fuzz).
QEMU_BUILD_ASAN=${QEMU_BUILD_ASAN:-$BUILD/qemu-build-asan}
QEMU_BUILD_FUZZ=${QEMU_BUILD_FUZZ:-$BUILD/qemu-build-fuzz}
GUEST_DIR=${GUEST_DIR:-$BUILD/guest}
JOBS=${JOBS:-$(nproc)}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
