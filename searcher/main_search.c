/*
 * main_search.c - the lode-search program: answers a query from an index
 * through the public API (lode.h) only, and renders the answer one of four
 * ways: for a person at a terminal (ripgrep's heading style: the path, the
 * title, the best passages with line numbers), as grep's lines
 * (path:line:text, for pipes and editors), as JSON Lines (for scripts), or
 * as a TREC run (for relevance evaluation). The manual is
 * docs/lode-search.md; the man page docs/lode-search.1.
 *
 * Exit status like grep: 0 something matched, 1 nothing did, 2 an error,
 * even when some output was printed before it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lode.h"
#include "../indexer/utf8_seq.h"

#ifndef LODE_DEFAULT_INDEX
#define LODE_DEFAULT_INDEX "index.lode"
#endif

/* Short and example-first: the manual (lode-search.1) has the rest. */
static const char USAGE[] =
    "usage: lode-search [OPTIONS] QUERY...\n"
    "\n"
    "  lode-search glycinate sleep dose              best documents, best passage of each\n"
    "  lode-search --grep 'magnesium NEAR/5 cramps'  every matching line: path:line:text\n"
    "  lode-search -l '\"muscle cramps\" -citrate'     names of the matching files\n"
    "  lode-search --json -n 3 title:dosage          JSON Lines, for scripts\n"
    "\n"
    "Query: words (any; more of them rank higher), \"a phrase\", AND OR NOT ( ),\n"
    "+required -excluded, prefix*, a NEAR/5 b, title:word, path:glob.\n"
    "\n"
    "  -i, --index INDEX     index to search (default: $LODE_INDEX, else ./index.lode,\n"
    "                        else the example corpus index built with lode)\n"
    "  -n, --top K           the K best documents (default 10; --grep: all)\n"
    "  --passages N          passages per document (default 1)\n"
    "  --scores              show each document's score\n"
    "  --all                 every bare word must occur (default: any)\n"
    "  --no-expand           rank by the query's words alone: no words added from\n"
    "                        the best documents (faster; same documents found)\n"
    "  --strict              a query that is not valid syntax is an error\n"
    "  --grep                every matching line of every matching file, by path;\n"
    "                        the options down to -0 imply it:\n"
    "  -l, --files-with-matches  only the names of the matching files\n"
    "  -c, --count           the number of matching lines of each file\n"
    "  -m, --max-count NUM   at most NUM matching lines per file\n"
    "  -A, -B, -C NUM        lines of context after, before, around each\n"
    "  --column              path:line:column:text\n"
    "  -0, --null            a NUL byte after each path, for xargs -0\n"
    "  --json                JSON Lines, one object per passage\n"
    "  --format trec         TREC run lines; --run-id NAME, --queries FILE ('QID<TAB>query')\n"
    "  --color=WHEN          auto (a terminal without NO_COLOR), always, never\n"
    "  -h, --help, --version\n"
    "\n"
    "Exit status: 0 something matched, 1 nothing did, 2 an error.\n"
    "More in lode-search(1), docs/lode-search.md and docs/QUERY.md.\n";

/* ripgrep's colours, so that the two read alike side by side. */
#define C_PATH "\033[35m"
#define C_LINE "\033[32m"
#define C_TITLE "\033[1m"
#define C_MATCH "\033[1;31m"
#define C_DIM "\033[2m"
#define C_RESET "\033[0m"

/* Longest context (-A/-B/-C) and -m accepted: far beyond any real use, and
 * small enough that arithmetic on line numbers cannot overflow. */
#define MAX_CONTEXT 1000000u
#define MAX_COUNT 1000000000u

enum format { F_TERMINAL, F_GREP, F_JSON, F_TREC };
enum grep_out { G_LINES, G_FILES, G_COUNT };

typedef struct options {
    enum format format;
    int grep;             /* grep's selection: every matching document and passage, by path */
    enum grep_out gout;
    unsigned long max_count; /* -m: matching lines (passages in JSON) per file; 0 = no limit */
    unsigned long after, before;
    int column, null, scores;
    int top_given;        /* -n: grep lists only the K best documents */
    int color;            /* -1 auto, 0 never, 1 always */
    int sanitize;         /* control characters become '?' (output for a terminal) */
    const char *run_id, *queries, *index;
    const char *grep_flag; /* the first grep-only option given, for messages */
} options;

/* The directories whose absolute paths are shown relative: the working
 * directory as the kernel names it, and $PWD (the name the user sees when
 * they went through a symbolic link) when it is the same directory. */
typedef struct cwd_names {
    char *dir[2];
    size_t len[2];
    int n;
} cwd_names;

/* The run's state: whether anything matched, whether anything failed. */
typedef struct run_state {
    int matched;
    int failed;
    int printed_group;    /* grep: a group of lines was printed (for "--") */
} run_state;

/* --- writing -------------------------------------------------------------- */

static void put_bytes(const char *p, size_t n) {
    if (n) fwrite(p, 1, n, stdout);
}

static void put_str(const char *s) { fputs(s, stdout); }

static void put_color(const options *o, const char *code) {
    if (o->color) put_str(code);
}

