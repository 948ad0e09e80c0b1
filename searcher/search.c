/*
 * search.c - lode_search and the results it returns: analyses the query,
 * ranks (rank.c), then gathers path, title and best passages (snippet.c) of
 * each document of the answer. Called by lode-search and by embedders; safe
 * to call from many threads on one lode_index (all state is per call).
 */
#include <stdlib.h>

#include "searcher.h"

/* The public header names the limit for callers that see only lode.h. */
_Static_assert(LODE_SEARCH_MAX_LIMIT == LODE_MAX_RESULTS, "lode.h and lode_limits.h disagree");

typedef struct result_hit {
    char *path;     /* owned, NUL-terminated */
    char *title;    /* owned, NUL-terminated */
    double score;
    uint64_t size;
    snippet *snips; /* owned */
    size_t snip_count;
    lode_passage *passages; /* owned views of snips */
    uint64_t doc;   /* doc_id_make(segment, document) */
} result_hit;

struct lode_results {
    result_hit *hits;
    size_t count;
    char *note;     /* owned or NULL: how a query that is not valid syntax was read */
};

const char *lode_results_note(const lode_results *r) { return r ? r->note : NULL; }

size_t lode_results_count(const lode_results *r) { return r ? r->count : 0; }

int lode_results_get(const lode_results *r, size_t i, lode_hit *out) {
    if (!r || !out || i >= r->count) return LODE_EINVAL;
    const result_hit *h = &r->hits[i];
    out->path = h->path;
    out->title = h->title;
    out->score = h->score;
    out->size = h->size;
    out->passages = h->passages;
    out->passage_count = h->snip_count;
    out->doc = h->doc;
    return 0;
}

void lode_results_free(lode_results *r) {
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) {
        lode_free(r->hits[i].path);
        lode_free(r->hits[i].title);
        snippets_free(r->hits[i].snips, r->hits[i].snip_count);
        lode_free(r->hits[i].passages);
    }
    lode_free(r->hits);
    lode_free(r->note);
    lode_free(r);
}

static int fill_hit(lode_index *ix, analyzer *a, const bound_query *b, const rank_ctx *rx, const scored_doc *sd,
                    size_t passages, int all, text_reader *tr, result_hit *h, lode_error *err) {
    segment *s = ix->segs[sd->seg];
    doc_record d;
    doc_info info;
    match *m = NULL;
    size_t nm = 0;
    int rc = segment_doc(s, sd->doc, &d, err);
    if (!rc) rc = segment_doc_info(s, sd->doc, &d, &info, err);
    if (rc) return rc;
    h->score = sd->score;
    h->size = d.size;
    h->doc = doc_id_make(sd->seg, sd->doc);
    h->path = lode_strndup(info.path, info.path_len);
    h->title = lode_strndup(info.title, info.title_len);
    if (!h->path || !h->title) return lode_fail(err, LODE_ENOMEM, "out of memory");
    if (passages == 0) return 0;
    rc = query_matches(ix, b, rx, sd->seg, sd->doc, &m, &nm, err);
    if (!rc) rc = snippets_for_doc(s, &d, &info, a, b, m, nm, passages, all, tr, &h->snips, &h->snip_count, err);
    lode_free(m);
    if (rc) return rc;
    h->passages = lode_calloc(h->snip_count ? h->snip_count : 1, sizeof *h->passages);
    if (!h->passages) return lode_fail(err, LODE_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->snip_count; i++) {
        const snippet *sn = &h->snips[i];
        h->passages[i] = (lode_passage){sn->offset, sn->line, sn->text, sn->length, sn->spans, sn->span_count};
    }
    return 0;
}

int lode_search(lode_results **out, lode_index *ix, const char *query, const lode_search_options *opts,
                lode_error *err) {
    if (!out) return lode_fail(err, LODE_EINVAL, "invalid argument");
    *out = NULL;
    lode_search_options defaults = LODE_SEARCH_OPTIONS_INIT;
    if (!opts) opts = &defaults;
    if (!ix || !query) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (opts->version < 1) return lode_fail(err, LODE_EINVAL, "lode_search_options.version must be set");
    size_t qlen = strlen(query);
    if (qlen > LODE_MAX_QUERY_BYTES)
        return lode_fail(err, LODE_ELIMIT, "query is %zu bytes, the limit is %d", qlen, LODE_MAX_QUERY_BYTES);
    size_t limit = opts->limit ? opts->limit : 10;
    if (limit > LODE_MAX_RESULTS) limit = LODE_MAX_RESULTS;
    size_t passages = (opts->flags & LODE_SEARCH_NO_PASSAGES) ? 0 : opts->passages ? opts->passages : 1;

    analyzer *a = NULL;
    qnode *tree = NULL;
    char *note = NULL;
    bound_query bq;
    memset(&bq, 0, sizeof bq);
    scored_doc *top = NULL;
    size_t top_n = 0;
    lode_results *r = NULL;
    text_reader *tr = NULL;
    rank_ctx rx;
    rank_ctx_init(&rx, ix);
    if (opts->bm25_k1 > 0) rx.k1 = opts->bm25_k1;
    if (opts->bm25_b > 0 && opts->bm25_b <= 1) rx.b = opts->bm25_b;
    if (opts->title_weight >= 1) rx.tw = opts->title_weight;
    expand_params ep = {EXPAND_DOCS, EXPAND_TERMS, EXPAND_QUERY_WEIGHT};
    if (opts->version >= 2) {
        if (opts->expand_docs)
            ep.docs = opts->expand_docs < LODE_MAX_EXPAND_DOCS ? opts->expand_docs : LODE_MAX_EXPAND_DOCS;
        if (opts->expand_terms)
            ep.terms = opts->expand_terms < LODE_MAX_EXPAND_TERMS ? opts->expand_terms : LODE_MAX_EXPAND_TERMS;
        if (opts->expand_weight > 0 && opts->expand_weight <= 1) ep.query_weight = opts->expand_weight;
    }
    int expand = !(opts->flags & LODE_SEARCH_NO_EXPAND) && ep.query_weight < 1;
    int rc = index_take_analyzer(ix, &a, err);
    if (!rc)
        rc = query_parse(&tree, query, qlen, (opts->flags & LODE_SEARCH_STRICT) != 0,
                         (opts->flags & LODE_SEARCH_ALL_WORDS) != 0, &note, err);
    if (!rc) rc = query_bind(&bq, tree, ix, a, &rx, err);
    /* one reader for the whole search: feedback documents and passages */
    if (!rc && (expand || passages) && text_reader_new(&tr)) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
    if (!rc && expand)
        rc = expand_top_k(ix, a, tr, &bq, &rx, &ep, limit, &top, &top_n, err);
    else if (!rc)
        rc = query_top_k(ix, &bq, &rx, limit, &top, &top_n, err);
    if (rc) goto done;
    r = lode_calloc(1, sizeof *r);
    if (!r || !(r->hits = lode_calloc(top_n ? top_n : 1, sizeof *r->hits))) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    r->note = note;
    note = NULL;
    for (size_t i = 0; i < top_n && !rc; i++) {
        r->count++;
        rc = fill_hit(ix, a, &bq, &rx, &top[i], passages, (opts->flags & LODE_SEARCH_ALL_PASSAGES) != 0, tr,
                      &r->hits[i], err);
    }
    if (!rc) {
        *out = r;
        r = NULL;
    }
done:
    text_reader_free(tr);
    lode_results_free(r);
    lode_free(top);
    lode_free(note);
    bound_query_free(&bq);
    qnode_free(tree);
    index_return_analyzer(ix, a);
    return rc;
}
