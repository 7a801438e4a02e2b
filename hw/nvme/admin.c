/*
 * NVMe device model: admin command set.
 *
 * Identify, queue management, features, log pages, asynchronous events,
 * Keep Alive. Each handler decodes and validates its fields
 * before it changes state, and returns an NVMe status (or NVME_NO_COMPLETE
 * when the request completes later).
 *
 * The opcode table at the bottom is the one source for dispatch, OACS in
 * Identify Controller and the Commands Supported and Effects log.
 *
 * Written from the NVM Express Base Specification 2.0, section 5.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/cutils.h"
#include "hw/pci/msix.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

static uint16_t nvme_invalid_field(NvmeRequest *req, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR, "nvme: admin opcode 0x%x: %s\n",
                  req->cmd.opcode, why);
    trace_nvme_err_invalid_field(req->cmd.opcode, why);
    return NVME_SC_INVALID_FIELD | NVME_SC_DNR;
}

/* Identify (Base 5.17) */

/*
 * CNS 00h (common fields) and 05h (command set specific). An invalid NSID
 * fails; a valid but inactive one returns a zero-filled structure.
 */
static uint16_t nvme_identify_ns(NvmeCtrl *n, NvmeRequest *req,
                                 bool cs_specific, uint8_t csi,
                                 bool allocated)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeNamespace *ns;
    static const uint8_t zeroes[NVME_IDENTIFY_DATA_SIZE];

    if (nsid == NVME_NSID_BROADCAST && !cs_specific &&
        nvme_nsmgmt_supported(n)) {
        /* What namespaces created with Namespace Management offer */
        g_autofree NvmeIdNs *common = g_new(NvmeIdNs, 1);

        nvme_nsmgmt_common_id_ns(common);
        return nvme_dma_to_host(n, req, common, sizeof(*common));
    }
    if (nsid == 0 || nsid > nvme_ctrl_nsid_max()) {
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    if (cs_specific && csi != NVME_CSI_NVM && csi != NVME_CSI_ZONED) {
        return nvme_invalid_field(req, "unsupported CSI");
    }
    ns = allocated ? nvme_nsmgmt_allocated(n, nsid) : nvme_ctrl_ns(n, nsid);
    if (!ns) {
        /* Inactive NSID: zeroes, whatever the supported command set */
        return nvme_dma_to_host(n, req, zeroes, sizeof(zeroes));
    }
    if (cs_specific && csi == NVME_CSI_ZONED) {
        return nvme_zns_identify_ns(n, req, ns);
    }
    if (cs_specific) {
        return nvme_dma_to_host(n, req, &ns->id_ns_nvm,
                                sizeof(ns->id_ns_nvm));
    }
    return nvme_dma_to_host(n, req, &ns->id_ns, sizeof(ns->id_ns));
}

