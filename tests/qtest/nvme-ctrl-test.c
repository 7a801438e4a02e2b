/*
 * qtests for the NVMe controller: registers, enable/disable, Identify,
 * queue management, features, log pages, asynchronous events and NVM I/O,
 * each with its error statuses.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "qemu/crc32c.h"

#define TEST_NLBAS          QNVME_TEST_NLBAS

static QNvme *enabled(void *obj)
{
    QNvme *n = obj;

    g_assert_true(qnvme_enable(n, 32, 0x6));
    return n;
}

/* Registers (Base 3.1.4) */

static void test_reg_defaults(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = obj;
    uint64_t cap = qnvme_readq(n, NVME_REG_CAP);

    g_assert_cmphex(NVME_CAP_MQES(cap), ==, 0x7ff);
    g_assert_cmphex(NVME_CAP_CQR(cap), ==, 1);
    g_assert_cmphex(NVME_CAP_TO(cap), ==, 0xf);
    g_assert_cmphex(NVME_CAP_DSTRD(cap), ==, 0);
    g_assert_cmphex(NVME_CAP_NSSRS(cap), ==, 1);
    g_assert_cmphex(NVME_CAP_CSS(cap), ==, NVME_CAP_CSS_NVM |
                    NVME_CAP_CSS_IOCS);
    g_assert_cmphex(NVME_CAP_MPSMIN(cap), ==, 0);
    g_assert_cmphex(NVME_CAP_MPSMAX(cap), ==, 4);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_VS), ==, 0x20000);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CC), ==, 0);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS), ==, 0);
    /* CAP and VS are read-only. */
    qnvme_writel(n, NVME_REG_VS, 0x10000);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_VS), ==, 0x20000);
    /* INTMS sets and INTMC clears the same mask. */
    qnvme_writel(n, NVME_REG_INTMS, 0x5);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_INTMS), ==, 0x5);
    qnvme_writel(n, NVME_REG_INTMC, 0x1);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_INTMC), ==, 0x4);
}

/*
 * The end of the register image: CMBSWTP and NSSD read as zero here (no
 * CMB; NSSD is write-only), CRTO.CRWMT equals CAP.TO, and everything from
 * 6Ch on is reserved and zero, for every access size that reaches it.
 */
static void test_reg_crto(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    const uint64_t crto = 0xf;

    for (int round = 0; round < 64; round++) {
        g_assert_cmphex(qnvme_readq(n, 0x60), ==, 0);
        g_assert_cmphex(qnvme_readq(n, NVME_REG_CRTO), ==, crto);
        g_assert_cmphex(qnvme_readq(n, 0x70), ==, 0);
        g_assert_cmphex(qnvme_readl(n, 0x60), ==, 0);
        g_assert_cmphex(qnvme_readl(n, 0x64), ==, 0);
        g_assert_cmphex(qnvme_readl(n, NVME_REG_CRTO), ==, crto);
        g_assert_cmphex(qnvme_readl(n, 0x6c), ==, 0);
        for (uint64_t off = 0x60; off < 0x70; off += 2) {
            g_assert_cmphex(qpci_io_readw(&n->dev, n->bar, off), ==,
                            off == NVME_REG_CRTO ? crto : 0);
        }
        /* Other reads in between leave other values on the stack */
        g_assert_cmphex(qnvme_readq(n, NVME_REG_ASQ), !=, 0);
        g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS) & 1, ==, 1);
    }
}

static void test_enable_disable(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = obj;

    g_assert_true(qnvme_enable(n, 2, 0));
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS) & NVME_CSTS_CFS_BIT, ==, 0);
    qnvme_disable(n);
    g_assert_true(qnvme_enable(n, 64, 0x6));
    /* Admin queue registers cannot change while enabled. */
    qnvme_writel(n, NVME_REG_AQA, 0);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_AQA), ==, 63 | (63 << 16));
}

static void test_enable_invalid(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = obj;
    uint64_t ring = qnvme_alloc(n, QNVME_PAGE_SIZE);

    qnvme_disable(n);
    qnvme_writel(n, NVME_REG_AQA, 0xf000f);
    qnvme_writeq(n, NVME_REG_ASQ, ring);
    qnvme_writeq(n, NVME_REG_ACQ, ring);

    /* Memory page size above CAP.MPSMAX */
    qnvme_writel(n, NVME_REG_CC, 1 | (5 << 7));
    g_assert_false(qnvme_wait_ready(n, true));
    qnvme_writel(n, NVME_REG_CC, 0);
    /* Unsupported command set (CC.CSS = 1) */
    qnvme_writel(n, NVME_REG_CC, 1 | (1 << 4));
    g_assert_false(qnvme_wait_ready(n, true));
    qnvme_writel(n, NVME_REG_CC, 0);
    /* Admin queue base not page aligned */
    qnvme_writeq(n, NVME_REG_ASQ, ring + 64);
    qnvme_writel(n, NVME_REG_CC, 1);
    g_assert_false(qnvme_wait_ready(n, true));
    qnvme_writel(n, NVME_REG_CC, 0);
    /* One-entry admin queues */
    qnvme_writeq(n, NVME_REG_ASQ, ring);
    qnvme_writel(n, NVME_REG_AQA, 0);
    qnvme_writel(n, NVME_REG_CC, 1);
    g_assert_false(qnvme_wait_ready(n, true));
    qnvme_writel(n, NVME_REG_CC, 0);
    /* And a valid configuration still works afterwards. */
    g_assert_true(qnvme_enable(n, 8, 0));
}

static void test_shutdown(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    uint32_t cc = qnvme_readl(n, NVME_REG_CC);

    qnvme_writel(n, NVME_REG_CC, cc | (NVME_CC_SHN_NORMAL << 14));
    g_assert_cmphex(NVME_CSTS_SHST(qnvme_readl(n, NVME_REG_CSTS)), ==,
                    NVME_SHST_COMPLETE);
    qnvme_disable(n);
    g_assert_cmphex(NVME_CSTS_SHST(qnvme_readl(n, NVME_REG_CSTS)), ==, 0);
}

static void test_subsystem_reset(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);

    qnvme_writel(n, NVME_REG_NSSR, 0x1234);
    g_assert_true(NVME_CSTS_RDY(qnvme_readl(n, NVME_REG_CSTS)));
    qnvme_writel(n, NVME_REG_NSSR, NVME_NSSR_RESET_VALUE);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS), ==, NVME_CSTS_NSSRO_BIT);
    /* NSSRO is write-1-to-clear. */
    qnvme_writel(n, NVME_REG_CSTS, NVME_CSTS_NSSRO_BIT);
    g_assert_cmphex(qnvme_readl(n, NVME_REG_CSTS), ==, 0);
}

/* Identify (Base 5.17) */

static void test_identify_ctrl(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpmem(id->sn, 5, "qtest", 5);
    g_assert_cmpint(id->sn[5], ==, ' ');
    g_assert_cmphex(le16_to_cpu(id->vid), ==, 0x1b36);
    g_assert_cmphex(le32_to_cpu(id->ver), ==, 0x20000);
    g_assert_cmpuint(id->cntrltype, ==, NVME_CNTRLTYPE_IO);
    g_assert_cmphex(id->sqes, ==, 0x66);
    g_assert_cmphex(id->cqes, ==, 0x44);
    g_assert_cmpuint(le32_to_cpu(id->nn), ==, 256);
    g_assert_cmpuint(id->aerl, ==, 3);
    g_assert_cmphex(id->lpa & NVME_LPA_CSE_LOG, ==, NVME_LPA_CSE_LOG);
    g_assert_cmphex(id->vwc & 1, ==, 1);
    g_assert_cmpstr((char *)id->subnqn, ==, "nqn.2019-08.org.qemu:qtest");
}

static void test_identify_ns(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree uint32_t *list = g_new0(uint32_t, 1024);
    g_autofree uint8_t *descr = g_new0(uint8_t, 4096);
    uint8_t *p = descr;
    bool saw_uuid = false, saw_csi = false;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, TEST_NLBAS);
    g_assert_cmpuint(le64_to_cpu(id->ncap), ==, TEST_NLBAS);
    g_assert_cmpuint(id->lbaf[NVME_ID_NS_FLBAS_INDEX(id->flbas)].ds, ==, 9);

    /* Inactive NSID: zero-filled; invalid NSIDs: Invalid Namespace. */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 2, 0, id), ==, 0);
    g_assert_cmpuint(id->nsze, ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 0, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 257, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0,
                                   list), ==, 0);
    g_assert_cmpuint(le32_to_cpu(list[0]), ==, 1);
    g_assert_cmpuint(list[1], ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST, 1, 0,
                                   list), ==, 0);
    g_assert_cmpuint(list[0], ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST,
                                   0xfffffffe, 0, list), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_DESCR_LIST, 1, 0,
                                   descr), ==, 0);
    while (p[0] && p < descr + 4096 - 4) {
        saw_uuid |= p[0] == NVME_NIDT_UUID && p[1] == NVME_NIDL_UUID;
        saw_csi |= p[0] == NVME_NIDT_CSI && p[4] == NVME_CSI_NVM;
        p += 4 + p[1];
    }
    g_assert_true(saw_uuid);
    g_assert_true(saw_csi);

    /* Command set specific structures: NVM yes, others not supported. */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_NVM,
                                   id), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_KV,
                                   id),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_CTRL, 0, NVME_CSI_NVM,
                                   id), ==, 0);
    g_assert_cmphex(qnvme_identify(n, 0xff, 0, 0, id), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
}

