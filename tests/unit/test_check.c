/*
 * test_check.c - lode_index_check() decodes every structure (indexer/check.c),
 * not just the checksums. Real indexes pass: a hand-made one with
 * multi-block postings and stored text, the example corpus, the same as one
 * segment per document, and the format-1 fixture. Then one field at a time
 * is made wrong in a copy of the hand-made segment, and every checksum is
 * computed again (pages, sections, header), so that only a structural check
 * can tell: a lexicon df, cf, max_tf, min_len or postings offset, the order
 * of the terms, a skip entry's max_tf, a position (past the document, or out
 * of the title), a DOCS text_offset or token_count, a passage's length,
 * line or first token, a VOCAB stem, a TEXT block's compressed bytes. Each
 * must be refused with LODE_ECORRUPT naming the file and the section; each
 * copy is shown to pass segment_check_all(), which is all that
 * lode_index_check() ran before check.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "segment.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode-check-XXXXXX";
static uint8_t *seg;   /* the hand-made index's one segment */
static size_t seg_len;

/* ------------------------------------------------------------------------ */
/* Building and reading                                                     */
/* ------------------------------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

/* The one segment file of an index folder. */
static uint8_t *read_segment(const char *dir, size_t *len) {
    char path[1024] = "";
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".lseg")) snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (d) closedir(d);
    return path[0] ? read_file(path, len) : NULL;
}

/* Document 0 is known token by token: "checking the index" is its title
 * (check 0, the 1, index 2), then alpha 3 ... omega 9, ten tokens; "index"
 * and "omega" occur nowhere else. 299 reports hold "common" 1 to 3 times
 * (three postings blocks with a skip table) and a word of their own (20
 * lexicon blocks); a last document of 40 KB makes three stored-text blocks. */
static int build(void) {
    if (!mkdtemp(tmpdir)) return -1;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/hand.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, dir, NULL, &err)) return -1;
    const char *doc0 = "Checking the index\n\nalpha beta gamma delta epsilon zeta omega\n";
    if (lode_writer_add_document(w, "notes.txt", doc0, strlen(doc0), 1700000000, &err)) return -1;
    char text[256], path[64];
    for (int i = 1; i < 300; i++) {
        snprintf(text, sizeof text, "Report %d\n\ncommon%s%s word%c%c here\n", i, i % 3 > 0 ? " common" : "",
                 i % 3 > 1 ? " common" : "", 'a' + i / 26 % 26, 'a' + i % 26);
        snprintf(path, sizeof path, "doc-%03d.txt", i);
        if (lode_writer_add_document(w, path, text, strlen(text), 1700000000 + i, &err)) return -1;
    }
    /* words that do not repeat much, so that the text does not compress
     * to nothing: 40 KB in three blocks (each word starts with an x, so
     * that none is a word of the cases below) */
    size_t cap = 40000, n = 0;
    char *big = malloc(cap + 64);
    if (!big) return -1;
    uint64_t r = 0x5EEDC4EC;
    n += (size_t)snprintf(big, cap, "Long document\n\n");
    while (n < cap) {
        uint64_t x = test_rand(&r);
        n += (size_t)snprintf(big + n, 64, "x%c%c%c%c%s", 'a' + (int)(x % 26), 'a' + (int)(x / 26 % 26),
                              'a' + (int)(x / 676 % 26), 'a' + (int)(x / 17576 % 26), x % 9 ? " " : ".\n\n");
    }
    int rc = lode_writer_add_document(w, "long.txt", big, n, 1700000000, &err);
    free(big);
    if (rc || lode_writer_commit(w, &err)) return -1;
    lode_writer_free(w);
    seg = read_segment(dir, &seg_len);
    return seg ? 0 : -1;
}

static section_ref section_of(const uint8_t *data, int id) {
    section_ref r = {0, 0, 0};
    uint32_t count = load_u32(data + 28);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = data + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        if (load_u32(e) == (uint32_t)id) {
            r.offset = load_u64(e + 8);
            r.length = load_u64(e + 16);
            r.crc = load_u32(e + 24);
        }
    }
    return r;
}

