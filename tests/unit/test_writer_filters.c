/*
 * test_writer_filters.c - the filters of lode_writer_options through the
 * public API: globs, max_filesize and ignore files change what
 * lode_writer_add_path() indexes and which events it sends;
 * lode_writer_count_path() counts exactly what the walk will hand over; a
 * version 1 options struct gets none of the new behaviour; bad globs are
 * refused at lode_writer_open(). Trees are built under a mkdtemp() folder.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

static char tmpdir[] = "/tmp/lode_test_writer_filters_XXXXXX";

static void put(const char *rel, const char *data) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    /* make the folders on the way, below tmpdir */
    for (char *slash = p + strlen(tmpdir) + 1; (slash = strchr(slash, '/')); slash++) {
        *slash = '\0';
        mkdir(p, 0755);
        *slash = '/';
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) abort();
    size_t n = strlen(data);
    if (write(fd, data, n) != (ssize_t)n) abort();
    close(fd);
}

/* The tree: a repository "t" with an ignore file. */
static void make_tree(void) {
    put("t/.git/HEAD", "ref: refs/heads/main\n");
    put("t/.gitignore", "*.log\n");
    put("t/a.txt", "alpha\n");
    put("t/b.md", "bravo\n");
    put("t/c.log", "charlie\n");
    put("t/big.txt", "delta delta delta delta delta delta delta delta\n"); /* 48 bytes */
    put("t/sub/d.txt", "echo\n");
}

typedef struct events {
    int indexed, limit, ignored, other;
    char last_ignored[512];
} events;

static void on_event(void *ctx, const lode_event *ev) {
    events *e = ctx;
    switch (ev->kind) {
    case LODE_EVENT_INDEXED: e->indexed++; break;
    case LODE_EVENT_SKIPPED_LIMIT: e->limit++; break;
    case LODE_EVENT_SKIPPED_IGNORED:
        e->ignored++;
        snprintf(e->last_ignored, sizeof e->last_ignored, "%s: %s", ev->path, ev->message);
        break;
    default: e->other++; break;
    }
}

/* Index tmpdir/t with `o`; return the stats, and the events in *e. */
static lode_writer_stats index_tree(lode_writer_options *o, events *e, uint64_t *count_files,
                                    uint64_t *count_bytes) {
    char idx[512], root[512];
    snprintf(idx, sizeof idx, "%s/i.lode", tmpdir);
    snprintf(root, sizeof root, "%s/t", tmpdir);
    memset(e, 0, sizeof *e);
    o->on_event = on_event;
    o->event_ctx = e;
    lode_writer_stats st;
    memset(&st, 0, sizeof st);
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, idx, o, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.message);
        test_failures++;
        return st;
    }
    CHECK_EQ_U64(lode_writer_count_path(w, root, count_files, count_bytes, &err), 0);
    CHECK_EQ_U64(e->indexed + e->limit + e->ignored + e->other, 0); /* counting sends no events */
    CHECK_EQ_U64(lode_writer_add_path(w, root, &err), 0);
    CHECK_EQ_U64(lode_writer_commit(w, &err), 0);
    lode_writer_get_stats(w, &st);
    lode_writer_free(w);
    return st;
}

TEST(defaults_honour_gitignore_and_count_matches_the_walk) {
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    events e;
    uint64_t files, bytes;
    lode_writer_stats st = index_tree(&o, &e, &files, &bytes);
    /* .gitignore, a.txt, b.md, big.txt, sub/d.txt; c.log is ignored; the
     * .git folder is never entered */
    CHECK_EQ_U64(st.files_indexed, 5);
    CHECK_EQ_U64(e.indexed, 5);
    CHECK_EQ_U64(e.ignored, 1);
    char want[600];
    snprintf(want, sizeof want, "%s/t/c.log: ignored by %s/t/.gitignore:1: *.log", tmpdir, tmpdir);
    CHECK_STR(e.last_ignored, want);
    CHECK_EQ_U64(files, 5);
    CHECK_EQ_U64(bytes, st.bytes_indexed);
}

