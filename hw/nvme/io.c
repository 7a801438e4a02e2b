/*
 * NVMe device model: moving a request's data between guest memory and a
 * namespace's block backend.
 *
 * The fast path maps the request's scatter/gather list straight into an
 * I/O vector kept in the request and runs the block layer request in a
 * coroutine from the thread's pool: no allocation and no bottom half per
 * command once a queue has warmed up. The completion callback runs as soon
 * as the backend has finished, in the namespace's AioContext.
 *
 * Memory that cannot be mapped right now (bounce buffers in use, say) takes
 * the dma-helpers path instead, which waits for mapping resources.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "system/block-backend.h"
#include "system/dma.h"
#include "nvme.h"
#include "trace.h"

static void nvme_io_unmap(NvmeBlkIo *io, AddressSpace *as, int niov)
{
    /* What the device wrote must be marked dirty, whatever the outcome. */
    bool to_host = io->dir == DMA_DIRECTION_FROM_DEVICE;

    /* A bounce buffer for MMIO is written back here */
    nvme_dma_enter();
    for (int i = 0; i < niov; i++) {
        dma_memory_unmap(as, io->iov[i].iov_base, io->iov[i].iov_len, io->dir,
                         to_host ? io->iov[i].iov_len : 0);
    }
    nvme_dma_exit();
}

/* Room for one more mapping; the array only grows, and lives with the SQ. */
static void nvme_io_reserve(NvmeBlkIo *io, uint32_t used)
{
    uint32_t cap;

    if (used < io->iov_cap) {
        return;
    }
    cap = io->iov_cap * 2;
    if (io->iov == io->iov_inline) {
        io->iov = g_new(struct iovec, cap);
        memcpy(io->iov, io->iov_inline, sizeof(io->iov_inline));
    } else {
        io->iov = g_renew(struct iovec, io->iov, cap);
    }
    io->iov_cap = cap;
}

/*
 * Data in one piece of RAM (a 4 KiB I/O, say) goes through a memory region
 * cache: cheaper to set up and tear down than address_space_map/unmap.
 */
static bool nvme_io_map_cached(NvmeRequest *req, NvmeBlkIo *io)
{
    QEMUSGList *sg = &req->sg;
    dma_addr_t len = sg->sg[0].len;

    if (address_space_cache_init(&io->cache, sg->as, sg->sg[0].base, len,
                                 io->dir == DMA_DIRECTION_FROM_DEVICE) != len ||
        !io->cache.ptr) {
        address_space_cache_destroy(&io->cache);
        return false;
    }
    io->cached = true;
    io->iov[0].iov_base = io->cache.ptr;
    io->iov[0].iov_len = len;
    qemu_iovec_init_external(&io->qiov, io->iov, 1);
    return true;
}

static void nvme_io_unmap_cached(NvmeBlkIo *io)
{
    if (io->dir == DMA_DIRECTION_FROM_DEVICE) {
        address_space_cache_invalidate(&io->cache, 0, io->iov[0].iov_len);
    }
    address_space_cache_destroy(&io->cache);
    io->cached = false;
}

/* Maps every entry of req->sg; false (nothing left mapped) if one fails. */
static bool nvme_io_map(NvmeRequest *req, NvmeBlkIo *io)
{
    QEMUSGList *sg = &req->sg;
    uint32_t niov = 0;

    if (sg->nsg == 1 && nvme_io_map_cached(req, io)) {
        return true;
    }
    if (!bql_locked() && !nvme_sg_is_ram(sg, io->dir)) {
        /* A bounce buffer for MMIO would take the BQL (nvme_dma_allowed) */
        return false;
    }

    for (int i = 0; i < sg->nsg; i++) {
        dma_addr_t base = sg->sg[i].base;
        dma_addr_t left = sg->sg[i].len;

        while (left) {
            dma_addr_t len = left;
            void *p;

            /* MMIO is read into a bounce buffer here */
            nvme_dma_enter();
            p = dma_memory_map(sg->as, base, &len, io->dir,
                               MEMTXATTRS_UNSPECIFIED);
            nvme_dma_exit();

            if (!p) {
                trace_nvme_io_map_fallback(le16_to_cpu(req->cmd.cid), base);
                nvme_io_unmap(io, sg->as, niov);
                return false;
            }
            nvme_io_reserve(io, niov);
            io->iov[niov].iov_base = p;
            io->iov[niov].iov_len = len;
            niov++;
            base += len;
            left -= len;
        }
    }
    qemu_iovec_init_external(&io->qiov, io->iov, niov);
    return true;
}

