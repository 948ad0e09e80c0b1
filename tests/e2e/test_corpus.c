/*
 * test_corpus.c - end to end through the public API on corpus/: index the
 * five magnesium articles, ask real questions, and check the top document,
 * the line of its passage, and that highlights land exactly on the words as
 * written in the file. Every passage returned is also checked against the
 * file on disk: same bytes at the same offset, right line number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode-corpus-XXXXXX";
static char index_path[512];
static lode_index *ix;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = '\0';
    *len = (size_t)n;
    return p;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The passage's bytes are the file's bytes at its offset, and its line is
 * the number of line ends before it plus one. */
static void check_passage_against_file(const lode_hit *h, const lode_passage *p) {
    size_t len;
    char *file = read_file(h->path, &len);
    REQUIRE(file != NULL);
    CHECK(p->offset + p->length <= len);
    if (p->offset + p->length <= len) {
        CHECK(memcmp(file + p->offset, p->text, p->length) == 0);
        unsigned line = 1;
        for (size_t i = 0; i < p->offset; i++)
            if (file[i] == '\n') line++;
        CHECK_EQ_U64(p->line, line);
    }
    for (size_t s = 0; s < p->span_count; s++) {
        CHECK(p->spans[s].start < p->spans[s].end);
        CHECK(p->spans[s].end <= p->length);
        if (s) CHECK(p->spans[s - 1].end <= p->spans[s].start);
    }
    free(file);
}

static lode_results *search(const char *q, unsigned flags, size_t limit) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.flags = flags;
    o.limit = limit;
    lode_results *r = NULL;
    lode_error err;
    int rc = lode_search(&r, ix, q, &o, &err);
    if (rc) fprintf(stderr, "search '%s' failed: %s\n", q, err.message);
    if (r) {
        for (size_t i = 0; i < lode_results_count(r); i++) {
            lode_hit h;
            lode_results_get(r, i, &h);
            for (size_t k = 0; k < h.passage_count; k++) check_passage_against_file(&h, &h.passages[k]);
        }
    }
    return r;
}

/* The highlighted words of the best passage of hit i, joined by '|'. */
static void marks(lode_results *r, size_t i, char *out, size_t cap) {
    lode_hit h;
    out[0] = '\0';
    if (lode_results_get(r, i, &h) || h.passage_count == 0) return;
    const lode_passage *p = &h.passages[0];
    size_t n = 0;
    for (size_t s = 0; s < p->span_count; s++) {
        size_t w = p->spans[s].end - p->spans[s].start;
        if (n + w + 2 >= cap) break;
        if (s) out[n++] = '|';
        memcpy(out + n, p->text + p->spans[s].start, w);
        n += w;
        out[n] = '\0';
    }
}

TEST(restless_legs_finds_the_insomnia_article_with_words_as_written) {
    lode_results *r = search("restless legs", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 1);
    lode_hit h;
    lode_results_get(r, 0, &h);
    CHECK(ends_with(h.path, "magnesium-glycinate-insomnia-restless-legs-dosage.txt"));
    CHECK(h.passage_count == 1);
    char m[256];
    marks(r, 0, m, sizeof m);
    /* case as written in the file, though the query was lower case */
    CHECK(strstr(m, "Restless") != NULL || strstr(m, "restless") != NULL);
    CHECK(strstr(m, "Legs") != NULL || strstr(m, "legs") != NULL);
    lode_results_free(r);
}

TEST(digestive_urgency_finds_the_clinic_case_on_line_1) {
    lode_results *r = search("digestive urgency", 0, 3);
    REQUIRE(r && lode_results_count(r) >= 1);
    lode_hit h;
    lode_results_get(r, 0, &h);
    CHECK(ends_with(h.path, "magnesium-citrate-vs-glycinate-clinic-case.txt"));
    REQUIRE(h.passage_count == 1);
    CHECK_EQ_U64(h.passages[0].line, 1);
    char m[256];
    marks(r, 0, m, sizeof m);
    CHECK_STR(m, "digestive|urgency");
    lode_results_free(r);
}

