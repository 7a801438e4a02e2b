/*
 * NVMe device model: Namespace Management and Namespace Attachment (Base
 * 5.22, 5.23), the Identify lists that go with them (CNS 10h-13h), and the
 * pool that holds the namespaces hosts create.
 *
 * A subsystem with ns-pool=DIR and tnvmcap=SIZE lets hosts create up to
 * SIZE bytes of namespaces. Each one is a raw image DIR/ns-<nsid>.img; the
 * file DIR/namespaces lists them, a line each, with size, LBA format and
 * protection information settings, NMIC, UUID and the controllers they
 * are attached to. The list is rewritten (atomically and durably) after
 * every change and read back when the subsystem is created, so a restarted
 * QEMU finds the same namespaces, formats, attachments and data.
 * Controller IDs follow the order in which controllers are created, so
 * attachments persist as long as the command line keeps that order.
 *
 * The list is what counts: an image is created before the list names it
 * and removed only after the list no longer does, so a QEMU killed half
 * way leaves at most an image the list does not name, which the next
 * start ignores (a namespace created with that NSID overwrites it). A
 * listed namespace whose image is missing (removed by hand, or by an
 * older QEMU that removed images first) is dropped with a warning.
 *
 * Every controller of a subsystem, with a pool or without, offers both
 * commands (OACS bit 3). Namespace Attachment also works on the
 * namespaces the command line defines (nvme-ns, the drive of an nvme
 * controller, x-nvme-ns-*): their attachments last until QEMU exits.
 * Without a pool there is no capacity to create namespaces from (TNVMCAP
 * is 0): create fails with Namespace Insufficient Capacity. A private
 * namespace defined on a controller stays that controller's: it may be
 * detached from it and attached again, not attached to another.
 * Controllers outside any subsystem have neither command.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

#define NVME_POOL_LIST          "namespaces"
#define NVME_POOL_NLBAF         2       /* created namespaces: 512 B, 4 KiB */

/* A namespace created by Namespace Management. */
typedef struct NvmePoolNs {
    NvmeNamespace ns;
    BlockConf conf;
} NvmePoolNs;

/*
 * The format of a pool namespace: any LBA format that Format NVM offers
 * it, with its protection information settings. Lists written before
 * pi, pil and mset were recorded lack them: they are 0.
 */
typedef struct NvmePoolFormat {
    unsigned lbaf;
    unsigned pi;
    unsigned pil;
    unsigned mset;
} NvmePoolFormat;

bool nvme_nsmgmt_supported(NvmeCtrl *n)
{
    return n->subsys;
}

bool nvme_nsmgmt_has_pool(NvmeCtrl *n)
{
    return n->subsys && n->subsys->pool_dir;
}

static char *nvme_pool_path(NvmeSubsystem *subsys, uint32_t nsid)
{
    return nsid ? g_strdup_printf("%s/ns-%u.img", subsys->pool_dir, nsid)
                : g_strdup_printf("%s/" NVME_POOL_LIST, subsys->pool_dir);
}

/* The pool's namespace list: written whole, synced, renamed into place. */
static bool nvme_pool_save(NvmeSubsystem *subsys, Error **errp)
{
    g_autoptr(GString) s = g_string_new(NULL);
    g_autofree char *path = nvme_pool_path(subsys, 0);
    g_autoptr(GError) gerr = NULL;

    g_string_append_printf(s, "# namespaces of nvme-subsys %s, written by "
                           "QEMU: do not edit while it runs\n", subsys->nqn);
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];
        char uuid[UUID_STR_LEN];
        bool permanent;

        if (!ns || !ns->managed) {
            continue;
        }
        qemu_uuid_unparse(&ns->params.uuid, uuid);
        permanent = ns->wp_state == NVME_WP_PERMANENT;
        g_string_append_printf(s, "ns nsid=%u nsze=%" PRIu64 " lbaf=%u "
                               "nmic=%u attached=0x%08x uuid=%s ana=%u "
                               "pi=%u pil=%u mset=%u%s\n",
                               nsid, ns->nlbas, ns->lbaf_index,
                               ns->params.shared ? 1 : 0, ns->attached, uuid,
                               ns->anagrpid, ns->pi, ns->pil ? 1 : 0,
                               ns->mset ? 1 : 0, permanent ? " wp=3" : "");
    }
    for (guint i = 0; subsys->pool_wp && i < subsys->pool_wp->len; i++) {
        NvmePoolWp *r = &g_array_index(subsys->pool_wp, NvmePoolWp, i);
        char uuid[UUID_STR_LEN];

        qemu_uuid_unparse(&r->uuid, uuid);
        g_string_append_printf(s, "wp nsid=%u uuid=%s\n", r->nsid, uuid);
    }
    if (!g_file_set_contents_full(path, s->str, s->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT |
                                  G_FILE_SET_CONTENTS_DURABLE, 0644, &gerr)) {
        error_setg(errp, "nvme-subsys: cannot write %s: %s", path,
                   gerr->message);
        return false;
    }
    return true;
}

