/* Training checkpoints: model or adapter, optimizer moments, trainer state. */
#include "lg_checkpoint.h"

#include <cJSON.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_safetensors.h"

#define STATE_FORMAT "lingraft-train-state-1"

static cJSON *state_json(const lg_train_state *st)
{
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, st->seed);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", STATE_FORMAT);
    cJSON_AddNumberToObject(j, "step", (double)st->step);
    cJSON_AddNumberToObject(j, "data_epoch", (double)st->data.epoch);
    cJSON_AddNumberToObject(j, "data_next_sequence", (double)st->data.next);
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddStringToObject(j, "mode", st->lora ? "lora" : "full");
    cJSON_AddNumberToObject(j, "lora_rank", st->lora_rank);
    cJSON_AddNumberToObject(j, "train_rows_from", (double)st->train_rows_from);
    cJSON_AddBoolToObject(j, "trains_embeddings", st->trains_embeddings);
    cJSON_AddNumberToObject(j, "batch", st->batch);
    cJSON_AddNumberToObject(j, "world_size", st->world_size > 0 ? st->world_size : 1);
    cJSON_AddNumberToObject(j, "seq_len", st->seq_len);
    cJSON_AddNumberToObject(j, "accum", st->accum);
    cJSON_AddNumberToObject(j, "data_tokens", (double)st->data_tokens);
    cJSON_AddNumberToObject(j, "last_loss", st->last_loss);
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    cJSON_AddStringToObject(m, "model_type", st->model.model_type);
    cJSON_AddNumberToObject(m, "vocab_size", st->model.vocab_size);
    cJSON_AddNumberToObject(m, "hidden_size", st->model.hidden_size);
    cJSON_AddNumberToObject(m, "num_hidden_layers", st->model.n_layers);
    cJSON_AddNumberToObject(m, "num_attention_heads", st->model.n_heads);
    cJSON_AddNumberToObject(m, "num_key_value_heads", st->model.n_kv_heads);
    cJSON_AddNumberToObject(m, "intermediate_size", st->model.intermediate_size);
    cJSON_AddBoolToObject(m, "tie_word_embeddings", st->model.tie_word_embeddings);
    return j;
}

static int write_state(const char *path, const lg_train_state *st, lg_error *err)
{
    cJSON *j = state_json(st);
    int rc = lg_json_write(path, j, err);
    cJSON_Delete(j);
    return rc;
}

int lg_checkpoint_save(const char *dir, const lg_model *m, const lg_adamw *opt,
                       const lg_train_state *st, const char *base_name, lg_error *err)
{
    lg_atomic_dir d;
    if (lg_atomic_dir_begin(&d, dir, LG_ATOMIC_DIR_CLEAR_STALE, err) < 0)
        return -1;
    char path[4300];
    int rc = -1;
    if (st->lora) {
        snprintf(path, sizeof path, "%s/adapter", d.tmp);
        if (lg_lora_save_peft(m, path, base_name, err) < 0)
            goto done;
    } else {
        snprintf(path, sizeof path, "%s/model", d.tmp);
        if (lg_model_save_dir(m, path, LG_DT_F32, err) < 0)
            goto done;
    }
    if (m->langsamp) {
        lg_st_writer *lw = lg_st_writer_new();
        snprintf(path, sizeof path, "%s/langsamp.safetensors", d.tmp);
        int ok = lg_langsamp_add_to_writer(m->langsamp, lw, err) == 0 &&
                 lg_st_writer_write(lw, path, err) == 0;
        lg_st_writer_free(lw);
        if (!ok)
            goto done;
    }
    lg_st_writer *w = lg_st_writer_new();
    snprintf(path, sizeof path, "%s/optimizer.safetensors", d.tmp);
    int ok = lg_adamw_save(opt, w, err) == 0 && lg_st_writer_write(w, path, err) == 0;
    lg_st_writer_free(w);
    if (!ok)
        goto done;
    snprintf(path, sizeof path, "%s/trainer_state.json", d.tmp);
    if (write_state(path, st, err) < 0)
        goto done;
    rc = lg_atomic_dir_commit(&d, err);
done:
    if (rc < 0)
        lg_atomic_dir_abort(&d);
    return rc;
}

