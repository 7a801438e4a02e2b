/*
 * NVMe device model: data pointers.
 *
 * Turns a command's PRP entries (Base 4.1.1, Physical Region Page Entry and
 * List) into the request's scatter/gather list, and copies admin command
 * data between device buffers and host memory through it.
 *
 * Every length and address here comes from the guest: lengths are bounded
 * by the caller (MDTS or the size of the data structure) before mapping, and
 * each PRP list page is read only as far as that length needs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/memalign.h"
#include "qemu/main-loop.h"
#include "system/block-backend.h"
#include "hw/pci/pci.h"
#include "nvme.h"
#include "trace.h"

#define NVME_PRP_LIST_CHUNK     64      /* entries read per DMA */

/*
 * DMA re-entrancy: guest memory may point at the device's own registers (a
 * CQ, a PRP list or a data buffer placed on BAR0, an MSI-X address). The
 * MMIO handlers refuse writes that arrive while this thread is inside one
 * of the device's DMA accesses, whatever context that runs in (main loop,
 * iothread, ioeventfd handler, completion callback, coroutine).
 */
QEMU_DEFINE_STATIC_CO_TLS(unsigned, nvme_dma_depth)

void nvme_dma_enter(void)
{
    set_nvme_dma_depth(get_nvme_dma_depth() + 1);
}

void nvme_dma_exit(void)
{
    set_nvme_dma_depth(get_nvme_dma_depth() - 1);
}

bool nvme_dma_reentered(void)
{
    return get_nvme_dma_depth() != 0;
}

static bool nvme_range_is_ram(AddressSpace *as, dma_addr_t addr,
                              dma_addr_t left, bool is_write)
{
    RCU_READ_LOCK_GUARD();
    while (left) {
        hwaddr xlat, len = left;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &len,
                                                   is_write,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!len || !memory_access_is_direct(mr, is_write,
                                             MEMTXATTRS_UNSPECIFIED)) {
            return false;
        }
        addr += len;
        left -= len;
    }
    return true;
}

/*
 * An iothread may only reach RAM: any other access takes the BQL, which
 * the main loop may hold while it waits for that iothread (a reset, a
 * queue deletion): a deadlock a guest could cause with one bad address.
 */
bool nvme_dma_allowed(AddressSpace *as, dma_addr_t addr, dma_addr_t len,
                      DMADirection dir)
{
    if (bql_locked() ||
        nvme_range_is_ram(as, addr, len, dir == DMA_DIRECTION_FROM_DEVICE)) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: DMA from the iothread to 0x%"
                  PRIx64 ", which is not RAM, refused\n", addr);
    trace_nvme_err_iothread_dma(addr, len);
    return false;
}

MemTxResult nvme_dma_rw(AddressSpace *as, dma_addr_t addr, void *buf,
                        dma_addr_t len, DMADirection dir)
{
    MemTxResult res;

    if (!nvme_dma_allowed(as, addr, len, dir)) {
        return MEMTX_ACCESS_ERROR;
    }
    nvme_dma_enter();
    res = dma_memory_rw(as, addr, buf, len, dir, MEMTXATTRS_UNSPECIFIED);
    nvme_dma_exit();
    return res;
}

/*
 * dma-helpers maps and unmaps from its own callbacks, outside the guard:
 * it may only be given RAM.
 */
bool nvme_sg_is_ram(QEMUSGList *sg, DMADirection dir)
{
    for (int i = 0; i < sg->nsg; i++) {
        if (sg->sg[i].base != NVME_SG_BIT_BUCKET &&
            !nvme_range_is_ram(sg->as, sg->sg[i].base, sg->sg[i].len,
                               dir == DMA_DIRECTION_FROM_DEVICE)) {
            return false;
        }
    }
    return true;
}

static uint16_t nvme_prp_error(const char *why, uint64_t prp, uint16_t status)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: bad PRP 0x%" PRIx64 ": %s\n",
                  prp, why);
    trace_nvme_err_prp(prp, why);
    return status | NVME_SC_DNR;
}

/*
 * Walks the PRP list at @list for @len bytes of pages. The last entry of a
 * full list page chains to the next list page when more data remains.
 */