/* Bytes of a file, as they are (grep) or, for a terminal, with control
 * characters other than tab shown as '?': a file must not be able to move
 * the cursor or change colours. */
static void put_text(const options *o, const char *p, size_t n) {
    if (!o->sanitize) {
        put_bytes(p, n);
        return;
    }
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(((unsigned char)p[j] < 0x20 && p[j] != '\t') || p[j] == 0x7f)) j++;
        put_bytes(p + i, j - i);
        if (j < n) putchar('?');
        i = j + 1;
    }
}

/* [from, to) of `t`, the parts inside spans (relative to `t`, ascending)
 * marked. *k is the first span not yet passed, kept across calls so that a
 * passage printed line by line walks its spans once. */
static void put_marked(const options *o, const char *t, size_t from, size_t to, const lode_span *sp, size_t n,
                       size_t *k) {
    size_t i = from;
    while (i < to) {
        while (*k < n && sp[*k].end <= i) (*k)++;
        if (*k < n && sp[*k].start <= i) {
            size_t e = sp[*k].end < to ? sp[*k].end : to;
            put_color(o, C_MATCH);
            put_text(o, t + i, e - i);
            put_color(o, C_RESET);
            i = e;
        } else {
            size_t e = *k < n && sp[*k].start < to ? sp[*k].start : to;
            put_text(o, t + i, e - i);
            i = e;
        }
    }
}

/* "path" then what follows a path in grep's output: ':' or '-' (a context
 * line), or with -0 a NUL byte instead, as grep -Z does. */
static void put_path(const options *o, const char *path, char after) {
    put_color(o, C_PATH);
    put_text(o, path, strlen(path));
    put_color(o, C_RESET);
    putchar(o->null ? '\0' : after);
}

static void put_number(const options *o, unsigned long long v, char after) {
    put_color(o, C_LINE);
    printf("%llu", v);
    put_color(o, C_RESET);
    putchar(after);
}

/* --- paths ---------------------------------------------------------------- */

static char *current_dir(void) {
    size_t cap = 256;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) return NULL;
        if (getcwd(buf, cap)) return buf;
        free(buf);
        if (cap > 65536) return NULL;
        cap *= 2;
    }
}

static void cwd_init(cwd_names *c) {
    memset(c, 0, sizeof *c);
    struct stat dot, pwd;
    const char *env = getenv("PWD");
    if (env && env[0] == '/' && stat(".", &dot) == 0 && stat(env, &pwd) == 0 && dot.st_dev == pwd.st_dev &&
        dot.st_ino == pwd.st_ino && (c->dir[c->n] = strdup(env)) != NULL)
        c->n++;
    if ((c->dir[c->n] = current_dir()) != NULL) c->n++;
    for (int i = 0; i < c->n; i++) {
        c->len[i] = strlen(c->dir[i]);
        /* "/a/b/" and "/a/b" name the same directory */
        while (c->len[i] > 1 && c->dir[i][c->len[i] - 1] == '/') c->len[i]--;
    }
}

static void cwd_free(cwd_names *c) {
    for (int i = 0; i < c->n; i++) free(c->dir[i]);
}

/* A path as the index holds it (as given to lode-index), shown relative to
 * the working directory when it is an absolute path under it, as ripgrep
 * shows paths under the folder it searched; any other path is shown as it
 * is, since a relative one is relative to where lode-index ran. In "/" the
 * absolute path is the clearer name, so it stays. */
static const char *display_path(const cwd_names *c, const char *path) {
    if (path[0] != '/') return path;
    for (int i = 0; i < c->n; i++) {
        size_t n = c->len[i];
        if (n > 1 && strncmp(path, c->dir[i], n) == 0 && path[n] == '/' && path[n + 1]) return path + n + 1;
    }
    return path;
}

/* --- lines inside a passage ----------------------------------------------- */

/* A line ends at LF, CRLF (one end) or a lone CR, as the indexer counts. */
static size_t line_end_in(const char *t, size_t n, size_t i) {
    while (i < n && t[i] != '\n' && t[i] != '\r') i++;
    return i;
}

static size_t after_line_end(const char *t, size_t n, size_t e) {
    if (e >= n) return n;
    return t[e] == '\r' && e + 1 < n && t[e + 1] == '\n' ? e + 2 : e + 1;
}

/* The line of byte `at` of a passage. */
static unsigned long line_of(const lode_passage *ps, size_t at) {
    unsigned long line = ps->line;
    size_t i = 0;
    for (;;) {
        size_t e = line_end_in(ps->text, ps->length, i);
        if (at <= e || e >= ps->length) return line;
        i = after_line_end(ps->text, ps->length, e);
        if (at < i) return line; /* inside a CRLF */
        line++;
    }
}

/* --- terminal: ripgrep's heading style ------------------------------------ */

/* A passage line by line, "LINE:text" for lines with a match and
 * "LINE-text" for the others, as ripgrep marks matches and context. */
