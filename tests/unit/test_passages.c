/*
 * test_passages.c - passages_cut() and document_title(): the cutting rules
 * with exact offsets, line numbers for every kind of line end, the BOM,
 * degenerate and invalid input, 10 MB lines, and a randomized test that
 * checks the invariants on thousands of generated texts.
 */
#include <time.h>

#include "indexer.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct spans {
    passage_span *v;
    size_t n, cap;
    size_t stop_at; /* return 7 from the callback on this call (1-based), 0 never */
} spans;

static int collect(void *ctx, const passage_span *p) {
    spans *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) abort();
    }
    s->v[s->n++] = *p;
    return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static spans cut(const char *text, size_t len) {
    spans s;
    memset(&s, 0, sizeof s);
    int rc = passages_cut(text, len, collect, &s);
    CHECK(rc == 0);
    return s;
}

static void spans_free(spans *s) { free(s->v); }

#define CHECK_SPAN(s, i, off, len, ln)                                                 \
    do {                                                                               \
        if ((s).n <= (size_t)(i)) {                                                    \
            fprintf(stderr, "%s:%d: no passage %d (only %zu)\n", __FILE__, __LINE__,   \
                    (int)(i), (s).n);                                                  \
            test_failures++;                                                           \
        } else {                                                                       \
            CHECK_EQ_U64((s).v[i].offset, off);                                        \
            CHECK_EQ_U64((s).v[i].length, len);                                        \
            CHECK_EQ_U64((s).v[i].line, ln);                                           \
        }                                                                              \
    } while (0)

static int ws(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* An independent well-formed UTF-8 decoder (RFC 3629 table): the length of
 * the sequence at s, or 1 for a byte that starts none. */
static size_t seq_len(const uint8_t *s, size_t avail) {
    uint8_t c = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c <= 0x7F) return 1;
    else if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else return 1;
    if (avail < n || s[1] < lo || s[1] > hi) return 1;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 1;
    return n;
}

/* Checks every invariant of a cut of `text`; returns the failures found.
 * Line numbers, coverage and character boundaries are recomputed here. */
static int check_invariants(const char *text, size_t len, const spans *s) {
    const uint8_t *t = (const uint8_t *)text;
    int before = test_failures;
    size_t bom = len >= 3 && t[0] == 0xEF && t[1] == 0xBB && t[2] == 0xBF ? 3 : 0;
    uint8_t *covered = calloc(len + 1, 1);
    uint8_t *boundary = calloc(len + 1, 1);
    uint32_t *line_of = malloc((len + 1) * sizeof *line_of);
    if (!covered || !boundary || !line_of) abort();
    for (size_t i = 0; i < len;) {
        boundary[i] = 1;
        i += seq_len(t + i, len - i);
    }
    boundary[len] = 1;
    uint32_t line = 1;
    for (size_t i = 0; i < len; i++) {
        line_of[i] = line;
        if (t[i] == '\n' || (t[i] == '\r' && !(i + 1 < len && t[i + 1] == '\n'))) line++;
    }
    size_t prev_end = 0;
    for (size_t k = 0; k < s->n; k++) {
        const passage_span *p = &s->v[k];
        size_t a = p->offset, b = (size_t)p->offset + p->length;
        CHECK(p->length > 0);
        CHECK(p->length <= PASSAGE_MAX_BYTES);
        CHECK(b <= len);
        CHECK(a >= bom);
        CHECK(a >= prev_end); /* in order, no overlap */
        if (b > len || p->length == 0) break;
        prev_end = b;
        CHECK(!ws(t[a]));
        CHECK(!ws(t[b - 1]));
        CHECK(boundary[a]);
        CHECK(boundary[b]);
        CHECK_EQ_U64(p->line, line_of[a]);
        /* only a whole paragraph spans lines, and it fits the target */
        int multi_line = 0, blank_line = 0;
        for (size_t i = a; i < b; i++) {
            if (t[i] != '\n' && t[i] != '\r') continue;
            multi_line = 1;
            size_t j = i + 1;
            if (t[i] == '\r' && j < b && t[j] == '\n') j++;
            while (j < b && (t[j] == ' ' || t[j] == '\t' || t[j] == '\f' || t[j] == '\v')) j++;
            if (j < b && (t[j] == '\n' || t[j] == '\r')) blank_line = 1;
        }
        if (multi_line) CHECK(p->length <= PASSAGE_TARGET_BYTES);
        CHECK(!blank_line);
        for (size_t i = a; i < b; i++) covered[i]++;
    }
    size_t bad = 0;
    for (size_t i = bom; i < len; i++)
        if (!ws(t[i]) && covered[i] != 1) bad++;
    for (size_t i = 0; i < bom; i++)
        if (covered[i]) bad++;
    CHECK_EQ_U64(bad, 0);
    free(covered);
    free(boundary);
    free(line_of);
    return test_failures - before;
}

