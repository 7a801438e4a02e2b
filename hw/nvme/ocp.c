/*
 * OCP Datacenter NVMe SSD Specification 2.0 log pages (ocp=on): SMART /
 * Health Information Extended (C0h), Error Recovery (C1h), Latency Monitor
 * (C3h), Device Capabilities (C4h) and Unsupported Requirements (C5h).
 *
 * Each page ends with its Log Page Version and Log Page GUID, which tools
 * (nvme-cli's ocp plugin) check before they decode anything. The pages are
 * built on every read from the controller's counters and Identify data:
 * no state of their own, nothing to reset or migrate.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "nvme.h"
#include "trace.h"

#define OCP_LOG_SMART_EXTENDED      0xc0
#define OCP_LOG_ERROR_RECOVERY      0xc1
#define OCP_LOG_LATENCY_MONITOR     0xc3
#define OCP_LOG_DEVICE_CAPABILITIES 0xc4
#define OCP_LOG_UNSUPPORTED_REQS    0xc5

/* DSSD specification version the pages describe: 2.0.0, errata 0 */
#define OCP_DSSD_MAJOR              2
#define OCP_DSSD_MINOR              0

/* SMART / Health Information Extended (C0h), 512 bytes */
typedef struct QEMU_PACKED OcpSmartExtendedLog {
    uint8_t     pmuw[16];       /* Physical Media Units Written, bytes */
    uint8_t     pmur[16];       /* Physical Media Units Read, bytes */
    uint8_t     bunb_raw[6];    /* Bad User NAND Blocks */
    uint16_t    bunb_norm;
    uint8_t     bsnb_raw[6];    /* Bad System NAND Blocks */
    uint16_t    bsnb_norm;
    uint64_t    xor_recovery;
    uint64_t    uncorrectable_reads;
    uint64_t    soft_ecc_errors;
    uint32_t    e2e_detected;
    uint32_t    e2e_corrected;
    uint8_t     system_data_used;   /* percent */
    uint8_t     refresh_counts[7];
    uint32_t    max_erase_count;
    uint32_t    min_erase_count;
    uint8_t     throttling_events;
    uint8_t     throttling_status;
    uint8_t     dssd_errata;
    uint16_t    dssd_point;
    uint16_t    dssd_minor;
    uint8_t     dssd_major;
    uint64_t    pcie_correctable_errors;
    uint32_t    incomplete_shutdowns;
    uint8_t     rsvd116[4];
    uint8_t     free_blocks;        /* percent */
    uint8_t     rsvd121[7];
    uint16_t    capacitor_health;
    uint8_t     nvme_errata;
    uint8_t     rsvd131[5];
    uint64_t    unaligned_io;
    uint64_t    security_version;
    uint64_t    total_nuse;
    uint8_t     plp_start_count[16];
    uint8_t     endurance_estimate[16];
    uint64_t    pcie_link_retraining;
    uint64_t    power_state_changes;
    uint8_t     rsvd208[286];
    uint16_t    log_page_version;
    uint8_t     log_page_guid[16];
} OcpSmartExtendedLog;

/* Error Recovery (C1h), 512 bytes */
typedef struct QEMU_PACKED OcpErrorRecoveryLog {
    uint16_t    panic_reset_wait_time;
    uint8_t     panic_reset_action;
    uint8_t     device_recovery_action1;
    uint64_t    panic_id;
    uint32_t    device_capabilities;
    uint8_t     vendor_recovery_opcode;
    uint8_t     rsvd17[3];
    uint32_t    vendor_cdw12;
    uint32_t    vendor_cdw13;
    uint8_t     vendor_cmd_timeout;
    uint8_t     device_recovery_action2;
    uint8_t     device_recovery_action2_timeout;
    uint8_t     rsvd31[463];
    uint16_t    log_page_version;
    uint8_t     log_page_guid[16];
} OcpErrorRecoveryLog;

