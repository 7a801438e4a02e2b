/*
 * qtests for reservations: three hosts (Host Identifiers 1, 2 and a
 * 128-bit one) on three controllers of a subsystem share namespace 1;
 * every Register, Acquire and Release action, all six reservation types
 * against the command behaviour table, Reservation Report with and
 * without the extended data structure, the notification log, event and
 * mask, and Persist Through Power Loss in resv.state; a zoned namespace 2
 * for the zoned commands' groups, a slow namespace 3 for Preempt and
 * Abort, and some of it again with the I/O queues in an iothread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/nvme.h"
#include "qemu/crc32c.h"
#include "qobject/qdict.h"

#define DNR             NVME_SC_DNR
#define INVALID         (NVME_SC_INVALID_FIELD | DNR)
#define CONFLICT        NVME_SC_RESERVATION_CONFLICT
#define IO_CONFLICT     (NVME_SC_RESERVATION_CONFLICT | DNR)
#define HOST_C          "000000000000000000000000000000c3"

typedef struct Hosts {
    QTestState *qts;
    QNvme *h[3];            /* A (the qos controller), B, C */
    uint64_t buf;
} Hosts;

static char *resv_state;

static void *resv_setup(GString *cmd_line, void *arg)
{
    const char *dev = strstr(cmd_line->str, "-device nvme,");

    g_assert(dev);
    resv_state = qnvme_tmp_image(4096);
    g_string_insert(cmd_line, dev - cmd_line->str + strlen("-device nvme,"),
                    "subsys=rs,hostid=0000000000000001,");
    g_string_insert(cmd_line, dev - cmd_line->str,
                    "-device nvme-subsys,id=rs,nqn=nqn.2026-11.org.qemu:rs ");
    g_string_append_printf(cmd_line,
        " -device nvme,id=hb,addr=05.0,subsys=rs,serial=b,"
        "hostid=0000000000000002"
        " -device nvme,id=hc,addr=06.0,subsys=rs,serial=c,hostid=" HOST_C
        " -drive id=r0,if=none,file=%s,format=raw"
        " -drive id=rst,if=none,file=%s,format=raw"
        " -device nvme-ns,bus=nvme0,drive=r0,nsid=1,resv.state=rst"
        " -drive id=rz,if=none,file=%s,format=raw"
        " -device nvme-ns,bus=nvme0,drive=rz,nsid=2,zoned=on,"
        "zoned.zone_size=1M"
        " -blockdev null-co,node-name=rslow,size=16777216,"
        "latency-ns=200000000,read-zeroes=on"
        " -device nvme-ns,bus=nvme0,drive=rslow,nsid=3",
        qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE), resv_state,
        qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
    return arg;
}

/* A fourth controller (slot 7) of host B: B reaches the namespaces twice */
static void *resv_multipath_setup(GString *cmd_line, void *arg)
{
    resv_setup(cmd_line, arg);
    g_string_append(cmd_line, " -device nvme,id=hd,addr=07.0,subsys=rs,"
                    "serial=d,hostid=0000000000000002");
    return arg;
}

/* The same with the I/O queues (and reservation commands) in an iothread */
static void *resv_iothread_setup(GString *cmd_line, void *arg)
{
    resv_setup(cmd_line, arg);
    g_string_append(cmd_line, " -object iothread,id=nvme-io"
                    " -global nvme.iothread=nvme-io");
    return arg;
}

static Hosts start(void *obj)
{
    QNvme *a = obj;
    Hosts t = { .qts = a->dev.bus->qts, .h = { a } };

    t.h[1] = qnvme_open_slot(a, 5);
    t.h[2] = qnvme_open_slot(a, 6);
    for (int i = 0; i < 3; i++) {
        qnvme_start_with_io_queue(t.h[i]);
    }
    t.buf = qnvme_alloc(a, QNVME_PAGE_SIZE);
    return t;
}

static void stop(Hosts *t)
{
    qnvme_close(t->h[1]);
    qnvme_close(t->h[2]);
}

/* A reservation command of namespace 1; its keys at data */
static NvmeCmd resv_sqe(Hosts *t, uint64_t data, uint8_t opcode,
                        uint32_t cdw10, uint64_t key1, uint64_t key2)
{
    uint64_t keys[2] = { cpu_to_le64(key1), cpu_to_le64(key2) };
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(data),
        .cdw10 = cpu_to_le32(cdw10),
    };

    qtest_memwrite(t->qts, data, keys, sizeof(keys));
    return cmd;
}

/* A reservation command with its 8 or 16 bytes of keys */
static uint16_t resv_cmd(Hosts *t, int host, uint8_t opcode, uint32_t cdw10,
                         uint64_t key1, uint64_t key2)
{
    NvmeCmd cmd = resv_sqe(t, t->buf, opcode, cdw10, key1, key2);

    return qnvme_cmd(t->h[host], 1, &cmd, NULL);
}

static uint16_t reg(Hosts *t, int host, uint32_t action, uint64_t crkey,
                    uint64_t nrkey)
{
    return resv_cmd(t, host, NVME_CMD_RESV_REGISTER, action, crkey, nrkey);
}

static uint16_t acq(Hosts *t, int host, uint32_t action, uint8_t rtype,
                    uint64_t crkey, uint64_t prkey)
{
    return resv_cmd(t, host, NVME_CMD_RESV_ACQUIRE, action | rtype << 8,
                    crkey, prkey);
}

static uint16_t rel(Hosts *t, int host, uint32_t action, uint8_t rtype,
                    uint64_t crkey)
{
    return resv_cmd(t, host, NVME_CMD_RESV_RELEASE, action | rtype << 8,
                    crkey, 0);
}

static uint16_t rd(Hosts *t, int host)
{
    return qnvme_rw(t->h[host], 1, NVME_CMD_READ, 1, 0, 1, t->buf, 0);
}

static uint16_t wr(Hosts *t, int host)
{
    return qnvme_rw(t->h[host], 1, NVME_CMD_WRITE, 1, 0, 1, t->buf, 0);
}

/* Reservation Report into out (len bytes); returns the status */
static uint16_t report(Hosts *t, int host, bool eds, void *out, uint32_t len)
{
    NvmeCmd cmd = {
        .opcode = NVME_CMD_RESV_REPORT,
        .nsid = cpu_to_le32(1),
        .dptr.prp1 = cpu_to_le64(t->buf),
        .cdw10 = cpu_to_le32(len / 4 - 1),
        .cdw11 = cpu_to_le32(eds),
    };
    uint16_t status = qnvme_cmd(t->h[host], 1, &cmd, NULL);

    qtest_memread(t->qts, t->buf, out, len);
    return status;
}

