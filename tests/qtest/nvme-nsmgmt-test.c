/*
 * qtests for Namespace Management and Namespace Attachment: a subsystem
 * with a namespace pool (ns-pool, tnvmcap), two I/O controllers and an
 * administrative one, the Identify lists and capacities that follow the
 * changes, and every error status of both commands; a pool left by a
 * QEMU killed mid-command; and what an administrative controller
 * (cntrltype=admin) refuses. Without a pool: Namespace Attachment of the
 * namespaces of the command line (nvme-ns, drive=, x-nvme-ns-nvm) across
 * controllers with explicit IDs, its events and errors, and a detach
 * while reads are in flight.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "qobject/qdict.h"

#define TNVMCAP         (64 * 1024 * 1024)
#define DNR             NVME_SC_DNR
#define INVALID         (NVME_SC_INVALID_FIELD | DNR)
#define INVALID_NS      (NVME_SC_INVALID_NAMESPACE | DNR)
#define CMD_SPECIFIC(sc) ((sc) | DNR)     /* NVME_SC_* carry their type */

typedef QNvmeCtx Ctx;

/* The pool directory of the running test */
static char *pool_dir;

/*
 * The qos node adds "-device nvme,...": put a subsystem with a pool in
 * front of it, link it, and add a second controller (CNTLID 1).
 */
static void *pool_setup(GString *cmd_line, void *arg)
{
    char *dir = g_dir_make_tmp("nvme-pool-XXXXXX", NULL);
    const char *dev = strstr(cmd_line->str, "-device nvme,");
    g_autofree char *subsys = g_strdup_printf(
        "-device nvme-subsys,id=pool0,nqn=nqn.2026-11.org.qemu:pool,"
        "ns-pool=%s,tnvmcap=%d ", dir, TNVMCAP);

    g_assert(dir && dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=pool0,");
    g_string_insert(cmd_line, dev - cmd_line->str, subsys);
    g_string_append(cmd_line, " -device nvme,subsys=pool0,serial=second"
                    " -device nvme,id=adm,subsys=pool0,serial=admin,"
                    "cntrltype=admin");
    qnvme_remove_dir_at_end(dir);
    pool_dir = dir;
    return arg;
}

/* Namespace Management create with id's fields; *nsid gets DW0. */
static uint16_t ns_create_id(Ctx *c, const NvmeIdNs *id, uint8_t csi,
                             uint32_t *nsid)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_MANAGEMENT,
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw11 = cpu_to_le32((uint32_t)csi << 24),
    };
    NvmeCqe cqe;
    uint16_t status;

    qtest_memwrite(c->qts, c->buf, id, sizeof(*id));
    status = qnvme_cmd(c->n, 0, &cmd, &cqe);
    if (nsid) {
        *nsid = le32_to_cpu(cqe.result);
    }
    return status;
}

static uint16_t ns_create(Ctx *c, uint64_t nsze, uint64_t ncap, uint8_t flbas,
                          uint8_t dps, uint8_t nmic, uint8_t csi,
                          uint32_t *nsid)
{
    NvmeIdNs id = {
        .nsze = cpu_to_le64(nsze), .ncap = cpu_to_le64(ncap),
        .flbas = flbas, .dps = dps, .nmic = nmic,
    };

    return ns_create_id(c, &id, csi, nsid);
}

static uint16_t ns_create_ana(Ctx *c, uint32_t anagrpid, uint32_t *nsid)
{
    NvmeIdNs id = {
        .nsze = cpu_to_le64(64), .ncap = cpu_to_le64(64), .nmic = 1,
        .anagrpid = cpu_to_le32(anagrpid),
    };

    return ns_create_id(c, &id, 0, nsid);
}

static uint16_t ns_mgmt_sel(Ctx *c, uint32_t sel, uint32_t nsid)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_MANAGEMENT,
        .nsid = cpu_to_le32(nsid),
        .cdw10 = cpu_to_le32(sel),
    };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

static uint16_t ns_delete(Ctx *c, uint32_t nsid)
{
    return ns_mgmt_sel(c, 1, nsid);
}

/* Namespace Attachment with a controller list of count IDs. */
static uint16_t ns_attach(Ctx *c, uint32_t sel, uint32_t nsid, int count,
                          const uint16_t *ids)
{
    uint16_t list[2048] = { cpu_to_le16(count) };
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_ATTACHMENT,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(sel),
    };

    for (int i = 0; i < count; i++) {
        list[i + 1] = cpu_to_le16(ids[i]);
    }
    qtest_memwrite(c->qts, c->buf, list, sizeof(list));
    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

/* Identify with CNTID in CDW10 bits 31:16; returns the status. */
static uint16_t identify(Ctx *c, uint8_t cns, uint32_t nsid, uint16_t cntid,
                         void *out)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_IDENTIFY,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(cns | (uint32_t)cntid << 16),
    };
    uint16_t status = qnvme_cmd(c->n, 0, &cmd, NULL);

    qtest_memread(c->qts, c->buf, out, NVME_IDENTIFY_DATA_SIZE);
    return status;
}

static uint64_t unvmcap(Ctx *c)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(identify(c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpuint(ldq_le_p(id->tnvmcap), ==, TNVMCAP);
    g_assert_cmpuint(ldq_le_p(id->tnvmcap + 8), ==, 0);
    return ldq_le_p(id->unvmcap);
}

/* The NSIDs of an Identify namespace list, up to 8 */
static int ns_list(Ctx *c, uint8_t cns, uint32_t *out)
{
    uint32_t list[1024];
    int i;

    g_assert_cmphex(identify(c, cns, 0, 0, list), ==, 0);
    for (i = 0; i < 8 && list[i]; i++) {
        out[i] = le32_to_cpu(list[i]);
    }
    return i;
}

/* The controller IDs of CNS 12h (nsid) or 13h, from cntid on */
static int ctrl_list(Ctx *c, uint32_t nsid, uint16_t cntid, uint16_t *out)
{
    uint16_t list[2048];
    int count;

    g_assert_cmphex(identify(c, nsid ? NVME_ID_CNS_NS_ATTACHED_CTRL_LIST
                                     : NVME_ID_CNS_CTRL_LIST,
                             nsid, cntid, list), ==, 0);
    count = le16_to_cpu(list[0]);
    for (int i = 0; i < count && i < 8; i++) {
        out[i] = le16_to_cpu(list[i + 1]);
    }
    return count;
}

static uint16_t rw(Ctx *c, uint8_t opcode, uint32_t nsid, uint64_t slba)
{
    return qnvme_rw(c->n, 1, opcode, nsid, slba, 8, c->buf, 0);
}

static void test_capabilities(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint16_t ids[8];
    uint32_t nsids[8];

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->oacs) & NVME_OACS_NS_MGMT, ==,
                    NVME_OACS_NS_MGMT);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP);
    /* All three controllers, and from CNTID 1 on, the other two */
    g_assert_cmpint(ctrl_list(&c, 0, 0, ids), ==, 3);
    g_assert_cmpuint(ids[0], ==, 0);
    g_assert_cmpuint(ids[1], ==, 1);
    g_assert_cmpuint(ids[2], ==, 2);
    g_assert_cmpint(ctrl_list(&c, 0, 1, ids), ==, 2);
    g_assert_cmpuint(ids[0], ==, 1);
    /* What created namespaces offer: 512 B and 4 KiB */
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, NVME_NSID_BROADCAST, 0, ns),
                    ==, 0);
    g_assert_cmpuint(ns->nlbaf, ==, 1);
    g_assert_cmpuint(ns->lbaf[0].ds, ==, 9);
    g_assert_cmpuint(ns->lbaf[1].ds, ==, 12);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 0);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CMD_EFFECTS, 0, eff,
                                  sizeof(*eff)), ==, 0);
    g_assert_true(le32_to_cpu(eff->acs[NVME_ADM_CMD_NS_MANAGEMENT]) &
                  NVME_CMD_EFF_CSUPP);
    g_assert_true(le32_to_cpu(eff->acs[NVME_ADM_CMD_NS_ATTACHMENT]) &
                  NVME_CMD_EFF_NIC);
}

