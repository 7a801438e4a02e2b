/*
 * qtests of atomic write parameters: AWUN, AWUPF, the Write Atomicity
 * Normal feature and overlapping writes that never tear.
 *
 * The backend of the concurrency tests splits every request into 512-byte
 * pieces (blkdebug max-transfer) and lets writes through a throttle group
 * slowly while reads pass at once: without the device ordering them, a
 * read overlapping a write returns part old, part new data.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

#define UNIT_BLOCKS     16          /* atomic.awun=15 */
#define UNIT_BYTES      (UNIT_BLOCKS * 512)
#define QUEUE_ENTRIES   64
#define CMDS_PER_QUEUE  48
#define RANGES          3

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

static void *plain_setup(GString *cmd_line, void *arg)
{
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void *units_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.atomic.awun=15"
                    " -global nvme.atomic.awupf=7");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

static void *dn_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.atomic.dn=on");
    return units_setup(cmd_line, arg);
}

/* A raw image behind 512-byte pieces, writes at iops per second */
static void slow_writes(GString *cmd_line, int iops)
{
    g_string_append_printf(cmd_line,
                           " -object throttle-group,id=tg,x-iops-write=%d"
                           " -blockdev file,node-name=img,filename=%s"
                           " -blockdev blkdebug,node-name=split,image=img,"
                           "max-transfer=512"
                           " -blockdev throttle,node-name=slow,"
                           "throttle-group=tg,file=split"
                           " -device nvme-ns,drive=slow,bus=nvme0,nsid=1",
                           iops, qnvme_tmp_image(MiB));
}

/* 16-block units under power fail too: the DN bit changes nothing */
static void *race_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.atomic.awun=15"
                    " -global nvme.atomic.awupf=15");
    slow_writes(cmd_line, 2000);
    return arg;
}

static void *race_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return race_setup(cmd_line, arg);
}

/* AWUPF of one block: with DN set, 16-block writes are not atomic */
static void *dn_race_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.atomic.awun=15");
    slow_writes(cmd_line, 50);
    return arg;
}

/* Every backend request takes 200 ms (real time) */
static void *slow_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.atomic.awun=15"
                    " -blockdev null-co,node-name=slow,size=1048576,"
                    "latency-ns=200000000,read-zeroes=on"
                    " -device nvme-ns,drive=slow,bus=nvme0,nsid=1");
    return arg;
}

static void *slow_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return slow_setup(cmd_line, arg);
}

/* The same namespace, shared in a subsystem (it can be detached) */
static void *subsys_slow_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=as,");
    g_string_insert(cmd_line, dev - cmd_line->str,
                    "-device nvme-subsys,id=as,"
                    "nqn=nqn.2026-12.org.qemu:atomic ");
    return slow_setup(cmd_line, arg);
}

static void *subsys_slow_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return subsys_slow_setup(cmd_line, arg);
}

/* Write Atomicity Normal as Get Features reports it (sel: CDW10 10:8) */
static uint32_t get_wa(QNvme *n, uint32_t sel)
{
    uint32_t dw0 = 0xdead;

    g_assert_cmphex(qnvme_features(n, NVME_ADM_CMD_GET_FEATURES,
                            NVME_FEAT_WRITE_ATOMICITY | (sel << 8), 0, &dw0),
                    ==, NVME_SC_SUCCESS);
    return dw0;
}

static uint16_t set_wa(QNvme *n, uint32_t cdw11, bool save)
{
    return qnvme_features(n, NVME_ADM_CMD_SET_FEATURES,
                   NVME_FEAT_WRITE_ATOMICITY | (save ? 1u << 31 : 0), cdw11,
                   NULL);
}

static void test_identify(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    uint16_t awun = GPOINTER_TO_UINT(data) >> 16;
    uint16_t awupf = GPOINTER_TO_UINT(data) & 0xffff;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_cmpuint(le16_to_cpu(id->awun), ==, awun);
    g_assert_cmpuint(le16_to_cpu(id->awupf), ==, awupf);
    /* No namespace-specific units (NSFEAT bit 1 clear, NAWUN 0) */
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS, 1, 0, ns), ==, 0);
    g_assert_cmphex(ns->nsfeat & 0x2, ==, 0);
    g_assert_cmpuint(ns->nawun, ==, 0);
    g_assert_cmpuint(ns->nawupf, ==, 0);
}