static NvmeResvStatus status_of(Hosts *t)
{
    struct QEMU_PACKED {
        NvmeResvStatus st;
        NvmeResvController c[3];
    } r;

    g_assert_cmphex(report(t, 0, false, &r, sizeof(r)), ==, 0);
    return r.st;
}

/*
 * Unregisters everyone: A registers (if needed), replaces whatever key it
 * has (IEKEY, valid in Register only) and clears with that key.
 */
static void clear_all(Hosts *t)
{
    reg(t, 0, NVME_RESV_REGISTER, 0, 0xa);
    g_assert_cmphex(reg(t, 0, NVME_RESV_REPLACE | NVME_RESV_IEKEY, 0, 0xa),
                    ==, 0);
    g_assert_cmphex(rel(t, 0, NVME_RESV_CLEAR, 0, 0xa), ==, 0);
    g_assert_cmpuint(status_of(t).regctl, ==, 0);
}

/* The scenario of the issue: C is shut out of an EA-RO reservation */
static void test_resv_scenario(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    struct QEMU_PACKED {
        NvmeResvStatus st;
        NvmeResvController c[2];
    } r;
    struct QEMU_PACKED {
        NvmeResvStatusExt st;
        NvmeResvControllerExt c[2];
    } x;

    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 0xaa), ==, 0);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 0xbb), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE,
                        NVME_RESV_EXCLUSIVE_ACCESS_REGS, 0xaa, 0), ==, 0);
    g_assert_cmphex(acq(&t, 2, NVME_RESV_ACQUIRE,
                        NVME_RESV_EXCLUSIVE_ACCESS_REGS, 0xcc, 0), ==,
                    CONFLICT);
    g_assert_cmphex(wr(&t, 0), ==, 0);
    g_assert_cmphex(rd(&t, 1), ==, 0);
    g_assert_cmphex(wr(&t, 1), ==, 0);
    g_assert_cmphex(rd(&t, 2), ==, IO_CONFLICT);
    g_assert_cmphex(wr(&t, 2), ==, IO_CONFLICT);

    /* Report: two registrants, A holds */
    g_assert_cmphex(report(&t, 0, false, &r, sizeof(r)), ==, 0);
    g_assert_cmpuint(r.st.rtype, ==, NVME_RESV_EXCLUSIVE_ACCESS_REGS);
    g_assert_cmpuint(le16_to_cpu(r.st.regctl), ==, 2);
    g_assert_cmpuint(le32_to_cpu(r.st.gen), >=, 2);
    g_assert_cmpuint(le16_to_cpu(r.c[0].cntlid), ==, 0);
    g_assert_cmpuint(r.c[0].rcsts, ==, 1);
    /* The Host Identifier's bytes as given: 00 .. 00 01 */
    g_assert_cmpmem(&r.c[0].hostid, 8, "\0\0\0\0\0\0\0\1", 8);
    g_assert_cmphex(le64_to_cpu(r.c[0].rkey), ==, 0xaa);
    g_assert_cmpuint(le16_to_cpu(r.c[1].cntlid), ==, 1);
    g_assert_cmpuint(r.c[1].rcsts, ==, 0);
    g_assert_cmphex(le64_to_cpu(r.c[1].rkey), ==, 0xbb);
    /* C has a 128-bit Host Identifier: only the extended report */
    g_assert_cmphex(report(&t, 2, false, &r, sizeof(r)), ==,
                    NVME_SC_HOST_ID_INCONSISTENT | DNR);
    g_assert_cmphex(report(&t, 2, true, &x, sizeof(x)), ==, 0);
    g_assert_cmpuint(le16_to_cpu(x.st.base.regctl), ==, 2);
    g_assert_cmpuint(x.c[1].hostid[7], ==, 2);
    g_assert_cmphex(le64_to_cpu(x.c[1].rkey), ==, 0xbb);

    g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE,
                        NVME_RESV_EXCLUSIVE_ACCESS_REGS, 0xaa), ==, 0);
    g_assert_cmphex(wr(&t, 2), ==, 0);
    clear_all(&t);
    stop(&t);
}

/* Each type against the command behaviour table: A holds, B registered */
static void test_resv_types(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    static const struct {
        uint8_t rtype;
        bool b_read, b_write, c_read, c_write;
    } table[] = {
        { NVME_RESV_WRITE_EXCLUSIVE,        true,  false, true,  false },
        { NVME_RESV_EXCLUSIVE_ACCESS,       false, false, false, false },
        { NVME_RESV_WRITE_EXCLUSIVE_REGS,   true,  true,  true,  false },
        { NVME_RESV_EXCLUSIVE_ACCESS_REGS,  true,  true,  false, false },
        { NVME_RESV_WRITE_EXCLUSIVE_ALL,    true,  true,  true,  false },
        { NVME_RESV_EXCLUSIVE_ACCESS_ALL,   true,  true,  false, false },
    };

    for (int i = 0; i < ARRAY_SIZE(table); i++) {
        g_test_message("type %u", table[i].rtype);
        g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 1), ==, 0);
        g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 2), ==, 0);
        g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, table[i].rtype, 1, 0),
                        ==, 0);
        g_assert_cmpuint(status_of(&t).rtype, ==, table[i].rtype);
        g_assert_cmphex(rd(&t, 0), ==, 0);
        g_assert_cmphex(wr(&t, 0), ==, 0);
        g_assert_cmphex(rd(&t, 1), ==, table[i].b_read ? 0 : IO_CONFLICT);
        g_assert_cmphex(wr(&t, 1), ==, table[i].b_write ? 0 : IO_CONFLICT);
        g_assert_cmphex(rd(&t, 2), ==, table[i].c_read ? 0 : IO_CONFLICT);
        g_assert_cmphex(wr(&t, 2), ==, table[i].c_write ? 0 : IO_CONFLICT);
        /* The same acquire again is no change; another type conflicts */
        g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, table[i].rtype, 1, 0),
                        ==, 0);
        g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, table[i].rtype % 6 + 1,
                            1, 0), ==, CONFLICT);
        /* Release needs the reservation's type */
        g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE, table[i].rtype % 6 + 1,
                            1), ==, INVALID);
        g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE, table[i].rtype, 1), ==,
                        0);
        g_assert_cmpuint(status_of(&t).rtype, ==, 0);
        g_assert_cmphex(wr(&t, 2), ==, 0);
        clear_all(&t);
    }
    stop(&t);
}

/*
 * One I/O command of host on namespace nsid: LBA 0 (zone 0), one block
 * (or range); Zone Management Send resets the zone.
 */
