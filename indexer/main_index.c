/*
 * main_index.c - the lode-index program: builds an index from files and
 * folders through the public API (lode.h) only. Prints warnings and the
 * summary; the library itself never prints.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lode.h"

#define DEFAULT_INDEX "index.lode"

static const char USAGE[] =
    "usage: lode-index [-o INDEX] [--stemmer LANG] [--memory MB] [-q|-v] PATH...\n"
    "       lode-index --check INDEX\n"
    "\n"
    "Index the text files under each PATH into INDEX (default " DEFAULT_INDEX "),\n"
    "replacing what it held, atomically. Binary files are skipped.\n"
    "\n"
    "  lode-index -o notes.lode ~/notes      index a folder\n"
    "  lode-search -i notes.lode 'query'     then search it\n"
    "\n"
    "  -o, --output INDEX   index folder to write (created if missing)\n"
    "  --stemmer LANG       Snowball stemmer: english (default), french, german, ..., or none\n"
    "  --memory MB          memory budget before a segment is written (default 256)\n"
    "  --check              verify every checksum of INDEX and exit\n"
    "  -q, --quiet          no summary\n"
    "  -v, --verbose        name every skipped file and why\n"
    "  -h, --help           this help;  --version  the version\n"
    "\n"
    "Exit status: 0 all files indexed, 1 some skipped for errors, 2 failure.\n";

typedef struct cli {
    int quiet;
    int verbose;
} cli;

static void on_event(void *ctx, const lode_event *ev) {
    const cli *c = ctx;
    switch (ev->kind) {
    case LODE_EVENT_SKIPPED_ERROR:
        if (!c->quiet) fprintf(stderr, "lode-index: warning: %s: %s\n", ev->path, ev->message);
        break;
    case LODE_EVENT_SKIPPED_LIMIT:
        if (!c->quiet) fprintf(stderr, "lode-index: warning: %s: %s\n", ev->path, ev->message);
        break;
    case LODE_EVENT_SKIPPED_BINARY:
        if (c->verbose) fprintf(stderr, "lode-index: skipped %s: %s\n", ev->path, ev->message);
        break;
    case LODE_EVENT_SEGMENT_FLUSHED:
        if (c->verbose) fprintf(stderr, "lode-index: wrote segment %s\n", ev->path);
        break;
    case LODE_EVENT_INDEXED:
        break;
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(uint64_t n, char *out, size_t cap) {
    if (n < 1024)
        snprintf(out, cap, "%llu bytes", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)n / 1024);
    else
        snprintf(out, cap, "%.1f MiB", (double)n / (1024 * 1024));
}

static int parse_size_mb(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > (1ull << 20)) return -1;
    *out = (size_t)v << 20;
    return 0;
}

static int check_index(const char *path) {
    lode_index *ix;
    lode_error err = {0, 0, ""};
    int rc = lode_index_open(&ix, path, &err);
    if (!rc) rc = lode_index_check(ix, &err);
    if (rc) {
        fprintf(stderr, "lode-index: %s\n", err.message);
        lode_index_close(ix);
        return 2;
    }
    lode_index_info info;
    lode_index_get_info(ix, &info);
    printf("%s: ok: %llu documents, %llu passages, %llu tokens, %u segments, stemmer %s\n", path,
           (unsigned long long)info.documents, (unsigned long long)info.passages,
           (unsigned long long)info.tokens, info.segments, info.stemmer);
    lode_index_close(ix);
    return 0;
}

int main(int argc, char **argv) {
    const char *output = DEFAULT_INDEX;
    lode_writer_options opts = LODE_WRITER_OPTIONS_INIT;
    cli c = {0, 0};
    int check = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int npaths = 0;
    if (!paths) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc) paths[npaths++] = argv[i];
            break;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            output = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0) {
            output = a + 9;
        } else if (strcmp(a, "--stemmer") == 0 && i + 1 < argc) {
            opts.stemmer = argv[++i];
        } else if (strncmp(a, "--stemmer=", 10) == 0) {
            opts.stemmer = a + 10;
        } else if ((strcmp(a, "--memory") == 0 && i + 1 < argc) || strncmp(a, "--memory=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : argv[++i];
            if (parse_size_mb(v, &opts.memory_budget)) {
                fprintf(stderr, "lode-index: --memory takes a number of MiB, not '%s'\n", v);
                free(paths);
                return 2;
            }
        } else if (strcmp(a, "--check") == 0) {
            check = 1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            c.quiet = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            c.verbose = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            free(paths);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("lode-index %s\n", lode_version());
            free(paths);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "lode-index: unknown or incomplete option '%s'\n%s", a, USAGE);
            free(paths);
            return 2;
        } else {
            paths[npaths++] = a;
        }
    }
    if (check) {
        int rc = check_index(npaths ? paths[0] : output);
        free(paths);
        return rc;
    }
    if (npaths == 0) {
        fprintf(stderr, "lode-index: no PATH to index\n%s", USAGE);
        free(paths);
        return 2;
    }
    opts.on_event = on_event;
    opts.event_ctx = &c;
    double t0 = now();
    lode_writer *w;
    lode_error err = {0, 0, ""};
    int rc = lode_writer_open(&w, output, &opts, &err);
    if (rc) {
        fprintf(stderr, "lode-index: %s\n", err.message);
        free(paths);
        return 2;
    }
    /* a PATH that cannot be read at all is most likely a typo: committing
     * without it would silently drop its documents from the index */
    for (int i = 0; i < npaths && !rc; i++) rc = lode_writer_add_path(w, paths[i], &err);
    if (!rc) rc = lode_writer_commit(w, &err);
    if (rc) {
        fprintf(stderr, "lode-index: %s; the index was not changed\n", err.message);
        lode_writer_free(w);
        free(paths);
        return 2;
    }
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    lode_writer_free(w);
    free(paths);
    double secs = now() - t0;
    if (!c.quiet) {
        char size[32];
        human_bytes(st.bytes_indexed, size, sizeof size);
        fprintf(stderr,
                "lode-index: %s: indexed %llu files (%s, %llu words) in %.2f s; skipped %llu binary, "
                "%llu unreadable, %llu too large\n",
                output, (unsigned long long)st.files_indexed, size, (unsigned long long)st.tokens_indexed, secs,
                (unsigned long long)st.files_skipped_binary,
                (unsigned long long)st.files_skipped_error,
                (unsigned long long)st.files_skipped_limit);
    }
    return st.files_skipped_error || st.files_skipped_limit ? 1 : 0;
}
