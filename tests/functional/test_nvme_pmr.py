#
# The Persistent Memory Region and msix-exclusive-bar under Linux, in one
# boot with two controllers: nvme show-regs decodes the PMR registers, the
# guest writes the PMR through BAR 4 (busybox devmem; iomem=relaxed lets
# /dev/mem reach a BAR the nvme driver holds), and the host finds the data
# in the backing file after the guest powers off. The second controller
# has its MSI-X table in BAR 4 and the driver runs I/O on it.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import struct

import guest


SCRIPT = r'''
ctrl() {
    for c in /sys/class/nvme/nvme*; do
        [ "$(tr -d ' ' < $c/serial)" = "$1" ] && basename $c
    done
}
P=$(ctrl PMRCTRL)
M=$(ctrl MSIXBAR)
PD=/sys/class/nvme/$P/device
MD=/sys/class/nvme/$M/device
# start and size of BAR $2 of the device at $1
bar() { sed -n "$(($2 + 1))p" $1/resource | cut -d' ' -f1; }
barsize() {
    set -- $(sed -n "$(($2 + 1))p" $1/resource)
    echo $(($2 - $1 + 1))
}
R0=$(bar $PD 0)
R4=$(bar $PD 4)
reg() { devmem $(printf 0x%x $((R0 + $1))) 32 $2; }
pmr() { devmem $(printf 0x%x $((R4 + $1))) 32 $2; }

nvme show-regs /dev/$P -H > /tmp/regs 2>&1
check show-regs-pmrcap 'grep -q "^pmrcap  : 1010898" /tmp/regs &&
    grep -q "(CMSS): Referencing PMR with host supplied addresses is Supported" /tmp/regs &&
    grep -q "(PMRTO): 1$" /tmp/regs && grep -q "(PMRWBM): 2$" /tmp/regs &&
    grep -q "(BIR): 4$" /tmp/regs &&
    grep -q "Write data to the PMR is supported" /tmp/regs &&
    grep -q "Read data from the PMR is supported" /tmp/regs'
check show-regs-disabled 'grep -q "^pmrctl  : 0$" /tmp/regs &&
    grep -q "PMR is Disabled" /tmp/regs && grep -q "^pmrsts  : 100$" /tmp/regs &&
    grep -q "^pmrebs  : 40011$" /tmp/regs && grep -q "^pmrswtp : 3$" /tmp/regs'
check bar4-pmr '[ $(barsize $PD 4) = 1048576 ] &&
    [ $(($(sed -n 5p $PD/resource | cut -d" " -f3) & 0x2000)) != 0 ]'

reg 0xe04 1
nvme show-regs /dev/$P -H > /tmp/regs 2>&1
check show-regs-enabled 'grep -q "^pmrctl  : 1$" /tmp/regs &&
    grep -q "^pmrsts  : 0$" /tmp/regs'
pmr 0 0x50524d30
pmr 4 0x01234567
pmr 8 0x89abcdef
pmr 0xffffc 0x454e4421
check pmr-readback '[ $(pmr 0) = 0x50524D30 ] && [ $(pmr 8) = 0x89ABCDEF ] &&
    [ $(pmr 0xffffc) = 0x454E4421 ]'
# The write barrier: every earlier write is on the file
check pmrsts-barrier '[ $(reg 0xe08) = 0x00000000 ]'
reg 0xe04 0
check disabled-all-ones '[ $(reg 0xe08) = 0x00000100 ] &&
    [ $(pmr 0) = 0xFFFFFFFF ] && [ $(pmr 0xffffc) = 0xFFFFFFFF ]'
pmr 4 0
reg 0xe04 1
check reenabled-keeps-data '[ $(pmr 0) = 0x50524D30 ] &&
    [ $(pmr 4) = 0x01234567 ] && [ $(reg 0xe08) = 0x00000000 ]'
check pmr-ctrl-io 'dd if=/dev/urandom of=/tmp/a bs=4k count=8 2>/dev/null &&
    dd if=/tmp/a of=/dev/${P}n1 bs=4k oflag=direct 2>/dev/null &&
    dd if=/dev/${P}n1 of=/tmp/b bs=4k count=8 iflag=direct 2>/dev/null &&
    cmp /tmp/a /tmp/b'

# msix-exclusive-bar: table and PBA in a 4 KiB 32-bit BAR 4, BAR0 8 KiB
check msix-bars '[ $(barsize $MD 4) = 4096 ] && [ $(barsize $MD 0) = 8192 ] &&
    [ $(($(sed -n 5p $MD/resource | cut -d" " -f3) & 0x100000)) = 0 ]'
check msix-bar-io 'dd if=/dev/urandom of=/tmp/c bs=4k count=8 2>/dev/null &&
    dd if=/tmp/c of=/dev/${M}n1 bs=4k oflag=direct 2>/dev/null &&
    dd if=/dev/${M}n1 of=/tmp/d bs=4k count=8 iflag=direct 2>/dev/null &&
    cmp /tmp/c /tmp/d'
MB=$(basename $(readlink -f $MD))
# Whichever I/O queue the CPU that ran dd maps to (q1, q2, ...)
check msix-irqs 'grep -E "PCI-MSIX-$MB .*${M}q[1-9][0-9]*$" /proc/interrupts |
    awk "{ n += \$2 + \$3 } END { exit !(n > 0) }"'
'''


def test_pmr_and_msix_exclusive_bar(g):
    pmr = g.disk('1M', 'pmr.img')
    d0, d1 = g.disk('16M'), g.disk('16M')
    args = g.drive(d0, 'd0') + g.drive(d1, 'd1') + [
        '-object', 'memory-backend-file,id=pmr0,share=on,mem-path=%s,'
                   'size=1M' % pmr,
        '-device', 'nvme,serial=PMRCTRL,drive=d0,pmrdev=pmr0',
        '-device', 'nvme,serial=MSIXBAR,drive=d1,msix-exclusive-bar=on']
    g.boot_checks(SCRIPT, args, 12, kernel_args='iomem=relaxed')
    with open(pmr, 'rb') as f:
        data = f.read()
    assert struct.unpack_from('<3I', data, 0) == (
        0x50524d30, 0x01234567, 0x89abcdef), data[:12].hex()
    assert struct.unpack_from('<I', data, 0xffffc)[0] == 0x454e4421
