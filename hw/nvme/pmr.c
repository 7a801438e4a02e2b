/*
 * Persistent Memory Region (pmrdev): BAR 4 and its registers.
 *
 * Base 3.1.4 (PMRCAP to PMRMSCU) and 8.9, Persistent Memory Region. The
 * PMR is the memory of the host memory backend pmrdev names, shared with
 * its file (share=on), so that what the guest writes reaches the file.
 * BAR 4 is an I/O region that reads as all 1s and drops writes, with the
 * backend's memory over it while PMRCTL.EN is 1. Writes go straight to the
 * mapping; a read of PMRSTS is the write barrier (PMRCAP.PMRWBM): it
 * msync()s the mapping, and so does disabling the PMR and any reset.
 *
 * Controller memory space (PMRMSC.CMSE) is offered for the address the
 * PMR has on the PCI bus only: the controller reaches that address through
 * its bus master address space like any other, which is then the PMR.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "system/hostmem.h"
#include "nvme.h"
#include "trace.h"

#define NVME_PMR_MIN_SIZE       (4 * KiB)
/* Base 3.1.4, PMREBS.PMRSZU and PMRSWTP.PMRSWTU */
#define NVME_PMR_UNIT_KIB       1
#define NVME_PMR_UNIT_GIB_S     3

/* An access to BAR 4 while the PMR is disabled (Base 8.9) */
static uint64_t nvme_pmr_disabled_read(void *opaque, hwaddr addr,
                                       unsigned size)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: read of the disabled PMR at 0x%"
                  HWADDR_PRIx "\n", addr);
    trace_nvme_err_pmr_disabled(addr, false);
    return UINT64_MAX;
}

static void nvme_pmr_disabled_write(void *opaque, hwaddr addr, uint64_t data,
                                    unsigned size)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: write to the disabled PMR at 0x%"
                  HWADDR_PRIx " dropped\n", addr);
    trace_nvme_err_pmr_disabled(addr, true);
}

static const MemoryRegionOps nvme_pmr_disabled_ops = {
    .read = nvme_pmr_disabled_read,
    .write = nvme_pmr_disabled_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 1, .max_access_size = 8 },
};

static MemoryRegion *nvme_pmr_mem(NvmeCtrl *n)
{
    return host_memory_backend_get_memory(n->pmr.dev);
}

static void nvme_pmr_set_health(NvmeCtrl *n, enum NvmePmrHealth hsts)
{
    n->pmr.sts = (n->pmr.sts & ~NVME_PMRSTS_HSTS_MASK) |
                 (hsts << NVME_PMRSTS_HSTS_SHIFT);
}

/*
 * Makes every earlier write to the PMR persistent. If the file cannot
 * take them, the PMR's contents are no longer what the guest wrote:
 * PMRSTS.HSTS says Unreliable from then on.
 */
static void nvme_pmr_persist(NvmeCtrl *n)
{
    MemoryRegion *mr = nvme_pmr_mem(n);
    int fd = memory_region_get_fd(mr);
    int ret;

    if (fd < 0 || memory_region_is_rom(mr)) {
        return;
    }
    ret = qemu_msync(memory_region_get_ram_ptr(mr), n->pmr.size, fd) ?
          errno : 0;
    trace_nvme_pmr_barrier(n->pmr.size, ret);
    if (ret) {
        error_report_once("nvme: PMR: msync of the pmrdev backend failed: %s",
                          strerror(ret));
        nvme_pmr_set_health(n, NVME_PMR_HSTS_UNRELIABLE);
    }
}

static bool nvme_pmr_check_backend(NvmeCtrl *n, Error **errp)
{
    HostMemoryBackend *dev = n->pmr.dev;
    g_autofree char *name = host_memory_backend_get_name(dev);
    uint64_t size = memory_region_size(nvme_pmr_mem(n));

    if (host_memory_backend_is_mapped(dev)) {
        error_setg(errp, "nvme: pmrdev: memory backend '%s' is already in "
                   "use", name);
        return false;
    }
    if (!dev->share) {
        error_setg(errp, "nvme: pmrdev: memory backend '%s' needs share=on, "
                   "or what the guest writes to the PMR never reaches its "
                   "file", name);
        return false;
    }
    if (size < NVME_PMR_MIN_SIZE || !is_power_of_2(size)) {
        error_setg(errp, "nvme: pmrdev: the size of memory backend '%s' "
                   "(%" PRIu64 " bytes) must be a power of two of at least "
                   "%u bytes", name, size, (unsigned)NVME_PMR_MIN_SIZE);
        return false;
    }
    return true;
}