static void coroutine_fn nvme_io_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeBlkIo *io = &req->io;
    BlockBackend *blk = io->blk;
    int ret;

    /*
     * No count of ours across blk_co_*: they count the request themselves
     * and drop that count while a drain parks it until the drain ends,
     * where ours would make the drain wait for ever. Ours covers the
     * unmap and the completion that come after.
     */
    if (io->flush) {
        ret = blk_co_flush(io->blk);
    } else if (io->dir == DMA_DIRECTION_TO_DEVICE) {
        ret = blk_co_pwritev(io->blk, io->offset, io->qiov.size, &io->qiov,
                             io->flags);
    } else {
        ret = blk_co_preadv(io->blk, io->offset, io->qiov.size, &io->qiov,
                            io->flags);
    }
    blk_inc_in_flight(blk);
    if (io->cached) {
        nvme_io_unmap_cached(io);
    } else if (!io->flush) {
        nvme_io_unmap(io, req->sg.as, io->qiov.niov);
    }
    io->cb(req, ret);
    /*
     * The command may be complete, its queue freed and req reused by now:
     * only the backend is left to release (namespaces outlive this).
     */
    blk_dec_in_flight(blk);
}

/* Entered from elsewhere: nvme_io_start counted it until now */
static void coroutine_fn nvme_io_co_scheduled(void *opaque)
{
    NvmeRequest *req = opaque;

    blk_dec_in_flight(req->io.blk);
    nvme_io_co(req);
}

static void coroutine_mixed_fn nvme_io_start(NvmeRequest *req)
{
    NvmeBlkIo *io = &req->io;
    Coroutine *co;

    /* The runner runs in the controller's context; so must the backend. */
    if (req->sq->runner == qemu_coroutine_self() &&
        blk_get_aio_context(io->blk) == nvme_req_ctrl(req)->ctx) {
        /* In the SQ's round: run here; a yield hands the round on. */
        nvme_io_co(req);
        return;
    }
    /* Drains must see the request before its coroutine first runs. */
    blk_inc_in_flight(io->blk);
    co = qemu_coroutine_create(nvme_io_co_scheduled, req);
    aio_co_enter(blk_get_aio_context(io->blk), co);
}

static BlockAIOCB *nvme_io_dma_submit(int64_t offset, QEMUIOVector *iov,
                                      BlockCompletionFunc *cb,
                                      void *cb_opaque, void *opaque)
{
    NvmeBlkIo *io = opaque;

    if (io->dir == DMA_DIRECTION_TO_DEVICE) {
        return blk_aio_pwritev(io->blk, offset, iov, io->flags, cb,
                               cb_opaque);
    }
    return blk_aio_preadv(io->blk, offset, iov, io->flags, cb, cb_opaque);
}

static void nvme_io_dma_done(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    req->aiocb = NULL;
    req->io.cb(req, ret);
}

void nvme_io_rw(NvmeRequest *req, BlockBackend *blk, int64_t offset,
                DMADirection dir, BdrvRequestFlags flags, NvmeIoCompletion *cb)
{
    NvmeBlkIo *io = &req->io;

    io->blk = blk;
    io->offset = offset;
    io->dir = dir;
    io->flags = flags;
    io->flush = false;
    io->cb = cb;
    if (nvme_io_map(req, io)) {
        nvme_io_start(req);
        return;
    }
    if (!nvme_sg_is_ram(&req->sg, dir)) {
        /* Device memory whose bounce buffer is busy: no retry through MMIO */
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: data buffer of cid %u is "
                      "device memory that cannot be mapped now\n",
                      le16_to_cpu(req->cmd.cid));
        trace_nvme_err_io_not_ram(le16_to_cpu(req->cmd.cid));
        cb(req, -EFAULT);
        return;
    }
    req->aiocb = dma_blk_io(&req->sg, offset, BDRV_SECTOR_SIZE,
                            nvme_io_dma_submit, io, nvme_io_dma_done, req,
                            dir);
}

void nvme_io_flush(NvmeRequest *req, BlockBackend *blk, NvmeIoCompletion *cb)
{
    NvmeBlkIo *io = &req->io;

    io->blk = blk;
    io->flush = true;
    io->cb = cb;
    nvme_io_start(req);
}

void nvme_io_init(NvmeBlkIo *io)
{
    io->iov = io->iov_inline;
    io->iov_cap = ARRAY_SIZE(io->iov_inline);
}

void nvme_io_cleanup(NvmeBlkIo *io)
{
    if (io->iov != io->iov_inline) {
        g_free(io->iov);
    }
    nvme_io_init(io);
}
