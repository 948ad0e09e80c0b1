/*
 * document.c - reading a document's stored text by the identifier a search
 * hit carries (lode_index_read_text). Called by lode-search to show whole
 * lines and lines of context around passages, and by embedders that want
 * more of a document than its passages, without the source file.
 */
#include "searcher.h"

int lode_index_read_text(lode_index *ix, uint64_t doc, uint64_t offset, void *buf, size_t len, size_t *got,
                         lode_error *err) {
    if (got) *got = 0;
    if (!ix || !got || (!buf && len)) return lode_fail(err, LODE_EINVAL, "invalid argument");
    uint32_t seg = (uint32_t)(doc >> 32), local = (uint32_t)doc;
    if (seg >= ix->seg_count || local >= ix->segs[seg]->doc_count)
        return lode_fail(err, LODE_EINVAL, "no document %llu in this index", (unsigned long long)doc);
    segment *s = ix->segs[seg];
    doc_record d;
    int rc = segment_doc(s, local, &d, err);
    if (rc) return rc;
    if (offset > d.size)
        return lode_fail(err, LODE_EINVAL, "offset %llu is past the end of the document (%llu bytes)",
                         (unsigned long long)offset, (unsigned long long)d.size);
    uint64_t take = d.size - offset;
    if (take > len) take = len;
    if (take == 0) return 0;
    /* segment_text inflates whole blocks into a buffer of its own; the copy
     * into the caller's memory is small next to the inflating */
    lode_buf text;
    buf_init(&text);
    rc = segment_text(s, &d, offset, take, &text, err);
    if (!rc && text.len != take) rc = lode_corrupt(err, s->name, "TEXT", "stored text shorter than the document");
    if (!rc) {
        memcpy(buf, text.data, (size_t)take);
        *got = (size_t)take;
    }
    buf_free(&text);
    return rc;
}