/*
 * Identify CNS 05h for every NSID of a controller with one NVM namespace
 * and no zoned one: inactive NSIDs give a zero-filled structure for each
 * supported command set, as CNS 00h does; unsupported CSIs and NSIDs 0 and
 * FFFFFFFFh fail.
 */
static void test_identify_csi_no_ns(void *obj, void *data,
                                    QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree uint8_t *id = g_new0(uint8_t, NVME_IDENTIFY_DATA_SIZE);
    g_autofree uint8_t *zero = g_new0(uint8_t, NVME_IDENTIFY_DATA_SIZE);
    static const uint8_t other_csi[] = { NVME_CSI_KV, 0x03, 0x30, 0xff };

    for (uint32_t nsid = 1; nsid <= 256; nsid++) {
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, nsid,
                                       NVME_CSI_NVM, id), ==, 0);
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, nsid,
                                       NVME_CSI_ZONED, id), ==, 0);
        if (nsid > 1) {
            g_assert_cmpmem(id, NVME_IDENTIFY_DATA_SIZE,
                            zero, NVME_IDENTIFY_DATA_SIZE);
        }
        if (nsid == 1 || nsid == 2 || nsid == 256) {
            for (int i = 0; i < ARRAY_SIZE(other_csi); i++) {
                g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, nsid,
                                               other_csi[i], id), ==,
                                NVME_SC_INVALID_FIELD | NVME_SC_DNR);
            }
        }
    }
    for (int csi = 0; csi < 3; csi++) {
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, 0, csi, id), ==,
                        NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, 257, csi, id),
                        ==, NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS,
                                       NVME_NSID_BROADCAST, csi, id), ==,
                        NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    }

    /* The other NSID-taking CNS values on inactive and invalid NSIDs */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_PRESENT, 2, 0, id), ==,
                    0);
    g_assert_cmpmem(id, NVME_IDENTIFY_DATA_SIZE,
                    zero, NVME_IDENTIFY_DATA_SIZE);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_PRESENT,
                                   NVME_NSID_BROADCAST, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_DESCR_LIST, 2, 0, id),
                    ==, NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_DESCR_LIST,
                                   NVME_NSID_BROADCAST, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_INDEPENDENT, 2, 0, id),
                    ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_INDEPENDENT,
                                   NVME_NSID_BROADCAST, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    for (int csi = 0; csi < 3; csi++) {
        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS_ACTIVE_LIST, 2,
                                       csi, id), ==,
                        csi == NVME_CSI_KV ?
                        (NVME_SC_INVALID_FIELD | NVME_SC_DNR) : 0);
        g_assert_cmpmem(id, NVME_IDENTIFY_DATA_SIZE,
                        zero, NVME_IDENTIFY_DATA_SIZE);
    }
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ATTACHED_CTRL_LIST, 2, 0,
                                   id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ATTACHED_CTRL_LIST,
                                   NVME_NSID_BROADCAST, 0, id), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    /* Still alive and answering */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_NVM,
                                   id), ==, 0);
}

/* Queue management (Base 5.4 to 5.7) */

static uint16_t create_cq(QNvme *n, uint16_t qid, uint16_t entries,
                          uint32_t flags, uint16_t vector)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(qnvme_alloc(n, QNVME_PAGE_SIZE * 16)),
        .cdw10 = cpu_to_le32(((uint32_t)(entries - 1) << 16) | qid),
        .cdw11 = cpu_to_le32(flags | ((uint32_t)vector << 16)),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static uint16_t create_sq(QNvme *n, uint16_t qid, uint16_t entries,
                          uint16_t cqid)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_SQ,
        .dptr.prp1 = cpu_to_le64(qnvme_alloc(n, QNVME_PAGE_SIZE * 16)),
        .cdw10 = cpu_to_le32(((uint32_t)(entries - 1) << 16) | qid),
        .cdw11 = cpu_to_le32(NVME_SQ_PC | ((uint32_t)cqid << 16)),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static uint16_t delete_queue(QNvme *n, uint8_t opcode, uint16_t qid)
{
    NvmeCmd cmd = { .opcode = opcode, .cdw10 = cpu_to_le32(qid) };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static void test_queue_errors(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    const uint16_t dnr = NVME_SC_DNR;

    g_assert_cmphex(create_cq(n, 0, 16, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
    g_assert_cmphex(create_cq(n, 65, 16, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
    g_assert_cmphex(create_cq(n, 1, 1, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_SIZE | dnr);
    g_assert_cmphex(create_cq(n, 1, 0x801, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_SIZE | dnr);
    g_assert_cmphex(create_cq(n, 1, 16, 0, 0), ==, NVME_SC_INVALID_FIELD | dnr);
    /* MSI-X is off: only vector 0 exists. */
    g_assert_cmphex(create_cq(n, 1, 16, NVME_CQ_PC | NVME_CQ_IEN, 1), ==,
                    NVME_SC_INVALID_INTERRUPT_VECTOR | dnr);
    g_assert_cmphex(create_cq(n, 1, 16, NVME_CQ_PC, 0), ==, 0);
    g_assert_cmphex(create_cq(n, 1, 16, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);

    g_assert_cmphex(create_sq(n, 1, 16, 2), ==, NVME_SC_CQ_INVALID | dnr);
    g_assert_cmphex(create_sq(n, 1, 16, 0), ==, NVME_SC_CQ_INVALID | dnr);
    g_assert_cmphex(create_sq(n, 0, 16, 1), ==, NVME_SC_INVALID_QUEUE_ID | dnr);
    g_assert_cmphex(create_sq(n, 1, 0x1000, 1), ==,
                    NVME_SC_INVALID_QUEUE_SIZE | dnr);
    g_assert_cmphex(create_sq(n, 1, 16, 1), ==, 0);
    g_assert_cmphex(create_sq(n, 2, 16, 1), ==, 0);

    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_CQ, 1), ==,
                    NVME_SC_INVALID_QUEUE_DELETION | dnr);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_SQ, 0), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_SQ, 3), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_SQ, 1), ==, 0);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_SQ, 2), ==, 0);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_CQ, 1), ==, 0);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_CQ, 1), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
}

