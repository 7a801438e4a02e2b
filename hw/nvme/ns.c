/*
 * NVMe device model: namespaces.
 *
 * A namespace binds a block backend to an NSID and holds its Identify
 * Namespace data. It comes from an nvme-ns device on a controller's bus, or
 * from the controller's own drive= property as namespace 1.
 *
 * Written from the NVM Express NVM Command Set Specification 1.0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "system/block-backend.h"
#include "system/system.h"
#include "nvme.h"
#include "trace.h"

#define NVME_MIN_LBA_SIZE   512
#define NVME_MAX_LBA_SIZE   65536u

static bool nvme_ns_parse_nguid(NvmeNamespace *ns, Error **errp)
{
    const char *s = ns->params.nguid_str;
    size_t pos = 0;

    if (!s) {
        return true;
    }
    /* 32 hex digits, optionally grouped with '-' as users write UUIDs. */
    for (; *s && pos < 32; s++) {
        int v = g_ascii_xdigit_value(*s);

        if (*s == '-') {
            continue;
        }
        if (v < 0) {
            break;
        }
        ns->nguid[pos / 2] |= v << ((pos & 1) ? 0 : 4);
        pos++;
    }
    if (pos != 32 || *s) {
        error_setg(errp, "nvme namespace: nguid must be 32 hexadecimal digits");
        return false;
    }
    return true;
}

static void nvme_ns_init_identify(NvmeNamespace *ns, BlockConf *conf)
{
    NvmeIdNs *id = &ns->id_ns;
    uint32_t pbs_ratio = conf->physical_block_size / ns->lba_size;

    memset(id, 0, sizeof(*id));
    id->nsze = cpu_to_le64(ns->nlbas);
    id->ncap = cpu_to_le64(ns->nlbas);
    id->nuse = cpu_to_le64(ns->nlbas);
    id->nlbaf = ns->nlbaf - 1;
    id->flbas = (ns->lbaf_index & 0xf) | (ns->mset << 4) |
                ((ns->lbaf_index >> 4) << 5);
    for (int i = 0; i < ns->nlbaf; i++) {
        id->lbaf[i].ds = ns->lbaf_bits[i];
        id->lbaf[i].ms = cpu_to_le16(ns->lbaf_ms[i]);
    }
    /* Metadata extended or at MPTR; PI types 1-3, first or last bytes */
    id->mc = 0x3;
    id->dpc = 0x1f;
    id->dps = ns->pi | (ns->pil << 3);
    id->nmic = ns->params.shared ? 1 : 0;
    if (ns->wp_state) {
        id->nsattr |= NVME_NSATTR_WRITE_PROTECTED;
    }
    /* Reads of deallocated blocks may fail (DULBE, dulbe.c) */
    id->nsfeat |= NVME_NSFEAT_DEALLOC_ERR;
    if (pbs_ratio > 1 || nvme_dulbe_granularity(ns)) {
        /* NPWG, NPWA, NPDG, NPDA and NOWS are valid (0's based). */
        uint16_t npdg = MIN(MAX(pbs_ratio - 1, nvme_dulbe_granularity(ns)),
                            UINT16_MAX);

        id->nsfeat |= NVME_NSFEAT_OPTPERF;
        id->npwg = cpu_to_le16(MAX(pbs_ratio, 1) - 1);
        id->npwa = cpu_to_le16(MAX(pbs_ratio, 1) - 1);
        id->npdg = cpu_to_le16(npdg);
        id->npda = cpu_to_le16(npdg);
        id->nows = cpu_to_le16(MAX(pbs_ratio, 1) - 1);
    }
    id->anagrpid = cpu_to_le32(ns->anagrpid);
    id->rescap = NVME_RESCAP_TYPES | NVME_RESCAP_IEKEY |
                 (ns->resv_state ? NVME_RESCAP_PTPL : 0);
    memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
    id->eui64 = cpu_to_be64(ns->params.eui64);
    memset(&ns->id_ns_nvm, 0, sizeof(ns->id_ns_nvm));
    for (int i = 0; i < ns->nlbaf; i++) {
        /* Extended LBA format: the PI format (bits 8:7) */
        ns->id_ns_nvm.elbaf[i] = cpu_to_le32(ns->lbaf_pif[i] << 7);
    }
    nvme_nvm_init_id_ns(ns);
}

