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
#include "hw/pci/pci.h"
#include "nvme.h"
#include "trace.h"

#define NVME_PRP_LIST_CHUNK     64      /* entries read per DMA */

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

            if (pci_dma_read(PCI_DEVICE(n), list + done * 8ULL, entries,
                             count * 8)) {
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

uint16_t nvme_map_dptr(NvmeCtrl *n, NvmeRequest *req, uint64_t len)
{
    NvmeCmd *cmd = &req->cmd;

    req->sg.nsg = 0;
    req->sg.size = 0;
    if (!len) {
        return NVME_SC_SUCCESS;
    }
    if (NVME_CMD_FLAGS_PSDT(cmd->flags) != NVME_PSDT_PRP) {
        /* SGLS in Identify Controller is zero: SGLs are not supported. */
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: SGL data pointer not supported\n");
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    return nvme_map_prp(n, req, le64_to_cpu(cmd->dptr.prp1),
                        le64_to_cpu(cmd->dptr.prp2), len);
}

uint16_t nvme_dma_to_host(NvmeCtrl *n, NvmeRequest *req, const void *buf,
                          uint64_t len)
{
    uint16_t status = nvme_map_dptr(n, req, len);

    if (status) {
        return status;
    }
    if (dma_buf_read((void *)buf, len, NULL, &req->sg,
                     MEMTXATTRS_UNSPECIFIED)) {
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
    if (dma_buf_write(buf, len, NULL, &req->sg, MEMTXATTRS_UNSPECIFIED)) {
        trace_nvme_err_dma(req->cmd.opcode, len);
        return NVME_SC_DATA_TRANSFER_ERROR;
    }
    return NVME_SC_SUCCESS;
}
