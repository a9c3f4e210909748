/* Downloaded files decompressed as they are read: zlib (gzip), liblzma (xz), libzstd. */
#include "lg_zstream.h"

#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lg_io.h"

enum { Z_PLAIN, Z_GZIP, Z_XZ, Z_ZSTD };
#define RAW_CAP (1u << 17)

struct lg_zstream {
    FILE *f;
    char path[4096];
    int kind;
    unsigned char *raw;  /* compressed bytes read from the file */
    size_t raw_pos, raw_len;
    int raw_eof;
    int done;            /* the compressed data ended (and nothing follows) */
    int64_t raw_total, out_total;
    lg_sha256 sha;
    z_stream gz;
    int gz_live;
    lzma_stream xz;
    ZSTD_DStream *zs;
    int zs_mid_frame;    /* a zstd frame started and has not ended */
};

const char *lg_zstream_format(const lg_zstream *z)
{
    static const char *names[] = {"plain", "gzip", "xz", "zstd"};
    return names[z->kind];
}

const char *lg_zstream_path(const lg_zstream *z)
{
    return z->path;
}

int64_t lg_zstream_raw_bytes(const lg_zstream *z)
{
    return z->raw_total;
}

int64_t lg_zstream_bytes(const lg_zstream *z)
{
    return z->out_total;
}

void lg_zstream_sha256(const lg_zstream *z, char hex[65])
{
    lg_sha256 copy = z->sha;
    lg_sha256_final_hex(&copy, hex);
}

/* Refills raw when it is used up; 0, or -1 on a read error. */
static int fill_raw(lg_zstream *z, lg_error *err)
{
    if (z->raw_pos < z->raw_len || z->raw_eof)
        return 0;
    size_t n = fread(z->raw, 1, RAW_CAP, z->f);
    if (n < RAW_CAP && ferror(z->f))
        return lg_fail(err, "%s: read failed: %s", z->path, strerror(errno));
    if (n == 0)
        z->raw_eof = 1;
    lg_sha256_update(&z->sha, z->raw, n);
    z->raw_total += (int64_t)n;
    z->raw_pos = 0;
    z->raw_len = n;
    return 0;
}

