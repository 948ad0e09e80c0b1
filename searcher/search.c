/*
 * search.c - lode_search and the results it returns: analyses the query,
 * ranks (rank.c), then gathers path, title and best passages (snippet.c) of
 * each document of the answer. Called by lode-search and by embedders; safe
 * to call from many threads on one lode_index (all state is per call).
 */
#include <stdlib.h>

#include "searcher.h"

typedef struct result_hit {
    char *path;     /* owned, NUL-terminated */
    char *title;    /* owned, NUL-terminated */
    double score;
    uint64_t size;
    snippet *snips; /* owned */
    size_t snip_count;
    lode_passage *passages; /* owned views of snips */
} result_hit;

struct lode_results {
    result_hit *hits;
    size_t count;
};

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
    lode_free(r);
}

static int fill_hit(lode_index *ix, analyzer *a, const query_terms *q, const scored_doc *sd, size_t passages,
                    result_hit *h, lode_error *err) {
    segment *s = ix->segs[sd->seg];
    doc_record d;
    doc_info info;
    int rc = segment_doc(s, sd->doc, &d, err);
    if (!rc) rc = segment_doc_info(s, sd->doc, &d, &info, err);
    if (rc) return rc;
    h->score = sd->score;
    h->size = d.size;
    h->path = lode_strndup(info.path, info.path_len);
    h->title = lode_strndup(info.title, info.title_len);
    if (!h->path || !h->title) return lode_fail(err, LODE_ENOMEM, "out of memory");
    rc = snippets_for_doc(s, sd->doc, &d, &info, a, q, passages, &h->snips, &h->snip_count, err);
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
    size_t passages = opts->passages ? opts->passages : 1;

    analyzer *a = NULL;
    query_terms q = {NULL, 0};
    scored_doc *top = NULL;
    size_t top_n = 0;
    lode_results *r = NULL;
    int rc = analyzer_new(&a, ix->stemmer, err);
    if (rc) goto done;
    rc = query_terms_build(&q, ix, a, query, err);
    if (rc) goto done;
    if (q.n == 0) {
        rc = lode_fail(err, LODE_EINVAL, "the query has no words to search for");
        goto done;
    }
    rank_params rp = {RANK_K1, RANK_B, RANK_TITLE_WEIGHT};
    rc = rank_top_k(ix, &q, &rp, (opts->flags & LODE_SEARCH_ALL_WORDS) != 0, limit, &top, &top_n, err);
    if (rc) goto done;
    r = lode_calloc(1, sizeof *r);
    if (!r || !(r->hits = lode_calloc(top_n ? top_n : 1, sizeof *r->hits))) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < top_n && !rc; i++) {
        r->count++;
        rc = fill_hit(ix, a, &q, &top[i], passages, &r->hits[i], err);
    }
    if (!rc) {
        *out = r;
        r = NULL;
    }
done:
    lode_results_free(r);
    lode_free(top);
    query_terms_free(&q);
    analyzer_free(a);
    return rc;
}
