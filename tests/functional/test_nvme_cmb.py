#
# The Controller Memory Buffer (cmb_size_mb) under the Linux driver: one
# boot with a 64 MiB CMB.
#
# Linux 6.12 sets CMBMSC.CRE, reads CMBLOC/CMBSZ, enables the controller
# memory space at BAR 2 and registers the CMB as PCI peer-to-peer memory.
# Debian's kernel has no CONFIG_PCI_P2PDMA, so nvme_map_cmb() logs "failed
# to register the CMB", writes CMBMSC back to 0 and leaves the CMB unused:
# I/O runs from host memory. The registers are then read with the driver
# unbound (busybox devmem; the bound driver owns the BARs).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


SCRIPT = r'''
NS=/dev/nvme0n1
P=$(basename $(readlink -f /sys/class/nvme/nvme0/device))
R=/sys/bus/pci/devices/$P/resource
B0=$(sed -n 1p $R | cut -d" " -f1)
reg() { devmem $((B0 + $1)) 32; }

check driver-found-cmb '[ "$(dmesg | grep -c "nvme nvme0: failed to register the CMB")" = 1 ]'
# BAR 2: 64 MiB, memory (200h), prefetchable (2000h), 64-bit (100000h)
check bar2 'set -- $(sed -n 3p $R) &&
    [ $(($2 - $1 + 1)) = $((64 << 20)) ] &&
    [ $(($3 & 0x102200)) = $((0x102200)) ]'
check fio-verify 'fio --name=cmb --filename=$NS --direct=1 --ioengine=libaio \
    --rw=randwrite --bs=4k --iodepth=16 --size=16M --verify=crc32c \
    --do_verify=1 >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'

echo $P > /sys/bus/pci/drivers/nvme/unbind
# CAP.CMBS is bit 57
check cap-cmbs '[ $(( $(reg 4) >> 25 & 1 )) = 1 ]'
# The driver turned the CMB off again (1.4 scheme, CRE clear): hidden
check cmbmsc-cleared '[ "$(reg 0x50)" = 0x00000000 ] &&
    [ "$(reg 0x38)" = 0x00000000 ] && [ "$(reg 0x3c)" = 0x00000000 ]'
check cmbebs-cmbswtp '[ "$(reg 0x5c)" = 0x00004012 ] &&
    [ "$(reg 0x60)" = 0x00000103 ]'
devmem $((B0 + 0x50)) 32 1
# CRE: BIR 2, CDPMLS CDPCILS CDMMMS; SQS CQS LISTS RDS WDS, 64 x 1 MiB
check cmbloc-cmbsz '[ "$(reg 0x38)" = 0x000001C2 ] &&
    [ "$(reg 0x3c)" = 0x0004021F ]'
B2=$(sed -n 3p $R | cut -d" " -f1)
check cmb-ram 'devmem $((B2 + 0x3ff0000)) 32 0x5a5aa5a5 &&
    [ "$(devmem $((B2 + 0x3ff0000)) 32)" = 0x5A5AA5A5 ]'

echo $P > /sys/bus/pci/drivers/nvme/bind
for i in $(seq 50); do [ -b $NS ] && break; sleep 0.2; done
check rebind '[ "$(dmesg | grep -c "nvme nvme0: failed to register the CMB")" = 2 ] &&
    dd if=$NS of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null'
'''


def test_cmb_linux(g):
    disk = g.disk('64M')
    g.boot_checks(SCRIPT, g.drive(disk, 'd0') +
                  ['-device', 'nvme,serial=CMB,drive=d0,cmb_size_mb=64'], 9)
