/*
 * NVMe device model: end-to-end data protection (NVM Command Set 5.3).
 *
 * The two guards: CRC-16 T10-DIF (polynomial 8BB7h, MSB first, no
 * inversion) for 16-bit guard protection information, CRC-64 NVMe
 * (polynomial AD93D23594C93659h, reflected, inverted in and out) for the
 * 64-bit guard. Both are table-driven, eight bytes per step.
 *
 * Protection information lives in each block's metadata, first or last
 * (PIL); blocks and metadata are handled here as two contiguous buffers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "nvme.h"
#include "trace.h"

#define NVME_CRC16_POLY     0x8bb7
#define NVME_CRC64_POLY_REV 0x9a6c9329ac4bc9b5ULL    /* AD93..59h reflected */

static uint16_t nvme_crc16_table[8][256];
static uint64_t nvme_crc64_table[8][256];

static void __attribute__((constructor)) nvme_crc_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint16_t c16 = i << 8;
        uint64_t c64 = i;

        for (int b = 0; b < 8; b++) {
            c16 = c16 & 0x8000 ? (c16 << 1) ^ NVME_CRC16_POLY : c16 << 1;
            c64 = c64 & 1 ? (c64 >> 1) ^ NVME_CRC64_POLY_REV : c64 >> 1;
        }
        nvme_crc16_table[0][i] = c16;
        nvme_crc64_table[0][i] = c64;
    }
    /* Table k: the CRC of byte i followed by k zero bytes */
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 256; i++) {
            uint16_t c16 = nvme_crc16_table[k - 1][i];
            uint64_t c64 = nvme_crc64_table[k - 1][i];

            nvme_crc16_table[k][i] = (c16 << 8) ^
                                     nvme_crc16_table[0][c16 >> 8];
            nvme_crc64_table[k][i] = (c64 >> 8) ^
                                     nvme_crc64_table[0][c64 & 0xff];
        }
    }
}

uint16_t nvme_crc16_t10dif(uint16_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    for (; len >= 8; len -= 8, p += 8) {
        uint16_t x = crc ^ (p[0] << 8 | p[1]);

        crc = nvme_crc16_table[7][x >> 8] ^ nvme_crc16_table[6][x & 0xff] ^
              nvme_crc16_table[5][p[2]] ^ nvme_crc16_table[4][p[3]] ^
              nvme_crc16_table[3][p[4]] ^ nvme_crc16_table[2][p[5]] ^
              nvme_crc16_table[1][p[6]] ^ nvme_crc16_table[0][p[7]];
    }
    while (len--) {
        crc = (crc << 8) ^ nvme_crc16_table[0][(crc >> 8) ^ *p++];
    }
    return crc;
}

/* crc is the register: start with ~0, invert the result (see below) */
static uint64_t nvme_crc64_update(uint64_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    for (; len >= 8; len -= 8, p += 8) {
        uint64_t x = crc ^ ldq_le_p(p);

        crc = nvme_crc64_table[7][x & 0xff] ^
              nvme_crc64_table[6][(x >> 8) & 0xff] ^
              nvme_crc64_table[5][(x >> 16) & 0xff] ^
              nvme_crc64_table[4][(x >> 24) & 0xff] ^
              nvme_crc64_table[3][(x >> 32) & 0xff] ^
              nvme_crc64_table[2][(x >> 40) & 0xff] ^
              nvme_crc64_table[1][(x >> 48) & 0xff] ^
              nvme_crc64_table[0][x >> 56];
    }
    while (len--) {
        crc = (crc >> 8) ^ nvme_crc64_table[0][(crc ^ *p++) & 0xff];
    }
    return crc;
}

uint64_t nvme_crc64_nvme(const void *buf, size_t len)
{
    return ~nvme_crc64_update(~0ULL, buf, len);
}

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
        uint64_t crc = nvme_crc64_update(~0ULL, data, ns->lba_size);

        return ~nvme_crc64_update(crc, meta, prefix);
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
        *reftag = ((uint64_t)lduw_be_p(pi + 10) << 32) | ldl_be_p(pi + 12);
    } else {
        *guard = lduw_be_p(pi);
        *apptag = lduw_be_p(pi + 2);
        *reftag = ldl_be_p(pi + 4);
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