static void nvme_ns_add_format(NvmeNamespace *ns, uint8_t bits, uint16_t ms,
                               uint8_t pif)
{
    for (uint8_t i = 0; i < ns->nlbaf; i++) {
        if (ns->lbaf_bits[i] == bits && ns->lbaf_ms[i] == ms &&
            ns->lbaf_pif[i] == pif) {
            return;
        }
    }
    ns->lbaf_bits[ns->nlbaf] = bits;
    ns->lbaf_ms[ns->nlbaf] = ms;
    ns->lbaf_pif[ns->nlbaf] = pif;
    ns->nlbaf++;
}

/*
 * The LBA formats Format NVM may switch between: 512 bytes and 4 KiB
 * without metadata (formats 0 and 1, as namespace management knows them),
 * then with 8, 16 or 64 bytes of metadata for 16-bit or 64-bit guard
 * protection information, and the configured one (logical_block_size,
 * ms, pif) if it is none of these; that one is current.
 */
static void nvme_ns_init_formats(NvmeNamespace *ns, uint8_t bits)
{
    static const struct {
        uint8_t bits;
        uint16_t ms;
        uint8_t pif;
    } common[] = {
        { 9, 0, 0 }, { 12, 0, 0 },
        { 9, 8, NVME_PIF_16B }, { 9, 16, NVME_PIF_64B },
        { 9, 64, NVME_PIF_16B }, { 12, 8, NVME_PIF_16B },
        { 12, 16, NVME_PIF_64B }, { 12, 64, NVME_PIF_64B },
    };

    ns->nlbaf = 0;
    for (int i = 0; i < ARRAY_SIZE(common); i++) {
        nvme_ns_add_format(ns, common[i].bits, common[i].ms, common[i].pif);
    }
    nvme_ns_add_format(ns, bits, ns->params.ms, ns->params.pif);
    for (uint8_t i = 0; i < ns->nlbaf; i++) {
        if (ns->lbaf_bits[i] == bits && ns->lbaf_ms[i] == ns->params.ms &&
            ns->lbaf_pif[i] == ns->params.pif) {
            nvme_ns_set_format(ns, i);
        }
    }
}

static bool nvme_ns_check_metadata(NvmeNamespaceParams *p, Error **errp)
{
    if (p->ms != 0 && p->ms != 8 && p->ms != 16 && p->ms != 64) {
        error_setg(errp, "nvme namespace: ms must be 0, 8, 16 or 64");
        return false;
    }
    if (p->mset > 1 || p->pil > 1 || p->pi > NVME_PI_TYPE3 ||
        (p->pif != NVME_PIF_16B && p->pif != NVME_PIF_64B)) {
        error_setg(errp, "nvme namespace: mset and pil are 0 or 1, pi 0 "
                   "to 3, pif 0 (16-bit guard) or 2 (64-bit guard)");
        return false;
    }
    if (p->pi && p->ms < (p->pif == NVME_PIF_64B ? 16 : 8)) {
        error_setg(errp, "nvme namespace: pi=%u needs ms of at least %u",
                   p->pi, p->pif == NVME_PIF_64B ? 16 : 8);
        return false;
    }
    if (p->ms && p->zoned.zoned) {
        error_setg(errp, "nvme namespace: zoned namespaces have no "
                   "metadata here");
        return false;
    }
    return true;
}

/*
 * Copy limits (NVM Command Set, Identify Namespace): MCL is at least
 * MSSRL, and at least one block per source range MSRC allows.
 */
