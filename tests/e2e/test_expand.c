/*
 * test_expand.c - query expansion (pseudo-relevance feedback) through the
 * public API: it reorders the documents the query matches and never adds
 * one (whatever the query's shape), LODE_SEARCH_NO_EXPAND and
 * expand_weight 1 turn it off, a version 1 options struct gets the
 * default, passages and highlights stay those of the query's own words,
 * and answers are deterministic. Documents are added from memory.
 *
 * The collection: three documents about the Jaguar car (the word in the
 * title, with sedan, engine and dealer in the body) lead any search for
 * "jaguar"; two more mention the word once, one among car words, one (a
 * little shorter, so BM25 alone puts it first) about the animal. Expansion
 * learns sedan, engine and dealer from the best documents and lifts the car
 * one. A car document without the word must never be found by "jaguar".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode-expand-XXXXXX";
static char index_path[512];
static lode_index *ix;

static const struct {
    const char *path, *text;
} DOCS[] = {
    {"car1.txt", "Jaguar sedan review\n\nThe new sedan has a smooth engine. The dealer offered a test drive of the "
                 "sedan, and the engine stayed quiet.\n"},
    {"car2.txt", "Jaguar engine service\n\nService the engine at the dealer every year. The sedan engine needs "
                 "fresh oil and the dealer checks the brakes.\n"},
    {"car3.txt", "Jaguar dealer prices\n\nThe dealer lists every sedan and each engine option with its price.\n"},
    {"used.txt", "Used cars\n\nA clean sedan with a strong engine from a local dealer; the engine was tuned and "
                 "the sedan wears a jaguar badge.\n"},
    {"cat.txt", "Wildlife notes\n\nThe jaguar hunts at night in the rainforest, where it waits by the river for "
                "deer and fish.\n"},
    {"guide.txt", "Buying guide\n\nPick a sedan with a good engine from an honest dealer.\n"},
    {"garden.txt", "Garden diary\n\nWater the tomatoes early and keep the beans in the shade.\n"},
    {"kitchen.txt", "Kitchen notes\n\nBake the bread for forty minutes and let it cool on a rack.\n"},
    {"trip.txt", "Trip to the coast\n\nWe walked along the cliffs and watched the boats come in.\n"},
    {"music.txt", "Piano practice\n\nScales first, then the slow movement, then the etude again.\n"},
    {"birds.txt", "Bird count\n\nSeven robins, two herons and a kestrel over the field this morning.\n"},
    {"books.txt", "Reading list\n\nA novel about a lighthouse keeper and a history of maps.\n"},
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])

static void setup(void) {
    if (!mkdtemp(tmpdir)) abort();
    snprintf(index_path, sizeof index_path, "%s/t.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, index_path, NULL, &err)) abort();
    for (size_t i = 0; i < NDOCS; i++)
        if (lode_writer_add_document(w, DOCS[i].path, DOCS[i].text, strlen(DOCS[i].text), 0, &err)) abort();
    if (lode_writer_commit(w, &err)) {
        fprintf(stderr, "cannot build the test index: %s\n", err.message);
        abort();
    }
    lode_writer_free(w);
    if (lode_index_open(&ix, index_path, &err)) abort();
}

static void teardown(void) {
    lode_index_close(ix);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

static lode_results *search_with(const char *q, const lode_search_options *o) {
    lode_results *r = NULL;
    lode_error err;
    if (lode_search(&r, ix, q, o, &err)) {
        fprintf(stderr, "search %s: %s\n", q, err.message);
        return NULL;
    }
    return r;
}

static lode_results *search(const char *q, unsigned flags, size_t limit) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.flags = flags;
    o.limit = limit;
    return search_with(q, &o);
}

/* The rank of `path` in `r`, or -1. */
static long rank_of(const lode_results *r, const char *path) {
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        if (lode_results_get(r, i, &h) == 0 && strcmp(h.path, path) == 0) return (long)i;
    }
    return -1;
}

