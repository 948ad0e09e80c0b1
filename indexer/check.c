/*
 * check.c - the structural half of lode_index_check(). segment_check_all()
 * proves that the bytes are the ones the writer wrote; segment_verify()
 * proves that what it wrote holds together: every structure is decoded
 * and held to the invariants of docs/FORMAT.md (§7, "Full check"). A
 * segment with right checksums and wrong content (a writer bug, a
 * hand-made or foreign file) is refused here instead of by the search that
 * happens to read the bad part, or not at all: statistics that disagree
 * with the postings give wrong answers, not errors (a block's max_tf below
 * a real tf lets block-max evaluation skip a document it must rank).
 *
 * Everything is read through the decoders a search uses (segment_doc,
 * segment_doc_info, doc_info_passages, segment_prefix_terms and _words,
 * segment_lookup, postings_open/next/positions/block_bound), so a segment
 * that passes is one they accept everywhere; on top of their own checks,
 * this file checks what they take on trust:
 *
 *   DOCS, DOCINFO  texts contiguous in id order and adding up to META's
 *                  text_bytes; records starting at DOCINFO offset 0; no
 *                  title tokens without a title; passages on lines >= 1
 *                  (and no later than their offset allows), first_token <=
 *                  token_count; token, title-token and passage counts
 *                  adding up to META's. (Passages in order and not
 *                  overlapping, lines and first tokens non-decreasing,
 *                  follow from the delta coding the decoder undoes.)
 *   TEXTIDX, TEXT  blocks contiguous from offset 0 to the end of TEXT, each
 *                  a whole zlib stream (its Adler-32 checked) that inflates
 *                  to exactly its length, with nothing after it.
 *   LEXICON        terms strictly increasing across blocks, term_count of
 *                  them, LEXIDX starting at 0, no bytes after a block's
 *                  last entry; postings regions contiguous in term order
 *                  from 0 to the end of POSTINGS; df, cf, max_tf,
 *                  max_title_tf and min_len equal to what the postings
 *                  hold; the occurrences of all terms adding up to META's
 *                  token_count and title tokens (§4: every position of a
 *                  document is one occurrence of one term).
 *   POSTINGS       every document and every position decoded: tf <= the
 *                  document's token_count, positions below it, exactly
 *                  title tf of them below its title_token_count; each skip
 *                  entry's maxima equal to its block's; a block's position
 *                  chunks ending exactly where its position data ends.
 *   VOCAB          words strictly increasing across blocks, word_count of
 *                  them (at least term_count), VOCABIDX starting at 0, no
 *                  bytes after a block's last entry, every stem a LEXICON
 *                  term.
 *
 * Not verified: content_hash and mtime (informational), that each term is
 * the stem of some word, that passages, titles and token counts are what
 * analysing the text again would give (that would hold older indexes to
 * this version's analyzer), and the padding, flags and reserved fields.
 *
 * Memory is bounded: nothing is loaded, the sections are walked in place.
 * The only buffers are one text block, the positions of one (term,
 * document) and the passages of one document, each bounded by the bytes
 * that encode it. Time is linear in the segment, but for one lexicon
 * lookup (a binary search over the lexicon blocks) per VOCAB word.
 */
#include <stdarg.h>
#include <stdio.h>
#include <zlib.h>

#include "segment.h"

typedef struct checker {
    segment *s;
    lode_error *err;
    const uint8_t *docs;      /* the DOCS section, in place */
    /* the walk over LEXICON or VOCAB */
    uint8_t prev[255];        /* the previous term or word */
    uint32_t prev_len;
    uint64_t count;           /* entries seen */
    uint64_t next_offset;     /* where the next term's postings must start */
    uint64_t cf_sum;          /* occurrences of every term */
    uint64_t ttf_sum;         /* title occurrences of every term */
    uint32_t *pos;            /* positions of one (term, document); owned */
    size_t pos_cap;
    uint8_t last_stem[255];   /* the last stem found in LEXICON */
    uint32_t last_stem_len;
} checker;

