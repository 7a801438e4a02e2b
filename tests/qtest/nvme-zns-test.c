/*
 * qtests for the Zoned Namespace Command Set: Identify, the write pointer
 * rules, every zone state transition and its errors, the active and open
 * limits, reports, Zone Append, media faults injected with QMP, and the
 * zone state written to zoned.state only once the data is flushed.
 *
 * Namespace 1: 16 MiB in 16 zones of 1 MiB (2048 blocks), 768 KiB
 * (1536 blocks) writable, at most 4 active and 2 open zones, 64-byte
 * descriptor extensions, Zone Append up to 16 KiB (zoned.zasl=2).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "qobject/qdict.h"
#include "qemu/crc32c.h"

#define ZSZE            2048
#define ZCAP            1536
#define NR_ZONES        16
#define DNR             NVME_SC_DNR
#define INVALID         (NVME_SC_INVALID_FIELD | DNR)
#define BOUNDARY        (NVME_SC_ZONE_BOUNDARY_ERROR | DNR)
#define FULL            (NVME_SC_ZONE_IS_FULL | DNR)
#define READ_ONLY       (NVME_SC_ZONE_IS_READ_ONLY | DNR)
#define OFFLINE         (NVME_SC_ZONE_IS_OFFLINE | DNR)
#define BAD_WRITE       (NVME_SC_ZONE_INVALID_WRITE | DNR)
#define TOO_ACTIVE      (NVME_SC_TOO_MANY_ACTIVE_ZONES | DNR)
#define TOO_OPEN        (NVME_SC_TOO_MANY_OPEN_ZONES | DNR)
#define TRANSITION      (NVME_SC_INVALID_ZONE_TRANSITION | DNR)

typedef QNvmeCtx Ctx;

static char *state_file;

static void *zns_setup(GString *cmd_line, void *arg)
{
    char *img = qnvme_tmp_image(16 * 1024 * 1024);
    const char *dev;

    state_file = qnvme_tmp_image(64 * 1024);
    dev = strstr(cmd_line->str, "-device nvme,");
    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "zoned.zasl=2,");
    g_string_append_printf(cmd_line,
        " -drive id=z0,if=none,file=%s,format=raw"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.max_active=4,"
        "zoned.max_open=2,zoned.descr_ext_size=64,zoned.state=zs",
        img, state_file);
    return arg;
}

static uint64_t zslba(int zone)
{
    return (uint64_t)zone * ZSZE;
}

static uint16_t io(Ctx *c, uint8_t opcode, uint64_t slba, uint32_t nlb,
                   NvmeCqe *cqe)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32((nlb - 1) & 0xffff),
    };

    return qnvme_cmd(c->n, 1, &cmd, cqe);
}

static uint16_t wr(Ctx *c, uint64_t slba, uint32_t nlb)
{
    return io(c, NVME_CMD_WRITE, slba, nlb, NULL);
}

/* Write Zeroes fills a zone without a data buffer */
static uint16_t fill(Ctx *c, uint64_t slba, uint32_t nlb)
{
    return io(c, NVME_CMD_WRITE_ZEROES, slba, nlb, NULL);
}

static uint16_t zsend(Ctx *c, uint64_t slba, uint8_t zsa, bool all)
{
    NvmeCmd cmd = {
        .opcode = NVME_CMD_ZONE_MGMT_SEND,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw13 = cpu_to_le32(zsa | (all ? NVME_ZONE_SEND_SELECT_ALL : 0)),
    };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static uint16_t zrecv_ns(Ctx *c, uint32_t nsid, uint64_t slba,
                        uint32_t cdw13, uint32_t len, void *out)
{
    NvmeCmd cmd = {
        .opcode = NVME_CMD_ZONE_MGMT_RECV,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(c->buf),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(len / 4 - 1),
        .cdw13 = cpu_to_le32(cdw13),
    };
    uint16_t status = qnvme_cmd(c->n, 1, &cmd, NULL);

    qtest_memread(c->qts, c->buf, out, len);
    return status;
}

static uint16_t zrecv(Ctx *c, uint64_t slba, uint32_t cdw13, uint32_t len,
                      void *out)
{
    return zrecv_ns(c, 1, slba, cdw13, len, out);
}

/* The descriptor of one zone of namespace nsid */
static NvmeZoneDescr zone_of_ns(Ctx *c, uint32_t nsid, int z)
{
    struct QEMU_PACKED {
        NvmeZoneReportHeader hdr;
        NvmeZoneDescr d;
    } r;

    g_assert_cmphex(zrecv_ns(c, nsid, zslba(z), NVME_ZONE_REPORT_PARTIAL,
                             sizeof(r), &r), ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, 1);
    g_assert_cmpuint(le64_to_cpu(r.d.zslba), ==, zslba(z));
    return r.d;
}

static NvmeZoneDescr zone(Ctx *c, int z)
{
    return zone_of_ns(c, 1, z);
}

static uint8_t state(Ctx *c, int z)
{
    return zone(c, z).zs >> 4;
}

static uint64_t wp(Ctx *c, int z)
{
    return le64_to_cpu(zone(c, z).wp);
}

static void reset_all(Ctx *c)
{
    g_assert_cmphex(zsend(c, 0, NVME_ZONE_ACTION_RESET, true), ==, 0);
}

static void test_zns_identify(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNsZoned *idz = g_new0(NvmeIdNsZoned, 1);
    g_autofree NvmeIdCtrlZoned *idc = g_new0(NvmeIdCtrlZoned, 1);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint8_t desc[NVME_IDENTIFY_DATA_SIZE];
    uint32_t list[1024];
    bool csi_found = false;

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_ZONED,
                                   idz), ==, 0);
    g_assert_cmpuint(le32_to_cpu(idz->mar), ==, 3);
    g_assert_cmpuint(le32_to_cpu(idz->mor), ==, 1);
    g_assert_cmpuint(le16_to_cpu(idz->zoc), ==, 0);
    g_assert_cmpuint(le64_to_cpu(idz->lbafe[0].zsze), ==, ZSZE);
    g_assert_cmpuint(idz->lbafe[0].zdes, ==, 1);
    g_assert_cmpuint(le64_to_cpu(idz->lbafe[1].zsze), ==, ZSZE / 8);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_CTRL, 0,
                                   NVME_CSI_ZONED, idc), ==, 0);
    g_assert_cmpuint(idc->zasl, ==, 2);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, NR_ZONES * ZSZE);

    /* The CSI descriptor says zoned; CNS 07h lists it under CSI 02h */
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_NS_DESCR_LIST, 1, 0,
                                   desc), ==, 0);
    for (int off = 0; off < 4000 && desc[off + 1]; off += 4 + desc[off + 1]) {
        if (desc[off] == NVME_NIDT_CSI) {
            g_assert_cmpuint(desc[off + 4], ==, NVME_CSI_ZONED);
            csi_found = true;
        }
    }
    g_assert_true(csi_found);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS_ACTIVE_LIST, 0,
                                   NVME_CSI_ZONED, list), ==, 0);
    g_assert_cmpuint(le32_to_cpu(list[0]), ==, 1);
    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS_ACTIVE_LIST, 0,
                                   NVME_CSI_NVM, list), ==, 0);
    g_assert_cmpuint(list[0], ==, 0);

    /* Effects for CSI 02h: the zone commands, not Copy */
    {
        NvmeCmd cmd = {
            .opcode = NVME_ADM_CMD_GET_LOG_PAGE,
            .dptr.prp1 = cpu_to_le64(c.buf),
            .cdw10 = cpu_to_le32(NVME_LOG_CMD_EFFECTS | (1023u << 16)),
            .cdw14 = cpu_to_le32((uint32_t)NVME_CSI_ZONED << 24),
        };

        g_assert_cmphex(qnvme_cmd(c.n, 0, &cmd, NULL), ==, 0);
        qtest_memread(c.qts, c.buf, eff, sizeof(*eff));
    }
    g_assert_true(le32_to_cpu(eff->iocs[NVME_CMD_ZONE_APPEND]) & 1);
    g_assert_true(le32_to_cpu(eff->iocs[NVME_CMD_ZONE_MGMT_SEND]) & 1);
    g_assert_true(le32_to_cpu(eff->iocs[NVME_CMD_ZONE_MGMT_RECV]) & 1);
    g_assert_true(le32_to_cpu(eff->iocs[NVME_CMD_WRITE]) & 1);
    g_assert_false(le32_to_cpu(eff->iocs[NVME_CMD_COPY]) & 1);
    g_assert_cmphex(io(&c, NVME_CMD_COPY, 0, 1, NULL), ==,
                    NVME_SC_INVALID_OPCODE | DNR);
}

