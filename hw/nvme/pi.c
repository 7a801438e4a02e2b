/*
 * NVMe device model: end-to-end data protection (NVM Command Set 5.3),
 * with the guards of crc.c.
 *
 * Protection information lives in each block's metadata, first or last
 * (PIL); blocks and metadata are handled here as two contiguous buffers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "crc.h"
#include "nvme.h"
#include "trace.h"

/* Protection information of the namespace's current format */

size_t nvme_pi_size(NvmeNamespace *ns)
{
    return ns->pif == NVME_PIF_64B ? 16 : 8;
}

static size_t nvme_pi_offset(NvmeNamespace *ns)
{
    return ns->pil ? 0 : ns->ms - nvme_pi_size(ns);
}

/* The guard of block i: its data, and the metadata before the PI */
static uint64_t nvme_pi_guard(NvmeNamespace *ns, const uint8_t *data,
                              const uint8_t *meta)
{
    size_t prefix = nvme_pi_offset(ns);

    if (ns->pif == NVME_PIF_64B) {
        uint64_t crc = nvme_crc64_nvme_update(~0ULL, data, ns->lba_size);

        return ~nvme_crc64_nvme_update(crc, meta, prefix);
    }
    return nvme_crc16_t10dif(nvme_crc16_t10dif(0, data, ns->lba_size), meta,
                             prefix);
}

static void nvme_pi_read_tuple(NvmeNamespace *ns, const uint8_t *pi,
                               uint64_t *guard, uint16_t *apptag,
                               uint64_t *reftag)
{
    if (ns->pif == NVME_PIF_64B) {
        *guard = ldq_be_p(pi);
        *apptag = lduw_be_p(pi + 8);
        /* ldl_be_p() is signed: keep bit 31 from spreading upwards */
        *reftag = ((uint64_t)lduw_be_p(pi + 10) << 32) |
                  (uint32_t)ldl_be_p(pi + 12);
    } else {
        *guard = lduw_be_p(pi);
        *apptag = lduw_be_p(pi + 2);
        *reftag = (uint32_t)ldl_be_p(pi + 4);
    }
}

static uint64_t nvme_pi_ref_mask(NvmeNamespace *ns)
{
    return ns->pif == NVME_PIF_64B ? (1ULL << 48) - 1 : UINT32_MAX;
}

/* The Reference Tag block i should carry */
static uint64_t nvme_pi_ref(NvmeNamespace *ns, const NvmePiCmd *pc,
                            uint32_t i)
{
    uint64_t ref = pc->eilbrt;

    if (ns->pi != NVME_PI_TYPE3) {
        ref += i;
    }
    return ref & nvme_pi_ref_mask(ns);
}

/* data_stride 0: every block holds the same data (Write Zeroes) */
void nvme_pi_generate(NvmeNamespace *ns, const NvmePiCmd *pc,
                      const uint8_t *data, uint8_t *meta, uint32_t nlb,
                      size_t data_stride)
{
    for (uint32_t i = 0; i < nlb; i++) {
        const uint8_t *d = data + i * data_stride;
        uint8_t *m = meta + (size_t)i * ns->ms;
        uint8_t *pi = m + nvme_pi_offset(ns);
        uint64_t guard = nvme_pi_guard(ns, d, m);
        uint64_t ref = nvme_pi_ref(ns, pc, i);

        if (ns->pif == NVME_PIF_64B) {
            stq_be_p(pi, guard);
            stw_be_p(pi + 8, pc->elbat);
            stw_be_p(pi + 10, ref >> 32);
            stl_be_p(pi + 12, ref);
        } else {
            stw_be_p(pi, guard);
            stw_be_p(pi + 2, pc->elbat);
            stl_be_p(pi + 4, ref);
        }
    }
}

/*
 * Checks what PRCHK asks for on nlb blocks; the first failure gives the
 * status (End-to-end Guard, Application Tag or Reference Tag Check Error).
 */
uint16_t nvme_pi_check(NvmeNamespace *ns, const NvmePiCmd *pc,
                       const uint8_t *data, const uint8_t *meta, uint32_t nlb,
                       uint64_t slba)
{
    uint64_t ref_ones = nvme_pi_ref_mask(ns);

    for (uint32_t i = 0; i < nlb; i++) {
        const uint8_t *d = data + (size_t)i * ns->lba_size;
        const uint8_t *m = meta + (size_t)i * ns->ms;
        uint64_t guard, ref;
        uint16_t app;

        nvme_pi_read_tuple(ns, m + nvme_pi_offset(ns), &guard, &app, &ref);
        /*
         * Escapes: the Application Tag all ones (and for type 3 the
         * Reference Tag too) disables checking of the block.
         */
        if (app == 0xffff &&
            (ns->pi != NVME_PI_TYPE3 || ref == ref_ones)) {
            continue;
        }
        if ((pc->prchk & NVME_PRCHK_GUARD) &&
            guard != nvme_pi_guard(ns, d, m)) {
            trace_nvme_pi_error(ns->nsid, slba + i, "guard");
            return NVME_SC_GUARD_CHECK_ERROR | NVME_SC_DNR;
        }
        if ((pc->prchk & NVME_PRCHK_APP) &&
            (app & pc->elbatm) != (pc->elbat & pc->elbatm)) {
            trace_nvme_pi_error(ns->nsid, slba + i, "application tag");
            return NVME_SC_APP_TAG_CHECK_ERROR | NVME_SC_DNR;
        }
        if ((pc->prchk & NVME_PRCHK_REF) && ns->pi != NVME_PI_TYPE3 &&
            ref != nvme_pi_ref(ns, pc, i)) {
            trace_nvme_pi_error(ns->nsid, slba + i, "reference tag");
            return NVME_SC_REF_TAG_CHECK_ERROR | NVME_SC_DNR;
        }
    }
    return NVME_SC_SUCCESS;
}

/*
 * PRINFO (CDW12 29:26), EILBRT (CDW14, and CDW3 15:0 for 64-bit guards),
 * ELBAT and ELBATM (CDW15) of an I/O command
 */
void nvme_pi_decode(NvmeNamespace *ns, NvmeCmd *cmd, NvmePiCmd *pc)
{
    uint32_t cdw12 = le32_to_cpu(cmd->cdw12);
    uint32_t cdw15 = le32_to_cpu(cmd->cdw15);

    pc->pract = cdw12 & NVME_RW_PRINFO_PRACT;
    pc->prchk = (cdw12 >> 26) & 0x7;
    pc->eilbrt = le32_to_cpu(cmd->cdw14);
    if (ns->pif == NVME_PIF_64B) {
        pc->eilbrt |= (uint64_t)(le32_to_cpu(cmd->cdw3) & 0xffff) << 32;
    }
    pc->elbat = cdw15 & 0xffff;
    pc->elbatm = cdw15 >> 16;
}
