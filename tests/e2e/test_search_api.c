/*
 * test_search_api.c - the parts of the public API that grep-style listings
 * rest on: LODE_SEARCH_ALL_PASSAGES (every passage with a match, in
 * document order, each on its own), lode_hit.doc with lode_index_read_text
 * (the stored text, byte for byte), and the LODE_SEARCH_MAX_LIMIT cap.
 * Documents are added from memory, so every byte and line is known here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode-search-api-XXXXXX";
static char index_path[512];
static lode_index *ix;

/* A heading of one word over a paragraph, matches in three passages of
 * four, CRLF line ends in the middle, no final newline. */
static const char DOC_A[] = "Quokka handbook\n"
                            "\n"
                            "Feeding\n"
                            "\n"
                            "A quokka eats leaves and grass.\r\n"
                            "It drinks little.\n"
                            "\n"
                            "Nothing to see in this paragraph.\n"
                            "\n"
                            "The last quokka line";
static const char DOC_B[] = "Wombat notes\n\nA wombat is not a quokka.\n";
static const char DOC_C[] = "Unrelated\n\nNo animals here at all.\n";

static void setup(void) {
    if (!mkdtemp(tmpdir)) abort();
    snprintf(index_path, sizeof index_path, "%s/t.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, index_path, NULL, &err) ||
        lode_writer_add_document(w, "a.txt", DOC_A, sizeof DOC_A - 1, 0, &err) ||
        lode_writer_add_document(w, "b.txt", DOC_B, sizeof DOC_B - 1, 0, &err) ||
        lode_writer_add_document(w, "c.txt", DOC_C, sizeof DOC_C - 1, 0, &err) || lode_writer_commit(w, &err)) {
        fprintf(stderr, "cannot build the test index: %s\n", err.message);
        abort();
    }
    lode_writer_free(w);
    if (lode_index_open(&ix, index_path, &err)) {
        fprintf(stderr, "cannot open the test index: %s\n", err.message);
        abort();
    }
}

static void teardown(void) {
    lode_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

static const lode_hit *find_hit(const lode_results *r, const char *path, lode_hit *h) {
    for (size_t i = 0; i < lode_results_count(r); i++)
        if (lode_results_get(r, i, h) == 0 && strcmp(h->path, path) == 0) return h;
    return NULL;
}

static int search(lode_results **r, const char *q, unsigned flags, size_t limit, size_t passages) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.flags = flags;
    o.limit = limit;
    o.passages = passages;
    lode_error err;
    int rc = lode_search(r, ix, q, &o, &err);
    if (rc) fprintf(stderr, "search %s: %s\n", q, err.message);
    return rc;
}

TEST(all_passages_lists_every_passage_with_a_match_in_document_order) {
    lode_results *r;
    REQUIRE(search(&r, "quokka", LODE_SEARCH_ALL_PASSAGES, 10, 1) == 0);
    lode_hit h;
    REQUIRE(find_hit(r, "a.txt", &h) != NULL);
    /* the title line, the paragraph, the last line: not the heading nor
     * the paragraph without the word */
    CHECK_EQ_U64(h.passage_count, 3);
    static const unsigned lines[] = {1, 5, 10};
    for (size_t i = 0; i < h.passage_count && i < 3; i++) {
        const lode_passage *p = &h.passages[i];
        CHECK_EQ_U64(p->line, lines[i]);
        CHECK(p->span_count >= 1);
        CHECK(memcmp(DOC_A + p->offset, p->text, p->length) == 0);
        for (size_t s = 0; s < p->span_count; s++)
            CHECK(strncmp(p->text + p->spans[s].start, "quokka", 6) == 0 ||
                  strncmp(p->text + p->spans[s].start, "Quokka", 6) == 0);
        if (i) CHECK(p->offset > h.passages[i - 1].offset);
    }
    lode_results_free(r);
}

TEST(all_passages_keeps_a_heading_apart_from_its_paragraph) {
    lode_results *r;
    /* ranked: the one-word heading "Feeding" is shown with the paragraph it heads */
    REQUIRE(search(&r, "feeding leaves", 0, 10, 1) == 0);
    lode_hit h;
    REQUIRE(find_hit(r, "a.txt", &h) != NULL && h.passage_count == 1);
    CHECK_EQ_U64(h.passages[0].line, 3);
    CHECK(h.passages[0].length > strlen("Feeding"));
    lode_results_free(r);
    /* listing: each passage alone, so no line is listed twice */
    REQUIRE(search(&r, "feeding leaves", LODE_SEARCH_ALL_PASSAGES, 10, 1) == 0);
    REQUIRE(find_hit(r, "a.txt", &h) != NULL);
    REQUIRE(h.passage_count == 2);
    CHECK_EQ_U64(h.passages[0].line, 3);
    CHECK_EQ_U64(h.passages[0].length, strlen("Feeding"));
    CHECK_EQ_U64(h.passages[1].line, 5);
    lode_results_free(r);
}

