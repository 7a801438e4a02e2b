/*
 * qtests of SR-IOV (sriov_max_vfs and the other sriov_* properties): the
 * SR-IOV and ARI capabilities, VFs as secondary controllers, Identify CNS
 * 14h and 15h and Virtualization Management.
 *
 * The SR-IOV capability is in extended config space, which the i440FX
 * machine of the qos graph cannot reach: these tests start a q35 machine
 * of their own and use its ECAM window.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "libqos/nvme.h"
#include "hw/pci/pci_regs.h"

#define ECAM_BASE       0xb0000000ULL
#define PF_SLOT         4
#define VF_BAR_BASE     0xc0000000ULL
#define SRIOV_CAP       0x100       /* NVME_SRIOV_CAP_OFFSET */
#define ARI_CAP         0x148       /* NVME_ARI_CAP_OFFSET */
#define VF_ARI_CAP      0x100
#define VF_EXP_CAP      0x80        /* the PCIe capability */

/* SCT 1h (command specific) with DNR */
#define SC_CMD(sc)      (NVME_SC_DNR | (1 << 8) | (sc))
#define SC_INVALID_CTRL_ID      SC_CMD(0x1f)
#define SC_INVALID_SEC_STATE    SC_CMD(0x20)
#define SC_INVALID_RES_COUNT    SC_CMD(0x21)
#define SC_INVALID_RES_ID       SC_CMD(0x22)

/* PF cntlid 0, VFs 1.. (automatic IDs in a fresh subsystem) */
#define PF_CNTLID       0

/* Two VFs, 2 VQ (admin + 1 I/O) and 1 VI each; the PF keeps 4 I/O queues */
#define SRIOV_ARGS "-device nvme,id=nvme0,serial=sriov,subsys=s0," \
    "addr=04.0,max_ioqpairs=8,msix_qsize=8,sriov_max_vfs=2," \
    "sriov_vq_flexible=4,sriov_vi_flexible=2"

/* Namespace 2: every backend request takes 200 ms, so I/O stays in flight */
#define SLOW_NS " -blockdev null-co,node-name=slow,size=1048576," \
    "latency-ns=200000000,read-zeroes=on " \
    "-device nvme-ns,drive=slow,bus=nvme0,nsid=2"

typedef struct SriovVm {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QNvme like;
    QNvme *pf;
    QNvme vf[2];
    uint64_t vf_bar_size;
} SriovVm;

static uint64_t ecam(int devfn, unsigned off)
{
    return ECAM_BASE + ((uint64_t)devfn << 12) + off;
}

static uint64_t pf_cfg(unsigned off)
{
    return ecam(QPCI_DEVFN(PF_SLOT, 0), off);
}

/* q35 with a subsystem, a shared 1 MiB namespace and args */
static void sriov_vm_start(SriovVm *vm, const char *args)
{
    char *img = qnvme_tmp_image(1024 * 1024);  /* freed at the end */

    vm->qts = qtest_initf("-M q35 -nodefaults "
                          "-device nvme-subsys,id=s0,nqn=sriov "
                          "-drive id=d0,if=none,format=raw,file=%s "
                          "%s -device nvme-ns,drive=d0,nsid=1,bus=nvme0",
                          img, args);
    /* Firmware's job: enable ECAM (MCH PCIEXBAR, 256 MiB) */
    qtest_outl(vm->qts, 0xcf8, 0x80000000 | 0x60);
    qtest_outl(vm->qts, 0xcfc, ECAM_BASE | 1);
    pc_alloc_init(&vm->alloc, vm->qts, ALLOC_NO_FLAGS);
    vm->bus = qpci_new_pc(vm->qts, &vm->alloc);
    vm->like.dev.bus = vm->bus;
    vm->like.alloc = &vm->alloc;
    vm->pf = qnvme_open_slot(&vm->like, PF_SLOT);
}

static void sriov_vm_stop(SriovVm *vm)
{
    qnvme_close(vm->pf);
    qpci_free_pc(vm->bus);
    alloc_destroy(&vm->alloc);
    qtest_quit(vm->qts);
}

/* Places VF BAR 0 at VF_BAR_BASE, sets NumVFs and VF Enable, opens VFs */
static void sriov_enable_vfs(SriovVm *vm, uint16_t num)
{
    QTestState *qts = vm->qts;

    qtest_writel(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR), 0xffffffff);
    qtest_writel(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR + 4), 0xffffffff);
    vm->vf_bar_size = -(qtest_readl(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR)) &
                        ~0xfULL) & 0xffffffff;
    qtest_writel(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR), VF_BAR_BASE);
    qtest_writel(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR + 4), 0);
    qtest_writew(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_NUM_VF), num);
    qtest_writew(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL),
                 PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
    for (int i = 0; i < num; i++) {
        QNvme *vf = &vm->vf[i];

        memset(vf, 0, sizeof(*vf));
        vf->dev.bus = vm->bus;
        vf->dev.devfn = QPCI_DEVFN(PF_SLOT, 1 + i);
        vf->alloc = &vm->alloc;
        vf->bar.addr = VF_BAR_BASE + i * vm->vf_bar_size;
        qpci_config_writew(&vf->dev, PCI_COMMAND,
                           PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    }
}

