/* Table packs over an unchanged base model: verification, loading, assembling. */
#include "lg_pack.h"

#include <cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_arch.h"
#include "lg_io.h"
#include "lg_transfer.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

/* a table's matrices: lingraft's names whatever the base's architecture (a base's own are
 * its descriptor's, lg_arch.h) */
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
    snprintf(out, 4096, "%s/tokenizer.json", pack);
    if (is_file(out))
        return 1;
    snprintf(out, 4096, "%s/tokenizer.model", pack);
    return is_file(out);
}

/* The files a pack's load reads, relative to PACK; each must be listed in pack.json with
 * its sha256 when it is there (pack.safetensors always is). */
static const char *const pack_files[] = {"pack.safetensors", "tokenizer.model", "tokenizer.json",
                                         "langsamp.safetensors", "adapter/adapter_config.json",
                                         "adapter/adapter_model.safetensors"};
#define N_PACK_FILES (sizeof pack_files / sizeof *pack_files)

/* Verifies PACK/pack.json: every file the load reads is listed and has the sha256 listed,
 * and its base_fingerprint is `have`, the base's. */
static int verify_pack_dir(const char *pack, const char *base_dir, const char *have,
                           lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pack.json", pack);
    if (!is_file(path))
        return lg_fail(err, "%s: missing: a pack directory is verified through it (its "
                            "checksums and base fingerprint); assemble the pack with adapt pack",
                       path);
    cJSON *j = lg_json_read(path, 1 << 20, err);
    if (!j)
        return -1;
    int rc = 0;
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(j, "base_fingerprint");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
    if (!cJSON_IsString(fp) || !cJSON_IsObject(files))
        rc = lg_fail(err, "%s: no base_fingerprint or files: not a pack.json of adapt pack", path);
    else if (strcmp(fp->valuestring, have))
        rc = lg_fail(err, "%s: made for a base model with fingerprint %.12s..., but %s has "
                          "%.12s...: another checkpoint", pack, fp->valuestring, base_dir, have);
    for (size_t i = 0; i < N_PACK_FILES && rc == 0; i++) {
        char file[4300], sha[65];
        snprintf(file, sizeof file, "%s/%s", pack, pack_files[i]);
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(files, pack_files[i]);
        if (!is_file(file)) {
            if (want || i == 0)
                rc = lg_fail(err, "%s: missing, but %s lists it", file, path);
            continue;
        }
        if (!cJSON_IsString(want))
            rc = lg_fail(err, "%s: not listed in %s: the pack was changed after adapt pack "
                              "made it", file, path);
        else if ((rc = lg_sha256_file(file, sha, err)) == 0 && strcmp(sha, want->valuestring))
            rc = lg_fail(err, "%s: sha256 %.12s..., but %s lists %.12s...: the file was "
                              "changed or damaged after adapt pack made it", file, sha, path,
                         want->valuestring);
    }
    cJSON_Delete(j);
    return rc;
}

/* Verifies what a load is about to read: the pack directory's checksums and base
 * fingerprint, and the table's own base fingerprint (a bare table has only that). */
static int verify_pack(const char *base_dir, const char *pack, const char *table,
                       const lg_safetensors *st, lg_error *err)
{
    char have[65];
    if (lg_base_fingerprint(base_dir, have, err) < 0)
        return -1;
    if (is_dir(pack) && verify_pack_dir(pack, base_dir, have, err) < 0)
        return -1;
    const char *want = lg_st_metadata(st, "base_fingerprint");
    if (!want)
        return lg_fail(err, "%s: names no base fingerprint (written before lingraft recorded "
                            "them), so it cannot be checked against %s: run transfer init again",
                       table, base_dir);
    if (strcmp(want, have))
        return lg_fail(err, "%s: made for a base model with fingerprint %.12s..., but %s has "
                            "%.12s...: another checkpoint", table, want, base_dir, have);
    return 0;
}

int lg_pack_check_tokenizer(const char *pack, const char *tokenizer_path, lg_error *err)
{
    char table[4096], have[65];
    lg_pack_table_path(pack, table);
    lg_safetensors *st = lg_st_open(table, err);
    if (!st)
        return -1;
    int rc = lg_sha256_file(tokenizer_path, have, err);
    const char *want = lg_st_metadata(st, "tokenizer_sha256");
    if (rc == 0 && !want)
        rc = lg_fail(err, "%s: names no tokenizer checksum, so %s cannot be checked against it",
                     table, tokenizer_path);
    else if (rc == 0 && strcmp(want, have))
        rc = lg_fail(err, "%s: made for a tokenizer with sha256 %.12s..., but %s has %.12s...: "
                          "another tokenizer", pack, want, tokenizer_path, have);
    lg_st_close(st);
    return rc;
}

