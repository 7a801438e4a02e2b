/*
 * NVMe device model: the PCIe controller.
 *
 * Owns the PCI function, the BAR0 registers and doorbells, controller
 * enable/reset/shutdown, the submission and completion queues, interrupts
 * and the dispatch of commands to the admin and I/O command set tables.
 *
 * Queue invariants: every request of an SQ is on exactly one of the SQ's
 * free list, its outstanding list (handed to a command handler) or its CQ's
 * list of finished requests waiting for a free CQ slot. Only the CQ
 * bottom half writes CQ entries.
 *
 * Threads: the admin queue, registers and interrupts belong to the main
 * loop (with the BQL). I/O queues run in n->ctx, an iothread's AioContext
 * when iothread= is set: their bottom halves, ioeventfds and timers live
 * there, doorbell values cross over with atomics, interrupts go back to
 * the main loop through a bottom half, and queues are torn down inside
 * n->ctx (aio_wait_bh_oneshot) once none of their commands is outstanding
 * (quiesce.c).
 *
 * Written from the NVM Express Base Specification 2.0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "qemu/main-loop.h"
#include "hw/qdev-properties.h"
#include "hw/hotplug.h"
#include "hw/qdev-properties-system.h"
#include "migration/vmstate.h"
#include "system/block-backend.h"
#include "system/system.h"
#include "nvme.h"
#include "trace.h"

#define NVME_REG_SIZE           0x1000
#define NVME_MSIX_BAR_ALIGN     (4 * KiB)
#define NVME_DB_STRIDE          8           /* CAP.DSTRD = 0: 4 bytes each */
#define NVME_MAX_IOQPAIRS       0xfffe
#define NVME_DEFAULT_MAX_IOQPAIRS   64

static void nvme_process_sq(void *opaque);
static void nvme_post_cqes(void *opaque);
static void nvme_ctrl_drain_namespaces(NvmeCtrl *n);

/* Registers (Base 3.1.4), kept as little-endian bytes in an NvmeBar image */

static inline void nvme_reg_set32(NvmeBar *bar, hwaddr off, uint32_t val)
{
    stl_le_p((uint8_t *)bar + off, val);
}

static inline void nvme_reg_set64(NvmeBar *bar, hwaddr off, uint64_t val)
{
    stq_le_p((uint8_t *)bar + off, val);
}

bool nvme_ctrl_has_io_queues(NvmeCtrl *n)
{
    return !n->admin_only;
}

bool nvme_ctrl_msix_enabled(NvmeCtrl *n)
{
    return msix_enabled(PCI_DEVICE(n));
}

static bool nvme_ctrl_ready(NvmeCtrl *n)
{
    return qatomic_read(&n->csts) & NVME_CSTS_RDY_BIT;
}

NvmeNamespace *nvme_ctrl_ns(NvmeCtrl *n, uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return n->namespaces[nsid];
}

/*
 * A namespace appeared, went away or changed its Identify data while the
 * host runs: note it in the Changed Namespace List and raise a Namespace
 * Attribute Changed event, so the host rescans.
 */
void nvme_ctrl_ns_changed(NvmeCtrl *n, uint32_t nsid)
{
    if (!nvme_ctrl_ready(n)) {
        return;
    }
    for (uint32_t i = 0; i < MIN(n->nr_changed_nsids, NVME_CHANGED_NSID_MAX);
         i++) {
        if (n->changed_nsids[i] == nsid) {
            return;
        }
    }
    if (n->nr_changed_nsids < NVME_CHANGED_NSID_MAX) {
        n->changed_nsids[n->nr_changed_nsids] = nsid;
    }
    n->nr_changed_nsids = MIN(n->nr_changed_nsids + 1,
                              NVME_CHANGED_NSID_MAX + 1);
    trace_nvme_ns_changed(n->cntlid, nsid);
    nvme_enqueue_event(n, NVME_AER_TYPE_NOTICE,
                       NVME_AER_NOTICE_NS_ATTR_CHANGED,
                       NVME_LOG_CHANGED_NSLIST);
}

/* Interrupts: MSI-X per vector, or INTx level from all CQs on vector 0 */

static void nvme_irq_update_intx(NvmeCtrl *n)
{
    bool level = false;

    for (uint32_t i = 0; i < n->num_queues; i++) {
        NvmeCQueue *cq = n->cq[i];

        if (cq && cq->irq_enabled && cq->head != cq->tail) {
            level = true;
            break;
        }
    }
    if (n->intms & 1) {
        level = false;
    }
    pci_set_irq(PCI_DEVICE(n), level);
}

static void nvme_irq_notify(NvmeCtrl *n, NvmeCQueue *cq)
{
    if (!cq->irq_enabled) {
        return;
    }
    if (nvme_ctrl_msix_enabled(n)) {
        trace_nvme_irq_msix(cq->vector);
        /* The host chooses the message address: it may be our BAR. */
        nvme_dma_enter();
        msix_notify(PCI_DEVICE(n), cq->vector);
        nvme_dma_exit();
    } else {
        trace_nvme_irq_pin();
        nvme_irq_update_intx(n);
    }
}

/*
 * Interrupt Coalescing (Base 5.27.1.9): an I/O CQ's interrupt waits until
 * THR + 1 entries were posted or TIME * 100 us passed, unless its vector
 * has coalescing disabled. The admin CQ and INTx are never coalesced.
 */
/* Interrupts are raised in the main loop; I/O queues may run elsewhere. */
static void nvme_cq_raise_irq(NvmeCtrl *n, NvmeCQueue *cq)
{
    if (!cq->irq_enabled) {
        return;
    }
    if (n->ctx == qemu_get_aio_context() || cq->cqid == 0) {
        nvme_irq_notify(n, cq);
    } else {
        qemu_bh_schedule(cq->irq_bh);
    }
}

static void nvme_cq_irq_bh(void *opaque)
{
    NvmeCQueue *cq = opaque;

    nvme_irq_notify(cq->ctrl, cq);
}

static void nvme_cq_coalesce_expired(void *opaque)
{
    NvmeCQueue *cq = opaque;

    if (cq->coalesced) {
        cq->coalesced = 0;
        nvme_cq_raise_irq(cq->ctrl, cq);
    }
}

static void nvme_cq_interrupt(NvmeCtrl *n, NvmeCQueue *cq, uint32_t posted)
{
    uint32_t cfg = n->features.int_coalescing;
    uint32_t threshold = (cfg & 0xff) + 1;
    uint32_t time_us = ((cfg >> 8) & 0xff) * 100;

    if (cq->cqid == 0 || !cq->irq_enabled || !(cfg & 0xffff) ||
        !nvme_ctrl_msix_enabled(n) || test_bit(cq->vector, n->no_coalescing)) {
        nvme_cq_raise_irq(n, cq);
        return;
    }
    cq->coalesced += posted;
    if (cq->coalesced >= threshold || !time_us) {
        cq->coalesced = 0;
        timer_del(cq->coalesce_timer);
        nvme_cq_raise_irq(n, cq);
    } else if (!timer_pending(cq->coalesce_timer)) {
        timer_mod(cq->coalesce_timer,
                  qemu_clock_get_us(QEMU_CLOCK_VIRTUAL) + time_us);
    }
}

/*
 * Shadow doorbells (Base 5.8, Doorbell Buffer Config): the host keeps each
 * I/O queue's tail/head in the shadow buffer and rings the MMIO doorbell
 * only when the value passes the EventIdx the controller last published.
 * The admin queue keeps using its MMIO doorbells.
 */
/* Reads a shadow doorbell; false without one or on a DMA error. */
static bool nvme_shadow_read(NvmeCtrl *n, uint64_t addr, uint32_t *value)
{
    uint32_t le;

    if (!addr || nvme_dma_rw(n->dma_as, addr, &le, sizeof(le),
                             DMA_DIRECTION_TO_DEVICE)) {
        return false;
    }
    *value = le32_to_cpu(le);
    return true;
}

static void nvme_sq_refresh_tail(NvmeSQueue *sq)
{
    uint32_t tail;

    if (!nvme_shadow_read(sq->ctrl, sq->db_addr, &tail)) {
        return;
    }
    if (tail >= sq->size) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: shadow SQ %u tail %u beyond "
                      "size %u\n", sq->sqid, tail, sq->size);
        return;
    }
    qatomic_set(&sq->tail, tail);
}

/* Publishes the tail seen, then returns whether more arrived meanwhile. */
static bool nvme_sq_publish_event(NvmeSQueue *sq)
{
    uint32_t ei = cpu_to_le32(sq->tail);
    uint32_t seen = sq->tail;

    if (!sq->ei_addr) {
        return false;
    }
    nvme_dma_rw(sq->ctrl->dma_as, sq->ei_addr, &ei, 4,
                DMA_DIRECTION_FROM_DEVICE);
    /* The EventIdx must be visible before the shadow tail is read again. */
    smp_mb();
    nvme_sq_refresh_tail(sq);
    return sq->tail != seen;
}

static void nvme_cq_refresh_head(NvmeCQueue *cq)
{
    uint32_t head;

    if (nvme_shadow_read(cq->ctrl, cq->db_addr, &head) && head < cq->size) {
        qatomic_set(&cq->head, head);
    }
}

static void nvme_sq_notifier_cb(EventNotifier *e)
{
    NvmeSQueue *sq = container_of(e, NvmeSQueue, notifier);

    if (event_notifier_test_and_clear(e)) {
        nvme_process_sq(sq);
    }
}

/*
 * In the main loop the handler goes on the iohandler context, which nested
 * aio_poll() (a drain, say) does not dispatch; an iothread has its own.
 */
static void nvme_sq_set_notifier_handler(NvmeCtrl *n, NvmeSQueue *sq,
                                         EventNotifierHandler *handler)
{
    if (n->ctx == qemu_get_aio_context()) {
        event_notifier_set_handler(&sq->notifier, handler);
    } else {
        aio_set_event_notifier(n->ctx, &sq->notifier, handler, NULL, NULL);
    }
}