static uint16_t ns_io(Hosts *t, int host, uint32_t nsid, uint8_t opcode)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(t->buf),
    };

    switch (opcode) {
    case NVME_CMD_DSM:
        cmd.cdw11 = cpu_to_le32(NVME_DSMGMT_AD);
        break;
    case NVME_CMD_COPY:
        cmd.cdw10 = cpu_to_le32(100);     /* SDLBA; one range: LBA 0 */
        break;
    case NVME_CMD_ZONE_MGMT_RECV:
        cmd.cdw12 = cpu_to_le32(QNVME_PAGE_SIZE / 4 - 1);   /* NUMD */
        break;
    case NVME_CMD_ZONE_MGMT_SEND:
        cmd.cdw13 = cpu_to_le32(NVME_ZONE_ACTION_RESET);
        break;
    }
    return qnvme_cmd(t->h[host], 1, &cmd, NULL);
}

static uint16_t any_io(Hosts *t, int host, uint8_t opcode)
{
    return ns_io(t, host, 1, opcode);
}

/*
 * The command groups of the behaviour table (Base 2.0, 8.19): Read,
 * Compare and Verify read; Write, Write Zeroes, Write Uncorrectable,
 * Dataset Management and Copy write; Flush is in neither.
 */
static void test_resv_command_groups(void *obj, void *data,
                                     QGuestAllocator *a)
{
    Hosts t = start(obj);
    static const uint8_t reads[] = {
        NVME_CMD_READ, NVME_CMD_COMPARE, NVME_CMD_VERIFY,
    };
    static const uint8_t writes[] = {
        NVME_CMD_WRITE, NVME_CMD_WRITE_ZEROES, NVME_CMD_WRITE_UNCOR,
        NVME_CMD_DSM, NVME_CMD_COPY,
    };

    qtest_memset(t.qts, t.buf, 0, QNVME_PAGE_SIZE);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 1), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, NVME_RESV_WRITE_EXCLUSIVE,
                        1, 0), ==, 0);
    /* Write Exclusive: host C may read, not write */
    for (int i = 0; i < ARRAY_SIZE(reads); i++) {
        g_test_message("read group, opcode 0x%x", reads[i]);
        g_assert_cmphex(any_io(&t, 2, reads[i]), !=, IO_CONFLICT);
    }
    for (int i = 0; i < ARRAY_SIZE(writes); i++) {
        g_test_message("write group, opcode 0x%x", writes[i]);
        g_assert_cmphex(any_io(&t, 2, writes[i]), ==, IO_CONFLICT);
        g_assert_cmphex(any_io(&t, 0, writes[i]), !=, IO_CONFLICT);
    }
    g_assert_cmphex(any_io(&t, 2, NVME_CMD_FLUSH), ==, 0);
    /* Exclusive Access: neither */
    g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE, NVME_RESV_WRITE_EXCLUSIVE,
                        1), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, NVME_RESV_EXCLUSIVE_ACCESS,
                        1, 0), ==, 0);
    for (int i = 0; i < ARRAY_SIZE(reads); i++) {
        g_assert_cmphex(any_io(&t, 2, reads[i]), ==, IO_CONFLICT);
        g_assert_cmphex(any_io(&t, 0, reads[i]), !=, IO_CONFLICT);
    }
    for (int i = 0; i < ARRAY_SIZE(writes); i++) {
        g_assert_cmphex(any_io(&t, 2, writes[i]), ==, IO_CONFLICT);
    }
    g_assert_cmphex(any_io(&t, 2, NVME_CMD_FLUSH), ==, 0);
    clear_all(&t);
    stop(&t);
}

static void test_resv_errors(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    uint32_t gen;

    /*
     * Register: again with the same key is fine (and, as every successful
     * Register, increments the generation), another key is not
     */
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 5), ==, 0);
    gen = le32_to_cpu(status_of(&t).gen);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 5), ==, 0);
    g_assert_cmpuint(le32_to_cpu(status_of(&t).gen), ==, gen + 1);
    g_assert_cmpuint(status_of(&t).regctl, ==, 1);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 6), ==, CONFLICT);
    g_assert_cmphex(reg(&t, 0, 3, 0, 6), ==, INVALID);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER | 1u << 30, 0, 5), ==,
                    INVALID);
    /* Replace needs the current key, unless IEKEY */
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REPLACE, 4, 7), ==, CONFLICT);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REPLACE, 5, 7), ==, 0);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REPLACE | NVME_RESV_IEKEY, 0, 8),
                    ==, 0);
    g_assert_cmpuint(le32_to_cpu(status_of(&t).gen), ==, gen + 3);
    /* Unregister: wrong key, not registered */
    g_assert_cmphex(reg(&t, 0, NVME_RESV_UNREGISTER, 7, 0), ==, CONFLICT);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_UNREGISTER, 0, 0), ==, CONFLICT);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REPLACE, 0, 1), ==, CONFLICT);
    /* Acquire: the type, registration, key */
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, 0, 8, 0), ==, INVALID);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, 7, 8, 0), ==, INVALID);
    g_assert_cmphex(acq(&t, 0, 3, NVME_RESV_WRITE_EXCLUSIVE, 8, 0), ==,
                    INVALID);
    g_assert_cmphex(acq(&t, 1, NVME_RESV_ACQUIRE, 1, 0, 0), ==, CONFLICT);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, 1, 9, 0), ==, CONFLICT);
    /* IEKEY is obsolete outside Register (RESCAP.IEKEY13): refused */
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE | NVME_RESV_IEKEY, 1, 8, 0),
                    ==, INVALID);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE | NVME_RESV_IEKEY, 1, 9, 0),
                    ==, INVALID);
    g_assert_cmpuint(status_of(&t).rtype, ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE, 1, 8, 0), ==, 0);
    g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE | NVME_RESV_IEKEY, 1, 8),
                    ==, INVALID);
    g_assert_cmphex(rel(&t, 0, NVME_RESV_CLEAR | NVME_RESV_IEKEY, 0, 8),
                    ==, INVALID);
    g_assert_cmpuint(status_of(&t).rtype, ==, 1);
    g_assert_cmpuint(status_of(&t).regctl, ==, 1);
    /* Release: the key; a registrant that holds nothing releases nothing */
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 2), ==, 0);
    g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE, 1, 9), ==, CONFLICT);
    g_assert_cmphex(rel(&t, 1, NVME_RESV_RELEASE, 1, 2), ==, 0);
    g_assert_cmpuint(status_of(&t).rtype, ==, 1);
    g_assert_cmphex(rel(&t, 0, 2, 1, 8), ==, INVALID);
    g_assert_cmphex(rel(&t, 2, NVME_RESV_RELEASE, 1, 0), ==, CONFLICT);
    /* Unregistering the holder releases the reservation */
    g_assert_cmphex(reg(&t, 0, NVME_RESV_UNREGISTER, 8, 0), ==, 0);
    g_assert_cmpuint(status_of(&t).rtype, ==, 0);
    g_assert_cmpuint(status_of(&t).regctl, ==, 1);
    clear_all(&t);
    stop(&t);
}

