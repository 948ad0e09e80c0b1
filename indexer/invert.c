/*
 * invert.c - in-memory inversion: turns documents into per-term postings
 * streams, the document table, the passage table and compressed stored text,
 * until the writer's memory budget says to write a segment (segment_write.c
 * encodes what is gathered here). Called by writer.c.
 *
 * A term's in-memory stream (described at mem_term in segment.h) grows by
 * a varint or two per token, in token order: no per-document list of
 * occurrences to sort, and most tokens cost one hash lookup (their word is
 * already known, and so is its term: the analyzer leaves stemming to us,
 * once per distinct word). Varints keep the common case at a byte or two,
 * so that the budget holds many documents before a flush.
 *
 * Stored text goes to a text_packer in TEXT_BLOCK_SIZE blocks; a second
 * thread compresses them while this one analyses the next documents.
 */
#include <pthread.h>
#include <stddef.h>
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
           (size_t)t->slot_cap * sizeof(uint64_t);
}

#define STRTAB_RECORD 12 /* u32 index, u32 value, u32 length */

static inline uint64_t strtab_slot(uint64_t h, uint32_t rec) { return (h >> 32 << 32) | ((uint64_t)rec + 1); }

static int strtab_grow_slots(strtab *t) {
    uint32_t cap = t->slot_cap ? t->slot_cap * 2 : INITIAL_SLOTS;
    uint64_t *slots = lode_calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t at = (uint32_t)t->hash[i] & (cap - 1);
        while (slots[at]) at = (at + 1) & (cap - 1);
        slots[at] = strtab_slot(t->hash[i], t->off[i] - STRTAB_RECORD);
    }
    lode_free(t->slots);
    t->slots = slots;
    t->slot_cap = cap;
    return 0;
}

/* Forget the strings numbered n and above. Slots are emptied newest first:
 * with linear probing an entry can only have probed past entries older
 * than itself, so no older entry loses the path to its slot. */
static void strtab_truncate(strtab *t, uint32_t n) {
    uint32_t mask = t->slot_cap - 1;
    while (t->n > n) {
        uint32_t e = --t->n;
        uint64_t want = strtab_slot(t->hash[e], t->off[e] - STRTAB_RECORD);
        uint32_t at = (uint32_t)t->hash[e] & mask;
        while (t->slots[at] != want) at = (at + 1) & mask;
        t->slots[at] = 0;
        t->bytes.len = t->off[e] - STRTAB_RECORD;
    }
}

int64_t strtab_intern(strtab *t, const char *str, uint32_t len, int *added, uint32_t *rec) {
    return strtab_intern_hashed(t, str, len, lode_hash64(str, len, 0), added, rec);
}

int64_t strtab_intern_hashed(strtab *t, const char *str, uint32_t len, uint64_t h, int *added, uint32_t *rec) {
    *added = 0;
    /* keep the load under one half so probes stay short */
    if ((uint64_t)(t->n + 1) * 2 > t->slot_cap && strtab_grow_slots(t)) return -1;
    uint64_t tag = h >> 32 << 32;
    uint32_t mask = t->slot_cap - 1;
    uint32_t at = (uint32_t)h & mask;
    for (;;) {
        uint64_t e = t->slots[at];
        if (!e) break;
        if ((e & 0xffffffff00000000u) == tag) {
            uint32_t r = (uint32_t)e - 1;
            const uint8_t *p = t->bytes.data + r;
            if (load_u32(p + 8) == len && memcmp(p + STRTAB_RECORD, str, len) == 0) {
                *rec = r;
                return load_u32(p);
            }
        }
        at = (at + 1) & mask;
    }
    if (t->n == UINT32_MAX - 1 || t->bytes.len > UINT32_MAX - 1 - STRTAB_RECORD - (uint64_t)len) return -1;
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
    uint32_t r = (uint32_t)t->bytes.len;
    buf_put_u32(&t->bytes, t->n);
    buf_put_u32(&t->bytes, 0);
    buf_put_u32(&t->bytes, len);
    buf_append(&t->bytes, str, len);
    if (t->bytes.rc) return -1;
    t->hash[t->n] = h;
    t->off[t->n] = r + STRTAB_RECORD;
    t->len[t->n] = len;
    t->slots[at] = strtab_slot(h, r);
    *added = 1;
    *rec = r;
    return t->n++;
}

/* ------------------------------------------------------------------------ */
/* Stored text                                                               */
/* ------------------------------------------------------------------------ */