static void sriov_disable_vfs(SriovVm *vm)
{
    qtest_writew(vm->qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL), 0);
}

static uint16_t virt_mngmt(QNvme *n, uint8_t act, uint8_t rt,
                           uint16_t cntlid, uint16_t nr, uint32_t *dw0)
{
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_VIRT_MNGMT,
        .cdw10 = cpu_to_le32(act | (rt << 8) | ((uint32_t)cntlid << 16)),
        .cdw11 = cpu_to_le32(nr),
    };
    NvmeCqe cqe = {};
    uint16_t status = qnvme_cmd(n, 0, &cmd, &cqe);

    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}

static uint16_t identify_cntid(QNvme *n, uint8_t cns, uint16_t cntid,
                               void *buf)
{
    QTestState *qts = n->dev.bus->qts;
    uint64_t addr = qnvme_alloc(n, NVME_IDENTIFY_DATA_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_IDENTIFY,
        .dptr.prp1 = cpu_to_le64(addr),
        .cdw10 = cpu_to_le32(cns | ((uint32_t)cntid << 16)),
    };
    uint16_t status = qnvme_cmd(n, 0, &cmd, NULL);

    qtest_memread(qts, addr, buf, NVME_IDENTIFY_DATA_SIZE);
    guest_free(n->alloc, addr);
    return status;
}

/* Gives VF vfn (0's based) nvq VQ and nvi VI resources and onlines it */
static void sriov_provision(QNvme *pf, int vfn, uint16_t nvq, uint16_t nvi)
{
    uint16_t id = PF_CNTLID + 1 + vfn;
    uint32_t dw0;

    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               id, nvq, &dw0), ==, 0);
    g_assert_cmpuint(dw0, ==, nvq);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VI,
                               id, nvi, &dw0), ==, 0);
    g_assert_cmpuint(dw0, ==, nvi);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ONLINE, 0, id, 0, NULL),
                    ==, 0);
}

static void test_bad_config(void *obj, void *data, QGuestAllocator *a)
{
    static const struct {
        const char *args, *expect;
    } cases[] = {
        { "-device nvme,serial=a,sriov_max_vfs=1,sriov_vq_flexible=2,"
          "sriov_vi_flexible=1", "sriov_max_vfs needs a subsystem" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_vq_flexible=2", "need sriov_max_vfs" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_max_vfs=32,sriov_vq_flexible=64,sriov_vi_flexible=32,"
          "max_ioqpairs=100,msix_qsize=100",
          "sriov_max_vfs must be at most 31" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_max_vfs=2,sriov_vq_flexible=3,sriov_vi_flexible=2",
          "sriov_vq_flexible must be at least 4" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=1",
          "sriov_vi_flexible must be at least 2" },
        /* The primary keeps an I/O queue pair beside the admin queue */
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "max_ioqpairs=4,sriov_max_vfs=1,sriov_vq_flexible=4,"
          "sriov_vi_flexible=1", "sriov_vq_flexible must be at most 3" },
        /* ... and a vector beside the admin queue's */
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "msix_qsize=4,sriov_max_vfs=1,sriov_vq_flexible=2,"
          "sriov_vi_flexible=3", "sriov_vi_flexible must be at most 2" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1,"
          "sriov_max_vq_per_vf=3", "sriov_max_vq_per_vf must be 0 or "
          "between 2 and sriov_vq_flexible" },
        { "-device nvme-subsys,id=s0 -device nvme,serial=a,subsys=s0,"
          "sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1,"
          "sriov_max_vi_per_vf=2", "sriov_max_vi_per_vf must be at most" },
    };

    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *args = g_strdup_printf("-M q35 %s", cases[i].args);

        qnvme_expect_start_failure(args, cases[i].expect);
    }
}

/* The smallest useful line of the documentation starts */
static void test_smallest_line(void *obj, void *data, QGuestAllocator *a)
{
    QTestState *qts = qtest_init("-M q35 -nodefaults "
                                 "-device nvme-subsys,id=s0 "
                                 "-device nvme,serial=x,subsys=s0,"
                                 "sriov_max_vfs=1,sriov_vq_flexible=2,"
                                 "sriov_vi_flexible=1");

    qtest_quit(qts);
}

