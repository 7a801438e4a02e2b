/*
 * NVMe device model: internal types shared by the controller, the command
 * sets, namespaces and the subsystem.
 *
 * Ownership: a controller owns its queues and every request in them; a
 * namespace (from nvme-ns or the controller's own drive=) owns its block
 * backend; the subsystem only links controllers and namespaces.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NVME_NVME_H
#define HW_NVME_NVME_H

#include "qemu/uuid.h"
#include "system/iothread.h"
#include "system/hostmem.h"
#include "hw/pci/pci_device.h"
#include "hw/block/block.h"
#include "system/dma.h"
#include "block/nvme.h"
#include "qapi/qapi-types-nvme.h"

#define NVME_MAX_NAMESPACES     256     /* NN: highest NSID we hand out */
#define NVME_MAX_CONTROLLERS    32      /* per subsystem */
#define NVME_CNTLID_MAX         0xffef  /* FFF0h-FFFFh are reserved */
#define NVME_MAX_QUEUE_ENTRIES  4096    /* CAP.MQES + 1 */
#define NVME_ADMIN_QUEUE_MAX    4096
#define NVME_ACL                3       /* 0's based: Abort Command Limit */
#define NVME_ERROR_LOG_ENTRIES  16      /* ELPE + 1 */
#define NVME_CHANGED_NSID_MAX   1024    /* Changed Namespace List entries */
#define NVME_CTRL_LIST_MAX      2047    /* IDs in a Controller List */
#define NVME_ANA_GROUPS         16      /* ANAGRPMAX, NANAGRPID */

/* ANA states as the ANA log page reports them (ana.c) */
#define NVME_ANA_OPTIMIZED          0x1
#define NVME_ANA_NON_OPTIMIZED      0x2
#define NVME_ANA_INACCESSIBLE       0x3
#define NVME_ANA_PERSISTENT_LOSS    0x4
#define NVME_ANA_CHANGE             0xf
#define NVME_SQES               6       /* 64-byte submission entries */
#define NVME_CQES               4       /* 16-byte completion entries */
#define NVME_PCI_VENDOR_ID      0x1b36  /* Red Hat, Inc. (QEMU devices) */
#define NVME_PCI_DEVICE_ID      0x0010

#define TYPE_NVME_BUS   "nvme-bus"
#define TYPE_NVME       "nvme"
#define TYPE_NVME_NS    "nvme-ns"
#define TYPE_NVME_SUBSYS "nvme-subsys"
/* The explicit topology: user-creatable objects (topology.c) */
#define TYPE_NVME_SUBSYS_OBJECT "x-nvme-subsystem"
#define TYPE_NVME_NS_OBJECT     "x-nvme-ns"
#define TYPE_NVME_NS_NVM_OBJECT "x-nvme-ns-nvm"
#define TYPE_NVME_NS_ZONED_OBJECT "x-nvme-ns-zoned"
/* What a controller's subsys= links to: nvme-subsys or x-nvme-subsystem */
#define TYPE_NVME_SUBSYS_IF     "nvme-subsystem"

OBJECT_DECLARE_SIMPLE_TYPE(NvmeBus, NVME_BUS)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeCtrl, NVME)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeNamespaceDevice, NVME_NS)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeSubsystemDevice, NVME_SUBSYS)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeSubsystemObject, NVME_SUBSYS_OBJECT)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeNamespaceObject, NVME_NS_OBJECT)

typedef struct NvmeNamespace NvmeNamespace;
typedef struct NvmeSubsystem NvmeSubsystem;
typedef struct NvmeRequest NvmeRequest;
typedef struct NvmeSQueue NvmeSQueue;
typedef struct NvmeCQueue NvmeCQueue;

struct NvmeBus {
    BusState parent_bus;
};

/* zoned.* properties of a zoned namespace (zns.c) */
typedef struct NvmeZonedParams {
    bool zoned;
    uint64_t zone_size;         /* bytes */
    uint64_t zone_cap;          /* bytes, 0: the zone size */
    uint32_t max_active;        /* 0: no limit */
    uint32_t max_open;
    uint32_t descr_ext_size;    /* bytes, a multiple of 64 */
    bool cross_read;
    uint32_t numzrwa;           /* Zone Random Write Areas, 0: none */
    uint64_t zrwas;             /* bytes of each ZRWA */
    uint64_t zrwafg;            /* bytes, ZRWA flush granularity */
} NvmeZonedParams;

/* zoned.zrwafg not set: one block of the largest LBA format */
#define NVME_ZRWAFG_DEFAULT     UINT64_MAX

typedef struct NvmeZoned NvmeZoned;

/*
 * resv.c: the reservation state of a namespace, behind a narrow interface.
 * A host is its Host Identifier, or without one (all zero), the controller
 * it uses; cntlid also names the controller a registrant registered on.
 */
#define NVME_RESV_MAX_REGISTRANTS   32
#define NVME_RESV_SAVED_SIZE        4096    /* resv.state: two copies */
#define NVME_RESV_COPY_SIZE         2048
typedef struct NvmeResv NvmeResv;
typedef struct NvmeResvHost {
    uint8_t id[16];
    uint16_t cntlid;
} NvmeResvHost;
typedef struct NvmeResvNotices {
    struct {
        NvmeResvHost host;
        uint8_t type;           /* NVME_RESV_NOTICE_* */
    } notice[NVME_RESV_MAX_REGISTRANTS];
    uint32_t count;
} NvmeResvNotices;
/* resv-cmd.c: resv.state is written one snapshot at a time */
typedef struct NvmeResvWaiter NvmeResvWaiter;
typedef struct NvmeResvSaver {
    bool busy;                  /* a write and its flush are in flight */
    uint64_t changes;           /* state changes made so far */
    uint64_t in_flight;         /* the changes the write in flight holds */
    uint64_t generation;        /* of the newest copy resv.state holds */
    QSIMPLEQ_HEAD(, NvmeResvWaiter) waiters;    /* commands, by change */
} NvmeResvSaver;

NvmeResv *nvme_resv_new(void);
void nvme_resv_free(NvmeResv *r);
bool nvme_resv_host_equal(const NvmeResvHost *a, const NvmeResvHost *b);
uint16_t nvme_resv_register(NvmeResv *r, const NvmeResvHost *h,
                            uint8_t action, bool iekey, uint64_t crkey,
                            uint64_t nrkey, NvmeResvNotices *out);
uint16_t nvme_resv_acquire(NvmeResv *r, const NvmeResvHost *h,
                           uint8_t action, uint64_t crkey,
                           uint64_t prkey, uint8_t rtype,
                           NvmeResvNotices *out);
uint16_t nvme_resv_release(NvmeResv *r, const NvmeResvHost *h,
                           uint8_t action, uint64_t crkey,
                           uint8_t rtype, NvmeResvNotices *out);
bool nvme_resv_conflict(NvmeResv *r, const NvmeResvHost *h, bool is_write);
bool nvme_resv_reserved(NvmeResv *r);
bool nvme_resv_ptpl(NvmeResv *r);
void nvme_resv_set_ptpl(NvmeResv *r, bool ptpl);
void nvme_resv_status(NvmeResv *r, NvmeResvStatus *st);
bool nvme_resv_registrant(NvmeResv *r, uint32_t i, NvmeResvHost *h,
                          uint64_t *key, bool *holder);
