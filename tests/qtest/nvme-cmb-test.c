/*
 * qtests of the Controller Memory Buffer: its registers, queues, PRP lists,
 * SGL segments and data in it, and every misuse status.
 *
 * The test acts as a host driver. BAR 2 (qpci_iomap) is where the host
 * reaches the CMB; a queue or data address in it is used by the controller
 * when it is the CMB's controller address (CMBMSC.CBA, or BAR 2 itself for
 * a legacy host that never writes CMBMSC).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "hw/pci/pci_regs.h"
#include "libqos/nvme.h"

#define CMB_MB          2
#define CMB_SIZE        (CMB_MB * MiB)
#define PAGE            QNVME_PAGE_SIZE

#define REG_CMBLOC      0x38
#define REG_CMBSZ       0x3c
#define REG_CMBMSC      0x50
#define REG_CMBSTS      0x58
#define REG_CMBEBS      0x5c
#define REG_CMBSWTP     0x60
#define CRE             1ull
#define CMSE            2ull

/* BIR 2; CDPMLS, CDPCILS, CDMMMS */
#define CMBLOC_VALUE    0x1c2
/* SQS CQS LISTS RDS WDS, SZU 1 MiB, SZ 2 */
#define CMBSZ_VALUE     (0x1f | (2 << 8) | (CMB_MB << 12))

#define DNR             NVME_SC_DNR
#define INVALID_CMB_USE (NVME_SC_INVALID_CMB_USE | DNR)
#define DATA_XFER_ERROR (NVME_SC_DATA_TRANSFER_ERROR | DNR)

#define SGL_DATA        (NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4)
#define SGL_LAST        (NVME_SGL_DESCR_TYPE_LAST_SEGMENT << 4)

/* A 4 GiB controller address where the qtest machine has no RAM */
#define FAR_CBA         0x100000000ull

typedef struct Cmb {
    QNvme *n;
    QTestState *qts;
    uint64_t bar;       /* BAR 2's address: where the host reaches the CMB */
} Cmb;

static void *cmb_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line, " -global nvme.cmb_size_mb=%d", CMB_MB);
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void *cmb_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return cmb_setup(cmd_line, arg);
}

static Cmb cmb_open(void *obj)
{
    QNvme *n = obj;
    Cmb c = { .n = n, .qts = n->dev.bus->qts };
    uint64_t size;
    QPCIBar bar = qpci_iomap(&n->dev, 2, &size);

    g_assert_cmpuint(size, ==, CMB_SIZE);
    c.bar = bar.addr;
    return c;
}

static void cmb_msc(Cmb *c, uint64_t msc)
{
    qnvme_writeq(c->n, REG_CMBMSC, msc);
}

/* 1.4 scheme: capabilities on, controller memory space at BAR 2 */
static void cmb_enable_at_bar(Cmb *c)
{
    cmb_msc(c, CRE | CMSE | c->bar);
    g_assert_cmphex(qnvme_readl(c->n, REG_CMBSTS), ==, 0);
}

/* Like qnvme_enable(), with the admin queues where the test says. */
static bool cmb_enable_ctrl_n(Cmb *c, uint64_t asq, uint64_t acq,
                              uint16_t entries)
{
    QNvme *n = c->n;

    qnvme_disable(n);
    n->sq[0] = (QNvmeQueue) { .addr = asq, .size = entries };
    n->cq[0] = (QNvmeQueue) { .addr = acq, .size = entries, .phase = 1 };
    qnvme_writel(n, NVME_REG_AQA, (entries - 1) |
                 ((entries - 1) << AQA_ACQS_SHIFT));
    qnvme_writeq(n, NVME_REG_ASQ, asq);
    qnvme_writeq(n, NVME_REG_ACQ, acq);
    qnvme_writel(n, NVME_REG_CC, CC_EN_MASK | (6 << CC_IOSQES_SHIFT) |
                 (4 << CC_IOCQES_SHIFT));
    return qnvme_wait_ready(n, true);
}

static bool cmb_enable_ctrl(Cmb *c, uint64_t asq, uint64_t acq)
{
    qtest_memset(c->qts, acq, 0, 16 * sizeof(NvmeCqe));
    return cmb_enable_ctrl_n(c, asq, acq, 16);
}