static void nvme_pool_save_or_report(NvmeSubsystem *subsys)
{
    Error *err = NULL;

    if (!nvme_pool_save(subsys, &err)) {
        error_report_err(err);
    }
}

void nvme_nsmgmt_ns_changed(NvmeNamespace *ns, NvmeSubsystem *subsys)
{
    if (ns->managed && subsys) {
        nvme_pool_save_or_report(subsys);
    }
}

/*
 * Permanent write protection of nvme-ns namespaces is recorded by NSID and
 * UUID, so that it returns with the same namespace and no other.
 */
static NvmePoolWp *nvme_pool_find_wp(NvmeSubsystem *subsys, uint32_t nsid,
                                     const QemuUUID *uuid)
{
    for (guint i = 0; subsys->pool_wp && i < subsys->pool_wp->len; i++) {
        NvmePoolWp *r = &g_array_index(subsys->pool_wp, NvmePoolWp, i);

        if (r->nsid == nsid && qemu_uuid_is_equal(&r->uuid, uuid)) {
            return r;
        }
    }
    return NULL;
}

static void nvme_pool_add_wp(NvmeSubsystem *subsys, uint32_t nsid,
                             const QemuUUID *uuid)
{
    NvmePoolWp r = { .nsid = nsid, .uuid = *uuid };

    if (!subsys->pool_wp) {
        subsys->pool_wp = g_array_new(false, false, sizeof(NvmePoolWp));
    }
    if (!nvme_pool_find_wp(subsys, nsid, uuid)) {
        g_array_append_val(subsys->pool_wp, r);
    }
}

void nvme_pool_record_wp(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    if (!ns->managed) {
        nvme_pool_add_wp(subsys, ns->nsid, &ns->params.uuid);
    }
    nvme_pool_save_or_report(subsys);
}

void nvme_pool_restore_wp(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    if (!ns->managed &&
        nvme_pool_find_wp(subsys, ns->nsid, &ns->params.uuid)) {
        nvme_wp_apply(ns, NVME_WP_PERMANENT);
    }
}

/*
 * A format read from the list is checked as Format NVM checks the host's:
 * the list is a file, which anyone may have edited.
 */
static bool nvme_pool_check_format(NvmeNamespace *ns,
                                   const NvmePoolFormat *f, Error **errp)
{
    if (f->lbaf >= ns->nlbaf || f->pi > NVME_PI_TYPE3 || f->pil > 1 ||
        f->mset > 1) {
        error_setg(errp, "no LBA format %u with pi=%u pil=%u mset=%u",
                   f->lbaf, f->pi, f->pil, f->mset);
        return false;
    }
    if (f->pi && ns->lbaf_ms[f->lbaf] <
                 (ns->lbaf_pif[f->lbaf] == NVME_PIF_64B ? 16 : 8)) {
        error_setg(errp, "LBA format %u has no room for protection "
                   "information", f->lbaf);
        return false;
    }
    return true;
}

