/* The base fingerprint: which base model checkpoint a pack or an embedding table was made
 * for, cheap enough to compute on every load (see lg_base_fingerprint in lg_model.h). It is
 * in the core because transfer writes it into tables and adapt checks it in packs. */
#include "lg_model.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_safetensors.h"

/* Hashes the first and last MiB of a file's data and its header. */
static int hash_weight_file(lg_sha256 *h, const char *path, lg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char len8[8];
    if (fread(len8, 1, 8, f) != 8) {
        fclose(f);
        return lg_fail(err, "%s: too short for a safetensors file", path);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (hlen > (uint64_t)size) {
        fclose(f);
        return lg_fail(err, "%s: header length beyond the file", path);
    }
    const long mib = 1 << 20;
    long head_end = 8 + (long)hlen + mib;
    long spans[2][2] = {{0, head_end < size ? head_end : size},
                        {size - mib > head_end ? size - mib : head_end, size}};
    unsigned char *buf = malloc(65536);
    int rc = buf ? 0 : lg_fail(err, "out of memory");
    for (int s = 0; s < 2 && rc == 0; s++) {
        fseek(f, spans[s][0], SEEK_SET);
        for (long at = spans[s][0]; at < spans[s][1];) {
            size_t want = (size_t)(spans[s][1] - at < 65536 ? spans[s][1] - at : 65536);
            size_t got = fread(buf, 1, want, f);
            if (got == 0) {
                rc = lg_fail(err, "%s: read error", path);
                break;
            }
            lg_sha256_update(h, buf, got);
            at += (long)got;
        }
    }
    free(buf);
    fclose(f);
    return rc;
}

int lg_base_fingerprint(const char *base_dir, char hex[65], lg_error *err)
{
    lg_sha256 h;
    lg_sha256_init(&h);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", base_dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        lg_sha256_update(&h, buf, n);
    fclose(f);
    /* the weight files in the order the weights set lists them */
    lg_weights *w = lg_weights_open_dir(base_dir, err);
    if (!w)
        return -1;
    const char *last = NULL;
    int rc = 0;
    for (int i = 0; i < lg_weights_count(w) && rc == 0; i++) {
        const char *file = lg_weights_tensor(w, i)->file;
        if (last && !strcmp(last, file))
            continue;
        /* shards appear in runs; hash each file once */
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(lg_weights_tensor(w, j)->file, file);
        if (!seen)
            rc = hash_weight_file(&h, file, err);
        last = file;
    }
    lg_weights_close(w);
    if (rc == 0)
        lg_sha256_final_hex(&h, hex);
    return rc;
}