/* The oldest Reservation Notification log page of host */
static NvmeResvNotificationLog notice(Hosts *t, int host)
{
    NvmeResvNotificationLog log;

    g_assert_cmphex(qnvme_get_log(t->h[host], NVME_LOG_RESV_NOTIFICATION, 0,
                                  &log, sizeof(log)), ==, 0);
    return log;
}

static void test_resv_preempt(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    NvmeCmd aer = { .opcode = NVME_ADM_CMD_ASYNC_EV_REQ };
    NvmeResvNotificationLog log;
    NvmeCqe cqe;

    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 1), ==, 0);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 2), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE,
                        NVME_RESV_WRITE_EXCLUSIVE, 1, 0), ==, 0);
    /* Preempting with no key, or one nobody has */
    g_assert_cmphex(acq(&t, 1, NVME_RESV_PREEMPT, NVME_RESV_WRITE_EXCLUSIVE,
                        2, 0), ==, INVALID);
    g_assert_cmphex(acq(&t, 1, NVME_RESV_PREEMPT, NVME_RESV_WRITE_EXCLUSIVE,
                        2, 9), ==, CONFLICT);
    /* B preempts A: A is unregistered and told so (event, then log) */
    qnvme_submit(t.h[0], 0, &aer);
    g_assert_cmphex(acq(&t, 1, NVME_RESV_PREEMPT_ABORT,
                        NVME_RESV_EXCLUSIVE_ACCESS, 2, 1), ==, 0);
    g_assert_true(qnvme_poll(t.h[0], 0, &cqe));
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    NVME_AER_RESULT(NVME_AER_TYPE_IO_SPECIFIC,
                                    NVME_AER_IO_RESV_LOG_AVAILABLE,
                                    NVME_LOG_RESV_NOTIFICATION));
    log = notice(&t, 0);
    g_assert_cmpuint(log.type, ==, NVME_RESV_NOTICE_REG_PREEMPTED);
    g_assert_cmpuint(le32_to_cpu(log.nsid), ==, 1);
    g_assert_cmpuint(le64_to_cpu(log.count), ==, 1);
    g_assert_cmpuint(log.nr_available, ==, 0);
    g_assert_cmpuint(notice(&t, 0).type, ==, NVME_RESV_NOTICE_EMPTY);
    g_assert_cmpuint(status_of(&t).rtype, ==, NVME_RESV_EXCLUSIVE_ACCESS);
    g_assert_cmpuint(status_of(&t).regctl, ==, 1);
    g_assert_cmphex(rd(&t, 0), ==, IO_CONFLICT);

    /* All Registrants: each registrant holds; PRKEY 0 takes over */
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 1), ==, 0);
    g_assert_cmphex(reg(&t, 2, NVME_RESV_REGISTER, 0, 3), ==, 0);
    g_assert_cmphex(rel(&t, 1, NVME_RESV_RELEASE, NVME_RESV_EXCLUSIVE_ACCESS,
                        2), ==, 0);
    g_assert_cmphex(acq(&t, 2, NVME_RESV_ACQUIRE,
                        NVME_RESV_EXCLUSIVE_ACCESS_ALL, 3, 0), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE,
                        NVME_RESV_EXCLUSIVE_ACCESS_ALL, 1, 0), ==, 0);
    g_assert_cmphex(wr(&t, 1), ==, 0);
    /* A removes one registrant by key; the reservation stays */
    g_assert_cmphex(acq(&t, 0, NVME_RESV_PREEMPT,
                        NVME_RESV_EXCLUSIVE_ACCESS_ALL, 1, 3), ==, 0);
    g_assert_cmpuint(status_of(&t).regctl, ==, 2);
    g_assert_cmpuint(status_of(&t).rtype, ==, NVME_RESV_EXCLUSIVE_ACCESS_ALL);
    g_assert_cmphex(rd(&t, 2), ==, IO_CONFLICT);
    /* then everyone else, taking a Write Exclusive one */
    g_assert_cmphex(acq(&t, 0, NVME_RESV_PREEMPT, NVME_RESV_WRITE_EXCLUSIVE,
                        1, 0), ==, 0);
    g_assert_cmpuint(status_of(&t).regctl, ==, 1);
    g_assert_cmpuint(status_of(&t).rtype, ==, NVME_RESV_WRITE_EXCLUSIVE);
    g_assert_cmphex(wr(&t, 1), ==, IO_CONFLICT);
    g_assert_cmphex(rd(&t, 1), ==, 0);
    clear_all(&t);
    stop(&t);
}

/* Released and preempted notices, and the mask that silences them */
static void test_resv_notices(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    NvmeCmd mask = {
        .opcode = NVME_ADM_CMD_SET_FEATURES,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(NVME_FEAT_RESV_NOTIFICATION_MASK),
        .cdw11 = cpu_to_le32(1u << NVME_RESV_NOTICE_RELEASED),
    };
    NvmeCqe cqe;

    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 1), ==, 0);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 2), ==, 0);
    g_assert_cmphex(reg(&t, 2, NVME_RESV_REGISTER, 0, 3), ==, 0);
    g_assert_cmphex(acq(&t, 0, NVME_RESV_ACQUIRE,
                        NVME_RESV_WRITE_EXCLUSIVE_REGS, 1, 0), ==, 0);
    /* C masks "released"; B hears of the release, A (the releaser) not */
    g_assert_cmphex(qnvme_cmd(t.h[2], 0, &mask, NULL), ==, 0);
    g_assert_cmphex(rel(&t, 0, NVME_RESV_RELEASE,
                        NVME_RESV_WRITE_EXCLUSIVE_REGS, 1), ==, 0);
    g_assert_cmpuint(notice(&t, 1).type, ==, NVME_RESV_NOTICE_RELEASED);
    g_assert_cmpuint(notice(&t, 2).type, ==, NVME_RESV_NOTICE_EMPTY);
    g_assert_cmpuint(notice(&t, 0).type, ==, NVME_RESV_NOTICE_EMPTY);
    /* Get Features reads the mask back */
    mask.opcode = NVME_ADM_CMD_GET_FEATURES;
    g_assert_cmphex(qnvme_cmd(t.h[2], 0, &mask, &cqe), ==, 0);
    g_assert_cmphex(le32_to_cpu(cqe.result), ==,
                    1u << NVME_RESV_NOTICE_RELEASED);
    /* Clear: every other registrant is preempted */
    g_assert_cmphex(rel(&t, 0, NVME_RESV_CLEAR, 0, 1), ==, 0);
    g_assert_cmpuint(notice(&t, 1).type, ==, NVME_RESV_NOTICE_PREEMPTED);
    g_assert_cmpuint(notice(&t, 2).type, ==, NVME_RESV_NOTICE_PREEMPTED);
    g_assert_cmpuint(notice(&t, 0).type, ==, NVME_RESV_NOTICE_EMPTY);
    g_assert_cmpuint(status_of(&t).regctl, ==, 0);
    stop(&t);
}

