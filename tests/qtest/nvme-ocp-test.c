/*
 * qtests of the OCP Datacenter NVMe SSD log pages (ocp=on) and the SPDM
 * Data Object Exchange capability (spdm_port).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/sockets.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

/* OCP log identifiers and the offsets the checks below look at */
#define OCP_LID_SMART       0xc0
#define OCP_LID_ERR_REC     0xc1
#define OCP_LID_LATENCY     0xc3
#define OCP_LID_DEV_CAP     0xc4
#define OCP_LID_UNSUPP      0xc5

#define C0_PMUW             0
#define C0_PMUR             16
#define C0_BUNB_NORM        38
#define C0_DSSD_MAJOR       103
#define C0_CAP_HEALTH       128
#define C0_NUSE             152
#define C0_VERSION          494
#define C0_GUID             496

static const uint8_t guid_c0[16] = {
    0xc5, 0xaf, 0x10, 0x28, 0xea, 0xbf, 0xf2, 0xa4,
    0x9c, 0x4f, 0x6f, 0x7c, 0xc9, 0x14, 0xd5, 0xaf,
};
static const uint8_t guid_c1[16] = {
    0x44, 0xd9, 0x31, 0x21, 0xfe, 0x30, 0x34, 0xae,
    0xab, 0x4d, 0xfd, 0x3d, 0xba, 0x83, 0x19, 0x5a,
};
static const uint8_t guid_c3[16] = {
    0x92, 0x7a, 0xc0, 0x8c, 0xd0, 0x84, 0x6c, 0x9c,
    0x70, 0x43, 0xe6, 0xd4, 0x58, 0x5e, 0xd4, 0x85,
};
static const uint8_t guid_c4[16] = {
    0x97, 0x42, 0x05, 0x0d, 0xd1, 0xe1, 0xc9, 0x98,
    0x5d, 0x49, 0x58, 0x4b, 0x91, 0x3c, 0x05, 0xb7,
};
static const uint8_t guid_c5[16] = {
    0x2f, 0x72, 0x9c, 0x0e, 0x99, 0x23, 0x2c, 0xbb,
    0x63, 0x48, 0x32, 0xd0, 0xb7, 0x98, 0xbb, 0xc7,
};

static void *ocp_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.ocp=on");
    return qnvme_setup_one_namespace(cmd_line, arg);
}

/* Get Log Page with a Log Page Offset (NSID FFFFFFFFh, as nvme-cli) */
static uint16_t get_log_at(QNvme *n, uint8_t lid, uint64_t offset,
                           void *buf, uint32_t len)
{
    QTestState *qts = n->dev.bus->qts;
    uint64_t addr = qnvme_alloc(n, 2 * QNVME_PAGE_SIZE);
    uint32_t numd = len / 4 - 1;
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_GET_LOG_PAGE,
        .nsid = cpu_to_le32(NVME_NSID_BROADCAST),
        .cdw10 = cpu_to_le32(lid | ((numd & 0xffff) << 16)),
        .cdw11 = cpu_to_le32(numd >> 16),
        .cdw12 = cpu_to_le32(offset),
        .cdw13 = cpu_to_le32(offset >> 32),
    };
    uint16_t status;

    /* A pattern, to see how much the controller wrote */
    qtest_memset(qts, addr, 0xaa, 2 * QNVME_PAGE_SIZE);
    cmd.dptr.prp1 = cpu_to_le64(addr);
    cmd.dptr.prp2 = cpu_to_le64(addr + QNVME_PAGE_SIZE);
    status = qnvme_cmd(n, 0, &cmd, NULL);
    qtest_memread(qts, addr, buf, len);
    guest_free(n->alloc, addr);
    return status;
}

static uint64_t c0_counter(QNvme *n, unsigned off)
{
    uint8_t log[512];

    g_assert_cmphex(get_log_at(n, OCP_LID_SMART, 0, log, sizeof(log)), ==, 0);
    /* The counters are 128-bit: the upper half stays 0 here */
    g_assert_cmphex(ldq_le_p(log + off + 8), ==, 0);
    return ldq_le_p(log + off);
}

