/*
 * test_bundle.c - bundles and compaction through the public API: a bundle
 * (LODE_WRITER_BUNDLE) holds the same bytes as the one segment of a folder
 * index of the same documents; lode_writer_add_index() turns an index of
 * many segments into exactly those bytes again (so --compact and --bundle of
 * an index are reproducible); compaction in place leaves open readers
 * answering; a bundle opens from a file and from memory with the same
 * answers; the bundle's temporary file is its lock, is never indexed, and
 * disappears with an uncommitted writer; damage and bad arguments are
 * refused with the documented codes. Files live under a mkdtemp() folder.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode_test_bundle_XXXXXX";

#define NDOCS 40

static const char *const WORDS[] = {"amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harbor",
                                    "island", "jungle", "karst", "lagoon", "mesa", "nebula", "oasis", "prairie"};

/* Document i: a title line, then paragraphs of words chosen by a fixed
 * generator, so every run writes the same bytes. */
static char *doc_text(int i, size_t *len) {
    uint64_t st = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(i + 1);
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    if (!s) abort();
    n += (size_t)snprintf(s, cap, "Field notes %d\n\n", i);
    for (int w = 0; w < 300; w++) {
        const char *word = WORDS[test_rand(&st) % 16];
        if (n + 32 > cap && !(s = realloc(s, cap *= 2))) abort();
        n += (size_t)snprintf(s + n, cap - n, "%s%s", word, w % 40 == 39 ? ".\n\n" : " ");
    }
    *len = n;
    return s;
}

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmpdir, name); }

