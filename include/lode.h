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
 *    Each function below says which of these applies to it.
 *  - Strings are NUL-terminated UTF-8 (paths: the file system's bytes).
 *
 * What may change between versions, and which index formats each version
 * opens, is in docs/COMPATIBILITY.md; how to ship an index inside a
 * program is in docs/EMBEDDING.md.
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

/* The version of this header. The build reads it from here (CMakeLists.txt),
 * so the library, the programs and lode.pc always say the same. */
#define LODE_VERSION_MAJOR 0
#define LODE_VERSION_MINOR 1
#define LODE_VERSION_PATCH 0
#define LODE_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for `#if LODE_VERSION_NUMBER >= ...`. */
#define LODE_VERSION_NUMBER (LODE_VERSION_MAJOR * 10000 + LODE_VERSION_MINOR * 100 + LODE_VERSION_PATCH)

/* The version of the library linked at run time, as "MAJOR.MINOR.PATCH"
 * (may differ from LODE_VERSION_STRING, the header compiled against).
 * Static string, never NULL, never freed. Cannot fail. Thread-safe. */
LODE_EXPORT const char *lode_version(void);

/* The same as LODE_VERSION_NUMBER computes, for the library linked at run
 * time: a program can refuse a library older than the header it was built
 * with (`lode_version_number() < LODE_VERSION_NUMBER`). Cannot fail.
 * Thread-safe. */
LODE_EXPORT int lode_version_number(void);

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

/* A human-readable name for an error code ("out of memory"); "unknown
 * error" for a code that is not one of the above. Static string, never
 * NULL, never freed. Cannot fail. Thread-safe. */
LODE_EXPORT const char *lode_strerror(int code);

/* Details of a failure, filled by any function given a non-NULL pointer.
 * `message` names what failed, e.g. "corpus.lode/seg-00000001-0001.lseg:
 * section LEXICON: checksum mismatch"; for syntax errors `column` is the 1-based
 * column (in characters, an invalid byte counting as one) of the query where
 * the problem is, else 0. `code` is the value the function returned. After a
 * successful call the struct's contents are unspecified (it may be left as
 * it was). Owned by the caller, typically on the stack; one per thread. */
typedef struct lode_error {
    int code;
    unsigned int column;
    char message[512];
} lode_error;

/* ------------------------------------------------------------------------ */
/* Writing an index                                                          */
/* ------------------------------------------------------------------------ */

typedef struct lode_writer lode_writer;
typedef struct lode_index lode_index; /* an opened index, below */

/* What happened to one input, reported through the event callback. */
typedef enum lode_event_kind {
    LODE_EVENT_INDEXED = 0,        /* a text file (or a document of lode_writer_add_index) was indexed */
    LODE_EVENT_SKIPPED_BINARY = 1, /* a NUL byte early in the file (like grep) */
    LODE_EVENT_SKIPPED_ERROR = 2,  /* unreadable, vanished, symlink loop... */
    LODE_EVENT_SKIPPED_LIMIT = 3,  /* larger than max_filesize or lode's limit of 1 GiB */
    /* a segment was written, because the memory budget filled or at the
     * commit; `path` is the segment file or the bundle, `bytes` its size */
    LODE_EVENT_SEGMENT_FLUSHED = 4,
    /* a file or folder left out by a glob or an ignore file (not an error;
     * a folder is reported once and not entered); `message` names the rule,
     * e.g. "ignored by src/.gitignore:3: *.o" */
    LODE_EVENT_SKIPPED_IGNORED = 5
} lode_event_kind;

/* Passed by pointer to the callback, so it may grow at the end in a later
 * minor version (the library allocates it; see docs/COMPATIBILITY.md). */
typedef struct lode_event {
    lode_event_kind kind;
    const char *path;    /* borrowed, valid during the callback */
    const char *message; /* borrowed, valid during the callback; why it was skipped */
    uint64_t bytes;      /* size of the input in bytes, when known */
} lode_event;

/* Called on the thread that called the writer function reporting the event,
 * before that function returns. It must not call the writer back. */
typedef void (*lode_event_fn)(void *ctx, const lode_event *event);

typedef struct lode_writer_options {
    unsigned int version;
    /* Snowball stemmer language ("english", "french", ...) or "none".
     * NULL means "english". Stored in the index: queries use the same. */
    const char *stemmer;
    /* Bytes of memory the in-memory inversion may use before it writes a
     * segment to disk. 0 means the default, LODE_DEFAULT_MEMORY_BUDGET.
     * Ignored with LODE_WRITER_ONE_SEGMENT and LODE_WRITER_BUNDLE. */
    size_t memory_budget;
    /* Called for every input file with what happened to it. May be NULL. */
    lode_event_fn on_event;
    void *event_ctx;

    /* Since version 2. A writer given a version 1 struct applies none of
     * these: no globs, no size limit of its own, no ignore files, no flags.
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

/* Write every document into one segment at the commit, however many: the
 * memory budget is ignored and the whole inversion stays in memory (one to
 * two times the size of the text added). Searches read one lexicon instead
 * of one per segment; lode-index --compact writes this way. */
#define LODE_WRITER_ONE_SEGMENT 0x2u

/* The `path` given to lode_writer_open() names a bundle: one self-contained
 * segment file, no folder, no MANIFEST (implies LODE_WRITER_ONE_SEGMENT).
 * lode_index_open() opens it like a folder index, and its bytes are what
 * lode_index_open_memory() takes. While the writer is open, PATH.tmp exists
 * beside it and is locked (a second writer of the same bundle gets
 * LODE_ELOCKED); the commit fills PATH.tmp, fsyncs it and renames it over
 * PATH, so a crash at any moment leaves the previous bundle intact. The
 * generation of a bundle is 0. */
#define LODE_WRITER_BUNDLE 0x4u

/* Do all the work on the calling thread: no helper thread compresses the
 * stored text or encodes postings (see lode_writer_open). For hosts that
 * must not see threads they did not start; indexing takes longer, the
 * index is the same. */
#define LODE_WRITER_NO_THREADS 0x8u

#define LODE_WRITER_OPTIONS_VERSION 2
#define LODE_WRITER_OPTIONS_INIT {LODE_WRITER_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, 0, NULL, 0, 0, 0}
#define LODE_DEFAULT_MEMORY_BUDGET ((size_t)256 << 20)

/* Start building a new generation of the index at `path` (a directory,
 * created if missing, whose parent must exist; or with LODE_WRITER_BUNDLE a
 * file). The lock file keeps other writers out until lode_writer_free().
 * Nothing visible changes until lode_writer_commit(). `opts` (NULL: the
 * defaults) and everything it points to are copied; the event callback is
 * kept. On success *out is the caller's, to be released with
 * lode_writer_free(); on failure *out is NULL. Errors: LODE_ELOCKED
 * (another writer has the index), LODE_EIO (the folder or lock file cannot
 * be created), LODE_ENOTFOUND (a bundle's folder does not exist),
 * LODE_EINVAL (no path, version 0, unknown stemmer, an empty glob, `path`
 * a file where a folder is wanted or the reverse), LODE_ENOMEM.
 * Thread safety: a writer belongs to one thread at a time; writers of
 * different indexes are independent. While documents are added, a writer
 * compresses their stored text on one helper thread of its own (started
 * at the first 16 KiB of text, joined by lode_writer_free() or at each
 * segment written), and while it writes a segment a second helper thread
 * shares the encoding of the postings (joined before the write returns).
 * Neither calls a callback or touches anything of the caller's. With
 * LODE_WRITER_NO_THREADS, or where no thread can be started, the writer
 * does that work itself, with the same result. */
LODE_EXPORT int lode_writer_open(lode_writer **out, const char *path,
                                 const lode_writer_options *opts, lode_error *err);

/* Add a file or, recursively, a folder: hidden folders .git/.hg/.svn and any
 * lode index are not entered, symlinks to folders already on the path are not
 * followed, binary files are skipped; the globs, size limit and ignore files
 * of the options leave out more. Problems with single files are reported
 * through the event callback and do not fail the call; the return value is an
 * error only when nothing can continue (LODE_ENOMEM, LODE_EIO writing a
 * segment, LODE_ELIMIT more than 4096 segments) or when `path` itself cannot
 * be read (LODE_ENOTFOUND, LODE_EIO); LODE_EINVAL for a NULL argument or a
 * writer that has committed or failed. `path` is not kept. Paths in the
 * index are as reached from `path` ("docs/a.txt" from "docs"). */
LODE_EXPORT int lode_writer_add_path(lode_writer *w, const char *path, lode_error *err);

/* Walk `path` exactly as lode_writer_add_path() would, with the same
 * filters, but read no file: set *files to the number of files it would
 * be given (those over the size limit included) and *bytes to their size,
 * those over the size limit left out. For a progress estimate: a walk
 * touches only folder listings and inodes, a small fraction of the time
 * indexing takes, and it leaves them in the cache for the real walk. No
 * events; problems are left for lode_writer_add_path() to report. Errors:
 * those of lode_writer_add_path() for `path` itself, LODE_ENOMEM,
 * LODE_EINVAL (a NULL argument). */
LODE_EXPORT int lode_writer_count_path(lode_writer *w, const char *path, uint64_t *files, uint64_t *bytes,
                                       lode_error *err);

/* Add one document from memory. `path` names it in answers; `mtime` is in
 * seconds since the epoch. The bytes and the path are copied. No event is
 * reported. Errors: LODE_EINVAL (binary data: a NUL byte in the first 8 KiB;
 * an empty path; a writer that has committed or failed), LODE_ELIMIT (larger
 * than 1 GiB, or a segment full; the writer stays usable), LODE_ENOMEM,
 * LODE_EIO (writing a segment when the memory budget filled). */
LODE_EXPORT int lode_writer_add_document(lode_writer *w, const char *path, const void *data,
                                         size_t size, int64_t mtime, lode_error *err);

/* Add every document of an opened index `ix`: its original bytes, path and
 * mtime, as stored in the index (no source file is read), re-analysed with
 * this writer's stemmer, in the index's order. Globs, size limit and ignore
 * files do not apply. One LODE_EVENT_INDEXED per document. This is how an
 * index becomes a bundle or one segment (lode-index --compact): with
 * LODE_WRITER_ONE_SEGMENT or LODE_WRITER_BUNDLE, the segment written holds
 * the same bytes as one written from the original files in the same order.
 * `ix` may be the index this writer replaces (it keeps its segments mapped
 * until closed) and may be searched by other threads meanwhile. After an
 * error the writer can only be freed: committing half an index is never
 * wanted. Errors: LODE_EINVAL, LODE_ECORRUPT (a damaged document in `ix`),
 * LODE_ELIMIT, LODE_ENOMEM, LODE_EIO. */
LODE_EXPORT int lode_writer_add_index(lode_writer *w, lode_index *ix, lode_error *err);

/* Counters of what the writer has seen so far. Filled by the library into
 * the caller's struct, so it is frozen for a SOVERSION
 * (docs/COMPATIBILITY.md). */
typedef struct lode_writer_stats {
    uint64_t files_indexed;
    uint64_t files_skipped_binary;
    uint64_t files_skipped_error;
    uint64_t files_skipped_limit;
    uint64_t bytes_indexed;
    uint64_t tokens_indexed;
    uint64_t segments_written;
} lode_writer_stats;

/* Fill `out` with the counters so far (all zero when `w` is NULL). Also
 * valid after a commit, until lode_writer_free(). Cannot fail. */
LODE_EXPORT void lode_writer_get_stats(const lode_writer *w, lode_writer_stats *out);

/* Write what remains in memory as a segment, fsync, and atomically replace
 * the MANIFEST (a bundle: rename PATH.tmp over PATH): the index now holds
 * exactly the documents added to this writer. A crash before the rename
 * leaves the previous index intact. The
 * writer cannot be used after a commit except to be freed (and read with
 * lode_writer_get_stats()). Readers that opened the index before keep their
 * view until they close it. Errors: LODE_EIO (writing, fsync or rename
 * failed; the index is as it was), LODE_ENOMEM, LODE_ELIMIT, LODE_EINVAL
 * (already committed, or an earlier error). */
LODE_EXPORT int lode_writer_commit(lode_writer *w, lode_error *err);

/* Release the writer and its lock; NULL is allowed. Without a commit,
 * segments (or the bundle's temporary file) written so far are deleted and
 * the index is as it was. */
LODE_EXPORT void lode_writer_free(lode_writer *w);

/* ------------------------------------------------------------------------ */
/* Opening and searching an index                                            */
/* ------------------------------------------------------------------------ */

/* Open an index directory (NAME.lode/ with its MANIFEST) or a single segment
 * file (a bundle). Segments are mapped read-only; nothing is read in full:
 * the header, the section table and META of each segment are checked now,
 * every other page the first time a search reads it. The index stays as it
 * was opened even if a writer commits meanwhile. On success *out is the
 * caller's, to be released with lode_index_close(); on failure NULL.
 * Errors: LODE_ENOTFOUND (no such path, or a folder without a MANIFEST),
 * LODE_EIO, LODE_ECORRUPT, LODE_EVERSION (a format this lode does not read),
 * LODE_EINVAL (NULL or empty path), LODE_ENOMEM. Thread-safe (opening is
 * independent of any other handle). */
LODE_EXPORT int lode_index_open(lode_index **out, const char *path, lode_error *err);

/* Open an index held in memory: the bytes of a single segment file (a
 * bundle), e.g. compiled into the program. The bytes are not copied: they
 * must stay valid and unchanged until lode_index_close(). `name` (may be
 * NULL) names the index in error messages and is copied. No alignment is
 * required. docs/EMBEDDING.md shows how to compile a bundle into a program
 * (lode-index --emit-c, xxd -i, .incbin, ld -r -b binary). On success *out
 * is the caller's, to be released with lode_index_close(); on failure NULL.
 * Errors: LODE_ECORRUPT (not a segment, truncated, a checksum), LODE_EVERSION,
 * LODE_EINVAL (NULL data with a size), LODE_ENOMEM. Thread-safe. */
LODE_EXPORT int lode_index_open_memory(lode_index **out, const void *data, size_t size, const char *name,
                                       lode_error *err);

/* Unmap and release the index; NULL is allowed. Results of searches on it
 * stay valid (they own their strings). No other thread may be using `ix`. */
LODE_EXPORT void lode_index_close(lode_index *ix);

typedef struct lode_index_info {
    uint64_t documents;
    uint64_t passages;
    uint64_t tokens;
    uint32_t segments;
    uint64_t generation;
    const char *stemmer; /* borrowed, valid until lode_index_close() */
} lode_index_info;

/* Fill `out` with the index's counts (all zero when `ix` is NULL); the
 * generation of a bundle is 0. Frozen for a SOVERSION like
 * lode_writer_stats. Cannot fail. Thread-safe. */
LODE_EXPORT void lode_index_get_info(const lode_index *ix, lode_index_info *out);

/* Verify the whole index: every checksum of every segment (the header,
 * each section's CRC-32 and every page), then every structure, decoded and
 * held to the format's invariants (docs/FORMAT.md §7): document records
 * and passage tables, every stored-text block, every lexicon and
 * vocabulary entry, every posting and position, and the counts and score
 * bounds that must agree with them. An index that passes can be searched
 * without a corruption error. Returns LODE_ECORRUPT with the file and
 * section named in `err` on the first problem, LODE_ENOMEM, LODE_EINVAL
 * when `ix` is NULL. Reads the whole index (linear time; memory for one
 * text block and one document's positions and passages, besides the
 * mapping). Thread-safe: may run while other threads search the same
 * index. */
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

    /* Since version 2; a version 1 struct gets the defaults. Query
     * expansion (pseudo-relevance feedback, docs/RANKING.md): the query's
     * best `expand_docs` documents are read again and `expand_terms` words
     * that characterise them are added to the query, weighted against it
     * by `expand_weight`, and the documents the query matches are ranked
     * again with them. It changes the order of the documents, never which
     * ones match: passages and highlights show the query's own words. 0
     * means lode's default for each. LODE_SEARCH_NO_EXPAND turns it off. */
    unsigned int expand_docs;  /* feedback documents, default 5, at most 100 */
    unsigned int expand_terms; /* words added, default 10, at most 100 */
    double expand_weight;      /* weight of the query as typed, (0, 1]; default 0.5, 1 = no expansion */
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
/* No query expansion: rank by the query's words alone (BM25), as before
 * version 2 of the options. Faster (expansion reads and analyses the best
 * few documents and ranks twice; docs/RANKING.md has the figures), and
 * all that a caller listing every matching document in its own order
 * needs, since expansion only reorders. */
#define LODE_SEARCH_NO_EXPAND 0x10u
/* The most documents one search returns: a larger `limit` is lowered to it
 * (it bounds the memory of one answer). */
#define LODE_SEARCH_MAX_LIMIT 100000

#define LODE_SEARCH_OPTIONS_VERSION 2
#define LODE_SEARCH_OPTIONS_INIT {LODE_SEARCH_OPTIONS_VERSION, 10, 0, 1, 0, 0, 0, 0, 0, 0}

typedef struct lode_results lode_results;

/* Rank documents for `query` with BM25 (statistics over the whole index),
 * expanded with words of its best documents unless LODE_SEARCH_NO_EXPAND,
 * and choose the best passages of the top documents. The query language (words,
 * "phrases", AND OR NOT ( ), +word -word, prefix*, a NEAR/5 b, NEAR(a b, 5),
 * title:word, path:glob) is described in docs/QUERY.md. Finding nothing is
 * not an error: the results are empty. On success *out is the caller's, to
 * be released with lode_results_free(); on failure NULL. Errors:
 * LODE_EINVAL (a query with no words, only excluded words, a prefix too
 * short, an unknown field; NULL arguments; version 0), LODE_ESYNTAX (with
 * LODE_SEARCH_STRICT; err->column says where), LODE_ELIMIT (query too long
 * or too broad), LODE_ECORRUPT (the part of the index read is damaged),
 * LODE_ENOMEM. Thread-safe: any number of threads may search one lode_index
 * at once, each with its own lode_error; nothing is shared between calls
 * but the read-only index (tests/concurrency runs this under
 * ThreadSanitizer). */
LODE_EXPORT int lode_search(lode_results **out, lode_index *ix, const char *query,
                            const lode_search_options *opts, lode_error *err);

/* When the query was not valid syntax and was searched as plain words (the
 * default, lenient mode), a sentence saying so and why, e.g. "unbalanced '('
 * at column 12: searched as words"; else NULL (also for NULL `r`).
 * Borrowed: valid until lode_results_free(). */
LODE_EXPORT const char *lode_results_note(const lode_results *r);

/* Number of documents in the results (0 for NULL `r`). Cannot fail. */
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

/* Fill `out` with hit `i` (0 = best). Every pointer in it is borrowed from
 * `r` and valid until lode_results_free(r), even after lode_index_close().
 * Errors: LODE_EINVAL if i is out of range or an argument is NULL (nothing
 * is written then). Reading one lode_results from several threads at once
 * is safe; freeing it is not. */
LODE_EXPORT int lode_results_get(const lode_results *r, size_t i, lode_hit *out);

/* Release the results and every string and array they lent; NULL is
 * allowed. */
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
