/*
 * Controller Memory Buffer (cmb_size_mb): BAR 2 and its registers.
 *
 * Base 2.0 3.1.4.10-3.1.4.16 (CMBLOC, CMBSZ, CMBMSC, CMBSTS, CMBEBS,
 * CMBSWTP) and 8.2 (Controller Memory Buffer).
 *
 * The CMB is RAM: BAR 2 maps it for the host, and the controller reaches it
 * through its controller address space (n->dma_as), where an alias of the
 * same RAM sits on top of the bus master address space at the CMB's
 * controller address. Every device access (queues, PRP lists, SGL segments,
 * data, metadata) therefore finds the CMB's bytes directly, without the
 * bus master or an IOMMU in the way, and the data path has no CMB branch of
 * its own; nvme_cmb_guard() only enforces the CMB's rules.
 *
 * Two kinds of hosts (the scheme is chosen by what the host does):
 * - legacy (NVMe 1.3 and older drivers): CMBMSC never written since the
 *   last PCI reset. CMBLOC and CMBSZ read their values, and the controller
 *   address of the CMB is BAR 2's bus address, following the BAR.
 * - NVMe 1.4 and later (Linux 5.10+): a write to CMBMSC (its low half,
 *   which holds CRE and CMSE and takes effect with the high half written
 *   before it) switches to this scheme until the next PCI reset. CMBLOC
 *   and CMBSZ read zero unless CMBMSC.CRE is set, and the controller
 *   memory space is on only while CMBMSC.CMSE is set with a valid CBA.
 *
 * CMBMSC survives a Controller Level Reset (Base 3.7.2) and is cleared by a
 * PCI reset. Changing the controller memory space stops fetching and waits
 * for the commands under way first (quiesce), so that no command sees it
 * change; a queue left outside it makes the controller fatal (CSTS.CFS).
 * Its RAM lives until the device goes, so a stale address is never a
 * dangling pointer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "migration/vmstate.h"
#include "nvme.h"
#include "trace.h"

/* RAM the host gives up for it; well within CMBSZ.SZ with 1 MiB units. */
#define NVME_CMB_MAX_MB     (16 * 1024)

/* CAP.CMBS */
#define NVME_CAP_CMBS_BIT   (1ULL << 57)

/* CMBLOC */
#define NVME_CMBLOC_CDPMLS  (1u << 6)   /* data pointer mixed locations */
#define NVME_CMBLOC_CDPCILS (1u << 7)   /* data pointer, command locations */
#define NVME_CMBLOC_CDMMMS  (1u << 8)   /* data and metadata mixed memory */

/* CMBSZ */
#define NVME_CMBSZ_SQS      (1u << 0)
#define NVME_CMBSZ_CQS      (1u << 1)
#define NVME_CMBSZ_LISTS    (1u << 2)
#define NVME_CMBSZ_RDS      (1u << 3)
#define NVME_CMBSZ_WDS      (1u << 4)
#define NVME_CMBSZ_SZU_1MIB 2u          /* 4 KiB * 16^2 */
#define NVME_CMBSZ_SZU_SHIFT 8
#define NVME_CMBSZ_SZ_SHIFT 12

/* CMBMSC */
#define NVME_REG_CMBMSC     0x50
#define NVME_REG_CMBSTS     0x58
#define NVME_REG_CMBEBS     0x5c
#define NVME_REG_CMBSWTP    0x60
#define NVME_CMBMSC_CRE     (1ULL << 0)
#define NVME_CMBMSC_CMSE    (1ULL << 1)
#define NVME_CMBMSC_CBA     (~(uint64_t)0xfff)

/* CMBEBS: CMBSZU 1 MiB, RBB; CMBSWTP: units of GiB/s */
#define NVME_CMBEBS_MIB     2u
#define NVME_CMBEBS_RBB     (1u << 4)
#define NVME_CMBEBS_WBZ_SHIFT 8
#define NVME_CMBSWTP_GIBS   3u
#define NVME_CMBSWTP_SWTV_SHIFT 8

static uint64_t nvme_cmb_bar_size(NvmeCtrl *n)
{
    return memory_region_size(&n->cmb.bar);
}

/*
 * Where the CMB is in the controller address space, or false when the
 * controller memory space is off.
 */
static bool nvme_cmb_locate(NvmeCtrl *n, uint64_t *base)
{
    NvmeCmb *cmb = &n->cmb;

    if (!cmb->msc_written) {
        pcibus_t bar = pci_get_bar_addr(PCI_DEVICE(n), NVME_CMB_BIR);

        *base = bar;
        return bar != PCI_BAR_UNMAPPED;
    }
    *base = cmb->msc & NVME_CMBMSC_CBA;
    return (cmb->msc & NVME_CMBMSC_CMSE) && !cmb->cbai;
}

