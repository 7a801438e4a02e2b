/*
 * NVMe device model: NVM command set I/O commands.
 *
 * Read, Write, Flush, Write Zeroes, Write Uncorrectable, Compare, Verify,
 * Dataset Management and Copy on the namespace's block backend, and the
 * admin side of LBA status (Get LBA Status, LBA Status Information log).
 * Handlers check every field (LBA ranges, sizes, range lists) before any
 * side effect; the completion is posted only from the block layer's
 * callback, after the backend has finished.
 *
 * Commands that need several block layer requests (Compare, Verify, Copy,
 * Dataset Management) keep their progress in req->op and chain the next
 * request from the callback of the previous one, so req->aiocb always names
 * the request in flight. Range lists are not copied (except Copy's on a
 * namespace with metadata, which is read once and used from that copy):
 * they are validated from guest memory first, then each entry is read and
 * checked again when it is processed, so a guest that changes the list
 * under the command only gets an error. Bounce buffers are bounded per
 * request (NVME_NVM_CHUNK) and per controller (NVME_NVM_BOUNCE_BUDGET).
 *
 * Written from the NVM Express NVM Command Set Specification 1.0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "system/block-backend.h"
#include "system/dma.h"
#include "qemu/memalign.h"
#include "qemu/units.h"
#include "nvme.h"
#include "trace.h"

/* Largest bounce buffer one request uses at a time (per data stream). */
#define NVME_NVM_CHUNK          (512 * KiB)
/* Bounce memory all requests of a controller may hold together. */
#define NVME_NVM_BOUNCE_BUDGET  (64 * MiB)
/* Range list entries validated per DMA read. */
#define NVME_NVM_RANGE_BATCH    16

typedef struct NvmeRwParams {
    uint64_t slba;
    uint32_t nlb;       /* 1's based */
    uint64_t offset;    /* bytes */
    uint64_t len;       /* bytes */
} NvmeRwParams;

static uint16_t nvme_check_lba_range(NvmeNamespace *ns, uint64_t slba,
                                     uint32_t nlb)
{
    if (slba >= ns->nlbas || nlb > ns->nlbas - slba) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: LBA range %" PRIu64 "+%u beyond %" PRIu64 "\n",
                      slba, nlb, ns->nlbas);
        trace_nvme_err_lba_range(slba, nlb, ns->nlbas);
        return NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_check_mdts(NvmeCtrl *n, uint64_t len)
{
    if (len > nvme_xfer_limit(n->params.mdts)) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: transfer of %" PRIu64
                      " bytes exceeds MDTS\n", len);
        trace_nvme_err_mdts(len);
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_rw_decode(NvmeCtrl *n, NvmeRequest *req,
                               NvmeRwParams *rw)
{
    NvmeNamespace *ns = req->ns;
    uint32_t cdw12 = le32_to_cpu(req->cmd.cdw12);
    uint16_t status;

    rw->slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
               le32_to_cpu(req->cmd.cdw10);
    rw->nlb = NVME_RW_NLB(cdw12) + 1;
    rw->offset = rw->slba << ns->lba_bits;
    rw->len = (uint64_t)rw->nlb << ns->lba_bits;

    status = nvme_check_mdts(n, rw->len);
    if (status) {
        return status;
    }
    return nvme_check_lba_range(ns, rw->slba, rw->nlb);
}

/* One errno-to-status mapping for every backend failure (NVM 3.x). */
uint16_t nvme_status_from_errno(int ret, bool is_write)
{
    switch (ret) {
    case -ENOSPC:
        return NVME_SC_CAPACITY_EXCEEDED;
    case -EFAULT:
        return NVME_SC_DATA_TRANSFER_ERROR;
    case -EPERM:
    case -EACCES:
        return NVME_SC_WRITE_TO_READ_ONLY | NVME_SC_DNR;
    default:
        return is_write ? NVME_SC_WRITE_FAULT : NVME_SC_UNRECOVERED_READ_ERROR;
    }
}

/* SLBA in CDW10-11 and NLB (0's based) in CDW12 15:0, range checked. */
static uint16_t nvme_lba_decode(NvmeRequest *req, uint64_t *slba,
                                uint32_t *nlb)
{
    *slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
            le32_to_cpu(req->cmd.cdw10);
    *nlb = NVME_RW_NLB(le32_to_cpu(req->cmd.cdw12)) + 1;
    return nvme_check_lba_range(req->ns, *slba, *nlb);
}

/*
 * Write Uncorrectable marks: a sorted array of disjoint, non-adjacent
 * intervals per namespace, at most NVME_UNCOR_MAX_RANGES of them. Reads
 * test it with one comparison when it is empty and a binary search
 * otherwise.
 */

