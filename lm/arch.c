/* The architecture descriptions (lg_arch.h): one table of block tensors for the Llama
 * family, one row per architecture. */
#include "lg_arch.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "lg_block.h"
#include "lg_lora.h"

#define NOB LG_NROLES
/* a tensor of its own: role, HF name, GGUF name, rows, cols, when, LoRA target, GGUF
 * q/k permutation, bias role */
#define R(role, hf, gguf, rows, cols, when, lora, perm, bias) \
    [role] = {role, hf, gguf, rows, cols, when, lora, perm, bias, 0, NOB, 0}
/* GPT-2: stored [in, out] (Conv1D); fused: part `part` of role `into`'s tensor */
#define RC(role, hf, gguf, rows, cols, lora, bias) \
    [role] = {role, hf, gguf, rows, cols, LG_WHEN_ALWAYS, lora, 0, bias, 1, NOB, 0}
#define RF(role, into, part, lora, bias) \
    [role] = {role, NULL, NULL, LG_DIM_NONE, LG_DIM_NONE, LG_WHEN_ALWAYS, lora, 0, bias, 1, \
              into, part}
#define RV(role, hf, gguf, rows, bias_of_fused, into, part) \
    [role] = {role, hf, gguf, rows, LG_DIM_NONE, LG_WHEN_ALWAYS, -1, 0, NOB, 0, into, part}

/* The Llama-family block, in HF order. GGUF names are llama.cpp's (llama-arch.cpp). */
static const lg_role_desc llama_roles[LG_NROLES] = {
    R(LG_ROLE_ATTN_NORM, "input_layernorm.weight", "attn_norm.weight", LG_DIM_HIDDEN,
      LG_DIM_NONE, LG_WHEN_ALWAYS, -1, 0, NOB),
    R(LG_ROLE_Q, "self_attn.q_proj.weight", "attn_q.weight", LG_DIM_Q, LG_DIM_HIDDEN,
      LG_WHEN_ALWAYS, LG_LORA_Q, 'q', LG_ROLE_Q_BIAS),
    R(LG_ROLE_Q_BIAS, "self_attn.q_proj.bias", "attn_q.bias", LG_DIM_Q, LG_DIM_NONE,
      LG_WHEN_QKV_BIAS, -1, 'q', NOB),
    R(LG_ROLE_K, "self_attn.k_proj.weight", "attn_k.weight", LG_DIM_KV, LG_DIM_HIDDEN,
      LG_WHEN_ALWAYS, LG_LORA_K, 'k', LG_ROLE_K_BIAS),
    R(LG_ROLE_K_BIAS, "self_attn.k_proj.bias", "attn_k.bias", LG_DIM_KV, LG_DIM_NONE,
      LG_WHEN_QKV_BIAS, -1, 'k', NOB),
    R(LG_ROLE_V, "self_attn.v_proj.weight", "attn_v.weight", LG_DIM_KV, LG_DIM_HIDDEN,
      LG_WHEN_ALWAYS, LG_LORA_V, 0, LG_ROLE_V_BIAS),
    R(LG_ROLE_V_BIAS, "self_attn.v_proj.bias", "attn_v.bias", LG_DIM_KV, LG_DIM_NONE,
      LG_WHEN_QKV_BIAS, -1, 0, NOB),
    R(LG_ROLE_O, "self_attn.o_proj.weight", "attn_output.weight", LG_DIM_HIDDEN, LG_DIM_Q,
      LG_WHEN_ALWAYS, LG_LORA_O, 0, LG_ROLE_O_BIAS),
    R(LG_ROLE_O_BIAS, "self_attn.o_proj.bias", "attn_output.bias", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_O_BIAS, -1, 0, NOB),
    R(LG_ROLE_Q_NORM, "self_attn.q_norm.weight", "attn_q_norm.weight", LG_DIM_HEAD,
      LG_DIM_NONE, LG_WHEN_QK_NORM, -1, 0, NOB),
    R(LG_ROLE_K_NORM, "self_attn.k_norm.weight", "attn_k_norm.weight", LG_DIM_HEAD,
      LG_DIM_NONE, LG_WHEN_QK_NORM, -1, 0, NOB),
    R(LG_ROLE_MLP_NORM, "post_attention_layernorm.weight", "ffn_norm.weight", LG_DIM_HIDDEN,
      LG_DIM_NONE, LG_WHEN_ALWAYS, -1, 0, NOB),
    R(LG_ROLE_GATE, "mlp.gate_proj.weight", "ffn_gate.weight", LG_DIM_FF, LG_DIM_HIDDEN,
      LG_WHEN_ALWAYS, LG_LORA_GATE, 0, NOB),
    R(LG_ROLE_UP, "mlp.up_proj.weight", "ffn_up.weight", LG_DIM_FF, LG_DIM_HIDDEN,
      LG_WHEN_ALWAYS, LG_LORA_UP, 0, NOB),
    R(LG_ROLE_DOWN, "mlp.down_proj.weight", "ffn_down.weight", LG_DIM_HIDDEN, LG_DIM_FF,
      LG_WHEN_ALWAYS, LG_LORA_DOWN, 0, NOB),
};