/* A sentence of exactly `len` bytes: words of five 'x' and a terminator. */
static void put_sentence(char *out, size_t len, char term) {
    for (size_t i = 0; i + 1 < len; i++) out[i] = i % 6 == 5 ? ' ' : 'x';
    if (len >= 2) out[len - 2] = 'x';
    out[len - 1] = term;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */
/* ------------------------------------------------------------------------ */

TEST(short_paragraphs_are_one_passage_each) {
    const char *t = "Hello world.\nSecond line here.\n\n  Third paragraph.  \n";
    spans s = cut(t, strlen(t));
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 30, 1);
    CHECK_SPAN(s, 1, 34, 16, 4);
    CHECK(check_invariants(t, strlen(t), &s) == 0);
    spans_free(&s);
}

TEST(paragraph_longer_than_target_gives_one_passage_per_line) {
    /* 6 lines of 99 bytes: 599 > target, so one passage per line */
    char t[6 * 100 + 1];
    for (int l = 0; l < 6; l++) {
        memset(t + l * 100, 'a' + l, 99);
        t[l * 100 + 49] = ' ';
        t[l * 100 + 99] = '\n';
    }
    t[600] = '\0';
    spans s = cut(t, 600);
    REQUIRE(s.n == 6);
    for (int l = 0; l < 6; l++) CHECK_SPAN(s, l, l * 100, 99, l + 1);
    CHECK(check_invariants(t, 600, &s) == 0);
    spans_free(&s);
}

TEST(paragraph_of_exactly_target_bytes_is_one_passage) {
    char t[PASSAGE_TARGET_BYTES + 10];
    memset(t, 'w', sizeof t);
    t[0] = ' ';
    t[100] = '\n';
    t[PASSAGE_TARGET_BYTES + 1] = '\n';
    t[PASSAGE_TARGET_BYTES + 2] = '\n';
    /* "w...\nw...": bytes 1..500 form a 500-byte paragraph */
    spans s = cut(t, PASSAGE_TARGET_BYTES + 3);
    REQUIRE(s.n == 1);
    CHECK_SPAN(s, 0, 1, PASSAGE_TARGET_BYTES, 1);
    spans_free(&s);
}

TEST(long_line_cut_at_sentence_ends_packed_to_target) {
    /* A(300) B(150) C(200) D(100), one space between: A+B fit the target,
     * C would not; C+D fit. */
    char t[753];
    put_sentence(t, 300, '.');
    t[300] = ' ';
    put_sentence(t + 301, 150, '.');
    t[451] = ' ';
    put_sentence(t + 452, 200, '!');
    t[652] = ' ';
    put_sentence(t + 653, 100, '?');
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 451, 1);
    CHECK_SPAN(s, 1, 452, 301, 1);
    CHECK(check_invariants(t, sizeof t, &s) == 0);
    spans_free(&s);
}

TEST(sentence_end_includes_closing_quotes_and_brackets) {
    /* A ends with ."), then B: A is 301 bytes and B does not fit with it */
    char t[552];
    put_sentence(t, 299, '.');
    t[299] = '"';
    t[300] = ')';
    t[301] = ' ';
    put_sentence(t + 302, 250, '.');
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 301, 1);
    CHECK_SPAN(s, 1, 302, 250, 1);
    spans_free(&s);
}