static int bad(const checker *c, int sec, const char *fmt, ...) LODE_PRINTF(3, 4);

static int bad(const checker *c, int sec, const char *fmt, ...) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lode_corrupt(c->err, c->s->name, section_name(sec), what);
}

/* A term or word for a message: in quotes, control bytes, quotes and
 * backslashes escaped, cut after 40 bytes. */
typedef struct quoted {
    char s[40 * 4 + 8];
} quoted;

static quoted quote(const void *bytes, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const uint8_t *b = bytes;
    quoted q;
    size_t n = 0;
    q.s[n++] = '"';
    for (size_t i = 0; i < len && i < 40; i++) {
        if (b[i] < 0x20 || b[i] == 0x7f || b[i] == '"' || b[i] == '\\') {
            q.s[n++] = '\\';
            q.s[n++] = 'x';
            q.s[n++] = hex[b[i] >> 4];
            q.s[n++] = hex[b[i] & 15];
        } else {
            q.s[n++] = (char)b[i];
        }
    }
    q.s[n++] = '"';
    if (len > 40) {
        memcpy(q.s + n, "...", 3);
        n += 3;
    }
    q.s[n] = '\0';
    return q;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : (an > bn) - (an < bn);
}

/* Strictly after the previous entry of the walk; then it becomes the
 * previous one. */
static int in_order(checker *c, int sec, const char *entry, size_t len) {
    if (c->count && cmp_bytes(c->prev, c->prev_len, (const uint8_t *)entry, len) >= 0)
        return bad(c, sec, "%s %s after %s: not in increasing order", sec == SEC_LEXICON ? "term" : "word",
                   quote(entry, len).s, quote(c->prev, c->prev_len).s);
    if (len > sizeof c->prev) return bad(c, sec, "entry longer than 255 bytes"); /* the decoder refuses them */
    memcpy(c->prev, entry, len);
    c->prev_len = (uint32_t)len;
    c->count++;
    return 0;
}

/* --- documents ----------------------------------------------------------- */

static int verify_docs(checker *c) {
    segment *s = c->s;
    if (s->doc_count == 0 && s->sec[SEC_DOCINFO].length)
        return bad(c, SEC_DOCINFO, "%llu bytes but no documents", (unsigned long long)s->sec[SEC_DOCINFO].length);
    uint64_t text = 0, tokens = 0, title = 0, passages = 0;
    passage_record *pr = NULL;
    size_t pr_cap = 0;
    int rc = 0;
    for (uint32_t d = 0; d < s->doc_count && !rc; d++) {
        doc_record r;
        doc_info info;
        rc = segment_doc(s, d, &r, c->err);
        if (rc) break;
        if (r.text_offset != text) {
            rc = bad(c, SEC_DOCS, "document %u: text_offset %llu, expected %llu (texts follow each other in id order)",
                     d, (unsigned long long)r.text_offset, (unsigned long long)text);
            break;
        }
        if (d == 0 && r.info_offset != 0) {
            rc = bad(c, SEC_DOCS, "document 0: info_offset %llu, expected 0", (unsigned long long)r.info_offset);
            break;
        }
        rc = segment_doc_info(s, d, &r, &info, c->err);
        if (rc) break;
        if (info.title_len == 0 && r.title_token_count) {
            rc = bad(c, SEC_DOCS, "document %u: %u title tokens but no title", d, r.title_token_count);
            break;
        }
        /* four varints a passage: a count the record cannot hold is not
         * worth allocating for */
        if ((uint64_t)(info.end - info.passages) / 4 < info.passage_count) {
            rc = bad(c, SEC_DOCINFO, "document %u: passage table truncated", d);
            break;
        }
        if (info.passage_count > pr_cap) {
            passage_record *v = lode_realloc(pr, (size_t)info.passage_count * sizeof *v);
            if (!v) {
                rc = lode_fail(c->err, LODE_ENOMEM, "out of memory checking %s", s->name);
                break;
            }
            pr = v;
            pr_cap = info.passage_count;
        }
        rc = doc_info_passages(s, &info, pr, c->err);
        for (uint32_t i = 0; i < info.passage_count && !rc; i++) {
            /* every line before a passage's ends in at least one byte */
            if (pr[i].line == 0 || pr[i].line - 1 > pr[i].offset)
                rc = bad(c, SEC_DOCINFO, "document %u: passage %u at byte %u is on line %u", d, i, pr[i].offset,
                         pr[i].line);
            else if (pr[i].first_token > r.token_count)
                rc = bad(c, SEC_DOCINFO, "document %u: passage %u starts at token %u of %u", d, i,
                         pr[i].first_token, r.token_count);
        }
        text += r.size;
        tokens += r.token_count;
        title += r.title_token_count;
        passages += info.passage_count;
    }
    lode_free(pr);
    if (rc) return rc;
    if (text != s->text_bytes)
        return bad(c, SEC_DOCS, "the documents hold %llu bytes of text, META says %llu", (unsigned long long)text,
                   (unsigned long long)s->text_bytes);
    if (tokens != s->token_count)
        return bad(c, SEC_DOCS, "the documents hold %llu tokens, META says %llu", (unsigned long long)tokens,
                   (unsigned long long)s->token_count);
    if (title != s->title_token_count)
        return bad(c, SEC_DOCS, "the documents hold %llu title tokens, META says %llu", (unsigned long long)title,
                   (unsigned long long)s->title_token_count);
    if (passages != s->passage_count)
        return bad(c, SEC_DOCINFO, "the documents hold %llu passages, META says %llu", (unsigned long long)passages,
                   (unsigned long long)s->passage_count);
    return 0;
}

