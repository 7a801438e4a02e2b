#
# Zone Random Write Areas from the guest: nvme-cli sees the ZRWA fields of
# Identify Namespace, opens a zone with a ZRWA, writes it out of order and
# over itself (with passthrough writes: the block layer's zone write
# plugging allows only writes at the pointer), and commits it implicitly,
# with zrwa-flush-zone and with Finish. One boot.
#
# Namespace 1: 64 MiB in 4 MiB zones (8192 blocks) of 3 MiB capacity, two
# ZRWAs of 64 KiB (128 blocks), flush granularity 8 KiB (16 blocks).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
from test_nvme_nsmgmt import HELPERS

SCRIPT = HELPERS + r'''
Z=$(ns_dev 1)
pattern() { yes "QEMU-ZRWA-$1" | head -c $2; }
# Field $2 (Attrs, State, WP) of the zone at $1, as a number
zfield() { echo $(( $(nvme zns report-zones $Z -s $1 -d 1 |
    sed -n "s/.*$2: *\(0x[0-9a-f]*\|0\) .*/\1/p") )); }
za() { zfield $1 Attrs; }
zs() { zfield $1 State; }
wp() { zfield $1 WP; }
nw() { pattern $3 $(($2 * 512)) > /tmp/w &&
    nvme write $Z -s $1 -c $(($2 - 1)) -z $(($2 * 512)) -d /tmp/w >/dev/null; }
rd() { dd if=$Z bs=512 skip=$1 count=$2 iflag=direct 2>/dev/null; }

check id-ns-zrwa 'nvme zns id-ns $Z > /tmp/id &&
    grep -E "^ozcs +: 2$" /tmp/id && grep -E "^numzrwa +: 0x1$" /tmp/id &&
    grep -E "^zrwafg +: 16$" /tmp/id && grep -E "^zrwasz +: 128$" /tmp/id &&
    grep -E "^zrwacap +: 1$" /tmp/id'
check open-zrwaa 'nvme zns open-zone $Z -s 8192 --zrwaa &&
    [ "$(za 8192)" = 8 ] && [ "$(zs 8192)" = 48 ]'
check random-writes 'nw $((8192 + 64)) 8 B && nw $((8192 + 8)) 8 A &&
    nw $((8192 + 64)) 8 C && [ "$(wp 8192)" = 8192 ] &&
    pattern C 4096 > /tmp/c && rd $((8192 + 64)) 8 | cmp - /tmp/c &&
    pattern A 4096 > /tmp/a && rd $((8192 + 8)) 8 | cmp - /tmp/a'
check_fails write-beyond-izfr 'nw $((8192 + 256)) 1 X'
check implicit-flush 'nw $((8192 + 120)) 16 D && [ "$(wp 8192)" = 8208 ]'
check zrwa-flush 'nvme zns zrwa-flush-zone $Z -l $((8208 + 31)) &&
    [ "$(wp 8192)" = 8240 ]'
check_fails zrwa-flush-half 'nvme zns zrwa-flush-zone $Z -l $((8240 + 7))'
check finish 'nvme zns finish-zone $Z -s 8192 && [ "$(za 8192)" = 0 ] &&
    [ "$(wp 8192)" = $((8192 + 6144)) ]'
check open-zrwaa-2 'nvme zns open-zone $Z -s 16384 --zrwaa'
check_fails append-zrwa 'pattern E 4096 > /tmp/e &&
    nvme zns zone-append $Z -s 16384 -z 4096 -d /tmp/e'
check reset 'nvme zns reset-zone $Z -s 16384 && [ "$(za 16384)" = 0 ] &&
    [ "$(zs 16384)" = 16 ]'
'''


def test_zrwa(g):
    z1 = g.disk('64M')
    args = g.drive(z1, 'z1') + [
        '-device', 'nvme,id=c0,serial=ZRWA0',
        '-device', 'nvme-ns,drive=z1,bus=c0,nsid=1,zoned=on,'
                   'zoned.zone_size=4M,zoned.zone_capacity=3M,'
                   'zoned.max_active=4,zoned.max_open=4,zoned.numzrwa=2,'
                   'zoned.zrwas=64K,zoned.zrwafg=8K',
    ]
    g.boot_checks(SCRIPT, args, 11)
