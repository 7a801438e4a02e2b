/*
 * NVMe device model: the explicit topology, as user-creatable objects.
 *
 *   -object x-nvme-subsystem,id=subsys0[,nqn=..][,ns-pool=DIR,tnvmcap=SIZE]
 *   -device nvme,id=ctrl0,subsys=subsys0
 *   -object x-nvme-ns-nvm,id=ns1,subsys=subsys0,drive=NODE,attached-to=ctrl0
 *
 * Neither a subsystem nor a namespace is hardware the guest sees, so they
 * are objects here rather than devices on a bus: unplugging a controller
 * leaves every namespace in place. They hold the same NvmeSubsystem and
 * NvmeNamespace state as nvme-subsys and nvme-ns and go through the same
 * code (subsys.c, ns.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qapi/qapi-visit-common.h"
#include "qemu/error-report.h"
#include "qom/object_interfaces.h"
#include "hw/qdev-core.h"
#include "system/system.h"
#include "system/block-backend.h"
#include "block/block_int-global-state.h"
#include "nvme.h"
#include "trace.h"

/*
 * Properties shape what the guest sees and what the subsystem registered,
 * so they are fixed once the object is complete.
 */
static bool nvme_obj_frozen(Object *obj, const char *name, Error **errp)
{
    bool frozen;

    if (object_dynamic_cast(obj, TYPE_NVME_NS_OBJECT)) {
        frozen = NVME_NS_OBJECT(obj)->subsys != NULL;
    } else {
        frozen = NVME_SUBSYS_OBJECT(obj)->complete;
    }
    if (frozen) {
        error_setg(errp, "%s: property '%s' cannot change after creation",
                   object_get_typename(obj), name);
    }
    return frozen;
}

/* Accessors for a field at offset opaque of the object */
#define NVME_OBJ_FIELD(obj, opaque, type) \
    ((type *)((char *)(obj) + (uintptr_t)(opaque)))

#define NVME_OBJ_SCALAR_ACCESSORS(kind, ctype, visit)                       \
static void nvme_obj_get_##kind(Object *obj, Visitor *v, const char *name,  \
                                void *opaque, Error **errp)                 \
{                                                                           \
    visit(v, name, NVME_OBJ_FIELD(obj, opaque, ctype), errp);               \
}                                                                           \
static void nvme_obj_set_##kind(Object *obj, Visitor *v, const char *name,  \
                                void *opaque, Error **errp)                 \
{                                                                           \
    ctype val;                                                              \
                                                                            \
    if (!nvme_obj_frozen(obj, name, errp) && visit(v, name, &val, errp)) {  \
        *NVME_OBJ_FIELD(obj, opaque, ctype) = val;                          \
    }                                                                       \
}

NVME_OBJ_SCALAR_ACCESSORS(uint8, uint8_t, visit_type_uint8)
NVME_OBJ_SCALAR_ACCESSORS(uint16, uint16_t, visit_type_uint16)
NVME_OBJ_SCALAR_ACCESSORS(uint32, uint32_t, visit_type_uint32)
NVME_OBJ_SCALAR_ACCESSORS(uint64, uint64_t, visit_type_uint64)
NVME_OBJ_SCALAR_ACCESSORS(size, uint64_t, visit_type_size)
NVME_OBJ_SCALAR_ACCESSORS(bool, bool, visit_type_bool)

static void nvme_obj_get_str(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    char *val = *NVME_OBJ_FIELD(obj, opaque, char *);
    g_autofree char *copy = g_strdup(val ? val : "");

    visit_type_str(v, name, &copy, errp);
}

static void nvme_obj_set_str(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    char **field = NVME_OBJ_FIELD(obj, opaque, char *);
    char *val;

    if (!nvme_obj_frozen(obj, name, errp) &&
        visit_type_str(v, name, &val, errp)) {
        g_free(*field);
        *field = val;
    }
}

typedef struct NvmeObjProp {
    const char *name;
    const char *type;
    size_t offset;
    const char *desc;
} NvmeObjProp;

