#!/usr/bin/env python3
#
# Device-cost benchmark: drives an NVMe controller through the qtest
# protocol (no guest CPU, no guest kernel) as a minimal polling host driver
# and measures what the QEMU process spends per NVMe command.
#
#   devcost.py --qemu BIN --out FILE.json [--n N] [--reps R] [--callgrind]
#
# Every cell (opcode x queue depth x number of queues) is run twice in the
# same QEMU process: once against the device, once as a calibration run with
# the same qtest traffic shape (same SQE bytes written, same number of
# doorbell writes and CQ polls, same CQ read) aimed at plain RAM.  The
# difference is the device's own cost; the raw number includes the qtest
# protocol handling in QEMU.
#
# CPU mode samples the QEMU process's CPU time (sum of per-thread schedstat
# run time, ns; /proc/PID/stat utime+stime as a cross-check).  Callgrind mode
# runs QEMU under valgrind --tool=callgrind --dump-before=<clock warp fn>;
# a "clock_step 1" qtest command between segments makes callgrind dump and
# zero its counters, so each dump holds exactly one segment's instructions.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import glob
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

BAR0 = 0xe0000000
PAGE = 4096

# Guest RAM layout (the machine gets 256 MiB).
ASQ, ACQ, ADMIN_BUF = 0x100000, 0x110000, 0x120000
IOSQ_BASE, IOCQ_BASE = 0x200000, 0x300000        # + (qid-1) * stride
DATA = 0x400000                                  # 256 pages of I/O buffers
CAL_SQ, CAL_CQ, CAL_DB = 0x600000, 0x700000, 0x710000

ADMIN_QSIZE = 32
OPS = {'read': 0x02, 'write': 0x01, 'flush': 0x00}
DUMP_FN = 'qemu_clock_advance_virtual_time'


class QTestError(Exception):
    pass


class QTest:
    def __init__(self, qemu, extra_args, callgrind_dir=None, log=None):
        self.tmp = tempfile.mkdtemp(prefix='devcost-')
        path = os.path.join(self.tmp, 'qtest.sock')
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        cmd = [qemu, '-machine', 'pc', '-accel', 'qtest', '-m', '256M',
               '-qtest', 'unix:' + path, '-qtest-log', '/dev/null',
               '-display', 'none', '-nodefaults', '-monitor', 'none',
               '-serial', 'none', '-parallel', 'none'] + extra_args
        if callgrind_dir:
            cmd = ['valgrind', '--tool=callgrind', '--dump-instr=no',
                   '--separate-threads=yes',
                   '--dump-before=' + DUMP_FN,
                   '--callgrind-out-file=' +
                   os.path.join(callgrind_dir, 'callgrind.out.%p')] + cmd
        self.errlog = open(log or os.devnull, 'wb')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.errlog,
                                     stderr=subprocess.STDOUT)
        srv.settimeout(300 if callgrind_dir else 60)
        try:
            self.sock, _ = srv.accept()
        except socket.timeout:
            self.proc.kill()
            raise QTestError('QEMU did not connect to the qtest socket')
        finally:
            srv.close()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.f = self.sock.makefile('rb', buffering=1 << 16)
        self.pid = self.proc.pid

    def cmd(self, line):
        self.sock.sendall(line.encode() + b'\n')
        while True:
            resp = self.f.readline()
            if not resp:
                raise QTestError('QEMU closed the qtest socket on %r'
                                 % line[:60])
            if not resp.startswith(b'IRQ'):
                break
        if not resp.startswith(b'OK'):
            raise QTestError('%r -> %r' % (line[:60], resp[:100]))
        return resp

    def writel(self, addr, val):
        self.cmd('writel 0x%x 0x%x' % (addr, val))

    def readl(self, addr):
        return int(self.cmd('readl 0x%x' % addr).split()[1], 16)

    def outl(self, port, val):
        self.cmd('outl 0x%x 0x%x' % (port, val))

    def inl(self, port):
        return int(self.cmd('inl 0x%x' % port).split()[1], 16)

    def write(self, addr, data):
        self.cmd('write 0x%x 0x%x 0x%s' % (addr, len(data), data.hex()))

    def read(self, addr, size):
        return bytes.fromhex(self.cmd('read 0x%x 0x%x' % (addr, size))
                             .split()[1][2:].decode())

    def close(self):
        # QEMU does not exit when the qtest socket closes: ask it to (for
        # callgrind the numbered dumps are already written).
        self.sock.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        self.errlog.close()

    # CPU time of the whole process.
    def cpu_ns(self):
        total = 0
        for p in glob.glob('/proc/%d/task/*/schedstat' % self.pid):
            try:
                with open(p) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return total

    def stat_ticks(self):
        with open('/proc/%d/stat' % self.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[11]) + int(fields[12])   # utime + stime