/*
 * An invalid CBA (CMBSTS.CBAI) is one whose range wraps around the end of
 * the 64-bit space or covers the controller's own registers.
 */
static bool nvme_cmb_cba_valid(NvmeCtrl *n, uint64_t cba)
{
    pcibus_t bar0 = pci_get_bar_addr(PCI_DEVICE(n), 0);
    uint64_t end = cba + n->cmb.size - 1;

    if (end < cba) {
        return false;
    }
    return bar0 == PCI_BAR_UNMAPPED ||
           end < bar0 || cba > bar0 + memory_region_size(&n->bar0) - 1;
}

static bool nvme_cmb_inside(uint64_t base, uint64_t size, uint64_t addr,
                            uint64_t last)
{
    return addr >= base && last <= base + size - 1;
}

static bool nvme_cmb_overlaps(uint64_t base, uint64_t size, uint64_t addr,
                              uint64_t last)
{
    return addr <= base + size - 1 && last >= base;
}

/* Is [addr, addr + len) where a queue of the old window would be lost? */
static bool nvme_cmb_queue_stranded(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    NvmeCmb *cmb = &n->cmb;
    uint64_t last = addr + len - 1;
    uint64_t base;
    bool on = nvme_cmb_locate(n, &base);

    return cmb->win_on &&
           nvme_cmb_inside(cmb->win_base, cmb->size, addr, last) &&
           !(on && base == cmb->win_base);
}

/*
 * Queues in the CMB cannot follow it when its controller address moves or
 * it goes off: they would read and write whatever lies there now. Such a
 * controller is fatal (CSTS.CFS) and no longer ready, so that nothing is
 * fetched nor posted (completions of the quiesced commands may still be
 * waiting to be posted) until the host resets it.
 */
static void nvme_cmb_strand_queues(NvmeCtrl *n)
{
    for (uint32_t i = 0; i < n->num_queues; i++) {
        NvmeSQueue *sq = n->sq[i];
        NvmeCQueue *cq = n->cq[i];

        if ((sq && nvme_cmb_queue_stranded(n, sq->dma_addr,
                                           (uint64_t)sq->size * 64)) ||
            (cq && nvme_cmb_queue_stranded(n, cq->dma_addr,
                                           (uint64_t)cq->size * 16))) {
            qemu_log_mask(LOG_GUEST_ERROR, "nvme: queue %u lives in the "
                          "CMB, which moved or went off: controller fatal\n",
                          i);
            trace_nvme_err_cmb_queue_stranded(i);
            qatomic_or(&n->csts, NVME_CSTS_CFS_BIT);
            qatomic_and(&n->csts, ~NVME_CSTS_RDY_BIT);
            return;
        }
    }
}

/* Puts the window where nvme_cmb_locate() says; call quiesced. */
static void nvme_cmb_update_window(NvmeCtrl *n)
{
    NvmeCmb *cmb = &n->cmb;
    uint64_t base = 0;
    bool on = nvme_cmb_locate(n, &base);

    if (on == cmb->win_on && (!on || base == cmb->win_base)) {
        return;
    }
    trace_nvme_cmb_window(on, base);
    memory_region_transaction_begin();
    memory_region_set_enabled(&cmb->window, on);
    if (on) {
        memory_region_set_address(&cmb->window, base);
    }
    memory_region_transaction_commit();
    cmb->win_base = base;
    cmb->win_on = on;
}

bool nvme_cmb_init(NvmeCtrl *n, Error **errp)
{
    NvmeCmb *cmb = &n->cmb;
    PCIDevice *pci = PCI_DEVICE(n);

    if (!n->params.cmb_size_mb) {
        return true;
    }
    if (n->params.cmb_size_mb > NVME_CMB_MAX_MB) {
        error_setg(errp, "nvme: cmb_size_mb is %u, at most %u (%u GiB) is "
                   "supported", n->params.cmb_size_mb, NVME_CMB_MAX_MB,
                   NVME_CMB_MAX_MB / 1024);
        return false;
    }
    if (!memory_region_init_ram(&cmb->mem, OBJECT(n), "nvme-cmb",
                                (uint64_t)n->params.cmb_size_mb * MiB,
                                errp)) {
        return false;
    }
    cmb->size = memory_region_size(&cmb->mem);
    cmb->buf = memory_region_get_ram_ptr(&cmb->mem);

    /* 64-bit and prefetchable, so that the host may use it as P2P memory */
    memory_region_init(&cmb->bar, OBJECT(n), "nvme-cmb-bar",
                       pow2ceil(cmb->size));
    memory_region_add_subregion(&cmb->bar, 0, &cmb->mem);
    pci_register_bar(pci, NVME_CMB_BIR, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &cmb->bar);

    memory_region_init(&cmb->ctrl_root, OBJECT(n), "nvme-ctrl-as",
                       UINT64_MAX);
    memory_region_init_alias(&cmb->ctrl_host, OBJECT(n), "nvme-ctrl-host",
                             n->dma_as->root, 0, UINT64_MAX);
    memory_region_add_subregion_overlap(&cmb->ctrl_root, 0, &cmb->ctrl_host,
                                        0);
    memory_region_init_alias(&cmb->window, OBJECT(n), "nvme-cmb-window",
                             &cmb->mem, 0, cmb->size);
    memory_region_set_enabled(&cmb->window, false);
    memory_region_add_subregion_overlap(&cmb->ctrl_root, 0, &cmb->window, 1);
    address_space_init(&cmb->ctrl_as, &cmb->ctrl_root, "nvme-ctrl");
    n->dma_as = &cmb->ctrl_as;
    return true;
}

