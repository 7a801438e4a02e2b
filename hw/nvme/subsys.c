/*
 * NVMe device model: the NVM subsystem, and the nvme-subsys device.
 *
 * Gives its controllers a common NQN and unique controller identifiers.
 * It never owns a controller: controllers register at realize and leave
 * at unrealize, so hot-unplugging one leaves the subsystem intact. The
 * x-nvme-subsystem object (topology.c) holds the same state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/hotplug.h"
#include "nvme.h"
#include "trace.h"

/*
 * Shared namespaces serve every controller of the subsystem from one
 * AioContext, so the controllers must agree on their iothread.
 */
AioContext *nvme_subsys_context(NvmeSubsystem *subsys)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (subsys->ctrls[i]) {
            return subsys->ctrls[i]->ctx;
        }
    }
    return qemu_get_aio_context();
}

static bool nvme_subsys_set_context(NvmeSubsystem *subsys, NvmeCtrl *n,
                                    Error **errp)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (subsys->ctrls[i] && subsys->ctrls[i]->ctx != n->ctx) {
            error_setg(errp, "nvme: the controllers of subsystem %s must "
                       "use the same iothread", subsys->nqn);
            return false;
        }
    }
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = subsys->namespaces[nsid];

        if (ns && !nvme_ns_set_context(ns, n->ctx, errp)) {
            return false;
        }
    }
    return true;
}

/*
 * Controllers sit in slots of subsys->ctrls; ns->attached has a bit per
 * slot. A slot is not a Controller ID: the cntlid property may give any
 * ID in 1..FFEFh. Automatic IDs are the lowest unused ones, which is each
 * controller's slot as long as no controller sets its ID.
 */
int nvme_subsys_slot(NvmeSubsystem *subsys, NvmeCtrl *n)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (qatomic_read(&subsys->ctrls[i]) == n) {
            return i;
        }
    }
    return -1;
}

/* The slot of the controller with Controller ID cntlid, or -1 */
int nvme_subsys_find_cntlid(NvmeSubsystem *subsys, uint16_t cntlid)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        NvmeCtrl *c = qatomic_read(&subsys->ctrls[i]);

        if (c && c->cntlid == cntlid) {
            return i;
        }
    }
    return -1;
}

/*
 * The controller in slot i of n's subsystem; a controller outside any
 * subsystem is alone, in slot 0.
 */
NvmeCtrl *nvme_subsys_slot_ctrl(NvmeCtrl *n, int i)
{
    if (n->subsys) {
        /* nvme_exit() takes a controller out of here, then waits */
        return qatomic_read(&n->subsys->ctrls[i]);
    }
    return i == 0 ? n : NULL;
}

/*
 * An x-nvme-ns-* namespace is attached to the controllers its attached-to
 * property names by ID, whenever they come.
 */
static void nvme_subsys_attach_by_id(NvmeNamespace *ns, NvmeCtrl *n,
                                     int slot)
{
    const char *id = DEVICE(n)->id;

    if (g_strv_contains((const char * const *)ns->attach_ids, "all") ||
        (id && g_strv_contains((const char * const *)ns->attach_ids, id))) {
        ns->attached |= BIT(slot);
    } else {
        ns->attached &= ~BIT(slot);
    }
}

/* n->cntlid: the cntlid property, unique in the subsystem, or automatic */
static bool nvme_subsys_pick_cntlid(NvmeSubsystem *subsys, NvmeCtrl *n,
                                    Error **errp)
{
    uint16_t id = n->params.cntlid;
    int other = id ? nvme_subsys_find_cntlid(subsys, id) : -1;

    if (other >= 0) {
        const char *name = DEVICE(subsys->ctrls[other])->id;

        error_setg(errp, "nvme: cntlid %u is already used by controller "
                   "%s of subsystem %s", id, name ? name : "(no id)",
                   subsys->nqn);
        return false;
    }
    /* At most NVME_MAX_CONTROLLERS IDs are taken: this ends soon. */
    while (!n->params.cntlid && nvme_subsys_find_cntlid(subsys, id) >= 0) {
        id++;
    }
    n->cntlid = id;
    return true;
}

bool nvme_subsys_register_ctrl(NvmeSubsystem *subsys, NvmeCtrl *n,
                               Error **errp)
{
    if (!nvme_subsys_set_context(subsys, n, errp) ||
        !nvme_subsys_pick_cntlid(subsys, n, errp)) {
        return false;
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (!subsys->ctrls[i]) {
            subsys->ctrls[i] = n;
            trace_nvme_subsys_register_ctrl(subsys->nqn, n->cntlid);
            /* Shared namespaces declared earlier are attached here too. */
            for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
                NvmeNamespace *ns = subsys->namespaces[nsid];

                if (ns && ns->attach_ids) {
                    nvme_subsys_attach_by_id(ns, n, i);
                }
                if (ns && (ns->attached & BIT(i))) {
                    nvme_ns_attach(n, ns);
                }
            }
            return true;
        }
    }
    error_setg(errp, "nvme-subsys: no more than %d controllers",
               NVME_MAX_CONTROLLERS);
    return false;
}

/*
 * Registers ns in the subsystem (NSIDs are unique across it) and attaches
 * it: a shared nvme-ns namespace to every controller, present or to come,
 * a private one to its own controller owner, none when it is created
 * detached; a namespace of the pool to those ns->attached names; an
 * x-nvme-ns-* one to the controllers its attached-to property names.
 */