/* --- stored text --------------------------------------------------------- */

static int verify_text(checker *c) {
    segment *s = c->s;
    uint64_t blocks = s->sec[SEC_TEXTIDX].length / TEXTIDX_ENTRY; /* META said ceil(text_bytes / block) */
    if (blocks == 0) {
        if (s->sec[SEC_TEXT].length)
            return bad(c, SEC_TEXT, "%llu bytes but no stored text", (unsigned long long)s->sec[SEC_TEXT].length);
        return 0;
    }
    /* zlib allocates through malloc: its failures are out of memory too */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    uint8_t *buf = lode_malloc(TEXT_BLOCK_SIZE + 1);
    if (!buf || inflateInit(&zs) != Z_OK) {
        lode_free(buf);
        return lode_fail(c->err, LODE_ENOMEM, "out of memory checking %s", s->name);
    }
    uint64_t at = 0;
    int rc = 0;
    for (uint64_t b = 0; b < blocks && !rc; b++) {
        const uint8_t *e, *z;
        rc = segment_view(s, SEC_TEXTIDX, b * TEXTIDX_ENTRY, TEXTIDX_ENTRY, &e, c->err);
        if (rc) break;
        uint64_t zoff = load_u64(e);
        uint32_t zlen = load_u32(e + 8);
        if (zoff != at) {
            rc = bad(c, SEC_TEXTIDX, "block %llu at offset %llu, expected %llu (blocks follow each other)",
                     (unsigned long long)b, (unsigned long long)zoff, (unsigned long long)at);
            break;
        }
        rc = segment_view(s, SEC_TEXT, zoff, zlen, &z, c->err);
        if (rc) break;
        uint64_t left = s->text_bytes - b * TEXT_BLOCK_SIZE;
        uInt raw = left > TEXT_BLOCK_SIZE ? TEXT_BLOCK_SIZE : (uInt)left;
        if (inflateReset(&zs) != Z_OK) {
            rc = lode_fail(c->err, LODE_ENOMEM, "out of memory checking %s", s->name);
            break;
        }
        zs.next_in = (Bytef *)(uintptr_t)z;
        zs.avail_in = zlen;
        zs.next_out = buf;
        zs.avail_out = raw + 1; /* one byte more: a block that inflates too long is caught */
        int zr = inflate(&zs, Z_FINISH);
        if (zr == Z_MEM_ERROR)
            rc = lode_fail(c->err, LODE_ENOMEM, "out of memory checking %s", s->name);
        else if (zr != Z_STREAM_END || zs.total_out != raw)
            rc = bad(c, SEC_TEXT, "block %llu does not inflate to its %u bytes (%s)", (unsigned long long)b, raw,
                     zs.total_out > raw   ? "it inflates to more"
                     : zr == Z_STREAM_END ? "it inflates to fewer"
                     : zr == Z_NEED_DICT  ? "it needs a preset dictionary"
                     : zs.msg             ? zs.msg
                                          : "stream truncated");
        else if (zs.avail_in)
            rc = bad(c, SEC_TEXT, "block %llu: %u bytes after the end of its zlib stream", (unsigned long long)b,
                     zs.avail_in);
        at += zlen;
    }
    inflateEnd(&zs);
    lode_free(buf);
    if (!rc && at != s->sec[SEC_TEXT].length)
        rc = bad(c, SEC_TEXT, "%llu bytes after the last block", (unsigned long long)(s->sec[SEC_TEXT].length - at));
    return rc;
}