/*
 * With shadow doorbells the MMIO value carries nothing the shadow does not,
 * so SQ tail doorbells can become ioeventfds: the vCPU does not wait for
 * the device.
 */
static void nvme_sq_ioeventfd_start(NvmeCtrl *n, NvmeSQueue *sq)
{
    hwaddr db = NVME_REG_SIZE + (hwaddr)sq->sqid * NVME_DB_STRIDE;

    if (!n->params.ioeventfd || sq->ioeventfd ||
        event_notifier_init(&sq->notifier, 0)) {
        return;
    }
    nvme_sq_set_notifier_handler(n, sq, nvme_sq_notifier_cb);
    memory_region_add_eventfd(&n->iomem, db, 4, false, 0, &sq->notifier);
    sq->ioeventfd = true;
}

static void nvme_sq_ioeventfd_stop(NvmeCtrl *n, NvmeSQueue *sq)
{
    hwaddr db = NVME_REG_SIZE + (hwaddr)sq->sqid * NVME_DB_STRIDE;

    if (!sq->ioeventfd) {
        return;
    }
    memory_region_del_eventfd(&n->iomem, db, 4, false, 0, &sq->notifier);
    nvme_sq_set_notifier_handler(n, sq, NULL);
    event_notifier_cleanup(&sq->notifier);
    sq->ioeventfd = false;
}

/* Gives I/O queue pair members qid their shadow doorbell and EventIdx. */
void nvme_dbbuf_attach(NvmeCtrl *n, uint16_t qid)
{
    uint64_t off = (uint64_t)qid * NVME_DB_STRIDE;

    if (!n->dbbuf_dbs || qid == 0) {
        return;
    }
    if (n->sq[qid] && !n->sq[qid]->db_addr) {
        NvmeSQueue *sq = n->sq[qid];

        sq->db_addr = n->dbbuf_dbs + off;
        sq->ei_addr = n->dbbuf_eis + off;
        nvme_sq_publish_event(sq);
        nvme_sq_ioeventfd_start(n, sq);
    }
    if (n->cq[qid] && !n->cq[qid]->db_addr) {
        n->cq[qid]->db_addr = n->dbbuf_dbs + off + 4;
        n->cq[qid]->ei_addr = n->dbbuf_eis + off + 4;
    }
}

/* Queue lifecycle */

/* The admin queue stays in the main loop; I/O queues run in n->ctx. */
static AioContext *nvme_queue_context(NvmeCtrl *n, uint16_t qid)
{
    return qid ? n->ctx : qemu_get_aio_context();
}

/*
 * The re-entrancy guard protects against a bottom half's DMA reaching our
 * own registers in the same thread. In an iothread it would instead turn
 * away the vCPUs' concurrent register writes, so it is only used for
 * bottom halves in the main loop.
 */
static QEMUBH *nvme_queue_bh_new(NvmeCtrl *n, uint16_t qid, QEMUBHFunc *cb,
                                 void *opaque)
{
    AioContext *ctx = nvme_queue_context(n, qid);

    if (ctx == qemu_get_aio_context()) {
        return aio_bh_new_guarded(ctx, cb, opaque,
                                  &DEVICE(n)->mem_reentrancy_guard);
    }
    return aio_bh_new(ctx, cb, opaque);
}

static void nvme_req_init(NvmeCtrl *n, NvmeRequest *req, NvmeSQueue *sq)
{
    req->sq = sq;
    /* The controller address space: it holds the CMB (cmb.c) */
    qemu_sglist_init(&req->sg, DEVICE(n), 4, n->dma_as);
    nvme_io_init(&req->io);
}

/*
 * Requests come in chunks, allocated as the commands in flight on the SQ
 * outgrow the free ones: a guest that creates many large queues costs the
 * memory of what it keeps in flight, within NVME_MAX_REQUESTS per
 * controller beyond each queue's first chunk. A queue that cannot grow
 * stops fetching until its own requests complete.
 */
#define NVME_SQ_CHUNK           32
#define NVME_MAX_REQUESTS       65536

static bool nvme_sq_grow(NvmeSQueue *sq)
{
    NvmeCtrl *n = sq->ctrl;
    uint32_t have = sq->nr_chunks * NVME_SQ_CHUNK;
    NvmeRequest *chunk;

    if (have >= sq->size) {
        return false;
    }
    /* A queue's first chunk is its own: no queue waits forever */
    if (qatomic_fetch_add(&n->nr_requests, NVME_SQ_CHUNK) + NVME_SQ_CHUNK >
        NVME_MAX_REQUESTS && sq->nr_chunks) {
        qatomic_sub(&n->nr_requests, NVME_SQ_CHUNK);
        trace_nvme_sq_grow_refused(sq->sqid, have);
        return false;
    }
    chunk = g_try_new0(NvmeRequest, NVME_SQ_CHUNK);
    if (!chunk) {
        qatomic_sub(&n->nr_requests, NVME_SQ_CHUNK);
        trace_nvme_sq_grow_refused(sq->sqid, have);
        return false;
    }
    sq->chunks[sq->nr_chunks++] = chunk;
    for (uint32_t i = 0; i < NVME_SQ_CHUNK; i++) {
        nvme_req_init(n, &chunk[i], sq);
        QTAILQ_INSERT_TAIL(&sq->req_list, &chunk[i], entry);
    }
    return true;
}

uint16_t nvme_sq_create(NvmeCtrl *n, uint16_t sqid, uint16_t cqid,
                        uint64_t dma_addr, uint32_t size)
{
    NvmeSQueue *sq = g_new(NvmeSQueue, 1);
    NvmeCQueue *cq = n->cq[cqid];

    *sq = (NvmeSQueue) {
        .ctrl = n, .sqid = sqid, .cqid = cqid, .size = size,
        .dma_addr = dma_addr,
        .chunks = g_new0(NvmeRequest *, DIV_ROUND_UP(size, NVME_SQ_CHUNK)),
    };
    QTAILQ_INIT(&sq->req_list);
    QTAILQ_INIT(&sq->out_req_list);
    sq->bh = nvme_queue_bh_new(n, sqid, nvme_process_sq, sq);
    QTAILQ_INSERT_TAIL(&cq->sq_list, sq, entry);
    n->sq[sqid] = sq;
    trace_nvme_sq_create(sqid, cqid, size);
    return NVME_SC_SUCCESS;
}

uint16_t nvme_cq_create(NvmeCtrl *n, uint16_t cqid, uint64_t dma_addr,
                        uint32_t size, uint16_t vector, bool irq_enabled)
{
    NvmeCQueue *cq = g_new(NvmeCQueue, 1);

    /* The phase tag of the first pass through the queue is 1. */
    *cq = (NvmeCQueue) {
        .ctrl = n, .cqid = cqid, .size = size, .dma_addr = dma_addr,
        .phase = 1, .vector = vector, .irq_enabled = irq_enabled,
    };
    QTAILQ_INIT(&cq->sq_list);
    QTAILQ_INIT(&cq->req_list);
    cq->bh = nvme_queue_bh_new(n, cqid, nvme_post_cqes, cq);
    cq->coalesce_timer = aio_timer_new(nvme_queue_context(n, cqid),
                                       QEMU_CLOCK_VIRTUAL, SCALE_US,
                                       nvme_cq_coalesce_expired, cq);
    cq->irq_bh = qemu_bh_new_guarded(nvme_cq_irq_bh, cq,
                                     &DEVICE(n)->mem_reentrancy_guard);
    if (irq_enabled && nvme_ctrl_msix_enabled(n)) {
        msix_vector_use(PCI_DEVICE(n), vector);
    }
    n->cq[cqid] = cq;
    trace_nvme_cq_create(cqid, size, vector, irq_enabled);
    return NVME_SC_SUCCESS;
}

/* Runs fn in the context of queue qid and waits for it. */
void nvme_run_in_queue_context(NvmeCtrl *n, uint16_t qid,
                               void (*fn)(void *), void *opaque)
{
    AioContext *ctx = nvme_queue_context(n, qid);

    if (ctx == qemu_get_aio_context()) {
        fn(opaque);
    } else {
        nvme_wait_begin();
        aio_wait_bh_oneshot(ctx, fn, opaque);
        nvme_wait_end();
    }
}

void nvme_nop(void *opaque)
{
}

/*
 * Frees an SQ inside its context, where none of its bottom halves can be
 * running. No counted request of it is outstanding (nvme_sq_wait_idle);
 * what completed meanwhile may have been posted, the rest goes.
 */
static void nvme_sq_free_in_context(void *opaque)
{
    NvmeSQueue *sq = opaque;
    NvmeCtrl *n = sq->ctrl;
    NvmeCQueue *cq = n->cq[sq->cqid];
    NvmeRequest *req, *next;

    if (sq->runner) {
        /* Idle between rounds; with sq->deleting set it returns for good. */
        qemu_coroutine_enter(sq->runner);
        sq->runner = NULL;
    }
    QTAILQ_FOREACH_SAFE(req, &sq->out_req_list, entry, next) {
        QTAILQ_REMOVE(&sq->out_req_list, req, entry);
    }
    QTAILQ_FOREACH_SAFE(req, &cq->req_list, entry, next) {
        if (req->sq == sq) {
            QTAILQ_REMOVE(&cq->req_list, req, entry);
        }
    }
    QTAILQ_REMOVE(&cq->sq_list, sq, entry);
    qemu_bh_delete(sq->bh);
    for (uint32_t c = 0; c < sq->nr_chunks; c++) {
        for (uint32_t i = 0; i < NVME_SQ_CHUNK; i++) {
            qemu_sglist_destroy(&sq->chunks[c][i].sg);
            nvme_io_cleanup(&sq->chunks[c][i].io);
        }
        g_free(sq->chunks[c]);
    }
    qatomic_sub(&n->nr_requests, sq->nr_chunks * NVME_SQ_CHUNK);
    n->sq[sq->sqid] = NULL;
    g_free(sq->chunks);
    g_free(sq);
}

