/*
 * qtests for the NVMe controller: data pointers (PRP and SGL).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"

#define PAGE        QNVME_PAGE_SIZE
#define DNR         NVME_SC_DNR
#define SGL_DATA    (NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4)
#define SGL_BUCKET  (NVME_SGL_DESCR_TYPE_BIT_BUCKET << 4)
#define SGL_SEG     (NVME_SGL_DESCR_TYPE_SEGMENT << 4)
#define SGL_LAST    (NVME_SGL_DESCR_TYPE_LAST_SEGMENT << 4)

typedef struct DmaTest {
    QNvme *n;
    QTestState *qts;
    uint8_t *pattern;       /* 8 pages of known data */
} DmaTest;

static NvmeSglDescriptor sgl(uint8_t type, uint64_t addr, uint32_t len)
{
    return (NvmeSglDescriptor) {
        .addr = cpu_to_le64(addr), .len = cpu_to_le32(len), .type = type,
    };
}

static void dma_test_init(DmaTest *t, void *obj)
{
    t->n = obj;
    t->qts = t->n->dev.bus->qts;
    g_assert_true(qnvme_enable(t->n, 32, 0x6));
    qnvme_create_io_queue_pair(t->n, 1, 16);
    t->pattern = g_malloc(8 * PAGE);
    for (int i = 0; i < 8 * PAGE; i++) {
        t->pattern[i] = (i * 13) ^ (i >> 9);
    }
}

/* I/O with an SGL: first is the descriptor in the command. */
static uint16_t io_sgl(DmaTest *t, uint8_t opcode, uint64_t slba,
                       uint32_t nlb, NvmeSglDescriptor first)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .flags = NVME_PSDT_SGL_MPTR_CONTIG << 6,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(nlb - 1),
    };

    cmd.dptr.sgl = first;
    return qnvme_cmd(t->n, 1, &cmd, NULL);
}

/* Writes the pattern's first len bytes at LBA slba through PRPs. */
static void write_pattern(DmaTest *t, uint64_t slba, size_t len)
{
    uint64_t buf = qnvme_alloc(t->n, len);
    uint64_t list = qnvme_alloc(t->n, PAGE);
    uint64_t entries[8];

    g_assert_cmpuint(len, <=, 8 * PAGE);
    for (int i = 1; i < len / PAGE; i++) {
        entries[i - 1] = cpu_to_le64(buf + i * PAGE);
    }
    qtest_memwrite(t->qts, list, entries, sizeof(entries));
    qtest_memwrite(t->qts, buf, t->pattern, len);
    g_assert_cmphex(qnvme_rw(t->n, 1, NVME_CMD_WRITE, 1, slba, len / 512, buf,
                             len > 2 * PAGE ? list : buf + PAGE), ==, 0);
}

static void read_back(DmaTest *t, uint64_t slba, size_t len, uint8_t *out)
{
    uint64_t buf = qnvme_alloc(t->n, 2 * PAGE);

    g_assert_cmpuint(len, <=, 2 * PAGE);
    g_assert_cmphex(qnvme_rw(t->n, 1, NVME_CMD_READ, 1, slba, len / 512, buf,
                             buf + PAGE), ==, 0);
    qtest_memread(t->qts, buf, out, len);
}

static void test_sgl_data_block(void *obj, void *data, QGuestAllocator *a)
{
    DmaTest t;
    uint64_t buf;
    uint8_t back[2 * PAGE];

    dma_test_init(&t, obj);
    buf = qnvme_alloc(t.n, 2 * PAGE);
    /* One data block, not page aligned, in the command itself. */
    qtest_memwrite(t.qts, buf + 100, t.pattern, 2048);
    g_assert_cmphex(io_sgl(&t, NVME_CMD_WRITE, 10, 4,
                           sgl(SGL_DATA, buf + 100, 2048)), ==, 0);
    read_back(&t, 10, 2048, back);
    g_assert_cmpmem(back, 2048, t.pattern, 2048);

    /* Read with an SGL into odd offsets. */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 10, 4,
                           sgl(SGL_DATA, buf + 7, 2048)), ==, 0);
    qtest_memread(t.qts, buf + 7, back, 2048);
    g_assert_cmpmem(back, 2048, t.pattern, 2048);

    /* A longer data block than the transfer is allowed (SGLS bit 18). */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 10, 1,
                           sgl(SGL_DATA, buf, PAGE)), ==, 0);
    g_free(t.pattern);
}

