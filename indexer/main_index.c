/*
 * main_index.c - the lode-index program: builds an index from files and
 * folders through the public API (lode.h) only. Prints warnings, the
 * progress line and the summary; the library itself never prints, it
 * reports every file through the event callback and this file turns the
 * events into text.
 *
 * Progress: on a terminal (and without --quiet) one line on stderr, redrawn
 * in place with '\r' at most ten times a second and erased at the end, so
 * that the scrollback keeps only warnings and the summary. The estimate of
 * the time left needs the total: before indexing, lode_writer_count_path()
 * walks the same paths with the same filters without reading a file. That
 * walk costs a small part of the run (folder listings and inodes only, no
 * file contents) and warms the cache for the real walk; it is done only
 * when the line is drawn, so pipes and scripts never pay for it. The time
 * left is extrapolated from the bytes done so far (the work is reading and
 * tokenizing bytes, not opening files).
 *
 * Besides indexing into a folder, four modes: --bundle FILE writes the
 * index as one self-contained file; --compact INDEX re-indexes an index
 * from its stored text into one segment (in place, into -o, or as a
 * bundle); --emit-c NAME prints a bundle as C source, to be compiled into a
 * program that opens it with lode_index_open_memory(); --check verifies
 * every checksum and decodes every structure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lode.h"
#include "utf8_seq.h"

#define DEFAULT_INDEX "index.lode"

static const char USAGE_LINE[] =
    "usage: lode-index [-o INDEX|--bundle FILE] [--include GLOB] [--exclude GLOB] [--no-ignore]\n"
    "                  [--max-filesize NUM] [--stemmer LANG] [--memory MB] [-q|-v] PATH...\n"
    "       lode-index --compact INDEX [-o INDEX|--bundle FILE]\n"
    "       lode-index --emit-c NAME [-o FILE.c] BUNDLE\n"
    "       lode-index --check INDEX\n";

static const char HELP_EXAMPLES[] =
    "lode-index: index the text files under each PATH for lode-search.\n"
    "\n"
    "  lode-index -o notes.lode ~/notes             index a folder\n"
    "  lode-index -o src.lode --include '*.c' src   only some files\n"
    "  lode-index --exclude 'drafts/' ~/notes       all but the drafts folders\n"
    "  lode-search -i notes.lode 'query'            then search\n"
    "\n";

static const char HELP_OPTIONS[] =
    "\n"
    "  -o, --output INDEX    index folder to write (default " DEFAULT_INDEX "); replaced atomically\n"
    "  --bundle FILE         write the index as one self-contained file instead\n"
    "  --include GLOB        index only files matching GLOB (repeatable)\n"
    "  --exclude GLOB        leave out files and folders matching GLOB (repeatable; wins)\n"
    "  --max-filesize NUM    skip files larger than NUM bytes (suffix K, M or G)\n"
    "  --no-ignore           do not honour .gitignore and .ignore files\n"
    "  --stemmer LANG        Snowball stemmer: english (default), french, german, ..., none\n"
    "  --memory MB           memory budget before a segment is written (default 256)\n"
    "  --compact             rewrite the index INDEX as one segment, from its stored text\n"
    "  --emit-c NAME         print BUNDLE as C source: const unsigned char NAME[]\n"
    "  --check               verify every checksum and structure of INDEX and exit\n"
    "  -q, --quiet           no progress line, no summary (read errors are still named)\n"
    "  -v, --verbose         also name every file skipped or left out, and why\n"
    "  -h, --help            this help;  --version  the version\n"
    "\n"
    "A GLOB without '/' matches names at any depth, one with '/' paths below PATH;\n"
    "'**' spans folders. Binary files are skipped.\n"
    "Exit status: 0 all indexed, 1 some files could not be read, 2 nothing written.\n"
    "More in lode-index(1).\n";

typedef struct progress {
    int on;                /* draw it: stderr is a terminal and no --quiet */
    int shown;             /* a line is on the screen now */
    size_t width;          /* characters of that line */
    double start;          /* when indexing began (after the count) */
    double last;           /* when the line was last drawn */
    uint64_t files;        /* files done, whatever happened to them */
    uint64_t bytes;        /* bytes of those files */
    int have_total;        /* the count succeeded: an estimate is possible */
    uint64_t total_files;
    uint64_t total_bytes;
} progress;

