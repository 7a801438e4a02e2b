/*
 * SR-IOV (sriov_max_vfs): the controller is the primary controller of
 * sriov_max_vfs virtual functions. Each VF is an nvme device of its own
 * (created, disabled, by pcie_sriov_pf_init, with its parameters taken
 * from the primary), a secondary controller of the same subsystem.
 *
 * Queue (VQ) and interrupt (VI) resources (Base 8.26): the primary has
 * private ones, and sriov_vq_flexible / sriov_vi_flexible flexible ones
 * that Virtualization Management hands to the primary itself (Primary
 * Flexible Allocation, in effect from its next Controller Level Reset) or
 * to offline secondary controllers (Secondary Assign). A secondary
 * controller may be enabled only while online with at least one VQ and one
 * VI resource. This state lives in the primary: it survives resets of the
 * secondary and VF Enable cycles.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/range.h"
#include "qapi/error.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pcie_sriov.h"
#include "nvme.h"
#include "trace.h"

/* VFs at the functions right after the primary's */
#define NVME_VF_OFFSET  1
#define NVME_VF_STRIDE  1
/* Secondary controllers: every slot of the subsystem but the primary's */
#define NVME_SRIOV_MAX_VFS  (NVME_MAX_CONTROLLERS - 1)

bool nvme_is_vf(NvmeCtrl *n)
{
    return pci_is_vf(PCI_DEVICE(n));
}

NvmeCtrl *nvme_sriov_pf(NvmeCtrl *n)
{
    return NVME(pcie_sriov_get_pf(PCI_DEVICE(n)));
}

NvmeSecCtrl *nvme_sriov_sec(NvmeCtrl *n)
{
    if (!nvme_is_vf(n)) {
        return NULL;
    }
    return &nvme_sriov_pf(n)->sriov.sec[pcie_sriov_vf_number(PCI_DEVICE(n))];
}

static NvmeCtrl *nvme_sriov_vf(NvmeCtrl *n, int i)
{
    return NVME(PCI_DEVICE(n)->exp.sriov_pf.vf[i]);
}

static bool nvme_sriov_check_resources(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;
    NvmeSriov *s = &n->sriov;

    if (p->sriov_vq_flexible < 2 * p->sriov_max_vfs) {
        error_setg(errp, "nvme: sriov_vq_flexible must be at least %u "
                   "(2 * sriov_max_vfs: an admin and an I/O queue per VF)",
                   2 * p->sriov_max_vfs);
        return false;
    }
    if (p->sriov_vi_flexible < p->sriov_max_vfs) {
        error_setg(errp, "nvme: sriov_vi_flexible must be at least %u "
                   "(sriov_max_vfs: a vector per VF)", p->sriov_max_vfs);
        return false;
    }
    if (p->sriov_vq_flexible + 1 > p->max_ioqpairs) {
        error_setg(errp, "nvme: sriov_vq_flexible must be at most %d "
                   "(max_ioqpairs - 1): the primary keeps an I/O queue pair",
                   (int)p->max_ioqpairs - 1);
        return false;
    }
    if (p->sriov_vi_flexible + 2 > p->msix_qsize) {
        error_setg(errp, "nvme: sriov_vi_flexible must be at most %d "
                   "(msix_qsize - 2): the primary keeps a vector besides "
                   "the admin queue's", (int)p->msix_qsize - 2);
        return false;
    }
    s->vqfrsm = p->sriov_max_vq_per_vf ? p->sriov_max_vq_per_vf
                                       : p->sriov_vq_flexible /
                                         p->sriov_max_vfs;
    s->vifrsm = p->sriov_max_vi_per_vf ? p->sriov_max_vi_per_vf
                                       : p->sriov_vi_flexible /
                                         p->sriov_max_vfs;
    if (p->sriov_max_vq_per_vf > p->sriov_vq_flexible ||
        (p->sriov_max_vq_per_vf && p->sriov_max_vq_per_vf < 2)) {
        error_setg(errp, "nvme: sriov_max_vq_per_vf must be 0 or between 2 "
                   "and sriov_vq_flexible (%u)", p->sriov_vq_flexible);
        return false;
    }
    if (p->sriov_max_vi_per_vf > p->sriov_vi_flexible) {
        error_setg(errp, "nvme: sriov_max_vi_per_vf must be at most "
                   "sriov_vi_flexible (%u)", p->sriov_vi_flexible);
        return false;
    }
    s->vqprt = p->max_ioqpairs + 1 - p->sriov_vq_flexible;
    s->viprt = p->msix_qsize - p->sriov_vi_flexible;
    return true;
}