static void test_sgl_segments(void *obj, void *data, QGuestAllocator *a)
{
    DmaTest t;
    uint64_t buf, seg1, seg2;
    NvmeSglDescriptor list1[3], list2[2];
    uint8_t back[2 * PAGE];

    dma_test_init(&t, obj);
    buf = qnvme_alloc(t.n, 4 * PAGE);
    seg1 = qnvme_alloc(t.n, PAGE);
    seg2 = qnvme_alloc(t.n, PAGE);

    /* Segment (2 data blocks + chain) -> Last Segment (2 data blocks). */
    qtest_memwrite(t.qts, buf + 3, t.pattern, 1000);
    qtest_memwrite(t.qts, buf + PAGE, t.pattern + 1000, 1048);
    qtest_memwrite(t.qts, buf + 2 * PAGE + 12, t.pattern + 2048, 2000);
    qtest_memwrite(t.qts, buf + 3 * PAGE, t.pattern + 4048, 48);
    list1[0] = sgl(SGL_DATA, buf + 3, 1000);
    list1[1] = sgl(SGL_DATA, buf + PAGE, 1048);
    list1[2] = sgl(SGL_LAST, seg2, sizeof(list2));
    list2[0] = sgl(SGL_DATA, buf + 2 * PAGE + 12, 2000);
    list2[1] = sgl(SGL_DATA, buf + 3 * PAGE, 48);
    qtest_memwrite(t.qts, seg1, list1, sizeof(list1));
    qtest_memwrite(t.qts, seg2, list2, sizeof(list2));
    g_assert_cmphex(io_sgl(&t, NVME_CMD_WRITE, 20, 8,
                           sgl(SGL_SEG, seg1, sizeof(list1))), ==, 0);
    read_back(&t, 20, PAGE, back);
    g_assert_cmpmem(back, PAGE, t.pattern, PAGE);

    /* The same list read back into a clean buffer. */
    qtest_memset(t.qts, buf, 0, 4 * PAGE);
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 20, 8,
                           sgl(SGL_SEG, seg1, sizeof(list1))), ==, 0);
    qtest_memread(t.qts, buf + 2 * PAGE + 12, back, 2000);
    g_assert_cmpmem(back, 2000, t.pattern + 2048, 2000);
    g_free(t.pattern);
}

