/*
 * qtests of the controller and namespace properties that change what the
 * guest sees: AER limits, Verify size limit, EUI-64 default, queue count,
 * Doorbell Buffer Config, MSI-X BAR, initial critical warning, copy
 * limits, ctratt.mem and explicit controller IDs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"
#include "qobject/qdict.h"

/*
 * cntlid: an explicit Controller ID. The qos node's controller sets one
 * in a subsystem whose other two number themselves: they take the lowest
 * IDs unused, as they always did.
 */
#define KNOBS_CNTLID    0x1234

static void *cntlid_subsys_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=ks,cntlid=4660,");
    g_string_insert(cmd_line, dev - cmd_line->str,
                    "-device nvme-subsys,id=ks ");
    g_string_append(cmd_line, " -device nvme,subsys=ks,serial=k1"
                    " -device nvme,subsys=ks,serial=k2");
    return arg;
}

/* Identify Controller CNTLID, and the CNS 13h list of the subsystem */
static void cntlid_check(QNvme *n, uint16_t cntlid, int count,
                         const uint16_t *expect)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    uint16_t list[2048];

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id->cntlid), ==, cntlid);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL_LIST, 0, 0, list), ==,
                    0);
    g_assert_cmpuint(le16_to_cpu(list[0]), ==, count);
    for (int i = 0; i < count; i++) {
        g_assert_cmphex(le16_to_cpu(list[i + 1]), ==, expect[i]);
    }
}

static void test_cntlid_subsys(void *obj, void *data, QGuestAllocator *a)
{
    cntlid_check(obj, KNOBS_CNTLID, 3, (uint16_t[]) { 0, 1, KNOBS_CNTLID });
}

/* Outside a subsystem it is just the controller's ID: the highest one */
static void *cntlid_alone_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "cntlid=65519,");
    return arg;
}

static void test_cntlid_alone(void *obj, void *data, QGuestAllocator *a)
{
    cntlid_check(obj, 0xffef, 1, (uint16_t[]) { 0xffef });
}

static void test_cntlid_invalid(void *obj, void *data, QGuestAllocator *a)
{
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,cntlid=65520",
                               "nvme: cntlid must be between 1 and 0xffef");
    qnvme_expect_start_failure("-M pc -device nvme-subsys,id=s "
                               "-device nvme,id=ca,subsys=s,serial=a,"
                               "cntlid=5 "
                               "-device nvme,subsys=s,serial=b,cntlid=5",
                               "nvme: cntlid 5 is already used by "
                               "controller ca of subsystem "
                               "nqn.2019-08.org.qemu:s");
    /* An automatic ID is taken at creation: later explicit ones avoid it */
    qnvme_expect_start_failure("-M pc -device nvme-subsys,id=s "
                               "-device nvme,id=ca,subsys=s,serial=a "
                               "-device nvme,id=cb,subsys=s,serial=b "
                               "-device nvme,subsys=s,serial=c,cntlid=1",
                               "nvme: cntlid 1 is already used by "
                               "controller cb");
}

/*
 * aerl, aer_max_queued, vsl, num_queues, dbcs, smart_critical_warning,
 * ctratt.mem (nvme) and eui64-default, mcl, mssrl, msrc (nvme-ns)
 */

#define KNOBS_DNR       NVME_SC_DNR
#define KNOBS_INVALID   (NVME_SC_INVALID_FIELD | KNOBS_DNR)
#define KNOBS_CSL       (NVME_SC_COMMAND_SIZE_LIMIT | KNOBS_DNR)
#define KNOBS_BS        512

static QTestState *knobs_qts(QNvme *n)
{
    return n->dev.bus->qts;
}

/* The qos node's -device nvme gets props (comma-terminated) first */
static void knobs_ctrl_props(GString *cmd_line, const char *props)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    props);
}

static NvmeIdCtrl *knobs_id_ctrl(QNvme *n)
{
    NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    return id;
}

/* An I/O command on queue 1: SLBA, NLB (1's based), PRP1 and PRP2 */
static uint16_t knobs_io(QNvme *n, uint8_t opcode, uint32_t nsid,
                         uint64_t slba, uint32_t nlb, uint64_t prp1,
                         uint64_t prp2)
{
    return qnvme_rw(n, 1, opcode, nsid, slba, nlb, prp1, prp2);
}

static uint16_t knobs_aer_submit(QNvme *n)
{
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };

    return qnvme_submit(n, 0, &aer);
}

