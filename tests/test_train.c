/* The training loop through its library entry: gradient accumulation of 2 × 2 sequences
 * equals one batch of 4 at the first step; embedding-only training with --train-rows
 * changes only rows ≥ FROM of embed_tokens and lm_head and nothing else; LoRA leaves the
 * base weights as they were and saves the trained rows as modules_to_save. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cJSON.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_checkpoint.h"
#include "lg_lora.h"
#include "lg_model_init.h"
#include "lg_safetensors.h"
#include "lg_pack.h"
#include "lg_spm.h"
#include "lg_train.h"

#define DATA "tests/data/lm"

typedef struct {
    char dir[64], base[128];
} fixture;

static int setup(void **state)
{
    lg_set_threads(1); /* the suite shares two cores */
    fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "build/test_train_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->base, sizeof fx->base, "%s/base", fx->dir);
    lg_config c;
    lg_error err;
    if (lg_config_preset("micro", 512, &c, &err) < 0)
        return -1;
    c.bos_token_id = 1;
    c.eos_token_id = 2;
    lg_model *m = lg_model_create(&c, &err);
    if (!m)
        return -1;
    lg_model_init_weights(m, 0.02f, 4);
    int rc = lg_model_save_dir(m, fx->base, LG_DT_F32, &err);
    lg_model_free(m);
    *state = fx;
    return rc;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    lg_remove_tree(fx->dir);
    free(fx);
    return 0;
}

static void options(lg_train_options *o, const fixture *fx, const char *out, const char *log)
{
    lg_train_defaults(o);
    o->model_dir = fx->base;
    o->data_text = DATA "/train.txt";
    o->tokenizer = DATA "/en.model";
    o->out_dir = out;
    o->log_path = log;
    o->seq_len = 32;
    o->steps = 3;
    o->lr = 1e-2f;
    o->quiet = 1;
}

/* loss and grad_norm of step 1 in a JSON-lines log */
static void first_step(const char *log, double *loss, double *norm)
{
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "step")->valueint, 1);
    *loss = cJSON_GetObjectItem(j, "loss")->valuedouble;
    *norm = cJSON_GetObjectItem(j, "grad_norm")->valuedouble;
    cJSON_Delete(j);
}

static void accumulation_equals_a_bigger_batch(void **state)
{
    fixture *fx = *state;
    char out[128], log_a[128], log_b[128];
    lg_train_options o;
    lg_error err;
    snprintf(out, sizeof out, "%s/a", fx->dir);
    snprintf(log_a, sizeof log_a, "%s/a.log", fx->dir);
    options(&o, fx, out, log_a);
    o.batch = 4;
    o.accum = 1;
    assert_int_equal(lg_pack_train(&o, &err), 0);
    snprintf(out, sizeof out, "%s/b", fx->dir);
    snprintf(log_b, sizeof log_b, "%s/b.log", fx->dir);
    options(&o, fx, out, log_b);
    o.batch = 2;
    o.accum = 2;
    assert_int_equal(lg_pack_train(&o, &err), 0);
    double la, na, lb, nb;
    first_step(log_a, &la, &na);
    first_step(log_b, &lb, &nb);
    assert_true(fabs(la - lb) < 1e-5 * la);
    assert_true(fabs(na - nb) < 1e-4 * na);
    assert_true(na > 0);
}

static lg_model *load(const char *dir)
{
    lg_error err;
    lg_model *m = lg_model_load_dir(dir, &err);
    assert_non_null(m);
    return m;
}

/* Counts the rows of a [V, C] tensor that differ between a and b, below and from `from`. */
static void changed_rows(const float *a, const float *b, int V, int C, int from, int *below,
                         int *above)
{
    *below = *above = 0;
    for (int r = 0; r < V; r++)
        if (memcmp(a + (size_t)r * C, b + (size_t)r * C, (size_t)C * sizeof(float)))
            (r < from ? (*below)++ : (*above)++);
}

