/*
 * lode.h - the public interface of liblode, an offline full-text search engine.
 *
 * This header is the whole contract. Conventions that hold for every function:
 *
 *  - Functions that can fail return 0 (LODE_OK) or a negative LODE_E... code.
 *    The codes are never renumbered. lode_strerror() names a code.
 *  - Details of a failure (which file, which section, which column) are
 *    written into a caller-owned lode_error when the caller passes one; pass
 *    NULL to ignore them. The library keeps no global mutable state and never
 *    prints.
 *  - Constructors put their result first (`lode_x **out`); what comes back
 *    through `out` belongs to the caller and has a free function; every free
 *    function accepts NULL. Pointers returned directly are borrowed: their
 *    comment says how long they stay valid.
 *  - Options structs start with `unsigned int version` and only grow at the
 *    end; initialise them with the matching LODE_..._OPTIONS_INIT macro.
 *    Passing NULL for options means the defaults.
 *  - Thread safety: a lode_index may be searched from many threads at once.
 *    A lode_writer, and a lode_results, belong to one thread at a time.
 */
#ifndef LODE_H
#define LODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LODE_BUILDING_LIBRARY) && defined(__GNUC__)
#define LODE_EXPORT __attribute__((visibility("default")))
#else
#define LODE_EXPORT
#endif

#define LODE_VERSION_MAJOR 0
#define LODE_VERSION_MINOR 1
#define LODE_VERSION_PATCH 0
#define LODE_VERSION_STRING "0.1.0"

/* The version of the library linked at run time, as "MAJOR.MINOR.PATCH".
 * Static string. */
LODE_EXPORT const char *lode_version(void);

/* Error codes. Never renumbered; new codes only ever get new numbers. */
enum {
    LODE_OK = 0,
    LODE_ENOMEM = -1,    /* an allocation failed */
    LODE_EIO = -2,       /* the operating system refused a read or write */
    LODE_ENOTFOUND = -3, /* no such index, file or document */
    LODE_ECORRUPT = -4,  /* index bytes fail a checksum or a structural check */
    LODE_EVERSION = -5,  /* index written by an incompatible format version */
    LODE_ESYNTAX = -6,   /* query syntax error (strict mode) */
    LODE_ELOCKED = -7,   /* another writer holds the index lock */
    LODE_ELIMIT = -8,    /* a documented limit was exceeded */
    LODE_EINVAL = -9,    /* an argument is invalid */
    LODE_ITEROVER = -10  /* no more items (not a failure) */
};

/* A static, human-readable name for an error code. */
LODE_EXPORT const char *lode_strerror(int code);

/* Details of a failure, filled by any function given a non-NULL pointer.
 * `message` names what failed, e.g. "corpus.lode/seg-00000001-0001.lseg:
 * section LEXICON: checksum mismatch"; for syntax errors `column` is the 1-based
 * column (in characters, an invalid byte counting as one) of the query where
 * the problem is, else 0. */
typedef struct lode_error {
    int code;
    unsigned int column;
    char message[512];
} lode_error;

/* ------------------------------------------------------------------------ */
/* Writing an index                                                          */
/* ------------------------------------------------------------------------ */

typedef struct lode_writer lode_writer;

/* What happened to one input, reported through the event callback. */
typedef enum lode_event_kind {
    LODE_EVENT_INDEXED = 0,        /* a text file was indexed */
    LODE_EVENT_SKIPPED_BINARY = 1, /* a NUL byte early in the file (like grep) */
    LODE_EVENT_SKIPPED_ERROR = 2,  /* unreadable, vanished, symlink loop... */
    LODE_EVENT_SKIPPED_LIMIT = 3,  /* larger than max_filesize or lode's limit of 1 GiB */
    LODE_EVENT_SEGMENT_FLUSHED = 4, /* the memory budget filled; a segment was written */
    /* a file or folder left out by a glob or an ignore file (not an error;
     * a folder is reported once and not entered); `message` names the rule,
     * e.g. "ignored by src/.gitignore:3: *.o" */
    LODE_EVENT_SKIPPED_IGNORED = 5
} lode_event_kind;

typedef struct lode_event {
    lode_event_kind kind;
    const char *path;    /* borrowed, valid during the callback */
    const char *message; /* borrowed, valid during the callback; why it was skipped */
    uint64_t bytes;      /* size of the input in bytes, when known */
} lode_event;

