#
# nvme-cli admin commands that change the device: Format NVM between the
# 512-byte and 4 KiB LBA formats with a user data erase, firmware download
# and commit with activation at reset and at once; and a namespace
# hot-plugged and unplugged while the host runs.
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
check_fails format-bad-lbaf 'nvme format $NS -l 15 -f'

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

# A namespace plugged in while the host runs: Linux rescans by itself on
# the Namespace Attribute Changed event.
hot() { grep -l '^32768$' /sys/block/nvme0n*/size 2>/dev/null | head -1; }
echo "HOST-HMP: device_add nvme-ns,id=hotns,bus=c0,drive=hot,nsid=5"
for i in $(seq 50); do [ -n "$(hot)" ] && break; sleep 0.2; done
check hotplug-ns-seen '[ -n "$(hot)" ] && nvme list-ns $C | grep -q ":0x5$"'
check hotplug-ns-io 'd=/dev/$(basename $(dirname $(hot))) &&
    dd if=/dev/urandom of=/tmp/h bs=4k count=4 2>/dev/null &&
    dd if=/tmp/h of=$d bs=4k oflag=direct 2>/dev/null &&
    dd if=$d of=/tmp/h2 bs=4k count=4 iflag=direct 2>/dev/null && cmp /tmp/h /tmp/h2'
echo "HOST-HMP: device_del hotns"
for i in $(seq 50); do [ -z "$(hot)" ] && break; sleep 0.2; done
check hotunplug-ns-gone '[ -z "$(hot)" ] && ! nvme list-ns $C | grep -q ":0x5$"'
'''


def test_format_firmware_and_ns_hotplug(g):
    disk, hot = g.disk('64M'), g.disk('16M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') + g.drive(hot, 'hot') +
               ['-device', 'nvme,id=c0,serial=ADMIN,drive=d0'])
    r.assert_ok()
    assert len(r.checks) == 20, r.checks
