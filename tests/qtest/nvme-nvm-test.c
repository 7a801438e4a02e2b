/*
 * qtests for the NVMe controller: NVM command set I/O commands (Write
 * Zeroes, Write Uncorrectable, Compare, Verify, Dataset Management, Copy)
 * and LBA status (Get LBA Status, LBA Status Information log), each with
 * its data checked and its error statuses.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "libqos/libqos.h"

#define NLBAS           QNVME_TEST_NLBAS
#define BS              512
#define DNR             NVME_SC_DNR
#define OOR             (NVME_SC_LBA_OUT_OF_RANGE | DNR)
#define URE             (NVME_SC_UNRECOVERED_READ_ERROR | DNR)
#define CSL             (NVME_SC_COMMAND_SIZE_LIMIT | DNR)
#define INVALID         (NVME_SC_INVALID_FIELD | DNR)

typedef QNvmeCtx Ctx;     /* aux holds range lists */

/* An I/O command: SLBA, NLB (1's based) and extra CDW12 bits. */
static uint16_t io_full(Ctx *c, uint8_t opcode, uint32_t nsid, uint64_t slba,
                        uint32_t nlb, uint32_t cdw12, NvmeCqe *cqe)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .dptr.prp2 = cpu_to_le64(c->buf + QNVME_PAGE_SIZE),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(((nlb - 1) & 0xffff) | cdw12),
    };

    return qnvme_cmd(c->n, 1, &cmd, cqe);
}

static uint16_t io(Ctx *c, uint8_t opcode, uint64_t slba, uint32_t nlb)
{
    return io_full(c, opcode, 1, slba, nlb, 0, NULL);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = seed + i * 13 + (i >> 9);
    }
}

/* Writes nlb blocks (at most 16) of the pattern seed at slba. */
static void write_pattern(Ctx *c, uint64_t slba, uint32_t nlb, uint8_t seed)
{
    g_autofree uint8_t *data = g_malloc(nlb * BS);

    g_assert_cmpuint(nlb, <=, 16);
    fill(data, nlb * BS, seed);
    qtest_memwrite(c->qts, c->buf, data, nlb * BS);
    g_assert_cmphex(io(c, NVME_CMD_WRITE, slba, nlb), ==, 0);
}

/* Reads nlb blocks at slba into out (nlb * BS bytes). */
static void read_blocks(Ctx *c, uint64_t slba, uint32_t nlb, uint8_t *out)
{
    g_assert_cmpuint(nlb, <=, 16);
    qtest_memset(c->qts, c->buf, 0xa5, nlb * BS);
    g_assert_cmphex(io(c, NVME_CMD_READ, slba, nlb), ==, 0);
    qtest_memread(c->qts, c->buf, out, nlb * BS);
}

static void assert_pattern(Ctx *c, uint64_t slba, uint32_t nlb,
                           uint8_t seed)
{
    g_autofree uint8_t *want = g_malloc(nlb * BS);
    g_autofree uint8_t *got = g_malloc(nlb * BS);

    fill(want, nlb * BS, seed);
    read_blocks(c, slba, nlb, got);
    g_assert_cmpmem(got, nlb * BS, want, nlb * BS);
}

static void assert_zero(Ctx *c, uint64_t slba, uint32_t nlb)
{
    g_autofree uint8_t *zero = g_malloc0(nlb * BS);
    g_autofree uint8_t *got = g_malloc(nlb * BS);

    read_blocks(c, slba, nlb, got);
    g_assert_cmpmem(got, nlb * BS, zero, nlb * BS);
}

