/*
 * segment_read.c - opens a segment (an mmap of its file, or bytes in
 * memory) and answers the lookups the searcher needs: document records,
 * document info and passages, stored text, lexicon lookups. Postings are
 * iterated in postings.c.
 *
 * Trust nothing: every read goes through segment_view(), which checks that
 * the range lies inside its section and that every 4 KiB page it touches
 * matches its CRC-32 (each page is verified once per opened segment). Then
 * every decoder checks every length against the end of what it was given.
 * A damaged file is thus reported as LODE_ECORRUPT naming the file and the
 * section, and never yields a wrong answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "segment.h"

static const char *const SECTION_NAMES[SEC_MAX + 1] = {
    "HEADER", "META",   "DOCS",  "DOCINFO",  "TEXTIDX", "TEXT",    "POSTINGS",
    "LEXICON", "LEXIDX", "VOCAB", "VOCABIDX", "PAGECRC", "LEXKEYS", "DOCLENS"};

const char *section_name(int id) {
    return id >= 0 && id <= SEC_MAX ? SECTION_NAMES[id] : "UNKNOWN";
}

static int corrupt(const segment *s, int sec, const char *what, lode_error *err) {
    return lode_corrupt(err, s->name, section_name(sec), what);
}

static int parse_meta(segment *s, lode_error *err) {
    const uint8_t *p;
    const section_ref *m = &s->sec[SEC_META];
    /* 57 fixed bytes and a stemmer name of 1..63 bytes */
    if (m->length < 58 || m->length > 57 + sizeof s->stemmer - 1) return corrupt(s, SEC_META, "bad length", err);
    int rc = segment_view(s, SEC_META, 0, m->length, &p, err);
    if (rc) return rc;
    if (lode_crc32(0, p, m->length) != m->crc) return corrupt(s, SEC_META, "checksum mismatch", err);
    s->doc_count = load_u32(p);
    s->term_count = load_u32(p + 4);
    s->passage_count = load_u64(p + 8);
    s->token_count = load_u64(p + 16);
    s->title_token_count = load_u64(p + 24);
    s->text_bytes = load_u64(p + 32);
    uint32_t text_block = load_u32(p + 40), post_block = load_u32(p + 44), lex_block = load_u32(p + 48);
    s->word_count = load_u32(p + 52);
    uint8_t stem_len = p[56];
    if (text_block != TEXT_BLOCK_SIZE || post_block != POSTINGS_BLOCK || lex_block != LEXICON_BLOCK)
        return lode_fail(err, LODE_EVERSION, "%s: block sizes %u/%u/%u differ from this lode's format", s->name,
                         text_block, post_block, lex_block);
    if (57u + stem_len != m->length || stem_len == 0 || stem_len >= sizeof s->stemmer)
        return corrupt(s, SEC_META, "bad stemmer name", err);
    memcpy(s->stemmer, p + 57, stem_len);
    s->stemmer[stem_len] = '\0';
    if (s->doc_count > LODE_MAX_DOCS_PER_SEGMENT) return corrupt(s, SEC_META, "document count out of range", err);
    if ((uint64_t)s->doc_count * DOC_RECORD_SIZE != s->sec[SEC_DOCS].length)
        return corrupt(s, SEC_DOCS, "length does not match the document count", err);
    s->lex_blocks = (s->term_count + LEXICON_BLOCK - 1) / LEXICON_BLOCK;
    if ((uint64_t)s->lex_blocks * 8 != s->sec[SEC_LEXIDX].length)
        return corrupt(s, SEC_LEXIDX, "length does not match the term count", err);
    s->vocab_blocks = (s->word_count + LEXICON_BLOCK - 1) / LEXICON_BLOCK;
    if ((uint64_t)s->vocab_blocks * 8 != s->sec[SEC_VOCABIDX].length)
        return corrupt(s, SEC_VOCABIDX, "length does not match the word count", err);
    uint64_t text_blocks = (s->text_bytes + TEXT_BLOCK_SIZE - 1) / TEXT_BLOCK_SIZE;
    if (text_blocks * TEXTIDX_ENTRY != s->sec[SEC_TEXTIDX].length)
        return corrupt(s, SEC_TEXTIDX, "length does not match the stored text size", err);
    /* the optional sections, when present, have one entry per block or
     * document like the sections they shadow */
    if (s->sec[SEC_LEXKEYS].offset && (uint64_t)s->lex_blocks * LEXKEY_BYTES != s->sec[SEC_LEXKEYS].length)
        return corrupt(s, SEC_LEXKEYS, "length does not match the term count", err);
    if (s->sec[SEC_DOCLENS].offset && (uint64_t)s->doc_count * DOCLEN_RECORD_SIZE != s->sec[SEC_DOCLENS].length)
        return corrupt(s, SEC_DOCLENS, "length does not match the document count", err);
    return 0;
}