bool nvme_sriov_check_params(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;

    if (nvme_is_vf(n)) {
        return true;
    }
    if (!p->sriov_max_vfs) {
        if (p->sriov_vq_flexible || p->sriov_vi_flexible ||
            p->sriov_max_vq_per_vf || p->sriov_max_vi_per_vf) {
            error_setg(errp, "nvme: sriov_vq_flexible, sriov_vi_flexible, "
                       "sriov_max_vq_per_vf and sriov_max_vi_per_vf need "
                       "sriov_max_vfs");
            return false;
        }
        return true;
    }
    if (!n->subsys) {
        error_setg(errp, "nvme: sriov_max_vfs needs a subsystem (subsys=): "
                   "the VFs are its secondary controllers");
        return false;
    }
    if (p->sriov_max_vfs > NVME_SRIOV_MAX_VFS) {
        error_setg(errp, "nvme: sriov_max_vfs must be at most %u",
                   NVME_SRIOV_MAX_VFS);
        return false;
    }
    return nvme_sriov_check_resources(n, errp);
}

void nvme_sriov_vf_params(NvmeCtrl *n)
{
    NvmeCtrl *pf = nvme_sriov_pf(n);
    NvmeParams *p = &n->params;

    g_free(p->serial);
    g_free(p->cntrltype);
    g_free(p->hostid);
    *p = pf->params;
    p->serial = g_strdup(pf->params.serial);
    p->cntrltype = g_strdup(pf->params.cntrltype);
    p->hostid = g_strdup(pf->params.hostid);
    /* Sized for the most a secondary controller may be given */
    p->max_ioqpairs = pf->sriov.vqfrsm - 1;
    p->msix_qsize = pf->sriov.vifrsm;
    p->num_queues = 0;
    p->cntlid = 0;
    /* BAR 0 only, no SR-IOV of its own, no DOE */
    p->msix_exclusive_bar = false;
    p->cmb_size_mb = 0;
    p->spdm_port = 0;
    p->smart_critical_warning &= ~NVME_SMART_WARN_PMR_UNRELIABLE;
    p->sriov_max_vfs = 0;
    p->sriov_vq_flexible = 0;
    p->sriov_vi_flexible = 0;
    p->sriov_max_vq_per_vf = 0;
    p->sriov_max_vi_per_vf = 0;
    n->subsys = pf->subsys;
}

bool nvme_sriov_init_pf(NvmeCtrl *n, uint64_t vf_bar_size, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    NvmeParams *p = &n->params;

    if (nvme_is_vf(n)) {
        /* VFs support Function Level Reset (PCIe SR-IOV 1.1, 3.5.3) */
        pcie_cap_flr_init(pci);
        pcie_ari_init(pci, NVME_VF_ARI_CAP_OFFSET);
        return true;
    }
    if (!p->sriov_max_vfs) {
        return true;
    }
    n->sriov.sec = g_new0(NvmeSecCtrl, p->sriov_max_vfs);
    /* The VFs are realized here, from n->params and n->sriov */
    if (!pcie_sriov_pf_init(pci, NVME_SRIOV_CAP_OFFSET, TYPE_NVME,
                            p->use_intel_id ? 0x5845 : NVME_PCI_DEVICE_ID,
                            p->sriov_max_vfs, p->sriov_max_vfs,
                            NVME_VF_OFFSET, NVME_VF_STRIDE, errp)) {
        g_free(n->sriov.sec);
        n->sriov.sec = NULL;
        return false;
    }
    pcie_ari_init(pci, NVME_ARI_CAP_OFFSET);
    pcie_sriov_pf_init_vf_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                              PCI_BASE_ADDRESS_MEM_TYPE_64, vf_bar_size);
    for (int i = 0; i < p->sriov_max_vfs; i++) {
        pcie_sriov_vf_register_bar(PCI_DEVICE(nvme_sriov_vf(n, i)), 0,
                                   &nvme_sriov_vf(n, i)->bar0);
    }
    return true;
}

