#
# Namespace Attachment without a namespace pool, from the guest with
# nvme-cli: a subsystem of two controllers with explicit controller IDs
# (cntlid=16 and 17) and nvme-ns namespaces. Detaching a namespace from
# every controller makes Linux drop its disk (it rescans on the Namespace
# Attribute Changed event), attaching it brings the disk back with its
# data; a detached=on namespace is attached to the other controller, and
# a private one cannot go there. One boot.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
import test_nvme_nsmgmt as nsmgmt

SCRIPT = nsmgmt.HELPERS + r'''
C0=/dev/$(ctrl_of 16)
C1=/dev/$(ctrl_of 17)
wait_gone() {
    for i in $(seq 50); do [ -z "$(ns_dev $1)" ] && return 0; sleep 0.2; done
    return 1
}
# A path (or disk) of NSID $2 on the controller with CNTLID $1
has_path() {
    for p in /sys/class/nvme/$(ctrl_of $1)/nvme*n*; do
        [ "$(cat $p/nsid 2>/dev/null)" = "$2" ] && return 0
    done
    return 1
}
wait_path() {
    for i in $(seq 50); do has_path $1 $2 && return 0; sleep 0.2; done
    return 1
}
active_on() { nvme list-ns $1 | grep -q ":0x$2\$"; }
pattern() { yes QEMU-NVME-ATTACH | head -c 1048576; }

check cntlid-16 'nvme id-ctrl $C0 | grep -Ei "^cntlid +: (0x10|16)$"'
check cntlid-17 'nvme id-ctrl $C1 | grep -Ei "^cntlid +: (0x11|17)$"'
check oacs-ns-mgmt '[ $(( $(nvme id-ctrl $C0 | sed -n "s/^oacs *: //p") & 8 )) = 8 ]'
check list-ctrl '[ "$(nvme list-ctrl $C0 | grep -c "^\[ *[0-9]*\]:")" = 2 ]'
check_fails create-no-pool 'nvme create-ns $C0 --nsze=8 --ncap=8 --flbas=0'
check seen 'wait_ns 1'
check write 'pattern | dd of=$(ns_dev 1) bs=1M seek=2 oflag=direct 2>/dev/null'

check detach-both 'nvme detach-ns $C0 -n 1 -c 16,17'
check gone 'wait_gone 1'
check inactive '! active_on $C0 1 && ! active_on $C1 1'
check_fails detach-again 'nvme detach-ns $C0 -n 1 -c 16'
check attach-c0 'nvme attach-ns $C0 -n 1 -c 16'
check back 'wait_ns 1'
check data-kept 'pattern > /tmp/p &&
    dd if=$(ns_dev 1) of=/tmp/q bs=1M skip=2 count=1 iflag=direct 2>/dev/null &&
    cmp /tmp/p /tmp/q'
check not-on-c1 '! active_on $C1 1'
check_fails attach-twice 'nvme attach-ns $C0 -n 1 -c 16'
check attach-c1 'nvme attach-ns $C0 -n 1 -c 17 && wait_path 17 1'
check no-path-c0-for-2 '! has_path 16 2'

check detached-at-start '! active_on $C0 2 && ! active_on $C1 2'
check attach-other 'nvme attach-ns $C0 -n 2 -c 17 && wait_path 17 2'
check only-other 'active_on $C1 2 && ! active_on $C0 2'
check other-io 'dd if=/dev/urandom of=/tmp/a bs=4k count=4 2>/dev/null &&
    dd if=/tmp/a of=$(ns_dev 2) bs=4k oflag=direct 2>/dev/null &&
    dd if=$(ns_dev 2) of=/tmp/b bs=4k count=4 iflag=direct 2>/dev/null &&
    cmp /tmp/a /tmp/b'

check_fails private-elsewhere 'nvme attach-ns $C0 -n 3 -c 17'
check private-detach 'nvme detach-ns $C0 -n 3 -c 16 && ! active_on $C0 3'
check private-back 'nvme attach-ns $C0 -n 3 -c 16 && active_on $C0 3'
'''

CHECKS = 25


def test_attach_without_pool(g):
    d1, d2, d3 = g.disk('32M'), g.disk('16M'), g.disk('16M')
    g.boot_checks(SCRIPT, g.drive(d1, 'd1') + g.drive(d2, 'd2') +
                  g.drive(d3, 'd3') + [
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-12.org.qemu:attach',
        '-device', 'nvme,id=c0,bus=rp0,serial=ATT0,subsys=ss,cntlid=16',
        '-device', 'nvme,id=c1,bus=rp1,serial=ATT1,subsys=ss,cntlid=17',
        '-device', 'nvme-ns,bus=c0,drive=d1,nsid=1',
        '-device', 'nvme-ns,bus=c0,drive=d2,nsid=2,detached=on',
        '-device', 'nvme-ns,bus=c0,drive=d3,nsid=3,shared=off',
    ], CHECKS)
