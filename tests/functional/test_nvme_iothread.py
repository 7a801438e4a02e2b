#
# The controller's I/O queues in an iothread (iothread=): Linux I/O with
# shadow doorbells and ioeventfds, fio verify at depth, a controller reset
# and a format with an erase while the queues live in the iothread.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


SCRIPT = r'''
NS=/dev/nvme0n1
check fio-verify 'fio --name=io --filename=$NS --direct=1 --ioengine=libaio \
    --rw=randrw --bs=4k --iodepth=32 --numjobs=2 --size=16M \
    --offset_increment=16M --verify=crc32c --do_verify=1 \
    --group_reporting >/tmp/fio 2>&1 || { cat /tmp/fio; exit 1; }'
check fio-verify-128k 'fio --name=seq --filename=$NS --direct=1 \
    --ioengine=libaio --rw=write --bs=128k --iodepth=4 --size=16M \
    --offset=32M --verify=md5 --do_verify=1 >/tmp/fio2 2>&1 ||
    { cat /tmp/fio2; exit 1; }'
check write 'dd if=/dev/urandom of=/tmp/x bs=1M count=2 2>/dev/null &&
             dd if=/tmp/x of=$NS bs=1M seek=50 oflag=direct 2>/dev/null'
check reset 'nvme reset /dev/nvme0 && sleep 1 &&
             dd if=$NS of=/tmp/y bs=1M skip=50 count=2 iflag=direct 2>/dev/null &&
             cmp /tmp/x /tmp/y'
check format-erase 'nvme format $NS -l 0 -s 1 -f && sleep 1 &&
                    dd if=$NS of=/tmp/z bs=1M skip=50 count=2 iflag=direct 2>/dev/null &&
                    [ -z "$(tr -d "\000" < /tmp/z)" ]'
'''


def test_iothread(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') + [
        '-object', 'iothread,id=io0',
        '-device', 'nvme,serial=IOT,drive=d0,iothread=io0'])
    r.assert_ok()
    assert len(r.checks) == 5, r.checks
