/*
 * NVMe device model: the two guards of protection information.
 *
 * CRC-16 T10-DIF (polynomial 8BB7h, MSB first, no inversion) for the
 * 16-bit guard; CRC-64 NVMe (polynomial AD93D23594C93659h, reflected,
 * inverted in and out) for the 64-bit guard (NVM Command Set 5.3.1).
 *
 * Both are table-driven, eight bytes per step. Where the host has
 * PCLMULQDQ, long buffers are first folded 16 bytes at a time with
 * carry-less multiplies by x^191 and x^127 (reflected) or x^192 and x^128
 * modulo the polynomial, which keeps the CRC of what is left unchanged;
 * the last 16 bytes and the tail then go through the tables. The folding
 * constants are computed at start, and the folded path is only used if it
 * agrees with the tables on a test buffer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "crc.h"

#define NVME_CRC16_POLY     0x8bb7
#define NVME_CRC64_POLY     0xad93d23594c93659ULL
#define NVME_CRC64_POLY_REV 0x9a6c9329ac4bc9b5ULL    /* bit-reversed */

static uint16_t nvme_crc16_table[8][256];
static uint64_t nvme_crc64_table[8][256];

static uint16_t nvme_crc16_tables(uint16_t crc, const uint8_t *p, size_t len)
{
    for (; len >= 8; len -= 8, p += 8) {
        uint16_t x = crc ^ (p[0] << 8 | p[1]);

        crc = nvme_crc16_table[7][x >> 8] ^ nvme_crc16_table[6][x & 0xff] ^
              nvme_crc16_table[5][p[2]] ^ nvme_crc16_table[4][p[3]] ^
              nvme_crc16_table[3][p[4]] ^ nvme_crc16_table[2][p[5]] ^
              nvme_crc16_table[1][p[6]] ^ nvme_crc16_table[0][p[7]];
    }
    while (len--) {
        crc = (crc << 8) ^ nvme_crc16_table[0][(crc >> 8) ^ *p++];
    }
    return crc;
}

static uint64_t nvme_crc64_tables(uint64_t crc, const uint8_t *p, size_t len)
{
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t x = crc ^ ldq_le_p(p);

        crc = nvme_crc64_table[7][x & 0xff] ^
              nvme_crc64_table[6][(x >> 8) & 0xff] ^
              nvme_crc64_table[5][(x >> 16) & 0xff] ^
              nvme_crc64_table[4][(x >> 24) & 0xff] ^
              nvme_crc64_table[3][(x >> 32) & 0xff] ^
              nvme_crc64_table[2][(x >> 40) & 0xff] ^
              nvme_crc64_table[1][(x >> 48) & 0xff] ^
              nvme_crc64_table[0][x >> 56];
    }
    while (len--) {
        crc = (crc >> 8) ^ nvme_crc64_table[0][(crc ^ *p++) & 0xff];
    }
    return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NVME_CRC_FOLD 1
#define NVME_CRC_FOLD_TARGET __attribute__((target("pclmul,ssse3,sse4.1")))

static uint64_t nvme_fold64_k1, nvme_fold64_k2;    /* reflected */
static uint64_t nvme_fold16_k1, nvme_fold16_k2;
static bool nvme_crc_use_fold;

/* x^n modulo a polynomial of degree 64 (or 16 when poly16), bit i = x^i */
static uint64_t nvme_xpow_mod(unsigned n, uint64_t poly, unsigned degree)
{
    uint64_t top = 1ULL << (degree - 1);
    uint64_t mask = degree == 64 ? ~0ULL : (1ULL << degree) - 1;
    uint64_t r = 1;

    while (n--) {
        bool carry = r & top;

        r = (r << 1) & mask;
        if (carry) {
            r ^= poly;
        }
    }
    return r;
}

static uint64_t nvme_reverse64(uint64_t v)
{
    uint64_t r = 0;

    for (int i = 0; i < 64; i++) {
        r |= ((v >> i) & 1) << (63 - i);
    }
    return r;
}

/* 16-byte chunks from the first, whose low 8 bytes start the message */
NVME_CRC_FOLD_TARGET
static uint64_t nvme_crc64_fold(uint64_t crc, const uint8_t *p, size_t len)
{
    __m128i k = _mm_set_epi64x(nvme_fold64_k2, nvme_fold64_k1);
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    uint8_t rest[16];

    x = _mm_xor_si128(x, _mm_cvtsi64_si128(crc));
    for (p += 16, len -= 16; len >= 16; p += 16, len -= 16) {
        x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                        _mm_clmulepi64_si128(x, k, 0x11)),
                          _mm_loadu_si128((const __m128i *)p));
    }
    _mm_storeu_si128((__m128i *)rest, x);
    crc = nvme_crc64_tables(0, rest, sizeof(rest));
    return nvme_crc64_tables(crc, p, len);
}