static void test_create_attach_delete(void *obj, void *data,
                                      QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint8_t pattern[4096], back[4096];
    uint16_t ids[8];
    uint32_t nsid, nsids[8], changed[1024];
    const uint16_t c0 = 0, both[] = { 0, 1 };

    /* 1 MiB in 4 KiB blocks, shared */
    g_assert_cmphex(ns_create(&c, 256, 256, 1, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmpuint(nsid, ==, 1);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP - 1024 * 1024);
    /* Allocated, not attached */
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 1);
    g_assert_cmpuint(nsids[0], ==, 1);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 0);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS_PRESENT, 1, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 256);
    g_assert_cmpuint(id->flbas & 0xf, ==, 1);
    g_assert_cmpuint(id->nmic, ==, 1);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 0);
    g_assert_cmpint(ctrl_list(&c, 1, 0, ids), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 1, 0), ==, INVALID_NS);

    /* Attached to this controller: I/O works */
    g_assert_cmphex(ns_attach(&c, 0, 1, 1, &c0), ==, 0);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);
    g_assert_cmpuint(le32_to_cpu(changed[0]), ==, 1);
    g_assert_cmpuint(changed[1], ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 1);
    g_assert_cmpint(ctrl_list(&c, 1, 0, ids), ==, 1);
    g_assert_cmpuint(ids[0], ==, 0);
    memset(pattern, 0x5a, sizeof(pattern));
    qtest_memwrite(c.qts, c.buf, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 1, 255, 1, c.buf, 0),
                    ==, 0);
    qtest_memset(c.qts, c.buf, 0, sizeof(back));
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 1, 255, 1, c.buf, 0),
                    ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 1, 256, 1, c.buf, 0),
                    ==, NVME_SC_LBA_OUT_OF_RANGE | DNR);
    g_assert_cmphex(ns_attach(&c, 0, 1, 1, &c0), ==,
                    CMD_SPECIFIC(NVME_SC_NS_ALREADY_ATTACHED));
    /* The other controller too; a shared namespace may have both */
    g_assert_cmphex(ns_attach(&c, 0, 1, 1, &both[1]), ==, 0);
    g_assert_cmpint(ctrl_list(&c, 1, 0, ids), ==, 2);
    g_assert_cmpint(ctrl_list(&c, 1, 1, ids), ==, 1);

    /* Detached from both: gone from the active list, I/O fails */
    g_assert_cmphex(ns_attach(&c, 1, 1, 2, both), ==, 0);
    g_assert_cmphex(ns_attach(&c, 1, 1, 1, &c0), ==,
                    CMD_SPECIFIC(NVME_SC_NS_NOT_ATTACHED));
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, 1, 0), ==, INVALID_NS);

    /* Deleted: capacity comes back, the NSID is free again */
    g_assert_cmphex(ns_delete(&c, 1), ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 0);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP);
    g_assert_cmphex(ns_delete(&c, 1), ==, INVALID_NS);
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmpuint(nsid, ==, 1);
}

static void test_private(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint32_t nsid;
    const uint16_t c0 = 0, c1 = 1, both[] = { 0, 1 };

    g_assert_cmphex(ns_create(&c, 64, 64, 0, 0, 0, 0, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 2, both), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c1), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(&c, 1, nsid, 1, &c1), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, 0);
}

static void test_errors(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint32_t nsid;
    const uint16_t c0 = 0, absent = 5, admin = 2, twice[] = { 0, 0 };

    /* Namespace Management */
    g_assert_cmphex(ns_create(&c, 0, 0, 0, 0, 1, 0, NULL), ==, INVALID);
    g_assert_cmphex(ns_create(&c, 8, 16, 0, 0, 1, 0, NULL), ==, INVALID);
    g_assert_cmphex(ns_create(&c, 16, 8, 0, 0, 1, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_THIN_PROVISIONING_UNSUPPORTED));
    g_assert_cmphex(ns_create(&c, 8, 8, 2, 0, 1, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_INVALID_FORMAT));
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 1, 1, 0, NULL), ==, INVALID);
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 2, 0, NULL), ==, INVALID);
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, NVME_CSI_ZONED, NULL), ==,
                    INVALID);
    g_assert_cmphex(ns_create(&c, TNVMCAP / 512 + 1, TNVMCAP / 512 + 1, 0,
                              0, 1, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_NS_INSUFFICIENT_CAPACITY));
    g_assert_cmphex(ns_create(&c, UINT64_MAX, UINT64_MAX, 1, 0, 1, 0, NULL),
                    ==, CMD_SPECIFIC(NVME_SC_NS_INSUFFICIENT_CAPACITY));
    g_assert_cmphex(ns_mgmt_sel(&c, 2, 0), ==, INVALID);
    g_assert_cmphex(ns_delete(&c, 7), ==, INVALID_NS);
    g_assert_cmphex(ns_delete(&c, 0), ==, INVALID_NS);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP);

    /* Namespace Attachment */
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, 0, 1, &c0), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(&c, 0, 9, 1, &c0), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(&c, 0, NVME_NSID_BROADCAST, 1, &c0), ==,
                    INVALID_NS);
    g_assert_cmphex(ns_attach(&c, 2, nsid, 1, &c0), ==, INVALID);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &absent), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(&c, 0, nsid, 2, twice), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    /* An administrative controller has no namespaces */
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &admin), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(&c, 1, nsid, 1, &c0), ==,
                    CMD_SPECIFIC(NVME_SC_NS_NOT_ATTACHED));
    {
        uint16_t ids[8], list[2048];

        g_assert_cmpint(ctrl_list(&c, nsid, 0, ids), ==, 0);
        g_assert_cmphex(identify(&c, NVME_ID_CNS_NS_ATTACHED_CTRL_LIST, 77, 0,
                                 list), ==, INVALID_NS);
    }
}

/* Every NSID taken: Namespace Identifier Unavailable; delete them all. */
static void test_nsid_exhaustion(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint32_t nsid, nsids[8];

    for (uint32_t i = 1; i <= 256; i++) {
        g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, 0, &nsid), ==, 0);
        g_assert_cmpuint(nsid, ==, i);
    }
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_NS_ID_UNAVAILABLE));
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP - 256 * 8 * 512);
    g_assert_cmphex(ns_delete(&c, NVME_NSID_BROADCAST), ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 0);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP);
}

static char *pool_file(const char *name)
{
    return g_build_filename(pool_dir, name, NULL);
}

