#!/usr/bin/env bash
# Boots the test guest on our NVMe device with a default subsystem: two
# controllers would come with multipath later; today one controller in an
# nvme-subsys with two namespaces (512 B and 4 KiB blocks). Extra arguments
# are passed to QEMU. With a terminal on stdin the guest gives a shell;
# otherwise it prints what nvme-cli sees and powers off.
set -euo pipefail
. "$(dirname "$0")/common.sh"

disks=$BUILD/run-disks
mkdir -p "$disks"
for d in ns1 ns2; do
    [ -e "$disks/$d.img" ] || truncate -s 1G "$disks/$d.img"
done

args=(
    -device nvme-subsys,id=subsys0,nqn=nqn.2026-11.org.qemu:nvme-default
    -device nvme,id=nvme0,serial=QEMUNVME0001,subsys=subsys0
    -drive file="$disks/ns1.img",if=none,id=ns1,format=raw,cache=writeback
    -device nvme-ns,bus=nvme0,drive=ns1,nsid=1
    -drive file="$disks/ns2.img",if=none,id=ns2,format=raw,cache=writeback
    -device nvme-ns,bus=nvme0,drive=ns2,nsid=2,logical_block_size=4096,physical_block_size=4096
    "$@"
)

show='echo "== nvme list"; nvme list
echo "== nvme list-subsys"; nvme list-subsys
echo "== nvme id-ctrl /dev/nvme0 (head)"; nvme id-ctrl /dev/nvme0 | head -40
echo "== nvme id-ns /dev/nvme0n2 (head)"; nvme id-ns /dev/nvme0n2 | head -12'

if [ -t 0 ]; then
    log "interactive guest; run: nvme list (exit the shell to power off)"
    exec python3 "$REPO/scripts/run-guest.py" --interactive -- "${args[@]}"
fi
exec python3 "$REPO/scripts/run-guest.py" --command "$show" -- "${args[@]}"