/* Base 5.27.1.10: DN in bit 0, current/default/saved/capabilities */
static void feature_checks(void *obj, uint32_t dflt)
{
    QNvme *n = enabled(obj);

    g_assert_cmphex(get_wa(n, 0), ==, dflt);        /* current */
    g_assert_cmphex(get_wa(n, 1), ==, dflt);        /* default */
    g_assert_cmphex(get_wa(n, 2), ==, dflt);        /* saved: none */
    /* Changeable, neither saveable nor namespace specific */
    g_assert_cmphex(get_wa(n, 3), ==, 0x4);

    g_assert_cmphex(set_wa(n, !dflt, false), ==, NVME_SC_SUCCESS);
    g_assert_cmphex(get_wa(n, 0), ==, !dflt);
    g_assert_cmphex(get_wa(n, 1), ==, dflt);
    /* Reserved bits are ignored */
    g_assert_cmphex(set_wa(n, 0xfffffffe | dflt, false), ==, NVME_SC_SUCCESS);
    g_assert_cmphex(get_wa(n, 0), ==, dflt);
    g_assert_cmphex(set_wa(n, 1, true), ==,
                    NVME_SC_FEATURE_NOT_SAVEABLE | NVME_SC_DNR);
    g_assert_cmphex(get_wa(n, 0), ==, dflt);

    /* A Controller Level Reset brings the default (atomic.dn) back */
    g_assert_cmphex(set_wa(n, !dflt, false), ==, NVME_SC_SUCCESS);
    n = enabled(obj);
    g_assert_cmphex(get_wa(n, 0), ==, dflt);
}

static void test_feature(void *obj, void *data, QGuestAllocator *a)
{
    feature_checks(obj, 0);
}

static void test_feature_dn(void *obj, void *data, QGuestAllocator *a)
{
    feature_checks(obj, 1);
}

static void test_realize_errors(void *obj, void *data, QGuestAllocator *a)
{
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,"
                               "atomic.awun=7,atomic.awupf=8",
                               "nvme: atomic.awupf (8) must not exceed "
                               "atomic.awun (7)");
    /* MDTS 1: 8 KiB, 16 blocks of 512 bytes */
    qnvme_expect_start_failure("-M pc -device nvme,serial=a,mdts=1,"
                               "atomic.awun=16",
                               "nvme: atomic.awun (16, 0's based) exceeds "
                               "mdts: 16 blocks of 512 bytes at most");
}

/* A command of the concurrency tests, and its data in guest memory */
typedef struct RaceCmd {
    uint16_t qid;
    uint16_t cid;
    bool write;
    uint8_t pattern;        /* writes: the byte all its blocks hold */
    uint32_t range;
    uint64_t buf;
    bool done;
} RaceCmd;

static void submit_rw(QNvme *n, RaceCmd *c)
{
    NvmeCmd cmd = {
        .opcode = c->write ? NVME_CMD_WRITE : NVME_CMD_READ,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .dptr.prp2 = cpu_to_le64(c->buf + QNVME_PAGE_SIZE),
        .cdw10 = cpu_to_le32(c->range * UNIT_BLOCKS),
        .cdw12 = cpu_to_le32(UNIT_BLOCKS - 1),
    };

    c->cid = qnvme_submit(n, c->qid, &cmd);
}

/* The next completion of queue qid (the throttled backend takes time) */
static void wait_cqe(QNvme *n, uint16_t qid, NvmeCqe *cqe)
{
    for (int i = 0; i < 100; i++) {
        if (qnvme_poll(n, qid, cqe)) {
            return;
        }
        /* Throttle groups run on the virtual clock under qtest */
        qtest_clock_step(qts_of(n), 10 * 1000 * 1000);
    }
    g_assert_not_reached();
}

/* Whether the unit of data is one pattern; which in *pattern */
static bool one_pattern(QNvme *n, uint64_t buf, uint8_t *pattern)
{
    g_autofree uint8_t *data = g_malloc(UNIT_BYTES);

    qtest_memread(qts_of(n), buf, data, UNIT_BYTES);
    *pattern = data[0];
    for (int i = 1; i < UNIT_BYTES; i++) {
        if (data[i] != data[0]) {
            g_test_message("torn: byte 0 is %u, byte %d is %u",
                           data[0], i, data[i]);
            return false;
        }
    }
    return true;
}

static bool written_to(RaceCmd *cmds, int nr, uint32_t range, uint8_t p)
{
    for (int i = 0; i < nr; i++) {
        if (cmds[i].write && cmds[i].range == range &&
            cmds[i].pattern == p) {
            return true;
        }
    }
    return false;
}

/*
 * Two queues submit writes of the atomic unit, each with its own pattern,
 * and reads, all over the same few ranges, CMDS_PER_QUEUE at a time. Every
 * read returns one pattern (of a write to its range, or the zeroes it
 * started with), and so does every range at the end.
 */
