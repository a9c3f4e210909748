/* Products with bf16 weights kept as stored (lm/wmat.c) against the float32 path on the same
 * bf16-valued weights: forward (x·Wᵀ + bias, = and +=) and the backward product to the
 * activations (dX += dY·W), for the "rows" kernel (N ≤ 8), the tiled kernel (shapes spanning
 * several blocks, the last one partial) and oneDNN's when it runs on this machine.
 * Tolerances, per element with S = Σ_i |x_i|·|w_i| (the magnitude of the sum):
 *   rows and tiled: the same float32 products, summed in another order: |Δ| ≤ 1e-5·S
 *   oneDNN: the activations rounded to bf16 (relative error ≤ 2^-9 each): |Δ| ≤ 2^-8·S */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_ops.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

typedef struct {
    int rows, cols;
    uint16_t *w16;
    float *w32; /* the same values in float32 */
} weights;

static weights make_weights(int rows, int cols, uint64_t seed)
{
    weights w = {rows, cols, malloc(sizeof(uint16_t) * (size_t)rows * cols),
                 malloc(sizeof(float) * (size_t)rows * cols)};
    assert_non_null(w.w16);
    assert_non_null(w.w32);
    lg_rng r;
    lg_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)rows * cols; i++) {
        w.w16[i] = lg_f32_to_bf16((float)(lg_rng_normal(&r) * 0.5));
        w.w32[i] = lg_bf16_to_f32(w.w16[i]);
    }
    return w;
}

static void free_weights(weights *w)
{
    free(w->w16);
    free(w->w32);
}

static float *randn(size_t n, uint64_t seed)
{
    float *v = malloc(sizeof(float) * n);
    assert_non_null(v);
    lg_rng r;
    lg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)lg_rng_normal(&r);
    return v;
}

/* max over elements of |got − want| / S, S = Σ|a_i||b_i| of that element's sum */
static double forward_err(lg_wmat_kernel k, const weights *w, int N, int add, int bias)
{
    const int R = w->rows, C = w->cols;
    float *x = randn((size_t)N * C, 11 + N), *b = bias ? randn((size_t)R, 12) : NULL;
    float *want = randn((size_t)N * R, 13), *got = malloc(sizeof(float) * (size_t)N * R);
    assert_non_null(got);
    memcpy(got, want, sizeof(float) * (size_t)N * R);
    if (add)
        lg_matmul_forward_add_f32(want, x, w->w32, b, N, C, R);
    else
        lg_matmul_forward_f32(want, x, w->w32, b, N, C, R);
    lg_wmat W = {LG_DT_BF16, w->w16, R, C};
    lg_wmat_forward_with(k, got, x, &W, b, N, add);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < R; o++) {
            double s = 1e-30;
            for (int i = 0; i < C; i++)
                s += fabs((double)x[(size_t)n * C + i] * w->w32[(size_t)o * C + i]);
            const double e = fabs((double)got[(size_t)n * R + o] - want[(size_t)n * R + o]) / s;
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
    free(x);
    free(b);
    free(want);
    free(got);
    return worst;
}

static double backward_err(lg_wmat_kernel k, const weights *w, int N)
{
    const int R = w->rows, C = w->cols;
    float *dy = randn((size_t)N * R, 21 + N), *want = randn((size_t)N * C, 22);
    float *got = malloc(sizeof(float) * (size_t)N * C);
    assert_non_null(got);
    memcpy(got, want, sizeof(float) * (size_t)N * C);
    lg_matmul_backward_f32(want, NULL, NULL, dy, NULL, w->w32, N, C, R);
    lg_wmat W = {LG_DT_BF16, w->w16, R, C};
    lg_wmat_backward_in_with(k, got, dy, &W, N);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++) {
            double s = 1e-30;
            for (int o = 0; o < R; o++)
                s += fabs((double)dy[(size_t)n * R + o] * w->w32[(size_t)o * C + i]);
            const double e = fabs((double)got[(size_t)n * C + i] - want[(size_t)n * C + i]) / s;
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
    free(dy);
    free(want);
    free(got);
    return worst;
}

/* 600 × 1000: three 256-row blocks forward, three column blocks backward, each last one partial */
static const int shapes[][2] = {{48, 80}, {600, 1000}, {33, 1100}};
static const int batches[] = {1, 3, 8, 9, 64, 130};

static void check_kernel(lg_wmat_kernel k, double tol)
{
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        weights w = make_weights(shapes[s][0], shapes[s][1], 100 + s);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            const int N = batches[b];
            for (int add = 0; add < 2; add++) {
                const double e = forward_err(k, &w, N, add, add);
                if (!(e <= tol))
                    fail_msg("forward %dx%d N=%d add=%d: error %.3g > %.3g", w.rows, w.cols, N,
                             add, e, tol);
            }
            const double e = backward_err(k, &w, N);
            if (!(e <= tol))
                fail_msg("backward %dx%d N=%d: error %.3g > %.3g", w.rows, w.cols, N, e, tol);
        }
        free_weights(&w);
    }
}

static void tiled_matches_f32(void **state)
{
    (void)state;
    lg_wmat_reset_used();
    check_kernel(LG_WK_TILED, 1e-5);
    assert_string_equal(lg_wmat_kernel_used(), "rows+tiled");
}

static void onednn_matches_f32_within_bf16(void **state)
{
    (void)state;
    if (!lg_wmat_have_onednn()) {
        lg_wmat_release();
        skip();
    }
    lg_wmat_reset_used();
    check_kernel(LG_WK_ONEDNN, 1.0 / 256);
    assert_string_equal(lg_wmat_kernel_used(), "rows+onednn");
    lg_wmat_release();
}

/* f32 weights go through the f32 product unchanged */
static void f32_weights_are_the_f32_product(void **state)
{
    (void)state;
    weights w = make_weights(20, 30, 7);
    float *x = randn(5 * 30, 8), *a = calloc(5 * 20, sizeof(float)), *b = calloc(5 * 20, 4);
    lg_matmul_forward_f32(a, x, w.w32, NULL, 5, 30, 20);
    lg_wmat W = {LG_DT_F32, w.w32, 20, 30};
    lg_wmat_forward(b, x, &W, NULL, 5, 0);
    assert_memory_equal(a, b, sizeof(float) * 5 * 20);
    free(x);
    free(a);
    free(b);
    free_weights(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiled_matches_f32),
        cmocka_unit_test(onednn_matches_f32_within_bf16),
        cmocka_unit_test(f32_weights_are_the_f32_product),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
