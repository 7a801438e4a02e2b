/*
 * qtests of the request lifecycle: commands whose work takes several
 * steps, while their queue is deleted, the controller reset or their
 * namespace formatted; the device's DMA aimed at its own registers; the
 * memory a guest can make the device allocate.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "standard-headers/linux/pci_regs.h"
#include "libqos/nvme.h"

#define SLOW_BYTES          (64 * 1024 * 1024)

static QNvme *enabled(void *obj)
{
    QNvme *n = obj;

    g_assert_true(qnvme_enable(n, 32, 0x6));
    return n;
}

static QTestState *qts_of(QNvme *n)
{
    return n->dev.bus->qts;
}

/* Verify of 4096 blocks (2 MiB) is over the default VSL (512 KiB) */
#define NO_VSL  " -global nvme.vsl=0"

/* Every backend request takes 200 ms: a multi-step command lasts seconds */
static void *slow_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                           " -blockdev null-co,node-name=slow,size=%d,"
                           "latency-ns=200000000,read-zeroes=on"
                           " -device nvme-ns,drive=slow,bus=nvme0,nsid=1"
                           " -global nvme.mdts=8" NO_VSL, SLOW_BYTES);
    return arg;
}

static void *slow_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return slow_setup(cmd_line, arg);
}

/* The same with 8 bytes of metadata per block (LBA formats 4-7) */
static void *slow_meta_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                           " -blockdev null-co,node-name=slow,size=%d,"
                           "latency-ns=200000000,read-zeroes=on"
                           " -device nvme-ns,drive=slow,bus=nvme0,nsid=1,ms=8"
                           NO_VSL, SLOW_BYTES);
    return arg;
}

static void *fast_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, NO_VSL);
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void *fast_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io" NO_VSL);
    return qnvme_setup_one_namespace(cmd_line, arg);
}

/* Commands made of several backend requests */

enum MultiStep { DSM_4, VERIFY_4096, COPY_4, COMPARE_1M, MULTI_STEP_KINDS };

static const char *const multi_step_names[] = {
    "dsm", "verify", "copy", "compare",
};

/* Builds one such command; its data lives at buf (1 MiB + 2 pages). */
static NvmeCmd multi_step_cmd(QNvme *n, enum MultiStep kind, uint64_t buf)
{
    QTestState *qts = qts_of(n);
    NvmeCmd cmd = { .nsid = cpu_to_le32(1), .dptr.prp1 = cpu_to_le64(buf) };

    switch (kind) {
    case DSM_4: {
        NvmeDsmRange r[4];

        for (int i = 0; i < 4; i++) {
            r[i] = (NvmeDsmRange) {
                .nlb = cpu_to_le32(8), .slba = cpu_to_le64(i * 1000),
            };
        }
        qtest_memwrite(qts, buf, r, sizeof(r));
        cmd.opcode = NVME_CMD_DSM;
        cmd.cdw10 = cpu_to_le32(3);
        cmd.cdw11 = cpu_to_le32(NVME_DSMGMT_AD);
        break;
    }
    case VERIFY_4096:
        cmd.opcode = NVME_CMD_VERIFY;
        cmd.dptr.prp1 = 0;
        cmd.cdw12 = cpu_to_le32(4095);
        break;
    case COPY_4: {
        NvmeCopySourceRange r[4] = {};

        for (int i = 0; i < 4; i++) {
            r[i].slba = cpu_to_le64(i * 100);
            r[i].nlb = cpu_to_le16(7);
        }
        qtest_memwrite(qts, buf, r, sizeof(r));
        cmd.opcode = NVME_CMD_COPY;
        cmd.cdw10 = cpu_to_le32(10000);
        cmd.cdw12 = cpu_to_le32(3);
        break;
    }
    case COMPARE_1M: {
        /* PRP1 the first page, PRP2 a list of the 255 others */
        uint64_t list = buf + MiB;
        uint64_t prps[255];
        g_autofree void *zero = g_malloc0(QNVME_PAGE_SIZE);

        /* The backend reads zeroes: so must the first page (the others are) */
        qtest_memwrite(qts, buf, zero, QNVME_PAGE_SIZE);

        for (int i = 0; i < 255; i++) {
            prps[i] = cpu_to_le64(buf + (i + 1) * QNVME_PAGE_SIZE);
        }
        qtest_memwrite(qts, list, prps, sizeof(prps));
        cmd.opcode = NVME_CMD_COMPARE;
        cmd.dptr.prp2 = cpu_to_le64(list);
        cmd.cdw12 = cpu_to_le32(2047);
        break;
    }
    default:
        g_assert_not_reached();
    }
    return cmd;
}

