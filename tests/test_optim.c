/* AdamW against a double-precision transcription of torch.optim.AdamW's update, weight decay
 * only on matrices, frozen embedding rows untouched, per-group learning rates, clipping of
 * the global norm, the schedule's shape, and the state surviving a save and load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_optim.h"

/* Three tensors: a 2×3 matrix (body), a norm vector of 3 (body), a 4×2 embedding (embed). */
typedef struct {
    float p[6 + 3 + 8], g[6 + 3 + 8];
    lg_param_entry e[3];
    lg_param_entry *list[3];
} toy;

static void toy_init(toy *t)
{
    memset(t, 0, sizeof *t);
    const char *names[3] = {"model.layers.0.mlp.up_proj.weight", "model.norm.weight",
                            "model.embed_tokens.weight"};
    const int64_t rows[3] = {2, 3, 4}, cols[3] = {3, 0, 2};
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        lg_param_entry *e = &t->e[i];
        snprintf(e->name, sizeof e->name, "%s", names[i]);
        e->ndim = cols[i] ? 2 : 1;
        e->shape[0] = rows[i];
        e->shape[1] = cols[i];
        e->numel = (size_t)(rows[i] * (cols[i] ? cols[i] : 1));
        e->offset = off;
        e->is_matrix = cols[i] != 0;
        e->param = t->p + off;
        e->grad = t->g + off;
        off += e->numel;
        t->list[i] = e;
    }
    for (int j = 0; j < 17; j++)
        t->p[j] = 0.5f - 0.07f * (float)j;
}

static void toy_grads(toy *t, int step)
{
    for (int j = 0; j < 17; j++)
        t->g[j] = (float)sin(1.3 * j + 0.7 * step) * (j % 3 ? 1.0f : 0.01f);
}

/* torch.optim.AdamW, _single_tensor_adamw, written out in double. */
static void torch_adamw_reference(double *p, double *m, double *v, const float *g, int n,
                                  double lr, double wd, int step)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int j = 0; j < n; j++) {
        p[j] *= 1 - lr * wd;
        m[j] += (g[j] - m[j]) * (1 - b1);
        v[j] = v[j] * b2 + (1 - b2) * g[j] * g[j];
        double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
        double denom = sqrt(v[j]) / sqrt(bc2) + eps;
        p[j] -= lr / bc1 * m[j] / denom;
    }
}

static void adamw_matches_torch(void **state)
{
    (void)state;
    toy t;
    toy_init(&t);
    lg_adamw opt;
    lg_error err;
    lg_adamw_hparams h = lg_adamw_defaults();
    h.weight_decay = 0.1f;
    assert_int_equal(lg_adamw_init(&opt, t.list, 3, h, 2, &err), 0);
    /* embedding rows 0,1 are frozen: only 4 of its 8 elements have moments */
    assert_int_equal(opt.n_state, 6 + 3 + 4);

    double ref[17], m[17] = {0}, v[17] = {0};
    float frozen[4];
    for (int j = 0; j < 17; j++)
        ref[j] = t.p[j];
    memcpy(frozen, t.p + 9, sizeof frozen);
    const float lr[LG_N_GROUPS] = {1e-2f, 3e-2f};
    for (int step = 1; step <= 4; step++) {
        toy_grads(&t, step);
        torch_adamw_reference(ref, m, v, t.g, 6, lr[0], 0.1, step);          /* matrix */
        torch_adamw_reference(ref + 6, m + 6, v + 6, t.g + 6, 3, lr[0], 0.0, step); /* norm */
        torch_adamw_reference(ref + 13, m + 13, v + 13, t.g + 13, 4, lr[1], 0.1, step);
        lg_adamw_step(&opt, lr);
    }
    assert_int_equal(opt.step, 4);
    for (int j = 0; j < 17; j++) {
        if (j >= 9 && j < 13)
            continue;
        assert_true(fabs(t.p[j] - ref[j]) < 1e-6 * (1 + fabs(ref[j])));
    }
    /* the frozen rows did not move at all, not even by weight decay */
    assert_memory_equal(t.p + 9, frozen, sizeof frozen);
    /* and the norm was not decayed: with a zero gradient it would stay put */
    lg_adamw_free(&opt);
}

static void zero_gradient_shows_decay_only_on_matrices(void **state)
{
    (void)state;
    toy t;
    toy_init(&t);
    lg_adamw opt;
    lg_error err;
    lg_adamw_hparams h = lg_adamw_defaults();
    h.weight_decay = 0.5f;
    assert_int_equal(lg_adamw_init(&opt, t.list, 3, h, 0, &err), 0);
    float before[17];
    memcpy(before, t.p, sizeof before);
    const float lr[LG_N_GROUPS] = {0.1f, 0.1f};
    lg_adamw_step(&opt, lr);
    for (int j = 0; j < 17; j++) {
        float expect = (j >= 6 && j < 9) ? before[j] : before[j] * (1.0f - 0.1f * 0.5f);
        assert_true(fabsf(t.p[j] - expect) < 1e-7f);
    }
    lg_adamw_free(&opt);
}