static void test_zns_writes(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCqe cqe;
    uint8_t pattern[512], back[512];

    reset_all(&c);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmphex(wr(&c, zslba(0), 8), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(wp(&c, 0), ==, 8);
    g_assert_cmpuint(le64_to_cpu(zone(&c, 0).zcap), ==, ZCAP);
    g_assert_cmpuint(zone(&c, 0).zt, ==, NVME_ZONE_TYPE_SEQ_WRITE);
    /* Not at the write pointer */
    g_assert_cmphex(wr(&c, zslba(0), 1), ==, BAD_WRITE);
    g_assert_cmphex(wr(&c, 100, 1), ==, BAD_WRITE);
    /* Beyond the capacity */
    g_assert_cmphex(fill(&c, 8, ZCAP), ==, BOUNDARY);
    /* Up to the capacity: full */
    g_assert_cmphex(fill(&c, 8, ZCAP - 8), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmphex(wr(&c, zslba(0) + ZCAP, 1), ==, FULL);
    /* Reads: within a zone fine, across a boundary not (no cross_read) */
    g_assert_cmphex(io(&c, NVME_CMD_READ, ZCAP + 100, 8, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_READ, ZSZE - 4, 8, NULL), ==, BOUNDARY);

    /* Zone Append: DW0-1 say where the data went */
    for (int i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i ^ 0x5a;
    }
    qtest_memwrite(c.qts, c.buf, pattern, sizeof(pattern));
    g_assert_cmphex(wr(&c, zslba(1), 3), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(1), 1, &cqe), ==, 0);
    g_assert_cmpuint(le32_to_cpu(cqe.result), ==, zslba(1) + 3);
    g_assert_cmpuint(le32_to_cpu(cqe.dw1), ==, 0);
    g_assert_cmpuint(wp(&c, 1), ==, zslba(1) + 4);
    qtest_memset(c.qts, c.buf, 0, sizeof(back));
    g_assert_cmphex(io(&c, NVME_CMD_READ, zslba(1) + 3, 1, NULL), ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(1) + 1, 1, NULL), ==,
                    INVALID);
    /* 16 KiB is ZASL: 33 blocks are too many, 32 fit */
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(1), 33, NULL), ==,
                    INVALID);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(0), 1, NULL), ==,
                    FULL);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, NR_ZONES * ZSZE, 1, NULL),
                    ==, NVME_SC_LBA_OUT_OF_RANGE | DNR);
    reset_all(&c);
    /* A reset zone reads zeroes again */
    g_assert_cmphex(io(&c, NVME_CMD_READ, zslba(1) + 3, 1, NULL), ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpuint(back[0] | back[1] | back[511], ==, 0);
}

static void test_zns_limits(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    /* Two implicitly open; a third write closes the oldest of them */
    g_assert_cmphex(wr(&c, zslba(0), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(1), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(2), 1), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    /* Writing the closed zone opens it again (closing zone 1) */
    g_assert_cmphex(wr(&c, zslba(0) + 1, 1), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_CLOSED);
    /* Explicit opens take the open resources for good */
    g_assert_cmphex(zsend(&c, zslba(3), NVME_ZONE_ACTION_OPEN, false), ==, 0);
    g_assert_cmpuint(state(&c, 3), ==, NVME_ZONE_STATE_EXPLICITLY_OPEN);
    /* Four active (0, 1, 2, 3): a fifth zone may not become active */
    g_assert_cmphex(wr(&c, zslba(4), 1), ==, TOO_ACTIVE);
    g_assert_cmphex(zsend(&c, zslba(4), NVME_ZONE_ACTION_OPEN, false), ==,
                    TOO_ACTIVE);
    g_assert_cmphex(zsend(&c, zslba(4), NVME_ZONE_ACTION_FINISH, false), ==,
                    TOO_ACTIVE);
    g_assert_cmphex(zsend(&c, zslba(4), NVME_ZONE_ACTION_SET_ZDE, false), ==,
                    TOO_ACTIVE);
    /* Two explicitly open: no implicitly open zone left to close */
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_OPEN, false), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_OPEN, false), ==,
                    TOO_OPEN);
    g_assert_cmphex(wr(&c, zslba(1) + 1, 1), ==, TOO_OPEN);
    /* Open all the closed zones (0 and 1): more than the limit */
    g_assert_cmphex(zsend(&c, 0, NVME_ZONE_ACTION_OPEN, true), ==, TOO_OPEN);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_CLOSED);
    /* Finishing frees an active resource */
    g_assert_cmphex(zsend(&c, zslba(3), NVME_ZONE_ACTION_FINISH, false), ==, 0);
    g_assert_cmphex(wr(&c, zslba(4), 1), ==, 0);
    reset_all(&c);
    g_assert_cmphex(zsend(&c, 0, NVME_ZONE_ACTION_OPEN, true), ==, 0);
}

static void test_zns_transitions(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint8_t ext[64];
    struct QEMU_PACKED {
        NvmeZoneReportHeader hdr;
        NvmeZoneDescr d;
        uint8_t ext[64];
    } r;

    reset_all(&c);
    /* Close: only from an open state; an unwritten zone becomes empty */
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_CLOSE, false), ==,
                    TRANSITION);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_OPEN, false), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_OPEN, false), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmphex(wr(&c, zslba(0), 2), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    /* Finish: closed and empty zones become full; full stays */
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_FINISH, false), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_FINISH, false), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_FINISH, false), ==, 0);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_FULL);
    /* A full zone cannot be opened or closed, only reset */
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_OPEN, false), ==,
                    TRANSITION);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_CLOSE, false), ==,
                    TRANSITION);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_RESET, false), ==, 0);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmpuint(wp(&c, 1), ==, zslba(1));
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_RESET, false), ==, 0);
    /* Offline only from read-only */
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_OFFLINE, false), ==,
                    TRANSITION);

    /* Set Zone Descriptor Extension: empty to closed, shown by reports */
    memset(ext, 0xa5, sizeof(ext));
    qtest_memwrite(c.qts, c.buf, ext, sizeof(ext));
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_SET_ZDE, false), ==,
                    0);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmphex(zone(&c, 2).za, ==, NVME_ZA_ZD_EXT_VALID);
    g_assert_cmphex(zrecv(&c, zslba(2), NVME_ZONE_REPORT_EXTENDED |
                         NVME_ZONE_REPORT_PARTIAL, sizeof(r), &r), ==, 0);
    g_assert_cmpmem(r.ext, sizeof(r.ext), ext, sizeof(ext));
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_SET_ZDE, false), ==,
                    TRANSITION);
    g_assert_cmphex(zsend(&c, 0, NVME_ZONE_ACTION_SET_ZDE, true), ==, INVALID);
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_RESET, false), ==, 0);
    g_assert_cmphex(zone(&c, 2).za, ==, 0);

    /* Select All */
    g_assert_cmphex(wr(&c, zslba(3), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(4), 1), ==, 0);
    g_assert_cmphex(zsend(&c, 0, NVME_ZONE_ACTION_CLOSE, true), ==, 0);
    g_assert_cmpuint(state(&c, 3), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmpuint(state(&c, 4), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmphex(zsend(&c, 0, NVME_ZONE_ACTION_FINISH, true), ==, 0);
    g_assert_cmpuint(state(&c, 3), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(state(&c, 5), ==, NVME_ZONE_STATE_EMPTY);
    reset_all(&c);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmpuint(state(&c, 3), ==, NVME_ZONE_STATE_EMPTY);

    /* Field checks */
    g_assert_cmphex(zsend(&c, 1, NVME_ZONE_ACTION_OPEN, false), ==, INVALID);
    g_assert_cmphex(zsend(&c, 0, 0x6, false), ==, INVALID);
    g_assert_cmphex(zsend(&c, NR_ZONES * ZSZE, NVME_ZONE_ACTION_OPEN, false),
                    ==, NVME_SC_LBA_OUT_OF_RANGE | DNR);
}

static void test_zns_report(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    struct QEMU_PACKED {
        NvmeZoneReportHeader hdr;
        NvmeZoneDescr d[4];
    } r;

    reset_all(&c);
    g_assert_cmphex(wr(&c, zslba(5), 1), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(7), NVME_ZONE_ACTION_FINISH, false), ==, 0);
    /* All zones from zone 4: 12 match, 4 listed */
    g_assert_cmphex(zrecv(&c, zslba(4) + 17, 0, sizeof(r), &r), ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, NR_ZONES - 4);
    g_assert_cmpuint(le64_to_cpu(r.d[0].zslba), ==, zslba(4));
    g_assert_cmpuint(r.d[1].zs >> 4, ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(le64_to_cpu(r.d[1].wp), ==, zslba(5) + 1);
    g_assert_cmphex(zrecv(&c, 0, NVME_ZONE_REPORT_PARTIAL, sizeof(r), &r), ==,
                    0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, 4);
    /* Filters */
    g_assert_cmphex(zrecv(&c, 0, NVME_ZONE_REPORT_FULL << 8, sizeof(r), &r),
                    ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, 1);
    g_assert_cmpuint(le64_to_cpu(r.d[0].zslba), ==, zslba(7));
    g_assert_cmphex(zrecv(&c, 0, NVME_ZONE_REPORT_IMPLICITLY_OPEN << 8,
                          sizeof(r), &r), ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, 1);
    g_assert_cmphex(zrecv(&c, 0, NVME_ZONE_REPORT_EMPTY << 8, sizeof(r), &r),
                    ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, NR_ZONES - 2);
    g_assert_cmphex(zrecv(&c, 0, NVME_ZONE_REPORT_OFFLINE << 8, sizeof(r),
                         &r), ==, 0);
    g_assert_cmpuint(le64_to_cpu(r.hdr.nr_zones), ==, 0);
    /* Errors */
    g_assert_cmphex(zrecv(&c, 0, 8 << 8, sizeof(r), &r), ==, INVALID);
    g_assert_cmphex(zrecv(&c, 0, 2, sizeof(r), &r), ==, INVALID);
    g_assert_cmphex(zrecv(&c, NR_ZONES * ZSZE, 0, sizeof(r), &r), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | DNR);
    reset_all(&c);
}

static void inject(Ctx *c, int z, const char *fault)
{
    qobject_unref(qtest_qmp_assert_success_ref(c->qts,
        "{'execute': 'nvme-zone-inject', 'arguments': {'id': 'zns',"
        " 'slba': %" PRIu64 ", 'fault': %s}}", zslba(z) + 5, fault));
}

/* Media faults: Zone Is Read Only, Zone Is Offline, the event and log */
static void test_zns_faults(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeChangedZoneList *log = g_new0(NvmeChangedZoneList, 1);
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    NvmeCmd aec = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .cdw10 = cpu_to_le32(NVME_FEAT_ASYNCHRONOUS_EVENT_CONF),
        .cdw11 = cpu_to_le32(NVME_AEC_ZONE_DESCR_CHANGED),
    };
    NvmeCqe cqe;
    QDict *rsp;

    reset_all(&c);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &aec, NULL), ==, 0);
    qnvme_submit(c.n, 0, &aer);
    g_assert_cmphex(wr(&c, zslba(6), 4), ==, 0);
    inject(&c, 6, "read-only");
    g_assert_true(qnvme_poll(c.n, 0, &cqe));
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_NOTICE,
                                    NVME_AER_NOTICE_ZONE_DESCR_CHANGED,
                                    NVME_LOG_CHANGED_ZONE_LIST));
    g_assert_cmpuint(state(&c, 6), ==, NVME_ZONE_STATE_READ_ONLY);
    g_assert_cmphex(wr(&c, zslba(6) + 4, 1), ==, READ_ONLY);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(6), 1, NULL), ==,
                    READ_ONLY);
    g_assert_cmphex(zsend(&c, zslba(6), NVME_ZONE_ACTION_RESET, false), ==,
                    READ_ONLY);
    g_assert_cmphex(zsend(&c, zslba(6), NVME_ZONE_ACTION_OPEN, false), ==,
                    READ_ONLY);
    g_assert_cmphex(io(&c, NVME_CMD_READ, zslba(6), 4, NULL), ==, 0);
    /* Reset All skips it; Offline takes it offline */
    reset_all(&c);
    g_assert_cmpuint(state(&c, 6), ==, NVME_ZONE_STATE_READ_ONLY);
    g_assert_cmphex(zsend(&c, zslba(6), NVME_ZONE_ACTION_OFFLINE, false), ==,
                    0);
    g_assert_cmpuint(state(&c, 6), ==, NVME_ZONE_STATE_OFFLINE);
    g_assert_cmphex(io(&c, NVME_CMD_READ, zslba(6), 4, NULL), ==, OFFLINE);
    g_assert_cmphex(wr(&c, zslba(6), 1), ==, OFFLINE);
    g_assert_cmphex(zsend(&c, zslba(6), NVME_ZONE_ACTION_FINISH, false), ==,
                    OFFLINE);
    inject(&c, 9, "offline");
    g_assert_cmpuint(state(&c, 9), ==, NVME_ZONE_STATE_OFFLINE);

    /* The Changed Zone List names both, then is empty */
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_ZONE_LIST, 1, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmpuint(le16_to_cpu(log->nrzid), ==, 2);
    g_assert_cmpuint(le64_to_cpu(log->zid[0]), ==, zslba(6));
    g_assert_cmpuint(le64_to_cpu(log->zid[1]), ==, zslba(9));
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_ZONE_LIST, 1, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmpuint(log->nrzid, ==, 0);

    /* Reading it (RAE 0) unmasked Notice events: the next change reports */
    qnvme_submit(c.n, 0, &aer);
    inject(&c, 11, "read-only");
    g_assert_true(qnvme_poll(c.n, 0, &cqe));
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_NOTICE,
                                    NVME_AER_NOTICE_ZONE_DESCR_CHANGED,
                                    NVME_LOG_CHANGED_ZONE_LIST));
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_ZONE_LIST, 1, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmpuint(le16_to_cpu(log->nrzid), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log->zid[0]), ==, zslba(11));
    g_free(log);

    rsp = qtest_qmp(c.qts, "{'execute': 'nvme-zone-inject', 'arguments':"
                    " {'id': 'zns', 'slba': 99999999, 'fault': 'offline'}}");
    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
}

