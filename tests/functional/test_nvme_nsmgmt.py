#
# Namespace Management and Attachment from the guest with nvme-cli, on a
# subsystem of two controllers whose namespaces live in a pool directory,
# and the same pool across QEMU restarts: the namespaces, their data, LBA
# formats and attachments are found again. An administrative controller
# managing the pool for an I/O controller.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest

TNVMCAP = 256 << 20

# Controllers by CNTLID and namespaces by NSID: Linux names both in the
# order its (asynchronous) probing and scanning happen to finish.
HELPERS = r'''
ctrl_of() {
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat $c/cntlid)" = "$1" ] && echo ${c##*/}
    done
}
# The block device of NSID $1 (the multipath head, not nvmeXcYnZ paths).
ns_dev() {
    for n in /sys/block/nvme*n*; do
        case ${n##*/} in *c*) continue ;; esac
        [ "$(cat $n/nsid 2>/dev/null)" = "$1" ] && echo /dev/${n##*/}
    done | head -1
}
wait_ns() {
    for i in $(seq 50); do [ -n "$(ns_dev $1)" ] && return 0; sleep 0.2; done
    return 1
}
'''

COMMON = HELPERS + r'''
C0=/dev/$(ctrl_of 0)
C1=/dev/$(ctrl_of 1)
rescan() { nvme ns-rescan $C0; nvme ns-rescan $C1; sleep 1; }
pattern() { yes QEMU-NVME-NSMGMT | head -c 1048576; }
'''

CREATE = COMMON + r'''
check oacs-ns-mgmt '[ $(( $(nvme id-ctrl $C0 | sed -n "s/^oacs *: //p") & 8 )) = 8 ]'
check tnvmcap 'nvme id-ctrl $C0 | grep -E "^tnvmcap +: 268435456$"'
check create-shared 'nvme create-ns $C0 --nsze=32768 --ncap=32768 --flbas=0 \
    --nmic=1 | grep -i "success.*nsid:1"'
check create-private 'nvme create-ns $C0 --nsze=2048 --ncap=2048 \
    --block-size=4096 --nmic=0 | grep -i "success.*nsid:2"'
check_fails create-too-big 'nvme create-ns $C0 --nsze=1048576 --ncap=1048576 --flbas=0'
check list-ns-all '[ "$(nvme list-ns $C0 --all | wc -l)" = 2 ]'
check not-active '[ -z "$(nvme list-ns $C0)" ]'
check unvmcap 'nvme id-ctrl $C0 | grep -E "^unvmcap +: 243269632$"'
check attach-shared 'nvme attach-ns $C0 -n 1 -c 0,1'
check attach-private 'nvme attach-ns $C0 -n 2 -c 1'
check_fails attach-private-twice 'nvme attach-ns $C0 -n 2 -c 0'
# No rescan: Linux follows the Namespace Attribute Changed events.
check list-ctrl-shared '[ "$(nvme list-ctrl $C0 -n 1 | grep -c "^\[ *[0-9]*\]:")" = 2 ]'
check seen-shared 'wait_ns 1'
check seen-private 'wait_ns 2'
check private-4k '[ "$(cat /sys/block/$(basename $(ns_dev 2))/queue/logical_block_size)" = 4096 ]'
check write-shared 'pattern | dd of=$(ns_dev 1) bs=1M seek=3 oflag=direct 2>/dev/null'
check fio-private 'fio --name=p --filename=$(ns_dev 2) --direct=1 \
    --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 --size=4M \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
'''