/* Dataset Management with Attribute Deallocate over ranges (slba, nlb). */
static uint16_t dsm(Ctx *c, uint32_t attr, const uint64_t *slba,
                    const uint32_t *nlb, int nr)
{
    NvmeDsmRange r[NVME_DSM_MAX_RANGES] = {};
    NvmeCmd cmd = {
        .opcode = NVME_CMD_DSM,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw10 = cpu_to_le32(nr - 1),
        .cdw11 = cpu_to_le32(attr),
    };

    g_assert_cmpint(nr, <=, NVME_DSM_MAX_RANGES);
    for (int i = 0; i < nr; i++) {
        r[i].slba = cpu_to_le64(slba[i]);
        r[i].nlb = cpu_to_le32(nlb[i]);
    }
    qtest_memwrite(c->qts, c->aux, r, nr * sizeof(r[0]));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

/* Copy, descriptor format desfmt, ranges (slba, nlb 1's based). */
static uint16_t copy(Ctx *c, uint64_t sdlba, const uint64_t *slba,
                     const uint32_t *nlb, int nr, uint32_t desfmt,
                     uint32_t *dw0)
{
    NvmeCopySourceRange r[128] = {};
    NvmeCqe cqe;
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COPY,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw10 = cpu_to_le32(sdlba),
        .cdw11 = cpu_to_le32(sdlba >> 32),
        .cdw12 = cpu_to_le32(((nr - 1) & 0xff) | (desfmt << 8)),
    };
    uint16_t status;

    for (int i = 0; i < MIN(nr, 128); i++) {
        r[i].slba = cpu_to_le64(slba[i]);
        r[i].nlb = cpu_to_le16(nlb[i] - 1);
    }
    qtest_memwrite(c->qts, c->aux, r, MIN(nr, 128) * sizeof(r[0]));
    status = qnvme_cmd(c->n, 1, &cmd, &cqe);
    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}

/* Identify: limits, DLFEAT, ONCS and the effects log */

static void test_identify(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    const uint16_t oncs = NVME_ONCS_COMPARE | NVME_ONCS_WRITE_UNCORR |
                          NVME_ONCS_RESRVATIONS |
                          NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
                          NVME_ONCS_VERIFY | NVME_ONCS_COPY;
    const uint8_t changes[] = {
        NVME_CMD_WRITE_ZEROES, NVME_CMD_WRITE_UNCOR, NVME_CMD_DSM,
        NVME_CMD_COPY,
    };

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, ns), ==, 0);
    g_assert_cmpuint(le16_to_cpu(ns->mssrl), ==, 128);
    g_assert_cmpuint(le32_to_cpu(ns->mcl), ==, 128);
    g_assert_cmpuint(ns->msrc, ==, 127);
    /* Write Zeroes DEAC supported; deallocated read behaviour unreported */
    g_assert_cmphex(ns->dlfeat, ==, 0x09);
    /*
     * A raw file says nothing about its deallocation granularity (cluster
     * size 0, discard_granularity unset, i.e. -1): no preferred values
     */
    g_assert_cmphex(ns->nsfeat & NVME_NSFEAT_OPTPERF, ==, 0);
    g_assert_cmpuint(le16_to_cpu(ns->npdg), ==, 0);
    g_assert_cmpuint(le16_to_cpu(ns->npda), ==, 0);

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CTRL, 0, 0, ctrl), ==,
                    0);
    g_assert_cmphex(le16_to_cpu(ctrl->oncs) & oncs, ==, oncs);

    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CMD_EFFECTS, 0, eff,
                                  sizeof(*eff)), ==, 0);
    for (int i = 0; i < ARRAY_SIZE(changes); i++) {
        g_assert_cmphex(le32_to_cpu(eff->iocs[changes[i]]), ==,
                        NVME_CMD_EFF_CSUPP | NVME_CMD_EFF_LBCC);
    }
    g_assert_cmphex(le32_to_cpu(eff->iocs[NVME_CMD_COMPARE]), ==,
                    NVME_CMD_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(eff->iocs[NVME_CMD_VERIFY]), ==,
                    NVME_CMD_EFF_CSUPP);
}

/* Write Zeroes (NVM 3.3.8) */

