#!/usr/bin/env bash
# Installs what the build, the guest image and the tests need (Debian 12).
# Idempotent and silent when everything is already present.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Packages from the release itself.
BASE_PKGS="gcc make git patch ninja-build ccache pkg-config python3 python3-venv
 python3-tomli libglib2.0-dev libpixman-1-dev libslirp-dev liburing-dev
 libaio-dev flex bison bzip2 xz-utils zstd cpio busybox-static nvme-cli fio
 seabios ipxe-qemu valgrind file kmod
 btrfs-progs util-linux
 clang llvm libclang-rt-14-dev"
# clang, llvm (llvm-symbolizer) and compiler-rt: the AddressSanitizer/UBSan
# build of the qtests and the libFuzzer build (scripts/build-qemu.sh asan|fuzz).
# Packages that must come from bookworm-backports (meson >= 1.5 for QEMU 10.0).
BPO_PKGS="meson python3-pycotap qemu-system-data"

missing_pkgs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
            printf '%s ' "$p"
    done
}

meson_ok() {
    command -v meson >/dev/null &&
        dpkg --compare-versions "$(meson --version)" ge 1.5
}

sources_file=/etc/apt/sources.list.d/qemu-nvme-backports.sources
need_update=
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ ||
   ! grep -rqs "deb-src" "$sources_file" /etc/apt/sources.list.d/ /etc/apt/sources.list; then
    if [ "$(id -u)" != 0 ]; then
        die "add a deb/deb-src entry for bookworm-backports (needs root)"
    fi
    log "adding bookworm-backports (deb and deb-src) to apt sources"
    cat >"$sources_file" <<SRC
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
fi

base_missing=$(missing_pkgs $BASE_PKGS)
bpo_missing=$(missing_pkgs $BPO_PKGS)
meson_ok || bpo_missing="$bpo_missing meson"
[ -n "$base_missing$bpo_missing" ] || [ -n "$need_update" ] || exit 0

[ "$(id -u)" = 0 ] || die "missing packages: $base_missing $bpo_missing (run as root)"
export DEBIAN_FRONTEND=noninteractive
log "installing: $base_missing $bpo_missing"
apt-get update -qq
[ -z "$base_missing" ] || apt-get install -y -qq --no-install-recommends $base_missing >/dev/null
[ -z "${bpo_missing// /}" ] ||
    apt-get install -y -qq --no-install-recommends -t bookworm-backports $bpo_missing >/dev/null
