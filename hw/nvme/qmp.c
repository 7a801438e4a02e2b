/*
 * NVMe device model: QMP commands (qapi/nvme.json).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"
#include "qom/object.h"
#include "nvme.h"

/* A device or -object by ID, or anything by QOM path. */
static Object *nvme_qmp_find(const char *id, const char *type, Error **errp)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    Object *obj = object_resolve_path_type(path, type, NULL);

    if (!obj) {
        obj = object_resolve_path_component(object_get_objects_root(), id);
        obj = obj ? object_dynamic_cast(obj, type) : NULL;
    }
    if (!obj) {
        obj = object_resolve_path_type(id, type, NULL);
    }
    if (!obj) {
        error_setg(errp, "no %s device '%s'", type, id);
    }
    return obj;
}

void qmp_nvme_ana_set_state(const char *id, uint32_t group,
                            NvmeAnaState state, Error **errp)
{
    Object *obj = nvme_qmp_find(id, TYPE_NVME, errp);

    if (obj) {
        nvme_ana_set_state(NVME(obj), group, state, errp);
    }
}

void qmp_nvme_power_cycle(const char *id, Error **errp)
{
    Object *obj = nvme_qmp_find(id, TYPE_OBJECT, errp);

    if (!obj) {
        return;
    }
    if (object_dynamic_cast(obj, TYPE_NVME_SUBSYS_IF)) {
        nvme_subsys_power_cycle(nvme_subsys_of(obj));
    } else if (object_dynamic_cast(obj, TYPE_NVME) && !NVME(obj)->subsys) {
        nvme_ctrl_power_cycle(NVME(obj));
    } else {
        error_setg(errp, "'%s' is neither an NVMe subsystem nor an nvme "
                   "controller outside a subsystem", id);
    }
}

static int nvme_qmp_zone_event(Object *obj, void *opaque)
{
    NvmeNamespace *ns = opaque;

    if (object_dynamic_cast(obj, TYPE_NVME) &&
        NVME(obj)->namespaces[ns->nsid] == ns) {
        nvme_enqueue_event(NVME(obj), NVME_AER_TYPE_NOTICE,
                           NVME_AER_NOTICE_ZONE_DESCR_CHANGED,
                           NVME_LOG_CHANGED_ZONE_LIST);
    }
    return 0;
}

void qmp_nvme_zone_inject(const char *id, uint64_t slba, NvmeZoneFault fault,
                          Error **errp)
{
    Object *obj = nvme_qmp_find(id, TYPE_OBJECT, errp);
    NvmeNamespace *ns;

    if (!obj) {
        return;
    }
    if (object_dynamic_cast(obj, TYPE_NVME_NS)) {
        ns = &NVME_NS(obj)->ns;
    } else if (object_dynamic_cast(obj, TYPE_NVME_NS_OBJECT)) {
        ns = &NVME_NS_OBJECT(obj)->ns;
    } else {
        error_setg(errp, "'%s' is not an NVMe namespace", id);
        return;
    }
    if (!ns->nsid) {
        error_setg(errp, "'%s' is not an active namespace", id);
        return;
    }
    if (!nvme_zns_inject(ns, slba, fault == NVME_ZONE_FAULT_OFFLINE, errp)) {
        return;
    }
    object_child_foreach_recursive(object_get_root(), nvme_qmp_zone_event,
                                   ns);
}
