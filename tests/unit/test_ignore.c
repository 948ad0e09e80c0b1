/*
 * test_ignore.c - the gitignore subset of ignore.c: parsing (comments,
 * blank lines, trailing spaces, escapes, CRLF, byte-order mark), what each
 * kind of pattern matches (names at any depth, anchored paths, folders
 * only, "**" in every position, negation, later rules winning), globs given
 * by the caller, and a pathological pattern that must not take exponential
 * time. The walk that applies the rules is tested in test_sources.c.
 */
#include <time.h>

#include "indexer.h"
#include "test.h"

/* Rules from `text`; the caller frees them. */
static ignore_rules rules_of(const char *text) {
    ignore_rules r;
    if (ignore_rules_init(&r, "dir/.gitignore") || ignore_rules_parse(&r, text, strlen(text))) abort();
    return r;
}

/* 1 excluded, 0 no rule, -1 re-included by a negated rule */
static int verdict(const ignore_rules *r, const char *path, int is_dir) {
    const ignore_rule *m = ignore_rules_match(r, path, is_dir);
    return !m ? 0 : m->negated ? -1 : 1;
}

#define FILE_ 0
#define DIR_ 1

TEST(comments_blank_lines_and_trailing_spaces_are_not_rules) {
    /* a line of spaces is blank once its trailing spaces are cut */
    ignore_rules r = rules_of("# a comment\n\n*.log   \nkeep\\ \n   \n#\n");
    CHECK_EQ_U64(r.count, 2);
    CHECK_STR(r.rules[0].text, "*.log");
    CHECK_EQ_U64(r.rules[0].line, 3);
    CHECK_STR(r.rules[1].text, "keep\\ ");
    CHECK_EQ_U64(r.rules[1].line, 4);
    CHECK_EQ_U64(verdict(&r, "x.log", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "x.log   ", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "keep ", FILE_), 1); /* the escaped space stays */
    CHECK_EQ_U64(verdict(&r, "keep", FILE_), 0);
    CHECK_STR(r.source, "dir/.gitignore");
    ignore_rules_free(&r);
}

TEST(escapes_start_patterns_with_hash_and_bang) {
    ignore_rules r = rules_of("\\#notes\n\\!important\n");
    CHECK_EQ_U64(r.count, 2);
    CHECK_EQ_U64(verdict(&r, "#notes", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "!important", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "important", FILE_), 0);
    ignore_rules_free(&r);
}

TEST(crlf_and_byte_order_mark_are_not_part_of_patterns) {
    ignore_rules r = rules_of("\xef\xbb\xbf*.tmp\r\nbuild/\r\n");
    CHECK_EQ_U64(r.count, 2);
    CHECK_EQ_U64(verdict(&r, "a.tmp", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "build", DIR_), 1);
    ignore_rules_free(&r);
    /* no newline at the end */
    r = rules_of("*.tmp");
    CHECK_EQ_U64(verdict(&r, "a.tmp", FILE_), 1);
    ignore_rules_free(&r);
}

