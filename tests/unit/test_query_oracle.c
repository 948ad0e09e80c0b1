/*
 * test_query_oracle.c - the query language against an obviously correct
 * scan. A generated corpus (random documents over a small vocabulary whose
 * words share prefixes) is indexed through the public API; thousands of
 * random queries of every kind (words, phrases, prefixes, NEAR, AND/OR/NOT,
 * +/-, title:, path:) are written as query text, searched, and the set of
 * documents returned must equal the set a plain scan of the word arrays
 * says matches. Ranking is not judged here, only matching.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lode.h"
#include "test.h"

#define NDOCS 300
#define NWORDS 64
#define MAX_LEN 60
#define TITLE_LEN 3

static const char *SYL[8] = {"ka", "ki", "ko", "ma", "mi", "mo", "ta", "ti"};
static char vocab[NWORDS][8];

typedef struct doc {
    int words[MAX_LEN];
    int len;
    char path[32];
} doc;

static doc docs[NDOCS];
static lode_index *ix;
static char tmpdir[] = "/tmp/lode-oracle-XXXXXX";

/* --- the query model ------------------------------------------------------ */

enum { N_WORD, N_PHRASE, N_PREFIX, N_NEAR, N_BOOL, N_PATH };
enum { O_SHOULD, O_MUST, O_NOT };

typedef struct node {
    int kind;
    int occur;
    int title;           /* title: field on a leaf */
    int words[4];        /* WORD: 1, PHRASE: n */
    int nwords;
    char prefix[8];
    char glob[16];
    int distance;
    struct node *kids[4];
    int nkids;
} node;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static int rnd(int n) { return (int)(test_rand(&rng) % (uint64_t)n); }

static node *leaf(int depth_allow_near);

static node *new_node(int kind) {
    node *n = calloc(1, sizeof *n);
    n->kind = kind;
    return n;
}

static void free_node(node *n) {
    if (!n) return;
    for (int i = 0; i < n->nkids; i++) free_node(n->kids[i]);
    free(n);
}

static node *leaf(int allow_near) {
    int r = rnd(allow_near ? 10 : 8);
    node *n;
    if (r < 4) {
        n = new_node(N_WORD);
        n->words[0] = rnd(NWORDS);
        n->nwords = 1;
    } else if (r < 6) {
        n = new_node(N_PHRASE);
        n->nwords = 2 + rnd(2);
        /* often take a real run of a document so phrases do match */
        const doc *d = &docs[rnd(NDOCS)];
        int start = rnd(d->len - n->nwords);
        for (int i = 0; i < n->nwords; i++) n->words[i] = rnd(3) ? d->words[start + i] : rnd(NWORDS);
    } else if (r < 8) {
        n = new_node(N_PREFIX);
        int w = rnd(NWORDS);
        /* two or three letters: a syllable, or a syllable and a letter */
        snprintf(n->prefix, sizeof n->prefix, "%.*s", 2 + rnd(2), vocab[w]);
    } else {
        n = new_node(N_NEAR);
        n->distance = rnd(6);
        n->nkids = 2 + rnd(2);
        for (int i = 0; i < n->nkids; i++) n->kids[i] = leaf(0);
        return n;
    }
    n->title = rnd(8) == 0;
    return n;
}

static node *gen(int depth) {
    if (depth >= 3 || rnd(3) == 0) {
        if (rnd(12) == 0) {
            node *p = new_node(N_PATH);
            snprintf(p->glob, sizeof p->glob, "*%d*", rnd(10));
            return p;
        }
        return leaf(1);
    }
    node *n = new_node(N_BOOL);
    n->nkids = 2 + rnd(3);
    for (int i = 0; i < n->nkids; i++) {
        n->kids[i] = gen(depth + 1);
        int r = rnd(10);
        n->kids[i]->occur = r < 6 ? O_SHOULD : r < 8 ? O_MUST : O_NOT;
    }
    return n;
}

/* --- writing a query -------------------------------------------------------- */

static void put(char *out, size_t cap, const char *s) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s", s);
}

static void write_leaf(const node *n, char *out, size_t cap) {
    if (n->title) put(out, cap, "title:");
    if (n->kind == N_WORD) {
        put(out, cap, vocab[n->words[0]]);
    } else if (n->kind == N_PHRASE) {
        put(out, cap, "\"");
        for (int i = 0; i < n->nwords; i++) {
            if (i) put(out, cap, " ");
            put(out, cap, vocab[n->words[i]]);
        }
        put(out, cap, "\"");
    } else {
        put(out, cap, n->prefix);
        put(out, cap, "*");
    }
}

