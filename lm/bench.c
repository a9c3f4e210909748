/* Benchmark shapes and the FLOP count of one step (lg_bench.h). */
#include "lg_bench.h"

#include <stdio.h>
#include <string.h>

#include "lg_lora.h"

typedef struct {
    const char *name;
    int vocab, hidden, layers, heads, kv_heads, intermediate;
} shape;

static const shape shapes[] = {
    {"tiny", 8000, 256, 4, 4, 2, 688},
    {"small", 16000, 512, 8, 8, 4, 1376},
    {"base", 32000, 768, 12, 12, 4, 2048},
};

int lg_bench_shape(const char *name, lg_config *cfg, lg_error *err)
{
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        if (strcmp(name, s->name) != 0)
            continue;
        memset(cfg, 0, sizeof *cfg);
        cfg->arch = LG_ARCH_LLAMA;
        snprintf(cfg->model_type, sizeof cfg->model_type, "llama");
        cfg->vocab_size = s->vocab;
        cfg->hidden_size = s->hidden;
        cfg->n_layers = s->layers;
        cfg->n_heads = s->heads;
        cfg->n_kv_heads = s->kv_heads;
        cfg->head_dim = s->hidden / s->heads;
        cfg->intermediate_size = s->intermediate;
        cfg->max_position_embeddings = 2048;
        cfg->rms_norm_eps = 1e-6f;
        cfg->rope_theta = 10000.0;
        cfg->bos_token_id = cfg->eos_token_id = cfg->pad_token_id = -1;
        snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "float32");
        return 0;
    }
    return lg_fail(err, "unknown shape '%s' (tiny, small or base)", name);
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

double lg_bench_step_flops(const lg_config *c, int B, int T, lg_bench_mode mode, int rank,
                           unsigned lora_mask)
{
    const double N = (double)B * T, C = c->hidden_size, F = c->intermediate_size;
    const double QD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    const double V = c->vocab_size, hd = c->head_dim;
    /* (in, out) of each adaptable linear, in lg_lora_target order */
    const double io[LG_LORA_NTARGETS][2] = {{C, QD}, {C, KD}, {C, KD}, {QD, C},
                                            {C, F},  {C, F},  {F, C}};
    double linear = 0, lora = 0;
    for (int t = 0; t < LG_LORA_NTARGETS; t++) {
        linear += 2 * N * io[t][0] * io[t][1];
        if (mode == LG_BENCH_LORA && (lora_mask & (1u << t)))
            lora += 2 * N * rank * (io[t][0] + io[t][1]);
    }
    /* causal attention: (query, key) pairs with s ≤ t, per batch row and query head */
    const double pairs = (double)B * c->n_heads * T * (T + 1) / 2;
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
