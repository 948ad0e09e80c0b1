/*
 * sources.c - where documents come from: walking a file or a folder tree in
 * a stable order, reading one file into memory, and sniffing binary data.
 * Called by the writer (lode_writer_add_path): walk_path() reports every
 * regular file, the writer reads it with source_read() and skips it when
 * looks_binary() says so.
 *
 * The walk keeps its own stack of folders on the heap instead of recursing,
 * so that a tree thousands of levels deep cannot overflow the C stack. Each
 * folder is read completely, sorted and closed before its entries are
 * visited: only one directory descriptor is open at a time whatever the
 * depth, and the order of the files (hence the index bytes) is the same on
 * every machine and file system.
 *
 * Filters (walk_options): globs, and the rules of .ignore and .gitignore
 * files (ignore.c). Each folder's listing is searched for those files and
 * for ".git" (a repository's top), so a tree without them costs nothing
 * more. Where rules come from, and which wins, follows ripgrep:
 *  - the folders above the root are read too (indexing "repo/src" honours
 *    repo/.gitignore), but an unreadable ignore file there is passed over
 *    silently: it is not part of what was asked for;
 *  - .gitignore files count only inside a git repository (a folder with a
 *    ".git" at or above it), and only up to its top: a .gitignore outside
 *    any repository means nothing to git either. .ignore files count
 *    everywhere: they are the tool-neutral way to say "not this";
 *  - the deepest rule set that has a matching rule decides, and any .ignore
 *    match beats any .gitignore match; a negated rule ("!x") re-includes;
 *  - a folder that is left out is not entered, so nothing below it can be
 *    re-included (git works the same way);
 *  - --exclude globs come first and win over everything; --include globs
 *    narrow the files further but never bring back an ignored one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer.h"

/* ------------------------------------------------------------------------ */
/* Error text                                                               */
/* ------------------------------------------------------------------------ */

/* strerror() is not thread-safe. The project builds strerror_r in its XSI
 * form (returns int); _Generic picks the right handling should a build ever
 * get the GNU form (returns char *) instead, so that it stays correct. */
static const char *errtext_xsi(int rc, char *buf) { return rc == 0 ? buf : "unknown error"; }
static const char *errtext_gnu(const char *msg, char *buf) { return msg ? msg : buf; }

static const char *errno_text(int e, char *buf, size_t n) {
    buf[0] = '\0';
    return _Generic(strerror_r(e, buf, n), int: errtext_xsi, default: errtext_gnu)(
        strerror_r(e, buf, n), buf);
}

/* ------------------------------------------------------------------------ */
/* The walker                                                               */
/* ------------------------------------------------------------------------ */

/* One folder on the current path from the root, with its sorted entries. */
typedef struct walk_dir {
    char **names;    /* sorted bytewise; point into pool */
    uint8_t *pool;   /* the names, NUL-terminated, one after the other */
    size_t count;
    size_t next;     /* next entry to visit */
    size_t path_len; /* length of this folder's path in walker.path */
    dev_t dev;       /* identity, to recognize a symlink loop */
    ino_t ino;
} walk_dir;

/* The ignore rules of one folder that has an ignore file or a ".git". */
typedef struct ignore_frame {
    size_t owner;           /* 1 + index in walker.dirs of its folder; 0: a folder above the root */
    size_t base_len;        /* length of the folder's path in walker.path (owner > 0) */
    char *prefix;           /* owner 0: the root's path relative to the folder, e.g.
                               "src/lib"; owned */
    ignore_rules ignore;    /* .ignore; empty when there is none */
    ignore_rules gitignore; /* .gitignore; empty when there is none */
    int has_git;            /* the folder holds ".git": the top of a repository */
} ignore_frame;

typedef struct walker {
    lode_buf path; /* the current path, always NUL-terminated */
    walk_dir *dirs;
    size_t depth;
    size_t cap;
    int have_skip; /* skip_dir exists */
    dev_t skip_dev;
    ino_t skip_ino;
    int have_skip_file; /* skip_file exists */
    dev_t skip_file_dev;
    ino_t skip_file_ino;
    walk_file_fn on_file;
    walk_warn_fn on_warn;
    void *ctx;
    lode_error *err;
    walk_options opts;
    size_t root_len;       /* length of the root folder's path in walker.path */
    ignore_frame *frames;  /* shallowest first */
    size_t nframes;
    size_t frames_cap;
    size_t git_frames;     /* frames with has_git */
    lode_buf rel;          /* scratch: a path relative to a folder above the root */
    lode_buf file;         /* scratch: an ignore file's text */
} walker;