void nvme_sq_free(NvmeCtrl *n, NvmeSQueue *sq)
{
    /* Stop fetching commands, and wait for a run already under way. */
    qatomic_set(&sq->deleting, true);
    nvme_run_in_queue_context(n, sq->sqid, nvme_nop, NULL);
    nvme_sq_ioeventfd_stop(n, sq);
    /* Every step of every command it fetched, then the block layer */
    nvme_sq_wait_idle(sq);
    nvme_ctrl_drain_namespaces(n);
    /* Main-loop code (nvme_backends_resume) must not find it meanwhile */
    n->sq[sq->sqid] = NULL;
    nvme_run_in_queue_context(n, sq->sqid, nvme_sq_free_in_context, sq);
}

static void nvme_cq_free_in_context(void *opaque)
{
    NvmeCQueue *cq = opaque;

    qemu_bh_delete(cq->bh);
    timer_free(cq->coalesce_timer);
}

void nvme_cq_free(NvmeCtrl *n, NvmeCQueue *cq)
{
    nvme_run_in_queue_context(n, cq->cqid, nvme_cq_free_in_context, cq);
    qemu_bh_delete(cq->irq_bh);
    if (cq->irq_enabled && nvme_ctrl_msix_enabled(n)) {
        msix_vector_unuse(PCI_DEVICE(n), cq->vector);
    }
    n->cq[cq->cqid] = NULL;
    g_free(cq);
}

/* Completion path */

static bool nvme_cq_full(NvmeCQueue *cq)
{
    if ((cq->tail + 1) % cq->size == cq->head) {
        /* The host may have consumed entries without ringing. */
        nvme_cq_refresh_head(cq);
    }
    return (cq->tail + 1) % cq->size == cq->head;
}

static void nvme_set_fatal(NvmeCtrl *n, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: controller fatal status: %s\n", why);
    trace_nvme_err_cfs(why);
    n->csts |= NVME_CSTS_CFS_BIT;
}

/*
 * CQEs are written so that the phase tag becomes visible last: the host may
 * poll it. A round maps the ring once when it is plain RAM; anything else
 * goes through the DMA API an entry at a time.
 */
typedef struct NvmeCqWriter {
    MemoryRegionCache cache;
    bool direct;
    uint32_t first;         /* entry the round started at */
} NvmeCqWriter;

static void nvme_cq_writer_begin(NvmeCqWriter *w, NvmeCtrl *n,
                                 NvmeCQueue *cq)
{
    hwaddr ring = (hwaddr)cq->size * sizeof(NvmeCqe);

    w->first = cq->tail;
    w->direct = address_space_cache_init(&w->cache, n->dma_as, cq->dma_addr,
                                         ring, true) == ring && w->cache.ptr;
}

static bool nvme_cq_write_entry(NvmeCtrl *n, NvmeCQueue *cq, NvmeCqWriter *w,
                                NvmeCqe *cqe)
{
    hwaddr off = (hwaddr)cq->tail * sizeof(NvmeCqe);

    if (w->direct) {
        address_space_write_cached(&w->cache, off, cqe, 12);
        smp_wmb();      /* the rest of the entry before its phase tag */
        address_space_write_cached(&w->cache, off + 12, (uint8_t *)cqe + 12,
                                   4);
        return true;
    }
    if (nvme_dma_rw(n->dma_as, cq->dma_addr + off, cqe, 12,
                    DMA_DIRECTION_FROM_DEVICE)) {
        return false;
    }
    smp_wmb();          /* the rest of the entry before its phase tag */
    return !nvme_dma_rw(n->dma_as, cq->dma_addr + off + 12,
                        (uint8_t *)cqe + 12, 4, DMA_DIRECTION_FROM_DEVICE);
}

/* Marks what the round wrote through the mapping dirty, and unmaps. */
static void nvme_cq_writer_end(NvmeCqWriter *w, NvmeCQueue *cq,
                               uint32_t posted)
{
    if (w->direct && posted) {
        uint32_t first = w->first;

        if (posted >= cq->size) {
            first = 0;
            posted = cq->size;
        } else if (first + posted > cq->size) {
            address_space_cache_invalidate(&w->cache, 0,
                (hwaddr)(first + posted - cq->size) * sizeof(NvmeCqe));
            posted = cq->size - first;
        }
        address_space_cache_invalidate(&w->cache,
                                       (hwaddr)first * sizeof(NvmeCqe),
                                       (hwaddr)posted * sizeof(NvmeCqe));
    }
    address_space_cache_destroy(&w->cache);
}

static void nvme_post_cqes(void *opaque)
{
    NvmeCQueue *cq = opaque;
    NvmeCtrl *n = cq->ctrl;
    NvmeRequest *req, *next;
    NvmeCqWriter writer;
    uint32_t posted = 0;

    if (!nvme_ctrl_ready(n) || QTAILQ_EMPTY(&cq->req_list)) {
        /* Being reset: what completes now is dropped with its queue. */
        return;
    }

    nvme_cq_writer_begin(&writer, n, cq);
    QTAILQ_FOREACH_SAFE(req, &cq->req_list, entry, next) {
        NvmeSQueue *sq = req->sq;
        NvmeCqe *cqe = &req->cqe;

        if (nvme_cq_full(cq)) {
            break;
        }
        cqe->sq_head = cpu_to_le16(sq->head);
        cqe->sq_id = cpu_to_le16(sq->sqid);
        cqe->cid = req->cmd.cid;
        cqe->status = cpu_to_le16((req->status << 1) | cq->phase);
        if (!nvme_cq_write_entry(n, cq, &writer, cqe)) {
            nvme_set_fatal(n, "completion queue write failed");
            break;
        }
        trace_nvme_cqe(cq->cqid, sq->sqid, le16_to_cpu(req->cmd.cid),
                       req->status);
        cq->tail++;
        if (cq->tail == cq->size) {
            cq->tail = 0;
            cq->phase ^= 1;
        }
        QTAILQ_REMOVE(&cq->req_list, req, entry);
        QTAILQ_INSERT_TAIL(&sq->req_list, req, entry);
        posted++;
    }
    nvme_cq_writer_end(&writer, cq, posted);
    if (posted) {
        NvmeSQueue *sq;

        nvme_cq_interrupt(n, cq, posted);
        /* Requests went back to their SQs: resume queues that stalled. */
        QTAILQ_FOREACH(sq, &cq->sq_list, entry) {
            if (sq->head != sq->tail) {
                qemu_bh_schedule(sq->bh);
            }
        }
    }
}

/* Power cycle of a controller outside a subsystem (QMP nvme-power-cycle) */
void nvme_ctrl_power_cycle(NvmeCtrl *n)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (n->namespaces[nsid]) {
            nvme_wp_power_cycle(n->namespaces[nsid], NULL, n);
        }
    }
    nvme_ctrl_nssr(n);
}

/* A guest error in a command: logged, traced, and answered with DNR. */
uint16_t nvme_cmd_error(NvmeRequest *req, uint16_t status, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: opcode 0x%x (sq %u): %s\n",
                  req->cmd.opcode, req->sq->sqid, why);
    trace_nvme_err_cmd(req->sq->sqid, req->cmd.opcode, status, why);
    return status | NVME_SC_DNR;
}

/* Error Information log (Base 5.16.1.2): the last entries, by count. */
static void nvme_record_error(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeErrorLog *e;
    bool is_io = req->sq->sqid != 0;

    n->error_count++;
    e = &n->error_log[n->error_count % NVME_ERROR_LOG_ENTRIES];
    *e = (NvmeErrorLog) {
        .error_count = cpu_to_le64(n->error_count),
        .sqid = cpu_to_le16(req->sq->sqid),
        .cid = req->cmd.cid,
        .status_field = cpu_to_le16(req->status << 1),
        .param_error_location = cpu_to_le16(0xffff),
        .nsid = is_io ? req->cmd.nsid : 0,
    };
    if (is_io) {
        e->lba = cpu_to_le64(((uint64_t)le32_to_cpu(req->cmd.cdw11) << 32) |
                             le32_to_cpu(req->cmd.cdw10));
    }
}

static void nvme_req_complete_bh(void *opaque)
{
    nvme_req_complete(opaque);
}

void nvme_req_complete(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;
    NvmeCQueue *cq = sq->ctrl->cq[sq->cqid];
    AioContext *ctx = nvme_queue_context(sq->ctrl, sq->sqid);

    /* I/O queues complete in n->ctx, where their namespaces' requests do. */
    if (!sq->sqid && qemu_get_current_aio_context() != ctx) {
        /* An admin command's block request completed in the iothread. */
        aio_bh_schedule_oneshot(ctx, nvme_req_complete_bh, req);
        return;
    }

    if (unlikely(req->atomic.ns)) {
        nvme_atomic_leave(req);
    }
    if (req->abort_status) {
        req->status = req->abort_status;
    }
    if (req->status != NVME_SC_SUCCESS) {
        nvme_record_error(sq->ctrl, req);
        trace_nvme_err_req_status(le16_to_cpu(req->cmd.cid), sq->sqid,
                                  req->cmd.opcode, req->status);
    }
    req->aiocb = NULL;
    QTAILQ_REMOVE(&sq->out_req_list, req, entry);
    QTAILQ_INSERT_TAIL(&cq->req_list, req, entry);
    if (!cq->rounds) {
        qemu_bh_schedule(cq->bh);
    }
    /* Last: a quiesce waiting for this may free the queue right after. */
    nvme_req_release(req);
}

AioContext *nvme_req_context(NvmeRequest *req)
{
    return nvme_queue_context(req->sq->ctrl, req->sq->sqid);
}