static void test_no_torn_writes(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    RaceCmd cmds[2 * CMDS_PER_QUEUE];
    int nr = 0;

    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    qnvme_create_io_queue_pair(n, 2, QUEUE_ENTRIES);
    for (int i = 0; i < CMDS_PER_QUEUE; i++) {
        for (uint16_t qid = 1; qid <= 2; qid++) {
            RaceCmd *c = &cmds[nr];
            g_autofree uint8_t *fill = g_malloc(UNIT_BYTES);

            *c = (RaceCmd) {
                .qid = qid, .write = i % 3 != 2, .pattern = nr + 1,
                .range = (i / 2) % RANGES, .buf = qnvme_alloc(n, UNIT_BYTES),
            };
            memset(fill, c->write ? c->pattern : 0xee, UNIT_BYTES);
            qtest_memwrite(qts_of(n), c->buf, fill, UNIT_BYTES);
            submit_rw(n, c);
            nr++;
        }
    }
    for (int done = 0; done < nr; done++) {
        uint16_t qid = done % 2 + 1;
        NvmeCqe cqe;
        RaceCmd *c = NULL;
        uint8_t p;

        wait_cqe(n, qid, &cqe);
        for (int i = 0; i < nr; i++) {
            if (cmds[i].qid == qid && cmds[i].cid == le16_to_cpu(cqe.cid) &&
                !cmds[i].done) {
                c = &cmds[i];
            }
        }
        g_assert_nonnull(c);
        c->done = true;
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
        if (!c->write) {
            g_assert_true(one_pattern(n, c->buf, &p));
            g_assert_true(p == 0 || written_to(cmds, nr, c->range, p));
        }
    }
    for (uint32_t r = 0; r < RANGES; r++) {
        RaceCmd c = { .qid = 1, .range = r, .buf = cmds[0].buf };
        NvmeCqe cqe;
        uint8_t p;

        submit_rw(n, &c);
        wait_cqe(n, 1, &cqe);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
        g_assert_true(one_pattern(n, c.buf, &p));
        g_assert_true(written_to(cmds, nr, r, p));
    }
}

/*
 * A slow 16-block write, then a read of the same blocks on the same
 * queue: the order of their completions says whether the read waited.
 */
static uint16_t first_of_write_then_read(QNvme *n, RaceCmd *w, RaceCmd *r)
{
    g_autofree uint8_t *fill = g_malloc(UNIT_BYTES);
    NvmeCqe first, second;

    memset(fill, w->pattern, UNIT_BYTES);
    qtest_memwrite(qts_of(n), w->buf, fill, UNIT_BYTES);
    submit_rw(n, w);
    submit_rw(n, r);
    wait_cqe(n, 1, &first);
    wait_cqe(n, 1, &second);
    g_assert_cmphex(le16_to_cpu(first.status) >> 1, ==, NVME_SC_SUCCESS);
    g_assert_cmphex(le16_to_cpu(second.status) >> 1, ==, NVME_SC_SUCCESS);
    return le16_to_cpu(first.cid);
}

/* DN set: the unit is AWUPF + 1 (one block), so a read no longer waits */
static void test_dn_unit(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    RaceCmd w = { .qid = 1, .write = true, .pattern = 0x5a,
                  .buf = qnvme_alloc(n, UNIT_BYTES) };
    RaceCmd r = { .qid = 1, .buf = qnvme_alloc(n, UNIT_BYTES) };
    uint8_t p;

    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    g_assert_cmphex(first_of_write_then_read(n, &w, &r), ==, w.cid);
    g_assert_true(one_pattern(n, r.buf, &p));
    g_assert_cmphex(p, ==, 0x5a);

    g_assert_cmphex(set_wa(n, 1, false), ==, NVME_SC_SUCCESS);
    w.pattern = 0xa5;
    g_assert_cmphex(first_of_write_then_read(n, &w, &r), ==, r.cid);

    g_assert_cmphex(set_wa(n, 0, false), ==, NVME_SC_SUCCESS);
    w.pattern = 0x3c;
    g_assert_cmphex(first_of_write_then_read(n, &w, &r), ==, w.cid);
    g_assert_true(one_pattern(n, r.buf, &p));
    g_assert_cmphex(p, ==, 0x3c);
}

/* Eight overlapping unit writes on queue 1: seven wait behind the first */
static void submit_waiters(QNvme *n)
{
    for (int i = 0; i < 8; i++) {
        RaceCmd c = { .qid = 1, .write = true,
                      .buf = qnvme_alloc(n, UNIT_BYTES) };

        submit_rw(n, &c);
    }
    g_usleep(50 * 1000);
}