typedef void (*lode_event_fn)(void *ctx, const lode_event *event);

typedef struct lode_writer_options {
    unsigned int version;
    /* Snowball stemmer language ("english", "french", ...) or "none".
     * NULL means "english". Stored in the index: queries use the same. */
    const char *stemmer;
    /* Bytes of memory the in-memory inversion may use before it writes a
     * segment to disk. 0 means the default, LODE_DEFAULT_MEMORY_BUDGET. */
    size_t memory_budget;
    /* Called for every input file with what happened to it. May be NULL. */
    lode_event_fn on_event;
    void *event_ctx;

    /* Since version 2. A writer given a version 1 struct applies none of
     * these: no globs, no size limit of its own, no ignore files.
     *
     * Globs choosing the files under a folder given to
     * lode_writer_add_path(), as ripgrep's -g: a glob without '/' matches
     * the name of a file or folder at any depth; one with '/' matches the
     * path relative to the folder given ("src/main.c", "/top.txt"); '*' and
     * '?' never match '/', "**" matches any number of folders, a trailing
     * '/' matches folders only. A file given directly to
     * lode_writer_add_path() is indexed whatever the globs and ignore files.
     * The arrays and strings are copied by lode_writer_open(). */
    const char *const *include_globs; /* when include_count > 0, only files matching one */
    size_t include_count;
    const char *const *exclude_globs; /* files and folders matching are left out; wins
                                         over include_globs and over ignore files */
    size_t exclude_count;
    /* Files larger than this many bytes are skipped with
     * LODE_EVENT_SKIPPED_LIMIT (counted in files_skipped_limit). 0 means
     * no limit but lode's own of 1 GiB a document. */
    uint64_t max_filesize;
    unsigned int flags; /* LODE_WRITER_... */
} lode_writer_options;

/* Do not read .gitignore and .ignore files. By default lode_writer_add_path()
 * leaves out what they exclude, as ripgrep does: .ignore files everywhere,
 * .gitignore files inside a git repository only (a folder with a .git at or
 * above it), in the folders walked and in the folders above the one given;
 * deeper files win, and .ignore wins over .gitignore. The patterns and the
 * subset of gitignore(5) understood are described in lode-index(1). */
#define LODE_WRITER_NO_IGNORE_FILES 0x1u

#define LODE_WRITER_OPTIONS_VERSION 2
#define LODE_WRITER_OPTIONS_INIT {LODE_WRITER_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, 0, NULL, 0, 0, 0}
#define LODE_DEFAULT_MEMORY_BUDGET ((size_t)256 << 20)

/* Start building a new generation of the index at `path` (a directory,
 * created if missing). The lock file keeps other writers out until
 * lode_writer_free(). Nothing visible changes until lode_writer_commit().
 * Errors: LODE_ELOCKED, LODE_EIO, LODE_EINVAL (unknown stemmer), LODE_ENOMEM. */
LODE_EXPORT int lode_writer_open(lode_writer **out, const char *path,
                                 const lode_writer_options *opts, lode_error *err);

/* Add a file or, recursively, a folder: hidden folders .git/.hg/.svn and any
 * lode index are not entered, symlinks to folders already on the path are not
 * followed, binary files are skipped; the globs, size limit and ignore files
 * of the options leave out more. Problems with single files are reported
 * through the event callback and do not fail the call; the return value is an
 * error only when nothing can continue (LODE_ENOMEM, LODE_EIO writing a
 * segment) or when `path` itself cannot be read (LODE_ENOTFOUND, LODE_EIO). */
LODE_EXPORT int lode_writer_add_path(lode_writer *w, const char *path, lode_error *err);

/* Walk `path` exactly as lode_writer_add_path() would, with the same
 * filters, but read no file: set *files to the number of files it would
 * be given (those over the size limit included) and *bytes to their size,
 * those over the size limit left out. For a progress estimate: a walk
 * touches only folder listings and inodes, a small fraction of the time
 * indexing takes, and it leaves them in the cache for the real walk. No
 * events; problems are left for lode_writer_add_path() to report. Errors:
 * those of lode_writer_add_path() for `path` itself, LODE_ENOMEM. */
