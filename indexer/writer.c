/*
 * writer.c - lode_writer: builds a new generation of an index. Owns the
 * lock, the walk of the inputs, the memory budget (a segment is written
 * whenever the in-memory inversion outgrows it) and the commit, which
 * replaces the MANIFEST atomically and only then removes the old segments.
 * Called by lode-index and by programs that embed liblode.
 *
 * The filters of the options (globs, ignore files) are compiled here once
 * and applied by the walk (sources.c); the size limit is applied here,
 * before a file is read.
 *
 * Files in the index folder: MANIFEST, LOCK, seg-GGGGGGGG-NNNN.lseg where G
 * is the generation that wrote it. Anything else named like a segment or
 * MANIFEST.tmp that the MANIFEST does not list is debris of an interrupted
 * writer and is deleted by the next one.
 *
 * A bundle (LODE_WRITER_BUNDLE) is one segment file and no folder. Its
 * writer locks and fills BUNDLE.tmp beside it, then renames it over the
 * bundle: the same crash safety as a MANIFEST, without a MANIFEST. The
 * temporary file is the lock, so that a second writer of the same bundle is
 * refused at once (LODE_ELOCKED) rather than after indexing, and a
 * temporary file left by a killed writer is simply truncated and reused.
 * One segment means no flush on the memory budget: the whole inversion is
 * held in memory until the commit (LODE_WRITER_ONE_SEGMENT, which --compact
 * uses for folders too).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "segment.h"

struct lode_writer {
    char *dir;
    int lock_fd;
    analyzer *an;
    inverter inv;
    size_t budget;
    int segments_full;   /* LODE_MAX_SEGMENTS reached: no more segments can be written */
    lode_event_fn on_event;
    void *event_ctx;
    manifest old;            /* what the MANIFEST listed when we opened */
    int have_old;
    manifest fresh;          /* segments written by this writer */
    uint32_t fresh_cap;
    uint64_t generation;
    lode_writer_stats stats;  /* tokens_indexed counts flushed segments only */
    lode_buf file;           /* the file being read */
    ignore_rules include;    /* --include globs; empty: every file */
    ignore_rules exclude;    /* --exclude globs */
    uint64_t max_filesize;   /* bytes; files above are skipped (LODE_MAX_DOC_BYTES at most) */
    int ignore_files;        /* honour .gitignore and .ignore */
    int failed;              /* a segment write failed: nothing may be committed */
    int committed;
    int one_segment;         /* never flush on the budget: one segment at the commit */
    int bundle;              /* dir names a bundle file, not a folder */
    char *tmp;               /* bundle: "<dir>.tmp", written, then renamed; owned */
};

static void emit(lode_writer *w, lode_event_kind kind, const char *path, const char *message, uint64_t bytes) {
    if (!w->on_event) return;
    lode_event ev = {kind, path, message, bytes};
    w->on_event(w->event_ctx, &ev);
}

static int seg_path(const lode_writer *w, const char *name, char *out, size_t cap, lode_error *err) {
    if (snprintf(out, cap, "%s/%s", w->dir, name) >= (int)cap)
        return lode_fail(err, LODE_EINVAL, "index path too long: %s", w->dir);
    return 0;
}

/* "seg-GGGGGGGG-NNNN.lseg": 8 and 4 decimal digits. */
static int parse_segment_name(const char *name, uint64_t *gen) {
    static const char shape[] = "seg-########-####.lseg";
    if (strlen(name) != sizeof shape - 1) return 0;
    uint64_t g = 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '#') {
            if (name[i] < '0' || name[i] > '9') return 0;
            if (i < 12) g = g * 10 + (uint64_t)(name[i] - '0');
        } else if (name[i] != shape[i]) {
            return 0;
        }
    }
    *gen = g;
    return 1;
}

static int listed(const manifest *m, const char *name) {
    for (uint32_t i = 0; i < m->segment_count; i++)
        if (strcmp(m->segments[i].name, name) == 0) return 1;
    return 0;
}

/* Remove debris of interrupted writers, and find the highest generation in
 * use so new names never collide. Only when the MANIFEST was readable: with
 * a damaged MANIFEST we cannot tell debris from data, so nothing goes. */
