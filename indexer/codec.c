/*
 * codec.c - the integer codecs of the format: LEB128 varints for headers
 * and small lists, fixed-width bit packing for blocks of postings (doc-id
 * gaps, term frequencies, position gaps). Called by the segment writer and
 * reader; decoders are told where their input ends and check before reading.
 */
#include "indexer.h"

size_t varint_put(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
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

int varint_get32(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint64_t v;
    if (varint_get(p, end, &v) || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
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

int bitpack_get(uint32_t *out, size_t n, unsigned width, const uint8_t *p, const uint8_t *end) {
    if (width > 32) return -1;
    if (width == 0) {
        memset(out, 0, n * sizeof *out);
        return 0;
    }
    size_t need = bitpack_bytes(n, width);
    if ((size_t)(end - p) < need) return -1;
    const uint8_t *stop = p + need;
    uint64_t acc = 0;
    unsigned bits = 0;
    uint64_t mask = width == 32 ? 0xffffffffULL : ((1ULL << width) - 1);
    for (size_t i = 0; i < n; i++) {
        while (bits < width) {
            /* need >= n*width bits, so the stream never runs dry here */
            acc |= (uint64_t)(p < stop ? *p++ : 0) << bits;
            bits += 8;
        }
        out[i] = (uint32_t)(acc & mask);
        acc >>= width;
        bits -= width;
    }
    return 0;
}
