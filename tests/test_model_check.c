/* The core against Hugging Face: every fixture's logits, loss, hidden states and
 * gradients within tolerance; a perturbed weight is caught; wrong shapes are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_check.h"
#include "lg_model.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf/"

static void check_fixture(const char *name)
{
    char dir[256], ref[256];
    snprintf(dir, sizeof dir, FIX "%s", name);
    snprintf(ref, sizeof ref, FIX "%s/reference.safetensors", name);
    lg_error err = {{0}};
    lg_model *m = lg_model_load_dir(dir, &err);
    if (!m)
        fail_msg("%s", err.msg);
    lg_check_report r;
    if (lg_check_reference(m, ref, &r, &err) < 0)
        fail_msg("%s", err.msg);
    for (int g = 0; g < LG_GROUP_COUNT; g++) {
        printf("%s %-14s %.3e (%d tensors, worst %s)\n", name, lg_check_group_name(g),
               r.max_err[g], r.tensors[g], r.worst[g]);
        assert_true(r.tensors[g] > 0);
        assert_true(r.max_err[g] <= r.tolerance[g]);
    }
    /* every parameter's gradient was compared: untied llama has one per entry */
    assert_int_equal(r.tensors[LG_GROUP_GRADS], m->n_entries);
    assert_int_equal(r.tensors[LG_GROUP_HIDDEN], m->cfg.n_layers + 1);
    assert_true(r.passed);
    lg_model_free(m);
}

static void llama_tiny_matches_hf(void **s) { (void)s; check_fixture("llama-tiny"); }
static void llama_tied_bf16_sharded_matches_hf(void **s)
{
    (void)s;
    check_fixture("llama-tiny-tied-bf16-sharded");
}
static void qwen2_tiny_matches_hf(void **s) { (void)s; check_fixture("qwen2-tiny"); }

static void perturbed_weight_fails_check(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    const lg_param_entry *e = lg_model_find(m, "model.layers.1.mlp.up_proj.weight");
    assert_non_null(e);
    e->param[7] += 1e-2f;
    lg_check_report r;
    assert_int_equal(lg_check_reference(m, FIX "llama-tiny/reference.safetensors", &r, &err), 0);
    assert_false(r.passed);
    assert_true(r.max_err[LG_GROUP_LOGITS] > r.tolerance[LG_GROUP_LOGITS]);
    lg_model_free(m);
}

static void grad_accumulates_and_scales(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    assert_int_equal(lg_model_alloc_grads(m, &err), 0);
    int32_t ids[2 * 9], tgt[2 * 9];
    for (int i = 0; i < 18; i++)
        ids[i] = (i * 37 + 5) % m->cfg.vocab_size;
    lg_shift_targets(tgt, ids, 2, 9);
    lg_model_zero_grads(m);
    assert_int_equal(lg_model_forward(m, ids, tgt, 2, 9, &err), 0);
    lg_model_backward(m, ids, 1.0f);
    float once = m->entries[3].grad[5];
    assert_int_equal(lg_model_forward(m, ids, tgt, 2, 9, &err), 0);
    lg_model_backward(m, ids, 0.5f);
    assert_float_equal(m->entries[3].grad[5], 1.5f * once, 1e-6f * (1 + 1.5f * once));
    lg_model_free(m);
}

static void token_outside_vocabulary_is_refused(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    int32_t ids[4] = {1, 2, 301, 3};
    assert_int_equal(lg_model_forward(m, ids, NULL, 1, 4, &err), -1);
    assert_non_null(strstr(err.msg, "301"));
    int32_t long_ids[129] = {0};
    assert_int_equal(lg_model_forward(m, long_ids, NULL, 1, 129, &err), -1);
    assert_non_null(strstr(err.msg, "128"));
    lg_model_free(m);
}