static void test_invalid_opcodes(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    NvmeCmd cmd = { .opcode = 0xc3 };

    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_INVALID_OPCODE | NVME_SC_DNR);
    qnvme_create_io_queue_pair(n, 1, 8);
    cmd = (NvmeCmd) { .opcode = 0x7f, .nsid = cpu_to_le32(1) };
    g_assert_cmphex(qnvme_cmd(n, 1, &cmd, NULL), ==,
                    NVME_SC_INVALID_OPCODE | NVME_SC_DNR);
    cmd = (NvmeCmd) { .opcode = NVME_CMD_READ, .nsid = cpu_to_le32(2) };
    g_assert_cmphex(qnvme_cmd(n, 1, &cmd, NULL), ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    /* Fused operations are not supported. */
    cmd = (NvmeCmd) { .opcode = NVME_CMD_FLUSH, .flags = 1,
                      .nsid = cpu_to_le32(1) };
    g_assert_cmphex(qnvme_cmd(n, 1, &cmd, NULL), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
}

/* NVM I/O (NVM Command Set 3) */

static uint16_t rw(QNvme *n, uint8_t opcode, uint64_t slba, uint32_t nlb,
                   uint64_t prp1, uint64_t prp2)
{
    return qnvme_rw(n, 1, opcode, 1, slba, nlb, prp1, prp2);
}

static void test_io_prp(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    const size_t len = 5 * QNVME_PAGE_SIZE;   /* needs a PRP list */
    uint64_t buf = qnvme_alloc(n, len + QNVME_PAGE_SIZE);
    uint64_t list = qnvme_alloc(n, QNVME_PAGE_SIZE);
    g_autofree uint8_t *pattern = g_malloc(len);
    g_autofree uint8_t *back = g_malloc(len);
    uint64_t entries[5];

    for (size_t i = 0; i < len; i++) {
        pattern[i] = i * 7 + (i >> 12);
    }
    qnvme_create_io_queue_pair(n, 1, 16);

    /* PRP1 with an offset, then a list of five page entries. */
    for (int i = 0; i < 5; i++) {
        entries[i] = cpu_to_le64(buf + (i + 1) * QNVME_PAGE_SIZE);
    }
    qtest_memwrite(qts, list, entries, sizeof(entries));
    qtest_memwrite(qts, buf + 512, pattern, len);
    g_assert_cmphex(rw(n, NVME_CMD_WRITE, 100, len / 512, buf + 512, list),
                    ==, 0);

    /* Read back into a different layout: PRP1 and PRP2 per 4 KiB. */
    qtest_memset(qts, buf, 0, len + QNVME_PAGE_SIZE);
    g_assert_cmphex(rw(n, NVME_CMD_READ, 100, 8, buf, buf + QNVME_PAGE_SIZE),
                    ==, 0);
    qtest_memread(qts, buf, back, 8 * 512);
    g_assert_cmpmem(back, 8 * 512, pattern, 8 * 512);

    g_assert_cmphex(rw(n, NVME_CMD_READ, 100, len / 512, buf + 512, list),
                    ==, 0);
    qtest_memread(qts, buf + 512, back, len);
    g_assert_cmpmem(back, len, pattern, len);

    /* Flush */
    {
        NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
        g_assert_cmphex(qnvme_cmd(n, 1, &cmd, NULL), ==, 0);
    }
}

static void test_io_errors(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, 2 * QNVME_PAGE_SIZE);

    qnvme_create_io_queue_pair(n, 1, 16);
    /* LBA range checks, including 64-bit overflow of SLBA + NLB. */
    g_assert_cmphex(rw(n, NVME_CMD_READ, TEST_NLBAS, 1, buf, 0), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
    g_assert_cmphex(rw(n, NVME_CMD_WRITE, TEST_NLBAS - 1, 2, buf, 0), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
    g_assert_cmphex(rw(n, NVME_CMD_READ, UINT64_MAX, 2, buf, 0), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
    g_assert_cmphex(rw(n, NVME_CMD_READ, TEST_NLBAS - 1, 1, buf, 0), ==, 0);
    /* MDTS = 7: at most 512 KiB per command. */
    g_assert_cmphex(rw(n, NVME_CMD_READ, 0, 1025, buf, 0), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    /* PRP errors: misaligned PRP1, PRP2 with an offset. */
    g_assert_cmphex(rw(n, NVME_CMD_READ, 0, 1, buf + 2, 0), ==,
                    NVME_SC_INVALID_PRP_OFFSET | NVME_SC_DNR);
    g_assert_cmphex(rw(n, NVME_CMD_READ, 0, 16, buf, buf + 8), ==,
                    NVME_SC_INVALID_PRP_OFFSET | NVME_SC_DNR);
}

/* Features (Base 5.27) */

static void test_features(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    const uint8_t get = NVME_ADM_CMD_GET_FEATURES;
    const uint8_t set = NVME_ADM_CMD_SET_FEATURES;
    const uint8_t vwc = NVME_FEAT_VOLATILE_WRITE_CACHE;
    const uint8_t temp = NVME_FEAT_TEMPERATURE_THRESHOLD;
    const uint16_t dnr = NVME_SC_DNR;
    uint32_t dw0;

    /* Number of Queues: granted count is capped at max_ioqpairs (64). */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_NUMBER_OF_QUEUES,
                                   0x00ff00ff, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x003f003f);
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_NUMBER_OF_QUEUES,
                                   0x00010001, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00010001);
    g_assert_cmphex(qnvme_features(n, get, NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0),
                    ==, 0);
    g_assert_cmphex(dw0, ==, 0x00010001);
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_NUMBER_OF_QUEUES, 0xffff,
                             &dw0), ==, NVME_SC_INVALID_FIELD | dnr);
    /* Queue 3 is beyond the two granted. */
    g_assert_cmphex(create_cq(n, 3, 16, NVME_CQ_PC, 0), ==,
                    NVME_SC_INVALID_QUEUE_ID | dnr);
    qnvme_create_io_queue_pair(n, 1, 8);
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_NUMBER_OF_QUEUES,
                                   0x00010001, &dw0), ==,
                    NVME_SC_COMMAND_SEQUENCE_ERROR | dnr);

    /* Volatile Write Cache */
    g_assert_cmphex(qnvme_features(n, get, vwc, 0, &dw0), ==,
                    0);
    g_assert_cmphex(dw0, ==, 1);
    g_assert_cmphex(qnvme_features(n, set, vwc, 0, NULL), ==,
                    0);
    g_assert_cmphex(qnvme_features(n, get, vwc, 0, &dw0), ==,
                    0);
    g_assert_cmphex(dw0, ==, 0);

    /* Temperature threshold: default, set, select default. */
    g_assert_cmphex(qnvme_features(n, get, temp, 0, &dw0), ==,
                    0);
    g_assert_cmphex(dw0, ==, 0x157);
    g_assert_cmphex(qnvme_features(n, set, temp, 0x160, NULL),
                    ==, 0);
    g_assert_cmphex(qnvme_features(n, get, temp, 0, &dw0), ==,
                    0);
    g_assert_cmphex(dw0, ==, 0x160);
    g_assert_cmphex(qnvme_features(n, get, temp |
                             (NVME_GETFEAT_SELECT_DEFAULT << 8), 0, &dw0),
                    ==, 0);
    g_assert_cmphex(dw0, ==, 0x157);
    g_assert_cmphex(qnvme_features(n, set, temp,
                             0x160 | (1 << 16), NULL), ==,
                    NVME_SC_INVALID_FIELD | dnr);

    /* Unsupported feature, save bit, reserved select. */
    g_assert_cmphex(qnvme_features(n, get, 0x7e, 0, NULL), ==,
                    NVME_SC_INVALID_FIELD | dnr);
    g_assert_cmphex(qnvme_features(n, set,
                                   NVME_FEAT_ARBITRATION | (1u << 31), 0,
                                   NULL), ==,
                    NVME_SC_FEATURE_NOT_SAVEABLE | dnr);
    g_assert_cmphex(qnvme_features(n, get, NVME_FEAT_ARBITRATION | (5 << 8), 0,
                                   NULL), ==, NVME_SC_INVALID_FIELD | dnr);
}

static uint16_t feature_data(QNvme *n, uint8_t opcode, uint32_t cdw10,
                             uint32_t cdw11, void *data, size_t len)
{
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd cmd = {
        .opcode = opcode,
        .dptr.prp1 = cpu_to_le64(buf),
        .cdw10 = cpu_to_le32(cdw10),
        .cdw11 = cpu_to_le32(cdw11),
    };
    QTestState *qts = n->dev.bus->qts;
    uint16_t status;

    if (opcode == NVME_ADM_CMD_SET_FEATURES) {
        qtest_memwrite(qts, buf, data, len);
    }
    status = qnvme_cmd(n, 0, &cmd, NULL);
    if (opcode == NVME_ADM_CMD_GET_FEATURES) {
        qtest_memread(qts, buf, data, len);
    }
    return status;
}

static void test_features_more(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    const uint8_t get = NVME_ADM_CMD_GET_FEATURES;
    const uint8_t set = NVME_ADM_CMD_SET_FEATURES;
    const uint8_t hid = NVME_FEAT_HOST_IDENTIFIER;
    uint8_t id[16], back[16];
    uint32_t dw0;

    /* Host Identifier: 128-bit with EXHID, read back only at that size. */
    for (int i = 0; i < 16; i++) {
        id[i] = 0xa0 + i;
    }
    g_assert_cmphex(feature_data(n, set, hid, 1, id, 16), ==, 0);
    g_assert_cmphex(feature_data(n, get, hid, 1, back, 16), ==, 0);
    g_assert_cmpmem(back, 16, id, 16);
    g_assert_cmphex(feature_data(n, get, hid, 0, back, 8), ==,
                    NVME_SC_HOST_ID_INCONSISTENT | NVME_SC_DNR);
    g_assert_cmphex(feature_data(n, set, hid, 0, id, 8), ==, 0);
    g_assert_cmphex(feature_data(n, get, hid, 0, back, 8), ==, 0);
    g_assert_cmpmem(back, 8, id, 8);

    /* Keep Alive Timer: rounded up to KAS (100 ms). */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_KEEP_ALIVE_TIMER, 1234,
                                   &dw0), ==, 0);
    g_assert_cmphex(qnvme_features(n, get, NVME_FEAT_KEEP_ALIVE_TIMER, 0, &dw0),
                    ==, 0);
    g_assert_cmpuint(dw0, ==, 1300);
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_KEEP_ALIVE_TIMER,
                                   UINT32_MAX, &dw0), ==, 0);
    g_assert_cmpuint(dw0, ==, 4294967200u);

    /* Command Set Profile: only combination 0 exists. */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_COMMAND_SET_PROFILE, 1,
                                   NULL), ==,
                    NVME_SC_IOCS_COMBINATION_REJECTED | NVME_SC_DNR);
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_COMMAND_SET_PROFILE, 0,
                                   NULL), ==, 0);

    /* Supported capabilities: changeable, not saveable. */
    g_assert_cmphex(qnvme_features(n, get, NVME_FEAT_ARBITRATION |
                             (NVME_GETFEAT_SELECT_CAP << 8), 0, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, NVME_FEAT_CAP_CHANGE);

    /* The host identity cannot change once I/O queues exist. */
    qnvme_create_io_queue_pair(n, 1, 8);
    g_assert_cmphex(feature_data(n, set, hid, 0, id, 8), ==,
                    NVME_SC_COMMAND_SEQUENCE_ERROR | NVME_SC_DNR);
}

