/*
 * query_eval.c - binds a parsed query tree to an index and evaluates it.
 * Called by search.c: query_bind once per search, then query_top_k for the
 * ranked documents and query_matches for each document shown.
 *
 * Binding analyses every leaf exactly like document text (so "Muscle
 * cramps" finds "muscle cramp"), expands prefixes through the VOCAB section
 * (every indexed word with its stem), and sums each term's document
 * frequency over the segments.
 *
 * Evaluation is document at a time over iterators, one per tree node, each
 * answering "the first matching document >= target":
 *   word      the union of its slot's postings (several for a prefix)
 *   phrase    the intersection of its words, led by whichever is furthest
 *             ahead (so the rarest word sets the pace), then positions checked
 *   NEAR      the intersection of its items, then a window check on positions
 *   BOOL      MUST kids intersected, SHOULD kids united (or only scored when a
 *             MUST exists), MUST_NOT kids probed at each candidate
 *   path:     a filter checked at each candidate; a scan only when nothing
 *             else restricts the query
 * Nothing walks all documents unless the query is only path: filters.
 * Queries of plain words without operators take the MaxScore path of rank.c.
 */
#include <fnmatch.h>
#include <stdlib.h>

#include "searcher.h"

/* --- binding -------------------------------------------------------------- */

static void bnode_free(bnode *n) {
    if (!n) return;
    for (uint32_t i = 0; i < n->slot_count; i++) lode_free(n->slots[i].terms);
    lode_free(n->slots);
    for (uint32_t i = 0; i < n->kid_count; i++) bnode_free(n->kids[i]);
    lode_free(n->kids);
    lode_free(n->glob);
    lode_free(n);
}

void bound_query_free(bound_query *b) {
    bnode_free(b->root);
    for (uint32_t i = 0; i < b->term_count; i++) {
        lode_free(b->terms[i].term);
        lode_free(b->terms[i].prefix);
        lode_free(b->terms[i].in_seg);
    }
    lode_free(b->terms);
    lode_free(b->group_weight);
    memset(b, 0, sizeof *b);
}

typedef struct binder {
    bound_query *b;
    lode_index *ix;
    analyzer *a;
    const rank_ctx *rx;
    lode_error *err;
    /* tokens of the leaf being analysed */
    struct btok {
        char *term;
        uint32_t term_len;
        char *word;
        uint32_t word_len;
        uint32_t position;
    } *toks;
    uint32_t ntoks, captoks;
    int rc;
} binder;

static int on_leaf_token(void *ctx, const token *t) {
    binder *bd = ctx;
    if (bd->ntoks >= LODE_MAX_QUERY_TERMS) return bd->rc = LODE_ELIMIT;
    if (bd->ntoks == bd->captoks) {
        uint32_t cap = bd->captoks ? bd->captoks * 2 : 8;
        struct btok *v = lode_realloc(bd->toks, cap * sizeof *v);
        if (!v) return bd->rc = LODE_ENOMEM;
        bd->toks = v;
        bd->captoks = cap;
    }
    struct btok *k = &bd->toks[bd->ntoks];
    k->term = lode_strndup(t->term, t->term_len);
    k->word = lode_strndup(t->word, t->word_len);
    if (!k->term || !k->word) {
        lode_free(k->term);
        lode_free(k->word);
        return bd->rc = LODE_ENOMEM;
    }
    k->term_len = t->term_len;
    k->word_len = t->word_len;
    k->position = t->position;
    bd->ntoks++;
    return 0;
}

static void clear_tokens(binder *bd) {
    for (uint32_t i = 0; i < bd->ntoks; i++) {
        lode_free(bd->toks[i].term);
        lode_free(bd->toks[i].word);
    }
    bd->ntoks = 0;
}

/* The index of (term, prefix) in the query's term table, added if new. */
static int64_t intern_term(binder *bd, const char *term, uint32_t len, const char *prefix, uint32_t prefix_len) {
    bound_query *b = bd->b;
    for (uint32_t i = 0; i < b->term_count; i++) {
        qterm *q = &b->terms[i];
        if (q->len == len && memcmp(q->term, term, len) == 0 && q->prefix_len == prefix_len &&
            (!prefix || memcmp(q->prefix, prefix, prefix_len) == 0))
            return i;
    }
    if (b->term_count >= LODE_MAX_QUERY_TERMS + LODE_MAX_PREFIX_TERMS) {
        bd->rc = lode_fail(bd->err, LODE_ELIMIT, "the query needs more than %d index terms",
                           LODE_MAX_QUERY_TERMS + LODE_MAX_PREFIX_TERMS);
        return -1;
    }
    qterm *v = lode_realloc(b->terms, (b->term_count + 1) * sizeof *v);
    if (!v) goto oom;
    b->terms = v;
    qterm *q = &v[b->term_count];
    memset(q, 0, sizeof *q);
    q->term = lode_strndup(term, len);
    q->len = len;
    if (prefix) {
        q->prefix = lode_strndup(prefix, prefix_len);
        q->prefix_len = prefix_len;
    }
    /* looked up once here; every iterator built later reuses it */
    q->in_seg = lode_calloc(bd->ix->seg_count ? bd->ix->seg_count : 1, sizeof *q->in_seg);
    if (!q->term || (prefix && !q->prefix) || !q->in_seg) {
        lode_free(q->term);
        lode_free(q->prefix);
        lode_free(q->in_seg);
        goto oom;
    }
    for (uint32_t s = 0; s < bd->ix->seg_count; s++) {
        int found;
        int rc = segment_lookup(bd->ix->segs[s], term, len, &q->in_seg[s], &found, bd->err);
        if (rc) {
            lode_free(q->term);
            lode_free(q->prefix);
            lode_free(q->in_seg);
            bd->rc = rc;
            return -1;
        }
        if (!found) q->in_seg[s].df = 0;
        q->df += q->in_seg[s].df;
    }
    return b->term_count++;
oom:
    bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
    return -1;
}

