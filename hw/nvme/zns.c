/*
 * NVMe device model: the Zoned Namespace Command Set (CSI 02h).
 *
 * A zoned namespace is cut into zones of zoned.zone_size bytes, each to be
 * written sequentially from its write pointer, with zoned.zone_capacity
 * writable bytes. Written from the NVM Express Zoned Namespace Command Set
 * Specification 1.1.
 *
 * Three write pointers per zone. wp moves when a write is accepted, so
 * the next one queued behind it is checked against it. wp_done is where
 * the writes completed so far end without a gap: the start of the oldest
 * write still in flight, or wp, and never past a write that failed.
 * wp_durable is the wp_done some flush of the namespace's backend covered;
 * only it is persisted, so that after a crash a zone never claims data
 * that did not reach the backend.
 *
 * A zone opened with a Zone Random Write Area (Zoned 1.1, ZRWA) takes
 * writes anywhere in the zoned.zrwas bytes from its write pointer, in any
 * order and over each other; the pointer (what is committed) moves only
 * with a Flush Explicit ZRWA Range, with a write into the next zoned.zrwas
 * bytes (an implicit flush, by multiples of zoned.zrwafg), or when the
 * zone is finished. Only committed pointers are persisted: what sits in
 * the area uncommitted may be lost with a crash. Its writes in flight are
 * in no order, so wp_done is below the lowest of them (writes_unordered).
 *
 * zoned.state is written by one save at a time (nvme_zns_save_*): each
 * save flushes the namespace's data, then writes the records of every
 * zone and flushes them, and completes the requests that were waiting
 * when it started; requests that arrive meanwhile wait for the next one.
 * The records are kept twice, each copy with a generation and a CRC32C;
 * a save writes over the older copy, so a torn write leaves the newer
 * one intact. A zone being reset keeps its old record until the zeroing
 * of its blocks completed before a save began: "empty" is never recorded
 * over data still there.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qemu/crc32c.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/*
 * Where the zone state backend keeps what (docs/system/devices/nvme.rst):
 * a header at offset 0 (its own 4 KiB), two copies of the zone records
 * from header.records, copy_size bytes apart, and the descriptor
 * extensions at header.ext. Version 1 had one unchecked copy at 4096 and
 * the extensions after it: such a file is loaded and converted, the
 * extensions staying where they are and the copies going after them.
 */
#define NVME_ZS_MAGIC           "QNVMEZNS"
#define NVME_ZS_VERSION_V1      1
#define NVME_ZS_VERSION         2
#define NVME_ZS_HEADER_SIZE     4096
#define NVME_ZS_RECORDS_V1      4096    /* version 1: the records */
#define NVME_ZS_COPY_MAGIC      "QNVMEZRC"

typedef struct QEMU_PACKED NvmeZoneStateHeader {
    char magic[8];
    uint32_t version;
    uint32_t crc;               /* CRC32C of the header, crc 0; v1: 0 */
    uint64_t zone_size;         /* bytes */
    uint64_t zone_cap;          /* bytes */
    uint32_t nr_zones;
    uint32_t descr_ext_size;
    /* Version 2 */
    uint64_t records;           /* offset of copy A, 4 KiB aligned */
    uint64_t ext;               /* offset of the descriptor extensions */
} NvmeZoneStateHeader;

#define NVME_ZS_HEADER_V1_SIZE  offsetof(NvmeZoneStateHeader, records)

/*
 * Each copy: this header, then the records. A save of generation g writes
 * copy g % 2; the CRC32C covers the header (crc 0) and the records.
 */
typedef struct QEMU_PACKED NvmeZoneRecordsHeader {
    char magic[8];
    uint64_t generation;
    uint32_t crc;
    uint32_t nr_zones;
    uint8_t rsvd24[40];
} NvmeZoneRecordsHeader;

/*
 * One record per zone, the write pointer in bytes so that Format NVM to
 * another LBA size keeps it valid; 16 bytes never straddle a sector.
 */
typedef struct QEMU_PACKED NvmeZoneRecord {
    uint8_t state;
    uint8_t attrs;
    uint8_t rsvd2[2];
    uint32_t ext_crc;           /* CRC32C of the extension, when valid */
    uint64_t wp;
} NvmeZoneRecord;

typedef struct NvmeZone {
    uint64_t zslba;
    uint64_t wp;            /* next LBA a write may start at */
    uint64_t wp_done;       /* completed writes end here, without a gap */
    uint64_t wp_failed;     /* a failed write started here; UINT64_MAX */
    uint64_t wp_saving;     /* wp_done when the running save began */
    uint64_t wp_durable;    /* what a save may record */
    uint64_t open_seq;      /* order of implicit opens: oldest closes first */
    QTAILQ_HEAD(, NvmeRequest) writes;  /* in flight, in LBA order */
    bool writes_unordered;  /* ZRWA writes among them: in any order */
    uint8_t state;
    uint8_t attrs;
    bool ext_durable;       /* its descriptor extension is in zoned.state */
    uint32_t ext_crc;       /* of its descriptor extension */
    uint32_t resetting;     /* resets whose zeroing has not completed */
    bool save_skip;         /* resetting when the running save began */
} NvmeZone;

struct NvmeZoned {
    NvmeZonedParams *params;
    uint64_t zsze;          /* zone size, LBAs */
    uint64_t zcap;          /* zone capacity, LBAs */
    uint32_t nr_zones;
    uint32_t nr_active;
    uint32_t nr_open;
    uint32_t nr_zrwa;       /* zones with a ZRWA (attribute ZRWAV) */
    uint64_t zrwas;         /* ZRWA size, LBAs */
    uint64_t zrwafg;        /* ZRWA flush granularity, LBAs */
    uint64_t open_seq;
    NvmeZone *zones;
    uint8_t *ext;           /* descriptor extensions, descr_ext_size each */
    NvmeIdNsZoned id;
    /* Changed Zone List log, until read */
    uint64_t changed[NVME_CHANGED_ZONES_MAX];
    uint32_t nr_changed;
    /* Saving zoned.state: requests waiting for the next save, and its own */
    QTAILQ_HEAD(, NvmeRequest) save_waiting;
    QTAILQ_HEAD(, NvmeRequest) save_running;
    bool saving;
    bool save_again;        /* a save without a request was asked for */
    uint32_t saves_started; /* counts, for a shutdown to wait on */
    uint32_t saves_done;
    /* zoned.state layout, and the generation of its newest copy */
    uint64_t records_offset;
    uint64_t ext_offset;
    uint64_t copy_size;
    uint64_t generation;
    uint64_t save_generation;   /* of the copy the running save writes */
    uint8_t *save_buf;      /* the copy the running save writes */
    QEMUIOVector save_qiov;
};

static NvmeZone *nvme_zone_of(NvmeZoned *z, uint64_t lba)
{
    return &z->zones[lba / z->zsze];
}

static uint16_t nvme_zns_error(NvmeRequest *req, uint16_t status,
                               uint64_t zslba, const char *why)
{
    trace_nvme_zns_error(le16_to_cpu(req->cmd.cid), zslba, status);
    return nvme_cmd_error(req, status, why);
}

static bool nvme_zone_is_open(NvmeZone *zone)
{
    return zone->state == NVME_ZONE_STATE_IMPLICITLY_OPEN ||
           zone->state == NVME_ZONE_STATE_EXPLICITLY_OPEN;
}

static bool nvme_zone_is_active(NvmeZone *zone)
{
    return nvme_zone_is_open(zone) || zone->state == NVME_ZONE_STATE_CLOSED;
}

/*
 * Moves zone to state, keeping the active and open counts. A zone that is
 * no longer active gives its ZRWA back (Zoned, Zone Random Write Area:
 * full, empty, read only and offline zones have none).
 */
static void nvme_zone_set_state(NvmeZoned *z, NvmeZone *zone, uint8_t state)
{
    z->nr_active -= nvme_zone_is_active(zone);
    z->nr_open -= nvme_zone_is_open(zone);
    zone->state = state;
    z->nr_active += nvme_zone_is_active(zone);
    z->nr_open += nvme_zone_is_open(zone);
    if (!nvme_zone_is_active(zone) && (zone->attrs & NVME_ZA_ZRWA_VALID)) {
        zone->attrs &= ~NVME_ZA_ZRWA_VALID;
        z->nr_zrwa--;
    }
    if (state == NVME_ZONE_STATE_IMPLICITLY_OPEN) {
        zone->open_seq = ++z->open_seq;
    }
}

/* The status for a zone that no command may write or change */
static uint16_t nvme_zone_unusable(NvmeZone *zone)
{
    switch (zone->state) {
    case NVME_ZONE_STATE_READ_ONLY:
        return NVME_SC_ZONE_IS_READ_ONLY | NVME_SC_DNR;
    case NVME_ZONE_STATE_OFFLINE:
        return NVME_SC_ZONE_IS_OFFLINE | NVME_SC_DNR;
    default:
        return NVME_SC_SUCCESS;
    }
}

static bool nvme_zns_has_active(NvmeZoned *z, uint32_t more)
{
    return !z->params->max_active ||
           z->nr_active + more <= z->params->max_active;
}

/*
 * Frees an open resource for zone if the limit is reached, by closing the
 * implicitly opened zone opened longest ago (Zoned 2.1.1.4.1), unless the
 * controller's zoned.auto_transition is off (auto_close false).
 */
static bool nvme_zns_make_open_room(NvmeZoned *z, bool auto_close)
{
    NvmeZone *victim = NULL;

    if (!z->params->max_open || z->nr_open < z->params->max_open) {
        return true;
    }
    if (!auto_close) {
        return false;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];

        if (zone->state == NVME_ZONE_STATE_IMPLICITLY_OPEN &&
            (!victim || zone->open_seq < victim->open_seq)) {
            victim = zone;
        }
    }
    if (!victim) {
        return false;
    }
    nvme_zone_set_state(z, victim, NVME_ZONE_STATE_CLOSED);
    return true;
}

/*
 * Opens zone (implicitly for a write, explicitly for Open Zone), taking
 * the active and open resources it needs.
 */