static void test_error_log(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeErrorLog *log = g_new0(NvmeErrorLog, 64);
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpuint(id->elpe, ==, 15);

    qnvme_create_io_queue_pair(n, 1, 8);
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, QNVME_TEST_NLBAS, 1,
                             buf, 0), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log,
                                  16 * sizeof(*log)), ==, 0);
    /* The newest entry first: the out-of-range read. */
    g_assert_cmpuint(le64_to_cpu(log[0].error_count), >=, 1);
    g_assert_cmpuint(le16_to_cpu(log[0].sqid), ==, 1);
    g_assert_cmphex(le16_to_cpu(log[0].status_field) >> 1, ==,
                    NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR);
    g_assert_cmpuint(le64_to_cpu(log[0].lba), ==, QNVME_TEST_NLBAS);
    g_assert_cmpuint(le32_to_cpu(log[0].nsid), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log[1].error_count), <,
                     le64_to_cpu(log[0].error_count));
}

/* Format NVM (Base 5.23) */

static uint16_t format(QNvme *n, uint32_t nsid, uint32_t cdw10)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_FORMAT_NVM,
        .nsid = cpu_to_le32(nsid),
        .cdw10 = cpu_to_le32(cdw10),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static void test_format(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint64_t buf = qnvme_alloc(n, 2 * QNVME_PAGE_SIZE);
    uint8_t pattern[4096], back[4096];
    const uint16_t dnr = NVME_SC_DNR;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    /* 512 B and 4 KiB, then six formats with metadata */
    g_assert_cmpuint(id->nlbaf, ==, 7);
    g_assert_cmpuint(id->lbaf[0].ds, ==, 9);
    g_assert_cmpuint(id->lbaf[1].ds, ==, 12);
    g_assert_cmpuint(id->lbaf[0].ms, ==, 0);
    g_assert_cmpuint(le16_to_cpu(id->lbaf[2].ms), ==, 8);
    g_assert_cmpuint(NVME_ID_NS_FLBAS_INDEX(id->flbas), ==, 0);

    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 3 + 1;
    }
    qnvme_create_io_queue_pair(n, 1, 8);
    qtest_memwrite(qts, buf, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_WRITE, 1, 0, 8, buf, 0), ==, 0);

    /* Errors first: nothing changes. */
    g_assert_cmphex(format(n, 1, 8), ==, NVME_SC_INVALID_FORMAT | dnr);
    g_assert_cmphex(format(n, 1, 1 | (1 << 5)), ==,
                    NVME_SC_INVALID_FORMAT | dnr);
    g_assert_cmphex(format(n, 1, 1 | (3 << 9)), ==,
                    NVME_SC_INVALID_FIELD | dnr);
    g_assert_cmphex(format(n, 2, 1), ==, NVME_SC_INVALID_NAMESPACE | dnr);
    g_assert_cmphex(format(n, 0, 1), ==, NVME_SC_INVALID_NAMESPACE | dnr);

    /* 4 KiB blocks, no erase: the bytes stay. */
    g_assert_cmphex(format(n, 1, 1), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(NVME_ID_NS_FLBAS_INDEX(id->flbas), ==, 1);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, QNVME_TEST_NLBAS / 8);
    qtest_memset(qts, buf, 0, sizeof(back));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 1, buf, 0), ==, 0);
    qtest_memread(qts, buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, QNVME_TEST_NLBAS / 8, 1,
                             buf, 0), ==, NVME_SC_LBA_OUT_OF_RANGE | dnr);

    /* Back to 512 bytes, with a user data erase, on all namespaces. */
    g_assert_cmphex(format(n, NVME_NSID_BROADCAST, 0 | (1 << 9)), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, QNVME_TEST_NLBAS);
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 8, buf, 0), ==, 0);
    qtest_memread(qts, buf, back, sizeof(back));
    memset(pattern, 0, sizeof(pattern));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
}

/* Namespace 1 of 4 KiB, namespace 2 of 512 bytes */
static void *tiny_namespaces_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                           " -drive id=nvm0,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=nvm0,bus=nvme0,nsid=1"
                           " -drive id=nvm1,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=nvm1,bus=nvme0,nsid=2",
                           qnvme_tmp_image(4096), qnvme_tmp_image(512));
    return arg;
}

static void assert_ns_format(QNvme *n, uint32_t nsid, uint8_t flbas,
                             uint64_t nsze)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, nsid, 0, id), ==, 0);
    g_assert_cmphex(id->flbas, ==, flbas);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, nsze);
    g_assert_cmpuint(le64_to_cpu(id->ncap), ==, nsze);
}

/*
 * A format whose blocks and their metadata do not fit one block in the
 * backend is an Invalid Format, extended LBAs or not, and changes nothing
 * (Base 5.23: the format is not supported for that namespace).
 */
static void test_format_no_blocks(void *obj, void *data,
                                  QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    const uint16_t invalid = NVME_SC_INVALID_FORMAT | NVME_SC_DNR;
    const uint32_t ses = 1 << 9, mset = 1 << 4;
    uint8_t pattern[512], back[512];

    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i ^ 0x5a;
    }
    qnvme_create_io_queue_pair(n, 1, 8);
    qtest_memwrite(qts, buf, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_WRITE, 1, 0, 1, buf, 0), ==, 0);
    assert_ns_format(n, 1, 0, 8);
    assert_ns_format(n, 2, 0, 1);

    /* 4 KiB + 8, 16 or 64 bytes of metadata in a 4 KiB backend */
    for (uint32_t lbaf = 5; lbaf <= 7; lbaf++) {
        g_assert_cmphex(format(n, 1, lbaf), ==, invalid);
        g_assert_cmphex(format(n, 1, lbaf | mset | ses), ==, invalid);
        g_assert_cmphex(format(n, 1, lbaf | (1 << 5)), ==, invalid);
    }
    /* 512 + 8, 16 or 64 bytes, or 4 KiB, in a 512-byte backend */
    for (uint32_t lbaf = 1; lbaf <= 4; lbaf++) {
        g_assert_cmphex(format(n, 2, lbaf), ==, invalid);
        g_assert_cmphex(format(n, 2, lbaf | mset), ==, invalid);
    }
    /* Fits namespace 1, not namespace 2: neither changes */
    g_assert_cmphex(format(n, NVME_NSID_BROADCAST, 2 | ses), ==, invalid);
    assert_ns_format(n, 1, 0, 8);
    assert_ns_format(n, 2, 0, 1);
    qtest_memset(qts, buf, 0, sizeof(back));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 1, buf, 0), ==, 0);
    qtest_memread(qts, buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 7, 1, buf, 0), ==, 0);

    /* What fits still formats: one 4 KiB block, seven 512 + 64 ones */
    g_assert_cmphex(format(n, 1, 1), ==, 0);
    assert_ns_format(n, 1, 1, 1);
    g_assert_cmphex(format(n, 1, 4 | mset), ==, 0);
    assert_ns_format(n, 1, 4 | mset, 7);
    g_assert_cmphex(format(n, 1, 7), ==, invalid);
    assert_ns_format(n, 1, 4 | mset, 7);
}

/* Firmware (Base 5.11, 5.12) */

static uint16_t fw_download(QNvme *n, const char *data, uint32_t len,
                            uint32_t offset)
{
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_FW_DOWNLOAD,
        .dptr.prp1 = cpu_to_le64(buf),
        .cdw10 = cpu_to_le32(len / 4 - 1),
        .cdw11 = cpu_to_le32(offset / 4),
    };

    qtest_memwrite(n->dev.bus->qts, buf, data, len);
    return qnvme_cmd(n, 0, &cmd, NULL);
}