typedef struct cli {
    int quiet;
    int verbose;
    int bundle;              /* the output is a bundle file */
    uint64_t max_filesize;   /* --max-filesize, 0 when not given */
    uint64_t skipped_asked;  /* files skipped by --max-filesize: asked for, not errors */
    progress pg;
} cli;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_clear(progress *p) {
    if (!p->shown) return;
    fprintf(stderr, "\r%*s\r", (int)p->width, "");
    p->shown = 0;
    p->width = 0;
}

/* Replace the line on the screen with `line`, cut to the terminal's width:
 * a line that wraps cannot be redrawn with '\r'. */
static void progress_show(progress *p, const char *line) {
    size_t n = strlen(line);
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && n >= ws.ws_col) n = ws.ws_col - 1u;
    int pad = p->width > n ? (int)(p->width - n) : 0;
    fprintf(stderr, "\r%.*s%*s", (int)n, line, pad, "");
    if (pad) fprintf(stderr, "\r%.*s", (int)n, line);
    p->shown = 1;
    p->width = n;
}

/* The unit to show `n` bytes in, and its size. */
static const char *size_unit(uint64_t n, double *scale) {
    if (n >= (uint64_t)1 << 30) {
        *scale = 1024.0 * 1024.0 * 1024.0;
        return "GiB";
    }
    if (n >= (uint64_t)1 << 20) {
        *scale = 1024.0 * 1024.0;
        return "MiB";
    }
    *scale = 1024.0;
    return "KiB";
}

static void progress_draw(progress *p, double t) {
    char line[256], eta[48] = "", rate[32] = "";
    double elapsed = t - p->start, scale;
    /* the first half second says nothing about the rate: start-up, cache */
    if (elapsed >= 0.5) snprintf(rate, sizeof rate, ", %.1f MiB/s", (double)p->bytes / (1024.0 * 1024.0) / elapsed);
    if (p->have_total) {
        double done = p->total_bytes ? (double)p->bytes / (double)p->total_bytes
                                     : p->total_files ? (double)p->files / (double)p->total_files : 0;
        if (done > 1) done = 1;
        if (elapsed >= 1 && done > 0.001 && done < 1) {
            long left = (long)(elapsed * (1 - done) / done + 0.5);
            if (left >= 3600)
                snprintf(eta, sizeof eta, ", about %ld:%02ld:%02ld left", left / 3600, left / 60 % 60, left % 60);
            else
                snprintf(eta, sizeof eta, ", about %ld:%02ld left", left / 60, left % 60);
        }
        uint64_t files = p->files < p->total_files ? p->files : p->total_files;
        /* both sizes in the unit of the total: "12.0/40.0 KiB" */
        const char *unit = size_unit(p->total_bytes > p->bytes ? p->total_bytes : p->bytes, &scale);
        snprintf(line, sizeof line, "lode-index: %llu/%llu files, %.1f/%.1f %s%s%s", (unsigned long long)files,
                 (unsigned long long)p->total_files, (double)p->bytes / scale, (double)p->total_bytes / scale,
                 unit, rate, eta);
    } else {
        const char *unit = size_unit(p->bytes, &scale);
        snprintf(line, sizeof line, "lode-index: %llu files, %.1f %s%s", (unsigned long long)p->files,
                 (double)p->bytes / scale, unit, rate);
    }
    progress_show(p, line);
    p->last = t;
}

/* One more file is done: redraw at most ten times a second. The first
 * file draws at once, so that even a short run shows the line. */
static void progress_file(progress *p, uint64_t bytes) {
    if (!p->on) return;
    p->files++;
    p->bytes += bytes;
    double t = now();
    if (!p->shown || t - p->last >= 0.1) progress_draw(p, t);
}


/* Length of the character at s if a message may show it as it is: a
 * printable ASCII character but '"' and '\', or a well-formed UTF-8
 * character but a C1 control (U+0080 to U+009F, which some terminals
 * obey). 0 for anything else. */
static size_t shown_len(const unsigned char *s, size_t avail) {
    size_t len = utf8_seq_len(s, avail);
    if (len == 1) return s[0] >= 0x20 && s[0] != 0x7f && s[0] != '"' && s[0] != '\\';
    if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0) return 0;
    return len;
}