static void test_capability(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    QTestState *qts;

    sriov_vm_start(&vm, SRIOV_ARGS);
    qts = vm.qts;
    /* SR-IOV (10h) version 1 at 100h, then ARI (0Eh) */
    g_assert_cmphex(qtest_readl(qts, pf_cfg(SRIOV_CAP)), ==,
                    (ARI_CAP << 20) | (1 << 16) | PCI_EXT_CAP_ID_SRIOV);
    g_assert_cmphex(qtest_readl(qts, pf_cfg(ARI_CAP)) & 0xffff, ==,
                    PCI_EXT_CAP_ID_ARI);
    g_assert_cmpuint(qtest_readw(qts, pf_cfg(SRIOV_CAP +
                                             PCI_SRIOV_INITIAL_VF)), ==, 2);
    g_assert_cmpuint(qtest_readw(qts, pf_cfg(SRIOV_CAP +
                                             PCI_SRIOV_TOTAL_VF)), ==, 2);
    g_assert_cmpuint(qtest_readw(qts, pf_cfg(SRIOV_CAP +
                                             PCI_SRIOV_VF_OFFSET)), ==, 1);
    g_assert_cmpuint(qtest_readw(qts, pf_cfg(SRIOV_CAP +
                                             PCI_SRIOV_VF_STRIDE)), ==, 1);
    g_assert_cmphex(qtest_readw(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_VF_DID)),
                    ==, 0x0010);
    /* VF BAR 0: 64-bit memory */
    g_assert_cmphex(qtest_readl(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_BAR)) &
                    0xf, ==, PCI_BASE_ADDRESS_MEM_TYPE_64);

    /* NumVFs above TotalVFs: VF Enable does not take */
    qtest_writew(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_NUM_VF), 3);
    qtest_writew(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL),
                 PCI_SRIOV_CTRL_VFE);
    g_assert_cmphex(qtest_readw(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL)) &
                    PCI_SRIOV_CTRL_VFE, ==, 0);

    sriov_enable_vfs(&vm, 2);
    g_assert_cmphex(qtest_readw(qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL)) &
                    PCI_SRIOV_CTRL_VFE, ==, PCI_SRIOV_CTRL_VFE);
    /* VFs report no SR-IOV capability: ARI only */
    for (int i = 0; i < 2; i++) {
        int devfn = QPCI_DEVFN(PF_SLOT, 1 + i);

        g_assert_cmphex(qtest_readl(qts, ecam(devfn, VF_ARI_CAP)), ==,
                        (1 << 16) | PCI_EXT_CAP_ID_ARI);
        g_assert_cmphex(qtest_readw(qts, ecam(devfn, PCI_VENDOR_ID)), ==,
                        0xffff);
        g_assert_cmphex(qtest_readw(qts, ecam(devfn, PCI_CLASS_DEVICE)), ==,
                        0x0108);
    }
    /* VF BAR 0 holds an NVMe register file */
    g_assert_cmphex(qnvme_readl(&vm.vf[1], NVME_REG_VS), ==, 0x20000);
    sriov_vm_stop(&vm);
}

static void test_identify(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    NvmePriCtrlCap cap;
    NvmeSecCtrlList list;
    NvmeIdCtrl id;

    sriov_vm_start(&vm, SRIOV_ARGS);
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id.oacs) & NVME_OACS_VIRT_MGMT, ==,
                    NVME_OACS_VIRT_MGMT);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_PRIMARY_CTRL_CAP, 0,
                                   &cap), ==, 0);
    g_assert_cmpuint(le16_to_cpu(cap.cntlid), ==, PF_CNTLID);
    g_assert_cmphex(cap.crt, ==, NVME_CRT_VQ | NVME_CRT_VI);
    g_assert_cmpuint(le32_to_cpu(cap.res[NVME_VIRT_RES_VQ].frt), ==, 4);
    g_assert_cmpuint(le32_to_cpu(cap.res[NVME_VIRT_RES_VQ].rfa), ==, 0);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VQ].rfap), ==, 0);
    /* Private: max_ioqpairs + 1 - 4 and msix_qsize - 2 */
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VQ].prt), ==, 5);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VQ].frsm), ==, 2);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VQ].gran), ==, 1);
    g_assert_cmpuint(le32_to_cpu(cap.res[NVME_VIRT_RES_VI].frt), ==, 2);
    g_assert_cmpuint(le32_to_cpu(cap.res[NVME_VIRT_RES_VI].rfa), ==, 0);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VI].prt), ==, 6);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VI].frsm), ==, 1);

    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(list.numcntl, ==, 2);
    for (int i = 0; i < 2; i++) {
        g_assert_cmpuint(le16_to_cpu(list.sec[i].scid), ==, PF_CNTLID + 1 + i);
        g_assert_cmpuint(le16_to_cpu(list.sec[i].pcid), ==, PF_CNTLID);
        g_assert_cmpuint(list.sec[i].scs, ==, 0);
        g_assert_cmpuint(le16_to_cpu(list.sec[i].vfn), ==, i + 1);
        g_assert_cmpuint(le16_to_cpu(list.sec[i].nvq), ==, 0);
        g_assert_cmpuint(le16_to_cpu(list.sec[i].nvi), ==, 0);
    }
    /* From the second VF's ID: that VF only */
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST,
                                   PF_CNTLID + 2, &list), ==, 0);
    g_assert_cmpuint(list.numcntl, ==, 1);
    g_assert_cmpuint(le16_to_cpu(list.sec[0].scid), ==, PF_CNTLID + 2);

    /* The primary's own queues: the private ones */
    {
        uint32_t dw0;

        g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                       NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0),
                        ==, 0);
        g_assert_cmphex(dw0, ==, 0x00030003);   /* 4 I/O queues each */
    }
    sriov_vm_stop(&vm);
}