static void warn(walker *w, const char *path, const char *message) {
    if (w->on_warn) w->on_warn(w->ctx, path, message);
}

static void warn_errno(walker *w, const char *path, const char *what, int e) {
    char ebuf[128], msg[256];
    const char *reason = errno_text(e, ebuf, sizeof ebuf);
    if (what)
        snprintf(msg, sizeof msg, "%s: %s", what, reason);
    else
        snprintf(msg, sizeof msg, "%s", reason);
    warn(w, path, msg);
}

static void dir_free(walk_dir *d) {
    lode_free(d->names);
    lode_free(d->pool);
    memset(d, 0, sizeof *d);
}

/* Set walker.path to its first `len` bytes followed by "/name". */
static int path_join(walker *w, size_t len, const char *name) {
    w->path.len = len;
    /* the root is kept as typed: "corpus/" gives "corpus/a.txt", not "//" */
    if (len > 0 && w->path.data[len - 1] != '/') buf_put_u8(&w->path, '/');
    buf_append(&w->path, name, strlen(name) + 1);
    if (w->path.rc) return lode_fail(w->err, LODE_ENOMEM, "out of memory walking a folder");
    w->path.len--; /* the NUL stays in place but is not counted */
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    /* strcmp compares as unsigned char: a bytewise order, whatever the locale */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder holds a lode index when it has a MANIFEST starting with the
 * format's magic. Opened non-blocking: a FIFO named MANIFEST must not hang
 * the walk; only a regular file counts. */
static int holds_index(int dirfd_) {
    static const char magic[8] = {'L', 'O', 'D', 'E', 'M', 'A', 'N', '1'};
    int fd = openat(dirfd_, "MANIFEST", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return 0;
    struct stat st;
    int found = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        char head[8];
        size_t got = 0;
        while (got < sizeof head) {
            ssize_t n = read(fd, head + got, sizeof head - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += (size_t)n;
        }
        found = got == sizeof head && memcmp(head, magic, sizeof head) == 0;
    }
    close(fd);
    return found;
}

/* Read the entries of the folder at walker.path into `d`, sorted. On a
 * failure to open, *open_errno is set and 0 returned; on a failure in the
 * middle of the listing, *read_errno is set and the entries read so far are
 * kept. *is_index tells whether the folder holds a lode index. Returns 0 or
 * LODE_ENOMEM. */
static int read_folder(walker *w, walk_dir *d, struct stat *st, int *open_errno, int *read_errno,
                       int *is_index) {
    const char *path = (const char *)w->path.data;
    /* O_DIRECTORY: if the folder was swapped for a FIFO since stat(), fail
     * at once instead of blocking in open(). */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *open_errno = errno;
        return 0;
    }
    if (fstat(fd, st) != 0) {
        *open_errno = errno;
        close(fd);
        return 0;
    }
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int e = errno;
        close(fd);
        /* the folder is fine, its listing buffer could not be allocated */
        if (e == ENOMEM) return lode_fail(w->err, LODE_ENOMEM, "%s: out of memory listing the folder", path);
        *open_errno = e;
        return 0;
    }
    lode_buf pool;
    buf_init(&pool);
    size_t count = 0;
    int has_manifest = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            if (errno) *read_errno = errno;
            break;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        if (strcmp(name, "MANIFEST") == 0) has_manifest = 1;
        buf_append(&pool, name, strlen(name) + 1);
        count++;
    }
    *is_index = pool.rc == 0 && has_manifest && holds_index(dirfd(dir));
    closedir(dir);
    if (pool.rc || count > SIZE_MAX / sizeof(char *)) {
        buf_free(&pool);
        return lode_fail(w->err, LODE_ENOMEM, "%s: out of memory listing the folder", path);
    }
    char **names = lode_malloc(count * sizeof *names);
    if (!names) {
        buf_free(&pool);
        return lode_fail(w->err, LODE_ENOMEM, "%s: out of memory listing the folder", path);
    }
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        names[i] = (char *)pool.data + at;
        at += strlen(names[i]) + 1;
    }
    qsort(names, count, sizeof *names, cmp_names);
    d->names = names;
    d->pool = pool.data;
    d->count = count;
    d->next = 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Ignore files and globs                                                   */
