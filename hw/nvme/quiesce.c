/*
 * NVMe device model: the request lifecycle and the one quiesce primitive.
 *
 * A command is outstanding from the moment it is fetched until its
 * completion is handed to the CQ, across every step that its callbacks
 * chain (DSM ranges, Compare and Verify chunks, Copy, zone state saves, an
 * admin completion hopping back to the main loop). Two counts follow it:
 *
 * - sq->inflight: the counted requests of the SQ (all but waiting AERs,
 *   which wait for events rather than for work). Deleting the SQ or
 *   resetting the controller stops fetching and waits for it to reach 0.
 * - ns->inflight: requests and background work (state saves) on the
 *   namespace. Format, detach and delete quiesce the namespace: I/O fetched
 *   meanwhile is parked, and the quiesce waits for the count to reach 0.
 *
 * blk_drain alone cannot do this: a callback that submits the next step
 * while the backend is drained is parked by the block layer and resumed
 * after the drain, when the queue may already be gone.
 *
 * Waits run in the main loop (AIO_WAIT_WHILE); whoever drops a count to 0
 * kicks it with aio_wait_kick(), from any thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "block/aio-wait.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/*
 * Nested waits. A wait polls the main loop, where admin queues run: an
 * admin command run inside it that waits in turn (Delete I/O SQ for a
 * command parked by the outer quiesce, say) would never return, and one
 * that frees (a namespace delete) would pull state from under the outer
 * one. So no admin queue of any controller is processed while a wait is
 * under way; they are resumed when it ends.
 *
 * Drained backends. While one of our backends is drained, a command's next
 * step waits in the block layer until the drain ends; a quiesce waiting
 * for that command inside the drained section (a vm_stop's drain that runs
 * our bottom halves, say) would never return. So no queue of any
 * controller is processed while any of our backends is drained, and the
 * end of the last drain resumes them all.
 */
static unsigned nvme_waits;
static unsigned nvme_drained_backends;
static QLIST_HEAD(, NvmeCtrl) nvme_ctrls = QLIST_HEAD_INITIALIZER(nvme_ctrls);

bool nvme_queue_may_run(uint16_t qid)
{
    return !qatomic_read(&nvme_drained_backends) &&
           (qid || !qatomic_read(&nvme_waits));
}

static void nvme_backend_drained_begin(void *opaque)
{
    qatomic_inc(&nvme_drained_backends);
}

/* Main loop: the queues that were skipped meanwhile go on */
static void nvme_backends_resume(void *opaque)
{
    NvmeCtrl *n;

    QLIST_FOREACH(n, &nvme_ctrls, all_entry) {
        for (uint32_t i = 0; i < n->num_queues; i++) {
            if (n->sq[i]) {
                qemu_bh_schedule(n->sq[i]->bh);
            }
        }
    }
}

void nvme_wait_begin(void)
{
    nvme_waits++;
}

/* The admin queues skipped during the waits go on */
void nvme_wait_end(void)
{
    if (--nvme_waits == 0) {
        aio_bh_schedule_oneshot(qemu_get_aio_context(), nvme_backends_resume,
                                NULL);
    }
}

/* Resumes from a bottom half: the caller may be about to free a queue */
static void nvme_backend_drained_end(void *opaque)
{
    if (qatomic_fetch_dec(&nvme_drained_backends) == 1) {
        aio_bh_schedule_oneshot(qemu_get_aio_context(), nvme_backends_resume,
                                NULL);
    }
}

static const BlockDevOps nvme_backend_ops = {
    .drained_begin = nvme_backend_drained_begin,
    .drained_end = nvme_backend_drained_end,
};

void nvme_backend_watch(BlockBackend *blk)
{
    if (blk) {
        blk_set_dev_ops(blk, &nvme_backend_ops, NULL);
    }
}

void nvme_backend_unwatch(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    if (blk_in_drain(blk)) {
        /* Its drain began with us watching; it ends without us. */
        nvme_backend_drained_end(NULL);
    }
    blk_set_dev_ops(blk, NULL, NULL);
}

void nvme_ctrl_register(NvmeCtrl *n)
{
    QLIST_INSERT_HEAD(&nvme_ctrls, n, all_entry);
}

void nvme_ctrl_unregister(NvmeCtrl *n)
{
    QLIST_REMOVE(n, all_entry);
}

/* Namespaces */

static void nvme_ns_release(NvmeNamespace *ns)
{
    if (qatomic_fetch_dec(&ns->inflight) == 1) {
        aio_wait_kick();
    }
}

