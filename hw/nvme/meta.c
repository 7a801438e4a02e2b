/*
 * NVMe device model: I/O on namespaces formatted with metadata.
 *
 * The backend holds the logical blocks first and then, after the last one,
 * ms bytes of metadata per block. The host sends metadata either with each
 * block (extended LBAs, MSET=1) or in a separate buffer at MPTR. Read,
 * Write, Compare, Verify and Write Zeroes go through a bounce buffer of
 * the blocks followed by their metadata, where protection information is
 * generated (PRACT) and checked (PRCHK); with PRACT and metadata that is
 * only protection information, the host transfers none (it is inserted and
 * stripped here). Written from NVM Command Set 1.0, 5.2 and 5.3.
 *
 * The protection information bytes are stored inverted (XOR FFh), every
 * other metadata byte as it is. Backend bytes that were never written, or
 * that were deallocated (zeroes, holes), so read as PI of all ones, which
 * escapes checking, and other metadata of zeroes: what DLFEAT promises for
 * deallocated blocks. No initialization ever depends on the contents.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/memalign.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/* What one command may bounce (Verify and Write Zeroes have no MDTS) */
#define NVME_META_MAX_BOUNCE    (32 * MiB)

typedef struct NvmeMetaIo {
    NvmeRequest *req;
    NvmePiCmd pc;
    uint64_t slba;
    uint32_t nlb;
    uint8_t *buf;           /* blocks, then their metadata */
    size_t data_bytes;
    size_t meta_bytes;
    bool host_meta;         /* metadata travels between host and device */
    QEMUIOVector dqiov;
    QEMUIOVector mqiov;
    int pending;
    int ret;
    /* Copy: the source ranges, the one being read, blocks read so far */
    NvmeCopyRange *ranges;
    uint32_t nr_ranges;
    uint32_t range;
    uint64_t pos;
} NvmeMetaIo;

static uint64_t nvme_meta_offset(NvmeNamespace *ns, uint64_t lba)
{
    return (ns->nlbas << ns->lba_bits) + lba * ns->ms;
}

/* Host metadata <-> stored form: the PI bytes of nlb blocks inverted */
static void nvme_meta_flip(NvmeNamespace *ns, uint8_t *meta, uint32_t nlb)
{
    size_t pis = nvme_pi_size(ns);
    size_t off = ns->pil ? 0 : ns->ms - pis;

    if (!ns->pi) {
        return;
    }
    for (uint32_t i = 0; i < nlb; i++) {
        uint8_t *pi = meta + (size_t)i * ns->ms + off;

        for (size_t j = 0; j < pis; j++) {
            pi[j] ^= 0xff;
        }
    }
}

