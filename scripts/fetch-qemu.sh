#!/usr/bin/env bash
# Fetches the QEMU 10.0 source tarball from Debian's qemu source package into
# $CACHE (once) and unpacks it as a pristine tree at the path given ($1).
set -euo pipefail
. "$(dirname "$0")/common.sh"

dest=${1:?usage: fetch-qemu.sh DEST}
mkdir -p "$CACHE"
tarball=$(ls "$CACHE"/$QEMU_VERSION_GLOB 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
    log "downloading the qemu source package ($QEMU_SUITE)"
    (cd "$CACHE" && apt-get source --tar-only --download-only "qemu/$QEMU_SUITE" >/dev/null)
    tarball=$(ls "$CACHE"/$QEMU_VERSION_GLOB | head -1)
fi
[ -d "$dest" ] && exit 0
log "unpacking $(basename "$tarball") into $dest"
mkdir -p "$dest.tmp"
tar xf "$tarball" -C "$dest.tmp" --strip-components=1
# The +ds tarball has no edk2 firmware archives, but meson unpacks them when
# bzip2 is installed: give it empty stand-ins (we never boot UEFI).
for f in $(sed -n "s/^ *'\(edk2-[^']*\.fd\)',/\1/p" "$dest.tmp/pc-bios/meson.build"); do
    [ -e "$dest.tmp/pc-bios/$f.bz2" ] || bzip2 -c </dev/null >"$dest.tmp/pc-bios/$f.bz2"
done
mv "$dest.tmp" "$dest"