/* One copy of NVME_RESV_COPY_SIZE bytes; returns its offset in resv.state */
uint64_t nvme_resv_save(NvmeResv *r, uint64_t generation, void *buf);
bool nvme_resv_load(NvmeResv *r, const void *buf, uint64_t *generation,
                    Error **errp);

/* User configuration of one namespace (nvme-ns properties). */
typedef struct NvmeNamespaceParams {
    uint32_t nsid;
    QemuUUID uuid;
    uint64_t eui64;
    bool eui64_set;
    char *nguid_str;
    bool shared;
    bool detached;
    uint32_t anagrpid;      /* 0: group 1 (in a subsystem) */
    NvmeZonedParams zoned;
    /* Metadata and protection information (ms, mset, pi, pil, pif) */
    uint16_t ms;
    uint8_t mset;
    uint8_t pi;
    uint8_t pil;
    uint8_t pif;
    bool eui64_default;     /* eui64-default: derive one if eui64 is 0 */
    /* Copy limits (Identify Namespace MCL, MSSRL, MSRC), in blocks */
    uint32_t mcl;
    uint16_t mssrl;
    uint8_t msrc;           /* 0's based: source ranges per command */
} NvmeNamespaceParams;

/* Copy limits of namespaces without an nvme-ns device (drive=, the pool) */
#define NVME_COPY_DEFAULT_MCL       128
#define NVME_COPY_DEFAULT_MSSRL     128
#define NVME_COPY_DEFAULT_MSRC      127

static inline void nvme_ns_params_copy_defaults(NvmeNamespaceParams *p)
{
    p->mcl = NVME_COPY_DEFAULT_MCL;
    p->mssrl = NVME_COPY_DEFAULT_MSSRL;
    p->msrc = NVME_COPY_DEFAULT_MSRC;
}

/* Namespace Write Protection Config states 0-3, CDW11 bits 2:0 (wp.c) */
enum NvmeWriteProtectState {
    NVME_WP_NONE, NVME_WP_PROTECTED, NVME_WP_UNTIL_POWER_CYCLE,
    NVME_WP_PERMANENT,
};
#define NVME_NSATTR_WRITE_PROTECTED     (1u << 0)

/* Write Uncorrectable marks kept per namespace (nvm.c); see nvme_uncor_* */
#define NVME_UNCOR_MAX_RANGES   256

/* LBAs [start, end): sorted, disjoint and never adjacent in the set. */
typedef struct NvmeLbaInterval {
    uint64_t start;
    uint64_t end;
} NvmeLbaInterval;

/* A namespace: block backend plus its Identify data, whoever created it. */
struct NvmeNamespace {
    BlockBackend *blk;
    BlockConf *conf;
    NvmeNamespaceParams params;
    uint32_t nsid;
    uint8_t csi;
    uint8_t lbaf_index;         /* current LBA format */
    uint8_t nlbaf;              /* formats offered, 1's based */
    uint8_t lbaf_bits[NVME_MAX_NLBAF];
    uint16_t lbaf_ms[NVME_MAX_NLBAF];   /* metadata bytes per block */
    uint8_t lbaf_pif[NVME_MAX_NLBAF];   /* protection information format */
    uint16_t ms;                /* current format: metadata bytes */
    bool mset;                  /* metadata with each block (extended) */
    uint8_t pi;                 /* protection information type, 0: none */
    bool pil;                   /* PI in the first metadata bytes */
    uint8_t pif;                /* NVME_PIF_16B or NVME_PIF_64B */
    uint32_t lba_size;
    uint8_t lba_bits;
    uint64_t nlbas;
    uint64_t size;              /* bytes of the backend in use */
    uint8_t nguid[16];
    NvmeIdNs id_ns;
    NvmeIdNsNvm id_ns_nvm;
    NvmeCtrl *owner;        /* the only controller of a private namespace */
    uint32_t attached;      /* controller IDs it is (to be) attached to */
    uint8_t wp_state;       /* enum NvmeWriteProtectState */
    uint32_t anagrpid;      /* ANA group, 0 outside subsystems (ana.c) */
    bool managed;           /* created by Namespace Management (nsmgmt.c) */
    /* nvme-ns, x-nvme-ns-* or nvme (drive=) it comes from; NULL: the pool */
    Object *holder;
    /* x-nvme-ns-*: controller IDs to attach to ("all": every one) */
    char **attach_ids;
    NvmeZoned *zns;         /* zoned namespaces only (zns.c) */
    BlockBackend *zone_state;   /* zoned.state: where zone state persists */
    NvmeResv *resv;         /* reservations (resv.c) */
    BlockBackend *resv_state;   /* resv.state: Persist Through Power Loss */
    NvmeResvSaver resv_saver;   /* in the namespace's AioContext */
    /*
     * Lifecycle (ctrl.c, nvme_ns_quiesce_begin): commands and background
     * work (zone and reservation state saves) under way on the namespace,
     * and while quiesce_depth is set, the I/O commands fetched meanwhile,
     * parked until the quiesce ends. All atomic or under park_lock.
     */
    uint32_t inflight;
    uint32_t quiesce_depth;
    bool backends_watched;      /* nvme_backend_watch()ed */
    QemuSpin park_lock;
    QTAILQ_HEAD(, NvmeRequest) parked;
    /* LBAs marked by Write Uncorrectable; reads of them fail. */
    uint32_t nr_uncor;
    uint16_t uncor_gen;         /* bumped on each change (LBA Status log) */
    NvmeLbaInterval uncor[NVME_UNCOR_MAX_RANGES];
    /*
     * atomic.c: set once a controller with atomic write units sends it a
     * command; its reads and writes then go through atomic_ranges, in
     * arrival order, under atomic_lock.
     */
    bool atomic_tracked;
    QemuSpin atomic_lock;
    QTAILQ_HEAD(, NvmeRequest) atomic_ranges;
};

struct NvmeNamespaceDevice {
    DeviceState parent_obj;
    BlockConf blkconf;
    BlockBackend *zone_state_blk;   /* zoned.state */
    BlockBackend *resv_state_blk;   /* resv.state */
    NvmeNamespace ns;
    NvmeSubsystem *subsys;
};

/* x-nvme-ns-*: a namespace of an explicit subsystem (topology.c) */
struct NvmeNamespaceObject {
    Object parent_obj;
    BlockConf blkconf;      /* an anonymous BlockBackend on drive= */
    char *drive;            /* block node name or -drive id */
    char *uuid_str;
    char *zone_state;       /* block node for the zone state */
    char *resv_state;       /* block node for the reservation state */
    Object *subsys_link;
    NvmeNamespace ns;
    NvmeSubsystem *subsys;  /* set once registered */
};

typedef void (*NvmeBounceCompletion)(NvmeRequest *req, int ret);

/* State of a read through a bounce buffer (see nvme_blk_read_bounce). */
typedef struct NvmeBounce {
    BlockBackend *blk;
    void *buf;
    QEMUIOVector iov;
    uint64_t offset;
    uint64_t done;
    NvmeBounceCompletion cb;
} NvmeBounce;
/*
 * Progress of an NVM command that takes several block layer requests
 * (Compare, Verify, Copy, Dataset Management); owned by nvm.c.
 */
