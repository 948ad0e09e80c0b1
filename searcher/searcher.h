/*
 * searcher.h - the private interface between the files of searcher/:
 * binding and evaluating query trees (query_eval.c), ranking and top-k
 * (rank.c), passage choice and highlighting (snippet.c) and the results
 * handed to callers (search.c). The query tree itself is in query.h.
 */
#ifndef LODE_SEARCHER_H
#define LODE_SEARCHER_H

#include "query.h"
#include "segment.h"

/* ------------------------------------------------------------------------ */
/* Interface to rank.c: BM25, the top-k heap, MaxScore over plain terms      */
/* ------------------------------------------------------------------------ */

/* BM25 with a title weight. Chosen on Cranfield (docs/RANKING.md): k1 and b
 * in the usual range, a title word counting three times. */
#define RANK_K1 1.5
#define RANK_B 0.75
#define RANK_TITLE_WEIGHT 3.0

typedef struct rank_ctx {
    double k1;           /* term-frequency saturation */
    double b;            /* length normalisation */
    double tw;           /* an occurrence in the title counts this many times */
    double avgdl;        /* mean document length in tokens, over the whole index */
    double docs;         /* documents in the whole index */
} rank_ctx;

void rank_ctx_init(rank_ctx *rx, const lode_index *ix);

/* The lengths of the documents a ranker scores in one segment. The first
 * DOC_LENS_TABLE_AFTER come one checked view each, so that a query scoring
 * a handful of documents in a freshly opened index checks a handful of
 * pages. After that the ranker takes the whole DOCLENS table at once (one
 * page a 512 documents, most of which it would touch anyway) and reads it
 * directly: a checked view per document was a quarter of the instructions
 * of a query of frequent words. */
#define DOC_LENS_TABLE_AFTER 64
typedef struct doc_lens {
    segment *seg;
    const uint8_t *table; /* segment_doc_lengths_table's, once taken */
    uint32_t reads;
} doc_lens;

static inline int doc_lens_get(doc_lens *l, uint32_t doc, uint32_t *len, uint32_t *title_len, lode_error *err) {
    if (!l->table && l->reads < DOC_LENS_TABLE_AFTER && ++l->reads == DOC_LENS_TABLE_AFTER) {
        int rc = segment_doc_lengths_table(l->seg, &l->table, err);
        if (rc) return rc;
    }
    if (l->table && doc < l->seg->doc_count) {
        const uint8_t *p = l->table + (size_t)doc * DOCLEN_RECORD_SIZE;
        *len = load_u32(p);
        *title_len = load_u32(p + 4);
        return 0;
    }
    return segment_doc_lengths(l->seg, doc, len, title_len, err);
}

/* idf = ln(1 + (N - df + 0.5) / (df + 0.5)): never negative. */
double rank_idf(const rank_ctx *rx, uint64_t df);

/* weight * tfe * (k1 + 1) / (tfe + k1 * (1 - b + b * len / avgdl)),
 * tfe = tf + (tw - 1) * title_tf. Monotone: more tf, shorter len, more. */
static inline double rank_bm25(const rank_ctx *c, double weight, uint32_t tf, uint32_t title_tf, uint32_t len) {
    double tfe = (double)tf + (c->tw - 1.0) * (double)title_tf;
    double norm = c->k1 * (1.0 - c->b + c->b * (double)len / c->avgdl);
    return weight * tfe * (c->k1 + 1.0) / (tfe + norm);
}

typedef struct scored_doc {
    double score;
    uint32_t seg;
    uint32_t doc;
} scored_doc;

/* The best k so far, a min-heap: v[0] is the one to beat. Ties go to the
 * earlier segment and document, so answers are stable. */
typedef struct topk {
    scored_doc *v; /* owned */
    size_t n, k;
} topk;

int topk_init(topk *h, size_t k);
void topk_push(topk *h, scored_doc d);
/* The score a document must beat to enter (-1 while not full). */
double topk_threshold(const topk *h);
/* Sort best first and hand the array over (*out owned by the caller). */
void topk_finish(topk *h, scored_doc **out, size_t *count);
void topk_free(topk *h);

/* One plain term of a flat query, for MaxScore. */
typedef struct flat_term {
    const term_info *in_seg; /* per segment, looked up once (df 0: absent) */
    double weight;       /* qtf * idf */
} flat_term;

/* Top-k over plain terms: any term (MaxScore) or every term (`all`).
 * Documents that hold an `excluded` term are skipped. */
int rank_flat(lode_index *ix, const rank_ctx *rx, const flat_term *terms, uint32_t n, const flat_term *excluded,
              uint32_t n_excluded, int all, topk *h, lode_error *err);
/* Any term, with `probes`: terms that add to the score of the documents the
 * other terms select but never select one themselves (query expansion). */