static void term_passage(const options *o, const lode_passage *ps) {
    size_t i = 0, k = 0;
    unsigned long line = ps->line;
    for (;;) {
        size_t e = line_end_in(ps->text, ps->length, i);
        size_t j = k;
        while (j < ps->span_count && ps->spans[j].end <= i) j++;
        int hit = j < ps->span_count && ps->spans[j].start < e;
        put_number(o, line, hit ? ':' : '-');
        put_marked(o, ps->text, i, e, ps->spans, ps->span_count, &k);
        putchar('\n');
        if (e >= ps->length) break;
        i = after_line_end(ps->text, ps->length, e);
        line++;
    }
}

static void term_hit(const options *o, const char *path, const lode_hit *h) {
    put_color(o, C_PATH);
    put_text(o, path, strlen(path));
    put_color(o, C_RESET);
    if (o->scores) {
        put_str("  ");
        put_color(o, C_DIM);
        printf("score %.2f", h->score);
        put_color(o, C_RESET);
    }
    putchar('\n');
    if (h->title[0]) {
        put_color(o, C_TITLE);
        put_text(o, h->title, strlen(h->title));
        put_color(o, C_RESET);
        putchar('\n');
    }
    for (size_t i = 0; i < h->passage_count; i++) term_passage(o, &h->passages[i]);
}

/* --- JSON Lines ------------------------------------------------------------ */


/* A JSON string of arbitrary bytes: JSON text must be UTF-8, so a byte
 * that is not part of a well-formed character becomes U+FFFD; quotes,
 * backslashes and control characters are escaped. Offsets printed beside a
 * string always count the original bytes, never these. */
static void json_string(const char *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    putchar('"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            size_t j = i;
            while (j < n && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' && s[j] != '\\') j++;
            put_bytes(p + i, j - i);
            i = j;
        } else if (c == '"' || c == '\\') {
            putchar('\\');
            putchar(c);
            i++;
        } else if (c == '\n') {
            put_str("\\n");
            i++;
        } else if (c == '\t') {
            put_str("\\t");
            i++;
        } else if (c == '\r') {
            put_str("\\r");
            i++;
        } else if (c < 0x80) {
            printf("\\u%04x", c); /* other control characters, and DEL */
            i++;
        } else {
            size_t len = utf8_seq_len(s + i, n - i);
            if (len) {
                put_bytes(p + i, len);
                i += len;
            } else {
                put_str("\xEF\xBF\xBD");
                i++;
            }
        }
    }
    putchar('"');
}

/* "path_bytes": the path's bytes in base64 (RFC 4648), for a path that is
 * not valid UTF-8: "path" replaces each invalid byte with U+FFFD, which
 * loses which file it was ("a\xFF" and "a\xFE" print alike). ripgrep's
 * JSON does the same for such paths. Nothing when the path is valid. */
static void json_path_bytes(const char *path) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)path;
    size_t n = strlen(path), i = 0, len;
    while (i < n && (len = utf8_seq_len(s + i, n - i)) > 0) i += len;
    if (i == n) return;
    put_str(",\"path_bytes\":\"");
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        putchar(b64[v >> 18]);
        putchar(b64[v >> 12 & 63]);
        putchar(b64[v >> 6 & 63]);
        putchar(b64[v & 63]);
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        putchar(b64[v >> 18]);
        putchar(b64[v >> 12 & 63]);
        putchar(i + 1 < n ? b64[v >> 6 & 63] : '=');
        putchar('=');
    }
    putchar('"');
}

/* One object per passage (docs/lode-search.md has the schema); a document
 * matched without a passage (a query of only path:) gets one with nulls. */
static void json_passage(const char *path, const lode_hit *h, size_t rank, const lode_passage *p) {
    put_str("{\"path\":");
    json_string(path, strlen(path));
    json_path_bytes(path);
    put_str(",\"title\":");
    json_string(h->title, strlen(h->title));
    printf(",\"score\":%.6f,\"rank\":%zu", h->score, rank);
    if (!p) {
        put_str(",\"line\":null,\"start\":null,\"end\":null,\"text\":null,\"highlights\":[]}\n");
        return;
    }
    printf(",\"line\":%u,\"start\":%llu,\"end\":%llu,\"text\":", p->line, (unsigned long long)p->offset,
           (unsigned long long)(p->offset + p->length));
    json_string(p->text, p->length);
    put_str(",\"highlights\":[");
    for (size_t i = 0; i < p->span_count; i++)
        printf("%s{\"start\":%llu,\"end\":%llu,\"line\":%lu}", i ? "," : "",
               (unsigned long long)(p->offset + p->spans[i].start), (unsigned long long)(p->offset + p->spans[i].end),
               line_of(p, p->spans[i].start));
    put_str("]}\n");
}

/* --- stored text, for whole lines and context ------------------------------ */

/* Reads a document's stored text through a window, so that walking to the
 * start of a line or to the next line inflates each block once. */
#define WINDOW_BYTES 65536

typedef struct text_reader {
    lode_index *ix;
    uint64_t doc, size;
    char win[WINDOW_BYTES];
    uint64_t lo;          /* the window holds [lo, lo + len) */
    size_t len;
    char *line;           /* one whole line, owned */
    size_t line_cap;
    int failed;           /* sticky: the first error is in err */
    lode_error err;
} text_reader;