/* Without SR-IOV the CNS values and the command are not there */
static void test_no_sriov(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
    NvmeIdCtrl id;

    sriov_vm_start(&vm, "-device nvme,id=nvme0,serial=a,subsys=s0,"
                   "addr=04.0");
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert_cmphex(le16_to_cpu(id.oacs) & NVME_OACS_VIRT_MGMT, ==, 0);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_PRIMARY_CTRL_CAP, 0,
                                   buf), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   buf), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_PRI_FLEX_ALLOC, 0,
                               PF_CNTLID, 0, NULL), ==,
                    NVME_SC_INVALID_OPCODE | NVME_SC_DNR);
    /* No SR-IOV capability: nothing at 100h */
    g_assert_cmphex(qtest_readl(vm.qts, pf_cfg(SRIOV_CAP)) & 0xffff, !=,
                    PCI_EXT_CAP_ID_SRIOV);
    sriov_vm_stop(&vm);
}

static void test_virt_mngmt_errors(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    QNvme *pf;
    uint16_t vf1 = PF_CNTLID + 1;

    sriov_vm_start(&vm, SRIOV_ARGS);
    pf = vm.pf;
    qnvme_start_with_io_queue(pf);
    /* Unknown action */
    g_assert_cmphex(virt_mngmt(pf, 0x2, 0, vf1, 1, NULL), ==,
                    NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    /* Not a secondary controller of this primary (the primary, none) */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, 0, PF_CNTLID, 1,
                               NULL), ==, SC_INVALID_CTRL_ID);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ONLINE, 0, 0x99, 0, NULL),
                    ==, SC_INVALID_CTRL_ID);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_OFFLINE, 0, 0x99, 0, NULL),
                    ==, SC_INVALID_CTRL_ID);
    /* Primary Flexible Allocation names the primary */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC, 0, vf1, 1,
                               NULL), ==, SC_INVALID_CTRL_ID);
    /* Resource types: VQ and VI only */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, 2, vf1, 1, NULL),
                    ==, SC_INVALID_RES_ID);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC, 7, PF_CNTLID, 1,
                               NULL), ==, SC_INVALID_RES_ID);
    /* More than VQFRSM / VIFRSM for one secondary */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               vf1, 3, NULL), ==, SC_INVALID_RES_COUNT);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VI,
                               vf1, 2, NULL), ==, SC_INVALID_RES_COUNT);
    /* Online without resources */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ONLINE, 0, vf1, 0, NULL),
                    ==, SC_INVALID_SEC_STATE);
    /* More than the primary's flexible resources */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VQ, PF_CNTLID, 5, NULL), ==,
                    SC_INVALID_RES_COUNT);
    /* What the primary takes, the secondaries cannot get */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VQ, PF_CNTLID, 3, NULL), ==, 0);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               vf1, 2, NULL), ==, SC_INVALID_RES_COUNT);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VQ, PF_CNTLID, 0, NULL), ==, 0);
    /* ... and what they got, the primary cannot take */
    sriov_provision(pf, 0, 2, 1);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VI, PF_CNTLID, 2, NULL), ==,
                    SC_INVALID_RES_COUNT);
    /* Assign needs the secondary offline */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               vf1, 1, NULL), ==, SC_INVALID_SEC_STATE);
    /* Offline twice is fine; then resources may go back */
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_OFFLINE, 0, vf1, 0, NULL),
                    ==, 0);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_OFFLINE, 0, vf1, 0, NULL),
                    ==, 0);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VI,
                               vf1, 0, NULL), ==, 0);
    g_assert_cmphex(virt_mngmt(pf, NVME_VIRT_SEC_ONLINE, 0, vf1, 0, NULL),
                    ==, SC_INVALID_SEC_STATE);
    sriov_vm_stop(&vm);
}