TEST(a_name_pattern_matches_at_any_depth) {
    ignore_rules r = rules_of("*.o\nnode_modules\n");
    CHECK_EQ_U64(verdict(&r, "a.o", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "src/deep/a.o", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a.c", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "a.o.c", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "x/node_modules", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "node_modules", FILE_), 1); /* files too: no trailing '/' */
    CHECK(!r.rules[0].anchored);
    ignore_rules_free(&r);
}

TEST(a_leading_or_middle_slash_anchors_to_the_folder) {
    ignore_rules r = rules_of("/top.txt\ndoc/*.html\n");
    CHECK(r.rules[0].anchored && r.rules[1].anchored);
    CHECK_EQ_U64(verdict(&r, "top.txt", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "sub/top.txt", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "doc/a.html", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "x/doc/a.html", FILE_), 0);
    /* '*' never crosses a '/' */
    CHECK_EQ_U64(verdict(&r, "doc/sub/a.html", FILE_), 0);
    ignore_rules_free(&r);
}

TEST(a_trailing_slash_matches_folders_only) {
    ignore_rules r = rules_of("build/\nout/tmp/\n");
    CHECK(!r.rules[0].anchored); /* a trailing '/' does not anchor */
    CHECK(r.rules[1].anchored);
    CHECK_EQ_U64(verdict(&r, "build", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "a/build", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "build", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "out/tmp", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "out/tmp", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "x/out/tmp", DIR_), 0);
    ignore_rules_free(&r);
}

TEST(double_star_in_every_position) {
    ignore_rules r = rules_of("**/cache\n");
    CHECK_EQ_U64(verdict(&r, "cache", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "a/b/cache", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/b/cache2", FILE_), 0);
    ignore_rules_free(&r);

    r = rules_of("logs/**\n");
    CHECK_EQ_U64(verdict(&r, "logs", DIR_), 0); /* the folder itself is not matched */
    CHECK_EQ_U64(verdict(&r, "logs/a", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "logs/a/b/c", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "x/logs/a", FILE_), 0);
    ignore_rules_free(&r);

    r = rules_of("a/**/b\n");
    CHECK_EQ_U64(verdict(&r, "a/b", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/x/b", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/x/y/z/b", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/x/y/z/c", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "a/x/b/c", FILE_), 0);
    ignore_rules_free(&r);

    /* backtracking: the first "b" is not the one that completes the match */
    r = rules_of("a/**/b/c\n");
    CHECK_EQ_U64(verdict(&r, "a/b/x/b/c", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/b/x/b/d", FILE_), 0);
    ignore_rules_free(&r);

    /* "**" inside a name is an ordinary '*': it does not cross '/' */
    r = rules_of("/foo**bar\n");
    CHECK_EQ_U64(verdict(&r, "fooXbar", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "foo/bar", FILE_), 0);
    ignore_rules_free(&r);

    /* "**" alone: everything */
    r = rules_of("**\n");
    CHECK_EQ_U64(verdict(&r, "a", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "a/b", DIR_), 1);
    ignore_rules_free(&r);
}

TEST(negation_re_includes_and_later_rules_win) {
    ignore_rules r = rules_of("*.log\n!keep.log\n");
    CHECK_EQ_U64(verdict(&r, "a.log", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "keep.log", FILE_), (uint64_t)-1);
    CHECK_EQ_U64(verdict(&r, "sub/keep.log", FILE_), (uint64_t)-1);
    ignore_rules_free(&r);
    /* the other order: the exclusion comes last and wins */
    r = rules_of("!keep.log\n*.log\n");
    CHECK_EQ_U64(verdict(&r, "keep.log", FILE_), 1);
    const ignore_rule *m = ignore_rules_match(&r, "keep.log", 0);
    REQUIRE(m != NULL);
    CHECK_EQ_U64(m->line, 2);
    CHECK_STR(m->text, "*.log");
    ignore_rules_free(&r);
    r = rules_of("!keep.log\n");
    CHECK_STR(r.rules[0].text, "!keep.log");
    ignore_rules_free(&r);
}

TEST(brackets_question_marks_and_classes) {
    ignore_rules r = rules_of("file[0-9].txt\n[!a]?.md\n*.[[:upper:]]\n");
    CHECK_EQ_U64(verdict(&r, "file7.txt", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "fileA.txt", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "bx.md", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "ax.md", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "bxx.md", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "x.C", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "x.c", FILE_), 0);
    ignore_rules_free(&r);
    /* matching is case-sensitive, as git's default */
    r = rules_of("README\n");
    CHECK_EQ_U64(verdict(&r, "readme", FILE_), 0);
    ignore_rules_free(&r);
    /* leading dots are matched by '*' (git does not treat them specially) */
    r = rules_of("*\n");
    CHECK_EQ_U64(verdict(&r, ".hidden", FILE_), 1);
    ignore_rules_free(&r);
}

TEST(patterns_with_nothing_left_add_no_rule) {
    ignore_rules r = rules_of("/\n!\n//\n!/\na//b\n");
    CHECK_EQ_U64(r.count, 1);
    CHECK_EQ_U64(verdict(&r, "a/b", FILE_), 1); /* "a//b" is "a/b" */
    ignore_rules_free(&r);
    CHECK(ignore_rules_match(NULL, "x", 0) == NULL);
}

TEST(globs_are_taken_literally) {
    ignore_rules r;
    REQUIRE(ignore_rules_init(&r, NULL) == 0);
    lode_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "#x", &err), 0);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "!y", &err), 0);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "docs/*.md", &err), 0);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "tmp/", &err), 0);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "", &err), (uint64_t)LODE_EINVAL);
    CHECK_EQ_U64(ignore_rules_add_glob(&r, "//", &err), (uint64_t)LODE_EINVAL);
    CHECK(strstr(err.message, "glob") != NULL);
    CHECK_EQ_U64(r.count, 4);
    CHECK(r.source == NULL);
    CHECK_EQ_U64(verdict(&r, "a/#x", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "!y", FILE_), 1); /* not a negation */
    CHECK_EQ_U64(verdict(&r, "docs/a.md", FILE_), 1);
    CHECK_EQ_U64(verdict(&r, "x/docs/a.md", FILE_), 0);
    CHECK_EQ_U64(verdict(&r, "a/tmp", DIR_), 1);
    CHECK_EQ_U64(verdict(&r, "a/tmp", FILE_), 0);
    CHECK_EQ_U64(r.rules[0].line, 0);
    ignore_rules_free(&r);
    ignore_rules_free(&r); /* freeing twice is harmless: the first free zeroes */
}

