/*
 * qtests for metadata and end-to-end data protection: both guards against
 * bit-at-a-time reference CRCs (themselves checked against the catalogue
 * values), separate (MPTR) and extended metadata, PRACT insert and strip,
 * every PRCHK check and its status, the escape values, Write Zeroes,
 * Verify, Compare, Copy, and Format NVM choosing a format, MSET, PI and
 * PIL.
 *
 * Namespaces: 1: 512 + 8 bytes, type 1, 16-bit guard, metadata at MPTR;
 * 2: 512 + 16 bytes, type 1, 64-bit guard, extended LBAs; 3: 512 + 64
 * bytes, type 3, 16-bit guard, PI in the first bytes, at MPTR.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"

#define DNR             NVME_SC_DNR
#define GUARD_ERR       (NVME_SC_GUARD_CHECK_ERROR | DNR)
#define APP_ERR         (NVME_SC_APP_TAG_CHECK_ERROR | DNR)
#define REF_ERR         (NVME_SC_REF_TAG_CHECK_ERROR | DNR)
#define PRACT           (1u << 29)
#define CHK_GUARD       (1u << 28)
#define CHK_APP         (1u << 27)
#define CHK_REF         (1u << 26)
#define CHK_ALL         (CHK_GUARD | CHK_APP | CHK_REF)

typedef QNvmeCtx Ctx;     /* aux holds the metadata buffer (MPTR) */

/* Reference CRCs, one bit at a time, straight from the definitions */
static uint16_t ref_crc16(const uint8_t *p, size_t len)
{
    uint16_t crc = 0;

    while (len--) {
        crc ^= *p++ << 8;
        for (int b = 0; b < 8; b++) {
            crc = crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1;
        }
    }
    return crc;
}

static uint64_t ref_crc64(const uint8_t *p, size_t len)
{
    uint64_t crc = ~0ULL;

    while (len--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ULL : crc >> 1;
        }
    }
    return ~crc;
}

static void *pi_setup(GString *cmd_line, void *arg)
{
    for (int i = 1; i <= 3; i++) {
        g_string_append_printf(cmd_line,
            " -drive id=p%d,if=none,file=%s,format=raw", i,
            qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
    }
    g_string_append(cmd_line,
        " -device nvme-ns,drive=p1,bus=nvme0,nsid=1,ms=8,pi=1"
        " -device nvme-ns,drive=p2,bus=nvme0,nsid=2,ms=16,pi=1,pif=2,mset=1"
        " -device nvme-ns,drive=p3,bus=nvme0,nsid=3,ms=64,pi=3,pil=1");
    return arg;
}

/* An I/O command with PRINFO and the expected tags */
static uint16_t pio(Ctx *c, uint8_t opcode, uint32_t nsid, uint64_t slba,
                    uint32_t nlb, uint32_t prinfo, uint64_t eilbrt,
                    uint16_t elbat, uint16_t elbatm)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .mptr = cpu_to_le64(c->aux),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .dptr.prp2 = cpu_to_le64(c->buf + QNVME_PAGE_SIZE),
        .cdw3 = cpu_to_le32(eilbrt >> 32),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32((nlb - 1) | prinfo),
        .cdw14 = cpu_to_le32(eilbrt),
        .cdw15 = cpu_to_le32(elbat | (uint32_t)elbatm << 16),
    };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = seed ^ (i * 7) ^ (i >> 8);
    }
}

/* 16-bit guard PI tuple: guard, application tag, reference tag (BE) */
static void put_pi16(uint8_t *m, const uint8_t *block, uint16_t app,
                     uint32_t ref)
{
    stw_be_p(m, ref_crc16(block, 512));
    stw_be_p(m + 2, app);
    stl_be_p(m + 4, ref);
}