static uint16_t nvme_zone_open(NvmeZoned *z, NvmeZone *zone, bool explicit,
                               bool auto_close)
{
    uint8_t to = explicit ? NVME_ZONE_STATE_EXPLICITLY_OPEN
                          : NVME_ZONE_STATE_IMPLICITLY_OPEN;

    switch (zone->state) {
    case NVME_ZONE_STATE_EXPLICITLY_OPEN:
        return NVME_SC_SUCCESS;
    case NVME_ZONE_STATE_IMPLICITLY_OPEN:
        nvme_zone_set_state(z, zone, explicit ? to : zone->state);
        return NVME_SC_SUCCESS;
    case NVME_ZONE_STATE_EMPTY:
        if (!nvme_zns_has_active(z, 1)) {
            return NVME_SC_TOO_MANY_ACTIVE_ZONES | NVME_SC_DNR;
        }
        /* fall through */
    case NVME_ZONE_STATE_CLOSED:
        if (!nvme_zns_make_open_room(z, auto_close)) {
            return NVME_SC_TOO_MANY_OPEN_ZONES | NVME_SC_DNR;
        }
        nvme_zone_set_state(z, zone, to);
        return NVME_SC_SUCCESS;
    case NVME_ZONE_STATE_FULL:
        return explicit ? NVME_SC_INVALID_ZONE_TRANSITION | NVME_SC_DNR
                        : NVME_SC_ZONE_IS_FULL | NVME_SC_DNR;
    default:
        return nvme_zone_unusable(zone);
    }
}

static void nvme_zns_changed(NvmeZoned *z, NvmeZone *zone)
{
    if (z->nr_changed < NVME_CHANGED_ZONES_MAX) {
        z->changed[z->nr_changed] = zone->zslba;
    }
    z->nr_changed++;
}

/* Read, Compare and Verify: Zone Is Offline, and the boundary rule */
uint16_t nvme_zns_read_check(NvmeRequest *req, uint64_t slba, uint32_t nlb)
{
    NvmeZoned *z = req->ns->zns;
    uint64_t last = slba + nlb - 1;

    if (!z->params->cross_read &&
        slba / z->zsze != last / z->zsze) {
        return nvme_zns_error(req, NVME_SC_ZONE_BOUNDARY_ERROR | NVME_SC_DNR,
                              slba, "read across a zone boundary");
    }
    for (uint64_t i = slba / z->zsze; i <= last / z->zsze; i++) {
        if (z->zones[i].state == NVME_ZONE_STATE_OFFLINE) {
            return nvme_zns_error(req, NVME_SC_ZONE_IS_OFFLINE | NVME_SC_DNR,
                                  z->zones[i].zslba, "read of an offline zone");
        }
    }
    return NVME_SC_SUCCESS;
}

/*
 * A write that ends at end, beyond the ZRWA, commits the area's first
 * blocks, by multiples of the flush granularity, until the ZRWA holds it
 * (Zoned, Implicit ZRWA Flush); never beyond the capacity.
 */
static void nvme_zone_zrwa_implicit_flush(NvmeNamespace *ns, NvmeZone *zone,
                                          uint64_t end)
{
    NvmeZoned *z = ns->zns;

    if (end <= zone->wp + z->zrwas) {
        return;
    }
    zone->wp = MIN(zone->wp + ROUND_UP(end - zone->wp - z->zrwas, z->zrwafg),
                   zone->zslba + z->zcap);
    trace_nvme_zns_zrwa_flush(ns->nsid, zone->zslba, zone->wp, true);
}

uint16_t nvme_zns_write_begin(NvmeRequest *req, uint64_t slba, uint32_t nlb)
{
    NvmeZoned *z = req->ns->zns;
    NvmeZone *zone = nvme_zone_of(z, slba);
    bool zrwa = zone->attrs & NVME_ZA_ZRWA_VALID;
    uint16_t status = nvme_zone_unusable(zone);

    if (status) {
        return nvme_zns_error(req, status, zone->zslba, "zone not writable");
    }
    if (zone->state == NVME_ZONE_STATE_FULL) {
        return nvme_zns_error(req, NVME_SC_ZONE_IS_FULL | NVME_SC_DNR,
                              zone->zslba, "write to a full zone");
    }
    if (slba + nlb > zone->zslba + z->zcap) {
        return nvme_zns_error(req, NVME_SC_ZONE_BOUNDARY_ERROR | NVME_SC_DNR,
                              zone->zslba, "write beyond the zone capacity");
    }
    if (zrwa && (slba < zone->wp || slba + nlb > zone->wp + 2 * z->zrwas)) {
        return nvme_zns_error(req, NVME_SC_ZONE_INVALID_WRITE | NVME_SC_DNR,
                              zone->zslba, "write outside the ZRWA and its "
                              "implicit flush range");
    }
    if (!zrwa && slba != zone->wp) {
        return nvme_zns_error(req, NVME_SC_ZONE_INVALID_WRITE | NVME_SC_DNR,
                              zone->zslba, "write not at the write pointer");
    }
    status = nvme_zone_open(z, zone, false,
                            nvme_req_ctrl(req)->params.auto_transition);
    if (status) {
        return nvme_zns_error(req, status, zone->zslba, "no zone resources");
    }
    QTAILQ_INSERT_TAIL(&zone->writes, req, zone_entry);
    if (zrwa) {
        zone->writes_unordered = true;
        nvme_zone_zrwa_implicit_flush(req->ns, zone, slba + nlb);
    } else {
        zone->wp += nlb;
    }
    if (zone->wp == zone->zslba + z->zcap) {
        nvme_zone_set_state(z, zone, NVME_ZONE_STATE_FULL);
    }
    trace_nvme_zns_write(req->ns->nsid, zone->zslba, slba, nlb, zone->state);
    return NVME_SC_SUCCESS;
}

/* Zone state persistence (zoned.state) */

/* The CRC32C of buf, continuing crc (0 to start one) */
static uint32_t nvme_zns_crc(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    do {
        unsigned int n = MIN(len, 1 * GiB);

        /* crc32c() takes the register, and returns it inverted */
        crc = crc32c(crc ^ 0xffffffff, p, n);
        p += n;
        len -= n;
    } while (len);
    return crc;
}

/* What a save writes of a copy: its header and records, whole sectors */
static size_t nvme_zns_copy_len(NvmeZoned *z)
{
    return QEMU_ALIGN_UP(sizeof(NvmeZoneRecordsHeader) +
                         (size_t)z->nr_zones * sizeof(NvmeZoneRecord),
                         BDRV_SECTOR_SIZE);
}

static NvmeZoneRecord *nvme_zns_records(uint8_t *copy)
{
    return (NvmeZoneRecord *)(copy + sizeof(NvmeZoneRecordsHeader));
}

static uint32_t nvme_zns_copy_crc(NvmeZoned *z, const uint8_t *copy)
{
    NvmeZoneRecordsHeader h;
    uint32_t crc;

    memcpy(&h, copy, sizeof(h));
    h.crc = 0;
    crc = nvme_zns_crc(0, &h, sizeof(h));
    return nvme_zns_crc(crc, copy + sizeof(h),
                        (size_t)z->nr_zones * sizeof(NvmeZoneRecord));
}

static uint64_t nvme_zns_copy_generation(const uint8_t *copy)
{
    return ldq_le_p(copy + offsetof(NvmeZoneRecordsHeader, generation));
}

/* The copy at copy checks itself and sits where its generation says */
static bool nvme_zns_copy_valid(NvmeZoned *z, const uint8_t *copy,
                                unsigned slot)
{
    const NvmeZoneRecordsHeader *h = (const NvmeZoneRecordsHeader *)copy;

    return !memcmp(h->magic, NVME_ZS_COPY_MAGIC, sizeof(h->magic)) &&
           le32_to_cpu(h->nr_zones) == z->nr_zones &&
           le64_to_cpu(h->generation) % 2 == slot &&
           le32_to_cpu(h->crc) == nvme_zns_copy_crc(z, copy);
}

static uint32_t nvme_zns_ext_crc(NvmeZoned *z, uint32_t zidx)
{
    size_t size = z->params->descr_ext_size;

    return nvme_zns_crc(0, z->ext + zidx * size, size);
}

/*
 * What a restart should find, from the durable pointers: a zone that is
 * full only because writes still in flight or not yet flushed fill it is
 * recorded closed (or empty) where its durable data ends. A zone being
 * reset, now or when the save began (its flush may not cover the
 * zeroing), keeps the record it had in save_buf.
 */
static void nvme_zns_snapshot(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    NvmeZoneRecord *rec = nvme_zns_records(z->save_buf);

    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];
        uint8_t state = zone->state;
        uint64_t wp = zone->wp_durable;

        if (zone->save_skip || zone->resetting) {
            continue;
        }
        if (state == NVME_ZONE_STATE_FULL && wp < zone->zslba + z->zcap) {
            state = NVME_ZONE_STATE_CLOSED;
        }
        memset(&rec[i], 0, sizeof(rec[i]));
        rec[i].state = state;
        rec[i].attrs = zone->attrs;
        if (!zone->ext_durable) {
            rec[i].attrs &= ~NVME_ZA_ZD_EXT_VALID;
        }
        if (rec[i].attrs & NVME_ZA_ZD_EXT_VALID) {
            rec[i].ext_crc = cpu_to_le32(zone->ext_crc);
        }
        rec[i].wp = cpu_to_le64(wp << ns->lba_bits);
    }
}

/* Seals save_buf as copy generation; returns where it goes */
static uint64_t nvme_zns_seal(NvmeZoned *z, uint64_t generation)
{
    NvmeZoneRecordsHeader *h = (NvmeZoneRecordsHeader *)z->save_buf;

    memset(h, 0, sizeof(*h));
    memcpy(h->magic, NVME_ZS_COPY_MAGIC, sizeof(h->magic));
    h->generation = cpu_to_le64(generation);
    h->nr_zones = cpu_to_le32(z->nr_zones);
    h->crc = cpu_to_le32(nvme_zns_copy_crc(z, z->save_buf));
    return z->records_offset + (generation % 2) * z->copy_size;
}

/* A zone still being zeroed by a reset keeps its old record for now */
static void nvme_zns_mark_resetting(NvmeZoned *z)
{
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        z->zones[i].save_skip = z->zones[i].resetting > 0;
    }
}