bool nvme_subsys_add_ns(NvmeSubsystem *subsys, NvmeNamespace *ns,
                        NvmeCtrl *owner, Error **errp)
{
    /* Every namespace of a subsystem is in an ANA group. */
    ns->anagrpid = ns->params.anagrpid ? ns->params.anagrpid : 1;
    if (!nvme_ns_register(subsys->namespaces, ns, subsys->nqn, errp)) {
        return false;
    }
    ns->owner = ns->params.shared ? NULL : owner;
    nvme_pool_restore_wp(subsys, ns);
    if (ns->managed) {
        /* ns->attached came from the pool */
    } else if (ns->attach_ids) {
        ns->attached = 0;
        for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
            if (subsys->ctrls[i]) {
                nvme_subsys_attach_by_id(ns, subsys->ctrls[i], i);
            }
        }
    } else if (ns->params.detached) {
        ns->attached = 0;
    } else {
        int slot = ns->owner ? nvme_subsys_slot(subsys, ns->owner) : -1;

        ns->attached = slot >= 0 ? BIT(slot) : ns->owner ? 0 : UINT32_MAX;
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        NvmeCtrl *n = subsys->ctrls[i];

        if (n && (ns->attached & BIT(i))) {
            nvme_ns_attach(n, ns);
        }
    }
    return true;
}

void nvme_subsys_remove_ns(NvmeSubsystem *subsys, NvmeNamespace *ns)
{
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (subsys->ctrls[i]) {
            nvme_ns_detach(subsys->ctrls[i], ns);
        }
    }
    if (subsys->namespaces[ns->nsid] == ns) {
        subsys->namespaces[ns->nsid] = NULL;
    }
}

/* QMP nvme-power-cycle: the namespaces' power state, then every controller */
void nvme_subsys_power_cycle(NvmeSubsystem *subsys)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (subsys->namespaces[nsid]) {
            nvme_wp_power_cycle(subsys->namespaces[nsid], subsys, NULL);
        }
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        if (subsys->ctrls[i]) {
            nvme_ctrl_nssr(subsys->ctrls[i]);
        }
    }
}

void nvme_subsys_unregister_ctrl(NvmeSubsystem *subsys, NvmeCtrl *n)
{
    int slot = nvme_subsys_slot(subsys, n);

    if (slot >= 0) {
        /* Read without the BQL by the I/O queues of other controllers */
        qatomic_set(&subsys->ctrls[slot], NULL);
    }
}

NvmeSubsystem *nvme_subsys_of(Object *obj)
{
    if (object_dynamic_cast(obj, TYPE_NVME_SUBSYS)) {
        return &NVME_SUBSYS(obj)->subsys;
    }
    return &NVME_SUBSYS_OBJECT(obj)->subsys;
}

bool nvme_subsys_setup(NvmeSubsystem *subsys, const char *id, Error **errp)
{
    if (!subsys->nqn) {
        subsys->nqn = g_strdup_printf("nqn.2019-08.org.qemu:%s",
                                      id ? id : "subsys");
    }
    if (strlen(subsys->nqn) >= sizeof(((NvmeIdCtrl *)0)->subnqn)) {
        error_setg(errp, "nvme subsystem: nqn must be shorter than %zu "
                   "bytes", sizeof(((NvmeIdCtrl *)0)->subnqn));
        return false;
    }
    return nvme_pool_load(subsys, errp);
}

static void nvme_subsys_realize(DeviceState *dev, Error **errp)
{
    NvmeSubsystemDevice *sdev = NVME_SUBSYS(dev);

    if (!nvme_subsys_setup(&sdev->subsys, dev->id, errp)) {
        return;
    }
    /* Shared namespaces live on this bus, independent of controllers. */
    qbus_init(&sdev->bus, sizeof(NvmeBus), TYPE_NVME_BUS, dev, dev->id);
    qbus_set_hotplug_handler(BUS(&sdev->bus), OBJECT(dev));
    sdev->subsys.bus = BUS(&sdev->bus);
}

static const Property nvme_subsys_props[] = {
    DEFINE_PROP_STRING("nqn", NvmeSubsystemDevice, subsys.nqn),
    DEFINE_PROP_STRING("ns-pool", NvmeSubsystemDevice, subsys.pool_dir),
    DEFINE_PROP_SIZE("tnvmcap", NvmeSubsystemDevice, subsys.tnvmcap, 0),
};

static void nvme_subsys_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    device_class_set_props(dc, nvme_subsys_props);
    dc->realize = nvme_subsys_realize;
    /* Controllers keep pointers to it: it must outlive them. */
    dc->hotpluggable = false;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "Virtual NVMe subsystem";
    HOTPLUG_HANDLER_CLASS(oc)->unplug = qdev_simple_device_unplug_cb;
}

static const TypeInfo nvme_subsys_types[] = {
    {
        .name = TYPE_NVME_SUBSYS_IF,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(InterfaceClass),
    }, {
        .name = TYPE_NVME_SUBSYS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeSubsystemDevice),
        .class_init = nvme_subsys_class_init,
        .interfaces = (InterfaceInfo[]) {
            { TYPE_HOTPLUG_HANDLER },
            { TYPE_NVME_SUBSYS_IF },
            { }
        },
    },
};

DEFINE_TYPES(nvme_subsys_types)
