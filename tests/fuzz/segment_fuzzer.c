/*
 * segment_fuzzer.c - libFuzzer target for the index reader
 * (indexer/segment_read.c, postings.c, and the searcher on top). Each input
 * is taken as the bytes of a segment file and opened twice: as it is
 * (checksums will mostly reject it, which must be clean), and after its
 * checksums are recomputed, so that the fuzzer reaches the decoders behind
 * them with structurally broken data. Either way every search must return
 * a result or an error, never crash or read outside the input; and
 * when lode_index_check passes an input, no search and no read of stored
 * text may find it corrupt. Built as a real fuzzer by
 * scripts/fuzz and as a replay program over segment_corpus/ for ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lode.h"
#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *QUERIES[] = {"alpha", "\"beta gamma\"", "alp*", "title:delta", "alpha NEAR/2 gamma",
                                "alpha -zeta", "epsilon OR beta", "path:*a*"};

static void search_all(const uint8_t *bytes, size_t size) {
    lode_index *ix = NULL;
    lode_error err;
    if (lode_index_open_memory(&ix, bytes, size, "fuzz", &err)) return;
    /* the full check decodes every structure: what it passes, every
     * search must read without a corruption error */
    int checked = lode_index_check(ix, &err);
    if (checked != 0 && checked != LODE_ECORRUPT && checked != LODE_ENOMEM) abort();
    for (size_t q = 0; q < sizeof QUERIES / sizeof *QUERIES; q++) {
        lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
        o.passages = 2;
        o.flags = q % 2 ? LODE_SEARCH_ALL_PASSAGES : 0;
        lode_results *r = NULL;
        int rc = lode_search(&r, ix, QUERIES[q], &o, &err);
        if (rc == LODE_ECORRUPT && checked == 0) abort();
        if (rc == 0) {
            for (size_t i = 0; i < lode_results_count(r); i++) {
                lode_hit h;
                if (lode_results_get(r, i, &h)) abort();
                for (size_t k = 0; k < h.passage_count; k++)
                    for (size_t s = 0; s < h.passages[k].span_count; s++)
                        if (h.passages[k].spans[s].end > h.passages[k].length) abort();
            }
        }
        lode_results_free(r);
    }
    /* and the stored text of the documents reads (the first 16 KiB of
     * each: an input of a megabyte can claim a gigabyte of text) */
    lode_index_info info;
    lode_index_get_info(ix, &info);
    char buf[512];
    for (uint64_t d = 0; d < info.documents && d < 64; d++) {
        size_t got;
        for (uint64_t off = 0; off < 16384; off += got) {
            int rc = lode_index_read_text(ix, d, off, buf, sizeof buf, &got, &err);
            if (rc == LODE_ECORRUPT && checked == 0) abort();
            if (rc || got == 0) break;
        }
    }
    lode_index_close(ix);
}

/* Recompute what the writer would have: section CRCs, page CRCs, header
 * CRC. Only where the header and section table are sane enough to say
 * where things are; otherwise leave the bytes as they are. */
static void fix_checksums(uint8_t *b, size_t size) {
    if (size < SEG_HEADER_FIXED || memcmp(b, SEG_MAGIC, SEG_MAGIC_LEN) != 0) return;
    uint32_t header_len = load_u32(b + 12), count = load_u32(b + 28);
    if (count > 64 || header_len != SEG_HEADER_FIXED + count * SEG_SECTION_ENTRY + 4 || header_len > size) return;
    store_u64(b + 16, size);
    uint64_t pc_off = 0, pc_len = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        uint64_t off = load_u64(e + 8), len = load_u64(e + 16);
        if (off > size || len > size - off) continue;
        if (load_u32(e) == SEC_PAGECRC) {
            pc_off = off;
            pc_len = len;
        }
    }
    if (pc_off >= header_len) {
        uint64_t pages = (pc_off - header_len + SEG_PAGE_SIZE - 1) / SEG_PAGE_SIZE;
        for (uint64_t p = 0; p < pages && (p + 1) * 4 <= pc_len; p++) {
            uint64_t start = header_len + p * SEG_PAGE_SIZE, end = start + SEG_PAGE_SIZE;
            if (end > pc_off) end = pc_off;
            store_u32(b + pc_off + p * 4, (uint32_t)crc32(0, b + start, (uInt)(end - start)));
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = b + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        uint64_t off = load_u64(e + 8), len = load_u64(e + 16);
        if (off > size || len > size - off) continue;
        store_u32(e + 24, (uint32_t)crc32(0, b + off, (uInt)len));
    }
    store_u32(b + header_len - 4, (uint32_t)crc32(0, b, header_len - 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    /* an exact-size copy: reading one byte past the input is caught */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    search_all(copy, size);
    fix_checksums(copy, size);
    search_all(copy, size);
    free(copy);
    return 0;
}