/* The primary's queue count follows its allocation after a reset */
static void test_primary_allocation(void *obj, void *data,
                                    QGuestAllocator *a)
{
    SriovVm vm = {};
    NvmePriCtrlCap cap;
    uint32_t dw0;

    sriov_vm_start(&vm, SRIOV_ARGS);
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VQ, PF_CNTLID, 4, &dw0), ==, 0);
    g_assert_cmpuint(dw0, ==, 4);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VI, PF_CNTLID, 2, &dw0), ==, 0);
    /* Not before the next Controller Level Reset */
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00030003);
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00070007);   /* max_ioqpairs: 8 */
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_PRIMARY_CTRL_CAP, 0,
                                   &cap), ==, 0);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VQ].rfap), ==, 4);
    g_assert_cmpuint(le16_to_cpu(cap.res[NVME_VIRT_RES_VI].rfap), ==, 2);
    /* Vector 7 is there now; 8 is not */
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_INTERRUPT_VECTOR_CONF, 7, &dw0),
                    ==, 0);
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_INTERRUPT_VECTOR_CONF, 8, &dw0),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);

    /* Given back: 4 I/O queues and 6 vectors again after a reset */
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VQ, PF_CNTLID, 0, &dw0), ==, 0);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_PRI_FLEX_ALLOC,
                               NVME_VIRT_RES_VI, PF_CNTLID, 0, &dw0), ==, 0);
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0x00030003);
    g_assert_cmphex(qnvme_features(vm.pf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_INTERRUPT_VECTOR_CONF, 6, &dw0),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);
    sriov_vm_stop(&vm);
}