static uint16_t fw_commit(QNvme *n, uint8_t slot, uint8_t action)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_FW_COMMIT,
        .cdw10 = cpu_to_le32(slot | (action << 3)),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static void test_firmware(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeFwSlotInfoLog *log = g_new0(NvmeFwSlotInfoLog, 1);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    const uint16_t dnr = NVME_SC_DNR;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(id->frmw, ==, 1 | (3 << 1) | (1 << 4));
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmphex(log->afi, ==, 1);
    g_assert_cmpmem(log->frs[0], 3, "1.0", 3);

    g_assert_cmphex(fw_commit(n, 2, NVME_FW_COMMIT_REPLACE), ==,
                    NVME_SC_INVALID_FW_IMAGE | dnr);
    g_assert_cmphex(fw_download(n, "QEMUFW02", 8, 0), ==, 0);
    g_assert_cmphex(fw_download(n, "more....", 8, 8), ==, 0);
    g_assert_cmphex(fw_download(n, "gap.", 4, 32), ==,
                    NVME_SC_OVERLAPPING_RANGE | dnr);
    g_assert_cmphex(fw_commit(n, 1, NVME_FW_COMMIT_REPLACE), ==,
                    NVME_SC_INVALID_FW_SLOT | dnr);
    g_assert_cmphex(fw_commit(n, 4, NVME_FW_COMMIT_REPLACE), ==,
                    NVME_SC_INVALID_FW_SLOT | dnr);
    g_assert_cmphex(fw_commit(n, 2, NVME_FW_COMMIT_REPLACE_AND_ACTIVATE),
                    ==, 0);
    g_assert_cmphex(fw_commit(n, 3, NVME_FW_COMMIT_ACTIVATE), ==,
                    NVME_SC_INVALID_FW_IMAGE | dnr);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmphex(log->afi, ==, 1 | (2 << 4));
    g_assert_cmpmem(log->frs[1], 8, "QEMUFW02", 8);

    /* Activated by a Controller Level Reset */
    g_assert_true(qnvme_enable(n, 8, 0));
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpmem(id->fr, 8, "QEMUFW02", 8);

    /* Replace and activate at once */
    g_assert_cmphex(fw_download(n, "QEMUFW03", 8, 0), ==, 0);
    g_assert_cmphex(fw_commit(n, 3, NVME_FW_COMMIT_ACTIVATE_NOW), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpmem(id->fr, 8, "QEMUFW03", 8);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmphex(log->afi, ==, 3);
    /* Boot partitions are not supported. */
    g_assert_cmphex(fw_commit(n, 0, 6), ==, NVME_SC_INVALID_FIELD | dnr);
}

/* A download whose transfer fails: PRP1 not dword aligned */
static uint16_t fw_download_bad_prp(QNvme *n, uint32_t len, uint32_t offset)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_FW_DOWNLOAD,
        .dptr.prp1 = cpu_to_le64(qnvme_alloc(n, QNVME_PAGE_SIZE) + 1),
        .cdw10 = cpu_to_le32(len / 4 - 1),
        .cdw11 = cpu_to_le32(offset / 4),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

/*
 * A piece that fails leaves the image staged so far as it was: a commit
 * after it places exactly that image (revision: its CRC-32C, as it does
 * not start with printable bytes). Commit Action 011b without a newly
 * downloaded image activates the image already in the slot.
 */
static void test_firmware_failed_download(void *obj, void *data,
                                          QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeFwSlotInfoLog *log = g_new0(NvmeFwSlotInfoLog, 1);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree uint8_t *image = g_malloc(2 * QNVME_PAGE_SIZE);
    const uint16_t bad_prp = NVME_SC_INVALID_PRP_OFFSET | NVME_SC_DNR;
    char rev[9];

    for (int i = 0; i < 2 * QNVME_PAGE_SIZE; i++) {
        image[i] = i * 7 + (i >> 8);
    }
    snprintf(rev, sizeof(rev), "%08x", crc32c(0, image, 2 * QNVME_PAGE_SIZE));

    g_assert_cmphex(fw_download(n, (char *)image, QNVME_PAGE_SIZE, 0), ==, 0);
    /* A new image that fails at once, then an append that fails */
    g_assert_cmphex(fw_download_bad_prp(n, 8, 0), ==, bad_prp);
    g_assert_cmphex(fw_download_bad_prp(n, 16, QNVME_PAGE_SIZE), ==,
                    bad_prp);
    g_assert_cmphex(fw_download(n, (char *)image + QNVME_PAGE_SIZE,
                                QNVME_PAGE_SIZE, QNVME_PAGE_SIZE), ==, 0);
    g_assert_cmphex(fw_download_bad_prp(n, 4, 2 * QNVME_PAGE_SIZE), ==,
                    bad_prp);
    g_assert_cmphex(fw_commit(n, 2, NVME_FW_COMMIT_REPLACE), ==, 0);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmpmem(log->frs[1], 8, rev, 8);

    /* Committed: nothing staged any more, a failed piece does not change it */
    g_assert_cmphex(fw_download_bad_prp(n, 8, 0), ==, bad_prp);
    g_assert_cmphex(fw_commit(n, 3, NVME_FW_COMMIT_REPLACE), ==,
                    NVME_SC_INVALID_FW_IMAGE | NVME_SC_DNR);

    /* 011b, nothing downloaded: slot 2's image runs, slot 2 unchanged */
    g_assert_cmphex(fw_commit(n, 2, NVME_FW_COMMIT_ACTIVATE_NOW), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpmem(id->fr, 8, rev, 8);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmphex(log->afi, ==, 2);
    g_assert_cmpmem(log->frs[1], 8, rev, 8);
    /* ... and back to the built-in image of slot 1, or an empty slot */
    g_assert_cmphex(fw_commit(n, 1, NVME_FW_COMMIT_ACTIVATE_NOW), ==, 0);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpmem(id->fr, 3, "1.0", 3);
    g_assert_cmphex(fw_commit(n, 3, NVME_FW_COMMIT_ACTIVATE_NOW), ==,
                    NVME_SC_INVALID_FW_IMAGE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_FW_SLOT_INFO, 0, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmphex(log->afi, ==, 1);
}

/* Doorbell Buffer Config (Base 5.8) */

static uint16_t dbbuf_config(QNvme *n, uint64_t dbs, uint64_t eis)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_DBBUF_CONFIG,
        .dptr.prp1 = cpu_to_le64(dbs),
        .dptr.prp2 = cpu_to_le64(eis),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

/* Queues a flush on SQ 1 and publishes it in the shadow doorbell only. */
static uint16_t shadow_submit(QNvme *n, uint64_t dbs)
{
    QTestState *qts = n->dev.bus->qts;
    QNvmeQueue *sq = &n->sq[1];
    NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
    uint16_t cid = ++n->next_cid;

    cmd.cid = cpu_to_le16(cid);
    qtest_memwrite(qts, sq->addr + sq->index * sizeof(cmd), &cmd,
                   sizeof(cmd));
    sq->index = (sq->index + 1) % sq->size;
    qtest_writel(qts, dbs + 8, sq->index);
    return cid;
}

static void test_shadow_doorbells(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    uint64_t dbs = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t eis = qnvme_alloc(n, QNVME_PAGE_SIZE);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    NvmeCqe cqe;
    uint16_t cid;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_true(le16_to_cpu(id->oacs) & NVME_OACS_DBBUF);
    g_assert_cmphex(dbbuf_config(n, dbs + 8, eis), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(dbbuf_config(n, dbs, 0), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(dbbuf_config(n, dbs, eis), ==, 0);
    qnvme_create_io_queue_pair(n, 1, 8);

    /* The tail comes from the shadow; the MMIO value does not matter. */
    cid = shadow_submit(n, dbs);
    qnvme_writel(n, NVME_REG_DBS + 8, 0);
    g_assert_true(qnvme_poll(n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    /* The controller published the tail it has seen as the EventIdx. */
    g_assert_cmpuint(qtest_readl(qts, eis + 8), ==, 1);

    /* Two more, one doorbell; they may complete in either order. */
    cid = shadow_submit(n, dbs);
    shadow_submit(n, dbs);
    qnvme_writel(n, NVME_REG_DBS + 8, 0);
    g_assert_true(qnvme_poll(n, 1, &cqe));
    cid ^= le16_to_cpu(cqe.cid);
    g_assert_true(qnvme_poll(n, 1, &cqe));
    cid ^= le16_to_cpu(cqe.cid);
    g_assert_cmpuint(cid, ==, n->next_cid);
    g_assert_cmpuint(qtest_readl(qts, eis + 8), ==, 3);

    /* The admin queue keeps its MMIO doorbells. */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
}

/* Resets with I/O in flight (Base 3.7.2): drained, nothing posted after. */

/* The same tests with the I/O queues in an iothread */
static void *iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void *slow_namespace_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line,
                    " -blockdev null-co,node-name=slow,size=16777216,"
                    "latency-ns=200000000,read-zeroes=on"
                    " -device nvme-ns,drive=slow,bus=nvme0,nsid=1");
    return arg;
}

static void *slow_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return slow_namespace_setup(cmd_line, arg);
}

static void submit_reads(QNvme *n, uint16_t qid, int count, uint64_t buf)
{
    for (int i = 0; i < count; i++) {
        NvmeCmd cmd = {
            .opcode = NVME_CMD_READ,
            .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(buf),
            .cdw10 = cpu_to_le32(i * 8),
            .cdw12 = cpu_to_le32(7),
        };

        qnvme_submit(n, qid, &cmd);
    }
}

static void test_reset_in_flight(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t cq_ring;
    uint8_t ring[16 * 16], zero[sizeof(ring)] = {};
    NvmeCqe cqe;

    qnvme_create_io_queue_pair(n, 1, 16);
    cq_ring = n->cq[1].addr;
    submit_reads(n, 1, 8, buf);
    /* Disable while the reads wait in the backend. */
    qnvme_writel(n, NVME_REG_CC, qnvme_readl(n, NVME_REG_CC) & ~1u);
    g_assert_true(qnvme_wait_ready(n, false));
    qtest_clock_step(qts, 1000000000);
    qtest_memread(qts, cq_ring, ring, sizeof(ring));
    g_assert_cmpmem(ring, sizeof(ring), zero, sizeof(zero));

    /* The controller comes back clean. */
    n = enabled(obj);
    qnvme_create_io_queue_pair(n, 1, 16);
    submit_reads(n, 1, 2, buf);
    g_assert_true(qnvme_poll(n, 1, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_true(qnvme_poll(n, 1, &cqe));

    /* Deleting an SQ with reads in flight, then its CQ, works too. */
    submit_reads(n, 1, 4, buf);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_SQ, 1), ==, 0);
    g_assert_cmphex(delete_queue(n, NVME_ADM_CMD_DELETE_CQ, 1), ==, 0);
    {
        g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

        g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    }
}

/*
 * Reads that wait in the backend: each one keeps the coroutine it started
 * in, and the round goes on in a new one. All must complete, once each,
 * with their data in place.
 */
static void test_io_handoff(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    const int count = 12;
    uint64_t buf = qnvme_alloc(n, count * QNVME_PAGE_SIZE);
    g_autofree uint8_t *page = g_malloc(QNVME_PAGE_SIZE);
    g_autofree uint8_t *zero = g_malloc0(QNVME_PAGE_SIZE);
    uint32_t seen = 0;
    uint16_t first;

    qnvme_create_io_queue_pair(n, 1, 16);
    memset(page, 0xa5, QNVME_PAGE_SIZE);
    for (int i = 0; i < count; i++) {
        qtest_memwrite(qts, buf + i * QNVME_PAGE_SIZE, page,
                       QNVME_PAGE_SIZE);
    }
    first = n->next_cid + 1;    /* qnvme_submit numbers from next_cid + 1 */
    for (int i = 0; i < count; i++) {
        NvmeCmd cmd = {
            .opcode = NVME_CMD_READ,
            .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(buf + i * QNVME_PAGE_SIZE),
            .cdw10 = cpu_to_le32(i * 8),
            .cdw12 = cpu_to_le32(7),
        };

        qnvme_submit(n, 1, &cmd);
    }
    for (int i = 0; i < count; i++) {
        NvmeCqe cqe;
        uint16_t bit;

        g_assert_true(qnvme_poll(n, 1, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        bit = (uint16_t)(le16_to_cpu(cqe.cid) - first);
        g_assert_cmpuint(bit, <, count);
        g_assert_false(seen & (1u << bit));
        seen |= 1u << bit;
    }
    for (int i = 0; i < count; i++) {
        qtest_memread(qts, buf + i * QNVME_PAGE_SIZE, page, QNVME_PAGE_SIZE);
        g_assert_cmpmem(page, QNVME_PAGE_SIZE, zero, QNVME_PAGE_SIZE);
    }
}

/*
 * Data with no memory behind it: the DMA API hands out its one bounce
 * buffer and then nothing. It is not RAM, so it is not retried through
 * dma-helpers either (which maps outside the device's re-entrancy guard):
 * the command fails with Data Transfer Error and the queue goes on.
 */
static void test_io_unmappable(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    const uint64_t nowhere = 0x400000000ULL;     /* far above guest RAM */

    qnvme_create_io_queue_pair(n, 1, 16);
    for (int i = 0; i < 3; i++) {
        g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 16, nowhere,
                                 nowhere + QNVME_PAGE_SIZE), ==,
                        NVME_SC_DATA_TRANSFER_ERROR);
        g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_WRITE, 1, 0, 16, nowhere,
                                 nowhere + QNVME_PAGE_SIZE), ==,
                        NVME_SC_DATA_TRANSFER_ERROR);
    }
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 8, buf, 0), ==, 0);
}

