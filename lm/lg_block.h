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