TEST(title_words_rank_the_dr_axe_article_first) {
    lode_results *r = search("Dr. Axe", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 1);
    lode_hit h;
    lode_results_get(r, 0, &h);
    CHECK(ends_with(h.path, "magnesium-glycinate-benefits-dr-axe.txt"));
    CHECK_STR(h.title, "Magnesium Glycinate Benefits - Dr. Axe");
    lode_results_free(r);
}

TEST(fullwidth_query_matches_ascii_text_and_highlights_the_original) {
    lode_results *r = search("\xef\xbc\xa3\xef\xbd\x89\xef\xbd\x94\xef\xbd\x92\xef\xbd\x81\xef\xbd\x94\xef\xbd\x85", 0,
                             10); /* "Ｃｉｔｒａｔｅ" in fullwidth letters */
    REQUIRE(r && lode_results_count(r) >= 1);
    char m[256];
    marks(r, 0, m, sizeof m);
    CHECK(strstr(m, "citrate") != NULL || strstr(m, "Citrate") != NULL);
    lode_results_free(r);
}

TEST(stemmed_query_highlights_the_inflected_forms_in_the_text) {
    /* "doses" and "dose" share the Snowball stem: both are marked */
    lode_results *r = search("doses", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 2);
    int saw_dose = 0, saw_doses = 0;
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        const lode_passage *p = &h.passages[0];
        for (size_t s = 0; s < p->span_count; s++) {
            size_t w = p->spans[s].end - p->spans[s].start;
            if (w == 4 && strncmp(p->text + p->spans[s].start, "dose", 4) == 0) saw_dose = 1;
            if (w == 5 && strncmp(p->text + p->spans[s].start, "doses", 5) == 0) saw_doses = 1;
        }
    }
    CHECK(saw_dose);
    CHECK(saw_doses);
    lode_results_free(r);
}

TEST(every_hit_contains_a_query_word_and_scores_descend) {
    lode_results *r = search("magnesium glycinate sleep", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 5);
    double prev = 1e300;
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        CHECK(h.score <= prev);
        CHECK(h.score > 0);
        prev = h.score;
        REQUIRE(h.passage_count >= 1);
        CHECK(h.passages[0].span_count >= 1);
    }
    lode_results_free(r);
}

TEST(all_words_requires_every_word) {
    lode_results *any = search("restless citrate", 0, 10);
    lode_results *all = search("restless citrate", LODE_SEARCH_ALL_WORDS, 10);
    REQUIRE(any && all);
    CHECK(lode_results_count(all) < lode_results_count(any));
    for (size_t i = 0; i < lode_results_count(all); i++) {
        lode_hit h;
        lode_results_get(all, i, &h);
        size_t len;
        char *text = read_file(h.path, &len);
        REQUIRE(text);
        CHECK(strstr(text, "estless") != NULL);
        CHECK(strstr(text, "itrate") != NULL);
        free(text);
    }
    lode_results_free(any);
    lode_results_free(all);
}

TEST(limit_caps_the_number_of_documents) {
    lode_results *r = search("magnesium", 0, 2);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 2);
    lode_hit h;
    CHECK(lode_results_get(r, 2, &h) == LODE_EINVAL);
    lode_results_free(r);
}

TEST(a_word_nowhere_in_the_corpus_finds_nothing) {
    lode_results *r = search("xylophone", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 0);
    lode_results_free(r);
}

TEST(a_query_without_words_is_an_error_not_an_empty_answer) {
    lode_results *r = NULL;
    lode_error err;
    CHECK(lode_search(&r, ix, "  -- ?? ", NULL, &err) == LODE_EINVAL);
    CHECK(r == NULL);
    CHECK(strstr(err.message, "no words") != NULL);
}

TEST(index_info_counts_the_corpus) {
    lode_index_info info;
    lode_index_get_info(ix, &info);
    CHECK_EQ_U64(info.documents, 5);
    CHECK(info.passages > 100);
    CHECK(info.tokens > 5000);
    CHECK_STR(info.stemmer, "english");
    lode_error err;
    CHECK(lode_index_check(ix, &err) == 0);
}

