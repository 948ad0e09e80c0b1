/*
 * analyze.c - turns any bytes into tokens: the word rules (a simplified
 * UAX#29), UTF-8 decoding, normalization (NFKC, case folding, accents
 * stripped, through utf8proc), CJK bigrams, Snowball stemming and the caches
 * that keep all of that cheap. The writer calls it on every document and the
 * searcher on every query: a term is whatever this file says it is, so both
 * sides must go through the same code.
 *
 * Layout of the hot path: a byte table classifies ASCII without decoding;
 * only bytes >= 0x80 are decoded and looked up in utf8proc's tables. A word
 * made of ASCII (and U+2019) is lowercased inline; any other word goes
 * through utf8proc once and its result is cached by its original bytes.
 * Stems are cached by normalized word, so Snowball runs once per distinct
 * word until the cache is cleared.
 */
#include <stdio.h>

#include <libstemmer.h>
#include <utf8proc.h>

#include "indexer.h"

/* Words and terms are cut to this many bytes, between two characters. */
#define TERM_MAX LODE_MAX_TERM_BYTES

/* A non-ASCII word longer than this many original bytes is normalized from
 * its first NORM_INPUT_MAX bytes only: its term keeps at most TERM_MAX bytes
 * anyway, and this bounds the scratch memory a pathological "word" (a
 * megabyte of letters and combining marks without a separator) can take. */
#define NORM_INPUT_MAX 4096

/* Non-ASCII words up to this many original bytes have their normalization
 * cached; longer ones are too rare to be worth the memory. */
#define NORM_KEY_MAX 128

/* Cache geometry. Slots double from CACHE_MIN_SLOTS up to CACHE_MAX_SLOTS
 * and stay at most half full; at CACHE_MAX_ENTRIES the whole cache is
 * dropped. Real vocabularies have a head of frequent words that refills the
 * cache at once, and memory stays below ~1 MiB of slots plus ~8 MiB of bytes
 * (worst case) per cache, whatever the size of the corpus. */
#define CACHE_MIN_SLOTS 1024u
#define CACHE_MAX_SLOTS 65536u
#define CACHE_MAX_ENTRIES (CACHE_MAX_SLOTS / 2)

#define SEED_STEM 0x5354454d5354454dULL /* "STEMSTEM" */
#define SEED_NORM 0x4e4f524d4e4f524dULL /* "NORMNORM" */

/* Non-CJK words: NFKC and case folding, then diacritics stripped (see
 * is_diacritic). The decomposition is canonical because COMPOSE is set;
 * the composition happens afterwards in utf8proc_normalize_utf32. IGNORE
 * drops the format characters (soft hyphen, ZWJ) that the word rules let
 * inside a word. */
#define WORD_OPTS                                                                            \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |              \
                         UTF8PROC_CASEFOLD | UTF8PROC_IGNORE))
/* CJK characters: NFKC and case folding but marks kept, because for kana the
 * "mark" is the voicing (ガ is カ + U+3099): stripping it would make が and か
 * the same word, which they are not. */
#define CJK_OPTS                                                                             \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |              \
                         UTF8PROC_CASEFOLD))

/* What a character does to word boundaries. */
enum {
    K_SEP = 0, /* separates words; also every invalid byte */
    K_LETTER,  /* L* */
    K_DIGIT,   /* Nd */
    K_NUMBER,  /* Nl, No */
    K_MARK,    /* M*, and the halfwidth voiced sound marks: extend what precedes */
    K_APOS,    /* ' and U+2019: join two letters */
    K_MIDNUM,  /* . and , : join two digits */
    K_FORMAT,  /* Cf but ZWSP: ignored between word characters (UAX#29 WB4) */
    K_HIGH     /* byte table only: a byte >= 0x80, decode to know */
};

#define KL K_LETTER
#define KD K_DIGIT
#define KH K_HIGH
#define KH8 KH, KH, KH, KH, KH, KH, KH, KH
#define KH32 KH8, KH8, KH8, KH8
static const uint8_t byte_kind[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,           /* 00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,           /* 10 */
    0,  0,  0,  0,  0,  0,  0,  K_APOS, 0, 0, 0, 0, K_MIDNUM, 0, K_MIDNUM, 0, /* 20 */
    KD, KD, KD, KD, KD, KD, KD, KD, KD, KD, 0,  0,  0,  0,  0,  0,           /* 30 */
    0,  KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL,          /* 40 */
    KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, 0,  0,  0,  0,  0,           /* 50 */
    0,  KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL,          /* 60 */
    KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, KL, 0,  0,  0,  0,  0,           /* 70 */
    KH32, KH32, KH32, KH32                                                    /* 80-FF */
};
#undef KL
#undef KD
#undef KH
#undef KH8
#undef KH32

