/*
 * indexer.h - the private interface between the files of indexer/ and the
 * searcher. One section per .c file, like FTS5's fts5Int.h. Nothing here is
 * installed; the public contract is include/lode.h.
 */
#ifndef LODE_INDEXER_H
#define LODE_INDEXER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "lode.h"
#include "lode_limits.h"

#if defined(__GNUC__)
#define LODE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LODE_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------------ */
/* Interface to util.c: allocation, errors, growable buffers, hashing        */
/* ------------------------------------------------------------------------ */

/* Every allocation of the library goes through these, so that a test build
 * can make them fail on purpose. lode_free accepts NULL. */
void *lode_malloc(size_t n);
void *lode_calloc(size_t count, size_t size);
void *lode_realloc(void *p, size_t n);
void lode_free(void *p);
char *lode_strdup(const char *s);
char *lode_strndup(const char *s, size_t n);

/* Record an error in `err` (may be NULL) and return `code`. */
int lode_fail(lode_error *err, int code, const char *fmt, ...) LODE_PRINTF(3, 4);

/* The one place where corruption is detected and reported: set a breakpoint
 * here to catch every detection. `file` and `section` name where. */
int lode_corrupt(lode_error *err, const char *file, const char *section, const char *what);

/* A growable byte buffer with a sticky error: after the first failed
 * allocation every append is a no-op and `rc` stays LODE_ENOMEM. */
typedef struct lode_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int rc;
} lode_buf;

void buf_init(lode_buf *b);
void buf_free(lode_buf *b);
int buf_reserve(lode_buf *b, size_t extra);
void buf_append(lode_buf *b, const void *p, size_t n);
void buf_put_u8(lode_buf *b, uint8_t v);
void buf_put_u16(lode_buf *b, uint16_t v);
void buf_put_u32(lode_buf *b, uint32_t v);
void buf_put_u64(lode_buf *b, uint64_t v);
void buf_put_varint(lode_buf *b, uint64_t v);

/* Little-endian loads and stores: the format never depends on the host. */
static inline uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t load_u64(const uint8_t *p) {
    return (uint64_t)load_u32(p) | ((uint64_t)load_u32(p + 4) << 32);
}
static inline void store_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void store_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void store_u64(uint8_t *p, uint64_t v) {
    store_u32(p, (uint32_t)v);
    store_u32(p + 4, (uint32_t)(v >> 32));
}

/* A 64-bit hash of a byte string (content hashes, hash tables). */
uint64_t lode_hash64(const void *data, size_t len, uint64_t seed);

/* ------------------------------------------------------------------------ */
/* Interface to crc32.c: the format's checksums                              */
/* ------------------------------------------------------------------------ */

/* CRC-32 as zlib's crc32() computes it (start with 0, chain by passing the
 * previous value), for any length; no bytes (data may then be NULL) return
 * crc unchanged. lode_crc32 uses carry-less multiplication
 * where the processor has it. The two others are the paths it chooses
 * between, for tests: crc32_clmul falls back to crc32_portable where
 * crc32_has_clmul() is 0. */
uint32_t lode_crc32(uint32_t crc, const void *data, size_t len);
uint32_t crc32_portable(uint32_t crc, const void *data, size_t len);
uint32_t crc32_clmul(uint32_t crc, const void *data, size_t len);
int crc32_has_clmul(void);

/* ------------------------------------------------------------------------ */
/* Interface to codec.c: variable-length and bit-packed integers             */
/* ------------------------------------------------------------------------ */

/* LEB128: 7 bits a byte, low bits first, high bit set on all but the last
 * byte. At most 10 bytes for a uint64_t. Returns bytes written. */
#define VARINT_MAX 10
static inline size_t varint_put(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}
/* Decode one varint from [*p, end); advance *p. Returns 0, or -1 if the
 * input ends inside the varint or it is longer than 10 bytes / overflows.
 * Most varints of an index are one byte (lexicon statistics, passage
 * deltas): those are decoded inline, the others by varint_get_long. */