static void test_write_zeroes(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);

    /* The whole namespace at once: no data, so MDTS does not apply. */
    write_pattern(&c, NLBAS - 4, 4, 3);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 0, NLBAS), ==, 0);
    assert_zero(&c, NLBAS - 4, 4);

    write_pattern(&c, 10, 8, 1);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 12, 2), ==, 0);
    assert_pattern(&c, 10, 2, 1);
    assert_zero(&c, 12, 2);
    {
        g_autofree uint8_t *want = g_malloc(8 * BS);
        g_autofree uint8_t *got = g_malloc(8 * BS);

        fill(want, 8 * BS, 1);
        read_blocks(&c, 10, 8, got);
        g_assert_cmpmem(got + 4 * BS, 4 * BS, want + 4 * BS, 4 * BS);
    }
    /* DEAC and FUA */
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_ZEROES, 1, 14, 4,
                            NVME_WZ_DEAC | NVME_RW_FUA, NULL), ==, 0);
    assert_zero(&c, 10 + 2, 8);

    /* LBA Out of Range, including a 64-bit SLBA + NLB overflow */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, NLBAS, 1), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, NLBAS - 1, 2), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, UINT64_MAX, 2), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 0, NLBAS + 1), ==, OOR);
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_ZEROES, 2, 0, 1, 0, NULL),
                    ==, NVME_SC_INVALID_NAMESPACE | DNR);
}

/* Write Uncorrectable (NVM 3.3.7) and reads of marked blocks */

static void test_write_uncor(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    uint64_t s = 22;
    uint32_t l = 2;

    write_pattern(&c, 16, 12, 7);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 20, 4), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 20, 1), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 23, 1), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 16, 8), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 16, 4), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 24, 4), ==, 0);

    /* A Write in the middle splits the marked range. */
    write_pattern(&c, 21, 1, 9);
    assert_pattern(&c, 21, 1, 9);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 20, 1), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 22, 1), ==, URE);
    /* Write Zeroes and deallocation clear marks too. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 20, 1), ==, 0);
    assert_zero(&c, 20, 1);
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, &s, &l, 1), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 16, 12), ==, 0);
    assert_pattern(&c, 24, 4, 7 + 8);      /* block 8 of the pattern */

    /* Overlapping and adjacent marks merge; reads fail until rewritten. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 100, 10), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 105, 10), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 115, 5), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 119, 1), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 100, 20), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 100, 16), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 116, 4), ==, 0);

    /* Errors */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, NLBAS, 1), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, UINT64_MAX - 1, 4), ==, OOR);
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_UNCOR, 3, 0, 1, 0, NULL),
                    ==, NVME_SC_INVALID_NAMESPACE | DNR);

    /* At most 256 separate marked ranges: one more is an Internal Error. */
    for (int i = 0; i < 256; i++) {
        g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 1000 + 2 * i, 1), ==, 0);
    }
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 2000, 1), ==,
                    NVME_SC_INTERNAL_ERROR | DNR);
    /* Merging into an existing range still works when full. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 1001, 1), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 1001, 1), ==, URE);
    /* One Write Zeroes over everything frees them all. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 1000, 512), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 1000, 16), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 2000, 1), ==, 0);
}

/* Compare (NVM 3.3.2) */

static void test_compare(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree uint8_t *p = g_malloc(16 * BS);

    fill(p, 16 * BS, 5);
    write_pattern(&c, 40, 16, 5);
    qtest_memwrite(c.qts, c.buf, p, 16 * BS);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 40, 16), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 40, 1), ==, 0);
    /* One byte differs in the last block. */
    p[16 * BS - 1] ^= 0xff;
    qtest_memwrite(c.qts, c.buf, p, 16 * BS);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 40, 16), ==,
                    NVME_SC_COMPARE_FAILURE | DNR);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 40, 15), ==, 0);
    /* Compare does not change the blocks. */
    assert_pattern(&c, 40, 16, 5);

    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, NLBAS - 1, 2), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, UINT64_MAX, 1), ==, OOR);
    /* Data is transferred: MDTS (512 KiB) applies. */
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 0, 1025), ==, INVALID);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 50, 1), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 40, 16), ==, URE);
}

/* Verify (NVM 3.3.9) */

