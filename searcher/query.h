/*
 * query.h - the query tree: what query_parse.c produces from the text a user
 * typed and what query_eval.c evaluates over the index. The parser knows
 * nothing of analysis: leaves hold the raw text as typed, and the evaluator
 * analyses it exactly like document text.
 *
 * Syntax (docs/QUERY.md is the manual):
 *   word            a word; ranked. Bare words are combined with the default
 *                   operator: any of them (ranked by how many and how well),
 *                   or all of them with LODE_SEARCH_ALL_WORDS
 *   "a phrase"      the words adjacent and in order
 *   a AND b, a OR b, a NOT b, ( ... )
 *                   operators in capitals; precedence: juxtaposition, then
 *                   AND / NOT, then OR; `a NOT b` means a and not b
 *   +word, -word    required, excluded (also +"phrase", -(group), ...)
 *   prefix*         any word starting with prefix
 *   a NEAR/5 b      all within 5 words, any order; NEAR(a b c, 5) the same;
 *                   `a NEAR b` means NEAR/10
 *   title:word      only in the title (also title:"phrase", title:(a OR b))
 *   path:glob       documents whose path matches the glob (fnmatch; a glob
 *                   without '/' is matched against the file name only)
 */
#ifndef LODE_QUERY_H
#define LODE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "lode.h"

typedef enum qkind {
    QK_WORD,   /* text: one word as typed; analysis may make several tokens (then a phrase) */
    QK_PHRASE, /* text: what was between the quotes */
    QK_PREFIX, /* text: what came before the '*' */
    QK_NEAR,   /* kids: WORD, PHRASE or PREFIX nodes; distance */
    QK_BOOL,   /* kids, each with its occur */
    QK_PATH    /* text: the glob */
} qkind;

typedef enum qoccur {
    QO_SHOULD = 0, /* counts toward the score; with no MUST sibling, one SHOULD must match */
    QO_MUST = 1,   /* must match */
    QO_MUST_NOT = 2 /* must not match */
} qoccur;

#define QF_ANY 0
#define QF_TITLE 1

/* The default NEAR distance when a bare NEAR is written. */
#define QUERY_NEAR_DEFAULT 10

typedef struct qnode {
    qkind kind;
    qoccur occur;      /* this node's role in its parent BOOL (QO_SHOULD at the root) */
    unsigned field;    /* QF_ANY or QF_TITLE; a field applies to every leaf below */
    uint32_t column;   /* 1-based column (in characters) where the node starts in the query */
    char *text;        /* owned, NUL-terminated; WORD, PHRASE, PREFIX, PATH */
    size_t text_len;
    uint32_t distance; /* NEAR */
    struct qnode **kids; /* owned; BOOL and NEAR */
    uint32_t kid_count;
} qnode;

/* Parse `query`. With `strict`, any syntax error is LODE_ESYNTAX with
 * err->column set and err->message like "syntax error at column 12:
 * unbalanced '('". Without it, text that is not valid syntax is read as
 * plain words (a BOOL of WORD leaves in the default operator, syntax
 * characters dropped) and *note (owned by the caller, free with lode_free)
 * says how it was read, e.g. "unbalanced '(' at column 12: searched as
 * words". `all_words` makes juxtaposed clauses QO_MUST instead of QO_SHOULD.
 * Errors in both modes: LODE_EINVAL for an empty query (no words at all) or
 * an unknown field (in lenient mode an unknown field is read as words with
 * a note instead), LODE_ELIMIT beyond LODE_MAX_QUERY_BYTES,
 * LODE_MAX_QUERY_TERMS leaves or LODE_MAX_QUERY_DEPTH nesting, LODE_ENOMEM. */
int query_parse(qnode **out, const char *query, size_t len, int strict, int all_words, char **note,
                lode_error *err);
void qnode_free(qnode *n);

/* Render a tree as a canonical string, for tests and --explain:
 * BOOL as (+a b -c) with + MUST, - MUST_NOT, nothing SHOULD; PHRASE as
 * "a b"; PREFIX as pre*; NEAR as NEAR(a b, 5); title: prefix for title
 * leaves; PATH as path:glob. Caller frees with lode_free. */
char *qnode_format(const qnode *n);

#endif /* LODE_QUERY_H */