static uint16_t admin_delete(QNvme *n, uint8_t opcode, uint16_t qid)
{
    NvmeCmd cmd = { .opcode = opcode, .cdw10 = cpu_to_le32(qid) };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static void assert_alive(QNvme *n)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
}

/*
 * Each multi-step command, 50 ms into its work (in its second step or
 * waiting for its first): Delete I/O SQ then CQ, which must wait for
 * every step. Then the same with CC.EN = 0.
 */
static void test_multi_step_teardown(void *obj, void *data,
                                     QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, MiB + 2 * QNVME_PAGE_SIZE);

    for (int kind = 0; kind < MULTI_STEP_KINDS; kind++) {
        NvmeCmd cmd;

        g_test_message("%s, then Delete I/O SQ and CQ",
                       multi_step_names[kind]);
        qnvme_create_io_queue_pair(n, 1, 16);
        cmd = multi_step_cmd(n, kind, buf);
        qnvme_submit(n, 1, &cmd);
        g_usleep(50 * 1000);
        g_assert_cmphex(admin_delete(n, NVME_ADM_CMD_DELETE_SQ, 1), ==, 0);
        g_assert_cmphex(admin_delete(n, NVME_ADM_CMD_DELETE_CQ, 1), ==, 0);
        assert_alive(n);

        g_test_message("%s, then CC.EN = 0", multi_step_names[kind]);
        qnvme_create_io_queue_pair(n, 1, 16);
        cmd = multi_step_cmd(n, kind, buf);
        qnvme_submit(n, 1, &cmd);
        g_usleep(50 * 1000);
        qnvme_writel(n, NVME_REG_CC, qnvme_readl(n, NVME_REG_CC) & ~1u);
        g_assert_true(qnvme_wait_ready(n, false));
        n = enabled(obj);
        assert_alive(n);
    }
}

/* The same, but the command is still complete-able: it must complete. */
static void test_multi_step_completes(void *obj, void *data,
                                      QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, MiB + 2 * QNVME_PAGE_SIZE);

    qnvme_create_io_queue_pair(n, 1, 16);
    for (int kind = 0; kind < MULTI_STEP_KINDS; kind++) {
        NvmeCmd cmd = multi_step_cmd(n, kind, buf);
        NvmeCqe cqe;

        g_test_message("%s", multi_step_names[kind]);
        g_assert_cmphex(qnvme_cmd(n, 1, &cmd, &cqe), ==, 0);
    }
}

static uint16_t format_nvm(QNvme *n, uint8_t lbaf)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_FORMAT_NVM,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(lbaf),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static uint8_t current_lbaf(QNvme *n)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    return id->flbas & 0xf;
}

/*
 * Format NVM while a Copy of ranges of 1, 1 and 62 blocks (one bounce
 * chunk of metadata each) is under way: the Copy finishes on the format it
 * started with, then the format changes. To 4096+0 and to 4096+8.
 */
static void test_format_during_copy(void *obj, void *data,
                                    QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QTestState *qts = qts_of(n);
    uint64_t ranges = qnvme_alloc(n, QNVME_PAGE_SIZE);
    static const uint8_t lbafs[] = { 1, 5, 4 };

    qnvme_create_io_queue_pair(n, 1, 16);
    for (int i = 0; i < ARRAY_SIZE(lbafs); i++) {
        NvmeCopySourceRange r[3] = {};
        NvmeCmd copy = {
            .opcode = NVME_CMD_COPY,
            .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(ranges),
            .cdw10 = cpu_to_le32(1000),
            .cdw12 = cpu_to_le32(2),
        };
        static const uint16_t nlb[] = { 0, 0, 61 };
        NvmeCqe cqe;
        uint16_t cid;

        for (int j = 0; j < 3; j++) {
            r[j].slba = cpu_to_le64(j * 100);
            r[j].nlb = cpu_to_le16(nlb[j]);
        }
        qtest_memwrite(qts, ranges, r, sizeof(r));
        cid = qnvme_submit(n, 1, &copy);
        g_usleep(50 * 1000);
        g_assert_cmphex(format_nvm(n, lbafs[i]), ==, 0);
        /* The Copy completed first, and on the old format */
        g_assert_true(qnvme_poll(n, 1, &cqe));
        g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        g_assert_cmpuint(current_lbaf(n), ==, lbafs[i]);
    }
    assert_alive(n);
}

