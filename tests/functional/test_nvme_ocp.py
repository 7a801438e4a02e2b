#
# The OCP Datacenter NVMe SSD log pages (ocp=on) through nvme-cli's ocp
# plugin: smart-add-log (C0h) accepts the GUID and prints the fields, its
# Physical media units written grows with what the host writes, and
# latency-monitor-log (C3h) accepts its page.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import re

import guest


SCRIPT = r'''
C=/dev/nvme0
NS=/dev/nvme0n1
pmuw() { nvme ocp smart-add-log $C | awk '/Physical media units written/ {print $NF}'; }
nvme ocp smart-add-log $C
check smart-add-log 'nvme ocp smart-add-log $C | grep -qE "Log page version[[:space:]]+3$"'
check smart-guid 'nvme ocp smart-add-log $C |
    grep -qE "Log page GUID[[:space:]]+0xafd514c97c6f4f9ca4f2bfea2810afc5$"'
check smart-dssd-2 'nvme ocp smart-add-log $C | grep -qE "Major Version Field[[:space:]]+2$"'
BEFORE=$(pmuw)
echo "PMUW-BEFORE $BEFORE"
check write 'dd if=/dev/urandom of=$NS bs=1M count=1 oflag=direct 2>/dev/null'
AFTER=$(pmuw)
echo "PMUW-AFTER $AFTER"
check pmuw-grows '[ $((AFTER - BEFORE)) -ge 1048576 ]'
nvme ocp latency-monitor-log $C
check latency-monitor-log 'nvme ocp latency-monitor-log $C | grep -q "Feature Status"'
'''


def test_ocp_logs(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') +
               ['-device', 'nvme,id=c0,serial=OCP,drive=d0,ocp=on'])
    r.assert_ok()
    assert len(r.checks) == 6, r.checks
    out = r.output
    assert re.search(r'Log page version\s+3', out), out
    assert re.search(r'Capacitor health\s+65535', out), out
    assert re.search(r'Bad user nand blocks - Raw\s+0', out), out
    before = int(re.search(r'PMUW-BEFORE (\d+)', out).group(1))
    after = int(re.search(r'PMUW-AFTER (\d+)', out).group(1))
    assert after - before >= 1 << 20, (before, after)
    assert 'Active Bucket Timer' in out, out