/* Latency Monitor (C3h), 512 bytes; [bucket][read, write, deallocate] */
typedef struct QEMU_PACKED OcpLatencyMonitorLog {
    uint8_t     feature_status;
    uint8_t     rsvd1;
    uint16_t    active_bucket_timer;
    uint16_t    active_bucket_timer_threshold;
    uint8_t     active_threshold[4];
    uint16_t    active_latency_config;
    uint8_t     active_latency_min_window;
    uint8_t     rsvd13[19];
    uint32_t    active_bucket_counter[4][4];
    uint64_t    active_latency_timestamp[4][3];
    uint16_t    active_measured_latency[4][3];
    uint16_t    active_latency_stamp_units;
    uint8_t     rsvd218[22];
    uint32_t    static_bucket_counter[4][4];
    uint64_t    static_latency_timestamp[4][3];
    uint16_t    static_measured_latency[4][3];
    uint16_t    static_latency_stamp_units;
    uint8_t     rsvd426[22];
    uint16_t    debug_log_trigger_enable;
    uint16_t    debug_log_measured_latency;
    uint64_t    debug_log_latency_stamp;
    uint16_t    debug_log_pointer;
    uint16_t    debug_counter_trigger_source;
    uint8_t     debug_log_stamp_units;
    uint8_t     rsvd465[29];
    uint16_t    log_page_version;
    uint8_t     log_page_guid[16];
} OcpLatencyMonitorLog;

/* Device Capabilities (C4h), 4096 bytes */
typedef struct QEMU_PACKED OcpDeviceCapabilitiesLog {
    uint16_t    pcie_ports;
    uint16_t    oob_management;
    uint16_t    write_zeroes;
    uint16_t    sanitize;
    uint16_t    dsm;
    uint16_t    write_uncorrectable;
    uint16_t    fused;
    uint16_t    min_dssd_power_state;
    uint8_t     dssd_power_states[128];
    uint8_t     rsvd144[3934];
    uint16_t    log_page_version;
    uint8_t     log_page_guid[16];
} OcpDeviceCapabilitiesLog;

/* Unsupported Requirements (C5h), 4096 bytes */
#define OCP_UNSUPPORTED_MAX     253
typedef struct QEMU_PACKED OcpUnsupportedReqsLog {
    uint16_t    count;
    uint8_t     rsvd2[14];
    char        ids[OCP_UNSUPPORTED_MAX][16];
    uint8_t     rsvd4064[14];
    uint16_t    log_page_version;
    uint8_t     log_page_guid[16];
} OcpUnsupportedReqsLog;

/* The GUIDs as stored in the log, least significant byte first */
static const uint8_t ocp_guid_smart[16] = {
    0xc5, 0xaf, 0x10, 0x28, 0xea, 0xbf, 0xf2, 0xa4,
    0x9c, 0x4f, 0x6f, 0x7c, 0xc9, 0x14, 0xd5, 0xaf,
};
static const uint8_t ocp_guid_error_recovery[16] = {
    0x44, 0xd9, 0x31, 0x21, 0xfe, 0x30, 0x34, 0xae,
    0xab, 0x4d, 0xfd, 0x3d, 0xba, 0x83, 0x19, 0x5a,
};
static const uint8_t ocp_guid_latency_monitor[16] = {
    0x92, 0x7a, 0xc0, 0x8c, 0xd0, 0x84, 0x6c, 0x9c,
    0x70, 0x43, 0xe6, 0xd4, 0x58, 0x5e, 0xd4, 0x85,
};
static const uint8_t ocp_guid_device_capabilities[16] = {
    0x97, 0x42, 0x05, 0x0d, 0xd1, 0xe1, 0xc9, 0x98,
    0x5d, 0x49, 0x58, 0x4b, 0x91, 0x3c, 0x05, 0xb7,
};
static const uint8_t ocp_guid_unsupported_reqs[16] = {
    0x2f, 0x72, 0x9c, 0x0e, 0x99, 0x23, 0x2c, 0xbb,
    0x63, 0x48, 0x32, 0xd0, 0xb7, 0x98, 0xbb, 0xc7,
};

/* Capability words of C4h: bit 15 says the word is filled in */
#define OCP_CAP_VALID           (1u << 15)

static void ocp_put_u128(uint8_t *dst, uint64_t val)
{
    stq_le_p(dst, val);
    stq_le_p(dst + 8, 0);
}