/* Abort (Base 5.1) */

static uint16_t submit_abort(QNvme *n, uint16_t sqid, uint16_t cid)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_ABORT,
        .cdw10 = cpu_to_le32(sqid | (uint32_t)cid << 16),
    };

    return qnvme_submit(n, 0, &cmd);
}

/* Aborts, and returns DW0 bit 0: 1 when the command was not aborted. */
static uint32_t abort_cmd(QNvme *n, uint16_t sqid, uint16_t cid)
{
    NvmeCqe cqe;
    uint16_t abort_cid = submit_abort(n, sqid, cid);

    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, abort_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    return le32_to_cpu(cqe.result) & 1;
}

static void test_abort(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    uint16_t victim, aer_cid, abort_cid;
    bool saw_victim = false, saw_other = false;
    NvmeCqe cqe;

    qnvme_create_io_queue_pair(n, 1, 16);
    /* Two reads wait in the backend; the second one is aborted. */
    submit_reads(n, 1, 2, buf);
    victim = n->next_cid;
    g_assert_cmpuint(abort_cmd(n, 1, victim), ==, 0);
    /* Not again, nor a command nobody submitted, nor on a missing SQ. */
    g_assert_cmpuint(abort_cmd(n, 1, victim), ==, 1);
    g_assert_cmpuint(abort_cmd(n, 1, 0xbeef), ==, 1);
    g_assert_cmpuint(abort_cmd(n, 5, victim), ==, 1);
    for (int i = 0; i < 2; i++) {
        uint16_t sc;

        g_assert_true(qnvme_poll(n, 1, &cqe));
        sc = le16_to_cpu(cqe.status) >> 1;
        if (le16_to_cpu(cqe.cid) == victim) {
            g_assert_cmphex(sc, ==, NVME_SC_ABORT_REQUESTED);
            saw_victim = true;
        } else {
            g_assert_cmphex(sc, ==, 0);
            saw_other = true;
        }
    }
    g_assert_true(saw_victim && saw_other);

    /* An outstanding AER completes first, then the Abort. */
    aer_cid = qnvme_submit(n, 0, &aer);
    abort_cid = submit_abort(n, 0, aer_cid);
    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, aer_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_ABORT_REQUESTED);
    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, abort_cid);
    g_assert_cmphex(le32_to_cpu(cqe.result) & 1, ==, 0);
    /* A finished command is not aborted; the queue still works. */
    g_assert_cmpuint(abort_cmd(n, 1, victim), ==, 1);
    submit_reads(n, 1, 1, buf);
    g_assert_true(qnvme_poll(n, 1, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
}

/* Interrupt coalescing (Base 5.27.1.9, 5.27.1.10) and arbitration burst */

static void flushes(QNvme *n, uint16_t qid, int count)
{
    NvmeCqe cqe;

    for (int i = 0; i < count; i++) {
        NvmeCmd cmd = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };

        qnvme_submit(n, qid, &cmd);
    }
    for (int i = 0; i < count; i++) {
        g_assert_true(qnvme_poll(n, qid, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    }
}

static void test_coalescing(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = obj;
    QTestState *qts = n->dev.bus->qts;
    const uint8_t set = NVME_ADM_CMD_SET_FEATURES;
    uint32_t dw0;

    /* MSI-X on, every vector masked: an interrupt sets its pending bit. */
    qpci_msix_enable(&n->dev);
    /* The MSI-X table is in BAR0, which qpci_msix_enable() mapped anew. */
    n->bar = n->dev.msix_table_bar;
    g_assert_true(qnvme_enable(n, 16, 0));
    qnvme_create_io_queue_pair_irq(n, 1, 16, 1);
    qnvme_create_io_queue_pair_irq(n, 2, 16, 2);
    qnvme_create_io_queue_pair_irq(n, 3, 16, 3);

    /* Threshold 4 entries, time 10 ms */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_INTERRUPT_COALESCING,
                             3 | (100 << 8), NULL), ==, 0);
    flushes(n, 1, 2);
    g_assert_false(qpci_msix_pending(&n->dev, 1));
    qtest_clock_step(qts, 20 * 1000 * 1000);
    g_assert_true(qpci_msix_pending(&n->dev, 1));

    /* Reaching the threshold interrupts at once. */
    flushes(n, 3, 4);
    g_assert_true(qpci_msix_pending(&n->dev, 3));

    /* Coalescing Disable on vector 2 */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_INTERRUPT_VECTOR_CONF,
                             2 | (1 << 16), NULL), ==, 0);
    g_assert_cmphex(qnvme_features(n, NVME_ADM_CMD_GET_FEATURES,
                             NVME_FEAT_INTERRUPT_VECTOR_CONF, 2, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 2 | (1 << 16));
    flushes(n, 2, 1);
    g_assert_true(qpci_msix_pending(&n->dev, 2));
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_INTERRUPT_VECTOR_CONF,
                             (1 << 16), NULL), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);

    /* Arbitration burst of one command still drains a busy queue. */
    g_assert_cmphex(qnvme_features(n, set, NVME_FEAT_ARBITRATION, 0, NULL), ==,
                    0);
    flushes(n, 1, 12);
    qpci_msix_disable(&n->dev);
}

/* Namespace hot-plug: Namespace Attribute Changed and its log page */

static uint32_t expect_ns_changed_event(QNvme *n, uint16_t aer_cid)
{
    g_autofree uint32_t *list = g_new0(uint32_t, 1024);
    NvmeCqe cqe;

    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, aer_cid);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_NOTICE,
                                    NVME_AER_NOTICE_NS_ATTR_CHANGED,
                                    NVME_LOG_CHANGED_NSLIST));
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_CHANGED_NSLIST, 0, list, 4096),
                    ==, 0);
    g_assert_cmpuint(list[1], ==, 0);
    return le32_to_cpu(list[0]);
}