/* The checks every use of a table makes before reading its data: an embedding matrix of
 * the base's hidden size, a head when the base's is untied, the pack's checksums and base
 * fingerprint, a vocabulary size that fits an int. */
static int check_table(const lg_config *cfg, const lg_safetensors *st, const char *table,
                       const char *base_dir, const char *pack, lg_error *err)
{
    const lg_tensor_info *e = lg_st_find(st, EMBED_NAME), *h = lg_st_find(st, HEAD_NAME);
    if (!e || e->ndim != 2)
        return lg_fail(err, "%s: no %s matrix: not an embedding table pack", table, EMBED_NAME);
    if (e->shape[1] != cfg->hidden_size)
        return lg_fail(err, "%s: rows have %lld values but the base model %s has hidden size %d",
                       table, (long long)e->shape[1], base_dir, cfg->hidden_size);
    if (!cfg->tie_word_embeddings && !h)
        return lg_fail(err, "%s: has no %s but the base model %s has an untied head", table,
                       HEAD_NAME, base_dir);
    /* the shapes above say more than a fingerprint; the checksums come before any data */
    if (verify_pack(base_dir, pack, table, st, err) < 0)
        return -1;
    if (e->shape[0] < 1 || e->shape[0] > INT32_MAX)
        return lg_fail(err, "%s: %lld rows: not a vocabulary", table, (long long)e->shape[0]);
    return 0;
}

/* The pack's table (its path into table), opened and checked against the base, whose
 * config goes into cfg; NULL on error. */
static lg_safetensors *open_table(const char *base_dir, const char *pack, char *table,
                                  lg_config *cfg, lg_error *err)
{
    lg_pack_table_path(pack, table);
    if (lg_config_load_dir(base_dir, cfg, err) < 0)
        return NULL;
    lg_safetensors *st = lg_st_open(table, err);
    if (st && check_table(cfg, st, table, base_dir, pack, err) < 0) {
        lg_st_close(st);
        return NULL;
    }
    return st;
}

int lg_pack_verify(const char *base_dir, const char *pack, lg_pack_summary *out, lg_error *err)
{
    char table[4096];
    lg_config cfg;
    lg_safetensors *st = open_table(base_dir, pack, table, &cfg, err);
    if (!st)
        return -1;
    int rc = 0;
    if (out) {
        memset(out, 0, sizeof *out);
        const lg_tensor_info *e = lg_st_find(st, EMBED_NAME);
        out->vocab_size = e->shape[0];
        const char *v;
        if ((v = lg_st_metadata(st, "language")))
            snprintf(out->language, sizeof out->language, "%s", v);
        if ((v = lg_st_metadata(st, "script")))
            snprintf(out->script, sizeof out->script, "%s", v);
        if ((v = lg_st_metadata(st, "method")))
            snprintf(out->method, sizeof out->method, "%s", v);
        char path[4200];
        snprintf(path, sizeof path, "%s/adapter/adapter_config.json", pack);
        out->has_adapter = is_dir(pack) && is_file(path);
        snprintf(path, sizeof path, "%s/langsamp.safetensors", pack);
        out->has_vectors = (is_dir(pack) && is_file(path)) || lg_st_find(st, "lang_embed");
        snprintf(path, sizeof path, "%s/pack.json", pack);
        cJSON *j = is_dir(pack) ? lg_json_read(path, 1 << 20, err) : NULL;
        if (j) { /* adapt pack's --lang/--script override the table's */
            const char *keys[] = {"language", "script"};
            char *dst[] = {out->language, out->script};
            for (int i = 0; i < 2; i++) {
                const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
                if (cJSON_IsString(it))
                    snprintf(dst[i], sizeof out->language, "%s", it->valuestring);
            }
            cJSON_Delete(j);
        } else if (is_dir(pack)) {
            rc = -1;
        }
    }
    lg_st_close(st);
    return rc;
}

/* The pack's language/script vectors (in its table or beside it) and its adapter, into m
 * whose embeddings and head already came from the table. */
