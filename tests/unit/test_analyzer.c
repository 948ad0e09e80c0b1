/*
 * test_analyzer.c - the analyzer (indexer/analyze.c): word rules,
 * normalization, stemming, CJK bigrams, byte spans, positions, invalid
 * UTF-8, the term length cut, and the fast paths checked against utf8proc.
 */
#include <utf8proc.h>

#include "indexer.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

#define MAX_TOKS 64

typedef struct tok {
    char term[LODE_MAX_TERM_BYTES + 1];
    char word[LODE_MAX_TERM_BYTES + 1];
    uint32_t start, end, position;
} tok;

typedef struct toks {
    tok t[MAX_TOKS];
    size_t n;      /* tokens seen (may exceed MAX_TOKS; only the first are kept) */
    int stop_after; /* 0: never stop; else return 99 once this many were seen */
} toks;

static int collect(void *ctx, const token *t) {
    toks *ts = ctx;
    if (ts->n < MAX_TOKS && t->term_len <= LODE_MAX_TERM_BYTES && t->word_len <= LODE_MAX_TERM_BYTES) {
        tok *k = &ts->t[ts->n];
        memcpy(k->term, t->term, t->term_len);
        k->term[t->term_len] = '\0';
        memcpy(k->word, t->word, t->word_len);
        k->word[t->word_len] = '\0';
        k->start = t->start;
        k->end = t->end;
        k->position = t->position;
    }
    ts->n++;
    if (ts->stop_after && ts->n >= (size_t)ts->stop_after) return 99;
    return 0;
}

static analyzer *make(const char *stemmer) {
    analyzer *a = NULL;
    lode_error err;
    memset(&err, 0, sizeof err);
    int rc = analyzer_new(&a, stemmer, &err);
    if (rc) fprintf(stderr, "analyzer_new(%s): %d %s\n", stemmer ? stemmer : "NULL", rc, err.message);
    return a;
}

static int run(analyzer *a, const char *text, toks *ts) {
    memset(ts, 0, sizeof *ts);
    return analyze_text(a, text, strlen(text), 0, collect, ts);
}

/* The term of a text that must give exactly one token ("" otherwise). */
static void one_term(analyzer *a, const char *text, char *term, char *word) {
    toks ts;
    term[0] = word[0] = '\0';
    if (run(a, text, &ts) != 0 || ts.n != 1) {
        fprintf(stderr, "  \"%s\" gave %zu tokens\n", text, ts.n);
        return;
    }
    memcpy(term, ts.t[0].term, strlen(ts.t[0].term) + 1);
    memcpy(word, ts.t[0].word, strlen(ts.t[0].word) + 1);
}

/* Is [s, s+n) the expected original substring? */
static int span_is(const char *text, const tok *k, const char *expect) {
    size_t n = strlen(expect);
    return k->end - k->start == n && memcmp(text + k->start, expect, n) == 0;
}

/* A strict UTF-8 validator independent of the one under test. */
static int valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t l = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (l <= 0) return 0;
        i += (size_t)l;
    }
    return 1;
}

#define WORD_OPTS                                                                            \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |              \
                         UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE))
#define CJK_OPTS                                                                             \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |              \
                         UTF8PROC_CASEFOLD))

/* utf8proc's own answer, for comparison with the analyzer's fast paths. */
static void reference(const char *s, utf8proc_option_t opts, char *out, size_t cap) {
    utf8proc_uint8_t *m = NULL;
    out[0] = '\0';
    if (utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)strlen(s), &m, opts) >= 0 && m) {
        snprintf(out, cap, "%s", (const char *)m);
        /* the analyzer writes U+2019 as ' */
        char *q;
        while ((q = strstr(out, "\xE2\x80\x99")) != NULL) {
            *q = '\'';
            memmove(q + 1, q + 3, strlen(q + 3) + 1);
        }
    }
    free(m);
}

/* ------------------------------------------------------------------------ */
/* Normalization                                                             */
/* ------------------------------------------------------------------------ */

