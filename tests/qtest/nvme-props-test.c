/*
 * qtests of the property lists: every property that QEMU 10.0's nvme,
 * nvme-ns and nvme-subsys devices accept is accepted by ours, with the
 * same type and default, so existing command lines mean the same thing;
 * and the x-nvme-* objects carry the namespace settings under their
 * QAPI-style names.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "qobject/qstring.h"

typedef struct UpstreamProp {
    const char *device;
    const char *name;
    const char *type;
    const char *dflt;       /* JSON, or NULL when QEMU reports none */
} UpstreamProp;

/* QEMU 10.0's list, made by scripts/nvme-props.py from its binary */
#include "nvme-props-qemu-10.0.h"

/*
 * Upstream properties whose features have issues of their own; each must
 * still be missing, so that this list shrinks as they land.
 */
static const char *const pending[] = {
    "nvme-ns:fdp.ruhs",
    "nvme-subsys:fdp", "nvme-subsys:fdp.nrg", "nvme-subsys:fdp.nruh",
    "nvme-subsys:fdp.runs",
};

/*
 * Defaults that differ on purpose. ioeventfd: on here, as the guest sees
 * no difference (it only spares vCPUs the doorbell exits once shadow
 * doorbells are on) and the I/O path is cheaper with it.
 */
static const char *const own_default[] = {
    "nvme:ioeventfd",
};

/* Namespace settings of nvme-ns that the -object types carry too */
static const struct {
    const char *object, *name, *device_name;
} object_props[] = {
    { "x-nvme-ns-nvm", "eui64-default", "eui64-default" },
    { "x-nvme-ns-nvm", "mcl", "mcl" },
    { "x-nvme-ns-nvm", "mssrl", "mssrl" },
    { "x-nvme-ns-nvm", "msrc", "msrc" },
    { "x-nvme-ns-zoned", "numzrwa", "zoned.numzrwa" },
    { "x-nvme-ns-zoned", "zrwas", "zoned.zrwas" },
    { "x-nvme-ns-zoned", "zrwafg", "zoned.zrwafg" },
};

static QTestState *qts_of(void *obj)
{
    return ((QNvme *)obj)->dev.bus->qts;
}

static bool listed(const char *const *list, size_t len, const char *device,
                   const char *name)
{
    g_autofree char *key = g_strdup_printf("%s:%s", device, name);

    for (size_t i = 0; i < len; i++) {
        if (g_str_equal(list[i], key)) {
            return true;
        }
    }
    return false;
}

/* name -> its description dict, from device-list-properties or qom-... */
static QDict *list_props(QTestState *qts, const char *cmd, const char *type)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': %s, 'arguments': "
                           "{'typename': %s}}", cmd, type);
    QDict *props = qdict_new();
    QListEntry *e;

    g_assert_true(qdict_haskey(rsp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *p = qobject_to(QDict, qlist_entry_obj(e));

        qdict_put_obj(props, qdict_get_str(p, "name"), qobject_ref(QOBJECT(p)));
    }
    qobject_unref(rsp);
    return props;
}

/* link<nvme-subsys> upstream, link<nvme-subsystem> (an interface) here */
static bool same_type(const char *ours, const char *theirs)
{
    return g_str_equal(ours, theirs) ||
           (g_str_has_prefix(ours, "link<") &&
            g_str_has_prefix(theirs, "link<"));
}

static void test_upstream_names(void *obj, void *data, QGuestAllocator *a)
{
    QTestState *qts = qts_of(obj);
    g_autoptr(GString) missing = g_string_new("");
    g_autoptr(GString) wrong = g_string_new("");

    for (int i = 0; i < ARRAY_SIZE(upstream_props); i++) {
        const UpstreamProp *u = &upstream_props[i];
        QDict *props = list_props(qts, "device-list-properties", u->device);
        QDict *p = qdict_get_qdict(props, u->name);

        if (listed(pending, ARRAY_SIZE(pending), u->device, u->name)) {
            /* Drop it from pending[] when its feature lands */
            g_assert_null(p);
        } else if (!p) {
            g_string_append_printf(missing, " %s:%s", u->device, u->name);
        } else {
            const char *type = qdict_get_str(p, "type");
            QObject *dflt = qdict_get(p, "default-value");
            g_autoptr(GString) json = dflt ? qobject_to_json(dflt) : NULL;

            if (!same_type(type, u->type)) {
                g_string_append_printf(wrong, " %s:%s type %s, not %s",
                                       u->device, u->name, type, u->type);
            }
            if (u->dflt && (!json || strcmp(json->str, u->dflt)) &&
                !listed(own_default, ARRAY_SIZE(own_default), u->device,
                        u->name)) {
                g_string_append_printf(wrong, " %s:%s default %s, not %s",
                                       u->device, u->name,
                                       json ? json->str : "none", u->dflt);
            }
        }
        qobject_unref(props);
    }
    g_assert_cmpstr(missing->str, ==, "");
    g_assert_cmpstr(wrong->str, ==, "");
}

static bool is_upstream(const char *key)
{
    for (int i = 0; i < ARRAY_SIZE(upstream_props); i++) {
        g_autofree char *k = g_strdup_printf("%s:%s", upstream_props[i].device,
                                             upstream_props[i].name);
        if (g_str_equal(k, key)) {
            return true;
        }
    }
    return false;
}

static void test_pending_listed(void *obj, void *data, QGuestAllocator *a)
{
    /* Every exception names an upstream property (no typo hides one) */
    for (int i = 0; i < ARRAY_SIZE(pending); i++) {
        g_assert_true(is_upstream(pending[i]));
    }
    for (int i = 0; i < ARRAY_SIZE(own_default); i++) {
        g_assert_true(is_upstream(own_default[i]));
    }
}

static void test_object_props(void *obj, void *data, QGuestAllocator *a)
{
    QTestState *qts = qts_of(obj);
    QDict *dev = list_props(qts, "device-list-properties", "nvme-ns");

    for (int i = 0; i < ARRAY_SIZE(object_props); i++) {
        QDict *props = list_props(qts, "qom-list-properties",
                                  object_props[i].object);

        g_test_message("%s %s", object_props[i].object, object_props[i].name);
        g_assert_true(qdict_haskey(dev, object_props[i].device_name));
        g_assert_true(qdict_haskey(props, object_props[i].name));
        qobject_unref(props);
    }
    qobject_unref(dev);
}

static void register_props_tests(void)
{
    qos_add_test("upstream-names", "nvme-props", test_upstream_names, NULL);
    qos_add_test("pending-listed", "nvme-props", test_pending_listed, NULL);
    qos_add_test("object-props", "nvme-props", test_object_props, NULL);
}

libqos_init(register_props_tests);
