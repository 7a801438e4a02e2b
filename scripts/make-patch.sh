#!/usr/bin/env bash
# Writes a git patch series that turns the base QEMU 10.0 into ours:
#   1. removal of upstream's NVMe device model, header, qtest and docs,
#   2. our NVMe specification header, 3. our device model,
#   4. our qtests and their build-list patches, 5. our documentation.
# Output: $BUILD/patches/*.patch (git format-patch).
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$REPO/scripts/deps.sh"
work=$BUILD/patch-tree
out=$BUILD/patches
rm -rf "$work" "$out"
"$REPO/scripts/fetch-qemu.sh" "$work"

git_c() {
    git -C "$work" -c user.name="${GIT_AUTHOR_NAME:-NVMe device model}" \
        -c user.email="${GIT_AUTHOR_EMAIL:-nvme@qemu.invalid}" "$@"
}
commit() {
    git_c add -A
    git_c commit -q -m "$1" -m "$2"
}
copy_paths() {
    for p in "$@"; do
        mkdir -p "$work/$(dirname "$p")"
        cp -r "$REPO/$p" "$work/$p"
    done
}
overlay_paths() {
    grep -v '^\s*\(#\|$\)' "$REPO/scripts/overlay.list" | grep "$1" || true
}

git_c init -q
commit "Base: QEMU $(cat "$work/VERSION")" "Unpacked from Debian's qemu source package."
base=$(git_c rev-parse HEAD)

while read -r p; do rm -rf "${work:?}/$p"; done \
    < <(grep -v '^\s*\(#\|$\)' "$REPO/scripts/upstream-removed.list")
commit "hw/nvme: remove the NVMe device model" \
       "It is replaced by a new implementation in the following patches."

copy_paths include/block/nvme.h
commit "include/block/nvme.h: NVMe definitions from the specifications" \
       "Registers, queue entries, Identify, log pages and features."

apply_patches() {
    for patch in "$REPO"/patches/*.patch; do
        case $(basename "$patch") in $1) ;; *) continue ;; esac
        patch -d "$work" -p1 -s <"$patch"
    done
}

copy_paths $(overlay_paths '^hw/') $(overlay_paths '^qapi/')
apply_patches '*qapi*'
apply_patches '*system*'
find "$work" -name '*.orig' -delete
commit "hw/nvme: new NVMe controller, namespace and subsystem devices" \
       "With their QMP commands (qapi/nvme.json). See docs/system/devices/nvme.rst."

copy_paths $(overlay_paths '^tests/')
apply_patches '*tests*'
find "$work" -name '*.orig' -delete
commit "tests/qtest: libqos driver and qtests for the NVMe device" \
       "Run them with: meson test --suite nvme"

copy_paths $(overlay_paths '^docs/')
commit "docs/system/devices/nvme.rst: document the NVMe devices" ""

git_c format-patch -q -o "$out" "$base"..HEAD
log "patch series written to $out:"
ls "$out"