void nvme_ns_work_begin(NvmeNamespace *ns)
{
    qatomic_inc(&ns->inflight);
}

void nvme_ns_work_end(NvmeNamespace *ns)
{
    nvme_ns_release(ns);
}

bool nvme_ns_enter(NvmeRequest *req, NvmeNamespace *ns)
{
    /*
     * Count first, then look at the depth; nvme_ns_quiesce_begin raises
     * the depth, then reads the count. One of the two sees the other.
     */
    qatomic_inc(&ns->inflight);
    smp_mb__after_rmw();
    if (likely(!qatomic_read(&ns->quiesce_depth))) {
        req->held_ns = ns;
        return true;
    }
    qemu_spin_lock(&ns->park_lock);
    if (!ns->quiesce_depth) {
        qemu_spin_unlock(&ns->park_lock);
        req->held_ns = ns;
        return true;
    }
    QTAILQ_INSERT_TAIL(&ns->parked, req, park_entry);
    qemu_spin_unlock(&ns->park_lock);
    trace_nvme_req_parked(req->sq->sqid, le16_to_cpu(req->cmd.cid), ns->nsid);
    nvme_ns_release(ns);
    return false;
}

void nvme_ns_quiesce_begin(NvmeNamespace *ns)
{
    qemu_spin_lock(&ns->park_lock);
    qatomic_inc(&ns->quiesce_depth);
    qemu_spin_unlock(&ns->park_lock);
    smp_mb__after_rmw();
    nvme_ns_wait_idle(ns);
    /* Nothing of ours is in flight: this only waits for others' requests */
    nvme_ns_drain(ns);
}

void nvme_ns_wait_idle(NvmeNamespace *ns)
{
    trace_nvme_ns_quiesce(ns->nsid, qatomic_read(&ns->inflight));
    nvme_wait_begin();
    AIO_WAIT_WHILE(qemu_get_aio_context(), qatomic_read(&ns->inflight) > 0);
    nvme_wait_end();
}

void nvme_ns_quiesce_end(NvmeNamespace *ns)
{
    QTAILQ_HEAD(, NvmeRequest) parked = QTAILQ_HEAD_INITIALIZER(parked);
    NvmeRequest *req, *next;

    qemu_spin_lock(&ns->park_lock);
    if (qatomic_fetch_dec(&ns->quiesce_depth) == 1) {
        QTAILQ_FOREACH_SAFE(req, &ns->parked, park_entry, next) {
            QTAILQ_REMOVE(&ns->parked, req, park_entry);
            QTAILQ_INSERT_TAIL(&parked, req, park_entry);
        }
    }
    qemu_spin_unlock(&ns->park_lock);
    /* They look their namespace up again: it may have gone meanwhile. */
    QTAILQ_FOREACH_SAFE(req, &parked, park_entry, next) {
        aio_bh_schedule_oneshot(nvme_req_context(req), nvme_req_redispatch,
                                req);
    }
}

/* Queues */

void nvme_sq_count_fetched(NvmeSQueue *sq, NvmeRequest *req)
{
    req->counted = true;
    req->held_ns = NULL;
    qatomic_inc(&sq->inflight);
}

void nvme_req_release(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;

    if (req->held_ns) {
        nvme_ns_release(req->held_ns);
        req->held_ns = NULL;
    }
    if (req->counted) {
        req->counted = false;
        if (qatomic_fetch_dec(&sq->inflight) == 1) {
            aio_wait_kick();
        }
    }
}

void nvme_sq_wait_idle(NvmeSQueue *sq)
{
    trace_nvme_sq_wait_idle(sq->sqid, qatomic_read(&sq->inflight));
    nvme_wait_begin();
    AIO_WAIT_WHILE(qemu_get_aio_context(), qatomic_read(&sq->inflight) > 0);
    nvme_wait_end();
}

void nvme_ctrl_quiesce_begin(NvmeCtrl *n)
{
    qatomic_set(&n->fetch_paused, true);
    /* Rounds that run now see the flag; wait for one under way. */
    nvme_run_in_queue_context(n, 1, nvme_nop, NULL);
    for (uint32_t i = 0; i < n->num_queues; i++) {
        if (n->sq[i]) {
            nvme_sq_wait_idle(n->sq[i]);
        }
    }
}

void nvme_ctrl_quiesce_end(NvmeCtrl *n)
{
    qatomic_set(&n->fetch_paused, false);
    for (uint32_t i = 0; i < n->num_queues; i++) {
        if (n->sq[i]) {
            qemu_bh_schedule(n->sq[i]->bh);
        }
    }
}