/*
 * Writes and flushes the records at once, outside the asynchronous saves:
 * at setup, and in a drained namespace (no save running).
 */
static int nvme_zns_save_now(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    uint64_t generation = z->generation + 1;
    uint64_t offset;
    int ret;

    nvme_zns_mark_resetting(z);
    nvme_zns_snapshot(ns);
    offset = nvme_zns_seal(z, generation);
    ret = blk_pwrite(ns->zone_state, offset, nvme_zns_copy_len(z),
                     z->save_buf, 0);
    if (ret >= 0) {
        ret = blk_flush(ns->zone_state);
    }
    if (ret < 0) {
        trace_nvme_zns_persist_failed(ns->nsid, ret);
        return ret;
    }
    z->generation = generation;
    return 0;
}

static void nvme_zns_save_start(NvmeNamespace *ns);

static void nvme_zns_save_done(NvmeNamespace *ns, int ret, uint16_t status)
{
    NvmeZoned *z = ns->zns;
    NvmeRequest *req;

    if (ret < 0) {
        /* The next save writes the same copy again, not the good one. */
        trace_nvme_zns_persist_failed(ns->nsid, ret);
    } else {
        z->generation = z->save_generation;
    }
    while ((req = QTAILQ_FIRST(&z->save_running))) {
        QTAILQ_REMOVE(&z->save_running, req, zone_entry);
        if (ret < 0) {
            req->status = status;
        }
        nvme_req_complete(req);
    }
    z->saving = false;
    qatomic_set(&z->saves_done, z->saves_done + 1);
    if (!QTAILQ_EMPTY(&z->save_waiting) || z->save_again) {
        nvme_zns_save_start(ns);
    }
    /* Last: a quiesce waiting for the save may free ns right after */
    nvme_ns_work_end(ns);
}

static void nvme_zns_save_flushed_state(void *opaque, int ret)
{
    nvme_zns_save_done(opaque, ret, NVME_SC_INTERNAL_ERROR);
}

static void nvme_zns_save_written(void *opaque, int ret)
{
    NvmeNamespace *ns = opaque;

    if (ret < 0) {
        nvme_zns_save_done(ns, ret, NVME_SC_INTERNAL_ERROR);
        return;
    }
    blk_aio_flush(ns->zone_state, nvme_zns_save_flushed_state, ns);
}

/* The data below each wp_saving is durable now: record it. */
static void nvme_zns_save_flushed_data(void *opaque, int ret)
{
    NvmeNamespace *ns = opaque;
    NvmeZoned *z = ns->zns;
    uint64_t offset;

    if (ret < 0) {
        nvme_zns_save_done(ns, ret, NVME_SC_WRITE_FAULT);
        return;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];

        zone->wp_durable = MAX(zone->wp_durable, zone->wp_saving);
    }
    nvme_zns_snapshot(ns);
    z->save_generation = z->generation + 1;
    offset = nvme_zns_seal(z, z->save_generation);
    qemu_iovec_init_buf(&z->save_qiov, z->save_buf, nvme_zns_copy_len(z));
    blk_aio_pwritev(ns->zone_state, offset, &z->save_qiov, 0,
                    nvme_zns_save_written, ns);
}

static void nvme_zns_save_start(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    NvmeRequest *req;

    z->saving = true;
    nvme_ns_work_begin(ns);
    z->save_again = false;
    z->saves_started++;
    while ((req = QTAILQ_FIRST(&z->save_waiting))) {
        QTAILQ_REMOVE(&z->save_waiting, req, zone_entry);
        QTAILQ_INSERT_TAIL(&z->save_running, req, zone_entry);
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        z->zones[i].wp_saving = z->zones[i].wp_done;
    }
    /* The flush below covers only the zeroing completed by now. */
    nvme_zns_mark_resetting(z);
    blk_aio_flush(ns->blk, nvme_zns_save_flushed_data, ns);
}

/*
 * Asks for zoned.state to cover the zones as they are now: completes req
 * (its status already set) once it does, at once without zoned.state.
 * With req NULL, nobody waits.
 */
static void nvme_zns_save(NvmeNamespace *ns, NvmeRequest *req)
{
    NvmeZoned *z = ns->zns;

    if (!ns->zone_state) {
        if (req) {
            nvme_req_complete(req);
        }
        return;
    }
    if (req) {
        QTAILQ_INSERT_TAIL(&z->save_waiting, req, zone_entry);
    } else {
        z->save_again = true;
    }
    if (!z->saving) {
        nvme_zns_save_start(ns);
    }
}

static uint64_t nvme_zns_req_slba(NvmeRequest *req)
{
    return ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
           le32_to_cpu(req->cmd.cdw10);
}

/*
 * wp_done: up to the lowest write in flight (the oldest, unless ZRWA
 * writes are among them), never past a failed one
 */
static void nvme_zone_update_done(NvmeZone *zone)
{
    NvmeRequest *w = QTAILQ_FIRST(&zone->writes);
    uint64_t done = zone->wp;

    if (!w) {
        zone->writes_unordered = false;
    }
    for (; w; w = zone->writes_unordered ? QTAILQ_NEXT(w, zone_entry) : NULL) {
        done = MIN(done, nvme_zns_req_slba(w));
    }
    done = MIN(done, zone->wp_failed);
    zone->wp_done = MAX(zone->wp_done, done);
}

void nvme_zns_write_end(NvmeRequest *req)
{
    NvmeCtrl *n = nvme_req_ctrl(req);
    NvmeZoned *z = req->ns->zns;
    uint64_t slba = nvme_zns_req_slba(req);
    NvmeZone *zone = nvme_zone_of(z, slba);
    bool durable = (le32_to_cpu(req->cmd.cdw12) & NVME_RW_FUA) ||
                   !n->features.vwc;

    req->aiocb = NULL;      /* finished: nothing left for Abort to cancel */
    /* A reset of the zone while it was in flight took it off the list. */
    if (QTAILQ_IN_USE(req, zone_entry)) {
        QTAILQ_REMOVE(&zone->writes, req, zone_entry);
        /* One still in the ZRWA, the host may write again before commit */
        if (req->status != NVME_SC_SUCCESS &&
            (!(zone->attrs & NVME_ZA_ZRWA_VALID) || slba < zone->wp)) {
            zone->wp_failed = MIN(zone->wp_failed, slba);
        }
        nvme_zone_update_done(zone);
    }
    /* Data that must be durable now: so must the pointer that covers it. */
    if (durable && req->status == NVME_SC_SUCCESS) {
        nvme_zns_save(req->ns, req);
    } else {
        nvme_req_complete(req);
    }
}

static uint16_t nvme_zns_flush(NvmeCtrl *n, NvmeRequest *req)
{
    if (!req->ns->zone_state) {
        return nvme_io_opcode(NVME_CSI_NVM, NVME_CMD_FLUSH)->handler(n, req);
    }
    /* The save flushes the data first. */
    req->status = NVME_SC_SUCCESS;
    nvme_zns_save(req->ns, req);
    return NVME_NO_COMPLETE;
}

/* Zone Management Send */

/*
 * Zeroes the blocks of the zones being reset, one zone at a time. Each
 * counts as resetting until its zeroing completed (or the chain stopped
 * at an error): until then, saves keep its old record.
 */
typedef struct NvmeZnsReset {
    NvmeRequest *req;
    unsigned long *zones;   /* bitmap of zone indexes still to zero */
    uint32_t next;
    uint32_t zeroing;       /* the zone being zeroed; UINT32_MAX: none */
} NvmeZnsReset;

static void nvme_zone_reset_done(NvmeZoned *z, uint32_t zidx)
{
    z->zones[zidx].resetting--;
}

static void nvme_zns_reset_step(void *opaque, int ret)
{
    NvmeZnsReset *r = opaque;
    NvmeRequest *req = r->req;
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;

    if (r->zeroing != UINT32_MAX) {
        nvme_zone_reset_done(z, r->zeroing);
        r->zeroing = UINT32_MAX;
    }
    if (ret < 0) {
        req->status = NVME_SC_INTERNAL_ERROR;
    }
    r->next = find_next_bit(r->zones, z->nr_zones, r->next);
    if (ret < 0 || r->next >= z->nr_zones) {
        /* After an error, the zones left are recorded as they are. */
        for (; r->next < z->nr_zones;
             r->next = find_next_bit(r->zones, z->nr_zones, r->next + 1)) {
            nvme_zone_reset_done(z, r->next);
        }
        g_free(r->zones);
        g_free(r);
        nvme_zns_save(ns, req);
        return;
    }
    r->zeroing = r->next++;
    blk_aio_pwrite_zeroes(ns->blk, ((uint64_t)r->zeroing * z->zsze) <<
                          ns->lba_bits, z->zsze << ns->lba_bits,
                          BDRV_REQ_MAY_UNMAP, nvme_zns_reset_step, r);
}

/*
 * Writes still in flight in the zone no longer move its pointers: the
 * host reset the zone under them.
 */
static void nvme_zone_forget_writes(NvmeZone *zone)
{
    NvmeRequest *req;

    while ((req = QTAILQ_FIRST(&zone->writes))) {
        QTAILQ_REMOVE(&zone->writes, req, zone_entry);
    }
    zone->writes_unordered = false;
}

static void nvme_zone_reset(NvmeZoned *z, NvmeZone *zone)
{
    nvme_zone_forget_writes(zone);
    nvme_zone_set_state(z, zone, NVME_ZONE_STATE_EMPTY);
    zone->wp = zone->wp_done = zone->wp_saving = zone->zslba;
    zone->wp_durable = zone->zslba;
    zone->wp_failed = UINT64_MAX;
    zone->attrs = 0;
    zone->ext_durable = false;
}

/*
 * Open Zone with ZRWAA (Zoned, Zone Management Send): a ZRWA is
 * allocated to an empty zone only, and an opened one keeps the one it has.
 */
