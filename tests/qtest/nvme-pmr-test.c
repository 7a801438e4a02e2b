/*
 * qtests of the Persistent Memory Region: its registers, enable/disable and
 * the data surviving a SIGKILL of QEMU; and of msix-exclusive-bar, the
 * other user of BAR 4.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "hw/pci/pci_regs.h"
#include "libqos/qgraph.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "libqos/nvme.h"
#include <sys/wait.h>

#define PMR_SIZE        (1 * MiB)
#define PMR_BIR         4
#define BAR_64_PREFETCH (PCI_BASE_ADDRESS_MEM_TYPE_64 | \
                         PCI_BASE_ADDRESS_MEM_PREFETCH)

/* The backing file of the qos machine's PMR (pmr_setup) */
static char *pmr_file;

static void *pmr_setup(GString *cmd_line, void *arg)
{
    pmr_file = qnvme_tmp_image(PMR_SIZE);
    g_string_append_printf(cmd_line,
                           " -object memory-backend-file,id=pmr0,share=on,"
                           "mem-path=%s,size=%u -global nvme.pmrdev=pmr0",
                           pmr_file, (unsigned)PMR_SIZE);
    return arg;
}

static void *pmr_ns_setup(GString *cmd_line, void *arg)
{
    return qnvme_setup_one_namespace(cmd_line, pmr_setup(cmd_line, arg));
}

static void *pmr_ns_iothread_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -object iothread,id=pmr-io"
                    " -global nvme.iothread=pmr-io");
    return pmr_ns_setup(cmd_line, arg);
}

/* A backend for a controller the test plugs in itself */
static void *spare_pmr_setup(GString *cmd_line, void *arg)
{
    pmr_file = qnvme_tmp_image(PMR_SIZE);
    g_string_append_printf(cmd_line,
                           " -object memory-backend-file,id=pmr1,share=on,"
                           "mem-path=%s,size=%u", pmr_file,
                           (unsigned)PMR_SIZE);
    return arg;
}

static void *msix_bar_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -global nvme.msix-exclusive-bar=on");
    return arg;
}

static uint32_t pmr_reg(QNvme *n, uint32_t reg)
{
    return qnvme_readl(n, reg);
}

static void pmr_set_enabled(QNvme *n, bool en)
{
    qnvme_writel(n, NVME_REG_PMRCTL, en);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, en);
    g_assert_cmphex(NVME_PMRSTS_NRDY(pmr_reg(n, NVME_REG_PMRSTS)), ==, !en);
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7 + (i >> 8);
    }
}

/* The bytes of path at offset, as the host sees them */
static void read_file_at(const char *path, off_t offset, void *buf,
                         size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, offset), ==, len);
    close(fd);
}