/* Submission path */

static uint16_t nvme_dispatch(NvmeCtrl *n, NvmeRequest *req)
{
    const NvmeOpcodeDesc *desc;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    if (NVME_CMD_FLAGS_FUSE(req->cmd.flags)) {
        /* Fused operations are not supported (FUSES = 0). */
        return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
    }
    if (req->sq->sqid == 0) {
        desc = &nvme_admin_opcodes[req->cmd.opcode];
        if (!nvme_opcode_supported(desc, n)) {
            trace_nvme_err_invalid_opcode(0, req->cmd.opcode);
            return NVME_SC_INVALID_OPCODE | NVME_SC_DNR;
        }
        return desc->handler(n, req);
    }

    req->ns = nvme_ctrl_ns(n, nsid);
    if (!req->ns) {
        trace_nvme_err_invalid_nsid(req->sq->sqid, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    if (unlikely(!nvme_ns_enter(req, req->ns))) {
        return NVME_NO_COMPLETE;    /* parked: its namespace is quiesced */
    }
    if (unlikely(qatomic_read(&n->namespaces[nsid]) != req->ns)) {
        /*
         * Detached between the look-up and nvme_ns_enter; still allocated:
         * nvme_ns_detach waits for this round before it may be freed.
         */
        trace_nvme_err_invalid_nsid(req->sq->sqid, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    if (unlikely(n->params.atomic_awun ||
                 qatomic_read(&req->ns->atomic_tracked)) &&
        !nvme_atomic_enter(n, req)) {
        return NVME_NO_COMPLETE;    /* waits for an overlapping atomic write */
    }
    return nvme_io_run(n, req);
}

/* An I/O command on its namespace: checked against its state, then run */
uint16_t nvme_io_run(NvmeCtrl *n, NvmeRequest *req)
{
    const NvmeOpcodeDesc *desc = nvme_io_opcode(req->ns->csi,
                                                req->cmd.opcode);

    if (!desc->handler) {
        trace_nvme_err_invalid_opcode(req->sq->sqid, req->cmd.opcode);
        return NVME_SC_INVALID_OPCODE | NVME_SC_DNR;
    }
    if (unlikely(req->ns->wp_state)) {
        uint16_t status = nvme_wp_check_io(req);

        if (status) {
            return status;
        }
    }
    if (unlikely(nvme_resv_reserved(req->ns->resv))) {
        uint16_t status = nvme_resv_check_io(n, req);

        if (status) {
            return status;
        }
    }
    if (unlikely(n->ana_state[req->ns->anagrpid] > NVME_ANA_NON_OPTIMIZED)) {
        uint16_t status = nvme_ana_check_io(n, req->ns);

        if (status) {
            trace_nvme_ana_refused(n->cntlid, req->ns->nsid, status);
            return status;
        }
    }
    return desc->handler(n, req);
}

/* A command parked on a quiesced namespace starts again, from dispatch. */
void nvme_req_redispatch(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeSQueue *sq = req->sq;
    NvmeCtrl *n = sq->ctrl;
    uint16_t status;

    if (qatomic_read(&sq->deleting) || !nvme_ctrl_ready(n)) {
        status = NVME_SC_ABORTED_SQ_DELETION;
    } else if (req->abort_status) {
        status = req->abort_status;     /* Abort reached it while parked */
    } else {
        req->ns = NULL;
        status = nvme_dispatch(n, req);
    }
    if (status != NVME_NO_COMPLETE) {
        req->status = status;
        nvme_req_complete(req);
    }
}

/*
 * Copies the entries from pos on (up to the tail or the end of the ring,
 * at most max) with one DMA read; returns how many, or -1 on a DMA error.
 */
int nvme_sq_read(NvmeSQueue *sq, uint32_t pos, NvmeCmd *batch, uint32_t max)
{
    uint32_t tail = qatomic_read(&sq->tail);
    uint32_t count = MIN((tail >= pos ? tail : sq->size) - pos, max);
    MemTxResult res;

    if (!count) {
        return 0;
    }
    res = nvme_dma_rw(sq->ctrl->dma_as,
                      sq->dma_addr + (hwaddr)pos * sizeof(NvmeCmd),
                      batch, count * sizeof(NvmeCmd), DMA_DIRECTION_TO_DEVICE);
    return res ? -1 : count;
}

static bool nvme_sq_may_fetch(NvmeSQueue *sq)
{
    NvmeCtrl *n = sq->ctrl;

    return nvme_ctrl_ready(n) && !(n->csts & NVME_CSTS_CFS_BIT) &&
           !qatomic_read(&sq->deleting) && !qatomic_read(&n->fetch_paused);
}

/*
 * One processing round of an SQ: fetch, dispatch, until the queue is empty
 * or its arbitration burst is used. For I/O queues the round runs in a
 * coroutine (self), so that reads and writes the backend finishes at once
 * cost no coroutine of their own (see nvme_io_rw). Should one of them
 * yield, nvme_process_sq hands the round to a new coroutine and the old one
 * only finishes its request: false tells it to stop.
 */
static bool nvme_sq_round(NvmeSQueue *sq, Coroutine *self)
{
    NvmeCtrl *n = sq->ctrl;
    NvmeCmd batch[NVME_SQ_BATCH];
    uint32_t fetched, used;
    NvmeRequest *req;
    uint16_t status;

again:
    fetched = used = 0;
    while (sq->burst_left && sq->head != qatomic_read(&sq->tail) &&
           nvme_sq_may_fetch(sq) &&
           (!QTAILQ_EMPTY(&sq->req_list) || nvme_sq_grow(sq))) {
        if (used == fetched) {
            int count = nvme_sq_read(sq, sq->head, batch,
                                     MIN(sq->burst_left, NVME_SQ_BATCH));

            if (count <= 0) {
                /* 0: the host moved the tail back to the head meanwhile */
                if (count < 0) {
                    nvme_set_fatal(n, "submission queue read failed");
                }
                break;
            }
            fetched = count;
            used = 0;
        }
        req = QTAILQ_FIRST(&sq->req_list);
        req->cmd = batch[used++];
        sq->head = (sq->head + 1) % sq->size;
        sq->burst_left--;
        QTAILQ_REMOVE(&sq->req_list, req, entry);
        QTAILQ_INSERT_TAIL(&sq->out_req_list, req, entry);
        nvme_sq_count_fetched(sq, req);
        req->ns = NULL;
        req->aiocb = NULL;
        req->abort_status = 0;
        req->sg.nsg = 0;
        req->sg.size = 0;
        memset(&req->cqe, 0, sizeof(req->cqe));
        trace_nvme_sqe(sq->sqid, le16_to_cpu(req->cmd.cid), req->cmd.opcode,
                       le32_to_cpu(req->cmd.nsid));

        if (unlikely(sq->nr_abort_cids) &&
            nvme_abort_take_pending(sq, req->cmd.cid)) {
            req->abort_status = NVME_SC_ABORT_REQUESTED;
            nvme_req_complete(req);
            continue;
        }
        status = nvme_dispatch(n, req);
        if (self && sq->runner != self) {
            /* We yielded in the handler and the round went on without us. */
            return false;
        }
        if (status != NVME_NO_COMPLETE) {
            req->status = status;
            nvme_req_complete(req);
        }
    }
    if (!sq->burst_left && sq->head != sq->tail) {
        qemu_bh_schedule(sq->bh);
    } else if (nvme_sq_publish_event(sq) && nvme_sq_may_fetch(sq) &&
               !QTAILQ_EMPTY(&sq->req_list)) {
        /*
         * Entries came meanwhile. Not when the round stopped for another
         * reason: a shadow tail that changes at every read (a counter the
         * host pointed it at) would keep the round going for ever.
         */
        goto again;
    }
    return true;
}

/*
 * The runner of an I/O SQ lives as long as the queue: it does a round each
 * time nvme_process_sq enters it and waits for the next one, so rounds cost
 * no coroutine creation (nor the pool's allocations). A runner that yielded
 * inside a request is replaced, and ends once its request is done.
 */
static void coroutine_fn nvme_sq_round_co(void *opaque)
{
    NvmeSQueue *sq = opaque;
    Coroutine *self = qemu_coroutine_self();

    while (nvme_sq_round(sq, self)) {
        sq->round_done = true;
        qemu_coroutine_yield();
        if (qatomic_read(&sq->deleting)) {
            break;      /* nvme_sq_free_in_context lets it end */
        }
    }
}

static void nvme_process_sq(void *opaque)
{
    NvmeSQueue *sq = opaque;
    NvmeCtrl *n = sq->ctrl;
    NvmeCQueue *cq = n->cq[sq->cqid];
    uint32_t ab = n->features.arbitration & NVME_ARB_BURST_UNLIMITED;

    /*
     * A handler that waits for another context (aio_wait_bh_oneshot) may
     * run bottom halves, this one included: the round under way sees any
     * new entries itself.
     */
    if (qatomic_read(&sq->deleting) || sq->in_round ||
        !nvme_queue_may_run(sq->sqid)) {
        return;
    }
    /* Round robin: at most 2^AB commands, then the other queues' turn. */
    sq->burst_left = ab == NVME_ARB_BURST_UNLIMITED ? UINT32_MAX : 1u << ab;
    nvme_sq_refresh_tail(sq);
    /* What completes meanwhile is posted below, not from cq->bh. */
    sq->in_round = true;
    cq->rounds++;
    if (!sq->sqid) {
        nvme_sq_round(sq, NULL);
    } else {
        for (;;) {
            if (!sq->runner) {
                sq->runner = qemu_coroutine_create(nvme_sq_round_co, sq);
            }
            sq->round_done = false;
            qemu_coroutine_enter(sq->runner);
            if (sq->round_done) {
                break;
            }
            /* It yielded in a handler and now belongs to that request. */
            sq->runner = NULL;
        }
    }
    cq->rounds--;
    sq->in_round = false;
    /* Completions and the interrupt of this round go out together, now. */
    if (!QTAILQ_EMPTY(&cq->req_list)) {
        qemu_bh_cancel(cq->bh);
        nvme_post_cqes(cq);
    }
}

/* Doorbells (Base 3.1.4.x, Submission/Completion Queue y Doorbell) */

static void nvme_doorbell_error(NvmeCtrl *n, uint8_t info, uint32_t qid,
                                bool is_cq, uint32_t value)
{
    qemu_log_mask(LOG_GUEST_ERROR,
                  "nvme: invalid %s doorbell write: queue %u, value %u\n",
                  is_cq ? "CQ head" : "SQ tail", qid, value);
    trace_nvme_err_doorbell(qid, is_cq, value);
    nvme_enqueue_event(n, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR_INFO);
}

static void nvme_doorbell_write(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    uint32_t index = (offset - NVME_REG_SIZE) >> 2;
    uint32_t qid = index >> 1;
    bool is_cq = index & 1;

    if (!nvme_ctrl_ready(n) || (n->csts & NVME_CSTS_CFS_BIT)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: doorbell write while controller not ready\n");
        return;
    }
    if (qid >= n->num_queues || !(is_cq ? (void *)n->cq[qid]
                                        : (void *)n->sq[qid])) {
        nvme_doorbell_error(n, NVME_AER_ERR_INVALID_DB_REGISTER, qid,
                            is_cq, value);
        return;
    }
    if (is_cq) {
        NvmeCQueue *cq = n->cq[qid];

        if (value >= cq->size) {
            nvme_doorbell_error(n, NVME_AER_ERR_INVALID_DB_VALUE, qid,
                                true, value);
            return;
        }
        trace_nvme_db_cq(qid, value);
        qatomic_set(&cq->head, value);
        if (!QTAILQ_EMPTY(&cq->req_list)) {
            qemu_bh_schedule(cq->bh);
        }
        if (!nvme_ctrl_msix_enabled(n)) {
            nvme_irq_update_intx(n);
        }
    } else {
        NvmeSQueue *sq = n->sq[qid];

        if (value >= sq->size) {
            nvme_doorbell_error(n, NVME_AER_ERR_INVALID_DB_VALUE, qid,
                                false, value);
            return;
        }
        trace_nvme_db_sq(qid, value);
        qatomic_set(&sq->tail, value);
        qemu_bh_schedule(sq->bh);
    }
}

/* Controller enable, reset and shutdown (Base 3.5, 3.6, 3.7) */

static void nvme_ctrl_drain_namespaces(NvmeCtrl *n)
{
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->namespaces[i]) {
            nvme_ns_drain(n->namespaces[i]);
        }
    }
}

/* Controller Level Reset: queues deleted, nothing posted afterwards. */
void nvme_ctrl_reset(NvmeCtrl *n)
{
    /* Not ready first: the waits run bottom halves that would post. */
    qatomic_and(&n->csts, ~NVME_CSTS_RDY_BIT);
    /*
     * Waiting AERs go before anything can run: an event delivered during
     * the waits below (a reservation notice, say) must not complete a
     * request whose queue is about to be freed.
     */
    memset(n->aer_reqs, 0, (n->params.aerl + 1) * sizeof(*n->aer_reqs));
    n->outstanding_aers = 0;
    nvme_ctrl_quiesce_begin(n);
    nvme_ctrl_drain_namespaces(n);
    for (int i = n->num_queues - 1; i >= 0; i--) {
        if (n->sq[i]) {
            nvme_sq_free(n, n->sq[i]);
        }
    }
    for (int i = n->num_queues - 1; i >= 0; i--) {
        if (n->cq[i]) {
            nvme_cq_free(n, n->cq[i]);
        }
    }
    qatomic_set(&n->fetch_paused, false);
    n->pending_event_count = 0;
    n->aer_mask = 0;
    n->nr_sq_granted = 0;
    n->nr_cq_granted = 0;
    n->kato = 0;
    n->dbbuf_dbs = 0;
    n->dbbuf_eis = 0;
    bitmap_zero(n->no_coalescing, n->params.msix_qsize);
    n->features = (NvmeFeatures) {
        .vwc = n->features.vwc,
        .temp_thresh_hi = 0x157,    /* 343 K */
        .arbitration = NVME_ARB_BURST_UNLIMITED,
        .write_atomicity = n->params.atomic_dn,
    };
    n->intms = 0;
    nvme_fw_reset(n);
    nvme_sriov_reset(n);
    n->csts &= ~(NVME_CSTS_RDY_BIT | NVME_CSTS_CFS_BIT);
    if (!nvme_ctrl_msix_enabled(n)) {
        pci_set_irq(PCI_DEVICE(n), 0);
    }
}

static void nvme_ctrl_shutdown(NvmeCtrl *n)
{
    /* Every command under way completes before the data is flushed. */
    nvme_ctrl_quiesce_begin(n);
    nvme_ctrl_drain_namespaces(n);
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->namespaces[i]) {
            nvme_ns_flush(n->namespaces[i]);
            nvme_zns_shutdown(n->namespaces[i]);
        }
    }
    nvme_ctrl_quiesce_end(n);
}