/* A path as a message names it. A file name may hold any byte but '/' and
 * NUL: printed raw, a newline would split the warning in two, an escape
 * sequence would drive the terminal, and bytes that are not UTF-8 would not
 * say which file was meant. So a path with such a character, '"', '\' or
 * ": " (which ends the path in "PATH: reason") is printed as git prints
 * such names: in double quotes, with \" \\ \t \n \r, and \ooo (octal) for
 * each byte of any other character that cannot be shown. Any other path,
 * valid UTF-8 included, is printed as it is. */
static void put_path(const char *path) {
    const unsigned char *s = (const unsigned char *)path;
    size_t n = strlen(path), i, len;
    int plain = strstr(path, ": ") == NULL;
    for (i = 0; i < n && plain; i += len) plain = (len = shown_len(s + i, n - i)) > 0;
    if (plain) {
        fputs(path, stderr);
        return;
    }
    putc('"', stderr);
    for (i = 0; i < n; i += len) {
        if ((len = shown_len(s + i, n - i)) > 0) {
            fwrite(s + i, 1, len, stderr);
            continue;
        }
        len = 1;
        const char *esc = s[i] == '"' ? "\\\"" : s[i] == '\\' ? "\\\\" : s[i] == '\t' ? "\\t"
                        : s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : NULL;
        if (esc)
            fputs(esc, stderr);
        else
            fprintf(stderr, "\\%03o", (unsigned)s[i]);
    }
    putc('"', stderr);
}

/* "lode-index: WHAT PATH: MESSAGE" for the file of an event. Messages of
 * read errors name the file first, as an error message of the library
 * does; the path is said once, quoted when it must be. The rest of the
 * message may quote the file system too (an ignore rule): its control
 * characters are shown as '?'. */
static void say(cli *c, const char *what, const lode_event *ev) {
    const char *msg = ev->message ? ev->message : "";
    size_t n = strlen(ev->path);
    if (strncmp(msg, ev->path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    progress_clear(&c->pg);
    fprintf(stderr, "lode-index: %s", what);
    put_path(ev->path);
    fputs(": ", stderr);
    for (; *msg; msg++) putc((unsigned char)*msg < 0x20 || *msg == 0x7f ? '?' : *msg, stderr);
    putc('\n', stderr);
}

static void on_event(void *ctx, const lode_event *ev) {
    cli *c = ctx;
    switch (ev->kind) {
    case LODE_EVENT_INDEXED:
    case LODE_EVENT_SKIPPED_BINARY:
        progress_file(&c->pg, ev->bytes);
        if (ev->kind == LODE_EVENT_SKIPPED_BINARY && c->verbose) say(c, "skipped ", ev);
        break;
    case LODE_EVENT_SKIPPED_ERROR:
        progress_file(&c->pg, ev->bytes);
        say(c, "warning: ", ev);
        break;
    case LODE_EVENT_SKIPPED_LIMIT:
        progress_file(&c->pg, 0);
        /* over --max-filesize: what the user asked for; over lode's own
         * limit: a file the user expected in the index, a warning */
        if (c->max_filesize && ev->bytes > c->max_filesize) {
            c->skipped_asked++;
            if (c->verbose) say(c, "skipped ", ev);
        } else {
            say(c, "warning: ", ev);
        }
        break;
    case LODE_EVENT_SKIPPED_IGNORED:
        if (c->verbose) say(c, "skipped ", ev);
        break;
    case LODE_EVENT_SEGMENT_FLUSHED:
        if (c->verbose) {
            progress_clear(&c->pg);
            /* a bundle's size is what its shipper wants to know */
            if (c->bundle)
                fprintf(stderr, "lode-index: wrote bundle %s (%llu bytes)\n", ev->path, (unsigned long long)ev->bytes);
            else
                fprintf(stderr, "lode-index: wrote segment %s\n", ev->path);
        }
        break;
    }
}

static void human_bytes(uint64_t n, char *out, size_t cap) {
    if (n < 1024)
        snprintf(out, cap, "%llu bytes", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)n / 1024);
    else if (n < (uint64_t)1 << 30)
        snprintf(out, cap, "%.1f MiB", (double)n / (1024 * 1024));
    else
        snprintf(out, cap, "%.2f GiB", (double)n / (1024 * 1024 * 1024));
}

static int parse_size_mb(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > (1ull << 20) || s[0] == '-') return -1;
    *out = (size_t)v << 20;
    return 0;
}

/* "NUM" bytes or "NUM" with a suffix K, M or G (powers of 1024, as ripgrep's
 * --max-filesize). */