/* TEXT_ZLIB_LEVEL (format.h) is the writer's zlib level. */

/* Raw blocks in flight: the one being filled plus up to PACK_SLOTS - 1
 * waiting or being compressed (bounded memory: a few times 16 KiB). */
#define PACK_SLOTS 8

/* A ring of raw blocks. The caller fills slot `fill`; submitted blocks are
 * the `queued` slots from `head`, compressed in order, so the output is the
 * same bytes whatever the threads do. `text` and `textidx` belong to the
 * worker while it runs and to the caller once the queue is drained. */
struct text_packer {
    uint8_t *raw[PACK_SLOTS];  /* TEXT_BLOCK_SIZE bytes each; owned */
    uint32_t raw_len[PACK_SLOTS];
    uint32_t head, queued, fill;
    lode_buf text, textidx;
    z_stream zs;
    int zs_ready;
    int rc;                    /* first failure, reported at the drain */
    int no_threads;            /* never start the worker */
    size_t out_cap;            /* text.cap + textidx.cap, for the budget */
    /* the worker thread, if one was started */
    int threaded, stop;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
};

static int pack_block(text_packer *pk, const uint8_t *raw, uint32_t len) {
    if (!pk->zs_ready) {
        memset(&pk->zs, 0, sizeof pk->zs);
        if (deflateInit(&pk->zs, TEXT_ZLIB_LEVEL) != Z_OK) return LODE_ENOMEM;
        pk->zs_ready = 1;
    } else if (deflateReset(&pk->zs) != Z_OK) {
        return LODE_EIO;
    }
    uLong bound = deflateBound(&pk->zs, len);
    if (buf_reserve(&pk->text, bound)) return LODE_ENOMEM;
    pk->zs.next_in = (Bytef *)(uintptr_t)raw;
    pk->zs.avail_in = len;
    pk->zs.next_out = pk->text.data + pk->text.len;
    pk->zs.avail_out = (uInt)bound;
    if (deflate(&pk->zs, Z_FINISH) != Z_STREAM_END) return LODE_EIO;
    uint32_t clen = (uint32_t)(bound - pk->zs.avail_out);
    buf_put_u64(&pk->textidx, pk->text.len);
    buf_put_u32(&pk->textidx, clen);
    pk->text.len += clen;
    return pk->textidx.rc ? LODE_ENOMEM : 0;
}

static void *pack_worker(void *arg) {
    text_packer *pk = arg;
    pthread_mutex_lock(&pk->mu);
    for (;;) {
        while (!pk->queued && !pk->stop) pthread_cond_wait(&pk->work, &pk->mu);
        if (!pk->queued) break;
        uint32_t at = pk->head;
        int failed = pk->rc != 0;
        pthread_mutex_unlock(&pk->mu);
        /* after a failure the rest is dropped: the segment will not be written */
        int rc = failed ? 0 : pack_block(pk, pk->raw[at], pk->raw_len[at]);
        pthread_mutex_lock(&pk->mu);
        if (rc && !pk->rc) pk->rc = rc;
        pk->out_cap = pk->text.cap + pk->textidx.cap;
        pk->head = (pk->head + 1) % PACK_SLOTS;
        pk->queued--;
        pthread_cond_signal(&pk->done);
    }
    pthread_mutex_unlock(&pk->mu);
    return NULL;
}

static text_packer *packer_new(void) {
    text_packer *pk = lode_calloc(1, sizeof *pk);
    if (!pk) return NULL;
    buf_init(&pk->text);
    buf_init(&pk->textidx);
    pk->raw[0] = lode_malloc(TEXT_BLOCK_SIZE);
    if (!pk->raw[0]) {
        lode_free(pk);
        return NULL;
    }
    return pk;
}

static void packer_free(text_packer *pk) {
    if (!pk) return;
    if (pk->threaded) {
        pthread_mutex_lock(&pk->mu);
        pk->stop = 1;
        pthread_cond_signal(&pk->work);
        pthread_mutex_unlock(&pk->mu);
        pthread_join(pk->thread, NULL);
        pthread_mutex_destroy(&pk->mu);
        pthread_cond_destroy(&pk->work);
        pthread_cond_destroy(&pk->done);
    }
    for (int i = 0; i < PACK_SLOTS; i++) lode_free(pk->raw[i]);
    if (pk->zs_ready) deflateEnd(&pk->zs);
    buf_free(&pk->text);
    buf_free(&pk->textidx);
    lode_free(pk);
}