static bool nvme_ctrl_css_ok(NvmeCtrl *n, uint32_t css)
{
    switch (css) {
    case NVME_CC_CSS_NVM:
        return NVME_CAP_CSS(n->cap) & NVME_CAP_CSS_NVM;
    case NVME_CC_CSS_ALL:
        return NVME_CAP_CSS(n->cap) & NVME_CAP_CSS_IOCS;
    case NVME_CC_CSS_ADMIN_ONLY:
        return NVME_CAP_CSS(n->cap) & NVME_CAP_CSS_ADMIN_ONLY;
    default:
        return false;
    }
}

static bool nvme_ctrl_start(NvmeCtrl *n)
{
    uint32_t mps = NVME_CC_MPS(n->cc);
    uint32_t asqs = NVME_AQA_ASQS(n->aqa) + 1;
    uint32_t acqs = NVME_AQA_ACQS(n->aqa) + 1;
    const char *why = NULL;

    if (!nvme_sriov_start(n)) {
        /* A secondary controller offline or without resources */
        why = "secondary controller offline or without VQ or VI resources";
        n->csts |= NVME_CSTS_CFS_BIT;
    } else if (mps < NVME_CAP_MPSMIN(n->cap) || mps > NVME_CAP_MPSMAX(n->cap)) {
        why = "CC.MPS outside CAP.MPSMIN..MPSMAX";
    } else if (!nvme_ctrl_css_ok(n, NVME_CC_CSS(n->cc))) {
        why = "unsupported CC.CSS";
    } else if (NVME_CC_AMS(n->cc) != 0) {
        why = "unsupported CC.AMS";
    } else if (asqs < 2 || acqs < 2) {
        why = "admin queue sizes in AQA are too small";
    } else if (!n->asq || !n->acq) {
        why = "ASQ or ACQ is zero";
    } else if ((n->asq | n->acq) & ((4096ULL << mps) - 1)) {
        why = "ASQ or ACQ is not aligned to the memory page size";
    } else if (nvme_cmb_check_queue(n, n->asq, asqs * sizeof(NvmeCmd)) ||
               nvme_cmb_check_queue(n, n->acq, acqs * sizeof(NvmeCqe))) {
        why = "admin queue across the CMB's end or in it while it is off";
    }
    if (why) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: cannot enable: %s\n", why);
        trace_nvme_err_start(why);
        return false;
    }

    n->page_bits = 12 + mps;
    n->page_size = 1u << n->page_bits;
    nvme_cq_create(n, 0, n->acq, acqs, 0, true);
    nvme_sq_create(n, 0, 0, n->asq, asqs);
    n->start_time_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    trace_nvme_ctrl_ready();
    return true;
}

static void nvme_write_cc(NvmeCtrl *n, uint32_t value)
{
    uint32_t old = n->cc;

    n->cc = value;
    if (NVME_CC_EN(value) && !NVME_CC_EN(old)) {
        if (nvme_ctrl_start(n)) {
            n->csts |= NVME_CSTS_RDY_BIT;
        }
    } else if (!NVME_CC_EN(value) && NVME_CC_EN(old)) {
        nvme_ctrl_reset(n);
        n->csts &= ~NVME_CSTS_SHST_MASK;
    }
    if (NVME_CC_SHN(value) && !NVME_CC_SHN(old)) {
        trace_nvme_ctrl_shutdown(NVME_CC_SHN(value));
        nvme_ctrl_shutdown(n);
        n->csts = (n->csts & ~NVME_CSTS_SHST_MASK) |
                  (NVME_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT);
    } else if (!NVME_CC_SHN(value) && NVME_CC_SHN(old)) {
        n->csts &= ~NVME_CSTS_SHST_MASK;
    }
}

void nvme_ctrl_nssr(NvmeCtrl *n)
{
    trace_nvme_subsystem_reset();
    nvme_ctrl_reset(n);
    n->cc = 0;
    n->csts = NVME_CSTS_NSSRO_BIT;
}