static int get_number(const cJSON *obj, const char *key, const char *path, double *out,
                      lg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) && !cJSON_IsBool(v))
        return lg_fail(err, "%s: \"%s\" is missing or not a number", path, key);
    *out = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : v->valuedouble;
    return 0;
}

/* A whole number in [min, max] (bounds exact in a double), so that converting it to the
 * field's C type is defined and keeps its value. */
typedef struct {
    const char *key;
    double min, max;
} state_field;

static int get_whole(const cJSON *obj, const state_field *f, const char *path, double *out,
                     lg_error *err)
{
    if (get_number(obj, f->key, path, out, err) < 0)
        return -1;
    if (!(*out >= f->min && *out <= f->max) || *out != floor(*out))
        return lg_fail(err, "%s: \"%s\" is %g, expected a whole number from %.0f to %.0f", path,
                       f->key, *out, f->min, f->max);
    return 0;
}

int lg_checkpoint_read_state(const char *dir, lg_train_state *st, lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    char *text = lg_read_file(path, 1 << 20, NULL, err);
    if (!text)
        return lg_fail_context(err, "%s: not a training checkpoint", dir);
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
    if (!j || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, STATE_FORMAT)) {
        cJSON_Delete(j);
        return lg_fail(err, "%s: not a lingraft training state (format %s expected)", path,
                       STATE_FORMAT);
    }
    memset(st, 0, sizeof *st);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "model_type");
    double v[18];
    const double big = 9007199254740992.0, int_max = INT_MAX; /* 2^53: exact in a double */
    const state_field top[] = {
        {"step", 0, big}, {"data_epoch", 0, big}, {"data_next_sequence", 0, big},
        {"lora_rank", 0, int_max}, {"train_rows_from", -1, big}, {"trains_embeddings", 0, 1},
        {"batch", 1, int_max}, {"seq_len", 1, int_max}, {"accum", 1, int_max},
        {"data_tokens", 0, big}};
    const state_field sizes[] = {
        {"vocab_size", 1, int_max}, {"hidden_size", 1, int_max}, {"num_hidden_layers", 1, int_max},
        {"num_attention_heads", 1, int_max}, {"num_key_value_heads", 1, int_max},
        {"intermediate_size", 1, int_max}, {"tie_word_embeddings", 0, 1}};
    int rc = 0;
    if (!cJSON_IsString(seed) || !cJSON_IsString(mode) || !cJSON_IsObject(model) ||
        !cJSON_IsString(type))
        rc = lg_fail(err, "%s: seed, mode or model is missing", path);
    for (int i = 0; rc == 0 && i < 10; i++)
        rc = get_whole(j, &top[i], path, &v[i], err);
    if (rc == 0)
        rc = get_number(j, "last_loss", path, &v[10], err);
    for (int i = 0; rc == 0 && i < 7; i++)
        rc = get_whole(model, &sizes[i], path, &v[11 + i], err);
    /* world_size: the ranks of a data-parallel run (absent before issue 14: one) */
    double world = 1;
    const state_field world_field = {"world_size", 1, int_max};
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(j, "world_size"))
        rc = get_whole(j, &world_field, path, &world, err);
    if (rc == 0) {
        st->world_size = (int)world;
        st->step = (long)v[0];
        st->data.epoch = (long)v[1];
        st->data.next = (size_t)v[2];
        st->lora_rank = (int)v[3];
        st->train_rows_from = (long)v[4];
        st->trains_embeddings = (int)v[5];
        st->batch = (int)v[6];
        st->seq_len = (int)v[7];
        st->accum = (int)v[8];
        st->data_tokens = (size_t)v[9];
        st->last_loss = (float)v[10];
        st->model.vocab_size = (int)v[11];
        st->model.hidden_size = (int)v[12];
        st->model.n_layers = (int)v[13];
        st->model.n_heads = (int)v[14];
        st->model.n_kv_heads = (int)v[15];
        st->model.intermediate_size = (int)v[16];
        st->model.tie_word_embeddings = (int)v[17];
        snprintf(st->model.model_type, sizeof st->model.model_type, "%s", type->valuestring);
        st->seed = strtoull(seed->valuestring, NULL, 10);
        st->lora = !strcmp(mode->valuestring, "lora");
    }
    cJSON_Delete(j);
    return rc;
}