static void train_rows_changes_only_new_rows(void **state)
{
    fixture *fx = *state;
    char out[128], ckpt[160];
    lg_train_options o;
    lg_error err;
    snprintf(out, sizeof out, "%s/rows", fx->dir);
    options(&o, fx, out, NULL);
    o.batch = 4;
    o.train_rows_from = 300;
    o.weight_decay = 0.1f;
    assert_int_equal(lg_pack_train(&o, &err), 0);
    snprintf(ckpt, sizeof ckpt, "%s/last/model", out);
    lg_model *base = load(fx->base), *m = load(ckpt);
    const int V = m->cfg.vocab_size, C = m->cfg.hidden_size;
    int below, above;
    changed_rows(base->p.embed, m->p.embed, V, C, 300, &below, &above);
    assert_int_equal(below, 0);
    assert_true(above > 0);
    changed_rows(base->p.lm_head, m->p.lm_head, V, C, 300, &below, &above);
    assert_int_equal(below, 0);
    assert_true(above > 100); /* every output row has a gradient */
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        if (strcmp(e->name, "model.embed_tokens.weight") && strcmp(e->name, "lm_head.weight"))
            assert_memory_equal(e->param, base->entries[i].param, e->numel * sizeof(float));
    }
    lg_model_free(base);
    lg_model_free(m);
}

static void lora_keeps_the_base(void **state)
{
    fixture *fx = *state;
    char out[128], adapter[160];
    lg_train_options o;
    lg_error err;
    snprintf(out, sizeof out, "%s/lora", fx->dir);
    options(&o, fx, out, NULL);
    o.batch = 4;
    o.lora_rank = 4;
    o.lora_alpha = 8;
    o.lora_targets = 0x7f;
    o.train_rows_from = 400;
    assert_int_equal(lg_pack_train(&o, &err), 0);
    snprintf(adapter, sizeof adapter, "%s/last/adapter", out);
    lg_model *base = load(fx->base), *m = load(fx->base);
    assert_non_null(lg_lora_load_peft(m, adapter, &err));
    /* B moved away from zero: the adapter trained */
    const lg_param_entry *b = lg_lora_find(m->lora, "model.layers.0.self_attn.q_proj.lora_B.weight");
    assert_non_null(b);
    double sq = 0;
    for (size_t j = 0; j < b->numel; j++)
        sq += (double)b->param[j] * b->param[j];
    assert_true(sq > 0);
    int below, above;
    changed_rows(base->p.embed, m->p.embed, m->cfg.vocab_size, m->cfg.hidden_size, 400, &below,
                 &above);
    assert_int_equal(below, 0);
    assert_true(above > 0);
    const lg_param_entry *w = lg_model_find(m, "model.layers.1.mlp.down_proj.weight");
    assert_memory_equal(w->param, lg_model_find(base, w->name)->param, w->numel * sizeof(float));
    lg_model_free(base);
    lg_model_free(m);
}

/* A forward that fails (here: a NaN weight, so a NaN loss) fails the step before the
 * optimizer moves anything: no NaN update, no log line, the error says which step. */
static void failed_forward_fails_the_step(void **state)
{
    fixture *fx = *state;
    char out[128], log[128];
    lg_train_options o;
    lg_error err;
    snprintf(out, sizeof out, "%s/nan", fx->dir);
    snprintf(log, sizeof log, "%s/nan.log", fx->dir);
    options(&o, fx, out, log);
    o.batch = 2;
    lg_model *m = load(fx->base);
    m->p.norm[3] = NAN; /* a file with it would be refused when loaded */
    float *before = malloc(m->n_params * sizeof(float));
    memcpy(before, m->param_mem, m->n_params * sizeof(float));
    lg_tokenizer *tok = lg_tokenizer_load(o.tokenizer, &err);
    assert_non_null(tok);
    assert_int_equal(lg_train_run(&o, m, tok, &err), -1);
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "step 1"));
    assert_non_null(strstr(err.msg, "loss"));
    assert_memory_equal(m->param_mem, before, m->n_params * sizeof(float));
    FILE *f = fopen(log, "r");
    if (f) {
        assert_int_equal(fgetc(f), EOF); /* created, nothing logged */
        fclose(f);
    }
    lg_tokenizer_free(tok);
    lg_model_free(m);
    free(before);
}

/* Every log write is checked, and the close: a full disk fails the run, naming the log. */
static void log_on_a_full_disk_fails_the_run(void **state)
{
    fixture *fx = *state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char out[128];
    lg_train_options o;
    lg_error err;
    snprintf(out, sizeof out, "%s/full", fx->dir);
    options(&o, fx, out, "/dev/full");
    o.batch = 2;
    o.steps = 1;
    assert_int_equal(lg_pack_train(&o, &err), -1);
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "/dev/full"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accumulation_equals_a_bigger_batch),
        cmocka_unit_test(train_rows_changes_only_new_rows),
        cmocka_unit_test(lora_keeps_the_base),
        cmocka_unit_test(failed_forward_fails_the_step),
        cmocka_unit_test(log_on_a_full_disk_fails_the_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
