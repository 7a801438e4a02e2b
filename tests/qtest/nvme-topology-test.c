/*
 * qtests for the explicit topology: an x-nvme-subsystem object, two
 * controllers linked to it, and x-nvme-ns-nvm namespace objects attached
 * by controller ID; their errors, hot-adding one (and an x-nvme-ns-zoned
 * one, one with protection information, a detached one) with object-add,
 * and a controller unplug that leaves the namespaces in place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "libqos/pci.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define NQN             "nqn.2026-11.org.qemu:topology"
#define NS_SIZE         (4 * 1024 * 1024)
#define UUID_C          "3f0c1e0a-8d5b-4b4e-9c1a-2b7d6e5f4a31"
#define SECOND_SLOT     6

typedef QNvmeCtx Ctx;

/* Backing files of the namespaces A, B and C of the running test */
static char *image[3];

/*
 * The qos node adds "-device nvme,...,id=nvme0": link it to a subsystem
 * object and add a second controller (unless arg asks to hot-plug it) and
 * three namespace objects:
 * A (NSID 3) on nvme0 only, B on the second controller only, C (JSON
 * syntax, a UUID and ANA group 2) on every controller.
 */
static void *topology_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");
    bool hotplug = arg;

    g_assert(dev);
    for (int i = 0; i < 3; i++) {
        image[i] = qnvme_tmp_image(NS_SIZE);
    }
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=topo0,");
    g_string_append_printf(cmd_line,
        " -object x-nvme-subsystem,id=topo0,nqn=" NQN
        " %s -blockdev file,node-name=img-a,filename=%s"
        " -drive if=none,id=img-b,format=raw,file=%s"
        " -blockdev file,node-name=img-c,filename=%s"
        " -object x-nvme-ns-nvm,id=ns-a,subsys=topo0,drive=img-a,nsid=3,"
        "attached-to=nvme0"
        " -object x-nvme-ns-nvm,id=ns-b,subsys=topo0,drive=img-b,"
        "attached-to=second"
        " -object '{\"qom-type\":\"x-nvme-ns-nvm\",\"id\":\"ns-c\","
        "\"subsys\":\"topo0\",\"drive\":\"img-c\",\"uuid\":\"" UUID_C "\","
        "\"anagrpid\":2,\"attached-to\":[\"nvme0\",\"second\"]}'",
        hotplug ? "" : "-device nvme,id=second,subsys=topo0,serial=second,"
        "addr=" stringify(SECOND_SLOT),
        image[0], image[1], image[2]);
    return arg;
}

/* The same, with every controller's I/O queues in one iothread */
static void *topology_iothread_setup(GString *cmd_line, void *arg)
{
    topology_setup(cmd_line, arg);
    g_string_append(cmd_line, " -object iothread,id=topo-io"
                    " -global nvme.iothread=topo-io");
    return arg;
}

static uint16_t identify(Ctx *c, uint8_t cns, uint32_t nsid, void *out)
{
    return qnvme_identify(c->n, cns, nsid, 0, out);
}

/* The NSIDs of an Identify namespace list, up to 8 */
static int ns_list(Ctx *c, uint8_t cns, uint32_t *out)
{
    uint32_t list[1024];
    int i;

    g_assert_cmphex(identify(c, cns, 0, list), ==, 0);
    for (i = 0; i < 8 && list[i]; i++) {
        out[i] = le32_to_cpu(list[i]);
    }
    return i;
}

/* The controller IDs (CNTLIDs) namespace nsid is attached to */
static int attached_ctrls(Ctx *c, uint32_t nsid, uint16_t *out)
{
    uint16_t list[2048];
    int count;

    g_assert_cmphex(identify(c, NVME_ID_CNS_NS_ATTACHED_CTRL_LIST, nsid,
                             list), ==, 0);
    count = le16_to_cpu(list[0]);
    for (int i = 0; i < count && i < 8; i++) {
        out[i] = le16_to_cpu(list[i + 1]);
    }
    return count;
}

static int64_t qom_get_int(Ctx *c, const char *path, const char *prop)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'qom-get', 'arguments':"
                           " {'path': %s, 'property': %s}}", path, prop);
    int64_t val = qdict_get_int(rsp, "return");

    qobject_unref(rsp);
    return val;
}

/* Runs a QMP command that must fail; returns its error description. */
static char *qmp_error(Ctx *c, QDict *rsp)
{
    char *desc;

    g_assert(qdict_haskey(rsp, "error"));
    desc = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    qobject_unref(rsp);
    return desc;
}

