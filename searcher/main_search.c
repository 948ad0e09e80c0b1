/*
 * main_search.c - the lode-search program: answers a query from an index
 * through the public API (lode.h) only, and renders the answer for a
 * terminal. Exit status like grep: 0 something matched, 1 nothing, 2 error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lode.h"

#ifndef LODE_DEFAULT_INDEX
#define LODE_DEFAULT_INDEX "index.lode"
#endif

static const char USAGE[] =
    "usage: lode-search [-i INDEX] [-n K] [--all] [--strict] [--passages N] [--color=WHEN] QUERY...\n"
    "\n"
    "Show the K documents (default 10) that best match QUERY, ranked by BM25,\n"
    "each with its best passage and the matched words highlighted.\n"
    "\n"
    "  lode-search 'glycinate sleep dose'\n"
    "  lode-search '\"muscle cramps\" -citrate'\n"
    "  lode-search 'magnes* NEAR/5 sleep' 'title:dosage'\n"
    "\n"
    "Query syntax (docs/QUERY.md):\n"
    "  word word        any of the words; documents with more of them rank higher\n"
    "  \"a phrase\"       the words adjacent and in order\n"
    "  a AND b, a OR b, a NOT b, ( )   operators in capitals\n"
    "  +word -word      required, excluded\n"
    "  prefix*          words starting with prefix (at least 2 characters)\n"
    "  a NEAR/5 b       both within 5 words, any order; also NEAR(a b c, 5)\n"
    "  title:word       in the title only;  path:glob  only files whose path matches\n"
    "\n"
    "  -i, --index INDEX   index to search (default: $LODE_INDEX, else ./index.lode,\n"
    "                      else the example corpus index built with lode)\n"
    "  -n, --max-count K   number of documents to show\n"
    "  --all               every bare word must occur (default: any word)\n"
    "  --strict            a query that is not valid syntax is an error, not words\n"
    "  --passages N        passages to show per document (default 1)\n"
    "  --format trec       print 'QID Q0 DOCID RANK SCORE RUN' lines (DOCID: file name\n"
    "                      without extension); --run-id NAME (default lode),\n"
    "                      --queries FILE reads 'QID<TAB>query' lines (- for stdin)\n"
    "  --color=WHEN        auto (default: when stdout is a terminal and NO_COLOR is\n"
    "                      unset), always, never\n"
    "  -h, --help          this help;  --version  the version\n"
    "\n"
    "Exit status: 0 a document matched, 1 none did, 2 an error.\n";

#define C_PATH "\033[35m"
#define C_LINE "\033[32m"
#define C_TITLE "\033[1m"
#define C_MATCH "\033[1;31m"
#define C_DIM "\033[2m"
#define C_RESET "\033[0m"

typedef struct out_style {
    int color;
} out_style;

/* Write bytes for a terminal: control characters other than tab would let a
 * file move the cursor or change colours, so they become '?'. */
static void put_text(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) ch = '?';
        putchar(ch);
    }
}

/* Line ends inside a passage: LF, CRLF (one end) or a lone CR, as indexed. */
static int line_end_at(const char *t, size_t n, size_t i, size_t *len) {
    if (t[i] == '\n') {
        *len = 1;
        return 1;
    }
    if (t[i] == '\r') {
        *len = (i + 1 < n && t[i + 1] == '\n') ? 2 : 1;
        return 1;
    }
    return 0;
}

/* The line number of byte `at` of a passage. */
static unsigned line_of(const lode_passage *ps, size_t at) {
    unsigned line = ps->line;
    size_t len;
    for (size_t i = 0; i < at && i < ps->length; i += len) {
        len = 1;
        if (line_end_at(ps->text, ps->length, i, &len)) line++;
    }
    return line;
}

static void put_line_number(unsigned line, const out_style *st) {
    if (st->color)
        printf("  " C_LINE "%u" C_RESET ": ", line);
    else
        printf("  %u: ", line);
}

/* A passage, each source line with its number, matches marked. */
static void put_passage(const lode_passage *ps, const out_style *st) {
    size_t span = 0;
    unsigned line = ps->line;
    put_line_number(line, st);
    size_t i = 0;
    while (i < ps->length) {
        if (span < ps->span_count && i == ps->spans[span].start) {
            size_t end = ps->spans[span].end;
            if (st->color) fputs(C_MATCH, stdout);
            put_text(ps->text + i, end - i);
            if (st->color) fputs(C_RESET, stdout);
            i = end;
            span++;
            continue;
        }
        size_t len;
        if (line_end_at(ps->text, ps->length, i, &len)) {
            putchar('\n');
            put_line_number(++line, st);
            i += len;
            continue;
        }
        put_text(&ps->text[i], 1);
        i++;
    }
    putchar('\n');
}

