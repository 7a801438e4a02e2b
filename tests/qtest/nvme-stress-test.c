/*
 * Lifecycle stress qtest: random interleavings of the paths that free or
 * change state under commands (Delete I/O SQ and CQ, CC.EN = 0, NSSR,
 * shutdown, Format NVM, namespace detach and delete, controller
 * hot-unplug) with multi-step commands in flight on slow backends, on
 * plain, metadata/PI, zoned (with zoned.state) and reservation (with
 * resv.state) namespaces of a subsystem with a namespace pool, with and
 * without an iothread; and once more with the drop-in features on: data
 * and range lists in the Controller Memory Buffer, atomic write units
 * (overlapping writes wait on each other) and Zone Random Write Areas.
 *
 * Statuses are not checked: every command must complete (or be dropped
 * by a reset or a queue deletion) and QEMU must survive; run under
 * AddressSanitizer, use-after-free and leaks show up as failures.
 *
 * NVME_STRESS_SECONDS (default 20) bounds each configuration's run;
 * NVME_STRESS_SEED replays one seed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci-pc.h"
#include "libqos/nvme.h"

#define QDEPTH          64          /* entries of each I/O queue */
#define NR_IOQ          2
#define SECOND_SLOT     5
#define BUF_PAGES       128         /* data buffer */
#define POOL_NLBAS      2048
#define NS_BYTES        (16 * 1024 * 1024)

/* Namespaces of the configuration: 1-4 fixed, pool ones from 5 on */
enum { NS_PLAIN = 1, NS_PI, NS_ZONED, NS_RESV, NS_FIXED = NS_RESV };

typedef struct Stress {
    QNvme *n;
    QNvme *second;          /* hot-plugged controller, or NULL */
    QTestState *qts;
    GRand *rand;
    uint64_t buf;           /* BUF_PAGES pages of data */
    uint64_t aux;           /* ranges, keys, controller lists */
    uint32_t pending[NR_IOQ + 1];   /* submitted, not yet seen complete */
    uint32_t pool_nsid;     /* a pool namespace, 0 when none */
    bool pool_attached;
    uint64_t cmb;           /* the CMB's bus address (features), or 0 */
} Stress;

static bool features_on = true;     /* QOSGraphTestOptions.arg */

static void *stress_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");
    char *zstate = qnvme_tmp_image(1024 * 1024);     /* freed at the end */
    char *rstate = qnvme_tmp_image(64 * 1024);
    char *pool_dir = g_dir_make_tmp("nvme-stress-XXXXXX", NULL);
    g_autofree char *subsys = NULL;

    g_assert(pool_dir && dev);
    subsys = g_strdup_printf("-device nvme-subsys,id=s0,"
                             "nqn=nqn.2026-12.org.qemu:stress,ns-pool=%s,"
                             "tnvmcap=67108864 ", pool_dir);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=s0,");
    g_string_insert(cmd_line, dev - cmd_line->str, subsys);
    qnvme_remove_dir_at_end(pool_dir);
    g_string_append_printf(cmd_line,
        " -blockdev null-co,node-name=b1,size=%d,latency-ns=20000000,"
        "read-zeroes=on"
        " -blockdev null-co,node-name=b2,size=%d,latency-ns=20000000,"
        "read-zeroes=on"
        " -blockdev null-co,node-name=b3,size=%d,latency-ns=20000000,"
        "read-zeroes=on"
        " -blockdev null-co,node-name=b4,size=%d,latency-ns=20000000,"
        "read-zeroes=on"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -drive id=rs,if=none,file=%s,format=raw"
        " -device nvme-ns,drive=b1,bus=nvme0,nsid=1"
        " -device nvme-ns,drive=b2,bus=nvme0,nsid=2,ms=8,pi=1"
        " -device nvme-ns,drive=b3,bus=nvme0,nsid=3,zoned=on,"
        "zoned.zone_size=1M,zoned.max_open=4,zoned.state=zs"
        " -device nvme-ns,drive=b4,bus=nvme0,nsid=4,resv.state=rs",
        NS_BYTES, NS_BYTES, NS_BYTES, NS_BYTES, zstate, rstate);
    return arg;
}