/* Opens the image of pool namespace nsid as namespace of subsys. */
static NvmePoolNs *nvme_pool_open(NvmeSubsystem *subsys, uint32_t nsid,
                                  const NvmePoolFormat *f, bool shared,
                                  uint32_t anagrpid, const QemuUUID *uuid,
                                  Error **errp)
{
    g_autofree char *path = nvme_pool_path(subsys, nsid);
    QDict *opts = qdict_new();
    NvmePoolNs *p = g_new0(NvmePoolNs, 1);

    qdict_put_str(opts, "driver", "raw");
    p->conf.blk = blk_new_open(path, NULL, opts, BDRV_O_RDWR, errp);
    if (!p->conf.blk) {
        g_free(p);
        return NULL;
    }
    p->conf.wce = ON_OFF_AUTO_ON;
    p->conf.rerror = BLOCKDEV_ON_ERROR_AUTO;
    p->conf.werror = BLOCKDEV_ON_ERROR_AUTO;
    p->ns.params.nsid = nsid;
    nvme_ns_params_copy_defaults(&p->ns.params);
    p->ns.params.shared = shared;
    p->ns.params.uuid = *uuid;
    p->ns.params.anagrpid = anagrpid;
    p->ns.managed = true;
    if (!nvme_ns_setup(&p->ns, &p->conf, errp) ||
        !nvme_pool_check_format(&p->ns, f, errp) ||
        !nvme_ns_set_context(&p->ns, nvme_subsys_context(subsys), errp)) {
        nvme_ns_cleanup(&p->ns);
        blk_unref(p->conf.blk);
        g_free(p);
        return NULL;
    }
    /* Identify Namespace (DPS, FLBAS) is built from these */
    p->ns.pi = f->pi;
    p->ns.pil = f->pil;
    p->ns.mset = f->mset;
    nvme_ns_set_format(&p->ns, f->lbaf);
    return p;
}

static void nvme_pool_free(NvmeNamespace *ns)
{
    NvmePoolNs *p = container_of(ns, NvmePoolNs, ns);

    nvme_ns_cleanup(ns);
    blk_unref(p->conf.blk);
    g_free(p);
}

/* Registers a pool namespace; it is attached to the controllers attached. */
static bool nvme_pool_add(NvmeSubsystem *subsys, NvmePoolNs *p,
                          uint32_t attached, Error **errp)
{
    p->ns.attached = attached;
    if (!nvme_subsys_add_ns(subsys, &p->ns, NULL, errp)) {
        return false;
    }
    subsys->pool_used += p->ns.size;
    return true;
}

/*
 * An optional " name=value" field of a list line; absent (lists of older
 * QEMUs), the value stays as it is.
 */
static bool nvme_pool_optional_field(const char *line, const char *name,
                                     unsigned *value)
{
    g_autofree char *key = g_strdup_printf(" %s=", name);
    const char *field = strstr(line, key);
    const char *end;

    if (!field) {
        return true;
    }
    return !qemu_strtoui(field + strlen(key), &end, 10, value) &&
           (!*end || *end == ' ');
}

static bool nvme_pool_parse_line(NvmeSubsystem *subsys, const char *line,
                                 bool *dropped, Error **errp)
{
    g_autofree char *path = NULL;
    unsigned nsid, nmic, attached, anagrpid = 0;
    NvmePoolFormat f = {};
    uint64_t nsze;
    char uuid_str[UUID_STR_LEN] = "";
    QemuUUID uuid;
    NvmePoolNs *p;

    if (g_str_has_prefix(line, "wp ")) {
        if (sscanf(line, "wp nsid=%u uuid=%36s", &nsid, uuid_str) != 2 ||
            qemu_uuid_parse(uuid_str, &uuid) < 0) {
            error_setg(errp, "malformed line '%s'", line);
            return false;
        }
        nvme_pool_add_wp(subsys, nsid, &uuid);
        return true;
    }
    if (sscanf(line, "ns nsid=%u nsze=%" SCNu64 " lbaf=%u nmic=%u "
               "attached=%x uuid=%36s", &nsid, &nsze, &f.lbaf, &nmic,
               &attached, uuid_str) != 6 ||
        qemu_uuid_parse(uuid_str, &uuid) < 0 ||
        !nvme_pool_optional_field(line, "ana", &anagrpid) ||
        !nvme_pool_optional_field(line, "pi", &f.pi) ||
        !nvme_pool_optional_field(line, "pil", &f.pil) ||
        !nvme_pool_optional_field(line, "mset", &f.mset)) {
        error_setg(errp, "malformed line '%s'", line);
        return false;
    }
    /* The LBA format is checked against the namespace's once it is open */
    if (!nsid || nsid > NVME_MAX_NAMESPACES || !nsze || nmic > 1 ||
        anagrpid > NVME_ANA_GROUPS) {
        error_setg(errp, "invalid values in '%s'", line);
        return false;
    }
    if (subsys->namespaces[nsid]) {
        error_setg(errp, "nsid %u is listed twice or already in use", nsid);
        return false;
    }
    path = nvme_pool_path(subsys, nsid);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        /* Its data is gone: the namespace cannot come back. */
        warn_report("nvme-subsys: %s is missing; namespace %u is dropped "
                    "from the pool", path, nsid);
        *dropped = true;
        return true;
    }
    p = nvme_pool_open(subsys, nsid, &f, nmic, anagrpid, &uuid, errp);
    if (!p) {
        return false;
    }
    if (p->ns.nlbas != nsze) {
        error_setg(errp, "ns-%u.img holds %" PRIu64 " blocks, the list says "
                   "%" PRIu64, nsid, p->ns.nlbas, nsze);
        nvme_pool_free(&p->ns);
        return false;
    }
    if (g_str_has_suffix(line, " wp=3")) {
        nvme_wp_apply(&p->ns, NVME_WP_PERMANENT);
    }
    if (!nvme_pool_add(subsys, p, attached, errp)) {
        nvme_pool_free(&p->ns);
        return false;
    }
    return true;
}