TEST(normalization_nfkc_casefold_strips_accents) {
    analyzer *a = make("none");
    REQUIRE(a);
    char term[80], word[80];
    static const char *const cases[][2] = {
        {"\xEF\xBC\xAD\xEF\xBD\x81\xEF\xBD\x87\xEF\xBD\x8E\xEF\xBD\x85\xEF\xBD\x93\xEF\xBD\x89"
         "\xEF\xBD\x95\xEF\xBD\x8D", "magnesium"},                 /* fullwidth Ｍａｇｎｅｓｉｕｍ */
        {"Glycinate", "glycinate"},
        {"GLYCINATE", "glycinate"},
        {"na\xC3\xAFve", "naive"},                                 /* naïve, precomposed */
        {"nai\xCC\x88ve", "naive"},                                /* naïve, combining diaeresis */
        {"caf\xC3\xA9", "cafe"},                                   /* café */
        {"CAF\xC3\x89", "cafe"},                                   /* CAFÉ */
        {"Stra\xC3\x9F" "e", "strasse"},                           /* Straße */
        {"\xEF\xAC\x81sh", "fish"},                                /* ﬁsh */
        {"x\xC2\xB2", "x2"},                                       /* x² */
        {"\xCE\xA3\xCE\x99\xCE\xA3", "\xCF\x83\xCE\xB9\xCF\x83"},  /* ΣΙΣ -> σισ */
        /* Магний -> магнии: й is и + breve, and every mark goes */
        {"\xD0\x9C\xD0\xB0\xD0\xB3\xD0\xBD\xD0\xB8\xD0\xB9", "\xD0\xBC\xD0\xB0\xD0\xB3\xD0\xBD\xD0\xB8\xD0\xB8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        one_term(a, cases[i][0], term, word);
        CHECK_STR(word, cases[i][1]);
        CHECK_STR(term, cases[i][1]);
    }
    analyzer_free(a);
}

TEST(word_made_only_of_marks_gives_no_token_and_no_position) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "a \xCC\x81\xCC\x88 b"; /* a, two lone combining marks, b */
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "a");
    CHECK_STR(ts.t[1].term, "b");
    CHECK_EQ_U64(ts.t[1].position, 1);
    analyzer_free(a);
}

TEST(format_characters_inside_a_word_are_ignored_but_zwsp_separates) {
    analyzer *a = make("none");
    REQUIRE(a);
    toks ts;
    const char *shy = "hy\xC2\xADphen"; /* soft hyphen */
    CHECK_EQ_U64(run(a, shy, &ts), 0);
    REQUIRE(ts.n == 1);
    CHECK_STR(ts.t[0].term, "hyphen");
    CHECK(span_is(shy, &ts.t[0], shy));
    CHECK_EQ_U64(run(a, "foo\xE2\x80\x8B" "bar", &ts), 0); /* ZERO WIDTH SPACE */
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "foo");
    CHECK_STR(ts.t[1].term, "bar");
    CHECK_EQ_U64(run(a, "end\xC2\xAD next", &ts), 0); /* a trailing one is not part of the word */
    REQUIRE(ts.n == 2);
    CHECK_EQ_U64(ts.t[0].end, 3);
    analyzer_free(a);
}