/*
 * resv.state: two copies of 2 KiB, A and B, each with its generation (the
 * copy of generation g is copy g % 2) and a CRC32C of the copy.
 */
#define RSV_COPY        2048
#define RSV_CRC         12
#define RSV_GENERATION  16      /* of the copy */
#define RSV_GEN         24      /* the Reservation generation */
#define RSV_KEY0        84      /* the first registrant's key */

static bool copy_valid(const char *copy, int slot)
{
    g_autofree char *c = g_memdup2(copy, RSV_COPY);
    uint32_t crc = ldl_le_p(c + RSV_CRC);

    stl_le_p(c + RSV_CRC, 0);
    return !memcmp(c, "QNVMERSV", 8) && ldl_le_p(c + 8) == 2 &&
           ldq_le_p(c + RSV_GENERATION) % 2 == slot &&
           crc == crc32c(0xffffffff, (uint8_t *)c, RSV_COPY);
}

/* The copy of the reservation state that a restart would use */
static const char *newest_copy(const char *file, gsize len)
{
    const char *newest = NULL;

    g_assert_cmpuint(len, >=, 2 * RSV_COPY);
    for (int i = 0; i < 2; i++) {
        const char *c = file + i * RSV_COPY;

        if (copy_valid(c, i) &&
            (!newest || ldq_le_p(c + RSV_GENERATION) >
                        ldq_le_p(newest + RSV_GENERATION))) {
            newest = c;
        }
    }
    g_assert_nonnull(newest);
    return newest;
}

/* Persist Through Power Loss: the feature, CPTPL and resv.state */
static void test_resv_ptpl(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree NvmeIdNsInd *ind = g_new0(NvmeIdNsInd, 1);
    g_autofree char *file = NULL;
    NvmeCmd ptpl = {
        .opcode = NVME_ADM_CMD_GET_FEATURES,
        .nsid = cpu_to_le32(1),
        .cdw10 = cpu_to_le32(NVME_FEAT_RESV_PERSISTENCE),
    };
    NvmeCqe cqe;
    gsize len;

    g_assert_cmphex(qnvme_identify(t.h[0], NVME_ID_CNS_NS, 1, 0, id), ==, 0);
    g_assert_cmphex(id->rescap, ==, 0xff);
    /* The I/O Command Set Independent data (CNS 08h) says the same */
    g_assert_cmphex(qnvme_identify(t.h[0], NVME_ID_CNS_NS_INDEPENDENT, 1, 0,
                                   ind), ==, 0);
    g_assert_cmphex(ind->rescap, ==, 0xff);
    g_assert_cmphex(qnvme_identify(t.h[0], NVME_ID_CNS_NS_INDEPENDENT, 2, 0,
                                   ind), ==, 0);
    g_assert_cmphex(ind->rescap, ==, 0xfe);     /* no resv.state: no PTPL */
    g_assert_cmphex(qnvme_cmd(t.h[0], 0, &ptpl, &cqe), ==, 0);
    g_assert_cmpuint(le32_to_cpu(cqe.result), ==, 0);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER | 3u << 30, 0, 0x1234),
                    ==, 0);
    g_assert_cmphex(qnvme_cmd(t.h[0], 0, &ptpl, &cqe), ==, 0);
    g_assert_cmpuint(le32_to_cpu(cqe.result), ==, 1);
    g_assert_cmpuint(status_of(&t).ptpls, ==, 1);
    /* resv.state holds the registrant, durably written already */
    g_assert_true(g_file_get_contents(resv_state, &file, &len, NULL));
    g_assert_cmphex(ldq_le_p(newest_copy(file, len) + RSV_KEY0), ==, 0x1234);
    /* Set Features clears it again */
    ptpl.opcode = NVME_ADM_CMD_SET_FEATURES;
    ptpl.cdw11 = 0;
    g_assert_cmphex(qnvme_cmd(t.h[0], 0, &ptpl, NULL), ==, 0);
    g_assert_cmpuint(status_of(&t).ptpls, ==, 0);
    clear_all(&t);
    stop(&t);
}

/* A zoned command of namespace 2 */
static uint16_t zoned(Hosts *t, int host, uint8_t opcode)
{
    return ns_io(t, host, 2, opcode);
}

/*
 * Zoned Namespace Command Set: Zone Management Receive is in the read
 * group of the command behaviour table, Zone Management Send and Zone
 * Append in the write group.
 */
static void test_resv_zoned(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    NvmeCmd cmd;

    cmd = resv_sqe(&t, t.buf, NVME_CMD_RESV_REGISTER, NVME_RESV_REGISTER,
                   0, 1);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qnvme_cmd(t.h[0], 1, &cmd, NULL), ==, 0);
    cmd = resv_sqe(&t, t.buf, NVME_CMD_RESV_ACQUIRE,
                   NVME_RESV_ACQUIRE | NVME_RESV_WRITE_EXCLUSIVE << 8, 1, 0);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qnvme_cmd(t.h[0], 1, &cmd, NULL), ==, 0);
    /* Write Exclusive: B may read, not write */
    g_assert_cmphex(zoned(&t, 1, NVME_CMD_ZONE_MGMT_RECV), ==, 0);
    g_assert_cmphex(zoned(&t, 1, NVME_CMD_ZONE_MGMT_SEND), ==, IO_CONFLICT);
    g_assert_cmphex(zoned(&t, 1, NVME_CMD_ZONE_APPEND), ==, IO_CONFLICT);
    g_assert_cmphex(zoned(&t, 0, NVME_CMD_ZONE_APPEND), ==, 0);
    g_assert_cmphex(zoned(&t, 0, NVME_CMD_ZONE_MGMT_SEND), ==, 0);
    /* Exclusive Access: not even read */
    cmd = resv_sqe(&t, t.buf, NVME_CMD_RESV_RELEASE,
                   NVME_RESV_RELEASE | NVME_RESV_WRITE_EXCLUSIVE << 8, 1, 0);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qnvme_cmd(t.h[0], 1, &cmd, NULL), ==, 0);
    cmd = resv_sqe(&t, t.buf, NVME_CMD_RESV_ACQUIRE,
                   NVME_RESV_ACQUIRE | NVME_RESV_EXCLUSIVE_ACCESS << 8, 1, 0);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qnvme_cmd(t.h[0], 1, &cmd, NULL), ==, 0);
    g_assert_cmphex(zoned(&t, 1, NVME_CMD_ZONE_MGMT_RECV), ==, IO_CONFLICT);
    g_assert_cmphex(zoned(&t, 0, NVME_CMD_ZONE_MGMT_RECV), ==, 0);
    cmd = resv_sqe(&t, t.buf, NVME_CMD_RESV_RELEASE, NVME_RESV_CLEAR, 1, 0);
    cmd.nsid = cpu_to_le32(2);
    g_assert_cmphex(qnvme_cmd(t.h[0], 1, &cmd, NULL), ==, 0);
    g_assert_cmphex(zoned(&t, 1, NVME_CMD_ZONE_MGMT_RECV), ==, 0);
    stop(&t);
}