static bool nvme_ns_check_copy_limits(NvmeNamespaceParams *p, Error **errp)
{
    if (!p->mssrl) {
        error_setg(errp, "nvme namespace: mssrl must be at least 1");
        return false;
    }
    if (p->mcl < p->mssrl) {
        error_setg(errp, "nvme namespace: mcl (%u) must not be smaller "
                   "than mssrl (%u)", p->mcl, p->mssrl);
        return false;
    }
    if (p->mcl < p->msrc + 1) {
        error_setg(errp, "nvme namespace: mcl (%u) must allow one block "
                   "for each of the msrc + 1 (%u) source ranges", p->mcl,
                   p->msrc + 1);
        return false;
    }
    return true;
}

/* Switches the namespace to LBA format lbaf_index (checked by callers). */
void nvme_ns_set_format(NvmeNamespace *ns, uint8_t lbaf_index)
{
    ns->lbaf_index = lbaf_index;
    ns->lba_bits = ns->lbaf_bits[lbaf_index];
    ns->lba_size = 1u << ns->lba_bits;
    ns->ms = ns->lbaf_ms[lbaf_index];
    ns->pif = ns->lbaf_pif[lbaf_index];
    /* Blocks first, then the metadata of each */
    ns->nlbas = ns->size / (ns->lba_size + ns->ms);
    if (ns->nsid) {
        nvme_ns_init_identify(ns, ns->conf);
    }
    if (ns->zns) {
        nvme_zns_format(ns);
    }
}

bool nvme_ns_setup(NvmeNamespace *ns, BlockConf *conf, Error **errp)
{
    int64_t size;
    bool read_only;

    qemu_spin_init(&ns->park_lock);
    QTAILQ_INIT(&ns->parked);
    nvme_atomic_ns_init(ns);
    if (!conf->blk) {
        error_setg(errp, "nvme namespace: drive property not set");
        return false;
    }
    if (!blkconf_blocksizes(conf, errp)) {
        return false;
    }
    if (conf->logical_block_size < NVME_MIN_LBA_SIZE ||
        conf->logical_block_size > NVME_MAX_LBA_SIZE) {
        error_setg(errp, "nvme namespace: logical_block_size must be between "
                   "%u and %u", NVME_MIN_LBA_SIZE, NVME_MAX_LBA_SIZE);
        return false;
    }
    read_only = !blk_supports_write_perm(conf->blk);
    if (!blkconf_apply_backend_options(conf, read_only, false, errp)) {
        return false;
    }
    size = blk_getlength(conf->blk);
    if (size < 0) {
        error_setg_errno(errp, -size, "nvme namespace: cannot get drive size");
        return false;
    }
    if (!nvme_ns_check_metadata(&ns->params, errp) ||
        !nvme_ns_check_copy_limits(&ns->params, errp)) {
        return false;
    }
    ns->blk = conf->blk;
    ns->conf = conf;
    ns->csi = NVME_CSI_NVM;
    ns->size = size;
    ns->mset = ns->params.mset;
    ns->pi = ns->params.pi;
    ns->pil = ns->params.pil;
    nvme_ns_init_formats(ns, ctz32(conf->logical_block_size));
    if (!ns->nlbas) {
        error_setg(errp, "nvme namespace: drive is smaller than one "
                   "logical block");
        return false;
    }
    if (ns->zone_state &&
        blk_set_perm(ns->zone_state, BLK_PERM_CONSISTENT_READ |
                     BLK_PERM_WRITE, BLK_PERM_CONSISTENT_READ |
                     BLK_PERM_WRITE_UNCHANGED | BLK_PERM_RESIZE, errp) < 0) {
        return false;
    }
    if (!nvme_ns_parse_nguid(ns, errp) || !nvme_zns_setup(ns, errp) ||
        !nvme_resv_setup(ns, errp)) {
        return false;
    }
    nvme_backend_watch(ns->blk);
    nvme_backend_watch(ns->zone_state);
    nvme_backend_watch(ns->resv_state);
    ns->backends_watched = true;
    return true;
}