/* I/O fetched while Format runs waits for it, then sees the new format. */
static void test_io_during_format(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, 2 * QNVME_PAGE_SIZE);
    NvmeCmd fmt = {
        .opcode = NVME_ADM_CMD_FORMAT_NVM,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(1 | (1 << 9)),     /* 4096 bytes, user erase */
    };
    NvmeCmd read = {
        .opcode = NVME_CMD_READ,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(buf),
        /* in range with 512-byte blocks only */
        .cdw10 = cpu_to_le32(SLOW_BYTES / 4096 + 1),
    };
    NvmeCqe cqe;

    qnvme_create_io_queue_pair(n, 1, 16);
    qnvme_submit(n, 0, &fmt);
    g_usleep(50 * 1000);
    qnvme_submit(n, 1, &read);
    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    /* It waited for the format and its erase, and saw the new one */
    g_assert_true(qnvme_poll(n, 1, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
}

/* DMA aimed at the controller's own BAR0 */

static uint32_t wait_csts(QNvme *n, uint32_t mask)
{
    uint32_t csts = 0;

    for (int i = 0; i < 100000; i++) {
        csts = qnvme_readl(n, NVME_REG_CSTS);
        if (csts & mask) {
            break;
        }
    }
    return csts;
}

/*
 * An I/O CQ on BAR0: its second entry would land on CC. The write fails,
 * the controller reports a fatal status and stays enabled.
 */
static void test_cq_on_bar0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t sq = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(n->bar.addr),
        .cdw10 = cpu_to_le32((15 << 16) | 1),
        .cdw11 = cpu_to_le32(NVME_CQ_PC),
    };
    NvmeCmd flush = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
    uint32_t csts;

    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, 0);
    n->cq[1] = (QNvmeQueue) { .addr = n->bar.addr, .size = 16, .phase = 1 };
    cmd = (NvmeCmd) {
        .opcode = NVME_ADM_CMD_CREATE_SQ,
        .dptr.prp1 = cpu_to_le64(sq),
        .cdw10 = cpu_to_le32((15 << 16) | 1),
        .cdw11 = cpu_to_le32(NVME_SQ_PC | (1 << 16)),
    };
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, 0);
    n->sq[1] = (QNvmeQueue) { .addr = sq, .size = 16 };
    qnvme_submit(n, 1, &flush);
    qnvme_submit(n, 1, &flush);
    csts = wait_csts(n, NVME_CSTS_CFS_BIT);
    g_assert_cmphex(csts & NVME_CSTS_CFS_BIT, ==, NVME_CSTS_CFS_BIT);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CC) & 1, ==, 1);
    /* A reset recovers it */
    n = enabled(obj);
    assert_alive(n);
}

/* Data, PRP lists and admin data on BAR0: Data Transfer Error. */
static void test_data_on_bar0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t list = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t bar = n->bar.addr;
    uint64_t cc = bar + NVME_REG_CC;
    uint64_t entry = cpu_to_le64(bar + 0x1000);     /* the doorbells */
    NvmeCmd id = {
        .opcode = NVME_ADM_CMD_IDENTIFY,
        .dptr.prp1 = cpu_to_le64(bar + 0x1000),
        .cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL),
    };

    qnvme_create_io_queue_pair(n, 1, 16);
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 1, cc, 0), ==,
                    NVME_SC_DATA_TRANSFER_ERROR | NVME_SC_DNR);
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_WRITE, 1, 0, 1, cc, 0), ==,
                    NVME_SC_DATA_TRANSFER_ERROR | NVME_SC_DNR);
    g_assert_cmphex(qnvme_cmd(n, 0, &id, NULL), ==,
                    NVME_SC_DATA_TRANSFER_ERROR | NVME_SC_DNR);
    /* 3 pages: PRP2 is a list, whose entry points at the doorbells */
    qtest_memwrite(qts_of(n), list, &entry, sizeof(entry));
    qtest_memwrite(qts_of(n), list + 8, &entry, sizeof(entry));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 24,
                             qnvme_alloc(n, QNVME_PAGE_SIZE), list) & 0xff,
                    ==, NVME_SC_DATA_TRANSFER_ERROR);
    /* A PRP list on BAR0 itself */
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 24,
                             qnvme_alloc(n, QNVME_PAGE_SIZE), bar) & 0xff,
                    ==, NVME_SC_DATA_TRANSFER_ERROR);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS) & NVME_CSTS_RDY_BIT, ==,
                    NVME_CSTS_RDY_BIT);
    assert_alive(n);
}