static void reader_start(text_reader *r, lode_index *ix, const lode_hit *h) {
    r->ix = ix;
    r->doc = h->doc;
    r->size = h->size;
    r->lo = 0;
    r->len = 0;
    r->failed = 0;
    r->err.message[0] = '\0';
}

/* The byte at `off`, or -1 at the end of the document or after an error. */
static int reader_byte(text_reader *r, uint64_t off) {
    if (r->failed || off >= r->size) return -1;
    if (off < r->lo || off - r->lo >= r->len) {
        size_t got;
        uint64_t lo = off - off % WINDOW_BYTES;
        if (lode_index_read_text(r->ix, r->doc, lo, r->win, WINDOW_BYTES, &got, &r->err) || off - lo >= got) {
            if (!r->err.message[0]) snprintf(r->err.message, sizeof r->err.message, "stored text ends early");
            r->failed = 1;
            return -1;
        }
        r->lo = lo;
        r->len = got;
    }
    return (unsigned char)r->win[off - r->lo];
}

static uint64_t reader_line_start(text_reader *r, uint64_t off) {
    while (off > 0) {
        int c = reader_byte(r, off - 1);
        if (c < 0 || c == '\n' || c == '\r') break;
        off--;
    }
    return off;
}

static uint64_t reader_line_end(text_reader *r, uint64_t off) {
    for (;;) {
        int c = reader_byte(r, off);
        if (c < 0 || c == '\n' || c == '\r') return off;
        off++;
    }
}

/* Start of the line after the one ending at `end`; r->size when none. */
static uint64_t reader_next_line(text_reader *r, uint64_t end) {
    int c = reader_byte(r, end);
    if (c < 0) return r->size;
    if (c == '\r' && reader_byte(r, end + 1) == '\n') return end + 2;
    return end + 1;
}

/* Start of the line before the one starting at `start` (> 0). */
static uint64_t reader_prev_line(text_reader *r, uint64_t start) {
    uint64_t t = start - 1; /* its line end */
    if (reader_byte(r, t) == '\n' && t > 0 && reader_byte(r, t - 1) == '\r') t--;
    return reader_line_start(r, t);
}

/* The bytes [s, e) of the document into r->line; NULL after an error. */
static const char *reader_range(text_reader *r, uint64_t s, uint64_t e) {
    if (r->failed) return NULL;
    size_t n = (size_t)(e - s), got;
    if (n + 1 > r->line_cap) {
        char *p = realloc(r->line, n + 1);
        if (!p) {
            snprintf(r->err.message, sizeof r->err.message, "out of memory");
            r->failed = 1;
            return NULL;
        }
        r->line = p;
        r->line_cap = n + 1;
    }
    if (lode_index_read_text(r->ix, r->doc, s, r->line, n, &got, &r->err) || got != n) {
        if (!r->err.message[0]) snprintf(r->err.message, sizeof r->err.message, "stored text ends early");
        r->failed = 1;
        return NULL;
    }
    return r->line;
}

/* --- grep: every matching line --------------------------------------------- */

/* One highlight at its place in the file. */
typedef struct mark {
    uint64_t start, end;
    unsigned long line;
} mark;

/* Where a file's printing stands, for context and "--" separators. */
typedef struct grep_pos {
    unsigned long last_line; /* last line printed in this file, 0: none yet */
    uint64_t last_next;      /* start of the line after it */
    unsigned long after_until; /* after-context is owed up to this line */
} grep_pos;

static void grep_separator(const options *o, run_state *rs, const grep_pos *g, unsigned long first) {
    if ((o->after || o->before) && rs->printed_group && (g->last_line == 0 || first != g->last_line + 1))
        put_str("--\n");
    rs->printed_group = 1;
}

static void grep_context_line(const options *o, text_reader *r, const char *path, unsigned long line, uint64_t s,
                              grep_pos *g) {
    uint64_t e = reader_line_end(r, s);
    const char *t = reader_range(r, s, e);
    if (!t) return;
    put_path(o, path, '-');
    put_number(o, line, '-');
    put_text(o, t, (size_t)(e - s));
    putchar('\n');
    g->last_line = line;
    g->last_next = reader_next_line(r, e);
}

/* After-context owed by the last match, up to (not including) line `stop`. */
static void grep_flush_after(const options *o, text_reader *r, const char *path, grep_pos *g, unsigned long stop) {
    while (g->last_line && g->last_line < g->after_until && g->last_line + 1 < stop && g->last_next < r->size &&
           !r->failed)
        grep_context_line(o, r, path, g->last_line + 1, g->last_next, g);
}

/* The matching line `line` holding marks m[0..n): context before it, then
 * the whole line from the stored text with the marks highlighted. */
