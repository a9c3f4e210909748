/* Table packs over an unchanged base model: fingerprint, loading, assembling. */
#include "lg_pack.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_io.h"
#include "lg_transfer.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_safetensors.h"

#define EMBED_NAME "model.embed_tokens.weight"
#define HEAD_NAME "lm_head.weight"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

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

void lg_pack_table_path(const char *pack, char *out)
{
    if (is_dir(pack))
        snprintf(out, 4096, "%s/pack.safetensors", pack);
    else
        snprintf(out, 4096, "%s", pack);
}

int lg_pack_tokenizer_path(const char *pack, char *out)
{
    if (!is_dir(pack))
        return 0;
    snprintf(out, 4096, "%s/tokenizer.model", pack);
    return is_file(out);
}

/* The base fingerprint recorded in PACK/pack.json, or "" when there is none. */
static int recorded_fingerprint(const char *pack, char *out, size_t n, lg_error *err)
{
    out[0] = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/pack.json", pack);
    if (!is_dir(pack) || !is_file(path))
        return 0;
    cJSON *j = lg_json_read(path, 1 << 20, err);
    if (!j)
        return -1;
    const cJSON *fp = cJSON_GetObjectItem(j, "base_fingerprint");
    if (cJSON_IsString(fp))
        snprintf(out, n, "%s", fp->valuestring);
    cJSON_Delete(j);
    return 0;
}

lg_model *lg_model_open(const char *base_dir, const char *pack, lg_error *err)
{
    if (!pack)
        return lg_model_load_dir(base_dir, err);
    char table[4096];
    lg_pack_table_path(pack, table);
    char want[80];
    if (recorded_fingerprint(pack, want, sizeof want, err) < 0)
        return NULL;
    if (want[0]) {
        char have[65];
        if (lg_base_fingerprint(base_dir, have, err) < 0)
            return NULL;
        if (strcmp(want, have)) {
            lg_fail(err, "%s: made for a base model with fingerprint %.12s..., but %s has "
                         "%.12s...: another checkpoint", pack, want, base_dir, have);
            return NULL;
        }
    }
    lg_config cfg;
    if (lg_config_load_dir(base_dir, &cfg, err) < 0)
        return NULL;
    lg_safetensors *st = lg_st_open(table, err);
    if (!st)
        return NULL;
    lg_model *m = NULL;
    lg_weights *w = NULL;
    const lg_tensor_info *e = lg_st_find(st, EMBED_NAME), *h = lg_st_find(st, HEAD_NAME);
    if (!e || e->ndim != 2) {
        lg_fail(err, "%s: no %s matrix: not an embedding table pack", table, EMBED_NAME);
        goto fail;
    }
    if (e->shape[1] != cfg.hidden_size) {
        lg_fail(err, "%s: rows have %lld values but the base model %s has hidden size %d", table,
                (long long)e->shape[1], base_dir, cfg.hidden_size);
        goto fail;
    }
    if (!cfg.tie_word_embeddings && !h) {
        lg_fail(err, "%s: has no %s but the base model %s has an untied head", table, HEAD_NAME,
                base_dir);
        goto fail;
    }
    cfg.vocab_size = (int)e->shape[0];
    if (h)
        cfg.tie_word_embeddings = 0; /* the pack brings its own head */
    if (!(m = lg_model_create(&cfg, err)) || !(w = lg_weights_open_dir(base_dir, err)) ||
        lg_model_load_weights_ex(m, w, base_dir, 1, err) < 0)
        goto fail;
    if (lg_tensor_to_f32(e, m->p.embed, err) < 0)
        goto fail;
    if (h && (lg_tensor_expect_shape(h, 2, e->shape, err) < 0 || lg_tensor_to_f32(h, m->p.lm_head, err) < 0))
        goto fail;
    lg_langsamp *ls = lg_langsamp_from_file(st, table, cfg.hidden_size, err);
    if (!ls && err && err->msg[0])
        goto fail;
    if (ls)
        lg_model_attach_langsamp(m, ls);
    lg_weights_close(w);
    w = NULL;
    lg_st_close(st);
    st = NULL;
    if (is_dir(pack)) {
        char path[4200];
        snprintf(path, sizeof path, "%s/langsamp.safetensors", pack);
        if (is_file(path)) {
            lg_safetensors *ls_st = lg_st_open(path, err);
            lg_langsamp *lsv = ls_st ? lg_langsamp_from_file(ls_st, path, cfg.hidden_size, err) : NULL;
            lg_st_close(ls_st);
            if (!lsv) {
                if (err && !err->msg[0])
                    lg_fail(err, "%s: holds no language/script vectors", path);
                goto fail;
            }
            lg_model_attach_langsamp(m, lsv);
        }
        snprintf(path, sizeof path, "%s/adapter", pack);
        if (is_dir(path) && !lg_lora_load_peft(m, path, err))
            goto fail;
    }
    return m;
fail:
    lg_weights_close(w);
    if (st)
        lg_st_close(st);
    lg_model_free(m);
    return NULL;
}