TEST(many_double_stars_take_polynomial_time) {
    /* a pattern that is exponential for naive backtracking */
    ignore_rules r = rules_of("**/a/**/a/**/a/**/a/**/a/**/a/**/a/**/b\n");
    char path[2 * 400 + 2];
    size_t n = 0;
    for (int i = 0; i < 400; i++) {
        path[n++] = 'a';
        path[n++] = '/';
    }
    path[n++] = 'c';
    path[n] = '\0';
    clock_t t0 = clock();
    CHECK_EQ_U64(verdict(&r, path, FILE_), 0);
    path[n - 1] = 'b';
    CHECK_EQ_U64(verdict(&r, path, FILE_), 1);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 1.0);
    ignore_rules_free(&r);
}

TEST(very_long_names_do_not_match_glob_segments) {
    ignore_rules r = rules_of("*.txt\n");
    char name[3000];
    memset(name, 'x', sizeof name);
    memcpy(name + sizeof name - 5, ".txt", 5);
    /* longer than any real file name: compared safely, and not matched */
    CHECK_EQ_U64(verdict(&r, name, FILE_), 0);
    ignore_rules_free(&r);
}

TEST_MAIN(TEST_CASE(comments_blank_lines_and_trailing_spaces_are_not_rules),
          TEST_CASE(escapes_start_patterns_with_hash_and_bang),
          TEST_CASE(crlf_and_byte_order_mark_are_not_part_of_patterns),
          TEST_CASE(a_name_pattern_matches_at_any_depth),
          TEST_CASE(a_leading_or_middle_slash_anchors_to_the_folder),
          TEST_CASE(a_trailing_slash_matches_folders_only),
          TEST_CASE(double_star_in_every_position),
          TEST_CASE(negation_re_includes_and_later_rules_win),
          TEST_CASE(brackets_question_marks_and_classes),
          TEST_CASE(patterns_with_nothing_left_add_no_rule),
          TEST_CASE(globs_are_taken_literally),
          TEST_CASE(many_double_stars_take_polynomial_time),
          TEST_CASE(very_long_names_do_not_match_glob_segments))
