#!/usr/bin/env python3
#
# Turns the JSON files written by devcost.py and fiobench.py into
# bench/RESULTS.md.
#
#   report.py --dir RAWDIR --out RESULTS.md --meta KEY=VALUE ...
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import json
import os
import statistics


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def group(results, key):
    out = {}
    for r in results:
        out.setdefault(key(r), []).append(r)
    return out


def cell_key(r):
    return (r['nq'], r['op'], r['qd'])


def spread(vals, fmt):
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt % med
    return (fmt + ' (%s..%s)') % (med, fmt % min(vals), fmt % max(vals))


def ratio(a, b):
    return '%.2f' % (a / b) if b else 'n/a'


def cpu_table(ours, up):
    lines = ['| queues | op | QD | ours raw µs | ours net µs | upstream raw µs '
             '| upstream net µs | net ours/up | raw ours/up | polls/batch '
             'ours / up |',
             '|---|---|---|---|---|---|---|---|---|---|']
    go = group(ours['results'], cell_key)
    gu = group(up['results'], cell_key)
    for k in go:
        if k not in gu:
            continue
        o, u = go[k], gu[k]
        oraw = [r['dev_cpu_ns'] / r['n'] / 1000 for r in o]
        onet = [(r['dev_cpu_ns'] - r['cal_cpu_ns']) / r['n'] / 1000
                for r in o]
        uraw = [r['dev_cpu_ns'] / r['n'] / 1000 for r in u]
        unet = [(r['dev_cpu_ns'] - r['cal_cpu_ns']) / r['n'] / 1000
                for r in u]
        lines.append('| %d | %s | %d | %s | %s | %s | %s | %s | %s | '
                     '%.2f / %.2f |' % (
                         k[0], k[1], k[2], spread(oraw, '%.2f'),
                         spread(onet, '%.2f'), spread(uraw, '%.2f'),
                         spread(unet, '%.2f'),
                         ratio(statistics.median(onet),
                               statistics.median(unet)),
                         ratio(statistics.median(oraw),
                               statistics.median(uraw)),
                         statistics.mean(r['polls_per_batch'] for r in o),
                         statistics.mean(r['polls_per_batch'] for r in u)))
    return lines


def net_ir(r):
    return (r['dev_ir'] - r['cal_ir']) / r['n']


def net_allocs(rs):
    vals = [(r['dev_allocs'] - r['cal_allocs']) / r['n'] for r in rs
            if r.get('dev_allocs') is not None]
    return '%.2f' % statistics.median(vals) if vals else 'n/a'


def cg_cells(data):
    """Callgrind results grouped by cell."""
    return group([r for r in data['results'] if r.get('dev_ir') is not None],
                 cell_key)