/* Index of the first interval that ends above lba (nr_uncor if none). */
static uint32_t nvme_uncor_find(NvmeNamespace *ns, uint64_t lba)
{
    uint32_t lo = 0, hi = ns->nr_uncor;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (ns->uncor[mid].end <= lba) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static bool nvme_uncor_hit(NvmeNamespace *ns, uint64_t slba, uint64_t nlb)
{
    uint32_t i;

    if (likely(!ns->nr_uncor)) {
        return false;
    }
    i = nvme_uncor_find(ns, slba);
    return i < ns->nr_uncor && ns->uncor[i].start < slba + nlb;
}

static void nvme_uncor_changed(NvmeNamespace *ns)
{
    ns->uncor_gen++;
    trace_nvme_uncor_changed(ns->nsid, ns->nr_uncor);
}

/* Marks [slba, slba + nlb); false if that needs one interval too many. */
static bool nvme_uncor_mark(NvmeNamespace *ns, uint64_t slba, uint64_t nlb)
{
    uint64_t start = slba, end = slba + nlb;
    /* Intervals i..j-1 overlap or touch the new one: they merge into it. */
    uint32_t i = slba ? nvme_uncor_find(ns, slba - 1) : 0;
    uint32_t j = i;

    while (j < ns->nr_uncor && ns->uncor[j].start <= end) {
        start = MIN(start, ns->uncor[j].start);
        end = MAX(end, ns->uncor[j].end);
        j++;
    }
    if (i == j) {
        if (ns->nr_uncor == NVME_UNCOR_MAX_RANGES) {
            return false;
        }
        memmove(&ns->uncor[i + 1], &ns->uncor[i],
                (ns->nr_uncor - i) * sizeof(ns->uncor[0]));
        ns->nr_uncor++;
    } else if (j > i + 1) {
        memmove(&ns->uncor[i + 1], &ns->uncor[j],
                (ns->nr_uncor - j) * sizeof(ns->uncor[0]));
        ns->nr_uncor -= j - i - 1;
    }
    ns->uncor[i] = (NvmeLbaInterval) { .start = start, .end = end };
    nvme_uncor_changed(ns);
    return true;
}

/*
 * Forgets the marks on [slba, slba + nlb): those blocks hold new data.
 * Splitting an interval when the array is full would need one more slot;
 * then the part after the written blocks loses its mark too (reads of it
 * succeed), which is the harmless direction.
 */
void nvme_uncor_clear(NvmeNamespace *ns, uint64_t slba, uint64_t nlb)
{
    uint64_t end = slba + nlb;
    NvmeLbaInterval keep[2];
    uint32_t i, j, nkeep = 0;

    if (likely(!ns->nr_uncor)) {
        return;
    }
    /* Intervals i..j-1 overlap the cleared blocks. */
    i = nvme_uncor_find(ns, slba);
    j = i;
    while (j < ns->nr_uncor && ns->uncor[j].start < end) {
        j++;
    }
    if (i == j) {
        return;
    }
    if (ns->uncor[i].start < slba) {
        keep[nkeep++] = (NvmeLbaInterval) { ns->uncor[i].start, slba };
    }
    if (ns->uncor[j - 1].end > end) {
        keep[nkeep++] = (NvmeLbaInterval) { end, ns->uncor[j - 1].end };
    }
    if (nkeep > j - i && ns->nr_uncor == NVME_UNCOR_MAX_RANGES) {
        trace_nvme_err_uncor_full(ns->nsid, keep[1].start, keep[1].end);
        nkeep--;
    }
    memmove(&ns->uncor[i + nkeep], &ns->uncor[j],
            (ns->nr_uncor - j) * sizeof(ns->uncor[0]));
    memcpy(&ns->uncor[i], keep, nkeep * sizeof(keep[0]));
    ns->nr_uncor = ns->nr_uncor - (j - i) + nkeep;
    nvme_uncor_changed(ns);
}

/* Blocks of [from, to) in marked intervals, and descriptors to list them. */
static void nvme_uncor_count(NvmeNamespace *ns, uint64_t from, uint64_t to,
                             uint64_t *blocks, uint64_t *pieces)
{
    *blocks = 0;
    *pieces = 0;
    for (uint32_t i = nvme_uncor_find(ns, from);
         i < ns->nr_uncor && ns->uncor[i].start < to; i++) {
        uint64_t len = MIN(ns->uncor[i].end, to) -
                       MAX(ns->uncor[i].start, from);

        *blocks += len;
        *pieces += DIV_ROUND_UP(len, UINT32_MAX);
    }
}

/*
 * Next marked piece at or after *lba and below end, at most UINT32_MAX
 * blocks long so that it fits a descriptor; false when there is none.
 */
static bool nvme_uncor_next(NvmeNamespace *ns, uint64_t *lba, uint64_t end,
                            uint64_t *start, uint32_t *nlb)
{
    uint32_t i = nvme_uncor_find(ns, *lba);

    if (*lba >= end || i == ns->nr_uncor || ns->uncor[i].start >= end) {
        return false;
    }
    *start = MAX(*lba, ns->uncor[i].start);
    *nlb = MIN(MIN(ns->uncor[i].end, end) - *start, UINT32_MAX);
    *lba = *start + *nlb;
    return true;
}

uint16_t nvme_uncor_check(NvmeRequest *req, uint64_t slba, uint32_t nlb)
{
    if (nvme_uncor_hit(req->ns, slba, nlb)) {
        trace_nvme_err_uncorrectable(le16_to_cpu(req->cmd.cid),
                                     req->cmd.opcode, slba, nlb);
        return NVME_SC_UNRECOVERED_READ_ERROR | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

/* Multi-step commands: bounce buffer, accounting and completion */

static uint16_t nvme_op_start(NvmeRequest *req, size_t bounce_size,
                              uint64_t acct_bytes, enum BlockAcctType type)
{
    NvmeCtrl *n = nvme_req_ctrl(req);
    BlockBackend *blk = req->ns->blk;

    req->op.bounce = NULL;
    req->op.bounce_size = 0;
    req->op.acct = false;
    if (bounce_size) {
        if (n->nvm_bounce_bytes + bounce_size > NVME_NVM_BOUNCE_BUDGET) {
            /* Too much in flight: the host may retry (no DNR). */
            trace_nvme_err_cmd(req->sq->sqid, req->cmd.opcode,
                               NVME_SC_COMMAND_INTERRUPTED,
                               "bounce buffer budget exhausted");
            return NVME_SC_COMMAND_INTERRUPTED;
        }
        req->op.bounce = blk_try_blockalign(blk, bounce_size);
        if (!req->op.bounce) {
            return NVME_SC_INTERNAL_ERROR;
        }
        req->op.bounce_size = bounce_size;
        n->nvm_bounce_bytes += bounce_size;
    }
    block_acct_start(blk_get_stats(blk), &req->acct, acct_bytes, type);
    req->op.acct = true;
    return NVME_SC_SUCCESS;
}

static void nvme_op_finish(NvmeRequest *req, uint16_t status)
{
    NvmeCtrl *n = nvme_req_ctrl(req);
    BlockAcctStats *stats = blk_get_stats(req->ns->blk);

    if (req->op.bounce) {
        qemu_vfree(req->op.bounce);
        n->nvm_bounce_bytes -= req->op.bounce_size;
        req->op.bounce = NULL;
    }
    if (req->op.acct) {
        if (status) {
            block_acct_failed(stats, &req->acct);
        } else {
            block_acct_done(stats, &req->acct);
        }
        req->op.acct = false;
    }
    req->status = status;
    nvme_req_complete(req);
}

/* Reads the next chunk of op->left blocks at op->lba into the bounce. */
static void nvme_op_read_chunk(NvmeRequest *req, size_t bounce_part,
                               BlockCompletionFunc *cb)
{
    NvmeNamespace *ns = req->ns;
    NvmeNvmOp *op = &req->op;

    op->chunk = MIN(op->left, bounce_part >> ns->lba_bits);
    qemu_iovec_init_buf(&op->iov, op->bounce,
                        (size_t)op->chunk << ns->lba_bits);
    req->aiocb = blk_aio_preadv(ns->blk, op->lba << ns->lba_bits, &op->iov,
                                0, cb, req);
}

static void nvme_rw_done(NvmeRequest *req, int ret)
{
    BlockAcctStats *stats = blk_get_stats(req->ns->blk);
    bool is_write = req->cmd.opcode != NVME_CMD_READ;

    if (ret) {
        block_acct_failed(stats, &req->acct);
        req->status = nvme_status_from_errno(ret, is_write);
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
    } else {
        block_acct_done(stats, &req->acct);
        req->status = NVME_SC_SUCCESS;
    }
    if (unlikely(req->ns->zns) && is_write) {
        nvme_zns_write_end(req);    /* Write, Write Zeroes, Zone Append */
        return;
    }
    nvme_req_complete(req);
}

static void nvme_rw_cb(void *opaque, int ret)
{
    nvme_rw_done(opaque, ret);
}

/* Submits a decoded, mapped and accounted Read */
static void nvme_rw_read_go(NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    int64_t offset = (int64_t)(((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                               le32_to_cpu(req->cmd.cdw10)) << ns->lba_bits;

    if (req->sg_bit_bucket) {
        nvme_blk_read_bounce(req, ns->blk, offset, nvme_rw_done);
    } else {
        nvme_io_rw(req, ns->blk, offset, DMA_DIRECTION_FROM_DEVICE, 0,
                   nvme_rw_done);
    }
}

/* A Read after its DULBE check */
static void nvme_rw_read_dulbe_done(void *opaque, uint16_t status)
{
    NvmeRequest *req = opaque;

    if (status) {
        block_acct_failed(blk_get_stats(req->ns->blk), &req->acct);
        req->status = status;
        nvme_req_complete(req);
        return;
    }
    nvme_rw_read_go(req);
}

static uint16_t nvme_rw(NvmeCtrl *n, NvmeRequest *req, bool is_write)
{
    NvmeNamespace *ns = req->ns;
    BlockBackend *blk = ns->blk;
    NvmeRwParams rw;
    uint16_t status;

    status = nvme_rw_decode(n, req, &rw);
    if (status) {
        return status;
    }
    if (!is_write) {
        status = nvme_uncor_check(req, rw.slba, rw.nlb);
        if (status) {
            return status;
        }
        if (unlikely(ns->zns)) {
            status = nvme_zns_read_check(req, rw.slba, rw.nlb);
            if (status) {
                return status;
            }
        }
    }
    status = nvme_map_dptr(n, req, rw.len);
    if (status) {
        return status;
    }
    if (unlikely(ns->zns) && is_write) {
        status = nvme_zns_write_begin(req, rw.slba, rw.nlb);
        if (status) {
            return status;
        }
    }
    if (is_write) {
        /* New data replaces whatever Write Uncorrectable marked. */
        nvme_uncor_clear(ns, rw.slba, rw.nlb);
    }
    trace_nvme_rw(le16_to_cpu(req->cmd.cid), is_write, ns->nsid, rw.slba,
                  rw.nlb);
    block_acct_start(blk_get_stats(blk), &req->acct, rw.len,
                     is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    if (is_write) {
        n->host_write_commands++;
        n->data_units_written += rw.len;
        nvme_io_rw(req, blk, rw.offset, DMA_DIRECTION_TO_DEVICE,
                   le32_to_cpu(req->cmd.cdw12) & NVME_RW_FUA ? BDRV_REQ_FUA : 0,
                   nvme_rw_done);
    } else {
        n->host_read_commands++;
        n->data_units_read += rw.len;
        if (unlikely(nvme_dulbe_enabled(n))) {
            nvme_dulbe_check(req, rw.offset, rw.len, nvme_rw_read_dulbe_done,
                             req);
        } else {
            nvme_rw_read_go(req);
        }
    }
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_read(NvmeCtrl *n, NvmeRequest *req)
{
    if (unlikely(req->ns->ms)) {
        return nvme_meta_io(n, req);
    }
    return nvme_rw(n, req, false);
}

static uint16_t nvme_write(NvmeCtrl *n, NvmeRequest *req)
{
    if (unlikely(req->ns->ms)) {
        return nvme_meta_io(n, req);
    }
    return nvme_rw(n, req, true);
}

static void nvme_flush_done(NvmeRequest *req, int ret)
{
    BlockAcctStats *stats = blk_get_stats(req->ns->blk);

    if (ret) {
        block_acct_failed(stats, &req->acct);
        req->status = nvme_status_from_errno(ret, true);
    } else {
        block_acct_done(stats, &req->acct);
        req->status = NVME_SC_SUCCESS;
    }
    nvme_req_complete(req);
}

static uint16_t nvme_flush(NvmeCtrl *n, NvmeRequest *req)
{
    BlockBackend *blk = req->ns->blk;

    block_acct_start(blk_get_stats(blk), &req->acct, 0, BLOCK_ACCT_FLUSH);
    nvme_io_flush(req, blk, nvme_flush_done);
    return NVME_NO_COMPLETE;
}

/* Zeroes Write Zeroes writes as data: shared by all, never freed */
#define NVME_ZERO_BUF_SIZE      (4 * MiB)

static void *nvme_zero_buf(void)
{
    static void *zeroes;

    if (!zeroes) {
        zeroes = qemu_memalign(qemu_real_host_page_size(), NVME_ZERO_BUF_SIZE);
        memset(zeroes, 0, NVME_ZERO_BUF_SIZE);
    }
    return zeroes;
}

static void nvme_write_zeroes_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    qemu_iovec_destroy(&req->op.iov);
    nvme_rw_done(req, ret);
}

/*
 * Write Zeroes (NVM Command Set 3.3.8): no data, so no MDTS limit. With
 * DEAC the backend may deallocate; without it the blocks must count as
 * written afterwards (DULBE reads succeed), and a backend's efficient
 * zeroing may leave a hole or a zero cluster that block status cannot
 * tell from a deallocated one, so zeroes are written as data.
 */
static uint16_t nvme_write_zeroes(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint32_t cdw12 = le32_to_cpu(req->cmd.cdw12);

    if (unlikely(ns->ms)) {
        return nvme_meta_io(n, req);
    }
    BdrvRequestFlags flags = 0;
    uint64_t slba;
    uint32_t nlb;
    uint16_t status;

    status = nvme_lba_decode(req, &slba, &nlb);
    if (status) {
        return status;
    }
    if (cdw12 & NVME_WZ_DEAC) {
        flags |= BDRV_REQ_MAY_UNMAP;
    }
    if (cdw12 & NVME_RW_FUA) {
        flags |= BDRV_REQ_FUA;
    }
    if (unlikely(ns->zns)) {
        status = nvme_zns_write_begin(req, slba, nlb);
        if (status) {
            return status;
        }
    }
    trace_nvme_nvm_write_zeroes(le16_to_cpu(req->cmd.cid), ns->nsid, slba, nlb,
                            flags);
    nvme_uncor_clear(ns, slba, nlb);
    n->host_write_commands++;
    block_acct_start(blk_get_stats(ns->blk), &req->acct,
                     (uint64_t)nlb << ns->lba_bits, BLOCK_ACCT_WRITE);
    if (flags & BDRV_REQ_MAY_UNMAP) {
        req->aiocb = blk_aio_pwrite_zeroes(ns->blk, slba << ns->lba_bits,
                                           (int64_t)nlb << ns->lba_bits,
                                           flags, nvme_rw_cb, req);
    } else {
        uint64_t len = (uint64_t)nlb << ns->lba_bits;
        void *zeroes = nvme_zero_buf();

        qemu_iovec_init(&req->op.iov, DIV_ROUND_UP(len, NVME_ZERO_BUF_SIZE));
        for (uint64_t done = 0; done < len; done += NVME_ZERO_BUF_SIZE) {
            qemu_iovec_add(&req->op.iov, zeroes,
                           MIN(NVME_ZERO_BUF_SIZE, len - done));
        }
        req->aiocb = blk_aio_pwritev(ns->blk, slba << ns->lba_bits,
                                     &req->op.iov, flags,
                                     nvme_write_zeroes_cb, req);
    }
    return NVME_NO_COMPLETE;
}

/*
 * Write Uncorrectable (NVM Command Set 3.3.7): later reads of these blocks
 * fail until they are written or deallocated. The marks live in memory
 * only. NVME_UNCOR_MAX_RANGES separate intervals at most: a mark that
 * needs one more fails with Internal Error.
 */
static uint16_t nvme_write_uncor(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba;
    uint32_t nlb;
    uint16_t status;

    status = nvme_lba_decode(req, &slba, &nlb);
    if (status) {
        return status;
    }
    trace_nvme_write_uncor(le16_to_cpu(req->cmd.cid), ns->nsid, slba, nlb);
    if (!nvme_uncor_mark(ns, slba, nlb)) {
        return nvme_cmd_error(req, NVME_SC_INTERNAL_ERROR,
                              "too many separate uncorrectable ranges");
    }
    n->host_write_commands++;
    return NVME_SC_SUCCESS;
}

/* Compare (NVM Command Set 3.3.2): chunk by chunk, media then host data. */
static void nvme_compare_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeNvmOp *op = &req->op;
    size_t half = op->bounce_size / 2;
    size_t len = (size_t)op->chunk << req->ns->lba_bits;
    uint8_t *host = (uint8_t *)op->bounce + half;

    if (ret) {
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
        nvme_op_finish(req, nvme_status_from_errno(ret, false));
        return;
    }
    if (!nvme_sg_copy(req, op->done, host, len, DMA_DIRECTION_TO_DEVICE)) {
        trace_nvme_err_dma(req->cmd.opcode, len);
        nvme_op_finish(req, NVME_SC_DATA_TRANSFER_ERROR);
        return;
    }
    if (memcmp(op->bounce, host, len)) {
        trace_nvme_err_compare(le16_to_cpu(req->cmd.cid), op->done);
        nvme_op_finish(req, NVME_SC_COMPARE_FAILURE | NVME_SC_DNR);
        return;
    }
    op->done += len;
    op->lba += op->chunk;
    op->left -= op->chunk;
    if (!op->left) {
        nvme_op_finish(req, NVME_SC_SUCCESS);
        return;
    }
    nvme_op_read_chunk(req, half, nvme_compare_cb);
}

/* Compare and Verify after their DULBE check: the first chunk */
static void nvme_compare_go(void *opaque, uint16_t status)
{
    NvmeRequest *req = opaque;

    if (status) {
        nvme_op_finish(req, status);
        return;
    }
    nvme_op_read_chunk(req, req->op.bounce_size / 2, nvme_compare_cb);
}

static uint16_t nvme_compare(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeRwParams rw;
    uint16_t status;

    if (unlikely(ns->ms)) {
        return nvme_meta_io(n, req);
    }

    status = nvme_rw_decode(n, req, &rw);
    if (status) {
        return status;
    }
    status = nvme_uncor_check(req, rw.slba, rw.nlb);
    if (status) {
        return status;
    }
    if (unlikely(ns->zns)) {
        /* Compare reads: offline zones and boundaries as for Read */
        status = nvme_zns_read_check(req, rw.slba, rw.nlb);
        if (status) {
            return status;
        }
    }
    status = nvme_map_dptr(n, req, rw.len);
    if (status) {
        return status;
    }
    trace_nvme_compare(le16_to_cpu(req->cmd.cid), ns->nsid, rw.slba, rw.nlb);
    status = nvme_op_start(req, 2 * MIN(rw.len, NVME_NVM_CHUNK), rw.len,
                           BLOCK_ACCT_READ);
    if (status) {
        return status;
    }
    n->host_read_commands++;
    n->data_units_read += rw.len;
    req->op.lba = rw.slba;
    req->op.left = rw.nlb;
    req->op.done = 0;
    if (unlikely(nvme_dulbe_enabled(n))) {
        nvme_dulbe_check(req, rw.offset, rw.len, nvme_compare_go, req);
    } else {
        nvme_compare_go(req, NVME_SC_SUCCESS);
    }
    return NVME_NO_COMPLETE;
}

/*
 * Verify Size Limit (I/O Command Set specific Identify Controller, VSL):
 * a power of two in units of CAP.MPSMIN, like MDTS, 0 for no limit. Like
 * MDTS it counts the metadata of an extended LBA namespace unless
 * CTRATT.MEM is set. Larger commands fail with Invalid Field in Command.
 */
uint16_t nvme_nvm_check_vsl(NvmeCtrl *n, NvmeRequest *req, uint32_t nlb)
{
    NvmeNamespace *ns = req->ns;
    uint64_t len = (uint64_t)nlb << ns->lba_bits;

    if (ns->mset && !n->params.ctratt_mem) {
        len += (uint64_t)nlb * ns->ms;
    }
    if (len > nvme_xfer_limit(n->params.vsl)) {
        trace_nvme_err_vsl(len);
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "Verify larger than VSL");
    }
    return NVME_SC_SUCCESS;
}

/*
 * Verify (NVM Command Set 3.3.9): reads the blocks and drops the data. No
 * data is transferred, so MDTS does not apply (VSL does, see above); the
 * reads go through one bounded bounce buffer.
 */
static void nvme_verify_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeNvmOp *op = &req->op;

    if (ret) {
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
        nvme_op_finish(req, nvme_status_from_errno(ret, false));
        return;
    }
    op->lba += op->chunk;
    op->left -= op->chunk;
    if (!op->left) {
        nvme_op_finish(req, NVME_SC_SUCCESS);
        return;
    }
    nvme_op_read_chunk(req, op->bounce_size, nvme_verify_cb);
}

static void nvme_verify_go(void *opaque, uint16_t status)
{
    NvmeRequest *req = opaque;

    if (status) {
        nvme_op_finish(req, status);
        return;
    }
    nvme_op_read_chunk(req, req->op.bounce_size, nvme_verify_cb);
}

static uint16_t nvme_verify(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba, len;
    uint32_t nlb;
    uint16_t status;

    if (unlikely(ns->ms)) {
        return nvme_meta_io(n, req);
    }

    status = nvme_lba_decode(req, &slba, &nlb);
    if (!status) {
        status = nvme_nvm_check_vsl(n, req, nlb);
    }
    if (status) {
        return status;
    }
    status = nvme_uncor_check(req, slba, nlb);
    if (status) {
        return status;
    }
    if (unlikely(ns->zns)) {
        status = nvme_zns_read_check(req, slba, nlb);
        if (status) {
            return status;
        }
    }
    trace_nvme_verify(le16_to_cpu(req->cmd.cid), ns->nsid, slba, nlb);
    len = (uint64_t)nlb << ns->lba_bits;
    status = nvme_op_start(req, MIN(len, NVME_NVM_CHUNK), len,
                           BLOCK_ACCT_READ);
    if (status) {
        return status;
    }
    n->host_read_commands++;
    n->data_units_read += len;
    req->op.lba = slba;
    req->op.left = nlb;
    if (unlikely(nvme_dulbe_enabled(n))) {
        nvme_dulbe_check(req, slba << ns->lba_bits, len, nvme_verify_go, req);
    } else {
        nvme_verify_go(req, NVME_SC_SUCCESS);
    }
    return NVME_NO_COMPLETE;
}

/* Reads entry index of a DSM or Copy range list from the host's data. */
uint16_t nvme_range_entry(NvmeRequest *req, uint16_t index,
                                 void *entry, size_t size)
{
    if (!nvme_sg_copy(req, (uint64_t)index * size, entry, size,
                      DMA_DIRECTION_TO_DEVICE)) {
        trace_nvme_err_dma(req->cmd.opcode, size);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}

/*
 * Dataset Management (NVM Command Set 3.3.3). Only Attribute Deallocate
 * acts: each range is zeroed with unmapping allowed, so the backend frees
 * the blocks where it can and they always read back as zeroes, as DLFEAT
 * reports.
 */
static uint16_t nvme_dsm_range(NvmeRequest *req, uint16_t index,
                               uint64_t *slba, uint32_t *nlb)
{
    NvmeDsmRange range;
    uint16_t status = nvme_range_entry(req, index, &range, sizeof(range));

    if (status) {
        return status;
    }
    *slba = le64_to_cpu(range.slba);
    *nlb = le32_to_cpu(range.nlb);
    /* A range of no blocks names nothing and is skipped. */
    return *nlb ? nvme_check_lba_range(req->ns, *slba, *nlb)
                : NVME_SC_SUCCESS;
}

static void nvme_dsm_step(NvmeRequest *req);

static void nvme_dsm_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeNvmOp *op = &req->op;

    if (ret) {
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
        nvme_op_finish(req, nvme_status_from_errno(ret, true));
        return;
    }
    if (op->left) {
        /* The blocks are zeroed; now their metadata reads as erased */
        uint32_t nlb = op->left;

        op->left = 0;
        req->aiocb = nvme_meta_deallocate(req->ns, op->lba, nlb, nvme_dsm_cb,
                                          req);
        return;
    }
    nvme_dsm_step(req);
}

static void nvme_dsm_step(NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    NvmeNvmOp *op = &req->op;

    while (op->range < op->nr) {
        uint64_t slba;
        uint32_t nlb;
        /* Read again: the list was validated, but it is guest memory. */
        uint16_t status = nvme_dsm_range(req, op->range++, &slba, &nlb);

        if (status) {
            nvme_op_finish(req, status);
            return;
        }
        if (!nlb) {
            continue;
        }
        trace_nvme_dsm_deallocate(le16_to_cpu(req->cmd.cid), slba, nlb);
        nvme_uncor_clear(ns, slba, nlb);
        op->lba = slba;
        op->left = ns->ms ? nlb : 0;
        req->aiocb = blk_aio_pwrite_zeroes(ns->blk, slba << ns->lba_bits,
                                           (int64_t)nlb << ns->lba_bits,
                                           BDRV_REQ_MAY_UNMAP, nvme_dsm_cb,
                                           req);
        return;
    }
    nvme_op_finish(req, NVME_SC_SUCCESS);
}

static uint16_t nvme_dsm(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t nr = NVME_DSM_NR(le32_to_cpu(req->cmd.cdw10)) + 1;
    uint32_t attr = le32_to_cpu(req->cmd.cdw11);
    uint16_t status;

    trace_nvme_nvm_dsm(le16_to_cpu(req->cmd.cid), req->ns->nsid, nr, attr);
    if (!(attr & NVME_DSMGMT_AD)) {
        /* Integral Read/Write are hints only. */
        return NVME_SC_SUCCESS;
    }
    status = nvme_map_dptr(n, req, nr * sizeof(NvmeDsmRange));
    if (status) {
        return status;
    }
    /* Every range is checked before the first one is deallocated. */
    for (uint32_t i = 0; i < nr; i++) {
        uint64_t slba;
        uint32_t nlb;

        status = nvme_dsm_range(req, i, &slba, &nlb);
        if (status) {
            return status;
        }
    }
    status = nvme_op_start(req, 0, 0, BLOCK_ACCT_UNMAP);
    if (status) {
        return status;
    }
    req->op.range = 0;
    req->op.nr = nr;
    req->op.left = 0;
    nvme_dsm_step(req);
    return NVME_NO_COMPLETE;
}

/*
 * Copy (NVM Command Set 3.3.1), Source Range Entries formats 0h (16b Guard
 * protection information) and 1h (64b Guard: a 48-bit reference tag). Each
 * source range is read into the bounce buffer and written to the next
 * destination blocks, one chunk at a time. On an error, DW0 of the
 * completion holds the number of the first range not fully copied.
 */
static size_t nvme_copy_entry_size(NvmeRequest *req)
{
    return NVME_COPY_DESFMT(le32_to_cpu(req->cmd.cdw12)) ?
           sizeof(NvmeCopySourceRangeF1) : sizeof(NvmeCopySourceRange);
}

/* Entry index of the command's list, read from the host and checked */
static uint16_t nvme_copy_range(NvmeRequest *req, uint16_t index,
                                NvmeCopyRange *r)
{
    union {
        NvmeCopySourceRange f0;
        NvmeCopySourceRangeF1 f1;
    } e;
    uint16_t status = nvme_range_entry(req, index, &e,
                                       nvme_copy_entry_size(req));

    if (status) {
        return status;
    }
    if (nvme_copy_entry_size(req) == sizeof(e.f1)) {
        /* No storage tags (STS 0): the low 48 bits are the reference tag */
        *r = (NvmeCopyRange) {
            .slba = le64_to_cpu(e.f1.slba),
            .nlb = le16_to_cpu(e.f1.nlb) + 1,
            .eilbrt = ldq_be_p(e.f1.elbt + 2) & 0xffffffffffffULL,
            .elbat = le16_to_cpu(e.f1.elbat),
            .elbatm = le16_to_cpu(e.f1.elbatm),
        };
    } else {
        *r = (NvmeCopyRange) {
            .slba = le64_to_cpu(e.f0.slba),
            .nlb = le16_to_cpu(e.f0.nlb) + 1,
            .eilbrt = le32_to_cpu(e.f0.eilbrt),
            .elbat = le16_to_cpu(e.f0.elbat),
            .elbatm = le16_to_cpu(e.f0.elbatm),
        };
    }
    if (r->nlb > req->ns->params.mssrl) {
        return nvme_cmd_error(req, NVME_SC_COMMAND_SIZE_LIMIT,
                              "source range longer than MSSRL");
    }
    return nvme_check_lba_range(req->ns, r->slba, r->nlb);
}

static void nvme_copy_step(NvmeRequest *req);

static void nvme_copy_fail(NvmeRequest *req, uint16_t status)
{
    req->cqe.result = cpu_to_le32(req->op.range - 1);
    nvme_op_finish(req, status);
}

static void nvme_copy_write_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeNvmOp *op = &req->op;

    if (ret) {
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
        nvme_copy_fail(req, nvme_status_from_errno(ret, true));
        return;
    }
    op->lba += op->chunk;
    op->dlba += op->chunk;
    op->left -= op->chunk;
    op->done += op->chunk;
    nvme_copy_step(req);
}

static void nvme_copy_read_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeNamespace *ns = req->ns;
    NvmeNvmOp *op = &req->op;
    bool fua = le32_to_cpu(req->cmd.cdw12) & NVME_COPY_FUA;

    if (ret) {
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
        nvme_copy_fail(req, nvme_status_from_errno(ret, false));
        return;
    }
    nvme_uncor_clear(ns, op->dlba, op->chunk);
    req->aiocb = blk_aio_pwritev(ns->blk, op->dlba << ns->lba_bits, &op->iov,
                                 fua ? BDRV_REQ_FUA : 0, nvme_copy_write_cb,
                                 req);
}

static void nvme_copy_step(NvmeRequest *req)
{
    NvmeNvmOp *op = &req->op;

    while (!op->left) {
        NvmeCopyRange r;
        uint16_t status;

        if (op->range == op->nr) {
            nvme_op_finish(req, NVME_SC_SUCCESS);
            return;
        }
        /* Read and check again: the list is guest memory. */
        status = nvme_copy_range(req, op->range++, &r);
        if (!status && r.nlb > op->total - op->done) {
            status = nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE,
                                    "source ranges changed during Copy");
        }
        if (!status) {
            status = nvme_uncor_check(req, r.slba, r.nlb);
        }
        if (status) {
            nvme_copy_fail(req, status);
            return;
        }
        trace_nvme_copy_range(le16_to_cpu(req->cmd.cid), op->range - 1,
                              r.slba, r.nlb, op->dlba);
        op->lba = r.slba;
        op->left = r.nlb;
    }
    nvme_op_read_chunk(req, op->bounce_size, nvme_copy_read_cb);
}