static void test_pi_crc(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    const uint8_t check[] = "123456789";
    uint8_t blocks[2048 + 4 * 528], meta[4 * 8];

    /* The references against the catalogue check values */
    g_assert_cmphex(ref_crc16(check, 9), ==, 0xd0db);
    g_assert_cmphex(ref_crc64(check, 9), ==, 0xae8b14860a799888ULL);

    /* 16-bit guard: PRACT generates it; read back raw (no PRACT) */
    fill(blocks, 2048, 0x31);
    qtest_memwrite(c.qts, c.buf, blocks, 2048);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 100, 4, PRACT, 100, 0x1234,
                        0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 100, 4, 0, 0, 0, 0), ==, 0);
    qtest_memread(c.qts, c.aux, meta, sizeof(meta));
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(lduw_be_p(meta + 8 * i), ==,
                        ref_crc16(blocks + 512 * i, 512));
        g_assert_cmphex(lduw_be_p(meta + 8 * i + 2), ==, 0x1234);
        g_assert_cmphex((uint32_t)ldl_be_p(meta + 8 * i + 4), ==, 100 + i);
    }

    /* 64-bit guard, extended LBAs: blocks of 512 + 16 bytes */
    fill(blocks, 2048, 0x77);
    qtest_memwrite(c.qts, c.buf, blocks, 2048);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 2, 7, 4, PRACT,
                        0x123400000007ULL, 0xbeef, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 2, 7, 4, 0, 0, 0, 0), ==, 0);
    qtest_memread(c.qts, c.buf, blocks + 2048, 4 * 528);
    for (int i = 0; i < 4; i++) {
        const uint8_t *b = blocks + 2048 + 528 * i;

        g_assert_cmpmem(b, 512, blocks + 512 * i, 512);
        g_assert_cmphex(ldq_be_p(b + 512), ==, ref_crc64(b, 512));
        g_assert_cmphex(lduw_be_p(b + 520), ==, 0xbeef);
        g_assert_cmphex(((uint64_t)lduw_be_p(b + 522) << 32) |
                        (uint32_t)ldl_be_p(b + 524), ==,
                        0x123400000007ULL + i);
    }
    /* Read with every check and PRACT: the PI is stripped */
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 2, 7, 4, PRACT | CHK_ALL,
                        0x123400000007ULL, 0xbeef, 0xffff), ==, 0);
    qtest_memread(c.qts, c.buf, blocks + 2048, 2048);
    g_assert_cmpmem(blocks + 2048, 2048, blocks, 2048);
}

static void test_pi_checks(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t blocks[1024], meta[16], back[16];

    /* The host's own PI, checked on the way in */
    fill(blocks, sizeof(blocks), 0x5a);
    put_pi16(meta, blocks, 0x0a0a, 200);
    put_pi16(meta + 8, blocks + 512, 0x0a0a, 201);
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_ALL, 200, 0x0a0a,
                        0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_REF, 300, 0, 0),
                    ==, REF_ERR);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_APP, 200, 0x0b0a,
                        0xffff), ==, APP_ERR);
    /* The mask: only the bits it selects are compared */
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_APP, 200, 0x0b0a,
                        0x00ff), ==, 0);
    meta[0] ^= 1;
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_GUARD, 200, 0, 0),
                    ==, GUARD_ERR);
    /* Unchecked, a bad guard is stored; reads then find it */
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, 0, 0, 0, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 200, 2, CHK_GUARD, 200, 0, 0),
                    ==, GUARD_ERR);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 200, 2, CHK_REF | CHK_APP,
                        200, 0x0a0a, 0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 200, 2, CHK_REF, 201, 0, 0), ==,
                    REF_ERR);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 200, 2, CHK_GUARD, 200, 0, 0),
                    ==, GUARD_ERR);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 201, 1, CHK_ALL, 201, 0x0a0a,
                        0xffff), ==, 0);
    /* Read without PRACT returns the stored metadata as is */
    qtest_memset(c.qts, c.aux, 0, sizeof(back));
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 200, 2, 0, 0, 0, 0), ==, 0);
    qtest_memread(c.qts, c.aux, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), meta, sizeof(meta));

    /* Escape: application tag FFFFh disables checking of type 1 */
    stw_be_p(meta + 2, 0xffff);
    stw_be_p(meta + 10, 0xffff);
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_ALL, 999, 1, 0xff),
                    ==, 0);
    /* Blocks never written carry all-ones PI: no check fails */
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 5000, 8, CHK_ALL, 5000, 7,
                        0xffff), ==, 0);

    /* Compare: data and metadata */
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    put_pi16(meta, blocks, 0x0a0a, 200);
    put_pi16(meta + 8, blocks + 512, 0x0a0a, 201);
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 200, 2, CHK_ALL, 200, 0x0a0a,
                        0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_COMPARE, 1, 200, 2, CHK_ALL, 200,
                        0x0a0a, 0xffff), ==, 0);
    blocks[700] ^= 0x80;
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    g_assert_cmphex(pio(&c, NVME_CMD_COMPARE, 1, 200, 2, 0, 0, 0, 0), ==,
                    NVME_SC_COMPARE_FAILURE | DNR);

    /* Write Zeroes with PRACT: zero blocks with valid PI */
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE_ZEROES, 1, 300, 16, PRACT, 300,
                        0x5555, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 300, 16, CHK_ALL, 300,
                        0x5555, 0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 300, 1, PRACT | CHK_ALL, 300,
                        0x5555, 0xffff), ==, 0);
    qtest_memread(c.qts, c.buf, blocks, 512);
    g_assert_cmpuint(blocks[0] | blocks[511], ==, 0);
}