/* Identify, and a read on I/O queue 1 (created first if create) */
static void assert_alive(QNvme *n, bool create)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    RaceCmd c = { .qid = 1, .buf = qnvme_alloc(n, UNIT_BYTES) };
    NvmeCqe cqe;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    if (create) {
        qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    }
    submit_rw(n, &c);
    wait_cqe(n, 1, &cqe);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
}

static uint16_t admin(QNvme *n, uint8_t opcode, uint32_t nsid, uint32_t cdw10)
{
    NvmeCmd cmd = {
        .opcode = opcode, .nsid = cpu_to_le32(nsid),
        .cdw10 = cpu_to_le32(cdw10),
    };

    return qnvme_cmd(n, 0, &cmd, NULL);
}

/*
 * Delete I/O SQ, CC.EN = 0 and Format NVM while writes wait for each
 * other: the waiters are outstanding, so each waits for them, and none
 * is left behind (or freed) when it returns.
 */
static void test_teardown_with_waiters(void *obj, void *data,
                                       QGuestAllocator *a)
{
    QNvme *n = enabled(obj);

    g_test_message("Delete I/O SQ");
    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    submit_waiters(n);
    g_assert_cmphex(admin(n, NVME_ADM_CMD_DELETE_SQ, 0, 1), ==, 0);
    g_assert_cmphex(admin(n, NVME_ADM_CMD_DELETE_CQ, 0, 1), ==, 0);
    assert_alive(n, true);

    g_test_message("CC.EN = 0");
    submit_waiters(n);
    qnvme_writel(n, NVME_REG_CC, qnvme_readl(n, NVME_REG_CC) & ~1u);
    g_assert_true(qnvme_wait_ready(n, false));
    n = enabled(obj);
    assert_alive(n, true);

    g_test_message("Format NVM");
    submit_waiters(n);
    g_assert_cmphex(admin(n, NVME_ADM_CMD_FORMAT_NVM, 1, 0), ==, 0);
    for (int i = 0; i < 8; i++) {
        NvmeCqe cqe;

        wait_cqe(n, 1, &cqe);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
    }
    assert_alive(n, false);
}

/* Namespace Attachment of namespace 1 to controller cntlid */
static uint16_t ns_attach(QNvme *n, uint32_t sel, uint16_t cntlid)
{
    uint64_t buf = qnvme_alloc(n, QNVME_PAGE_SIZE);
    uint16_t list[2] = { cpu_to_le16(1), cpu_to_le16(cntlid) };
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_ATTACHMENT,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(buf),
        .cdw10 = cpu_to_le32(sel),
    };

    qtest_memwrite(qts_of(n), buf, list, sizeof(list));
    return qnvme_cmd(n, 0, &cmd, NULL);
}

/*
 * Namespace Attachment detaches the namespace while writes wait for each
 * other: the detach waits for all of them (they complete normally), then
 * the namespace is gone until it is attached again.
 */
static void test_detach_with_waiters(void *obj, void *data,
                                     QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    RaceCmd c = { .qid = 1, .buf = qnvme_alloc(n, UNIT_BYTES) };
    uint16_t cntlid;
    NvmeCqe cqe;

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    cntlid = le16_to_cpu(id->cntlid);
    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    submit_waiters(n);
    g_assert_cmphex(ns_attach(n, 1, cntlid), ==, NVME_SC_SUCCESS);
    for (int i = 0; i < 8; i++) {
        wait_cqe(n, 1, &cqe);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
    }
    submit_rw(n, &c);
    wait_cqe(n, 1, &cqe);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==,
                    NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
    g_assert_cmphex(ns_attach(n, 0, cntlid), ==, NVME_SC_SUCCESS);
    assert_alive(n, false);
}

/*
 * A drain of every backend (the stop command) while writes wait for each
 * other: the write that held the others back completes inside the
 * drained section and lets the next one go, which the block layer parks
 * until the drain ends. The drain must not wait for that one, or it never
 * ends (QEMU hangs); once the VM runs again, all nine complete.
 */
static void test_stop_with_waiters(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    RaceCmd later = { .qid = 1, .write = true, .range = 1,
                      .buf = qnvme_alloc(n, UNIT_BYTES) };
    NvmeCqe cqe;

    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    submit_waiters(n);
    /* Still in flight when the first write completes and wakes the next */
    g_usleep(100 * 1000);
    submit_rw(n, &later);
    g_usleep(20 * 1000);
    qtest_qmp_assert_success(qts_of(n), "{ 'execute': 'stop' }");
    qtest_qmp_assert_success(qts_of(n), "{ 'execute': 'cont' }");
    for (int i = 0; i < 9; i++) {
        wait_cqe(n, 1, &cqe);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
    }
    assert_alive(n, false);
}