static int parse_header(segment *s, lode_error *err) {
    const uint8_t *h = s->data;
    size_t have = s->size < SEG_MAGIC_LEN ? s->size : SEG_MAGIC_LEN;
    if (memcmp(h, SEG_MAGIC, have) != 0) return corrupt(s, 0, "not a lode segment (bad magic)", err);
    if (s->size < SEG_HEADER_FIXED) return corrupt(s, 0, "file too short (truncated?)", err);
    uint32_t version = load_u32(h + 8);
    if (version != SEG_FORMAT_VERSION)
        return lode_fail(err, LODE_EVERSION, "%s: format version %u, this lode reads version %u",
                         s->name, version, SEG_FORMAT_VERSION);
    uint32_t header_len = load_u32(h + 12);
    uint32_t count = load_u32(h + 28);
    if (count < SEC_COUNT || count > 64 || header_len != SEG_HEADER_FIXED + count * SEG_SECTION_ENTRY + 4 ||
        header_len > s->size)
        return corrupt(s, 0, "bad header length", err);
    if (lode_crc32(0, h, header_len - 4) != load_u32(h + header_len - 4))
        return corrupt(s, 0, "checksum mismatch", err);
    uint64_t file_len = load_u64(h + 16);
    if (file_len != s->size) {
        char what[128];
        snprintf(what, sizeof what, "file is %zu bytes but the header says %llu (truncated?)", s->size,
                 (unsigned long long)file_len);
        return corrupt(s, 0, what, err);
    }
    if (load_u32(h + 24) != SEG_PAGE_SIZE)
        return lode_fail(err, LODE_EVERSION, "%s: page size %u differs from this lode's format", s->name,
                         load_u32(h + 24));
    s->header_crc = load_u32(h + header_len - 4);
    uint64_t unknown_end = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = h + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        uint32_t id = load_u32(e);
        uint64_t off = load_u64(e + 8), len = load_u64(e + 16);
        if (off < header_len || off > s->size || len > s->size - off)
            return corrupt(s, id <= SEC_MAX ? (int)id : 0, "section outside the file", err);
        if (id == 0 || id > SEC_MAX) {
            /* an optional section of a later extension: skipped, but it must
             * lie under the page checksums like every other byte */
            if (off + len > unknown_end) unknown_end = off + len;
            continue;
        }
        if (s->sec[id].offset) return corrupt(s, 0, "section listed twice", err);
        s->sec[id].offset = off;
        s->sec[id].length = len;
        s->sec[id].crc = load_u32(e + 24);
    }
    for (int id = 1; id <= SEC_COUNT; id++)
        if (!s->sec[id].offset) return corrupt(s, id, "section missing", err);
    /* page checksums cover [header_len, PAGECRC offset) */
    const section_ref *pc = &s->sec[SEC_PAGECRC];
    uint64_t covered = pc->offset - header_len;
    s->page_count = (size_t)((covered + SEG_PAGE_SIZE - 1) / SEG_PAGE_SIZE);
    if ((uint64_t)s->page_count * 4 != pc->length) return corrupt(s, SEC_PAGECRC, "bad length", err);
    if (lode_crc32(0, s->data + pc->offset, pc->length) != pc->crc)
        return corrupt(s, SEC_PAGECRC, "checksum mismatch", err);
    for (int id = 1; id <= SEC_MAX; id++)
        if (id != SEC_PAGECRC && s->sec[id].offset + s->sec[id].length > pc->offset)
            return corrupt(s, id, "section overlaps the page checksums", err);
    if (unknown_end > pc->offset || pc->offset + pc->length != s->size)
        return corrupt(s, SEC_PAGECRC, "bytes outside the page checksums", err);
    s->page_ok = lode_calloc(s->page_count ? s->page_count : 1, sizeof *s->page_ok);
    if (!s->page_ok) return lode_fail(err, LODE_ENOMEM, "out of memory opening %s", s->name);
    return parse_meta(s, err);
}

