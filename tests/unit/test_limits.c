/*
 * test_limits.c - the limits of indexer/lode_limits.h that a test can reach
 * cheaply, through the public API: a document one byte over
 * LODE_MAX_DOC_BYTES (a mapping of zero pages, never touched, so the test
 * costs no memory), an index of LODE_MAX_SEGMENTS segments (a memory
 * budget of one byte writes a segment for every document), and a prefix
 * matching one word more than LODE_MAX_PREFIX_TERMS. Each limit gives
 * LODE_ELIMIT with a message naming it, and leaves the writer, or the
 * previous index, usable. docs/LIMITS.md lists every limit and where it is
 * tested; the others are in test_hostile.py, test_scale.py,
 * test_query_parse.c, test_analyzer.c and test_sources.c.
 */
#include <dirent.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lode.h"
#include "lode_limits.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode_test_limits_XXXXXX";

static void remove_dir(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(path);
}

static int files_in(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static uint64_t documents_of(const char *path) {
    lode_index *ix;
    lode_error err;
    if (lode_index_open(&ix, path, &err) != 0) {
        fprintf(stderr, "open %s: %s\n", path, err.message);
        return UINT64_MAX;
    }
    lode_index_info info;
    lode_index_get_info(ix, &info);
    lode_index_close(ix);
    return info.documents;
}

TEST(a_document_over_the_size_limit_is_refused_and_the_writer_goes_on) {
    size_t len = (size_t)LODE_MAX_DOC_BYTES + 1;
    /* untouched pages of a private anonymous mapping read as zeros and
     * take no memory; the first 8 KiB are text so that it is not binary */
    uint8_t *big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(big != MAP_FAILED);
    for (size_t i = 0; i < 8192; i++) big[i] = "okapi "[i % 6];
    char idx[512];
    snprintf(idx, sizeof idx, "%s/doc.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, idx, NULL, &err) == 0);
    CHECK_EQ_U64(lode_writer_add_document(w, "huge.txt", big, len, 0, &err), (uint64_t)LODE_ELIMIT);
    CHECK_EQ_U64(err.code, (uint64_t)LODE_ELIMIT);
    CHECK(strstr(err.message, "huge.txt") != NULL);
    CHECK(strstr(err.message, "1073741825 bytes") != NULL);
    CHECK(strstr(err.message, "limit of 1073741824") != NULL);
    /* the writer stays usable: the next document goes in */
    CHECK_EQ_U64(lode_writer_add_document(w, "small.txt", "okapi\n", 6, 0, &err), 0);
    CHECK_EQ_U64(lode_writer_commit(w, &err), 0);
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    CHECK_EQ_U64(st.files_indexed, 1);
    lode_writer_free(w);
    munmap(big, len);
    CHECK_EQ_U64(documents_of(idx), 1);
    remove_dir(idx);
}

TEST(more_segments_than_the_limit_is_an_error_and_the_old_index_stays) {
    char idx[512];
    snprintf(idx, sizeof idx, "%s/seg.lode", tmpdir);
    lode_writer *w;
    lode_error err;
    /* the index as it was before */
    REQUIRE(lode_writer_open(&w, idx, NULL, &err) == 0);
    CHECK_EQ_U64(lode_writer_add_document(w, "old.txt", "before\n", 7, 0, &err), 0);
    CHECK_EQ_U64(lode_writer_commit(w, &err), 0);
    lode_writer_free(w);

    /* a budget of one byte: every document is a segment of its own */
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.memory_budget = 1;
    REQUIRE(lode_writer_open(&w, idx, &o, &err) == 0);
    int rc = 0;
    uint32_t added = 0;
    char text[64];
    while (rc == 0 && added <= LODE_MAX_SEGMENTS) {
        int n = snprintf(text, sizeof text, "document %u\n", added);
        rc = lode_writer_add_document(w, "doc.txt", text, (size_t)n, 0, &err);
        if (rc == 0) added++;
    }
    /* the document that needs segment 4097 is refused, naming the limit */
    CHECK_EQ_U64(added, LODE_MAX_SEGMENTS);
    CHECK_EQ_U64(rc, (uint64_t)LODE_ELIMIT);
    CHECK(strstr(err.message, "more than 4096 segments") != NULL);
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    CHECK_EQ_U64(st.segments_written, LODE_MAX_SEGMENTS);
    /* nothing can be committed past the limit, and the error says so */
    CHECK_EQ_U64(lode_writer_commit(w, &err), (uint64_t)LODE_ELIMIT);
    CHECK(strstr(err.message, "segments") != NULL);
    lode_writer_free(w);
    /* the previous index answers, and the segments written are gone */
    CHECK_EQ_U64(documents_of(idx), 1);
    CHECK_EQ_U64(files_in(idx), 3); /* MANIFEST, LOCK and the old segment */
    remove_dir(idx);
}

/* "zq" + four letters numbering `i` in base 26: distinct words, and
 * distinct terms with the stemmer "none". */
static size_t put_word(char *out, const char *prefix, unsigned i) {
    return (size_t)snprintf(out, 16, "%s%c%c%c%c ", prefix, 'a' + i / 17576 % 26, 'a' + i / 676 % 26,
                            'a' + i / 26 % 26, 'a' + i % 26);
}

TEST(a_prefix_matching_more_words_than_the_limit_is_refused_naming_it) {
    char idx[512];
    snprintf(idx, sizeof idx, "%s/prefix.lode", tmpdir);
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.stemmer = "none";
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, idx, &o, &err) == 0);
    /* "zq" starts exactly LODE_MAX_PREFIX_TERMS words, "zr" one more */
    static char text[(LODE_MAX_PREFIX_TERMS + 1) * 8 + 16];
    size_t n = 0;
    for (unsigned i = 0; i < LODE_MAX_PREFIX_TERMS; i++) n += put_word(text + n, "zq", i);
    CHECK_EQ_U64(lode_writer_add_document(w, "zq.txt", text, n, 0, &err), 0);
    n = 0;
    for (unsigned i = 0; i <= LODE_MAX_PREFIX_TERMS; i++) n += put_word(text + n, "zr", i);
    CHECK_EQ_U64(lode_writer_add_document(w, "zr.txt", text, n, 0, &err), 0);
    CHECK_EQ_U64(lode_writer_commit(w, &err), 0);
    lode_writer_free(w);

    lode_index *ix;
    REQUIRE(lode_index_open(&ix, idx, &err) == 0);
    lode_results *r = NULL;
    CHECK_EQ_U64(lode_search(&r, ix, "zq*", NULL, &err), 0);
    CHECK_EQ_U64(lode_results_count(r), 1);
    lode_results_free(r);
    r = NULL;
    CHECK_EQ_U64(lode_search(&r, ix, "zr*", NULL, &err), (uint64_t)LODE_ELIMIT);
    CHECK_STR(err.message, "prefix 'zr*' matches more than 1024 words: make it longer");
    CHECK(r == NULL);
    /* a longer prefix is the way out */
    CHECK_EQ_U64(lode_search(&r, ix, "zraab*", NULL, &err), 0); /* 349 words */
    CHECK_EQ_U64(lode_results_count(r), 1);
    lode_results_free(r);
    lode_index_close(ix);
    remove_dir(idx);
}

static void setup(void) {
    if (!mkdtemp(tmpdir)) abort();
}

static int cleanup(int rc) {
    rmdir(tmpdir);
    return rc;
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(a_document_over_the_size_limit_is_refused_and_the_writer_goes_on),
        TEST_CASE(more_segments_than_the_limit_is_an_error_and_the_old_index_stays),
        TEST_CASE(a_prefix_matching_more_words_than_the_limit_is_refused_naming_it),
    };
    setup();
    return cleanup(test_run(cases, sizeof cases / sizeof cases[0], argc, argv));
}