/*
 * zoned.state: a header (version 2 at offset 8, the offset of copy A of
 * the records at 40), copies A and B of the records 4 KiB apart (for 16
 * zones), each a 64-byte header (generation at 8, CRC32C at 16) and a
 * 16-byte record per zone; the copy of generation g is copy g % 2.
 */
#define ZS_COPY         4096
#define ZS_COPY_LEN     (64 + 16 * NR_ZONES)

static bool zs_copy_valid(const char *copy, int slot)
{
    g_autofree char *c = g_memdup2(copy, ZS_COPY_LEN);
    uint32_t crc = ldl_le_p(c + 16);

    stl_le_p(c + 16, 0);
    return !memcmp(c, "QNVMEZRC", 8) && ldq_le_p(c + 8) % 2 == slot &&
           ldl_le_p(c + 20) == NR_ZONES &&
           crc == crc32c(0xffffffff, (uint8_t *)c, ZS_COPY_LEN);
}

/* Where copy A of the records is in the zoned.state image file */
static uint64_t zs_records(const char *file, gsize len)
{
    g_assert_cmpuint(len, >=, 4096);
    g_assert_cmpmem(file, 8, "QNVMEZNS", 8);
    g_assert_cmpuint(ldl_le_p(file + 8), ==, 2);
    g_assert_cmpuint(ldq_le_p(file + 40) + 2 * ZS_COPY, <=, len);
    return ldq_le_p(file + 40);
}

/* The copy a restart would use: 0 (A) or 1 (B) */
static int zs_newest(const char *file, gsize len)
{
    const char *copy = file + zs_records(file, len);
    int newest = -1;

    for (int i = 0; i < 2; i++) {
        if (zs_copy_valid(copy + i * ZS_COPY, i) &&
            (newest < 0 || ldq_le_p(copy + i * ZS_COPY + 8) >
                           ldq_le_p(copy + newest * ZS_COPY + 8))) {
            newest = i;
        }
    }
    g_assert_cmpint(newest, >=, 0);
    return newest;
}

/* The record of zone z that a restart would find */
static const uint8_t *persisted_record(const char *file, gsize len, int z)
{
    return (const uint8_t *)file + zs_records(file, len) +
           zs_newest(file, len) * ZS_COPY + 64 + 16 * z;
}

/* The record of zone z in zoned.state: its write pointer in bytes */
static uint64_t persisted_wp(int z)
{
    g_autofree char *file = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(state_file, &file, &len, NULL));
    return ldq_le_p(persisted_record(file, len, z) + 8);
}

/* The zone state the record of zone z holds */
static uint8_t persisted_state(int z)
{
    g_autofree char *file = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(state_file, &file, &len, NULL));
    return persisted_record(file, len, z)[0];
}

/*
 * The pointer reaches zoned.state with Flush, FUA or a controller
 * shutdown, never before
 */
static void test_zns_persistence(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    g_assert_cmpuint(persisted_wp(8), ==, zslba(8) * 512);
    g_assert_cmphex(wr(&c, zslba(8), 8), ==, 0);
    g_assert_cmpuint(persisted_wp(8), ==, zslba(8) * 512);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmpuint(persisted_wp(8), ==, (zslba(8) + 8) * 512);
    {
        NvmeCmd fua = {
            .opcode = NVME_CMD_WRITE,
            .nsid = cpu_to_le32(1),
            .dptr.prp1 = cpu_to_le64(c.buf),
            .cdw10 = cpu_to_le32(zslba(8) + 8),
            .cdw12 = cpu_to_le32(NVME_RW_FUA | 3),
        };

        g_assert_cmphex(qnvme_cmd(c.n, 1, &fua, NULL), ==, 0);
    }
    g_assert_cmpuint(persisted_wp(8), ==, (zslba(8) + 12) * 512);
    /* Zone management is persisted at once */
    g_assert_cmphex(zsend(&c, zslba(10), NVME_ZONE_ACTION_FINISH, false), ==,
                    0);
    g_assert_cmpuint(persisted_wp(10), ==, (zslba(10) + ZCAP) * 512);
    reset_all(&c);
    g_assert_cmpuint(persisted_wp(8), ==, zslba(8) * 512);

    /* A controller shutdown flushes the data, and the records catch up */
    g_assert_cmphex(wr(&c, zslba(8), 8), ==, 0);
    g_assert_cmpuint(persisted_wp(8), ==, zslba(8) * 512);
    qnvme_writel(c.n, NVME_REG_CC, qnvme_readl(c.n, NVME_REG_CC) |
                 (NVME_CC_SHN_NORMAL << 14));
    g_assert_cmphex(NVME_CSTS_SHST(qnvme_readl(c.n, NVME_REG_CSTS)), ==,
                    NVME_SHST_COMPLETE);
    g_assert_cmpuint(persisted_wp(8), ==, (zslba(8) + 8) * 512);
}

/* Writes of namespace 1 take 300 ms (null-co), zoned.state is a file */
static void *zns_slow_setup(GString *cmd_line, void *arg)
{
    state_file = qnvme_tmp_image(64 * 1024);
    g_string_append_printf(cmd_line,
        " -blockdev null-co,node-name=z0,size=16777216,latency-ns=300000000"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.state=zs",
        state_file);
    return arg;
}

/*
 * A save that starts while a write is in flight records the zone where
 * the completed writes end: a zone full only in memory is not full in
 * zoned.state until the write that fills it was flushed.
 */