static void clipping_scales_the_global_norm(void **state)
{
    (void)state;
    toy t;
    toy_init(&t);
    lg_adamw opt;
    lg_error err;
    assert_int_equal(lg_adamw_init(&opt, t.list, 3, lg_adamw_defaults(), 2, &err), 0);
    toy_grads(&t, 1);
    double sq = 0;
    for (int j = 0; j < 17; j++)
        if (j < 9 || j >= 13) /* frozen rows do not count */
            sq += (double)t.g[j] * t.g[j];
    assert_true(fabs(lg_adamw_grad_norm(&opt) - sqrt(sq)) < 1e-6);
    float frozen_grad[4];
    memcpy(frozen_grad, t.g + 9, sizeof frozen_grad);
    /* above the limit: scaled down to it */
    double max_norm = sqrt(sq) / 4;
    double before = lg_adamw_clip(&opt, max_norm);
    assert_true(fabs(before - sqrt(sq)) < 1e-6);
    assert_true(fabs(lg_adamw_grad_norm(&opt) - max_norm) < 1e-5 * max_norm);
    assert_memory_equal(t.g + 9, frozen_grad, sizeof frozen_grad);
    /* below the limit: untouched */
    float g[17];
    memcpy(g, t.g, sizeof g);
    lg_adamw_clip(&opt, 10 * max_norm);
    assert_memory_equal(g, t.g, sizeof g);
    lg_adamw_free(&opt);
}

static void schedule_warmup_then_cosine(void **state)
{
    (void)state;
    lg_lr_schedule s = {.warmup_steps = 10, .total_steps = 110, .min_ratio = 0.1f};
    assert_true(fabsf(lg_lr_factor(&s, 0) - 0.1f) < 1e-7f);
    assert_true(fabsf(lg_lr_factor(&s, 4) - 0.5f) < 1e-7f);
    assert_true(fabsf(lg_lr_factor(&s, 9) - 1.0f) < 1e-7f);
    assert_true(fabsf(lg_lr_factor(&s, 10) - 1.0f) < 1e-7f);
    /* halfway through the decay: the middle of peak and floor */
    assert_true(fabsf(lg_lr_factor(&s, 60) - 0.55f) < 1e-6f);
    assert_true(fabsf(lg_lr_factor(&s, 110) - 0.1f) < 1e-6f);
    assert_true(fabsf(lg_lr_factor(&s, 500) - 0.1f) < 1e-6f);
    for (long i = 11; i < 110; i++)
        assert_true(lg_lr_factor(&s, i) <= lg_lr_factor(&s, i - 1));
    lg_lr_schedule none = {.warmup_steps = 0, .total_steps = 5, .min_ratio = 0};
    assert_true(fabsf(lg_lr_factor(&none, 0) - 1.0f) < 1e-7f);
}

static void state_survives_save_and_load(void **state)
{
    (void)state;
    char path[] = "build/test_optim_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    toy t;
    toy_init(&t);
    lg_adamw a, b;
    lg_error err;
    assert_int_equal(lg_adamw_init(&a, t.list, 3, lg_adamw_defaults(), 2, &err), 0);
    const float lr[LG_N_GROUPS] = {1e-2f, 1e-2f};
    for (int s = 1; s <= 3; s++) {
        toy_grads(&t, s);
        lg_adamw_step(&a, lr);
    }
    lg_st_writer *w = lg_st_writer_new();
    assert_int_equal(lg_adamw_save(&a, w, &err), 0);
    assert_int_equal(lg_st_writer_write(w, path, &err), 0);
    lg_st_writer_free(w);

    assert_int_equal(lg_adamw_init(&b, t.list, 3, lg_adamw_defaults(), 2, &err), 0);
    lg_safetensors *st = lg_st_open(path, &err);
    assert_non_null(st);
    assert_int_equal(lg_adamw_load(&b, st, path, &err), 0);
    assert_memory_equal(a.m_mem, b.m_mem, a.n_state * sizeof(float));
    assert_memory_equal(a.v_mem, b.v_mem, a.n_state * sizeof(float));
    lg_adamw_free(&b);
    /* another row range: the shapes differ and the message says which tensor */
    assert_int_equal(lg_adamw_init(&b, t.list, 3, lg_adamw_defaults(), 1, &err), 0);
    assert_int_equal(lg_adamw_load(&b, st, path, &err), -1);
    assert_non_null(strstr(err.msg, "embed_tokens"));
    lg_adamw_free(&b);
    /* fewer trained tensors than saved: refused */
    assert_int_equal(lg_adamw_init(&b, t.list, 2, lg_adamw_defaults(), 2, &err), 0);
    assert_int_equal(lg_adamw_load(&b, st, path, &err), -1);
    assert_non_null(strstr(err.msg, path));
    lg_adamw_free(&b);
    lg_st_close(st);
    lg_adamw_free(&a);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adamw_matches_torch),
        cmocka_unit_test(zero_gradient_shows_decay_only_on_matrices),
        cmocka_unit_test(clipping_scales_the_global_norm),
        cmocka_unit_test(schedule_warmup_then_cosine),
        cmocka_unit_test(state_survives_save_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
