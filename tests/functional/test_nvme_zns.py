#
# Zoned namespaces from the guest: Linux sees host-managed zoned block
# devices; nvme-cli's zns commands, blkzone, fio's zbd mode and a zoned
# btrfs use them; the zone state (zoned.state) and the data are found again
# after a restart and after QEMU is killed with SIGKILL.
#
# Namespace 1: 512 MiB in 8 MiB zones, for btrfs. Namespace 2: 64 MiB in
# 4 MiB zones of 3 MiB capacity, at most 4 open zones, for the rest.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import re

import guest
from test_nvme_nsmgmt import HELPERS

COMMON = HELPERS + r'''
Z1=$(ns_dev 1)
Z2=$(ns_dev 2)
C=/dev/nvme0
report() { echo "REPORT-$1"; blkzone report $2 | sed "s/^/ZONE-$1 /"; }
pattern() { yes "QEMU-ZNS-$1" | head -c $2; }
'''

FIRST = COMMON + r'''
check host-managed '[ "$(cat /sys/block/${Z2#/dev/}/queue/zoned)" = host-managed ]'
check zone-sectors '[ "$(cat /sys/block/${Z2#/dev/}/queue/chunk_sectors)" = 8192 ]'
check max-open '[ "$(cat /sys/block/${Z2#/dev/}/queue/max_open_zones)" = 4 ]'
check id-ns-zsze 'nvme zns id-ns $Z2 | grep -iE "zsze *: *0x2000"'
check id-ctrl 'nvme zns id-ctrl $C | grep -i zasl'
check blkzone-count '[ "$(blkzone report $Z2 | wc -l)" = 16 ]'
check open-zone 'nvme zns open-zone $Z2 -s 0x2000 &&
    nvme zns report-zones $Z2 -d 2 | grep -E "SLBA: 0x2000 +WP: 0x2000 .*State: 0x30"'
check zone-append 'pattern A 4096 > /tmp/a &&
    nvme zns zone-append $Z2 -s 0x2000 -z 4096 -d /tmp/a | grep -E "LBA 2000$"'
check append-again 'nvme zns zone-append $Z2 -s 0x2000 -z 4096 -d /tmp/a | grep -E "LBA 2008$"'
check close-zone 'nvme zns close-zone $Z2 -s 0x2000 &&
    blkzone report -o 8192 -c 1 $Z2 | grep -E "wptr 0x000010 .*\(cl\)"'
check finish-zone 'nvme zns finish-zone $Z2 -s 0x2000 &&
    blkzone report -o 8192 -c 1 $Z2 | grep -E "\(fu\)"'
check reset-zone 'nvme zns reset-zone $Z2 -s 0x2000 &&
    blkzone report -o 8192 -c 1 $Z2 | grep -E "wptr 0x000000 .*\(em\)"'
check_fails write-not-at-wp 'pattern B 4096 | dd of=$Z2 bs=4k seek=100 oflag=direct 2>/dev/null'
check fio-zbd 'fio --name=zbd --filename=$Z2 --zonemode=zbd --direct=1 \
    --ioengine=libaio --iodepth=4 --rw=write --bs=64k --size=24M \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
check blkzone-reset 'blkzone reset $Z2 && [ -z "$(blkzone report $Z2 | grep -v "(em)")" ]'

check mkfs-btrfs 'mkfs.btrfs -q -f $Z1 >/tmp/mkfs 2>&1 || { cat /tmp/mkfs; exit 1; }'
check mount-btrfs 'mkdir -p /mnt && mount -t btrfs $Z1 /mnt'
check btrfs-write 'pattern FS 20971520 > /tmp/f && cp /tmp/f /mnt/f && sync &&
    cmp /mnt/f /tmp/f'
check umount 'umount /mnt'

# Raw data in zone 3 of namespace 2, flushed with fsync
check raw-write 'pattern R1 1048576 | dd of=$Z2 bs=64k seek=192 oflag=direct conv=fsync 2>/dev/null'
report 1 $Z1
report 2 $Z2
'''

AFTER_RESTART = COMMON + r'''
report 1 $Z1
report 2 $Z2
check btrfs-mount 'mkdir -p /mnt && mount -t btrfs $Z1 /mnt'
check btrfs-data 'pattern FS 20971520 > /tmp/f && cmp /mnt/f /tmp/f'
check btrfs-more 'pattern FS2 4194304 > /mnt/g && sync && umount /mnt'
check raw-data 'pattern R1 1048576 > /tmp/r &&
    dd if=$Z2 bs=64k skip=192 count=16 iflag=direct 2>/dev/null | cmp - /tmp/r'
# Write on, flush, then QEMU is killed
check raw-write-2 'pattern R2 524288 | dd of=$Z2 bs=64k seek=208 oflag=direct conv=fsync 2>/dev/null'
report 3 $Z2
echo "HOST-KILL: now"
sleep 600
'''

AFTER_KILL = COMMON + r'''
report 3 $Z2
check raw-data-both 'pattern R1 1048576 > /tmp/r && pattern R2 524288 >> /tmp/r &&
    dd if=$Z2 bs=64k skip=192 count=24 iflag=direct 2>/dev/null | cmp - /tmp/r'
check btrfs-after-kill 'mkdir -p /mnt && mount -t btrfs $Z1 /mnt &&
    pattern FS2 4194304 > /tmp/g && cmp /mnt/g /tmp/g && umount /mnt'
'''


def reports(output, tag):
    """(start, wptr) of each zone blkzone listed under tag.

    The zone condition may differ: zones open when QEMU stopped are
    closed at the next start."""
    zones = []
    for line in output.splitlines():
        m = re.match(r'ZONE-%s +start: (\S+), .*wptr (\S+)' % tag, line)
        if m:
            zones.append(m.groups())
    return zones


def test_zns(g):
    z1, z2 = g.disk('512M'), g.disk('64M')
    s1, s2 = g.disk('1M'), g.disk('1M')
    args = (g.drive(z1, 'z1') + g.drive(z2, 'z2') + g.drive(s1, 's1') +
            g.drive(s2, 's2') + [
                '-device', 'nvme,id=c0,serial=ZNS0',
                '-device', 'nvme-ns,drive=z1,bus=c0,nsid=1,zoned=on,'
                           'zoned.zone_size=8M,zoned.state=s1',
                '-device', 'nvme-ns,drive=z2,bus=c0,nsid=2,zoned=on,'
                           'zoned.zone_size=4M,zoned.zone_capacity=3M,'
                           'zoned.max_open=4,zoned.state=s2',
            ])
    first = g.boot_checks(FIRST, args, 20)
    second = g.boot_checks(AFTER_RESTART, args, 5, killed=True)
    # The restart finds every zone where the first run left it.
    for tag in ('1', '2'):
        before, after = reports(first.output, tag), reports(second.output, tag)
        assert before and before == after, (tag, before, after)
    third = g.boot_checks(AFTER_KILL, args, 2)
    before, after = reports(second.output, '3'), reports(third.output, '3')
    assert before and before == after, (before, after)
    # Zone 3 of namespace 2 holds 1.5 MiB: its pointer is past it.
    assert ('0x000006000', '0x000c00') in after, after