lg_zstream *lg_zstream_open(const char *path, lg_error *err)
{
    lg_zstream *z = calloc(1, sizeof *z);
    if (!z || !(z->raw = malloc(RAW_CAP))) {
        free(z);
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    lg_sha256_init(&z->sha);
    if (!(z->f = fopen(path, "rb"))) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    /* the magic bytes: read the first block (short files too) */
    while (z->raw_len < 6 && !z->raw_eof) {
        size_t n = fread(z->raw + z->raw_len, 1, RAW_CAP - z->raw_len, z->f);
        if (n == 0) {
            if (ferror(z->f)) {
                lg_fail(err, "%s: read failed: %s", path, strerror(errno));
                goto fail;
            }
            z->raw_eof = 1;
        }
        lg_sha256_update(&z->sha, z->raw + z->raw_len, n);
        z->raw_len += n;
        z->raw_total += (int64_t)n;
    }
    const unsigned char *m = z->raw;
    size_t have = z->raw_len;
    if (have >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        z->kind = Z_GZIP;
        if (inflateInit2(&z->gz, 15 + 16) != Z_OK) {
            lg_fail(err, "%s: cannot start gzip decompression", path);
            goto fail;
        }
        z->gz_live = 1;
    } else if (have >= 6 && !memcmp(m, "\xfd" "7zXZ\0", 6)) {
        z->kind = Z_XZ;
        lzma_stream init = LZMA_STREAM_INIT;
        z->xz = init;
        if (lzma_stream_decoder(&z->xz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
            lg_fail(err, "%s: cannot start xz decompression", path);
            goto fail;
        }
    } else if (have >= 4 && !memcmp(m, "\x28\xb5\x2f\xfd", 4)) {
        z->kind = Z_ZSTD;
        if (!(z->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(z->zs))) {
            lg_fail(err, "%s: cannot start zstd decompression", path);
            goto fail;
        }
    } else if (have >= 3 && !memcmp(m, "BZh", 3)) {
        lg_fail(err, "%s: bzip2 data: decompress it first (bunzip2)", path);
        goto fail;
    } else if (have >= 4 && !memcmp(m, "PK\3\4", 4)) {
        lg_fail(err, "%s: a zip archive: unpack it first (unzip)", path);
        goto fail;
    } else {
        z->kind = Z_PLAIN;
    }
    return z;
fail:
    lg_zstream_close(z);
    return NULL;
}

static long read_gzip(lg_zstream *z, unsigned char *out, size_t n, lg_error *err)
{
    for (;;) {
        if (fill_raw(z, err) < 0)
            return -1;
        if (z->done) {
            /* after a member: another member, or the end */
            if (z->raw_pos == z->raw_len)
                return 0;
            if (inflateReset(&z->gz) != Z_OK)
                return lg_fail(err, "%s: gzip: cannot restart", z->path);
            z->done = 0;
        }
        if (z->raw_pos == z->raw_len)
            return lg_fail(err, "%s: gzip data is truncated (after %lld bytes of text)", z->path,
                           (long long)z->out_total);
        z->gz.next_in = z->raw + z->raw_pos;
        z->gz.avail_in = (uInt)(z->raw_len - z->raw_pos);
        z->gz.next_out = out;
        z->gz.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
        uInt before = z->gz.avail_out;
        int rc = inflate(&z->gz, Z_NO_FLUSH);
        z->raw_pos = z->raw_len - z->gz.avail_in;
        if (rc == Z_STREAM_END)
            z->done = 1;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return lg_fail(err, "%s: gzip data is corrupt (%s)", z->path,
                           z->gz.msg ? z->gz.msg : "inflate failed");
        size_t got = before - z->gz.avail_out;
        if (got)
            return (long)got;
    }
}

static long read_xz(lg_zstream *z, unsigned char *out, size_t n, lg_error *err)
{
    if (z->done)
        return 0;
    for (;;) {
        if (fill_raw(z, err) < 0)
            return -1;
        size_t avail = z->raw_len - z->raw_pos;
        z->xz.next_in = z->raw + z->raw_pos;
        z->xz.avail_in = avail;
        z->xz.next_out = out;
        z->xz.avail_out = n;
        lzma_ret rc = lzma_code(&z->xz, z->raw_eof ? LZMA_FINISH : LZMA_RUN);
        z->raw_pos = z->raw_len - z->xz.avail_in;
        size_t got = n - z->xz.avail_out;
        if (rc == LZMA_STREAM_END) {
            z->done = 1;
            return (long)got;
        }
        if (rc != LZMA_OK) {
            const char *why = rc == LZMA_MEM_ERROR ? "too large to decompress"
                              : rc == LZMA_BUF_ERROR ? "truncated"
                              : rc == LZMA_DATA_ERROR ? "corrupt"
                              : rc == LZMA_FORMAT_ERROR ? "not xz"
                                                        : "unsupported";
            return lg_fail(err, "%s: xz data is %s (after %lld bytes of text)", z->path, why,
                           (long long)z->out_total);
        }
        if (got)
            return (long)got;
        if (z->raw_eof && z->xz.avail_in == avail)
            return lg_fail(err, "%s: xz data is truncated", z->path);
    }
}

static long read_zstd(lg_zstream *z, unsigned char *out, size_t n, lg_error *err)
{
    for (;;) {
        if (fill_raw(z, err) < 0)
            return -1;
        int at_end = z->raw_pos == z->raw_len && z->raw_eof;
        if (at_end && !z->zs_mid_frame)
            return 0;
        ZSTD_inBuffer in = {z->raw, z->raw_len, z->raw_pos};
        ZSTD_outBuffer o = {out, n, 0};
        size_t rc = ZSTD_decompressStream(z->zs, &o, &in);
        z->raw_pos = in.pos;
        if (ZSTD_isError(rc))
            return lg_fail(err, "%s: zstd data is corrupt (%s)", z->path, ZSTD_getErrorName(rc));
        z->zs_mid_frame = rc != 0;
        if (o.pos)
            return (long)o.pos;
        if (at_end)
            return lg_fail(err, "%s: zstd data is truncated (after %lld bytes of text)",
                           z->path, (long long)z->out_total);
    }
}

long lg_zstream_read(lg_zstream *z, void *buf, size_t n, lg_error *err)
{
    long got;
    if (n == 0)
        return 0;
    switch (z->kind) {
    case Z_GZIP:
        got = read_gzip(z, buf, n, err);
        break;
    case Z_XZ:
        got = read_xz(z, buf, n, err);
        break;
    case Z_ZSTD:
        got = read_zstd(z, buf, n, err);
        break;
    default:
        if (fill_raw(z, err) < 0)
            return -1;
        got = (long)(z->raw_len - z->raw_pos < n ? z->raw_len - z->raw_pos : n);
        memcpy(buf, z->raw + z->raw_pos, (size_t)got);
        z->raw_pos += (size_t)got;
        break;
    }
    if (got > 0)
        z->out_total += got;
    return got;
}

void lg_zstream_close(lg_zstream *z)
{
    if (!z)
        return;
    if (z->f)
        fclose(z->f);
    if (z->gz_live)
        inflateEnd(&z->gz);
    if (z->kind == Z_XZ)
        lzma_end(&z->xz);
    ZSTD_freeDStream(z->zs);
    free(z->raw);
    free(z);
}

/* ---- lines ---------------------------------------------------------------- */

void lg_zlines_init(lg_zlines *l, lg_zstream *z)
{
    memset(l, 0, sizeof *l);
    l->z = z;
}

void lg_zlines_free(lg_zlines *l)
{
    free(l->buf);
    l->buf = NULL;
}

int lg_zlines_next(lg_zlines *l, char **line, size_t *len, lg_error *err)
{
    size_t scanned = 0; /* bytes of [pos, end) known to hold no '\n' */
    if (!l->buf) {
        if (!(l->buf = malloc(1 << 18)))
            return lg_fail(err, "%s: out of memory", lg_zstream_path(l->z));
        l->cap = 1 << 18;
    }
    for (;;) {
        char *start = l->buf + l->pos;
        char *nl = l->end > l->pos + scanned ? memchr(start + scanned, '\n',
                                                      l->end - l->pos - scanned)
                                             : NULL;
        if (nl || (l->eof && l->end > l->pos)) {
            size_t n = nl ? (size_t)(nl - start) : l->end - l->pos;
            l->pos += nl ? n + 1 : n;
            start[n] = '\0'; /* the '\n', or the spare byte kept after end */
            if (n > 0 && start[n - 1] == '\r')
                start[--n] = '\0';
            l->lineno++;
            *line = start;
            *len = n;
            return 1;
        }
        if (l->eof)
            return 0;
        scanned = l->end - l->pos;
        if (scanned > LG_ZLINE_MAX)
            return lg_fail(err, "%s:%lld: a line longer than %zu MiB", lg_zstream_path(l->z),
                           (long long)l->lineno + 1, LG_ZLINE_MAX >> 20);
        /* move the partial line to the front, grow when full, read more */
        if (l->pos > 0) {
            memmove(l->buf, l->buf + l->pos, scanned);
            l->end = scanned;
            l->pos = 0;
        }
        if (l->cap - l->end < 65536 + 1) {
            size_t cap = l->cap ? l->cap * 2 : 1 << 18;
            char *grown = realloc(l->buf, cap);
            if (!grown)
                return lg_fail(err, "%s: out of memory", lg_zstream_path(l->z));
            l->buf = grown;
            l->cap = cap;
        }
        long got = lg_zstream_read(l->z, l->buf + l->end, l->cap - l->end - 1, err);
        if (got < 0)
            return -1;
        if (got == 0)
            l->eof = 1;
        l->end += (size_t)got;
    }
}