static int scan_folder(lode_writer *w, uint64_t *max_gen) {
    DIR *d = opendir(w->dir);
    /* without the listing a new segment name could be debris's: only an
     * allocation failure is an error, the segment's O_EXCL catches the rest */
    if (!d) return errno == ENOMEM ? LODE_ENOMEM : 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        uint64_t g;
        int is_seg = parse_segment_name(e->d_name, &g);
        if (is_seg && g > *max_gen) *max_gen = g;
        int debris = strcmp(e->d_name, MANIFEST_NAME ".tmp") == 0 || (is_seg && !listed(&w->old, e->d_name));
        if (debris && w->have_old && seg_path(w, e->d_name, path, sizeof path, NULL) == 0) unlink(path);
    }
    closedir(d);
    return 0;
}

static int errno_fail(lode_error *err, int code, int e, const char *what, const char *path) {
    char msg[128];
    if (strerror_r(e, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", e);
    return lode_fail(err, code, "%s %s: %s", what, path, msg);
}

/* Does `path` still name the file open as `fd`? (Someone may have removed
 * or replaced it between our open() and flock(), or since.) */
static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Lock and empty BUNDLE.tmp. Opening, locking and checking that the name
 * still leads to the locked file is the usual dance: a writer that
 * finished in between has renamed the file we opened over the bundle. */
static int open_bundle(lode_writer *w, lode_error *err) {
    struct stat st;
    if (stat(w->dir, &st) == 0 && !S_ISREG(st.st_mode))
        return lode_fail(err, LODE_EINVAL, "%s exists and is not a file: a bundle is written as one file",
                         w->dir);
    size_t n = strlen(w->dir);
    w->tmp = lode_malloc(n + 5);
    if (!w->tmp) return lode_fail(err, LODE_ENOMEM, "out of memory");
    memcpy(w->tmp, w->dir, n);
    memcpy(w->tmp + n, ".tmp", 5);
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(w->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            int e = errno;
            return errno_fail(err, e == ENOENT ? LODE_ENOTFOUND : LODE_EIO, e, "cannot create", w->tmp);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);
            return lode_fail(err, LODE_ELOCKED, "%s is locked: another lode-index is writing this bundle", w->dir);
        }
        if (!same_file(fd, w->tmp)) {
            close(fd);
            continue;
        }
        if (ftruncate(fd, 0) != 0) {
            int e = errno;
            close(fd);
            return errno_fail(err, LODE_EIO, e, "cannot truncate", w->tmp);
        }
        w->lock_fd = fd;
        return 0;
    }
    return lode_fail(err, LODE_ELOCKED, "%s: the temporary file keeps changing: another writer?", w->dir);
}

