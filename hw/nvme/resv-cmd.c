/*
 * NVMe device model: the reservation commands (Reservation Register,
 * Report, Acquire, Release), the command behaviour check on I/O, the
 * Reservation Notification log and event, the Reservation Notification
 * Mask and Reservation Persistence features, and resv.state, where the
 * state of resv.c persists. Written from NVM Express Base 2.0, 8.19.
 *
 * Threads: the reservation commands are I/O commands and, like the
 * namespace's state, belong to its AioContext (an iothread with
 * iothread=); the Persistence feature goes there too. The notification
 * logs, masks and events belong to the controllers' main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/* The host controller n stands for */
static NvmeResvHost nvme_resv_host_of(NvmeCtrl *n)
{
    NvmeResvHost h = { .cntlid = n->cntlid };

    memcpy(h.id, n->host_id, sizeof(h.id));
    return h;
}

/* Controller property hostid=: 16 or 32 hex digits */
bool nvme_ctrl_parse_hostid(NvmeCtrl *n, Error **errp)
{
    const char *s = n->params.hostid;
    size_t len = s ? strlen(s) : 0;

    if (!s) {
        return true;
    }
    if (len != 16 && len != 32) {
        error_setg(errp, "nvme: hostid must be 16 or 32 hexadecimal digits");
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        int v = g_ascii_xdigit_value(s[i]);

        if (v < 0) {
            error_setg(errp, "nvme: hostid must be 16 or 32 hexadecimal "
                       "digits");
            return false;
        }
        n->host_id[i / 2] |= v << (i & 1 ? 0 : 4);
    }
    n->host_id_extended = len == 32;
    return true;
}

bool nvme_resv_setup(NvmeNamespace *ns, Error **errp)
{
    g_autofree void *buf = NULL;

    ns->resv = nvme_resv_new();
    QSIMPLEQ_INIT(&ns->resv_saver.waiters);
    if (!ns->resv_state) {
        return true;
    }
    if (blk_set_perm(ns->resv_state, BLK_PERM_CONSISTENT_READ |
                     BLK_PERM_WRITE, BLK_PERM_CONSISTENT_READ |
                     BLK_PERM_WRITE_UNCHANGED | BLK_PERM_RESIZE, errp) < 0) {
        return false;
    }
    if (blk_getlength(ns->resv_state) < NVME_RESV_SAVED_SIZE) {
        error_setg(errp, "nvme namespace: resv.state needs %d bytes",
                   NVME_RESV_SAVED_SIZE);
        return false;
    }
    buf = g_malloc(NVME_RESV_SAVED_SIZE);
    if (blk_pread(ns->resv_state, 0, NVME_RESV_SAVED_SIZE, buf, 0) < 0) {
        error_setg(errp, "nvme namespace: cannot read resv.state");
        return false;
    }
    if (!nvme_resv_load(ns->resv, buf, &ns->resv_saver.generation, errp)) {
        error_prepend(errp, "nvme namespace: resv.state: ");
        return false;
    }
    return true;
}

/*
 * Saving the state to resv.state before a command completes. All of it
 * runs in the namespace's AioContext. One write (and its flush) of a
 * snapshot is in flight at a time: a change made meanwhile waits for the
 * next write, of the latest snapshot, so that the file never ends older
 * than what a completed command changed, whatever order writes finish in.
 * Each write goes to the copy the newest one is not in (resv.c); the
 * generation moves on only once a write and its flush succeeded, so a
 * failed write is retried over the same copy, never over the good one.
 */

struct NvmeResvWaiter {
    NvmeRequest *req;
    uint64_t change;        /* the change it waits to see saved */
    QSIMPLEQ_ENTRY(NvmeResvWaiter) next;
};

typedef struct NvmeResvSave {
    NvmeNamespace *ns;
    void *buf;
    QEMUIOVector qiov;
    uint64_t generation;    /* of the copy it writes */
} NvmeResvSave;

static void nvme_resv_save_start(NvmeNamespace *ns);