/* Inference mode shares one layer's buffers: the same logits, and backward does nothing. */
static void inference_mode_gives_the_same_logits(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "qwen2-tiny", &err);
    assert_non_null(m);
    int32_t ids[3 * 11];
    for (int i = 0; i < 33; i++)
        ids[i] = (i * 13 + 1) % m->cfg.vocab_size;
    assert_int_equal(lg_model_forward(m, ids, NULL, 3, 11, &err), 0);
    size_t n = (size_t)33 * m->cfg.vocab_size;
    float *want = malloc(n * sizeof *want);
    memcpy(want, m->a.logits, n * sizeof *want);
    lg_model_set_inference(m, 1);
    assert_int_equal(lg_model_forward(m, ids, NULL, 3, 11, &err), 0);
    assert_memory_equal(want, m->a.logits, n * sizeof *want);
    assert_true(m->a.layers[0].att == m->a.layers[1].att); /* one set of buffers */
    assert_null(lg_model_hidden(m, 0)); /* two residual buffers, not one per layer */
    assert_non_null(lg_model_hidden(m, m->cfg.n_layers));
    assert_null(m->a.dres);
    free(want);
    lg_model_free(m);
}

/* Loss-only inference: the head and the loss over chunks of rows give the loss of the full
 * logits, and forward without targets is refused. */
static void loss_only_mode_gives_the_same_loss(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    int32_t ids[3 * 11], targets[3 * 11];
    for (int i = 0; i < 33; i++)
        ids[i] = (i * 13 + 1) % m->cfg.vocab_size;
    lg_shift_targets(targets, ids, 3, 11);
    lg_model_set_inference(m, 1);
    assert_int_equal(lg_model_forward(m, ids, targets, 3, 11, &err), 0);
    const float full = m->last_loss;
    const int counted = m->counted;
    /* 7 rows of logits at a time: 33 rows in 5 chunks, the last one partial */
    lg_model_set_loss_only(m, (size_t)7 * m->cfg.vocab_size);
    assert_int_equal(lg_model_forward(m, ids, targets, 3, 11, &err), 0);
    assert_int_equal(m->counted, counted);
    assert_true(fabsf(m->last_loss - full) <= 1e-6f * full);
    assert_int_equal(lg_model_forward(m, ids, NULL, 3, 11, &err), -1);
    assert_non_null(strstr(err.msg, "loss-only"));
    lg_model_free(m);
}

/* A reference with input_ids only, or with no rows, has nothing to compare: an error, not
 * a pass; ids are checked in 64 bits (2^40 is not id 0). */
static void references_with_nothing_to_compare_fail(void **s)
{
    (void)s;
    lg_error err = {{0}};
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    const struct {
        const char *path;
        int64_t ids[4];
        int64_t rows;
        int logits;
        const char *want;
    } cases[] = {
        {"build/test_check_only_ids.safetensors", {1, 5, 9, 13}, 1, 0, "nothing to compare"},
        {"build/test_check_no_rows.safetensors", {0}, 0, 0, "no tokens"},
        {"build/test_check_big_id.safetensors", {1, (int64_t)1 << 40, 9, 13}, 1, 1,
         "token id 1099511627776 at position 1 is outside the vocabulary (301)"},
        {"build/test_check_neg_id.safetensors", {1, 5, -3, 13}, 1, 1, "token id -3"},
    };
    static float logits[4 * 301];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        lg_st_writer *w = lg_st_writer_new();
        const int64_t shape[2] = {cases[k].rows, 4}, lshape[3] = {1, 4, 301};
        assert_int_equal(lg_st_writer_add(w, "input_ids", LG_DT_I64, 2, shape, cases[k].ids, &err), 0);
        if (cases[k].logits)
            assert_int_equal(lg_st_writer_add(w, "logits", LG_DT_F32, 3, lshape, logits, &err), 0);
        assert_int_equal(lg_st_writer_write(w, cases[k].path, &err), 0);
        lg_st_writer_free(w);
        lg_check_report r;
        assert_int_equal(lg_check_reference(m, cases[k].path, &r, &err), -1);
        printf("refused: %s\n", err.msg);
        assert_non_null(strstr(err.msg, cases[k].path));
        assert_non_null(strstr(err.msg, cases[k].want));
        remove(cases[k].path);
    }
    lg_model_free(m);
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llama_tiny_matches_hf),
        cmocka_unit_test(llama_tied_bf16_sharded_matches_hf),
        cmocka_unit_test(qwen2_tiny_matches_hf),
        cmocka_unit_test(perturbed_weight_fails_check),
        cmocka_unit_test(grad_accumulates_and_scales),
        cmocka_unit_test(token_outside_vocabulary_is_refused),
        cmocka_unit_test(inference_mode_gives_the_same_logits),
        cmocka_unit_test(loss_only_mode_gives_the_same_loss),
        cmocka_unit_test(references_with_nothing_to_compare_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
