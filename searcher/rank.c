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

void rank_ctx_init(rank_ctx *rx, const lode_index *ix) {
    rx->k1 = RANK_K1;
    rx->b = RANK_B;
    rx->tw = RANK_TITLE_WEIGHT;
    rx->docs = (double)ix->docs;
    rx->avgdl = ix->docs ? (double)ix->tokens / (double)ix->docs : 1.0;
    if (rx->avgdl <= 0) rx->avgdl = 1.0;
}

double rank_idf(const rank_ctx *rx, uint64_t df) {
    double n = rx->docs, d = (double)df;
    if (d > n) d = n;
    return log(1.0 + (n - d + 0.5) / (d + 0.5));
}

/* --- the top-k heap ------------------------------------------------------ */

int topk_init(topk *h, size_t k) {
    h->n = 0;
    h->k = k;
    h->v = lode_malloc((k ? k : 1) * sizeof *h->v);
    return h->v ? 0 : LODE_ENOMEM;
}

void topk_free(topk *h) {
    lode_free(h->v);
    h->v = NULL;
    h->n = 0;
}

/* Worse = lower score, or the same score and a later document. */
static int worse(const scored_doc *a, const scored_doc *b) {
    if (a->score != b->score) return a->score < b->score;
    if (a->seg != b->seg) return a->seg > b->seg;
    return a->doc > b->doc;
}

void topk_push(topk *h, scored_doc d) {
    if (h->k == 0) return;
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

double topk_threshold(const topk *h) { return h->n == h->k ? h->v[0].score : -1.0; }

static int cmp_result(const void *a, const void *b) {
    const scored_doc *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

void topk_finish(topk *h, scored_doc **out, size_t *count) {
    qsort(h->v, h->n, sizeof *h->v, cmp_result);
    *out = h->v;
    *count = h->n;
    h->v = NULL;
    h->n = 0;
}

/* --- evaluation of plain terms ------------------------------------------- */

typedef struct cursor {
    postings pc;
    double weight;       /* qtf * idf */
    double bound;        /* the most this term can add to any document */
} cursor;

static int doc_length(doc_lens *l, uint32_t doc, uint32_t *len, lode_error *err) {
    uint32_t title_len;
    return doc_lens_get(l, doc, len, &title_len, err);
}

static int cmp_bound(const void *a, const void *b) {
    const cursor *x = a, *y = b;
    return (x->bound > y->bound) - (x->bound < y->bound);
}

/* Is `d` held by one of the excluded cursors? */
static int excluded_at(cursor *x, uint32_t n, uint32_t d, int *rc) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t got = postings_advance(&x[i].pc, d);
        if (x[i].pc.rc) {
            *rc = x[i].pc.rc;
            return 1;
        }
        if (got == d) return 1;
    }
    return 0;
}

/* All terms required: walk the rarest term, probe the others. */
static int eval_and(segment *s, uint32_t si, cursor *c, uint32_t n, cursor *x, uint32_t nx, const rank_ctx *rx,
                    topk *h, lode_error *err) {
    uint32_t lead = 0;
    for (uint32_t i = 1; i < n; i++)
        if (c[i].pc.ti.df < c[lead].pc.ti.df) lead = i;
    doc_lens lens = {s, NULL, 0};
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
            int rc = 0;
            if (!excluded_at(x, nx, d, &rc)) {
                uint32_t len;
                if (!rc) rc = doc_length(&lens, d, &len, err);
                if (rc) return rc;
                double score = 0;
                for (uint32_t i = 0; i < n; i++)
                    score += rank_bm25(rx, c[i].weight, postings_tf(&c[i].pc), postings_title_tf(&c[i].pc), len);
                topk_push(h, (scored_doc){score, si, d});
            } else if (rc) {
                return rc;
            }
            next = d + 1;
        }
        if (next == DOC_END) break;
        d = postings_advance(&c[lead].pc, next);
        if (c[lead].pc.rc) return c[lead].pc.rc;
    }
    return 0;
}

/* Any term: MaxScore over terms sorted by ascending bound. The first `np`
 * cursors are probes: they stay non-essential, so they only add to the
 * score of documents that the others select. */
