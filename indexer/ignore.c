/*
 * ignore.c - gitignore-style rules: parsing the text of a .gitignore or
 * .ignore file, compiling the --include/--exclude globs the same way, and
 * deciding whether one relative path matches. Called by the walker in
 * sources.c, which finds the ignore files, keeps one rule set per folder and
 * asks the sets from the deepest folder up (see walk_options in indexer.h).
 *
 * The subset of gitignore(5) implemented: all of the pattern syntax that
 * .gitignore files use; what is left out is listed at the end.
 *  - one pattern a line; blank lines and lines starting with '#' are
 *    skipped; "\#" and "\!" start a pattern with those characters; trailing
 *    spaces are cut unless escaped with '\'; a CR before the LF is cut
 *    (files written on Windows), as is a UTF-8 byte-order mark;
 *  - "!pattern" re-includes what an earlier rule excluded; the last
 *    matching rule of a file decides;
 *  - "pattern/" matches folders only;
 *  - a pattern with a '/' at its start or in its middle is anchored: it is
 *    matched against the path relative to the folder of the ignore file;
 *    one without matches the last name at any depth below that folder;
 *  - "**" as a whole segment matches any number of folders ("**" + "/x",
 *    "a/" + "**" + "/b"); a final "/" + "**" matches everything inside, not
 *    the folder itself; "**" inside a segment is an ordinary '*';
 *  - within one segment, '*', '?', '[...]' (with '!' or '^' to negate,
 *    ranges and [:classes:]) and '\' escapes are fnmatch(3)'s: for a single
 *    name its rules are those of git's wildmatch. A '*' never matches '/',
 *    because matching is done segment by segment.
 * Not implemented: case folding (core.ignorecase), .git/info/exclude and
 * git's global excludes file, and git's index: git keeps tracking a file
 * committed before a rule ignored it, while here (as in ripgrep) the rule
 * leaves it out.
 */
#include <fnmatch.h>
#include <stdlib.h>

#include "indexer.h"

int ignore_rules_init(ignore_rules *r, const char *source) {
    memset(r, 0, sizeof *r);
    if (source && !(r->source = lode_strdup(source))) return LODE_ENOMEM;
    return 0;
}

void ignore_rules_free(ignore_rules *r) {
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) lode_free(r->rules[i].text);
    lode_free(r->rules);
    lode_free(r->source);
    memset(r, 0, sizeof *r);
}

static int is_dstar(const char *seg) { return seg[0] == '*' && seg[1] == '*' && seg[2] == '\0'; }

static const char *next_seg(const char *seg) { return seg + strlen(seg) + 1; }

/* Compile pattern [pat, pat+n) (negation already taken off) into a rule
 * whose text is [text, text+text_len). A pattern that is empty once its
 * slashes are taken off adds nothing and sets *added to 0. */
static int add_rule(ignore_rules *r, const char *text, size_t text_len, const char *pat, size_t n,
                    int negated, uint32_t line, int *added) {
    *added = 0;
    int dir_only = 0;
    /* a trailing '/' (not escaped: "\/" cannot end a name anyway) means
     * folders only; it does not make the pattern anchored */
    while (n > 0 && pat[n - 1] == '/') {
        dir_only = 1;
        n--;
    }
    int anchored = memchr(pat, '/', n) != NULL;
    while (n > 0 && pat[0] == '/') {
        pat++;
        n--;
    }
    if (n == 0) return 0;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        ignore_rule *v = cap > SIZE_MAX / sizeof *v ? NULL : lode_realloc(r->rules, cap * sizeof *v);
        if (!v) return LODE_ENOMEM;
        r->rules = v;
        r->cap = cap;
    }
    /* one allocation: the text, then the segments (at most n + 1 bytes) */
    char *block = lode_malloc(text_len + 1 + n + 1);
    if (!block) return LODE_ENOMEM;
    memcpy(block, text, text_len);
    block[text_len] = '\0';
    char *segs = block + text_len + 1, *out = segs;
    uint32_t nsegs = 0;
    const char *last = NULL;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && pat[j] != '/') j++;
        if (j > i) { /* "a//b" is "a/b" */
            memcpy(out, pat + i, j - i);
            out[j - i] = '\0';
            last = out;
            out += j - i + 1;
            nsegs++;
        }
        i = j + 1;
    }
    ignore_rule *rule = &r->rules[r->count++];
    memset(rule, 0, sizeof *rule);
    rule->text = block;
    rule->segs = segs;
    rule->nsegs = nsegs;
    rule->line = line;
    rule->negated = (uint8_t)negated;
    rule->dir_only = (uint8_t)dir_only;
    rule->anchored = (uint8_t)anchored;
    rule->dstar_last = (uint8_t)(nsegs > 1 && last && is_dstar(last));
    *added = 1;
    return 0;
}