def cfg_addr(dev, off):
    return 0x80000000 | (dev << 11) | (off & 0xfc)


class Nvme:
    def __init__(self, qt):
        self.qt = qt
        self.find_and_map()

    def find_and_map(self):
        qt = self.qt
        for dev in range(32):
            qt.outl(0xcf8, cfg_addr(dev, 0))
            if qt.inl(0xcfc) == 0xffffffff:
                continue
            qt.outl(0xcf8, cfg_addr(dev, 8))
            if qt.inl(0xcfc) >> 8 == 0x010802:
                break
        else:
            raise QTestError('no NVMe controller on bus 0')
        qt.outl(0xcf8, cfg_addr(dev, 0x10))
        qt.outl(0xcfc, BAR0)
        qt.outl(0xcf8, cfg_addr(dev, 0x14))
        qt.outl(0xcfc, 0)
        qt.outl(0xcf8, cfg_addr(dev, 4))
        cmd = qt.inl(0xcfc) & 0xffff
        qt.outl(0xcf8, cfg_addr(dev, 4))
        qt.outl(0xcfc, cmd | 0x6)             # memory space + bus master
        self.pci_dev = dev

    def reg(self, off):
        return self.qt.readl(BAR0 + off)

    def wait_csts(self, want, timeout=30):
        end = time.time() + timeout
        while (self.reg(0x1c) & 1) != want:
            if time.time() > end:
                raise QTestError('CSTS.RDY never became %d (CSTS=0x%x)'
                                 % (want, self.reg(0x1c)))

    def enable(self, nq):
        qt = self.qt
        cap = self.reg(0) | self.reg(4) << 32
        self.mqes = (cap & 0xffff) + 1
        self.dstrd = 4 << ((cap >> 32) & 0xf)
        qt.writel(BAR0 + 0x14, 0)
        self.wait_csts(0)
        a = ADMIN_QSIZE - 1
        qt.writel(BAR0 + 0x24, a | a << 16)
        for off, addr in ((0x28, ASQ), (0x30, ACQ)):
            qt.writel(BAR0 + off, addr & 0xffffffff)
            qt.writel(BAR0 + off + 4, addr >> 32)
        qt.write(ACQ, bytes(ADMIN_QSIZE * 16))
        qt.writel(BAR0 + 0x14, 1 | 6 << 16 | 4 << 20)
        self.wait_csts(1)
        self.queues = {0: Queue(self, 0, ASQ, ACQ, ADMIN_QSIZE)}
        self.admin(0x09, cdw10=7, cdw11=(nq - 1) | (nq - 1) << 16)
        qsize = min(1024, self.mqes)
        for qid in range(1, nq + 1):
            sq = IOSQ_BASE + (qid - 1) * 0x10000
            cq = IOCQ_BASE + (qid - 1) * 0x4000
            qt.write(cq, bytes(qsize * 16))
            self.admin(0x05, prp1=cq, cdw10=(qsize - 1) << 16 | qid, cdw11=1)
            self.admin(0x01, prp1=sq, cdw10=(qsize - 1) << 16 | qid,
                       cdw11=1 | qid << 16)
            self.queues[qid] = Queue(self, qid, sq, cq, qsize)
        return qsize

    def admin(self, opc, nsid=0, prp1=0, cdw10=0, cdw11=0):
        q = self.queues[0]
        q.submit([sqe(opc, q.tail, nsid, prp1, cdw10, cdw11)])
        q.reap(1, None)