int lg_checkpoint_check(const char *dir, const lg_train_state *saved, const lg_train_state *run,
                        lg_error *err)
{
    const lg_config *a = &saved->model, *b = &run->model;
    if (strcmp(a->model_type, b->model_type))
        return lg_fail(err, "%s: checkpoint of another model: model_type is %s there, %s here",
                       dir, a->model_type, b->model_type);
    struct {
        const char *what;
        long there, here;
    } fields[] = {
        {"vocab_size", a->vocab_size, b->vocab_size},
        {"hidden_size", a->hidden_size, b->hidden_size},
        {"num_hidden_layers", a->n_layers, b->n_layers},
        {"num_attention_heads", a->n_heads, b->n_heads},
        {"num_key_value_heads", a->n_kv_heads, b->n_kv_heads},
        {"intermediate_size", a->intermediate_size, b->intermediate_size},
        {"tie_word_embeddings", a->tie_word_embeddings, b->tie_word_embeddings},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i].there != fields[i].here)
            return lg_fail(err, "%s: checkpoint of another model: %s is %ld there, %ld here",
                           dir, fields[i].what, fields[i].there, fields[i].here);
    struct {
        const char *what;
        long long there, here;
    } runs[] = {
        {"LoRA mode", saved->lora, run->lora},
        {"--lora-r", saved->lora_rank, run->lora_rank},
        {"--train-rows", saved->train_rows_from, run->train_rows_from},
        {"trainable embeddings", saved->trains_embeddings, run->trains_embeddings},
        {"--seq-len", saved->seq_len, run->seq_len},
        {"--accum", saved->accum, run->accum},
        {"data tokens", (long long)saved->data_tokens, (long long)run->data_tokens},
    };
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
        if (runs[i].there != runs[i].here)
            return lg_fail(err, "%s: checkpoint of another run: %s is %lld there, %lld here",
                           dir, runs[i].what, runs[i].there, runs[i].here);
    /* The data position counts the sequences all ranks read together, so another number of
     * ranks may resume it as long as a step reads as many sequences (--batch × ranks). */
    const int ws = saved->world_size > 0 ? saved->world_size : 1;
    const int wr = run->world_size > 0 ? run->world_size : 1;
    if ((long long)saved->batch * ws != (long long)run->batch * wr) {
        if (ws == 1 && wr == 1)
            return lg_fail(err, "%s: checkpoint of another run: --batch is %d there, %d here",
                           dir, saved->batch, run->batch);
        return lg_fail(err, "%s: checkpoint of another run: a micro-batch is %lld sequences there "
                            "(--batch %d × %d ranks), %lld here (--batch %d × %d ranks); with "
                            "%d ranks use --batch %g", dir, (long long)saved->batch * ws,
                       saved->batch, ws, (long long)run->batch * wr, run->batch, wr, wr,
                       (double)saved->batch * ws / wr);
    }
    if (saved->seed != run->seed)
        return lg_fail(err, "%s: checkpoint of another run: --seed is %" PRIu64 " there, %"
                       PRIu64 " here", dir, saved->seed, run->seed);
    return 0;
}

int lg_checkpoint_load_model(const char *dir, lg_model *m, lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model", dir);
    lg_weights *w = lg_weights_open_dir(path, err);
    if (!w)
        return -1;
    int rc = lg_model_load_weights(m, w, path, err);
    lg_weights_close(w);
    return rc;
}

int lg_checkpoint_load_optimizer(const char *dir, lg_adamw *opt, long step, lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    lg_safetensors *st = lg_st_open(path, err);
    if (!st)
        return -1;
    int rc = lg_adamw_load(opt, st, path, err);
    lg_st_close(st);
    if (rc == 0)
        opt->step = step;
    return rc;
}
