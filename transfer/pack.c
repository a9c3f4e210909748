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

/* The tables: in memory (embed, head; floats to convert when from_f32), or made as they are
 * written (rows). */
typedef struct {
    const void *embed, *head;
    int from_f32;
    lg_pack_rows_fn rows;
    void *ctx;
    int has_head;
} pack_tables;

static int write_pack(const char *path, const pack_tables *tb, int32_t n, int hidden,
                      lg_dtype dtype, const lg_pack_meta *meta, lg_error *err);

int lg_pack_write(const char *path, const float *embed, const float *head, int32_t n, int hidden,
                  lg_dtype dtype, const lg_pack_meta *meta, lg_error *err)
{
    pack_tables tb = {.embed = embed, .head = head, .from_f32 = 1, .has_head = head != NULL};
    return write_pack(path, &tb, n, hidden, dtype, meta, err);
}

int lg_pack_write_as(const char *path, const void *embed, const void *head, int32_t n,
                     int hidden, lg_dtype dtype, const lg_pack_meta *meta, lg_error *err)
{
    pack_tables tb = {.embed = embed, .head = head, .has_head = head != NULL};
    return write_pack(path, &tb, n, hidden, dtype, meta, err);
}

int lg_pack_write_rows(const char *path, int32_t n, int hidden, int has_head, lg_dtype dtype,
                       lg_pack_rows_fn rows, void *ctx, const lg_pack_meta *meta, lg_error *err)
{
    pack_tables tb = {.rows = rows, .ctx = ctx, .has_head = has_head};
    return write_pack(path, &tb, n, hidden, dtype, meta, err);
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

/* One table of a streamed pack, for the writer's fill: whole rows, checked finite. */
typedef struct {
    const pack_tables *tb;
    const char *path;
    int head, hidden;
    lg_dtype dtype;
} pack_fill;

static int fill_rows(void *vctx, size_t at, size_t n, void *dst, lg_error *err)
{
    const pack_fill *p = vctx;
    const size_t row = (size_t)p->hidden * lg_dtype_size(p->dtype), cells = n / lg_dtype_size(p->dtype);
    const int32_t t0 = (int32_t)(at / row), t1 = (int32_t)((at + n) / row);
    if (p->tb->rows(p->tb->ctx, p->head, t0, t1, dst, err) < 0)
        return -1;
    const size_t i = first_nonfinite(dst, cells, p->dtype);
    if (i < cells)
        return lg_fail(err, "%s: row %zu of %s is not finite: nothing written", p->path,
                       (size_t)t0 + i / (size_t)p->hidden, p->head ? HEAD_NAME : EMBED_NAME);
    return 0;
}

static int write_pack(const char *path, const pack_tables *tb, int32_t n, int hidden,
                      lg_dtype dtype, const lg_pack_meta *meta, lg_error *err)
{
    if (dtype != LG_DT_F32 && dtype != LG_DT_F16 && dtype != LG_DT_BF16)
        return lg_fail(err, "%s: packs are stored as F32, F16 or BF16, not %s", path,
                       lg_dtype_name(dtype));
    const size_t cells = (size_t)n * (size_t)hidden;
    for (int k = 0; !tb->rows && k < (tb->has_head ? 2 : 1); k++) {
        const size_t i = first_nonfinite(k ? tb->head : tb->embed, cells,
                                         tb->from_f32 ? LG_DT_F32 : dtype);
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
    pack_fill fills[2] = {{tb, path, 0, hidden, dtype}, {tb, path, 1, hidden, dtype}};
    int rc = 0;
    for (int k = 0; k < (tb->has_head ? 2 : 1) && rc == 0; k++) {
        const char *name = k ? HEAD_NAME : EMBED_NAME;
        const void *data = k ? tb->head : tb->embed;
        rc = tb->rows       ? lg_st_writer_add_fill(w, name, dtype, 2, shape, fill_rows, &fills[k], err)
             : tb->from_f32 ? lg_st_writer_add_f32(w, name, dtype, 2, shape, data, err)
                            : lg_st_writer_add(w, name, dtype, 2, shape, data, err);
    }
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
        {"tied", tb->has_head ? "false" : "true"},
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