/* A VF with resources, online: a controller of the subsystem doing I/O */
static void test_vf_io(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    QNvme *vf;
    NvmeIdCtrl id;
    NvmeSecCtrlList list;
    uint64_t buf;
    uint32_t dw0;
    uint8_t pattern[512], back[512];

    sriov_vm_start(&vm, SRIOV_ARGS);
    qnvme_start_with_io_queue(vm.pf);
    sriov_provision(vm.pf, 1, 2, 1);
    sriov_enable_vfs(&vm, 2);
    vf = &vm.vf[1];
    qnvme_start_with_io_queue(vf);
    g_assert_cmphex(identify_cntid(vf, NVME_ID_CNS_CTRL, 0, &id), ==, 0);
    g_assert_cmpuint(le16_to_cpu(id.cntlid), ==, PF_CNTLID + 2);
    g_assert_cmpmem(id.sn, 5, "sriov", 5);
    g_assert_cmpstr((char *)id.subnqn, ==, "sriov");
    /* Secondary controllers do not manage virtualization */
    g_assert_cmphex(le16_to_cpu(id.oacs) & NVME_OACS_VIRT_MGMT, ==, 0);
    g_assert_cmphex(virt_mngmt(vf, NVME_VIRT_SEC_OFFLINE, 0, PF_CNTLID + 2,
                               0, NULL), ==,
                    NVME_SC_INVALID_OPCODE | NVME_SC_DNR);
    g_assert_cmphex(identify_cntid(vf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(list.numcntl, ==, 0);
    /* One I/O queue pair, one vector */
    g_assert_cmphex(qnvme_features(vf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_NUMBER_OF_QUEUES, 0, &dw0), ==, 0);
    g_assert_cmphex(dw0, ==, 0);
    g_assert_cmphex(qnvme_features(vf, NVME_ADM_CMD_GET_FEATURES,
                                   NVME_FEAT_INTERRUPT_VECTOR_CONF, 1, &dw0),
                    ==, NVME_SC_INVALID_FIELD | NVME_SC_DNR);

    /* The shared namespace, written by the VF and read by the PF */
    buf = qnvme_alloc(vf, QNVME_PAGE_SIZE);
    memset(pattern, 0x5a, sizeof(pattern));
    qtest_memwrite(vm.qts, buf, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(vf, 1, NVME_CMD_WRITE, 1, 3, 1, buf, 0), ==, 0);
    qtest_memset(vm.qts, buf, 0, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(vm.pf, 1, NVME_CMD_READ, 1, 3, 1, buf, 0), ==,
                    0);
    qtest_memread(vm.qts, buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(list.sec[1].scs, ==, 1);
    g_assert_cmpuint(le16_to_cpu(list.sec[1].nvq), ==, 2);
    g_assert_cmpuint(le16_to_cpu(list.sec[1].nvi), ==, 1);
    sriov_vm_stop(&vm);
}

/* Whether nsid is in n's active namespace list */
static bool ns_active(QNvme *n, uint32_t nsid)
{
    uint32_t list[NVME_IDENTIFY_DATA_SIZE / 4];

    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0,
                                   list), ==, 0);
    for (int i = 0; i < ARRAY_SIZE(list) && list[i]; i++) {
        if (le32_to_cpu(list[i]) == nsid) {
            return true;
        }
    }
    return false;
}

/* Namespace Attachment names VFs by their IDs like any controller */
static void test_vf_ns_attach(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    char *img = qnvme_tmp_image(1024 * 1024);   /* freed at the end */
    g_autofree char *args = g_strdup_printf(
        SRIOV_ARGS " -drive id=d1,if=none,format=raw,file=%s "
        "-device nvme-ns,drive=d1,nsid=2,bus=nvme0,detached=on", img);
    uint16_t ids[2] = { cpu_to_le16(1), cpu_to_le16(PF_CNTLID + 1) };
    uint64_t list;
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_NS_ATTACHMENT,
        .nsid = cpu_to_le32(2),
    };

    sriov_vm_start(&vm, args);
    qnvme_start_with_io_queue(vm.pf);
    sriov_provision(vm.pf, 0, 2, 1);
    sriov_provision(vm.pf, 1, 2, 1);
    sriov_enable_vfs(&vm, 2);
    qnvme_start_with_io_queue(&vm.vf[0]);
    qnvme_start_with_io_queue(&vm.vf[1]);
    /* The shared namespace 1 everywhere, namespace 2 nowhere */
    g_assert_true(ns_active(&vm.vf[0], 1));
    g_assert_true(ns_active(&vm.vf[1], 1));
    g_assert_false(ns_active(&vm.vf[0], 2));

    list = qnvme_alloc(vm.pf, QNVME_PAGE_SIZE);
    qtest_memwrite(vm.qts, list, ids, sizeof(ids));
    cmd.dptr.prp1 = cpu_to_le64(list);
    g_assert_cmphex(qnvme_cmd(vm.pf, 0, &cmd, NULL), ==, 0);
    g_assert_true(ns_active(&vm.vf[0], 2));
    g_assert_false(ns_active(&vm.vf[1], 2));
    g_assert_false(ns_active(vm.pf, 2));
    g_assert_cmphex(qnvme_rw(&vm.vf[0], 1, NVME_CMD_READ, 2, 0, 1, list, 0),
                    ==, 0);
    /* The attachment survives a VF disable and enable */
    sriov_disable_vfs(&vm);
    sriov_enable_vfs(&vm, 2);
    qnvme_start_with_io_queue(&vm.vf[0]);
    g_assert_true(ns_active(&vm.vf[0], 2));
    sriov_vm_stop(&vm);
}

/* Offline, or without resources: the VF cannot be enabled */
static void test_vf_offline(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    uint16_t vf1 = PF_CNTLID + 1;

    sriov_vm_start(&vm, SRIOV_ARGS);
    qnvme_start_with_io_queue(vm.pf);
    sriov_enable_vfs(&vm, 2);
    g_assert_false(qnvme_enable(&vm.vf[0], 16, 0));
    g_assert_cmphex(qnvme_readl(&vm.vf[0], NVME_REG_CSTS) &
                    NVME_CSTS_CFS_BIT, ==, NVME_CSTS_CFS_BIT);

    /* Resources, not online yet */
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               vf1, 2, NULL), ==, 0);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VI,
                               vf1, 1, NULL), ==, 0);
    g_assert_false(qnvme_enable(&vm.vf[0], 16, 0));
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_ONLINE, 0, vf1, 0, NULL),
                    ==, 0);
    qnvme_start_with_io_queue(&vm.vf[0]);

    /* Taken offline while enabled, with a queue: fatal status, no RDY */
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_OFFLINE, 0, vf1, 0, NULL),
                    ==, 0);
    g_assert_cmphex(qnvme_readl(&vm.vf[0], NVME_REG_CSTS) &
                    (NVME_CSTS_CFS_BIT | NVME_CSTS_RDY_BIT), ==,
                    NVME_CSTS_CFS_BIT);
    g_assert_false(qnvme_enable(&vm.vf[0], 16, 0));
    /* Online again: usable again, with its resources kept */
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_ONLINE, 0, vf1, 0, NULL),
                    ==, 0);
    qnvme_start_with_io_queue(&vm.vf[0]);
    sriov_vm_stop(&vm);
}

/*
 * One VF with two VQs and a VI, enabled, and count writes of 200 ms each
 * (SLOW_NS) submitted on its I/O queue; returns their data buffer.
 */