static uint16_t nvme_zone_open_zrwa(NvmeZoned *z, NvmeZone *zone,
                                    bool auto_close)
{
    uint16_t status;

    if (zone->attrs & NVME_ZA_ZRWA_VALID) {
        return nvme_zone_open(z, zone, true, auto_close);
    }
    if (zone->state != NVME_ZONE_STATE_EMPTY) {
        return NVME_SC_INVALID_ZONE_TRANSITION | NVME_SC_DNR;
    }
    /* Before the open, which may close another zone to make room */
    if (z->nr_zrwa >= z->params->numzrwa) {
        return NVME_SC_ZRWA_RESOURCES_UNAVAILABLE | NVME_SC_DNR;
    }
    status = nvme_zone_open(z, zone, true, auto_close);
    if (!status) {
        zone->attrs |= NVME_ZA_ZRWA_VALID;
        z->nr_zrwa++;
    }
    return status;
}

/*
 * One action on one zone; *zero is set when its blocks must be zeroed.
 * zrwaa: Open allocates a ZRWA; auto_close: zoned.auto_transition.
 */
static uint16_t nvme_zone_action(NvmeZoned *z, NvmeZone *zone, uint8_t zsa,
                                 bool zrwaa, bool auto_close, bool *zero)
{
    uint16_t status = nvme_zone_unusable(zone);

    if (zsa == NVME_ZONE_ACTION_OFFLINE) {
        if (zone->state == NVME_ZONE_STATE_READ_ONLY) {
            nvme_zone_set_state(z, zone, NVME_ZONE_STATE_OFFLINE);
            zone->attrs = 0;
            return NVME_SC_SUCCESS;
        }
        return zone->state == NVME_ZONE_STATE_OFFLINE ? NVME_SC_SUCCESS :
               NVME_SC_INVALID_ZONE_TRANSITION | NVME_SC_DNR;
    }
    if (status) {
        return status;
    }
    switch (zsa) {
    case NVME_ZONE_ACTION_OPEN:
        return zrwaa ? nvme_zone_open_zrwa(z, zone, auto_close)
                     : nvme_zone_open(z, zone, true, auto_close);
    case NVME_ZONE_ACTION_CLOSE:
        if (nvme_zone_is_open(zone)) {
            /* Nothing written, no extension, no ZRWA: back to empty */
            nvme_zone_set_state(z, zone, zone->wp == zone->zslba &&
                                !(zone->attrs & (NVME_ZA_ZD_EXT_VALID |
                                                 NVME_ZA_ZRWA_VALID)) ?
                                NVME_ZONE_STATE_EMPTY :
                                NVME_ZONE_STATE_CLOSED);
            return NVME_SC_SUCCESS;
        }
        return zone->state == NVME_ZONE_STATE_CLOSED ? NVME_SC_SUCCESS :
               NVME_SC_INVALID_ZONE_TRANSITION | NVME_SC_DNR;
    case NVME_ZONE_ACTION_FINISH:
        if (zone->state == NVME_ZONE_STATE_EMPTY &&
            !nvme_zns_has_active(z, 1)) {
            return NVME_SC_TOO_MANY_ACTIVE_ZONES | NVME_SC_DNR;
        }
        if (zone->state != NVME_ZONE_STATE_FULL) {
            nvme_zone_set_state(z, zone, NVME_ZONE_STATE_FULL);
            zone->wp = zone->zslba + z->zcap;
            /* The rest of the zone counts as written, failed or not. */
            zone->wp_failed = UINT64_MAX;
            nvme_zone_update_done(zone);
        }
        return NVME_SC_SUCCESS;
    case NVME_ZONE_ACTION_RESET:
        *zero = zone->state != NVME_ZONE_STATE_EMPTY;
        nvme_zone_reset(z, zone);
        return NVME_SC_SUCCESS;
    default:
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
}

/* The zones Select All applies zsa to (Zoned 3.4.3, Figure 42) */
static bool nvme_zone_selected(NvmeZone *zone, uint8_t zsa)
{
    switch (zsa) {
    case NVME_ZONE_ACTION_OPEN:
        return zone->state == NVME_ZONE_STATE_CLOSED;
    case NVME_ZONE_ACTION_CLOSE:
        return nvme_zone_is_open(zone);
    case NVME_ZONE_ACTION_FINISH:
        return nvme_zone_is_active(zone);
    case NVME_ZONE_ACTION_RESET:
        return nvme_zone_is_active(zone) ||
               zone->state == NVME_ZONE_STATE_FULL;
    case NVME_ZONE_ACTION_OFFLINE:
        return zone->state == NVME_ZONE_STATE_READ_ONLY;
    default:
        return false;
    }
}

/*
 * A descriptor extension reaches zoned.state, and is flushed there, before
 * any save records its zone's Zone Descriptor Extension Valid attribute.
 */
typedef struct NvmeZnsExtWrite {
    NvmeRequest *req;
    NvmeZone *zone;
    uint8_t *ext;
    QEMUIOVector qiov;
} NvmeZnsExtWrite;

static void nvme_zns_ext_flushed(void *opaque, int ret)
{
    NvmeZnsExtWrite *w = opaque;
    NvmeRequest *req = w->req;

    if (ret < 0) {
        trace_nvme_zns_persist_failed(req->ns->nsid, ret);
        req->status = NVME_SC_INTERNAL_ERROR;
    } else if (w->zone->attrs & NVME_ZA_ZD_EXT_VALID) {
        w->zone->ext_durable = true;
    }
    g_free(w->ext);
    g_free(w);
    nvme_zns_save(req->ns, req);
}

static void nvme_zns_ext_written(void *opaque, int ret)
{
    NvmeZnsExtWrite *w = opaque;

    if (ret < 0) {
        nvme_zns_ext_flushed(w, ret);
        return;
    }
    blk_aio_flush(w->req->ns->zone_state, nvme_zns_ext_flushed, w);
}

static void nvme_zns_save_ext(NvmeRequest *req, NvmeZone *zone, uint8_t *ext)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    uint32_t size = z->params->descr_ext_size;
    NvmeZnsExtWrite *w = g_new0(NvmeZnsExtWrite, 1);

    w->req = req;
    w->zone = zone;
    w->ext = ext;
    qemu_iovec_init_buf(&w->qiov, ext, size);
    blk_aio_pwritev(ns->zone_state, z->ext_offset +
                    zone->zslba / z->zsze * size, &w->qiov, 0,
                    nvme_zns_ext_written, w);
}

static uint16_t nvme_zns_set_zde(NvmeCtrl *n, NvmeRequest *req,
                                 NvmeZone *zone)
{
    NvmeZoned *z = req->ns->zns;
    uint32_t size = z->params->descr_ext_size;
    uint32_t zidx = zone->zslba / z->zsze;
    g_autofree uint8_t *ext = g_malloc(size);
    uint16_t status;

    if (zone->state != NVME_ZONE_STATE_EMPTY) {
        status = nvme_zone_unusable(zone);
        return nvme_zns_error(req, status ? status :
                              NVME_SC_INVALID_ZONE_TRANSITION | NVME_SC_DNR,
                              zone->zslba, "extension on a non-empty zone");
    }
    if (!nvme_zns_has_active(z, 1)) {
        return nvme_zns_error(req, NVME_SC_TOO_MANY_ACTIVE_ZONES | NVME_SC_DNR,
                              zone->zslba, "no active resource");
    }
    status = nvme_dma_from_host(n, req, ext, size);
    if (status) {
        return status;
    }
    memcpy(z->ext + (size_t)zidx * size, ext, size);
    zone->ext_crc = nvme_zns_ext_crc(z, zidx);
    zone->attrs |= NVME_ZA_ZD_EXT_VALID;
    nvme_zone_set_state(z, zone, NVME_ZONE_STATE_CLOSED);
    req->status = NVME_SC_SUCCESS;
    if (!req->ns->zone_state) {
        return NVME_SC_SUCCESS;
    }
    nvme_zns_save_ext(req, zone, g_steal_pointer(&ext));
    return NVME_NO_COMPLETE;
}

/* Zone zidx is to be zeroed: saves keep its old record until it is. */
static void nvme_zone_mark_zero(NvmeZoned *z, unsigned long *zero,
                                uint32_t zidx)
{
    set_bit(zidx, zero);
    z->zones[zidx].resetting++;
}

/* Applies zsa to one zone or all it selects; zero gets those to zero. */
static uint16_t nvme_zone_mgmt_apply(NvmeRequest *req, uint64_t slba,
                                     uint8_t zsa, bool all, bool zrwaa,
                                     unsigned long *zero)
{
    NvmeZoned *z = req->ns->zns;
    bool auto_close = nvme_req_ctrl(req)->params.auto_transition;
    uint32_t count = 0;
    uint16_t status;
    bool zero_it = false;

    if (!all) {
        status = nvme_zone_action(z, nvme_zone_of(z, slba), zsa, zrwaa,
                                  auto_close, &zero_it);
        if (status) {
            return nvme_zns_error(req, status, slba, "zone action refused");
        }
        if (zero_it) {
            nvme_zone_mark_zero(z, zero, slba / z->zsze);
        }
        return NVME_SC_SUCCESS;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        count += nvme_zone_selected(&z->zones[i], zsa);
    }
    /* Open all closed zones: all or nothing */
    if (zsa == NVME_ZONE_ACTION_OPEN && z->params->max_open &&
        z->nr_open + count > z->params->max_open) {
        return nvme_zns_error(req, NVME_SC_TOO_MANY_OPEN_ZONES | NVME_SC_DNR,
                              0, "cannot open all zones");
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        zero_it = false;
        if (nvme_zone_selected(&z->zones[i], zsa)) {
            nvme_zone_action(z, &z->zones[i], zsa, false, auto_close,
                             &zero_it);
        }
        if (zero_it) {
            nvme_zone_mark_zero(z, zero, i);
        }
    }
    return NVME_SC_SUCCESS;
}

/*
 * Flush Explicit ZRWA Range (Zoned, Zone Management Send): commits the
 * ZRWA of the zone of elba up to elba, a whole number of flush granules
 * from the write pointer (or up to the zone capacity); then zoned.state
 * records it.
 */
