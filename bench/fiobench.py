#!/usr/bin/env python3
#
# Guest-level benchmark: boots the test guest (scripts/guest-image.sh) once
# per configuration (device model x backend) and runs every fio job of that
# configuration in that one boot.
#
#   fiobench.py --ours BIN --upstream BIN --out FILE.json [--quick]
#               [--runtime S] [--reps R]
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import glob
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The guest test helpers already load scripts/run-guest.py.
sys.path.insert(0, os.path.join(REPO, 'tests', 'functional'))
from guest import runner  # noqa: E402
SHM_IMG = '/dev/shm/qemu-nvme-bench.img'


def bench_guest_dir(cache):
    """A guest dir whose initrd also carries virtio_blk.ko (the stock test
    guest only has the NVMe modules; virtio_pci is built in)."""
    base = runner.GUEST_DIR
    out = os.path.join(runner.BUILD, 'bench-guest')
    os.makedirs(out, exist_ok=True)
    initrd = os.path.join(out, 'initrd.img')
    base_initrd = os.path.join(base, 'initrd.img')
    if (os.path.exists(initrd) and
            os.path.getmtime(initrd) >= os.path.getmtime(base_initrd)):
        return out
    debs = sorted(glob.glob(os.path.join(cache, 'linux-image-*.deb')))
    if not debs:
        raise SystemExit('no kernel .deb in %s (run make guest)' % cache)
    tar_bytes = subprocess.run(['dpkg-deb', '--fsys-tarfile', debs[-1]],
                               check=True, stdout=subprocess.PIPE).stdout
    ko = None
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tf:
        for m in tf.getmembers():
            if m.name.endswith('/drivers/block/virtio_blk.ko.xz'):
                ko = lzma.decompress(tf.extractfile(m).read())
            elif m.name.endswith('/drivers/block/virtio_blk.ko'):
                ko = tf.extractfile(m).read()
    if ko is None:
        raise SystemExit('no virtio_blk module in %s' % debs[-1])
    with open(initrd + '.tmp', 'wb') as f:
        with open(base_initrd, 'rb') as b:
            f.write(b.read())
        f.write(b'\0' * (-f.tell() % 512))
        f.write(runner._cpio_newc({'virtio_blk.ko': (0o100644, ko)}))
    os.replace(initrd + '.tmp', initrd)
    vmlinuz = os.path.join(out, 'vmlinuz')
    if os.path.lexists(vmlinuz):
        os.unlink(vmlinuz)
    os.symlink(os.path.join(base, 'vmlinuz'), vmlinuz)
    return out


def backends(quick):
    null = ('null', ['-drive', 'file=null-co://,if=none,id=d0,format=raw,'
                     'file.size=1G,file.read-zeroes=on'])
    shm = ('shm', ['-drive', 'file=%s,if=none,id=d0,format=raw' % SHM_IMG])
    return [null] if quick else [null, shm]


def devices(ours, upstream, quick):
    nvme = ['-device', 'nvme,serial=bench,drive=d0']
    devs = [('ours-nvme', ours, nvme, '/dev/nvme0n1'),
            ('upstream-nvme', upstream, nvme, '/dev/nvme0n1')]
    if not quick:
        devs += [('virtio-blk', ours,
                  ['-device', 'virtio-blk-pci,drive=d0'], '/dev/vda'),
                 ('virtio-blk-iothread', ours,
                  ['-object', 'iothread,id=io0',
                   '-device', 'virtio-blk-pci,drive=d0,iothread=io0'],
                  '/dev/vda')]
    return devs


def jobs(quick):
    if quick:
        return [('randread', 32, 1)]
    return [(rw, qd, nj) for rw in ('randread', 'randwrite')
            for qd in (1, 32) for nj in (1, 2)]