TEST(missing_index_is_not_found_with_a_message) {
    lode_index *none = NULL;
    lode_error err;
    CHECK(lode_index_open(&none, "/nonexistent/lode/index", &err) == LODE_ENOTFOUND);
    CHECK(none == NULL);
    CHECK(strstr(err.message, "/nonexistent/lode/index") != NULL);
}

/* A memory budget of one byte writes a segment per document: the answers
 * must be those of the one-segment index, because statistics are global. */
TEST(many_segments_answer_like_one) {
    char path[600];
    snprintf(path, sizeof path, "%s/split.lode", tmpdir);
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.memory_budget = 1;
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, path, &o, &err) == 0);
    REQUIRE(lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) == 0);
    REQUIRE(lode_writer_commit(w, &err) == 0);
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    CHECK_EQ_U64(st.segments_written, 5);
    lode_writer_free(w);
    lode_index *split;
    REQUIRE(lode_index_open(&split, path, &err) == 0);
    lode_index_info info;
    lode_index_get_info(split, &info);
    CHECK_EQ_U64(info.segments, 5);
    CHECK_EQ_U64(info.documents, 5);
    static const char *queries[] = {"restless legs", "glycinate sleep dose", "citrate", "Dr. Axe", "muscle cramps"};
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        lode_results *a = search(queries[q], 0, 10), *b = NULL;
        REQUIRE(lode_search(&b, split, queries[q], NULL, &err) == 0);
        REQUIRE(a);
        CHECK_EQ_U64(lode_results_count(a), lode_results_count(b));
        for (size_t i = 0; i < lode_results_count(a) && i < lode_results_count(b); i++) {
            lode_hit x, y;
            lode_results_get(a, i, &x);
            lode_results_get(b, i, &y);
            CHECK_STR(x.path, y.path);
            CHECK(x.score - y.score < 1e-9 && y.score - x.score < 1e-9);
            CHECK_EQ_U64(x.passages[0].offset, y.passages[0].offset);
            CHECK_EQ_U64(x.passages[0].span_count, y.passages[0].span_count);
        }
        lode_results_free(a);
        lode_results_free(b);
    }
    lode_index_close(split);
}

TEST(an_empty_folder_makes_an_empty_index_that_answers_nothing) {
    char dir[600], path[600];
    snprintf(dir, sizeof dir, "%s/empty-input", tmpdir);
    snprintf(path, sizeof path, "%s/empty.lode", tmpdir);
    REQUIRE(mkdir(dir, 0755) == 0);
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, path, NULL, &err) == 0);
    REQUIRE(lode_writer_add_path(w, dir, &err) == 0);
    REQUIRE(lode_writer_commit(w, &err) == 0);
    lode_writer_free(w);
    lode_index *e;
    REQUIRE(lode_index_open(&e, path, &err) == 0);
    lode_results *r = NULL;
    CHECK(lode_search(&r, e, "magnesium", NULL, &err) == 0);
    CHECK(r && lode_results_count(r) == 0);
    lode_results_free(r);
    CHECK(lode_index_check(e, &err) == 0);
    lode_index_close(e);
}

TEST(a_second_writer_is_refused_while_the_first_holds_the_lock) {
    char path[600];
    snprintf(path, sizeof path, "%s/locked.lode", tmpdir);
    lode_writer *w1, *w2 = NULL;
    lode_error err;
    REQUIRE(lode_writer_open(&w1, path, NULL, &err) == 0);
    CHECK(lode_writer_open(&w2, path, NULL, &err) == LODE_ELOCKED);
    CHECK(w2 == NULL);
    CHECK(strstr(err.message, "locked") != NULL);
    lode_writer_free(w1);
    CHECK(lode_writer_open(&w2, path, NULL, &err) == 0);
    lode_writer_free(w2);
}

static char *lower_file(const char *path) {
    size_t len;
    char *t = read_file(path, &len);
    for (size_t i = 0; t && i < len; i++)
        if (t[i] >= 'A' && t[i] <= 'Z') t[i] = (char)(t[i] - 'A' + 'a');
    return t;
}

