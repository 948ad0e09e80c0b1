/*
 * test_concurrent_search.c - one opened index, many threads searching it at
 * once: every thread must get exactly the answers a single thread gets
 * (paths, scores, passages, highlights, stored text), from a folder index
 * of several segments and from a bundle opened in memory. Each round opens
 * the index afresh and releases all threads together through a barrier, so
 * that they race on the first reads of every page (the lazily verified page
 * checksums, the one piece of state an opened index changes after open).
 * lode_index_check() and lode_index_get_info() run alongside. Before them,
 * the writer's helper threads are held to the bytes one thread writes.
 *
 * ctest runs it twice: linked to the ordinary library (under ASan in the
 * sanitizer build), and as test_concurrent_search_tsan, compiled together
 * with the library under ThreadSanitizer, which fails the test on any data
 * race. Run alone: test_concurrent_search [CASE].
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

#define THREADS 8
#define ROUNDS 3

/* Words, a phrase, a prefix, NEAR, fields, boolean operators, exclusion,
 * an invalid query searched as words, and one that finds nothing. */
static const char *const QUERIES[] = {
    "glycinate sleep dose",
    "\"restless legs\"",
    "magn*",
    "magnesium NEAR/5 cramps",
    "title:dosage",
    "(anxiety OR insomnia) AND -citrate",
    "+glycinate +absorption",
    "muscle (cramps",
    "path:*clinic*",
    "zzzz-never-indexed",
};
#define NQUERIES (sizeof QUERIES / sizeof QUERIES[0])

/* A growable string: the whole answer to a query, as text. */
typedef struct sig {
    char *s;
    size_t len, cap;
    int oom;
} sig;

#if defined(__GNUC__)
static void sig_add(sig *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
static void sig_add(sig *g, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || g->oom) return;
    if ((size_t)n >= sizeof tmp) n = (int)sizeof tmp - 1;
    if (g->len + (size_t)n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        while (cap < g->len + (size_t)n + 1) cap *= 2;
        char *p = realloc(g->s, cap);
        if (!p) {
            g->oom = 1;
            return;
        }
        g->s = p;
        g->cap = cap;
    }
    memcpy(g->s + g->len, tmp, (size_t)n + 1);
    g->len += (size_t)n;
}

/* Everything a search returns for `q`, and the first bytes of the best
 * document's stored text, as one string (NULL when out of memory). */
static char *answer(lode_index *ix, const char *q) {
    sig g = {NULL, 0, 0, 0};
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.passages = 2;
    lode_results *r;
    lode_error err;
    int rc = lode_search(&r, ix, q, &o, &err);
    sig_add(&g, "rc %d\n", rc);
    if (rc == 0) {
        if (lode_results_note(r)) sig_add(&g, "note %s\n", lode_results_note(r));
        for (size_t i = 0; i < lode_results_count(r); i++) {
            lode_hit h;
            lode_results_get(r, i, &h);
            sig_add(&g, "%s|%s|%.9g|%llu\n", h.path, h.title, h.score, (unsigned long long)h.size);
            for (size_t p = 0; p < h.passage_count; p++) {
                const lode_passage *ps = &h.passages[p];
                sig_add(&g, " %llu:%u:%zu", (unsigned long long)ps->offset, ps->line, ps->length);
                for (size_t k = 0; k < ps->span_count; k++) sig_add(&g, " [%u,%u)", ps->spans[k].start, ps->spans[k].end);
                sig_add(&g, "\n");
            }
            if (i == 0) {
                char buf[64];
                size_t got;
                rc = lode_index_read_text(ix, h.doc, 0, buf, sizeof buf - 1, &got, &err);
                buf[rc ? 0 : got] = '\0';
                sig_add(&g, "text %d %s\n", rc, buf);
            }
        }
        lode_results_free(r);
    }
    if (g.oom) {
        free(g.s);
        return NULL;
    }
    return g.s;
}

typedef struct shared {
    lode_index *ix;
    pthread_barrier_t start;
    char *expected[NQUERIES];
} shared;

