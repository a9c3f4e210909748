/* lg_zstream — a downloaded file read as a stream of bytes or lines, decompressed on the fly.
 *
 * The compression is told by the file's first bytes, never by its name: gzip (1f 8b, several
 * members too), xz (fd 37 7a 58 5a 00, concatenated streams too), zstd (28 b5 2f fd, several
 * frames), anything else is read as it is (bzip2 and zip are refused by name: decompress
 * them first). The SHA-256 of the file's own bytes is computed while it is read, so a
 * manifest can name exactly what went in without a second pass. Only a buffer is held in
 * memory, and a line (at most LG_ZLINE_MAX bytes).
 *
 *   lg_zstream *z = lg_zstream_open(path, &err);
 *   lg_zlines l; lg_zlines_init(&l, z);
 *   while ((rc = lg_zlines_next(&l, &line, &len, &err)) > 0) ... l.lineno ...
 *   lg_zlines_free(&l); lg_zstream_close(z);
 */
#ifndef LG_ZSTREAM_H
#define LG_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

typedef struct lg_zstream lg_zstream;

/* NULL with an error naming the file when it cannot be opened or is bzip2/zip. */
lg_zstream *lg_zstream_open(const char *path, lg_error *err);
/* Decompressed bytes into buf: the count, 0 at the end, -1 with an error naming the file
 * (corrupt or truncated data, a read error). */
long lg_zstream_read(lg_zstream *z, void *buf, size_t n, lg_error *err);
/* "plain", "gzip", "xz" or "zstd". */
const char *lg_zstream_format(const lg_zstream *z);
const char *lg_zstream_path(const lg_zstream *z);
/* Bytes of the file read so far (compressed), and decompressed bytes returned so far. */
int64_t lg_zstream_raw_bytes(const lg_zstream *z);
int64_t lg_zstream_bytes(const lg_zstream *z);
/* SHA-256 of the file's bytes read so far: the whole file's once read to the end. */
void lg_zstream_sha256(const lg_zstream *z, char hex[65]);
void lg_zstream_close(lg_zstream *z);

/* Lines of a stream: the "\n" and a "\r" before it removed; a last line without "\n" is a
 * line. A line longer than LG_ZLINE_MAX is an error naming the file and the line. */
#define LG_ZLINE_MAX ((size_t)64 << 20)

typedef struct {
    lg_zstream *z;
    char *buf;            /* the stream's bytes: [pos, end) not yet returned */
    size_t cap, pos, end;
    int eof;
    int64_t lineno;       /* 1-based number of the line last returned */
} lg_zlines;

void lg_zlines_init(lg_zlines *l, lg_zstream *z);
/* 1 and the line (NUL-terminated, valid until the next call), 0 at the end, -1 on error. */
int lg_zlines_next(lg_zlines *l, char **line, size_t *len, lg_error *err);
void lg_zlines_free(lg_zlines *l);

#endif
