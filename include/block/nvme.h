/*
 * NVM Express definitions: controller registers, queue entries and the data
 * structures of the admin and NVM command sets.
 *
 * Written from the NVM Express Base Specification 2.0 and the NVM Command Set
 * Specification 1.0. Field names follow the specifications' mnemonics. This
 * header holds only what the specifications define; no device state.
 *
 * Also used by the userspace NVMe driver in block/nvme.c and by qemu-ga.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLOCK_NVME_H
#define BLOCK_NVME_H

/* Base 3.1.4: controller registers, at the start of BAR0 */
typedef struct QEMU_PACKED NvmeBar {
    uint64_t    cap;        /* 00h Controller Capabilities */
    uint32_t    vs;         /* 08h Version */
    uint32_t    intms;      /* 0Ch Interrupt Mask Set */
    uint32_t    intmc;      /* 10h Interrupt Mask Clear */
    uint32_t    cc;         /* 14h Controller Configuration */
    uint8_t     rsvd18[4];
    uint32_t    csts;       /* 1Ch Controller Status */
    uint32_t    nssr;       /* 20h NVM Subsystem Reset */
    uint32_t    aqa;        /* 24h Admin Queue Attributes */
    uint64_t    asq;        /* 28h Admin Submission Queue Base Address */
    uint64_t    acq;        /* 30h Admin Completion Queue Base Address */
    uint32_t    cmbloc;     /* 38h Controller Memory Buffer Location */
    uint32_t    cmbsz;      /* 3Ch Controller Memory Buffer Size */
    uint32_t    bpinfo;     /* 40h Boot Partition Information */
    uint32_t    bprsel;     /* 44h Boot Partition Read Select */
    uint64_t    bpmbl;      /* 48h Boot Partition Memory Buffer Location */
    uint64_t    cmbmsc;     /* 50h CMB Memory Space Control */
    uint32_t    cmbsts;     /* 58h CMB Status */
    uint32_t    cmbebs;     /* 5Ch CMB Elasticity Buffer Size */
    uint32_t    cmbswtp;    /* 60h CMB Sustained Write Throughput */
    uint32_t    nssd;       /* 64h NVM Subsystem Shutdown */
    uint32_t    crto;       /* 68h Controller Ready Timeouts */
    uint8_t     rsvd6c[0xe00 - 0x6c];
    uint32_t    pmrcap;     /* E00h Persistent Memory Capabilities */
    uint32_t    pmrctl;     /* E04h Persistent Memory Region Control */
    uint32_t    pmrsts;     /* E08h Persistent Memory Region Status */
    uint32_t    pmrebs;     /* E0Ch PMR Elasticity Buffer Size */
    uint32_t    pmrswtp;    /* E10h PMR Sustained Write Throughput */
    uint32_t    pmrmscl;    /* E14h PMR Memory Space Control Lower */
    uint32_t    pmrmscu;    /* E18h PMR Memory Space Control Upper */
    uint8_t     rsvde1c[0x1000 - 0xe1c];
} NvmeBar;

enum NvmeRegister {
    NVME_REG_CAP     = 0x00,
    NVME_REG_VS      = 0x08,
    NVME_REG_INTMS   = 0x0c,
    NVME_REG_INTMC   = 0x10,
    NVME_REG_CC      = 0x14,
    NVME_REG_CSTS    = 0x1c,
    NVME_REG_NSSR    = 0x20,
    NVME_REG_AQA     = 0x24,
    NVME_REG_ASQ     = 0x28,
    NVME_REG_ACQ     = 0x30,
    NVME_REG_CMBLOC  = 0x38,
    NVME_REG_CMBSZ   = 0x3c,
    NVME_REG_CRTO    = 0x68,
    NVME_REG_PMRCAP  = 0xe00,
    NVME_REG_PMRCTL  = 0xe04,
    NVME_REG_PMRSTS  = 0xe08,
    NVME_REG_PMREBS  = 0xe0c,
    NVME_REG_PMRSWTP = 0xe10,
    NVME_REG_PMRMSCL = 0xe14,
    NVME_REG_PMRMSCU = 0xe18,
    NVME_REG_DBS     = 0x1000,  /* first doorbell */
};

/* Field accessors take the register value; every argument is parenthesised. */
#define NVME_FIELD(val, shift, width) \
    (((val) >> (shift)) & ((1ULL << (width)) - 1))

/* CAP: Controller Capabilities */
#define NVME_CAP_MQES(cap)      NVME_FIELD((cap), 0, 16)
#define NVME_CAP_CQR(cap)       NVME_FIELD((cap), 16, 1)
#define NVME_CAP_AMS(cap)       NVME_FIELD((cap), 17, 2)
#define NVME_CAP_TO(cap)        NVME_FIELD((cap), 24, 8)
#define NVME_CAP_DSTRD(cap)     NVME_FIELD((cap), 32, 4)
#define NVME_CAP_NSSRS(cap)     NVME_FIELD((cap), 36, 1)
#define NVME_CAP_CSS(cap)       NVME_FIELD((cap), 37, 8)
#define NVME_CAP_BPS(cap)       NVME_FIELD((cap), 45, 1)
#define NVME_CAP_MPSMIN(cap)    NVME_FIELD((cap), 48, 4)
#define NVME_CAP_MPSMAX(cap)    NVME_FIELD((cap), 52, 4)
#define NVME_CAP_PMRS(cap)      NVME_FIELD((cap), 56, 1)
#define NVME_CAP_CMBS(cap)      NVME_FIELD((cap), 57, 1)

#define NVME_CAP_CQR_SHIFT      16
#define NVME_CAP_TO_SHIFT       24
#define NVME_CAP_NSSRS_SHIFT    36
#define NVME_CAP_CSS_SHIFT      37
#define NVME_CAP_MPSMIN_SHIFT   48
#define NVME_CAP_MPSMAX_SHIFT   52
#define NVME_CAP_PMRS_SHIFT     56

/* CAP.CSS bits */
#define NVME_CAP_CSS_NVM        (1u << 0)   /* NVM command set */
#define NVME_CAP_CSS_IOCS       (1u << 6)   /* one or more I/O command sets */
#define NVME_CAP_CSS_ADMIN_ONLY (1u << 7)   /* no I/O command set */

/* VS: Version */
#define NVME_VS(mjr, mnr, ter)  (((mjr) << 16) | ((mnr) << 8) | (ter))

/* CC: Controller Configuration */
#define NVME_CC_EN(cc)          NVME_FIELD((cc), 0, 1)
#define NVME_CC_CSS(cc)         NVME_FIELD((cc), 4, 3)
#define NVME_CC_MPS(cc)         NVME_FIELD((cc), 7, 4)
#define NVME_CC_AMS(cc)         NVME_FIELD((cc), 11, 3)
#define NVME_CC_SHN(cc)         NVME_FIELD((cc), 14, 2)
#define NVME_CC_IOSQES(cc)      NVME_FIELD((cc), 16, 4)
#define NVME_CC_IOCQES(cc)      NVME_FIELD((cc), 20, 4)

/* Names block/nvme.c uses to program CC and AQA. */
#define CC_EN_MASK              0x1
#define CC_IOSQES_SHIFT         16
#define CC_IOCQES_SHIFT         20
#define AQA_ASQS_SHIFT          0
#define AQA_ACQS_SHIFT          16

enum NvmeCcCss {
    NVME_CC_CSS_NVM         = 0x0,
    NVME_CC_CSS_ALL         = 0x6,  /* all supported I/O command sets */
    NVME_CC_CSS_ADMIN_ONLY  = 0x7,
};

enum NvmeShutdownNotification {
    NVME_CC_SHN_NONE        = 0,
    NVME_CC_SHN_NORMAL      = 1,
    NVME_CC_SHN_ABRUPT      = 2,
};

/* CSTS: Controller Status */
#define NVME_CSTS_RDY(csts)     NVME_FIELD((csts), 0, 1)
#define NVME_CSTS_CFS(csts)     NVME_FIELD((csts), 1, 1)
#define NVME_CSTS_SHST(csts)    NVME_FIELD((csts), 2, 2)
#define NVME_CSTS_NSSRO(csts)   NVME_FIELD((csts), 4, 1)

#define NVME_CSTS_RDY_BIT       (1u << 0)
#define NVME_CSTS_CFS_BIT       (1u << 1)
#define NVME_CSTS_SHST_SHIFT    2
#define NVME_CSTS_SHST_MASK     (3u << NVME_CSTS_SHST_SHIFT)
#define NVME_CSTS_NSSRO_BIT     (1u << 4)

enum NvmeShutdownStatus {
    NVME_SHST_NORMAL        = 0,
    NVME_SHST_OCCURRING     = 1,
    NVME_SHST_COMPLETE      = 2,
};

/* NSSR: writing this value resets the NVM subsystem ("NVMe") */
#define NVME_NSSR_RESET_VALUE   0x4e564d65

/* AQA: Admin Queue Attributes (0's based sizes) */
#define NVME_AQA_ASQS(aqa)      NVME_FIELD((aqa), 0, 12)
#define NVME_AQA_ACQS(aqa)      NVME_FIELD((aqa), 16, 12)

