/* The layer kernels, written once over REAL and compiled twice: ops_f32.c (REAL = float,
 * the model's compute type) and ops_f64.c (REAL = double, for finite-difference tests).
 * The including file defines REAL, SFX (f32/f64) and GEMM (cblas_sgemm/cblas_dgemm).
 * Reductions accumulate in double in both variants: the cost is negligible next to the
 * matrix products and it keeps the f32 model within 1e-5 of a float64 reference. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "lg_ops.h"

#ifndef LG_FAST_EXPF_DEFINED
#define LG_FAST_EXPF_DEFINED
/* exp for float that the compiler vectorizes (no call, no errno): Cody–Waite range
 * reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r (Cephes' expf
 * coefficients, ~1 ulp), and 2^n put into the exponent bits. Inputs are clamped to
 * [−87.3, 88.7], so e^x never overflows and underflows to ~1e−38 instead of 0, which no
 * softmax or sigmoid here can tell apart. */
static inline float lg_fast_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.7f ? 88.7f : x;
    /* round to nearest by adding and removing 1.5·2²³: t holds n in its low mantissa bits */
    const float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n from t's bits, in unsigned arithmetic: a NaN x (which the clamps let through)
     * then gives NaN through p, not the undefined (int32_t)NaN and a negative shift */
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    const uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, CAT(_, SFX))

void FN(lg_embedding_forward)(REAL *out, const int32_t *ids, const REAL *table, int N, int C)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, table + (size_t)ids[n] * C, sizeof(REAL) * (size_t)C);
}

void FN(lg_embedding_backward)(REAL *dtable, const REAL *dout, const int32_t *ids, int N, int C)
{
    /* serial over rows: two rows may hit the same token; parallel over channels instead */
#pragma omp parallel for schedule(static) if (C >= 256)
    for (int c0 = 0; c0 < C; c0 += 64) {
        int c1 = c0 + 64 < C ? c0 + 64 : C;
        for (int n = 0; n < N; n++) {
            REAL *row = dtable + (size_t)ids[n] * C;
            const REAL *d = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++)
                row[c] += d[c];
        }
    }
}

void FN(lg_rmsnorm_forward)(REAL *out, REAL *rstd, const REAL *x, const REAL *w, int N, int C,
                            float eps)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const REAL *xr = x + (size_t)n * C;
        REAL *o = out + (size_t)n * C;
        double ss = 0;
        for (int c = 0; c < C; c++)
            ss += (double)xr[c] * xr[c];
        REAL r = (REAL)(1.0 / sqrt(ss / C + (double)eps));
        for (int c = 0; c < C; c++)
            o[c] = w[c] * (xr[c] * r);
        rstd[n] = r;
    }
}

void FN(lg_rmsnorm_backward)(REAL *dx, REAL *dw, const REAL *dout, const REAL *x, const REAL *w,
                             const REAL *rstd, int N, int C)
{
    if (dx) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++) {
            const REAL *xr = x + (size_t)n * C, *d = dout + (size_t)n * C;
            REAL *dxr = dx + (size_t)n * C;
            double r = rstd[n], dot = 0;
            for (int c = 0; c < C; c++)
                dot += (double)w[c] * d[c] * xr[c];
            double k = r * r * r * dot / C;
            for (int c = 0; c < C; c++)
                dxr[c] += (REAL)(r * w[c] * d[c] - k * xr[c]);
        }
    }
    if (dw) {
        /* blocks of columns walked row by row: whole cache lines, vectorised, instead of
         * one strided column at a time */
        enum { CB = 64 };
#pragma omp parallel for schedule(static)
        for (int c0 = 0; c0 < C; c0 += CB) {
            const int cn = C - c0 < CB ? C - c0 : CB;
            double s[CB] = {0};
            for (int n = 0; n < N; n++) {
                const REAL *d = dout + (size_t)n * C + c0, *xr = x + (size_t)n * C + c0;
                const double r = rstd[n];
                for (int c = 0; c < cn; c++)
                    s[c] += (double)d[c] * xr[c] * r;
            }
            for (int c = 0; c < cn; c++)
                dw[c0 + c] += (REAL)s[c];
        }
    }
}

