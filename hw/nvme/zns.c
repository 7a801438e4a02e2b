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
 * zoned.state is written by one save at a time (nvme_zns_save_*): each
 * save flushes the namespace's data, then writes the records of every
 * zone and flushes them, and completes the requests that were waiting
 * when it started; requests that arrive meanwhile wait for the next one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/* Where the zone state backend keeps what (see docs/system/devices/nvme.rst) */
#define NVME_ZS_MAGIC           "QNVMEZNS"
#define NVME_ZS_VERSION         1
#define NVME_ZS_RECORDS         4096    /* offset of the zone records */

typedef struct QEMU_PACKED NvmeZoneStateHeader {
    char magic[8];
    uint32_t version;
    uint32_t rsvd12;
    uint64_t zone_size;         /* bytes */
    uint64_t zone_cap;          /* bytes */
    uint32_t nr_zones;
    uint32_t descr_ext_size;
} NvmeZoneStateHeader;

/*
 * One record per zone, the write pointer in bytes so that Format NVM to
 * another LBA size keeps it valid; 16 bytes never straddle a sector.
 */
typedef struct QEMU_PACKED NvmeZoneRecord {
    uint8_t state;
    uint8_t attrs;
    uint8_t rsvd2[6];
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
    uint8_t state;
    uint8_t attrs;
    bool ext_durable;       /* its descriptor extension is in zoned.state */
} NvmeZone;

