#
# A subsystem with two controllers: a shared namespace seen by Linux native
# multipath as one disk with two paths, a private namespace on one
# controller, and a controller unplugged and plugged back while idle.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


def topology(g):
    shared, private = g.disk('64M'), g.disk('32M')
    return (g.drive(shared, 'shared') + g.drive(private, 'private') + [
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:mp',
        '-device', 'nvme,id=c0,bus=rp0,serial=MP0,subsys=ss',
        '-device', 'nvme,id=c1,bus=rp1,serial=MP1,subsys=ss',
        '-device', 'nvme-ns,bus=c0,drive=shared,nsid=1',
        '-device', 'nvme-ns,bus=c1,drive=private,nsid=2,shared=off',
    ])


SCRIPT = r'''
# Linux shows the subsystem's serial for every controller: use CNTLID.
ctrl_of() {
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat $c/cntlid)" = "$1" ] && echo ${c##*/}
    done
}
# Namespace block devices, not the hidden per-path ones (nvmeXcYnZ).
by_size() {
    for n in /sys/block/nvme*n*; do
        case ${n##*/} in *c*) continue ;; esac
        [ "$(cat $n/size)" = "$1" ] && echo /dev/${n##*/}
    done | head -1
}
# Paths (nvmeXcYnZ) of NSID 1: Z is Linux's numbering, not the NSID.
shared_paths() {
    for p in /sys/block/nvme*c*n*; do
        [ "$(cat $p/nsid 2>/dev/null)" = 1 ] && echo $p
    done | wc -l
}
C0=/dev/$(ctrl_of 0)
C1=/dev/$(ctrl_of 1)
SHARED=$(by_size 131072)
PRIVATE=$(by_size 65536)
echo "C0=$C0 C1=$C1 SHARED=$SHARED PRIVATE=$PRIVATE"

# nvme-cli 2.x list-subsys shows the paths of one namespace only (the
# private one may come first): count the subsystem's controllers in sysfs.
check two-controllers '[ "$(ls /sys/class/nvme-subsystem/*/ | grep -c "^nvme[0-9]*$")" = 2 ] &&
    [ "$(cat /sys/class/nvme/nvme*/state | grep -c live)" = 2 ]'
check subnqn 'nvme list-subsys | grep "NQN=nqn.2026-11.org.qemu:mp"'
# multi-controller (bit 1) and ANA reporting (bit 3)
check cmic 'nvme id-ctrl $C0 | grep -E "^cmic +: 0xa"'
check cntlids '[ "$(nvme id-ctrl $C0 | sed -n "s/^cntlid *: //p")" != \
                 "$(nvme id-ctrl $C1 | sed -n "s/^cntlid *: //p")" ]'
check nmic-shared 'nvme id-ns $SHARED | grep -E "^nmic +: 0x1|^nmic +: 1"'
check nmic-private 'nvme id-ns $PRIVATE | grep -E "^nmic +: 0"'
# One disk, two hidden paths (nvmeXc0nY, nvmeXc1nY) for the shared one.
check two-paths '[ "$(shared_paths)" = 2 ]'
check private-on-c1 'nvme list-ns $C1 | grep -q ":0x2$"'
check private-not-on-c0 '! nvme list-ns $C0 | grep -q ":0x2$"'
check fio-verify-shared 'fio --name=mp --filename=$SHARED --direct=1 \
    --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 --numjobs=2 \
    --size=8M --offset_increment=8M --verify=crc32c --do_verify=1 \
    --group_reporting >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
check write-before 'dd if=/dev/urandom of=/tmp/x bs=1M count=2 2>/dev/null &&
                    dd if=/tmp/x of=$SHARED bs=1M seek=40 oflag=direct 2>/dev/null'

# Unplug controller 1 while idle: the shared namespace keeps a path and its
# data; the private namespace goes with its controller.
echo "HOST-HMP: device_del c1"
for i in $(seq 50); do [ -e $C1 ] || break; sleep 0.2; done
check unplugged '[ ! -e $C1 ]'
check one-path-left '[ "$(shared_paths)" = 1 ]'
check shared-survives 'dd if=$SHARED of=/tmp/y bs=1M skip=40 count=2 iflag=direct 2>/dev/null &&
                       cmp /tmp/x /tmp/y'

# Plug it back: the shared namespace gets its second path again.
echo "HOST-HMP: device_add nvme,id=c1,bus=rp1,serial=MP1,subsys=ss"
for i in $(seq 50); do
    [ "$(shared_paths)" = 2 ] && break
    sleep 0.2
done
check replugged '[ "$(ls /sys/class/nvme-subsystem/*/ | grep -c "^nvme[0-9]*$")" = 2 ] &&
    [ "$(cat /sys/class/nvme/nvme*/state | grep -c live)" = 2 ]'
check two-paths-again '[ "$(shared_paths)" = 2 ]'
check data-after-replug 'dd if=$SHARED of=/tmp/z bs=1M skip=40 count=2 iflag=direct 2>/dev/null &&
                         cmp /tmp/x /tmp/z'
'''


def test_multipath_and_hotplug(g):
    r = g.boot(SCRIPT, topology(g), timeout=300)
    r.assert_ok()
    assert len(r.checks) == 17, r.checks
