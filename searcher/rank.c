/*
 * rank.c - BM25 ranking and top-k evaluation over block-compressed postings.
 * Called by search.c.
 *
 * Score of a document d for query terms t (statistics global over all
 * segments, so a document scores the same whichever segment holds it):
 *   sum over t of  qtf * idf(t) * tfe * (k1 + 1) / (tfe + k1 * (1 - b + b * |d| / avgdl))
 *   idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))        (never negative)
 *   tfe    = tf + (title_weight - 1) * title_tf           (title words count more)
 *
 * Top-k uses MaxScore (Turtle and Flood, 1995): terms sorted by their score
 * upper bound; the terms whose bounds together cannot beat the current k-th
 * score are "non-essential" and only probed, never iterated, so frequent
 * words cost little once the heap is full.
 */
#include <math.h>
#include <stdlib.h>

#include "searcher.h"

void query_terms_free(query_terms *q) {
    for (uint32_t i = 0; i < q->n; i++) lode_free(q->v[i].term);
    lode_free(q->v);
    q->v = NULL;
    q->n = 0;
}

typedef struct collect {
    query_terms *q;
    int rc;
} collect;

static int on_query_token(void *ctx, const token *t) {
    collect *c = ctx;
    for (uint32_t i = 0; i < c->q->n; i++)
        if (c->q->v[i].len == t->term_len && memcmp(c->q->v[i].term, t->term, t->term_len) == 0) {
            c->q->v[i].qtf++;
            return 0;
        }
    if (c->q->n >= LODE_MAX_QUERY_TERMS) return c->rc = LODE_ELIMIT;
    query_term *v = lode_realloc(c->q->v, (c->q->n + 1) * sizeof *v);
    if (!v) return c->rc = LODE_ENOMEM;
    c->q->v = v;
    query_term *qt = &v[c->q->n];
    memset(qt, 0, sizeof *qt);
    qt->term = lode_strndup(t->term, t->term_len);
    if (!qt->term) return c->rc = LODE_ENOMEM;
    qt->len = t->term_len;
    qt->qtf = 1;
    c->q->n++;
    return 0;
}

int query_terms_build(query_terms *out, lode_index *ix, analyzer *a, const char *query, lode_error *err) {
    memset(out, 0, sizeof *out);
    collect c = {out, 0};
    int rc = analyze_text(a, query, strlen(query), 0, on_query_token, &c);
    if (rc == LODE_ELIMIT)
        rc = lode_fail(err, rc, "query has more than %d distinct words", LODE_MAX_QUERY_TERMS);
    else if (rc)
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < out->n; i++) {
        query_term *qt = &out->v[i];
        for (uint32_t s = 0; s < ix->seg_count; s++) {
            term_info ti;
            int found;
            rc = segment_lookup(ix->segs[s], qt->term, qt->len, &ti, &found, err);
            if (rc) break;
            if (found) qt->df += ti.df;
        }
        double n = (double)ix->docs, df = (double)qt->df;
        qt->idf = log(1.0 + (n - df + 0.5) / (df + 0.5));
    }
    if (rc) query_terms_free(out);
    return rc;
}

/* --- evaluation ---------------------------------------------------------- */

typedef struct rank_ctx {
    double k1, b, tw, avgdl;
} rank_ctx;

static double bm25(const rank_ctx *c, double weight, uint32_t tf, uint32_t title_tf, uint32_t len) {
    double tfe = (double)tf + (c->tw - 1.0) * (double)title_tf;
    double norm = c->k1 * (1.0 - c->b + c->b * (double)len / c->avgdl);
    return weight * tfe * (c->k1 + 1.0) / (tfe + norm);
}

typedef struct cursor {
    postings pc;
    double weight;       /* qtf * idf */
    double bound;        /* the most this term can add to any document */
} cursor;

/* A min-heap of the best k so far: v[0] is the one to beat. */
typedef struct heap {
    scored_doc *v;
    size_t n, k;
} heap;

/* Worse = lower score, or the same score and a later document. */
static int worse(const scored_doc *a, const scored_doc *b) {
    if (a->score != b->score) return a->score < b->score;
    if (a->seg != b->seg) return a->seg > b->seg;
    return a->doc > b->doc;
}

