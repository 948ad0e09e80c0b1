/*
 * test_segment.c - segments built through the real path (inverter_add with
 * the "none" analyzer, segment_write, segment_open_file/memory) checked
 * against an oracle kept while the documents were generated: every term's
 * df/cf/maxima, every posting (doc, tf, title tf), positions, advance to
 * random targets, block score bounds, document records, stored text across
 * 16 KiB block boundaries, passage tables, prefix enumeration, the full
 * check (segment_check_all and segment_verify) passing; hand-made
 * title cases; empty segments; and damaged files (a flipped byte in a
 * section or in the header, truncation, a foreign version).
 *
 * The large case holds 100 000 documents and ~5 000 terms whose document
 * frequencies span 1..100 000, including every postings-block boundary
 * (127/128/129, 255/256/257, ...).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "segment.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Quiet checks for big loops                                               */
/* ------------------------------------------------------------------------ */

/* One bug in a loop over a million postings would print a million lines:
 * these count every failure but print only the first few of a case, with
 * the context (term, document) set by the loop. */
static int shown_;
static char ctx_[192];

static void lfail(int line, const char *what, uint64_t a, uint64_t b, int vals) {
    test_failures++;
    if (shown_++ >= 40) {
        if (shown_ == 41) fprintf(stderr, "(further failures of this case not shown)\n");
        return;
    }
    if (vals)
        fprintf(stderr, "%s:%d: %s failed: %llu != %llu [%s]\n", __FILE__, line, what,
                (unsigned long long)a, (unsigned long long)b, ctx_);
    else
        fprintf(stderr, "%s:%d: check failed: %s [%s]\n", __FILE__, line, what, ctx_);
}