bool nvme_pmr_init(NvmeCtrl *n, Error **errp)
{
    NvmePmr *pmr = &n->pmr;
    MemoryRegion *mr;

    if (!pmr->dev) {
        return true;
    }
    if (!nvme_pmr_check_backend(n, errp)) {
        return false;
    }
    mr = nvme_pmr_mem(n);
    pmr->size = memory_region_size(mr);
    memory_region_init_io(&pmr->bar, OBJECT(n), &nvme_pmr_disabled_ops, n,
                          "nvme-pmr", pmr->size);
    memory_region_add_subregion(&pmr->bar, 0, mr);
    memory_region_set_enabled(mr, false);
    pci_register_bar(PCI_DEVICE(n), NVME_PMR_BIR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &pmr->bar);
    host_memory_backend_set_mapped(pmr->dev, true);
    return true;
}

/* PMREBS.PMRWBZ in the smallest unit (KiB, MiB, GiB) that holds size */
static uint32_t nvme_pmr_ebs(uint64_t size)
{
    uint32_t unit = NVME_PMR_UNIT_KIB;

    size >>= 10;
    while (size >= (1u << 24)) {
        size >>= 10;
        unit++;
    }
    return unit | (uint32_t)size << NVME_PMREBS_PMRWBZ_SHIFT;
}

void nvme_pmr_init_regs(NvmeCtrl *n)
{
    NvmePmr *pmr = &n->pmr;
    bool rom;

    if (!pmr->size) {
        return;
    }
    rom = memory_region_is_rom(nvme_pmr_mem(n));
    n->cap |= 1ULL << NVME_CAP_PMRS_SHIFT;
    /*
     * Ready as soon as enabled (PMRTO one 500 ms unit, never waited for).
     * A read-only backend (readonly=on,rom=on) is a PMR without WDS.
     */
    pmr->cap = NVME_PMRCAP_RDS_BIT | (rom ? 0 : NVME_PMRCAP_WDS_BIT) |
               NVME_PMR_BIR << NVME_PMRCAP_BIR_SHIFT |
               NVME_PMRWBM_PMRSTS_READ << NVME_PMRCAP_PMRWBM_SHIFT |
               1u << NVME_PMRCAP_PMRTO_SHIFT | NVME_PMRCAP_CMSS_BIT;
    pmr->ctl = 0;
    pmr->sts = NVME_PMRSTS_NRDY_BIT;
    nvme_pmr_set_health(n, rom ? NVME_PMR_HSTS_READ_ONLY
                               : NVME_PMR_HSTS_NORMAL);
    /*
     * Until a barrier, the host page cache holds the writes: it is an
     * elasticity buffer as large as the PMR, which reads bypass (RBB).
     * The sustained write throughput is not known (0).
     */
    pmr->ebs = nvme_pmr_ebs(pmr->size) | NVME_PMREBS_RBB_BIT;
    pmr->swtp = NVME_PMR_UNIT_GIB_S;
    pmr->msc = 0;
}

/* Registers E00h..E1Fh; reads of PMRSTS are the write barrier. */
bool nvme_pmr_read_reg(NvmeCtrl *n, hwaddr offset, unsigned size,
                       uint64_t *val)
{
    NvmePmr *pmr = &n->pmr;
    uint32_t regs[8] = {
        pmr->cap, pmr->ctl, pmr->sts, pmr->ebs, pmr->swtp,
        (uint32_t)pmr->msc, pmr->msc >> 32, 0,
    };
    uint8_t image[sizeof(regs)];

    if (!pmr->size || offset < NVME_REG_PMRCAP ||
        offset + size > NVME_REG_PMRCAP + sizeof(image)) {
        return false;
    }
    if (offset < NVME_REG_PMRSTS + 4 && offset + size > NVME_REG_PMRSTS) {
        nvme_pmr_persist(n);
        regs[2] = pmr->sts;
    }
    for (int i = 0; i < ARRAY_SIZE(regs); i++) {
        stl_le_p(image + i * 4, regs[i]);
    }
    *val = ldn_le_p(image + (offset - NVME_REG_PMRCAP), size);
    trace_nvme_pmr_read(offset, *val, size);
    return true;
}

