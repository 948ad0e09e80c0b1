/*
 * expand.c - pseudo-relevance feedback: the query is expanded with words of
 * its own best documents, RM3-style (Lavrenko and Croft, SIGIR 2001;
 * Abdul-Jaleel et al., UMass at TREC 2004). Called by search.c in place of
 * query_top_k when expansion is on (the default; docs/RANKING.md has the
 * measurements behind every choice below).
 *
 * 1. Rank the query as usual and take the best R documents (the feedback
 *    documents), each weighted by its share of their total score (as
 *    Anserini does with BM25 scores).
 * 2. Re-analyse their stored text with the index's analyzer (there is no
 *    forward index; the first FEEDBACK_TEXT_BYTES of a document say what
 *    it is about, and bound the cost) and estimate the relevance model
 *        P(w|R) = sum over feedback documents D of  weight(D) * tf(w,D) / |D|
 * 3. Choose E terms by P(w|R) * idf(w) (Roy, Bhatia and Mitra, SIGIR 2019:
 *    a word probable in every document, like "the", is not what the
 *    feedback documents are about; idf says so for any collection, where a
 *    fixed document-frequency cut-off would not), among the words of at
 *    least two feedback documents (Terrier's expansion.mindocuments: a word
 *    of one document is that document's, not the topic's) and the query's
 *    own words. Never a word the query excludes.
 * 4. Rank again: the original query weighted lambda, the chosen terms
 *    1 - lambda in proportion to P(w|R), each scored by BM25 like a query
 *    word:
 *        score(d) = S_query(d) + |q| (1 - lambda) / lambda * sum_w P'(w|R) bm25(w, d)
 *    S_query is the query's own score, |q| its number of words, P' the
 *    model normalised over the chosen terms: RM3's mixture
 *    lambda * q/|q| + (1 - lambda) * P'(.|R), scaled by |q| / lambda so
 *    that a document's score reads as its BM25 score plus a feedback bonus.
 *    A query word chosen again weighs more (RM3's query re-weighting).
 *
 * The expansion re-ranks the documents the query matches and never adds
 * one: the query's own tree stays a required clause (a query of plain words
 * runs the expansion terms as MaxScore probes that only score documents a
 * query word selected). So the documents found, their count under
 * LODE_SEARCH_ALL_WORDS, NOT and path: filters, are those of the query as
 * typed; only the order changes. The bound query is not modified either:
 * passages and highlights come from the user's words only.
 */
#include <math.h>
#include <stdlib.h>

#include "searcher.h"

/* Bytes of a feedback document analysed, some 600 words: its title and
 * opening say what it is about, and re-analysis (stemming every word, with
 * inflating the stored text the larger part of the cost of expansion)
 * stays bounded whatever the size of the documents. 16 KiB cost twice as
 * much on a corpus of long files (docs/RANKING.md); Cranfield's abstracts
 * are shorter than either. */
#define FEEDBACK_TEXT_BYTES (4u << 10)

/* A term must occur in this many feedback documents to be chosen (fewer
 * when there are fewer feedback documents). */
#define FEEDBACK_MIN_DOCS 2

/* --- the relevance model: a hash table of the feedback documents' terms ---- */

typedef struct fb_entry {
    uint64_t hash;
    uint32_t off, len;   /* the term: bytes [off, off+len) of fb_model.bytes */
    uint32_t stamp;      /* the feedback document that last counted it, 1-based */
    uint32_t docs;       /* feedback documents holding it */
    uint32_t tf;         /* occurrences in the current document */
    double p;            /* P(w|R) */
} fb_entry;

typedef struct fb_model {
    fb_entry *v;         /* owned, n used */
    uint32_t n, cap;
    uint32_t *slots;     /* entry index + 1, 0 empty; owned; slot_cap a power of two */
    uint32_t slot_cap;
    lode_buf bytes;      /* the terms */
    uint32_t *touched;   /* entries met in the current document; owned */
    uint32_t ntouched, captouched;
    uint32_t stamp;      /* the current document, 1-based */
    uint32_t tokens;     /* tokens of the current document */
} fb_model;

static void fb_free(fb_model *m) {
    lode_free(m->v);
    lode_free(m->slots);
    lode_free(m->touched);
    buf_free(&m->bytes);
}

