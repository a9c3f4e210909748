/* `lm eval`: loss, perplexity and bits per byte of held-out text. */
#include <cJSON.h>
#include <getopt.h>
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

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lm eval MODEL_DIR (--text FILE --tokenizer SPM | --ids FILE) [options]\n"
        "Loss and perplexity per token and bits per byte (total nats / ln 2 / UTF-8 bytes of\n"
        "the text, newlines included) of held-out text, one document a line with the model's\n"
        "bos/eos around each. Bits per byte compare models with different tokenizers.\n\n"
        "  --text FILE        UTF-8 text, encoded with --tokenizer\n"
        "  --tokenizer FILE   SentencePiece .model\n"
        "  --ids FILE         token ids instead (no bytes: loss and perplexity only)\n"
        "  --adapter DIR      a PEFT LoRA adapter on the model\n"
        "  --pack PACK        a language pack or `transfer init` table swapped into the model\n"
        "                     (its tokenizer.model is the default --tokenizer)\n"
        "  --lang CODE        LangSAMP: tag the text with this language's vector and\n"
        "  --script CODE      this script's (from the pack); without them, untagged\n"
        "  --window N         tokens a forward pass (default: the model's maximum, at most 1024)\n"
        "  --stride S         sliding windows: one every S tokens, each predicting its last S\n"
        "                     (default: chunked, each token predicted once, the context\n"
        "                     restarting every N-1 tokens)\n"
        "  --json             one JSON object on stdout\n"
        "  --threads N        (default: LG_THREADS or all CPUs)\n"
        "  -h, --help         this text\n");
}

int lg_cmd_eval(int argc, char **argv)
{
    enum { O_TEXT = 256, O_TOK, O_IDS, O_ADAPTER, O_WINDOW, O_STRIDE, O_JSON, O_THREADS, O_PACK,
           O_LANG, O_SCRIPT };
    static const struct option longs[] = {
        {"text", required_argument, 0, O_TEXT}, {"tokenizer", required_argument, 0, O_TOK},
        {"ids", required_argument, 0, O_IDS}, {"adapter", required_argument, 0, O_ADAPTER},
        {"window", required_argument, 0, O_WINDOW}, {"stride", required_argument, 0, O_STRIDE},
        {"json", no_argument, 0, O_JSON}, {"threads", required_argument, 0, O_THREADS},
        {"pack", required_argument, 0, O_PACK}, {"lang", required_argument, 0, O_LANG},
        {"script", required_argument, 0, O_SCRIPT},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *text = NULL, *tok = NULL, *ids = NULL, *adapter = NULL, *pack = NULL;
    const char *lang = NULL, *script = NULL;
    char pack_tok[4096];
    int window = 0, stride = 0, json = 0, threads = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case O_TEXT: text = optarg; break;
        case O_TOK: tok = optarg; break;
        case O_IDS: ids = optarg; break;
        case O_ADAPTER: adapter = optarg; break;
        case O_PACK: pack = optarg; break;
        case O_LANG: lang = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_WINDOW: window = atoi(optarg); break;
        case O_STRIDE: stride = atoi(optarg); break;
        case O_JSON: json = 1; break;
        case O_THREADS: threads = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!tok && pack && lg_pack_tokenizer_path(pack, pack_tok))
        tok = pack_tok;
    if (optind + 1 != argc || !text == !ids || (text && !tok)) {
        fprintf(stderr, "lm eval: give MODEL_DIR and either --text with --tokenizer or --ids\n");
        usage(stderr);
        return 2;
    }
    const char *dir = argv[optind];
    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
    lg_model *m = NULL;
    lg_tokenizer *spm = NULL;
    lg_dataset *ds = NULL;
    if (!(m = lg_model_open(dir, pack, &err)))
        goto fail;
    if (adapter && !lg_lora_load_peft(m, adapter, &err))
        goto fail;
    /* forward for the loss only: one layer's activations, logits in chunks */
    lg_model_set_loss_only(m, 0);
    if ((lang || script) && lg_model_tag_codes(m, lang, script, pack ? pack : dir, &err) < 0)
        goto fail;
    const lg_config *cfg = &m->cfg;
    if (window <= 0)
        window = cfg->max_position_embeddings > 0 && cfg->max_position_embeddings < 1024
                     ? cfg->max_position_embeddings : 1024;
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
    return 0;
fail:
    lg_error_print("lm eval", &err);
    lg_dataset_free(ds);
    lg_tokenizer_free(spm);
    if (m)
        lg_model_free(m);
    return 1;
}
