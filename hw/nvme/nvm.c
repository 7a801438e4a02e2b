/*
 * NVMe device model: NVM command set I/O commands.
 *
 * Read, Write and Flush on the namespace's block backend. Handlers check
 * the LBA range and transfer size before mapping data or starting I/O; the
 * completion is posted only from the block layer's callback, after the
 * backend has finished.
 *
 * Written from the NVM Express NVM Command Set Specification 1.0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "system/block-backend.h"
#include "system/dma.h"
#include "nvme.h"
#include "trace.h"

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
    if (n->params.mdts && len > (uint64_t)n->page_size << n->params.mdts) {
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
static uint16_t nvme_status_from_errno(int ret, bool is_write)
{
    switch (ret) {
    case -ENOSPC:
        return NVME_SC_CAPACITY_EXCEEDED;
    case -EPERM:
    case -EACCES:
        return NVME_SC_WRITE_TO_READ_ONLY | NVME_SC_DNR;
    default:
        return is_write ? NVME_SC_WRITE_FAULT : NVME_SC_UNRECOVERED_READ_ERROR;
    }
}

static void nvme_rw_done(NvmeRequest *req, int ret)
{    BlockAcctStats *stats = blk_get_stats(req->ns->blk);
    bool is_write = req->cmd.opcode != NVME_CMD_READ;

    if (ret) {
        block_acct_failed(stats, &req->acct);
        req->status = nvme_status_from_errno(ret, is_write);
        trace_nvme_err_io(le16_to_cpu(req->cmd.cid), ret);
    } else {
        block_acct_done(stats, &req->acct);
        req->status = NVME_SC_SUCCESS;
    }
    nvme_req_complete(req);
}

static void nvme_rw_cb(void *opaque, int ret)
{
    nvme_rw_done(opaque, ret);
}

static BlockAIOCB *nvme_write_fua_io(int64_t offset, QEMUIOVector *iov,
                                     BlockCompletionFunc *cb, void *cb_opaque,
                                     void *opaque)
{
    return blk_aio_pwritev(opaque, offset, iov, BDRV_REQ_FUA, cb, cb_opaque);
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
    status = nvme_map_dptr(n, req, rw.len);
    if (status) {
        return status;
    }
    trace_nvme_rw(le16_to_cpu(req->cmd.cid), is_write, ns->nsid, rw.slba,
                  rw.nlb);
    block_acct_start(blk_get_stats(blk), &req->acct, rw.len,
                     is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    if (is_write) {
        n->host_write_commands++;
        n->data_units_written += rw.len;
        if (le32_to_cpu(req->cmd.cdw12) & NVME_RW_FUA) {
            req->aiocb = dma_blk_io(&req->sg, rw.offset, BDRV_SECTOR_SIZE,
                                    nvme_write_fua_io, blk, nvme_rw_cb, req,
                                    DMA_DIRECTION_TO_DEVICE);
        } else {
            req->aiocb = dma_blk_write(blk, &req->sg, rw.offset,
                                       BDRV_SECTOR_SIZE, nvme_rw_cb, req);
        }
    } else {
        n->host_read_commands++;
        n->data_units_read += rw.len;
        if (req->sg_bit_bucket) {
            nvme_blk_read_bounce(req, blk, rw.offset, nvme_rw_done);
        } else {
            req->aiocb = dma_blk_read(blk, &req->sg, rw.offset,
                                      BDRV_SECTOR_SIZE, nvme_rw_cb, req);
        }
    }
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_read(NvmeCtrl *n, NvmeRequest *req)
{
    return nvme_rw(n, req, false);
}

static uint16_t nvme_write(NvmeCtrl *n, NvmeRequest *req)
{
    return nvme_rw(n, req, true);
}

static void nvme_flush_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
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
    req->aiocb = blk_aio_flush(blk, nvme_flush_cb, req);
    return NVME_NO_COMPLETE;
}

const NvmeOpcodeDesc nvme_nvm_opcodes[256] = {
    [NVME_CMD_FLUSH]    = { nvme_flush, NVME_CMD_EFF_LBCC },
    [NVME_CMD_WRITE]    = { nvme_write, NVME_CMD_EFF_LBCC },
    [NVME_CMD_READ]     = { nvme_read },
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
