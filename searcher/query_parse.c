/*
 * query_parse.c - owns the query language: turns the text a user typed into
 * the query tree of query.h (lexer, recursive-descent parser, the
 * normalisation that keeps the tree minimal, the plain-words fallback of
 * lenient mode) and renders a tree back as text (qnode_format). lode_search
 * in searcher/search.c calls query_parse on every query; the tests and
 * --explain call qnode_format. Nothing here prints, aborts or keeps state
 * between calls: every call owns its parser on the stack.
 *
 * Grammar (juxtaposition binds tightest, then AND and NOT, then OR):
 *
 *   query   := or END
 *   or      := and ('OR' and)*
 *   and     := ['NOT'] seq (('AND' ['NOT'] | 'NOT') seq)*
 *   seq     := clause clause*
 *   clause  := ['+' | '-'] primary ('NEAR' | 'NEAR/n' item)*
 *   primary := 'title:'* (word | prefix | phrase | '(' or ')'
 *                         | 'NEAR(' item+ [',' n] ')' | 'path:' glob)
 *   item    := 'title:'* (word | prefix | phrase)
 *
 * Tree shape (documented because the tests assert exact strings):
 *  - seq gives a BOOL whose kids are SHOULD (MUST with all_words), or what
 *    their '+'/'-' say; `a AND b` gives (+a +b); `a NOT b` and `a AND NOT b`
 *    give (+a -b); a leading NOT gives (-a); OR gives a BOOL of SHOULD kids.
 *    So `a AND b OR c` is ((+a +b) c) and `a b AND c d` is (+(a b) +(c d)).
 *  - A BOOL of one SHOULD or MUST kid is replaced by the kid: (a) is a.
 *    (path:x) only where that keeps the meaning (see path_wrapper): at
 *    the top, excluded, or required in a BOOL without optional words.
 *  - A BOOL kid is merged into its parent BOOL when that cannot change which
 *    documents match: a SHOULD-only kid in a SHOULD-only parent (any of
 *    (any of a b) c = any of a b c: `a OR b OR c`, `(a OR b) OR c` and,
 *    without all_words, `a OR b c` all give (a b c)); a MUST kid without
 *    SHOULD kids when it holds a MUST kid (not a path:) itself or the parent
 *    has no SHOULD kid (other than paths) (`a AND b AND c` gives (+a +b +c),
 *    `a AND -b -c` gives (+a -b -c)). The exact meaning kept is written
 *    above mergeable().
 *    Nothing else is merged: +(a b) keeps "one of a b is required", and
 *    (a (path:x b)) keeps path:x restricting b only (a path: restricts the
 *    BOOL it is in, whatever its operator: searcher/query_eval.c).
 *  - Every BOOL of an accepted tree has a SHOULD or MUST kid: a query, a
 *    group in parentheses or an OR operand that only excludes is refused
 *    (LODE_EINVAL in both modes), so the evaluator never has to enumerate
 *    "all documents but", and nobody has to guess what (-a) means. An AND
 *    operand without parentheses is not a group: `a AND -b` is (+a -b).
 *  - A field applies to every leaf below: leaves carry it, and a BOOL or
 *    NEAR carries QF_TITLE only when every leaf below it (paths aside) is
 *    in the title.
 *    PATH nodes always have QF_ANY (a path is not in a title).
 *  - The tree is at most LODE_MAX_QUERY_DEPTH levels deep (a leaf at the
 *    root is one level), so the evaluator may recurse on it.
 *
 * qnode_format of an accepted tree, parsed again in strict mode, gives a
 * tree with the same format: the format writes '+' before MUST kids, so it
 * round-trips whatever all_words was. The lenient fallback's trees are the
 * exception: their words are taken as typed (AND, title:x, ...) and would
 * be read as syntax again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "indexer.h"
#include "query.h"

/* ------------------------------------------------------------------------ */
/* Characters                                                                */
/* ------------------------------------------------------------------------ */

#define BAD_CP 0xFFFFFFFFu

/* Decode the UTF-8 character at s[i] (i < end). An invalid byte is a
 * character of its own (length 1, BAD_CP): columns then count it once, and
 * the lexer never stops inside a valid character. */
static uint32_t decode(const unsigned char *s, size_t i, size_t end, size_t *len) {
    unsigned b = s[i];
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    uint32_t cp;
    *len = 1;
    if (b < 0x80) return b;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        cp = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;      /* overlong */
        else if (b == 0xED) hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        cp = b & 0x07;
        if (b == 0xF0) lo = 0x90;      /* overlong */
        else if (b == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return BAD_CP;
    }
    if (end - i < n) return BAD_CP;
    for (size_t k = 1; k < n; k++) {
        unsigned c = s[i + k];
        if (c < lo || c > hi) return BAD_CP;
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (c & 0x3F);
    }
    *len = n;
    return cp;
}

static size_t char_len(const unsigned char *s, size_t i, size_t end) {
    size_t n;
    decode(s, i, end, &n);
    return n;
}

/* Bytes of the whitespace character at s[i], or 0. Unicode spaces count:
 * a no-break space pasted between two words must separate them here as it
 * does in the analyzer. */
static size_t space_len(const unsigned char *s, size_t i, size_t end) {
    unsigned b = s[i];
    if (b == ' ' || (b >= '\t' && b <= '\r')) return 1;
    if (b != 0xC2 && b != 0xE1 && b != 0xE2 && b != 0xE3) return 0; /* lead bytes of the spaces below */
    size_t n;
    uint32_t cp = decode(s, i, end, &n);
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return n;
    return 0;
}

/* Bytes of the quote at s[i], or 0: '"' and the typographic quotes that
 * word processors and phones put in place of it. All three open and close
 * a phrase, so a phrase never contains one and always formats as "...". */
static size_t quote_len(const unsigned char *s, size_t i, size_t end) {
    if (s[i] == '"') return 1;
    if (s[i] == 0xE2 && end - i >= 3 && s[i + 1] == 0x80 && (s[i + 2] == 0x9C || s[i + 2] == 0x9D)) return 3;
    return 0;
}

