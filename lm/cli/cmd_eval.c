/* `lm eval`: loss, perplexity and bits per byte of held-out text. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_train.h"
#include "lg_pack.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_spm.h"

int lg_cmd_eval(int argc, char **argv)
{
    const char *dir = NULL, *text = NULL, *tok = NULL, *ids = NULL, *adapter = NULL;
    const char *pack = NULL, *lang = NULL, *script = NULL;
    char pack_tok[4096];
    int window = 0, stride = 0, json = 0, threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&dir), .name = "MODEL_DIR", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "a Hugging Face model directory"},
        {LG_INPUT(&text), .name = "text", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "UTF-8 text (plain, gzip or - for stdin),\nencoded with --tokenizer"},
        {LG_INPUT(&tok), .name = "tokenizer", .arg = "FILE", .def = "the pack's",
         .help = ".model or tokenizer.json"},
        {LG_INPUT(&ids), .name = "ids", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "token ids instead (no bytes: loss and\nperplexity only)"},
        {LG_INPUT(&adapter), .name = "adapter", .arg = "DIR",
         .help = "a PEFT LoRA adapter on the model"},
        {LG_INPUT(&pack), .name = "pack", .arg = "PACK",
         .help = "a language pack or `transfer init` table\nswapped into the model"},
        {LG_STRING(&lang), .name = "lang", .arg = "CODE",
         .help = "LangSAMP: tag the text with this language's\nvector (from the pack)"},
        {LG_STRING(&script), .name = "script", .arg = "CODE",
         .help = "and this script's; without them, untagged"},
        {LG_INT(&window), .name = "window", .min = 2, .max = 1 << 20, .arg = "N",
         .def = "the model's maximum, at most 1024",
         .help = "tokens a forward pass"},
        {LG_INT(&stride), .name = "stride", .min = 1, .max = 1 << 20, .arg = "S", .def = "",
         .help = "sliding windows: one every S tokens (S below\nthe window), each predicting "
                 "its last S;\nwithout it, chunked: each token predicted once,\nthe context "
                 "restarting every N-1 tokens"},
        {LG_FLAG(&json), .name = "json", .help = "one JSON object on stdout"},
        LG_THREADS_OPT(&threads),
        {0}};
    lg_cli cli = {.prog = "lm", .name = "eval", .opts = opts,
                  .usage = "MODEL_DIR (--text FILE [--tokenizer FILE] | --ids FILE) [options]",
                  .about = "Loss and perplexity per token and bits per byte (total nats / ln 2 "
                           "/ UTF-8 bytes of\nthe text, newlines included) of held-out text, one "
                           "document a line with the\nmodel's bos/eos around each. Bits per byte "
                           "compare models with different\ntokenizers."};
    int status = lg_cli_parse(&cli, argc, argv);
    if (status != LG_CLI_RUN)
        return status;
    if (!text == !ids)
        return lg_cli_finish(&cli, lg_cli_usage(&cli, "give one of --text or --ids"));
    if (!tok && pack && lg_pack_tokenizer_path(pack, pack_tok))
        tok = pack_tok;
    if (text && !tok)
        return lg_cli_finish(&cli, lg_cli_usage(&cli, "--text needs --tokenizer (or a --pack "
                                                      "with a tokenizer)"));
    if (window && stride >= window)
        return lg_cli_finish(&cli, lg_cli_usage(&cli, "--stride %d must be below --window %d",
                                                stride, window));

    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
    lg_model *m = NULL;
    lg_tokenizer *spm = NULL;
    lg_dataset *ds = NULL;
    /* frozen weights stay as stored; an adapter may bring its own embed_tokens/lm_head */
    if (!(m = lg_model_open_ex(dir, pack,
                               LG_LOAD_STORED | (adapter ? 0 : LG_LOAD_STORED_VOCAB), &err)))
        goto fail;
    if (adapter && !lg_lora_load_peft(m, adapter, &err))
        goto fail;
    /* forward for the loss only: one layer's activations, logits in chunks */
    lg_model_set_loss_only(m, 0);
    if ((lang || script) && lg_model_tag_codes(m, lang, script, pack ? pack : dir, &err) < 0)
        goto fail;
    const lg_config *cfg = &m->cfg;
    if (window <= 0) {
        window = cfg->max_position_embeddings > 0 && cfg->max_position_embeddings < 1024
                     ? cfg->max_position_embeddings : 1024;
        if (stride >= window) {
            lg_model_free(m);
            return lg_cli_finish(&cli, lg_cli_usage(&cli, "--stride %d must be below the "
                                                    "window, %d tokens for %s", stride, window,
                                                    dir));
        }
    }
    lg_dataset_options d = {.seq_len = 0, .vocab_size = cfg->vocab_size,
                            .bos_id = cfg->bos_token_id, .eos_id = cfg->eos_token_id};
    if (tok && !(spm = lg_pack_tokenizer(tok, pack, &err))) /* checked against the pack */
        goto fail;
    /* a pack's vocabulary is its tokenizer's: the base config's ids do not apply */
    if (spm && (pack || (d.bos_id < 0 && d.eos_id < 0))) {
        d.bos_id = spm->ops->bos_id(spm);
        d.eos_id = spm->ops->eos_id(spm);
    }
    ds = text ? lg_dataset_load_text(text, spm, &d, &err) : lg_dataset_load_ids(ids, &d, &err);
    if (!ds)
        goto fail;
    if (ds->n_tokens < (size_t)window)
        window = ds->n_tokens < 2 ? 2 : (int)ds->n_tokens;
    if (stride >= window)
        stride = 0;
    lg_eval_result r;
    if (lg_eval_tokens(m, ds->tokens, ds->n_tokens, ds->n_bytes, window, stride, &r, &err) < 0) {
        lg_fail_context(&err, "%s", ds->path);
        goto fail;
    }
    const int chunked = r.stride == r.window - 1;
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", dir);
        if (adapter)
            cJSON_AddStringToObject(j, "adapter", adapter);
        if (pack)
            cJSON_AddStringToObject(j, "pack", pack);
        if (lang)
            cJSON_AddStringToObject(j, "lang", lang);
        if (script)
            cJSON_AddStringToObject(j, "script", script);
        cJSON_AddStringToObject(j, "text", ds->path);
        cJSON_AddStringToObject(j, "windows", chunked ? "chunked" : "sliding");
        cJSON_AddNumberToObject(j, "window", r.window);
        cJSON_AddNumberToObject(j, "stride", r.stride);
        cJSON_AddNumberToObject(j, "forward_passes", (double)r.windows);
        cJSON_AddNumberToObject(j, "tokens", (double)r.tokens);
        cJSON_AddNumberToObject(j, "bytes", (double)r.bytes);
        cJSON_AddNumberToObject(j, "nats", r.nats);
        cJSON_AddNumberToObject(j, "loss", r.loss);
        cJSON_AddNumberToObject(j, "perplexity", r.perplexity);
        if (r.bytes)
            cJSON_AddNumberToObject(j, "bits_per_byte", r.bits_per_byte);
        else
            cJSON_AddNullToObject(j, "bits_per_byte");
        char *s = cJSON_PrintUnformatted(j);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(j);
    } else {
        printf("model          %s%s%s\n", dir, adapter ? " + adapter " : "", adapter ? adapter : "");
        printf("text           %s: %zu tokens%s", ds->path, ds->n_tokens, r.bytes ? ", " : "\n");
        if (r.bytes)
            printf("%zu bytes\n", r.bytes);
        if (chunked)
            printf("windows        chunked: %zu windows of up to %d tokens, each token predicted "
                   "once\n", r.windows, r.window);
        else
            printf("windows        sliding: %zu windows of up to %d tokens, stride %d (each "
                   "prediction sees at least %d tokens)\n", r.windows, r.window, r.stride,
                   r.window - r.stride);
        printf("predicted      %zu tokens\n", r.tokens);
        printf("loss           %.6f nats per token\n", r.loss);
        printf("perplexity     %.4f per token\n", r.perplexity);
        if (r.bytes)
            printf("bits per byte  %.6f\n", r.bits_per_byte);
        else
            printf("bits per byte  unknown (token ids carry no bytes; use --text)\n");
    }
    lg_dataset_free(ds);
    lg_tokenizer_free(spm);
    lg_model_free(m);
    return lg_cli_finish(&cli, 0);
fail:
    lg_cli_fail(&cli, &err);
    lg_dataset_free(ds);
    lg_tokenizer_free(spm);
    lg_model_free(m);
    return lg_cli_finish(&cli, 1);
}
