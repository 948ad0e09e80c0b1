/*
 * segment_write.c - encodes an inverter's buffer as one segment file, in the
 * format of docs/FORMAT.md. Called by writer.c when the memory budget fills
 * and at commit. The file is written front to back in one pass (postings
 * stream to disk while the lexicon grows in memory); the header, which holds
 * the section table, is written last at offset 0.
 *
 * Grammar of the file (see FORMAT.md for every field):
 *   header       magic "LODESEG1", version, header length, file length,
 *                page size, section count, section table, CRC-32
 *   META         counts and the analyzer (stemmer) name
 *   DOCS         fixed 48-byte record per document
 *   DOCINFO      per document: path, title, passage table (varint deltas)
 *   TEXTIDX      per stored-text block: u64 offset, u32 compressed length
 *   TEXT         zlib streams of TEXT_BLOCK_SIZE bytes of stored text
 *   POSTINGS     per term: [skip table] doc blocks, position blocks
 *   LEXICON      front-coded blocks of LEXICON_BLOCK terms
 *   LEXIDX       u64 offset of each lexicon block
 *   VOCAB        front-coded blocks of LEXICON_BLOCK words, each with its stem
 *   VOCABIDX     u64 offset of each vocabulary block
 *   PAGECRC      CRC-32 of every 4 KiB page from the end of the header to
 *                the start of PAGECRC
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "segment.h"

#define OUT_BUF (1 << 16)
/* Postings streams smaller than this are encoded on the caller's thread
 * alone: a thread is not worth starting for them. */
#define HELPER_MIN_BYTES (64u << 10)
#define HEADER_LEN (SEG_HEADER_FIXED + SEC_MAX * SEG_SECTION_ENTRY + 4)

typedef struct seg_out {
    int fd;
    const char *path;
    lode_error *err;
    int rc;                 /* sticky: after the first failure every write is a no-op */
    uint8_t *buf;
    size_t buf_len;
    uint64_t off;           /* file offset of the next byte */
    uint32_t page_crc;      /* CRC of the current page so far */
    uint32_t page_fill;     /* bytes in the current page */
    lode_buf pages;         /* u32 CRC per finished page */
    uint32_t sec_crc;
    section_ref sec[SEC_MAX + 1];
    int cur_sec;
    int covering;           /* bytes count toward the page checksums */
} seg_out;