/* Every hit's file contains (want=1) or lacks (want=0) the lower-case text. */
static int all_hits(lode_results *r, const char *needle, int want) {
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        char *t = lower_file(h.path);
        int has = t && strstr(t, needle) != NULL;
        free(t);
        if (has != want) {
            fprintf(stderr, "  %s: '%s' %s\n", h.path, needle, want ? "missing" : "present");
            return 0;
        }
    }
    return 1;
}

/* Documents of the corpus whose lower-cased text holds the needle. */
static size_t corpus_count(const char *needle) {
    static const char *files[] = {"magnesium-citrate-vs-glycinate-clinic-case.txt",
                                  "magnesium-glycinate-anxiety-insomnia-cramps.txt",
                                  "magnesium-glycinate-benefits-dr-axe.txt",
                                  "magnesium-glycinate-insomnia-restless-legs-dosage.txt",
                                  "magnesium-glycinate-primary-uses.txt"};
    size_t n = 0;
    for (size_t i = 0; i < 5; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/corpus/%s", LODE_SOURCE_DIR, files[i]);
        char *t = lower_file(path);
        n += t && strstr(t, needle) != NULL;
        free(t);
    }
    return n;
}

static int search_error(const char *q, unsigned flags, lode_error *err) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.flags = flags;
    lode_results *r = NULL;
    int rc = lode_search(&r, ix, q, &o, err);
    lode_results_free(r);
    return rc;
}

TEST(phrase_matches_after_analysis_and_marks_only_its_words) {
    lode_results *r = search("\"muscle cramp\"", 0, 10);
    REQUIRE(r);
    /* "Muscle Cramps" in the text: case and the plural do not matter */
    CHECK_EQ_U64(lode_results_count(r), corpus_count("muscle cramp"));
    for (size_t i = 0; i < lode_results_count(r); i++) {
        char m[256];
        marks(r, i, m, sizeof m);
        /* only the phrase's two words, in pairs: never a lone "muscle" */
        for (char *c = m; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        size_t len = strlen(m), unit = strlen("muscle|cramps");
        CHECK(len > 0);
        for (size_t at = 0; at < len; at += unit + 1) CHECK(strncmp(m + at, "muscle|cramps", unit) == 0);
    }
    lode_results_free(r);
    r = search("\"restless legs syndrome\"", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 1); /* "restlessness" elsewhere is no phrase */
    lode_results_free(r);
}

TEST(and_or_not_combine_as_boolean) {
    lode_results *r = search("citrate AND cramps", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 1);
    CHECK(all_hits(r, "citrate", 1) && all_hits(r, "cramp", 1));
    lode_results_free(r);
    r = search("citrate NOT cramps", 0, 10);
    REQUIRE(r);
    CHECK(all_hits(r, "citrate", 1) && all_hits(r, "cramp", 0));
    lode_results_free(r);
    r = search("restless OR cramps", 0, 10);
    REQUIRE(r);
    CHECK(lode_results_count(r) >= corpus_count("cramp"));
    lode_results_free(r);
    r = search("(citrate OR sulfate) AND diarrhea", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 1);
    CHECK(all_hits(r, "diarrhea", 1));
    lode_results_free(r);
}

TEST(plus_requires_and_minus_excludes) {
    lode_results *r = search("+glycinate -citrate", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 5 - corpus_count("citrate"));
    CHECK(all_hits(r, "citrate", 0));
    lode_results_free(r);
}

TEST(prefix_matches_whatever_the_stemmer_did_and_marks_only_prefixed_words) {
    lode_results *r = search("glycinat*", 0, 10);
    REQUIRE(r && lode_results_count(r) == 5);
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        const lode_passage *p = &h.passages[0];
        for (size_t s = 0; s < p->span_count; s++)
            CHECK(p->spans[s].end - p->spans[s].start >= 9 &&
                  strncasecmp(p->text + p->spans[s].start, "glycinat", 8) == 0); /* never "glycine" */
    }
    lode_results_free(r);
}

