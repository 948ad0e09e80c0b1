/*
 * segment.h - the private interface of the index format: in-memory
 * inversion (invert.c), the segment writer (segment_write.c), the segment
 * reader (segment_read.c), postings cursors (postings.c) and the MANIFEST
 * (manifest.c). The searcher reads segments only through this header.
 */
#ifndef LODE_SEGMENT_H
#define LODE_SEGMENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "format.h"
#include "indexer.h"

/* ------------------------------------------------------------------------ */
/* Interface to invert.c: documents to in-memory postings                    */
/* ------------------------------------------------------------------------ */

/* A set of byte strings, each numbered in order of arrival, each with a
 * 32-bit value of the caller's (the inverter maps a word to its term).
 * Open addressing with linear probing, load kept under one half. A slot
 * holds the high half of the string's hash and where its record starts, so
 * that a lookup touches the slot and the record and nothing else:
 *   record: u32 index, u32 value, u32 length, then the bytes. */
typedef struct strtab {
    uint64_t *hash;      /* per entry, for growing and truncating; owned */
    uint32_t *off;       /* per entry: offset of its bytes in `bytes`; owned */
    uint32_t *len;       /* owned */
    uint32_t n, cap;
    uint64_t *slots;     /* 0 empty, else hash >> 32 << 32 | (record offset + 1); owned */
    uint32_t slot_cap;   /* power of two */
    lode_buf bytes;      /* the records */
} strtab;

/* One distinct term of the buffer. Its postings accumulate in `stream` as
 * the tokens arrive, per document: a varint doc-id gap (doc - previous doc,
 * the first counted from -1), then one varint per occurrence, position -
 * previous position (the first counted from -1, so never 0), then a 0 byte
 * closing the document's entry (left out after the last entry: the end of
 * the stream closes it). tf is the count of occurrences and the title tf
 * the count below the document's title_token_count, both found by the
 * segment writer: appending per token needs no per-document sort. */
typedef struct mem_term {
    uint32_t df;
    uint32_t last_doc;
    uint64_t cf;
    uint8_t *stream;     /* owned */
    uint32_t stream_len;
    uint32_t stream_cap;
    uint32_t next_pos;   /* in last_doc: the last position + 1 */
} mem_term;

/* One document's place in the buffer. */
typedef struct mem_doc {
    uint64_t text_offset; /* in the segment's stored-text stream */
    uint64_t size;
    int64_t mtime;
    uint64_t content_hash;
    uint64_t info_offset; /* into DOCINFO */
    uint32_t token_count;
    uint32_t title_token_count;
} mem_doc;

/* What a term looked like before the current document touched it, so that
 * a document that fails half-way can be taken out again. */
typedef struct term_undo {
    uint32_t term;
    uint32_t stream_len;
    uint32_t last_doc;
    uint32_t next_pos;
    uint64_t cf;
} term_undo;

/* Compresses stored text in TEXT_BLOCK_SIZE blocks, on a thread of its own
 * when one can be started (zlib is a third of the indexing time: the other
 * core takes it) or else in the caller; either way the same bytes. See
 * invert.c. */
typedef struct text_packer text_packer;

typedef struct inverter {
    strtab terms;        /* distinct terms (stems) */
    mem_term *tv;        /* per term; owned, tv_cap entries */
    uint32_t tv_cap;
    strtab words;        /* distinct words before stemming, for prefix queries; the
                            value of each is the index of its term */
    mem_doc *docs;       /* owned, docs_n used */
    uint32_t docs_n, docs_cap;
    lode_buf docinfo;    /* DOCINFO section, built as documents arrive */
    text_packer *packer; /* owned; holds the TEXT and TEXTIDX sections */
    lode_buf text;       /* compressed stored-text blocks (TEXT section), valid after
                            inverter_finish_text() */
    lode_buf textidx;    /* TEXTIDX section, likewise */
    uint64_t text_bytes; /* uncompressed bytes of stored text */
    uint64_t passages;
    uint64_t tokens;
    uint64_t title_tokens;
    size_t stream_bytes; /* capacity of all term streams, for the budget */
    int no_threads;      /* compress stored text on the caller's thread */
    /* the document being added, for inverter_add's undo */
    term_undo *undo;     /* owned, undo_n used */
    size_t undo_n, undo_cap;
} inverter;

void strtab_init(strtab *t);
void strtab_free(strtab *t);
/* Index of the string, adding it if new (*added set, value 0); *rec is
 * where its record starts, for strtab_value/strtab_set_value. -1: out of
 * memory or over 2^32 strings or bytes. */