TEST(diacritics_are_stripped_but_indic_vowel_signs_are_kept) {
    analyzer *a = make("none");
    REQUIRE(a);
    char term[80], word[80], t2[80];
    one_term(a, "Vi\xE1\xBB\x87t", term, word); /* Việt: two marks on e */
    CHECK_STR(term, "viet");
    one_term(a, "\xD7\xA9\xD6\xB8\xD7\x81\xD7\x9C\xD7\x95\xD6\xB9\xD7\x9D", term, word);
    CHECK_STR(term, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"); /* pointed shalom -> plain */
    one_term(a, "\xD9\x85\xD9\x8F\xD8\xAD\xD9\x8E\xD9\x85\xD9\x8E\xD9\x91\xD8\xAF", term, word);
    CHECK_STR(term, "\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF"); /* harakat go */
    /* हिन्दी keeps its vowel signs and virama: they are letters in use */
    const char *hindi = "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80";
    one_term(a, hindi, term, word);
    CHECK_STR(term, hindi);
    one_term(a, "\xE0\xA4\x95\xE0\xA4\xAE", term, word);      /* कम, less */
    one_term(a, "\xE0\xA4\x95\xE0\xA4\xBE\xE0\xA4\xAE", t2, word); /* काम, work */
    CHECK(strcmp(term, t2) != 0);
    analyzer_free(a);
}

/* ------------------------------------------------------------------------ */
/* Stemming                                                                  */
/* ------------------------------------------------------------------------ */

TEST(english_stemming_gives_snowball_outputs) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    CHECK_STR(analyzer_stemmer_name(a), "english");
    char term[80], word[80];
    static const char *const cases[][3] = {
        {"doses", "dose", "doses"},       {"dosage", "dosag", "dosage"},
        {"dose", "dose", "dose"},         {"sleeping", "sleep", "sleeping"},
        {"Glycinate", "glycin", "glycinate"}, {"running", "run", "running"},
        {"na\xC3\xAFve", "naiv", "naive"}, {"Anxiety", "anxieti", "anxiety"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        one_term(a, cases[i][0], term, word);
        CHECK_STR(term, cases[i][1]);
        CHECK_STR(word, cases[i][2]);
    }
    /* twice: the second answer comes from the cache */
    one_term(a, "doses", term, word);
    CHECK_STR(term, "dose");
    analyzer_free(a);
}

TEST(numbers_are_not_stemmed) {
    analyzer *a = make("english");
    REQUIRE(a);
    char term[80], word[80];
    one_term(a, "2000", term, word);
    CHECK_STR(term, "2000");
    one_term(a, "\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x90\xEF\xBC\x90", term, word); /* fullwidth ２０００ */
    CHECK_STR(term, "2000");
    one_term(a, "1990s", term, word); /* has a letter: Snowball decides */
    CHECK_STR(term, "1990s");
    analyzer_free(a);
}

TEST(stemmer_none_keeps_words) {
    analyzer *a = make("none");
    REQUIRE(a);
    CHECK_STR(analyzer_stemmer_name(a), "none");
    char term[80], word[80];
    one_term(a, "Sleeping", term, word);
    CHECK_STR(term, "sleeping");
    CHECK_STR(word, "sleeping");
    one_term(a, "doses", term, word);
    CHECK_STR(term, "doses");
    analyzer_free(a);
}

TEST(stemmer_names_are_canonical) {
    analyzer *a = make("English");
    REQUIRE(a);
    CHECK_STR(analyzer_stemmer_name(a), "english");
    analyzer_free(a);
    a = make("french");
    REQUIRE(a);
    CHECK_STR(analyzer_stemmer_name(a), "french");
    analyzer_free(a);
    a = make("porter");
    REQUIRE(a);
    CHECK_STR(analyzer_stemmer_name(a), "porter");
    analyzer_free(a);
}

TEST(unknown_stemmer_is_einval_naming_it) {
    analyzer *a = (analyzer *)&a; /* any non-NULL value: must be reset to NULL */
    lode_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(analyzer_new(&a, "klingon", &err), (uint64_t)(int64_t)LODE_EINVAL);
    CHECK(a == NULL);
    CHECK_EQ_U64(err.code, (uint64_t)(int64_t)LODE_EINVAL);
    CHECK(strstr(err.message, "unknown stemmer 'klingon'") != NULL);
    CHECK(strstr(err.message, "english") != NULL);
    CHECK(strstr(err.message, "french") != NULL);
    CHECK(strstr(err.message, "or none)") != NULL);
    CHECK_EQ_U64(analyzer_new(&a, "", NULL), (uint64_t)(int64_t)LODE_EINVAL); /* err may be NULL */
}

/* ------------------------------------------------------------------------ */
/* CJK                                                                       */
/* ------------------------------------------------------------------------ */

TEST(cjk_runs_become_overlapping_bigrams_with_spans_and_positions) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD"; /* 東京都 */
    memset(&ts, 0, sizeof ts);
    CHECK_EQ_U64(analyze_text(a, text, strlen(text), 10, collect, &ts), 0);
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "\xE6\x9D\xB1\xE4\xBA\xAC"); /* 東京 */
    CHECK_STR(ts.t[0].word, "\xE6\x9D\xB1\xE4\xBA\xAC");
    CHECK_EQ_U64(ts.t[0].start, 0);
    CHECK_EQ_U64(ts.t[0].end, 6);
    CHECK_EQ_U64(ts.t[0].position, 10);
    CHECK_STR(ts.t[1].term, "\xE4\xBA\xAC\xE9\x83\xBD"); /* 京都 */
    CHECK_EQ_U64(ts.t[1].start, 3);
    CHECK_EQ_U64(ts.t[1].end, 9);
    CHECK_EQ_U64(ts.t[1].position, 11);

    /* a lone character is a unigram; punctuation splits runs */
    text = "\xE6\x9D\xB1\xE3\x80\x81\xE4\xBA\xAC\xE9\x83\xBD"; /* 東、京都 */
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "\xE6\x9D\xB1");
    CHECK_EQ_U64(ts.t[0].start, 0);
    CHECK_EQ_U64(ts.t[0].end, 3);
    CHECK_STR(ts.t[1].term, "\xE4\xBA\xAC\xE9\x83\xBD");
    CHECK_EQ_U64(ts.t[1].start, 6);
    CHECK_EQ_U64(ts.t[1].position, 1);

    /* Korean: 한국어 */
    CHECK_EQ_U64(run(a, "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", &ts), 0);
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "\xED\x95\x9C\xEA\xB5\xAD");
    CHECK_STR(ts.t[1].term, "\xEA\xB5\xAD\xEC\x96\xB4");
    analyzer_free(a);
}

