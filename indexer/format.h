/*
 * format.h - the on-disk constants of a lode index, in one place.
 * docs/FORMAT.md is the authority; this header mirrors it. Every multi-byte
 * integer is little-endian; nothing is written by copying a struct.
 */
#ifndef LODE_FORMAT_H
#define LODE_FORMAT_H

/* Segment file ---------------------------------------------------------- */

#define SEG_MAGIC "LODESEG1"
#define SEG_MAGIC_LEN 8
/* Bumped for any change a version-1 reader could misread. Readers refuse
 * other versions with LODE_EVERSION. */
#define SEG_FORMAT_VERSION 1

/* header: magic[8] u32 version u32 header_len u64 file_len u32 page_size
 * u32 section_count, then section_count entries, then u32 crc32 of all
 * preceding header bytes. */
#define SEG_HEADER_FIXED 32
#define SEG_SECTION_ENTRY 32 /* u32 id, u32 flags(0), u64 offset, u64 length, u32 crc32, u32 zero */
/* Page checksums: one CRC-32 per 4 KiB page of the bytes from the end of the
 * header to the start of PAGECRC (pages count from the end of the header). */
#define SEG_PAGE_SIZE 4096
#define SEG_ALIGN 8          /* sections start at multiples of 8 */

/* Section ids. A reader needs 1..11 (SEC_COUNT). Ids above 11 are optional
 * sections of a compatible extension: a reader that does not know one skips
 * it (it is still covered by the page checksums). The writer emits them in
 * id order, then PAGECRC last. */
enum {
    SEC_META = 1,
    SEC_DOCS = 2,
    SEC_DOCINFO = 3,
    SEC_TEXTIDX = 4,
    SEC_TEXT = 5,
    SEC_POSTINGS = 6,
    SEC_LEXICON = 7,
    SEC_LEXIDX = 8,
    SEC_VOCAB = 9,
    SEC_VOCABIDX = 10,
    SEC_PAGECRC = 11,
    SEC_COUNT = 11,
    /* optional, added after lode 0.1.0: copies laid out for cold lookups */
    SEC_LEXKEYS = 12,
    SEC_DOCLENS = 13,
    SEC_MAX = 13
};

/* LEXKEYS: for each lexicon block, the first LEXKEY_BYTES bytes of its first
 * term, zero-padded (terms hold no zero byte, so the padded keys sort as the
 * terms do). A binary search over them touches a few pages of 8-byte keys
 * instead of one LEXICON page per probe. */
#define LEXKEY_BYTES 8
/* DOCLENS: for each document, u32 token_count and u32 title_token_count,
 * the two fields of its DOCS record that ranking reads for every candidate. */
#define DOCLEN_RECORD_SIZE 8

/* DOCS: one fixed record per document. */
#define DOC_RECORD_SIZE 48
/* u64 text_offset, u64 size, i64 mtime, u64 content_hash, u64 info_offset,
 * u32 token_count, u32 title_token_count */

/* Stored text is cut into blocks of this many uncompressed bytes, each
 * compressed alone: a snippet inflates one or two small blocks, not a file. */
#define TEXT_BLOCK_SIZE 16384
#define TEXTIDX_ENTRY 12 /* u64 offset in TEXT, u32 compressed length */

/* The zlib level the writer uses for the stored text (readers accept any).
 * On the 149 MB bench corpus in 16 KiB blocks: level 6 (zlib's default)
 * 2.953:1 in 2.96 s of CPU, level 5 2.942:1 in 2.51 s, level 4 2.884:1 in
 * 1.96 s, level 3 (no lazy matching) 2.760:1 in 1.72 s. Compressing is done
 * on its own thread, and at level 5 that thread was the slower of the two:
 * level 4 takes 0.35 s off the 3.3 s build for 0.9% more index
 * (bench/RESULTS.md). bench/build_floor.c times it alone. */
#define TEXT_ZLIB_LEVEL 4

/* Postings are coded in blocks of this many documents. */
#define POSTINGS_BLOCK 128
#define SKIP_ENTRY 24 /* u32 last_doc, doc_end, pos_end, max_tf, max_title_tf, min_len */

/* Terms per front-coded lexicon block. */
#define LEXICON_BLOCK 16

/* MANIFEST -------------------------------------------------------------- */

#define MANIFEST_MAGIC "LODEMAN1"
#define MANIFEST_FORMAT_VERSION 1
#define MANIFEST_NAME "MANIFEST"
#define LOCK_NAME "LOCK"

#endif /* LODE_FORMAT_H */