static void nvme_resv_saved(void *opaque, int ret)
{
    NvmeResvSave *s = opaque;
    NvmeNamespace *ns = s->ns;
    NvmeResvSaver *sv = &ns->resv_saver;
    NvmeResvWaiter *w;

    if (ret < 0) {
        trace_nvme_resv_save_failed(ns->nsid, ret);
    } else {
        sv->generation = s->generation;
    }
    qemu_vfree(s->buf);
    g_free(s);
    sv->busy = false;
    /* The snapshot held every change up to in_flight */
    while ((w = QSIMPLEQ_FIRST(&sv->waiters)) && w->change <= sv->in_flight) {
        QSIMPLEQ_REMOVE_HEAD(&sv->waiters, next);
        if (ret < 0) {
            w->req->status = NVME_SC_INTERNAL_ERROR;
        }
        nvme_req_complete(w->req);
        g_free(w);
    }
    if (!QSIMPLEQ_EMPTY(&sv->waiters)) {
        nvme_resv_save_start(ns);
    }
    /* Last: a quiesce waiting for the save may free ns right after */
    nvme_ns_work_end(ns);
}

static void nvme_resv_written(void *opaque, int ret)
{
    NvmeResvSave *s = opaque;

    if (ret < 0) {
        nvme_resv_saved(s, ret);
        return;
    }
    blk_aio_flush(s->ns->resv_state, nvme_resv_saved, s);
}

static void nvme_resv_save_start(NvmeNamespace *ns)
{
    NvmeResvSaver *sv = &ns->resv_saver;
    NvmeResvSave *s = g_new0(NvmeResvSave, 1);
    uint64_t offset;

    sv->busy = true;
    nvme_ns_work_begin(ns);
    sv->in_flight = sv->changes;
    trace_nvme_resv_save(ns->nsid, sv->in_flight);
    s->ns = ns;
    s->generation = sv->generation + 1;
    s->buf = blk_blockalign(ns->resv_state, NVME_RESV_COPY_SIZE);
    offset = nvme_resv_save(ns->resv, s->generation, s->buf);
    qemu_iovec_init_buf(&s->qiov, s->buf, NVME_RESV_COPY_SIZE);
    blk_aio_pwritev(ns->resv_state, offset, &s->qiov, 0, nvme_resv_written,
                    s);
}

/* Completes req (status success) once resv.state holds the new state. */
static uint16_t nvme_resv_persist(NvmeRequest *req, NvmeNamespace *ns)
{
    NvmeResvSaver *sv = &ns->resv_saver;
    NvmeResvWaiter *w;

    if (!ns->resv_state) {
        return NVME_SC_SUCCESS;
    }
    w = g_new0(NvmeResvWaiter, 1);
    w->req = req;
    w->change = ++sv->changes;
    QSIMPLEQ_INSERT_TAIL(&sv->waiters, w, next);
    req->status = NVME_SC_SUCCESS;
    if (!sv->busy) {
        nvme_resv_save_start(ns);
    }
    return NVME_NO_COMPLETE;
}

/* Runs fn in the namespace's AioContext, where its I/O commands run */
static void nvme_resv_run_in_ns(NvmeNamespace *ns, void (*fn)(void *),
                                void *opaque)
{
    AioContext *ctx = blk_get_aio_context(ns->blk);

    if (ctx == qemu_get_current_aio_context()) {
        fn(opaque);
    } else {
        nvme_wait_begin();
        aio_wait_bh_oneshot(ctx, fn, opaque);
        nvme_wait_end();
    }
}

/*
 * Notifications: a log page per event, for the hosts it concerns. The
 * logs, masks and events of the controllers belong to the main loop.
 */

static void nvme_resv_log_push(NvmeCtrl *c, uint32_t nsid, uint8_t type)
{
    NvmeResvNotificationLog *page;

    c->resv_log_count++;
    if (c->nr_resv_log == NVME_RESV_LOG_MAX) {
        return;     /* lost; the count tells the host */
    }
    page = &c->resv_log[c->nr_resv_log++];
    memset(page, 0, sizeof(*page));
    page->count = cpu_to_le64(c->resv_log_count);
    page->type = type;
    page->nsid = cpu_to_le32(nsid);
    nvme_enqueue_event(c, NVME_AER_TYPE_IO_SPECIFIC,
                       NVME_AER_IO_RESV_LOG_AVAILABLE,
                       NVME_LOG_RESV_NOTIFICATION);
}