LODE_EXPORT int lode_writer_count_path(lode_writer *w, const char *path, uint64_t *files, uint64_t *bytes,
                                       lode_error *err);

/* Add one document from memory. `path` names it in answers; `mtime` is in
 * seconds since the epoch. The bytes are copied. Binary data (a NUL byte in
 * the first 8 KiB) is refused with LODE_EINVAL. */
LODE_EXPORT int lode_writer_add_document(lode_writer *w, const char *path, const void *data,
                                         size_t size, int64_t mtime, lode_error *err);

/* Counters of what the writer has seen so far. */
typedef struct lode_writer_stats {
    uint64_t files_indexed;
    uint64_t files_skipped_binary;
    uint64_t files_skipped_error;
    uint64_t files_skipped_limit;
    uint64_t bytes_indexed;
    uint64_t tokens_indexed;
    uint64_t segments_written;
} lode_writer_stats;

LODE_EXPORT void lode_writer_get_stats(const lode_writer *w, lode_writer_stats *out);

/* Write what remains in memory as a segment, fsync, and atomically replace
 * the MANIFEST: the index now holds exactly the documents added to this
 * writer. A crash before the rename leaves the previous index intact. The
 * writer cannot be used after a commit except to be freed. */
LODE_EXPORT int lode_writer_commit(lode_writer *w, lode_error *err);

/* Release the writer and its lock. Without a commit, segments written so far
 * are deleted and the index is as it was. */
LODE_EXPORT void lode_writer_free(lode_writer *w);

/* ------------------------------------------------------------------------ */
/* Opening and searching an index                                            */
/* ------------------------------------------------------------------------ */

typedef struct lode_index lode_index;

/* Open an index directory (NAME.lode/ with its MANIFEST) or a single segment
 * file. Segments are mapped read-only; nothing is read in full. Errors:
 * LODE_ENOTFOUND, LODE_EIO, LODE_ECORRUPT, LODE_EVERSION, LODE_ENOMEM. */
LODE_EXPORT int lode_index_open(lode_index **out, const char *path, lode_error *err);

/* Open an index held in memory: the bytes of a single segment file (a
 * bundle), e.g. compiled into the program. The bytes are not copied: they
 * must stay valid and unchanged until lode_index_close(). `name` (may be
 * NULL) names the index in error messages. Errors: LODE_ECORRUPT,
 * LODE_EVERSION, LODE_EINVAL, LODE_ENOMEM. */
LODE_EXPORT int lode_index_open_memory(lode_index **out, const void *data, size_t size, const char *name,
                                       lode_error *err);

LODE_EXPORT void lode_index_close(lode_index *ix);

typedef struct lode_index_info {
    uint64_t documents;
    uint64_t passages;
    uint64_t tokens;
    uint32_t segments;
    uint64_t generation;
    const char *stemmer; /* borrowed, valid until lode_index_close() */
} lode_index_info;

LODE_EXPORT void lode_index_get_info(const lode_index *ix, lode_index_info *out);

/* Read and check every checksum and structure of every segment. Returns
 * LODE_ECORRUPT with the file and section named in `err` on the first
 * problem. Reads the whole index. */
LODE_EXPORT int lode_index_check(lode_index *ix, lode_error *err);

typedef struct lode_search_options {
    unsigned int version;
    size_t limit;        /* documents to return; 0 means 10 */
    unsigned int flags;  /* LODE_SEARCH_... */
    size_t passages;     /* best passages per document; 0 means 1 */
    /* BM25 parameters; 0 means lode's defaults (docs/RANKING.md). */
    double bm25_k1;      /* term-frequency saturation, > 0 */
    double bm25_b;       /* length normalisation, 0..1 (use a tiny value for none) */
    double title_weight; /* weight of a word in the title, >= 1 */
} lode_search_options;

/* Bare words are all required (default: any word; documents with more of
 * the words rank higher). */
#define LODE_SEARCH_ALL_WORDS 0x1u
/* A query that is not valid syntax is an error (LODE_ESYNTAX, with the
 * column in lode_error) instead of being searched as plain words. */
#define LODE_SEARCH_STRICT 0x2u
/* Rank only: no passages, titles still given (for evaluation runs). */
#define LODE_SEARCH_NO_PASSAGES 0x4u
/* Every passage of each returned document that holds a match, in document
 * order, instead of the best `passages` ones (grep-style listing; `passages`
 * is ignored). Each passage stands alone: a short heading is not joined to
 * the paragraph after it as it is for the best passages. To list every
 * matching document, also set `limit` to LODE_SEARCH_MAX_LIMIT. */