static void grep_match_line(const options *o, run_state *rs, text_reader *r, const char *path, const mark *m,
                            size_t n, lode_span *sp, grep_pos *g) {
    unsigned long line = m[0].line;
    grep_flush_after(o, r, path, g, line);
    uint64_t s = reader_line_start(r, m[0].start);
    unsigned long first = line;
    uint64_t first_off = s;
    while (first > 1 && line - first < o->before && first - 1 > g->last_line && first_off > 0) {
        first_off = reader_prev_line(r, first_off);
        first--;
    }
    if (r->failed) return;
    grep_separator(o, rs, g, first);
    for (uint64_t off = first_off; first < line && !r->failed; first++, off = g->last_next)
        grep_context_line(o, r, path, first, off, g);
    uint64_t e = reader_line_end(r, m[n - 1].end);
    const char *t = reader_range(r, s, e);
    if (!t) return;
    /* the marks relative to the line; a line is at most a document, and a
     * document at most 1 GiB, so they fit lode_span's 32 bits */
    for (size_t i = 0; i < n; i++) sp[i] = (lode_span){(uint32_t)(m[i].start - s), (uint32_t)(m[i].end - s)};
    size_t k = 0;
    put_path(o, path, ':');
    put_number(o, line, ':');
    if (o->column) put_number(o, m[0].start - s + 1, ':');
    put_marked(o, t, 0, (size_t)(e - s), sp, n, &k);
    putchar('\n');
    g->last_line = line;
    g->last_next = reader_next_line(r, e);
    g->after_until = line + o->after;
}

static int cmp_mark(const void *a, const void *b) {
    const mark *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Every highlight of a hit's passages, at its place in the file, in file
 * order. Passages of one line (a long line is cut at sentences) give marks
 * on the same line: the caller groups them into one output line. */
static mark *hit_marks(const lode_hit *h, size_t *count) {
    size_t n = 0;
    for (size_t i = 0; i < h->passage_count; i++) n += h->passages[i].span_count;
    *count = 0;
    mark *m = malloc((n ? n : 1) * sizeof *m);
    if (!m) return NULL;
    for (size_t i = 0; i < h->passage_count; i++) {
        const lode_passage *p = &h->passages[i];
        unsigned long line = p->line;
        size_t at = 0;
        for (size_t j = 0; j < p->span_count; j++) {
            /* spans ascend: count line ends from the previous one only */
            while (at < p->spans[j].start) {
                size_t e = line_end_in(p->text, p->length, at);
                if (e >= p->spans[j].start) break;
                at = after_line_end(p->text, p->length, e);
                line++;
            }
            m[*count] = (mark){p->offset + p->spans[j].start, p->offset + p->spans[j].end, line};
            (*count)++;
        }
    }
    /* passages come in document order already; sorting costs nothing then
     * and keeps the grouping right whatever order they came in */
    qsort(m, *count, sizeof *m, cmp_mark);
    return m;
}

/* One document in grep's line, count or file-name output. */
static void grep_hit(const options *o, run_state *rs, text_reader *r, const char *path, const lode_hit *h) {
    size_t n;
    mark *m = hit_marks(h, &n);
    lode_span *sp = malloc((n ? n : 1) * sizeof *sp); /* one line's marks, for put_marked */
    if (!m || !sp) {
        free(m);
        free(sp);
        fprintf(stderr, "lode-search: %s: out of memory\n", path);
        rs->failed = 1;
        return;
    }
    unsigned long lines = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && m[j].line == m[i].line) j++;
        lines++;
        i = j;
    }
    if (o->max_count && lines > o->max_count) lines = o->max_count;
    if (o->gout == G_FILES) {
        /* every document returned matched, also one a query of only path:
         * selected without any line: -l is how to list those */
        rs->matched = 1;
        put_color(o, C_PATH);
        put_text(o, path, strlen(path));
        put_color(o, C_RESET);
        putchar(o->null ? '\0' : '\n');
    } else if (lines == 0) {
        /* matched by path: alone: no line to show or count */
    } else if (o->gout == G_COUNT) {
        rs->matched = 1;
        put_path(o, path, ':');
        printf("%lu\n", lines);
    } else {
        rs->matched = 1;
        grep_pos g = {0, 0, 0};
        unsigned long done = 0;
        for (size_t i = 0; i < n && done < lines && !r->failed; done++) {
            size_t j = i + 1;
            while (j < n && m[j].line == m[i].line) j++;
            grep_match_line(o, rs, r, path, m + i, j - i, sp, &g);
            i = j;
        }
        grep_flush_after(o, r, path, &g, (unsigned long)-1);
        if (r->failed) {
            fprintf(stderr, "lode-search: %s: %s\n", path, r->err.message);
            rs->failed = 1;
        }
    }
    free(m);
    free(sp);
}

/* --- TREC run --------------------------------------------------------------- */

/* The document id is the file name without extension. */
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

/* --queries FILE: one "QID<TAB>query" per line. */
static void run_queries(lode_index *ix, const options *o, const lode_search_options *opts, run_state *rs) {
    FILE *f = strcmp(o->queries, "-") == 0 ? stdin : fopen(o->queries, "r");
    if (!f) {
        fprintf(stderr, "lode-search: cannot open %s\n", o->queries);
        rs->failed = 1;
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n == 0) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "lode-search: %s:%lu: expected QID<TAB>query\n", o->queries, lineno);
            rs->failed = 1;
            continue;
        }
        *tab = '\0';
        lode_results *res = NULL;
        lode_error err = {0, 0, ""};
        if (lode_search(&res, ix, tab + 1, opts, &err)) {
            fprintf(stderr, "lode-search: query %s: %s\n", line, err.message);
            rs->failed = 1;
            continue;
        }
        rs->matched |= lode_results_count(res) > 0;
        put_trec(line, res, o->run_id);
        lode_results_free(res);
    }
    free(line);
    if (f != stdin) fclose(f);
}