/* The next admin completion is AER cid with result type/info/log */
static void knobs_aer_expect(QNvme *n, uint16_t cid, uint8_t type,
                             uint8_t info, uint8_t lid)
{
    NvmeCqe cqe;

    g_assert_true(qnvme_poll(n, 0, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(type, info, lid));
}

static uint16_t knobs_set_feature(QNvme *n, uint8_t fid, uint32_t dw11,
                                  uint32_t *dw0)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .cdw10 = cpu_to_le32(fid),
        .cdw11 = cpu_to_le32(dw11),
    };
    NvmeCqe cqe;
    uint16_t status = qnvme_cmd(n, 0, &cmd, &cqe);

    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}

/* aerl: AERL in Identify, and AERL + 1 AERs outstanding at most */

static void *aerl_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "aerl=5,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_aerl(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    g_autofree NvmeIdCtrl *id = NULL;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    uint16_t cids[6];

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    id = knobs_id_ctrl(n);
    g_assert_cmpuint(id->aerl, ==, 5);
    for (int i = 0; i < 6; i++) {
        cids[i] = knobs_aer_submit(n);
    }
    /* The seventh exceeds AERL + 1; the six stay outstanding */
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_AER_LIMIT_EXCEEDED | KNOBS_DNR);
    /* Each of them takes an event (a bad doorbell and its log read) */
    for (int i = 0; i < 6; i++) {
        g_autofree uint8_t *log = g_malloc(64);

        qnvme_writel(n, NVME_REG_DBS + 8 * 7, 1);
        knobs_aer_expect(n, cids[5 - i], NVME_AER_TYPE_ERROR,
                         NVME_AER_ERR_INVALID_DB_REGISTER,
                         NVME_LOG_ERROR_INFO);
        g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log, 64),
                        ==, 0);
    }
}

/* aerl=0: a single outstanding AER */
static void *aerl0_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "aerl=0,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_aerl0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    g_autofree NvmeIdCtrl *id = NULL;
    NvmeCmd cmd = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    id = knobs_id_ctrl(n);
    g_assert_cmpuint(id->aerl, ==, 0);
    knobs_aer_submit(n);
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    NVME_SC_AER_LIMIT_EXCEEDED | KNOBS_DNR);
}

/*
 * aer_max_queued=2: with no AER outstanding, two events wait and a third
 * is dropped; the oldest are the ones delivered.
 */
static void *aer_queued_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "aer_max_queued=2,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_aer_max_queued(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    uint8_t log[64];
    uint16_t cid;

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    /* Invalid doorbell register, invalid value, invalid register again */
    qnvme_writel(n, NVME_REG_DBS + 8 * 7, 1);
    qnvme_writel(n, NVME_REG_DBS + 4, 0xffff);
    qnvme_writel(n, NVME_REG_DBS + 8 * 6, 1);
    cid = knobs_aer_submit(n);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_ERROR,
                     NVME_AER_ERR_INVALID_DB_REGISTER, NVME_LOG_ERROR_INFO);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log, 64), ==, 0);
    cid = knobs_aer_submit(n);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_ERROR,
                     NVME_AER_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log, 64), ==, 0);
    /* The third was dropped: this AER takes the next event, a new one */
    cid = knobs_aer_submit(n);
    qnvme_writel(n, NVME_REG_DBS + 4, 0xfffe);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_ERROR,
                     NVME_AER_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
}

/* aer_max_queued=100: more than the queue first holds (it grows) */
static void *aer_queued100_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "aer_max_queued=100,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_aer_max_queued100(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    uint8_t log[64];
    uint16_t cid;

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    /* 100 invalid values wait; the 101st, an invalid register, drops */
    for (int i = 0; i < 100; i++) {
        qnvme_writel(n, NVME_REG_DBS + 4, 0xffff);
    }
    qnvme_writel(n, NVME_REG_DBS + 8 * 7, 1);
    for (int i = 0; i < 101; i++) {
        cid = knobs_aer_submit(n);
        if (i == 100) {
            qnvme_writel(n, NVME_REG_DBS + 4, 0xfffe);
        }
        knobs_aer_expect(n, cid, NVME_AER_TYPE_ERROR,
                         NVME_AER_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
        g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log, 64),
                        ==, 0);
    }
}