/* Unrealizes the VFs: each is reset, and quiesced, on its way out */
void nvme_sriov_exit_pf(NvmeCtrl *n)
{
    if (n->sriov.sec) {
        pcie_sriov_pf_exit(PCI_DEVICE(n));
        g_free(n->sriov.sec);
        n->sriov.sec = NULL;
    }
}

bool nvme_sriov_start(NvmeCtrl *n)
{
    NvmeSecCtrl *sec = nvme_sriov_sec(n);
    NvmeSriov *s = &n->sriov;

    if (sec) {
        if (!sec->online || !sec->nvq || !sec->nvi) {
            trace_nvme_sriov_start_refused(n->cntlid, sec->online, sec->nvq,
                                           sec->nvi);
            return false;
        }
        n->num_queues = MIN(sec->nvq, n->max_queues);
        n->nr_vectors = MIN(sec->nvi, n->params.msix_qsize);
    } else if (s->sec) {
        n->num_queues = s->vqprt + s->vqrfap;
        n->nr_vectors = s->viprt + s->virfap;
    }
    return true;
}

void nvme_sriov_reset(NvmeCtrl *n)
{
    n->sriov.vqrfap = n->sriov.next_vqrfap;
    n->sriov.virfap = n->sriov.next_virfap;
}

/*
 * Clearing VF Enable takes the VFs away, and their bus mastering first:
 * their commands under way complete before (nvme_ctrl_reset quiesces).
 * Setting it with NumVFs above TotalVFs does nothing: pcie_sriov.c would
 * enable VFs past its array (it looks at the value written, not at what
 * the register keeps). Returns val, less such a VF Enable.
 */
uint32_t nvme_sriov_pf_config_write(NvmeCtrl *n, uint32_t addr,
                                    uint32_t val, int len)
{
    PCIDevice *pci = PCI_DEVICE(n);
    uint8_t *cfg = pci->config + pci->exp.sriov_cap;
    uint32_t ctrl = pci->exp.sriov_cap + PCI_SRIOV_CTRL;
    uint16_t nr = pcie_sriov_num_vfs(pci);
    uint16_t num = pci_get_word(cfg + PCI_SRIOV_NUM_VF);
    uint16_t total = pci_get_word(cfg + PCI_SRIOV_TOTAL_VF);
    uint32_t vfe;

    if (!n->sriov.sec || !range_covers_byte(addr, len, ctrl)) {
        return val;
    }
    vfe = PCI_SRIOV_CTRL_VFE << ((ctrl - addr) * 8);
    if (val & vfe) {
        if (num > total) {
            qemu_log_mask(LOG_GUEST_ERROR, "nvme: VF Enable with NumVFs %u "
                          "above TotalVFs %u\n", num, total);
            trace_nvme_sriov_numvfs_invalid(num, total);
            return val & ~vfe;
        }
        return val;
    }
    for (uint16_t i = 0; i < nr; i++) {
        nvme_ctrl_reset(nvme_sriov_vf(n, i));
    }
    return val;
}

bool nvme_sriov_vm_supported(NvmeCtrl *n)
{
    return n->sriov.sec != NULL;
}

/* VQRFA or VIRFA: flexible resources assigned to secondary controllers */
static uint32_t nvme_sriov_assigned(NvmeCtrl *n, bool vi)
{
    uint32_t sum = 0;

    for (int i = 0; i < n->params.sriov_max_vfs; i++) {
        sum += vi ? n->sriov.sec[i].nvi : n->sriov.sec[i].nvq;
    }
    return sum;
}