/* --- lexicon and postings ------------------------------------------------ */

static uint32_t skip_field(const postings *pc, uint32_t block, int field) {
    return load_u32(pc->skip + (size_t)block * SKIP_ENTRY + (size_t)field * 4);
}

/* The current block's position data: chunks of 128 values (the last one
 * shorter) for the block's sum of tf, ending exactly at its end. */
static int verify_chunks(checker *c, const postings *pc, const quoted *name) {
    uint32_t b = pc->block;
    const uint8_t *p = pc->pos_area + (b && pc->skip ? skip_field(pc, b - 1, 2) : 0);
    const uint8_t *end = pc->skip ? pc->pos_area + skip_field(pc, b, 2) : pc->pos_end;
    uint64_t total = 0;
    for (uint32_t i = 0; i < pc->block_n; i++) total += pc->tfs[i];
    if (p > end || end > pc->pos_end) return bad(c, SEC_POSTINGS, "term %s, block %u: position bounds", name->s, b);
    for (uint64_t at = 0; at < total;) {
        uint64_t n = total - at < POSTINGS_BLOCK ? total - at : POSTINGS_BLOCK;
        if (p >= end || p[0] > 32 || (size_t)(end - p - 1) < bitpack_bytes((size_t)n, p[0]))
            return bad(c, SEC_POSTINGS, "term %s, block %u: positions truncated", name->s, b);
        p += 1 + bitpack_bytes((size_t)n, p[0]);
        at += n;
    }
    if (p != end)
        return bad(c, SEC_POSTINGS, "term %s, block %u: %zu bytes after the last position chunk", name->s, b,
                   (size_t)(end - p));
    return 0;
}

