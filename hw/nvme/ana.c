/*
 * NVMe device model: Asymmetric Namespace Access (Base 8.1.1).
 *
 * Controllers of an NVM subsystem report ANA: every namespace belongs to an
 * ANA group (nvme-ns anagrpid=, or ANAGRPID of Namespace Management), and
 * each controller has its own state for each group, optimized until the
 * nvme-ana-set-state QMP command changes it. A change is counted, shown in
 * the controller's ANA log page and announced with an Asymmetric Namespace
 * Access Change event; commands to the group's namespaces then fail with
 * the path status the state calls for, so a multipath host moves to
 * another controller.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"
#include "trace.h"

#define NVME_ANA_LOG_RGO            (1u << 0)   /* LSP: groups only */

typedef struct QEMU_PACKED NvmeAnaLogHeader {
    uint64_t chgcnt;
    uint16_t ngrps;
    uint8_t rsvd10[6];
} NvmeAnaLogHeader;

typedef struct QEMU_PACKED NvmeAnaGroupDescriptor {
    uint32_t grpid;
    uint32_t nnsids;
    uint64_t chgcnt;
    uint8_t state;
    uint8_t rsvd17[15];
} NvmeAnaGroupDescriptor;

/*
 * Every controller of a subsystem reports ANA, administrative ones too
 * (with no groups): hosts take CMIC from the first controller they find and
 * expect the same of all, Linux among them.
 */
bool nvme_ana_reported(NvmeCtrl *n)
{
    return n->subsys;
}

void nvme_ana_init(NvmeCtrl *n)
{
    NvmeIdCtrl *id = &n->id_ctrl;

    for (int g = 0; g <= NVME_ANA_GROUPS; g++) {
        n->ana_state[g] = NVME_ANA_OPTIMIZED;
    }
    if (!nvme_ana_reported(n)) {
        return;
    }
    id->cmic |= 1 << 3;
    id->oaes |= cpu_to_le32(NVME_OAES_ANA_CHANGE);
    id->anatt = 10;                 /* seconds a transition may last */
    /* all five states; ANAGRPID fixed while attached; settable by hosts */
    id->anacap = 0x1f | (1 << 6) | (1 << 7);
    id->anagrpmax = cpu_to_le32(NVME_ANA_GROUPS);
    id->nanagrpid = cpu_to_le32(NVME_ANA_GROUPS);
}

/* The path status for commands to ns on n, or 0 when they may proceed. */
uint16_t nvme_ana_check_io(NvmeCtrl *n, NvmeNamespace *ns)
{
    switch (n->ana_state[ns->anagrpid]) {
    case NVME_ANA_INACCESSIBLE:
        return NVME_SC_ANA_INACCESSIBLE;
    case NVME_ANA_PERSISTENT_LOSS:
        return NVME_SC_ANA_PERSISTENT_LOSS;
    case NVME_ANA_CHANGE:
        return NVME_SC_ANA_TRANSITION;
    default:
        return NVME_SC_SUCCESS;
    }
}

/* The ANA log page (LID 0Ch): a descriptor per group with namespaces. */
uint16_t nvme_ana_log(NvmeCtrl *n, NvmeRequest *req, uint8_t lsp,
                      uint64_t offset, uint64_t len)
{
    size_t max = sizeof(NvmeAnaLogHeader) +
                 NVME_ANA_GROUPS * sizeof(NvmeAnaGroupDescriptor) +
                 NVME_MAX_NAMESPACES * sizeof(uint32_t);
    g_autofree uint8_t *log = g_malloc0(max);
    NvmeAnaLogHeader *hdr = (NvmeAnaLogHeader *)log;
    size_t pos = sizeof(*hdr);
    uint16_t ngrps = 0;

    for (uint32_t g = 1; g <= NVME_ANA_GROUPS; g++) {
        NvmeAnaGroupDescriptor *d = (NvmeAnaGroupDescriptor *)(log + pos);
        uint32_t *nsids = (uint32_t *)(d + 1);
        uint32_t count = 0;

        for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
            NvmeNamespace *ns = n->namespaces[nsid];

            if (ns && ns->anagrpid == g) {
                if (!(lsp & NVME_ANA_LOG_RGO)) {
                    nsids[count] = cpu_to_le32(nsid);
                }
                count++;
            }
        }
        if (!count) {
            continue;
        }
        d->grpid = cpu_to_le32(g);
        d->chgcnt = cpu_to_le64(n->ana_group_chgcnt[g]);
        d->state = n->ana_state[g];
        if (lsp & NVME_ANA_LOG_RGO) {
            count = 0;
        }
        d->nnsids = cpu_to_le32(count);
        pos += sizeof(*d) + count * sizeof(uint32_t);
        ngrps++;
    }
    hdr->chgcnt = cpu_to_le64(n->ana_chgcnt);
    hdr->ngrps = cpu_to_le16(ngrps);
    if (offset >= pos) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "ANA log offset beyond its end");
    }
    return nvme_dma_to_host(n, req, log + offset, MIN(len, pos - offset));
}

/* The log page's code for a QAPI NvmeAnaState */
static uint8_t nvme_ana_code(NvmeAnaState state)
{
    switch (state) {
    case NVME_ANA_STATE_NON_OPTIMIZED:
        return NVME_ANA_NON_OPTIMIZED;
    case NVME_ANA_STATE_INACCESSIBLE:
        return NVME_ANA_INACCESSIBLE;
    case NVME_ANA_STATE_PERSISTENT_LOSS:
        return NVME_ANA_PERSISTENT_LOSS;
    case NVME_ANA_STATE_CHANGE:
        return NVME_ANA_CHANGE;
    default:
        return NVME_ANA_OPTIMIZED;
    }
}

bool nvme_ana_set_state(NvmeCtrl *n, uint32_t group, NvmeAnaState state,
                        Error **errp)
{
    if (!nvme_ana_reported(n) || n->admin_only) {
        error_setg(errp, "nvme: controller %u has no ANA groups (it is not "
                   "in a subsystem, or is an administrative controller)",
                   n->cntlid);
        return false;
    }
    if (group < 1 || group > NVME_ANA_GROUPS) {
        error_setg(errp, "nvme: ANA groups are numbered 1 to %u",
                   NVME_ANA_GROUPS);
        return false;
    }
    trace_nvme_ana_set_state(n->cntlid, group, n->ana_state[group],
                             nvme_ana_code(state));
    n->ana_state[group] = nvme_ana_code(state);
    n->ana_chgcnt++;
    n->ana_group_chgcnt[group] = n->ana_chgcnt;
    nvme_enqueue_event(n, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA_CHANGE,
                       NVME_LOG_ANA);
    return true;
}