static uint16_t nvme_zone_zrwa_flush(NvmeRequest *req, uint64_t elba)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    NvmeZone *zone = nvme_zone_of(z, elba);
    uint64_t end = zone->zslba + z->zcap;
    uint16_t status = nvme_zone_unusable(zone);

    if (status) {
        return nvme_zns_error(req, status, zone->zslba, "zone not writable");
    }
    if (!(zone->attrs & NVME_ZA_ZRWA_VALID)) {
        return nvme_zns_error(req, NVME_SC_ZONE_INVALID_OPERATION |
                              NVME_SC_DNR, zone->zslba,
                              "ZRWA flush of a zone without a ZRWA");
    }
    if (elba < zone->wp || elba >= MIN(zone->wp + z->zrwas, end)) {
        return nvme_zns_error(req, NVME_SC_ZONE_BOUNDARY_ERROR | NVME_SC_DNR,
                              zone->zslba, "ZRWA flush beyond the ZRWA");
    }
    if ((elba + 1 - zone->wp) % z->zrwafg && elba + 1 != end) {
        return nvme_zns_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              zone->zslba, "ZRWA flush not a multiple of "
                              "ZRWAFG");
    }
    zone->wp = elba + 1;
    nvme_zone_update_done(zone);
    if (zone->wp == end) {
        nvme_zone_set_state(z, zone, NVME_ZONE_STATE_FULL);
    }
    trace_nvme_zns_zrwa_flush(ns->nsid, zone->zslba, zone->wp, false);
    req->status = NVME_SC_SUCCESS;
    nvme_zns_save(ns, req);
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_zone_mgmt_send(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    uint32_t cdw13 = le32_to_cpu(req->cmd.cdw13);
    uint8_t zsa = cdw13 & 0xff;
    bool all = cdw13 & NVME_ZONE_SEND_SELECT_ALL;
    bool zrwaa = cdw13 & NVME_ZONE_SEND_ZRWAA;
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    g_autofree unsigned long *zero = NULL;
    NvmeZnsReset *r;
    uint16_t status;

    trace_nvme_zone_mgmt_send(le16_to_cpu(req->cmd.cid), ns->nsid, slba, zsa,
                              all);
    if (zrwaa && (zsa != NVME_ZONE_ACTION_OPEN || all ||
                  !z->params->numzrwa)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "ZRWAA without ZRWA support, or not on the "
                              "Open of one zone");
    }
    if (zsa == NVME_ZONE_ACTION_ZRWA_FLUSH) {
        /* SLBA is the last LBA to commit, not the start of a zone */
        if (all || !z->params->numzrwa) {
            return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                                  "Flush Explicit ZRWA Range not possible");
        }
        if (slba >= ns->nlbas) {
            return nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR,
                                  "ZRWA flush beyond the namespace");
        }
        return nvme_zone_zrwa_flush(req, slba);
    }
    if (zsa == NVME_ZONE_ACTION_SET_ZDE &&
        (all || !z->params->descr_ext_size)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Set Zone Descriptor Extension not possible");
    }
    if (!all) {
        if (slba >= ns->nlbas) {
            return nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR,
                                  "zone SLBA beyond the namespace");
        }
        if (slba % z->zsze) {
            return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                                  "SLBA is not the start of a zone");
        }
    }
    if (zsa == NVME_ZONE_ACTION_SET_ZDE) {
        return nvme_zns_set_zde(n, req, nvme_zone_of(z, slba));
    }
    if (zsa < NVME_ZONE_ACTION_CLOSE || zsa > NVME_ZONE_ACTION_OFFLINE) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "unknown Zone Send Action");
    }
    if (zsa == NVME_ZONE_ACTION_RESET) {
        zero = bitmap_new(z->nr_zones);
    }
    status = nvme_zone_mgmt_apply(req, slba, zsa, all, zrwaa, zero);
    if (status) {
        return status;
    }
    req->status = NVME_SC_SUCCESS;
    if (zsa != NVME_ZONE_ACTION_RESET) {
        nvme_zns_save(ns, req);
        return NVME_NO_COMPLETE;
    }
    /* Reset zones read as zeroes again (DLFEAT) */
    r = g_new0(NvmeZnsReset, 1);
    r->req = req;
    r->zones = g_steal_pointer(&zero);
    r->zeroing = UINT32_MAX;
    nvme_zns_reset_step(r, 0);
    return NVME_NO_COMPLETE;
}

/* Zone Management Receive */

/* The zone state each report filter (ZRASF) selects */
static const uint8_t nvme_zone_filter_state[NVME_ZONE_REPORT_FILTERS + 1] = {
    [NVME_ZONE_REPORT_EMPTY] = NVME_ZONE_STATE_EMPTY,
    [NVME_ZONE_REPORT_IMPLICITLY_OPEN] = NVME_ZONE_STATE_IMPLICITLY_OPEN,
    [NVME_ZONE_REPORT_EXPLICITLY_OPEN] = NVME_ZONE_STATE_EXPLICITLY_OPEN,
    [NVME_ZONE_REPORT_CLOSED] = NVME_ZONE_STATE_CLOSED,
    [NVME_ZONE_REPORT_FULL] = NVME_ZONE_STATE_FULL,
    [NVME_ZONE_REPORT_READ_ONLY] = NVME_ZONE_STATE_READ_ONLY,
    [NVME_ZONE_REPORT_OFFLINE] = NVME_ZONE_STATE_OFFLINE,
};

static bool nvme_zone_matches(NvmeZone *zone, uint8_t zrasf)
{
    return zrasf == NVME_ZONE_REPORT_ALL ||
           zone->state == nvme_zone_filter_state[zrasf];
}

/*
 * A report reaches the host in pieces of at most NVME_ZNS_REPORT_CHUNK
 * bytes, whatever size it asked for (up to 16 GiB without MDTS): what
 * QEMU allocates, and maps, is bounded by the zones there are to report.
 */
#define NVME_ZNS_REPORT_CHUNK   (1 * MiB)

typedef struct NvmeZoneReport {
    NvmeRequest *req;
    uint64_t room;          /* bytes of the host buffer that are used */
    uint8_t *buf;
    size_t size;            /* of buf */
    size_t used;            /* bytes in buf, to go at pos */
    uint64_t pos;           /* where in the host buffer buf[0] goes */
} NvmeZoneReport;

static bool nvme_zone_report_flush(NvmeZoneReport *rep)
{
    bool ok = !rep->used ||
              nvme_sg_copy(rep->req, rep->pos, rep->buf, rep->used,
                           DMA_DIRECTION_FROM_DEVICE);

    rep->pos += rep->used;
    rep->used = 0;
    return ok;
}

/* The rest of room, after the last descriptor, reads as zeroes */
static bool nvme_zone_report_pad(NvmeZoneReport *rep)
{
    while (rep->pos < rep->room) {
        rep->used = MIN(rep->size, rep->room - rep->pos);
        memset(rep->buf, 0, rep->used);
        if (!nvme_zone_report_flush(rep)) {
            return false;
        }
    }
    return true;
}

/* The descriptors from zone first on; *nr the number for the header */
static bool nvme_zone_report_fill(NvmeZoneReport *rep, uint64_t first,
                                  uint8_t zrasf, size_t ext, bool partial,
                                  uint64_t *nr)
{
    NvmeZoned *z = rep->req->ns->zns;
    size_t entry = sizeof(NvmeZoneDescr) + ext;
    uint64_t matched = 0, listed = 0;

    for (uint64_t i = first; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];
        NvmeZoneDescr d = {};
        uint8_t *p;

        if (!nvme_zone_matches(zone, zrasf)) {
            continue;
        }
        matched++;
        if (rep->pos + rep->used + entry > rep->room) {
            if (partial) {
                break;      /* the count is of the listed zones */
            }
            continue;
        }
        if (rep->used + entry > rep->size && !nvme_zone_report_flush(rep)) {
            return false;
        }
        d.zt = NVME_ZONE_TYPE_SEQ_WRITE;
        d.zs = zone->state << 4;
        d.za = zone->attrs;
        d.zcap = cpu_to_le64(z->zcap);
        d.zslba = cpu_to_le64(zone->zslba);
        d.wp = cpu_to_le64(zone->wp);
        p = rep->buf + rep->used;
        memcpy(p, &d, sizeof(d));
        if (ext && (zone->attrs & NVME_ZA_ZD_EXT_VALID)) {
            memcpy(p + sizeof(d), z->ext + i * ext, ext);
        } else if (ext) {
            memset(p + sizeof(d), 0, ext);
        }
        rep->used += entry;
        listed++;
    }
    *nr = partial ? listed : matched;
    return nvme_zone_report_flush(rep) && nvme_zone_report_pad(rep);
}

