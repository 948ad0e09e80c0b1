/*
 * postings.c - a cursor over one term's postings in one segment: documents
 * in order, their term frequencies, positions on demand, and the per-block
 * score bounds that let the searcher skip blocks it cannot win with.
 *
 * Layout of a term's postings (FORMAT.md, "POSTINGS"):
 *   skip table   only when df > 128: per block { u32 last_doc, u32 doc_end,
 *                u32 pos_end, u32 max_tf, u32 max_title_tf, u32 min_len },
 *                doc_end/pos_end relative to the doc / position area
 *   doc area     per block: u8 width of gaps, u8 width of tf-1, u8 width of
 *                title tf, then the three arrays bit-packed (n values each)
 *   position area per block: the block's position gaps (per document the
 *                first from -1, then previous + 1) in chunks of 128 values,
 *                each chunk a u8 width and the bit-packed values
 * Blocks hold 128 documents except the last.
 */
#include "segment.h"

static uint32_t fail(postings *pc, const char *what) {
    pc->rc = lode_corrupt(pc->err, pc->seg->name, "POSTINGS", what);
    pc->doc = DOC_END;
    return DOC_END;
}

static uint32_t skip_u32(const postings *pc, uint32_t block, int field) {
    return load_u32(pc->skip + (size_t)block * SKIP_ENTRY + (size_t)field * 4);
}

static uint32_t block_size(const postings *pc, uint32_t b) {
    return b + 1 < pc->block_count ? POSTINGS_BLOCK : pc->ti.df - (pc->block_count - 1) * POSTINGS_BLOCK;
}

/* Decode block b's documents, tfs and title tfs. */
static int decode_block(postings *pc, uint32_t b) {
    uint32_t n = block_size(pc, b);
    const uint8_t *p = pc->docs_area + (b && pc->skip ? skip_u32(pc, b - 1, 1) : 0);
    const uint8_t *end = pc->skip ? pc->docs_area + skip_u32(pc, b, 1) : pc->docs_end;
    if (p > end || end > pc->docs_end || end - p < 3) return fail(pc, "block bounds"), -1;
    unsigned wg = p[0], wt = p[1], wtt = p[2];
    p += 3;
    uint32_t gaps[POSTINGS_BLOCK];
    if (bitpack_get(gaps, n, wg, p, end)) return fail(pc, "doc block truncated"), -1;
    p += bitpack_bytes(n, wg);
    if (bitpack_get(pc->tfs, n, wt, p, end)) return fail(pc, "tf block truncated"), -1;
    p += bitpack_bytes(n, wt);
    if (bitpack_get(pc->ttfs, n, wtt, p, end)) return fail(pc, "title tf block truncated"), -1;
    p += bitpack_bytes(n, wtt);
    if (p != end) return fail(pc, "doc block length"), -1;
    int64_t prev = b ? (int64_t)(pc->skip ? skip_u32(pc, b - 1, 0) : 0) : -1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t d = prev + (int64_t)gaps[i] + 1;
        if (d >= pc->seg->doc_count || pc->tfs[i] == UINT32_MAX) return fail(pc, "document id out of range"), -1;
        pc->docs[i] = (uint32_t)d;
        pc->tfs[i]++;
        if (pc->ttfs[i] > pc->tfs[i]) return fail(pc, "title tf above tf"), -1;
        prev = d;
    }
    if (pc->skip && pc->docs[n - 1] != skip_u32(pc, b, 0)) return fail(pc, "skip entry disagrees"), -1;
    pc->block = b;
    pc->block_n = n;
    pc->block_last = pc->docs[n - 1];
    pc->decoded = 1;
    return 0;
}

int postings_open(postings *pc, segment *s, const term_info *ti, lode_error *err) {
    memset(pc, 0, offsetof(postings, docs));
    pc->seg = s;
    pc->ti = *ti;
    pc->err = err;
    pc->doc = DOC_END;
    const uint8_t *base;
    int rc = segment_view(s, SEC_POSTINGS, ti->offset, ti->length, &base, err);
    if (rc) return pc->rc = rc;
    const uint8_t *end = base + ti->length;
    pc->block_count = (ti->df + POSTINGS_BLOCK - 1) / POSTINGS_BLOCK;
    if (pc->block_count > 1) {
        uint64_t skip_len = (uint64_t)pc->block_count * SKIP_ENTRY;
        if (skip_len > ti->length) return fail(pc, "skip table truncated"), pc->rc;
        pc->skip = base;
        pc->docs_area = base + skip_len;
        uint32_t last = pc->block_count - 1;
        uint64_t doc_len = skip_u32(pc, last, 1), pos_len = skip_u32(pc, last, 2);
        if (doc_len + pos_len != ti->length - skip_len) return fail(pc, "area lengths"), pc->rc;
        pc->docs_end = pc->docs_area + doc_len;
        pc->pos_area = pc->docs_end;
        pc->pos_end = end;
        /* skip entries must grow, or a bad one could send a search backwards */
        for (uint32_t b = 1; b < pc->block_count; b++)
            if (skip_u32(pc, b, 0) <= skip_u32(pc, b - 1, 0) || skip_u32(pc, b, 1) < skip_u32(pc, b - 1, 1) ||
                skip_u32(pc, b, 2) < skip_u32(pc, b - 1, 2))
                return fail(pc, "skip table out of order"), pc->rc;
    } else {
        /* one block: its doc data is self-delimiting */
        if (ti->length < 3) return fail(pc, "block truncated"), pc->rc;
        uint64_t doc_len = 3 + bitpack_bytes(ti->df, base[0]) + bitpack_bytes(ti->df, base[1]) +
                           bitpack_bytes(ti->df, base[2]);
        if (base[0] > 32 || base[1] > 32 || base[2] > 32 || doc_len > ti->length)
            return fail(pc, "block truncated"), pc->rc;
        pc->docs_area = base;
        pc->docs_end = base + doc_len;
        pc->pos_area = pc->docs_end;
        pc->pos_end = end;
    }
    if (decode_block(pc, 0)) return pc->rc;
    pc->idx = 0;
    pc->doc = pc->docs[0];
    return 0;
}

