/*
 * analysed_dump.c - every document of an index, and every query of a
 * file, as the terms lode's analyzer makes of them, for
 * bench/rank_prototype.py (ranking functions tried outside the code base
 * on exactly lode's terms). A benchmark tool, not a test.
 *
 *   analysed_dump INDEX QUERIES.tsv
 *
 * Prints "D<TAB>path<TAB> term term ..." for each document (a term of the
 * title, the first non-empty line, prefixed with '^'), then
 * "Q<TAB>qid<TAB> term term ..." for each line "qid<TAB>query".
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Iindexer -Isearcher \
 *      bench/analysed_dump.c BUILD/liblode.a -lutf8proc -lstemmer -lz -lm -o /tmp/analysed_dump
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

static int print_term(void *ctx, const token *t) {
    uint32_t title_tokens = *(const uint32_t *)ctx;
    printf(" %s%.*s", t->position < title_tokens ? "^" : "", (int)t->term_len, t->term);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: analysed_dump INDEX QUERIES.tsv\n");
        return 2;
    }
    lode_index *ix = NULL;
    analyzer *a = NULL;
    lode_error err;
    if (lode_index_open(&ix, argv[1], &err) || analyzer_new(&a, ix->stemmer, &err)) {
        fprintf(stderr, "analysed_dump: %s\n", err.message);
        return 2;
    }
    lode_buf text;
    buf_init(&text);
    for (uint32_t s = 0; s < ix->seg_count; s++)
        for (uint32_t d = 0; d < ix->segs[s]->doc_count; d++) {
            doc_record r;
            doc_info info;
            if (segment_doc(ix->segs[s], d, &r, &err) || segment_doc_info(ix->segs[s], d, &r, &info, &err) ||
                segment_text(ix->segs[s], &r, 0, r.size, &text, &err)) {
                fprintf(stderr, "analysed_dump: %s\n", err.message);
                return 2;
            }
            printf("D\t%.*s\t", (int)info.path_len, info.path);
            analyze_text(a, (const char *)text.data, text.len, 0, print_term, &r.title_token_count);
            putchar('\n');
        }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint32_t no_title = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        printf("Q\t%s\t", line);
        analyze_text(a, tab + 1, strlen(tab + 1), 0, print_term, &no_title);
        putchar('\n');
    }
    free(line);
    fclose(f);
    buf_free(&text);
    analyzer_free(a);
    lode_index_close(ix);
    return 0;
}