/* Write the NDOCS documents with the given flags and budget into `name`. */
static int build(const char *name, unsigned flags, size_t budget) {
    char p[512];
    path_of(p, sizeof p, name);
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = flags;
    o.memory_budget = budget;
    lode_writer *w;
    lode_error err;
    int rc = lode_writer_open(&w, p, &o, &err);
    for (int i = 0; i < NDOCS && !rc; i++) {
        char dp[32];
        size_t len;
        char *t = doc_text(i, &len);
        snprintf(dp, sizeof dp, "notes/%02d.txt", i);
        rc = lode_writer_add_document(w, dp, t, len, 1700000000 + i, &err);
        free(t);
    }
    if (!rc) rc = lode_writer_commit(w, &err);
    if (rc) fprintf(stderr, "build %s: %s\n", name, err.message);
    lode_writer_free(w);
    return rc;
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *d = malloc(cap);
    size_t got;
    while (d && (got = fread(d + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap && !(d = realloc(d, cap *= 2))) break;
    }
    fclose(f);
    *size = n;
    return d;
}

static int same_bytes(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *da = slurp(a, &na), *db = slurp(b, &nb);
    int same = da && db && na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The top answers to a few queries, as one string, to compare indexes. */
static void answers(lode_index *ix, char *out, size_t cap) {
    static const char *const Q[] = {"glacier lagoon", "\"amber basalt\"", "neb*", "title:notes", "fjord -mesa"};
    size_t n = 0;
    out[0] = '\0';
    for (size_t q = 0; q < sizeof Q / sizeof Q[0]; q++) {
        lode_results *r;
        lode_error err;
        if (lode_search(&r, ix, Q[q], NULL, &err) != 0) {
            n += (size_t)snprintf(out + n, cap - n, "%s: error %s\n", Q[q], err.message);
            continue;
        }
        for (size_t i = 0; i < lode_results_count(r) && n < cap - 200; i++) {
            lode_hit h;
            lode_results_get(r, i, &h);
            n += (size_t)snprintf(out + n, cap - n, "%s %.9g %u\n", h.path, h.score,
                                  h.passage_count ? h.passages[0].line : 0);
        }
        lode_results_free(r);
    }
}

static int open_and_answer(const char *path, char *out, size_t cap, uint32_t *segments) {
    lode_index *ix;
    lode_error err;
    if (lode_index_open(&ix, path, &err) != 0) {
        fprintf(stderr, "open %s: %s\n", path, err.message);
        return -1;
    }
    lode_index_info info;
    lode_index_get_info(ix, &info);
    if (segments) *segments = info.segments;
    answers(ix, out, cap);
    lode_index_close(ix);
    return 0;
}

/* Re-index `src` (any index) through lode_writer_add_index into `name`. */
static int reindex(const char *src, const char *name, unsigned flags) {
    char s[512], p[512];
    path_of(s, sizeof s, src);
    path_of(p, sizeof p, name);
    lode_index *ix;
    lode_writer *w = NULL;
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = flags;
    lode_error err;
    int rc = lode_index_open(&ix, s, &err);
    if (!rc) rc = lode_writer_open(&w, p, &o, &err);
    if (!rc) rc = lode_writer_add_index(w, ix, &err);
    if (!rc) rc = lode_writer_commit(w, &err);
    if (rc) fprintf(stderr, "reindex %s into %s: %s\n", src, name, err.message);
    lode_writer_free(w);
    lode_index_close(ix);
    return rc;
}

TEST(a_bundle_holds_the_bytes_of_the_one_segment_of_a_folder_index) {
    REQUIRE(build("one.lode", 0, 0) == 0);
    REQUIRE(build("b.lode", LODE_WRITER_BUNDLE, 0) == 0);
    char seg[512], b[512];
    path_of(seg, sizeof seg, "one.lode/seg-00000001-0001.lseg");
    path_of(b, sizeof b, "b.lode");
    CHECK(same_bytes(seg, b));
    char tmp[512];
    path_of(tmp, sizeof tmp, "b.lode.tmp");
    CHECK(!exists(tmp));
    uint32_t segs = 0;
    char x[8192], y[8192];
    REQUIRE(open_and_answer(b, x, sizeof x, &segs) == 0);
    CHECK_EQ_U64(segs, 1);
    path_of(b, sizeof b, "one.lode");
    REQUIRE(open_and_answer(b, y, sizeof y, NULL) == 0);
    CHECK_STR(x, y);
    CHECK(strstr(x, "notes/") != NULL);
}

TEST(one_segment_ignores_the_memory_budget) {
    REQUIRE(build("many.lode", 0, 1) == 0);
    REQUIRE(build("single.lode", LODE_WRITER_ONE_SEGMENT, 1) == 0);
    char p[512];
    uint32_t many = 0, single = 0;
    char x[8192], y[8192];
    path_of(p, sizeof p, "many.lode");
    REQUIRE(open_and_answer(p, x, sizeof x, &many) == 0);
    path_of(p, sizeof p, "single.lode");
    REQUIRE(open_and_answer(p, y, sizeof y, &single) == 0);
    CHECK_EQ_U64(many, NDOCS);
    CHECK_EQ_U64(single, 1);
    CHECK_STR(x, y); /* statistics are global: the same scores */
}

TEST(add_index_turns_many_segments_into_the_bytes_of_one) {
    REQUIRE(build("src-many.lode", 0, 1) == 0);
    REQUIRE(build("ref.lode", LODE_WRITER_BUNDLE, 0) == 0);
    REQUIRE(reindex("src-many.lode", "re.lode", LODE_WRITER_BUNDLE) == 0);
    REQUIRE(reindex("src-many.lode", "re-folder.lode", LODE_WRITER_ONE_SEGMENT) == 0);
    REQUIRE(reindex("ref.lode", "re-of-bundle.lode", LODE_WRITER_BUNDLE) == 0);
    char a[512], b[512];
    path_of(a, sizeof a, "ref.lode");
    path_of(b, sizeof b, "re.lode");
    CHECK(same_bytes(a, b));
    path_of(b, sizeof b, "re-folder.lode/seg-00000001-0001.lseg");
    CHECK(same_bytes(a, b));
    path_of(b, sizeof b, "re-of-bundle.lode");
    CHECK(same_bytes(a, b));
}

TEST(compaction_in_place_keeps_readers_answering) {
    REQUIRE(build("c.lode", 0, 1) == 0);
    char p[512];
    path_of(p, sizeof p, "c.lode");
    lode_index *before;
    lode_error err;
    REQUIRE(lode_index_open(&before, p, &err) == 0);
    char x[8192], y[8192], z[8192];
    answers(before, x, sizeof x);
    /* the writer of the same folder reads the index it replaces */
    REQUIRE(reindex("c.lode", "c.lode", LODE_WRITER_ONE_SEGMENT) == 0);
    answers(before, y, sizeof y); /* its segments are unlinked, still mapped */
    lode_index_close(before);
    uint32_t segs = 0;
    REQUIRE(open_and_answer(p, z, sizeof z, &segs) == 0);
    CHECK_EQ_U64(segs, 1);
    CHECK_STR(x, y);
    CHECK_STR(x, z);
    /* only the new segment is left in the folder */
    char seg[512];
    path_of(seg, sizeof seg, "c.lode/seg-00000001-0001.lseg");
    CHECK(!exists(seg));
    path_of(seg, sizeof seg, "c.lode/seg-00000002-0001.lseg");
    CHECK(exists(seg));
}

TEST(a_bundle_opens_from_memory_with_the_answers_it_gives_from_a_file) {
    REQUIRE(build("m.lode", LODE_WRITER_BUNDLE, 0) == 0);
    char p[512], x[8192], y[8192];
    path_of(p, sizeof p, "m.lode");
    REQUIRE(open_and_answer(p, x, sizeof x, NULL) == 0);
    size_t size;
    unsigned char *data = slurp(p, &size);
    REQUIRE(data != NULL);
    lode_index *ix;
    lode_error err;
    REQUIRE(lode_index_open_memory(&ix, data, size, "m", &err) == 0);
    answers(ix, y, sizeof y);
    CHECK_STR(x, y);
    CHECK(lode_index_check(ix, &err) == 0);
    lode_index_info info;
    lode_index_get_info(ix, &info);
    CHECK_EQ_U64(info.documents, NDOCS);
    CHECK_EQ_U64(info.generation, 0);
    CHECK_STR(info.stemmer, "english");
    lode_index_close(ix);

    /* no alignment is needed: the same bytes one past an 8-byte boundary */
    unsigned char *odd = malloc(size + 1);
    REQUIRE(odd != NULL);
    memcpy(odd + 1, data, size);
    REQUIRE(lode_index_open_memory(&ix, odd + 1, size, "odd", &err) == 0);
    answers(ix, y, sizeof y);
    CHECK_STR(x, y);
    lode_index_close(ix);
    free(odd);

    /* truncated, damaged, not a segment, no bytes: refused, never answered */
    CHECK(lode_index_open_memory(&ix, data, size - 1, "short", &err) == LODE_ECORRUPT);
    CHECK(ix == NULL);
    CHECK(strstr(err.message, "short") != NULL);
    CHECK(lode_index_open_memory(&ix, "hello world", 11, NULL, &err) == LODE_ECORRUPT);
    CHECK(lode_index_open_memory(&ix, NULL, 10, NULL, &err) == LODE_EINVAL);
    data[8] = 9; /* the format version */
    CHECK(lode_index_open_memory(&ix, data, size, "v9", &err) == LODE_EVERSION);
    free(data);
}

/* The TEXT section's absolute offset, from the section table (FORMAT.md §3.2). */
static uint64_t text_offset(const unsigned char *d) {
    uint32_t count = (uint32_t)d[28] | (uint32_t)d[29] << 8;
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = d + 32 + 32 * i;
        if (e[0] == 5) {
            uint64_t off = 0;
            for (int k = 7; k >= 0; k--) off = off << 8 | e[8 + k];
            return off;
        }
    }
    return 0;
}

TEST(add_index_of_a_damaged_index_fails_and_nothing_is_committed) {
    REQUIRE(build("d.lode", LODE_WRITER_BUNDLE, 0) == 0);
    char p[512];
    path_of(p, sizeof p, "d.lode");
    size_t size;
    unsigned char *data = slurp(p, &size);
    REQUIRE(data != NULL);
    uint64_t off = text_offset(data);
    REQUIRE(off > 0 && off + 40 < size);
    data[off + 20] ^= 0x55; /* inside the stored text, which only add_index reads here */
    lode_index *ix;
    lode_error err;
    REQUIRE(lode_index_open_memory(&ix, data, size, "damaged", &err) == 0);
    char out[512];
    path_of(out, sizeof out, "from-damaged.lode");
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE;
    lode_writer *w;
    REQUIRE(lode_writer_open(&w, out, &o, &err) == 0);
    CHECK(lode_writer_add_index(w, ix, &err) == LODE_ECORRUPT);
    CHECK(strstr(err.message, "damaged") != NULL && strstr(err.message, "TEXT") != NULL);
    CHECK(lode_writer_commit(w, &err) == LODE_EINVAL);
    lode_writer_free(w);
    lode_index_close(ix);
    free(data);
    CHECK(!exists(out));
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    CHECK(!exists(tmp));
}

TEST(the_temporary_file_locks_the_bundle_and_goes_away_without_a_commit) {
    REQUIRE(build("l.lode", LODE_WRITER_BUNDLE, 0) == 0);
    char p[512], tmp[600], before[512];
    path_of(p, sizeof p, "l.lode");
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    path_of(before, sizeof before, "l-copy.lode");
    REQUIRE(build("l-copy.lode", LODE_WRITER_BUNDLE, 0) == 0);

    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE;
    lode_writer *a, *b;
    lode_error err;
    REQUIRE(lode_writer_open(&a, p, &o, &err) == 0);
    CHECK(exists(tmp));
    CHECK(lode_writer_open(&b, p, &o, &err) == LODE_ELOCKED);
    CHECK(b == NULL);
    CHECK(lode_writer_add_document(a, "x.txt", "other words\n", 12, 0, &err) == 0);
    lode_writer_free(a); /* no commit */
    CHECK(!exists(tmp));
    CHECK(same_bytes(p, before));

    /* a temporary file left by a killed writer is taken over */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "debris", 6) == 6);
    close(fd);
    REQUIRE(lode_writer_open(&a, p, &o, &err) == 0);
    CHECK(lode_writer_add_document(a, "x.txt", "other words\n", 12, 0, &err) == 0);
    CHECK(lode_writer_commit(a, &err) == 0);
    lode_writer_stats st;
    lode_writer_get_stats(a, &st);
    CHECK_EQ_U64(st.segments_written, 1);
    CHECK_EQ_U64(st.files_indexed, 1);
    lode_writer_free(a);
    CHECK(!exists(tmp));
    lode_index *ix;
    REQUIRE(lode_index_open(&ix, p, &err) == 0);
    lode_index_info info;
    lode_index_get_info(ix, &info);
    CHECK_EQ_U64(info.documents, 1);
    lode_index_close(ix);
}