/* An MSI-X message aimed at CC: refused, the controller stays enabled. */
static void test_msix_to_bar0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    QPCIDevice *dev = &n->dev;
    uint64_t entry;
    NvmeCqe cqe;
    NvmeCmd flush = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };

    qpci_msix_enable(dev);
    /* The MSI-X table is in BAR0, which qpci_msix_enable() mapped anew. */
    n->bar = dev->msix_table_bar;
    n = enabled(obj);
    entry = dev->msix_table_off + 1 * PCI_MSIX_ENTRY_SIZE;
    qpci_io_writel(dev, dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                   (uint32_t)(n->bar.addr + NVME_REG_CC));
    qpci_io_writel(dev, dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_UPPER_ADDR, n->bar.addr >> 32);
    qpci_io_writel(dev, dev->msix_table_bar, entry + PCI_MSIX_ENTRY_DATA, 0);
    qpci_io_writel(dev, dev->msix_table_bar,
                   entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    qnvme_create_io_queue_pair_irq(n, 1, 16, 1);
    for (int i = 0; i < 3; i++) {
        g_assert_cmphex(qnvme_cmd(n, 1, &flush, &cqe), ==, 0);
    }
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CC) & 1, ==, 1);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS) & NVME_CSTS_RDY_BIT, ==,
                    NVME_CSTS_RDY_BIT);
    assert_alive(n);
    qpci_msix_disable(dev);
}

/* Memory */

static void *many_queues_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.max_ioqpairs=512");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

/*
 * 256 SQs of 2048 entries (sharing one ring) cost the requests in flight,
 * not 2048 requests each up front.
 */
static void test_sq_memory(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QTestState *qts = qts_of(n);
    uint64_t ring = qnvme_alloc(n, 2048 * sizeof(NvmeCmd));
    uint64_t cq = qnvme_alloc(n, 2048 * sizeof(NvmeCqe));
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(cq),
        .cdw10 = cpu_to_le32((2047 << 16) | 1),
        .cdw11 = cpu_to_le32(NVME_CQ_PC),
    };
    uint64_t before;

    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, 0);
    before = qnvme_qemu_status_kib(qts, "VmRSS");
    for (int qid = 1; qid <= 256; qid++) {
        cmd = (NvmeCmd) {
            .opcode = NVME_ADM_CMD_CREATE_SQ,
            .dptr.prp1 = cpu_to_le64(ring),
            .cdw10 = cpu_to_le32((2047 << 16) | qid),
            .cdw11 = cpu_to_le32(NVME_SQ_PC | (1 << 16)),
        };
        g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, 0);
    }
    /* The kernel's RSS counters lag (per-CPU batches): may go down */
    g_assert_cmpint((int64_t)(qnvme_qemu_status_kib(qts, "VmRSS") - before),
                    <, 32 * 1024);
    /* And they work */
    n->cq[1] = (QNvmeQueue) { .addr = cq, .size = 2048, .phase = 1 };
    n->sq[1] = (QNvmeQueue) { .addr = ring, .size = 2048 };
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 1,
                             qnvme_alloc(n, QNVME_PAGE_SIZE), 0), ==, 0);
}

static void register_lifecycle_tests(void)
{
    QOSGraphTestOptions slow = { .before = slow_setup };
    QOSGraphTestOptions slow_io = { .before = slow_iothread_setup };
    QOSGraphTestOptions slow_meta = { .before = slow_meta_setup };
    QOSGraphTestOptions fast = { .before = fast_setup };
    QOSGraphTestOptions fast_io = { .before = fast_iothread_setup };
    QOSGraphTestOptions many = { .before = many_queues_setup };

    qos_add_test("multi-step-teardown", "nvme-lifecycle",
                 test_multi_step_teardown, &slow);
    qos_add_test("iothread-multi-step-teardown", "nvme-lifecycle",
                 test_multi_step_teardown, &slow_io);
    qos_add_test("multi-step-completes", "nvme-lifecycle",
                 test_multi_step_completes, &slow);
    qos_add_test("format-during-copy", "nvme-lifecycle",
                 test_format_during_copy, &slow_meta);
    qos_add_test("io-during-format", "nvme-lifecycle",
                 test_io_during_format, &slow);
    qos_add_test("iothread-io-during-format", "nvme-lifecycle",
                 test_io_during_format, &slow_io);
    qos_add_test("cq-on-bar0", "nvme-lifecycle", test_cq_on_bar0, &fast);
    qos_add_test("iothread-cq-on-bar0", "nvme-lifecycle", test_cq_on_bar0,
                 &fast_io);
    qos_add_test("data-on-bar0", "nvme-lifecycle", test_data_on_bar0, &fast);
    qos_add_test("iothread-data-on-bar0", "nvme-lifecycle",
                 test_data_on_bar0, &fast_io);
    qos_add_test("msix-to-bar0", "nvme-lifecycle", test_msix_to_bar0, &fast);
    qos_add_test("iothread-msix-to-bar0", "nvme-lifecycle",
                 test_msix_to_bar0, &fast_io);
    qos_add_test("sq-memory", "nvme-lifecycle", test_sq_memory, &many);
}

libqos_init(register_lifecycle_tests);