/* aer_max_queued=0: nothing waits, but an outstanding AER still gets it */
static void *aer_queued0_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "aer_max_queued=0,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_aer_max_queued0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    uint8_t log[64];
    uint16_t cid;

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    qnvme_writel(n, NVME_REG_DBS + 8 * 7, 1);
    cid = knobs_aer_submit(n);
    qnvme_writel(n, NVME_REG_DBS + 4, 0xffff);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_ERROR,
                     NVME_AER_ERR_INVALID_DB_VALUE, NVME_LOG_ERROR_INFO);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_ERROR_INFO, 0, log, 64), ==, 0);
}

/* vsl: Identify (CNS 06h, NVM) and Verify limited to 2^vsl * 4 KiB */

static void *vsl_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "vsl=1,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void vsl_check(QNvme *n, uint8_t vsl, uint32_t max_nlb)
{
    g_autofree NvmeIdCtrlNvm *id = g_new0(NvmeIdCtrlNvm, 1);

    qnvme_start_with_io_queue(n);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CS_CTRL, 0, NVME_CSI_NVM,
                                   id), ==, 0);
    g_assert_cmpuint(id->vsl, ==, vsl);
    g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 1, 0, max_nlb, 0, 0), ==, 0);
    if (max_nlb < QNVME_TEST_NLBAS) {
        g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 1, 0, max_nlb + 1, 0,
                                 0), ==, KNOBS_INVALID);
        g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 1, 100, max_nlb + 1, 0,
                                 0), ==, KNOBS_INVALID);
    }
}

static void test_vsl(void *obj, void *data, QGuestAllocator *a)
{
    vsl_check(obj, 1, 8 * KiB / KNOBS_BS);
}

/* The default, 7: 512 KiB */
static void test_vsl_default(void *obj, void *data, QGuestAllocator *a)
{
    vsl_check(obj, 7, 512 * KiB / KNOBS_BS);
}

/* 0: no limit, the whole namespace */
static void *vsl0_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "vsl=0,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void test_vsl0(void *obj, void *data, QGuestAllocator *a)
{
    vsl_check(obj, 0, QNVME_TEST_NLBAS);
}

/*
 * ctratt.mem: MDTS (mdts=1, 8 KiB) and VSL (vsl=1, 8 KiB) count the
 * interleaved metadata of an extended LBA namespace (nsid 1: 512 + 8
 * bytes per block) unless CTRATT.MEM is set; metadata in a separate
 * buffer (nsid 2) never counts.
 */
static void *mem_setup(GString *cmd_line, bool mem)
{
    knobs_ctrl_props(cmd_line, mem ? "mdts=1,vsl=1,ctratt.mem=on,"
                                   : "mdts=1,vsl=1,");
    g_string_append_printf(cmd_line,
                           " -drive id=m1,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=m1,bus=nvme0,nsid=1,"
                           "ms=8,mset=1"
                           " -drive id=m2,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=m2,bus=nvme0,nsid=2,"
                           "ms=8,mset=0",
                           qnvme_tmp_image(4 * MiB),
                           qnvme_tmp_image(4 * MiB));
    return NULL;
}

static void *mem_on_setup(GString *cmd_line, void *arg)
{
    mem_setup(cmd_line, true);
    return arg;
}

static void *mem_off_setup(GString *cmd_line, void *arg)
{
    mem_setup(cmd_line, false);
    return arg;
}

/* Read of nlb blocks into a buffer of 3 pages (PRP list) */
static uint16_t mem_read(QNvme *n, uint32_t nsid, uint32_t nlb)
{
    uint64_t buf = qnvme_alloc(n, 3 * QNVME_PAGE_SIZE);
    uint64_t list = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t entries[2] = {
        cpu_to_le64(buf + QNVME_PAGE_SIZE),
        cpu_to_le64(buf + 2 * QNVME_PAGE_SIZE),
    };

    qtest_memwrite(knobs_qts(n), list, entries, sizeof(entries));
    return knobs_io(n, NVME_CMD_READ, nsid, 0, nlb, buf, list);
}

