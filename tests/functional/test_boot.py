#
# The guest image and the harness, without any NVMe device.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


def test_tools(g):
    r = g.boot('''
        check busybox busybox true
        check shell '[ $((6 * 7)) = 42 ]'
        check nvme-cli 'nvme version | grep "^nvme version"'
        check fio 'fio --version | grep "^fio-"'
        check fio-job fio --name=smoke --filename=/tmp/smoke --size=4M \
            --rw=randrw --bs=4k --ioengine=psync --output-format=terse
        check modules 'for m in nvme nvme_core btrfs f2fs; do
                           grep -q "^$m " /proc/modules || exit 1
                       done'
        check no-controller '! ls /dev/nvme* 2>/dev/null'
        echo "kernel=$(uname -r)"
    ''')
    r.assert_ok()
    assert 'kernel=6.12.' in r.output, r.tail()
    assert len(r.checks) == 7, r.checks


class Harness(guest.GuestTestCase):
    def test_status_and_checks(self):
        """Exit status and failed checks reach the host."""
        disk = self.guest.disk('1M')
        r = self.guest.boot('''
            check good true
            check_fails expected-failure false
            check bad 'exit 5'
            exit 3
        ''', self.guest.drive(disk, 'd0') + ['-device', 'ide-hd,drive=d0'])
        self.assertEqual(r.status, 3)
        self.assertEqual(r.failed_checks, ['bad'])
        self.assertTrue(r.check_passed('expected-failure'))
        self.assertRaises(AssertionError, r.assert_ok)
