/* Fresh models: matrices normal(0, initializer_range) (sample mean and deviation), RMSNorm
 * weights one, qwen2 biases zero, the padding row zero; the same seed gives the same
 * weights and another seed other weights; presets have the sizes they promise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lg_model_init.h"

static lg_model *fresh(const char *preset, int vocab, uint64_t seed)
{
    lg_config c;
    lg_error err;
    assert_int_equal(lg_config_preset(preset, vocab, &c, &err), 0);
    c.pad_token_id = 3;
    lg_model *m = lg_model_create(&c, &err);
    assert_non_null(m);
    lg_model_init_weights(m, 0.02f, seed);
    return m;
}

static void hf_initialisation(void **state)
{
    (void)state;
    lg_model *m = fresh("micro", 300, 5);
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        if (!e->is_matrix) {
            for (size_t j = 0; j < e->numel; j++)
                assert_true(e->param[j] == 1.0f);
            continue;
        }
        double sum = 0, sq = 0;
        for (size_t j = 0; j < e->numel; j++) {
            sum += e->param[j];
            sq += (double)e->param[j] * e->param[j];
        }
        double mean = sum / (double)e->numel, sd = sqrt(sq / (double)e->numel - mean * mean);
        assert_true(fabs(mean) < 4 * 0.02 / sqrt((double)e->numel) + 1e-4);
        assert_true(fabs(sd - 0.02) < 0.02 * 0.05);
    }
    for (int j = 0; j < m->cfg.hidden_size; j++)
        assert_true(m->p.embed[3 * m->cfg.hidden_size + j] == 0.0f);
    assert_int_equal(m->cfg.hidden_size, 64);
    assert_int_equal(m->cfg.n_layers, 2);
    lg_model_free(m);

    lg_config c;
    lg_error err;
    assert_int_equal(lg_config_preset("tiny", 1000, &c, &err), 0);
    assert_int_equal(c.hidden_size, 256);
    assert_int_equal(c.n_layers, 4);
    assert_int_equal(c.n_heads, 4);
    assert_int_equal(c.n_kv_heads, 2);
    assert_int_equal(c.intermediate_size, 688);
    assert_int_equal(c.vocab_size, 1000);
    assert_int_equal(lg_config_preset("nano", 1000, &c, &err), -1);
    assert_non_null(strstr(err.msg, "nano"));
}

static void qwen2_biases_are_zero(void **state)
{
    (void)state;
    lg_config c;
    lg_error err;
    assert_int_equal(lg_config_preset("micro", 100, &c, &err), 0);
    c.arch = LG_ARCH_QWEN2;
    c.qkv_bias = 1;
    lg_model *m = lg_model_create(&c, &err);
    assert_non_null(m);
    for (size_t j = 0; j < m->n_params; j++)
        m->param_mem[j] = 7.0f;
    lg_model_init_weights(m, 0.02f, 1);
    const lg_param_entry *b = lg_model_find(m, "model.layers.1.self_attn.k_proj.bias");
    assert_non_null(b);
    for (size_t j = 0; j < b->numel; j++)
        assert_true(b->param[j] == 0.0f);
    lg_model_free(m);
}

static void seeded(void **state)
{
    (void)state;
    lg_model *a = fresh("micro", 300, 9), *b = fresh("micro", 300, 9), *c = fresh("micro", 300, 10);
    assert_memory_equal(a->param_mem, b->param_mem, a->n_params * sizeof(float));
    assert_memory_not_equal(a->param_mem, c->param_mem, a->n_params * sizeof(float));
    lg_model_free(a);
    lg_model_free(b);
    lg_model_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hf_initialisation),
        cmocka_unit_test(qwen2_biases_are_zero),
        cmocka_unit_test(seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