/* One classified character. len is 1 for an invalid byte (kind K_SEP). */
typedef struct cpinfo {
    uint32_t cp;
    uint8_t len;
    uint8_t kind;
    uint8_t cjk;
} cpinfo;

/* An open-addressing cache from a byte string to one or two byte strings.
 * Strings live in one arena addressed by offset, so growing the arena never
 * leaves a slot dangling. */
typedef struct cache_slot {
    uint64_t hash; /* 0: empty */
    uint32_t off;  /* key, then value a, then value b */
    uint8_t klen, alen, blen;
} cache_slot;

typedef struct cache {
    cache_slot *slots;
    uint32_t mask;
    uint32_t count;
    uint8_t *arena;
    uint32_t arena_len;
    uint32_t arena_cap;
} cache;

/* A normalized CJK character (a base and what extends it) and its span. */
typedef struct cjk_unit {
    size_t start, end;
    size_t len;
    uint8_t bytes[TERM_MAX + 4];
} cjk_unit;

typedef struct emitter {
    token_fn fn;
    void *ctx;
    uint32_t pos;
} emitter;

struct analyzer {
    struct sb_stemmer *stemmer; /* NULL: "none" */
    const char *name;           /* canonical, static storage */
    cache stems;                /* normalized word -> stem */
    cache norms;                /* original non-ASCII word -> normalized word, term */
    int32_t *ubuf;              /* utf8proc scratch, in code points */
    size_t ubuf_cap;
    uint8_t word[TERM_MAX + 4];
    uint8_t term[2 * TERM_MAX + 8]; /* room for two CJK units before the cut */
    cjk_unit units[2];
    int defer_stems;            /* analyzer_defer_stemming() */
};

/* ------------------------------------------------------------------------ */
/* UTF-8 and character classes                                               */
/* ------------------------------------------------------------------------ */

/* Decode the sequence at p (p < end). Returns its length, or 0 when the byte
 * at p does not start a valid sequence: overlong forms, surrogates, values
 * above U+10FFFF and truncated sequences are all invalid. */
static inline unsigned utf8_decode(const uint8_t *p, const uint8_t *end, uint32_t *cp) {
    uint32_t c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) return 0; /* continuation byte, or overlong C0/C1 */
    if (c < 0xE0) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1F) << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        if (avail < 3) return 0;
        uint32_t lo = c == 0xE0 ? 0xA0 : 0x80; /* E0 80..9F: overlong */
        uint32_t hi = c == 0xED ? 0x9F : 0xBF; /* ED A0..BF: surrogates */
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4) return 0;
        uint32_t lo = c == 0xF0 ? 0x90 : 0x80; /* F0 80..8F: overlong */
        uint32_t hi = c == 0xF4 ? 0x8F : 0xBF; /* F4 90..: above U+10FFFF */
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x07) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
        return 4;
    }
    return 0;
}

/* The scripts written without spaces between words, which get bigrams. The
 * ranges are those of the spec plus their extensions (Hangul jamo extended,
 * halfwidth Hangul, kana supplement) and the ideographic iteration and
 * number marks (々 〆 〇...), so that a character and its NFKC form are on
 * the same side. Only letters and numbers reach this test. */
static int is_cjk(uint32_t cp) {
    if (cp < 0x1100) return 0; /* Latin, Greek, Cyrillic, Arabic, Indic... */
    if (cp <= 0x11FF) return 1; /* Hangul jamo */
    if (cp < 0x3005) return 0;
    if (cp <= 0x3007) return 1;
    if (cp >= 0x3021 && cp <= 0x3029) return 1;
    if (cp >= 0x3031 && cp <= 0x3035) return 1;
    if (cp >= 0x303B && cp <= 0x303C) return 1;
    if (cp >= 0x3040 && cp <= 0x30FF) return 1; /* hiragana, katakana */
    if (cp >= 0x3130 && cp <= 0x318F) return 1; /* Hangul compatibility jamo */
    if (cp >= 0x31F0 && cp <= 0x31FF) return 1; /* katakana extension */
    if (cp >= 0x3400 && cp <= 0x4DBF) return 1;
    if (cp >= 0x4E00 && cp <= 0x9FFF) return 1;
    if (cp >= 0xA960 && cp <= 0xA97F) return 1; /* Hangul jamo extended-A */
    if (cp >= 0xAC00 && cp <= 0xD7FF) return 1; /* syllables, jamo extended-B */
    if (cp >= 0xF900 && cp <= 0xFAFF) return 1;
    if (cp >= 0xFF66 && cp <= 0xFFDC) return 1; /* halfwidth katakana, Hangul */
    if (cp >= 0x1B000 && cp <= 0x1B16F) return 1;
    if (cp >= 0x20000 && cp <= 0x3134F) return 1;
    return 0;
}

