/* lg_config — a Hugging Face config.json for the Llama family (llama, mistral, qwen2).
 *
 * Loading reads the fields the core needs and refuses what it cannot compute
 * faithfully: an unsupported model_type, rope_scaling / rope_parameters.rope_type
 * other than "default", a hidden_act other than silu, mlp_bias true, head_dim that does not
 * divide, a missing required field. Writing emits a config HF transformers loads. */
#ifndef LG_MODEL_H
#define LG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

typedef enum {
    LG_ARCH_LLAMA, LG_ARCH_MISTRAL, LG_ARCH_QWEN2, LG_ARCH_QWEN3, LG_ARCH_GPT2
} lg_arch;

/* RoPE as rope_scaling / rope_parameters.rope_type says: default, linear (every inverse
 * frequency divided by factor) or llama3 (low frequencies divided by factor, high ones
 * kept, a smooth blend between; Llama 3.1-3.3). */
typedef enum { LG_ROPE_DEFAULT, LG_ROPE_LINEAR, LG_ROPE_LLAMA3 } lg_rope_type;

typedef struct {
    lg_arch arch;
    char model_type[32];          /* as in the file: "llama", "mistral", "qwen2", "qwen3" */
    int vocab_size;
    int hidden_size;
    int n_layers;                 /* num_hidden_layers */
    int n_heads;                  /* num_attention_heads */
    int n_kv_heads;               /* num_key_value_heads (defaults to n_heads) */
    int head_dim;                 /* head_dim (defaults to hidden_size / n_heads) */
    int intermediate_size;
    int max_position_embeddings;
    int sliding_window;           /* 0 when absent or null */
    float rms_norm_eps;
    double rope_theta;            /* rope_theta or rope_parameters.rope_theta (default 10000) */
    lg_rope_type rope_type;
    double rope_factor;           /* linear, llama3: factor */
    double rope_low_freq_factor, rope_high_freq_factor; /* llama3 */
    int rope_original_max_positions; /* llama3: original_max_position_embeddings */
    int tie_word_embeddings;      /* default: 0 for llama/mistral, as HF's classes */
    int qkv_bias;                 /* q/k/v projections have biases (qwen2 always; llama/mistral
                                     when attention_bias is true) */
    int o_bias;                   /* o_proj has a bias (llama/mistral attention_bias) */
    int bos_token_id, eos_token_id, pad_token_id; /* -1 when absent */
    char torch_dtype[16];         /* "float32", "bfloat16", ... ("" when absent) */
} lg_config;

/* A config.json larger than this is refused (not truncated). */
#define LG_CONFIG_MAX_BYTES ((size_t)16 << 20)
int lg_config_load(const char *path, lg_config *cfg, lg_error *err);
/* Parses config.json text of `len` bytes; `name` stands for the file in messages. */
int lg_config_parse(const char *json, size_t len, const char *name, lg_config *cfg,
                    lg_error *err);
/* Loads DIR/config.json. */
int lg_config_load_dir(const char *dir, lg_config *cfg, lg_error *err);
int lg_config_write(const char *path, const lg_config *cfg, lg_error *err);
/* Number of parameters the architecture has. */
long long lg_config_param_count(const lg_config *cfg);

/* The base fingerprint of a model directory: the sha256 of config.json, every weight file's
 * safetensors header and the first and last MiB of its data: cheap on a 7B model, and
 * different for another checkpoint or shape. Packs and embedding tables record it
 * (lm/fingerprint.c; lg_pack.h checks it on every load). */
int lg_base_fingerprint(const char *base_dir, char hex[65], lg_error *err);

/* ---- lg_model — the Llama-family decoder (llama, mistral, qwen2) in float32.
 *
 * Parameters live in one flat buffer, gradients in another of the same layout; every
 * tensor is also listed by its Hugging Face name in `entries` (loading, saving, checking,
 * the optimizer). Activations for a batch of B sequences of T tokens are allocated once by
 * lg_model_reserve() and reused: forward and backward allocate nothing.
 *   forward: embeddings → L × [RMSNorm → attention (RoPE, GQA, causal) → residual →
 *            RMSNorm → SwiGLU MLP → residual] → RMSNorm → LM head → logits.
 *   loss: mean cross-entropy over targets (HF shift: position t predicts token t+1).
 * Threads: OpenMP for element-wise work and attention, OpenBLAS for matrix products;
 * lg_set_threads() sets both. */

typedef struct {
    float *attn_norm, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
    float *q_norm, *k_norm;   /* qwen3: per-head RMSNorm of q and k (NULL otherwise) */
    float *mlp_norm, *wgate, *wup, *wdown;
    float *attn_norm_b, *mlp_norm_b, *bup, *bdown; /* gpt2: LayerNorm and MLP biases */
} lg_layer_tensors;

/* Pointers into the flat buffer (params or grads); bias pointers NULL when absent,
 * lm_head == embed when the embeddings are tied. */
typedef struct {
    float *embed, *norm, *lm_head;
    float *pos_embed, *norm_b;  /* gpt2: learned positions, final LayerNorm's bias */
    lg_layer_tensors *layers;
} lg_tensors;