int rank_flat_probed(lode_index *ix, const rank_ctx *rx, const flat_term *terms, uint32_t n, const flat_term *probes,
                     uint32_t n_probes, const flat_term *excluded, uint32_t n_excluded, topk *h, lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to query_eval.c: a query tree bound to an index                 */
/* ------------------------------------------------------------------------ */

/* One index term a query needs. A term reached through a prefix keeps the
 * prefix, so that only words that really start with it are highlighted. */
typedef struct qterm {
    char *term;          /* owned, normalized and stemmed */
    uint32_t len;
    char *prefix;        /* owned or NULL: the normalized prefix that expanded to it */
    uint32_t prefix_len;
    uint64_t df;         /* over all segments */
    term_info *in_seg;   /* owned, one per segment; df 0 where the term is absent */
} qterm;

/* One position of a phrase: any of its terms (several for a prefix). */
typedef struct bslot {
    uint32_t *terms;     /* owned, indexes into bound_query.terms */
    uint32_t term_count;
    uint32_t offset;     /* position relative to the phrase's first word */
} bslot;

typedef enum bkind { B_LEAF, B_NEAR, B_BOOL, B_PATH } bkind;

typedef struct bnode {
    bkind kind;
    qoccur occur;
    unsigned field;      /* QF_ANY or QF_TITLE */
    bslot *slots;        /* B_LEAF: owned; one slot is a word, more a phrase */
    uint32_t slot_count;
    uint32_t span;       /* B_LEAF: last slot's offset + 1 */
    uint32_t distance;   /* B_NEAR */
    struct bnode **kids; /* B_NEAR, B_BOOL; owned */
    uint32_t kid_count;
    char *glob;          /* B_PATH; owned */
    int basename_only;   /* B_PATH: the glob has no '/' */
    double weight;       /* B_LEAF and B_NEAR: idf (sum of idfs for a phrase) */
    uint32_t group;      /* B_LEAF: which query word it is, for passage choice */
} bnode;

typedef struct bound_query {
    bnode *root;
    qterm *terms;        /* owned */
    uint32_t term_count;
    double *group_weight; /* owned, one per group */
    uint32_t group_count;
} bound_query;

/* Analyse the leaves of `q` like document text, expand prefixes, and fetch
 * global statistics. Errors: LODE_EINVAL (no words left to search for, only
 * excluded words, a prefix too short), LODE_ELIMIT (a prefix matching too
 * many words, too many terms), LODE_ECORRUPT, LODE_ENOMEM. */
int query_bind(bound_query *out, const qnode *q, lode_index *ix, analyzer *a, const rank_ctx *rx, lode_error *err);
void bound_query_free(bound_query *b);

/* Top-k documents for a bound query. */
int query_top_k(lode_index *ix, const bound_query *b, const rank_ctx *rx, size_t k, scored_doc **out,
                size_t *count, lode_error *err);

/* The occurrences that made document `doc` of segment `seg` match: every
 * position of a matched word, phrase or NEAR window (not of excluded
 * words), sorted by position. */
typedef struct match {
    uint32_t pos;
    uint32_t term;       /* index into bound_query.terms */
    uint32_t group;
} match;

int query_matches(lode_index *ix, const bound_query *b, const rank_ctx *rx, uint32_t seg, uint32_t doc,
                  match **out, size_t *count, lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to expand.c: pseudo-relevance feedback                          */
/* ------------------------------------------------------------------------ */

/* Defaults of the expansion (docs/RANKING.md): RM3 with the feedback
 * documents and terms of the usual toolkits (Terrier 3 and 10, Anserini
 * and Indri 10 and 10) and Anserini's and Indri's weight of the query. */
#define EXPAND_DOCS 5
#define EXPAND_TERMS 10
#define EXPAND_QUERY_WEIGHT 0.5

typedef struct expand_params {
    uint32_t docs;       /* feedback documents (R) */
    uint32_t terms;      /* expansion terms chosen (E) */
    double query_weight; /* lambda: weight of the query as typed, (0, 1) */
} expand_params;

/* Top-k for a bound query expanded with terms of its best documents; the
 * documents are those the query matches, re-ranked. `b` is left as it is
 * (passages and highlights come from it). `a` analyses the feedback
 * documents, read through `tr` (the search's reader: the best documents'
 * passages are read next, often from the block it keeps). Errors: those
 * of query_top_k, LODE_ENOMEM. */
int expand_top_k(lode_index *ix, analyzer *a, text_reader *tr, const bound_query *b, const rank_ctx *rx,
                 const expand_params *p, size_t k, scored_doc **out, size_t *count, lode_error *err);

/* ------------------------------------------------------------------------ */
/* Interface to snippet.c                                                    */
/* ------------------------------------------------------------------------ */

typedef struct snippet {
    uint64_t offset;     /* in the file */
    uint32_t line;
    char *text;          /* owned, `length` bytes (+ NUL) */
    size_t length;
    lode_span *spans;    /* owned */
    size_t span_count;
} snippet;

/* Choose the best `max` passages of document `doc` (the ones that cover the
 * most query words, weighted by idf, most densely; ties go to the earlier
 * passage) and highlight exactly the matched occurrences. With `all`, every
 * passage that holds a match instead, in document order, each on its own
 * (a heading is not joined to what follows), and `max` is ignored. */
int snippets_for_doc(segment *s, const doc_record *d, const doc_info *info, analyzer *a, const bound_query *b,
                     const match *m, size_t match_count, size_t max, int all, text_reader *tr, snippet **out,
                     size_t *count, lode_error *err);
void snippets_free(snippet *v, size_t n);

/* ------------------------------------------------------------------------ */
/* Interface to document.c: a document named by lode_hit.doc                */
/* ------------------------------------------------------------------------ */

/* lode_hit.doc is the segment's number in the opened index in the high 32
 * bits and the document's number in the segment in the low 32: both are
 * 32-bit already (LODE_MAX_SEGMENTS, LODE_MAX_DOCS_PER_SEGMENT), and the
 * pair is all a reader needs to find the document again. */
static inline uint64_t doc_id_make(uint32_t seg, uint32_t doc) { return (uint64_t)seg << 32 | doc; }

#endif /* LODE_SEARCHER_H */