static void test_ns_hotplug(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    g_autofree uint32_t *list = g_new0(uint32_t, 1024);
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    NvmeCqe cqe;

    /* Namespace Attribute Notices on (Asynchronous Event Configuration) */
    g_assert_cmphex(qnvme_features(n, NVME_ADM_CMD_SET_FEATURES,
                             NVME_FEAT_ASYNCHRONOUS_EVENT_CONF, 1 << 8, NULL),
                    ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'blockdev-add', 'arguments': "
                             "{'driver': 'null-co', 'node-name': 'hot', "
                             "'size': 1048576}}");
    qtest_qmp_device_add(qts, "nvme-ns", "ns2",
                         "{'drive': 'hot', 'bus': 'nvme0', 'nsid': 2}");
    g_assert_cmpuint(expect_ns_changed_event(n, qnvme_submit(n, 0, &aer)),
                     ==, 2);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0, list),
                    ==, 0);
    g_assert_cmpuint(le32_to_cpu(list[1]), ==, 2);

    /* Read, the list is empty again; unplug adds the NSID back. */
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_CHANGED_NSLIST, 0, list, 4096),
                    ==, 0);
    g_assert_cmpuint(list[0], ==, 0);
    qtest_qmp_device_del(qts, "ns2");
    g_assert_cmpuint(expect_ns_changed_event(n, qnvme_submit(n, 0, &aer)),
                     ==, 2);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0, list),
                    ==, 0);
    g_assert_cmpuint(list[1], ==, 0);
    g_assert_false(qnvme_poll(n, 0, &cqe));
}

/*
 * Hostile input: commands with random opcodes and fields, data pointers
 * into a scratch area (PRP or SGL, aligned or not). Every command must
 * complete, and the controller must stay usable. Commands that would take
 * the test's own queues away, or never complete by design, are skipped.
 */
#define FUZZ_NVM_IO_OPS     9

static bool fuzz_skip_admin(uint8_t opcode)
{
    return opcode == NVME_ADM_CMD_DELETE_SQ ||
           opcode == NVME_ADM_CMD_DELETE_CQ ||
           opcode == NVME_ADM_CMD_ASYNC_EV_REQ ||
           opcode == NVME_ADM_CMD_DBBUF_CONFIG ||
           opcode == NVME_ADM_CMD_FORMAT_NVM;
}

/*
 * One random command; with all_sets, also those of the Zoned command set
 * and the reservations, for namespaces 1-5 (see fuzz_namespaces_setup).
 */
static void fuzz_command(GRand *rand, NvmeCmd *cmd, uint64_t scratch,
                         bool admin, bool all_sets)
{
    uint32_t dw[sizeof(*cmd) / 4];

    for (int i = 0; i < ARRAY_SIZE(dw); i++) {
        dw[i] = g_rand_int(rand);
    }
    memcpy(cmd, dw, sizeof(*cmd));
    static const uint8_t admin_ops[] = {
        NVME_ADM_CMD_CREATE_SQ, NVME_ADM_CMD_GET_LOG_PAGE,
        NVME_ADM_CMD_CREATE_CQ, NVME_ADM_CMD_IDENTIFY, NVME_ADM_CMD_ABORT,
        NVME_ADM_CMD_SET_FEATURES, NVME_ADM_CMD_GET_FEATURES,
        NVME_ADM_CMD_FW_COMMIT, NVME_ADM_CMD_FW_DOWNLOAD,
        NVME_ADM_CMD_KEEP_ALIVE, NVME_ADM_CMD_GET_LBA_STATUS,
    };
    static const uint8_t io_ops[] = {
        NVME_CMD_FLUSH, NVME_CMD_WRITE, NVME_CMD_READ, NVME_CMD_WRITE_UNCOR,
        NVME_CMD_COMPARE, NVME_CMD_WRITE_ZEROES, NVME_CMD_DSM,
        NVME_CMD_VERIFY, NVME_CMD_COPY,
        /* FUZZ_NVM_IO_OPS above; with all_sets, these too */
        NVME_CMD_ZONE_APPEND, NVME_CMD_ZONE_MGMT_SEND,
        NVME_CMD_ZONE_MGMT_RECV, NVME_CMD_RESV_REGISTER,
        NVME_CMD_RESV_ACQUIRE, NVME_CMD_RESV_RELEASE, NVME_CMD_RESV_REPORT,
    };
    int nr_io_ops = all_sets ? ARRAY_SIZE(io_ops) : FUZZ_NVM_IO_OPS;

    do {
        /* Half the time an implemented opcode, to get past dispatch. */
        if (g_rand_boolean(rand)) {
            cmd->opcode = g_rand_int_range(rand, 0, 256);
        } else if (admin) {
            cmd->opcode = admin_ops[g_rand_int_range(rand, 0,
                                                     ARRAY_SIZE(admin_ops))];
        } else {
            cmd->opcode = io_ops[g_rand_int_range(rand, 0, nr_io_ops)];
        }
    } while (admin && fuzz_skip_admin(cmd->opcode));
    cmd->flags &= 0xc0;         /* no fused operations */
    if (g_rand_boolean(rand) || all_sets) {
        cmd->nsid = cpu_to_le32(g_rand_int_range(rand, 0, all_sets ? 7 : 3));
    }
    /* Data and metadata pointers land in the scratch area, in RAM. */
    cmd->mptr = cpu_to_le64(scratch + 32768 + g_rand_int_range(rand, 0, 8192));
    cmd->dptr.prp1 = cpu_to_le64(scratch + g_rand_int_range(rand, 0, 8192));
    cmd->dptr.prp2 = cpu_to_le64(scratch + 16384 +
                                 (g_rand_int_range(rand, 0, 4) << 12));
    if (g_rand_int_range(rand, 0, 4) == 0) {
        /* Small transfers mostly: keep the run short. */
        cmd->cdw12 = cpu_to_le32(le32_to_cpu(cmd->cdw12) & 0xffff000f);
    }
}

static void fuzz_run(void *obj, bool all_sets)
{
    QNvme *n = enabled(obj);
    QTestState *qts = n->dev.bus->qts;
    uint64_t scratch = qnvme_alloc(n, 64 * 1024);
    /* A fixed seed by default; NVME_FUZZ_SEED explores others. */
    const char *seed = g_getenv("NVME_FUZZ_SEED");
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed ? atoi(seed)
                                                      : 0x4e564d65);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree uint8_t *junk = g_malloc(64 * 1024);

    /* Random bytes in the scratch area: lists and descriptors are junk. */
    for (int i = 0; i < 64 * 1024; i++) {
        junk[i] = g_rand_int(rand);
    }
    qtest_memwrite(qts, scratch, junk, 64 * 1024);
    qnvme_create_io_queue_pair(n, 1, 64);

    for (int i = 0; i < 1500; i++) {
        bool admin = g_rand_int_range(rand, 0, 3) == 0;
        NvmeCmd cmd;
        NvmeCqe cqe;

        fuzz_command(rand, &cmd, scratch, admin, all_sets);
        qnvme_submit(n, admin ? 0 : 1, &cmd);
        g_assert_true(qnvme_poll(n, admin ? 0 : 1, &cqe));
        /* Random queue creation may fill slots; keep the table small. */
        if (admin && (cmd.opcode == NVME_ADM_CMD_CREATE_SQ ||
                      cmd.opcode == NVME_ADM_CMD_CREATE_CQ)) {
            g_assert_false(NVME_CSTS_CFS(qnvme_readl(n, NVME_REG_CSTS)));
        }
    }
    g_assert_false(NVME_CSTS_CFS(qnvme_readl(n, NVME_REG_CSTS)));
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    if (all_sets) {
        /* Random features may have set DULBE or write protection: flush */
        g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_FLUSH, 1, 0, 1, 0, 0), ==, 0);
    } else {
        g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 0, 1, scratch, 0),
                        ==, 0);
    }
}

static void test_fuzz_commands(void *obj, void *data, QGuestAllocator *a)
{
    fuzz_run(obj, false);
}

/*
 * Namespaces 2-5 beside the usual 1: zoned with its state kept, 16b Guard
 * PI in a separate buffer, 64b Guard PI in extended LBAs, and reservations
 * kept in resv.state.
 */
static void *fuzz_namespaces_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
        " -drive id=fz,if=none,file=%s,format=raw"
        " -drive id=fzs,if=none,file=%s,format=raw"
        " -drive id=fp1,if=none,file=%s,format=raw"
        " -drive id=fp2,if=none,file=%s,format=raw"
        " -drive id=fr,if=none,file=%s,format=raw"
        " -drive id=frs,if=none,file=%s,format=raw"
        " -device nvme-ns,drive=fz,bus=nvme0,nsid=2,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=512K,zoned.max_open=2,"
        "zoned.max_active=3,zoned.descr_ext_size=64,zoned.state=fzs"
        " -device nvme-ns,drive=fp1,bus=nvme0,nsid=3,ms=8,pi=1"
        " -device nvme-ns,drive=fp2,bus=nvme0,nsid=4,ms=16,pi=2,pif=2,mset=1"
        " -device nvme-ns,drive=fr,bus=nvme0,nsid=5,resv.state=frs",
        qnvme_tmp_image(8 * 1024 * 1024), qnvme_tmp_image(64 * 1024),
        qnvme_tmp_image(8 * 1024 * 1024), qnvme_tmp_image(8 * 1024 * 1024),
        qnvme_tmp_image(8 * 1024 * 1024), qnvme_tmp_image(64 * 1024));
    return qnvme_setup_one_namespace(cmd_line, arg);
}

/* The same with every command set and kind of namespace */
static void test_fuzz_namespaces(void *obj, void *data, QGuestAllocator *a)
{
    fuzz_run(obj, true);
}

/* Log pages (Base 5.16) */