TEST(a_bundle_written_inside_the_folder_it_indexes_does_not_index_itself) {
    char tree[512], a[600], out[600];
    path_of(tree, sizeof tree, "tree");
    REQUIRE(mkdir(tree, 0755) == 0);
    snprintf(a, sizeof a, "%s/a.txt", tree);
    snprintf(out, sizeof out, "%s/out.lode", tree);
    int fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "alpha words\n", 12) == 12);
    close(fd);
    for (int run = 0; run < 2; run++) {
        lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
        o.flags = LODE_WRITER_BUNDLE;
        lode_writer *w;
        lode_error err;
        REQUIRE(lode_writer_open(&w, out, &o, &err) == 0);
        CHECK(lode_writer_add_path(w, tree, &err) == 0);
        CHECK(lode_writer_commit(w, &err) == 0);
        lode_writer_stats st;
        lode_writer_get_stats(w, &st);
        lode_writer_free(w);
        /* never the empty out.lode.tmp; the second time the first bundle
         * is there, a binary file */
        CHECK_EQ_U64(st.files_indexed, 1);
        CHECK_EQ_U64(st.files_skipped_binary, (uint64_t)run);
    }
}

TEST(bundle_and_folder_paths_are_not_confused) {
    char p[512];
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE;
    lode_writer *w;
    lode_error err;
    REQUIRE(build("folder.lode", 0, 0) == 0);
    path_of(p, sizeof p, "folder.lode");
    CHECK(lode_writer_open(&w, p, &o, &err) == LODE_EINVAL);
    CHECK(w == NULL);
    REQUIRE(build("file.lode", LODE_WRITER_BUNDLE, 0) == 0);
    path_of(p, sizeof p, "file.lode");
    CHECK(lode_writer_open(&w, p, NULL, &err) == LODE_EINVAL);
    path_of(p, sizeof p, "no/such/folder/x.lode");
    CHECK(lode_writer_open(&w, p, &o, &err) == LODE_ENOTFOUND);
    /* the flags exist since version 2 of the options: version 1 ignores them */
    o.version = 1;
    path_of(p, sizeof p, "v1.lode");
    REQUIRE(lode_writer_open(&w, p, &o, &err) == 0);
    CHECK(lode_writer_commit(w, &err) == 0);
    lode_writer_free(w);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(lode_writer_add_index(NULL, NULL, &err) == LODE_EINVAL);
}

