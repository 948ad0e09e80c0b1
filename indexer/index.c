/*
 * index.c - lode_index: opens an index folder (its MANIFEST and every live
 * segment) or a single segment file (a bundle), sums the global statistics
 * that ranking needs, and checks integrity on request (every checksum,
 * then every structure: check.c). Also the library's version and error
 * strings. Called by the searcher and by embedders.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "segment.h"

const char *lode_version(void) { return LODE_VERSION_STRING; }

int lode_version_number(void) { return LODE_VERSION_NUMBER; }

const char *lode_strerror(int code) {
    switch (code) {
    case LODE_OK: return "success";
    case LODE_ENOMEM: return "out of memory";
    case LODE_EIO: return "input/output error";
    case LODE_ENOTFOUND: return "not found";
    case LODE_ECORRUPT: return "index is corrupt";
    case LODE_EVERSION: return "unsupported index format version";
    case LODE_ESYNTAX: return "query syntax error";
    case LODE_ELOCKED: return "index is locked by another writer";
    case LODE_ELIMIT: return "limit exceeded";
    case LODE_EINVAL: return "invalid argument";
    case LODE_ITEROVER: return "no more items";
    default: return "unknown error";
    }
}

/* A new, empty index object named `path`, or NULL. */
static lode_index *index_new(const char *path) {
    lode_index *ix = lode_calloc(1, sizeof *ix);
    if (!ix) return NULL;
    if (!(ix->path = lode_strdup(path)) || pthread_mutex_init(&ix->pool_mu, NULL) != 0) {
        lode_free(ix->path);
        lode_free(ix);
        return NULL;
    }
    ix->pool_ready = 1;
    return ix;
}

int index_take_analyzer(lode_index *ix, analyzer **out, lode_error *err) {
    *out = NULL;
    pthread_mutex_lock(&ix->pool_mu);
    if (ix->pool_n) *out = ix->pool[--ix->pool_n];
    pthread_mutex_unlock(&ix->pool_mu);
    return *out ? 0 : analyzer_new(out, ix->stemmer, err);
}

void index_return_analyzer(lode_index *ix, analyzer *a) {
    if (!a) return;
    pthread_mutex_lock(&ix->pool_mu);
    if (ix->pool_n < INDEX_ANALYZER_POOL) {
        ix->pool[ix->pool_n++] = a;
        a = NULL;
    }
    pthread_mutex_unlock(&ix->pool_mu);
    analyzer_free(a);
}

void lode_index_close(lode_index *ix) {
    if (!ix) return;
    for (uint32_t i = 0; i < ix->pool_n; i++) analyzer_free(ix->pool[i]);
    if (ix->pool_ready) pthread_mutex_destroy(&ix->pool_mu);
    for (uint32_t i = 0; i < ix->seg_count; i++) segment_close(ix->segs[i]);
    lode_free(ix->segs);
    lode_free(ix->path);
    lode_free(ix);
}

static int add_segment(lode_index *ix, segment *s) {
    segment **v = lode_realloc(ix->segs, (ix->seg_count + 1) * sizeof *v);
    if (!v) return LODE_ENOMEM;
    ix->segs = v;
    ix->segs[ix->seg_count++] = s;
    ix->docs += s->doc_count;
    ix->tokens += s->token_count;
    ix->title_tokens += s->title_token_count;
    ix->passages += s->passage_count;
    return 0;
}

/* Open the segments a MANIFEST lists. *retry is set when a segment vanished,
 * which happens when a writer committed between our reading the MANIFEST and
 * opening its segments: the caller reads the new MANIFEST. */