/* PMRCAP: Persistent Memory Region Capabilities */
#define NVME_PMRCAP_RDS(cap)    NVME_FIELD((cap), 3, 1)
#define NVME_PMRCAP_WDS(cap)    NVME_FIELD((cap), 4, 1)
#define NVME_PMRCAP_BIR(cap)    NVME_FIELD((cap), 5, 3)
#define NVME_PMRCAP_PMRTU(cap)  NVME_FIELD((cap), 8, 2)
#define NVME_PMRCAP_PMRWBM(cap) NVME_FIELD((cap), 10, 4)
#define NVME_PMRCAP_PMRTO(cap)  NVME_FIELD((cap), 16, 8)
#define NVME_PMRCAP_CMSS(cap)   NVME_FIELD((cap), 24, 1)

#define NVME_PMRCAP_RDS_BIT         (1u << 3)
#define NVME_PMRCAP_WDS_BIT         (1u << 4)
#define NVME_PMRCAP_BIR_SHIFT       5
#define NVME_PMRCAP_PMRTU_SHIFT     8
#define NVME_PMRCAP_PMRWBM_SHIFT    10
#define NVME_PMRCAP_PMRTO_SHIFT     16
#define NVME_PMRCAP_CMSS_BIT        (1u << 24)

/* PMRCAP.PMRWBM: what makes earlier PMR writes persistent */
#define NVME_PMRWBM_PMR_READ        (1u << 0)   /* a read of the PMR */
#define NVME_PMRWBM_PMRSTS_READ     (1u << 1)   /* a read of PMRSTS */

/* PMRCTL: Persistent Memory Region Control */
#define NVME_PMRCTL_EN(ctl)     NVME_FIELD((ctl), 0, 1)
#define NVME_PMRCTL_EN_BIT      (1u << 0)

/* PMRSTS: Persistent Memory Region Status */
#define NVME_PMRSTS_ERR(sts)    NVME_FIELD((sts), 0, 8)
#define NVME_PMRSTS_NRDY(sts)   NVME_FIELD((sts), 8, 1)
#define NVME_PMRSTS_HSTS(sts)   NVME_FIELD((sts), 9, 3)
#define NVME_PMRSTS_CBAI(sts)   NVME_FIELD((sts), 12, 1)

#define NVME_PMRSTS_NRDY_BIT    (1u << 8)
#define NVME_PMRSTS_HSTS_SHIFT  9
#define NVME_PMRSTS_HSTS_MASK   (7u << NVME_PMRSTS_HSTS_SHIFT)
#define NVME_PMRSTS_CBAI_BIT    (1u << 12)

enum NvmePmrHealth {
    NVME_PMR_HSTS_NORMAL        = 0,
    NVME_PMR_HSTS_RESTORE_ERROR = 1,
    NVME_PMR_HSTS_READ_ONLY     = 2,
    NVME_PMR_HSTS_UNRELIABLE    = 3,
};

/* PMREBS and PMRSWTP: sizes and rates in units of PMRSZU and PMRSWTU */
#define NVME_PMREBS_PMRSZU(ebs)     NVME_FIELD((ebs), 0, 4)
#define NVME_PMREBS_RBB(ebs)        NVME_FIELD((ebs), 4, 1)
#define NVME_PMREBS_PMRWBZ(ebs)     NVME_FIELD((ebs), 8, 24)
#define NVME_PMRSWTP_PMRSWTU(swtp)  NVME_FIELD((swtp), 0, 4)
#define NVME_PMRSWTP_PMRSWTV(swtp)  NVME_FIELD((swtp), 8, 24)

#define NVME_PMREBS_RBB_BIT         (1u << 4)
#define NVME_PMREBS_PMRWBZ_SHIFT    8

/* PMRMSCL/PMRMSCU as one 64-bit value: CBA (63:12), CMSE (1) */
#define NVME_PMRMSC_CMSE(msc)   NVME_FIELD((msc), 1, 1)
#define NVME_PMRMSC_CMSE_BIT    (1u << 1)
#define NVME_PMRMSC_CBA_MASK    (~0xfffULL)

/* Base 4.2: Submission Queue Entry */
typedef struct QEMU_PACKED NvmeSglDescriptor {
    uint64_t    addr;
    uint32_t    len;
    uint8_t     rsvd[3];
    uint8_t     type;       /* descriptor type (7:4) and sub type (3:0) */
} NvmeSglDescriptor;

#define NVME_SGL_TYPE(type)     (((type) >> 4) & 0xf)
#define NVME_SGL_SUBTYPE(type)  ((type) & 0xf)

enum NvmeSglDescriptorType {
    NVME_SGL_DESCR_TYPE_DATA_BLOCK = 0x0, NVME_SGL_DESCR_TYPE_BIT_BUCKET = 0x1,
    NVME_SGL_DESCR_TYPE_SEGMENT = 0x2, NVME_SGL_DESCR_TYPE_LAST_SEGMENT = 0x3,
    NVME_SGL_DESCR_TYPE_KEYED_DATA = 0x4,
    NVME_SGL_DESCR_TYPE_TRANSPORT_DATA = 0x5,
    NVME_SGL_DESCR_TYPE_VENDOR = 0xf,
};

typedef union NvmeDataPointer {
    struct QEMU_PACKED {
        uint64_t prp1;
        uint64_t prp2;
    };
    NvmeSglDescriptor sgl;
} NvmeDataPointer;

typedef struct QEMU_PACKED NvmeCmd {
    uint8_t     opcode;
    uint8_t     flags;      /* FUSE (1:0), PSDT (7:6) */
    uint16_t    cid;
    uint32_t    nsid;
    uint32_t    cdw2;
    uint32_t    cdw3;
    uint64_t    mptr;
    NvmeDataPointer dptr;
    uint32_t    cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
} NvmeCmd;

#define NVME_CMD_FLAGS_FUSE(flags)  ((flags) & 0x3)
#define NVME_CMD_FLAGS_PSDT(flags)  (((flags) >> 6) & 0x3)

enum NvmePsdt {
    NVME_PSDT_PRP               = 0x0,
    NVME_PSDT_SGL_MPTR_CONTIG   = 0x1,
    NVME_PSDT_SGL_MPTR_SGL      = 0x2,
};

/* Base 4.6: Completion Queue Entry */
typedef struct QEMU_PACKED NvmeCqe {
    uint32_t    result;     /* DW0, command specific */
    uint32_t    dw1;
    uint16_t    sq_head;
    uint16_t    sq_id;
    uint16_t    cid;
    uint16_t    status;     /* phase tag (0) and status field (15:1) */
} NvmeCqe;

/*
 * Status Field (Base 4.6.1) without the phase tag: Status Code in bits 7:0,
 * Status Code Type in bits 10:8, More in bit 13, Do Not Retry in bit 14.
 * The completion queue entry holds it shifted left by one.
 */
enum NvmeStatusCodeType {
    NVME_SCT_GENERIC        = 0x0,
    NVME_SCT_CMD_SPECIFIC   = 0x1,
    NVME_SCT_MEDIA          = 0x2,
    NVME_SCT_PATH           = 0x3,
};

#define NVME_STATUS(sct, sc)    (((NVME_SCT_##sct) << 8) | (sc))
#define NVME_SC_MORE            0x2000
#define NVME_SC_DNR             0x4000