/* C0h: GUID, version, DSSD version, fixed fields and the media counters */
static void test_smart_extended(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    uint8_t log[512];
    uint64_t written, read;

    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 0, log, sizeof(log)), ==,
                    0);
    g_assert_cmpmem(log + C0_GUID, 16, guid_c0, 16);
    g_assert_cmpuint(lduw_le_p(log + C0_VERSION), ==, 3);
    g_assert_cmpuint(log[C0_DSSD_MAJOR], ==, 2);
    g_assert_cmpuint(lduw_le_p(log + C0_BUNB_NORM), ==, 100);
    g_assert_cmphex(lduw_le_p(log + C0_CAP_HEALTH), ==, 0xffff);
    g_assert_cmpuint(ldq_le_p(log + C0_NUSE), ==, QNVME_TEST_NLBAS);

    /* Physical Media Units Written/Read count bytes */
    written = c0_counter(c.n, C0_PMUW);
    read = c0_counter(c.n, C0_PMUR);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_WRITE, 1, 0, 8, c.buf, 0), ==,
                    0);
    g_assert_cmpuint(c0_counter(c.n, C0_PMUW), ==, written + 4096);
    g_assert_cmpuint(c0_counter(c.n, C0_PMUR), ==, read);
    g_assert_cmphex(qnvme_rw(c.n, 1, NVME_CMD_READ, 1, 0, 4, c.buf, 0), ==,
                    0);
    g_assert_cmpuint(c0_counter(c.n, C0_PMUR), ==, read + 2048);
}

/* C3h: monitoring off, no time stamps (all ones), version 1 */
static void test_latency_monitor(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    uint8_t log[512];

    g_assert_cmphex(qnvme_get_log(c.n, OCP_LID_LATENCY, NVME_NSID_BROADCAST,
                                  log, sizeof(log)), ==, 0);
    g_assert_cmpuint(log[0], ==, 0);                    /* Feature Status */
    g_assert_cmphex(ldq_le_p(log + 0x60), ==, UINT64_MAX);
    g_assert_cmphex(ldq_le_p(log + 0x130 + 11 * 8), ==, UINT64_MAX);
    g_assert_cmpuint(ldl_le_p(log + 0x20), ==, 0);      /* bucket 0 reads */
    g_assert_cmpuint(lduw_le_p(log + 0x1ee), ==, 1);
    g_assert_cmpmem(log + 0x1f0, 16, guid_c3, 16);
}

/* C4h: capability words from Identify Controller, bit 15 set */
static void test_device_capabilities(void *obj, void *data,
                                     QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    g_autofree uint8_t *log = g_malloc0(4096);

    g_assert_cmphex(qnvme_get_log(c.n, OCP_LID_DEV_CAP, NVME_NSID_BROADCAST,
                                  log, 4096), ==, 0);
    g_assert_cmpuint(lduw_le_p(log + 0), ==, 1);            /* PCIe ports */
    g_assert_cmphex(lduw_le_p(log + 2), ==, 0x8000);        /* no OOB */
    g_assert_cmphex(lduw_le_p(log + 4), ==, 0x8007);        /* WZ */
    g_assert_cmphex(lduw_le_p(log + 6), ==, 0x8000);        /* no Sanitize */
    g_assert_cmphex(lduw_le_p(log + 8), ==, 0x8003);        /* DSM */
    g_assert_cmphex(lduw_le_p(log + 10), ==, 0x8001);       /* WU */
    g_assert_cmpuint(lduw_le_p(log + 4078), ==, 1);
    g_assert_cmpmem(log + 4080, 16, guid_c4, 16);
}