static int open_folder(lode_index *ix, const char *dir, int *retry, lode_error *err) {
    manifest m;
    *retry = 0;
    int rc = manifest_read(&m, dir, err);
    if (rc) return rc;
    ix->generation = m.generation;
    snprintf(ix->stemmer, sizeof ix->stemmer, "%s", m.stemmer);
    for (uint32_t i = 0; i < m.segment_count && !rc; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, m.segments[i].name) >= (int)sizeof path) {
            rc = lode_fail(err, LODE_EINVAL, "index path too long");
            break;
        }
        segment *s;
        rc = segment_open_file(&s, path, path, err);
        if (rc == LODE_ENOTFOUND) {
            *retry = 1;
            break;
        }
        if (rc) break;
        if (s->header_crc != m.segments[i].header_crc || s->size != m.segments[i].file_len ||
            s->doc_count != m.segments[i].doc_count) {
            rc = lode_corrupt(err, path, "HEADER", "does not match the segment the MANIFEST lists");
        } else if (strcmp(s->stemmer, m.stemmer) != 0) {
            rc = lode_corrupt(err, path, "META", "stemmer differs from the MANIFEST's");
        }
        if (!rc && add_segment(ix, s)) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        if (rc) segment_close(s);
    }
    manifest_free(&m);
    return rc;
}

/* A bundle: its one segment, just opened with result rc, is the index. */
static int adopt_segment(lode_index *ix, int rc, segment *s, lode_error *err) {
    if (rc) return rc;
    snprintf(ix->stemmer, sizeof ix->stemmer, "%s", s->stemmer);
    if (add_segment(ix, s)) {
        segment_close(s);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    return 0;
}

int lode_index_open(lode_index **out, const char *path, lode_error *err) {
    *out = NULL;
    if (!path || !*path) return lode_fail(err, LODE_EINVAL, "no index path given");
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        return lode_fail(err, e == ENOENT ? LODE_ENOTFOUND : LODE_EIO, "cannot open index %s: %s", path,
                         e == ENOENT ? "no such file or folder" : "cannot stat");
    }
    lode_index *ix = index_new(path);
    if (!ix) return lode_fail(err, LODE_ENOMEM, "out of memory");
    int rc = 0;
    if (S_ISDIR(st.st_mode)) {
        int retry = 0;
        for (int attempt = 0; attempt < 8; attempt++) {
            rc = open_folder(ix, path, &retry, err);
            if (!retry) break;
            for (uint32_t i = 0; i < ix->seg_count; i++) segment_close(ix->segs[i]);
            ix->seg_count = 0;
            ix->docs = ix->tokens = ix->title_tokens = ix->passages = 0;
        }
        if (retry)
            rc = lode_fail(err, LODE_ENOTFOUND, "%s: a segment listed in the MANIFEST is missing", path);
        else if (rc == LODE_ENOTFOUND)
            rc = lode_fail(err, LODE_ENOTFOUND, "%s is not a lode index (no MANIFEST): build one with lode-index",
                           path);
    } else {
        segment *s = NULL;
        rc = segment_open_file(&s, path, path, err);
        rc = adopt_segment(ix, rc, s, err);
    }
    if (rc) {
        lode_index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

int lode_index_open_memory(lode_index **out, const void *data, size_t size, const char *name, lode_error *err) {
    *out = NULL;
    if (!data && size) return lode_fail(err, LODE_EINVAL, "no index bytes given");
    if (!name) name = "(memory)";
    lode_index *ix = index_new(name);
    if (!ix) return lode_fail(err, LODE_ENOMEM, "out of memory");
    segment *s = NULL;
    int rc = segment_open_memory(&s, data ? data : "", size, name, err);
    rc = adopt_segment(ix, rc, s, err);
    if (rc) {
        lode_index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void lode_index_get_info(const lode_index *ix, lode_index_info *out) {
    memset(out, 0, sizeof *out);
    if (!ix) return;
    out->documents = ix->docs;
    out->passages = ix->passages;
    out->tokens = ix->tokens;
    out->segments = ix->seg_count;
    out->generation = ix->generation;
    out->stemmer = ix->stemmer;
}

int lode_index_check(lode_index *ix, lode_error *err) {
    if (!ix) return lode_fail(err, LODE_EINVAL, "invalid argument");
    for (uint32_t i = 0; i < ix->seg_count; i++) {
        int rc = segment_check_all(ix->segs[i], err);
        if (!rc) rc = segment_verify(ix->segs[i], err);
        if (rc) return rc;
    }
    return 0;
}
