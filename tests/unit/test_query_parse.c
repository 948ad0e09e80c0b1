/*
 * test_query_parse.c - the query parser (searcher/query_parse.c): every
 * construct of the syntax through qnode_format, precedence and flattening,
 * fields, NEAR in both forms, strict-mode errors with their columns, the
 * lenient fallback and its notes, refused queries, the limits, and a
 * randomized test of the invariants (error codes, columns, round trip).
 */
#include <time.h>

#include "indexer.h"
#include "query.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct parsed {
    int rc;
    qnode *tree;
    char *text; /* qnode_format of tree, or NULL */
    char *note;
    lode_error err;
} parsed;

static parsed parse(const char *q, size_t len, int strict, int all_words) {
    parsed r;
    memset(&r, 0, sizeof r);
    r.rc = query_parse(&r.tree, q, len, strict, all_words, &r.note, &r.err);
    if (r.rc == 0) r.text = qnode_format(r.tree);
    return r;
}

static void parsed_free(parsed *r) {
    qnode_free(r->tree);
    lode_free(r->text);
    lode_free(r->note);
    memset(r, 0, sizeof *r);
}

static void fail_at(int line, const char *q, const char *fmt, ...) LODE_PRINTF(3, 4);

/* Report a failed check of query q at the caller's line. */
static void fail_at(int line, const char *q, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: query [%s]: ", __FILE__, line, q);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    test_failures++;
}

#define N(s) ((s) ? (s) : "(null)")

/* Valid syntax: strict and lenient give `want`, and lenient has no note. */
static void tree_is(int line, const char *q, int all_words, const char *want) {
    parsed s = parse(q, strlen(q), 1, all_words);
    parsed l = parse(q, strlen(q), 0, all_words);
    if (s.rc) fail_at(line, q, "strict failed: %s%s", s.err.message, "");
    else if (strcmp(s.text, want)) fail_at(line, q, "strict gave %s, want %s", s.text, want);
    if (l.rc) fail_at(line, q, "lenient failed: %s%s", l.err.message, "");
    else if (strcmp(l.text, want)) fail_at(line, q, "lenient gave %s, want %s", l.text, want);
    if (l.note) fail_at(line, q, "lenient has a note: %s%s", l.note, "");
    parsed_free(&s);
    parsed_free(&l);
}
#define TREE(q, want) tree_is(__LINE__, q, 0, want)
#define TREE_ALL(q, want) tree_is(__LINE__, q, 1, want)

/* Invalid syntax: strict gives exactly "syntax error at column N: what". */
static void syntax_is(int line, const char *q, unsigned col, const char *what) {
    char want[600];
    parsed s = parse(q, strlen(q), 1, 0);
    snprintf(want, sizeof want, "syntax error at column %u: %s", col, what);
    if (s.rc != LODE_ESYNTAX) fail_at(line, q, "strict did not fail with LODE_ESYNTAX: %s%s", s.text ? s.text : s.err.message, "");
    else if (strcmp(s.err.message, want)) fail_at(line, q, "message %s, want %s", s.err.message, want);
    else if (s.err.column != col) fail_at(line, q, "err.column wrong in %s%s", s.err.message, "");
    if (s.tree) fail_at(line, q, "a tree came with the error%s%s", "", "");
    parsed_free(&s);
}
#define SYNTAX(q, col, what) syntax_is(__LINE__, q, col, what)

/* Lenient reading of invalid syntax: the tree and the note. */
static void lenient_is(int line, const char *q, int all_words, const char *want, const char *note) {
    parsed l = parse(q, strlen(q), 0, all_words);
    if (l.rc) fail_at(line, q, "lenient failed: %s%s", l.err.message, "");
    else {
        if (strcmp(l.text, want)) fail_at(line, q, "lenient gave %s, want %s", l.text, want);
        if (!l.note || strcmp(l.note, note)) fail_at(line, q, "note %s, want %s", N(l.note), note);
    }
    parsed_free(&l);
}
#define LENIENT(q, want, note) lenient_is(__LINE__, q, 0, want, note)

/* An error in the given mode, with its exact message. */
static void error_is(int line, const char *q, size_t len, int strict, int code, const char *msg) {
    parsed r = parse(q, len, strict, 0);
    char c[32];
    snprintf(c, sizeof c, "%d", r.rc);
    if (r.rc != code) fail_at(line, q, "rc %s (%s)", c, r.rc ? r.err.message : N(r.text));
    else if (msg && strcmp(r.err.message, msg)) fail_at(line, q, "message %s, want %s", r.err.message, msg);
    if (r.tree || r.note) fail_at(line, q, "tree or note came with the error%s%s", "", "");
    parsed_free(&r);
}
#define ERROR_BOTH(q, code, msg)                                                       \
    do {                                                                               \
        error_is(__LINE__, q, strlen(q), 1, code, msg);                                \
        error_is(__LINE__, q, strlen(q), 0, code, msg);                                \
    } while (0)

/* The format of an accepted tree parses (strictly, default operator) to a
 * tree with the same format. Returns 0 when it does. */
