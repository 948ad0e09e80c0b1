/*
 * test_alloc_fail.c - allocation-failure sweeps over the public API (curl's
 * torture mode, SQLite's fault simulation): the allocations a scenario
 * makes are failed in turn, and each run must end in one of two ways only:
 * the call that met the failure returns LODE_ENOMEM (nothing else, with
 * `err` filled and *out NULL), or the call copes and its answer is exactly
 * the reference answer. Either way nothing leaks (memory, file descriptors,
 * mappings), nothing is printed, and an index on disk is byte for byte the
 * one before the run or, when the commit returned 0, the reference one
 * after (the format is reproducible, so bytes are the strictest oracle).
 *
 * How: this executable defines malloc, calloc, realloc, free and the
 * aligned allocators, forwarding to glibc's __libc_* functions. Every
 * allocation of the process goes through them, the library's and those of
 * zlib, utf8proc, libstemmer and glibc itself (opendir, qsort...): all of
 * them can fail in a real program, so all of them are swept. Allocations
 * are counted only inside a scenario's window (between arm() and
 * disarm()), where stdout and stderr go to a file that must stay empty.
 * Pointers handed out inside the window are kept in a hash set until freed:
 * whatever is left once the scenario has freed everything is a leak,
 * reported with its allocation number.
 *
 * Each scenario runs twice without a failure (its reference, and a check
 * that the count N of allocations is the same both times), then:
 *   mode "once"  for every k in 1..N, with the k-th allocation failed and
 *                the later ones succeeding (recovery paths run);
 *   mode "from"  with every allocation from the k-th on failed (the paths
 *                behind a retry or a fallback run, and cleanup that would
 *                allocate), for every k where "once" coped and every 8th k
 *                besides (elsewhere it stops at the same error as "once").
 * Scenarios, with their N when this was written:
 *   writer_create  (~1600) a new folder index from six documents (UTF-8
 *                  accents, a long non-ASCII word, CJK, CRLF and invalid
 *                  bytes, a 17 KB document over two stored-text blocks, a
 *                  glossary of 1100 distinct words), a segment each (tiny
 *                  memory budget)
 *   writer_update  (~1900) a second run over that index: a document changed,
 *                  one gone, one new, and a folder counted and walked
 *                  (lode_writer_count_path, lode_writer_add_path): a git
 *                  repository with .gitignore and .ignore files, include and
 *                  exclude globs, a binary file; with leftovers of a killed
 *                  writer in the index folder
 *   writer_compact (~1450) lode-index --compact: one segment from the opened
 *                  index (LODE_WRITER_ONE_SEGMENT, lode_writer_add_index)
 *   writer_bundle  (~1500) a bundle (LODE_WRITER_BUNDLE) replacing an older
 *                  one, from a document, an opened index and a folder below
 *                  the one walked before (whose ignore files then apply)
 *   reader_folder  (~4500) lode_index_open of the many-segment index, then
 *                  22 queries (words, a phrase, NEAR, prefix*, NOT and -x,
 *                  +x, title:, path:, ALL_PASSAGES, ALL_WORDS, NO_PASSAGES,
 *                  strict and lenient syntax errors, only excluded words),
 *                  lode_index_read_text, lode_index_check, get_info
 *   reader_bundle_file (~600) a bundle opened by its path, two queries
 *   reader_memory  (~3900) as reader_folder, over lode_index_open_memory of
 *                  the bundle (one segment, stored text over many blocks)
 * Every allocation is swept in mode "once": about 30 s of CPU in a release
 * build (mostly the library inflating stored text for passages and
 * compressing it for segments). Index files live under /dev/shm when it
 * exists, since every writer run fsyncs.
 *
 * Debugging: LODE_ALLOC_FAIL_MAX=n sweeps only k <= n;
 * LODE_ALLOC_FAIL_ONLY=k runs k alone (with a breakpoint on
 * fault_injected() in gdb, the failing allocation's stack);
 * LODE_ALLOC_FAIL_VERBOSE=1 lists the k where the library coped, =2 also
 * prints the reference answers. A crash names the scenario, mode and k.
 *
 * Malloc cannot be replaced this way under AddressSanitizer, which owns the
 * allocator: the sanitized build does not build this test (see
 * tests/CMakeLists.txt), and if it is built anyway it says so and is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lode.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_FAIL_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_FAIL_UNDER_ASAN 1
#endif
#endif

#ifdef ALLOC_FAIL_UNDER_ASAN
int main(void) {
    fprintf(stderr, "test_alloc_fail: skipped: it replaces malloc, which AddressSanitizer owns; "
                    "it runs in the build without LODE_SANITIZE\n");
    return 77;
}
#else

/* ------------------------------------------------------------------------ */
/* The allocator                                                            */
/* ------------------------------------------------------------------------ */

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t n);

/* ONCE fails the k-th allocation only, so that the code after the failure
 * runs with memory again (recovery, retries, fallbacks); FROM fails the
 * k-th and every one after it, so that the paths behind a retried or
 * optional allocation (and cleanup that allocates) run too. */
enum { MODE_ONCE, MODE_FROM };
static const char *const MODE_NAMES[] = {"once", "from"};

static struct {
    int active;        /* inside a scenario's window: count and track */
    int mode;          /* MODE_ONCE or MODE_FROM */
    uint64_t count;    /* allocations seen in the window */
    uint64_t fail_at;  /* the allocation to fail, 1-based; 0: none */
    uint64_t failed;   /* allocations failed so far in the window */
} inj;

/* Pointers handed out inside the window and not freed yet: open addressing,
 * linear probing, deletion by backward shift (no tombstones). */
#define LIVE_BITS 18
#define LIVE_SLOTS ((size_t)1 << LIVE_BITS)
static uintptr_t live_ptr[LIVE_SLOTS];
static uint64_t live_seq[LIVE_SLOTS]; /* the allocation's number in the window */
static size_t live_size[LIVE_SLOTS];
static size_t live_n;

static size_t live_slot(uintptr_t p) {
    return (size_t)(((uint64_t)p >> 4) * 0x9E3779B97F4A7C15ULL >> (64 - LIVE_BITS));
}

static void live_add(void *p, size_t size) {
    if (live_n >= LIVE_SLOTS / 4 * 3) {
        static const char msg[] = "test_alloc_fail: too many live allocations to track\n";
        (void)!write(2, msg, sizeof msg - 1);
        abort();
    }
    size_t at = live_slot((uintptr_t)p);
    while (live_ptr[at]) at = (at + 1) & (LIVE_SLOTS - 1);
    live_ptr[at] = (uintptr_t)p;
    live_seq[at] = inj.count;
    live_size[at] = size;
    live_n++;
}