static void nvme_resv_deliver(NvmeCtrl *n, NvmeNamespace *ns,
                              const NvmeResvNotices *out)
{
    for (uint32_t i = 0; i < out->count; i++) {
        uint8_t type = out->notice[i].type;

        for (int id = 0; id < NVME_MAX_CONTROLLERS; id++) {
            NvmeCtrl *c = nvme_subsys_slot_ctrl(n, id);
            NvmeResvHost h;

            if (!c || c->namespaces[ns->nsid] != ns ||
                (c->resv_mask[ns->nsid] & (1u << type))) {
                continue;
            }
            h = nvme_resv_host_of(c);
            if (nvme_resv_host_equal(&h, &out->notice[i].host)) {
                trace_nvme_resv_notice(c->cntlid, ns->nsid, type);
                nvme_resv_log_push(c, ns->nsid, type);
            }
        }
    }
}

typedef struct NvmeResvDelivery {
    NvmeCtrl *n;
    NvmeNamespace *ns;
    NvmeResvNotices out;
} NvmeResvDelivery;

static void nvme_resv_deliver_bh(void *opaque)
{
    NvmeResvDelivery *d = opaque;

    nvme_resv_deliver(d->n, d->ns, &d->out);
    blk_dec_in_flight(d->ns->blk);
    g_free(d);
}

/*
 * From an iothread the notices go to the main loop. The namespace's
 * in-flight count holds them there: a drain (detach, reset, unplug) of
 * the namespace waits for them, so n and ns outlive the bottom half.
 */
static void nvme_resv_notify_hosts(NvmeCtrl *n, NvmeNamespace *ns,
                                   const NvmeResvNotices *out)
{
    NvmeResvDelivery *d;

    if (!out->count) {
        return;
    }
    if (qemu_get_current_aio_context() == qemu_get_aio_context()) {
        nvme_resv_deliver(n, ns, out);
        return;
    }
    d = g_new(NvmeResvDelivery, 1);
    d->n = n;
    d->ns = ns;
    d->out = *out;
    blk_inc_in_flight(ns->blk);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), nvme_resv_deliver_bh, d);
}

uint16_t nvme_resv_log(NvmeCtrl *n, NvmeRequest *req, uint64_t offset,
                       uint64_t len, bool rae)
{
    NvmeResvNotificationLog page = {};

    if (offset >= sizeof(page)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "log page offset beyond the log");
    }
    if (n->nr_resv_log) {
        page = n->resv_log[0];
        n->nr_resv_log--;
        memmove(&n->resv_log[0], &n->resv_log[1],
                n->nr_resv_log * sizeof(page));
        page.nr_available = MIN(n->nr_resv_log, 255);
    }
    if (!rae) {
        nvme_clear_events(n, NVME_AER_TYPE_IO_SPECIFIC);
    }
    return nvme_dma_to_host(n, req, (uint8_t *)&page + offset,
                            MIN(len, sizeof(page) - offset));
}

