/*
 * invert.c - in-memory inversion: turns documents into per-term postings
 * streams, the document table, the passage table and compressed stored text,
 * until the writer's memory budget says to write a segment (segment_write.c
 * encodes what is gathered here). Called by writer.c.
 *
 * A term's in-memory stream is, per document that holds it:
 *   varint doc-id gap (doc - previous doc, the first counted from -1)
 *   varint tf
 *   varint title tf (occurrences among the document's first title_token_count tokens)
 *   tf x varint position gap (position - previous position - 1, first from -1)
 * Varints keep the common case (one occurrence, small gaps) at a few bytes,
 * so that the budget holds many documents before a flush.
 */
#include <stdlib.h>
#include <zlib.h>

#include "segment.h"

#define INITIAL_SLOTS 4096
#define STREAM_MIN 16

void strtab_init(strtab *t) {
    memset(t, 0, sizeof *t);
    buf_init(&t->bytes);
}

void strtab_free(strtab *t) {
    lode_free(t->hash);
    lode_free(t->off);
    lode_free(t->len);
    lode_free(t->slots);
    buf_free(&t->bytes);
    strtab_init(t);
}

size_t strtab_memory(const strtab *t) {
    return t->bytes.cap + (size_t)t->cap * (sizeof(uint64_t) + 2 * sizeof(uint32_t)) +
           (size_t)t->slot_cap * sizeof(uint32_t);
}

static int strtab_grow_slots(strtab *t) {
    uint32_t cap = t->slot_cap ? t->slot_cap * 2 : INITIAL_SLOTS;
    uint32_t *slots = lode_calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t at = (uint32_t)t->hash[i] & (cap - 1);
        while (slots[at]) at = (at + 1) & (cap - 1);
        slots[at] = i + 1;
    }
    lode_free(t->slots);
    t->slots = slots;
    t->slot_cap = cap;
    return 0;
}

int64_t strtab_intern(strtab *t, const char *str, uint32_t len, int *added) {
    *added = 0;
    /* keep the load under one half so probes stay short */
    if ((uint64_t)(t->n + 1) * 2 > t->slot_cap && strtab_grow_slots(t)) return -1;
    uint64_t h = lode_hash64(str, len, 0);
    uint32_t mask = t->slot_cap - 1;
    uint32_t at = (uint32_t)h & mask;
    for (;;) {
        uint32_t e = t->slots[at];
        if (!e) break;
        if (t->hash[e - 1] == h && t->len[e - 1] == len && memcmp(strtab_str(t, e - 1), str, len) == 0)
            return e - 1;
        at = (at + 1) & mask;
    }
    if (t->n == UINT32_MAX - 1 || t->bytes.len > UINT32_MAX - len) return -1;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        uint64_t *hv = lode_realloc(t->hash, (size_t)cap * sizeof *hv);
        if (!hv) return -1;
        t->hash = hv;
        uint32_t *ov = lode_realloc(t->off, (size_t)cap * sizeof *ov);
        if (!ov) return -1;
        t->off = ov;
        uint32_t *lv = lode_realloc(t->len, (size_t)cap * sizeof *lv);
        if (!lv) return -1;
        t->len = lv;
        t->cap = cap;
    }
    t->hash[t->n] = h;
    t->off[t->n] = (uint32_t)t->bytes.len;
    t->len[t->n] = len;
    buf_append(&t->bytes, str, len);
    if (t->bytes.rc) return -1;
    t->slots[at] = t->n + 1;
    *added = 1;
    return t->n++;
}

int inverter_init(inverter *inv) {
    memset(inv, 0, sizeof *inv);
    strtab_init(&inv->terms);
    strtab_init(&inv->words);
    buf_init(&inv->docinfo);
    buf_init(&inv->text_pending);
    buf_init(&inv->text);
    buf_init(&inv->textidx);
    buf_init(&inv->scratch);
    return 0;
}