/*
 * Linux wants a unique identifier for every namespace. Without a uuid
 * property, derive a stable one from the NQN and NSID, so the same command
 * line always yields the same identifiers (and the paths of a shared
 * namespace agree).
 */
static void nvme_ns_default_uuid(NvmeNamespace *ns, const char *nqn)
{
    g_autofree char *key = NULL;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t digest[32];
    gsize len = sizeof(digest);

    if (!qemu_uuid_is_null(&ns->params.uuid)) {
        return;
    }
    key = g_strdup_printf("%s/%u", nqn, ns->nsid);
    g_checksum_update(sum, (const guchar *)key, strlen(key));
    g_checksum_get_digest(sum, digest, &len);
    memcpy(ns->params.uuid.data, digest, sizeof(ns->params.uuid.data));
    /* RFC 4122 variant, version 8 (custom) */
    ns->params.uuid.data[6] = (ns->params.uuid.data[6] & 0x0f) | 0x80;
    ns->params.uuid.data[8] = (ns->params.uuid.data[8] & 0x3f) | 0x80;
}

/*
 * eui64-default=on without eui64: an EUI-64 under the OUI 52:54:00 that
 * QEMU also uses for MAC addresses, the low 40 bits from a SHA-256 of the
 * NQN and NSID (as for the UUID): the same command line always yields
 * the same EUI-64, and namespaces of different subsystems differ.
 */
#define NVME_EUI64_DEFAULT_OUI  0x525400ULL

static void nvme_ns_default_eui64(NvmeNamespace *ns, const char *nqn)
{
    g_autofree char *key = NULL;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t digest[32];
    gsize len = sizeof(digest);

    if (ns->params.eui64 || !ns->params.eui64_default) {
        return;
    }
    key = g_strdup_printf("%s/%u/eui64", nqn, ns->nsid);
    g_checksum_update(sum, (const guchar *)key, strlen(key));
    g_checksum_get_digest(sum, digest, &len);
    ns->params.eui64 = (NVME_EUI64_DEFAULT_OUI << 40) |
                       (ldq_be_p(digest) >> 24);
}

/* Who holds a namespace, for error messages */
static char *nvme_ns_holder_name(NvmeNamespace *ns)
{
    Object *obj = ns->holder;
    const char *id;

    if (!obj) {
        return g_strdup(ns->managed ? "a namespace of the ns-pool"
                                    : "another namespace");
    }
    if (object_dynamic_cast(obj, TYPE_DEVICE)) {
        id = DEVICE(obj)->id;
    } else {
        id = object_get_canonical_path_component(obj);
    }
    return g_strdup_printf("%s%s%s%s%s", object_get_typename(obj),
                           id ? " '" : "", id ? id : "", id ? "'" : "",
                           object_dynamic_cast(obj, TYPE_NVME) ?
                           " (its drive property)" : "");
}

/*
 * Gives ns its NSID in table (the nsid property, or the lowest free one)
 * and enters it there. The table is the subsystem's, or for a controller
 * outside any subsystem, the controller's own.
 */
bool nvme_ns_register(NvmeNamespace **table, NvmeNamespace *ns,
                      const char *nqn, Error **errp)
{
    uint32_t nsid = ns->params.nsid;

    if (nsid > NVME_MAX_NAMESPACES) {
        error_setg(errp, "nvme namespace: nsid must be at most %u",
                   NVME_MAX_NAMESPACES);
        return false;
    }
    if (!nsid) {
        for (nsid = 1; nsid <= NVME_MAX_NAMESPACES && table[nsid]; nsid++) {
            continue;
        }
        if (nsid > NVME_MAX_NAMESPACES) {
            error_setg(errp, "nvme namespace: no free namespace identifier");
            return false;
        }
    } else if (table[nsid]) {
        g_autofree char *who = nvme_ns_holder_name(table[nsid]);

        error_setg(errp, "nvme namespace: nsid %u is already in use by %s",
                   nsid, who);
        return false;
    }
    ns->nsid = nsid;
    nvme_ns_default_uuid(ns, nqn);
    nvme_ns_default_eui64(ns, nqn);
    nvme_ns_init_identify(ns, ns->conf);
    table[nsid] = ns;
    trace_nvme_ns_register(nsid, ns->nlbas, ns->lba_size);
    return true;
}

