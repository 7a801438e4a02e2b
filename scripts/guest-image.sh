#!/usr/bin/env bash
# Builds the test guest: a Debian bookworm-backports kernel ($GUEST_DIR/vmlinuz)
# and a busybox initramfs with nvme-cli, fio, blkzone, mkfs.btrfs and the
# NVMe/btrfs/f2fs modules ($GUEST_DIR/initrd.img).  scripts/run-guest.py
# boots them.
#
# Environment:
#   GUEST_KERNEL_PKG    kernel package to use (default: what linux-image-amd64
#                       depends on in bookworm-backports)
#   GUEST_MODULES       modules to include and load at boot, with their deps
#   GUEST_COMPRESS      initrd compression: none (default; fastest under TCG),
#                       zstd or gzip
set -euo pipefail
. "$(dirname "$0")/common.sh"

GUEST_MODULES=${GUEST_MODULES:-nvme btrfs f2fs}
GUEST_COMPRESS=${GUEST_COMPRESS:-none}
GUEST_BINS="/usr/sbin/nvme /usr/bin/fio /usr/sbin/blkzone /usr/sbin/mkfs.btrfs"

"$REPO/scripts/deps.sh"

# The kernel package behind the linux-image-amd64 meta package in backports.
resolve_kernel_pkg() {
    apt-cache depends -t bookworm-backports linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}

kpkg=${GUEST_KERNEL_PKG:-$(resolve_kernel_pkg)}
if [ -z "$kpkg" ]; then
    # Package lists may be missing or stale on a fresh machine.
    [ "$(id -u)" = 0 ] || die "cannot resolve the backports kernel; run apt-get update"
    log "updating apt lists to find the backports kernel"
    apt-get update -qq
    kpkg=$(resolve_kernel_pkg)
fi
[ -n "$kpkg" ] || die "no linux-image-amd64 in bookworm-backports"

mkdir -p "$CACHE" "$GUEST_DIR"
kdeb=$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*_amd64.deb" | sort -V | tail -n1)
if [ -z "$kdeb" ]; then
    log "downloading $kpkg"
    # apt-get download writes to the cwd; _apt cannot write to $CACHE, hence
    # the (harmless) unsandboxed warning that we filter.
    (cd "$CACHE" && apt-get download -q "$kpkg") 2>&1 |
        { grep -v 'unsandboxed' >&2 || true; } || die "download of $kpkg failed"
    kdeb=$(find "$CACHE" -maxdepth 1 -name "${kpkg}_*_amd64.deb" | sort -V | tail -n1)
    [ -n "$kdeb" ] || die "download of $kpkg failed"
    # Drop kernels that backports has since replaced.
    find "$CACHE" -maxdepth 1 -name 'linux-image-*.deb' ! -name "${kpkg}_*" -delete
fi

# Rebuild when this script, the kernel, the guest tools or the knobs change.
stamp_key=$( {
    cat "$0"
    basename "$kdeb"
    dpkg-query -W busybox-static nvme-cli fio libc6 btrfs-progs util-linux
    echo "$GUEST_MODULES $GUEST_COMPRESS"
} | sha256sum | cut -d' ' -f1)
stamp=$GUEST_DIR/.stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_key" ] &&
   [ -f "$GUEST_DIR/vmlinuz" ] && [ -f "$GUEST_DIR/initrd.img" ]; then
    exit 0
fi
rm -f "$stamp"

work=$GUEST_DIR/work
kroot=$work/kernel
root=$work/root
rm -rf "$work"
mkdir -p "$kroot" "$root"
trap 'rm -rf "$work"' EXIT

log "unpacking $(basename "$kdeb")"
dpkg-deb -x "$kdeb" "$kroot"
kver=$(ls "$kroot/lib/modules")
[ "$(echo "$kver" | wc -w)" = 1 ] || die "expected one kernel version in $kdeb"
cp "$kroot/boot/vmlinuz-$kver" "$GUEST_DIR/vmlinuz.tmp"
mv "$GUEST_DIR/vmlinuz.tmp" "$GUEST_DIR/vmlinuz"
# Debian generates modules.dep at install time; do it here to resolve deps.
depmod -b "$kroot" "$kver"

# Usr-merged layout like the host, so ldd's paths are valid in the guest.
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,mnt} \
    "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64}
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"

log "installing busybox, nvme-cli, fio"
cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
declare -A libs=()
for bin in $GUEST_BINS; do
    cp -L "$bin" "$root$bin"
    # "name => /path (addr)" lines and the loader's own "/path (addr)" line.
    while read -r lib; do
        libs[$lib]=1
    done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                             $1 ~ /^\// { print $1 }')
done
for lib in "${!libs[@]}"; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
# The multiarch directories are in glibc's default search path and ceph's
# private library is found via RUNPATH, so the cache is only an optimisation
# (and ldconfig -r needs root for its chroot).
printf '%s\n' /usr/lib/x86_64-linux-gnu >"$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || log "no ld.so.cache (not root?)"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
ln -s /proc/mounts "$root/etc/mtab"
# The kernel opens /dev/console before /init runs; without the node the init
# starts with no stdio (it re-opens the console later, but earlier output
# would be lost).
[ "$(id -u)" != 0 ] || mknod -m 600 "$root/dev/console" c 5 1