TEST(near_finds_words_close_in_any_order) {
    lode_results *r = search("legs NEAR/0 restless", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 1);
    lode_results_free(r);
    r = search("NEAR(magnesium sleep, 2)", 0, 10);
    REQUIRE(r && lode_results_count(r) >= 1);
    lode_results_free(r);
    r = search("NEAR(restless cramps, 1)", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 0);
    lode_results_free(r);
}

TEST(title_and_path_fields_restrict) {
    lode_results *r = search("title:insomnia", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 2);
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        CHECK(strstr(h.title, "nsomnia") != NULL);
    }
    lode_results_free(r);
    r = search("path:*citrate* magnesium", 0, 10);
    REQUIRE(r);
    CHECK_EQ_U64(lode_results_count(r), 1);
    lode_results_free(r);
}

TEST(raw_text_is_searched_as_words_with_a_note_unless_strict) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    lode_results *r = NULL;
    lode_error err;
    REQUIRE(lode_search(&r, ix, "what's (5-HTP", &o, &err) == 0);
    CHECK(lode_results_note(r) != NULL && strstr(lode_results_note(r), "unbalanced") != NULL);
    CHECK(lode_results_count(r) >= 1);
    lode_results_free(r);
    CHECK(search_error("what's (5-HTP", LODE_SEARCH_STRICT, &err) == LODE_ESYNTAX);
    CHECK_EQ_U64(err.column, 8);
    CHECK(strstr(err.message, "syntax error at column 8") != NULL);
}

TEST(bad_queries_get_clear_messages) {
    lode_error err;
    CHECK(search_error("m*", 0, &err) == LODE_EINVAL);
    CHECK(strstr(err.message, "too short") != NULL);
    CHECK(search_error("-citrate", 0, &err) == LODE_EINVAL);
    CHECK(strstr(err.message, "only excludes") != NULL);
    CHECK(search_error("author:smith", LODE_SEARCH_STRICT, &err) == LODE_EINVAL);
    CHECK(strstr(err.message, "unknown field") != NULL);
    CHECK(search_error("", 0, &err) == LODE_EINVAL);
}

/* The passage shown answers the question: for the article whose dosage
 * section starts with the heading "Recommended Dosage", the heading comes
 * with the paragraph that gives the doses, and both words are marked. */
TEST(dosage_query_shows_the_dosage_passage_with_its_heading) {
    lode_results *r = search("recommended dosage", 0, 10);
    REQUIRE(r);
    int found = 0;
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        if (!ends_with(h.path, "magnesium-glycinate-anxiety-insomnia-cramps.txt")) continue;
        found = 1;
        const lode_passage *p = &h.passages[0];
        CHECK_EQ_U64(p->line, 2);
        char *text = strndup(p->text, p->length);
        CHECK(text && strstr(text, "125-300 mg") != NULL);
        free(text);
        char m[256];
        marks(r, i, m, sizeof m);
        CHECK_STR(m, "Recommended|Dosage");
    }
    CHECK(found);
    lode_results_free(r);
}

/* A passage that is only the title (already printed above it) gives way to
 * a body passage holding as many of the words. */
TEST(the_title_line_gives_way_to_a_body_passage) {
    lode_results *r = search("glycinate benefits", 0, 10);
    REQUIRE(r);
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        if (!ends_with(h.path, "magnesium-glycinate-benefits-dr-axe.txt")) continue;
        CHECK(h.passages[0].line > 1);
        char m[256];
        marks(r, i, m, sizeof m);
        CHECK(strstr(m, "lycinate") != NULL && strstr(m, "enefits") != NULL);
    }
    lode_results_free(r);
}