/* Type 3, PI in the first 8 of 64 metadata bytes: PRACT keeps the rest */
static void test_pi_type3_first(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t block[512], meta[64], back[64];

    fill(block, sizeof(block), 0x13);
    memset(meta, 0x6c, sizeof(meta));
    qtest_memwrite(c.qts, c.buf, block, sizeof(block));
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 3, 40, 1, PRACT, 0xabcdef01, 9,
                        0), ==, 0);
    qtest_memset(c.qts, c.aux, 0, sizeof(back));
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 3, 40, 1, CHK_ALL, 0x11111111, 9,
                        0xffff), ==, 0);     /* type 3: no reference check */
    qtest_memread(c.qts, c.aux, back, sizeof(back));
    g_assert_cmphex(lduw_be_p(back), ==, ref_crc16(block, 512));
    g_assert_cmphex(lduw_be_p(back + 2), ==, 9);
    g_assert_cmphex((uint32_t)ldl_be_p(back + 4), ==, 0xabcdef01);
    g_assert_cmpmem(back + 8, 56, meta + 8, 56);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 3, 40, 1, CHK_APP, 0, 8, 0xffff),
                    ==, APP_ERR);
}

static void test_pi_format(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree NvmeIdNsNvm *nvm = g_new0(NvmeIdNsNvm, 1);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
    NvmeCmd fmt = {
        .opcode = NVME_ADM_CMD_FORMAT_NVM,
        .nsid = cpu_to_le32(1),
    };
    int lbaf_4k8 = -1;

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CTRL, 0, 0, ctrl), ==, 0);
    g_assert_cmphex(le32_to_cpu(ctrl->ctratt) & NVME_CTRATT_ELBAS, !=, 0);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 2, 0, id), ==, 0);
    g_assert_cmphex(id->flbas & 0x10, ==, 0x10);            /* MSET */
    g_assert_cmphex(id->mc, ==, 0x3);
    g_assert_cmphex(id->dpc, ==, 0x1f);
    g_assert_cmphex(id->dps, ==, 1);
    g_assert_cmpuint(le16_to_cpu(id->lbaf[id->flbas & 0xf].ms), ==, 16);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS, 2, NVME_CSI_NVM,
                                   nvm), ==, 0);
    g_assert_cmphex(le32_to_cpu(nvm->elbaf[id->flbas & 0xf]) >> 7, ==, 2);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 3, 0, id), ==, 0);
    g_assert_cmphex(id->dps, ==, 3 | 8);                    /* PIL */

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    for (int i = 0; i <= id->nlbaf; i++) {
        if (id->lbaf[i].ds == 12 && le16_to_cpu(id->lbaf[i].ms) == 8) {
            lbaf_4k8 = i;
        }
    }
    g_assert_cmpint(lbaf_4k8, >, 1);
    /* PI needs metadata; PI types stop at 3 */
    fmt.cdw10 = cpu_to_le32(1 | 1 << 5);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &fmt, NULL), ==,
                    NVME_SC_INVALID_FORMAT | DNR);
    fmt.cdw10 = cpu_to_le32(lbaf_4k8 | 4 << 5);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &fmt, NULL), ==,
                    NVME_SC_INVALID_FIELD | DNR);
    /* 4 KiB + 8, type 2, extended, PI first */
    fmt.cdw10 = cpu_to_le32(lbaf_4k8 | 1 << 4 | 2 << 5 | 1 << 8);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &fmt, NULL), ==, 0);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(id->flbas & 0xf, ==, lbaf_4k8);
    g_assert_cmphex(id->flbas & 0x10, ==, 0x10);
    g_assert_cmphex(id->dps, ==, 2 | 8);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==,
                     QNVME_TEST_IMAGE_SIZE / (4096 + 8));
    /* Formatted: every block escapes, and PRACT writes work */
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 0, 1, CHK_ALL, 0, 0, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 3, 1, PRACT, 77, 1, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 3, 1, PRACT | CHK_ALL, 77, 1,
                        0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 3, 1, CHK_REF, 78, 1, 0), ==,
                    REF_ERR);
    /* Back to no metadata */
    fmt.cdw10 = cpu_to_le32(0);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &fmt, NULL), ==, 0);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmphex(id->dps, ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, QNVME_TEST_NLBAS);
}