#define NVME_STATUS_LIST(X) \
    X(SUCCESS,                      GENERIC, 0x00) \
    X(INVALID_OPCODE,               GENERIC, 0x01) \
    X(INVALID_FIELD,                GENERIC, 0x02) \
    X(CID_CONFLICT,                 GENERIC, 0x03) \
    X(DATA_TRANSFER_ERROR,          GENERIC, 0x04) \
    X(ABORTED_POWER_LOSS,           GENERIC, 0x05) \
    X(INTERNAL_ERROR,               GENERIC, 0x06) \
    X(ABORT_REQUESTED,              GENERIC, 0x07) \
    X(ABORTED_SQ_DELETION,          GENERIC, 0x08) \
    X(ABORTED_FAILED_FUSE,          GENERIC, 0x09) \
    X(ABORTED_MISSING_FUSE,         GENERIC, 0x0a) \
    X(INVALID_NAMESPACE,            GENERIC, 0x0b) \
    X(COMMAND_SEQUENCE_ERROR,       GENERIC, 0x0c) \
    X(INVALID_SGL_SEGMENT,          GENERIC, 0x0d) \
    X(INVALID_SGL_COUNT,            GENERIC, 0x0e) \
    X(DATA_SGL_LENGTH_INVALID,      GENERIC, 0x0f) \
    X(METADATA_SGL_LENGTH_INVALID,  GENERIC, 0x10) \
    X(SGL_TYPE_INVALID,             GENERIC, 0x11) \
    X(INVALID_CMB_USE,              GENERIC, 0x12) \
    X(INVALID_PRP_OFFSET,           GENERIC, 0x13) \
    X(SGL_OFFSET_INVALID,           GENERIC, 0x16) \
    X(HOST_ID_INCONSISTENT,         GENERIC, 0x18) \
    X(KEEP_ALIVE_EXPIRED,           GENERIC, 0x19) \
    X(KEEP_ALIVE_INVALID,           GENERIC, 0x1a) \
    X(ABORTED_PREEMPT,              GENERIC, 0x1b) \
    X(SANITIZE_IN_PROGRESS,         GENERIC, 0x1d) \
    X(NS_WRITE_PROTECTED,           GENERIC, 0x20) \
    X(COMMAND_INTERRUPTED,          GENERIC, 0x21) \
    X(TRANSIENT_TRANSPORT_ERROR,    GENERIC, 0x22) \
    X(ADMIN_PROHIBITED,             GENERIC, 0x24) \
    X(INVALID_IOCS_COMBINATION,     GENERIC, 0x26) \
    X(LBA_OUT_OF_RANGE,             GENERIC, 0x80) \
    X(CAPACITY_EXCEEDED,            GENERIC, 0x81) \
    X(NS_NOT_READY,                 GENERIC, 0x82) \
    X(RESERVATION_CONFLICT,         GENERIC, 0x83) \
    X(FORMAT_IN_PROGRESS,           GENERIC, 0x84) \
    X(INVALID_VALUE_SIZE,           GENERIC, 0x85) \
    X(INVALID_KEY_SIZE,             GENERIC, 0x86) \
    X(KV_KEY_DOES_NOT_EXIST,        GENERIC, 0x87) \
    X(CQ_INVALID,                   CMD_SPECIFIC, 0x00) \
    X(INVALID_QUEUE_ID,             CMD_SPECIFIC, 0x01) \
    X(INVALID_QUEUE_SIZE,           CMD_SPECIFIC, 0x02) \
    X(ABORT_LIMIT_EXCEEDED,         CMD_SPECIFIC, 0x03) \
    X(AER_LIMIT_EXCEEDED,           CMD_SPECIFIC, 0x05) \
    X(INVALID_FW_SLOT,              CMD_SPECIFIC, 0x06) \
    X(INVALID_FW_IMAGE,             CMD_SPECIFIC, 0x07) \
    X(INVALID_INTERRUPT_VECTOR,     CMD_SPECIFIC, 0x08) \
    X(INVALID_LOG_PAGE,             CMD_SPECIFIC, 0x09) \
    X(INVALID_FORMAT,               CMD_SPECIFIC, 0x0a) \
    X(FW_NEEDS_CONVENTIONAL_RESET,  CMD_SPECIFIC, 0x0b) \
    X(INVALID_QUEUE_DELETION,       CMD_SPECIFIC, 0x0c) \
    X(FEATURE_NOT_SAVEABLE,         CMD_SPECIFIC, 0x0d) \
    X(FEATURE_NOT_CHANGEABLE,       CMD_SPECIFIC, 0x0e) \
    X(FEATURE_NOT_NS_SPECIFIC,      CMD_SPECIFIC, 0x0f) \
    X(FW_NEEDS_SUBSYSTEM_RESET,     CMD_SPECIFIC, 0x10) \
    X(FW_NEEDS_RESET,               CMD_SPECIFIC, 0x11) \
    X(FW_NEEDS_MAX_TIME_VIOLATION,  CMD_SPECIFIC, 0x12) \
    X(FW_ACTIVATION_PROHIBITED,     CMD_SPECIFIC, 0x13) \
    X(OVERLAPPING_RANGE,            CMD_SPECIFIC, 0x14) \
    X(NS_INSUFFICIENT_CAPACITY,     CMD_SPECIFIC, 0x15) \
    X(NS_ID_UNAVAILABLE,            CMD_SPECIFIC, 0x16) \
    X(NS_ALREADY_ATTACHED,          CMD_SPECIFIC, 0x18) \
    X(NS_IS_PRIVATE,                CMD_SPECIFIC, 0x19) \
    X(NS_NOT_ATTACHED,              CMD_SPECIFIC, 0x1a) \
    X(THIN_PROVISIONING_UNSUPPORTED, CMD_SPECIFIC, 0x1b) \
    X(CONTROLLER_LIST_INVALID,      CMD_SPECIFIC, 0x1c) \
    X(INVALID_CONTROLLER_ID,        CMD_SPECIFIC, 0x1f) \
    X(INVALID_SECONDARY_STATE,      CMD_SPECIFIC, 0x20) \
    X(INVALID_RESOURCE_COUNT,       CMD_SPECIFIC, 0x21) \
    X(INVALID_RESOURCE_ID,          CMD_SPECIFIC, 0x22) \
    X(ANA_GROUP_ID_INVALID,         CMD_SPECIFIC, 0x24) \
    X(IOCS_NOT_SUPPORTED,           CMD_SPECIFIC, 0x29) \
    X(IOCS_NOT_ENABLED,             CMD_SPECIFIC, 0x2a) \
    X(IOCS_COMBINATION_REJECTED,    CMD_SPECIFIC, 0x2b) \
    X(INVALID_IOCS,                 CMD_SPECIFIC, 0x2c) \
    X(CONFLICTING_ATTRIBUTES,       CMD_SPECIFIC, 0x80) \
    X(INVALID_PROTECTION_INFO,      CMD_SPECIFIC, 0x81) \
    X(WRITE_TO_READ_ONLY,           CMD_SPECIFIC, 0x82) \
    X(COMMAND_SIZE_LIMIT,           CMD_SPECIFIC, 0x83) \
    X(ZONE_INVALID_OPERATION,       CMD_SPECIFIC, 0xb6) \
    X(ZRWA_RESOURCES_UNAVAILABLE,   CMD_SPECIFIC, 0xb7) \
    X(ZONE_BOUNDARY_ERROR,          CMD_SPECIFIC, 0xb8) \
    X(ZONE_IS_FULL,                 CMD_SPECIFIC, 0xb9) \
    X(ZONE_IS_READ_ONLY,            CMD_SPECIFIC, 0xba) \
    X(ZONE_IS_OFFLINE,              CMD_SPECIFIC, 0xbb) \
    X(ZONE_INVALID_WRITE,           CMD_SPECIFIC, 0xbc) \
    X(TOO_MANY_ACTIVE_ZONES,        CMD_SPECIFIC, 0xbd) \
    X(TOO_MANY_OPEN_ZONES,          CMD_SPECIFIC, 0xbe) \
    X(INVALID_ZONE_TRANSITION,      CMD_SPECIFIC, 0xbf) \
    X(WRITE_FAULT,                  MEDIA, 0x80) \
    X(UNRECOVERED_READ_ERROR,       MEDIA, 0x81) \
    X(GUARD_CHECK_ERROR,            MEDIA, 0x82) \
    X(APP_TAG_CHECK_ERROR,          MEDIA, 0x83) \
    X(REF_TAG_CHECK_ERROR,          MEDIA, 0x84) \
    X(COMPARE_FAILURE,              MEDIA, 0x85) \
    X(ACCESS_DENIED,                MEDIA, 0x86) \
    X(DEALLOCATED_OR_UNWRITTEN,     MEDIA, 0x87) \
    X(STORAGE_TAG_CHECK_ERROR,      MEDIA, 0x88) \
    X(INTERNAL_PATH_ERROR,          PATH, 0x00) \
    X(ANA_PERSISTENT_LOSS,          PATH, 0x01) \
    X(ANA_INACCESSIBLE,             PATH, 0x02) \
    X(ANA_TRANSITION,               PATH, 0x03) \
    X(HOST_PATH_ERROR,              PATH, 0x70)

#define NVME_STATUS_ENUMERATOR(name, sct, sc) \
    NVME_SC_##name = NVME_STATUS(sct, sc),
enum NvmeStatusCode {
    NVME_STATUS_LIST(NVME_STATUS_ENUMERATOR)
};

#define NVME_STATUS_SCT(status) (((status) >> 8) & 0x7)
#define NVME_STATUS_SC(status)  ((status) & 0xff)

/* Admin command opcodes (Base 5) */
#define NVME_ADMIN_OPCODE_LIST(X) \
    X(DELETE_SQ,            0x00) \
    X(CREATE_SQ,            0x01) \
    X(GET_LOG_PAGE,         0x02) \
    X(DELETE_CQ,            0x04) \
    X(CREATE_CQ,            0x05) \
    X(IDENTIFY,             0x06) \
    X(ABORT,                0x08) \
    X(SET_FEATURES,         0x09) \
    X(GET_FEATURES,         0x0a) \
    X(ASYNC_EV_REQ,         0x0c) \
    X(NS_MANAGEMENT,        0x0d) \
    X(FW_COMMIT,            0x10) \
    X(FW_DOWNLOAD,          0x11) \
    X(DEV_SELF_TEST,        0x14) \
    X(NS_ATTACHMENT,        0x15) \
    X(KEEP_ALIVE,           0x18) \
    X(DIRECTIVE_SEND,       0x19) \
    X(DIRECTIVE_RECV,       0x1a) \
    X(VIRT_MNGMT,           0x1c) \
    X(NVME_MI_SEND,         0x1d) \
    X(NVME_MI_RECV,         0x1e) \
    X(DBBUF_CONFIG,         0x7c) \
    X(FORMAT_NVM,           0x80) \
    X(SECURITY_SEND,        0x81) \
    X(SECURITY_RECV,        0x82) \
    X(SANITIZE,             0x84) \
    X(GET_LBA_STATUS,       0x86)