static int parse_filesize(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return -1;
    }
    if (*end && end[1]) return -1;
    if (v == 0 || v > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)v << shift;
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
    printf("%s: ok, every checksum and structure verified: %llu documents, %llu passages, %llu tokens, "
           "%u segments, stemmer %s\n",
           path, (unsigned long long)info.documents, (unsigned long long)info.passages,
           (unsigned long long)info.tokens, info.segments, info.stemmer);
    lode_index_close(ix);
    return 0;
}

/* If argv[*i] is the option `shortname` or `longname` followed by a value
 * ("-o X", "--output X", "--output=X"), return the value and step *i past
 * it. *incomplete is set when it is the option but no value follows. */
static const char *option_value(int argc, char **argv, int *i, const char *shortname, const char *longname,
                                int *incomplete) {
    const char *a = argv[*i];
    size_t n = strlen(longname);
    if (strncmp(a, longname, n) == 0 && a[n] == '=') return a + n + 1;
    if (strcmp(a, longname) != 0 && !(shortname && strcmp(a, shortname) == 0)) return NULL;
    if (*i + 1 >= argc) {
        *incomplete = 1;
        return NULL;
    }
    return argv[++*i];
}

/* "lode-index: WHAT 'ARG'" (ARG may be NULL), the usage, exit status 2. */
static int usage_error(const char *what, const char *arg) {
    if (arg)
        fprintf(stderr, "lode-index: %s '%s'\n", what, arg);
    else
        fprintf(stderr, "lode-index: %s\n", what);
    fprintf(stderr, "%sTry 'lode-index --help'.\n", USAGE_LINE);
    return 2;
}

typedef struct args {
    const char *output;
    int output_given;        /* -o on the command line, not the default */
    const char *bundle;      /* --bundle FILE */
    const char *emit_c;      /* --emit-c NAME */
    int compact;
    int check;
    int memory_given;
    int filters_given;       /* --include, --exclude, --max-filesize or --no-ignore */
    const char **paths;
    int npaths;
    const char **include;
    size_t ninclude;
    const char **exclude;
    size_t nexclude;
} args;

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, args *a, lode_writer_options *opts, cli *c) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        int incomplete = 0;
        if (strcmp(arg, "--") == 0) {
            while (++i < argc) a->paths[a->npaths++] = argv[i];
            break;
        } else if ((v = option_value(argc, argv, &i, "-o", "--output", &incomplete))) {
            a->output = v;
            a->output_given = 1;
        } else if ((v = option_value(argc, argv, &i, NULL, "--bundle", &incomplete))) {
            a->bundle = v;
        } else if ((v = option_value(argc, argv, &i, NULL, "--emit-c", &incomplete))) {
            a->emit_c = v;
        } else if ((v = option_value(argc, argv, &i, NULL, "--include", &incomplete))) {
            a->include[a->ninclude++] = v;
            a->filters_given = 1;
        } else if ((v = option_value(argc, argv, &i, NULL, "--exclude", &incomplete))) {
            a->exclude[a->nexclude++] = v;
            a->filters_given = 1;
        } else if ((v = option_value(argc, argv, &i, NULL, "--max-filesize", &incomplete))) {
            if (parse_filesize(v, &c->max_filesize))
                return usage_error("--max-filesize takes a number of bytes, with K, M or G, not", v);
            a->filters_given = 1;
        } else if ((v = option_value(argc, argv, &i, NULL, "--stemmer", &incomplete))) {
            opts->stemmer = v;
        } else if ((v = option_value(argc, argv, &i, NULL, "--memory", &incomplete))) {
            if (parse_size_mb(v, &opts->memory_budget))
                return usage_error("--memory takes a number of MiB, not", v);
            a->memory_given = 1;
        } else if (incomplete) {
            return usage_error("a value is missing after", arg);
        } else if (strcmp(arg, "--no-ignore") == 0) {
            opts->flags |= LODE_WRITER_NO_IGNORE_FILES;
            a->filters_given = 1;
        } else if (strcmp(arg, "--check") == 0) {
            a->check = 1;
        } else if (strcmp(arg, "--compact") == 0) {
            a->compact = 1;
        } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            c->quiet = 1;
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            c->verbose = 1;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(HELP_EXAMPLES, stdout);
            fputs(USAGE_LINE, stdout);
            fputs(HELP_OPTIONS, stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf("lode-index %s\n", lode_version());
            return 0;
        } else if (arg[0] == '-' && arg[1]) {
            return usage_error("unknown option", arg);
        } else {
            a->paths[a->npaths++] = arg;
        }
    }
    return -1;
}