typedef struct expansion {
    binder *bd;
    char **stems;
    uint32_t *lens;
    uint32_t n, cap;
} expansion;

static int on_prefix_word(void *ctx, const char *word, size_t word_len, const char *term, size_t term_len) {
    (void)word;
    (void)word_len;
    expansion *e = ctx;
    for (uint32_t i = 0; i < e->n; i++)
        if (e->lens[i] == term_len && memcmp(e->stems[i], term, term_len) == 0) return 0;
    if (e->n >= LODE_MAX_PREFIX_TERMS) return LODE_ELIMIT;
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 16;
        char **s = lode_realloc(e->stems, cap * sizeof *s);
        if (!s) return LODE_ENOMEM;
        e->stems = s;
        uint32_t *l = lode_realloc(e->lens, cap * sizeof *l);
        if (!l) return LODE_ENOMEM;
        e->lens = l;
        e->cap = cap;
    }
    if (!(e->stems[e->n] = lode_strndup(term, term_len))) return LODE_ENOMEM;
    e->lens[e->n++] = (uint32_t)term_len;
    return 0;
}

static size_t utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) c++;
    return c;
}

/* Fill a slot with every stem of an indexed word starting with `prefix`. */
static int expand_prefix(binder *bd, bslot *slot, const char *prefix, uint32_t prefix_len, const char *typed) {
    if (utf8_chars(prefix, prefix_len) < LODE_MIN_PREFIX_CHARS)
        return bd->rc = lode_fail(bd->err, LODE_EINVAL,
                                  "prefix '%s*' is too short: a prefix needs at least %d characters, since a "
                                  "shorter one matches most of the vocabulary",
                                  typed, LODE_MIN_PREFIX_CHARS);
    expansion e = {bd, NULL, NULL, 0, 0};
    int rc = 0;
    for (uint32_t s = 0; s < bd->ix->seg_count && !rc; s++)
        rc = segment_prefix_words(bd->ix->segs[s], prefix, prefix_len, on_prefix_word, &e, bd->err);
    if (rc == LODE_ELIMIT)
        rc = lode_fail(bd->err, LODE_ELIMIT, "prefix '%s*' matches more than %d words: make it longer", typed,
                       LODE_MAX_PREFIX_TERMS);
    else if (rc == LODE_ENOMEM)
        rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
    if (!rc && e.n) {
        slot->terms = lode_malloc(e.n * sizeof *slot->terms);
        if (!slot->terms) rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; !rc && i < e.n; i++) {
        int64_t t = intern_term(bd, e.stems[i], e.lens[i], prefix, prefix_len);
        if (t < 0) rc = bd->rc;
        else slot->terms[slot->term_count++] = (uint32_t)t;
    }
    for (uint32_t i = 0; i < e.n; i++) lode_free(e.stems[i]);
    lode_free(e.stems);
    lode_free(e.lens);
    return bd->rc = rc;
}

static int new_group(binder *bd, double weight, uint32_t *group) {
    bound_query *b = bd->b;
    double *v = lode_realloc(b->group_weight, (b->group_count + 1) * sizeof *v);
    if (!v) return bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
    b->group_weight = v;
    v[b->group_count] = weight;
    *group = b->group_count++;
    return 0;
}

/* A word, phrase or prefix: its tokens become the slots of a leaf. NULL
 * with bd->rc == 0 when it analyses to nothing. */
static bnode *bind_leaf(binder *bd, const qnode *q, unsigned field) {
    clear_tokens(bd);
    int rc = analyze_text(bd->a, q->text, q->text_len, 0, on_leaf_token, bd);
    if (rc) {
        bd->rc = lode_fail(bd->err, rc == LODE_ELIMIT ? LODE_ELIMIT : LODE_ENOMEM,
                           rc == LODE_ELIMIT ? "a phrase has more than %d words" : "out of memory",
                           LODE_MAX_QUERY_TERMS);
        return NULL;
    }
    if (bd->ntoks == 0) return NULL;
    bnode *n = lode_calloc(1, sizeof *n);
    if (!n || !(n->slots = lode_calloc(bd->ntoks, sizeof *n->slots))) {
        lode_free(n);
        bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
        return NULL;
    }
    n->kind = B_LEAF;
    n->occur = q->occur;
    n->field = field;
    n->slot_count = bd->ntoks;
    uint32_t first = bd->toks[0].position;
    double weight = 0;
    for (uint32_t i = 0; i < bd->ntoks && !bd->rc; i++) {
        bslot *sl = &n->slots[i];
        sl->offset = bd->toks[i].position - first;
        if (q->kind == QK_PREFIX && i + 1 == bd->ntoks) {
            /* the last word is the prefix; earlier ones (from "5-HT*") are a phrase */
            if (expand_prefix(bd, sl, bd->toks[i].word, bd->toks[i].word_len, q->text)) break;
            uint64_t df = 0;
            for (uint32_t k = 0; k < sl->term_count; k++) df += bd->b->terms[sl->terms[k]].df;
            weight += rank_idf(bd->rx, df);
        } else {
            int64_t t = intern_term(bd, bd->toks[i].term, bd->toks[i].term_len, NULL, 0);
            if (t < 0) break;
            if (!(sl->terms = lode_malloc(sizeof *sl->terms))) {
                bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
                break;
            }
            sl->terms[0] = (uint32_t)t;
            sl->term_count = 1;
            weight += rank_idf(bd->rx, bd->b->terms[t].df);
        }
    }
    n->span = n->slots[n->slot_count - 1].offset + 1;
    n->weight = weight;
    if (!bd->rc && q->occur != QO_MUST_NOT) new_group(bd, weight, &n->group);
    if (bd->rc) {
        bnode_free(n);
        return NULL;
    }
    return n;
}

