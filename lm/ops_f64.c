/* The layer kernels in float64: the reference the finite-difference tests check. */
#define REAL double
#define SFX f64
#define GEMM cblas_dgemm
#define EXP exp
#include "ops_impl.h"

void lg_rope_tables_f64(double *cos_t, double *sin_t, int T, int hd, double theta)
{
    lg_rope_tables_freq_f64(cos_t, sin_t, T, hd, theta, NULL);
}

void lg_rope_tables_freq_f64(double *cos_t, double *sin_t, int T, int hd, double theta,
                             const float *inv_freqs)
{
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        double inv_freq = inv_freqs ? (double)inv_freqs[i]
                                    : 1.0 / pow(theta, (double)(2 * i) / (double)hd);
        for (int t = 0; t < T; t++) {
            cos_t[(size_t)t * half + i] = cos((double)t * inv_freq);
            sin_t[(size_t)t * half + i] = sin((double)t * inv_freq);
        }
    }
}
