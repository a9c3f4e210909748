/* adapt export --hf: a standalone Hugging Face model directory. */
#include "lg_export.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_io.h"
#include "lg_pack.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_spm.h"

static const char *piece_or(const lg_tokenizer *t, int id, const char *fallback)
{
    const char *p = id >= 0 ? t->ops->piece(t, id) : NULL;
    return p && *p ? p : fallback;
}

/* The tokenizer's bytes into DIR/name, as they are. */
static int copy_file(const char *from, const char *dir, const char *name, lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb");
    if (!in)
        return lg_fail(err, "%s: cannot open: %s", from, strerror(errno));
    lg_atomic_file af = {0};
    int rc = lg_atomic_open(&af, path, err);
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, af.fp) != n)
            rc = lg_fail(err, "%s: write error", name);
    if (rc == 0 && ferror(in))
        rc = lg_fail(err, "%s: read error", from);
    fclose(in);
    if (rc == 0)
        rc = lg_atomic_commit(&af, err);
    else if (af.fp)
        lg_atomic_abort(&af);
    return rc;
}

/* A SentencePiece model: tokenizer.model with LlamaTokenizer's config. A tokenizer.json:
 * the file as it is, with the config of transformers' fast tokenizer (never LlamaTokenizer,
 * which transformers 5 wraps in a Metaspace pre-tokenizer: wrong for byte-level BPE). */
static int write_tokenizer_files(const char *dir, const char *tok_path, const lg_tokenizer *t,
                                 int max_len, lg_error *err)
{
    char path[4200];
    const lg_spm *spm = lg_tokenizer_spm(t);
    int rc;
    if (spm) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (lg_spm_serialized(spm, &bytes, &len, err) < 0)
            return -1;
        lg_atomic_file af;
        snprintf(path, sizeof path, "%s/tokenizer.model", dir);
        rc = lg_atomic_open(&af, path, err);
        if (rc == 0) {
            fwrite(bytes, 1, len, af.fp);
            rc = lg_atomic_commit(&af, err);
        }
        free(bytes);
    } else {
        rc = copy_file(t->path, dir, "tokenizer.json", err);
    }
    if (rc < 0)
        return lg_fail_context(err, "%s", tok_path);
    int bos_id = t->ops->bos_id(t), eos_id = t->ops->eos_id(t), pad_id = t->ops->pad_id(t);
    int unk_id = lg_tokenizer_unk_id(t);
    const char *bos = piece_or(t, bos_id, "<s>"), *eos = piece_or(t, eos_id, "</s>");
    const char *unk = piece_or(t, unk_id, "<unk>");
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "tokenizer_class", spm ? "LlamaTokenizer" : "PreTrainedTokenizerFast");
    if (spm || bos_id >= 0)
        cJSON_AddStringToObject(cfg, "bos_token", bos);
    if (spm || eos_id >= 0)
        cJSON_AddStringToObject(cfg, "eos_token", eos);
    if (spm || unk_id >= 0)
        cJSON_AddStringToObject(cfg, "unk_token", unk);
    if (pad_id >= 0)
        cJSON_AddStringToObject(cfg, "pad_token", piece_or(t, pad_id, "<pad>"));
    cJSON_AddBoolToObject(cfg, "add_bos_token", bos_id >= 0);
    cJSON_AddBoolToObject(cfg, "add_eos_token", 0);
    if (spm)
        cJSON_AddBoolToObject(cfg, "legacy", 0);
    cJSON_AddBoolToObject(cfg, "clean_up_tokenization_spaces", 0);
    cJSON_AddNumberToObject(cfg, "model_max_length", max_len);
    if (spm)
        cJSON_AddItemToObject(cfg, "sp_model_kwargs", cJSON_CreateObject());
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    rc = lg_json_write(path, cfg, err);
    cJSON_Delete(cfg);
    if (rc < 0)
        return -1;
    cJSON *map = cJSON_CreateObject();
    if (spm || bos_id >= 0)
        cJSON_AddStringToObject(map, "bos_token", bos);
    if (spm || eos_id >= 0)
        cJSON_AddStringToObject(map, "eos_token", eos);
    if (spm || unk_id >= 0)
        cJSON_AddStringToObject(map, "unk_token", unk);
    if (pad_id >= 0)
        cJSON_AddStringToObject(map, "pad_token", piece_or(t, pad_id, "<pad>"));
    snprintf(path, sizeof path, "%s/special_tokens_map.json", dir);
    rc = lg_json_write(path, map, err);
    cJSON_Delete(map);
    return rc;
}