TEST(dots_inside_words_do_not_end_sentences) {
    /* "3.14" and "example.com" are not sentence ends: the only cut possible
     * is at the whitespace rule once the 1200-byte sentence passes MAX */
    char t[1300];
    size_t n = 0;
    const char *head = "Pi is 3.14 see example.com now";
    memcpy(t, head, strlen(head));
    n = strlen(head);
    for (; n < 1199; n++) t[n] = n % 7 == 0 ? ' ' : 'y';
    t[n++] = '.';
    spans s = cut(t, n);
    REQUIRE(s.n == 2);
    /* the first passage ends at the last space at or before byte 1000 */
    size_t w = PASSAGE_MAX_BYTES;
    while (t[w] != ' ') w--;
    CHECK_SPAN(s, 0, 0, w, 1);
    CHECK_SPAN(s, 1, w + 1, n - w - 1, 1);
    CHECK(check_invariants(t, n, &s) == 0);
    spans_free(&s);
}

TEST(sentence_between_target_and_max_is_one_passage) {
    char t[801];
    put_sentence(t, 700, '.');
    t[700] = ' ';
    put_sentence(t + 701, 100, '.');
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 700, 1);
    CHECK_SPAN(s, 1, 701, 100, 1);
    spans_free(&s);
}

TEST(sentence_over_max_is_cut_at_last_whitespace) {
    /* spaces at every i % 6 == 5: the last at or before 1000 is 995 */
    char t[2500];
    put_sentence(t, 2500, '.');
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 3);
    CHECK_SPAN(s, 0, 0, 995, 1);
    CHECK_SPAN(s, 1, 996, 1991 - 996, 1);
    CHECK_SPAN(s, 2, 1992, 2500 - 1992, 1);
    CHECK(check_invariants(t, sizeof t, &s) == 0);
    spans_free(&s);
}

TEST(sentence_without_whitespace_is_cut_at_max) {
    char t[2501];
    memset(t, 'x', 2500);
    t[2500] = '.';
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 3);
    CHECK_SPAN(s, 0, 0, 1000, 1);
    CHECK_SPAN(s, 1, 1000, 1000, 1);
    CHECK_SPAN(s, 2, 2000, 501, 1);
    spans_free(&s);
}

TEST(cut_never_splits_a_utf8_sequence) {
    /* "a" then 2000 'é': every 'é' starts at an odd offset, so a cut at an
     * even offset would split one; the cuts fall one byte earlier */
    char t[4001];
    t[0] = 'a';
    for (int i = 0; i < 2000; i++) {
        t[1 + 2 * i] = (char)0xC3;
        t[2 + 2 * i] = (char)0xA9;
    }
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 5);
    CHECK_SPAN(s, 0, 0, 999, 1);
    CHECK_SPAN(s, 1, 999, 1000, 1);
    CHECK_SPAN(s, 2, 1999, 1000, 1);
    CHECK_SPAN(s, 3, 2999, 1000, 1);
    CHECK_SPAN(s, 4, 3999, 2, 1);
    CHECK(check_invariants(t, sizeof t, &s) == 0);
    spans_free(&s);

    /* a 4-byte emoji straddling byte 1000 moves the cut back to its start */
    char u[1500];
    memset(u, 'z', sizeof u);
    memcpy(u + 998, "\xF0\x9F\x98\x80", 4);
    s = cut(u, sizeof u);
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 998, 1);
    CHECK_SPAN(s, 1, 998, 502, 1);
    spans_free(&s);
}

TEST(invalid_utf8_bytes_are_single_characters) {
    const char *t = "\xff\xfe abc \x80\xc3";
    spans s = cut(t, strlen(t));
    REQUIRE(s.n == 1);
    CHECK_SPAN(s, 0, 0, strlen(t), 1);
    spans_free(&s);

    /* 3000 lone continuation bytes: each is a character, cuts at exactly MAX */
    char u[3000];
    memset(u, 0x80, sizeof u);
    s = cut(u, sizeof u);
    REQUIRE(s.n == 3);
    CHECK_SPAN(s, 0, 0, 1000, 1);
    CHECK_SPAN(s, 1, 1000, 1000, 1);
    CHECK_SPAN(s, 2, 2000, 1000, 1);
    CHECK(check_invariants(u, sizeof u, &s) == 0);
    spans_free(&s);

    /* a truncated sequence E2 82 at 999..1000 is two invalid bytes, not a
     * character: the cut at 1000 stands */
    char v[1500];
    memset(v, 'q', sizeof v);
    v[999] = (char)0xE2;
    v[1000] = (char)0x82;
    s = cut(v, sizeof v);
    REQUIRE(s.n == 2);
    CHECK_SPAN(s, 0, 0, 1000, 1);
    CHECK(check_invariants(v, sizeof v, &s) == 0);
    spans_free(&s);
}