static void test_ctratt_mem(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    bool mem = data != NULL;
    g_autofree NvmeIdCtrl *id = NULL;
    /* Blocks of 520 bytes in 8 KiB: 15 with metadata, 16 without */
    uint32_t max = mem ? 16 : 15;

    qnvme_start_with_io_queue(n);
    id = knobs_id_ctrl(n);
    g_assert_cmphex(le32_to_cpu(id->ctratt) & NVME_CTRATT_MEM, ==,
                    mem ? NVME_CTRATT_MEM : 0);
    g_assert_cmphex(mem_read(n, 1, max), ==, 0);
    g_assert_cmphex(mem_read(n, 1, max + 1), ==, KNOBS_INVALID);
    g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 1, 0, max, 0, 0), ==, 0);
    g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 1, 0, max + 1, 0, 0), ==,
                    KNOBS_INVALID);
    /* Metadata at MPTR is no part of the data transfer */
    g_assert_cmphex(mem_read(n, 2, 16), ==, 0);
    g_assert_cmphex(mem_read(n, 2, 17), ==, KNOBS_INVALID);
    g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 2, 0, 16, 0, 0), ==, 0);
    g_assert_cmphex(knobs_io(n, NVME_CMD_VERIFY, 2, 0, 17, 0, 0), ==,
                    KNOBS_INVALID);
}

/* num_queues: the deprecated max_ioqpairs + 1 */

static uint16_t knobs_create_cq(QNvme *n, uint16_t qid)
{
    uint64_t ring = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_CREATE_CQ,
        .dptr.prp1 = cpu_to_le64(ring),
        .cdw10 = cpu_to_le32(qid | (15 << 16)),
        .cdw11 = cpu_to_le32(1),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

static void test_num_queues(void *obj, void *data, QGuestAllocator *a)
{
    g_autofree char *err_path = NULL;
    g_autofree char *err = NULL;
    g_autofree char *args = NULL;
    int fd = g_file_open_tmp("nvme-qtest-err-XXXXXX", &err_path, NULL);
    QNvmeVm vm;
    QDict *rsp;
    uint32_t dw0;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    args = g_strdup_printf("-device nvme,id=nq,addr=04.0,serial=nq,"
                           "num_queues=5 2>%s", err_path);
    qnvme_vm_start(&vm, 4, args);
    /* Four I/O queue pairs: max_ioqpairs reads back 4 */
    rsp = qtest_qmp(vm.qts, "{'execute': 'qom-get', 'arguments': "
                    "{'path': '/machine/peripheral/nq', "
                    "'property': 'max_ioqpairs'}}");
    g_assert_cmpint(qdict_get_int(rsp, "return"), ==, 4);
    qobject_unref(rsp);
    g_assert_true(qnvme_enable(vm.n, 32, NVME_CC_CSS_NVM));
    g_assert_cmphex(knobs_set_feature(vm.n, NVME_FEAT_NUMBER_OF_QUEUES,
                                      0x00ff00ff, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 3 | (3 << 16));
    g_assert_cmphex(knobs_create_cq(vm.n, 4), ==, 0);
    g_assert_cmphex(knobs_create_cq(vm.n, 5), ==,
                    NVME_SC_INVALID_QUEUE_ID | KNOBS_DNR);
    qnvme_vm_stop(&vm);
    g_assert_true(g_file_get_contents(err_path, &err, NULL, NULL));
    unlink(err_path);
    g_assert_nonnull(strstr(err, "num_queues is deprecated"));
}

static void test_num_queues_invalid(void *obj, void *data,
                                    QGuestAllocator *a)
{
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,num_queues=5,"
                               "max_ioqpairs=8",
                               "nvme: num_queues=5 and max_ioqpairs=8 "
                               "disagree");
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,num_queues=1",
                               "nvme: num_queues must be at least 2");
}

/* dbcs=off: no Doorbell Buffer Config, I/O still works */