RESTART = COMMON + r'''
rescan
check after-restart-list '[ "$(nvme list-ns $C0 --all | wc -l)" = 2 ]'
check after-restart-c0 'nvme list-ns $C0 | grep -q ":0x1$" && ! nvme list-ns $C0 | grep -q ":0x2$"'
check after-restart-c1 'nvme list-ns $C1 | grep -q ":0x2$"'
check after-restart-data 'wait_ns 1 && pattern > /tmp/p &&
    dd if=$(ns_dev 1) of=/tmp/q bs=1M skip=3 count=1 iflag=direct 2>/dev/null &&
    cmp /tmp/p /tmp/q'
check after-restart-4k 'wait_ns 2 &&
    [ "$(cat /sys/block/$(basename $(ns_dev 2))/queue/logical_block_size)" = 4096 ]'
check format-shared-4k 'nvme format $(ns_dev 1) -l 1 -f'
check detach-c1 'nvme detach-ns $C0 -n 1 -c 1'
check_fails detach-c1-twice 'nvme detach-ns $C0 -n 1 -c 1'
check delete-private 'nvme delete-ns $C0 -n 2'
rescan
check deleted '[ "$(nvme list-ns $C0 --all | wc -l)" = 1 ]'
check unvmcap-back 'nvme id-ctrl $C0 | grep -E "^unvmcap +: 251658240$"'
'''

SECOND_RESTART = COMMON + r'''
rescan
check still-one '[ "$(nvme list-ns $C0 --all | wc -l)" = 1 ]'
check only-on-c0 'nvme list-ns $C0 | grep -q ":0x1$" && [ -z "$(nvme list-ns $C1)" ]'
check format-kept 'wait_ns 1 &&
    [ "$(cat /sys/block/$(basename $(ns_dev 1))/queue/logical_block_size)" = 4096 ]'
check delete-all 'nvme delete-ns $C0 -n 0xffffffff'
rescan
check empty '[ -z "$(nvme list-ns $C0 --all)" ]'
'''


def topology(pool):
    return [
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:pool,'
                   'ns-pool=%s,tnvmcap=%d' % (pool, TNVMCAP),
        '-device', 'nvme,id=c0,bus=rp0,serial=POOL0,subsys=ss',
        '-device', 'nvme,id=c1,bus=rp1,serial=POOL1,subsys=ss',
    ]


def test_nsmgmt_and_restart(g):
    pool = g.scratch + '/pool'
    r = g.boot(CREATE, topology(pool))
    r.assert_ok()
    assert len(r.checks) == 17, r.checks
    r = g.boot(RESTART, topology(pool))
    r.assert_ok()
    assert len(r.checks) == 11, r.checks
    r = g.boot(SECOND_RESTART, topology(pool))
    r.assert_ok()
    assert len(r.checks) == 5, r.checks


# An administrative controller (cntrltype=admin) manages the pool for an
# I/O controller: Linux keeps it live with its admin queue only.
ADMIN = HELPERS + r'''
IO=$(ctrl_of 0)
ADM=$(ctrl_of 1)
check admin-cntrltype 'nvme id-ctrl /dev/$ADM | grep -E "^cntrltype +: 3$"'
check io-cntrltype 'nvme id-ctrl /dev/$IO | grep -E "^cntrltype +: 1$"'
check admin-no-io-queues '[ "$(cat /sys/class/nvme/$ADM/queue_count)" = 1 ]'
check admin-live '[ "$(cat /sys/class/nvme/$ADM/state)" = live ]'
check create-via-admin 'nvme create-ns /dev/$ADM --nsze=8192 --ncap=8192 \
    --flbas=0 --nmic=1 | grep -i "success.*nsid:1"'
check_fails attach-to-admin 'nvme attach-ns /dev/$ADM -n 1 -c 1'
check attach-to-io 'nvme attach-ns /dev/$ADM -n 1 -c 0'
check io-sees-it 'wait_ns 1 && nvme list-ns /dev/$IO | grep -q ":0x1$"'
check admin-sees-none '[ -z "$(nvme list-ns /dev/$ADM)" ]'
check io-write 'd=$(ns_dev 1) &&
    dd if=/dev/urandom of=/tmp/a bs=4k count=8 2>/dev/null &&
    dd if=/tmp/a of=$d bs=4k oflag=direct 2>/dev/null &&
    dd if=$d of=/tmp/b bs=4k count=8 iflag=direct 2>/dev/null && cmp /tmp/a /tmp/b'
'''