/* Makes a registered namespace active on controller n. */
void nvme_ns_attach(NvmeCtrl *n, NvmeNamespace *ns)
{
    if (n->admin_only) {
        return;     /* administrative controllers have no namespaces */
    }
    /* I/O queues in an iothread look it up without the BQL */
    qatomic_store_release(&n->namespaces[ns->nsid], ns);
    trace_nvme_ns_attach(n->cntlid, ns->nsid);
    nvme_ctrl_ns_changed(n, ns->nsid);
}

void nvme_ns_detach(NvmeCtrl *n, NvmeNamespace *ns)
{
    if (ns->nsid && n->namespaces[ns->nsid] == ns) {
        /*
         * Commands on it complete first; those fetched meanwhile wait and
         * then look the namespace up again, not finding it.
         */
        nvme_ns_quiesce_begin(ns);
        qatomic_set(&n->namespaces[ns->nsid], NULL);
        /*
         * A round of n's I/O queues that looked it up before the store
         * has counted itself on it (and parked) once this returns: the
         * namespace may be freed after the quiesce ends.
         */
        nvme_run_in_queue_context(n, 1, nvme_nop, NULL);
        nvme_ns_quiesce_end(ns);
        trace_nvme_ns_detach(n->cntlid, ns->nsid);
        nvme_ctrl_ns_changed(n, ns->nsid);
    }
}

bool nvme_ns_check_anagrpid(NvmeNamespace *ns, Error **errp)
{
    if (ns->params.anagrpid > NVME_ANA_GROUPS) {
        error_setg(errp, "nvme namespace: anagrpid must be at most %u",
                   NVME_ANA_GROUPS);
        return false;
    }
    return true;
}

/* I/O on the namespace runs where its controllers' I/O queues run. */
bool nvme_ns_set_context(NvmeNamespace *ns, AioContext *ctx, Error **errp)
{
    if (ns->zone_state && blk_get_aio_context(ns->zone_state) != ctx &&
        blk_set_aio_context(ns->zone_state, ctx, errp) < 0) {
        return false;
    }
    if (ns->resv_state && blk_get_aio_context(ns->resv_state) != ctx &&
        blk_set_aio_context(ns->resv_state, ctx, errp) < 0) {
        return false;
    }
    if (blk_get_aio_context(ns->blk) == ctx) {
        return true;
    }
    return blk_set_aio_context(ns->blk, ctx, errp) == 0;
}

void nvme_ns_drain(NvmeNamespace *ns)
{
    blk_drain(ns->blk);
    if (ns->zone_state) {
        blk_drain(ns->zone_state);
    }
    if (ns->resv_state) {
        blk_drain(ns->resv_state);
    }
}

/* What setup allocated beyond the backends */
void nvme_ns_cleanup(NvmeNamespace *ns)
{
    if (ns->backends_watched) {
        /* State saves run without a controller (nvme-zone-inject) */
        nvme_ns_wait_idle(ns);
        nvme_backend_unwatch(ns->blk);
        nvme_backend_unwatch(ns->zone_state);
        nvme_backend_unwatch(ns->resv_state);
        ns->backends_watched = false;
    }
    nvme_zns_cleanup(ns);
    nvme_resv_free(ns->resv);
    ns->resv = NULL;
}

void nvme_ns_flush(NvmeNamespace *ns)
{
    blk_flush(ns->blk);
}

/* The nvme-ns device */