/* The command behaviour table on I/O commands */
uint16_t nvme_resv_check_io(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeResvHost h = nvme_resv_host_of(n);
    bool is_write;

    switch (req->cmd.opcode) {
    case NVME_CMD_READ:
    case NVME_CMD_COMPARE:
    case NVME_CMD_VERIFY:
    case NVME_CMD_ZONE_MGMT_RECV:   /* ZNS 1.1: the read command group */
        is_write = false;
        break;
    case NVME_CMD_WRITE:
    case NVME_CMD_WRITE_ZEROES:
    case NVME_CMD_WRITE_UNCOR:
    case NVME_CMD_DSM:
    case NVME_CMD_COPY:
    case NVME_CMD_ZONE_APPEND:
    case NVME_CMD_ZONE_MGMT_SEND:
        is_write = true;
        break;
    default:
        return NVME_SC_SUCCESS;
    }
    if (nvme_resv_conflict(req->ns->resv, &h, is_write)) {
        trace_nvme_resv_conflict(n->cntlid, req->ns->nsid, req->cmd.opcode);
        return NVME_SC_RESERVATION_CONFLICT | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

/* Register, Acquire, Release: the keys, then resv.c, then the notices */

static uint16_t nvme_resv_done(NvmeCtrl *n, NvmeRequest *req,
                               uint16_t status, const NvmeResvNotices *out)
{
    if (status) {
        trace_nvme_resv_refused(n->cntlid, req->ns->nsid, req->cmd.opcode,
                                status);
        return status;
    }
    nvme_resv_notify_hosts(n, req->ns, out);
    return nvme_resv_persist(req, req->ns);
}

uint16_t nvme_resv_register_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t cptpl = cdw10 >> 30;
    NvmeResvHost h = nvme_resv_host_of(n);
    NvmeResvNotices out = {};
    uint64_t keys[2];
    uint16_t status;

    if (cptpl == 1 ||
        (cptpl == NVME_RESV_CPTPL_SET && !req->ns->resv_state)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "CPTPL not possible");
    }
    status = nvme_dma_from_host(n, req, keys, sizeof(keys));
    if (status) {
        return status;
    }
    status = nvme_resv_register(req->ns->resv, &h, cdw10 & 0x7,
                                cdw10 & NVME_RESV_IEKEY,
                                le64_to_cpu(keys[0]), le64_to_cpu(keys[1]),
                                &out);
    if (!status && cptpl) {
        nvme_resv_set_ptpl(req->ns->resv, cptpl == NVME_RESV_CPTPL_SET);
    }
    return nvme_resv_done(n, req, status, &out);
}

/*
 * RESCAP.IEKEY13 is set: IEKEY is obsolete in Acquire and Release, where
 * Base 1.3 and later make a controller refuse it.
 */
static uint16_t nvme_resv_check_iekey(NvmeRequest *req, uint32_t cdw10)
{
    if (cdw10 & NVME_RESV_IEKEY) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "IEKEY set in Reservation Acquire/Release");
    }
    return NVME_SC_SUCCESS;
}

/*
 * Preempt and Abort: the commands of the preempted hosts still held on
 * the namespace are aborted as the Abort command aborts them (abort.c).
 * Every controller of the subsystem runs its I/O queues in this
 * AioContext, where their requests complete and queues are freed.
 */
static void nvme_resv_abort_preempted(NvmeCtrl *n, NvmeRequest *acq,
                                      const NvmeResvNotices *out)
{
    NvmeNamespace *ns = acq->ns;

    for (int id = 0; id < NVME_MAX_CONTROLLERS; id++) {
        /* nvme_exit() takes a controller out of here, then waits for us */
        NvmeCtrl *c = nvme_subsys_slot_ctrl(n, id);
        NvmeResvHost h;
        bool preempted = false;

        if (!c) {
            continue;
        }
        h = nvme_resv_host_of(c);
        for (uint32_t i = 0; i < out->count; i++) {
            preempted |= out->notice[i].type == NVME_RESV_NOTICE_REG_PREEMPTED
                         && nvme_resv_host_equal(&h, &out->notice[i].host);
        }
        for (uint32_t q = 1; preempted && q < c->num_queues; q++) {
            NvmeSQueue *sq = c->sq[q];
            NvmeRequest *r;

            if (!sq) {
                continue;
            }
            QTAILQ_FOREACH(r, &sq->out_req_list, entry) {
                if (r != acq && r->ns == ns && !r->abort_status) {
                    trace_nvme_resv_abort(c->cntlid, ns->nsid, sq->sqid,
                                          le16_to_cpu(r->cmd.cid));
                    /* Base 2.0, 8.19.7: aborted due to Preempt and Abort */
                    r->abort_status = NVME_SC_ABORTED_PREEMPT;
                    if (r->aiocb) {
                        blk_aio_cancel_async(r->aiocb);
                    }
                }
            }
        }
    }
}