/*
 * Metadata pointers with SGL data: MPTR as a contiguous buffer (PSDT 01b)
 * or pointing at one SGL Data Block descriptor (PSDT 10b).
 */
static void test_pi_sgl_mptr(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t blocks[1024], meta[16], back[16];
    NvmeSglDescriptor md = {
        .addr = cpu_to_le64(c.aux + 1024), .len = cpu_to_le32(16),
    };
    NvmeCmd cmd = {
        .opcode = NVME_CMD_WRITE,
        .flags = NVME_PSDT_SGL_MPTR_CONTIG << 6,
        .nsid = cpu_to_le32(1),
        .mptr = cpu_to_le64(c.aux),
        .cdw10 = cpu_to_le32(600),
        .cdw12 = cpu_to_le32(1 | CHK_ALL),
        .cdw14 = cpu_to_le32(600),
    };

    cmd.dptr.sgl.addr = cpu_to_le64(c.buf);
    cmd.dptr.sgl.len = cpu_to_le32(sizeof(blocks));
    fill(blocks, sizeof(blocks), 0x66);
    put_pi16(meta, blocks, 0, 600);
    put_pi16(meta + 8, blocks + 512, 0, 601);
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==, 0);
    /* Read it back through an MPTR SGL descriptor */
    qtest_memwrite(c.qts, c.aux + 2048, &md, sizeof(md));
    cmd.opcode = NVME_CMD_READ;
    cmd.flags = NVME_PSDT_SGL_MPTR_SGL << 6;
    cmd.mptr = cpu_to_le64(c.aux + 2048);
    g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==, 0);
    qtest_memread(c.qts, c.aux + 1024, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), meta, sizeof(meta));
    /* A Data Block too short for the metadata */
    md.len = cpu_to_le32(8);
    qtest_memwrite(c.qts, c.aux + 2048, &md, sizeof(md));
    g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==,
                    NVME_SC_METADATA_SGL_LENGTH_INVALID | DNR);
    /* A descriptor that is not a Data Block */
    md.len = cpu_to_le32(16);
    md.type = NVME_SGL_DESCR_TYPE_SEGMENT << 4;
    qtest_memwrite(c.qts, c.aux + 2048, &md, sizeof(md));
    g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==,
                    NVME_SC_SGL_TYPE_INVALID | DNR);
}

/* Dataset Management Deallocate of one range on namespace nsid */
static uint16_t pi_dsm(Ctx *c, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
    NvmeDsmRange r = {
        .slba = cpu_to_le64(slba), .nlb = cpu_to_le32(nlb),
    };
    NvmeCmd cmd = {
        .opcode = NVME_CMD_DSM,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf + QNVME_PAGE_SIZE),
        .cdw11 = cpu_to_le32(NVME_DSMGMT_AD),
    };

    qtest_memwrite(c->qts, c->buf + QNVME_PAGE_SIZE, &r, sizeof(r));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

/*
 * Deallocated blocks (DLFEAT: zeroes) and Write Zeroes without PRACT: the
 * PI reads as all ones (escaping every check), other metadata as zeroes.
 */
