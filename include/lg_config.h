/* lg_config — a Hugging Face config.json for the Llama family (llama, mistral, qwen2).
 *
 * Loading reads the fields the core needs and refuses what it cannot compute
 * faithfully: an unsupported model_type, rope_scaling / rope_parameters.rope_type
 * other than "default", a hidden_act other than silu, mlp_bias true, head_dim that does not
 * divide, a missing required field. Writing emits a config HF transformers loads. */
#ifndef LG_CONFIG_H
#define LG_CONFIG_H

#include <stddef.h>
#include "lg_error.h"

typedef enum { LG_ARCH_LLAMA, LG_ARCH_MISTRAL, LG_ARCH_QWEN2 } lg_arch;

typedef struct {
    lg_arch arch;
    char model_type[32];          /* as in the file: "llama", "mistral", "qwen2" */
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
    int tie_word_embeddings;      /* default: 0 for llama/mistral, as HF's classes */
    int qkv_bias;                 /* q/k/v projections have biases (qwen2 always; llama/mistral
                                     when attention_bias is true) */
    int o_bias;                   /* o_proj has a bias (llama/mistral attention_bias) */
    int bos_token_id, eos_token_id, pad_token_id; /* -1 when absent */
    char torch_dtype[16];         /* "float32", "bfloat16", ... ("" when absent) */
} lg_config;

int lg_config_load(const char *path, lg_config *cfg, lg_error *err);
/* Parses config.json text of `len` bytes; `name` stands for the file in messages. */
int lg_config_parse(const char *json, size_t len, const char *name, lg_config *cfg,
                    lg_error *err);
/* Loads DIR/config.json. */
int lg_config_load_dir(const char *dir, lg_config *cfg, lg_error *err);
int lg_config_write(const char *path, const lg_config *cfg, lg_error *err);
/* Number of parameters the architecture has. */
long long lg_config_param_count(const lg_config *cfg);

#endif
