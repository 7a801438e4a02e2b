/*
 * NVMe device model: the Abort command (Base 5.1).
 *
 * A command can be aborted while the controller holds it: an outstanding
 * Asynchronous Event Request completes at once, and an I/O command waiting
 * for its backend completes, when the backend lets go of it, with Command
 * Abort Requested (a block request that can be cancelled is cancelled
 * first). A command still in its submission queue is remembered (up to ACL
 * + 1 per queue) and completes with that status as soon as it is fetched.
 * A command that already completed is not aborted: DW0 bit 0 says so.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

typedef struct NvmeAbortSearch {
    NvmeSQueue *sq;
    uint16_t cid;           /* little endian, as in the SQE */
    bool found;
} NvmeAbortSearch;

/* Whether an entry between the SQ's head and tail carries cid. */
static bool nvme_abort_sq_holds(NvmeSQueue *sq, uint16_t cid)
{
    NvmeCmd batch[NVME_SQ_BATCH];
    uint32_t pos = sq->head;
    int count;

    while ((count = nvme_sq_read(sq, pos, batch, NVME_SQ_BATCH)) > 0) {
        for (int i = 0; i < count; i++) {
            if (batch[i].cid == cid) {
                return true;
            }
        }
        pos = (pos + count) % sq->size;
    }
    return false;
}

/* Runs in the SQ's context, where its requests are fetched and complete. */
static void nvme_abort_in_queue(void *opaque)
{
    NvmeAbortSearch *s = opaque;
    NvmeSQueue *sq = s->sq;
    NvmeRequest *req;

    QTAILQ_FOREACH(req, &sq->out_req_list, entry) {
        if (req->cmd.cid == s->cid && !req->abort_status) {
            req->abort_status = NVME_SC_ABORT_REQUESTED;
            if (req->aiocb) {
                blk_aio_cancel_async(req->aiocb);
            }
            s->found = true;
            return;
        }
    }
    if (sq->nr_abort_cids < ARRAY_SIZE(sq->abort_cids) &&
        nvme_abort_sq_holds(sq, s->cid)) {
        sq->abort_cids[sq->nr_abort_cids++] = s->cid;
        s->found = true;
    }
}

bool nvme_abort_take_pending(NvmeSQueue *sq, uint16_t cid)
{
    for (uint8_t i = 0; i < sq->nr_abort_cids; i++) {
        if (sq->abort_cids[i] == cid) {
            sq->abort_cids[i] = sq->abort_cids[--sq->nr_abort_cids];
            return true;
        }
    }
    return false;
}

static bool nvme_abort_aer(NvmeCtrl *n, uint16_t cid)
{
    for (int i = 0; i < n->outstanding_aers; i++) {
        NvmeRequest *aer = n->aer_reqs[i];

        if (aer->cmd.cid != cid) {
            continue;
        }
        n->outstanding_aers--;
        memmove(&n->aer_reqs[i], &n->aer_reqs[i + 1],
                (n->outstanding_aers - i) * sizeof(n->aer_reqs[0]));
        n->aer_reqs[n->outstanding_aers] = NULL;
        aer->status = NVME_SC_ABORT_REQUESTED;
        nvme_req_complete(aer);
        return true;
    }
    return false;
}

uint16_t nvme_abort(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint16_t sqid = dw10 & 0xffff;
    uint16_t cid = cpu_to_le16(dw10 >> 16);
    bool aborted = false;

    if (sqid == 0) {
        aborted = cid != req->cmd.cid && nvme_abort_aer(n, cid);
    } else if (sqid < n->num_queues && n->sq[sqid]) {
        NvmeAbortSearch s = { .sq = n->sq[sqid], .cid = cid };

        nvme_run_in_queue_context(n, sqid, nvme_abort_in_queue, &s);
        aborted = s.found;
    }
    trace_nvme_abort(sqid, le16_to_cpu(cid), aborted);
    /* DW0 bit 0 set: the command was not aborted. */
    req->cqe.result = cpu_to_le32(!aborted);
    return NVME_SC_SUCCESS;
}