static void test_zns_inflight_persist(void *obj, void *data,
                                      QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCmd fill_zone = {
        .opcode = NVME_CMD_WRITE_ZEROES,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(zslba(2)),
        .cdw12 = cpu_to_le32(ZCAP - 1),
    };
    NvmeCmd open3 = {
        .opcode = NVME_CMD_ZONE_MGMT_SEND,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(zslba(3)),
        .cdw13 = cpu_to_le32(NVME_ZONE_ACTION_OPEN),
    };
    NvmeCqe cqe;

    qnvme_submit(c.n, 1, &fill_zone);
    qnvme_submit(c.n, 1, &open3);
    for (int i = 0; i < 2; i++) {
        g_assert_true(qnvme_poll(c.n, 1, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    }
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(persisted_state(3), ==, NVME_ZONE_STATE_EXPLICITLY_OPEN);
    g_assert_cmpuint(persisted_state(2), !=, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(persisted_wp(2), ==, zslba(2) * 512);
    /* Once flushed, it is */
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmpuint(persisted_state(2), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(persisted_wp(2), ==, (zslba(2) + ZCAP) * 512);
}

/* Writes of LBA 4 * ZSZE + 8 (zone 4) fail with EIO (blkdebug) */
static void *zns_failing_setup(GString *cmd_line, void *arg)
{
    char *img = qnvme_tmp_image(16 * 1024 * 1024);

    state_file = qnvme_tmp_image(64 * 1024);
    g_string_append_printf(cmd_line,
        " -blockdev driver=blkdebug,node-name=z0,image.driver=file,"
        "image.filename=%s,inject-error.0.event=none,"
        "inject-error.0.iotype=write,inject-error.0.sector=%d,"
        "inject-error.0.errno=5"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.state=zs",
        img, 4 * ZSZE + 8, state_file);
    return arg;
}

/* A failed write stops the durable pointer where it started */
static void test_zns_failed_write(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    g_assert_cmphex(wr(&c, zslba(4), 8), ==, 0);
    g_assert_cmphex(wr(&c, zslba(4) + 8, 8), ==, NVME_SC_WRITE_FAULT);
    g_assert_cmphex(wr(&c, zslba(4) + 16, 8), ==, 0);
    g_assert_cmpuint(wp(&c, 4), ==, zslba(4) + 24);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmpuint(persisted_wp(4), ==, (zslba(4) + 8) * 512);
    /* Until the zone is finished: then all of it counts as written */
    g_assert_cmphex(zsend(&c, zslba(4), NVME_ZONE_ACTION_FINISH, false), ==,
                    0);
    g_assert_cmpuint(persisted_state(4), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(persisted_wp(4), ==, (zslba(4) + ZCAP) * 512);
}

/* Zone Append and Zone Management Send change the namespace: refused */
static void test_zns_write_protect(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCmd protect = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(NVME_FEAT_NS_WRITE_PROTECT_CONFIG),
        .cdw11 = cpu_to_le32(1),     /* write protect */
    };

    reset_all(&c);
    g_assert_cmphex(wr(&c, zslba(1), 4), ==, 0);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &protect, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(1), 1, NULL), ==,
                    NVME_SC_NS_WRITE_PROTECTED | DNR);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_RESET, false), ==,
                    NVME_SC_NS_WRITE_PROTECTED | DNR);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_FINISH, false), ==,
                    NVME_SC_NS_WRITE_PROTECTED | DNR);
    g_assert_cmpuint(wp(&c, 1), ==, zslba(1) + 4);
    g_assert_cmphex(io(&c, NVME_CMD_READ, zslba(1), 4, NULL), ==, 0);
    protect.cdw11 = cpu_to_le32(0);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &protect, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(1), 1, NULL), ==, 0);
    g_assert_cmpuint(wp(&c, 1), ==, zslba(1) + 5);
}

/* Compare and Verify read as Read does: zone boundaries, offline zones */
static void test_zns_read_checks(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    qtest_memset(c.qts, c.buf, 0, QNVME_PAGE_SIZE);
    g_assert_cmphex(wr(&c, zslba(2), 8), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, zslba(2), 8, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, zslba(2), 8, NULL), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, ZSZE - 4, 8, NULL), ==,
                    BOUNDARY);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, ZSZE - 4, 8, NULL), ==,
                    BOUNDARY);
    inject(&c, 2, "offline");
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_OFFLINE);
    g_assert_cmphex(io(&c, NVME_CMD_COMPARE, zslba(2), 8, NULL), ==,
                    OFFLINE);
    g_assert_cmphex(io(&c, NVME_CMD_VERIFY, zslba(2), 8, NULL), ==, OFFLINE);
}

/*
 * zoned.state as a QEMU killed with five zones active leaves it: zones 0-3
 * closed, zone 4 (full only in memory) open and fuller, max_active 4.
 */
static void *zns_excess_setup(GString *cmd_line, void *arg)
{
    char *img = qnvme_tmp_image(16 * 1024 * 1024);
    g_autofree char *state = g_malloc0(64 * 1024);
    struct QEMU_PACKED {
        char magic[8];
        uint32_t version, rsvd;
        uint64_t zone_size, zone_cap;
        uint32_t nr_zones, ext_size;
    } hdr = {
        .magic = "QNVMEZNS", .version = cpu_to_le32(1),
        .zone_size = cpu_to_le64(1024 * 1024),
        .zone_cap = cpu_to_le64(768 * 1024),
        .nr_zones = cpu_to_le32(NR_ZONES), .ext_size = cpu_to_le32(64),
    };

    state_file = qnvme_tmp_image(64 * 1024);
    memcpy(state, &hdr, sizeof(hdr));
    for (int z = 0; z < NR_ZONES; z++) {
        uint8_t *rec = (uint8_t *)state + 4096 + 16 * z;

        rec[0] = z < 4 ? NVME_ZONE_STATE_CLOSED :
                 z == 4 ? NVME_ZONE_STATE_IMPLICITLY_OPEN :
                 NVME_ZONE_STATE_EMPTY;
        stq_le_p(rec + 8, (zslba(z) + (z < 4 ? 8 : z == 4 ? 16 : 0)) * 512);
    }
    g_assert_true(g_file_set_contents(state_file, state, 64 * 1024, NULL));
    g_string_append_printf(cmd_line,
        " -drive id=z0,if=none,file=%s,format=raw"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.max_active=4,"
        "zoned.descr_ext_size=64,zoned.state=zs",
        img, state_file);
    return arg;
}

/* Restored zones over zoned.max_active: the controller finishes one */
static void test_zns_excess_active(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeChangedZoneList *log = g_new0(NvmeChangedZoneList, 1);
    g_autofree char *file = NULL;
    gsize len;

    for (int z = 0; z < 4; z++) {
        g_assert_cmpuint(state(&c, z), ==, NVME_ZONE_STATE_CLOSED);
        g_assert_cmpuint(wp(&c, z), ==, zslba(z) + 8);
    }
    g_assert_cmpuint(state(&c, 4), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmphex(zone(&c, 4).za & NVME_ZA_FINISHED_BY_CTRL, ==,
                    NVME_ZA_FINISHED_BY_CTRL);
    g_assert_cmphex(qnvme_get_log(c.n, NVME_LOG_CHANGED_ZONE_LIST, 1, log,
                                  sizeof(*log)), ==, 0);
    g_assert_cmpuint(le16_to_cpu(log->nrzid), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log->zid[0]), ==, zslba(4));
    /* A fifth zone cannot become active */
    g_assert_cmphex(wr(&c, zslba(5), 1), ==, TOO_ACTIVE);
    /*
     * The version 1 file is version 2 now: the extensions stay at 8192,
     * the copies of the records follow them
     */
    g_assert_true(g_file_get_contents(state_file, &file, &len, NULL));
    g_assert_cmpuint(zs_records(file, len), ==, 12288);
    g_assert_cmpuint(ldq_le_p(file + 48), ==, 8192);
    g_assert_cmpuint(persisted_state(0), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmpuint(persisted_wp(0), ==, (zslba(0) + 8) * 512);
}

/* zoned.zasl beyond mdts is refused when the controller is created */
static void test_zns_zasl_param(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    QDict *rsp = qtest_qmp(c.qts, "{'execute': 'device_add', 'arguments': "
                           "{'driver': 'nvme', 'id': 'bad', 'serial': 'b', "
                           "'mdts': 3, 'zoned.zasl': 4}}");

    g_assert_true(qdict_haskey(rsp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                          "desc"), "zoned.zasl"));
    qobject_unref(rsp);
}

/* Node zd2: the data of the namespaces 2 the test below plugs */
static void add_zd2(Ctx *c)
{
    qtest_qmp_assert_success(c->qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'zd2', 'file': {'driver': 'file', "
                             "'filename': %s}}}",
                             qnvme_tmp_image(16 * 1024 * 1024));
}

/* Namespace 2, zoned as 1 is, zoned.state from path: NULL, or why not */
static char *plug_zns2(Ctx *c, const char *path)
{
    char *err = NULL;
    QDict *rsp;

    qtest_qmp_assert_success(c->qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'zs2', 'file': {'driver': 'file', "
                             "'filename': %s}}}", path);
    rsp = qtest_qmp(c->qts, "{'execute': 'device_add', 'arguments': "
                    "{'driver': 'nvme-ns', 'id': 'zns2', 'drive': 'zd2', "
                    "'bus': 'nvme0', 'nsid': 2, 'zoned': true, "
                    "'zoned.zone_size': 1048576, "
                    "'zoned.zone_capacity': 786432, 'zoned.max_active': 4, "
                    "'zoned.max_open': 2, 'zoned.descr_ext_size': 64, "
                    "'zoned.state': 'zs2'}}");
    if (qdict_haskey(rsp, "error")) {
        err = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                     "desc"));
        qtest_qmp_assert_success(c->qts, "{'execute': 'blockdev-del', "
                                 "'arguments': {'node-name': 'zs2'}}");
    }
    qobject_unref(rsp);
    return err;
}

/* Write pointer of zone z of namespace 2 plugged with this zoned.state */
static uint64_t wp_from(Ctx *c, const char *contents, gsize len, int z)
{
    char *path = qnvme_tmp_image(len);
    uint64_t wp;

    g_assert_true(g_file_set_contents(path, contents, len, NULL));
    g_assert_null(plug_zns2(c, path));
    wp = le64_to_cpu(zone_of_ns(c, 2, z).wp);
    qtest_qmp_device_del(c->qts, "zns2");
    qtest_qmp_assert_success(c->qts, "{'execute': 'blockdev-del', "
                             "'arguments': {'node-name': 'zs2'}}");
    return wp;
}

/* Plugging namespace 2 with this zoned.state fails, saying expect */
static void refused(Ctx *c, const char *contents, gsize len,
                    const char *expect)
{
    char *path = qnvme_tmp_image(len);
    g_autofree char *err = NULL;

    g_assert_true(g_file_set_contents(path, contents, len, NULL));
    err = plug_zns2(c, path);
    g_assert_nonnull(err);
    if (!strstr(err, expect)) {
        g_test_message("device_add said: %s", err);
    }
    g_assert_nonnull(strstr(err, expect));
}