static void put_hit(const lode_hit *h, const out_style *st) {
    /* the heading points at the first match, where an editor should jump */
    unsigned line = 1;
    if (h->passage_count) {
        const lode_passage *p = &h->passages[0];
        line = line_of(p, p->span_count ? p->spans[0].start : 0);
    }
    if (st->color)
        printf(C_PATH "%s" C_RESET ":" C_LINE "%u" C_RESET "  " C_DIM "score %.2f" C_RESET "\n", h->path, line,
               h->score);
    else
        printf("%s:%u  score %.2f\n", h->path, line, h->score);
    fputs("  ", stdout);
    if (st->color) fputs(C_TITLE, stdout);
    put_text(h->title, strlen(h->title));
    if (st->color) fputs(C_RESET, stdout);
    putchar('\n');
    for (size_t i = 0; i < h->passage_count; i++) put_passage(&h->passages[i], st);
}

/* TREC run format: the document id is the file name without extension. */
static void put_trec(const char *qid, const lode_results *res, const char *run_id) {
    for (size_t i = 0; i < lode_results_count(res); i++) {
        lode_hit h;
        if (lode_results_get(res, i, &h)) break;
        const char *base = strrchr(h.path, '/');
        base = base ? base + 1 : h.path;
        const char *dot = strrchr(base, '.');
        int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        printf("%s Q0 %.*s %zu %.6f %s\n", qid, len, base, i + 1, h.score, run_id);
    }
}

/* --queries FILE: one "QID<TAB>query" per line. Returns the exit status. */
static int run_queries(lode_index *ix, const char *file, const lode_search_options *opts, const char *run_id) {
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f) {
        fprintf(stderr, "lode-search: cannot open %s\n", file);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int any = 0, failed = 0;
    unsigned long lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n == 0) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "lode-search: %s:%lu: expected QID<TAB>query\n", file, lineno);
            failed = 1;
            continue;
        }
        *tab = '\0';
        lode_results *res = NULL;
        lode_error err = {0, 0, ""};
        if (lode_search(&res, ix, tab + 1, opts, &err)) {
            fprintf(stderr, "lode-search: query %s: %s\n", line, err.message);
            failed = 1;
            continue;
        }
        any |= lode_results_count(res) > 0;
        put_trec(line, res, run_id);
        lode_results_free(res);
    }
    free(line);
    if (f != stdin) fclose(f);
    if (fflush(stdout) != 0) return 2;
    return failed ? 2 : any ? 0 : 1;
}

static const char *default_index(void) {
    const char *env = getenv("LODE_INDEX");
    if (env && *env) return env;
    struct stat sb;
    if (stat("index.lode", &sb) == 0) return "index.lode";
    return LODE_DEFAULT_INDEX;
}