/* Characters that end a word: whitespace, quotes, parentheses. */
static int is_delim(const unsigned char *s, size_t i, size_t end) {
    return s[i] == '(' || s[i] == ')' || space_len(s, i, end) || quote_len(s, i, end);
}

static int is_alpha(unsigned c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* ------------------------------------------------------------------------ */
/* Parser state and errors                                                   */
/* ------------------------------------------------------------------------ */

/* What stopped the parse. Lenient mode falls back to words for the first
 * three; the others are errors in both modes. */
enum { PE_NONE, PE_SYNTAX, PE_FIELD, PE_DEPTH, PE_TERMS, PE_EXCLUDES, PE_NOMEM };

typedef struct parser {
    const unsigned char *s;
    size_t len;
    size_t end;      /* lexing stops here: len, or the end of a NEAR( ) list */
    size_t pos;      /* next byte to read */
    size_t first;    /* first byte that is not whitespace */
    uint32_t col;    /* 1-based column of pos, in characters */
    int all_words;
    unsigned depth;  /* open groups */
    unsigned leaves; /* leaves made so far */
    int ekind;       /* PE_... of the first error */
    uint32_t ecol;
    char what[400];  /* what went wrong, e.g. "unbalanced '('" */
} parser;

static int perr(parser *p, int kind, uint32_t col, const char *fmt, ...) LODE_PRINTF(4, 5);

/* Record the first error (later ones are consequences) and return -1. */
static int perr(parser *p, int kind, uint32_t col, const char *fmt, ...) {
    if (p->ekind == PE_NONE) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->what, sizeof p->what, fmt, ap);
        va_end(ap);
        p->ekind = kind;
        p->ecol = col;
    }
    return -1;
}

static int nomem(parser *p) { return perr(p, PE_NOMEM, 0, "out of memory"); }

/* ------------------------------------------------------------------------ */
/* Lexer                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum tkind {
    T_END, /* end of input (or of the NEAR( ) list); with LX_ADJACENT also whitespace */
    T_WORD,
    T_PHRASE,
    T_LPAREN,
    T_RPAREN,
    T_PLUS,
    T_MINUS,
    T_AND,
    T_OR,
    T_NOT,
    T_NEAR,    /* NEAR or NEAR/n used as an operator */
    T_NEARFN,  /* NEAR directly followed by '(' */
    T_TITLE,   /* title: */
    T_PATH,    /* path: */
    T_BADFIELD /* name: followed by something, name not a field */
} tkind;

typedef struct tok {
    tkind kind;
    size_t start, stop;  /* bytes of the token */
    uint32_t col, stop_col;
    size_t text, text_len; /* WORD: the run; PHRASE: between the quotes; BADFIELD: the name */
    int bad;               /* PHRASE: no closing quote; NEAR: distance not valid */
    uint32_t distance;     /* NEAR */
} tok;

/* Lexer flags. After a modifier or a field the next token must follow
 * without whitespace (LX_ADJACENT); after a field, '+', '-' and the
 * operator words are plain word characters (LX_WORDISH): "title:AND" can
 * only mean the word. */
#define LX_ADJACENT 1
#define LX_WORDISH 2

/* Read the token at p->pos without consuming it (consume() does): the
 * parser looks at a token, then decides in which mode to read it. */
static void lex(const parser *p, tok *t, int flags) {
    const unsigned char *s = p->s;
    size_t i = p->pos, end = p->end, n;
    uint32_t col = p->col;
    memset(t, 0, sizeof *t);
    if (!(flags & LX_ADJACENT))
        while (i < end && (n = space_len(s, i, end)) != 0) {
            i += n;
            col++;
        }
    t->kind = T_END;
    t->start = t->stop = i;
    t->col = t->stop_col = col;
    if (i >= end || space_len(s, i, end)) return;

    unsigned c = s[i];
    if (c == '(' || c == ')') {
        t->kind = c == '(' ? T_LPAREN : T_RPAREN;
        t->stop = i + 1;
        t->stop_col = col + 1;
        return;
    }
    if ((n = quote_len(s, i, end)) != 0) {
        size_t j = i + n, q = 0;
        uint32_t jc = col + 1;
        while (j < end && (q = quote_len(s, j, end)) == 0) {
            j += char_len(s, j, end);
            jc++;
        }
        t->kind = T_PHRASE;
        t->text = i + n;
        t->text_len = j - (i + n);
        if (j >= end) {
            t->bad = 1;
            t->stop = j;
            t->stop_col = jc;
        } else {
            t->stop = j + q;
            t->stop_col = jc + 1;
        }
        return;
    }
    if ((c == '+' || c == '-') && !(flags & LX_WORDISH)) {
        t->kind = c == '+' ? T_PLUS : T_MINUS;
        t->stop = i + 1;
        t->stop_col = col + 1;
        return;
    }

    /* name: at the start of a word. Only letters make a name, and only a
     * word character, quote or '(' after the colon makes it a field, so
     * that 10:30, std::vector, http://x and "note:" stay words. Looked at
     * before the rest of the word is scanned: title:title:...: must not
     * rescan the rest of the query at each field. */
    size_t k = i;
    while (k < end && is_alpha(s[k])) k++;
    if (k > i && k < end && s[k] == ':') {
        size_t name = k - i, nx = k + 1;
        if ((name == 5 && memcmp(s + i, "title", 5) == 0) || (name == 4 && memcmp(s + i, "path", 4) == 0)) {
            t->kind = name == 5 ? T_TITLE : T_PATH;
            t->stop = k + 1;
            t->stop_col = col + (uint32_t)name + 1;
            return;
        }
        if (nx < end && (is_alpha(s[nx]) || is_digit(s[nx]) || s[nx] == '(' || quote_len(s, nx, end) ||
                         (s[nx] >= 0x80 && !space_len(s, nx, end)))) {
            t->kind = T_BADFIELD;
            t->text = i;
            t->text_len = name;
            t->stop = nx;
            t->stop_col = col + (uint32_t)name + 1;
            return;
        }
    }

    size_t j = i;
    uint32_t jc = col;
    while (j < end && !is_delim(s, j, end)) {
        j += char_len(s, j, end);
        jc++;
    }
    t->kind = T_WORD;
    t->text = i;
    t->text_len = j - i;
    t->stop = j;
    t->stop_col = jc;

    const unsigned char *w = s + i;
    size_t L = j - i;
    if (L == 4 && memcmp(w, "NEAR", 4) == 0 && j < end && s[j] == '(') {
        t->kind = T_NEARFN;
        return;
    }
    if (flags & LX_WORDISH) return;
    if (L == 3 && memcmp(w, "AND", 3) == 0) {
        t->kind = T_AND;
    } else if (L == 2 && memcmp(w, "OR", 2) == 0) {
        t->kind = T_OR;
    } else if (L == 3 && memcmp(w, "NOT", 3) == 0) {
        t->kind = T_NOT;
    } else if (L == 4 && memcmp(w, "NEAR", 4) == 0) {
        t->kind = T_NEAR;
        t->distance = QUERY_NEAR_DEFAULT;
    } else if (L >= 5 && memcmp(w, "NEAR/", 5) == 0) {
        /* Anything starting NEAR/ is meant as the operator: a bad distance
         * is an error, not a word. */
        uint32_t v = 0;
        int ok = L > 5;
        for (size_t q = 5; q < L && ok; q++) {
            if (!is_digit(w[q])) ok = 0;
            else if (v <= LODE_MAX_NEAR_DISTANCE) v = v * 10 + (w[q] - '0'); /* stops growing: no overflow */
        }
        t->kind = T_NEAR;
        t->bad = !ok || v > LODE_MAX_NEAR_DISTANCE;
        t->distance = v;
    }
}

