/*
 * lode_limits.h - every limit of lode in one place, each with the reason for
 * its value. Inputs beyond a limit get a clear error (LODE_ELIMIT) or are
 * handled as documented here; they never overflow a field of the format.
 */
#ifndef LODE_LIMITS_H
#define LODE_LIMITS_H

/* Largest document indexed. Byte offsets inside a document are stored as
 * 32-bit integers in the passage table and the highlight spans; 1 GiB keeps
 * a wide margin below 4 GiB and a whole document in memory while indexing. */
#define LODE_MAX_DOC_BYTES ((uint64_t)1 << 30)

/* Most documents in one segment: document ids are 32-bit and the largest
 * value is kept free as the "no more documents" sentinel. */
#define LODE_MAX_DOCS_PER_SEGMENT ((uint32_t)0x7fffffff)

/* Most segments in an index: a MANIFEST names each; beyond this the writer
 * should have merged long before (and --compact does). */
#define LODE_MAX_SEGMENTS 4096

/* Longest term in bytes after normalization. Longer words are cut at a
 * UTF-8 boundary: nobody types them, and a query for the same long word is
 * cut the same way, so it still matches. Keeps lexicon blocks small. */
#define LODE_MAX_TERM_BYTES 64

/* Bytes sniffed for a NUL byte to call a file binary (grep reads a 32 KiB
 * buffer; 8 KiB catches every binary format with a header and costs less). */
#define BINARY_SNIFF_BYTES 8192

/* Largest .gitignore or .ignore file read. Real ones are a few KiB (the
 * Linux kernel's largest is under 2 KiB); the whole file is held in memory
 * and every entry of its folder is matched against every rule, so a huge
 * one would slow the walk of its whole tree. A larger file is a warning and
 * its rules are not applied. */
#define LODE_MAX_IGNORE_BYTES ((uint64_t)1 << 20)

/* Passages: the unit a snippet shows. A paragraph up to the target is one
 * passage (two to four terminal lines); longer text is cut at lines, then at
 * sentence ends, then at whitespace, and never exceeds the maximum. */
#define PASSAGE_TARGET_BYTES 500
#define PASSAGE_MAX_BYTES 1000

/* A title is one line of a heading, not a paragraph. */
#define TITLE_MAX_BYTES 200

/* Longest query accepted, in bytes and in terms: bounds the work and memory
 * of one search whatever is typed. */
#define LODE_MAX_QUERY_BYTES 8192
#define LODE_MAX_QUERY_TERMS 256

/* Deepest nesting of parentheses and operators in a query: the parser and
 * the evaluator recurse on the tree, and no real query nests this deep. */
#define LODE_MAX_QUERY_DEPTH 32

/* A prefix query (`magn*`) needs this many characters: a shorter prefix
 * matches a large part of the vocabulary and selects almost every document. */
#define LODE_MIN_PREFIX_CHARS 2

/* Most distinct index terms one prefix may expand to; beyond, the query is
 * refused with a message asking for a longer prefix. */
#define LODE_MAX_PREFIX_TERMS 1024

/* Largest NEAR distance, in words. */
#define LODE_MAX_NEAR_DISTANCE 1000

/* Most feedback documents and added words of query expansion (larger
 * values are lowered to these): each feedback document is read and
 * analysed again, and each word added is one more list to rank with, so
 * these bound the work expansion adds to a search. The useful values are
 * far lower (5 and 10 by default, docs/RANKING.md). */
#define LODE_MAX_EXPAND_DOCS 100
#define LODE_MAX_EXPAND_TERMS 100

/* Most documents one search returns. */
#define LODE_MAX_RESULTS 100000

#endif /* LODE_LIMITS_H */
