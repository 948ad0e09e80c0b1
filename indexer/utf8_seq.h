/*
 * utf8_seq.h - the length of a well-formed UTF-8 sequence, shared by the
 * library (passages.c) and both programs (their message and JSON quoting),
 * which otherwise see only lode.h. Header-only, no state.
 */
#ifndef LODE_UTF8_SEQ_H
#define LODE_UTF8_SEQ_H

#include <stddef.h>

/* Length of the well-formed UTF-8 character at s (no overlong forms,
 * surrogates or values above U+10FFFF; RFC 3629), or 0 when s does not
 * start one. avail > 0 bytes may be read. */
static inline size_t utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

#endif /* LODE_UTF8_SEQ_H */