/* The same, most significant bit first: chunks as big-endian numbers */
NVME_CRC_FOLD_TARGET
static uint16_t nvme_crc16_fold(uint16_t crc, const uint8_t *p, size_t len)
{
    const __m128i swap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                      12, 13, 14, 15);
    __m128i k = _mm_set_epi64x(nvme_fold16_k1, nvme_fold16_k2);
    __m128i x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), swap);
    uint8_t rest[16];

    x = _mm_xor_si128(x, _mm_set_epi64x((uint64_t)crc << 48, 0));
    for (p += 16, len -= 16; len >= 16; p += 16, len -= 16) {
        __m128i next = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p),
                                        swap);

        x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11),
                                        _mm_clmulepi64_si128(x, k, 0x00)),
                          next);
    }
    _mm_storeu_si128((__m128i *)rest, _mm_shuffle_epi8(x, swap));
    crc = nvme_crc16_tables(0, rest, sizeof(rest));
    return nvme_crc16_tables(crc, p, len);
}

static void nvme_crc_fold_init(void)
{
    uint8_t test[1031];

    /*
     * Constructors may run before libgcc's own CPU detection: initialize
     * it here, and require every extension the fold code is built for.
     */
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("pclmul") ||
        !__builtin_cpu_supports("ssse3") ||
        !__builtin_cpu_supports("sse4.1")) {
        return;
    }
    nvme_fold64_k1 = nvme_reverse64(nvme_xpow_mod(191, NVME_CRC64_POLY, 64));
    nvme_fold64_k2 = nvme_reverse64(nvme_xpow_mod(127, NVME_CRC64_POLY, 64));
    nvme_fold16_k1 = nvme_xpow_mod(192, NVME_CRC16_POLY, 16);
    nvme_fold16_k2 = nvme_xpow_mod(128, NVME_CRC16_POLY, 16);
    for (int i = 0; i < sizeof(test); i++) {
        test[i] = i * 131 + (i >> 3);
    }
    nvme_crc_use_fold =
        nvme_crc64_fold(~0ULL, test, sizeof(test)) ==
        nvme_crc64_tables(~0ULL, test, sizeof(test)) &&
        nvme_crc16_fold(0x1234, test, sizeof(test)) ==
        nvme_crc16_tables(0x1234, test, sizeof(test));
}
#else
#define NVME_CRC_FOLD 0
static bool nvme_crc_use_fold;

static uint64_t nvme_crc64_fold(uint64_t crc, const uint8_t *p, size_t len)
{
    return nvme_crc64_tables(crc, p, len);
}

static uint16_t nvme_crc16_fold(uint16_t crc, const uint8_t *p, size_t len)
{
    return nvme_crc16_tables(crc, p, len);
}

static void nvme_crc_fold_init(void)
{
}
#endif

static void __attribute__((constructor)) nvme_crc_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint16_t c16 = i << 8;
        uint64_t c64 = i;

        for (int b = 0; b < 8; b++) {
            c16 = c16 & 0x8000 ? (c16 << 1) ^ NVME_CRC16_POLY : c16 << 1;
            c64 = c64 & 1 ? (c64 >> 1) ^ NVME_CRC64_POLY_REV : c64 >> 1;
        }
        nvme_crc16_table[0][i] = c16;
        nvme_crc64_table[0][i] = c64;
    }
    /* Table k: byte i followed by k zero bytes */
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 256; i++) {
            uint16_t c16 = nvme_crc16_table[k - 1][i];
            uint64_t c64 = nvme_crc64_table[k - 1][i];

            nvme_crc16_table[k][i] = (c16 << 8) ^
                                     nvme_crc16_table[0][c16 >> 8];
            nvme_crc64_table[k][i] = (c64 >> 8) ^
                                     nvme_crc64_table[0][c64 & 0xff];
        }
    }
    nvme_crc_fold_init();
}

/* Folding pays off from a few chunks on; blocks are 512 bytes or more. */
#define NVME_CRC_FOLD_MIN   64

uint16_t nvme_crc16_t10dif(uint16_t crc, const void *buf, size_t len)
{
    if (nvme_crc_use_fold && len >= NVME_CRC_FOLD_MIN) {
        return nvme_crc16_fold(crc, buf, len);
    }
    return nvme_crc16_tables(crc, buf, len);
}

uint64_t nvme_crc64_nvme_update(uint64_t crc, const void *buf, size_t len)
{
    if (nvme_crc_use_fold && len >= NVME_CRC_FOLD_MIN) {
        return nvme_crc64_fold(crc, buf, len);
    }
    return nvme_crc64_tables(crc, buf, len);
}

uint64_t nvme_crc64_nvme(const void *buf, size_t len)
{
    return ~nvme_crc64_nvme_update(~0ULL, buf, len);
}

bool nvme_crc_folded(void)
{
    return nvme_crc_use_fold;
}

/* Turning folding on needs a host that passed the check at start. */
void nvme_crc_set_folded(bool on)
{
    static int available = -1;

    if (available < 0) {
        available = nvme_crc_use_fold;
    }
    nvme_crc_use_fold = on && available && NVME_CRC_FOLD;
}