static void FN(matmul)(REAL *out, const REAL *in, const REAL *W, const REAL *bias, int N, int IC,
                       int OC, REAL beta)
{
    GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1, in, IC, W, IC, beta, out, OC);
    if (bias) {
#pragma omp parallel for schedule(static)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
                out[(size_t)n * OC + o] += bias[o];
    }
}

void FN(lg_matmul_forward)(REAL *out, const REAL *in, const REAL *W, const REAL *bias, int N,
                           int IC, int OC)
{
    FN(matmul)(out, in, W, bias, N, IC, OC, 0);
}

void FN(lg_matmul_forward_add)(REAL *out, const REAL *in, const REAL *W, const REAL *bias, int N,
                               int IC, int OC)
{
    FN(matmul)(out, in, W, bias, N, IC, OC, 1);
}

void FN(lg_matmul_backward)(REAL *din, REAL *dW, REAL *dbias, const REAL *dout, const REAL *in,
                            const REAL *W, int N, int IC, int OC)
{
    if (din)
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1, dout, OC, W, IC, 1, din, IC);
    if (dW)
        GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1, dout, OC, in, IC, 1, dW, IC);
    if (dbias) {
#pragma omp parallel for schedule(static)
        for (int o = 0; o < OC; o++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += dout[(size_t)n * OC + o];
            dbias[o] += (REAL)s;
        }
    }
}

/* Rotates each (j, j + hd/2) pair of every head by its position's angle, times `sign`:
 * +1 is RoPE, −1 its transpose (the backward of a rotation is the opposite rotation). */
static void FN(rope_rotate)(REAL *x, const REAL *cos_t, const REAL *sin_t, int N, int T, int nh,
                            int hd, REAL sign)
{
    int half = hd / 2;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const REAL *c = cos_t + (size_t)(n % T) * half, *s = sin_t + (size_t)(n % T) * half;
        for (int h = 0; h < nh; h++) {
            REAL *v = x + (size_t)n * nh * hd + (size_t)h * hd;
            for (int i = 0; i < half; i++) {
                REAL a = v[i], b = v[i + half], si = sign * s[i];
                v[i] = a * c[i] - b * si;
                v[i + half] = b * c[i] + a * si;
            }
        }
    }
}

void FN(lg_rope_forward)(REAL *x, const REAL *cos_t, const REAL *sin_t, int N, int T, int nh,
                         int hd)
{
    FN(rope_rotate)(x, cos_t, sin_t, N, T, nh, hd, 1);
}

void FN(lg_rope_backward)(REAL *dx, const REAL *cos_t, const REAL *sin_t, int N, int T, int nh,
                          int hd)
{
    FN(rope_rotate)(dx, cos_t, sin_t, N, T, nh, hd, -1);
}

/* Attention per (batch, head) as matrix products over blocks of query rows: block [t0, t1)
 * only meets keys [0, t1), so S = Q·Kᵀ·scale and O = P·V skip most of the masked upper
 * triangle (at T = 256, 5/8 of the full T×T work) while staying GEMMs, which are several times
 * faster than triangular loops; the causal softmax runs in place. Inside the parallel loop
 * OpenBLAS (its OpenMP build) runs each product on the calling thread. */
#ifndef LG_ATTN_QBLOCK
#define LG_ATTN_QBLOCK 64
#endif