/* C1h and C5h: version and GUID; C5h lists PLP-1 */
static void test_recovery_unsupported(void *obj, void *data,
                                      QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    g_autofree uint8_t *log = g_malloc0(4096);

    g_assert_cmphex(qnvme_get_log(c.n, OCP_LID_ERR_REC, NVME_NSID_BROADCAST,
                                  log, 512), ==, 0);
    g_assert_cmpuint(lduw_le_p(log + 494), ==, 2);
    g_assert_cmpmem(log + 496, 16, guid_c1, 16);

    g_assert_cmphex(qnvme_get_log(c.n, OCP_LID_UNSUPP, NVME_NSID_BROADCAST,
                                  log, 4096), ==, 0);
    g_assert_cmpuint(lduw_le_p(log), ==, 1);
    g_assert_cmpstr((char *)log + 16, ==, "PLP-1");
    g_assert_cmpuint(lduw_le_p(log + 4078), ==, 1);
    g_assert_cmpmem(log + 4080, 16, guid_c5, 16);
}

/* Supported Log Pages (LID 00h) lists the OCP pages, and only them */
static void test_supported_logs(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    uint32_t lids[256];

    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_SUPPORTED_LOGS, 0, lids,
                                  sizeof(lids)), ==, 0);
    g_assert_cmphex(le32_to_cpu(lids[OCP_LID_SMART]), ==, 1);
    g_assert_cmphex(le32_to_cpu(lids[OCP_LID_ERR_REC]), ==, 1);
    g_assert_cmphex(le32_to_cpu(lids[0xc2]), ==, 0);
    g_assert_cmphex(le32_to_cpu(lids[OCP_LID_LATENCY]), ==, 1);
    g_assert_cmphex(le32_to_cpu(lids[OCP_LID_DEV_CAP]), ==, 1);
    g_assert_cmphex(le32_to_cpu(lids[OCP_LID_UNSUPP]), ==, 1);
    g_assert_cmphex(le32_to_cpu(lids[0xc6]), ==, 0);
}

/* Log Page Offset: a window of the page; beyond it Invalid Field */
static void test_partial_reads(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    uint8_t buf[64];
    uint8_t whole[512];

    /* The GUID alone, the last 16 bytes */
    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, C0_GUID, buf, 16), ==, 0);
    g_assert_cmpmem(buf, 16, guid_c0, 16);
    /* Longer than what is left: only the rest moves */
    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 480, buf, 64), ==, 0);
    g_assert_cmpmem(buf + 16, 16, guid_c0, 16);
    g_assert_cmphex(buf[32], ==, 0xaa);
    /* The same bytes as a whole read */
    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 0, whole, 512), ==, 0);
    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 96, buf, 32), ==, 0);
    g_assert_cmpmem(buf, 32, whole + 96, 32);
    g_assert_cmphex(get_log_at(c.n, OCP_LID_DEV_CAP, 4080, buf, 16), ==, 0);
    g_assert_cmpmem(buf, 16, guid_c4, 16);

    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 512, buf, 4), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(get_log_at(c.n, OCP_LID_LATENCY, 1ULL << 32, buf, 4), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(get_log_at(c.n, OCP_LID_DEV_CAP, 4096, buf, 4), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(get_log_at(c.n, OCP_LID_SMART, 2, buf, 4), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
}

/* ocp=off (the default): every OCP page is an Invalid Log Page */
static void test_ocp_off(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    static const uint8_t lids[] = {
        OCP_LID_SMART, OCP_LID_ERR_REC, OCP_LID_LATENCY, OCP_LID_DEV_CAP,
        OCP_LID_UNSUPP,
    };
    uint32_t supported[256];
    uint8_t buf[512];

    for (int i = 0; i < ARRAY_SIZE(lids); i++) {
        g_assert_cmphex(get_log_at(c.n, lids[i], 0, buf, sizeof(buf)), ==,
                        NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR);
    }
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_SUPPORTED_LOGS, 0, supported,
                                  sizeof(supported)), ==, 0);
    for (int i = 0; i < ARRAY_SIZE(lids); i++) {
        g_assert_cmphex(le32_to_cpu(supported[lids[i]]), ==, 0);
    }
}

