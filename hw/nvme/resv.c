/*
 * NVMe device model: reservation state of one namespace (Base 2.0, 8.19).
 *
 * The rules only: registrants, the reservation and its holder, what each
 * Register, Acquire and Release does to them, which I/O conflicts, and
 * the byte layout they are saved in. Hosts are values; nothing here knows
 * of controllers, queues or backends (resv-cmd.c does), so a design in
 * which several QEMU processes share one namespace can reuse it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/crc32c.h"
#include "qapi/error.h"
#include "nvme.h"

#define NVME_RESV_MAGIC         "QNVMERSV"
#define NVME_RESV_VERSION_V1    1   /* one copy, no checksum: loaded only */
#define NVME_RESV_VERSION       2

typedef struct NvmeResvRegistrant {
    NvmeResvHost host;
    uint64_t key;
} NvmeResvRegistrant;

struct NvmeResv {
    NvmeResvRegistrant regs[NVME_RESV_MAX_REGISTRANTS];
    uint32_t nr_regs;
    uint32_t gen;
    uint8_t rtype;              /* 0: no reservation */
    NvmeResvHost holder;        /* unless an All Registrants type */
    bool ptpl;
};

/* The saved form: a header and the registrants, little endian */
typedef struct QEMU_PACKED NvmeResvSavedHost {
    uint8_t id[16];
    uint16_t cntlid;
    uint8_t rsvd18[6];
} NvmeResvSavedHost;

typedef struct QEMU_PACKED NvmeResvSavedState {
    uint32_t gen;               /* the Reservation generation (PRGEN) */
    uint8_t rtype;
    uint8_t ptpl;
    uint16_t nr_regs;
    uint8_t rsvd8[4];
    NvmeResvSavedHost holder;
    struct QEMU_PACKED {
        NvmeResvSavedHost host;
        uint64_t key;
    } regs[NVME_RESV_MAX_REGISTRANTS];
} NvmeResvSavedState;

/*
 * One copy of the record. resv.state holds two, A at offset 0 and B at
 * NVME_RESV_COPY_SIZE: the copy of generation g goes to copy g % 2, so a
 * torn write only ever damages the copy older than the other one. The
 * CRC32C covers the whole copy with the crc field taken as zero.
 */
typedef struct QEMU_PACKED NvmeResvSaved {
    char magic[8];
    uint32_t version;
    uint32_t crc;
    uint64_t generation;        /* of this copy: the newer copy wins */
    NvmeResvSavedState state;
} NvmeResvSaved;

/* Version 1 (one copy at offset 0, no checksum): still loaded */
typedef struct QEMU_PACKED NvmeResvSavedV1 {
    char magic[8];
    uint32_t version;
    NvmeResvSavedState state;
} NvmeResvSavedV1;

QEMU_BUILD_BUG_ON(sizeof(NvmeResvSaved) > NVME_RESV_COPY_SIZE);
QEMU_BUILD_BUG_ON(NVME_RESV_SAVED_SIZE < 2 * NVME_RESV_COPY_SIZE);

NvmeResv *nvme_resv_new(void)
{
    return g_new0(NvmeResv, 1);
}

void nvme_resv_free(NvmeResv *r)
{
    g_free(r);
}

/* Hosts without a Host Identifier are told apart by their controller. */
bool nvme_resv_host_equal(const NvmeResvHost *a, const NvmeResvHost *b)
{
    static const uint8_t zero[16];

    if (!memcmp(a->id, zero, 16) && !memcmp(b->id, zero, 16)) {
        return a->cntlid == b->cntlid;
    }
    return !memcmp(a->id, b->id, 16);
}

static NvmeResvRegistrant *nvme_resv_find(NvmeResv *r,
                                          const NvmeResvHost *h)
{
    for (uint32_t i = 0; i < r->nr_regs; i++) {
        if (nvme_resv_host_equal(&r->regs[i].host, h)) {
            return &r->regs[i];
        }
    }
    return NULL;
}