/*
 * The nvme-ns device. On a controller's bus it belongs to that controller,
 * or with a subsystem to the subsystem: a shared namespace then moves to
 * the subsystem's bus, so that unplugging a controller leaves it in place.
 * It may also be plugged into the subsystem's bus directly.
 */
static void nvme_ns_device_realize(DeviceState *dev, Error **errp)
{
    NvmeNamespaceDevice *nsdev = NVME_NS(dev);
    NvmeNamespace *ns = &nsdev->ns;
    Object *parent = OBJECT(qdev_get_parent_bus(dev)->parent);
    NvmeCtrl *n = NULL;

    if (object_dynamic_cast(parent, TYPE_NVME)) {
        n = NVME(parent);
        nsdev->subsys = n->subsys;
        if (n->admin_only && !(n->subsys && ns->params.shared)) {
            error_setg(errp, "nvme-ns: an administrative controller has no "
                       "namespaces of its own");
            return;
        }
    } else {
        nsdev->subsys = &NVME_SUBSYS(parent)->subsys;
        if (!ns->params.shared) {
            error_setg(errp, "nvme-ns: a namespace on a subsystem's bus "
                       "must be shared");
            return;
        }
    }
    if (nsdev->subsys && ns->params.shared && !nsdev->subsys->bus) {
        /* It would go with the controller: use x-nvme-ns-nvm instead */
        error_setg(errp, "nvme-ns: the shared namespaces of an "
                   "x-nvme-subsystem are x-nvme-ns-* objects");
        return;
    }
    ns->zone_state = nsdev->zone_state_blk;
    ns->resv_state = nsdev->resv_state_blk;
    ns->holder = OBJECT(dev);
    if (!nvme_ns_check_anagrpid(ns, errp) ||
        !nvme_ns_setup(ns, &nsdev->blkconf, errp) ||
        !nvme_ns_set_context(ns, n ? n->ctx
                                   : nvme_subsys_context(nsdev->subsys),
                             errp)) {
        goto fail;
    }
    if (!nsdev->subsys) {
        /* The controller's own table: registered is attached. */
        if (!nvme_ns_register(n->namespaces, ns, (char *)n->id_ctrl.subnqn,
                              errp)) {
            goto fail;
        }
        if (ns->params.detached) {
            n->namespaces[ns->nsid] = NULL;
        } else {
            nvme_ctrl_ns_changed(n, ns->nsid);
        }
        return;
    }
    if (!nvme_subsys_add_ns(nsdev->subsys, ns, n, errp)) {
        goto fail;
    }
    if (ns->params.shared && n &&
        !qdev_set_parent_bus(dev, nsdev->subsys->bus, errp)) {
        nvme_subsys_remove_ns(nsdev->subsys, ns);
        goto fail;
    }
    return;

fail:
    /* Unrealize does not run after a failed realize */
    nvme_ns_cleanup(ns);
}

static void nvme_ns_device_unrealize(DeviceState *dev)
{
    NvmeNamespaceDevice *nsdev = NVME_NS(dev);
    Object *parent = OBJECT(qdev_get_parent_bus(dev)->parent);

    if (nsdev->subsys) {
        nvme_subsys_remove_ns(nsdev->subsys, &nsdev->ns);
    } else if (object_dynamic_cast(parent, TYPE_NVME)) {
        nvme_ns_detach(NVME(parent), &nsdev->ns);
    }
    nvme_ns_cleanup(&nsdev->ns);
}

#define NVME_NS_PARAM(kind, name, field, dflt) \
    DEFINE_PROP_##kind(name, NvmeNamespaceDevice, ns.params.field, dflt)

