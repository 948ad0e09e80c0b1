/*
 * test_sources.c - walk_path(), source_read() and looks_binary() on real
 * trees built under a fresh mkdtemp() folder in /tmp, removed at the end:
 * the exact order of the walk, every skipped kind of folder, symlinks
 * (followed, looping, dangling), FIFOs, odd file names, files and folders
 * that vanish during the walk, deep trees, the read errors, and the
 * filters: globs, .gitignore and .ignore files (their precedence, the
 * repository boundary, the folders above the root).
 *
 * The tests also run as root (CI): permission bits do not stop root, so the
 * "cannot read" cases use other means there (a file that vanishes between
 * the walk and the read, a directory where a file is expected).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

enum { MAX_SEEN = 256 };

typedef struct seen {
    char *files[MAX_SEEN];
    uint64_t sizes[MAX_SEEN];
    int64_t mtimes[MAX_SEEN];
    size_t nfiles;
    char *warn_paths[MAX_SEEN];
    char *warn_msgs[MAX_SEEN];
    size_t nwarn;
    char *ign_paths[MAX_SEEN]; /* entries left out by a filter, and why */
    char *ign_msgs[MAX_SEEN];
    size_t nign;
    size_t stop_at;          /* return 42 on this file (1-based), 0 never */
    void (*on_first)(struct seen *); /* run once, on the first file */
    const char *root;                /* for on_first */
    int held_fd;                     /* for on_first */
} seen;

static int on_file(void *ctx, const source_file *f) {
    seen *s = ctx;
    if (s->nfiles < MAX_SEEN) {
        s->files[s->nfiles] = strdup(f->path);
        s->sizes[s->nfiles] = f->size;
        s->mtimes[s->nfiles] = f->mtime;
    }
    s->nfiles++;
    if (s->nfiles == 1 && s->on_first) s->on_first(s);
    return s->stop_at && s->nfiles == s->stop_at ? 42 : 0;
}

static void on_warn(void *ctx, const char *path, const char *message) {
    seen *s = ctx;
    if (s->nwarn < MAX_SEEN) {
        s->warn_paths[s->nwarn] = strdup(path);
        s->warn_msgs[s->nwarn] = strdup(message);
    }
    s->nwarn++;
}

static void on_ignored(void *ctx, const char *path, const char *message) {
    seen *s = ctx;
    if (s->nign < MAX_SEEN) {
        s->ign_paths[s->nign] = strdup(path);
        s->ign_msgs[s->nign] = strdup(message);
    }
    s->nign++;
}

static void seen_free(seen *s) {
    for (size_t i = 0; i < s->nfiles && i < MAX_SEEN; i++) free(s->files[i]);
    for (size_t i = 0; i < s->nign && i < MAX_SEEN; i++) {
        free(s->ign_paths[i]);
        free(s->ign_msgs[i]);
    }
    for (size_t i = 0; i < s->nwarn && i < MAX_SEEN; i++) {
        free(s->warn_paths[i]);
        free(s->warn_msgs[i]);
    }
    memset(s, 0, sizeof *s);
}

/* "dir/name" in a static-free way: the caller frees. */
static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) abort();
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static void write_file(const char *dir, const char *name, const char *content, size_t len) {
    char *p = join(dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, content, len) == (ssize_t)len);
        close(fd);
    }
    free(p);
}

static void make_dir(const char *dir, const char *name) {
    char *p = join(dir, name);
    CHECK(mkdir(p, 0755) == 0);
    free(p);
}

static void make_link(const char *target, const char *dir, const char *name) {
    char *p = join(dir, name);
    CHECK(symlink(target, p) == 0);
    free(p);
}

static char *make_tmp(void) {
    char *t = strdup("/tmp/lode_test_sources_XXXXXX");
    if (!t || !mkdtemp(t)) abort();
    return t;
}

/* Remove a tree without recursion and without paths: only one directory
 * descriptor is open at a time and the way back up is "..", so trees deeper
 * than PATH_MAX go away too. */
static void remove_tree(const char *root) {
    int cur = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur < 0) {
        unlink(root);
        return;
    }
    char **names = NULL;
    size_t depth = 0, cap = 0;
    for (;;) {
        int fd = openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
            if (fd >= 0) close(fd);
            break;
        }
        char *child = NULL;
        int removed = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            struct stat st;
            if (fstatat(cur, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (S_ISDIR(st.st_mode)) {
                child = strdup(e->d_name);
                break;
            }
            if (unlinkat(cur, e->d_name, 0) == 0) removed = 1;
        }
        closedir(d);
        if (child) {
            fchmodat(cur, child, 0700, 0);
            int sub = openat(cur, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                free(child);
                break;
            }
            if (depth == cap) {
                cap = cap ? cap * 2 : 64;
                names = realloc(names, cap * sizeof *names);
                if (!names) abort();
            }
            names[depth++] = child;
            close(cur);
            cur = sub;
            continue;
        }
        if (removed) continue; /* readdir may skip entries while we unlink */
        if (depth == 0) break;
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(cur);
        cur = parent;
        char *name = names[--depth];
        if (cur >= 0) unlinkat(cur, name, AT_REMOVEDIR);
        free(name);
        if (cur < 0) break;
    }
    if (cur >= 0) close(cur);
    while (depth > 0) free(names[--depth]);
    free(names);
    CHECK(rmdir(root) == 0);
}

