/* Fluent (.ftl) and .properties readers: line-based, enough for Mozilla's files. */
#include "lg_fluent.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *s;
    size_t n, cap;
} text_buf;

static int buf_append(text_buf *b, const char *s, size_t n)
{
    if (b->n + n + 2 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + n;
        char *grown = realloc(b->s, cap);
        if (!grown)
            return -1;
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

static int is_id_char(int c)
{
    return isalnum(c) || c == '-' || c == '_';
}

/* Emits the pending message, if any; returns cb's verdict (non-zero stops). */
static int flush(char *key, text_buf *value, lg_keyed_callback cb, void *ctx, long *count)
{
    int stop = 0;
    if (key[0] && value->n) {
        /* trim */
        size_t n = value->n;
        while (n && isspace((unsigned char)value->s[n - 1]))
            value->s[--n] = '\0';
        char *v = value->s;
        while (*v == ' ')
            v++;
        if (*v) {
            (*count)++;
            stop = cb(ctx, key, v);
        }
    }
    value->n = 0;
    if (value->s)
        value->s[0] = '\0';
    return stop;
}

long lg_fluent_each(const char *path, lg_keyed_callback cb, void *ctx, lg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char line[16384], id[256] = "", key[512] = "";
    text_buf value = {0};
    long count = 0;
    int stop = 0;
    while (!stop && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            if (line[0] == '#') {  /* a comment at column 0 ends the message */
                stop = flush(key, &value, cb, ctx, &count);
                id[0] = key[0] = '\0';
            }
            continue;
        }
        if (line[0] != ' ' && line[0] != '\t') {
            stop = flush(key, &value, cb, ctx, &count);
            const char *p = line;
            size_t n = 0;
            while (is_id_char((unsigned char)p[n]))
                n++;
            const char *eq = p + n;
            while (*eq == ' ')
                eq++;
            if (n == 0 || n >= sizeof id || *eq != '=') {
                id[0] = key[0] = '\0';
                continue;
            }
            memcpy(id, p, n);
            id[n] = '\0';
            snprintf(key, sizeof key, "%s", id);
            if (buf_append(&value, eq + 1, strlen(eq + 1)) < 0)
                goto oom;
            continue;
        }
        if (!id[0])
            continue;
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '.') {  /* attribute */
            size_t n = 1;
            while (is_id_char((unsigned char)p[n]))
                n++;
            const char *eq = p + n;
            while (*eq == ' ')
                eq++;
            if (*eq == '=') {
                stop = flush(key, &value, cb, ctx, &count);
                snprintf(key, sizeof key, "%s%.*s", id, (int)n, p);
                if (buf_append(&value, eq + 1, strlen(eq + 1)) < 0)
                    goto oom;
                continue;
            }
        }
        if (buf_append(&value, " ", 1) < 0 || buf_append(&value, p, strlen(p)) < 0)
            goto oom;
    }
    if (!stop)
        flush(key, &value, cb, ctx, &count);
    free(value.s);
    fclose(f);
    return count;
oom:
    free(value.s);
    fclose(f);
    return lg_fail(err, "%s: out of memory", path);
}

/* Decodes \uXXXX, \n, \t and \x escapes of a .properties value in place. */
static void unescape_properties(char *s)
{
    char *out = s;
    for (const char *p = s; *p;) {
        if (*p != '\\' || !p[1]) {
            *out++ = *p++;
            continue;
        }
        p++;
        if (*p == 'u' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
            isxdigit((unsigned char)p[3]) && isxdigit((unsigned char)p[4])) {
            char hex[5] = {p[1], p[2], p[3], p[4], 0};
            unsigned cp = (unsigned)strtoul(hex, NULL, 16);
            p += 5;
            /* \uXXXX is 6 bytes, its UTF-8 at most 3 */
            if (cp < 0x80) {
                *out++ = (char)cp;
            } else if (cp < 0x800) {
                *out++ = (char)(0xc0 | cp >> 6);
                *out++ = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0xd800 || cp > 0xdfff) {
                *out++ = (char)(0xe0 | cp >> 12);
                *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *out++ = (char)(0x80 | (cp & 0x3f));
            }
            continue;
        }
        *out++ = (*p == 'n' || *p == 't') ? ' ' : *p;
        p++;
    }
    *out = '\0';
}

long lg_properties_each(const char *path, lg_keyed_callback cb, void *ctx, lg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char line[16384];
    text_buf logical = {0};
    long count = 0;
    int stop = 0;
    while (!stop && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *p = line;
        if (logical.n == 0) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '#' || *p == '!' || !*p)
                continue;
        } else {
            while (*p == ' ' || *p == '\t')
                p++;
        }
        size_t n = strlen(p);
        int continued = n && p[n - 1] == '\\';
        if (buf_append(&logical, p, continued ? n - 1 : n) < 0) {
            free(logical.s);
            fclose(f);
            return lg_fail(err, "%s: out of memory", path);
        }
        if (continued)
            continue;
        char *sep = strpbrk(logical.s, "=:");
        if (sep) {
            char *key_end = sep;
            while (key_end > logical.s && isspace((unsigned char)key_end[-1]))
                key_end--;
            *key_end = '\0';
            char *value = sep + 1;
            while (*value == ' ' || *value == '\t')
                value++;
            unescape_properties(value);
            if (logical.s[0] && *value) {
                count++;
                stop = cb(ctx, logical.s, value);
            }
        }
        logical.n = 0;
        logical.s[0] = '\0';
    }
    free(logical.s);
    fclose(f);
    return count;
}
