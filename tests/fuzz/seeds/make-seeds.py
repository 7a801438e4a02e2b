#!/usr/bin/env python3
"""Writes the seed inputs of `make fuzz` for QEMU's generic-fuzz target.

Usage: make-seeds.py OUTDIR

An input of generic-fuzz (tests/qtest/fuzz/generic_fuzz.c) is a list of
operations separated by "FUZZ"; the first byte of each selects it (modulo
10) and the rest are its operands, a packed C struct with natural alignment.
Before each input the fuzzer maps the BARs of the matched PCI devices and
enables memory decoding and bus mastering; after it, the machine is reset.

Guest memory has no write operation: the device reads what a "DMA pattern"
holds. When a device reads RAM (the SQE fetch, a PRP list, write data, a
DSM range list...), the fuzzer fills the range with the next pattern,
repeated to the read's length, in turn. So each command below clears the
patterns, adds the SQE (and the data the command reads next) as patterns
and rings the doorbell; the SQ slot's address does not matter.

MMIO operands name a fuzzed memory region by index, in guest physical
address order, wrapping: 0 is the first controller's registers and
doorbells (BAR0 offset 0), 1 its MSI-X table, 2 its PBA.

Each seed brings a controller up (AQA/ASQ/ACQ/CC) and then exercises one
command family; the configurations in tests/fuzz/*.conf share them.
"""

import os
import struct
import sys

SEP = b"FUZZ"
(OP_IN, OP_OUT, OP_READ, OP_WRITE, OP_PCI_READ, OP_PCI_WRITE, OP_DISABLE_PCI,
 OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, OP_CLOCK_STEP) = range(10)
MMIO_SIZE = {1: 0, 2: 1, 4: 2, 8: 3}
PCI_SIZE = {1: 0, 2: 1, 4: 2}

REGS, MSIX_TABLE = 0, 1

# Controller registers (NVMe Base 2.0, 3.1.4).
CAP, VS, INTMS, INTMC, CC, CSTS, NSSR, AQA, ASQ, ACQ = (
    0x00, 0x08, 0x0C, 0x10, 0x14, 0x1C, 0x20, 0x24, 0x28, 0x30)
DB = 0x1000                       # CAP.DSTRD = 0: 4-byte doorbells
CC_EN = 1 << 0
CC_IOSQES_IOCQES = (6 << 16) | (4 << 20)

# PCI configuration space: MSI-X capability (first free slot, 40h).
PCI_COMMAND, MSIX_CAP = 0x04, 0x40

# Guest memory layout of the seeds.
ASQ_ADDR, ACQ_ADDR = 0x100000, 0x101000
IOSQ_ADDR, IOCQ_ADDR = 0x102000, 0x103000
SHADOW_DB, EVENT_IDX = 0x104000, 0x105000
BUF, BUF2, PRP_LIST, META = 0x110000, 0x111000, 0x118000, 0x120000
QSIZE = 64


def op(code, payload=b""):
    return bytes([code]) + payload


def mmio_write(offset, value, size=4, region=REGS):
    return op(OP_WRITE, struct.pack("<BBxxIQ", MMIO_SIZE[size], region,
                                    offset, value))


def mmio_read(offset, size=4, region=REGS):
    return op(OP_READ, struct.pack("<BBxxI", MMIO_SIZE[size], region, offset))


def pci_write(offset, value, size=4):
    return op(OP_PCI_WRITE, struct.pack("<BBBxI", PCI_SIZE[size], 0, offset,
                                        value))


def pci_read(offset, size=4):
    return op(OP_PCI_READ, struct.pack("<BBB", PCI_SIZE[size], 0, offset))


def pattern(data, index=0, stride=0):
    return op(OP_ADD_DMA_PATTERN, bytes([index, stride]) + data)


def clear_patterns():
    return op(OP_CLEAR_DMA_PATTERNS)


def sqe(opc, cid, nsid=0, cdw=(), prp1=0, prp2=0, mptr=0, psdt=0, fuse=0):
    """A 64-byte Submission Queue Entry; cdw holds CDW10.. CDW15."""
    cdw = list(cdw) + [0] * (6 - len(cdw))
    return struct.pack("<IIIIQQQ6I",
                       opc | fuse << 8 | psdt << 14 | cid << 16, nsid, 0, 0,
                       mptr, prp1, prp2, *cdw)