static char *pool_list(void)
{
    g_autofree char *path = pool_file("namespaces");
    char *text;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/*
 * What a QEMU killed during Namespace Management leaves: a list naming a
 * namespace whose image is gone (killed deleting it, by a QEMU that
 * removed the image first) and an image the list does not name (killed
 * creating it). The pool starts without the first, ignores the second.
 */
static void *crash_setup(GString *cmd_line, void *arg)
{
    g_autofree char *list = NULL, *img2 = NULL, *img3 = NULL;
    g_autofree uint8_t *data = g_malloc(64 * 512);

    pool_setup(cmd_line, arg);
    list = pool_file("namespaces");
    img2 = pool_file("ns-2.img");
    img3 = pool_file("ns-3.img");
    g_assert_true(g_file_set_contents(list,
        "# a pool left by a killed QEMU\n"
        "ns nsid=1 nsze=64 lbaf=0 nmic=1 attached=0x00000001 "
        "uuid=6a1d6f0e-4b8e-4f57-9d1e-0e5b1a2c3d41 ana=1\n"
        "ns nsid=2 nsze=64 lbaf=0 nmic=1 attached=0x00000001 "
        "uuid=6a1d6f0e-4b8e-4f57-9d1e-0e5b1a2c3d42 ana=1\n", -1, NULL));
    memset(data, 0x2c, 64 * 512);
    g_assert_true(g_file_set_contents(img2, (char *)data, 64 * 512, NULL));
    memset(data, 0x3c, 4096);
    g_assert_true(g_file_set_contents(img3, (char *)data, 4096, NULL));
    return arg;
}

static void test_crash_states(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree char *img2 = pool_file("ns-2.img");
    g_autofree char *img3 = pool_file("ns-3.img");
    g_autofree char *list = pool_list();
    uint32_t nsid, nsids[8];
    uint8_t back[512];
    struct stat st;

    /* Namespace 1 is dropped from the list; 2 is there with its data */
    g_assert_null(strstr(list, "nsid=1 "));
    g_assert_nonnull(strstr(list, "ns nsid=2 nsze=64 "));
    g_assert_null(strstr(list, "nsid=3 "));
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 1);
    g_assert_cmpuint(nsids[0], ==, 2);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 1);
    g_assert_cmpuint(nsids[0], ==, 2);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP - 64 * 512);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 2, 63, 1, c.buf, 0),
                    ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    for (int i = 0; i < sizeof(back); i++) {
        g_assert_cmphex(back[i], ==, 0x2c);
    }
    /* The stray image is left alone, until NSID 3 is created over it */
    g_assert_cmpint(stat(img3, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4096);
    g_assert_cmphex(ns_create(&c, 16, 16, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmpuint(nsid, ==, 1);
    g_assert_cmphex(ns_create(&c, 16, 16, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmpuint(nsid, ==, 3);
    g_assert_cmpint(stat(img3, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 16 * 512);
    g_free(list);
    list = pool_list();
    g_assert_nonnull(strstr(list, "ns nsid=1 nsze=16 "));
    g_assert_nonnull(strstr(list, "ns nsid=3 nsze=16 "));

    /* Delete: out of the list, then the image goes */
    g_assert_cmphex(ns_delete(&c, 2), ==, 0);
    g_free(list);
    list = pool_list();
    g_assert_null(strstr(list, "nsid=2 "));
    g_assert_cmpint(stat(img2, &st), ==, -1);
    g_assert_cmphex(ns_delete(&c, NVME_NSID_BROADCAST), ==, 0);
    g_free(list);
    list = pool_list();
    g_assert_null(strstr(list, "ns nsid="));
    g_assert_cmpint(stat(img3, &st), ==, -1);
    g_assert_cmpuint(unvmcap(&c), ==, TNVMCAP);
}

/* Namespace Write Protection Config (FID 84h) */

static uint16_t wp_set(Ctx *c, uint32_t nsid, uint32_t state)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .nsid = cpu_to_le32(nsid),
        .cdw10 = cpu_to_le32(NVME_FEAT_NS_WRITE_PROTECT_CONFIG),
        .cdw11 = cpu_to_le32(state),
    };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

static uint32_t wp_get(Ctx *c, uint32_t nsid, uint8_t sel)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_GET_FEATURES,
        .nsid = cpu_to_le32(nsid),
        .cdw10 = cpu_to_le32(NVME_FEAT_NS_WRITE_PROTECT_CONFIG | sel << 8),
    };
    NvmeCqe cqe;

    g_assert_cmphex(qnvme_cmd(c->n, 0, &cmd, &cqe), ==, 0);
    return le32_to_cpu(cqe.result);
}

static uint8_t nsattr(Ctx *c, uint32_t nsid)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    g_assert_cmphex(identify(c, NVME_ID_CNS_NS, nsid, 0, id), ==, 0);
    return id->nsattr;
}

static uint16_t dsm(Ctx *c, uint32_t nsid, uint32_t attr)
{
    uint64_t range[2] = { 0, cpu_to_le64(8ULL << 32) };
    NvmeCmd cmd = {
        .opcode = NVME_CMD_DSM, .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf), .cdw11 = cpu_to_le32(attr),
    };

    qtest_memwrite(c->qts, c->buf, range, sizeof(range));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static uint16_t simple_io(Ctx *c, uint8_t opcode, uint32_t nsid)
{
    NvmeCmd cmd = { .opcode = opcode, .nsid = cpu_to_le32(nsid) };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static uint16_t format(Ctx *c, uint32_t nsid)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_FORMAT_NVM,
                    .nsid = cpu_to_le32(nsid) };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

#define WP_ERR          (NVME_SC_NS_WRITE_PROTECTED | DNR)
#define NOT_CHANGEABLE  CMD_SPECIFIC(NVME_SC_FEATURE_NOT_CHANGEABLE)

static void test_write_protect(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree char *list_path = g_build_filename(pool_dir, "namespaces",
                                                  NULL);
    g_autofree char *list = NULL;
    uint32_t nsid, changed[1024];
    const uint16_t c0 = 0;

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(id->nwpc, ==, 0x7);
    g_assert_cmphex(ns_create(&c, 64, 64, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==, 0);
    g_assert_cmphex(wp_get(&c, nsid, 0), ==, 0);
    g_assert_cmphex(wp_get(&c, nsid, 3), ==,
                    NVME_FEAT_CAP_NS | NVME_FEAT_CAP_CHANGE);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);

    /* Write protected: no command that writes, reads still work */
    g_assert_cmphex(wp_set(&c, nsid, 1), ==, 0);
    g_assert_cmphex(wp_get(&c, nsid, 0), ==, 1);
    g_assert_cmphex(nsattr(&c, nsid) & 1, ==, 1);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);
    g_assert_cmpuint(le32_to_cpu(changed[0]), ==, nsid);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, WP_ERR);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, nsid, 0), ==, 0);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE_ZEROES, nsid, 0, 8, 0, 0),
                    ==, WP_ERR);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE_UNCOR, nsid, 0, 8, 0, 0),
                    ==, WP_ERR);
    g_assert_cmphex(dsm(&c, nsid, NVME_DSMGMT_AD), ==, WP_ERR);
    g_assert_cmphex(dsm(&c, nsid, 0), ==, 0);
    g_assert_cmphex(simple_io(&c, NVME_CMD_FLUSH, nsid), ==, 0);
    g_assert_cmphex(format(&c, nsid), ==, WP_ERR);
    g_assert_cmphex(ns_delete(&c, nsid), ==, WP_ERR);
    g_assert_cmphex(ns_delete(&c, NVME_NSID_BROADCAST), ==, WP_ERR);

    /* and back */
    g_assert_cmphex(wp_set(&c, nsid, 0), ==, 0);
    g_assert_cmphex(nsattr(&c, nsid) & 1, ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, 0);

    /* Bad requests */
    g_assert_cmphex(wp_set(&c, nsid, 4), ==, INVALID);
    g_assert_cmphex(wp_set(&c, nsid, 1 | 8), ==, INVALID);
    g_assert_cmphex(wp_set(&c, 0, 1), ==, INVALID_NS);
    g_assert_cmphex(wp_set(&c, 99, 1), ==, INVALID_NS);
    g_assert_cmphex(wp_set(&c, NVME_NSID_BROADCAST, 1), ==, INVALID_NS);

    /* Until power cycle: stays, whatever is asked */
    g_assert_cmphex(wp_set(&c, nsid, 2), ==, 0);
    g_assert_cmphex(wp_set(&c, nsid, 0), ==, NOT_CHANGEABLE);
    g_assert_cmphex(wp_set(&c, nsid, 1), ==, NOT_CHANGEABLE);
    g_assert_cmphex(wp_set(&c, nsid, 2), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, WP_ERR);

    /* Permanent: recorded in the pool */
    g_assert_cmphex(ns_create(&c, 64, 64, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==, 0);
    g_assert_cmphex(wp_set(&c, nsid, 3), ==, 0);
    g_assert_cmphex(wp_set(&c, nsid, 0), ==, NOT_CHANGEABLE);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, WP_ERR);
    g_assert_true(g_file_get_contents(list_path, &list, NULL, NULL));
    g_assert_nonnull(strstr(list, " wp=3\n"));
}