static bnode *bind_node(binder *bd, const qnode *q, unsigned field, int depth);

static int add_kid(binder *bd, bnode *n, bnode *kid) {
    bnode **v = lode_realloc(n->kids, (n->kid_count + 1) * sizeof *v);
    if (!v) {
        bnode_free(kid);
        return bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
    }
    n->kids = v;
    n->kids[n->kid_count++] = kid;
    return 0;
}

static bnode *bind_node(binder *bd, const qnode *q, unsigned field, int depth) {
    if (depth > LODE_MAX_QUERY_DEPTH) {
        bd->rc = lode_fail(bd->err, LODE_ELIMIT, "the query nests deeper than %d levels", LODE_MAX_QUERY_DEPTH);
        return NULL;
    }
    field |= q->field;
    if (q->kind == QK_WORD || q->kind == QK_PHRASE || q->kind == QK_PREFIX) return bind_leaf(bd, q, field);
    bnode *n = lode_calloc(1, sizeof *n);
    if (!n) {
        bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
        return NULL;
    }
    n->occur = q->occur;
    n->field = field;
    if (q->kind == QK_PATH) {
        n->kind = B_PATH;
        n->glob = lode_strndup(q->text, q->text_len);
        n->basename_only = memchr(q->text, '/', q->text_len) == NULL;
        if (!n->glob) {
            bd->rc = lode_fail(bd->err, LODE_ENOMEM, "out of memory");
            bnode_free(n);
            return NULL;
        }
        return n;
    }
    n->kind = q->kind == QK_NEAR ? B_NEAR : B_BOOL;
    n->distance = q->distance;
    for (uint32_t i = 0; i < q->kid_count && !bd->rc; i++) {
        bnode *k = bind_node(bd, q->kids[i], field, depth + 1);
        if (k) add_kid(bd, n, k);
    }
    if (bd->rc || n->kid_count == 0) {
        bnode_free(n);
        return NULL;
    }
    if (n->kind == B_NEAR) {
        for (uint32_t i = 0; i < n->kid_count; i++) n->weight += n->kids[i]->weight;
        if (n->kid_count == 1) { /* the other items had no words */
            bnode *only = n->kids[0];
            only->occur = n->occur;
            n->kid_count = 0;
            bnode_free(n);
            return only;
        }
    }
    return n;
}

/* Does the tree still ask for something, not only exclude? */
static int has_positive(const bnode *n) {
    if (n->occur == QO_MUST_NOT) return 0;
    if (n->kind != B_BOOL) return 1;
    for (uint32_t i = 0; i < n->kid_count; i++)
        if (has_positive(n->kids[i])) return 1;
    return 0;
}

int query_bind(bound_query *out, const qnode *q, lode_index *ix, analyzer *a, const rank_ctx *rx, lode_error *err) {
    memset(out, 0, sizeof *out);
    binder bd = {out, ix, a, rx, err, NULL, 0, 0, 0};
    out->root = bind_node(&bd, q, QF_ANY, 0);
    clear_tokens(&bd);
    lode_free(bd.toks);
    int rc = bd.rc;
    if (!rc && !out->root) rc = lode_fail(err, LODE_EINVAL, "the query has no words to search for");
    if (!rc && !has_positive(out->root))
        rc = lode_fail(err, LODE_EINVAL, "the query only excludes words; add a word to search for");
    if (rc) bound_query_free(out);
    return rc;
}

/* --- iterators ------------------------------------------------------------- */

/* Per-segment evaluation state shared by a tree's iterators. */
typedef struct eval {
    lode_index *ix;
    segment *seg;
    uint32_t seg_index;
    const bound_query *b;
    const rank_ctx *rx;
    lode_error *err;
    int rc;
    doc_lens lens;
    uint32_t len_doc;    /* memo of the last document's lengths */
    uint32_t len;
    uint32_t title_len;
    /* ranking a query that is one phrase: documents whose best possible
     * score cannot enter `top` are passed over without reading positions */
    const topk *top;
    const struct it *prune;
} eval;

typedef struct slot_it {
    postings *pc;        /* owned, one per term of the slot present in the segment */
    uint32_t *term;      /* the query term of each cursor */
    uint32_t n;
    uint32_t doc;
    uint64_t *pos;       /* position << 32 | term, at `doc` */
    uint32_t npos, cappos;
    uint32_t scan;       /* leaf_verify's cursor in pos */
} slot_it;