static void out_flush(seg_out *o) {
    size_t done = 0;
    while (!o->rc && done < o->buf_len) {
        ssize_t n = write(o->fd, o->buf + done, o->buf_len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            char msg[128];
            int e = errno;
            if (strerror_r(e, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", e);
            o->rc = lode_fail(o->err, LODE_EIO, "%s: write failed: %s", o->path, msg);
            break;
        }
        done += (size_t)n;
    }
    o->buf_len = 0;
}

/* Append bytes; they count toward the page checksums (and the current
 * section's CRC when `in_section`). */
static void out_write(seg_out *o, const void *data, size_t n, int in_section) {
    if (o->rc || n == 0) return;
    const uint8_t *p = data;
    if (in_section) o->sec_crc = lode_crc32(o->sec_crc, p, n);
    size_t left = o->covering ? n : 0;
    const uint8_t *q = p;
    while (left) {
        size_t take = SEG_PAGE_SIZE - o->page_fill;
        if (take > left) take = left;
        o->page_crc = lode_crc32(o->page_crc, q, take);
        o->page_fill += (uint32_t)take;
        q += take;
        left -= take;
        if (o->page_fill == SEG_PAGE_SIZE) {
            buf_put_u32(&o->pages, o->page_crc);
            o->page_crc = 0;
            o->page_fill = 0;
        }
    }
    while (n) {
        size_t take = OUT_BUF - o->buf_len;
        if (take > n) take = n;
        memcpy(o->buf + o->buf_len, p, take);
        o->buf_len += take;
        p += take;
        n -= take;
        if (o->buf_len == OUT_BUF) out_flush(o);
    }
    o->off += (uint64_t)(p - (const uint8_t *)data);
}

static void out_buf(seg_out *o, const lode_buf *b) {
    if (b->rc && !o->rc) o->rc = lode_fail(o->err, LODE_ENOMEM, "out of memory writing %s", o->path);
    out_write(o, b->data, b->len, 1);
}

static void section_begin(seg_out *o, int id) {
    static const uint8_t zeros[SEG_ALIGN] = {0};
    size_t pad = (size_t)((SEG_ALIGN - o->off % SEG_ALIGN) % SEG_ALIGN);
    out_write(o, zeros, pad, 0);
    o->cur_sec = id;
    o->sec[id].offset = o->off;
    o->sec_crc = 0;
}

static void section_end(seg_out *o) {
    o->sec[o->cur_sec].length = o->off - o->sec[o->cur_sec].offset;
    o->sec[o->cur_sec].crc = o->sec_crc;
}

/* --- postings ----------------------------------------------------------- */

/* A string to sort, with its first 8 bytes as a big-endian number
 * (zero-padded): most comparisons end on the key, without touching the
 * string's bytes, which are scattered over the inverter's tables. */
typedef struct term_sort {
    uint64_t key;
    const uint8_t *bytes;
    uint32_t len;
    uint32_t idx;
} term_sort;

static int cmp_terms(const void *a, const void *b) {
    const term_sort *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

typedef struct enc_state {
    lode_buf skip, docs, pos;
    uint32_t *posv;          /* positions of the current block */
    size_t posv_n, posv_cap;
    uint32_t bdoc[POSTINGS_BLOCK], btf[POSTINGS_BLOCK], bttf[POSTINGS_BLOCK];
    uint32_t bn;
    int64_t prev_last;       /* last doc of the previous block, -1 at first */
    term_info ti;
} enc_state;

static void put_packed(lode_buf *b, const uint32_t *v, size_t n) {
    unsigned w = bitwidth_of(v, n);
    buf_put_u8(b, (uint8_t)w);
    size_t bytes = bitpack_bytes(n, w);
    if (buf_reserve(b, bytes)) return;
    bitpack_put(b->data + b->len, v, n, w);
    b->len += bytes;
}

/* Encode the gathered block: doc data, position data and its skip entry. */
static void encode_block(enc_state *e, const inverter *inv) {
    uint32_t gaps[POSTINGS_BLOCK], tfm1[POSTINGS_BLOCK];
    uint32_t max_tf = 0, max_ttf = 0, min_len = UINT32_MAX;
    int64_t prev = e->prev_last;
    for (uint32_t i = 0; i < e->bn; i++) {
        gaps[i] = (uint32_t)((int64_t)e->bdoc[i] - prev - 1);
        prev = e->bdoc[i];
        tfm1[i] = e->btf[i] - 1;
        if (e->btf[i] > max_tf) max_tf = e->btf[i];
        if (e->bttf[i] > max_ttf) max_ttf = e->bttf[i];
        uint32_t len = inv->docs[e->bdoc[i]].token_count;
        if (len < min_len) min_len = len;
    }
    /* three width bytes first, then the three packed arrays */
    unsigned wg = bitwidth_of(gaps, e->bn), wt = bitwidth_of(tfm1, e->bn),
             wtt = bitwidth_of(e->bttf, e->bn);
    buf_put_u8(&e->docs, (uint8_t)wg);
    buf_put_u8(&e->docs, (uint8_t)wt);
    buf_put_u8(&e->docs, (uint8_t)wtt);
    size_t need = bitpack_bytes(e->bn, wg) + bitpack_bytes(e->bn, wt) + bitpack_bytes(e->bn, wtt);
    if (!buf_reserve(&e->docs, need)) {
        bitpack_put(e->docs.data + e->docs.len, gaps, e->bn, wg);
        e->docs.len += bitpack_bytes(e->bn, wg);
        bitpack_put(e->docs.data + e->docs.len, tfm1, e->bn, wt);
        e->docs.len += bitpack_bytes(e->bn, wt);
        bitpack_put(e->docs.data + e->docs.len, e->bttf, e->bn, wtt);
        e->docs.len += bitpack_bytes(e->bn, wtt);
    }
    for (size_t i = 0; i < e->posv_n; i += POSTINGS_BLOCK) {
        size_t n = e->posv_n - i < POSTINGS_BLOCK ? e->posv_n - i : POSTINGS_BLOCK;
        put_packed(&e->pos, e->posv + i, n);
    }
    buf_put_u32(&e->skip, e->bdoc[e->bn - 1]);
    buf_put_u32(&e->skip, (uint32_t)e->docs.len);
    buf_put_u32(&e->skip, (uint32_t)e->pos.len);
    buf_put_u32(&e->skip, max_tf);
    buf_put_u32(&e->skip, max_ttf);
    buf_put_u32(&e->skip, min_len);
    if (max_tf > e->ti.max_tf) e->ti.max_tf = max_tf;
    if (max_ttf > e->ti.max_title_tf) e->ti.max_title_tf = max_ttf;
    if (min_len < e->ti.min_len) e->ti.min_len = min_len;
    e->prev_last = e->bdoc[e->bn - 1];
    e->bn = 0;
    e->posv_n = 0;
}

/* Re-encode one term's in-memory stream into the block format: its region
 * is then e->skip (when df > POSTINGS_BLOCK), e->docs and e->pos, and its
 * lexicon statistics e->ti (all but the offset). */
static int encode_term(enc_state *e, const inverter *inv, const mem_term *t) {
    e->skip.len = e->docs.len = e->pos.len = 0;
    e->bn = 0;
    e->posv_n = 0;
    e->prev_last = -1;
    memset(&e->ti, 0, sizeof e->ti);
    e->ti.min_len = UINT32_MAX;
    const uint8_t *p = t->stream, *end = t->stream + t->stream_len;
    int64_t doc = -1;
    while (p < end) {
        /* one document's entry: see mem_term in segment.h */
        uint64_t gap;
        if (varint_get(&p, end, &gap)) return LODE_ECORRUPT; /* our own stream: cannot happen */
        doc += (int64_t)gap;
        uint32_t title_end = inv->docs[doc].title_token_count;
        uint32_t tf = 0, ttf = 0;
        int64_t pos = -1;
        while (p < end && *p != 0) {
            uint64_t g;
            if (varint_get(&p, end, &g)) return LODE_ECORRUPT;
            if (e->posv_n == e->posv_cap) {
                size_t cap = e->posv_cap ? e->posv_cap * 2 : 1024;
                uint32_t *v = lode_realloc(e->posv, cap * sizeof *v);
                if (!v) return LODE_ENOMEM;
                e->posv = v;
                e->posv_cap = cap;
            }
            /* on disk: position - previous position - 1 */
            e->posv[e->posv_n++] = (uint32_t)(g - 1);
            pos += (int64_t)g;
            tf++;
            if (pos < title_end) ttf++;
        }
        if (p < end) p++; /* the 0 closing the entry */
        e->bdoc[e->bn] = (uint32_t)doc;
        e->btf[e->bn] = (uint32_t)tf;
        e->bttf[e->bn] = (uint32_t)ttf;
        if (++e->bn == POSTINGS_BLOCK) encode_block(e, inv);
    }
    if (e->bn) encode_block(e, inv);
    if (e->skip.rc || e->docs.rc || e->pos.rc) return LODE_ENOMEM;
    if (e->docs.len > UINT32_MAX || e->pos.len > UINT32_MAX) return LODE_ELIMIT;
    /* a single block needs no skip table: the lexicon holds its maxima */
    if (t->df <= POSTINGS_BLOCK) e->skip.len = 0;
    e->ti.df = t->df;
    e->ti.cf = t->cf;
    e->ti.length = e->skip.len + e->docs.len + e->pos.len;
    return 0;
}

static void enc_free(enc_state *e) {
    buf_free(&e->skip);
    buf_free(&e->docs);
    buf_free(&e->pos);
    lode_free(e->posv);
}

/* The stream is no longer needed once encoded: its memory goes back at
 * once. Returns the capacity freed, for the budget's count. */
static size_t drop_stream(mem_term *t) {
    size_t cap = t->stream_cap;
    lode_free(t->stream);
    t->stream = NULL;
    t->stream_cap = t->stream_len = 0;
    return cap;
}

static void sort_strings(const strtab *t, term_sort *order) {
    for (uint32_t i = 0; i < t->n; i++) {
        const uint8_t *b = strtab_str(t, i);
        uint32_t len = t->len[i];
        uint64_t key = 0;
        for (uint32_t k = 0; k < 8; k++) key = key << 8 | (k < len ? b[k] : 0);
        order[i] = (term_sort){key, b, len, i};
    }
    qsort(order, t->n, sizeof *order, cmp_terms);
}

static uint32_t common_prefix(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
    uint32_t n = 0, max = an < bn ? an : bn;
    while (n < max && a[n] == b[n]) n++;
    return n;
}

/* Front coding shared by LEXICON and VOCAB: the first string of a block of
 * LEXICON_BLOCK in full (its offset recorded in the index section), the
 * others as bytes shared with the previous one plus the rest. */
static void front_code(lode_buf *out, lode_buf *idx, uint32_t i, const term_sort *cur, const term_sort *prev) {
    if (i % LEXICON_BLOCK == 0) {
        buf_put_u64(idx, out->len);
        buf_put_varint(out, cur->len);
        buf_append(out, cur->bytes, cur->len);
    } else {
        uint32_t shared = common_prefix(cur->bytes, cur->len, prev->bytes, prev->len);
        buf_put_varint(out, shared);
        buf_put_varint(out, cur->len - shared);
        buf_append(out, cur->bytes + shared, cur->len - shared);
    }
}

/* A word's stem is mostly a prefix of it: stored as bytes shared with the
 * word plus the rest. */
static void vocab_add(lode_buf *voc, lode_buf *idx, uint32_t i, const term_sort *cur, const term_sort *prev,
                      const uint8_t *stem, uint32_t stem_len) {
    front_code(voc, idx, i, cur, prev);
    uint32_t shared = common_prefix(cur->bytes, cur->len, stem, stem_len);
    buf_put_varint(voc, shared);
    buf_put_varint(voc, stem_len - shared);
    buf_append(voc, stem + shared, stem_len - shared);
}

static void lexicon_add(lode_buf *lex, lode_buf *lexidx, uint32_t i, const term_sort *cur,
                        const term_sort *prev, const term_info *ti) {
    front_code(lex, lexidx, i, cur, prev);
    if (i % LEXICON_BLOCK == 0) buf_put_varint(lex, ti->offset);
    buf_put_varint(lex, ti->df);
    buf_put_varint(lex, ti->cf - ti->df);
    buf_put_varint(lex, ti->length);
    buf_put_varint(lex, ti->max_tf);
    buf_put_varint(lex, ti->max_title_tf);
    buf_put_varint(lex, ti->min_len);
}

/* A segment write shares its work with one helper thread when threads are
 * allowed (the compressing thread is idle by then): both re-encode
 * postings, most of the work, in batches of consecutive terms (lexicon
 * order). Either claims the next batch; the caller writes finished batches
 * in order. At most PIPE_SLOTS batches are claimed ahead of the one to
 * write next, so the encoded bytes held in memory stay bounded (a few MiB)
 * while the streams they replace are freed. (Building VOCAB on the helper
 * meanwhile saved 3% of the build but held a second sort array, 11 MB more
 * at the peak on the 1 GiB corpus: memory is what the budget bounds.)
 * The bytes written are the same whoever does which part, so segments stay
 * byte-identical (FORMAT.md §9). Without threads the caller does it all, in
 * the same code. */
#define PIPE_SLOTS 2
/* Stream bytes per batch, about: an eighth of the total, so that both
 * threads get work on a small segment, within these bounds. */
#define BATCH_BYTES_MIN (16u << 10)
#define BATCH_BYTES_MAX (256u << 10)
#define BATCH_TERMS 1024u
/* A term whose stream is this large is a batch of its own that the caller
 * encodes straight into the file when its turn comes, as a one-thread
 * write would: held in a slot it would be in memory twice (its encoding
 * and the slot's copy), for each slot. */
#define DIRECT_TERM_BYTES (1u << 20)

typedef struct batch_slot {
    uint32_t from, to;   /* the batch's terms, indexes into the order */
    int state;           /* 0 free, 1 being encoded, 2 done */
    int direct;          /* one large term, encoded by the caller as it writes */
    int rc;
    lode_buf out;        /* the batch's regions, concatenated */
    term_info ti[BATCH_TERMS]; /* per term, offset relative to `out` */
    size_t freed;        /* stream capacity given back */
    enc_state e;
} batch_slot;

typedef struct seg_helper {
    inverter *inv;
    /* the fields below are guarded by mu when threaded */
    const term_sort *order;
    uint32_t nterms;
    uint64_t batch_bytes;
    uint32_t next_term;  /* first term not yet claimed */
    uint64_t claimed;    /* batches claimed */
    uint64_t written;    /* batches written */
    enc_state direct_e;  /* the caller's, for direct batches */
    int stop;            /* done, or an error: claim nothing more */
    int threaded;        /* the helper thread runs (until joined) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_slot slot[PIPE_SLOTS];
} seg_helper;

/* VOCAB: every word before stemming, with its stem, for prefix queries
 * that must work whatever the stemmer did to the full word. `order` has
 * room for every word. */
static int build_vocab(const inverter *inv, term_sort *order, lode_buf *voc, lode_buf *vocidx) {
    uint32_t nwords = inv->words.n;
    sort_strings(&inv->words, order);
    for (uint32_t i = 0; i < nwords; i++) {
        uint32_t ti = strtab_value_of(&inv->words, order[i].idx);
        vocab_add(voc, vocidx, i, &order[i], i ? &order[i - 1] : NULL, strtab_str(&inv->terms, ti),
                  inv->terms.len[ti]);
    }
    return voc->rc || vocidx->rc ? LODE_ENOMEM : 0;
}

/* Stream bytes per batch for a buffer of `stream_bytes` (see BATCH_BYTES_MIN). */
static uint64_t batch_bytes_for(uint64_t stream_bytes) {
    uint64_t b = stream_bytes / 8;
    return b < BATCH_BYTES_MIN ? BATCH_BYTES_MIN : b > BATCH_BYTES_MAX ? BATCH_BYTES_MAX : b;
}

/* Claim the next batch if the window allows: its slot, or NULL. Under mu. */
static batch_slot *claim_batch(seg_helper *p) {
    if (p->stop || p->next_term == p->nterms || p->claimed >= p->written + PIPE_SLOTS) return NULL;
    batch_slot *b = &p->slot[p->claimed++ % PIPE_SLOTS];
    uint64_t bytes = 0;
    b->from = p->next_term;
    b->direct = p->inv->tv[p->order[b->from].idx].stream_len >= DIRECT_TERM_BYTES;
    if (b->direct) {
        p->next_term++;
    } else {
        while (p->next_term < p->nterms && bytes < p->batch_bytes && p->next_term - b->from < BATCH_TERMS) {
            uint32_t len = p->inv->tv[p->order[p->next_term].idx].stream_len;
            if (len >= DIRECT_TERM_BYTES) break;
            bytes += len;
            p->next_term++;
        }
    }
    b->to = p->next_term;
    b->state = 1;
    return b;
}

/* Encode a claimed batch (outside mu). */
static void encode_batch(seg_helper *p, batch_slot *b) {
    b->out.len = 0;
    b->freed = 0;
    b->rc = 0;
    if (b->direct) return;
    for (uint32_t i = b->from; i < b->to; i++) {
        mem_term *t = &p->inv->tv[p->order[i].idx];
        uint64_t at = b->out.len;
        if ((b->rc = encode_term(&b->e, p->inv, t))) return;
        buf_append(&b->out, b->e.skip.data, b->e.skip.len);
        buf_append(&b->out, b->e.docs.data, b->e.docs.len);
        buf_append(&b->out, b->e.pos.data, b->e.pos.len);
        if (b->out.rc) {
            b->rc = LODE_ENOMEM;
            return;
        }
        b->e.ti.offset = at;
        b->ti[i - b->from] = b->e.ti;
        b->freed += drop_stream(t);
    }
}

static void *helper_main(void *arg) {
    seg_helper *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        batch_slot *b = claim_batch(p);
        if (b) {
            pthread_mutex_unlock(&p->mu);
            encode_batch(p, b);
            pthread_mutex_lock(&p->mu);
            b->state = 2;
            pthread_cond_broadcast(&p->cv);
        } else if (p->stop || p->next_term == p->nterms) {
            break;
        } else {
            pthread_cond_wait(&p->cv, &p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The pipeline's state, without its thread yet. NULL: out of memory. */
static seg_helper *helper_new(inverter *inv) {
    seg_helper *p = lode_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->inv = inv;
    for (int i = 0; i < PIPE_SLOTS; i++) buf_init(&p->slot[i].out);
    p->batch_bytes = BATCH_BYTES_MAX;
    return p;
}

/* Start the helper thread for the sorted terms when threads are allowed
 * and the segment is large enough to be worth one; else the caller does
 * it all, as without threads. */
static void helper_start(seg_helper *p, const term_sort *order, uint32_t nterms) {
    p->order = order;
    p->nterms = nterms;
    if (p->inv->no_threads) return;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nterms; i++) total += p->inv->tv[order[i].idx].stream_len;
    p->batch_bytes = batch_bytes_for(total);
    if (total < HELPER_MIN_BYTES || pthread_mutex_init(&p->mu, NULL) != 0) return;
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return;
    }
    p->threaded = pthread_create(&p->thread, NULL, helper_main, p) == 0;
    if (!p->threaded) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
    }
}

/* Stop and join the helper thread, if it runs. */
static void helper_join(seg_helper *p) {
    if (!p->threaded) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    p->threaded = 0;
}

static void helper_free(seg_helper *p) {
    if (!p) return;
    helper_join(p);
    for (int i = 0; i < PIPE_SLOTS; i++) {
        buf_free(&p->slot[i].out);
        enc_free(&p->slot[i].e);
    }
    enc_free(&p->direct_e);
    lode_free(p);
}

/* Encode and write the postings of every term (order[0, nterms), sorted);
 * the lexicon entries go to lex/lexidx. Returns 0 or the first error
 * (o->rc for write errors). */
static int write_postings(seg_helper *p, seg_out *o, const term_sort *order, uint32_t nterms, lode_buf *lex,
                          lode_buf *lexidx) {
    inverter *inv = p->inv;
    int rc = 0;
    uint64_t postings_start = o->off;
    helper_start(p, order, nterms);
    if (p->threaded) pthread_mutex_lock(&p->mu);
    while (!rc && !o->rc && (p->next_term < nterms || p->written < p->claimed)) {
        batch_slot *next = &p->slot[p->written % PIPE_SLOTS];
        batch_slot *b;
        if (p->written < p->claimed && next->state == 2) {
            /* the next batch in order is done: write it */
            if (p->threaded) pthread_mutex_unlock(&p->mu);
            if (next->direct) {
                mem_term *t = &inv->tv[order[next->from].idx];
                uint64_t at = o->off - postings_start;
                if (!(rc = encode_term(&p->direct_e, inv, t))) {
                    out_write(o, p->direct_e.skip.data, p->direct_e.skip.len, 1);
                    out_write(o, p->direct_e.docs.data, p->direct_e.docs.len, 1);
                    out_write(o, p->direct_e.pos.data, p->direct_e.pos.len, 1);
                    p->direct_e.ti.offset = at;
                    lexicon_add(lex, lexidx, next->from, &order[next->from],
                                next->from ? &order[next->from - 1] : NULL, &p->direct_e.ti);
                    inv->stream_bytes -= drop_stream(t);
                }
            } else if (!(rc = next->rc)) {
                uint64_t base = o->off - postings_start;
                out_buf(o, &next->out);
                for (uint32_t i = next->from; i < next->to; i++) {
                    term_info ti = next->ti[i - next->from];
                    ti.offset += base;
                    lexicon_add(lex, lexidx, i, &order[i], i ? &order[i - 1] : NULL, &ti);
                }
                inv->stream_bytes -= next->freed;
            }
            if (p->threaded) pthread_mutex_lock(&p->mu);
            next->state = 0;
            p->written++;
            if (p->threaded) pthread_cond_broadcast(&p->cv);
        } else if ((b = claim_batch(p))) {
            if (p->threaded) pthread_mutex_unlock(&p->mu);
            encode_batch(p, b);
            if (p->threaded) pthread_mutex_lock(&p->mu);
            b->state = 2;
        } else {
            /* only when threaded: the helper holds the next batch */
            pthread_cond_wait(&p->cv, &p->mu);
        }
    }
    if (p->threaded) {
        pthread_mutex_unlock(&p->mu);
        helper_join(p);
    }
    return rc;
}

size_t segment_write_memory(const inverter *inv) {
    size_t strings = inv->terms.n > inv->words.n ? inv->terms.n : inv->words.n;
    size_t batch = (size_t)batch_bytes_for(inv->stream_bytes);
    /* the sort array; LEXICON, LEXIDX and LEXKEYS (about 12 + 0.5 + 0.5
     * bytes a term on the bench corpus), doubled as buffers grow; the
     * slots, and the buffers of the slots and of the caller's encoder, about
     * two batches each at their largest (a term of DIRECT_TERM_BYTES or more
     * is written as it is encoded) */
    return strings * sizeof(term_sort) + (size_t)inv->terms.n * 2 * 13 + sizeof(seg_helper) +
           (PIPE_SLOTS + 1) * 4 * batch + OUT_BUF;
}

static void put_header(uint8_t *h, const seg_out *o, uint64_t file_len) {
    memset(h, 0, HEADER_LEN);
    memcpy(h, SEG_MAGIC, SEG_MAGIC_LEN);
    store_u32(h + 8, SEG_FORMAT_VERSION);
    store_u32(h + 12, HEADER_LEN);
    store_u64(h + 16, file_len);
    store_u32(h + 24, SEG_PAGE_SIZE);
    store_u32(h + 28, SEC_MAX);
    /* the table lists the sections in file order */
    static const int file_order[SEC_MAX] = {
        SEC_META,    SEC_DOCS,   SEC_DOCINFO, SEC_TEXTIDX, SEC_TEXT,    SEC_POSTINGS, SEC_LEXICON,
        SEC_LEXIDX,  SEC_VOCAB,  SEC_VOCABIDX, SEC_LEXKEYS, SEC_DOCLENS, SEC_PAGECRC};
    for (int i = 0; i < SEC_MAX; i++) {
        int id = file_order[i];
        uint8_t *e = h + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        store_u32(e, (uint32_t)id);
        store_u64(e + 8, o->sec[id].offset);
        store_u64(e + 16, o->sec[id].length);
        store_u32(e + 24, o->sec[id].crc);
    }
    store_u32(h + HEADER_LEN - 4, lode_crc32(0, h, HEADER_LEN - 4));
}

int segment_write_fd(inverter *inv, int fd, const char *path, const char *stemmer, uint32_t *header_crc,
                     uint64_t *file_len, lode_error *err) {
    seg_out o;
    memset(&o, 0, sizeof o);
    o.fd = fd;
    o.path = path;
    o.err = err;
    o.page_crc = 0;
    buf_init(&o.pages);
    lode_buf meta, docs, lex, lexidx, keys;
    buf_init(&meta);
    buf_init(&keys);
    buf_init(&docs);
    buf_init(&lex);
    buf_init(&lexidx);
    term_sort *order = NULL;
    seg_helper *helper = NULL;
    int rc = inverter_finish_text(inv);
    if (rc) return lode_fail(err, rc, "out of memory compressing stored text");

    o.buf = lode_malloc(OUT_BUF);
    uint32_t nterms = inv->terms.n, nwords = inv->words.n;
    order = lode_malloc((size_t)(nterms > nwords ? nterms : nwords) * sizeof *order + 1);
    helper = helper_new(inv);
    if (!o.buf || !order || !helper) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory writing %s", path);
        goto cleanup;
    }
    {
        uint8_t zero[HEADER_LEN];
        memset(zero, 0, sizeof zero);
        out_write(&o, zero, sizeof zero, 0);
        /* pages cover the file from the end of the header */
        o.covering = 1;
    }

    size_t stem_len = strlen(stemmer);
    buf_put_u32(&meta, inv->docs_n);
    buf_put_u32(&meta, nterms);
    buf_put_u64(&meta, inv->passages);
    buf_put_u64(&meta, inv->tokens);
    buf_put_u64(&meta, inv->title_tokens);
    buf_put_u64(&meta, inv->text_bytes);
    buf_put_u32(&meta, TEXT_BLOCK_SIZE);
    buf_put_u32(&meta, POSTINGS_BLOCK);
    buf_put_u32(&meta, LEXICON_BLOCK);
    buf_put_u32(&meta, nwords);
    buf_put_u8(&meta, (uint8_t)stem_len);
    buf_append(&meta, stemmer, stem_len);
    section_begin(&o, SEC_META);
    out_buf(&o, &meta);
    section_end(&o);

    for (uint32_t i = 0; i < inv->docs_n; i++) {
        const mem_doc *d = &inv->docs[i];
        buf_put_u64(&docs, d->text_offset);
        buf_put_u64(&docs, d->size);
        buf_put_u64(&docs, (uint64_t)d->mtime);
        buf_put_u64(&docs, d->content_hash);
        buf_put_u64(&docs, d->info_offset);
        buf_put_u32(&docs, d->token_count);
        buf_put_u32(&docs, d->title_token_count);
    }
    section_begin(&o, SEC_DOCS);
    out_buf(&o, &docs);
    section_end(&o);
    section_begin(&o, SEC_DOCINFO);
    out_buf(&o, &inv->docinfo);
    section_end(&o);
    section_begin(&o, SEC_TEXTIDX);
    out_buf(&o, &inv->textidx);
    section_end(&o);
    section_begin(&o, SEC_TEXT);
    out_buf(&o, &inv->text);
    section_end(&o);

    sort_strings(&inv->terms, order);
    section_begin(&o, SEC_POSTINGS);
    if ((rc = write_postings(helper, &o, order, nterms, &lex, &lexidx))) {
        rc = lode_fail(err, rc, "%s while encoding postings for %s",
                       rc == LODE_ENOMEM ? "out of memory" : "limit exceeded", path);
        goto cleanup;
    }
    section_end(&o);
    section_begin(&o, SEC_LEXICON);
    out_buf(&o, &lex);
    section_end(&o);
    section_begin(&o, SEC_LEXIDX);
    out_buf(&o, &lexidx);
    section_end(&o);
    /* LEXKEYS is written after VOCAB, but the sort array is about to be
     * reused for the words: take each block's first term now */
    for (uint32_t i = 0; i < nterms; i += LEXICON_BLOCK) {
        uint8_t key[LEXKEY_BYTES] = {0};
        memcpy(key, order[i].bytes, order[i].len < LEXKEY_BYTES ? order[i].len : LEXKEY_BYTES);
        buf_append(&keys, key, sizeof key);
    }

    lex.len = lexidx.len = 0;
    if ((rc = build_vocab(inv, order, &lex, &lexidx))) {
        rc = lode_fail(err, rc, "out of memory writing %s", path);
        goto cleanup;
    }
    section_begin(&o, SEC_VOCAB);
    out_buf(&o, &lex);
    section_end(&o);
    section_begin(&o, SEC_VOCABIDX);
    out_buf(&o, &lexidx);
    section_end(&o);
    section_begin(&o, SEC_LEXKEYS);
    out_buf(&o, &keys);
    section_end(&o);
    docs.len = 0;
    for (uint32_t i = 0; i < inv->docs_n; i++) {
        buf_put_u32(&docs, inv->docs[i].token_count);
        buf_put_u32(&docs, inv->docs[i].title_token_count);
    }
    section_begin(&o, SEC_DOCLENS);
    out_buf(&o, &docs);
    section_end(&o);

    section_begin(&o, SEC_PAGECRC);
    if (o.page_fill) buf_put_u32(&o.pages, o.page_crc);
    {
        /* the checksums themselves are outside the pages they cover */
        uint64_t start = o.off;
        uint32_t crc = lode_crc32(0, o.pages.data, o.pages.len);
        if (o.pages.rc && !o.rc) o.rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        o.covering = 0;
        out_write(&o, o.pages.data, o.pages.len, 0);
        o.sec[SEC_PAGECRC].offset = start;
        o.sec[SEC_PAGECRC].length = o.off - start;
        o.sec[SEC_PAGECRC].crc = crc;
    }
    out_flush(&o);
    if (o.rc) {
        rc = o.rc;
        goto cleanup;
    }
    {
        uint8_t h[HEADER_LEN];
        put_header(h, &o, o.off);
        ssize_t n;
        do {
            n = pwrite(o.fd, h, HEADER_LEN, 0);
        } while (n < 0 && errno == EINTR);
        if (n != HEADER_LEN || fsync(o.fd) != 0) {
            rc = lode_fail(err, LODE_EIO, "%s: writing the header or fsync failed", path);
            goto cleanup;
        }
        *header_crc = load_u32(h + HEADER_LEN - 4);
        *file_len = o.off;
    }

cleanup:
    helper_free(helper);
    lode_free(o.buf);
    lode_free(order);
    buf_free(&o.pages);
    buf_free(&meta);
    buf_free(&docs);
    buf_free(&lex);
    buf_free(&lexidx);
    buf_free(&keys);
    return rc ? rc : o.rc;
}

int segment_write(inverter *inv, const char *path, const char *stemmer, uint32_t *header_crc,
                  uint64_t *file_len, lode_error *err) {
    /* O_EXCL: a segment name is never reused, so an existing file is
     * another writer's and must not be overwritten */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        char msg[128];
        int en = errno;
        if (strerror_r(en, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", en);
        return lode_fail(err, LODE_EIO, "cannot create %s: %s", path, msg);
    }
    int rc = segment_write_fd(inv, fd, path, stemmer, header_crc, file_len, err);
    if (close(fd) != 0 && !rc) rc = lode_fail(err, LODE_EIO, "%s: close failed", path);
    if (rc) unlink(path);
    return rc;
}