static void *dbcs_off_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "dbcs=off,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void dbcs_check(QNvme *n, bool dbcs)
{
    QNvmeCtx c = qnvme_ctx_start(n);
    g_autofree NvmeIdCtrl *id = knobs_id_ctrl(n);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint64_t dbs = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint64_t eis = qnvme_alloc(n, QNVME_PAGE_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_DBBUF_CONFIG,
        .dptr.prp1 = cpu_to_le64(dbs),
        .dptr.prp2 = cpu_to_le64(eis),
    };
    uint8_t out[KNOBS_BS], in[KNOBS_BS];

    g_assert_cmphex(le16_to_cpu(id->oacs) & NVME_OACS_DBBUF, ==,
                    dbcs ? NVME_OACS_DBBUF : 0);
    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_CMD_EFFECTS, 0, eff,
                                  sizeof(*eff)), ==, 0);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_CMD_DBBUF_CONFIG]), ==,
                    dbcs ? NVME_CMD_EFF_CSUPP : 0);
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==,
                    dbcs ? 0 : NVME_SC_INVALID_OPCODE | KNOBS_DNR);
    if (dbcs) {
        return;     /* shadow doorbells: nvme-ctrl's shadow-doorbells */
    }
    /* Plain doorbells still move I/O */
    memset(out, 0x5a, sizeof(out));
    qtest_memwrite(c.qts, c.buf, out, sizeof(out));
    g_assert_cmphex(knobs_io(n, NVME_CMD_WRITE, 1, 7, 1, c.buf, 0), ==, 0);
    qtest_memset(c.qts, c.buf, 0, sizeof(in));
    g_assert_cmphex(knobs_io(n, NVME_CMD_READ, 1, 7, 1, c.buf, 0), ==, 0);
    qtest_memread(c.qts, c.buf, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
}

static void test_dbcs_off(void *obj, void *data, QGuestAllocator *a)
{
    dbcs_check(obj, false);
}

static void test_dbcs_default(void *obj, void *data, QGuestAllocator *a)
{
    dbcs_check(obj, true);
}

/*
 * smart_critical_warning: the log's Critical Warning from the start; the
 * host gets a SMART / Health event per bit when it enables that bit, and
 * for bits that qom-set adds later.
 */
static void *smart_setup(GString *cmd_line, void *arg)
{
    knobs_ctrl_props(cmd_line, "smart_critical_warning=5,");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static uint8_t smart_warning(QNvme *n)
{
    NvmeSmartLog log;

    g_assert_cmphex(qnvme_get_log(n, NVME_LOG_SMART_INFO,
                                  NVME_NSID_BROADCAST, &log, sizeof(log)),
                    ==, 0);
    return log.critical_warning;
}

/*
 * Set Features AEC = aec, which completes AER aer_cid with a SMART event
 * of info info: the two completions come in either order.
 */
static void smart_enable(QNvme *n, uint32_t aec, uint16_t aer_cid,
                         uint8_t info)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .cdw10 = cpu_to_le32(NVME_FEAT_ASYNCHRONOUS_EVENT_CONF),
        .cdw11 = cpu_to_le32(aec),
    };
    uint16_t cid = qnvme_submit(n, 0, &cmd);
    bool saw_set = false, saw_aer = false;
    NvmeCqe cqe;

    for (int i = 0; i < 2; i++) {
        g_assert_true(qnvme_poll(n, 0, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        if (le16_to_cpu(cqe.cid) == cid) {
            saw_set = true;
            continue;
        }
        g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, aer_cid);
        g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                        NVME_AER_RESULT(NVME_AER_TYPE_SMART, info,
                                        NVME_LOG_SMART_INFO));
        saw_aer = true;
    }
    g_assert_true(saw_set && saw_aer);
}

static void test_smart_warning(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    QDict *rsp;
    uint16_t cid;

    g_assert_true(qnvme_enable(n, 32, NVME_CC_CSS_NVM));
    cid = knobs_aer_submit(n);
    /* Enabling the temperature warning only: bit 1 is not set */
    g_assert_cmphex(knobs_set_feature(n, NVME_FEAT_ASYNCHRONOUS_EVENT_CONF,
                                      NVME_SMART_WARN_TEMPERATURE, NULL),
                    ==, 0);
    /* Spare (bit 0) and reliability (bit 2): one event each, in order */
    smart_enable(n, 0x7, cid, NVME_AER_SMART_SPARE_THRESHOLD);
    /* The second waits until the log is read, for the next AER */
    g_assert_cmphex(smart_warning(n), ==, 0x5);
    cid = knobs_aer_submit(n);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_SMART,
                     NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART_INFO);
    g_assert_cmphex(smart_warning(n), ==, 0x5);

    /* qom-set adds the temperature bit: an event, and the log shows it */
    cid = knobs_aer_submit(n);
    rsp = qtest_qmp(knobs_qts(n), "{'execute': 'qom-set', 'arguments': "
                    "{'path': '/machine/peripheral/nvme0', "
                    "'property': 'smart_critical_warning', 'value': 7}}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    knobs_aer_expect(n, cid, NVME_AER_TYPE_SMART,
                     NVME_AER_SMART_TEMP_THRESHOLD, NVME_LOG_SMART_INFO);
    g_assert_cmphex(smart_warning(n), ==, 0x7);
    /* Reserved bits are refused at runtime too */
    rsp = qtest_qmp(knobs_qts(n), "{'execute': 'qom-set', 'arguments': "
                    "{'path': '/machine/peripheral/nvme0', "
                    "'property': 'smart_critical_warning', 'value': 64}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    g_assert_cmphex(smart_warning(n), ==, 0x7);
}