/* Closes the pool's namespaces (those a failed load had opened). */
void nvme_pool_unload(NvmeSubsystem *subsys)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];

        if (ns && ns->managed) {
            nvme_subsys_remove_ns(subsys, ns);
            nvme_pool_free(ns);
        }
    }
    subsys->pool_used = 0;
    if (subsys->pool_wp) {
        g_array_set_size(subsys->pool_wp, 0);
    }
}

/*
 * Images the list does not name are what a QEMU killed while creating or
 * deleting a namespace leaves; they are not touched (the user may want
 * them), only reported.
 */
static void nvme_pool_report_strays(NvmeSubsystem *subsys)
{
    g_autoptr(GDir) dir = g_dir_open(subsys->pool_dir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        NvmeNamespace *ns;
        unsigned nsid;
        int len = 0;

        if (sscanf(name, "ns-%u.img%n", &nsid, &len) < 1 || !len ||
            name[len] || !nsid || nsid > NVME_MAX_NAMESPACES) {
            continue;
        }
        ns = subsys->namespaces[nsid];
        if (!ns || !ns->managed) {
            warn_report("nvme-subsys: %s/%s is not in the namespace list; "
                        "a namespace created as NSID %u will overwrite it",
                        subsys->pool_dir, name, nsid);
        }
    }
}

/* Realize: opens the pool directory and the namespaces it lists. */
bool nvme_pool_load(NvmeSubsystem *subsys, Error **errp)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) gerr = NULL;
    bool dropped = false;

    if (!subsys->pool_dir) {
        return true;
    }
    if (!subsys->tnvmcap) {
        error_setg(errp, "nvme-subsys: ns-pool needs tnvmcap, the capacity "
                   "hosts may allocate");
        return false;
    }
    if (g_mkdir_with_parents(subsys->pool_dir, 0755) < 0) {
        error_setg_errno(errp, errno, "nvme-subsys: cannot create ns-pool "
                         "directory %s", subsys->pool_dir);
        return false;
    }
    path = nvme_pool_path(subsys, 0);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return nvme_pool_save(subsys, errp);
    }
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        error_setg(errp, "nvme-subsys: cannot read %s: %s", path,
                   gerr->message);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        Error *local_err = NULL;

        if (!lines[i][0] || lines[i][0] == '#') {
            continue;
        }
        if (!nvme_pool_parse_line(subsys, lines[i], &dropped, &local_err)) {
            error_propagate_prepend(errp, local_err, "nvme-subsys: %s "
                                    "line %d: ", path, i + 1);
            /* Nothing stays open or locked for a subsystem that fails. */
            nvme_pool_unload(subsys);
            return false;
        }
    }
    nvme_pool_report_strays(subsys);
    if (dropped) {
        nvme_pool_save_or_report(subsys);
    }
    if (subsys->pool_used > subsys->tnvmcap) {
        warn_report("nvme-subsys: the namespaces in %s use %" PRIu64
                    " bytes, more than tnvmcap", subsys->pool_dir,
                    subsys->pool_used);
    }
    return true;
}

/* Namespace Management (Base 5.22) */

