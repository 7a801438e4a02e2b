/*
 * NVMe QMP commands in builds without the NVMe device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvme.h"

void qmp_nvme_ana_set_state(const char *id, uint32_t group,
                            NvmeAnaState state, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

void qmp_nvme_power_cycle(const char *id, Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}

void qmp_nvme_zone_inject(const char *id, uint64_t slba, NvmeZoneFault fault,
                          Error **errp)
{
    error_setg(errp, "this QEMU has no NVMe device");
}
