/* Training over a mixture of languages: one LoRA adapter (and optionally one table of
 * language/script vectors) shared by several models that differ only in their vocabulary
 * (each language's embeddings and head), every step a batch of each language through its
 * own model. See lg_train_mixture in lg_train.h. */
#include "lg_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_optim.h"
#include "lg_progress.h"
#include "lg_safetensors.h"

typedef struct {
    const lg_train_options *o;
    lg_model **ms;
    const lg_mixture_part *parts;
    int n;
    lg_dataset **data, **eval;
    lg_adamw opt;
    int32_t *ids, *targets;
    FILE *log;
    int shared;          /* the adapter and vectors are shared: detach them before freeing */
} mix;

/* Joins codes with commas for lg_langsamp_create, each once. */
static void join_unique(char *out, size_t cap, const lg_mixture_part *p, int n, int script)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *c = script ? p[i].script : p[i].lang;
        if (!c)
            continue;
        int seen = 0;
        for (int j = 0; j < i; j++) {
            const char *d = script ? p[j].script : p[j].lang;
            seen |= d && !strcmp(c, d);
        }
        if (!seen)
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "", c);
    }
}

static void mix_free(mix *x)
{
    for (int i = 1; x->shared && i < x->n; i++) {
        x->ms[i]->lora = NULL;
        x->ms[i]->langsamp = NULL;
        x->ms[i]->tagged = 0;
    }
    for (int i = 0; i < x->n; i++) {
        if (x->data)
            lg_dataset_free(x->data[i]);
        if (x->eval)
            lg_dataset_free(x->eval[i]);
    }
    free(x->data);
    free(x->eval);
    lg_adamw_free(&x->opt);
    free(x->ids);
    free(x->targets);
    if (x->log)
        fclose(x->log);
}

static int setup(mix *x, const lg_tokenizer *const *toks, int vectors, lg_error *err)
{
    const lg_train_options *o = x->o;
    const int n = x->n;
    if (o->lora_rank < 1)
        return lg_fail(err, "a mixture shares a LoRA adapter: the rank must be at least 1");
    for (int i = 0; i < n; i++) {
        const lg_config *a = &x->ms[0]->cfg, *b = &x->ms[i]->cfg;
        if (a->hidden_size != b->hidden_size || a->n_layers != b->n_layers ||
            x->ms[i]->lora || x->ms[i]->langsamp)
            return lg_fail(err, "%s: the models of a mixture must be one base with packs that "
                                "bring no adapter or vectors", x->parts[i].text);
        for (int j = 0; j < i; j++)
            if (x->parts[i].lang && x->parts[j].lang && !strcmp(x->parts[i].lang, x->parts[j].lang))
                return lg_fail(err, "language %s is given twice", x->parts[i].lang);
    }
    x->data = calloc((size_t)n, sizeof *x->data);
    x->eval = calloc((size_t)n, sizeof *x->eval);
    if (!x->data || !x->eval)
        return lg_fail(err, "out of memory");
    for (int i = 0; i < n; i++) {
        lg_dataset_options d = {.seq_len = o->seq_len, .vocab_size = x->ms[i]->cfg.vocab_size,
                                .bos_id = toks[i]->ops->bos_id(toks[i]),
                                .eos_id = toks[i]->ops->eos_id(toks[i]), .seed = o->seed,
                                .shuffle = 1};
        if (!(x->data[i] = lg_dataset_load_text(x->parts[i].text, toks[i], &d, err)))
            return -1;
        d.seq_len = 0;
        if (x->parts[i].eval_text &&
            !(x->eval[i] = lg_dataset_load_text(x->parts[i].eval_text, toks[i], &d, err)))
            return -1;
    }
    /* the adapter: PEFT's initialisation from the seed, as lm train makes it */
    const int emb = o->train_embeddings;
    lg_lora_config lc = {.rank = o->lora_rank, .alpha = o->lora_alpha, .use_rslora = o->rslora,
                         .target_mask = o->lora_targets, .save_embed_tokens = emb,
                         .save_lm_head = emb && !x->ms[0]->cfg.tie_word_embeddings};
    if (!lg_lora_attach(x->ms[0], &lc, o->seed, err) || lg_lora_alloc_grads(x->ms[0]->lora, err) < 0)
        return -1;
    if (vectors) {
        char langs[1024], scripts[1024];
        join_unique(langs, sizeof langs, x->parts, n, 0);
        join_unique(scripts, sizeof scripts, x->parts, n, 1);
        lg_langsamp *ls = lg_langsamp_create(x->ms[0]->cfg.hidden_size, langs[0] ? langs : NULL,
                                             scripts[0] ? scripts : NULL, err);
        if (!ls)
            return -1;
        lg_model_attach_langsamp(x->ms[0], ls);
        if (lg_langsamp_alloc_grads(ls, err) < 0)
            return -1;
    }
    x->shared = 1;
    for (int i = 1; i < n; i++) {
        x->ms[i]->lora = x->ms[0]->lora;
        x->ms[i]->langsamp = x->ms[0]->langsamp;
    }
    for (int i = 0; vectors && i < n; i++)
        if (lg_model_tag_codes(x->ms[i], x->parts[i].lang, x->parts[i].script,
                               x->parts[i].text, err) < 0)
            return -1;
    /* trainables: the shared adapter and vectors once, each model's embeddings */
    enum { MAX_TRAINABLE = 4096 };
    lg_param_entry **list = malloc(MAX_TRAINABLE * sizeof *list);
    if (!list)
        return lg_fail(err, "out of memory");
    int k = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        lg_model *m = x->ms[i];
        int *mask = calloc((size_t)m->n_entries, sizeof *mask);
        if (!mask) {
            rc = lg_fail(err, "out of memory");
            break;
        }
        for (int e = 0; e < m->n_entries; e++)
            mask[e] = emb && lg_param_group(&m->entries[e]) == LG_GROUP_EMBED;
        rc = lg_model_alloc_grads_for(m, mask, err);
        free(mask);
        for (int e = 0; rc == 0 && e < m->n_entries && k < MAX_TRAINABLE; e++)
            if (m->entries[e].grad)
                list[k++] = &m->entries[e];
    }
    lg_lora *l = x->ms[0]->lora;
    for (int e = 0; rc == 0 && e < l->n_entries && k < MAX_TRAINABLE; e++)
        if (l->entries[e].grad)
            list[k++] = &l->entries[e];
    for (int e = 0; rc == 0 && vectors && e < 2 && k < MAX_TRAINABLE; e++)
        if (x->ms[0]->langsamp->entries[e].grad && x->ms[0]->langsamp->entries[e].numel)
            list[k++] = &x->ms[0]->langsamp->entries[e];
    lg_adamw_hparams h = {.beta1 = o->beta1, .beta2 = o->beta2, .eps = o->eps,
                          .weight_decay = o->weight_decay};
    if (rc == 0)
        rc = lg_adamw_init(&x->opt, list, k, h, 0, err);
    free(list);
    if (rc < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (lg_model_reserve(x->ms[i], o->batch, o->seq_len, err) < 0)
            return -1;
    const size_t N = (size_t)o->batch * o->seq_len;
    x->ids = malloc(N * sizeof *x->ids);
    x->targets = malloc(N * sizeof *x->targets);
    if (!x->ids || !x->targets)
        return lg_fail(err, "out of memory");
    if (o->log_path && !(x->log = fopen(o->log_path, "a")))
        return lg_fail(err, "%s: cannot open the log", o->log_path);
    return 0;
}