uint16_t nvme_resv_acquire_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    NvmeResvHost h = nvme_resv_host_of(n);
    NvmeResvNotices out = {};
    uint64_t keys[2];
    uint16_t status;

    status = nvme_resv_check_iekey(req, cdw10);
    if (status) {
        return status;
    }
    status = nvme_dma_from_host(n, req, keys, sizeof(keys));
    if (status) {
        return status;
    }
    status = nvme_resv_acquire(req->ns->resv, &h, cdw10 & 0x7,
                               le64_to_cpu(keys[0]), le64_to_cpu(keys[1]),
                               (cdw10 >> 8) & 0xff, &out);
    if (!status && (cdw10 & 0x7) == NVME_RESV_PREEMPT_ABORT) {
        nvme_resv_abort_preempted(n, req, &out);
    }
    return nvme_resv_done(n, req, status, &out);
}

uint16_t nvme_resv_release_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    NvmeResvHost h = nvme_resv_host_of(n);
    NvmeResvNotices out = {};
    uint64_t crkey;
    uint16_t status;

    status = nvme_resv_check_iekey(req, cdw10);
    if (status) {
        return status;
    }
    status = nvme_dma_from_host(n, req, &crkey, sizeof(crkey));
    if (status) {
        return status;
    }
    status = nvme_resv_release(req->ns->resv, &h, cdw10 & 0x7,
                               le64_to_cpu(crkey), (cdw10 >> 8) & 0xff, &out);
    return nvme_resv_done(n, req, status, &out);
}

/* Reservation Report: 64-bit host IDs, or 128-bit ones with EDS */
/*
 * Reservation Report lists registered controllers: every controller of a
 * registered host that has the namespace attached (a host registers once,
 * through any of its controllers); the one it registered through when
 * none has. Fills ids (NVME_MAX_CONTROLLERS at most), returns how many.
 */
static uint32_t nvme_resv_host_ctrls(NvmeCtrl *n, NvmeNamespace *ns,
                                     const NvmeResvHost *h, uint16_t *ids)
{
    uint32_t count = 0;

    for (int id = 0; id < NVME_MAX_CONTROLLERS; id++) {
        NvmeCtrl *c = nvme_subsys_slot_ctrl(n, id);
        NvmeResvHost ch;

        if (!c || c->namespaces[ns->nsid] != ns) {
            continue;
        }
        ch = nvme_resv_host_of(c);
        if (nvme_resv_host_equal(&ch, h)) {
            ids[count++] = c->cntlid;
        }
    }
    if (!count) {
        ids[count++] = h->cntlid;
    }
    return count;
}

uint16_t nvme_resv_report_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    uint64_t len = ((uint64_t)le32_to_cpu(req->cmd.cdw10) + 1) * 4;
    bool eds = le32_to_cpu(req->cmd.cdw11) & 1;
    size_t head = eds ? sizeof(NvmeResvStatusExt) : sizeof(NvmeResvStatus);
    size_t entry = eds ? sizeof(NvmeResvControllerExt)
                       : sizeof(NvmeResvController);
    g_autofree uint8_t *buf = NULL;
    uint16_t ids[NVME_MAX_CONTROLLERS];
    uint32_t listed = 0;
    NvmeResvStatus st;
    NvmeResvHost h;
    uint64_t key;
    bool holder;

    if (!eds && n->host_id_extended) {
        return nvme_cmd_error(req, NVME_SC_HOST_ID_INCONSISTENT | NVME_SC_DNR,
                              "128-bit host identifiers need EDS");
    }
    if (len > nvme_xfer_limit(n->params.mdts)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "report larger than MDTS");
    }
    /* No more than the header and every controller of every registrant */
    len = MIN(len, head + (uint64_t)NVME_RESV_MAX_REGISTRANTS *
                          NVME_MAX_CONTROLLERS * entry);
    buf = g_malloc0(MAX(len, head));
    nvme_resv_status(req->ns->resv, &st);
    for (uint32_t i = 0;
         nvme_resv_registrant(req->ns->resv, i, &h, &key, &holder); i++) {
        uint32_t count = nvme_resv_host_ctrls(n, req->ns, &h, ids);

        for (uint32_t j = 0; j < count; j++, listed++) {
            uint8_t *p = buf + head + listed * entry;

            if (head + (listed + 1) * entry > len) {
                continue;       /* counted, not listed */
            }
            if (eds) {
                NvmeResvControllerExt e = {
                    .cntlid = cpu_to_le16(ids[j]), .rcsts = holder,
                    .rkey = cpu_to_le64(key),
                };

                memcpy(e.hostid, h.id, sizeof(e.hostid));
                memcpy(p, &e, sizeof(e));
            } else {
                NvmeResvController e = {
                    .cntlid = cpu_to_le16(ids[j]), .rcsts = holder,
                    .rkey = cpu_to_le64(key),
                };

                /* The identifier's first 8 bytes, as the host gave them */
                memcpy(&e.hostid, h.id, sizeof(e.hostid));
                memcpy(p, &e, sizeof(e));
            }
        }
    }
    st.regctl = cpu_to_le16(listed);
    memcpy(buf, &st, sizeof(st));
    return nvme_dma_to_host(n, req, buf, len);
}