static void write_query(const node *n, char *out, size_t cap) {
    if (n->kind == N_BOOL) {
        put(out, cap, "(");
        for (int i = 0; i < n->nkids; i++) {
            if (i) put(out, cap, " ");
            if (n->kids[i]->occur == O_MUST) put(out, cap, "+");
            if (n->kids[i]->occur == O_NOT) put(out, cap, "-");
            write_query(n->kids[i], out, cap);
        }
        put(out, cap, ")");
    } else if (n->kind == N_NEAR) {
        char d[16];
        snprintf(d, sizeof d, ", %d)", n->distance);
        put(out, cap, "NEAR(");
        for (int i = 0; i < n->nkids; i++) {
            if (i) put(out, cap, " ");
            write_leaf(n->kids[i], out, cap);
        }
        put(out, cap, d);
    } else if (n->kind == N_PATH) {
        put(out, cap, "path:");
        put(out, cap, n->glob);
    } else {
        write_leaf(n, out, cap);
    }
}

/* --- the oracle: a plain scan ---------------------------------------------- */

/* Start positions of a leaf's occurrences in d (title: only inside the title). */
static int occurrences(const node *n, const doc *d, int *starts) {
    int count = 0, span = n->kind == N_PHRASE ? n->nwords : 1;
    for (int p = 0; p + span <= d->len; p++) {
        int ok;
        if (n->kind == N_PREFIX)
            ok = strncmp(vocab[d->words[p]], n->prefix, strlen(n->prefix)) == 0;
        else {
            ok = 1;
            for (int i = 0; i < span && ok; i++) ok = d->words[p + i] == n->words[i];
        }
        if (ok && n->title && p + span > TITLE_LEN) ok = 0;
        if (ok) starts[count++] = p;
    }
    return count;
}

static int span_of(const node *n) { return n->kind == N_PHRASE ? n->nwords : 1; }

/* NEAR: some choice of one occurrence per item leaves at most `distance`
 * other words inside the window that holds them all. */
static int near_match(const node *n, const doc *d) {
    int occ[4][MAX_LEN], cnt[4];
    for (int i = 0; i < n->nkids; i++)
        if ((cnt[i] = occurrences(n->kids[i], d, occ[i])) == 0) return 0;
    int idx[4] = {0, 0, 0, 0};
    for (;;) { /* every combination: small lists */
        int lo = 1 << 30, hi = 0, words = 0;
        for (int i = 0; i < n->nkids; i++) {
            int s = occ[i][idx[i]], e = s + span_of(n->kids[i]);
            if (s < lo) lo = s;
            if (e > hi) hi = e;
            words += span_of(n->kids[i]);
        }
        if (hi - lo <= words + n->distance) return 1;
        int k = 0;
        while (k < n->nkids && ++idx[k] == cnt[k]) idx[k++] = 0;
        if (k == n->nkids) return 0;
    }
}

static int matches(const node *n, const doc *d) {
    int starts[MAX_LEN];
    switch (n->kind) {
    case N_WORD:
    case N_PHRASE:
    case N_PREFIX: return occurrences(n, d, starts) > 0;
    case N_NEAR: return near_match(n, d);
    case N_PATH: return fnmatch(n->glob, d->path, 0) == 0;
    default: break;
    }
    int must = 0, should = 0, any_should = 0;
    for (int i = 0; i < n->nkids; i++) {
        const node *k = n->kids[i];
        int m = matches(k, d);
        if (k->occur == O_NOT) {
            if (m) return 0;
        } else if (k->occur == O_MUST || k->kind == N_PATH) {
            /* path: restricts, whatever its operator */
            if (!m) return 0;
            if (k->kind != N_PATH) must++;
        } else {
            should++;
            any_should |= m;
        }
    }
    return must || !should || any_should;
}

/* Is the query refused because a group in it only excludes? A group of
 * nothing but -clauses has no meaning on its own, so lode rejects it
 * wherever it stands rather than guess. */
static int refused(const node *n) {
    if (n->kind != N_BOOL) return 0;
    int pos = 0;
    for (int i = 0; i < n->nkids; i++) {
        if (n->kids[i]->occur != O_NOT) pos = 1;
        if (refused(n->kids[i])) return 1;
    }
    return !pos;
}

/* --- the tests ---------------------------------------------------------------- */