TEST(crlf_and_lone_cr_end_lines) {
    /* a0 \r1 \n2 b3 \r4 c5 \n6 \n7 d8 \r9 \n10 \r11 \n12 e13 */
    const char *t = "a\r\nb\rc\n\nd\r\n\r\ne";
    spans s = cut(t, strlen(t));
    REQUIRE(s.n == 3);
    CHECK_SPAN(s, 0, 0, 6, 1);
    CHECK_SPAN(s, 1, 8, 1, 5);
    CHECK_SPAN(s, 2, 13, 1, 7);
    CHECK(check_invariants(t, strlen(t), &s) == 0);
    spans_free(&s);

    /* in a long paragraph each line is numbered after CRLF, CR and LF */
    char u[200 * 4 + 4];
    size_t n = 0;
    const char *ends[] = {"\r\n", "\r", "\n"};
    for (int l = 0; l < 4; l++) {
        memset(u + n, 'k', 200);
        n += 200;
        if (l < 3) {
            memcpy(u + n, ends[l], strlen(ends[l]));
            n += strlen(ends[l]);
        }
    }
    s = cut(u, n);
    REQUIRE(s.n == 4);
    CHECK_SPAN(s, 0, 0, 200, 1);
    CHECK_SPAN(s, 1, 202, 200, 2);
    CHECK_SPAN(s, 2, 403, 200, 3);
    CHECK_SPAN(s, 3, 604, 200, 4);
    CHECK(check_invariants(u, n, &s) == 0);
    spans_free(&s);
}

TEST(bom_belongs_to_no_passage) {
    const char *t = "\xEF\xBB\xBFHello";
    spans s = cut(t, strlen(t));
    REQUIRE(s.n == 1);
    CHECK_SPAN(s, 0, 3, 5, 1);
    spans_free(&s);

    t = "\xEF\xBB\xBF\r\n  Hi";
    s = cut(t, strlen(t));
    REQUIRE(s.n == 1);
    CHECK_SPAN(s, 0, 7, 2, 2);
    spans_free(&s);

    t = "\xEF\xBB\xBF";
    s = cut(t, strlen(t));
    CHECK_EQ_U64(s.n, 0);
    spans_free(&s);

    /* only a leading BOM is special; a second one is text */
    t = "\xEF\xBB\xBF\xEF\xBB\xBFx";
    s = cut(t, strlen(t));
    REQUIRE(s.n == 1);
    CHECK_SPAN(s, 0, 3, 4, 1);
    spans_free(&s);
}

TEST(empty_and_whitespace_only_input_give_no_passages) {
    spans s = cut("", 0);
    CHECK_EQ_U64(s.n, 0);
    spans_free(&s);
    const char *t = " \t\n\r\n\f\v \r\r\n   ";
    s = cut(t, strlen(t));
    CHECK_EQ_U64(s.n, 0);
    spans_free(&s);
}

TEST(callback_value_stops_the_cut) {
    const char *t = "one\n\ntwo\n\nthree\n\nfour";
    spans s;
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    CHECK_EQ_U64(passages_cut(t, strlen(t), collect, &s), 7);
    CHECK_EQ_U64(s.n, 2);
    spans_free(&s);

    /* also from inside a long line */
    char u[3000];
    memset(u, 'x', sizeof u);
    memset(&s, 0, sizeof s);
    s.stop_at = 1;
    CHECK_EQ_U64(passages_cut(u, sizeof u, collect, &s), 7);
    CHECK_EQ_U64(s.n, 1);
    spans_free(&s);
}