/* GPT-2 (GPT2LMHeadModel): LayerNorms with biases, q/k/v fused in c_attn, Conv1D weights
 * stored [in, out]; GGUF names of llama.cpp's gpt2 (the export transposes to [out, in]).
 * LoRA adapts whole modules as PEFT does: c_attn (q, k and v together: its parts share
 * one adapter, lora_B [3·hidden, r], each part reading its rows), attn.c_proj, c_fc,
 * mlp.c_proj. */
static const lg_role_desc gpt2_roles[LG_NROLES] = {
    R(LG_ROLE_ATTN_NORM, "ln_1.weight", "attn_norm.weight", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    R(LG_ROLE_ATTN_NORM_BIAS, "ln_1.bias", "attn_norm.bias", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    RC(LG_ROLE_Q, "attn.c_attn.weight", "attn_qkv.weight", LG_DIM_HIDDEN, LG_DIM_QKV, LG_LORA_Q,
       LG_ROLE_Q_BIAS),
    R(LG_ROLE_Q_BIAS, "attn.c_attn.bias", "attn_qkv.bias", LG_DIM_QKV, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    RF(LG_ROLE_K, LG_ROLE_Q, 1, LG_LORA_Q, LG_ROLE_K_BIAS),
    RV(LG_ROLE_K_BIAS, NULL, NULL, LG_DIM_NONE, 0, LG_ROLE_Q_BIAS, 1),
    RF(LG_ROLE_V, LG_ROLE_Q, 2, LG_LORA_Q, LG_ROLE_V_BIAS),
    RV(LG_ROLE_V_BIAS, NULL, NULL, LG_DIM_NONE, 0, LG_ROLE_Q_BIAS, 2),
    RC(LG_ROLE_O, "attn.c_proj.weight", "attn_output.weight", LG_DIM_Q, LG_DIM_HIDDEN, LG_LORA_O,
       LG_ROLE_O_BIAS),
    R(LG_ROLE_O_BIAS, "attn.c_proj.bias", "attn_output.bias", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    R(LG_ROLE_MLP_NORM, "ln_2.weight", "ffn_norm.weight", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    R(LG_ROLE_MLP_NORM_BIAS, "ln_2.bias", "ffn_norm.bias", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
    RC(LG_ROLE_UP, "mlp.c_fc.weight", "ffn_up.weight", LG_DIM_HIDDEN, LG_DIM_FF, LG_LORA_UP,
       LG_ROLE_UP_BIAS),
    R(LG_ROLE_UP_BIAS, "mlp.c_fc.bias", "ffn_up.bias", LG_DIM_FF, LG_DIM_NONE, LG_WHEN_ALWAYS,
      -1, 0, NOB),
    RC(LG_ROLE_DOWN, "mlp.c_proj.weight", "ffn_down.weight", LG_DIM_FF, LG_DIM_HIDDEN, LG_LORA_DOWN,
       LG_ROLE_DOWN_BIAS),
    R(LG_ROLE_DOWN_BIAS, "mlp.c_proj.bias", "ffn_down.bias", LG_DIM_HIDDEN, LG_DIM_NONE,
      LG_WHEN_ALWAYS, -1, 0, NOB),
};

#define LLAMA_NAMES "model.layers.", "model.embed_tokens.weight", NULL, "model.norm.weight", \
                    NULL, "lm_head.weight"
static const lg_arch_desc arch_table[] = {
    {LG_ARCH_LLAMA, "llama", "LlamaForCausalLM", "llama", 2048, 1e-6, LG_NORM_RMS,
     LG_ACT_SWIGLU, LG_POS_ROPE, 0, 1, llama_roles, LLAMA_NAMES},
    {LG_ARCH_MISTRAL, "mistral", "MistralForCausalLM", "llama", 4096 * 32, 1e-6, LG_NORM_RMS,
     LG_ACT_SWIGLU, LG_POS_ROPE, 0, 1, llama_roles, LLAMA_NAMES},
    {LG_ARCH_QWEN2, "qwen2", "Qwen2ForCausalLM", "llama", 32768, 1e-6, LG_NORM_RMS,
     LG_ACT_SWIGLU, LG_POS_ROPE, 0, 1, llama_roles, LLAMA_NAMES},
    /* q_norm/k_norm; llama.cpp's qwen3 graph rotates halves as HF does (NEOX) */
    {LG_ARCH_QWEN3, "qwen3", "Qwen3ForCausalLM", "qwen3", 32768, 1e-6, LG_NORM_RMS,
     LG_ACT_SWIGLU, LG_POS_ROPE, 1, 0, llama_roles, LLAMA_NAMES},
    /* learned positions, LayerNorm, GELU (tanh), fused c_attn, Conv1D, tied head */
    {LG_ARCH_GPT2, "gpt2", "GPT2LMHeadModel", "gpt2", 1024, 1e-5, LG_NORM_LAYER,
     LG_ACT_GELU_TANH, LG_POS_LEARNED, 0, 0, gpt2_roles, "transformer.h.",
     "transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight",
     "transformer.ln_f.bias", "lm_head.weight"},
};
#define N_ARCHS ((int)(sizeof arch_table / sizeof arch_table[0]))

const lg_arch_desc *lg_arch_get(lg_arch arch)
{
    for (int i = 0; i < N_ARCHS; i++)
        if (arch_table[i].arch == arch)
            return &arch_table[i];
    return NULL;
}

const lg_arch_desc *lg_arch_find(const char *model_type)
{
    for (int i = 0; i < N_ARCHS; i++)
        if (!strcmp(arch_table[i].model_type, model_type))
            return &arch_table[i];
    return NULL;
}

const char *lg_arch_names(void)
{
    return "llama, mistral, qwen2, qwen3, gpt2";
}

int lg_role_present(const lg_config *c, lg_role r)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    if (!d || r < 0 || r >= LG_NROLES)
        return 0;
    switch (d->roles[r].when) {
    case LG_WHEN_NEVER: return 0;
    case LG_WHEN_ALWAYS: return 1;
    case LG_WHEN_QKV_BIAS: return c->qkv_bias != 0;
    case LG_WHEN_O_BIAS: return c->o_bias != 0;
    case LG_WHEN_QK_NORM: return d->qk_norm;
    }
    return 0;
}

static int64_t dim(const lg_config *c, lg_dim d)
{
    switch (d) {
    case LG_DIM_NONE: return 0;
    case LG_DIM_HIDDEN: return c->hidden_size;
    case LG_DIM_Q: return (int64_t)c->n_heads * c->head_dim;
    case LG_DIM_KV: return (int64_t)c->n_kv_heads * c->head_dim;
    case LG_DIM_FF: return c->intermediate_size;
    case LG_DIM_HEAD: return c->head_dim;
    case LG_DIM_QKV: return 3 * (int64_t)c->n_heads * c->head_dim;
    }
    return 0;
}

void lg_role_shape(const lg_config *c, lg_role r, int64_t *rows, int64_t *cols)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    *rows = d ? dim(c, d->roles[r].rows) : 0;
    *cols = d ? dim(c, d->roles[r].cols) : 0;
}

float **lg_layer_role(lg_layer_tensors *t, lg_role r)
{
    static const size_t offsets[LG_NROLES] = {
        [LG_ROLE_ATTN_NORM] = offsetof(lg_layer_tensors, attn_norm),
        [LG_ROLE_Q] = offsetof(lg_layer_tensors, wq),
        [LG_ROLE_Q_BIAS] = offsetof(lg_layer_tensors, bq),
        [LG_ROLE_K] = offsetof(lg_layer_tensors, wk),
        [LG_ROLE_K_BIAS] = offsetof(lg_layer_tensors, bk),
        [LG_ROLE_V] = offsetof(lg_layer_tensors, wv),
        [LG_ROLE_V_BIAS] = offsetof(lg_layer_tensors, bv),
        [LG_ROLE_O] = offsetof(lg_layer_tensors, wo),
        [LG_ROLE_O_BIAS] = offsetof(lg_layer_tensors, bo),
        [LG_ROLE_Q_NORM] = offsetof(lg_layer_tensors, q_norm),
        [LG_ROLE_K_NORM] = offsetof(lg_layer_tensors, k_norm),
        [LG_ROLE_MLP_NORM] = offsetof(lg_layer_tensors, mlp_norm),
        [LG_ROLE_GATE] = offsetof(lg_layer_tensors, wgate),
        [LG_ROLE_UP] = offsetof(lg_layer_tensors, wup),
        [LG_ROLE_DOWN] = offsetof(lg_layer_tensors, wdown),
        [LG_ROLE_ATTN_NORM_BIAS] = offsetof(lg_layer_tensors, attn_norm_b),
        [LG_ROLE_MLP_NORM_BIAS] = offsetof(lg_layer_tensors, mlp_norm_b),
        [LG_ROLE_UP_BIAS] = offsetof(lg_layer_tensors, bup),
        [LG_ROLE_DOWN_BIAS] = offsetof(lg_layer_tensors, bdown),
    };
    return (float **)((char *)t + offsets[r]);
}

void lg_role_dims(const lg_config *c, lg_role r, int *in, int *out)
{
    const lg_role_desc *d = &lg_arch_get(c->arch)->roles[r];
    if (d->fused_into != LG_NROLES) {   /* a part of q's fused tensor: q's shape per part */
        *in = c->hidden_size;
        *out = c->n_heads * c->head_dim;
        return;
    }
    int64_t rows, cols;
    lg_role_shape(c, r, &rows, &cols);
    *in = (int)(d->in_out ? rows : cols);
    *out = (int)(d->in_out ? cols : rows);
    if (d->in_out && d->rows == LG_DIM_HIDDEN && d->cols == LG_DIM_QKV)
        *out /= 3;                      /* c_attn: q is its first part */
}

lg_role lg_lora_role(int target)
{
    static const lg_role roles[LG_LORA_NTARGETS] = {
        LG_ROLE_Q, LG_ROLE_K, LG_ROLE_V, LG_ROLE_O, LG_ROLE_GATE, LG_ROLE_UP, LG_ROLE_DOWN};
    return target >= 0 && target < LG_LORA_NTARGETS ? roles[target] : LG_NROLES;
}

float lg_rope_inv_freq_at(const lg_config *c, int i)
{
    const int hd = c->head_dim;
    const float f = 1.0f / powf((float)c->rope_theta, (float)(2 * i) / (float)hd);
    if (c->rope_type == LG_ROPE_LINEAR)
        return f / (float)c->rope_factor;
    if (c->rope_type != LG_ROPE_LLAMA3)
        return f;
    /* transformers' _compute_llama3_parameters, element by element in float32 */
    const float factor = (float)c->rope_factor, lo = (float)c->rope_low_freq_factor,
                hi = (float)c->rope_high_freq_factor;
    const double old = c->rope_original_max_positions;
    const double low_wavelen = old / c->rope_low_freq_factor;
    const double high_wavelen = old / c->rope_high_freq_factor;
    const float wavelen = (float)(2 * M_PI) / f;
    float scaled = wavelen > low_wavelen ? f / factor : f;
    if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
        const float smooth = ((float)old / wavelen - lo) / (hi - lo);
        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
    }
    return scaled;
}

void lg_rope_tables_cfg(const lg_config *c, float *cos_t, float *sin_t, int T)
{
    const int half = c->head_dim / 2;
    for (int i = 0; i < half; i++) {
        const float inv_freq = lg_rope_inv_freq_at(c, i);
        for (int t = 0; t < T; t++) {
            const float angle = (float)t * inv_freq;
            cos_t[(size_t)t * half + i] = cosf(angle);
            sin_t[(size_t)t * half + i] = sinf(angle);
        }
    }
}