TEST(cjk_is_normalized_with_nfkc_keeping_voicing_marks) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    /* halfwidth ｶﾞｲﾄﾞ = ガイド: the voiced marks join their kana */
    const char *text = "\xEF\xBD\xB6\xEF\xBE\x9E\xEF\xBD\xB2\xEF\xBE\x84\xEF\xBE\x9E";
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 2);
    CHECK_STR(ts.t[0].term, "\xE3\x82\xAC\xE3\x82\xA4"); /* ガイ */
    CHECK_EQ_U64(ts.t[0].start, 0);
    CHECK_EQ_U64(ts.t[0].end, 9);
    CHECK_STR(ts.t[1].term, "\xE3\x82\xA4\xE3\x83\x89"); /* イド */
    CHECK_EQ_U64(ts.t[1].start, 6);
    CHECK_EQ_U64(ts.t[1].end, 15);
    /* か and が stay different words */
    char t1[80], t2[80], w[80];
    one_term(a, "\xE3\x81\x8B", t1, w);
    one_term(a, "\xE3\x81\x8C", t2, w);
    CHECK(strcmp(t1, t2) != 0);
    /* が spelled か + U+3099 is the same as precomposed が */
    one_term(a, "\xE3\x81\x8B\xE3\x82\x99", t1, w);
    CHECK_STR(t1, "\xE3\x81\x8C");
    /* a CJK compatibility ideograph folds to the unified one: U+F900 -> U+8C48 */
    one_term(a, "\xEF\xA4\x80", t1, w);
    CHECK_STR(t1, "\xE8\xB1\x88");
    /* Hangul spelled in conjoining jamo (NFD) is one syllable: 한 = ᄒ ᅡ ᆫ */
    one_term(a, "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", t1, w);
    CHECK_STR(t1, "\xED\x95\x9C");
    CHECK_EQ_U64(run(a, "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB\xEA\xB5\xAD", &ts), 0); /* 한국 */
    REQUIRE(ts.n == 1);
    CHECK_STR(ts.t[0].term, "\xED\x95\x9C\xEA\xB5\xAD");
    CHECK_EQ_U64(ts.t[0].end, 12);
    analyzer_free(a);
}

TEST(script_change_splits_latin_from_cjk) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "magnesium\xE6\x9D\xB1\xE4\xBA\xAC" "tablets";
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 3);
    CHECK_STR(ts.t[0].term, "magnesium");
    CHECK_EQ_U64(ts.t[0].start, 0);
    CHECK_EQ_U64(ts.t[0].end, 9);
    CHECK_STR(ts.t[1].term, "\xE6\x9D\xB1\xE4\xBA\xAC");
    CHECK_EQ_U64(ts.t[1].start, 9);
    CHECK_EQ_U64(ts.t[1].end, 15);
    CHECK_STR(ts.t[2].term, "tablet");
    CHECK_EQ_U64(ts.t[2].start, 15);
    CHECK_EQ_U64(ts.t[2].position, 2);
    analyzer_free(a);
}

/* ------------------------------------------------------------------------ */
/* Spans and invalid UTF-8                                                   */
/* ------------------------------------------------------------------------ */

TEST(spans_point_into_the_original_across_multibyte_characters) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "Na\xC3\xAFve \xEF\xBC\xAD\xEF\xBD\x87 caf\xC3\xA9!";
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 3);
    CHECK(span_is(text, &ts.t[0], "Na\xC3\xAFve"));
    CHECK_EQ_U64(ts.t[0].end - ts.t[0].start, 6);
    CHECK(span_is(text, &ts.t[1], "\xEF\xBC\xAD\xEF\xBD\x87"));
    CHECK_STR(ts.t[1].word, "mg");
    CHECK(span_is(text, &ts.t[2], "caf\xC3\xA9"));
    for (size_t i = 0; i < 3; i++) CHECK_EQ_U64(ts.t[i].position, i);
    analyzer_free(a);
}