static int run(const args *a, lode_writer_options *opts, cli *c) {
    const char *output = a->bundle ? a->bundle : a->output;
    if (a->bundle) {
        opts->flags |= LODE_WRITER_BUNDLE;
        c->bundle = 1;
    }
    opts->on_event = on_event;
    opts->event_ctx = c;
    opts->include_globs = a->include;
    opts->include_count = a->ninclude;
    opts->exclude_globs = a->exclude;
    opts->exclude_count = a->nexclude;
    opts->max_filesize = c->max_filesize;
    double t0 = now();
    lode_writer *w;
    lode_error err = {0, 0, ""};
    int rc = lode_writer_open(&w, output, opts, &err);
    if (rc) {
        fprintf(stderr, "lode-index: %s\n", err.message);
        return 2;
    }
    progress *pg = &c->pg;
    if (pg->on) {
        progress_show(pg, "lode-index: counting files...");
        pg->have_total = 1;
        for (int i = 0; i < a->npaths && pg->have_total; i++) {
            uint64_t files, bytes;
            lode_error ignored;
            if (lode_writer_count_path(w, a->paths[i], &files, &bytes, &ignored) == 0) {
                pg->total_files += files;
                pg->total_bytes += bytes;
            } else {
                pg->have_total = 0; /* lode_writer_add_path() will say why */
            }
        }
        pg->start = now();
    }
    /* a PATH that cannot be read at all is most likely a typo: committing
     * without it would silently drop its documents from the index */
    for (int i = 0; i < a->npaths && !rc; i++) rc = lode_writer_add_path(w, a->paths[i], &err);
    if (!rc && pg->shown) {
        char line[128];
        snprintf(line, sizeof line, "lode-index: %llu files read, writing the index...",
                 (unsigned long long)pg->files);
        progress_show(pg, line);
    }
    if (!rc) rc = lode_writer_commit(w, &err);
    progress_clear(pg);
    if (rc) {
        fprintf(stderr, "lode-index: %s; the index was not changed\n", err.message);
        lode_writer_free(w);
        return 2;
    }
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    lode_writer_free(w);
    double secs = now() - t0;
    if (!c->quiet) {
        char size[32];
        human_bytes(st.bytes_indexed, size, sizeof size);
        fprintf(stderr,
                "lode-index: %s: indexed %llu files (%s, %llu words) in %.2f s; skipped %llu binary, "
                "%llu unreadable, %llu too large\n",
                output, (unsigned long long)st.files_indexed, size, (unsigned long long)st.tokens_indexed,
                secs, (unsigned long long)st.files_skipped_binary, (unsigned long long)st.files_skipped_error,
                (unsigned long long)st.files_skipped_limit);
    }
    /* files skipped by --max-filesize were asked for; every other skip
     * for a reason other than being binary was named in a warning */
    return st.files_skipped_error || st.files_skipped_limit > c->skipped_asked ? 1 : 0;
}

/* --compact INDEX: every document of INDEX, re-analysed from the text
 * stored in it, into one segment: in place (a folder gets a new generation,
 * a bundle file is replaced), into the folder -o names, or into the bundle
 * --bundle names. The writer is opened first and INDEX read under its
 * lock, so that no commit can slip in between reading and replacing. */
