/*
 * NVMe device model: Deallocated or Unwritten Logical Block errors (DULBE,
 * Error Recovery feature bit 16; NVM Command Set 3.2.3.2.1).
 *
 * What is deallocated is what the backend says holds no data: a hole of a
 * raw file, an unallocated or zero cluster of qcow2, as block status
 * reports them. Reads of such blocks fail while DULBE is set; without it
 * they return zeroes (DLFEAT).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "system/block-backend.h"
#include "block/block-common.h"
#include "nvme.h"
#include "trace.h"

typedef struct NvmeDulbeCheck {
    NvmeRequest *req;
    int64_t offset;
    int64_t bytes;
    NvmeDulbeDone *done;
    void *opaque;
} NvmeDulbeCheck;

static void coroutine_fn nvme_dulbe_co(void *opaque)
{
    NvmeDulbeCheck c = *(NvmeDulbeCheck *)opaque;
    NvmeRequest *req = c.req;
    BlockBackend *blk = req->ns->blk;

    g_free(opaque);
    while (c.bytes > 0) {
        int64_t pnum = 0;
        int ret = blk_co_block_status_above(blk, NULL, c.offset, c.bytes,
                                            &pnum, NULL, NULL);

        if (ret < 0 || pnum <= 0) {
            break;      /* unknown: read it */
        }
        if (!(ret & BDRV_BLOCK_DATA) || (ret & BDRV_BLOCK_ZERO)) {
            trace_nvme_dulbe(le16_to_cpu(req->cmd.cid), req->ns->nsid,
                             c.offset);
            c.done(c.opaque, NVME_SC_DEALLOCATED_OR_UNWRITTEN | NVME_SC_DNR);
            return;
        }
        c.offset += pnum;
        c.bytes -= pnum;
    }
    c.done(c.opaque, NVME_SC_SUCCESS);
}

/*
 * With DULBE set, checks [offset, offset + bytes) of req's namespace
 * before a read (Read, Compare, Verify: NVM 3.2.3.2.1), then calls
 * done(opaque, status): Deallocated or Unwritten Logical Block, or
 * success to go on. Block status may wait, so this runs in a coroutine
 * of its own.
 */
void nvme_dulbe_check(NvmeRequest *req, int64_t offset, int64_t bytes,
                      NvmeDulbeDone *done, void *opaque)
{
    NvmeDulbeCheck *c = g_new(NvmeDulbeCheck, 1);

    *c = (NvmeDulbeCheck) {
        .req = req, .offset = offset, .bytes = bytes, .done = done,
        .opaque = opaque,
    };
    qemu_coroutine_enter(qemu_coroutine_create(nvme_dulbe_co, c));
}

bool nvme_dulbe_enabled(NvmeCtrl *n)
{
    return n->features.err_rec & NVME_ERR_REC_DULBE;
}

/*
 * The deallocation granularity the backend really has (NPDG/NPDA, 0's
 * based, in logical blocks, at most FFFFh): its subcluster (or cluster)
 * size, else a discard_granularity the user set. 0 (one block) when
 * neither is known, as for a raw file: discard_granularity is then 0 or
 * -1 (not set), which says nothing about the backend.
 */
uint32_t nvme_dulbe_granularity(NvmeNamespace *ns)
{
    BlockDriverState *bs = blk_bs(ns->blk);
    BlockDriverInfo bdi;
    uint64_t bytes = 0;

    if (bs && bdrv_get_info(bs, &bdi) == 0 && bdi.cluster_size > 0) {
        bytes = bdi.subcluster_size > 0 ? bdi.subcluster_size
                                        : bdi.cluster_size;
    } else if (ns->conf && ns->conf->discard_granularity != 0 &&
               ns->conf->discard_granularity != (uint32_t)-1) {
        bytes = ns->conf->discard_granularity;
    }
    if (bytes <= ns->lba_size) {
        return 0;
    }
    return MIN(bytes / ns->lba_size - 1, UINT16_MAX);
}