TEST(invalid_utf8_bytes_separate_words) {
    analyzer *a = make("none");
    REQUIRE(a);
    static const struct {
        const char *text;
        const char *w1, *w2; /* the expected original spans */
    } cases[] = {
        {"ab\xFF" "cd", "ab", "cd"},
        {"ab\xE2\x82" "cd", "ab", "cd"},               /* truncated 3-byte sequence */
        {"ab\xC3", "ab", NULL},                        /* truncated at the end */
        {"a\xC0\xAF" "b", "a", "b"},                   /* overlong '/' */
        {"a\xE0\x80\xAF" "b", "a", "b"},               /* overlong, 3 bytes */
        {"a\xF0\x80\x80\xAF" "b", "a", "b"},           /* overlong, 4 bytes */
        {"x\xED\xA0\x80y", "x", "y"},                  /* surrogate U+D800 */
        {"x\xF4\x90\x80\x80y", "x", "y"},              /* above U+10FFFF */
        {"x\x80\xBFy", "x", "y"},                      /* stray continuation bytes */
        {"\xC3\xA9\xFF\xC3\xA9", "\xC3\xA9", "\xC3\xA9"}, /* é, bad byte, é */
        {"na\xC3\xAF\xFFve", "na\xC3\xAF", "ve"},
        {"\xE6\x9D\xB1\xFF\xE4\xBA\xAC", "\xE6\x9D\xB1", "\xE4\xBA\xAC"}, /* 東 bad 京 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        toks ts;
        const char *text = cases[i].text;
        CHECK_EQ_U64(run(a, text, &ts), 0);
        size_t expect = cases[i].w2 ? 2 : 1;
        if (ts.n != expect) {
            fprintf(stderr, "  case %zu: %zu tokens\n", i, ts.n);
            test_failures++;
            continue;
        }
        CHECK(span_is(text, &ts.t[0], cases[i].w1));
        if (cases[i].w2) CHECK(span_is(text, &ts.t[1], cases[i].w2));
        for (size_t j = 0; j < ts.n; j++) CHECK(valid_utf8((const uint8_t *)ts.t[j].term, strlen(ts.t[j].term)));
    }
    analyzer_free(a);
}

/* ------------------------------------------------------------------------ */
/* Word rules                                                                */
/* ------------------------------------------------------------------------ */

TEST(apostrophes_join_letters) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "what's don\xE2\x80\x99t 'quoted' dogs' rock'n'roll";
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 5);
    CHECK_STR(ts.t[0].word, "what's");
    CHECK_STR(ts.t[0].term, "what"); /* Snowball english drops 's */
    CHECK_STR(ts.t[1].word, "don't"); /* U+2019 becomes ' */
    CHECK_STR(ts.t[1].term, "don't");
    CHECK(span_is(text, &ts.t[1], "don\xE2\x80\x99t"));
    CHECK_STR(ts.t[2].word, "quoted");
    CHECK(span_is(text, &ts.t[2], "quoted"));
    CHECK_STR(ts.t[3].word, "dogs");
    CHECK_STR(ts.t[4].word, "rock'n'roll");
    /* U+2019 and ' give the same term, on either path */
    char t1[80], t2[80], t3[80], w[80];
    one_term(a, "don't", t1, w);
    one_term(a, "don\xE2\x80\x99t", t2, w);
    one_term(a, "d\xC3\xB3n\xE2\x80\x99t", t3, w); /* dón’t: through utf8proc */
    CHECK_STR(t1, t2);
    CHECK_STR(t1, t3);
    /* an apostrophe between digits separates */
    CHECK_EQ_U64(run(a, "90's", &ts), 0);
    CHECK_EQ_U64(ts.n, 2);
    analyzer_free(a);
}

TEST(numbers_hyphens_and_decimal_points) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    const char *text = "125-300 mg 3.5 1,000 5-HTP blood-brain snake_case end. 7.";
    CHECK_EQ_U64(run(a, text, &ts), 0);
    static const char *const expect[] = {"125", "300", "mg", "3.5", "1,000", "5", "htp",
                                         "blood", "brain", "snake", "case", "end", "7"};
    REQUIRE(ts.n == sizeof expect / sizeof expect[0]);
    for (size_t i = 0; i < ts.n; i++) {
        CHECK_STR(ts.t[i].word, expect[i]);
        CHECK(span_is(text, &ts.t[i], expect[i]) || strcmp(expect[i], "htp") == 0);
        CHECK_EQ_U64(ts.t[i].position, i);
    }
    CHECK(span_is(text, &ts.t[6], "HTP"));
    analyzer_free(a);
}

TEST(long_words_are_cut_at_a_utf8_boundary) {
    analyzer *a = make("none");
    REQUIRE(a);
    char text[300], term[80], word[80];
    memset(text, 'a', 100);
    text[100] = '\0';
    one_term(a, text, term, word);
    CHECK_EQ_U64(strlen(term), LODE_MAX_TERM_BYTES);
    CHECK_EQ_U64(strlen(word), LODE_MAX_TERM_BYTES);
    /* 63 letters then é: é folds to e, which fits exactly */
    memset(text, 'a', 63);
    memcpy(text + 63, "\xC3\xA9\xC3\xA9", 5);
    one_term(a, text, term, word);
    CHECK_EQ_U64(strlen(term), 64);
    CHECK_EQ_U64(term[63], 'e');
    /* 63 letters then α (2 bytes after normalization): α does not fit */
    memcpy(text + 63, "\xCE\xB1\xCE\xB2", 5); /* αβ */
    one_term(a, text, term, word);
    CHECK_EQ_U64(strlen(term), 63);
    CHECK(valid_utf8((const uint8_t *)term, strlen(term)));
    /* the span still covers the whole word */
    toks ts;
    CHECK_EQ_U64(run(a, text, &ts), 0);
    REQUIRE(ts.n == 1);
    CHECK_EQ_U64(ts.t[0].end, 67);
    /* two long words sharing their first 64 bytes give the same term (the
     * query side is cut the same way) */
    char t2[80];
    memset(text, 'b', 200);
    text[200] = '\0';
    one_term(a, text, term, word);
    text[150] = 'c';
    one_term(a, text, t2, word);
    CHECK_STR(term, t2);
    analyzer_free(a);
}

TEST(empty_input_and_separators_only_give_nothing) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    memset(&ts, 0, sizeof ts);
    CHECK_EQ_U64(analyze_text(a, "", 0, 5, collect, &ts), 0);
    CHECK_EQ_U64(analyze_text(a, NULL, 0, 5, collect, &ts), 0);
    CHECK_EQ_U64(ts.n, 0);
    CHECK_EQ_U64(run(a, "  -- ,.' \t\n\xE2\x80\x94 \xFF\xFE", &ts), 0);
    CHECK_EQ_U64(ts.n, 0);
    analyzer_free(a);
}