static uint16_t nvme_zone_mgmt_recv(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    uint32_t cdw13 = le32_to_cpu(req->cmd.cdw13);
    uint8_t zra = cdw13 & 0xff;
    uint8_t zrasf = (cdw13 >> 8) & 0xff;
    bool partial = cdw13 & NVME_ZONE_REPORT_PARTIAL;
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    uint64_t len = ((uint64_t)le32_to_cpu(req->cmd.cdw12) + 1) * 4;
    size_t ext = zra == NVME_ZONE_REPORT_EXTENDED ?
                 z->params->descr_ext_size : 0;
    NvmeZoneReportHeader hdr = {};
    NvmeZoneReport rep = { .req = req, .pos = sizeof(hdr) };
    g_autofree uint8_t *buf = NULL;
    uint64_t nr;
    uint16_t status;

    trace_nvme_zone_mgmt_recv(le16_to_cpu(req->cmd.cid), ns->nsid, slba, zra,
                              zrasf, partial);
    if (zra > NVME_ZONE_REPORT_EXTENDED ||
        (zra == NVME_ZONE_REPORT_EXTENDED && !ext)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "unsupported Zone Receive Action");
    }
    if (zrasf > NVME_ZONE_REPORT_FILTERS) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "unknown zone state filter");
    }
    if (slba >= ns->nlbas) {
        return nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR,
                              "report from beyond the namespace");
    }
    if (len > nvme_xfer_limit(n->params.mdts)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "report larger than MDTS");
    }
    /* Beyond the header and the zones from slba on, nothing to report */
    rep.room = MIN(len, sizeof(hdr) + (z->nr_zones - slba / z->zsze) *
                        (sizeof(NvmeZoneDescr) + ext));
    status = nvme_map_dptr(n, req, rep.room);
    if (status) {
        return status;
    }
    rep.size = MIN(rep.room, NVME_ZNS_REPORT_CHUNK);
    buf = rep.buf = g_malloc(rep.size);
    if (!nvme_zone_report_fill(&rep, slba / z->zsze, zrasf, ext, partial,
                               &nr)) {
        trace_nvme_err_dma(req->cmd.opcode, rep.room);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    hdr.nr_zones = cpu_to_le64(nr);
    if (!nvme_sg_copy(req, 0, &hdr, MIN(rep.room, sizeof(hdr)),
                      DMA_DIRECTION_FROM_DEVICE)) {
        trace_nvme_err_dma(req->cmd.opcode, rep.room);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}

/* Zone Append: a write at the write pointer, which DW0-1 report */
static uint16_t nvme_zone_append(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    uint32_t nlb = (le32_to_cpu(req->cmd.cdw12) & 0xffff) + 1;
    uint8_t zasl = n->params.zasl ? n->params.zasl : n->params.mdts;
    NvmeZone *zone;

    if (slba >= ns->nlbas) {
        return nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR,
                              "Zone Append beyond the namespace");
    }
    if (slba % z->zsze) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Zone Append SLBA is not the start of a zone");
    }
    if (((uint64_t)nlb << ns->lba_bits) > nvme_xfer_limit(zasl)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Zone Append larger than ZASL");
    }
    zone = nvme_zone_of(z, slba);
    if (zone->attrs & NVME_ZA_ZRWA_VALID) {
        return nvme_zns_error(req, NVME_SC_ZONE_INVALID_OPERATION |
                              NVME_SC_DNR, zone->zslba,
                              "Zone Append to a zone with a ZRWA");
    }
    /* The write goes where the pointer is; a full zone fails as such. */
    slba = zone->state == NVME_ZONE_STATE_FULL ? zone->zslba : zone->wp;
    req->cmd.cdw10 = cpu_to_le32(slba);
    req->cmd.cdw11 = cpu_to_le32(slba >> 32);
    req->cqe.result = cpu_to_le32(slba);
    req->cqe.dw1 = cpu_to_le32(slba >> 32);
    return nvme_io_opcode(NVME_CSI_NVM, NVME_CMD_WRITE)->handler(n, req);
}

/* The Zoned command set: the NVM commands that apply, and its own */
static const NvmeOpcodeDesc nvme_zns_opcodes[256] = {
    [NVME_CMD_FLUSH]            = { nvme_zns_flush, NVME_CMD_EFF_LBCC },
    [NVME_CMD_ZONE_MGMT_SEND]   = { nvme_zone_mgmt_send, NVME_CMD_EFF_LBCC },
    [NVME_CMD_ZONE_MGMT_RECV]   = { nvme_zone_mgmt_recv },
    [NVME_CMD_ZONE_APPEND]      = { nvme_zone_append, NVME_CMD_EFF_LBCC },
};

const NvmeOpcodeDesc *nvme_io_opcode(uint8_t csi, uint8_t opcode)
{
    if (csi != NVME_CSI_ZONED) {
        return &nvme_nvm_opcodes[opcode];
    }
    switch (opcode) {
    case NVME_CMD_WRITE:
    case NVME_CMD_READ:
    case NVME_CMD_COMPARE:
    case NVME_CMD_WRITE_ZEROES:
    case NVME_CMD_DSM:
    case NVME_CMD_VERIFY:
    case NVME_CMD_RESV_REGISTER:
    case NVME_CMD_RESV_REPORT:
    case NVME_CMD_RESV_ACQUIRE:
    case NVME_CMD_RESV_RELEASE:
        return &nvme_nvm_opcodes[opcode];
    default:
        return &nvme_zns_opcodes[opcode];
    }
}

/* Identify and the Changed Zone List */

uint16_t nvme_zns_identify_ns(NvmeCtrl *n, NvmeRequest *req,
                              NvmeNamespace *ns)
{
    static const NvmeIdNsZoned zeroes;

    return nvme_dma_to_host(n, req, ns->zns ? &ns->zns->id : &zeroes,
                            sizeof(zeroes));
}

uint16_t nvme_zns_identify_ctrl(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeIdCtrlZoned id = { .zasl = n->params.zasl };

    return nvme_dma_to_host(n, req, &id, sizeof(id));
}

uint16_t nvme_zns_log_changed_zones(NvmeCtrl *n, NvmeRequest *req,
                                    uint64_t offset, uint64_t len, bool rae)
{
    NvmeNamespace *ns = nvme_ctrl_ns(n, le32_to_cpu(req->cmd.nsid));
    NvmeChangedZoneList log = {};
    NvmeZoned *z;
    uint16_t status;

    if (!ns || !ns->zns) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Changed Zone List of a non-zoned namespace");
    }
    z = ns->zns;
    if (offset >= sizeof(log)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "log page offset beyond the log");
    }
    if (z->nr_changed > NVME_CHANGED_ZONES_MAX) {
        log.nrzid = cpu_to_le16(0xffff);
    } else {
        log.nrzid = cpu_to_le16(z->nr_changed);
        for (uint32_t i = 0; i < z->nr_changed; i++) {
            log.zid[i] = cpu_to_le64(z->changed[i]);
        }
    }
    status = nvme_dma_to_host(n, req, (uint8_t *)&log + offset,
                              MIN(len, sizeof(log) - offset));
    /* Read without RAE: the list starts over and Notice events flow again */
    if (!status && !rae) {
        z->nr_changed = 0;
        nvme_clear_events(n, NVME_AER_TYPE_NOTICE);
    }
    return status;
}

/* QMP nvme-zone-inject: the media turns a zone read-only or offline. */
typedef struct NvmeZnsInject {
    NvmeNamespace *ns;
    uint64_t slba;
    bool offline;
} NvmeZnsInject;

/* In the namespace's AioContext, where its I/O commands run */
static void nvme_zns_inject_bh(void *opaque)
{
    NvmeZnsInject *inj = opaque;
    NvmeNamespace *ns = inj->ns;
    NvmeZoned *z = ns->zns;
    NvmeZone *zone = nvme_zone_of(z, inj->slba);

    nvme_zone_set_state(z, zone, inj->offline ? NVME_ZONE_STATE_OFFLINE
                                              : NVME_ZONE_STATE_READ_ONLY);
    zone->attrs = 0;
    nvme_zns_changed(z, zone);
    trace_nvme_zns_inject(ns->nsid, zone->zslba, zone->state);
    nvme_zns_save(ns, NULL);
}

bool nvme_zns_inject(NvmeNamespace *ns, uint64_t slba, bool offline,
                     Error **errp)
{
    NvmeZnsInject inj = { .ns = ns, .slba = slba, .offline = offline };

    if (!ns->zns) {
        error_setg(errp, "namespace %u is not zoned", ns->nsid);
        return false;
    }
    if (slba >= ns->nlbas) {
        error_setg(errp, "LBA %" PRIu64 " is beyond namespace %u", slba,
                   ns->nsid);
        return false;
    }
    nvme_wait_begin();
    aio_wait_bh_oneshot(blk_get_aio_context(ns->blk), nvme_zns_inject_bh,
                        &inj);
    nvme_wait_end();
    return true;
}

/* Setup */

static void nvme_zns_init_identify(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    NvmeIdNsZoned *id = &z->id;

    memset(id, 0, sizeof(*id));
    id->mar = cpu_to_le32(z->params->max_active ? z->params->max_active - 1
                                                 : NVME_ZONES_NO_LIMIT);
    id->mor = cpu_to_le32(z->params->max_open ? z->params->max_open - 1
                                               : NVME_ZONES_NO_LIMIT);
    if (z->params->cross_read) {
        id->ozcs = cpu_to_le16(NVME_ID_NS_ZONED_OZCS_RAZB);
    }
    if (z->params->numzrwa) {
        id->ozcs |= cpu_to_le16(NVME_ID_NS_ZONED_OZCS_ZRWASUP);
        id->numzrwa = cpu_to_le32(z->params->numzrwa - 1);
        id->zrwafg = cpu_to_le16(z->zrwafg);
        id->zrwasz = cpu_to_le16(z->zrwas);
        id->zrwacap = NVME_ID_NS_ZONED_ZRWACAP_EXPFLUSHSUP;
    }
    for (int i = 0; i < ns->nlbaf; i++) {
        id->lbafe[i].zsze = cpu_to_le64(z->params->zone_size >>
                                        ns->lbaf_bits[i]);
        id->lbafe[i].zdes = z->params->descr_ext_size / 64;
    }
}

/* Zone geometry in the current LBA format; all zones empty. */
static void nvme_zns_init_zones(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;

    z->zsze = z->params->zone_size >> ns->lba_bits;
    z->zcap = z->params->zone_cap >> ns->lba_bits;
    z->zrwas = z->params->zrwas >> ns->lba_bits;
    z->zrwafg = z->params->zrwafg >> ns->lba_bits;
    z->nr_active = z->nr_open = z->nr_zrwa = 0;
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];

        zone->zslba = i * z->zsze;
        zone->state = NVME_ZONE_STATE_EMPTY;
        zone->attrs = 0;
        nvme_zone_reset(z, zone);
    }
    memset(z->ext, 0, (size_t)z->nr_zones * z->params->descr_ext_size);
    ns->nlbas = (uint64_t)z->nr_zones * z->zsze;
    ns->id_ns.nsze = ns->id_ns.ncap = ns->id_ns.nuse = cpu_to_le64(ns->nlbas);
    nvme_zns_init_identify(ns);
}

/*
 * The ZRWA properties: ZRWASZ and ZRWAFG are 16-bit counts of blocks of
 * the current LBA format, so they must be whole blocks of every format
 * and fit in 16 bits in the smallest.
 */