static void nvme_obj_add_props(ObjectClass *oc, const NvmeObjProp *props)
{
    for (const NvmeObjProp *p = props; p->name; p++) {
        ObjectPropertyAccessor *get, *set;

        if (!strcmp(p->type, "str")) {
            get = nvme_obj_get_str;
            set = nvme_obj_set_str;
        } else if (!strcmp(p->type, "uint8")) {
            get = nvme_obj_get_uint8;
            set = nvme_obj_set_uint8;
        } else if (!strcmp(p->type, "uint16")) {
            get = nvme_obj_get_uint16;
            set = nvme_obj_set_uint16;
        } else if (!strcmp(p->type, "uint32")) {
            get = nvme_obj_get_uint32;
            set = nvme_obj_set_uint32;
        } else if (!strcmp(p->type, "uint64")) {
            get = nvme_obj_get_uint64;
            set = nvme_obj_set_uint64;
        } else if (!strcmp(p->type, "bool")) {
            get = nvme_obj_get_bool;
            set = nvme_obj_set_bool;
        } else {
            get = nvme_obj_get_size;
            set = nvme_obj_set_size;
        }
        object_class_property_add(oc, p->name, p->type, get, set,
                                       NULL, (void *)p->offset);
        object_class_property_set_description(oc, p->name, p->desc);
    }
}

/* x-nvme-subsystem */

static void nvme_subsys_object_complete(UserCreatable *uc, Error **errp)
{
    NvmeSubsystemObject *so = NVME_SUBSYS_OBJECT(uc);

    if (nvme_subsys_setup(&so->subsys,
                          object_get_canonical_path_component(OBJECT(uc)),
                          errp)) {
        so->complete = true;
    }
}

/* Controllers hold it through their link; namespaces never leave. */
static bool nvme_subsys_object_can_be_deleted(UserCreatable *uc)
{
    NvmeSubsystem *subsys = &NVME_SUBSYS_OBJECT(uc)->subsys;

    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (subsys->namespaces[nsid]) {
            return false;
        }
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (subsys->ctrls[i]) {
            return false;
        }
    }
    return true;
}

static void nvme_subsys_object_finalize(Object *obj)
{
    NvmeSubsystem *subsys = &NVME_SUBSYS_OBJECT(obj)->subsys;

    /* Deleted (nothing uses it), or QEMU exits: the pool goes with it */
    nvme_pool_unload(subsys);
    g_free(subsys->nqn);
    g_free(subsys->pool_dir);
    if (subsys->pool_wp) {
        g_array_free(subsys->pool_wp, true);
    }
}

static const NvmeObjProp nvme_subsys_object_props[] = {
    { "nqn", "str", offsetof(NvmeSubsystemObject, subsys.nqn),
      "NVM Subsystem NQN (default nqn.2019-08.org.qemu:<id>)" },
    { "subnqn", "str", offsetof(NvmeSubsystemObject, subsys.nqn),
      "Same as nqn" },
    { "ns-pool", "str", offsetof(NvmeSubsystemObject, subsys.pool_dir),
      "Directory holding the namespaces hosts create" },
    { "tnvmcap", "size", offsetof(NvmeSubsystemObject, subsys.tnvmcap),
      "Bytes hosts may allocate in ns-pool" },
    { }
};

static void nvme_subsys_object_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);

    ucc->complete = nvme_subsys_object_complete;
    ucc->can_be_deleted = nvme_subsys_object_can_be_deleted;
    nvme_obj_add_props(oc, nvme_subsys_object_props);
}

/* x-nvme-ns-* */

/* attached-to: controller IDs, or "all" */
static void nvme_ns_object_get_attached_to(Object *obj, Visitor *v,
                                           const char *name, void *opaque,
                                           Error **errp)
{
    char **ids = NVME_NS_OBJECT(obj)->ns.attach_ids;
    g_autoptr(strList) list = NULL;

    for (int i = ids ? g_strv_length(ids) - 1 : -1; i >= 0; i--) {
        QAPI_LIST_PREPEND(list, g_strdup(ids[i]));
    }
    visit_type_strList(v, name, &list, errp);
}

