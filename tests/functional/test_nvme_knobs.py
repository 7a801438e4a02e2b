#
# Controller and namespace properties as Linux and nvme-cli see them, in
# one boot: aerl, dbcs=off (no Doorbell Buffer Config: Linux rings the
# registers and fio still verifies), ctratt.mem, vsl and an initial SMART
# critical warning on the controller; eui64-default and small copy limits
# (mcl, mssrl, msrc) on the namespace, with nvme copy within and beyond
# them.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import guest


# nvme-cli's copy --blocks values go to the 0's based NLB fields as they
# are: the copies within the limits stay well within them either way.
SCRIPT = r'''
C=/dev/nvme0
NS=/dev/nvme0n1
field() { nvme $1 $2 | awk -v f="$3" '$1 == f { print $3; exit }'; }

check aerl 'nvme id-ctrl $C | grep -E "^aerl +: 7$"'
check oacs-no-dbbuf 'o=$(field id-ctrl $C oacs); [ $(( o & 0x100 )) = 0 ]'
check ctratt-mem 'a=$(field id-ctrl $C ctratt); [ $(( a & 0x10000 )) != 0 ]'
# Commands Supported and Effects: Identify (06h) in, 7Ch out
acs() { nvme get-log $C -i 5 -l 512 -b | od -An -tx4 -j$(( $1 * 4 )) -N4 |
        tr -d " "; }
check effects-no-dbbuf '[ "$(acs 6)" = 00000001 ] && [ "$(acs 124)" = 00000000 ]'
check vsl 'nvme nvm-id-ctrl $C | grep -E "^vsl +: 3$"'
check smart-warning 'nvme smart-log $C -o json |
                     grep -E "\"critical_warning\" *: *4,"'
check id-ns-mcl 'nvme id-ns $NS | grep -E "^mcl +: 16$"'
check id-ns-mssrl 'nvme id-ns $NS | grep -E "^mssrl +: 8$"'
check id-ns-msrc 'nvme id-ns $NS | grep -E "^msrc +: 3$"'
check id-ns-eui64 'nvme id-ns $NS | grep -E "^eui64 +: 525400[0-9a-f]{10}$"'
check ns-descs-eui64 'nvme ns-descs $NS | grep -iE "eui64 *: *525400"'

dd if=/dev/urandom of=/tmp/src bs=512 count=32 2>/dev/null
check write-src 'dd if=/tmp/src of=$NS bs=512 oflag=direct 2>/dev/null'
check copy-within 'nvme copy $NS --sdlba=1000 --slbs=0,16 --blocks=3,3'
check copy-data 'dd if=$NS of=/tmp/dst bs=512 skip=1000 count=3 iflag=direct \
                 2>/dev/null && cmp -n 1536 /tmp/src /tmp/dst'
check copy-four-ranges 'nvme copy $NS --sdlba=2000 --slbs=0,4,8,12 \
                        --blocks=1,1,1,1'
check_fails copy-over-mssrl 'nvme copy $NS --sdlba=1000 --slbs=0 --blocks=20'
check_fails copy-over-mcl 'nvme copy $NS --sdlba=1000 --slbs=0,8,16 \
                           --blocks=6,6,6'
check_fails copy-over-msrc 'nvme copy $NS --sdlba=1000 --slbs=0,2,4,6,8 \
                            --blocks=1,1,1,1,1'
check_fails verify-over-vsl 'nvme verify $NS --start-block=0 \
                             --block-count=127'
check verify-within-vsl 'nvme verify $NS --start-block=0 --block-count=15'

# dbcs=off: the driver uses the doorbell registers, data still verifies
check fio-verify 'fio --name=dbcs --filename=$NS --direct=1 \
    --ioengine=libaio --rw=randwrite --bs=4k --size=16M --iodepth=16 \
    --verify=crc32c --do_verify=1 --offset=1M >/tmp/fio 2>&1 ||
    { cat /tmp/fio; exit 1; }'
'''


def test_knobs(g):
    disk = g.disk('64M')
    r = g.boot(SCRIPT, g.drive(disk, 'd0') + [
        '-device', 'nvme,id=c0,serial=KNOBS,aerl=7,dbcs=off,ctratt.mem=on,'
                   'vsl=3,smart_critical_warning=4',
        '-device', 'nvme-ns,bus=c0,drive=d0,nsid=1,eui64-default=on,'
                   'mcl=16,mssrl=8,msrc=3',
    ])
    r.assert_ok()
    assert len(r.checks) == 21, r.checks
