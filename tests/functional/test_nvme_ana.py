#
# Asymmetric Namespace Access: a shared namespace reached through two
# controllers; the host makes one path inaccessible, then the other, with
# QMP nvme-ana-set-state while fio writes and verifies on the multipath
# disk. Linux follows each ANA change event and keeps the I/O going.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest

SCRIPT = r'''
# The path (nvmeXcYn1) of the controller with CNTLID $1
path_of() {
    for p in /sys/block/nvme*c*n1; do
        c=$(basename $(readlink -f $p/device))
        [ "$(cat /sys/class/nvme/$c/cntlid)" = "$1" ] && echo ${p##*/}
    done
}
ana() { cat /sys/block/$(path_of $1)/ana_state; }
wait_ana() {
    for i in $(seq 100); do [ "$(ana $1)" = "$2" ] && return 0; sleep 0.2; done
    return 1
}
set_ana() {
    echo "HOST-QMP: {\"execute\": \"nvme-ana-set-state\", \"arguments\": {\"id\": \"$1\", \"group\": 1, \"state\": \"$2\"}}"
}
DISK=/dev/$(ls /sys/block | grep "^nvme[0-9]*n1$" | head -1)
C0=/dev/$(basename $(readlink -f /sys/block/$(path_of 0)/device))

check cmic-ana 'nvme id-ctrl $C0 | grep -E "^cmic +: 0xa"'
nvme id-ns $DISK | grep -i anagrp
check anagrpid 'nvme id-ns $DISK | grep -iE "^anagrpid *: *1$"'
check both-optimized '[ "$(ana 0)" = optimized ] && [ "$(ana 1)" = optimized ]'
check ana-log 'nvme ana-log $C0 | grep -qi optimized'

fio --name=ana --filename=$DISK --direct=1 --ioengine=libaio \
    --rw=randwrite --bs=4k --iodepth=8 --size=16M --loops=4 \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 &
FIO=$!
sleep 1
set_ana c0 inaccessible
check c0-inaccessible 'wait_ana 0 inaccessible'
sleep 1
set_ana c0 optimized
check c0-back 'wait_ana 0 optimized'
set_ana c1 inaccessible
check c1-inaccessible 'wait_ana 1 inaccessible'
sleep 1
set_ana c1 non-optimized
check c1-non-optimized 'wait_ana 1 non-optimized'
wait $FIO; echo $? > /tmp/fio.rc
check fio-verified '[ "$(cat /tmp/fio.rc)" = 0 ] || { cat /tmp/fio; exit 1; }'
check io-after 'dd if=/dev/urandom of=/tmp/x bs=4k count=16 2>/dev/null &&
    dd if=/tmp/x of=$DISK bs=4k oflag=direct 2>/dev/null &&
    dd if=$DISK of=/tmp/y bs=4k count=16 iflag=direct 2>/dev/null &&
    cmp /tmp/x /tmp/y'
'''


def test_ana_failover(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'shared') + [
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:ana',
        '-device', 'nvme,id=c0,bus=rp0,serial=ANA0,subsys=ss',
        '-device', 'nvme,id=c1,bus=rp1,serial=ANA1,subsys=ss',
        '-device', 'nvme-ns,bus=c0,drive=shared,nsid=1',
    ])
    r.assert_ok()
    assert len(r.checks) == 10, r.checks