def ir_table(ours, up):
    lines = ['| queues | op | QD | N | ours raw Ir/cmd | ours net Ir/cmd '
             '| upstream raw Ir/cmd | upstream net Ir/cmd | net ours/up '
             '| raw ours/up | net heap allocations/cmd ours / up |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    go = cg_cells(ours)
    gu = cg_cells(up)
    for k, o in go.items():
        u = gu.get(k)
        if not u:
            continue
        oraw = [r['dev_ir'] / r['n'] for r in o]
        uraw = [r['dev_ir'] / r['n'] for r in u]
        onet = [net_ir(r) for r in o]
        unet = [net_ir(r) for r in u]
        lines.append('| %d | %s | %d | %d | %s | %s | %s | %s | %s | %s '
                     '| %s / %s |' % (
                         k[0], k[1], k[2], o[0]['n'], spread(oraw, '%.0f'),
                         spread(onet, '%.0f'), spread(uraw, '%.0f'),
                         spread(unet, '%.0f'),
                         ratio(statistics.median(onet),
                               statistics.median(unet)),
                         ratio(statistics.median(oraw),
                               statistics.median(uraw)),
                         net_allocs(o), net_allocs(u)))
    return lines


def iothread_table(io, ours):
    lines = ['| queues | op | QD | main thread net Ir/cmd, iothread= '
             '| main thread net Ir/cmd, no iothread | main-thread calls of '
             'per-command functions, iothread= / none |',
             '|---|---|---|---|---|---|']
    gi = cg_cells(io)
    go = cg_cells(ours)
    for k, i in gi.items():
        o = go.get(k, [])
        lines.append('| %d | %s | %d | %s | %s | %d / %s |' % (
            k[0], k[1], k[2], spread([net_ir(r) for r in i], '%.0f'),
            spread([net_ir(r) for r in o], '%.0f') if o else 'n/a',
            max(r['dev_main_calls'] for r in i),
            min(r['dev_main_calls'] for r in o) if o else 'n/a'))
    return lines


def fio_tables(fio):
    lines = []
    cfgs = fio['configs']
    devs = []
    for c in cfgs:
        if c['device'] not in devs:
            devs.append(c['device'])
    for backend in sorted({c['backend'] for c in cfgs},
                          key=lambda b: (b != 'null', b)):
        by = {c['device']: c for c in cfgs if c['backend'] == backend}
        lines += ['', '#### Backend: %s' % backend, '',
                  'IOPS (median over repetitions, min..max if more than '
                  'one), mean completion latency in µs in brackets.', '',
                  '| job | ' + ' | '.join(devs) + ' | ours/upstream IOPS |',
                  '|---|' + '---|' * (len(devs) + 1)]
        jobs = []
        for d in devs:
            for r in by.get(d, {}).get('results', []):
                j = (r['rw'], r['qd'], r['nj'])
                if j not in jobs:
                    jobs.append(j)
        for j in jobs:
            row, med = [], {}
            for d in devs:
                rs = [r for r in by.get(d, {}).get('results', [])
                      if (r['rw'], r['qd'], r['nj']) == j and 'iops' in r]
                if not rs:
                    row.append('failed')
                    continue
                iops = [r['iops'] for r in rs]
                med[d] = statistics.median(iops)
                row.append('%s [%.0f]' % (spread(iops, '%.0f'),
                                          statistics.median(
                                              r['lat_us'] for r in rs)))
            rat = ('%.2f' % (med['ours-nvme'] / med['upstream-nvme'])
                   if med.get('upstream-nvme') and 'ours-nvme' in med
                   else 'n/a')
            lines.append('| %s QD%d jobs=%d | %s | %s |'
                         % (j[0], j[1], j[2], ' | '.join(row), rat))
        errs = [(d, by[d]['error']) for d in devs
                if d in by and by[d].get('error')]
        for d, e in errs:
            lines.append('')
            lines.append('Note: %s on %s: %s' % (d, backend, e))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--meta', action='append', default=[])
    args = ap.parse_args()
    meta = dict(m.split('=', 1) for m in args.meta)
    d = args.dir
    cpu_o, cpu_u = (load(os.path.join(d, 'devcost-cpu-%s.json' % w))
                    for w in ('ours', 'upstream'))
    cg_o, cg_u = (load(os.path.join(d, 'devcost-cg-%s.json' % w))
                  for w in ('ours', 'upstream'))
    cg_io = load(os.path.join(d, 'devcost-cg-ours-iothread.json'))
    fio = load(os.path.join(d, 'fio.json'))
    crc = load(os.path.join(d, 'crc.json'))

    L = ['# NVMe device model benchmark results', '']
    L += ['- Date: %s' % meta.get('date', '?'),
          '- Mode: %s' % meta.get('mode', '?'),
          '- Machine: %s CPUs, %s, TCG only (no KVM)'
          % (meta.get('nproc', '?'), meta.get('cpu', '?')),
          '- QEMU: %s (ours: this overlay; upstream: pristine tree, '
          'same configure flags)' % meta.get('qemu_version', '?'),
          '- Wall time: %s' % meta.get('elapsed', '?'), '']
    L += ['Ratios are ours/upstream from the same `make bench` run; '
          '< 1 means ours is cheaper (CPU, instructions) or, for IOPS, '
          'that ours is slower.', '']
    L += ['## (a) Device cost per command (qtest load generator)', '',
          'QEMU runs with `-accel qtest` and `-drive file=null-co://,...,'
          'file.size=1G -device nvme,serial=bench,drive=d0`; '
          '`bench/devcost.py` is a polling host driver over the qtest '
          'socket (I/O queues of %s entries, interrupts off). A batch is QD '
          'SQEs written with one `write`, one SQ doorbell, `readl` polls of '
          'the last CQE until its phase flips, one `read` of the CQEs, one '
          'CQ doorbell. 4 KiB reads/writes (PRP1 only) and flushes; with 4 '
          'queues batches go round-robin. "net" subtracts a calibration run '
          'in the same process that replays the same qtest traffic (same '
          'bytes, same number of polls per batch) against RAM.'
          % ((cpu_o or cg_o or {}).get('qsize', '?')), '']
    if cpu_o and cpu_u:
        reps = max(r['rep'] for r in cpu_o['results']) + 1
        L += ['### CPU time per command', '',
              'QEMU process CPU time (sum of per-thread schedstat run time) '
              'per command, N=%d commands per cell, %d repetitions: median '
              '(min..max).' % (cpu_o['results'][0]['n'] if cpu_o['results']
                                 else 0, reps), '']
        L += cpu_table(cpu_o, cpu_u)
        L += ['']
    if cg_o and cg_u:
        L += ['### Instructions per command (callgrind)', '',
              'Whole-process instruction counts (`valgrind --tool=callgrind`,'
              ' all threads), one segment per cell delimited by callgrind '
              'dumps (`--dump-before=qemu_clock_advance_virtual_time`, '
              'triggered by a `clock_step 1` qtest command between '
              'segments). Median (min..max) over the repetitions: the '
              'counts are deterministic except for how many main-loop '
              'iterations the qtest traffic takes, which varies from run to '
              'run and matters most at QD1. The last column counts calls of '
              'the heap allocator (malloc, calloc, realloc, memalign and '
              'friends) in the same segments, net of the calibration.', '']
        L += ir_table(cg_o, cg_u)
        L += ['']
    if cg_io and cg_o:
        L += ['### Main-loop thread with `iothread=` (ours)', '',
              'The same callgrind measurement with `-object iothread,id=io0 '
              '-device nvme,...,iothread=io0`, counting only the main-loop '
              'thread (callgrind `--separate-threads=yes`). What remains '
              'there is the doorbell MMIO writes, which the qtest protocol '
              'performs in the main loop as a vCPU would in its own thread, '
              'plus the noise of main-loop iterations. The last column '
              'counts main-thread calls of functions that run for every '
              'command (%s) in the measured segment: with `iothread=` it '
              'must be 0.' % ', '.join('`%s`' % f for f in (
                  'nvme_sq_round', 'nvme_rw', 'nvme_post_cqes',
                  'nvme_io_co', 'blk_co_preadv', 'blk_co_pwritev',
                  'blk_co_flush')), '']
        L += iothread_table(cg_io, cg_o)
        L += ['']
    if fio:
        L += ['## (b) fio in the guest', '',
              'TCG guest (`-smp 2 -m 1G`), fio %ss time_based (+1 s ramp), '
              '4 KiB, direct=1, libaio, %d repetition(s) per cell; all jobs '
              'of one configuration run in one boot. `null` = null-co with '
              'read-zeroes=on; `shm` = 1 GiB preallocated raw file in '
              '/dev/shm. virtio-blk runs on our binary (its code is '
              'upstream\'s).' % (fio['runtime'], fio['reps'])]
        L += fio_tables(fio)
        L += ['']
    if crc:
        L += ['## (c) Protection information guards', '',
              '`bench/crcbench.c` over %d-byte blocks, single thread, MB/s '
              '(the device computes a guard per block on every checked or '
              'generated block). Folded = PCLMULQDQ folding, used by the '
              'device when the host has it (%s here).'
              % (crc['block'], 'available' if crc['folded_available']
                 else 'not available'), '',
              '| guard | table-driven MB/s | folded MB/s |',
              '|---|---|---|',
              '| CRC-16 T10-DIF (16-bit guard) | %d | %s |'
              % (crc['crc16_table_mbs'], crc['crc16_folded_mbs'] or '-'),
              '| CRC-64 NVMe (64-bit guard) | %d | %s |'
              % (crc['crc64_table_mbs'], crc['crc64_folded_mbs'] or '-'),
              '']
    L += ['Raw JSON: `%s`.' % d, '']
    with open(args.out, 'w') as f:
        f.write('\n'.join(L))


if __name__ == '__main__':
    main()
