/* lg_ops — the transformer layers, each a _forward/_backward pair over flat row-major buffers.
 *
 * Every kernel exists in float32 (suffix _f32, used by the model) and float64 (suffix _f64,
 * used by the finite-difference gradient tests); both are compiled from one source,
 * lm/ops_impl.h. Backward functions ACCUMULATE (+=) into the gradients they are given,
 * so callers zero gradients once per step, except where said (SwiGLU, cross-entropy): those
 * WRITE gradients of activations that have a single consumer, which saves zeroing them and
 * reading them back. A NULL gradient pointer means "not needed" (frozen weights, inputs
 * that need no gradient). Shapes: N = B*T rows, C channels. */
#ifndef LG_OPS_H
#define LG_OPS_H

#include <stdint.h>

#define LG_IGNORE_INDEX (-100)

#define LG_OPS_DECLARE(REAL, SFX)                                                               \
    /* out[N,C] = table[ids[n]] */                                                              \
    void lg_embedding_forward_##SFX(REAL *out, const int32_t *ids, const REAL *table, int N,     \
                                    int C);                                                     \
    void lg_embedding_backward_##SFX(REAL *dtable, const REAL *dout, const int32_t *ids, int N, \
                                     int C);                                                    \
    /* HF LlamaRMSNorm: out = w * x / sqrt(mean(x^2) + eps); keeps rstd[N] for backward */      \
    void lg_rmsnorm_forward_##SFX(REAL *out, REAL *rstd, const REAL *x, const REAL *w, int N,   \
                                  int C, float eps);                                            \
    void lg_rmsnorm_backward_##SFX(REAL *dx, REAL *dw, const REAL *dout, const REAL *x,         \
                                   const REAL *w, const REAL *rstd, int N, int C);              \
    /* out[N,OC] = in[N,IC] · W[OC,IC]^T + bias[OC] (bias may be NULL) */                        \
    void lg_matmul_forward_##SFX(REAL *out, const REAL *in, const REAL *W, const REAL *bias,     \
                                 int N, int IC, int OC);                                        \
    /* out[N,OC] += in · W^T + bias: a residual connection inside the product (BLAS's beta = 1 \
     * skips the pass that zeroes out and the pass that adds the residual) */                   \
    void lg_matmul_forward_add_##SFX(REAL *out, const REAL *in, const REAL *W, const REAL *bias, \
                                     int N, int IC, int OC);                                    \
    /* dIn += dOut·W, dW += dOut^T·in, dbias += Σ dOut (each may be NULL) */                     \
    void lg_matmul_backward_##SFX(REAL *din, REAL *dW, REAL *dbias, const REAL *dout,           \
                                  const REAL *in, const REAL *W, int N, int IC, int OC);        \
    /* RoPE as HF applies it (rotate_half: pairs j and j+hd/2), in place on x[N, nh*hd];        \
     * position of row n is n % T; cos/sin tables are [T, hd/2] */                              \
    void lg_rope_forward_##SFX(REAL *x, const REAL *cos_t, const REAL *sin_t, int N, int T,     \
                               int nh, int hd);                                                 \
    void lg_rope_backward_##SFX(REAL *dx, const REAL *cos_t, const REAL *sin_t, int N, int T,   \
                                int nh, int hd);                                                \
    /* causal softmax attention with grouped KV heads. q[B,T,nh*hd], k,v[B,T,nkv*hd];         \
     * att[B,nh,T,T] keeps the probabilities; out[B,T,nh*hd]. window > 0: each query sees     \
     * only the last `window` positions, itself included (Mistral's sliding window) */         \
    void lg_attention_forward_##SFX(REAL *out, REAL *att, const REAL *q, const REAL *k,         \
                                    const REAL *v, int B, int T, int nh, int nkv, int hd,       \
                                    int window);                                                \
    /* datt is scratch of att's size; dq, dk, dv accumulate (a window needs nothing here:     \
     * the probabilities outside it are zero, and so are their gradients) */                   \
    void lg_attention_backward_##SFX(REAL *dq, REAL *dk, REAL *dv, REAL *datt, const REAL *dout, \
                                     const REAL *att, const REAL *q, const REAL *k,             \
                                     const REAL *v, int B, int T, int nh, int nkv, int hd);     \
    /* h = silu(gate) * up, all [N, F] */                                                       \
    void lg_swiglu_forward_##SFX(REAL *h, const REAL *gate, const REAL *up, long n);            \
    /* writes (not accumulates) dgate and dup */                                               \
    void lg_swiglu_backward_##SFX(REAL *dgate, REAL *dup, const REAL *dh, const REAL *gate,     \
                                  const REAL *up, long n);                                      \
    /* x[b,t,:] += table[idx[b]] for every sequence b with idx[b] >= 0 (LangSAMP vectors) */  \
    void lg_sequence_add_forward_##SFX(REAL *x, const REAL *table, const int32_t *idx, int B,   \
                                       int T, int C);                                           \
    void lg_sequence_add_backward_##SFX(REAL *dtable, const REAL *dx, const int32_t *idx, int B, \
                                        int T, int C);                                          \
    /* out = a + b (out may alias a) */                                                         \
    void lg_residual_forward_##SFX(REAL *out, const REAL *a, const REAL *b, long n);            \
    /* Mean cross-entropy over rows whose target is not LG_IGNORE_INDEX. losses[N] gets the    \
     * per-row loss (0 when ignored), lse[N] each counted row's log-sum-exp (both may be NULL); \
     * returns the mean and the count of counted rows. */                                      \
    double lg_cross_entropy_forward_##SFX(REAL *losses, REAL *lse, const REAL *logits,          \
                                          const int32_t *tgt, int N, int V, int *counted);      \
    /* dlogits = scale * (softmax(logits) - onehot(target)) for counted rows, 0 elsewhere;     \
     * may run in place (dlogits == logits). lse: the forward's, or NULL to recompute. */      \
    void lg_cross_entropy_backward_##SFX(REAL *dlogits, const REAL *logits, const REAL *lse,    \
                                         const int32_t *tgt, int N, int V, double scale);

LG_OPS_DECLARE(float, f32)
LG_OPS_DECLARE(double, f64)

/* RoPE tables as HF computes them: inv_freq[i] = theta^(-2i/hd), angle = pos * inv_freq. */
void lg_rope_tables_f32(float *cos_t, float *sin_t, int T, int hd, double theta);
void lg_rope_tables_f64(double *cos_t, double *sin_t, int T, int hd, double theta);
/* The same from given inverse frequencies [hd/2] (scaled RoPE; NULL: theta's) */
void lg_rope_tables_freq_f32(float *cos_t, float *sin_t, int T, int hd, double theta,
                             const float *inv_freqs);
void lg_rope_tables_freq_f64(double *cos_t, double *sin_t, int T, int hd, double theta,
                             const float *inv_freqs);

#endif
