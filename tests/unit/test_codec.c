/*
 * test_codec.c - the integer codecs of codec.c: LEB128 varints (round trips
 * at every length boundary, exact encodings, truncated, over-long and
 * overflowing input, the 32-bit variant) and fixed-width bit packing (every
 * width 0..32 with every count 1..128, exact output size with guard bytes,
 * zero padding, short input, bad widths, bitwidth_of) and the CRC-32 of
 * crc32.c (both of its paths against zlib's, at every length up to 1 KiB,
 * every start alignment and every split of a chained computation).
 */
#include <zlib.h>

#include "format.h" /* POSTINGS_BLOCK: the largest count the codec is used with */
#include "indexer.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Bytes LEB128 needs for v, computed from its bit length. */
static size_t varint_len_of(uint64_t v) {
    size_t bits = 0;
    while (v) {
        bits++;
        v >>= 1;
    }
    return bits == 0 ? 1 : (bits + 6) / 7;
}

/* Encode v, check the length, decode it back from a buffer that ends exactly
 * at the varint and from one with trailing bytes. */
static void round_trip(uint64_t v) {
    uint8_t buf[VARINT_MAX + 4];
    memset(buf, 0xEE, sizeof buf);
    size_t n = varint_put(buf, v);
    CHECK_EQ_U64(n, varint_len_of(v));
    CHECK(n <= VARINT_MAX);
    /* nothing written past the varint */
    for (size_t i = n; i < sizeof buf; i++) CHECK_EQ_U64(buf[i], 0xEE);
    /* all but the last byte carry the continuation bit */
    for (size_t i = 0; i + 1 < n; i++) CHECK(buf[i] & 0x80);
    CHECK(!(buf[n - 1] & 0x80));

    const uint8_t *p = buf;
    uint64_t out = ~v;
    CHECK_EQ_U64(varint_get(&p, buf + n, &out), 0);
    CHECK_EQ_U64(out, v);
    CHECK(p == buf + n);

    p = buf;
    out = ~v;
    CHECK_EQ_U64(varint_get(&p, buf + sizeof buf, &out), 0);
    CHECK_EQ_U64(out, v);
    CHECK(p == buf + n);

    /* the 32-bit variant accepts exactly the values that fit */
    p = buf;
    uint32_t o32 = 12345;
    int rc = varint_get32(&p, buf + n, &o32);
    if (v <= UINT32_MAX) {
        CHECK_EQ_U64(rc, 0);
        CHECK_EQ_U64(o32, v);
        CHECK(p == buf + n);
    } else {
        CHECK(rc == -1);
    }

    /* every proper prefix is a truncated varint */
    for (size_t k = 0; k < n; k++) {
        p = buf;
        CHECK(varint_get(&p, buf + k, &out) == -1);
        p = buf;
        CHECK(varint_get32(&p, buf + k, &o32) == -1);
    }
}

static void check_bytes(uint64_t v, const uint8_t *want, size_t want_n) {
    uint8_t buf[VARINT_MAX];
    size_t n = varint_put(buf, v);
    CHECK_EQ_U64(n, want_n);
    if (n == want_n) CHECK(memcmp(buf, want, n) == 0);
}

/* ------------------------------------------------------------------------ */
/* Varints                                                                  */
/* ------------------------------------------------------------------------ */

TEST(varint_boundaries) {
    static const uint64_t values[] = {0,
                                      1,
                                      2,
                                      126,
                                      127,
                                      128,
                                      129,
                                      255,
                                      256,
                                      300,
                                      16383,
                                      16384,
                                      16385,
                                      (1ULL << 21) - 1,
                                      1ULL << 21,
                                      (1ULL << 28) - 1,
                                      1ULL << 28,
                                      (1ULL << 31) - 1,
                                      1ULL << 31,
                                      UINT32_MAX - 1,
                                      UINT32_MAX,
                                      (uint64_t)UINT32_MAX + 1,
                                      (1ULL << 35) - 1,
                                      1ULL << 35,
                                      (1ULL << 42) - 1,
                                      1ULL << 42,
                                      (1ULL << 49) - 1,
                                      1ULL << 49,
                                      (1ULL << 56) - 1,
                                      1ULL << 56,
                                      (1ULL << 63) - 1,
                                      1ULL << 63,
                                      UINT64_MAX - 1,
                                      UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) round_trip(values[i]);
    /* every power of two and its neighbours */
    for (unsigned b = 0; b < 64; b++) {
        uint64_t v = 1ULL << b;
        round_trip(v - 1);
        round_trip(v);
        round_trip(v + 1);
    }
    CHECK_EQ_U64(varint_len_of(127), 1);
    CHECK_EQ_U64(varint_len_of(128), 2);
    CHECK_EQ_U64(varint_len_of(16383), 2);
    CHECK_EQ_U64(varint_len_of(16384), 3);
    CHECK_EQ_U64(varint_len_of(UINT32_MAX), 5);
    CHECK_EQ_U64(varint_len_of(UINT64_MAX), 10);
}

