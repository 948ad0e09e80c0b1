/*
 * parse_scaling.c - does parsing time grow linearly with the query length?
 * Shapes that would make a careless lexer or parser rescan the rest of the
 * query (fields glued to fields, commas and quotes inside NEAR( ), long
 * whitespace, operators, nesting) are parsed at 1 KiB and at 8 KiB; the
 * ratio should be about 8, a quadratic shape gives about 64. A timing, so
 * a benchmark and not a test (tests/unit/test_query_parse.c once held it;
 * the input that found the quadratic case, "title:title:...", is kept in
 * tests/fuzz/query_corpus/).
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Iindexer -Isearcher \
 *      bench/parse_scaling.c BUILD/liblode.a -lutf8proc -lstemmer -lz -lm -pthread -o /tmp/parse_scaling
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indexer.h"
#include "query.h"

static void parse_once(const char *q, size_t n, int strict, int all) {
    qnode *tree = NULL;
    char *note = NULL;
    lode_error err;
    if (query_parse(&tree, q, n, strict, all, &note, &err) == 0) qnode_free(tree);
    lode_free(note);
}

/* CPU seconds to parse `reps` times in both modes, `unit` repeated to
 * `bytes` bytes: the best of five runs, since noise only adds time. */
static double parse_seconds(const char *unit, size_t bytes, int reps) {
    char *q = malloc(bytes + 2);
    size_t n = 0, m = strlen(unit);
    double best = 1e9;
    if (!q) return best;
    while (n + m <= bytes) {
        memcpy(q + n, unit, m);
        n += m;
    }
    q[n++] = 'z';
    q[n] = '\0';
    for (int run = 0; run < 5; run++) {
        clock_t t0 = clock();
        for (int k = 0; k < reps; k++)
            for (int strict = 0; strict <= 1; strict++) parse_once(q, n, strict, k & 1);
        double t = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (t < best) best = t;
    }
    free(q);
    return best;
}

int main(void) {
    static const char *const units[] = {
        "title:", "path:", "x:", "a,", ",5 ", "NEAR(a ", "NEAR(a,b ", "    ", "\"a\" ", "\"a ", "(a ",
        "a) ", "a NEAR ", "a NEAR/3 ", "+", "-a ", "a AND ", "OR ", "\xC2\xA0", "\xFF", "**", "title:(",
    };
    size_t small = LODE_MAX_QUERY_BYTES / 8 - 2, large = LODE_MAX_QUERY_BYTES - 2;
    int worst = 0;
    printf("| shape | 1 KiB s | 8 KiB s | ratio |\n|---|---|---|---|\n");
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        double t1 = parse_seconds(units[u], small, 40), t8 = parse_seconds(units[u], large, 40);
        double ratio = t1 > 0 ? t8 / t1 : 0;
        printf("| `%s` | %.4f | %.4f | %.1f |\n", units[u], t1, t8, ratio);
        if (t8 > 24 * t1 + 0.002) worst = 1;
    }
    if (worst) printf("\nat least one shape grows faster than linearly\n");
    return worst;
}