static uint16_t nvme_copy(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint32_t cdw12 = le32_to_cpu(req->cmd.cdw12);
    uint32_t nr = NVME_COPY_NR(cdw12) + 1;
    uint64_t sdlba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                     le32_to_cpu(req->cmd.cdw10);
    uint8_t format = NVME_COPY_DESFMT(cdw12);
    g_autofree NvmeCopyRange *ranges = NULL;
    uint64_t total = 0;
    uint16_t status;

    if (format > 1) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "unsupported Copy descriptor format");
    }
    /* 1h carries 64b Guard tags; 0h the others, and no tags at all */
    if ((format == 1) != (ns->pi && ns->pif == NVME_PIF_64B)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "Copy descriptor format does not match the "
                              "protection information format");
    }
    /* Copy limits (NVM Command Set 3.3.2): Command Size Limit Exceeded */
    if (nr > ns->params.msrc + 1) {
        return nvme_cmd_error(req, NVME_SC_COMMAND_SIZE_LIMIT,
                              "more source ranges than MSRC allows");
    }
    status = nvme_map_dptr(n, req, nr * nvme_copy_entry_size(req));
    if (status) {
        return status;
    }
    /*
     * One host read of the list, validated as read: the metadata path
     * works from this copy only, so the host cannot change it later.
     */
    ranges = g_new(NvmeCopyRange, nr);
    for (uint32_t i = 0; i < nr; i++) {
        status = nvme_copy_range(req, i, &ranges[i]);
        if (status) {
            return status;
        }
        total += ranges[i].nlb;
    }
    if (total > ns->params.mcl) {
        return nvme_cmd_error(req, NVME_SC_COMMAND_SIZE_LIMIT,
                              "copy longer than MCL");
    }
    status = nvme_check_lba_range(ns, sdlba, total);
    if (status) {
        return status;
    }
    trace_nvme_copy(le16_to_cpu(req->cmd.cid), ns->nsid, sdlba, nr, total);
    if (unlikely(ns->ms)) {
        return nvme_meta_copy(n, req, sdlba, g_steal_pointer(&ranges), nr,
                              total);
    }
    status = nvme_op_start(req, MIN(total << ns->lba_bits, NVME_NVM_CHUNK),
                           total << ns->lba_bits, BLOCK_ACCT_WRITE);
    if (status) {
        return status;
    }
    req->op.dlba = sdlba;
    req->op.total = total;
    req->op.done = 0;
    req->op.left = 0;
    req->op.range = 0;
    req->op.nr = nr;
    nvme_copy_step(req);
    return NVME_NO_COMPLETE;
}

