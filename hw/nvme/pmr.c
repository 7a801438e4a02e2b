/*
 * Persistent Memory Region (pmrdev): BAR 4 and its registers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"

bool nvme_pmr_init(NvmeCtrl *n, Error **errp)
{
    return true;
}

void nvme_pmr_init_regs(NvmeCtrl *n)
{
}

bool nvme_pmr_read_reg(NvmeCtrl *n, hwaddr offset, unsigned size,
                       uint64_t *val)
{
    return false;
}

bool nvme_pmr_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    return false;
}

void nvme_pmr_reset(NvmeCtrl *n)
{
}

void nvme_pmr_exit(NvmeCtrl *n)
{
}