static void nvme_ocp_smart_extended(NvmeCtrl *n, OcpSmartExtendedLog *log)
{
    uint64_t nuse = 0;

    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(n, nsid);

        if (ns) {
            nuse += le64_to_cpu(ns->id_ns.nuse);
        }
    }

    /* The medium is the backing file: what the host moved is what it got */
    ocp_put_u128(log->pmuw, n->data_units_written);
    ocp_put_u128(log->pmur, n->data_units_read);
    /* No flash: no bad blocks, spares and free blocks never run out */
    log->bunb_norm = cpu_to_le16(100);
    log->bsnb_norm = cpu_to_le16(100);
    log->free_blocks = 100;
    /* No capacitor (Volatile Write Cache, no PLP): FFFFh */
    log->capacitor_health = cpu_to_le16(0xffff);
    log->dssd_major = OCP_DSSD_MAJOR;
    log->dssd_minor = cpu_to_le16(OCP_DSSD_MINOR);
    log->total_nuse = cpu_to_le64(nuse);
    log->log_page_version = cpu_to_le16(3);     /* DSSD 2.0 */
    memcpy(log->log_page_guid, ocp_guid_smart, 16);
}

static void nvme_ocp_error_recovery(NvmeCtrl *n, OcpErrorRecoveryLog *log)
{
    /* No panics to recover from: every action field stays "none" (0) */
    log->log_page_version = cpu_to_le16(2);
    memcpy(log->log_page_guid, ocp_guid_error_recovery, 16);
}

static void nvme_ocp_latency_monitor(NvmeCtrl *n, OcpLatencyMonitorLog *log)
{
    /*
     * Latency monitoring is off (Feature Status 0): the Latency Monitor
     * feature (C5h) that would enable it is not implemented, so the buckets
     * stay empty and no latency event has a time stamp (all ones).
     */
    memset(log->active_latency_timestamp, 0xff,
           sizeof(log->active_latency_timestamp));
    memset(log->static_latency_timestamp, 0xff,
           sizeof(log->static_latency_timestamp));
    log->log_page_version = cpu_to_le16(1);
    memcpy(log->log_page_guid, ocp_guid_latency_monitor, 16);
}

static void nvme_ocp_device_capabilities(NvmeCtrl *n,
                                         OcpDeviceCapabilitiesLog *log)
{
    uint16_t oncs = le16_to_cpu(n->id_ctrl.oncs);
    uint16_t wz = 0;

    if (oncs & NVME_ONCS_WRITE_ZEROES) {
        wz = 0x7;       /* supported, with DEAC and FUA */
    }
    log->pcie_ports = cpu_to_le16(1);
    log->oob_management = cpu_to_le16(OCP_CAP_VALID);   /* no NVMe-MI */
    log->write_zeroes = cpu_to_le16(OCP_CAP_VALID | wz);
    log->sanitize = cpu_to_le16(OCP_CAP_VALID |
                                (n->id_ctrl.sanicap ? 1 : 0));
    log->dsm = cpu_to_le16(OCP_CAP_VALID |
                           (oncs & NVME_ONCS_DSM ? 0x3 : 0));
    log->write_uncorrectable = cpu_to_le16(OCP_CAP_VALID |
                                           (oncs & NVME_ONCS_WRITE_UNCORR ?
                                            1 : 0));
    log->fused = cpu_to_le16(OCP_CAP_VALID |
                             (le16_to_cpu(n->id_ctrl.fuses) & 1));
    /* One power state (PS0), no DSSD power state table */
    log->log_page_version = cpu_to_le16(1);
    memcpy(log->log_page_guid, ocp_guid_device_capabilities, 16);
}

/* Requirements an emulated device cannot meet, by OCP requirement ID */
static const char *const ocp_unsupported[] = {
    "PLP-1",    /* power loss protection: the cache is volatile */
};

static void nvme_ocp_unsupported_reqs(NvmeCtrl *n, OcpUnsupportedReqsLog *log)
{
    for (int i = 0; i < ARRAY_SIZE(ocp_unsupported); i++) {
        strpadcpy(log->ids[i], sizeof(log->ids[i]), ocp_unsupported[i], 0);
    }
    log->count = cpu_to_le16(ARRAY_SIZE(ocp_unsupported));
    log->log_page_version = cpu_to_le16(1);
    memcpy(log->log_page_guid, ocp_guid_unsupported_reqs, 16);
}