const NvmeOpcodeDesc nvme_nvm_opcodes[256] = {
    [NVME_CMD_FLUSH]        = { nvme_flush, NVME_CMD_EFF_LBCC },
    [NVME_CMD_WRITE]        = { nvme_write, NVME_CMD_EFF_LBCC },
    [NVME_CMD_READ]         = { nvme_read },
    [NVME_CMD_WRITE_UNCOR]  = { nvme_write_uncor, NVME_CMD_EFF_LBCC },
    [NVME_CMD_COMPARE]      = { nvme_compare },
    [NVME_CMD_WRITE_ZEROES] = { nvme_write_zeroes, NVME_CMD_EFF_LBCC },
    [NVME_CMD_DSM]          = { nvme_dsm, NVME_CMD_EFF_LBCC },
    [NVME_CMD_VERIFY]       = { nvme_verify },
    [NVME_CMD_COPY]         = { nvme_copy, NVME_CMD_EFF_LBCC },
    [NVME_CMD_RESV_REGISTER] = { nvme_resv_register_cmd },
    [NVME_CMD_RESV_REPORT]  = { nvme_resv_report_cmd },
    [NVME_CMD_RESV_ACQUIRE] = { nvme_resv_acquire_cmd },
    [NVME_CMD_RESV_RELEASE] = { nvme_resv_release_cmd },
};

