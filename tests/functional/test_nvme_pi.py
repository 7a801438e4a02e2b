#
# End-to-end data protection from the guest: Linux block integrity on a
# namespace with 8 bytes of type 1 protection information (the kernel
# generates and verifies the PI), nvme io-passthru reads with PRCHK bits,
# nvme format --lbaf/--ms/--pi/--pil turning a plain namespace into a
# protected one, nvme copy with Source Range Entries format 0h (16b Guard)
# and 1h (64b Guard, namespace 3), and a sector corrupted in the backing
# file coming back as an I/O error at the next boot.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
from test_nvme_nsmgmt import HELPERS

COMMON = HELPERS + r'''
C=/dev/nvme0
P1=$(ns_dev 1)
P2=$(ns_dev 2)
P3=$(ns_dev 3)
integrity() { cat /sys/block/${1#/dev/}/integrity/format; }
pattern() { yes "QEMU-NVME-PI-$1" | head -c $2; }
'''

FIRST = COMMON + r'''
check integrity-format '[ "$(integrity $P1)" = T10-DIF-TYPE1-CRC ]'
check id-ns-dps 'nvme id-ns $P1 | grep -E "^dps +: 0x1"'
check write-read 'pattern A 1048576 > /tmp/a &&
    dd if=/tmp/a of=$P1 bs=64k seek=16 oflag=direct 2>/dev/null &&
    dd if=$P1 of=/tmp/b bs=64k skip=16 count=16 iflag=direct 2>/dev/null &&
    cmp /tmp/a /tmp/b'
check fio-verify 'fio --name=pi --filename=$P1 --direct=1 --ioengine=libaio \
    --rw=randwrite --bs=4k --iodepth=8 --offset=8M --size=8M \
    --verify=crc32c --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
# PRACT (29) with guard (28) and reference tag (26) checks, LBA 2048
check passthru-prchk 'nvme io-passthru $P1 -n 1 -o 2 -l 512 -r \
    --cdw10=2048 --cdw12=$(( (1 << 29) | (1 << 28) | (1 << 26) )) \
    --cdw14=2048 > /dev/null'
check passthru-ref-error '! nvme io-passthru $P1 -n 1 -o 2 -l 512 -r \
    --cdw10=2048 --cdw12=$(( (1 << 29) | (1 << 26) )) --cdw14=2049 \
    >/dev/null 2>/tmp/e; cat /tmp/e; grep -i "reference tag" /tmp/e'

# Copy, format 0h: PRINFOR checks the source's PI, PRINFOW's PRACT (8)
# writes new PI for LBA 8192, which the kernel checks when it reads it
check copy-format0 'nvme copy $P1 --sdlba=8192 --slbs=2048 --blocks=7 \
    --format=0 --prinfor=7 --expected-ref-tags=2048 --prinfow=8 \
    --ref-tag=8192 &&
    dd if=$P1 of=/tmp/e bs=4k skip=1024 count=1 iflag=direct 2>/dev/null &&
    dd if=$P1 of=/tmp/f bs=4k skip=256 count=1 iflag=direct 2>/dev/null &&
    cmp /tmp/e /tmp/f'
# Format 1h on namespace 3 (64b Guard, 48-bit reference tags)
check copy-format1 'pattern C 4096 > /tmp/g &&
    nvme io-passthru $P3 -n 3 -o 1 -l 4096 -w -i /tmp/g --cdw10=0 \
        --cdw12=$(( 7 | (1 << 29) )) >/dev/null &&
    nvme copy $P3 --sdlba=4096 --slbs=0 --blocks=7 --format=1 --prinfor=7 \
        --expected-ref-tags=0 --prinfow=8 --ref-tag=4096 &&
    nvme io-passthru $P3 -n 3 -o 2 -l 4096 -r -b --cdw10=4096 \
        --cdw12=$(( 7 | (1 << 29) | (7 << 26) )) --cdw14=4096 > /tmp/h &&
    cmp /tmp/g /tmp/h'
# libnvme 1.3 encodes format 1h expected tags other than 0 wrongly: LBA 16
# gets reference tag 5, and a Copy expecting 0 there must fail
check copy-format1-ref-error 'nvme io-passthru $P3 -n 3 -o 1 -l 4096 -w \
        -i /tmp/g --cdw10=16 --cdw12=$(( 7 | (1 << 29) )) --cdw14=5 \
        >/dev/null &&
    ! nvme copy $P3 --sdlba=8192 --slbs=16 --blocks=7 --format=1 \
        --prinfor=7 --expected-ref-tags=0 --prinfow=8 --ref-tag=8192 \
        2>/tmp/e; cat /tmp/e; grep -i "reference tag" /tmp/e'
check copy-format-mismatch '! nvme copy $P3 --sdlba=8192 --slbs=0 \
    --blocks=7 --format=0 2>/tmp/e; cat /tmp/e; grep -i "invalid field" /tmp/e'

# Namespace 2 has no metadata until nvme format gives it 512 + 8, type 1
L=$(nvme id-ns $P2 | sed -n "s/^lbaf *\([0-9]*\) *: *ms:8 *lbads:9 .*/\1/p" | head -1)
echo "LBAF=$L"
check format-pi 'nvme format $P2 --lbaf=$L --ms=0 --pi=1 --pil=0 --force'
check format-dps 'nvme id-ns $P2 | grep -E "^dps +: 0x1"'
check format-integrity 'for i in $(seq 50); do
        [ "$(integrity $P2)" = T10-DIF-TYPE1-CRC ] && exit 0; sleep 0.2
    done; exit 1'
check format-write-read 'pattern B 262144 > /tmp/c &&
    dd if=/tmp/c of=$P2 bs=64k oflag=direct 2>/dev/null &&
    dd if=$P2 of=/tmp/d bs=64k count=4 iflag=direct 2>/dev/null && cmp /tmp/c /tmp/d'
'''

AFTER_CORRUPTION = COMMON + r'''
check corrupted-sector-fails '! dd if=$P1 of=/dev/null bs=512 skip=2048 count=1 iflag=direct'
check other-sectors-read 'dd if=$P1 of=/dev/null bs=512 skip=2049 count=127 iflag=direct'
check passthru-guard-error '! nvme io-passthru $P1 -n 1 -o 2 -l 512 -r \
    --cdw10=2048 --cdw12=$(( (1 << 29) | (1 << 28) )) --cdw14=2048 \
    >/dev/null 2>/tmp/e; cat /tmp/e; grep -i "guard" /tmp/e'
'''


def test_protection_information(g):
    disk = g.disk('64M')
    plain = g.disk('32M')
    wide = g.disk('16M')
    args = g.drive(disk, 'd1') + g.drive(plain, 'd2') + g.drive(wide, 'd3') + [
        '-device', 'nvme,id=c0,serial=PI0',
        '-device', 'nvme-ns,drive=d1,bus=c0,nsid=1,ms=8,pi=1',
        '-device', 'nvme-ns,drive=d2,bus=c0,nsid=2',
        '-device', 'nvme-ns,drive=d3,bus=c0,nsid=3,ms=16,pi=1,pif=2',
    ]
    g.boot_checks(FIRST, args, 14)
    # One byte of LBA 2048's data, behind the device's back
    with open(disk, 'r+b') as f:
        f.seek(2048 * 512 + 100)
        byte = f.read(1)
        f.seek(2048 * 512 + 100)
        f.write(bytes([byte[0] ^ 0xff]))
    g.boot_checks(AFTER_CORRUPTION, args, 3)