typedef struct NvmeNvmOp {
    void *bounce;           /* qemu_blockalign()ed, NULL when none */
    size_t bounce_size;
    QEMUIOVector iov;       /* over the bounce buffer */
    uint64_t lba;           /* next LBA to read (or deallocate) */
    uint64_t dlba;          /* Copy: next destination LBA */
    uint64_t done;          /* Compare: bytes compared so far */
    uint64_t total;         /* Copy: blocks validated for the command */
    uint32_t left;          /* blocks left in the current range */
    uint32_t chunk;         /* blocks in the request in flight */
    uint16_t range;         /* DSM, Copy: current range */
    uint16_t nr;            /* DSM, Copy: ranges (1's based) */
    bool acct;              /* block accounting was started */
} NvmeNvmOp;

typedef void NvmeIoCompletion(NvmeRequest *req, int ret);

/* atomic.c: a read or write on its namespace's atomic_ranges list */
typedef struct NvmeAtomicRange {
    NvmeNamespace *ns;      /* on ns->atomic_ranges, NULL: on no list */
    uint64_t slba;
    uint64_t end;           /* exclusive */
    bool atomic;            /* a write within the atomic unit */
    bool waiting;           /* for an overlapping request ahead of it */
    QTAILQ_ENTRY(NvmeRequest) entry;
    NvmeRequest *wake_next;
} NvmeAtomicRange;

/* Mappings of a request's data for the block layer (io.c). */
#define NVME_IO_INLINE_IOVS     8
typedef struct NvmeBlkIo {
    BlockBackend *blk;
    int64_t offset;
    BdrvRequestFlags flags;
    DMADirection dir;
    bool flush;
    bool cached;            /* iov[0] is cache.ptr */
    NvmeIoCompletion *cb;
    MemoryRegionCache cache;
    QEMUIOVector qiov;
    struct iovec *iov;      /* iov_inline, or grown on the heap */
    uint32_t iov_cap;
    struct iovec iov_inline[NVME_IO_INLINE_IOVS];
} NvmeBlkIo;

/* Submission queue entries become requests; each is on exactly one list. */
struct NvmeRequest {
    NvmeSQueue *sq;
    NvmeNamespace *ns;
    BlockAIOCB *aiocb;
    uint16_t status;
    uint16_t abort_status;  /* aborted: completes with this status */
    NvmeCmd cmd;
    NvmeCqe cqe;
    BlockAcctCookie acct;
    QEMUSGList sg;          /* data pointer, kept allocated across reuse */
    bool sg_bit_bucket;     /* sg holds NVME_SG_BIT_BUCKET entries */
    NvmeBounce bounce;
    NvmeBlkIo io;
    uint32_t aio_pending;   /* commands made of several block requests */
    int aio_ret;
    NvmeNvmOp op;
    /*
     * Lifecycle (ctrl.c): counted in its SQ's inflight from fetch until it
     * completes (AERs are not: they wait for events, not for work), and in
     * held_ns's inflight while it works on that namespace.
     */
    bool counted;
    NvmeNamespace *held_ns;
    QTAILQ_ENTRY(NvmeRequest) entry;
    /* on a quiesced namespace's parked list, to be dispatched again */
    QTAILQ_ENTRY(NvmeRequest) park_entry;
    /* zns.c: on its zone's writes in flight, then waiting for a save */
    QTAILQ_ENTRY(NvmeRequest) zone_entry;
    NvmeAtomicRange atomic;
};

struct NvmeSQueue {
    NvmeCtrl *ctrl;
    uint16_t sqid;
    uint16_t cqid;
    uint32_t size;          /* entries (1's based) */
    uint32_t head;
    uint32_t tail;
    uint64_t dma_addr;
    /*
     * Requests are allocated in chunks as the number of commands in flight
     * grows, not for the whole queue up front (see nvme_sq_grow).
     */
    NvmeRequest **chunks;
    uint32_t nr_chunks;
    uint32_t inflight;      /* counted requests not yet completed (atomic) */
    QTAILQ_HEAD(, NvmeRequest) req_list;    /* free */
    QTAILQ_HEAD(, NvmeRequest) out_req_list; /* submitted to a handler */
    QTAILQ_ENTRY(NvmeSQueue) entry;         /* on its CQ's sq_list */
    QEMUBH *bh;
    uint32_t burst_left;    /* commands the current round may still fetch */
    bool in_round;          /* nvme_process_sq is running for this queue */
    uint16_t abort_cids[NVME_ACL + 1];  /* aborted before being fetched */
    uint8_t nr_abort_cids;
    Coroutine *runner;      /* I/O queues: the coroutine doing the rounds */
    bool round_done;        /* the runner finished its round (not yielded) */
    uint64_t db_addr;       /* shadow tail doorbell, 0 without dbbuf */
    uint64_t ei_addr;       /* its EventIdx */
    EventNotifier notifier; /* doorbell writes as an ioeventfd */
    bool ioeventfd;
    bool deleting;          /* no more commands are fetched */
};

struct NvmeCQueue {
    NvmeCtrl *ctrl;
    uint8_t phase;
    uint16_t cqid;
    uint16_t vector;
    bool irq_enabled;
    bool irq_pending;       /* posted entries the host has not been told of */
    uint32_t size;
    uint32_t head;
    uint32_t tail;
    uint64_t dma_addr;
    QTAILQ_HEAD(, NvmeSQueue) sq_list;
    QTAILQ_HEAD(, NvmeRequest) req_list;    /* finished, waiting for a slot */
    QEMUBH *bh;
    uint32_t rounds;        /* SQ rounds under way, which post at their end */
    uint64_t db_addr;       /* shadow head doorbell, 0 without dbbuf */
    uint64_t ei_addr;
    uint32_t coalesced;     /* entries posted since the last interrupt */
    QEMUTimer *coalesce_timer;
    QEMUBH *irq_bh;         /* raises the interrupt from the main loop */
};

/* Controller Memory Buffer (cmb.c), BAR 2 */
#define NVME_CMB_BIR    2
typedef struct NvmeCmb {
    MemoryRegion mem;
    uint8_t *buf;               /* the CMB's contents, cmb_size_mb MiB */
    uint64_t size;              /* 0: no CMB */
    MemoryRegion bar;           /* BAR 2: mem, padded to a power of two */
    /*
     * The controller address space (n->dma_as when there is a CMB): the
     * bus master address space, with the CMB's contents on top of it at
     * its controller address while the controller memory space is on.
     */
    MemoryRegion ctrl_root;
    MemoryRegion ctrl_host;     /* alias of the bus master address space */
    MemoryRegion window;        /* alias of mem at the controller address */
    AddressSpace ctrl_as;
    uint64_t msc;               /* CMBMSC: CBA, CMSE, CRE as written */
    bool msc_written;           /* by the host since the last PCI reset */
    bool cbai;                  /* CMBSTS.CBAI */
    bool win_on;                /* the controller memory space is on */
    uint64_t win_base;          /* ... at this controller address */
} NvmeCmb;

