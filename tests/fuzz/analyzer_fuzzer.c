/*
 * analyzer_fuzzer.c - libFuzzer target for the analyzer
 * (indexer/analyze.c) and the passage cutter (indexer/passages.c), which
 * see every byte of every indexed file. The first input byte picks the
 * stemmer; the rest is the text. Beyond crashes and undefined behaviour it
 * aborts when an invariant breaks: token spans inside the input and in
 * order, positions consecutive, terms non-empty and within the length
 * limit; passages inside the input, in order, never overlapping, never
 * longer than PASSAGE_MAX_BYTES. Built as a real fuzzer by scripts/fuzz and
 * as a replay program over analyzer_corpus/ for ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "indexer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) ((c) ? (void)0 : abort())

typedef struct state {
    size_t len;
    uint32_t next_position;
    uint32_t last_start;
} state;

static int on_token(void *ctx, const token *t) {
    state *st = ctx;
    REQUIRE(t->start < t->end && t->end <= st->len);
    REQUIRE(t->start >= st->last_start);
    REQUIRE(t->position == st->next_position);
    REQUIRE(t->term_len > 0 && t->term_len <= LODE_MAX_TERM_BYTES);
    REQUIRE(t->word_len > 0 && t->word_len <= LODE_MAX_TERM_BYTES);
    st->next_position++;
    st->last_start = t->start;
    return 0;
}

typedef struct pstate {
    size_t len;
    uint64_t end; /* end of the previous passage */
} pstate;

static int on_passage(void *ctx, const passage_span *p) {
    pstate *ps = ctx;
    REQUIRE(p->length > 0 && p->length <= PASSAGE_MAX_BYTES);
    REQUIRE(p->offset >= ps->end && (uint64_t)p->offset + p->length <= ps->len);
    REQUIRE(p->line >= 1);
    ps->end = (uint64_t)p->offset + p->length;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    static const char *const stemmers[] = {"english", "none", "french", "russian"};
    analyzer *a = NULL;
    if (analyzer_new(&a, stemmers[data[0] % 4], NULL)) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    /* an exact-size copy: reading one byte past the text is caught */
    char *copy = malloc(len ? len : 1);
    if (copy) {
        memcpy(copy, text, len);
        state st = {len, 0, 0};
        int rc = analyze_text(a, copy, len, 0, on_token, &st);
        REQUIRE(rc == 0 || rc == LODE_ENOMEM);
        pstate ps = {len, 0};
        REQUIRE(passages_cut(copy, len, on_passage, &ps) == 0);
        uint32_t off, tlen;
        document_title(copy, len, &off, &tlen);
        REQUIRE((uint64_t)off + tlen <= len && tlen <= TITLE_MAX_BYTES);
        free(copy);
    }
    analyzer_free(a);
    return 0;
}