/* Identify Controller with its data at addr */
static uint16_t identify_at(Cmb *c, uint64_t addr)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_IDENTIFY,
        .dptr.prp1 = cpu_to_le64(addr),
        .cdw10 = cpu_to_le32(NVME_ID_CNS_CTRL),
    };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

static uint16_t create_cq(Cmb *c, uint16_t qid, uint64_t addr,
                          uint16_t entries)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(addr),
        .cdw10 = cpu_to_le32(((entries - 1) << 16) | qid),
        .cdw11 = cpu_to_le32(NVME_CQ_PC),
    };
    uint16_t status = qnvme_cmd(c->n, 0, &cmd, NULL);

    if (!status) {
        qtest_memset(c->qts, addr, 0, entries * sizeof(NvmeCqe));
        c->n->cq[qid] = (QNvmeQueue) {
            .addr = addr, .size = entries, .phase = 1,
        };
    }
    return status;
}

static uint16_t create_sq(Cmb *c, uint16_t qid, uint64_t addr,
                          uint16_t entries)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_SQ,
        .dptr.prp1 = cpu_to_le64(addr),
        .cdw10 = cpu_to_le32(((entries - 1) << 16) | qid),
        .cdw11 = cpu_to_le32(NVME_SQ_PC | (qid << 16)),
    };
    uint16_t status = qnvme_cmd(c->n, 0, &cmd, NULL);

    if (!status) {
        c->n->sq[qid] = (QNvmeQueue) { .addr = addr, .size = entries };
    }
    return status;
}

/* I/O queue pair 1 with its rings at sq and cq */
static void create_io_pair(Cmb *c, uint64_t sq, uint64_t cq)
{
    g_assert_cmphex(create_cq(c, 1, cq, 16), ==, 0);
    g_assert_cmphex(create_sq(c, 1, sq, 16), ==, 0);
}

static uint16_t rw(Cmb *c, uint8_t opcode, uint64_t slba, uint32_t nlb,
                   uint64_t prp1, uint64_t prp2)
{
    return qnvme_rw(c->n, 1, opcode, 1, slba, nlb, prp1, prp2);
}

static uint16_t rw_sgl(Cmb *c, uint8_t opcode, uint64_t slba, uint32_t nlb,
                       uint8_t type, uint64_t addr, uint32_t len)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .flags = NVME_PSDT_SGL_MPTR_CONTIG << 6,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(nlb - 1),
    };

    cmd.dptr.sgl.addr = cpu_to_le64(addr);
    cmd.dptr.sgl.len = cpu_to_le32(len);
    cmd.dptr.sgl.type = type;
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static void put_sgl(Cmb *c, uint64_t at, uint64_t addr, uint32_t len)
{
    NvmeSglDescriptor d = {
        .addr = cpu_to_le64(addr), .len = cpu_to_le32(len), .type = SGL_DATA,
    };

    qtest_memwrite(c->qts, at, &d, sizeof(d));
}

static void fill(Cmb *c, uint64_t addr, size_t len, uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7;
    }
    qtest_memwrite(c->qts, addr, buf, len);
}

static void check(Cmb *c, uint64_t addr, size_t len, uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    qtest_memread(c->qts, addr, buf, len);
    for (size_t i = 0; i < len; i++) {
        g_assert_cmphex(buf[i], ==, (uint8_t)(seed + i * 7));
    }
}