class Seed:
    """Builds one input: registers, then commands on the admin and I/O
    queues, tracking the tails so each doorbell write adds one entry."""

    def __init__(self):
        self.ops = []
        self.tail = {0: 0, 1: 0}
        self.done = {0: 0, 1: 0}
        self.cid = 0

    def add(self, *ops):
        self.ops.extend(ops)

    def enable(self, msix=False):
        if msix:
            self.enable_msix()
        self.add(mmio_read(CAP, 8), mmio_read(VS),
                 mmio_write(CC, 0),
                 mmio_write(AQA, (QSIZE - 1) << 16 | (QSIZE - 1)),
                 mmio_write(ASQ, ASQ_ADDR), mmio_write(ASQ + 4, 0),
                 mmio_write(ACQ, ACQ_ADDR), mmio_write(ACQ + 4, 0),
                 mmio_write(CC, CC_IOSQES_IOCQES | CC_EN),
                 mmio_read(CSTS))

    def enable_msix(self):
        """MSI-X on, vectors 0 and 1 unmasked (table in BAR0)."""
        self.add(pci_read(MSIX_CAP), pci_write(MSIX_CAP, 0x80000000))
        for vec in range(2):
            base = vec * 16
            self.add(mmio_write(base, 0xFEE00000, region=MSIX_TABLE),
                     mmio_write(base + 4, 0, region=MSIX_TABLE),
                     mmio_write(base + 8, 0x30 + vec, region=MSIX_TABLE),
                     mmio_write(base + 12, 0, region=MSIX_TABLE))

    def cmd(self, opc, qid=0, data=(), pre=(), completions=1, **kw):
        """Submits one command: its SQE, then the buffers it reads, as DMA
        patterns in the order the device reads them (pre: before the SQE).
        The CQ head doorbell first releases the entries of the commands
        before it, which have completed by then (an AER posts none until
        an event, an Abort of one posts two)."""
        self.cid += 1
        self.add(mmio_write(DB + 8 * qid + 4, self.done[qid]), clear_patterns())
        for d in pre:
            self.add(pattern(d))
        self.add(pattern(sqe(opc, self.cid, **kw)))
        for d in data:
            self.add(pattern(d))
        self.tail[qid] = (self.tail[qid] + 1) % QSIZE
        self.done[qid] = (self.done[qid] + completions) % QSIZE
        self.add(mmio_write(DB + 8 * qid, self.tail[qid]))

    def io_queues(self, vector=0):
        self.cmd(0x09, cdw=(0x07, 0x00010001))              # Number of Queues
        self.cmd(0x05, prp1=IOCQ_ADDR,                      # Create I/O CQ
                 cdw=((QSIZE - 1) << 16 | 1, vector << 16 | 0x3))
        self.cmd(0x01, prp1=IOSQ_ADDR,                      # Create I/O SQ
                 cdw=((QSIZE - 1) << 16 | 1, 1 << 16 | 0x1))

    def io(self, opc, **kw):
        self.cmd(opc, qid=1, **kw)

    def bytes(self):
        for o in self.ops:
            assert SEP not in o, "an operation contains the separator"
        return SEP.join(self.ops)


def rw_cdw(slba, nlb, cdw12_flags=0, cdw13=0, cdw14=0, cdw15=0):
    return (slba & 0xffffffff, slba >> 32, (nlb - 1) | cdw12_flags, cdw13,
            cdw14, cdw15)


def data_pattern(tag):
    return bytes((tag + i) & 0xff for i in range(16))


def seed_identify(s):
    s.enable()
    for cns, nsid, csi in ((0x01, 0, 0), (0x00, 1, 0), (0x02, 0, 0),
                           (0x03, 1, 0), (0x05, 1, 2), (0x06, 0, 2),
                           (0x07, 0, 2), (0x08, 1, 0), (0x1c, 0, 0),
                           (0x00, 0xffffffff, 0), (0x04, 0, 0)):
        s.cmd(0x06, nsid=nsid, prp1=BUF, cdw=(cns, csi << 24))


def seed_get_log(s):
    s.enable()
    numd = 0x3ff << 16                                   # 4 KiB
    for lid, nsid in ((0x00, 0), (0x01, 0), (0x02, 0xffffffff), (0x03, 0),
                      (0x04, 0), (0x05, 0), (0x0c, 0), (0x0e, 0), (0x80, 0),
                      (0xbf, 0), (0x02, 1)):
        s.cmd(0x02, nsid=nsid, prp1=BUF, cdw=(numd | lid,))
    s.cmd(0x02, prp1=BUF + 0x800, cdw=(0x1f << 16 | 1 << 15 | 0x05, 0, 64))
    s.cmd(0x86, nsid=1, prp1=BUF, cdw=(0, 0, 0xff, 0x10000))  # Get LBA Status