static void test_verify(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);

    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 0, 8), ==, 0);
    /* No data transfer: up to VSL (512 KiB), more than one bounce chunk */
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 0, 1024), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 50, 1), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 48, 8), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 0, 1024), ==, URE);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 51, 8), ==, 0);
    write_pattern(&c, 50, 1, 2);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 48, 8), ==, 0);

    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, NLBAS, 1), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, UINT64_MAX - 2, 8), ==, OOR);
}

/* Dataset Management (NVM 3.3.3) */

static void test_dsm(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    uint64_t slba[NVME_DSM_MAX_RANGES];
    uint32_t nlb[NVME_DSM_MAX_RANGES];

    write_pattern(&c, 60, 8, 4);
    /* Without Attribute Deallocate nothing happens. */
    slba[0] = NLBAS;
    nlb[0] = 1;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_IDR | NVME_DSMGMT_IDW, slba, nlb, 1),
                    ==, 0);

    /* Every range is checked before any is deallocated. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 60, 2), ==, 0);
    slba[0] = 60;
    nlb[0] = 2;
    slba[1] = NLBAS - 1;
    nlb[1] = 2;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, 2), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 60, 1), ==, URE);
    slba[1] = UINT64_MAX - 1;
    nlb[1] = 4;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, 2), ==, OOR);
    slba[1] = NLBAS;
    nlb[1] = 1;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, 2), ==, OOR);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 60, 1), ==, URE);

    /* Valid ranges: a zero-length one is skipped, marks are dropped. */
    slba[1] = 0;
    nlb[1] = 0;
    slba[2] = 64;
    nlb[2] = 2;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, 3), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 60, 8), ==, 0);
    /* Deallocated blocks read as zeroes (DLFEAT); the others keep data. */
    assert_zero(&c, 60, 2);
    assert_zero(&c, 64, 2);
    {
        g_autofree uint8_t *want = g_malloc(8 * BS);
        g_autofree uint8_t *got = g_malloc(8 * BS);

        fill(want, 8 * BS, 4);
        read_blocks(&c, 60, 8, got);
        g_assert_cmpmem(got + 2 * BS, 2 * BS, want + 2 * BS, 2 * BS);
        g_assert_cmpmem(got + 6 * BS, 2 * BS, want + 6 * BS, 2 * BS);
    }

    /* All 256 ranges */
    for (int i = 0; i < NVME_DSM_MAX_RANGES; i++) {
        slba[i] = 4096 + 8 * i;
        nlb[i] = 8;
    }
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, NVME_DSM_MAX_RANGES),
                    ==, 0);
    nlb[NVME_DSM_MAX_RANGES - 1] = NLBAS;
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, slba, nlb, NVME_DSM_MAX_RANGES),
                    ==, OOR);
    /* Bad data pointer */
    {
        NvmeCmd cmd = {
            .opcode = NVME_CMD_DSM, .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(c.aux + 1),
            .cdw11 = cpu_to_le32(NVME_DSMGMT_AD),
        };
        g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==,
                        NVME_SC_INVALID_PRP_OFFSET | DNR);
    }
}

/* Copy (NVM 3.3.1) */

