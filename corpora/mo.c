/* GNU gettext .mo reader: a header, then two tables of (length, offset) pairs for the
 * original and the translated strings. A msgctxt is stored as "context\004msgid";
 * plural forms are NUL-separated inside one string. */
#include "lg_mo.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MO_MAGIC 0x950412deu

static uint32_t read_u32(const unsigned char *p, int swap)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

/* Locates string i of the table at table_off; checks that it lies inside the file
 * and is NUL-terminated (gettext writes a NUL after each string). */
static int table_string(const unsigned char *data, size_t size, uint32_t table_off, uint32_t i,
                        int swap, const char **s, uint32_t *len)
{
    uint64_t entry = (uint64_t)table_off + (uint64_t)i * 8;
    if (entry + 8 > size)
        return -1;
    uint32_t l = read_u32(data + entry, swap);
    uint32_t off = read_u32(data + entry + 4, swap);
    if ((uint64_t)off + l + 1 > size || data[off + l] != '\0')
        return -1;
    *s = (const char *)data + off;
    *len = l;
    return 0;
}

long lg_mo_parse(const unsigned char *data, size_t size, const char *name,
                 lg_mo_callback cb, void *ctx, lg_error *err)
{
    if (size < 28)
        return lg_fail(err, "%s: too short for a .mo catalog (%zu bytes)", name, size);
    int swap;
    if (read_u32(data, 0) == MO_MAGIC)
        swap = 0;
    else if (read_u32(data, 1) == MO_MAGIC)
        swap = 1;
    else
        return lg_fail(err, "%s: not a .mo catalog (bad magic number)", name);
    uint32_t revision = read_u32(data + 4, swap);
    if ((revision >> 16) > 1)
        return lg_fail(err, "%s: unsupported .mo revision %u", name, revision >> 16);
    uint32_t count = read_u32(data + 8, swap);
    uint32_t orig_off = read_u32(data + 12, swap);
    uint32_t trans_off = read_u32(data + 16, swap);
    if ((uint64_t)orig_off + (uint64_t)count * 8 > size ||
        (uint64_t)trans_off + (uint64_t)count * 8 > size)
        return lg_fail(err, "%s: string tables run past the end of the file", name);

    long delivered = 0;
    for (uint32_t i = 0; i < count; i++) {
        const char *orig, *trans;
        uint32_t orig_len, trans_len;
        if (table_string(data, size, orig_off, i, swap, &orig, &orig_len) < 0 ||
            table_string(data, size, trans_off, i, swap, &trans, &trans_len) < 0)
            return lg_fail(err, "%s: string %u lies outside the file", name, i);
        lg_mo_message msg = {0};
        const char *eot = memchr(orig, '\004', orig_len);
        const char *id = orig;
        char *context_copy = NULL;
        if (eot) {
            context_copy = strndup(orig, (size_t)(eot - orig));
            if (!context_copy)
                return lg_fail(err, "%s: out of memory", name);
            msg.context = context_copy;
            id = eot + 1;
        }
        msg.msgid = id;
        size_t id_len = strlen(id);
        if (id + id_len < orig + orig_len)
            msg.msgid_plural = id + id_len + 1;
        /* Plural translations: NUL-separated forms within trans_len bytes. */
        const char *p = trans, *end = trans + trans_len;
        while (msg.n_msgstr < LG_MO_MAX_FORMS) {
            msg.msgstr[msg.n_msgstr++] = p;
            p += strlen(p) + 1;
            if (p > end)
                break;
        }
        int translated = 0;
        for (int k = 0; k < msg.n_msgstr; k++)
            translated |= msg.msgstr[k][0] != '\0';
        int stop = 0;
        if (id[0] != '\0' && translated) {
            stop = cb(ctx, &msg);
            delivered++;
        }
        free(context_copy);
        if (stop)
            break;
    }
    return delivered;
}

long lg_mo_each(const char *path, lg_mo_callback cb, void *ctx, lg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (cap - size < 65536) {
            cap = cap ? cap * 2 : 262144;
            unsigned char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return lg_fail(err, "%s: out of memory", path);
            }
            data = grown;
        }
        size_t n = fread(data + size, 1, cap - size, f);
        size += n;
        if (n == 0)
            break;
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(data);
        return lg_fail(err, "%s: read error", path);
    }
    long n = lg_mo_parse(data, size, path, cb, ctx, err);
    free(data);
    return n;
}