log "collecting modules: $GUEST_MODULES"
mdir=lib/modules/$kver
mkdir -p "$root/$mdir"
: >"$root/etc/modules.list"
declare -A seen=()
# --show-depends lists soft and hard dependencies in load order.
for mod in $GUEST_MODULES; do
    modprobe -d "$kroot" -S "$kver" --show-depends "$mod"
done | while read -r kind path _; do
    [ "$kind" = insmod ] || continue        # "builtin X" needs nothing
    rel=${path#"$kroot/$mdir/"}
    rel=${rel%.xz}
    rel=${rel%.zst}
    [ -z "${seen[$rel]:-}" ] || continue
    seen[$rel]=1
    mkdir -p "$root/$mdir/$(dirname "$rel")"
    # busybox insmod cannot load compressed modules.
    case $path in
    *.xz) xz -dc "$path" >"$root/$mdir/$rel" ;;
    *.zst) zstd -qdc "$path" >"$root/$mdir/$rel" ;;
    *) cp "$path" "$root/$mdir/$rel" ;;
    esac
    echo "$rel" >>"$root/etc/modules.list"
done
cp "$kroot/$mdir"/modules.{builtin,builtin.modinfo,order} "$root/$mdir/"
# So that busybox modprobe/modinfo work in the guest too.
depmod -b "$root" "$kver"

# Waits until every NVMe controller is live and has registered all of its
# active namespaces.  Tests can call it again after resets or attachments.
cat >"$root/bin/nvme-settle" <<'EOF'
#!/bin/sh
# usage: nvme-settle [timeout-seconds]   (exit 1 on timeout)
ticks=$(( ${1:-10} * 10 ))
settled() {
    for fn in /sys/bus/pci/devices/*; do
        [ "$(cat "$fn/class" 2>/dev/null)" = 0x010802 ] || continue
        # Probe runs before insmod returns: no driver now means it failed.
        [ -e "$fn/driver" ] || continue
        for c in "$fn"/nvme/nvme*; do
            [ -e "$c" ] || return 1
            case $(cat "$c/state" 2>/dev/null) in
            live) ;;
            dead|deleting*) continue ;;
            *) return 1 ;;
            esac
            want=$(nvme list-ns "/dev/${c##*/}" 2>/dev/null | grep -c '^\[')
            have=$(ls -d "$c"/nvme*n* 2>/dev/null | wc -l)
            [ "$have" -ge "$want" ] || return 1
        done
    done
}
while ! settled; do
    ticks=$((ticks - 1))
    if [ "$ticks" -le 0 ]; then
        echo "nvme-settle: timed out" >&2
        exit 1
    fi
    usleep 100000
done
# The multipath head disk follows its path disk within the same scan work.
usleep 100000
EOF

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the test guest.  Never exits: whatever happens it powers off, so a
# failure shows up as a missing GUEST-EXIT-STATUS line, not as a hang.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t configfs configfs /sys/kernel/config 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf fd/0 /dev/stdin
ln -sf fd/1 /dev/stdout
ln -sf fd/2 /dev/stderr
hostname guest

kver=$(uname -r)
while read -r m; do
    insmod "/lib/modules/$kver/$m" || echo "init: failed to load $m"
done </etc/modules.list

# nvme_wait=SECONDS on the kernel command line; 0 skips the wait.
wait=10
for arg in $(cat /proc/cmdline); do
    case $arg in nvme_wait=*) wait=${arg#nvme_wait=} ;; esac
done
[ "$wait" = 0 ] || nvme-settle "$wait"

cd /root
if [ -f /test.sh ]; then
    echo "GUEST-SCRIPT-BEGIN"
    # No stdin: a tool that waits for input must not hang the test.
    sh /test.sh </dev/null
    rc=$?
    echo
    echo "GUEST-EXIT-STATUS=$rc"
else
    echo "init: no /test.sh; interactive shell (exit to power off)"
    setsid cttyhack sh
fi
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 5
EOF
chmod 755 "$root/init" "$root/bin/nvme-settle"

log "packing initrd ($GUEST_COMPRESS)"
case $GUEST_COMPRESS in
none) compress='cat' ;;
zstd) compress="zstd -q -T0 -10" ;;
gzip) compress="gzip -6" ;;
*) die "GUEST_COMPRESS must be none, zstd or gzip" ;;
esac
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 | $compress) >"$GUEST_DIR/initrd.img.tmp"
mv "$GUEST_DIR/initrd.img.tmp" "$GUEST_DIR/initrd.img"
echo "$stamp_key" >"$stamp"
log "guest ready: $GUEST_DIR/vmlinuz $GUEST_DIR/initrd.img" \
    "($(du -h "$GUEST_DIR/initrd.img" | cut -f1), kernel $kver)"