def seed_features(s):
    s.enable()
    for fid in (0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b,
                0x0e, 0x0f, 0x16, 0x19, 0x81, 0x82, 0x83):
        s.cmd(0x0a, nsid=1 if fid in (0x05, 0x82, 0x83) else 0,
              prp1=BUF, cdw=(fid,))
        s.cmd(0x0a, prp1=BUF, cdw=(3 << 8 | fid,))       # SEL: capabilities
    for fid, val, data in ((0x01, 0x03, b""), (0x04, 0x150, b""),
                           (0x05, 1 << 16, b""), (0x06, 0, b""),
                           (0x06, 1, b""), (0x08, 0x0a05, b""),
                           (0x09, 1 << 16 | 1, b""), (0x0a, 1, b""),
                           (0x0b, 0x0f00ff, b""), (0x0f, 5000, b""),
                           (0x0e, 0, struct.pack("<Q", 0x123456789a)),
                           (0x81, 0, bytes(range(16))), (0x82, 0xe, b""),
                           (0x83, 1, b"")):
        s.cmd(0x09, nsid=1 if fid in (0x05, 0x82, 0x83) else 0, prp1=BUF,
              cdw=(1 << 31 | fid, val), data=[data] if data else [])
    s.cmd(0x0c, completions=0)                            # AER
    s.cmd(0x0c, completions=0)
    s.cmd(0x08, cdw=(s.cid << 16,), completions=2)        # Abort the AER
    s.cmd(0x18)                                           # Keep Alive
    s.cmd(0x11, prp1=BUF, cdw=(0x3ff, 0), data=[b"\xa5" * 64])
    s.cmd(0x10, cdw=(1 << 3 | 2,))                        # FW commit slot 2
    s.add(mmio_write(INTMS, 1), mmio_write(INTMC, 1))


def seed_queues(s):
    s.enable(msix=True)
    s.io_queues(vector=1)
    s.cmd(0x7c, prp1=SHADOW_DB, prp2=EVENT_IDX)           # Doorbell Buffer
    # Now the tail comes from the shadow doorbell, read before the SQE.
    s.io(0x00, nsid=1, pre=[struct.pack("<I", s.tail[1] + 1)])
    s.cmd(0x00, cdw=(1,))                                 # Delete I/O SQ
    s.cmd(0x04, cdw=(1,))                                 # Delete I/O CQ
    s.tail[1] = s.done[1] = 0
    s.io_queues(vector=0)
    s.cmd(0x08, cdw=(1,))                                 # Abort on SQ 1
    s.io(0x02, nsid=1, prp1=BUF, cdw=rw_cdw(0, 1), pre=[struct.pack("<I", 1)])
    s.add(mmio_write(CC, CC_IOSQES_IOCQES | 1 << 14 | CC_EN),  # shutdown
          mmio_read(CSTS), mmio_write(CC, 0), mmio_read(CSTS))


def seed_read_write(s):
    s.enable()
    s.io_queues()
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 8),
         data=[data_pattern(0x10)])
    s.io(0x02, nsid=1, prp1=BUF2, cdw=rw_cdw(0, 8))
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(8, 1, 1 << 30),  # FUA
         data=[data_pattern(0x20)])
    s.io(0x05, nsid=1, prp1=BUF, cdw=rw_cdw(8, 1),      # Compare
         data=[data_pattern(0x20)])
    s.io(0x0c, nsid=1, cdw=rw_cdw(0, 16))                 # Verify
    s.io(0x08, nsid=1, cdw=rw_cdw(16, 8))                 # Write Zeroes
    s.io(0x08, nsid=1, cdw=rw_cdw(24, 8, 1 << 25))        # ... with DEAC
    s.io(0x04, nsid=1, cdw=rw_cdw(32, 1))                 # Write Uncorrectable
    s.io(0x02, nsid=1, prp1=BUF, cdw=rw_cdw(32, 1))
    s.io(0x00, nsid=1)                                    # Flush
    # 12 KiB through a PRP list, then an SGL Data Block.
    s.io(0x01, nsid=2, prp1=BUF, prp2=PRP_LIST, cdw=rw_cdw(0, 3),
         data=[struct.pack("<QQ", BUF + 0x1000, BUF + 0x2000),
               data_pattern(0x30)])
    s.io(0x02, nsid=2, psdt=1, prp1=BUF, prp2=0x1000 | 0x00 << 56,
         cdw=rw_cdw(0, 1))
    # Metadata in a separate buffer (MPTR), protection information by
    # the controller (PRACT) and checked (PRCHK guard and reference tag).
    s.io(0x01, nsid=1, prp1=BUF, mptr=META,
         cdw=rw_cdw(40, 2, 0x5 << 26, 0, 40), data=[data_pattern(0x40),
                                                   bytes(8)])
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(48, 2, 0xd << 26, 0, 48),
         data=[data_pattern(0x50)])
    s.io(0x02, nsid=1, prp1=BUF2, cdw=rw_cdw(48, 2, 0xd << 26, 0, 48))
    s.io(0x02, nsid=1, prp1=BUF2, mptr=META, cdw=rw_cdw(40, 2, 0x5 << 26, 0,
                                                       40))