static int fb_rehash(fb_model *m) {
    uint32_t cap = m->slot_cap ? m->slot_cap * 2 : 1024;
    uint32_t *s = lode_calloc(cap, sizeof *s);
    if (!s) return LODE_ENOMEM;
    for (uint32_t i = 0; i < m->n; i++) {
        uint32_t k = (uint32_t)m->v[i].hash & (cap - 1);
        while (s[k]) k = (k + 1) & (cap - 1);
        s[k] = i + 1;
    }
    lode_free(m->slots);
    m->slots = s;
    m->slot_cap = cap;
    return 0;
}

static int grow_u32(uint32_t **v, uint32_t *cap, uint32_t need) {
    if (need <= *cap) return 0;
    uint32_t c = *cap ? *cap * 2 : 256;
    uint32_t *p = lode_realloc(*v, c * sizeof *p);
    if (!p) return LODE_ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

static int on_feedback_token(void *ctx, const token *t) {
    fb_model *m = ctx;
    if ((m->n + 1) * 2 > m->slot_cap && fb_rehash(m)) return LODE_ENOMEM;
    uint64_t h = lode_hash64(t->term, t->term_len, 0);
    uint32_t k = (uint32_t)h & (m->slot_cap - 1);
    fb_entry *e = NULL;
    for (; m->slots[k]; k = (k + 1) & (m->slot_cap - 1)) {
        fb_entry *c = &m->v[m->slots[k] - 1];
        if (c->hash == h && c->len == t->term_len && memcmp(m->bytes.data + c->off, t->term, t->term_len) == 0) {
            e = c;
            break;
        }
    }
    if (!e) {
        if (m->n == m->cap) {
            uint32_t cap = m->cap ? m->cap * 2 : 512;
            fb_entry *v = lode_realloc(m->v, cap * sizeof *v);
            if (!v) return LODE_ENOMEM;
            m->v = v;
            m->cap = cap;
        }
        e = &m->v[m->n];
        *e = (fb_entry){h, (uint32_t)m->bytes.len, t->term_len, 0, 0, 0, 0};
        buf_append(&m->bytes, t->term, t->term_len);
        if (m->bytes.rc) return LODE_ENOMEM;
        m->slots[k] = ++m->n;
    }
    if (e->stamp != m->stamp) {
        if (grow_u32(&m->touched, &m->captouched, m->ntouched + 1)) return LODE_ENOMEM;
        m->touched[m->ntouched++] = (uint32_t)(e - m->v);
        e->stamp = m->stamp;
        e->tf = 0;
        e->docs++;
    }
    e->tf++;
    m->tokens++;
    return 0;
}

/* Add feedback document `doc` of segment `s`, of weight `dw`, to the model. */
static int fb_add_doc(fb_model *m, analyzer *a, text_reader *tr, segment *s, uint32_t doc, double dw,
                      lode_buf *text, lode_error *err) {
    doc_record d;
    int rc = segment_doc(s, doc, &d, err);
    if (rc) return rc;
    uint64_t len = d.size < FEEDBACK_TEXT_BYTES ? d.size : FEEDBACK_TEXT_BYTES;
    if ((rc = segment_text_read(tr, s, &d, 0, len, text, err))) return rc;
    if (len < d.size) {
        /* end at a space rather than in a word, which would count as another */
        size_t end = text->len;
        while (end > 0 && text->len - end < 64 && text->data[end - 1] != ' ' && text->data[end - 1] != '\n') end--;
        if (end > 0 && text->len - end < 64) text->len = end;
    }
    m->stamp++;
    m->ntouched = 0;
    m->tokens = 0;
    if (analyze_text(a, (const char *)text->data, text->len, 0, on_feedback_token, m))
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < m->ntouched; i++) {
        fb_entry *e = &m->v[m->touched[i]];
        e->p += dw * (double)e->tf / (double)m->tokens;
    }
    return 0;
}

/* --- choosing the expansion terms ------------------------------------------ */

typedef struct candidate {
    double key;          /* what they are chosen by: P(w|R) * idf */
    double p;            /* P(w|R) */
    const uint8_t *term; /* into fb_model.bytes */
    uint32_t len;
    int64_t query_term;  /* index in the bound query's terms, or -1 */
    uint64_t df;
} candidate;