static int verify_postings(checker *c, const quoted *name, const term_info *ti) {
    segment *s = c->s;
    postings pc;
    int rc = postings_open(&pc, s, ti, c->err);
    if (rc) return rc;
    uint64_t n = 0, cf = 0, ttf_sum = 0;
    uint32_t max_tf = 0, max_ttf = 0, min_len = UINT32_MAX;     /* over the term */
    uint32_t b_max_tf = 0, b_max_ttf = 0, b_min_len = UINT32_MAX; /* over the block */
    for (uint32_t doc = pc.doc; doc != DOC_END; doc = postings_next(&pc)) {
        if (pc.idx == 0) {
            rc = verify_chunks(c, &pc, name);
            if (rc) return rc;
            b_max_tf = b_max_ttf = 0;
            b_min_len = UINT32_MAX;
        }
        uint32_t tf = postings_tf(&pc), ttf = postings_title_tf(&pc);
        const uint8_t *rec = c->docs + (size_t)doc * DOC_RECORD_SIZE;
        uint32_t tokens = load_u32(rec + 40), title = load_u32(rec + 44);
        if (tf > tokens)
            return bad(c, SEC_POSTINGS, "term %s, document %u: tf %u but the document has %u tokens", name->s, doc,
                       tf, tokens);
        /* tf is at most the document's tokens and at most 128 values a
         * byte of the block's chunks: the buffer is bounded by the data */
        if (tf > c->pos_cap) {
            size_t cap = c->pos_cap ? c->pos_cap : 64;
            while (cap < tf) cap *= 2;
            uint32_t *v = lode_realloc(c->pos, cap * sizeof *v);
            if (!v) return lode_fail(c->err, LODE_ENOMEM, "out of memory checking %s", s->name);
            c->pos = v;
            c->pos_cap = cap;
        }
        rc = postings_positions(&pc, c->pos);
        if (rc) return rc;
        /* decoded from gaps, they strictly increase */
        if (c->pos[tf - 1] >= tokens)
            return bad(c, SEC_POSTINGS, "term %s, document %u: position %u but the document has %u tokens", name->s,
                       doc, c->pos[tf - 1], tokens);
        uint32_t in_title = 0;
        while (in_title < tf && c->pos[in_title] < title) in_title++;
        if (in_title != ttf)
            return bad(c, SEC_POSTINGS, "term %s, document %u: title tf %u but %u positions in the title", name->s,
                       doc, ttf, in_title);
        n++;
        cf += tf;
        ttf_sum += ttf;
        if (tf > b_max_tf) b_max_tf = tf;
        if (ttf > b_max_ttf) b_max_ttf = ttf;
        if (tokens < b_min_len) b_min_len = tokens;
        if (tf > max_tf) max_tf = tf;
        if (ttf > max_ttf) max_ttf = ttf;
        if (tokens < min_len) min_len = tokens;
        if (pc.skip && pc.idx + 1 == pc.block_n) {
            /* the block's score bounds, as a search reads them */
            uint32_t last, bt, btt, bl;
            postings_block_bound(&pc, doc, &last, &bt, &btt, &bl);
            if (last != doc || bt != b_max_tf || btt != b_max_ttf || bl != b_min_len)
                return bad(c, SEC_POSTINGS,
                           "term %s, block %u: skip entry says last doc %u, max_tf %u, max_title_tf %u, min_len %u; "
                           "the block has %u, %u, %u, %u",
                           name->s, pc.block, last, bt, btt, bl, doc, b_max_tf, b_max_ttf, b_min_len);
        }
    }
    if (pc.rc) return pc.rc;
    if (n != ti->df)
        return bad(c, SEC_LEXICON, "term %s: df %u but its postings hold %llu documents", name->s, ti->df,
                   (unsigned long long)n);
    if (cf != ti->cf)
        return bad(c, SEC_LEXICON, "term %s: cf %llu but its postings hold %llu occurrences", name->s,
                   (unsigned long long)ti->cf, (unsigned long long)cf);
    if (max_tf != ti->max_tf || max_ttf != ti->max_title_tf || min_len != ti->min_len)
        return bad(c, SEC_LEXICON, "term %s: max_tf %u, max_title_tf %u, min_len %u; its postings have %u, %u, %u",
                   name->s, ti->max_tf, ti->max_title_tf, ti->min_len, max_tf, max_ttf, min_len);
    c->cf_sum += cf;
    c->ttf_sum += ttf_sum;
    return 0;
}

static int on_term(void *ctx, const char *term, size_t len, const term_info *ti) {
    checker *c = ctx;
    int rc = in_order(c, SEC_LEXICON, term, len);
    if (rc) return rc;
    quoted name = quote(term, len);
    if (ti->offset != c->next_offset)
        return bad(c, SEC_LEXICON, "term %s: postings at %llu, expected %llu (right after the previous term's)",
                   name.s, (unsigned long long)ti->offset, (unsigned long long)c->next_offset);
    c->next_offset = ti->offset + ti->length;
    return verify_postings(c, &name, ti);
}