/* A chain of `levels` folders named "d" under dir/name, with a file at the
 * bottom; built with *at() calls so it may go beyond PATH_MAX. */
static void make_deep(const char *dir, const char *name, int levels) {
    char *p = join(dir, name);
    CHECK(mkdir(p, 0755) == 0);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(p);
    REQUIRE(fd >= 0);
    for (int i = 0; i < levels; i++) {
        if (mkdirat(fd, "d", 0755) != 0) break;
        int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        fd = sub;
        if (fd < 0) return;
    }
    int f = openat(fd, "leaf.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CHECK(f >= 0);
    if (f >= 0) {
        CHECK(write(f, "deep", 4) == 4);
        close(f);
    }
    close(fd);
}

static int contains(const char *haystack, const char *needle) {
    return haystack && strstr(haystack, needle) != NULL;
}

/* ------------------------------------------------------------------------ */
/* Walking                                                                  */
/* ------------------------------------------------------------------------ */

TEST(walk_sorted_depth_first_with_skips_links_and_odd_names) {
    char *tmp = make_tmp();
    char *root = join(tmp, "root");
    CHECK(mkdir(root, 0755) == 0);

    write_file(root, "B.txt", "upper", 5);
    write_file(root, "a.txt", "lower", 5);
    write_file(root, ".hidden.txt", "dot files are indexed", 21);
    make_dir(root, "a");
    char *a = join(root, "a");
    write_file(a, "z.txt", "z", 1);
    make_dir(a, "sub");
    char *sub = join(a, "sub");
    write_file(sub, "deep.txt", "deep", 4);
    make_dir(root, ".git");
    char *git = join(root, ".git");
    write_file(git, "config", "[core]", 6);
    make_dir(root, "idx.lode");
    char *idx = join(root, "idx.lode");
    write_file(idx, "MANIFEST", "LODEMAN1\0\0\0\1", 12);
    write_file(idx, "data.txt", "inside an index", 15);
    make_dir(root, "notidx");
    char *notidx = join(root, "notidx");
    write_file(notidx, "MANIFEST", "LODEMAN", 7); /* too short: not an index */
    write_file(notidx, "m.txt", "m", 1);
    make_dir(root, "out");
    char *out = join(root, "out");
    write_file(out, "x.txt", "the index being written", 23);
    make_link("a.txt", root, "link_file");
    make_link("a/sub", root, "linkdir");
    make_dir(root, "cycle");
    char *cycle = join(root, "cycle");
    write_file(cycle, "c.txt", "c", 1);
    make_link("..", cycle, "back");
    make_link("does-not-exist", root, "dangling");
    char *fifo = join(root, "fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
    write_file(root, "new\nline.txt", "n", 1);
    write_file(root, "bad\xff\xfe.txt", "b", 1);

    /* skip_dir spelled differently from the walk: compared by identity */
    char *skip = join(root, "./out/");
    seen s;
    memset(&s, 0, sizeof s);
    /* a FIFO opened by the walk would block this call forever */
    int rc = walk_path(root, &(walk_options){.skip_dir = skip}, on_file, on_warn, &s, NULL);
    CHECK_EQ_U64(rc, 0);

    const char *expect[] = {".hidden.txt", "B.txt",        "a/sub/deep.txt",    "a/z.txt",
                            "a.txt",       "bad\xff\xfe.txt", "cycle/c.txt",    "link_file",
                            "linkdir/deep.txt", "new\nline.txt", "notidx/MANIFEST", "notidx/m.txt"};
    size_t n = sizeof expect / sizeof expect[0];
    CHECK_EQ_U64(s.nfiles, n);
    for (size_t i = 0; i < n && i < s.nfiles; i++) {
        char *want = join(root, expect[i]);
        CHECK_STR(s.files[i], want);
        free(want);
    }
    /* sizes come from the target of a followed link */
    CHECK_EQ_U64(s.sizes[7], 5);

    REQUIRE(s.nwarn == 3);
    char *w0 = join(cycle, "back"), *w1 = join(root, "dangling");
    CHECK_STR(s.warn_paths[0], w0);
    CHECK_STR(s.warn_msgs[0], "symbolic link loop, not followed");
    CHECK_STR(s.warn_paths[1], w1);
    CHECK_STR(s.warn_msgs[1], "broken symbolic link");
    CHECK_STR(s.warn_paths[2], fifo);
    CHECK_STR(s.warn_msgs[2], "not a regular file, skipped");
    free(w0);
    free(w1);
    seen_free(&s);

    /* without skip_dir, "out" is walked; a missing skip_dir is ignored */
    char *missing = join(tmp, "not-yet-created.lode");
    rc = walk_path(root, &(walk_options){.skip_dir = missing}, on_file, on_warn, &s, NULL);
    CHECK_EQ_U64(rc, 0);
    CHECK_EQ_U64(s.nfiles, n + 1);
    char *outx = join(out, "x.txt");
    if (s.nfiles == n + 1) CHECK_STR(s.files[n], outx);
    free(outx);
    free(missing);
    seen_free(&s);

    /* the walk is identical every time */
    seen s2;
    memset(&s, 0, sizeof s);
    memset(&s2, 0, sizeof s2);
    walk_path(root, &(walk_options){.skip_dir = skip}, on_file, on_warn, &s, NULL);
    walk_path(root, &(walk_options){.skip_dir = skip}, on_file, on_warn, &s2, NULL);
    CHECK_EQ_U64(s.nfiles, s2.nfiles);
    for (size_t i = 0; i < s.nfiles && i < s2.nfiles; i++) CHECK_STR(s.files[i], s2.files[i]);
    seen_free(&s);
    seen_free(&s2);

    free(skip);
    free(fifo);
    free(cycle);
    free(out);
    free(notidx);
    free(idx);
    free(git);
    free(sub);
    free(a);
    free(root);
    remove_tree(tmp);
    free(tmp);
}

TEST(root_is_kept_as_typed) {
    char *tmp = make_tmp();
    write_file(tmp, "x.txt", "x", 1);
    size_t n = strlen(tmp);
    char *slash = malloc(n + 2);
    REQUIRE(slash != NULL);
    memcpy(slash, tmp, n);
    memcpy(slash + n, "/", 2);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(slash, NULL, on_file, on_warn, &s, NULL), 0);
    char *want = join(tmp, "x.txt");
    REQUIRE(s.nfiles == 1);
    CHECK_STR(s.files[0], want); /* one '/', not two */
    seen_free(&s);

    /* "." gives "./x.txt" */
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(here >= 0);
    CHECK(chdir(tmp) == 0);
    CHECK_EQ_U64(walk_path(".", NULL, on_file, on_warn, &s, NULL), 0);
    CHECK(fchdir(here) == 0);
    close(here);
    CHECK_EQ_U64(s.nfiles, 1);
    if (s.nfiles == 1) CHECK_STR(s.files[0], "./x.txt");
    seen_free(&s);
    free(want);
    free(slash);
    remove_tree(tmp);
    free(tmp);
}

TEST(root_may_be_a_single_file) {
    char *tmp = make_tmp();
    write_file(tmp, "one.txt", "hello world", 11);
    char *path = join(tmp, "one.txt");
    struct stat st;
    CHECK(stat(path, &st) == 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(path, NULL, on_file, on_warn, &s, NULL), 0);
    REQUIRE(s.nfiles == 1);
    CHECK_STR(s.files[0], path);
    CHECK_EQ_U64(s.sizes[0], 11);
    CHECK_EQ_U64(s.mtimes[0], (int64_t)st.st_mtime);
    CHECK_EQ_U64(s.nwarn, 0);
    seen_free(&s);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

TEST(missing_root_is_not_found) {
    char *tmp = make_tmp();
    char *path = join(tmp, "nothing-here");
    lode_error err;
    memset(&err, 0, sizeof err);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(path, NULL, on_file, on_warn, &s, &err), (uint64_t)LODE_ENOTFOUND);
    CHECK_EQ_U64(err.code, (uint64_t)LODE_ENOTFOUND);
    CHECK(contains(err.message, path));
    CHECK_EQ_U64(s.nfiles, 0);

    /* a root that is a dangling symlink says so */
    make_link("gone", tmp, "link");
    char *link = join(tmp, "link");
    CHECK_EQ_U64(walk_path(link, NULL, on_file, on_warn, &s, &err), (uint64_t)LODE_ENOTFOUND);
    CHECK(contains(err.message, link));
    CHECK(contains(err.message, "broken symbolic link"));
    seen_free(&s);
    free(link);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

TEST(root_that_is_an_index_is_not_entered) {
    char *tmp = make_tmp();
    write_file(tmp, "MANIFEST", "LODEMAN1 rest", 13);
    write_file(tmp, "seg.txt", "x", 1);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    CHECK_EQ_U64(s.nfiles, 0);
    CHECK_EQ_U64(s.nwarn, 1);
    seen_free(&s);
    remove_tree(tmp);
    free(tmp);
}

TEST(manifest_fifo_does_not_block_the_walk) {
    char *tmp = make_tmp();
    char *m = join(tmp, "MANIFEST");
    CHECK(mkfifo(m, 0644) == 0);
    write_file(tmp, "f.txt", "f", 1);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    CHECK_EQ_U64(s.nfiles, 1);
    REQUIRE(s.nwarn == 1);
    CHECK_STR(s.warn_paths[0], m);
    seen_free(&s);
    free(m);
    remove_tree(tmp);
    free(tmp);
}

TEST(root_that_is_a_fifo_or_a_device_is_an_error) {
    char *tmp = make_tmp();
    char *fifo = join(tmp, "fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
    lode_error err;
    memset(&err, 0, sizeof err);
    seen s;
    memset(&s, 0, sizeof s);
    /* nothing there can be indexed: an error, as for a root that cannot
     * be read, not a warning and an empty index */
    CHECK_EQ_U64(walk_path(fifo, NULL, on_file, on_warn, &s, &err), (uint64_t)LODE_EIO);
    CHECK(contains(err.message, fifo));
    CHECK(contains(err.message, "not a regular file or a folder"));
    if (access("/dev/null", F_OK) == 0) {
        CHECK_EQ_U64(walk_path("/dev/null", NULL, on_file, on_warn, &s, &err), (uint64_t)LODE_EIO);
        CHECK(contains(err.message, "/dev/null"));
    }
    CHECK_EQ_U64(s.nfiles, 0);
    CHECK_EQ_U64(s.nwarn, 0);
    seen_free(&s);
    free(fifo);
    remove_tree(tmp);
    free(tmp);
}

TEST(callback_value_stops_the_walk) {
    char *tmp = make_tmp();
    write_file(tmp, "1.txt", "1", 1);
    make_dir(tmp, "2");
    char *two = join(tmp, "2");
    write_file(two, "a.txt", "a", 1);
    write_file(two, "b.txt", "b", 1);
    write_file(tmp, "3.txt", "3", 1);
    seen s;
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 42);
    CHECK_EQ_U64(s.nfiles, 2);
    seen_free(&s);
    free(two);
    remove_tree(tmp);
    free(tmp);
}

/* Entries that disappear after the folder was listed: the callback on the
 * first file removes the others. */
static void vanish_others(seen *s) {
    char *b = join(s->root, "b");
    char *bx = join(b, "x.txt");
    char *c = join(s->root, "c.txt");
    CHECK(unlink(bx) == 0);
    CHECK(rmdir(b) == 0);
    CHECK(unlink(c) == 0);
    free(b);
    free(bx);
    free(c);
}

TEST(entries_vanishing_during_the_walk_are_warned) {
    char *tmp = make_tmp();
    write_file(tmp, "a.txt", "a", 1);
    make_dir(tmp, "b");
    char *b = join(tmp, "b");
    write_file(b, "x.txt", "x", 1);
    write_file(tmp, "c.txt", "c", 1);
    seen s;
    memset(&s, 0, sizeof s);
    s.on_first = vanish_others;
    s.root = tmp;
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    CHECK_EQ_U64(s.nfiles, 1);
    REQUIRE(s.nwarn == 2);
    char *c = join(tmp, "c.txt");
    CHECK_STR(s.warn_paths[0], b);
    CHECK_STR(s.warn_msgs[0], "vanished while indexing");
    CHECK_STR(s.warn_paths[1], c);
    CHECK_STR(s.warn_msgs[1], "vanished while indexing");
    free(c);
    seen_free(&s);
    free(b);
    remove_tree(tmp);
    free(tmp);
}

/* Takes the last file descriptor the process may open, so that the walk
 * cannot open the next folder. */
static void take_last_fd(seen *s) { s->held_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(unreadable_folder_is_warned_with_the_reason) {
    char *tmp = make_tmp();
    write_file(tmp, "a.txt", "a", 1);
    make_dir(tmp, "locked");
    char *locked = join(tmp, "locked");
    write_file(locked, "secret.txt", "s", 1);
    seen s;
    memset(&s, 0, sizeof s);
    if (geteuid() != 0) {
        CHECK(chmod(locked, 0) == 0);
        CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
        CHECK(chmod(locked, 0755) == 0);
        CHECK_EQ_U64(s.nfiles, 1);
        REQUIRE(s.nwarn == 1);
        CHECK_STR(s.warn_paths[0], locked);
        CHECK(contains(s.warn_msgs[0], strerror(EACCES)));
    } else {
        /* root opens any folder whatever its mode: run out of file
         * descriptors instead. The limit allows exactly the lowest free
         * one, which the walk uses for the root folder and closes; the
         * callback on a.txt then takes it, and "locked" cannot be opened. */
        int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
        REQUIRE(probe >= 0);
        close(probe);
        struct rlimit old, low;
        REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
        low = old;
        low.rlim_cur = (rlim_t)probe + 1;
        REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
        s.on_first = take_last_fd;
        s.held_fd = -1;
        int rc = walk_path(tmp, NULL, on_file, on_warn, &s, NULL);
        CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
        CHECK_EQ_U64(rc, 0);
        CHECK(s.held_fd == probe);
        if (s.held_fd >= 0) close(s.held_fd);
        CHECK_EQ_U64(s.nfiles, 1);
        REQUIRE(s.nwarn == 1);
        CHECK_STR(s.warn_paths[0], locked);
        CHECK(contains(s.warn_msgs[0], strerror(EMFILE)));
    }
    seen_free(&s);
    free(locked);
    remove_tree(tmp);
    free(tmp);
}

TEST(deep_tree_is_walked_without_recursion) {
    char *tmp = make_tmp();
    make_deep(tmp, "deep", 2000);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    CHECK_EQ_U64(s.nwarn, 0);
    REQUIRE(s.nfiles == 1);
    size_t want = strlen(tmp) + strlen("/deep") + 2000 * 2 + strlen("/leaf.txt");
    CHECK_EQ_U64(strlen(s.files[0]), want);
    CHECK(contains(s.files[0], "/d/d/d/leaf.txt"));
    seen_free(&s);

    /* 10 000 levels: past PATH_MAX the entry cannot be reached by a path
     * (nor read later), which is one warning; nothing overflows */
    make_deep(tmp, "deeper", 10000);
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    CHECK_EQ_U64(s.nfiles, 1);
    CHECK_EQ_U64(s.nwarn, 1);
    seen_free(&s);
    remove_tree(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------ */
/* Filters                                                                  */
/* ------------------------------------------------------------------------ */

/* The files seen, relative to `root`, one a line: easy to compare whole. */
static char *relative_list(const seen *s, const char *root) {
    size_t n = strlen(root), cap = 1;
    for (size_t i = 0; i < s->nfiles && i < MAX_SEEN; i++) cap += strlen(s->files[i]) + 1;
    char *out = calloc(1, cap), *p = out;
    if (!out) abort();
    for (size_t i = 0; i < s->nfiles && i < MAX_SEEN; i++) {
        const char *f = s->files[i];
        if (strncmp(f, root, n) == 0 && f[n] == '/') f += n + 1;
        p += snprintf(p, cap - (size_t)(p - out), "%s\n", f);
    }
    return out;
}

/* Walk `root` with `o` and compare the files seen with `want`. */
static void expect_walk(const char *root, walk_options *o, const char *want, seen *s) {
    memset(s, 0, sizeof *s);
    o->on_ignored = on_ignored;
    CHECK_EQ_U64(walk_path(root, o, on_file, on_warn, s, NULL), 0);
    char *got = relative_list(s, root);
    CHECK_STR(got, want);
    free(got);
}

static void add_globs(ignore_rules *r, const char *const *globs) {
    if (ignore_rules_init(r, NULL)) abort();
    for (; *globs; globs++) CHECK_EQ_U64(ignore_rules_add_glob(r, *globs, NULL), 0);
}

TEST(globs_include_files_and_exclude_files_and_folders) {
    char *tmp = make_tmp();
    write_file(tmp, "a.txt", "a", 1);
    write_file(tmp, "b.md", "b", 1);
    make_dir(tmp, "docs");
    char *docs = join(tmp, "docs");
    write_file(docs, "c.md", "c", 1);
    write_file(docs, "d.txt", "d", 1);
    make_dir(tmp, "build");
    char *build = join(tmp, "build");
    write_file(build, "x.md", "x", 1);

    ignore_rules inc, exc;
    add_globs(&inc, (const char *const[]){"*.md", NULL});
    add_globs(&exc, (const char *const[]){"build/", NULL});
    walk_options o = {NULL, &inc, &exc, 0, NULL, NULL};
    seen s;
    expect_walk(tmp, &o, "b.md\ndocs/c.md\n", &s);
    /* each entry left out is named once, with the reason; "build" is not
     * entered, so x.md is not even looked at */
    REQUIRE(s.nign == 3);
    char *a = join(tmp, "a.txt"), *d = join(docs, "d.txt");
    CHECK_STR(s.ign_paths[0], a);
    CHECK_STR(s.ign_msgs[0], "matches no include glob");
    CHECK_STR(s.ign_paths[1], build);
    CHECK_STR(s.ign_msgs[1], "excluded by glob 'build/'");
    CHECK_STR(s.ign_paths[2], d);
    seen_free(&s);
    ignore_rules_free(&inc);
    ignore_rules_free(&exc);

    /* a glob with '/' is anchored at the root; exclusion wins */
    add_globs(&inc, (const char *const[]){"docs/*", "b.md", NULL});
    add_globs(&exc, (const char *const[]){"*.txt", NULL});
    expect_walk(tmp, &o, "b.md\ndocs/c.md\n", &s);
    seen_free(&s);

    /* a file named as the root is reported whatever the globs */
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(a, &o, on_file, on_warn, &s, NULL), 0);
    REQUIRE(s.nfiles == 1);
    CHECK_STR(s.files[0], a);
    seen_free(&s);
    ignore_rules_free(&inc);
    ignore_rules_free(&exc);

    /* empty rule sets leave everything in */
    ignore_rules none;
    add_globs(&none, (const char *const[]){NULL});
    walk_options all = {NULL, &none, &none, 0, NULL, NULL};
    expect_walk(tmp, &all, "a.txt\nb.md\nbuild/x.md\ndocs/c.md\ndocs/d.txt\n", &s);
    CHECK_EQ_U64(s.nign, 0);
    seen_free(&s);
    ignore_rules_free(&none);
    free(a);
    free(d);
    free(docs);
    free(build);
    remove_tree(tmp);
    free(tmp);
}

/* tmp/repo: a git repository with ignore files at several levels. */
static char *make_repo(const char *tmp) {
    make_dir(tmp, "repo");
    char *repo = join(tmp, "repo");
    make_dir(repo, ".git");
    write_file(repo, ".gitignore", "*.log\nbuild/\n", 13);
    write_file(repo, ".ignore", "secret.txt\n", 11);
    write_file(repo, "a.txt", "a", 1);
    write_file(repo, "a.log", "a", 1);
    write_file(repo, "secret.txt", "s", 1);
    make_link("nowhere", repo, "dangling.log");
    make_dir(repo, "build");
    char *p = join(repo, "build");
    write_file(p, "b.txt", "b", 1);
    free(p);
    make_dir(repo, "sub");
    p = join(repo, "sub");
    write_file(p, ".gitignore", "!important.log\n", 15);
    write_file(p, "important.log", "i", 1);
    write_file(p, "other.log", "o", 1);
    free(p);
    /* .ignore beats .gitignore, even from a shallower folder's .gitignore */
    make_dir(repo, "sub2");
    p = join(repo, "sub2");
    write_file(p, ".ignore", "!*.log\n", 7);
    write_file(p, "x.log", "x", 1);
    free(p);
    /* a repository inside: the outer .gitignore stops at its top */
    make_dir(repo, "nested");
    p = join(repo, "nested");
    make_dir(p, ".git");
    write_file(p, "n.log", "n", 1);
    free(p);
    return repo;
}

TEST(ignore_files_follow_gitignore_with_ripgrep_precedence) {
    char *tmp = make_tmp();
    char *repo = make_repo(tmp);
    walk_options o = {NULL, NULL, NULL, 1, NULL, NULL};
    seen s;
    expect_walk(repo, &o,
                ".gitignore\n.ignore\na.txt\nnested/n.log\nsub/.gitignore\nsub/important.log\n"
                "sub2/.ignore\nsub2/x.log\n",
                &s);
    /* the ignored dangling link is no warning */
    CHECK_EQ_U64(s.nwarn, 0);
    char *alog = join(repo, "a.log"), *gi = join(repo, ".gitignore");
    char want[4096];
    snprintf(want, sizeof want, "ignored by %s:1: *.log", gi);
    REQUIRE(s.nign >= 1);
    CHECK_STR(s.ign_paths[0], alog);
    CHECK_STR(s.ign_msgs[0], want);
    seen_free(&s);

    /* off: every file but the .git folders */
    o.ignore_files = 0;
    expect_walk(repo, &o,
                ".gitignore\n.ignore\na.log\na.txt\nbuild/b.txt\nnested/n.log\nsecret.txt\n"
                "sub/.gitignore\nsub/important.log\nsub/other.log\nsub2/.ignore\nsub2/x.log\n",
                &s);
    CHECK_EQ_U64(s.nwarn, 1); /* the dangling link */
    CHECK_EQ_U64(s.nign, 0);
    seen_free(&s);

    /* the rules of the folders above the root apply: repo/.gitignore
     * excludes sub/other.log, sub/.gitignore brings important.log back */
    o.ignore_files = 1;
    char *sub = join(repo, "sub");
    expect_walk(sub, &o, ".gitignore\nimportant.log\n", &s);
    seen_free(&s);
    free(sub);
    free(alog);
    free(gi);
    free(repo);
    remove_tree(tmp);
    free(tmp);
}

TEST(gitignore_counts_only_inside_a_repository) {
    char *tmp = make_tmp();
    write_file(tmp, ".gitignore", "*.log\n", 6);
    write_file(tmp, ".ignore", "*.tmp\n", 6);
    write_file(tmp, "a.log", "a", 1);
    write_file(tmp, "b.tmp", "b", 1);
    write_file(tmp, "c.txt", "c", 1);
    walk_options o = {NULL, NULL, NULL, 1, NULL, NULL};
    seen s;
    expect_walk(tmp, &o, ".gitignore\n.ignore\na.log\nc.txt\n", &s);
    seen_free(&s);
    /* ".git" may be a file (worktrees, submodules): still a repository */
    write_file(tmp, ".git", "gitdir: elsewhere\n", 18);
    expect_walk(tmp, &o, ".git\n.gitignore\n.ignore\nc.txt\n", &s);
    seen_free(&s);
    remove_tree(tmp);
    free(tmp);
}

TEST(an_oversized_ignore_file_is_a_warning_and_not_applied) {
    char *tmp = make_tmp();
    size_t n = (size_t)LODE_MAX_IGNORE_BYTES + 1;
    char *big = malloc(n);
    REQUIRE(big != NULL);
    memset(big, '#', n);
    memcpy(big, "*.txt\n", 6);
    write_file(tmp, ".ignore", big, n);
    write_file(tmp, "a.txt", "a", 1);
    walk_options o = {NULL, NULL, NULL, 1, NULL, NULL};
    seen s;
    expect_walk(tmp, &o, ".ignore\na.txt\n", &s);
    REQUIRE(s.nwarn == 1);
    char *ig = join(tmp, ".ignore");
    CHECK_STR(s.warn_paths[0], ig);
    CHECK(contains(s.warn_msgs[0], "ignore rules not read"));
    CHECK(contains(s.warn_msgs[0], "limit"));
    free(ig);
    free(big);
    seen_free(&s);
    remove_tree(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

TEST(read_replaces_the_buffer_with_the_file) {
    char *tmp = make_tmp();
    write_file(tmp, "f.txt", "hello\nworld", 11);
    char *path = join(tmp, "f.txt");
    lode_buf b;
    buf_init(&b);
    buf_append(&b, "junk junk junk junk", 19);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, NULL), 0);
    CHECK_EQ_U64(b.len, 11);
    CHECK(b.len == 11 && memcmp(b.data, "hello\nworld", 11) == 0);

    /* a larger file than the first allocation guess */
    size_t big = 300000;
    char *data = malloc(big);
    REQUIRE(data != NULL);
    for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 23);
    write_file(tmp, "big.txt", data, big);
    char *bigp = join(tmp, "big.txt");
    CHECK_EQ_U64(source_read(bigp, big, 0, &b, NULL), 0);
    CHECK_EQ_U64(b.len, big);
    CHECK(b.len == big && memcmp(b.data, data, big) == 0);

    /* an empty file reads as nothing */
    write_file(tmp, "empty.txt", "", 0);
    char *emptyp = join(tmp, "empty.txt");
    CHECK_EQ_U64(source_read(emptyp, 1000, 0, &b, NULL), 0);
    CHECK_EQ_U64(b.len, 0);
    buf_free(&b);
    free(data);
    free(bigp);
    free(emptyp);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

/* With sniffing on, a large file whose first BINARY_SNIFF_BYTES hold a NUL
 * is read no further (a disk image costs one small read, not its size);
 * one with the NUL just past them, or a small file, is read whole. */
TEST(read_with_sniff_stops_at_a_binary_start) {
    char *tmp = make_tmp();
    size_t big = (size_t)1 << 20;
    char *data = malloc(big);
    REQUIRE(data != NULL);
    lode_buf b;
    buf_init(&b);
    const size_t nul_at[] = {0, BINARY_SNIFF_BYTES - 1, BINARY_SNIFF_BYTES, big - 1};
    for (size_t k = 0; k < sizeof nul_at / sizeof nul_at[0]; k++) {
        for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 23);
        data[nul_at[k]] = 0;
        write_file(tmp, "f.bin", data, big);
        char *path = join(tmp, "f.bin");
        int binary = nul_at[k] < BINARY_SNIFF_BYTES;
        CHECK_EQ_U64(source_read(path, big, 1, &b, NULL), 0);
        CHECK_EQ_U64(b.len, binary ? BINARY_SNIFF_BYTES : big);
        CHECK(memcmp(b.data, data, b.len) == 0);
        CHECK_EQ_U64(looks_binary(b.data, b.len), binary);
        /* without sniffing the whole file, whatever it holds */
        CHECK_EQ_U64(source_read(path, big, 0, &b, NULL), 0);
        CHECK_EQ_U64(b.len, big);
        free(path);
    }
    /* a small binary file is read whole in one call: cheaper than two */
    write_file(tmp, "small.bin", "\0abc", 4);
    char *small = join(tmp, "small.bin");
    CHECK_EQ_U64(source_read(small, 1000, 1, &b, NULL), 0);
    CHECK_EQ_U64(b.len, 4);
    CHECK(looks_binary(b.data, b.len));
    /* the size limit is checked before any byte is read */
    char *path = join(tmp, "f.bin");
    lode_error err;
    CHECK_EQ_U64(source_read(path, big - 1, 1, &b, &err), (uint64_t)LODE_ELIMIT);
    free(path);
    free(small);
    buf_free(&b);
    free(data);
    remove_tree(tmp);
    free(tmp);
}

TEST(read_of_a_missing_file_is_not_found) {
    char *tmp = make_tmp();
    char *path = join(tmp, "missing.txt");
    lode_buf b;
    buf_init(&b);
    lode_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), (uint64_t)LODE_ENOTFOUND);
    CHECK(contains(err.message, path));
    CHECK_EQ_U64(b.len, 0);
    buf_free(&b);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

TEST(read_over_the_limit_is_refused) {
    char *tmp = make_tmp();
    char hundred[100];
    memset(hundred, 'h', sizeof hundred);
    write_file(tmp, "h.txt", hundred, sizeof hundred);
    char *path = join(tmp, "h.txt");
    lode_buf b;
    buf_init(&b);
    lode_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(source_read(path, 99, 0, &b, &err), (uint64_t)LODE_ELIMIT);
    CHECK(contains(err.message, path));
    CHECK_EQ_U64(b.len, 0);
    CHECK_EQ_U64(source_read(path, 100, 0, &b, &err), 0);
    CHECK_EQ_U64(b.len, 100);
    CHECK_EQ_U64(source_read(path, UINT64_MAX, 0, &b, &err), 0);
    CHECK_EQ_U64(b.len, 100);
    buf_free(&b);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

/* The walk saw one size; by the time the file is read it has another. The
 * read takes the file as it is then, within the limit. */
TEST(read_takes_a_file_changed_since_the_walk_as_it_is_now) {
    char *tmp = make_tmp();
    char hundred[100];
    memset(hundred, 'h', sizeof hundred);
    write_file(tmp, "f.txt", hundred, sizeof hundred);
    char *path = join(tmp, "f.txt");
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
    REQUIRE(s.nfiles == 1);
    CHECK_EQ_U64(s.sizes[0], 100);
    lode_buf b;
    buf_init(&b);
    lode_error err;
    memset(&err, 0, sizeof err);
    /* truncated */
    CHECK(truncate(path, 10) == 0);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), 0);
    CHECK(b.len == 10 && memcmp(b.data, hundred, 10) == 0);
    /* grown, within the limit */
    CHECK(truncate(path, 600) == 0);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), 0);
    CHECK_EQ_U64(b.len, 600);
    /* grown past the limit */
    CHECK(truncate(path, 5000) == 0);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), (uint64_t)LODE_ELIMIT);
    CHECK(contains(err.message, path));
    CHECK(contains(err.message, "5000 bytes, more than the limit of 1000"));
    CHECK_EQ_U64(b.len, 0);
    /* replaced by a FIFO: refused at once, not read forever */
    CHECK(unlink(path) == 0);
    CHECK(mkfifo(path, 0644) == 0);
    CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), (uint64_t)LODE_EIO);
    CHECK(contains(err.message, "not a regular file"));
    /* a file whose size says 0 and holds more (/proc): read to its end, or
     * refused one byte past the limit */
    struct stat st;
    if (stat("/proc/self/status", &st) == 0 && st.st_size == 0) {
        CHECK_EQ_U64(source_read("/proc/self/status", 1 << 20, 0, &b, &err), 0);
        CHECK(b.len > 100 && memcmp(b.data, "Name:", 5) == 0);
        CHECK_EQ_U64(source_read("/proc/self/status", 100, 0, &b, &err), (uint64_t)LODE_ELIMIT);
        CHECK(contains(err.message, "grew beyond the limit of 100 bytes while read"));
        CHECK_EQ_U64(b.len, 0);
    }
    buf_free(&b);
    seen_free(&s);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