TEST(callback_stops_early_with_its_value) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    toks ts;
    memset(&ts, 0, sizeof ts);
    ts.stop_after = 2;
    const char *text = "one two three four";
    CHECK_EQ_U64(analyze_text(a, text, strlen(text), 0, collect, &ts), 99);
    CHECK_EQ_U64(ts.n, 2);
    /* also from inside a CJK run */
    memset(&ts, 0, sizeof ts);
    ts.stop_after = 1;
    text = "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD";
    CHECK_EQ_U64(analyze_text(a, text, strlen(text), 0, collect, &ts), 99);
    CHECK_EQ_U64(ts.n, 1);
    /* the analyzer is still usable afterwards */
    CHECK_EQ_U64(run(a, text, &ts), 0);
    CHECK_EQ_U64(ts.n, 2);
    analyzer_free(a);
}

/* ------------------------------------------------------------------------ */
/* Fast paths against utf8proc                                               */
/* ------------------------------------------------------------------------ */

static const char *const sample_words[] = {
    "Magnesium", "glycinate", "INSOMNIA", "Dr", "Axe", "what's", "rock'n'roll", "3.5",
    "1,000", "125", "mg", "B6", "L-threonate", "restless", "Legs", "cramps", "QT",
    "don\xE2\x80\x99t", "o'clock", "x", "Z", "anxiety", "daily", "0", "a1b2", "ZZZ9",
};

/* Every ASCII word: the inline lowercasing must equal utf8proc's NFKC +
 * casefold, and the analyzer's own utf8proc path (forced by a combining mark,
 * which is stripped) must give the same word and term. */
static void check_fast_path(analyzer *a, const char *w) {
    char t_fast[80], w_fast[80], t_slow[80], w_slow[80], ref[256];
    one_term(a, w, t_fast, w_fast);
    reference(w, WORD_OPTS, ref, sizeof ref);
    ref[LODE_MAX_TERM_BYTES] = '\0'; /* ASCII: any cut is a boundary */
    CHECK_STR(w_fast, ref);
    char slow[300];
    size_t n = strlen(w);
    if (n + 3 > sizeof slow) return;
    /* the mark after the first character keeps every join rule unchanged */
    slow[0] = w[0];
    memcpy(slow + 1, "\xCC\x81", 2);
    memcpy(slow + 3, w + 1, n); /* with the NUL */
    one_term(a, slow, t_slow, w_slow);
    CHECK_STR(w_fast, w_slow);
    CHECK_STR(t_fast, t_slow);
    /* a fullwidth first letter goes through utf8proc as well */
    if (w[0] >= 'A' && w[0] <= 'Z') {
        char fw[300];
        fw[0] = (char)0xEF;
        fw[1] = (char)0xBC;
        fw[2] = (char)(0xA1 + (w[0] - 'A'));
        memcpy(fw + 3, w + 1, n);
        one_term(a, fw, t_slow, w_slow);
        CHECK_STR(w_fast, w_slow);
        CHECK_STR(t_fast, t_slow);
    }
}

TEST(ascii_fast_path_agrees_with_utf8proc) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    for (size_t i = 0; i < sizeof sample_words / sizeof sample_words[0]; i++)
        if (!strchr(sample_words[i], '-')) check_fast_path(a, sample_words[i]);
    uint64_t seed = 42;
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int iter = 0; iter < 3000; iter++) {
        char w[120];
        size_t n = 1 + test_rand(&seed) % (iter % 10 == 0 ? 90 : 14);
        for (size_t j = 0; j < n; j++) {
            uint64_t r = test_rand(&seed);
            if (r % 8 == 0)
                w[j] = (char)('0' + (r >> 8) % 10);
            else
                w[j] = letters[(r >> 8) % 52];
        }
        w[n] = '\0';
        check_fast_path(a, w);
    }
    analyzer_free(a);
}

/* Single CJK characters that skip utf8proc must be those utf8proc leaves
 * alone; every CJK letter must come out as utf8proc's NFKC + casefold. */