static int live_remove(void *p) {
    if (live_n == 0) return 0;
    size_t at = live_slot((uintptr_t)p);
    while (live_ptr[at] != (uintptr_t)p) {
        if (!live_ptr[at]) return 0;
        at = (at + 1) & (LIVE_SLOTS - 1);
    }
    /* shift back the entries after it that probed past this slot */
    size_t hole = at;
    for (size_t j = (hole + 1) & (LIVE_SLOTS - 1); live_ptr[j]; j = (j + 1) & (LIVE_SLOTS - 1)) {
        size_t home = live_slot(live_ptr[j]);
        /* j's entry may move to the hole when its home is not in (hole, j] */
        if (((j - home) & (LIVE_SLOTS - 1)) >= ((j - hole) & (LIVE_SLOTS - 1))) {
            live_ptr[hole] = live_ptr[j];
            live_seq[hole] = live_seq[j];
            live_size[hole] = live_size[j];
            hole = j;
        }
    }
    live_ptr[hole] = 0;
    live_n--;
    return 1;
}

static void live_clear(void) {
    memset(live_ptr, 0, sizeof live_ptr);
    live_n = 0;
}

/* Called when an allocation is failed on purpose: a place for a
 * breakpoint (`LODE_ALLOC_FAIL_ONLY=K gdb -ex 'b fault_injected' ...`). */
__attribute__((noinline)) void fault_injected(uint64_t k);
__attribute__((noinline)) void fault_injected(uint64_t k) { __asm__ volatile("" : : "r"(k) : "memory"); }

/* Count one allocation; non-zero when it is the one to fail. */
static int should_fail(void) {
    if (!inj.active) return 0;
    inj.count++;
    if (!inj.fail_at || inj.count < inj.fail_at || (inj.mode == MODE_ONCE && inj.count > inj.fail_at)) return 0;
    inj.failed++;
    fault_injected(inj.count);
    errno = ENOMEM;
    return 1;
}

static void *track(void *p, size_t size) {
    if (p && inj.active) live_add(p, size);
    return p;
}

void *malloc(size_t n) {
    if (should_fail()) return NULL;
    return track(__libc_malloc(n), n);
}

void *calloc(size_t count, size_t size) {
    if (should_fail()) return NULL;
    return track(__libc_calloc(count, size), count * size);
}

void *realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    if (n == 0) { /* glibc frees */
        live_remove(p);
        return __libc_realloc(p, 0);
    }
    if (should_fail()) return NULL; /* p stays as it was */
    void *q = __libc_realloc(p, n);
    if (!q) return NULL;
    if (live_remove(p) || inj.active) live_add(q, n);
    return q;
}

void free(void *p) {
    if (!p) return;
    live_remove(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n) {
    if (should_fail()) return NULL;
    return track(__libc_memalign(align, n), n);
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The window: counting, silence, crash reports                              */
/* ------------------------------------------------------------------------ */

static char tmpdir[64];
static char quiet_path[256];
static int saved_stderr = -1;          /* the real stderr while the window is quiet */
static const char *current_scenario = "";
static uint64_t current_k;
static int current_mode;

/* A crash inside the window would otherwise die silently (stderr is
 * redirected): name the scenario and the allocation that was failed. */
static void on_crash(int sig) {
    char msg[256];
    int n = snprintf(msg, sizeof msg, "\ntest_alloc_fail: signal %d in scenario %s, mode %s, k=%llu\n", sig,
                     current_scenario, MODE_NAMES[current_mode], (unsigned long long)current_k);
    if (n > 0) (void)!write(saved_stderr >= 0 ? saved_stderr : 2, msg, (size_t)n);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The library never prints: stdout and stderr go to a file during the
 * window, which must stay empty. */
static int quiet_fd = -1, saved_stdout = -1;

static void quiet_begin(void) {
    fflush(stdout);
    fflush(stderr);
    quiet_fd = open(quiet_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (quiet_fd < 0) abort();
    saved_stdout = dup(1);
    saved_stderr = dup(2);
    dup2(quiet_fd, 1);
    dup2(quiet_fd, 2);
}

/* Returns the number of bytes printed during the window. */
static off_t quiet_end(void) {
    fflush(stdout);
    fflush(stderr);
    dup2(saved_stdout, 1);
    dup2(saved_stderr, 2);
    close(saved_stdout);
    close(saved_stderr);
    saved_stdout = saved_stderr = -1;
    struct stat st;
    off_t n = fstat(quiet_fd, &st) == 0 ? st.st_size : -1;
    close(quiet_fd);
    quiet_fd = -1;
    return n;
}

static void arm(int mode, uint64_t fail_at) {
    live_clear();
    inj.mode = mode;
    inj.count = 0;
    inj.failed = 0;
    inj.fail_at = fail_at;
    quiet_begin();
    inj.active = 1;
}

static void disarm(void) {
    inj.active = 0;
    off_t printed = quiet_end();
    if (printed != 0) {
        fprintf(stderr, "%s: k=%llu: the library printed %lld bytes (see %s)\n", current_scenario,
                (unsigned long long)current_k, (long long)printed, quiet_path);
        test_failures++;
    }
}

/* Open file descriptors, and mappings of files under tmpdir. */
static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static int count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, tmpdir)) n++;
    fclose(f);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmpdir, name); }

/* Remove a file or a folder tree (no symbolic links are made here). */
static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            rm_rf(p);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) abort();
    close(fd);
}

static unsigned char *slurp(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) abort();
    unsigned char *d = malloc((size_t)st.st_size + 1);
    if (!d || read(fd, d, (size_t)st.st_size) != (ssize_t)st.st_size) abort();
    close(fd);
    *size = (size_t)st.st_size;
    return d;
}

/* Every regular file of a folder but LOCK, by name: an index's state. */
typedef struct snapshot {
    size_t n;
    char *names[64];
    unsigned char *data[64];
    size_t size[64];
    int exists;
} snapshot;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void snapshot_take(snapshot *s, const char *dir) {
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    if (!d) return;
    s->exists = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "LOCK") == 0) continue;
        if (s->n == 64) abort();
        s->names[s->n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(s->names, s->n, sizeof *s->names, cmp_str);
    for (size_t i = 0; i < s->n; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, s->names[i]);
        s->data[i] = slurp(p, &s->size[i]);
    }
}

static void snapshot_free(snapshot *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->data[i]);
    }
    memset(s, 0, sizeof *s);
}

static int listed(const char *const *names, const char *name) {
    for (; names && *names; names++)
        if (strcmp(*names, name) == 0) return 1;
    return 0;
}

/* 1 when both hold the same files with the same bytes, leaving out the
 * files named in `except` (NULL-terminated; may be NULL). */
static int snapshot_same_except(const snapshot *a, const snapshot *b, const char *const *except) {
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n && listed(except, a->names[i])) i++;
        while (j < b->n && listed(except, b->names[j])) j++;
        if (i == a->n || j == b->n) return i == a->n && j == b->n;
        if (strcmp(a->names[i], b->names[j]) != 0 || a->size[i] != b->size[j] || !a->data[i] || !b->data[j] ||
            memcmp(a->data[i], b->data[j], a->size[i]) != 0)
            return 0;
        i++;
        j++;
    }
}

static int snapshot_same(const snapshot *a, const snapshot *b) { return snapshot_same_except(a, b, NULL); }