int lode_writer_open(lode_writer **out, const char *path, const lode_writer_options *opts, lode_error *err) {
    *out = NULL;
    lode_writer_options defaults = LODE_WRITER_OPTIONS_INIT;
    if (!opts) opts = &defaults;
    if (!path || !*path) return lode_fail(err, LODE_EINVAL, "no index path given");
    if (opts->version < 1) return lode_fail(err, LODE_EINVAL, "lode_writer_options.version must be set");
    lode_writer *w = lode_calloc(1, sizeof *w);
    if (!w) return lode_fail(err, LODE_ENOMEM, "out of memory");
    w->lock_fd = -1;
    int rc = 0;
    w->dir = lode_strdup(path);
    if (!w->dir || inverter_init(&w->inv)) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto fail;
    }
    w->budget = opts->memory_budget ? opts->memory_budget : LODE_DEFAULT_MEMORY_BUDGET;
    w->on_event = opts->on_event;
    w->event_ctx = opts->event_ctx;
    w->max_filesize = LODE_MAX_DOC_BYTES;
    /* fields of version 2 exist only in a struct that says so */
    if (opts->version >= 2) {
        if ((opts->include_count && !opts->include_globs) || (opts->exclude_count && !opts->exclude_globs)) {
            rc = lode_fail(err, LODE_EINVAL, "a glob count without its array");
            goto fail;
        }
        for (size_t i = 0; i < opts->include_count && !rc; i++)
            rc = opts->include_globs[i] ? ignore_rules_add_glob(&w->include, opts->include_globs[i], err)
                                        : lode_fail(err, LODE_EINVAL, "NULL include glob");
        for (size_t i = 0; i < opts->exclude_count && !rc; i++)
            rc = opts->exclude_globs[i] ? ignore_rules_add_glob(&w->exclude, opts->exclude_globs[i], err)
                                        : lode_fail(err, LODE_EINVAL, "NULL exclude glob");
        if (rc) goto fail;
        if (opts->max_filesize && opts->max_filesize < w->max_filesize) w->max_filesize = opts->max_filesize;
        w->ignore_files = !(opts->flags & LODE_WRITER_NO_IGNORE_FILES);
        w->bundle = (opts->flags & LODE_WRITER_BUNDLE) != 0;
        w->one_segment = (opts->flags & (LODE_WRITER_ONE_SEGMENT | LODE_WRITER_BUNDLE)) != 0;
        w->inv.no_threads = (opts->flags & LODE_WRITER_NO_THREADS) != 0;
    }
    rc = analyzer_new(&w->an, opts->stemmer, err);
    if (rc) goto fail;
    if (w->bundle) {
        rc = open_bundle(w, err);
        if (rc) goto fail;
        snprintf(w->fresh.stemmer, sizeof w->fresh.stemmer, "%s", analyzer_stemmer_name(w->an));
        buf_init(&w->file);
        *out = w;
        return 0;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        char msg[128];
        int e = errno;
        if (strerror_r(e, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", e);
        rc = lode_fail(err, LODE_EIO, "cannot create index folder %s: %s", path, msg);
        goto fail;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = lode_fail(err, LODE_EINVAL, "%s exists and is not an index folder", path);
        goto fail;
    }
    char lock[4096];
    rc = seg_path(w, LOCK_NAME, lock, sizeof lock, err);
    if (rc) goto fail;
    w->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lock_fd < 0) {
        rc = lode_fail(err, LODE_EIO, "cannot create the lock file %s", lock);
        goto fail;
    }
    if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = lode_fail(err, LODE_ELOCKED, "%s is locked: another lode-index is writing this index", path);
        goto fail;
    }
    lode_error ignored;
    int mrc = manifest_read(&w->old, path, &ignored);
    if (mrc == LODE_ENOMEM) {
        /* not a damaged MANIFEST: going on would keep its segments forever */
        rc = lode_fail(err, LODE_ENOMEM, "out of memory reading the MANIFEST of %s", path);
        goto fail;
    }
    w->have_old = mrc == 0 || mrc == LODE_ENOTFOUND;
    uint64_t max_gen = mrc == 0 ? w->old.generation : 0;
    if (scan_folder(w, &max_gen)) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory listing %s", path);
        goto fail;
    }
    w->generation = max_gen + 1;
    snprintf(w->fresh.stemmer, sizeof w->fresh.stemmer, "%s", analyzer_stemmer_name(w->an));
    w->fresh.generation = w->generation;
    buf_init(&w->file);
    *out = w;
    return 0;
fail:
    lode_writer_free(w);
    return rc;
}

/* Write the buffer as the next segment of this generation. */
static int flush_segment(lode_writer *w, lode_error *err) {
    if (w->fresh.segment_count >= LODE_MAX_SEGMENTS) {
        /* a limit of the writer, not of the file being added: the walk
         * stops, and the commit fails with this message */
        w->segments_full = 1;
        return lode_fail(err, LODE_ELIMIT, "more than %d segments: raise the memory budget", LODE_MAX_SEGMENTS);
    }
    if (w->fresh.segment_count == w->fresh_cap) {
        uint32_t cap = w->fresh_cap ? w->fresh_cap * 2 : 8;
        manifest_segment *v = lode_realloc(w->fresh.segments, cap * sizeof *v);
        if (!v) return lode_fail(err, LODE_ENOMEM, "out of memory");
        w->fresh.segments = v;
        w->fresh_cap = cap;
    }
    manifest_segment *sg = &w->fresh.segments[w->fresh.segment_count];
    memset(sg, 0, sizeof *sg);
    snprintf(sg->name, sizeof sg->name, "seg-%08" PRIu64 "-%04u.lseg", w->generation % 100000000u,
             w->fresh.segment_count + 1);
    char path[4096];
    int rc = seg_path(w, sg->name, path, sizeof path, err);
    if (!rc) rc = segment_write(&w->inv, path, w->fresh.stemmer, &sg->header_crc, &sg->file_len, err);
    if (rc) {
        w->failed = 1;
        return rc;
    }
    sg->doc_count = w->inv.docs_n;
    w->stats.tokens_indexed += w->inv.tokens;
    w->fresh.segment_count++;
    w->stats.segments_written++;
    inverter_reset(&w->inv);
#ifdef __GLIBC__
    /* The buffer just freed, a budget's worth, stays in glibc's free lists
     * over the arenas of three threads, and the next buffer does not all
     * fit back into it: on the 1 GiB bench corpus the resident set at each
     * flush crept from 230 to 300 MB over six flushes. Given back, the peak
     * stays at the budget plus the segment write's own arrays (267 MiB for
     * a 256 MiB budget). */
    malloc_trim(0);
#endif
    emit(w, LODE_EVENT_SEGMENT_FLUSHED, path, "memory budget reached", sg->file_len);
    return 0;
}