typedef struct {
    char name[96];      /* HF name, e.g. "model.layers.0.self_attn.q_proj.weight" */
    float *param;
    float *grad;        /* NULL until lg_model_alloc_grads() */
    int ndim;
    int64_t shape[2];
    size_t numel;
    size_t offset;      /* in floats from the start of the flat buffer */
    int is_matrix;      /* 2-D weight (decayed by AdamW); norms and biases are not */
} lg_param_entry;

/* Activations kept for backward, one set per layer. */
typedef struct {
    float *ln1, *rstd1, *q, *k, *v, *att, *atty, *mid, *ln2, *rstd2, *gate, *up, *h;
    float *qraw, *kraw, *rstdq, *rstdk; /* q/k-norm (qwen3): q and k before it; else NULL */
} lg_layer_acts;

typedef struct {
    float *res;         /* [(L+1), N, C]: residual stream before each block and after the last
                           (inference: [2, N, C], alternating) */
    lg_layer_acts *layers;
    float *lnf, *rstdf, *logits, *lse; /* lse: each row's log-sum-exp, kept for backward */
    int32_t *targets;
    /* backward scratch, reused by every layer */
    float *dres, *dln, *dq, *dk, *dv, *datty, *datt, *dgate, *dup, *dh;
    float *dqraw, *dkraw;  /* q/k-norm only */
} lg_acts;

typedef struct {
    lg_config cfg;
    size_t n_params;
    float *param_mem;
    float *grad_mem;
    size_t n_grads;     /* floats in grad_mem: only trainable tensors have storage */
    lg_tensors p, g;
    lg_param_entry *entries;
    int n_entries;
    /* activations for up to B × T tokens */
    int cap_B, cap_T;
    int B, T;           /* shape of the last forward */
    float *act_mem;
    lg_acts a;
    float *rope_cos, *rope_sin; /* [T, head_dim/2] */
    struct lg_lora *lora;     /* attached LoRA adapter or NULL (lg_lora.h) */
    struct lg_langsamp *langsamp; /* language/script vectors or NULL (lg_langsamp.h) */
    int32_t *tags;            /* [2 × tag_cap]: language then script index per sequence */
    int tag_cap, tagged;      /* tagged: lg_model_set_tags gave tags for the next forward */
    int inference;            /* lg_model_set_inference: no backward, one layer's activations */
    size_t loss_chunk;        /* lg_model_set_loss_only: logits floats held at once, or 0 */
    float last_loss;
    int counted;        /* targets counted by the last forward */
    /* Weights kept as stored (lg_model_load_dir_ex): the open weights set they lie in, and
     * [n_layers × LG_NROLES] block matrices then embed_tokens and lm_head, each a view of its
     * tensor (lm/lg_wmat.h); a view with data NULL is the float32 parameter. */
    struct lg_weights *held;
    struct lg_wmat *stored;
    int recompute;      /* lg_model_set_recompute */
} lg_model;

/* A model with the config's shapes and all parameters zero. */
lg_model *lg_model_create(const lg_config *cfg, lg_error *err);
/* Loads DIR/config.json and the weights (single file or sharded; F32/F16/BF16), checked
 * against each other (lg_model_check_weights) before the model is allocated. */
lg_model *lg_model_load_dir(const char *dir, lg_error *err);
/* lg_model_load_dir_ex's flags: LG_LOAD_STORED keeps the blocks' weight matrices in their
 * stored dtype (F32 or BF16), read where the file is mapped, instead of converting them to
 * float32 parameters (their param is then NULL: they are frozen; F16/F64 tensors are still
 * converted); LG_LOAD_STORED_VOCAB keeps embed_tokens and lm_head so too. */
#define LG_LOAD_STORED 1u
#define LG_LOAD_STORED_VOCAB 2u
/* LG_LOAD_RELEASE: each tensor's pages of the file mapping are given back once it is read
 * (converted, or checked when kept as stored; lg_weights_release), for a load that streams
 * the model out once (adapt pack's check, adapt export): the views stay valid and read the
 * file again when used. */
#define LG_LOAD_RELEASE 4u
lg_model *lg_model_load_dir_ex(const char *dir, unsigned flags, lg_error *err);
/* A model of config cfg from an open weights set w (checked by lg_model_check_weights), which
 * it takes over: closed at once, or kept open while weights are kept as stored (flags as
 * above); embed_tokens and lm_head left at zero when skip_vocab. NULL on failure (w closed). */
lg_model *lg_model_from_weights(const lg_config *cfg, struct lg_weights *w, unsigned flags,
                                int skip_vocab, const char *where, lg_error *err);
/* The dtype a block's weight is computed in: "BF16", "F32" (as stored) or "f32" (converted). */
const char *lg_model_weight_dtype(const lg_model *m);
/* Fills the parameters from an open weights set, checking every name and shape. */
struct lg_weights;
int lg_model_load_weights(lg_model *m, const struct lg_weights *w, const char *where,
                          lg_error *err);
