/* `lm init`: a fresh, randomly initialised model directory for pretraining from scratch. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_io.h"
#include "lg_model.h"
#include "lg_model_init.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

/* initializer_range of an HF config.json (already read once by lg_config_load), 0.02 when
 * absent. */
static float initializer_range(const char *path)
{
    float range = 0.02f;
    cJSON *root = lg_json_read(path, LG_CONFIG_MAX_BYTES, NULL);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "initializer_range");
    if (cJSON_IsNumber(r) && r->valuedouble > 0)
        range = (float)r->valuedouble;
    cJSON_Delete(root);
    return range;
}

int lg_cmd_init(int argc, char **argv)
{
    const char *config = NULL, *preset = NULL, *tokenizer = NULL, *out = NULL;
    const char *dtype = "f32";
    int vocab = 0, tie = 0;
    uint64_t seed = 0;
    lg_opt opts[] = {
        {LG_INPUT(&config), .name = "config", .arg = "FILE",
         .help = "an HF config.json (llama, mistral, qwen2,\nqwen3; RoPE scaling llama3/linear); "
                 "its\ninitializer_range is used when present (else\n0.02)"},
        {LG_CHOICE(&preset), .name = "preset", .choices = "micro|tiny|small", .arg = "NAME",
         .help = "llama sizes: micro (hidden 64, 2 layers), tiny\n(256, 4 layers, 4 heads, "
                 "2 KV heads,\nintermediate 688), small (512, 8)"},
        {LG_INPUT(&tokenizer), .name = "tokenizer", .arg = "FILE",
         .help = ".model or tokenizer.json: vocabulary size\nand bos/eos/pad ids"},
        {LG_INT(&vocab), .name = "vocab-size", .min = 2, .max = 1 << 24, .arg = "N", .def = "",
         .help = "vocabulary size (when no tokenizer is given)"},
        {LG_FLAG(&tie), .name = "tie-embeddings",
         .help = "share embed_tokens with lm_head (presets are\nuntied)"},
        {LG_CHOICE(&dtype), .name = "dtype", .choices = "f32|bf16", .arg = "TYPE",
         .help = "how the weights are stored: float32 or\nbfloat16 (rounded to nearest even)"},
        {LG_U64(&seed), .name = "seed", .min = 0, .max = 1.8446744073709552e19, .arg = "N",
         .help = "random seed"},
        {LG_OUTDIR(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "the model directory to write"},
        {0}};
    lg_cli c = {.prog = "lm", .name = "init", .opts = opts,
                .usage = "(--config FILE | --preset NAME) -o DIR [options]",
                .about = "Writes DIR/config.json and DIR/model.safetensors (--dtype) with Hugging "
                         "Face's\ninitialisation: linear and embedding weights normal(0, "
                         "initializer_range),\nRMSNorm weights 1, biases 0. The same --seed gives "
                         "the same weights."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!config == !preset) {
        lg_cli_finish(&c, 2);
        return lg_cli_usage(&c, "give one of --config or --preset");
    }
    lg_error err;
    lg_config cfg;
    float range = 0.02f;
    lg_tokenizer *spm = NULL;
    if (tokenizer && !(spm = lg_tokenizer_load(tokenizer, &err)))
        goto fail;
    if (spm)
        vocab = spm->ops->vocab_size(spm);
    if (config) {
        if (lg_config_load(config, &cfg, &err) < 0)
            goto fail;
        range = initializer_range(config);
        if (vocab > 0)
            cfg.vocab_size = vocab;
    } else if (lg_config_preset(preset, vocab, &cfg, &err) < 0) {
        if (vocab <= 0)
            lg_fail(&err, "--preset %s needs --tokenizer or --vocab-size", preset);
        goto fail;
    }
    if (spm) {
        cfg.bos_token_id = spm->ops->bos_id(spm);
        cfg.eos_token_id = spm->ops->eos_id(spm);
        cfg.pad_token_id = spm->ops->pad_id(spm);
        lg_tokenizer_free(spm);
        spm = NULL;
    }
    if (tie)
        cfg.tie_word_embeddings = 1;
    lg_model *m = lg_model_create(&cfg, &err);
    if (!m)
        goto fail;
    lg_model_init_weights(m, range, seed);
    rc = lg_model_save_dir(m, out, strcmp(dtype, "bf16") ? LG_DT_F32 : LG_DT_BF16, &err);
    lg_model_free(m);
    if (rc < 0)
        goto fail;
    printf("%s: %s, %lld parameters, vocabulary %d, seed %llu\n", out, cfg.model_type,
           lg_config_param_count(&cfg), cfg.vocab_size, (unsigned long long)seed);
    return lg_cli_finish(&c, 0);
fail:
    lg_tokenizer_free(spm);
    return lg_cli_finish(&c, lg_cli_fail(&c, &err));
}
