/*
 * libqos driver for the NVMe controller.
 *
 * The "nvme" node consumes a PCI bus. Tests get a QNvme through the
 * "nvme" interface and use it as a polling host driver: interrupts are
 * left disabled and completions are found by their phase tag.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "qgraph.h"
#include "pci.h"
#include "nvme.h"
#include "pci-pc.h"
#include "malloc-pc.h"

#define QNVME_VENDOR_ID     0x1b36
#define QNVME_DEVICE_ID     0x0010
#define QNVME_POLL_LIMIT    200000
#define QNVME_READY_LIMIT   2000    /* RDY follows CC.EN within a few reads */

static QTestState *qnvme_qts(QNvme *n)
{
    return n->dev.bus->qts;
}

uint32_t qnvme_readl(QNvme *n, uint64_t off)
{
    return qpci_io_readl(&n->dev, n->bar, off);
}

uint64_t qnvme_readq(QNvme *n, uint64_t off)
{
    return qpci_io_readq(&n->dev, n->bar, off);
}

void qnvme_writel(QNvme *n, uint64_t off, uint32_t val)
{
    qpci_io_writel(&n->dev, n->bar, off, val);
}

void qnvme_writeq(QNvme *n, uint64_t off, uint64_t val)
{
    qpci_io_writeq(&n->dev, n->bar, off, val);
}

uint64_t qnvme_alloc(QNvme *n, size_t size)
{
    uint64_t addr = guest_alloc(n->alloc, size);

    g_assert(addr);
    g_assert_cmphex(addr & (QNVME_PAGE_SIZE - 1), ==, 0);
    qtest_memset(qnvme_qts(n), addr, 0, size);
    return addr;
}

bool qnvme_wait_ready(QNvme *n, bool ready)
{
    for (int i = 0; i < QNVME_READY_LIMIT; i++) {
        if (NVME_CSTS_RDY(qnvme_readl(n, NVME_REG_CSTS)) == ready) {
            return true;
        }
    }
    return false;
}

void qnvme_disable(QNvme *n)
{
    uint32_t cc = qnvme_readl(n, NVME_REG_CC);

    qnvme_writel(n, NVME_REG_CC, cc & ~1u);
    g_assert_true(qnvme_wait_ready(n, false));
    memset(n->sq, 0, sizeof(n->sq));
    memset(n->cq, 0, sizeof(n->cq));
}

bool qnvme_enable(QNvme *n, uint16_t admin_entries, uint32_t css)
{
    QNvmeQueue *asq = &n->sq[0], *acq = &n->cq[0];
    size_t ring = QEMU_ALIGN_UP(admin_entries * sizeof(NvmeCmd),
                                QNVME_PAGE_SIZE);

    qnvme_disable(n);
    asq->addr = qnvme_alloc(n, ring);
    asq->size = admin_entries;
    acq->addr = qnvme_alloc(n, ring);
    acq->size = admin_entries;
    acq->phase = 1;
    qnvme_writel(n, NVME_REG_AQA, (admin_entries - 1) |
                 ((admin_entries - 1) << AQA_ACQS_SHIFT));
    qnvme_writeq(n, NVME_REG_ASQ, asq->addr);
    qnvme_writeq(n, NVME_REG_ACQ, acq->addr);
    qnvme_writel(n, NVME_REG_CC, CC_EN_MASK | (css << 4) |
                 (6 << CC_IOSQES_SHIFT) | (4 << CC_IOCQES_SHIFT));
    return qnvme_wait_ready(n, true);
}

static uint64_t qnvme_sq_doorbell(uint16_t qid)
{
    return NVME_REG_DBS + 8 * qid;
}

static uint64_t qnvme_cq_doorbell(uint16_t qid)
{
    return NVME_REG_DBS + 8 * qid + 4;
}

uint16_t qnvme_submit(QNvme *n, uint16_t qid, NvmeCmd *cmd)
{
    QNvmeQueue *sq = &n->sq[qid];
    uint16_t cid = ++n->next_cid;

    g_assert(sq->size);
    cmd->cid = cpu_to_le16(cid);
    qtest_memwrite(qnvme_qts(n), sq->addr + sq->index * sizeof(*cmd), cmd,
                   sizeof(*cmd));
    sq->index = (sq->index + 1) % sq->size;
    qnvme_writel(n, qnvme_sq_doorbell(qid), sq->index);
    return cid;
}