static int add_bytes(lode_writer *w, const char *path, const uint8_t *data, size_t len, int64_t mtime,
                     lode_error *err) {
    if (w->failed || w->committed) return lode_fail(err, LODE_EINVAL, "writer can no longer add documents");
    int rc = inverter_add(&w->inv, w->an, path, data, len, mtime, err);
    if (rc) {
        if (rc != LODE_ELIMIT) w->failed = 1; /* the buffer may hold half a document */
        return rc;
    }
    w->stats.files_indexed++;
    w->stats.bytes_indexed += len;
    if (!w->one_segment && inverter_memory(&w->inv) + segment_write_memory(&w->inv) > w->budget)
        return flush_segment(w, err);
    return 0;
}

int lode_writer_add_document(lode_writer *w, const char *path, const void *data, size_t size, int64_t mtime,
                             lode_error *err) {
    if (!w || !path || !*path || (!data && size)) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (looks_binary(data, size)) return lode_fail(err, LODE_EINVAL, "%s looks binary (NUL byte)", path);
    return add_bytes(w, path, data, size, mtime, err);
}

typedef struct walk_ctx {
    lode_writer *w;
    lode_error *err;
    int fatal;
} walk_ctx;

static void on_warn(void *ctx, const char *path, const char *message) {
    walk_ctx *c = ctx;
    c->w->stats.files_skipped_error++;
    emit(c->w, LODE_EVENT_SKIPPED_ERROR, path, message, 0);
}

static int on_file(void *ctx, const source_file *f) {
    walk_ctx *c = ctx;
    lode_writer *w = c->w;
    lode_error e;
    memset(&e, 0, sizeof e);
    if (f->size > w->max_filesize) {
        /* a cheap check on the size the walk saw; source_read() checks
         * again on the open file, which may have grown since */
        char msg[128];
        snprintf(msg, sizeof msg, "%" PRIu64 " bytes, more than the limit of %" PRIu64, f->size,
                 w->max_filesize);
        w->stats.files_skipped_limit++;
        emit(w, LODE_EVENT_SKIPPED_LIMIT, f->path, msg, f->size);
        return 0;
    }
    int rc = source_read(f->path, w->max_filesize, 1, &w->file, &e);
    if (rc == LODE_ELIMIT) {
        w->stats.files_skipped_limit++;
        emit(w, LODE_EVENT_SKIPPED_LIMIT, f->path, e.message, f->size);
        return 0;
    }
    if (rc == LODE_ENOMEM) {
        c->fatal = lode_fail(c->err, rc, "out of memory reading %s", f->path);
        return rc;
    }
    if (rc) {
        w->stats.files_skipped_error++;
        emit(w, LODE_EVENT_SKIPPED_ERROR, f->path, e.message, f->size);
        return 0;
    }
    if (looks_binary(w->file.data, w->file.len)) {
        w->stats.files_skipped_binary++;
        /* a large one was read only as far as its first bytes */
        emit(w, LODE_EVENT_SKIPPED_BINARY, f->path, "binary file (NUL byte)",
             w->file.len > f->size ? w->file.len : f->size);
        return 0;
    }
    rc = add_bytes(w, f->path, w->file.data, w->file.len, f->mtime, c->err);
    if (rc == LODE_ELIMIT && !w->segments_full) { /* this file's limit: skip it */
        w->stats.files_skipped_limit++;
        emit(w, LODE_EVENT_SKIPPED_LIMIT, f->path, c->err ? c->err->message : "limit", w->file.len);
        return 0;
    }
    if (rc) {
        c->fatal = rc;
        return rc;
    }
    emit(w, LODE_EVENT_INDEXED, f->path, NULL, w->file.len);
    /* do not keep the largest file's buffer for the rest of the walk */
    if (w->file.cap > ((size_t)4 << 20)) buf_free(&w->file);
    return 0;
}