static const Property nvme_ns_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeNamespaceDevice, blkconf),
    NVME_NS_PARAM(UINT32, "nsid", nsid, 0),
    DEFINE_PROP_UUID_NODEFAULT("uuid", NvmeNamespaceDevice, ns.params.uuid),
    NVME_NS_PARAM(UINT64, "eui64", eui64, 0),
    NVME_NS_PARAM(BOOL, "eui64-default", eui64_default, false),
    DEFINE_PROP_STRING("nguid", NvmeNamespaceDevice, ns.params.nguid_str),
    NVME_NS_PARAM(BOOL, "shared", shared, true),
    NVME_NS_PARAM(UINT32, "anagrpid", anagrpid, 0),
    NVME_NS_PARAM(BOOL, "detached", detached, false),
    NVME_NS_PARAM(UINT16, "ms", ms, 0),
    NVME_NS_PARAM(UINT8, "mset", mset, 0),
    NVME_NS_PARAM(UINT8, "pi", pi, 0),
    NVME_NS_PARAM(UINT8, "pil", pil, 0),
    NVME_NS_PARAM(UINT8, "pif", pif, 0),
    NVME_NS_PARAM(UINT32, "mcl", mcl, NVME_COPY_DEFAULT_MCL),
    NVME_NS_PARAM(UINT16, "mssrl", mssrl, NVME_COPY_DEFAULT_MSSRL),
    NVME_NS_PARAM(UINT8, "msrc", msrc, NVME_COPY_DEFAULT_MSRC),
    NVME_NS_PARAM(BOOL, "zoned", zoned.zoned, false),
    DEFINE_PROP_SIZE("zoned.zone_size", NvmeNamespaceDevice,
                     ns.params.zoned.zone_size, 128 * MiB),
    DEFINE_PROP_SIZE("zoned.zone_capacity", NvmeNamespaceDevice,
                     ns.params.zoned.zone_cap, 0),
    NVME_NS_PARAM(UINT32, "zoned.max_active", zoned.max_active, 0),
    NVME_NS_PARAM(UINT32, "zoned.max_open", zoned.max_open, 0),
    NVME_NS_PARAM(UINT32, "zoned.descr_ext_size", zoned.descr_ext_size, 0),
    NVME_NS_PARAM(BOOL, "zoned.cross_read", zoned.cross_read, false),
    NVME_NS_PARAM(UINT32, "zoned.numzrwa", zoned.numzrwa, 0),
    DEFINE_PROP_SIZE("zoned.zrwas", NvmeNamespaceDevice,
                     ns.params.zoned.zrwas, 0),
    DEFINE_PROP_SIZE("zoned.zrwafg", NvmeNamespaceDevice,
                     ns.params.zoned.zrwafg, NVME_ZRWAFG_DEFAULT),
    DEFINE_PROP_DRIVE("zoned.state", NvmeNamespaceDevice, zone_state_blk),
    DEFINE_PROP_DRIVE("resv.state", NvmeNamespaceDevice, resv_state_blk),
};

static void nvme_ns_device_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    device_class_set_props(dc, nvme_ns_props);
    dc->bus_type = TYPE_NVME_BUS;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->realize = nvme_ns_device_realize;
    dc->unrealize = nvme_ns_device_unrealize;
    dc->desc = "Virtual NVMe namespace";
}

/* Firmware boot order names a namespace by its NSID. */
void nvme_ns_add_bootindex(Object *obj, BlockConf *conf, uint32_t nsid)
{
    g_autofree char *path = g_strdup_printf("/namespace@%u,0", nsid);

    device_add_bootindex_property(obj, &conf->bootindex, "bootindex", path,
                                  DEVICE(obj));
}

static void nvme_ns_device_instance_init(Object *obj)
{
    NvmeNamespaceDevice *nsdev = NVME_NS(obj);

    nvme_ns_add_bootindex(obj, &nsdev->blkconf, nsdev->ns.params.nsid);
}

static const TypeInfo nvme_ns_types[] = {
    {
        .name = TYPE_NVME_NS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeNamespaceDevice),
        .instance_init = nvme_ns_device_instance_init,
        .class_init = nvme_ns_device_class_init,
    },
};

DEFINE_TYPES(nvme_ns_types)