/* Persistent Memory Region (pmr.c), BAR 4 */
#define NVME_PMR_BIR    4
#define NVME_MSIX_EXCLUSIVE_BIR 4   /* msix-exclusive-bar=on, without a PMR */
typedef struct NvmePmr {
    HostMemoryBackend *dev;     /* pmrdev=, NULL: no PMR */
    /* BAR 4: dev's memory, over all-1s I/O shown while PMRCTL.EN is 0 */
    MemoryRegion bar;
    uint64_t size;              /* 0: no PMR set up */
    uint32_t cap;               /* PMRCAP */
    uint32_t ctl;               /* PMRCTL */
    uint32_t sts;               /* PMRSTS */
    uint32_t ebs;               /* PMREBS */
    uint32_t swtp;              /* PMRSWTP */
    uint64_t msc;               /* PMRMSCU:PMRMSCL */
} NvmePmr;

typedef struct NvmeParams {
    char *serial;
    char *cntrltype;        /* "io" (default) or "admin" */
    char *hostid;           /* Host Identifier, 16 or 32 hex digits */
    uint16_t cntlid;        /* Controller ID, 0: automatic (subsys.c) */
    uint32_t max_ioqpairs;
    uint16_t msix_qsize;
    uint16_t mqes;
    uint8_t mdts;
    uint8_t zasl;           /* zoned.zasl: Zone Append limit, 0: MDTS */
    bool auto_transition;   /* zoned.auto_transition: close to open */
    bool use_intel_id;
    bool ioeventfd;
    bool msix_exclusive_bar;    /* MSI-X table and PBA in BAR 4 */
    uint32_t cmb_size_mb;       /* cmb.c: 0 means no CMB */
    bool ocp;                   /* ocp.c: OCP Datacenter SSD log pages */
    uint16_t spdm_port;         /* spdm.c: SPDM responder port, 0: none */
    uint32_t num_queues;        /* deprecated: max_ioqpairs + 1 */
    uint8_t aerl;               /* AERL: outstanding AERs, 0's based */
    uint32_t aer_max_queued;    /* events kept while no AER waits */
    uint8_t vsl;                /* Verify Size Limit, as MDTS; 0: none */
    bool dbcs;                  /* Doorbell Buffer Config supported */
    bool ctratt_mem;            /* CTRATT.MEM: limits exclude metadata */
    /* SMART Critical Warning bits; changed at runtime with qom-set */
    uint8_t smart_critical_warning;
    /* atomic.c: AWUN, AWUPF (0's based blocks), initial Write Atomicity */
    uint16_t atomic_awun;
    uint16_t atomic_awupf;
    bool atomic_dn;
    /* sriov.c: virtual functions and their flexible resources */
    uint16_t sriov_max_vfs;
    uint16_t sriov_vq_flexible;
    uint16_t sriov_vi_flexible;
    uint32_t sriov_max_vq_per_vf;   /* 0: sriov_vq_flexible / max_vfs */
    uint32_t sriov_max_vi_per_vf;
} NvmeParams;

/*
 * sriov.c: a secondary controller (virtual function) as its primary keeps
 * it; this state survives resets and VF Enable cycles of the VF.
 */
typedef struct NvmeSecCtrl {
    uint16_t nvq;           /* VQ resources assigned, admin queue included */
    uint16_t nvi;           /* VI resources (MSI-X vectors) assigned */
    bool online;
} NvmeSecCtrl;

/* sriov.c: the primary controller's side (sriov_max_vfs > 0) */
typedef struct NvmeSriov {
    uint16_t vqprt;         /* private VQ resources, admin queue included */
    uint16_t viprt;
    uint16_t vqfrsm;        /* most flexible resources of one secondary */
    uint16_t vifrsm;
    uint16_t vqrfap;        /* flexible resources of the primary, in use */
    uint16_t virfap;
    uint16_t next_vqrfap;   /* ... from its next Controller Level Reset */
    uint16_t next_virfap;
    NvmeSecCtrl *sec;       /* sriov_max_vfs entries, by VF number */
} NvmeSriov;

/* A handler result meaning: the request completes later, from a callback. */
#define NVME_NO_COMPLETE        0xffff

typedef struct NvmeAsyncEvent {
    uint8_t type;
    uint8_t info;
    uint8_t log_page;
} NvmeAsyncEvent;

/* Firmware slots: revisions, the active slot, a pending activation. */
#define NVME_FW_SLOTS   3
typedef struct NvmeFirmware {
    uint8_t revision[NVME_FW_SLOTS][8];
    uint8_t active;             /* 1's based slot */
    uint8_t next;               /* activated at the next reset, or 0 */
    uint8_t *image;             /* downloaded, not yet committed */
    uint64_t staged;
} NvmeFirmware;

/* Arbitration feature: AB 111b means no burst limit */
#define NVME_ARB_BURST_UNLIMITED    0x7

/* Feature values the controller keeps (current values). */
typedef struct NvmeFeatures {
    uint32_t arbitration;
    uint32_t power_mgmt;
    uint16_t temp_thresh_hi;
    uint16_t temp_thresh_lo;
    uint32_t err_rec;
    uint32_t int_coalescing;
    uint32_t write_atomicity;
    uint32_t async_config;
    bool vwc;
} NvmeFeatures;

struct NvmeCtrl {
    PCIDevice parent_obj;
    MemoryRegion bar0;          /* registers, doorbells, MSI-X table */
    MemoryRegion iomem;         /* registers and doorbells */
    NvmeBus bus;
    NvmeParams params;
    BlockConf blkconf;          /* drive= gives an implicit namespace 1 */
    IOThread *iothread;
    AioContext *ctx;            /* where I/O queues run: iothread or main */
    AddressSpace *dma_as;       /* bus master address space, for hot paths */
    NvmeNamespace implicit_ns;
    Object *subsys_link;        /* subsys=: nvme-subsys or x-nvme-subsystem */
    NvmeSubsystem *subsys;
    uint16_t cntlid;
    bool admin_only;            /* administrative controller: no I/O */

    /* Asymmetric Namespace Access, by ANA group ID (ana.c) */
    uint8_t ana_state[NVME_ANA_GROUPS + 1];
    uint64_t ana_chgcnt;
    uint64_t ana_group_chgcnt[NVME_ANA_GROUPS + 1];

    /* Register state (Base 3.1.4) */
    uint64_t cap;
    uint32_t vs;
    uint32_t intms;
    uint32_t cc;
    uint32_t csts;
    uint32_t aqa;
    uint64_t asq;
    uint64_t acq;

    uint32_t page_size;
    uint8_t page_bits;
    uint32_t reg_size;          /* registers plus doorbells */
    uint32_t num_queues;        /* max_ioqpairs + 1, or fewer (sriov.c) */
    uint32_t max_queues;        /* sq, cq: entries allocated */
    uint16_t nr_vectors;        /* MSI-X vectors usable, <= msix_qsize */
    uint16_t nr_sq_granted;     /* Number of Queues feature, 1's based */
    uint16_t nr_cq_granted;

    NvmeSQueue **sq;
    NvmeCQueue **cq;
    NvmeNamespace *namespaces[NVME_MAX_NAMESPACES + 1];

    NvmeIdCtrl id_ctrl;
    NvmeFeatures features;
    uint64_t host_timestamp;
    int64_t timestamp_set_ns;

    /* Asynchronous events (Base 5.2) */
    NvmeRequest **aer_reqs;     /* params.aerl + 1 */
    uint32_t outstanding_aers;
    NvmeAsyncEvent *pending_events; /* up to params.aer_max_queued + 1 */
    uint32_t pending_event_count;
    uint32_t pending_event_slots;   /* allocated; grows on demand */
    uint8_t aer_mask;           /* event types awaiting Get Log Page */