/* ------------------------------------------------------------------------ */

static void frame_free(ignore_frame *f) {
    ignore_rules_free(&f->ignore);
    ignore_rules_free(&f->gitignore);
    lode_free(f->prefix);
}

static int push_frame(walker *w, ignore_frame *f) {
    if (w->nframes == w->frames_cap) {
        size_t cap = w->frames_cap ? w->frames_cap * 2 : 8;
        ignore_frame *v = cap > SIZE_MAX / sizeof *v ? NULL : lode_realloc(w->frames, cap * sizeof *v);
        if (!v) {
            frame_free(f);
            return lode_fail(w->err, LODE_ENOMEM, "out of memory reading ignore files");
        }
        w->frames = v;
        w->frames_cap = cap;
    }
    w->frames[w->nframes++] = *f;
    if (f->has_git) w->git_frames++;
    return 0;
}

/* Read the ignore file at `path` into `r`. A missing file is no rules; a
 * file that cannot be read is a warning when `warn_failure` (inside the
 * tree), else passed over. Returns 0 or LODE_ENOMEM. */
static int load_rules(walker *w, ignore_rules *r, const char *path, int warn_failure) {
    lode_error e;
    memset(&e, 0, sizeof e);
    int rc = source_read(path, LODE_MAX_IGNORE_BYTES, 0, &w->file, &e);
    if (rc == LODE_ENOTFOUND) return 0;
    if (rc == LODE_ENOMEM) return lode_fail(w->err, rc, "%s: out of memory", path);
    if (rc) {
        if (warn_failure) {
            /* source_read names the file first; the warning names it already */
            size_t n = strlen(path);
            const char *why = strncmp(e.message, path, n) == 0 && e.message[n] == ':' ? e.message + n + 2
                                                                                     : e.message;
            char msg[sizeof e.message + 32];
            snprintf(msg, sizeof msg, "ignore rules not read: %s", why);
            warn(w, path, msg);
        }
        return 0;
    }
    if (ignore_rules_init(r, path) || ignore_rules_parse(r, (const char *)w->file.data, w->file.len))
        return lode_fail(w->err, LODE_ENOMEM, "%s: out of memory", path);
    /* ignore files are small; do not keep a large one's buffer */
    if (w->file.cap > 65536) buf_free(&w->file);
    return 0;
}

static int has_name(const walk_dir *d, const char *name) {
    return d->count > 0 && bsearch(&name, d->names, d->count, sizeof *d->names, cmp_names) != NULL;
}

/* The folder just entered is dirs[owner - 1] at walker.path: push a frame
 * when it holds an ignore file or ".git". */
static int load_frame(walker *w, const walk_dir *d, size_t owner) {
    int git = has_name(d, ".git"), gi = has_name(d, ".gitignore"), ig = has_name(d, ".ignore");
    if (!git && !gi && !ig) return 0;
    ignore_frame f;
    memset(&f, 0, sizeof f);
    f.owner = owner;
    f.base_len = d->path_len;
    f.has_git = git;
    int rc = 0;
    if (gi && !(rc = path_join(w, d->path_len, ".gitignore")))
        rc = load_rules(w, &f.gitignore, (const char *)w->path.data, 1);
    if (!rc && ig && !(rc = path_join(w, d->path_len, ".ignore")))
        rc = load_rules(w, &f.ignore, (const char *)w->path.data, 1);
    /* back to the folder's own path */
    w->path.len = d->path_len;
    if (w->path.data) w->path.data[d->path_len] = '\0';
    if (rc) {
        frame_free(&f);
        return rc;
    }
    return push_frame(w, &f);
}

/* The folders above a root folder, from "/" down: their ignore files count
 * for the tree (ripgrep reads them too). Best effort: a path that cannot be
 * resolved only means no rules from above. */