/* The bundle of docs/FORMAT.md's worked example, as lode 0.1.0 wrote it:
 * every later lode must open it and answer from it (COMPATIBILITY.md). */
TEST(a_format_1_bundle_written_by_lode_0_1_still_opens_and_answers) {
    const char *fixture = LODE_SOURCE_DIR "/tests/fixtures/format-1.lode";
    size_t size;
    unsigned char *data = slurp(fixture, &size);
    REQUIRE(data != NULL && size == 700);
    for (int from_memory = 0; from_memory < 2; from_memory++) {
        lode_index *ix;
        lode_error err;
        int rc = from_memory ? lode_index_open_memory(&ix, data, size, "format-1", &err)
                             : lode_index_open(&ix, fixture, &err);
        REQUIRE(rc == 0);
        CHECK(lode_index_check(ix, &err) == 0);
        lode_index_info info;
        lode_index_get_info(ix, &info);
        CHECK_EQ_U64(info.documents, 1);
        CHECK_EQ_U64(info.passages, 2);
        CHECK_EQ_U64(info.tokens, 4);
        CHECK_STR(info.stemmer, "english");
        lode_results *r;
        REQUIRE(lode_search(&r, ix, "peaceful", NULL, &err) == 0);
        REQUIRE(lode_results_count(r) == 1);
        lode_hit h;
        lode_results_get(r, 0, &h);
        CHECK_STR(h.path, "docs/a.txt");
        CHECK_STR(h.title, "Hello world");
        REQUIRE(h.passage_count == 1);
        CHECK_EQ_U64(h.passages[0].line, 3);
        CHECK_EQ_U64(h.passages[0].offset, 13);
        REQUIRE(h.passages[0].span_count == 1);
        CHECK_EQ_U64(h.passages[0].spans[0].start, 6);
        CHECK_EQ_U64(h.passages[0].spans[0].end, 11);
        lode_results_free(r);
        lode_index_close(ix);
    }
    /* Today's writer writes the same document the same way every time
     * (bundles are reproducible). Its bytes are no longer the fixture's:
     * stored text is now compressed at zlib level 4 instead of 6, which
     * changes the TEXT section, its checksums and the header. */
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE;
    char p[2][512];
    for (int i = 0; i < 2; i++) {
        lode_writer *w;
        lode_error err;
        path_of(p[i], sizeof p[i], i ? "example2.lode" : "example.lode");
        REQUIRE(lode_writer_open(&w, p[i], &o, &err) == 0);
        CHECK(lode_writer_add_document(w, "docs/a.txt", "Hello world\n\nworld peace\n", 25, 1767225600, &err) == 0);
        CHECK(lode_writer_commit(w, &err) == 0);
        lode_writer_free(w);
    }
    CHECK(same_bytes(p[0], p[1]));
    CHECK(!same_bytes(p[0], fixture));
    free(data);
}