/* Changing admin queue registers while enabled is ignored (Base 3.1.4). */
static void nvme_write_reg32(NvmeCtrl *n, hwaddr offset, uint32_t value)
{
    bool enabled = NVME_CC_EN(n->cc);

    switch (offset) {
    case NVME_REG_INTMS:
        n->intms |= value;
        if (!nvme_ctrl_msix_enabled(n)) {
            nvme_irq_update_intx(n);
        }
        break;
    case NVME_REG_INTMC:
        n->intms &= ~value;
        if (!nvme_ctrl_msix_enabled(n)) {
            nvme_irq_update_intx(n);
        }
        break;
    case NVME_REG_CC:
        nvme_write_cc(n, value);
        break;
    case NVME_REG_CSTS:
        /* NSSRO is write-1-to-clear; the rest is read-only. */
        n->csts &= ~(value & NVME_CSTS_NSSRO_BIT);
        break;
    case NVME_REG_NSSR:
        if (value == NVME_NSSR_RESET_VALUE) {
            nvme_ctrl_nssr(n);
        }
        break;
    case NVME_REG_AQA:
        if (!enabled) {
            n->aqa = value & 0x0fff0fff;
        }
        break;
    case NVME_REG_ASQ:
    case NVME_REG_ASQ + 4:
    case NVME_REG_ACQ:
    case NVME_REG_ACQ + 4: {
        uint64_t *reg = offset < NVME_REG_ACQ ? &n->asq : &n->acq;
        int shift = (offset & 4) ? 32 : 0;

        if (!enabled) {
            *reg = deposit64(*reg, shift, 32, value);
        }
        break;
    }
    default:
        if (nvme_cmb_write_reg(n, offset, value) ||
            nvme_pmr_write_reg(n, offset, value)) {
            break;
        }
        qemu_log_mask(LOG_GUEST_ERROR,
                      "nvme: write to read-only or reserved register 0x%"
                      HWADDR_PRIx "\n", offset);
        trace_nvme_err_reg_write(offset, value);
        break;
    }
}

static void nvme_sync_reg_image(NvmeCtrl *n, NvmeBar *bar)
{
    /*
     * Reads are aligned, up to 8 bytes and start below 6Ch: an 8-byte read
     * of CRTO also returns the reserved 6Ch..6Fh, which read as zero.
     */
    memset(bar, 0, QEMU_ALIGN_UP(offsetof(NvmeBar, rsvd6c), sizeof(uint64_t)));
    nvme_reg_set64(bar, NVME_REG_CAP, n->cap);
    nvme_reg_set32(bar, NVME_REG_VS, n->vs);
    nvme_reg_set32(bar, NVME_REG_INTMS, n->intms);
    nvme_reg_set32(bar, NVME_REG_INTMC, n->intms);
    nvme_reg_set32(bar, NVME_REG_CC, n->cc);
    nvme_reg_set32(bar, NVME_REG_CSTS, n->csts);
    nvme_reg_set32(bar, NVME_REG_AQA, n->aqa);
    nvme_reg_set64(bar, NVME_REG_ASQ, n->asq);
    nvme_reg_set64(bar, NVME_REG_ACQ, n->acq);
    nvme_reg_set32(bar, NVME_REG_CRTO, (uint32_t)NVME_CAP_TO(n->cap));
    nvme_cmb_sync_regs(n, bar);
}

/*
 * The device's own DMA (in this thread) or anything running in its
 * iothread, where vCPUs never do, reaching the registers: refused, so that
 * the DMA fails instead of resetting or freeing what the caller is using.
 */
static bool nvme_mmio_reentered(NvmeCtrl *n, hwaddr addr)
{
    if (!nvme_dma_reentered() &&
        (n->ctx == qemu_get_aio_context() ||
         qemu_get_current_aio_context() != n->ctx)) {
        return false;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: device DMA to its own registers "
                  "(offset 0x%" HWADDR_PRIx ") refused\n", addr);
    trace_nvme_err_mmio_reentry(addr);
    return true;
}

static uint64_t nvme_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    NvmeCtrl *n = NVME(opaque);
    uint64_t val;
    NvmeBar bar;

    if (addr & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: misaligned register read\n");
        return 0;
    }
    if (addr >= NVME_REG_SIZE) {
        /* Doorbells are write-only and read as zero. */
        return 0;
    }
    if (addr >= offsetof(NvmeBar, rsvd6c)) {
        return nvme_pmr_read_reg(n, addr, size, &val) ? val : 0;
    }
    nvme_sync_reg_image(n, &bar);
    val = ldn_le_p((uint8_t *)&bar + addr, size);
    trace_nvme_mmio_read(addr, val, size);
    return val;
}

static MemTxResult nvme_mmio_read_attrs(void *opaque, hwaddr addr,
                                        uint64_t *data, unsigned size,
                                        MemTxAttrs attrs)
{
    if (nvme_mmio_reentered(NVME(opaque), addr)) {
        *data = 0;
        return MEMTX_ACCESS_ERROR;
    }
    *data = nvme_mmio_read(opaque, addr, size);
    return MEMTX_OK;
}

static void nvme_mmio_write(void *opaque, hwaddr addr, uint64_t data,
                            unsigned size)
{
    NvmeCtrl *n = NVME(opaque);

    trace_nvme_mmio_write(addr, data, size);
    if (addr & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: misaligned register write\n");
        return;
    }
    if (addr >= NVME_REG_SIZE) {
        if (size != 4) {
            qemu_log_mask(LOG_GUEST_ERROR, "nvme: doorbell write not 32-bit\n");
            return;
        }
        nvme_doorbell_write(n, addr, data);
        return;
    }
    /*
     * A 64-bit write lands high half first, as a host's hi-lo pair of
     * 32-bit writes does: CMBMSC's low half enables what its high half
     * addresses.
     */
    if (size == 8) {
        nvme_write_reg32(n, addr + 4, data >> 32);
    }
    nvme_write_reg32(n, addr, data);
}

static MemTxResult nvme_mmio_write_attrs(void *opaque, hwaddr addr,
                                         uint64_t data, unsigned size,
                                         MemTxAttrs attrs)
{
    if (nvme_mmio_reentered(NVME(opaque), addr)) {
        return MEMTX_ACCESS_ERROR;
    }
    nvme_mmio_write(opaque, addr, data, size);
    return MEMTX_OK;
}

/* Registers take 16 to 64-bit accesses; doorbells are checked for 32-bit. */
static const MemoryRegionOps nvme_mmio_ops = {
    .read_with_attrs = nvme_mmio_read_attrs,
    .write_with_attrs = nvme_mmio_write_attrs,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 2, .max_access_size = 8 },
    .impl = { .min_access_size = 2, .max_access_size = 8 },
};

/* Realize */

static bool nvme_check_params(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;

    if (!p->serial) {
        error_setg(errp, "nvme: serial property is required");
        return false;
    }
    if (strlen(p->serial) > sizeof(n->id_ctrl.sn)) {
        error_setg(errp, "nvme: serial must be at most %zu characters",
                   sizeof(n->id_ctrl.sn));
        return false;
    }
    if (p->num_queues) {
        /* num_queues counted the admin queue too */
        warn_report("nvme: num_queues is deprecated; use max_ioqpairs "
                    "(num_queues - 1) instead");
        if (p->num_queues < 2) {
            error_setg(errp, "nvme: num_queues must be at least 2");
            return false;
        }
        if (p->max_ioqpairs != NVME_DEFAULT_MAX_IOQPAIRS &&
            p->max_ioqpairs != p->num_queues - 1) {
            error_setg(errp, "nvme: num_queues=%u and max_ioqpairs=%u "
                       "disagree (num_queues is max_ioqpairs + 1)",
                       p->num_queues, p->max_ioqpairs);
            return false;
        }
        p->max_ioqpairs = p->num_queues - 1;
    }
    if (p->max_ioqpairs < 1 || p->max_ioqpairs > NVME_MAX_IOQPAIRS) {
        error_setg(errp, "nvme: max_ioqpairs must be between 1 and %u",
                   NVME_MAX_IOQPAIRS);
        return false;
    }
    if (p->msix_qsize < 1 || p->msix_qsize > PCI_MSIX_FLAGS_QSIZE + 1) {
        error_setg(errp, "nvme: msix_qsize must be between 1 and %u",
                   PCI_MSIX_FLAGS_QSIZE + 1);
        return false;
    }
    if (p->mqes < 1) {
        error_setg(errp, "nvme: mqes must be at least 1");
        return false;
    }
    if (p->cntlid > NVME_CNTLID_MAX) {
        error_setg(errp, "nvme: cntlid must be between 1 and 0x%x (0: "
                   "automatic)", NVME_CNTLID_MAX);
        return false;
    }
    if (p->smart_critical_warning & NVME_SMART_WARN_PMR_UNRELIABLE &&
        !n->pmr.dev) {
        error_setg(errp, "nvme: smart_critical_warning bit 5 (PMR "
                   "unreliable) needs a PMR (pmrdev)");
        return false;
    }
    if (p->zasl && (p->zasl > p->mdts || !p->mdts)) {
        error_setg(errp, "nvme: zoned.zasl must not exceed mdts");
        return false;
    }
    if (!nvme_atomic_check_params(n, errp)) {
        return false;
    }
    if (!nvme_sriov_check_params(n, errp)) {
        return false;
    }
    if (p->msix_exclusive_bar && n->pmr.dev) {
        error_setg(errp, "nvme: pmrdev and msix-exclusive-bar=on both need "
                   "BAR %u: use one of them", NVME_PMR_BIR);
        return false;
    }
    if (!p->cntrltype || !strcmp(p->cntrltype, "io")) {
        n->admin_only = false;
    } else if (!strcmp(p->cntrltype, "admin")) {
        n->admin_only = true;
        if (n->blkconf.blk) {
            error_setg(errp, "nvme: an administrative controller "
                       "(cntrltype=admin) has no namespaces: drop drive=");
            return false;
        }
    } else {
        error_setg(errp, "nvme: cntrltype must be 'io' or 'admin'");
        return false;
    }
    return true;
}