static int eval_or(segment *s, uint32_t si, cursor *c, uint32_t n, uint32_t np, cursor *x, uint32_t nx,
                   const rank_ctx *rx, topk *h, lode_error *err) {
    double cum[2 * LODE_MAX_QUERY_TERMS];
    qsort(c, np, sizeof *c, cmp_bound);
    qsort(c + np, n - np, sizeof *c, cmp_bound);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) cum[i] = sum += c[i].bound;
    if (np >= n) return 0; /* nothing selects a document */
    doc_lens lens = {s, NULL, 0};
    uint32_t first = np; /* terms [0, first) are non-essential */
    while (first < n && cum[first] <= topk_threshold(h)) first++;
    while (first < n) {
        uint32_t d = DOC_END;
        for (uint32_t i = first; i < n; i++)
            if (c[i].pc.doc < d) d = c[i].pc.doc;
        if (d == DOC_END) break;
        int rc = 0;
        int skip = excluded_at(x, nx, d, &rc);
        if (rc) return rc;
        uint32_t len = 0;
        if (!skip && (rc = doc_length(&lens, d, &len, err))) return rc;
        double score = 0;
        for (uint32_t i = first; i < n; i++) {
            if (c[i].pc.doc != d) continue;
            if (!skip) score += rank_bm25(rx, c[i].weight, postings_tf(&c[i].pc), postings_title_tf(&c[i].pc), len);
            postings_next(&c[i].pc);
            if (c[i].pc.rc) return c[i].pc.rc;
        }
        if (skip) continue;
        for (uint32_t j = first; j-- > 0;) {
            if (score + cum[j] <= topk_threshold(h)) break;
            if (postings_advance(&c[j].pc, d) == d)
                score += rank_bm25(rx, c[j].weight, postings_tf(&c[j].pc), postings_title_tf(&c[j].pc), len);
            if (c[j].pc.rc) return c[j].pc.rc;
        }
        if (score > topk_threshold(h)) {
            topk_push(h, (scored_doc){score, si, d});
            while (first < n && cum[first] <= topk_threshold(h)) first++;
        }
    }
    return 0;
}

/* Open a cursor per term present in segment s; *missing counts the absent. */
static int open_cursors(segment *s, uint32_t si, const rank_ctx *rx, const flat_term *t, uint32_t n, cursor *c,
                        uint32_t *opened, uint32_t *missing, lode_error *err) {
    *opened = *missing = 0;
    for (uint32_t i = 0; i < n; i++) {
        const term_info ti = t[i].in_seg[si];
        if (ti.df == 0) {
            (*missing)++;
            continue;
        }
        cursor *cu = &c[(*opened)++];
        int rc = postings_open(&cu->pc, s, &ti, err);
        if (rc) return rc;
        cu->weight = t[i].weight;
        cu->bound = rank_bm25(rx, cu->weight, ti.max_tf, ti.max_title_tf, ti.min_len);
    }
    return 0;
}

static int flat_top_k(lode_index *ix, const rank_ctx *rx, const flat_term *terms, uint32_t n, const flat_term *probes,
                      uint32_t n_probes, const flat_term *excluded, uint32_t n_excluded, int all, topk *h,
                      lode_error *err) {
    if (n == 0 || n > LODE_MAX_QUERY_TERMS || n_excluded > LODE_MAX_QUERY_TERMS || n_probes > LODE_MAX_QUERY_TERMS)
        return n ? lode_fail(err, LODE_ELIMIT, "too many query terms") : 0;
    cursor *c = lode_malloc((n_probes + n + n_excluded) * sizeof *c);
    if (!c) return lode_fail(err, LODE_ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t si = 0; si < ix->seg_count && !rc; si++) {
        segment *s = ix->segs[si];
        uint32_t po = 0, pm = 0, opened = 0, missing = 0, xo = 0, xm = 0;
        rc = open_cursors(s, si, rx, probes, n_probes, c, &po, &pm, err);
        if (!rc) rc = open_cursors(s, si, rx, terms, n, c + po, &opened, &missing, err);
        if (!rc) rc = open_cursors(s, si, rx, excluded, n_excluded, c + po + opened, &xo, &xm, err);
        if (rc || opened == 0 || (all && missing)) continue;
        rc = all ? eval_and(s, si, c + po, opened, c + po + opened, xo, rx, h, err)
                 : eval_or(s, si, c, po + opened, po, c + po + opened, xo, rx, h, err);
    }
    lode_free(c);
    return rc;
}

int rank_flat(lode_index *ix, const rank_ctx *rx, const flat_term *terms, uint32_t n, const flat_term *excluded,
              uint32_t n_excluded, int all, topk *h, lode_error *err) {
    return flat_top_k(ix, rx, terms, n, NULL, 0, excluded, n_excluded, all, h, err);
}

int rank_flat_probed(lode_index *ix, const rank_ctx *rx, const flat_term *terms, uint32_t n, const flat_term *probes,
                     uint32_t n_probes, const flat_term *excluded, uint32_t n_excluded, topk *h, lode_error *err) {
    return flat_top_k(ix, rx, terms, n, probes, n_probes, excluded, n_excluded, 0, h, err);
}