static uint64_t sriov_vf_busy(SriovVm *vm, int count)
{
    uint64_t buf;

    sriov_vm_start(vm, SRIOV_ARGS SLOW_NS);
    qnvme_start_with_io_queue(vm->pf);
    sriov_provision(vm->pf, 0, 2, 1);
    sriov_enable_vfs(vm, 1);
    qnvme_start_with_io_queue(&vm->vf[0]);
    buf = qnvme_alloc(&vm->vf[0], QNVME_PAGE_SIZE);
    for (int i = 0; i < count; i++) {
        NvmeCmd cmd = {
            .opcode = NVME_CMD_WRITE,
            .nsid = cpu_to_le32(2),
            .dptr.prp1 = cpu_to_le64(buf),
            .cdw10 = cpu_to_le32(i),
        };

        qnvme_submit(&vm->vf[0], 1, &cmd);
    }
    return buf;
}

/* Assignments survive VF Enable cycles; the VFs go and come back reset */
static void test_vf_disable_enable(void *obj, void *data,
                                   QGuestAllocator *a)
{
    SriovVm vm = {};
    NvmeSecCtrlList list;
    uint64_t buf;
    gint64 start;

    /* VF Enable cleared with writes in flight: they complete first */
    buf = sriov_vf_busy(&vm, 4);
    start = g_get_monotonic_time();
    sriov_disable_vfs(&vm);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
    g_assert_cmphex(qtest_readw(vm.qts, pf_cfg(SRIOV_CAP + PCI_SRIOV_CTRL)) &
                    PCI_SRIOV_CTRL_VFE, ==, 0);
    /* The PF goes on */
    g_assert_cmphex(qnvme_rw(vm.pf, 1, NVME_CMD_READ, 1, 0, 1, buf, 0), ==,
                    0);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(list.sec[0].scs, ==, 1);
    g_assert_cmpuint(le16_to_cpu(list.sec[0].nvq), ==, 2);
    g_assert_cmpuint(le16_to_cpu(list.sec[0].nvi), ==, 1);

    sriov_enable_vfs(&vm, 1);
    /* Reset: not ready until enabled again, which works */
    g_assert_cmphex(qnvme_readl(&vm.vf[0], NVME_REG_CC), ==, 0);
    qnvme_start_with_io_queue(&vm.vf[0]);
    g_assert_cmphex(qnvme_rw(&vm.vf[0], 1, NVME_CMD_READ, 1, 0, 1, buf, 0),
                    ==, 0);
    /* A reset of the PF keeps the assignments too */
    qnvme_start_with_io_queue(vm.pf);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(le16_to_cpu(list.sec[0].nvq), ==, 2);
    sriov_vm_stop(&vm);
}

/* Offlining a VF in the middle of its I/O quiesces it first */
static void test_offline_in_flight(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    uint16_t vf1 = PF_CNTLID + 1;
    uint64_t buf;
    gint64 start;

    buf = sriov_vf_busy(&vm, 8);
    /* Offline waits for the writes (200 ms each in the backend) */
    start = g_get_monotonic_time();
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_OFFLINE, 0, vf1, 0, NULL),
                    ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
    g_assert_cmphex(virt_mngmt(vm.pf, NVME_VIRT_SEC_ASSIGN, NVME_VIRT_RES_VQ,
                               vf1, 0, NULL), ==, 0);
    g_assert_cmphex(qnvme_rw(vm.pf, 1, NVME_CMD_READ, 1, 0, 1, buf, 0), ==,
                    0);
    sriov_vm_stop(&vm);
}

