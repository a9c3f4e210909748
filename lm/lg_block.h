/* lg_block — the products of a block with its weights, one function per product, shared by
 * training (lm/model.c forward and backward), evaluation and KV-cache decoding (lm/infer.c).
 * Every product of an input with a model weight goes through these functions, so how a
 * weight is stored and multiplied is decided in one place (lm/model.c). */
#ifndef LG_BLOCK_H
#define LG_BLOCK_H

#include "lg_arch.h"
#include "lg_model.h"

/* out[n, OC] = in[n, IC] · W^T + bias (add: out += ...) for weight role r of block l, with
 * the attached LoRA adapter's term when it targets r. IC, OC: the role's shape. */
void lg_block_linear(const lg_model *m, int l, lg_role r, float *out, const float *in, int n,
                     int add);
/* din += dout · W; the weight's and bias's gradients (when allocated) += ...; LoRA too. */
void lg_block_linear_backward(lg_model *m, int l, lg_role r, float *din, const float *dout,
                              const float *in, int n);
/* The block's norms: which 0 = before attention, 1 = before the MLP (of block l),
 * 2 = the final one; RMSNorm or LayerNorm with bias as the architecture says. rstd[n]. */
void lg_block_norm(const lg_model *m, int l, int which, float *out, float *rstd, const float *x,
                   int n);
/* dx += ..., the norm's weight and bias gradients (when allocated) += ... */
void lg_block_norm_backward(lg_model *m, int l, int which, float *dx, const float *dout,
                            const float *x, const float *rstd, int n);
/* One block's forward over n rows, the same for training, evaluation and KV-cache
 * decoding; what differs is given here: the buffers (training keeps each layer's, decoding
 * reuses one set and works in place), the RoPE tables for the rows (row i at table row
 * i % rope_T), and attention (training: causal over the batch's sequences; decoding: store
 * k and v in the cache and attend over it). */
typedef struct {
    float *x;            /* [n, C] the block's input */
    float *mid;          /* [n, C] x + attention (may be x: in place) */
    float *out;          /* [n, C] mid + MLP (may be mid) */
    float *ln1, *rstd1, *ln2, *rstd2;
    float *q, *k, *v;    /* q, k after q/k-norm and RoPE */
    float *qraw, *kraw;  /* q/k-norm: q and k before it, or NULL to normalise in place */
    float *rstdq, *rstdk;
    float *atty;         /* [n, heads·head_dim] attention output */
    float *gate, *up, *h; /* MLP; h may be gate (decoding) */
    const float *rope_cos, *rope_sin;
    int rope_T;
    void (*attend)(void *ctx, int l, float *q, float *k, float *v, float *atty, int n);
    void *ctx;
} lg_block_io;
void lg_block_forward(const lg_model *m, int l, const lg_block_io *io, int n);

/* out[n, C] = the embeddings of ids (float32, whatever the table's stored dtype). */
void lg_model_embed(const lg_model *m, float *out, const int32_t *ids, int n);
/* logits[n, V] = in[n, C] · lm_head^T. */
void lg_head_linear(const lg_model *m, float *logits, const float *in, int n);
void lg_head_linear_backward(lg_model *m, float *din, const float *dlogits, const float *in,
                             int n);

/* cos/sin tables [T, head_dim/2] for the config (its scaling included), as
 * lg_rope_tables_f32 computes them. */
void lg_rope_tables_cfg(const lg_config *c, float *cos_t, float *sin_t, int T);

#endif