/* What the writer would have written after the patch: every page CRC,
 * every section CRC, the header CRC (the approach of segment_fuzzer.c). */
static void fix_checksums(uint8_t *b, size_t size) {
    uint32_t header_len = load_u32(b + 12), count = load_u32(b + 28);
    section_ref pc = section_of(b, SEC_PAGECRC);
    uint64_t pages = (pc.offset - header_len + SEG_PAGE_SIZE - 1) / SEG_PAGE_SIZE;
    for (uint64_t p = 0; p < pages; p++) {
        uint64_t start = header_len + p * SEG_PAGE_SIZE, end = start + SEG_PAGE_SIZE;
        if (end > pc.offset) end = pc.offset;
        store_u32(b + pc.offset + p * 4, (uint32_t)crc32(0, b + start, (uInt)(end - start)));
    }
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        uint64_t off = load_u64(e + 8), len = load_u64(e + 16);
        if (off <= size && len <= size - off) store_u32(e + 24, (uint32_t)crc32(0, b + off, (uInt)len));
    }
    store_u32(b + header_len - 4, (uint32_t)crc32(0, b, header_len - 4));
}

/* Where a LEXICON or VOCAB entry lies (absolute offsets): its first byte,
 * the byte after its term or word (the postings offset of a block's first
 * LEXICON entry, else the stats; the stem in VOCAB), found by walking the
 * front-coded blocks. 0 when the name is not there. */
typedef struct entry_at {
    uint64_t start;
    uint64_t after_name;
    uint32_t block, index; /* block, and index in it */
} entry_at;

static entry_at find_entry(const uint8_t *data, int sec, const char *name) {
    entry_at found = {0, 0, 0, 0};
    section_ref s = section_of(data, sec), idx = section_of(data, sec == SEC_LEXICON ? SEC_LEXIDX : SEC_VOCABIDX);
    uint32_t blocks = (uint32_t)(idx.length / 8);
    for (uint32_t b = 0; b < blocks; b++) {
        uint64_t start = load_u64(data + idx.offset + 8 * b);
        uint64_t stop = b + 1 < blocks ? load_u64(data + idx.offset + 8 * (b + 1)) : s.length;
        const uint8_t *p = data + s.offset + start, *end = data + s.offset + stop;
        char term[256];
        uint64_t term_len = 0;
        for (uint32_t i = 0; p < end; i++) {
            const uint8_t *at = p;
            uint64_t shared = 0, len, v;
            if (i && varint_get(&p, end, &shared)) return found;
            if (varint_get(&p, end, &len) || shared + len > 255) return found;
            memcpy(term + shared, p, len);
            term_len = shared + len;
            p += len;
            if (term_len == strlen(name) && memcmp(term, name, term_len) == 0) {
                found.start = (uint64_t)(at - data);
                found.after_name = (uint64_t)(p - data);
                found.block = b;
                found.index = i;
                return found;
            }
            if (sec == SEC_LEXICON) {
                for (int k = i ? 1 : 0; k < 7; k++) varint_get(&p, end, &v);
            } else {
                varint_get(&p, end, &v);
                varint_get(&p, end, &len);
                p += len;
            }
        }
    }
    return found;
}

/* The absolute offset of the n-th stats varint (0 df, 1 cf - df, 2 length,
 * 3 max_tf, 4 max_title_tf, 5 min_len) of a LEXICON term. */
static uint64_t lexicon_stat(const uint8_t *data, const char *term, int n) {
    entry_at e = find_entry(data, SEC_LEXICON, term);
    if (!e.start) return 0;
    const uint8_t *p = data + e.after_name, *end = data + seg_len;
    uint64_t v;
    if (e.index == 0) varint_get(&p, end, &v); /* the postings offset */
    for (int k = 0; k < n; k++) varint_get(&p, end, &v);
    return (uint64_t)(p - data);
}

