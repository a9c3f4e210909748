/* adapt export: a Hugging Face model directory or a GGUF file from base + pack. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_io.h"
#include "lg_export.h"
#include "lg_pack.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

/* Before any work: would llama.cpp tokenize text as this tokenizer does? 0 when it would
 * or the user allows the difference (then a loud warning), 1 when refused. */
static int check_tokenizer(lg_cli *c, const lg_export_opts *o, int allow)
{
    char path[4096];
    if (o->tokenizer)
        snprintf(path, sizeof path, "%s", o->tokenizer);
    else if (!o->pack || !lg_pack_tokenizer_path(o->pack, path))
        return 0; /* the export names what is missing */
    lg_error err;
    char why[1024];
    int same = lg_gguf_tokenizer_check(path, why, sizeof why, &err);
    if (same < 0)
        return lg_cli_fail(c, &err);
    if (same)
        return 0;
    if (!allow) {
        lg_fail(&err, "%s: llama.cpp would tokenize text differently from lingraft: %s; "
                "export a BPE tokenizer with byte fallback, no normaliser and no user-defined pieces (as "
                "`tokenize train -t bpe --byte-fallback` makes) or a byte-level BPE tokenizer.json "
                "with a pre-tokenizer llama.cpp knows, or give "
                "--allow-tokenizer-mismatch to write the GGUF anyway", path, why);
        return lg_cli_fail(c, &err);
    }
    fprintf(stderr, "adapt export: WARNING: --allow-tokenizer-mismatch: %s: llama.cpp will "
            "tokenize text differently from lingraft: %s. The model will be fed token "
            "sequences it was not trained on.\n", path, why);
    return 0;
}

/* A message about the temporary HF directory names the user's output instead. */
static void name_output(lg_error *err, const char *tmp, const char *gguf)
{
    char *at = strstr(err->msg, tmp);
    if (!at)
        return;
    char rest[sizeof err->msg];
    snprintf(rest, sizeof rest, "%s", at + strlen(tmp));
    snprintf(at, sizeof err->msg - (size_t)(at - err->msg), "%s (as a Hugging Face directory)%s",
             gguf, rest);
}

int lg_adapt_export(int argc, char **argv)
{
    lg_export_opts o = {.stored_dtype = LG_DT_F32};
    const char *hf = NULL, *gguf = NULL, *name = NULL, *dtype = NULL;
    int f16 = 0, allow_mismatch = 0;
    lg_opt opts[] = {
        {LG_INPUT(&o.base_dir), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the base model (never modified)"},
        {LG_INPUT(&o.pack), .name = "pack", .arg = "PACK",
         .help = "a language pack over it (none: the base alone)"},
        {LG_INPUT(&o.tokenizer), .name = "tokenizer", .arg = "FILE", .def = "the pack's;\nrequired without one",
         .help = "the tokenizer: a SentencePiece .model or a\ntokenizer.json"},
        {LG_SECTION("Hugging Face directory")},
        {LG_OUTDIR(&hf), .name = "hf", .arg = "OUT_DIR",
         .help = "a standalone model directory: config with the\npack's vocabulary, "
                 "safetensors, tokenizer.model\n(LlamaTokenizer) or tokenizer.json\n"
                 "(PreTrainedTokenizerFast), tokenizer_config.json\nand special_tokens_map.json"},
        {LG_FLAG(&o.keep_adapter), .name = "keep-adapter",
         .help = "write the LoRA adapter to OUT_DIR/adapter\n(PEFT) instead of merging it"},
        {LG_CHOICE(&dtype), .name = "dtype", .choices = "f32|f16|bf16", .def = "f32",
         .help = "the stored dtype of the weights"},
        {LG_SECTION("GGUF file")},
        {LG_OUTPUT(&gguf), .name = "gguf", .arg = "OUT.gguf",
         .help = "a GGUF v3 file of the merged model for\nllama.cpp (F32)"},
        {LG_FLAG(&f16), .name = "f16", .help = "F16 matrices"},
        {LG_FLAG(&allow_mismatch), .name = "allow-tokenizer-mismatch",
         .help = "write it even when llama.cpp cannot tokenize\n"
                 "text as the tokenizer does (a normaliser such as\n"
                 "NFKC, a unigram model, no byte fallback): warns"},
        {LG_STRING(&name), .name = "name", .arg = "NAME", .def = "the file's name",
         .help = "general.name"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "export", .opts = opts,
                .usage = "--base DIR [--pack PACK] [--tokenizer FILE]\n"
                         "                    (--hf OUT_DIR [--keep-adapter] [--dtype "
                         "f32|f16|bf16] |\n"
                         "                     --gguf OUT.gguf [--f16] [--name NAME]\n"
                         "                     [--allow-tokenizer-mismatch])",
                .about = "Writes the base model with the pack as a Hugging Face model directory "
                         "or a GGUF\nfile; the LoRA adapter of the pack is merged (unless "
                         "--keep-adapter)."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!hf == !gguf)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give one of --hf or --gguf"));
    if (gguf && (o.keep_adapter || dtype))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--%s is an option of --hf, not of --gguf",
                                              o.keep_adapter ? "keep-adapter" : "dtype"));
    if (hf && (f16 || name || allow_mismatch))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--%s is an option of --gguf, not of --hf",
                                              f16 ? "f16" : name ? "name"
                                                             : "allow-tokenizer-mismatch"));
    if (dtype)
        o.stored_dtype = !strcmp(dtype, "f16") ? LG_DT_F16 : !strcmp(dtype, "bf16") ? LG_DT_BF16
                                                                                   : LG_DT_F32;
    lg_error err;
    if (hf) {
        if (lg_export_hf(&o, hf, &err) < 0)
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
        printf("%s: Hugging Face model directory\n", hf);
        return lg_cli_finish(&c, 0);
    }
    if ((rc = check_tokenizer(&c, &o, allow_mismatch)) != 0)
        return lg_cli_finish(&c, rc);
    /* GGUF: the merged model as an HF directory first (a temporary removed on a signal
     * too), then converted */
    char tmp[4096], tok[4200];
    snprintf(tmp, sizeof tmp, "%s.hf.tmp.%ld", gguf, (long)getpid());
    int slot = lg_temp_register(tmp, 1);
    rc = lg_export_hf(&o, tmp, &err);
    if (rc == 0) {
        /* the directory: its tokenizer.json, else its tokenizer.model */
        snprintf(tok, sizeof tok, "%s", tmp);
        /* the temporary directory's name must not become the model's */
        char fallback[256];
        const char *base = strrchr(gguf, '/') ? strrchr(gguf, '/') + 1 : gguf;
        snprintf(fallback, sizeof fallback, "%.*s", (int)strcspn(base, "."), base);
        lg_gguf_export_options go = {.f16 = f16, .name = name ? name : fallback,
                                     .allow_tokenizer_mismatch = allow_mismatch};
        rc = lg_gguf_export_hf(tmp, tok, gguf, &go, &err);
    }
    lg_remove_tree(tmp);
    lg_temp_unregister(slot);
    if (rc < 0) {
        name_output(&err, tmp, gguf);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    printf("%s: GGUF v3 (llama)\n", gguf);
    return lg_cli_finish(&c, 0);
}