static uint16_t nvme_map_prp_list(NvmeCtrl *n, NvmeRequest *req,
                                  uint64_t list, uint64_t len)
{
    uint64_t page_size = n->page_size;
    uint64_t entries[NVME_PRP_LIST_CHUNK];

    if (list & 0x3) {
        return nvme_prp_error("list pointer not dword aligned", list,
                              NVME_SC_INVALID_PRP_OFFSET);
    }
    while (len) {
        /* Entries left in this list page, from the list pointer's offset. */
        uint32_t in_page = (page_size - (list & (page_size - 1))) >> 3;
        uint64_t pages = DIV_ROUND_UP(len, page_size);
        bool chains = pages > in_page;
        uint32_t want = chains ? in_page : pages;
        uint32_t done = 0;

        if (chains && in_page < 2) {
            /* A page holding only a chain pointer would never progress. */
            return nvme_prp_error("list page holds no data entry", list,
                                  NVME_SC_INVALID_PRP_OFFSET);
        }
        while (done < want) {
            uint32_t count = MIN(want - done, NVME_PRP_LIST_CHUNK);
            uint16_t guard = nvme_cmb_guard(n, list + done * 8ULL,
                                            count * 8);

            if (guard) {
                return guard;
            }
            if (nvme_dma_rw(n->dma_as, list + done * 8ULL, entries,
                            count * 8, DMA_DIRECTION_TO_DEVICE)) {
                return nvme_prp_error("cannot read PRP list", list,
                                      NVME_SC_DATA_TRANSFER_ERROR);
            }
            for (uint32_t i = 0; i < count; i++) {
                uint64_t prp = le64_to_cpu(entries[i]);
                uint64_t chunk = MIN(len, page_size);

                if (chains && done + i == want - 1) {
                    /* Last slot of a full page: pointer to the next page. */
                    if (prp & 0x3) {
                        return nvme_prp_error("chained list not aligned", prp,
                                              NVME_SC_INVALID_PRP_OFFSET);
                    }
                    list = prp;
                    break;
                }
                if (prp & (page_size - 1)) {
                    return nvme_prp_error("list entry has an offset", prp,
                                          NVME_SC_INVALID_PRP_OFFSET);
                }
                qemu_sglist_add(&req->sg, prp, chunk);
                len -= chunk;
            }
            done += count;
        }
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_map_prp(NvmeCtrl *n, NvmeRequest *req, uint64_t prp1,
                             uint64_t prp2, uint64_t len)
{
    uint64_t page_size = n->page_size;
    uint64_t first = MIN(len, page_size - (prp1 & (page_size - 1)));

    if (prp1 & 0x3) {
        return nvme_prp_error("PRP1 not dword aligned", prp1,
                              NVME_SC_INVALID_PRP_OFFSET);
    }
    qemu_sglist_add(&req->sg, prp1, first);
    len -= first;
    if (!len) {
        return NVME_SC_SUCCESS;
    }
    if (len <= page_size) {
        if (prp2 & (page_size - 1)) {
            return nvme_prp_error("PRP2 has an offset", prp2,
                                  NVME_SC_INVALID_PRP_OFFSET);
        }
        qemu_sglist_add(&req->sg, prp2, len);
        return NVME_SC_SUCCESS;
    }
    return nvme_map_prp_list(n, req, prp2, len);
}

/*
 * SGLs (Base 4.1.2). A segment is a list of 16-byte descriptors in host
 * memory; only its last descriptor may chain to the next segment, and a
 * Last Segment holds no chaining descriptor. Bit Bucket descriptors (only
 * for data the controller returns) become entries at NVME_SG_BIT_BUCKET,
 * skipped by the copy helpers below.
 */
#define NVME_SGL_MAX_DESCRIPTORS    8192    /* bounds a looping chain */
#define NVME_SGL_CHUNK              16      /* descriptors read per DMA */

static uint16_t nvme_sgl_error(const char *why, uint16_t status)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: bad SGL: %s\n", why);
    trace_nvme_err_sgl(why);
    return status | NVME_SC_DNR;
}

static bool nvme_sgl_is_chain(uint8_t type)
{
    return type == NVME_SGL_DESCR_TYPE_SEGMENT ||
           type == NVME_SGL_DESCR_TYPE_LAST_SEGMENT;
}

/* Adds one data or bit bucket descriptor, up to the bytes still wanted. */
static uint16_t nvme_sgl_add(NvmeRequest *req, const NvmeSglDescriptor *d,
                             uint64_t *remaining, bool to_host)
{
    uint8_t type = NVME_SGL_TYPE(d->type);
    uint64_t addr = le64_to_cpu(d->addr);
    uint64_t len = MIN(le32_to_cpu(d->len), *remaining);

    if (NVME_SGL_SUBTYPE(d->type) != 0) {
        /* Offset-based addressing is for fabrics only. */
        return nvme_sgl_error("descriptor sub type not an address",
                              NVME_SC_SGL_TYPE_INVALID);
    }
    switch (type) {
    case NVME_SGL_DESCR_TYPE_DATA_BLOCK:
        if (len) {
            qemu_sglist_add(&req->sg, addr, len);
        }
        break;
    case NVME_SGL_DESCR_TYPE_BIT_BUCKET:
        if (!to_host) {
            return nvme_sgl_error("bit bucket for data sent to the device",
                                  NVME_SC_SGL_TYPE_INVALID);
        }
        if (len) {
            qemu_sglist_add(&req->sg, NVME_SG_BIT_BUCKET, len);
            req->sg_bit_bucket = true;
        }
        break;
    default:
        return nvme_sgl_error("unsupported descriptor type",
                              NVME_SC_SGL_TYPE_INVALID);
    }
    *remaining -= len;
    return NVME_SC_SUCCESS;
}

/*
 * Maps the data descriptors of one segment of count descriptors at seg.
 * Sets *next to its chaining descriptor, or its type to a data type when
 * the segment ends the list.
 */
static uint16_t nvme_sgl_segment(NvmeCtrl *n, NvmeRequest *req, uint64_t seg,
                                 uint32_t count, NvmeSglDescriptor *next,
                                 uint64_t *remaining, bool to_host)
{
    NvmeSglDescriptor chunk[NVME_SGL_CHUNK];

    next->type = NVME_SGL_DESCR_TYPE_DATA_BLOCK << 4;
    for (uint32_t done = 0; done < count;) {
        uint32_t batch = MIN(count - done, NVME_SGL_CHUNK);
        uint16_t guard = nvme_cmb_guard(n, seg + done * 16ULL,
                                        batch * sizeof(chunk[0]));

        if (guard) {
            return guard;
        }
        if (nvme_dma_rw(n->dma_as, seg + done * 16ULL, chunk,
                        batch * sizeof(chunk[0]), DMA_DIRECTION_TO_DEVICE)) {
            return nvme_sgl_error("cannot read segment",
                                  NVME_SC_DATA_TRANSFER_ERROR);
        }
        for (uint32_t i = 0; i < batch; i++, done++) {
            uint16_t status;

            if (nvme_sgl_is_chain(NVME_SGL_TYPE(chunk[i].type))) {
                if (done != count - 1) {
                    return nvme_sgl_error("chain before segment end",
                                          NVME_SC_INVALID_SGL_SEGMENT);
                }
                *next = chunk[i];
                return NVME_SC_SUCCESS;
            }
            status = nvme_sgl_add(req, &chunk[i], remaining, to_host);
            if (status) {
                return status;
            }
        }
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_map_sgl(NvmeCtrl *n, NvmeRequest *req,
                             const NvmeSglDescriptor *first, uint64_t len,
                             bool to_host)
{
    NvmeSglDescriptor d = *first;
    uint32_t budget = NVME_SGL_MAX_DESCRIPTORS;
    uint64_t remaining = len;
    uint16_t status;

    if (!nvme_sgl_is_chain(NVME_SGL_TYPE(d.type))) {
        /* A single data descriptor in the command itself. */
        status = nvme_sgl_add(req, &d, &remaining, to_host);
    } else {
        /* d points to the next segment until a segment ends the list. */
        do {
            uint32_t bytes = le32_to_cpu(d.len);
            uint32_t count = bytes / sizeof(NvmeSglDescriptor);
            bool last = NVME_SGL_TYPE(d.type) ==
                        NVME_SGL_DESCR_TYPE_LAST_SEGMENT;

            if (!count || bytes % sizeof(NvmeSglDescriptor) ||
                count > budget) {
                return nvme_sgl_error("segment length",
                                      NVME_SC_INVALID_SGL_COUNT);
            }
            budget -= count;
            status = nvme_sgl_segment(n, req, le64_to_cpu(d.addr), count, &d,
                                      &remaining, to_host);
            if (!status && last && nvme_sgl_is_chain(NVME_SGL_TYPE(d.type))) {
                return nvme_sgl_error("chain inside a last segment",
                                      NVME_SC_INVALID_SGL_SEGMENT);
            }
        } while (!status && nvme_sgl_is_chain(NVME_SGL_TYPE(d.type)));
    }
    if (status) {
        return status;
    }
    if (remaining) {
        return nvme_sgl_error("shorter than the transfer",
                              NVME_SC_DATA_SGL_LENGTH_INVALID);
    }
    return NVME_SC_SUCCESS;
}

static bool nvme_sg_hits_bar(NvmeCtrl *n, NvmeRequest *req, int bar_nr)
{
    PCIDevice *pci = PCI_DEVICE(n);
    pcibus_t bar = pci_get_bar_addr(pci, bar_nr);
    uint64_t size = pci->io_regions[bar_nr].size;

    if (bar == PCI_BAR_UNMAPPED) {
        return false;
    }
    for (int i = 0; i < req->sg.nsg; i++) {
        uint64_t base = req->sg.sg[i].base;

        if (base != NVME_SG_BIT_BUCKET && base < bar + size &&
            bar < base + req->sg.sg[i].len) {
            return true;
        }
    }
    return false;
}

/*
 * Data aimed at the controller's own registers, doorbells or MSI-X table
 * and PBA (BAR0, or BAR 4 with msix-exclusive-bar) fails with Data
 * Transfer Error instead of being moved through them.
 */
static uint16_t nvme_sg_check_own_bar(NvmeCtrl *n, NvmeRequest *req)
{
    if (nvme_sg_hits_bar(n, req, 0) ||
        (n->params.msix_exclusive_bar &&
         nvme_sg_hits_bar(n, req, NVME_MSIX_EXCLUSIVE_BIR))) {
        return nvme_cmd_error(req, NVME_SC_DATA_TRANSFER_ERROR,
                              "data pointer into the controller's registers "
                              "or MSI-X table");
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_map_dptr_raw(NvmeCtrl *n, NvmeRequest *req,
                                  uint64_t len)
{
    NvmeCmd *cmd = &req->cmd;

    /* Opcode bits 1:0 give the data direction; 10b is to the host. */
    bool to_host = (cmd->opcode & 0x3) == 0x2;

    req->sg.nsg = 0;
    req->sg.size = 0;
    req->sg_bit_bucket = false;
    if (!len) {
        return NVME_SC_SUCCESS;
    }
    switch (NVME_CMD_FLAGS_PSDT(cmd->flags)) {
    case NVME_PSDT_PRP:
        return nvme_map_prp(n, req, le64_to_cpu(cmd->dptr.prp1),
                            le64_to_cpu(cmd->dptr.prp2), len);
    case NVME_PSDT_SGL_MPTR_CONTIG:
    case NVME_PSDT_SGL_MPTR_SGL:
        return nvme_map_sgl(n, req, &cmd->dptr.sgl, len, to_host);
    default:
        return nvme_sgl_error("reserved PSDT", NVME_SC_INVALID_FIELD);
    }
}

uint16_t nvme_map_dptr(NvmeCtrl *n, NvmeRequest *req, uint64_t len)
{
    uint16_t status = nvme_map_dptr_raw(n, req, len);

    if (!status && unlikely(n->cmb.size)) {
        status = nvme_cmb_check_sg(n, req);
    }
    return status ? status : nvme_sg_check_own_bar(n, req);
}

/*
 * Copies len bytes between buf and the request's mapped data, starting pos
 * bytes into it; bit bucket entries take their bytes without a copy. False
 * on a DMA error or when the mapped data ends first.
 */
bool nvme_sg_copy(NvmeRequest *req, uint64_t pos, void *buf, uint64_t len,
                  DMADirection dir)
{
    QEMUSGList *sg = &req->sg;
    uint8_t *p = buf;

    for (int i = 0; i < sg->nsg && len; i++) {
        dma_addr_t skip = MIN(pos, sg->sg[i].len);
        dma_addr_t chunk = MIN(sg->sg[i].len - skip, len);

        pos -= skip;
        if (!chunk) {
            continue;
        }
        if (sg->sg[i].base != NVME_SG_BIT_BUCKET &&
            nvme_dma_rw(sg->as, sg->sg[i].base + skip, p, chunk, dir)) {
            return false;
        }
        p += chunk;
        len -= chunk;
    }
    return !len;
}

bool nvme_sg_copy_to_host(NvmeRequest *req, const void *buf, uint64_t len)
{
    return nvme_sg_copy(req, 0, (void *)buf, len, DMA_DIRECTION_FROM_DEVICE);
}

/*
 * Reads into a request whose data has bit buckets: the block layer cannot
 * target them, so read through a bounded bounce buffer, one chunk at a
 * time, and copy out what the host asked to keep.
 */
#define NVME_BOUNCE_CHUNK   (128 * KiB)

static void nvme_bounce_next(NvmeRequest *req);

static void nvme_bounce_done(NvmeRequest *req, int ret)
{
    NvmeBounce *b = &req->bounce;

    qemu_vfree(b->buf);
    b->buf = NULL;
    qemu_iovec_destroy(&b->iov);
    b->cb(req, ret);
}

static void nvme_bounce_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeBounce *b = &req->bounce;

    if (ret) {
        nvme_bounce_done(req, ret);
        return;
    }
    if (!nvme_sg_copy(req, b->done, b->buf, b->iov.size,
                      DMA_DIRECTION_FROM_DEVICE)) {
        nvme_bounce_done(req, -EFAULT);
        return;
    }
    b->done += b->iov.size;
    nvme_bounce_next(req);
}

static void nvme_bounce_next(NvmeRequest *req)
{
    NvmeBounce *b = &req->bounce;
    uint64_t chunk = MIN(req->sg.size - b->done, NVME_BOUNCE_CHUNK);

    if (!chunk) {
        nvme_bounce_done(req, 0);
        return;
    }
    qemu_iovec_reset(&b->iov);
    qemu_iovec_add(&b->iov, b->buf, chunk);
    req->aiocb = blk_aio_preadv(b->blk, b->offset + b->done, &b->iov, 0,
                                nvme_bounce_cb, req);
}

void nvme_blk_read_bounce(NvmeRequest *req, BlockBackend *blk,
                          uint64_t offset, NvmeBounceCompletion cb)
{
    NvmeBounce *b = &req->bounce;

    *b = (NvmeBounce) {
        .blk = blk, .offset = offset, .cb = cb,
        .buf = blk_blockalign(blk, MIN(req->sg.size, NVME_BOUNCE_CHUNK)),
    };
    qemu_iovec_init(&b->iov, 1);
    nvme_bounce_next(req);
}

uint16_t nvme_dma_to_host(NvmeCtrl *n, NvmeRequest *req, const void *buf,
                          uint64_t len)
{
    uint16_t status = nvme_map_dptr(n, req, len);

    if (status) {
        return status;
    }
    if (!nvme_sg_copy_to_host(req, buf, len)) {
        trace_nvme_err_dma(req->cmd.opcode, len);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}

uint16_t nvme_dma_from_host(NvmeCtrl *n, NvmeRequest *req, void *buf,
                            uint64_t len)
{
    uint16_t status = nvme_map_dptr(n, req, len);

    if (status) {
        return status;
    }
    if (!nvme_sg_copy(req, 0, buf, len, DMA_DIRECTION_TO_DEVICE)) {
        trace_nvme_err_dma(req->cmd.opcode, len);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}