/* A term's postings region (absolute offset and length). */
static int postings_of(const uint8_t *data, size_t len, const char *term, uint64_t *at, uint64_t *rlen) {
    segment *s;
    lode_error err;
    if (segment_open_memory(&s, data, len, "lookup", &err)) return -1;
    term_info ti;
    int found = 0;
    int rc = segment_lookup(s, term, strlen(term), &ti, &found, &err);
    segment_close(s);
    if (rc || !found) return -1;
    *at = section_of(data, SEC_POSTINGS).offset + ti.offset;
    *rlen = ti.length;
    return 0;
}

/* The absolute offset of field `field` (0 offset delta, 1 length, 2 line
 * delta, 3 first-token delta) of passage `k` of document 0, whose record is
 * the first of DOCINFO. */
static uint64_t passage_field(const uint8_t *data, uint32_t k, int field) {
    section_ref di = section_of(data, SEC_DOCINFO);
    const uint8_t *p = data + di.offset, *end = p + di.length;
    uint64_t v;
    varint_get(&p, end, &v); /* path */
    p += v;
    varint_get(&p, end, &v); /* title */
    p += v;
    varint_get(&p, end, &v); /* passage count */
    for (uint32_t i = 0; i < k * 4 + (uint32_t)field; i++) varint_get(&p, end, &v);
    return (uint64_t)(p - data);
}

/* ------------------------------------------------------------------------ */
/* Checking                                                                 */
/* ------------------------------------------------------------------------ */

/* lode_index_check of the bytes: 0, or the error code with its message. */
static int check_bytes(const uint8_t *data, size_t len, lode_error *err) {
    lode_index *ix;
    memset(err, 0, sizeof *err);
    int rc = lode_index_open_memory(&ix, data, len, "checked.lseg", err);
    if (rc) return rc;
    rc = lode_index_check(ix, err);
    lode_index_close(ix);
    return rc;
}

/* The checksums alone (the whole of lode_index_check before check.c). */
static int checksums_only(const uint8_t *data, size_t len) {
    segment *s;
    lode_error err;
    int rc = segment_open_memory(&s, data, len, "checked.lseg", &err);
    if (!rc) rc = segment_check_all(s, &err);
    segment_close(s);
    return rc;
}

/* A copy of the segment with one single-byte field changed from `from` to
 * `to` (REQUIREd to be what is there), checksums recomputed: the
 * checksums pass, the full check must refuse it under `section`, with
 * `what` in the message. */