static int parse_count(const char *s, size_t *out) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v == 0 || v > 100000) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    const char *index = NULL;
    lode_search_options opts = LODE_SEARCH_OPTIONS_INIT;
    int color = -1; /* auto */
    int trec = 0;
    const char *run_id = "lode", *queries = NULL;
    size_t qcap = 1, qlen = 0;
    for (int i = 1; i < argc; i++) qcap += strlen(argv[i]) + 1;
    char *query = calloc(qcap, 1);
    if (!query) return 2;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                size_t n = strlen(argv[i]);
                if (qlen) query[qlen++] = ' ';
                memcpy(query + qlen, argv[i], n);
                qlen += n;
            }
            break;
        }
        if ((strcmp(a, "-i") == 0 || strcmp(a, "--index") == 0) && i + 1 < argc) {
            index = argv[++i];
        } else if (strncmp(a, "--index=", 8) == 0) {
            index = a + 8;
        } else if ((strcmp(a, "-n") == 0 || strcmp(a, "--max-count") == 0) && i + 1 < argc) {
            val = argv[++i];
            if (parse_count(val, &opts.limit)) goto bad_number;
        } else if (strcmp(a, "--passages") == 0 && i + 1 < argc) {
            val = argv[++i];
            if (parse_count(val, &opts.passages)) goto bad_number;
        } else if (strcmp(a, "--format=trec") == 0 || (strcmp(a, "--format") == 0 && i + 1 < argc && strcmp(argv[i + 1], "trec") == 0)) {
            if (a[8] != '=') i++;
            trec = 1;
        } else if (strcmp(a, "--format=terminal") == 0 || (strcmp(a, "--format") == 0 && i + 1 < argc && strcmp(argv[i + 1], "terminal") == 0)) {
            if (a[8] != '=') i++;
            trec = 0;
        } else if (strcmp(a, "--bm25") == 0 && i + 1 < argc) {
            /* K1,B,TITLE_WEIGHT: for tuning runs (docs/RANKING.md) */
            val = argv[++i];
            if (sscanf(val, "%lf,%lf,%lf", &opts.bm25_k1, &opts.bm25_b, &opts.title_weight) != 3) {
                fprintf(stderr, "lode-search: --bm25 takes K1,B,TITLE_WEIGHT, not '%s'\n", val);
                goto done;
            }
        } else if (strcmp(a, "--run-id") == 0 && i + 1 < argc) {
            run_id = argv[++i];
        } else if (strcmp(a, "--queries") == 0 && i + 1 < argc) {
            queries = argv[++i];
        } else if (strcmp(a, "--all") == 0) {
            opts.flags |= LODE_SEARCH_ALL_WORDS;
        } else if (strcmp(a, "--strict") == 0) {
            opts.flags |= LODE_SEARCH_STRICT;
        } else if (strcmp(a, "--color=always") == 0 || strcmp(a, "--colour=always") == 0) {
            color = 1;
        } else if (strcmp(a, "--color=never") == 0 || strcmp(a, "--colour=never") == 0) {
            color = 0;
        } else if (strcmp(a, "--color=auto") == 0 || strcmp(a, "--colour=auto") == 0) {
            color = -1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            rc = 0;
            goto done;
        } else if (strcmp(a, "--version") == 0) {
            printf("lode-search %s\n", lode_version());
            rc = 0;
            goto done;
        } else if (a[0] == '-' && a[1] && a[1] != ' ' && qlen == 0 && strchr(a, ' ') == NULL) {
            fprintf(stderr, "lode-search: unknown or incomplete option '%s' (use -- before a query starting with '-')\n",
                    a);
            goto done;
        } else {
            size_t n = strlen(a);
            if (qlen) query[qlen++] = ' ';
            memcpy(query + qlen, a, n);
            qlen += n;
        }
        continue;
    bad_number:
        fprintf(stderr, "lode-search: '%s' is not a count from 1 to 100000\n", val);
        goto done;
    }
    if (qlen == 0 && !queries) {
        fprintf(stderr, "lode-search: no query given\n%s", USAGE);
        goto done;
    }
    if (queries && (qlen || !trec)) {
        fprintf(stderr, "lode-search: --queries goes with --format trec and no QUERY\n");
        goto done;
    }
    if (color < 0) {
        const char *nc = getenv("NO_COLOR");
        color = isatty(STDOUT_FILENO) && !(nc && *nc);
    }
    if (!index) index = default_index();

    lode_index *ix = NULL;
    lode_results *res = NULL;
    lode_error err = {0, 0, ""};
    int e = lode_index_open(&ix, index, &err);
    if (trec) opts.flags |= LODE_SEARCH_NO_PASSAGES;
    if (!e && queries) {
        rc = run_queries(ix, queries, &opts, run_id);
        lode_index_close(ix);
        goto done;
    }
    if (!e) e = lode_search(&res, ix, query, &opts, &err);
    if (e) {
        fprintf(stderr, "lode-search: %s\n", err.message[0] ? err.message : lode_strerror(e));
    } else {
        out_style st = {color};
        const char *note = lode_results_note(res);
        if (note) fprintf(stderr, "lode-search: note: %s\n", note);
        size_t n = lode_results_count(res);
        if (trec) put_trec("1", res, run_id);
        for (size_t i = 0; i < n && !trec; i++) {
            lode_hit h;
            if (lode_results_get(res, i, &h)) break;
            if (i) putchar('\n');
            put_hit(&h, &st);
        }
        rc = n ? 0 : 1;
        if (fflush(stdout) != 0) rc = 2;
    }
    lode_results_free(res);
    lode_index_close(ix);
done:
    free(query);
    return rc;
}
