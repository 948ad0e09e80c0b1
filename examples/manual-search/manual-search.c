/*
 * manual-search - a terminal search over a manual that is compiled into the
 * program: the example of docs/EMBEDDING.md.
 *
 * At build time the pages of the manual (the .md files of lode's docs/ unless
 * told otherwise) are indexed into one bundle file with
 * `lode-index --bundle manual.lode`, and the bundle becomes C source with
 * `lode-index --emit-c manual_index`, which defines the two symbols below.
 * At run time nothing is read from disk: lode_index_open_memory() opens the
 * array where the program's read-only data already is, and every search
 * goes through the public API of liblode, lode.h.
 *
 *   $ manual-search title:ranking
 *   RANKING.md:1  # Ranking in lode
 *       # Ranking in lode
 *
 *       ## The score
 *
 * One line per hit: the page, the line of its best passage, the page's
 * title; then that passage, indented, with the matched words in bold on a
 * terminal. Exit status as grep's: 0 something matched, 1 nothing did,
 * 2 an error.
 */
#include <lode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written by lode-index --emit-c manual_index (manual_index.c). */
extern const unsigned char manual_index[];
extern const size_t manual_index_size;

static const char USAGE[] =
    "usage: manual-search [-n K] QUERY...    search the manual built into this program\n"
    "       manual-search --info             what the built-in index holds\n"
    "\n"
    "QUERY is lode's query language: words, \"a phrase\", prefix*, a NEAR/5 b,\n"
    "AND OR NOT, -excluded, title:word. -n K shows the K best pages (default 5).\n";

/* Print the passage indented, each line on its own, with the highlighted
 * byte ranges between `on` and `off` (empty strings when not a terminal). */
static void print_passage(const lode_passage *p, const char *on, const char *off) {
    size_t span = 0;
    int at_line_start = 1;
    for (size_t i = 0; i < p->length; i++) {
        char ch = p->text[i];
        if (ch == '\r') continue; /* CRLF files: the line ends at '\n' */
        if (at_line_start && ch != '\n') fputs("    ", stdout); /* no indent on a blank line */
        at_line_start = 0;
        if (span < p->span_count && i == p->spans[span].start) fputs(on, stdout);
        putchar(ch);
        if (span < p->span_count && i + 1 == p->spans[span].end) {
            fputs(off, stdout);
            span++;
        }
        if (ch == '\n') at_line_start = 1;
    }
    putchar('\n');
}

static int info(lode_index *ix) {
    lode_index_info in;
    lode_index_get_info(ix, &in);
    printf("%llu pages, %llu passages, %llu words, stemmer %s, %zu bytes built in\n",
           (unsigned long long)in.documents, (unsigned long long)in.passages, (unsigned long long)in.tokens,
           in.stemmer, manual_index_size);
    printf("liblode %s at run time, lode.h %s at build time\n", lode_version(), LODE_VERSION_STRING);
    return 0;
}

int main(int argc, char **argv) {
    size_t top = 5;
    int argi = 1, show_info = 0;
    for (; argi < argc && argv[argi][0] == '-' && argv[argi][1]; argi++) {
        const char *a = argv[argi];
        if (strcmp(a, "--") == 0) {
            argi++;
            break;
        } else if (strcmp(a, "-n") == 0 && argi + 1 < argc) {
            char *end;
            long k = strtol(argv[++argi], &end, 10);
            if (*end || k < 1 || k > 1000) {
                fprintf(stderr, "manual-search: -n takes a number from 1 to 1000\n");
                return 2;
            }
            top = (size_t)k;
        } else if (strcmp(a, "--info") == 0) {
            show_info = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "manual-search: unknown option '%s'\n%s", a, USAGE);
            return 2;
        }
    }
    if (argi == argc && !show_info) {
        fputs(USAGE, stderr);
        return 2;
    }

    /* A library older than the header this was compiled with may lack
     * what the header promised: say so rather than misbehave. */
    if (lode_version_number() < LODE_VERSION_NUMBER) {
        fprintf(stderr, "manual-search: built with lode %s but running with liblode %s\n", LODE_VERSION_STRING,
                lode_version());
        return 2;
    }

    lode_index *ix;
    lode_error err;
    if (lode_index_open_memory(&ix, manual_index, manual_index_size, "manual_index", &err) != 0) {
        fprintf(stderr, "manual-search: the built-in index: %s\n", err.message);
        return 2;
    }
    if (show_info) {
        int rc = info(ix);
        lode_index_close(ix);
        return rc;
    }

    /* The words of the command line are one query, as lode-search reads them. */
    size_t qlen = 0;
    for (int i = argi; i < argc; i++) qlen += strlen(argv[i]) + 1;
    char *query = malloc(qlen + 1);
    if (!query) {
        lode_index_close(ix);
        return 2;
    }
    size_t used = 0;
    for (int i = argi; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i > argi) query[used++] = ' ';
        memcpy(query + used, argv[i], n);
        used += n;
    }
    query[used] = '\0';

    lode_search_options opts = LODE_SEARCH_OPTIONS_INIT;
    opts.limit = top;
    lode_results *res;
    int rc = lode_search(&res, ix, query, &opts, &err);
    free(query);
    if (rc != 0) {
        fprintf(stderr, "manual-search: %s\n", err.message);
        lode_index_close(ix);
        return 2;
    }
    if (lode_results_note(res)) fprintf(stderr, "manual-search: %s\n", lode_results_note(res));

    int tty = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    const char *on = tty ? "\033[1m" : "", *off = tty ? "\033[0m" : "";
    size_t n = lode_results_count(res);
    for (size_t i = 0; i < n; i++) {
        lode_hit hit;
        lode_results_get(res, i, &hit);
        if (i > 0) putchar('\n');
        printf("%s:%u  %s\n", hit.path, hit.passage_count ? hit.passages[0].line : 1u, hit.title);
        if (hit.passage_count) print_passage(&hit.passages[0], on, off);
    }
    lode_results_free(res);
    lode_index_close(ix);
    return n ? 0 : 1;
}