typedef struct it {
    const bnode *n;
    int started;
    uint32_t doc;        /* the current match (valid once started) */
    /* B_LEAF */
    slot_it *slots;
    uint32_t tf, ttf;    /* at doc */
    uint32_t *occ;       /* B_LEAF: start positions of the matches at doc, when asked */
    uint32_t nocc, capocc;
    int have_occ;
    /* B_NEAR, B_BOOL */
    struct it **kids;
    uint32_t nkids;
} it;

static int doc_lengths(eval *ev, uint32_t doc) {
    if (ev->len_doc == doc && doc != DOC_END) return 0;
    int rc = doc_lens_get(&ev->lens, doc, &ev->len, &ev->title_len, ev->err);
    if (rc) return ev->rc = rc;
    ev->len_doc = doc;
    return 0;
}

static void it_free(it *t) {
    if (!t) return;
    if (t->slots) {
        for (uint32_t i = 0; i < t->n->slot_count; i++) {
            lode_free(t->slots[i].pc);
            lode_free(t->slots[i].term);
            lode_free(t->slots[i].pos);
        }
        lode_free(t->slots);
    }
    lode_free(t->occ);
    for (uint32_t i = 0; i < t->nkids; i++) it_free(t->kids[i]);
    lode_free(t->kids);
    lode_free(t);
}

static it *it_build(eval *ev, const bnode *n) {
    it *t = lode_calloc(1, sizeof *t);
    if (!t) goto oom;
    t->n = n;
    if (n->kind == B_LEAF) {
        if (!(t->slots = lode_calloc(n->slot_count, sizeof *t->slots))) goto oom;
        for (uint32_t i = 0; i < n->slot_count; i++) {
            const bslot *sl = &n->slots[i];
            slot_it *si = &t->slots[i];
            si->pc = lode_calloc(sl->term_count ? sl->term_count : 1, sizeof *si->pc);
            si->term = lode_calloc(sl->term_count ? sl->term_count : 1, sizeof *si->term);
            if (!si->pc || !si->term) goto oom;
            for (uint32_t k = 0; k < sl->term_count; k++) {
                const term_info *ti = &ev->b->terms[sl->terms[k]].in_seg[ev->seg_index];
                if (ti->df == 0) continue;
                int rc = postings_open(&si->pc[si->n], ev->seg, ti, ev->err);
                if (rc) {
                    ev->rc = rc;
                    it_free(t);
                    return NULL;
                }
                si->term[si->n++] = sl->terms[k];
            }
        }
    } else if (n->kid_count) {
        if (!(t->kids = lode_calloc(n->kid_count, sizeof *t->kids))) goto oom;
        for (uint32_t i = 0; i < n->kid_count; i++) {
            t->kids[i] = it_build(ev, n->kids[i]);
            if (!t->kids[i]) {
                it_free(t);
                return NULL;
            }
            t->nkids++;
        }
    }
    return t;
oom:
    it_free(t);
    ev->rc = lode_fail(ev->err, LODE_ENOMEM, "out of memory");
    return NULL;
}

static uint32_t slot_advance(eval *ev, slot_it *s, uint32_t target) {
    uint32_t d = DOC_END;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t got = postings_advance(&s->pc[i], target);
        if (s->pc[i].rc) {
            ev->rc = s->pc[i].rc;
            return DOC_END;
        }
        if (got < d) d = got;
    }
    return s->doc = d;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The positions of the slot's terms at its current document, sorted. */
static int slot_positions(eval *ev, slot_it *s) {
    s->npos = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->pc[i].doc != s->doc) continue;
        uint32_t tf = postings_tf(&s->pc[i]);
        /* a damaged tf must not size the buffer: one position holds one
         * word, so the slot's terms have at most the document's length */
        if (doc_lengths(ev, s->doc)) return ev->rc;
        if ((uint64_t)s->npos + tf > ev->len)
            return ev->rc = lode_corrupt(ev->err, ev->seg->name, "POSTINGS", "term frequency above the document's length");
        if (s->npos + tf > s->cappos) {
            uint64_t cap = s->cappos ? s->cappos : 64;
            while (cap < (uint64_t)s->npos + tf) cap *= 2;
            if (cap > UINT32_MAX) cap = UINT32_MAX;
            uint64_t *v = lode_realloc(s->pos, cap * sizeof *v);
            if (!v) return ev->rc = lode_fail(ev->err, LODE_ENOMEM, "out of memory");
            s->pos = v;
            s->cappos = (uint32_t)cap;
        }
        /* positions arrive as u32; widen in place from the end of the room */
        uint32_t *tmp = (uint32_t *)(s->pos + s->npos);
        int rc = postings_positions(&s->pc[i], tmp);
        if (rc) return ev->rc = rc;
        for (uint32_t k = tf; k-- > 0;) s->pos[s->npos + k] = ((uint64_t)tmp[k] << 32) | s->term[i];
        s->npos += tf;
    }
    if (s->n > 1 && s->npos > 1) qsort(s->pos, s->npos, sizeof *s->pos, cmp_u64);
    return 0;
}