static void consume(parser *p, const tok *t) {
    p->pos = t->stop;
    p->col = t->stop_col;
}

/* Move to byte `to` (a character boundary after pos), counting columns. */
static void skip_to(parser *p, size_t to) {
    while (p->pos < to) {
        p->pos += char_len(p->s, p->pos, p->end > to ? p->end : to);
        p->col++;
    }
}

static const char *op_name(tkind k) {
    switch (k) {
    case T_AND: return "AND";
    case T_OR: return "OR";
    case T_NOT: return "NOT";
    case T_NEAR: return "NEAR";
    default: return "?";
    }
}

static int is_operator(tkind k) { return k == T_AND || k == T_OR || k == T_NOT || k == T_NEAR; }

/* Tokens that can start a clause of a seq. */
static int starts_clause(tkind k) {
    return k == T_WORD || k == T_PHRASE || k == T_LPAREN || k == T_PLUS || k == T_MINUS || k == T_NEARFN ||
           k == T_TITLE || k == T_PATH || k == T_BADFIELD;
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                     */
/* ------------------------------------------------------------------------ */

void qnode_free(qnode *n) {
    if (!n) return;
    for (uint32_t i = 0; i < n->kid_count; i++) qnode_free(n->kids[i]);
    lode_free(n->kids);
    lode_free(n->text);
    lode_free(n);
}

static qnode *new_node(parser *p, qkind kind, unsigned field, uint32_t col) {
    qnode *n = lode_calloc(1, sizeof *n);
    if (!n) {
        nomem(p);
        return NULL;
    }
    n->kind = kind;
    n->occur = QO_SHOULD;
    n->field = kind == QK_PATH ? QF_ANY : field;
    n->column = col;
    return n;
}

/* Every leaf is made here, so that the term limit bounds the whole tree
 * (and the memory of a parse) whatever the query. */
static int new_leaf(parser *p, qkind kind, unsigned field, uint32_t col, size_t off, size_t len, qnode **out) {
    if (p->leaves >= LODE_MAX_QUERY_TERMS)
        return perr(p, PE_TERMS, col, "the query has more than %d terms", LODE_MAX_QUERY_TERMS);
    qnode *n = new_node(p, kind, field, col);
    if (!n) return -1;
    n->text = lode_strndup((const char *)p->s + off, len);
    if (!n->text) {
        lode_free(n);
        return nomem(p);
    }
    n->text_len = len;
    p->leaves++;
    *out = n;
    return 0;
}

/* A growable list of kids, each with its occur already set. */
typedef struct kids {
    qnode **v;
    uint32_t n, cap;
} kids;

static void kids_free(kids *k) {
    for (uint32_t i = 0; i < k->n; i++) qnode_free(k->v[i]);
    lode_free(k->v);
    memset(k, 0, sizeof *k);
}

/* Append n; on failure free n too, so callers never leak it. */
static int kids_push(parser *p, kids *k, qnode *n) {
    if (k->n == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 4;
        qnode **v = lode_realloc(k->v, cap * sizeof *v);
        if (!v) {
            qnode_free(n);
            return nomem(p);
        }
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = n;
    return 0;
}

static int has_occur(const qnode *n, qoccur o) {
    for (uint32_t i = 0; i < n->kid_count; i++)
        if (n->kids[i]->occur == o) return 1;
    return 0;
}

/* Kids with occur o that are not path: filters. */
static uint32_t count_terms(qnode *const *v, uint32_t n, qoccur o) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) c += v[i]->occur == o && v[i]->kind != QK_PATH;
    return c;
}

static int has_path(const qnode *n) {
    for (uint32_t i = 0; i < n->kid_count; i++)
        if (n->kids[i]->kind == QK_PATH) return 1;
    return 0;
}

/* What a BOOL means (searcher/query_eval.c and its oracle test agree): a
 * document matches when no MUST_NOT kid matches, every MUST kid matches,
 * every path: kid matches (a path: restricts the BOOL it is in whatever its
 * operator, and counts as neither MUST nor SHOULD), and, when there is no
 * MUST kid other than paths, one SHOULD kid other than paths matches (if
 * there is any). The rewrites below keep exactly that. `nps` is the number
 * of SHOULD kids of the parent that are not paths; no rewrite changes it. */

/* May BOOL kid `kid` be replaced by its own kids in its parent?
 *  - SHOULD kid, parent all SHOULD, kid all SHOULD and no path: "any of"
 *    inside "any of" (a path would then restrict the whole parent).
 *  - MUST kid without SHOULD kids: its kids are all required or excluded
 *    either way; but when it brings no MUST term, the parent's own SHOULD
 *    terms would turn from optional into required, so then only where the
 *    parent has none. */