static int load_parent_frames(walker *w, const char *root) {
    char real[PATH_MAX], path[PATH_MAX + 16];
    if (!realpath(root, real) || strcmp(real, "/") == 0) return 0;
    size_t n = strlen(real);
    /* each '/' of real ends the name of a folder above the root */
    for (size_t at = 0; at < n; at++) {
        if (real[at] != '/') continue;
        size_t len = at == 0 ? 1 : at; /* "/" itself, then "/home", "/home/u"... */
        const char *prefix = real + at + 1;
        ignore_frame f;
        memset(&f, 0, sizeof f);
        struct stat st;
        snprintf(path, sizeof path, "%.*s/.git", (int)(at == 0 ? 0 : len), real);
        f.has_git = lstat(path, &st) == 0;
        snprintf(path, sizeof path, "%.*s/.gitignore", (int)(at == 0 ? 0 : len), real);
        int rc = load_rules(w, &f.gitignore, path, 0);
        snprintf(path, sizeof path, "%.*s/.ignore", (int)(at == 0 ? 0 : len), real);
        if (!rc) rc = load_rules(w, &f.ignore, path, 0);
        if (!rc && !f.has_git && f.gitignore.count == 0 && f.ignore.count == 0) {
            frame_free(&f);
            continue;
        }
        if (!rc && !(f.prefix = lode_strdup(prefix))) rc = lode_fail(w->err, LODE_ENOMEM, "out of memory");
        if (rc) {
            frame_free(&f);
            return rc;
        }
        rc = push_frame(w, &f);
        if (rc) return rc;
    }
    return 0;
}

/* The path of the current entry relative to the folder of frame `f`, given
 * `root_rel`, its path relative to the root. NULL when out of memory. */
static const char *frame_relative(walker *w, const ignore_frame *f, const char *root_rel) {
    if (f->owner) {
        const char *p = (const char *)w->path.data + f->base_len;
        return *p == '/' ? p + 1 : p;
    }
    w->rel.len = 0;
    buf_append(&w->rel, f->prefix, strlen(f->prefix));
    buf_put_u8(&w->rel, '/');
    buf_append(&w->rel, root_rel, strlen(root_rel) + 1);
    return w->rel.rc ? NULL : (const char *)w->rel.data;
}

static void note_ignored(walker *w, const char *message) {
    if (w->opts.on_ignored) w->opts.on_ignored(w->ctx, (const char *)w->path.data, message);
}

/* Is the entry at walker.path (a folder when is_dir) left out by the
 * filters? 1 yes (on_ignored was told why), 0 no, or LODE_ENOMEM. */
static int filtered(walker *w, int is_dir) {
    const char *root_rel = (const char *)w->path.data + w->root_len;
    if (*root_rel == '/') root_rel++;
    const ignore_rule *r = ignore_rules_match(w->opts.exclude, root_rel, is_dir);
    char msg[1024];
    if (r) {
        snprintf(msg, sizeof msg, "excluded by glob '%s'", r->text);
        note_ignored(w, msg);
        return 1;
    }
    if (!is_dir && w->opts.include && w->opts.include->count > 0 &&
        !ignore_rules_match(w->opts.include, root_rel, 0)) {
        note_ignored(w, "matches no include glob");
        return 1;
    }
    /* .ignore rules of every level first, deepest first; then .gitignore
     * rules, within the innermost repository only */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && w->git_frames == 0) break;
        for (size_t i = w->nframes; i-- > 0;) {
            const ignore_frame *f = &w->frames[i];
            const ignore_rules *rules = pass == 0 ? &f->ignore : &f->gitignore;
            if (rules->count > 0) {
                const char *rel = frame_relative(w, f, root_rel);
                if (!rel) return lode_fail(w->err, LODE_ENOMEM, "out of memory matching ignore rules");
                r = ignore_rules_match(rules, rel, is_dir);
                if (r && r->negated) return 0;
                if (r) {
                    snprintf(msg, sizeof msg, "ignored by %s:%u: %s", rules->source, (unsigned)r->line,
                             r->text);
                    note_ignored(w, msg);
                    return 1;
                }
            }
            if (pass == 1 && f->has_git) break;
        }
    }
    return 0;
}