static void *stress_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return stress_setup(cmd_line, arg);
}

/*
 * The features configuration: a 2 MiB CMB (found at BAR 2, as by a host
 * that never writes CMBMSC), atomic units of 64 blocks, and a ZRWA of
 * 64 KiB on each of two zones of the zoned namespace.
 */
static void *stress_features_setup(GString *cmd_line, void *arg)
{
    g_autoptr(GString) zoned = g_string_new(NULL);
    char *zns;

    stress_setup(cmd_line, arg);
    zns = strstr(cmd_line->str, "zoned.max_open=4,");
    g_assert(zns);
    g_string_insert(cmd_line, zns - cmd_line->str,
                    "zoned.max_active=4,zoned.numzrwa=2,zoned.zrwas=64K,"
                    "zoned.zrwafg=16K,");
    g_string_append(cmd_line, " -global nvme.cmb_size_mb=2"
                    " -global nvme.atomic.awun=63 -global nvme.atomic.awupf=63");
    return arg;
}

static uint32_t rnd(Stress *s, uint32_t below)
{
    return g_rand_int_range(s->rand, 0, below);
}

/* Range lists and data: in the CMB half of the time, when there is one */
static uint64_t aux_addr(Stress *s)
{
    return s->cmb && rnd(s, 2) ? s->cmb + BUF_PAGES * 4096 : s->aux;
}

/* Commands: random multi-step and plain I/O on a random namespace */

static uint32_t random_nsid(Stress *s)
{
    if (s->pool_nsid && s->pool_attached && !rnd(s, 5)) {
        return s->pool_nsid;
    }
    return 1 + rnd(s, NS_FIXED);
}

/*
 * The data at s->buf, as one SGL Data Block longer than any transfer: the
 * block size changes with Format, and a PRP2 must know it.
 */
static void set_data(Stress *s, NvmeCmd *cmd, uint32_t nlb)
{
    cmd->flags = NVME_PSDT_SGL_MPTR_CONTIG << 6;
    cmd->dptr.sgl.addr = cpu_to_le64(s->cmb && rnd(s, 2) ? s->cmb : s->buf);
    cmd->dptr.sgl.len = cpu_to_le32(BUF_PAGES * 4096);
    cmd->dptr.sgl.type = NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4;
}

