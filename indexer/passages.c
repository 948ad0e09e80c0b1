/*
 * passages.c - cutting a document into passages (the unit a search result
 * shows and ranks) and finding its title. Called by the writer for every
 * document it indexes; the passage table of a segment stores the spans, and
 * the searcher shows them again from the original bytes.
 *
 * The rules, in order of preference: a paragraph (lines between blank lines)
 * that fits PASSAGE_TARGET_BYTES is one passage; a longer paragraph gives one
 * passage per line; a line longer than the target is cut at sentence ends,
 * consecutive sentences packed greedily up to the target; a sentence longer
 * than PASSAGE_MAX_BYTES is cut at its last whitespace before the maximum, or
 * failing that at the last UTF-8 character boundary. Each passage runs from a
 * non-whitespace byte to a non-whitespace byte, so every non-whitespace byte
 * of the text (except a leading BOM) lies in exactly one passage.
 *
 * Everything is one forward pass over the bytes (a paragraph's lines are read
 * at most twice), so a 10 MB line costs what reading it costs.
 */
#include "indexer.h"
#include "utf8_seq.h"

/* Whitespace as far as passages are concerned: ASCII only. Line ends are
 * in the set so that trimming works across lines of a paragraph. */
static int is_ws(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int has_bom(const uint8_t *t, size_t len) {
    return len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF;
}

/* Index of the terminator ending the line that starts at i (or len). */
static size_t line_end(const uint8_t *t, size_t i, size_t len) {
    while (i < len && t[i] != '\n' && t[i] != '\r') i++;
    return i;
}

/* Start of the line after the one ending at e: CRLF counts as one end. */
static size_t next_line(const uint8_t *t, size_t e, size_t len) {
    if (e >= len) return len;
    if (t[e] == '\r' && e + 1 < len && t[e + 1] == '\n') return e + 2;
    return e + 1;
}

static size_t skip_ws(const uint8_t *t, size_t i, size_t end) {
    while (i < end && is_ws(t[i])) i++;
    return i;
}

/* End of [a, e) without its trailing whitespace; t[a] must not be one. */
static size_t trim_end(const uint8_t *t, size_t a, size_t e) {
    while (e > a && is_ws(t[e - 1])) e--;
    return e;
}

/* Length of the character at s: the length of a well-formed UTF-8 sequence
 * (no overlongs, surrogates or values above U+10FFFF), or 1 for ASCII and
 * for any byte that does not start one. Invalid bytes are characters of
 * their own, so a lead byte always starts a character. */
static size_t utf8_char_len(const uint8_t *s, size_t avail) {
    size_t n = utf8_seq_len(s, avail);
    return n ? n : 1;
}

/* The last character boundary at or before c, not before p (p itself is a
 * boundary). Only the three bytes before c can start a character that
 * straddles it. `end` bounds the text. */
static size_t utf8_boundary(const uint8_t *t, size_t p, size_t c, size_t end) {
    for (size_t k = c; k > p && c - k < 3;) {
        k--;
        if ((t[k] & 0xC0) != 0x80) return k + utf8_char_len(t + k, end - k) > c ? k : c;
    }
    return c;
}

/* Bytes of a closing quote or bracket at i, or 0. */
static size_t closer_len(const uint8_t *t, size_t i, size_t end) {
    uint8_t c = t[i];
    if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
    if (end - i < 3) return 0;
    if (c == 0xE2 && t[i + 1] == 0x80 && (t[i + 2] == 0x9D || t[i + 2] == 0x99)) return 3; /* ” ’ */
    if (c == 0xE3 && t[i + 1] == 0x80 && (t[i + 2] == 0x8D || t[i + 2] == 0x8F)) return 3; /* 」 』 */
    if (c == 0xEF && t[i + 1] == 0xBC && t[i + 2] == 0x89) return 3;                     /* ） */
    return 0;
}

/* If a sentence ends with a terminator at i, the index just past it and its
 * closers; else 0. ". ! ?" end a sentence only before whitespace or the end
 * of the line ("e.g.", "3.14" and "example.com" do not); the full-width
 * "。！？" end one anywhere, since CJK text puts no space after them. */
static size_t sentence_end(const uint8_t *t, size_t i, size_t end) {
    uint8_t c = t[i];
    size_t j;
    int cjk = 0;
    if (c == '.' || c == '!' || c == '?') {
        j = i + 1;
    } else if (end - i >= 3 && ((c == 0xE3 && t[i + 1] == 0x80 && t[i + 2] == 0x82) ||
                                (c == 0xEF && t[i + 1] == 0xBC &&
                                 (t[i + 2] == 0x81 || t[i + 2] == 0x9F)))) {
        j = i + 3;
        cjk = 1;
    } else {
        return 0;
    }
    for (size_t k; j < end && (k = closer_len(t, j, end)) != 0;) j += k;
    return cjk || j == end || is_ws(t[j]) ? j : 0;
}

typedef struct cutter {
    const uint8_t *t;
    passage_fn fn;
    void *ctx;
} cutter;

static int emit(cutter *c, size_t start, size_t end, uint64_t line) {
    passage_span p;
    p.offset = (uint32_t)start;
    p.length = (uint32_t)(end - start);
    p.line = (uint32_t)line;
    return c->fn(c->ctx, &p);
}

/* Emit the head of a sentence [*p, ...) longer than PASSAGE_MAX_BYTES and
 * move *p to the start of the rest. The sentence goes on past p + MAX. */
static int cut_long(cutter *c, size_t *p, size_t b, uint64_t line) {
    const uint8_t *t = c->t;
    size_t start = *p, lim = start + PASSAGE_MAX_BYTES;
    size_t w = lim;
    /* the last whitespace at or before the maximum: at most MAX bytes back,
     * and what lies after it is then known to be free of whitespace, so the
     * next search does not cover it again (linear overall) */
    while (w > start && !is_ws(t[w])) w--;
    if (w > start) {
        *p = skip_ws(t, w, b);
        return emit(c, start, trim_end(t, start, w), line);
    }
    size_t q = utf8_boundary(t, start, lim, b);
    *p = q;
    return emit(c, start, q, line);
}

/* Cut the line [a, b) (trimmed, longer than the target) at sentence ends. */
static int cut_line(cutter *c, size_t a, size_t b, uint64_t line) {
    const uint8_t *t = c->t;
    size_t p = a;   /* start of the passage being built */
    size_t fit = 0; /* end of the last sentence that fits in it, 0 if none */
    size_t i = a;   /* where the search for the next sentence end resumes */
    int rc;
    while (p < b) {
        size_t s = b; /* the end of the line ends the last sentence */
        for (; i < b; i++) {
            size_t j = sentence_end(t, i, b);
            if (j) {
                s = j;
                break;
            }
        }
        i = s;
        /* Place the sentence ending at s. Every branch but the first emits
         * and moves p forward; p always stays before s. */
        for (;;) {
            if (s - p <= PASSAGE_TARGET_BYTES) {
                fit = s;
                break;
            }
            if (fit > p) {
                if ((rc = emit(c, p, fit, line)) != 0) return rc;
                p = skip_ws(t, fit, b);
                fit = 0;
            } else if (s - p <= PASSAGE_MAX_BYTES) {
                if ((rc = emit(c, p, s, line)) != 0) return rc;
                p = skip_ws(t, s, b);
                break;
            } else if ((rc = cut_long(c, &p, b, line)) != 0) {
                return rc;
            }
        }
        if (s == b) return fit > p ? emit(c, p, fit, line) : 0;
    }
    return 0;
}

int passages_cut(const char *text, size_t len, passage_fn fn, void *ctx) {
    const uint8_t *t = (const uint8_t *)text;
    /* Offsets are 32-bit; the writer refuses documents over
     * LODE_MAX_DOC_BYTES long before this matters. */
    if (len > UINT32_MAX) len = UINT32_MAX;
    if (!fn) return 0;
    cutter c = {t, fn, ctx};
    size_t pos = has_bom(t, len) ? 3 : 0;
    uint64_t line = 1;
    int rc;
    while (pos < len) {
        size_t e = line_end(t, pos, len);
        size_t a = skip_ws(t, pos, e);
        if (a == e) { /* a blank line */
            pos = next_line(t, e, len);
            line++;
            continue;
        }
        /* A paragraph starts at line `line`. First pass: does it fit the
         * target? Stop reading as soon as it does not. */
        size_t first = a, last = trim_end(t, a, e);
        size_t q = next_line(t, e, len);
        uint64_t lines = 1;
        int fits = last - first <= PASSAGE_TARGET_BYTES;
        while (fits && q < len) {
            size_t e2 = line_end(t, q, len);
            size_t a2 = skip_ws(t, q, e2);
            if (a2 == e2) break;
            last = trim_end(t, a2, e2);
            fits = last - first <= PASSAGE_TARGET_BYTES;
            q = next_line(t, e2, len);
            lines++;
        }
        if (fits) {
            if ((rc = emit(&c, first, last, line)) != 0) return rc;
            pos = q;
            line += lines;
            continue;
        }
        /* Too long: one passage per line until the next blank line, which
         * the outer loop then skips. */
        for (;;) {
            size_t b = trim_end(t, a, e);
            rc = b - a <= PASSAGE_TARGET_BYTES ? emit(&c, a, b, line) : cut_line(&c, a, b, line);
            if (rc) return rc;
            pos = next_line(t, e, len);
            line++;
            if (pos >= len) break;
            e = line_end(t, pos, len);
            a = skip_ws(t, pos, e);
            if (a == e) break;
        }
    }
    return 0;
}

void document_title(const char *text, size_t len, uint32_t *off, uint32_t *title_len) {
    const uint8_t *t = (const uint8_t *)text;
    *off = 0;
    *title_len = 0;
    if (len > UINT32_MAX) len = UINT32_MAX;
    size_t pos = has_bom(t, len) ? 3 : 0;
    while (pos < len) {
        size_t e = line_end(t, pos, len);
        size_t a = skip_ws(t, pos, e);
        if (a < e) {
            size_t b = trim_end(t, a, e);
            if (b - a > TITLE_MAX_BYTES) b = trim_end(t, a, utf8_boundary(t, a, a + TITLE_MAX_BYTES, e));
            *off = (uint32_t)a;
            *title_len = (uint32_t)(b - a);
            return;
        }
        pos = next_line(t, e, len);
    }
}