TEST(cjk_terminators_end_sentences_without_a_space) {
    /* 120 sentences of 3 ideographs + '。' = 12 bytes each, 1440 bytes in
     * one line: packed greedily, 41 sentences (492 bytes) per passage */
    char t[1440];
    for (int i = 0; i < 120; i++) memcpy(t + 12 * i, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82", 12);
    spans s = cut(t, sizeof t);
    REQUIRE(s.n == 3);
    CHECK_SPAN(s, 0, 0, 492, 1);
    CHECK_SPAN(s, 1, 492, 492, 1);
    CHECK_SPAN(s, 2, 984, 456, 1);
    CHECK(check_invariants(t, sizeof t, &s) == 0);
    spans_free(&s);
}

static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

TEST(ten_megabyte_lines_are_cut_in_linear_time) {
    const size_t len = 10u << 20;
    char *t = malloc(len);
    REQUIRE(t != NULL);
    double start = cpu_seconds();

    /* with spaces and no sentence end */
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
    for (size_t i = 0; i < len; i++) t[i] = words[i % (sizeof words - 1)];
    t[len - 1] = 'z';
    spans s = cut(t, len);
    CHECK(s.n > len / PASSAGE_MAX_BYTES);
    CHECK(check_invariants(t, len, &s) == 0);
    spans_free(&s);

    /* no whitespace at all */
    memset(t, 'x', len);
    s = cut(t, len);
    CHECK_EQ_U64(s.n, (len + PASSAGE_MAX_BYTES - 1) / PASSAGE_MAX_BYTES);
    CHECK(check_invariants(t, len, &s) == 0);
    spans_free(&s);

    /* only 'é': every cut at an even offset */
    for (size_t i = 0; i < len; i += 2) {
        t[i] = (char)0xC3;
        t[i + 1] = (char)0xA9;
    }
    s = cut(t, len);
    size_t odd = 0;
    for (size_t i = 0; i < s.n; i++) odd += (s.v[i].offset | s.v[i].length) & 1;
    CHECK_EQ_U64(odd, 0);
    CHECK(check_invariants(t, len, &s) == 0);
    spans_free(&s);

    /* many sentences */
    for (size_t i = 0; i < len; i++) t[i] = i % 40 == 38 ? '.' : i % 40 == 39 || i % 8 == 3 ? ' ' : 's';
    t[len - 1] = '.';
    s = cut(t, len);
    CHECK(check_invariants(t, len, &s) == 0);
    spans_free(&s);

    /* a quadratic cut would take hours; linear takes well under a second
     * (the bound is loose for sanitizers and slow machines) */
    CHECK(cpu_seconds() - start < 60.0);
    free(t);
}

TEST(titles) {
    uint32_t off, len;
    const char *t = "\n\n  Hello World  \nbody";
    document_title(t, strlen(t), &off, &len);
    CHECK_EQ_U64(off, 4);
    CHECK_EQ_U64(len, 11);

    t = "\r\n \t\r\nTitle\r\nx";
    document_title(t, strlen(t), &off, &len);
    CHECK_EQ_U64(off, 6);
    CHECK_EQ_U64(len, 5);

    t = "\rTitle\rnext";
    document_title(t, strlen(t), &off, &len);
    CHECK_EQ_U64(off, 1);
    CHECK_EQ_U64(len, 5);

    t = "\xEF\xBB\xBF Title\n";
    document_title(t, strlen(t), &off, &len);
    CHECK_EQ_U64(off, 4);
    CHECK_EQ_U64(len, 5);

    t = "\xEF\xBB\xBF \n\t\r\n";
    off = len = 99;
    document_title(t, strlen(t), &off, &len);
    CHECK_EQ_U64(off, 0);
    CHECK_EQ_U64(len, 0);

    off = len = 99;
    document_title("", 0, &off, &len);
    CHECK_EQ_U64(off, 0);
    CHECK_EQ_U64(len, 0);

    /* "a" + 150 'é': byte 200 is inside an 'é', cut before it */
    char u[301];
    u[0] = 'a';
    for (int i = 0; i < 150; i++) {
        u[1 + 2 * i] = (char)0xC3;
        u[2 + 2 * i] = (char)0xA9;
    }
    document_title(u, sizeof u, &off, &len);
    CHECK_EQ_U64(off, 0);
    CHECK_EQ_U64(len, 199);

    /* a cut just after a space is trimmed again */
    char v[260];
    memset(v, 'y', sizeof v);
    v[TITLE_MAX_BYTES - 1] = ' ';
    document_title(v, sizeof v, &off, &len);
    CHECK_EQ_U64(off, 0);
    CHECK_EQ_U64(len, TITLE_MAX_BYTES - 1);

    /* exactly TITLE_MAX_BYTES is kept whole */
    document_title(v, TITLE_MAX_BYTES + 1, &off, &len);
    CHECK_EQ_U64(len, TITLE_MAX_BYTES - 1);
    v[TITLE_MAX_BYTES - 1] = 'y';
    document_title(v, TITLE_MAX_BYTES, &off, &len);
    CHECK_EQ_U64(len, TITLE_MAX_BYTES);
}

/* A reference cutter written straight from the rules, favouring clarity
 * over speed (it decodes from the passage start to find a character
 * boundary): the random test compares passages_cut with it exactly. */
static int ref_blank(uint8_t c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

static void ref_emit(spans *out, size_t a, size_t b, uint32_t line) {
    passage_span p = {(uint32_t)a, (uint32_t)(b - a), line};
    collect(out, &p);
}

/* Bytes of the terminator at i, negative for a CJK one, 0 for none. */
static int ref_terminator(const uint8_t *t, size_t i, size_t b) {
    if (t[i] == '.' || t[i] == '!' || t[i] == '?') return 1;
    if (b - i >= 3 && (!memcmp(t + i, "\xE3\x80\x82", 3) || !memcmp(t + i, "\xEF\xBC\x81", 3) ||
                       !memcmp(t + i, "\xEF\xBC\x9F", 3)))
        return -3;
    return 0;
}

static size_t ref_closer(const uint8_t *t, size_t i, size_t b) {
    if (t[i] == '"' || t[i] == '\'' || t[i] == ')' || t[i] == ']') return 1;
    static const char *const wide[] = {"\xE2\x80\x9D", "\xE2\x80\x99", "\xE3\x80\x8D", "\xE3\x80\x8F",
                                       "\xEF\xBC\x89"};
    for (size_t k = 0; k < 5; k++)
        if (b - i >= 3 && !memcmp(t + i, wide[k], 3)) return 3;
    return 0;
}

static void ref_line(const uint8_t *t, size_t a, size_t b, uint32_t line, spans *out) {
    size_t cur = 0, cur_end = 0; /* the passage being packed, cur_end 0 if none */
    size_t ss = a;
    while (ss < b) {
        /* the sentence [ss, se) */
        size_t se = b;
        for (size_t i = ss; i < b; i++) {
            int term = ref_terminator(t, i, b);
            if (!term) continue;
            size_t j = i + (size_t)(term < 0 ? -term : term);
            while (j < b && ref_closer(t, j, b)) j += ref_closer(t, j, b);
            if (term < 0 || j == b || ws(t[j])) {
                se = j;
                break;
            }
        }
        if (cur_end && se - cur <= PASSAGE_TARGET_BYTES) {
            cur_end = se;
        } else {
            if (cur_end) ref_emit(out, cur, cur_end, line);
            cur_end = 0;
            size_t p = ss;
            while (se - p > PASSAGE_MAX_BYTES) {
                size_t w = p + PASSAGE_MAX_BYTES;
                while (w > p && !ws(t[w])) w--;
                if (w > p) {
                    size_t q = w;
                    while (ws(t[q - 1])) q--;
                    ref_emit(out, p, q, line);
                    p = w;
                    while (ws(t[p])) p++;
                } else {
                    size_t q = p;
                    while (q + seq_len(t + q, b - q) <= p + PASSAGE_MAX_BYTES) q += seq_len(t + q, b - q);
                    ref_emit(out, p, q, line);
                    p = q;
                }
            }
            if (se - p <= PASSAGE_TARGET_BYTES) {
                cur = p;
                cur_end = se;
            } else {
                ref_emit(out, p, se, line);
            }
        }
        ss = se;
        while (ss < b && ws(t[ss])) ss++;
    }
    if (cur_end) ref_emit(out, cur, cur_end, line);
}

static spans ref_cut(const char *text, size_t len) {
    const uint8_t *t = (const uint8_t *)text;
    spans out;
    memset(&out, 0, sizeof out);
    size_t pos = len >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3) ? 3 : 0;
    /* lines as [start, end) without their terminator */
    size_t nlines = 0, cap = 16;
    size_t(*lines)[2] = malloc(cap * sizeof *lines);
    if (!lines) abort();
    while (pos < len) {
        size_t e = pos;
        while (e < len && t[e] != '\n' && t[e] != '\r') e++;
        if (nlines == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines) abort();
        }
        lines[nlines][0] = pos;
        lines[nlines][1] = e;
        nlines++;
        pos = e < len && t[e] == '\r' && e + 1 < len && t[e + 1] == '\n' ? e + 2 : e + 1;
    }
    for (size_t l = 0; l < nlines;) {
        size_t a = lines[l][0];
        while (a < lines[l][1] && ref_blank(t[a])) a++;
        if (a == lines[l][1]) {
            l++;
            continue;
        }
        size_t m = l; /* the paragraph is lines l..m-1 */
        size_t last = 0;
        for (; m < nlines; m++) {
            size_t x = lines[m][0], y = lines[m][1];
            while (x < y && ref_blank(t[x])) x++;
            if (x == y) break;
            while (ref_blank(t[y - 1])) y--;
            last = y;
        }
        if (last - a <= PASSAGE_TARGET_BYTES) {
            ref_emit(&out, a, last, (uint32_t)l + 1);
        } else {
            for (size_t k = l; k < m; k++) {
                size_t x = lines[k][0], y = lines[k][1];
                while (ref_blank(t[x])) x++;
                while (ref_blank(t[y - 1])) y--;
                if (y - x <= PASSAGE_TARGET_BYTES)
                    ref_emit(&out, x, y, (uint32_t)k + 1);
                else
                    ref_line(t, x, y, (uint32_t)k + 1, &out);
            }
        }
        l = m;
    }
    free(lines);
    return out;
}