static int occ_push(eval *ev, it *t, uint32_t p) {
    if (t->nocc == t->capocc) {
        uint32_t cap = t->capocc ? t->capocc * 2 : 32;
        uint32_t *v = lode_realloc(t->occ, cap * sizeof *v);
        if (!v) return ev->rc = lode_fail(ev->err, LODE_ENOMEM, "out of memory");
        t->occ = v;
        t->capocc = cap;
    }
    t->occ[t->nocc++] = p;
    return 0;
}

/* Whether the slot has position p, for p that only grow between calls
 * (leaf_verify asks in position order): a merge, not a search. */
static int has_pos(slot_it *s, uint32_t p) {
    while (s->scan < s->npos && (uint32_t)(s->pos[s->scan] >> 32) < p) s->scan++;
    return s->scan < s->npos && (uint32_t)(s->pos[s->scan] >> 32) == p;
}

/* The occurrences of a slot's terms at `doc`, and those in the title. */
static void slot_counts(slot_it *s, uint32_t doc, uint32_t *tf, uint32_t *ttf) {
    *tf = *ttf = 0;
    for (uint32_t k = 0; k < s->n; k++)
        if (s->pc[k].doc == doc) {
            *tf += postings_tf(&s->pc[k]);
            *ttf += postings_title_tf(&s->pc[k]);
        }
}

/* Decide whether a leaf whose slots all sit on `doc` matches, and set tf,
 * ttf (and the match starts when `want_occ`). */
static int leaf_verify(eval *ev, it *t, uint32_t doc, int want_occ) {
    const bnode *n = t->n;
    t->tf = t->ttf = 0;
    t->nocc = 0;
    t->have_occ = want_occ;
    if (n->slot_count == 1 && !want_occ) {
        slot_counts(&t->slots[0], doc, &t->tf, &t->ttf);
    } else {
        for (uint32_t i = 0; i < n->slot_count; i++) {
            if (slot_positions(ev, &t->slots[i])) return 0;
            t->slots[i].scan = 0;
        }
        if (doc_lengths(ev, doc)) return 0;
        slot_it *s0 = &t->slots[0];
        for (uint32_t k = 0; k < s0->npos; k++) {
            uint32_t p = (uint32_t)(s0->pos[k] >> 32);
            if (k && (uint32_t)(s0->pos[k - 1] >> 32) == p) continue;
            int ok = 1;
            for (uint32_t i = 1; i < n->slot_count && ok; i++) ok = has_pos(&t->slots[i], p + n->slots[i].offset);
            if (!ok) continue;
            int in_title = (uint64_t)p + n->span <= ev->title_len;
            if (n->field == QF_TITLE && !in_title) continue;
            t->tf++;
            t->ttf += in_title;
            if (want_occ && occ_push(ev, t, p)) return 0;
        }
    }
    if (n->field == QF_TITLE) t->tf = t->ttf;
    return t->tf > 0;
}

static uint32_t it_advance(eval *ev, it *t, uint32_t target, int want_occ);

/* Whether a phrase leaf whose slots all sit on `doc` cannot score above the
 * top-k threshold whatever its positions say. A phrase occurs at most as
 * often as its least frequent word (each match takes its own occurrence of
 * every word), in the title too, and BM25 grows with both counts; a
 * document that only ties the threshold loses the tie (it comes later). */
static int leaf_cannot_win(eval *ev, const it *t, uint32_t doc) {
    if (t != ev->prune) return 0;
    double threshold = topk_threshold(ev->top);
    if (threshold < 0) return 0;
    const bnode *n = t->n;
    uint32_t tf = UINT32_MAX, ttf = UINT32_MAX;
    for (uint32_t i = 0; i < n->slot_count; i++) {
        uint32_t stf, sttf;
        slot_counts(&t->slots[i], doc, &stf, &sttf);
        if (stf < tf) tf = stf;
        if (sttf < ttf) ttf = sttf;
    }
    if (n->field == QF_TITLE) tf = ttf;
    if (doc_lengths(ev, doc)) return 0;
    return rank_bm25(ev->rx, n->weight, tf, ttf, ev->len) <= threshold;
}

static uint32_t leaf_advance(eval *ev, it *t, uint32_t target, int want_occ) {
    const bnode *n = t->n;
    for (;;) {
        uint32_t d = target;
        /* align every slot on one document, the furthest ahead leading */
        for (uint32_t i = 0; i < n->slot_count;) {
            uint32_t got = slot_advance(ev, &t->slots[i], d);
            if (got == DOC_END || ev->rc) return DOC_END;
            if (got != d) {
                d = got;
                i = 0;
                continue;
            }
            i++;
        }
        if (!leaf_cannot_win(ev, t, d) && leaf_verify(ev, t, d, want_occ)) return d;
        if (ev->rc || d == DOC_END - 1) return DOC_END;
        target = d + 1;
    }
}

/* Whether occurrence `o` of item `a`, taken as the leftmost, starts a window
 * holding every item of the NEAR with at most `distance` words besides the
 * items' own: every other item's first occurrence at or after it is the
 * best choice (an item's occurrences all have the same length). The chosen
 * occurrence of each other item goes to pick[] when pick is not NULL. */