/* Enter the folder at walker.path, which stat() described as `st`: check
 * that it is not the skipped folder, not a loop and not an index, list it
 * and push it on the stack. Problems are warnings, except for the root,
 * which the caller asked for by name. */
static int enter_folder(walker *w, const struct stat *st, int is_root) {
    const char *path = (const char *)w->path.data;
    if (w->have_skip && st->st_dev == w->skip_dev && st->st_ino == w->skip_ino) {
        if (is_root) warn(w, path, "the index being written, not entered");
        return 0;
    }
    for (size_t i = 0; i < w->depth; i++) {
        if (w->dirs[i].dev == st->st_dev && w->dirs[i].ino == st->st_ino) {
            warn(w, path, "symbolic link loop, not followed");
            return 0;
        }
    }
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        walk_dir *dirs = cap > SIZE_MAX / sizeof *dirs ? NULL : lode_realloc(w->dirs, cap * sizeof *dirs);
        if (!dirs) return lode_fail(w->err, LODE_ENOMEM, "%s: out of memory walking the folder", path);
        w->dirs = dirs;
        w->cap = cap;
    }
    walk_dir d;
    memset(&d, 0, sizeof d);
    struct stat opened;
    int open_errno = 0, read_errno = 0, is_index = 0;
    int rc = read_folder(w, &d, &opened, &open_errno, &read_errno, &is_index);
    if (rc) return rc;
    if (open_errno) {
        char ebuf[128];
        if (is_root)
            return lode_fail(w->err, open_errno == ENOENT ? LODE_ENOTFOUND : LODE_EIO, "%s: %s", path,
                             errno_text(open_errno, ebuf, sizeof ebuf));
        if (open_errno == ENOENT)
            warn(w, path, "vanished while indexing");
        else
            warn_errno(w, path, "cannot open folder", open_errno);
        return 0;
    }
    if (opened.st_dev != st->st_dev || opened.st_ino != st->st_ino) {
        /* replaced between stat() and open(): the checks above were made on
         * another folder, so do not trust this one */
        dir_free(&d);
        warn(w, path, "changed while indexing, skipped");
        return 0;
    }
    if (read_errno) warn_errno(w, path, "error reading folder", read_errno);
    if (is_index) {
        dir_free(&d);
        if (is_root) warn(w, path, "a lode index, not entered");
        return 0;
    }
    d.path_len = w->path.len;
    d.dev = st->st_dev;
    d.ino = st->st_ino;
    w->dirs[w->depth++] = d;
    return w->opts.ignore_files ? load_frame(w, &w->dirs[w->depth - 1], w->depth) : 0;
}

static int report_file(walker *w, const struct stat *st) {
    if (!w->on_file) return 0;
    if (w->have_skip_file && st->st_dev == w->skip_file_dev && st->st_ino == w->skip_file_ino) return 0;
    source_file f;
    f.path = (const char *)w->path.data;
    f.size = (uint64_t)st->st_size;
    f.mtime = (int64_t)st->st_mtime;
    return w->on_file(w->ctx, &f);
}

/* A stat() of an entry failed with `e`: say why in words a user knows. */
static void warn_stat(walker *w, int e) {
    const char *path = (const char *)w->path.data;
    struct stat lst;
    if (e == ENOENT) {
        if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
            warn(w, path, "broken symbolic link");
        else
            warn(w, path, "vanished while indexing");
    } else if (e == ELOOP) {
        /* links that point at each other: the kernel gave up resolving */
        warn(w, path, "symbolic link loop, not followed");
    } else {
        warn_errno(w, path, NULL, e);
    }
}

static int is_vcs_folder(const char *name) {
    return strcmp(name, ".git") == 0 || strcmp(name, ".hg") == 0 || strcmp(name, ".svn") == 0;
}

/* Visit entry `name` of the folder whose path is the first `parent_len`
 * bytes of walker.path. */
