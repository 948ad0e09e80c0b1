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
 * tokens from the passage's first token: a token is marked when the query
 * matched that term at that position (query_matches: the words of a matched
 * phrase, not every occurrence of them; for a prefix, only words that start
 * with it). So the marks land on exactly the original bytes (accents and
 * case as written), and only on what matched.
 *
 * For a grep-style listing (LODE_SEARCH_ALL_PASSAGES) every passage holding
 * a match is returned instead, in document order and without ranking.
 */
#include <stdlib.h>

#include "searcher.h"

/* Passages shorter than this many tokens are scored as if this long: a
 * heading should not win on density alone. */
#define DENSITY_SMOOTHING 12.0
/* The title is printed above the passage already: a passage that is only
 * the title line counts this fraction of what it covers, so a body passage
 * with as many of the words is shown instead. */
#define TITLE_PASSAGE_FACTOR 0.5
/* A passage of fewer tokens than this on one line is a heading ("Recommended
 * Dosage"): it is shown together with the passage that follows, which is
 * what answers it. */
#define HEADING_TOKENS 8

void snippets_free(snippet *v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        lode_free(v[i].text);
        lode_free(v[i].spans);
    }
    lode_free(v);
}

typedef struct passage_score {
    double cover;
    double density;
    uint32_t index;
} passage_score;

/* Up to this many passages per document are chosen by selection (one scan
 * of the candidates each, plus one per heading passed over) rather than a
 * sort of all of them. */
#define LAZY_CHOICE_MAX 8

static int cmp_passage(const void *a, const void *b) {
    const passage_score *x = a, *y = b;
    if (x->cover != y->cover) return x->cover < y->cover ? 1 : -1;
    if (x->density != y->density) return x->density < y->density ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

typedef struct mark_ctx {
    const bound_query *b;
    const match *m;
    size_t nm;
    lode_span *spans;
    size_t n, cap;
    int by_term;   /* fallback: mark every matched term, whatever its position */
    int rc;
} mark_ctx;

static int term_fits(const qterm *q, const token *t) {
    if (q->len != t->term_len || memcmp(q->term, t->term, t->term_len) != 0) return 0;
    /* a prefix match marks only words that really start with the prefix */
    return !q->prefix || (t->word_len >= q->prefix_len && memcmp(t->word, q->prefix, q->prefix_len) == 0);
}

static int is_match(const mark_ctx *c, const token *t) {
    if (c->by_term) {
        for (size_t i = 0; i < c->nm; i++)
            if (term_fits(&c->b->terms[c->m[i].term], t)) return 1;
        return 0;
    }
    size_t lo = 0, hi = c->nm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->m[mid].pos < t->position)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < c->nm && c->m[lo].pos == t->position; lo++)
        if (term_fits(&c->b->terms[c->m[lo].term], t)) return 1;
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