static uint16_t nvme_identify_ns_independent(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeNamespace *ns;
    NvmeIdNsInd ind = {};

    if (nsid == 0 || nsid > nvme_ctrl_nsid_max()) {
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    ns = nvme_ctrl_ns(n, nsid);
    if (ns) {
        ind.nsfeat = ns->id_ns.nsfeat;
        ind.nmic = ns->id_ns.nmic;
        ind.rescap = ns->id_ns.rescap;
        ind.anagrpid = ns->id_ns.anagrpid;
        ind.nstat = NVME_NSTAT_NRDY;
    }
    return nvme_dma_to_host(n, req, &ind, sizeof(ind));
}

/*
 * CNS 02h and 07h: active NSIDs greater than the command's NSID; CNS 10h:
 * allocated ones, attached to this controller or not.
 */
static uint16_t nvme_identify_ns_list(NvmeCtrl *n, NvmeRequest *req,
                                      bool check_csi, uint8_t csi,
                                      bool allocated)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint32_t list[NVME_IDENTIFY_DATA_SIZE / 4] = {};
    int count = 0;

    if (nsid >= NVME_NSID_BROADCAST - 1) {
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    if (check_csi && csi != NVME_CSI_NVM && csi != NVME_CSI_ZONED) {
        return nvme_invalid_field(req, "unsupported CSI");
    }
    for (uint32_t i = nsid + 1; i <= nvme_ctrl_nsid_max(); i++) {
        NvmeNamespace *ns = allocated ? nvme_nsmgmt_allocated(n, i)
                                      : nvme_ctrl_ns(n, i);

        if (ns && (!check_csi || ns->csi == csi)) {
            list[count++] = cpu_to_le32(i);
            if (count == ARRAY_SIZE(list)) {
                break;
            }
        }
    }
    return nvme_dma_to_host(n, req, list, sizeof(list));
}

static size_t nvme_put_ns_descr(uint8_t *buf, uint8_t nidt, uint8_t nidl,
                                const void *id)
{
    NvmeIdNsDescr hdr = { .nidt = nidt, .nidl = nidl };

    memcpy(buf, &hdr, sizeof(hdr));
    memcpy(buf + sizeof(hdr), id, nidl);
    return sizeof(hdr) + nidl;
}

static uint16_t nvme_identify_ns_descr_list(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t list[NVME_IDENTIFY_DATA_SIZE] = {};
    NvmeNamespace *ns;
    uint8_t *p = list;
    static const uint8_t zero_nguid[16];

    if (nsid == 0 || nsid > nvme_ctrl_nsid_max()) {
        trace_nvme_err_invalid_nsid(0, nsid);
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    ns = nvme_ctrl_ns(n, nsid);
    if (!ns) {
        return NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR;
    }
    if (ns->params.eui64) {
        uint64_t eui64 = cpu_to_be64(ns->params.eui64);

        p += nvme_put_ns_descr(p, NVME_NIDT_EUI64, NVME_NIDL_EUI64, &eui64);
    }
    if (memcmp(ns->nguid, zero_nguid, sizeof(zero_nguid))) {
        p += nvme_put_ns_descr(p, NVME_NIDT_NGUID, NVME_NIDL_NGUID, ns->nguid);
    }
    if (!qemu_uuid_is_null(&ns->params.uuid)) {
        p += nvme_put_ns_descr(p, NVME_NIDT_UUID, NVME_NIDL_UUID,
                               ns->params.uuid.data);
    }
    nvme_put_ns_descr(p, NVME_NIDT_CSI, NVME_NIDL_CSI, &ns->csi);
    return nvme_dma_to_host(n, req, list, sizeof(list));
}

static uint16_t nvme_identify_cs_ctrl(NvmeCtrl *n, NvmeRequest *req,
                                      uint8_t csi)
{
    NvmeIdCtrlNvm id = {};

    if (csi == NVME_CSI_ZONED) {
        return nvme_zns_identify_ctrl(n, req);
    }
    if (csi != NVME_CSI_NVM) {
        return nvme_invalid_field(req, "unsupported CSI");
    }
    /* Verify is limited (vsl); WZSL, WUSL zero: no limit; no DSM limits */
    id.vsl = n->params.vsl;
    return nvme_dma_to_host(n, req, &id, sizeof(id));
}

static uint16_t nvme_identify_iocs(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeIdIocs iocs = {};

    if (!n->admin_only) {
        iocs.iocsc[0] = cpu_to_le64(NVME_IOCS_NVM | NVME_IOCS_ZONED);
    }
    return nvme_dma_to_host(n, req, &iocs, sizeof(iocs));
}

/* Capacities and NWPC depend on the subsystem: filled in when asked. */
static uint16_t nvme_identify_ctrl(NvmeCtrl *n, NvmeRequest *req)
{
    g_autofree NvmeIdCtrl *id = g_memdup2(&n->id_ctrl, sizeof(n->id_ctrl));

    if (nvme_nsmgmt_has_pool(n)) {
        uint64_t total = n->subsys->tnvmcap;
        uint64_t unalloc = total - MIN(n->subsys->pool_used, total);

        stq_le_p(id->tnvmcap, total);
        stq_le_p(id->unvmcap, unalloc);
    }
    id->nwpc = nvme_wp_nwpc(n);
    return nvme_dma_to_host(n, req, id, sizeof(*id));
}

static uint16_t nvme_identify(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t cns = cdw10 & 0xff;
    uint8_t csi = le32_to_cpu(req->cmd.cdw11) >> 24;

    trace_nvme_identify(cns, le32_to_cpu(req->cmd.nsid), csi);
    switch (cns) {
    case NVME_ID_CNS_NS:
        return nvme_identify_ns(n, req, false, 0, false);
    case NVME_ID_CNS_CTRL:
        return nvme_identify_ctrl(n, req);
    case NVME_ID_CNS_NS_ACTIVE_LIST:
        return nvme_identify_ns_list(n, req, false, 0, false);
    case NVME_ID_CNS_NS_DESCR_LIST:
        return nvme_identify_ns_descr_list(n, req);
    case NVME_ID_CNS_CS_NS:
        return nvme_identify_ns(n, req, true, csi, false);
    case NVME_ID_CNS_CS_CTRL:
        return nvme_identify_cs_ctrl(n, req, csi);
    case NVME_ID_CNS_CS_NS_ACTIVE_LIST:
        return nvme_identify_ns_list(n, req, true, csi, false);
    case NVME_ID_CNS_NS_PRESENT_LIST:
        return nvme_identify_ns_list(n, req, false, 0, true);
    case NVME_ID_CNS_NS_PRESENT:
        return nvme_identify_ns(n, req, false, 0, true);
    case NVME_ID_CNS_NS_ATTACHED_CTRL_LIST:
        return nvme_nsmgmt_identify_ctrl_list(n, req,
                                              le32_to_cpu(req->cmd.nsid));
    case NVME_ID_CNS_CTRL_LIST:
        return nvme_nsmgmt_identify_ctrl_list(n, req, 0);
    case NVME_ID_CNS_NS_INDEPENDENT:
        return nvme_identify_ns_independent(n, req);
    case NVME_ID_CNS_IO_COMMAND_SET:
        return nvme_identify_iocs(n, req);
    case NVME_ID_CNS_PRIMARY_CTRL_CAP:
        if (!nvme_sriov_vm_supported(n) && !nvme_is_vf(n)) {
            return nvme_invalid_field(req, "unsupported CNS");
        }
        return nvme_identify_pri_ctrl_cap(n, req);
    case NVME_ID_CNS_SECONDARY_CTRL_LIST:
        if (!nvme_sriov_vm_supported(n) && !nvme_is_vf(n)) {
            return nvme_invalid_field(req, "unsupported CNS");
        }
        return nvme_identify_sec_ctrl_list(n, req);
    default:
        return nvme_invalid_field(req, "unsupported CNS");
    }
}

/* Queue management (Base 5.4, 5.5, 5.6, 5.7) */

static uint16_t nvme_check_queue_memory(NvmeCtrl *n, NvmeRequest *req,
                                        uint64_t prp1, uint32_t cdw11)
{
    if (!(cdw11 & NVME_CQ_PC)) {
        /* CAP.CQR is set: queues must be physically contiguous. */
        return nvme_invalid_field(req, "queue not physically contiguous");
    }
    if (!prp1 || (prp1 & (n->page_size - 1))) {
        return nvme_invalid_field(req, "queue base not page aligned");
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_check_queue_size(NvmeCtrl *n, uint32_t qsize)
{
    if (qsize < 2 || qsize > NVME_CAP_MQES(n->cap) + 1) {
        trace_nvme_err_queue_size(qsize);
        return NVME_SC_INVALID_QUEUE_SIZE | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_create_cq(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t cdw11 = le32_to_cpu(req->cmd.cdw11);
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr.prp1);
    uint16_t cqid = cdw10 & 0xffff;
    uint32_t qsize = (cdw10 >> 16) + 1;
    uint16_t vector = cdw11 >> 16;
    bool ien = cdw11 & NVME_CQ_IEN;
    uint16_t status;

    if (cqid == 0 || cqid >= n->num_queues || n->cq[cqid] ||
        (n->nr_cq_granted && cqid > n->nr_cq_granted)) {
        trace_nvme_err_invalid_qid(cqid);
        return NVME_SC_INVALID_QUEUE_ID | NVME_SC_DNR;
    }
    status = nvme_check_queue_size(n, qsize);
    if (status) {
        return status;
    }
    status = nvme_check_queue_memory(n, req, prp1, cdw11);
    if (!status) {
        status = nvme_cmb_check_queue(n, prp1, qsize * sizeof(NvmeCqe));
    }
    if (status) {
        return status;
    }
    if (NVME_CC_IOCQES(n->cc) != NVME_CQES) {
        return nvme_invalid_field(req, "CC.IOCQES is not 4");
    }
    if (ien && (nvme_ctrl_msix_enabled(n) ? vector >= n->nr_vectors
                                          : vector != 0)) {
        trace_nvme_err_invalid_vector(vector);
        return NVME_SC_INVALID_INTERRUPT_VECTOR | NVME_SC_DNR;
    }
    status = nvme_cq_create(n, cqid, prp1, qsize, vector, ien);
    nvme_dbbuf_attach(n, cqid);
    return status;
}

static uint16_t nvme_create_sq(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t cdw11 = le32_to_cpu(req->cmd.cdw11);
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr.prp1);
    uint16_t sqid = cdw10 & 0xffff;
    uint32_t qsize = (cdw10 >> 16) + 1;
    uint16_t cqid = cdw11 >> 16;
    uint16_t status;

    if (sqid == 0 || sqid >= n->num_queues || n->sq[sqid] ||
        (n->nr_sq_granted && sqid > n->nr_sq_granted)) {
        trace_nvme_err_invalid_qid(sqid);
        return NVME_SC_INVALID_QUEUE_ID | NVME_SC_DNR;
    }
    if (cqid == 0 || cqid >= n->num_queues || !n->cq[cqid]) {
        trace_nvme_err_invalid_qid(cqid);
        return NVME_SC_CQ_INVALID | NVME_SC_DNR;
    }
    status = nvme_check_queue_size(n, qsize);
    if (status) {
        return status;
    }
    status = nvme_check_queue_memory(n, req, prp1, cdw11);
    if (!status) {
        status = nvme_cmb_check_queue(n, prp1, qsize * sizeof(NvmeCmd));
    }
    if (status) {
        return status;
    }
    if (NVME_CC_IOSQES(n->cc) != NVME_SQES) {
        return nvme_invalid_field(req, "CC.IOSQES is not 6");
    }
    status = nvme_sq_create(n, sqid, cqid, prp1, qsize);
    nvme_dbbuf_attach(n, sqid);
    return status;
}

static uint16_t nvme_delete_sq(NvmeCtrl *n, NvmeRequest *req)
{
    uint16_t sqid = le32_to_cpu(req->cmd.cdw10) & 0xffff;

    if (sqid == 0 || sqid >= n->num_queues || !n->sq[sqid]) {
        trace_nvme_err_invalid_qid(sqid);
        return NVME_SC_INVALID_QUEUE_ID | NVME_SC_DNR;
    }
    trace_nvme_sq_delete(sqid);
    nvme_sq_free(n, n->sq[sqid]);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_delete_cq(NvmeCtrl *n, NvmeRequest *req)
{
    uint16_t cqid = le32_to_cpu(req->cmd.cdw10) & 0xffff;
    NvmeCQueue *cq;

    if (cqid == 0 || cqid >= n->num_queues || !n->cq[cqid]) {
        trace_nvme_err_invalid_qid(cqid);
        return NVME_SC_INVALID_QUEUE_ID | NVME_SC_DNR;
    }
    cq = n->cq[cqid];
    if (!QTAILQ_EMPTY(&cq->sq_list)) {
        return NVME_SC_INVALID_QUEUE_DELETION | NVME_SC_DNR;
    }
    trace_nvme_cq_delete(cqid);
    nvme_cq_free(n, cq);
    return NVME_SC_SUCCESS;
}

/* Features (Base 5.27): one descriptor per Feature Identifier */

typedef struct NvmeFeatureDesc {
    uint16_t (*get)(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0);
    uint16_t (*set)(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11);
    uint32_t default_value;
    uint32_t *(*field)(NvmeCtrl *n);    /* plain 32-bit features */
    uint32_t writable_mask;
    bool ns_specific;
} NvmeFeatureDesc;

static uint32_t *feat_arbitration(NvmeCtrl *n)
{
    return &n->features.arbitration;
}

static uint32_t *feat_power_mgmt(NvmeCtrl *n)
{
    return &n->features.power_mgmt;
}

static uint32_t *feat_err_rec(NvmeCtrl *n)
{
    return &n->features.err_rec;
}

static uint32_t *feat_int_coalescing(NvmeCtrl *n)
{
    return &n->features.int_coalescing;
}

static uint32_t *feat_write_atomicity(NvmeCtrl *n)
{
    return &n->features.write_atomicity;
}

static uint16_t nvme_feat_async_config_get(NvmeCtrl *n, NvmeRequest *req,
                                           uint32_t *dw0)
{
    *dw0 = n->features.async_config;
    return NVME_SC_SUCCESS;
}

/* SMART, Namespace Attribute, Firmware, Telemetry, ANA notices, zones */
#define NVME_AEC_WRITABLE   (0xbff | NVME_AEC_ZONE_DESCR_CHANGED)

static uint16_t nvme_feat_async_config_set(NvmeCtrl *n, NvmeRequest *req,
                                           uint32_t dw11)
{
    uint32_t old = n->features.async_config;

    n->features.async_config = dw11 & NVME_AEC_WRITABLE;
    /* Critical warnings already present are reported once enabled */
    nvme_smart_events(n, n->features.async_config & ~old);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_temp_get(NvmeCtrl *n, NvmeRequest *req,
                                   uint32_t *dw0)
{
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint8_t tmpsel = (dw11 >> 16) & 0xf;
    uint8_t thsel = (dw11 >> 20) & 0x3;

    if (tmpsel != 0) {
        return nvme_invalid_field(req, "only the composite sensor exists");
    }
    *dw0 = thsel == 0 ? n->features.temp_thresh_hi
                      : n->features.temp_thresh_lo;
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_temp_set(NvmeCtrl *n, NvmeRequest *req,
                                   uint32_t dw11)
{
    uint8_t tmpsel = (dw11 >> 16) & 0xf;
    uint8_t thsel = (dw11 >> 20) & 0x3;

    if (tmpsel != 0 || thsel > 1) {
        return nvme_invalid_field(req, "bad TMPSEL or THSEL");
    }
    if (thsel == 0) {
        n->features.temp_thresh_hi = dw11 & 0xffff;
    } else {
        n->features.temp_thresh_lo = dw11 & 0xffff;
    }
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_vwc_get(NvmeCtrl *n, NvmeRequest *req, uint32_t *dw0)
{
    *dw0 = n->features.vwc;
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_vwc_set(NvmeCtrl *n, NvmeRequest *req, uint32_t dw11)
{
    n->features.vwc = dw11 & 1;
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNamespace *ns = n->namespaces[i];

        if (ns) {
            if (!n->features.vwc) {
                nvme_ns_flush(ns);
            }
            blk_set_enable_write_cache(ns->blk, n->features.vwc);
        }
    }
    return NVME_SC_SUCCESS;
}

static uint32_t nvme_num_queues_result(NvmeCtrl *n)
{
    uint16_t nsq = n->nr_sq_granted ? n->nr_sq_granted : n->num_queues - 1;
    uint16_t ncq = n->nr_cq_granted ? n->nr_cq_granted : n->num_queues - 1;

    return (nsq - 1) | ((uint32_t)(ncq - 1) << 16);
}

static uint16_t nvme_feat_num_queues_get(NvmeCtrl *n, NvmeRequest *req,
                                         uint32_t *dw0)
{
    if (n->admin_only) {
        return nvme_invalid_field(req, "no I/O queues on an administrative "
                                  "controller");
    }
    *dw0 = nvme_num_queues_result(n);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_num_queues_set(NvmeCtrl *n, NvmeRequest *req,
                                         uint32_t dw11)
{
    uint32_t nsqr = (dw11 & 0xffff) + 1;
    uint32_t ncqr = (dw11 >> 16) + 1;

    if (n->admin_only) {
        return nvme_invalid_field(req, "no I/O queues on an administrative "
                                  "controller");
    }
    if (nsqr == 0x10000 || ncqr == 0x10000) {
        return nvme_invalid_field(req, "65536 queues requested");
    }
    for (uint32_t i = 1; i < n->num_queues; i++) {
        if (n->sq[i] || n->cq[i]) {
            /* Base 5.27.1.7: only before any I/O queue exists. */
            return NVME_SC_COMMAND_SEQUENCE_ERROR | NVME_SC_DNR;
        }
    }
    n->nr_sq_granted = MIN(nsqr, n->num_queues - 1);
    n->nr_cq_granted = MIN(ncqr, n->num_queues - 1);
    req->cqe.result = cpu_to_le32(nvme_num_queues_result(n));
    return NVME_SC_SUCCESS;
}

/* Interrupt Vector Configuration: IV (15:0), Coalescing Disable (16) */
static uint16_t nvme_feat_int_vector_get(NvmeCtrl *n, NvmeRequest *req,
                                         uint32_t *dw0)
{
    uint16_t iv = le32_to_cpu(req->cmd.cdw11) & 0xffff;

    if (iv >= n->nr_vectors) {
        return nvme_invalid_field(req, "interrupt vector out of range");
    }
    *dw0 = iv | (test_bit(iv, n->no_coalescing) ? 1u << 16 : 0);
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_int_vector_set(NvmeCtrl *n, NvmeRequest *req,
                                         uint32_t dw11)
{
    uint16_t iv = dw11 & 0xffff;

    if (iv >= n->nr_vectors) {
        return nvme_invalid_field(req, "interrupt vector out of range");
    }
    if (iv == 0) {
        /* The admin queue's vector is never coalesced anyway. */
        return nvme_invalid_field(req, "vector 0 is the admin vector");
    }
    if (dw11 & (1u << 16)) {
        set_bit(iv, n->no_coalescing);
    } else {
        clear_bit(iv, n->no_coalescing);
    }
    return NVME_SC_SUCCESS;
}

static int64_t nvme_timestamp_now(NvmeCtrl *n)
{
    int64_t elapsed = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) -
                      n->timestamp_set_ns / SCALE_MS;

    return (n->host_timestamp + elapsed) & ((1ULL << 48) - 1);
}

static uint16_t nvme_feat_timestamp_get(NvmeCtrl *n, NvmeRequest *req,
                                        uint32_t *dw0)
{
    uint64_t ts = nvme_timestamp_now(n);
    uint8_t data[8];

    /* Timestamp (47:0), Synch (48) clear, Origin (51:49) set by host. */
    ts |= (n->host_timestamp ? 1ULL : 0ULL) << 49;
    stq_le_p(data, ts);
    return nvme_dma_to_host(n, req, data, sizeof(data));
}

static uint16_t nvme_feat_timestamp_set(NvmeCtrl *n, NvmeRequest *req,
                                        uint32_t dw11)
{
    uint8_t data[8];
    uint16_t status = nvme_dma_from_host(n, req, data, sizeof(data));

    if (status) {
        return status;
    }
    n->host_timestamp = ldq_le_p(data) & ((1ULL << 48) - 1);
    n->timestamp_set_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    return NVME_SC_SUCCESS;
}

/* Host Identifier (Base 5.27.1.28): 64-bit, or 128-bit with EXHID set. */
static uint16_t nvme_feat_host_id_get(NvmeCtrl *n, NvmeRequest *req,
                                      uint32_t *dw0)
{
    bool exhid = le32_to_cpu(req->cmd.cdw11) & 1;

    if (exhid != n->host_id_extended) {
        /* The size asked for must match the one that was set. */
        return NVME_SC_HOST_ID_INCONSISTENT | NVME_SC_DNR;
    }
    return nvme_dma_to_host(n, req, n->host_id, exhid ? 16 : 8);
}

static uint16_t nvme_feat_host_id_set(NvmeCtrl *n, NvmeRequest *req,
                                      uint32_t dw11)
{
    bool exhid = dw11 & 1;
    uint8_t id[16] = {};
    uint16_t status;

    for (uint32_t i = 1; i < n->num_queues; i++) {
        if (n->sq[i]) {
            /* Only while no I/O queue exists (host identity is fixed). */
            return NVME_SC_COMMAND_SEQUENCE_ERROR | NVME_SC_DNR;
        }
    }
    status = nvme_dma_from_host(n, req, id, exhid ? 16 : 8);
    if (status) {
        return status;
    }
    memcpy(n->host_id, id, sizeof(id));
    n->host_id_extended = exhid;
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_kato_get(NvmeCtrl *n, NvmeRequest *req,
                                   uint32_t *dw0)
{
    *dw0 = n->kato;
    return NVME_SC_SUCCESS;
}

/* The timeout is kept and reported; a PCIe host is not disconnected. */
static uint16_t nvme_feat_kato_set(NvmeCtrl *n, NvmeRequest *req,
                                   uint32_t dw11)
{
    /* Rounded up to KAS, without wrapping past the largest multiple. */
    n->kato = MIN(QEMU_ALIGN_UP((uint64_t)dw11, 100),
                  QEMU_ALIGN_DOWN(UINT32_MAX, 100));
    req->cqe.result = cpu_to_le32(n->kato);
    return NVME_SC_SUCCESS;
}

/* Command Set Profile: index into the I/O Command Set combinations. */
static uint16_t nvme_feat_csp_get(NvmeCtrl *n, NvmeRequest *req,
                                  uint32_t *dw0)
{
    *dw0 = 0;
    return NVME_SC_SUCCESS;
}

static uint16_t nvme_feat_csp_set(NvmeCtrl *n, NvmeRequest *req,
                                  uint32_t dw11)
{
    if ((dw11 & 0x1ff) != 0) {
        /* Only combination 0 (NVM) is reported by Identify CNS 1Ch. */
        return NVME_SC_IOCS_COMBINATION_REJECTED | NVME_SC_DNR;
    }
    return NVME_SC_SUCCESS;
}

static const NvmeFeatureDesc nvme_features[NVME_FEAT_FID_MAX] = {
    [NVME_FEAT_ARBITRATION] = {
        .field = feat_arbitration, .writable_mask = 0xffffff07,
        .default_value = NVME_ARB_BURST_UNLIMITED,
    },
    [NVME_FEAT_POWER_MANAGEMENT] = {
        .field = feat_power_mgmt, .writable_mask = 0x1f,
    },
    [NVME_FEAT_TEMPERATURE_THRESHOLD] = {
        .get = nvme_feat_temp_get, .set = nvme_feat_temp_set,
        .default_value = 0x157,
    },
    [NVME_FEAT_ERROR_RECOVERY] = {
        .field = feat_err_rec, .writable_mask = 0xffff | NVME_ERR_REC_DULBE,
    },
    [NVME_FEAT_VOLATILE_WRITE_CACHE] = {
        .get = nvme_feat_vwc_get, .set = nvme_feat_vwc_set,
        .default_value = 1,
    },
    [NVME_FEAT_NUMBER_OF_QUEUES] = {
        .get = nvme_feat_num_queues_get, .set = nvme_feat_num_queues_set,
    },
    [NVME_FEAT_INTERRUPT_COALESCING] = {
        .field = feat_int_coalescing, .writable_mask = 0xffff,
    },
    [NVME_FEAT_INTERRUPT_VECTOR_CONF] = {
        .get = nvme_feat_int_vector_get, .set = nvme_feat_int_vector_set,
    },
    [NVME_FEAT_WRITE_ATOMICITY] = {
        .field = feat_write_atomicity, .writable_mask = 0x1,
    },
    [NVME_FEAT_ASYNCHRONOUS_EVENT_CONF] = {
        .get = nvme_feat_async_config_get,
        .set = nvme_feat_async_config_set,
    },
    [NVME_FEAT_TIMESTAMP] = {
        .get = nvme_feat_timestamp_get, .set = nvme_feat_timestamp_set,
    },
    [NVME_FEAT_KEEP_ALIVE_TIMER] = {
        .get = nvme_feat_kato_get, .set = nvme_feat_kato_set,
    },
    [NVME_FEAT_COMMAND_SET_PROFILE] = {
        .get = nvme_feat_csp_get, .set = nvme_feat_csp_set,
    },
    [NVME_FEAT_HOST_IDENTIFIER] = {
        .get = nvme_feat_host_id_get, .set = nvme_feat_host_id_set,
    },
    [NVME_FEAT_NS_WRITE_PROTECT_CONFIG] = {
        .get = nvme_wp_feature_get, .set = nvme_wp_feature_set,
        .ns_specific = true,
    },
    [NVME_FEAT_RESV_NOTIFICATION_MASK] = {
        .get = nvme_resv_mask_get, .set = nvme_resv_mask_set,
        .ns_specific = true,
    },
    [NVME_FEAT_RESV_PERSISTENCE] = {
        .get = nvme_resv_ptpl_get, .set = nvme_resv_ptpl_set,
        .ns_specific = true,
    },
};

/* The namespace of a namespace-specific feature, or why there is none */
NvmeNamespace *nvme_feature_ns(NvmeCtrl *n, NvmeRequest *req,
                               uint16_t *status)
{
    NvmeNamespace *ns = nvme_ctrl_ns(n, le32_to_cpu(req->cmd.nsid));

    if (!ns) {
        *status = nvme_cmd_error(req, NVME_SC_INVALID_NAMESPACE | NVME_SC_DNR,
                                 "namespace feature without an attached "
                                 "namespace");
    }
    return ns;
}

static bool nvme_feature_supported(uint8_t fid)
{
    const NvmeFeatureDesc *f = &nvme_features[fid];

    return f->get || f->field;
}

static uint16_t nvme_get_features(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint8_t fid = NVME_FEAT_FID(cdw10);
    uint8_t sel = NVME_GETFEAT_SEL(cdw10);
    const NvmeFeatureDesc *f = &nvme_features[fid];
    uint32_t dw0 = 0;
    uint16_t status = NVME_SC_SUCCESS;

    trace_nvme_getfeat(fid, sel);
    if (!nvme_feature_supported(fid)) {
        return nvme_invalid_field(req, "unsupported feature");
    }
    switch (sel) {
    case NVME_GETFEAT_SELECT_CURRENT:
    case NVME_GETFEAT_SELECT_SAVED:     /* nothing is saveable: current */
        if (f->field) {
            dw0 = *f->field(n);
        } else {
            status = f->get(n, req, &dw0);
        }
        break;
    case NVME_GETFEAT_SELECT_DEFAULT:
        dw0 = f->default_value;
        if (fid == NVME_FEAT_NUMBER_OF_QUEUES) {
            dw0 = (n->num_queues - 2) | ((n->num_queues - 2) << 16);
        } else if (fid == NVME_FEAT_WRITE_ATOMICITY) {
            dw0 = n->params.atomic_dn;      /* atomic.dn */
        } else if (fid == NVME_FEAT_TIMESTAMP ||
                   fid == NVME_FEAT_HOST_IDENTIFIER) {
            /* Their values travel in a data buffer. */
            status = f->get(n, req, &dw0);
        }
        break;
    case NVME_GETFEAT_SELECT_CAP:
        dw0 = NVME_FEAT_CAP_CHANGE | (f->ns_specific ? NVME_FEAT_CAP_NS : 0);
        break;
    default:
        return nvme_invalid_field(req, "reserved SEL");
    }
    req->cqe.result = cpu_to_le32(dw0);
    return status;
}

static uint16_t nvme_set_features(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    uint8_t fid = NVME_FEAT_FID(cdw10);
    const NvmeFeatureDesc *f = &nvme_features[fid];

    trace_nvme_setfeat(fid, dw11);
    if (!nvme_feature_supported(fid)) {
        return nvme_invalid_field(req, "unsupported feature");
    }
    if (NVME_SETFEAT_SAVE(cdw10)) {
        return NVME_SC_FEATURE_NOT_SAVEABLE | NVME_SC_DNR;
    }
    if (f->field) {
        *f->field(n) = dw11 & f->writable_mask;
        return NVME_SC_SUCCESS;
    }
    return f->set(n, req, dw11);
}

/* Asynchronous events (Base 5.2) */

static bool nvme_event_enabled(NvmeCtrl *n, uint8_t type, uint8_t info)
{
    uint32_t cfg = n->features.async_config;

    switch (type) {
    case NVME_AER_TYPE_SMART:
        return cfg & 0xff;
    case NVME_AER_TYPE_NOTICE:
        if (info == NVME_AER_NOTICE_ZONE_DESCR_CHANGED) {
            return cfg & NVME_AEC_ZONE_DESCR_CHANGED;
        }
        return cfg & (1u << (8 + info));
    default:
        return true;
    }
}

void nvme_aer_process(NvmeCtrl *n)
{
    for (int i = 0; i < n->pending_event_count && n->outstanding_aers;) {
        NvmeAsyncEvent *ev = &n->pending_events[i];
        NvmeRequest *req;

        if (n->aer_mask & (1u << ev->type)) {
            i++;
            continue;
        }
        req = n->aer_reqs[--n->outstanding_aers];
        n->aer_reqs[n->outstanding_aers] = NULL;
        n->aer_mask |= 1u << ev->type;
        req->cqe.result = cpu_to_le32(NVME_AER_RESULT(ev->type, ev->info,
                                                      ev->log_page));
        trace_nvme_aer_complete(ev->type, ev->info, ev->log_page);
        memmove(ev, ev + 1,
                (--n->pending_event_count - i) * sizeof(*ev));
        req->status = NVME_SC_SUCCESS;
        nvme_req_complete(req);
    }
}

/*
 * Events wait for an AER in a queue of aer_max_queued entries; beyond
 * that, the oldest are kept and a new event that no waiting AER takes is
 * dropped. The array has one spare slot: after nvme_aer_process, either
 * no AER waits or every queued event is masked, so an event still in the
 * spare slot is the new one. It grows on demand (aer_max_queued may be
 * large).
 */
void nvme_enqueue_event(NvmeCtrl *n, uint8_t type, uint8_t info,
                        uint8_t log_page)
{
    if (!nvme_event_enabled(n, type, info)) {
        return;
    }
    if (n->pending_event_count == n->pending_event_slots) {
        uint64_t slots = MIN((uint64_t)n->pending_event_slots * 2,
                             (uint64_t)n->params.aer_max_queued + 1);

        if (slots > UINT32_MAX || slots <= n->pending_event_slots) {
            trace_nvme_aer_dropped(type, info, log_page);
            return;
        }
        n->pending_event_slots = slots;
        n->pending_events = g_renew(NvmeAsyncEvent, n->pending_events,
                                    n->pending_event_slots);
    }
    n->pending_events[n->pending_event_count++] = (NvmeAsyncEvent) {
        .type = type, .info = info, .log_page = log_page,
    };
    nvme_aer_process(n);
    if (n->pending_event_count > n->params.aer_max_queued) {
        n->pending_event_count--;
        trace_nvme_aer_dropped(type, info, log_page);
    }
}

/* SMART / Health critical warning bits -> Asynchronous Event Information */
void nvme_smart_events(NvmeCtrl *n, uint8_t bits)
{
    bits &= n->params.smart_critical_warning & n->features.async_config;
    for (int i = 0; i < 8; i++) {
        uint8_t info;

        if (!(bits & (1u << i))) {
            continue;
        }
        switch (1u << i) {
        case NVME_SMART_WARN_SPARE:
            info = NVME_AER_SMART_SPARE_THRESHOLD;
            break;
        case NVME_SMART_WARN_TEMPERATURE:
            info = NVME_AER_SMART_TEMP_THRESHOLD;
            break;
        default:
            /* read-only, volatile memory backup, PMR: reliability */
            info = NVME_AER_SMART_RELIABILITY;
        }
        nvme_enqueue_event(n, NVME_AER_TYPE_SMART, info,
                           NVME_LOG_SMART_INFO);
    }
}

void nvme_clear_events(NvmeCtrl *n, uint8_t type)
{
    n->aer_mask &= ~(1u << type);
    nvme_aer_process(n);
}

static uint16_t nvme_async_event_request(NvmeCtrl *n, NvmeRequest *req)
{
    if (n->outstanding_aers > n->params.aerl) {
        return nvme_cmd_error(req, NVME_SC_AER_LIMIT_EXCEEDED,
                              "more outstanding AERs than AERL allows");
    }
    n->aer_reqs[n->outstanding_aers++] = req;
    /* It waits for events, not for work: quiesces do not wait for it. */
    nvme_req_release(req);
    nvme_aer_process(n);
    return NVME_NO_COMPLETE;
}

/* Log pages (Base 5.16) */

typedef struct NvmeLogRequest {
    uint32_t nsid;
    uint64_t offset;
    uint64_t len;
    uint8_t csi;
    bool rae;
} NvmeLogRequest;

static uint16_t nvme_log_copy(NvmeCtrl *n, NvmeRequest *req,
                              const NvmeLogRequest *lr, const void *log,
                              size_t size)
{
    if (lr->offset >= size) {
        return nvme_invalid_field(req, "log page offset beyond the log");
    }
    return nvme_dma_to_host(n, req, (const uint8_t *)log + lr->offset,
                            MIN(lr->len, size - lr->offset));
}

static void nvme_put_u128(uint8_t *dst, uint64_t val)
{
    stq_le_p(dst, val);
    stq_le_p(dst + 8, 0);
}

static uint16_t nvme_log_smart(NvmeCtrl *n, NvmeRequest *req,
                               const NvmeLogRequest *lr)
{
    NvmeSmartLog log = {};
    uint64_t hours = (qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) -
                      n->start_time_ns) / (3600 * NANOSECONDS_PER_SECOND);

    if (lr->nsid != 0 && lr->nsid != NVME_NSID_BROADCAST) {
        /* LPA bit 0 is clear: no per-namespace SMART data. */
        return nvme_invalid_field(req, "per-namespace SMART not supported");
    }
    log.temperature = cpu_to_le16(0x143);       /* 323 K */
    log.available_spare = 100;
    log.available_spare_threshold = 10;
    log.critical_warning = n->params.smart_critical_warning;
    if (0x143 >= n->features.temp_thresh_hi) {
        log.critical_warning |= NVME_SMART_WARN_TEMPERATURE;
    }
    nvme_put_u128((uint8_t *)log.data_units_read,
                  DIV_ROUND_UP(n->data_units_read, 512000));
    nvme_put_u128((uint8_t *)log.data_units_written,
                  DIV_ROUND_UP(n->data_units_written, 512000));
    nvme_put_u128((uint8_t *)log.host_read_commands, n->host_read_commands);
    nvme_put_u128((uint8_t *)log.host_write_commands,
                  n->host_write_commands);
    nvme_put_u128((uint8_t *)log.power_on_hours, hours);
    nvme_put_u128((uint8_t *)log.power_cycles, 1);
    nvme_put_u128((uint8_t *)log.number_of_error_log_entries,
                  n->error_count);
    if (!lr->rae) {
        nvme_clear_events(n, NVME_AER_TYPE_SMART);
    }
    return nvme_log_copy(n, req, lr, &log, sizeof(log));
}

static uint16_t nvme_log_error(NvmeCtrl *n, NvmeRequest *req,
                               const NvmeLogRequest *lr)
{
    NvmeErrorLog log[NVME_ERROR_LOG_ENTRIES] = {};

    /* Newest first; entries never written keep an error count of 0. */
    for (int i = 0; i < NVME_ERROR_LOG_ENTRIES && i < n->error_count; i++) {
        log[i] = n->error_log[(n->error_count - i) % NVME_ERROR_LOG_ENTRIES];
    }

    if (!lr->rae) {
        nvme_clear_events(n, NVME_AER_TYPE_ERROR);
    }
    return nvme_log_copy(n, req, lr, log, sizeof(log));
}

static uint16_t nvme_log_fw_slot(NvmeCtrl *n, NvmeRequest *req,
                                 const NvmeLogRequest *lr)
{
    NvmeFwSlotInfoLog log;

    nvme_fw_slot_log(n, &log);
    return nvme_log_copy(n, req, lr, &log, sizeof(log));
}

static uint16_t nvme_log_effects(NvmeCtrl *n, NvmeRequest *req,
                                 const NvmeLogRequest *lr)
{
    NvmeEffectsLog log = {};

    for (int i = 0; i < 256; i++) {
        if (nvme_opcode_supported(&nvme_admin_opcodes[i], n)) {
            log.acs[i] = cpu_to_le32(nvme_admin_opcodes[i].effects |
                                     NVME_CMD_EFF_CSUPP);
        }
        if ((lr->csi == NVME_CSI_NVM || lr->csi == NVME_CSI_ZONED) &&
            nvme_io_opcode(lr->csi, i)->handler) {
            log.iocs[i] = cpu_to_le32(nvme_io_opcode(lr->csi, i)->effects |
                                      NVME_CMD_EFF_CSUPP);
        }
    }
    return nvme_log_copy(n, req, lr, &log, sizeof(log));
}

static uint16_t nvme_log_changed_nslist(NvmeCtrl *n, NvmeRequest *req,
                                        const NvmeLogRequest *lr)
{
    uint32_t list[NVME_CHANGED_NSID_MAX] = {};
    uint16_t status;

    if (n->nr_changed_nsids > NVME_CHANGED_NSID_MAX) {
        /* More changed than the list holds: the host must scan them all. */
        list[0] = cpu_to_le32(NVME_NSID_BROADCAST);
    } else {
        for (uint32_t i = 0; i < n->nr_changed_nsids; i++) {
            list[i] = cpu_to_le32(n->changed_nsids[i]);
        }
    }
    status = nvme_log_copy(n, req, lr, list, sizeof(list));
    if (!status && !lr->rae) {
        n->nr_changed_nsids = 0;
        nvme_clear_events(n, NVME_AER_TYPE_NOTICE);
    }
    return status;
}

static uint16_t nvme_log_ana(NvmeCtrl *n, NvmeRequest *req,
                             const NvmeLogRequest *lr, uint8_t lsp)
{
    uint16_t status;

    if (!nvme_ana_reported(n)) {
        return NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR;
    }
    status = nvme_ana_log(n, req, lsp, lr->offset, lr->len);
    if (!status && !lr->rae) {
        nvme_clear_events(n, NVME_AER_TYPE_NOTICE);
    }
    return status;
}

static const uint8_t nvme_supported_lids[] = {
    NVME_LOG_SUPPORTED_LOGS, NVME_LOG_ERROR_INFO, NVME_LOG_SMART_INFO,
    NVME_LOG_FW_SLOT_INFO, NVME_LOG_CHANGED_NSLIST, NVME_LOG_CMD_EFFECTS,
    NVME_LOG_LBA_STATUS, NVME_LOG_RESV_NOTIFICATION,
};

static uint16_t nvme_log_supported(NvmeCtrl *n, NvmeRequest *req,
                                   const NvmeLogRequest *lr)
{
    NvmeSupportedLogs log = {};

    for (int i = 0; i < ARRAY_SIZE(nvme_supported_lids); i++) {
        log.lids[nvme_supported_lids[i]] = cpu_to_le32(1);     /* LSUPP */
    }
    if (nvme_ana_reported(n)) {
        log.lids[NVME_LOG_ANA] = cpu_to_le32(1);
    }
    if (lr->csi == NVME_CSI_ZONED) {
        log.lids[NVME_LOG_CHANGED_ZONE_LIST] = cpu_to_le32(1);
    }
    nvme_ocp_supported_logs(n, &log);
    return nvme_log_copy(n, req, lr, &log, sizeof(log));
}

static uint16_t nvme_get_log_page(NvmeCtrl *n, NvmeRequest *req)
{
    uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t cdw11 = le32_to_cpu(req->cmd.cdw11);
    uint32_t cdw12 = le32_to_cpu(req->cmd.cdw12);
    uint32_t cdw13 = le32_to_cpu(req->cmd.cdw13);
    uint32_t cdw14 = le32_to_cpu(req->cmd.cdw14);
    uint8_t lid = NVME_LOG_LID(cdw10);
    uint64_t numd = (((uint64_t)(cdw11 & 0xffff) << 16) |
                     NVME_LOG_NUMDL(cdw10)) + 1;
    NvmeLogRequest lr = {
        .nsid = le32_to_cpu(req->cmd.nsid),
        .offset = ((uint64_t)cdw13 << 32) | cdw12,
        .len = numd << 2,
        .csi = cdw14 >> 24,
        .rae = NVME_LOG_RAE(cdw10),
    };

    trace_nvme_get_log(lid, lr.offset, lr.len);
    if (lr.offset & 0x3) {
        return nvme_invalid_field(req, "log page offset not dword aligned");
    }
    if (lr.len > nvme_xfer_limit(n->params.mdts)) {
        return nvme_invalid_field(req, "log page transfer exceeds MDTS");
    }
    switch (lid) {
    case NVME_LOG_SUPPORTED_LOGS:
        return nvme_log_supported(n, req, &lr);
    case NVME_LOG_ERROR_INFO:
        return nvme_log_error(n, req, &lr);
    case NVME_LOG_SMART_INFO:
        return nvme_log_smart(n, req, &lr);
    case NVME_LOG_FW_SLOT_INFO:
        return nvme_log_fw_slot(n, req, &lr);
    case NVME_LOG_CMD_EFFECTS:
        return nvme_log_effects(n, req, &lr);
    case NVME_LOG_CHANGED_NSLIST:
        return nvme_log_changed_nslist(n, req, &lr);
    case NVME_LOG_LBA_STATUS:
        return nvme_nvm_log_lba_status(n, req, lr.offset, lr.len, lr.rae);
    case NVME_LOG_ANA:
        return nvme_log_ana(n, req, &lr, (cdw10 >> 8) & 0xf);
    case NVME_LOG_CHANGED_ZONE_LIST:
        return nvme_zns_log_changed_zones(n, req, lr.offset, lr.len,
                                          lr.rae);
    case NVME_LOG_RESV_NOTIFICATION:
        return nvme_resv_log(n, req, lr.offset, lr.len, lr.rae);
    default:
        if (nvme_ocp_log_supported(n, lid)) {
            return nvme_ocp_get_log(n, req, lid, lr.offset, lr.len);
        }
        qemu_log_mask(LOG_GUEST_ERROR, "nvme: unsupported log page 0x%x\n",
                      lid);
        trace_nvme_err_invalid_log(lid);
        return NVME_SC_INVALID_LOG_PAGE | NVME_SC_DNR;
    }
}

/* Doorbell Buffer Config (Base 5.8): shadow doorbells for I/O queues */
static uint16_t nvme_dbbuf_config(NvmeCtrl *n, NvmeRequest *req)
{
    uint64_t dbs = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t eis = le64_to_cpu(req->cmd.dptr.prp2);

    if (NVME_CMD_FLAGS_PSDT(req->cmd.flags) != NVME_PSDT_PRP) {
        return nvme_invalid_field(req, "buffers must be given as PRPs");
    }
    if (!dbs || !eis || ((dbs | eis) & (n->page_size - 1))) {
        return nvme_invalid_field(req, "buffers not page aligned");
    }
    n->dbbuf_dbs = dbs;
    n->dbbuf_eis = eis;
    for (uint32_t qid = 1; qid < n->num_queues; qid++) {
        nvme_dbbuf_attach(n, qid);
    }
    trace_nvme_dbbuf_config(dbs, eis);
    return NVME_SC_SUCCESS;
}

/* dbcs=off: OACS, the effects log and dispatch all follow the table */
static bool nvme_dbbuf_supported(NvmeCtrl *n)
{
    return n->params.dbcs;
}

/* Keep Alive (Base 5.25); Abort is in abort.c */

static uint16_t nvme_keep_alive(NvmeCtrl *n, NvmeRequest *req)
{
    return NVME_SC_SUCCESS;
}

const NvmeOpcodeDesc nvme_admin_opcodes[256] = {
    [NVME_ADM_CMD_DELETE_SQ]        = { nvme_delete_sq,
                                        .supported = nvme_ctrl_has_io_queues },
    [NVME_ADM_CMD_CREATE_SQ]        = { nvme_create_sq,
                                        .supported = nvme_ctrl_has_io_queues },
    [NVME_ADM_CMD_GET_LOG_PAGE]     = { nvme_get_log_page },
    [NVME_ADM_CMD_DELETE_CQ]        = { nvme_delete_cq,
                                        .supported = nvme_ctrl_has_io_queues },
    [NVME_ADM_CMD_CREATE_CQ]        = { nvme_create_cq,
                                        .supported = nvme_ctrl_has_io_queues },
    [NVME_ADM_CMD_IDENTIFY]         = { nvme_identify },
    [NVME_ADM_CMD_ABORT]            = { nvme_abort },
    [NVME_ADM_CMD_SET_FEATURES]     = { nvme_set_features,
                                        NVME_CMD_EFF_CCC | NVME_CMD_EFF_NIC },
    [NVME_ADM_CMD_GET_FEATURES]     = { nvme_get_features },
    [NVME_ADM_CMD_ASYNC_EV_REQ]     = { nvme_async_event_request },
    [NVME_ADM_CMD_KEEP_ALIVE]       = { nvme_keep_alive },
    [NVME_ADM_CMD_DBBUF_CONFIG]     = { nvme_dbbuf_config,
                                        .supported = nvme_dbbuf_supported },
    [NVME_ADM_CMD_FW_COMMIT]        = { nvme_fw_commit, NVME_CMD_EFF_CCC },
    [NVME_ADM_CMD_FW_DOWNLOAD]      = { nvme_fw_download },
    [NVME_ADM_CMD_FORMAT_NVM]       = { nvme_format_nvm,
                                        NVME_CMD_EFF_LBCC | NVME_CMD_EFF_NCC |
                                        NVME_CMD_EFF_CSE(1) },
    [NVME_ADM_CMD_GET_LBA_STATUS]   = { nvme_nvm_get_lba_status },
    [NVME_ADM_CMD_NS_MANAGEMENT]    = { nvme_ns_management,
                                        NVME_CMD_EFF_NIC | NVME_CMD_EFF_NCC,
                                        .supported = nvme_nsmgmt_supported },
    [NVME_ADM_CMD_NS_ATTACHMENT]    = { nvme_ns_attachment,
                                        NVME_CMD_EFF_NIC | NVME_CMD_EFF_NCC,
                                        .supported = nvme_nsmgmt_supported },
    [NVME_ADM_CMD_VIRT_MNGMT]       = { nvme_virt_mngmt,
                                        .supported = nvme_sriov_vm_supported },
};

/* Optional Admin Command Support follows from the opcode table. */
static uint16_t nvme_admin_oacs(NvmeCtrl *n)
{
    static const struct {
        uint8_t opcode;
        uint16_t bit;
    } optional[] = {
        { NVME_ADM_CMD_SECURITY_SEND, NVME_OACS_SECURITY },
        { NVME_ADM_CMD_FORMAT_NVM, NVME_OACS_FORMAT },
        { NVME_ADM_CMD_FW_DOWNLOAD, NVME_OACS_FW },
        { NVME_ADM_CMD_NS_MANAGEMENT, NVME_OACS_NS_MGMT },
        { NVME_ADM_CMD_DEV_SELF_TEST, NVME_OACS_SELF_TEST },
        { NVME_ADM_CMD_DIRECTIVE_SEND, NVME_OACS_DIRECTIVES },
        { NVME_ADM_CMD_NVME_MI_SEND, NVME_OACS_MI },
        { NVME_ADM_CMD_VIRT_MNGMT, NVME_OACS_VIRT_MGMT },
        { NVME_ADM_CMD_DBBUF_CONFIG, NVME_OACS_DBBUF },
        { NVME_ADM_CMD_GET_LBA_STATUS, NVME_OACS_LBA_STATUS },
    };
    uint16_t oacs = 0;

    for (int i = 0; i < ARRAY_SIZE(optional); i++) {
        if (nvme_opcode_supported(&nvme_admin_opcodes[optional[i].opcode],
                                  n)) {
            oacs |= optional[i].bit;
        }
    }
    return oacs;
}

static void nvme_pad_string(uint8_t *dst, size_t len, const char *src)
{
    strpadcpy((char *)dst, len, src, ' ');
}

void nvme_admin_init_id_ctrl(NvmeCtrl *n)
{
    NvmeIdCtrl *id = &n->id_ctrl;
    PCIDevice *pci = PCI_DEVICE(n);
    uint8_t *conf = pci->config;

    memset(id, 0, sizeof(*id));
    id->vid = cpu_to_le16(pci_get_word(conf + PCI_VENDOR_ID));
    id->ssvid = cpu_to_le16(pci_get_word(conf + PCI_SUBSYSTEM_VENDOR_ID));
    nvme_pad_string(id->sn, sizeof(id->sn), n->params.serial);
    nvme_pad_string(id->mn, sizeof(id->mn), "QEMU NVMe Ctrl");
    nvme_pad_string(id->fr, sizeof(id->fr), "1.0");
    id->rab = 6;
    /* IEEE OUI of the QEMU project's NVMe devices, least significant first */
    id->ieee[0] = 0x00;
    id->ieee[1] = 0x54;
    id->ieee[2] = 0x52;
    id->mdts = n->params.mdts;
    nvme_atomic_init_id_ctrl(n, id);
    id->cntlid = cpu_to_le16(n->cntlid);
    id->ver = cpu_to_le32(n->vs);
    id->oaes = cpu_to_le32(NVME_OAES_NS_ATTR);
    /* Extended LBA formats: 64-bit guard protection information */
    id->ctratt |= cpu_to_le32(NVME_CTRATT_ELBAS);
    if (n->params.ctratt_mem) {
        /* MDTS and VSL count interleaved metadata or not (nvm.c, meta.c) */
        id->ctratt |= cpu_to_le32(NVME_CTRATT_MEM);
    }
    id->cntrltype = n->admin_only ? NVME_CNTRLTYPE_ADMIN : NVME_CNTRLTYPE_IO;
    id->oacs = cpu_to_le16(nvme_admin_oacs(n));
    id->acl = NVME_ACL;
    id->aerl = n->params.aerl;
    id->fna = 0;                    /* Format and erase per namespace */
    id->lpa = NVME_LPA_CSE_LOG | NVME_LPA_EXTENDED;
    id->elpe = NVME_ERROR_LOG_ENTRIES - 1;
    id->kas = cpu_to_le16(1);       /* KATO granularity: 100 ms */
    id->npss = 0;
    id->wctemp = cpu_to_le16(0x157);
    id->cctemp = cpu_to_le16(0x175);
    id->sqes = (NVME_SQES << 4) | NVME_SQES;
    id->cqes = (NVME_CQES << 4) | NVME_CQES;
    id->nn = cpu_to_le32(NVME_MAX_NAMESPACES);
    id->mnan = cpu_to_le32(NVME_MAX_NAMESPACES);
    id->oncs = cpu_to_le16(nvme_nvm_oncs() | NVME_ONCS_FEATURES |
                           NVME_ONCS_TIMESTAMP);
    /* Volatile write cache present; Flush to NSID FFFFFFFFh unsupported. */
    /* Copy: format 0h, and 1h for namespaces with 64b Guard PI */
    id->ocfs = cpu_to_le16(NVME_OCFS_FORMAT_0 | NVME_OCFS_FORMAT_1);
    id->vwc = (2 << 1) | 1;
    id->sgls = cpu_to_le32(NVME_SGLS_SUPPORTED_NO_ALIGNMENT |
                           NVME_SGLS_BIT_BUCKET | NVME_SGLS_EXCESS_LENGTH);
    if (n->subsys) {
        id->cmic = 1 << 1;      /* may be one of several controllers */
        pstrcpy((char *)id->subnqn, sizeof(id->subnqn), n->subsys->nqn);
    } else {
        snprintf((char *)id->subnqn, sizeof(id->subnqn),
                 "nqn.2019-08.org.qemu:%s", n->params.serial);
    }
    nvme_fw_init(n);
    nvme_ana_init(n);
    id->psd[0].mp = cpu_to_le16(0x9c4);     /* 25 W */
    id->psd[0].enlat = cpu_to_le32(0x10);
    id->psd[0].exlat = cpu_to_le32(0x4);
}
