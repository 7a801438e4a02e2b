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
# Patches apply to pristine copies of the files they touch (saved once), so
# changing a patch re-applies cleanly; files are rewritten only on change so
# that meson does not reconfigure needlessly.
pristine=$BUILD/pristine
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for patch in "$REPO"/patches/*.patch; do
    [ -e "$patch" ] || continue
    for f in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$patch"); do
        if [ ! -e "$pristine/$f" ]; then
            mkdir -p "$(dirname "$pristine/$f")"
            cp "$tree/$f" "$pristine/$f"
        fi
        mkdir -p "$(dirname "$work/$f")"
        [ -e "$work/$f" ] || cp "$pristine/$f" "$work/$f"
    done
    patch -d "$work" -p1 -s -f <"$patch" >/dev/null ||
        die "$(basename "$patch") does not apply"
done
(cd "$work" && find . -type f ! -name '*.orig') | while read -r f; do
    cmp -s "$work/$f" "$tree/$f" || { log "patched ${f#./}"; cp "$work/$f" "$tree/$f"; }
done