static void heap_push(heap *h, scored_doc d) {
    if (h->n == h->k) {
        if (!worse(&h->v[0], &d)) return;
        size_t i = 0;
        h->v[0] = d;
        for (;;) { /* sift down */
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < h->n && worse(&h->v[l], &h->v[m])) m = l;
            if (r < h->n && worse(&h->v[r], &h->v[m])) m = r;
            if (m == i) break;
            scored_doc t = h->v[i];
            h->v[i] = h->v[m];
            h->v[m] = t;
            i = m;
        }
        return;
    }
    size_t i = h->n++;
    h->v[i] = d;
    while (i && worse(&h->v[i], &h->v[(i - 1) / 2])) { /* sift up */
        scored_doc t = h->v[i];
        h->v[i] = h->v[(i - 1) / 2];
        h->v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static double threshold(const heap *h) { return h->n == h->k ? h->v[0].score : -1.0; }

static int doc_length(segment *s, uint32_t doc, uint32_t *len, lode_error *err) {
    const uint8_t *p;
    int rc = segment_view(s, SEC_DOCS, (uint64_t)doc * DOC_RECORD_SIZE + 40, 4, &p, err);
    if (!rc) *len = load_u32(p);
    return rc;
}

static int cmp_bound(const void *a, const void *b) {
    const cursor *x = a, *y = b;
    return (x->bound > y->bound) - (x->bound < y->bound);
}

/* All terms required: walk the rarest term, probe the others. */
static int eval_and(segment *s, uint32_t si, cursor *c, uint32_t n, const rank_ctx *rc_, heap *h,
                    lode_error *err) {
    uint32_t lead = 0;
    for (uint32_t i = 1; i < n; i++)
        if (c[i].pc.ti.df < c[lead].pc.ti.df) lead = i;
    uint32_t d = c[lead].pc.doc;
    while (d != DOC_END) {
        uint32_t next = d;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t got = postings_advance(&c[i].pc, d);
            if (c[i].pc.rc) return c[i].pc.rc;
            if (got != d) {
                next = got;
                break;
            }
        }
        if (next == d) {
            uint32_t len;
            int rc = doc_length(s, d, &len, err);
            if (rc) return rc;
            double score = 0;
            for (uint32_t i = 0; i < n; i++)
                score += bm25(rc_, c[i].weight, postings_tf(&c[i].pc), postings_title_tf(&c[i].pc), len);
            heap_push(h, (scored_doc){score, si, d});
            next = d + 1;
        }
        if (next == DOC_END) break;
        d = postings_advance(&c[lead].pc, next);
        if (c[lead].pc.rc) return c[lead].pc.rc;
    }
    return 0;
}

/* Any term: MaxScore over terms sorted by ascending bound. */
static int eval_or(segment *s, uint32_t si, cursor *c, uint32_t n, const rank_ctx *rx, heap *h,
                   lode_error *err) {
    double cum[LODE_MAX_QUERY_TERMS];
    qsort(c, n, sizeof *c, cmp_bound);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) cum[i] = sum += c[i].bound;
    uint32_t first = 0; /* terms [0, first) are non-essential */
    while (first < n && cum[first] <= threshold(h)) first++;
    while (first < n) {
        uint32_t d = DOC_END;
        for (uint32_t i = first; i < n; i++)
            if (c[i].pc.doc < d) d = c[i].pc.doc;
        if (d == DOC_END) break;
        uint32_t len;
        int rc = doc_length(s, d, &len, err);
        if (rc) return rc;
        double score = 0;
        for (uint32_t i = first; i < n; i++) {
            if (c[i].pc.doc != d) continue;
            score += bm25(rx, c[i].weight, postings_tf(&c[i].pc), postings_title_tf(&c[i].pc), len);
            postings_next(&c[i].pc);
            if (c[i].pc.rc) return c[i].pc.rc;
        }
        for (uint32_t j = first; j-- > 0;) {
            if (score + cum[j] <= threshold(h)) break;
            if (postings_advance(&c[j].pc, d) == d)
                score += bm25(rx, c[j].weight, postings_tf(&c[j].pc), postings_title_tf(&c[j].pc), len);
            if (c[j].pc.rc) return c[j].pc.rc;
        }
        if (score > threshold(h)) {
            heap_push(h, (scored_doc){score, si, d});
            while (first < n && cum[first] <= threshold(h)) first++;
        }
    }
    return 0;
}

static int cmp_result(const void *a, const void *b) {
    const scored_doc *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

int rank_top_k(lode_index *ix, const query_terms *q, const rank_params *rp, int all_words, size_t k,
               scored_doc **out, size_t *count, lode_error *err) {
    *out = NULL;
    *count = 0;
    if (k == 0 || ix->docs == 0 || q->n == 0) return 0;
    rank_ctx rx = {rp->k1, rp->b, rp->title_weight, (double)ix->tokens / (double)ix->docs};
    if (rx.avgdl <= 0) rx.avgdl = 1;
    if (k > ix->docs) k = (size_t)ix->docs;
    heap h = {lode_malloc(k * sizeof(scored_doc)), 0, k};
    cursor *c = lode_malloc(q->n * sizeof *c);
    int rc = 0;
    if (!h.v || !c) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t si = 0; si < ix->seg_count && !rc; si++) {
        segment *s = ix->segs[si];
        uint32_t n = 0;
        int missing = 0;
        for (uint32_t t = 0; t < q->n; t++) {
            term_info ti;
            int found;
            rc = segment_lookup(s, q->v[t].term, q->v[t].len, &ti, &found, err);
            if (rc) break;
            if (!found) {
                missing = 1;
                continue;
            }
            rc = postings_open(&c[n].pc, s, &ti, err);
            if (rc) break;
            c[n].weight = (double)q->v[t].qtf * q->v[t].idf;
            c[n].bound = bm25(&rx, c[n].weight, ti.max_tf, ti.max_title_tf, ti.min_len);
            n++;
        }
        if (rc) break;
        if (n == 0 || (all_words && missing)) continue;
        rc = all_words ? eval_and(s, si, c, n, &rx, &h, err) : eval_or(s, si, c, n, &rx, &h, err);
    }
    if (!rc) {
        qsort(h.v, h.n, sizeof *h.v, cmp_result);
        *out = h.v;
        *count = h.n;
        h.v = NULL;
    }
done:
    lode_free(h.v);
    lode_free(c);
    return rc;
}