/* --- one query ---------------------------------------------------------------- */

typedef struct shown {
    const char *path;     /* display path; points into the results or the hit */
    size_t rank;          /* 0-based, by score */
} shown;

static int cmp_shown(const void *a, const void *b) {
    const shown *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

static void run_query(lode_index *ix, const options *o, const lode_search_options *opts, const char *query,
                      const cwd_names *cwd, run_state *rs) {
    lode_results *res = NULL;
    lode_error err = {0, 0, ""};
    int e = lode_search(&res, ix, query, opts, &err);
    if (e) {
        fprintf(stderr, "lode-search: %s\n", err.message[0] ? err.message : lode_strerror(e));
        rs->failed = 1;
        return;
    }
    const char *note = lode_results_note(res);
    if (note) fprintf(stderr, "lode-search: note: %s\n", note);
    size_t n = lode_results_count(res);
    if (o->format == F_TREC) {
        put_trec("1", res, o->run_id);
        rs->matched = n > 0;
        lode_results_free(res);
        return;
    }
    shown *order = malloc((n ? n : 1) * sizeof *order);
    text_reader *r = o->format == F_GREP ? calloc(1, sizeof *r) : NULL;
    if (!order || (o->format == F_GREP && !r)) {
        fprintf(stderr, "lode-search: out of memory\n");
        rs->failed = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        lode_hit h;
        lode_results_get(res, i, &h);
        order[i] = (shown){display_path(cwd, h.path), i};
    }
    /* grep's order is the files' order, like `rg --sort path` */
    if (o->grep) qsort(order, n, sizeof *order, cmp_shown);
    if (o->grep && n >= LODE_SEARCH_MAX_LIMIT)
        fprintf(stderr, "lode-search: note: only the %d best-scoring documents are listed\n", LODE_SEARCH_MAX_LIMIT);
    for (size_t i = 0; i < n; i++) {
        lode_hit h;
        lode_results_get(res, order[i].rank, &h);
        if (o->format == F_TERMINAL) {
            if (i) putchar('\n');
            term_hit(o, order[i].path, &h);
            rs->matched = 1;
        } else if (o->format == F_JSON) {
            size_t np = h.passage_count;
            if (o->grep && o->max_count && np > o->max_count) np = o->max_count;
            if (o->grep && np == 0) continue; /* no passage to list */
            if (np == 0) json_passage(order[i].path, &h, order[i].rank + 1, NULL);
            for (size_t k = 0; k < np; k++) json_passage(order[i].path, &h, order[i].rank + 1, &h.passages[k]);
            rs->matched = 1;
        } else {
            reader_start(r, ix, &h);
            grep_hit(o, rs, r, order[i].path, &h);
        }
    }
done:
    if (r) free(r->line);
    free(r);
    free(order);
    lode_results_free(res);
}

/* --- options ------------------------------------------------------------------ */

static const char *default_index(void) {
    const char *env = getenv("LODE_INDEX");
    if (env && *env) return env;
    struct stat sb;
    if (stat("index.lode", &sb) == 0) return "index.lode";
    return LODE_DEFAULT_INDEX;
}

static int parse_number(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
    char *end;
    if (*s < '0' || *s > '9') return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* An option with a value, in any of the forms people type: `-C 2`, `-C2`,
 * `--context 2`, `--context=2`. Returns 1 and sets *val when argv[*i] is
 * it, -1 when it is but the value is missing, 0 when it is another. */
static int option_value(int argc, char **argv, int *i, const char *shrt, const char *lng, const char **val) {
    const char *a = argv[*i];
    size_t ls = shrt ? strlen(shrt) : 0, ll = lng ? strlen(lng) : 0;
    int hit = 0;
    if ((shrt && strcmp(a, shrt) == 0) || (lng && strcmp(a, lng) == 0)) {
        hit = 1;
    } else if (shrt && strncmp(a, shrt, ls) == 0 && a[ls] >= '0' && a[ls] <= '9') {
        /* only a number may be attached (-C2, -n5): "-magnesium" after the
         * first word of a query excludes a word, it is not -m agnesium */
        *val = a + ls;
        return 1;
    } else if (lng && strncmp(a, lng, ll) == 0 && a[ll] == '=') {
        *val = a + ll + 1;
        return 1;
    }
    if (!hit) return 0;
    if (*i + 1 >= argc) return -1;
    *val = argv[++*i];
    return 1;
}

static int is_flag(const char *a, const char *shrt, const char *lng) {
    return (shrt && strcmp(a, shrt) == 0) || (lng && strcmp(a, lng) == 0);
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lode-search: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (lode-search --help)\n", stderr);
    va_end(ap);
    return 2;
}

/* Parse argv into `o`, `opts` and the query words. Returns -1 to go on, or
 * the exit status (after --help, --version or a usage error). */
static int parse_args(int argc, char **argv, options *o, lode_search_options *opts, char *query) {
    size_t qlen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        unsigned long num;
        int r;
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                size_t n = strlen(argv[i]);
                if (qlen) query[qlen++] = ' ';
                memcpy(query + qlen, argv[i], n);
                qlen += n;
            }
            break;
        }
        if ((r = option_value(argc, argv, &i, "-i", "--index", &val)) != 0) {
            if (r < 0) goto missing;
            o->index = val;
        } else if ((r = option_value(argc, argv, &i, "-n", "--top", &val)) != 0) {
            if (r < 0) goto missing;
            if (parse_number(val, 1, LODE_SEARCH_MAX_LIMIT, &num))
                return usage_error("-n takes a number of documents from 1 to 100000, not '%s'", val);
            opts->limit = num;
            o->top_given = 1;
        } else if ((r = option_value(argc, argv, &i, NULL, "--passages", &val)) != 0) {
            if (r < 0) goto missing;
            if (parse_number(val, 1, 1000, &num))
                return usage_error("--passages takes a number from 1 to 1000, not '%s'", val);
            opts->passages = num;
        } else if ((r = option_value(argc, argv, &i, "-m", "--max-count", &val)) != 0) {
            if (r < 0) goto missing;
            if (parse_number(val, 1, MAX_COUNT, &num))
                return usage_error("-m takes a number of lines from 1, not '%s'", val);
            o->max_count = num;
            if (!o->grep_flag) o->grep_flag = "-m";
        } else if ((r = option_value(argc, argv, &i, "-A", "--after-context", &val)) != 0 ||
                   (r = option_value(argc, argv, &i, "-B", "--before-context", &val)) != 0 ||
                   (r = option_value(argc, argv, &i, "-C", "--context", &val)) != 0) {
            if (r < 0) goto missing;
            char which = a[1] == '-' ? a[2] : a[1]; /* 'A', 'B', 'C' or 'a', 'b', 'c' of the long names */
            if (parse_number(val, 0, MAX_CONTEXT, &num))
                return usage_error("context takes a number of lines from 0, not '%s'", val);
            if (which == 'A' || which == 'a' || which == 'C' || which == 'c') o->after = num;
            if (which == 'B' || which == 'b' || which == 'C' || which == 'c') o->before = num;
            if (!o->grep_flag) o->grep_flag = "-A/-B/-C";
        } else if ((r = option_value(argc, argv, &i, NULL, "--format", &val)) != 0) {
            if (r < 0) goto missing;
            if (strcmp(val, "trec") == 0) o->format = F_TREC;
            else if (strcmp(val, "json") == 0) o->format = F_JSON;
            else if (strcmp(val, "terminal") == 0) o->format = F_TERMINAL;
            else if (strcmp(val, "grep") == 0) o->grep = 1;
            else return usage_error("unknown format '%s' (terminal, grep, json or trec)", val);
        } else if ((r = option_value(argc, argv, &i, NULL, "--color", &val)) != 0 ||
                   (r = option_value(argc, argv, &i, NULL, "--colour", &val)) != 0) {
            if (r < 0) goto missing;
            if (strcmp(val, "always") == 0) o->color = 1;
            else if (strcmp(val, "never") == 0) o->color = 0;
            else if (strcmp(val, "auto") == 0) o->color = -1;
            else return usage_error("--color takes auto, always or never, not '%s'", val);
        } else if ((r = option_value(argc, argv, &i, NULL, "--bm25", &val)) != 0) {
            /* K1,B,TITLE_WEIGHT: for tuning runs (docs/RANKING.md) */
            if (r < 0) goto missing;
            if (sscanf(val, "%lf,%lf,%lf", &opts->bm25_k1, &opts->bm25_b, &opts->title_weight) != 3)
                return usage_error("--bm25 takes K1,B,TITLE_WEIGHT, not '%s'", val);
        } else if ((r = option_value(argc, argv, &i, NULL, "--expand", &val)) != 0) {
            /* DOCS,TERMS,WEIGHT: for tuning runs (docs/RANKING.md) */
            if (r < 0) goto missing;
            char tail;
            lode_search_options *e = opts;
            if (strchr(val, '-') ||
                sscanf(val, "%u,%u,%lf%c", &e->expand_docs, &e->expand_terms, &e->expand_weight, &tail) != 3 ||
                e->expand_docs < 1 || e->expand_terms < 1 || !(e->expand_weight > 0 && e->expand_weight <= 1))
                return usage_error("--expand takes DOCS,TERMS,WEIGHT (from 1, from 1, over 0 up to 1), not '%s'", val);
        } else if ((r = option_value(argc, argv, &i, NULL, "--run-id", &val)) != 0) {
            if (r < 0) goto missing;
            o->run_id = val;
        } else if ((r = option_value(argc, argv, &i, NULL, "--queries", &val)) != 0) {
            if (r < 0) goto missing;
            o->queries = val;
        } else if (is_flag(a, NULL, "--grep")) {
            o->grep = 1;
        } else if (is_flag(a, NULL, "--json")) {
            o->format = F_JSON;
        } else if (is_flag(a, "-l", "--files-with-matches")) {
            o->gout = G_FILES;
            if (!o->grep_flag) o->grep_flag = "-l";
        } else if (is_flag(a, "-c", "--count")) {
            o->gout = G_COUNT;
            if (!o->grep_flag) o->grep_flag = "-c";
        } else if (is_flag(a, NULL, "--column")) {
            o->column = 1;
            if (!o->grep_flag) o->grep_flag = "--column";
        } else if (is_flag(a, "-0", "--null")) {
            o->null = 1;
            if (!o->grep_flag) o->grep_flag = "-0";
        } else if (is_flag(a, NULL, "--scores")) {
            o->scores = 1;
        } else if (is_flag(a, NULL, "--all")) {
            opts->flags |= LODE_SEARCH_ALL_WORDS;
        } else if (is_flag(a, NULL, "--no-expand")) {
            opts->flags |= LODE_SEARCH_NO_EXPAND;
        } else if (is_flag(a, NULL, "--strict")) {
            opts->flags |= LODE_SEARCH_STRICT;
        } else if (is_flag(a, "-h", "--help")) {
            fputs(USAGE, stdout);
            return fflush(stdout) ? 2 : 0;
        } else if (is_flag(a, "-V", "--version")) {
            printf("lode-search %s\n", lode_version());
            return fflush(stdout) ? 2 : 0;
        } else if (a[0] == '-' && a[1] && a[1] != ' ' && qlen == 0 && strchr(a, ' ') == NULL) {
            /* after the first word, "-word" excludes a word: only before it
             * can an unknown option be told from a query */
            return usage_error("unknown option '%s' (put -- before a query that starts with '-')", a);
        } else {
            size_t n = strlen(a);
            if (qlen) query[qlen++] = ' ';
            memcpy(query + qlen, a, n);
            qlen += n;
        }
        continue;
    missing:
        return usage_error("%s needs a value", a);
    }
    /* options that only mean something for grep's output switch it on */
    if (o->grep_flag) {
        if (o->format == F_JSON && (o->gout != G_LINES || o->column || o->null || o->after || o->before))
            return usage_error("%s does not go with --json", o->grep_flag);
        o->grep = 1;
    }
    if (o->grep && o->format == F_TREC)
        return usage_error("%s does not go with --format trec", o->grep_flag ? o->grep_flag : "--grep");
    if (o->grep && o->format == F_TERMINAL) o->format = F_GREP;
    if (qlen == 0 && !o->queries) {
        fprintf(stderr, "lode-search: no query given\n%s", USAGE);
        return 2;
    }
    if (o->queries && (qlen || o->format != F_TREC))
        return usage_error("%s goes with --format trec and no QUERY", "--queries");
    return -1;
}

