/*
 * crc32.c - CRC-32 (the zlib/gzip polynomial 0x04C11DB7, reflected) for the
 * page and section checksums of the format.
 *
 * Why not zlib's crc32() alone: a fresh lode-search process verifies every
 * 4 KiB page a query touches, and on a 7-segment index a query expanded with
 * ~100 words touches ~2 700 pages (11 MB). zlib 1.2.13's table-driven CRC
 * runs at ~3.9 GB/s here, which made crc32 43% of the whole process. On x86-64
 * processors with carry-less multiplication the folding method below runs
 * several times faster, and gives the same value bit for bit; elsewhere zlib's
 * crc32() is used.
 *
 * The method (Gopal et al., "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ Instruction", Intel, 2009), in our own words:
 *
 * The CRC state after a message M, starting from state s, is
 * (s·x^|M| + M·x^32) mod P, in GF(2)[x]. XORing s into the message's first
 * 32 bits gives the same result with state 0, so only M·x^32 mod P remains.
 * M is read 16 bytes at a time. In the reflected convention, bit i of a
 * 16-byte little-endian load is the coefficient of x^(127-i) within the
 * chunk: its low 64 bits are the chunk's *high* half.
 *
 * Folding a chunk X over a distance of D bits onto a later chunk Y replaces
 * X·x^D by something of at most 128 bits with the same remainder:
 *   X·x^D = X_hi·x^(D+64) + X_lo·x^D
 *         ≡ X_hi·(x^(D+64) mod P) + X_lo·(x^D mod P).
 * A carry-less product of two reflected 64-bit operands yields bit k for
 * x^(126-k), one place short of the 128-bit frame. Storing each constant
 * reflected over 33 bits (bit j for x^(32-j)) lands the product at x^(95-k);
 * reading it in the 128-bit frame multiplies by x^32, which the constants
 * absorb by being x^(D+32) and x^(D-32) mod P instead. So a fold over D bits
 * uses the pair (rev32(x^(D+32) mod P) << 1, rev32(x^(D-32) mod P) << 1).
 *
 * Four chunks are folded side by side over D = 512 (four independent
 * multiply chains keep the multiplier busy), then the four are folded into
 * one over D = 128. What is left, one 16-byte chunk already carrying the
 * state and the tail under 16 bytes, goes through zlib's crc32(), which
 * avoids a separate Barrett reduction: the chunk is a message whose CRC from
 * state 0 is exactly the remainder wanted.
 *
 * The constants were computed by repeated doubling modulo P (a few lines of
 * Python: r = 1; n times: r <<= 1, if bit 32 set r ^= 0x104C11DB7) and are
 * checked by test_codec against zlib on every length up to 1 KiB and on
 * every start alignment.
 */
#include <zlib.h>

#include "indexer.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define LODE_HAVE_CLMUL 1
#include <immintrin.h>

/* rev32(x^544 mod P) << 1, rev32(x^480 mod P) << 1: fold over 512 bits */
#define K_544 0x154442bd4ULL
#define K_480 0x1c6e41596ULL
/* rev32(x^160 mod P) << 1, rev32(x^96 mod P) << 1: fold over 128 bits */
#define K_160 0x1751997d0ULL
#define K_96 0x0ccaa009eULL

__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i x, __m128i k, __m128i onto) {
    /* selector 0x00: x's low (high-degree) half times the low constant;
     * 0x11: x's high half times the high constant */
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), onto);
}

__attribute__((target("pclmul,sse2"))) static uint32_t crc32_clmul_body(uint32_t crc, const uint8_t *p,
                                                                       size_t len) {
    /* len >= 64 */
    const __m128i k512 = _mm_set_epi64x((long long)K_480, (long long)K_544);
    const __m128i k128 = _mm_set_epi64x((long long)K_96, (long long)K_160);
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    /* the state, inverted as zlib keeps it, goes into the first 32 bits */
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~crc));
    p += 64;
    len -= 64;
    while (len >= 64) {
        x0 = fold(x0, k512, _mm_loadu_si128((const __m128i *)(const void *)p));
        x1 = fold(x1, k512, _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x2 = fold(x2, k512, _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x3 = fold(x3, k512, _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
        p += 64;
        len -= 64;
    }
    x1 = fold(x0, k128, x1);
    x2 = fold(x1, k128, x2);
    x3 = fold(x2, k128, x3);
    while (len >= 16) {
        x3 = fold(x3, k128, _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        len -= 16;
    }
    uint8_t last[16];
    _mm_storeu_si128((__m128i *)(void *)last, x3);
    /* 0xFFFFFFFF is state 0 in zlib's inverted convention */
    uint32_t c = (uint32_t)crc32(0xFFFFFFFFUL, last, 16);
    return len ? (uint32_t)crc32(c, p, (uInt)len) : c;
}

int crc32_has_clmul(void) {
    /* libgcc fills the CPU model in a constructor; calling init again is a
     * cheap no-op and covers callers that run before constructors */
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse2");
}

uint32_t crc32_clmul(uint32_t crc, const void *data, size_t len) {
    if (len < 64) return crc32_portable(crc, data, len);
    return crc32_clmul_body(crc, data, len);
}
#else
int crc32_has_clmul(void) { return 0; }
uint32_t crc32_clmul(uint32_t crc, const void *data, size_t len) { return crc32_portable(crc, data, len); }
#endif

uint32_t crc32_portable(uint32_t crc, const void *data, size_t len) {
    /* zlib's crc32() returns 0 for a NULL buffer (its way of giving the
     * initial value); here no bytes leave the value as it was */
    if (len == 0) return crc;
    const uint8_t *p = data;
    uLong c = crc;
    /* zlib takes a uInt length: feed very large inputs in pieces */
    while (len > 0x40000000u) {
        c = crc32(c, p, 0x40000000u);
        p += 0x40000000u;
        len -= 0x40000000u;
    }
    return (uint32_t)crc32(c, p, (uInt)len);
}

uint32_t lode_crc32(uint32_t crc, const void *data, size_t len) {
#ifdef LODE_HAVE_CLMUL
    if (len >= 64 && crc32_has_clmul()) return crc32_clmul_body(crc, data, len);
#endif
    return crc32_portable(crc, data, len);
}