void nvme_cmb_init_regs(NvmeCtrl *n)
{
    if (n->cmb.size) {
        n->cap |= NVME_CAP_CMBS_BIT;
    }
}

/*
 * CMBLOC: offset 0 in BAR 2. Every address is resolved on its own, so any
 * mix of CMB and host memory among a command, its PRP list or SGL, its
 * data and its metadata works (CDPMLS, CDPCILS, CDMMMS). Queues must be
 * physically contiguous (CAP.CQR), so CQMMS and CQPDS are 0.
 */
static uint32_t nvme_cmb_cmbloc(void)
{
    return NVME_CMB_BIR | NVME_CMBLOC_CDPMLS | NVME_CMBLOC_CDPCILS |
           NVME_CMBLOC_CDMMMS;
}

static uint32_t nvme_cmb_cmbsz(NvmeCtrl *n)
{
    return NVME_CMBSZ_SQS | NVME_CMBSZ_CQS | NVME_CMBSZ_LISTS |
           NVME_CMBSZ_RDS | NVME_CMBSZ_WDS |
           NVME_CMBSZ_SZU_1MIB << NVME_CMBSZ_SZU_SHIFT |
           (uint32_t)(n->cmb.size / MiB) << NVME_CMBSZ_SZ_SHIFT;
}

void nvme_cmb_sync_regs(NvmeCtrl *n, NvmeBar *bar)
{
    NvmeCmb *cmb = &n->cmb;
    uint32_t mb = cmb->size / MiB;

    if (!cmb->size) {
        return;
    }
    /* Capabilities: a legacy host sees them, a 1.4 host after CRE. */
    if (!cmb->msc_written || (cmb->msc & NVME_CMBMSC_CRE)) {
        stl_le_p(&bar->cmbloc, nvme_cmb_cmbloc());
        stl_le_p(&bar->cmbsz, nvme_cmb_cmbsz(n));
    }
    stq_le_p(&bar->cmbmsc, cmb->msc);
    stl_le_p(&bar->cmbsts, cmb->cbai);
    /* RAM takes every write at once: the whole CMB is its buffer. */
    stl_le_p(&bar->cmbebs, NVME_CMBEBS_MIB | NVME_CMBEBS_RBB |
             mb << NVME_CMBEBS_WBZ_SHIFT);
    stl_le_p(&bar->cmbswtp, NVME_CMBSWTP_GIBS |
             1u << NVME_CMBSWTP_SWTV_SHIFT);
}

/* Main loop, BQL held. */
static void nvme_cmb_write_msc(NvmeCtrl *n, uint64_t msc)
{
    NvmeCmb *cmb = &n->cmb;
    bool quiesce = qatomic_read(&n->csts) & NVME_CSTS_RDY_BIT;

    trace_nvme_cmb_write_msc(msc);
    if (quiesce) {
        nvme_ctrl_quiesce_begin(n);
    }
    cmb->msc_written = true;
    cmb->msc = msc;
    cmb->cbai = (msc & NVME_CMBMSC_CMSE) &&
                !nvme_cmb_cba_valid(n, msc & NVME_CMBMSC_CBA);
    if (cmb->cbai) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: CMBMSC.CBA 0x%" PRIx64
                      " is invalid: the CMB stays off\n",
                      msc & NVME_CMBMSC_CBA);
        trace_nvme_err_cmb_cbai(msc & NVME_CMBMSC_CBA);
    }
    nvme_cmb_strand_queues(n);
    nvme_cmb_update_window(n);
    if (quiesce) {
        nvme_ctrl_quiesce_end(n);
    }
}

