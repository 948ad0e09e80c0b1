/*
 * build_floor - the two costs an index build cannot avoid, timed alone on
 * one thread, for bench/run.py: analysing every file with lode's analyzer
 * (tokenizing, Unicode normalization, stemming through its caches, as
 * lode-index does) and compressing the stored text as lode-index does (the
 * files concatenated, cut into TEXT_BLOCK_SIZE blocks, each a zlib stream
 * at TEXT_ZLIB_LEVEL). Reading the files is timed too, apart. On N cores no
 * build that does this work can take less than (analysis + zlib) / N of
 * wall time, whatever else it does: that is how close to the work itself
 * lode-index's wall time is.
 *
 *   build_floor FILELIST
 *
 * FILELIST has one path a line. Prints "key value" lines: files, bytes,
 * tokens, read_s, analysis_s, zlib_s, zlib_bytes (CPU seconds of this
 * thread, each stage summed over the files).
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Iindexer \
 *      bench/build_floor.c BUILD/liblode.a -lutf8proc -lstemmer -lz -lm -pthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "segment.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_token(void *ctx, const token *t) {
    (void)t;
    ++*(unsigned long long *)ctx;
    return 0;
}

typedef struct packer {
    z_stream zs;
    unsigned char raw[TEXT_BLOCK_SIZE];
    size_t fill;
    unsigned char *out;
    uLong out_cap;
    unsigned long long out_bytes;
} packer;

static int pack(packer *p) {
    if (deflateReset(&p->zs) != Z_OK) return -1;
    p->zs.next_in = p->raw;
    p->zs.avail_in = (uInt)p->fill;
    p->zs.next_out = p->out;
    p->zs.avail_out = (uInt)p->out_cap;
    if (deflate(&p->zs, Z_FINISH) != Z_STREAM_END) return -1;
    p->out_bytes += p->out_cap - p->zs.avail_out;
    p->fill = 0;
    return 0;
}

static int pack_add(packer *p, const unsigned char *data, size_t len) {
    while (len) {
        size_t take = sizeof p->raw - p->fill;
        if (take > len) take = len;
        memcpy(p->raw + p->fill, data, take);
        p->fill += take;
        data += take;
        len -= take;
        if (p->fill == sizeof p->raw && pack(p)) return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: build_floor FILELIST\n");
        return 2;
    }
    FILE *list = fopen(argv[1], "r");
    if (!list) {
        perror(argv[1]);
        return 1;
    }
    analyzer *a = NULL;
    lode_error err;
    if (analyzer_new(&a, "english", &err)) {
        fprintf(stderr, "build_floor: %s\n", err.message);
        return 1;
    }
    static packer p;
    if (deflateInit(&p.zs, TEXT_ZLIB_LEVEL) != Z_OK) return 1;
    p.out_cap = deflateBound(&p.zs, TEXT_BLOCK_SIZE);
    p.out = malloc(p.out_cap);
    if (!p.out) return 1;

    char line[8192];
    unsigned char *data = NULL;
    size_t cap = 0;
    unsigned long long files = 0, bytes = 0, tokens = 0;
    double read_s = 0, analysis_s = 0, zlib_s = 0;
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0]) continue;
        double t0 = cpu_now();
        FILE *f = fopen(line, "rb");
        if (!f) {
            perror(line);
            continue;
        }
        size_t len = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? cap * 2 : (size_t)1 << 20;
                unsigned char *d = realloc(data, cap);
                if (!d) return 1;
                data = d;
            }
            size_t n = fread(data + len, 1, cap - len, f);
            if (n == 0) break;
            len += n;
        }
        fclose(f);
        double t1 = cpu_now();
        if (analyze_text(a, (const char *)data, len, 0, count_token, &tokens)) {
            fprintf(stderr, "build_floor: analysing %s failed\n", line);
            return 1;
        }
        double t2 = cpu_now();
        if (pack_add(&p, data, len)) {
            fprintf(stderr, "build_floor: compressing %s failed\n", line);
            return 1;
        }
        double t3 = cpu_now();
        read_s += t1 - t0;
        analysis_s += t2 - t1;
        zlib_s += t3 - t2;
        files++;
        bytes += len;
    }
    fclose(list);
    double t = cpu_now();
    if (p.fill && pack(&p)) return 1;
    zlib_s += cpu_now() - t;
    printf("files %llu\nbytes %llu\ntokens %llu\nread_s %.4f\nanalysis_s %.4f\nzlib_s %.4f\nzlib_bytes %llu\n",
           files, bytes, tokens, read_s, analysis_s, zlib_s, p.out_bytes);
    deflateEnd(&p.zs);
    analyzer_free(a);
    free(p.out);
    free(data);
    return 0;
}