    /* SMART / Health counters */
    uint64_t data_units_read;   /* in bytes; reported per 512000 */
    uint64_t data_units_written;
    uint64_t host_read_commands;
    uint64_t host_write_commands;
    uint64_t error_count;
    NvmeErrorLog error_log[NVME_ERROR_LOG_ENTRIES];    /* ring, by count */
    int64_t start_time_ns;

    /* Host Identifier feature: 64-bit, or 128-bit with EXHID */
    uint8_t host_id[16];
    bool host_id_extended;
    /* Reservation Notification log (resv-cmd.c): queued pages, by NSID mask */
#define NVME_RESV_LOG_MAX   64
    NvmeResvNotificationLog resv_log[NVME_RESV_LOG_MAX];
    uint32_t nr_resv_log;
    uint64_t resv_log_count;
    uint8_t resv_mask[NVME_MAX_NAMESPACES + 1];
    uint32_t kato;              /* Keep Alive Timeout, ms */
    NvmeFirmware fw;

    /* Changed Namespace List log (Base 5.16.1.5), cleared when read */
    uint32_t changed_nsids[NVME_CHANGED_NSID_MAX];
    uint32_t nr_changed_nsids;      /* > NVME_CHANGED_NSID_MAX: overflow */

    /* Interrupt Vector Configuration: vectors with coalescing disabled */
    unsigned long *no_coalescing;

    /* Doorbell Buffer Config (shadow doorbells), 0 when not configured */
    uint64_t dbbuf_dbs;
    uint64_t dbbuf_eis;
    size_t nvm_bounce_bytes;    /* nvm.c: bounce buffers in use */
    uint32_t nr_requests;       /* allocated for all SQs (nvme_sq_grow) */
    QLIST_ENTRY(NvmeCtrl) all_entry;    /* quiesce.c: every controller */
    bool fetch_paused;          /* quiesce.c: rounds fetch nothing */

    NvmeCmb cmb;                /* cmb.c: Controller Memory Buffer */
    NvmePmr pmr;                /* pmr.c: Persistent Memory Region */
    struct DOECap *spdm_doe;    /* spdm.c: DOE mailbox, NULL: none */
    NvmeSriov sriov;            /* sriov.c: primary controller state */
};

/* A permanently write protected nvme-ns namespace, as the pool lists it */
typedef struct NvmePoolWp {
    uint32_t nsid;
    QemuUUID uuid;
} NvmePoolWp;

/*
 * The subsystem: controllers and the namespaces they may share. An
 * nvme-subsys device or an x-nvme-subsystem object holds one.
 */
struct NvmeSubsystem {
    BusState *bus;              /* nvme-subsys: where shared nvme-ns go */
    char *nqn;
    char *pool_dir;             /* ns-pool: where created namespaces live */
    uint64_t tnvmcap;           /* bytes hosts may allocate in the pool */
    uint64_t pool_used;
    GArray *pool_wp;            /* NvmePoolWp: nvme-ns permanently protected */
    NvmeCtrl *ctrls[NVME_MAX_CONTROLLERS];
    NvmeNamespace *namespaces[NVME_MAX_NAMESPACES + 1];
};

struct NvmeSubsystemDevice {
    DeviceState parent_obj;
    NvmeBus bus;
    NvmeSubsystem subsys;
};

struct NvmeSubsystemObject {
    Object parent_obj;
    NvmeSubsystem subsys;
    bool complete;
};

/* One entry of a command set's opcode table (Base 5.16.1.6 effects). */
typedef uint16_t (*NvmeCommandHandler)(NvmeCtrl *n, NvmeRequest *req);

typedef struct NvmeOpcodeDesc {
    NvmeCommandHandler handler;
    uint32_t effects;
    bool needs_ns;              /* NSID must name an active namespace */
    bool (*supported)(NvmeCtrl *n);     /* NULL: always */
} NvmeOpcodeDesc;

static inline bool nvme_opcode_supported(const NvmeOpcodeDesc *desc,
                                         NvmeCtrl *n)
{
    return desc->handler && (!desc->supported || desc->supported(n));
}

/* ctrl.c */
void nvme_req_complete(NvmeRequest *req);
void nvme_enqueue_event(NvmeCtrl *n, uint8_t type, uint8_t info,
                        uint8_t log_page);
void nvme_clear_events(NvmeCtrl *n, uint8_t type);
NvmeNamespace *nvme_ctrl_ns(NvmeCtrl *n, uint32_t nsid);
uint16_t nvme_sq_create(NvmeCtrl *n, uint16_t sqid, uint16_t cqid,
                        uint64_t dma_addr, uint32_t size);
uint16_t nvme_cq_create(NvmeCtrl *n, uint16_t cqid, uint64_t dma_addr,
                        uint32_t size, uint16_t vector, bool irq_enabled);
void nvme_sq_free(NvmeCtrl *n, NvmeSQueue *sq);
void nvme_cq_free(NvmeCtrl *n, NvmeCQueue *cq);
bool nvme_ctrl_msix_enabled(NvmeCtrl *n);
/* False for administrative controllers, which have no I/O queues. */
bool nvme_ctrl_has_io_queues(NvmeCtrl *n);
void nvme_dbbuf_attach(NvmeCtrl *n, uint16_t qid);
void nvme_ctrl_ns_changed(NvmeCtrl *n, uint32_t nsid);
void nvme_run_in_queue_context(NvmeCtrl *n, uint16_t qid,
                               void (*fn)(void *), void *opaque);
void nvme_nop(void *opaque);
/* SQ entries fetched (or scanned) with one DMA read */
#define NVME_SQ_BATCH           16
int nvme_sq_read(NvmeSQueue *sq, uint32_t pos, NvmeCmd *batch, uint32_t max);
/* Controller Level Reset: commands under way complete, queues go */
void nvme_ctrl_reset(NvmeCtrl *n);
/* NVM Subsystem Reset of one controller */
void nvme_ctrl_nssr(NvmeCtrl *n);
/* Emulated power cycle of a controller outside any subsystem */
void nvme_ctrl_power_cycle(NvmeCtrl *n);
uint16_t nvme_cmd_error(NvmeRequest *req, uint16_t status, const char *why);

/*
 * quiesce.c: the request lifecycle. A command is outstanding from fetch to
 * completion, through every step its callbacks chain; code that frees or
 * changes state under commands waits for the outstanding ones first.
 */
/* Namespace work outside commands (state saves): holds ns like a command */
void nvme_ns_work_begin(NvmeNamespace *ns);
void nvme_ns_work_end(NvmeNamespace *ns);
/*
 * I/O dispatch: holds ns for req, or parks req while ns is quiesced (then
 * false: req is dispatched again from the start when the quiesce ends).
 */
bool nvme_ns_enter(NvmeRequest *req, NvmeNamespace *ns);
/*
 * Main loop: no command may start on ns until nvme_ns_quiesce_end (new ones
 * are parked), and those under way have completed when this returns.
 * Nests; nvme_ns_quiesce_end may be called from any thread.
 */