/* The front-coded blocks of LEXICON or VOCAB hold their entries and
 * nothing else, the first from offset 0 (the decoder starts each block at
 * its LEXIDX/VOCABIDX offset and stops after its count of entries, so it
 * never looks at either). Runs after the decoder has accepted every entry. */
static int verify_blocks(checker *c, int sec) {
    segment *s = c->s;
    int idx_sec = sec == SEC_LEXICON ? SEC_LEXIDX : SEC_VOCABIDX;
    uint32_t blocks = sec == SEC_LEXICON ? s->lex_blocks : s->vocab_blocks;
    uint32_t count = sec == SEC_LEXICON ? s->term_count : s->word_count;
    if (blocks == 0 && s->sec[sec].length)
        return bad(c, sec, "%llu bytes but no entries", (unsigned long long)s->sec[sec].length);
    for (uint32_t b = 0; b < blocks; b++) {
        const uint8_t *idx, *p;
        int rc = segment_view(s, idx_sec, (uint64_t)b * 8, b + 1 < blocks ? 16 : 8, &idx, c->err);
        if (rc) return rc;
        uint64_t start = load_u64(idx), stop = b + 1 < blocks ? load_u64(idx + 8) : s->sec[sec].length;
        if (b == 0 && start != 0) return bad(c, idx_sec, "block 0 at offset %llu, expected 0", (unsigned long long)start);
        if (stop < start) return bad(c, idx_sec, "block offsets out of order");
        rc = segment_view(s, sec, start, stop - start, &p, c->err);
        if (rc) return rc;
        const uint8_t *end = p + (stop - start);
        uint32_t entries = b + 1 < blocks ? LEXICON_BLOCK : count - b * LEXICON_BLOCK;
        for (uint32_t i = 0; i < entries; i++) {
            uint64_t v, len;
            int fail = 0;
            /* the term or word: whole, or shared bytes and a suffix */
            if (i) fail |= varint_get(&p, end, &v);
            fail |= varint_get(&p, end, &len);
            if (fail || (uint64_t)(end - p) < len) goto malformed;
            if (i == 0 && sec == SEC_LEXICON && s->sec[SEC_LEXKEYS].offset) {
                /* the block's key is its first term's start, zero-padded */
                const uint8_t *key;
                uint8_t want[LEXKEY_BYTES] = {0};
                memcpy(want, p, len < LEXKEY_BYTES ? (size_t)len : LEXKEY_BYTES);
                rc = segment_view(s, SEC_LEXKEYS, (uint64_t)b * LEXKEY_BYTES, LEXKEY_BYTES, &key, c->err);
                if (rc) return rc;
                if (memcmp(key, want, LEXKEY_BYTES) != 0)
                    return bad(c, SEC_LEXKEYS, "block %u: key %s, but the block starts with %s", b,
                               quote(key, LEXKEY_BYTES).s, quote(p, (size_t)len).s);
            }
            p += len;
            if (sec == SEC_LEXICON) {
                /* [postings offset], df, cf - df, length, max_tf, max_title_tf, min_len */
                for (int k = i ? 1 : 0; k < 7; k++) fail |= varint_get(&p, end, &v);
                if (fail) goto malformed;
            } else {
                /* the stem: bytes shared with the word, the rest */
                if (varint_get(&p, end, &v) || varint_get(&p, end, &len) || (uint64_t)(end - p) < len) goto malformed;
                p += len;
            }
        }
        if (p != end)
            return bad(c, sec, "block %u: %zu bytes after its last entry", b, (size_t)(end - p));
        continue;
    malformed:
        return bad(c, sec, "block %u: malformed entry", b);
    }
    return 0;
}