#define NVME_ADMIN_OPCODE_ENUMERATOR(name, value) NVME_ADM_CMD_##name = (value),
enum NvmeAdminCommands {
    NVME_ADMIN_OPCODE_LIST(NVME_ADMIN_OPCODE_ENUMERATOR)
};

/* I/O command opcodes (NVM Command Set 3, Zoned Namespace Command Set 3) */
#define NVME_NVM_OPCODE_LIST(X) \
    X(FLUSH,            0x00) \
    X(WRITE,            0x01) \
    X(READ,             0x02) \
    X(WRITE_UNCOR,      0x04) \
    X(COMPARE,          0x05) \
    X(WRITE_ZEROES,     0x08) \
    X(DSM,              0x09) \
    X(VERIFY,           0x0c) \
    X(RESV_REGISTER,    0x0d) \
    X(RESV_REPORT,      0x0e) \
    X(RESV_ACQUIRE,     0x11) \
    X(RESV_RELEASE,     0x15) \
    X(COPY,             0x19) \
    X(ZONE_MGMT_SEND,   0x79) \
    X(ZONE_MGMT_RECV,   0x7a) \
    X(ZONE_APPEND,      0x7d)

#define NVME_NVM_OPCODE_ENUMERATOR(name, value) NVME_CMD_##name = (value),
enum NvmeIoCommands {
    NVME_NVM_OPCODE_LIST(NVME_NVM_OPCODE_ENUMERATOR)
};

/* Read/Write CDW12 */
#define NVME_RW_NLB(cdw12)          ((cdw12) & 0xffff)     /* 0's based */
#define NVME_RW_FUA                 (1u << 30)
#define NVME_RW_LR                  (1u << 31)
#define NVME_RW_PRINFO_SHIFT        26
#define NVME_RW_PRINFO_PRACT        (1u << 29)

/* Write Zeroes CDW12 */
#define NVME_WZ_DEAC                (1u << 25)

/* Dataset Management CDW11 attributes and range */
#define NVME_DSMGMT_IDR             (1u << 0)
#define NVME_DSMGMT_IDW             (1u << 1)
#define NVME_DSMGMT_AD              (1u << 2)

typedef struct QEMU_PACKED NvmeDsmRange {
    uint32_t    cattr;
    uint32_t    nlb;
    uint64_t    slba;
} NvmeDsmRange;

#define NVME_DSM_MAX_RANGES         256
#define NVME_DSM_NR(cdw10)          ((cdw10) & 0xff)        /* 0's based */

/* Copy (NVM Command Set 3.3.1) CDW12 and Source Range Entry format 0h */
#define NVME_COPY_NR(cdw12)         ((cdw12) & 0xff)        /* 0's based */
#define NVME_COPY_DESFMT(cdw12)     (((cdw12) >> 8) & 0xf)
#define NVME_COPY_FUA               (1u << 30)

typedef struct QEMU_PACKED NvmeCopySourceRange {
    uint8_t     rsvd0[8];
    uint64_t    slba;
    uint16_t    nlb;        /* 0's based */
    uint8_t     rsvd18[6];
    uint32_t    eilbrt;     /* protection information, unused */
    uint16_t    elbat;
    uint16_t    elbatm;
} NvmeCopySourceRange;

QEMU_BUILD_BUG_ON(sizeof(NvmeCopySourceRange) != 32);

/* Source Range Entry format 1h, for 32b and 64b Guard protection info */
typedef struct QEMU_PACKED NvmeCopySourceRangeF1 {
    uint8_t     rsvd0[8];
    uint64_t    slba;
    uint16_t    nlb;        /* 0's based */
    uint8_t     rsvd18[8];
    uint8_t     elbt[10];   /* storage tag, then reference tag; big-endian */
    uint16_t    elbat;
    uint16_t    elbatm;
} NvmeCopySourceRangeF1;

QEMU_BUILD_BUG_ON(sizeof(NvmeCopySourceRangeF1) != 40);

/* Identify Controller OCFS: the descriptor formats supported */
#define NVME_OCFS_FORMAT_0          (1u << 0)
#define NVME_OCFS_FORMAT_1          (1u << 1)

/* Get LBA Status (Base 2.0, admin opcode 86h) CDW13 and returned data */
#define NVME_LBAS_RL(cdw13)         ((cdw13) & 0xffff)
#define NVME_LBAS_ATYPE(cdw13)      ((cdw13) >> 24)

enum NvmeLbaStatusAtype {
    NVME_LBAS_ATYPE_UNTRACKED   = 0x10,     /* scan, then report */
    NVME_LBAS_ATYPE_TRACKED     = 0x11,     /* report tracked LBAs */
};

enum NvmeLbaStatusCmpc {
    NVME_LBAS_CMPC_NONE         = 0x0,
    NVME_LBAS_CMPC_MNDW         = 0x1,      /* more than MNDW allowed */
    NVME_LBAS_CMPC_RL           = 0x2,      /* whole range reported */
};

typedef struct QEMU_PACKED NvmeLbaStatusHeader {
    uint32_t    nlsd;       /* descriptors that follow */
    uint8_t     cmpc;
    uint8_t     rsvd5[3];
} NvmeLbaStatusHeader;

typedef struct QEMU_PACKED NvmeLbaStatusDescr {
    uint64_t    dslba;
    uint32_t    nlb;
    uint8_t     rsvd12;
    uint8_t     status;
    uint8_t     rsvd14[2];
} NvmeLbaStatusDescr;

QEMU_BUILD_BUG_ON(sizeof(NvmeLbaStatusHeader) != 8);
QEMU_BUILD_BUG_ON(sizeof(NvmeLbaStatusDescr) != 16);

/* LBA Status Information log page (LID 0Eh) */
typedef struct QEMU_PACKED NvmeLbaStatusLogHeader {
    uint32_t    lslplen;    /* whole log page, bytes */
    uint32_t    nlslne;     /* namespace elements */
    uint32_t    estulb;
    uint8_t     rsvd12[2];
    uint16_t    lsgc;
} NvmeLbaStatusLogHeader;

typedef struct QEMU_PACKED NvmeLbaStatusLogNsElement {
    uint32_t    neid;
    uint32_t    nlrd;       /* range descriptors that follow */
    uint8_t     ratype;
    uint8_t     rsvd9[7];
} NvmeLbaStatusLogNsElement;

typedef struct QEMU_PACKED NvmeLbaStatusLogRange {
    uint64_t    rslba;
    uint32_t    rnlb;       /* 0's based */
    uint8_t     rsvd12[4];
} NvmeLbaStatusLogRange;

QEMU_BUILD_BUG_ON(sizeof(NvmeLbaStatusLogHeader) != 16);
QEMU_BUILD_BUG_ON(sizeof(NvmeLbaStatusLogNsElement) != 16);
QEMU_BUILD_BUG_ON(sizeof(NvmeLbaStatusLogRange) != 16);

/* Create I/O Completion/Submission Queue CDW11 */
#define NVME_CQ_PC                  (1u << 0)
#define NVME_CQ_IEN                 (1u << 1)
#define NVME_SQ_PC                  (1u << 0)
#define NVME_SQ_QPRIO(cdw11)        (((cdw11) >> 1) & 0x3)

/* Identify Controller or Namespace Structure values (Base 5.17) */
#define NVME_CNS_LIST(X) \
    X(NS,                       0x00) \
    X(CTRL,                     0x01) \
    X(NS_ACTIVE_LIST,           0x02) \
    X(NS_DESCR_LIST,            0x03) \
    X(NVM_SET_LIST,             0x04) \
    X(CS_NS,                    0x05) \
    X(CS_CTRL,                  0x06) \
    X(CS_NS_ACTIVE_LIST,        0x07) \
    X(NS_INDEPENDENT,           0x08) \
    X(NS_PRESENT_LIST,          0x10) \
    X(NS_PRESENT,               0x11) \
    X(NS_ATTACHED_CTRL_LIST,    0x12) \
    X(CTRL_LIST,                0x13) \
    X(PRIMARY_CTRL_CAP,         0x14) \
    X(SECONDARY_CTRL_LIST,      0x15) \
    X(CS_NS_PRESENT_LIST,       0x1a) \
    X(CS_NS_PRESENT,            0x1b) \
    X(IO_COMMAND_SET,           0x1c)

#define NVME_CNS_ENUMERATOR(name, value) NVME_ID_CNS_##name = (value),
enum NvmeIdCns {
    NVME_CNS_LIST(NVME_CNS_ENUMERATOR)
};

/*
 * Base 5.17.2.18: Primary Controller Capabilities (CNS 14h). Each resource
 * type has the same fields: VQ from byte 32, VI from byte 64.
 */