/* Base 3.1.4: CAP.PMRS and every PMR register after realize */
static void test_registers(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    uint32_t cap = pmr_reg(n, NVME_REG_PMRCAP);
    uint32_t bar_lo = qpci_config_readl(&n->dev, PCI_BASE_ADDRESS_4);
    uint32_t ebs = pmr_reg(n, NVME_REG_PMREBS);
    uint64_t size;
    QPCIBar bar;

    g_assert_cmpuint(NVME_CAP_PMRS(qnvme_readq(n, NVME_REG_CAP)), ==, 1);
    g_assert_cmpuint(NVME_PMRCAP_RDS(cap), ==, 1);
    g_assert_cmpuint(NVME_PMRCAP_WDS(cap), ==, 1);
    g_assert_cmpuint(NVME_PMRCAP_BIR(cap), ==, PMR_BIR);
    g_assert_cmpuint(NVME_PMRCAP_PMRTU(cap), ==, 0);
    g_assert_cmpuint(NVME_PMRCAP_PMRTO(cap), ==, 1);
    g_assert_cmpuint(NVME_PMRCAP_PMRWBM(cap), ==, NVME_PMRWBM_PMRSTS_READ);
    g_assert_cmpuint(NVME_PMRCAP_CMSS(cap), ==, 1);
    g_assert_cmphex(cap & ~0x01ff3ff8u, ==, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, NVME_PMRSTS_NRDY_BIT);
    /* The elasticity buffer is the whole PMR (1024 KiB), read bypass */
    g_assert_cmpuint(NVME_PMREBS_PMRSZU(ebs), ==, 1);
    g_assert_cmpuint(NVME_PMREBS_PMRWBZ(ebs), ==, PMR_SIZE / KiB);
    g_assert_cmpuint(NVME_PMREBS_RBB(ebs), ==, 1);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSWTP), ==, 3);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRMSCL), ==, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRMSCU), ==, 0);
    /* Reserved E1Ch and the 64-bit view of PMRMSC */
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRMSCU + 4), ==, 0);
    g_assert_cmphex(qnvme_readq(n, NVME_REG_PMRMSCL), ==, 0);

    /* BAR 4: 64-bit prefetchable memory, the backend's size */
    g_assert_cmphex(bar_lo & 0xf, ==, BAR_64_PREFETCH);
    bar = qpci_iomap(&n->dev, PMR_BIR, &size);
    g_assert_cmphex(size, ==, PMR_SIZE);

    /* Read-only registers keep their values; reserved bits are dropped */
    qnvme_writel(n, NVME_REG_PMRCAP, 0);
    qnvme_writel(n, NVME_REG_PMRSTS, 0);
    qnvme_writel(n, NVME_REG_PMREBS, 0);
    qnvme_writel(n, NVME_REG_PMRSWTP, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCAP), ==, cap);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, NVME_PMRSTS_NRDY_BIT);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMREBS), ==, ebs);
    qnvme_writel(n, NVME_REG_PMRCTL, 0xffffffff);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, 1);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, 0);
    qnvme_writel(n, NVME_REG_PMRCTL, 0xfffffffe);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, NVME_PMRSTS_NRDY_BIT);

    /* Controller memory space at the PMR's own address: valid */
    qnvme_writeq(n, NVME_REG_PMRMSCL, bar.addr | NVME_PMRMSC_CMSE_BIT |
                 0xffd);
    g_assert_cmphex(qnvme_readq(n, NVME_REG_PMRMSCL), ==,
                    bar.addr | NVME_PMRMSC_CMSE_BIT);
    g_assert_cmpuint(NVME_PMRSTS_CBAI(pmr_reg(n, NVME_REG_PMRSTS)), ==, 0);
    /* Anywhere else: Controller Base Address Invalid */
    qnvme_writel(n, NVME_REG_PMRMSCU, 1);
    g_assert_cmpuint(NVME_PMRSTS_CBAI(pmr_reg(n, NVME_REG_PMRSTS)), ==, 1);
    qnvme_writeq(n, NVME_REG_PMRMSCL, (bar.addr + 4 * KiB) |
                 NVME_PMRMSC_CMSE_BIT);
    g_assert_cmpuint(NVME_PMRSTS_CBAI(pmr_reg(n, NVME_REG_PMRSTS)), ==, 1);
    /* CMSE cleared: no controller memory space, nothing invalid */
    qnvme_writel(n, NVME_REG_PMRMSCL, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, NVME_PMRSTS_NRDY_BIT);
    qnvme_writel(n, NVME_REG_PMRMSCU, 0);
    qpci_iounmap(&n->dev, bar);
}

/* Without pmrdev: no CAP.PMRS, the PMR registers are reserved (zero) */
static void test_absent(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;

    g_assert_cmpuint(NVME_CAP_PMRS(qnvme_readq(n, NVME_REG_CAP)), ==, 0);
    qnvme_writel(n, NVME_REG_PMRCTL, 1);
    qnvme_writel(n, NVME_REG_PMRMSCL, NVME_PMRMSC_CMSE_BIT);
    for (uint32_t reg = NVME_REG_PMRCAP; reg < NVME_REG_PMRCAP + 32;
         reg += 4) {
        g_assert_cmphex(pmr_reg(n, reg), ==, 0);
    }
    g_assert_cmphex(qpci_config_readl(&n->dev, PCI_BASE_ADDRESS_4), ==, 0);
}

/*
 * Base 8.9: the PMR answers only while enabled (reads all 1s, writes
 * dropped otherwise); its contents stay across a disable, reach the file
 * at the PMRSTS read barrier, and stay across a reset, which disables it.
 */