static int open_common(segment **out, segment *s, lode_error *err) {
    int rc = parse_header(s, err);
    if (rc) {
        segment_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static segment *segment_alloc(const char *display_name) {
    segment *s = lode_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = lode_strdup(display_name ? display_name : "(memory)");
    if (!s->name) {
        lode_free(s);
        return NULL;
    }
    return s;
}

int segment_open_file(segment **out, const char *path, const char *display_name, lode_error *err) {
    *out = NULL;
    segment *s = segment_alloc(display_name ? display_name : path);
    if (!s) return lode_fail(err, LODE_ENOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        char msg[128];
        if (strerror_r(e, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", e);
        int rc = lode_fail(err, e == ENOENT ? LODE_ENOTFOUND : LODE_EIO, "%s: %s", s->name, msg);
        segment_close(s);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        int rc = lode_fail(err, LODE_EIO, "%s: not a regular file", s->name);
        segment_close(s);
        return rc;
    }
    if (st.st_size < SEG_HEADER_FIXED) {
        close(fd);
        int rc = lode_fail(err, LODE_ECORRUPT, "%s: section HEADER: file is %lld bytes, too short (truncated?)",
                           s->name, (long long)st.st_size);
        segment_close(s);
        return rc;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        int rc = lode_fail(err, LODE_EIO, "%s: mmap failed", s->name);
        segment_close(s);
        return rc;
    }
    s->data = map;
    s->size = (size_t)st.st_size;
    s->mapped = 1;
    return open_common(out, s, err);
}

int segment_open_memory(segment **out, const void *data, size_t size, const char *display_name,
                        lode_error *err) {
    *out = NULL;
    segment *s = segment_alloc(display_name);
    if (!s) return lode_fail(err, LODE_ENOMEM, "out of memory");
    s->data = data;
    s->size = size;
    return open_common(out, s, err);
}

void segment_close(segment *s) {
    if (!s) return;
    if (s->mapped) munmap((void *)s->data, s->size);
    lode_free(s->page_ok);
    lode_free(s->name);
    lode_free(s);
}

static int check_page(segment *s, size_t page, int sec, lode_error *err) {
    if (atomic_load_explicit(&s->page_ok[page], memory_order_relaxed)) return 0;
    uint64_t header_len = load_u32(s->data + 12);
    uint64_t start = header_len + (uint64_t)page * SEG_PAGE_SIZE;
    uint64_t end = start + SEG_PAGE_SIZE;
    if (end > s->sec[SEC_PAGECRC].offset) end = s->sec[SEC_PAGECRC].offset;
    uint32_t want = load_u32(s->data + s->sec[SEC_PAGECRC].offset + page * 4);
    if (lode_crc32(0, s->data + start, end - start) != want) {
        /* the damaged byte is somewhere in the page: name every section the
         * page holds, since a page can straddle two */
        char holds[128] = "";
        size_t used = 0;
        for (int id = 1; id <= SEC_MAX; id++) {
            const section_ref *r = &s->sec[id];
            if (id != SEC_PAGECRC && r->length && r->offset < end && r->offset + r->length > start &&
                used < sizeof holds - 16)
                used += (size_t)snprintf(holds + used, sizeof holds - used, "%s%s", used ? "+" : "", section_name(id));
        }
        char what[256];
        snprintf(what, sizeof what, "checksum mismatch in page %zu (bytes %llu-%llu, holding %s)", page,
                 (unsigned long long)start, (unsigned long long)end, used ? holds : "padding");
        return corrupt(s, sec ? sec : SEC_PAGECRC, what, err);
    }
    atomic_store_explicit(&s->page_ok[page], 1, memory_order_relaxed);
    return 0;
}

int segment_view(segment *s, int sec, uint64_t off, uint64_t len, const uint8_t **p, lode_error *err) {
    const section_ref *r = &s->sec[sec];
    if (off > r->length || len > r->length - off) return corrupt(s, sec, "reference out of bounds", err);
    *p = s->data + r->offset + off;
    if (len == 0 || sec == SEC_PAGECRC) return 0;
    uint64_t header_len = load_u32(s->data + 12);
    uint64_t first = (r->offset + off - header_len) / SEG_PAGE_SIZE;
    uint64_t last = (r->offset + off + len - 1 - header_len) / SEG_PAGE_SIZE;
    for (uint64_t pg = first; pg <= last; pg++) {
        int rc = check_page(s, (size_t)pg, sec, err);
        if (rc) return rc;
    }
    return 0;
}

int segment_check_all(segment *s, lode_error *err) {
    for (int id = 1; id <= SEC_MAX; id++) {
        if (!s->sec[id].offset) continue; /* an optional section absent */
        const uint8_t *p;
        int rc = segment_view(s, id, 0, s->sec[id].length, &p, err);
        if (rc) return rc;
        if (lode_crc32(0, p, s->sec[id].length) != s->sec[id].crc) return corrupt(s, id, "checksum mismatch", err);
    }
    for (size_t pg = 0; pg < s->page_count; pg++) {
        int rc = check_page(s, pg, 0, err);
        if (rc) return rc;
    }
    return 0;
}

/* --- documents ----------------------------------------------------------- */

int segment_doc(segment *s, uint32_t doc, doc_record *out, lode_error *err) {
    const uint8_t *p;
    if (doc >= s->doc_count) return corrupt(s, SEC_DOCS, "document id out of range", err);
    int rc = segment_view(s, SEC_DOCS, (uint64_t)doc * DOC_RECORD_SIZE, DOC_RECORD_SIZE, &p, err);
    if (rc) return rc;
    out->text_offset = load_u64(p);
    out->size = load_u64(p + 8);
    out->mtime = (int64_t)load_u64(p + 16);
    out->content_hash = load_u64(p + 24);
    out->info_offset = load_u64(p + 32);
    out->token_count = load_u32(p + 40);
    out->title_token_count = load_u32(p + 44);
    if (out->text_offset > s->text_bytes || out->size > s->text_bytes - out->text_offset ||
        out->size > LODE_MAX_DOC_BYTES || out->title_token_count > out->token_count ||
        out->info_offset >= s->sec[SEC_DOCINFO].length)
        return corrupt(s, SEC_DOCS, "document record out of range", err);
    return 0;
}

int segment_doc_lengths(segment *s, uint32_t doc, uint32_t *token_count, uint32_t *title_token_count,
                        lode_error *err) {
    if (doc >= s->doc_count) return corrupt(s, SEC_DOCS, "document id out of range", err);
    const uint8_t *p;
    int rc = s->sec[SEC_DOCLENS].offset
                 ? segment_view(s, SEC_DOCLENS, (uint64_t)doc * DOCLEN_RECORD_SIZE, DOCLEN_RECORD_SIZE, &p, err)
                 : segment_view(s, SEC_DOCS, (uint64_t)doc * DOC_RECORD_SIZE + 40, 8, &p, err);
    if (rc) return rc;
    *token_count = load_u32(p);
    *title_token_count = load_u32(p + 4);
    return 0;
}

int segment_doc_lengths_table(segment *s, const uint8_t **table, lode_error *err) {
    *table = NULL;
    if (!s->sec[SEC_DOCLENS].offset || !s->sec[SEC_DOCLENS].length) return 0;
    return segment_view(s, SEC_DOCLENS, 0, s->sec[SEC_DOCLENS].length, table, err);
}

int segment_doc_info(segment *s, uint32_t doc, const doc_record *d, doc_info *out, lode_error *err) {
    /* a document's info runs to the next document's, or to the section end */
    uint64_t end = s->sec[SEC_DOCINFO].length;
    if (doc + 1 < s->doc_count) {
        const uint8_t *next;
        int rc = segment_view(s, SEC_DOCS, (uint64_t)(doc + 1) * DOC_RECORD_SIZE + 32, 8, &next, err);
        if (rc) return rc;
        end = load_u64(next);
    }
    if (end <= d->info_offset || end > s->sec[SEC_DOCINFO].length)
        return corrupt(s, SEC_DOCINFO, "document info out of order", err);
    const uint8_t *p;
    int rc = segment_view(s, SEC_DOCINFO, d->info_offset, end - d->info_offset, &p, err);
    if (rc) return rc;
    const uint8_t *q = p, *qend = p + (end - d->info_offset);
    uint32_t path_len, title_len, npass;
    if (varint_get32(&q, qend, &path_len) || path_len == 0 || (uint64_t)(qend - q) < path_len)
        return corrupt(s, SEC_DOCINFO, "bad path", err);
    out->path = (const char *)q;
    out->path_len = path_len;
    q += path_len;
    if (varint_get32(&q, qend, &title_len) || title_len > TITLE_MAX_BYTES || (uint64_t)(qend - q) < title_len)
        return corrupt(s, SEC_DOCINFO, "bad title", err);
    out->title = (const char *)q;
    out->title_len = title_len;
    q += title_len;
    if (varint_get32(&q, qend, &npass) || npass > d->size)
        return corrupt(s, SEC_DOCINFO, "bad passage count", err);
    out->passage_count = npass;
    out->doc_size = d->size;
    out->passages = q;
    out->end = qend;
    return 0;
}

int doc_info_passages(segment *s, const doc_info *info, passage_record *out, lode_error *err) {
    const uint8_t *q = info->passages;
    uint64_t prev_end = 0, line = 0, tok = 0;
    for (uint32_t i = 0; i < info->passage_count; i++) {
        uint32_t d_off, len, d_line, d_tok;
        if (varint_get32(&q, info->end, &d_off) || varint_get32(&q, info->end, &len) ||
            varint_get32(&q, info->end, &d_line) || varint_get32(&q, info->end, &d_tok))
            return corrupt(s, SEC_DOCINFO, "passage table truncated", err);
        uint64_t off = prev_end + d_off;
        line += d_line;
        tok += d_tok;
        if (off + len > info->doc_size || line > UINT32_MAX || tok > UINT32_MAX || len == 0)
            return corrupt(s, SEC_DOCINFO, "passage out of range", err);
        out[i].offset = (uint32_t)off;
        out[i].length = len;
        out[i].line = (uint32_t)line;
        out[i].first_token = (uint32_t)tok;
        prev_end = off + len;
    }
    if (q != info->end) return corrupt(s, SEC_DOCINFO, "bytes after the passage table", err);
    return 0;
}

struct text_reader {
    z_stream zs;
    int zs_ready;
    const segment *seg;  /* whose block `block` is in buf; NULL none */
    uint64_t block;
    uint32_t have;       /* bytes of the block inflated so far */
    uint32_t raw;        /* its full length */
    int finished;        /* the stream ended (have == raw) */
    uint8_t buf[TEXT_BLOCK_SIZE];
};

int text_reader_new(text_reader **out) {
    *out = lode_calloc(1, sizeof **out);
    return *out ? 0 : LODE_ENOMEM;
}

void text_reader_free(text_reader *r) {
    if (!r) return;
    if (r->zs_ready) inflateEnd(&r->zs);
    lode_free(r);
}

/* Start inflating block b. The zlib header is checked here and the stream
 * inflated raw: the page checksums already vouch for every compressed
 * byte, so zlib's Adler-32 of the output (a tenth of the time) is skipped. */
static int reader_start(text_reader *r, segment *s, uint64_t b, lode_error *err) {
    r->seg = NULL;
    const uint8_t *e = NULL, *z = NULL;
    int rc = segment_view(s, SEC_TEXTIDX, b * TEXTIDX_ENTRY, TEXTIDX_ENTRY, &e, err);
    if (rc) return rc;
    uint64_t zoff = load_u64(e);
    uint32_t zlen = load_u32(e + 8);
    rc = segment_view(s, SEC_TEXT, zoff, zlen, &z, err);
    if (rc) return rc;
    /* RFC 1950: deflate, window <= 32 KiB, check bits, no preset dictionary */
    if (zlen < 2 || (z[0] & 0x0f) != 8 || (z[0] >> 4) > 7 || ((unsigned)z[0] << 8 | z[1]) % 31 != 0 || (z[1] & 0x20))
        return corrupt(s, SEC_TEXT, "compressed block has a bad header", err);
    if (!r->zs_ready) {
        memset(&r->zs, 0, sizeof r->zs);
        if (inflateInit2(&r->zs, -15) != Z_OK) return lode_fail(err, LODE_ENOMEM, "out of memory");
        r->zs_ready = 1;
    } else if (inflateReset(&r->zs) != Z_OK) {
        return corrupt(s, SEC_TEXT, "compressed block does not inflate", err);
    }
    uint64_t raw = s->text_bytes - b * TEXT_BLOCK_SIZE;
    r->raw = raw > TEXT_BLOCK_SIZE ? TEXT_BLOCK_SIZE : (uint32_t)raw;
    r->zs.next_in = (Bytef *)(uintptr_t)(z + 2);
    r->zs.avail_in = zlen - 2;
    r->have = 0;
    r->finished = 0;
    r->block = b;
    r->seg = s;
    return 0;
}

/* Inflate block b up to byte `need` (<= its length). */
static int reader_fill(text_reader *r, segment *s, uint64_t b, uint32_t need, lode_error *err) {
    if (r->seg != s || r->block != b || !r->zs_ready) {
        int rc = reader_start(r, s, b, err);
        if (rc) return rc;
    }
    if (need > r->raw) need = r->raw;
    while (r->have < need) {
        r->zs.next_out = r->buf + r->have;
        r->zs.avail_out = need - r->have;
        int z = inflate(&r->zs, Z_SYNC_FLUSH);
        r->have = (uint32_t)(r->zs.next_out - r->buf);
        if (z == Z_MEM_ERROR) {
            /* zlib's window could not be allocated: the block may be fine */
            r->seg = NULL;
            return lode_fail(err, LODE_ENOMEM, "out of memory inflating %s", s->name);
        }
        if (z == Z_STREAM_END) {
            r->finished = 1;
            if (r->have != r->raw) break;
            continue;
        }
        if (z != Z_OK) break;
    }
    if (r->have < need || (r->finished && r->have != r->raw)) {
        r->seg = NULL;
        return corrupt(s, SEC_TEXT, "compressed block does not inflate", err);
    }
    return 0;
}

int segment_text_read(text_reader *r, segment *s, const doc_record *d, uint64_t off, uint64_t len,
                      lode_buf *out, lode_error *err) {
    out->len = 0;
    if (off > d->size || len > d->size - off) return corrupt(s, SEC_TEXT, "text range out of bounds", err);
    uint64_t pos = d->text_offset + off, stop = pos + len;
    if (stop > s->text_bytes) return corrupt(s, SEC_TEXT, "text range out of bounds", err);
    while (pos < stop) {
        uint64_t b = pos / TEXT_BLOCK_SIZE;
        uint64_t in_block = pos - b * TEXT_BLOCK_SIZE;
        uint64_t take = TEXT_BLOCK_SIZE - in_block;
        if (take > stop - pos) take = stop - pos;
        int rc = reader_fill(r, s, b, (uint32_t)(in_block + take), err);
        if (rc) return rc;
        buf_append(out, r->buf + in_block, (size_t)take);
        pos += take;
    }
    return out->rc ? lode_fail(err, LODE_ENOMEM, "out of memory") : 0;
}

int segment_text(segment *s, const doc_record *d, uint64_t off, uint64_t len, lode_buf *out,
                 lode_error *err) {
    out->len = 0;
    text_reader *r;
    if (text_reader_new(&r)) return lode_fail(err, LODE_ENOMEM, "out of memory");
    int rc = segment_text_read(r, s, d, off, len, out, err);
    text_reader_free(r);
    return rc;
}

/* --- lexicon ------------------------------------------------------------- */

/* A cursor over one front-coded block of LEXICON (terms with their
 * postings data) or VOCAB (words with their stems). */
typedef struct lex_cursor {
    segment *s;
    int sec;                /* SEC_LEXICON or SEC_VOCAB */
    const uint8_t *p, *end;
    uint32_t left;          /* entries left in this block */
    int first;
    uint8_t term[255];
    uint32_t term_len;
    term_info ti;           /* LEXICON */
    uint8_t stem[255];      /* VOCAB */
    uint32_t stem_len;
} lex_cursor;

static int lex_block_open(lex_cursor *c, segment *s, int sec, uint32_t b, lode_error *err) {
    int idx_sec = sec == SEC_LEXICON ? SEC_LEXIDX : SEC_VOCABIDX;
    uint32_t blocks = sec == SEC_LEXICON ? s->lex_blocks : s->vocab_blocks;
    uint32_t count = sec == SEC_LEXICON ? s->term_count : s->word_count;
    const uint8_t *idx = NULL;
    int rc = segment_view(s, idx_sec, (uint64_t)b * 8, b + 1 < blocks ? 16 : 8, &idx, err);
    if (rc) return rc;
    uint64_t start = load_u64(idx);
    uint64_t stop = b + 1 < blocks ? load_u64(idx + 8) : s->sec[sec].length;
    if (stop < start || stop > s->sec[sec].length) return corrupt(s, idx_sec, "block offsets out of order", err);
    rc = segment_view(s, sec, start, stop - start, &c->p, err);
    if (rc) return rc;
    c->s = s;
    c->sec = sec;
    c->end = c->p + (stop - start);
    c->left = b + 1 < blocks ? LEXICON_BLOCK : count - b * LEXICON_BLOCK;
    c->first = 1;
    c->term_len = 0;
    return 0;
}

/* The postings data of a LEXICON entry. */
static int lex_term_info(lex_cursor *c) {
    segment *s = c->s;
    uint64_t offset = 0, cf_extra;
    if (!c->first)
        offset = c->ti.offset + c->ti.length;
    else if (varint_get(&c->p, c->end, &offset))
        return -1;
    term_info t;
    if (varint_get32(&c->p, c->end, &t.df) || varint_get(&c->p, c->end, &cf_extra) ||
        varint_get(&c->p, c->end, &t.length) || varint_get32(&c->p, c->end, &t.max_tf) ||
        varint_get32(&c->p, c->end, &t.max_title_tf) || varint_get32(&c->p, c->end, &t.min_len))
        return -1;
    t.cf = t.df + cf_extra;
    t.offset = offset;
    if (t.df == 0 || t.df > s->doc_count || cf_extra > UINT64_MAX - t.df || t.offset > s->sec[SEC_POSTINGS].length ||
        t.length > s->sec[SEC_POSTINGS].length - t.offset || t.max_tf == 0 || t.max_title_tf > t.max_tf)
        return -1;
    c->ti = t;
    return 0;
}

/* The stem of a VOCAB entry: bytes shared with the word, then the rest. */
static int lex_stem(lex_cursor *c) {
    uint32_t shared, rest;
    if (varint_get32(&c->p, c->end, &shared) || varint_get32(&c->p, c->end, &rest) || shared > c->term_len ||
        rest > sizeof c->stem - shared || shared + rest == 0 || (uint64_t)(c->end - c->p) < rest)
        return -1;
    memcpy(c->stem, c->term, shared);
    memcpy(c->stem + shared, c->p, rest);
    c->p += rest;
    c->stem_len = shared + rest;
    return 0;
}

/* The term of the next entry; its data (postings data or stem) is read
 * next, by lex_entry_data or lex_skip_data. -1 when malformed. */
static int lex_next_term(lex_cursor *c) {
    uint32_t shared = 0, suffix;
    if (c->first) {
        if (varint_get32(&c->p, c->end, &suffix)) return -1;
    } else {
        if (varint_get32(&c->p, c->end, &shared) || varint_get32(&c->p, c->end, &suffix)) return -1;
    }
    if (shared > c->term_len || suffix > sizeof c->term - shared || shared + suffix == 0 ||
        (uint64_t)(c->end - c->p) < suffix)
        return -1;
    if (!c->first) {
        /* entries are strictly increasing: anything else is damage. The
         * first `shared` bytes are equal, so the new bytes decide against
         * the previous term's from there on */
        uint32_t rest = c->term_len - shared, n = rest < suffix ? rest : suffix;
        int cmp = memcmp(c->term + shared, c->p, n);
        if (cmp > 0 || (cmp == 0 && rest >= suffix)) return -1;
    }
    memcpy(c->term + shared, c->p, suffix);
    c->p += suffix;
    c->term_len = shared + suffix;
    return 0;
}

/* The entry's data, decoded and checked; the entry is done. */
static int lex_entry_data(lex_cursor *c) {
    if (c->sec == SEC_LEXICON ? lex_term_info(c) : lex_stem(c)) return -1;
    c->first = 0;
    c->left--;
    return 0;
}

/* Step over the data of a LEXICON entry that is not the one looked for:
 * only its region's place is kept, which the next entry's follows from. */
static int lex_skip_data(lex_cursor *c) {
    uint64_t offset, length;
    if (!c->first)
        offset = c->ti.offset + c->ti.length;
    else if (varint_get(&c->p, c->end, &offset))
        return -1;
    if (varint_skip(&c->p, c->end) || varint_skip(&c->p, c->end) || varint_get(&c->p, c->end, &length) ||
        varint_skip(&c->p, c->end) || varint_skip(&c->p, c->end) || varint_skip(&c->p, c->end))
        return -1;
    c->ti.offset = offset;
    c->ti.length = length;
    c->first = 0;
    c->left--;
    return 0;
}

static int lex_malformed(lex_cursor *c, lode_error *err) {
    return corrupt(c->s, c->sec, c->sec == SEC_LEXICON ? "malformed term entry" : "malformed word entry", err);
}

/* Decode the next entry of the block. */
static int lex_next(lex_cursor *c, lode_error *err) {
    return lex_next_term(c) || lex_entry_data(c) ? lex_malformed(c, err) : 0;
}

static int cmp_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    if (c) return c;
    return (an > bn) - (an < bn);
}

/* Bytes [0, LEXKEY_BYTES) of a string, zero-padded, as a number that orders
 * like the strings' starts (LEXKEYS, format.h). */
static uint64_t lex_key_of(const uint8_t *p, size_t n) {
    uint64_t k = 0;
    for (size_t i = 0; i < LEXKEY_BYTES; i++) k = k << 8 | (i < n ? p[i] : 0);
    return k;
}

/* Whether block b's first entry is <= key: -1 on error (in *rc). */
static int block_starts_at_or_before(segment *s, int sec, uint32_t b, const uint8_t *key, size_t key_len,
                                     uint64_t key_prefix, int *rc, lode_error *err) {
    if (sec == SEC_LEXICON && s->sec[SEC_LEXKEYS].offset) {
        const uint8_t *p;
        if ((*rc = segment_view(s, SEC_LEXKEYS, (uint64_t)b * LEXKEY_BYTES, LEXKEY_BYTES, &p, err))) return -1;
        uint64_t first = lex_key_of(p, LEXKEY_BYTES);
        if (first != key_prefix) return first < key_prefix;
        /* equal starts: a key shorter than LEXKEY_BYTES ends in padding, so
         * the first term is the key itself; else the rest decides */
        if (key_len < LEXKEY_BYTES) return 1;
    }
    lex_cursor c;
    *rc = lex_block_open(&c, s, sec, b, err);
    if (!*rc && lex_next_term(&c)) *rc = lex_malformed(&c, err); /* its first term is all we need */
    if (*rc) return -1;
    return cmp_bytes(c.term, c.term_len, key, key_len) <= 0;
}

/* The last block whose first entry is <= key (or 0). */
static int lex_find_block(segment *s, int sec, const uint8_t *key, size_t key_len, uint32_t *block,
                          lode_error *err) {
    uint32_t lo = 0, hi = sec == SEC_LEXICON ? s->lex_blocks : s->vocab_blocks; /* answer in [lo, hi) */
    uint64_t key_prefix = lex_key_of(key, key_len);
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        int rc = 0, before = block_starts_at_or_before(s, sec, mid, key, key_len, key_prefix, &rc, err);
        if (before < 0) return rc;
        if (before)
            lo = mid;
        else
            hi = mid;
    }
    *block = lo;
    return 0;
}

/* Call back for every entry of `sec` starting with prefix, in order. */
typedef int (*entry_fn)(void *ctx, const lex_cursor *c);

static int scan_prefix(segment *s, int sec, const char *prefix, size_t prefix_len, entry_fn fn, void *ctx,
                       lode_error *err) {
    uint32_t blocks = sec == SEC_LEXICON ? s->lex_blocks : s->vocab_blocks;
    if (blocks == 0 || prefix_len > 255) return 0;
    uint32_t b = 0;
    int rc = prefix_len ? lex_find_block(s, sec, (const uint8_t *)prefix, prefix_len, &b, err) : 0;
    for (; !rc && b < blocks; b++) {
        lex_cursor c;
        rc = lex_block_open(&c, s, sec, b, err);
        while (!rc && c.left) {
            rc = lex_next(&c, err);
            if (rc) break;
            int cmp = cmp_bytes(c.term, c.term_len < prefix_len ? c.term_len : prefix_len, (const uint8_t *)prefix,
                                prefix_len);
            if (cmp < 0) continue; /* before the prefix (or a shorter string equal to its start) */
            if (cmp > 0) return 0; /* past every string with the prefix */
            rc = fn(ctx, &c);
            if (rc) return rc;
        }
    }
    return rc;
}

int segment_lookup(segment *s, const char *term, size_t term_len, term_info *out, int *found,
                   lode_error *err) {
    *found = 0;
    if (s->term_count == 0 || term_len == 0 || term_len > 255) return 0;
    uint32_t b;
    int rc = lex_find_block(s, SEC_LEXICON, (const uint8_t *)term, term_len, &b, err);
    if (rc) return rc;
    lex_cursor c;
    rc = lex_block_open(&c, s, SEC_LEXICON, b, err);
    while (!rc && c.left) {
        if (lex_next_term(&c)) return lex_malformed(&c, err);
        int cmp = cmp_bytes(c.term, c.term_len, (const uint8_t *)term, term_len);
        if (cmp == 0) {
            if (lex_entry_data(&c)) return lex_malformed(&c, err);
            *out = c.ti;
            *found = 1;
            break;
        }
        if (cmp > 0) break;
        /* terms before the one looked for: their statistics are not needed */
        if (lex_skip_data(&c)) return lex_malformed(&c, err);
    }
    return rc;
}

typedef struct prefix_ctx {
    term_visit_fn term_fn;
    word_visit_fn word_fn;
    void *ctx;
} prefix_ctx;

static int visit_term(void *ctx, const lex_cursor *c) {
    const prefix_ctx *p = ctx;
    return p->term_fn(p->ctx, (const char *)c->term, c->term_len, &c->ti);
}

static int visit_word(void *ctx, const lex_cursor *c) {
    const prefix_ctx *p = ctx;
    return p->word_fn(p->ctx, (const char *)c->term, c->term_len, (const char *)c->stem, c->stem_len);
}

int segment_prefix_terms(segment *s, const char *prefix, size_t prefix_len, term_visit_fn fn, void *ctx,
                         lode_error *err) {
    prefix_ctx p = {fn, NULL, ctx};
    return scan_prefix(s, SEC_LEXICON, prefix, prefix_len, visit_term, &p, err);
}

int segment_prefix_words(segment *s, const char *prefix, size_t prefix_len, word_visit_fn fn, void *ctx,
                         lode_error *err) {
    prefix_ctx p = {NULL, fn, ctx};
    return scan_prefix(s, SEC_VOCAB, prefix, prefix_len, visit_word, &p, err);
}