static void nvme_ns_object_set_attached_to(Object *obj, Visitor *v,
                                           const char *name, void *opaque,
                                           Error **errp)
{
    NvmeNamespace *ns = &NVME_NS_OBJECT(obj)->ns;
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    g_autoptr(strList) list = NULL;
    strList *e;

    if (nvme_obj_frozen(obj, name, errp) ||
        !visit_type_strList(v, name, &list, errp)) {
        return;
    }
    for (e = list; e; e = e->next) {
        g_ptr_array_add(ids, e->value);
    }
    g_ptr_array_add(ids, NULL);
    g_strfreev(ns->attach_ids);
    ns->attach_ids = g_strdupv((char **)ids->pdata);
}

static void nvme_ns_object_check_subsys(const Object *obj, const char *name,
                                        Object *val, Error **errp)
{
    nvme_obj_frozen((Object *)obj, name, errp);
}

/* An anonymous BlockBackend on a node name or the ID of a -drive */
static BlockBackend *nvme_ns_object_open(const char *name, Error **errp)
{
    BlockDriverState *bs = bdrv_lookup_bs(name, name, errp);
    BlockBackend *blk;

    if (!bs) {
        return NULL;
    }
    blk = blk_new(bdrv_get_aio_context(bs), 0, BLK_PERM_ALL);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        return NULL;
    }
    return blk;
}

static bool nvme_ns_object_open_drive(NvmeNamespaceObject *nso, Error **errp)
{
    if (!nso->drive) {
        error_setg(errp, "%s: drive property not set",
                   object_get_typename(OBJECT(nso)));
        return false;
    }
    nso->blkconf.blk = nvme_ns_object_open(nso->drive, errp);
    if (nso->blkconf.blk && nso->zone_state) {
        nso->ns.zone_state = nvme_ns_object_open(nso->zone_state, errp);
        if (!nso->ns.zone_state) {
            blk_unref(nso->blkconf.blk);
            nso->blkconf.blk = NULL;
        }
    }
    if (nso->blkconf.blk && nso->resv_state) {
        nso->ns.resv_state = nvme_ns_object_open(nso->resv_state, errp);
        if (!nso->ns.resv_state) {
            if (nso->ns.zone_state) {
                blk_unref(nso->ns.zone_state);
                nso->ns.zone_state = NULL;
            }
            blk_unref(nso->blkconf.blk);
            nso->blkconf.blk = NULL;
        }
    }
    return nso->blkconf.blk;
}

static bool nvme_ns_object_check_attach_ids(NvmeNamespaceObject *nso,
                                            Error **errp)
{
    char **ids = nso->ns.attach_ids;
    const char *type = object_get_typename(OBJECT(nso));

    for (int i = 0; ids[i]; i++) {
        if (!ids[i][0]) {
            error_setg(errp, "%s: attached-to: empty controller ID", type);
            return false;
        }
        if (!strcmp(ids[i], "all") && g_strv_length(ids) > 1) {
            error_setg(errp, "%s: attached-to: 'all' cannot be combined "
                       "with controller IDs", type);
            return false;
        }
    }
    return true;
}

/* Is id the ID of a controller of subsys? */
static bool nvme_subsys_has_ctrl_id(NvmeSubsystem *subsys, const char *id)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        NvmeCtrl *n = subsys->ctrls[i];

        if (n && DEVICE(n)->id && !strcmp(DEVICE(n)->id, id)) {
            return true;
        }
    }
    return false;
}

/*
 * An attached-to ID that names no controller is most likely a typo; it is
 * not an error, as a controller with that ID may be hot-plugged later.
 */
static void nvme_ns_object_warn_attach_ids(NvmeNamespaceObject *nso)
{
    char **ids = nso->ns.attach_ids;

    for (int i = 0; nso->subsys && ids && ids[i]; i++) {
        if (strcmp(ids[i], "all") &&
            !nvme_subsys_has_ctrl_id(nso->subsys, ids[i])) {
            warn_report("%s '%s': attached-to names '%s', which is no "
                        "controller of subsystem %s (yet)",
                        object_get_typename(OBJECT(nso)),
                        object_get_canonical_path_component(OBJECT(nso)),
                        ids[i], nso->subsys->nqn);
        }
    }
}

static int nvme_ns_object_warn_one(Object *obj, void *opaque)
{
    if (object_dynamic_cast(obj, TYPE_NVME_NS_OBJECT)) {
        nvme_ns_object_warn_attach_ids(NVME_NS_OBJECT(obj));
    }
    return 0;
}