void inverter_free(inverter *inv) {
    if (inv->tv)
        for (uint32_t i = 0; i < inv->terms.n; i++) lode_free(inv->tv[i].stream);
    lode_free(inv->tv);
    lode_free(inv->word_term);
    strtab_free(&inv->terms);
    strtab_free(&inv->words);
    lode_free(inv->docs);
    lode_free(inv->occ);
    buf_free(&inv->docinfo);
    buf_free(&inv->text_pending);
    buf_free(&inv->text);
    buf_free(&inv->textidx);
    buf_free(&inv->scratch);
    inverter_init(inv);
}

/* After a flush the buffer starts small again: the budget counts it all. */
void inverter_reset(inverter *inv) { inverter_free(inv); }

size_t inverter_memory(const inverter *inv) {
    return strtab_memory(&inv->terms) + strtab_memory(&inv->words) +
           (size_t)inv->terms.cap * sizeof(mem_term) + (size_t)inv->words.cap * sizeof(uint32_t) +
           inv->stream_bytes + (size_t)inv->docs_cap * sizeof(mem_doc) + inv->docinfo.cap + inv->text_pending.cap +
           inv->text.cap + inv->textidx.cap + inv->occ_cap * sizeof(uint64_t) + inv->scratch.cap;
}

/* Find or add a term and its word; returns the term's index, or -1 when
 * memory runs out. */
static int64_t term_index(inverter *inv, const token *t) {
    int added;
    int64_t ti = strtab_intern(&inv->terms, t->term, t->term_len, &added);
    if (ti < 0) return -1;
    if (added) {
        if (inv->terms.n > inv->tv_cap) {
            uint32_t cap = inv->terms.cap;
            mem_term *v = lode_realloc(inv->tv, (size_t)cap * sizeof *v);
            if (!v) return -1;
            inv->tv = v;
            inv->tv_cap = cap;
        }
        memset(&inv->tv[ti], 0, sizeof inv->tv[ti]);
    }
    int64_t wi = strtab_intern(&inv->words, t->word, t->word_len, &added);
    if (wi < 0) return -1;
    if (added) {
        if (inv->words.n > inv->wt_cap) {
            uint32_t cap = inv->words.cap;
            uint32_t *v = lode_realloc(inv->word_term, (size_t)cap * sizeof *v);
            if (!v) return -1;
            inv->word_term = v;
            inv->wt_cap = cap;
        }
        inv->word_term[wi] = (uint32_t)ti;
    }
    return ti;
}

static int stream_append(inverter *inv, mem_term *t, const uint8_t *p, size_t n) {
    if ((uint64_t)t->stream_len + n > UINT32_MAX / 2) return LODE_ELIMIT;
    if (t->stream_len + n > t->stream_cap) {
        uint32_t cap = t->stream_cap ? t->stream_cap : STREAM_MIN;
        while (cap < t->stream_len + n) cap *= 2;
        uint8_t *s = lode_realloc(t->stream, cap);
        if (!s) return LODE_ENOMEM;
        inv->stream_bytes += cap - t->stream_cap;
        t->stream = s;
        t->stream_cap = cap;
    }
    memcpy(t->stream + t->stream_len, p, n);
    t->stream_len += (uint32_t)n;
    return 0;
}

/* Compress full blocks of pending stored text; with `final`, the rest too. */
static int compress_text(inverter *inv, int final) {
    size_t done = 0;
    while (inv->text_pending.len - done >= TEXT_BLOCK_SIZE ||
           (final && inv->text_pending.len > done)) {
        size_t raw = inv->text_pending.len - done;
        if (raw > TEXT_BLOCK_SIZE) raw = TEXT_BLOCK_SIZE;
        uLongf bound = compressBound((uLong)raw);
        if (buf_reserve(&inv->text, bound)) return LODE_ENOMEM;
        uLongf clen = bound;
        if (compress2(inv->text.data + inv->text.len, &clen, inv->text_pending.data + done,
                      (uLong)raw, Z_DEFAULT_COMPRESSION) != Z_OK)
            return LODE_ENOMEM;
        buf_put_u64(&inv->textidx, inv->text.len);
        buf_put_u32(&inv->textidx, (uint32_t)clen);
        inv->text.len += clen;
        done += raw;
    }
    if (done) {
        memmove(inv->text_pending.data, inv->text_pending.data + done, inv->text_pending.len - done);
        inv->text_pending.len -= done;
    }
    return inv->textidx.rc;
}

