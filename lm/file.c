/* Whole small files into memory, bounded. */
#include "lg_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *lg_read_file(const char *path, size_t limit, size_t *len_out, lg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= limit) {
                lg_fail(err, "%s: larger than %zu bytes", path, limit);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        fclose(f);
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    if (ferror(f)) {
        lg_fail(err, "%s: read error", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    if (len_out)
        *len_out = len;
    return buf;
}