static int expect_refused(const char *label, uint64_t at, uint8_t from, uint8_t to, const char *section,
                          const char *what) {
    int ok = 1;
    if (at == 0 || at >= seg_len || seg[at] != from) {
        fprintf(stderr, "%s: byte %llu is %u, expected %u: the test index is not what the case assumes\n", label,
                (unsigned long long)at, at && at < seg_len ? seg[at] : 0, from);
        test_failures++;
        return 0;
    }
    uint8_t *copy = malloc(seg_len);
    if (!copy) abort();
    memcpy(copy, seg, seg_len);
    copy[at] = to;
    fix_checksums(copy, seg_len);
    if (checksums_only(copy, seg_len) != 0) {
        fprintf(stderr, "%s: the recomputed checksums do not pass\n", label);
        ok = 0;
    }
    lode_error err;
    int rc = check_bytes(copy, seg_len, &err);
    char want[64];
    snprintf(want, sizeof want, "checked.lseg: section %s: ", section);
    if (rc != LODE_ECORRUPT || strstr(err.message, want) != err.message || !strstr(err.message, what)) {
        fprintf(stderr, "%s: want LODE_ECORRUPT \"%s...%s...\", got %d \"%s\"\n", label, want, what, rc,
                rc ? err.message : "");
        ok = 0;
    } else {
        fprintf(stderr, "  %-34s %s\n", label, err.message);
    }
    free(copy);
    if (!ok) test_failures++;
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Real indexes pass                                                        */
/* ------------------------------------------------------------------------ */

TEST(a_real_index_passes) {
    lode_error err;
    CHECK_EQ_U64(check_bytes(seg, seg_len, &err), 0);
    /* and the checksum fix alone changes nothing */
    uint8_t *copy = malloc(seg_len);
    REQUIRE(copy);
    memcpy(copy, seg, seg_len);
    fix_checksums(copy, seg_len);
    CHECK(memcmp(copy, seg, seg_len) == 0);
    free(copy);
    /* what the cases below rely on */
    segment *s;
    REQUIRE(segment_open_memory(&s, seg, seg_len, "hand.lseg", &err) == 0);
    CHECK_EQ_U64(s->doc_count, 301);
    CHECK(s->lex_blocks > 2);
    CHECK(s->text_bytes > 2 * TEXT_BLOCK_SIZE);
    term_info ti;
    int found = 0;
    CHECK(segment_lookup(s, "common", 6, &ti, &found, &err) == 0 && found && ti.df == 299 && ti.max_tf == 3);
    segment_close(s);
}

TEST(the_corpus_passes_in_one_segment_and_in_many) {
    for (int many = 0; many < 2; many++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/corpus-%d.lode", tmpdir, many);
        lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
        o.memory_budget = many ? 1 : 0; /* one byte: a segment per document */
        lode_writer *w;
        lode_error err;
        REQUIRE(lode_writer_open(&w, dir, &o, &err) == 0);
        REQUIRE(lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) == 0);
        REQUIRE(lode_writer_commit(w, &err) == 0);
        lode_writer_free(w);
        lode_index *ix;
        REQUIRE(lode_index_open(&ix, dir, &err) == 0);
        lode_index_info info;
        lode_index_get_info(ix, &info);
        CHECK_EQ_U64(info.segments, many ? 5 : 1);
        int rc = lode_index_check(ix, &err);
        CHECK_EQ_U64(rc, 0);
        if (rc) fprintf(stderr, "%s\n", err.message);
        lode_index_close(ix);
    }
}

TEST(the_format_1_fixture_passes) {
    size_t len;
    uint8_t *data = read_file(LODE_SOURCE_DIR "/tests/fixtures/format-1.lode", &len);
    REQUIRE(data);
    lode_error err;
    int rc = check_bytes(data, len, &err);
    CHECK_EQ_U64(rc, 0);
    if (rc) fprintf(stderr, "%s\n", err.message);
    free(data);
}

/* ------------------------------------------------------------------------ */
/* Wrong structures under right checksums are refused                       */
/* ------------------------------------------------------------------------ */

TEST(lexicon_statistics_must_match_the_postings) {
    /* df 1 -> 2: the postings decode two documents, the second of which
     * contradicts its title; or the decoder trips. Either way, refused. */
    uint64_t at = lexicon_stat(seg, "omega", 0);
    uint8_t *copy = malloc(seg_len);
    REQUIRE(copy);
    memcpy(copy, seg, seg_len);
    REQUIRE(at && copy[at] == 1);
    copy[at] = 2;
    fix_checksums(copy, seg_len);
    CHECK_EQ_U64(checksums_only(copy, seg_len), 0);
    lode_error err;
    CHECK_EQ_U64(check_bytes(copy, seg_len, &err), LODE_ECORRUPT);
    CHECK(strstr(err.message, "checked.lseg: section POSTINGS: term \"omega\"") == err.message ||
          strstr(err.message, "checked.lseg: section LEXICON: term \"omega\"") == err.message);
    fprintf(stderr, "  %-34s %s\n", "lexicon df", err.message);
    free(copy);

    expect_refused("lexicon cf", lexicon_stat(seg, "omega", 1), 0, 1, "LEXICON",
                   "term \"omega\": cf 2 but its postings hold 1 occurrences");
    expect_refused("lexicon max_tf", lexicon_stat(seg, "alpha", 3), 1, 2, "LEXICON", "term \"alpha\": max_tf 2");
    expect_refused("lexicon max_title_tf", lexicon_stat(seg, "index", 4), 1, 0, "LEXICON",
                   "max_title_tf 0, min_len 10; its postings have 1, 1, 10");
    expect_refused("lexicon min_len", lexicon_stat(seg, "omega", 5), 10, 9, "LEXICON", "min_len 9");
}