void nvme_ns_quiesce_begin(NvmeNamespace *ns);
void nvme_ns_quiesce_end(NvmeNamespace *ns);
/* Main loop: waits until nothing is under way on ns (no quiesce) */
void nvme_ns_wait_idle(NvmeNamespace *ns);
/* Around every wait of the main loop: no admin queue runs meanwhile */
void nvme_wait_begin(void);
void nvme_wait_end(void);
void nvme_sq_count_fetched(NvmeSQueue *sq, NvmeRequest *req);
/* Called by completion: req's work is over, in the SQ's context */
void nvme_req_release(NvmeRequest *req);
/* Main loop: waits until no counted request of sq is outstanding */
void nvme_sq_wait_idle(NvmeSQueue *sq);
/* Main loop: stops fetching on n's queues and waits for them to be idle */
void nvme_ctrl_quiesce_begin(NvmeCtrl *n);
void nvme_ctrl_quiesce_end(NvmeCtrl *n);
/* The context a request's queue runs in (main loop for the admin queue) */
AioContext *nvme_req_context(NvmeRequest *req);
void nvme_req_redispatch(void *opaque);
/* Backends of namespaces: their drains pause every controller's queues */
void nvme_backend_watch(BlockBackend *blk);
void nvme_backend_unwatch(BlockBackend *blk);
/* Whether queue qid (of any controller) may be processed now */
bool nvme_queue_may_run(uint16_t qid);
void nvme_ctrl_register(NvmeCtrl *n);
void nvme_ctrl_unregister(NvmeCtrl *n);

/* sriov.c: SR-IOV (sriov_max_vfs), primary and secondary controllers */
#define NVME_SRIOV_CAP_OFFSET   0x100
/*
 * ARI after the SR-IOV capability (40h bytes), and 4 bytes more: QEMU's
 * pcie_sriov_pf_reset() writes the 7th VF BAR slot as 64 bits (13Ch-143h).
 */
#define NVME_ARI_CAP_OFFSET     0x148
#define NVME_VF_ARI_CAP_OFFSET  0x100
bool nvme_sriov_check_params(NvmeCtrl *n, Error **errp);
/* Before realize of a VF: its parameters from its primary's */
void nvme_sriov_vf_params(NvmeCtrl *n);
bool nvme_sriov_init_pf(NvmeCtrl *n, uint64_t vf_bar_size, Error **errp);
void nvme_sriov_exit_pf(NvmeCtrl *n);
bool nvme_is_vf(NvmeCtrl *n);
NvmeCtrl *nvme_sriov_pf(NvmeCtrl *n);
/* The primary's secondary controller state of VF n, NULL if not a VF */
NvmeSecCtrl *nvme_sriov_sec(NvmeCtrl *n);
/* CC.EN 0 to 1: false if the controller may not be enabled */
bool nvme_sriov_start(NvmeCtrl *n);
/* Controller Level Reset: the primary's pending allocation applies */
void nvme_sriov_reset(NvmeCtrl *n);
/* PF config write: VFs are quiesced before VF Enable clears */
uint32_t nvme_sriov_pf_config_write(NvmeCtrl *n, uint32_t addr,
                                    uint32_t val, int len);