/* Once the machine is created, the command line's controllers exist. */
static void nvme_ns_object_machine_done(Notifier *notifier, void *data)
{
    object_child_foreach(object_get_objects_root(), nvme_ns_object_warn_one,
                         NULL);
}

static Notifier nvme_ns_object_machine_done_notifier = {
    .notify = nvme_ns_object_machine_done,
};
static bool nvme_ns_object_notifier_added;

/* Gives back what complete took, after it failed */
static void nvme_ns_object_release(NvmeNamespaceObject *nso)
{
    NvmeNamespace *ns = &nso->ns;

    nvme_ns_cleanup(ns);
    if (nso->blkconf.blk) {
        blk_unref(nso->blkconf.blk);
        nso->blkconf.blk = NULL;
    }
    ns->blk = NULL;
    if (ns->zone_state) {
        blk_unref(ns->zone_state);
        ns->zone_state = NULL;
    }
    if (ns->resv_state) {
        blk_unref(ns->resv_state);
        ns->resv_state = NULL;
    }
}

static void nvme_ns_object_complete(UserCreatable *uc, Error **errp)
{
    NvmeNamespaceObject *nso = NVME_NS_OBJECT(uc);
    NvmeNamespace *ns = &nso->ns;
    const char *type = object_get_typename(OBJECT(uc));
    NvmeSubsystem *subsys;

    if (!nso->subsys_link) {
        error_setg(errp, "%s: subsys property not set", type);
        return;
    }
    subsys = nvme_subsys_of(nso->subsys_link);
    if (nso->uuid_str && qemu_uuid_parse(nso->uuid_str, &ns->params.uuid)) {
        error_setg(errp, "%s: uuid '%s' is not a UUID", type, nso->uuid_str);
        return;
    }
    if (!ns->attach_ids) {
        ns->attach_ids = g_strsplit("all", ",", -1);
    }
    if (!nvme_ns_object_check_attach_ids(nso, errp)) {
        return;
    }
    /* NMIC: it may be attached to more than one controller */
    ns->params.shared = true;
    ns->holder = OBJECT(uc);
    if (!nvme_ns_check_anagrpid(ns, errp) ||
        !nvme_ns_object_open_drive(nso, errp)) {
        return;
    }
    if (!nvme_ns_setup(ns, &nso->blkconf, errp) ||
        !nvme_ns_set_context(ns, nvme_subsys_context(subsys), errp) ||
        !nvme_subsys_add_ns(subsys, ns, NULL, errp)) {
        nvme_ns_object_release(nso);
        return;
    }
    nso->subsys = subsys;
    if (phase_check(PHASE_MACHINE_READY)) {
        nvme_ns_object_warn_attach_ids(nso);
    } else if (!nvme_ns_object_notifier_added) {
        nvme_ns_object_notifier_added = true;
        qemu_add_machine_init_done_notifier(
            &nvme_ns_object_machine_done_notifier);
    }
    ns->params.nsid = ns->nsid;     /* what the nsid property reads back */
    /* The subsystem and its controllers keep pointers to it. */
    object_ref(OBJECT(uc));
    trace_nvme_ns_object_complete(type, ns->nsid, subsys->nqn);
}

/* Only an object that never became a namespace: see the object_ref above */
static bool nvme_ns_object_can_be_deleted(UserCreatable *uc)
{
    return !NVME_NS_OBJECT(uc)->subsys;
}

static void nvme_ns_object_finalize(Object *obj)
{
    NvmeNamespaceObject *nso = NVME_NS_OBJECT(obj);

    g_strfreev(nso->ns.attach_ids);
    g_free(nso->ns.params.nguid_str);
    g_free(nso->drive);
    g_free(nso->uuid_str);
    g_free(nso->zone_state);
    g_free(nso->resv_state);
}

static void nvme_ns_object_instance_init(Object *obj)
{
    NvmeNamespaceObject *nso = NVME_NS_OBJECT(obj);

    nso->blkconf.rerror = BLOCKDEV_ON_ERROR_AUTO;
    nso->blkconf.werror = BLOCKDEV_ON_ERROR_AUTO;
    nso->blkconf.wce = ON_OFF_AUTO_AUTO;
    nvme_ns_params_copy_defaults(&nso->ns.params);
}