TEST(read_refuses_fifos_and_folders_without_blocking) {
    char *tmp = make_tmp();
    char *fifo = join(tmp, "fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
    lode_buf b;
    buf_init(&b);
    lode_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_U64(source_read(fifo, 1000, 0, &b, &err), (uint64_t)LODE_EIO);
    CHECK(contains(err.message, fifo));
    CHECK_EQ_U64(source_read(tmp, 1000, 0, &b, &err), (uint64_t)LODE_EIO);
    CHECK(contains(err.message, tmp));
    buf_free(&b);
    free(fifo);
    remove_tree(tmp);
    free(tmp);
}

TEST(unreadable_file_is_an_error_naming_the_path) {
    char *tmp = make_tmp();
    write_file(tmp, "f.txt", "content", 7);
    char *path = join(tmp, "f.txt");
    lode_buf b;
    buf_init(&b);
    lode_error err;
    memset(&err, 0, sizeof err);
    if (geteuid() != 0) {
        CHECK(chmod(path, 0) == 0);
        CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), (uint64_t)LODE_EIO);
        CHECK(contains(err.message, path));
        CHECK(contains(err.message, strerror(EACCES)));
        CHECK(chmod(path, 0644) == 0);
    } else {
        /* root reads a chmod 000 file: make the read fail another way. The
         * walk reports the file, then it vanishes before the read. */
        seen s;
        memset(&s, 0, sizeof s);
        CHECK_EQ_U64(walk_path(tmp, NULL, on_file, on_warn, &s, NULL), 0);
        REQUIRE(s.nfiles == 1);
        CHECK_STR(s.files[0], path);
        CHECK(unlink(path) == 0);
        CHECK_EQ_U64(source_read(s.files[0], 1000, 0, &b, &err), (uint64_t)LODE_ENOTFOUND);
        CHECK(contains(err.message, path));
        CHECK(contains(err.message, strerror(ENOENT)));
        seen_free(&s);
        /* and a file replaced by a dangling symlink */
        make_link("elsewhere", tmp, "f.txt");
        CHECK_EQ_U64(source_read(path, 1000, 0, &b, &err), (uint64_t)LODE_ENOTFOUND);
        CHECK(contains(err.message, path));
    }
    CHECK_EQ_U64(b.len, 0);
    buf_free(&b);
    free(path);
    remove_tree(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------ */
/* Binary sniffing                                                          */
/* ------------------------------------------------------------------------ */

TEST(binary_means_a_nul_within_the_sniff_window) {
    uint8_t *d = malloc(BINARY_SNIFF_BYTES + 100);
    REQUIRE(d != NULL);
    memset(d, 'a', BINARY_SNIFF_BYTES + 100);
    CHECK(!looks_binary(d, BINARY_SNIFF_BYTES + 100));
    d[100] = 0;
    CHECK(looks_binary(d, 200));
    CHECK(!looks_binary(d, 100)); /* the NUL is past the data */
    d[100] = 'a';
    d[BINARY_SNIFF_BYTES - 1] = 0;
    CHECK(looks_binary(d, BINARY_SNIFF_BYTES + 100));
    d[BINARY_SNIFF_BYTES - 1] = 'a';
    d[BINARY_SNIFF_BYTES] = 0;
    CHECK(!looks_binary(d, BINARY_SNIFF_BYTES + 100));
    CHECK(!looks_binary(d, 0));
    CHECK(!looks_binary(NULL, 0));
    free(d);
}

TEST_MAIN(TEST_CASE(walk_sorted_depth_first_with_skips_links_and_odd_names),
          TEST_CASE(root_is_kept_as_typed),
          TEST_CASE(root_may_be_a_single_file),
          TEST_CASE(missing_root_is_not_found),
          TEST_CASE(root_that_is_an_index_is_not_entered),
          TEST_CASE(manifest_fifo_does_not_block_the_walk),
          TEST_CASE(root_that_is_a_fifo_or_a_device_is_an_error),
          TEST_CASE(callback_value_stops_the_walk),
          TEST_CASE(entries_vanishing_during_the_walk_are_warned),
          TEST_CASE(unreadable_folder_is_warned_with_the_reason),
          TEST_CASE(deep_tree_is_walked_without_recursion),
          TEST_CASE(globs_include_files_and_exclude_files_and_folders),
          TEST_CASE(ignore_files_follow_gitignore_with_ripgrep_precedence),
          TEST_CASE(gitignore_counts_only_inside_a_repository),
          TEST_CASE(an_oversized_ignore_file_is_a_warning_and_not_applied),
          TEST_CASE(read_replaces_the_buffer_with_the_file),
          TEST_CASE(read_with_sniff_stops_at_a_binary_start),
          TEST_CASE(read_of_a_missing_file_is_not_found),
          TEST_CASE(read_over_the_limit_is_refused),
          TEST_CASE(read_takes_a_file_changed_since_the_walk_as_it_is_now),
          TEST_CASE(read_refuses_fifos_and_folders_without_blocking),
          TEST_CASE(unreadable_file_is_an_error_naming_the_path),
          TEST_CASE(binary_means_a_nul_within_the_sniff_window))