static int near_window_at(const it *t, uint32_t a, uint32_t o, uint32_t *pick) {
    const it *ka = t->kids[a];
    uint64_t lo = ka->occ[o], hi = lo + ka->n->span, words = ka->n->span;
    for (uint32_t b = 0; b < t->nkids; b++) {
        if (b == a) continue;
        const it *kb = t->kids[b];
        /* first occurrence >= lo; for an equal start only items after a count */
        uint32_t l = 0, h = kb->nocc;
        while (l < h) {
            uint32_t m = l + (h - l) / 2;
            if (kb->occ[m] < lo || (kb->occ[m] == lo && b < a))
                l = m + 1;
            else
                h = m;
        }
        if (l == kb->nocc) return 0;
        uint64_t end = (uint64_t)kb->occ[l] + kb->n->span;
        if (end > hi) hi = end;
        words += kb->n->span;
        if (pick) pick[b] = l;
    }
    return hi - lo <= words + t->n->distance;
}

/* The number of windows (as the NEAR's term frequency). */
static uint32_t near_windows(const it *t) {
    uint32_t count = 0;
    for (uint32_t a = 0; a < t->nkids; a++)
        for (uint32_t o = 0; o < t->kids[a]->nocc; o++) count += (uint32_t)near_window_at(t, a, o, NULL);
    return count;
}

static uint32_t near_advance(eval *ev, it *t, uint32_t target) {
    for (;;) {
        uint32_t d = target;
        for (uint32_t i = 0; i < t->nkids;) {
            uint32_t got = it_advance(ev, t->kids[i], d, 1);
            if (got == DOC_END || ev->rc) return DOC_END;
            if (got != d) {
                d = got;
                i = 0;
                continue;
            }
            i++;
        }
        uint32_t windows = near_windows(t);
        if (windows) {
            t->tf = windows;
            t->ttf = 0;
            return d;
        }
        if (d == DOC_END - 1) return DOC_END;
        target = d + 1;
    }
}

static int path_matches(eval *ev, const bnode *n, uint32_t doc) {
    doc_record d;
    doc_info info;
    int rc = segment_doc(ev->seg, doc, &d, ev->err);
    if (!rc) rc = segment_doc_info(ev->seg, doc, &d, &info, ev->err);
    if (rc) {
        ev->rc = rc;
        return 0;
    }
    char path[4096];
    if (info.path_len >= sizeof path) return 0;
    memcpy(path, info.path, info.path_len);
    path[info.path_len] = '\0';
    const char *subject = path;
    if (n->basename_only) {
        const char *slash = strrchr(path, '/');
        if (slash) subject = slash + 1;
    }
    return fnmatch(n->glob, subject, 0) == 0;
}

/* Whether a kid that only filters or excludes holds document d. */
static int kid_holds(eval *ev, it *k, uint32_t d) {
    if (k->n->kind == B_PATH) return path_matches(ev, k->n, d);
    return it_advance(ev, k, d, 0) == d;
}

static uint32_t bool_advance(eval *ev, it *t, uint32_t target) {
    uint32_t nmust = 0, nshould = 0;
    for (uint32_t i = 0; i < t->nkids; i++) {
        const bnode *k = t->kids[i]->n;
        if (k->kind == B_PATH && k->occur != QO_MUST_NOT) continue; /* a filter */
        if (k->occur == QO_MUST) nmust++;
        if (k->occur == QO_SHOULD) nshould++;
    }
    for (;;) {
        uint32_t d = target;
        if (nmust) {
            for (uint32_t i = 0; i < t->nkids;) {
                it *k = t->kids[i];
                if (k->n->occur != QO_MUST || k->n->kind == B_PATH) {
                    i++;
                    continue;
                }
                uint32_t got = it_advance(ev, k, d, 0);
                if (got == DOC_END || ev->rc) return DOC_END;
                if (got != d) {
                    d = got;
                    i = 0;
                    continue;
                }
                i++;
            }
        } else if (nshould) {
            d = DOC_END;
            for (uint32_t i = 0; i < t->nkids; i++) {
                it *k = t->kids[i];
                if (k->n->occur != QO_SHOULD || k->n->kind == B_PATH) continue;
                uint32_t got = it_advance(ev, k, target, 0);
                if (ev->rc) return DOC_END;
                if (got < d) d = got;
            }
            if (d == DOC_END) return DOC_END;
        } else if (d >= ev->seg->doc_count) {
            return DOC_END; /* only filters: a scan of the documents */
        }
        int ok = 1;
        for (uint32_t i = 0; i < t->nkids && ok; i++) {
            it *k = t->kids[i];
            if (k->n->occur == QO_MUST_NOT)
                ok = !kid_holds(ev, k, d);
            else if (k->n->kind == B_PATH)
                ok = kid_holds(ev, k, d);
            if (ev->rc) return DOC_END;
        }
        if (ok) return d;
        if (d == DOC_END - 1) return DOC_END;
        target = d + 1;
    }
}

static uint32_t it_advance(eval *ev, it *t, uint32_t target, int want_occ) {
    if (t->started && (t->doc == DOC_END || t->doc >= target)) {
        /* matched before without positions, which are wanted now */
        if (t->doc == target && want_occ && !t->have_occ && t->n->kind == B_LEAF) leaf_verify(ev, t, target, 1);
        return t->doc;
    }
    uint32_t d;
    switch (t->n->kind) {
    case B_LEAF: d = leaf_advance(ev, t, target, want_occ); break;
    case B_NEAR: d = near_advance(ev, t, target); break;
    case B_BOOL: d = bool_advance(ev, t, target); break;
    case B_PATH:
        /* a path: alone (inside a BOOL it is only a filter): a scan */
        for (d = target; d < ev->seg->doc_count && !path_matches(ev, t->n, d) && !ev->rc; d++) {}
        if (d >= ev->seg->doc_count || ev->rc) d = DOC_END;
        break;
    default: d = DOC_END; break;
    }
    t->started = 1;
    t->doc = d;
    return d;
}