/*
 * SPDM over DOE. The i440FX machine of the qos graph reaches only the
 * first 256 bytes of config space, so these tests start a q35 machine of
 * their own and use its ECAM window.
 */
#define SPDM_ECAM_BASE      0xb0000000ULL
#define SPDM_NVME_SLOT      4
#define SPDM_DOE            0x200       /* NVME_SPDM_DOE_OFFSET in spdm.c */

#define DOE_CTRL            0x08
#define DOE_STATUS          0x0c
#define DOE_WRITE_MBOX      0x10
#define DOE_READ_MBOX       0x14
#define DOE_GO              (1u << 31)
#define DOE_READY           (1u << 31)

#define SOCKET_CMD_NORMAL   0x0001
#define SOCKET_CMD_SHUTDOWN 0xfffe
#define SOCKET_DOE          0x02

/* A responder speaking spdm-socket's framing: big-endian u32 fields */
typedef struct SpdmResponder {
    int listen_fd;
    uint16_t port;
    GThread *thread;
    uint8_t request[64];
    uint32_t request_len;
} SpdmResponder;

static bool spdm_read_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t got = recv(fd, p, len, 0);

        if (got <= 0) {
            return false;
        }
        p += got;
        len -= got;
    }
    return true;
}

static bool spdm_read_u32(int fd, uint32_t *val)
{
    if (!spdm_read_all(fd, val, 4)) {
        return false;
    }
    *val = be32_to_cpu(*val);
    return true;
}

static void spdm_write_u32(int fd, uint32_t val)
{
    val = cpu_to_be32(val);
    g_assert_cmpint(qemu_send_full(fd, &val, 4), ==, 4);
}

/* Answers GET_VERSION (in a CMA data object) with versions 1.0 and 1.1 */
static gpointer spdm_responder_thread(gpointer opaque)
{
    SpdmResponder *r = opaque;
    static const uint8_t version[20] = {
        0x01, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00,     /* DOE, 5 DW */
        0x10, 0x04, 0x00, 0x00, 0x00, 0x02,                 /* VERSION */
        0x00, 0x10, 0x00, 0x11, 0x00, 0x00,                 /* 1.0, 1.1 */
    };
    uint32_t command, transport, size;
    int fd = accept(r->listen_fd, NULL, NULL);

    g_assert_cmpint(fd, >=, 0);
    while (spdm_read_u32(fd, &command) && spdm_read_u32(fd, &transport) &&
           spdm_read_u32(fd, &size)) {
        g_assert_cmpuint(transport, ==, SOCKET_DOE);
        g_assert_cmpuint(size, <=, sizeof(r->request));
        g_assert_true(spdm_read_all(fd, r->request, size));
        if (command == SOCKET_CMD_SHUTDOWN) {
            break;
        }
        g_assert_cmpuint(command, ==, SOCKET_CMD_NORMAL);
        r->request_len = size;
        spdm_write_u32(fd, SOCKET_CMD_NORMAL);
        spdm_write_u32(fd, SOCKET_DOE);
        spdm_write_u32(fd, sizeof(version));
        g_assert_cmpint(qemu_send_full(fd, version, sizeof(version)), ==,
                        sizeof(version));
    }
    close(fd);
    return NULL;
}

/* A TCP port on localhost: listening (listen true) or free */
static int spdm_bind(uint16_t *port, bool listen_on)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    *port = ntohs(addr.sin_port);
    if (!listen_on) {
        close(fd);
        return -1;
    }
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

static uint64_t spdm_cfg(unsigned off)
{
    return SPDM_ECAM_BASE + (SPDM_NVME_SLOT << 15) + off;
}

/* Sends a data object through the DOE and reads the response */
static uint32_t doe_exchange(QTestState *qts, const uint32_t *req,
                             uint32_t req_dw, uint32_t *rsp, uint32_t max)
{
    uint32_t n = 0;
    int tries = 1000;

    for (uint32_t i = 0; i < req_dw; i++) {
        qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_WRITE_MBOX), req[i]);
    }
    qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_CTRL), DOE_GO);
    while (!(qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_STATUS)) &
             DOE_READY) && --tries) {
        g_usleep(1000);
    }
    g_assert_cmpint(tries, >, 0);
    while (n < max && (qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_STATUS)) &
                       DOE_READY)) {
        rsp[n++] = qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_READ_MBOX));
        /* Any write to the read mailbox moves to the next dword */
        qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_READ_MBOX), 0);
    }
    return n;
}

