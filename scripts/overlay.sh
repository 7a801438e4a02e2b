#!/usr/bin/env bash
# Puts our files into a QEMU tree: removes upstream's NVMe files, links ours
# (or copies them with OVERLAY=copy) from the explicit list in overlay.list,
# and applies the small build-list patches in patches/. Idempotent.
set -euo pipefail
. "$(dirname "$0")/common.sh"

tree=${1:-$QEMU_TREE}
mode=${OVERLAY:-link}
[ -f "$tree/VERSION" ] || die "$tree is not a QEMU source tree"

paths() { grep -v '^\s*\(#\|$\)' "$1"; }

for p in $(paths "$REPO/scripts/upstream-removed.list"); do
    if [ -e "$tree/$p" ] && [ ! -L "$tree/$p" ] && [ ! -e "$tree/$p.ours" ]; then
        rm -rf "${tree:?}/$p"
    fi
done
for p in $(paths "$REPO/scripts/overlay.list"); do
    [ -e "$REPO/$p" ] || die "overlay path $p missing from the repository"
    mkdir -p "$(dirname "$tree/$p")"
    if [ "$mode" = copy ]; then
        rm -rf "${tree:?}/$p"
        cp -r "$REPO/$p" "$tree/$p"
    elif [ "$(readlink "$tree/$p" 2>/dev/null)" != "$REPO/$p" ]; then
        rm -rf "${tree:?}/$p"
        ln -s "$REPO/$p" "$tree/$p"
    fi
done
for patch in "$REPO"/patches/*.patch; do
    [ -e "$patch" ] || continue
    if patch -d "$tree" -p1 -R --dry-run -s -f <"$patch" >/dev/null 2>&1; then
        continue    # already applied
    fi
    log "applying $(basename "$patch")"
    patch -d "$tree" -p1 -s -f <"$patch" || die "$(basename "$patch") does not apply"
done