/* Whether two results hold the same documents, in any order. */
static int same_documents(const lode_results *a, const lode_results *b) {
    if (lode_results_count(a) != lode_results_count(b)) return 0;
    for (size_t i = 0; i < lode_results_count(a); i++) {
        lode_hit h;
        if (lode_results_get(a, i, &h) || rank_of(b, h.path) < 0) return 0;
    }
    return 1;
}

/* Whether two results are the same answer: documents, order, scores. */
static int same_answer(const lode_results *a, const lode_results *b) {
    if (lode_results_count(a) != lode_results_count(b)) return 0;
    for (size_t i = 0; i < lode_results_count(a); i++) {
        lode_hit x, y;
        if (lode_results_get(a, i, &x) || lode_results_get(b, i, &y)) return 0;
        if (strcmp(x.path, y.path) != 0 || x.score != y.score) return 0;
    }
    return 1;
}

TEST(expansion_lifts_the_document_about_what_the_best_ones_are_about) {
    lode_results *plain = search("jaguar", LODE_SEARCH_NO_EXPAND, 10), *expanded = search("jaguar", 0, 10);
    REQUIRE(plain && expanded);
    /* BM25 alone: the short animal note before the long car listing */
    CHECK(rank_of(plain, "cat.txt") >= 0 && rank_of(plain, "used.txt") > rank_of(plain, "cat.txt"));
    /* expanded with sedan, engine, dealer: the car listing first */
    CHECK(rank_of(expanded, "used.txt") >= 0 && rank_of(expanded, "used.txt") < rank_of(expanded, "cat.txt"));
    /* the three car documents lead either way */
    for (size_t i = 0; i < 3; i++) {
        CHECK(rank_of(plain, DOCS[i].path) >= 0 && rank_of(plain, DOCS[i].path) < 3);
        CHECK(rank_of(expanded, DOCS[i].path) >= 0 && rank_of(expanded, DOCS[i].path) < 3);
    }
    lode_results_free(plain);
    lode_results_free(expanded);
}

TEST(expansion_never_adds_a_document_the_query_does_not_match) {
    /* plain words (the MaxScore path), a phrase (the tree path), all words,
     * an exclusion, a title field, a path filter */
    static const char *const queries[] = {"jaguar", "jaguar sedan", "\"jaguar sedan\" engine", "jaguar -rainforest",
                                          "title:jaguar", "jaguar path:c*", "jaguar OR kestrel", "sedan"};
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        for (unsigned all = 0; all <= LODE_SEARCH_ALL_WORDS; all += LODE_SEARCH_ALL_WORDS) {
            lode_results *plain = search(queries[i], LODE_SEARCH_NO_EXPAND | all, LODE_SEARCH_MAX_LIMIT);
            lode_results *expanded = search(queries[i], all, LODE_SEARCH_MAX_LIMIT);
            REQUIRE(plain && expanded);
            if (!same_documents(plain, expanded)) fprintf(stderr, "query %s (all %u)\n", queries[i], all);
            CHECK(same_documents(plain, expanded));
            lode_results_free(plain);
            lode_results_free(expanded);
        }
    }
    lode_results *r = search("jaguar", 0, LODE_SEARCH_MAX_LIMIT);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 5);
    CHECK(rank_of(r, "guide.txt") < 0); /* all car words, not the query's */
    lode_results_free(r);
}

TEST(expansion_can_be_turned_off) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.limit = 10;
    o.expand_weight = 1; /* the query alone */
    lode_results *weight_one = search_with("jaguar", &o), *flag = search("jaguar", LODE_SEARCH_NO_EXPAND, 10);
    o.expand_weight = 0.5;
    o.expand_docs = 1000000; /* above the limit: lowered, not refused */
    o.expand_terms = 1000000;
    lode_results *big = search_with("jaguar", &o);
    REQUIRE(weight_one && flag && big);
    CHECK(same_answer(weight_one, flag));
    CHECK(same_documents(big, flag));
    lode_results_free(weight_one);
    lode_results_free(flag);
    lode_results_free(big);
}