static void test_copy(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    uint64_t slba[129];
    uint32_t nlb[129];
    uint32_t dw0;

    write_pattern(&c, 100, 4, 11);
    write_pattern(&c, 200, 2, 22);
    write_pattern(&c, 300, 3, 33);
    slba[0] = 100;
    nlb[0] = 4;
    slba[1] = 200;
    nlb[1] = 2;
    slba[2] = 300;
    nlb[2] = 3;
    g_assert_cmphex(copy(&c, 1000, slba, nlb, 3, 0, NULL), ==, 0);
    assert_pattern(&c, 1000, 4, 11);
    assert_pattern(&c, 1004, 2, 22);
    assert_pattern(&c, 1006, 3, 33);
    assert_pattern(&c, 100, 4, 11);

    /* The largest copy: 8 ranges of 16 blocks = MCL (128). */
    for (int i = 0; i < 8; i++) {
        slba[i] = 2048 + 16 * i;
        nlb[i] = 16;
    }
    write_pattern(&c, 2048 + 127, 1, 44);
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 8, 0, NULL), ==, 0);
    assert_pattern(&c, 8192 + 127, 1, 44);

    /* Command Size Limit: MSSRL, MCL, MSRC */
    nlb[0] = 129;
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 1, 0, NULL), ==, CSL);
    nlb[0] = 16;
    slba[8] = 0;
    nlb[8] = 1;
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 9, 0, NULL), ==, CSL);
    for (int i = 0; i < 129; i++) {
        slba[i] = i;
        nlb[i] = 1;
    }
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 128, 0, NULL), ==, 0);
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 129, 0, NULL), ==, CSL);

    /* Without 64b Guard protection information, format 0h only */
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 1, 1, NULL), ==, INVALID);
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 1, 2, NULL), ==, INVALID);

    /* LBA Out of Range: source, destination, 64-bit overflow */
    slba[1] = NLBAS - 1;
    nlb[1] = 2;
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 2, 0, NULL), ==, OOR);
    slba[1] = UINT64_MAX;
    g_assert_cmphex(copy(&c, 8192, slba, nlb, 2, 0, NULL), ==, OOR);
    slba[1] = 10;
    g_assert_cmphex(copy(&c, NLBAS - 2, slba, nlb, 2, 0, NULL), ==, OOR);
    g_assert_cmphex(copy(&c, UINT64_MAX - 1, slba, nlb, 2, 0, NULL), ==, OOR);
    g_assert_cmphex(copy(&c, NLBAS - 3, slba, nlb, 2, 0, NULL), ==, 0);

    /* A marked source block: Unrecovered Read Error, DW0 = its range. */
    write_pattern(&c, 500, 2, 55);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 300, 1), ==, 0);
    slba[0] = 500;
    nlb[0] = 2;
    slba[1] = 100;
    nlb[1] = 1;
    slba[2] = 300;
    nlb[2] = 3;
    g_assert_cmphex(copy(&c, 3000, slba, nlb, 3, 0, &dw0), ==, URE);
    g_assert_cmpuint(dw0, ==, 2);
    assert_pattern(&c, 3000, 2, 55);    /* earlier ranges were copied */
    /* The destination's marks go away when Copy writes it. */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 3000, 4), ==, 0);
    g_assert_cmphex(copy(&c, 3000, slba, nlb, 2, 0, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 3000, 3), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 3003, 1), ==, URE);
}

/* Get LBA Status (Base 2.0) and the LBA Status Information log */

static uint16_t get_lba_status(Ctx *c, uint32_t nsid, uint64_t slba,
                               uint32_t mndw, uint16_t rl, uint8_t atype,
                               void *out, size_t out_len)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_GET_LBA_STATUS,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .dptr.prp2 = cpu_to_le64(c->buf + QNVME_PAGE_SIZE),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(mndw),
        .cdw13 = cpu_to_le32(rl | ((uint32_t)atype << 24)),
    };
    uint16_t status;

    qtest_memset(c->qts, c->buf, 0xee, 2 * QNVME_PAGE_SIZE);
    status = qnvme_cmd(c->n, 0, &cmd, NULL);
    qtest_memread(c->qts, c->buf, out, out_len);
    return status;
}