TEST(the_version_at_run_time_is_the_header_s) {
    CHECK_STR(lode_version(), LODE_VERSION_STRING);
    CHECK_EQ_U64(lode_version_number(), LODE_VERSION_NUMBER);
    CHECK_EQ_U64(LODE_VERSION_NUMBER, LODE_VERSION_MAJOR * 10000 + LODE_VERSION_MINOR * 100 + LODE_VERSION_PATCH);
}

int main(int argc, char **argv) {
    if (!mkdtemp(tmpdir)) return 2;
    static const test_case cases[] = {
        TEST_CASE(a_bundle_holds_the_bytes_of_the_one_segment_of_a_folder_index),
        TEST_CASE(one_segment_ignores_the_memory_budget),
        TEST_CASE(add_index_turns_many_segments_into_the_bytes_of_one),
        TEST_CASE(compaction_in_place_keeps_readers_answering),
        TEST_CASE(a_bundle_opens_from_memory_with_the_answers_it_gives_from_a_file),
        TEST_CASE(add_index_of_a_damaged_index_fails_and_nothing_is_committed),
        TEST_CASE(the_temporary_file_locks_the_bundle_and_goes_away_without_a_commit),
        TEST_CASE(a_bundle_written_inside_the_folder_it_indexes_does_not_index_itself),
        TEST_CASE(bundle_and_folder_paths_are_not_confused),
        TEST_CASE(a_format_1_bundle_written_by_lode_0_1_still_opens_and_answers),
        TEST_CASE(the_version_at_run_time_is_the_header_s),
    };
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
