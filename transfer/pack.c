/* Embedding table packs: the new rows as one safetensors file with provenance metadata. */
#include "lg_transfer.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_model.h"
#include "lg_io.h"

#define EMBED_NAME "model.embed_tokens.weight"
#define HEAD_NAME "lm_head.weight"

static int write_pack(const char *path, const void *embed, const void *head, int32_t n,
                      int hidden, int from_f32, lg_dtype dtype, const lg_pack_meta *meta,
                      lg_error *err);

int lg_pack_write(const char *path, const float *embed, const float *head, int32_t n, int hidden,
                  lg_dtype dtype, const lg_pack_meta *meta, lg_error *err)
{
    return write_pack(path, embed, head, n, hidden, 1, dtype, meta, err);
}

int lg_pack_write_as(const char *path, const void *embed, const void *head, int32_t n,
                     int hidden, lg_dtype dtype, const lg_pack_meta *meta, lg_error *err)
{
    return write_pack(path, embed, head, n, hidden, 0, dtype, meta, err);
}

/* The first cell that is not a finite number, or cells. */
static size_t first_nonfinite(const void *v, size_t cells, lg_dtype dt)
{
    size_t bad = cells;
    if (dt == LG_DT_F32) {
        const float *f = v;
#pragma omp parallel for schedule(static) reduction(min : bad)
        for (size_t i = 0; i < cells; i++)
            if (!isfinite(f[i]) && i < bad)
                bad = i;
    } else {
        const uint16_t *h = v, mask = dt == LG_DT_BF16 ? 0x7f80 : 0x7c00;
#pragma omp parallel for schedule(static) reduction(min : bad)
        for (size_t i = 0; i < cells; i++)
            if ((h[i] & mask) == mask && i < bad)
                bad = i;
    }
    return bad;
}