static NvmeCmd random_cmd(Stress *s)
{
    NvmeCmd cmd = { .nsid = cpu_to_le32(random_nsid(s)) };
    uint64_t slba = rnd(s, 4096);
    uint32_t nlb = 1 + rnd(s, 64);

    cmd.cdw10 = cpu_to_le32(slba);
    cmd.cdw12 = cpu_to_le32(nlb - 1);
    switch (rnd(s, 13)) {
    case 0: {
        uint64_t aux = aux_addr(s);
        NvmeDsmRange r[4];

        for (int i = 0; i < 4; i++) {
            r[i] = (NvmeDsmRange) {
                .nlb = cpu_to_le32(1 + rnd(s, 64)),
                .slba = cpu_to_le64(rnd(s, 4096)),
            };
        }
        qtest_memwrite(s->qts, aux, r, sizeof(r));
        cmd.opcode = NVME_CMD_DSM;
        cmd.dptr.prp1 = cpu_to_le64(aux);
        cmd.cdw10 = cpu_to_le32(rnd(s, 4));
        cmd.cdw11 = cpu_to_le32(NVME_DSMGMT_AD);
        break;
    }
    case 1: {
        uint64_t aux = aux_addr(s);
        NvmeCopySourceRange r[4] = {};

        for (int i = 0; i < 4; i++) {
            r[i].slba = cpu_to_le64(rnd(s, 4096));
            r[i].nlb = cpu_to_le16(rnd(s, 64));
        }
        qtest_memwrite(s->qts, aux, r, sizeof(r));
        cmd.opcode = NVME_CMD_COPY;
        cmd.dptr.prp1 = cpu_to_le64(aux);
        cmd.cdw12 = cpu_to_le32(rnd(s, 4));
        break;
    }
    case 2:
        cmd.opcode = NVME_CMD_VERIFY;
        cmd.cdw12 = cpu_to_le32(rnd(s, 2048));
        break;
    case 3:
        cmd.opcode = NVME_CMD_COMPARE;
        set_data(s, &cmd, nlb);
        break;
    case 4:
    case 5:
        cmd.opcode = NVME_CMD_WRITE;
        set_data(s, &cmd, nlb);
        break;
    case 6:
    case 7:
        cmd.opcode = NVME_CMD_READ;
        set_data(s, &cmd, nlb);
        break;
    case 8:
        cmd.opcode = NVME_CMD_WRITE_ZEROES;
        break;
    case 9:
        cmd.opcode = NVME_CMD_FLUSH;
        break;
    case 10:
        /*
         * Zone Management Send: close, finish, open (maybe with a ZRWA)
         * or reset, maybe all; or a commit of part of a ZRWA
         */
        cmd.opcode = 0x79;
        cmd.cdw10 = cpu_to_le32(rnd(s, 16) * 2048);
        cmd.cdw13 = cpu_to_le32((1 + rnd(s, 4)) | (rnd(s, 2) << 8) |
                                (rnd(s, 2) << 9));
        if (s->cmb) {
            /* Features: on the zoned namespace, where ZRWAs are */
            cmd.nsid = cpu_to_le32(NS_ZONED);
            cmd.cdw10 = cpu_to_le32(rnd(s, 2) * 2048);
            if (!rnd(s, 3)) {
                cmd.cdw10 = cpu_to_le32(le32_to_cpu(cmd.cdw10) +
                                        32 * rnd(s, 8) + 31);
                cmd.cdw13 = cpu_to_le32(0x11);
            }
        }
        break;
    case 11:
        /* Zone Append at a zone start */
        cmd.opcode = 0x7d;
        cmd.cdw10 = cpu_to_le32(rnd(s, 16) * 2048);
        set_data(s, &cmd, 1);
        cmd.cdw12 = cpu_to_le32(rnd(s, 8));
        break;
    default: {
        /* Reservation Register: register or unregister key 1 */
        uint64_t keys[2] = { cpu_to_le64(1), cpu_to_le64(1) };

        qtest_memwrite(s->qts, s->aux + 512, keys, sizeof(keys));
        cmd.opcode = 0x0d;
        cmd.dptr.prp1 = cpu_to_le64(s->aux + 512);
        cmd.cdw10 = cpu_to_le32(rnd(s, 2) | (3u << 30));
        cmd.cdw12 = 0;
        break;
    }
    }
    return cmd;
}

static void submit_random(Stress *s, QNvme *n, uint16_t qid, uint32_t *pending)
{
    uint32_t count = 1 + rnd(s, 12);

    for (uint32_t i = 0; i < count && *pending < QDEPTH - 2; i++) {
        NvmeCmd cmd = random_cmd(s);

        qnvme_submit(n, qid, &cmd);
        (*pending)++;
    }
}

/* Every submitted command completes (commands have no time limit) */
static void reap(Stress *s)
{
    for (uint16_t qid = 1; qid <= NR_IOQ; qid++) {
        NvmeCqe cqe;

        while (s->pending[qid]) {
            g_assert_true(qnvme_poll(s->n, qid, &cqe));
            s->pending[qid]--;
        }
    }
}

static void create_queues(Stress *s)
{
    for (uint16_t qid = 1; qid <= NR_IOQ; qid++) {
        qnvme_create_io_queue_pair(s->n, qid, QDEPTH);
        s->pending[qid] = 0;
    }
}

static void enable(Stress *s)
{
    g_assert_true(qnvme_enable(s->n, 32, 0x6));
    create_queues(s);
}