static bool nvme_zns_check_zrwa(NvmeNamespace *ns, uint32_t largest_lba,
                                Error **errp)
{
    NvmeZonedParams *p = &ns->params.zoned;
    uint32_t smallest_lba = UINT32_MAX;

    for (int i = 0; i < ns->nlbaf; i++) {
        smallest_lba = MIN(smallest_lba, 1u << ns->lbaf_bits[i]);
    }
    if (!p->numzrwa) {
        if (p->zrwas || p->zrwafg != NVME_ZRWAFG_DEFAULT) {
            error_setg(errp, "nvme namespace: zoned.zrwas and zoned.zrwafg "
                       "need zoned.numzrwa");
            return false;
        }
        return true;
    }
    if (p->zrwafg == NVME_ZRWAFG_DEFAULT) {
        p->zrwafg = largest_lba;
    }
    if (!p->zrwas || !p->zrwafg) {
        error_setg(errp, "nvme namespace: zoned.numzrwa needs zoned.zrwas "
                   "(and a zoned.zrwafg other than 0)");
        return false;
    }
    if (p->zrwafg % largest_lba || p->zrwafg / smallest_lba > UINT16_MAX) {
        error_setg(errp, "nvme namespace: zoned.zrwafg must be a multiple "
                   "of %u bytes, at most %u blocks", largest_lba,
                   UINT16_MAX);
        return false;
    }
    if (p->zrwas % p->zrwafg || p->zrwas > p->zone_cap ||
        p->zrwas / smallest_lba > UINT16_MAX) {
        error_setg(errp, "nvme namespace: zoned.zrwas must be a multiple of "
                   "zoned.zrwafg, at most zoned.zone_capacity and %u "
                   "blocks", UINT16_MAX);
        return false;
    }
    if (p->max_active && p->numzrwa > p->max_active) {
        error_setg(errp, "nvme namespace: zoned.numzrwa must not exceed "
                   "zoned.max_active");
        return false;
    }
    return true;
}

static bool nvme_zns_check_params(NvmeNamespace *ns, Error **errp)
{
    NvmeZonedParams *p = &ns->params.zoned;
    uint32_t largest_lba = 0;

    for (int i = 0; i < ns->nlbaf; i++) {
        largest_lba = MAX(largest_lba, 1u << ns->lbaf_bits[i]);
    }
    if (!p->zone_cap) {
        p->zone_cap = p->zone_size;
    }
    if (!is_power_of_2(p->zone_size) || p->zone_size < largest_lba) {
        error_setg(errp, "nvme namespace: zoned.zone_size must be a power "
                   "of two of at least %u bytes", largest_lba);
        return false;
    }
    if (p->zone_cap > p->zone_size || p->zone_cap % largest_lba) {
        error_setg(errp, "nvme namespace: zoned.zone_capacity must be a "
                   "multiple of %u bytes, at most zoned.zone_size",
                   largest_lba);
        return false;
    }
    if (p->max_open > p->max_active && p->max_active) {
        error_setg(errp, "nvme namespace: zoned.max_open must not exceed "
                   "zoned.max_active");
        return false;
    }
    if (p->descr_ext_size % 64 || p->descr_ext_size > 255 * 64) {
        error_setg(errp, "nvme namespace: zoned.descr_ext_size must be a "
                   "multiple of 64 bytes, at most 16320");
        return false;
    }
    if (!nvme_zns_check_zrwa(ns, largest_lba, errp)) {
        return false;
    }
    if (ns->size / p->zone_size == 0) {
        error_setg(errp, "nvme namespace: the drive is smaller than one "
                   "zone (zoned.zone_size)");
        return false;
    }
    if (ns->size / p->zone_size > UINT32_MAX) {
        error_setg(errp, "nvme namespace: too many zones");
        return false;
    }
    return true;
}

/*
 * One zone as a record left it. Zones open when QEMU stopped are closed
 * now, and a closed zone with nothing written and no extension is empty
 * (Zoned 2.1.1.3). An extension that does not match the checksum its
 * record holds (check_ext; version 1 had none) is dropped, not trusted.
 * A zone keeps its ZRWA (its record has the committed pointer only), if
 * there is still one for it.
 */
static bool nvme_zone_restore(NvmeNamespace *ns, NvmeZone *zone,
                              const NvmeZoneRecord *rec, bool check_ext)
{
    NvmeZoned *z = ns->zns;
    uint64_t wp = le64_to_cpu(rec->wp) >> ns->lba_bits;
    uint8_t state = rec->state;
    bool zrwa = rec->attrs & NVME_ZA_ZRWA_VALID;

    if (wp < zone->zslba || wp > zone->zslba + z->zcap) {
        return false;
    }
    zone->attrs = rec->attrs & NVME_ZA_ZD_EXT_VALID;
    if (zone->attrs) {
        zone->ext_crc = nvme_zns_ext_crc(z, zone->zslba / z->zsze);
        if (check_ext && zone->ext_crc != le32_to_cpu(rec->ext_crc)) {
            warn_report("nvme namespace: zoned.state: the descriptor "
                        "extension of zone 0x%" PRIx64 " is damaged; "
                        "dropped", zone->zslba);
            zone->attrs = 0;
        }
    }
    zone->ext_durable = zone->attrs;
    switch (state) {
    case NVME_ZONE_STATE_IMPLICITLY_OPEN:
    case NVME_ZONE_STATE_EXPLICITLY_OPEN:
    case NVME_ZONE_STATE_CLOSED:
        if (zrwa && z->nr_zrwa >= z->params->numzrwa) {
            warn_report("nvme namespace: zone 0x%" PRIx64 " loses its ZRWA: "
                        "no more than zoned.numzrwa %u", zone->zslba,
                        z->params->numzrwa);
            zrwa = false;
        }
        if (wp == zone->zslba + z->zcap) {
            state = NVME_ZONE_STATE_FULL;
        } else if (wp == zone->zslba && !zone->attrs && !zrwa) {
            state = NVME_ZONE_STATE_EMPTY;
        } else {
            state = NVME_ZONE_STATE_CLOSED;
            zone->attrs |= zrwa ? NVME_ZA_ZRWA_VALID : 0;
            z->nr_zrwa += zrwa;
        }
        break;
    case NVME_ZONE_STATE_EMPTY:
        if (wp != zone->zslba || zone->attrs) {
            return false;
        }
        break;
    case NVME_ZONE_STATE_FULL:
        wp = zone->zslba + z->zcap;
        break;
    case NVME_ZONE_STATE_READ_ONLY:
    case NVME_ZONE_STATE_OFFLINE:
        break;
    default:
        return false;
    }
    zone->wp = zone->wp_done = zone->wp_saving = zone->wp_durable = wp;
    nvme_zone_set_state(z, zone, state);
    return true;
}

/*
 * A zone full only in memory when QEMU died comes back closed, which can
 * exceed zoned.max_active: the controller finishes the fullest closed
 * zones, as after a power loss (Zoned 2.1.1.4.2, Finished by Controller).
 */
static void nvme_zns_finish_excess(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;

    while (!nvme_zns_has_active(z, 0)) {
        NvmeZone *fullest = NULL;

        for (uint32_t i = 0; i < z->nr_zones; i++) {
            NvmeZone *zone = &z->zones[i];

            if (zone->state == NVME_ZONE_STATE_CLOSED &&
                (!fullest ||
                 zone->wp - zone->zslba > fullest->wp - fullest->zslba)) {
                fullest = zone;
            }
        }
        if (!fullest) {
            return;     /* open zones are closed on load: cannot happen */
        }
        warn_report("nvme namespace: zone 0x%" PRIx64 " finished: more "
                    "active zones than zoned.max_active", fullest->zslba);
        nvme_zone_set_state(z, fullest, NVME_ZONE_STATE_FULL);
        fullest->wp = fullest->wp_done = fullest->wp_durable =
            fullest->zslba + z->zcap;
        fullest->attrs |= NVME_ZA_FINISHED_BY_CTRL;
        nvme_zns_changed(z, fullest);
    }
}

/* The header zoned.state of this geometry has, records and ext aside */
static NvmeZoneStateHeader nvme_zns_header(NvmeZoned *z)
{
    NvmeZoneStateHeader h = {
        .version = cpu_to_le32(NVME_ZS_VERSION),
        .zone_size = cpu_to_le64(z->params->zone_size),
        .zone_cap = cpu_to_le64(z->params->zone_cap),
        .nr_zones = cpu_to_le32(z->nr_zones),
        .descr_ext_size = cpu_to_le32(z->params->descr_ext_size),
    };

    memcpy(h.magic, NVME_ZS_MAGIC, sizeof(h.magic));
    return h;
}

static uint32_t nvme_zns_header_crc(const NvmeZoneStateHeader *hdr)
{
    NvmeZoneStateHeader h = *hdr;

    h.crc = 0;
    return nvme_zns_crc(0, &h, sizeof(h));
}

static bool nvme_zns_check_geometry(NvmeZoned *z,
                                    const NvmeZoneStateHeader *hdr,
                                    Error **errp)
{
    NvmeZoneStateHeader want = nvme_zns_header(z);

    if (memcmp(&hdr->zone_size, &want.zone_size,
               NVME_ZS_HEADER_V1_SIZE - offsetof(NvmeZoneStateHeader,
                                                 zone_size))) {
        error_setg(errp, "nvme namespace: zoned.state was written for "
                   "another zone geometry");
        return false;
    }
    return true;
}

static uint64_t nvme_zns_ext_size(NvmeZoned *z)
{
    return (uint64_t)z->nr_zones * z->params->descr_ext_size;
}

/*
 * Writes the zones as they are now to both copies, then the header that
 * makes them the state: a crash before the header leaves the file as it
 * was. Both copies, so that nothing stale at their place can win later.
 */
static bool nvme_zns_write_file(NvmeNamespace *ns, uint64_t records,
                                uint64_t ext, Error **errp)
{
    NvmeZoned *z = ns->zns;
    NvmeZoneStateHeader hdr = nvme_zns_header(z);
    uint64_t need = MAX(records + 2 * z->copy_size,
                        ext + nvme_zns_ext_size(z));

    if (blk_getlength(ns->zone_state) < (int64_t)need) {
        error_setg(errp, "nvme namespace: zoned.state needs %" PRIu64
                   " bytes for %u zones", need, z->nr_zones);
        return false;
    }
    z->records_offset = records;
    z->ext_offset = ext;
    z->generation = 0;
    hdr.records = cpu_to_le64(records);
    hdr.ext = cpu_to_le64(ext);
    hdr.crc = cpu_to_le32(nvme_zns_header_crc(&hdr));
    if (nvme_zns_save_now(ns) < 0 || nvme_zns_save_now(ns) < 0 ||
        blk_pwrite(ns->zone_state, 0, sizeof(hdr), &hdr, 0) < 0 ||
        blk_flush(ns->zone_state) < 0) {
        error_setg(errp, "nvme namespace: cannot write zoned.state");
        return false;
    }
    return true;
}