static uint16_t nvme_ns_create(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeSubsystem *subsys = n->subsys;
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree char *path = NULL;
    uint8_t csi = le32_to_cpu(req->cmd.cdw11) >> 24;
    uint64_t nsze, ncap, bytes;
    uint8_t lbaf, bits;
    uint32_t nsid;
    QemuUUID uuid;
    NvmePoolNs *p;
    Error *err = NULL;
    uint16_t status;
    int fd;

    status = nvme_dma_from_host(n, req, id, sizeof(*id));
    if (status) {
        return status;
    }
    nsze = le64_to_cpu(id->nsze);
    ncap = le64_to_cpu(id->ncap);
    lbaf = (id->flbas & 0xf) | ((id->flbas >> 5) & 0x3) << 4;
    if (csi != NVME_CSI_NVM) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "unsupported command set");
    }
    if (!subsys->pool_dir) {
        return nvme_cmd_error(req, NVME_SC_NS_INSUFFICIENT_CAPACITY,
                              "no ns-pool: no capacity to allocate");
    }
    if (!nsze || ncap > nsze) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "NSZE is zero or below NCAP");
    }
    if (ncap < nsze) {
        return nvme_cmd_error(req, NVME_SC_THIN_PROVISIONING_UNSUPPORTED,
                              "NCAP below NSZE");
    }
    if (lbaf >= NVME_POOL_NLBAF) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FORMAT,
                              "no such LBA format");
    }
    if (id->dps || (id->nmic & ~1)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "DPS or NMIC not supported");
    }
    if (le32_to_cpu(id->anagrpid) > NVME_ANA_GROUPS) {
        return nvme_cmd_error(req, NVME_SC_ANA_GROUP_ID_INVALID,
                              "no such ANA group");
    }
    bits = lbaf ? 12 : 9;
    if (nsze > (subsys->tnvmcap - MIN(subsys->pool_used, subsys->tnvmcap))
               >> bits) {
        return nvme_cmd_error(req, NVME_SC_NS_INSUFFICIENT_CAPACITY,
                              "not enough unallocated capacity");
    }
    bytes = nsze << bits;
    for (nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (!subsys->namespaces[nsid]) {
            break;
        }
    }
    if (nsid > NVME_MAX_NAMESPACES) {
        return nvme_cmd_error(req, NVME_SC_NS_ID_UNAVAILABLE,
                              "no free namespace identifier");
    }

    path = nvme_pool_path(subsys, nsid);
    fd = qemu_create(path, O_WRONLY | O_TRUNC, 0644, &err);
    if (fd < 0 || ftruncate(fd, bytes) < 0) {
        if (fd >= 0) {
            error_setg_errno(&err, errno, "cannot size %s", path);
            qemu_close(fd);
        }
        goto fail;
    }
    qemu_close(fd);
    qemu_uuid_generate(&uuid);
    p = nvme_pool_open(subsys, nsid, &(NvmePoolFormat) { .lbaf = lbaf },
                       id->nmic & 1, le32_to_cpu(id->anagrpid), &uuid, &err);
    if (!p) {
        goto fail;
    }
    if (!nvme_pool_add(subsys, p, 0, &err)) {
        nvme_pool_free(&p->ns);
        goto fail;
    }
    /* It exists once the list names it; until then it is a stray image. */
    if (!nvme_pool_save(subsys, &err)) {
        nvme_subsys_remove_ns(subsys, &p->ns);
        subsys->pool_used -= p->ns.size;
        nvme_pool_free(&p->ns);
        goto fail;
    }
    trace_nvme_ns_create(n->cntlid, nsid, nsze, lbaf);
    req->cqe.result = cpu_to_le32(nsid);
    return NVME_SC_SUCCESS;

fail:
    error_report_err(err);
    unlink(path);
    return NVME_SC_INTERNAL_ERROR;
}

/* Takes ns out of the subsystem; its image stays until the list is saved. */
static void nvme_ns_delete_one(NvmeCtrl *n, NvmeNamespace *ns)
{
    NvmeSubsystem *subsys = n->subsys;

    trace_nvme_ns_delete(n->cntlid, ns->nsid);
    /* Detaches it from every controller, which tells them. */
    nvme_subsys_remove_ns(subsys, ns);
    subsys->pool_used -= ns->size;
}

/*
 * The list no longer names the deleted namespaces: now their images go.
 * If it could not be written, they stay, so that the list still on disk
 * names only images that exist.
 */
