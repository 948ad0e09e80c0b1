/*
 * codec.c - the integer codecs of the format: LEB128 varints for headers
 * and small lists, fixed-width bit packing for blocks of postings (doc-id
 * gaps, term frequencies, position gaps). Called by the segment writer and
 * reader; decoders are told where their input ends and check before reading.
 */
#include "indexer.h"

int varint_get_long(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t byte = *p++;
        /* the tenth byte may only carry the single top bit */
        if (shift == 63 && byte > 1) return -1;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

unsigned bitwidth_of(const uint32_t *v, size_t n) {
    uint32_t all = 0;
    for (size_t i = 0; i < n; i++) all |= v[i];
    unsigned w = 0;
    while (all) {
        w++;
        all >>= 1;
    }
    return w;
}

/* Values go into a 64-bit accumulator low bits first and leave it a byte at
 * a time, so the stream is the same whatever the host's byte order. */
void bitpack_put(uint8_t *out, const uint32_t *v, size_t n, unsigned width) {
    if (width == 0) return;
    uint64_t acc = 0;
    unsigned bits = 0;
    uint64_t mask = width == 32 ? 0xffffffffULL : ((1ULL << width) - 1);
    for (size_t i = 0; i < n; i++) {
        acc |= ((uint64_t)v[i] & mask) << bits;
        bits += width;
        while (bits >= 8) {
            *out++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    if (bits) *out = (uint8_t)acc;
}

/* Eight bytes at p as a little-endian number. */
static inline uint64_t load_le64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    return (uint64_t)load_u32(p) | ((uint64_t)load_u32(p + 4) << 32);
#endif
}

int bitpack_get_range(uint32_t *out, size_t first, size_t n, unsigned width, const uint8_t *p,
                      const uint8_t *end) {
    if (width > 32) return -1;
    if (width == 0) {
        memset(out, 0, n * sizeof *out);
        return 0;
    }
    size_t avail = (size_t)(end - p);
    if (avail < bitpack_bytes(first + n, width)) return -1;
    uint64_t mask = width == 32 ? 0xffffffffULL : ((1ULL << width) - 1);
    /* value i starts at bit i * width: one unaligned 64-bit load holds it
     * (7 bits of shift + 32 of value), while 8 bytes remain; the last few
     * values are read from a zero-padded copy of the tail */
    size_t i = 0;
    uint64_t bit = (uint64_t)first * width;
    size_t fast_end = avail >= 8 ? avail - 8 : 0;
    for (; i < n && (bit >> 3) <= fast_end && avail >= 8; i++, bit += width)
        out[i] = (uint32_t)((load_le64(p + (bit >> 3)) >> (bit & 7)) & mask);
    if (i < n) {
        uint8_t tail[16];
        size_t from = (size_t)(bit >> 3);
        size_t left = avail - from;
        memset(tail, 0, sizeof tail);
        memcpy(tail, p + from, left < 8 ? left : 8);
        uint64_t base = (uint64_t)from * 8;
        for (; i < n; i++, bit += width) {
            /* fewer than 8 bytes remained, so the rest fits in the copy */
            out[i] = (uint32_t)((load_le64(tail + ((bit - base) >> 3)) >> (bit & 7)) & mask);
        }
    }
    return 0;
}

int bitpack_get(uint32_t *out, size_t n, unsigned width, const uint8_t *p, const uint8_t *end) {
    return bitpack_get_range(out, 0, n, width, p, end);
}
