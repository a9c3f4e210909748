/* dictd dictionaries: base64 index offsets into gzip-compressed articles. */
#include "lg_dictd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* dictd's base64 digits, most significant first. */
static long b64_number(const char *s, const char *end)
{
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    long v = 0;
    for (; s < end; s++) {
        const char *d = strchr(digits, *s);
        if (!d || !*s || v > (1L << 50))
            return -1;
        v = v * 64 + (d - digits);
    }
    return v;
}

static char *read_gzip(const char *path, size_t *size, lg_error *err)
{
    gzFile in = gzopen(path, "rb");
    if (!in) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *data = malloc(cap);
    int got = 0;
    while (data && (got = gzread(in, data + n, (unsigned)(cap - n - 1))) > 0) {
        n += (size_t)got;
        if (cap - n < 65536) {
            char *grown = realloc(data, cap * 2);
            if (!grown) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    gzclose(in);
    if (!data || got < 0) {
        free(data);
        lg_fail(err, "%s: cannot decompress", path);
        return NULL;
    }
    data[n] = '\0';
    *size = n;
    return data;
}

/* Writes s with ĳ/Ĳ spelled out, trimmed. */
static void put_term(FILE *out, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) { s++; n--; }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] == 0xc4 && i + 1 < n &&
            ((unsigned char)s[i + 1] == 0xb3 || (unsigned char)s[i + 1] == 0xb2)) {
            fputs((unsigned char)s[i + 1] == 0xb3 ? "ij" : "IJ", out);
            i++;
        } else if (s[i] == '\t') {
            putc(' ', out);
        } else {
            putc(s[i], out);
        }
    }
}

static long write_article(const char *headword, size_t head_len, const char *art, size_t len,
                          int reverse, FILE *out)
{
    const char *end = art + len;
    const char *nl = memchr(art, '\n', len);
    if (!nl)
        return 0;
    long written = 0;
    for (const char *line = nl + 1; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        const char *p = line;
        while (p < eol && isdigit((unsigned char)*p))
            p++;
        if (p > line && p + 1 < eol && p[0] == '.' && p[1] == ' ')
            line = p + 2;
        /* translations separated by ',' or ';' */
        for (const char *t = line; t < eol;) {
            const char *sep = t;
            while (sep < eol && *sep != ',' && *sep != ';')
                sep++;
            const char *a = t, *b = sep;
            while (a < b && isspace((unsigned char)*a)) a++;
            while (b > a && isspace((unsigned char)b[-1])) b--;
            if (b > a && b - a < 200) {
                if (reverse) {
                    put_term(out, a, (size_t)(b - a));
                    putc('\t', out);
                    put_term(out, headword, head_len);
                } else {
                    put_term(out, headword, head_len);
                    putc('\t', out);
                    put_term(out, a, (size_t)(b - a));
                }
                putc('\n', out);
                written++;
            }
            t = sep + 1;
        }
        line = eol + 1;
    }
    return written;
}

long lg_dictd_pairs(const char *index_path, const char *dict_path, int reverse, FILE *out,
                    lg_error *err)
{
    size_t size;
    char *data = read_gzip(dict_path, &size, err);
    if (!data)
        return -1;
    FILE *index = fopen(index_path, "r");
    if (!index) {
        free(data);
        return lg_fail(err, "%s: cannot open: %s", index_path, strerror(errno));
    }
    char line[4096];
    long written = 0, entries = 0, lineno = 0;
    while (fgets(line, sizeof line, index)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            fclose(index);
            free(data);
            return lg_fail(err, "%s:%ld: not a dictd index line", index_path, lineno);
        }
        if (strncmp(line, "00database", 10) == 0 || strncmp(line, "00-database", 11) == 0)
            continue;
        long off = b64_number(t1 + 1, t2), len = b64_number(t2 + 1, t2 + strlen(t2));
        if (off < 0 || len < 0 || (size_t)(off + len) > size) {
            fclose(index);
            free(data);
            return lg_fail(err, "%s:%ld: article lies outside %s", index_path, lineno, dict_path);
        }
        entries++;
        written += write_article(line, (size_t)(t1 - line), data + off, (size_t)len, reverse, out);
    }
    fclose(index);
    free(data);
    if (entries == 0)
        return lg_fail(err, "%s: no entries", index_path);
    return written;
}