static double it_score(eval *ev, it *t, uint32_t doc) {
    if (!t->started || t->doc != doc) return 0;
    const bnode *n = t->n;
    switch (n->kind) {
    case B_LEAF:
    case B_NEAR:
        if (doc_lengths(ev, doc)) return 0;
        return rank_bm25(ev->rx, n->weight, t->tf, t->ttf, ev->len);
    case B_BOOL: {
        double s = 0;
        for (uint32_t i = 0; i < t->nkids; i++) {
            it *k = t->kids[i];
            if (k->n->occur == QO_MUST_NOT || k->n->kind == B_PATH) continue;
            /* SHOULD kids are brought to this document only when scored */
            if (k->n->occur == QO_SHOULD) it_advance(ev, k, doc, 0);
            s += it_score(ev, k, doc);
        }
        return s;
    }
    default: return 0;
    }
}

/* --- ranking ------------------------------------------------------------- */

/* A BOOL of plain one-word leaves (or one such leaf), all SHOULD or all
 * MUST, with plain-word exclusions: the shape MaxScore handles. */
static int flat_shape(const bnode *root, int *all) {
    const bnode *const *kids = &root;
    uint32_t n = 1;
    if (root->kind == B_BOOL) {
        kids = (const bnode *const *)root->kids;
        n = root->kid_count;
    }
    int must = 0, should = 0;
    for (uint32_t i = 0; i < n; i++) {
        const bnode *k = kids[i];
        if (k->kind != B_LEAF || k->slot_count != 1 || k->slots[0].term_count != 1 || k->field != QF_ANY ||
            root->field != QF_ANY)
            return 0;
        if (k->occur == QO_MUST) must++;
        if (k->occur == QO_SHOULD) should++;
    }
    if (must && should) return 0;
    *all = must > 0;
    return 1;
}

static int rank_flat_query(lode_index *ix, const bound_query *b, const rank_ctx *rx, topk *h, int all,
                           lode_error *err) {
    const bnode *root = b->root;
    const bnode *const *kids = root->kind == B_BOOL ? (const bnode *const *)root->kids : &root;
    uint32_t n = root->kind == B_BOOL ? root->kid_count : 1;
    flat_term *pos = lode_calloc(n, sizeof *pos), *neg = lode_calloc(n, sizeof *neg);
    uint32_t np = 0, nn = 0;
    int rc = 0;
    if (!pos || !neg) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < n; i++) {
        const qterm *q = &b->terms[kids[i]->slots[0].terms[0]];
        flat_term *list = kids[i]->occur == QO_MUST_NOT ? neg : pos;
        uint32_t *count = kids[i]->occur == QO_MUST_NOT ? &nn : &np;
        uint32_t j = 0;
        /* a word given twice weighs twice, as BM25's query term frequency */
        while (j < *count && list[j].in_seg != q->in_seg) j++;
        if (j == *count) list[(*count)++] = (flat_term){q->in_seg, 0};
        list[j].weight += kids[i]->weight;
    }
    if (!rc) rc = rank_flat(ix, rx, pos, np, neg, nn, all, h, err);
    lode_free(pos);
    lode_free(neg);
    return rc;
}

int query_top_k(lode_index *ix, const bound_query *b, const rank_ctx *rx, size_t k, scored_doc **out, size_t *count,
                lode_error *err) {
    *out = NULL;
    *count = 0;
    if (k == 0 || ix->docs == 0) return 0;
    if (k > ix->docs) k = (size_t)ix->docs;
    topk h;
    if (topk_init(&h, k)) return lode_fail(err, LODE_ENOMEM, "out of memory");
    int all = 0, rc = 0;
    if (flat_shape(b->root, &all)) {
        rc = rank_flat_query(ix, b, rx, &h, all, err);
    } else {
        for (uint32_t s = 0; s < ix->seg_count && !rc; s++) {
            eval ev = {ix, ix->segs[s], s, b, rx, err, 0, {ix->segs[s], NULL, 0}, DOC_END, 0, 0, NULL, NULL};
            it *root = it_build(&ev, b->root);
            if (!root) {
                rc = ev.rc;
                break;
            }
            if (root->n->kind == B_LEAF && root->n->slot_count > 1) {
                ev.top = &h;
                ev.prune = root;
            }
            for (uint32_t d = it_advance(&ev, root, 0, 0); d != DOC_END && !ev.rc;
                 d = d + 1 < DOC_END ? it_advance(&ev, root, d + 1, 0) : DOC_END) {
                double score = it_score(&ev, root, d);
                if (!ev.rc) topk_push(&h, (scored_doc){score, s, d});
            }
            rc = ev.rc;
            it_free(root);
        }
    }
    if (!rc) topk_finish(&h, out, count);
    topk_free(&h);
    return rc;
}

/* --- the occurrences behind a match ---------------------------------------- */

/* At most this many occurrences are collected per document: enough for any
 * real text, a bound for a hostile one. */
#define MAX_MATCHES (1u << 20)

typedef struct match_list {
    match *v;
    size_t n, cap;
} match_list;