static uint16_t admin(Stress *s, NvmeCmd *cmd, NvmeCqe *cqe)
{
    return qnvme_cmd(s->n, 0, cmd, cqe);
}

static void alive(Stress *s)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(s->n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
}

/* The pool namespace: create, attach, detach, delete */

static uint16_t attachment(Stress *s, uint32_t sel)
{
    uint16_t list[2] = { cpu_to_le16(1), 0 };      /* controller 0 */
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_ATTACHMENT,
        .nsid = cpu_to_le32(s->pool_nsid),
        .dptr.prp1 = cpu_to_le64(s->aux),
        .cdw10 = cpu_to_le32(sel),
    };

    qtest_memwrite(s->qts, s->aux, list, sizeof(list));
    return admin(s, &cmd, NULL);
}

static void pool_create(Stress *s)
{
    NvmeIdNs id = {
        .nsze = cpu_to_le64(POOL_NLBAS), .ncap = cpu_to_le64(POOL_NLBAS),
    };
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_MANAGEMENT,
        .dptr.prp1 = cpu_to_le64(s->aux),
    };
    NvmeCqe cqe;

    qtest_memwrite(s->qts, s->aux, &id, sizeof(id));
    g_assert_cmphex(admin(s, &cmd, &cqe), ==, 0);
    s->pool_nsid = le32_to_cpu(cqe.result);
    g_assert_cmphex(attachment(s, 0), ==, 0);
    s->pool_attached = true;
}

static void pool_delete(Stress *s)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_MANAGEMENT,
        .nsid = cpu_to_le32(s->pool_nsid),
        .cdw10 = cpu_to_le32(1),
    };

    g_assert_cmphex(admin(s, &cmd, NULL), ==, 0);
    s->pool_nsid = 0;
    s->pool_attached = false;
}

/* The second controller, hot-plugged and unplugged with I/O in flight */

static void second_plug(Stress *s)
{
    qtest_qmp_device_add(s->qts, "nvme", "second",
                         "{'subsys': 's0', 'serial': 'second',"
                         " 'addr': %s}", stringify(SECOND_SLOT) ".0");
    s->second = qnvme_open_slot(s->n, SECOND_SLOT);
    g_assert_true(qnvme_enable(s->second, 32, 0x6));
    qnvme_create_io_queue_pair(s->second, 1, QDEPTH);
}

static void second_unplug(Stress *s)
{
    uint32_t pending = 0;

    submit_random(s, s->second, 1, &pending);
    g_usleep(rnd(s, 40) * 1000);
    qpci_unplug_acpi_device_test(s->qts, "second", SECOND_SLOT);
    qnvme_close(s->second);
    s->second = NULL;
}

/* One round: I/O in flight on both queues, then one disruption */

enum Action {
    DELETE_QUEUE, DISABLE, NSSR, SHUTDOWN, FORMAT, DETACH_ATTACH,
    DELETE_CREATE, UNPLUG, NR_ACTIONS
};

static const char *const action_names[] = {
    "delete-queue", "disable", "nssr", "shutdown", "format",
    "detach-attach", "delete-create", "unplug",
};