bool nvme_ocp_log_supported(NvmeCtrl *n, uint8_t lid)
{
    switch (lid) {
    case OCP_LOG_SMART_EXTENDED:
    case OCP_LOG_ERROR_RECOVERY:
    case OCP_LOG_LATENCY_MONITOR:
    case OCP_LOG_DEVICE_CAPABILITIES:
    case OCP_LOG_UNSUPPORTED_REQS:
        return n->params.ocp;
    default:
        return false;
    }
}

/* Supported Log Pages (Base 5.16.1.1): LSUPP for each OCP page */
void nvme_ocp_supported_logs(NvmeCtrl *n, NvmeSupportedLogs *log)
{
    for (int lid = OCP_LOG_SMART_EXTENDED; lid <= OCP_LOG_UNSUPPORTED_REQS;
         lid++) {
        if (nvme_ocp_log_supported(n, lid)) {
            log->lids[lid] = cpu_to_le32(1);
        }
    }
}

/*
 * Get Log Page for a page nvme_ocp_log_supported() accepted. The pages are
 * controller-wide: NSID, LSP, RAE and the UUID index do not change them.
 */
uint16_t nvme_ocp_get_log(NvmeCtrl *n, NvmeRequest *req, uint8_t lid,
                          uint64_t offset, uint64_t len)
{
    union {
        OcpSmartExtendedLog smart;
        OcpErrorRecoveryLog error_recovery;
        OcpLatencyMonitorLog latency;
        OcpDeviceCapabilitiesLog capabilities;
        OcpUnsupportedReqsLog unsupported;
    } log = {};
    size_t size;

    trace_nvme_ocp_get_log(lid, offset, len);
    switch (lid) {
    case OCP_LOG_SMART_EXTENDED:
        nvme_ocp_smart_extended(n, &log.smart);
        size = sizeof(log.smart);
        break;
    case OCP_LOG_ERROR_RECOVERY:
        nvme_ocp_error_recovery(n, &log.error_recovery);
        size = sizeof(log.error_recovery);
        break;
    case OCP_LOG_LATENCY_MONITOR:
        nvme_ocp_latency_monitor(n, &log.latency);
        size = sizeof(log.latency);
        break;
    case OCP_LOG_DEVICE_CAPABILITIES:
        nvme_ocp_device_capabilities(n, &log.capabilities);
        size = sizeof(log.capabilities);
        break;
    case OCP_LOG_UNSUPPORTED_REQS:
        nvme_ocp_unsupported_reqs(n, &log.unsupported);
        size = sizeof(log.unsupported);
        break;
    default:
        return NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR;
    }
    if (offset >= size) {
        return nvme_cmd_error(req, NVME_SC_INVALID_FIELD | NVME_SC_DNR,
                              "log page offset beyond the log");
    }
    return nvme_dma_to_host(n, req, (uint8_t *)&log + offset,
                            MIN(len, size - offset));
}

static void __attribute__((unused)) nvme_ocp_build_checks(void)
{
    QEMU_BUILD_BUG_ON(sizeof(OcpSmartExtendedLog) != 512);
    QEMU_BUILD_BUG_ON(offsetof(OcpSmartExtendedLog, dssd_major) != 103);
    QEMU_BUILD_BUG_ON(offsetof(OcpSmartExtendedLog, total_nuse) != 152);
    QEMU_BUILD_BUG_ON(sizeof(OcpErrorRecoveryLog) != 512);
    QEMU_BUILD_BUG_ON(sizeof(OcpLatencyMonitorLog) != 512);
    QEMU_BUILD_BUG_ON(offsetof(OcpLatencyMonitorLog,
                               debug_log_trigger_enable) != 0x1c0);
    QEMU_BUILD_BUG_ON(sizeof(OcpDeviceCapabilitiesLog) != 4096);
    QEMU_BUILD_BUG_ON(sizeof(OcpUnsupportedReqsLog) != 4096);
}