static int mergeable(const qnode *kid, int all_should, uint32_t nps) {
    if (kid->kind != QK_BOOL) return 0;
    if (kid->occur == QO_SHOULD)
        return all_should && !has_occur(kid, QO_MUST) && !has_occur(kid, QO_MUST_NOT) && !has_path(kid);
    if (kid->occur == QO_MUST)
        return !has_occur(kid, QO_SHOULD) && (count_terms(kid->kids, kid->kid_count, QO_MUST) > 0 || nps == 0);
    return 0;
}

/* May kid `kid`, a BOOL holding one path: and nothing else, be replaced by
 * that path:? Excluded, -(path:x) is -path:x. Required, (path:x) is a MUST
 * term and path:x is not: the same only where the parent has no SHOULD
 * term to make optional. Optional, never: (a (path:x)) means a or the
 * path, (a path:x) means a within the path. */
static int path_wrapper(const qnode *kid, uint32_t nps) {
    if (kid->kind != QK_BOOL || kid->kid_count != 1 || kid->kids[0]->kind != QK_PATH ||
        kid->kids[0]->occur == QO_MUST_NOT)
        return 0;
    return kid->occur == QO_MUST_NOT || (kid->occur == QO_MUST && nps == 0);
}

/* Turn a list of kids into the minimal equivalent node: merge what may be
 * merged, drop a BOOL of one SHOULD or MUST kid (but keep (path:x), whose
 * parent decides: see path_wrapper). Consumes the list. */