static void test_log_pages(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeSmartLog *smart = g_new0(NvmeSmartLog, 1);
    g_autofree NvmeEffectsLog *effects = g_new0(NvmeEffectsLog, 1);
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t reads;

    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_SMART_INFO, NVME_NSID_BROADCAST,
                                  smart, sizeof(*smart)), ==, 0);
    reads = le64_to_cpu(smart->host_read_commands[0]);
    g_assert_cmpuint(smart->available_spare, ==, 100);

    qnvme_create_io_queue_pair(n, 1, 8);
    g_assert_cmphex(rw(n, NVME_CMD_READ, 0, 8, buf, 0), ==, 0);
    g_assert_cmphex(rw(n, NVME_CMD_READ, 8, 8, buf, 0), ==, 0);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_SMART_INFO, 0, smart,
                                  sizeof(*smart)), ==, 0);
    g_assert_cmpuint(le64_to_cpu(smart->host_read_commands[0]), ==,
                     reads + 2);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_SMART_INFO, 1, smart,
                                  sizeof(*smart)), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);

    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_CMD_EFFECTS, 0, effects,
                                  sizeof(*effects)), ==, 0);
    g_assert_cmphex(le32_to_cpu(effects->acs[NVME_ADM_CMD_IDENTIFY]) &
                    NVME_CMD_EFF_CSUPP, ==, NVME_CMD_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(effects->iocs[NVME_CMD_WRITE]), ==,
                    NVME_CMD_EFF_CSUPP | NVME_CMD_EFF_LBCC);
    g_assert_cmphex(effects->acs[0x7f], ==, 0);

    g_assert_cmphex(qnvme_get_log(n, 0x7e, 0, smart, 512), ==,
                    NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR);
}

/* Asynchronous events (Base 5.2) */

static void test_aer(void *obj, void *data, QGuestAllocator *alloc)
{
    QNvme *n = enabled(obj);
    NvmeCmd cmd;
    NvmeCqe cqe;
    uint16_t cids[4], log_cid;
    bool saw_log = false, saw_event = false;

    for (int i = 0; i < 4; i++) {
        cmd = (NvmeCmd) { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
        cids[i] = qnvme_submit(n, 0, &cmd);
    }
    /* A fifth exceeds AERL + 1. */
    cmd = (NvmeCmd) { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, &cqe), ==,
                    NVME_SC_AER_LIMIT_EXCEEDED | NVME_SC_DNR);

    /* A doorbell write to a queue that does not exist raises an event. */
    qnvme_writel(n, NVME_REG_DBS + 8 * 5, 1);
    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_ERROR,
                                    NVME_AER_ERR_INVALID_DB_REGISTER,
                                    NVME_LOG_ERROR_INFO));
    g_assert_true(cqe.cid == cpu_to_le16(cids[3]) ||
                  cqe.cid == cpu_to_le16(cids[0]));

    /* Masked until the log page is read: a second error stays pending. */
    qnvme_writel(n, NVME_REG_DBS + 4, 1000);   /* admin CQ head too big */
    g_assert_false(qnvme_poll(n, 0, &cqe));
    cmd = (NvmeCmd) {
        .opcode = NVME_ADM_CMD_GET_LOG_PAGE,
        .dptr.prp1 = cpu_to_le64(qnvme_alloc(n, QNVME_PAGE_SIZE)),
        .cdw10 = cpu_to_le32(NVME_LOG_ERROR_INFO | (15 << 16)),
    };
    log_cid = qnvme_submit(n, 0, &cmd);
    for (int i = 0; i < 2; i++) {
        g_assert_true(qnvme_poll(n, 0, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        if (le16_to_cpu(cqe.cid) == log_cid) {
            saw_log = true;
        } else {
            saw_event = true;
            g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                            NVME_AER_RESULT(NVME_AER_TYPE_ERROR,
                                            NVME_AER_ERR_INVALID_DB_VALUE,
                                            NVME_LOG_ERROR_INFO));
        }
    }
    g_assert_true(saw_log && saw_event);
}

/* mdts=1 on the controller: transfers up to 8 KiB */
static void *mdts_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.mdts=1");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

/*
 * MDTS counts in minimum memory pages (CAP.MPSMIN, 4 KiB) whatever page
 * size CC.MPS enables: with 8 KiB pages the limit is still 8 KiB.
 */
static void test_mdts_units(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_GET_LOG_PAGE,
        .nsid = cpu_to_le32(NVME_NSID_BROADCAST),
        /* Error Information, 12 KiB */
        .cdw10 = cpu_to_le32(NVME_LOG_ERROR_INFO | ((12288 / 4 - 1) << 16)),
    };

    /*
     * CC.MPS (bits 10:7) = 1: 8 KiB pages, CC.CSS NVM. The admin queues
     * (8 KiB each with 128 entries) must be 8 KiB aligned: the allocator
     * hands out pages in order, so pad to an odd page first.
     */
    if (!(qnvme_alloc(n, 4096) & 4096)) {
        qnvme_alloc(n, 4096);
    }
    g_assert_true(qnvme_enable(n, 128, 1 << 3));
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
}

static void register_nvme_ctrl_tests(void)
{
    QOSGraphTestOptions opts = { .before = qnvme_setup_one_namespace };
    QOSGraphTestOptions slow = { .before = slow_namespace_setup };
    QOSGraphTestOptions io = { .before = iothread_setup };
    QOSGraphTestOptions slow_io = { .before = slow_iothread_setup };

    qos_add_test("reg-defaults", "nvme-ctrl", test_reg_defaults, &opts);
    qos_add_test("reg-crto", "nvme-ctrl", test_reg_crto, &opts);
    qos_add_test("enable-disable", "nvme-ctrl", test_enable_disable, &opts);
    qos_add_test("enable-invalid", "nvme-ctrl", test_enable_invalid, &opts);
    qos_add_test("shutdown", "nvme-ctrl", test_shutdown, &opts);
    qos_add_test("subsystem-reset", "nvme-ctrl", test_subsystem_reset, &opts);
    qos_add_test("identify-ctrl", "nvme-ctrl", test_identify_ctrl, &opts);
    qos_add_test("identify-ns", "nvme-ctrl", test_identify_ns, &opts);
    qos_add_test("identify-csi-no-ns", "nvme-ctrl", test_identify_csi_no_ns,
                 &opts);
    qos_add_test("queue-errors", "nvme-ctrl", test_queue_errors, &opts);
    qos_add_test("invalid-opcodes", "nvme-ctrl", test_invalid_opcodes, &opts);
    qos_add_test("io-prp", "nvme-ctrl", test_io_prp, &opts);
    qos_add_test("io-errors", "nvme-ctrl", test_io_errors, &opts);
    qos_add_test("features", "nvme-ctrl", test_features, &opts);
    qos_add_test("mdts-units", "nvme-ctrl", test_mdts_units,
                 &(QOSGraphTestOptions) { .before = mdts_setup });
    qos_add_test("features-more", "nvme-ctrl", test_features_more, &opts);
    qos_add_test("error-log", "nvme-ctrl", test_error_log, &opts);
    qos_add_test("format", "nvme-ctrl", test_format, &opts);
    qos_add_test("format-no-blocks", "nvme-ctrl", test_format_no_blocks,
                 &(QOSGraphTestOptions) { .before = tiny_namespaces_setup });
    qos_add_test("firmware", "nvme-ctrl", test_firmware, &opts);
    qos_add_test("firmware-failed-download", "nvme-ctrl",
                 test_firmware_failed_download, &opts);
    qos_add_test("shadow-doorbells", "nvme-ctrl", test_shadow_doorbells, &opts);
    qos_add_test("reset-in-flight", "nvme-ctrl", test_reset_in_flight, &slow);
    qos_add_test("io-handoff", "nvme-ctrl", test_io_handoff, &slow);
    qos_add_test("abort", "nvme-ctrl", test_abort, &slow);
    qos_add_test("io-unmappable", "nvme-ctrl", test_io_unmappable, &opts);
    qos_add_test("coalescing", "nvme-ctrl", test_coalescing, &opts);
    qos_add_test("ns-hotplug", "nvme-ctrl", test_ns_hotplug, &opts);
    qos_add_test("fuzz-commands", "nvme-ctrl", test_fuzz_commands, &opts);
    qos_add_test("fuzz-namespaces", "nvme-ctrl", test_fuzz_namespaces,
                 &(QOSGraphTestOptions) { .before = fuzz_namespaces_setup });
    qos_add_test("iothread-io-prp", "nvme-ctrl", test_io_prp, &io);
    qos_add_test("iothread-queue-errors", "nvme-ctrl", test_queue_errors, &io);
    qos_add_test("iothread-shadow-doorbells", "nvme-ctrl",
                 test_shadow_doorbells, &io);
    qos_add_test("iothread-coalescing", "nvme-ctrl", test_coalescing, &io);
    qos_add_test("iothread-format", "nvme-ctrl", test_format, &io);
    qos_add_test("iothread-io-handoff", "nvme-ctrl", test_io_handoff, &slow_io);
    qos_add_test("iothread-abort", "nvme-ctrl", test_abort, &slow_io);
    qos_add_test("log-pages", "nvme-ctrl", test_log_pages, &opts);
    qos_add_test("aer", "nvme-ctrl", test_aer, &opts);
}

libqos_init(register_nvme_ctrl_tests);