static bool nvme_resv_all_registrants(uint8_t rtype)
{
    return rtype == NVME_RESV_WRITE_EXCLUSIVE_ALL ||
           rtype == NVME_RESV_EXCLUSIVE_ACCESS_ALL;
}

static bool nvme_resv_is_holder(NvmeResv *r, const NvmeResvHost *h)
{
    if (!r->rtype) {
        return false;
    }
    if (nvme_resv_all_registrants(r->rtype)) {
        return nvme_resv_find(r, h) != NULL;
    }
    return nvme_resv_host_equal(&r->holder, h);
}

static void nvme_resv_notify(NvmeResvNotices *out, const NvmeResvHost *h,
                             uint8_t type)
{
    if (out->count < ARRAY_SIZE(out->notice)) {
        out->notice[out->count].host = *h;
        out->notice[out->count].type = type;
        out->count++;
    }
}

/* Every registrant but h hears of type */
static void nvme_resv_notify_others(NvmeResv *r, const NvmeResvHost *h,
                                    uint8_t type, NvmeResvNotices *out)
{
    for (uint32_t i = 0; i < r->nr_regs; i++) {
        if (!nvme_resv_host_equal(&r->regs[i].host, h)) {
            nvme_resv_notify(out, &r->regs[i].host, type);
        }
    }
}

static void nvme_resv_remove(NvmeResv *r, NvmeResvRegistrant *reg)
{
    uint32_t i = reg - r->regs;

    memmove(&r->regs[i], &r->regs[i + 1],
            (r->nr_regs - i - 1) * sizeof(r->regs[0]));
    r->nr_regs--;
}

/* The reservation ends; registrants of the "registrants" types are told */
static void nvme_resv_end(NvmeResv *r, const NvmeResvHost *h,
                          NvmeResvNotices *out)
{
    if (r->rtype != NVME_RESV_WRITE_EXCLUSIVE &&
        r->rtype != NVME_RESV_EXCLUSIVE_ACCESS) {
        nvme_resv_notify_others(r, h, NVME_RESV_NOTICE_RELEASED, out);
    }
    r->rtype = 0;
    memset(&r->holder, 0, sizeof(r->holder));
}

/* Checks that h is a registrant whose key is crkey (unless iekey). */
static uint16_t nvme_resv_check_key(NvmeResv *r, const NvmeResvHost *h,
                                    bool iekey, uint64_t crkey,
                                    NvmeResvRegistrant **reg)
{
    *reg = nvme_resv_find(r, h);
    if (!*reg || (!iekey && (*reg)->key != crkey)) {
        return NVME_SC_RESERVATION_CONFLICT;
    }
    return NVME_SC_SUCCESS;
}