static void test_topology_objects(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    uint8_t desc[NVME_IDENTIFY_DATA_SIZE];
    uint8_t uuid[16] = {
        0x3f, 0x0c, 0x1e, 0x0a, 0x8d, 0x5b, 0x4b, 0x4e,
        0x9c, 0x1a, 0x2b, 0x7d, 0x6e, 0x5f, 0x4a, 0x31,
    };
    uint32_t nsids[8];
    uint16_t ctrls[8];
    int64_t nsid_b = qom_get_int(&c, "/objects/ns-b", "nsid");
    int64_t nsid_c = qom_get_int(&c, "/objects/ns-c", "nsid");
    uint8_t pattern[512], back[512];
    g_autofree char *file = NULL;
    gsize len;

    /* The subsystem: its NQN, shared namespaces and two controllers */
    g_assert_cmphex(identify(&c, NVME_ID_CNS_CTRL, 0, id), ==, 0);
    g_assert_cmpstr((char *)id->subnqn, ==, NQN);
    g_assert_cmphex(id->cmic & 0x2, ==, 0x2);
    g_assert_cmpint(qom_get_int(&c, "/objects/ns-a", "nsid"), ==, 3);
    /* B and C got the lowest free NSIDs */
    g_assert_cmpint(nsid_b, ==, 1);
    g_assert_cmpint(nsid_c, ==, 2);

    /* nvme0 (CNTLID 0) has A and C; B is allocated but not active */
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 2);
    g_assert_cmpuint(nsids[0], ==, nsid_c);
    g_assert_cmpuint(nsids[1], ==, 3);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 3);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, nsid_b, ns), ==, 0);
    g_assert_cmpuint(ldq_le_p(&ns->nsze), ==, 0);
    g_assert_cmpint(attached_ctrls(&c, 3, ctrls), ==, 1);
    g_assert_cmpuint(ctrls[0], ==, 0);
    g_assert_cmpint(attached_ctrls(&c, nsid_b, ctrls), ==, 1);
    g_assert_cmpuint(ctrls[0], ==, 1);
    g_assert_cmpint(attached_ctrls(&c, nsid_c, ctrls), ==, 2);

    /* C: its size, NMIC, ANA group and UUID */
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, nsid_c, ns), ==, 0);
    g_assert_cmpuint(ldq_le_p(&ns->nsze), ==, NS_SIZE / 512);
    g_assert_cmpuint(ns->nmic, ==, 1);
    g_assert_cmpuint(ldl_le_p(&ns->anagrpid), ==, 2);
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS_DESCR_LIST, nsid_c, desc),
                    ==, 0);
    for (int off = 0; desc[off + 1]; off += 4 + desc[off + 1]) {
        if (desc[off] == NVME_NIDT_UUID) {
            g_assert_cmpmem(desc + off + 4, 16, uuid, 16);
            break;
        }
        g_assert_cmpint(off, <, 256);
    }

    /* Data written to A through nvme0 lands in A's image */
    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    qtest_memwrite(c.qts, c.buf, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 3, 5, 1, c.buf, 0),
                    ==, 0);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_FLUSH, 3, 0, 1, 0, 0), ==, 0);
    g_assert_true(g_file_get_contents(image[0], &file, &len, NULL));
    g_assert_cmpmem(file + 5 * 512, 512, pattern, 512);
    qtest_memset(c.qts, c.buf, 0, sizeof(back));
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 3, 5, 1, c.buf, 0),
                    ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, 512, pattern, 512);
    /* B is not active here */
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, nsid_b, 0, 1, c.buf, 0),
                    ==, NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);

    /* QMP names the subsystem object by its ID */
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'nvme-power-cycle', 'arguments': {'id': 'topo0'}}"));
}