/* The VF number of secondary controller cntlid of n, or -1 */
static int nvme_sriov_find(NvmeCtrl *n, uint16_t cntlid)
{
    for (int i = 0; i < n->params.sriov_max_vfs; i++) {
        if (nvme_sriov_vf(n, i)->cntlid == cntlid) {
            return i;
        }
    }
    return -1;
}

static uint16_t nvme_virt_pri_alloc(NvmeCtrl *n, NvmeRequest *req, bool vi,
                                    uint16_t nr)
{
    uint32_t flex = vi ? n->params.sriov_vi_flexible
                       : n->params.sriov_vq_flexible;

    if (nr > flex - nvme_sriov_assigned(n, vi)) {
        return nvme_cmd_error(req, NVME_SC_INVALID_RESOURCE_COUNT,
                              "more flexible resources than unassigned");
    }
    *(vi ? &n->sriov.next_virfap : &n->sriov.next_vqrfap) = nr;
    req->cqe.result = cpu_to_le32(nr);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_virt_sec_assign(NvmeCtrl *n, NvmeRequest *req,
                                     NvmeSecCtrl *sec, bool vi, uint16_t nr)
{
    NvmeSriov *s = &n->sriov;
    uint32_t flex = vi ? n->params.sriov_vi_flexible
                       : n->params.sriov_vq_flexible;
    uint16_t *cur = vi ? &sec->nvi : &sec->nvq;
    /* The primary keeps what it uses until its reset */
    uint32_t primary = vi ? MAX(s->virfap, s->next_virfap)
                          : MAX(s->vqrfap, s->next_vqrfap);
    uint32_t others = nvme_sriov_assigned(n, vi) - *cur;

    if (sec->online) {
        return nvme_cmd_error(req, NVME_SC_INVALID_SECONDARY_STATE,
                              "Secondary Assign to an online controller");
    }
    if (nr > (vi ? s->vifrsm : s->vqfrsm) || primary + others + nr > flex) {
        return nvme_cmd_error(req, NVME_SC_INVALID_RESOURCE_COUNT,
                              "more resources than available or allowed "
                              "per secondary controller");
    }
    *cur = nr;
    req->cqe.result = cpu_to_le32(nr);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_virt_sec_online(NvmeCtrl *n, NvmeRequest *req,
                                     NvmeSecCtrl *sec)
{
    if (!sec->nvq || !sec->nvi) {
        return nvme_cmd_error(req, NVME_SC_INVALID_SECONDARY_STATE,
                              "Secondary Online without VQ or VI resources");
    }
    sec->online = true;
    return NVME_SC_SUCCESS;
}

/* Offline: the secondary's commands under way complete, then it resets */
static uint16_t nvme_virt_sec_offline(NvmeCtrl *n, NvmeSecCtrl *sec,
                                      NvmeCtrl *vf)
{
    if (sec->online) {
        bool enabled = NVME_CC_EN(vf->cc);

        sec->online = false;
        nvme_ctrl_reset(vf);
        if (enabled) {
            vf->csts |= NVME_CSTS_CFS_BIT;
        }
    }
    return NVME_SC_SUCCESS;
}

/* Virtualization Management (Base 5.26), primary controllers only */
uint16_t nvme_virt_mngmt(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t act = cdw10 & 0xf;
    uint8_t rt = (cdw10 >> 8) & 0x7;
    uint16_t cntlid = cdw10 >> 16;
    uint16_t nr = le32_to_cpu(req->cmd.cdw11) & 0xffff;
    bool primary = act == NVME_VIRT_PRI_FLEX_ALLOC;
    bool uses_rt = primary || act == NVME_VIRT_SEC_ASSIGN;
    int vfn;

    trace_nvme_virt_mngmt(act, rt, cntlid, nr);
    if (!primary && act != NVME_VIRT_SEC_OFFLINE &&
        act != NVME_VIRT_SEC_ASSIGN && act != NVME_VIRT_SEC_ONLINE) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD,
                              "unknown Virtualization Management action");
    }
    vfn = primary ? -1 : nvme_sriov_find(n, cntlid);
    if (primary ? cntlid != n->cntlid : vfn < 0) {
        return nvme_cmd_error(req, NVME_SC_INVALID_CONTROLLER_ID,
                              primary ? "not the primary controller" :
                              "not a secondary controller of this primary");
    }
    if (uses_rt && rt != NVME_VIRT_RES_VQ && rt != NVME_VIRT_RES_VI) {
        return nvme_cmd_error(req, NVME_SC_INVALID_RESOURCE_ID,
                              "unknown resource type");
    }
    switch (act) {
    case NVME_VIRT_PRI_FLEX_ALLOC:
        return nvme_virt_pri_alloc(n, req, rt == NVME_VIRT_RES_VI, nr);
    case NVME_VIRT_SEC_ASSIGN:
        return nvme_virt_sec_assign(n, req, &n->sriov.sec[vfn],
                                    rt == NVME_VIRT_RES_VI, nr);
    case NVME_VIRT_SEC_ONLINE:
        return nvme_virt_sec_online(n, req, &n->sriov.sec[vfn]);
    default:
        return nvme_virt_sec_offline(n, &n->sriov.sec[vfn],
                                     nvme_sriov_vf(n, vfn));
    }
}