static void test_pi_deallocate(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t blocks[4096], meta[64], ones[64], zero[4096];

    memset(ones, 0xff, sizeof(ones));
    memset(zero, 0, sizeof(zero));
    fill(blocks, sizeof(blocks), 0x29);
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 16, 8, PRACT, 16, 0x1111, 0),
                    ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 16, 8, CHK_ALL, 17, 0x2222,
                        0xffff), ==, APP_ERR);
    g_assert_cmphex(pi_dsm(&c, 1, 16, 8), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 16, 8, CHK_ALL, 17, 0x2222,
                        0xffff), ==, 0);
    qtest_memread(c.qts, c.buf, blocks, sizeof(blocks));
    g_assert_cmpmem(blocks, sizeof(blocks), zero, sizeof(zero));
    qtest_memread(c.qts, c.aux, meta, 64);
    g_assert_cmpmem(meta, 64, ones, 64);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 16, 8, CHK_ALL, 0, 0, 0xffff),
                    ==, 0);

    /* Type 3, 64 bytes with PI first: PI ones, the other 56 bytes zero */
    memset(meta, 0x6c, sizeof(meta));
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 3, 50, 1, PRACT, 5, 9, 0), ==, 0);
    g_assert_cmphex(pi_dsm(&c, 3, 48, 8), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 3, 50, 1, CHK_ALL, 5, 9, 0xffff),
                    ==, 0);
    qtest_memread(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmpmem(meta, 8, ones, 8);
    g_assert_cmpmem(meta + 8, 56, zero, 56);
    memset(meta, 0x6c, sizeof(meta));
    qtest_memwrite(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 3, 60, 1, PRACT, 5, 9, 0), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE_ZEROES, 3, 60, 1, 0, 0, 0, 0), ==,
                    0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 3, 60, 1, CHK_ALL, 5, 9, 0xffff),
                    ==, 0);
    qtest_memread(c.qts, c.aux, meta, sizeof(meta));
    g_assert_cmpmem(meta, 8, ones, 8);
    g_assert_cmpmem(meta + 8, 56, zero, 56);
}

/*
 * Metadata that happens to be all zeroes (type 1 PI of a zero block at LBA
 * 0 with application tag 0) survives a new start of the namespace on the
 * same backend: nothing is initialized from what the backend holds.
 */
static void test_pi_restart(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    char *img = qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE);
    uint8_t meta[16], zero[8] = {}, ones[8];

    memset(ones, 0xff, sizeof(ones));
    qtest_qmp_assert_success(c.qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'rs', 'file': {'driver': 'file', "
                             "'filename': %s}}}", img);
    for (int boot = 0; boot < 2; boot++) {
        qtest_qmp_device_add(c.qts, "nvme-ns", "rs4",
                             "{'drive': 'rs', 'bus': 'nvme0', 'nsid': 4,"
                             " 'ms': 8, 'pi': 1}");
        if (!boot) {
            qtest_memset(c.qts, c.buf, 0, 512);
            g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 4, 0, 1, PRACT, 0, 0, 0),
                            ==, 0);
        }
        qtest_memset(c.qts, c.aux, 0xa5, sizeof(meta));
        g_assert_cmphex(pio(&c, NVME_CMD_READ, 4, 0, 2, 0, 0, 0, 0), ==, 0);
        qtest_memread(c.qts, c.aux, meta, sizeof(meta));
        g_assert_cmpmem(meta, 8, zero, 8);
        g_assert_cmpmem(meta + 8, 8, ones, 8);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, 4, 0, 2, CHK_ALL, 0, 0,
                            0xffff), ==, 0);
        qtest_qmp_device_del(c.qts, "rs4");
    }
}

