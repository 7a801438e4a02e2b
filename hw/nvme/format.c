/*
 * NVMe device model: Format NVM (Base 5.23).
 *
 * Switches namespaces between the LBA formats they offer and, with a
 * Secure Erase Setting, erases their user data (zeroes, unmapping where
 * the backend can). Data without an erase keeps its bytes: only the block
 * size it is addressed with changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

enum NvmeSecureErase {
    NVME_SES_NONE           = 0,
    NVME_SES_USER_DATA      = 1,
    NVME_SES_CRYPTOGRAPHIC  = 2,    /* emulated as a user data erase */
};

typedef struct NvmeFormatParams {
    uint8_t lbaf;
    bool mset;
    uint8_t pi;
    bool pil;
    uint8_t ses;
} NvmeFormatParams;

/*
 * Logical blocks of LBA format lbaf in the namespace's backend: as in
 * nvme_ns_set_format(), it holds the blocks and the metadata of each,
 * extended LBAs or not.
 */
static uint64_t nvme_format_nlbas(NvmeNamespace *ns, uint8_t lbaf)
{
    return ns->size / ((1ull << ns->lbaf_bits[lbaf]) + ns->lbaf_ms[lbaf]);
}

static uint16_t nvme_format_check(NvmeNamespace *ns,
                                  const NvmeFormatParams *fp)
{
    if (fp->lbaf >= ns->nlbaf || !nvme_format_nlbas(ns, fp->lbaf)) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: namespace %u has no LBA "
                      "format %u, or no block of it fits\n", ns->nsid,
                      fp->lbaf);
        trace_nvme_err_format_lbaf(ns->nsid, fp->lbaf);
        return NVME_SC_INVALID_FORMAT | NVME_SC_DNR;
    }
    if (fp->pi > NVME_PI_TYPE3) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: reserved PI type %u\n",
                      fp->pi);
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    if (fp->pi && ns->lbaf_ms[fp->lbaf] <
                  (ns->lbaf_pif[fp->lbaf] == NVME_PIF_64B ? 16 : 8)) {
        /* Protection information lives in the metadata. */
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: LBA format %u has no room "
                      "for protection information\n", fp->lbaf);
        return NVME_SC_INVALID_FORMAT | NVME_SC_DNR;
    }
    if (ns->zns && ns->lbaf_ms[fp->lbaf]) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: zoned namespace %u has no "
                      "metadata formats\n", ns->nsid);
        return NVME_SC_INVALID_FORMAT | NVME_SC_DNR;
    }
    if (ns->wp_state) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: namespace %u is write "
                      "protected\n", ns->nsid);
        return NVME_SC_NS_WRITE_PROTECTED | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

/*
 * The namespaces of one Format NVM stay quiesced from before their format
 * changes until their erase has finished: no command sees the old
 * geometry after the change, nor data that the erase is about to zero.
 */
typedef struct NvmeFormatJob {
    NvmeRequest *req;
    uint32_t pending;
    int ret;
    uint32_t nr;
    NvmeNamespace *ns[NVME_MAX_NAMESPACES];
} NvmeFormatJob;

static void nvme_format_erased(void *opaque, int ret)
{
    NvmeFormatJob *job = opaque;
    NvmeRequest *req = job->req;

    /* Erases complete in the namespaces' contexts, maybe an iothread */
    if (ret) {
        qatomic_cmpxchg(&job->ret, 0, ret);
    }
    if (qatomic_fetch_dec(&job->pending) != 1) {
        return;
    }
    for (uint32_t i = 0; i < job->nr; i++) {
        nvme_ns_quiesce_end(job->ns[i]);
        nvme_ns_work_end(job->ns[i]);
    }
    req->status = job->ret ? NVME_SC_INTERNAL_ERROR : NVME_SC_SUCCESS;
    g_free(job);
    nvme_req_complete(req);
}

static void nvme_format_one(NvmeFormatJob *job, NvmeNamespace *ns,
                            const NvmeFormatParams *fp)
{
    NvmeRequest *req = job->req;

    /* Commands under way finish on the old format; new ones wait. */
    nvme_ns_quiesce_begin(ns);
    /* ... and a detach or delete waits for the erase */
    nvme_ns_work_begin(ns);
    job->ns[job->nr++] = ns;
    ns->mset = fp->mset;
    ns->pi = fp->pi;
    ns->pil = fp->pil;
    nvme_ns_set_format(ns, fp->lbaf);
    if (ns->ms && !nvme_meta_erase(ns, NULL)) {
        job->ret = -EIO;
    }
    nvme_nsmgmt_ns_changed(ns, nvme_req_ctrl(req)->subsys);
    /* Write Uncorrectable marks name LBAs of the old format. */
    ns->nr_uncor = 0;
    ns->uncor_gen++;
    trace_nvme_format(ns->nsid, fp->lbaf, fp->ses);
    if (fp->ses != NVME_SES_NONE) {
        qatomic_inc(&job->pending);
        /* The blocks; their metadata was just initialized */
        blk_aio_pwrite_zeroes(ns->blk, 0, ns->nlbas << ns->lba_bits,
                              BDRV_REQ_MAY_UNMAP, nvme_format_erased, job);
    }
}

uint16_t nvme_format_nvm(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeFormatParams fp = {
        .lbaf = (cdw10 & 0xf) | (((cdw10 >> 12) & 0x3) << 4),
        .mset = (cdw10 >> 4) & 1,
        .pi = (cdw10 >> 5) & 0x7,
        .pil = (cdw10 >> 8) & 1,
        .ses = (cdw10 >> 9) & 0x7,
    };
    bool all = nsid == NVME_NSID_BROADCAST;
    NvmeNamespace *ns = all ? NULL : nvme_ctrl_ns(n, nsid);
    NvmeFormatJob *job;
    uint16_t status;

    if (fp.ses > NVME_SES_CRYPTOGRAPHIC) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: reserved SES %u\n", fp.ses);
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    if (!all && !ns) {
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    /* Check every namespace before changing any. */
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNamespace *each = all ? n->namespaces[i] : (i == 1 ? ns : NULL);

        status = each ? nvme_format_check(each, &fp) : NVME_SC_SUCCESS;
        if (status) {
            return status;
        }
    }
    job = g_new0(NvmeFormatJob, 1);
    job->req = req;
    job->pending = 1;           /* held until every namespace is started */
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNamespace *each = all ? n->namespaces[i] : (i == 1 ? ns : NULL);

        if (each) {
            nvme_format_one(job, each, &fp);
        }
    }
    nvme_format_erased(job, 0);
    return NVME_NO_COMPLETE;
}