/*
 * Identify CNS 14h. A secondary controller has no flexible resources of
 * its own to report; a controller without SR-IOV does not know the CNS.
 */
uint16_t nvme_identify_pri_ctrl_cap(NvmeCtrl *n, NvmeRequest *req)
{
    g_autofree NvmePriCtrlCap *cap = g_new0(NvmePriCtrlCap, 1);
    NvmeParams *p = &n->params;
    NvmeSriov *s = &n->sriov;

    NvmePriCtrlRes *vq = &cap->res[NVME_VIRT_RES_VQ];
    NvmePriCtrlRes *vi = &cap->res[NVME_VIRT_RES_VI];

    cap->cntlid = cpu_to_le16(n->cntlid);
    if (s->sec) {
        cap->crt = NVME_CRT_VQ | NVME_CRT_VI;
        vq->frt = cpu_to_le32(p->sriov_vq_flexible);
        vq->rfa = cpu_to_le32(nvme_sriov_assigned(n, false));
        vq->rfap = cpu_to_le16(s->vqrfap);
        vq->prt = cpu_to_le16(s->vqprt);
        vq->frsm = cpu_to_le16(s->vqfrsm);
        vq->gran = cpu_to_le16(1);
        vi->frt = cpu_to_le32(p->sriov_vi_flexible);
        vi->rfa = cpu_to_le32(nvme_sriov_assigned(n, true));
        vi->rfap = cpu_to_le16(s->virfap);
        vi->prt = cpu_to_le16(s->viprt);
        vi->frsm = cpu_to_le16(s->vifrsm);
        vi->gran = cpu_to_le16(1);
    }
    return nvme_dma_to_host(n, req, cap, sizeof(*cap));
}

/* Identify CNS 15h: secondary controllers from CDW10.CNTID up */
uint16_t nvme_identify_sec_ctrl_list(NvmeCtrl *n, NvmeRequest *req)
{
    g_autofree NvmeSecCtrlList *list = g_new0(NvmeSecCtrlList, 1);
    uint16_t min_id = le32_to_cpu(req->cmd.cdw10) >> 16;
    int count = 0;

    for (int i = 0; n->sriov.sec && i < n->params.sriov_max_vfs &&
                    count < NVME_SEC_CTRL_LIST_MAX; i++) {
        NvmeCtrl *vf = nvme_sriov_vf(n, i);
        NvmeSecCtrlEntry *e = &list->sec[count];

        if (vf->cntlid < min_id) {
            continue;
        }
        e->scid = cpu_to_le16(vf->cntlid);
        e->pcid = cpu_to_le16(n->cntlid);
        e->scs = n->sriov.sec[i].online;
        e->vfn = cpu_to_le16(i + 1);
        e->nvq = cpu_to_le16(n->sriov.sec[i].nvq);
        e->nvi = cpu_to_le16(n->sriov.sec[i].nvi);
        count++;
    }
    list->numcntl = count;
    return nvme_dma_to_host(n, req, list, sizeof(*list));
}