static int write_pack(const char *path, const void *embed, const void *head, int32_t n,
                      int hidden, int from_f32, lg_dtype dtype, const lg_pack_meta *meta,
                      lg_error *err)
{
    if (dtype != LG_DT_F32 && dtype != LG_DT_F16 && dtype != LG_DT_BF16)
        return lg_fail(err, "%s: packs are stored as F32, F16 or BF16, not %s", path,
                       lg_dtype_name(dtype));
    const size_t cells = (size_t)n * (size_t)hidden;
    for (int k = 0; k < (head ? 2 : 1); k++) {
        const size_t i = first_nonfinite(k ? head : embed, cells, from_f32 ? LG_DT_F32 : dtype);
        if (i < cells)
            return lg_fail(err, "%s: row %zu of %s is not finite: nothing written", path,
                           i / (size_t)hidden, k ? HEAD_NAME : EMBED_NAME);
    }
    char fingerprint[65];
    const char *fp = meta->base_fingerprint;
    if (!fp) {
        if (!meta->base_model)
            return lg_fail(err, "%s: a table needs its base model (for the base fingerprint)",
                           path);
        if (lg_base_fingerprint(meta->base_model, fingerprint, err) < 0)
            return -1;
        fp = fingerprint;
    }
    lg_st_writer *w = lg_st_writer_new();
    if (!w)
        return lg_fail(err, "out of memory");
    int64_t shape[2] = {n, hidden};
    char buf[64];
    int rc = from_f32 ? lg_st_writer_add_f32(w, EMBED_NAME, dtype, 2, shape, embed, err)
                      : lg_st_writer_add(w, EMBED_NAME, dtype, 2, shape, embed, err);
    if (rc == 0 && head)
        rc = from_f32 ? lg_st_writer_add_f32(w, HEAD_NAME, dtype, 2, shape, head, err)
                      : lg_st_writer_add(w, HEAD_NAME, dtype, 2, shape, head, err);
    struct {
        const char *key, *value;
    } kv[] = {
        {"lingraft.kind", "embedding-table-pack"},
        {"base_model", meta->base_model},
        {"base_fingerprint", fp},
        {"tokenizer_sha256", meta->tokenizer_sha256},
        {"base_tokenizer_sha256", meta->base_tokenizer_sha256},
        {"language", meta->language},
        {"script", meta->script},
        {"method", meta->method},
        {"alignment_table_sha256", meta->table_sha256},
        {"tied", head ? "false" : "true"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && rc == 0; i++)
        if (kv[i].value)
            rc = lg_st_writer_set_metadata(w, kv[i].key, kv[i].value, err);
    if (rc == 0) {
        snprintf(buf, sizeof buf, "%d", n);
        rc = lg_st_writer_set_metadata(w, "vocab_size", buf, err);
    }
    if (rc == 0) {
        snprintf(buf, sizeof buf, "%d", hidden);
        rc = lg_st_writer_set_metadata(w, "hidden_size", buf, err);
    }
    if (rc == 0 && meta->counts) {
        cJSON *o = cJSON_CreateObject();
        for (int s = 0; s < LG_ROW_KINDS && o; s++)
            if (meta->counts[s])
                cJSON_AddNumberToObject(o, lg_row_source_name((lg_row_source)s), (double)meta->counts[s]);
        char *js = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        rc = js ? lg_st_writer_set_metadata(w, "init_counts", js, err)
                : lg_fail(err, "out of memory");
        free(js);
    }
    if (rc == 0)
        rc = lg_st_writer_write(w, path, err);
    lg_st_writer_free(w);
    return rc;
}

int lg_pack_check(const char *pack_path, const char *tokenizer_path, const char *base_dir,
                  lg_error *err)
{
    lg_safetensors *st = lg_st_open(pack_path, err);
    if (!st)
        return -1;
    int rc = 0;
    const lg_tensor_info *e = lg_st_find(st, EMBED_NAME);
    if (!e || e->ndim != 2) {
        rc = lg_fail(err, "%s: no %s matrix: not an embedding table pack", pack_path, EMBED_NAME);
        goto done;
    }
    if (tokenizer_path) {
        char sha[65];
        const char *want = lg_st_metadata(st, "tokenizer_sha256");
        if ((rc = lg_sha256_file(tokenizer_path, sha, err)) < 0)
            goto done;
        if (!want) {
            rc = lg_fail(err, "%s: the pack names no tokenizer checksum", pack_path);
            goto done;
        }
        if (strcmp(want, sha)) {
            rc = lg_fail(err, "%s: made for a tokenizer with sha256 %.12s..., but %s has %.12s...: "
                         "checksum mismatch", pack_path, want, tokenizer_path, sha);
            goto done;
        }
    }
    if (base_dir) {
        lg_config cfg;
        if ((rc = lg_config_load_dir(base_dir, &cfg, err)) < 0)
            goto done;
        if (e->shape[1] != cfg.hidden_size) {
            rc = lg_fail(err, "%s: rows have %lld values but the base model %s has hidden size %d",
                         pack_path, (long long)e->shape[1], base_dir, cfg.hidden_size);
            goto done;
        }
        const lg_tensor_info *h = lg_st_find(st, HEAD_NAME);
        if (!cfg.tie_word_embeddings && !h) {
            rc = lg_fail(err, "%s: has no %s but the base model %s has an untied head", pack_path,
                         HEAD_NAME, base_dir);
            goto done;
        }
        if (h && (h->ndim != 2 || h->shape[0] != e->shape[0] || h->shape[1] != e->shape[1])) {
            rc = lg_fail(err, "%s: %s and %s differ in shape", pack_path, HEAD_NAME, EMBED_NAME);
            goto done;
        }
        /* the shapes first (their message is the more telling), then the checkpoint */
        char have[65];
        const char *want = lg_st_metadata(st, "base_fingerprint");
        if (!want) {
            rc = lg_fail(err, "%s: names no base fingerprint (written before lingraft recorded "
                              "them): run transfer init again", pack_path);
            goto done;
        }
        if ((rc = lg_base_fingerprint(base_dir, have, err)) < 0)
            goto done;
        if (strcmp(want, have)) {
            rc = lg_fail(err, "%s: made for a base model with fingerprint %.12s..., but %s has "
                              "%.12s...: another checkpoint", pack_path, want, base_dir, have);
            goto done;
        }
    }
done:
    lg_st_close(st);
    return rc;
}