uint32_t postings_next(postings *pc) {
    if (pc->doc == DOC_END) return DOC_END;
    if (++pc->idx < pc->block_n) return pc->doc = pc->docs[pc->idx];
    if (pc->block + 1 >= pc->block_count) return pc->doc = DOC_END;
    if (decode_block(pc, pc->block + 1)) return DOC_END;
    pc->idx = 0;
    return pc->doc = pc->docs[0];
}

uint32_t postings_advance(postings *pc, uint32_t target) {
    if (pc->doc == DOC_END || pc->doc >= target) return pc->doc;
    if (target > pc->block_last) {
        if (!pc->skip) return pc->doc = DOC_END;
        uint32_t b = pc->block + 1;
        while (b < pc->block_count && skip_u32(pc, b, 0) < target) b++;
        if (b >= pc->block_count) return pc->doc = DOC_END;
        if (decode_block(pc, b)) return DOC_END;
        pc->idx = 0;
    }
    while (pc->docs[pc->idx] < target) pc->idx++; /* the block's last doc is >= target */
    return pc->doc = pc->docs[pc->idx];
}

uint32_t postings_tf(postings *pc) { return pc->doc == DOC_END ? 0 : pc->tfs[pc->idx]; }
uint32_t postings_title_tf(postings *pc) { return pc->doc == DOC_END ? 0 : pc->ttfs[pc->idx]; }

void postings_block_bound(postings *pc, uint32_t target, uint32_t *last_doc, uint32_t *max_tf,
                          uint32_t *max_title_tf, uint32_t *min_len) {
    if (!pc->skip) {
        *last_doc = pc->block_last;
        *max_tf = pc->ti.max_tf;
        *max_title_tf = pc->ti.max_title_tf;
        *min_len = pc->ti.min_len;
        return;
    }
    uint32_t b = pc->block;
    while (b + 1 < pc->block_count && skip_u32(pc, b, 0) < target) b++;
    *last_doc = skip_u32(pc, b, 0);
    *max_tf = skip_u32(pc, b, 3);
    *max_title_tf = skip_u32(pc, b, 4);
    *min_len = skip_u32(pc, b, 5);
}

int postings_positions(postings *pc, uint32_t *out) {
    if (pc->doc == DOC_END) return pc->rc;
    uint32_t b = pc->block;
    const uint8_t *end = pc->skip ? pc->pos_area + skip_u32(pc, b, 2) : pc->pos_end;
    if (pc->pos_block != b + 1 || pc->pos_idx > pc->idx) {
        /* start at the block's first chunk */
        const uint8_t *p = pc->pos_area + (b && pc->skip ? skip_u32(pc, b - 1, 2) : 0);
        if (p > end || end > pc->pos_end) return fail(pc, "position block bounds"), pc->rc;
        uint64_t total = 0;
        for (uint32_t i = 0; i < pc->block_n; i++) total += pc->tfs[i];
        pc->pos_block = b + 1;
        pc->pos_idx = 0;
        pc->pos_skip = 0;
        pc->pos_total = total;
        pc->pos_at = 0;
        pc->pos_p = p;
    }
    for (; pc->pos_idx < pc->idx; pc->pos_idx++) pc->pos_skip += pc->tfs[pc->pos_idx];
    uint64_t skip = pc->pos_skip, total = pc->pos_total;
    uint32_t want = pc->tfs[pc->idx];
    /* the cache moves to the chunk holding our document's first value and
     * no further (the document may be asked for again) */
    for (;;) {
        const uint8_t *p = pc->pos_p;
        uint64_t at = pc->pos_at;
        if (at >= total || p >= end) return fail(pc, "positions truncated"), pc->rc;
        uint32_t n = total - at < POSTINGS_BLOCK ? (uint32_t)(total - at) : POSTINGS_BLOCK;
        if (at + n > skip) break;
        unsigned w = *p++;
        if (w > 32 || (size_t)(end - p) < bitpack_bytes(n, w)) return fail(pc, "positions truncated"), pc->rc;
        pc->pos_p = p + bitpack_bytes(n, w);
        pc->pos_at = at + n;
    }
    const uint8_t *p = pc->pos_p;
    uint64_t at = pc->pos_at;
    uint32_t got = 0;
    int64_t prev = -1;
    while (got < want) {
        if (at >= total || p >= end) return fail(pc, "positions truncated"), pc->rc;
        uint32_t n = total - at < POSTINGS_BLOCK ? (uint32_t)(total - at) : POSTINGS_BLOCK;
        unsigned w = *p++;
        if (w > 32 || (size_t)(end - p) < bitpack_bytes(n, w)) return fail(pc, "positions truncated"), pc->rc;
        /* only our document's values: they can be read in the middle */
        uint32_t from = skip > at ? (uint32_t)(skip - at) : 0;
        uint32_t count = n - from < want - got ? n - from : want - got;
        if (bitpack_get_range(out + got, from, count, w, p, end)) return fail(pc, "positions truncated"), pc->rc;
        for (uint32_t i = 0; i < count; i++) {
            int64_t pos = prev + (int64_t)out[got] + 1;
            if (pos > UINT32_MAX - 1) return fail(pc, "position out of range"), pc->rc;
            out[got++] = (uint32_t)pos;
            prev = pos;
        }
        p += bitpack_bytes(n, w);
        at += n;
    }
    return 0;
}