#define LCHECK(cond)                                                                   \
    do {                                                                               \
        if (!(cond)) lfail(__LINE__, #cond, 0, 0, 0);                                  \
    } while (0)
#define LCHECK_EQ(a, b)                                                                \
    do {                                                                               \
        uint64_t la_ = (uint64_t)(a), lb_ = (uint64_t)(b);                             \
        if (la_ != lb_) lfail(__LINE__, #a " == " #b, la_, lb_, 1);                    \
    } while (0)

static void case_start(void) {
    shown_ = 0;
    ctx_[0] = '\0';
}

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static int tmp_make(char dir[64]) {
    snprintf(dir, 64, "/tmp/lode-segtest-XXXXXX");
    return mkdtemp(dir) != NULL;
}

static void tmp_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static uint8_t *read_all(const char *path, size_t *len) {
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    /* exactly the file's size: the sanitizer sees any read past the end */
    uint8_t *p = malloc(st.st_size ? (size_t)st.st_size : 1);
    size_t got = 0;
    while (p && got < (size_t)st.st_size) {
        ssize_t n = read(fd, p + got, (size_t)st.st_size - got);
        if (n <= 0) {
            free(p);
            p = NULL;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (p) *len = got;
    return p;
}

static int write_all(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

/* ------------------------------------------------------------------------ */
/* The oracle: a generated corpus and what the segment must say about it    */
/* ------------------------------------------------------------------------ */

typedef struct opost {
    uint32_t doc;
    uint32_t tf;
    uint32_t ttf;
    uint32_t fill;  /* positions written so far while laying out the text */
    uint64_t pos;   /* index of its first position in corpus.positions */
} opost;

typedef struct oterm {
    char name[32];
    uint32_t df;
    uint64_t first; /* index of its first posting in corpus.post */
    uint64_t cf;
    uint32_t max_tf, max_ttf, min_len;
    int no_title;   /* never among a document's title tokens */
} oterm;

typedef struct corpus {
    uint32_t ndocs;
    oterm *terms;
    uint32_t nterms;
    uint32_t *sorted;     /* term indices in bytewise name order */
    opost *post;
    uint64_t npost;
    uint32_t *positions;
    uint64_t npositions;
    char *text;
    uint64_t *text_off;   /* ndocs + 1 */
    uint32_t *tokens;     /* per document */
    uint32_t *title_tokens;
    uint32_t *big;        /* documents made larger than a text block */
    uint32_t nbig;
    uint32_t *empty;      /* documents without tokens */
    uint32_t nempty;
    uint64_t total_tokens, total_title_tokens, total_passages;
} corpus;

enum { DOCS_RANDOM, DOCS_BIG, DOCS_RANGE, DOCS_EDGES };
enum { TF_SMALL, TF_ONE, TF_BIG, TF_HEAVY };

typedef struct term_spec {
    char name[32];
    uint32_t df;
    int docs_kind, tf_kind, no_title;
    uint32_t range_start;
} term_spec;

typedef struct spec_list {
    term_spec *v;
    uint32_t n, cap;
} spec_list;

static void spec_add(spec_list *l, const char *name, uint32_t df, int docs_kind, int tf_kind) {
    if (df == 0) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) abort();
    }
    term_spec *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->df = df;
    s->docs_kind = docs_kind;
    s->tf_kind = tf_kind;
}

static uint32_t rnd(uint64_t *r, uint32_t n) { return n ? (uint32_t)(test_rand(r) % n) : 0; }

static uint32_t gen_tf(uint64_t *r, int kind) {
    uint32_t x;
    switch (kind) {
    case TF_ONE:
        return 1;
    case TF_BIG:
        return 150 + rnd(r, 550);
    case TF_HEAVY:
        return 20 + rnd(r, 180);
    default:
        x = rnd(r, 1000);
        if (x < 850) return 1;
        if (x < 985) return 2 + rnd(r, 3);
        if (x < 999) return 5 + rnd(r, 30);
        return 35 + rnd(r, 100); /* more positions in one document than a chunk holds */
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static const corpus *sort_corpus_;
static int cmp_term_names(const void *a, const void *b) {
    return strcmp(sort_corpus_->terms[*(const uint32_t *)a].name,
                  sort_corpus_->terms[*(const uint32_t *)b].name);
}

typedef struct tbuf {
    char *p;
    size_t len, cap;
} tbuf;

static void tb_add(tbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}
static void tb_str(tbuf *b, const char *s) { tb_add(b, s, strlen(s)); }

static int is_ws_byte(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int count_passage(void *ctx, const passage_span *p) {
    (void)p;
    ++*(uint64_t *)ctx;
    return 0;
}

typedef struct doc_tok {
    uint32_t term;
    uint32_t post; /* global posting index */
} doc_tok;

static void doc_path(uint32_t d, char *out, size_t n) {
    snprintf(out, n, "dir%u/sub/doc-%06u.txt", d % 7, d);
}

static int64_t doc_mtime(uint32_t d) { return d % 11 == 5 ? -(int64_t)d * 1000 : 1500000000 + (int64_t)d * 37; }

/* Generate `ndocs` documents. Every term is a distinct synthetic word; the
 * oracle knows each term's postings (doc, tf, title tf, positions) and each
 * document's text, token count and title token count. */
static void gen_corpus(corpus *c, uint32_t ndocs, uint64_t seed) {
    uint64_t r = seed;
    memset(c, 0, sizeof *c);
    c->ndocs = ndocs;

    /* documents without any token: empty, separators only */
    uint8_t *is_empty = calloc(ndocs, 1);
    uint8_t *is_big = calloc(ndocs, 1);
    c->empty = malloc(4 * sizeof *c->empty);
    const uint32_t empties[4] = {3, 4, ndocs / 2, ndocs - 2};
    for (int i = 0; i < 4; i++) {
        if (!is_empty[empties[i]]) c->empty[c->nempty++] = empties[i];
        is_empty[empties[i]] = 1;
    }
    uint32_t *elig = malloc(ndocs * sizeof *elig);
    uint32_t E = 0;
    for (uint32_t d = 0; d < ndocs; d++)
        if (!is_empty[d]) elig[E++] = d;

    c->nbig = ndocs >= 10000 ? 12 : 3;
    c->big = malloc(c->nbig * sizeof *c->big);
    for (uint32_t i = 0; i + 1 < c->nbig; i++) {
        c->big[i] = elig[1 + i * (E / c->nbig)];
        is_big[c->big[i]] = 1;
    }
    /* two neighbours too: their texts meet inside a text block */
    uint32_t nb = c->big[c->nbig - 2] + 1;
    while (is_empty[nb] || is_big[nb]) nb++;
    c->big[c->nbig - 1] = nb;
    is_big[nb] = 1;
    qsort(c->big, c->nbig, sizeof *c->big, cmp_u32);

    /* the vocabulary */
    spec_list specs = {0};
    char name[32];
    spec_add(&specs, "all", E, DOCS_RANDOM, TF_SMALL);
    spec_add(&specs, "half", E / 2, DOCS_RANDOM, TF_SMALL);
    spec_add(&specs, "third", E / 3, DOCS_RANDOM, TF_SMALL);
    spec_add(&specs, "tenth", E / 10, DOCS_RANDOM, TF_SMALL);
    spec_add(&specs, "hundredth", E / 100, DOCS_RANDOM, TF_SMALL);
    static const uint32_t boundary[] = {1,    2,    3,    4,    126,  127,  128,   129,   130,   255,
                                        256,  257,  383,  384,  385,  1000, 1023,  1024,  1025,  4095,
                                        4096, 4097, 16383, 16384, 16385, 65535, 65536, 65537};
    for (size_t i = 0; i < sizeof boundary / sizeof boundary[0]; i++) {
        if (boundary[i] > E) continue;
        snprintf(name, sizeof name, "df%u", boundary[i]);
        spec_add(&specs, name, boundary[i], DOCS_RANDOM, TF_SMALL);
    }
    uint32_t nz = ndocs >= 50000 ? 4000 : ndocs / 25;
    uint32_t zc = (uint32_t)(E * 0.6);
    for (uint32_t i = 0; i < nz; i++) {
        snprintf(name, sizeof name, "w%u", i);
        uint32_t df = zc / (i + 1);
        spec_add(&specs, name, df ? df : 1, DOCS_RANDOM, TF_SMALL);
    }
    uint32_t nr = ndocs >= 50000 ? 1000 : 100;
    for (uint32_t i = 0; i < nr; i++) {
        snprintf(name, sizeof name, "r%u", i);
        spec_add(&specs, name, 1 + i % 3, DOCS_RANDOM, TF_SMALL);
    }
    /* terms whose first 8 bytes agree over several lexicon blocks: LEXKEYS
     * cannot tell them apart, the lookup must read on into LEXICON */
    for (uint32_t i = 0; i < 120; i++) {
        snprintf(name, sizeof name, "longprefix%u", i * 7);
        spec_add(&specs, name, 1 + i % 2, DOCS_RANDOM, TF_SMALL);
    }
    for (uint32_t i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "big%u", i);
        spec_add(&specs, name, c->nbig, DOCS_BIG, TF_BIG);
    }
    spec_add(&specs, "heavy", E < 300 ? E : 300, DOCS_RANDOM, TF_HEAVY);
    /* consecutive documents, tf 1, never in a title: every width of the
     * doc blocks is zero */
    uint32_t clen = ndocs / 2 - 20 < 1000 ? ndocs / 2 - 20 : 1000;
    spec_add(&specs, "consec", clen, DOCS_RANGE, TF_ONE);
    specs.v[specs.n - 1].range_start = 10;
    specs.v[specs.n - 1].no_title = 1;
    /* the first and the last document: the largest gap */
    spec_add(&specs, "edge", 2, DOCS_EDGES, TF_SMALL);

    c->nterms = specs.n;
    c->terms = calloc(c->nterms, sizeof *c->terms);
    for (uint32_t t = 0; t < c->nterms; t++) c->npost += specs.v[t].df;
    c->post = calloc(c->npost, sizeof *c->post);
    uint32_t *perm = malloc(E * sizeof *perm);
    uint32_t *chosen = malloc(E * sizeof *chosen);
    memcpy(perm, elig, E * sizeof *perm);
    uint64_t np = 0;
    for (uint32_t t = 0; t < c->nterms; t++) {
        const term_spec *s = &specs.v[t];
        oterm *o = &c->terms[t];
        memcpy(o->name, s->name, sizeof o->name);
        o->df = s->df;
        o->first = np;
        o->no_title = s->no_title;
        switch (s->docs_kind) {
        case DOCS_BIG:
            memcpy(chosen, c->big, c->nbig * sizeof *chosen);
            break;
        case DOCS_RANGE:
            for (uint32_t j = 0; j < s->df; j++) chosen[j] = s->range_start + j;
            break;
        case DOCS_EDGES:
            chosen[0] = elig[0];
            chosen[1] = elig[E - 1];
            break;
        default:
            /* a partial Fisher-Yates shuffle picks df distinct documents */
            for (uint32_t j = 0; j < s->df; j++) {
                uint32_t k = j + rnd(&r, E - j);
                uint32_t tmp = perm[j];
                perm[j] = perm[k];
                perm[k] = tmp;
                chosen[j] = perm[j];
            }
            qsort(chosen, s->df, sizeof *chosen, cmp_u32);
        }
        for (uint32_t j = 0; j < s->df; j++) {
            opost *p = &c->post[np++];
            p->doc = chosen[j];
            p->tf = gen_tf(&r, s->tf_kind);
            p->pos = c->npositions;
            c->npositions += p->tf;
            o->cf += p->tf;
        }
    }
    free(perm);
    free(chosen);
    free(specs.v);

    /* documents: their tokens in random order */
    c->tokens = calloc(ndocs, sizeof *c->tokens);
    c->title_tokens = calloc(ndocs, sizeof *c->title_tokens);
    for (uint64_t i = 0; i < c->npost; i++) c->tokens[c->post[i].doc] += c->post[i].tf;
    uint64_t *dstart = malloc((ndocs + 1) * sizeof *dstart);
    uint64_t *dfill = malloc(ndocs * sizeof *dfill);
    dstart[0] = 0;
    for (uint32_t d = 0; d < ndocs; d++) dstart[d + 1] = dstart[d] + c->tokens[d];
    memcpy(dfill, dstart, ndocs * sizeof *dfill);
    doc_tok *toks = malloc((c->npositions ? c->npositions : 1) * sizeof *toks);
    for (uint32_t t = 0; t < c->nterms; t++)
        for (uint64_t i = c->terms[t].first; i < c->terms[t].first + c->terms[t].df; i++)
            for (uint32_t k = 0; k < c->post[i].tf; k++) {
                doc_tok *x = &toks[dfill[c->post[i].doc]++];
                x->term = t;
                x->post = (uint32_t)i;
            }
    free(dfill);
    c->positions = malloc((c->npositions ? c->npositions : 1) * sizeof *c->positions);

    tbuf text = {0};
    c->text_off = malloc((ndocs + 1) * sizeof *c->text_off);
    doc_tok *scratch = NULL;
    size_t scratch_cap = 0;
    uint32_t *tok_end = NULL;
    static const char *const title_breaks[] = {"\n", "\r\n", "\n\n", " \n", "\t\r\n\n"};
    static const char *const in_title[] = {" ", "  ", ", ", " \t", "; ", " - "};
    static const char *const body[] = {" ", " ", " ", " ", " ", " ", " ", " ", ", ", ". ",
                                       "\n", "\n\n", "\r\n", " - ", "\r", "  \n \n "};
    static const char *const leads[] = {"\n", "  \n", "\r\n\t \n", "\n\n   ", " "};
    static const char *const empty_texts[] = {"", "  ,;  \n\n\t", "\n\n...\n", "- -"};
    for (uint32_t d = 0; d < ndocs; d++) {
        c->text_off[d] = text.len;
        uint32_t T = c->tokens[d];
        if (is_empty[d]) {
            tb_str(&text, empty_texts[d % 4]);
            continue;
        }
        doc_tok *dt = toks + dstart[d];
        for (uint32_t i = T; i > 1; i--) {
            uint32_t k = rnd(&r, i);
            doc_tok tmp = dt[i - 1];
            dt[i - 1] = dt[k];
            dt[k] = tmp;
        }
        /* no-title tokens go last (stable) */
        if (T > scratch_cap) {
            scratch_cap = T * 2;
            scratch = realloc(scratch, scratch_cap * sizeof *scratch);
            tok_end = realloc(tok_end, scratch_cap * sizeof *tok_end);
            if (!scratch || !tok_end) abort();
        }
        uint32_t n_title_ok = 0, w = 0;
        for (uint32_t i = 0; i < T; i++)
            if (!c->terms[dt[i].term].no_title) scratch[w++] = dt[i];
        n_title_ok = w;
        for (uint32_t i = 0; i < T; i++)
            if (c->terms[dt[i].term].no_title) scratch[w++] = dt[i];
        memcpy(dt, scratch, T * sizeof *dt);
        uint32_t k = is_big[d] ? 60 : 1 + rnd(&r, 4);
        if (k > n_title_ok) k = n_title_ok;
        if (k == 0) abort(); /* every document holds "all" */
        if (rnd(&r, 10) == 0) tb_str(&text, leads[rnd(&r, 5)]);
        uint64_t doc_base = text.len;
        uint64_t title_off = 0, title_line_end = 0;
        for (uint32_t i = 0; i < T; i++) {
            if (i > 0) {
                if (i == k)
                    tb_str(&text, title_breaks[rnd(&r, 5)]);
                else if (i < k)
                    tb_str(&text, in_title[rnd(&r, 6)]);
                else
                    tb_str(&text, body[rnd(&r, 16)]);
            }
            if (i == 0) title_off = text.len - doc_base;
            tb_str(&text, c->terms[dt[i].term].name);
            tok_end[i] = (uint32_t)(text.len - doc_base);
            if (i == k - 1) title_line_end = text.len - doc_base;
            opost *p = &c->post[dt[i].post];
            c->positions[p->pos + p->fill++] = i;
        }
        if (rnd(&r, 5) == 0) tb_str(&text, rnd(&r, 2) ? "\n" : "  \n\n");
        /* the title: the first non-empty line, cut to TITLE_MAX_BYTES and
         * trimmed; its tokens are those that end inside it */
        uint64_t title_end = title_line_end;
        if (title_line_end - title_off > TITLE_MAX_BYTES) {
            title_end = title_off + TITLE_MAX_BYTES;
            while (title_end > title_off && is_ws_byte((uint8_t)text.p[doc_base + title_end - 1]))
                title_end--;
        }
        uint32_t nt = 0;
        while (nt < k && tok_end[nt] <= title_end) nt++;
        c->title_tokens[d] = nt;
        for (uint32_t i = 0; i < nt; i++) c->post[dt[i].post].ttf++;
    }
    c->text_off[ndocs] = text.len;
    tb_add(&text, "", 0);
    c->text = text.p;
    free(scratch);
    free(tok_end);
    free(toks);
    free(dstart);

    for (uint32_t d = 0; d < ndocs; d++) {
        c->total_tokens += c->tokens[d];
        c->total_title_tokens += c->title_tokens[d];
        passages_cut(c->text + c->text_off[d], c->text_off[d + 1] - c->text_off[d], count_passage,
                     &c->total_passages);
    }
    for (uint32_t t = 0; t < c->nterms; t++) {
        oterm *o = &c->terms[t];
        o->min_len = UINT32_MAX;
        for (uint64_t i = o->first; i < o->first + o->df; i++) {
            const opost *p = &c->post[i];
            if (p->tf > o->max_tf) o->max_tf = p->tf;
            if (p->ttf > o->max_ttf) o->max_ttf = p->ttf;
            if (c->tokens[p->doc] < o->min_len) o->min_len = c->tokens[p->doc];
        }
    }
    c->sorted = malloc(c->nterms * sizeof *c->sorted);
    for (uint32_t t = 0; t < c->nterms; t++) c->sorted[t] = t;
    sort_corpus_ = c;
    qsort(c->sorted, c->nterms, sizeof *c->sorted, cmp_term_names);
    free(is_empty);
    free(is_big);
    free(elig);
}

static void corpus_free(corpus *c) {
    free(c->terms);
    free(c->sorted);
    free(c->post);
    free(c->positions);
    free(c->text);
    free(c->text_off);
    free(c->tokens);
    free(c->title_tokens);
    free(c->big);
    free(c->empty);
    memset(c, 0, sizeof *c);
}

static const char *doc_text(const corpus *c, uint32_t d) { return c->text + c->text_off[d]; }
static uint64_t doc_len(const corpus *c, uint32_t d) { return c->text_off[d + 1] - c->text_off[d]; }

/* ------------------------------------------------------------------------ */
/* Building segments                                                        */
/* ------------------------------------------------------------------------ */

/* Index every document of the corpus into one segment file at `path`. */
static int build_corpus_segment(const corpus *c, const char *path, uint32_t *crc, uint64_t *flen) {
    analyzer *a = NULL;
    lode_error err;
    memset(&err, 0, sizeof err);
    int rc = analyzer_new(&a, "none", &err);
    if (rc) return rc;
    inverter inv;
    rc = inverter_init(&inv);
    char p[64];
    for (uint32_t d = 0; !rc && d < c->ndocs; d++) {
        doc_path(d, p, sizeof p);
        rc = inverter_add(&inv, a, p, (const uint8_t *)doc_text(c, d), doc_len(c, d), doc_mtime(d), &err);
    }
    if (!rc) rc = segment_write(&inv, path, "none", crc, flen, &err);
    if (rc) fprintf(stderr, "building %s: %d %s\n", path, rc, err.message);
    inverter_free(&inv);
    analyzer_free(a);
    return rc;
}

/* Index a few literal texts ("doc0", "doc1", ... as paths). */
static int build_texts_segment(const char *const *texts, size_t n, const char *path) {
    analyzer *a = NULL;
    lode_error err;
    memset(&err, 0, sizeof err);
    int rc = analyzer_new(&a, "none", &err);
    if (rc) return rc;
    inverter inv;
    rc = inverter_init(&inv);
    for (size_t i = 0; !rc && i < n; i++) {
        char p[32];
        snprintf(p, sizeof p, "doc%zu", i);
        rc = inverter_add(&inv, a, p, (const uint8_t *)texts[i], strlen(texts[i]), 1000 + (int64_t)i, &err);
    }
    uint32_t crc;
    uint64_t flen;
    if (!rc) rc = segment_write(&inv, path, "none", &crc, &flen, &err);
    if (rc) fprintf(stderr, "building %s: %d %s\n", path, rc, err.message);
    inverter_free(&inv);
    analyzer_free(a);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Verification against the oracle                                          */
/* ------------------------------------------------------------------------ */

static void verify_meta(segment *s, const corpus *c) {
    snprintf(ctx_, sizeof ctx_, "META");
    LCHECK_EQ(s->doc_count, c->ndocs);
    LCHECK_EQ(s->term_count, c->nterms);
    LCHECK_EQ(s->token_count, c->total_tokens);
    LCHECK_EQ(s->title_token_count, c->total_title_tokens);
    LCHECK_EQ(s->text_bytes, c->text_off[c->ndocs]);
    LCHECK_EQ(s->passage_count, c->total_passages);
    LCHECK(strcmp(s->stemmer, "none") == 0);
}

/* Every document record; the text, info and passages of a sample. */
static uint64_t lower_bound_u64(const uint64_t *v, uint64_t n, uint64_t key) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (v[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct span_list {
    passage_span v[4096];
    size_t n;
} span_list;

static int collect_span(void *ctx, const passage_span *p) {
    span_list *l = ctx;
    if (l->n < sizeof l->v / sizeof l->v[0]) l->v[l->n] = *p;
    l->n++;
    return 0;
}

static void verify_doc_info(segment *s, const corpus *c, uint32_t d, const doc_record *rec) {
    lode_error err;
    doc_info info;
    const char *text = doc_text(c, d);
    uint64_t len = doc_len(c, d);
    int rc = segment_doc_info(s, d, rec, &info, &err);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    char path[64];
    doc_path(d, path, sizeof path);
    LCHECK(info.path_len == strlen(path) && memcmp(info.path, path, info.path_len) == 0);
    uint32_t toff, tlen;
    document_title(text, len, &toff, &tlen);
    LCHECK_EQ(info.title_len, tlen);
    LCHECK(info.title_len == tlen && memcmp(info.title, text + toff, tlen) == 0);

    static span_list want;
    want.n = 0;
    passages_cut(text, len, collect_span, &want);
    LCHECK_EQ(info.passage_count, want.n);
    if (info.passage_count != want.n || want.n > sizeof want.v / sizeof want.v[0]) return;
    static passage_record got[4096];
    rc = doc_info_passages(s, &info, got, &err);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    /* token start offsets, recomputed from the text: tokens are the
     * maximal runs of [a-z0-9] in these documents */
    uint64_t line = 1, tok = 0, at = 0, prev_end = 0;
    for (uint32_t i = 0; i < info.passage_count; i++) {
        const passage_record *p = &got[i];
        LCHECK_EQ(p->offset, want.v[i].offset);
        LCHECK_EQ(p->length, want.v[i].length);
        LCHECK_EQ(p->line, want.v[i].line);
        LCHECK(p->length > 0 && p->length <= PASSAGE_MAX_BYTES);
        LCHECK((uint64_t)p->offset + p->length <= len);
        LCHECK(p->offset >= prev_end);
        if ((uint64_t)p->offset + p->length > len || p->offset < prev_end) return;
        /* between passages only whitespace */
        for (uint64_t b = prev_end; b < p->offset; b++) LCHECK(is_ws_byte((uint8_t)text[b]));
        LCHECK(!is_ws_byte((uint8_t)text[p->offset]));
        LCHECK(!is_ws_byte((uint8_t)text[p->offset + p->length - 1]));
        /* line numbers and token numbers, counted independently */
        for (; at < p->offset; at++) {
            uint8_t ch = (uint8_t)text[at];
            if (ch == '\n' || (ch == '\r' && !(at + 1 < len && text[at + 1] == '\n'))) line++;
            int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
            int prev_alnum = at > 0 && ((text[at - 1] >= 'a' && text[at - 1] <= 'z') ||
                                        (text[at - 1] >= '0' && text[at - 1] <= '9'));
            if (alnum && !prev_alnum) tok++;
        }
        LCHECK_EQ(p->line, line);
        LCHECK_EQ(p->first_token, tok);
        prev_end = p->offset + p->length;
    }
    for (uint64_t b = prev_end; b < len; b++) LCHECK(is_ws_byte((uint8_t)text[b]));
}

static void check_text_range(segment *s, const corpus *c, uint32_t d, const doc_record *rec, uint64_t off,
                             uint64_t len, lode_buf *out) {
    lode_error err;
    int rc = segment_text(s, rec, off, len, out, &err);
    LCHECK_EQ(rc, 0);
    LCHECK_EQ(out->len, len);
    if (rc == 0 && out->len == len && len && memcmp(out->data, doc_text(c, d) + off, len) != 0)
        lfail(__LINE__, "stored text differs", d, off, 1);
}

static void verify_docs(segment *s, const corpus *c, uint64_t seed, uint32_t sample) {
    uint64_t r = seed;
    lode_error err;
    lode_buf out;
    buf_init(&out);
    uint64_t text_off = 0;
    for (uint32_t d = 0; d < c->ndocs; d++) {
        doc_record rec;
        snprintf(ctx_, sizeof ctx_, "doc %u", d);
        int rc = segment_doc(s, d, &rec, &err);
        LCHECK_EQ(rc, 0);
        if (rc) continue;
        LCHECK_EQ(rec.token_count, c->tokens[d]);
        LCHECK_EQ(rec.title_token_count, c->title_tokens[d]);
        LCHECK_EQ(rec.size, doc_len(c, d));
        LCHECK_EQ(rec.text_offset, text_off);
        LCHECK_EQ(rec.mtime, doc_mtime(d));
        LCHECK_EQ(rec.content_hash, lode_hash64(doc_text(c, d), doc_len(c, d), 0));
        text_off += doc_len(c, d);
    }
    /* a sample of documents, the big ones and the empty ones */
    uint32_t n = c->ndocs < sample ? c->ndocs : sample;
    for (uint32_t i = 0; i < n + c->nbig + c->nempty; i++) {
        uint32_t d = i < n ? (c->ndocs <= sample ? i : rnd(&r, c->ndocs))
                           : (i < n + c->nbig ? c->big[i - n] : c->empty[i - n - c->nbig]);
        snprintf(ctx_, sizeof ctx_, "doc %u", d);
        doc_record rec;
        if (segment_doc(s, d, &rec, &err) != 0) continue;
        verify_doc_info(s, c, d, &rec);
        uint64_t len = doc_len(c, d);
        check_text_range(s, c, d, &rec, 0, len, &out);
        for (int k = 0; k < 3; k++) {
            uint64_t a = rnd(&r, (uint32_t)len + 1);
            uint64_t b = a + rnd(&r, (uint32_t)(len - a) + 1);
            check_text_range(s, c, d, &rec, a, b - a, &out);
        }
        check_text_range(s, c, d, &rec, len, 0, &out);
        /* a range outside the document is refused */
        LCHECK(segment_text(s, &rec, 0, len + 1, &out, &err) != 0);
        LCHECK(segment_text(s, &rec, len + 1, 0, &out, &err) != 0);
    }
    /* every boundary of the 16 KiB text blocks: a range across it */
    uint64_t total = c->text_off[c->ndocs];
    uint32_t crossings = 0, big_crossings = 0;
    for (uint64_t b = TEXT_BLOCK_SIZE; b < total; b += TEXT_BLOCK_SIZE) {
        /* the document holding byte b */
        uint64_t d = lower_bound_u64(c->text_off, c->ndocs + 1, b + 1) - 1;
        while (doc_len(c, (uint32_t)d) == 0) d++;
        snprintf(ctx_, sizeof ctx_, "doc %llu across text block boundary %llu", (unsigned long long)d,
                 (unsigned long long)b);
        doc_record rec;
        if (segment_doc(s, (uint32_t)d, &rec, &err) != 0) continue;
        uint64_t in_doc = b - c->text_off[d], len = doc_len(c, (uint32_t)d);
        if (in_doc == 0 || in_doc >= len) continue;
        uint64_t before = 1 + rnd(&r, (uint32_t)in_doc), after = 1 + rnd(&r, (uint32_t)(len - in_doc));
        check_text_range(s, c, (uint32_t)d, &rec, in_doc - before, before + after, &out);
        check_text_range(s, c, (uint32_t)d, &rec, in_doc - 1, 2, &out);
        check_text_range(s, c, (uint32_t)d, &rec, in_doc, len - in_doc, &out);
        crossings++;
        if (len > TEXT_BLOCK_SIZE) big_crossings++;
    }
    /* a big document spans two blocks and more: the whole of it */
    for (uint32_t i = 0; i < c->nbig; i++) {
        uint32_t d = c->big[i];
        LCHECK(doc_len(c, d) > TEXT_BLOCK_SIZE);
    }
    LCHECK(total < TEXT_BLOCK_SIZE || crossings > 0);
    LCHECK(total < 4 * TEXT_BLOCK_SIZE || big_crossings > 0);
    buf_free(&out);
}

static void verify_lexicon(segment *s, const corpus *c) {
    lode_error err;
    for (uint32_t t = 0; t < c->nterms; t++) {
        const oterm *o = &c->terms[t];
        snprintf(ctx_, sizeof ctx_, "term %s", o->name);
        term_info ti;
        int found = 0;
        int rc = segment_lookup(s, o->name, strlen(o->name), &ti, &found, &err);
        LCHECK_EQ(rc, 0);
        LCHECK_EQ(found, 1);
        if (rc || !found) continue;
        LCHECK_EQ(ti.df, o->df);
        LCHECK_EQ(ti.cf, o->cf);
        LCHECK_EQ(ti.max_tf, o->max_tf);
        LCHECK_EQ(ti.max_title_tf, o->max_ttf);
        LCHECK_EQ(ti.min_len, o->min_len);
        /* the name with a letter more, or one less, is another term */
        char other[40];
        snprintf(other, sizeof other, "%sq", o->name);
        rc = segment_lookup(s, other, strlen(other), &ti, &found, &err);
        LCHECK(rc == 0 && !found);
    }
    static const char *const missing[] = {"w", "df", "df0", "df5", "r", "bi", "bigg", "big10", "a", "al",
                                          "alla", "zzzz", "0", "000", "hal", "halfs", "consecq", "edg",
                                          "W1", "ALL", "w1 ", " w1", "w01", "heavyy", "~", "longpre", "longpref",
                                          "longprefix", "longprefix1", "longprefix8", "longprefiy", "longprefhx"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        snprintf(ctx_, sizeof ctx_, "missing term \"%s\"", missing[i]);
        term_info ti;
        int found = 1;
        int rc = segment_lookup(s, missing[i], strlen(missing[i]), &ti, &found, &err);
        LCHECK_EQ(rc, 0);
        LCHECK_EQ(found, 0);
    }
    char longterm[300];
    memset(longterm, 'w', sizeof longterm);
    int found = 1;
    term_info ti;
    LCHECK(segment_lookup(s, longterm, 255, &ti, &found, &err) == 0 && !found);
    found = 1;
    LCHECK(segment_lookup(s, longterm, 300, &ti, &found, &err) == 0 && !found);
    found = 1;
    LCHECK(segment_lookup(s, "", 0, &ti, &found, &err) == 0 && !found);
}

static uint32_t lower_bound_doc(const opost *P, uint32_t lo, uint32_t df, uint32_t target) {
    uint32_t hi = df;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (P[mid].doc < target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t *pos_buf_;
static size_t pos_buf_cap_;

static void check_positions(postings *pc, const corpus *c, const opost *p) {
    if (pos_buf_cap_ < p->tf + 1) {
        pos_buf_cap_ = p->tf + 64;
        pos_buf_ = realloc(pos_buf_, pos_buf_cap_ * sizeof *pos_buf_);
        if (!pos_buf_) abort();
    }
    pos_buf_[p->tf] = 0xC0FFEE; /* nothing is written past tf values */
    int rc = postings_positions(pc, pos_buf_);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    for (uint32_t k = 0; k < p->tf; k++)
        if (pos_buf_[k] != c->positions[p->pos + k]) {
            lfail(__LINE__, "position", pos_buf_[k], c->positions[p->pos + k], 1);
            break;
        }
    LCHECK_EQ(pos_buf_[p->tf], 0xC0FFEE);
}

/* The bound of the block holding `target` must hold for every document of
 * the term in [target, last_doc]. */
static void check_bound(postings *pc, const corpus *c, const opost *P, uint32_t df, uint32_t from,
                        uint32_t target) {
    uint32_t last = 0, mtf = 0, mttf = 0, mlen = UINT32_MAX;
    postings_block_bound(pc, target, &last, &mtf, &mttf, &mlen);
    uint32_t j = lower_bound_doc(P, from, df, target);
    if (j == df) return; /* nothing left to bound */
    LCHECK(last >= target);
    LCHECK(last >= P[j].doc); /* the block holding target holds the next document */
    for (uint32_t k = j; k < df && P[k].doc <= last; k++) {
        if (P[k].tf > mtf || P[k].ttf > mttf || c->tokens[P[k].doc] < mlen) {
            lfail(__LINE__, "block bound below a document's value", P[k].doc, target, 1);
            break;
        }
    }
}

/* Iterate a term with postings_next: exactly the oracle's documents, tfs,
 * title tfs; positions of all (small terms) or a sample of documents. */
static void verify_term_next(segment *s, const corpus *c, const oterm *o, const term_info *ti, uint64_t *r) {
    const opost *P = c->post + o->first;
    postings pc;
    lode_error err;
    int rc = postings_open(&pc, s, ti, &err);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    uint32_t every = o->df <= 300 ? 1 : o->df / 48;
    for (uint32_t j = 0; j < o->df; j++) {
        uint32_t d = j == 0 ? pc.doc : postings_next(&pc);
        if (d != P[j].doc) {
            lfail(__LINE__, "postings_next document", d, P[j].doc, 1);
            return;
        }
        LCHECK_EQ(postings_tf(&pc), P[j].tf);
        LCHECK_EQ(postings_title_tf(&pc), P[j].ttf);
        uint32_t in_block = j % POSTINGS_BLOCK;
        if (j % every == 0 || in_block == 0 || in_block == POSTINGS_BLOCK - 1 || j + 1 == o->df ||
            rnd(r, 200) == 0)
            check_positions(&pc, c, &P[j]);
    }
    LCHECK_EQ(postings_next(&pc), DOC_END);
    LCHECK_EQ(postings_next(&pc), DOC_END);
    LCHECK_EQ(postings_tf(&pc), 0);
    LCHECK_EQ(pc.rc, 0);
}

/* Advance to ascending random targets: before, between, on and past the
 * documents; check the block bound for each target first. */
static void verify_term_advance(segment *s, const corpus *c, const oterm *o, const term_info *ti, uint64_t *r) {
    const opost *P = c->post + o->first;
    uint32_t df = o->df;
    postings pc;
    lode_error err;
    int rc = postings_open(&pc, s, ti, &err);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    uint32_t cur = 0; /* oracle index of the current document */
    LCHECK_EQ(pc.doc, P[0].doc);
    LCHECK_EQ(postings_advance(&pc, 0), P[0].doc); /* a target behind is a no-op */
    LCHECK_EQ(postings_advance(&pc, P[0].doc), P[0].doc);
    uint32_t steps = df < 40 ? 2 * df + 2 : 80;
    for (uint32_t step = 0; step < steps; step++) {
        uint32_t here = P[cur].doc, target;
        static const uint32_t spans[] = {1, 2, 5, 127, 128, 129, 300, 1000, 100000};
        uint32_t span = spans[rnd(r, 9)];
        uint32_t left = df - cur;
        uint32_t j2 = cur + rnd(r, span < left ? span : left);
        switch (rnd(r, 6)) {
        case 0: target = P[j2].doc; break;                  /* on a document */
        case 1: target = P[j2].doc + 1; break;              /* just after one */
        case 2: target = j2 > cur ? P[j2].doc - 1 : here;   /* just before one */ break;
        case 3: target = here; break;                       /* where we are */
        case 4: target = here + 1; break;                   /* like next */
        default: target = here + rnd(r, 2 * (c->ndocs / df + 1) * (span < 300 ? span : 300) + 1); break;
        }
        if (target < here) target = here;
        check_bound(&pc, c, P, df, cur, target);
        uint32_t j = lower_bound_doc(P, cur, df, target);
        uint32_t want = j < df ? P[j].doc : DOC_END;
        uint32_t got = postings_advance(&pc, target);
        if (got != want) {
            lfail(__LINE__, "postings_advance", got, want, 1);
            return;
        }
        if (got == DOC_END) break;
        cur = j;
        LCHECK_EQ(postings_tf(&pc), P[j].tf);
        LCHECK_EQ(postings_title_tf(&pc), P[j].ttf);
        if (rnd(r, 4) == 0) check_positions(&pc, c, &P[j]);
        if (rnd(r, 8) == 0) { /* mix in next */
            uint32_t n = postings_next(&pc);
            uint32_t w = cur + 1 < df ? P[cur + 1].doc : DOC_END;
            if (n != w) {
                lfail(__LINE__, "postings_next after advance", n, w, 1);
                return;
            }
            if (n == DOC_END) break;
            cur++;
            LCHECK_EQ(postings_tf(&pc), P[cur].tf);
        }
    }
    /* past the last document */
    if (pc.doc != DOC_END) {
        check_bound(&pc, c, P, df, cur, P[df - 1].doc);
        LCHECK_EQ(postings_advance(&pc, P[df - 1].doc), P[df - 1].doc);
        LCHECK_EQ(postings_tf(&pc), P[df - 1].tf);
        check_positions(&pc, c, &P[df - 1]);
        LCHECK_EQ(postings_advance(&pc, P[df - 1].doc + 1), DOC_END);
    }
    LCHECK_EQ(postings_advance(&pc, UINT32_MAX - 1), DOC_END);
    LCHECK_EQ(postings_next(&pc), DOC_END);
    LCHECK_EQ(pc.rc, 0);

    /* a fresh cursor straight past the end, and straight to the last doc */
    rc = postings_open(&pc, s, ti, &err);
    LCHECK_EQ(rc, 0);
    if (rc) return;
    LCHECK_EQ(postings_advance(&pc, P[df - 1].doc + 1), DOC_END);
    LCHECK_EQ(pc.rc, 0);
    rc = postings_open(&pc, s, ti, &err);
    if (rc) return;
    LCHECK_EQ(postings_advance(&pc, P[df - 1].doc), P[df - 1].doc);
    LCHECK_EQ(postings_title_tf(&pc), P[df - 1].ttf);
    LCHECK_EQ(postings_next(&pc), DOC_END);
}

static void verify_postings(segment *s, const corpus *c, uint64_t seed) {
    uint64_t r = seed;
    lode_error err;
    for (uint32_t t = 0; t < c->nterms; t++) {
        const oterm *o = &c->terms[t];
        snprintf(ctx_, sizeof ctx_, "term %s (df %u)", o->name, o->df);
        term_info ti;
        int found = 0;
        if (segment_lookup(s, o->name, strlen(o->name), &ti, &found, &err) != 0 || !found) {
            lfail(__LINE__, "lookup before postings", 0, 0, 0);
            continue;
        }
        verify_term_next(s, c, o, &ti, &r);
        verify_term_advance(s, c, o, &ti, &r);
    }
}

typedef struct prefix_visit {
    const corpus *c;
    segment *s;
    const char *prefix;
    uint32_t pos;      /* index into c->sorted of the next expected term */
    uint32_t visited;
    uint32_t stop_after; /* return 5 after this many visits (0: never) */
    int bad;
} prefix_visit;

static int on_prefix_term(void *ctx, const char *term, size_t len, const term_info *ti) {
    prefix_visit *v = ctx;
    size_t plen = strlen(v->prefix);
    /* the next oracle term with the prefix */
    while (v->pos < v->c->nterms && strncmp(v->c->terms[v->c->sorted[v->pos]].name, v->prefix, plen) != 0)
        v->pos++;
    if (v->pos >= v->c->nterms) {
        if (!v->bad++) lfail(__LINE__, "prefix visit past the oracle's terms", len, 0, 1);
        return 0;
    }
    const oterm *o = &v->c->terms[v->c->sorted[v->pos++]];
    if (len != strlen(o->name) || memcmp(term, o->name, len) != 0) {
        if (!v->bad++) {
            snprintf(ctx_, sizeof ctx_, "prefix \"%.40s\": visited \"%.*s\", expected \"%s\"", v->prefix,
                     (int)(len < 64 ? len : 64), term, o->name);
            lfail(__LINE__, "prefix visit order", 0, 0, 0);
        }
    } else {
        LCHECK_EQ(ti->df, o->df);
        LCHECK_EQ(ti->cf, o->cf);
    }
    v->visited++;
    return v->stop_after && v->visited == v->stop_after ? 5 : 0;
}

/* With the "none" stemmer every word is its own term: the VOCAB walk must
 * visit the same strings as the LEXICON walk, each mapped to itself. */
static int on_prefix_word(void *ctx, const char *word, size_t word_len, const char *term, size_t term_len) {
    prefix_visit *v = ctx;
    if (term_len != word_len || memcmp(word, term, word_len) != 0) {
        if (!v->bad++) lfail(__LINE__, "word indexed under another term", word_len, term_len, 1);
    }
    term_info ti;
    memset(&ti, 0, sizeof ti);
    size_t plen = strlen(v->prefix);
    uint32_t p = v->pos;
    while (p < v->c->nterms && strncmp(v->c->terms[v->c->sorted[p]].name, v->prefix, plen) != 0) p++;
    if (p < v->c->nterms) {
        const oterm *o = &v->c->terms[v->c->sorted[p]];
        ti.df = o->df;
        ti.cf = o->cf;
    }
    return on_prefix_term(ctx, word, word_len, &ti);
}

static void check_prefix(segment *s, const corpus *c, const char *prefix) {
    lode_error err;
    prefix_visit v = {c, s, prefix, 0, 0, 0, 0};
    snprintf(ctx_, sizeof ctx_, "prefix \"%s\"", prefix);
    int rc = segment_prefix_terms(s, prefix, strlen(prefix), on_prefix_term, &v, &err);
    snprintf(ctx_, sizeof ctx_, "prefix \"%s\"", prefix);
    LCHECK_EQ(rc, 0);
    uint32_t want = 0;
    for (uint32_t t = 0; t < c->nterms; t++)
        if (strncmp(c->terms[t].name, prefix, strlen(prefix)) == 0) want++;
    LCHECK_EQ(v.visited, want);
    prefix_visit vw = {c, s, prefix, 0, 0, 0, 0};
    rc = segment_prefix_words(s, prefix, strlen(prefix), on_prefix_word, &vw, &err);
    snprintf(ctx_, sizeof ctx_, "words with prefix \"%s\"", prefix);
    LCHECK_EQ(rc, 0);
    LCHECK_EQ(vw.visited, want);
    /* a callback's non-zero value stops the walk and is returned */
    if (want >= 3) {
        prefix_visit w = {c, s, prefix, 0, 0, 3, 0};
        rc = segment_prefix_terms(s, prefix, strlen(prefix), on_prefix_term, &w, &err);
        LCHECK_EQ(rc, 5);
        LCHECK_EQ(w.visited, 3);
    }
}

static void verify_prefixes(segment *s, const corpus *c, uint64_t seed) {
    static const char *const prefixes[] = {"",     "w",     "w1",    "w12",   "w123",  "w3999", "w4000",
                                           "w9",   "w99",   "df",    "df12",  "df128", "df1",   "big",
                                           "bi",   "big1",  "r",     "r9",    "r99",   "a",     "al",
                                           "all",  "alla",  "zzz",   "0",     "consec", "h",    "t",
                                           "e",    "edge",  "edgex", "~",     "heavy", "hu",    "third"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) check_prefix(s, c, prefixes[i]);
    /* random prefixes of random terms */
    uint64_t r = seed;
    for (int i = 0; i < 200; i++) {
        const oterm *o = &c->terms[rnd(&r, c->nterms)];
        char p[24];
        size_t n = 1 + rnd(&r, (uint32_t)strlen(o->name));
        memcpy(p, o->name, n);
        p[n] = '\0';
        check_prefix(s, c, p);
    }
    /* a prefix longer than any term visits nothing */
    char longp[300];
    memset(longp, 'w', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    check_prefix(s, c, longp);
}

/* ------------------------------------------------------------------------ */
/* Small hand-made segments                                                 */
/* ------------------------------------------------------------------------ */

TEST(empty_segment) {
    case_start();
    char dir[64], path[128];
    REQUIRE(tmp_make(dir));
    snprintf(path, sizeof path, "%s/empty.lseg", dir);
    analyzer *a = NULL;
    lode_error err;
    memset(&err, 0, sizeof err);
    REQUIRE(analyzer_new(&a, "none", &err) == 0);
    inverter inv;
    REQUIRE(inverter_init(&inv) == 0);
    uint32_t crc = 0;
    uint64_t flen = 0;
    int rc = segment_write(&inv, path, "none", &crc, &flen, &err);
    CHECK_EQ_U64(rc, 0);
    inverter_free(&inv);
    analyzer_free(a);
    segment *s = NULL;
    rc = segment_open_file(&s, path, "empty.lseg", &err);
    CHECK_EQ_U64(rc, 0);
    if (rc) fprintf(stderr, "%s\n", err.message);
    if (s) {
        CHECK_EQ_U64(s->doc_count, 0);
        CHECK_EQ_U64(s->term_count, 0);
        CHECK_EQ_U64(s->token_count, 0);
        CHECK_EQ_U64(s->text_bytes, 0);
        CHECK_EQ_U64(s->header_crc, crc);
        CHECK_EQ_U64(s->size, flen);
        term_info ti;
        int found = 1;
        CHECK(segment_lookup(s, "w0", 2, &ti, &found, &err) == 0 && !found);
        found = 1;
        CHECK(segment_lookup(s, "a", 1, &ti, &found, &err) == 0 && !found);
        corpus none;
        memset(&none, 0, sizeof none);
        prefix_visit v = {&none, s, "", 0, 0, 0, 0};
        CHECK(segment_prefix_terms(s, "", 0, on_prefix_term, &v, &err) == 0);
        CHECK_EQ_U64(v.visited, 0);
        v.prefix = "w";
        CHECK(segment_prefix_terms(s, "w", 1, on_prefix_term, &v, &err) == 0);
        CHECK_EQ_U64(v.visited, 0);
        CHECK_EQ_U64(segment_check_all(s, &err), 0);
        CHECK_EQ_U64(segment_verify(s, &err), 0);
        doc_record rec;
        CHECK(segment_doc(s, 0, &rec, &err) != 0); /* no document 0 */
        segment_close(s);
    }
    tmp_remove(dir);
}

/* Documents that hold no token at all: a segment with documents and no
 * terms. The first document of the inverter has no token, so the inverter
 * flushes a document before it ever allocated its occurrence array (the
 * sanitizer build catches any NULL handed to qsort/memcpy on that path). */
TEST(segment_without_terms) {
    case_start();
    char dir[64], path[128];
    REQUIRE(tmp_make(dir));
    snprintf(path, sizeof path, "%s/noterms.lseg", dir);
    static const char *const texts[] = {"", "  ,;  \n\n\t", "... !!! ???\n\n---", ""};
    REQUIRE(build_texts_segment(texts, 4, path) == 0);
    segment *s = NULL;
    lode_error err;
    int rc = segment_open_file(&s, path, NULL, &err);
    CHECK_EQ_U64(rc, 0);
    if (s) {
        CHECK_EQ_U64(s->doc_count, 4);
        CHECK_EQ_U64(s->term_count, 0);
        CHECK_EQ_U64(s->token_count, 0);
        CHECK_EQ_U64(s->text_bytes, strlen(texts[1]) + strlen(texts[2]));
        lode_buf out;
        buf_init(&out);
        for (uint32_t d = 0; d < 4; d++) {
            doc_record rec;
            CHECK_EQ_U64(segment_doc(s, d, &rec, &err), 0);
            CHECK_EQ_U64(rec.size, strlen(texts[d]));
            CHECK_EQ_U64(rec.token_count, 0);
            CHECK_EQ_U64(rec.title_token_count, 0);
            CHECK_EQ_U64(segment_text(s, &rec, 0, rec.size, &out, &err), 0);
            CHECK_EQ_U64(out.len, strlen(texts[d]));
            CHECK(out.len == 0 || memcmp(out.data, texts[d], out.len) == 0);
            doc_info info;
            CHECK_EQ_U64(segment_doc_info(s, d, &rec, &info, &err), 0);
        }
        buf_free(&out);
        term_info ti;
        int found = 1;
        CHECK(segment_lookup(s, "a", 1, &ti, &found, &err) == 0 && !found);
        CHECK_EQ_U64(segment_check_all(s, &err), 0);
        CHECK_EQ_U64(segment_verify(s, &err), 0);
        segment_close(s);
    }
    tmp_remove(dir);
}

typedef struct exp_post {
    uint32_t doc, tf, ttf;
    uint32_t pos[4]; /* first positions (up to tf or 4) */
} exp_post;

static void check_term_exact(segment *s, const char *term, const exp_post *want, uint32_t n) {
    lode_error err;
    term_info ti;
    int found = 0;
    snprintf(ctx_, sizeof ctx_, "term %s", term);
    LCHECK(segment_lookup(s, term, strlen(term), &ti, &found, &err) == 0 && found);
    if (!found) return;
    LCHECK_EQ(ti.df, n);
    uint64_t cf = 0;
    uint32_t mtf = 0, mttf = 0;
    for (uint32_t i = 0; i < n; i++) {
        cf += want[i].tf;
        if (want[i].tf > mtf) mtf = want[i].tf;
        if (want[i].ttf > mttf) mttf = want[i].ttf;
    }
    LCHECK_EQ(ti.cf, cf);
    LCHECK_EQ(ti.max_tf, mtf);
    LCHECK_EQ(ti.max_title_tf, mttf);
    postings pc;
    LCHECK_EQ(postings_open(&pc, s, &ti, &err), 0);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d = i == 0 ? pc.doc : postings_next(&pc);
        LCHECK_EQ(d, want[i].doc);
        if (d != want[i].doc) return;
        LCHECK_EQ(postings_tf(&pc), want[i].tf);
        LCHECK_EQ(postings_title_tf(&pc), want[i].ttf);
        uint32_t pos[64];
        LCHECK_EQ(postings_positions(&pc, pos), 0);
        for (uint32_t k = 0; k < want[i].tf && k < 4; k++) LCHECK_EQ(pos[k], want[i].pos[k]);
        uint32_t mb, mt, mtt, ml;
        postings_block_bound(&pc, d, &mb, &mt, &mtt, &ml);
        LCHECK(mt >= want[i].tf && mtt >= want[i].ttf);
    }
    LCHECK_EQ(postings_next(&pc), DOC_END);
}

/* Title tf: occurrences among the tokens of the first non-empty line (cut
 * to TITLE_MAX_BYTES), on hand-made documents with hand-computed answers. */
TEST(title_tf_hand_made) {
    case_start();
    char dir[64], path[128];
    REQUIRE(tmp_make(dir));
    snprintf(path, sizeof path, "%s/title.lseg", dir);
    char long_first[400];
    size_t at = 0;
    for (int i = 0; i < 50; i++) at += (size_t)snprintf(long_first + at, sizeof long_first - at, "alpha ");
    snprintf(long_first + at, sizeof long_first - at, "\nalpha"); /* 50 + 1 alphas; the title is the first 200 bytes */
    const char *texts[] = {
        "alpha beta\nalpha gamma alpha",    /* 0: title "alpha beta" */
        "\n\n  gamma gamma  \nbeta",         /* 1: blank lines before the title */
        "no title terms here",               /* 2: one line: every token is a title token */
        "",                                  /* 3: empty */
        long_first,                          /* 4: title cut inside the 34th alpha */
        "   \t\n beta alpha\r\nalpha",       /* 5: whitespace-only first line, CRLF */
        "gamma\n\nalpha alpha",              /* 6 */
        "ALPHA Alpha alpha",                 /* 7: case folded */
    };
    REQUIRE(build_texts_segment(texts, 8, path) == 0);
    segment *s = NULL;
    lode_error err;
    REQUIRE(segment_open_file(&s, path, NULL, &err) == 0);

    static const uint32_t tokens[] = {5, 3, 4, 0, 51, 3, 3, 3};
    static const uint32_t title_tokens[] = {2, 2, 4, 0, 33, 2, 1, 3};
    const char *titles[] = {"alpha beta", "gamma gamma", "no title terms here", "", NULL, "beta alpha",
                            "gamma", "ALPHA Alpha alpha"};
    for (uint32_t d = 0; d < 8; d++) {
        doc_record rec;
        snprintf(ctx_, sizeof ctx_, "doc %u", d);
        LCHECK_EQ(segment_doc(s, d, &rec, &err), 0);
        LCHECK_EQ(rec.token_count, tokens[d]);
        LCHECK_EQ(rec.title_token_count, title_tokens[d]);
        doc_info info;
        LCHECK_EQ(segment_doc_info(s, d, &rec, &info, &err), 0);
        const char *want = titles[d] ? titles[d] : long_first;
        size_t wl = titles[d] ? strlen(titles[d]) : TITLE_MAX_BYTES;
        LCHECK_EQ(info.title_len, wl);
        LCHECK(info.title_len == wl && memcmp(info.title, want, wl) == 0);
    }
    CHECK_EQ_U64(s->token_count, 5 + 3 + 4 + 0 + 51 + 3 + 3 + 3);
    CHECK_EQ_U64(s->title_token_count, 2 + 2 + 4 + 0 + 33 + 2 + 1 + 3);

    static const exp_post alpha[] = {{0, 3, 1, {0, 2, 4}},
                                     {4, 51, 33, {0, 1, 2, 3}},
                                     {5, 2, 1, {1, 2}},
                                     {6, 2, 0, {1, 2}},
                                     {7, 3, 3, {0, 1, 2}}};
    static const exp_post beta[] = {{0, 1, 1, {1}}, {1, 1, 0, {2}}, {5, 1, 1, {0}}};
    static const exp_post gamma_[] = {{0, 1, 0, {3}}, {1, 2, 2, {0, 1}}, {6, 1, 1, {0}}};
    static const exp_post no[] = {{2, 1, 1, {0}}};
    static const exp_post here[] = {{2, 1, 1, {3}}};
    check_term_exact(s, "alpha", alpha, 5);
    check_term_exact(s, "beta", beta, 3);
    check_term_exact(s, "gamma", gamma_, 3);
    check_term_exact(s, "no", no, 1);
    check_term_exact(s, "here", here, 1);
    /* the positions of the long document run on past the title */
    {
        term_info ti;
        int found = 0;
        postings pc;
        uint32_t pos[64];
        CHECK(segment_lookup(s, "alpha", 5, &ti, &found, &err) == 0 && found);
        CHECK(postings_open(&pc, s, &ti, &err) == 0);
        CHECK_EQ_U64(postings_advance(&pc, 4), 4);
        CHECK(postings_positions(&pc, pos) == 0);
        for (uint32_t k = 0; k < 51; k++) CHECK_EQ_U64(pos[k], k);
    }
    term_info ti;
    int found = 1;
    CHECK(segment_lookup(s, "alph", 4, &ti, &found, &err) == 0 && !found);
    CHECK_EQ_U64(segment_check_all(s, &err), 0);
    CHECK_EQ_U64(segment_verify(s, &err), 0);
    segment_close(s);
    tmp_remove(dir);
}

/* ------------------------------------------------------------------------ */
/* Generated corpora                                                        */
/* ------------------------------------------------------------------------ */

static void verify_all(segment *s, const corpus *c, uint64_t seed, uint32_t doc_sample) {
    verify_meta(s, c);
    verify_docs(s, c, seed ^ 1, doc_sample);
    verify_lexicon(s, c);
    verify_postings(s, c, seed ^ 2);
    verify_prefixes(s, c, seed ^ 3);
    lode_error err;
    snprintf(ctx_, sizeof ctx_, "check_all");
    int rc = segment_check_all(s, &err);
    LCHECK_EQ(rc, 0);
    if (rc) fprintf(stderr, "%s\n", err.message);
    /* every structure holds together (lode_index_check's second half) */
    snprintf(ctx_, sizeof ctx_, "verify");
    rc = segment_verify(s, &err);
    LCHECK_EQ(rc, 0);
    if (rc) fprintf(stderr, "%s\n", err.message);
}

static void check_corpus_shape(const corpus *c) {
    /* the corpus covers what the case claims: every block boundary and
     * postings lists from 1 to (nearly) every document */
    uint32_t has[8] = {0};
    static const uint32_t dfs[8] = {1, 127, 128, 129, 255, 256, 257, 2};
    uint32_t max_df = 0;
    for (uint32_t t = 0; t < c->nterms; t++) {
        for (int k = 0; k < 8; k++)
            if (c->terms[t].df == dfs[k]) has[k]++;
        if (c->terms[t].df > max_df) max_df = c->terms[t].df;
    }
    for (int k = 0; k < 8; k++) CHECK(has[k] > 0);
    CHECK(max_df + c->nempty == c->ndocs);
}

/* A few thousand documents: the whole path, quickly. */
TEST(small_generated_segment) {
    case_start();
    char dir[64], path[128];
    REQUIRE(tmp_make(dir));
    snprintf(path, sizeof path, "%s/small.lseg", dir);
    corpus c;
    gen_corpus(&c, 3000, 0x5EED0001);
    check_corpus_shape(&c);
    uint32_t crc = 0;
    uint64_t flen = 0;
    REQUIRE(build_corpus_segment(&c, path, &crc, &flen) == 0);
    segment *s = NULL;
    lode_error err;
    int rc = segment_open_file(&s, path, "small.lseg", &err);
    CHECK_EQ_U64(rc, 0);
    if (s) {
        CHECK_EQ_U64(s->header_crc, crc);
        CHECK_EQ_U64(s->size, flen);
        verify_all(s, &c, 11, 3000);
        segment_close(s);
    }
    corpus_free(&c);
    tmp_remove(dir);
}

/* 100 000 documents, ~5 000 terms with df from 1 to 100 000; from the file
 * and from a malloc'd copy of it. */
TEST(large_generated_segment) {
    case_start();
    char dir[64], path[128];
    REQUIRE(tmp_make(dir));
    snprintf(path, sizeof path, "%s/large.lseg", dir);
    double t0 = now_sec();
    corpus c;
    gen_corpus(&c, 100000, 0x5EED0002);
    check_corpus_shape(&c);
    double t1 = now_sec();
    uint32_t crc = 0;
    uint64_t flen = 0;
    REQUIRE(build_corpus_segment(&c, path, &crc, &flen) == 0);
    double t2 = now_sec();
    segment *s = NULL;
    lode_error err;
    int rc = segment_open_file(&s, path, "large.lseg", &err);
    CHECK_EQ_U64(rc, 0);
    if (s) {
        CHECK_EQ_U64(s->header_crc, crc);
        CHECK_EQ_U64(s->size, flen);
        verify_all(s, &c, 21, 1500);
        segment_close(s);
    }
    double t3 = now_sec();
    size_t len = 0;
    uint8_t *copy = read_all(path, &len);
    REQUIRE(copy);
    CHECK_EQ_U64(len, flen);
    s = NULL;
    rc = segment_open_memory(&s, copy, len, "large.lseg (memory)", &err);
    CHECK_EQ_U64(rc, 0);
    if (s) {
        CHECK_EQ_U64(s->header_crc, crc);
        verify_all(s, &c, 22, 1500);
        segment_close(s);
    }
    double t4 = now_sec();
    fprintf(stderr,
            "  large: %u docs, %u terms, %llu postings, %llu tokens, %llu text bytes, %llu file bytes\n"
            "  generate %.2fs, index+write %.2fs, verify file %.2fs, verify memory %.2fs\n",
            c.ndocs, c.nterms, (unsigned long long)c.npost, (unsigned long long)c.total_tokens,
            (unsigned long long)c.text_off[c.ndocs], (unsigned long long)flen, t1 - t0, t2 - t1, t3 - t2,
            t4 - t3);
    free(copy);
    corpus_free(&c);
    tmp_remove(dir);
}

/* ------------------------------------------------------------------------ */
/* Damage                                                                   */
/* ------------------------------------------------------------------------ */

/* Absolute offset of a byte whose whole checksum page lies inside [lo, hi),
 * or 0 when no page fits. */
static uint64_t byte_in_own_page(const uint8_t *data, uint64_t lo, uint64_t hi) {
    uint64_t hl = load_u32(data + 12);
    if (lo < hl) return 0;
    uint64_t pg = (lo - hl + SEG_PAGE_SIZE - 1) / SEG_PAGE_SIZE;
    /* the middle page of the range, when there are several */
    uint64_t last = (hi - hl) / SEG_PAGE_SIZE; /* first page not wholly inside */
    if (last <= pg) return 0;
    pg += (last - pg) / 2;
    return hl + pg * SEG_PAGE_SIZE + 1234;
}

static size_t page_of(const uint8_t *data, uint64_t abs) { return (size_t)((abs - load_u32(data + 12)) / SEG_PAGE_SIZE); }

static segment *open_copy(const uint8_t *data, size_t len, uint8_t **copy_out, int *rc, lode_error *err) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, data, len);
    segment *s = NULL;
    memset(err, 0, sizeof *err);
    *rc = segment_open_memory(&s, copy, len, "damaged.lseg", err);
    if (*rc) {
        free(copy);
        copy = NULL;
    }
    *copy_out = copy;
    return s;
}

static void fix_header_crc(uint8_t *data) {
    uint32_t hl = load_u32(data + 12);
    store_u32(data + hl - 4, (uint32_t)crc32(0, data, hl - 4));
}

typedef struct damage_fixture {
    char dir[64];
    char path[128];
    corpus c;
    uint8_t *data;
    size_t len;
} damage_fixture;

static int damage_setup(damage_fixture *f) {
    memset(f, 0, sizeof *f);
    if (!tmp_make(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/seg.lseg", f->dir);
    gen_corpus(&f->c, 20000, 0x5EED0003);
    uint32_t crc;
    uint64_t flen;
    if (build_corpus_segment(&f->c, f->path, &crc, &flen)) return -1;
    f->data = read_all(f->path, &f->len);
    return f->data ? 0 : -1;
}

static void damage_teardown(damage_fixture *f) {
    free(f->data);
    corpus_free(&f->c);
    tmp_remove(f->dir);
}

static section_ref section_of(const uint8_t *data, int id) {
    section_ref r = {0, 0, 0};
    uint32_t count = load_u32(data + 28);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = data + SEG_HEADER_FIXED + (size_t)i * SEG_SECTION_ENTRY;
        if (load_u32(e) == (uint32_t)id) {
            r.offset = load_u64(e + 8);
            r.length = load_u64(e + 16);
            r.crc = load_u32(e + 24);
        }
    }
    return r;
}

TEST(corrupt_postings_byte) {
    case_start();
    damage_fixture f;
    REQUIRE(damage_setup(&f) == 0);
    lode_error err;
    int rc;
    uint8_t *copy = NULL;
    segment *s = open_copy(f.data, f.len, &copy, &rc, &err);
    REQUIRE(s);
    /* the term with the longest postings */
    const oterm *victim = NULL;
    term_info vti;
    memset(&vti, 0, sizeof vti);
    for (uint32_t t = 0; t < f.c.nterms; t++) {
        term_info ti;
        int found = 0;
        if (segment_lookup(s, f.c.terms[t].name, strlen(f.c.terms[t].name), &ti, &found, &err) == 0 && found &&
            ti.length > vti.length) {
            vti = ti;
            victim = &f.c.terms[t];
        }
    }
    segment_close(s);
    free(copy);
    REQUIRE(victim);
    section_ref post = section_of(f.data, SEC_POSTINGS);
    uint64_t lo = post.offset + vti.offset, hi = lo + vti.length;
    uint64_t at = byte_in_own_page(f.data, lo, hi);
    REQUIRE(at != 0);
    size_t bad_page = page_of(f.data, at);

    f.data[at] ^= 0x5A;
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    f.data[at] ^= 0x5A;
    CHECK_EQ_U64(rc, 0); /* pages are checked when read, not at open */
    REQUIRE(s);
    term_info ti;
    int found = 0;
    CHECK(segment_lookup(s, victim->name, strlen(victim->name), &ti, &found, &err) == 0 && found);
    postings pc;
    memset(&err, 0, sizeof err);
    rc = postings_open(&pc, s, &ti, &err);
    if (rc == 0) {
        /* a reader may also find it while iterating */
        while (postings_next(&pc) != DOC_END) {
        }
        rc = pc.rc;
    }
    CHECK_EQ_U64(rc, (uint64_t)LODE_ECORRUPT);
    CHECK_EQ_U64(err.code, (uint64_t)LODE_ECORRUPT);
    CHECK(strstr(err.message, "POSTINGS") != NULL);
    CHECK(strstr(err.message, "damaged.lseg") != NULL);
    fprintf(stderr, "  reported: %s\n", err.message);
    /* a term whose postings lie in other pages still reads right */
    uint32_t others = 0;
    uint64_t r = 99;
    for (uint32_t t = 0; t < f.c.nterms && others < 50; t++) {
        const oterm *o = &f.c.terms[t];
        found = 0;
        if (segment_lookup(s, o->name, strlen(o->name), &ti, &found, &err) != 0 || !found) continue;
        uint64_t a = post.offset + ti.offset, b = a + ti.length;
        if (b > a && page_of(f.data, a) <= bad_page && page_of(f.data, b - 1) >= bad_page) continue;
        snprintf(ctx_, sizeof ctx_, "intact term %s", o->name);
        verify_term_next(s, &f.c, o, &ti, &r);
        others++;
    }
    CHECK(others == 50);
    CHECK_EQ_U64(segment_check_all(s, &err), (uint64_t)LODE_ECORRUPT);
    segment_close(s);
    free(copy);
    damage_teardown(&f);
}

/* A flipped byte in other sections: reads of that section report it, by
 * name; whole-file checks find every one. */
TEST(corrupt_other_sections) {
    case_start();
    damage_fixture f;
    REQUIRE(damage_setup(&f) == 0);
    lode_error err;
    int rc;
    uint8_t *copy;
    segment *s;

    /* LEXICON: a full walk of the terms meets the damaged page */
    section_ref lex = section_of(f.data, SEC_LEXICON);
    uint64_t at = byte_in_own_page(f.data, lex.offset, lex.offset + lex.length);
    REQUIRE(at);
    f.data[at] ^= 0x01;
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    f.data[at] ^= 0x01;
    CHECK_EQ_U64(rc, 0);
    if (s) {
        prefix_visit v = {&f.c, s, "", 0, 0, 0, 0};
        memset(&err, 0, sizeof err);
        rc = segment_prefix_terms(s, "", 0, on_prefix_term, &v, &err);
        CHECK_EQ_U64(rc, (uint64_t)LODE_ECORRUPT);
        CHECK(strstr(err.message, "LEXICON") != NULL);
        fprintf(stderr, "  reported: %s\n", err.message);
        /* every lookup either answers right or reports damage */
        uint32_t failed = 0;
        for (uint32_t t = 0; t < f.c.nterms; t++) {
            term_info ti;
            int found = 0;
            rc = segment_lookup(s, f.c.terms[t].name, strlen(f.c.terms[t].name), &ti, &found, &err);
            if (rc) {
                CHECK_EQ_U64(rc, (uint64_t)LODE_ECORRUPT);
                failed++;
            } else {
                CHECK(found && ti.df == f.c.terms[t].df);
            }
        }
        CHECK(failed > 0);
        CHECK_EQ_U64(segment_check_all(s, &err), (uint64_t)LODE_ECORRUPT);
        segment_close(s);
        free(copy);
    }

    /* TEXT: the text of a document in the damaged block */
    section_ref text = section_of(f.data, SEC_TEXT), tidx = section_of(f.data, SEC_TEXTIDX);
    at = byte_in_own_page(f.data, text.offset, text.offset + text.length);
    REQUIRE(at);
    uint64_t zat = at - text.offset, block = UINT64_MAX;
    for (uint64_t b = 0; b < tidx.length / TEXTIDX_ENTRY; b++) {
        const uint8_t *e = f.data + tidx.offset + b * TEXTIDX_ENTRY;
        if (load_u64(e) <= zat && zat < load_u64(e) + load_u32(e + 8)) block = b;
    }
    REQUIRE(block != UINT64_MAX);
    uint64_t raw = block * TEXT_BLOCK_SIZE + 100;
    uint32_t d = (uint32_t)(lower_bound_u64(f.c.text_off, f.c.ndocs + 1, raw + 1) - 1);
    f.data[at] ^= 0x80;
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    f.data[at] ^= 0x80;
    CHECK_EQ_U64(rc, 0);
    if (s) {
        doc_record rec;
        CHECK_EQ_U64(segment_doc(s, d, &rec, &err), 0);
        lode_buf out;
        buf_init(&out);
        memset(&err, 0, sizeof err);
        rc = segment_text(s, &rec, 0, rec.size, &out, &err);
        CHECK_EQ_U64(rc, (uint64_t)LODE_ECORRUPT);
        CHECK(strstr(err.message, "TEXT") != NULL);
        fprintf(stderr, "  reported: %s\n", err.message);
        /* the first document's text is elsewhere and intact */
        CHECK_EQ_U64(segment_doc(s, 0, &rec, &err), 0);
        CHECK_EQ_U64(segment_text(s, &rec, 0, rec.size, &out, &err), 0);
        CHECK(out.len == doc_len(&f.c, 0) && memcmp(out.data, doc_text(&f.c, 0), out.len) == 0);
        buf_free(&out);
        CHECK_EQ_U64(segment_check_all(s, &err), (uint64_t)LODE_ECORRUPT);
        segment_close(s);
        free(copy);
    }

    /* DOCS: the records in the damaged page */
    section_ref docs = section_of(f.data, SEC_DOCS);
    at = byte_in_own_page(f.data, docs.offset, docs.offset + docs.length);
    REQUIRE(at);
    d = (uint32_t)((at - docs.offset) / DOC_RECORD_SIZE);
    f.data[at] ^= 0x10;
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    f.data[at] ^= 0x10;
    CHECK_EQ_U64(rc, 0);
    if (s) {
        doc_record rec;
        memset(&err, 0, sizeof err);
        CHECK_EQ_U64(segment_doc(s, d, &rec, &err), (uint64_t)LODE_ECORRUPT);
        CHECK(strstr(err.message, "DOCS") != NULL);
        fprintf(stderr, "  reported: %s\n", err.message);
        CHECK_EQ_U64(segment_doc(s, 0, &rec, &err), 0);
        CHECK_EQ_U64(rec.token_count, f.c.tokens[0]);
        segment_close(s);
        free(copy);
    }
    damage_teardown(&f);
}

TEST(corrupt_header) {
    case_start();
    damage_fixture f;
    REQUIRE(damage_setup(&f) == 0);
    uint32_t hl = load_u32(f.data + 12);
    CHECK_EQ_U64(hl, SEG_HEADER_FIXED + SEC_MAX * SEG_SECTION_ENTRY + 4); /* every section, optional ones too */
    lode_error err;
    int rc;
    uint8_t *copy;
    /* the intact copy opens */
    segment *s = open_copy(f.data, f.len, &copy, &rc, &err);
    CHECK_EQ_U64(rc, 0);
    segment_close(s);
    free(copy);
    /* every header byte but the version: LODE_ECORRUPT (opened in place:
     * f.data is an exact-size heap block too) */
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < hl; i++) {
        if (i >= 8 && i < 12) continue;
        for (int bit = 0; bit < 8; bit += 7) {
            f.data[i] ^= (uint8_t)(1u << bit);
            s = NULL;
            rc = segment_open_memory(&s, f.data, f.len, "damaged.lseg", &err);
            if (rc != LODE_ECORRUPT) {
                if (wrong++ < 5) fprintf(stderr, "header byte %u bit %d: rc %d\n", i, bit, rc);
            }
            segment_close(s);
            f.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ_U64(wrong, 0);
    /* on disk too */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/flipped.lseg", f.dir);
    f.data[40] ^= 0x04;
    REQUIRE(write_all(p2, f.data, f.len) == 0);
    f.data[40] ^= 0x04;
    s = NULL;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_ECORRUPT);
    CHECK(s == NULL);
    CHECK(strstr(err.message, "HEADER") != NULL);
    fprintf(stderr, "  reported: %s\n", err.message);
    damage_teardown(&f);
}

TEST(truncated_file) {
    case_start();
    damage_fixture f;
    REQUIRE(damage_setup(&f) == 0);
    lode_error err;
    int rc;
    uint8_t *copy;
    segment *s;
    uint32_t hl = load_u32(f.data + 12);
    const size_t sizes[] = {f.len - 1, f.len - 2, f.len - 4096, f.len / 2, hl + 1, hl, hl - 1, 33, 32, 31, 8, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        s = open_copy(f.data, sizes[i], &copy, &rc, &err);
        if (rc != LODE_ECORRUPT) fprintf(stderr, "truncated to %zu bytes: rc %d\n", sizes[i], rc);
        CHECK_EQ_U64(rc, (uint64_t)LODE_ECORRUPT);
        CHECK(s == NULL);
        if (i == 0) {
            CHECK(strstr(err.message, "truncated") != NULL);
            fprintf(stderr, "  reported: %s\n", err.message);
        }
        segment_close(s);
        free(copy);
    }
    /* one byte too many is damage as well */
    uint8_t *longer = malloc(f.len + 1);
    REQUIRE(longer);
    memcpy(longer, f.data, f.len);
    longer[f.len] = 0;
    s = NULL;
    CHECK_EQ_U64(segment_open_memory(&s, longer, f.len + 1, NULL, &err), (uint64_t)LODE_ECORRUPT);
    segment_close(s);
    free(longer);
    /* files: one byte short, and shorter than a header */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/short.lseg", f.dir);
    REQUIRE(write_all(p2, f.data, f.len - 1) == 0);
    s = NULL;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_ECORRUPT);
    CHECK(strstr(err.message, "truncated") != NULL);
    fprintf(stderr, "  reported: %s\n", err.message);
    unlink(p2);
    REQUIRE(write_all(p2, f.data, 10) == 0);
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_ECORRUPT);
    CHECK(strstr(err.message, "truncated") != NULL);
    unlink(p2);
    REQUIRE(write_all(p2, f.data, 0) == 0);
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_ECORRUPT);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/missing.lseg", f.dir);
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_ENOTFOUND);
    damage_teardown(&f);
}

TEST(wrong_version) {
    case_start();
    damage_fixture f;
    REQUIRE(damage_setup(&f) == 0);
    lode_error err;
    int rc;
    uint8_t *copy;
    segment *s;
    /* the CRC fix alone changes nothing: the copy still opens */
    fix_header_crc(f.data);
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    CHECK_EQ_U64(rc, 0);
    segment_close(s);
    free(copy);
    static const uint32_t versions[] = {0, 2, 3, 0x100, UINT32_MAX};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        store_u32(f.data + 8, versions[i]);
        fix_header_crc(f.data);
        s = open_copy(f.data, f.len, &copy, &rc, &err);
        CHECK_EQ_U64(rc, (uint64_t)LODE_EVERSION);
        CHECK_EQ_U64(err.code, (uint64_t)LODE_EVERSION);
        CHECK(s == NULL);
        segment_close(s);
        free(copy);
    }
    fprintf(stderr, "  reported: %s\n", err.message);
    /* from a file */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/v2.lseg", f.dir);
    store_u32(f.data + 8, 2);
    fix_header_crc(f.data);
    REQUIRE(write_all(p2, f.data, f.len) == 0);
    s = NULL;
    CHECK_EQ_U64(segment_open_file(&s, p2, NULL, &err), (uint64_t)LODE_EVERSION);
    CHECK(s == NULL);
    /* another page size with a valid CRC is another format, not damage */
    store_u32(f.data + 8, SEG_FORMAT_VERSION);
    store_u32(f.data + 24, 8192);
    fix_header_crc(f.data);
    s = open_copy(f.data, f.len, &copy, &rc, &err);
    CHECK_EQ_U64(rc, (uint64_t)LODE_EVERSION);
    CHECK(s == NULL);
    segment_close(s);
    free(copy);
    damage_teardown(&f);
}

TEST_MAIN(TEST_CASE(empty_segment), TEST_CASE(segment_without_terms), TEST_CASE(title_tf_hand_made),
          TEST_CASE(small_generated_segment), TEST_CASE(large_generated_segment),
          TEST_CASE(corrupt_postings_byte), TEST_CASE(corrupt_other_sections), TEST_CASE(corrupt_header),
          TEST_CASE(truncated_file), TEST_CASE(wrong_version))