static void test_sgl_bit_bucket(void *obj, void *data, QGuestAllocator *a)
{
    DmaTest t;
    uint64_t buf, seg;
    NvmeSglDescriptor list[3];
    uint8_t back[PAGE];

    dma_test_init(&t, obj);
    buf = qnvme_alloc(t.n, 2 * PAGE);
    seg = qnvme_alloc(t.n, PAGE);
    write_pattern(&t, 40, 2 * PAGE);

    /* Keep 1 KiB, drop 2 KiB, keep 1 KiB. */
    list[0] = sgl(SGL_DATA, buf, 1024);
    list[1] = sgl(SGL_BUCKET, 0, 2048);
    list[2] = sgl(SGL_DATA, buf + PAGE, 1024);
    qtest_memwrite(t.qts, seg, list, sizeof(list));
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 40, 8,
                           sgl(SGL_LAST, seg, sizeof(list))), ==, 0);
    qtest_memread(t.qts, buf, back, 1024);
    g_assert_cmpmem(back, 1024, t.pattern, 1024);
    qtest_memread(t.qts, buf + PAGE, back, 1024);
    g_assert_cmpmem(back, 1024, t.pattern + 3072, 1024);

    /* Bit buckets cannot source data for a write. */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_WRITE, 40, 8,
                           sgl(SGL_LAST, seg, sizeof(list))), ==,
                    NVME_SC_SGL_TYPE_INVALID | DNR);
    /* Admin data to the host may use a bit bucket too. */
    {
        NvmeCmd cmd = {
            .opcode = NVME_ADM_CMD_IDENTIFY,
            .flags = NVME_PSDT_SGL_MPTR_CONTIG << 6,
            .cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL),
        };
        uint8_t sn[4];

        list[0] = sgl(SGL_BUCKET, 0, 4);
        list[1] = sgl(SGL_DATA, buf, 4);
        list[2] = sgl(SGL_BUCKET, 0, 4088);
        qtest_memwrite(t.qts, seg, list, sizeof(list));
        cmd.dptr.sgl = sgl(SGL_LAST, seg, sizeof(list));
        g_assert_cmphex(qnvme_cmd(t.n, 0, &cmd, NULL), ==, 0);
        qtest_memread(t.qts, buf, sn, 4);
        g_assert_cmpmem(sn, 4, "qtes", 4);
    }
    g_free(t.pattern);
}

static void test_sgl_errors(void *obj, void *data, QGuestAllocator *a)
{
    DmaTest t;
    uint64_t buf, seg;
    NvmeSglDescriptor list[3];

    dma_test_init(&t, obj);
    buf = qnvme_alloc(t.n, 2 * PAGE);
    seg = qnvme_alloc(t.n, PAGE);

    /* Keyed, transport and offset-addressed descriptors are for fabrics. */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1,
                           sgl(NVME_SGL_DESCR_TYPE_KEYED_DATA << 4, buf, 512)),
                    ==, NVME_SC_SGL_TYPE_INVALID | DNR);
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1,
                           sgl(NVME_SGL_DESCR_TYPE_TRANSPORT_DATA << 4, buf,
                               512)),
                    ==, NVME_SC_SGL_TYPE_INVALID | DNR);
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1,
                           sgl(SGL_DATA | 1, buf, 512)),
                    ==, NVME_SC_SGL_TYPE_INVALID | DNR);
    /* Shorter than the transfer */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 2,
                           sgl(SGL_DATA, buf, 512)),
                    ==, NVME_SC_DATA_SGL_LENGTH_INVALID | DNR);
    /* Segment length zero or not a multiple of 16 */
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1, sgl(SGL_LAST, seg, 24)),
                    ==, NVME_SC_INVALID_SGL_COUNT | DNR);
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1, sgl(SGL_SEG, seg, 0)),
                    ==, NVME_SC_INVALID_SGL_COUNT | DNR);
    /* A chaining descriptor that is not the last of its segment */
    list[0] = sgl(SGL_LAST, seg, 16);
    list[1] = sgl(SGL_DATA, buf, 512);
    qtest_memwrite(t.qts, seg, list, 2 * sizeof(list[0]));
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1, sgl(SGL_SEG, seg, 32)),
                    ==, NVME_SC_INVALID_SGL_SEGMENT | DNR);
    /* A Last Segment that chains further */
    list[0] = sgl(SGL_DATA, buf, 256);
    list[1] = sgl(SGL_SEG, seg, 32);
    qtest_memwrite(t.qts, seg, list, 2 * sizeof(list[0]));
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1, sgl(SGL_LAST, seg, 32)),
                    ==, NVME_SC_INVALID_SGL_SEGMENT | DNR);
    /* A segment that chains to itself ends, with an error. */
    list[0] = sgl(SGL_DATA, buf, 0);
    list[1] = sgl(SGL_SEG, seg, 32);
    qtest_memwrite(t.qts, seg, list, 2 * sizeof(list[0]));
    g_assert_cmphex(io_sgl(&t, NVME_CMD_READ, 0, 1, sgl(SGL_SEG, seg, 32)),
                    ==, NVME_SC_INVALID_SGL_COUNT | DNR);
    /* Reserved PSDT value */
    {
        NvmeCmd cmd = {
            .opcode = NVME_CMD_READ, .flags = 3 << 6, .nsid = cpu_to_le32(1),
        };
        g_assert_cmphex(qnvme_cmd(t.n, 1, &cmd, NULL), ==,
                        NVME_SC_INVALID_FIELD | DNR);
    }
    g_free(t.pattern);
}

