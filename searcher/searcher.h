/*
 * searcher.h - the private interface between the files of searcher/:
 * ranking (rank.c), passage choice and highlighting (snippet.c) and the
 * results handed to callers (search.c).
 */
#ifndef LODE_SEARCHER_H
#define LODE_SEARCHER_H

#include "segment.h"

/* ------------------------------------------------------------------------ */
/* Ranking parameters (rank.c). Tuned on Cranfield: see docs/RANKING.md.     */
/* ------------------------------------------------------------------------ */

typedef struct rank_params {
    double k1;           /* term-frequency saturation */
    double b;            /* length normalisation */
    double title_weight; /* an occurrence in the title counts this many times */
} rank_params;

#define RANK_K1 1.2
#define RANK_B 0.75
#define RANK_TITLE_WEIGHT 2.0

/* One analysed query term, with its global statistics. */
typedef struct query_term {
    char *term;          /* owned, normalized and stemmed */
    uint32_t len;
    uint32_t qtf;        /* times it occurs in the query */
    uint64_t df;         /* documents holding it, over all segments */
    double idf;
} query_term;

typedef struct query_terms {
    query_term *v;       /* owned */
    uint32_t n;
} query_terms;

/* ------------------------------------------------------------------------ */
/* Interface to rank.c                                                       */
/* ------------------------------------------------------------------------ */

typedef struct scored_doc {
    double score;
    uint32_t seg;
    uint32_t doc;
} scored_doc;

/* Analyse `query` into distinct terms with global df and idf. */
int query_terms_build(query_terms *out, lode_index *ix, analyzer *a, const char *query, lode_error *err);
void query_terms_free(query_terms *q);

/* Top `k` documents for the terms, best first (ties: earlier segment and
 * document first, so answers are stable). `all_words` requires every term.
 * *out is owned by the caller; *count <= k. */
int rank_top_k(lode_index *ix, const query_terms *q, const rank_params *rp, int all_words, size_t k,
               scored_doc **out, size_t *count, lode_error *err);

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

/* Choose the best `max` passages of document `doc` of segment `s` for the
 * query terms (the ones that cover the most query words, most densely; ties
 * go to the earlier passage) and highlight the matched words. */
int snippets_for_doc(segment *s, uint32_t doc, const doc_record *d, const doc_info *info, analyzer *a,
                     const query_terms *q, size_t max, snippet **out, size_t *count, lode_error *err);
void snippets_free(snippet *v, size_t n);

#endif /* LODE_SEARCHER_H */