/* Errors of the objects, and a namespace object added at run time */
static void test_topology_runtime(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    char *img = qnvme_tmp_image(NS_SIZE);    /* freed with the test */
    uint32_t nsids[8], changed[1024];
    static const struct {
        const char *args;
        const char *error;
    } bad[] = {
        { "'drive': 'img-d'", "'subsys' is missing" },
        { "'subsys': 'topo0'", "'drive' is missing" },
        { "'subsys': 'topo0', 'drive': 'nope'", "nope" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'nsid': 3",
          "nsid 3 is already in use by x-nvme-ns-nvm 'ns-a'" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'nsid': 257",
          "nsid must be at most 256" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'anagrpid': 17",
          "anagrpid must be at most 16" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'uuid': 'x'",
          "is not a UUID" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'nguid': '12'",
          "nguid must be 32 hexadecimal digits" },
        { "'subsys': 'nvme0', 'drive': 'img-d'",
          "expected: nvme-subsystem" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'attached-to': ['']",
          "x-nvme-ns-nvm: attached-to: empty controller ID" },
        { "'subsys': 'topo0', 'drive': 'img-d',"
          " 'attached-to': ['nvme0', 'all']",
          "attached-to: 'all' cannot be combined with controller IDs" },
        /* Metadata checks are those of nvme-ns */
        { "'subsys': 'topo0', 'drive': 'img-d', 'ms': 12",
          "ms must be 0, 8, 16 or 64" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'ms': 8, 'pi': 1, 'pif': 2",
          "pi=1 needs ms of at least 16" },
        { "'subsys': 'topo0', 'drive': 'img-d', 'pif': 1",
          "pif 0 (16-bit guard) or 2 (64-bit guard)" },
    };
    QDict *rsp;

    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'blockdev-add', 'arguments': {'driver': 'file',"
        " 'node-name': 'img-d', 'filename': %s}}", img));
    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "{'execute': 'object-add', 'arguments': {'qom-type':"
            " 'x-nvme-ns-nvm', 'id': 'bad%d', %s}}", i, bad[i].args);
        g_autofree char *err = qmp_error(&c, qtest_qmp(c.qts, cmd, NULL));

        g_test_message("%s -> %s", bad[i].args, err);
        g_assert_nonnull(strstr(err, bad[i].error));
    }

    /* Namespaces and a subsystem in use stay; properties are fixed */
    g_autofree char *in_use = qmp_error(&c, qtest_qmp(c.qts,
        "{'execute': 'object-del', 'arguments': {'id': 'ns-a'}}"));
    g_assert_nonnull(strstr(in_use, "in use"));
    g_free(in_use);
    in_use = qmp_error(&c, qtest_qmp(c.qts,
        "{'execute': 'object-del', 'arguments': {'id': 'topo0'}}"));
    g_assert_nonnull(strstr(in_use, "in use"));
    g_free(in_use);
    in_use = qmp_error(&c, qtest_qmp(c.qts,
        "{'execute': 'qom-set', 'arguments': {'path': '/objects/ns-a',"
        " 'property': 'attached-to', 'value': ['all']}}"));
    g_assert_nonnull(strstr(in_use, "cannot change after creation"));

    /* A shared nvme-ns device would go with its controller: refused */
    rsp = qtest_qmp(c.qts, "{'execute': 'device_add', 'arguments':"
                    " {'driver': 'nvme-ns', 'bus': 'nvme0', 'drive':"
                    " 'img-b'}}");
    g_free(in_use);
    in_use = qmp_error(&c, rsp);
    g_assert_nonnull(strstr(in_use, "x-nvme-ns-* objects"));
    /* A private one may be, but not with an NSID in use: who has it */
    rsp = qtest_qmp(c.qts, "{'execute': 'device_add', 'arguments':"
                    " {'driver': 'nvme-ns', 'id': 'priv', 'bus': 'nvme0',"
                    " 'drive': 'img-d', 'shared': false, 'nsid': 3}}");
    g_free(in_use);
    in_use = qmp_error(&c, rsp);
    g_assert_nonnull(strstr(in_use, "nsid 3 is already in use by "
                            "x-nvme-ns-nvm 'ns-a'"));

    /* Hot-add: NSID 4 on nvme0, with a Changed Namespace List entry */
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'object-add', 'arguments': {'qom-type':"
        " 'x-nvme-ns-nvm', 'id': 'ns-d', 'subsys': 'topo0', 'drive':"
        " 'img-d', 'nsid': 4, 'attached-to': ['nvme0']}}"));
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_NSLIST, 0, changed,
                                  sizeof(changed)), ==, 0);
    g_assert_cmpuint(le32_to_cpu(changed[0]), ==, 4);
    g_assert_cmpuint(changed[1], ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 3);
    g_assert_cmpuint(nsids[2], ==, 4);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 4, 0, 8, c.buf, 0),
                    ==, 0);

    /* A zoned namespace object: 2 zones of 2 MiB */
    img = qnvme_tmp_image(NS_SIZE);
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'blockdev-add', 'arguments': {'driver': 'file',"
        " 'node-name': 'img-z', 'filename': %s}}", img));
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'object-add', 'arguments': {'qom-type':"
        " 'x-nvme-ns-zoned', 'id': 'ns-z', 'subsys': 'topo0', 'drive':"
        " 'img-z', 'nsid': 5, 'zone-size': 2097152, 'max-open': 1}}"));
    {
        g_autofree NvmeIdNsZoned *idz = g_new0(NvmeIdNsZoned, 1);

        g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS, 5,
                                       NVME_CSI_ZONED, idz), ==, 0);
        g_assert_cmpuint(le64_to_cpu(idz->lbafe[0].zsze), ==, 4096);
        g_assert_cmpuint(le32_to_cpu(idz->mor), ==, 0);
    }
    /* Zoned: a write away from the write pointer fails */
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 5, 8, 8, c.buf, 0),
                    ==, NVME_SC_ZONE_INVALID_WRITE | NVME_SC_DNR);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 5, 0, 8, c.buf, 0),
                    ==, 0);
}