/* CJK characters that NFKC and case folding leave alone on their own: the
 * common case, which then skips utf8proc. (Kana with a canonical
 * decomposition recompose to themselves.) The unit test checks this claim
 * against utf8proc for every code point. */
static int cjk_stable(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3041 && cp <= 0x3096) ||
           (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
           (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2F7FF) ||
           (cp >= 0x30000 && cp <= 0x3134F);
}

static uint8_t kind_of(uint32_t cp) {
    if (cp == 0x2019) return K_APOS;
    /* Lm, but they voice the katakana before them like U+3099 does */
    if (cp == 0xFF9E || cp == 0xFF9F) return K_MARK;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return K_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return K_MARK;
    case UTF8PROC_CATEGORY_ND:
        return K_DIGIT;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return K_NUMBER;
    case UTF8PROC_CATEGORY_CF:
        /* ZERO WIDTH SPACE is how Thai or Khmer text marks a word break */
        return cp == 0x200B ? K_SEP : K_FORMAT;
    default:
        return K_SEP;
    }
}

static inline cpinfo classify(const uint8_t *p, const uint8_t *end) {
    cpinfo ci = {p[0], 1, K_SEP, 0};
    if (p[0] < 0x80) {
        ci.kind = byte_kind[p[0]];
        return ci;
    }
    unsigned n = utf8_decode(p, end, &ci.cp);
    if (n == 0) return ci;
    ci.len = (uint8_t)n;
    ci.kind = kind_of(ci.cp);
    ci.cjk = (uint8_t)((ci.kind == K_LETTER || ci.kind == K_NUMBER) && is_cjk(ci.cp));
    return ci;
}

/* Is the character at i a non-CJK character of `kind`? */
static int next_is(const uint8_t *t, size_t n, size_t i, uint8_t kind) {
    if (i >= n) return 0;
    cpinfo ci = classify(t + i, t + n);
    return ci.kind == kind && !ci.cjk;
}

static int is_word_kind(uint8_t kind) {
    return kind == K_LETTER || kind == K_DIGIT || kind == K_NUMBER || kind == K_MARK;
}

/* Hangul conjoining jamo: a syllable written as separate jamo (L V T, as
 * in NFD text) is one character, so it must be one CJK unit (UAX#29 GB6-8). */
enum { HG_NONE, HG_L, HG_V, HG_T, HG_LV, HG_LVT };

static int hangul_type(uint32_t cp) {
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0xA960 && cp <= 0xA97C)) return HG_L;
    if ((cp >= 0x1160 && cp <= 0x11A7) || (cp >= 0xD7B0 && cp <= 0xD7C6)) return HG_V;
    if ((cp >= 0x11A8 && cp <= 0x11FF) || (cp >= 0xD7CB && cp <= 0xD7FB)) return HG_T;
    if (cp >= 0xAC00 && cp <= 0xD7A3) return (cp - 0xAC00) % 28 == 0 ? HG_LV : HG_LVT;
    return HG_NONE;
}

static int hangul_joins(int prev, int next) {
    switch (prev) {
    case HG_L:
        return next == HG_L || next == HG_V || next == HG_LV || next == HG_LVT;
    case HG_V:
    case HG_LV:
        return next == HG_V || next == HG_T;
    case HG_T:
    case HG_LVT:
        return next == HG_T;
    default:
        return 0;
    }
}

/* The marks stripped from non-CJK words: accents and other diacritics
 * (Latin, Greek, Cyrillic, Vietnamese tones, Hebrew points, Arabic
 * harakat), which writers often leave out. UTF8PROC_STRIPMARK would strip
 * every mark, including the vowel signs and viramas of Indic and Southeast
 * Asian scripts, which are letters in all but category: Hindi कम (less) and
 * काम (work) would become one word. */