/* Copy: PRINFOR checks each source range, PRINFOW writes new PI */
static uint16_t pi_copy(Ctx *c, uint64_t sdlba, const uint64_t *slba,
                        const uint32_t *eilbrt, int nr, uint32_t prinfor,
                        uint32_t prinfow, uint32_t ilbrt)
{
    NvmeCopySourceRange r[2] = {};
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COPY,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw10 = cpu_to_le32(sdlba),
        .cdw12 = cpu_to_le32((nr - 1) | prinfor << 12 | prinfow),
        .cdw14 = cpu_to_le32(ilbrt),
        .cdw15 = cpu_to_le32(0x4444),
    };

    for (int i = 0; i < nr; i++) {
        r[i].slba = cpu_to_le64(slba[i]);
        r[i].nlb = cpu_to_le16(3);
        r[i].eilbrt = cpu_to_le32(eilbrt[i]);
        r[i].elbat = cpu_to_le16(0x3333);
        r[i].elbatm = cpu_to_le16(0xffff);
    }
    qtest_memwrite(c->qts, c->aux, r, sizeof(r));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static void test_pi_copy(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t blocks[4096], back[4096];
    const uint64_t src[2] = { 1000, 2000 };
    const uint32_t good[2] = { 1000, 2000 }, bad[2] = { 1000, 2001 };

    fill(blocks, sizeof(blocks), 0x42);
    for (int i = 0; i < 2; i++) {
        qtest_memwrite(c.qts, c.buf, blocks + 2048 * i, 2048);
        g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, src[i], 4, PRACT, src[i],
                            0x3333, 0), ==, 0);
    }
    /* PRINFOR: bits 2:0 of the nibble are the checks, bit 3 PRACT */
    g_assert_cmphex(pi_copy(&c, 3000, src, bad, 2, 0x7, PRACT, 3000), ==,
                    REF_ERR);
    g_assert_cmphex(pi_copy(&c, 3000, src, good, 2, 0x7, PRACT, 3000), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 3000, 8, CHK_ALL, 3000,
                        0x4444, 0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 3000, 8, PRACT, 0, 0, 0), ==,
                    0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), blocks, sizeof(blocks));
    /* Without PRACTW the source PI travels: its reference tags now fail */
    g_assert_cmphex(pi_copy(&c, 4000, src, good, 2, 0x7, CHK_REF, 4000), ==,
                    REF_ERR);

    /* Ranges of 1, 3 and 4 blocks fill the 8 destination blocks exactly */
    {
        const uint64_t slba[3] = { 1000, 1001, 2000 };
        const uint16_t nlb[3] = { 1, 3, 4 };
        NvmeCopySourceRange r[3] = {};
        NvmeCmd cmd = {
            .opcode = NVME_CMD_COPY,
            .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(c.aux),
            .cdw10 = cpu_to_le32(5000),
            .cdw12 = cpu_to_le32(2 | PRACT),
            .cdw14 = cpu_to_le32(5000),
        };

        for (int i = 0; i < 3; i++) {
            r[i].slba = cpu_to_le64(slba[i]);
            r[i].nlb = cpu_to_le16(nlb[i] - 1);
        }
        qtest_memwrite(c.qts, c.aux, r, sizeof(r));
        g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 5000, 8, PRACT | CHK_ALL,
                            5000, 0, 0), ==, 0);
        qtest_memread(c.qts, c.buf, back, sizeof(back));
        g_assert_cmpmem(back, sizeof(back), blocks, sizeof(blocks));
    }
}

/* Copy with Source Range Entries format fmt (0h or 1h) of one range */
static uint16_t pi_copy_fmt(Ctx *c, uint32_t nsid, uint8_t fmt,
                            uint64_t sdlba, uint64_t slba, uint64_t eilbrt,
                            uint32_t prinfor, uint32_t prinfow,
                            uint64_t ilbrt)
{
    NvmeCopySourceRange f0 = {
        .slba = cpu_to_le64(slba), .nlb = cpu_to_le16(3),
        .eilbrt = cpu_to_le32(eilbrt),
    };
    NvmeCopySourceRangeF1 f1 = {
        .slba = cpu_to_le64(slba), .nlb = cpu_to_le16(3),
    };
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COPY,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw3 = cpu_to_le32(ilbrt >> 32),
        .cdw10 = cpu_to_le32(sdlba),
        .cdw12 = cpu_to_le32(fmt << 8 | prinfor << 12 | prinfow),
        .cdw14 = cpu_to_le32(ilbrt),
    };

    /* ELBT: 80 bits, big-endian; no storage tag, so the low 48 bits */
    stq_be_p(f1.elbt + 2, eilbrt);
    if (fmt) {
        qtest_memwrite(c->qts, c->aux, &f1, sizeof(f1));
    } else {
        qtest_memwrite(c->qts, c->aux, &f0, sizeof(f0));
    }
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

/*
 * Copy descriptor format 1h on the 64b Guard namespace (2): its 48-bit
 * expected reference tags, checked per range; each format only where the
 * protection information format fits it.
 */