def seed_dsm(s):
    s.enable()
    s.cmd(0x09, cdw=(0x05, 1 << 16))                      # DULBE on
    s.io_queues()
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 16), data=[data_pattern(1)])
    ranges = struct.pack("<IIQ", 0, 8, 0) + struct.pack("<IIQ", 0, 4, 12)
    s.io(0x09, nsid=1, prp1=BUF, cdw=(1, 1 << 2), data=[ranges])
    s.io(0x09, nsid=1, prp1=BUF, cdw=(0, 0x3), data=[ranges[:16]])
    s.io(0x02, nsid=1, prp1=BUF2, cdw=rw_cdw(0, 8))
    s.io(0x0c, nsid=1, cdw=rw_cdw(0, 16))


def seed_copy(s):
    s.enable()
    s.io_queues()
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 8), data=[data_pattern(2)])
    fmt0 = struct.pack("<QQHHIIHH", 0, 0, 3, 0, 0, 0, 0, 0)
    fmt0 += struct.pack("<QQHHIIHH", 0, 4, 3, 0, 0, 0, 0, 0)
    s.io(0x19, nsid=1, prp1=BUF, cdw=(64, 0, 1), data=[fmt0])
    # Format 1h (64b Guard namespaces: 48-bit reference tags).
    fmt1 = struct.pack("<QQHH4xQHH", 0, 0, 7, 0, 0, 0, 0)
    s.io(0x19, nsid=1, prp1=BUF, cdw=(96, 0, 1 << 8), data=[fmt1])
    s.io(0x19, nsid=2, prp1=BUF, cdw=(96, 0, 1 << 8), data=[fmt1])
    s.io(0x02, nsid=1, prp1=BUF2, cdw=rw_cdw(64, 8))


def seed_zones(s):
    s.enable()
    s.cmd(0x09, cdw=(0x0b, 1 << 27))                      # Zone Descr. Changed
    s.cmd(0x0c, completions=0)
    s.io_queues()
    numd = 0x3ff
    s.io(0x7a, nsid=1, prp1=BUF, cdw=(0, 0, numd, 0))     # Report Zones
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 4), data=[data_pattern(3)])
    s.io(0x7d, nsid=1, prp1=BUF, cdw=rw_cdw(0, 4), data=[data_pattern(4)])
    zone = 2048                                           # 1 MiB, 512 B
    for zsa, slba in ((0x03, zone), (0x01, zone), (0x02, 0), (0x04, 0),
                      (0x05, 3 * zone)):
        s.io(0x79, nsid=1, cdw=(slba & 0xffffffff, slba >> 32, 0, zsa))
    s.io(0x79, nsid=1, cdw=(0, 0, 0, 1 << 8 | 0x03))      # open all
    s.io(0x79, nsid=1, prp1=BUF, cdw=(zone, 0, 0, 0x10),  # Set ZDE
         data=[b"\x5a" * 64])
    s.io(0x7a, nsid=1, prp1=BUF, cdw=(0, 0, numd, 2 << 8 | 1))  # extended
    s.io(0x7a, nsid=1, prp1=BUF, cdw=(0, 0, numd, 1 << 16 | 3 << 8))
    s.io(0x79, nsid=1, cdw=(0, 0, 0, 1 << 8 | 0x04))      # reset all
    s.cmd(0x02, nsid=1, prp1=BUF, cdw=(0x3ff << 16 | 0xbf,))
    s.cmd(0x06, nsid=1, prp1=BUF, cdw=(0x05, 2 << 24))