bool qnvme_poll(QNvme *n, uint16_t qid, NvmeCqe *cqe)
{
    QNvmeQueue *cq = &n->cq[qid];
    uint64_t addr = cq->addr + cq->index * sizeof(*cqe);

    g_assert(cq->size);
    for (int i = 0; i < QNVME_POLL_LIMIT; i++) {
        uint16_t status = qtest_readw(qnvme_qts(n), addr + 14);

        if ((status & 1) == cq->phase) {
            qtest_memread(qnvme_qts(n), addr, cqe, sizeof(*cqe));
            cq->index++;
            if (cq->index == cq->size) {
                cq->index = 0;
                cq->phase ^= 1;
            }
            qnvme_writel(n, qnvme_cq_doorbell(qid), cq->index);
            return true;
        }
    }
    return false;
}

uint16_t qnvme_cmd(QNvme *n, uint16_t qid, NvmeCmd *cmd, NvmeCqe *cqe)
{
    NvmeCqe local;
    uint16_t cid;

    cqe = cqe ? cqe : &local;
    cid = qnvme_submit(n, qid, cmd);
    g_assert_true(qnvme_poll(n, qid, cqe));
    g_assert_cmpuint(le16_to_cpu(cqe->cid), ==, cid);
    return le16_to_cpu(cqe->status) >> 1;
}

static void qnvme_create_queues(QNvme *n, uint16_t qid, uint16_t entries,
                                uint32_t cq_flags)
{
    size_t ring = QEMU_ALIGN_UP(entries * sizeof(NvmeCmd), QNVME_PAGE_SIZE);
    NvmeCmd cmd = {};

    g_assert_cmpuint(qid, <, QNVME_MAX_QUEUES);
    n->cq[qid] = (QNvmeQueue) {
        .addr = qnvme_alloc(n, ring), .size = entries, .phase = 1,
    };
    cmd.opcode = NVME_ADM_CMD_CREATE_CQ;
    cmd.dptr.prp1 = cpu_to_le64(n->cq[qid].addr);
    cmd.cdw10 = cpu_to_le32(((entries - 1) << 16) | qid);
    cmd.cdw11 = cpu_to_le32(NVME_CQ_PC | cq_flags);
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, NVME_SC_SUCCESS);

    n->sq[qid] = (QNvmeQueue) {
        .addr = qnvme_alloc(n, ring), .size = entries,
    };
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = NVME_ADM_CMD_CREATE_SQ;
    cmd.dptr.prp1 = cpu_to_le64(n->sq[qid].addr);
    cmd.cdw10 = cpu_to_le32(((entries - 1) << 16) | qid);
    cmd.cdw11 = cpu_to_le32(NVME_SQ_PC | (qid << 16));
    g_assert_cmphex(qnvme_cmd(n, 0, &cmd, NULL), ==, NVME_SC_SUCCESS);
}

void qnvme_create_io_queue_pair(QNvme *n, uint16_t qid, uint16_t entries)
{
    qnvme_create_queues(n, qid, entries, 0);
}

void qnvme_create_io_queue_pair_irq(QNvme *n, uint16_t qid, uint16_t entries,
                                    uint16_t vector)
{
    qnvme_create_queues(n, qid, entries, NVME_CQ_IEN | (vector << 16));
}

uint16_t qnvme_identify(QNvme *n, uint8_t cns, uint32_t nsid, uint8_t csi,
                        void *buf)
{
    uint64_t addr = qnvme_alloc(n, NVME_IDENTIFY_DATA_SIZE);
    NvmeCmd cmd = {
        .opcode = NVME_ADM_CMD_IDENTIFY,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(addr),
        .cdw10 = cpu_to_le32(cns),
        .cdw11 = cpu_to_le32((uint32_t)csi << 24),
    };
    uint16_t status = qnvme_cmd(n, 0, &cmd, NULL);

    qtest_memread(qnvme_qts(n), addr, buf, NVME_IDENTIFY_DATA_SIZE);
    guest_free(n->alloc, addr);
    return status;
}

uint16_t qnvme_get_log(QNvme *n, uint8_t lid, uint32_t nsid, void *buf,
                       uint32_t len)
{
    uint32_t pages = DIV_ROUND_UP(len, QNVME_PAGE_SIZE);
    uint64_t addr;
    uint32_t numd = len / 4 - 1;
    NvmeCmd cmd = {};
    uint16_t status;

    g_assert_cmpuint(pages, <=, 2);
    addr = qnvme_alloc(n, pages * QNVME_PAGE_SIZE);
    cmd.opcode = NVME_ADM_CMD_GET_LOG_PAGE;
    cmd.nsid = cpu_to_le32(nsid);
    cmd.dptr.prp1 = cpu_to_le64(addr);
    cmd.dptr.prp2 = cpu_to_le64(addr + QNVME_PAGE_SIZE);
    cmd.cdw10 = cpu_to_le32(lid | ((numd & 0xffff) << 16));
    cmd.cdw11 = cpu_to_le32(numd >> 16);
    status = qnvme_cmd(n, 0, &cmd, NULL);
    qtest_memread(qnvme_qts(n), addr, buf, len);
    guest_free(n->alloc, addr);
    return status;
}

