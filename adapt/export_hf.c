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

static const char *piece_or(const lg_spm *t, int id, const char *fallback)
{
    const char *p = id >= 0 ? lg_spm_id_to_piece(t, id) : NULL;
    return p ? p : fallback;
}

static int write_tokenizer_files(const char *dir, const char *tok_path, const lg_spm *t,
                                 int max_len, lg_error *err)
{
    char path[4200];
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (lg_spm_serialized(t, &bytes, &len, err) < 0)
        return -1;
    lg_atomic_file af;
    snprintf(path, sizeof path, "%s/tokenizer.model", dir);
    int rc = lg_atomic_open(&af, path, err);
    if (rc == 0) {
        fwrite(bytes, 1, len, af.fp);
        rc = lg_atomic_commit(&af, err);
    }
    free(bytes);
    if (rc < 0)
        return lg_fail_context(err, "%s", tok_path);
    const char *bos = piece_or(t, lg_spm_bos_id(t), "<s>"), *eos = piece_or(t, lg_spm_eos_id(t), "</s>");
    const char *unk = piece_or(t, lg_spm_unk_id(t), "<unk>");
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "tokenizer_class", "LlamaTokenizer");
    cJSON_AddStringToObject(cfg, "bos_token", bos);
    cJSON_AddStringToObject(cfg, "eos_token", eos);
    cJSON_AddStringToObject(cfg, "unk_token", unk);
    if (lg_spm_pad_id(t) >= 0)
        cJSON_AddStringToObject(cfg, "pad_token", piece_or(t, lg_spm_pad_id(t), "<pad>"));
    cJSON_AddBoolToObject(cfg, "add_bos_token", lg_spm_bos_id(t) >= 0);
    cJSON_AddBoolToObject(cfg, "add_eos_token", 0);
    cJSON_AddBoolToObject(cfg, "legacy", 0);
    cJSON_AddBoolToObject(cfg, "clean_up_tokenization_spaces", 0);
    cJSON_AddNumberToObject(cfg, "model_max_length", max_len);
    cJSON_AddItemToObject(cfg, "sp_model_kwargs", cJSON_CreateObject());
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    rc = lg_json_write(path, cfg, err);
    cJSON_Delete(cfg);
    if (rc < 0)
        return -1;
    cJSON *map = cJSON_CreateObject();
    cJSON_AddStringToObject(map, "bos_token", bos);
    cJSON_AddStringToObject(map, "eos_token", eos);
    cJSON_AddStringToObject(map, "unk_token", unk);
    if (lg_spm_pad_id(t) >= 0)
        cJSON_AddStringToObject(map, "pad_token", piece_or(t, lg_spm_pad_id(t), "<pad>"));
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
        return lg_fail(err, "%s: no tokenizer.model in the pack; give --tokenizer",
                       o->pack ? o->pack : o->base_dir);
    if (o->pack && lg_pack_check_tokenizer(o->pack, tok_path, err) < 0)
        return -1;
    lg_spm *tok = lg_spm_load(tok_path, err);
    if (!tok)
        return -1;
    lg_model *m = lg_model_open(o->base_dir, o->pack, err);
    int rc = m ? 0 : -1;
    if (rc == 0 && lg_spm_vocab_size(tok) > m->cfg.vocab_size)
        rc = lg_fail(err, "%s: %d pieces but the model has only %d embedding rows", tok_path,
                     lg_spm_vocab_size(tok), m->cfg.vocab_size);
    if (rc == 0 && m->langsamp)
        fprintf(stderr, "adapt export: note: the language/script vectors are not part of a "
                        "Hugging Face Llama and are left out\n");
    lg_atomic_dir d = {0};
    if (rc == 0)
        rc = lg_atomic_dir_begin(&d, out_dir, LG_ATOMIC_DIR_CLEAR_STALE, err);
    char path[4200];
    if (rc == 0) {
        m->cfg.bos_token_id = lg_spm_bos_id(tok);
        m->cfg.eos_token_id = lg_spm_eos_id(tok);
        m->cfg.pad_token_id = lg_spm_pad_id(tok);
        if (m->lora && o->keep_adapter) {
            snprintf(path, sizeof path, "%s/adapter", d.tmp);
            rc = lg_lora_save_peft(m, path, o->base_dir, err);
        } else {
            lg_lora_merge(m);
        }
    }
    if (rc == 0) {
        /* lg_model_save_dir writes a directory of its own: build it inside ours */
        snprintf(path, sizeof path, "%s/model", d.tmp);
        rc = lg_model_save_dir(m, path, o->stored_dtype, err);
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
    lg_spm_free(tok);
    return rc;
}