#define PRACT           (1u << 29)
#define CHK_GUARD       (1u << 28)
#define CHK_APP         (1u << 27)
#define CHK_REF         (1u << 26)

/* A 512-byte block read or write with PRINFO and reference tag eilbrt */
static uint16_t pi_rw(Ctx *c, uint8_t opcode, uint32_t nsid, uint64_t slba,
                      uint32_t nlb, uint32_t prinfo, uint32_t eilbrt)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(slba),
        .cdw12 = cpu_to_le32((nlb - 1) | prinfo),
        .cdw14 = cpu_to_le32(eilbrt),
    };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

/*
 * Namespace objects with metadata and protection information, and one
 * created detached (attached-to=[]) for Namespace Attachment.
 */
static void test_topology_pi(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint8_t pattern[2048], back[2048];
    uint32_t nsids[8];
    uint16_t ctrls[8];
    uint8_t f;

    for (int i = 0; i < 2; i++) {
        g_autofree char *cmd = g_strdup_printf(
            "{'execute': 'blockdev-add', 'arguments': {'driver': 'file',"
            " 'node-name': 'img-p%d', 'filename': '%s'}}", i,
            qnvme_tmp_image(NS_SIZE));

        qobject_unref(qtest_qmp_assert_success_ref(c.qts, cmd, NULL));
    }
    /* 512 + 16 bytes, type 1, 64-bit guard, extended LBAs */
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'object-add', 'arguments': {'qom-type':"
        " 'x-nvme-ns-nvm', 'id': 'ns-pi', 'subsys': 'topo0', 'drive':"
        " 'img-p0', 'nsid': 7, 'attached-to': ['nvme0'], 'ms': 16,"
        " 'mset': 1, 'pi': 1, 'pif': 2}}"));
    g_assert_cmphex(identify(&c, NVME_ID_CNS_NS, 7, id), ==, 0);
    f = id->flbas & 0xf;
    g_assert_cmpuint(id->lbaf[f].ds, ==, 9);
    g_assert_cmpuint(le16_to_cpu(id->lbaf[f].ms), ==, 16);
    g_assert_cmphex(id->flbas & 0x10, ==, 0x10);
    g_assert_cmphex(id->dps, ==, 1);
    g_assert_cmpuint(ldq_le_p(&id->nsze), ==, NS_SIZE / (512 + 16));

    /* PRACT inserts the PI on write, checks and strips it on read */
    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 13 + 1;
    }
    qtest_memwrite(c.qts, c.buf, pattern, sizeof(pattern));
    g_assert_cmphex(pi_rw(&c, NVME_CMD_WRITE, 7, 10, 4, PRACT, 10), ==, 0);
    qtest_memset(c.qts, c.buf, 0, sizeof(back));
    g_assert_cmphex(pi_rw(&c, NVME_CMD_READ, 7, 10, 4,
                          PRACT | CHK_GUARD | CHK_APP | CHK_REF, 10), ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    /* The stored reference tags are those of the write */
    g_assert_cmphex(pi_rw(&c, NVME_CMD_READ, 7, 10, 4, PRACT | CHK_REF, 11),
                    ==, NVME_SC_REF_TAG_CHECK_ERROR | NVME_SC_DNR);

    /* attached-to=[]: allocated, attached to nothing */
    qobject_unref(qtest_qmp_assert_success_ref(c.qts,
        "{'execute': 'object-add', 'arguments': {'qom-type':"
        " 'x-nvme-ns-nvm', 'id': 'ns-e', 'subsys': 'topo0', 'drive':"
        " 'img-p1', 'nsid': 8, 'attached-to': []}}"));
    g_assert_cmpint(attached_ctrls(&c, 8, ctrls), ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 5);
    g_assert_cmpuint(nsids[4], ==, 8);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 8, 0, 1, c.buf, 0),
                    ==, NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR);
}

