/*
 * test_corrupt.c - damaged indexes never crash and never answer wrongly.
 * For a small real index: every single-byte change of the segment (three
 * patterns per byte) and every truncation, opened from memory, must either
 * fail with LODE_ECORRUPT / LODE_EVERSION and a message naming the section,
 * or answer every query exactly as the intact index does (possible only
 * when the damaged byte is never read by that query), or fail the query
 * with LODE_ECORRUPT. Every change of the MANIFEST must fail the open.
 * Run under ASan+UBSan by scripts/test, this is the byte-flip and
 * truncation sweep of issue 7 (in the spirit of SQLite's fts5corrupt tests).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode-corrupt-XXXXXX";
static char index_dir[256];
static unsigned char *seg;
static size_t seg_len;
static char seg_path[512];

static const char *QUERIES[] = {"alpha", "\"beta gamma\"", "alp*", "title:delta", "alpha NEAR/2 gamma",
                                "alpha -zeta", "epsilon OR beta"};
#define NQ (sizeof QUERIES / sizeof *QUERIES)

/* Everything an answer shows, as one string. */
static int answer(lode_index *ix, const char *q, char *out, size_t cap, lode_error *err) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.passages = 3;
    lode_results *r = NULL;
    int rc = lode_search(&r, ix, q, &o, err);
    out[0] = '\0';
    if (rc) return rc;
    size_t n = 0;
    for (size_t i = 0; i < lode_results_count(r) && n < cap; i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        n += (size_t)snprintf(out + n, cap - n, "%s|%s|%.9g|%llu;", h.path, h.title, h.score,
                              (unsigned long long)h.size);
        for (size_t k = 0; k < h.passage_count && n < cap; k++) {
            const lode_passage *p = &h.passages[k];
            n += (size_t)snprintf(out + n, cap - n, "%llu:%u:%.*s", (unsigned long long)p->offset, p->line,
                                  (int)p->length, p->text);
            for (size_t s = 0; s < p->span_count && n < cap; s++)
                n += (size_t)snprintf(out + n, cap - n, "[%u,%u]", p->spans[s].start, p->spans[s].end);
        }
    }
    lode_results_free(r);
    return 0;
}

static char baseline[NQ][8192];

static int build(void) {
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(index_dir, sizeof index_dir, "%s/small.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, index_dir, NULL, &err)) return -1;
    static const char *docs[][2] = {
        {"a.txt", "Delta title here\n\nalpha beta gamma delta alpha\nzeta and more text\n"},
        {"b.txt", "Beta gamma\n\nepsilon alpha, alphabet soup\n\nbeta gamma again\n"},
        {"c.txt", "Nothing\n\nzeta eta theta alpha gamma\n"},
    };
    for (size_t i = 0; i < 3; i++)
        if (lode_writer_add_document(w, docs[i][0], docs[i][1], strlen(docs[i][1]), 1700000000, &err)) return -1;
    if (lode_writer_commit(w, &err)) return -1;
    lode_writer_free(w);
    DIR *d = opendir(index_dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".lseg")) snprintf(seg_path, sizeof seg_path, "%s/%s", index_dir, e->d_name);
    if (d) closedir(d);
    FILE *f = fopen(seg_path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    seg_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    seg = malloc(seg_len);
    if (!seg || fread(seg, 1, seg_len, f) != seg_len) return -1;
    fclose(f);
    lode_index *ix;
    if (lode_index_open_memory(&ix, seg, seg_len, "small.lseg", &err)) return -1;
    for (size_t q = 0; q < NQ; q++)
        if (answer(ix, QUERIES[q], baseline[q], sizeof baseline[q], &err)) return -1;
    lode_index_close(ix);
    return 0;
}

TEST(the_intact_index_answers_every_query) {
    for (size_t q = 0; q < NQ; q++) CHECK(strlen(baseline[q]) > 0);
}

static int damage_is_reported(int rc, const lode_error *err) {
    if (rc != LODE_ECORRUPT && rc != LODE_EVERSION) return 0;
    return strstr(err->message, "small.lseg") != NULL &&
           (rc == LODE_EVERSION || strstr(err->message, "section") != NULL);
}

TEST(every_byte_flip_is_reported_or_changes_nothing) {
    static const unsigned char patterns[] = {0x01, 0x80, 0xff};
    unsigned char *copy = malloc(seg_len);
    REQUIRE(copy);
    size_t refused = 0, errors = 0, same = 0, bad = 0;
    char got[8192];
    for (size_t i = 0; i < seg_len && bad < 5; i++) {
        for (size_t p = 0; p < sizeof patterns; p++) {
            memcpy(copy, seg, seg_len);
            copy[i] ^= patterns[p];
            lode_index *ix = NULL;
            lode_error err;
            int rc = lode_index_open_memory(&ix, copy, seg_len, "small.lseg", &err);
            if (rc) {
                if (damage_is_reported(rc, &err)) {
                    refused++;
                } else {
                    bad++;
                    fprintf(stderr, "byte %zu ^%02x: open gave %d: %s\n", i, patterns[p], rc, err.message);
                }
                continue;
            }
            for (size_t q = 0; q < NQ; q++) {
                rc = answer(ix, QUERIES[q], got, sizeof got, &err);
                if (rc == 0 && strcmp(got, baseline[q]) == 0) {
                    same++;
                } else if (rc && damage_is_reported(rc, &err)) {
                    errors++;
                } else {
                    bad++;
                    fprintf(stderr, "byte %zu ^%02x, query %s: %s\n", i, patterns[p], QUERIES[q],
                            rc ? err.message : "a different answer");
                }
            }
            lode_index_close(ix);
        }
    }
    free(copy);
    fprintf(stderr, "  %zu bytes x 3 patterns: %zu refused at open, %zu queries failed as corrupt, %zu same answers\n",
            seg_len, refused, errors, same);
    CHECK_EQ_U64(bad, 0);
    CHECK(refused > seg_len); /* most damage is caught at open or on reading */
}

/* The small index fits in one checksum page, so every flip is caught at
 * open. The corpus index spans a dozen pages, most read only when a query
 * needs them: flips there must be caught by the query that reads them, or
 * change nothing. Every 7th byte, one pattern, to keep the sweep quick. */
TEST(flips_in_a_many_page_index_are_caught_when_read) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/corpus.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, dir, NULL, &err) == 0);
    REQUIRE(lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) == 0);
    REQUIRE(lode_writer_commit(w, &err) == 0);
    lode_writer_free(w);
    char path[1024] = "";
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".lseg")) snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (d) closedir(d);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *orig = malloc(len), *copy = malloc(len);
    REQUIRE(orig && copy && fread(orig, 1, len, f) == len);
    fclose(f);
    static const char *qs[] = {"glycinate sleep dose", "\"restless legs\"", "magnes* NEAR/5 cramps", "title:citrate"};
    char base[4][8192], got[8192];
    lode_index *ix;
    REQUIRE(lode_index_open_memory(&ix, orig, len, "small.lseg", &err) == 0);
    for (size_t q = 0; q < 4; q++) REQUIRE(answer(ix, qs[q], base[q], sizeof base[q], &err) == 0);
    lode_index_close(ix);
    size_t refused = 0, errors = 0, same = 0, bad = 0;
    for (size_t i = 0; i < len && bad < 5; i += 7) {
        memcpy(copy, orig, len);
        copy[i] ^= 0xff;
        int rc = lode_index_open_memory(&ix, copy, len, "small.lseg", &err);
        if (rc) {
            if (damage_is_reported(rc, &err)) refused++;
            else bad++;
            continue;
        }
        for (size_t q = 0; q < 4; q++) {
            rc = answer(ix, qs[q], got, sizeof got, &err);
            if (rc == 0 && strcmp(got, base[q]) == 0) {
                same++;
            } else if (rc && damage_is_reported(rc, &err)) {
                errors++;
            } else {
                bad++;
                fprintf(stderr, "byte %zu, query %s: %s\n", i, qs[q], rc ? err.message : "a different answer");
            }
        }
        lode_index_close(ix);
    }
    fprintf(stderr, "  %zu of %zu bytes flipped: %zu refused at open, %zu queries failed as corrupt, %zu same answers\n",
            (len + 6) / 7, len, refused, errors, same);
    CHECK_EQ_U64(bad, 0);
    CHECK(errors > 0); /* some damage is only found by the query that reads it */
    CHECK(same > 0);   /* and damage a query never reads does not disturb it */
    free(orig);
    free(copy);
}