static int same_spans(const spans *a, const spans *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].offset != b->v[i].offset || a->v[i].length != b->v[i].length ||
            a->v[i].line != b->v[i].line)
            return 0;
    return 1;
}

/* Append one random piece of text. */
static size_t random_piece(char *out, uint64_t *rng, int long_lines) {
    static const char *const pieces[] = {
        " ", " ", " ", "  ", "\t", ".", ". ", "! ", "? ", ".\" ", ".) ", "'] ",
        "\xE2\x80\x9D ", "\xE2\x80\x99", "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F",
        "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xE6\x97\xA5\xE6\x9C\xAC",
        "\x80", "\xFF", "\xE2\x82", "\xED\xA0\x80", "\xC0\xAF", "\xF0\x9F\x98", "\f", "\v",
        "3.14", "e.g.", "\xEF\xBB\xBF"};
    static const char *const line_ends[] = {"\n", "\r", "\r\n", "\n\n", "\r\n\r\n", "\n \t\n", "\r\r"};
    uint64_t r = test_rand(rng) % 100;
    if (r < 45) { /* a word */
        size_t n = 1 + test_rand(rng) % 12;
        for (size_t i = 0; i < n; i++) out[i] = (char)('a' + test_rand(rng) % 26);
        return n;
    }
    if (r < 47) { /* a very long word: forces cuts at MAX */
        size_t n = 200 + test_rand(rng) % 1500;
        for (size_t i = 0; i < n; i++) out[i] = (char)('A' + test_rand(rng) % 26);
        return n;
    }
    if (r < 49) { /* a long run without whitespace mixing valid and invalid
                   * sequences: cuts at MAX land inside every kind */
        static const char *const chars[] = {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                            "\xED\xA0\x80", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF",
                                            "\xF4\x90\x80\x80", "\xE0\x9F\x80", "\xE0\xA0\x80",
                                            "\xF0\x8F\x80\x80", "\xC1\x80", "\x80", "\xE2\x82"};
        size_t n = 0, want = 300 + test_rand(rng) % 1500;
        while (n < want) {
            const char *ch = chars[test_rand(rng) % (sizeof chars / sizeof chars[0])];
            memcpy(out + n, ch, strlen(ch));
            n += strlen(ch);
        }
        return n;
    }
    if (r < 49 + (long_lines ? 1 : 12)) {
        const char *e = line_ends[test_rand(rng) % (sizeof line_ends / sizeof line_ends[0])];
        memcpy(out, e, strlen(e));
        return strlen(e);
    }
    if (r < 98) {
        const char *p = pieces[test_rand(rng) % (sizeof pieces / sizeof pieces[0])];
        memcpy(out, p, strlen(p));
        return strlen(p);
    }
    out[0] = '\0';
    return 1;
}