static int finish_bool(parser *p, kids *k, unsigned field, uint32_t col, qnode **out) {
    int all_should = 1;
    for (uint32_t i = 0; i < k->n; i++)
        if (k->v[i]->occur != QO_SHOULD) all_should = 0;
    uint32_t nps = count_terms(k->v, k->n, QO_SHOULD);
    for (uint32_t i = 0; i < k->n; i++) {
        qnode *kid = k->v[i];
        if (k->n > 1 && path_wrapper(kid, nps)) { /* alone, the wrapper is dropped below */
            k->v[i] = kid->kids[0];
            k->v[i]->occur = kid->occur;
            kid->kid_count = 0;
            qnode_free(kid);
        }
    }
    if (k->n == 1 && k->v[0]->occur != QO_MUST_NOT && k->v[0]->kind != QK_PATH) {
        *out = k->v[0];
        lode_free(k->v);
        memset(k, 0, sizeof *k);
        return 0;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < k->n; i++) total += mergeable(k->v[i], all_should, nps) ? k->v[i]->kid_count : 1;
    qnode **v = lode_malloc(total * sizeof *v);
    qnode *b = v ? new_node(p, QK_BOOL, field, col) : NULL;
    if (!b) {
        lode_free(v);
        kids_free(k);
        return nomem(p);
    }
    uint32_t o = 0;
    for (uint32_t i = 0; i < k->n; i++) {
        qnode *kid = k->v[i];
        if (mergeable(kid, all_should, nps)) {
            for (uint32_t j = 0; j < kid->kid_count; j++) v[o++] = kid->kids[j];
            kid->kid_count = 0;
            qnode_free(kid);
        } else {
            v[o++] = kid;
        }
    }
    lode_free(k->v);
    memset(k, 0, sizeof *k);
    b->kids = v;
    b->kid_count = total;
    /* A merge can leave a single kid (a BOOL of one MUST_NOT): keep the
     * BOOL, (-a) is not a. */
    *out = b;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                    */
/* ------------------------------------------------------------------------ */

static int parse_or(parser *p, unsigned field, qnode **out);

/* A word token: a trailing '*' makes it a prefix. Several stars are one
 * (magn** is a typo of magn*); stars alone are no prefix at all. */
static int make_word(parser *p, const tok *t, unsigned field, uint32_t col, qnode **out) {
    size_t len = t->text_len;
    while (len > 0 && p->s[t->text + len - 1] == '*') len--;
    if (len == 0) return perr(p, PE_SYNTAX, t->col, "'*' without a prefix before it");
    return new_leaf(p, len < t->text_len ? QK_PREFIX : QK_WORD, field, col, t->text, len, out);
}

/* After path: comes a glob: a quoted string, or everything up to
 * whitespace or ')' (a glob may hold '(', quotes, ':' and '*'). */
static int parse_path(parser *p, const tok *field_tok, uint32_t col, qnode **out) {
    const unsigned char *s = p->s;
    size_t i = p->pos, end = p->end, q;
    if (i >= end || space_len(s, i, end) || s[i] == ')')
        return perr(p, PE_SYNTAX, field_tok->col, "path: with nothing after it");
    if (s[i] == '(') return perr(p, PE_SYNTAX, field_tok->col, "path: takes a glob, not a group");
    if ((q = quote_len(s, i, end)) != 0) {
        size_t j = i + q, cq = 0;
        while (j < end && (cq = quote_len(s, j, end)) == 0) j += char_len(s, j, end);
        if (j >= end) return perr(p, PE_SYNTAX, p->col, "unbalanced '\"'");
        if (j == i + q) return perr(p, PE_SYNTAX, field_tok->col, "path: with nothing after it");
        if (new_leaf(p, QK_PATH, QF_ANY, col, i + q, j - (i + q), out)) return -1;
        skip_to(p, j + cq);
        return 0;
    }
    size_t j = i;
    while (j < end && s[j] != ')' && !space_len(s, j, end)) j += char_len(s, j, end);
    if (new_leaf(p, QK_PATH, QF_ANY, col, i, j - i, out)) return -1;
    skip_to(p, j);
    return 0;
}

static int parse_group(parser *p, const tok *lp, unsigned field, qnode **out) {
    tok t;
    qnode *n = NULL;
    /* The only recursion of the parser goes through here, so this bounds
     * the stack whatever the input (1000 '(' included). */
    if (p->depth >= LODE_MAX_QUERY_DEPTH)
        return perr(p, PE_DEPTH, lp->col, "nesting deeper than %d levels", LODE_MAX_QUERY_DEPTH);
    consume(p, lp);
    lex(p, &t, 0);
    if (t.kind == T_RPAREN) return perr(p, PE_SYNTAX, lp->col, "empty parentheses");
    if (t.kind == T_END) return perr(p, PE_SYNTAX, lp->col, "unbalanced '('");
    p->depth++;
    int rc = parse_or(p, field, &n);
    p->depth--;
    if (rc) return rc;
    lex(p, &t, 0);
    if (t.kind != T_RPAREN) { /* parse_or stops only at ')' or the end */
        qnode_free(n);
        return perr(p, PE_SYNTAX, lp->col, "unbalanced '('");
    }
    consume(p, &t);
    if (n->kind == QK_BOOL && !has_occur(n, QO_SHOULD) && !has_occur(n, QO_MUST)) {
        /* Checked here, before a parent could merge it: +(-a) has no
         * meaning of its own, whatever stands around it. */
        char *f = qnode_format(n);
        lex(p, &t, 0);
        int whole = lp->start == p->first && t.kind == T_END;
        qnode_free(n);
        if (!f) return nomem(p);
        if (whole) perr(p, PE_EXCLUDES, lp->col, "the query only excludes words %s; add a word to search for", f);
        else
            perr(p, PE_EXCLUDES, lp->col, "a part of the query only excludes words %s; add a word to search for in it",
                 f);
        lode_free(f);
        return -1;
    }
    if (n->kind == QK_BOOL) n->column = lp->col;
    *out = n;
    return 0;
}

static int parse_near_fn(parser *p, const tok *nt, unsigned field, qnode **out);

/* One primary, with its title: prefixes. Returns 0 with *out, -1 on error,
 * or 1 when the token there cannot start a primary (or, with items_only,
 * is not a word, phrase or prefix): *bad is that token, and the caller
 * says what it expected. */
static int parse_primary(parser *p, unsigned field, int flags, int items_only, qnode **out, int *is_item,
                         tok *bad) {
    tok t;
    uint32_t col0 = 0;
    int first = 1;
    *is_item = 0;
    for (;;) {
        lex(p, &t, flags);
        if (first) col0 = t.col;
        first = 0;
        if (t.kind == T_TITLE) {
            tok nx;
            consume(p, &t);
            field = QF_TITLE;
            flags = LX_ADJACENT | LX_WORDISH;
            lex(p, &nx, flags);
            if (nx.kind == T_END || nx.kind == T_RPAREN)
                return perr(p, PE_SYNTAX, t.col, "title: with nothing after it");
            continue;
        }
        if (t.kind == T_WORD) {
            consume(p, &t);
            *is_item = 1;
            return make_word(p, &t, field, col0, out);
        }
        if (t.kind == T_PHRASE) {
            if (t.bad) return perr(p, PE_SYNTAX, t.col, "unbalanced '\"'");
            size_t i = t.text, e = t.text + t.text_len, n;
            while (i < e && (n = space_len(p->s, i, e)) != 0) i += n;
            if (i == e) return perr(p, PE_SYNTAX, t.col, "empty phrase");
            consume(p, &t);
            *is_item = 1;
            return new_leaf(p, QK_PHRASE, field, col0, t.text, t.text_len, out);
        }
        if (t.kind == T_BADFIELD)
            return perr(p, PE_FIELD, t.col, "unknown field '%.*s:'", (int)(t.text_len > 40 ? 40 : t.text_len),
                        (const char *)p->s + t.text);
        if (!items_only) {
            if (t.kind == T_PATH) {
                consume(p, &t);
                return parse_path(p, &t, col0, out);
            }
            if (t.kind == T_LPAREN) return parse_group(p, &t, field, out);
            if (t.kind == T_NEARFN) return parse_near_fn(p, &t, field, out);
        }
        *bad = t;
        return 1;
    }
}

/* NEAR(item item ... [, n]). The list ends at the first ')' outside
 * quotes; its last ',' outside quotes starts the distance when it is set
 * apart (space or phrase around it) or followed by a number, and is part of
 * a word otherwise: NEAR(a,b c) has the words "a,b" and c, which keeps
 * every word formattable. */
static int parse_near_fn(parser *p, const tok *nt, unsigned field, qnode **out) {
    const unsigned char *s = p->s;
    size_t end = p->end, lp, i, close = SIZE_MAX, comma = SIZE_MAX, n;
    uint32_t lpcol, c;
    consume(p, nt);
    lp = p->pos;
    lpcol = p->col;
    for (i = lp + 1, c = lpcol + 1; i < end;) {
        if ((n = quote_len(s, i, end)) != 0) {
            size_t j = i + n, m = 0;
            uint32_t qc = c++;
            while (j < end && (m = quote_len(s, j, end)) == 0) {
                j += char_len(s, j, end);
                c++;
            }
            if (j >= end) return perr(p, PE_SYNTAX, qc, "unbalanced '\"'");
            i = j + m;
            c++;
            continue;
        }
        if (s[i] == ')') {
            close = i;
            break;
        }
        if (s[i] == ',') comma = i;
        i += char_len(s, i, end);
        c++;
    }
    if (close == SIZE_MAX) return perr(p, PE_SYNTAX, lpcol, "unbalanced '('");

    int sep = 0;
    if (comma != SIZE_MAX) {
        unsigned b = s[comma - 1];
        if (comma == lp + 1 || b == ' ' || (b >= '\t' && b <= '\r') || b == '"' ||
            (comma - lp > 3 && s[comma - 3] == 0xE2 && quote_len(s, comma - 3, end) == 3) || comma + 1 == close ||
            space_len(s, comma + 1, end)) {
            sep = 1;
        } else {
            size_t j = comma + 1;
            while (j < close && is_digit(s[j])) j++;
            while (j < close && (n = space_len(s, j, close)) != 0) j += n;
            sep = j == close;
        }
    }

    kids k = {NULL, 0, 0};
    size_t old_end = p->end;
    p->end = sep ? comma : close;
    p->pos = lp + 1;
    p->col = lpcol + 1;
    for (;;) {
        tok t, bad;
        qnode *item = NULL;
        int is_item;
        lex(p, &t, 0);
        if (t.kind == T_END) {
            consume(p, &t);
            break;
        }
        int rc = parse_primary(p, field, 0, 1, &item, &is_item, &bad);
        if (rc > 0) perr(p, PE_SYNTAX, bad.col, "NEAR(...) takes only words, phrases and prefixes");
        if (rc || kids_push(p, &k, item)) goto fail;
    }
    p->end = old_end;

    uint32_t dist = QUERY_NEAR_DEFAULT;
    if (sep) {
        uint32_t v = 0;
        int digits = 0;
        skip_to(p, comma + 1);
        while (p->pos < close && (n = space_len(s, p->pos, close)) != 0) skip_to(p, p->pos + n);
        uint32_t dcol = p->col;
        for (i = p->pos; i < close && is_digit(s[i]); i++, digits++)
            if (v <= LODE_MAX_NEAR_DISTANCE) v = v * 10 + (s[i] - '0');
        while (i < close && (n = space_len(s, i, close)) != 0) i += n;
        if (!digits || i != close || v > LODE_MAX_NEAR_DISTANCE) {
            perr(p, PE_SYNTAX, dcol, "bad NEAR distance (a number from 0 to %d)", LODE_MAX_NEAR_DISTANCE);
            goto fail;
        }
        dist = v;
    }
    skip_to(p, close + 1);
    if (k.n < 2) {
        perr(p, PE_SYNTAX, nt->col, "NEAR needs two or more words or phrases");
        goto fail;
    }
    qnode *nn = new_node(p, QK_NEAR, field, nt->col);
    if (!nn) goto fail;
    nn->kids = k.v;
    nn->kid_count = k.n;
    nn->distance = dist;
    *out = nn;
    return 0;
fail:
    p->end = old_end;
    kids_free(&k);
    return -1;
}

/* left NEAR/n item NEAR/n item ...: one NEAR node; the distances must agree
 * (a NEAR inside a NEAR has no meaning for the evaluator). */
static int parse_near_chain(parser *p, unsigned field, qnode *left, int left_is_item, qnode **out) {
    tok t;
    kids k = {NULL, 0, 0};
    uint32_t dist = 0;
    int have = 0;
    lex(p, &t, 0);
    if (!left_is_item) {
        qnode_free(left);
        return perr(p, PE_SYNTAX, t.col, "NEAR needs a word, phrase or prefix on each side");
    }
    if (kids_push(p, &k, left)) return -1;
    while (t.kind == T_NEAR) {
        tok bad;
        qnode *n = NULL;
        int is_item;
        if (t.bad) {
            perr(p, PE_SYNTAX, t.col + 5, "bad NEAR distance (a number from 0 to %d)", LODE_MAX_NEAR_DISTANCE);
            goto fail;
        }
        if (have && t.distance != dist) {
            perr(p, PE_SYNTAX, t.col, "mixed NEAR distances");
            goto fail;
        }
        dist = t.distance;
        have = 1;
        consume(p, &t);
        int rc = parse_primary(p, field, 0, 1, &n, &is_item, &bad);
        if (rc > 0) {
            if (bad.kind == T_END || bad.kind == T_RPAREN) perr(p, PE_SYNTAX, t.col, "nothing after NEAR");
            else if (is_operator(bad.kind)) perr(p, PE_SYNTAX, bad.col, "%s after NEAR", op_name(bad.kind));
            else perr(p, PE_SYNTAX, bad.col, "NEAR needs a word, phrase or prefix on each side");
        }
        if (rc || kids_push(p, &k, n)) goto fail;
        lex(p, &t, 0);
    }
    qnode *nn = new_node(p, QK_NEAR, field, k.v[0]->column);
    if (!nn) goto fail;
    nn->kids = k.v;
    nn->kid_count = k.n;
    nn->distance = dist;
    *out = nn;
    return 0;
fail:
    kids_free(&k);
    return -1;
}

static int parse_clause(parser *p, unsigned field, qnode **out) {
    tok t, bad;
    qnode *n = NULL;
    int is_item, flags = 0;
    qoccur occ = p->all_words ? QO_MUST : QO_SHOULD;
    lex(p, &t, 0);
    if (t.kind == T_PLUS || t.kind == T_MINUS) {
        occ = t.kind == T_PLUS ? QO_MUST : QO_MUST_NOT;
        consume(p, &t);
        flags = LX_ADJACENT; /* "+ a" is no modifier; "+-a" neither (it would not format back) */
    }
    int rc = parse_primary(p, field, flags, 0, &n, &is_item, &bad);
    if (rc > 0) {
        if (flags) return perr(p, PE_SYNTAX, t.col, "'%c' not followed by a word", t.kind == T_PLUS ? '+' : '-');
        return perr(p, PE_SYNTAX, bad.col, "a word was expected"); /* parse_seq checked: not reached */
    }
    if (rc) return rc;
    lex(p, &t, 0);
    if (t.kind == T_NEAR && parse_near_chain(p, field, n, is_item, &n)) return -1;
    n->occur = occ;
    *out = n;
    return 0;
}

/* Clauses side by side. `prev` is the operator before the seq (NULL at the
 * start of the query or of a group), for the message of a missing operand. */
static int parse_seq(parser *p, unsigned field, const tok *prev, qnode **out) {
    tok t;
    kids k = {NULL, 0, 0};
    lex(p, &t, 0);
    if (t.kind == T_END || t.kind == T_RPAREN) {
        if (prev) return perr(p, PE_SYNTAX, prev->col, "nothing after %s", op_name(prev->kind));
        if (t.kind == T_RPAREN) return perr(p, PE_SYNTAX, t.col, "unbalanced ')'");
        return perr(p, PE_SYNTAX, t.col, "a word was expected"); /* empty input is refused before */
    }
    if (is_operator(t.kind)) {
        if (prev) return perr(p, PE_SYNTAX, t.col, "%s after %s", op_name(t.kind), op_name(prev->kind));
        return perr(p, PE_SYNTAX, t.col, "nothing before %s", op_name(t.kind));
    }
    uint32_t col0 = t.col;
    while (starts_clause(t.kind)) {
        qnode *n = NULL;
        if (parse_clause(p, field, &n) || kids_push(p, &k, n)) {
            kids_free(&k);
            return -1;
        }
        lex(p, &t, 0);
    }
    return finish_bool(p, &k, field, col0, out);
}

static int parse_and(parser *p, unsigned field, const tok *prev, qnode **out) {
    tok t, op;
    kids k = {NULL, 0, 0};
    qoccur occ = QO_MUST;
    lex(p, &t, 0);
    uint32_t col0 = t.col;
    if (t.kind == T_NOT) { /* NOT a: a clause that excludes */
        consume(p, &t);
        op = t;
        prev = &op;
        occ = QO_MUST_NOT;
    }
    for (;;) {
        qnode *n = NULL;
        if (parse_seq(p, field, prev, &n)) {
            kids_free(&k);
            return -1;
        }
        n->occur = occ;
        if (kids_push(p, &k, n)) {
            kids_free(&k);
            return -1;
        }
        lex(p, &t, 0);
        if (t.kind == T_AND) {
            consume(p, &t);
            op = t;
            occ = QO_MUST;
            lex(p, &t, 0);
            if (t.kind == T_NOT) { /* a AND NOT b */
                consume(p, &t);
                op = t;
                occ = QO_MUST_NOT;
            }
        } else if (t.kind == T_NOT) {
            consume(p, &t);
            op = t;
            occ = QO_MUST_NOT;
        } else {
            break;
        }
        prev = &op;
    }
    return finish_bool(p, &k, field, col0, out);
}

static int parse_or(parser *p, unsigned field, qnode **out) {
    tok t, op;
    const tok *prev = NULL;
    kids k = {NULL, 0, 0};
    lex(p, &t, 0);
    uint32_t col0 = t.col;
    for (;;) {
        qnode *n = NULL;
        if (parse_and(p, field, prev, &n)) {
            kids_free(&k);
            return -1;
        }
        n->occur = QO_SHOULD;
        if (kids_push(p, &k, n)) {
            kids_free(&k);
            return -1;
        }
        lex(p, &t, 0);
        if (t.kind != T_OR) break;
        consume(p, &t);
        op = t;
        prev = &op;
    }
    return finish_bool(p, &k, field, col0, out);
}

static int parse_query(parser *p, qnode **out) {
    tok t;
    qnode *n = NULL;
    if (parse_or(p, QF_ANY, &n)) return -1;
    lex(p, &t, 0);
    if (t.kind != T_END) { /* parse_or stops only at ')' or the end */
        qnode_free(n);
        return perr(p, PE_SYNTAX, t.col, "unbalanced ')'");
    }
    *out = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks on the finished tree                                               */
/* ------------------------------------------------------------------------ */

/* The first node deeper than LODE_MAX_QUERY_DEPTH, or NULL. The recursion
 * is bounded: group nesting is, and each group adds at most three levels. */
static const qnode *too_deep(const qnode *n, unsigned depth) {
    if (depth > LODE_MAX_QUERY_DEPTH) return n;
    for (uint32_t i = 0; i < n->kid_count; i++) {
        const qnode *d = too_deep(n->kids[i], depth + 1);
        if (d) return d;
    }
    return NULL;
}

/* The first BOOL with nothing to search for (only MUST_NOT kids), or NULL. */
static const qnode *only_excludes(const qnode *n) {
    if (n->kind != QK_BOOL) return NULL;
    if (!has_occur(n, QO_SHOULD) && !has_occur(n, QO_MUST)) return n;
    for (uint32_t i = 0; i < n->kid_count; i++) {
        const qnode *d = only_excludes(n->kids[i]);
        if (d) return d;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Lenient fallback                                                          */
/* ------------------------------------------------------------------------ */

/* The query as plain words: one WORD per run between whitespace, quotes
 * and parentheses, with leading '+'/'-' and trailing '*' dropped (they are
 * syntax that was not understood), in the default operator. */
static int fallback(parser *p, qnode **out) {
    const unsigned char *s = p->s;
    size_t i = 0, len = p->len;
    uint32_t col = 1;
    kids k = {NULL, 0, 0};
    p->leaves = 0;
    while (i < len) {
        if (is_delim(s, i, len)) {
            i += char_len(s, i, len);
            col++;
            continue;
        }
        size_t a = i, b;
        uint32_t acol = col;
        while (i < len && !is_delim(s, i, len)) {
            i += char_len(s, i, len);
            col++;
        }
        b = i;
        while (a < b && (s[a] == '+' || s[a] == '-')) {
            a++;
            acol++;
        }
        while (b > a && s[b - 1] == '*') b--;
        if (a == b) continue;
        qnode *n = NULL;
        if (new_leaf(p, QK_WORD, QF_ANY, acol, a, b - a, &n)) goto fail;
        n->occur = p->all_words ? QO_MUST : QO_SHOULD;
        if (kids_push(p, &k, n)) goto fail;
    }
    if (k.n == 0) {
        *out = NULL;
        return 0;
    }
    if (k.n == 1) {
        *out = k.v[0];
        lode_free(k.v);
        return 0;
    }
    qnode *b = new_node(p, QK_BOOL, QF_ANY, 1);
    if (!b) goto fail;
    b->kids = k.v;
    b->kid_count = k.n;
    *out = b;
    return 0;
fail:
    kids_free(&k);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* query_parse                                                               */
/* ------------------------------------------------------------------------ */

int query_parse(qnode **out, const char *query, size_t len, int strict, int all_words, char **note,
                lode_error *err) {
    if (out) *out = NULL;
    if (note) *note = NULL;
    if (!out || (!query && len)) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (len > LODE_MAX_QUERY_BYTES)
        return lode_fail(err, LODE_ELIMIT, "query is %zu bytes, the limit is %d", len, LODE_MAX_QUERY_BYTES);
    /* A NUL cannot come through lode_search (a C string); refusing it here
     * keeps every text of the tree an ordinary C string. */
    if (len && memchr(query, '\0', len)) return lode_fail(err, LODE_EINVAL, "the query contains a NUL byte");

    parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)query;
    p.len = p.end = len;
    p.col = 1;
    p.all_words = all_words;
    size_t i = 0, n;
    while (i < len && (n = space_len(p.s, i, len)) != 0) i += n;
    if (i == len) return lode_fail(err, LODE_EINVAL, "empty query");
    p.first = i;

    qnode *root = NULL;
    int rc = parse_query(&p, &root);
    if (rc == 0) {
        const qnode *deep = too_deep(root, 1);
        if (deep) {
            rc = perr(&p, PE_DEPTH, deep->column, "nesting deeper than %d levels", LODE_MAX_QUERY_DEPTH);
            qnode_free(root);
            root = NULL;
        }
    }
    if (rc) {
        if (p.ekind == PE_NOMEM) return lode_fail(err, LODE_ENOMEM, "out of memory");
        if (p.ekind == PE_TERMS) return lode_fail(err, LODE_ELIMIT, "%s", p.what);
        if (p.ekind == PE_EXCLUDES) return lode_fail(err, LODE_EINVAL, "%s", p.what);
        if (strict) {
            if (p.ekind == PE_FIELD) return lode_fail(err, LODE_EINVAL, "%s (fields are title: and path:)", p.what);
            if (p.ekind == PE_DEPTH)
                return lode_fail(err, LODE_ELIMIT, "query %s at column %u", p.what, (unsigned)p.ecol);
            rc = lode_fail(err, LODE_ESYNTAX, "syntax error at column %u: %s", (unsigned)p.ecol, p.what);
            if (err) err->column = p.ecol;
            return rc;
        }
        /* Lenient: say how the query was read, then read it as words. */
        char what[sizeof p.what];
        uint32_t ecol = p.ecol;
        memcpy(what, p.what, sizeof what);
        p.ekind = PE_NONE;
        if (fallback(&p, &root)) {
            if (p.ekind == PE_TERMS) return lode_fail(err, LODE_ELIMIT, "%s", p.what);
            return lode_fail(err, LODE_ENOMEM, "out of memory");
        }
        if (!root) return lode_fail(err, LODE_EINVAL, "empty query");
        if (note) {
            int m = snprintf(NULL, 0, "%s at column %u: searched as words", what, (unsigned)ecol);
            char *t = m > 0 ? lode_malloc((size_t)m + 1) : NULL;
            if (!t) {
                qnode_free(root);
                return lode_fail(err, LODE_ENOMEM, "out of memory");
            }
            snprintf(t, (size_t)m + 1, "%s at column %u: searched as words", what, (unsigned)ecol);
            *note = t;
        }
        root->occur = QO_SHOULD;
        *out = root;
        return 0;
    }

    const qnode *neg = only_excludes(root);
    if (neg) {
        char *f = qnode_format(neg);
        if (!f) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        else if (neg == root)
            rc = lode_fail(err, LODE_EINVAL, "the query only excludes words %s; add a word to search for", f);
        else
            rc = lode_fail(err, LODE_EINVAL, "a part of the query only excludes words %s; add a word to search for in it",
                           f);
        lode_free(f);
        qnode_free(root);
        return rc;
    }
    if (root->kind == QK_BOOL && root->kid_count == 1 && root->kids[0]->kind == QK_PATH &&
        root->kids[0]->occur != QO_MUST_NOT) {
        /* (path:x) at the top has no parent whose SHOULD kids it could
         * change: it is the path: alone */
        qnode *only = root->kids[0];
        root->kid_count = 0;
        qnode_free(root);
        root = only;
    }
    root->occur = QO_SHOULD;
    *out = root;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* qnode_format                                                              */
/* ------------------------------------------------------------------------ */

static void fmt_str(lode_buf *b, const char *s) { buf_append(b, s, strlen(s)); }

/* A glob is quoted only when it must be: when it holds whitespace or ')',
 * or starts with '(' (unquoted, path:( reads as a group and is refused).
 * Such a glob was quoted when typed, so it holds no quote. */
static int glob_needs_quotes(const qnode *n) {
    const unsigned char *s = (const unsigned char *)n->text;
    if (n->text_len && s[0] == '(') return 1;
    for (size_t i = 0; i < n->text_len; i += char_len(s, i, n->text_len))
        if (s[i] == ')' || space_len(s, i, n->text_len)) return 1;
    return 0;
}

static void fmt_node(lode_buf *b, const qnode *n) {
    char num[16];
    switch (n->kind) {
    case QK_WORD:
    case QK_PHRASE:
    case QK_PREFIX:
        if (n->field == QF_TITLE) fmt_str(b, "title:");
        if (n->kind == QK_PHRASE) buf_put_u8(b, '"');
        buf_append(b, n->text, n->text_len);
        if (n->kind == QK_PHRASE) buf_put_u8(b, '"');
        if (n->kind == QK_PREFIX) buf_put_u8(b, '*');
        break;
    case QK_PATH: {
        int q = glob_needs_quotes(n);
        fmt_str(b, "path:");
        if (q) buf_put_u8(b, '"');
        buf_append(b, n->text, n->text_len);
        if (q) buf_put_u8(b, '"');
        break;
    }
    case QK_NEAR:
        fmt_str(b, "NEAR(");
        for (uint32_t i = 0; i < n->kid_count; i++) {
            if (i) buf_put_u8(b, ' ');
            fmt_node(b, n->kids[i]);
        }
        snprintf(num, sizeof num, ", %u)", (unsigned)n->distance);
        fmt_str(b, num);
        break;
    case QK_BOOL:
        buf_put_u8(b, '(');
        for (uint32_t i = 0; i < n->kid_count; i++) {
            if (i) buf_put_u8(b, ' ');
            if (n->kids[i]->occur == QO_MUST) buf_put_u8(b, '+');
            else if (n->kids[i]->occur == QO_MUST_NOT) buf_put_u8(b, '-');
            fmt_node(b, n->kids[i]);
        }
        buf_put_u8(b, ')');
        break;
    }
}

char *qnode_format(const qnode *n) {
    lode_buf b;
    if (!n) return NULL;
    buf_init(&b);
    fmt_node(&b, n);
    buf_put_u8(&b, '\0');
    if (b.rc) {
        buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}
