/*
 * NVMe device model: firmware slots (Base 5.12 Firmware Image Download,
 * 5.11 Firmware Commit, 5.16.1.4 Firmware Slot Information).
 *
 * Slot 1 is read-only and holds the built-in revision; images downloaded
 * by the host can be committed to slots 2 and 3 and activated at the next
 * Controller Level Reset or at once. An image's revision is its first 8
 * bytes when they are printable, else a checksum.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "qemu/crc32c.h"
#include "nvme.h"
#include "trace.h"

#define NVME_FW_IMAGE_MAX   (1 * MiB)

static uint16_t nvme_fw_error(const char *why, uint16_t status)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: firmware: %s\n", why);
    trace_nvme_err_firmware(why);
    return status | NVME_SC_DNR;
}

/*
 * Downloads must be sequential; offset 0 starts a new image. A piece is
 * transferred into a buffer of its own first, so that a piece that fails
 * leaves the image staged so far (and its size) as it was.
 */
uint16_t nvme_fw_download(NvmeCtrl *n, NvmeRequest *req)
{
    uint64_t len = ((uint64_t)le32_to_cpu(req->cmd.cdw10) + 1) * 4;
    uint64_t offset = (uint64_t)le32_to_cpu(req->cmd.cdw11) * 4;
    NvmeFirmware *fw = &n->fw;
    g_autofree uint8_t *piece = NULL;
    uint16_t status;

    if (offset != 0 && offset != fw->staged) {
        return nvme_fw_error("download not contiguous",
                             NVME_SC_OVERLAPPING_RANGE);
    }
    if (offset + len > NVME_FW_IMAGE_MAX) {
        return nvme_fw_error("image too large", NVME_SC_INVALID_FIELD);
    }
    if (len > nvme_xfer_limit(n->params.mdts)) {
        return nvme_fw_error("piece exceeds MDTS", NVME_SC_INVALID_FIELD);
    }
    piece = g_malloc(len);
    status = nvme_dma_from_host(n, req, piece, len);
    if (status) {
        return status;
    }
    fw->image = g_realloc(fw->image, offset + len);
    memcpy(fw->image + offset, piece, len);
    fw->staged = offset + len;
    return NVME_SC_SUCCESS;
}

static void nvme_fw_image_revision(const uint8_t *image, size_t len,
                                   uint8_t rev[8])
{
    bool printable = len >= 8;

    for (int i = 0; printable && i < 8; i++) {
        printable = g_ascii_isprint(image[i]);
    }
    if (printable) {
        memcpy(rev, image, 8);
    } else {
        char buf[9];

        snprintf(buf, sizeof(buf), "%08x", crc32c(0, image, len));
        memcpy(rev, buf, 8);
    }
}

uint16_t nvme_fw_commit(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t slot = cdw10 & 0x7;
    uint8_t action = (cdw10 >> 3) & 0x7;
    NvmeFirmware *fw = &n->fw;
    /*
     * 011b places a newly downloaded image first when there is one;
     * without one it activates the image already in the slot.
     */
    bool replace = action == NVME_FW_COMMIT_REPLACE ||
                   action == NVME_FW_COMMIT_REPLACE_AND_ACTIVATE ||
                   (action == NVME_FW_COMMIT_ACTIVATE_NOW && fw->staged);

    if (action > NVME_FW_COMMIT_ACTIVATE_NOW || (cdw10 >> 31)) {
        /* Boot partitions are not supported. */
        return nvme_fw_error("unsupported commit action",
                             NVME_SC_INVALID_FIELD);
    }
    if (slot == 0) {
        slot = replace ? 2 : fw->active;
    }
    if (slot > NVME_FW_SLOTS || (replace && slot == 1)) {
        return nvme_fw_error("invalid slot", NVME_SC_INVALID_FW_SLOT);
    }
    if (replace) {
        if (!fw->staged) {
            return nvme_fw_error("no image downloaded",
                                 NVME_SC_INVALID_FW_IMAGE);
        }
        nvme_fw_image_revision(fw->image, fw->staged, fw->revision[slot - 1]);
        fw->staged = 0;
    } else if (!fw->revision[slot - 1][0]) {
        return nvme_fw_error("activating an empty slot",
                             NVME_SC_INVALID_FW_IMAGE);
    }
    trace_nvme_fw_commit(slot, action);
    if (action == NVME_FW_COMMIT_ACTIVATE_NOW) {
        fw->next = 0;
        nvme_fw_activate(n, slot);
    } else if (action != NVME_FW_COMMIT_REPLACE) {
        fw->next = slot;
    }
    return NVME_SC_SUCCESS;
}

void nvme_fw_activate(NvmeCtrl *n, uint8_t slot)
{
    n->fw.active = slot;
    memcpy(n->id_ctrl.fr, n->fw.revision[slot - 1], sizeof(n->id_ctrl.fr));
}

/* Called at Controller Level Reset: a pending activation takes effect. */
void nvme_fw_reset(NvmeCtrl *n)
{
    if (n->fw.next) {
        nvme_fw_activate(n, n->fw.next);
        n->fw.next = 0;
    }
}

void nvme_fw_init(NvmeCtrl *n)
{
    NvmeFirmware *fw = &n->fw;

    memcpy(fw->revision[0], n->id_ctrl.fr, sizeof(fw->revision[0]));
    fw->active = 1;
    /* Slot 1 read-only, NVME_FW_SLOTS slots, activation without reset */
    n->id_ctrl.frmw = 1 | (NVME_FW_SLOTS << 1) | (1 << 4);
    n->id_ctrl.fwug = 0xff;     /* no granularity restriction */
}

void nvme_fw_slot_log(NvmeCtrl *n, NvmeFwSlotInfoLog *log)
{
    memset(log, 0, sizeof(*log));
    log->afi = n->fw.active | (n->fw.next << 4);
    memcpy(log->frs, n->fw.revision, sizeof(n->fw.revision));
}

void nvme_fw_cleanup(NvmeCtrl *n)
{
    g_free(n->fw.image);
    n->fw.image = NULL;
}