static int evaluate(mix *x, long step, lg_error *err)
{
    for (int i = 0; i < x->n; i++) {
        if (!x->eval[i])
            continue;
        lg_eval_result r;
        if (lg_eval_tokens(x->ms[i], x->eval[i]->tokens, x->eval[i]->n_tokens,
                           x->eval[i]->n_bytes, x->o->seq_len, 0, &r, err) < 0)
            return lg_fail_context(err, "%s", x->parts[i].eval_text);
        if (x->log && (fprintf(x->log, "{\"step\": %ld, \"lang\": \"%s\", \"eval_loss\": %.9g, "
                                       "\"eval_bits_per_byte\": %.9g, \"eval_tokens\": %zu, "
                                       "\"eval_bytes\": %zu}\n",
                               step, x->parts[i].lang ? x->parts[i].lang : "", r.loss,
                               r.bits_per_byte, r.tokens, r.bytes) < 0 ||
                       fflush(x->log) != 0))
            return lg_fail(err, "%s: cannot write the log", x->o->log_path);
        if (!x->o->quiet)
            fprintf(stderr, "step %ld: %s held-out %.4f bits per byte\n", step,
                    x->parts[i].lang ? x->parts[i].lang : x->parts[i].text, r.bits_per_byte);
    }
    return 0;
}

/* OUT/LANG/adapter for each language (the shared adapter with that language's embeddings
 * and head as modules_to_save), OUT/langsamp.safetensors when there are vectors. */