/* Without a pool: no permanent write protection */
static void test_write_protect_no_pool(void *obj, void *data,
                                       QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(id->nwpc, ==, 0x3);
    g_assert_cmphex(wp_set(&c, 1, 3), ==, INVALID);
    g_assert_cmphex(wp_set(&c, 1, 1), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 1, 0), ==, WP_ERR);
    g_assert_cmphex(wp_set(&c, 1, 0), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, 1, 0), ==, 0);
}

/* Asymmetric Namespace Access, states set with QMP nvme-ana-set-state */

static void ana_set(Ctx *c, const char *id, uint32_t group, const char *state,
                    bool ok)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'nvme-ana-set-state', "
                           "'arguments': {'id': %s, 'group': %u, "
                           "'state': %s}}", id, group, state);

    g_assert_cmpint(qdict_haskey(rsp, "return"), ==, ok);
    g_assert_cmpint(qdict_haskey(rsp, "error"), ==, !ok);
    qobject_unref(rsp);
}

typedef struct QEMU_PACKED AnaLog {
    uint64_t chgcnt;
    uint16_t ngrps;
    uint8_t rsvd[6];
    uint32_t grpid, nnsids;
    uint64_t grp_chgcnt;
    uint8_t state, rsvd2[15];
    uint32_t nsids[4];
} AnaLog;

static void ana_log(Ctx *c, bool rgo, AnaLog *log)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_GET_LOG_PAGE,
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(NVME_LOG_ANA | (rgo ? 1u << 8 : 0) |
                             (uint32_t)(sizeof(*log) / 4 - 1) << 16),
    };

    g_assert_cmphex(qnvme_cmd(c->n, 0, &cmd, NULL), ==, 0);
    qtest_memread(c->qts, c->buf, log, sizeof(*log));
}

static void test_ana(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *idns = g_new0(NvmeIdNs, 1);
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    const uint16_t c0 = 0;
    uint32_t nsid;
    AnaLog log;
    NvmeCqe cqe;

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(id->cmic & (1 << 3), ==, 1 << 3);
    g_assert_cmphex(id->anacap, ==, 0xdf);
    g_assert_cmpuint(id->anatt, ==, 10);
    g_assert_cmpuint(le32_to_cpu(id->anagrpmax), ==, 16);
    g_assert_cmpuint(le32_to_cpu(id->nanagrpid), ==, 16);
    g_assert_cmphex(le32_to_cpu(id->oaes) & (1 << 11), ==, 1 << 11);

    /* A namespace in group 2 */
    g_assert_cmphex(ns_create_ana(&c, 17, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_ANA_GROUP_ID_INVALID));
    g_assert_cmphex(ns_create_ana(&c, 2, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==, 0);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, nsid, 0, idns), ==, 0);
    g_assert_cmpuint(le32_to_cpu(idns->anagrpid), ==, 2);
    ana_log(&c, false, &log);
    g_assert_cmpuint(le16_to_cpu(log.ngrps), ==, 1);
    g_assert_cmpuint(le32_to_cpu(log.grpid), ==, 2);
    g_assert_cmpuint(le32_to_cpu(log.nnsids), ==, 1);
    g_assert_cmpuint(le32_to_cpu(log.nsids[0]), ==, nsid);
    g_assert_cmphex(log.state, ==, 0x1);
    g_assert_cmpuint(le64_to_cpu(log.chgcnt), ==, 0);

    /* Inaccessible here: event, log, path status without DNR */
    {
        NvmeCmd aec = {
            .opcode = NVME_ADM_CMD_SET_FEATURES,
            .cdw10 = cpu_to_le32(NVME_FEAT_ASYNCHRONOUS_EVENT_CONF),
            .cdw11 = cpu_to_le32(1u << (8 + NVME_AER_NOTICE_ANA_CHANGE)),
        };

        g_assert_cmphex(qnvme_cmd(c.n, 0, &aec, NULL), ==, 0);
    }
    qnvme_submit(c.n, 0, &aer);
    ana_set(&c, "nvme0", 2, "inaccessible", true);
    g_assert_true(qnvme_poll(c.n, 0, &cqe));
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_NOTICE,
                                    NVME_AER_NOTICE_ANA_CHANGE,
                                    NVME_LOG_ANA));
    ana_log(&c, false, &log);
    g_assert_cmphex(log.state, ==, 0x3);
    g_assert_cmpuint(le64_to_cpu(log.chgcnt), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log.grp_chgcnt), ==, 1);
    ana_log(&c, true, &log);
    g_assert_cmpuint(le32_to_cpu(log.nnsids), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, nsid, 0), ==,
                    NVME_SC_ANA_INACCESSIBLE);
    ana_set(&c, "nvme0", 2, "persistent-loss", true);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==,
                    NVME_SC_ANA_PERSISTENT_LOSS);
    ana_set(&c, "nvme0", 2, "change", true);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, nsid, 0), ==,
                    NVME_SC_ANA_TRANSITION);
    ana_set(&c, "nvme0", 2, "non-optimized", true);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, nsid, 0), ==, 0);
    ana_set(&c, "nvme0", 2, "optimized", true);
    ana_log(&c, false, &log);
    g_assert_cmphex(log.state, ==, 0x1);
    g_assert_cmpuint(le64_to_cpu(log.chgcnt), ==, 5);

    /* Another group does not affect this one */
    ana_set(&c, "nvme0", 3, "inaccessible", true);
    g_assert_cmphex(rw(&c, NVME_CMD_READ, nsid, 0), ==, 0);

    /* QMP errors */
    ana_set(&c, "nope", 2, "inaccessible", false);
    ana_set(&c, "nvme0", 0, "inaccessible", false);
    ana_set(&c, "nvme0", 17, "inaccessible", false);
    ana_set(&c, "adm", 1, "inaccessible", false);
}

/* QMP nvme-power-cycle: "until power cycle" ends, controllers reset */
static void test_power_cycle(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    const uint16_t c0 = 0;
    uint32_t nsid;
    QDict *rsp;

    g_assert_cmphex(ns_create(&c, 64, 64, 0, 0, 1, 0, &nsid), ==, 0);
    g_assert_cmphex(ns_attach(&c, 0, nsid, 1, &c0), ==, 0);
    g_assert_cmphex(wp_set(&c, nsid, 2), ==, 0);
    rsp = qtest_qmp(c.qts, "{'execute': 'nvme-power-cycle', "
                    "'arguments': {'id': 'nvme0'}}");
    g_assert_true(qdict_haskey(rsp, "error"));      /* not the subsystem */
    qobject_unref(rsp);
    rsp = qtest_qmp(c.qts, "{'execute': 'nvme-power-cycle', "
                    "'arguments': {'id': 'pool0'}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_cmphex(qnvme_readl(c.n, NVME_REG_CSTS) &
                    (NVME_CSTS_NSSRO_BIT | 1), ==, NVME_CSTS_NSSRO_BIT);
    c = qnvme_ctx_start(obj);
    g_assert_cmphex(wp_get(&c, nsid, 0), ==, 0);
    g_assert_cmphex(rw(&c, NVME_CMD_WRITE, nsid, 0), ==, 0);
}