typedef struct worker {
    shared *sh;
    int id;
    int mismatches;
    int check_failures;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    shared *sh = w->sh;
    pthread_barrier_wait(&sh->start);
    for (size_t i = 0; i < NQUERIES * 2; i++) {
        /* each thread starts at another query, so that they meet on
         * different pages */
        size_t q = (i + (size_t)w->id * 3) % NQUERIES;
        char *got = answer(sh->ix, QUERIES[q]);
        if (!got || strcmp(got, sh->expected[q]) != 0) {
            if (w->mismatches++ == 0)
                fprintf(stderr, "thread %d, query %s:\n--- got\n%s--- expected\n%s", w->id, QUERIES[q],
                        got ? got : "(out of memory)\n", sh->expected[q]);
        }
        free(got);
        if (w->id == 0 && i == 1) {
            lode_error err;
            if (lode_index_check(sh->ix, &err) != 0) w->check_failures++;
            lode_index_info info;
            lode_index_get_info(sh->ix, &info);
            if (info.documents == 0) w->check_failures++;
        }
    }
    return NULL;
}

typedef int (*open_fn)(lode_index **ix, void *ctx);

/* ROUNDS rounds of THREADS threads, each round on a freshly opened index. */
static void race(open_fn open_index, void *ctx) {
    shared sh;
    memset(&sh, 0, sizeof sh);
    REQUIRE(open_index(&sh.ix, ctx) == 0);
    for (size_t q = 0; q < NQUERIES; q++) REQUIRE((sh.expected[q] = answer(sh.ix, QUERIES[q])) != NULL);
    CHECK(strncmp(sh.expected[0], "rc 0\n", 5) == 0 && strchr(sh.expected[0], '|') != NULL);
    lode_index_close(sh.ix);
    int mismatches = 0, check_failures = 0;
    for (int round = 0; round < ROUNDS; round++) {
        REQUIRE(open_index(&sh.ix, ctx) == 0);
        REQUIRE(pthread_barrier_init(&sh.start, NULL, THREADS) == 0);
        pthread_t t[THREADS];
        worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (worker){&sh, i, 0, 0};
            REQUIRE(pthread_create(&t[i], NULL, work, &w[i]) == 0);
        }
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            mismatches += w[i].mismatches;
            check_failures += w[i].check_failures;
        }
        pthread_barrier_destroy(&sh.start);
        lode_index_close(sh.ix);
    }
    CHECK_EQ_U64(mismatches, 0);
    CHECK_EQ_U64(check_failures, 0);
    for (size_t q = 0; q < NQUERIES; q++) free(sh.expected[q]);
}

static char tmpdir[] = "/tmp/lode-concurrent-XXXXXX";
static char folder[600], bundle[600];

/* The example corpus twice: as a folder of one segment per document (a
 * budget of one byte flushes after each), and as a bundle. */
static int build_indexes(void) {
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(folder, sizeof folder, "%s/multi.lode", tmpdir);
    snprintf(bundle, sizeof bundle, "%s/one.lode", tmpdir);
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    lode_writer *w;
    lode_error err;
    o.memory_budget = 1;
    if (lode_writer_open(&w, folder, &o, &err) || lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) ||
        lode_writer_commit(w, &err)) {
        fprintf(stderr, "%s\n", err.message);
        lode_writer_free(w);
        return -1;
    }
    lode_writer_free(w);
    o = (lode_writer_options)LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE;
    if (lode_writer_open(&w, bundle, &o, &err) || lode_writer_add_path(w, LODE_SOURCE_DIR "/corpus", &err) ||
        lode_writer_commit(w, &err)) {
        fprintf(stderr, "%s\n", err.message);
        lode_writer_free(w);
        return -1;
    }
    lode_writer_free(w);
    return 0;
}