static void test_lba_status(void *obj, void *data, QGuestAllocator *alloc)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
    uint8_t out[4096];
    NvmeLbaStatusHeader *h = (NvmeLbaStatusHeader *)out;
    NvmeLbaStatusDescr *d = (NvmeLbaStatusDescr *)(out + sizeof(*h));
    NvmeLbaStatusLogHeader *lh = (NvmeLbaStatusLogHeader *)out;
    NvmeLbaStatusLogNsElement *el = (NvmeLbaStatusLogNsElement *)(lh + 1);
    NvmeLbaStatusLogRange *lr = (NvmeLbaStatusLogRange *)(el + 1);
    uint16_t gen;

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CTRL, 0, 0, ctrl), ==,
                    0);
    if (!(le16_to_cpu(ctrl->oacs) & NVME_OACS_LBA_STATUS)) {
        g_test_skip("Get LBA Status is not in the admin opcode table");
        return;
    }

    /* Nothing marked yet */
    g_assert_cmphex(get_lba_status(&c, 1, 0, 1023, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 64), ==, 0);
    g_assert_cmpuint(le32_to_cpu(h->nlsd), ==, 0);
    g_assert_cmpuint(h->cmpc, ==, NVME_LBAS_CMPC_RL);

    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 40, 8), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_UNCOR, 100, 2), ==, 0);
    g_assert_cmphex(get_lba_status(&c, 1, 0, 1023, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 64), ==, 0);
    g_assert_cmpuint(le32_to_cpu(h->nlsd), ==, 2);
    g_assert_cmpuint(h->cmpc, ==, NVME_LBAS_CMPC_RL);
    g_assert_cmpuint(le64_to_cpu(d[0].dslba), ==, 40);
    g_assert_cmpuint(le32_to_cpu(d[0].nlb), ==, 8);
    g_assert_cmpuint(le64_to_cpu(d[1].dslba), ==, 100);
    g_assert_cmpuint(le32_to_cpu(d[1].nlb), ==, 2);
    /* Past the data only the mapped bytes were written. */
    g_assert_cmphex(out[sizeof(*h) + 2 * sizeof(*d)], ==, 0xee);

    /* SLBA inside a range; Range Length; untracked scan reports the same */
    g_assert_cmphex(get_lba_status(&c, 1, 44, 1023, 57,
                                   NVME_LBAS_ATYPE_UNTRACKED, out, 64), ==, 0);
    g_assert_cmpuint(le32_to_cpu(h->nlsd), ==, 2);
    g_assert_cmpuint(le64_to_cpu(d[0].dslba), ==, 44);
    g_assert_cmpuint(le32_to_cpu(d[0].nlb), ==, 4);
    g_assert_cmpuint(le32_to_cpu(d[1].nlb), ==, 1);
    g_assert_cmphex(get_lba_status(&c, 1, 0, 1023, 50,
                                   NVME_LBAS_ATYPE_TRACKED, out, 64), ==, 0);
    g_assert_cmpuint(le32_to_cpu(h->nlsd), ==, 1);
    /* MNDW leaves room for one descriptor (6 dwords): CMPC says more */
    g_assert_cmphex(get_lba_status(&c, 1, 0, 5, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 64), ==, 0);
    g_assert_cmpuint(le32_to_cpu(h->nlsd), ==, 1);
    g_assert_cmpuint(h->cmpc, ==, NVME_LBAS_CMPC_MNDW);
    g_assert_cmpuint(le64_to_cpu(d[0].dslba), ==, 40);
    g_assert_cmphex(out[sizeof(*h) + sizeof(*d)], ==, 0xee);

    /* Errors */
    g_assert_cmphex(get_lba_status(&c, 2, 0, 1023, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 8), ==,
                    NVME_SC_INVALID_NAMESPACE | DNR);
    g_assert_cmphex(get_lba_status(&c, 0, 0, 1023, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 8), ==,
                    NVME_SC_INVALID_NAMESPACE | DNR);
    g_assert_cmphex(get_lba_status(&c, 1, 0, 1023, 0, 0x02, out, 8), ==,
                    INVALID);
    g_assert_cmphex(get_lba_status(&c, 1, NLBAS, 1023, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 8), ==, OOR);
    g_assert_cmphex(get_lba_status(&c, 1, 0, 1u << 20, 0,
                                   NVME_LBAS_ATYPE_TRACKED, out, 8), ==,
                    INVALID);

    /* The log page lists the same ranges (RNLB is 0's based). */
    memset(out, 0, sizeof(out));
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_LBA_STATUS, 0, out, 64), ==,
                    0);
    g_assert_cmpuint(le32_to_cpu(lh->lslplen), ==, 64);
    g_assert_cmpuint(le32_to_cpu(lh->nlslne), ==, 1);
    g_assert_cmpuint(le32_to_cpu(lh->estulb), ==, 10);
    gen = le16_to_cpu(lh->lsgc);
    g_assert_cmpuint(gen, !=, 0);
    g_assert_cmpuint(le32_to_cpu(el->neid), ==, 1);
    g_assert_cmpuint(le32_to_cpu(el->nlrd), ==, 2);
    g_assert_cmphex(el->ratype, ==, NVME_LBAS_ATYPE_TRACKED);
    g_assert_cmpuint(le64_to_cpu(lr[0].rslba), ==, 40);
    g_assert_cmpuint(le32_to_cpu(lr[0].rnlb), ==, 7);
    g_assert_cmpuint(le64_to_cpu(lr[1].rslba), ==, 100);
    g_assert_cmpuint(le32_to_cpu(lr[1].rnlb), ==, 1);

    /* A write changes the ranges and the generation count. */
    write_pattern(&c, 100, 2, 1);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_LBA_STATUS, 0, out, 48), ==,
                    0);
    g_assert_cmpuint(le32_to_cpu(lh->lslplen), ==, 48);
    g_assert_cmpuint(le32_to_cpu(el->nlrd), ==, 1);
    g_assert_cmpuint(le16_to_cpu(lh->lsgc), !=, gen);

    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 40, 8), ==, 0);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_LBA_STATUS, 0, out, 16), ==,
                    0);
    g_assert_cmpuint(le32_to_cpu(lh->lslplen), ==, 16);
    g_assert_cmpuint(le32_to_cpu(lh->nlslne), ==, 0);
}