/* Registers: CAP.CMBS, the capabilities, CMBMSC and CMBSTS */
static void test_registers(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    QNvme *n = c.n;
    uint64_t bar0 = n->bar.addr;

    g_assert_true(NVME_CAP_CMBS(qnvme_readq(n, NVME_REG_CAP)));
    /* Legacy until CMBMSC is written: the capabilities read as they are */
    g_assert_cmphex(qnvme_readl(n, REG_CMBLOC), ==, CMBLOC_VALUE);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, CMBSZ_VALUE);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBEBS), ==, 0x212);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSWTP), ==, 0x103);

    /* Read-only capabilities ignore writes */
    qnvme_writel(n, REG_CMBLOC, 0);
    qnvme_writel(n, REG_CMBSZ, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, CMBSZ_VALUE);

    /* 1.4 scheme: CRE clear hides them, CRE set shows them */
    cmb_msc(&c, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBLOC), ==, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, 0);
    qnvme_writel(n, REG_CMBMSC, CRE);
    g_assert_cmphex(qnvme_readl(n, REG_CMBLOC), ==, CMBLOC_VALUE);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, CMBSZ_VALUE);

    /* Reserved bits 11:2 read zero; both halves and 64-bit writes work */
    qnvme_writel(n, REG_CMBMSC + 4, 0x12);
    qnvme_writel(n, REG_CMBMSC, 0xffc | CRE | 0x5000);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, 0x1200005001ull);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 0);

    /* CBAI: over the registers, or wrapping around the end */
    cmb_msc(&c, CRE | CMSE | bar0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 1);
    cmb_msc(&c, CRE | CMSE | 0xfffffffffff00000ull);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 1);
    cmb_msc(&c, CRE | CMSE | FAR_CBA);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 0);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, CRE | CMSE | FAR_CBA);
    /* Disabling clears CBAI too */
    cmb_msc(&c, CRE | CMSE | bar0);
    cmb_msc(&c, CRE);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSTS), ==, 0);

    /* A Controller Level Reset keeps CMBMSC */
    cmb_msc(&c, CRE | CMSE | c.bar);
    g_assert_true(qnvme_enable(n, 16, 0));
    qnvme_disable(n);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, CRE | CMSE | c.bar);
}

/* Without cmb_size_mb: no CMB, no registers, no BAR 2 */
static void test_no_cmb(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;

    g_assert_false(NVME_CAP_CMBS(qnvme_readq(n, NVME_REG_CAP)));
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBLOC), ==, 0);
    qnvme_writeq(n, REG_CMBMSC, CRE | CMSE | 0x80000000ull);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, 0);
    qpci_config_writel(&n->dev, PCI_BASE_ADDRESS_2, 0xffffffff);
    g_assert_cmphex(qpci_config_readl(&n->dev, PCI_BASE_ADDRESS_2), ==, 0);
}

/*
 * CMBMSC before CC.EN: admin queues in the CMB, Identify data into the
 * CMB, checked through BAR 2.
 */
static void test_admin_queues(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    cmb_enable_at_bar(&c);
    g_assert_true(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
    g_assert_cmphex(identify_at(&c, c.bar + 4 * PAGE), ==, 0);
    g_assert_cmphex(qtest_readw(c.qts, c.bar + 4 * PAGE), ==, 0x1b36);
    /* The completion entry (phase 1, success) was written into the CMB */
    g_assert_cmphex(qtest_readw(c.qts, c.bar + PAGE + 14), ==, 1);
}

/*
 * CMBMSC after CC.EN: I/O queues in the CMB; data written from the CMB,
 * read back into the CMB and into host memory.
 */
static void test_io_queues_and_data(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, 2 * PAGE);
    uint64_t d = c.bar + 16 * PAGE;

    g_assert_true(qnvme_enable(c.n, 16, 0));
    cmb_enable_at_bar(&c);
    create_io_pair(&c, c.bar, c.bar + PAGE);

    fill(&c, d, 2 * PAGE, 0x11);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 0, 16, d, d + PAGE), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 16, host, host + PAGE), ==, 0);
    check(&c, host, 2 * PAGE, 0x11);
    /* Data in host memory into the CMB, one page of each */
    fill(&c, host, PAGE, 0x22);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 8, 8, host, 0), ==, 0);
    qtest_memset(c.qts, d, 0, 2 * PAGE);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 16, d, host + PAGE), ==, 0);
    check(&c, d, PAGE, 0x11);
    check(&c, host + PAGE, PAGE, 0x22);
    /* The last bytes of the CMB are usable */
    d = c.bar + CMB_SIZE - PAGE;
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 8, 8, d, 0), ==, 0);
    check(&c, d, PAGE, 0x22);
}

