#
# The explicit topology: an x-nvme-subsystem object, two controllers and
# x-nvme-ns-nvm namespace objects attached by controller ID. Unplugging a
# controller leaves the shared namespace and its data; a namespace object
# added with QMP object-add appears in the guest by itself. And a pool of
# created namespaces that survives QEMU being killed with SIGKILL.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
from test_nvme_nsmgmt import HELPERS, TNVMCAP

NQN = 'nqn.2026-11.org.qemu:topology'

OBJECTS = HELPERS + r'''
C0=/dev/$(ctrl_of 0)
C1=/dev/$(ctrl_of 1)
qmp() { echo "HOST-QMP: $1"; }
wait_gone() { for i in $(seq 100); do [ -e $1 ] || return 0; sleep 0.2; done; return 1; }
# Paths (nvmeXcYnZ) of the namespace with NSID 1, once there are $1 of
# them (Z is Linux's own numbering, not the NSID)
paths_of_1() {
    for p in /sys/block/nvme*c*n*; do
        [ "$(cat $p/nsid 2>/dev/null)" = 1 ] && echo $p
    done | wc -l
}
wait_paths() {
    for i in $(seq 100); do
        [ "$(paths_of_1)" = $1 ] && return 0
        sleep 0.2
    done
    return 1
}
check two-controllers '[ "$(ls /sys/class/nvme-subsystem/*/ | grep -c "^nvme[0-9]*$")" = 2 ]'
check subnqn 'nvme list-subsys | grep "NQN=''' + NQN + r'''"'
check shared-two-paths 'wait_paths 2'
check ns2-on-c1-only 'nvme list-ns $C1 | grep -q ":0x2$" && ! nvme list-ns $C0 | grep -q ":0x2$"'
check ns3-on-c0-only 'nvme list-ns $C0 | grep -q ":0x3$" && ! nvme list-ns $C1 | grep -q ":0x3$"'
check ns2-uuid 'nvme id-ns $(ns_dev 2) | grep -qE "^nmic +: (0x)?1$" &&
    nvme ns-descs $(ns_dev 2) | grep -qi "5b1d0a2e-6c3f-4e8a-9d47-0f2b3c4d5e6f"'
check fio-shared 'fio --name=t --filename=$(ns_dev 1) --direct=1 \
    --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 --size=8M \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
check write-before 'dd if=/dev/urandom of=/tmp/x bs=1M count=2 2>/dev/null &&
    dd if=/tmp/x of=$(ns_dev 1) bs=1M seek=20 oflag=direct 2>/dev/null'

# Unplug c0: the namespace objects stay; NSID 1 keeps its c1 path.
echo "HOST-HMP: device_del c0"
check c0-unplugged 'wait_gone $C0'
check one-path-left 'wait_paths 1'
check shared-data 'dd if=$(ns_dev 1) of=/tmp/y bs=1M skip=20 count=2 iflag=direct 2>/dev/null &&
    cmp /tmp/x /tmp/y'
check ns2-still 'nvme list-ns $C1 | grep -q ":0x2$"'

# A namespace added at run time, attached to every controller
qmp '{"execute": "blockdev-add", "arguments": {"driver": "file", "node-name": "hot", "filename": "@HOT@"}}'
qmp '{"execute": "object-add", "arguments": {"qom-type": "x-nvme-ns-nvm", "id": "ns-hot", "subsys": "ss", "drive": "hot", "nsid": 7}}'
check hot-ns-seen 'wait_ns 7'
check hot-ns-io 'dd if=/tmp/x of=$(ns_dev 7) bs=1M oflag=direct 2>/dev/null &&
    dd if=$(ns_dev 7) of=/tmp/z bs=1M count=2 iflag=direct 2>/dev/null && cmp /tmp/x /tmp/z'

# c0 comes back with its namespaces (attached-to names it)
echo "HOST-HMP: device_add nvme,id=c0,bus=rp0,serial=TOPO0,subsys=ss"
check replugged-two-paths 'wait_paths 2'
check ns3-back 'wait_ns 3'
'''


def test_objects_and_unplug(g):
    disks = [g.disk('64M') for _ in range(3)]
    hot = g.disk('16M', 'hot.img')
    args = [
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
        '-object', 'x-nvme-subsystem,id=ss,nqn=' + NQN,
        '-device', 'nvme,id=c0,bus=rp0,serial=TOPO0,subsys=ss',
        '-device', 'nvme,id=c1,bus=rp1,serial=TOPO1,subsys=ss',
    ]
    for i, disk in enumerate(disks):
        args += ['-blockdev', 'file,node-name=b%d,filename=%s' % (i, disk)]
    args += [
        '-object', 'x-nvme-ns-nvm,id=ns1,subsys=ss,drive=b0,nsid=1',
        '-object', 'x-nvme-ns-nvm,id=ns2,subsys=ss,drive=b1,nsid=2,'
                   'attached-to=c1,uuid=5b1d0a2e-6c3f-4e8a-9d47-0f2b3c4d5e6f',
        '-object', 'x-nvme-ns-nvm,id=ns3,subsys=ss,drive=b2,nsid=3,'
                   'attached-to=c0',
    ]
    g.boot_checks(OBJECTS.replace('@HOT@', hot), args, 16)


# Namespace Management on an x-nvme-subsystem pool, then SIGKILL: the
# next QEMU finds the namespaces, their formats, attachments and data.
BEFORE_KILL = HELPERS + r'''
C=/dev/$(ctrl_of 0)
check create 'nvme create-ns $C --nsze=16384 --ncap=16384 --flbas=0 --nmic=1 &&
    nvme attach-ns $C -n 1 -c 0 && wait_ns 1'
check create-4k 'nvme create-ns $C --nsze=1024 --ncap=1024 --block-size=4096 &&
    nvme attach-ns $C -n 2 -c 0 && wait_ns 2'
check write 'yes QEMU-NVME-KILL | head -c 2097152 > /tmp/p &&
    dd if=/tmp/p of=$(ns_dev 1) bs=1M seek=1 oflag=direct 2>/dev/null'
echo "HOST-KILL: now"
sleep 600
'''

AFTER_KILL = HELPERS + r'''
C=/dev/$(ctrl_of 0)
check both-listed '[ "$(nvme list-ns $C --all | wc -l)" = 2 ]'
check data 'wait_ns 1 && yes QEMU-NVME-KILL | head -c 2097152 > /tmp/p &&
    dd if=$(ns_dev 1) of=/tmp/q bs=1M skip=1 count=2 iflag=direct 2>/dev/null &&
    cmp /tmp/p /tmp/q'
check format-kept 'wait_ns 2 &&
    [ "$(cat /sys/block/$(basename $(ns_dev 2))/queue/logical_block_size)" = 4096 ]'
'''


def test_pool_after_kill(g):
    args = [
        '-object', 'x-nvme-subsystem,id=ss,nqn=%s,ns-pool=%s/pool,'
                   'tnvmcap=%d' % (NQN, g.scratch, TNVMCAP),
        '-device', 'nvme,id=c0,serial=KILL0,subsys=ss',
    ]
    g.boot_checks(BEFORE_KILL, args, 3, killed=True)
    g.boot_checks(AFTER_KILL, args, 3)
