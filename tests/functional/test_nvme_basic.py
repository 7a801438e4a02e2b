#
# The Linux nvme driver, nvme-cli and fio on our controller: one boot with
# a controller holding namespace 1 through drive=, and a second controller
# in an nvme-subsys with two nvme-ns namespaces (512 B and 4 KiB blocks).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


def topology(g):
    a, b, c = g.disk('64M'), g.disk('128M'), g.disk('96M')
    return (g.drive(a, 'a') + g.drive(b, 'b') + g.drive(c, 'c') + [
        '-device', 'nvme,id=nvme-a,serial=SERIAL-A,drive=a',
        '-device', 'nvme-subsys,id=subsys0,nqn=nqn.2026-11.org.qemu:test',
        '-device', 'nvme,id=nvme-b,serial=SERIAL-B,subsys=subsys0',
        '-device', 'nvme-ns,bus=nvme-b,drive=b,nsid=1',
        '-device', 'nvme-ns,bus=nvme-b,drive=c,nsid=3,'
                   'logical_block_size=4096,physical_block_size=4096',
    ])


# Controllers are found by serial and namespaces by size (in 512-byte
# sectors), so that probe order does not matter.
SCRIPT = r'''
for c in /sys/class/nvme/nvme*; do
    case "$(cat $c/serial)" in
    SERIAL-A*) A=/dev/${c##*/} ;;
    SERIAL-B*) B=/dev/${c##*/} ;;
    esac
done
by_size() {
    for n in /sys/block/nvme*n*; do
        [ "$(cat $n/size)" = "$1" ] && echo /dev/${n##*/}
    done | head -1
}
NSA=$(by_size 131072)
NSB1=$(by_size 262144)
NSB3=$(by_size 196608)
echo "A=$A B=$B NSA=$NSA NSB1=$NSB1 NSB3=$NSB3"

check list 'nvme list | grep SERIAL-A && nvme list | grep SERIAL-B'
check id-ctrl-serial 'nvme id-ctrl $A | grep -E "^sn +: SERIAL-A"'
check id-ctrl-vid 'nvme id-ctrl $A | grep -E "^vid +: 0x1b36"'
check id-ctrl-cntrltype 'nvme id-ctrl $A | grep -E "^cntrltype +: 1"'
check id-ctrl-subnqn 'nvme id-ctrl $B | grep "subnqn *: nqn.2026-11.org.qemu:test"'
check list-subsys 'nvme list-subsys | grep nqn.2026-11.org.qemu:test'
check list-ns 'nvme list-ns $B | grep -E "\]:0x1" && nvme list-ns $B | grep -E "\]:0x3"'
check id-ns-size 'nvme id-ns $NSA | grep -E "^nsze +: 0x20000"'
check ns-4k '[ "$(cat /sys/block/${NSB3#/dev/}/queue/logical_block_size)" = 4096 ]'
check smart-log 'nvme smart-log $A | grep -E "^available_spare[[:space:]]+: 100%"'
check error-log 'nvme error-log $A -e 1'
check fw-log 'nvme fw-log $A | grep -E "frs1 *: .*1.0"'
check effects-log 'nvme effects-log $A --csi=0'
# Delete SQ, Create SQ, Get Log Page supported; opcode 03h not.
check effects-raw 'nvme get-log $A -i 5 -l 4096 |
                   grep "^0000: 01 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00"'
check get-feature-vwc 'nvme get-feature $A -f 6 | grep -E "Current value:0x0*1"'
check get-feature-queues 'nvme get-feature $A -f 7 | grep -i "Current value:0x"'
check set-feature-temp 'nvme set-feature $A -f 4 -v 0x160 &&
                        nvme get-feature $A -f 4 | grep "Current value:0x0*160"'
check_fails set-feature-bad-fid 'nvme set-feature $A -f 0x7e -v 1'

check dd-roundtrip 'dd if=/dev/urandom of=/tmp/x bs=1M count=4 2>/dev/null &&
                    dd if=/tmp/x of=$NSA bs=1M seek=40 oflag=direct 2>/dev/null &&
                    dd if=$NSA of=/tmp/y bs=1M skip=40 count=4 iflag=direct 2>/dev/null &&
                    cmp /tmp/x /tmp/y'
check flush 'nvme flush $NSA'
check_fails read-beyond-end 'nvme read $NSA -s 131072 -c 0 -z 512 -d /dev/null'
check smart-counts 'nvme smart-log $A | grep -E "^host_write_commands[[:space:]]+: [1-9]"'

check fio-verify-4k 'fio --name=v4k --filename=$NSA --direct=1 --ioengine=libaio \
    --rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=16M --offset_increment=16M \
    --verify=crc32c --do_verify=1 --group_reporting >/tmp/fio1 2>&1 ||
    { cat /tmp/fio1; exit 1; }'
check fio-verify-128k 'for d in $NSB1 $NSB3; do
    fio --name=v128k --filename=$d --direct=1 --ioengine=libaio \
        --rw=write --bs=128k --iodepth=1 --size=32M --verify=md5 --do_verify=1 \
        >/tmp/fio2 2>&1 || { cat /tmp/fio2; exit 1; }
done'

# Linux builds SGLs for requests whose segments average at least this size.
check fio-verify-sgl 'echo 512 > /sys/module/nvme/parameters/sgl_threshold &&
    fio --name=sgl --filename=$NSB1 --direct=1 --ioengine=libaio \
        --rw=randwrite --bsrange=4k-256k --iodepth=8 --size=32M --offset=32M \
        --verify=crc32c --do_verify=1 >/tmp/fio3 2>&1 || { cat /tmp/fio3; exit 1; }'
echo 32768 > /sys/module/nvme/parameters/sgl_threshold

check reset 'nvme reset $A && sleep 1 &&
             dd if=$NSA of=/tmp/z bs=1M skip=40 count=4 iflag=direct 2>/dev/null &&
             cmp /tmp/x /tmp/z'
check subsystem-reset 'nvme subsystem-reset $A; sleep 3;
             dd if=$NSA of=/tmp/z bs=1M skip=40 count=4 iflag=direct 2>/dev/null &&
             cmp /tmp/x /tmp/z'
'''


def test_nvme_cli_and_fio(g):
    r = g.boot(SCRIPT, topology(g), timeout=420)
    r.assert_ok()
    assert len(r.checks) >= 25, r.checks