/* Optional NVM Command Support follows from the opcode table. */
uint16_t nvme_nvm_oncs(void)
{
    static const struct {
        uint8_t opcode;
        uint16_t bit;
    } optional[] = {
        { NVME_CMD_COMPARE, NVME_ONCS_COMPARE },
        { NVME_CMD_WRITE_UNCOR, NVME_ONCS_WRITE_UNCORR },
        { NVME_CMD_DSM, NVME_ONCS_DSM },
        { NVME_CMD_WRITE_ZEROES, NVME_ONCS_WRITE_ZEROES },
        { NVME_CMD_RESV_REGISTER, NVME_ONCS_RESRVATIONS },
        { NVME_CMD_VERIFY, NVME_ONCS_VERIFY },
        { NVME_CMD_COPY, NVME_ONCS_COPY },
    };
    uint16_t oncs = 0;

    for (int i = 0; i < ARRAY_SIZE(optional); i++) {
        if (nvme_nvm_opcodes[optional[i].opcode].handler) {
            oncs |= optional[i].bit;
        }
    }
    return oncs;
}

/* Identify Namespace fields that follow from what this file implements. */
void nvme_nvm_init_id_ns(NvmeNamespace *ns)
{
    NvmeIdNs *id = &ns->id_ns;

    id->mssrl = cpu_to_le16(ns->params.mssrl);
    id->mcl = cpu_to_le32(ns->params.mcl);
    id->msrc = ns->params.msrc;
    /*
     * Write Zeroes honours DEAC, and deallocated blocks read as zeroes:
     * Dataset Management deallocates by zeroing with unmap allowed.
     */
    id->dlfeat = NVME_ID_NS_DLFEAT_WRITE_ZEROES_DEAC |
                 NVME_ID_NS_DLFEAT_READ_BEHAVIOR_ZEROES;
}