def test_admin_controller(g):
    r = g.boot(ADMIN, [
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:adm,'
                   'ns-pool=%s/pool,tnvmcap=%d' % (g.scratch, TNVMCAP),
        '-device', 'nvme,id=c0,serial=IO0,subsys=ss',
        '-device', 'nvme,id=c1,serial=ADM1,subsys=ss,cntrltype=admin',
    ])
    r.assert_ok()
    assert len(r.checks) == 10, r.checks


# Namespace Write Protection with nvme set-feature (FID 84h): Linux turns
# the disk read-only on the Namespace Attribute Changed event; "until power
# cycle" ends with QEMU, "permanent" survives restarts (recorded in the
# pool, for pool and nvme-ns namespaces alike).
WP_COMMON = HELPERS + r'''
C=/dev/nvme0
ro_of() { cat /sys/block/$(basename $(ns_dev $1))/ro; }
wait_ro() {
    for i in $(seq 50); do [ "$(ro_of $1)" = "$2" ] && return 0; sleep 0.2; done
    return 1
}
wps() {
    v=$(nvme get-feature $C -n $1 -f 0x84 | sed -n 's/.*Current value: *//p')
    echo $((0x${v#0x}))
}
try_write() {
    dd if=/dev/zero of=$(ns_dev $1) bs=4k count=1 oflag=direct 2>/dev/null
}
'''

WP_FIRST = WP_COMMON + r'''
check protect 'nvme set-feature $C -n 1 -f 0x84 -v 1'
check linux-ro 'wait_ro 1 1'
check state-1 '[ "$(wps 1)" = 1 ]'
check_fails write-refused 'try_write 1'
check unprotect 'nvme set-feature $C -n 1 -f 0x84 -v 0 && wait_ro 1 0'
check write-again 'try_write 1'
check until-power-cycle 'nvme set-feature $C -n 1 -f 0x84 -v 2 && wait_ro 1 1'
check_fails upc-stays 'nvme set-feature $C -n 1 -f 0x84 -v 0'
check create 'nvme create-ns $C --nsze=4096 --ncap=4096 --flbas=0 --nmic=1 &&
    nvme attach-ns $C -n 2 -c 0'
check seen 'wait_ns 2'
check permanent 'nvme set-feature $C -n 2 -f 0x84 -v 3 && wait_ro 2 1'
check_fails delete-protected 'nvme delete-ns $C -n 2'
'''

WP_SECOND = WP_COMMON + r'''
wait_ns 1; wait_ns 2
check upc-gone '[ "$(ro_of 1)" = 0 ] && [ "$(wps 1)" = 0 ] && try_write 1'
check permanent-kept '[ "$(ro_of 2)" = 1 ] && [ "$(wps 2)" = 3 ]'
check_fails permanent-stays 'nvme set-feature $C -n 2 -f 0x84 -v 0'
check permanent-nvme-ns 'nvme set-feature $C -n 1 -f 0x84 -v 3 && wait_ro 1 1'
'''

WP_THIRD = WP_COMMON + r'''
wait_ns 1; wait_ns 2
check nvme-ns-kept '[ "$(ro_of 1)" = 1 ] && [ "$(wps 1)" = 3 ]'
check pool-ns-kept '[ "$(ro_of 2)" = 1 ]'
'''


def test_write_protection(g):
    disk = g.disk('32M')
    args = g.drive(disk, 'd1') + [
        '-device', 'nvme-subsys,id=ss,nqn=nqn.2026-11.org.qemu:wp,'
                   'ns-pool=%s/pool,tnvmcap=%d' % (g.scratch, TNVMCAP),
        '-device', 'nvme,id=c0,serial=WP0,subsys=ss',
        '-device', 'nvme-ns,bus=c0,drive=d1,nsid=1',
    ]
    for script, checks in ((WP_FIRST, 12), (WP_SECOND, 4), (WP_THIRD, 2)):
        r = g.boot(script, args)
        r.assert_ok()
        assert len(r.checks) == checks, r.checks
