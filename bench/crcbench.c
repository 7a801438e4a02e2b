/*
 * make bench: throughput of the protection information guards (hw/nvme/
 * crc.c), table-driven and folded with PCLMULQDQ, over 4 KiB blocks.
 * Prints one JSON object; bench/report.py puts it in RESULTS.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "crc.h"

#define BLOCK   4096
#define BLOCKS  256             /* 1 MiB of data per pass */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MB/s of one guard over the buffer, for at least half a second */
static double speed(const uint8_t *buf, bool crc64, uint64_t *sink)
{
    double start = now(), elapsed;
    uint64_t bytes = 0;

    do {
        for (int i = 0; i < BLOCKS; i++) {
            *sink += crc64 ? nvme_crc64_nvme(buf + i * BLOCK, BLOCK)
                           : nvme_crc16_t10dif(0, buf + i * BLOCK, BLOCK);
        }
        bytes += (uint64_t)BLOCKS * BLOCK;
        elapsed = now() - start;
    } while (elapsed < 0.5);
    return bytes / elapsed / 1e6;
}

int main(void)
{
    uint8_t *buf = g_malloc(BLOCKS * BLOCK);
    bool folded = nvme_crc_folded();
    uint64_t sink = 0;
    double t16, t64, f16 = 0, f64 = 0;

    for (int i = 0; i < BLOCKS * BLOCK; i++) {
        buf[i] = i * 2654435761u >> 13;
    }
    nvme_crc_set_folded(false);
    t16 = speed(buf, false, &sink);
    t64 = speed(buf, true, &sink);
    if (folded) {
        nvme_crc_set_folded(true);
        f16 = speed(buf, false, &sink);
        f64 = speed(buf, true, &sink);
    }
    printf("{\"block\": %d, \"folded_available\": %s, "
           "\"crc16_table_mbs\": %.0f, \"crc64_table_mbs\": %.0f, "
           "\"crc16_folded_mbs\": %.0f, \"crc64_folded_mbs\": %.0f, "
           "\"sink\": %" PRIu64 "}\n", BLOCK, folded ? "true" : "false",
           t16, t64, f16, f64, sink & 1);
    g_free(buf);
    return 0;
}
