/* lg_lora — LoRA adapters on the linear layers of lg_model, as PEFT defines them.
 *
 *   y = W x + b + scale · B (A x),  scale = alpha / r  (or alpha / √r with rslora)
 * on any of q,k,v,o,gate,up,down (GPT-2: its Conv1D modules c_attn — q, k and v together —,
 * attn.c_proj, c_fc, mlp.c_proj, PEFT's fan_in_fan_out); A [r, in] starts Kaiming-uniform (a = √5, i.e.
 * U(−1/√in, 1/√in)), B [out, r] starts at zero, so a fresh adapter leaves the model's
 * output unchanged. Parameters and gradients are flat buffers like the model's, listed
 * by name in `entries` ("model.layers.N.self_attn.q_proj.lora_A.weight"; PEFT files add
 * the prefix "base_model.model."). Attaching an adapter makes lg_model_forward/backward
 * include it; the base weights then need no gradient (see lg_model_alloc_grads_for).
 * Adapters are read and written in PEFT's layout: adapter_config.json +
 * adapter_model.safetensors, with modules_to_save (embed_tokens, lm_head) as full copies. */
#ifndef LG_LORA_H
#define LG_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"
#include "lg_model.h"

typedef enum {
    LG_LORA_Q, LG_LORA_K, LG_LORA_V, LG_LORA_O, LG_LORA_GATE, LG_LORA_UP, LG_LORA_DOWN,
    LG_LORA_NTARGETS
} lg_lora_target;

/* PEFT module names: "q_proj", ..., "down_proj". */
const char *lg_lora_target_name(lg_lora_target t);
/* Parses "q,k,v,o,gate,up,down" or PEFT names ("q_proj,v_proj"; GPT-2's c_attn,
 * attn.c_proj, c_fc, mlp.c_proj, c_proj) or "all" into a bit mask. An adapter resolves it
 * for its model: on GPT-2 q, k and v mean c_attn, "all" the targets the model has. */
int lg_lora_parse_targets(const char *list, unsigned *mask, lg_error *err);

typedef struct {
    int rank;
    float alpha;
    int use_rslora;
    unsigned target_mask;      /* bit t set: target t has an adapter */
    int save_embed_tokens;     /* modules_to_save: embed_tokens */
    int save_lm_head;          /* modules_to_save: lm_head */
} lg_lora_config;

typedef struct {
    float *A, *B;              /* NULL when the target is not adapted */
} lg_lora_pair;

typedef struct lg_lora {
    lg_lora_config cfg;
    float scale;
    int n_layers;
    size_t n_params;
    float *param_mem, *grad_mem;
    lg_lora_pair *p, *g;       /* [n_layers × LG_LORA_NTARGETS] */
    lg_param_entry *entries;
    int n_entries;
    /* activations: xa = A x per layer and target [N, r]; scratch dxa [N, r] */
    int cap_N;
    float *act_mem;
    float **xa;                /* [n_layers × LG_LORA_NTARGETS] */
    float *dxa;
} lg_lora;

/* Creates an adapter for m with PEFT's initialisation (seeded) and attaches it (m->lora). */
lg_lora *lg_lora_attach(lg_model *m, const lg_lora_config *cfg, uint64_t seed, lg_error *err);
/* Reads DIR/adapter_config.json and DIR/adapter_model.safetensors, attaches the adapter and
 * copies modules_to_save tensors into the model's embed_tokens / lm_head. */
lg_lora *lg_lora_load_peft(lg_model *m, const char *dir, lg_error *err);
/* Writes a PEFT adapter directory (atomically): LoRA weights + modules_to_save copies. */
int lg_lora_save_peft(const lg_model *m, const char *dir, const char *base_model_name,
                      lg_error *err);
/* W += scale · B A for every adapted matrix, then detaches and frees the adapter (0; no
 * adapter: nothing to do). An adapted weight kept as stored (LG_LOAD_STORED: read where its
 * file is mapped) is refused, naming it, before anything changes (-1, the adapter still
 * attached): lg_model_save_dir_ex's LG_SAVE_MERGE_LORA writes such a model merged instead. */
int lg_lora_merge(lg_model *m, lg_error *err);
/* W += scale · B A of layer's target t (W float32 as the base stores it: nn.Linear's
 * [out, in], or Conv1D's [in, out] (GPT-2), which gets (B A)^T). */
void lg_lora_add_delta(const lg_lora *l, const lg_config *c, int layer, lg_lora_target t,
                       float *W);
void lg_lora_free(lg_lora *l);

int lg_lora_alloc_grads(lg_lora *l, lg_error *err);
void lg_lora_zero_grads(lg_lora *l);
const lg_param_entry *lg_lora_find(const lg_lora *l, const char *name);

/* Used by the model: out[N,OC] += scale · (in A^T) B^T, keeping A x for backward. B's rows
 * row0.. (a part of a fused module: GPT-2's c_attn is q, k and v, each OC of its rows). */
int lg_lora_reserve(lg_lora *l, int N, lg_error *err);
void lg_lora_forward(lg_lora *l, int layer, lg_lora_target t, float *out, const float *in, int N,
                     int IC, int OC, int row0);
/* dB += scale·dout^T xa, dA += (scale·dout B)^T in, din += (scale·dout B) A (B's rows row0..) */
void lg_lora_backward(lg_lora *l, int layer, lg_lora_target t, float *din, const float *dout,
                      const float *in, int N, int IC, int OC, int row0);

#endif