static uint16_t set_err_rec(Ctx *c, uint32_t dw11)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(NVME_FEAT_ERROR_RECOVERY),
        .cdw11 = cpu_to_le32(dw11),
    };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

/*
 * DULBE: with Error Recovery bit 16 set, reads (Read, Compare, Verify) of
 * blocks the backend holds no data for (a hole of the sparse raw image)
 * fail with Deallocated or Unwritten Logical Block; written blocks read;
 * deallocating makes them fail again; without the bit they read as zeroes.
 */
static void test_dulbe(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    const uint16_t dulb = NVME_SC_DEALLOCATED_OR_UNWRITTEN | DNR;
    uint64_t slba = 64;
    uint32_t nlb = 16;
    NvmeCmd get = {
        .opcode = NVME_ADM_CMD_GET_FEATURES,
        .cdw10 = cpu_to_le32(NVME_FEAT_ERROR_RECOVERY),
    };
    NvmeCqe cqe;

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmphex(id->nsfeat & NVME_NSFEAT_DEALLOC_ERR, !=, 0);
    g_assert_cmphex(set_err_rec(&c, NVME_ERR_REC_DULBE), ==, 0);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &get, &cqe), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==, NVME_ERR_REC_DULBE);

    g_assert_cmphex(io(&c, NVME_CMD_READ, 64, 8), ==, dulb);
    /* Compare and Verify read the blocks too (NVM 3.2.3.2.1) */
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, 64, 8), ==, dulb);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 64, 8), ==, dulb);
    write_pattern(&c, 64, 8, 3);
    assert_pattern(&c, 64, 8, 3);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 64, 8), ==, 0);
    /* Written and unwritten blocks together */
    g_assert_cmphex(io(&c, NVME_CMD_READ, 64, 16), ==, dulb);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, 64, 16), ==, dulb);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 8192, 1), ==, dulb);
    g_assert_cmphex(dsm(&c, NVME_DSMGMT_AD, &slba, &nlb, 1), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 64, 8), ==, dulb);
    /* Write Zeroes writes the blocks; with DEAC it deallocates them */
    g_assert_cmphex(io(&c, NVME_CMD_WRITE_ZEROES, 64, 16), ==, 0);
    assert_zero(&c, 64, 16);
    /* All of it: a file system may zero out part of an extent instead */
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_ZEROES, 1, 64, 16,
                            NVME_WZ_DEAC, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, 64, 8), ==, dulb);
    /* Without DULBE: zeroes */
    g_assert_cmphex(set_err_rec(&c, 0), ==, 0);
    assert_zero(&c, 64, 16);
}