static int visit(walker *w, size_t parent_len, const char *name) {
    int rc = path_join(w, parent_len, name);
    if (rc) return rc;
    struct stat st;
    /* stat, not lstat: symlinks are followed (loops are caught by identity) */
    if (stat((const char *)w->path.data, &st) != 0) {
        int e = errno;
        /* an ignored broken link is no news */
        rc = filtered(w, 0);
        if (rc == 0) warn_stat(w, e);
        return rc < 0 ? rc : 0;
    }
    int is_dir = S_ISDIR(st.st_mode);
    if (is_dir && is_vcs_folder(name)) return 0;
    rc = filtered(w, is_dir);
    if (rc) return rc < 0 ? rc : 0;
    if (S_ISREG(st.st_mode)) return report_file(w, &st);
    if (is_dir) return enter_folder(w, &st, 0);
    /* FIFOs, sockets, devices: opening a FIFO would block the walk */
    warn(w, (const char *)w->path.data, "not a regular file, skipped");
    return 0;
}

static void pop_folder(walker *w) {
    size_t owner = w->depth;
    while (w->nframes > 0 && w->frames[w->nframes - 1].owner == owner) {
        ignore_frame *f = &w->frames[--w->nframes];
        if (f->has_git) w->git_frames--;
        frame_free(f);
    }
    dir_free(&w->dirs[--w->depth]);
}