typedef struct QEMU_PACKED NvmePriCtrlRes {
    uint32_t    frt;        /* flexible resources, total */
    uint32_t    rfa;        /* ... assigned to secondary controllers */
    uint16_t    rfap;       /* ... allocated to the primary */
    uint16_t    prt;        /* private resources of the primary */
    uint16_t    frsm;       /* most flexible resources of one secondary */
    uint16_t    gran;       /* preferred granularity */
    uint8_t     rsvd16[16];
} NvmePriCtrlRes;

typedef struct QEMU_PACKED NvmePriCtrlCap {
    uint16_t    cntlid;
    uint16_t    portid;
    uint8_t     crt;        /* bit 0: VQ resources, bit 1: VI resources */
    uint8_t     rsvd5[27];
    NvmePriCtrlRes res[2];  /* by NvmeVirtResourceType */
    uint8_t     rsvd96[4000];
} NvmePriCtrlCap;
QEMU_BUILD_BUG_ON(sizeof(NvmePriCtrlCap) != 4096);

#define NVME_CRT_VQ     (1 << 0)
#define NVME_CRT_VI     (1 << 1)

/* Base 5.17.2.19: Secondary Controller List (CNS 15h) entry */
typedef struct QEMU_PACKED NvmeSecCtrlEntry {
    uint16_t    scid;
    uint16_t    pcid;
    uint8_t     scs;        /* bit 0: online */
    uint8_t     rsvd5[3];
    uint16_t    vfn;        /* 1's based VF number */
    uint16_t    nvq;
    uint16_t    nvi;
    uint8_t     rsvd14[18];
} NvmeSecCtrlEntry;
QEMU_BUILD_BUG_ON(sizeof(NvmeSecCtrlEntry) != 32);

#define NVME_SEC_CTRL_LIST_MAX  127
typedef struct QEMU_PACKED NvmeSecCtrlList {
    uint8_t     numcntl;
    uint8_t     rsvd1[31];
    NvmeSecCtrlEntry sec[NVME_SEC_CTRL_LIST_MAX];
} NvmeSecCtrlList;
QEMU_BUILD_BUG_ON(sizeof(NvmeSecCtrlList) != 4096);

/* Base 5.26: Virtualization Management, CDW10 ACT and RT */
enum NvmeVirtMngmtAction {
    NVME_VIRT_PRI_FLEX_ALLOC    = 0x1,
    NVME_VIRT_SEC_OFFLINE       = 0x7,
    NVME_VIRT_SEC_ASSIGN        = 0x8,
    NVME_VIRT_SEC_ONLINE        = 0x9,
};

enum NvmeVirtResourceType {
    NVME_VIRT_RES_VQ            = 0x0,
    NVME_VIRT_RES_VI            = 0x1,
};

/* Command Set Identifiers */
enum NvmeCsi {
    NVME_CSI_NVM    = 0x00,
    NVME_CSI_KV     = 0x01,
    NVME_CSI_ZONED  = 0x02,
};

/* Base 5.17.2.1: power state descriptor */
typedef struct QEMU_PACKED NvmePSD {
    uint16_t    mp;         /* maximum power, centiwatts */
    uint8_t     rsvd2;
    uint8_t     flags;      /* MXPS (0), NOPS (1) */
    uint32_t    enlat;
    uint32_t    exlat;
    uint8_t     rrt, rrl, rwt, rwl;
    uint16_t    idlp;
    uint8_t     ips, rsvd19;
    uint16_t    actp;
    uint8_t     apw_aps, rsvd23[9];
} NvmePSD;

/* Base 5.17.2.1: Identify Controller data structure (CNS 01h) */
typedef struct QEMU_PACKED NvmeIdCtrl {
    /* Controller capabilities and features, 0-255 */
    uint16_t    vid, ssvid;
    uint8_t     sn[20], mn[40], fr[8];
    uint8_t     rab, ieee[3], cmic, mdts;
    uint16_t    cntlid;
    uint32_t    ver, rtd3r, rtd3e, oaes, ctratt;
    uint16_t    rrls;
    uint8_t     rsvd102[9];
    uint8_t     cntrltype;
    uint8_t     fguid[16];
    uint16_t    crdt1, crdt2, crdt3;
    uint8_t     rsvd134[119];
    uint8_t     nvmsr, vwci, mec;
    /* Admin command set attributes, 256-511 */
    uint16_t    oacs;
    uint8_t     acl, aerl, frmw, lpa, elpe, npss, avscc, apsta;
    uint16_t    wctemp, cctemp, mtfa;
    uint32_t    hmpre, hmmin;
    uint8_t     tnvmcap[16], unvmcap[16];
    uint32_t    rpmbs;
    uint16_t    edstt;
    uint8_t     dsto, fwug;
    uint16_t    kas, hctma, mntmt, mxtmt;
    uint32_t    sanicap, hmminds;
    uint16_t    hmmaxd, nsetidmax, endgidmax;
    uint8_t     anatt, anacap;
    uint32_t    anagrpmax, nanagrpid, pels;
    uint16_t    domainid;
    uint8_t     rsvd358[10];
    uint8_t     megcap[16];
    uint8_t     rsvd384[128];
    /* NVM command set attributes, 512-767 */
    uint8_t     sqes, cqes;
    uint16_t    maxcmd;
    uint32_t    nn;
    uint16_t    oncs, fuses;
    uint8_t     fna, vwc;
    uint16_t    awun, awupf;
    uint8_t     icsvscc, nwpc;
    uint16_t    acwu, ocfs;
    uint32_t    sgls, mnan;
    uint8_t     maxdna[16];
    uint32_t    maxcna;
    uint8_t     rsvd564[204];
    uint8_t     subnqn[256];
    uint8_t     rsvd1024[768];
    /* Fabrics attributes, 1792-2047 (unused on PCIe) */
    uint32_t    ioccsz, iorcsz;
    uint16_t    icdoff;
    uint8_t     fcatt, msdbd;
    uint16_t    ofcs;
    uint8_t     rsvd1806[242];
    NvmePSD     psd[32];
    uint8_t     vs[1024];
} NvmeIdCtrl;

/* OACS: Optional Admin Command Support bits */
#define NVME_OACS_LIST(X) \
    X(SECURITY,      0) \
    X(FORMAT,        1) \
    X(FW,            2) \
    X(NS_MGMT,       3) \
    X(SELF_TEST,     4) \
    X(DIRECTIVES,    5) \
    X(MI,            6) \
    X(VIRT_MGMT,     7) \
    X(DBBUF,         8) \
    X(LBA_STATUS,    9)

#define NVME_OACS_BIT(name, bit) NVME_OACS_##name = 1u << (bit),
enum NvmeIdCtrlOacs {
    NVME_OACS_LIST(NVME_OACS_BIT)
};

/* ONCS: Optional NVM Command Support bits */
#define NVME_ONCS_LIST(X) \
    X(COMPARE,       0) \
    X(WRITE_UNCORR,  1) \
    X(DSM,           2) \
    X(WRITE_ZEROES,  3) \
    X(FEATURES,      4) \
    X(RESRVATIONS,   5) \
    X(TIMESTAMP,     6) \
    X(VERIFY,        7) \
    X(COPY,          8)

#define NVME_ONCS_BIT(name, bit) NVME_ONCS_##name = 1u << (bit),
enum NvmeIdCtrlOncs {
    NVME_ONCS_LIST(NVME_ONCS_BIT)
};

/* LPA: Log Page Attributes bits */
#define NVME_LPA_LIST(X) \
    X(NS_SMART,      0) \
    X(CSE_LOG,       1) \
    X(EXTENDED,      2) \
    X(TELEMETRY,     3) \
    X(PERSISTENT_EV, 4)

#define NVME_LPA_BIT(name, bit) NVME_LPA_##name = 1u << (bit),
enum NvmeIdCtrlLpa {
    NVME_LPA_LIST(NVME_LPA_BIT)
};

/* OAES: Optional Asynchronous Events Supported */
#define NVME_OAES_NS_ATTR           (1u << 8)
#define NVME_OAES_FW_ACTIVATION     (1u << 9)
#define NVME_OAES_ANA_CHANGE        (1u << 11)

/* CTRATT: Controller Attributes */
#define NVME_CTRATT_ELBAS           (1u << 15)
#define NVME_CTRATT_MEM             (1u << 16)  /* limits exclude metadata */

enum NvmeCntrlType {
    NVME_CNTRLTYPE_IO       = 1,
    NVME_CNTRLTYPE_DISCOVERY = 2,
    NVME_CNTRLTYPE_ADMIN    = 3,
};

/* SGLS: SGL Support */
#define NVME_SGLS_SUPPORTED_NO_ALIGNMENT    (1u << 0)
#define NVME_SGLS_SUPPORTED_DWORD_ALIGNED   (1u << 1)
#define NVME_SGLS_BIT_BUCKET                (1u << 16)
#define NVME_SGLS_EXCESS_LENGTH             (1u << 18)