/* Firmware's job: enable ECAM (MCH PCIEXBAR, 256 MiB) */
static void spdm_enable_ecam(QTestState *qts)
{
    qtest_outl(qts, 0xcf8, 0x80000000 | 0x60);
    qtest_outl(qts, 0xcfc, SPDM_ECAM_BASE | 1);
}

/* A responder thread, and a q35 QEMU whose controller talks to it */
static QTestState *spdm_start(SpdmResponder *r)
{
    QTestState *qts;

    r->listen_fd = spdm_bind(&r->port, true);
    r->thread = g_thread_new("spdm-responder", spdm_responder_thread, r);
    qts = qtest_initf("-M q35 -nodefaults -device nvme,serial=spdm,"
                      "addr=%02x.0,spdm_port=%u", SPDM_NVME_SLOT, r->port);
    spdm_enable_ecam(qts);
    return qts;
}

/* QEMU exits without unrealizing: the responder just sees EOF */
static void spdm_stop(SpdmResponder *r, QTestState *qts)
{
    qtest_quit(qts);
    g_thread_join(r->thread);
    close(r->listen_fd);
}

static void test_spdm_get_version(void *obj, void *data, QGuestAllocator *a)
{
    SpdmResponder r = {};
    /* DOE Discovery: index 0, then 1 */
    uint32_t discovery[3] = { 0x00000001, 3, 0 };
    /* CMA data object: SPDM 1.0 GET_VERSION (10h 84h 00h 00h) */
    uint32_t get_version[3] = { 0x00010001, 3, 0x00008410 };
    uint32_t rsp[8];
    QTestState *qts;

    qts = spdm_start(&r);

    /* A null capability at 100h leads to the DOE (ID 2Eh, version 1) */
    g_assert_cmphex(qtest_readl(qts, spdm_cfg(0x100)), ==, SPDM_DOE << 20);
    g_assert_cmphex(qtest_readl(qts, spdm_cfg(SPDM_DOE)), ==, 0x1002e);

    g_assert_cmpuint(doe_exchange(qts, discovery, 3, rsp, 8), ==, 3);
    g_assert_cmphex(rsp[0], ==, 0x00000001);
    g_assert_cmphex(rsp[1], ==, 3);
    g_assert_cmphex(rsp[2], ==, 0x01000001);    /* Discovery, next 1 */
    discovery[2] = 1;
    g_assert_cmpuint(doe_exchange(qts, discovery, 3, rsp, 8), ==, 3);
    g_assert_cmphex(rsp[2], ==, 0x02010001);    /* CMA-SPDM, next 2 */
    g_assert_cmphex(qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_STATUS)), ==,
                    0);

    g_assert_cmpuint(doe_exchange(qts, get_version, 3, rsp, 8), ==, 5);
    /* The responder got the whole data object, DOE header included */
    g_assert_cmpuint(r.request_len, ==, 12);
    g_assert_cmpmem(r.request, 12, get_version, 12);
    g_assert_cmphex(rsp[0], ==, 0x00010001);
    g_assert_cmphex(rsp[1], ==, 5);
    g_assert_cmphex(rsp[2], ==, 0x00000410);    /* 1.0 VERSION */
    g_assert_cmphex(rsp[3], ==, 0x10000200);    /* 2 entries, 1.0 */
    g_assert_cmphex(rsp[4], ==, 0x00001100);    /* 1.1 */

    spdm_stop(&r, qts);
}