static int attach_pack_extras(lg_model *m, const char *pack, const lg_safetensors *st,
                              const char *table, lg_error *err)
{
    const int C = m->cfg.hidden_size;
    lg_langsamp *ls = lg_langsamp_from_file(st, table, C, err);
    if (!ls && err && err->msg[0])
        return -1;
    if (ls)
        lg_model_attach_langsamp(m, ls);
    if (!is_dir(pack))
        return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/langsamp.safetensors", pack);
    if (is_file(path)) {
        lg_safetensors *ls_st = lg_st_open(path, err);
        lg_langsamp *lsv = ls_st ? lg_langsamp_from_file(ls_st, path, C, err) : NULL;
        lg_st_close(ls_st);
        if (!lsv) {
            if (err && !err->msg[0])
                lg_fail(err, "%s: holds no language/script vectors", path);
            return -1;
        }
        lg_model_attach_langsamp(m, lsv);
    }
    snprintf(path, sizeof path, "%s/adapter", pack);
    if (is_dir(path) && !lg_lora_load_peft(m, path, err))
        return -1;
    return 0;
}

lg_model *lg_model_open(const char *base_dir, const char *pack, lg_error *err)
{
    return lg_model_open_ex(base_dir, pack, 0, err);
}

lg_model *lg_model_open_ex(const char *base_dir, const char *pack, unsigned flags,
                           lg_error *err)
{
    if (!pack)
        return lg_model_load_dir_ex(base_dir, flags, err);
    char table[4096];
    lg_config cfg;
    lg_safetensors *st = open_table(base_dir, pack, table, &cfg, err);
    if (!st)
        return NULL;
    lg_model *m = NULL;
    lg_weights *w = NULL;
    const lg_tensor_info *e = lg_st_find(st, EMBED_NAME), *h = lg_st_find(st, HEAD_NAME);
    cfg.vocab_size = (int)e->shape[0];
    if (h)
        cfg.tie_word_embeddings = 0; /* the pack brings its own head */
    /* the base's special ids mean nothing beyond the pack's vocabulary */
    int *special[] = {&cfg.bos_token_id, &cfg.eos_token_id, &cfg.pad_token_id};
    for (int i = 0; i < 3; i++)
        if (*special[i] >= cfg.vocab_size)
            *special[i] = -1;
    /* the base's config against its weights (the vocabulary aside) before allocating */
    if (!(w = lg_weights_open_dir(base_dir, err)) ||
        lg_model_check_weights(&cfg, w, base_dir, 1, err) < 0)
        goto fail;
    /* the pack's tables are float32; the base's block matrices may stay as stored */
    m = lg_model_from_weights(&cfg, w, flags & (LG_LOAD_STORED | LG_LOAD_RELEASE), 1, base_dir,
                              err);
    w = NULL; /* taken over */
    if (!m)
        goto fail;
    if (lg_tensor_to_f32(e, m->p.embed, err) < 0)
        goto fail;
    if (h && (lg_tensor_expect_shape(h, 2, e->shape, err) < 0 || lg_tensor_to_f32(h, m->p.lm_head, err) < 0))
        goto fail;
    lg_weights_close(w);
    w = NULL;
    if (attach_pack_extras(m, pack, st, table, err) < 0)
        goto fail;
    lg_st_close(st);
    return m;
fail:
    lg_weights_close(w);
    if (st)
        lg_st_close(st);
    lg_model_free(m);
    return NULL;
}

/* The vocabulary side of m back to nothing: no adapter, no vectors, no tags. */
static void drop_pack(lg_model *m)
{
    lg_lora_free(m->lora);
    m->lora = NULL;
    lg_model_attach_langsamp(m, NULL);
    lg_model_set_tags(m, NULL, NULL, 0, NULL);
}

/* Copies V × C of a tensor into dst, checking its shape first. */
static int copy_rows(const lg_tensor_info *t, const char *name, const char *where, int V, int C,
                     float *dst, lg_error *err)
{
    if (!t)
        return lg_fail(err, "%s: no %s", where, name);
    if (lg_tensor_expect_shape(t, 2, (int64_t[]){V, C}, err) < 0)
        return lg_fail(err, "%s: %s: the vocabulary (%lld x %lld) is not the loaded model's "
                            "(%d x %d): open it with lg_model_open instead of swapping",
                       where, name, (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0), V, C);
    return lg_tensor_to_f32(t, dst, err);
}