TEST(postings_regions_and_term_order_are_checked) {
    /* the first term of lexicon block 1 carries its postings offset */
    section_ref lex = section_of(seg, SEC_LEXICON), idx = section_of(seg, SEC_LEXIDX);
    uint64_t b1 = lex.offset + load_u64(seg + idx.offset + 8);
    uint8_t len = seg[b1];
    REQUIRE(len > 0 && len < 128);
    uint64_t off_at = b1 + 1 + len;
    /* a one-byte postings offset would do; the offsets of block 1 are larger,
     * so move the lowest byte of the varint */
    expect_refused("postings offset", off_at, seg[off_at], (uint8_t)(seg[off_at] ^ 0x01), "LEXICON",
                   "postings at");
    /* the first term of block 1 made to sort before every term of block 0:
     * each block is still in order, the lexicon is not */
    expect_refused("term order across blocks", b1 + 1, seg[b1 + 1], 0x01, "LEXICON",
                   "not in increasing order");
}

TEST(skip_entries_must_match_their_blocks) {
    uint64_t at, len;
    REQUIRE(postings_of(seg, seg_len, "common", &at, &len) == 0);
    /* three blocks: entry 0 is { last_doc, doc_end, pos_end, max_tf 3, max_title_tf 0, min_len } */
    REQUIRE(load_u32(seg + at + 12) == 3);
    expect_refused("skip entry max_tf", at + 12, 3, 2, "POSTINGS", "term \"common\", block 0: skip entry says");
    expect_refused("skip entry min_len", at + 20, seg[at + 20], (uint8_t)(seg[at + 20] + 1), "POSTINGS",
                   "skip entry says");
}

/* A term of one document with tf 1 and no skip table: three width bytes,
 * the three one-value arrays, then one chunk: its width, its value. */
static uint64_t position_byte(const char *term, uint8_t width) {
    uint64_t at, len;
    if (postings_of(seg, seg_len, term, &at, &len)) return 0;
    uint64_t chunk = at + 3 + bitpack_bytes(1, seg[at]) + bitpack_bytes(1, seg[at + 1]) + bitpack_bytes(1, seg[at + 2]);
    if (chunk + 2 != at + len || seg[chunk] != width) return 0;
    return chunk + 1;
}

TEST(positions_must_lie_in_the_document_and_agree_with_the_title) {
    /* omega at position 9 (width 4) -> 15, past the 10 tokens */
    expect_refused("position past the document", position_byte("omega", 4), 9, 15, "POSTINGS",
                   "term \"omega\", document 0: position 15 but the document has 10 tokens");
    /* index at position 2, a title token -> 3, after the title */
    expect_refused("position out of the title", position_byte("index", 2), 2, 3, "POSTINGS",
                   "term \"index\", document 0: title tf 1 but 0 positions in the title");
}

TEST(document_records_must_follow_each_other) {
    section_ref docs = section_of(seg, SEC_DOCS);
    uint64_t rec1 = docs.offset + DOC_RECORD_SIZE;
    REQUIRE(load_u64(seg + rec1) > 0);
    /* document 1's text_offset one less (its low byte is not 0 here) */
    REQUIRE(seg[rec1] != 0);
    expect_refused("DOCS text_offset", rec1, seg[rec1], (uint8_t)(seg[rec1] - 1), "DOCS",
                   "document 1: text_offset");
    /* document 0's token_count 10 -> 9: the documents no longer add up */
    expect_refused("DOCS token_count", docs.offset + 40, 10, 9, "DOCS", "tokens, META says");
    /* META's token count one more */
    section_ref meta = section_of(seg, SEC_META);
    expect_refused("META token_count", meta.offset + 16, seg[meta.offset + 16], (uint8_t)(seg[meta.offset + 16] + 1),
                   "DOCS", "tokens, META says");
}

