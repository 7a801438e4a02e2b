/*
 * libqos driver for the NVMe controller: a minimal host driver that
 * enables the controller, creates queues and submits commands by polling.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_NVME_H
#define LIBQOS_NVME_H

#include "qgraph.h"
#include "pci.h"
#include "qemu/bswap.h"
#include "block/nvme.h"

#define QNVME_MAX_QUEUES    8
#define QNVME_PAGE_SIZE     4096

typedef struct QNvmeQueue {
    uint64_t addr;          /* guest address of the ring */
    uint16_t size;          /* entries */
    uint16_t index;         /* SQ: tail we write; CQ: head we consume */
    uint8_t phase;          /* CQ only */
} QNvmeQueue;

typedef struct QNvme {
    QOSGraphObject obj;
    QPCIDevice dev;
    QPCIBar bar;
    QGuestAllocator *alloc;
    QNvmeQueue sq[QNVME_MAX_QUEUES];
    QNvmeQueue cq[QNVME_MAX_QUEUES];
    uint16_t next_cid;
} QNvme;

uint32_t qnvme_readl(QNvme *n, uint64_t off);
uint64_t qnvme_readq(QNvme *n, uint64_t off);
void qnvme_writel(QNvme *n, uint64_t off, uint32_t val);
void qnvme_writeq(QNvme *n, uint64_t off, uint64_t val);

/* Allocates and clears guest memory (page aligned). */
uint64_t qnvme_alloc(QNvme *n, size_t size);

/* Disables, programs the admin queue and enables; false if RDY never came. */
bool qnvme_enable(QNvme *n, uint16_t admin_entries, uint32_t css);
void qnvme_disable(QNvme *n);
/* Waits (bounded) for CSTS.RDY to equal ready. */
bool qnvme_wait_ready(QNvme *n, bool ready);

/* Places cmd on SQ qid (assigning a CID) and rings the doorbell. */
uint16_t qnvme_submit(QNvme *n, uint16_t qid, NvmeCmd *cmd);
/* Polls CQ qid for the next entry; false on timeout. Advances the head. */
bool qnvme_poll(QNvme *n, uint16_t qid, NvmeCqe *cqe);
/* Submits and waits; returns the status field (SC, SCT, M, DNR). */
uint16_t qnvme_cmd(QNvme *n, uint16_t qid, NvmeCmd *cmd, NvmeCqe *cqe);

/* Creates I/O CQ and SQ qid with entries slots (interrupts off). */
void qnvme_create_io_queue_pair(QNvme *n, uint16_t qid, uint16_t entries);
/* The same with the CQ's interrupts on, on MSI-X vector vector. */
/* Enables n with I/O queue pair 1 (16 entries) for the usual tests. */
void qnvme_start_with_io_queue(QNvme *n);

/*
 * What most tests work with: a started controller, two pages of guest
 * memory for data (buf, PRP1 and PRP2) and one more for lists or metadata.
 */
typedef struct QNvmeCtx {
    QNvme *n;
    QTestState *qts;
    uint64_t buf;
    uint64_t aux;
} QNvmeCtx;
QNvmeCtx qnvme_ctx_start(void *obj);
/* Another controller of the same test machine, at PCI slot (bus 0) */
QNvme *qnvme_open_slot(QNvme *like, int slot);
void qnvme_close(QNvme *n);
void qnvme_create_io_queue_pair_irq(QNvme *n, uint16_t qid, uint16_t entries,
                                    uint16_t vector);

/* Commands with a single-page (or PRP1+PRP2) buffer in guest memory. */
uint16_t qnvme_identify(QNvme *n, uint8_t cns, uint32_t nsid, uint8_t csi,
                        void *buf);
uint16_t qnvme_get_log(QNvme *n, uint8_t lid, uint32_t nsid, void *buf,
                       uint32_t len);

/* Read/Write-style I/O command on namespace nsid (nlb 1's based). */
uint16_t qnvme_rw(QNvme *n, uint16_t qid, uint8_t opcode, uint32_t nsid,
                  uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2);

/*
 * QOSGraphTestOptions.before helper: adds namespace 1 backed by a temporary
 * raw file of QNVME_TEST_IMAGE_SIZE bytes (512-byte blocks), deleted after
 * the test.
 */
#define QNVME_TEST_IMAGE_SIZE   (16 * 1024 * 1024)
#define QNVME_TEST_NLBAS        (QNVME_TEST_IMAGE_SIZE / 512)
void *qnvme_setup_one_namespace(GString *cmd_line, void *arg);
/* Creates a temporary raw image, deleted when the test ends. */
char *qnvme_tmp_image(size_t size);
/* Deletes dir (g_free()d) and the files in it when the test ends. */
void qnvme_remove_dir_at_end(char *dir);
/* A "kB" field of the QEMU process' /proc status (VmRSS, VmHWM, ...) */
uint64_t qnvme_qemu_status_kib(QTestState *qts, const char *field);
/* Starts another QEMU with args; asserts it exits 1 printing expect */
void qnvme_expect_start_failure(const char *args, const char *expect);

/*
 * A QEMU of the test's own: -M pc plus args, its controller at PCI slot
 * slot (bus 0) opened as vm->n. For tests that restart QEMU or need
 * their own command line (stderr redirection, for instance).
 */
typedef struct QNvmeVm {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QNvme like;
    QNvme *n;
} QNvmeVm;
void qnvme_vm_start(QNvmeVm *vm, int slot, const char *args);
void qnvme_vm_stop(QNvmeVm *vm);

/*
 * Get or Set Features (opcode) on the admin queue with CDW10 and CDW11;
 * the completion's Dword 0 in *dw0 unless NULL. Returns the status.
 */
uint16_t qnvme_features(QNvme *n, uint8_t opcode, uint32_t cdw10,
                        uint32_t cdw11, uint32_t *dw0);

#endif
