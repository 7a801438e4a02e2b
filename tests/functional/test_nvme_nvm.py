#
# The NVM command set I/O commands from the guest: nvme-cli's write-zeroes,
# dsm, compare, verify, copy, write-uncor and get-lba-status, and Linux's
# own use of them (discard and write zeroes limits, blkdiscard, fio trim);
# DULBE with set-feature 5h and reads of deallocated blocks.
# One boot, one controller with namespace 1 through drive=.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


def topology(g):
    disk = g.disk('64M')
    return g.drive(disk, 'd0', discard='unmap') + [
        '-device', 'nvme,serial=NVM,drive=d0',
    ]


# The namespace is found by its size in 512-byte sectors (64 MiB), the
# controller by its serial.
SCRIPT = r'''
for n in /sys/block/nvme*n*; do
    [ "$(cat $n/size)" = 131072 ] && NS=/dev/${n##*/}
done
for c in /sys/class/nvme/nvme*; do
    case "$(cat $c/serial)" in NVM*) C=/dev/${c##*/} ;; esac
done
Q=/sys/block/${NS#/dev/}/queue
echo "NS=$NS C=$C"
dd if=/dev/zero of=/tmp/zero bs=512 count=16 2>/dev/null
dd if=/dev/urandom of=/tmp/r bs=512 count=16 2>/dev/null
# rd LBA COUNT: COUNT blocks from LBA, bypassing the page cache
rd() { dd if=$NS bs=512 skip=$1 count=$2 iflag=direct 2>/dev/null; }
# wr FILE LBA COUNT
wr() { dd if=$1 of=$NS bs=512 seek=$2 count=$3 oflag=direct conv=notrunc 2>/dev/null; }

# ONCS: Compare, Write Uncorrectable, DSM, Write Zeroes, Save/Select,
# Reservations, Timestamp, Verify, Copy
check oncs 'nvme id-ctrl $C | grep -E "^oncs +: 0x1ff"'
check id-ns-copy-limits 'nvme id-ns $NS | grep -E "^mssrl +: 128" &&
                         nvme id-ns $NS | grep -E "^mcl +: 128" &&
                         nvme id-ns $NS | grep -E "^msrc +: 127"'
check id-ns-dlfeat 'nvme id-ns $NS | grep -E "^dlfeat +: 9"'
check linux-discard-limit '[ "$(cat $Q/discard_max_bytes)" -gt 0 ]'
check linux-write-zeroes-limit '[ "$(cat $Q/write_zeroes_max_bytes)" -gt 0 ]'

check write-zeroes 'wr /tmp/r 800 16 && nvme write-zeroes $NS -s 804 -c 7 &&
    rd 804 8 | cmp -n 4096 - /tmp/zero &&
    rd 800 4 | cmp -n 2048 - /tmp/r &&
    rd 812 4 > /tmp/t && dd if=/tmp/r bs=512 skip=12 count=4 2>/dev/null |
    cmp - /tmp/t'
check write-zeroes-deac 'wr /tmp/r 900 8 && nvme write-zeroes $NS -s 900 -c 7 -d &&
    rd 900 8 | cmp -n 4096 - /tmp/zero'
check_fails write-zeroes-beyond-end 'nvme write-zeroes $NS -s 131071 -c 1'

check dsm 'nvme dsm $NS --ad -s 2000,3000 -b 8,16'
check dsm-no-ad 'nvme dsm $NS -s 2000 -b 8 --idr'
check_fails dsm-beyond-end 'nvme dsm $NS --ad -s 2000,131070 -b 8,4'

check compare 'wr /tmp/r 1600 8 &&
    dd if=/tmp/r of=/tmp/c bs=512 count=8 2>/dev/null &&
    nvme compare $NS -s 1600 -c 7 -z 4096 -d /tmp/c'
check_fails compare-mismatch 'nvme compare $NS -s 1601 -c 7 -z 4096 -d /tmp/c'

# VSL 7 (the default): 512 KiB, 1024 blocks of 512 bytes
check verify 'nvme verify $NS -s 0 -c 1023'
check_fails verify-over-vsl 'nvme verify $NS -s 0 -c 1024'
check_fails verify-beyond-end 'nvme verify $NS -s 131000 -c 100'

check copy 'wr /tmp/r 3200 4 &&
    dd if=/tmp/r bs=512 skip=8 count=4 2>/dev/null > /tmp/c2 &&
    wr /tmp/c2 3300 4 &&
    nvme copy $NS --sdlba=4000 --slbs=3200,3300 --blocks=3,3 &&
    rd 4000 4 | cmp -n 2048 - /tmp/r && rd 4004 4 | cmp - /tmp/c2'
check_fails copy-too-long 'nvme copy $NS --sdlba=4000 --slbs=3200 --blocks=128'

check write-uncor 'wr /tmp/r 5000 8 && nvme write-uncor $NS -s 5000 -c 3'
check_fails read-uncor 'nvme read $NS -s 5001 -c 0 -z 512 -d /dev/null'
check_fails dd-uncor 'rd 5000 8 > /dev/null'
check read-around-uncor 'nvme read $NS -s 5004 -c 3 -z 2048 -d /dev/null'
check_fails verify-uncor 'nvme verify $NS -s 4990 -c 20'
# nvme-cli 2.3 (libnvme 1.3) sends Get LBA Status without a data length,
# so the kernel maps no buffer: only the status is checked through it, and
# the data through admin-passthru. Expected: NLSD 1, CMPC 2 (whole range),
# DSLBA 5000 (1388h), NLB 4.
check get-lba-status 'nvme get-lba-status $NS -n 1 -s 0 -m 1023 -a 17'
check_fails get-lba-status-bad-atype 'nvme get-lba-status $NS -n 1 -a 2'
check get-lba-status-data 'nvme admin-passthru $C -o 0x86 -n 1 --cdw12=1023 \
    --cdw13=0x11000000 -l 64 -r > /tmp/s && cat /tmp/s &&
    grep "^0000: 01 00 00 00 02 00 00 00 88 13 00 00 00 00 00 00" /tmp/s &&
    grep "^0010: 04 00 00 00 00 00 00 00" /tmp/s'
check lba-status-log 'nvme get-log $C -i 14 -l 48 > /tmp/l && cat /tmp/l &&
    grep "^0000: 30 00 00 00 01 00 00 00 04 00 00 00" /tmp/l'
check rewrite-uncor 'wr /tmp/zero 5000 4 && rd 5000 8 > /dev/null &&
    nvme read $NS -s 5000 -c 3 -z 2048 -d /dev/null'
check get-lba-status-clear 'nvme admin-passthru $C -o 0x86 -n 1 --cdw12=1023 \
    --cdw13=0x11000000 -l 64 -r | grep "^0000: 00 00 00 00 02 00 00 00"'

check blkdiscard 'blkdiscard -o 33554432 -l 4194304 $NS'
check blkdiscard-whole 'blkdiscard $NS'
check fio-trim 'fio --name=trim --filename=$NS --ioengine=psync --direct=1 \
    --rw=randtrim --bs=64k --offset=16M --size=8M >/tmp/fio 2>&1 ||
    { cat /tmp/fio; exit 1; }'
check fio-write-trim-verify 'fio --name=tw --filename=$NS --ioengine=psync \
    --direct=1 --rw=trimwrite --bs=16k --offset=32M --size=4M \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
check smart-after 'nvme smart-log $C | grep -E "^host_read_commands[[:space:]]+: [1-9]"'

# DULBE (Error Recovery bit 16): the discarded range at 48 MiB reads as an
# error while it is set, as zeroes otherwise; written blocks always read.
check dulbe-nsfeat '[ $(( $(nvme id-ns $NS | sed -n "s/^nsfeat *: //p") & 4 )) = 4 ]'
check dulbe-set 'nvme set-feature $C -n 1 -f 0x5 -v 0x10000 &&
    nvme get-feature $C -n 1 -f 0x5 | grep -iE "0x0*10000"'
check dulbe-deallocated 'blkdiscard -o 50331648 -l 1048576 $NS &&
    ! nvme read $NS -s 98304 -c 7 -z 4096 -d /tmp/d 2>/tmp/e &&
    grep -i "deallocated" /tmp/e'
check dulbe-written 'wr /tmp/r 98304 16 && nvme read $NS -s 98304 -c 15 -z 8192 -d /tmp/d &&
    cmp /tmp/d /tmp/r'
check dulbe-off 'nvme set-feature $C -n 1 -f 0x5 -v 0 &&
    nvme read $NS -s 98400 -c 15 -z 8192 -d /tmp/d && cmp /tmp/d /tmp/zero'
'''


def test_nvm_commands(g):
    r = g.boot(SCRIPT, topology(g), timeout=300)
    r.assert_ok()
    assert len(r.checks) >= 30, r.checks