TEST(a_version_1_options_struct_gets_the_default_expansion) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.limit = 10;
    lode_results *def = search_with("jaguar", &o);
    /* a program built against version 1 of the header has no expansion
     * fields: whatever lies beyond them is not read */
    o.version = 1;
    o.expand_docs = 1;
    o.expand_terms = 1;
    o.expand_weight = 1;
    lode_results *v1 = search_with("jaguar", &o);
    REQUIRE(def && v1);
    CHECK(same_answer(def, v1));
    lode_results_free(def);
    lode_results_free(v1);
}

TEST(passages_and_highlights_are_the_query_words_only) {
    static const char *const queries[] = {"jaguar", "jaguar sedan", "\"jaguar sedan\""};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        lode_results *plain = search(queries[q], LODE_SEARCH_NO_EXPAND, 10), *expanded = search(queries[q], 0, 10);
        REQUIRE(plain && expanded);
        for (size_t i = 0; i < lode_results_count(expanded); i++) {
            lode_hit e, p;
            REQUIRE(lode_results_get(expanded, i, &e) == 0);
            long j = rank_of(plain, e.path);
            REQUIRE(j >= 0);
            REQUIRE(lode_results_get(plain, (size_t)j, &p) == 0);
            /* the same passages with the same highlights as without expansion */
            CHECK_EQ_U64(e.passage_count, p.passage_count);
            for (size_t k = 0; k < e.passage_count && k < p.passage_count; k++) {
                const lode_passage *a = &e.passages[k], *b = &p.passages[k];
                CHECK(a->offset == b->offset && a->length == b->length && a->span_count == b->span_count);
                for (size_t s = 0; s < a->span_count && s < b->span_count; s++) {
                    CHECK(a->spans[s].start == b->spans[s].start && a->spans[s].end == b->spans[s].end);
                    /* and only on the query's words, never on engine or dealer */
                    size_t n = a->spans[s].end - a->spans[s].start;
                    const char *w = a->text + a->spans[s].start;
                    CHECK((n == 6 && strncasecmp(w, "jaguar", 6) == 0) || (n == 5 && strncasecmp(w, "sedan", 5) == 0));
                }
            }
        }
        lode_results_free(plain);
        lode_results_free(expanded);
    }
}

TEST(expanded_answers_are_deterministic) {
    static const char *const queries[] = {"jaguar", "jaguar engine", "\"jaguar sedan\" dealer"};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        lode_results *a = search(queries[q], 0, 10), *b = search(queries[q], 0, 10), *top2 = search(queries[q], 0, 2);
        REQUIRE(a && b && top2);
        CHECK(same_answer(a, b));
        /* the best two are the first two of the best ten */
        CHECK(lode_results_count(top2) == 2);
        for (size_t i = 0; i < lode_results_count(top2); i++) {
            lode_hit x, y;
            CHECK(lode_results_get(top2, i, &x) == 0 && lode_results_get(a, i, &y) == 0);
            CHECK(strcmp(x.path, y.path) == 0 && x.score == y.score);
        }
        lode_results_free(a);
        lode_results_free(b);
        lode_results_free(top2);
    }
}

int main(int argc, char **argv) {
    setup();
    static const test_case cases[] = {
        TEST_CASE(expansion_lifts_the_document_about_what_the_best_ones_are_about),
        TEST_CASE(expansion_never_adds_a_document_the_query_does_not_match),
        TEST_CASE(expansion_can_be_turned_off),
        TEST_CASE(a_version_1_options_struct_gets_the_default_expansion),
        TEST_CASE(passages_and_highlights_are_the_query_words_only),
        TEST_CASE(expanded_answers_are_deterministic),
    };
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    teardown();
    return rc;
}
