/* lg_arch — one description per architecture: the tensors of a block by role, with their
 * Hugging Face and GGUF names and shapes, which roles LoRA can target, and the block's
 * scheme (norm, activation, positions, RoPE). The layout walk (lm/model.c), the weight
 * checks, the GGUF export (adapt/gguf_export.c) and LoRA (lm/lora.c) all read these
 * tables; adding an architecture is a row in arch_table (lm/arch.c) plus what its block
 * computes differently. Modelled on llama.cpp's llama-arch tensor-name tables. */
#ifndef LG_ARCH_H
#define LG_ARCH_H

#include <stdint.h>

#include "lg_model.h"

/* The tensors of one block, in Hugging Face's order. */
typedef enum {
    LG_ROLE_ATTN_NORM,
    LG_ROLE_Q, LG_ROLE_Q_BIAS,
    LG_ROLE_K, LG_ROLE_K_BIAS,
    LG_ROLE_V, LG_ROLE_V_BIAS,
    LG_ROLE_O, LG_ROLE_O_BIAS,
    LG_ROLE_Q_NORM, LG_ROLE_K_NORM,   /* Qwen3: RMSNorm over each head of q and k */
    LG_ROLE_MLP_NORM,
    LG_ROLE_GATE, LG_ROLE_UP, LG_ROLE_DOWN,
    LG_NROLES
} lg_role;

/* When a role is present in a block. */
typedef enum {
    LG_WHEN_ALWAYS, LG_WHEN_QKV_BIAS, LG_WHEN_O_BIAS, LG_WHEN_QK_NORM
} lg_role_when;

/* A dimension of a role's shape, resolved against a config. */
typedef enum {
    LG_DIM_NONE, LG_DIM_HIDDEN, LG_DIM_Q, LG_DIM_KV, LG_DIM_FF, LG_DIM_HEAD
} lg_dim;

typedef struct {
    lg_role role;
    const char *hf;       /* after "model.layers.N." */
    const char *gguf;     /* after "blk.N." */
    lg_dim rows, cols;    /* cols LG_DIM_NONE: a vector of rows */
    lg_role_when when;
    int lora_target;      /* lg_lora_target, or -1 */
    int permute_heads;    /* GGUF export: 'q' or 'k' rows are permuted per head, 0 not */
    lg_role bias;         /* the bias role of a weight (LG_NROLES: none) */
} lg_role_desc;

typedef enum { LG_NORM_RMS } lg_norm_kind;
typedef enum { LG_ACT_SWIGLU } lg_act_kind;
typedef enum { LG_POS_ROPE } lg_pos_kind;

typedef struct {
    lg_arch arch;
    const char *model_type;        /* config.json model_type */
    const char *hf_class;          /* config.json architectures[0] */
    const char *gguf_arch;         /* GGUF general.architecture */
    int max_position_embeddings;   /* HF config class defaults */
    double rms_norm_eps;
    lg_norm_kind norm;
    lg_act_kind act;
    lg_pos_kind pos;
    int qk_norm;                   /* q_norm/k_norm per head before RoPE */
    int gguf_permute_qk;           /* the GGUF graph pairs adjacent elements (llama): q/k
                                      rows are permuted per head; 0: it rotates halves */
    const lg_role_desc *roles;     /* LG_NROLES rows, indexed by role */
} lg_arch_desc;

/* The description of an architecture; NULL for a value outside lg_arch. */
const lg_arch_desc *lg_arch_get(lg_arch arch);
/* By config.json model_type; NULL when unknown. */
const lg_arch_desc *lg_arch_find(const char *model_type);
/* "llama, mistral, qwen2, ..." */
const char *lg_arch_names(void);

/* Whether role r has a tensor in a block of this config. */
int lg_role_present(const lg_config *c, lg_role r);
/* The role's shape for this config: rows, and cols (0 for a vector). */
void lg_role_shape(const lg_config *c, lg_role r, int64_t *rows, int64_t *cols);
/* The role's field in a block's tensors. */
float **lg_layer_role(lg_layer_tensors *t, lg_role r);
/* The role LoRA target t (lg_lora_target) adapts. */
lg_role lg_lora_role(int target);

/* RoPE's inverse frequency i (of head_dim/2) for the config's rope_type, in float32 as
 * transformers computes them (_compute_default/linear/llama3_parameters). */
float lg_rope_inv_freq_at(const lg_config *c, int i);

#endif