static void nvme_init_regs(NvmeCtrl *n)
{
    uint64_t cap = 0;

    cap |= MIN(n->params.mqes, NVME_MAX_QUEUE_ENTRIES - 1);
    cap |= 1ULL << NVME_CAP_CQR_SHIFT;
    cap |= 0xfULL << NVME_CAP_TO_SHIFT;             /* 7.5 s */
    cap |= 1ULL << NVME_CAP_NSSRS_SHIFT;
    /*
     * An administrative controller has no I/O command set; it keeps IOCS
     * (an empty Identify I/O Command Set vector), so that hosts which do
     * not know CSS bit 7, Linux among them, select "all supported sets"
     * (none) rather than NVM.
     */
    cap |= (uint64_t)(n->admin_only ? NVME_CAP_CSS_ADMIN_ONLY |
                                      NVME_CAP_CSS_IOCS
                                    : NVME_CAP_CSS_NVM | NVME_CAP_CSS_IOCS)
           << NVME_CAP_CSS_SHIFT;
    cap |= 0ULL << NVME_CAP_MPSMIN_SHIFT;           /* 4 KiB */
    cap |= 4ULL << NVME_CAP_MPSMAX_SHIFT;           /* 64 KiB */
    n->cap = cap;
    n->vs = NVME_VS(2, 0, 0);
    n->features.vwc = true;
    n->features.arbitration = NVME_ARB_BURST_UNLIMITED;
    n->features.temp_thresh_hi = 0x157;
    n->features.write_atomicity = n->params.atomic_dn;
    nvme_cmb_init_regs(n);
    nvme_pmr_init_regs(n);
}

static void nvme_msix_uninit(NvmeCtrl *n)
{
    if (n->params.msix_exclusive_bar) {
        msix_uninit_exclusive_bar(PCI_DEVICE(n));
    } else {
        msix_uninit(PCI_DEVICE(n), &n->bar0, &n->bar0);
    }
}

/* BAR 0: registers, doorbells of num_queues queues, MSI-X table and PBA */
static uint64_t nvme_bar0_size(uint32_t num_queues, uint16_t vectors,
                               bool exclusive, uint32_t *table_off,
                               uint32_t *pba_off)
{
    uint32_t reg_size = NVME_REG_SIZE + NVME_DB_STRIDE * num_queues;
    uint64_t bar_size;

    *table_off = QEMU_ALIGN_UP(reg_size, NVME_MSIX_BAR_ALIGN);
    *pba_off = QEMU_ALIGN_UP(*table_off + vectors * PCI_MSIX_ENTRY_SIZE,
                             NVME_MSIX_BAR_ALIGN);
    bar_size = pow2ceil(*pba_off + QEMU_ALIGN_UP(vectors, 64) / 8);
    bar_size = MAX(bar_size, 16 * KiB);
    if (exclusive) {
        /* Registers and doorbells only (at least the 8 KiB hosts map) */
        bar_size = pow2ceil(reg_size);
    }
    return bar_size;
}

static bool nvme_init_pci(NvmeCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    uint8_t *conf = pci->config;
    uint32_t msix_table_off, msix_pba_off, bar_size, vf_bar_size = 0;

    pci_config_set_prog_interface(conf, 0x2);
    pci_config_set_class(conf, PCI_CLASS_STORAGE_EXPRESS);
    if (n->params.use_intel_id) {
        /* Some guests only bind to the IDs of older QEMU releases. */
        pci_config_set_vendor_id(conf, PCI_VENDOR_ID_INTEL);
        pci_config_set_device_id(conf, 0x5845);
    } else {
        pci_config_set_vendor_id(conf, NVME_PCI_VENDOR_ID);
        pci_config_set_device_id(conf, NVME_PCI_DEVICE_ID);
    }
    pci_config_set_revision(conf, 2);
    pci_set_word(conf + PCI_SUBSYSTEM_VENDOR_ID, NVME_PCI_VENDOR_ID);
    pci_set_word(conf + PCI_SUBSYSTEM_ID, 0x1100);
    conf[PCI_INTERRUPT_PIN] = 1;

    if (n->params.sriov_max_vfs) {
        vf_bar_size = nvme_bar0_size(n->sriov.vqfrsm,
                                     n->sriov.vifrsm, false,
                                     &msix_table_off, &msix_pba_off);
    }
    if (pcie_endpoint_cap_init(pci, 0x80) < 0) {
        error_setg(errp, "nvme: cannot add the PCIe capability");
        return false;
    }
    if (pci_pm_init(pci, 0x60, errp) < 0) {
        return false;
    }
    /* Extended capabilities from 100h (SR-IOV, ARI) go before the DOE */
    if (!nvme_sriov_init_pf(n, vf_bar_size, errp)) {
        return false;
    }
    if (!nvme_spdm_init(n, errp)) {
        nvme_sriov_exit_pf(n);
        return false;
    }

    n->dma_as = pci_get_address_space(pci);
    n->reg_size = NVME_REG_SIZE + NVME_DB_STRIDE * n->num_queues;
    bar_size = nvme_bar0_size(n->num_queues, n->params.msix_qsize,
                              n->params.msix_exclusive_bar,
                              &msix_table_off, &msix_pba_off);

    memory_region_init(&n->bar0, OBJECT(n), "nvme-bar0", bar_size);
    memory_region_init_io(&n->iomem, OBJECT(n), &nvme_mmio_ops, n, "nvme",
                          n->reg_size);
    memory_region_add_subregion(&n->bar0, 0, &n->iomem);
    if ((n->params.msix_exclusive_bar ?
         msix_init_exclusive_bar(pci, n->params.msix_qsize,
                                 NVME_MSIX_EXCLUSIVE_BIR, errp) :
         msix_init(pci, n->params.msix_qsize, &n->bar0, 0, msix_table_off,
                   &n->bar0, 0, msix_pba_off, 0, errp)) < 0) {
        memory_region_del_subregion(&n->bar0, &n->iomem);
        nvme_spdm_exit(n);
        nvme_sriov_exit_pf(n);
        return false;
    }
    /* A VF's BAR 0 is registered by its PF (nvme_sriov_init_pf) */
    if (!nvme_is_vf(n)) {
        pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                         PCI_BASE_ADDRESS_MEM_TYPE_64, &n->bar0);
    }
    if (!nvme_cmb_init(n, errp) || !nvme_pmr_init(n, errp)) {
        nvme_cmb_exit(n);
        nvme_msix_uninit(n);
        memory_region_del_subregion(&n->bar0, &n->iomem);
        nvme_spdm_exit(n);
        nvme_sriov_exit_pf(n);
        return false;
    }
    return true;
}

static void nvme_realize(PCIDevice *pci, Error **errp)
{
    NvmeCtrl *n = NVME(pci);

    n->subsys = n->subsys_link ? nvme_subsys_of(n->subsys_link) : NULL;
    if (nvme_is_vf(n)) {
        /* A secondary controller: its primary's parameters and subsystem */
        nvme_sriov_vf_params(n);
    }
    if (!nvme_check_params(n, errp) || !nvme_ctrl_parse_hostid(n, errp)) {
        return;
    }
    n->num_queues = n->params.max_ioqpairs + 1;
    n->max_queues = n->num_queues;
    n->nr_vectors = n->params.msix_qsize;
    n->aer_reqs = g_new0(NvmeRequest *, n->params.aerl + 1);
    n->pending_event_slots = MIN(n->params.aer_max_queued, 64) + 1;
    n->pending_events = g_new0(NvmeAsyncEvent, n->pending_event_slots);
    n->ctx = n->iothread ? iothread_get_aio_context(n->iothread)
                         : qemu_get_aio_context();
    if (nvme_is_vf(n)) {
        n->ctx = nvme_sriov_pf(n)->ctx;     /* its primary's iothread */
    }
    qbus_init(&n->bus, sizeof(NvmeBus), TYPE_NVME_BUS, DEVICE(n),
              DEVICE(n)->id);
    /* nvme-ns devices may come and go with device_add and device_del. */
    qbus_set_hotplug_handler(BUS(&n->bus), OBJECT(n));

    /* In a subsystem, an automatic ID is picked, an explicit one checked */
    n->cntlid = n->params.cntlid;
    if (n->subsys && !nvme_subsys_register_ctrl(n->subsys, n, errp)) {
        goto err_events;
    }
    if (!nvme_init_pci(n, errp)) {
        goto err_subsys;
    }
    n->sq = g_new0(NvmeSQueue *, n->num_queues);
    n->cq = g_new0(NvmeCQueue *, n->num_queues);
    n->no_coalescing = bitmap_new(n->params.msix_qsize);
    nvme_init_regs(n);
    nvme_admin_init_id_ctrl(n);

    if (n->blkconf.blk) {
        /* drive= is namespace 1, private to this controller. */
        NvmeNamespace *ns = &n->implicit_ns;

        ns->params.nsid = 1;
        nvme_ns_params_copy_defaults(&ns->params);
        ns->holder = OBJECT(n);
        if (!nvme_ns_setup(ns, &n->blkconf, errp) ||
            !nvme_ns_set_context(ns, n->ctx, errp) ||
            (n->subsys ? !nvme_subsys_add_ns(n->subsys, ns, n, errp)
                       : !nvme_ns_register(n->namespaces, ns,
                                           (char *)n->id_ctrl.subnqn,
                                           errp))) {
            nvme_ns_cleanup(ns);
            goto err_pci;
        }
    }
    nvme_ctrl_register(n);
    return;

err_pci:
    /* No other controller may find it while it goes */
    if (n->subsys) {
        nvme_subsys_unregister_ctrl(n->subsys, n);
    }
    g_free(n->sq);
    g_free(n->cq);
    g_free(n->no_coalescing);
    nvme_cmb_exit(n);
    nvme_pmr_exit(n);
    nvme_msix_uninit(n);
    memory_region_del_subregion(&n->bar0, &n->iomem);
    nvme_spdm_exit(n);
    nvme_sriov_exit_pf(n);
    goto err_events;
err_subsys:
    if (n->subsys) {
        nvme_subsys_unregister_ctrl(n->subsys, n);
    }
err_events:
    g_free(n->aer_reqs);
    g_free(n->pending_events);
}