static int compact(const args *a, lode_writer_options *opts, cli *c) {
    const char *src = a->paths[0];
    lode_index *ix = NULL;
    lode_writer *w = NULL;
    lode_error err = {0, 0, ""};
    struct stat st;
    double t0 = now();
    int rc = lode_index_open(&ix, src, &err); /* is it an index at all? (before creating anything) */
    if (rc) goto fail;
    lode_index_info info;
    lode_index_get_info(ix, &info);
    char stemmer[64];
    snprintf(stemmer, sizeof stemmer, "%s", info.stemmer);
    if (!opts->stemmer) opts->stemmer = stemmer; /* --stemmer re-analyses with another */
    lode_index_close(ix);
    ix = NULL;
    const char *output = a->bundle ? a->bundle : a->output_given ? a->output : src;
    int bundle = a->bundle || (!a->output_given && stat(src, &st) == 0 && !S_ISDIR(st.st_mode));
    opts->flags |= bundle ? LODE_WRITER_BUNDLE : LODE_WRITER_ONE_SEGMENT;
    c->bundle = bundle;
    opts->on_event = on_event;
    opts->event_ctx = c;
    rc = lode_writer_open(&w, output, opts, &err);
    if (!rc) rc = lode_index_open(&ix, src, &err);
    if (rc) goto fail;
    lode_index_get_info(ix, &info);
    c->pg.start = now();
    rc = lode_writer_add_index(w, ix, &err);
    if (!rc && c->pg.shown) progress_show(&c->pg, "lode-index: writing the index...");
    if (!rc) rc = lode_writer_commit(w, &err);
    progress_clear(&c->pg);
    if (rc) goto fail;
    if (!c->quiet) {
        lode_writer_stats ws;
        lode_writer_get_stats(w, &ws);
        char size[32];
        human_bytes(ws.bytes_indexed, size, sizeof size);
        fprintf(stderr, "lode-index: %s: %llu documents (%s, %llu words) from %u segment%s into one%s in %.2f s\n",
                output, (unsigned long long)ws.files_indexed, size, (unsigned long long)ws.tokens_indexed,
                info.segments, info.segments == 1 ? "" : "s", bundle ? " bundle file" : "", now() - t0);
    }
    lode_index_close(ix);
    lode_writer_free(w);
    return 0;
fail:
    progress_clear(&c->pg);
    fprintf(stderr, "lode-index: %s%s\n", err.message, w ? "; the index was not changed" : "");
    lode_index_close(ix);
    lode_writer_free(w);
    return 2;
}

static int is_c_identifier(const char *s) {
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* The whole of a regular file, in memory the caller frees. */
static int read_file(const char *path, unsigned char **out, size_t *size, char *why, size_t why_cap) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, why_cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(why, why_cap,
                 "%s is an index folder, not a bundle: write one with 'lode-index --compact %s --bundle FILE'",
                 path, path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    unsigned char *data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    size_t got = f && data ? fread(data, 1, (size_t)st.st_size, f) : 0;
    int bad = !f || !data || got != (size_t)st.st_size || ferror(f);
    if (f) fclose(f);
    if (bad) {
        snprintf(why, why_cap, "%s: %s", path, data ? "cannot read it" : "out of memory");
        free(data);
        return -1;
    }
    *out = data;
    *size = got;
    return 0;
}

/* --emit-c NAME BUNDLE: the bundle as a C array, checked first (it must
 * open and pass the full check, checksums and structures: a program would
 * only find out at run time). Plain C that any C or C++ compiler takes: the extern declarations
 * give the array external linkage in C++ too, where a const at file scope
 * would otherwise be local. Only the file name of BUNDLE is written, so the
 * output does not depend on where it was built. */
static int emit_c(const args *a, const cli *c) {
    const char *name = a->emit_c, *src = a->paths[0];
    if (!is_c_identifier(name) || strlen(name) > 200)
        return usage_error("--emit-c takes a C identifier, not", name);
    unsigned char *data;
    size_t size;
    char why[600];
    if (read_file(src, &data, &size, why, sizeof why)) {
        fprintf(stderr, "lode-index: %s\n", why);
        return 2;
    }
    lode_index *ix;
    lode_error err = {0, 0, ""};
    int rc = lode_index_open_memory(&ix, data, size, src, &err);
    if (!rc) rc = lode_index_check(ix, &err);
    if (rc) {
        fprintf(stderr, "lode-index: %s\n", err.message);
        lode_index_close(ix);
        free(data);
        return 2;
    }
    lode_index_info info;
    lode_index_get_info(ix, &info);
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    /* written beside the target and renamed: a build never sees half a file */
    char tmp[4200];
    FILE *out = stdout;
    if (a->output_given) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", a->output) >= (int)sizeof tmp || !(out = fopen(tmp, "w"))) {
            fprintf(stderr, "lode-index: cannot create %s.tmp\n", a->output);
            lode_index_close(ix);
            free(data);
            return 2;
        }
    }
    fprintf(out,
            "/* Generated by lode-index %s --emit-c %s %s:\n"
            " * a lode bundle of %zu bytes (%llu documents, stemmer %s).\n"
            " * Do not edit: generate it again from the bundle. Open it with\n"
            " *   lode_index_open_memory(&ix, %s, %s_size, \"%s\", &err);\n"
            " */\n"
            "#include <stddef.h>\n\n"
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
            "extern const unsigned char %s[];\nextern const size_t %s_size;\n"
            "#ifdef __cplusplus\n}\n#endif\n\n"
            "const unsigned char %s[%zu] = {\n",
            lode_version(), name, base, size, (unsigned long long)info.documents, info.stemmer, name, name, name,
            name, name, name, size);
    lode_index_close(ix);
    /* sixteen bytes a line, as xxd -i writes them */
    static const char hex[] = "0123456789abcdef";
    char line[16 * 6 + 8];
    for (size_t i = 0; i < size; i += 16) {
        size_t n = 0;
        line[n++] = ' ';
        for (size_t j = i; j < size && j < i + 16; j++) {
            line[n++] = ' ';
            line[n++] = '0';
            line[n++] = 'x';
            line[n++] = hex[data[j] >> 4];
            line[n++] = hex[data[j] & 15];
            line[n++] = ',';
        }
        line[n++] = '\n';
        fwrite(line, 1, n, out);
    }
    fprintf(out, "};\nconst size_t %s_size = %zu;\n", name, size);
    free(data);
    int failed = fflush(out) != 0 || ferror(out);
    if (a->output_given) {
        failed |= fsync(fileno(out)) != 0;
        failed |= fclose(out) != 0;
        if (!failed && rename(tmp, a->output) != 0) failed = 1;
        if (failed) remove(tmp);
    }
    if (failed) {
        fprintf(stderr, "lode-index: writing %s failed\n", a->output_given ? a->output : "the output");
        return 2;
    }
    if (c->verbose)
        fprintf(stderr, "lode-index: wrote %s: %s[%zu]\n", a->output_given ? a->output : "(stdout)", name, size);
    return 0;
}

