#
# nvme-cli admin commands that change the device: Format NVM between the
# 512-byte and 4 KiB LBA formats with a user data erase, and firmware
# download and commit with activation at reset and at once.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


SCRIPT = r'''
NS=/dev/nvme0n1
C=/dev/nvme0
check two-formats 'nvme id-ns $NS | grep -E "^lbaf +1 : ms:0 +lbads:12"'
check write 'dd if=/dev/urandom of=/tmp/x bs=4k count=4 2>/dev/null &&
             dd if=/tmp/x of=$NS bs=4k oflag=direct 2>/dev/null'
check format-4k 'nvme format $NS -l 1 -s 1 -f'
sleep 1
check lba-4k '[ "$(cat /sys/block/nvme0n1/queue/logical_block_size)" = 4096 ]'
check id-ns-4k 'nvme id-ns $NS | grep -E "^lbaf +1 : ms:0 +lbads:12 .*in use"'
check erased 'dd if=$NS of=/tmp/y bs=4k count=4 iflag=direct 2>/dev/null &&
              [ -z "$(tr -d "\000" < /tmp/y)" ]'
check format-512 'nvme format $NS -l 0 -f'
sleep 1
check lba-512 '[ "$(cat /sys/block/nvme0n1/queue/logical_block_size)" = 512 ]'
check_fails format-bad-lbaf 'nvme format $NS -l 7 -f'

printf "QEMUFW42%01016d" 0 > /tmp/fw.bin
check fw-download 'nvme fw-download $C -f /tmp/fw.bin'
check fw-commit-next-reset 'nvme fw-commit $C -s 2 -a 1'
check fw-log-pending 'nvme fw-log $C | grep -i "frs2 *: .*QEMUFW42"'
check reset 'nvme reset $C'
check fw-active 'nvme id-ctrl $C | grep -E "^fr +: QEMUFW42"'
printf "QEMUFW43%01016d" 0 > /tmp/fw.bin
check fw-commit-now 'nvme fw-download $C -f /tmp/fw.bin && nvme fw-commit $C -s 3 -a 3'
check fw-active-now 'nvme fw-log $C | grep -E "afi *: 0x3"'
check_fails fw-commit-slot1 'nvme fw-download $C -f /tmp/fw.bin && nvme fw-commit $C -s 1 -a 0'
'''


def test_format_and_firmware(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') +
               ['-device', 'nvme,serial=ADMIN,drive=d0'])
    r.assert_ok()
    assert len(r.checks) == 17, r.checks