int64_t strtab_intern(strtab *t, const char *s, uint32_t len, int *added, uint32_t *rec);
/* The same with the string's lode_hash64(s, len, 0) computed by the caller. */
int64_t strtab_intern_hashed(strtab *t, const char *s, uint32_t len, uint64_t h, int *added, uint32_t *rec);
static inline uint32_t strtab_value(const strtab *t, uint32_t rec) { return load_u32(t->bytes.data + rec + 4); }
static inline void strtab_set_value(strtab *t, uint32_t rec, uint32_t v) { store_u32(t->bytes.data + rec + 4, v); }
/* The value of entry i. */
static inline uint32_t strtab_value_of(const strtab *t, uint32_t i) { return strtab_value(t, t->off[i] - 12); }
static inline const uint8_t *strtab_str(const strtab *t, uint32_t i) { return t->bytes.data + t->off[i]; }
size_t strtab_memory(const strtab *t);

int inverter_init(inverter *inv);
/* Empty, keep nothing. LODE_ENOMEM leaves an inverter that fails every add. */
int inverter_reset(inverter *inv);
void inverter_free(inverter *inv);
/* Compress the last partial block of stored text and wait for the packer:
 * afterwards inv->text and inv->textidx hold the sections (before a
 * segment write). Returns 0, LODE_ENOMEM, or LODE_EIO if zlib failed. */
int inverter_finish_text(inverter *inv);
/* Bytes of memory the buffer holds now (for the writer's budget). */
size_t inverter_memory(const inverter *inv);

/* Analyse and add one document (text is any bytes, at most
 * LODE_MAX_DOC_BYTES). Returns 0, LODE_ENOMEM or LODE_ELIMIT. */