static void act(Stress *s, enum Action action)
{
    uint16_t qid = 1 + rnd(s, NR_IOQ);
    NvmeCmd cmd = {};

    switch (action) {
    case DELETE_QUEUE:
        cmd.opcode = NVME_ADM_CMD_DELETE_SQ;
        cmd.cdw10 = cpu_to_le32(qid);
        g_assert_cmphex(admin(s, &cmd, NULL), ==, 0);
        cmd.opcode = NVME_ADM_CMD_DELETE_CQ;
        g_assert_cmphex(admin(s, &cmd, NULL), ==, 0);
        s->pending[qid] = 0;
        qnvme_create_io_queue_pair(s->n, qid, QDEPTH);
        break;
    case DISABLE:
        enable(s);
        break;
    case NSSR:
        qnvme_writel(s->n, NVME_REG_NSSR, 0x4e564d65);
        g_assert_true(qnvme_wait_ready(s->n, false));
        enable(s);
        break;
    case SHUTDOWN:
        qnvme_writel(s->n, NVME_REG_CC,
                     qnvme_readl(s->n, NVME_REG_CC) | (1 << 14));
        g_assert_cmphex(NVME_CSTS_SHST(qnvme_readl(s->n, NVME_REG_CSTS)), ==,
                        NVME_SHST_COMPLETE);
        enable(s);
        break;
    case FORMAT:
        cmd.opcode = NVME_ADM_CMD_FORMAT_NVM;
        cmd.nsid = cpu_to_le32(rnd(s, 2) ? random_nsid(s) : 0xffffffff);
        cmd.cdw10 = cpu_to_le32(rnd(s, 8) | (rnd(s, 2) << 9));
        admin(s, &cmd, NULL);
        reap(s);
        break;
    case DETACH_ATTACH:
        if (s->pool_nsid) {
            g_assert_cmphex(attachment(s, s->pool_attached), ==, 0);
            s->pool_attached = !s->pool_attached;
        }
        reap(s);
        break;
    case DELETE_CREATE:
        if (s->pool_nsid) {
            pool_delete(s);
        } else {
            pool_create(s);
        }
        reap(s);
        break;
    case UNPLUG:
        if (s->second) {
            second_unplug(s);
        } else {
            second_plug(s);
        }
        reap(s);
        break;
    default:
        g_assert_not_reached();
    }
}

static void round_once(Stress *s)
{
    enum Action action = rnd(s, NR_ACTIONS);

    for (uint16_t qid = 1; qid <= NR_IOQ; qid++) {
        submit_random(s, s->n, qid, &s->pending[qid]);
    }
    g_usleep(rnd(s, 60) * 1000);
    g_test_message("action %s", action_names[action]);
    act(s, action);
    alive(s);
}

static void test_stress(void *obj, void *data, QGuestAllocator *a)
{
    const char *secs = g_getenv("NVME_STRESS_SECONDS");
    const char *fixed = g_getenv("NVME_STRESS_SEED");
    gint64 end = g_get_monotonic_time() +
                 (secs ? atoi(secs) : 20) * G_USEC_PER_SEC;
    Stress s = { .n = obj, .qts = ((QNvme *)obj)->dev.bus->qts };
    uint32_t seed = g_test_rand_int();
    int rounds = 0;

    if (fixed) {
        g_assert_cmpint(qemu_strtoui(fixed, NULL, 0, &seed), ==, 0);
    }
    s.buf = qnvme_alloc(s.n, BUF_PAGES * 4096);
    s.aux = qnvme_alloc(s.n, 4096);
    if (data == &features_on) {
        s.cmb = qpci_iomap(&s.n->dev, 2, NULL).addr;
    }
    enable(&s);
    /* One seed per run of rounds; a failure names the seed to replay */
    do {
        g_test_message("seed %u (NVME_STRESS_SEED to replay)", seed);
        s.rand = g_rand_new_with_seed(seed);
        for (int i = 0; i < 10; i++, rounds++) {
            round_once(&s);
        }
        g_rand_free(s.rand);
        seed++;
    } while (!fixed && g_get_monotonic_time() < end);
    g_test_message("%d rounds", rounds);
    if (s.second) {
        qpci_unplug_acpi_device_test(s.qts, "second", SECOND_SLOT);
        qnvme_close(s.second);
    }
}

static void register_stress_tests(void)
{
    QOSGraphTestOptions plain = { .before = stress_setup };
    QOSGraphTestOptions iothread = { .before = stress_iothread_setup };
    QOSGraphTestOptions features = {
        .before = stress_features_setup, .arg = &features_on,
    };

    qos_add_test("stress", "nvme-stress", test_stress, &plain);
    qos_add_test("iothread-stress", "nvme-stress", test_stress, &iothread);
    qos_add_test("features-stress", "nvme-stress", test_stress, &features);
}

libqos_init(register_stress_tests);