def sqe(opc, cid, nsid=0, prp1=0, cdw10=0, cdw11=0, cdw12=0, prp2=0):
    b = bytearray(64)
    b[0] = opc
    b[2:4] = cid.to_bytes(2, 'little')
    b[4:8] = nsid.to_bytes(4, 'little')
    b[24:32] = prp1.to_bytes(8, 'little')
    b[32:40] = prp2.to_bytes(8, 'little')
    b[40:44] = (cdw10 & 0xffffffff).to_bytes(4, 'little')
    b[44:48] = (cdw11 & 0xffffffff).to_bytes(4, 'little')
    b[48:52] = (cdw12 & 0xffffffff).to_bytes(4, 'little')
    return bytes(b)


class Queue:
    def __init__(self, ctrl, qid, sq, cq, size):
        self.qt = ctrl.qt
        self.qid, self.sq, self.cq, self.size = qid, sq, cq, size
        self.sq_db = BAR0 + 0x1000 + (2 * qid) * ctrl.dstrd
        self.cq_db = BAR0 + 0x1000 + (2 * qid + 1) * ctrl.dstrd
        self.tail = 0
        self.head = 0
        self.phase = 1

    def submit(self, entries):
        # Callers never wrap a batch: queue sizes are multiples of the depth.
        self.qt.write(self.sq + self.tail * 64, b''.join(entries))
        self.tail = (self.tail + len(entries)) % self.size
        self.qt.writel(self.sq_db, self.tail)

    def reap(self, n, polls_out, timeout=30):
        """Waits for n completions; returns the number of polls needed."""
        qt = self.qt
        last = self.cq + (self.head + n - 1) * 16 + 12
        polls = 1
        end = None
        while (qt.readl(last) >> 16 & 1) != self.phase:
            polls += 1
            if end is None:
                end = time.time() + timeout
            elif time.time() > end:
                raise QTestError('queue %d: no completion (CSTS=0x%x)'
                                 % (self.qid, qt.readl(BAR0 + 0x1c)))
        data = qt.read(self.cq + self.head * 16, n * 16)
        for i in range(n):
            dw3 = int.from_bytes(data[i * 16 + 12:i * 16 + 16], 'little')
            if (dw3 >> 16 & 1) != self.phase or dw3 >> 17:
                raise QTestError('queue %d: bad completion 0x%08x'
                                 % (self.qid, dw3))
        self.head += n
        if self.head == self.size:
            self.head = 0
            self.phase ^= 1
        qt.writel(self.cq_db, self.head)
        if polls_out is not None:
            polls_out.append(polls)
        return polls