/* A PRP list in the CMB, pointing into the CMB and into host memory */
static void test_prp_list(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, 2 * PAGE);
    uint64_t list = c.bar + 8 * PAGE;
    uint64_t d = c.bar + 16 * PAGE;
    uint64_t entries[2] = {
        cpu_to_le64(host), cpu_to_le64(d + PAGE),
    };

    cmb_enable_at_bar(&c);
    qnvme_start_with_io_queue(c.n);
    qtest_memwrite(c.qts, list, entries, sizeof(entries));
    fill(&c, d, PAGE, 0x31);
    fill(&c, host, PAGE, 0x32);
    fill(&c, d + PAGE, PAGE, 0x33);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 1, 0, 24, d, list), ==,
                    0);
    qtest_memset(c.qts, d, 0, 2 * PAGE);
    qtest_memset(c.qts, host, 0, PAGE);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 1, 0, 24, d, list), ==,
                    0);
    check(&c, d, PAGE, 0x31);
    check(&c, host, PAGE, 0x32);
    check(&c, d + PAGE, PAGE, 0x33);
}

/* An SGL segment in the CMB; data blocks in the CMB and in host memory */
static void test_sgl_segment(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, PAGE);
    uint64_t seg = c.bar + 8 * PAGE + 32;
    uint64_t d = c.bar + 16 * PAGE;

    cmb_enable_at_bar(&c);
    qnvme_start_with_io_queue(c.n);
    put_sgl(&c, seg, d + 100, 1024);
    put_sgl(&c, seg + 16, host, 1024);
    fill(&c, d + 100, 1024, 0x41);
    fill(&c, host, 1024, 0x42);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_WRITE, 4, 4, SGL_LAST, seg, 32), ==,
                    0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 4, 4, d + PAGE, 0), ==, 0);
    check(&c, d + PAGE, 1024, 0x41);
    check(&c, d + PAGE + 1024, 1024, 0x42);
    /* A data block descriptor in the command, into the CMB */
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 4, 2, SGL_DATA, d + 7, 1024),
                    ==, 0);
    check(&c, d + 7, 1024, 0x41);
}

/*
 * A legacy host never writes CMBMSC: the CMB is at BAR 2, and follows the
 * BAR when the host moves it.
 */
static void test_legacy(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, PAGE);
    uint64_t moved = c.bar + CMB_SIZE;

    g_assert_cmphex(qnvme_readl(c.n, REG_CMBSZ), ==, CMBSZ_VALUE);
    g_assert_true(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
    create_io_pair(&c, c.bar + 2 * PAGE, c.bar + 3 * PAGE);
    fill(&c, c.bar + 8 * PAGE, PAGE, 0x51);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 0, 8, c.bar + 8 * PAGE, 0), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, host, 0), ==, 0);
    check(&c, host, PAGE, 0x51);
    g_assert_cmphex(qnvme_readq(c.n, REG_CMBMSC), ==, 0);

    /* BAR 2 moves (the queues with it): reset and start again there */
    qnvme_disable(c.n);
    qpci_config_writel(&c.n->dev, PCI_BASE_ADDRESS_2, moved);
    check(&c, moved + 8 * PAGE, PAGE, 0x51);
    c.bar = moved;
    g_assert_true(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
    create_io_pair(&c, c.bar + 2 * PAGE, c.bar + 3 * PAGE);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar + 12 * PAGE, 0), ==,
                    0);
    check(&c, c.bar + 12 * PAGE, PAGE, 0x51);
}

/*
 * The controller address (CBA) need not be BAR 2's: data the controller
 * writes at CBA is what the host reads through BAR 2, and BAR 2's own
 * address means nothing to the controller then.
 */
static void test_cba_elsewhere(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, PAGE);

    qnvme_start_with_io_queue(c.n);
    cmb_msc(&c, CRE | CMSE | FAR_CBA);
    fill(&c, host, PAGE, 0x61);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 0, 8, host, 0), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, FAR_CBA + 5 * PAGE, 0), ==,
                    0);
    check(&c, c.bar + 5 * PAGE, PAGE, 0x61);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar + 5 * PAGE, 0), ==,
                    INVALID_CMB_USE);
    g_assert_cmphex(create_cq(&c, 2, c.bar, 16), ==, INVALID_CMB_USE);
    g_assert_cmphex(create_cq(&c, 2, FAR_CBA, 16), ==, 0);
}