/* Start the worker at the first full block: small indexes never need it.
 * Without a thread (none can be started, or no memory for more slots)
 * blocks are compressed at submission. */
static void packer_start(text_packer *pk) {
    for (int i = 1; i < PACK_SLOTS; i++)
        if (!pk->raw[i] && !(pk->raw[i] = lode_malloc(TEXT_BLOCK_SIZE))) return;
    if (pthread_mutex_init(&pk->mu, NULL)) return;
    if (pthread_cond_init(&pk->work, NULL)) {
        pthread_mutex_destroy(&pk->mu);
        return;
    }
    if (pthread_cond_init(&pk->done, NULL)) {
        pthread_cond_destroy(&pk->work);
        pthread_mutex_destroy(&pk->mu);
        return;
    }
    if (pthread_create(&pk->thread, NULL, pack_worker, pk)) {
        pthread_cond_destroy(&pk->done);
        pthread_cond_destroy(&pk->work);
        pthread_mutex_destroy(&pk->mu);
        return;
    }
    pk->threaded = 1;
}

/* Hand over the filled block and take the next free one. */
static int packer_submit(text_packer *pk) {
    if (pk->raw_len[pk->fill] == 0) return 0;
    if (!pk->threaded && !pk->no_threads && pk->raw_len[pk->fill] == TEXT_BLOCK_SIZE &&
        pk->raw[PACK_SLOTS - 1] == NULL)
        packer_start(pk);
    if (!pk->threaded) {
        int rc = pk->rc ? 0 : pack_block(pk, pk->raw[pk->fill], pk->raw_len[pk->fill]);
        if (rc && !pk->rc) pk->rc = rc;
        pk->out_cap = pk->text.cap + pk->textidx.cap;
        pk->raw_len[pk->fill] = 0;
        return pk->rc;
    }
    pthread_mutex_lock(&pk->mu);
    pk->queued++;
    pthread_cond_signal(&pk->work);
    while (pk->queued == PACK_SLOTS) pthread_cond_wait(&pk->done, &pk->mu);
    pk->fill = (pk->head + pk->queued) % PACK_SLOTS;
    int rc = pk->rc;
    pthread_mutex_unlock(&pk->mu);
    pk->raw_len[pk->fill] = 0;
    return rc;
}

static int packer_add(text_packer *pk, const uint8_t *p, size_t n) {
    while (n) {
        uint32_t room = TEXT_BLOCK_SIZE - pk->raw_len[pk->fill];
        uint32_t take = n < room ? (uint32_t)n : room;
        memcpy(pk->raw[pk->fill] + pk->raw_len[pk->fill], p, take);
        pk->raw_len[pk->fill] += take;
        p += take;
        n -= take;
        if (pk->raw_len[pk->fill] == TEXT_BLOCK_SIZE) {
            int rc = packer_submit(pk);
            if (rc) return rc;
        }
    }
    return 0;
}

/* Submit the partial block and wait until every block is compressed. */
static int packer_drain(text_packer *pk) {
    int rc = packer_submit(pk);
    if (pk->threaded) {
        pthread_mutex_lock(&pk->mu);
        while (pk->queued) pthread_cond_wait(&pk->done, &pk->mu);
        rc = pk->rc;
        pthread_mutex_unlock(&pk->mu);
    }
    return rc ? rc : pk->rc;
}

static size_t packer_memory(text_packer *pk) {
    size_t slots = 0;
    for (int i = 0; i < PACK_SLOTS; i++) slots += pk->raw[i] ? TEXT_BLOCK_SIZE : 0;
    if (!pk->threaded) return slots + pk->out_cap;
    pthread_mutex_lock(&pk->mu);
    size_t out = pk->out_cap;
    pthread_mutex_unlock(&pk->mu);
    return slots + out;
}

/* ------------------------------------------------------------------------ */
/* The buffer                                                                */
/* ------------------------------------------------------------------------ */

int inverter_init(inverter *inv) {
    memset(inv, 0, sizeof *inv);
    strtab_init(&inv->terms);
    strtab_init(&inv->words);
    buf_init(&inv->docinfo);
    buf_init(&inv->text);
    buf_init(&inv->textidx);
    inv->packer = packer_new();
    return inv->packer ? 0 : LODE_ENOMEM;
}

