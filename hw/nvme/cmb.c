/*
 * Controller Memory Buffer (cmb_size_mb): BAR 2 and its registers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "nvme.h"

bool nvme_cmb_init(NvmeCtrl *n, Error **errp)
{
    return true;
}

void nvme_cmb_init_regs(NvmeCtrl *n)
{
}

void nvme_cmb_sync_regs(NvmeCtrl *n, NvmeBar *bar)
{
}

bool nvme_cmb_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    return false;
}

void nvme_cmb_reset(NvmeCtrl *n)
{
}

void nvme_cmb_exit(NvmeCtrl *n)
{
}