static int copy_file(const char *from, const char *to, lg_error *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return lg_fail(err, "%s: cannot open: %s", from, strerror(errno));
    FILE *out = fopen(to, "wb");
    if (!out) {
        fclose(in);
        return lg_fail(err, "%s: cannot create: %s", to, strerror(errno));
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            rc = lg_fail(err, "%s: write failed", to);
            break;
        }
    if (ferror(in))
        rc = lg_fail(err, "%s: read failed", from);
    fclose(in);
    if (fclose(out) != 0 && rc == 0)
        rc = lg_fail(err, "%s: write failed", to);
    return rc;
}

int lg_pack_assemble(const char *out, const lg_pack_parts *parts, lg_error *err)
{
    if (!parts->table || !parts->tokenizer || !parts->base_dir)
        return lg_fail(err, "a pack needs a table, a tokenizer and the base model");
    if (lg_pack_check(parts->table, parts->tokenizer, parts->base_dir, err) < 0)
        return -1;
    char fingerprint[65];
    if (lg_base_fingerprint(parts->base_dir, fingerprint, err) < 0)
        return -1;
    lg_atomic_dir d;
    if (lg_atomic_dir_begin(&d, out, 0, err) < 0)
        return -1;
    char path[4200], sha[65];
    cJSON *j = cJSON_CreateObject();
    cJSON *files = cJSON_CreateObject();
    lg_safetensors *st = lg_st_open(parts->table, err);
    int rc = st ? 0 : -1;
    if (rc == 0) {
        const char *keys[] = {"language", "script", "method", "base_model", "tokenizer_sha256"};
        const char *over[] = {parts->language, parts->script, NULL, NULL, NULL};
        for (int i = 0; i < 5; i++) {
            const char *v = over[i] ? over[i] : lg_st_metadata(st, keys[i]);
            if (v)
                cJSON_AddStringToObject(j, keys[i], v);
        }
        const lg_tensor_info *e = lg_st_find(st, EMBED_NAME);
        cJSON_AddNumberToObject(j, "vocab_size", (double)e->shape[0]);
        cJSON_AddNumberToObject(j, "hidden_size", (double)e->shape[1]);
        lg_st_close(st);
    }
    cJSON_AddStringToObject(j, "base_fingerprint", fingerprint);
    cJSON_AddStringToObject(j, "base_dir", parts->base_dir);
    struct {
        const char *from, *name;
    } copies[] = {{parts->table, "pack.safetensors"},
                  {parts->tokenizer, "tokenizer.model"},
                  {parts->langsamp, "langsamp.safetensors"}};
    for (size_t i = 0; i < sizeof copies / sizeof *copies && rc == 0; i++) {
        if (!copies[i].from)
            continue;
        snprintf(path, sizeof path, "%s/%s", d.tmp, copies[i].name);
        rc = copy_file(copies[i].from, path, err);
        if (rc == 0 && (rc = lg_sha256_file(path, sha, err)) == 0)
            cJSON_AddStringToObject(files, copies[i].name, sha);
    }
    if (rc == 0 && parts->adapter_dir) {
        snprintf(path, sizeof path, "%s/adapter", d.tmp);
        if (mkdir(path, 0755) != 0)
            rc = lg_fail(err, "%s: cannot create: %s", path, strerror(errno));
        const char *names[] = {"adapter_config.json", "adapter_model.safetensors"};
        for (int i = 0; i < 2 && rc == 0; i++) {
            char from[4200], to[4300];
            snprintf(from, sizeof from, "%s/%s", parts->adapter_dir, names[i]);
            snprintf(to, sizeof to, "%s/adapter/%s", d.tmp, names[i]);
            rc = copy_file(from, to, err);
            if (rc == 0 && (rc = lg_sha256_file(to, sha, err)) == 0) {
                char key[64];
                snprintf(key, sizeof key, "adapter/%s", names[i]);
                cJSON_AddStringToObject(files, key, sha);
            }
        }
    }
    cJSON_AddItemToObject(j, "files", files);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/pack.json", d.tmp);
        rc = lg_json_write(path, j, err);
    }
    cJSON_Delete(j);
    /* the assembled pack must load over its base */
    if (rc == 0) {
        lg_model *m = lg_model_open(parts->base_dir, d.tmp, err);
        if (!m)
            rc = -1;
        lg_model_free(m);
    }
    if (rc == 0)
        rc = lg_atomic_dir_commit(&d, err);
    else
        lg_atomic_dir_abort(&d);
    return rc;
}