/*
 * zoned.state holds two copies of the zone records that check themselves:
 * a damaged or torn one is not trusted, the other one is used; with
 * neither valid, the namespace is refused, and so is a QEMU started
 * with it.
 */
static void test_zns_copies(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree char *file = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *args = NULL;
    const char *newer, *older;
    uint64_t records;
    char *path;
    int newest;
    gsize len;

    add_zd2(&c);
    reset_all(&c);
    g_assert_cmphex(wr(&c, zslba(8), 8), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmphex(wr(&c, zslba(8) + 8, 8), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    /* The last save has 16 blocks in zone 8, the one before 8 */
    g_assert_true(g_file_get_contents(state_file, &file, &len, NULL));
    records = zs_records(file, len);
    newest = zs_newest(file, len);
    newer = file + records + newest * ZS_COPY;
    older = file + records + (1 - newest) * ZS_COPY;
    g_assert_true(zs_copy_valid(older, 1 - newest));
    g_assert_cmpuint(ldq_le_p(older + 8) + 1, ==, ldq_le_p(newer + 8));
    g_assert_cmpuint(ldq_le_p(newer + 64 + 16 * 8 + 8), ==,
                     (zslba(8) + 16) * 512);
    g_assert_cmpuint(ldq_le_p(older + 64 + 16 * 8 + 8), ==,
                     (zslba(8) + 8) * 512);
    g_assert_cmpuint(wp_from(&c, file, len, 8), ==, zslba(8) + 16);

    /* The next save torn over the older copy: its header, not the rest */
    bad = g_memdup2(file, len);
    stq_le_p(bad + (older - file) + 8, ldq_le_p(newer + 8) + 1);
    g_assert_cmpuint(wp_from(&c, bad, len, 8), ==, zslba(8) + 16);
    /* Garbage in the newest copy: the one before is used */
    memcpy(bad, file, len);
    memset(bad + (newer - file) + 64 + 16 * 8, 0xa5, 16);
    g_assert_cmpuint(wp_from(&c, bad, len, 8), ==, zslba(8) + 8);

    /* Both damaged: not trusted, refused */
    memset(bad + (older - file) + 64, 0xa5, 16);
    refused(&c, bad, len, "zoned.state: no valid copy of the zone records");
    path = qnvme_tmp_image(len);
    g_assert_true(g_file_set_contents(path, bad, len, NULL));
    args = g_strdup_printf("-M pc -drive if=none,id=d,format=raw,file=%s "
                           "-drive if=none,id=s,format=raw,file=%s "
                           "-device nvme,id=nf,serial=f "
                           "-device nvme-ns,bus=nf,drive=d,nsid=1,zoned=on,"
                           "zoned.zone_size=1M,zoned.zone_capacity=768K,"
                           "zoned.max_active=4,zoned.max_open=2,"
                           "zoned.descr_ext_size=64,zoned.state=s",
                           qnvme_tmp_image(16 * 1024 * 1024), path);
    qnvme_expect_start_failure(args, "zoned.state: no valid copy of the "
                               "zone records");
    /* A damaged header: neither trusted nor taken for a new file */
    memcpy(bad, file, len);
    bad[24] ^= 1;
    refused(&c, bad, len, "zoned.state: the header is damaged");
    memset(bad, 0xa5, 8);
    refused(&c, bad, len, "neither a zone state nor all zeroes");
}

/*
 * Namespace 1's data on blkdebug, whose breakpoints hold I/O; drive z0
 * so that qemu-io finds it without a graph change (which would wait for
 * the request held)
 */
static void *zns_debug_setup(GString *cmd_line, void *arg)
{
    char *img = qnvme_tmp_image(16 * 1024 * 1024);

    state_file = qnvme_tmp_image(64 * 1024);
    g_string_append_printf(cmd_line,
        " -drive id=z0,if=none,format=raw,file.driver=blkdebug,"
        "file.image.driver=file,file.image.filename=%s"
        " -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.state=zs",
        img, state_file);
    return arg;
}

static void hmp_ok(Ctx *c, const char *cmd)
{
    g_autofree char *out = qtest_hmp(c->qts, "%s", cmd);

    g_assert_cmpstr(out, ==, "");
}

/*
 * A zone is recorded empty only once its reset zeroed it: a save that
 * begins while the zeroing is under way keeps the zone's old record,
 * since the old data is still there (and its flush does not cover the
 * zeroing).
 */
static void test_zns_reset_order(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCmd reset = {
        .opcode = NVME_CMD_ZONE_MGMT_SEND,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(zslba(6)),
        .cdw13 = cpu_to_le32(NVME_ZONE_ACTION_RESET),
    };
    NvmeCmd flush = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
    uint16_t reset_cid, flush_cid;
    NvmeCqe cqe;

    g_assert_cmphex(wr(&c, zslba(6), 8), ==, 0);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmpuint(persisted_state(6), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    /* The zeroing waits at a breakpoint; a Flush saves meanwhile */
    hmp_ok(&c, "qemu-io z0 \"break pwritev_zero reset\"");
    reset_cid = qnvme_submit(c.n, 1, &reset);
    flush_cid = qnvme_submit(c.n, 1, &flush);
    g_assert_true(qnvme_poll(c.n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, flush_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_cmpuint(state(&c, 6), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmpuint(persisted_state(6), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(persisted_wp(6), ==, (zslba(6) + 8) * 512);
    /* Zeroed: the reset's own save records it empty */
    hmp_ok(&c, "qemu-io z0 \"resume reset\"");
    g_assert_true(qnvme_poll(c.n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, reset_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_cmpuint(persisted_state(6), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_cmpuint(persisted_wp(6), ==, zslba(6) * 512);
}

/*
 * Writes throttled: 2 per second for namespace 1's data (null-co, whose
 * flushes take no time), 1 per second for zoned.state
 */
static void *zns_throttled_setup(GString *cmd_line, void *arg)
{
    state_file = qnvme_tmp_image(64 * 1024);
    g_string_append_printf(cmd_line,
        " -object throttle-group,id=tgd,x-iops-write=2"
        " -object throttle-group,id=tgs,x-iops-write=1"
        " -blockdev null-co,node-name=zn,size=16777216,read-zeroes=on"
        " -blockdev throttle,node-name=z0,throttle-group=tgd,file=zn"
        " -blockdev file,node-name=zsf,filename=%s"
        " -blockdev throttle,node-name=zst,throttle-group=tgs,file=zsf"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.state=zst",
        state_file);
    return arg;
}

/*
 * A shutdown while a save that no command waits for (one that a QMP
 * nvme-zone-inject asked for) is under way: it began before the last
 * write completed, yet once the shutdown completes, zoned.state covers
 * that write.
 */
static void test_zns_shutdown_saving(void *obj, void *data,
                                     QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCmd write = {
        .opcode = NVME_CMD_WRITE,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c.buf),
        .cdw10 = cpu_to_le32(zslba(5)),
        .cdw12 = cpu_to_le32(NVME_RW_FUA | 7),
    };
    uint16_t write_cid;
    NvmeCqe cqe;

    /* FUA: a save, whose write leaves zoned.state throttled for a while */
    g_assert_cmphex(qnvme_cmd(c.n, 1, &write, NULL), ==, 0);
    g_assert_cmpuint(persisted_wp(5), ==, (zslba(5) + 8) * 512);
    /* A write that passes, so that the next one waits (for 400 ms) */
    g_assert_cmphex(wr(&c, zslba(6), 1), ==, 0);
    write.cdw10 = cpu_to_le32(zslba(5) + 8);
    write.cdw12 = cpu_to_le32(7);
    write_cid = qnvme_submit(c.n, 1, &write);
    inject(&c, 9, "read-only");
    g_assert_true(qnvme_poll(c.n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, write_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    qnvme_writel(c.n, NVME_REG_CC, qnvme_readl(c.n, NVME_REG_CC) |
                 (NVME_CC_SHN_NORMAL << 14));
    g_assert_cmphex(NVME_CSTS_SHST(qnvme_readl(c.n, NVME_REG_CSTS)), ==,
                    NVME_SHST_COMPLETE);
    g_assert_cmpuint(persisted_wp(5), ==, (zslba(5) + 16) * 512);
    g_assert_cmpuint(persisted_state(9), ==, NVME_ZONE_STATE_READ_ONLY);
}

/* No MDTS; namespace 1: 2 GiB (null-co) in 512 Ki zones of 4 KiB */
#define HUGE_ZONES      (512 * 1024)

static void *zns_huge_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "mdts=0,");
    g_string_append(cmd_line,
        " -blockdev null-co,node-name=z0,size=2147483648,read-zeroes=on"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=4K");
    return arg;
}

/* The peak resident set of QEMU (KiB), after clear_refs reset it */
static bool reset_peak_rss(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/clear_refs", pid);
    int fd = open(path, O_WRONLY);
    bool ok = fd >= 0 && write(fd, "5", 1) == 1;

    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/*
 * Zone Management Receive without a transfer limit, NUMD at its maximum
 * (16 GiB): the 32 MiB report of every zone reaches the host, yet QEMU
 * holds no more than a piece of it at a time. The PRP list maps every
 * page after the first to one page, and chains to itself.
 */
static void test_zns_report_bounded(void *obj, void *data,
                                    QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint64_t list = qnvme_alloc(c.n, QNVME_PAGE_SIZE);
    uint64_t page = qnvme_alloc(c.n, QNVME_PAGE_SIZE);
    pid_t pid = qtest_pid(c.qts);
    NvmeCmd cmd = {
        .opcode = NVME_CMD_ZONE_MGMT_RECV,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(c.buf),
        .dptr.prp2 = cpu_to_le64(list),
        .cdw12 = cpu_to_le32(UINT32_MAX),
    };
    uint64_t entries[QNVME_PAGE_SIZE / 8];
    NvmeZoneReportHeader hdr;
    NvmeZoneDescr d;
    uint64_t before;

    for (int i = 0; i < ARRAY_SIZE(entries); i++) {
        entries[i] = cpu_to_le64(i < ARRAY_SIZE(entries) - 1 ? page : list);
    }
    qtest_memwrite(c.qts, list, entries, sizeof(entries));
    if (!reset_peak_rss(pid)) {
        g_test_skip("cannot reset the peak resident set size");
        return;
    }
    before = qnvme_qemu_status_kib(c.qts, "VmHWM");
    g_assert_cmphex(qnvme_cmd(c.n, 1, &cmd, NULL), ==, 0);
    /* The kernel's RSS counters lag (per-CPU batches): may go down */
    g_assert_cmpint((int64_t)(qnvme_qemu_status_kib(c.qts, "VmHWM") - before),
                    <, 8 * 1024);
    qtest_memread(c.qts, c.buf, &hdr, sizeof(hdr));
    g_assert_cmpuint(le64_to_cpu(hdr.nr_zones), ==, HUGE_ZONES);
    qtest_memread(c.qts, c.buf + sizeof(hdr), &d, sizeof(d));
    g_assert_cmpuint(le64_to_cpu(d.zslba), ==, 0);
    g_assert_cmpuint(d.zs >> 4, ==, NVME_ZONE_STATE_EMPTY);
    /* The last page of the report holds the last zone's descriptor only */
    qtest_memread(c.qts, page, &d, sizeof(d));
    g_assert_cmpuint(le64_to_cpu(d.zslba), ==, (HUGE_ZONES - 1) * 8);
}

/*
 * Zone Random Write Area. Namespace 1 as for zns_setup, with two ZRWAs of
 * 64 KiB (128 blocks) and a flush granularity of 8 KiB (16 blocks);
 * extra: more for the controller's -device.
 */
#define ZRWAS           128
#define ZRWAFG          16
#define NO_ZRWA         (NVME_SC_ZRWA_RESOURCES_UNAVAILABLE | DNR)
#define BAD_ZONE_OP     (NVME_SC_ZONE_INVALID_OPERATION | DNR)
#define ZRWA_PROPS      "zoned.numzrwa=2,zoned.zrwas=64K,zoned.zrwafg=8K"

static void *zrwa_setup_with(GString *cmd_line, const char *extra,
                             const char *data)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    state_file = qnvme_tmp_image(64 * 1024);
    g_assert(dev);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    extra);
    g_string_append_printf(cmd_line,
        " %s -drive id=zs,if=none,file=%s,format=raw"
        " -device nvme-ns,id=zns,drive=z0,bus=nvme0,nsid=1,zoned=on,"
        "zoned.zone_size=1M,zoned.zone_capacity=768K,zoned.max_active=4,"
        "zoned.max_open=2,zoned.descr_ext_size=64,zoned.state=zs,"
        ZRWA_PROPS, data, state_file);
    return cmd_line;
}

static void *zns_zrwa_setup(GString *cmd_line, void *arg)
{
    g_autofree char *data = g_strdup_printf(
        "-drive id=z0,if=none,file=%s,format=raw",
        qnvme_tmp_image(16 * 1024 * 1024));

    zrwa_setup_with(cmd_line, "", data);
    return arg;
}

static void *zns_noauto_setup(GString *cmd_line, void *arg)
{
    g_autofree char *data = g_strdup_printf(
        "-drive id=z0,if=none,file=%s,format=raw",
        qnvme_tmp_image(16 * 1024 * 1024));

    zrwa_setup_with(cmd_line, "zoned.auto_transition=off,", data);
    return arg;
}

/* Every request to namespace 1's data (null-co) takes 300 ms */
static void *zns_zrwa_slow_setup(GString *cmd_line, void *arg)
{
    zrwa_setup_with(cmd_line, "", "-blockdev null-co,node-name=z0,"
                    "size=16777216,latency-ns=300000000,read-zeroes=on");
    return arg;
}

/* Zone Management Send with the Zone Send Action Specific Option (ZRWAA) */
static uint16_t zsend_opt(Ctx *c, uint64_t slba, uint32_t cdw13)
{
    NvmeCmd cmd = {
        .opcode = NVME_CMD_ZONE_MGMT_SEND,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw13 = cpu_to_le32(cdw13),
    };

    return qnvme_cmd(c->n, 1, &cmd, NULL);
}

static uint16_t open_zrwa(Ctx *c, int z)
{
    return zsend_opt(c, zslba(z), NVME_ZONE_ACTION_OPEN | NVME_ZONE_SEND_ZRWAA);
}

/* Flush Explicit ZRWA Range up to elba, the last block committed */
static uint16_t commit(Ctx *c, uint64_t elba)
{
    return zsend_opt(c, elba, NVME_ZONE_ACTION_ZRWA_FLUSH);
}

static bool has_zrwa(Ctx *c, int z)
{
    return zone(c, z).za & NVME_ZA_ZRWA_VALID;
}

/* Writes nlb (at most 8: one page) blocks of byte v at slba */
static uint16_t wr_pattern(Ctx *c, uint64_t slba, uint32_t nlb, uint8_t v)
{
    qtest_memset(c->qts, c->buf, v, nlb * 512);
    return wr(c, slba, nlb);
}

static uint8_t read_byte(Ctx *c, uint64_t lba)
{
    uint8_t b;

    qtest_memset(c->qts, c->buf, 0xee, 512);
    g_assert_cmphex(io(c, NVME_CMD_READ, lba, 1, NULL), ==, 0);
    qtest_memread(c->qts, c->buf + 511, &b, 1);
    return b;
}

static void test_zns_zrwa_identify(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNsZoned *idz = g_new0(NvmeIdNsZoned, 1);

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_ZONED,
                                   idz), ==, 0);
    g_assert_cmphex(le16_to_cpu(idz->ozcs), ==,
                    NVME_ID_NS_ZONED_OZCS_ZRWASUP);
    g_assert_cmpuint(le32_to_cpu(idz->numzrwa), ==, 1);     /* 0's based */
    g_assert_cmpuint(le16_to_cpu(idz->zrwasz), ==, ZRWAS);
    g_assert_cmpuint(le16_to_cpu(idz->zrwafg), ==, ZRWAFG);
    g_assert_cmpuint(idz->zrwacap, ==, NVME_ID_NS_ZONED_ZRWACAP_EXPFLUSHSUP);
    /* Without ZRWA, ZRWAA and the flush are invalid: see zns-zrwa-none */
}

/* Namespace 1 of zns_setup has no ZRWA */
static void test_zns_zrwa_none(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree NvmeIdNsZoned *idz = g_new0(NvmeIdNsZoned, 1);

    g_assert_cmphex(qnvme_identify(c.n, NVME_ID_CNS_CS_NS, 1, NVME_CSI_ZONED,
                                   idz), ==, 0);
    g_assert_cmphex(le16_to_cpu(idz->ozcs), ==, 0);
    g_assert_cmpuint(le32_to_cpu(idz->numzrwa) | idz->zrwacap |
                     le16_to_cpu(idz->zrwasz), ==, 0);
    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 0), ==, INVALID);
    g_assert_cmphex(commit(&c, 15), ==, INVALID);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_EMPTY);
}

/*
 * Writes anywhere in the ZRWA, over each other, leave the pointer; one
 * into the next ZRWAS blocks commits by granules; further ones, or below
 * the pointer, are Zone Invalid Write.
 */
static void test_zns_zrwa_writes(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 0), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_EXPLICITLY_OPEN);
    g_assert_true(has_zrwa(&c, 0));
    g_assert_cmphex(wr_pattern(&c, 100, 8, 0xa1), ==, 0);
    g_assert_cmphex(wr_pattern(&c, 10, 4, 0xb2), ==, 0);
    g_assert_cmphex(wr_pattern(&c, 104, 8, 0xc3), ==, 0);
    g_assert_cmphex(wr_pattern(&c, 0, 1, 0xd4), ==, 0);
    g_assert_cmpuint(wp(&c, 0), ==, 0);
    g_assert_cmphex(read_byte(&c, 103), ==, 0xa1);
    g_assert_cmphex(read_byte(&c, 104), ==, 0xc3);
    g_assert_cmphex(read_byte(&c, 11), ==, 0xb2);
    /* Past the ZRWA and the implicit flush range after it */
    g_assert_cmphex(wr(&c, 2 * ZRWAS - 4, 8), ==, BAD_WRITE);
    g_assert_cmphex(wr(&c, 2 * ZRWAS, 1), ==, BAD_WRITE);
    g_assert_cmpuint(wp(&c, 0), ==, 0);
    /* Two blocks past the ZRWA: one granule committed */
    g_assert_cmphex(wr(&c, ZRWAS - 8, 10), ==, 0);
    g_assert_cmpuint(wp(&c, 0), ==, ZRWAFG);
    g_assert_cmphex(wr(&c, ZRWAFG - 1, 1), ==, BAD_WRITE);
    /* To 104 blocks past it: seven granules */
    g_assert_cmphex(wr(&c, ZRWAFG + ZRWAS + 100, 4), ==, 0);
    g_assert_cmpuint(wp(&c, 0), ==, 8 * ZRWAFG);
    g_assert_true(has_zrwa(&c, 0));
    /* Zone Append has no place in a ZRWA zone */
    g_assert_cmphex(io(&c, NVME_CMD_ZONE_APPEND, zslba(0), 1, NULL), ==,
                    BAD_ZONE_OP);
    /* Still the capacity: Zone Boundary Error */
    g_assert_cmphex(wr(&c, ZCAP - 4, 8), ==, BOUNDARY);
    /* An implicit flush up to the capacity fills the zone */
    for (uint64_t w = ZRWAS; w < ZCAP; w += ZRWAS) {
        g_assert_cmphex(fill(&c, w, ZRWAS), ==, 0);
    }
    g_assert_cmpuint(wp(&c, 0), ==, ZCAP - ZRWAS);
    g_assert_cmphex(commit(&c, ZCAP - ZRWAS / 2 - 1), ==, 0);
    g_assert_cmphex(fill(&c, ZCAP - 8, 8), ==, 0);
    g_assert_cmpuint(wp(&c, 0), ==, ZCAP - ZRWAS / 2);
    g_assert_cmphex(commit(&c, ZCAP - 1), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_FULL);
    g_assert_false(has_zrwa(&c, 0));
    g_assert_cmpuint(wp(&c, 0), ==, ZCAP);
}

/* Flush Explicit ZRWA Range: from the pointer, whole granules, in ZRWA */
static void test_zns_zrwa_commit(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    uint64_t z1 = zslba(1);

    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 1), ==, 0);
    g_assert_cmphex(fill(&c, z1, 56), ==, 0);
    g_assert_cmphex(wr_pattern(&c, z1 + 56, 8, 0x11), ==, 0);
    g_assert_cmphex(commit(&c, z1 + ZRWAFG - 1), ==, 0);
    g_assert_cmpuint(wp(&c, 1), ==, z1 + ZRWAFG);
    /* Half a granule: Invalid Field */
    g_assert_cmphex(commit(&c, z1 + ZRWAFG + 7), ==, INVALID);
    /* Below the pointer, or beyond the ZRWA: Zone Boundary Error */
    g_assert_cmphex(commit(&c, z1 + ZRWAFG - 1), ==, BOUNDARY);
    g_assert_cmphex(commit(&c, z1 + ZRWAFG + ZRWAS + ZRWAFG - 1), ==,
                    BOUNDARY);
    g_assert_cmpuint(wp(&c, 1), ==, z1 + ZRWAFG);
    /* The whole ZRWA at once */
    g_assert_cmphex(commit(&c, z1 + ZRWAFG + ZRWAS - 1), ==, 0);
    g_assert_cmpuint(wp(&c, 1), ==, z1 + ZRWAFG + ZRWAS);
    g_assert_cmphex(read_byte(&c, z1 + 63), ==, 0x11);
    /* A zone without a ZRWA, Select All, beyond the namespace */
    g_assert_cmphex(wr(&c, zslba(2), 1), ==, 0);
    g_assert_cmphex(commit(&c, zslba(2) + ZRWAFG - 1), ==, BAD_ZONE_OP);
    g_assert_cmphex(zsend_opt(&c, z1 + ZRWAS + 2 * ZRWAFG - 1,
                              NVME_ZONE_ACTION_ZRWA_FLUSH |
                              NVME_ZONE_SEND_SELECT_ALL), ==, INVALID);
    g_assert_cmphex(commit(&c, NR_ZONES * ZSZE), ==,
                    NVME_SC_LBA_OUT_OF_RANGE | DNR);
    /* A closed ZRWA zone keeps its ZRWA, and may be committed */
    g_assert_cmphex(zsend(&c, z1, NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_true(has_zrwa(&c, 1));
    g_assert_cmphex(commit(&c, z1 + ZRWAS + 2 * ZRWAFG - 1), ==, 0);
    g_assert_cmpuint(wp(&c, 1), ==, z1 + ZRWAS + 2 * ZRWAFG);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_CLOSED);
}

/*
 * ZRWA resources: two; freed by Finish and Reset, kept by Close; ZRWAA
 * only on an empty zone (or one that has a ZRWA), on one zone, on Open.
 */
static void test_zns_zrwa_resources(void *obj, void *data,
                                    QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 0), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 1), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 2), ==, NO_ZRWA);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_EMPTY);
    /* Finish: committed to the capacity, the ZRWA is free again */
    g_assert_cmphex(wr(&c, zslba(0) + 5, 3), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_FINISH, false), ==,
                    0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_FULL);
    g_assert_cmpuint(wp(&c, 0), ==, zslba(0) + ZCAP);
    g_assert_false(has_zrwa(&c, 0));
    g_assert_cmphex(open_zrwa(&c, 2), ==, 0);
    /* Reset: empty, zeroes, no ZRWA */
    g_assert_cmphex(wr_pattern(&c, zslba(1) + 3, 1, 0x77), ==, 0);
    g_assert_cmphex(zsend(&c, zslba(1), NVME_ZONE_ACTION_RESET, false), ==,
                    0);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_false(has_zrwa(&c, 1));
    g_assert_cmphex(read_byte(&c, zslba(1) + 3), ==, 0);
    /* Close keeps the ZRWA, even with nothing committed */
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_true(has_zrwa(&c, 2));
    g_assert_cmphex(open_zrwa(&c, 3), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 4), ==, NO_ZRWA);
    /* A zone opened without one gets none later */
    g_assert_cmphex(zsend(&c, zslba(3), NVME_ZONE_ACTION_RESET, false), ==,
                    0);
    g_assert_cmphex(wr(&c, zslba(4), 1), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 4), ==, TRANSITION);
    g_assert_cmphex(open_zrwa(&c, 0), ==, TRANSITION);
    /* Writing the closed ZRWA zone opens it, with its ZRWA */
    g_assert_cmphex(wr(&c, zslba(2) + 50, 1), ==, 0);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_true(has_zrwa(&c, 2));
    g_assert_cmpuint(wp(&c, 2), ==, zslba(2));
    /* ZRWAA elsewhere than on the Open of one zone */
    g_assert_cmphex(zsend_opt(&c, 0, NVME_ZONE_ACTION_OPEN |
                              NVME_ZONE_SEND_ZRWAA |
                              NVME_ZONE_SEND_SELECT_ALL), ==, INVALID);
    g_assert_cmphex(zsend_opt(&c, zslba(2), NVME_ZONE_ACTION_CLOSE |
                              NVME_ZONE_SEND_ZRWAA), ==, INVALID);
    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 5), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 6), ==, 0);
}