static void test_enable_disable(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    QTestState *qts = n->dev.bus->qts;
    uint8_t pattern[4096], back[4096], ones[64];
    QPCIBar bar = qpci_iomap(&n->dev, PMR_BIR, NULL);

    memset(ones, 0xff, sizeof(ones));
    fill_pattern(pattern, sizeof(pattern), 0x11);

    /* Disabled: nothing reaches the PMR, reads are all 1s */
    g_assert_cmphex(qpci_io_readl(&n->dev, bar, 0), ==, 0xffffffff);
    g_assert_cmphex(qpci_io_readq(&n->dev, bar, 8), ==, UINT64_MAX);
    g_assert_cmphex(qpci_io_readb(&n->dev, bar, 3), ==, 0xff);
    qpci_io_writel(&n->dev, bar, 0, 0x12345678);

    pmr_set_enabled(n, true);
    g_assert_cmphex(qpci_io_readl(&n->dev, bar, 0), ==, 0);
    qpci_memwrite(&n->dev, bar, 64 * KiB, pattern, sizeof(pattern));
    qpci_io_writeq(&n->dev, bar, PMR_SIZE - 8, 0x0123456789abcdefULL);
    qpci_memread(&n->dev, bar, 64 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    /* The barrier: then the file has it */
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, 0);
    read_file_at(pmr_file, 64 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    pmr_set_enabled(n, false);
    qpci_memread(&n->dev, bar, 64 * KiB, back, sizeof(ones));
    g_assert_cmpmem(back, sizeof(ones), ones, sizeof(ones));
    qpci_io_writel(&n->dev, bar, 64 * KiB, 0);
    pmr_set_enabled(n, true);
    qpci_memread(&n->dev, bar, 64 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(qpci_io_readq(&n->dev, bar, PMR_SIZE - 8), ==,
                    0x0123456789abcdefULL);

    /* A controller reset (CC.EN) leaves the PMR alone */
    g_assert_true(qnvme_enable(n, 16, 0));
    qnvme_disable(n);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, 1);

    /* A PCI reset disables it (and unmaps the BARs); the data stays */
    qtest_system_reset(qts);
    n->bar = qpci_iomap(&n->dev, 0, NULL);
    bar = qpci_iomap(&n->dev, PMR_BIR, NULL);
    qpci_device_enable(&n->dev);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRCTL), ==, 0);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, NVME_PMRSTS_NRDY_BIT);
    g_assert_cmphex(qpci_io_readl(&n->dev, bar, 64 * KiB), ==, 0xffffffff);
    pmr_set_enabled(n, true);
    qpci_memread(&n->dev, bar, 64 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
}

/*
 * Controller memory space (PMRMSC.CMSE at the PMR's own address): commands
 * move data between a namespace and the PMR, and the file has it.
 */
