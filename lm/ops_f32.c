/* The layer kernels in float32: the model's compute type. */
#define REAL float
#define SFX f32
#define GEMM cblas_sgemm
#define EXP lg_fast_expf
#include "ops_impl.h"

void lg_rope_tables_f32(float *cos_t, float *sin_t, int T, int hd, double theta)
{
    lg_rope_tables_freq_f32(cos_t, sin_t, T, hd, theta, NULL);
}

void lg_rope_tables_freq_f32(float *cos_t, float *sin_t, int T, int hd, double theta,
                             const float *inv_freqs)
{
    /* as HF computes them: inv_freq and the angles in float32 */
    int half = hd / 2;
    for (int i = 0; i < half; i++) {
        float inv_freq = inv_freqs ? inv_freqs[i]
                                   : 1.0f / powf((float)theta, (float)(2 * i) / (float)hd);
        for (int t = 0; t < T; t++) {
            float angle = (float)t * inv_freq;
            cos_t[(size_t)t * half + i] = cosf(angle);
            sin_t[(size_t)t * half + i] = sinf(angle);
        }
    }
}
