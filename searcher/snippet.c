/*
 * snippet.c - chooses the passages of a document to show and highlights the
 * words that matched. Called by search.c for each document of the answer.
 *
 * The best passage covers the most query words (each distinct word counted
 * by its idf, so a rare word matters more than a common one), then the most
 * densely (matches per token, smoothed so that a two-word heading does not
 * beat a sentence that answers); ties go to the earlier passage.
 *
 * Highlights come from re-analysing the stored passage text, numbering its
 * tokens from the passage's first token: a token is marked when the same
 * term occurs at the same position in the postings. So the marks land on
 * exactly the original bytes (accents and case as written), and only on
 * occurrences the index matched.
 */
#include <stdlib.h>

#include "searcher.h"

/* Passages shorter than this many tokens are scored as if this long: a
 * heading should not win on density alone. */
#define DENSITY_SMOOTHING 12.0
/* At most this many occurrences are collected per document: enough for any
 * real text, a bound for a hostile one. */
#define MAX_OCCURRENCES (1u << 20)

void snippets_free(snippet *v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        lode_free(v[i].text);
        lode_free(v[i].spans);
    }
    lode_free(v);
}

typedef struct occ_list {
    uint64_t *v; /* position << 32 | query term index */
    size_t n, cap;
} occ_list;

static int occ_push(occ_list *o, uint64_t x) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        uint64_t *v = lode_realloc(o->v, cap * sizeof *v);
        if (!v) return LODE_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = x;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Gather every (position, term) of the query terms in the document. */