static void nvme_ns_delete_finish(NvmeSubsystem *subsys,
                                  NvmeNamespace **gone, int count)
{
    Error *err = NULL;
    bool saved = nvme_pool_save(subsys, &err);

    if (!saved) {
        error_report_err(err);
    }
    for (int i = 0; i < count; i++) {
        g_autofree char *path = nvme_pool_path(subsys, gone[i]->nsid);

        nvme_pool_free(gone[i]);
        if (saved && unlink(path) < 0) {
            warn_report("nvme-subsys: cannot remove %s: %s", path,
                        strerror(errno));
        }
    }
}

static uint16_t nvme_ns_delete(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeSubsystem *subsys = n->subsys;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    g_autofree NvmeNamespace **gone = g_new(NvmeNamespace *,
                                            NVME_MAX_NAMESPACES);
    int count = 0;
    NvmeNamespace *ns;

    if (nsid == NVME_NSID_BROADCAST) {
        for (nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
            ns = subsys->namespaces[nsid];
            if (ns && ns->managed && ns->wp_state) {
                return nvme_cmd_error(req, NVME_SC_NS_WRITE_PROTECTED,
                                      "a namespace is write protected");
            }
        }
        for (nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
            ns = subsys->namespaces[nsid];
            if (ns && ns->managed) {
                nvme_ns_delete_one(n, ns);
                gone[count++] = ns;
            }
        }
    } else {
        ns = nsid && nsid <= NVME_MAX_NAMESPACES ? subsys->namespaces[nsid]
                                                 : NULL;
        if (!ns) {
            return nvme_cmd_error(req, NVME_SC_INVALID_NAMESPACE,
                                  "no such namespace");
        }
        if (!ns->managed) {
            return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                                  "namespace comes from the command "
                                  "line, not from Namespace Management");
        }
        if (ns->wp_state) {
            return nvme_cmd_error(req, NVME_SC_NS_WRITE_PROTECTED,
                                  "namespace is write protected");
        }
        nvme_ns_delete_one(n, ns);
        gone[count++] = ns;
    }
    nvme_ns_delete_finish(subsys, gone, count);
    return NVME_SC_SUCCESS;
}

uint16_t nvme_ns_management(NvmeCtrl *n, NvmeRequest *req)
{
    switch (le32_to_cpu(req->cmd.cdw10) & 0xf) {
    case 0:
        return nvme_ns_create(n, req);
    case 1:
        return nvme_ns_delete(n, req);
    default:
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD, "reserved SEL");
    }
}

/* Namespace Attachment (Base 5.23) */

/*
 * The controllers of the list in the command's data (Controller IDs), as
 * a mask of subsystem slots.
 */
static uint16_t nvme_ctrl_list_read(NvmeCtrl *n, NvmeRequest *req,
                                    uint32_t *mask)
{
    g_autofree uint16_t *list = g_new0(uint16_t, NVME_CTRL_LIST_MAX + 1);
    uint16_t count;
    uint16_t status;

    status = nvme_dma_from_host(n, req, list,
                                (NVME_CTRL_LIST_MAX + 1) * sizeof(*list));
    if (status) {
        return status;
    }
    count = le16_to_cpu(list[0]);
    if (!count || count > NVME_CTRL_LIST_MAX) {
        return nvme_cmd_error(req, NVME_SC_CONTROLLER_LIST_INVALID,
                              "empty or oversized controller list");
    }
    *mask = 0;
    for (uint16_t i = 1; i <= count; i++) {
        int slot = nvme_subsys_find_cntlid(n->subsys, le16_to_cpu(list[i]));

        if (slot < 0 || n->subsys->ctrls[slot]->admin_only ||
            (*mask & BIT(slot))) {
            return nvme_cmd_error(req, NVME_SC_CONTROLLER_LIST_INVALID,
                                  "unknown, administrative or repeated "
                                  "controller");
        }
        *mask |= BIT(slot);
    }
    return NVME_SC_SUCCESS;
}

/*
 * A private namespace (NMIC 0) is attached to one controller at a time;
 * one the command line defines on a controller only ever to that one.
 */