static int round_trips(const char *text) {
    parsed again = parse(text, strlen(text), 1, 0);
    int ok = again.rc == 0 && strcmp(again.text, text) == 0;
    if (!ok)
        fprintf(stderr, "  round trip of [%s]: %s\n", text, again.rc ? again.err.message : again.text);
    parsed_free(&again);
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------------------ */
/* Words, modifiers, phrases, prefixes                                       */
/* ------------------------------------------------------------------------ */

TEST(juxtaposed_words_are_should_kids_or_must_with_all_words) {
    TREE("a", "a");
    TREE("a b", "(a b)");
    TREE("  a \t b\n", "(a b)");
    TREE("a b c d", "(a b c d)");
    TREE_ALL("a b", "(+a +b)");
    TREE_ALL("a", "a");
    /* a no-break space and an ideographic space separate like a space */
    TREE("a\xC2\xA0" "b\xE3\x80\x80" "c", "(a b c)");
}

TEST(plus_and_minus_start_a_clause_as_modifiers) {
    TREE("+a -b c", "(+a -b c)");
    TREE("+a", "a");
    TREE("c +\"x y\" -(a b)", "(c +\"x y\" -(a b))");
    TREE("(a)-b", "(a -b)");
    TREE("\"x y\"-b", "(\"x y\" -b)");
    TREE_ALL("+a -b c", "(+a -b +c)");
}

TEST(hyphen_and_plus_inside_a_word_are_part_of_it) {
    TREE("5-HTP", "5-HTP");
    TREE("e-mail c++ a-", "(e-mail c++ a-)");
    TREE("x -5-HTP", "(x -5-HTP)");
    TREE("x +e-mail", "(x +e-mail)");
}

TEST(apostrophes_colons_and_urls_are_words) {
    TREE("what's", "what's");
    TREE("10:30", "10:30");
    TREE("http://x", "http://x");
    TREE("std::vector", "std::vector");
    TREE("note: x", "(note: x)");
    TREE("a1:b", "a1:b");
    TREE("C:\\temp", "C:\\temp");
}

TEST(lowercase_and_mixed_case_operators_are_words) {
    TREE("a and b or c not d near e", "(a and b or c not d near e)");
    TREE("And Or Not Near NEARBY ANDROID", "(And Or Not Near NEARBY ANDROID)");
    TREE("near/5 NEAR5 NEARLY", "(near/5 NEAR5 NEARLY)");
}

TEST(a_trailing_star_makes_a_prefix) {
    TREE("magn*", "magn*");
    TREE("magn**", "magn*");
    TREE("a*b", "a*b");
    TREE("a*b*", "a*b*");
    TREE("x magn* y", "(x magn* y)");
    TREE("AND*", "AND*");
    TREE("title:magn*", "title:magn*");
    parsed r = parse("magn*", 5, 1, 0);
    REQUIRE(r.rc == 0);
    CHECK(r.tree->kind == QK_PREFIX);
    CHECK_STR(r.tree->text, "magn");
    CHECK_EQ_U64(r.tree->text_len, 4);
    parsed_free(&r);
}

TEST(phrases_with_ascii_and_typographic_quotes) {
    TREE("\"a b\"", "\"a b\"");
    TREE("\xE2\x80\x9C" "a b" "\xE2\x80\x9D", "\"a b\"");          /* “a b” */
    TREE("\"a b" "\xE2\x80\x9D", "\"a b\"");                        /* "a b” */
    TREE("\xE2\x80\x9D" "a b" "\xE2\x80\x9D", "\"a b\"");          /* ”a b” */
    TREE("x\xE2\x80\x9C" "y z\xE2\x80\x9Dw", "(x \"y z\" w)");
    TREE("\"f(x) AND -y*\"", "\"f(x) AND -y*\"");                   /* raw: no syntax inside */
    TREE("\" spaced \"", "\" spaced \"");
    TREE("\"a\"\"b\"", "(\"a\" \"b\")");
    const char *cafe = "\xE2\x80\x9C" "caf\xC3\xA9 au lait" "\xE2\x80\x9D";
    parsed r = parse(cafe, strlen(cafe), 1, 0);
    REQUIRE(r.rc == 0);
    CHECK(r.tree->kind == QK_PHRASE);
    CHECK_STR(r.tree->text, "caf\xC3\xA9 au lait");
    parsed_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Operators, precedence, flattening                                         */
/* ------------------------------------------------------------------------ */

TEST(and_or_not_precedence_juxtaposition_then_and_not_then_or) {
    TREE("a AND b OR c", "((+a +b) c)");
    TREE("a OR b AND c", "(a (+b +c))");
    TREE("a b AND c d", "(+(a b) +(c d))");
    TREE_ALL("a b AND c d", "(+a +b +c +d)");
    TREE_ALL("a OR b c", "(a (+b +c))");
    TREE("a AND b c OR d", "((+a +(b c)) d)");
    TREE("a NOT b", "(+a -b)");
    TREE("a AND NOT b", "(+a -b)");
    TREE("a NOT b NOT c", "(+a -b -c)");
    TREE("a NOT b c", "(+a -(b c))");
    TREE("NOT a AND b", "(-a +b)");
    TREE("a AND b NOT c OR d NOT e", "((+a +b -c) (+d -e))");
    TREE("a OR b NOT c", "(a (+b -c))");
    TREE("a AND(b OR c)", "(+a +(b c))");
}

TEST(chains_and_equal_nested_bools_are_flattened) {
    TREE("a AND b AND c", "(+a +b +c)");
    TREE("a OR b OR c", "(a b c)");
    TREE("(a AND b) AND c", "(+a +b +c)");
    TREE("a AND (b AND c)", "(+a +b +c)");
    TREE("(a OR b) OR c", "(a b c)");
    TREE("a OR b c", "(a b c)");                  /* any of a, (any of b c) */
    TREE("x (a OR b)", "(x a b)");
    TREE_ALL("x (a OR b)", "(+x +(a b))");        /* one of a b is required: kept */
    TREE("(a OR b) AND c", "(+(a b) +c)");
    TREE("a AND (b OR c)", "(+a +(b c))");
    TREE("a AND -b", "(+a -b)");
    TREE("a AND -b -c", "(+a -b -c)");
    TREE("a AND NOT b -c", "(+a -(b -c))"); /* NOT takes the whole juxtaposition */
    TREE("a AND (b -c)", "(+a +(b -c))");         /* b -c has a SHOULD kid: kept */
    TREE("a AND (+b -c)", "(+a +b -c)");
    TREE("x +(+a -b)", "(x +a -b)");
}

TEST(groups_of_one_clause_are_unwrapped) {
    TREE("(a)", "a");
    TREE("((a b))", "(a b)");
    TREE("(+a)", "a");
    TREE("x ((a))", "(x a)");
    TREE("(((\"a b\")))", "\"a b\"");
    TREE("+(a b)", "(a b)");
}

/* ------------------------------------------------------------------------ */
/* Fields                                                                    */
/* ------------------------------------------------------------------------ */

TEST(title_field_applies_to_every_leaf_below) {
    TREE("title:a", "title:a");
    TREE("title:\"a b\"", "title:\"a b\"");
    TREE("title:(a OR b)", "(title:a title:b)");
    TREE("title:(a -b)", "(title:a -title:b)");
    TREE("title:a b", "(title:a b)");
    TREE("x +title:a", "(x +title:a)");
    TREE("title:title:a", "title:a");
    TREE("title:AND", "title:AND");
    TREE("title:-x", "title:-x");
    TREE("title:(a (b c*))", "(title:a title:b title:c*)");
    parsed r = parse("title:(a OR \"b c\")", 18, 1, 0);
    REQUIRE(r.rc == 0);
    CHECK(r.tree->kind == QK_BOOL);
    CHECK(r.tree->field == QF_TITLE);
    REQUIRE(r.tree->kid_count == 2);
    CHECK(r.tree->kids[0]->field == QF_TITLE && r.tree->kids[0]->kind == QK_WORD);
    CHECK(r.tree->kids[1]->field == QF_TITLE && r.tree->kids[1]->kind == QK_PHRASE);
    parsed_free(&r);
}

/* A path: restricts the BOOL it is in whatever its operator and counts as
 * neither MUST nor SHOULD (searcher/query_eval.c): rewrites must not move
 * it to another BOOL, nor turn optional words into required ones. */
TEST(path_filters_are_never_moved_to_another_bool) {
    TREE("path:x", "path:x");
    TREE("(path:x)", "path:x");
    TREE("a (path:x)", "(a (path:x))");           /* a, or anything in the path */
    TREE("a OR path:x", "(a (path:x))");
    TREE("a (path:x b)", "(a (path:x b))");       /* not (a path:x b): a is not restricted */
    TREE("(a b) path:x", "(a b path:x)");         /* a or b, within the path */
    TREE("a AND path:x", "(+a +path:x)");
    TREE("a AND NOT path:x", "(+a -path:x)");
    TREE("+a -(path:x)", "(+a -path:x)");
    TREE("x +(path:y)", "(x +(path:y))");         /* x optional: the group is a MUST term */
    TREE("x +(+path:y -b)", "(x +(+path:y -b))");
    TREE("x AND (+a +path:y)", "(+x +a +path:y)");
    TREE("x AND (+path:y -b)", "(+x +path:y -b)");
}

TEST(path_field_takes_a_glob) {
    TREE("path:*.md", "path:*.md");
    TREE("a path:docs/*", "(a path:docs/*)");
    TREE("(a path:x)", "(a path:x)");
    TREE("path:\"my notes/*.txt\"", "path:\"my notes/*.txt\"");
    TREE("path:\"*.md\"", "path:*.md");
    /* a glob starting with '(' stays quoted: unquoted it would read as a group */
    TREE("path:\"(ys/t\"", "path:\"(ys/t\"");
    test_failures += round_trips("path:\"(ys/t\"");
    TREE("path:a\"b(c", "path:a\"b(c");
    TREE("-path:*.log a", "(-path:*.log a)");
    TREE("title:(a path:x)", "(title:a path:x)");
    parsed r = parse("path:*.md", 9, 1, 0);
    REQUIRE(r.rc == 0);
    CHECK(r.tree->kind == QK_PATH);
    CHECK(r.tree->field == QF_ANY);
    CHECK_STR(r.tree->text, "*.md");
    parsed_free(&r);
}

TEST(unknown_fields_are_einval_in_strict_and_words_in_lenient) {
    const char *msg = "unknown field 'foo:' (fields are title: and path:)";
    error_is(__LINE__, "foo:bar", 7, 1, LODE_EINVAL, msg);
    error_is(__LINE__, "a foo:\"x y\"", 11, 1, LODE_EINVAL, msg);
    error_is(__LINE__, "foo:(x)", 7, 1, LODE_EINVAL, msg);
    error_is(__LINE__, "Title:x", 7, 1, LODE_EINVAL, "unknown field 'Title:' (fields are title: and path:)");
    LENIENT("foo:bar baz", "(foo:bar baz)", "unknown field 'foo:' at column 1: searched as words");
    LENIENT("a Title:x", "(a Title:x)", "unknown field 'Title:' at column 3: searched as words");
}

/* ------------------------------------------------------------------------ */
/* NEAR                                                                      */
/* ------------------------------------------------------------------------ */

TEST(near_infix_form_and_chains) {
    TREE("a NEAR b", "NEAR(a b, 10)");
    TREE("a NEAR/5 b", "NEAR(a b, 5)");
    TREE("a NEAR/0 b", "NEAR(a b, 0)");
    TREE("a NEAR/1000 b", "NEAR(a b, 1000)");
    TREE("a NEAR/005 b", "NEAR(a b, 5)");
    TREE("a NEAR/5 b NEAR/5 c", "NEAR(a b c, 5)");
    TREE("a NEAR b NEAR/10 c", "NEAR(a b c, 10)");
    TREE("\"a b\" NEAR/3 c*", "NEAR(\"a b\" c*, 3)");
    TREE("title:a NEAR title:\"b c\"", "NEAR(title:a title:\"b c\", 10)");
    TREE("x a NEAR b y", "(x NEAR(a b, 10) y)");
    TREE("+a NEAR b -c", "(+NEAR(a b, 10) -c)");
    TREE("a NEAR b AND c", "(+NEAR(a b, 10) +c)");
    parsed r = parse("a NEAR/7 b", 10, 1, 0);
    REQUIRE(r.rc == 0);
    CHECK(r.tree->kind == QK_NEAR);
    CHECK_EQ_U64(r.tree->distance, 7);
    CHECK_EQ_U64(r.tree->kid_count, 2);
    parsed_free(&r);
}

TEST(near_function_form) {
    TREE("NEAR(a b \"c d\", 5)", "NEAR(a b \"c d\", 5)");
    TREE("NEAR(a b)", "NEAR(a b, 10)");
    TREE("NEAR(a b,5)", "NEAR(a b, 5)");
    TREE("NEAR( a  b , 7 )", "NEAR(a b, 7)");
    TREE("NEAR(\"x y\" z,3)", "NEAR(\"x y\" z, 3)");
    TREE("NEAR(z \"x y\",3)", "NEAR(z \"x y\", 3)");
    TREE("NEAR(a,b c)", "NEAR(a,b c, 10)");       /* a glued comma is part of a word */
    TREE("NEAR(a b,c)", "NEAR(a b,c, 10)");
    TREE("NEAR(a 5,5)", "NEAR(a 5, 5)");
    TREE("NEAR(\"x) y\" z*)", "NEAR(\"x) y\" z*, 10)");
    TREE("NEAR(a title:b)", "NEAR(a title:b, 10)");
    TREE("title:NEAR(a b)", "NEAR(title:a title:b, 10)");
    TREE("x -NEAR(a b, 3)", "(x -NEAR(a b, 3))");
    TREE("NEAR(x y)z", "(NEAR(x y, 10) z)");
}

/* ------------------------------------------------------------------------ */
/* Strict errors                                                             */
/* ------------------------------------------------------------------------ */

TEST(strict_errors_have_exact_messages_and_columns) {
    SYNTAX("a (b", 3, "unbalanced '('");
    SYNTAX("(a (b c)", 1, "unbalanced '('");
    SYNTAX("a (b (c", 6, "unbalanced '('");
    SYNTAX("a b)", 4, "unbalanced ')'");
    SYNTAX(")", 1, "unbalanced ')'");
    SYNTAX("(a))", 4, "unbalanced ')'");
    SYNTAX("a \"b c", 3, "unbalanced '\"'");
    SYNTAX("a \xE2\x80\x9C" "b c", 3, "unbalanced '\"'");
    SYNTAX("a + b", 3, "'+' not followed by a word");
    SYNTAX("a -", 3, "'-' not followed by a word");
    SYNTAX("(a -)", 4, "'-' not followed by a word");
    SYNTAX("+-a", 1, "'+' not followed by a word");
    SYNTAX("-AND a", 1, "'-' not followed by a word");
    SYNTAX("a AND", 3, "nothing after AND");
    SYNTAX("a OR", 3, "nothing after OR");
    SYNTAX("a NOT", 3, "nothing after NOT");
    SYNTAX("NOT", 1, "nothing after NOT");
    SYNTAX("(a AND) b", 4, "nothing after AND");
    SYNTAX("OR a", 1, "nothing before OR");
    SYNTAX("AND a", 1, "nothing before AND");
    SYNTAX("(AND a)", 2, "nothing before AND");
    SYNTAX("a AND OR b", 7, "OR after AND");
    SYNTAX("a OR AND b", 6, "AND after OR");
    SYNTAX("a AND NOT NOT b", 11, "NOT after NOT");
    SYNTAX("()", 1, "empty parentheses");
    SYNTAX("a ( ) b", 3, "empty parentheses");
    SYNTAX("\"\"", 1, "empty phrase");
    SYNTAX("a \"  \"", 3, "empty phrase");
    SYNTAX("*", 1, "'*' without a prefix before it");
    SYNTAX("a **", 3, "'*' without a prefix before it");
    SYNTAX("title:*", 7, "'*' without a prefix before it");
    SYNTAX("title:", 1, "title: with nothing after it");
    SYNTAX("a title: b", 3, "title: with nothing after it");
    SYNTAX("(title:)", 2, "title: with nothing after it");
    SYNTAX("path:", 1, "path: with nothing after it");
    SYNTAX("a path:\"\"", 3, "path: with nothing after it");
    SYNTAX("path:(a)", 1, "path: takes a glob, not a group");
    SYNTAX("path:\"a b", 6, "unbalanced '\"'");
}

TEST(strict_near_errors) {
    SYNTAX("NEAR(a)", 1, "NEAR needs two or more words or phrases");
    SYNTAX("x NEAR()", 3, "NEAR needs two or more words or phrases");
    SYNTAX("NEAR(a b", 5, "unbalanced '('");
    SYNTAX("NEAR(a \"b)", 8, "unbalanced '\"'");
    SYNTAX("NEAR(\"a\" \"b)", 10, "unbalanced '\"'");
    SYNTAX("a NEAR", 3, "nothing after NEAR");
    SYNTAX("(a NEAR/5)", 4, "nothing after NEAR");
    SYNTAX("NEAR a", 1, "nothing before NEAR");
    SYNTAX("a OR NEAR b", 6, "NEAR after OR");
    SYNTAX("a NEAR AND b", 8, "AND after NEAR");
    SYNTAX("a NEAR/x b", 8, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("a NEAR/ b", 8, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("a NEAR/1001 b", 8, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("a NEAR/99999999999999999999 b", 8, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("NEAR(a b, x)", 11, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("NEAR(a b,)", 10, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("NEAR(a b, 5 6)", 11, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("NEAR(a b, 1001)", 11, "bad NEAR distance (a number from 0 to 1000)");
    SYNTAX("a NEAR/5 b NEAR/3 c", 12, "mixed NEAR distances");
    SYNTAX("a NEAR b NEAR/3 c", 10, "mixed NEAR distances");
    SYNTAX("(a b) NEAR c", 7, "NEAR needs a word, phrase or prefix on each side");
    SYNTAX("a NEAR (b)", 8, "NEAR needs a word, phrase or prefix on each side");
    SYNTAX("a NEAR -b", 8, "NEAR needs a word, phrase or prefix on each side");
    SYNTAX("a NEAR path:x", 8, "NEAR needs a word, phrase or prefix on each side");
    SYNTAX("NEAR(a b) NEAR c", 11, "NEAR needs a word, phrase or prefix on each side");
    SYNTAX("NEAR(a (b) c)", 8, "NEAR(...) takes only words, phrases and prefixes");
    SYNTAX("NEAR(a -b)", 8, "NEAR(...) takes only words, phrases and prefixes");
    SYNTAX("NEAR(a AND b)", 8, "NEAR(...) takes only words, phrases and prefixes");
    SYNTAX("NEAR(a path:x)", 8, "NEAR(...) takes only words, phrases and prefixes");
    SYNTAX("NEAR(a NEAR(b c))", 8, "NEAR(...) takes only words, phrases and prefixes");
}

TEST(columns_count_characters_not_bytes) {
    SYNTAX("h\xC3\xA9llo (", 7, "unbalanced '('");                      /* héllo ( */
    SYNTAX("\xE6\x97\xA5\xE6\x9C\xAC )", 4, "unbalanced ')'");          /* 日本 ) */
    SYNTAX("\xF0\x9F\x98\x80 \"x", 3, "unbalanced '\"'");                /* 😀 "x */
    SYNTAX("\xE2\x80\x9C" "a\xE2\x80\x9D (", 5, "unbalanced '('");       /* “a” ( */
    SYNTAX("\xFF\xFE (", 4, "unbalanced '('");                           /* invalid bytes count once each */
    SYNTAX("\xE2\x80 (", 4, "unbalanced '('");                           /* truncated sequence: two bytes */
    SYNTAX("\xC3\xA9\xC2\xA0-", 3, "'-' not followed by a word");       /* é, no-break space, - */
}

/* ------------------------------------------------------------------------ */
/* Lenient mode                                                              */
/* ------------------------------------------------------------------------ */

TEST(lenient_mode_reads_invalid_syntax_as_words_with_a_note) {
    LENIENT("a (b", "(a b)", "unbalanced '(' at column 3: searched as words");
    lenient_is(__LINE__, "a (b", 1, "(+a +b)", "unbalanced '(' at column 3: searched as words");
    LENIENT("(a", "a", "unbalanced '(' at column 1: searched as words");
    LENIENT("\"a b", "(a b)", "unbalanced '\"' at column 1: searched as words");
    LENIENT("a + b", "(a b)", "'+' not followed by a word at column 3: searched as words");
    LENIENT("+a -b* \"c", "(a b c)", "unbalanced '\"' at column 8: searched as words");
    LENIENT("c* AND", "(c AND)", "nothing after AND at column 4: searched as words");
    LENIENT("f(x) )", "(f x)", "unbalanced ')' at column 6: searched as words");
    LENIENT("a NEAR/9999 b", "(a NEAR/9999 b)", "bad NEAR distance (a number from 0 to 1000) at column 8: searched as words");
    LENIENT("h\xC3\xA9llo (", "h\xC3\xA9llo", "unbalanced '(' at column 7: searched as words");
    LENIENT("5-HTP (", "5-HTP", "unbalanced '(' at column 7: searched as words");
    parsed r = parse("x \xE2\x80\x9Cy z", 8, 0, 0);
    REQUIRE(r.rc == 0);
    REQUIRE(r.tree->kind == QK_BOOL && r.tree->kid_count == 3);
    CHECK(r.tree->kids[2]->kind == QK_WORD);
    CHECK_EQ_U64(r.tree->kids[2]->column, 6);
    parsed_free(&r);
}

TEST(lenient_mode_with_valid_syntax_has_no_note) {
    const char *qs[] = {"a b", "\"a b\" c*", "a NEAR b", "title:(a OR b) path:x", "a AND NOT b"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        parsed r = parse(qs[i], strlen(qs[i]), 0, 0);
        CHECK(r.rc == 0);
        CHECK(r.note == NULL);
        parsed_free(&r);
    }
    /* NULL note pointer is allowed */
    qnode *t = NULL;
    CHECK(query_parse(&t, "a (", 3, 0, 0, NULL, NULL) == 0);
    CHECK(t != NULL);
    qnode_free(t);
}

/* ------------------------------------------------------------------------ */
/* Refused queries                                                           */
/* ------------------------------------------------------------------------ */

TEST(only_exclusions_are_refused_in_both_modes) {
    ERROR_BOTH("-a", LODE_EINVAL, "the query only excludes words (-a); add a word to search for");
    ERROR_BOTH("NOT a", LODE_EINVAL, "the query only excludes words (-a); add a word to search for");
    ERROR_BOTH("-a -b", LODE_EINVAL, "the query only excludes words (-a -b); add a word to search for");
    ERROR_BOTH("NOT (a b)", LODE_EINVAL, "the query only excludes words (-(a b)); add a word to search for");
    ERROR_BOTH("-path:x", LODE_EINVAL, "the query only excludes words (-path:x); add a word to search for");
    ERROR_BOTH("x OR -a", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    ERROR_BOTH("x (NOT a)", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    /* a group in parentheses that only excludes is refused wherever it is */
    ERROR_BOTH("(-a)", LODE_EINVAL, "the query only excludes words (-a); add a word to search for");
    ERROR_BOTH(" ( -a -b ) ", LODE_EINVAL, "the query only excludes words (-a -b); add a word to search for");
    ERROR_BOTH("a AND (NOT b)", LODE_EINVAL,
               "a part of the query only excludes words (-b); add a word to search for in it");
    ERROR_BOTH("x +(-a -b)", LODE_EINVAL,
               "a part of the query only excludes words (-a -b); add a word to search for in it");
    ERROR_BOTH("((-a))", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    ERROR_BOTH("x -(-a)", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    ERROR_BOTH("x OR NOT a", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    /* the error wins over a later syntax error, in lenient mode too */
    ERROR_BOTH("x (-a) (", LODE_EINVAL,
               "a part of the query only excludes words (-a); add a word to search for in it");
    TREE("x -a", "(x -a)");
    TREE("a AND -b", "(+a -b)");
    TREE("x -(a -b)", "(x -(a -b))");
}

TEST(empty_queries_are_refused_in_both_modes) {
    ERROR_BOTH("", LODE_EINVAL, "empty query");
    ERROR_BOTH("   ", LODE_EINVAL, "empty query");
    ERROR_BOTH("\t\n\r ", LODE_EINVAL, "empty query");
    ERROR_BOTH("\xE3\x80\x80\xC2\xA0", LODE_EINVAL, "empty query");
    /* syntax only: an error in strict mode, nothing left in lenient mode */
    error_is(__LINE__, "()", 2, 0, LODE_EINVAL, "empty query");
    error_is(__LINE__, "+ - * \"\"", 8, 0, LODE_EINVAL, "empty query");
    error_is(__LINE__, "a\0b", 3, 1, LODE_EINVAL, "the query contains a NUL byte");
    error_is(__LINE__, "a\0b", 3, 0, LODE_EINVAL, "the query contains a NUL byte");
    qnode *t = (qnode *)1;
    CHECK(query_parse(&t, NULL, 0, 1, 0, NULL, NULL) == LODE_EINVAL);
    CHECK(t == NULL);
}

TEST(words_that_analyse_to_nothing_are_left_to_the_evaluator) {
    TREE("?", "?");
    TREE("title:+", "title:+");
    TREE("... \xE2\x80\xA6 x", "(... \xE2\x80\xA6 x)");
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

TEST(queries_longer_than_the_byte_limit_are_elimit) {
    size_t n = LODE_MAX_QUERY_BYTES + 1;
    char *q = malloc(n + 1);
    REQUIRE(q);
    memset(q, 'a', n);
    q[n] = '\0';
    error_is(__LINE__, "", 0, 1, LODE_EINVAL, "empty query");
    parsed r = parse(q, n, 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    CHECK(strstr(r.err.message, "8192") != NULL);
    parsed_free(&r);
    r = parse(q, n, 0, 0);
    CHECK(r.rc == LODE_ELIMIT);
    parsed_free(&r);
    r = parse(q, n - 1, 1, 0); /* exactly the limit: one long word */
    CHECK(r.rc == 0);
    parsed_free(&r);
    free(q);
}

TEST(queries_with_more_leaves_than_the_term_limit_are_elimit) {
    char q[LODE_MAX_QUERY_TERMS * 2 + 8];
    size_t n = 0;
    for (int i = 0; i < LODE_MAX_QUERY_TERMS; i++) {
        q[n++] = 'a';
        q[n++] = ' ';
    }
    parsed r = parse(q, n, 1, 0);
    CHECK(r.rc == 0);
    CHECK(r.tree && r.tree->kid_count == LODE_MAX_QUERY_TERMS);
    parsed_free(&r);
    q[n++] = 'b';
    q[n] = '\0';
    for (int strict = 0; strict <= 1; strict++) {
        r = parse(q, n, strict, 0);
        CHECK(r.rc == LODE_ELIMIT);
        CHECK_STR(r.err.message, "the query has more than 256 terms");
        parsed_free(&r);
    }
    /* the lenient fallback counts its words too: ')' fails at once */
    char q2[sizeof q + 2];
    q2[0] = ')';
    q2[1] = ' ';
    memcpy(q2 + 2, q, n + 1);
    r = parse(q2, n + 2, 1, 0);
    CHECK(r.rc == LODE_ESYNTAX);
    parsed_free(&r);
    r = parse(q2, n + 2, 0, 0);
    CHECK(r.rc == LODE_ELIMIT);
    CHECK_STR(r.err.message, "the query has more than 256 terms");
    parsed_free(&r);
}

static char *nested(int depth, const char *inner) {
    size_t n = strlen(inner);
    char *q = malloc(2 * (size_t)depth + n + 1);
    if (!q) return NULL;
    memset(q, '(', (size_t)depth);
    memcpy(q + depth, inner, n);
    memset(q + depth + n, ')', (size_t)depth);
    q[2 * depth + n] = '\0';
    return q;
}

TEST(deep_nesting_is_elimit_in_strict_and_words_in_lenient_without_overflow) {
    char *q = nested(1000, "a");
    REQUIRE(q);
    parsed r = parse(q, strlen(q), 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    CHECK_STR(r.err.message, "query nesting deeper than 32 levels at column 33");
    parsed_free(&r);
    r = parse(q, strlen(q), 0, 0);
    CHECK(r.rc == 0);
    CHECK_STR(r.text, "a");
    CHECK_STR(r.note, "nesting deeper than 32 levels at column 33: searched as words");
    parsed_free(&r);
    q[1001] = '\0'; /* 1000 '(' and a, unbalanced: the depth is met first */
    r = parse(q, strlen(q), 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    parsed_free(&r);
    r = parse(q, strlen(q), 0, 0);
    CHECK(r.rc == 0 && r.note != NULL);
    parsed_free(&r);
    free(q);

    q = nested(LODE_MAX_QUERY_DEPTH, "a b");
    REQUIRE(q);
    r = parse(q, strlen(q), 1, 0);
    CHECK(r.rc == 0);
    CHECK_STR(r.text, "(a b)");
    parsed_free(&r);
    free(q);
    q = nested(LODE_MAX_QUERY_DEPTH + 1, "a b");
    REQUIRE(q);
    r = parse(q, strlen(q), 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    parsed_free(&r);
    free(q);
}

/* w0 AND (w1 OR (w2 AND (... (z)))): each group is one more BOOL level,
 * none can be merged, so `levels` groups make a tree levels + 1 deep. */
static size_t alternating(char *q, size_t cap, int levels) {
    size_t n = 0;
    for (int i = 0; i < levels; i++) n += (size_t)snprintf(q + n, cap - n, "w%d %s (", i, i % 2 ? "OR" : "AND");
    n += (size_t)snprintf(q + n, cap - n, "z");
    for (int i = 0; i < levels; i++) q[n++] = ')';
    q[n] = '\0';
    return n;
}

TEST(deep_trees_from_operators_are_elimit_too) {
    char q[2048];
    /* 31 groups: a tree exactly LODE_MAX_QUERY_DEPTH deep */
    size_t n = alternating(q, sizeof q, LODE_MAX_QUERY_DEPTH - 1);
    parsed r = parse(q, n, 1, 0);
    CHECK(r.rc == 0);
    if (r.rc == 0) test_failures += round_trips(r.text);
    parsed_free(&r);
    /* 32 groups: within the group limit, but the tree is one level too deep */
    n = alternating(q, sizeof q, LODE_MAX_QUERY_DEPTH);
    r = parse(q, n, 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    CHECK(strstr(r.err.message, "nesting deeper than 32 levels") != NULL);
    parsed_free(&r);
    r = parse(q, n, 0, 0);
    CHECK(r.rc == 0 && r.note != NULL && r.tree->kind == QK_BOOL);
    CHECK(r.note && strstr(r.note, "searched as words") != NULL);
    parsed_free(&r);
    /* 40 groups: the group limit stops the parser itself */
    n = alternating(q, sizeof q, 40);
    r = parse(q, n, 1, 0);
    CHECK(r.rc == LODE_ELIMIT);
    parsed_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Node details                                                              */
/* ------------------------------------------------------------------------ */

TEST(nodes_carry_their_columns_and_root_occur) {
    parsed r = parse("\xC3\xA9t\xC3\xA9 +title:b (c d) NEAR(x y)", 30, 1, 0);
    REQUIRE(r.rc == 0);
    CHECK_STR(r.text, "(\xC3\xA9t\xC3\xA9 +title:b (c d) NEAR(x y, 10))");
    REQUIRE(r.tree->kind == QK_BOOL && r.tree->kid_count == 4);
    CHECK(r.tree->occur == QO_SHOULD);
    CHECK_EQ_U64(r.tree->kids[0]->column, 1);
    CHECK_EQ_U64(r.tree->kids[1]->column, 6); /* title:b starts after the '+' */
    CHECK(r.tree->kids[1]->occur == QO_MUST && r.tree->kids[1]->field == QF_TITLE);
    CHECK_EQ_U64(r.tree->kids[2]->column, 14); /* a group starts at its '(' */
    CHECK(r.tree->kids[2]->kind == QK_BOOL);
    CHECK_EQ_U64(r.tree->kids[2]->kids[1]->column, 17);
    CHECK_EQ_U64(r.tree->kids[3]->column, 20);
    CHECK(r.tree->kids[3]->kind == QK_NEAR);
    parsed_free(&r);
    char *f = qnode_format(NULL);
    CHECK(f == NULL);
    qnode_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Round trip and randomized invariants                                      */
/* ------------------------------------------------------------------------ */

/* Characters of s as the parser counts them, computed independently: a
 * valid UTF-8 sequence is one, every other byte is one. */
static size_t count_chars(const unsigned char *s, size_t n) {
    size_t i = 0, chars = 0;
    while (i < n) {
        size_t len = 1;
        unsigned b = s[i];
        if (b >= 0xC2 && b <= 0xF4) {
            size_t want = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            unsigned lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
            unsigned hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
            int ok = i + want <= n;
            for (size_t k = 1; ok && k < want; k++) {
                unsigned c = s[i + k];
                if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) ok = 0;
            }
            if (ok) len = want;
        }
        i += len;
        chars++;
    }
    return chars;
}

TEST(formats_of_every_construct_round_trip) {
    const char *qs[] = {
        "a b", "+a -b c", "a AND b OR c", "a b AND c d", "a NOT b c", "x (a OR b)", "title:(a OR b) c",
        "path:\"my notes/*\" x", "path:a\"b", "a NEAR/5 b NEAR/5 c", "NEAR(a,b c, 3)", "NEAR(x title:NEAR y)",
        "title:NEAR(a b)", "\"f(x) , y\" NEAR z", "magn* title:x*", "title:-x title:AND", "5-HTP e-mail",
        "x +(a b) -(c d)", "(a -b) OR (c +d)", "\xE2\x80\x9C" "a b\xE2\x80\x9D" " c", "a NEAR b,5",
        "NEAR(b,5 c)", "title:path:x", "foo: x", "NEAR(a foo:, 2)", "a (path:x)", "x +(path:y)",
        "(a b) path:x", "x AND (+path:y -b)", "a AND NOT path:x", "NEAR(a b, , 5)", "NEAR(a b\xC2\xA0,x)",
    };
    for (int aw = 0; aw <= 1; aw++)
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            parsed r = parse(qs[i], strlen(qs[i]), 1, aw);
            if (r.rc) {
                fprintf(stderr, "  [%s]: %s\n", qs[i], r.err.message);
                test_failures++;
            } else {
                test_failures += round_trips(r.text);
            }
            parsed_free(&r);
        }
}

static const char *const PIECES[] = {
    "a", "b", "word", "5-HTP", "what's", "10:30", "http://x", "and", "AND", "OR", "NOT", "NEAR", "NEAR/3",
    "NEAR/x", "NEAR/2000", "NEAR(", "(", ")", "(", ")", "\"", "\"", "\xE2\x80\x9C", "\xE2\x80\x9D", "+", "-", "*",
    "title:", "path:", "foo:", "x:", ",", ", 5", ",2)", "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\xFF",
    "\xE2\x80", "\xC3", "\xC2\xA0", " ", " ", " ", "  ", "\t", "magn*", "a*b", "C:\\x", "?", "'",
};

static void random_query(uint64_t *seed, char *q, size_t cap, size_t *len) {
    size_t pieces = 1 + test_rand(seed) % 16, n = 0;
    for (size_t i = 0; i < pieces; i++) {
        const char *p = PIECES[test_rand(seed) % (sizeof PIECES / sizeof PIECES[0])];
        size_t m = strlen(p);
        if (n + m >= cap) break;
        memcpy(q + n, p, m);
        n += m;
    }
    q[n] = '\0';
    *len = n;
}

/* A lenient fallback tree: one WORD, or a BOOL of WORDs in the default
 * operator, no word holding whitespace, quotes or parentheses. */
static int fallback_shape_ok(const qnode *t, int all_words) {
    const qnode *const *v = &t;
    uint32_t n = 1;
    if (t->kind == QK_BOOL) {
        v = (const qnode *const *)t->kids;
        n = t->kid_count;
        if (n < 2) return 0;
        for (uint32_t i = 0; i < n; i++)
            if (v[i]->occur != (all_words ? QO_MUST : QO_SHOULD)) return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *w = v[i]->text;
        if (v[i]->kind != QK_WORD || v[i]->field != QF_ANY || !w || !*w) return 0;
        if (strpbrk(w, " \t\"()") || strstr(w, "\xE2\x80\x9C") || strstr(w, "\xE2\x80\x9D")) return 0;
        if (w[0] == '+' || w[0] == '-' || w[strlen(w) - 1] == '*') return 0;
    }
    return 1;
}

TEST(random_queries_keep_every_invariant) {
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char q[512];
    size_t len, ok_strict = 0, fallbacks = 0, bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        random_query(&seed, q, sizeof q, &len);
        size_t chars = count_chars((const unsigned char *)q, len);
        for (int aw = 0; aw <= 1; aw++) {
            parsed s = parse(q, len, 1, aw);
            parsed l = parse(q, len, 0, aw);
            int this_bad = 0;
            if (s.rc == 0) {
                ok_strict++;
                if (!s.text || s.note) this_bad = 1;
                else this_bad |= round_trips(s.text);
                /* lenient agrees with strict on valid syntax */
                if (l.rc != 0 || l.note || !l.text || strcmp(l.text, s.text)) this_bad = 1;
            } else {
                if (s.rc != LODE_ESYNTAX && s.rc != LODE_EINVAL && s.rc != LODE_ELIMIT) this_bad = 1;
                if (s.rc == LODE_ESYNTAX) {
                    char prefix[64];
                    snprintf(prefix, sizeof prefix, "syntax error at column %u: ", s.err.column);
                    if (s.err.column < 1 || s.err.column > chars + 1) this_bad = 1;
                    if (strncmp(s.err.message, prefix, strlen(prefix))) this_bad = 1;
                }
                if (l.rc == 0) {
                    if (s.rc == LODE_ESYNTAX) {
                        fallbacks++;
                        if (!l.note || !fallback_shape_ok(l.tree, aw)) this_bad = 1;
                    }
                } else if (l.rc != LODE_EINVAL && l.rc != LODE_ELIMIT) {
                    this_bad = 1;
                }
            }
            if (this_bad) {
                if (bad < 10)
                    fprintf(stderr, "  [%s] aw=%d: strict %d %s / lenient %d %s note %s\n", q, aw, s.rc,
                            s.rc ? s.err.message : s.text, l.rc, l.rc ? l.err.message : l.text,
                            l.note ? l.note : "-");
                bad++;
            }
            parsed_free(&s);
            parsed_free(&l);
        }
    }
    CHECK_EQ_U64(bad, 0);
    /* the alphabet exercises both outcomes */
    CHECK(ok_strict > 2000);
    CHECK(fallbacks > 2000);
}


TEST_MAIN(TEST_CASE(juxtaposed_words_are_should_kids_or_must_with_all_words),
          TEST_CASE(plus_and_minus_start_a_clause_as_modifiers),
          TEST_CASE(hyphen_and_plus_inside_a_word_are_part_of_it),
          TEST_CASE(apostrophes_colons_and_urls_are_words),
          TEST_CASE(lowercase_and_mixed_case_operators_are_words),
          TEST_CASE(a_trailing_star_makes_a_prefix),
          TEST_CASE(phrases_with_ascii_and_typographic_quotes),
          TEST_CASE(and_or_not_precedence_juxtaposition_then_and_not_then_or),
          TEST_CASE(chains_and_equal_nested_bools_are_flattened),
          TEST_CASE(groups_of_one_clause_are_unwrapped),
          TEST_CASE(title_field_applies_to_every_leaf_below),
          TEST_CASE(path_filters_are_never_moved_to_another_bool),
          TEST_CASE(path_field_takes_a_glob),
          TEST_CASE(unknown_fields_are_einval_in_strict_and_words_in_lenient),
          TEST_CASE(near_infix_form_and_chains),
          TEST_CASE(near_function_form),
          TEST_CASE(strict_errors_have_exact_messages_and_columns),
          TEST_CASE(strict_near_errors),
          TEST_CASE(columns_count_characters_not_bytes),
          TEST_CASE(lenient_mode_reads_invalid_syntax_as_words_with_a_note),
          TEST_CASE(lenient_mode_with_valid_syntax_has_no_note),
          TEST_CASE(only_exclusions_are_refused_in_both_modes),
          TEST_CASE(empty_queries_are_refused_in_both_modes),
          TEST_CASE(words_that_analyse_to_nothing_are_left_to_the_evaluator),
          TEST_CASE(queries_longer_than_the_byte_limit_are_elimit),
          TEST_CASE(queries_with_more_leaves_than_the_term_limit_are_elimit),
          TEST_CASE(deep_nesting_is_elimit_in_strict_and_words_in_lenient_without_overflow),
          TEST_CASE(deep_trees_from_operators_are_elimit_too),
          TEST_CASE(nodes_carry_their_columns_and_root_occur),
          TEST_CASE(formats_of_every_construct_round_trip),
          TEST_CASE(random_queries_keep_every_invariant))
