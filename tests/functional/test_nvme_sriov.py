#
# SR-IOV with Linux: the primary's capabilities and secondary controllers
# (nvme-cli), Virtualization Management to give VF 1 queues and a vector
# and bring it online, sriov_numvfs to create it, the VF as a controller of
# the same subsystem doing I/O, and the VF taken away again.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


SCRIPT = r'''
C=/dev/nvme0
PF=$(readlink -f /sys/class/nvme/nvme0/device)
check pri-caps 'nvme primary-ctrl-caps $C | grep -Eiq "vqfrt *: *2"'
check sec-list-offline 'nvme list-secondary $C | grep -Eiq "offline"'
check_fails enable-without-resources 'echo 1 > $PF/sriov_numvfs &&
    for i in $(seq 25); do [ -e /dev/nvme1 ] && break; sleep 0.2; done &&
    nvme id-ctrl /dev/nvme1 >/dev/null 2>&1'
echo 0 > $PF/sriov_numvfs 2>/dev/null
check assign-vq 'nvme virt-mgmt $C -c 1 -r 0 -a 8 -n 2'
check assign-vi 'nvme virt-mgmt $C -c 1 -r 1 -a 8 -n 1'
check online 'nvme virt-mgmt $C -c 1 -a 9'
check sec-list-online 'nvme list-secondary $C | grep -Eiq "online"'
check numvfs 'echo 1 > $PF/sriov_numvfs'
vf() { for i in $(seq 50); do
           c=$(grep -l "^1$" /sys/class/nvme/nvme*/cntlid 2>/dev/null | head -1)
           [ -n "$c" ] && basename $(dirname $c) && return; sleep 0.2; done; }
V=$(vf)
check vf-controller '[ -n "$V" ] && nvme id-ctrl /dev/$V | grep -Eq "^cntlid +: (0x)?1$"'
check vf-same-subsystem '[ "$(cat /sys/class/nvme/$V/subsysnqn)" = "$(cat /sys/class/nvme/nvme0/subsysnqn)" ]'
check vf-io 'dd if=/dev/urandom of=/tmp/x bs=4k count=1 2>/dev/null &&
    nvme write /dev/$V -n 1 -s 0 -c 7 -z 4096 -d /tmp/x >/dev/null &&
    dd if=/dev/nvme0n1 of=/tmp/y bs=4k count=1 iflag=direct 2>/dev/null &&
    cmp /tmp/x /tmp/y'
check numvfs-0 'echo 0 > $PF/sriov_numvfs && sleep 1 && [ ! -e /sys/class/nvme/$V ]'
check resources-kept 'nvme list-secondary $C | grep -Eiq "online"'
'''


def test_sriov(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') +
               ['-device', 'nvme-subsys,id=s0',
                '-device', 'nvme,id=c0,serial=SRIOV,subsys=s0,'
                'sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1',
                '-device', 'nvme-ns,drive=d0,nsid=1,bus=c0'])
    r.assert_ok()