/* The qos node's controller as an administrative controller. */
static void *admin_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "cntrltype=admin,");
    return arg;
}

static void test_admin_controller(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    Ctx c = { .n = n, .qts = n->dev.bus->qts };
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint64_t iocs[512];
    uint32_t nsids[8];
    uint64_t cap = qnvme_readq(n, NVME_REG_CAP);
    NvmeCmd cmd = {};

    /* No I/O command set: NVM cannot be selected; "all" and "admin" can */
    g_assert_cmphex(NVME_CAP_CSS(cap), ==,
                    NVME_CAP_CSS_ADMIN_ONLY | NVME_CAP_CSS_IOCS);
    g_assert_false(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_ADMIN_ONLY));
    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_ALL));
    c.buf = qnvme_alloc(n, QNVME_PAGE_SIZE);

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpuint(id->cntrltype, ==, NVME_CNTRLTYPE_ADMIN);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_IO_COMMAND_SET, 0, 0, iocs),
                    ==, 0);
    g_assert_cmphex(iocs[0], ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 0);

    /* No I/O queues, and no Number of Queues feature */
    cmd = (NvmeCmd) {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(c.buf),
        .cdw10 = cpu_to_le32(1 | 15 << 16),
        .cdw11 = cpu_to_le32(1),
    };
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_INVALID_OPCODE | DNR);
    cmd = (NvmeCmd) { .opcode = NVME_ADM_CMD_DELETE_SQ,
                      .cdw10 = cpu_to_le32(1) };
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_INVALID_OPCODE | DNR);
    cmd = (NvmeCmd) { .opcode = NVME_ADM_CMD_SET_FEATURES,
                      .cdw10 = cpu_to_le32(NVME_FEAT_NUMBER_OF_QUEUES) };
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, INVALID);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_CMD_EFFECTS, 0, eff,
                                  sizeof(*eff)), ==, 0);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_CMD_CREATE_SQ]), ==, 0);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_CMD_IDENTIFY]) &
                    NVME_CMD_EFF_CSUPP, ==, NVME_CMD_EFF_CSUPP);
}

/* Outside any subsystem there is no Namespace Management/Attachment. */
static void test_no_pool(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    const uint16_t c0 = 0;

    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->oacs) & NVME_OACS_NS_MGMT, ==, 0);
    g_assert_cmphex(ns_create(&c, 8, 8, 0, 0, 1, 0, NULL), ==,
                    NVME_SC_INVALID_OPCODE | DNR);
    g_assert_cmphex(ns_attach(&c, 0, 1, 1, &c0), ==,
                    NVME_SC_INVALID_OPCODE | DNR);
}

/*
 * A QEMU of the test's own on a pool directory, with one controller
 * (CNTLID 0): starting another on the same directory is a restart.
 */
typedef struct PoolVm {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QNvme like;
    Ctx c;
} PoolVm;

static void pool_vm_start(PoolVm *vm, const char *dir)
{
    vm->qts = qtest_initf("-M pc -device nvme-subsys,id=pool1,"
                          "nqn=nqn.2026-11.org.qemu:restart,ns-pool=%s,"
                          "tnvmcap=%d -device nvme,addr=04.0,subsys=pool1,"
                          "serial=restart", dir, TNVMCAP);
    pc_alloc_init(&vm->alloc, vm->qts, ALLOC_NO_FLAGS);
    vm->bus = qpci_new_pc(vm->qts, &vm->alloc);
    vm->like.dev.bus = vm->bus;
    vm->like.alloc = &vm->alloc;
    vm->c = qnvme_ctx_start(qnvme_open_slot(&vm->like, 4));
}

static void pool_vm_stop(PoolVm *vm)
{
    qnvme_close(vm->c.n);
    qpci_free_pc(vm->bus);
    alloc_destroy(&vm->alloc);
    qtest_quit(vm->qts);
}

#define PRACT           (1u << 29)
#define CHK_GUARD_REF   ((1u << 28) | (1u << 26))

/* Format NVM with CDW10 cdw10 (LBAF, MSET, PI, PIL, SES) */
static uint16_t format_lbaf(Ctx *c, uint32_t nsid, uint32_t cdw10)
{
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_FORMAT_NVM,
                    .nsid = cpu_to_le32(nsid),
                    .cdw10 = cpu_to_le32(cdw10) };

    return qnvme_cmd(c->n, 0, &cmd, NULL);
}

/* One block at slba, PRINFO prinfo, expected reference tag ref */
static uint16_t pi_rw(Ctx *c, uint8_t opcode, uint32_t nsid, uint64_t slba,
                      uint32_t prinfo, uint32_t ref)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(prinfo),
        .cdw14 = cpu_to_le32(ref),
    };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static void assert_pool_format(Ctx *c, uint32_t nsid, uint8_t flbas,
                               uint8_t dps, uint64_t nsze)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    g_assert_cmphex(identify(c, NVME_ID_CNS_NS, nsid, 0, id), ==, 0);
    g_assert_cmphex(id->flbas, ==, flbas);
    g_assert_cmphex(id->dps, ==, dps);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, nsze);
}

/* The formats of the namespaces of test_format_restart */
static void assert_restart_formats(Ctx *c)
{
    assert_pool_format(c, 1, 2 | 1 << 4, 1 | 1 << 3, 63);   /* 512 + 8 */
    assert_pool_format(c, 2, 7, 3, 7);                      /* 4096 + 64 */
    assert_pool_format(c, 3, 1, 0, 8);
    assert_pool_format(c, 4, 2, 0, 62);
}

/*
 * Any format Format NVM offers a pool namespace (here LBA formats 2 and
 * 7, with PI type, PIL and MSET) comes back in the next QEMU on the pool,
 * and so do the namespaces of lists written before those were recorded.
 */
