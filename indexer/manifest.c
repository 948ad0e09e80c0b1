/*
 * manifest.c - reads and atomically replaces an index's MANIFEST, the one
 * file that says which segments are live. Called by writer.c (commit) and
 * index.c (open).
 *
 * MANIFEST (little-endian):
 *   magic "LODEMAN1", u32 format version, u32 segment count,
 *   u64 generation, u8 stemmer length, stemmer bytes,
 *   per segment { u8 name length, name, u32 doc count, u64 file length,
 *                 u32 CRC-32 of the segment's header },
 *   u32 CRC-32 of everything before it.
 * The header CRC ties each name to one exact file: a segment replaced under
 * the same name is detected at open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segment.h"

#define MANIFEST_MAX_BYTES (1u << 20)

static int errno_fail(lode_error *err, int e, const char *what, const char *path) {
    char msg[128];
    if (strerror_r(e, msg, sizeof msg)) snprintf(msg, sizeof msg, "error %d", e);
    return lode_fail(err, e == ENOENT ? LODE_ENOTFOUND : LODE_EIO, "%s %s: %s", what, path, msg);
}

void manifest_free(manifest *m) {
    lode_free(m->segments);
    memset(m, 0, sizeof *m);
}

static int bad(lode_error *err, const char *path, const char *what) {
    return lode_corrupt(err, path, "MANIFEST", what);
}

int manifest_read(manifest *m, const char *dir, lode_error *err) {
    memset(m, 0, sizeof *m);
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof path)
        return lode_fail(err, LODE_EINVAL, "index path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_fail(err, errno, "cannot open", path);
    uint8_t *data = lode_malloc(MANIFEST_MAX_BYTES);
    if (!data) {
        close(fd);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    size_t len = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, data + len, MANIFEST_MAX_BYTES - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = errno_fail(err, errno, "cannot read", path);
            break;
        }
        if (n == 0) break;
        len += (size_t)n;
        if (len == MANIFEST_MAX_BYTES) {
            rc = bad(err, path, "too large");
            break;
        }
    }
    close(fd);
    if (rc) goto done;
    const uint8_t *p = data, *end = data + len;
    if (len < 8 || memcmp(p, MANIFEST_MAGIC, 8) != 0) {
        rc = bad(err, path, len < 8 ? "truncated" : "not a lode MANIFEST (bad magic)");
        goto done;
    }
    if (len < 30) {
        rc = bad(err, path, "truncated");
        goto done;
    }
    /* the version first: a later format may change everything after it */
    uint32_t version = load_u32(p + 8);
    if (version != MANIFEST_FORMAT_VERSION) {
        rc = lode_fail(err, LODE_EVERSION, "%s: format version %u, this lode reads version %u", path,
                       version, MANIFEST_FORMAT_VERSION);
        goto done;
    }
    if (lode_crc32(0, data, len - 4) != load_u32(end - 4)) {
        rc = bad(err, path, "checksum mismatch (damaged or truncated)");
        goto done;
    }
    m->segment_count = load_u32(p + 12);
    m->generation = load_u64(p + 16);
    uint8_t stem_len = p[24];
    p += 25;
    end -= 4;
    if (m->segment_count > LODE_MAX_SEGMENTS || stem_len == 0 || stem_len >= sizeof m->stemmer ||
        (size_t)(end - p) < stem_len) {
        rc = bad(err, path, "bad header fields");
        goto done;
    }
    memcpy(m->stemmer, p, stem_len);
    p += stem_len;
    m->segments = lode_calloc(m->segment_count ? m->segment_count : 1, sizeof *m->segments);
    if (!m->segments) {
        rc = lode_fail(err, LODE_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < m->segment_count; i++) {
        manifest_segment *sg = &m->segments[i];
        if (p >= end || p[0] == 0 || p[0] >= sizeof sg->name || (size_t)(end - p) < 1u + p[0] + 16u) {
            rc = bad(err, path, "segment entry truncated");
            goto done;
        }
        memcpy(sg->name, p + 1, p[0]);
        /* names are ours: no path separators, no dot files */
        if (strchr(sg->name, '/') || sg->name[0] == '.') {
            rc = bad(err, path, "bad segment name");
            goto done;
        }
        p += 1 + p[0];
        sg->doc_count = load_u32(p);
        sg->file_len = load_u64(p + 4);
        sg->header_crc = load_u32(p + 12);
        p += 16;
    }
    if (p != end) rc = bad(err, path, "trailing bytes");
done:
    lode_free(data);
    if (rc) manifest_free(m);
    return rc;
}

int fsync_dir(const char *dir, lode_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_fail(err, errno, "cannot open folder", dir);
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL) rc = errno_fail(err, errno, "cannot fsync", dir);
    close(fd);
    return rc;
}

int manifest_write(const manifest *m, const char *dir, lode_error *err) {
    lode_buf b;
    buf_init(&b);
    size_t stem_len = strlen(m->stemmer);
    buf_append(&b, MANIFEST_MAGIC, 8);
    buf_put_u32(&b, MANIFEST_FORMAT_VERSION);
    buf_put_u32(&b, m->segment_count);
    buf_put_u64(&b, m->generation);
    buf_put_u8(&b, (uint8_t)stem_len);
    buf_append(&b, m->stemmer, stem_len);
    for (uint32_t i = 0; i < m->segment_count; i++) {
        const manifest_segment *sg = &m->segments[i];
        size_t n = strlen(sg->name);
        buf_put_u8(&b, (uint8_t)n);
        buf_append(&b, sg->name, n);
        buf_put_u32(&b, sg->doc_count);
        buf_put_u64(&b, sg->file_len);
        buf_put_u32(&b, sg->header_crc);
    }
    if (!b.rc) buf_put_u32(&b, lode_crc32(0, b.data, b.len));
    if (b.rc) {
        /* checked after the CRC too: a MANIFEST without it is damage */
        buf_free(&b);
        return lode_fail(err, LODE_ENOMEM, "out of memory");
    }
    char tmp[4096], final[4096];
    int rc = 0;
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, MANIFEST_NAME) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", dir, MANIFEST_NAME) >= (int)sizeof final) {
        buf_free(&b);
        return lode_fail(err, LODE_EINVAL, "index path too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = errno_fail(err, errno, "cannot create", tmp);
        goto done;
    }
    size_t done_bytes = 0;
    while (done_bytes < b.len) {
        ssize_t n = write(fd, b.data + done_bytes, b.len - done_bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = errno_fail(err, errno, "cannot write", tmp);
            break;
        }
        done_bytes += (size_t)n;
    }
    if (!rc && fsync(fd) != 0) rc = errno_fail(err, errno, "cannot fsync", tmp);
    if (close(fd) != 0 && !rc) rc = errno_fail(err, errno, "cannot close", tmp);
    /* the rename is the commit point: before it readers see the old set */
    if (!rc && rename(tmp, final) != 0) rc = errno_fail(err, errno, "cannot rename to", final);
    if (!rc) rc = fsync_dir(dir, err);
    if (rc) unlink(tmp);
done:
    buf_free(&b);
    return rc;
}