static int highlight(snippet *sn, analyzer *a, const bound_query *b, const match *m, size_t nm,
                     uint32_t first_token, lode_error *err) {
    mark_ctx c = {b, m, nm, NULL, 0, 0, 0, 0};
    int rc = analyze_text(a, sn->text, sn->length, first_token, on_mark, &c);
    if (!rc && c.n == 0) {
        /* positions can disagree when a passage boundary split a CJK run:
         * then mark the matched terms wherever they occur */
        c.by_term = 1;
        rc = analyze_text(a, sn->text, sn->length, first_token, on_mark, &c);
    }
    if (rc) {
        lode_free(c.spans);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    sn->spans = c.spans;
    sn->span_count = c.n;
    return 0;
}

/* The token after passage i's last: where the next passage starts. */
static uint32_t passage_end_token(const passage_record *pr, uint32_t np, uint32_t i, const doc_record *d) {
    return i + 1 < np ? pr[i + 1].first_token : d->token_count;
}

int snippets_for_doc(segment *s, const doc_record *d, const doc_info *info, analyzer *a, const bound_query *b,
                     const match *m, size_t nm, size_t max, int all, text_reader *tr, snippet **out,
                     size_t *count, lode_error *err) {
    *out = NULL;
    *count = 0;
    uint32_t np = info->passage_count;
    if (np == 0 || (max == 0 && !all)) return 0;
    passage_record *pr = lode_malloc((size_t)np * sizeof *pr);
    passage_score *ps = lode_calloc(np, sizeof *ps);
    uint32_t *seen = lode_calloc(b->group_count ? b->group_count : 1, sizeof *seen);
    uint32_t *hits = lode_calloc(np, sizeof *hits);
    uint8_t *shown = lode_calloc(np, 1); /* per passage: already in a snippet */
    snippet *sn = NULL;
    lode_buf text;
    buf_init(&text);
    int rc = 0;
    if (!pr || !ps || !seen || !hits || !shown) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    rc = doc_info_passages(s, info, pr, err);
    if (rc) goto done;
    for (uint32_t i = 0; i < np; i++) ps[i].index = i;
    uint32_t at = 0; /* matches come sorted by position, so passages only move forward */
    for (size_t k = 0; k < nm; k++) {
        while (at + 1 < np && pr[at + 1].first_token <= m[k].pos) at++;
        /* each query word counts once per passage, by its idf */
        if (seen[m[k].group] != at + 1) {
            seen[m[k].group] = at + 1;
            ps[at].cover += b->group_weight[m[k].group] + 1e-9;
        }
        hits[at]++;
    }
    for (uint32_t i = 0; i < np; i++) {
        uint32_t end = passage_end_token(pr, np, i, d);
        double tokens = end > pr[i].first_token ? (double)(end - pr[i].first_token) : 0;
        if (tokens < DENSITY_SMOOTHING) tokens = DENSITY_SMOOTHING;
        ps[i].density = hits[i] / tokens;
    }
    size_t candidates = np;
    int lazy = 0;
    if (all) {
        /* grep-style listing: every passage with a match, in document order
         * (ps[] is still in passage order, and kept <= i keeps the copy safe) */
        size_t kept = 0;
        for (uint32_t i = 0; i < np; i++)
            if (hits[i]) ps[kept++] = ps[i];
        max = candidates = kept;
    } else {
        if (d->title_token_count && passage_end_token(pr, np, 0, d) <= d->title_token_count)
            ps[0].cover *= TITLE_PASSAGE_FACTOR;
        /* a few passages are wanted from documents of thousands: choose
         * them one at a time below instead of sorting them all */
        lazy = max <= LAZY_CHOICE_MAX;
        if (!lazy) qsort(ps, np, sizeof *ps, cmp_passage);
        if (max > np) max = np;
    }
    sn = lode_calloc(max, sizeof *sn);
    if (!sn) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    size_t made = 0;
    for (size_t i = 0; i < candidates && made < max && !rc; i++) {
        if (lazy) {
            size_t best = i;
            for (size_t j = i + 1; j < candidates; j++)
                if (cmp_passage(&ps[j], &ps[best]) < 0) best = j;
            passage_score t = ps[i];
            ps[i] = ps[best];
            ps[best] = t;
        }
        const passage_record *p = &pr[ps[i].index];
        /* beyond the first, only passages that match something are worth showing */
        if (made > 0 && ps[i].cover == 0) break;
        uint64_t length = p->length;
        uint32_t idx = ps[i].index;
        /* a paragraph already shown under its heading is not shown again */
        if (shown[idx]) continue;
        shown[idx] = 1;
        if (!all && idx + 1 < np && !shown[idx + 1] &&
            passage_end_token(pr, np, idx, d) - p->first_token < HEADING_TOKENS) {
            /* a heading: check that it is one line, then take what follows.
             * Not when listing every match: the paragraph after the heading
             * is listed on its own when it matches, and would be shown twice */
            rc = segment_text_read(tr, s, d, p->offset, p->length, &text, err);
            if (rc) break;
            if (!memchr(text.data, '\n', text.len) && !memchr(text.data, '\r', text.len)) {
                length = (uint64_t)pr[idx + 1].offset + pr[idx + 1].length - p->offset;
                shown[idx + 1] = 1;
            }
        }
        rc = segment_text_read(tr, s, d, p->offset, length, &text, err);
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
        rc = highlight(x, a, b, m, nm, p->first_token, err);
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
    lode_free(seen);
    lode_free(hits);
    lode_free(shown);
    buf_free(&text);
    return rc;
}
