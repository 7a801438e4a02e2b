#
# Atomic write units as Linux sees them: nvme-cli reports AWUN and AWUPF,
# the Write Atomicity Normal feature (FID 0Ah) reads and changes, and the
# block layer's atomic write limits come from AWUPF (Linux 6.11 and later
# use AWUPF, or NAWUPF, which we do not report): 16 blocks, on a namespace
# of 512-byte and one of 4 KiB blocks.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


SCRIPT = r'''
C=/dev/nvme0
field() { nvme $1 $2 | awk -v f="$3" '$1 == f { print $3; exit }'; }
q() { cat /sys/block/$1/queue/$2; }
# Linux scans namespaces in parallel: names do not follow NSIDs
ns() { for d in /sys/block/nvme0n*; do
           [ "$(cat $d/nsid)" = $1 ] && basename $d; done; }
N512=$(ns 1)
N4K=$(ns 2)

check id-ctrl-awun '[ "$(field id-ctrl $C awun)" = 63 ]'
check id-ctrl-awupf '[ "$(field id-ctrl $C awupf)" = 15 ]'
check id-ns-no-nawupf '[ "$(field id-ns /dev/$N512 nawupf)" = 0 ]'

# AWUPF + 1 = 16 blocks, a power of two already
check atomic-512 '[ "$(q $N512 atomic_write_unit_max_bytes)" = 8192 ] &&
    [ "$(q $N512 atomic_write_unit_min_bytes)" = 512 ] &&
    [ "$(q $N512 atomic_write_max_bytes)" = 8192 ] &&
    [ "$(q $N512 atomic_write_boundary_bytes)" = 0 ] ||
    { grep . /sys/block/nvme0n*/queue/atomic* /sys/block/nvme0n*/queue/max_hw_sectors_kb; exit 1; }'
check atomic-4k '[ "$(q $N4K atomic_write_unit_max_bytes)" = 65536 ] &&
    [ "$(q $N4K atomic_write_unit_min_bytes)" = 4096 ] &&
    [ "$(q $N4K atomic_write_max_bytes)" = 65536 ]'

# Write Atomicity Normal: starts clear (atomic.dn=off), not saveable
# nvme-cli prints 0 as 00000000 and 1 as 0x00000001
wa() { echo $(( $(nvme get-feature $C -f 0xa $1 |
                  grep -o "value:[0-9a-fx]*" | cut -d: -f2) )); }
check feature-current '[ "$(wa)" = 0 ]'
check feature-set-dn 'nvme set-feature $C -f 0xa -v 1 &&
    [ "$(wa)" = 1 ] && [ "$(wa "-s 1")" = 0 ]'
check_fails feature-save 'nvme set-feature $C -f 0xa -v 1 --save'
check feature-clear-dn 'nvme set-feature $C -f 0xa -v 0 && [ "$(wa)" = 0 ]'

# Writes of the unit and of more, from many threads, read back whole
check fio-verify 'fio --name=atomic --filename=/dev/$N512 --direct=1 \
    --ioengine=libaio --rw=randwrite --bsrange=512-64k --size=8M \
    --iodepth=16 --numjobs=2 --verify=crc32c --do_verify=1 \
    --offset_increment=8M >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
'''


def test_atomic_limits(g):
    d0, d1 = g.disk('64M'), g.disk('64M')
    r = g.boot(SCRIPT, g.drive(d0, 'd0') + g.drive(d1, 'd1') +
               ['-device', 'nvme,id=c0,serial=ATOMIC,'
                'atomic.awun=63,atomic.awupf=15',
                '-device', 'nvme-ns,bus=c0,drive=d0,nsid=1',
                '-device', 'nvme-ns,bus=c0,drive=d1,nsid=2,'
                'logical_block_size=4096,physical_block_size=4096'])
    r.assert_ok()
    assert len(r.checks) == 10, r.checks