/* BAR 2 used while the controller memory space is off (1.4 scheme) */
static void test_misuse_disabled(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, 4 * PAGE);
    uint64_t list = c.bar + 8 * PAGE;
    uint64_t entries[2] = { cpu_to_le64(host), cpu_to_le64(host + PAGE) };

    /* CRE alone: the CMB is described, not usable */
    qnvme_writel(c.n, REG_CMBMSC, CRE);
    g_assert_false(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
    g_assert_true(qnvme_enable(c.n, 16, 0));

    g_assert_cmphex(create_cq(&c, 1, c.bar + 2 * PAGE, 16), ==,
                    INVALID_CMB_USE);
    qnvme_create_io_queue_pair(c.n, 1, 16);
    g_assert_cmphex(create_cq(&c, 2, host + 3 * PAGE, 16), ==, 0);
    g_assert_cmphex(create_sq(&c, 2, c.bar + 2 * PAGE, 16), ==,
                    INVALID_CMB_USE);
    /* Data (PRP1, PRP2), a PRP list, an SGL data block and segment */
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar, 0), ==,
                    INVALID_CMB_USE);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 0, 16, host, c.bar), ==,
                    INVALID_CMB_USE);
    qtest_memwrite(c.qts, list, entries, sizeof(entries));
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 24, host + 2 * PAGE, list), ==,
                    INVALID_CMB_USE);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 1, SGL_DATA, c.bar + 512,
                           512), ==, INVALID_CMB_USE);
    put_sgl(&c, list, host, 512);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 1, SGL_LAST, list, 16), ==,
                    INVALID_CMB_USE);
    /* Admin data into it too */
    g_assert_cmphex(identify_at(&c, c.bar + PAGE), ==, INVALID_CMB_USE);

    /* CMSE set: the same work */
    cmb_enable_at_bar(&c);
    g_assert_cmphex(identify_at(&c, c.bar + PAGE), ==, 0);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 1, SGL_LAST, list, 16), ==,
                    0);
    qtest_memwrite(c.qts, list, entries, sizeof(entries));
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 24, host + 2 * PAGE, list), ==,
                    0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar, 0), ==, 0);
    g_assert_cmphex(create_sq(&c, 2, c.bar + 2 * PAGE, 16), ==, 0);
}

/* What crosses the end of the CMB */
static void test_misuse_straddle(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t end = c.bar + CMB_SIZE;

    cmb_enable_at_bar(&c);
    qnvme_start_with_io_queue(c.n);
    /* An SGL data block and an SGL segment across the end */
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 8, SGL_DATA, end - 512,
                           PAGE), ==, DATA_XFER_ERROR);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_WRITE, 0, 8, SGL_DATA, end - 512,
                           PAGE), ==, DATA_XFER_ERROR);
    put_sgl(&c, end - 16, end - PAGE, 512);
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 2, SGL_LAST, end - 16, 32),
                    ==, DATA_XFER_ERROR);
    /* The segment alone, in full, is fine */
    g_assert_cmphex(rw_sgl(&c, NVME_CMD_READ, 0, 1, SGL_LAST, end - 16, 16),
                    ==, 0);
    /* Queues across the end */
    g_assert_cmphex(create_cq(&c, 2, end - PAGE, 512), ==, INVALID_CMB_USE);
    g_assert_cmphex(create_cq(&c, 2, end - PAGE, 256), ==, 0);
    g_assert_cmphex(create_sq(&c, 2, end - PAGE, 128), ==, INVALID_CMB_USE);
    g_assert_cmphex(create_sq(&c, 2, end - 3 * PAGE, 128), ==, 0);
    /* Admin queues across the end: the controller does not start */
    g_assert_false(cmb_enable_ctrl_n(&c, end - PAGE, c.bar, 128));
    g_assert_false(cmb_enable_ctrl_n(&c, c.bar, end - PAGE, 512));
    g_assert_true(cmb_enable_ctrl(&c, end - PAGE, c.bar));
    g_assert_cmphex(identify_at(&c, c.bar + PAGE), ==, 0);
}

/*
 * Resets with an I/O queue in the CMB; the CMB turned off under it stops
 * the controller (CSTS.CFS) until the host resets it.
 */