def seed_format(s):
    s.enable()
    s.io_queues()
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 1), data=[data_pattern(5)])
    for cdw10 in (0x1, 0x2 | 1 << 5, 0x3 | 1 << 4 | 1 << 5 | 1 << 8,
                  1 << 9, 0x0):
        s.cmd(0x80, nsid=1, cdw=(cdw10,))
        s.cmd(0x06, nsid=1, prp1=BUF, cdw=(0x00,))
    s.cmd(0x80, nsid=0xffffffff, cdw=(0,))
    s.io(0x02, nsid=1, prp1=BUF, cdw=rw_cdw(0, 1))


def seed_ns_management(s):
    s.enable()
    for cns in (0x10, 0x11, 0x12, 0x13):
        s.cmd(0x06, nsid=0, prp1=BUF, cdw=(cns,))
    idns = struct.pack("<QQQ", 0x4000, 0x4000, 0).ljust(26, b"\0")
    idns = (idns + bytes([0, 0, 0, 0, 1])).ljust(384, b"\0")  # FLBAS, NMIC
    s.cmd(0x0d, prp1=BUF, cdw=(0,), data=[idns])          # create
    ctrl_list = struct.pack("<HH", 1, 0)
    s.cmd(0x15, nsid=1, prp1=BUF, cdw=(0,), data=[ctrl_list])   # attach
    s.cmd(0x06, nsid=1, prp1=BUF, cdw=(0x00,))
    s.cmd(0x02, prp1=BUF, cdw=(0x3ff << 16 | 0x04,))      # Changed NS List
    s.cmd(0x15, nsid=1, prp1=BUF, cdw=(1,), data=[ctrl_list])   # detach
    s.cmd(0x0d, nsid=1, cdw=(1,))                         # delete
    s.cmd(0x0d, nsid=0xffffffff, cdw=(1,))


def seed_reservations(s):
    s.enable()
    s.cmd(0x09, cdw=(0x81, 0), prp1=BUF, data=[bytes(range(1, 9))])
    s.io_queues()
    key_a, key_b = 0x1111, 0x2222
    s.io(0x0d, nsid=1, prp1=BUF, cdw=(0,),                # register
         data=[struct.pack("<QQ", 0, key_a)])
    s.io(0x11, nsid=1, prp1=BUF, cdw=(1 << 8,),           # acquire WE
         data=[struct.pack("<QQ", key_a, 0)])
    s.io(0x0e, nsid=1, prp1=BUF, cdw=(0x3ff, 1))          # report (EDS)
    s.io(0x0e, nsid=1, prp1=BUF, cdw=(0x3ff, 0))
    s.io(0x0d, nsid=1, prp1=BUF, cdw=(2 | 3 << 30,),      # replace, PTPL on
         data=[struct.pack("<QQ", key_a, key_b)])
    s.io(0x11, nsid=1, prp1=BUF, cdw=(1 | 3 << 8,),       # preempt
         data=[struct.pack("<QQ", key_b, key_a)])
    s.io(0x15, nsid=1, prp1=BUF, cdw=(3 << 8,),           # release
         data=[struct.pack("<Q", key_b)])
    s.io(0x01, nsid=1, prp1=BUF, cdw=rw_cdw(0, 1), data=[data_pattern(6)])
    s.io(0x15, nsid=1, prp1=BUF, cdw=(1,),                # clear
         data=[struct.pack("<Q", key_b)])
    s.cmd(0x0a, nsid=1, cdw=(0x83,))
    s.cmd(0x02, prp1=BUF, cdw=(0x0f << 16 | 0x80,))       # notification log


def seed_registers(s):
    """Enable/disable/reset paths and the register file itself."""
    s.enable()
    for off in range(0, 0x60, 4):
        s.add(mmio_read(off))
    s.add(pci_read(PCI_COMMAND, 2), pci_write(PCI_COMMAND, 0x0406, 2),
          mmio_write(NSSR, 0x4E564D65), mmio_read(CSTS))
    s.enable()
    s.add(mmio_write(DB + 8 * 5, 1), mmio_write(DB, QSIZE + 1))  # bad DBs
    s.add(mmio_write(CC, CC_IOSQES_IOCQES | 7 << 7 | CC_EN), mmio_read(CSTS))


SEEDS = {
    "identify": seed_identify,
    "get-log": seed_get_log,
    "features": seed_features,
    "queues": seed_queues,
    "read-write": seed_read_write,
    "dsm": seed_dsm,
    "copy": seed_copy,
    "zones": seed_zones,
    "format": seed_format,
    "ns-management": seed_ns_management,
    "reservations": seed_reservations,
    "registers": seed_registers,
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, build in SEEDS.items():
        s = Seed()
        build(s)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(s.bytes())


if __name__ == "__main__":
    main()