bool nvme_cmb_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    NvmeCmb *cmb = &n->cmb;
    uint64_t msc;

    if (!cmb->size ||
        (offset != NVME_REG_CMBMSC && offset != NVME_REG_CMBMSC + 4)) {
        return false;
    }
    if (offset == NVME_REG_CMBMSC + 4) {
        /*
         * The high half of CBA waits for the low half, which holds CMSE
         * and takes effect (a hi-lo pair, or a 64-bit write, see
         * nvme_mmio_write): no window at a half-written address.
         */
        cmb->msc = deposit64(cmb->msc, 32, 32, value);
        return true;
    }
    /* Reserved bits 11:2 read 0 */
    msc = deposit64(cmb->msc, 0, 32, value);
    nvme_cmb_write_msc(n, msc & (NVME_CMBMSC_CBA | NVME_CMBMSC_CMSE |
                                 NVME_CMBMSC_CRE));
    return true;
}

/* PCI config space writes may move BAR 2, which a legacy host follows. */
void nvme_cmb_bar_moved(NvmeCtrl *n)
{
    if (n->cmb.size && !n->cmb.msc_written) {
        nvme_cmb_update_window(n);
    }
}

static uint16_t nvme_cmb_error(const char *why, uint64_t addr, uint64_t len,
                               uint16_t status)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: 0x%" PRIx64 "+0x%" PRIx64 ": %s\n",
                  addr, len, why);
    trace_nvme_err_cmb_use(addr, len, why);
    return status | NVME_SC_DNR;
}

/*
 * Base 8.2: what lies in the CMB lies in it entirely. Data, a PRP list or
 * an SGL segment across its end is a Data Transfer Error (the controller
 * cannot move it); BAR 2 used while the controller memory space is off, or
 * at another controller address, is an Invalid Use of the CMB.
 */
uint16_t nvme_cmb_check_range(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    NvmeCmb *cmb = &n->cmb;
    pcibus_t bar = pci_get_bar_addr(PCI_DEVICE(n), NVME_CMB_BIR);
    uint64_t last = addr + len - 1;

    if (!len) {
        return NVME_SC_SUCCESS;
    }
    if (last < addr) {
        return nvme_cmb_error("wraps around", addr, len,
                              NVME_SC_DATA_TRANSFER_ERROR);
    }
    if (cmb->win_on && nvme_cmb_overlaps(cmb->win_base, cmb->size, addr,
                                         last)) {
        if (nvme_cmb_inside(cmb->win_base, cmb->size, addr, last)) {
            return NVME_SC_SUCCESS;
        }
        return nvme_cmb_error("across the end of the CMB", addr, len,
                              NVME_SC_DATA_TRANSFER_ERROR);
    }
    if (bar != PCI_BAR_UNMAPPED &&
        nvme_cmb_overlaps(bar, nvme_cmb_bar_size(n), addr, last)) {
        return nvme_cmb_error("in BAR 2 while the CMB's controller memory "
                              "space is off or elsewhere", addr, len,
                              NVME_SC_INVALID_CMB_USE);
    }
    return NVME_SC_SUCCESS;
}

uint16_t nvme_cmb_check_sg(NvmeCtrl *n, NvmeRequest *req)
{
    for (int i = 0; i < req->sg.nsg; i++) {
        uint64_t base = req->sg.sg[i].base;
        uint16_t status;

        if (base == NVME_SG_BIT_BUCKET) {
            continue;
        }
        status = nvme_cmb_check_range(n, base, req->sg.sg[i].len);
        if (status) {
            return status;
        }
    }
    return NVME_SC_SUCCESS;
}

/*
 * A queue is never split between the CMB and elsewhere, nor placed in BAR 2
 * while the controller memory space is off: Invalid Use of the CMB.
 */
uint16_t nvme_cmb_check_queue(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    uint16_t status = nvme_cmb_guard(n, addr, len);

    return status ? NVME_SC_INVALID_CMB_USE | NVME_SC_DNR : NVME_SC_SUCCESS;
}

/* PCI reset: the CMB is off and the host is legacy until it says more. */
void nvme_cmb_reset(NvmeCtrl *n)
{
    NvmeCmb *cmb = &n->cmb;

    if (!cmb->size) {
        return;
    }
    cmb->msc = 0;
    cmb->msc_written = false;
    cmb->cbai = false;
    nvme_cmb_update_window(n);
}

/* Also undoes a partial nvme_cmb_init() */
void nvme_cmb_exit(NvmeCtrl *n)
{
    NvmeCmb *cmb = &n->cmb;

    if (!cmb->size) {
        return;
    }
    n->dma_as = pci_get_address_space(PCI_DEVICE(n));
    /* The subregions hold references to n: without this, n never goes. */
    address_space_destroy(&cmb->ctrl_as);
    memory_region_del_subregion(&cmb->ctrl_root, &cmb->window);
    memory_region_del_subregion(&cmb->ctrl_root, &cmb->ctrl_host);
    memory_region_del_subregion(&cmb->bar, &cmb->mem);
    vmstate_unregister_ram(&cmb->mem, DEVICE(n));
    cmb->size = 0;
    cmb->buf = NULL;
}