/* Checks a weights set against a config before anything is allocated: the layer count of
 * the tensor names first (a config.json saying 10^9 layers is refused at once), then every
 * tensor the config implies by name and shape, and no tensor it does not (embed_tokens and
 * lm_head skipped when skip_vocab). "where" names the model in messages. */
int lg_model_check_weights(const lg_config *cfg, const struct lg_weights *w, const char *where,
                           int skip_vocab, lg_error *err);
/* The same, skipping embed_tokens and lm_head when skip_vocab (a pack brings its own). */
int lg_model_load_weights_ex(lg_model *m, const struct lg_weights *w, const char *where,
                             int skip_vocab, lg_error *err);
void lg_model_free(lg_model *m);

const lg_param_entry *lg_model_find(const lg_model *m, const char *name);
/* Gradients for every parameter (full training). */
int lg_model_alloc_grads(lg_model *m, lg_error *err);
/* Gradients only for the entries whose trainable[i] is non-zero (e.g. embed_tokens and
 * lm_head beside a LoRA adapter); the others stay frozen: their grad is NULL and backward
 * computes no weight gradient for them. Replaces an earlier allocation. */
int lg_model_alloc_grads_for(lg_model *m, const int *trainable, lg_error *err);
void lg_model_zero_grads(lg_model *m);
int lg_model_reserve(lg_model *m, int B, int T, lg_error *err);

/* Training with recomputation: one layer's activations are kept instead of every layer's;
 * backward runs each block's forward again from its input (kept) just before its backward:
 * about a third more compute, and activation memory that does not grow with depth (the
 * same gradients). The LM head and the loss run over chunks of rows as in loss-only mode
 * (forward needs targets), each chunk's logits made again in backward. Changing it drops
 * the activations. */
void lg_model_set_recompute(lg_model *m, int on);

/* Inference only (evaluation, logits, generation): the layers share one set of activation
 * buffers and no backward scratch is kept, so memory does not grow with depth; backward is
 * then unavailable. Changing the mode drops the activations (the next forward reallocates). */
void lg_model_set_inference(lg_model *m, int on);

/* Inference for callers that need only the loss (evaluation, benchmarks): as above, and the LM
 * head and the cross-entropy run over chunks of rows whose logits fit chunk_floats floats
 * (0: LG_LOSS_CHUNK_FLOATS), so the [B·T, V] logits are never held at once. Forward then needs
 * targets, and m->a.logits holds only the last chunk's logits. */
#define LG_LOSS_CHUNK_FLOATS ((size_t)1 << 24) /* 64 MiB */
void lg_model_set_loss_only(lg_model *m, size_t chunk_floats);

/* Runs ids[B*T] forward. With targets (B*T, LG_IGNORE_INDEX to skip), computes the mean
 * loss into m->last_loss. Logits are in m->a.logits [B*T, V]. Fails (and m->last_loss is
 * NaN or infinite) when the loss, or without targets any logit, is not a finite number. */
int lg_model_forward(lg_model *m, const int32_t *ids, const int32_t *targets, int B, int T,
                     lg_error *err);
/* Accumulates d(loss_scale · mean loss)/d(param) into the gradients. Overwrites logits. */
void lg_model_backward(lg_model *m, const int32_t *ids, float loss_scale);

/* targets[b,t] = ids[b,t+1], the last position of each row ignored (the HF shift). */
void lg_shift_targets(int32_t *targets, const int32_t *ids, int B, int T);

/* 0 when the n floats of logits (rows of V) are all finite, else an error naming the first
 * NaN or infinity by position and token. Forward without targets checks its logits with
 * it, and forward with targets fails when the loss is not finite. */
int lg_logits_finite(const float *logits, size_t n, int V, lg_error *err);

/* hidden state l (0 = embeddings, l = output of block l, L = after the final norm). In
 * inference mode only l = L is kept (NULL otherwise). */
const float *lg_model_hidden(const lg_model *m, int l);

/* Writes DIR/config.json and DIR/model.safetensors (F32, F16 or BF16), atomically:
 * into DIR.tmp.PID, then renamed over DIR. Weights kept as stored are converted to
 * stored_dtype a piece at a time while the file is written, each tensor's mapped pages
 * released after it: no float32 copy of the model is made. */
int lg_model_save_dir(const lg_model *m, const char *dir, int stored_dtype /* lg_dtype */,
                      lg_error *err);
/* The same with flags: LG_SAVE_MERGE_LORA writes every matrix m->lora adapts as
 * W + scale·B·A, made in float32 one tensor at a time while the file is written from W as
 * stored or as its float32 parameter (the model and its adapter are left as they are), then
 * converted to stored_dtype: the merge lg_lora_merge does, without a float32 copy of the
 * model. nn.Linear weights only (not GPT-2's Conv1D). */
#define LG_SAVE_MERGE_LORA 1u
int lg_model_save_dir_ex(const lg_model *m, const char *dir, int stored_dtype,
                         unsigned flags, lg_error *err);

/* The trainable parameters for an optimizer: m->entries with grad != NULL, then the
 * adapter's entries (m->lora). Fills up to max pointers; returns the count. */
int lg_model_trainable(const lg_model *m, lg_param_entry **out, int max);

void lg_set_threads(int n);

#endif