static void test_format_restart(void *obj, void *data, QGuestAllocator *a)
{
    char *dir = g_dir_make_tmp("nvme-pool-XXXXXX", NULL);
    g_autofree char *list = NULL, *img3 = NULL, *img4 = NULL, *text = NULL;
    const uint16_t c0 = 0;
    const uint32_t fmt1 = 2 | 1 << 4 | 1 << 5 | 1 << 8, fmt2 = 7 | 3 << 5;
    uint8_t pattern[512], back[512];
    PoolVm vm;
    uint32_t nsid;

    g_assert_nonnull(dir);
    qnvme_remove_dir_at_end(dir);
    pool_dir = dir;
    list = pool_file("namespaces");
    img3 = pool_file("ns-3.img");
    img4 = pool_file("ns-4.img");
    /* Lines of older lists: no pi, pil, mset (nor ana in the oldest) */
    g_assert_true(g_file_set_contents(list,
        "ns nsid=3 nsze=8 lbaf=1 nmic=1 attached=0x00000001 "
        "uuid=6a1d6f0e-4b8e-4f57-9d1e-0e5b1a2c3d43 ana=0\n"
        "ns nsid=4 nsze=62 lbaf=2 nmic=1 attached=0x00000001 "
        "uuid=6a1d6f0e-4b8e-4f57-9d1e-0e5b1a2c3d44\n", -1, NULL));
    g_assert_true(g_file_set_contents(img3, "", 0, NULL));
    g_assert_cmpint(truncate(img3, 8 * 4096), ==, 0);
    g_assert_true(g_file_set_contents(img4, "", 0, NULL));
    g_assert_cmpint(truncate(img4, 62 * 520), ==, 0);

    pool_vm_start(&vm, dir);
    for (int i = 0; i < 2; i++) {
        g_assert_cmphex(ns_create(&vm.c, 64, 64, 0, 0, 1, 0, &nsid), ==, 0);
        g_assert_cmpuint(nsid, ==, i + 1);
        g_assert_cmphex(ns_attach(&vm.c, 0, nsid, 1, &c0), ==, 0);
    }
    g_assert_cmphex(format_lbaf(&vm.c, 1, fmt1), ==, 0);
    g_assert_cmphex(format_lbaf(&vm.c, 2, fmt2), ==, 0);
    assert_restart_formats(&vm.c);
    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 5 + 3;
    }
    qtest_memwrite(vm.qts, vm.c.buf, pattern, sizeof(pattern));
    g_assert_cmphex(pi_rw(&vm.c, NVME_CMD_WRITE, 1, 5, PRACT, 5), ==, 0);
    pool_vm_stop(&vm);
    text = pool_list();
    g_assert_nonnull(strstr(text, " lbaf=2 "));
    g_assert_nonnull(strstr(text, " pi=1 pil=1 mset=1"));

    pool_vm_start(&vm, dir);
    assert_restart_formats(&vm.c);
    /* Type 1 PI at the start of extended LBAs: the tags still check */
    qtest_memset(vm.qts, vm.c.buf, 0, sizeof(back));
    g_assert_cmphex(pi_rw(&vm.c, NVME_CMD_READ, 1, 5, PRACT | CHK_GUARD_REF,
                          5), ==, 0);
    qtest_memread(vm.qts, vm.c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(pi_rw(&vm.c, NVME_CMD_READ, 1, 5, PRACT | CHK_GUARD_REF,
                          6), ==, NVME_SC_REF_TAG_CHECK_ERROR | DNR);
    pool_vm_stop(&vm);
}

/*
 * Namespace Attachment without a pool, on the namespaces the command line
 * defines: the qos node's controller (CNTLID 0) and a second one with an
 * explicit CNTLID whose drive= is its private namespace 1; shared nvme-ns
 * 2, detached nvme-ns 3, nvme-ns 4 private to the first controller, and
 * nvme-ns 5 on a backend that takes 200 ms a request.
 */
#define SECOND_CNTLID   0x1234
#define SECOND_SLOT     5

static void *attach_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=as,");
    g_string_insert(cmd_line, dev - cmd_line->str,
                    "-device nvme-subsys,id=as,"
                    "nqn=nqn.2026-12.org.qemu:attach ");
    g_string_append_printf(cmd_line,
        " -drive id=own,if=none,format=raw,file=%s"
        " -device nvme,id=second,addr=05.0,subsys=as,serial=second,"
        "cntlid=%d,drive=own",
        qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE), SECOND_CNTLID);
    for (int nsid = 2; nsid <= 4; nsid++) {
        g_string_append_printf(cmd_line,
            " -drive id=d%d,if=none,format=raw,file=%s"
            " -device nvme-ns,drive=d%d,nsid=%d,%s", nsid,
            qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE), nsid, nsid,
            nsid == 2 ? "bus=nvme0" : nsid == 3 ? "bus=nvme0,detached=on"
                                                : "bus=nvme0,shared=off");
    }
    g_string_append(cmd_line,
                    " -blockdev null-co,node-name=slow,size=16777216,"
                    "latency-ns=200000000,read-zeroes=on"
                    " -device nvme-ns,drive=slow,bus=nvme0,nsid=5");
    return arg;
}

/* Namespace Attribute Changed notices on, one AER outstanding */
static void aer_arm(Ctx *c)
{
    NvmeCmd aec = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .cdw10 = cpu_to_le32(NVME_FEAT_ASYNCHRONOUS_EVENT_CONF),
        .cdw11 = cpu_to_le32(1u << (8 + NVME_AER_NOTICE_NS_ATTR_CHANGED)),
    };
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };

    g_assert_cmphex(qnvme_cmd(c->n, 0, &aec, NULL), ==, 0);
    qnvme_submit(c->n, 0, &aer);
}

static void aer_check_ns_changed(NvmeCqe *cqe)
{
    g_assert_cmphex(le16_to_cpu(cqe->status) >> 1, ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe->result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_NOTICE,
                                    NVME_AER_NOTICE_NS_ATTR_CHANGED,
                                    NVME_LOG_CHANGED_NSLIST));
}

/*
 * Namespace Attachment of ids, sent to c, that completes the AER armed on
 * the controller told (c itself or another): both complete, in any order.
 */
static void ns_attach_aer(Ctx *c, Ctx *told, uint32_t sel, uint32_t nsid,
                          int count, const uint16_t *ids)
{
    uint16_t list[2048] = { cpu_to_le16(count) };
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_ATTACHMENT,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(sel),
    };
    uint16_t cid;
    NvmeCqe cqe;

    for (int i = 0; i < count; i++) {
        list[i + 1] = cpu_to_le16(ids[i]);
    }
    qtest_memwrite(c->qts, c->buf, list, sizeof(list));
    if (told != c) {
        g_assert_cmphex(qnvme_cmd(c->n, 0, &cmd, NULL), ==, 0);
        g_assert_true(qnvme_poll(told->n, 0, &cqe));
        aer_check_ns_changed(&cqe);
        return;
    }
    cid = qnvme_submit(c->n, 0, &cmd);
    for (int i = 0; i < 2; i++) {
        g_assert_true(qnvme_poll(c->n, 0, &cqe));
        if (le16_to_cpu(cqe.cid) == cid) {
            g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        } else {
            aer_check_ns_changed(&cqe);
        }
    }
}