uint16_t qnvme_rw(QNvme *n, uint16_t qid, uint8_t opcode, uint32_t nsid,
                  uint64_t slba, uint32_t nlb, uint64_t prp1, uint64_t prp2)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .nsid = cpu_to_le32(nsid),
        .dptr.prp1 = cpu_to_le64(prp1),
        .dptr.prp2 = cpu_to_le64(prp2),
        .cdw10 = cpu_to_le32(slba),
        .cdw11 = cpu_to_le32(slba >> 32),
        .cdw12 = cpu_to_le32(nlb - 1),
    };

    return qnvme_cmd(n, qid, &cmd, NULL);
}

static void qnvme_drop_image(void *path)
{
    unlink(path);
    g_free(path);
}

void qnvme_start_with_io_queue(QNvme *n)
{
    g_assert_true(qnvme_enable(n, 32, 0x6));
    qnvme_create_io_queue_pair(n, 1, 16);
}

QNvmeCtx qnvme_ctx_start(void *obj)
{
    QNvmeCtx c = { .n = obj, .qts = ((QNvme *)obj)->dev.bus->qts };

    qnvme_start_with_io_queue(c.n);
    c.buf = qnvme_alloc(c.n, 2 * QNVME_PAGE_SIZE);
    c.aux = qnvme_alloc(c.n, QNVME_PAGE_SIZE);
    return c;
}

QNvme *qnvme_open_slot(QNvme *like, int slot)
{
    QNvme *n = g_new0(QNvme, 1);
    QPCIAddress addr = {
        .devfn = QPCI_DEVFN(slot, 0),
        .vendor_id = QNVME_VENDOR_ID,
        .device_id = QNVME_DEVICE_ID,
    };

    qpci_device_init(&n->dev, like->dev.bus, &addr);
    n->bar = qpci_iomap(&n->dev, 0, NULL);
    n->alloc = like->alloc;
    qpci_device_enable(&n->dev);
    return n;
}

void qnvme_close(QNvme *n)
{
    qpci_iounmap(&n->dev, n->bar);
    g_free(n);
}

char *qnvme_tmp_image(size_t size)
{
    char *path = NULL;
    int fd = g_file_open_tmp("nvme-qtest-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    g_test_queue_destroy(qnvme_drop_image, path);
    return path;
}

static void qnvme_remove_dir(gpointer dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        unlink(path);
    }
    rmdir(dir);
    g_free(dir);
}

void qnvme_remove_dir_at_end(char *dir)
{
    g_test_queue_destroy(qnvme_remove_dir, dir);
}

void *qnvme_setup_one_namespace(GString *cmd_line, void *arg)
{
    g_string_append_printf(cmd_line,
                           " -drive id=nvm0,if=none,file=%s,format=raw"
                           " -device nvme-ns,drive=nvm0,bus=nvme0,nsid=1",
                           qnvme_tmp_image(QNVME_TEST_IMAGE_SIZE));
    return arg;
}

static void qnvme_destructor(QOSGraphObject *obj)
{
    QNvme *n = container_of(obj, QNvme, obj);

    qpci_iounmap(&n->dev, n->bar);
}

static void qnvme_start_hw(QOSGraphObject *obj)
{
    QNvme *n = container_of(obj, QNvme, obj);

    qpci_device_enable(&n->dev);
}

static void *qnvme_get_driver(void *obj, const char *interface)
{
    QNvme *n = obj;

    if (g_str_equal(interface, "pci-device")) {
        return &n->dev;
    }
    /*
     * The controller itself is the "nvme" interface, and each test area's
     * (see qnvme_test_areas) so that no qos node has too many tests.
     */
    g_assert_true(g_str_has_prefix(interface, "nvme"));
    return n;
}

static void *qnvme_create(void *pci_bus, QGuestAllocator *alloc, void *addr)
{
    QNvme *n = g_new0(QNvme, 1);

    qpci_device_init(&n->dev, pci_bus, addr);
    n->bar = qpci_iomap(&n->dev, 0, NULL);
    n->alloc = alloc;
    n->obj.get_driver = qnvme_get_driver;
    n->obj.start_hw = qnvme_start_hw;
    n->obj.destructor = qnvme_destructor;
    return &n->obj;
}

