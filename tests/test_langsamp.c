/* LangSAMP in the model: zero vectors change nothing, untagged sequences are untouched,
 * the gradients of the vectors match finite differences of the model's loss, and the
 * vectors survive a safetensors round trip with their codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_langsamp.h"
#include "lg_model.h"
#include "lg_rng.h"

#define FIX "tests/fixtures/hf/"
enum { B = 2, T = 9 };

static lg_model *load(void)
{
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    if (!m)
        fail_msg("%s", err.msg);
    return m;
}

static void make_batch(const lg_model *m, int32_t *ids, int32_t *tgt)
{
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 53 + 11) % m->cfg.vocab_size;
    lg_shift_targets(tgt, ids, B, T);
}

static void zero_vectors_change_nothing_and_untagged_rows_stay(void **s)
{
    (void)s;
    lg_model *m = load();
    lg_error err;
    int32_t ids[B * T], tgt[B * T];
    make_batch(m, ids, tgt);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    size_t n = (size_t)B * T * m->cfg.vocab_size;
    float *plain = malloc(n * sizeof *plain);
    memcpy(plain, m->a.logits, n * sizeof *plain);
    lg_langsamp *ls = lg_langsamp_create(m->cfg.hidden_size, "nld,eng", "Latn", &err);
    assert_non_null(ls);
    lg_model_attach_langsamp(m, ls);
    int32_t lang[B] = {0, -1}, script[B] = {0, -1};
    assert_int_equal(lg_model_set_tags(m, lang, script, B, &err), 0);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    assert_memory_equal(plain, m->a.logits, n * sizeof *plain);
    /* non-zero vectors: the tagged first sequence changes, the untagged second does not */
    for (int c = 0; c < ls->C; c++)
        ls->lang[c] = 0.1f * (float)((c % 7) - 3);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    size_t half = n / 2;
    assert_memory_not_equal(plain, m->a.logits, half * sizeof *plain);
    assert_memory_equal(plain + half, m->a.logits + half, half * sizeof *plain);
    free(plain);
    lg_model_free(m);
}

static void vector_gradients_match_finite_differences(void **s)
{
    (void)s;
    lg_model *m = load();
    lg_error err;
    int32_t ids[B * T], tgt[B * T];
    make_batch(m, ids, tgt);
    lg_langsamp *ls = lg_langsamp_create(m->cfg.hidden_size, "nld,fry", "Latn", &err);
    lg_model_attach_langsamp(m, ls);
    lg_rng rng;
    lg_rng_seed(&rng, 7);
    for (int i = 0; i < 2 * ls->C; i++)
        ls->lang[i] = (float)(0.3 * lg_rng_normal(&rng));
    for (int i = 0; i < ls->C; i++)
        ls->script[i] = (float)(0.3 * lg_rng_normal(&rng));
    int32_t lang[B] = {1, 0}, script[B] = {0, 0};
    assert_int_equal(lg_model_set_tags(m, lang, script, B, &err), 0);
    int none[64] = {0};
    assert_int_equal(lg_model_alloc_grads_for(m, none, &err), 0);
    assert_int_equal(lg_langsamp_alloc_grads(ls, &err), 0);
    lg_model_zero_grads(m);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    lg_model_backward(m, ids, 1.0f);
    double gmax = 0;
    for (int i = 0; i < ls->C; i++)
        gmax = fmax(gmax, fabs(ls->dscript[i]));
    assert_true(gmax > 0);
    float *vecs[2] = {ls->lang, ls->script};
    float *grads[2] = {ls->dlang, ls->dscript};
    const int probes[][2] = {{0, 3}, {0, 64 + 10}, {1, 5}, {1, 40}};
    for (size_t p = 0; p < sizeof probes / sizeof *probes; p++) {
        float *v = vecs[probes[p][0]];
        int i = probes[p][1];
        const float h = 1e-2f, keep = v[i];
        v[i] = keep + h;
        lg_model_forward(m, ids, tgt, B, T, &err);
        double lp = m->last_loss;
        v[i] = keep - h;
        lg_model_forward(m, ids, tgt, B, T, &err);
        double lm = m->last_loss;
        v[i] = keep;
        double fd = (lp - lm) / (2 * h), g = grads[probes[p][0]][i];
        printf("%s[%d]: analytic %.6f, finite difference %.6f\n", probes[p][0] ? "script" : "lang",
               i, g, fd);
        assert_true(fabs(fd - g) <= 0.02 * gmax + 0.02 * fabs(g));
    }
    lg_model_free(m);
}

static void vectors_round_trip_through_safetensors(void **s)
{
    (void)s;
    lg_error err;
    lg_langsamp *ls = lg_langsamp_create(8, "nld,eus,fry", "Latn,Cyrl", &err);
    assert_non_null(ls);
    for (int i = 0; i < 3 * 8; i++)
        ls->lang[i] = (float)i;
    for (int i = 0; i < 2 * 8; i++)
        ls->script[i] = -(float)i;
    lg_st_writer *w = lg_st_writer_new();
    assert_int_equal(lg_langsamp_add_to_writer(ls, w, &err), 0);
    assert_int_equal(lg_st_writer_write(w, "build/test_langsamp.safetensors", &err), 0);
    lg_st_writer_free(w);
    lg_safetensors *st = lg_st_open("build/test_langsamp.safetensors", &err);
    assert_non_null(st);
    lg_langsamp *back = lg_langsamp_from_file(st, "build/test_langsamp.safetensors", 8, &err);
    assert_non_null(back);
    assert_int_equal(back->n_langs, 3);
    assert_int_equal(lg_langsamp_lang(back, "fry"), 2);
    assert_int_equal(lg_langsamp_script(back, "Cyrl"), 1);
    assert_int_equal(lg_langsamp_lang(back, "deu"), -1);
    assert_memory_equal(back->lang, ls->lang, 3 * 8 * sizeof(float));
    assert_memory_equal(back->script, ls->script, 2 * 8 * sizeof(float));
    lg_st_close(st);
    lg_langsamp_free(ls);
    lg_langsamp_free(back);
    assert_null(lg_langsamp_create(8, "nld,nld", "Latn", &err));
    assert_non_null(strstr(err.msg, "twice"));
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_vectors_change_nothing_and_untagged_rows_stay),
        cmocka_unit_test(vector_gradients_match_finite_differences),
        cmocka_unit_test(vectors_round_trip_through_safetensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