class Bench:
    def __init__(self, qt, ctrl, qsize):
        self.qt, self.ctrl, self.qsize = qt, ctrl, qsize
        self.nblocks = (1 << 30) // 512
        self.lba = 0
        self.cache = {}
        # Calibration CQ: a full ring of completed entries.
        cqe = bytearray(16)
        cqe[12:16] = (1 << 16).to_bytes(4, 'little')
        qt.write(CAL_CQ, bytes(cqe) * qsize)

    def batch(self, op, qd, tail):
        key = (op, qd, tail)
        b = self.cache.get(key)
        if b is None:
            ents = []
            for i in range(qd):
                cid = tail + i
                if op == 'flush':
                    ents.append(sqe(0x00, cid, 1))
                else:
                    lba = (cid * 8) % self.nblocks
                    ents.append(sqe(OPS[op], cid, 1,
                                    DATA + (cid % 256) * PAGE,
                                    lba, 0, 7))
            b = self.cache[key] = ents
        return b

    def align(self):
        for qid, q in self.ctrl.queues.items():
            while qid and q.tail % 256:
                q.submit([sqe(0x00, q.tail, 1)])
                q.reap(1, None)

    def run_device(self, op, qd, nq, n):
        polls = []
        qids = list(range(1, nq + 1))
        for k in range(n // qd):
            q = self.ctrl.queues[qids[k % nq]]
            q.submit(self.batch(op, qd, q.tail))
            q.reap(qd, polls)
        return polls

    def run_calib(self, op, qd, nq, polls):
        """Same qtest traffic as run_device, aimed at RAM."""
        qt = self.qt
        tails = {qid: 0 for qid in range(1, nq + 1)}
        for k, np_ in enumerate(polls):
            qid = k % nq + 1
            tail = tails[qid]
            ents = self.batch(op, qd, tail)
            qt.cmd('write 0x%x 0x%x 0x%s' % (CAL_SQ + tail * 64, qd * 64,
                                              b''.join(ents).hex()))
            tails[qid] = (tail + qd) % self.qsize
            qt.writel(CAL_DB, tails[qid])
            last = CAL_CQ + (tail + qd - 1) * 16 + 12
            for _ in range(np_):
                qt.readl(last)
            qt.read(CAL_CQ + tail * 16, qd * 16)
            qt.writel(CAL_DB + 4, tails[qid])


def cells(quick):
    if quick:
        return [(op, qd, 1) for op in ('read', 'write', 'flush')
                for qd in (1, 32)]
    return [(op, qd, nq) for nq in (1, 4) for op in ('read', 'write', 'flush')
            for qd in (1, 32, 256)]


def drive_args(iothread=False):
    dev = 'nvme,serial=bench,drive=d0'
    extra = []
    if iothread:
        dev += ',iothread=io0'
        extra = ['-object', 'iothread,id=io0']
    return extra + ['-drive', 'file=null-co://,if=none,id=d0,format=raw,'
                    'file.size=1G', '-device', dev]


# Functions that run once or more per command; with iothread= the main
# thread must never call them.
PER_COMMAND_FNS = ('nvme_sq_round', 'nvme_rw', 'nvme_post_cqes', 'nvme_io_co',
                   'blk_co_preadv', 'blk_co_pwritev', 'blk_co_flush')


def count_calls(text, names):
    """Calls into functions called names in one callgrind dump."""
    ids, n, callee = {}, 0, None
    for line in text.splitlines():
        if line.startswith('cfn='):
            m = re.match(r'cfn=(?:\((\d+)\))? ?(.*)', line)
            name = m.group(2)
            if m.group(1):
                name = ids.setdefault(m.group(1), name) if name else \
                    ids.get(m.group(1), '')
            callee = name
        elif line.startswith('fn='):
            m = re.match(r'fn=(?:\((\d+)\))? ?(.*)', line)
            if m.group(1) and m.group(2):
                ids[m.group(1)] = m.group(2)
        elif line.startswith('calls=') and callee in names:
            n += int(line[6:].split()[0])
    return n


# Heap allocation entry points (glibc); calls of them are counted too.
ALLOC_FNS = ('malloc', 'calloc', 'realloc', 'posix_memalign',
             'aligned_alloc', 'memalign')


def dump_costs(cgdir, pid):
    """{dump number: {thread number: (Ir, per-command calls, allocs)}}.

    Dumps triggered by --dump-before only hold the triggering thread (the
    main loop, thread 1); other threads' costs end up in the final files.
    """
    out = {}
    for p in glob.glob(os.path.join(cgdir, 'callgrind.out.%d.*' % pid)):
        m = re.search(r'\.(\d+)(?:-(\d+))?$', p)
        if not m:
            continue
        with open(p) as f:
            text = f.read()
        c = re.search(r'^(?:summary|totals): (\d+)', text, re.MULTILINE)
        out.setdefault(int(m.group(1)), {})[int(m.group(2) or 1)] = (
            int(c.group(1)) if c else 0, count_calls(text, PER_COMMAND_FNS),
            count_calls(text, ALLOC_FNS))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--qemu', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--n', type=int, default=20000)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--callgrind', action='store_true')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--log')
    ap.add_argument('--keep-callgrind', metavar='DIR',
                    help='write the callgrind dumps to DIR and keep them '
                    '(for callgrind_annotate)')
    ap.add_argument('--iothread', action='store_true',
                    help='run the controller with iothread= (callgrind '
                    'then also reports the main thread on its own)')
    ap.add_argument('--cells', help='only these cells, e.g. read:32:1,'
                    'write:256:4 (op:qd:queues)')
    args = ap.parse_args()

    cgdir = None
    if args.callgrind:
        cgdir = args.keep_callgrind or tempfile.mkdtemp(prefix='devcost-cg-')
        os.makedirs(cgdir, exist_ok=True)
    todo = cells(args.quick)
    if args.cells:
        todo = [(op, int(qd), int(nq)) for op, qd, nq in
                (c.split(':') for c in args.cells.split(','))]
    qt = QTest(args.qemu, drive_args(args.iothread), cgdir, args.log)
    ctrl = Nvme(qt)
    nq_max = max(c[2] for c in todo)
    qsize = ctrl.enable(nq_max)
    bench = Bench(qt, ctrl, qsize)
    segments = []     # what each callgrind dump holds, in order
    results = []
    reps = args.reps
    t0 = time.time()
    for rep in range(reps):
        for op, qd, nq in todo:
            n = max(qd * nq, args.n // (qd * nq) * (qd * nq))
            # Warm-up (unmeasured); leaves every queue at a multiple of
            # 256 so that no batch wraps around the ring.
            bench.align()
            bench.run_device(op, qd, nq, max(1, min(n // 10, 1024)
                                             // (qd * nq)) * qd * nq)
            if args.callgrind:
                qt.cmd('clock_step 1')
                segments.append('setup')
            c0, s0, w0 = qt.cpu_ns(), qt.stat_ticks(), time.time()
            polls = bench.run_device(op, qd, nq, n)
            c1, s1, w1 = qt.cpu_ns(), qt.stat_ticks(), time.time()
            if args.callgrind:
                qt.cmd('clock_step 1')
                segments.append(('dev', op, qd, nq, rep))
            bench.run_calib(op, qd, nq, polls)
            c2, s2, w2 = qt.cpu_ns(), qt.stat_ticks(), time.time()
            if args.callgrind:
                qt.cmd('clock_step 1')
                segments.append(('cal', op, qd, nq, rep))
            results.append(dict(
                op=op, qd=qd, nq=nq, n=n, rep=rep,
                polls_per_batch=sum(polls) / len(polls),
                dev_cpu_ns=c1 - c0, cal_cpu_ns=c2 - c1,
                dev_ticks=s1 - s0, cal_ticks=s2 - s1,
                dev_wall=w1 - w0, cal_wall=w2 - w1))
            print('  %-5s qd=%-3d nq=%d rep=%d: %.0f ns/cmd raw, '
                  '%.0f calib, %.2f polls/batch' %
                  (op, qd, nq, rep, (c1 - c0) / n, (c2 - c1) / n,
                   sum(polls) / len(polls)), file=sys.stderr, flush=True)
    pid = qt.pid
    qt.close()
    out = dict(qemu=args.qemu, mqes=ctrl.mqes, qsize=qsize,
               mode='callgrind' if args.callgrind else 'cpu',
               elapsed=time.time() - t0, results=results)
    if args.callgrind:
        # Dump k (1's based) holds segment k-1; thread 1 is the main loop.
        costs = dump_costs(cgdir, pid)
        seg_cost = {seg: costs.get(k, {}).get(1, (0, 0, 0))
                    for k, seg in enumerate(segments, 1)
                    if isinstance(seg, tuple)}
        for r in results:
            key = (r['op'], r['qd'], r['nq'], r['rep'])
            r['dev_ir'], r['dev_main_calls'], r['dev_allocs'] = seg_cost.get(
                ('dev',) + key, (None, None, None))
            r['cal_ir'], _, r['cal_allocs'] = seg_cost.get(
                ('cal',) + key, (None, None, None))
        out['iothread'] = args.iothread
        out['callgrind_dumps'] = len(costs)
        out['callgrind_segments'] = len(segments)
        if args.keep_callgrind:
            out['callgrind_dir'] = cgdir
        else:
            for p in glob.glob(os.path.join(cgdir, '*')):
                os.unlink(p)
            os.rmdir(cgdir)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