static void test_smart_warning_invalid(void *obj, void *data,
                                       QGuestAllocator *a)
{
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,"
                               "smart_critical_warning=64",
                               "nvme: smart_critical_warning 0x40 has "
                               "reserved bits set");
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,"
                               "smart_critical_warning=32",
                               "needs a PMR (pmrdev)");
}

/*
 * eui64-default: without eui64, an EUI-64 under 52:54:00 from the NQN
 * and NSID, the same at every start; an explicit eui64 wins; off (the
 * default) leaves none.
 */
#define EUI_ARGS "-device nvme,addr=04.0,serial=eui " \
                 "-drive id=e1,if=none,file=%s,format=raw " \
                 "-device nvme-ns,drive=e1,nsid=1,eui64-default=on " \
                 "-drive id=e2,if=none,file=%s,format=raw " \
                 "-device nvme-ns,drive=e2,nsid=2,eui64-default=on," \
                 "eui64=0x1122334455667788 " \
                 "-drive id=e3,if=none,file=%s,format=raw " \
                 "-device nvme-ns,drive=e3,nsid=3"

/* Identify Namespace EUI64 and the descriptor list's (0: none) */
static uint64_t eui_of(QNvme *n, uint32_t nsid)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint8_t list[NVME_IDENTIFY_DATA_SIZE];
    uint64_t eui, descr = 0;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, nsid, 0, id), ==, 0);
    eui = be64_to_cpu(id->eui64);
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_DESCR_LIST, nsid, 0,
                                   list), ==, 0);
    for (int off = 0; off < sizeof(list) - 4 && list[off];
         off += 4 + list[off + 1]) {
        if (list[off] == NVME_NIDT_EUI64) {
            g_assert_cmpuint(list[off + 1], ==, 8);
            descr = ldq_be_p(list + off + 4);
        }
    }
    g_assert_cmphex(descr, ==, eui);
    return eui;
}

static void eui_start(QNvmeVm *vm, const char *img[3], uint64_t eui[3])
{
    g_autofree char *args = g_strdup_printf(EUI_ARGS, img[0], img[1],
                                            img[2]);

    qnvme_vm_start(vm, 4, args);
    g_assert_true(qnvme_enable(vm->n, 32, NVME_CC_CSS_NVM));
    for (int i = 0; i < 3; i++) {
        eui[i] = eui_of(vm->n, i + 1);
    }
    qnvme_vm_stop(vm);
}

static void test_eui64_default(void *obj, void *data, QGuestAllocator *a)
{
    const char *img[3] = {
        qnvme_tmp_image(MiB), qnvme_tmp_image(MiB), qnvme_tmp_image(MiB),
    };
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    const char *key = "nqn.2019-08.org.qemu:eui/1/eui64";
    uint8_t digest[32];
    gsize len = sizeof(digest);
    uint64_t first[3], second[3];
    QNvmeVm vm;

    eui_start(&vm, img, first);
    eui_start(&vm, img, second);
    g_assert_cmpmem(first, sizeof(first), second, sizeof(second));
    /* The documented scheme: OUI 52:54:00, 40 bits of SHA-256(key) */
    g_checksum_update(sum, (const guchar *)key, strlen(key));
    g_checksum_get_digest(sum, digest, &len);
    g_assert_cmphex(first[0], ==,
                    (0x525400ULL << 40) | (ldq_be_p(digest) >> 24));
    g_assert_cmphex(first[1], ==, 0x1122334455667788ULL);
    g_assert_cmphex(first[2], ==, 0);
}

/* mcl, mssrl, msrc: Identify Namespace and Copy's Command Size Limit */

static void *copy_limits_setup(GString *cmd_line, void *arg)
{
    /* Also a controller with drive=: its namespace has the defaults */
    g_string_append_printf(cmd_line,
                           " -drive id=c1,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=c1,bus=nvme0,nsid=1,"
                           "mcl=16,mssrl=8,msrc=3"
                           " -drive id=c2,if=none,file=%s,format=raw"
                           " -device nvme,addr=05.0,serial=implicit,"
                           "drive=c2",
                           qnvme_tmp_image(MiB), qnvme_tmp_image(MiB));
    return arg;
}