void FN(lg_attention_forward)(REAL *out, REAL *att, const REAL *q, const REAL *k, const REAL *v,
                              int B, int T, int nh, int nkv, int hd, int window)
{
    const int qd = nh * hd, kd = nkv * hd, group = nh / nkv;
    const REAL scale = (REAL)(1.0 / sqrt((double)hd));
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < nh; h++) {
            const int g = h / group;
            const REAL *qh = q + (size_t)b * T * qd + (size_t)h * hd;
            const REAL *kg = k + (size_t)b * T * kd + (size_t)g * hd;
            const REAL *vg = v + (size_t)b * T * kd + (size_t)g * hd;
            REAL *P = att + ((size_t)b * nh + h) * T * T;
            REAL *oh = out + (size_t)b * T * qd + (size_t)h * hd;
            for (int t0 = 0; t0 < T; t0 += LG_ATTN_QBLOCK) {
                const int t1 = t0 + LG_ATTN_QBLOCK < T ? t0 + LG_ATTN_QBLOCK : T, rows = t1 - t0;
                REAL *Pb = P + (size_t)t0 * T;
                GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, rows, t1, hd, scale,
                     qh + (size_t)t0 * qd, qd, kg, kd, 0, Pb, T);
                for (int t = t0; t < t1; t++) {
                    /* keys lo..t: all before t, or the last `window` with a sliding window */
                    const int lo = window > 0 && t - window + 1 > 0 ? t - window + 1 : 0;
                    REAL *p = P + (size_t)t * T, mx = p[lo];
#pragma omp simd reduction(max : mx)
                    for (int s = lo + 1; s <= t; s++)
                        mx = p[s] > mx ? p[s] : mx;
                    double sum = 0;
#pragma omp simd reduction(+ : sum)
                    for (int s = lo; s <= t; s++) {
                        p[s] = EXP(p[s] - mx);
                        sum += p[s];
                    }
                    REAL inv = (REAL)(1.0 / sum);
#pragma omp simd
                    for (int s = lo; s <= t; s++)
                        p[s] *= inv;
                    for (int s = 0; s < lo; s++)
                        p[s] = 0;
                    for (int s = t + 1; s < T; s++)
                        p[s] = 0;
                }
                GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, t1, 1, Pb, T, vg, kd, 0,
                     oh + (size_t)t0 * qd, qd);
            }
        }
    }
}

void FN(lg_attention_backward)(REAL *dq, REAL *dk, REAL *dv, REAL *datt, const REAL *dout,
                               const REAL *att, const REAL *q, const REAL *k, const REAL *v,
                               int B, int T, int nh, int nkv, int hd)
{
    const int qd = nh * hd, kd = nkv * hd, group = nh / nkv;
    const REAL scale = (REAL)(1.0 / sqrt((double)hd));
    /* one task per (batch, kv head): it alone writes that head's dk/dv rows and its
     * query heads' dq rows, so no two threads touch the same gradient */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < nkv; g++) {
            const REAL *kg = k + (size_t)b * T * kd + (size_t)g * hd;
            const REAL *vg = v + (size_t)b * T * kd + (size_t)g * hd;
            REAL *dkg = dk + (size_t)b * T * kd + (size_t)g * hd;
            REAL *dvg = dv + (size_t)b * T * kd + (size_t)g * hd;
            for (int h = g * group; h < (g + 1) * group; h++) {
                const size_t ho = (size_t)b * T * qd + (size_t)h * hd;
                const REAL *P = att + ((size_t)b * nh + h) * T * T;
                REAL *dS = datt + ((size_t)b * nh + h) * T * T;
                for (int t0 = 0; t0 < T; t0 += LG_ATTN_QBLOCK) {
                    const int t1 = t0 + LG_ATTN_QBLOCK < T ? t0 + LG_ATTN_QBLOCK : T;
                    const int rows = t1 - t0;
                    const REAL *Pb = P + (size_t)t0 * T, *dOb = dout + ho + (size_t)t0 * qd;
                    REAL *dSb = dS + (size_t)t0 * T;
                    /* dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale */
                    GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, rows, t1, hd, 1, dOb, qd, vg, kd,
                         0, dSb, T);
                    for (int t = t0; t < t1; t++) {
                        const REAL *p = P + (size_t)t * T;
                        REAL *d = dS + (size_t)t * T;
                        double pdp = 0;
#pragma omp simd reduction(+ : pdp)
                        for (int s = 0; s <= t; s++)
                            pdp += (double)p[s] * d[s];
#pragma omp simd
                        for (int s = 0; s <= t; s++)
                            d[s] = p[s] * (d[s] - (REAL)pdp) * scale;
                        for (int s = t + 1; s < t1; s++)
                            d[s] = 0;
                    }
                    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hd, t1, 1, dSb, T, kg, kd,
                         1, dq + ho + (size_t)t0 * qd, qd);
                    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hd, rows, 1, dSb, T,
                         q + ho + (size_t)t0 * qd, qd, 1, dkg, kd);
                    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, t1, hd, rows, 1, Pb, T, dOb, qd, 1,
                         dvg, kd);
                }
            }
        }
    }
}