static void on_ignored(void *ctx, const char *path, const char *message) {
    walk_ctx *c = ctx;
    emit(c->w, LODE_EVENT_SKIPPED_IGNORED, path, message, 0);
}

static walk_options walk_options_of(const lode_writer *w) {
    walk_options o;
    memset(&o, 0, sizeof o);
    o.skip_dir = w->bundle ? NULL : w->dir;
    o.skip_file = w->tmp;
    o.include = &w->include;
    o.exclude = &w->exclude;
    o.ignore_files = w->ignore_files;
    o.on_ignored = on_ignored;
    return o;
}

int lode_writer_add_path(lode_writer *w, const char *path, lode_error *err) {
    if (!w || !path || !*path) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (w->failed || w->committed) return lode_fail(err, LODE_EINVAL, "writer can no longer add documents");
    walk_ctx c = {w, err, 0};
    walk_options o = walk_options_of(w);
    int rc = walk_path(path, &o, on_file, on_warn, &c, err);
    if (c.fatal) return c.fatal;
    return rc;
}

int lode_writer_add_index(lode_writer *w, lode_index *ix, lode_error *err) {
    if (!w || !ix) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (w->failed || w->committed) return lode_fail(err, LODE_EINVAL, "writer can no longer add documents");
    /* Re-analyse every document from its stored bytes, in index order
     * (segments in MANIFEST order, documents in id order): the order the
     * documents were first added in, so that the result is the segment
     * one writer without flushes would have written from the same files. */
    lode_buf path;
    buf_init(&path);
    int rc = 0;
    for (uint32_t si = 0; si < ix->seg_count && !rc; si++) {
        segment *s = ix->segs[si];
        for (uint32_t doc = 0; doc < s->doc_count && !rc; doc++) {
            doc_record d;
            doc_info info;
            rc = segment_doc(s, doc, &d, err);
            if (!rc) rc = segment_doc_info(s, doc, &d, &info, err);
            if (!rc) rc = segment_text(s, &d, 0, d.size, &w->file, err);
            if (rc) break;
            path.len = 0;
            buf_append(&path, info.path, info.path_len);
            buf_put_u8(&path, 0);
            if (path.rc) {
                rc = lode_fail(err, LODE_ENOMEM, "out of memory");
                break;
            }
            rc = add_bytes(w, (const char *)path.data, w->file.data, w->file.len, d.mtime, err);
            if (!rc) emit(w, LODE_EVENT_INDEXED, (const char *)path.data, NULL, w->file.len);
        }
    }
    buf_free(&path);
    if (w->file.cap > ((size_t)4 << 20)) buf_free(&w->file);
    /* some documents are in, some are not: such an index is never wanted */
    if (rc) w->failed = 1;
    return rc;
}

typedef struct count_ctx {
    uint64_t files;
    uint64_t bytes;
    uint64_t max_filesize;
} count_ctx;

static int count_file(void *ctx, const source_file *f) {
    count_ctx *c = ctx;
    c->files++;
    if (f->size <= c->max_filesize) c->bytes += f->size;
    return 0;
}

int lode_writer_count_path(lode_writer *w, const char *path, uint64_t *files, uint64_t *bytes, lode_error *err) {
    if (files) *files = 0;
    if (bytes) *bytes = 0;
    if (!w || !path || !*path || !files || !bytes) return lode_fail(err, LODE_EINVAL, "invalid argument");
    count_ctx c = {0, 0, w->max_filesize};
    walk_options o = walk_options_of(w);
    o.on_ignored = NULL;
    int rc = walk_path(path, &o, count_file, NULL, &c, err);
    *files = c.files;
    *bytes = c.bytes;
    return rc;
}