/*
 * Get LBA Status (Base 2.0, admin opcode 86h). The only potentially
 * unrecoverable blocks are the ones Write Uncorrectable marked, and they
 * are always tracked: both action types report them. Descriptors list the
 * marked blocks within SLBA and the Range Length (0: to the end of the
 * namespace), at most as many as MNDW leaves room for.
 */
uint16_t nvme_nvm_get_lba_status(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeNamespace *ns = nvme_ctrl_ns(n, nsid);
    uint64_t slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                    le32_to_cpu(req->cmd.cdw10);
    uint32_t mndw = le32_to_cpu(req->cmd.cdw12);
    uint32_t cdw13 = le32_to_cpu(req->cmd.cdw13);
    uint32_t rl = NVME_LBAS_RL(cdw13);
    uint8_t atype = NVME_LBAS_ATYPE(cdw13);
    uint64_t len = ((uint64_t)mndw + 1) * 4;
    NvmeLbaStatusHeader hdr = {};
    uint64_t end, room, blocks, pieces, count, lba;
    uint16_t status;

    trace_nvme_get_lba_status(nsid, slba, mndw, rl, atype);
    if (!ns) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: Get LBA Status of inactive NSID %u\n", nsid);
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    req->ns = ns;
    if (atype != NVME_LBAS_ATYPE_TRACKED &&
        atype != NVME_LBAS_ATYPE_UNTRACKED) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "unsupported Get LBA Status action type");
    }
    status = nvme_check_mdts(n, len);
    if (status) {
        return status;
    }
    status = nvme_check_lba_range(ns, slba, 1);
    if (status) {
        return status;
    }
    end = rl ? MIN(slba + rl, ns->nlbas) : ns->nlbas;
    room = len > sizeof(hdr) ? (len - sizeof(hdr)) /
                               sizeof(NvmeLbaStatusDescr) : 0;
    nvme_uncor_count(ns, slba, end, &blocks, &pieces);
    count = MIN(pieces, room);
    hdr.nlsd = cpu_to_le32(count);
    hdr.cmpc = pieces > room ? NVME_LBAS_CMPC_MNDW : NVME_LBAS_CMPC_RL;

    /* Only the bytes that carry data are mapped and written. */
    status = nvme_map_dptr(n, req, MIN(len, sizeof(hdr) +
                                       count * sizeof(NvmeLbaStatusDescr)));
    if (status) {
        return status;
    }
    lba = slba;
    for (uint64_t i = 0; i < count; i++) {
        NvmeLbaStatusDescr d = {};
        uint64_t start;
        uint32_t nlb;

        if (!nvme_uncor_next(ns, &lba, end, &start, &nlb)) {
            break;
        }
        d.dslba = cpu_to_le64(start);
        d.nlb = cpu_to_le32(nlb);
        if (!nvme_sg_copy(req, sizeof(hdr) + i * sizeof(d), &d, sizeof(d),
                          DMA_DIRECTION_FROM_DEVICE)) {
            return NVME_SC_DATA_TRANSFER_ERROR;
        }
    }
    if (!nvme_sg_copy(req, 0, &hdr, MIN(len, sizeof(hdr)),
                      DMA_DIRECTION_FROM_DEVICE)) {
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}