bool nvme_sriov_vm_supported(NvmeCtrl *n);
uint16_t nvme_virt_mngmt(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_identify_pri_ctrl_cap(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_identify_sec_ctrl_list(NvmeCtrl *n, NvmeRequest *req);

/*
 * dma.c: every DMA the device does runs between these, so that guest
 * memory pointing at the device's own registers cannot re-enter them.
 */
void nvme_dma_enter(void);
void nvme_dma_exit(void);
bool nvme_dma_reentered(void);
/* False if part of sg is not RAM (MMIO, say): too risky for dma-helpers */
bool nvme_sg_is_ram(QEMUSGList *sg, DMADirection dir);
MemTxResult nvme_dma_rw(AddressSpace *as, dma_addr_t addr, void *buf,
                        dma_addr_t len, DMADirection dir);
/* False (logged) for DMA an iothread must not do: anything but RAM */
bool nvme_dma_allowed(AddressSpace *as, dma_addr_t addr, dma_addr_t len,
                      DMADirection dir);

/* abort.c */
uint16_t nvme_abort(NvmeCtrl *n, NvmeRequest *req);
/* True (and forgotten) if cid was aborted while still in the SQ. */
bool nvme_abort_take_pending(NvmeSQueue *sq, uint16_t cid);

/* dma.c: an SGL Bit Bucket in a request's sg (never a valid address) */
#define NVME_SG_BIT_BUCKET      ((dma_addr_t)-1)
bool nvme_sg_copy(NvmeRequest *req, uint64_t pos, void *buf, uint64_t len,
                  DMADirection dir);
bool nvme_sg_copy_to_host(NvmeRequest *req, const void *buf, uint64_t len);
void nvme_blk_read_bounce(NvmeRequest *req, BlockBackend *blk,
                          uint64_t offset, NvmeBounceCompletion cb);
uint16_t nvme_map_dptr(NvmeCtrl *n, NvmeRequest *req, uint64_t len);
uint16_t nvme_dma_to_host(NvmeCtrl *n, NvmeRequest *req, const void *buf,
                          uint64_t len);
uint16_t nvme_dma_from_host(NvmeCtrl *n, NvmeRequest *req, void *buf,
                            uint64_t len);

/* io.c: a request's data to or from a backend, or a flush; cb when done */
void nvme_io_rw(NvmeRequest *req, BlockBackend *blk, int64_t offset,
                DMADirection dir, BdrvRequestFlags flags, NvmeIoCompletion *cb);
void nvme_io_flush(NvmeRequest *req, BlockBackend *blk, NvmeIoCompletion *cb);
void nvme_io_init(NvmeBlkIo *io);
void nvme_io_cleanup(NvmeBlkIo *io);

/* admin.c */
extern const NvmeOpcodeDesc nvme_admin_opcodes[256];
void nvme_aer_process(NvmeCtrl *n);
/* SMART / Health events for the critical warning bits in bits (enabled) */
void nvme_smart_events(NvmeCtrl *n, uint8_t bits);
void nvme_admin_init_id_ctrl(NvmeCtrl *n);
NvmeNamespace *nvme_feature_ns(NvmeCtrl *n, NvmeRequest *req,
                               uint16_t *status);

/* nvm.c */
/* A Copy source range, from either descriptor format (0h, 1h) */
typedef struct NvmeCopyRange {
    uint64_t slba;
    uint32_t nlb;           /* 1's based */
    uint64_t eilbrt;
    uint16_t elbat;
    uint16_t elbatm;
} NvmeCopyRange;
/* Entry index of a DSM or Copy range list (mapped by the caller) */
uint16_t nvme_range_entry(NvmeRequest *req, uint16_t index, void *entry,
                          size_t size);
extern const NvmeOpcodeDesc nvme_nvm_opcodes[256];
uint16_t nvme_nvm_oncs(void);
void nvme_nvm_init_id_ns(NvmeNamespace *ns);
/* Verify Size Limit (VSL), for both the plain and the metadata path */
uint16_t nvme_nvm_check_vsl(NvmeCtrl *n, NvmeRequest *req, uint32_t nlb);
/* Get LBA Status (admin opcode 86h) and the LBA Status Information log. */
uint16_t nvme_nvm_get_lba_status(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_nvm_log_lba_status(NvmeCtrl *n, NvmeRequest *req,
                                 uint64_t offset, uint64_t len, bool rae);
/* Shared with meta.c: backend errors, and Write Uncorrectable marks */
uint16_t nvme_status_from_errno(int ret, bool is_write);
uint16_t nvme_uncor_check(NvmeRequest *req, uint64_t slba, uint32_t nlb);
void nvme_uncor_clear(NvmeNamespace *ns, uint64_t slba, uint64_t nlb);

/* zns.c: the Zoned Namespace Command Set */
bool nvme_zns_setup(NvmeNamespace *ns, Error **errp);
/* Controller shutdown (drained, data flushed): zoned.state catches up */
void nvme_zns_shutdown(NvmeNamespace *ns);
void nvme_zns_cleanup(NvmeNamespace *ns);
/* The I/O command table of a command set (NULL entries: not supported) */
const NvmeOpcodeDesc *nvme_io_opcode(uint8_t csi, uint8_t opcode);
uint16_t nvme_zns_identify_ns(NvmeCtrl *n, NvmeRequest *req,
                              NvmeNamespace *ns);
uint16_t nvme_zns_identify_ctrl(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_zns_log_changed_zones(NvmeCtrl *n, NvmeRequest *req,
                                    uint64_t offset, uint64_t len, bool rae);
/* Write-like commands on a zoned namespace: check and move the pointer */
uint16_t nvme_zns_write_begin(NvmeRequest *req, uint64_t slba, uint32_t nlb);
/* ... and when the backend finished: completes req, maybe after persisting */
void nvme_zns_write_end(NvmeRequest *req);
uint16_t nvme_zns_read_check(NvmeRequest *req, uint64_t slba, uint32_t nlb);
/* Format NVM: every zone empty again */
void nvme_zns_format(NvmeNamespace *ns);
bool nvme_zns_inject(NvmeNamespace *ns, uint64_t slba, bool offline,
                     Error **errp);

/*
 * atomic.c: atomic write units (AWUN, AWUPF) and the Write Atomicity
 * Normal feature, made true by ordering overlapping reads and writes.
 */
bool nvme_atomic_check_params(NvmeCtrl *n, Error **errp);
void nvme_atomic_init_id_ctrl(NvmeCtrl *n, NvmeIdCtrl *id);
void nvme_atomic_ns_init(NvmeNamespace *ns);
/* False: req waits for an overlapping request, then starts on its own */
bool nvme_atomic_enter(NvmeCtrl *n, NvmeRequest *req);
void nvme_atomic_leave(NvmeRequest *req);
/* ctrl.c: the checks and the handler of an I/O command, after entering */
uint16_t nvme_io_run(NvmeCtrl *n, NvmeRequest *req);

/* pi.c: protection information (NVM Command Set 5.3) */
#define NVME_PIF_16B            0
#define NVME_PIF_64B            2
#define NVME_PI_TYPE1           1
#define NVME_PI_TYPE2           2
#define NVME_PI_TYPE3           3
#define NVME_PRCHK_GUARD        (1u << 2)
#define NVME_PRCHK_APP          (1u << 1)
#define NVME_PRCHK_REF          (1u << 0)
typedef struct NvmePiCmd {
    bool pract;
    uint8_t prchk;
    uint64_t eilbrt;
    uint16_t elbat;
    uint16_t elbatm;
} NvmePiCmd;
size_t nvme_pi_size(NvmeNamespace *ns);
void nvme_pi_decode(NvmeNamespace *ns, NvmeCmd *cmd, NvmePiCmd *pc);
void nvme_pi_generate(NvmeNamespace *ns, const NvmePiCmd *pc,
                      const uint8_t *data, uint8_t *meta, uint32_t nlb,
                      size_t data_stride);
uint16_t nvme_pi_check(NvmeNamespace *ns, const NvmePiCmd *pc,
                       const uint8_t *data, const uint8_t *meta, uint32_t nlb,
                       uint64_t slba);

/* meta.c: I/O on namespaces with metadata */
uint16_t nvme_meta_io(NvmeCtrl *n, NvmeRequest *req);
/* Copy's ranges, read once and validated (nr of them, total blocks) */
uint16_t nvme_meta_copy(NvmeCtrl *n, NvmeRequest *req, uint64_t sdlba,
                        NvmeCopyRange *ranges, uint32_t nr,
                        uint64_t total);
bool nvme_meta_erase(NvmeNamespace *ns, Error **errp);
BlockAIOCB *nvme_meta_deallocate(NvmeNamespace *ns, uint64_t slba,
                                 uint32_t nlb, BlockCompletionFunc *cb,
                                 void *opaque);

/* dulbe.c: Deallocated or Unwritten Logical Block errors */
bool nvme_dulbe_enabled(NvmeCtrl *n);
/* status: 0 to go on with the read, else the one to complete with */
typedef void NvmeDulbeDone(void *opaque, uint16_t status);
void nvme_dulbe_check(NvmeRequest *req, int64_t offset, int64_t bytes,
                      NvmeDulbeDone *done, void *opaque);
uint32_t nvme_dulbe_granularity(NvmeNamespace *ns);

/* resv-cmd.c: the reservation commands, features and log */
bool nvme_resv_setup(NvmeNamespace *ns, Error **errp);
uint16_t nvme_resv_check_io(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_resv_log(NvmeCtrl *n, NvmeRequest *req, uint64_t offset,
                       uint64_t len, bool rae);
uint16_t nvme_resv_mask_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0);
uint16_t nvme_resv_mask_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11);
uint16_t nvme_resv_ptpl_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0);
uint16_t nvme_resv_ptpl_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11);
uint16_t nvme_resv_register_cmd(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_resv_report_cmd(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_resv_acquire_cmd(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_resv_release_cmd(NvmeCtrl *n, NvmeRequest *req);
bool nvme_ctrl_parse_hostid(NvmeCtrl *n, Error **errp);

/* ns.c */
void nvme_ns_cleanup(NvmeNamespace *ns);
bool nvme_ns_setup(NvmeNamespace *ns, BlockConf *conf, Error **errp);
void nvme_ns_drain(NvmeNamespace *ns);
void nvme_ns_flush(NvmeNamespace *ns);
bool nvme_ns_register(NvmeNamespace **table, NvmeNamespace *ns,
                      const char *nqn, Error **errp);
void nvme_ns_attach(NvmeCtrl *n, NvmeNamespace *ns);
void nvme_ns_detach(NvmeCtrl *n, NvmeNamespace *ns);
void nvme_ns_add_bootindex(Object *obj, BlockConf *conf, uint32_t nsid);
void nvme_ns_set_format(NvmeNamespace *ns, uint8_t lbaf_index);
bool nvme_ns_set_context(NvmeNamespace *ns, AioContext *ctx, Error **errp);
bool nvme_ns_check_anagrpid(NvmeNamespace *ns, Error **errp);

/* nsmgmt.c */
bool nvme_nsmgmt_supported(NvmeCtrl *n);
bool nvme_nsmgmt_has_pool(NvmeCtrl *n);
uint16_t nvme_ns_management(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_ns_attachment(NvmeCtrl *n, NvmeRequest *req);
NvmeNamespace *nvme_nsmgmt_allocated(NvmeCtrl *n, uint32_t nsid);
void nvme_nsmgmt_common_id_ns(NvmeIdNs *id);
/* CNS 12h (nsid != 0) and 13h (nsid == 0) */
uint16_t nvme_nsmgmt_identify_ctrl_list(NvmeCtrl *n, NvmeRequest *req,
                                        uint32_t nsid);
/* Saves the pool's list after a change to one of its namespaces. */
void nvme_nsmgmt_ns_changed(NvmeNamespace *ns, NvmeSubsystem *subsys);
bool nvme_pool_load(NvmeSubsystem *subsys, Error **errp);
/* Closes and frees the pool's namespaces */
void nvme_pool_unload(NvmeSubsystem *subsys);
/* Records ns as permanently write protected; re-applies such records. */
void nvme_pool_record_wp(NvmeSubsystem *subsys, NvmeNamespace *ns);
void nvme_pool_restore_wp(NvmeSubsystem *subsys, NvmeNamespace *ns);

/* ana.c */
bool nvme_ana_reported(NvmeCtrl *n);
void nvme_ana_init(NvmeCtrl *n);
uint16_t nvme_ana_check_io(NvmeCtrl *n, NvmeNamespace *ns);
uint16_t nvme_ana_log(NvmeCtrl *n, NvmeRequest *req, uint8_t lsp,
                      uint64_t offset, uint64_t len);
bool nvme_ana_set_state(NvmeCtrl *n, uint32_t group, NvmeAnaState state,
                        Error **errp);

/* wp.c */
uint8_t nvme_wp_nwpc(NvmeCtrl *n);
/* Namespace is Write Protected for commands that would write, else 0 */
uint16_t nvme_wp_check_io(NvmeRequest *req);
void nvme_wp_apply(NvmeNamespace *ns, uint8_t state);
/* Power cycle: ends write protection "until power cycle" */
void nvme_wp_power_cycle(NvmeNamespace *ns, NvmeSubsystem *subsys,
                         NvmeCtrl *n);
uint16_t nvme_wp_feature_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0);
uint16_t nvme_wp_feature_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11);

/* firmware.c */
uint16_t nvme_fw_download(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_fw_commit(NvmeCtrl *n, NvmeRequest *req);
void nvme_fw_activate(NvmeCtrl *n, uint8_t slot);
void nvme_fw_reset(NvmeCtrl *n);
void nvme_fw_init(NvmeCtrl *n);
void nvme_fw_slot_log(NvmeCtrl *n, NvmeFwSlotInfoLog *log);
void nvme_fw_cleanup(NvmeCtrl *n);

/* format.c */
uint16_t nvme_format_nvm(NvmeCtrl *n, NvmeRequest *req);

/* subsys.c */
/* The subsystem of an nvme-subsys device or x-nvme-subsystem object */
NvmeSubsystem *nvme_subsys_of(Object *obj);
/* Checks the NQN and loads the pool; id names the default NQN. */
bool nvme_subsys_setup(NvmeSubsystem *subsys, const char *id, Error **errp);
bool nvme_subsys_register_ctrl(NvmeSubsystem *subsys, NvmeCtrl *n,
                               Error **errp);
void nvme_subsys_unregister_ctrl(NvmeSubsystem *subsys, NvmeCtrl *n);
/* Slots of subsys->ctrls (the bits of ns->attached), not Controller IDs */
int nvme_subsys_slot(NvmeSubsystem *subsys, NvmeCtrl *n);
int nvme_subsys_find_cntlid(NvmeSubsystem *subsys, uint16_t cntlid);
NvmeCtrl *nvme_subsys_slot_ctrl(NvmeCtrl *n, int i);
bool nvme_subsys_add_ns(NvmeSubsystem *subsys, NvmeNamespace *ns,
                        NvmeCtrl *owner, Error **errp);
void nvme_subsys_remove_ns(NvmeSubsystem *subsys, NvmeNamespace *ns);
AioContext *nvme_subsys_context(NvmeSubsystem *subsys);
void nvme_subsys_power_cycle(NvmeSubsystem *subsys);

static inline uint32_t nvme_ctrl_nsid_max(void)
{
    return NVME_MAX_NAMESPACES;
}

static inline NvmeCtrl *nvme_req_ctrl(NvmeRequest *req)
{
    return req->sq->ctrl;
}

/*
 * A transfer limit given as a power of two (MDTS, ZASL) in bytes: the unit
 * is the minimum memory page size, CAP.MPSMIN (4 KiB), whatever CC.MPS is.
 * 0 (and anything beyond 64 bits) means no limit.
 */
static inline uint64_t nvme_xfer_limit(uint8_t exp)
{
    return exp && exp < 52 ? 4096ULL << exp : UINT64_MAX;
}

/* cmb.c: Controller Memory Buffer */
bool nvme_cmb_init(NvmeCtrl *n, Error **errp);
void nvme_cmb_init_regs(NvmeCtrl *n);
void nvme_cmb_sync_regs(NvmeCtrl *n, NvmeBar *bar);
bool nvme_cmb_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value);
void nvme_cmb_reset(NvmeCtrl *n);
void nvme_cmb_exit(NvmeCtrl *n);
void nvme_cmb_bar_moved(NvmeCtrl *n);
uint16_t nvme_cmb_check_range(NvmeCtrl *n, uint64_t addr, uint64_t len);
uint16_t nvme_cmb_check_sg(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_cmb_check_queue(NvmeCtrl *n, uint64_t addr, uint64_t len);

/*
 * Guards of the data pointer and queue paths: with no CMB, one predictable
 * branch. A range the CMB holds in full is fine (the controller address
 * space resolves it); a range across its end, or one in BAR 2 while the
 * controller memory space is off, gets the status the CMB rules name.
 */
static inline uint16_t nvme_cmb_guard(NvmeCtrl *n, uint64_t addr,
                                      uint64_t len)
{
    return unlikely(n->cmb.size) ? nvme_cmb_check_range(n, addr, len) : 0;
}

/* pmr.c: Persistent Memory Region */
bool nvme_pmr_init(NvmeCtrl *n, Error **errp);
void nvme_pmr_init_regs(NvmeCtrl *n);
bool nvme_pmr_read_reg(NvmeCtrl *n, hwaddr offset, unsigned size,
                       uint64_t *val);
bool nvme_pmr_write_reg(NvmeCtrl *n, hwaddr offset, uint32_t value);
void nvme_pmr_reset(NvmeCtrl *n);
void nvme_pmr_exit(NvmeCtrl *n);

/* ocp.c: OCP Datacenter NVMe SSD log pages (ocp=on) */
bool nvme_ocp_log_supported(NvmeCtrl *n, uint8_t lid);
void nvme_ocp_supported_logs(NvmeCtrl *n, NvmeSupportedLogs *log);
uint16_t nvme_ocp_get_log(NvmeCtrl *n, NvmeRequest *req, uint8_t lid,
                          uint64_t offset, uint64_t len);

/* spdm.c: SPDM over a PCIe DOE mailbox (spdm_port) */
bool nvme_spdm_init(NvmeCtrl *n, Error **errp);
bool nvme_spdm_config_read(NvmeCtrl *n, uint32_t addr, int size,
                           uint32_t *val);
void nvme_spdm_config_write(NvmeCtrl *n, uint32_t addr, uint32_t val,
                            int size);
void nvme_spdm_reset(NvmeCtrl *n);
void nvme_spdm_exit(NvmeCtrl *n);

#endif /* HW_NVME_NVME_H */
