/*
 * NVMe device model: Namespace Write Protection (Base 8.1.16 and the
 * Namespace Write Protection Config feature, FID 84h).
 *
 * A namespace is writable, write protected, write protected until the next
 * power cycle, or permanently write protected. The first two can be set
 * back and forth; "until power cycle" only ends with the power: QEMU
 * exiting; "permanent" never ends. Permanent protection is recorded in the
 * subsystem's ns-pool directory, so controllers without one do not offer
 * it. While protected, commands that would change the namespace's contents
 * fail with Namespace is Write Protected, and Identify Namespace NSATTR
 * bit 0 is set; every controller the namespace is attached to gets a
 * Namespace Attribute Changed event when the state changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "nvme.h"
#include "trace.h"

static bool nvme_wp_permanent_supported(NvmeCtrl *n)
{
    return nvme_nsmgmt_has_pool(n);
}

/* Identify Controller NWPC */
uint8_t nvme_wp_nwpc(NvmeCtrl *n)
{
    /* bit 0: no/write protect, bit 1: until power cycle, bit 2: permanent */
    return 0x3 | (nvme_wp_permanent_supported(n) ? 0x4 : 0);
}

/* Whether an I/O command would change the namespace's contents. */
static bool nvme_wp_command_writes(NvmeRequest *req)
{
    switch (req->cmd.opcode) {
    case NVME_CMD_WRITE:
    case NVME_CMD_WRITE_ZEROES:
    case NVME_CMD_WRITE_UNCOR:
    case NVME_CMD_COPY:
    case NVME_CMD_ZONE_APPEND:
    case NVME_CMD_ZONE_MGMT_SEND:   /* changes zones, resets zero them */
        return true;
    case NVME_CMD_DSM:
        return le32_to_cpu(req->cmd.cdw11) & NVME_DSMGMT_AD;
    default:
        return false;
    }
}

uint16_t nvme_wp_check_io(NvmeRequest *req)
{
    if (!nvme_wp_command_writes(req)) {
        return NVME_SC_SUCCESS;
    }
    return nvme_cmd_error(req, NVME_SC_NS_WRITE_PROTECTED,
                          "namespace is write protected");
}

void nvme_wp_apply(NvmeNamespace *ns, uint8_t state)
{
    ns->wp_state = state;
    if (state == NVME_WP_NONE) {
        ns->id_ns.nsattr &= ~NVME_NSATTR_WRITE_PROTECTED;
    } else {
        ns->id_ns.nsattr |= NVME_NSATTR_WRITE_PROTECTED;
    }
}

/* NSATTR changed: every controller that sees the namespace is told. */
static void nvme_wp_tell(NvmeNamespace *ns, NvmeSubsystem *subsys,
                         NvmeCtrl *n)
{
    if (!subsys) {
        nvme_ctrl_ns_changed(n, ns->nsid);
        return;
    }
    for (int i = 0; i < NVME_MAX_CONTROLLERS; i++) {
        NvmeCtrl *c = subsys->ctrls[i];

        if (c && c->namespaces[ns->nsid] == ns) {
            nvme_ctrl_ns_changed(c, ns->nsid);
        }
    }
}

uint16_t nvme_wp_feature_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0)
{
    uint16_t status = NVME_SC_SUCCESS;
    NvmeNamespace *ns = nvme_feature_ns(n, req, &status);

    if (ns) {
        *dw0 = ns->wp_state;
    }
    return status;
}

uint16_t nvme_wp_feature_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11)
{
    uint16_t status = NVME_SC_SUCCESS;
    NvmeNamespace *ns = nvme_feature_ns(n, req, &status);
    uint8_t state = dw11 & 0x7;

    if (!ns) {
        return status;
    }
    if (dw11 & ~0x7u || state > NVME_WP_PERMANENT) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "reserved write protection state");
    }
    if (state == ns->wp_state) {
        return NVME_SC_SUCCESS;
    }
    if (ns->wp_state == NVME_WP_PERMANENT ||
        ns->wp_state == NVME_WP_UNTIL_POWER_CYCLE) {
        return nvme_cmd_error(req, NVME_SC_FEATURE_NOT_CHANGEABLE,
                              "write protection can no longer change");
    }
    if (state == NVME_WP_PERMANENT && !nvme_wp_permanent_supported(n)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "permanent write protection needs the "
                              "subsystem's ns-pool to record it");
    }
    trace_nvme_wp_set(n->cntlid, ns->nsid, ns->wp_state, state);
    nvme_wp_apply(ns, state);
    if (state == NVME_WP_PERMANENT) {
        nvme_pool_record_wp(n->subsys, ns);
    }
    nvme_wp_tell(ns, n->subsys, n);
    return NVME_SC_SUCCESS;
}

void nvme_wp_power_cycle(NvmeNamespace *ns, NvmeSubsystem *subsys,
                         NvmeCtrl *n)
{
    if (ns->wp_state == NVME_WP_UNTIL_POWER_CYCLE) {
        nvme_wp_apply(ns, NVME_WP_NONE);
        nvme_wp_tell(ns, subsys, n);
    }
}