/* A second controller in the subsystem, at slot 5: namespace 1 is shared */
static void *two_ctrls_slow_setup(GString *cmd_line, void *arg)
{
    subsys_slow_setup(cmd_line, arg);
    g_string_append(cmd_line, " -device nvme,id=second,addr=05.0,subsys=as,"
                    "serial=second,cntlid=0x1234");
    return arg;
}

/*
 * The fuzzer's hang: a Controller Level Reset of the other controller of
 * the subsystem drains the shared namespace while this one's writes wait
 * for each other. The write that held the others back completes in the
 * drain and lets the next one go, which the drain must not wait for.
 */
static void test_other_reset_with_waiters(void *obj, void *data,
                                          QGuestAllocator *a)
{
    QNvme *n = enabled(obj);
    QNvme *second = qnvme_open_slot(obj, 5);
    RaceCmd later = { .qid = 1, .write = true, .range = 1,
                      .buf = qnvme_alloc(n, UNIT_BYTES) };
    NvmeCqe cqe;

    g_assert_true(qnvme_enable(second, 32, 0x6));
    qnvme_create_io_queue_pair(n, 1, QUEUE_ENTRIES);
    submit_waiters(n);
    /* 200 ms each: the first write completes while this one keeps the drain */
    g_usleep(100 * 1000);
    submit_rw(n, &later);
    g_usleep(20 * 1000);
    qnvme_writel(second, NVME_REG_CC, qnvme_readl(second, NVME_REG_CC) & ~1u);
    g_assert_true(qnvme_wait_ready(second, false));
    for (int i = 0; i < 9; i++) {
        wait_cqe(n, 1, &cqe);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, NVME_SC_SUCCESS);
    }
    assert_alive(n, false);
    qnvme_close(second);
}

static void register_atomic_tests(void)
{
    QOSGraphTestOptions plain = { .before = plain_setup, .arg = NULL };
    QOSGraphTestOptions units = {
        .before = units_setup, .arg = GUINT_TO_POINTER(15 << 16 | 7),
    };
    QOSGraphTestOptions dn = { .before = dn_setup };
    QOSGraphTestOptions race = { .before = race_setup };
    QOSGraphTestOptions race_io = { .before = race_iothread_setup };
    QOSGraphTestOptions dn_race = { .before = dn_race_setup };
    QOSGraphTestOptions slow = { .before = slow_setup };
    QOSGraphTestOptions slow_io = { .before = slow_iothread_setup };
    QOSGraphTestOptions subsys_slow = { .before = subsys_slow_setup };
    QOSGraphTestOptions subsys_slow_io = {
        .before = subsys_slow_iothread_setup,
    };
    QOSGraphTestOptions two_ctrls_slow = { .before = two_ctrls_slow_setup };

    qos_add_test("identify-default", "nvme-atomic", test_identify, &plain);
    qos_add_test("identify", "nvme-atomic", test_identify, &units);
    qos_add_test("feature", "nvme-atomic", test_feature, &units);
    qos_add_test("feature-dn", "nvme-atomic", test_feature_dn, &dn);
    qos_add_test("realize-errors", "nvme-atomic", test_realize_errors,
                 &plain);
    qos_add_test("no-torn-writes", "nvme-atomic", test_no_torn_writes,
                 &race);
    qos_add_test("iothread-no-torn-writes", "nvme-atomic",
                 test_no_torn_writes, &race_io);
    qos_add_test("dn-unit", "nvme-atomic", test_dn_unit, &dn_race);
    qos_add_test("teardown-with-waiters", "nvme-atomic",
                 test_teardown_with_waiters, &slow);
    qos_add_test("iothread-teardown-with-waiters", "nvme-atomic",
                 test_teardown_with_waiters, &slow_io);
    qos_add_test("detach-with-waiters", "nvme-atomic",
                 test_detach_with_waiters, &subsys_slow);
    qos_add_test("iothread-detach-with-waiters", "nvme-atomic",
                 test_detach_with_waiters, &subsys_slow_io);
    qos_add_test("stop-with-waiters", "nvme-atomic",
                 test_stop_with_waiters, &slow);
    qos_add_test("iothread-stop-with-waiters", "nvme-atomic",
                 test_stop_with_waiters, &slow_io);
    qos_add_test("other-reset-with-waiters", "nvme-atomic",
                 test_other_reset_with_waiters, &two_ctrls_slow);
}

libqos_init(register_atomic_tests);