static int match_push(eval *ev, match_list *m, uint32_t pos, uint32_t term, uint32_t group) {
    if (m->n >= MAX_MATCHES) return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        match *v = lode_realloc(m->v, cap * sizeof *v);
        if (!v) return ev->rc = lode_fail(ev->err, LODE_ENOMEM, "out of memory");
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = (match){pos, term, group};
    return 0;
}

/* The words of each occurrence starting at a position in `starts`. */
static int leaf_collect(eval *ev, it *t, const uint32_t *starts, uint32_t nstarts, match_list *m) {
    const bnode *n = t->n;
    for (uint32_t k = 0; k < nstarts; k++)
        for (uint32_t i = 0; i < n->slot_count; i++) {
            const slot_it *s = &t->slots[i];
            uint32_t p = starts[k] + n->slots[i].offset;
            for (uint32_t j = 0; j < s->npos; j++)
                if ((uint32_t)(s->pos[j] >> 32) == p && match_push(ev, m, p, (uint32_t)s->pos[j], n->group))
                    return ev->rc;
        }
    return 0;
}

/* The occurrences of a NEAR's items that take part in a window, and only
 * those: an occurrence far from the others did not make the document match,
 * and marking it would send a reader (and grep-style listings, which show
 * every passage holding a match) to a place where the query does not hold. */
static int near_collect(eval *ev, it *t, match_list *m) {
    uint32_t k = t->nkids, most = 0;
    for (uint32_t i = 0; i < k; i++)
        if (t->kids[i]->nocc > most) most = t->kids[i]->nocc;
    uint32_t *pick = lode_malloc(k * sizeof *pick);
    uint32_t *starts = lode_malloc((most ? most : 1) * sizeof *starts);
    uint8_t **used = lode_calloc(k, sizeof *used);
    int rc = pick && starts && used ? 0 : LODE_ENOMEM;
    for (uint32_t i = 0; i < k && !rc; i++)
        if (!(used[i] = lode_calloc(t->kids[i]->nocc ? t->kids[i]->nocc : 1, 1))) rc = LODE_ENOMEM;
    for (uint32_t a = 0; a < k && !rc; a++)
        for (uint32_t o = 0; o < t->kids[a]->nocc; o++) {
            if (!near_window_at(t, a, o, pick)) continue;
            used[a][o] = 1;
            for (uint32_t b = 0; b < k; b++)
                if (b != a) used[b][pick[b]] = 1;
        }
    for (uint32_t i = 0; i < k && !rc; i++) {
        uint32_t n = 0;
        for (uint32_t o = 0; o < t->kids[i]->nocc; o++)
            if (used[i][o]) starts[n++] = t->kids[i]->occ[o];
        if (leaf_collect(ev, t->kids[i], starts, n, m)) rc = ev->rc;
    }
    if (used)
        for (uint32_t i = 0; i < k; i++) lode_free(used[i]);
    lode_free(used);
    lode_free(pick);
    lode_free(starts);
    if (rc == LODE_ENOMEM && !ev->rc) ev->rc = lode_fail(ev->err, LODE_ENOMEM, "out of memory");
    return rc;
}

static int collect(eval *ev, it *t, uint32_t doc, match_list *m) {
    const bnode *n = t->n;
    if (n->occur == QO_MUST_NOT || n->kind == B_PATH) return 0;
    if (it_advance(ev, t, doc, n->kind == B_LEAF) != doc) return ev->rc;
    if (n->kind == B_LEAF) {
        if (!t->have_occ) leaf_verify(ev, t, doc, 1);
        return leaf_collect(ev, t, t->occ, t->nocc, m);
    }
    if (n->kind == B_NEAR) return near_collect(ev, t, m);
    for (uint32_t i = 0; i < t->nkids; i++)
        if (collect(ev, t->kids[i], doc, m)) return ev->rc;
    return 0;
}

static int cmp_match(const void *a, const void *b) {
    const match *x = a, *y = b;
    if (x->pos != y->pos) return (x->pos > y->pos) - (x->pos < y->pos);
    return (x->term > y->term) - (x->term < y->term);
}

int query_matches(lode_index *ix, const bound_query *b, const rank_ctx *rx, uint32_t seg, uint32_t doc, match **out,
                  size_t *count, lode_error *err) {
    *out = NULL;
    *count = 0;
    eval ev = {ix, ix->segs[seg], seg, b, rx, err, 0, {ix->segs[seg], NULL, 0}, DOC_END, 0, 0, NULL, NULL};
    it *root = it_build(&ev, b->root);
    if (!root) return ev.rc;
    match_list m = {NULL, 0, 0};
    collect(&ev, root, doc, &m);
    it_free(root);
    if (ev.rc) {
        lode_free(m.v);
        return ev.rc;
    }
    if (m.n > 1) qsort(m.v, m.n, sizeof *m.v, cmp_match);
    /* an occurrence reached twice (in two NEAR windows, or under two
     * branches of the query) is one match: passage density counts it once */
    size_t kept = 0;
    for (size_t i = 0; i < m.n; i++)
        if (kept == 0 || m.v[i].pos != m.v[kept - 1].pos || m.v[i].term != m.v[kept - 1].term ||
            m.v[i].group != m.v[kept - 1].group)
            m.v[kept++] = m.v[i];
    m.n = kept;
    *out = m.v;
    *count = m.n;
    return 0;
}
