/* bf16 weight kernels against each other and against float32 weights, per shape
 * (make bench-bf16): the Llama-3.2-1B projections, forward (x·Wᵀ) and backward to the
 * activations (dY·W), N rows. Prints one line per shape and kernel: milliseconds (best of
 * REPEATS) and GFLOP/s. Usage: wmat_bench [N [REPEATS]] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_ops.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

static double best_ms(int repeats, void (*fn)(void *), void *arg)
{
    double best = 1e30;
    fn(arg); /* warm-up (oneDNN builds its primitive here) */
    for (int r = 0; r < repeats; r++) {
        double t0 = omp_get_wtime();
        fn(arg);
        double t = (omp_get_wtime() - t0) * 1e3;
        if (t < best)
            best = t;
    }
    return best;
}

typedef struct {
    lg_wmat_kernel k;
    int backward, N;
    lg_wmat W;
    float *x, *y;
} job;

static void run(void *p)
{
    job *j = p;
    if (j->backward)
        lg_wmat_backward_in_with(j->k, j->x, j->y, &j->W, j->N);
    else
        lg_wmat_forward_with(j->k, j->y, j->x, &j->W, NULL, j->N, 0);
}

int main(int argc, char **argv)
{
    int N = argc > 1 ? atoi(argv[1]) : 512, repeats = argc > 2 ? atoi(argv[2]) : 3;
    static const struct {
        const char *name;
        int rows, cols;
    } shapes[] = {{"q/o 2048x2048", 2048, 2048}, {"k/v 512x2048", 512, 2048},
                  {"gate/up 8192x2048", 8192, 2048}, {"down 2048x8192", 2048, 8192},
                  {"head 128256x2048", 128256, 2048}};
    printf("N=%d threads=%d onednn=%s\n", N, omp_get_max_threads(),
           lg_wmat_have_onednn() ? "yes" : "no");
    printf("%-20s %-4s %10s %10s %10s  %s\n", "shape", "dir", "f32 ms", "tiled ms", "onednn ms",
           "faster bf16");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const int R = shapes[s].rows, C = shapes[s].cols;
        if (R == 128256 && N > 512)
            continue;
        size_t nw = (size_t)R * C;
        uint16_t *w16 = malloc(2 * nw);
        float *w32 = malloc(4 * nw);
        float *x = malloc(4 * (size_t)N * C), *y = malloc(4 * (size_t)N * R);
        if (!w16 || !w32 || !x || !y)
            return 1;
        lg_rng r;
        lg_rng_seed(&r, 1);
        for (size_t i = 0; i < nw; i++) {
            w16[i] = lg_f32_to_bf16(lg_rng_float(&r) - 0.5f);
            w32[i] = lg_bf16_to_f32(w16[i]);
        }
        for (size_t i = 0; i < (size_t)N * C; i++)
            x[i] = lg_rng_float(&r) - 0.5f;
        memset(y, 0, 4 * (size_t)N * R);
        for (int bwd = 0; bwd < 2; bwd++) {
            job f = {LG_WK_TILED, bwd, N, {LG_DT_F32, w32, R, C}, x, y};
            job t = {LG_WK_TILED, bwd, N, {LG_DT_BF16, w16, R, C}, x, y};
            job o = {LG_WK_ONEDNN, bwd, N, {LG_DT_BF16, w16, R, C}, x, y};
            double mf = best_ms(repeats, run, &f), mt = best_ms(repeats, run, &t);
            double mo = lg_wmat_have_onednn() ? best_ms(repeats, run, &o) : 0;
            printf("%-20s %-4s %10.2f %10.2f %10.2f  %s (%.2fx f32)\n", shapes[s].name,
                   bwd ? "bwd" : "fwd", mf, mt, mo, mo > 0 && mo < mt ? "onednn" : "tiled",
                   mf / (mo > 0 && mo < mt ? mo : mt));
            fflush(stdout);
        }
        free(w16);
        free(w32);
        free(x);
        free(y);
    }
    lg_wmat_release();
    return 0;
}