/*
 * One qos interface per qtest file: qgraph's walk stacks every test of a
 * node at once, and one node would outgrow its stack.
 */
static const char *const qnvme_test_areas[] = {
    "nvme-ctrl", "nvme-dma", "nvme-nsmgmt", "nvme-resv", "nvme-nvm",
    "nvme-pi", "nvme-topology", "nvme-zns", "nvme-lifecycle", "nvme-stress",
    "nvme-cmb", "nvme-pmr", "nvme-knobs", "nvme-atomic", "nvme-ocp",
    "nvme-props", "nvme-sriov",
};

static void qnvme_register_nodes(void)
{
    QPCIAddress addr = {
        .devfn = QPCI_DEVFN(4, 0),
        .vendor_id = QNVME_VENDOR_ID,
        .device_id = QNVME_DEVICE_ID,
    };
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "addr=04.0,id=nvme0,serial=qtest",
    };

    add_qpci_address(&opts, &addr);
    qos_node_create_driver("nvme", qnvme_create);
    qos_node_consumes("nvme", "pci-bus", &opts);
    qos_node_produces("nvme", "pci-device");
    for (int i = 0; i < ARRAY_SIZE(qnvme_test_areas); i++) {
        qos_node_produces("nvme", qnvme_test_areas[i]);
    }
}

libqos_init(qnvme_register_nodes);

/*
 * Starts a QEMU of its own with args and expects it to refuse to start:
 * exit status 1, and expect in what it printed on stderr.
 */
void qnvme_expect_start_failure(const char *args, const char *expect)
{
    g_autofree char *err_path = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *err = NULL;
    g_autofree char *sock = NULL;
    g_autofree char *qmp = NULL;
    int fd = g_file_open_tmp("nvme-qtest-err-XXXXXX", &err_path, NULL);
    gint64 end = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;
    QTestState *qts;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    /* libqtest runs the command line with sh -c: stderr goes to a file */
    cmd = g_strdup_printf("%s 2>%s", args, err_path);
    qts = qtest_init_with_env_and_capabilities(NULL, cmd, NULL, false);
    while (qtest_probe_child(qts) && g_get_monotonic_time() < end) {
        g_usleep(20 * 1000);
    }
    /* Still running: it started (the abort handler stops it) */
    g_assert_false(qtest_probe_child(qts));
    qtest_set_expected_status(qts, 1);
    qtest_quit(qts);
    /* Never connected: its sockets are left to remove */
    sock = g_strdup_printf("%s/qtest-%d.sock", g_get_tmp_dir(), getpid());
    qmp = g_strdup_printf("%s/qtest-%d.qmp", g_get_tmp_dir(), getpid());
    unlink(sock);
    unlink(qmp);
    g_assert_true(g_file_get_contents(err_path, &err, NULL, NULL));
    unlink(err_path);
    if (!strstr(err, expect)) {
        g_test_message("QEMU said: %s", err);
    }
    g_assert_nonnull(strstr(err, expect));
}

uint64_t qnvme_qemu_status_kib(QTestState *qts, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            (int)qtest_pid(qts));
    g_autofree char *key = g_strdup_printf("\n%s:", field);
    g_autofree char *text = NULL;
    const char *line;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, key);
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + strlen(key), NULL, 10);
}

void qnvme_vm_start(QNvmeVm *vm, int slot, const char *args)
{
    vm->qts = qtest_initf("-M pc %s", args);
    pc_alloc_init(&vm->alloc, vm->qts, ALLOC_NO_FLAGS);
    vm->bus = qpci_new_pc(vm->qts, &vm->alloc);
    vm->like.dev.bus = vm->bus;
    vm->like.alloc = &vm->alloc;
    vm->n = qnvme_open_slot(&vm->like, slot);
}

void qnvme_vm_stop(QNvmeVm *vm)
{
    qnvme_close(vm->n);
    qpci_free_pc(vm->bus);
    alloc_destroy(&vm->alloc);
    qtest_quit(vm->qts);
}

uint16_t qnvme_features(QNvme *n, uint8_t opcode, uint32_t cdw10,
                        uint32_t cdw11, uint32_t *dw0)
{
    NvmeCmd cmd = {
        .opcode = opcode,
        .cdw10 = cpu_to_le32(cdw10),
        .cdw11 = cpu_to_le32(cdw11),
    };
    NvmeCqe cqe;
    uint16_t status = qnvme_cmd(n, 0, &cmd, &cqe);

    if (dw0) {
        *dw0 = le32_to_cpu(cqe.result);
    }
    return status;
}