/* A reservation command of namespace nsid */
static uint16_t ns_cmd(Hosts *t, int host, uint32_t nsid, uint8_t opcode,
                       uint32_t cdw10, uint64_t key1, uint64_t key2)
{
    NvmeCmd cmd = resv_sqe(t, t->buf, opcode, cdw10, key1, key2);

    cmd.nsid = cpu_to_le32(nsid);
    return qnvme_cmd(t->h[host], 1, &cmd, NULL);
}

/* A read of namespace 3, whose backend takes 200 ms, left outstanding */
static uint16_t slow_read(Hosts *t, int host, uint64_t slba)
{
    NvmeCmd cmd = {
        .opcode = NVME_CMD_READ,
        .nsid = cpu_to_le32(3),
        .dptr.prp1 = cpu_to_le64(t->buf + QNVME_PAGE_SIZE / 2),
        .cdw10 = cpu_to_le32(slba),
    };

    return qnvme_submit(t->h[host], 1, &cmd);
}

/*
 * Preempt and Abort: the preempted host's commands outstanding on the
 * namespace are aborted, the preempting host's are not.
 */
static void test_resv_abort(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    uint16_t b_cid[2], a_cid;
    NvmeCqe cqe;

    g_assert_cmphex(ns_cmd(&t, 1, 3, NVME_CMD_RESV_REGISTER,
                           NVME_RESV_REGISTER, 0, 2), ==, 0);
    g_assert_cmphex(ns_cmd(&t, 1, 3, NVME_CMD_RESV_ACQUIRE,
                           NVME_RESV_ACQUIRE |
                           NVME_RESV_WRITE_EXCLUSIVE << 8, 2, 0), ==, 0);
    g_assert_cmphex(ns_cmd(&t, 0, 3, NVME_CMD_RESV_REGISTER,
                           NVME_RESV_REGISTER, 0, 1), ==, 0);
    b_cid[0] = slow_read(&t, 1, 0);
    b_cid[1] = slow_read(&t, 1, 8);
    a_cid = slow_read(&t, 0, 16);
    /* Let the queues fetch them (the main loop may run qtest first) */
    g_usleep(50 * 1000);
    /*
     * A takes over B's reservation (as Exclusive Access) while the reads
     * wait in the backend: they complete with Command Aborted due to
     * Preempt and Abort.
     */
    g_assert_cmphex(ns_cmd(&t, 0, 3, NVME_CMD_RESV_ACQUIRE,
                           NVME_RESV_PREEMPT_ABORT |
                           NVME_RESV_EXCLUSIVE_ACCESS << 8, 1, 2), ==, 0);
    for (int i = 0; i < 2; i++) {
        g_assert_true(qnvme_poll(t.h[1], 1, &cqe));
        g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, b_cid[i]);
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==,
                        NVME_SC_ABORTED_PREEMPT);
    }
    /* A's read was submitted before its Acquire, so it completes after */
    g_assert_true(qnvme_poll(t.h[0], 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, a_cid);
    g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    /* B is no registrant any more: A's Exclusive Access shuts it out */
    g_assert_cmphex(qnvme_rw(t.h[1], 1, NVME_CMD_READ, 3, 0, 1, t.buf, 0),
                    ==, IO_CONFLICT);
    g_assert_cmphex(qnvme_rw(t.h[0], 1, NVME_CMD_READ, 3, 0, 1, t.buf, 0),
                    ==, 0);
    g_assert_cmphex(ns_cmd(&t, 0, 3, NVME_CMD_RESV_RELEASE, NVME_RESV_CLEAR,
                           1, 0), ==, 0);
    stop(&t);
}

/*
 * Several Registers of one host in one doorbell write: each completes
 * once resv.state holds its change, so the file ends with the last key
 * and the latest generation, whatever order the writes could finish in.
 */
static void test_resv_batch(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    QNvme *n = t.h[0];
    QNvmeQueue *sq = &n->sq[1];
    uint64_t keys = qnvme_alloc(n, QNVME_PAGE_SIZE);
    g_autofree char *file = NULL;
    const char *copy;
    enum { NR = 8 };
    uint32_t gen;
    NvmeCqe cqe;
    gsize len;

    gen = le32_to_cpu(status_of(&t).gen);
    for (int i = 0; i < NR; i++) {
        NvmeCmd cmd = resv_sqe(&t, keys + 16 * i, NVME_CMD_RESV_REGISTER,
                               i ? NVME_RESV_REPLACE
                                 : NVME_RESV_REGISTER | 3u << 30,
                               0x100 + i - 1, 0x100 + i);

        cmd.cid = cpu_to_le16(++n->next_cid);
        qtest_memwrite(t.qts, sq->addr + sq->index * sizeof(cmd), &cmd,
                       sizeof(cmd));
        sq->index = (sq->index + 1) % sq->size;
    }
    qnvme_writel(n, NVME_REG_DBS + 8, sq->index);
    for (int i = 0; i < NR; i++) {
        g_assert_true(qnvme_poll(n, 1, &cqe));
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
    }
    g_assert_cmpuint(le32_to_cpu(status_of(&t).gen), ==, gen + NR);
    /* The file: the last key, not the one before, and the generation */
    g_assert_true(g_file_get_contents(resv_state, &file, &len, NULL));
    copy = newest_copy(file, len);
    g_assert_cmpuint(ldl_le_p(copy + RSV_GEN), ==, gen + NR);
    g_assert_cmphex(ldq_le_p(copy + RSV_KEY0), ==, 0x107);
    clear_all(&t);
    stop(&t);
}

static uint16_t cntlid_of(QNvme *n)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    return le16_to_cpu(id->cntlid);
}

