/* adapt export: a Hugging Face model directory or a GGUF file from base + pack. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lg_adapt_cli.h"
#include "lg_io.h"
#include "lg_export.h"
#include "lg_pack.h"
#include "lg_safetensors.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: adapt export --base DIR [--pack PACK] [--tokenizer FILE.model]\n"
            "                    (--hf OUT_DIR [--keep-adapter] [--dtype f32|f16|bf16] |\n"
            "                     --gguf OUT.gguf [--f16] [--name NAME])\n"
            "--hf writes a standalone Hugging Face model directory (config with the pack's\n"
            "vocabulary, safetensors, tokenizer.model, tokenizer_config.json and\n"
            "special_tokens_map.json for LlamaTokenizer); LoRA merged unless --keep-adapter.\n"
            "--gguf writes a GGUF v3 file of the merged model for llama.cpp (F32, or F16\n"
            "matrices with --f16; general.name NAME, default the file's name).\n"
            "--tokenizer defaults to the pack's tokenizer.model; without a pack it is required.\n");
}

int lg_adapt_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", required_argument, NULL, 'b'},  {"pack", required_argument, NULL, 'p'},
        {"tokenizer", required_argument, NULL, 'k'}, {"hf", required_argument, NULL, 'H'},
        {"gguf", required_argument, NULL, 'g'},  {"keep-adapter", no_argument, NULL, 'K'},
        {"dtype", required_argument, NULL, 'd'}, {"f16", no_argument, NULL, 'f'},
        {"name", required_argument, NULL, 'n'},  {"help", no_argument, NULL, 'h'},
        {0}};
    lg_export_opts o = {.stored_dtype = LG_DT_F32};
    const char *hf = NULL, *gguf = NULL, *name = NULL;
    int f16 = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o.base_dir = optarg; break;
        case 'p': o.pack = optarg; break;
        case 'k': o.tokenizer = optarg; break;
        case 'H': hf = optarg; break;
        case 'g': gguf = optarg; break;
        case 'K': o.keep_adapter = 1; break;
        case 'f': f16 = 1; break;
        case 'n': name = optarg; break;
        case 'd':
            if (!strcmp(optarg, "f32")) o.stored_dtype = LG_DT_F32;
            else if (!strcmp(optarg, "f16")) o.stored_dtype = LG_DT_F16;
            else if (!strcmp(optarg, "bf16")) o.stored_dtype = LG_DT_BF16;
            else {
                fprintf(stderr, "adapt export: unknown --dtype '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.base_dir || !!hf == !!gguf || (gguf && o.keep_adapter) || optind != argc) {
        usage(stderr);
        return 2;
    }
    lg_error err;
    if (hf) {
        if (lg_export_hf(&o, hf, &err) < 0) {
            lg_error_print("adapt export", &err);
            return 1;
        }
        printf("%s: Hugging Face model directory\n", hf);
        return 0;
    }
    /* GGUF: the merged model as an HF directory first, then converted */
    char tmp[4096], tok[4200];
    snprintf(tmp, sizeof tmp, "%s.hf.tmp.%ld", gguf, (long)getpid());
    int rc = lg_export_hf(&o, tmp, &err);
    if (rc == 0) {
        snprintf(tok, sizeof tok, "%s/tokenizer.model", tmp);
        /* the temporary directory's name must not become the model's */
        char fallback[256];
        const char *base = strrchr(gguf, '/') ? strrchr(gguf, '/') + 1 : gguf;
        snprintf(fallback, sizeof fallback, "%.*s", (int)strcspn(base, "."), base);
        lg_gguf_export_options go = {.f16 = f16, .name = name ? name : fallback};
        rc = lg_gguf_export_hf(tmp, tok, gguf, &go, &err);
    }
    lg_remove_tree(tmp);
    if (rc < 0) {
        lg_error_print("adapt export", &err);
        return 1;
    }
    printf("%s: GGUF v3 (llama)\n", gguf);
    return 0;
}
