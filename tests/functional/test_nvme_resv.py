#
# Reservations from the guest with nvme-cli: three hosts (distinct Host
# Identifiers, hostid=) on three controllers of one subsystem share a
# namespace. Each host's commands go through its own controller (the
# controller character device, which has this one namespace), I/O with
# nvme io-passthru. Then Persist Through Power Loss across a restart.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
from test_nvme_nsmgmt import HELPERS

COMMON = HELPERS + r'''
A=/dev/$(ctrl_of 0)
B=/dev/$(ctrl_of 1)
C=/dev/$(ctrl_of 2)
head -c 4096 /dev/zero > /tmp/zero
# 8 blocks of 512 bytes at LBA 0 (read) or LBA 8 (write)
rd() { nvme io-passthru $1 -n 1 -o 2 -l 4096 -r --cdw10=0 --cdw12=7 >/dev/null; }
wr() { nvme io-passthru $1 -n 1 -o 1 -l 4096 -w -i /tmp/zero --cdw10=8 --cdw12=7; }
report() { nvme resv-report $1 -n 1; }
# Fails unless the command fails with Reservation Conflict
conflict() { ! "$@" >/tmp/out 2>&1 && grep -q "Reservation Conflict" /tmp/out; }
'''

SCENARIO = COMMON + r'''
check three-hosts '[ -c $A ] && [ -c $B ] && [ -c $C ]'
check a-register 'nvme resv-register $A -n 1 --nrkey=0xa1 --rrega=0'
check b-register 'nvme resv-register $B -n 1 --nrkey=0xb2 --rrega=0'
check a-acquire 'nvme resv-acquire $A -n 1 --crkey=0xa1 --rtype=4 --racqa=0'
check c-acquire 'conflict nvme resv-acquire $C -n 1 --crkey=0xc3 --rtype=4 --racqa=0'
report $A
check report 'report $A | grep -E "rtype *: *4" && report $A | grep -E "regctl *: *2"'
check a-writes 'wr $A'
check b-reads 'rd $B'
check b-writes 'wr $B'
check c-read 'conflict rd $C'
check c-write 'conflict wr $C'
check a-releases 'nvme resv-release $A -n 1 --crkey=0xa1 --rtype=4 --rrela=0'
check c-writes 'wr $C'
check released 'report $B | grep -E "rtype *: *0"'
# Persist Through Power Loss for the next run: A holds Write Exclusive
check a-ptpl 'nvme resv-register $A -n 1 --crkey=0xa1 --nrkey=0xa1 --rrega=2 --cptpl=3'
check a-write-exclusive 'nvme resv-acquire $A -n 1 --crkey=0xa1 --rtype=1 --racqa=0'
check b-write-now 'conflict wr $B'
'''

AFTER_RESTART = COMMON + r'''
report $A
check kept 'report $A | grep -E "rtype *: *1" && report $A | grep -E "ptpls *: *1"'
check b-still-registered 'report $A | grep -iE "rkey *: *(0x)?b2"'
check b-reads 'rd $B'
check b-writes 'conflict wr $B'
check c-writes 'conflict wr $C'
check a-writes 'wr $A'
check a-clears 'nvme resv-release $A -n 1 --crkey=0xa1 --rtype=1 --rrela=1'
check c-writes-again 'wr $C'
'''


def test_reservations(g):
    disk, state = g.disk('32M'), g.disk('4K')
    args = g.drive(disk, 'd0') + g.drive(state, 'rs') + [
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:resv',
        '-device', 'nvme,id=ca,serial=RA,subsys=ss,hostid=00000000000000a1',
        '-device', 'nvme,id=cb,serial=RB,subsys=ss,hostid=00000000000000b2',
        '-device', 'nvme,id=cc,serial=RC,subsys=ss,hostid=00000000000000c3',
        '-device', 'nvme-ns,bus=ca,drive=d0,nsid=1,resv.state=rs',
    ]
    g.boot_checks(SCENARIO, args, 17)
    g.boot_checks(AFTER_RESTART, args, 8)