static int verify_lexicon(checker *c) {
    segment *s = c->s;
    c->count = 0;
    c->prev_len = 0;
    int rc = segment_prefix_terms(s, "", 0, on_term, c, c->err);
    if (!rc) rc = verify_blocks(c, SEC_LEXICON);
    if (rc) return rc;
    if (c->count != s->term_count)
        return bad(c, SEC_LEXICON, "%llu terms, META says %u", (unsigned long long)c->count, s->term_count);
    if (c->next_offset != s->sec[SEC_POSTINGS].length)
        return bad(c, SEC_POSTINGS, "%llu bytes after the last term's postings",
                   (unsigned long long)(s->sec[SEC_POSTINGS].length - c->next_offset));
    if (c->cf_sum != s->token_count)
        return bad(c, SEC_LEXICON, "the terms occur %llu times, META says %llu tokens", (unsigned long long)c->cf_sum,
                   (unsigned long long)s->token_count);
    if (c->ttf_sum != s->title_token_count)
        return bad(c, SEC_LEXICON, "the terms occur %llu times in titles, META says %llu title tokens",
                   (unsigned long long)c->ttf_sum, (unsigned long long)s->title_token_count);
    return 0;
}

/* --- vocabulary ---------------------------------------------------------- */

static int on_word(void *ctx, const char *word, size_t len, const char *stem, size_t stem_len) {
    checker *c = ctx;
    int rc = in_order(c, SEC_VOCAB, word, len);
    if (rc) return rc;
    /* neighbouring words often share their stem: look it up once */
    if (stem_len == c->last_stem_len && memcmp(stem, c->last_stem, stem_len) == 0) return 0;
    term_info ti;
    int found = 0;
    rc = segment_lookup(c->s, stem, stem_len, &ti, &found, c->err);
    if (rc) return rc;
    if (!found)
        return bad(c, SEC_VOCAB, "word %s: its stem %s is not a term of the LEXICON", quote(word, len).s,
                   quote(stem, stem_len).s);
    if (stem_len <= sizeof c->last_stem) {
        memcpy(c->last_stem, stem, stem_len);
        c->last_stem_len = (uint32_t)stem_len;
    }
    return 0;
}

static int verify_vocab(checker *c) {
    segment *s = c->s;
    c->count = 0;
    c->prev_len = 0;
    c->last_stem_len = 0;
    int rc = segment_prefix_words(s, "", 0, on_word, c, c->err);
    if (!rc) rc = verify_blocks(c, SEC_VOCAB);
    if (rc) return rc;
    if (c->count != s->word_count)
        return bad(c, SEC_VOCAB, "%llu words, META says %u", (unsigned long long)c->count, s->word_count);
    /* every term is the stem of at least one word, each word has one stem */
    if (s->word_count < s->term_count)
        return bad(c, SEC_VOCAB, "%u words for %u terms", s->word_count, s->term_count);
    return 0;
}

/* DOCLENS, when present, repeats what DOCS says (checked first, so that a
 * wrong DOCS field is reported under DOCS). */
static int verify_doclens(checker *c) {
    segment *s = c->s;
    if (!s->sec[SEC_DOCLENS].offset) return 0;
    for (uint32_t d = 0; d < s->doc_count; d++) {
        uint32_t len, title_len;
        int rc = segment_doc_lengths(s, d, &len, &title_len, c->err);
        if (rc) return rc;
        const uint8_t *r = c->docs + (size_t)d * DOC_RECORD_SIZE;
        if (len != load_u32(r + 40) || title_len != load_u32(r + 44))
            return bad(c, SEC_DOCLENS, "document %u: %u tokens, %u in the title; DOCS says %u, %u", d, len, title_len,
                       load_u32(r + 40), load_u32(r + 44));
    }
    return 0;
}

int segment_verify(segment *s, lode_error *err) {
    checker c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.err = err;
    int rc = segment_view(s, SEC_DOCS, 0, s->sec[SEC_DOCS].length, &c.docs, err);
    if (!rc) rc = verify_docs(&c);
    if (!rc) rc = verify_doclens(&c);
    if (!rc) rc = verify_text(&c);
    if (!rc) rc = verify_lexicon(&c);
    if (!rc) rc = verify_vocab(&c);
    lode_free(c.pos);
    return rc;
}