static int open_folder(lode_index **ix, void *ctx) {
    (void)ctx;
    lode_error err;
    int rc = lode_index_open(ix, folder, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    return rc;
}

typedef struct memory {
    unsigned char *data;
    size_t size;
} memory;

static int open_memory(lode_index **ix, void *ctx) {
    memory *m = ctx;
    lode_error err;
    int rc = lode_index_open_memory(ix, m->data, m->size, "bundle in memory", &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    return rc;
}

/* The writer's own threads (one compresses stored text, one shares the
 * encoding of postings while a segment is written) give the bytes the
 * caller's thread alone gives; under ThreadSanitizer, without a race. The
 * text is large enough (some 700 KiB of the project's files and 3 MiB of
 * one made-up document) for both helpers to work. */
static int write_bundle(const char *path, unsigned flags, const char *big, size_t big_len) {
    static const char *const sources[] = {"/docs", "/corpus", "/indexer", "/searcher"};
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.flags = LODE_WRITER_BUNDLE | flags;
    lode_writer *w;
    lode_error err;
    int rc = lode_writer_open(&w, path, &o, &err);
    for (size_t i = 0; !rc && i < sizeof sources / sizeof sources[0]; i++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s%s", LODE_SOURCE_DIR, sources[i]);
        rc = lode_writer_add_path(w, dir, &err);
    }
    if (!rc) rc = lode_writer_add_document(w, "big.txt", big, big_len, 0, &err);
    if (!rc) rc = lode_writer_commit(w, &err);
    if (rc) fprintf(stderr, "%s\n", err.message);
    lode_writer_free(w);
    return rc;
}

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *data = NULL;
    *size = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) != NULL)
            *size = fread(data, 1, (size_t)n, f);
    }
    fclose(f);
    return data;
}

TEST(the_writers_threads_write_what_one_thread_writes) {
    char threaded[640], alone[640];
    snprintf(threaded, sizeof threaded, "%s/threaded.lode", tmpdir);
    snprintf(alone, sizeof alone, "%s/alone.lode", tmpdir);
    /* and one document where "w" occurs 1.2 million times: its postings
     * are large enough to be encoded apart from the batches */
    size_t cap = (size_t)4 << 20, len = 0;
    char *big = malloc(cap);
    REQUIRE(big != NULL);
    for (unsigned i = 0; len + 32 < cap && i < 1200000; i++) {
        memcpy(big + len, "w ", 2);
        len += 2;
        if (i % 7 == 0) len += (size_t)snprintf(big + len, cap - len, "k%u ", i % 5000);
    }
    REQUIRE(write_bundle(threaded, 0, big, len) == 0);
    REQUIRE(write_bundle(alone, LODE_WRITER_NO_THREADS, big, len) == 0);
    free(big);
    size_t n1, n2;
    unsigned char *a = slurp(threaded, &n1), *b = slurp(alone, &n2);
    REQUIRE(a && b);
    CHECK(n1 > (256u << 10));
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
    unlink(threaded);
    unlink(alone);
}

TEST(threads_searching_one_folder_index_of_many_segments_agree_with_one_thread) {
    lode_index *ix;
    REQUIRE(open_folder(&ix, NULL) == 0);
    lode_index_info info;
    lode_index_get_info(ix, &info);
    lode_index_close(ix);
    CHECK(info.segments > 1);
    race(open_folder, NULL);
}

TEST(threads_searching_one_bundle_in_memory_agree_with_one_thread) {
    FILE *f = fopen(bundle, "rb");
    REQUIRE(f != NULL);
    memory m = {malloc(1 << 20), 0};
    if (m.data) m.size = fread(m.data, 1, 1 << 20, f);
    fclose(f);
    REQUIRE(m.data && m.size > 0 && m.size < (1 << 20));
    race(open_memory, &m);
    free(m.data);
}

int main(int argc, char **argv) {
    if (build_indexes() != 0) return 2;
    static const test_case cases[] = {
        TEST_CASE(the_writers_threads_write_what_one_thread_writes),
        TEST_CASE(threads_searching_one_folder_index_of_many_segments_agree_with_one_thread),
        TEST_CASE(threads_searching_one_bundle_in_memory_agree_with_one_thread),
    };
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