/*
 * A host registers once, through any of its controllers: the report lists
 * each of its controllers (Registered Controller data structures), and
 * all of them hold the reservation it acquires.
 */
static void test_resv_report_multipath(void *obj, void *data,
                                       QGuestAllocator *a)
{
    Hosts t = start(obj);
    QNvme *d = qnvme_open_slot(t.h[0], 7);
    struct QEMU_PACKED {
        NvmeResvStatus st;
        NvmeResvController c[4];
    } r;
    uint16_t b, bd;

    qnvme_start_with_io_queue(d);
    b = cntlid_of(t.h[1]);
    bd = cntlid_of(d);
    g_assert_cmphex(reg(&t, 1, NVME_RESV_REGISTER, 0, 0xb), ==, 0);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER, 0, 0xa), ==, 0);
    g_assert_cmphex(acq(&t, 1, NVME_RESV_ACQUIRE,
                        NVME_RESV_WRITE_EXCLUSIVE, 0xb, 0), ==, 0);
    g_assert_cmphex(report(&t, 0, false, &r, sizeof(r)), ==, 0);
    g_assert_cmpuint(le16_to_cpu(r.st.regctl), ==, 3);
    /* Host B's two controllers, in controller order, then host A's */
    g_assert_cmpuint(le16_to_cpu(r.c[0].cntlid), ==, MIN(b, bd));
    g_assert_cmpuint(le16_to_cpu(r.c[1].cntlid), ==, MAX(b, bd));
    g_assert_cmpuint(le16_to_cpu(r.c[2].cntlid), ==, cntlid_of(t.h[0]));
    for (int i = 0; i < 2; i++) {
        g_assert_cmpuint(r.c[i].rcsts, ==, 1);
        g_assert_cmphex(le64_to_cpu(r.c[i].rkey), ==, 0xb);
        g_assert_cmpmem(&r.c[i].hostid, 8,
                        "\x00\x00\x00\x00\x00\x00\x00\x02", 8);
    }
    g_assert_cmpuint(r.c[2].rcsts, ==, 0);
    g_assert_cmphex(le64_to_cpu(r.c[2].rkey), ==, 0xa);
    /* B's other controller writes as the holder; C may not */
    g_assert_cmphex(qnvme_rw(d, 1, NVME_CMD_WRITE, 1, 0, 1, t.buf, 0), ==, 0);
    g_assert_cmphex(wr(&t, 2), ==, IO_CONFLICT);
    /* A report shorter than the list still counts every controller */
    g_assert_cmphex(report(&t, 0, false, &r,
                           sizeof(r.st) + sizeof(r.c[0])), ==, 0);
    g_assert_cmpuint(le16_to_cpu(r.st.regctl), ==, 3);
    clear_all(&t);
    qnvme_close(d);
    stop(&t);
}

/* Node d4: the data of the namespaces 4 the tests below plug */
static void add_d4(Hosts *t)
{
    qtest_qmp_assert_success(t->qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'d4', 'file': {'driver': 'file', "
                             "'filename': %s}}}",
                             qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
}

/* Namespace 4 on A's controller, resv.state from path: NULL, or why not */
static char *plug_ns4(Hosts *t, const char *path)
{
    char *err = NULL;
    QDict *rsp;

    qtest_qmp_assert_success(t->qts, "{'execute': 'blockdev-add', "
                             "'arguments': {'driver': 'raw', 'node-name': "
                             "'rs4', 'file': {'driver': 'file', "
                             "'filename': %s}}}", path);
    rsp = qtest_qmp(t->qts, "{'execute': 'device_add', 'arguments': "
                    "{'driver': 'nvme-ns', 'id': 'ns4', 'drive': 'd4', "
                    "'bus': 'nvme0', 'nsid': 4, 'resv.state': 'rs4'}}");
    if (qdict_haskey(rsp, "error")) {
        err = g_strdup(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                     "desc"));
        qtest_qmp_assert_success(t->qts, "{'execute': 'blockdev-del', "
                                 "'arguments': {'node-name': 'rs4'}}");
    }
    qobject_unref(rsp);
    return err;
}

static void unplug_ns4(Hosts *t)
{
    qtest_qmp_device_del(t->qts, "ns4");
    qtest_qmp_assert_success(t->qts, "{'execute': 'blockdev-del', "
                             "'arguments': {'node-name': 'rs4'}}");
}

/* Namespace 4's reservation status; *key: its first registrant's key */
static NvmeResvStatus ns4_status(Hosts *t, uint64_t *key)
{
    struct QEMU_PACKED {
        NvmeResvStatus st;
        NvmeResvController c[1];
    } r;
    NvmeCmd cmd = {
        .opcode = NVME_CMD_RESV_REPORT,
        .nsid = cpu_to_le32(4),
        .dptr.prp1 = cpu_to_le64(t->buf),
        .cdw10 = cpu_to_le32(sizeof(r) / 4 - 1),
    };

    qtest_memset(t->qts, t->buf, 0, sizeof(r));
    g_assert_cmphex(qnvme_cmd(t->h[0], 1, &cmd, NULL), ==, 0);
    qtest_memread(t->qts, t->buf, &r, sizeof(r));
    *key = le64_to_cpu(r.c[0].rkey);
    return r.st;
}

/* A's key in namespace 4 plugged with a resv.state of these contents */
static uint64_t key_from(Hosts *t, const char *contents, gsize len)
{
    char *path = qnvme_tmp_image(len);
    uint64_t key;

    g_assert_true(g_file_set_contents(path, contents, len, NULL));
    g_assert_null(plug_ns4(t, path));
    ns4_status(t, &key);
    unplug_ns4(t);
    return key;
}

/*
 * resv.state holds two copies that check themselves: a damaged or torn
 * one is not trusted, the other one is used; with neither valid, the
 * namespace is refused, and so is a QEMU started with it.
 */
static void test_resv_copies(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    g_autofree char *file = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *err = NULL;
    g_autofree char *args = NULL;
    char *path;
    gsize len;

    add_d4(&t);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REGISTER | 3u << 30, 0, 0x1234),
                    ==, 0);
    g_assert_cmphex(reg(&t, 0, NVME_RESV_REPLACE, 0x1234, 0x5678), ==, 0);
    /* Generation 1 went to copy B, generation 2 to copy A */
    g_assert_true(g_file_get_contents(resv_state, &file, &len, NULL));
    g_assert_true(newest_copy(file, len) == file);
    g_assert_cmpuint(ldq_le_p(file + RSV_GENERATION), ==, 2);
    g_assert_cmphex(ldq_le_p(file + RSV_KEY0), ==, 0x5678);
    g_assert_true(copy_valid(file + RSV_COPY, 1));
    g_assert_cmphex(ldq_le_p(file + RSV_COPY + RSV_KEY0), ==, 0x1234);
    g_assert_cmphex(key_from(&t, file, len), ==, 0x5678);

    /* Generation 3 torn over copy B: its header, not the rest */
    bad = g_memdup2(file, len);
    stq_le_p(bad + RSV_COPY + RSV_GENERATION, 3);
    stq_le_p(bad + RSV_COPY + RSV_KEY0, 0x9abc);
    g_assert_cmphex(key_from(&t, bad, len), ==, 0x5678);
    /* Garbage in the newest copy: the one before is used */
    memcpy(bad, file, len);
    memset(bad + 512, 0xa5, 512);
    g_assert_cmphex(key_from(&t, bad, len), ==, 0x1234);
    /* Garbage in the older copy */
    memcpy(bad, file, len);
    memset(bad + RSV_COPY + 40, 0xa5, 100);
    g_assert_cmphex(key_from(&t, bad, len), ==, 0x5678);

    /* Both damaged: no state is trusted */
    memset(bad + 40, 0xa5, 100);
    path = qnvme_tmp_image(len);
    g_assert_true(g_file_set_contents(path, bad, len, NULL));
    err = plug_ns4(&t, path);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, "resv.state: no valid copy of the "
                            "reservation state"));
    args = g_strdup_printf("-M pc -drive if=none,id=d,format=raw,file=%s "
                           "-drive if=none,id=s,format=raw,file=%s "
                           "-device nvme,id=nf,serial=f "
                           "-device nvme-ns,bus=nf,drive=d,nsid=1,"
                           "resv.state=s",
                           qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE), path);
    qnvme_expect_start_failure(args, "resv.state: no valid copy of the "
                               "reservation state");
    clear_all(&t);
    stop(&t);
}

