/*
 * query_fuzzer.c - libFuzzer target for the query parser
 * (searcher/query_parse.c). Every input is parsed in strict and lenient
 * mode, with and without all_words, formatted and freed; beyond crashes,
 * leaks and undefined behaviour it checks the parser's contract and aborts
 * when it is broken: the error codes each mode may return, the column of a
 * syntax error, the shape of every accepted tree (bounded depth and leaves,
 * no BOOL that only excludes, NEAR of two or more leaves), that valid
 * syntax reads the same in both modes, and that the format of an accepted
 * tree parses back to the same format. Built as a real fuzzer with clang
 * (scripts/fuzz) and as a replay program over query_corpus/ for ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "indexer.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) ((c) ? (void)0 : abort())

/* Characters as the parser counts them: a valid UTF-8 sequence is one,
 * any other byte is one. Bounds the column of a syntax error. */
static size_t count_chars(const unsigned char *s, size_t n) {
    size_t i = 0, chars = 0;
    while (i < n) {
        size_t len = 1;
        unsigned b = s[i];
        if (b >= 0xC2 && b <= 0xF4) {
            size_t want = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            unsigned lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
            unsigned hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
            int ok = i + want <= n;
            for (size_t k = 1; ok && k < want; k++) {
                unsigned c = s[i + k];
                if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) ok = 0;
            }
            if (ok) len = want;
        }
        i += len;
        chars++;
    }
    return chars;
}

/* Check the tree's invariants; returns its leaf count. */
static size_t check_tree(const qnode *n, unsigned depth) {
    REQUIRE(n && depth <= LODE_MAX_QUERY_DEPTH);
    switch (n->kind) {
    case QK_WORD:
    case QK_PHRASE:
    case QK_PREFIX:
    case QK_PATH:
        REQUIRE(n->text && n->text_len > 0 && strlen(n->text) == n->text_len);
        REQUIRE(n->kid_count == 0 && n->kids == NULL);
        REQUIRE(n->field == QF_ANY || (n->field == QF_TITLE && n->kind != QK_PATH));
        return 1;
    case QK_NEAR:
        REQUIRE(n->kid_count >= 2 && n->distance <= LODE_MAX_NEAR_DISTANCE);
        for (uint32_t i = 0; i < n->kid_count; i++) {
            qkind k = n->kids[i]->kind;
            REQUIRE(k == QK_WORD || k == QK_PHRASE || k == QK_PREFIX);
            check_tree(n->kids[i], depth + 1);
        }
        return n->kid_count;
    case QK_BOOL: {
        size_t leaves = 0;
        int positive = 0;
        REQUIRE(n->kid_count >= 1);
        for (uint32_t i = 0; i < n->kid_count; i++) {
            qoccur o = n->kids[i]->occur;
            REQUIRE(o == QO_SHOULD || o == QO_MUST || o == QO_MUST_NOT);
            positive |= o != QO_MUST_NOT;
            leaves += check_tree(n->kids[i], depth + 1);
        }
        REQUIRE(positive);
        return leaves;
    }
    }
    abort();
}

/* Lenient fallback: one WORD or a BOOL of WORDs in the default operator. */
static void check_fallback(const qnode *t, int all_words) {
    if (t->kind == QK_WORD) return;
    REQUIRE(t->kind == QK_BOOL && t->kid_count >= 2);
    for (uint32_t i = 0; i < t->kid_count; i++) {
        const qnode *w = t->kids[i];
        REQUIRE(w->kind == QK_WORD && w->field == QF_ANY);
        REQUIRE(w->occur == (all_words ? QO_MUST : QO_SHOULD));
        REQUIRE(w->text[0] != '+' && w->text[0] != '-' && w->text[w->text_len - 1] != '*');
    }
}

/* Parse q in both modes with this all_words and check both results. */
static void one(const char *q, size_t len, int all_words) {
    qnode *s = NULL, *l = NULL;
    char *snote = NULL, *lnote = NULL, *sf = NULL, *lf = NULL;
    lode_error serr, lerr;
    memset(&serr, 0, sizeof serr);
    memset(&lerr, 0, sizeof lerr);
    int src = query_parse(&s, q, len, 1, all_words, &snote, &serr);
    int lrc = query_parse(&l, q, len, 0, all_words, &lnote, &lerr);
    REQUIRE(snote == NULL);

    if (src == 0) {
        REQUIRE(s && s->occur == QO_SHOULD);
        REQUIRE(check_tree(s, 1) <= LODE_MAX_QUERY_TERMS);
        sf = qnode_format(s);
        REQUIRE(sf);
        /* round trip: the format reads back to the same format */
        qnode *again = NULL;
        int arc = query_parse(&again, sf, strlen(sf), 1, 0, NULL, NULL);
        REQUIRE(arc == 0);
        char *af = qnode_format(again);
        REQUIRE(af && strcmp(af, sf) == 0);
        lode_free(af);
        qnode_free(again);
        /* valid syntax reads the same in lenient mode, without a note */
        REQUIRE(lrc == 0 && lnote == NULL);
        lf = qnode_format(l);
        REQUIRE(lf && strcmp(lf, sf) == 0);
    } else {
        REQUIRE(s == NULL);
        REQUIRE(src == LODE_ESYNTAX || src == LODE_EINVAL || src == LODE_ELIMIT);
        if (src == LODE_ESYNTAX) {
            REQUIRE(serr.column >= 1 && serr.column <= count_chars((const unsigned char *)q, len) + 1);
            REQUIRE(strncmp(serr.message, "syntax error at column ", 23) == 0);
        } else {
            REQUIRE(serr.column == 0);
        }
        if (lrc == 0) {
            REQUIRE(l && l->occur == QO_SHOULD);
            REQUIRE(check_tree(l, 1) <= LODE_MAX_QUERY_TERMS);
            if (lnote) check_fallback(l, all_words);
            lf = qnode_format(l);
            REQUIRE(lf);
        } else {
            REQUIRE(l == NULL && lnote == NULL);
            REQUIRE(lrc == LODE_EINVAL || lrc == LODE_ELIMIT);
        }
    }
    lode_free(sf);
    lode_free(lf);
    lode_free(snote);
    lode_free(lnote);
    qnode_free(s);
    qnode_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *q = malloc(size + 1);
    if (!q) return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    size_t len = strlen(q); /* what lode_search would see: a C string */
    one(q, len, 0);
    one(q, len, 1);
    if (len < size) { /* an embedded NUL is refused in both modes */
        qnode *t = NULL;
        REQUIRE(query_parse(&t, q, size, 1, 0, NULL, NULL) == (size > LODE_MAX_QUERY_BYTES ? LODE_ELIMIT : LODE_EINVAL));
        REQUIRE(query_parse(&t, q, size, 0, 0, NULL, NULL) == (size > LODE_MAX_QUERY_BYTES ? LODE_ELIMIT : LODE_EINVAL));
        REQUIRE(t == NULL);
    }
    free(q);
    return 0;
}