TEST(passages_must_lie_in_order_inside_their_document) {
    /* document 0: passage 0 is "Checking the index" (line 1, token 0),
     * passage 1 "alpha ... omega" (line 3, token 3) */
    uint64_t len0 = passage_field(seg, 0, 1);
    REQUIRE(seg[len0] == 18);
    expect_refused("passage length", len0, 18, 120, "DOCINFO", "passage out of range");
    expect_refused("passage line", passage_field(seg, 0, 2), 1, 0, "DOCINFO",
                   "document 0: passage 0 at byte 0 is on line 0");
    expect_refused("passage line past its offset", passage_field(seg, 1, 2), 2, 30, "DOCINFO",
                   "document 0: passage 1 at byte 20 is on line 31");
    expect_refused("passage first token", passage_field(seg, 1, 3), 3, 11, "DOCINFO",
                   "document 0: passage 1 starts at token 11 of 10");
}

TEST(every_stem_must_be_a_term) {
    /* "omega" is its own stem: 5 bytes shared with the word, no rest */
    entry_at e = find_entry(seg, SEC_VOCAB, "omega");
    REQUIRE(e.start);
    expect_refused("VOCAB stem", e.after_name, 5, 4, "VOCAB",
                   "word \"omega\": its stem \"omeg\" is not a term of the LEXICON");
}

TEST(every_text_block_must_inflate) {
    section_ref text = section_of(seg, SEC_TEXT), tidx = section_of(seg, SEC_TEXTIDX);
    REQUIRE(tidx.length >= 3 * TEXTIDX_ENTRY);
    /* a byte in the middle of block 1's deflate data */
    uint64_t at = text.offset + load_u64(seg + tidx.offset + TEXTIDX_ENTRY) + load_u32(seg + tidx.offset + TEXTIDX_ENTRY + 8) / 2;
    expect_refused("TEXT compressed byte", at, seg[at], (uint8_t)(seg[at] ^ 0x10), "TEXT",
                   "block 1 does not inflate");
    /* block 1 starting one byte late */
    uint64_t e1 = tidx.offset + TEXTIDX_ENTRY;
    expect_refused("TEXTIDX offset", e1, seg[e1], (uint8_t)(seg[e1] + 1), "TEXTIDX", "block 1 at offset");
}

/* ------------------------------------------------------------------------ */
/* The optional lookup sections                                             */
/* ------------------------------------------------------------------------ */

TEST(lookup_sections_must_repeat_the_lexicon_and_the_documents) {
    section_ref keys = section_of(seg, SEC_LEXKEYS), lens = section_of(seg, SEC_DOCLENS);
    REQUIRE(keys.offset && lens.offset);
    /* 301 documents, 8 bytes each; one 8-byte key per block of 16 terms */
    CHECK_EQ_U64(lens.length, 301 * DOCLEN_RECORD_SIZE);
    CHECK_EQ_U64(keys.length % LEXKEY_BYTES, 0);
    CHECK(keys.length >= 20 * LEXKEY_BYTES);
    /* block 1's key no longer its first term's start */
    uint64_t at = keys.offset + LEXKEY_BYTES;
    expect_refused("LEXKEYS key", at, seg[at], (uint8_t)(seg[at] + 1), "LEXKEYS", "block 1: key");
    /* document 0: ten tokens, three in the title */
    expect_refused("DOCLENS token_count", lens.offset, 10, 11, "DOCLENS",
                   "document 0: 11 tokens, 3 in the title; DOCS says 10, 3");
    expect_refused("DOCLENS title_token_count", lens.offset + 4, 3, 2, "DOCLENS",
                   "document 0: 10 tokens, 2 in the title; DOCS says 10, 3");
    /* a length that is not one entry per block is refused at open */
    uint8_t *copy = malloc(seg_len);
    REQUIRE(copy);
    for (int id = SEC_LEXKEYS; id <= SEC_DOCLENS; id++) {
        memcpy(copy, seg, seg_len);
        for (uint32_t i = 0; i < load_u32(copy + 28); i++) {
            uint8_t *e = copy + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
            if (load_u32(e) == (uint32_t)id) store_u64(e + 16, load_u64(e + 16) - 8);
        }
        fix_checksums(copy, seg_len);
        lode_error err;
        CHECK_EQ_U64(check_bytes(copy, seg_len, &err), LODE_ECORRUPT);
        CHECK(strstr(err.message, id == SEC_LEXKEYS ? "section LEXKEYS: length does not match the term count"
                                                    : "section DOCLENS: length does not match the document count"));
        fprintf(stderr, "  %-34s %s\n", "shortened", err.message);
    }
    free(copy);
}