static int is_diacritic(uint32_t cp) {
    int in_block = (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) ||
                   (cp >= 0x0591 && cp <= 0x05C7) || (cp >= 0x0610 && cp <= 0x061A) ||
                   (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 ||
                   (cp >= 0x06D6 && cp <= 0x06ED) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
                   (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
                   (cp >= 0xFE20 && cp <= 0xFE2F);
    return in_block && kind_of(cp) == K_MARK;
}

/* Length of the longest prefix of valid UTF-8 [s, s+n) that fits in max
 * bytes without splitting a character. */
static size_t utf8_cut(const uint8_t *s, size_t n, size_t max) {
    if (n <= max) return n;
    size_t k = max;
    while (k > 0 && (s[k] & 0xC0) == 0x80) k--;
    return k;
}

/* ------------------------------------------------------------------------ */
/* Caches                                                                    */
/* ------------------------------------------------------------------------ */

static int cache_init(cache *c) {
    memset(c, 0, sizeof *c);
    c->slots = lode_calloc(CACHE_MIN_SLOTS, sizeof *c->slots);
    if (!c->slots) return LODE_ENOMEM;
    c->mask = CACHE_MIN_SLOTS - 1;
    return 0;
}

static void cache_free(cache *c) {
    lode_free(c->slots);
    lode_free(c->arena);
    memset(c, 0, sizeof *c);
}

static inline uint64_t cache_hash(const uint8_t *key, size_t klen, uint64_t seed) {
    uint64_t h = lode_hash64(key, klen, seed);
    return h ? h : 1;
}

static inline const cache_slot *cache_find(const cache *c, const uint8_t *key, size_t klen,
                                           uint64_t h) {
    for (uint32_t i = (uint32_t)h & c->mask;; i = (i + 1) & c->mask) {
        const cache_slot *s = &c->slots[i];
        if (s->hash == 0) return NULL;
        if (s->hash == h && s->klen == klen && memcmp(c->arena + s->off, key, klen) == 0) return s;
    }
}

static int cache_grow(cache *c) {
    uint32_t nslots = (c->mask + 1) * 2;
    cache_slot *slots = lode_calloc(nslots, sizeof *slots);
    if (!slots) return LODE_ENOMEM;
    for (uint32_t i = 0; i <= c->mask; i++) {
        const cache_slot *s = &c->slots[i];
        if (s->hash == 0) continue;
        uint32_t j = (uint32_t)s->hash & (nslots - 1);
        while (slots[j].hash) j = (j + 1) & (nslots - 1);
        slots[j] = *s;
    }
    lode_free(c->slots);
    c->slots = slots;
    c->mask = nslots - 1;
    return 0;
}

/* Insert a key known to be absent. Lengths are at most 255 (callers cap). */
static int cache_put(cache *c, uint64_t h, const uint8_t *key, size_t klen, const uint8_t *a,
                     size_t alen, const uint8_t *b, size_t blen) {
    if (c->count >= CACHE_MAX_ENTRIES) {
        memset(c->slots, 0, ((size_t)c->mask + 1) * sizeof *c->slots);
        c->count = 0;
        c->arena_len = 0;
    } else if ((c->count + 1) * 2 > c->mask + 1) {
        int rc = cache_grow(c);
        if (rc) return rc;
    }
    size_t need = klen + alen + blen;
    if (need > c->arena_cap - c->arena_len) {
        /* bounded by CACHE_MAX_ENTRIES * (NORM_KEY_MAX + 2 * TERM_MAX) */
        size_t cap = c->arena_cap ? (size_t)c->arena_cap * 2 : 4096;
        while (cap - c->arena_len < need) cap *= 2;
        uint8_t *p = lode_realloc(c->arena, cap);
        if (!p) return LODE_ENOMEM;
        c->arena = p;
        c->arena_cap = (uint32_t)cap;
    }
    uint32_t off = c->arena_len;
    memcpy(c->arena + off, key, klen);
    if (alen) memcpy(c->arena + off + klen, a, alen);
    if (blen) memcpy(c->arena + off + klen + alen, b, blen);
    c->arena_len += (uint32_t)need;
    uint32_t i = (uint32_t)h & c->mask;
    while (c->slots[i].hash) i = (i + 1) & c->mask;
    c->slots[i].hash = h;
    c->slots[i].off = off;
    c->slots[i].klen = (uint8_t)klen;
    c->slots[i].alen = (uint8_t)alen;
    c->slots[i].blen = (uint8_t)blen;
    c->count++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Normalization and stemming                                                */
/* ------------------------------------------------------------------------ */

/* The general path: utf8proc into our own scratch buffer (utf8proc_map
 * would allocate with malloc behind lode_malloc's back). Writes at most
 * TERM_MAX bytes, cut between characters, to out. *has_letter tells whether
 * the result holds a letter, i.e. whether it is worth stemming. */
static int normalize_slow(analyzer *a, const uint8_t *s, size_t n, utf8proc_option_t opts,
                          int strip, uint8_t *out, size_t *out_len, int *has_letter) {
    *out_len = 0;
    *has_letter = 0;
    if (n > NORM_INPUT_MAX) n = utf8_cut(s, n, NORM_INPUT_MAX);
    utf8proc_ssize_t r = utf8proc_decompose(s, (utf8proc_ssize_t)n, a->ubuf,
                                            (utf8proc_ssize_t)a->ubuf_cap, opts);
    if (r > (utf8proc_ssize_t)a->ubuf_cap) {
        int32_t *p = lode_realloc(a->ubuf, (size_t)r * sizeof *p);
        if (!p) return LODE_ENOMEM;
        a->ubuf = p;
        a->ubuf_cap = (size_t)r;
        r = utf8proc_decompose(s, (utf8proc_ssize_t)n, a->ubuf, (utf8proc_ssize_t)a->ubuf_cap,
                               opts);
    }
    /* Only invalid UTF-8 makes utf8proc fail, and the scanner never passes
     * any; should it happen anyway, the word just yields no token. */
    if (r < 0 || r > (utf8proc_ssize_t)a->ubuf_cap) return 0;
    if (strip) {
        utf8proc_ssize_t k = 0;
        for (utf8proc_ssize_t i = 0; i < r; i++)
            if (!is_diacritic((uint32_t)a->ubuf[i])) a->ubuf[k++] = a->ubuf[i];
        r = k;
    }
    r = utf8proc_normalize_utf32(a->ubuf, r, opts);
    if (r < 0) return 0;
    size_t len = 0;
    for (utf8proc_ssize_t i = 0; i < r; i++) {
        uint32_t cp = (uint32_t)a->ubuf[i];
        if (cp == 0x2019) cp = '\''; /* one apostrophe, as typed on a keyboard */
        uint8_t enc[4];
        size_t el;
        if (cp < 0x80) {
            enc[0] = (uint8_t)cp;
            el = 1;
        } else if (cp < 0x800) {
            enc[0] = (uint8_t)(0xC0 | (cp >> 6));
            enc[1] = (uint8_t)(0x80 | (cp & 0x3F));
            el = 2;
        } else if (cp < 0x10000) {
            enc[0] = (uint8_t)(0xE0 | (cp >> 12));
            enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            enc[2] = (uint8_t)(0x80 | (cp & 0x3F));
            el = 3;
        } else {
            enc[0] = (uint8_t)(0xF0 | (cp >> 18));
            enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            enc[3] = (uint8_t)(0x80 | (cp & 0x3F));
            el = 4;
        }
        if (len + el > TERM_MAX) break;
        memcpy(out + len, enc, el);
        len += el;
        if (!*has_letter) {
            if (cp < 0x80)
                *has_letter = byte_kind[cp] == K_LETTER;
            else
                *has_letter = kind_of(cp) == K_LETTER;
        }
    }
    *out_len = len;
    return 0;
}

/* Stem a normalized word. *term points into the cache or a->term, valid
 * until the next call into the analyzer. */
static int stem_word(analyzer *a, const uint8_t *w, size_t wl, const uint8_t **term, size_t *tl) {
    uint64_t h = cache_hash(w, wl, SEED_STEM);
    const cache_slot *s = cache_find(&a->stems, w, wl, h);
    if (s) {
        *term = a->stems.arena + s->off + s->klen;
        *tl = s->alen;
        return 0;
    }
    const sb_symbol *st = sb_stemmer_stem(a->stemmer, w, (int)wl);
    if (!st) return LODE_ENOMEM;
    int sl = sb_stemmer_length(a->stemmer);
    size_t n = sl > 0 ? utf8_cut(st, (size_t)sl, TERM_MAX) : 0;
    if (n == 0) { /* no stemmer should empty a word; keep the word if one does */
        st = w;
        n = wl;
    }
    memcpy(a->term, st, n);
    int rc = cache_put(&a->stems, h, w, wl, a->term, n, NULL, 0);
    if (rc) return rc;
    *term = a->term;
    *tl = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Words and CJK runs                                                        */
/* ------------------------------------------------------------------------ */

static inline int emit(emitter *e, const uint8_t *term, size_t tl, const uint8_t *word, size_t wl,
                       size_t start, size_t end) {
    token tk;
    tk.term = (const char *)term;
    tk.term_len = (uint32_t)tl;
    tk.word = (const char *)word;
    tk.word_len = (uint32_t)wl;
    tk.start = (uint32_t)start;
    tk.end = (uint32_t)end;
    tk.position = e->pos++;
    return e->fn(e->ctx, &tk);
}

/* A word of ASCII and U+2019 only: lowercase inline. The utf8proc path gives
 * the same bytes for such a word (the unit test holds both to it). */
static int word_simple(analyzer *a, emitter *e, const uint8_t *t, size_t ws, size_t we) {
    uint8_t *w = a->word;
    size_t wl = 0;
    int has_letter = 0; /* in what is kept after the cut, like normalize_slow */
    for (size_t j = ws; j < we && wl < TERM_MAX;) {
        uint8_t c = t[j];
        if (c < 0x80) {
            has_letter |= byte_kind[c] == K_LETTER;
            w[wl++] = (uint8_t)((unsigned)c - 'A' < 26u ? c + 32 : c);
            j++;
        } else { /* U+2019 */
            w[wl++] = '\'';
            j += 3;
        }
    }
    if (!has_letter || !a->stemmer) return emit(e, w, wl, w, wl, ws, we);
    if (a->defer_stems) return emit(e, NULL, 0, w, wl, ws, we);
    const uint8_t *term;
    size_t tl;
    int rc = stem_word(a, w, wl, &term, &tl);
    if (rc) return rc;
    return emit(e, term, tl, w, wl, ws, we);
}

static int word_general(analyzer *a, emitter *e, const uint8_t *t, size_t ws, size_t we) {
    const uint8_t *key = t + ws;
    size_t klen = we - ws;
    uint64_t h = 0;
    if (klen <= NORM_KEY_MAX) {
        h = cache_hash(key, klen, SEED_NORM);
        const cache_slot *s = cache_find(&a->norms, key, klen, h);
        if (s) {
            if (s->alen == 0) return 0; /* normalizes to nothing */
            const uint8_t *w = a->norms.arena + s->off + s->klen;
            return emit(e, w + s->alen, s->blen, w, s->alen, ws, we);
        }
    }
    size_t wl;
    int has_letter;
    int rc = normalize_slow(a, key, klen, WORD_OPTS, 1, a->word, &wl, &has_letter);
    if (rc) return rc;
    const uint8_t *term = a->word;
    size_t tl = wl;
    if (wl && has_letter && a->stemmer) {
        rc = stem_word(a, a->word, wl, &term, &tl);
        if (rc) return rc;
    }
    if (klen <= NORM_KEY_MAX) {
        rc = cache_put(&a->norms, h, key, klen, a->word, wl, term, wl ? tl : 0);
        if (rc) return rc;
    }
    if (wl == 0) return 0;
    return emit(e, term, tl, a->word, wl, ws, we);
}

/* Scan the non-CJK word starting at *pi (whose first character is `first`)
 * and emit it. */
static int word_run(analyzer *a, emitter *e, const uint8_t *t, size_t n, size_t *pi,
                    cpinfo first) {
    size_t ws = *pi, i = ws + first.len;
    uint8_t last = first.kind == K_MARK ? K_SEP : first.kind; /* marks are transparent */
    int simple = first.cp < 0x80;
    while (i < n) {
        uint8_t k = byte_kind[t[i]];
        if (k == K_LETTER) {
            last = K_LETTER;
            i++;
            continue;
        }
        if (k == K_DIGIT) {
            last = K_DIGIT;
            i++;
            continue;
        }
        if (k == K_APOS) {
            if (last == K_LETTER && next_is(t, n, i + 1, K_LETTER)) {
                i++;
                continue;
            }
            break;
        }
        if (k == K_MIDNUM) {
            if (last == K_DIGIT && next_is(t, n, i + 1, K_DIGIT)) {
                i++;
                continue;
            }
            break;
        }
        if (k != K_HIGH) break;
        cpinfo ci = classify(t + i, t + n);
        if (ci.cjk) break; /* script change */
        if (ci.kind == K_LETTER || ci.kind == K_DIGIT || ci.kind == K_NUMBER) {
            last = ci.kind;
            simple = 0;
            i += ci.len;
        } else if (ci.kind == K_MARK) {
            simple = 0;
            i += ci.len;
        } else if (ci.kind == K_APOS) { /* U+2019 */
            if (last != K_LETTER || !next_is(t, n, i + ci.len, K_LETTER)) break;
            i += ci.len;
        } else if (ci.kind == K_FORMAT) {
            size_t j = i + ci.len;
            cpinfo nx = {0, 0, K_SEP, 0};
            while (j < n) {
                nx = classify(t + j, t + n);
                if (nx.kind != K_FORMAT) break;
                j += nx.len;
            }
            if (j >= n || nx.cjk || !is_word_kind(nx.kind)) break;
            simple = 0;
            i = j;
        } else {
            break;
        }
    }
    *pi = i;
    return simple ? word_simple(a, e, t, ws, i) : word_general(a, e, t, ws, i);
}

static int cjk_normalize(analyzer *a, const uint8_t *s, size_t n, cjk_unit *u) {
    uint64_t h = n <= NORM_KEY_MAX ? cache_hash(s, n, SEED_NORM) : 0;
    const cache_slot *slot = n <= NORM_KEY_MAX ? cache_find(&a->norms, s, n, h) : NULL;
    if (slot) {
        u->len = slot->alen;
        memcpy(u->bytes, a->norms.arena + slot->off + slot->klen, slot->alen);
        return 0;
    }
    int has_letter;
    int rc = normalize_slow(a, s, n, CJK_OPTS, 0, u->bytes, &u->len, &has_letter);
    if (rc) return rc;
    /* CJK unit keys start with a CJK base, word keys never do: no clash */
    if (n <= NORM_KEY_MAX) return cache_put(&a->norms, h, s, n, u->bytes, u->len, NULL, 0);
    return 0;
}

/* Scan the run of CJK characters starting at *pi and emit its bigrams (or
 * the unigram of a lone character). A unit is a base character with the
 * marks that follow it, or a Hangul syllable spelled in jamo. */
static int cjk_run(analyzer *a, emitter *e, const uint8_t *t, size_t n, size_t *pi,
                   cpinfo first) {
    size_t i = *pi;
    size_t units = 0;
    cjk_unit *prev = &a->units[0], *cur = &a->units[1];
    cpinfo ci = first;
    for (;;) {
        size_t us = i;
        int ht = hangul_type(ci.cp);
        int single = 1;
        uint32_t base = ci.cp;
        i += ci.len;
        cpinfo nx = {0, 0, K_SEP, 0};
        while (i < n) {
            nx = classify(t + i, t + n);
            if (nx.kind == K_MARK) {
                single = 0;
                i += nx.len;
                continue;
            }
            int nt;
            if (ht && nx.cjk && (nt = hangul_type(nx.cp)) != HG_NONE && hangul_joins(ht, nt)) {
                ht = nt;
                single = 0;
                i += nx.len;
                continue;
            }
            break;
        }
        cur->start = us;
        cur->end = i;
        if (single && cjk_stable(base)) {
            cur->len = i - us;
            memcpy(cur->bytes, t + us, cur->len);
        } else {
            int rc = cjk_normalize(a, t + us, i - us, cur);
            if (rc) return rc;
        }
        if (cur->len) { /* cannot be empty without IGNORE; be safe anyway */
            if (units) {
                memcpy(a->term, prev->bytes, prev->len);
                memcpy(a->term + prev->len, cur->bytes, cur->len);
                size_t tl = utf8_cut(a->term, prev->len + cur->len, TERM_MAX);
                int rc = emit(e, a->term, tl, a->term, tl, prev->start, cur->end);
                if (rc) return rc;
            }
            units++;
            cjk_unit *tmp = prev;
            prev = cur;
            cur = tmp;
        }
        if (i >= n || !nx.cjk) break;
        ci = nx;
    }
    *pi = i;
    if (units == 1) return emit(e, prev->bytes, prev->len, prev->bytes, prev->len, prev->start, prev->end);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Interface                                                                 */
/* ------------------------------------------------------------------------ */

static int ascii_caseeq(const char *x, const char *y) {
    for (;; x++, y++) {
        unsigned char cx = (unsigned char)*x, cy = (unsigned char)*y;
        if ((unsigned)cx - 'A' < 26u) cx = (unsigned char)(cx + 32);
        if ((unsigned)cy - 'A' < 26u) cy = (unsigned char)(cy + 32);
        if (cx != cy) return 0;
        if (cx == 0) return 1;
    }
}

int analyzer_new(analyzer **out, const char *stemmer, lode_error *err) {
    *out = NULL;
    const char *want = stemmer ? stemmer : "english";
    const char *name = NULL;
    const char **list = sb_stemmer_list();
    if (ascii_caseeq(want, "none")) {
        name = "none";
    } else {
        for (const char **l = list; *l; l++)
            if (ascii_caseeq(want, *l)) name = *l;
    }
    if (!name) {
        char names[400];
        size_t used = 0;
        names[0] = '\0';
        for (const char **l = list; *l; l++) {
            int w = snprintf(names + used, sizeof names - used, "%s, ", *l);
            if (w < 0 || (size_t)w >= sizeof names - used) break;
            used += (size_t)w;
        }
        return lode_fail(err, LODE_EINVAL, "unknown stemmer '%.64s' (try %sor none)", want, names);
    }
    analyzer *a = lode_calloc(1, sizeof *a);
    if (!a) return lode_fail(err, LODE_ENOMEM, "out of memory creating the analyzer");
    a->name = name;
    if (strcmp(name, "none") != 0) {
        /* the name is in the list, so only memory can make this fail */
        a->stemmer = sb_stemmer_new(name, "UTF_8");
        if (!a->stemmer) goto nomem;
    }
    a->ubuf_cap = 256;
    a->ubuf = lode_malloc(a->ubuf_cap * sizeof *a->ubuf);
    if (!a->ubuf || cache_init(&a->stems) || cache_init(&a->norms)) goto nomem;
    *out = a;
    return 0;
nomem:
    analyzer_free(a);
    return lode_fail(err, LODE_ENOMEM, "out of memory creating the analyzer");
}

void analyzer_free(analyzer *a) {
    if (!a) return;
    if (a->stemmer) sb_stemmer_delete(a->stemmer);
    cache_free(&a->stems);
    cache_free(&a->norms);
    lode_free(a->ubuf);
    lode_free(a);
}

const char *analyzer_stemmer_name(const analyzer *a) { return a->name; }

void analyzer_defer_stemming(analyzer *a, int on) { a->defer_stems = on != 0; }

int analyzer_stem(analyzer *a, const char *word, uint32_t word_len, const char **term, uint32_t *term_len) {
    /* only words of deferred tokens come here: they hold a letter and the
     * analyzer has a stemmer (else word_simple gives the term at once) */
    const uint8_t *t;
    size_t tl;
    int rc = stem_word(a, (const uint8_t *)word, word_len, &t, &tl);
    if (rc) return rc;
    *term = (const char *)t;
    *term_len = (uint32_t)tl;
    return 0;
}

int analyze_text(analyzer *a, const char *text, size_t len, uint32_t first_position,
                 token_fn fn, void *ctx) {
    if (len == 0) return 0;
    /* spans are 32-bit; LODE_MAX_DOC_BYTES keeps documents far below this */
    if (len > UINT32_MAX) return LODE_ELIMIT;
    const uint8_t *t = (const uint8_t *)text;
    emitter e = {fn, ctx, first_position};
    size_t i = 0;
    while (i < len) {
        uint8_t k = byte_kind[t[i]];
        cpinfo ci;
        if (k == K_LETTER || k == K_DIGIT) {
            ci.cp = t[i];
            ci.len = 1;
            ci.kind = k;
            ci.cjk = 0;
        } else if (k != K_HIGH) {
            i++;
            continue;
        } else {
            ci = classify(t + i, t + len);
            if (!is_word_kind(ci.kind)) {
                i += ci.len;
                continue;
            }
        }
        int rc = ci.cjk ? cjk_run(a, &e, t, len, &i, ci) : word_run(a, &e, t, len, &i, ci);
        if (rc) return rc;
    }
    return 0;
}