/* Hostile queries: bounded work and a clear error, never a crash. */
TEST(hostile_queries_are_bounded_with_clear_errors) {
    lode_error err;
    static char q[20000];
    /* longer than LODE_MAX_QUERY_BYTES */
    memset(q, 'a', 8193);
    q[8193] = '\0';
    CHECK(search_error(q, 0, &err) == LODE_ELIMIT);
    CHECK(strstr(err.message, "8192") != NULL);
    /* thousands of distinct words */
    size_t n = 0;
    for (int i = 0; i < 1500 && n + 8 < 8000; i++) n += (size_t)snprintf(q + n, sizeof q - n, "w%d ", i);
    CHECK(search_error(q, 0, &err) == LODE_ELIMIT);
    /* deep nesting: an error in strict mode, words with a note otherwise */
    n = 0;
    for (int i = 0; i < 1000; i++) q[n++] = '(';
    memcpy(q + n, "magnesium", 9);
    n += 9;
    for (int i = 0; i < 1000; i++) q[n++] = ')';
    q[n] = '\0';
    CHECK(search_error(q, LODE_SEARCH_STRICT, &err) == LODE_ELIMIT);
    lode_results *r = NULL;
    CHECK(lode_search(&r, ix, q, NULL, &err) == 0 && lode_results_note(r) != NULL && lode_results_count(r) > 0);
    lode_results_free(r);
    /* a NEAR distance far beyond the limit */
    CHECK(search_error("magnesium NEAR/99999999 sleep", LODE_SEARCH_STRICT, &err) == LODE_ESYNTAX);
    /* a huge limit is capped, not allocated */
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.limit = (size_t)-1;
    r = NULL;
    CHECK(lode_search(&r, ix, "magnesium", &o, &err) == 0 && lode_results_count(r) == 5);
    lode_results_free(r);
}

static int build_index(void) {
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(index_path, sizeof index_path, "%s/corpus.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, index_path, NULL, &err) || lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) ||
        lode_writer_commit(w, &err)) {
        fprintf(stderr, "indexing failed: %s\n", err.message);
        return -1;
    }
    lode_writer_free(w);
    if (lode_index_open(&ix, index_path, &err)) {
        fprintf(stderr, "open failed: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void cleanup(void) {
    lode_index_close(ix);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(restless_legs_finds_the_insomnia_article_with_words_as_written),
        TEST_CASE(digestive_urgency_finds_the_clinic_case_on_line_1),
        TEST_CASE(title_words_rank_the_dr_axe_article_first),
        TEST_CASE(fullwidth_query_matches_ascii_text_and_highlights_the_original),
        TEST_CASE(stemmed_query_highlights_the_inflected_forms_in_the_text),
        TEST_CASE(every_hit_contains_a_query_word_and_scores_descend),
        TEST_CASE(all_words_requires_every_word),
        TEST_CASE(limit_caps_the_number_of_documents),
        TEST_CASE(a_word_nowhere_in_the_corpus_finds_nothing),
        TEST_CASE(a_query_without_words_is_an_error_not_an_empty_answer),
        TEST_CASE(index_info_counts_the_corpus),
        TEST_CASE(missing_index_is_not_found_with_a_message),
        TEST_CASE(many_segments_answer_like_one),
        TEST_CASE(an_empty_folder_makes_an_empty_index_that_answers_nothing),
        TEST_CASE(a_second_writer_is_refused_while_the_first_holds_the_lock),
        TEST_CASE(phrase_matches_after_analysis_and_marks_only_its_words),
        TEST_CASE(and_or_not_combine_as_boolean),
        TEST_CASE(plus_requires_and_minus_excludes),
        TEST_CASE(prefix_matches_whatever_the_stemmer_did_and_marks_only_prefixed_words),
        TEST_CASE(near_finds_words_close_in_any_order),
        TEST_CASE(title_and_path_fields_restrict),
        TEST_CASE(raw_text_is_searched_as_words_with_a_note_unless_strict),
        TEST_CASE(bad_queries_get_clear_messages),
        TEST_CASE(dosage_query_shows_the_dosage_passage_with_its_heading),
        TEST_CASE(the_title_line_gives_way_to_a_body_passage),
        TEST_CASE(hostile_queries_are_bounded_with_clear_errors),
    };
    if (build_index()) return 1;
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    cleanup();
    return rc;
}