static void test_reset_with_queue(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    uint64_t host = qnvme_alloc(c.n, PAGE);

    cmb_enable_at_bar(&c);
    g_assert_true(qnvme_enable(c.n, 16, 0));
    create_io_pair(&c, c.bar, c.bar + PAGE);
    fill(&c, host, PAGE, 0x71);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 0, 8, host, 0), ==, 0);

    /* Controller Level Reset: CMBMSC stays, the queues go */
    g_assert_true(qnvme_enable(c.n, 16, 0));
    g_assert_cmphex(qnvme_readq(c.n, REG_CMBMSC), ==, CRE | CMSE | c.bar);
    create_io_pair(&c, c.bar + 2 * PAGE, c.bar + 3 * PAGE);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar + 8 * PAGE, 0), ==, 0);
    check(&c, c.bar + 8 * PAGE, PAGE, 0x71);

    /* CMSE cleared under the queues: fatal, and nothing more is fetched */
    cmb_msc(&c, CRE);
    g_assert_cmphex(qnvme_readl(c.n, NVME_REG_CSTS) & NVME_CSTS_CFS_BIT, !=,
                    0);
    /* Moving CBA instead does the same; a reset recovers */
    cmb_enable_at_bar(&c);
    g_assert_true(qnvme_enable(c.n, 16, 0));
    create_io_pair(&c, c.bar, c.bar + PAGE);
    cmb_msc(&c, CRE | CMSE | FAR_CBA);
    g_assert_cmphex(qnvme_readl(c.n, NVME_REG_CSTS) & NVME_CSTS_CFS_BIT, !=,
                    0);
    cmb_enable_at_bar(&c);
    g_assert_true(qnvme_enable(c.n, 16, 0));
    g_assert_cmphex(qnvme_readl(c.n, NVME_REG_CSTS) & NVME_CSTS_CFS_BIT, ==,
                    0);
    /* Host queues are not affected by CMBMSC changes */
    qnvme_create_io_queue_pair(c.n, 1, 16);
    cmb_msc(&c, CRE);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, host, 0), ==, 0);
    check(&c, host, PAGE, 0x71);
}

static void *cmb_slow_setup(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line, " -global nvme.cmb_size_mb=%d"
                           " -blockdev null-co,node-name=slow,size=16777216,"
                           "latency-ns=200000000,read-zeroes=on"
                           " -device nvme-ns,drive=slow,bus=nvme0,nsid=1",
                           CMB_MB);
    return arg;
}

/*
 * CMBMSC changes under commands in flight wait for them. A Compare reads
 * its data (at a CBA the host reaches only through BAR 2) after the slow
 * backend: it still finds the CMB there. I/O queues left behind by the
 * change make the controller fatal and not ready.
 */
static void test_msc_in_flight(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COMPARE,
        .nsid = cpu_to_le32(1),
        .cdw12 = cpu_to_le32(7),
        .dptr.prp1 = cpu_to_le64(FAR_CBA + 8 * PAGE),
    };
    NvmeCqe cqe;
    uint32_t csts;

    qnvme_start_with_io_queue(c.n);
    cmb_msc(&c, CRE | CMSE | FAR_CBA);
    qnvme_submit(c.n, 1, &cmd);
    cmb_msc(&c, CRE);
    g_assert_true(qnvme_poll(c.n, 1, &cqe));
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);

    cmb_msc(&c, CRE | CMSE | FAR_CBA);
    g_assert_true(qnvme_enable(c.n, 16, 0));
    create_io_pair(&c, FAR_CBA, FAR_CBA + PAGE);
    /* The test reaches the rings through BAR 2 */
    c.n->sq[1].addr = c.bar;
    c.n->cq[1].addr = c.bar + PAGE;
    cmd.opcode = NVME_CMD_READ;
    qtest_memset(c.qts, c.bar + 8 * PAGE, 0xaa, PAGE);
    qnvme_submit(c.n, 1, &cmd);
    cmb_msc(&c, CRE);
    csts = qnvme_readl(c.n, NVME_REG_CSTS);
    g_assert_cmphex(csts & (NVME_CSTS_CFS_BIT | NVME_CSTS_RDY_BIT), ==,
                    NVME_CSTS_CFS_BIT);
    g_assert_cmphex(qtest_readq(c.qts, c.bar + 8 * PAGE), ==, 0);
    /* The host resets it, and it works again */
    g_assert_true(qnvme_enable(c.n, 16, 0));
    qnvme_create_io_queue_pair(c.n, 1, 16);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 0, 8, c.bar, 0), ==,
                    INVALID_CMB_USE);
}