TEST(cjk_fast_path_agrees_with_utf8proc) {
    analyzer *a = make(NULL);
    REQUIRE(a);
    static const uint32_t ranges[][2] = {
        {0x1100, 0x11FF}, {0x3005, 0x3007}, {0x3021, 0x3029}, {0x3031, 0x3035},
        {0x303B, 0x303C}, {0x3040, 0x30FF}, {0x3130, 0x318F},
        {0x31F0, 0x31FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA960, 0xA97F},
        {0xAC00, 0xD7FF}, {0xF900, 0xFAFF}, {0xFF66, 0xFFDC}, {0x1B000, 0x1B16F},
        {0x20000, 0x2A6DF}, {0x2F800, 0x2FA1F}, {0x30000, 0x3134F},
    };
    size_t checked = 0, bad = 0;
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        for (uint32_t cp = ranges[r][0]; cp <= ranges[r][1]; cp++) {
            utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
            int letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
            if (!letter && cat != UTF8PROC_CATEGORY_NL && cat != UTF8PROC_CATEGORY_NO) continue;
            if (cp == 0xFF9E || cp == 0xFF9F) continue; /* voicing marks, not bases */
            char s[8], ref[64], term[80], word[80];
            utf8proc_ssize_t n = utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)s);
            s[n] = '\0';
            reference(s, CJK_OPTS, ref, sizeof ref);
            toks ts;
            if (run(a, s, &ts) != 0 || ts.n != 1) {
                if (bad++ < 5) fprintf(stderr, "  U+%04X: %zu tokens\n", (unsigned)cp, ts.n);
                continue;
            }
            memcpy(term, ts.t[0].term, strlen(ts.t[0].term) + 1);
            memcpy(word, ts.t[0].word, strlen(ts.t[0].word) + 1);
            if (strcmp(term, ref) != 0 || strcmp(word, ref) != 0) {
                if (bad++ < 5) fprintf(stderr, "  U+%04X: \"%s\" != \"%s\"\n", (unsigned)cp, term, ref);
            }
            checked++;
        }
    }
    CHECK_EQ_U64(bad, 0);
    fprintf(stderr, "  %zu CJK code points checked\n", checked);
    CHECK(checked > 80000);
    analyzer_free(a);
}

/* ------------------------------------------------------------------------ */
/* Randomized                                                                */
/* ------------------------------------------------------------------------ */

static const char *const pieces[] = {
    "a", "b", "Z", "x", "q", "e", "1", "7", "0", " ", " ", "\n", ".", ",", "'", "-", "_",
    "\xC3\xA9", "\xC3\x9F", "\xCC\x81", "\xE2\x80\x99", "\xC2\xAD", "\xE2\x80\x8B",
    "\xE6\x9D\xB1", "\xE4\xBA\xAC", "\xE3\x81\x8B", "\xE3\x82\x99", "\xEF\xBD\xB6", "\xEF\xBE\x9E",
    "\xED\x95\x9C", "\xE1\x84\x92", "\xE1\x85\xA1", "\xE1\x86\xAB", "\xEF\xAC\x81", "\xC2\xB2",
    "\xE2\x85\xAB", "\xF0\x9F\x98\x80", "\xD9\x85", "\xE0\xA4\xB9\xE0\xA4\xBF", "\xCE\xA3",
    "\xEF\xBC\xAD", "\xEF\xB7\xBA", "\xF0\xA0\x80\x80",
    "\xFF", "\xC0\xAF", "\x80", "\xE2\x82", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF0\x9F\x98",
};

static int utf8_starts_cjk(const char *s) {
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp) <= 0) return 0;
    return cp >= 0x1100;
}

typedef struct checker {
    const uint8_t *text;
    size_t len;
    uint32_t next_pos;
    uint32_t prev_start, prev_end;
    int prev_cjk;
    int any;
    size_t count;
    int failures;
} checker;

static int check_token(void *ctx, const token *t) {
    checker *c = ctx;
    int ok = 1;
    ok &= t->start < t->end && t->end <= c->len;
    ok &= t->position == c->next_pos;
    ok &= t->term_len > 0 && t->term_len <= LODE_MAX_TERM_BYTES;
    ok &= t->word_len > 0 && t->word_len <= LODE_MAX_TERM_BYTES;
    ok &= valid_utf8((const uint8_t *)t->term, t->term_len);
    ok &= valid_utf8((const uint8_t *)t->word, t->word_len);
    if (t->end <= c->len) ok &= valid_utf8(c->text + t->start, t->end - t->start);
    char first[8] = {0};
    memcpy(first, t->term, t->term_len < 4 ? t->term_len : 4);
    int cjk = (uint8_t)first[0] >= 0xE1 && utf8_starts_cjk(first);
    if (c->any) {
        if (t->start < c->prev_end) {
            /* only consecutive CJK bigrams overlap, by one unit */
            ok &= cjk && c->prev_cjk && t->start > c->prev_start && t->end > c->prev_end;
        }
    }
    c->prev_start = t->start;
    c->prev_end = t->end;
    c->prev_cjk = cjk;
    c->any = 1;
    c->next_pos++;
    c->count++;
    if (!ok) c->failures++;
    return 0;
}

typedef struct recorder {
    lode_buf out;
} recorder;

static int record(void *ctx, const token *t) {
    recorder *r = ctx;
    buf_append(&r->out, t->term, t->term_len);
    buf_put_u8(&r->out, 0);
    buf_append(&r->out, t->word, t->word_len);
    buf_put_u32(&r->out, t->start);
    buf_put_u32(&r->out, t->end);
    buf_put_u32(&r->out, t->position);
    return 0;
}