static uint16_t knobs_copy(QNvmeCtx *c, uint64_t sdlba, int nr,
                           uint32_t nlb)
{
    NvmeCopySourceRange r[8] = {};
    NvmeCmd cmd = {
        .opcode = NVME_CMD_COPY,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->aux),
        .cdw10 = cpu_to_le32(sdlba),
        .cdw12 = cpu_to_le32(nr - 1),
    };

    g_assert_cmpint(nr, <=, ARRAY_SIZE(r));
    for (int i = 0; i < nr; i++) {
        r[i].slba = cpu_to_le64(i * 32);
        r[i].nlb = cpu_to_le16(nlb - 1);
    }
    qtest_memwrite(c->qts, c->aux, r, sizeof(r));
    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static void copy_limits_identify(QNvme *n, uint32_t mcl, uint16_t mssrl,
                                 uint8_t msrc)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(le32_to_cpu(id->mcl), ==, mcl);
    g_assert_cmpuint(le16_to_cpu(id->mssrl), ==, mssrl);
    g_assert_cmpuint(id->msrc, ==, msrc);
}

static void test_copy_limits(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    uint8_t out[KNOBS_BS], in[KNOBS_BS];
    QNvme *implicit;

    copy_limits_identify(c.n, 16, 8, 3);
    /* Within the limits: 2 ranges of MSSRL = MCL; MSRC + 1 ranges */
    memset(out, 0x3c, sizeof(out));
    qtest_memwrite(c.qts, c.buf, out, sizeof(out));
    g_assert_cmphex(knobs_io(c.n, NVME_CMD_WRITE, 1, 39, 1, c.buf, 0), ==, 0);
    g_assert_cmphex(knobs_copy(&c, 1000, 2, 8), ==, 0);
    g_assert_cmphex(knobs_io(c.n, NVME_CMD_READ, 1, 1015, 1, c.buf, 0), ==,
                    0);
    qtest_memread(c.qts, c.buf, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));
    g_assert_cmphex(knobs_copy(&c, 1000, 4, 4), ==, 0);
    /* A range over MSSRL, a total over MCL, more ranges than MSRC + 1 */
    g_assert_cmphex(knobs_copy(&c, 1000, 1, 9), ==, KNOBS_CSL);
    g_assert_cmphex(knobs_copy(&c, 1000, 3, 8), ==, KNOBS_CSL);
    g_assert_cmphex(knobs_copy(&c, 1000, 5, 1), ==, KNOBS_CSL);

    /* drive= on the controller: the defaults */
    implicit = qnvme_open_slot(c.n, 5);
    g_assert_true(qnvme_enable(implicit, 32, NVME_CC_CSS_NVM));
    copy_limits_identify(implicit, 128, 128, 127);
    qnvme_close(implicit);
}

/* x-nvme-ns-nvm carries them too */
static void test_copy_limits_object(void *obj, void *data,
                                    QGuestAllocator *a)
{
    g_autofree char *args = g_strdup_printf(
        "-object x-nvme-subsystem,id=s,nqn=nqn.2026-12.org.qemu:copy "
        "-device nvme,id=c0,addr=04.0,serial=co,subsys=s "
        "-drive id=d1,if=none,file=%s,format=raw "
        "-object x-nvme-ns-nvm,id=n1,subsys=s,drive=d1,nsid=1,"
        "attached-to=all,mcl=64,mssrl=32,msrc=7,eui64-default=on",
        qnvme_tmp_image(MiB));
    QNvmeVm vm;

    qnvme_vm_start(&vm, 4, args);
    g_assert_true(qnvme_enable(vm.n, 32, NVME_CC_CSS_NVM));
    copy_limits_identify(vm.n, 64, 32, 7);
    g_assert_cmphex(eui_of(vm.n, 1) >> 40, ==, 0x525400);
    qnvme_vm_stop(&vm);
}