/* The base's own embeddings and head (its lm_head, or its embeddings when tied) into m. */
static int load_base_vocab(lg_model *m, const char *base_dir, lg_error *err)
{
    lg_config cfg;
    if (lg_config_load_dir(base_dir, &cfg, err) < 0)
        return -1;
    if (cfg.hidden_size != m->cfg.hidden_size)
        return lg_fail(err, "%s: hidden size %d, but the loaded model has %d", base_dir,
                       cfg.hidden_size, m->cfg.hidden_size);
    if (!cfg.tie_word_embeddings && m->cfg.tie_word_embeddings)
        return lg_fail(err, "%s: an untied head cannot be swapped into a model loaded with a "
                            "tied one", base_dir);
    lg_weights *w = lg_weights_open_dir(base_dir, err);
    if (!w)
        return -1;
    const int V = m->cfg.vocab_size, C = m->cfg.hidden_size;
    /* the base's own names (GPT-2: transformer.wte.weight) */
    const char *embed = lg_arch_get(cfg.arch)->embed, *head = lg_arch_get(cfg.arch)->head;
    int rc = copy_rows(lg_weights_find(w, embed), embed, base_dir, V, C, m->p.embed, err);
    if (rc == 0 && m->p.lm_head != m->p.embed)
        rc = copy_rows(lg_weights_find(w, cfg.tie_word_embeddings ? embed : head),
                       cfg.tie_word_embeddings ? embed : head, base_dir, V, C, m->p.lm_head, err);
    lg_weights_close(w);
    if (rc == 0) {
        m->cfg.bos_token_id = cfg.bos_token_id;
        m->cfg.eos_token_id = cfg.eos_token_id;
        m->cfg.pad_token_id = cfg.pad_token_id;
    }
    return rc;
}

int lg_model_use_pack(lg_model *m, const char *base_dir, const char *pack, lg_error *err)
{
    drop_pack(m);
    if (!pack)
        return load_base_vocab(m, base_dir, err);
    char table[4096];
    lg_config cfg;
    lg_safetensors *st = open_table(base_dir, pack, table, &cfg, err);
    if (!st)
        return -1;
    int rc = 0;
    const int V = m->cfg.vocab_size, C = m->cfg.hidden_size;
    const lg_tensor_info *h = lg_st_find(st, HEAD_NAME);
    if (rc == 0)
        rc = copy_rows(lg_st_find(st, EMBED_NAME), EMBED_NAME, table, V, C, m->p.embed, err);
    if (rc == 0 && h && m->p.lm_head == m->p.embed)
        rc = lg_fail(err, "%s: brings its own head, but the loaded model's is tied to its "
                          "embeddings: open it with lg_model_open", pack);
    else if (rc == 0 && m->p.lm_head != m->p.embed)
        rc = copy_rows(h ? h : lg_st_find(st, EMBED_NAME), h ? HEAD_NAME : EMBED_NAME, table,
                       V, C, m->p.lm_head, err);
    if (rc == 0) {
        int *special[] = {&m->cfg.bos_token_id, &m->cfg.eos_token_id, &m->cfg.pad_token_id};
        const int base[] = {cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id};
        for (int i = 0; i < 3; i++)
            *special[i] = base[i] < V ? base[i] : -1;
        rc = attach_pack_extras(m, pack, st, table, err);
    }
    lg_st_close(st);
    if (rc < 0) /* never half a pack: the base's own vocabulary back, or the error stands */
        drop_pack(m);
    return rc;
}

int lg_model_use_pack_layers(lg_model *m, const char *base_dir, const char *pack, lg_error *err)
{
    drop_pack(m);
    if (lg_pack_verify(base_dir, pack, NULL, err) < 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter", pack);
    if (!is_dir(path))
        return lg_fail(err, "%s: has no adapter: its layers are the base's", pack);
    /* the adapter's modules_to_save (the pack's vocabulary) are read, then replaced */
    if (!lg_lora_load_peft(m, path, err) || load_base_vocab(m, base_dir, err) < 0) {
        drop_pack(m);
        return -1;
    }
    return 0;
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
    /* the tokenizer's kind and file: a SentencePiece tokenizer.model or a tokenizer.json */
    const char *tok_name = "tokenizer.model";
    if (rc == 0) {
        lg_tokenizer *t = lg_tokenizer_load(parts->tokenizer, err);
        if (!t)
            rc = -1;
        else if (!lg_tokenizer_spm(t))
            tok_name = "tokenizer.json";
        if (t) {
            cJSON_AddStringToObject(j, "tokenizer_kind", t->ops->kind);
            cJSON_AddStringToObject(j, "tokenizer_file", tok_name);
        }
        lg_tokenizer_free(t);
    }
    struct {
        const char *from, *name;
    } copies[] = {{parts->table, "pack.safetensors"},
                  {parts->tokenizer, tok_name},
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
    /* the assembled pack must load over its base (its frozen weights checked as stored, a
     * tensor at a time: no float32 copy of the base) */
    if (rc == 0) {
        lg_model *m = lg_model_open_ex(parts->base_dir, d.tmp, LG_LOAD_STORED | LG_LOAD_RELEASE,
                                       err);
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