#define NVME_NS_OBJ_FIELD(f)    offsetof(NvmeNamespaceObject, f)

static const NvmeObjProp nvme_ns_object_props[] = {
    { "drive", "str", NVME_NS_OBJ_FIELD(drive),
      "Block node name or -drive ID holding the data" },
    { "nsid", "uint32", NVME_NS_OBJ_FIELD(ns.params.nsid),
      "Namespace ID (default: the lowest free one)" },
    { "uuid", "str", NVME_NS_OBJ_FIELD(uuid_str),
      "Namespace UUID (default: derived from the NQN and NSID)" },
    { "nguid", "str", NVME_NS_OBJ_FIELD(ns.params.nguid_str),
      "Namespace Globally Unique Identifier, 32 hexadecimal digits" },
    { "eui64", "uint64", NVME_NS_OBJ_FIELD(ns.params.eui64),
      "IEEE Extended Unique Identifier" },
    { "eui64-default", "bool", NVME_NS_OBJ_FIELD(ns.params.eui64_default),
      "Without eui64: derive a stable one from the NQN and NSID" },
    /* Copy limits, checked by nvme_ns_setup as for nvme-ns */
    { "mcl", "uint32", NVME_NS_OBJ_FIELD(ns.params.mcl),
      "Maximum Copy Length in blocks (default 128)" },
    { "mssrl", "uint16", NVME_NS_OBJ_FIELD(ns.params.mssrl),
      "Maximum Single Source Range Length in blocks (default 128)" },
    { "msrc", "uint8", NVME_NS_OBJ_FIELD(ns.params.msrc),
      "Maximum Source Range Count, 0's based (default 127)" },
    { "anagrpid", "uint32", NVME_NS_OBJ_FIELD(ns.params.anagrpid),
      "ANA group ID, 1-16 (default 1)" },
    { "logical-block-size", "uint32",
      NVME_NS_OBJ_FIELD(blkconf.logical_block_size),
      "Logical block size in bytes (default: the drive's)" },
    { "resv-state", "str", NVME_NS_OBJ_FIELD(resv_state),
      "Block node name or -drive ID where reservations persist" },
    { "physical-block-size", "uint32",
      NVME_NS_OBJ_FIELD(blkconf.physical_block_size),
      "Physical block size in bytes" },
    /* Checked by nvme_ns_setup, as for nvme-ns */
    { "ms", "uint16", NVME_NS_OBJ_FIELD(ns.params.ms),
      "Metadata bytes per logical block: 0, 8, 16 or 64" },
    { "mset", "uint8", NVME_NS_OBJ_FIELD(ns.params.mset),
      "1: metadata extends each block; 0: in a separate buffer" },
    { "pi", "uint8", NVME_NS_OBJ_FIELD(ns.params.pi),
      "Protection information type, 0 (none) to 3" },
    { "pil", "uint8", NVME_NS_OBJ_FIELD(ns.params.pil),
      "1: protection information in the first metadata bytes" },
    { "pif", "uint8", NVME_NS_OBJ_FIELD(ns.params.pif),
      "Protection information format: 0 16-bit guard, 2 64-bit guard" },
    { }
};