void inverter_free(inverter *inv) {
    if (inv->tv)
        for (uint32_t i = 0; i < inv->terms.n; i++) lode_free(inv->tv[i].stream);
    lode_free(inv->tv);
    strtab_free(&inv->terms);
    strtab_free(&inv->words);
    lode_free(inv->docs);
    lode_free(inv->undo);
    buf_free(&inv->docinfo);
    packer_free(inv->packer);
    buf_free(&inv->text);
    buf_free(&inv->textidx);
    memset(inv, 0, sizeof *inv);
}

/* After a flush the buffer starts small again: the budget counts it all. */
int inverter_reset(inverter *inv) {
    int no_threads = inv->no_threads;
    inverter_free(inv);
    int rc = inverter_init(inv);
    inv->no_threads = no_threads;
    return rc;
}

size_t inverter_memory(const inverter *inv) {
    return strtab_memory(&inv->terms) + strtab_memory(&inv->words) +
           (size_t)inv->tv_cap * sizeof(mem_term) +
           inv->stream_bytes + (size_t)inv->docs_cap * sizeof(mem_doc) + inv->docinfo.cap +
           (inv->packer ? packer_memory(inv->packer) : 0) + inv->text.cap + inv->textidx.cap +
           inv->undo_cap * sizeof(term_undo);
}