/* The Changed Namespace List holds exactly nsid (0: is empty); clears it */
static void changed_list_is(Ctx *c, uint32_t nsid)
{
    uint32_t changed[1024];

    g_assert_cmphex(qnvme_get_log(c->n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);
    g_assert_cmpuint(le32_to_cpu(changed[0]), ==, nsid);
    g_assert_cmpuint(changed[1], ==, 0);
}

static bool ns_active(Ctx *c, uint32_t nsid)
{
    uint32_t nsids[8];
    int count = ns_list(c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids);

    for (int i = 0; i < count; i++) {
        if (nsids[i] == nsid) {
            return true;
        }
    }
    return false;
}

/* What the controllers announce, and Namespace Management without a pool */
static void attach_check_capabilities(Ctx *c0, Ctx *c1)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint16_t ids[8];
    uint32_t nsids[8];

    g_assert_cmphex(identify(c1, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->cntlid), ==, SECOND_CNTLID);
    g_assert_cmphex(identify(c0, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->cntlid), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->oacs) & NVME_OACS_NS_MGMT, ==,
                    NVME_OACS_NS_MGMT);
    g_assert_cmpuint(ldq_le_p(id->tnvmcap), ==, 0);
    g_assert_cmpuint(ldq_le_p(id->unvmcap), ==, 0);
    g_assert_cmphex(qnvme_get_log(c0->n, NVME_LOG_CMD_EFFECTS, 0, eff,
                                  sizeof(*eff)), ==, 0);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_CMD_NS_MANAGEMENT]), ==,
                    NVME_CMD_EFF_CSUPP | NVME_CMD_EFF_NIC | NVME_CMD_EFF_NCC);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_CMD_NS_ATTACHMENT]), ==,
                    NVME_CMD_EFF_CSUPP | NVME_CMD_EFF_NIC | NVME_CMD_EFF_NCC);
    /* Both controllers, in CNTLID order, and from CNTID 1 on */
    g_assert_cmpint(ctrl_list(c0, 0, 0, ids), ==, 2);
    g_assert_cmphex(ids[0], ==, 0);
    g_assert_cmphex(ids[1], ==, SECOND_CNTLID);
    g_assert_cmpint(ctrl_list(c0, 0, 1, ids), ==, 1);
    g_assert_cmphex(ids[0], ==, SECOND_CNTLID);
    g_assert_cmpint(ctrl_list(c0, 0, SECOND_CNTLID + 1, ids), ==, 0);
    /* Allocated: all five; active: 2, 4, 5 here and 1, 2, 5 there */
    g_assert_cmpint(ns_list(c0, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 5);
    g_assert_cmpint(ns_list(c0, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 3);
    g_assert_cmpuint(nsids[0], ==, 2);
    g_assert_cmpuint(nsids[1], ==, 4);
    g_assert_cmpuint(nsids[2], ==, 5);
    g_assert_cmpint(ns_list(c1, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 3);
    g_assert_cmpuint(nsids[0], ==, 1);
    g_assert_cmpuint(nsids[1], ==, 2);
    g_assert_cmpuint(nsids[2], ==, 5);
    /* No pool: no capacity to create from; these are not deletable */
    g_assert_cmphex(ns_create(c0, 8, 8, 0, 0, 1, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_NS_INSUFFICIENT_CAPACITY));
    g_assert_cmphex(ns_delete(c0, 2), ==, INVALID);
    g_assert_cmphex(ns_delete(c0, 9), ==, INVALID_NS);
}

/* Shared nvme-ns 2: detached from c0 alone, data kept, attached again */
static void attach_check_detach_shared(Ctx *c0, Ctx *c1)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint8_t pattern[4096], back[4096];
    const uint16_t c0id = 0;
    uint16_t ids[8];

    memset(pattern, 0xa7, sizeof(pattern));
    qtest_memwrite(c0->qts, c0->buf, pattern, sizeof(pattern));
    g_assert_cmphex(rw(c0, NVME_CMD_WRITE, 2, 16), ==, 0);

    aer_arm(c0);
    ns_attach_aer(c0, c0, 1, 2, 1, &c0id);
    changed_list_is(c0, 2);
    changed_list_is(c1, 0);
    /* Inactive here: zeroes, Invalid Namespace for I/O; still allocated */
    g_assert_false(ns_active(c0, 2));
    g_assert_cmphex(identify(c0, NVME_ID_CNS_NS, 2, 0, id), ==, 0);
    g_assert_true(buffer_is_zero(id, sizeof(*id)));
    g_assert_cmphex(identify(c0, NVME_ID_CNS_NS_PRESENT, 2, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, QNVME_TEST_NLBAS);
    g_assert_cmphex(rw(c0, NVME_CMD_READ, 2, 16), ==, INVALID_NS);
    g_assert_cmpint(ctrl_list(c0, 2, 0, ids), ==, 1);
    g_assert_cmphex(ids[0], ==, SECOND_CNTLID);
    /* Still active on the other controller */
    g_assert_cmphex(rw(c1, NVME_CMD_READ, 2, 16), ==, 0);
    g_assert_cmphex(ns_attach(c0, 1, 2, 1, &c0id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_NOT_ATTACHED));

    g_assert_cmphex(ns_attach(c0, 0, 2, 1, &c0id), ==, 0);
    changed_list_is(c0, 2);
    g_assert_true(ns_active(c0, 2));
    g_assert_cmphex(ns_attach(c0, 0, 2, 1, &c0id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_ALREADY_ATTACHED));
    qtest_memset(c0->qts, c0->buf, 0, sizeof(back));
    g_assert_cmphex(rw(c0, NVME_CMD_READ, 2, 16), ==, 0);
    qtest_memread(c0->qts, c0->buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
}

/* Detached nvme-ns 3 attached, from c0, to the other controller */
static void attach_check_other_ctrl(Ctx *c0, Ctx *c1)
{
    const uint16_t c0id = 0, c1id = SECOND_CNTLID;
    const uint16_t both[] = { 0, SECOND_CNTLID };

    g_assert_false(ns_active(c0, 3));
    g_assert_false(ns_active(c1, 3));
    g_assert_cmphex(rw(c1, NVME_CMD_READ, 3, 0), ==, INVALID_NS);
    aer_arm(c1);
    ns_attach_aer(c0, c1, 0, 3, 1, &c1id);
    changed_list_is(c1, 3);
    changed_list_is(c0, 0);
    g_assert_true(ns_active(c1, 3));
    g_assert_false(ns_active(c0, 3));
    g_assert_cmphex(rw(c1, NVME_CMD_WRITE, 3, 0), ==, 0);
    g_assert_cmphex(rw(c0, NVME_CMD_READ, 3, 0), ==, INVALID_NS);
    /* One of the two already has it: nothing changes */
    g_assert_cmphex(ns_attach(c0, 0, 3, 2, both), ==,
                    CMD_SPECIFIC(NVME_SC_NS_ALREADY_ATTACHED));
    g_assert_false(ns_active(c0, 3));
    g_assert_cmphex(ns_attach(c0, 0, 3, 1, &c0id), ==, 0);
    g_assert_cmphex(ns_attach(c0, 1, 3, 2, both), ==, 0);
    g_assert_false(ns_active(c0, 3));
    g_assert_false(ns_active(c1, 3));
    changed_list_is(c0, 3);
    changed_list_is(c1, 3);
}

/* Private namespaces defined on a controller stay with it */
static void attach_check_private(Ctx *c0, Ctx *c1)
{
    const uint16_t c0id = 0, c1id = SECOND_CNTLID;
    const uint16_t both[] = { 0, SECOND_CNTLID };

    /* nvme-ns 4, shared=off, on the first controller's bus */
    g_assert_cmphex(ns_attach(c0, 0, 4, 1, &c1id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(c0, 1, 4, 1, &c0id), ==, 0);
    g_assert_cmphex(rw(c0, NVME_CMD_READ, 4, 0), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(c0, 0, 4, 1, &c1id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(c0, 0, 4, 2, both), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(c0, 0, 4, 1, &c0id), ==, 0);
    g_assert_cmphex(rw(c0, NVME_CMD_READ, 4, 0), ==, 0);

    /* The second controller's drive=, detached through the first */
    g_assert_cmphex(ns_attach(c0, 0, 1, 1, &c0id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(c0, 1, 1, 1, &c1id), ==, 0);
    g_assert_false(ns_active(c1, 1));
    g_assert_cmphex(ns_attach(c0, 0, 1, 1, &c0id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_IS_PRIVATE));
    g_assert_cmphex(ns_attach(c1, 0, 1, 1, &c1id), ==, 0);
    g_assert_cmphex(rw(c1, NVME_CMD_WRITE, 1, 0), ==, 0);
    changed_list_is(c1, 1);
}

static void attach_check_errors(Ctx *c0)
{
    const uint16_t c0id = 0, absent = 7, reserved = 0xffff, twice[] = { 0, 0 };

    g_assert_cmphex(ns_attach(c0, 0, 0, 1, &c0id), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(c0, 0, 9, 1, &c0id), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(c0, 1, 9, 1, &c0id), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(c0, 0, NVME_NSID_BROADCAST, 1, &c0id), ==,
                    INVALID_NS);
    g_assert_cmphex(ns_attach(c0, 2, 2, 1, &c0id), ==, INVALID);
    g_assert_cmphex(ns_attach(c0, 0, 3, 0, NULL), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(c0, 0, 3, 1, &absent), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(c0, 0, 3, 1, &reserved), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(c0, 0, 3, 2, twice), ==,
                    CMD_SPECIFIC(NVME_SC_CONTROLLER_LIST_INVALID));
    g_assert_cmphex(ns_attach(c0, 1, 3, 1, &c0id), ==,
                    CMD_SPECIFIC(NVME_SC_NS_NOT_ATTACHED));
    g_assert_false(ns_active(c0, 3));
}

static void test_attach_no_pool(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c0 = qnvme_ctx_start(obj);
    QNvme *second = qnvme_open_slot(obj, SECOND_SLOT);
    Ctx c1 = qnvme_ctx_start(second);

    attach_check_capabilities(&c0, &c1);
    attach_check_detach_shared(&c0, &c1);
    attach_check_other_ctrl(&c0, &c1);
    attach_check_private(&c0, &c1);
    attach_check_errors(&c0);
    qnvme_close(second);
}

/*
 * Detach while reads (200 ms each) are in flight on both controllers: the
 * detach waits for those fetched; the first controller's later reads find
 * the namespace inactive, the other one's go on.
 */
static void test_detach_in_flight(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c0 = qnvme_ctx_start(obj);
    QNvme *second = qnvme_open_slot(obj, SECOND_SLOT);
    Ctx c1 = qnvme_ctx_start(second);
    const uint16_t c0id = 0;
    NvmeCmd rd = {
        .opcode = NVME_CMD_READ,
        .nsid = cpu_to_le32(5),
        .dptr.prp1 = cpu_to_le64(c0.buf),
    };
    NvmeCmd rd1 = rd;
    NvmeCqe cqe;

    rd1.dptr.prp1 = cpu_to_le64(c1.buf);
    for (int i = 0; i < 3; i++) {
        qnvme_submit(c0.n, 1, &rd);
        qnvme_submit(c1.n, 1, &rd1);
    }
    g_assert_cmphex(ns_attach(&c0, 1, 5, 1, &c0id), ==, 0);
    for (int i = 0; i < 3; i++) {
        uint16_t status;

        g_assert_true(qnvme_poll(c0.n, 1, &cqe));
        status = le16_to_cpu(cqe.status) >> 1;
        g_assert_true(status == 0 || status == INVALID_NS);
        g_assert_true(qnvme_poll(c1.n, 1, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    }
    g_assert_cmphex(rw(&c0, NVME_CMD_READ, 5, 0), ==, INVALID_NS);
    g_assert_cmphex(rw(&c1, NVME_CMD_READ, 5, 0), ==, 0);
    /* Detached with reads in flight on the other one, attached again */
    qnvme_submit(c1.n, 1, &rd1);
    g_assert_cmphex(ns_attach(&c0, 1, 5, 1, (uint16_t[]) { SECOND_CNTLID }),
                    ==, 0);
    g_assert_true(qnvme_poll(c1.n, 1, &cqe));
    g_assert_true((le16_to_cpu(cqe.status) >> 1) == 0 ||
                  (le16_to_cpu(cqe.status) >> 1) == INVALID_NS);
    g_assert_cmphex(ns_attach(&c0, 0, 5, 1, &c0id), ==, 0);
    g_assert_cmphex(rw(&c0, NVME_CMD_READ, 5, 0), ==, 0);
    qnvme_close(second);
}

/* An x-nvme-ns-nvm object, attached-to the qos node's controller only */
static void *attach_object_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=ao,");
    g_string_append_printf(cmd_line,
        " -object x-nvme-subsystem,id=ao,nqn=nqn.2026-12.org.qemu:objects"
        " -device nvme,id=second,addr=05.0,subsys=ao,serial=second,"
        "cntlid=%d"
        " -drive id=od,if=none,format=raw,file=%s"
        " -object x-nvme-ns-nvm,id=ons,subsys=ao,drive=od,nsid=1,"
        "attached-to=nvme0", SECOND_CNTLID,
        qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
    return arg;
}

static void test_attach_object(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c0 = qnvme_ctx_start(obj);
    QNvme *second = qnvme_open_slot(obj, SECOND_SLOT);
    Ctx c1 = qnvme_ctx_start(second);
    const uint16_t c0id = 0, c1id = SECOND_CNTLID;

    g_assert_true(ns_active(&c0, 1));
    g_assert_false(ns_active(&c1, 1));
    g_assert_cmphex(ns_attach(&c0, 1, 1, 1, &c0id), ==, 0);
    g_assert_cmphex(rw(&c0, NVME_CMD_READ, 1, 0), ==, INVALID_NS);
    g_assert_cmphex(ns_attach(&c0, 0, 1, 1, &c1id), ==, 0);
    changed_list_is(&c1, 1);
    g_assert_cmphex(rw(&c1, NVME_CMD_WRITE, 1, 0), ==, 0);
    g_assert_cmphex(ns_attach(&c1, 0, 1, 1, &c0id), ==, 0);
    g_assert_cmphex(rw(&c0, NVME_CMD_READ, 1, 0), ==, 0);
    qnvme_close(second);
}

static void register_nvme_nsmgmt_tests(void)
{
    QOSGraphTestOptions pool = { .before = pool_setup };
    QOSGraphTestOptions plain = { .before = qnvme_setup_one_namespace };
    QOSGraphTestOptions admin = { .before = admin_setup };
    QOSGraphTestOptions crash = { .before = crash_setup };
    QOSGraphTestOptions attach = { .before = attach_setup };
    QOSGraphTestOptions attach_object = { .before = attach_object_setup };

    qos_add_test("nsmgmt-capabilities", "nvme-nsmgmt", test_capabilities,
                 &pool);
    qos_add_test("nsmgmt-create-attach-delete", "nvme-nsmgmt",
                 test_create_attach_delete, &pool);
    qos_add_test("nsmgmt-private", "nvme-nsmgmt", test_private, &pool);
    qos_add_test("nsmgmt-errors", "nvme-nsmgmt", test_errors, &pool);
    qos_add_test("nsmgmt-nsid-exhaustion", "nvme-nsmgmt", test_nsid_exhaustion,
                 &pool);
    qos_add_test("nsmgmt-crash-states", "nvme-nsmgmt", test_crash_states,
                 &crash);
    qos_add_test("nsmgmt-no-pool", "nvme-nsmgmt", test_no_pool, &plain);
    qos_add_test("admin-controller", "nvme-nsmgmt", test_admin_controller,
                 &admin);
    qos_add_test("write-protect", "nvme-nsmgmt", test_write_protect, &pool);
    qos_add_test("ana", "nvme-nsmgmt", test_ana, &pool);
    qos_add_test("power-cycle", "nvme-nsmgmt", test_power_cycle, &pool);
    qos_add_test("format-restart", "nvme-nsmgmt", test_format_restart,
                 &plain);
    qos_add_test("write-protect-no-pool", "nvme-nsmgmt",
                 test_write_protect_no_pool, &plain);
    qos_add_test("attach-no-pool", "nvme-nsmgmt", test_attach_no_pool,
                 &attach);
    qos_add_test("detach-in-flight", "nvme-nsmgmt", test_detach_in_flight,
                 &attach);
    qos_add_test("attach-object", "nvme-nsmgmt", test_attach_object,
                 &attach_object);
}

libqos_init(register_nvme_nsmgmt_tests);