/* x-nvme-ns-zoned: the zoned.* properties of nvme-ns, QAPI-style names */
static const NvmeObjProp nvme_ns_zoned_object_props[] = {
    { "zone-size", "size", NVME_NS_OBJ_FIELD(ns.params.zoned.zone_size),
      "Zone size in bytes, a power of two (default 128 MiB)" },
    { "zone-capacity", "size", NVME_NS_OBJ_FIELD(ns.params.zoned.zone_cap),
      "Writable bytes of each zone (default: the zone size)" },
    { "max-active", "uint32", NVME_NS_OBJ_FIELD(ns.params.zoned.max_active),
      "Maximum active zones (default 0: no limit)" },
    { "max-open", "uint32", NVME_NS_OBJ_FIELD(ns.params.zoned.max_open),
      "Maximum open zones (default 0: no limit)" },
    { "descr-ext-size", "uint32",
      NVME_NS_OBJ_FIELD(ns.params.zoned.descr_ext_size),
      "Zone descriptor extension size in bytes, a multiple of 64" },
    { "cross-read", "bool", NVME_NS_OBJ_FIELD(ns.params.zoned.cross_read),
      "Reads may cross zone boundaries" },
    { "numzrwa", "uint32", NVME_NS_OBJ_FIELD(ns.params.zoned.numzrwa),
      "Zone Random Write Areas (default 0: none)" },
    { "zrwas", "size", NVME_NS_OBJ_FIELD(ns.params.zoned.zrwas),
      "Bytes of each Zone Random Write Area" },
    { "zrwafg", "size", NVME_NS_OBJ_FIELD(ns.params.zoned.zrwafg),
      "ZRWA flush granularity in bytes (default: the largest LBA size)" },
    { "zone-state", "str", NVME_NS_OBJ_FIELD(zone_state),
      "Block node name or -drive ID where zone state persists" },
    { }
};

static void nvme_ns_zoned_object_instance_init(Object *obj)
{
    NvmeZonedParams *p = &NVME_NS_OBJECT(obj)->ns.params.zoned;

    p->zoned = true;
    p->zone_size = 128 * MiB;
    p->zrwafg = NVME_ZRWAFG_DEFAULT;
}

static void nvme_ns_zoned_object_class_init(ObjectClass *oc, void *data)
{
    nvme_obj_add_props(oc, nvme_ns_zoned_object_props);
}

static void nvme_ns_object_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);

    ucc->complete = nvme_ns_object_complete;
    ucc->can_be_deleted = nvme_ns_object_can_be_deleted;
    nvme_obj_add_props(oc, nvme_ns_object_props);
    object_class_property_add_link(oc, "subsys", TYPE_NVME_SUBSYS_IF,
                                   NVME_NS_OBJ_FIELD(subsys_link),
                                   nvme_ns_object_check_subsys,
                                   OBJ_PROP_LINK_STRONG);
    object_class_property_set_description(oc, "subsys",
        "The x-nvme-subsystem (or nvme-subsys) it belongs to");
    object_class_property_add(oc, "attached-to", "strList",
                              nvme_ns_object_get_attached_to,
                              nvme_ns_object_set_attached_to, NULL, NULL);
    object_class_property_set_description(oc, "attached-to",
        "Controller IDs to attach to, or 'all' (default)");
}

static InterfaceInfo nvme_subsys_object_ifaces[] = {
    { TYPE_USER_CREATABLE }, { TYPE_NVME_SUBSYS_IF }, { }
};

static InterfaceInfo nvme_ns_object_ifaces[] = {
    { TYPE_USER_CREATABLE }, { }
};

static const TypeInfo nvme_topology_types[] = {
    {
        .name = TYPE_NVME_SUBSYS_OBJECT,
        .parent = TYPE_OBJECT,
        .interfaces = nvme_subsys_object_ifaces,
        .class_init = nvme_subsys_object_class_init,
        .instance_size = sizeof(NvmeSubsystemObject),
        .instance_finalize = nvme_subsys_object_finalize,
    }, {
        .name = TYPE_NVME_NS_OBJECT,
        .parent = TYPE_OBJECT,
        .abstract = true,
        .interfaces = nvme_ns_object_ifaces,
        .class_init = nvme_ns_object_class_init,
        .instance_size = sizeof(NvmeNamespaceObject),
        .instance_init = nvme_ns_object_instance_init,
        .instance_finalize = nvme_ns_object_finalize,
    }, {
        /* NVM command set namespace */
        .name = TYPE_NVME_NS_NVM_OBJECT,
        .parent = TYPE_NVME_NS_OBJECT,
    }, {
        /* Zoned Namespace command set: NVM plus zones */
        .name = TYPE_NVME_NS_ZONED_OBJECT,
        .parent = TYPE_NVME_NS_NVM_OBJECT,
        .instance_init = nvme_ns_zoned_object_instance_init,
        .class_init = nvme_ns_zoned_object_class_init,
    },
};

DEFINE_TYPES(nvme_topology_types)