static bool nvme_zns_restore_all(NvmeNamespace *ns, bool check_ext,
                                 Error **errp)
{
    NvmeZoned *z = ns->zns;
    NvmeZoneRecord *rec = nvme_zns_records(z->save_buf);

    for (uint32_t i = 0; i < z->nr_zones; i++) {
        if (!nvme_zone_restore(ns, &z->zones[i], &rec[i], check_ext)) {
            error_setg(errp, "nvme namespace: zoned.state is damaged "
                       "(zone %u)", i);
            return false;
        }
    }
    nvme_zns_finish_excess(ns);
    return true;
}

/*
 * Version 1: one copy without a checksum at 4096, the extensions after
 * it. Loaded, then written as version 2 with the extensions where they
 * are and the copies after them.
 */
static bool nvme_zns_load_v1(NvmeNamespace *ns, Error **errp)
{
    NvmeZoned *z = ns->zns;
    uint64_t ext = NVME_ZS_RECORDS_V1 +
                   QEMU_ALIGN_UP(QEMU_ALIGN_UP((uint64_t)z->nr_zones *
                                               sizeof(NvmeZoneRecord),
                                               BDRV_SECTOR_SIZE), 4096);

    if (blk_pread(ns->zone_state, NVME_ZS_RECORDS_V1,
                  (int64_t)z->nr_zones * sizeof(NvmeZoneRecord),
                  nvme_zns_records(z->save_buf), 0) < 0 ||
        (nvme_zns_ext_size(z) &&
         blk_pread(ns->zone_state, ext, nvme_zns_ext_size(z), z->ext,
                   0) < 0)) {
        error_setg(errp, "nvme namespace: cannot read zoned.state");
        return false;
    }
    return nvme_zns_restore_all(ns, false, errp) &&
           nvme_zns_write_file(ns, QEMU_ALIGN_UP(ext + nvme_zns_ext_size(z),
                                                 4096), ext, errp);
}

/* Where a version 2 header puts the copies and extensions fits the file */
static bool nvme_zns_layout_ok(NvmeZoned *z, uint64_t records, uint64_t ext,
                               int64_t have)
{
    uint64_t copies_end = records + 2 * z->copy_size;
    uint64_t ext_end = ext + nvme_zns_ext_size(z);

    return records >= NVME_ZS_HEADER_SIZE && ext >= NVME_ZS_HEADER_SIZE &&
           !(records % 4096) && copies_end > records && ext_end >= ext &&
           (copies_end <= ext || ext_end <= records) &&
           MAX(copies_end, ext_end) <= have;
}

/* Version 2: the newest of the two copies that check themselves */
static bool nvme_zns_load_v2(NvmeNamespace *ns,
                             const NvmeZoneStateHeader *hdr, Error **errp)
{
    NvmeZoned *z = ns->zns;
    size_t len = nvme_zns_copy_len(z);
    g_autofree uint8_t *copy_b = g_malloc(len);
    uint8_t *copy[2] = { z->save_buf, copy_b };
    int newest = -1;

    z->records_offset = le64_to_cpu(hdr->records);
    z->ext_offset = le64_to_cpu(hdr->ext);
    if (le32_to_cpu(hdr->crc) != nvme_zns_header_crc(hdr) ||
        !nvme_zns_layout_ok(z, z->records_offset, z->ext_offset,
                            blk_getlength(ns->zone_state))) {
        error_setg(errp, "nvme namespace: zoned.state: the header is "
                   "damaged");
        return false;
    }
    if (!nvme_zns_check_geometry(z, hdr, errp)) {
        return false;
    }
    for (int i = 0; i < 2; i++) {
        if (blk_pread(ns->zone_state, z->records_offset + i * z->copy_size,
                      len, copy[i], 0) < 0) {
            error_setg(errp, "nvme namespace: cannot read zoned.state");
            return false;
        }
        if (nvme_zns_copy_valid(z, copy[i], i) &&
            (newest < 0 || nvme_zns_copy_generation(copy[i]) >
                           nvme_zns_copy_generation(copy[newest]))) {
            newest = i;
        }
    }
    if (newest < 0) {
        error_setg(errp, "nvme namespace: zoned.state: no valid copy of the "
                   "zone records (damaged, both copies fail their "
                   "checksum)");
        return false;
    }
    if (newest == 1) {
        memcpy(z->save_buf, copy_b, len);
    }
    z->generation = nvme_zns_copy_generation(z->save_buf);
    if (nvme_zns_ext_size(z) &&
        blk_pread(ns->zone_state, z->ext_offset, nvme_zns_ext_size(z),
                  z->ext, 0) < 0) {
        error_setg(errp, "nvme namespace: cannot read zoned.state");
        return false;
    }
    return nvme_zns_restore_all(ns, true, errp);
}

/*
 * Restores the persisted zones, or writes a fresh state into a file whose
 * header is all zeroes; anything else without a valid header is refused.
 */
static bool nvme_zns_load(NvmeNamespace *ns, Error **errp)
{
    NvmeZoned *z = ns->zns;
    g_autofree uint8_t *block = g_malloc(NVME_ZS_HEADER_SIZE);
    NvmeZoneStateHeader hdr;

    if (blk_getlength(ns->zone_state) < NVME_ZS_HEADER_SIZE) {
        error_setg(errp, "nvme namespace: zoned.state needs %" PRIu64
                   " bytes for %u zones", NVME_ZS_HEADER_SIZE +
                   2 * z->copy_size + nvme_zns_ext_size(z), z->nr_zones);
        return false;
    }
    if (blk_pread(ns->zone_state, 0, NVME_ZS_HEADER_SIZE, block, 0) < 0) {
        error_setg(errp, "nvme namespace: cannot read zoned.state");
        return false;
    }
    memcpy(&hdr, block, sizeof(hdr));
    if (memcmp(hdr.magic, NVME_ZS_MAGIC, sizeof(hdr.magic))) {
        if (!buffer_is_zero(block, NVME_ZS_HEADER_SIZE)) {
            error_setg(errp, "nvme namespace: zoned.state is neither a "
                       "zone state nor all zeroes (damaged header)");
            return false;
        }
        return nvme_zns_write_file(ns, NVME_ZS_HEADER_SIZE,
                                   NVME_ZS_HEADER_SIZE + 2 * z->copy_size,
                                   errp);
    }
    switch (le32_to_cpu(hdr.version)) {
    case NVME_ZS_VERSION_V1:
        return nvme_zns_check_geometry(z, &hdr, errp) &&
               nvme_zns_load_v1(ns, errp);
    case NVME_ZS_VERSION:
        return nvme_zns_load_v2(ns, &hdr, errp);
    default:
        error_setg(errp, "nvme namespace: zoned.state has version %u, not "
                   "supported", le32_to_cpu(hdr.version));
        return false;
    }
}

bool nvme_zns_setup(NvmeNamespace *ns, Error **errp)
{
    NvmeZoned *z;

    if (!ns->params.zoned.zoned) {
        if (ns->zone_state) {
            error_setg(errp, "nvme namespace: zoned.state needs zoned=on");
            return false;
        }
        return true;
    }
    if (!nvme_zns_check_params(ns, errp)) {
        return false;
    }
    z = ns->zns = g_new0(NvmeZoned, 1);
    z->params = &ns->params.zoned;
    z->nr_zones = ns->size / z->params->zone_size;
    z->zones = g_new0(NvmeZone, z->nr_zones);
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        QTAILQ_INIT(&z->zones[i].writes);
    }
    z->ext = g_malloc0((size_t)z->nr_zones * z->params->descr_ext_size + 1);
    z->copy_size = QEMU_ALIGN_UP(nvme_zns_copy_len(z), 4096);
    z->save_buf = g_malloc0(nvme_zns_copy_len(z));
    QTAILQ_INIT(&z->save_waiting);
    QTAILQ_INIT(&z->save_running);
    ns->csi = NVME_CSI_ZONED;
    nvme_zns_init_zones(ns);
    if (ns->zone_state && !nvme_zns_load(ns, errp)) {
        nvme_zns_cleanup(ns);
        return false;
    }
    return true;
}

typedef struct NvmeZnsShutdown {
    NvmeNamespace *ns;
    uint32_t save;          /* the save that covers the shutdown */
} NvmeZnsShutdown;

/* In the namespace's AioContext: a save that begins after this point */
static void nvme_zns_shutdown_bh(void *opaque)
{
    NvmeZnsShutdown *sd = opaque;

    /* Whether one runs or not, the save asked for is the next to start */
    sd->save = sd->ns->zns->saves_started + 1;
    nvme_zns_save(sd->ns, NULL);
}

/*
 * Controller shutdown (Base 3.6.2): before it is reported complete, a save
 * that began after it did has completed, so zoned.state covers every write
 * completed before it. A save already under way does not: it recorded the
 * pointers of when it began. The drain before does not wait for one
 * either, since its next step starts from a completion.
 */
void nvme_zns_shutdown(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    NvmeZnsShutdown sd = { .ns = ns };
    AioContext *ctx;

    if (!z || !ns->zone_state) {
        return;
    }
    ctx = blk_get_aio_context(ns->blk);
    nvme_wait_begin();
    aio_wait_bh_oneshot(ctx, nvme_zns_shutdown_bh, &sd);
    AIO_WAIT_WHILE(ctx, (int32_t)(qatomic_read(&z->saves_done) -
                                  sd.save) < 0);
    nvme_wait_end();
}

/* The namespace is quiesced (Format): no save runs, none waits. */
void nvme_zns_format(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;

    nvme_zns_init_zones(ns);
    if (!ns->zone_state) {
        return;
    }
    if (z->saving) {
        nvme_zns_save(ns, NULL);
        return;
    }
    nvme_zns_save_now(ns);
}

void nvme_zns_cleanup(NvmeNamespace *ns)
{
    if (ns->zns) {
        g_free(ns->zns->zones);
        g_free(ns->zns->ext);
        g_free(ns->zns->save_buf);
        g_free(ns->zns);
        ns->zns = NULL;
        ns->csi = NVME_CSI_NVM;
    }
}