TEST(random_texts_keep_every_invariant) {
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    enum { CASES = 4000, MAX_LEN = 12000 };
    char *t = malloc(MAX_LEN + 4000);
    REQUIRE(t != NULL);
    int failed_cases = 0;
    for (int c = 0; c < CASES && failed_cases < 5; c++) {
        size_t target = test_rand(&rng) % (c % 10 == 0 ? MAX_LEN : 1500);
        int long_lines = (int)(test_rand(&rng) % 3 == 0);
        size_t n = 0;
        if (test_rand(&rng) % 8 == 0) {
            memcpy(t, "\xEF\xBB\xBF", 3);
            n = 3;
        }
        while (n < target) n += random_piece(t + n, &rng, long_lines);
        spans s = cut(t, n);
        spans r = ref_cut(t, n);
        int same = same_spans(&s, &r);
        CHECK(same);
        spans_free(&r);
        if (check_invariants(t, n, &s) != 0 || !same) {
            fprintf(stderr, "  random case %d (%zu bytes) failed\n", c, n);
            failed_cases++;
        }
        /* the title is the first non-blank line, trimmed, within limits */
        uint32_t off, len;
        document_title(t, n, &off, &len);
        CHECK(len <= TITLE_MAX_BYTES);
        if (len) {
            CHECK(!ws((uint8_t)t[off]) && !ws((uint8_t)t[off + len - 1]));
            for (uint32_t i = off; i < off + len; i++) CHECK(t[i] != '\n' && t[i] != '\r');
        }
        /* no passage at all iff the text is only whitespace (and a BOM),
         * and then no title either */
        size_t from = n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, k = from;
        while (k < n && ws((uint8_t)t[k])) k++;
        CHECK((s.n == 0) == (k == n));
        CHECK((len == 0) == (k == n));
        /* both start at the first non-whitespace byte */
        if (s.n) CHECK_EQ_U64(off, s.v[0].offset);
        spans_free(&s);
    }
    free(t);
}