/* Plugs namespace 2, with the ZRWAs of namespace 1, on zoned.state path */
static void plug_zrwa2(Ctx *c, const char *path)
{
    qtest_qmp_assert_success(c->qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'zs2', 'file': {'driver': 'file', "
                             "'filename': %s}}}", path);
    qtest_qmp_assert_success(c->qts, "{'execute': 'device_add', 'arguments': "
                             "{'driver': 'nvme-ns', 'id': 'zns2', "
                             "'drive': 'zd2', 'bus': 'nvme0', 'nsid': 2, "
                             "'zoned': true, 'zoned.zone_size': 1048576, "
                             "'zoned.zone_capacity': 786432, "
                             "'zoned.max_active': 4, 'zoned.max_open': 2, "
                             "'zoned.descr_ext_size': 64, "
                             "'zoned.numzrwa': 2, 'zoned.zrwas': 65536, "
                             "'zoned.zrwafg': 8192, 'zoned.state': 'zs2'}}");
}

/*
 * zoned.state records the committed pointer only: what a restart finds
 * (namespace 2 plugged on a copy of namespace 1's file) is the zone
 * closed where the commit left it, still with its ZRWA.
 */
static void test_zns_zrwa_persist(void *obj, void *data, QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    g_autofree char *file = NULL;
    NvmeZoneDescr d;
    char *path;
    gsize len;

    add_zd2(&c);
    reset_all(&c);
    g_assert_cmphex(open_zrwa(&c, 6), ==, 0);
    g_assert_cmpuint(persisted_state(6), ==, NVME_ZONE_STATE_EXPLICITLY_OPEN);
    g_assert_cmphex(fill(&c, zslba(6), 64), ==, 0);
    g_assert_cmphex(commit(&c, zslba(6) + 2 * ZRWAFG - 1), ==, 0);
    /* The commit is recorded at once; the blocks after it never are */
    g_assert_cmpuint(persisted_wp(6), ==, (zslba(6) + 2 * ZRWAFG) * 512);
    g_assert_cmphex(io(&c, NVME_CMD_FLUSH, 0, 1, NULL), ==, 0);
    g_assert_cmpuint(persisted_wp(6), ==, (zslba(6) + 2 * ZRWAFG) * 512);
    g_assert_true(g_file_get_contents(state_file, &file, &len, NULL));
    g_assert_cmphex(persisted_record(file, len, 6)[1] & NVME_ZA_ZRWA_VALID,
                    ==, NVME_ZA_ZRWA_VALID);

    path = qnvme_tmp_image(len);
    g_assert_true(g_file_set_contents(path, file, len, NULL));
    plug_zrwa2(&c, path);
    d = zone_of_ns(&c, 2, 6);
    g_assert_cmpuint(d.zs >> 4, ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmpuint(le64_to_cpu(d.wp), ==, zslba(6) + 2 * ZRWAFG);
    g_assert_cmphex(d.za & NVME_ZA_ZRWA_VALID, ==, NVME_ZA_ZRWA_VALID);
    qtest_qmp_device_del(c.qts, "zns2");
    qtest_qmp_assert_success(c.qts, "{'execute': 'blockdev-del', "
                             "'arguments': {'node-name': 'zs2'}}");
}

/* zoned.auto_transition=off: at the open limit, nothing is closed */
static void test_zns_no_auto_transition(void *obj, void *data,
                                        QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    g_assert_cmphex(wr(&c, zslba(0), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(1), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(2), 1), ==, TOO_OPEN);
    g_assert_cmphex(zsend(&c, zslba(2), NVME_ZONE_ACTION_OPEN, false), ==,
                    TOO_OPEN);
    g_assert_cmphex(open_zrwa(&c, 2), ==, TOO_OPEN);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_EMPTY);
    /* The host closes one: room again */
    g_assert_cmphex(zsend(&c, zslba(0), NVME_ZONE_ACTION_CLOSE, false), ==, 0);
    g_assert_cmphex(wr(&c, zslba(2), 1), ==, 0);
    g_assert_cmpuint(state(&c, 2), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
    g_assert_cmphex(wr(&c, zslba(0) + 1, 1), ==, TOO_OPEN);
}

/* zoned.auto_transition=on (the default): the oldest implicit open closes */
static void test_zns_auto_transition(void *obj, void *data,
                                     QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);

    reset_all(&c);
    g_assert_cmphex(wr(&c, zslba(0), 1), ==, 0);
    g_assert_cmphex(wr(&c, zslba(1), 1), ==, 0);
    g_assert_cmphex(open_zrwa(&c, 2), ==, 0);
    g_assert_cmpuint(state(&c, 0), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmphex(wr(&c, zslba(3), 1), ==, 0);
    g_assert_cmpuint(state(&c, 1), ==, NVME_ZONE_STATE_CLOSED);
    g_assert_cmpuint(state(&c, 3), ==, NVME_ZONE_STATE_IMPLICITLY_OPEN);
}

/* Bad ZRWA properties: QEMU does not start, and says which */
static void test_zns_zrwa_bad_config(void *obj, void *data,
                                     QGuestAllocator *a)
{
    static const struct {
        const char *props, *expect;
    } bad[] = {
        { "zoned.numzrwa=1,zoned.zrwas=64K,zoned.zrwafg=24K",
          "zoned.zrwas must be a multiple of zoned.zrwafg" },
        { "zoned.numzrwa=1,zoned.zrwas=1M,zoned.zrwafg=8K",
          "at most zoned.zone_capacity" },
        { "zoned.numzrwa=1,zoned.zrwas=64K,zoned.zrwafg=2K",
          "zoned.zrwafg must be a multiple of 4096 bytes" },
        { "zoned.numzrwa=5,zoned.zrwas=64K,zoned.zrwafg=8K",
          "zoned.numzrwa must not exceed zoned.max_active" },
        { "zoned.numzrwa=1", "zoned.numzrwa needs zoned.zrwas" },
        { "zoned.zrwas=64K,zoned.zrwafg=8K",
          "zoned.zrwas and zoned.zrwafg need zoned.numzrwa" },
    };

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *args = g_strdup_printf(
            "-M pc -drive if=none,id=d,format=raw,file=%s "
            "-device nvme,id=nf,serial=f "
            "-device nvme-ns,bus=nf,drive=d,nsid=1,zoned=on,"
            "zoned.zone_size=1M,zoned.zone_capacity=768K,"
            "zoned.max_active=4,%s",
            qnvme_tmp_image(16 * 1024 * 1024), bad[i].props);

        qnvme_expect_start_failure(args, bad[i].expect);
    }
}

/*
 * A ZRWA flush is a save of zoned.state (flush of the data, then the
 * records): 50 ms into it, its queue deleted, then the controller
 * disabled, then the namespace formatted; it must complete first. A
 * write before each, or the data's flush would have nothing to wait for.
 */
static void test_zns_zrwa_commit_teardown(void *obj, void *data,
                                          QGuestAllocator *a)
{
    Ctx c = qnvme_ctx_start(obj);
    NvmeCmd flush = {
        .opcode = NVME_CMD_ZONE_MGMT_SEND,
        .nsid = cpu_to_le32(1),
        .cdw13 = cpu_to_le32(NVME_ZONE_ACTION_ZRWA_FLUSH),
    };
    NvmeCmd del = { .opcode = NVME_ADM_CMD_DELETE_SQ,
                    .cdw10 = cpu_to_le32(1) };
    NvmeCmd format = { .opcode = NVME_ADM_CMD_FORMAT_NVM,
                       .nsid = cpu_to_le32(1) };
    uint64_t elba = zslba(7) + ZRWAFG - 1;
    NvmeCqe cqe;
    uint16_t cid;

    g_assert_cmphex(open_zrwa(&c, 7), ==, 0);
    g_assert_cmphex(fill(&c, elba + 1 - ZRWAFG, ZRWAFG), ==, 0);
    flush.cdw10 = cpu_to_le32(elba);
    qnvme_submit(c.n, 1, &flush);
    g_usleep(50 * 1000);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &del, NULL), ==, 0);
    del.opcode = NVME_ADM_CMD_DELETE_CQ;
    g_assert_cmphex(qnvme_cmd(c.n, 0, &del, NULL), ==, 0);
    /* The deletion waited for the save */
    g_assert_cmpuint(persisted_wp(7), ==, (zslba(7) + ZRWAFG) * 512);
    qnvme_create_io_queue_pair(c.n, 1, 16);
    g_assert_cmpuint(wp(&c, 7), ==, zslba(7) + ZRWAFG);

    elba += ZRWAFG;
    g_assert_cmphex(fill(&c, elba + 1 - ZRWAFG, ZRWAFG), ==, 0);
    flush.cdw10 = cpu_to_le32(elba);
    qnvme_submit(c.n, 1, &flush);
    g_usleep(50 * 1000);
    qnvme_writel(c.n, NVME_REG_CC, qnvme_readl(c.n, NVME_REG_CC) & ~1u);
    g_assert_true(qnvme_wait_ready(c.n, false));
    g_assert_cmpuint(persisted_wp(7), ==, (zslba(7) + 2 * ZRWAFG) * 512);
    qnvme_start_with_io_queue(c.n);
    g_assert_cmpuint(wp(&c, 7), ==, zslba(7) + 2 * ZRWAFG);

    elba += ZRWAFG;
    g_assert_cmphex(fill(&c, elba + 1 - ZRWAFG, ZRWAFG), ==, 0);
    flush.cdw10 = cpu_to_le32(elba);
    cid = qnvme_submit(c.n, 1, &flush);
    g_usleep(50 * 1000);
    g_assert_cmphex(qnvme_cmd(c.n, 0, &format, NULL), ==, 0);
    g_assert_true(qnvme_poll(c.n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    g_assert_cmpuint(state(&c, 7), ==, NVME_ZONE_STATE_EMPTY);
    g_assert_false(has_zrwa(&c, 7));
    g_assert_cmpuint(persisted_state(7), ==, NVME_ZONE_STATE_EMPTY);
}

static void register_nvme_zns_tests(void)
{
    QOSGraphTestOptions zns = { .before = zns_setup };
    QOSGraphTestOptions zns_slow = { .before = zns_slow_setup };
    QOSGraphTestOptions zns_failing = { .before = zns_failing_setup };
    QOSGraphTestOptions zns_excess = { .before = zns_excess_setup };
    QOSGraphTestOptions zns_debug = { .before = zns_debug_setup };
    QOSGraphTestOptions zns_huge = { .before = zns_huge_setup };
    QOSGraphTestOptions zns_throttled = { .before = zns_throttled_setup };
    QOSGraphTestOptions zns_zrwa = { .before = zns_zrwa_setup };
    QOSGraphTestOptions zns_noauto = { .before = zns_noauto_setup };
    QOSGraphTestOptions zns_zrwa_slow = { .before = zns_zrwa_slow_setup };

    qos_add_test("zns-identify", "nvme-zns", test_zns_identify, &zns);
    qos_add_test("zns-writes", "nvme-zns", test_zns_writes, &zns);
    qos_add_test("zns-limits", "nvme-zns", test_zns_limits, &zns);
    qos_add_test("zns-transitions", "nvme-zns", test_zns_transitions, &zns);
    qos_add_test("zns-report", "nvme-zns", test_zns_report, &zns);
    qos_add_test("zns-faults", "nvme-zns", test_zns_faults, &zns);
    qos_add_test("zns-persistence", "nvme-zns", test_zns_persistence, &zns);
    qos_add_test("zns-read-checks", "nvme-zns", test_zns_read_checks, &zns);
    qos_add_test("zns-inflight-persist", "nvme-zns", test_zns_inflight_persist,
                 &zns_slow);
    qos_add_test("zns-write-protect", "nvme-zns", test_zns_write_protect,
                 &zns);
    qos_add_test("zns-failed-write", "nvme-zns", test_zns_failed_write,
                 &zns_failing);
    qos_add_test("zns-zasl-param", "nvme-zns", test_zns_zasl_param, &zns);
    qos_add_test("zns-excess-active", "nvme-zns", test_zns_excess_active,
                 &zns_excess);
    qos_add_test("zns-copies", "nvme-zns", test_zns_copies, &zns);
    qos_add_test("zns-reset-order", "nvme-zns", test_zns_reset_order,
                 &zns_debug);
    qos_add_test("zns-shutdown-saving", "nvme-zns", test_zns_shutdown_saving,
                 &zns_throttled);
    qos_add_test("zns-report-bounded", "nvme-zns", test_zns_report_bounded,
                 &zns_huge);
    qos_add_test("zns-zrwa-identify", "nvme-zns", test_zns_zrwa_identify,
                 &zns_zrwa);
    qos_add_test("zns-zrwa-none", "nvme-zns", test_zns_zrwa_none, &zns);
    qos_add_test("zns-zrwa-writes", "nvme-zns", test_zns_zrwa_writes,
                 &zns_zrwa);
    qos_add_test("zns-zrwa-commit", "nvme-zns", test_zns_zrwa_commit,
                 &zns_zrwa);
    qos_add_test("zns-zrwa-resources", "nvme-zns", test_zns_zrwa_resources,
                 &zns_zrwa);
    qos_add_test("zns-zrwa-persist", "nvme-zns", test_zns_zrwa_persist,
                 &zns_zrwa);
    qos_add_test("zns-no-auto-transition", "nvme-zns",
                 test_zns_no_auto_transition, &zns_noauto);
    qos_add_test("zns-auto-transition", "nvme-zns", test_zns_auto_transition,
                 &zns_zrwa);
    qos_add_test("zns-zrwa-bad-config", "nvme-zns", test_zns_zrwa_bad_config,
                 &zns);
    qos_add_test("zns-zrwa-commit-teardown", "nvme-zns",
                 test_zns_zrwa_commit_teardown, &zns_zrwa_slow);
}

libqos_init(register_nvme_zns_tests);