/* Base 5.17.2.1: LBA Format data structure */
typedef struct QEMU_PACKED NvmeLBAF {
    uint16_t    ms;         /* metadata size */
    uint8_t     ds;         /* LBA data size, as a power of two */
    uint8_t     rp;         /* relative performance */
} NvmeLBAF;

#define NVME_MAX_NLBAF  64

/* NVM Command Set 4.1.5.1: Identify Namespace data structure (CNS 00h) */
typedef struct QEMU_PACKED NvmeIdNs {
    uint64_t    nsze, ncap, nuse;
    uint8_t     nsfeat, nlbaf, flbas, mc, dpc, dps, nmic, rescap;
    uint8_t     fpi, dlfeat;
    uint16_t    nawun, nawupf, nacwu, nabsn, nabo, nabspf, noiob;
    uint8_t     nvmcap[16];
    uint16_t    npwg, npwa, npdg, npda, nows, mssrl;
    uint32_t    mcl;
    uint8_t     msrc, rsvd81;
    uint8_t     nulbaf, rsvd83[9];
    uint32_t    anagrpid;
    uint8_t     rsvd96[3];
    uint8_t     nsattr;
    uint16_t    nvmsetid, endgid;
    uint8_t     nguid[16];
    uint64_t    eui64;
    NvmeLBAF    lbaf[NVME_MAX_NLBAF];
    uint8_t     vs[3712];
} NvmeIdNs;

/* FLBAS: format index is bits 3:0 plus bits 6:5 as the upper two bits */
#define NVME_ID_NS_FLBAS_INDEX(flbas) \
    (((flbas) & 0xf) | ((((flbas) >> 5) & 0x3) << 4))
#define NVME_ID_NS_FLBAS_EXTENDED(flbas)    (((flbas) >> 4) & 0x1)

/* DLFEAT: Deallocate Logical Block Features */
#define NVME_ID_NS_DLFEAT_READ_BEHAVIOR(dlfeat)     ((dlfeat) & 0x7)
#define NVME_ID_NS_DLFEAT_WRITE_ZEROES(dlfeat)      (((dlfeat) >> 3) & 0x1)
#define NVME_ID_NS_DLFEAT_GUARD_CRC(dlfeat)         (((dlfeat) >> 4) & 0x1)
#define NVME_ID_NS_DLFEAT_READ_BEHAVIOR_UNDEFINED   0
#define NVME_ID_NS_DLFEAT_READ_BEHAVIOR_ZEROES      1
#define NVME_ID_NS_DLFEAT_READ_BEHAVIOR_ONES        2
#define NVME_ID_NS_DLFEAT_WRITE_ZEROES_DEAC         (1u << 3)

/* Error Recovery feature: Deallocated or Unwritten Logical Block Error */
#define NVME_ERR_REC_DULBE              (1u << 16)

/* NSFEAT */
#define NVME_NSFEAT_THIN_PROVISIONING   (1u << 0)
#define NVME_NSFEAT_DEALLOC_ERR         (1u << 2)
#define NVME_NSFEAT_OPTPERF             (1u << 4)

/* NVM Command Set 4.1.5.3: I/O Command Set Specific Identify Namespace */
typedef struct QEMU_PACKED NvmeIdNsNvm {
    uint64_t    lbstm;
    uint8_t     pic, rsvd9[3];
    uint32_t    elbaf[NVME_MAX_NLBAF];
    uint8_t     rsvd268[3828];
} NvmeIdNsNvm;

/* NVM Command Set 4.1.5.4: I/O Command Set Specific Identify Controller */
typedef struct QEMU_PACKED NvmeIdCtrlNvm {
    uint8_t     vsl, wzsl, wusl, dmrl;
    uint32_t    dmrsl;
    uint64_t    dmsl;
    uint8_t     rsvd16[4080];
} NvmeIdCtrlNvm;

/* Base 5.17.2.9: I/O Command Set Independent Identify Namespace (CNS 08h) */
typedef struct QEMU_PACKED NvmeIdNsInd {
    uint8_t     nsfeat, nmic, rescap, fpi;
    uint32_t    anagrpid;
    uint8_t     nsattr, rsvd9;
    uint16_t    nvmsetid, endgid;
    uint8_t     nstat;
    uint8_t     rsvd15[4081];
} NvmeIdNsInd;

#define NVME_NSTAT_NRDY         (1u << 0)   /* namespace ready */

/* Base 5.17.2.19: Identify I/O Command Set data structure (CNS 1Ch) */
typedef struct QEMU_PACKED NvmeIdIocs {
    uint64_t    iocsc[512];     /* I/O command set combinations */
} NvmeIdIocs;

#define NVME_IOCS_NVM           (1ULL << NVME_CSI_NVM)
#define NVME_IOCS_ZONED         (1ULL << NVME_CSI_ZONED)

/*
 * Base 2.0, 8.19: Reservations. Types (RTYPE), what Identify Namespace
 * RESCAP reports, the command actions (CDW10 bits 2:0, IEKEY bit 3, RTYPE
 * bits 15:8 for Acquire and Release, CPTPL bits 31:30 for Register).
 */
#define NVME_RESV_TYPE_LIST(X) \
    X(WRITE_EXCLUSIVE,          1) \
    X(EXCLUSIVE_ACCESS,         2) \
    X(WRITE_EXCLUSIVE_REGS,     3) \
    X(EXCLUSIVE_ACCESS_REGS,    4) \
    X(WRITE_EXCLUSIVE_ALL,      5) \
    X(EXCLUSIVE_ACCESS_ALL,     6)
#define NVME_RESV_TYPE_ENUMERATOR(name, value) NVME_RESV_##name = (value),
enum {
    NVME_RESV_TYPE_LIST(NVME_RESV_TYPE_ENUMERATOR)
};

#define NVME_RESCAP_PTPL            (1u << 0)
#define NVME_RESCAP_TYPES           (0x3fu << 1)    /* the six types */
#define NVME_RESCAP_IEKEY           (1u << 7)

#define NVME_RESV_REGISTER          0
#define NVME_RESV_UNREGISTER        1
#define NVME_RESV_REPLACE           2
#define NVME_RESV_ACQUIRE           0
#define NVME_RESV_PREEMPT           1
#define NVME_RESV_PREEMPT_ABORT     2
#define NVME_RESV_RELEASE           0
#define NVME_RESV_CLEAR             1
#define NVME_RESV_IEKEY             (1u << 3)
#define NVME_RESV_CPTPL_CLEAR       2
#define NVME_RESV_CPTPL_SET         3

/* Reservation Report: the status header, then a registrant per entry */
typedef struct QEMU_PACKED NvmeResvStatus {
    uint32_t    gen;
    uint8_t     rtype;
    uint16_t    regctl;
    uint8_t     rsvd7[2];
    uint8_t     ptpls;
    uint8_t     rsvd10[14];
} NvmeResvStatus;

typedef struct QEMU_PACKED NvmeResvController {
    uint16_t    cntlid;
    uint8_t     rcsts;      /* bit 0: holds the reservation */
    uint8_t     rsvd3[5];
    uint64_t    hostid;
    uint64_t    rkey;
} NvmeResvController;

/* With Extended Data Structure (CDW11 bit 0): 128-bit host identifiers */
typedef struct QEMU_PACKED NvmeResvStatusExt {
    NvmeResvStatus base;
    uint8_t     rsvd24[40];
} NvmeResvStatusExt;

typedef struct QEMU_PACKED NvmeResvControllerExt {
    uint16_t    cntlid;
    uint8_t     rcsts;
    uint8_t     rsvd3[5];
    uint64_t    rkey;
    uint8_t     hostid[16];
    uint8_t     rsvd32[32];
} NvmeResvControllerExt;

/* Base 2.0, 5.16.1.25: Reservation Notification log page */
typedef struct QEMU_PACKED NvmeResvNotificationLog {
    uint64_t    count;
    uint8_t     type;       /* NVME_RESV_NOTICE_* */
    uint8_t     nr_available;
    uint8_t     rsvd10[2];
    uint32_t    nsid;
    uint8_t     rsvd16[48];
} NvmeResvNotificationLog;

#define NVME_RESV_NOTICE_EMPTY          0
#define NVME_RESV_NOTICE_REG_PREEMPTED  1
#define NVME_RESV_NOTICE_RELEASED       2
#define NVME_RESV_NOTICE_PREEMPTED      3
/* Reservation Notification Mask feature: bit n masks notice type n */
#define NVME_RESV_NOTICE_MASKABLE       0xe
/* Asynchronous event: I/O Command Specific Status, log page available */
#define NVME_AER_IO_RESV_LOG_AVAILABLE  0

/* Zoned Namespace Command Set 1.1, 4.1.5.1: LBA Format Extension */
typedef struct QEMU_PACKED NvmeLbafe {
    uint64_t    zsze;       /* zone size in logical blocks */
    uint8_t     zdes;       /* descriptor extension size, 64-byte units */
    uint8_t     rsvd9[7];
} NvmeLbafe;