int walk_path(const char *root, const walk_options *opts, walk_file_fn on_file, walk_warn_fn on_warn,
              void *ctx, lode_error *err) {
    walker w;
    memset(&w, 0, sizeof w);
    buf_init(&w.path);
    buf_init(&w.rel);
    buf_init(&w.file);
    if (opts) w.opts = *opts;
    const char *skip_dir = w.opts.skip_dir;
    w.on_file = on_file;
    w.on_warn = on_warn;
    w.ctx = ctx;
    w.err = err;
    if (!root || !root[0]) return lode_fail(err, LODE_ENOTFOUND, "no path given to index");

    struct stat st;
    /* the index may not exist yet on its first run: then nothing to skip */
    if (skip_dir && stat(skip_dir, &st) == 0) {
        w.have_skip = 1;
        w.skip_dev = st.st_dev;
        w.skip_ino = st.st_ino;
    }
    if (w.opts.skip_file && stat(w.opts.skip_file, &st) == 0) {
        w.have_skip_file = 1;
        w.skip_file_dev = st.st_dev;
        w.skip_file_ino = st.st_ino;
    }

    if (stat(root, &st) != 0) {
        int e = errno;
        char ebuf[128];
        struct stat lst;
        if (e == ENOENT && lstat(root, &lst) == 0 && S_ISLNK(lst.st_mode))
            return lode_fail(err, LODE_ENOTFOUND, "%s: broken symbolic link", root);
        return lode_fail(err, e == ENOENT || e == ENOTDIR ? LODE_ENOTFOUND : LODE_EIO, "%s: %s",
                         root, errno_text(e, ebuf, sizeof ebuf));
    }
    buf_append(&w.path, root, strlen(root) + 1);
    if (w.path.rc) return lode_fail(err, LODE_ENOMEM, "out of memory walking %s", root);
    w.path.len--;

    int rc = 0;
    if (S_ISREG(st.st_mode)) {
        rc = report_file(&w, &st);
    } else if (S_ISDIR(st.st_mode)) {
        w.root_len = w.path.len;
        if (w.opts.ignore_files) rc = load_parent_frames(&w, root);
        if (!rc) rc = enter_folder(&w, &st, 1);
        /* depth first: always continue with the deepest open folder */
        while (rc == 0 && w.depth > 0) {
            walk_dir *d = &w.dirs[w.depth - 1];
            if (d->next == d->count) {
                pop_folder(&w);
                continue;
            }
            /* `d` may move when visit() pushes a folder; the name lives in
             * d->pool, which does not */
            const char *name = d->names[d->next++];
            rc = visit(&w, d->path_len, name);
        }
    } else {
        /* a FIFO, socket or device named as the root: nothing that can be
         * indexed, so an error like a root that cannot be read (a FIFO
         * found inside a folder is only a warning, in visit()) */
        rc = lode_fail(err, LODE_EIO, "%s: not a regular file or a folder", root);
    }
    while (w.depth > 0) pop_folder(&w);
    while (w.nframes > 0) frame_free(&w.frames[--w.nframes]);
    lode_free(w.frames);
    lode_free(w.dirs);
    buf_free(&w.path);
    buf_free(&w.rel);
    buf_free(&w.file);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading one file                                                         */
/* ------------------------------------------------------------------------ */

static int read_fail(lode_buf *out, int fd, lode_error *err, const char *path, int e) {
    char ebuf[128];
    out->len = 0;
    if (fd >= 0) close(fd);
    return lode_fail(err, e == ENOENT || e == ENOTDIR ? LODE_ENOTFOUND : LODE_EIO, "%s: %s", path,
                     errno_text(e, ebuf, sizeof ebuf));
}

/* Files at least this large are sniffed before the rest is read (and
 * before memory is taken for all of it): a disk image or a video in the
 * tree costs one 8 KiB read, not its size. Smaller files are read in one
 * call, which is cheaper than two for the many small files of a corpus. */
#define SNIFF_FIRST_MIN_BYTES (256u << 10)

/* Read into out->data + out->len until it holds `want` bytes or the file
 * ends: 0, or errno. */
static int read_upto(int fd, lode_buf *out, size_t want) {
    while (out->len < want) {
        ssize_t n = read(fd, out->data + out->len, want - out->len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    return 0;
}

int source_read(const char *path, uint64_t max_bytes, int sniff, lode_buf *out, lode_error *err) {
    /* replace, not append; a previous failure of this buffer is forgotten */
    out->len = 0;
    out->rc = 0;
    int fd;
    /* O_NONBLOCK: a FIFO swapped in since the walk must not block open();
     * fstat below then refuses it */
    do fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return read_fail(out, -1, err, path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) return read_fail(out, fd, err, path, errno);
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lode_fail(err, LODE_EIO, "%s: not a regular file", path);
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return lode_fail(err, LODE_ELIMIT, "%s: %llu bytes, more than the limit of %llu", path,
                         (unsigned long long)st.st_size, (unsigned long long)max_bytes);
    }

    /* Read up to one byte past the limit: the file may have grown since
     * fstat, and that extra byte is how we notice. */
    size_t limit = max_bytes >= SIZE_MAX - 1 ? SIZE_MAX - 2 : (size_t)max_bytes;
    size_t expect = (size_t)st.st_size;
    if (sniff && expect >= SNIFF_FIRST_MIN_BYTES && limit > BINARY_SNIFF_BYTES) {
        if (buf_reserve(out, BINARY_SNIFF_BYTES)) {
            close(fd);
            out->len = 0;
            return lode_fail(err, LODE_ENOMEM, "%s: out of memory reading the file", path);
        }
        int e = read_upto(fd, out, BINARY_SNIFF_BYTES);
        if (e) return read_fail(out, fd, err, path, e);
        if (looks_binary(out->data, out->len)) {
            close(fd);
            return 0;
        }
    }
    /* an exact first allocation: buf_reserve would round a 600 MB file up
     * to 1 GB */
    if (out->cap < expect + 1) {
        uint8_t *data = lode_realloc(out->data, expect + 1);
        if (data) {
            out->data = data;
            out->cap = expect + 1;
        }
    }
    if (buf_reserve(out, expect + 1)) {
        close(fd);
        out->len = 0;
        return lode_fail(err, LODE_ENOMEM, "%s: out of memory for %zu bytes", path, expect);
    }
    for (;;) {
        if (out->cap == out->len && buf_reserve(out, out->cap < 65536 ? 65536 : out->cap)) {
            close(fd);
            out->len = 0;
            return lode_fail(err, LODE_ENOMEM, "%s: out of memory reading the file", path);
        }
        size_t want = out->cap - out->len;
        if (want > limit + 1 - out->len) want = limit + 1 - out->len;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30; /* read() beyond SSIZE_MAX is undefined */
        ssize_t n = read(fd, out->data + out->len, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            return read_fail(out, fd, err, path, errno);
        }
        if (n == 0) break;
        out->len += (size_t)n;
        if (out->len > limit) {
            close(fd);
            out->len = 0;
            return lode_fail(err, LODE_ELIMIT, "%s: grew beyond the limit of %llu bytes while read",
                             path, (unsigned long long)max_bytes);
        }
    }
    close(fd);
    return 0;
}

int looks_binary(const uint8_t *data, size_t len) {
    if (len > BINARY_SNIFF_BYTES) len = BINARY_SNIFF_BYTES;
    return len > 0 && memchr(data, 0, len) != NULL;
}