/* Copy `q`'s ranked paths and scores into out (one line per hit). */
static void answers(const uint8_t *data, size_t len, const char *q, char *out, size_t cap) {
    lode_index *ix;
    lode_results *r;
    lode_error err;
    size_t n = 0;
    out[0] = '\0';
    if (lode_index_open_memory(&ix, data, len, "answers", &err) == 0) {
        lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
        o.limit = 20;
        if (lode_search(&r, ix, q, &o, &err) == 0) {
            for (size_t i = 0; i < lode_results_count(r) && n < cap; i++) {
                lode_hit h;
                lode_results_get(r, i, &h);
                n += (size_t)snprintf(out + n, cap - n, "%s %.9g\n", h.path, h.score);
            }
            lode_results_free(r);
        }
        lode_index_close(ix);
    }
}

TEST(without_the_lookup_sections_the_answers_are_the_same) {
    /* what a segment of lode 0.1 looks like to this reader: the two
     * entries renamed id 0, which every reader skips */
    uint8_t *old = malloc(seg_len);
    REQUIRE(old);
    memcpy(old, seg, seg_len);
    int hidden = 0;
    for (uint32_t i = 0; i < load_u32(old + 28); i++) {
        uint8_t *e = old + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        if (load_u32(e) == SEC_LEXKEYS || load_u32(e) == SEC_DOCLENS) {
            store_u32(e, 0);
            hidden++;
        }
    }
    CHECK_EQ_U64(hidden, 2);
    fix_checksums(old, seg_len);
    lode_error err;
    CHECK_EQ_U64(check_bytes(old, seg_len, &err), 0);
    /* words in the first, middle and last lexicon blocks, a title word, a
     * phrase, a prefix and a word that is not there */
    static const char *const queries[] = {"common", "omega", "checking index", "wordab", "wordln", "wordkb report",
                                          "\"alpha beta\"", "word*", "zzz", "113 common"};
    static char a[8192], b[8192];
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        answers(seg, seg_len, queries[i], a, sizeof a);
        answers(old, seg_len, queries[i], b, sizeof b);
        if (strcmp(a, b) != 0) fprintf(stderr, "query %s:\n%s--- without:\n%s", queries[i], a, b);
        CHECK(strcmp(a, b) == 0);
        CHECK(i == 8 || a[0] != '\0'); /* all but "zzz" find something */
    }
    free(old);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(a_real_index_passes),
        TEST_CASE(the_corpus_passes_in_one_segment_and_in_many),
        TEST_CASE(the_format_1_fixture_passes),
        TEST_CASE(lexicon_statistics_must_match_the_postings),
        TEST_CASE(postings_regions_and_term_order_are_checked),
        TEST_CASE(skip_entries_must_match_their_blocks),
        TEST_CASE(positions_must_lie_in_the_document_and_agree_with_the_title),
        TEST_CASE(document_records_must_follow_each_other),
        TEST_CASE(passages_must_lie_in_order_inside_their_document),
        TEST_CASE(every_stem_must_be_a_term),
        TEST_CASE(every_text_block_must_inflate),
        TEST_CASE(lookup_sections_must_repeat_the_lexicon_and_the_documents),
        TEST_CASE(without_the_lookup_sections_the_answers_are_the_same),
    };
    int rc = 1;
    if (build() == 0)
        rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    else
        fprintf(stderr, "could not build the test index\n");
    free(seg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