static void nvme_exit(PCIDevice *pci)
{
    NvmeCtrl *n = NVME(pci);

    /* The VFs go first (each quiesced and reset); they use n's context */
    nvme_sriov_exit_pf(n);
    /*
     * Out of the subsystem first: the I/O queues of the other controllers
     * (in the iothread they share) find controllers through subsys->ctrls,
     * to post reservation notices for instance. The reset below waits for
     * a round of that iothread, after which none of them holds n.
     */
    if (n->subsys) {
        if (n->blkconf.blk) {
            /* Detached (and drained) here, so shutdown cannot flush it */
            nvme_subsys_remove_ns(n->subsys, &n->implicit_ns);
            nvme_ns_flush(&n->implicit_ns);
        }
        nvme_subsys_unregister_ctrl(n->subsys, n);
    }
    nvme_ctrl_reset(n);
    nvme_ctrl_shutdown(n);
    nvme_ns_cleanup(&n->implicit_ns);
    g_free(n->sq);
    g_free(n->cq);
    g_free(n->no_coalescing);
    g_free(n->aer_reqs);
    g_free(n->pending_events);
    nvme_fw_cleanup(n);
    nvme_ctrl_unregister(n);
    nvme_cmb_exit(n);
    nvme_pmr_exit(n);
    nvme_msix_uninit(n);
    /* The subregion holds a reference to n: without this, n never goes. */
    memory_region_del_subregion(&n->bar0, &n->iomem);
    nvme_spdm_exit(n);
}

/* Config space: the DOE mailbox registers of spdm.c, then the defaults */
static uint32_t nvme_config_read(PCIDevice *pci, uint32_t addr, int len)
{
    uint32_t val;

    if (nvme_spdm_config_read(NVME(pci), addr, len, &val)) {
        return val;
    }
    return pci_default_read_config(pci, addr, len);
}

static void nvme_config_write(PCIDevice *pci, uint32_t addr, uint32_t val,
                              int len)
{
    nvme_spdm_config_write(NVME(pci), addr, val, len);
    val = nvme_sriov_pf_config_write(NVME(pci), addr, val, len);
    pci_default_write_config(pci, addr, val, len);
    if (nvme_is_vf(NVME(pci))) {
        /* The FLR of a VF resets that secondary controller only */
        pcie_cap_flr_write_config(pci, addr, val, len);
    }
    /* BARs may have moved: the CMB of a legacy host follows BAR 2. */
    nvme_cmb_bar_moved(NVME(pci));
}

static void nvme_reset_hold(Object *obj, ResetType type)
{
    NvmeCtrl *n = NVME(obj);

    nvme_ctrl_reset(n);
    n->cc = 0;
    n->csts = 0;
    n->aqa = 0;
    n->asq = 0;
    n->acq = 0;
    nvme_cmb_reset(n);
    nvme_pmr_reset(n);
    nvme_spdm_reset(n);
}

/* Not migratable yet: queue and request state is not described. */
static const VMStateDescription nvme_vmstate = {
    .name = "nvme",
    .unmigratable = 1,
};

/* Controller properties keep the names and defaults users already type. */
#define NVME_CTRL_PARAM(kind, name, field, dflt) \
    DEFINE_PROP_##kind(name, NvmeCtrl, params.field, dflt)

static const Property nvme_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeCtrl, blkconf),
    DEFINE_PROP_STRING("serial", NvmeCtrl, params.serial),
    DEFINE_PROP_STRING("cntrltype", NvmeCtrl, params.cntrltype),
    DEFINE_PROP_STRING("hostid", NvmeCtrl, params.hostid),
    DEFINE_PROP_LINK("subsys", NvmeCtrl, subsys_link, TYPE_NVME_SUBSYS_IF,
                     Object *),
    DEFINE_PROP_LINK("iothread", NvmeCtrl, iothread, TYPE_IOTHREAD,
                     IOThread *),
    NVME_CTRL_PARAM(UINT32, "max_ioqpairs", max_ioqpairs,
                    NVME_DEFAULT_MAX_IOQPAIRS),
    NVME_CTRL_PARAM(UINT32, "num_queues", num_queues, 0),
    NVME_CTRL_PARAM(UINT8, "aerl", aerl, 3),
    NVME_CTRL_PARAM(UINT32, "aer_max_queued", aer_max_queued, 64),
    NVME_CTRL_PARAM(UINT8, "vsl", vsl, 7),
    NVME_CTRL_PARAM(BOOL, "dbcs", dbcs, true),
    NVME_CTRL_PARAM(BOOL, "ctratt.mem", ctratt_mem, false),
    NVME_CTRL_PARAM(UINT16, "msix_qsize", msix_qsize, 65),
    NVME_CTRL_PARAM(UINT16, "mqes", mqes, 0x7ff),
    NVME_CTRL_PARAM(UINT8, "mdts", mdts, 7),
    NVME_CTRL_PARAM(UINT8, "zoned.zasl", zasl, 0),
    NVME_CTRL_PARAM(BOOL, "zoned.auto_transition", auto_transition, true),
    NVME_CTRL_PARAM(BOOL, "use-intel-id", use_intel_id, false),
    NVME_CTRL_PARAM(BOOL, "ioeventfd", ioeventfd, true),
    NVME_CTRL_PARAM(BOOL, "msix-exclusive-bar", msix_exclusive_bar, false),
    NVME_CTRL_PARAM(UINT32, "cmb_size_mb", cmb_size_mb, 0),
    NVME_CTRL_PARAM(BOOL, "ocp", ocp, false),
    NVME_CTRL_PARAM(UINT16, "spdm_port", spdm_port, 0),
    NVME_CTRL_PARAM(BOOL, "atomic.dn", atomic_dn, false),
    NVME_CTRL_PARAM(UINT16, "atomic.awun", atomic_awun, 0),
    NVME_CTRL_PARAM(UINT16, "atomic.awupf", atomic_awupf, 0),
    NVME_CTRL_PARAM(UINT16, "cntlid", cntlid, 0),
    NVME_CTRL_PARAM(UINT16, "sriov_max_vfs", sriov_max_vfs, 0),
    NVME_CTRL_PARAM(UINT16, "sriov_vq_flexible", sriov_vq_flexible, 0),
    NVME_CTRL_PARAM(UINT16, "sriov_vi_flexible", sriov_vi_flexible, 0),
    NVME_CTRL_PARAM(UINT32, "sriov_max_vq_per_vf", sriov_max_vq_per_vf, 0),
    NVME_CTRL_PARAM(UINT32, "sriov_max_vi_per_vf", sriov_max_vi_per_vf, 0),
    DEFINE_PROP_LINK("pmrdev", NvmeCtrl, pmr.dev, TYPE_MEMORY_BACKEND,
                     HostMemoryBackend *),
};

/*
 * smart_critical_warning: the Critical Warning byte of the SMART / Health
 * log. Set on the command line it is the initial value; qom-set changes it
 * while the guest runs. Bits that become set raise a SMART / Health
 * event if the host enabled it (Asynchronous Event Configuration); bits
 * set before it was enabled raise it at the Set Features that enables it.
 */
#define NVME_SMART_WARN_VALID   0x3f

static void nvme_get_smart_warning(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    visit_type_uint8(v, name, &NVME(obj)->params.smart_critical_warning,
                     errp);
}

static void nvme_set_smart_warning(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    NvmeCtrl *n = NVME(obj);
    uint8_t value, old = n->params.smart_critical_warning;

    if (!visit_type_uint8(v, name, &value, errp)) {
        return;
    }
    if (value & ~NVME_SMART_WARN_VALID) {
        error_setg(errp, "nvme: smart_critical_warning 0x%x has reserved "
                   "bits set (0x%x)", value, value & ~NVME_SMART_WARN_VALID);
        return;
    }
    if (DEVICE(obj)->realized && (value & NVME_SMART_WARN_PMR_UNRELIABLE) &&
        !n->pmr.dev) {
        error_setg(errp, "nvme: smart_critical_warning bit 5 (PMR "
                   "unreliable) needs a PMR (pmrdev)");
        return;
    }
    n->params.smart_critical_warning = value;
    if (DEVICE(obj)->realized) {
        nvme_smart_events(n, value & ~old);
    }
}

static void nvme_instance_init(Object *obj)
{
    /* drive= on the controller is namespace 1 */
    nvme_ns_add_bootindex(obj, &NVME(obj)->blkconf, 1);
}

static void nvme_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

    /* IDs and class code are written at realize (see nvme_init_pci). */
    pc->realize = nvme_realize;
    pc->exit = nvme_exit;
    RESETTABLE_CLASS(oc)->phases.hold = nvme_reset_hold;
    HOTPLUG_HANDLER_CLASS(oc)->unplug = qdev_simple_device_unplug_cb;
    /* Extended capabilities with registers of their own (the SPDM DOE) */
    pc->config_read = nvme_config_read;
    pc->config_write = nvme_config_write;
    device_class_set_props(dc, nvme_props);
    object_class_property_add(oc, "smart_critical_warning", "uint8",
                              nvme_get_smart_warning, nvme_set_smart_warning,
                              NULL, NULL);
    object_class_property_set_description(oc, "smart_critical_warning",
        "SMART / Health Critical Warning bits (0-5); qom-set raises events");
    dc->vmsd = &nvme_vmstate;
    dc->desc = "Non-Volatile Memory Express";
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
}

static InterfaceInfo nvme_ctrl_interfaces[] = {
    { INTERFACE_PCIE_DEVICE },
    { TYPE_HOTPLUG_HANDLER },
    { }
};

static const TypeInfo nvme_ctrl_types[] = {
    {
        .name = TYPE_NVME,
        .parent = TYPE_PCI_DEVICE,
        .class_init = nvme_class_init,
        .instance_init = nvme_instance_init,
        .instance_size = sizeof(NvmeCtrl),
        .interfaces = nvme_ctrl_interfaces,
    }, {
        .name = TYPE_NVME_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(NvmeBus),
    },
};

DEFINE_TYPES(nvme_ctrl_types)