static void test_pi_copy_format1(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    const uint64_t tag = 0x00a5000003e8ULL;   /* beyond 32 bits */
    uint8_t blocks[2048], back[2048];

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->ocfs), ==,
                    NVME_OCFS_FORMAT_0 | NVME_OCFS_FORMAT_1);
    fill(blocks, sizeof(blocks), 0x77);
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 2, 1000, 4, PRACT, tag, 0, 0),
                    ==, 0);
    g_assert_cmphex(pi_copy_fmt(&c, 2, 1, 3000, 1000, tag + 1, 0x7, PRACT,
                                0x00a500000bb8ULL), ==, REF_ERR);
    g_assert_cmphex(pi_copy_fmt(&c, 2, 1, 3000, 1000, tag, 0x7, PRACT,
                                0x00a500000bb8ULL), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 2, 3000, 4, PRACT | CHK_ALL,
                        0x00a500000bb8ULL, 0, 0), ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), blocks, sizeof(blocks));
    /* 0h cannot carry those tags; 1h does not fit 16b Guard (ns 1) */
    g_assert_cmphex(pi_copy_fmt(&c, 2, 0, 3000, 1000, tag, 0x7, PRACT, 0),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(pi_copy_fmt(&c, 1, 1, 3000, 1000, 1000, 0, PRACT, 0),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);
}

/*
 * The checks every read shares hold with metadata too: DULBE on Read,
 * Compare and Verify of blocks never written, Write Uncorrectable marks
 * until a write replaces them.
 */
static void test_pi_dulbe_uncor(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    const uint16_t dulb = NVME_SC_DEALLOCATED_OR_UNWRITTEN | NVME_SC_DNR;
    const uint16_t uncor = NVME_SC_UNRECOVERED_READ_ERROR | NVME_SC_DNR;
    NvmeCmd dulbe = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .cdw10 = cpu_to_le32(NVME_FEAT_ERROR_RECOVERY),
        .cdw11 = cpu_to_le32(NVME_ERR_REC_DULBE),
    };
    uint8_t blocks[4096];

    fill(blocks, sizeof(blocks), 0x51);
    qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
    g_assert_cmphex(qnvme_cmd(c.n, 0, &dulbe, NULL), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 100, 4, 0, 0, 0, 0), ==, dulb);
    g_assert_cmphex(pio(&c, NVME_CMD_COMPARE, 1, 100, 4, 0, 0, 0, 0), ==,
                    dulb);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 100, 4, 0, 0, 0, 0), ==, dulb);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 100, 4, PRACT, 100, 0, 0), ==,
                    0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 100, 4, CHK_ALL, 100, 0,
                        0xffff), ==, 0);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 100, 4, CHK_ALL, 100, 0,
                        0xffff), ==, 0);

    g_assert_cmphex(pio(&c, NVME_CMD_WRITE_UNCOR, 1, 101, 1, 0, 0, 0, 0), ==,
                    0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 100, 4, 0, 0, 0, 0), ==, uncor);
    g_assert_cmphex(pio(&c, NVME_CMD_VERIFY, 1, 101, 1, 0, 0, 0, 0), ==,
                    uncor);
    g_assert_cmphex(pio(&c, NVME_CMD_COMPARE, 1, 101, 1, 0, 0, 0, 0), ==,
                    uncor);
    g_assert_cmphex(pio(&c, NVME_CMD_WRITE, 1, 101, 1, PRACT, 101, 0, 0), ==,
                    0);
    g_assert_cmphex(pio(&c, NVME_CMD_READ, 1, 100, 4, CHK_ALL, 100, 0,
                        0xffff), ==, 0);
}