/*
 * Features: Reservation Notification Mask (82h), Persistence (83h). The
 * masks belong to the controller (main loop); the PTPL state belongs to
 * the namespace, whose commands run in its AioContext: 83h goes there.
 */

typedef struct NvmeResvPtplCall {
    NvmeRequest *req;
    NvmeNamespace *ns;
    bool ptpl;
    uint16_t status;
} NvmeResvPtplCall;

static void nvme_resv_ptpl_get_in_ns(void *opaque)
{
    NvmeResvPtplCall *c = opaque;

    c->ptpl = nvme_resv_ptpl(c->ns->resv);
}

static void nvme_resv_ptpl_set_in_ns(void *opaque)
{
    NvmeResvPtplCall *c = opaque;

    nvme_resv_set_ptpl(c->ns->resv, c->ptpl);
    c->status = nvme_resv_persist(c->req, c->ns);
}

uint16_t nvme_resv_mask_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0)
{
    uint16_t status = NVME_SC_SUCCESS;
    NvmeNamespace *ns = nvme_feature_ns(n, req, &status);

    if (ns) {
        *dw0 = n->resv_mask[ns->nsid];
    }
    return status;
}

uint16_t nvme_resv_mask_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint16_t status = NVME_SC_SUCCESS;
    NvmeNamespace *ns;

    if (nsid == NVME_NSID_BROADCAST) {
        memset(n->resv_mask, dw11 & NVME_RESV_NOTICE_MASKABLE,
               sizeof(n->resv_mask));
        return NVME_SC_SUCCESS;
    }
    ns = nvme_feature_ns(n, req, &status);
    if (ns) {
        n->resv_mask[ns->nsid] = dw11 & NVME_RESV_NOTICE_MASKABLE;
    }
    return status;
}

uint16_t nvme_resv_ptpl_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0)
{
    uint16_t status = NVME_SC_SUCCESS;
    NvmeResvPtplCall c = { .req = req };

    c.ns = nvme_feature_ns(n, req, &status);
    if (c.ns) {
        nvme_resv_run_in_ns(c.ns, nvme_resv_ptpl_get_in_ns, &c);
        *dw0 = c.ptpl;
    }
    return status;
}

/* Completes, like the commands, once resv.state holds the setting */
uint16_t nvme_resv_ptpl_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11)
{
    uint16_t status = NVME_SC_SUCCESS;
    NvmeResvPtplCall c = { .req = req, .ptpl = dw11 & 1 };

    c.ns = nvme_feature_ns(n, req, &status);
    if (!c.ns) {
        return status;
    }
    if (c.ptpl && !c.ns->resv_state) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Persist Through Power Loss needs resv.state");
    }
    nvme_resv_run_in_ns(c.ns, nvme_resv_ptpl_set_in_ns, &c);
    return c.status;
}