#define LODE_SEARCH_ALL_PASSAGES 0x8u
/* The most documents one search returns: a larger `limit` is lowered to it
 * (it bounds the memory of one answer). */
#define LODE_SEARCH_MAX_LIMIT 100000

#define LODE_SEARCH_OPTIONS_VERSION 1
#define LODE_SEARCH_OPTIONS_INIT {LODE_SEARCH_OPTIONS_VERSION, 10, 0, 1, 0, 0, 0}

typedef struct lode_results lode_results;

/* Rank documents for `query` with BM25 (statistics over the whole index) and
 * choose the best passages of the top documents. The query language (words,
 * "phrases", AND OR NOT ( ), +word -word, prefix*, a NEAR/5 b, NEAR(a b, 5),
 * title:word, path:glob) is described in docs/QUERY.md. Finding nothing is
 * not an error: the results are empty. Errors: LODE_EINVAL (a query with no
 * words, only excluded words, a prefix too short, an unknown field),
 * LODE_ESYNTAX (with LODE_SEARCH_STRICT; err->column says where),
 * LODE_ELIMIT (query too long or too broad), LODE_ECORRUPT, LODE_ENOMEM. */
LODE_EXPORT int lode_search(lode_results **out, lode_index *ix, const char *query,
                            const lode_search_options *opts, lode_error *err);

/* When the query was not valid syntax and was searched as plain words (the
 * default, lenient mode), a sentence saying so and why, e.g. "unbalanced '('
 * at column 12: searched as words"; else NULL. Valid until
 * lode_results_free(). */
LODE_EXPORT const char *lode_results_note(const lode_results *r);

/* Number of documents in the results. */
LODE_EXPORT size_t lode_results_count(const lode_results *r);

/* A byte range [start, end) of a passage's text that matched the query. */
typedef struct lode_span {
    uint32_t start;
    uint32_t end;
} lode_span;

/* A passage of a hit. Every pointer is borrowed and valid until
 * lode_results_free(). `text` holds the original bytes of the file (not
 * NUL-terminated, not necessarily valid UTF-8). */
typedef struct lode_passage {
    uint64_t offset;       /* byte offset of the passage in the file */
    uint32_t line;         /* 1-based line number of its first byte */
    const char *text;
    size_t length;
    const lode_span *spans; /* highlights, relative to `text`, ascending */
    size_t span_count;
} lode_passage;

typedef struct lode_hit {
    const char *path;  /* as given to the writer; borrowed */
    const char *title; /* first non-empty line, trimmed; borrowed */
    double score;
    uint64_t size;     /* bytes */
    const lode_passage *passages; /* best first (document order with
                                     LODE_SEARCH_ALL_PASSAGES) */
    size_t passage_count;
    /* Identifies the document within the opened index, for
     * lode_index_read_text(); meaningless for another lode_index handle. */
    uint64_t doc;
} lode_hit;

/* Fill `out` with hit `i` (0 = best). LODE_EINVAL if i is out of range. */
LODE_EXPORT int lode_results_get(const lode_results *r, size_t i, lode_hit *out);

LODE_EXPORT void lode_results_free(lode_results *r);

/* Copy up to `len` bytes of the stored text of document `doc` (a
 * lode_hit.doc of a search on this same index), starting at byte `offset`
 * of the document, into the caller's `buf`; *got is set to the number of
 * bytes copied, which is less than `len` only at the end of the document
 * (0 when `offset` is the document's size). The bytes are the original file
 * as indexed, so lode_passage offsets and lines apply to them: this is how
 * a caller shows whole lines or lines of context around a passage without
 * the source file. Allocates nothing the caller sees. Errors: LODE_EINVAL
 * (NULL arguments, `offset` past the end of the document, no such `doc`),
 * LODE_ECORRUPT, LODE_ENOMEM; *got is 0 after an error. Thread-safe like
 * lode_search(): many threads may read from one index at once. */
LODE_EXPORT int lode_index_read_text(lode_index *ix, uint64_t doc, uint64_t offset, void *buf, size_t len,
                                     size_t *got, lode_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LODE_H */