TEST(random_bytes_keep_every_invariant) {
    analyzer *a = make(NULL);
    analyzer *fresh = NULL;
    REQUIRE(a);
    uint64_t seed = 0x1234567;
    size_t tokens = 0;
    int failures = 0, mismatches = 0;
    uint8_t text[600];
    for (int iter = 0; iter < 5000; iter++) {
        size_t len = 0;
        size_t target = test_rand(&seed) % 400;
        while (len < target) {
            uint64_t r = test_rand(&seed);
            if (r % 16 == 0) { /* any byte at all */
                text[len++] = (uint8_t)(r >> 8);
                continue;
            }
            const char *p = pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            int reps = (r >> 20) % 5 == 0 ? 40 : 1; /* sometimes a long run */
            for (int k = 0; k < reps && len + pl <= sizeof text; k++) {
                memcpy(text + len, p, pl);
                len += pl;
            }
            if (len + 4 >= sizeof text) break;
        }
        uint32_t first = (uint32_t)(test_rand(&seed) % 1000);
        checker c;
        memset(&c, 0, sizeof c);
        c.text = text;
        c.len = len;
        c.next_pos = first;
        CHECK_EQ_U64(analyze_text(a, (const char *)text, len, first, check_token, &c), 0);
        failures += c.failures;
        tokens += c.count;
        /* a warm analyzer and a fresh one agree (the caches change nothing) */
        if (iter % 50 == 0) {
            analyzer_free(fresh);
            fresh = make(NULL);
            REQUIRE(fresh);
            recorder r1, r2;
            buf_init(&r1.out);
            buf_init(&r2.out);
            analyze_text(a, (const char *)text, len, first, record, &r1);
            analyze_text(fresh, (const char *)text, len, first, record, &r2);
            if (r1.out.len != r2.out.len || (r1.out.len && memcmp(r1.out.data, r2.out.data, r1.out.len) != 0))
                mismatches++;
            buf_free(&r1.out);
            buf_free(&r2.out);
        }
    }
    analyzer_free(fresh);
    CHECK_EQ_U64(failures, 0);
    CHECK_EQ_U64(mismatches, 0);
    CHECK(tokens > 50000);
    analyzer_free(a);
}

/* More distinct words than the caches hold: they are cleared, and the terms
 * stay the same as those of a fresh analyzer. */
TEST(caches_stay_correct_when_cleared) {
    analyzer *a = make(NULL);
    analyzer *b = make(NULL);
    REQUIRE(a && b);
    char text[64], t1[80], t2[80], w[80];
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(text, sizeof text, i % 2 ? "w%dings" : "\xC3\xA9t%dings", i);
        one_term(a, text, t1, w);
        if (i % 997 == 0) {
            one_term(b, text, t2, w);
            bad += strcmp(t1, t2) != 0;
            analyzer_free(b);
            b = make(NULL);
            REQUIRE(b);
        }
    }
    one_term(a, "doses", t1, w);
    CHECK_STR(t1, "dose");
    CHECK_EQ_U64(bad, 0);
    analyzer_free(a);
    analyzer_free(b);
}

TEST_MAIN(TEST_CASE(normalization_nfkc_casefold_strips_accents),
          TEST_CASE(word_made_only_of_marks_gives_no_token_and_no_position),
          TEST_CASE(format_characters_inside_a_word_are_ignored_but_zwsp_separates),
          TEST_CASE(diacritics_are_stripped_but_indic_vowel_signs_are_kept),
          TEST_CASE(english_stemming_gives_snowball_outputs),
          TEST_CASE(numbers_are_not_stemmed),
          TEST_CASE(stemmer_none_keeps_words),
          TEST_CASE(stemmer_names_are_canonical),
          TEST_CASE(unknown_stemmer_is_einval_naming_it),
          TEST_CASE(cjk_runs_become_overlapping_bigrams_with_spans_and_positions),
          TEST_CASE(cjk_is_normalized_with_nfkc_keeping_voicing_marks),
          TEST_CASE(script_change_splits_latin_from_cjk),
          TEST_CASE(spans_point_into_the_original_across_multibyte_characters),
          TEST_CASE(invalid_utf8_bytes_separate_words),
          TEST_CASE(apostrophes_join_letters),
          TEST_CASE(numbers_hyphens_and_decimal_points),
          TEST_CASE(long_words_are_cut_at_a_utf8_boundary),
          TEST_CASE(empty_input_and_separators_only_give_nothing),
          TEST_CASE(callback_stops_early_with_its_value),
          TEST_CASE(ascii_fast_path_agrees_with_utf8proc),
          TEST_CASE(cjk_fast_path_agrees_with_utf8proc),
          TEST_CASE(random_bytes_keep_every_invariant),
          TEST_CASE(caches_stay_correct_when_cleared))
