/*
 * lode_driver - in-process query latency of lode, for bench/run.py.
 *
 *   lode_driver INDEX QUERIES.tsv REPS [passages|nopassages] [noexpand]
 *
 * Opens INDEX once, runs every query of QUERIES.tsv (lines CLASS<TAB>QUERY,
 * # comments) once to warm up, then REPS more times, timing each
 * lode_search() with clock_gettime(CLOCK_MONOTONIC). Top 10, one best
 * passage per document as lode-search shows by default ("passages"), or
 * LODE_SEARCH_NO_PASSAGES to time ranking alone; "noexpand" adds
 * LODE_SEARCH_NO_EXPAND (no query expansion, docs/RANKING.md). The hits are read back
 * (path, title, the passage bytes and spans) inside the timing, as a caller
 * would. Prints one line per query and repetition: "QUERY_NO REP NS HITS".
 *
 * Built by bench/run.py: cc -O2 -I BUILD/../include bench/lode_driver.c
 * BUILD/liblode.a -lutf8proc -lstemmer -lz -lm -pthread
 */
#define _POSIX_C_SOURCE 200809L
#include <lode.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile unsigned long sink;

static long run_one(lode_index *ix, const char *q, const lode_search_options *opts)
{
    lode_results *res = NULL;
    lode_error err;
    int rc = lode_search(&res, ix, q, opts, &err);
    if (rc != 0) {
        fprintf(stderr, "lode_driver: %s: %s\n", q, err.message);
        return -1;
    }
    size_t n = lode_results_count(res);
    for (size_t i = 0; i < n; i++) {
        lode_hit hit;
        lode_results_get(res, i, &hit);
        sink += strlen(hit.path) + strlen(hit.title);
        for (size_t p = 0; p < hit.passage_count; p++)
            sink += hit.passages[p].length + hit.passages[p].span_count + (unsigned char)hit.passages[p].text[0];
    }
    lode_results_free(res);
    return (long)n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: lode_driver INDEX QUERIES.tsv REPS [passages|nopassages] [noexpand]\n");
        return 2;
    }
    int reps = (int)strtol(argv[3], NULL, 10);
    lode_search_options opts = LODE_SEARCH_OPTIONS_INIT;
    opts.limit = 10;
    if (argc > 4 && strcmp(argv[4], "nopassages") == 0)
        opts.flags |= LODE_SEARCH_NO_PASSAGES;
    if (argc > 5 && strcmp(argv[5], "noexpand") == 0)
        opts.flags |= LODE_SEARCH_NO_EXPAND;

    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    char **queries = NULL;
    size_t nq = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    while (getline(&line, &linecap, f) > 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
            continue;
        char *tab = strchr(line, '\t');
        const char *q = tab ? tab + 1 : line;
        if (nq == cap) {
            cap = cap ? cap * 2 : 256;
            queries = realloc(queries, cap * sizeof *queries);
        }
        queries[nq++] = strdup(q);
    }
    free(line);
    fclose(f);

    lode_index *ix;
    lode_error err;
    long long t0 = now_ns();
    if (lode_index_open(&ix, argv[1], &err) != 0) {
        fprintf(stderr, "lode_driver: %s\n", err.message);
        return 2;
    }
    fprintf(stderr, "lode_driver: opened %s in %lld ns\n", argv[1], now_ns() - t0);
    for (size_t i = 0; i < nq; i++)
        run_one(ix, queries[i], &opts);
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < nq; i++) {
            long long a = now_ns();
            long hits = run_one(ix, queries[i], &opts);
            long long b = now_ns();
            printf("%zu %d %lld %ld\n", i, r, b - a, hits);
        }
    }
    lode_index_close(ix);
    for (size_t i = 0; i < nq; i++)
        free(queries[i]);
    free(queries);
    return 0;
}
