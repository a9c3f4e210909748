/* `lm init`: a fresh, randomly initialised model directory for pretraining from scratch. */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"
#include "lg_model.h"
#include "lg_model_init.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lm init (--config FILE | --preset NAME) -o DIR [options]\n"
            "Writes DIR/config.json and DIR/model.safetensors (float32) with Hugging Face's\n"
            "initialisation: linear and embedding weights normal(0, initializer_range),\n"
            "RMSNorm weights 1, biases 0. The same --seed gives the same weights.\n\n"
            "  --config FILE        an HF config.json (llama, mistral, qwen2); its\n"
            "                       initializer_range is used when present (else 0.02)\n"
            "  --preset NAME        llama sizes: micro (hidden 64, 2 layers), tiny (256, 4\n"
            "                       layers, 4 heads, 2 KV heads, intermediate 688), small (512, 8)\n"
            "  --tokenizer FILE     SentencePiece .model: vocabulary size and bos/eos/pad ids\n"
            "  --vocab-size N       vocabulary size (when no tokenizer is given)\n"
            "  --tie-embeddings     share embed_tokens with lm_head (presets are untied)\n"
            "  --seed N             random seed (default 0)\n"
            "  -o, --output DIR     the model directory to write (replaced atomically)\n"
            "  -h, --help           this text\n");
}

/* initializer_range of an HF config.json, 0.02 when absent. */
static float initializer_range(const char *path)
{
    float range = 0.02f;
    FILE *f = fopen(path, "rb");
    if (!f)
        return range;
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "initializer_range");
    if (cJSON_IsNumber(r) && r->valuedouble > 0)
        range = (float)r->valuedouble;
    cJSON_Delete(root);
    return range;
}

int lg_cmd_init(int argc, char **argv)
{
    static const struct option longs[] = {
        {"config", required_argument, 0, 'c'},  {"preset", required_argument, 0, 'p'},
        {"tokenizer", required_argument, 0, 't'}, {"vocab-size", required_argument, 0, 'V'},
        {"tie-embeddings", no_argument, 0, 'T'}, {"seed", required_argument, 0, 's'},
        {"output", required_argument, 0, 'o'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *preset = NULL, *tokenizer = NULL, *out = NULL;
    int vocab = 0, tie = 0;
    unsigned long long seed = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'p': preset = optarg; break;
        case 't': tokenizer = optarg; break;
        case 'V': vocab = atoi(optarg); break;
        case 'T': tie = 1; break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !out || !config == !preset) {
        usage(stderr);
        return 2;
    }
    lg_error err;
    lg_config cfg;
    float range = 0.02f;
    lg_spm *spm = NULL;
    if (tokenizer && !(spm = lg_spm_load(tokenizer, &err)))
        goto fail;
    if (spm)
        vocab = lg_spm_vocab_size(spm);
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
        cfg.bos_token_id = lg_spm_bos_id(spm);
        cfg.eos_token_id = lg_spm_eos_id(spm);
        cfg.pad_token_id = lg_spm_pad_id(spm);
        lg_spm_free(spm);
        spm = NULL;
    }
    if (tie)
        cfg.tie_word_embeddings = 1;
    lg_model *m = lg_model_create(&cfg, &err);
    if (!m)
        goto fail;
    lg_model_init_weights(m, range, seed);
    int rc = lg_model_save_dir(m, out, LG_DT_F32, &err);
    lg_model_free(m);
    if (rc < 0)
        goto fail;
    printf("%s: %s, %lld parameters, vocabulary %d, seed %llu\n", out, cfg.model_type,
           lg_config_param_count(&cfg), cfg.vocab_size, seed);
    return 0;
fail:
    lg_spm_free(spm);
    lg_error_print("lm init", &err);
    return 1;
}