static int save(mix *x, lg_error *err)
{
    lg_atomic_dir d;
    if (lg_atomic_dir_begin(&d, x->o->out_dir, 0, err) < 0)
        return -1;
    char path[4400];
    int rc = 0;
    for (int i = 0; i < x->n && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", d.tmp, x->parts[i].lang);
        if (mkdir(path, 0755) != 0)
            rc = lg_fail(err, "%s/%s: cannot create", x->o->out_dir, x->parts[i].lang);
        snprintf(path, sizeof path, "%s/%s/adapter", d.tmp, x->parts[i].lang);
        if (rc == 0)
            rc = lg_lora_save_peft(x->ms[i], path, x->o->model_dir, err);
    }
    if (rc == 0 && x->ms[0]->langsamp) {
        snprintf(path, sizeof path, "%s/langsamp.safetensors", d.tmp);
        lg_st_writer *w = lg_st_writer_new();
        rc = !w ? lg_fail(err, "out of memory")
                : lg_langsamp_add_to_writer(x->ms[0]->langsamp, w, err) < 0
                      ? -1 : lg_st_writer_write(w, path, err);
        lg_st_writer_free(w);
    }
    if (rc == 0)
        return lg_atomic_dir_commit(&d, err);
    lg_atomic_dir_abort(&d);
    return -1;
}

int lg_train_mixture(const lg_train_options *o, lg_model **ms, const lg_tokenizer *const *toks,
                     const lg_mixture_part *parts, int n, int vectors, lg_error *err)
{
    if (n < 1 || o->batch < 1 || o->seq_len < 2 || o->steps < 1)
        return lg_fail(err, "a mixture needs a language, and positive batch and steps");
    for (int i = 0; i < n; i++)
        if (!parts[i].lang || !parts[i].text)
            return lg_fail(err, "every language of a mixture needs a code and a text");
    mix x = {.o = o, .ms = ms, .parts = parts, .n = n};
    if (setup(&x, toks, vectors, err) < 0) {
        mix_free(&x);
        return -1;
    }
    lg_lr_schedule sched = {.warmup_steps = o->warmup, .total_steps = o->steps,
                            .min_ratio = o->min_lr_ratio};
    const float embed_lr = o->embed_lr > 0 ? o->embed_lr : o->lr;
    if (!o->quiet)
        fprintf(stderr, "training a mixture of %d languages over %s: one LoRA%s, %d trainable "
                        "tensors, each step %d sequences of %d tokens per language\n",
                n, o->model_dir, vectors ? " and language/script vectors" : "", x.opt.n_slots,
                o->batch, o->seq_len);
    int rc = 0;
    if (o->eval_every > 0)
        rc = evaluate(&x, 0, err);
    lg_progress bar;
    lg_progress_start(&bar, "mixture", o->steps);
    bar.enabled &= !o->quiet;
    const float scale = 1.0f / (float)n;
    for (long step = 0; rc == 0 && step < o->steps; step++) {
        double t0 = lg_now();
        for (int i = 0; i < n; i++)
            lg_model_zero_grads(ms[i]);
        double loss = 0;
        float each[64] = {0};
        for (int i = 0; i < n && rc == 0; i++) {
            lg_dataset_next_batch(x.data[i], x.ids, o->batch);
            lg_shift_targets(x.targets, x.ids, o->batch, o->seq_len);
            if (lg_model_forward(ms[i], x.ids, x.targets, o->batch, o->seq_len, err) < 0) {
                rc = lg_fail_context(err, "step %ld, %s", step + 1, parts[i].lang);
                break;
            }
            if (i < 64)
                each[i] = ms[i]->last_loss;
            loss += ms[i]->last_loss;
            lg_model_backward(ms[i], x.ids, scale);
        }
        if (rc < 0)
            break;
        double norm = lg_adamw_clip(&x.opt, o->clip);
        float f = lg_lr_factor(&sched, step);
        const float lr[LG_N_GROUPS] = {o->lr * f, embed_lr * f};
        lg_adamw_step(&x.opt, lr);
        double dt = lg_now() - t0;
        if (x.log) {
            fprintf(x.log, "{\"step\": %ld, \"lr\": %.9g, \"loss\": %.9g, \"grad_norm\": %.9g, "
                           "\"tokens_per_s\": %.1f", step + 1, lr[0], loss / n, norm,
                    (double)n * o->batch * o->seq_len / (dt > 0 ? dt : 1e-9));
            for (int i = 0; i < n && i < 64; i++)
                fprintf(x.log, ", \"loss_%s\": %.9g", parts[i].lang, each[i]);
            if (fprintf(x.log, "}\n") < 0 || fflush(x.log) != 0)
                rc = lg_fail(err, "%s: cannot write the log", o->log_path);
        }
        lg_progress_update(&bar, step + 1, "loss %.4f", loss / n);
        if (rc == 0 && o->eval_every > 0 && (step + 1) % o->eval_every == 0)
            rc = evaluate(&x, step + 1, err);
    }
    lg_progress_finish(&bar);
    if (rc == 0)
        rc = save(&x, err);
    mix_free(&x);
    return rc;
}