/* The usual three, and 4: 512 bytes without metadata, for comparison */
static void *pi_plain_setup(GString *cmd_line, void *arg)
{
    pi_setup(cmd_line, arg);
    g_string_append_printf(cmd_line,
        " -drive id=p4,if=none,file=%s,format=raw"
        " -device nvme-ns,drive=p4,bus=nvme0,nsid=4",
        qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
    return arg;
}

/* Copy of nr ranges (slba[i], nlb[i] blocks) to sdlba, PRACT on writes */
static uint16_t copy_ranges(Ctx *c, uint32_t nsid, uint64_t sdlba,
                            const uint64_t *slba, const uint16_t *nlb, int nr)
{
    NvmeCopySourceRange r[4] = {};
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COPY,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw10 = cpu_to_le32(sdlba),
        .cdw12 = cpu_to_le32((nr - 1) | (nsid == 4 ? 0 : PRACT)),
        .cdw14 = cpu_to_le32(sdlba),
    };

    g_assert_cmpint(nr, <=, ARRAY_SIZE(r));
    for (int i = 0; i < nr; i++) {
        r[i].slba = cpu_to_le64(slba[i]);
        r[i].nlb = cpu_to_le16(nlb[i] - 1);
    }
    qtest_memwrite(c->qts, c->aux, r, sizeof(r));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

/*
 * Copy honours Write Uncorrectable marks the same way with metadata (1)
 * and without (4): a marked source block fails the Copy with Unrecovered
 * Read Error, and the destination blocks written lose their marks (and
 * only those).
 */
static void test_pi_copy_uncor(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    const uint16_t uncor = NVME_SC_UNRECOVERED_READ_ERROR | NVME_SC_DNR;
    const uint64_t bad[2] = { 1000, 1002 }, good[2] = { 1000, 1004 };
    const uint16_t two[2] = { 2, 2 }, one[1] = { 1 };
    uint8_t blocks[4096], back[2048];
    static const uint32_t nsids[] = { 1, 4 };

    fill(blocks, sizeof(blocks), 0x3c);
    for (int i = 0; i < ARRAY_SIZE(nsids); i++) {
        uint32_t nsid = nsids[i];
        uint32_t prinfo = nsid == 4 ? 0 : PRACT;

        qtest_memwrite(c.qts, c.buf, blocks, sizeof(blocks));
        g_assert_cmphex(pio(&c, NVME_CMD_WRITE, nsid, 1000, 8, prinfo, 1000,
                            0, 0), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_WRITE_UNCOR, nsid, 1002, 1, 0, 0, 0,
                            0), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_WRITE_UNCOR, nsid, 3001, 1, 0, 0, 0,
                            0), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_WRITE_UNCOR, nsid, 3010, 2, 0, 0, 0,
                            0), ==, 0);

        /* Source block 1002 marked */
        g_assert_cmphex(copy_ranges(&c, nsid, 3000, bad, two, 2), ==, uncor);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, nsid, 1002, 1, prinfo, 0, 0,
                            0), ==, uncor);

        /* Blocks 1000, 1001, 1004, 1005 to 3000..3003: 3001 clears */
        g_assert_cmphex(copy_ranges(&c, nsid, 3000, good, two, 2), ==, 0);
        qtest_memset(c.qts, c.buf, 0, sizeof(back));
        g_assert_cmphex(pio(&c, NVME_CMD_READ, nsid, 3000, 4, prinfo, 0, 0,
                            0), ==, 0);
        qtest_memread(c.qts, c.buf, back, sizeof(back));
        g_assert_cmpmem(back, 1024, blocks, 1024);
        g_assert_cmpmem(back + 1024, 1024, blocks + 2048, 1024);

        /* One block onto a two-block mark: the other block stays marked */
        g_assert_cmphex(copy_ranges(&c, nsid, 3010, good, one, 1), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, nsid, 3010, 1, prinfo, 0, 0,
                            0), ==, 0);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, nsid, 3011, 1, prinfo, 0, 0,
                            0), ==, uncor);
        g_assert_cmphex(pio(&c, NVME_CMD_READ, nsid, 3010, 2, prinfo, 0, 0,
                            0), ==, uncor);
    }
}

static void register_nvme_pi_tests(void)
{
    QOSGraphTestOptions opts = { .before = pi_setup };

    qos_add_test("pi-crc", "nvme-pi", test_pi_crc, &opts);
    qos_add_test("pi-checks", "nvme-pi", test_pi_checks, &opts);
    qos_add_test("pi-type3-first", "nvme-pi", test_pi_type3_first, &opts);
    qos_add_test("pi-format", "nvme-pi", test_pi_format, &opts);
    qos_add_test("pi-copy", "nvme-pi", test_pi_copy, &opts);
    qos_add_test("pi-sgl-mptr", "nvme-pi", test_pi_sgl_mptr, &opts);
    qos_add_test("pi-deallocate", "nvme-pi", test_pi_deallocate, &opts);
    qos_add_test("pi-restart", "nvme-pi", test_pi_restart, &opts);
    qos_add_test("pi-dulbe-uncor", "nvme-pi", test_pi_dulbe_uncor, &opts);
    qos_add_test("pi-copy-format1", "nvme-pi", test_pi_copy_format1, &opts);
    qos_add_test("pi-copy-uncor", "nvme-pi", test_pi_copy_uncor,
                 &(QOSGraphTestOptions) { .before = pi_plain_setup });
}

libqos_init(register_nvme_pi_tests);