/* The metadata buffer at MPTR: contiguous, or one SGL Data Block */
static uint16_t nvme_meta_xfer(NvmeCtrl *n, NvmeRequest *req, void *meta,
                               size_t len, DMADirection dir)
{
    uint64_t addr = le64_to_cpu(req->cmd.mptr);

    if (NVME_CMD_FLAGS_PSDT(req->cmd.flags) == NVME_PSDT_SGL_MPTR_SGL) {
        NvmeSglDescriptor d;

        if (nvme_dma_rw(n->dma_as, addr, &d, sizeof(d),
                        DMA_DIRECTION_TO_DEVICE)) {
            return NVME_SC_DATA_TRANSFER_ERROR;
        }
        if (NVME_SGL_TYPE(d.type) != NVME_SGL_DESCR_TYPE_DATA_BLOCK) {
            return nvme_cmd_error(req, NVME_SC_SGL_TYPE_INVALID |
                                  NVME_SC_DNR, "metadata SGL descriptor is "
                                  "not a Data Block");
        }
        if (le32_to_cpu(d.len) < len) {
            return nvme_cmd_error(req, NVME_SC_METADATA_SGL_LENGTH_INVALID |
                                  NVME_SC_DNR, "metadata SGL Data Block "
                                  "shorter than the metadata");
        }
        addr = le64_to_cpu(d.addr);
    }
    if (nvme_dma_rw(n->dma_as, addr, meta, len, dir)) {
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}

/*
 * Moves the blocks and (when it travels) their metadata between the host
 * buffers and the bounce buffer laid out as blocks, then metadata.
 */
static uint16_t nvme_meta_host(NvmeCtrl *n, NvmeMetaIo *m, uint8_t *buf,
                               DMADirection dir)
{
    NvmeNamespace *ns = m->req->ns;
    NvmeRequest *req = m->req;
    uint8_t *meta = buf + m->data_bytes;
    g_autofree uint8_t *ext = NULL;
    size_t unit = ns->lba_size + ns->ms;
    uint16_t status;

    if (!ns->mset || !m->host_meta) {
        status = dir == DMA_DIRECTION_TO_DEVICE ?
                 nvme_dma_from_host(n, req, buf, m->data_bytes) :
                 nvme_dma_to_host(n, req, buf, m->data_bytes);
        if (status || !m->host_meta) {
            return status;
        }
        return nvme_meta_xfer(n, req, meta, m->meta_bytes, dir);
    }
    /* Extended LBAs: each block followed by its metadata */
    ext = g_malloc((size_t)m->nlb * unit);
    if (dir == DMA_DIRECTION_FROM_DEVICE) {
        for (uint32_t i = 0; i < m->nlb; i++) {
            memcpy(ext + i * unit, buf + (size_t)i * ns->lba_size,
                   ns->lba_size);
            memcpy(ext + i * unit + ns->lba_size, meta + (size_t)i * ns->ms,
                   ns->ms);
        }
        return nvme_dma_to_host(n, req, ext, (size_t)m->nlb * unit);
    }
    status = nvme_dma_from_host(n, req, ext, (size_t)m->nlb * unit);
    for (uint32_t i = 0; !status && i < m->nlb; i++) {
        memcpy(buf + (size_t)i * ns->lba_size, ext + i * unit, ns->lba_size);
        memcpy(meta + (size_t)i * ns->ms, ext + i * unit + ns->lba_size,
               ns->ms);
    }
    return status;
}

static void nvme_meta_free(NvmeMetaIo *m)
{
    qemu_vfree(m->buf);
    g_free(m->ranges);
    g_free(m);
}

static void nvme_meta_finish(NvmeMetaIo *m, uint16_t status)
{
    NvmeRequest *req = m->req;

    req->status = status;
    nvme_meta_free(m);
    nvme_req_complete(req);
}

/* After the backend: checks and the transfer to the host */
static void nvme_meta_read_done(NvmeMetaIo *m)
{
    NvmeRequest *req = m->req;
    NvmeNamespace *ns = req->ns;
    NvmeCtrl *n = nvme_req_ctrl(req);
    uint16_t status;

    if (m->ret < 0) {
        nvme_meta_finish(m, nvme_status_from_errno(m->ret, false));
        return;
    }
    if (ns->pi && m->pc.prchk) {
        status = nvme_pi_check(ns, &m->pc, m->buf, m->buf + m->data_bytes,
                               m->nlb, m->slba);
        if (status) {
            nvme_meta_finish(m, status);
            return;
        }
    }
    switch (req->cmd.opcode) {
    case NVME_CMD_READ:
        status = nvme_meta_host(n, m, m->buf, DMA_DIRECTION_FROM_DEVICE);
        break;
    case NVME_CMD_COMPARE: {
        size_t len = m->data_bytes + (m->host_meta ? m->meta_bytes : 0);
        g_autofree uint8_t *host = g_malloc(m->data_bytes + m->meta_bytes);

        status = nvme_meta_host(n, m, host, DMA_DIRECTION_TO_DEVICE);
        if (!status && memcmp(host, m->buf, m->data_bytes)) {
            status = NVME_SC_COMPARE_FAILURE | NVME_SC_DNR;
        }
        if (!status && len > m->data_bytes &&
            memcmp(host + m->data_bytes, m->buf + m->data_bytes,
                   m->meta_bytes)) {
            status = NVME_SC_COMPARE_FAILURE | NVME_SC_DNR;
        }
        break;
    }
    default:                /* Verify: nothing travels */
        status = NVME_SC_SUCCESS;
    }
    nvme_meta_finish(m, status);
}

static void nvme_meta_cb(void *opaque, int ret)
{
    NvmeMetaIo *m = opaque;

    if (ret < 0 && !m->ret) {
        m->ret = ret;
    }
    if (--m->pending) {
        return;
    }
    switch (m->req->cmd.opcode) {
    case NVME_CMD_READ:
    case NVME_CMD_COMPARE:
    case NVME_CMD_VERIFY:
        nvme_meta_flip(m->req->ns, m->buf + m->data_bytes, m->nlb);
        nvme_meta_read_done(m);
        break;
    default:
        nvme_meta_finish(m, m->ret < 0 ? nvme_status_from_errno(m->ret, true)
                                       : NVME_SC_SUCCESS);
    }
}

/*
 * Both halves to or from the backend; nvme_meta_cb when they are done.
 * zero_data and zero_meta write zeroes (unmapping with BDRV_REQ_MAY_UNMAP
 * in flags) instead of the buffer.
 */
static void nvme_meta_backend(NvmeMetaIo *m, bool write, bool zero_data,
                              bool zero_meta, BdrvRequestFlags flags)
{
    NvmeNamespace *ns = m->req->ns;
    int64_t data_off = (int64_t)m->slba << ns->lba_bits;

    m->pending = 2;
    qemu_iovec_init_buf(&m->dqiov, m->buf, m->data_bytes);
    qemu_iovec_init_buf(&m->mqiov, m->buf + m->data_bytes, m->meta_bytes);
    if (write) {
        nvme_meta_flip(ns, m->buf + m->data_bytes, m->nlb);
    }
    if (zero_data) {
        blk_aio_pwrite_zeroes(ns->blk, data_off, m->data_bytes, flags,
                              nvme_meta_cb, m);
    } else if (write) {
        blk_aio_pwritev(ns->blk, data_off, &m->dqiov,
                        flags & ~BDRV_REQ_MAY_UNMAP, nvme_meta_cb, m);
    } else {
        blk_aio_preadv(ns->blk, data_off, &m->dqiov, 0, nvme_meta_cb, m);
    }
    if (zero_meta) {
        blk_aio_pwrite_zeroes(ns->blk, nvme_meta_offset(ns, m->slba),
                              m->meta_bytes, flags, nvme_meta_cb, m);
    } else if (write) {
        blk_aio_pwritev(ns->blk, nvme_meta_offset(ns, m->slba), &m->mqiov,
                        flags & BDRV_REQ_FUA, nvme_meta_cb, m);
    } else {
        blk_aio_preadv(ns->blk, nvme_meta_offset(ns, m->slba), &m->mqiov, 0,
                       nvme_meta_cb, m);
    }
}

static uint16_t nvme_meta_write(NvmeCtrl *n, NvmeMetaIo *m)
{
    NvmeNamespace *ns = m->req->ns;
    uint32_t cdw12 = le32_to_cpu(m->req->cmd.cdw12);
    uint16_t status = nvme_meta_host(n, m, m->buf, DMA_DIRECTION_TO_DEVICE);

    if (status) {
        return status;
    }
    if (ns->pi && m->pc.pract) {
        nvme_pi_generate(ns, &m->pc, m->buf, m->buf + m->data_bytes, m->nlb,
                         ns->lba_size);
    } else if (ns->pi && m->pc.prchk) {
        status = nvme_pi_check(ns, &m->pc, m->buf, m->buf + m->data_bytes,
                               m->nlb, m->slba);
        if (status) {
            return status;
        }
    }
    nvme_meta_backend(m, true, false, false,
                      cdw12 & NVME_RW_FUA ? BDRV_REQ_FUA : 0);
    return NVME_NO_COMPLETE;
}

/*
 * Write Zeroes: zero blocks; their metadata gets generated protection
 * information with PRACT, else what unwritten blocks hold (PI all ones,
 * the rest zeroes). With DEAC the backend may unmap both; without it the
 * zeroes are written as data, so that the blocks count as written (DULBE
 * reads of them succeed) whatever the backend does with zero writes.
 */
static uint16_t nvme_meta_write_zeroes(NvmeMetaIo *m)
{
    NvmeNamespace *ns = m->req->ns;
    uint32_t cdw12 = le32_to_cpu(m->req->cmd.cdw12);
    bool deac = cdw12 & NVME_WZ_DEAC;
    bool pract = ns->pi && m->pc.pract;
    BdrvRequestFlags flags = deac ? BDRV_REQ_MAY_UNMAP : 0;

    memset(m->buf, 0, m->data_bytes + m->meta_bytes);
    if (pract) {
        nvme_pi_generate(ns, &m->pc, m->buf, m->buf + m->data_bytes, m->nlb,
                         0);
    } else {
        /* Flipped on the way out: stored as zeroes */
        nvme_meta_flip(ns, m->buf + m->data_bytes, m->nlb);
    }
    nvme_meta_backend(m, true, deac, deac && !pract,
                      flags | (cdw12 & NVME_RW_FUA ? BDRV_REQ_FUA : 0));
    return NVME_NO_COMPLETE;
}

/* Read, Compare and Verify after their DULBE check: the backend reads */
static void nvme_meta_read_go(void *opaque, uint16_t status)
{
    NvmeMetaIo *m = opaque;

    if (status) {
        nvme_meta_finish(m, status);
        return;
    }
    nvme_meta_backend(m, false, false, false, 0);
}

/* Read, Write, Compare, Verify and Write Zeroes with metadata */
uint16_t nvme_meta_io(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint8_t opcode = req->cmd.opcode;
    bool no_host_data = opcode == NVME_CMD_VERIFY ||
                        opcode == NVME_CMD_WRITE_ZEROES;
    NvmeMetaIo *m;
    uint64_t host_len, slba;
    uint32_t nlb;
    size_t data_bytes;
    uint16_t status;

    m = g_new0(NvmeMetaIo, 1);
    m->req = req;
    m->slba = ((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
              le32_to_cpu(req->cmd.cdw10);
    m->nlb = (le32_to_cpu(req->cmd.cdw12) & 0xffff) + 1;
    if (m->slba >= ns->nlbas || m->nlb > ns->nlbas - m->slba) {
        g_free(m);
        return nvme_cmd_error(req, NVME_SC_LBA_OUT_OF_RANGE | NVME_SC_DNR,
                              "LBA range beyond the namespace");
    }
    slba = m->slba;
    nlb = m->nlb;
    if (opcode != NVME_CMD_WRITE && opcode != NVME_CMD_WRITE_ZEROES) {
        status = nvme_uncor_check(req, slba, nlb);
        if (status) {
            g_free(m);
            return status;
        }
    }
    if (ns->pi) {
        nvme_pi_decode(ns, &req->cmd, &m->pc);
    }
    m->data_bytes = data_bytes = (size_t)m->nlb << ns->lba_bits;
    m->meta_bytes = (size_t)m->nlb * ns->ms;
    /* PRACT with metadata that is only PI: inserted and stripped here */
    m->host_meta = !(ns->pi && m->pc.pract && ns->ms == nvme_pi_size(ns)) &&
                   !no_host_data;
    /* MDTS counts interleaved metadata unless CTRATT.MEM says otherwise */
    host_len = m->data_bytes;
    if (ns->mset && m->host_meta && !n->params.ctratt_mem) {
        host_len += m->meta_bytes;
    }
    if (!no_host_data && host_len > nvme_xfer_limit(n->params.mdts)) {
        g_free(m);
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "transfer larger than MDTS");
    }
    status = opcode == NVME_CMD_VERIFY ? nvme_nvm_check_vsl(n, req, nlb)
                                       : NVME_SC_SUCCESS;
    if (status) {
        g_free(m);
        return status;
    }
    if (m->data_bytes + m->meta_bytes > NVME_META_MAX_BOUNCE) {
        g_free(m);
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "command too large for a namespace with "
                              "metadata");
    }
    m->buf = blk_try_blockalign(ns->blk, m->data_bytes + m->meta_bytes);
    if (!m->buf) {
        g_free(m);
        return NVME_SC_INTERNAL_ERROR;
    }
    trace_nvme_meta_io(le16_to_cpu(req->cmd.cid), ns->nsid, opcode, m->slba,
                       m->nlb, m->pc.pract, m->pc.prchk);
    switch (opcode) {
    case NVME_CMD_WRITE:
    case NVME_CMD_WRITE_ZEROES:
        status = opcode == NVME_CMD_WRITE ? nvme_meta_write(n, m)
                                          : nvme_meta_write_zeroes(m);
        if (status == NVME_NO_COMPLETE) {
            /* New data replaces whatever Write Uncorrectable marked. */
            nvme_uncor_clear(ns, slba, nlb);
            n->host_write_commands++;
            n->data_units_written += data_bytes;
        }
        break;
    default:
        n->host_read_commands++;
        n->data_units_read += data_bytes;
        if (unlikely(nvme_dulbe_enabled(n))) {
            nvme_dulbe_check(req, slba << ns->lba_bits, data_bytes,
                             nvme_meta_read_go, m);
        } else {
            nvme_meta_read_go(m, NVME_SC_SUCCESS);
        }
        status = NVME_NO_COMPLETE;
    }
    if (status != NVME_NO_COMPLETE) {
        nvme_meta_free(m);
    }
    return status;
}

/*
 * Copy (formats 0h and 1h): each source range is read with its blocks'
 * metadata and checked with PRINFOR (CDW12 15:12) and the range's EILBRT,
 * ELBAT and ELBATM; the destination gets generated PI (PRINFOW's PRACT,
 * CDW14, CDW3 and CDW15 as for a Write) or the source metadata, checked
 * with PRINFOW.
 */
static void nvme_meta_copy_step(void *opaque, int ret);

static void nvme_meta_copy_write(NvmeMetaIo *m)
{
    NvmeRequest *req = m->req;
    NvmeNamespace *ns = req->ns;
    uint16_t status = NVME_SC_SUCCESS;

    nvme_pi_decode(ns, &req->cmd, &m->pc);
    if (ns->pi && m->pc.pract) {
        nvme_pi_generate(ns, &m->pc, m->buf, m->buf + m->data_bytes, m->nlb,
                         ns->lba_size);
    } else if (ns->pi && m->pc.prchk) {
        status = nvme_pi_check(ns, &m->pc, m->buf, m->buf + m->data_bytes,
                               m->nlb, m->slba);
    }
    if (status) {
        nvme_meta_finish(m, status);
        return;
    }
    /* New data replaces whatever Write Uncorrectable marked. */
    nvme_uncor_clear(ns, m->slba, m->nlb);
    nvme_meta_backend(m, true, false, false, 0);
}

static void nvme_meta_copy_step(void *opaque, int ret)
{
    NvmeMetaIo *m = opaque;
    NvmeRequest *req = m->req;
    NvmeNamespace *ns = req->ns;
    uint32_t cdw12 = le32_to_cpu(req->cmd.cdw12);
    NvmeCopyRange *r;
    uint64_t slba;
    uint32_t nlb;
    uint16_t status;

    if (ret < 0 && !m->ret) {
        m->ret = ret;
    }
    if (--m->pending) {
        return;
    }
    if (m->ret < 0) {
        nvme_meta_finish(m, nvme_status_from_errno(m->ret, false));
        return;
    }
    if (m->range) {
        /* The range just read: check it as PRINFOR asks */
        NvmePiCmd pc = {
            .pract = cdw12 & (1u << 15),
            .prchk = (cdw12 >> 12) & 0x7,
        };

        r = &m->ranges[m->range - 1];
        nlb = r->nlb;
        nvme_meta_flip(ns, m->buf + m->data_bytes + (m->pos - nlb) * ns->ms,
                       nlb);
        pc.eilbrt = r->eilbrt;
        pc.elbat = r->elbat;
        pc.elbatm = r->elbatm;
        if (ns->pi && pc.prchk) {
            status = nvme_pi_check(ns, &pc,
                m->buf + ((m->pos - nlb) << ns->lba_bits),
                m->buf + m->data_bytes + (m->pos - nlb) * ns->ms, nlb,
                r->slba);
            if (status) {
                nvme_meta_finish(m, status);
                return;
            }
        }
    }
    if (m->range == m->nr_ranges) {
        nvme_meta_copy_write(m);
        return;
    }
    r = &m->ranges[m->range++];
    slba = r->slba;
    nlb = r->nlb;
    if (nlb > m->nlb - m->pos || slba >= ns->nlbas ||
        nlb > ns->nlbas - slba) {
        /* Checked by nvme_copy on this very copy; never trust it blindly */
        nvme_meta_finish(m, nvme_cmd_error(req, NVME_SC_INTERNAL_ERROR,
                                           "Copy source ranges overflow"));
        return;
    }
    /* As a Read would: no range is written before all are read */
    status = nvme_uncor_check(req, slba, nlb);
    if (status) {
        nvme_meta_finish(m, status);
        return;
    }
    m->pending = 2;
    qemu_iovec_init_buf(&m->dqiov, m->buf + (m->pos << ns->lba_bits),
                        (size_t)nlb << ns->lba_bits);
    qemu_iovec_init_buf(&m->mqiov, m->buf + m->data_bytes + m->pos * ns->ms,
                        (size_t)nlb * ns->ms);
    m->pos += nlb;
    blk_aio_preadv(ns->blk, (int64_t)slba << ns->lba_bits, &m->dqiov, 0,
                   nvme_meta_copy_step, m);
    blk_aio_preadv(ns->blk, nvme_meta_offset(ns, slba), &m->mqiov, 0,
                   nvme_meta_copy_step, m);
}

/*
 * ranges: nr entries copied from the host once and validated by the caller
 * (their blocks add up to total); taken over, freed here.
 */
uint16_t nvme_meta_copy(NvmeCtrl *n, NvmeRequest *req, uint64_t sdlba,
                        NvmeCopyRange *ranges, uint32_t nr,
                        uint64_t total)
{
    NvmeNamespace *ns = req->ns;
    NvmeMetaIo *m = g_new0(NvmeMetaIo, 1);

    m->req = req;
    m->slba = sdlba;
    m->nlb = total;
    m->data_bytes = total << ns->lba_bits;
    m->meta_bytes = total * ns->ms;
    m->nr_ranges = nr;
    m->ranges = ranges;
    m->buf = blk_try_blockalign(ns->blk, m->data_bytes + m->meta_bytes);
    if (!m->buf) {
        nvme_meta_free(m);
        return NVME_SC_INTERNAL_ERROR;
    }
    m->pending = 1;
    nvme_meta_copy_step(m, 0);
    return NVME_NO_COMPLETE;
}

/*
 * Metadata of blocks never written: stored zeroes, read as PI of all ones
 * (escaping checks) and other metadata of zeroes. Format NVM erases it.
 */
bool nvme_meta_erase(NvmeNamespace *ns, Error **errp)
{
    uint64_t off = nvme_meta_offset(ns, 0);
    uint64_t end = nvme_meta_offset(ns, ns->nlbas);

    if (blk_pwrite_zeroes(ns->blk, off, end - off, BDRV_REQ_MAY_UNMAP) < 0) {
        error_setg(errp, "nvme namespace: cannot initialize metadata");
        return false;
    }
    return true;
}

/* Dataset Management: the metadata of deallocated blocks reads as erased */
BlockAIOCB *nvme_meta_deallocate(NvmeNamespace *ns, uint64_t slba,
                                 uint32_t nlb, BlockCompletionFunc *cb,
                                 void *opaque)
{
    return blk_aio_pwrite_zeroes(ns->blk, nvme_meta_offset(ns, slba),
                                 (int64_t)nlb * ns->ms, BDRV_REQ_MAY_UNMAP,
                                 cb, opaque);
}