/*
 * A resv.state of the release before (one copy, no checksum) is read; the
 * next save goes to copy B and leaves it readable until that is whole. A
 * new file whose first save (to copy B) was torn holds the empty state.
 */
static void test_resv_old_format(void *obj, void *data, QGuestAllocator *a)
{
    Hosts t = start(obj);
    g_autofree char *v1 = g_malloc0(4096);
    g_autofree char *file = NULL;
    char *path = qnvme_tmp_image(4096);
    NvmeResvStatus st;
    uint64_t key;
    gsize len;

    add_d4(&t);
    memcpy(v1, "QNVMERSV", 8);
    stl_le_p(v1 + 8, 1);            /* version */
    stl_le_p(v1 + 12, 7);           /* Reservation generation */
    v1[17] = 1;                     /* PTPL */
    stw_le_p(v1 + 18, 1);           /* one registrant: A, key 0x77 */
    v1[48 + 7] = 1;
    stq_le_p(v1 + 72, 0x77);
    g_assert_true(g_file_set_contents(path, v1, 4096, NULL));
    g_assert_null(plug_ns4(&t, path));
    st = ns4_status(&t, &key);
    g_assert_cmpuint(le32_to_cpu(st.gen), ==, 7);
    g_assert_cmpuint(st.ptpls, ==, 1);
    g_assert_cmpuint(le16_to_cpu(st.regctl), ==, 1);
    g_assert_cmphex(key, ==, 0x77);
    g_assert_cmphex(ns_cmd(&t, 0, 4, NVME_CMD_RESV_REGISTER,
                           NVME_RESV_REPLACE, 0x77, 0x88), ==, 0);
    unplug_ns4(&t);
    g_assert_true(g_file_get_contents(path, &file, &len, NULL));
    g_assert_true(newest_copy(file, len) == file + RSV_COPY);
    g_assert_cmpuint(ldq_le_p(file + RSV_COPY + RSV_GENERATION), ==, 1);
    g_assert_cmpuint(ldl_le_p(file + RSV_COPY + RSV_GEN), ==, 8);
    g_assert_cmphex(ldq_le_p(file + RSV_COPY + RSV_KEY0), ==, 0x88);
    g_assert_cmpmem(file, RSV_COPY, v1, RSV_COPY);
    g_assert_cmphex(key_from(&t, file, len), ==, 0x88);

    /* A new file, its first save torn: nothing was saved */
    memset(v1, 0, 4096);
    memset(v1 + RSV_COPY, 0xa5, 512);
    path = qnvme_tmp_image(4096);
    g_assert_true(g_file_set_contents(path, v1, 4096, NULL));
    g_assert_null(plug_ns4(&t, path));
    st = ns4_status(&t, &key);
    g_assert_cmpuint(st.regctl, ==, 0);
    g_assert_cmpuint(st.ptpls, ==, 0);
    unplug_ns4(&t);
    stop(&t);
}

static void register_nvme_resv_tests(void)
{
    QOSGraphTestOptions opts = { .before = resv_setup };
    QOSGraphTestOptions io = { .before = resv_iothread_setup };

    qos_add_test("resv-scenario", "nvme-resv", test_resv_scenario, &opts);
    qos_add_test("resv-types", "nvme-resv", test_resv_types, &opts);
    qos_add_test("resv-report-multipath", "nvme-resv",
                 test_resv_report_multipath,
                 &(QOSGraphTestOptions) { .before = resv_multipath_setup });
    qos_add_test("resv-command-groups", "nvme-resv", test_resv_command_groups,
                 &opts);
    qos_add_test("resv-errors", "nvme-resv", test_resv_errors, &opts);
    qos_add_test("resv-preempt", "nvme-resv", test_resv_preempt, &opts);
    qos_add_test("resv-notices", "nvme-resv", test_resv_notices, &opts);
    qos_add_test("resv-ptpl", "nvme-resv", test_resv_ptpl, &opts);
    qos_add_test("resv-zoned", "nvme-resv", test_resv_zoned, &opts);
    qos_add_test("resv-batch", "nvme-resv", test_resv_batch, &opts);
    qos_add_test("resv-abort", "nvme-resv", test_resv_abort, &opts);
    qos_add_test("resv-copies", "nvme-resv", test_resv_copies, &opts);
    qos_add_test("resv-old-format", "nvme-resv", test_resv_old_format,
                 &opts);
    qos_add_test("iothread-resv-preempt", "nvme-resv", test_resv_preempt,
                 &io);
    qos_add_test("iothread-resv-notices", "nvme-resv", test_resv_notices,
                 &io);
    qos_add_test("iothread-resv-ptpl", "nvme-resv", test_resv_ptpl, &io);
    qos_add_test("iothread-resv-batch", "nvme-resv", test_resv_batch, &io);
    qos_add_test("iothread-resv-abort", "nvme-resv", test_resv_abort, &io);
}

libqos_init(register_nvme_resv_tests);
