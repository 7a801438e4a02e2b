/*
 * SPDM over PCIe Data Object Exchange (spdm_port): a DOE extended
 * capability whose CMA-SPDM and Secured CMA-SPDM data objects are passed,
 * whole, to an external SPDM responder (libspdm's spdm-emu, for instance)
 * on localhost:spdm_port with QEMU's spdm-socket protocol. pcie_doe.c
 * keeps the mailboxes and answers the DOE Discovery protocol itself.
 *
 * The capability sits at NVME_SPDM_DOE_OFFSET. Extended capabilities
 * 100h-1FFh are left to SR-IOV, ARI and AER, which must be added before
 * the DOE: pcie_add_capability() at 100h would rewrite the header (and
 * the Next pointer) that links to the DOE.
 *
 * The exchange with the responder is synchronous, in the config space
 * write that sets DOE Go, under the BQL, as for QEMU's other DOE users.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/pci/pcie_doe.h"
#include "hw/pci/pci_ids.h"
#include "hw/pci/pcie_regs.h"
#include "system/spdm-socket.h"
#include "nvme.h"
#include "trace.h"

#define NVME_SPDM_DOE_OFFSET    0x200

static bool nvme_spdm_doe_request(DOECap *doe)
{
    uint32_t dwords = pcie_doe_get_obj_len(pcie_doe_get_write_mbox_ptr(doe));
    uint32_t rsp_len;

    trace_nvme_spdm_doe_request(dwords);
    /* The DOE transport of spdm-socket carries the data object header too */
    rsp_len = spdm_socket_rsp(doe->spdm_socket,
                              SPDM_SOCKET_TRANSPORT_TYPE_PCI_DOE,
                              doe->write_mbox, dwords * 4, doe->read_mbox,
                              PCI_DOE_DW_SIZE_MAX * 4);
    trace_nvme_spdm_doe_response(rsp_len);
    if (!rsp_len) {
        /* No answer: pcie_doe.c discards the request, no Ready comes */
        return false;
    }
    /* Pad the last dword with zeroes, not an older response's bytes */
    memset((uint8_t *)doe->read_mbox + rsp_len, 0,
           ROUND_UP(rsp_len, 4) - rsp_len);
    doe->read_mbox_len = DIV_ROUND_UP(rsp_len, 4);
    return true;
}

static DOEProtocol nvme_spdm_doe_protocols[] = {
    { PCI_VENDOR_ID_PCI_SIG, PCI_SIG_DOE_CMA, nvme_spdm_doe_request },
    { PCI_VENDOR_ID_PCI_SIG, PCI_SIG_DOE_SECURED_CMA, nvme_spdm_doe_request },
    { }
};

bool nvme_spdm_init(NvmeCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    int sock;

    if (!n->params.spdm_port) {
        return true;
    }
    sock = spdm_socket_connect(n->params.spdm_port, errp);
    if (sock < 0) {
        error_prepend(errp, "nvme: no SPDM responder at localhost:%u "
                      "(spdm_port): ", n->params.spdm_port);
        return false;
    }
    /*
     * pcie_add_capability() links a capability after the first one at
     * 100h, but cannot place one elsewhere while 100h is empty: a null
     * capability (ID 0) there leads to the DOE.
     */
    if (!pci_get_long(pci->config + PCI_CONFIG_SPACE_SIZE)) {
        pci_set_long(pci->config + PCI_CONFIG_SPACE_SIZE,
                     PCI_EXT_CAP(0, 0, NVME_SPDM_DOE_OFFSET));
    }
    n->spdm_doe = g_new0(DOECap, 1);
    /* No DOE interrupt: MSI-X vector 0 belongs to the admin queue */
    pcie_doe_init(pci, n->spdm_doe, NVME_SPDM_DOE_OFFSET,
                  nvme_spdm_doe_protocols, false, 0);
    n->spdm_doe->spdm_socket = sock;
    return true;
}

bool nvme_spdm_config_read(NvmeCtrl *n, uint32_t addr, int size,
                           uint32_t *val)
{
    return n->spdm_doe && pcie_doe_read_config(n->spdm_doe, addr, size, val);
}

void nvme_spdm_config_write(NvmeCtrl *n, uint32_t addr, uint32_t val,
                            int size)
{
    DOECap *doe = n->spdm_doe;

    if (!doe) {
        return;
    }
    /* pcie_doe.c does not bound the write mailbox: drop what overflows */
    if (addr == NVME_SPDM_DOE_OFFSET + PCI_EXP_DOE_WR_DATA_MBOX &&
        size == 4 && doe->write_mbox_len >= PCI_DOE_DW_SIZE_MAX) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: DOE write mailbox overflow, dword dropped\n");
        trace_nvme_err_spdm_mbox_overflow(doe->write_mbox_len);
        return;
    }
    pcie_doe_write_config(doe, addr, val, size);
}

/* A PCI reset aborts whatever exchange is under way (DOE Abort) */
void nvme_spdm_reset(NvmeCtrl *n)
{
    if (n->spdm_doe) {
        pcie_doe_write_config(n->spdm_doe,
                              NVME_SPDM_DOE_OFFSET + PCI_EXP_DOE_CTRL,
                              R_PCI_DOE_CAP_CONTROL_DOE_ABORT_MASK, 4);
    }
}

void nvme_spdm_exit(NvmeCtrl *n)
{
    if (!n->spdm_doe) {
        return;
    }
    spdm_socket_close(n->spdm_doe->spdm_socket,
                      SPDM_SOCKET_TRANSPORT_TYPE_PCI_DOE);
    close(n->spdm_doe->spdm_socket);
    pcie_doe_fini(n->spdm_doe);         /* frees the DOECap too */
    n->spdm_doe = NULL;
}