TEST(every_truncation_is_refused_at_open) {
    size_t bad = 0;
    for (size_t len = 0; len < seg_len && bad < 5; len++) {
        unsigned char *copy = malloc(len ? len : 1);
        REQUIRE(copy);
        memcpy(copy, seg, len);
        lode_index *ix = NULL;
        lode_error err;
        int rc = lode_index_open_memory(&ix, copy, len, "small.lseg", &err);
        if (rc != LODE_ECORRUPT || !strstr(err.message, "small.lseg")) {
            bad++;
            fprintf(stderr, "truncated to %zu: rc %d %s\n", len, rc, rc ? err.message : "");
        }
        lode_index_close(ix);
        free(copy);
    }
    CHECK_EQ_U64(bad, 0);
}

TEST(every_manifest_change_is_refused) {
    char mpath[600];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST", index_dir);
    FILE *f = fopen(mpath, "rb");
    REQUIRE(f);
    unsigned char m[4096];
    size_t n = fread(m, 1, sizeof m, f);
    fclose(f);
    REQUIRE(n > 0);
    size_t bad = 0;
    for (size_t i = 0; i <= n && bad < 5; i++) {
        /* i < n: flip byte i; i == n: truncate by one byte */
        unsigned char copy[4096];
        memcpy(copy, m, n);
        size_t len = n;
        if (i < n)
            copy[i] ^= 0x20;
        else
            len = n - 1;
        f = fopen(mpath, "wb");
        REQUIRE(f);
        fwrite(copy, 1, len, f);
        fclose(f);
        lode_index *ix = NULL;
        lode_error err;
        int rc = lode_index_open(&ix, index_dir, &err);
        if ((rc != LODE_ECORRUPT && rc != LODE_EVERSION) || !strstr(err.message, "MANIFEST")) {
            bad++;
            fprintf(stderr, "MANIFEST byte %zu: rc %d %s\n", i, rc, rc ? err.message : "");
        }
        lode_index_close(ix);
    }
    f = fopen(mpath, "wb");
    REQUIRE(f);
    fwrite(m, 1, n, f);
    fclose(f);
    CHECK_EQ_U64(bad, 0);
    lode_index *ix = NULL;
    lode_error err;
    CHECK(lode_index_open(&ix, index_dir, &err) == 0);
    lode_index_close(ix);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(the_intact_index_answers_every_query),
        TEST_CASE(every_byte_flip_is_reported_or_changes_nothing),
        TEST_CASE(flips_in_a_many_page_index_are_caught_when_read),
        TEST_CASE(every_truncation_is_refused_at_open),
        TEST_CASE(every_manifest_change_is_refused),
    };
    if (build()) {
        fprintf(stderr, "could not build the test index\n");
        return 1;
    }
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    free(seg);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