uint16_t nvme_resv_register(NvmeResv *r, const NvmeResvHost *h,
                            uint8_t action, bool iekey, uint64_t crkey,
                            uint64_t nrkey, NvmeResvNotices *out)
{
    NvmeResvRegistrant *reg = nvme_resv_find(r, h);
    uint16_t status;

    switch (action) {
    case NVME_RESV_REGISTER:
        if (reg) {
            /*
             * Registering again with the same key succeeds and changes
             * nothing but the generation, which every successful
             * Register increments.
             */
            if (reg->key != nrkey) {
                return NVME_SC_RESERVATION_CONFLICT;
            }
            break;
        }
        if (r->nr_regs == NVME_RESV_MAX_REGISTRANTS) {
            return NVME_SC_INTERNAL_ERROR;
        }
        r->regs[r->nr_regs].host = *h;
        r->regs[r->nr_regs].key = nrkey;
        r->nr_regs++;
        break;
    case NVME_RESV_UNREGISTER:
        status = nvme_resv_check_key(r, h, iekey, crkey, &reg);
        if (status) {
            return status;
        }
        if (nvme_resv_is_holder(r, h) &&
            (!nvme_resv_all_registrants(r->rtype) || r->nr_regs == 1)) {
            nvme_resv_end(r, h, out);
        }
        nvme_resv_remove(r, reg);
        break;
    case NVME_RESV_REPLACE:
        status = nvme_resv_check_key(r, h, iekey, crkey, &reg);
        if (status) {
            return status;
        }
        reg->key = nrkey;
        break;
    default:
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    r->gen++;
    return NVME_SC_SUCCESS;
}

/* Preempt (and Abort): unregister the holders of prkey, maybe take over */
static uint16_t nvme_resv_preempt(NvmeResv *r, const NvmeResvHost *h,
                                  uint64_t prkey, uint8_t rtype,
                                  NvmeResvNotices *out)
{
    bool takeover;
    uint32_t removed = 0;

    if (r->rtype && nvme_resv_all_registrants(r->rtype)) {
        takeover = prkey == 0;
    } else if (r->rtype) {
        NvmeResvRegistrant *holder = nvme_resv_find(r, &r->holder);

        takeover = holder && holder->key == prkey;
    } else {
        takeover = false;
    }
    if (!takeover && prkey == 0) {
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    for (uint32_t i = 0; i < r->nr_regs;) {
        NvmeResvRegistrant *reg = &r->regs[i];

        if (!nvme_resv_host_equal(&reg->host, h) &&
            (reg->key == prkey || (takeover && prkey == 0))) {
            nvme_resv_notify(out, &reg->host,
                             NVME_RESV_NOTICE_REG_PREEMPTED);
            nvme_resv_remove(r, reg);
            removed++;
        } else {
            i++;
        }
    }
    if (!takeover && !removed) {
        return NVME_SC_RESERVATION_CONFLICT;
    }
    if (takeover) {
        r->rtype = rtype;
        r->holder = *h;
    }
    r->gen++;
    return NVME_SC_SUCCESS;
}

uint16_t nvme_resv_acquire(NvmeResv *r, const NvmeResvHost *h,
                           uint8_t action, uint64_t crkey,
                           uint64_t prkey, uint8_t rtype,
                           NvmeResvNotices *out)
{
    NvmeResvRegistrant *reg;
    uint16_t status;

    if (rtype < NVME_RESV_WRITE_EXCLUSIVE ||
        rtype > NVME_RESV_EXCLUSIVE_ACCESS_ALL ||
        action > NVME_RESV_PREEMPT_ABORT) {
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    status = nvme_resv_check_key(r, h, false, crkey, &reg);
    if (status) {
        return status;
    }
    if (action != NVME_RESV_ACQUIRE) {
        return nvme_resv_preempt(r, h, prkey, rtype, out);
    }
    if (!r->rtype) {
        r->rtype = rtype;
        r->holder = *h;
        return NVME_SC_SUCCESS;
    }
    return nvme_resv_is_holder(r, h) && r->rtype == rtype ?
           NVME_SC_SUCCESS : NVME_SC_RESERVATION_CONFLICT;
}

uint16_t nvme_resv_release(NvmeResv *r, const NvmeResvHost *h,
                           uint8_t action, uint64_t crkey,
                           uint8_t rtype, NvmeResvNotices *out)
{
    NvmeResvRegistrant *reg;
    uint16_t status;

    if (action > NVME_RESV_CLEAR) {
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    status = nvme_resv_check_key(r, h, false, crkey, &reg);
    if (status) {
        return status;
    }
    if (action == NVME_RESV_CLEAR) {
        nvme_resv_notify_others(r, h, NVME_RESV_NOTICE_PREEMPTED, out);
        r->rtype = 0;
        memset(&r->holder, 0, sizeof(r->holder));
        r->nr_regs = 0;
        r->gen++;
        return NVME_SC_SUCCESS;
    }
    if (!nvme_resv_is_holder(r, h)) {
        return NVME_SC_SUCCESS;     /* nothing of its to release */
    }
    if (rtype != r->rtype) {
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    nvme_resv_end(r, h, out);
    return NVME_SC_SUCCESS;
}

/* The command behaviour table (Base 2.0, Figure 490) */
bool nvme_resv_conflict(NvmeResv *r, const NvmeResvHost *h, bool is_write)
{
    switch (r->rtype) {
    case 0:
        return false;
    case NVME_RESV_WRITE_EXCLUSIVE:
        return is_write && !nvme_resv_is_holder(r, h);
    case NVME_RESV_EXCLUSIVE_ACCESS:
        return !nvme_resv_is_holder(r, h);
    case NVME_RESV_WRITE_EXCLUSIVE_REGS:
    case NVME_RESV_WRITE_EXCLUSIVE_ALL:
        return is_write && !nvme_resv_find(r, h);
    default:
        return !nvme_resv_find(r, h);
    }
}

bool nvme_resv_reserved(NvmeResv *r)
{
    return r && r->rtype != 0;
}

bool nvme_resv_ptpl(NvmeResv *r)
{
    return r->ptpl;
}

void nvme_resv_set_ptpl(NvmeResv *r, bool ptpl)
{
    r->ptpl = ptpl;
}

/* Registrants for Reservation Report; *count is how many exist */
void nvme_resv_status(NvmeResv *r, NvmeResvStatus *st)
{
    memset(st, 0, sizeof(*st));
    st->gen = cpu_to_le32(r->gen);
    st->rtype = r->rtype;
    st->regctl = cpu_to_le16(r->nr_regs);
    st->ptpls = r->ptpl;
}

bool nvme_resv_registrant(NvmeResv *r, uint32_t i, NvmeResvHost *h,
                          uint64_t *key, bool *holder)
{
    if (i >= r->nr_regs) {
        return false;
    }
    *h = r->regs[i].host;
    *key = r->regs[i].key;
    *holder = nvme_resv_is_holder(r, h);
    return true;
}

static void nvme_resv_save_host(NvmeResvSavedHost *s, const NvmeResvHost *h)
{
    memcpy(s->id, h->id, 16);
    s->cntlid = cpu_to_le16(h->cntlid);
}

static void nvme_resv_load_host(NvmeResvHost *h, const NvmeResvSavedHost *s)
{
    memcpy(h->id, s->id, 16);
    h->cntlid = le16_to_cpu(s->cntlid);
}

/* CRC32C of a copy, its crc field taken as zero */
static uint32_t nvme_resv_copy_crc(const void *copy)
{
    static const uint8_t zero[4];
    const uint8_t *p = copy;
    size_t crc_at = offsetof(NvmeResvSaved, crc);
    size_t after = crc_at + sizeof(zero);
    uint32_t crc;

    /* crc32c() takes the register, and returns it inverted */
    crc = crc32c(0xffffffff, p, crc_at);
    crc = crc32c(crc ^ 0xffffffff, zero, sizeof(zero));
    return crc32c(crc ^ 0xffffffff, p + after, NVME_RESV_COPY_SIZE - after);
}

/* Fills buf with copy generation of r; returns where in resv.state it goes */
uint64_t nvme_resv_save(NvmeResv *r, uint64_t generation, void *buf)
{
    NvmeResvSaved *s = buf;

    memset(buf, 0, NVME_RESV_COPY_SIZE);
    memcpy(s->magic, NVME_RESV_MAGIC, sizeof(s->magic));
    s->version = cpu_to_le32(NVME_RESV_VERSION);
    s->generation = cpu_to_le64(generation);
    s->state.gen = cpu_to_le32(r->gen);
    s->state.rtype = r->rtype;
    s->state.ptpl = r->ptpl;
    s->state.nr_regs = cpu_to_le16(r->nr_regs);
    nvme_resv_save_host(&s->state.holder, &r->holder);
    for (uint32_t i = 0; i < r->nr_regs; i++) {
        nvme_resv_save_host(&s->state.regs[i].host, &r->regs[i].host);
        s->state.regs[i].key = cpu_to_le64(r->regs[i].key);
    }
    s->crc = cpu_to_le32(nvme_resv_copy_crc(buf));
    return (generation % 2) * NVME_RESV_COPY_SIZE;
}

static bool nvme_resv_state_valid(const NvmeResvSavedState *s)
{
    return le16_to_cpu(s->nr_regs) <= NVME_RESV_MAX_REGISTRANTS &&
           s->rtype <= NVME_RESV_EXCLUSIVE_ACCESS_ALL;
}

/* A copy whose checksum holds, in the slot its generation says */
static bool nvme_resv_copy_valid(const void *copy, unsigned slot)
{
    const NvmeResvSaved *s = copy;

    return !memcmp(s->magic, NVME_RESV_MAGIC, sizeof(s->magic)) &&
           le32_to_cpu(s->version) == NVME_RESV_VERSION &&
           le32_to_cpu(s->crc) == nvme_resv_copy_crc(copy) &&
           le64_to_cpu(s->generation) % 2 == slot &&
           nvme_resv_state_valid(&s->state);
}

/* Version 1 (unchecked) in copy A, as the release before wrote it */
static bool nvme_resv_copy_is_v1(const void *copy)
{
    const NvmeResvSavedV1 *s = copy;

    return !memcmp(s->magic, NVME_RESV_MAGIC, sizeof(s->magic)) &&
           le32_to_cpu(s->version) == NVME_RESV_VERSION_V1 &&
           nvme_resv_state_valid(&s->state);
}

/*
 * Restores a saved state: everything when Persist Through Power Loss was
 * set, else only that setting (registrants do not survive a power loss).
 */
static void nvme_resv_load_state(NvmeResv *r, const NvmeResvSavedState *s)
{
    uint16_t nr = le16_to_cpu(s->nr_regs);

    r->ptpl = s->ptpl;
    r->gen = le32_to_cpu(s->gen);
    if (!r->ptpl) {
        return;
    }
    r->rtype = s->rtype;
    nvme_resv_load_host(&r->holder, &s->holder);
    r->nr_regs = nr;
    for (uint32_t i = 0; i < nr; i++) {
        nvme_resv_load_host(&r->regs[i].host, &s->regs[i].host);
        r->regs[i].key = le64_to_cpu(s->regs[i].key);
    }
}

/*
 * Restores the newest valid copy of the NVME_RESV_SAVED_SIZE bytes at buf
 * and sets *generation to its generation. Copy A all zero is the empty
 * state of a new file (generation 0: the first save goes to copy B, so a
 * crash during it leaves that). A version 1 record counts as generation
 * 0 too. No valid copy at all means damage: never trusted, an error.
 */
bool nvme_resv_load(NvmeResv *r, const void *buf, uint64_t *generation,
                    Error **errp)
{
    const uint8_t *copy[2] = { buf, (const uint8_t *)buf +
                                    NVME_RESV_COPY_SIZE };
    const NvmeResvSaved *newest = NULL;

    memset(r, 0, sizeof(*r));
    *generation = 0;
    for (unsigned slot = 0; slot < 2; slot++) {
        const NvmeResvSaved *s = (const NvmeResvSaved *)copy[slot];

        if (nvme_resv_copy_valid(s, slot) &&
            (!newest || le64_to_cpu(s->generation) >
                        le64_to_cpu(newest->generation))) {
            newest = s;
        }
    }
    if (newest) {
        *generation = le64_to_cpu(newest->generation);
        nvme_resv_load_state(r, &newest->state);
        return true;
    }
    if (nvme_resv_copy_is_v1(copy[0])) {
        nvme_resv_load_state(r, &((const NvmeResvSavedV1 *)copy[0])->state);
        return true;
    }
    if (buffer_is_zero(copy[0], NVME_RESV_COPY_SIZE)) {
        return true;
    }
    error_setg(errp, "no valid copy of the reservation state (damaged, "
               "both copies fail their checksum)");
    return false;
}