TEST_MAIN(TEST_CASE(short_paragraphs_are_one_passage_each),
          TEST_CASE(paragraph_longer_than_target_gives_one_passage_per_line),
          TEST_CASE(paragraph_of_exactly_target_bytes_is_one_passage),
          TEST_CASE(long_line_cut_at_sentence_ends_packed_to_target),
          TEST_CASE(sentence_end_includes_closing_quotes_and_brackets),
          TEST_CASE(dots_inside_words_do_not_end_sentences),
          TEST_CASE(sentence_between_target_and_max_is_one_passage),
          TEST_CASE(sentence_over_max_is_cut_at_last_whitespace),
          TEST_CASE(sentence_without_whitespace_is_cut_at_max),
          TEST_CASE(cut_never_splits_a_utf8_sequence),
          TEST_CASE(invalid_utf8_bytes_are_single_characters),
          TEST_CASE(crlf_and_lone_cr_end_lines),
          TEST_CASE(bom_belongs_to_no_passage),
          TEST_CASE(empty_and_whitespace_only_input_give_no_passages),
          TEST_CASE(callback_value_stops_the_cut),
          TEST_CASE(cjk_terminators_end_sentences_without_a_space),
          TEST_CASE(ten_megabyte_lines_are_cut_in_linear_time),
          TEST_CASE(titles),
          TEST_CASE(random_texts_keep_every_invariant))
