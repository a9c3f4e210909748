/* Benchmark shapes and the FLOP count of one step (lg_bench.h). */
#include "lg_bench.h"

#include <stdio.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_lora.h"

typedef struct {
    const char *name;
    lg_arch arch;
    const char *model_type;
    int vocab, hidden, layers, heads, kv_heads, intermediate;
    int head_dim;               /* 0: hidden / heads */
    double rope_theta;
    int llama3;                 /* RoPE scaled as Llama-3.1: factor 8, low 1, high 4, 8192 */
    int max_positions;
    double qk_std;              /* random q_proj/k_proj weights' standard deviation */
} shape;

/* The Llama shapes, then architecture variants at the small shape (run.sh runs them against
 * tools/bench/torch_llama.py's same variants): Llama-3.1's RoPE scaling with its rope_theta,
 * and Qwen3's q/k-norm with an explicit head_dim of 128 (q and o twice the hidden size, as
 * in every Qwen3) and its rope_theta. Their q_proj and k_proj weights are drawn 4x wider than
 * HF's 0.02, so that attention is peaked and depends on the positions as in a trained model:
 * with 0.02 the attention scores have a standard deviation of about 0.2, attention is nearly
 * uniform, and PyTorch without the llama3 scaling gave a first-step loss only 1.5e-5 away
 * (below run.sh's 1e-4 check); with 0.08 it is 2e-3 away. */
static const shape shapes[] = {
    {"tiny", LG_ARCH_LLAMA, "llama", 8000, 256, 4, 4, 2, 688, 0, 10000.0, 0, 2048, 0.02},
    {"small", LG_ARCH_LLAMA, "llama", 16000, 512, 8, 8, 4, 1376, 0, 10000.0, 0, 2048, 0.02},
    {"base", LG_ARCH_LLAMA, "llama", 32000, 768, 12, 12, 4, 2048, 0, 10000.0, 0, 2048, 0.02},
    {"small-llama3", LG_ARCH_LLAMA, "llama", 16000, 512, 8, 8, 4, 1376, 0, 500000.0, 1, 131072,
     0.08},
    {"small-qwen3", LG_ARCH_QWEN3, "qwen3", 16000, 512, 8, 8, 4, 1376, 128, 1000000.0, 0, 2048,
     0.08},
};

double lg_bench_qk_std(const char *name)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        if (!strcmp(name, shapes[i].name))
            return shapes[i].qk_std;
    return 0.02;
}

int lg_bench_shape(const char *name, lg_config *cfg, lg_error *err)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        if (strcmp(name, s->name) != 0)
            continue;
        memset(cfg, 0, sizeof *cfg);
        cfg->arch = s->arch;
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", s->model_type);
        cfg->vocab_size = s->vocab;
        cfg->hidden_size = s->hidden;
        cfg->n_layers = s->layers;
        cfg->n_heads = s->heads;
        cfg->n_kv_heads = s->kv_heads;
        cfg->head_dim = s->head_dim ? s->head_dim : s->hidden / s->heads;
        cfg->intermediate_size = s->intermediate;
        cfg->max_position_embeddings = s->max_positions;
        cfg->rms_norm_eps = 1e-6f;
        cfg->rope_theta = s->rope_theta;
        if (s->llama3) {
            cfg->rope_type = LG_ROPE_LLAMA3;
            cfg->rope_factor = 8;
            cfg->rope_low_freq_factor = 1;
            cfg->rope_high_freq_factor = 4;
            cfg->rope_original_max_positions = 8192;
        }
        cfg->bos_token_id = cfg->eos_token_id = cfg->pad_token_id = -1;
        snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "float32");
        return 0;
    }
    return lg_fail(err, "unknown shape '%s' (" LG_BENCH_SHAPE_CHOICES ")", name);
}

static const char *const mode_names[] = {"forward", "train", "lora"};

int lg_bench_parse_mode(const char *name, lg_bench_mode *mode, lg_error *err)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, mode_names[i])) {
            *mode = (lg_bench_mode)i;
            return 0;
        }
    return lg_fail(err, "unknown mode '%s' (train, lora or forward)", name);
}

const char *lg_bench_mode_name(lg_bench_mode mode)
{
    return mode_names[mode];
}

/* Whether role r of config c is a weight matrix of its own or a part of a fused one (GPT-2's
 * k and v in c_attn), rather than a vector (norm, bias). */
static int is_matrix_role(const lg_config *c, const lg_arch_desc *d, lg_role r)
{
    if (!lg_role_present(c, r))
        return 0;
    const lg_role_desc *rd = &d->roles[r];
    if (rd->fused_into != LG_NROLES)
        return d->roles[rd->fused_into].cols != LG_DIM_NONE;
    return rd->cols != LG_DIM_NONE;
}

double lg_bench_step_flops(const lg_config *c, int B, int T, lg_bench_mode mode, int rank,
                           unsigned lora_mask)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    if (!d)
        return 0;
    const double N = (double)B * T, C = c->hidden_size, V = c->vocab_size, hd = c->head_dim;
    /* every weight product of a block, as the descriptor's roles give them (in, out) */
    double linear = 0, lora = 0;
    for (int r = 0; r < LG_NROLES; r++) {
        if (!is_matrix_role(c, d, (lg_role)r))
            continue;
        int in, out;
        lg_role_dims(c, (lg_role)r, &in, &out);
        linear += 2 * N * in * out;
        const int t = d->roles[r].lora_target;
        if (mode == LG_BENCH_LORA && t >= 0 && (lora_mask & (1u << t)))
            lora += 2 * N * rank * ((double)in + out);
    }
    /* attention: the (query, key) pairs computed, per batch row and query head: s ≤ t, and
     * with a sliding window only the last `window` positions */
    double per_row = 0;
    for (int t = 0; t < T; t++)
        per_row += c->sliding_window > 0 && c->sliding_window < t + 1 ? c->sliding_window : t + 1;
    const double pairs = (double)B * c->n_heads * per_row;
    const double attn = 2 * (2 * hd * pairs); /* QKᵀ and PV */
    const double head = 2 * N * C * V;
    const double L = c->n_layers;
    double fwd = L * (linear + lora + attn) + head;
    switch (mode) {
    case LG_BENCH_FORWARD:
        return fwd;
    case LG_BENCH_TRAIN:
        /* input and weight gradients of every linear; four attention products */
        return fwd + L * (2 * linear + 2 * attn) + 2 * head;
    case LG_BENCH_LORA:
        /* input gradients only through frozen weights; dB, d(xa), dA, d(in) for LoRA */
        return fwd + L * (linear + 2 * lora + 2 * attn) + head;
    }
    return fwd;
}
