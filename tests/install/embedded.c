/*
 * embedded.c - the four ways docs/EMBEDDING.md gives to compile a bundle
 * into a program, one per macro, each opening the same bundle from memory
 * and printing "path:line" of the best hit for the query argv[1] (exit
 * status 0 found, 1 nothing, 2 error). Built by test_install.py against
 * the installed lode; the bundle is corpus.lode in the current folder.
 */
#include <lode.h>
#include <stdio.h>

#if defined(RECIPE_EMIT_C)
/* lode-index --emit-c corpus_index -o corpus_index.c corpus.lode */
extern const unsigned char corpus_index[];
extern const size_t corpus_index_size;
#define BUNDLE corpus_index
#define BUNDLE_SIZE corpus_index_size
#elif defined(RECIPE_XXD)
/* xxd -i corpus.lode > corpus_lode.c */
extern unsigned char corpus_lode[];
extern unsigned int corpus_lode_len;
#define BUNDLE corpus_lode
#define BUNDLE_SIZE corpus_lode_len
#elif defined(RECIPE_LD)
/* ld -r -b binary -z noexecstack -o corpus_lode.o corpus.lode */
extern const unsigned char _binary_corpus_lode_start[], _binary_corpus_lode_end[];
#define BUNDLE _binary_corpus_lode_start
#define BUNDLE_SIZE (size_t)(_binary_corpus_lode_end - _binary_corpus_lode_start)
#elif defined(RECIPE_INCBIN)
/* the assembler reads corpus.lode (from its folder, or one given with
 * -Wa,-I,DIR) into the read-only data */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global corpus_bundle\n"
        "corpus_bundle:\n"
        ".incbin \"corpus.lode\"\n"
        ".global corpus_bundle_end\n"
        "corpus_bundle_end:\n"
        ".previous\n");
extern const unsigned char corpus_bundle[], corpus_bundle_end[];
#define BUNDLE corpus_bundle
#define BUNDLE_SIZE (size_t)(corpus_bundle_end - corpus_bundle)
#else
#error "define one of RECIPE_EMIT_C, RECIPE_XXD, RECIPE_LD, RECIPE_INCBIN"
#endif

int main(int argc, char **argv) {
    lode_index *ix;
    lode_results *res;
    lode_error err;
    if (argc != 2) return 2;
    if (lode_index_open_memory(&ix, BUNDLE, BUNDLE_SIZE, "corpus.lode", &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    if (lode_search(&res, ix, argv[1], NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        lode_index_close(ix);
        return 2;
    }
    int found = lode_results_count(res) > 0;
    if (found) {
        lode_hit hit;
        lode_results_get(res, 0, &hit);
        printf("%s:%u\n", hit.path, hit.passages[0].line);
    }
    lode_results_free(res);
    lode_index_close(ix);
    return found ? 0 : 1;
}