void lode_writer_get_stats(const lode_writer *w, lode_writer_stats *out) {
    memset(out, 0, sizeof *out);
    if (!w) return;
    *out = w->stats;
    out->tokens_indexed += w->inv.tokens;
}

/* The folder a path is in, for the fsync that makes a rename in it last. */
static char *parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return lode_strdup(".");
    if (slash == path) return lode_strdup("/");
    return lode_strndup(path, (size_t)(slash - path));
}

/* Write the buffer into BUNDLE.tmp (locked, empty), fsync, rename it over
 * the bundle, fsync the folder. */
static int commit_bundle(lode_writer *w, lode_error *err) {
    uint32_t crc;
    uint64_t len;
    char *dir = NULL;
    int rc = segment_write_fd(&w->inv, w->lock_fd, w->tmp, w->fresh.stemmer, &crc, &len, err);
    /* before the rename: after it, the commit has happened and only I/O may fail */
    if (!rc && !(dir = parent_dir(w->dir))) rc = lode_fail(err, LODE_ENOMEM, "out of memory");
    if (!rc && !same_file(w->lock_fd, w->tmp))
        rc = lode_fail(err, LODE_EIO, "%s was removed or replaced while the bundle was written", w->tmp);
    if (!rc && rename(w->tmp, w->dir) != 0) rc = errno_fail(err, LODE_EIO, errno, "cannot rename to", w->dir);
    if (rc) {
        lode_free(dir);
        w->failed = 1;
        return rc;
    }
    /* the bundle is in place; from here on the writer only reports */
    w->committed = 1;
    rc = fsync_dir(dir, err);
    lode_free(dir);
    w->stats.tokens_indexed += w->inv.tokens;
    w->stats.segments_written++;
    inverter_reset(&w->inv);
    emit(w, LODE_EVENT_SEGMENT_FLUSHED, w->dir, "bundle written", len);
    return rc;
}

int lode_writer_commit(lode_writer *w, lode_error *err) {
    if (!w) return lode_fail(err, LODE_EINVAL, "invalid argument");
    if (w->committed) return lode_fail(err, LODE_EINVAL, "writer already committed");
    if (w->failed) return lode_fail(err, LODE_EINVAL, "an earlier error left the writer unable to commit");
    if (w->bundle) return commit_bundle(w, err);
    int rc = 0;
    if (w->inv.docs_n > 0 || w->fresh.segment_count == 0) rc = flush_segment(w, err);
    if (rc) return rc;
    rc = fsync_dir(w->dir, err);
    if (!rc) rc = manifest_write(&w->fresh, w->dir, err);
    if (rc) {
        w->failed = 1;
        return rc;
    }
    w->committed = 1;
    /* The new MANIFEST is durable: the old segments are garbage now. A
     * reader that has one mapped keeps it until it closes the index. */
    char path[4096];
    for (uint32_t i = 0; i < w->old.segment_count; i++)
        if (!listed(&w->fresh, w->old.segments[i].name) &&
            seg_path(w, w->old.segments[i].name, path, sizeof path, NULL) == 0)
            unlink(path);
    return 0;
}

void lode_writer_free(lode_writer *w) {
    if (!w) return;
    if (w->bundle) {
        /* still ours while locked: nothing visible changed, remove it */
        if (!w->committed && w->lock_fd >= 0) unlink(w->tmp);
    } else if (!w->committed) {
        /* nothing visible changed; remove what this writer wrote */
        char path[4096];
        for (uint32_t i = 0; i < w->fresh.segment_count; i++)
            if (seg_path(w, w->fresh.segments[i].name, path, sizeof path, NULL) == 0) unlink(path);
    }
    if (w->lock_fd >= 0) close(w->lock_fd);
    analyzer_free(w->an);
    inverter_free(&w->inv);
    manifest_free(&w->old);
    manifest_free(&w->fresh);
    buf_free(&w->file);
    ignore_rules_free(&w->include);
    ignore_rules_free(&w->exclude);
    lode_free(w->tmp);
    lode_free(w->dir);
    lode_free(w);
}