static int compare(const node *q, const char *text, int *checked) {
    lode_search_options o = LODE_SEARCH_OPTIONS_INIT;
    o.limit = NDOCS;
    o.flags = LODE_SEARCH_STRICT | LODE_SEARCH_NO_PASSAGES; /* matching only */
    lode_results *r = NULL;
    lode_error err;
    int rc = lode_search(&r, ix, text, &o, &err);
    if (refused(q)) {
        if (rc != LODE_EINVAL) {
            fprintf(stderr, "query %s: only exclusions should be refused, got %d\n", text, rc);
            lode_results_free(r);
            return 1;
        }
        return 0;
    }
    if (rc) {
        fprintf(stderr, "query %s failed: %s\n", text, err.message);
        return 1;
    }
    char got[NDOCS];
    memset(got, 0, sizeof got);
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        lode_results_get(r, i, &h);
        int id = (int)strtol(strrchr(h.path, 'd') + 1, NULL, 10);
        if (id >= 0 && id < NDOCS) got[id] = 1;
    }
    lode_results_free(r);
    int bad = 0;
    for (int i = 0; i < NDOCS && !bad; i++) {
        int want = matches(q, &docs[i]);
        if (want != got[i]) {
            fprintf(stderr, "query %s: document %d %s\n", text, i, want ? "missing" : "should not match");
            bad = 1;
        }
    }
    (*checked)++;
    return bad;
}

TEST(random_queries_match_the_plain_scan) {
    int failures = 0, checked = 0;
    for (int i = 0; i < 3000 && failures < 5; i++) {
        node *q = gen(0);
        char text[2048] = "";
        write_query(q, text, sizeof text);
        failures += compare(q, text, &checked);
        free_node(q);
    }
    CHECK_EQ_U64(failures, 0);
    CHECK(checked > 2000);
}

TEST(bare_words_any_and_all) {
    /* bare words are the MaxScore path: check it against the scan too */
    int failures = 0, checked = 0;
    for (int i = 0; i < 500; i++) {
        node *q = new_node(N_BOOL);
        q->nkids = 1 + rnd(4);
        int all = rnd(2);
        char text[256] = "";
        for (int k = 0; k < q->nkids; k++) {
            node *w = q->kids[k] = new_node(N_WORD);
            w->words[0] = rnd(NWORDS);
            w->nwords = 1;
            w->occur = rnd(5) == 0 ? O_NOT : all ? O_MUST : O_SHOULD;
            if (k) put(text, sizeof text, " ");
            if (w->occur == O_NOT) put(text, sizeof text, "-");
            if (w->occur == O_MUST) put(text, sizeof text, "+");
            put(text, sizeof text, vocab[w->words[0]]);
        }
        failures += compare(q, text, &checked);
        free_node(q);
    }
    CHECK_EQ_U64(failures, 0);
}

static int build(void) {
    for (int i = 0; i < NWORDS; i++) snprintf(vocab[i], sizeof vocab[i], "%s%s", SYL[i / 8], SYL[i % 8]);
    if (!mkdtemp(tmpdir)) return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/oracle.lode", tmpdir);
    lode_writer_options o = LODE_WRITER_OPTIONS_INIT;
    o.stemmer = "none";
    o.memory_budget = 200 << 10; /* a few segments: statistics and iteration across them */
    lode_writer *w;
    lode_error err;
    if (lode_writer_open(&w, path, &o, &err)) return -1;
    for (int i = 0; i < NDOCS; i++) {
        doc *d = &docs[i];
        d->len = 8 + rnd(MAX_LEN - 8);
        char text[MAX_LEN * 8] = "";
        for (int k = 0; k < d->len; k++) {
            /* a skewed choice: some words common, most rare */
            d->words[k] = rnd(4) ? rnd(12) : rnd(NWORDS);
            put(text, sizeof text, vocab[d->words[k]]);
            put(text, sizeof text, k + 1 == TITLE_LEN ? "\n" : " ");
        }
        snprintf(d->path, sizeof d->path, "docs/d%03d", i);
        if (lode_writer_add_document(w, d->path, text, strlen(text), 0, &err)) return -1;
    }
    int rc = lode_writer_commit(w, &err);
    lode_writer_stats st;
    lode_writer_get_stats(w, &st);
    fprintf(stderr, "oracle index: %d documents in %llu segments\n", NDOCS, (unsigned long long)st.segments_written);
    lode_writer_free(w);
    if (rc || lode_index_open(&ix, path, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static const test_case cases[] = {
        TEST_CASE(random_queries_match_the_plain_scan),
        TEST_CASE(bare_words_any_and_all),
    };
    if (build()) return 1;
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    lode_index_close(ix);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