int inverter_finish_text(inverter *inv) { return compress_text(inv, 1); }

typedef struct add_state {
    inverter *inv;
    passage_span *passages;
    uint32_t *first_token;
    size_t passage_n, passage_cap, next_passage;
    uint32_t title_end; /* byte offset where the title line ends */
    uint32_t title_tokens;
    uint32_t tokens;
    int rc;
} add_state;

static int on_passage(void *ctx, const passage_span *p) {
    add_state *st = ctx;
    if (st->passage_n == st->passage_cap) {
        size_t cap = st->passage_cap ? st->passage_cap * 2 : 64;
        passage_span *v = lode_realloc(st->passages, cap * sizeof *v);
        if (!v) return LODE_ENOMEM;
        st->passages = v;
        uint32_t *f = lode_realloc(st->first_token, cap * sizeof *f);
        if (!f) return LODE_ENOMEM;
        st->first_token = f;
        st->passage_cap = cap;
    }
    st->passages[st->passage_n++] = *p;
    return 0;
}

static int on_token(void *ctx, const token *t) {
    add_state *st = ctx;
    inverter *inv = st->inv;
    /* a passage starts at the first token at or after its first byte */
    while (st->next_passage < st->passage_n && st->passages[st->next_passage].offset <= t->start)
        st->first_token[st->next_passage++] = t->position;
    if (t->end <= st->title_end) st->title_tokens = t->position + 1;
    int64_t idx = term_index(inv, t);
    if (idx < 0) return LODE_ENOMEM;
    if (inv->occ_n == inv->occ_cap) {
        size_t cap = inv->occ_cap ? inv->occ_cap * 2 : 4096;
        uint64_t *o = lode_realloc(inv->occ, cap * sizeof *o);
        if (!o) return LODE_ENOMEM;
        inv->occ = o;
        inv->occ_cap = cap;
    }
    inv->occ[inv->occ_n++] = ((uint64_t)idx << 32) | t->position;
    st->tokens = t->position + 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Append the sorted occurrences of one document to the term streams. */
static int flush_occurrences(inverter *inv, uint32_t doc, uint32_t title_tokens) {
    /* qsort must not see the NULL of a document without tokens */
    if (inv->occ_n > 1) qsort(inv->occ, inv->occ_n, sizeof *inv->occ, cmp_u64);
    size_t i = 0;
    while (i < inv->occ_n) {
        uint32_t idx = (uint32_t)(inv->occ[i] >> 32);
        size_t j = i;
        uint32_t title_tf = 0;
        while (j < inv->occ_n && (uint32_t)(inv->occ[j] >> 32) == idx) {
            if ((uint32_t)inv->occ[j] < title_tokens) title_tf++;
            j++;
        }
        mem_term *t = &inv->tv[idx];
        uint32_t tf = (uint32_t)(j - i);
        inv->scratch.len = 0;
        buf_put_varint(&inv->scratch, t->df ? (uint64_t)doc - t->last_doc : (uint64_t)doc + 1);
        buf_put_varint(&inv->scratch, tf);
        buf_put_varint(&inv->scratch, title_tf);
        int64_t prev = -1;
        for (size_t k = i; k < j; k++) {
            uint32_t pos = (uint32_t)inv->occ[k];
            buf_put_varint(&inv->scratch, (uint64_t)((int64_t)pos - prev - 1));
            prev = pos;
        }
        if (inv->scratch.rc) return inv->scratch.rc;
        int rc = stream_append(inv, t, inv->scratch.data, inv->scratch.len);
        if (rc) return rc;
        t->df++;
        t->cf += tf;
        t->last_doc = doc;
        i = j;
    }
    inv->occ_n = 0;
    return 0;
}

int inverter_add(inverter *inv, analyzer *a, const char *path, const uint8_t *text, size_t len,
                 int64_t mtime, lode_error *err) {
    if ((uint64_t)len > LODE_MAX_DOC_BYTES)
        return lode_fail(err, LODE_ELIMIT, "%s: %zu bytes is over the document limit of %llu bytes",
                         path, len, (unsigned long long)LODE_MAX_DOC_BYTES);
    if (inv->docs_n >= LODE_MAX_DOCS_PER_SEGMENT)
        return lode_fail(err, LODE_ELIMIT, "too many documents in one segment");
    int rc = 0;
    uint32_t doc = inv->docs_n;
    add_state st;
    memset(&st, 0, sizeof st);
    st.inv = inv;
    uint32_t title_off, title_len;
    document_title((const char *)text, len, &title_off, &title_len);
    st.title_end = title_len ? title_off + title_len : 0;

    rc = passages_cut((const char *)text, len, on_passage, &st);
    if (rc) goto cleanup;
    inv->occ_n = 0;
    rc = analyze_text(a, (const char *)text, len, 0, on_token, &st);
    if (rc) goto cleanup;
    while (st.next_passage < st.passage_n) st.first_token[st.next_passage++] = st.tokens;
    rc = flush_occurrences(inv, doc, st.title_tokens);
    if (rc) goto cleanup;

    if (inv->docs_n == inv->docs_cap) {
        uint32_t cap = inv->docs_cap ? inv->docs_cap * 2 : 256;
        mem_doc *d = lode_realloc(inv->docs, (size_t)cap * sizeof *d);
        if (!d) {
            rc = LODE_ENOMEM;
            goto cleanup;
        }
        inv->docs = d;
        inv->docs_cap = cap;
    }
    mem_doc *d = &inv->docs[inv->docs_n];
    d->text_offset = inv->text_bytes;
    d->size = len;
    d->mtime = mtime;
    d->content_hash = lode_hash64(text, len, 0);
    d->info_offset = inv->docinfo.len;
    d->token_count = st.tokens;
    d->title_token_count = st.title_tokens;

    /* DOCINFO: path, title, then the passage table as deltas, because
     * offsets, lines and token numbers only grow within a document */
    size_t path_len = strlen(path);
    buf_put_varint(&inv->docinfo, path_len);
    buf_append(&inv->docinfo, path, path_len);
    buf_put_varint(&inv->docinfo, title_len);
    buf_append(&inv->docinfo, text + title_off, title_len);
    buf_put_varint(&inv->docinfo, st.passage_n);
    uint32_t prev_end = 0, prev_line = 0, prev_token = 0;
    for (size_t i = 0; i < st.passage_n; i++) {
        const passage_span *p = &st.passages[i];
        buf_put_varint(&inv->docinfo, p->offset - prev_end);
        buf_put_varint(&inv->docinfo, p->length);
        buf_put_varint(&inv->docinfo, p->line - prev_line);
        buf_put_varint(&inv->docinfo, st.first_token[i] - prev_token);
        prev_end = p->offset + p->length;
        prev_line = p->line;
        prev_token = st.first_token[i];
    }
    buf_append(&inv->text_pending, text, len);
    if (inv->docinfo.rc || inv->text_pending.rc) {
        rc = LODE_ENOMEM;
        goto cleanup;
    }
    inv->text_bytes += len;
    rc = compress_text(inv, 0);
    if (rc) goto cleanup;
    inv->docs_n++;
    inv->passages += st.passage_n;
    inv->tokens += st.tokens;
    inv->title_tokens += st.title_tokens;

cleanup:
    lode_free(st.passages);
    lode_free(st.first_token);
    if (rc == LODE_ENOMEM) return lode_fail(err, rc, "out of memory while indexing %s", path);
    if (rc == LODE_ELIMIT) return lode_fail(err, rc, "%s: a term occurs too often in one segment", path);
    return rc;
}