int inverter_finish_text(inverter *inv) {
    if (!inv->packer) return LODE_ENOMEM;
    int rc = packer_drain(inv->packer);
    if (rc) return rc;
    /* the sections move to the inverter; the packer starts over empty */
    buf_free(&inv->text);
    buf_free(&inv->textidx);
    inv->text = inv->packer->text;
    inv->textidx = inv->packer->textidx;
    buf_init(&inv->packer->text);
    buf_init(&inv->packer->textidx);
    inv->packer->out_cap = 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Adding a document                                                         */
/* ------------------------------------------------------------------------ */

/* Tokens wait in batches before they reach the tables: looking one up
 * costs two cache misses (its slot, its record) when the tables outgrow the
 * cache, and a batch lets them overlap (prefetch all slots, then all
 * records, then use them) instead of paying them one after the other. */
#define TOKEN_BATCH 64
#define TOKEN_BYTES (2 * LODE_MAX_TERM_BYTES) /* word + term of one token */

typedef struct pending_token {
    const char *word, *term; /* term NULL: stemming deferred */
    uint32_t word_len, term_len;
    uint32_t position;
    uint32_t term_index;
    uint64_t hash;
} pending_token;

typedef struct add_state {
    inverter *inv;
    analyzer *an;
    uint32_t doc;
    uint32_t terms_before, words_before; /* for the undo */
    passage_span *passages;
    uint32_t *first_token;
    size_t passage_n, passage_cap, next_passage;
    uint32_t title_end; /* byte offset where the title line ends */
    uint32_t title_tokens;
    uint32_t tokens;
    uint32_t batch_n;
    pending_token batch[TOKEN_BATCH];
    char bytes[TOKEN_BATCH][TOKEN_BYTES];
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

/* The term of a token's word: known if the word was seen in this buffer,
 * else stemmed (if the analyzer deferred it) and added. -1: out of memory. */
static int64_t term_index(add_state *st, const pending_token *t) {
    inverter *inv = st->inv;
    int added;
    uint32_t wrec, trec;
    int64_t wi = strtab_intern_hashed(&inv->words, t->word, t->word_len, t->hash, &added, &wrec);
    if (wi < 0) return -1;
    if (!added) return strtab_value(&inv->words, wrec);
    const char *term = t->term;
    uint32_t term_len = t->term_len;
    if (!term && analyzer_stem(st->an, t->word, t->word_len, &term, &term_len)) return -1;
    /* room for one more term first: an interned term always has its entry
     * (inverter_free and the undo walk tv up to terms.n) */
    if (inv->terms.n + 1 > inv->tv_cap) {
        uint32_t cap = inv->tv_cap ? inv->tv_cap * 2 : 1024;
        mem_term *v = lode_realloc(inv->tv, (size_t)cap * sizeof *v);
        if (!v) return -1;
        inv->tv = v;
        inv->tv_cap = cap;
    }
    int64_t ti = strtab_intern(&inv->terms, term, term_len, &added, &trec);
    if (ti < 0) return -1;
    if (added) memset(&inv->tv[ti], 0, sizeof inv->tv[ti]);
    strtab_set_value(&inv->words, wrec, (uint32_t)ti);
    return ti;
}

/* Room for `n` more bytes at the end of a term's stream. */
static int stream_reserve(inverter *inv, mem_term *t, uint32_t n) {
    if ((uint64_t)t->stream_len + n > UINT32_MAX / 2) return LODE_ELIMIT;
    uint32_t cap = t->stream_cap ? t->stream_cap : STREAM_MIN;
    while (cap < t->stream_len + n) cap *= 2;
    uint8_t *s = lode_realloc(t->stream, cap);
    if (!s) return LODE_ENOMEM;
    inv->stream_bytes += cap - t->stream_cap;
    t->stream = s;
    t->stream_cap = cap;
    return 0;
}

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* Append one occurrence to its term's stream (format at mem_term). */
static int add_occurrence(add_state *st, uint32_t ti, uint32_t position) {
    inverter *inv = st->inv;
    mem_term *m = &inv->tv[ti];
    /* worst case: a 0 closing the previous entry, a doc gap, a position */
    if (m->stream_cap - m->stream_len < 11) {
        int rc = stream_reserve(inv, m, 11);
        if (rc) return rc;
    }
    if (m->df == 0 || m->last_doc != st->doc) {
        if (inv->undo_n == inv->undo_cap) {
            size_t cap = inv->undo_cap ? inv->undo_cap * 2 : 256;
            term_undo *u = lode_realloc(inv->undo, cap * sizeof *u);
            if (!u) return LODE_ENOMEM;
            inv->undo = u;
            inv->undo_cap = cap;
        }
        term_undo *u = &inv->undo[inv->undo_n++];
        u->term = ti;
        u->stream_len = m->stream_len;
        u->last_doc = m->last_doc;
        u->next_pos = m->next_pos;
        u->cf = m->cf;
        if (m->df) m->stream[m->stream_len++] = 0;
        m->stream_len += (uint32_t)varint_put(m->stream + m->stream_len, m->df ? st->doc - m->last_doc : st->doc + 1);
        m->df++;
        m->last_doc = st->doc;
        m->next_pos = 0;
    }
    m->stream_len += (uint32_t)varint_put(m->stream + m->stream_len, position - m->next_pos + 1);
    m->next_pos = position + 1;
    m->cf++;
    return 0;
}

/* Look up and post the waiting tokens, in their order. */
static int flush_batch(add_state *st) {
    inverter *inv = st->inv;
    strtab *w = &inv->words;
    uint32_t n = st->batch_n;
    pending_token *b = st->batch;
    st->batch_n = 0;
    for (uint32_t i = 0; i < n; i++) {
        b[i].hash = lode_hash64(b[i].word, b[i].word_len, 0);
        if (w->slot_cap) PREFETCH(&w->slots[(uint32_t)b[i].hash & (w->slot_cap - 1)]);
    }
    if (w->slot_cap)
        for (uint32_t i = 0; i < n; i++) {
            uint64_t e = w->slots[(uint32_t)b[i].hash & (w->slot_cap - 1)];
            if (e) PREFETCH(w->bytes.data + (uint32_t)e - 1);
        }
    for (uint32_t i = 0; i < n; i++) {
        int64_t ti = term_index(st, &b[i]);
        if (ti < 0) return LODE_ENOMEM;
        b[i].term_index = (uint32_t)ti;
        PREFETCH(&inv->tv[ti]);
    }
    for (uint32_t i = 0; i < n; i++) {
        const mem_term *m = &inv->tv[b[i].term_index];
        if (m->stream) PREFETCH(m->stream + m->stream_len);
    }
    for (uint32_t i = 0; i < n; i++) {
        int rc = add_occurrence(st, b[i].term_index, b[i].position);
        if (rc) return rc;
    }
    return 0;
}

static int on_token(void *ctx, const token *t) {
    add_state *st = ctx;
    /* a passage starts at the first token at or after its first byte */
    while (st->next_passage < st->passage_n && st->passages[st->next_passage].offset <= t->start)
        st->first_token[st->next_passage++] = t->position;
    if (t->end <= st->title_end) st->title_tokens = t->position + 1;
    st->tokens = t->position + 1;
    uint32_t term_len = t->term ? t->term_len : 0;
    pending_token *p = &st->batch[st->batch_n];
    p->position = t->position;
    p->word_len = t->word_len;
    p->term_len = term_len;
    if ((uint64_t)t->word_len + term_len <= TOKEN_BYTES) {
        /* the analyzer's buffers are only valid during this call */
        char *at = st->bytes[st->batch_n];
        memcpy(at, t->word, t->word_len);
        p->word = at;
        if (t->term) memcpy(at + t->word_len, t->term, term_len);
        p->term = t->term ? at + t->word_len : NULL;
        if (++st->batch_n == TOKEN_BATCH) return flush_batch(st);
        return 0;
    }
    /* longer than any term the analyzer makes: post it at once */
    int rc = flush_batch(st);
    if (rc) return rc;
    p = &st->batch[0];
    p->position = t->position;
    p->word_len = t->word_len;
    p->term_len = term_len;
    p->word = t->word;
    p->term = t->term;
    st->batch_n = 1;
    return flush_batch(st);
}

/* Take a failed document out again: its terms' streams back to where they
 * were, the terms and words it added forgotten. */
static void undo_document(add_state *st) {
    inverter *inv = st->inv;
    for (size_t i = inv->undo_n; i-- > 0;) {
        const term_undo *u = &inv->undo[i];
        mem_term *m = &inv->tv[u->term];
        m->stream_len = u->stream_len;
        m->last_doc = u->last_doc;
        m->next_pos = u->next_pos;
        m->cf = u->cf;
        m->df--;
    }
    for (uint32_t i = st->terms_before; i < inv->terms.n; i++) {
        inv->stream_bytes -= inv->tv[i].stream_cap;
        lode_free(inv->tv[i].stream);
    }
    strtab_truncate(&inv->terms, st->terms_before);
    strtab_truncate(&inv->words, st->words_before);
    inv->undo_n = 0;
}

int inverter_add(inverter *inv, analyzer *a, const char *path, const uint8_t *text, size_t len,
                 int64_t mtime, lode_error *err) {
    if ((uint64_t)len > LODE_MAX_DOC_BYTES)
        return lode_fail(err, LODE_ELIMIT, "%s: %zu bytes is over the document limit of %llu bytes",
                         path, len, (unsigned long long)LODE_MAX_DOC_BYTES);
    if (inv->docs_n >= LODE_MAX_DOCS_PER_SEGMENT)
        return lode_fail(err, LODE_ELIMIT, "too many documents in one segment");
    if (!inv->packer) return lode_fail(err, LODE_ENOMEM, "out of memory while indexing %s", path);
    inv->packer->no_threads = inv->no_threads;
    int rc = 0;
    add_state st;
    memset(&st, 0, offsetof(add_state, batch)); /* the batch needs no clearing */
    st.inv = inv;
    st.an = a;
    st.doc = inv->docs_n;
    st.terms_before = inv->terms.n;
    st.words_before = inv->words.n;
    inv->undo_n = 0;
    uint32_t title_off, title_len;
    document_title((const char *)text, len, &title_off, &title_len);
    st.title_end = title_len ? title_off + title_len : 0;
    size_t info_before = inv->docinfo.len;

    rc = passages_cut((const char *)text, len, on_passage, &st);
    if (rc) goto cleanup;
    analyzer_defer_stemming(a, 1);
    rc = analyze_text(a, (const char *)text, len, 0, on_token, &st);
    analyzer_defer_stemming(a, 0);
    if (!rc) rc = flush_batch(&st);
    if (rc) goto cleanup;
    while (st.next_passage < st.passage_n) st.first_token[st.next_passage++] = st.tokens;

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
    if (inv->docinfo.rc) {
        rc = LODE_ENOMEM;
        goto cleanup;
    }
    /* the stored text is the last step that can fail: a failure in it
     * fails the writer (the packer cannot take back half a document) */
    rc = packer_add(inv->packer, text, len);
    if (rc) goto cleanup;

    mem_doc *d = &inv->docs[inv->docs_n];
    d->text_offset = inv->text_bytes;
    d->size = len;
    d->mtime = mtime;
    d->content_hash = lode_hash64(text, len, 0);
    d->info_offset = info_before;
    d->token_count = st.tokens;
    d->title_token_count = st.title_tokens;
    inv->text_bytes += len;
    inv->docs_n++;
    inv->passages += st.passage_n;
    inv->tokens += st.tokens;
    inv->title_tokens += st.title_tokens;
    inv->undo_n = 0;

cleanup:
    if (rc) {
        undo_document(&st);
        inv->docinfo.len = info_before;
        inv->docinfo.rc = 0;
    }
    lode_free(st.passages);
    lode_free(st.first_token);
    if (rc == LODE_ENOMEM) return lode_fail(err, rc, "out of memory while indexing %s", path);
    if (rc == LODE_ELIMIT) return lode_fail(err, rc, "%s: a term occurs too often in one segment", path);
    if (rc == LODE_EIO) return lode_fail(err, rc, "compressing the stored text of %s failed", path);
    return rc;
}