/* A PCI reset: back to the legacy scheme, with BAR 2 unmapped */
static void test_pci_reset(void *obj, void *data, QGuestAllocator *a)
{
    Cmb c = cmb_open(obj);
    QNvme *n = c.n;

    cmb_msc(&c, CRE);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, CRE);
    qtest_qmp_assert_success(c.qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(c.qts, "RESET");
    /* BARs and the command register are cleared: program them again */
    qpci_config_writel(&n->dev, PCI_BASE_ADDRESS_0, n->bar.addr);
    qpci_config_writel(&n->dev, PCI_BASE_ADDRESS_2, c.bar);
    qpci_device_enable(&n->dev);
    g_assert_cmphex(qnvme_readq(n, REG_CMBMSC), ==, 0);
    g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, CMBSZ_VALUE);
    g_assert_true(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
}

#define HOTPLUG_SLOT    6

/* Unplugged while its queues and data live in the CMB, then plugged again */
static void test_unplug(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *like = obj;
    QTestState *qts = like->dev.bus->qts;

    for (int i = 0; i < 2; i++) {
        QNvme *n;
        Cmb c;

        qtest_qmp_device_add(qts, "nvme", "second",
                             "{'serial': 'second', 'cmb_size_mb': %d,"
                             " 'addr': %s}", CMB_MB,
                             stringify(HOTPLUG_SLOT) ".0");
        n = qnvme_open_slot(like, HOTPLUG_SLOT);
        c = cmb_open(n);
        g_assert_cmphex(qnvme_readl(n, REG_CMBSZ), ==, CMBSZ_VALUE);
        cmb_enable_at_bar(&c);
        g_assert_true(cmb_enable_ctrl(&c, c.bar, c.bar + PAGE));
        create_io_pair(&c, c.bar + 2 * PAGE, c.bar + 3 * PAGE);
        g_assert_cmphex(identify_at(&c, c.bar + 4 * PAGE), ==, 0);
        g_assert_cmphex(qtest_readw(qts, c.bar + 4 * PAGE), ==, 0x1b36);
        qpci_unplug_acpi_device_test(qts, "second", HOTPLUG_SLOT);
        qnvme_close(n);
    }
}

static void test_bad_size(void *obj, void *data, QGuestAllocator *a)
{
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,"
                               "cmb_size_mb=16385",
                               "cmb_size_mb is 16385, at most 16384");
}

static void register_cmb_tests(void)
{
    QOSGraphTestOptions opts = { .before = cmb_setup };
    QOSGraphTestOptions plain = { .before = qnvme_setup_one_namespace };
    QOSGraphTestOptions slow = { .before = cmb_slow_setup };
    QOSGraphTestOptions io = { .before = cmb_iothread_setup };

    qos_add_test("registers", "nvme-cmb", test_registers, &opts);
    qos_add_test("no-cmb", "nvme-cmb", test_no_cmb, &plain);
    qos_add_test("admin-queues", "nvme-cmb", test_admin_queues, &opts);
    qos_add_test("io-queues-data", "nvme-cmb", test_io_queues_and_data,
                 &opts);
    qos_add_test("prp-list", "nvme-cmb", test_prp_list, &opts);
    qos_add_test("sgl-segment", "nvme-cmb", test_sgl_segment, &opts);
    qos_add_test("legacy", "nvme-cmb", test_legacy, &opts);
    qos_add_test("cba-elsewhere", "nvme-cmb", test_cba_elsewhere, &opts);
    qos_add_test("misuse-disabled", "nvme-cmb", test_misuse_disabled, &opts);
    qos_add_test("misuse-straddle", "nvme-cmb", test_misuse_straddle, &opts);
    qos_add_test("reset-with-queue", "nvme-cmb", test_reset_with_queue,
                 &opts);
    qos_add_test("msc-in-flight", "nvme-cmb", test_msc_in_flight, &slow);
    qos_add_test("io-queues-data-iothread", "nvme-cmb",
                 test_io_queues_and_data, &io);
    qos_add_test("pci-reset", "nvme-cmb", test_pci_reset, &opts);
    qos_add_test("unplug", "nvme-cmb", test_unplug, &opts);
    qos_add_test("bad-size", "nvme-cmb", test_bad_size, NULL);
}

libqos_init(register_cmb_tests);