static int gather(segment *s, uint32_t doc, const query_terms *q, occ_list *o, lode_error *err) {
    uint32_t *pos = NULL;
    size_t pos_cap = 0;
    int rc = 0;
    for (uint32_t t = 0; t < q->n && !rc; t++) {
        term_info ti;
        int found;
        postings pc;
        rc = segment_lookup(s, q->v[t].term, q->v[t].len, &ti, &found, err);
        if (rc || !found) continue;
        rc = postings_open(&pc, s, &ti, err);
        if (rc) break;
        if (postings_advance(&pc, doc) != doc) {
            rc = pc.rc;
            continue;
        }
        uint32_t tf = postings_tf(&pc);
        if (tf > pos_cap) {
            uint32_t *v = lode_realloc(pos, (size_t)tf * sizeof *v);
            if (!v) {
                rc = lode_fail(err, LODE_ENOMEM, "out of memory");
                break;
            }
            pos = v;
            pos_cap = tf;
        }
        rc = postings_positions(&pc, pos);
        for (uint32_t i = 0; !rc && i < tf && o->n < MAX_OCCURRENCES; i++)
            if (occ_push(o, ((uint64_t)pos[i] << 32) | t)) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    lode_free(pos);
    if (!rc) qsort(o->v, o->n, sizeof *o->v, cmp_u64);
    return rc;
}

typedef struct passage_score {
    double cover;
    double density;
    uint32_t index;
} passage_score;

static int cmp_passage(const void *a, const void *b) {
    const passage_score *x = a, *y = b;
    if (x->cover != y->cover) return x->cover < y->cover ? 1 : -1;
    if (x->density != y->density) return x->density < y->density ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

typedef struct mark_ctx {
    const query_terms *q;
    const occ_list *o;
    lode_span *spans;
    size_t n, cap;
    uint32_t base; /* offset of the passage in the document */
    int by_term;   /* fallback: mark every query term, whatever its position */
    int rc;
} mark_ctx;

static int is_match(const mark_ctx *m, const token *t) {
    for (uint32_t i = 0; i < m->q->n; i++) {
        if (m->q->v[i].len != t->term_len || memcmp(m->q->v[i].term, t->term, t->term_len) != 0) continue;
        if (m->by_term) return 1;
        uint64_t key = ((uint64_t)t->position << 32) | i;
        size_t lo = 0, hi = m->o->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (m->o->v[mid] < key)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < m->o->n && m->o->v[lo] == key;
    }
    return 0;
}

static int on_mark(void *ctx, const token *t) {
    mark_ctx *m = ctx;
    if (!is_match(m, t)) return 0;
    /* overlapping marks (CJK bigrams share a character) become one */
    if (m->n && t->start < m->spans[m->n - 1].end) {
        if (t->end > m->spans[m->n - 1].end) m->spans[m->n - 1].end = t->end;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        lode_span *v = lode_realloc(m->spans, cap * sizeof *v);
        if (!v) return m->rc = LODE_ENOMEM;
        m->spans = v;
        m->cap = cap;
    }
    m->spans[m->n].start = t->start;
    m->spans[m->n].end = t->end;
    m->n++;
    return 0;
}

static int highlight(snippet *sn, analyzer *a, const query_terms *q, const occ_list *o, uint32_t first_token,
                     lode_error *err) {
    mark_ctx m = {q, o, NULL, 0, 0, 0, 0, 0};
    int rc = analyze_text(a, sn->text, sn->length, first_token, on_mark, &m);
    if (!rc && m.n == 0) {
        /* positions can disagree when a passage boundary split a CJK run:
         * then mark the query's terms wherever they occur */
        m.by_term = 1;
        rc = analyze_text(a, sn->text, sn->length, first_token, on_mark, &m);
    }
    if (rc) {
        lode_free(m.spans);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    sn->spans = m.spans;
    sn->span_count = m.n;
    return 0;
}

int snippets_for_doc(segment *s, uint32_t doc, const doc_record *d, const doc_info *info, analyzer *a,
                     const query_terms *q, size_t max, snippet **out, size_t *count, lode_error *err) {
    *out = NULL;
    *count = 0;
    uint32_t np = info->passage_count;
    if (np == 0 || max == 0) return 0;
    occ_list o = {NULL, 0, 0};
    passage_record *pr = lode_malloc((size_t)np * sizeof *pr);
    passage_score *ps = lode_calloc(np, sizeof *ps);
    uint64_t *masks = lode_calloc(np, sizeof *masks);
    uint32_t *hits = lode_calloc(np, sizeof *hits);
    snippet *sn = NULL;
    lode_buf text;
    buf_init(&text);
    int rc = 0;
    if (!pr || !ps || !masks || !hits) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    rc = doc_info_passages(s, info, pr, err);
    if (!rc) rc = gather(s, doc, q, &o, err);
    if (rc) goto done;
    for (uint32_t i = 0; i < np; i++) ps[i].index = i;
    for (size_t k = 0; k < o.n; k++) {
        uint32_t pos = (uint32_t)(o.v[k] >> 32), t = (uint32_t)o.v[k];
        /* the passage holding a position: the last one starting at or before it */
        uint32_t lo = 0, hi = np;
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (pr[mid].first_token <= pos)
                lo = mid;
            else
                hi = mid;
        }
        uint64_t bit = 1ull << (t % 64);
        if (!(masks[lo] & bit)) ps[lo].cover += q->v[t].idf + 1e-9;
        masks[lo] |= bit;
        hits[lo]++;
    }
    for (uint32_t i = 0; i < np; i++) {
        uint32_t end = i + 1 < np ? pr[i + 1].first_token : d->token_count;
        double tokens = end > pr[i].first_token ? (double)(end - pr[i].first_token) : 0;
        if (tokens < DENSITY_SMOOTHING) tokens = DENSITY_SMOOTHING;
        ps[i].density = hits[i] / tokens;
    }
    qsort(ps, np, sizeof *ps, cmp_passage);
    if (max > np) max = np;
    sn = lode_calloc(max, sizeof *sn);
    if (!sn) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    size_t made = 0;
    for (size_t i = 0; i < max && !rc; i++) {
        const passage_record *p = &pr[ps[i].index];
        /* beyond the first, only passages that match something are worth showing */
        if (i > 0 && ps[i].cover == 0) break;
        rc = segment_text(s, d, p->offset, p->length, &text, err);
        if (rc) break;
        snippet *x = &sn[made];
        x->offset = p->offset;
        x->line = p->line;
        x->length = text.len;
        x->text = lode_strndup((const char *)text.data, text.len);
        if (!x->text) {
            rc = lode_fail(err, LODE_ENOMEM, "out of memory");
            break;
        }
        made++;
        rc = highlight(x, a, q, &o, p->first_token, err);
    }
    if (!rc) {
        *out = sn;
        *count = made;
        sn = NULL;
    } else {
        snippets_free(sn, made);
        sn = NULL;
    }
done:
    snippets_free(sn, 0);
    lode_free(pr);
    lode_free(ps);
    lode_free(masks);
    lode_free(hits);
    lode_free(o.v);
    buf_free(&text);
    return rc;
}