/* Namespace 2 on a qcow2 image (64 KiB clusters) */
static void *qcow2_setup(GString *cmd_line, void *arg)
{
    char *img = qnvme_tmp_image(0);

    mkqcow2(img, 16);
    g_string_append_printf(cmd_line,
                           " -drive id=q0,if=none,file=%s,format=qcow2"
                           " -device nvme-ns,drive=q0,bus=nvme0,nsid=2",
                           img);
    return arg;
}

/*
 * DULBE on qcow2: unallocated clusters, and clusters Dataset Management
 * turned into zero clusters, fail reads; NPDG/NPDA are the cluster size.
 */
static void test_dulbe_qcow2(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    const uint16_t dulb = NVME_SC_DEALLOCATED_OR_UNWRITTEN | DNR;
    uint64_t slba = 256;
    uint32_t nlb = 128;

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 2, 0, id), ==, 0);
    g_assert_cmphex(id->nsfeat & NVME_NSFEAT_OPTPERF, !=, 0);
    g_assert_cmpuint(le16_to_cpu(id->npdg), ==, 65536 / 512 - 1);
    g_assert_cmpuint(le16_to_cpu(id->npda), ==, 65536 / 512 - 1);
    g_assert_cmphex(set_err_rec(&c, NVME_ERR_REC_DULBE), ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 256, 8, 0, NULL), ==, dulb);
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE, 2, 256, 8, 0, NULL), ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 256, 8, 0, NULL), ==, 0);
    {
        NvmeDsmRange r = {
            .slba = cpu_to_le64(slba), .nlb = cpu_to_le32(nlb),
        };
        NvmeCmd cmd = {
            .opcode = NVME_CMD_DSM,
            .nsid = cpu_to_le32(2),
            .dptr.prp1 = cpu_to_le64(c.aux),
            .cdw11 = cpu_to_le32(NVME_DSMGMT_AD),
        };

        qtest_memwrite(c.qts, c.aux, &r, sizeof(r));
        g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==, 0);
    }
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 256, 8, 0, NULL), ==, dulb);
    /* Write Zeroes: written blocks; with DEAC, deallocated clusters */
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_ZEROES, 2, 256, 128, 0, NULL),
                    ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 256, 8, 0, NULL), ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 376, 8, 0, NULL), ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_WRITE_ZEROES, 2, 256, 128,
                            NVME_WZ_DEAC, NULL), ==, 0);
    g_assert_cmphex(io_full(&c, NVME_CMD_READ, 2, 256, 8, 0, NULL), ==, dulb);
    g_assert_cmphex(set_err_rec(&c, 0), ==, 0);
}

static void register_nvme_nvm_tests(void)
{
    QOSGraphTestOptions opts = { .before = qnvme_setup_one_namespace };
    QOSGraphTestOptions qcow2 = { .before = qcow2_setup };

    qos_add_test("nvm-identify", "nvme-nvm", test_identify, &opts);
    qos_add_test("nvm-write-zeroes", "nvme-nvm", test_write_zeroes, &opts);
    qos_add_test("nvm-write-uncor", "nvme-nvm", test_write_uncor, &opts);
    qos_add_test("nvm-compare", "nvme-nvm", test_compare, &opts);
    qos_add_test("nvm-verify", "nvme-nvm", test_verify, &opts);
    qos_add_test("nvm-dsm", "nvme-nvm", test_dsm, &opts);
    qos_add_test("nvm-copy", "nvme-nvm", test_copy, &opts);
    qos_add_test("nvm-lba-status", "nvme-nvm", test_lba_status, &opts);
    qos_add_test("nvm-dulbe", "nvme-nvm", test_dulbe, &opts);
    qos_add_test("nvm-dulbe-qcow2", "nvme-nvm", test_dulbe_qcow2, &qcow2);
}

libqos_init(register_nvme_nvm_tests);
