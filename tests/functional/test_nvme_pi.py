#
# End-to-end data protection from the guest: Linux block integrity on a
# namespace with 8 bytes of type 1 protection information (the kernel
# generates and verifies the PI), nvme io-passthru reads with PRCHK bits,
# nvme format --lbaf/--ms/--pi/--pil turning a plain namespace into a
# protected one, and a sector corrupted in the backing file coming back as
# an I/O error at the next boot.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest
from test_nvme_nsmgmt import HELPERS

COMMON = HELPERS + r'''
C=/dev/nvme0
P1=$(ns_dev 1)
P2=$(ns_dev 2)
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
    args = g.drive(disk, 'd1') + g.drive(plain, 'd2') + [
        '-device', 'nvme,id=c0,serial=PI0',
        '-device', 'nvme-ns,drive=d1,bus=c0,nsid=1,ms=8,pi=1',
        '-device', 'nvme-ns,drive=d2,bus=c0,nsid=2',
    ]
    g.boot_checks(FIRST, args, 10)
    # One byte of LBA 2048's data, behind the device's back
    with open(disk, 'r+b') as f:
        f.seek(2048 * 512 + 100)
        byte = f.read(1)
        f.seek(2048 * 512 + 100)
        f.write(bytes([byte[0] ^ 0xff]))
    g.boot_checks(AFTER_CORRUPTION, args, 3)