struct NvmeZoned {
    NvmeZonedParams *params;
    uint64_t zsze;          /* zone size, LBAs */
    uint64_t zcap;          /* zone capacity, LBAs */
    uint32_t nr_zones;
    uint32_t nr_active;
    uint32_t nr_open;
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
    NvmeZoneRecord *save_buf;   /* the records the running save writes */
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

/* Moves zone to state, keeping the active and open counts. */
static void nvme_zone_set_state(NvmeZoned *z, NvmeZone *zone, uint8_t state)
{
    z->nr_active -= nvme_zone_is_active(zone);
    z->nr_open -= nvme_zone_is_open(zone);
    zone->state = state;
    z->nr_active += nvme_zone_is_active(zone);
    z->nr_open += nvme_zone_is_open(zone);
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
 * implicitly opened zone opened longest ago (Zoned 2.1.1.4.1).
 */
static bool nvme_zns_make_open_room(NvmeZoned *z)
{
    NvmeZone *victim = NULL;

    if (!z->params->max_open || z->nr_open < z->params->max_open) {
        return true;
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
static uint16_t nvme_zone_open(NvmeZoned *z, NvmeZone *zone, bool explicit)
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
        if (!nvme_zns_make_open_room(z)) {
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

uint16_t nvme_zns_write_begin(NvmeRequest *req, uint64_t slba, uint32_t nlb)
{
    NvmeZoned *z = req->ns->zns;
    NvmeZone *zone = nvme_zone_of(z, slba);
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
    if (slba != zone->wp) {
        return nvme_zns_error(req, NVME_SC_ZONE_INVALID_WRITE | NVME_SC_DNR,
                              zone->zslba, "write not at the write pointer");
    }
    status = nvme_zone_open(z, zone, false);
    if (status) {
        return nvme_zns_error(req, status, zone->zslba, "no zone resources");
    }
    zone->wp += nlb;
    QTAILQ_INSERT_TAIL(&zone->writes, req, zone_entry);
    if (zone->wp == zone->zslba + z->zcap) {
        nvme_zone_set_state(z, zone, NVME_ZONE_STATE_FULL);
    }
    trace_nvme_zns_write(req->ns->nsid, zone->zslba, slba, nlb, zone->state);
    return NVME_SC_SUCCESS;
}

/* Zone state persistence (zoned.state) */

static size_t nvme_zns_records_size(NvmeZoned *z)
{
    return QEMU_ALIGN_UP((size_t)z->nr_zones * sizeof(NvmeZoneRecord),
                         BDRV_SECTOR_SIZE);
}

static uint64_t nvme_zns_ext_offset(NvmeZoned *z)
{
    return NVME_ZS_RECORDS + QEMU_ALIGN_UP(nvme_zns_records_size(z), 4096);
}

/*
 * What a restart should find, from the durable pointers: a zone that is
 * full only because writes still in flight or not yet flushed fill it is
 * recorded closed (or empty) where its durable data ends.
 */
static void nvme_zns_snapshot(NvmeNamespace *ns, NvmeZoneRecord *rec)
{
    NvmeZoned *z = ns->zns;

    memset(rec, 0, nvme_zns_records_size(z));
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];
        uint8_t state = zone->state;
        uint64_t wp = zone->wp_durable;

        if (state == NVME_ZONE_STATE_FULL && wp < zone->zslba + z->zcap) {
            state = NVME_ZONE_STATE_CLOSED;
        }
        rec[i].state = state;
        rec[i].attrs = zone->attrs;
        if (!zone->ext_durable) {
            rec[i].attrs &= ~NVME_ZA_ZD_EXT_VALID;
        }
        rec[i].wp = cpu_to_le64(wp << ns->lba_bits);
    }
}

/*
 * Writes and flushes the records at once, outside the asynchronous saves:
 * at setup, and in a drained namespace (no save running).
 */
static int nvme_zns_save_now(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    int ret;

    nvme_zns_snapshot(ns, z->save_buf);
    ret = blk_pwrite(ns->zone_state, NVME_ZS_RECORDS,
                     nvme_zns_records_size(z), z->save_buf, 0);
    if (ret >= 0) {
        ret = blk_flush(ns->zone_state);
    }
    if (ret < 0) {
        trace_nvme_zns_persist_failed(ns->nsid, ret);
    }
    return ret;
}

static void nvme_zns_save_start(NvmeNamespace *ns);

static void nvme_zns_save_done(NvmeNamespace *ns, int ret, uint16_t status)
{
    NvmeZoned *z = ns->zns;
    NvmeRequest *req;

    if (ret < 0) {
        trace_nvme_zns_persist_failed(ns->nsid, ret);
    }
    while ((req = QTAILQ_FIRST(&z->save_running))) {
        QTAILQ_REMOVE(&z->save_running, req, zone_entry);
        if (ret < 0) {
            req->status = status;
        }
        nvme_req_complete(req);
    }
    z->saving = false;
    if (!QTAILQ_EMPTY(&z->save_waiting) || z->save_again) {
        nvme_zns_save_start(ns);
    }
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

    if (ret < 0) {
        nvme_zns_save_done(ns, ret, NVME_SC_WRITE_FAULT);
        return;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];

        zone->wp_durable = MAX(zone->wp_durable, zone->wp_saving);
    }
    nvme_zns_snapshot(ns, z->save_buf);
    qemu_iovec_init_buf(&z->save_qiov, z->save_buf,
                        nvme_zns_records_size(z));
    blk_aio_pwritev(ns->zone_state, NVME_ZS_RECORDS, &z->save_qiov, 0,
                    nvme_zns_save_written, ns);
}

static void nvme_zns_save_start(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;
    NvmeRequest *req;

    z->saving = true;
    z->save_again = false;
    while ((req = QTAILQ_FIRST(&z->save_waiting))) {
        QTAILQ_REMOVE(&z->save_waiting, req, zone_entry);
        QTAILQ_INSERT_TAIL(&z->save_running, req, zone_entry);
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        z->zones[i].wp_saving = z->zones[i].wp_done;
    }
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

/* wp_done: up to the oldest write in flight, never past a failed one */
static void nvme_zone_update_done(NvmeZone *zone)
{
    NvmeRequest *oldest = QTAILQ_FIRST(&zone->writes);
    uint64_t done = oldest ? nvme_zns_req_slba(oldest) : zone->wp;

    done = MIN(MIN(done, zone->wp), zone->wp_failed);
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
        if (req->status != NVME_SC_SUCCESS) {
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

/* Zeroes the blocks of the zones being reset, one zone at a time. */
typedef struct NvmeZnsReset {
    NvmeRequest *req;
    unsigned long *zones;   /* bitmap of zone indexes still to zero */
    uint32_t next;
} NvmeZnsReset;

static void nvme_zns_reset_step(void *opaque, int ret)
{
    NvmeZnsReset *r = opaque;
    NvmeRequest *req = r->req;
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;

    if (ret < 0) {
        req->status = NVME_SC_INTERNAL_ERROR;
    }
    r->next = find_next_bit(r->zones, z->nr_zones, r->next);
    if (ret < 0 || r->next >= z->nr_zones) {
        g_free(r->zones);
        g_free(r);
        nvme_zns_save(ns, req);
        return;
    }
    blk_aio_pwrite_zeroes(ns->blk, (r->next * z->zsze) << ns->lba_bits,
                          z->zsze << ns->lba_bits, BDRV_REQ_MAY_UNMAP,
                          nvme_zns_reset_step, r);
    r->next++;
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

/* One action on one zone; *zero is set when its blocks must be zeroed. */
static uint16_t nvme_zone_action(NvmeZoned *z, NvmeZone *zone, uint8_t zsa,
                                 bool *zero)
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
        return nvme_zone_open(z, zone, true);
    case NVME_ZONE_ACTION_CLOSE:
        if (nvme_zone_is_open(zone)) {
            /* Nothing written and no extension: back to empty */
            nvme_zone_set_state(z, zone, zone->wp == zone->zslba &&
                                !(zone->attrs & NVME_ZA_ZD_EXT_VALID) ?
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
    blk_aio_pwritev(ns->zone_state, nvme_zns_ext_offset(z) +
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
    zone->attrs |= NVME_ZA_ZD_EXT_VALID;
    nvme_zone_set_state(z, zone, NVME_ZONE_STATE_CLOSED);
    req->status = NVME_SC_SUCCESS;
    if (!req->ns->zone_state) {
        return NVME_SC_SUCCESS;
    }
    nvme_zns_save_ext(req, zone, g_steal_pointer(&ext));
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_zone_mgmt_send(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeZoned *z = ns->zns;
    uint32_t cdw13 = le32_to_cpu(req->cmd.cdw13);
    uint8_t zsa = cdw13 & 0xff;
    bool all = cdw13 & NVME_ZONE_SEND_SELECT_ALL;
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    g_autofree unsigned long *zero = bitmap_new(z->nr_zones);
    NvmeZnsReset *r;
    uint16_t status = NVME_SC_SUCCESS;

    trace_nvme_zone_mgmt_send(le16_to_cpu(req->cmd.cid), ns->nsid, slba, zsa,
                              all);
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
    if (all) {
        uint32_t count = 0;

        for (uint32_t i = 0; i < z->nr_zones; i++) {
            count += nvme_zone_selected(&z->zones[i], zsa);
        }
        /* Open all closed zones: all or nothing */
        if (zsa == NVME_ZONE_ACTION_OPEN && z->params->max_open &&
            z->nr_open + count > z->params->max_open) {
            return nvme_zns_error(req, NVME_SC_TOO_MANY_OPEN_ZONES |
                                  NVME_SC_DNR, 0, "cannot open all zones");
        }
        for (uint32_t i = 0; i < z->nr_zones; i++) {
            bool zero_it = false;

            if (nvme_zone_selected(&z->zones[i], zsa)) {
                nvme_zone_action(z, &z->zones[i], zsa, &zero_it);
            }
            if (zero_it) {
                set_bit(i, zero);
            }
        }
    } else {
        bool zero_it = false;

        status = nvme_zone_action(z, nvme_zone_of(z, slba), zsa, &zero_it);
        if (status) {
            return nvme_zns_error(req, status, slba, "zone action refused");
        }
        if (zero_it) {
            set_bit(slba / z->zsze, zero);
        }
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
    size_t entry = sizeof(NvmeZoneDescr) + ext;
    g_autofree uint8_t *buf = NULL;
    NvmeZoneReportHeader *hdr;
    uint64_t matched = 0, listed = 0;
    uint64_t room;
    uint8_t *p;

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
    /* Beyond the header and every zone there is nothing to report. */
    room = MIN(len, sizeof(*hdr) + (uint64_t)z->nr_zones * entry);
    buf = g_malloc0(room);
    hdr = (NvmeZoneReportHeader *)buf;
    p = buf + sizeof(*hdr);
    for (uint64_t i = slba / z->zsze; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];
        NvmeZoneDescr d = {};

        if (!nvme_zone_matches(zone, zrasf)) {
            continue;
        }
        matched++;
        if (room < sizeof(*hdr) || (p - buf) + entry > room) {
            continue;
        }
        d.zt = NVME_ZONE_TYPE_SEQ_WRITE;
        d.zs = zone->state << 4;
        d.za = zone->attrs;
        d.zcap = cpu_to_le64(z->zcap);
        d.zslba = cpu_to_le64(zone->zslba);
        d.wp = cpu_to_le64(zone->wp);
        memcpy(p, &d, sizeof(d));
        if (ext && (zone->attrs & NVME_ZA_ZD_EXT_VALID)) {
            memcpy(p + sizeof(d), z->ext + i * ext, ext);
        }
        p += entry;
        listed++;
    }
    if (room >= sizeof(*hdr)) {
        hdr->nr_zones = cpu_to_le64(partial ? listed : matched);
    }
    return nvme_dma_to_host(n, req, buf, room);
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
    aio_wait_bh_oneshot(blk_get_aio_context(ns->blk), nvme_zns_inject_bh,
                        &inj);
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
    z->nr_active = z->nr_open = 0;
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        NvmeZone *zone = &z->zones[i];

        zone->zslba = i * z->zsze;
        zone->state = NVME_ZONE_STATE_EMPTY;
        nvme_zone_reset(z, zone);
    }
    memset(z->ext, 0, (size_t)z->nr_zones * z->params->descr_ext_size);
    ns->nlbas = (uint64_t)z->nr_zones * z->zsze;
    ns->id_ns.nsze = ns->id_ns.ncap = ns->id_ns.nuse = cpu_to_le64(ns->nlbas);
    nvme_zns_init_identify(ns);
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
 * (Zoned 2.1.1.3).
 */
static bool nvme_zone_restore(NvmeNamespace *ns, NvmeZone *zone,
                              const NvmeZoneRecord *rec)
{
    NvmeZoned *z = ns->zns;
    uint64_t wp = le64_to_cpu(rec->wp) >> ns->lba_bits;
    uint8_t state = rec->state;

    if (wp < zone->zslba || wp > zone->zslba + z->zcap) {
        return false;
    }
    zone->attrs = rec->attrs & NVME_ZA_ZD_EXT_VALID;
    zone->ext_durable = zone->attrs;
    switch (state) {
    case NVME_ZONE_STATE_IMPLICITLY_OPEN:
    case NVME_ZONE_STATE_EXPLICITLY_OPEN:
    case NVME_ZONE_STATE_CLOSED:
        if (wp == zone->zslba + z->zcap) {
            state = NVME_ZONE_STATE_FULL;
        } else if (wp == zone->zslba && !zone->attrs) {
            state = NVME_ZONE_STATE_EMPTY;
        } else {
            state = NVME_ZONE_STATE_CLOSED;
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

/* Restores the persisted zones, or writes a fresh state. */
static bool nvme_zns_load(NvmeNamespace *ns, Error **errp)
{
    NvmeZoned *z = ns->zns;
    NvmeZoneStateHeader hdr = {}, want = {
        .version = cpu_to_le32(NVME_ZS_VERSION),
        .zone_size = cpu_to_le64(z->params->zone_size),
        .zone_cap = cpu_to_le64(z->params->zone_cap),
        .nr_zones = cpu_to_le32(z->nr_zones),
        .descr_ext_size = cpu_to_le32(z->params->descr_ext_size),
    };
    uint64_t need = nvme_zns_ext_offset(z) +
                    (uint64_t)z->nr_zones * z->params->descr_ext_size;
    int64_t have = blk_getlength(ns->zone_state);
    g_autofree NvmeZoneRecord *rec = NULL;

    memcpy(want.magic, NVME_ZS_MAGIC, sizeof(want.magic));
    if (have < (int64_t)need) {
        error_setg(errp, "nvme namespace: zoned.state needs %" PRIu64
                   " bytes for %u zones", need, z->nr_zones);
        return false;
    }
    if (blk_pread(ns->zone_state, 0, sizeof(hdr), &hdr, 0) < 0) {
        error_setg(errp, "nvme namespace: cannot read zoned.state");
        return false;
    }
    if (memcmp(hdr.magic, NVME_ZS_MAGIC, sizeof(hdr.magic))) {
        /* A new state, every zone empty: the header goes last. */
        if (nvme_zns_save_now(ns) < 0 ||
            blk_pwrite(ns->zone_state, 0, sizeof(want), &want, 0) < 0 ||
            blk_flush(ns->zone_state) < 0) {
            error_setg(errp, "nvme namespace: cannot write zoned.state");
            return false;
        }
        return true;
    }
    if (memcmp(&hdr, &want, sizeof(hdr))) {
        error_setg(errp, "nvme namespace: zoned.state was written for "
                   "another zone geometry");
        return false;
    }
    rec = g_malloc(nvme_zns_records_size(z));
    if (blk_pread(ns->zone_state, NVME_ZS_RECORDS, nvme_zns_records_size(z),
                  rec, 0) < 0 ||
        (z->params->descr_ext_size &&
         blk_pread(ns->zone_state, nvme_zns_ext_offset(z),
                   (int64_t)z->nr_zones * z->params->descr_ext_size,
                   z->ext, 0) < 0)) {
        error_setg(errp, "nvme namespace: cannot read zoned.state");
        return false;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        if (!nvme_zone_restore(ns, &z->zones[i], &rec[i])) {
            error_setg(errp, "nvme namespace: zoned.state is damaged "
                       "(zone %u)", i);
            return false;
        }
    }
    nvme_zns_finish_excess(ns);
    return true;
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
    z->save_buf = g_malloc(nvme_zns_records_size(z));
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

/*
 * Controller shutdown, once the namespace was drained and its data
 * flushed: every completed write is durable, and the records catch up.
 */
void nvme_zns_shutdown(NvmeNamespace *ns)
{
    NvmeZoned *z = ns->zns;

    if (!z || !ns->zone_state || z->saving) {
        return;
    }
    for (uint32_t i = 0; i < z->nr_zones; i++) {
        z->zones[i].wp_durable = MAX(z->zones[i].wp_durable,
                                     z->zones[i].wp_done);
    }
    nvme_zns_save_now(ns);
}

/* After the namespace was drained: no save runs, none waits. */
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