/* Zoned Namespace Command Set 1.1, 4.1.5.1: Identify Namespace (CSI 02h) */
typedef struct QEMU_PACKED NvmeIdNsZoned {
    uint16_t    zoc;        /* zone operation characteristics */
    uint16_t    ozcs;       /* optional zoned command support */
    uint32_t    mar;        /* maximum active resources, 0's based */
    uint32_t    mor;        /* maximum open resources, 0's based */
    uint32_t    rrl, frl;   /* reset and finish recommended limits */
    uint32_t    rrl1, rrl2, rrl3, frl1, frl2, frl3;
    uint32_t    numzrwa;
    uint16_t    zrwafg, zrwasz;
    uint8_t     zrwacap;
    uint8_t     rsvd53[2763];
    NvmeLbafe   lbafe[16];
    uint8_t     rsvd3072[768];
    uint8_t     vs[256];
} NvmeIdNsZoned;

#define NVME_ID_NS_ZONED_OZCS_RAZB  (1u << 0)   /* read across zones */
#define NVME_ID_NS_ZONED_OZCS_ZRWASUP (1u << 1) /* Zone Random Write Area */
#define NVME_ID_NS_ZONED_ZRWACAP_EXPFLUSHSUP (1u << 0) /* explicit flush */
#define NVME_ZONES_NO_LIMIT         0xffffffff  /* MAR, MOR */

/* Zoned Namespace Command Set 1.1, 4.1.5.2: Identify Controller (CSI 02h) */
typedef struct QEMU_PACKED NvmeIdCtrlZoned {
    uint8_t     zasl;       /* zone append size limit, 2^n min pages */
    uint8_t     rsvd1[4095];
} NvmeIdCtrlZoned;

/*
 * Zoned Namespace Command Set 1.1, 3.4.2: zone states (ZS), and the
 * Zone Receive Action Specific Field filter value selecting each (ZRASF).
 */
#define NVME_ZONE_STATE_LIST(X) \
    X(EMPTY,            0x1, 0x1) \
    X(IMPLICITLY_OPEN,  0x2, 0x2) \
    X(EXPLICITLY_OPEN,  0x3, 0x3) \
    X(CLOSED,           0x4, 0x4) \
    X(READ_ONLY,        0xd, 0x6) \
    X(FULL,             0xe, 0x5) \
    X(OFFLINE,          0xf, 0x7)

#define NVME_ZONE_STATE_ENUMERATOR(name, zs, zrasf) \
    NVME_ZONE_STATE_##name = (zs), NVME_ZONE_REPORT_##name = (zrasf),
enum {
    NVME_ZONE_STATE_LIST(NVME_ZONE_STATE_ENUMERATOR)
};
#define NVME_ZONE_REPORT_ALL        0x0

#define NVME_ZONE_TYPE_SEQ_WRITE    0x2

/* Zone Attributes (ZA) */
#define NVME_ZA_FINISHED_BY_CTRL    (1u << 0)
#define NVME_ZA_FINISH_RECOMMENDED  (1u << 1)
#define NVME_ZA_RESET_RECOMMENDED   (1u << 2)
#define NVME_ZA_ZRWA_VALID          (1u << 3)   /* ZRWAV */
#define NVME_ZA_ZD_EXT_VALID        (1u << 7)

/* Zoned Namespace Command Set 1.1, 3.4.2.2: Zone Descriptor */
typedef struct QEMU_PACKED NvmeZoneDescr {
    uint8_t     zt;         /* zone type, bits 3:0 */
    uint8_t     zs;         /* zone state, bits 7:4 */
    uint8_t     za;
    uint8_t     zai;
    uint8_t     rsvd4[4];
    uint64_t    zcap;
    uint64_t    zslba;
    uint64_t    wp;
    uint8_t     rsvd32[32];
} NvmeZoneDescr;

/* Zone Management Receive data: this header, then the descriptors */
typedef struct QEMU_PACKED NvmeZoneReportHeader {
    uint64_t    nr_zones;
    uint8_t     rsvd8[56];
} NvmeZoneReportHeader;

/* Zone Send Action (CDW13 bits 7:0); Select All is CDW13 bit 8 */
#define NVME_ZONE_ACTION_CLOSE      0x01
#define NVME_ZONE_ACTION_FINISH     0x02
#define NVME_ZONE_ACTION_OPEN       0x03
#define NVME_ZONE_ACTION_RESET      0x04
#define NVME_ZONE_ACTION_OFFLINE    0x05
#define NVME_ZONE_ACTION_SET_ZDE    0x10
#define NVME_ZONE_ACTION_ZRWA_FLUSH 0x11    /* Flush Explicit ZRWA Range */
#define NVME_ZONE_SEND_SELECT_ALL   (1u << 8)
/* Zone Send Action Specific Option: with Open, allocate a ZRWA (ZRWAA) */
#define NVME_ZONE_SEND_ZRWAA        (1u << 9)

/*
 * Zone Receive Action (CDW13 7:0): a report, or one with the descriptor
 * extensions; the filter (ZRASF) in bits 15:8; Partial Report in bit 16.
 */
#define NVME_ZONE_REPORT_BASIC      0x00
#define NVME_ZONE_REPORT_EXTENDED   0x01
#define NVME_ZONE_REPORT_FILTERS    0x07    /* highest ZRASF value */
#define NVME_ZONE_REPORT_PARTIAL    (1u << 16)

/* Zoned Namespace Command Set 1.1, 5.1.2.1: Changed Zone List log */
#define NVME_CHANGED_ZONES_MAX      511
typedef struct QEMU_PACKED NvmeChangedZoneList {
    uint16_t    nrzid;      /* FFFFh: more changed than listed */
    uint8_t     rsvd2[6];
    uint64_t    zid[NVME_CHANGED_ZONES_MAX];
} NvmeChangedZoneList;

/* Base 5.17.2.3: Namespace Identification Descriptor */
typedef struct QEMU_PACKED NvmeIdNsDescr {
    uint8_t     nidt, nidl, rsvd2[2];   /* identifier follows: nidl bytes */
} NvmeIdNsDescr;

enum NvmeNsIdentifierType {
    NVME_NIDT_EUI64 = 0x1,
    NVME_NIDT_NGUID = 0x2,
    NVME_NIDT_UUID  = 0x3,
    NVME_NIDT_CSI   = 0x4,
};

#define NVME_NIDL_EUI64 8
#define NVME_NIDL_NGUID 16
#define NVME_NIDL_UUID  16
#define NVME_NIDL_CSI   1

#define NVME_NSID_BROADCAST     0xffffffff
#define NVME_IDENTIFY_DATA_SIZE 4096

/* Log page identifiers (Base 5.16) */
#define NVME_LOG_ID_LIST(X) \
    X(SUPPORTED_LOGS,     0x00) \
    X(ERROR_INFO,         0x01) \
    X(SMART_INFO,         0x02) \
    X(FW_SLOT_INFO,       0x03) \
    X(CHANGED_NSLIST,     0x04) \
    X(CMD_EFFECTS,        0x05) \
    X(DEVICE_SELF_TEST,   0x06) \
    X(ANA,                0x0c) \
    X(RESV_NOTIFICATION,  0x80) \
    X(LBA_STATUS,         0x0e) \
    X(CHANGED_ZONE_LIST,  0xbf)

#define NVME_LOG_ID_ENUMERATOR(name, value) NVME_LOG_##name = (value),
enum NvmeLogIdentifier {
    NVME_LOG_ID_LIST(NVME_LOG_ID_ENUMERATOR)
};

/* Get Log Page CDW10 */
#define NVME_LOG_LID(cdw10)         ((cdw10) & 0xff)
#define NVME_LOG_LSP(cdw10)         (((cdw10) >> 8) & 0x7f)
#define NVME_LOG_RAE(cdw10)         (((cdw10) >> 15) & 0x1)
#define NVME_LOG_NUMDL(cdw10)       ((cdw10) >> 16)

/* Base 5.16.1.2: Error Information log entry */
typedef struct QEMU_PACKED NvmeErrorLog {
    uint64_t    error_count;
    uint16_t    sqid, cid, status_field, param_error_location;
    uint64_t    lba;
    uint32_t    nsid;
    uint8_t     vs, trtype, rsvd30[2];
    uint64_t    cs;
    uint16_t    trtype_spec_info;
    uint8_t     rsvd42[22];
} NvmeErrorLog;

/* Base 5.16.1.3: SMART / Health Information log (names as qemu-ga uses) */
typedef struct QEMU_PACKED NvmeSmartLog {
    uint8_t     critical_warning;
    uint16_t    temperature;
    uint8_t     available_spare, available_spare_threshold, percentage_used;
    uint8_t     endurance_group_critical_warning, rsvd7[25];
    /* 128-bit little-endian counters, as two 64-bit halves */
    uint64_t    data_units_read[2], data_units_written[2];
    uint64_t    host_read_commands[2], host_write_commands[2];
    uint64_t    controller_busy_time[2], power_cycles[2], power_on_hours[2];
    uint64_t    unsafe_shutdowns[2], media_errors[2];
    uint64_t    number_of_error_log_entries[2];
    uint32_t    warning_temp_time, critical_temp_time;
    uint16_t    temp_sensor[8];
    uint8_t     rsvd216[296];
} NvmeSmartLog;

