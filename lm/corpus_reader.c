/* Streaming corpus lines through zlib, which reads gzip and plain files alike. */
#include "lg_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { CHUNK = 1 << 16 };

struct lg_corpus_reader {
    gzFile gz;
    char *path;
    char *chunk;          /* decompressed bytes not yet returned: chunk[pos..fill) */
    size_t pos, fill;
    char *line;           /* the current line, NUL-terminated */
    size_t line_cap;
    int64_t line_number;
    int at_eof;
};

lg_corpus_reader *lg_corpus_open(const char *path, lg_error *err)
{
    lg_corpus_reader *r = calloc(1, sizeof *r);
    if (!r) {
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    r->path = strdup(path);
    r->chunk = malloc(CHUNK);
    r->line_cap = 256;
    r->line = malloc(r->line_cap);
    if (!r->path || !r->chunk || !r->line) {
        lg_fail(err, "%s: out of memory", path);
        lg_corpus_close(r);
        return NULL;
    }
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        lg_corpus_close(r);
        return NULL;
    }
    r->gz = gzdopen(fd, "rb");
    if (!r->gz) {
        close(fd);
        lg_fail(err, "%s: cannot open: out of memory", path);
        lg_corpus_close(r);
        return NULL;
    }
    gzbuffer(r->gz, 1 << 17);
    return r;
}

static int refill(lg_corpus_reader *r, lg_error *err)
{
    int n = gzread(r->gz, r->chunk, CHUNK);
    if (n < 0) {
        int code;
        const char *msg = gzerror(r->gz, &code);
        return lg_fail(err, "%s: read error after line %lld: %s", r->path,
                       (long long)r->line_number,
                       code == Z_ERRNO ? strerror(errno) : msg);
    }
    if (n == 0) {
        /* A truncated gzip stream reads as a short file; gzerror tells. */
        int code;
        const char *msg = gzerror(r->gz, &code);
        if (code != Z_OK && code != Z_STREAM_END)
            return lg_fail(err, "%s: %s after line %lld", r->path, msg,
                           (long long)r->line_number);
        r->at_eof = 1;
    }
    r->pos = 0;
    r->fill = (size_t)n;
    return 0;
}

static int append(lg_corpus_reader *r, size_t *len, const char *src, size_t n, lg_error *err)
{
    if (*len + n + 1 > r->line_cap) {
        size_t cap = r->line_cap;
        while (*len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(r->line, cap);
        if (!grown)
            return lg_fail(err, "%s: line %lld: out of memory (%zu bytes)", r->path,
                           (long long)r->line_number + 1, *len + n);
        r->line = grown;
        r->line_cap = cap;
    }
    memcpy(r->line + *len, src, n);
    *len += n;
    return 0;
}

int lg_corpus_next(lg_corpus_reader *r, const char **line, size_t *len, lg_error *err)
{
    size_t n = 0;
    int have = 0; /* read at least one byte of this line */
    for (;;) {
        if (r->pos == r->fill) {
            if (r->at_eof)
                break;
            if (refill(r, err) < 0)
                return -1;
            continue;
        }
        char *start = r->chunk + r->pos;
        char *nl = memchr(start, '\n', r->fill - r->pos);
        size_t take = nl ? (size_t)(nl - start) : r->fill - r->pos;
        if (append(r, &n, start, take, err) < 0)
            return -1;
        have = 1;
        r->pos += take + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!have)
        return 0;
    if (n > 0 && r->line[n - 1] == '\r')
        n--;
    r->line[n] = '\0';
    r->line_number++;
    *line = r->line;
    *len = n;
    return 1;
}

int64_t lg_corpus_line_number(const lg_corpus_reader *r) { return r->line_number; }

int64_t lg_corpus_offset(const lg_corpus_reader *r) { return (int64_t)gzoffset(r->gz); }

const char *lg_corpus_path(const lg_corpus_reader *r) { return r->path; }

void lg_corpus_close(lg_corpus_reader *r)
{
    if (!r)
        return;
    if (r->gz)
        gzclose(r->gz);
    free(r->path);
    free(r->chunk);
    free(r->line);
    free(r);
}