/* A PCI reset aborts the DOE: a response not read yet is gone */
static void test_spdm_reset(void *obj, void *data, QGuestAllocator *a)
{
    SpdmResponder r = {};
    uint32_t discovery[3] = { 0x00000001, 3, 0 };
    uint32_t get_version[3] = { 0x00010001, 3, 0x00008410 };
    uint32_t rsp[8];
    QTestState *qts;

    qts = spdm_start(&r);

    for (int i = 0; i < 3; i++) {
        qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_WRITE_MBOX), get_version[i]);
    }
    qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_CTRL), DOE_GO);
    g_assert_cmphex(qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_STATUS)), ==,
                    DOE_READY);
    /* Half a request, too */
    qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_WRITE_MBOX), discovery[0]);

    qtest_qmp_assert_success(qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(qts, "RESET");
    spdm_enable_ecam(qts);
    g_assert_cmphex(qtest_readl(qts, spdm_cfg(SPDM_DOE + DOE_STATUS)), ==, 0);
    g_assert_cmpuint(doe_exchange(qts, discovery, 3, rsp, 8), ==, 3);
    g_assert_cmphex(rsp[0], ==, 0x00000001);
    g_assert_cmphex(rsp[2], ==, 0x01000001);

    spdm_stop(&r, qts);
}

/*
 * A host that writes more dwords than the write mailbox holds (2^18, the
 * largest data object): the excess is dropped, the mailbox stays usable.
 */
static void test_spdm_mailbox_overflow(void *obj, void *data,
                                       QGuestAllocator *a)
{
    SpdmResponder r = {};
    uint32_t discovery[3] = { 0x00000001, 3, 0 };
    uint32_t rsp[8];
    QTestState *qts;

    qts = spdm_start(&r);

    for (uint32_t i = 0; i < (1u << 18) + 64; i++) {
        qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_WRITE_MBOX), 0xdeadbeef);
    }
    /* Abort empties the mailboxes; then the DOE works as before */
    qtest_writel(qts, spdm_cfg(SPDM_DOE + DOE_CTRL), 1);
    g_assert_cmpuint(doe_exchange(qts, discovery, 3, rsp, 8), ==, 3);
    g_assert_cmphex(rsp[2], ==, 0x01000001);

    spdm_stop(&r, qts);
}

/* Nothing listens on spdm_port: realize fails and says where it looked */
static void test_spdm_no_responder(void *obj, void *data, QGuestAllocator *a)
{
    g_autofree char *args = NULL;
    g_autofree char *expect = NULL;
    uint16_t port;

    spdm_bind(&port, false);
    args = g_strdup_printf("-M q35 -device nvme,serial=a,spdm_port=%u", port);
    expect = g_strdup_printf("no SPDM responder at localhost:%u", port);
    qnvme_expect_start_failure(args, expect);
}

static void register_ocp_tests(void)
{
    QOSGraphTestOptions ocp = { .before = ocp_setup };
    QOSGraphTestOptions off = { .before = qnvme_setup_one_namespace };

    qos_add_test("smart-extended", "nvme-ocp", test_smart_extended, &ocp);
    qos_add_test("latency-monitor", "nvme-ocp", test_latency_monitor, &ocp);
    qos_add_test("device-capabilities", "nvme-ocp", test_device_capabilities,
                 &ocp);
    qos_add_test("recovery-unsupported", "nvme-ocp",
                 test_recovery_unsupported, &ocp);
    qos_add_test("supported-logs", "nvme-ocp", test_supported_logs, &ocp);
    qos_add_test("partial-reads", "nvme-ocp", test_partial_reads, &ocp);
    qos_add_test("ocp-off", "nvme-ocp", test_ocp_off, &off);
    qos_add_test("spdm-get-version", "nvme-ocp", test_spdm_get_version, &off);
    qos_add_test("spdm-no-responder", "nvme-ocp", test_spdm_no_responder,
                 &off);
    qos_add_test("spdm-reset", "nvme-ocp", test_spdm_reset, &off);
    qos_add_test("spdm-mailbox-overflow", "nvme-ocp",
                 test_spdm_mailbox_overflow, &off);
}

libqos_init(register_ocp_tests);