int main(int argc, char **argv) {
    options o;
    memset(&o, 0, sizeof o);
    o.color = -1;
    o.run_id = "lode";
    lode_search_options opts = LODE_SEARCH_OPTIONS_INIT;
    size_t qcap = 1;
    for (int i = 1; i < argc; i++) qcap += strlen(argv[i]) + 1;
    char *query = calloc(qcap, 1);
    if (!query) return 2;
    int rc = parse_args(argc, argv, &o, &opts, query);
    if (rc >= 0) {
        free(query);
        return rc;
    }
    int tty = isatty(STDOUT_FILENO);
    if (o.color < 0) {
        const char *nc = getenv("NO_COLOR");
        o.color = tty && !(nc && *nc) && o.format != F_JSON && o.format != F_TREC;
    }
    if (o.format == F_JSON || o.format == F_TREC) o.color = 0;
    /* a terminal gets no raw control characters; a pipe gets grep's bytes */
    o.sanitize = o.format == F_TERMINAL || tty || o.color;
    if (o.format == F_TREC) opts.flags |= LODE_SEARCH_NO_PASSAGES;
    if (o.grep) {
        opts.flags |= LODE_SEARCH_ALL_PASSAGES;
        /* every matching document, unless -n asked for the best few; then
         * their order is the files' and expanding the query (which only
         * reorders) would be work for nothing */
        if (!o.top_given) {
            opts.limit = LODE_SEARCH_MAX_LIMIT;
            opts.flags |= LODE_SEARCH_NO_EXPAND;
        }
    }
    if (!o.index) o.index = default_index();

    run_state rs = {0, 0, 0};
    cwd_names cwd;
    cwd_init(&cwd);
    lode_index *ix = NULL;
    lode_error err = {0, 0, ""};
    int e = lode_index_open(&ix, o.index, &err);
    if (e) {
        fprintf(stderr, "lode-search: %s\n", err.message[0] ? err.message : lode_strerror(e));
        rs.failed = 1;
    } else if (o.queries) {
        run_queries(ix, &o, &opts, &rs);
    } else {
        run_query(ix, &o, &opts, query, &cwd, &rs);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lode-search: cannot write the output\n");
        rs.failed = 1;
    }
    lode_index_close(ix);
    cwd_free(&cwd);
    free(query);
    return rs.failed ? 2 : rs.matched ? 0 : 1;
}