int inverter_add(inverter *inv, analyzer *a, const char *path, const uint8_t *text, size_t len,
                 int64_t mtime, lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to segment_write.c                                              */
/* ------------------------------------------------------------------------ */

/* Bytes a segment write of the buffer holds besides the buffer itself: the
 * sorted order of its terms and words, the lexicon being built, the
 * encoding slots. The writer counts them against the memory budget, so
 * that the peak of a flush stays within it too. */
size_t segment_write_memory(const inverter *inv);

/* Write the buffer as a segment file at `path` (created new, fsynced).
 * `stemmer` is recorded in META. Fills the header CRC for the MANIFEST. */
int segment_write(inverter *inv, const char *path, const char *stemmer, uint32_t *header_crc,
                  uint64_t *file_len, lode_error *err);
/* The same into `fd`, an empty file open for writing at offset 0 (a
 * bundle's temporary file); `path` names it in messages. fsyncs, does not
 * close, and leaves a partial file behind on failure for the caller. */
int segment_write_fd(inverter *inv, int fd, const char *path, const char *stemmer, uint32_t *header_crc,
                     uint64_t *file_len, lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to segment_read.c                                               */
/* ------------------------------------------------------------------------ */

typedef struct section_ref {
    uint64_t offset;
    uint64_t length;
    uint32_t crc;
} section_ref;

typedef struct segment {
    char *name;              /* for messages: index path + file name; owned */
    const uint8_t *data;     /* the whole file */
    size_t size;
    int mapped;              /* data is an mmap we must unmap */
    section_ref sec[SEC_MAX + 1]; /* an optional section absent: offset 0 */
    uint32_t header_crc;
    /* one flag per page of the file: 0 unchecked, 1 checksum verified.
     * Relaxed atomics: two threads may verify the same page; both agree. */
    atomic_uchar *page_ok;
    size_t page_count;
    /* META */
    uint32_t doc_count;
    uint32_t term_count;
    uint64_t passage_count;
    uint64_t token_count;
    uint64_t title_token_count;
    uint64_t text_bytes;
    uint32_t lex_blocks;
    uint32_t word_count;
    uint32_t vocab_blocks;
    char stemmer[64];
} segment;

/* Open a segment from a file (mmap) or from memory the caller keeps alive.
 * Checks the header, the section table, META and the page-checksum table. */
int segment_open_file(segment **out, const char *path, const char *display_name, lode_error *err);
int segment_open_memory(segment **out, const void *data, size_t size, const char *display_name,
                        lode_error *err);
void segment_close(segment *s);

/* The bytes [off, off+len) of a section, checked: in bounds, and every page
 * they touch matches its checksum. Sets *p to the first byte. */
int segment_view(segment *s, int section, uint64_t off, uint64_t len, const uint8_t **p,
                 lode_error *err);
/* Verify every section checksum and every page (lode_index_check). */
int segment_check_all(segment *s, lode_error *err);
/* Decode every structure and hold it to the format's invariants (check.c;
 * lode_index_check, after segment_check_all): LODE_ECORRUPT naming the
 * section of the first inconsistency, LODE_ENOMEM, or 0. */
int segment_verify(segment *s, lode_error *err);
const char *section_name(int id);

typedef struct doc_record {
    uint64_t text_offset;
    uint64_t size;
    int64_t mtime;
    uint64_t content_hash;
    uint64_t info_offset;
    uint32_t token_count;
    uint32_t title_token_count;
} doc_record;

int segment_doc(segment *s, uint32_t doc, doc_record *out, lode_error *err);
/* A document's token_count and title_token_count, what ranking reads for
 * every candidate: from DOCLENS when the segment has it (8 bytes a document
 * rather than DOCS's 48, so a cold search touches a sixth of the pages),
 * else from DOCS. */
int segment_doc_lengths(segment *s, uint32_t doc, uint32_t *token_count, uint32_t *title_token_count,
                        lode_error *err);
/* All of DOCLENS, its pages checked, for a ranker that reads the lengths of
 * many documents: record d is at table + 8·d (u32 token_count, u32
 * title_token_count). *table is NULL when the segment has no DOCLENS. One
 * view of the whole section costs a page check per 512 documents once;
 * afterwards a length is a load rather than a checked view per document,
 * which was a quarter of the instructions of a frequent-word query. */
int segment_doc_lengths_table(segment *s, const uint8_t **table, lode_error *err);

/* A document's DOCINFO: path, title and passage table. Strings point into
 * the mapped segment (not NUL-terminated). */
typedef struct passage_record {
    uint32_t offset;
    uint32_t length;
    uint32_t line;
    uint32_t first_token;
} passage_record;

typedef struct doc_info {
    const char *path;
    uint32_t path_len;
    const char *title;
    uint32_t title_len;
    uint32_t passage_count;
    uint64_t doc_size;
    const uint8_t *passages; /* encoded; decode with doc_info_passages */
    const uint8_t *end;
} doc_info;

int segment_doc_info(segment *s, uint32_t doc, const doc_record *d, doc_info *out, lode_error *err);
/* Decode all passages into out[0..info->passage_count). */
int doc_info_passages(segment *s, const doc_info *info, passage_record *out, lode_error *err);

/* Copy [off, off+len) of a document's stored text into `out`. */
int segment_text(segment *s, const doc_record *d, uint64_t off, uint64_t len, lode_buf *out,
                 lode_error *err);

/* The same through a reader that keeps the last text block it inflated and
 * inflates only as far into a block as asked: the passages of one search
 * mostly sit early in one block each, and a heading and its paragraph in
 * the same one. One reader per thread; it holds no segment open, but must
 * not outlive the segments it read (it keeps a pointer into one). */
typedef struct text_reader text_reader;
int text_reader_new(text_reader **out);
void text_reader_free(text_reader *r);
int segment_text_read(text_reader *r, segment *s, const doc_record *d, uint64_t off, uint64_t len,
                      lode_buf *out, lode_error *err);

/* What the lexicon says about one term in one segment. */
typedef struct term_info {
    uint32_t df;
    uint64_t cf;
    uint64_t offset;     /* of its postings in POSTINGS */
    uint64_t length;
    uint32_t max_tf;     /* over all its documents, for score bounds */
    uint32_t max_title_tf;
    uint32_t min_len;    /* shortest document (tokens) holding it */
} term_info;

/* Look a term up: 0 and *found=1/0, or an error. */
int segment_lookup(segment *s, const char *term, size_t term_len, term_info *out, int *found,
                   lode_error *err);

/* Visit every term starting with `prefix` in lexicon order. */
typedef int (*term_visit_fn)(void *ctx, const char *term, size_t len, const term_info *ti);
int segment_prefix_terms(segment *s, const char *prefix, size_t prefix_len, term_visit_fn fn,
                         void *ctx, lode_error *err);

/* Visit every indexed word (normalized, not stemmed) starting with `prefix`,
 * in order, with the term (stem) it was indexed under. */
typedef int (*word_visit_fn)(void *ctx, const char *word, size_t word_len, const char *term, size_t term_len);
int segment_prefix_words(segment *s, const char *prefix, size_t prefix_len, word_visit_fn fn, void *ctx,
                         lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to postings.c: iterating a term's postings                      */
/* ------------------------------------------------------------------------ */

#define DOC_END UINT32_MAX

typedef struct postings {
    segment *seg;
    term_info ti;
    uint32_t block_count;
    const uint8_t *skip;     /* NULL when there is a single block */
    const uint8_t *docs_area, *docs_end;
    const uint8_t *pos_area, *pos_end;
    uint32_t block;          /* current block */
    uint32_t block_n;        /* documents in it */
    uint32_t idx;            /* current document within the block */
    uint32_t doc;            /* current document, DOC_END when exhausted */
    uint32_t block_last;     /* last doc of the current block */
    int decoded;             /* block arrays hold the current block */
    int rc;                  /* sticky error */
    /* where postings_positions() left off in the current block's position
     * area, so that visiting its documents in order walks it once */
    uint32_t pos_block;      /* block + 1 of the cached walk, 0 none */
    uint32_t pos_idx;        /* document the walk has reached */
    uint64_t pos_skip;       /* values before that document */
    uint64_t pos_total;      /* values in the block */
    uint64_t pos_at;         /* index of the first value of the chunk at pos_p */
    const uint8_t *pos_p;    /* that chunk's width byte */
    uint32_t docs[POSTINGS_BLOCK];
    uint32_t tfs[POSTINGS_BLOCK];
    uint32_t ttfs[POSTINGS_BLOCK];
    lode_error *err;
} postings;

/* Position the cursor on the term's first document. */
int postings_open(postings *pc, segment *s, const term_info *ti, lode_error *err);
/* Move to the next document / the first document >= target. Return the new
 * current document (DOC_END at the end or on error; check pc->rc). */
uint32_t postings_next(postings *pc);
uint32_t postings_advance(postings *pc, uint32_t target);
uint32_t postings_tf(postings *pc);
uint32_t postings_title_tf(postings *pc);
/* Score-bound data of the block that holds `target` (>= current doc):
 * the block's last document and its maxima. Does not decode the block. */
void postings_block_bound(postings *pc, uint32_t target, uint32_t *last_doc, uint32_t *max_tf,
                          uint32_t *max_title_tf, uint32_t *min_len);
/* The positions of the current document, ascending, into out (which must
 * hold postings_tf() values). */
int postings_positions(postings *pc, uint32_t *out);

/* ------------------------------------------------------------------------ */
/* Interface to manifest.c                                                   */
/* ------------------------------------------------------------------------ */

typedef struct manifest_segment {
    char name[64];
    uint32_t doc_count;
    uint64_t file_len;
    uint32_t header_crc;
} manifest_segment;

typedef struct manifest {
    uint64_t generation;
    char stemmer[64];
    uint32_t segment_count;
    manifest_segment *segments; /* owned */
} manifest;

/* Read dir/MANIFEST. LODE_ENOTFOUND when there is none. */
int manifest_read(manifest *m, const char *dir, lode_error *err);
/* Write dir/MANIFEST.tmp, fsync it, rename over MANIFEST, fsync dir. */
int manifest_write(const manifest *m, const char *dir, lode_error *err);
void manifest_free(manifest *m);

/* fsync a directory so a rename in it is durable. */
int fsync_dir(const char *dir, lode_error *err);


/* ------------------------------------------------------------------------ */
/* Interface to index.c: an opened index (all live segments)                 */
/* ------------------------------------------------------------------------ */

/* Analyzers an open index keeps for its searches: one per thread searching
 * at once is ideal; a few MiB each at most (their caches are bounded). */
#define INDEX_ANALYZER_POOL 4

struct lode_index {
    char *path;            /* owned */
    segment **segs;        /* owned, seg_count of them */
    uint32_t seg_count;
    uint64_t docs;         /* global statistics over all segments */
    uint64_t tokens;
    uint64_t title_tokens;
    uint64_t passages;
    uint64_t generation;
    char stemmer[64];
    /* analyzers of finished searches, kept with their stem caches warm for
     * the next ones (expansion re-analyses documents: a cold cache runs
     * Snowball on every word of them); guarded by pool_mu */
    pthread_mutex_t pool_mu;
    int pool_ready;
    analyzer *pool[INDEX_ANALYZER_POOL];
    uint32_t pool_n;
};

/* An analyzer for the index's stemmer: from the pool or new. Returns 0,
 * LODE_ENOMEM. Thread-safe. */
int index_take_analyzer(lode_index *ix, analyzer **out, lode_error *err);
/* Give it back (freed when the pool is full). Thread-safe. */
void index_return_analyzer(lode_index *ix, analyzer *a);

#endif /* LODE_SEGMENT_H */