static void test_copy_limits_invalid(void *obj, void *data,
                                     QGuestAllocator *a)
{
    char *img = qnvme_tmp_image(MiB);
    struct {
        const char *props, *expect;
    } bad[] = {
        { "mssrl=0", "nvme namespace: mssrl must be at least 1" },
        { "mcl=8,mssrl=16", "nvme namespace: mcl (8) must not be smaller "
                            "than mssrl (16)" },
        { "mcl=8,mssrl=8,msrc=8", "nvme namespace: mcl (8) must allow one "
                                  "block for each of the msrc + 1 (9)" },
    };

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *args = g_strdup_printf(
            "-M pc -device nvme,id=c,serial=a "
            "-drive id=d,if=none,file=%s,format=raw "
            "-device nvme-ns,drive=d,bus=c,%s", img, bad[i].props);

        qnvme_expect_start_failure(args, bad[i].expect);
    }
}

static void register_knobs_limit_tests(void)
{
    QOSGraphTestOptions one_ns = { .before = qnvme_setup_one_namespace };
    QOSGraphTestOptions aerl = { .before = aerl_setup };
    QOSGraphTestOptions aerl0 = { .before = aerl0_setup };
    QOSGraphTestOptions queued = { .before = aer_queued_setup };
    QOSGraphTestOptions queued0 = { .before = aer_queued0_setup };
    QOSGraphTestOptions queued100 = { .before = aer_queued100_setup };
    QOSGraphTestOptions vsl = { .before = vsl_setup };
    QOSGraphTestOptions vsl0 = { .before = vsl0_setup };
    QOSGraphTestOptions mem_on = { .before = mem_on_setup,
                                   .arg = (void *)1 };
    QOSGraphTestOptions mem_off = { .before = mem_off_setup };
    QOSGraphTestOptions dbcs_off = { .before = dbcs_off_setup };
    QOSGraphTestOptions smart = { .before = smart_setup };
    QOSGraphTestOptions copy = { .before = copy_limits_setup };

    qos_add_test("aerl", "nvme-knobs", test_aerl, &aerl);
    qos_add_test("aerl-zero", "nvme-knobs", test_aerl0, &aerl0);
    qos_add_test("aer-max-queued", "nvme-knobs", test_aer_max_queued,
                 &queued);
    qos_add_test("aer-max-queued-zero", "nvme-knobs", test_aer_max_queued0,
                 &queued0);
    qos_add_test("aer-max-queued-grow", "nvme-knobs", test_aer_max_queued100,
                 &queued100);
    qos_add_test("vsl", "nvme-knobs", test_vsl, &vsl);
    qos_add_test("vsl-default", "nvme-knobs", test_vsl_default, &one_ns);
    qos_add_test("vsl-zero", "nvme-knobs", test_vsl0, &vsl0);
    qos_add_test("ctratt-mem-on", "nvme-knobs", test_ctratt_mem, &mem_on);
    qos_add_test("ctratt-mem-off", "nvme-knobs", test_ctratt_mem, &mem_off);
    qos_add_test("num-queues", "nvme-knobs", test_num_queues, NULL);
    qos_add_test("num-queues-invalid", "nvme-knobs", test_num_queues_invalid,
                 NULL);
    qos_add_test("dbcs-off", "nvme-knobs", test_dbcs_off, &dbcs_off);
    qos_add_test("dbcs-default", "nvme-knobs", test_dbcs_default, &one_ns);
    qos_add_test("smart-critical-warning", "nvme-knobs", test_smart_warning,
                 &smart);
    qos_add_test("smart-critical-warning-invalid", "nvme-knobs",
                 test_smart_warning_invalid, NULL);
    qos_add_test("eui64-default", "nvme-knobs", test_eui64_default, NULL);
    qos_add_test("copy-limits", "nvme-knobs", test_copy_limits, &copy);
    qos_add_test("copy-limits-object", "nvme-knobs", test_copy_limits_object,
                 NULL);
    qos_add_test("copy-limits-invalid", "nvme-knobs",
                 test_copy_limits_invalid, NULL);
}

static void register_knobs_tests(void)
{
    register_knobs_limit_tests();
    QOSGraphTestOptions cntlid_subsys = { .before = cntlid_subsys_setup };
    QOSGraphTestOptions cntlid_alone = { .before = cntlid_alone_setup };

    qos_add_test("cntlid-subsys", "nvme-knobs", test_cntlid_subsys,
                 &cntlid_subsys);
    qos_add_test("cntlid-alone", "nvme-knobs", test_cntlid_alone,
                 &cntlid_alone);
    qos_add_test("cntlid-invalid", "nvme-knobs", test_cntlid_invalid, NULL);
}

libqos_init(register_knobs_tests);