/* A Function Level Reset of a VF resets that secondary controller only */
static void test_vf_flr(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    NvmeSecCtrlList list;
    uint64_t buf;

    sriov_vm_start(&vm, SRIOV_ARGS);
    qnvme_start_with_io_queue(vm.pf);
    sriov_provision(vm.pf, 0, 2, 1);
    sriov_provision(vm.pf, 1, 2, 1);
    sriov_enable_vfs(&vm, 2);
    qnvme_start_with_io_queue(&vm.vf[0]);
    qnvme_start_with_io_queue(&vm.vf[1]);
    /* Device Capabilities: FLR; Device Control: Initiate FLR */
    g_assert_cmphex(qpci_config_readl(&vm.vf[0].dev, VF_EXP_CAP +
                                      PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR,
                    ==, PCI_EXP_DEVCAP_FLR);
    qpci_config_writew(&vm.vf[0].dev, VF_EXP_CAP + PCI_EXP_DEVCTL,
                       PCI_EXP_DEVCTL_BCR_FLR);
    qpci_config_writew(&vm.vf[0].dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_assert_cmphex(qnvme_readl(&vm.vf[0], NVME_REG_CC), ==, 0);
    g_assert_cmphex(qnvme_readl(&vm.vf[0], NVME_REG_CSTS) &
                    NVME_CSTS_RDY_BIT, ==, 0);
    /* The other VF and the PF go on; the assignments stay */
    buf = qnvme_alloc(vm.pf, QNVME_PAGE_SIZE);
    g_assert_cmphex(qnvme_rw(&vm.vf[1], 1, NVME_CMD_READ, 1, 0, 1, buf, 0),
                    ==, 0);
    g_assert_cmphex(qnvme_rw(vm.pf, 1, NVME_CMD_READ, 1, 0, 1, buf, 0), ==,
                    0);
    g_assert_cmphex(identify_cntid(vm.pf, NVME_ID_CNS_SECONDARY_CTRL_LIST, 0,
                                   &list), ==, 0);
    g_assert_cmpuint(list.sec[0].scs, ==, 1);
    g_assert_cmpuint(le16_to_cpu(list.sec[0].nvq), ==, 2);
    qnvme_start_with_io_queue(&vm.vf[0]);
    g_assert_cmphex(qnvme_rw(&vm.vf[0], 1, NVME_CMD_READ, 1, 0, 1, buf, 0),
                    ==, 0);
    sriov_vm_stop(&vm);
}

/*
 * Hot-unplug of the PF takes its VFs along (ACPI hotplug of the pc
 * machine, which leaves VFs to their PF); plugged again, it gets them back.
 */
static void test_pf_unplug(void *obj, void *data, QGuestAllocator *a)
{
    QTestState *qts = qtest_init("-M pc -nodefaults "
                                 "-device nvme-subsys,id=s0");

    for (int i = 0; i < 2; i++) {
        qtest_qmp_device_add(qts, "nvme", "pf",
                             "{'serial': 'pf', 'subsys': 's0', 'addr': '06.0',"
                             " 'sriov_max_vfs': 2, 'sriov_vq_flexible': 4,"
                             " 'sriov_vi_flexible': 2}");
        qpci_unplug_acpi_device_test(qts, "pf", 6);
    }
    qtest_quit(qts);
}

/* With iothread=, the VFs' queues run there too */
static void test_iothread(void *obj, void *data, QGuestAllocator *a)
{
    SriovVm vm = {};
    uint64_t buf;

    sriov_vm_start(&vm, "-object iothread,id=io0 " SRIOV_ARGS
                   ",iothread=io0");
    qnvme_start_with_io_queue(vm.pf);
    sriov_provision(vm.pf, 0, 2, 1);
    sriov_enable_vfs(&vm, 1);
    qnvme_start_with_io_queue(&vm.vf[0]);
    buf = qnvme_alloc(&vm.vf[0], QNVME_PAGE_SIZE);
    g_assert_cmphex(qnvme_rw(&vm.vf[0], 1, NVME_CMD_WRITE, 1, 0, 1, buf, 0),
                    ==, 0);
    sriov_disable_vfs(&vm);
    sriov_vm_stop(&vm);
}

static void register_nvme_sriov_tests(void)
{
    QOSGraphTestOptions opts = {};

    qos_add_test("bad-config", "nvme-sriov", test_bad_config, &opts);
    qos_add_test("smallest-line", "nvme-sriov", test_smallest_line, &opts);
    qos_add_test("capability", "nvme-sriov", test_capability, &opts);
    qos_add_test("identify", "nvme-sriov", test_identify, &opts);
    qos_add_test("no-sriov", "nvme-sriov", test_no_sriov, &opts);
    qos_add_test("virt-mngmt-errors", "nvme-sriov", test_virt_mngmt_errors,
                 &opts);
    qos_add_test("primary-allocation", "nvme-sriov",
                 test_primary_allocation, &opts);
    qos_add_test("vf-io", "nvme-sriov", test_vf_io, &opts);
    qos_add_test("vf-offline", "nvme-sriov", test_vf_offline, &opts);
    qos_add_test("vf-ns-attach", "nvme-sriov", test_vf_ns_attach, &opts);
    qos_add_test("vf-disable-enable", "nvme-sriov", test_vf_disable_enable,
                 &opts);
    qos_add_test("offline-in-flight", "nvme-sriov", test_offline_in_flight,
                 &opts);
    qos_add_test("vf-flr", "nvme-sriov", test_vf_flr, &opts);
    qos_add_test("pf-unplug", "nvme-sriov", test_pf_unplug, &opts);
    qos_add_test("iothread", "nvme-sriov", test_iothread, &opts);
}

libqos_init(register_nvme_sriov_tests);