def guest_script(dev, joblist, runtime, reps, virtio):
    lines = ['set -u']
    if virtio:
        lines.append('insmod /virtio_blk.ko')
    lines.append('i=0; while [ ! -b %s ] && [ $i -lt 50 ]; do '
                 'sleep 0.2; i=$((i+1)); done' % dev)
    lines.append('[ -b %s ] || { echo "no %s"; exit 1; }' % (dev, dev))
    for rep in range(reps):
        for rw, qd, nj in joblist:
            tag = '%s:%d:%d:%d' % (rw, qd, nj, rep)
            lines.append(
                'out=$(fio --name=b --filename=%s --direct=1 '
                '--ioengine=libaio --rw=%s --bs=4k --iodepth=%d '
                '--numjobs=%d --group_reporting --time_based --runtime=%d '
                '--ramp_time=1 --norandommap --randrepeat=0 '
                '--output-format=terse --terse-version=3 2>&1) || '
                'echo "FIOERR %s $out"' % (dev, rw, qd, nj, runtime, tag))
            lines.append('echo "RESULT %s;$out"' % tag)
    return '\n'.join(lines) + '\n'


def parse(console):
    res = []
    for line in console.splitlines():
        if not line.startswith('RESULT '):
            continue
        tag, _, terse = line[7:].partition(';')
        rw, qd, nj, rep = tag.split(':')
        f = terse.split(';')
        if len(f) < 90:
            res.append(dict(rw=rw, qd=int(qd), nj=int(nj), rep=int(rep),
                            error=terse[:200]))
            continue
        if rw == 'randread':
            iops, lat = float(f[7]), float(f[39])
        else:
            iops, lat = float(f[48]), float(f[80])
        res.append(dict(rw=rw, qd=int(qd), nj=int(nj), rep=int(rep),
                        iops=iops, lat_us=lat))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ours', required=True)
    ap.add_argument('--upstream', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--cache', required=True)
    ap.add_argument('--logdir', required=True)
    ap.add_argument('--runtime', type=int, default=10)
    ap.add_argument('--reps', type=int, default=1)
    ap.add_argument('--quick', action='store_true')
    args = ap.parse_args()

    runner.GUEST_DIR = bench_guest_dir(args.cache)
    os.makedirs(args.logdir, exist_ok=True)
    if not args.quick:
        with open(SHM_IMG, 'wb') as f:
            f.truncate(1 << 30)
        # Allocate the pages up front so that reads hit RAM, not holes.
        subprocess.run(['fallocate', '-l', str(1 << 30), SHM_IMG],
                       check=True)
    joblist = jobs(args.quick)
    runtime = 3 if args.quick else args.runtime
    out = []
    try:
        for bname, bargs in backends(args.quick):
            for dname, qemu, dargs, dev in devices(args.ours, args.upstream,
                                                   args.quick):
                os.environ['QEMU'] = qemu
                virtio = dev == '/dev/vda'
                script = guest_script(dev, joblist, runtime, args.reps,
                                      virtio)
                log = os.path.join(args.logdir, 'fio-%s-%s.log'
                                   % (dname, bname))
                t0 = time.time()
                timeout = 120 + len(joblist) * args.reps * (runtime + 15)
                try:
                    status, console = runner.run_guest(
                        bargs + dargs, script, timeout=timeout, log=log,
                        kernel_args='nvme_wait=0' if virtio else '')
                    res = parse(console)
                    err = None if status == 0 else 'guest status %d' % status
                except runner.GuestError as e:
                    res, err = parse(e.console), str(e)
                print('  %s on %s: %d results in %.0fs%s'
                      % (dname, bname, len(res), time.time() - t0,
                         ' (%s)' % err if err else ''),
                      file=sys.stderr, flush=True)
                out.append(dict(device=dname, backend=bname, error=err,
                                results=res, seconds=time.time() - t0))
    finally:
        if os.path.exists(SHM_IMG):
            os.unlink(SHM_IMG)
    with open(args.out, 'w') as f:
        json.dump(dict(runtime=runtime, reps=args.reps, configs=out), f,
                  indent=1)


if __name__ == '__main__':
    main()