/* Writes the part of a log page structure at w->pos that the host asked. */
typedef struct NvmeLogWriter {
    NvmeRequest *req;
    uint64_t pos;           /* log offset of the next structure */
    uint64_t offset;        /* first log byte the host wants */
    uint64_t end;           /* one past the last */
    bool failed;
} NvmeLogWriter;

static void nvme_log_emit(NvmeLogWriter *w, const void *data, size_t size)
{
    uint64_t from = MAX(w->pos, w->offset);
    uint64_t to = MIN(w->pos + size, w->end);

    if (from < to && !w->failed &&
        !nvme_sg_copy(w->req, from - w->offset,
                      (uint8_t *)data + (from - w->pos), to - from,
                      DMA_DIRECTION_FROM_DEVICE)) {
        w->failed = true;
    }
    w->pos += size;
}

/*
 * LBA Status Information log page (LID 0Eh): one namespace element per
 * active namespace that has marked blocks, each with its ranges. LSGC is
 * the sum of the namespaces' change counters, so it moves on every change.
 * No LBA Status Information Alert is ever raised, so RAE has no event to
 * keep or clear.
 */
uint16_t nvme_nvm_log_lba_status(NvmeCtrl *n, NvmeRequest *req,
                                 uint64_t offset, uint64_t len, bool rae)
{
    NvmeLbaStatusLogHeader hdr = {};
    NvmeLogWriter w = { .req = req, .offset = offset };
    uint64_t size = sizeof(hdr), unrecoverable = 0;
    uint32_t elements = 0;
    uint16_t gen = 0;
    uint16_t status;

    for (uint32_t nsid = 1; nsid <= nvme_ctrl_nsid_max(); nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(n, nsid);
        uint64_t blocks, pieces;

        if (!ns) {
            continue;
        }
        gen += ns->uncor_gen;
        if (!ns->nr_uncor) {
            continue;
        }
        nvme_uncor_count(ns, 0, ns->nlbas, &blocks, &pieces);
        elements++;
        unrecoverable += blocks;
        size += sizeof(NvmeLbaStatusLogNsElement) +
                pieces * sizeof(NvmeLbaStatusLogRange);
    }
    if (offset >= size) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: LBA Status log offset %" PRIu64 " beyond %"
                      PRIu64 "\n", offset, size);
        trace_nvme_err_invalid_field(req->cmd.opcode,
                                     "log page offset beyond the log");
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    w.end = offset + MIN(len, size - offset);
    status = nvme_map_dptr(n, req, w.end - offset);
    if (status) {
        return status;
    }

    hdr.lslplen = cpu_to_le32(MIN(size, UINT32_MAX));
    hdr.nlslne = cpu_to_le32(elements);
    hdr.estulb = cpu_to_le32(MIN(unrecoverable, UINT32_MAX));
    hdr.lsgc = cpu_to_le16(gen);
    nvme_log_emit(&w, &hdr, sizeof(hdr));
    for (uint32_t nsid = 1; nsid <= nvme_ctrl_nsid_max() && w.pos < w.end;
         nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(n, nsid);
        NvmeLbaStatusLogNsElement el = {};
        uint64_t blocks, pieces, lba = 0, start;
        uint32_t nlb;

        if (!ns || !ns->nr_uncor) {
            continue;
        }
        nvme_uncor_count(ns, 0, ns->nlbas, &blocks, &pieces);
        el.neid = cpu_to_le32(nsid);
        el.nlrd = cpu_to_le32(pieces);
        el.ratype = NVME_LBAS_ATYPE_TRACKED;
        nvme_log_emit(&w, &el, sizeof(el));
        while (w.pos < w.end &&
               nvme_uncor_next(ns, &lba, ns->nlbas, &start, &nlb)) {
            NvmeLbaStatusLogRange r = {
                .rslba = cpu_to_le64(start),
                .rnlb = cpu_to_le32(nlb - 1),
            };

            nvme_log_emit(&w, &r, sizeof(r));
        }
    }
    if (w.failed) {
        trace_nvme_err_dma(req->cmd.opcode, w.end - offset);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}