/* Options that make no sense together, caught before anything is written.
 * Returns -1 to go on, else the exit status. */
static int check_modes(const args *a) {
    int modes = a->check + a->compact + (a->emit_c != NULL);
    if (modes > 1) return usage_error("give one of --check, --compact and --emit-c", NULL);
    if (a->bundle && a->output_given && !a->emit_c)
        return usage_error("-o writes a folder and --bundle a file: give one of them", NULL);
    if ((a->compact || a->emit_c) && a->npaths != 1)
        return usage_error(a->compact ? "--compact takes one INDEX" : "--emit-c takes one BUNDLE", NULL);
    if ((a->compact || a->emit_c) && a->filters_given)
        return usage_error("file filters apply to PATHs, not with", a->compact ? "--compact" : "--emit-c");
    if (a->emit_c && a->bundle) return usage_error("--emit-c reads a bundle; write it first with --bundle", NULL);
    if (a->memory_given && (a->bundle || a->compact))
        return usage_error("--bundle and --compact hold the index in memory; no --memory with", a->bundle ? "--bundle" : "--compact");
    return -1;
}

int main(int argc, char **argv) {
    lode_writer_options opts = LODE_WRITER_OPTIONS_INIT;
    cli c;
    memset(&c, 0, sizeof c);
    args a;
    memset(&a, 0, sizeof a);
    a.output = DEFAULT_INDEX;
    a.paths = calloc((size_t)argc, sizeof *a.paths);
    a.include = calloc((size_t)argc, sizeof *a.include);
    a.exclude = calloc((size_t)argc, sizeof *a.exclude);
    int rc = 2;
    if (!a.paths || !a.include || !a.exclude) {
        fputs("lode-index: out of memory\n", stderr);
        goto done;
    }
    rc = parse_args(argc, argv, &a, &opts, &c);
    if (rc >= 0) goto done;
    rc = check_modes(&a);
    if (rc >= 0) goto done;
    if (a.check) {
        rc = check_index(a.npaths ? a.paths[0] : a.output);
        goto done;
    }
    if (a.emit_c) {
        rc = emit_c(&a, &c);
        goto done;
    }
    if (a.compact) {
        c.pg.on = !c.quiet && isatty(STDERR_FILENO);
        rc = compact(&a, &opts, &c);
        goto done;
    }
    if (a.npaths == 0) {
        rc = usage_error("no PATH to index", NULL);
        goto done;
    }
    c.pg.on = !c.quiet && isatty(STDERR_FILENO);
    rc = run(&a, &opts, &c);
done:
    free(a.paths);
    free(a.include);
    free(a.exclude);
    return rc;
}