static int cmp_candidate(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? 1 : -1;
    /* equal keys: by the term's bytes, so that answers never depend on hash order */
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Which terms the query scores (role 1) or excludes (role 2), and how many
 * words it scores (|q|). */
static void mark_terms(const bnode *n, int negated, uint8_t *role, double *words) {
    negated |= n->occur == QO_MUST_NOT;
    if (n->kind == B_LEAF) {
        for (uint32_t i = 0; i < n->slot_count; i++)
            for (uint32_t k = 0; k < n->slots[i].term_count; k++) role[n->slots[i].terms[k]] |= negated ? 2 : 1;
        if (!negated) *words += n->slot_count;
        return;
    }
    for (uint32_t i = 0; i < n->kid_count; i++) mark_terms(n->kids[i], negated, role, words);
}

/* The plain (not prefix-expanded) query term `term`, or -1; *excluded when
 * the query excludes the term (also through a prefix: -magn*). */
static int64_t find_query_term(const bound_query *b, const uint8_t *role, const uint8_t *term, uint32_t len,
                               int *excluded) {
    int64_t found = -1;
    *excluded = 0;
    for (uint32_t t = 0; t < b->term_count; t++)
        if (b->terms[t].len == len && memcmp(b->terms[t].term, term, len) == 0) {
            if (role[t] & 2) *excluded = 1;
            if (!b->terms[t].prefix) found = t;
        }
    return found;
}

static int lookup_df(lode_index *ix, const char *term, uint32_t len, term_info *in_seg, uint64_t *df,
                     lode_error *err) {
    *df = 0;
    for (uint32_t s = 0; s < ix->seg_count; s++) {
        term_info ti;
        int found;
        int rc = segment_lookup(ix->segs[s], term, len, &ti, &found, err);
        if (rc) return rc;
        if (!found) ti.df = 0;
        if (in_seg) in_seg[s] = ti;
        *df += ti.df;
    }
    return 0;
}

/* --- the expanded query ------------------------------------------------------ */

/* Built around the bound query without copying it: the terms table starts
 * with the original's terms (borrowed), and the root is a new BOOL whose
 * first kid is a shallow copy of the original root, required. */
typedef struct expanded {
    bound_query q;
    uint32_t borrowed;   /* terms [0, borrowed) are the original's */
    bnode *copy;         /* owned (not what it points to) */
} expanded;

static void expanded_free(expanded *x) {
    for (uint32_t i = x->borrowed; i < x->q.term_count; i++) {
        lode_free(x->q.terms[i].term);
        lode_free(x->q.terms[i].in_seg);
    }
    lode_free(x->q.terms);
    if (x->q.root) {
        for (uint32_t i = 1; i < x->q.root->kid_count; i++) {
            bnode *k = x->q.root->kids[i];
            lode_free(k->slots[0].terms);
            lode_free(k->slots);
            lode_free(k);
        }
        lode_free(x->q.root->kids);
        lode_free(x->q.root);
    }
    lode_free(x->copy);
}

/* Add a new term to the expanded query's table; its index in *t. */
static int add_term(expanded *x, lode_index *ix, const candidate *c, uint32_t *t, lode_error *err) {
    qterm *q = &x->q.terms[x->q.term_count];
    memset(q, 0, sizeof *q);
    q->term = lode_strndup((const char *)c->term, c->len);
    q->len = c->len;
    q->in_seg = lode_calloc(ix->seg_count ? ix->seg_count : 1, sizeof *q->in_seg);
    int rc = q->term && q->in_seg ? 0 : lode_fail(err, LODE_ENOMEM, "out of memory");
    if (!rc) rc = lookup_df(ix, q->term, q->len, q->in_seg, &q->df, err);
    if (rc) {
        lode_free(q->term);
        lode_free(q->in_seg);
        return rc;
    }
    *t = x->q.term_count++;
    return 0;
}

/* A one-word leaf for term `t` of weight `w`, added to the root. */
static int add_leaf(expanded *x, uint32_t t, double w, lode_error *err) {
    bnode *n = lode_calloc(1, sizeof *n);
    bslot *slot = lode_calloc(1, sizeof *slot);
    uint32_t *terms = lode_malloc(sizeof *terms);
    if (!n || !slot || !terms) {
        lode_free(n);
        lode_free(slot);
        lode_free(terms);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    terms[0] = t;
    *slot = (bslot){terms, 1, 0};
    n->kind = B_LEAF;
    n->occur = QO_SHOULD;
    n->field = QF_ANY;
    n->slots = slot;
    n->slot_count = 1;
    n->span = 1;
    n->weight = w;
    x->q.root->kids[x->q.root->kid_count++] = n;
    return 0;
}

/* A query of plain words, any of them, and excluded words: the shape that
 * MaxScore ranks (query_eval.c's flat_shape, less the all-words case). */
static int flat_any(const bnode *root) {
    if (root->field != QF_ANY) return 0;
    const bnode *const *kids = root->kind == B_BOOL ? (const bnode *const *)root->kids : &root;
    uint32_t n = root->kind == B_BOOL ? root->kid_count : 1, should = 0;
    for (uint32_t i = 0; i < n; i++) {
        const bnode *c = kids[i];
        if (c->kind != B_LEAF || c->slot_count != 1 || c->slots[0].term_count != 1 || c->field != QF_ANY ||
            c->occur == QO_MUST)
            return 0;
        should += c->occur == QO_SHOULD;
    }
    return should > 0;
}

/* Top-k of a flat query, the expansion terms (term[i] of `q`, weight w[i])
 * as MaxScore probes. A chosen query word adds to that word's weight, as a
 * word typed twice does (query_eval.c's rank_flat_query). */
static int flat_expanded(lode_index *ix, const rank_ctx *rx, const bound_query *b, const bound_query *q,
                         const uint32_t *term, const double *w, uint32_t chosen, size_t k, scored_doc **out,
                         size_t *count, lode_error *err) {
    const bnode *root = b->root;
    const bnode *const *kids = root->kind == B_BOOL ? (const bnode *const *)root->kids : &root;
    uint32_t n = root->kind == B_BOOL ? root->kid_count : 1;
    flat_term *pos = lode_calloc(n, sizeof *pos), *neg = lode_calloc(n, sizeof *neg);
    flat_term *probe = lode_calloc(chosen ? chosen : 1, sizeof *probe);
    uint32_t np = 0, nn = 0, nprobe = 0;
    topk h = {NULL, 0, 0};
    int rc = pos && neg && probe && !topk_init(&h, k) ? 0 : lode_fail(err, LODE_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < n; i++) {
        const qterm *t = &b->terms[kids[i]->slots[0].terms[0]];
        flat_term *list = kids[i]->occur == QO_MUST_NOT ? neg : pos;
        uint32_t *cnt = kids[i]->occur == QO_MUST_NOT ? &nn : &np;
        uint32_t j = 0;
        while (j < *cnt && list[j].in_seg != t->in_seg) j++;
        if (j == *cnt) list[(*cnt)++] = (flat_term){t->in_seg, 0};
        list[j].weight += kids[i]->weight;
    }
    for (uint32_t i = 0; !rc && i < chosen; i++) {
        const term_info *in_seg = q->terms[term[i]].in_seg;
        uint32_t j = 0;
        while (j < np && pos[j].in_seg != in_seg) j++;
        if (j < np) pos[j].weight += w[i];
        else probe[nprobe++] = (flat_term){in_seg, w[i]};
    }
    if (!rc) rc = rank_flat_probed(ix, rx, pos, np, probe, nprobe, neg, nn, &h, err);
    if (!rc) topk_finish(&h, out, count);
    topk_free(&h);
    lode_free(pos);
    lode_free(neg);
    lode_free(probe);
    return rc;
}

int expand_top_k(lode_index *ix, analyzer *a, text_reader *tr, const bound_query *b, const rank_ctx *rx,
                 const expand_params *p, size_t k, scored_doc **out, size_t *count, lode_error *err) {
    *out = NULL;
    *count = 0;
    if (k > ix->docs) k = (size_t)ix->docs;
    uint8_t *role = lode_calloc(b->term_count ? b->term_count : 1, 1);
    if (!role) return lode_fail(err, LODE_ENOMEM, "out of memory");
    double words = 0;
    mark_terms(b->root, 0, role, &words);
    double lambda = p->query_weight;
    if (words == 0 || p->docs == 0 || p->terms == 0 || !(lambda > 0 && lambda < 1) || k == 0) {
        lode_free(role);
        return query_top_k(ix, b, rx, k, out, count, err);
    }

    scored_doc *fb = NULL;
    size_t nfb = 0;
    fb_model m;
    memset(&m, 0, sizeof m);
    buf_init(&m.bytes);
    lode_buf text;
    buf_init(&text);
    candidate *cand = NULL;
    uint32_t ncand = 0, chosen = 0, *term = NULL;
    double *w = NULL;
    expanded x;
    memset(&x, 0, sizeof x);

    /* 1 and 2: the feedback documents and the relevance model */
    int rc = query_top_k(ix, b, rx, p->docs, &fb, &nfb, err);
    double total = 0;
    for (size_t i = 0; i < nfb; i++) total += fb[i].score;
    for (size_t i = 0; i < nfb && !rc; i++)
        rc = fb_add_doc(&m, a, tr, ix->segs[fb[i].seg], fb[i].doc,
                        total > 0 ? fb[i].score / total : 1.0 / (double)nfb, &text, err);
    if (rc || nfb == 0) goto done;

    /* 3: the candidates by P(w|R), then the best E by P(w|R) * idf. A
     * term's idf is at most idf(1): once P(w|R) * idf(1) cannot beat the
     * E-th best, no later candidate can, and their document frequencies
     * need not be looked up. */
    uint32_t min_docs = nfb < FEEDBACK_MIN_DOCS ? (uint32_t)nfb : FEEDBACK_MIN_DOCS;
    if (!(cand = lode_malloc((m.n ? m.n : 1) * sizeof *cand))) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < m.n; i++) {
        const fb_entry *e = &m.v[i];
        candidate c = {e->p, e->p, m.bytes.data + e->off, e->len, -1, 0};
        int excluded;
        c.query_term = find_query_term(b, role, c.term, c.len, &excluded);
        if (excluded) continue;
        if (c.query_term < 0 && e->docs < min_docs) continue;
        cand[ncand++] = c;
    }
    qsort(cand, ncand, sizeof *cand, cmp_candidate);
    double idf_max = rank_idf(rx, 1);
    uint32_t best = 0; /* cand[0, best) are the best so far, by key */
    for (uint32_t i = 0; i < ncand && !rc; i++) {
        candidate c = cand[i];
        if (best == p->terms && c.p * idf_max < cand[best - 1].key) break;
        if (c.query_term >= 0) c.df = b->terms[c.query_term].df;
        else if ((rc = lookup_df(ix, (const char *)c.term, c.len, NULL, &c.df, err))) break;
        if (c.df == 0) continue; /* not in the index: cannot score */
        c.key = c.p * rank_idf(rx, c.df);
        /* insert into the best E (i >= best: nothing needed is overwritten) */
        uint32_t j = best < p->terms ? best++ : best;
        if (j == p->terms) {
            if (cmp_candidate(&c, &cand[j - 1]) >= 0) continue;
            j--;
        }
        while (j > 0 && cmp_candidate(&c, &cand[j - 1]) < 0) {
            cand[j] = cand[j - 1];
            j--;
        }
        cand[j] = c;
    }
    if (rc) goto done;
    ncand = best;

    /* 4: the expanded query */
    x.q.terms = lode_malloc((b->term_count + ncand) * sizeof *x.q.terms);
    x.q.root = lode_calloc(1, sizeof *x.q.root);
    x.copy = lode_malloc(sizeof *x.copy);
    term = lode_malloc((ncand ? ncand : 1) * sizeof *term);
    w = lode_malloc((ncand ? ncand : 1) * sizeof *w);
    if (x.q.root) x.q.root->kids = lode_malloc((1 + ncand) * sizeof *x.q.root->kids);
    if (!x.q.terms || !x.q.root || !x.copy || !term || !w || !x.q.root->kids) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(x.q.terms, b->terms, b->term_count * sizeof *x.q.terms);
    x.q.term_count = x.borrowed = b->term_count;
    *x.copy = *b->root;
    x.copy->occur = QO_MUST;
    x.q.root->kind = B_BOOL;
    x.q.root->occur = QO_SHOULD;
    x.q.root->field = QF_ANY;
    x.q.root->kids[x.q.root->kid_count++] = x.copy;
    double sum = 0;
    for (uint32_t i = 0; i < ncand; i++) sum += cand[i].p;
    for (uint32_t i = 0; i < ncand && !rc; i++) {
        const candidate *c = &cand[i];
        if (c->query_term >= 0) term[chosen] = (uint32_t)c->query_term;
        else if ((rc = add_term(&x, ix, c, &term[chosen], err))) break;
        w[chosen++] = words * (1 - lambda) / lambda * (c->p / sum) * rank_idf(rx, c->df);
    }
    if (rc) goto done;

    /* 5: rank again */
    if (chosen && flat_any(b->root)) {
        rc = flat_expanded(ix, rx, b, &x.q, term, w, chosen, k, out, count, err);
    } else {
        for (uint32_t i = 0; i < chosen && !rc; i++) rc = add_leaf(&x, term[i], w[i], err);
        if (!rc) rc = query_top_k(ix, chosen ? &x.q : b, rx, k, out, count, err);
    }
done:
    expanded_free(&x);
    lode_free(term);
    lode_free(w);
    lode_free(cand);
    buf_free(&text);
    fb_free(&m);
    lode_free(fb);
    lode_free(role);
    return rc;
}