int ignore_rules_parse(ignore_rules *r, const char *text, size_t len) {
    static const char bom[3] = {'\xef', '\xbb', '\xbf'};
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, bom, 3) == 0) p += 3;
    uint32_t line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        if (line < UINT32_MAX) line++;
        if (e > s && e[-1] == '\r') e--;
        /* trailing spaces go, unless the last one is escaped: "a\ " is "a " */
        while (e > s && e[-1] == ' ' && !(e - s >= 2 && e[-2] == '\\')) e--;
        if (e == s || s[0] == '#') continue;
        int negated = s[0] == '!';
        const char *pat = s + negated;
        int added;
        int rc = add_rule(r, s, (size_t)(e - s), pat, (size_t)(e - pat), negated, line, &added);
        if (rc) return rc;
    }
    return 0;
}

int ignore_rules_add_glob(ignore_rules *r, const char *glob, lode_error *err) {
    size_t n = strlen(glob);
    int added;
    int rc = add_rule(r, glob, n, glob, n, 0, 0, &added);
    if (rc) return lode_fail(err, rc, "out of memory");
    if (!added) return lode_fail(err, LODE_EINVAL, "empty glob '%s'", glob);
    return 0;
}

/* Longest name compared: Linux names are at most 255 bytes (NAME_MAX);
 * anything longer cannot be a name a pattern was written for. */
enum { NAME_BUF = 1024 };

/* Does pattern segment `pat` match the name [name, name+len)? */
static int seg_match(const char *pat, const char *name, size_t len) {
    if (!strpbrk(pat, "*?[\\")) return strlen(pat) == len && memcmp(pat, name, len) == 0;
    char buf[NAME_BUF];
    if (len >= sizeof buf) return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return fnmatch(pat, buf, 0) == 0;
}

/* The segments of the rule against the names of [path, end). "**" is to
 * names what '*' is to characters, so the classic one-star backtracking of
 * wildcard matching applies with names for characters: on a mismatch, the
 * last "**" seen takes one more name and matching resumes after it. That is
 * O(segments x names) at worst, never exponential, however many "**". */
static int match_segments(const ignore_rule *rule, const char *path, const char *end) {
    const char *p = rule->segs, *star_p = NULL, *star_s = NULL;
    uint32_t pi = 0, star_pi = 0;
    const char *s = path;
    while (s < end) {
        const char *se = memchr(s, '/', (size_t)(end - s));
        if (!se) se = end;
        if (pi < rule->nsegs && is_dstar(p)) {
            star_p = p;
            star_pi = pi;
            star_s = s;
            p = next_seg(p);
            pi++;
            continue;
        }
        if (pi < rule->nsegs && seg_match(p, s, (size_t)(se - s))) {
            p = next_seg(p);
            pi++;
            s = se < end ? se + 1 : end;
            continue;
        }
        if (!star_p) return 0;
        const char *ss = memchr(star_s, '/', (size_t)(end - star_s));
        star_s = ss ? ss + 1 : end;
        s = star_s;
        p = next_seg(star_p);
        pi = star_pi + 1;
    }
    while (pi < rule->nsegs && is_dstar(p)) {
        p = next_seg(p);
        pi++;
    }
    return pi == rule->nsegs;
}

static int rule_matches(const ignore_rule *rule, const char *path, size_t len, int is_dir) {
    if (rule->dir_only && !is_dir) return 0;
    const char *end = path + len;
    if (!rule->anchored) {
        const char *base = path + len;
        while (base > path && base[-1] != '/') base--;
        return seg_match(rule->segs, base, (size_t)(end - base));
    }
    if (rule->dstar_last) {
        /* "a/" + "**": everything inside a, not a itself. Dropping the
         * path's last name and letting the final "**" match zero or more
         * names is the same as asking it to match one or more. */
        while (end > path && end[-1] != '/') end--;
        if (end == path) return 0;
        end--;
    }
    return match_segments(rule, path, end);
}

const ignore_rule *ignore_rules_match(const ignore_rules *r, const char *path, int is_dir) {
    if (!r) return NULL;
    size_t len = strlen(path);
    /* later rules win: the first match from the end decides */
    for (size_t i = r->count; i-- > 0;)
        if (rule_matches(&r->rules[i], path, len, is_dir)) return &r->rules[i];
    return NULL;
}