static void snapshot_restore(const snapshot *s, const char *dir) {
    rm_rf(dir);
    if (!s->exists) return;
    if (mkdir(dir, 0755) != 0) abort();
    for (size_t i = 0; i < s->n; i++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, s->names[i]);
        write_file(p, s->data[i], s->size[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* Answers as strings                                                       */
/* ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const void *p, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->n + n + 1 > cap) cap *= 2;
        if (!(b->s = realloc(b->s, cap))) abort();
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) abort();
    sb_add(b, tmp, (size_t)n);
}

/* Everything a caller can see of a lode_results. */
static void results_string(sbuf *b, const lode_results *r) {
    const char *note = lode_results_note(r);
    sb_printf(b, "note %s\ncount %zu\n", note ? note : "-", lode_results_count(r));
    for (size_t i = 0; i < lode_results_count(r); i++) {
        lode_hit h;
        if (lode_results_get(r, i, &h) != 0) {
            sb_printf(b, "hit %zu: lode_results_get failed\n", i);
            continue;
        }
        sb_printf(b, "hit %s | %s | %.17g | %llu | %llx | %zu\n", h.path, h.title, h.score,
                  (unsigned long long)h.size, (unsigned long long)h.doc, h.passage_count);
        for (size_t j = 0; j < h.passage_count; j++) {
            const lode_passage *p = &h.passages[j];
            sb_printf(b, "  passage %llu:%u %zu [", (unsigned long long)p->offset, p->line, p->length);
            sb_add(b, p->text, p->length);
            sb_printf(b, "]");
            for (size_t k = 0; k < p->span_count; k++) sb_printf(b, " %u-%u", p->spans[k].start, p->spans[k].end);
            sb_printf(b, "\n");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The documents                                                            */
/* ------------------------------------------------------------------------ */

static const char DOC_SLEEP[] =
    "Magnesium glycinate and sleep\n"
    "\n"
    "Magnesium glycinate is a well-absorbed form of magnesium. Many people take it in the evening, "
    "because it may help them fall asleep and stay asleep through the night.\n"
    "\n"
    "Restless legs syndrome keeps people awake. Small studies suggest that magnesium can ease the "
    "cramps and the restless feeling in the legs; the evidence is still thin, and a doctor should "
    "look at iron levels first. Sleeping pills are not the answer for most people.\n"
    "\n"
    "Recommended Dosage\n"
    "\n"
    "A typical dose is 200 to 400 mg of elemental magnesium a day, taken with food. Doses above "
    "350 mg from supplements can upset the stomach.\n";

static const char DOC_SLEEP_V2[] =
    "Magnesium glycinate and sleep (revised)\n"
    "\n"
    "Magnesium glycinate is a well-absorbed form of magnesium. Many people take it in the evening "
    "to sleep better.\n"
    "\n"
    "Recommended Dosage\n"
    "\n"
    "A typical dose is 200 to 400 mg a day. Muscle cramps at night are a common reason to try it.\n";

/* 10 precomposed e-acute: 150 of them decompose into 300 code points, more
 * than the analyzer's first Unicode buffer holds */
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
static const char DOC_CAFE[] =
    "Le café de la gare\n"
    "\n"
    "Un mot très long : " E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 E10 ".\n"
    "\n"
    "Un café crème, une crêpe et une brioche : le petit-déjeuner à la française. Naïve résumé, "
    "façade, Ångström, Straße, ﬁnal ligature.\n"
    "\n"
    "ÉLÈVE, élève et eleve sont le même mot pour l'index; magnésium aussi.\n";

static const char DOC_CJK[] =
    "東京の朝\n"
    "\n"
    "東京大学で日本語を勉強しています。ひらがなとカタカナも読みます。\n"
    "\n"
    "서울은 한국의 수도입니다. A mixed line: 中文 text, then sleep and magnesium in English.\n";

static const char DOC_CRLF[] =
    "Windows notes\r\n"
    "\r\n"
    "Line one about magnesium\r\n"
    "Line two with \xff\xfe invalid bytes and cramps\r\n"
    "\r\n"
    "\xef\xbb\xbf a stray byte-order mark, then the end.\r\n";

static const char DOC_NEW[] =
    "A new arrival\n"
    "\n"
    "Glycine itself may improve sleep quality; the glycinate form carries it. Restless nights, "
    "restless legs and cramps come up in every forum thread about magnesium.\n";

/* A long document: a title and many paragraphs, some longer than a passage
 * (cut at sentences), over two stored-text blocks in all. Same bytes on
 * every run. */
static char *long_doc(size_t *len) {
    static const char *const WORDS[] = {"survey", "mineral", "tablet",  "evening", "absorbs", "kidney",
                                        "heart",  "rhythm",  "calcium", "zinc",    "vitamin", "trial"};
    uint64_t st = 0x5eed;
    sbuf b = {0};
    sb_printf(&b, "A long survey of magnesium\n\nMagnesium and sleep, first: the rest is about other minerals.\n\n");
    for (int para = 0; para < 60; para++) {
        int sentences = para % 7 == 3 ? 12 : 3;
        for (int s = 0; s < sentences; s++) {
            for (int w = 0; w < 9; w++)
                sb_printf(&b, "%s%s", w ? " " : "", WORDS[test_rand(&st) % 12]);
            sb_printf(&b, ". ");
        }
        sb_printf(&b, "\n\n");
    }
    *len = b.n;
    return b.s;
}

/* A glossary of 1100 made-up words: more distinct terms and words than the
 * first allocation of the inverter's tables holds (1024), so that they grow
 * while a document is added. */
static char *glossary_doc(size_t *len) {
    static const char C[] = "bdfgklmnprtvz", V[] = "aiou";
    sbuf b = {0};
    sb_printf(&b, "Glossary of made-up words\n\n");
    for (unsigned i = 0; i < 1100; i++) {
        char w[16];
        size_t n = 0;
        unsigned x = i;
        w[n++] = 'q';
        do {
            w[n++] = C[x % 13];
            x /= 13;
            w[n++] = V[x % 4];
            x /= 4;
        } while (x);
        w[n] = '\0';
        sb_printf(&b, "%s%s", w, i % 12 == 11 ? ".\n\n" : " ");
    }
    *len = b.n;
    return b.s;
}

static char *long_text, *glossary_text;
static size_t long_len, glossary_len;

typedef struct doc_ref {
    const char *path;
    const char *text;
    size_t len; /* 0: strlen */
} doc_ref;

/* ------------------------------------------------------------------------ */
/* Writer scenarios                                                         */
/* ------------------------------------------------------------------------ */

/* What a writer run saw: its events and counters, compared with the
 * reference when the run commits. */
typedef struct event_log {
    char s[8192];
    size_t n;
} event_log;

static void on_event(void *ctx, const lode_event *ev) {
    event_log *log = ctx;
    /* no allocation here: this runs inside the window */
    int n = snprintf(log->s + log->n, sizeof log->s - log->n, "%d %s %s\n", (int)ev->kind, ev->path,
                     ev->kind == LODE_EVENT_SEGMENT_FLUSHED ? "" : (ev->message ? ev->message : "-"));
    if (n > 0 && (size_t)n < sizeof log->s - log->n) log->n += (size_t)n;
}

typedef struct writer_plan {
    const char *name;
    const char *target;    /* under tmpdir: the index folder or the bundle */
    unsigned flags;
    size_t budget;
    const doc_ref *docs;
    size_t ndocs;
    const char *walk;      /* under tmpdir: a folder for lode_writer_add_path, or NULL */
    const char *from;      /* under tmpdir: an index for lode_writer_add_index, or NULL */
    const char *const *debris; /* files of an interrupted writer put in the target first,
                                  NULL-terminated; a run may remove them, even if it fails */
    /* filled by the reference run */
    snapshot before;       /* the target folder before (bundle: its folder's files) */
    snapshot after;
    event_log events;
    lode_writer_stats stats;
    uint64_t walk_files, walk_bytes;
} writer_plan;

static const char *const EXCLUDE[] = {"*.tmp"};
static const char *const INCLUDE[] = {"*.txt", "*.md", "*.log", ".*"};

typedef struct writer_outcome {
    int rc;          /* the first error, 0 when every call succeeded */
    int err_code;    /* lode_error.code after that error */
    int err_message; /* its message was filled */
    int step;        /* which call failed: 1 open, 2 add, 3 add_path, 4 add_index, 5 commit */
    int committed;
    event_log events;
    lode_writer_stats stats;
    uint64_t walk_files, walk_bytes; /* lode_writer_count_path of the folder walked */
} writer_outcome;

/* Inside the window: one whole writer run, freed at the end. */
static void writer_run(const writer_plan *p, lode_index *from, writer_outcome *o) {
    memset(o, 0, sizeof *o);
    char target[512], walk[512];
    path_of(target, sizeof target, p->target);
    lode_writer_options opts = LODE_WRITER_OPTIONS_INIT;
    /* the compressing thread would make the order of allocations, and so
     * which one the k-th is, vary from run to run */
    opts.flags = p->flags | LODE_WRITER_NO_THREADS;
    opts.memory_budget = p->budget;
    opts.on_event = on_event;
    opts.event_ctx = &o->events;
    opts.exclude_globs = EXCLUDE;
    opts.exclude_count = 1;
    opts.include_globs = INCLUDE;
    opts.include_count = sizeof INCLUDE / sizeof INCLUDE[0];
    lode_error err;
    memset(&err, 0, sizeof err);
    lode_writer *w = NULL;
    int rc = lode_writer_open(&w, target, &opts, &err);
    o->step = 1;
    if (rc && w) {
        o->rc = LODE_EINVAL; /* *out must be NULL after a failure */
        o->err_code = rc;
        lode_writer_free(w);
        return;
    }
    for (size_t i = 0; i < p->ndocs && !rc; i++) {
        const doc_ref *d = &p->docs[i];
        o->step = 2;
        rc = lode_writer_add_document(w, d->path, d->text, d->len ? d->len : strlen(d->text),
                                      1700000000 + (int64_t)i, &err);
    }
    if (!rc && p->walk) {
        o->step = 3;
        path_of(walk, sizeof walk, p->walk);
        rc = lode_writer_count_path(w, walk, &o->walk_files, &o->walk_bytes, &err);
        if (!rc) rc = lode_writer_add_path(w, walk, &err);
    }
    if (!rc && from) {
        o->step = 4;
        rc = lode_writer_add_index(w, from, &err);
    }
    if (!rc) {
        o->step = 5;
        rc = lode_writer_commit(w, &err);
        o->committed = rc == 0;
    }
    if (!rc) o->step = 0;
    lode_writer_get_stats(w, &o->stats);
    lode_writer_free(w);
    o->rc = rc;
    o->err_code = rc ? err.code : 0;
    o->err_message = rc ? err.message[0] != '\0' : 1;
}

/* The folder whose files are the state of the plan's target. */
static void state_dir(const writer_plan *p, char *out, size_t cap) {
    char target[512];
    path_of(target, sizeof target, p->target);
    if (p->flags & LODE_WRITER_BUNDLE) {
        char *slash = strrchr(target, '/');
        *slash = '\0';
    }
    snprintf(out, cap, "%s", target);
}

static lode_index *open_from(const writer_plan *p) {
    if (!p->from) return NULL;
    char from[512];
    path_of(from, sizeof from, p->from);
    lode_index *ix;
    if (lode_index_open(&ix, from, NULL) != 0) abort();
    return ix;
}

static uint64_t env_u64(const char *name, uint64_t dflt) {
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 10) : dflt;
}

/* The allocations a sweep fails: 1..n, or fewer when debugging. */
static uint64_t sweep_first(void) { return env_u64("LODE_ALLOC_FAIL_ONLY", 1); }
static uint64_t sweep_limit(void) {
    uint64_t only = env_u64("LODE_ALLOC_FAIL_ONLY", 0);
    return only ? only : env_u64("LODE_ALLOC_FAIL_MAX", UINT64_MAX);
}

/* Which k a sweep runs in `mode`. ONCE: every one. FROM: where the ONCE
 * run coped (a retry or a fallback absorbed the failure: FROM fails that
 * too, and the paths behind it run), and every 8th k besides (elsewhere
 * FROM stops at the same first error as ONCE did, and differs only in that
 * the cleanup after it cannot allocate either). `coped` has one byte per k. */
static int sweep_this(int mode, uint64_t k, const uint8_t *coped) {
    if (mode == MODE_ONCE || getenv("LODE_ALLOC_FAIL_ONLY")) return 1;
    return coped[k] || k % 8 == 1;
}

/* LODE_ALLOC_FAIL_VERBOSE=1 lists the allocations whose failure the
 * library absorbed (the call succeeded with the reference answer). */
static void note_coped(uint64_t k) {
    if (env_u64("LODE_ALLOC_FAIL_VERBOSE", 0))
        fprintf(stderr, "%s %s: k=%llu: coped\n", current_scenario, MODE_NAMES[current_mode], (unsigned long long)k);
}

static void report_leaks(const char *what, uint64_t k) {
    if (live_n == 0) return;
    fprintf(stderr, "%s %s: k=%llu: %zu allocation(s) leaked:", what, MODE_NAMES[current_mode], (unsigned long long)k,
            live_n);
    int shown = 0;
    for (size_t i = 0; i < LIVE_SLOTS && shown < 8; i++)
        if (live_ptr[i]) {
            fprintf(stderr, " #%llu (%zu bytes)", (unsigned long long)live_seq[i], live_size[i]);
            shown++;
        }
    fprintf(stderr, "\n");
    test_failures++;
    live_clear();
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A failure report, at most a few per scenario so a broken build stays readable. */
static int reports;
#define FAIL_AT(k, ...)                                                                             \
    do {                                                                                            \
        test_failures++;                                                                            \
        if (reports++ < 40) {                                                                       \
            fprintf(stderr, "%s %s: k=%llu: ", current_scenario, MODE_NAMES[current_mode],         \
                    (unsigned long long)(k));                                                       \
            fprintf(stderr, __VA_ARGS__);                                                           \
            fprintf(stderr, "\n");                                                                  \
        }                                                                                           \
    } while (0)

/* Reference run of a writer plan: take the state before, run, take the
 * state after. The `before` state is restored before every run of the
 * sweep. */
static uint64_t writer_reference(writer_plan *p) {
    char dir[512];
    state_dir(p, dir, sizeof dir);
    for (const char *const *d = p->debris; d && *d; d++) {
        char f[1024];
        snprintf(f, sizeof f, "%s/%s", dir, *d);
        write_file(f, "debris of a killed writer\n", 26);
    }
    snapshot_take(&p->before, dir);
    lode_index *from = open_from(p);
    writer_outcome o;
    current_k = 0;
    arm(MODE_ONCE, 0);
    writer_run(p, from, &o);
    disarm();
    uint64_t n = inj.count;
    lode_index_close(from);
    if (o.rc) {
        fprintf(stderr, "%s: the reference run failed at step %d: %s\n", p->name, o.step, lode_strerror(o.rc));
        test_failures++;
    }
    report_leaks(p->name, 0);
    snapshot_take(&p->after, dir);
    p->events = o.events;
    p->stats = o.stats;
    p->walk_files = o.walk_files;
    p->walk_bytes = o.walk_bytes;
    if (env_u64("LODE_ALLOC_FAIL_VERBOSE", 0) > 1)
        fprintf(stderr, "%s: reference events (walk counted %llu files, %llu bytes):\n%s", p->name,
                (unsigned long long)o.walk_files, (unsigned long long)o.walk_bytes, o.events.s);
    return n;
}

static void writer_sweep(writer_plan *p) {
    current_scenario = p->name;
    reports = 0;
    double t0 = now_seconds();
    uint64_t n = writer_reference(p);
    /* the same run again must count the same allocations: else the
     * numbers of the sweep would not name the same allocations */
    {
        char dir[512];
        state_dir(p, dir, sizeof dir);
        snapshot_restore(&p->before, dir);
        lode_index *from = open_from(p);
        writer_outcome o;
        arm(MODE_ONCE, 0);
        writer_run(p, from, &o);
        disarm();
        lode_index_close(from);
        if (inj.count != n) FAIL_AT(0, "two runs without failure made %llu and %llu allocations",
                                    (unsigned long long)n, (unsigned long long)inj.count);
        report_leaks(p->name, 0);
    }
    uint64_t limit = sweep_limit();
    char dir[512], target[512], tmpfile[600];
    state_dir(p, dir, sizeof dir);
    path_of(target, sizeof target, p->target);
    snprintf(tmpfile, sizeof tmpfile, "%s.tmp", target);
    int fds = count_fds();
    uint8_t *coped_at = calloc(n + 1, 1);
    for (int mode = MODE_ONCE; mode <= MODE_FROM; mode++) {
        current_mode = mode;
        uint64_t ran = 0, failed_runs = 0, coped = 0;
        for (uint64_t k = sweep_first(); k <= n && k <= limit; k++) {
            if (!sweep_this(mode, k, coped_at)) continue;
            current_k = k;
            snapshot_restore(&p->before, dir);
            lode_index *from = open_from(p);
            writer_outcome o;
            arm(mode, k);
            writer_run(p, from, &o);
            disarm();
            lode_index_close(from);
            ran++;
            if (!inj.failed) FAIL_AT(k, "allocation %llu was not reached", (unsigned long long)k);
            /* what was reported before the failure is what the reference reported */
            if (o.events.n > p->events.n || memcmp(o.events.s, p->events.s, o.events.n) != 0)
                FAIL_AT(k, "the events are not those of the reference:\n%s--- reference:\n%s", o.events.s,
                        p->events.s);
            if ((o.rc == 0 || o.step > 3) && (o.walk_files != p->walk_files || o.walk_bytes != p->walk_bytes))
                FAIL_AT(k, "lode_writer_count_path counted %llu files, %llu bytes", (unsigned long long)o.walk_files,
                        (unsigned long long)o.walk_bytes);
            if (o.rc) {
                failed_runs++;
                if (o.rc != LODE_ENOMEM)
                    FAIL_AT(k, "step %d returned %d (%s), not LODE_ENOMEM", o.step, o.rc, lode_strerror(o.rc));
                if (o.err_code != o.rc || !o.err_message)
                    FAIL_AT(k, "step %d: lode_error not filled (code %d, rc %d)", o.step, o.err_code, o.rc);
            } else {
                coped++;
                coped_at[k] = 1;
                note_coped(k);
            }
            snapshot now;
            snapshot_take(&now, dir);
            if (o.committed) {
                if (!snapshot_same(&now, &p->after)) FAIL_AT(k, "committed, but the index differs from the reference");
                if (o.events.n != p->events.n || memcmp(o.events.s, p->events.s, o.events.n) != 0)
                    FAIL_AT(k, "committed, but the events differ:\n%s--- reference:\n%s", o.events.s, p->events.s);
                if (memcmp(&o.stats, &p->stats, sizeof o.stats) != 0)
                    FAIL_AT(k, "committed, but the writer's counters differ");
            } else {
                /* nothing visible may have changed; a new folder may remain,
                 * empty but for its LOCK */
                int same = snapshot_same_except(&now, &p->before, p->debris) || (!p->before.exists && now.n == 0);
                if (!same) FAIL_AT(k, "the failed run (step %d) changed the index", o.step);
            }
            if (p->flags & LODE_WRITER_BUNDLE) {
                struct stat st;
                if (stat(tmpfile, &st) == 0) FAIL_AT(k, "%s left behind", tmpfile);
            }
            snapshot_free(&now);
            report_leaks(p->name, k);
            if (count_fds() != fds) FAIL_AT(k, "file descriptors leaked (%d open, %d before)", count_fds(), fds);
            if (count_maps() != 0) FAIL_AT(k, "a mapping of an index file leaked");
        }
        fprintf(stderr,
                "%s %s: %llu allocations, %llu swept (%llu failed with LODE_ENOMEM, %llu coped), %.1f s so far\n",
                p->name, MODE_NAMES[mode], (unsigned long long)n, (unsigned long long)ran,
                (unsigned long long)failed_runs, (unsigned long long)coped, now_seconds() - t0);
    }
    free(coped_at);
    /* leave the reference result in place for the scenarios that follow */
    snapshot_restore(&p->after, dir);
}

/* ------------------------------------------------------------------------ */
/* Reader scenarios                                                         */
/* ------------------------------------------------------------------------ */

typedef struct query_case {
    const char *q;
    unsigned flags;
    size_t limit;
    size_t passages;
} query_case;

static const query_case QUERIES[] = {
    {"magnesium sleep", 0, 10, 2},
    {"\"restless legs\"", 0, 10, 1},
    {"magnesium NEAR/5 cramps", 0, 10, 1},
    {"NEAR(dose magnesium, 8)", 0, 10, 1},
    {"magn*", 0, 10, 1},
    {"sleep -cramps", 0, 10, 1},
    {"sleep NOT (cramps OR legs)", 0, 10, 1},
    {"(dose OR dosage) AND magnesium", 0, 10, 3},
    {"cafe eleve", 0, 10, 1},
    {"東京 日本語", 0, 10, 1},
    {"title:magnesium", 0, 10, 1},
    {"path:*.txt glycinate", 0, 10, 1},
    {"magnesium", LODE_SEARCH_ALL_PASSAGES, LODE_SEARCH_MAX_LIMIT, 0},
    {"restless legs", LODE_SEARCH_ALL_WORDS, 10, 1},
    {"sleep (unbalanced", 0, 10, 1},
    {"sleep (unbalanced", LODE_SEARCH_STRICT, 10, 1},
    {"magnesium evidence", LODE_SEARCH_NO_PASSAGES, 5, 0},
    {"zzzz", 0, 10, 1},
    {"+sleep \"restless le*\"", 0, 10, 1},
    {"-path:*long* magnesium title:sleep", 0, 10, 2},
    {"\"東京大学\" OR 서울", 0, 10, 1},
    {"-cramps", 0, 10, 1},
    {"sleep +(-legs)", LODE_SEARCH_STRICT, 10, 1},
    {"path:\"notes/*.md\" arrival", 0, 10, 1},
    {"path:*.md", 0, 10, 1},
};
#define NQUERIES (sizeof QUERIES / sizeof QUERIES[0])

/* Byte ranges read with lode_index_read_text from each document. */
#define NREADS 3
static const struct {
    int whole;
    uint64_t offset_num, offset_den; /* offset = size * num / den */
    size_t len;
} READS[NREADS] = {{1, 0, 1, 0}, {0, 1, 3, 200}, {0, 1, 1, 10}};

#define MAX_DOCS 32

typedef struct reader_outcome {
    int open_rc;
    int open_err_code;
    int query_rc[NQUERIES];
    int query_err_code[NQUERIES];
    uint64_t query_failed[NQUERIES]; /* injected failures during the call */
    lode_results *res[NQUERIES];
    int read_rc[MAX_DOCS][NREADS];
    size_t read_got[MAX_DOCS][NREADS];
    unsigned char *read_buf[MAX_DOCS][NREADS]; /* allocated outside the window */
    int check_rc;
    lode_index_info info;
    uint64_t open_failed;
} reader_outcome;

typedef struct reader_plan {
    const char *name;
    const char *index;     /* under tmpdir: a folder or a bundle to open by path */
    const unsigned char *memory; /* or bytes for lode_index_open_memory */
    size_t memory_size;
    size_t queries;        /* run the first `queries` of QUERIES; 0: all */
    /* filled by the reference run */
    char *answers[NQUERIES];
    int answer_rc[NQUERIES];
    uint64_t docs[MAX_DOCS];
    uint64_t doc_size[MAX_DOCS];
    size_t ndocs;
    unsigned char *text[MAX_DOCS][NREADS];
    size_t text_len[MAX_DOCS][NREADS];
    int text_rc[MAX_DOCS][NREADS];
    lode_index_info info;
    char stemmer[64];
} reader_plan;

static void read_range(const reader_plan *p, size_t d, int r, uint64_t *off, size_t *len) {
    uint64_t size = p->doc_size[d];
    *off = READS[r].whole ? 0 : size * READS[r].offset_num / READS[r].offset_den;
    *len = READS[r].whole ? (size_t)size : READS[r].len;
}

/* Inside the window: open, every query, every read, the check. Results
 * are kept for the caller to compare and free; nothing is formatted here
 * (the test's own allocations must not enter the count). */
static void reader_run(const reader_plan *p, reader_outcome *o) {
    lode_error err;
    memset(&err, 0, sizeof err);
    lode_index *ix = NULL;
    uint64_t before = inj.failed;
    if (p->memory) {
        o->open_rc = lode_index_open_memory(&ix, p->memory, p->memory_size, p->name, &err);
    } else {
        char path[512];
        path_of(path, sizeof path, p->index);
        o->open_rc = lode_index_open(&ix, path, &err);
    }
    o->open_err_code = err.code;
    o->open_failed = inj.failed - before;
    if (o->open_rc) {
        if (ix) o->open_rc = LODE_EINVAL - 100; /* *out must be NULL after a failure */
        return;
    }
    for (size_t q = 0; q < (p->queries ? p->queries : NQUERIES); q++) {
        lode_search_options so = LODE_SEARCH_OPTIONS_INIT;
        so.flags = QUERIES[q].flags;
        so.limit = QUERIES[q].limit;
        so.passages = QUERIES[q].passages;
        memset(&err, 0, sizeof err);
        before = inj.failed;
        o->res[q] = (lode_results *)&o->res; /* must be overwritten */
        o->query_rc[q] = lode_search(&o->res[q], ix, QUERIES[q].q, &so, &err);
        o->query_err_code[q] = err.code;
        o->query_failed[q] = inj.failed - before;
        if (o->query_rc[q] && o->res[q]) {
            o->query_rc[q] = LODE_EINVAL - 100;
            o->res[q] = NULL;
        }
    }
    for (size_t d = 0; d < p->ndocs; d++)
        for (int r = 0; r < NREADS; r++) {
            uint64_t off;
            size_t len;
            read_range(p, d, r, &off, &len);
            o->read_rc[d][r] = lode_index_read_text(ix, p->docs[d], off, o->read_buf[d][r], len,
                                                    &o->read_got[d][r], &err);
        }
    o->check_rc = lode_index_check(ix, &err);
    lode_index_get_info(ix, &o->info);
    if (o->info.stemmer) {
        /* borrowed until the close: keep a copy in the outcome's own storage */
        static char stem[64];
        snprintf(stem, sizeof stem, "%s", o->info.stemmer);
        o->info.stemmer = stem;
    }
    lode_index_close(ix);
}

static void reader_outcome_init(const reader_plan *p, reader_outcome *o) {
    memset(o, 0, sizeof *o);
    for (size_t d = 0; d < p->ndocs; d++)
        for (int r = 0; r < NREADS; r++) {
            uint64_t off;
            size_t len;
            read_range(p, d, r, &off, &len);
            o->read_buf[d][r] = malloc(len + 1);
            if (!o->read_buf[d][r]) abort();
        }
}

static void reader_outcome_free(const reader_plan *p, reader_outcome *o) {
    for (size_t q = 0; q < NQUERIES; q++) lode_results_free(o->res[q]);
    for (size_t d = 0; d < p->ndocs; d++)
        for (int r = 0; r < NREADS; r++) free(o->read_buf[d][r]);
    memset(o, 0, sizeof *o);
}

static void reader_reference(reader_plan *p) {
    /* first the documents to read: every one the queries find */
    reader_outcome o;
    reader_outcome_init(p, &o);
    arm(MODE_ONCE, 0);
    reader_run(p, &o);
    disarm();
    if (o.open_rc) {
        fprintf(stderr, "%s: the reference open failed: %s\n", p->name, lode_strerror(o.open_rc));
        test_failures++;
        return;
    }
    for (size_t q = 0; q < NQUERIES; q++) {
        for (size_t i = 0; i < lode_results_count(o.res[q]); i++) {
            lode_hit h;
            lode_results_get(o.res[q], i, &h);
            size_t d = 0;
            while (d < p->ndocs && p->docs[d] != h.doc) d++;
            if (d == p->ndocs && p->ndocs < MAX_DOCS) {
                p->docs[p->ndocs] = h.doc;
                p->doc_size[p->ndocs++] = h.size;
            }
        }
        sbuf b = {0};
        results_string(&b, o.res[q]);
        p->answers[q] = b.s;
        p->answer_rc[q] = o.query_rc[q];
        if (env_u64("LODE_ALLOC_FAIL_VERBOSE", 0) > 1)
            fprintf(stderr, "%s: reference answer to %s (rc %d):\n%s", p->name, QUERIES[q].q, o.query_rc[q], b.s);
    }
    reader_outcome_free(p, &o);
    /* again, now with the reads */
    reader_outcome_init(p, &o);
    arm(MODE_ONCE, 0);
    reader_run(p, &o);
    disarm();
    for (size_t d = 0; d < p->ndocs; d++)
        for (int r = 0; r < NREADS; r++) {
            p->text_rc[d][r] = o.read_rc[d][r];
            p->text_len[d][r] = o.read_got[d][r];
            p->text[d][r] = malloc(o.read_got[d][r] + 1);
            memcpy(p->text[d][r], o.read_buf[d][r], o.read_got[d][r]);
            if (o.read_rc[d][r]) {
                fprintf(stderr, "%s: reference read of document %llx failed\n", p->name,
                        (unsigned long long)p->docs[d]);
                test_failures++;
            }
        }
    if (o.check_rc) {
        fprintf(stderr, "%s: the reference check failed\n", p->name);
        test_failures++;
    }
    p->info = o.info;
    snprintf(p->stemmer, sizeof p->stemmer, "%s", o.info.stemmer ? o.info.stemmer : "");
    p->info.stemmer = p->stemmer;
    reader_outcome_free(p, &o);
    report_leaks(p->name, 0);
}

/* An error is allowed only where a failure was injected, and must then be
 * LODE_ENOMEM; else the call must give the reference answer. */
static void reader_sweep(reader_plan *p) {
    current_scenario = p->name;
    reports = 0;
    double t0 = now_seconds();
    reader_reference(p);
    uint64_t n = inj.count;
    {
        /* the same run again must count the same allocations */
        reader_outcome o;
        reader_outcome_init(p, &o);
        arm(MODE_ONCE, 0);
        reader_run(p, &o);
        disarm();
        reader_outcome_free(p, &o);
        if (inj.count != n) FAIL_AT(0, "two runs without failure made %llu and %llu allocations",
                                    (unsigned long long)n, (unsigned long long)inj.count);
        report_leaks(p->name, 0);
    }
    uint64_t limit = sweep_limit();
    int fds = count_fds();
    uint8_t *coped_at = calloc(n + 1, 1);
    for (int mode = MODE_ONCE; mode <= MODE_FROM; mode++) {
        current_mode = mode;
        uint64_t ran = 0, coped = 0;
        for (uint64_t k = sweep_first(); k <= n && k <= limit; k++) {
            if (!sweep_this(mode, k, coped_at)) continue;
            current_k = k;
            reader_outcome o;
            reader_outcome_init(p, &o);
            arm(mode, k);
            reader_run(p, &o);
            disarm();
            ran++;
            if (!inj.failed) FAIL_AT(k, "allocation %llu was not reached", (unsigned long long)k);
            int errors = 0;
            if (o.open_rc) {
                errors++;
                if (o.open_rc != LODE_ENOMEM || o.open_err_code != LODE_ENOMEM || !o.open_failed)
                    FAIL_AT(k, "open returned %d (%s), lode_error.code %d", o.open_rc, lode_strerror(o.open_rc),
                            o.open_err_code);
            } else {
                for (size_t q = 0; q < NQUERIES; q++) {
                    int rc = o.query_rc[q];
                    if (rc == p->answer_rc[q] && rc == 0) {
                        sbuf b = {0};
                        results_string(&b, o.res[q]);
                        if (strcmp(b.s, p->answers[q]) != 0)
                            FAIL_AT(k, "query %s: a different answer:\n%s--- reference:\n%s", QUERIES[q].q, b.s,
                                    p->answers[q]);
                        free(b.s);
                    } else if (rc == p->answer_rc[q]) {
                        /* the reference's own error (strict syntax): still right */
                    } else {
                        errors++;
                        if (rc != LODE_ENOMEM || !o.query_failed[q] || o.query_err_code[q] != LODE_ENOMEM)
                            FAIL_AT(k, "query %s returned %d (%s), lode_error.code %d, %llu failures injected in it",
                                    QUERIES[q].q, rc, lode_strerror(rc), o.query_err_code[q],
                                    (unsigned long long)o.query_failed[q]);
                    }
                }
                for (size_t d = 0; d < p->ndocs; d++)
                    for (int r = 0; r < NREADS; r++) {
                        int rc = o.read_rc[d][r];
                        if (rc == 0) {
                            if (o.read_got[d][r] != p->text_len[d][r] ||
                                memcmp(o.read_buf[d][r], p->text[d][r], p->text_len[d][r]) != 0)
                                FAIL_AT(k, "lode_index_read_text of %llx: other bytes", (unsigned long long)p->docs[d]);
                        } else {
                            errors++;
                            if (rc != LODE_ENOMEM || o.read_got[d][r] != 0)
                                FAIL_AT(k, "lode_index_read_text of %llx returned %d (%s)",
                                        (unsigned long long)p->docs[d], rc, lode_strerror(rc));
                        }
                    }
                if (o.check_rc) {
                    errors++;
                    if (o.check_rc != LODE_ENOMEM) FAIL_AT(k, "lode_index_check returned %d", o.check_rc);
                }
                if (o.info.documents != p->info.documents || o.info.passages != p->info.passages ||
                    o.info.tokens != p->info.tokens || o.info.segments != p->info.segments ||
                    o.info.generation != p->info.generation || strcmp(o.info.stemmer, p->info.stemmer) != 0)
                    FAIL_AT(k, "lode_index_get_info differs");
            }
            /* one failure injected: at most one call may have failed */
            if (mode == MODE_ONCE && errors > 1) FAIL_AT(k, "%d calls failed for one failed allocation", errors);
            if (!errors) {
                coped++;
                coped_at[k] = 1;
                note_coped(k);
            }
            reader_outcome_free(p, &o);
            report_leaks(p->name, k);
            if (count_fds() != fds) FAIL_AT(k, "file descriptors leaked");
            if (count_maps() != 0) FAIL_AT(k, "a mapping of an index file leaked");
        }
        fprintf(stderr, "%s %s: %llu allocations, %llu swept (%llu coped), %.1f s so far\n", p->name, MODE_NAMES[mode],
                (unsigned long long)n, (unsigned long long)ran, (unsigned long long)coped, now_seconds() - t0);
    }
    free(coped_at);
    for (size_t q = 0; q < NQUERIES; q++) free(p->answers[q]);
    for (size_t d = 0; d < p->ndocs; d++)
        for (int r = 0; r < NREADS; r++) free(p->text[d][r]);
}

/* ------------------------------------------------------------------------ */
/* The cases                                                                */
/* ------------------------------------------------------------------------ */

static doc_ref RUN1[6], RUN2[5], BUNDLE_DOCS[1];

static void setup(void) {
    static int done;
    if (done) return;
    done = 1;
    /* every run of a writer sweep commits, and a commit fsyncs: on tmpfs
     * that costs nothing, on a disk it is most of the sweep's time */
    snprintf(tmpdir, sizeof tmpdir, "%s/lode_test_alloc_fail_XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(tmpdir)) abort();
    snprintf(quiet_path, sizeof quiet_path, "%s/printed", tmpdir);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], on_crash);
    long_text = long_doc(&long_len);
    glossary_text = glossary_doc(&glossary_len);
    RUN1[0] = (doc_ref){"notes/sleep.txt", DOC_SLEEP, 0};
    RUN1[1] = (doc_ref){"notes/café.txt", DOC_CAFE, 0};
    RUN1[2] = (doc_ref){"notes/東京.txt", DOC_CJK, 0};
    RUN1[3] = (doc_ref){"notes/crlf.txt", DOC_CRLF, 0};
    RUN1[4] = (doc_ref){"notes/long.txt", long_text, long_len};
    RUN1[5] = (doc_ref){"notes/glossary.txt", glossary_text, glossary_len};
    RUN2[0] = (doc_ref){"notes/sleep.txt", DOC_SLEEP_V2, 0};
    RUN2[1] = (doc_ref){"notes/café.txt", DOC_CAFE, 0};
    RUN2[2] = (doc_ref){"notes/new.md", DOC_NEW, 0};
    RUN2[3] = (doc_ref){"notes/long.txt", long_text, long_len};
    RUN2[4] = (doc_ref){"notes/glossary.txt", glossary_text, glossary_len};
    BUNDLE_DOCS[0] = (doc_ref){"extra/new.md", DOC_NEW, 0};
    /* a folder to walk: ignore file, exclude glob, binary file, subfolder */
    char p[512];
    path_of(p, sizeof p, "src");
    mkdir(p, 0755);
    path_of(p, sizeof p, "src/sub");
    mkdir(p, 0755);
    path_of(p, sizeof p, "src/.git");
    mkdir(p, 0755); /* src is a repository: its .gitignore counts */
#define WRITE(name, lit)                                                                           \
    do {                                                                                           \
        path_of(p, sizeof p, name);                                                                \
        write_file(p, lit, sizeof lit - 1);                                                        \
    } while (0)
    WRITE("src/a.txt", DOC_CJK);
    WRITE("src/sub/b.md", DOC_SLEEP);
    WRITE("src/.ignore", "*.log\n!keep.log\n/sub/deep/\n");
    WRITE("src/skip.log", "ignored\n");
    WRITE("src/keep.log", "kept: magnesium log\n");
    WRITE("src/x.tmp", "excluded\n");
    WRITE("src/.gitignore", "*.bak\nsub/skip*\n");
    WRITE("src/old.bak", "ignored by git\n");
    WRITE("src/sub/skip-me.txt", "ignored by git too\n");
    WRITE("src/other.dat", "matches no include glob\n");
    WRITE("src/bin.dat", "bin\0ary");
    WRITE("src/sub/c.txt", DOC_NEW);
#undef WRITE
}

static writer_plan plan_create = {.name = "writer_create", .target = "a.lode", .budget = 1, .docs = RUN1, .ndocs = 6};
static const char *const DEBRIS[] = {"seg-00000009-0001.lseg", "MANIFEST.tmp", NULL};
static writer_plan plan_update = {.name = "writer_update", .target = "a.lode", .budget = 1, .docs = RUN2, .ndocs = 5,
                                  .walk = "src", .debris = DEBRIS};
static writer_plan plan_compact = {.name = "writer_compact", .target = "c.lode", .flags = LODE_WRITER_ONE_SEGMENT,
                                   .from = "c.lode"};
static writer_plan plan_bundle_old = {.name = "writer_bundle_old", .target = "b/one.lode", .flags = LODE_WRITER_BUNDLE,
                                      .docs = RUN1, .ndocs = 2};
static writer_plan plan_bundle = {.name = "writer_bundle", .target = "b/one.lode", .flags = LODE_WRITER_BUNDLE,
                                  .docs = BUNDLE_DOCS, .ndocs = 1, .walk = "src/sub", .from = "a.lode"};

/* Each writer case needs the state the one before it left. */
static int built_create, built_update;

TEST(writer_create) {
    setup();
    writer_sweep(&plan_create);
    built_create = 1;
}

TEST(writer_update) {
    setup();
    if (!built_create) writer_reference(&plan_create);
    writer_sweep(&plan_update);
    built_update = 1;
}

static void need_update(void) {
    if (!built_create) {
        writer_reference(&plan_create);
        built_create = 1;
    }
    if (!built_update) {
        writer_reference(&plan_update);
        built_update = 1;
    }
}

TEST(writer_compact) {
    setup();
    need_update();
    /* compact a copy of a.lode in place: c.lode starts as a.lode */
    char a[512], c[512];
    path_of(a, sizeof a, "a.lode");
    path_of(c, sizeof c, "c.lode");
    snapshot s;
    snapshot_take(&s, a);
    snapshot_restore(&s, c);
    snapshot_free(&s);
    writer_sweep(&plan_compact);
}

TEST(writer_bundle) {
    setup();
    need_update();
    char b[512];
    path_of(b, sizeof b, "b");
    mkdir(b, 0755);
    /* an older bundle to replace */
    writer_reference(&plan_bundle_old);
    writer_sweep(&plan_bundle);
}

TEST(reader_folder) {
    setup();
    need_update();
    reader_plan p;
    memset(&p, 0, sizeof p);
    p.name = "reader_folder";
    p.index = "a.lode";
    reader_sweep(&p);
}

/* A bundle opened by its path (mmap) rather than from memory: the open
 * and two queries, the rest is reader_memory's. */
TEST(reader_bundle_file) {
    setup();
    need_update();
    char b[512];
    path_of(b, sizeof b, "b");
    mkdir(b, 0755);
    if (!plan_bundle.after.n) {
        writer_reference(&plan_bundle_old);
        writer_reference(&plan_bundle);
    }
    reader_plan p;
    memset(&p, 0, sizeof p);
    p.name = "reader_bundle_file";
    p.index = "b/one.lode";
    p.queries = 2;
    reader_sweep(&p);
}

TEST(reader_memory) {
    setup();
    need_update();
    char b[512];
    path_of(b, sizeof b, "b");
    mkdir(b, 0755);
    if (!plan_bundle.after.n) {
        writer_reference(&plan_bundle_old);
        writer_reference(&plan_bundle);
    }
    char path[512];
    path_of(path, sizeof path, "b/one.lode");
    size_t size;
    unsigned char *bytes = slurp(path, &size);
    REQUIRE(bytes);
    reader_plan p;
    memset(&p, 0, sizeof p);
    p.name = "reader_memory";
    p.memory = bytes;
    p.memory_size = size;
    reader_sweep(&p);
    free(bytes);
}

static void cleanup(void) {
    if (tmpdir[0] && !strstr(tmpdir, "XXXXXX")) rm_rf(tmpdir);
}

int main(int argc, char **argv) {
    static const test_case cases[] = {TEST_CASE(writer_create), TEST_CASE(writer_update), TEST_CASE(writer_compact),
                                      TEST_CASE(writer_bundle), TEST_CASE(reader_folder), TEST_CASE(reader_bundle_file),
                                      TEST_CASE(reader_memory)};
    int rc = test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    cleanup();
    return rc;
}

#endif /* ALLOC_FAIL_UNDER_ASAN */