static bool nvme_ns_may_attach(NvmeSubsystem *subsys, NvmeNamespace *ns,
                               uint32_t mask)
{
    int owner = ns->owner ? nvme_subsys_slot(subsys, ns->owner) : -1;

    if (ns->params.shared) {
        return true;
    }
    if (ctpop32(mask) > 1 || ns->attached) {
        return false;
    }
    return !ns->owner || (owner >= 0 && mask == BIT(owner));
}

uint16_t nvme_ns_attachment(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeSubsystem *subsys = n->subsys;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t sel = le32_to_cpu(req->cmd.cdw10) & 0xf;
    NvmeNamespace *ns;
    uint32_t mask = 0;
    uint16_t status;

    if (sel > 1) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD, "reserved SEL");
    }
    ns = nsid && nsid <= NVME_MAX_NAMESPACES ? subsys->namespaces[nsid]
                                             : NULL;
    if (!ns) {
        return nvme_cmd_error(req, NVME_SC_INVALID_NAMESPACE,
                              "no such namespace");
    }
    status = nvme_ctrl_list_read(n, req, &mask);
    if (status) {
        return status;
    }
    if (sel == 0) {
        if (ns->attached & mask) {
            return nvme_cmd_error(req, NVME_SC_NS_ALREADY_ATTACHED,
                                  "already attached");
        }
        if (!nvme_ns_may_attach(subsys, ns, mask)) {
            return nvme_cmd_error(req, NVME_SC_NS_IS_PRIVATE,
                                  "private namespace");
        }
        ns->attached |= mask;
    } else {
        if ((ns->attached & mask) != mask) {
            return nvme_cmd_error(req, NVME_SC_NS_NOT_ATTACHED,
                                  "not attached");
        }
        ns->attached &= ~mask;
    }
    trace_nvme_ns_attachment(n->cntlid, nsid, sel, mask);
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (mask & BIT(i)) {
            if (sel == 0) {
                nvme_ns_attach(subsys->ctrls[i], ns);
            } else {
                nvme_ns_detach(subsys->ctrls[i], ns);
            }
        }
    }
    nvme_nsmgmt_ns_changed(ns, subsys);
    return NVME_SC_SUCCESS;
}

/* Identify CNS 10h-13h and the NSID FFFFFFFFh form of CNS 00h */

/* Namespaces that exist in the subsystem, attached or not. */
NvmeNamespace *nvme_nsmgmt_allocated(NvmeCtrl *n, uint32_t nsid)
{
    if (!nsid || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return n->subsys ? n->subsys->namespaces[nsid] : n->namespaces[nsid];
}

/* What every namespace created here offers (Identify NSID FFFFFFFFh). */
void nvme_nsmgmt_common_id_ns(NvmeIdNs *id)
{
    memset(id, 0, sizeof(*id));
    id->nlbaf = NVME_POOL_NLBAF - 1;
    id->lbaf[0].ds = 9;
    id->lbaf[1].ds = 12;
}

static int nvme_cntlid_compare(const void *a, const void *b)
{
    return *(const uint16_t *)a - *(const uint16_t *)b;
}

/* Controller IDs from CDW10.CNTID on, in increasing order (Base 4.5.2) */
uint16_t nvme_nsmgmt_identify_ctrl_list(NvmeCtrl *n, NvmeRequest *req,
                                        uint32_t nsid)
{
    uint16_t first = le32_to_cpu(req->cmd.cdw10) >> 16;
    uint16_t list[NVME_CTRL_LIST_MAX + 1] = {};
    uint16_t ids[NVME_MAX_CONTROLLERS];
    uint16_t count = 0;
    NvmeNamespace *ns = NULL;

    if (nsid) {
        ns = nvme_nsmgmt_allocated(n, nsid);
        if (!ns) {
            return nvme_cmd_error(req, NVME_SC_INVALID_NAMESPACE,
                                  "no such namespace");
        }
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        NvmeCtrl *c = nvme_subsys_slot_ctrl(n, i);

        if (c && c->cntlid >= first &&
            (!ns || c->namespaces[ns->nsid] == ns)) {
            ids[count++] = c->cntlid;
        }
    }
    qsort(ids, count, sizeof(ids[0]), nvme_cntlid_compare);
    for (uint16_t i = 0; i < count; i++) {
        list[i + 1] = cpu_to_le16(ids[i]);
    }
    list[0] = cpu_to_le16(count);
    return nvme_dma_to_host(n, req, list, sizeof(list));
}