TEST(no_ignore_flag_globs_and_max_filesize) {
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_NO_IGNORE_FILES;
    events e;
    uint64_t files, bytes;
    lode_writer_stats st = index_tree(&o, &e, &files, &bytes);
    CHECK_EQ_U64(st.files_indexed, 6);
    CHECK_EQ_U64(e.ignored, 0);
    CHECK_EQ_U64(files, 6);

    static const char *const inc[] = {"*.txt"};
    static const char *const exc[] = {"sub/"};
    o.flags = 0;
    o.include_globs = inc;
    o.include_count = 1;
    o.exclude_globs = exc;
    o.exclude_count = 1;
    o.max_filesize = 47;
    st = index_tree(&o, &e, &files, &bytes);
    /* a.txt only: big.txt is over the limit, sub/ excluded, the rest not *.txt */
    CHECK_EQ_U64(st.files_indexed, 1);
    CHECK_EQ_U64(st.files_skipped_limit, 1);
    CHECK_EQ_U64(e.limit, 1);
    CHECK_EQ_U64(e.ignored, 4); /* .gitignore, b.md, c.log (include), sub (exclude) */
    CHECK_EQ_U64(files, 2);     /* a.txt and big.txt: the walk hands both over */
    CHECK_EQ_U64(bytes, 6);     /* big.txt's bytes are not to be read */
    o.max_filesize = 48;        /* the limit itself is allowed */
    st = index_tree(&o, &e, &files, &bytes);
    CHECK_EQ_U64(st.files_indexed, 2);
    CHECK_EQ_U64(st.files_skipped_limit, 0);
}

TEST(version_one_options_get_none_of_the_filters) {
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.version = 1;
    /* fields a version 1 caller does not have: must not be read */
    o.include_count = 99;
    o.exclude_count = 99;
    o.max_filesize = 1;
    events e;
    uint64_t files, bytes;
    lode_writer_stats st = index_tree(&o, &e, &files, &bytes);
    CHECK_EQ_U64(st.files_indexed, 6); /* c.log too: no ignore files */
    CHECK_EQ_U64(st.files_skipped_limit, 0);
    CHECK_EQ_U64(files, 6);
}

TEST(bad_globs_are_refused_when_the_writer_opens) {
    char idx[512];
    snprintf(idx, sizeof idx, "%s/bad.lode", tmpdir);
    lode_writer *w = NULL;
    lode_error err;
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.include_count = 1; /* and no array */
    CHECK_EQ_U64(lode_writer_open(&w, idx, &o, &err), (uint64_t)LODE_EINVAL);
    CHECK(w == NULL);
    static const char *const empty[] = {""};
    o.include_count = 0;
    o.exclude_globs = empty;
    o.exclude_count = 1;
    CHECK_EQ_U64(lode_writer_open(&w, idx, &o, &err), (uint64_t)LODE_EINVAL);
    CHECK(strstr(err.message, "empty glob") != NULL);
    static const char *const null_glob[] = {NULL};
    o.exclude_globs = null_glob;
    CHECK_EQ_U64(lode_writer_open(&w, idx, &o, &err), (uint64_t)LODE_EINVAL);
    uint64_t files = 7, bytes = 7;
    CHECK_EQ_U64(lode_writer_count_path(NULL, "x", &files, &bytes, &err), (uint64_t)LODE_EINVAL);
    CHECK_EQ_U64(files, 0);
    CHECK_EQ_U64(bytes, 0);
}

TEST(counting_a_missing_path_fails_like_adding_it) {
    char idx[512], missing[512];
    snprintf(idx, sizeof idx, "%s/m.lode", tmpdir);
    snprintf(missing, sizeof missing, "%s/missing", tmpdir);
    lode_writer *w;
    lode_error err;
    REQUIRE(lode_writer_open(&w, idx, NULL, &err) == 0);
    uint64_t files, bytes;
    CHECK_EQ_U64(lode_writer_count_path(w, missing, &files, &bytes, &err), (uint64_t)LODE_ENOTFOUND);
    CHECK(strstr(err.message, missing) != NULL);
    CHECK_EQ_U64(lode_writer_add_path(w, missing, &err), (uint64_t)LODE_ENOTFOUND);
    lode_writer_free(w);
}

static int setup(void) {
    if (!mkdtemp(tmpdir)) return -1;
    make_tree();
    return 0;
}

static void teardown(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(defaults_honour_gitignore_and_count_matches_the_walk),
        TEST_CASE(no_ignore_flag_globs_and_max_filesize),
        TEST_CASE(version_one_options_get_none_of_the_filters),
        TEST_CASE(bad_globs_are_refused_when_the_writer_opens),
        TEST_CASE(counting_a_missing_path_fails_like_adding_it),
    };
    if (setup() != 0) {
        perror("mkdtemp");
        return 2;
    }
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    teardown();
    return rc;
}