static int write_generation_config(const char *dir, const lg_config *c, lg_error *err)
{
    cJSON *g = cJSON_CreateObject();
    if (c->bos_token_id >= 0)
        cJSON_AddNumberToObject(g, "bos_token_id", c->bos_token_id);
    if (c->eos_token_id >= 0)
        cJSON_AddNumberToObject(g, "eos_token_id", c->eos_token_id);
    if (c->pad_token_id >= 0)
        cJSON_AddNumberToObject(g, "pad_token_id", c->pad_token_id);
    char path[4200];
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    int rc = lg_json_write(path, g, err);
    cJSON_Delete(g);
    return rc;
}

int lg_export_hf(const lg_export_opts *o, const char *out_dir, lg_error *err)
{
    char tok_path[4096];
    if (o->tokenizer)
        snprintf(tok_path, sizeof tok_path, "%s", o->tokenizer);
    else if (!o->pack || !lg_pack_tokenizer_path(o->pack, tok_path))
        return lg_fail(err, "%s: no tokenizer in the pack; give --tokenizer",
                       o->pack ? o->pack : o->base_dir);
    if (o->pack && lg_pack_check_tokenizer(o->pack, tok_path, err) < 0)
        return -1;
    lg_tokenizer *tok = lg_tokenizer_load(tok_path, err);
    if (!tok)
        return -1;
    /* the base's weights as stored (its vocabulary too without a pack), each tensor's pages
     * released once read: written out a tensor at a time below, converted or merged */
    lg_model *m = lg_model_open_ex(o->base_dir, o->pack,
                                   LG_LOAD_STORED | LG_LOAD_STORED_VOCAB | LG_LOAD_RELEASE, err);
    int rc = m ? 0 : -1;
    if (rc == 0 && tok->ops->vocab_size(tok) > m->cfg.vocab_size)
        rc = lg_fail(err, "%s: %d pieces but the model has only %d embedding rows", tok_path,
                     tok->ops->vocab_size(tok), m->cfg.vocab_size);
    if (rc == 0 && m->langsamp)
        fprintf(stderr, "adapt export: note: the language/script vectors are not part of a "
                        "Hugging Face Llama and are left out\n");
    lg_atomic_dir d = {0};
    if (rc == 0)
        rc = lg_atomic_dir_begin(&d, out_dir, LG_ATOMIC_DIR_CLEAR_STALE, err);
    char path[4200];
    if (rc == 0) {
        m->cfg.bos_token_id = tok->ops->bos_id(tok);
        m->cfg.eos_token_id = tok->ops->eos_id(tok);
        m->cfg.pad_token_id = tok->ops->pad_id(tok);
        if (m->lora && o->keep_adapter) {
            snprintf(path, sizeof path, "%s/adapter", d.tmp);
            rc = lg_lora_save_peft(m, path, o->base_dir, err);
        } else if (!m->stored) { /* every weight a float32 parameter: merged in place */
            rc = lg_lora_merge(m, err);
        }
    }
    if (rc == 0) {
        /* lg_model_save_dir writes a directory of its own: build it inside ours; an adapter
         * still attached is merged tensor by tensor as it is written */
        snprintf(path, sizeof path, "%s/model", d.tmp);
        rc = lg_model_save_dir_ex(m, path, o->stored_dtype,
                                  o->keep_adapter ? 0 : LG_SAVE_MERGE_LORA, err);
        const char *names[] = {"config.json", "model.safetensors"};
        for (int i = 0; i < 2 && rc == 0; i++) {
            char from[4300], to[4300];
            snprintf(from, sizeof from, "%s/model/%s", d.tmp, names[i]);
            snprintf(to, sizeof to, "%s/%s", d.tmp, names[i]);
            if (rename(from, to) != 0)
                rc = lg_fail(err, "%s: cannot move into place: %s", to, strerror(errno));
        }
        rmdir(path);
    }
    if (rc == 0)
        rc = write_tokenizer_files(d.tmp, tok_path, tok, m->cfg.max_position_embeddings, err);
    if (rc == 0)
        rc = write_generation_config(d.tmp, &m->cfg, err);
    if (rc == 0)
        rc = lg_atomic_dir_commit(&d, err);
    else
        lg_atomic_dir_abort(&d);
    lg_model_free(m);
    lg_tokenizer_free(tok);
    return rc;
}
