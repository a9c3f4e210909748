/* Paragraph splitter for plain text and reStructuredText. */
#include "lg_text_paragraphs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Longest paragraph passed on; longer ones are flushed in pieces at line ends. */
#define PARAGRAPH_MAX 16384

/* Lines that carry layout, not text. */
static int decoration_line(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, ".. ", 3) == 0 || strcmp(s, "..") == 0)
        return 1;
    size_t n = strlen(s);
    if (n >= 3) {  /* "=====", "-----", "+----+----+", "~~~~" */
        int only_punct = 1;
        for (const char *p = s; *p && only_punct; p++)
            only_punct = ispunct((unsigned char)*p) || *p == ' ';
        if (only_punct)
            return 1;
    }
    return 0;
}

long lg_text_paragraphs(const char *path, lg_paragraph_callback cb, void *ctx, lg_error *err)
{
    gzFile in = gzopen(path, "rb");
    if (!in)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *para = malloc(PARAGRAPH_MAX + 8192);
    char line[8192];
    if (!para) {
        gzclose(in);
        return lg_fail(err, "%s: out of memory", path);
    }
    size_t n = 0;
    long count = 0;
    int stop = 0;
    for (;;) {
        char *got = gzgets(in, line, sizeof line);
        int blank = 1;
        if (got) {
            line[strcspn(line, "\r\n")] = '\0';
            for (const char *p = line; *p; p++)
                if (!isspace((unsigned char)*p)) {
                    blank = 0;
                    break;
                }
        }
        if ((blank || !got || n >= PARAGRAPH_MAX) && n > 0) {
            para[n] = '\0';
            count++;
            stop = cb(ctx, para);
            n = 0;
        }
        if (!got || stop)
            break;
        if (blank || decoration_line(line))
            continue;
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t l = strlen(s);
        if (n)
            para[n++] = ' ';
        memcpy(para + n, s, l);
        n += l;
    }
    int zerr;
    const char *zmsg = gzerror(in, &zerr);
    int failed = zerr != Z_OK && zerr != Z_STREAM_END;
    if (failed)
        lg_fail(err, "%s: read failed: %s", path, zmsg);
    gzclose(in);
    free(para);
    return failed ? -1 : count;
}