static void test_prp_chained_list(void *obj, void *data, QGuestAllocator *a)
{
    DmaTest t;
    uint64_t buf, list1, list2, e[2];
    uint8_t back[2 * PAGE];

    dma_test_init(&t, obj);
    buf = qnvme_alloc(t.n, 4 * PAGE);
    list1 = qnvme_alloc(t.n, PAGE);
    list2 = qnvme_alloc(t.n, PAGE);
    qtest_memwrite(t.qts, buf, t.pattern, 4 * PAGE);

    /* The list starts 16 bytes before its page end: one entry, then chain. */
    e[0] = cpu_to_le64(buf + PAGE);
    e[1] = cpu_to_le64(list2);
    qtest_memwrite(t.qts, list1 + PAGE - 16, e, sizeof(e));
    e[0] = cpu_to_le64(buf + 2 * PAGE);
    e[1] = cpu_to_le64(buf + 3 * PAGE);
    qtest_memwrite(t.qts, list2, e, sizeof(e));
    g_assert_cmphex(qnvme_rw(t.n, 1, NVME_CMD_WRITE, 1, 60, 32, buf,
                             list1 + PAGE - 16), ==, 0);
    read_back(&t, 60 + 16, 2 * PAGE, back);
    g_assert_cmpmem(back, 2 * PAGE, t.pattern + 2 * PAGE, 2 * PAGE);

    /* A list page with room for the chain pointer only */
    g_assert_cmphex(qnvme_rw(t.n, 1, NVME_CMD_WRITE, 1, 60, 32, buf,
                             list1 + PAGE - 8), ==,
                    NVME_SC_INVALID_PRP_OFFSET | DNR);
    /* A list entry with an offset */
    e[0] = cpu_to_le64(buf + PAGE + 512);
    qtest_memwrite(t.qts, list2, e, sizeof(e));
    g_assert_cmphex(qnvme_rw(t.n, 1, NVME_CMD_READ, 1, 60, 24, buf, list2),
                    ==, NVME_SC_INVALID_PRP_OFFSET | DNR);
    g_free(t.pattern);
}

static void test_sgls_reported(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    uint32_t sgls;

    g_assert_true(qnvme_enable(n, 8, 0));
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    sgls = le32_to_cpu(id->sgls);
    g_assert_cmphex(sgls & 0x3, ==, NVME_SGLS_SUPPORTED_NO_ALIGNMENT);
    g_assert_true(sgls & NVME_SGLS_BIT_BUCKET);
    g_assert_true(sgls & NVME_SGLS_EXCESS_LENGTH);
}

static void register_nvme_dma_tests(void)
{
    QOSGraphTestOptions opts = { .before = qnvme_setup_one_namespace };

    qos_add_test("sgls-reported", "nvme-dma", test_sgls_reported, &opts);
    qos_add_test("sgl-data-block", "nvme-dma", test_sgl_data_block, &opts);
    qos_add_test("sgl-segments", "nvme-dma", test_sgl_segments, &opts);
    qos_add_test("sgl-bit-bucket", "nvme-dma", test_sgl_bit_bucket, &opts);
    qos_add_test("sgl-errors", "nvme-dma", test_sgl_errors, &opts);
    qos_add_test("prp-chained-list", "nvme-dma", test_prp_chained_list, &opts);
}

libqos_init(register_nvme_dma_tests);
