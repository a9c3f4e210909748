/* `lm info MODEL_DIR`: architecture, parameter count, dtypes, memory. */
#include <stdio.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_model.h"
#include "lg_wmat.h"
#include "lg_safetensors.h"

static void human(char *buf, size_t n, double bytes)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (bytes >= 1024 && i < 4) {
        bytes /= 1024;
        i++;
    }
    snprintf(buf, n, "%.1f %s", bytes, u[i]);
}

int lg_cmd_info(int argc, char **argv)
{
    const char *dir = NULL;
    lg_opt opts[] = {
        {LG_INPUT(&dir), .name = "MODEL_DIR", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "a Hugging Face model directory"},
        {0}};
    lg_cli cli = {.prog = "lm", .name = "info", .opts = opts,
                  .about = "Prints the architecture from config.json, the parameter count, the "
                           "dtypes\nstored in the weights and the memory inference and training "
                           "need."};
    int rc = lg_cli_parse(&cli, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    lg_config c;
    if (lg_config_load_dir(dir, &c, &err) < 0)
        return lg_cli_finish(&cli, lg_cli_fail(&cli, &err));
    lg_weights *w = lg_weights_open_dir(dir, &err);
    if (!w || lg_model_check_weights(&c, w, dir, 0, &err) < 0) {
        lg_weights_close(w);
        return lg_cli_finish(&cli, lg_cli_fail(&cli, &err));
    }
    long long params = lg_config_param_count(&c);
    long long stored[LG_DT_BOOL + 1] = {0};
    double stored_bytes = 0;
    for (int i = 0; i < lg_weights_count(w); i++) {
        const lg_tensor_info *t = lg_weights_tensor(w, i);
        stored[t->dtype] += t->numel;
        stored_bytes += (double)t->nbytes;
    }
    printf("model          %s\n", dir);
    printf("architecture   %s\n", c.model_type);
    printf("vocabulary     %d\n", c.vocab_size);
    printf("hidden size    %d\n", c.hidden_size);
    printf("layers         %d\n", c.n_layers);
    printf("heads          %d (KV heads %d, head_dim %d)\n", c.n_heads, c.n_kv_heads, c.head_dim);
    printf("intermediate   %d\n", c.intermediate_size);
    printf("max positions  %d\n", c.max_position_embeddings);
    printf("RMSNorm eps    %g\n", c.rms_norm_eps);
    printf("RoPE theta     %g\n", c.rope_theta);
    if (c.rope_type == LG_ROPE_LINEAR)
        printf("RoPE scaling   linear, factor %g\n", c.rope_factor);
    else if (c.rope_type == LG_ROPE_LLAMA3)
        printf("RoPE scaling   llama3, factor %g, low/high frequency factors %g/%g, original "
               "context %d\n", c.rope_factor, c.rope_low_freq_factor, c.rope_high_freq_factor,
               c.rope_original_max_positions);
    printf("tied embedding %s\n", c.tie_word_embeddings ? "yes" : "no");
    printf("q/k/v bias     %s%s\n", c.qkv_bias ? "yes" : "no", c.o_bias ? " (and o_proj)" : "");
    if (c.sliding_window)
        printf("sliding window %d\n", c.sliding_window);
    printf("parameters     %lld (%.2f M)\n", params, params / 1e6);
    printf("stored dtypes ");
    for (int d = 0; d <= LG_DT_BOOL; d++)
        if (stored[d])
            printf(" %s: %lld", lg_dtype_name((lg_dtype)d), stored[d]);
    printf("\n");
    /* frozen matrices usable as stored are read where the file maps them (lg_wmat.h) */
    double as_stored = 0;
    for (int i = 0; i < lg_weights_count(w); i++) {
        const lg_tensor_info *t = lg_weights_tensor(w, i);
        as_stored += lg_wmat_usable(t) ? (double)t->nbytes : 4.0 * (double)t->numel;
    }
    char a[32], b[32], d[32], e[32], kern[256];
    human(e, sizeof e, as_stored);
    lg_wmat_describe(kern, sizeof kern);
    human(a, sizeof a, stored_bytes);
    human(b, sizeof b, params * 4.0);
    /* full training: parameters, gradients, AdamW's two moments */
    human(d, sizeof d, params * 16.0);
    printf("on disk        %s\n", a);
    printf("in memory      %s as float32 (inference, plus activations)\n", b);
    printf("frozen, stored %s (eval, generate, LoRA: F32/BF16 matrices read where the\n"
           "               file maps them, the rest float32; plus activations)\n", e);
    printf("bf16 products  %s\n", kern);
    printf("full training  %s (weights, gradients, AdamW moments; plus activations)\n", d);
    lg_weights_close(w);
    return lg_cli_finish(&cli, 0);
}
