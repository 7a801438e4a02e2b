/*
 * qtests of the OCP Datacenter NVMe SSD log pages (ocp=on) and the SPDM
 * Data Object Exchange capability (spdm_port).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

static void register_ocp_tests(void)
{
}

libqos_init(register_ocp_tests);