TEST(varint_exact_encodings) {
    static const uint8_t zero[] = {0x00};
    static const uint8_t v127[] = {0x7f};
    static const uint8_t v128[] = {0x80, 0x01};
    static const uint8_t v300[] = {0xac, 0x02};
    static const uint8_t v16383[] = {0xff, 0x7f};
    static const uint8_t v16384[] = {0x80, 0x80, 0x01};
    static const uint8_t u32max[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    static const uint8_t two32[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    static const uint8_t two63[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    static const uint8_t u64max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    check_bytes(0, zero, sizeof zero);
    check_bytes(127, v127, sizeof v127);
    check_bytes(128, v128, sizeof v128);
    check_bytes(300, v300, sizeof v300);
    check_bytes(16383, v16383, sizeof v16383);
    check_bytes(16384, v16384, sizeof v16384);
    check_bytes(UINT32_MAX, u32max, sizeof u32max);
    check_bytes((uint64_t)UINT32_MAX + 1, two32, sizeof two32);
    check_bytes(1ULL << 63, two63, sizeof two63);
    check_bytes(UINT64_MAX, u64max, sizeof u64max);
}

TEST(varint_random_round_trip) {
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        uint64_t v = test_rand(&seed);
        /* spread over all lengths, not only 10-byte values */
        v >>= test_rand(&seed) % 64;
        round_trip(v);
    }
}

TEST(varint_sequence) {
    /* many varints back to back decode in order and end exactly at the end */
    enum { N = 5000 };
    static uint64_t vals[N];
    static uint8_t buf[N * VARINT_MAX];
    uint64_t seed = 42;
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        vals[i] = test_rand(&seed) >> (test_rand(&seed) % 64);
        len += varint_put(buf + len, vals[i]);
    }
    const uint8_t *p = buf, *end = buf + len;
    for (int i = 0; i < N; i++) {
        uint64_t v;
        if (varint_get(&p, end, &v) != 0 || v != vals[i]) {
            CHECK_EQ_U64(v, vals[i]);
            CHECK(0 && "sequence decode failed");
            break;
        }
    }
    CHECK(p == end);
    uint64_t v;
    CHECK(varint_get(&p, end, &v) == -1); /* nothing left */
}

TEST(varint_empty_and_truncated) {
    uint8_t buf[16] = {0};
    const uint8_t *p = buf;
    uint64_t v;
    uint32_t v32;
    CHECK(varint_get(&p, buf, &v) == -1);
    CHECK(varint_get32(&p, buf, &v32) == -1);
    /* a lone continuation byte */
    buf[0] = 0x80;
    p = buf;
    CHECK(varint_get(&p, buf + 1, &v) == -1);
    /* nine continuation bytes with no end */
    memset(buf, 0xff, 9);
    p = buf;
    CHECK(varint_get(&p, buf + 9, &v) == -1);
    p = buf;
    CHECK(varint_get32(&p, buf + 9, &v32) == -1);
}

TEST(varint_overlong_rejected) {
    uint8_t buf[16] = {0};
    const uint8_t *p;
    uint64_t v;
    /* 11 bytes: ten continuation bytes, then a terminator */
    memset(buf, 0x80, 10);
    buf[10] = 0x00;
    p = buf;
    CHECK(varint_get(&p, buf + 11, &v) == -1);
    memset(buf, 0xff, 10);
    buf[10] = 0x01;
    p = buf;
    CHECK(varint_get(&p, buf + 11, &v) == -1);
    /* 10 bytes whose last carries more than the single top bit: overflow */
    static const uint8_t tenth[] = {0x02, 0x03, 0x7f, 0x40, 0x81, 0xff};
    for (size_t i = 0; i < sizeof tenth; i++) {
        memset(buf, 0xff, 9);
        buf[9] = tenth[i];
        buf[10] = 0x00;
        p = buf;
        CHECK(varint_get(&p, buf + 11, &v) == -1);
    }
    /* the largest legal 10-byte varints */
    memset(buf, 0xff, 9);
    buf[9] = 0x01;
    p = buf;
    CHECK(varint_get(&p, buf + 10, &v) == 0);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK(p == buf + 10);
    memset(buf, 0x80, 9);
    buf[9] = 0x01;
    p = buf;
    CHECK(varint_get(&p, buf + 10, &v) == 0);
    CHECK_EQ_U64(v, 1ULL << 63);
    /* a 10th byte of zero is a (non-minimal) encoding of a 63-bit value */
    memset(buf, 0xff, 9);
    buf[9] = 0x00;
    p = buf;
    CHECK(varint_get(&p, buf + 10, &v) == 0);
    CHECK_EQ_U64(v, (1ULL << 63) - 1);
}

TEST(varint_get32_range) {
    uint8_t buf[VARINT_MAX];
    uint32_t v32 = 0;
    const uint8_t *p;
    static const uint64_t too_big[] = {(uint64_t)UINT32_MAX + 1, (uint64_t)UINT32_MAX + 2, 1ULL << 33,
                                       1ULL << 40, 1ULL << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
        size_t n = varint_put(buf, too_big[i]);
        p = buf;
        v32 = 7;
        CHECK(varint_get32(&p, buf + n, &v32) == -1);
    }
    static const uint64_t ok[] = {0, 1, 127, 128, 65535, 65536, (1ULL << 31), UINT32_MAX - 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = varint_put(buf, ok[i]);
        p = buf;
        CHECK(varint_get32(&p, buf + n, &v32) == 0);
        CHECK_EQ_U64(v32, ok[i]);
        CHECK(p == buf + n);
    }
    /* a 5-byte varint whose last byte carries bits above 32 */
    static const uint8_t b33[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    p = b33;
    CHECK(varint_get32(&p, b33 + sizeof b33, &v32) == -1);
    /* a non-minimal but in-range 6-byte encoding of 1 is still 1 */
    static const uint8_t long1[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x00};
    p = long1;
    CHECK(varint_get32(&p, long1 + sizeof long1, &v32) == 0);
    CHECK_EQ_U64(v32, 1);
}

/* ------------------------------------------------------------------------ */
/* Bit packing                                                              */
/* ------------------------------------------------------------------------ */

static unsigned naive_width(const uint32_t *v, size_t n) {
    uint32_t mx = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > mx) mx = v[i];
    unsigned w = 0;
    while (w < 32 && (mx >> w) != 0) w++;
    return w;
}

TEST(bitwidth_of_values) {
    uint32_t v[POSTINGS_BLOCK] = {0};
    CHECK_EQ_U64(bitwidth_of(v, 0), 0);
    memset(v, 0, sizeof v);
    CHECK_EQ_U64(bitwidth_of(v, POSTINGS_BLOCK), 0);
    for (unsigned b = 0; b < 32; b++) {
        v[0] = 1u << b;
        CHECK_EQ_U64(bitwidth_of(v, 1), b + 1);
        v[0] = (1u << b) - 1;
        CHECK_EQ_U64(bitwidth_of(v, 1), b);
        /* the widest value may be anywhere in the array */
        memset(v, 0, sizeof v);
        v[POSTINGS_BLOCK - 1] = 1u << b;
        v[7] = 1;
        CHECK_EQ_U64(bitwidth_of(v, POSTINGS_BLOCK), b + 1);
        CHECK_EQ_U64(bitwidth_of(v, POSTINGS_BLOCK - 1), 1); /* only v[7] = 1 counted */
    }
    v[0] = UINT32_MAX;
    CHECK_EQ_U64(bitwidth_of(v, 1), 32);
    uint64_t seed = 7;
    for (int i = 0; i < 5000; i++) {
        size_t n = 1 + test_rand(&seed) % POSTINGS_BLOCK;
        unsigned shift = (unsigned)(test_rand(&seed) % 33);
        for (size_t k = 0; k < n; k++)
            v[k] = shift == 32 ? 0 : (uint32_t)(test_rand(&seed) >> 32) >> shift;
        CHECK_EQ_U64(bitwidth_of(v, n), naive_width(v, n));
    }
}

TEST(bitpack_known_bytes) {
    uint8_t out[8];
    memset(out, 0xAA, sizeof out);
    static const uint32_t a[] = {1, 2, 3};
    bitpack_put(out, a, 3, 2); /* 01 10 11 -> 0b00111001 */
    CHECK_EQ_U64(out[0], 0x39);
    CHECK_EQ_U64(out[1], 0xAA);

    memset(out, 0xAA, sizeof out);
    static const uint32_t b[] = {0x1ff, 1};
    bitpack_put(out, b, 2, 9); /* 18 bits: ff, 0b11, 0 */
    CHECK_EQ_U64(out[0], 0xff);
    CHECK_EQ_U64(out[1], 0x03);
    CHECK_EQ_U64(out[2], 0x00);
    CHECK_EQ_U64(out[3], 0xAA);

    memset(out, 0xAA, sizeof out);
    static const uint32_t c[] = {0xdeadbeef, 0x01234567};
    bitpack_put(out, c, 2, 32); /* little-endian words */
    static const uint8_t want[] = {0xef, 0xbe, 0xad, 0xde, 0x67, 0x45, 0x23, 0x01};
    CHECK(memcmp(out, want, 8) == 0);

    uint32_t back[3];
    CHECK(bitpack_get(back, 2, 32, want, want + 8) == 0);
    CHECK_EQ_U64(back[0], 0xdeadbeef);
    CHECK_EQ_U64(back[1], 0x01234567);
    static const uint8_t one[] = {0x39};
    CHECK(bitpack_get(back, 3, 2, one, one + 1) == 0);
    CHECK_EQ_U64(back[0], 1);
    CHECK_EQ_U64(back[1], 2);
    CHECK_EQ_U64(back[2], 3);
}

TEST(bitpack_bytes_formula) {
    CHECK_EQ_U64(bitpack_bytes(0, 0), 0);
    CHECK_EQ_U64(bitpack_bytes(128, 0), 0);
    CHECK_EQ_U64(bitpack_bytes(1, 1), 1);
    CHECK_EQ_U64(bitpack_bytes(8, 1), 1);
    CHECK_EQ_U64(bitpack_bytes(9, 1), 2);
    CHECK_EQ_U64(bitpack_bytes(3, 7), 3);
    CHECK_EQ_U64(bitpack_bytes(128, 32), 512);
    CHECK_EQ_U64(bitpack_bytes(128, 13), 208);
}

/* Every width with every count: random values masked to the width round
 * trip; exactly bitpack_bytes(n, w) bytes are written (guards after them are
 * untouched); padding bits are zero; decoding reads only the bytes it is
 * given (an exact-size heap copy lets the sanitizer catch overreads) and
 * refuses one byte less. */
TEST(bitpack_round_trip_all_widths) {
    enum { GUARD = 16 };
    uint32_t in[POSTINGS_BLOCK], back[POSTINGS_BLOCK];
    uint8_t out[POSTINGS_BLOCK * 4 + GUARD];
    uint64_t seed = 0xB175EED;
    for (unsigned w = 0; w <= 32; w++) {
        uint32_t mask = w == 32 ? UINT32_MAX : (uint32_t)((1ULL << w) - 1);
        for (size_t n = 1; n <= POSTINGS_BLOCK; n++) {
            for (size_t i = 0; i < n; i++) in[i] = (uint32_t)(test_rand(&seed) >> 17) & mask;
            /* the extremes of the width appear too */
            if (n >= 2) {
                in[0] = mask;
                in[n - 1] = 0;
            }
            CHECK(bitwidth_of(in, n) <= w);
            size_t bytes = bitpack_bytes(n, w);
            memset(out, 0xA5, sizeof out);
            bitpack_put(out, in, n, w);
            int guards_ok = 1;
            for (size_t i = bytes; i < sizeof out; i++)
                if (out[i] != 0xA5) guards_ok = 0;
            if (!guards_ok) {
                fprintf(stderr, "width %u n %zu: wrote past %zu bytes\n", w, n, bytes);
                CHECK(guards_ok);
            }
            /* the unused high bits of the last byte are zero */
            unsigned used = (unsigned)((n * w) % 8);
            if (bytes && used) CHECK_EQ_U64(out[bytes - 1] >> used, 0);

            uint8_t *exact = malloc(bytes ? bytes : 1);
            REQUIRE(exact);
            memcpy(exact, out, bytes);
            for (size_t i = 0; i < n; i++) back[i] = 0xDEADBEEF;
            int rc = bitpack_get(back, n, w, exact, exact + bytes);
            CHECK_EQ_U64(rc, 0);
            int same = 1;
            for (size_t i = 0; i < n; i++)
                if (back[i] != in[i]) same = 0;
            if (!same) {
                fprintf(stderr, "width %u n %zu: values differ after the round trip\n", w, n);
                CHECK(same);
            }
            if (bytes) CHECK(bitpack_get(back, n, w, exact, exact + bytes - 1) == -1);
            free(exact);
            /* with more input than needed, the same values */
            for (size_t i = 0; i < n; i++) back[i] = 0xDEADBEEF;
            CHECK(bitpack_get(back, n, w, out, out + sizeof out) == 0);
            CHECK(memcmp(back, in, n * sizeof *in) == 0);
        }
    }
}

/* Any run of values decodes alone, from a buffer of exactly the bytes
 * needed (the fast path reads 8 bytes at a time: ASan sees any overrun). */
TEST(bitpack_get_range_every_window) {
    uint32_t in[POSTINGS_BLOCK], back[POSTINGS_BLOCK];
    uint8_t packed[POSTINGS_BLOCK * 4];
    uint64_t seed = 0x5A17;
    for (unsigned w = 0; w <= 32; w++) {
        uint32_t mask = w == 32 ? UINT32_MAX : (uint32_t)((1ULL << w) - 1);
        size_t n = POSTINGS_BLOCK - w % 5; /* not always a whole number of bytes */
        for (size_t i = 0; i < n; i++) in[i] = (uint32_t)(test_rand(&seed) >> 13) & mask;
        bitpack_put(packed, in, n, w);
        int same = 1;
        for (size_t first = 0; first < n; first++)
            for (size_t count = 0; first + count <= n; count += 1 + count / 4) {
                size_t bytes = bitpack_bytes(first + count, w);
                uint8_t *exact = malloc(bytes ? bytes : 1);
                REQUIRE(exact);
                memcpy(exact, packed, bytes);
                CHECK(bitpack_get_range(back, first, count, w, exact, exact + bytes) == 0);
                if (memcmp(back, in + first, count * sizeof *in) != 0) same = 0;
                if (bytes) CHECK(bitpack_get_range(back, first, count, w, exact, exact + bytes - 1) == -1);
                free(exact);
            }
        if (!same) fprintf(stderr, "width %u: a window decoded wrong\n", w);
        CHECK(same);
    }
}

TEST(bitpack_width_zero) {
    uint8_t out[4] = {0x11, 0x22, 0x33, 0x44};
    uint32_t zeros[POSTINGS_BLOCK];
    memset(zeros, 0, sizeof zeros);
    bitpack_put(out, zeros, POSTINGS_BLOCK, 0);
    CHECK_EQ_U64(out[0], 0x11); /* nothing stored */
    CHECK_EQ_U64(out[3], 0x44);
    uint32_t back[POSTINGS_BLOCK];
    memset(back, 0xff, sizeof back);
    /* needs no input at all */
    CHECK(bitpack_get(back, POSTINGS_BLOCK, 0, out, out) == 0);
    for (size_t i = 0; i < POSTINGS_BLOCK; i++) CHECK_EQ_U64(back[i], 0);
}

TEST(bitpack_get_rejects) {
    uint8_t in[POSTINGS_BLOCK * 4 + 8];
    memset(in, 0xff, sizeof in);
    uint32_t out[POSTINGS_BLOCK];
    static const unsigned bad_widths[] = {33, 34, 40, 63, 64, 255, 1000};
    for (size_t i = 0; i < sizeof bad_widths / sizeof bad_widths[0]; i++) {
        CHECK(bitpack_get(out, 1, bad_widths[i], in, in + sizeof in) == -1);
        CHECK(bitpack_get(out, POSTINGS_BLOCK, bad_widths[i], in, in + sizeof in) == -1);
    }
    /* short input at every width: one byte missing, and nothing at all */
    for (unsigned w = 1; w <= 32; w++) {
        for (size_t n = 1; n <= POSTINGS_BLOCK; n += 13) {
            size_t need = bitpack_bytes(n, w);
            CHECK(bitpack_get(out, n, w, in, in + need - 1) == -1);
            CHECK(bitpack_get(out, n, w, in, in) == -1);
            CHECK(bitpack_get(out, n, w, in, in + need) == 0);
        }
    }
    /* all-ones input decodes to the width's maximum */
    for (unsigned w = 1; w <= 32; w++) {
        CHECK(bitpack_get(out, POSTINGS_BLOCK, w, in, in + sizeof in) == 0);
        uint32_t mask = w == 32 ? UINT32_MAX : (uint32_t)((1ULL << w) - 1);
        for (size_t i = 0; i < POSTINGS_BLOCK; i++)
            if (out[i] != mask) {
                CHECK_EQ_U64(out[i], mask);
                break;
            }
    }
}

/* ------------------------------------------------------------------------ */
/* CRC-32                                                                   */
/* ------------------------------------------------------------------------ */

/* Bytes with every value and no short period, so that a wrong fold constant
 * or a lane mixed up cannot cancel out. */
static void fill_crc_bytes(uint8_t *p, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

TEST(crc32_check_values) {
    /* the catalogued check value of CRC-32 (ISO-HDLC) */
    CHECK_EQ_U64(lode_crc32(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_U64(crc32_clmul(0, "123456789", 9), 0xCBF43926u);
    CHECK_EQ_U64(lode_crc32(0, "", 0), 0);
    CHECK_EQ_U64(lode_crc32(0x12345678u, NULL, 0), 0x12345678u);
    /* long runs of one byte: the folded lanes see identical chunks */
    uint8_t same[4096];
    for (int v = 0; v < 256; v += 255) {
        memset(same, v, sizeof same);
        CHECK_EQ_U64(lode_crc32(0, same, sizeof same), (uint32_t)crc32(0, same, sizeof same));
        CHECK_EQ_U64(crc32_clmul(0, same, sizeof same), (uint32_t)crc32(0, same, sizeof same));
    }
}

TEST(crc32_every_length_and_alignment) {
    enum { MAXLEN = 1100 };
    static uint8_t buf[MAXLEN + 16];
    fill_crc_bytes(buf, sizeof buf, 7);
    if (!crc32_has_clmul()) printf("  (no carry-less multiply here: both paths are zlib's)\n");
    for (size_t align = 0; align < 16; align++)
        for (size_t len = 0; len <= MAXLEN; len++) {
            const uint8_t *p = buf + align;
            uint32_t start = (uint32_t)(len * 0x9E3779B1u); /* chained from some earlier value */
            uint32_t want = (uint32_t)crc32(start, p, (uInt)len);
            uint32_t a = crc32_clmul(start, p, len), b = lode_crc32(start, p, len);
            uint32_t c = crc32_portable(start, p, len);
            if (a != want || b != want || c != want) {
                printf("  align %zu len %zu start %08x\n", align, len, start);
                CHECK_EQ_U64(a, want);
                CHECK_EQ_U64(b, want);
                CHECK_EQ_U64(c, want);
                return;
            }
        }
}

TEST(crc32_chained_splits) {
    /* a page checksum is built from the pieces out_write is handed */
    static uint8_t buf[777];
    fill_crc_bytes(buf, sizeof buf, 99);
    uint32_t whole = (uint32_t)crc32(0, buf, sizeof buf);
    CHECK_EQ_U64(lode_crc32(0, buf, sizeof buf), whole);
    for (size_t cut = 0; cut <= sizeof buf; cut++) {
        uint32_t c = lode_crc32(lode_crc32(0, buf, cut), buf + cut, sizeof buf - cut);
        if (c != whole) {
            printf("  cut at %zu\n", cut);
            CHECK_EQ_U64(c, whole);
            return;
        }
    }
    /* a 4 MiB input, larger than any page, through many 64-byte rounds */
    size_t big = (size_t)4 << 20;
    uint8_t *m = malloc(big);
    CHECK(m != NULL);
    if (!m) return;
    fill_crc_bytes(m, big, 3);
    CHECK_EQ_U64(lode_crc32(0, m, big), (uint32_t)crc32(0, m, (uInt)big));
    free(m);
}

TEST_MAIN(TEST_CASE(varint_boundaries), TEST_CASE(varint_exact_encodings),
          TEST_CASE(varint_random_round_trip), TEST_CASE(varint_sequence),
          TEST_CASE(varint_empty_and_truncated), TEST_CASE(varint_overlong_rejected),
          TEST_CASE(varint_get32_range), TEST_CASE(bitwidth_of_values), TEST_CASE(bitpack_known_bytes),
          TEST_CASE(bitpack_bytes_formula), TEST_CASE(bitpack_round_trip_all_widths),
          TEST_CASE(bitpack_get_range_every_window), TEST_CASE(bitpack_width_zero), TEST_CASE(bitpack_get_rejects),
          TEST_CASE(crc32_check_values), TEST_CASE(crc32_every_length_and_alignment),
          TEST_CASE(crc32_chained_splits))