#define NVME_SMART_WARN_SPARE           (1u << 0)
#define NVME_SMART_WARN_TEMPERATURE     (1u << 1)
#define NVME_SMART_WARN_RELIABILITY     (1u << 2)
#define NVME_SMART_WARN_READ_ONLY       (1u << 3)
#define NVME_SMART_WARN_VOLATILE_MEM    (1u << 4)
#define NVME_SMART_WARN_PMR_UNRELIABLE  (1u << 5)

/* Base 5.16.1.4: Firmware Slot Information log */
typedef struct QEMU_PACKED NvmeFwSlotInfoLog {
    uint8_t     afi;
    uint8_t     rsvd1[7];
    uint8_t     frs[7][8];
    uint8_t     rsvd64[448];
} NvmeFwSlotInfoLog;

/* Base 5.16.1.6: Commands Supported and Effects log */
typedef struct QEMU_PACKED NvmeEffectsLog {
    uint32_t    acs[256], iocs[256];    /* admin and I/O commands */
    uint8_t     rsvd2048[2048];
} NvmeEffectsLog;

/*
 * Effects entry: command supported; may change logical block content,
 * namespace capabilities, the namespace inventory, controller capabilities;
 * Command Submission and Execution (CSE) rule in bits 18:16.
 */
#define NVME_CMD_EFF_CSUPP      (1u << 0)
#define NVME_CMD_EFF_LBCC       (1u << 1)
#define NVME_CMD_EFF_NCC        (1u << 2)
#define NVME_CMD_EFF_NIC        (1u << 3)
#define NVME_CMD_EFF_CCC        (1u << 4)
#define NVME_CMD_EFF_CSE(cse)   ((uint32_t)(cse) << 16)

/* Base 5.16.1.1: Supported Log Pages log */
typedef struct QEMU_PACKED NvmeSupportedLogs {
    uint32_t    lids[256];
} NvmeSupportedLogs;

/* Base 5.2: Asynchronous Event Request completion DW0 */
/* Asynchronous Event Type, then the Asynchronous Event Information per type */
enum NvmeAsyncEventType {
    NVME_AER_TYPE_ERROR = 0, NVME_AER_TYPE_SMART = 1, NVME_AER_TYPE_NOTICE = 2,
    NVME_AER_TYPE_IO_SPECIFIC = 6, NVME_AER_TYPE_VENDOR = 7,
};

enum NvmeAsyncErrorInfo {
    NVME_AER_ERR_INVALID_DB_REGISTER, NVME_AER_ERR_INVALID_DB_VALUE,
    NVME_AER_ERR_DIAGNOSTIC_FAILURE, NVME_AER_ERR_PERSISTENT_INTERNAL,
    NVME_AER_ERR_TRANSIENT_INTERNAL, NVME_AER_ERR_FW_IMAGE_LOAD,
};

enum NvmeAsyncSmartInfo {
    NVME_AER_SMART_RELIABILITY, NVME_AER_SMART_TEMP_THRESHOLD,
    NVME_AER_SMART_SPARE_THRESHOLD,
};

enum NvmeAsyncNoticeInfo {
    NVME_AER_NOTICE_NS_ATTR_CHANGED, NVME_AER_NOTICE_FW_ACTIVATION_STARTING,
    NVME_AER_NOTICE_TELEMETRY_LOG_CHANGED, NVME_AER_NOTICE_ANA_CHANGE,
};
/* Zoned: Zone Descriptor Changed, enabled by Async Event Config bit 27 */
#define NVME_AER_NOTICE_ZONE_DESCR_CHANGED  0xef
#define NVME_AEC_ZONE_DESCR_CHANGED         (1u << 27)

#define NVME_AER_RESULT(type, info, lid) \
    (((type) & 0x7) | (((info) & 0xff) << 8) | (((lid) & 0xff) << 16))

/* Feature identifiers (Base 5.27.1) */
#define NVME_FEATURE_ID_LIST(X) \
    X(ARBITRATION,                0x01) \
    X(POWER_MANAGEMENT,           0x02) \
    X(LBA_RANGE_TYPE,             0x03) \
    X(TEMPERATURE_THRESHOLD,      0x04) \
    X(ERROR_RECOVERY,             0x05) \
    X(VOLATILE_WRITE_CACHE,       0x06) \
    X(NUMBER_OF_QUEUES,           0x07) \
    X(INTERRUPT_COALESCING,       0x08) \
    X(INTERRUPT_VECTOR_CONF,      0x09) \
    X(WRITE_ATOMICITY,            0x0a) \
    X(ASYNCHRONOUS_EVENT_CONF,    0x0b) \
    X(AUTONOMOUS_POWER_STATE,     0x0c) \
    X(TIMESTAMP,                  0x0e) \
    X(KEEP_ALIVE_TIMER,           0x0f) \
    X(HOST_BEHAVIOR_SUPPORT,      0x16) \
    X(COMMAND_SET_PROFILE,        0x19) \
    X(SOFTWARE_PROGRESS_MARKER,   0x80) \
    X(HOST_IDENTIFIER,            0x81) \
    X(RESV_NOTIFICATION_MASK,     0x82) \
    X(RESV_PERSISTENCE,           0x83) \
    X(NS_WRITE_PROTECT_CONFIG,    0x84)

#define NVME_FEATURE_ID_ENUMERATOR(name, value) NVME_FEAT_##name = (value),
enum NvmeFeatureIds {
    NVME_FEATURE_ID_LIST(NVME_FEATURE_ID_ENUMERATOR)
};

#define NVME_FEAT_FID_MAX       0x100

/* Get/Set Features CDW10 */
#define NVME_FEAT_FID(cdw10)        ((cdw10) & 0xff)
#define NVME_GETFEAT_SEL(cdw10)     (((cdw10) >> 8) & 0x7)
#define NVME_SETFEAT_SAVE(cdw10)    (((cdw10) >> 31) & 0x1)

enum NvmeGetFeatureSelect {
    NVME_GETFEAT_SELECT_CURRENT = 0x0,
    NVME_GETFEAT_SELECT_DEFAULT = 0x1,
    NVME_GETFEAT_SELECT_SAVED   = 0x2,
    NVME_GETFEAT_SELECT_CAP     = 0x3,
};

/* Supported capabilities (SEL 011b) result bits */
#define NVME_FEAT_CAP_SAVE          (1u << 0)
#define NVME_FEAT_CAP_NS            (1u << 1)
#define NVME_FEAT_CAP_CHANGE        (1u << 2)

/* Base 5.8: Firmware Commit actions */
enum NvmeFwCommitActions {
    NVME_FW_COMMIT_REPLACE              = 0x0,
    NVME_FW_COMMIT_REPLACE_AND_ACTIVATE = 0x1,
    NVME_FW_COMMIT_ACTIVATE             = 0x2,
    NVME_FW_COMMIT_ACTIVATE_NOW         = 0x3,
};

/* Compile-time checks of every structure's size (and key offsets). */
static inline void nvme_check_spec_sizes(void)
{
    QEMU_BUILD_BUG_ON(sizeof(NvmeBar) != 4096);
    QEMU_BUILD_BUG_ON(offsetof(NvmeBar, pmrcap) != 0xe00);
    QEMU_BUILD_BUG_ON(sizeof(NvmeSglDescriptor) != 16);
    QEMU_BUILD_BUG_ON(sizeof(NvmeCmd) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeCqe) != 16);
    QEMU_BUILD_BUG_ON(sizeof(NvmeDsmRange) != 16);
    QEMU_BUILD_BUG_ON(sizeof(NvmePSD) != 32);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdCtrl) != 4096);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, oacs) != 256);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, sqes) != 512);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, subnqn) != 768);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, psd) != 2048);
    QEMU_BUILD_BUG_ON(sizeof(NvmeLBAF) != 4);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdNs) != 4096);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdNs, anagrpid) != 92);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdNs, nguid) != 104);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdNs, lbaf) != 128);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsNvm) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdCtrlNvm) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsDescr) != 4);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsInd) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdIocs) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeErrorLog) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeSmartLog) != 512);
    QEMU_BUILD_BUG_ON(sizeof(NvmeFwSlotInfoLog) != 512);
    QEMU_BUILD_BUG_ON(sizeof(NvmeEffectsLog) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsZoned) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeResvStatus) != 24);
    QEMU_BUILD_BUG_ON(sizeof(NvmeResvController) != 24);
    QEMU_BUILD_BUG_ON(sizeof(NvmeResvStatusExt) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeResvControllerExt) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeResvNotificationLog) != 64);
    QEMU_BUILD_BUG_ON(offsetof(NvmeIdNsZoned, lbafe) != 2816);
    QEMU_BUILD_BUG_ON(sizeof(NvmeIdCtrlZoned) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeZoneDescr) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeZoneReportHeader) != 64);
    QEMU_BUILD_BUG_ON(sizeof(NvmeChangedZoneList) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(NvmeSupportedLogs) != 1024);
}

#endif /* BLOCK_NVME_H */