void FN(lg_swiglu_forward)(REAL *h, const REAL *gate, const REAL *up, long n)
{
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        REAL g = gate[i];
        h[i] = g / (1 + EXP(-g)) * up[i];
    }
}

void FN(lg_swiglu_backward)(REAL *dgate, REAL *dup, const REAL *dh, const REAL *gate,
                            const REAL *up, long n)
{
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        REAL g = gate[i];
        REAL sig = 1 / (1 + EXP(-g));
        REAL silu = g * sig;
        if (dgate)
            dgate[i] = dh[i] * up[i] * sig * (1 + g * (1 - sig));
        if (dup)
            dup[i] = dh[i] * silu;
    }
}

void FN(lg_sequence_add_forward)(REAL *x, const REAL *table, const int32_t *idx, int B, int T,
                                 int C)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            if (idx[b] < 0)
                continue;
            const REAL *v = table + (size_t)idx[b] * C;
            REAL *row = x + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                row[c] += v[c];
        }
}

void FN(lg_sequence_add_backward)(REAL *dtable, const REAL *dx, const int32_t *idx, int B, int T,
                                  int C)
{
    /* sequences may share an index: serial over sequences, parallel over channels */
    for (int b = 0; b < B; b++) {
        if (idx[b] < 0)
            continue;
        REAL *d = dtable + (size_t)idx[b] * C;
#pragma omp parallel for schedule(static) if (C >= 512)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int t = 0; t < T; t++)
                s += dx[((size_t)b * T + t) * C + c];
            d[c] += (REAL)s;
        }
    }
}

void FN(lg_residual_forward)(REAL *out, const REAL *a, const REAL *b, long n)
{
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

/* log Σ exp(row), in double, in one pass over memory: chunks small enough to stay in L1 are
 * read twice (max, then the sum), and the running sum is rescaled when the max grows. */
static double FN(logsumexp)(const REAL *row, int V)
{
    enum { CHUNK = 1024 };
    REAL mx = row[0];
    double s = 0;
    for (int j0 = 0; j0 < V; j0 += CHUNK) {
        const int j1 = V - j0 < CHUNK ? V : j0 + CHUNK;
        REAL cm = row[j0];
#pragma omp simd reduction(max : cm)
        for (int j = j0 + 1; j < j1; j++)
            cm = row[j] > cm ? row[j] : cm;
        if (cm > mx) {
            s *= exp((double)mx - (double)cm);
            mx = cm;
        }
        double cs = 0;
#pragma omp simd reduction(+ : cs)
        for (int j = j0; j < j1; j++)
            cs += EXP(row[j] - mx);
        s += cs;
    }
    return (double)mx + log(s);
}

double FN(lg_cross_entropy_forward)(REAL *losses, REAL *lse, const REAL *logits,
                                    const int32_t *tgt, int N, int V, int *counted)
{
    double total = 0;
    int count = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, count)
    for (int n = 0; n < N; n++) {
        if (tgt[n] == LG_IGNORE_INDEX) {
            if (losses)
                losses[n] = 0;
            continue;
        }
        const REAL *row = logits + (size_t)n * V;
        double row_lse = FN(logsumexp)(row, V);
        if (lse)
            lse[n] = (REAL)row_lse;
        double l = row_lse - (double)row[tgt[n]];
        if (losses)
            losses[n] = (REAL)l;
        total += l;
        count++;
    }
    if (counted)
        *counted = count;
    return count ? total / count : 0.0;
}

void FN(lg_cross_entropy_backward)(REAL *dlogits, const REAL *logits, const REAL *lse,
                                   const int32_t *tgt, int N, int V, double scale)
{
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        REAL *d = dlogits + (size_t)n * V;
        if (tgt[n] == LG_IGNORE_INDEX) {
            memset(d, 0, sizeof(REAL) * (size_t)V);
            continue;
        }
        const REAL *row = logits + (size_t)n * V;
        /* the forward's log-sum-exp saves a second pass over the row */
        const REAL row_lse = lse ? lse[n] : (REAL)FN(logsumexp)(row, V);
        const REAL s = (REAL)scale;
        for (int j = 0; j < V; j++)
            d[j] = s * EXP(row[j] - row_lse);
        d[tgt[n]] -= s;
    }
}

#undef FN
#undef CAT
#undef CAT_