int varint_get_long(const uint8_t **p, const uint8_t *end, uint64_t *out);
static inline int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    if (*p < end && **p < 0x80) {
        *out = *(*p)++;
        return 0;
    }
    return varint_get_long(p, end, out);
}
/* Same, but the value must fit in 32 bits (else -1). */
static inline int varint_get32(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint64_t v;
    if (varint_get(p, end, &v) || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}
/* Step over one varint, as varint_get would read it. */
static inline int varint_skip(const uint8_t **p, const uint8_t *end) {
    uint64_t v;
    return varint_get(p, end, &v);
}

/* Bit packing of up to POSTINGS_BLOCK 32-bit values at a fixed width (0..32):
 * values are written low bit first into a little-endian bit stream; the last
 * byte is zero-padded. Width 0 stores nothing (all values are zero). */
unsigned bitwidth_of(const uint32_t *v, size_t n);
static inline size_t bitpack_bytes(size_t n, unsigned width) { return (n * width + 7) / 8; }
void bitpack_put(uint8_t *out, const uint32_t *v, size_t n, unsigned width);
/* Decode n values of `width` bits from [p, end). Returns 0, or -1 if
 * width > 32 or fewer than bitpack_bytes(n, width) bytes are available. */
int bitpack_get(uint32_t *out, size_t n, unsigned width, const uint8_t *p, const uint8_t *end);
/* Decode values first .. first+n-1 of a stream that starts at p (values can
 * be read anywhere: value i is at bit i * width). Same returns, with
 * bitpack_bytes(first + n, width) bytes needed. */
int bitpack_get_range(uint32_t *out, size_t first, size_t n, unsigned width, const uint8_t *p,
                      const uint8_t *end);

/* ------------------------------------------------------------------------ */
/* Interface to analyze.c: UTF-8 text to normalized, stemmed tokens          */
/* ------------------------------------------------------------------------ */

/* One analyzer per thread: it owns a Snowball stemmer and caches. */
typedef struct analyzer analyzer;

typedef struct token {
    const char *term;  /* normalized and stemmed; borrowed until the callback returns.
                          NULL when stemming is deferred (analyzer_defer_stemming):
                          analyzer_stem(word) gives it */
    uint32_t term_len;
    const char *word;  /* normalized, not stemmed (for prefix matching); borrowed */
    uint32_t word_len;
    uint32_t start;    /* byte offsets [start, end) into the ORIGINAL input */
    uint32_t end;
    uint32_t position; /* word count from the start of the document */
} token;

/* Return 0 to continue, non-zero to stop (analyze_text returns that value). */
typedef int (*token_fn)(void *ctx, const token *t);

/* `stemmer` is a libstemmer language name ("english", "porter", "french"...)
 * or "none"; NULL means "english". LODE_EINVAL names an unknown language. */
int analyzer_new(analyzer **out, const char *stemmer, lode_error *err);
void analyzer_free(analyzer *a);
/* The canonical stemmer name stored in the index ("english", "none", ...). */
const char *analyzer_stemmer_name(const analyzer *a);

/* With `on`, tokens of plain ASCII words come with term NULL: a caller that
 * maps words to terms itself (the inverter) stems each distinct word once
 * with analyzer_stem() instead of paying a stem-cache lookup per token. */
void analyzer_defer_stemming(analyzer *a, int on);
/* The term of the word of a token whose term was NULL. *term is valid until
 * the next call into the analyzer. Returns 0 or LODE_ENOMEM. */
int analyzer_stem(analyzer *a, const char *word, uint32_t word_len, const char **term, uint32_t *term_len);

/* Tokenize [text, text+len) (any bytes: invalid UTF-8 is treated as
 * separators), numbering positions from `first_position`. Calls `fn` for each
 * token in order. Returns 0, LODE_ENOMEM, or fn's non-zero value. */
int analyze_text(analyzer *a, const char *text, size_t len, uint32_t first_position,
                 token_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* Interface to ignore.c: gitignore-style rules and globs                    */
/* ------------------------------------------------------------------------ */

/* One rule: a pattern of an ignore file, or a glob given by the caller. */
typedef struct ignore_rule {
    char *text;         /* the line as written, trailing spaces cut; owned */
    char *segs;         /* the pattern cut at '/', each segment NUL-terminated, one after
                           the other, in the same allocation as text */
    uint32_t nsegs;
    uint32_t line;      /* 1-based line in the ignore file, 0 for a glob */
    uint8_t negated;    /* "!pattern": a match re-includes */
    uint8_t dir_only;   /* "pattern/": matches folders only */
    uint8_t anchored;   /* a '/' before the end: matched against the whole relative
                           path; else against the last name only, at any depth */
    uint8_t dstar_last; /* a final "**" segment: it must take at least one name */
} ignore_rule;

/* The rules of one ignore file (or one list of globs), in file order. */
typedef struct ignore_rules {
    char *source;       /* the ignore file's path for messages, NULL for globs; owned */
    ignore_rule *rules;
    size_t count;
    size_t cap;
} ignore_rules;

/* `source` (may be NULL) is copied. Returns 0 or LODE_ENOMEM. */
int ignore_rules_init(ignore_rules *r, const char *source);
void ignore_rules_free(ignore_rules *r);

/* Add the rules of the text of a .gitignore or .ignore file: one pattern a
 * line, '#' comments, blank lines, '!' negation, '\' escapes, trailing '/'
 * for folders only, a leading or middle '/' anchoring to the file's folder,
 * '**' for any number of folders. Returns 0 or LODE_ENOMEM. */
int ignore_rules_parse(ignore_rules *r, const char *text, size_t len);

/* Add one glob taken literally as a pattern: no comments, no negation, no
 * trimming. LODE_EINVAL for an empty glob (or only '/'). */
int ignore_rules_add_glob(ignore_rules *r, const char *glob, lode_error *err);

/* The rule that decides for `path` ('/'-separated, relative to the folder
 * of the rules, no leading '/'): the last matching rule, or NULL when none
 * matches. The caller looks at ->negated. */
const ignore_rule *ignore_rules_match(const ignore_rules *r, const char *path, int is_dir);

/* ------------------------------------------------------------------------ */
/* Interface to sources.c: walking folders and reading files                 */
/* ------------------------------------------------------------------------ */

typedef struct source_file {
    const char *path;  /* as reached from the root given to walk_path */
    uint64_t size;
    int64_t mtime;     /* seconds since the epoch */
} source_file;

/* Called for every regular file, in a stable order (names sorted bytewise,
 * depth first). Return non-zero to stop the walk (walk_path returns it). */
typedef int (*walk_file_fn)(void *ctx, const source_file *f);
/* Called for every problem with one path; the walk goes on. */
typedef void (*walk_warn_fn)(void *ctx, const char *path, const char *message);

/* What a walk leaves out besides its fixed rules. All filters apply only
 * below a root folder: a root that is a file is always reported (as ripgrep
 * searches a file named on its command line whatever the filters). */
typedef struct walk_options {
    const char *skip_dir;         /* never entered (the index being written); may be NULL */
    const ignore_rules *include;  /* when non-NULL and not empty, only files matching one of
                                     these globs (paths relative to the root); borrowed */
    const ignore_rules *exclude;  /* files and folders matching are left out (folders are
                                     not entered); wins over include; borrowed */
    int ignore_files;             /* honour .ignore files, and .gitignore files inside a
                                     git repository, in the tree and above the root */
    walk_warn_fn on_ignored;      /* told of every entry left out by the three filters
                                     above, with the rule that did it; may be NULL */
    const char *skip_file;        /* a file never reported, compared by device and inode
                                     (the temporary file of a bundle being written, which
                                     may lie in the tree walked); may be NULL */
} walk_options;

/* Walk `root` (a file or a folder). Does not enter .git, .hg, .svn, or any
 * folder holding a lode MANIFEST, nor opts->skip_dir (compared by device and
 * inode); follows symlinks but never into a folder already on the current
 * path (loops). `opts` may be NULL: no filters. Returns 0, the callback's
 * value, or an error when `root` itself cannot be read. */
int walk_path(const char *root, const walk_options *opts, walk_file_fn on_file,
              walk_warn_fn on_warn, void *ctx, lode_error *err);

/* Read a whole file into `out` (replacing its contents). Refuses files
 * larger than `max_bytes` with LODE_ELIMIT. With `sniff`, a large file
 * whose first BINARY_SNIFF_BYTES hold a NUL is read no further: `out` then
 * holds those bytes only, and looks_binary() says so. */
int source_read(const char *path, uint64_t max_bytes, int sniff, lode_buf *out, lode_error *err);

/* Non-zero when the data looks binary: a NUL byte within the first
 * BINARY_SNIFF_BYTES, the way grep decides. */
int looks_binary(const uint8_t *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Interface to passages.c: cutting a document into passages                 */
/* ------------------------------------------------------------------------ */

typedef struct passage_span {
    uint32_t offset; /* byte offset of the first byte (not whitespace) */
    uint32_t length; /* bytes, trailing whitespace and line ends excluded */
    uint32_t line;   /* 1-based line number of the first byte */
} passage_span;

typedef int (*passage_fn)(void *ctx, const passage_span *p);

/* Cut [text, text+len) into passages in order: paragraphs separated by blank
 * lines; a paragraph longer than PASSAGE_TARGET_BYTES becomes one passage per
 * line; a line longer than that is cut at sentence ends into passages of at
 * most PASSAGE_TARGET_BYTES (or at whitespace, never above
 * PASSAGE_MAX_BYTES, and never inside a UTF-8 sequence). LF, CRLF and lone CR
 * end lines. A UTF-8 BOM is not part of any passage. Returns 0 or fn's value. */
int passages_cut(const char *text, size_t len, passage_fn fn, void *ctx);

/* The title of a document: its first non-empty line, whitespace trimmed,
 * cut (at a UTF-8 boundary) to TITLE_MAX_BYTES. Sets *off and *len. */
void document_title(const char *text, size_t len, uint32_t *off, uint32_t *title_len);

#endif /* LODE_INDEXER_H */
