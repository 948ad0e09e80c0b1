/*
 * util.c - allocation wrappers, error reporting, growable buffers and the
 * 64-bit hash. Used by every other file of the library.
 */
#include <stdio.h>
#include <stdlib.h>

#include "indexer.h"

void *lode_malloc(size_t n) { return malloc(n ? n : 1); }
void *lode_calloc(size_t count, size_t size) { return calloc(count ? count : 1, size ? size : 1); }
void *lode_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
void lode_free(void *p) { free(p); }

char *lode_strndup(const char *s, size_t n) {
    char *d = lode_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *lode_strdup(const char *s) { return lode_strndup(s, strlen(s)); }

int lode_fail(lode_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->column = 0;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int lode_corrupt(lode_error *err, const char *file, const char *section, const char *what) {
    return lode_fail(err, LODE_ECORRUPT, "%s: section %s: %s", file ? file : "(memory)",
                     section ? section : "?", what);
}

void buf_init(lode_buf *b) { memset(b, 0, sizeof *b); }

void buf_free(lode_buf *b) {
    lode_free(b->data);
    buf_init(b);
}

int buf_reserve(lode_buf *b, size_t extra) {
    if (b->rc) return b->rc;
    if (extra <= b->cap - b->len) return 0;
    if (extra > SIZE_MAX / 2 - b->len) return b->rc = LODE_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    uint8_t *p = lode_realloc(b->data, cap);
    if (!p) return b->rc = LODE_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_append(lode_buf *b, const void *p, size_t n) {
    if (n == 0 || buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_put_u8(lode_buf *b, uint8_t v) { buf_append(b, &v, 1); }

void buf_put_u16(lode_buf *b, uint16_t v) {
    uint8_t t[2];
    store_u16(t, v);
    buf_append(b, t, 2);
}

void buf_put_u32(lode_buf *b, uint32_t v) {
    uint8_t t[4];
    store_u32(t, v);
    buf_append(b, t, 4);
}

void buf_put_u64(lode_buf *b, uint64_t v) {
    uint8_t t[8];
    store_u64(t, v);
    buf_append(b, t, 8);
}

void buf_put_varint(lode_buf *b, uint64_t v) {
    uint8_t t[VARINT_MAX];
    size_t n = varint_put(t, v);
    buf_append(b, t, n);
}

/* A multiply-and-fold hash over 8-byte words: fast on long inputs (content
 * hashes of whole files) and well mixed on short ones (terms in hash
 * tables). Stable across machines: words are read little-endian. */
static uint64_t mix64(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t lode_hash64(const void *data, size_t len, uint64_t seed) {
    const uint8_t *p = data;
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL;
    uint64_t h = seed ^ mix64(seed ^ k0, k1) ^ (uint64_t)len;
    while (len >= 16) {
        h = mix64(load_u64(p) ^ k1, load_u64(p + 8) ^ h);
        p += 16;
        len -= 16;
    }
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        a = load_u64(p);
        p += 8;
        len -= 8;
    }
    for (size_t i = 0; i < len; i++) b |= (uint64_t)p[i] << (8 * i);
    h = mix64(a ^ k2 ^ h, b ^ k0);
    return mix64(h ^ k1, h ^ k2);
}