TEST(read_text_gives_the_stored_bytes) {
    lode_results *r;
    REQUIRE(search(&r, "quokka", LODE_SEARCH_ALL_PASSAGES, 10, 1) == 0);
    lode_hit a, b;
    REQUIRE(find_hit(r, "a.txt", &a) != NULL && find_hit(r, "b.txt", &b) != NULL);
    CHECK(a.doc != b.doc);
    char buf[256];
    size_t got = 99;
    lode_error err;
    CHECK(lode_index_read_text(ix, a.doc, 0, buf, sizeof buf, &got, &err) == 0);
    CHECK_EQ_U64(got, sizeof DOC_A - 1);
    CHECK(memcmp(buf, DOC_A, sizeof DOC_A - 1) == 0);
    for (size_t i = 0; i < a.passage_count; i++) {
        const lode_passage *p = &a.passages[i];
        CHECK(lode_index_read_text(ix, a.doc, p->offset, buf, p->length, &got, &err) == 0);
        CHECK_EQ_U64(got, p->length);
        CHECK(memcmp(buf, p->text, p->length) == 0);
    }
    /* a short read only at the end; nothing at the very end */
    CHECK(lode_index_read_text(ix, b.doc, 10, buf, sizeof buf, &got, &err) == 0);
    CHECK_EQ_U64(got, sizeof DOC_B - 1 - 10);
    CHECK(memcmp(buf, DOC_B + 10, got) == 0);
    CHECK(lode_index_read_text(ix, b.doc, sizeof DOC_B - 1, buf, sizeof buf, &got, &err) == 0);
    CHECK_EQ_U64(got, 0);
    CHECK(lode_index_read_text(ix, b.doc, 0, buf, 0, &got, &err) == 0 && got == 0);
    lode_results_free(r);
}

TEST(read_text_refuses_what_is_not_there) {
    lode_results *r;
    REQUIRE(search(&r, "wombat", 0, 10, 1) == 0);
    lode_hit b;
    REQUIRE(find_hit(r, "b.txt", &b) != NULL);
    char buf[16];
    size_t got = 99;
    lode_error err;
    CHECK(lode_index_read_text(ix, b.doc, sizeof DOC_B, buf, sizeof buf, &got, &err) == LODE_EINVAL);
    CHECK_EQ_U64(got, 0);
    CHECK(strstr(err.message, "past the end") != NULL);
    CHECK(lode_index_read_text(ix, b.doc + 1000, 0, buf, sizeof buf, &got, &err) == LODE_EINVAL);
    CHECK(lode_index_read_text(ix, (uint64_t)77 << 32, 0, buf, sizeof buf, &got, &err) == LODE_EINVAL);
    CHECK(lode_index_read_text(ix, b.doc, 0, NULL, sizeof buf, &got, &err) == LODE_EINVAL);
    CHECK(lode_index_read_text(ix, b.doc, 0, buf, sizeof buf, NULL, NULL) == LODE_EINVAL);
    CHECK(lode_index_read_text(NULL, b.doc, 0, buf, sizeof buf, &got, NULL) == LODE_EINVAL);
    lode_results_free(r);
}

TEST(a_limit_above_the_maximum_is_capped_not_refused) {
    lode_results *r;
    REQUIRE(search(&r, "quokka OR animals", LODE_SEARCH_ALL_PASSAGES, (size_t)-1, 1) == 0);
    CHECK_EQ_U64(lode_results_count(r), 3);
    lode_results_free(r);
    REQUIRE(search(&r, "quokka", LODE_SEARCH_ALL_PASSAGES, LODE_SEARCH_MAX_LIMIT, 1) == 0);
    CHECK_EQ_U64(lode_results_count(r), 2);
    lode_results_free(r);
}

int main(int argc, char **argv) {
    setup();
    static const test_case cases[] = {
        TEST_CASE(all_passages_lists_every_passage_with_a_match_in_document_order),
        TEST_CASE(all_passages_keeps_a_heading_apart_from_its_paragraph),
        TEST_CASE(read_text_gives_the_stored_bytes),
        TEST_CASE(read_text_refuses_what_is_not_there),
        TEST_CASE(a_limit_above_the_maximum_is_capped_not_refused),
    };
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    teardown();
    return rc;
}