#define POOL_NS1 "ns nsid=1 nsze=64 lbaf=0 nmic=1 attached=0x00000000 " \
                 "uuid=0b3c5e7a-1d2f-4a6b-8c9d-0e1f2a3b4c5d ana=1\n"

/*
 * A pool that fails to load closes the namespaces it had opened: the
 * subsystem object is not created, and the same pool loads once fixed.
 */
static void test_topology_pool_error(void *obj, void *data,
                                     QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    char *dir = g_dir_make_tmp("nvme-topo-pool-XXXXXX", NULL);
    g_autofree char *list = g_build_filename(dir, "namespaces", NULL);
    g_autofree char *img = g_build_filename(dir, "ns-1.img", NULL);
    g_autofree char *zero = g_malloc0(64 * 512);
    g_autofree char *err = NULL;
    const char *add = "{'execute': 'object-add', 'arguments': {'qom-type':"
                      " 'x-nvme-subsystem', 'id': %s, 'ns-pool': %s,"
                      " 'tnvmcap': 1048576}}";

    qnvme_remove_dir_at_end(dir);
    g_assert_true(g_file_set_contents(img, zero, 64 * 512, NULL));
    g_assert_true(g_file_set_contents(list, POOL_NS1 "garbage\n", -1,
                                      NULL));
    err = qmp_error(&c, qtest_qmp(c.qts, add, "pool-bad", dir));
    g_assert_nonnull(strstr(err, "line 2: malformed line 'garbage'"));
    g_assert_true(g_file_set_contents(list, POOL_NS1, -1, NULL));
    qobject_unref(qtest_qmp_assert_success_ref(c.qts, add, "pool-ok", dir));
    /* It holds namespace 1 now */
    g_free(err);
    err = qmp_error(&c, qtest_qmp(c.qts, "{'execute': 'object-del',"
                                  " 'arguments': {'id': 'pool-ok'}}"));
    g_assert_nonnull(strstr(err, "in use"));
}

static void add_second(Ctx *c)
{
    qtest_qmp_device_add(c->qts, "nvme", "second",
                         "{'subsys': 'topo0', 'serial': 'second',"
                         " 'addr': %s}", stringify(SECOND_SLOT) ".0");
}

/*
 * A hot-plugged controller gets the namespaces that name it; unplugging
 * it (ACPI eject) leaves every namespace in place.
 */
static void test_topology_unplug(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint32_t nsids[8];
    uint16_t ctrls[8];
    int64_t nsid_c = qom_get_int(&c, "/objects/ns-c", "nsid");

    g_assert_cmpint(attached_ctrls(&c, nsid_c, ctrls), ==, 1);
    add_second(&c);
    g_assert_cmpint(attached_ctrls(&c, nsid_c, ctrls), ==, 2);
    g_assert_cmpuint(ctrls[1], ==, 1);
    qpci_unplug_acpi_device_test(c.qts, "second", SECOND_SLOT);
    g_assert_cmpint(attached_ctrls(&c, nsid_c, ctrls), ==, 1);
    g_assert_cmpuint(ctrls[0], ==, 0);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_PRESENT_LIST, nsids), ==, 3);
    g_assert_cmpint(ns_list(&c, NVME_ID_CNS_NS_ACTIVE_LIST, nsids), ==, 2);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, nsid_c, 0, 8, c.buf, 0),
                    ==, 0);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, nsid_c, 0, 8, c.buf, 0),
                    ==, 0);
    /* A controller with the same ID comes back to the same namespaces */
    add_second(&c);
    g_assert_cmpint(attached_ctrls(&c, nsid_c, ctrls), ==, 2);
}

static void register_nvme_topology_tests(void)
{
    QOSGraphTestOptions topo = { .before = topology_setup };
    QOSGraphTestOptions topo_hotplug = {
        .before = topology_setup, .arg = (void *)1,
    };
    QOSGraphTestOptions topo_io_hotplug = {
        .before = topology_iothread_setup, .arg = (void *)1,
    };

    qos_add_test("topology-objects", "nvme-topology", test_topology_objects,
                 &topo);
    qos_add_test("topology-runtime", "nvme-topology", test_topology_runtime,
                 &topo);
    qos_add_test("topology-pi", "nvme-topology", test_topology_pi, &topo);
    qos_add_test("topology-pool-error", "nvme-topology",
                 test_topology_pool_error, &topo);
    qos_add_test("topology-unplug", "nvme-topology", test_topology_unplug,
                 &topo_hotplug);
    qos_add_test("iothread-topology-unplug", "nvme-topology",
                 test_topology_unplug, &topo_io_hotplug);
}

libqos_init(register_nvme_topology_tests);