static void nvme_pmr_write_ctl(NvmeCtrl *n, uint32_t value)
{
    NvmePmr *pmr = &n->pmr;
    bool en = NVME_PMRCTL_EN(value);

    trace_nvme_pmr_ctl(value);
    if (en == NVME_PMRCTL_EN(pmr->ctl)) {
        return;
    }
    if (!en) {
        /* Whatever was written before the disable is kept */
        nvme_pmr_persist(n);
    }
    memory_region_set_enabled(nvme_pmr_mem(n), en);
    pmr->ctl = en ? NVME_PMRCTL_EN_BIT : 0;
    pmr->sts = en ? pmr->sts & ~NVME_PMRSTS_NRDY_BIT
                  : pmr->sts | NVME_PMRSTS_NRDY_BIT;
}

/*
 * Base 3.1.4, PMRMSCL: with CMSE set, a CBA the controller cannot use sets
 * PMRSTS.CBAI. The only usable one is the PMR's own bus address.
 */
static void nvme_pmr_update_msc(NvmeCtrl *n)
{
    NvmePmr *pmr = &n->pmr;
    pcibus_t bar = pci_get_bar_addr(PCI_DEVICE(n), NVME_PMR_BIR);
    uint64_t cba = pmr->msc & NVME_PMRMSC_CBA_MASK;

    pmr->sts &= ~NVME_PMRSTS_CBAI_BIT;
    if (!NVME_PMRMSC_CMSE(pmr->msc) || cba == bar) {
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: PMRMSC.CBA 0x%" PRIx64 " is not "
                  "the PMR's address: CBAI\n", cba);
    trace_nvme_err_pmr_cba(cba);
    pmr->sts |= NVME_PMRSTS_CBAI_BIT;
}

static bool nvme_pmr_check_reserved(hwaddr offset, uint32_t value,
                                    uint32_t valid)
{
    if (value & ~valid) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: reserved bits 0x%x set in PMR "
                      "register 0x%" HWADDR_PRIx "\n", value & ~valid, offset);
        trace_nvme_err_pmr_reserved(offset, value);
        return false;
    }
    return true;
}

/* PMRCTL, PMRMSCL and PMRMSCU; the others are read-only (false). */
bool nvme_pmr_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    NvmePmr *pmr = &n->pmr;
    const uint32_t mscl_valid = (uint32_t)NVME_PMRMSC_CBA_MASK |
                                NVME_PMRMSC_CMSE_BIT;

    if (!pmr->size) {
        return false;
    }
    switch (offset) {
    case NVME_REG_PMRCTL:
        nvme_pmr_check_reserved(offset, value, NVME_PMRCTL_EN_BIT);
        nvme_pmr_write_ctl(n, value & NVME_PMRCTL_EN_BIT);
        return true;
    case NVME_REG_PMRMSCL:
        nvme_pmr_check_reserved(offset, value, mscl_valid);
        pmr->msc = deposit64(pmr->msc, 0, 32, value & mscl_valid);
        nvme_pmr_update_msc(n);
        return true;
    case NVME_REG_PMRMSCU:
        pmr->msc = deposit64(pmr->msc, 32, 32, value);
        nvme_pmr_update_msc(n);
        return true;
    default:
        return false;
    }
}

/* Conventional and function level reset: disabled, contents kept. */
void nvme_pmr_reset(NvmeCtrl *n)
{
    NvmePmr *pmr = &n->pmr;

    if (!pmr->size) {
        return;
    }
    nvme_pmr_write_ctl(n, 0);
    pmr->msc = 0;
    pmr->sts &= ~NVME_PMRSTS_CBAI_BIT;
}

void nvme_pmr_exit(NvmeCtrl *n)
{
    NvmePmr *pmr = &n->pmr;
    MemoryRegion *mr;

    if (!pmr->size) {
        return;
    }
    mr = nvme_pmr_mem(n);
    nvme_pmr_persist(n);
    /* The backend may be used again, as it was given */
    memory_region_del_subregion(&pmr->bar, mr);
    memory_region_set_enabled(mr, true);
    host_memory_backend_set_mapped(pmr->dev, false);
    pmr->size = 0;
}
