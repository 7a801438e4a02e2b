/*
 * NVMe device model: atomic write units and the Write Atomicity Normal
 * feature (NVM Command Set 2.1.4, Atomic Operations; Base 5.27.1.10).
 *
 * A Write or Write Zeroes of at most AWUN + 1 blocks (AWUPF + 1 while the
 * host has set Write Atomicity Normal's DN bit) is atomic with respect to
 * other reads and writes: an overlapping read returns all old or all new
 * data, and overlapping writes leave one of them whole. The block layer
 * promises none of that (a command may be several backend requests, and
 * backends split and reorder), so the device orders the commands instead.
 *
 * From the first command a controller with atomic write units (AWUPF is
 * at most AWUN, so AWUN > 0) sends to a namespace on, every Read, Compare,
 * Write and Write Zeroes on it, from any controller, goes on the
 * namespace's atomic_ranges list in arrival order. A command waits while
 * an earlier one on the list overlaps it and one of the two is an atomic
 * write; it leaves the list when it completes, and the waiters it held
 * back start in their queue's context. Reads and larger writes only wait
 * for (and hold back) atomic writes: between themselves they cost a scan
 * of the list. No boundaries are reported (NSFEAT bit 1 is clear), so
 * none can be crossed. Copy, Zone Append, Verify and Dataset Management
 * are not ordered.
 *
 * A waiting command is outstanding like any other: it holds its SQ and its
 * namespace, so deleting the queue, a reset, Format or a detach wait for it
 * (it starts, or completes aborted, once the command ahead of it is done).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"
#include "trace.h"

/* Write Atomicity Normal, CDW11 bit 0: Disable Normal */
#define NVME_WRITE_ATOMICITY_DN     (1u << 0)

bool nvme_atomic_check_params(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;
    uint64_t max_blocks = nvme_xfer_limit(p->mdts) / BDRV_SECTOR_SIZE;

    if (p->atomic_awupf > p->atomic_awun) {
        error_setg(errp, "nvme: atomic.awupf (%u) must not exceed "
                   "atomic.awun (%u)", p->atomic_awupf, p->atomic_awun);
        return false;
    }
    /*
     * FFFFh means every command is atomic (Identify Controller, AWUN);
     * any other unit must fit in one transfer of the smallest blocks.
     */
    if (p->atomic_awun != 0xffff && p->atomic_awun + 1u > max_blocks) {
        error_setg(errp, "nvme: atomic.awun (%u, 0's based) exceeds mdts: "
                   "%" PRIu64 " blocks of 512 bytes at most", p->atomic_awun,
                   max_blocks);
        return false;
    }
    return true;
}

void nvme_atomic_init_id_ctrl(NvmeCtrl *n, NvmeIdCtrl *id)
{
    id->awun = cpu_to_le16(n->params.atomic_awun);
    id->awupf = cpu_to_le16(n->params.atomic_awupf);
}

void nvme_atomic_ns_init(NvmeNamespace *ns)
{
    qemu_spin_init(&ns->atomic_lock);
    QTAILQ_INIT(&ns->atomic_ranges);
}

/* Blocks a write of n may hold atomically now */
static uint32_t nvme_atomic_unit(NvmeCtrl *n)
{
    uint32_t wa = qatomic_read(&n->features.write_atomicity);

    return (wa & NVME_WRITE_ATOMICITY_DN ? n->params.atomic_awupf
                                         : n->params.atomic_awun) + 1u;
}

/* Overlapping, and one of them an atomic write (so a write) */
static bool nvme_atomic_conflict(const NvmeAtomicRange *a,
                                 const NvmeAtomicRange *b)
{
    return a->slba < b->end && b->slba < a->end && (a->atomic || b->atomic);
}

/* Under atomic_lock: whether a request ahead of req holds it back */
static bool nvme_atomic_blocked(NvmeNamespace *ns, NvmeRequest *req)
{
    NvmeRequest *e;

    QTAILQ_FOREACH(e, &ns->atomic_ranges, atomic.entry) {
        if (e == req) {
            return false;
        }
        if (nvme_atomic_conflict(&e->atomic, &req->atomic)) {
            return true;
        }
    }
    return false;
}

bool nvme_atomic_enter(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeAtomicRange *r = &req->atomic;
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    uint32_t nlb = NVME_RW_NLB(le32_to_cpu(req->cmd.cdw12)) + 1;
    bool write;

    switch (req->cmd.opcode) {
    case NVME_CMD_WRITE:
    case NVME_CMD_WRITE_ZEROES:
        write = true;
        break;
    case NVME_CMD_READ:
    case NVME_CMD_COMPARE:
        write = false;
        break;
    default:
        return true;
    }
    if (unlikely(!qatomic_read(&ns->atomic_tracked))) {
        /* From now on, whichever controller sends them */
        qatomic_set(&ns->atomic_tracked, true);
    }
    if (slba >= ns->nlbas) {
        return true;        /* the handler fails it */
    }
    r->slba = slba;
    r->end = slba + MIN(nlb, ns->nlbas - slba);
    r->atomic = write && nlb <= nvme_atomic_unit(n);
    r->ns = ns;
    qemu_spin_lock(&ns->atomic_lock);
    QTAILQ_INSERT_TAIL(&ns->atomic_ranges, req, atomic.entry);
    r->waiting = nvme_atomic_blocked(ns, req);
    qemu_spin_unlock(&ns->atomic_lock);
    if (r->waiting) {
        trace_nvme_atomic_wait(req->sq->sqid, le16_to_cpu(req->cmd.cid),
                               ns->nsid, slba, nlb);
        return false;
    }
    return true;
}

/* In the request's context: the command that held it back is done */
static void nvme_atomic_resume(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeSQueue *sq = req->sq;
    NvmeCtrl *n = sq->ctrl;
    uint16_t status;

    trace_nvme_atomic_resume(sq->sqid, le16_to_cpu(req->cmd.cid));
    if (qatomic_read(&sq->deleting) ||
        !(qatomic_read(&n->csts) & NVME_CSTS_RDY_BIT)) {
        status = NVME_SC_ABORTED_SQ_DELETION;
    } else if (req->abort_status) {
        status = req->abort_status;     /* Abort reached it while waiting */
    } else {
        status = nvme_io_run(n, req);
    }
    if (status != NVME_NO_COMPLETE) {
        req->status = status;
        nvme_req_complete(req);
    }
}

/* Completion of req: the waiters it alone held back start. */
void nvme_atomic_leave(NvmeRequest *req)
{
    NvmeAtomicRange *r = &req->atomic;
    NvmeNamespace *ns = r->ns;
    NvmeRequest *w, *wake = NULL, **tail = &wake;

    qemu_spin_lock(&ns->atomic_lock);
    QTAILQ_REMOVE(&ns->atomic_ranges, req, atomic.entry);
    r->ns = NULL;
    /* Only a waiter that req overlapped can have lost its last obstacle. */
    QTAILQ_FOREACH(w, &ns->atomic_ranges, atomic.entry) {
        if (w->atomic.waiting && nvme_atomic_conflict(r, &w->atomic) &&
            !nvme_atomic_blocked(ns, w)) {
            w->atomic.waiting = false;
            w->atomic.wake_next = NULL;
            *tail = w;
            tail = &w->atomic.wake_next;
        }
    }
    qemu_spin_unlock(&ns->atomic_lock);
    while (wake) {
        w = wake;
        wake = w->atomic.wake_next;
        aio_bh_schedule_oneshot(nvme_req_context(w), nvme_atomic_resume, w);
    }
}