static void test_data_pointer(void *obj, void *data, QGuestAllocator *a)
{
    QNvmeCtx c = qnvme_ctx_start(obj);
    QNvme *n = c.n;
    QPCIBar bar = qpci_iomap(&n->dev, PMR_BIR, NULL);
    uint8_t pattern[1024], back[1024];

    fill_pattern(pattern, sizeof(pattern), 0x77);
    pmr_set_enabled(n, true);
    qnvme_writeq(n, NVME_REG_PMRMSCL, bar.addr | NVME_PMRMSC_CMSE_BIT);
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, 0);

    /* PMR to LBAs 8-9, then LBAs 8-9 to another page of the PMR */
    qpci_memwrite(&n->dev, bar, 8 * KiB, pattern, sizeof(pattern));
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_WRITE, 1, 8, 2,
                             bar.addr + 8 * KiB, 0), ==, 0);
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 8, 2,
                             bar.addr + 20 * KiB, 0), ==, 0);
    qpci_memread(&n->dev, bar, 20 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    g_assert_cmphex(pmr_reg(n, NVME_REG_PMRSTS), ==, 0);
    read_file_at(pmr_file, 20 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    /* And to host memory, the data the namespace got from the PMR */
    g_assert_cmphex(qnvme_rw(n, 1, NVME_CMD_READ, 1, 8, 2, c.buf, 0), ==, 0);
    qtest_memread(c.qts, c.buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
}

/* A QEMU of the test's own on the PMR file path, controller at 04.0 */
typedef struct PmrVm {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QNvme like;
    QNvme *n;
    QPCIBar pmr;
} PmrVm;

static void pmr_vm_start(PmrVm *vm, const char *path)
{
    vm->qts = qtest_initf("-M pc -object memory-backend-file,id=pmr0,"
                          "share=on,mem-path=%s,size=%u -device nvme,"
                          "addr=04.0,serial=pmr,pmrdev=pmr0", path,
                          (unsigned)PMR_SIZE);
    pc_alloc_init(&vm->alloc, vm->qts, ALLOC_NO_FLAGS);
    vm->bus = qpci_new_pc(vm->qts, &vm->alloc);
    vm->like.dev.bus = vm->bus;
    vm->like.alloc = &vm->alloc;
    vm->n = qnvme_open_slot(&vm->like, 4);
    vm->pmr = qpci_iomap(&vm->n->dev, PMR_BIR, NULL);
    pmr_set_enabled(vm->n, true);
}

static void pmr_vm_stop(PmrVm *vm)
{
    qpci_iounmap(&vm->n->dev, vm->pmr);
    qnvme_close(vm->n);
    qpci_free_pc(vm->bus);
    alloc_destroy(&vm->alloc);
    qtest_quit(vm->qts);
}

/*
 * Writes pattern to the PMR, reads PMRSTS and SIGKILLs QEMU, in a child
 * process: libqtest counts a QEMU killed by a signal as a failure.
 */
static void pmr_write_and_kill(const char *path, const uint8_t *pattern,
                               size_t len)
{
    pid_t child = fork();
    int status;

    g_assert_cmpint(child, >=, 0);
    if (!child) {
        PmrVm vm;
        pid_t qemu;

        pmr_vm_start(&vm, path);
        qpci_memwrite(&vm.n->dev, vm.pmr, 0, pattern, len);
        g_assert_cmphex(pmr_reg(vm.n, NVME_REG_PMRSTS), ==, 0);
        qemu = qtest_pid(vm.qts);
        g_assert_cmpint(kill(qemu, SIGKILL), ==, 0);
        g_assert_cmpint(waitpid(qemu, &status, 0), ==, qemu);
        _exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1);
    }
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* What the guest wrote before the barrier survives a SIGKILL of QEMU */
static void test_restart(void *obj, void *data, QGuestAllocator *a)
{
    char *path = qnvme_tmp_image(PMR_SIZE);
    uint8_t pattern[8192], back[8192];
    PmrVm vm;

    fill_pattern(pattern, sizeof(pattern), 0x5a);
    pmr_write_and_kill(path, pattern, sizeof(pattern));
    read_file_at(path, 0, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    pmr_vm_start(&vm, path);
    qpci_memread(&vm.n->dev, vm.pmr, 0, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    /* Disable and enable again: still there */
    pmr_set_enabled(vm.n, false);
    g_assert_cmphex(qpci_io_readl(&vm.n->dev, vm.pmr, 0), ==, 0xffffffff);
    pmr_set_enabled(vm.n, true);
    qpci_memread(&vm.n->dev, vm.pmr, 0, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    pmr_vm_stop(&vm);
}

/* A read-only backend is a PMR without Write Data Support */
static void test_read_only(void *obj, void *data, QGuestAllocator *a)
{
    char *path = qnvme_tmp_image(PMR_SIZE);
    QTestState *qts;
    QGuestAllocator alloc;
    QNvme like = {}, *n;
    QPCIBar bar;
    uint8_t pattern[256], back[256];
    int fd;

    fill_pattern(pattern, sizeof(pattern), 3);
    fd = open(path, O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, pattern, sizeof(pattern), 0), ==,
                    sizeof(pattern));
    close(fd);
    qts = qtest_initf("-M pc -object memory-backend-file,id=pmr0,share=on,"
                      "readonly=on,rom=on,mem-path=%s,size=%u -device nvme,"
                      "addr=04.0,serial=ro,pmrdev=pmr0", path,
                      (unsigned)PMR_SIZE);
    pc_alloc_init(&alloc, qts, ALLOC_NO_FLAGS);
    like.dev.bus = qpci_new_pc(qts, &alloc);
    like.alloc = &alloc;
    n = qnvme_open_slot(&like, 4);
    bar = qpci_iomap(&n->dev, PMR_BIR, NULL);
    g_assert_cmpuint(NVME_PMRCAP_WDS(pmr_reg(n, NVME_REG_PMRCAP)), ==, 0);
    g_assert_cmpuint(NVME_PMRCAP_RDS(pmr_reg(n, NVME_REG_PMRCAP)), ==, 1);
    pmr_set_enabled(n, true);
    g_assert_cmpuint(NVME_PMRSTS_HSTS(pmr_reg(n, NVME_REG_PMRSTS)), ==,
                     NVME_PMR_HSTS_READ_ONLY);
    qpci_io_writel(&n->dev, bar, 0, 0);
    qpci_memread(&n->dev, bar, 0, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    qpci_iounmap(&n->dev, bar);
    qnvme_close(n);
    qpci_free_pc(like.dev.bus);
    alloc_destroy(&alloc);
    qtest_quit(qts);
}

#define HOTPLUG_SLOT    6

static QNvme *pmr_plug(QNvme *like, QPCIBar *bar)
{
    QTestState *qts = like->dev.bus->qts;
    QNvme *n;

    qtest_qmp_device_add(qts, "nvme", "second",
                         "{'serial': 'second', 'pmrdev': 'pmr1',"
                         " 'addr': %s}", stringify(HOTPLUG_SLOT) ".0");
    n = qnvme_open_slot(like, HOTPLUG_SLOT);
    *bar = qpci_iomap(&n->dev, PMR_BIR, NULL);
    pmr_set_enabled(n, true);
    return n;
}

/*
 * Unplugging the controller gives the backend back, with the data: the
 * next controller plugged in with it finds what the first one wrote.
 */
static void test_hotplug(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *like = obj;
    QTestState *qts = like->dev.bus->qts;
    uint8_t pattern[512], back[512];
    QPCIBar bar;
    QNvme *n;

    fill_pattern(pattern, sizeof(pattern), 0x33);
    n = pmr_plug(like, &bar);
    qpci_memwrite(&n->dev, bar, 4 * KiB, pattern, sizeof(pattern));
    qpci_unplug_acpi_device_test(qts, "second", HOTPLUG_SLOT);
    qnvme_close(n);
    /* Unplugged: the data is in the file */
    read_file_at(pmr_file, 4 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    n = pmr_plug(like, &bar);
    qpci_memread(&n->dev, bar, 4 * KiB, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));
    qpci_unplug_acpi_device_test(qts, "second", HOTPLUG_SLOT);
    qnvme_close(n);
}

/* Configurations that must not start */
static void test_start_failures(void *obj, void *data, QGuestAllocator *a)
{
    char *path = qnvme_tmp_image(PMR_SIZE);
    g_autofree char *base = g_strdup_printf(
        "-M pc -object memory-backend-file,id=pmr0,mem-path=%s", path);
    struct {
        const char *args;
        const char *expect;
    } cases[] = {
        { ",share=on,size=12K -device nvme,serial=a,pmrdev=pmr0",
          "must be a power of two of at least 4096 bytes" },
        { ",share=off,size=1M -device nvme,serial=a,pmrdev=pmr0",
          "needs share=on" },
        { ",share=on,size=1M -device nvme,serial=a,pmrdev=pmr0 "
          "-device nvme,serial=b,pmrdev=pmr0",
          "memory backend 'pmr0' is already in use" },
        { ",share=on,size=1M -device nvme,serial=a,pmrdev=pmr0,"
          "msix-exclusive-bar=on",
          "pmrdev and msix-exclusive-bar=on both need BAR 4" },
        { ",share=on,size=1M -device nvme,serial=a,pmrdev=nothing",
          "nothing" },
    };

    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *args = g_strconcat(base, cases[i].args, NULL);

        qnvme_expect_start_failure(args, cases[i].expect);
    }
}

/*
 * msix-exclusive-bar=on: MSI-X table and PBA in BAR 4, BAR0 only the
 * registers and doorbells, and interrupts still arrive.
 */
static void test_msix_exclusive_bar(void *obj, void *data,
                                    QGuestAllocator *a)
{
    QNvme *n = obj;
    QPCIDevice *dev = &n->dev;
    uint8_t cap = qpci_find_capability(dev, PCI_CAP_ID_MSIX, 0);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    NvmeCmd flush = { .opcode = NVME_CMD_FLUSH, .nsid = cpu_to_le32(1) };
    uint64_t size;

    g_assert_cmphex(cap, !=, 0);
    g_assert_cmphex(qpci_config_readl(dev, cap + PCI_MSIX_TABLE) &
                    PCI_MSIX_FLAGS_BIRMASK, ==, 4);
    g_assert_cmphex(qpci_config_readl(dev, cap + PCI_MSIX_PBA) &
                    PCI_MSIX_FLAGS_BIRMASK, ==, 4);
    g_assert_cmpuint(qpci_msix_table_size(dev), ==, 65);
    /* 4 KiB of registers and 65 doorbell pairs */
    n->bar = qpci_iomap(dev, 0, &size);
    g_assert_cmphex(size, ==, 8 * KiB);
    qpci_iomap(dev, 4, &size);
    g_assert_cmphex(size, ==, 4 * KiB);

    /* Every vector masked: an interrupt sets its pending bit */
    qpci_msix_enable(dev);
    g_assert_true(qnvme_enable(n, 16, 0));
    g_assert_false(qpci_msix_pending(dev, 0));
    g_assert_cmphex(qnvme_identify(n, NVME_ID_CNS_CTRL, 0, 0, id), ==, 0);
    g_assert_true(qpci_msix_pending(dev, 0));
    g_assert_cmpmem(id->sn, 6, "qtest ", 6);

    qnvme_create_io_queue_pair_irq(n, 1, 16, 3);
    g_assert_false(qpci_msix_pending(dev, 3));
    /* No namespace here: the completion's status does not matter */
    qnvme_cmd(n, 1, &flush, NULL);
    g_assert_true(qpci_msix_pending(dev, 3));
    qpci_msix_disable(dev);
}

/* The default layout: MSI-X in BAR0 (16 KiB), BAR 4 unused */
static void test_msix_in_bar0(void *obj, void *data, QGuestAllocator *a)
{
    QNvme *n = obj;
    QPCIDevice *dev = &n->dev;
    uint8_t cap = qpci_find_capability(dev, PCI_CAP_ID_MSIX, 0);
    uint64_t size;

    g_assert_cmphex(qpci_config_readl(dev, cap + PCI_MSIX_TABLE) &
                    PCI_MSIX_FLAGS_BIRMASK, ==, 0);
    n->bar = qpci_iomap(dev, 0, &size);
    g_assert_cmphex(size, ==, 16 * KiB);
    g_assert_cmphex(qpci_config_readl(dev, PCI_BASE_ADDRESS_4), ==, 0);
}

static void register_pmr_tests(void)
{
    QOSGraphTestOptions pmr = { .before = pmr_setup };
    QOSGraphTestOptions msix = { .before = msix_bar_setup };
    QOSGraphTestOptions spare = { .before = spare_pmr_setup };
    QOSGraphTestOptions pmr_ns = { .before = pmr_ns_setup };
    QOSGraphTestOptions pmr_ns_io = { .before = pmr_ns_iothread_setup };

    qos_add_test("pmr-registers", "nvme-pmr", test_registers, &pmr);
    qos_add_test("pmr-absent", "nvme-pmr", test_absent, NULL);
    qos_add_test("pmr-enable-disable", "nvme-pmr", test_enable_disable,
                 &pmr);
    qos_add_test("pmr-data-pointer", "nvme-pmr", test_data_pointer,
                 &pmr_ns);
    qos_add_test("pmr-data-pointer-iothread", "nvme-pmr", test_data_pointer,
                 &pmr_ns_io);
    qos_add_test("pmr-restart", "nvme-pmr", test_restart, NULL);
    qos_add_test("pmr-hotplug", "nvme-pmr", test_hotplug, &spare);
    qos_add_test("pmr-read-only", "nvme-pmr", test_read_only, NULL);
    qos_add_test("pmr-start-failures", "nvme-pmr", test_start_failures,
                 NULL);
    qos_add_test("msix-exclusive-bar", "nvme-pmr", test_msix_exclusive_bar,
                 &msix);
    qos_add_test("msix-in-bar0", "nvme-pmr", test_msix_in_bar0, NULL);
}

libqos_init(register_pmr_tests);
