/* `lm generate`: a prompt → its continuation, sampled token by token over a KV cache. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_generate.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_pack.h"
#include "lg_langsamp.h"
#include "lg_spm.h"

#define PROG "lm generate"

/* The whole of FILE ('-' = stdin) as a NUL-terminated string, one final newline dropped. */
static char *read_prompt_file(const char *path, lg_error *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - 1 - len, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int failed = !buf || ferror(f);
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(buf);
        lg_fail(err, "%s: cannot read", path);
        return NULL;
    }
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = 0;
    return buf;
}

/* "1 15, 27" → ids; *n their count. */
static int32_t *parse_ids(const char *text, int V, int *n, lg_error *err)
{
    size_t cap = strlen(text) / 2 + 1;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) {
        lg_fail(err, "out of memory");
        return NULL;
    }
    *n = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end && !strchr(" ,\t\r\n", *end))) {
            free(ids);
            lg_fail(err, "prompt: '%.20s' is not a token id (--ids takes ids like \"1 15 27\")", p);
            return NULL;
        }
        if (v < 0 || v >= V) {
            free(ids);
            lg_fail(err, "prompt: token id %ld is outside the vocabulary (%d)", v, V);
            return NULL;
        }
        ids[(*n)++] = (int32_t)v;
        p = end;
    }
    return ids;
}

/* Writes one token's text as SentencePiece's decoder would, without allocating: "▁" is a
 * space, <0xAB> byte pieces are that byte, control tokens print nothing. Unlike decoding a
 * whole text it keeps a leading space, which a continuation needs. */
static void print_spm_piece(const lg_spm *spm, int id, int first_of_text, FILE *out)
{
    if (id >= lg_spm_vocab_size(spm))
        return; /* a model row the tokenizer does not use */
    enum lg_spm_type type = lg_spm_type(spm, id);
    const char *piece = lg_spm_id_to_piece(spm, id);
    unsigned byte;
    if (type == LG_SPM_CONTROL || type == LG_SPM_UNUSED)
        return;
    if (type == LG_SPM_UNKNOWN) {
        fputs(" \xE2\x81\x87 ", out); /* SentencePiece's default unk surface " ⁇ " */
        return;
    }
    if (type == LG_SPM_BYTE && sscanf(piece, "<0x%2X>", &byte) == 1) {
        fputc((int)byte, out);
        return;
    }
    for (const char *p = piece; *p;) {
        if (!strncmp(p, "\xE2\x96\x81", 3)) {
            if (!(first_of_text && p == piece))
                fputc(' ', out);
            p += 3;
        } else {
            fputc(*p++, out);
        }
    }
}

/* The same for any tokenizer: its piece's text (lg_piece_text: word marks as spaces, byte
 * pieces as bytes; the byte-level alphabet as its bytes); bos/eos/pad print nothing, nor
 * does an added piece the spelling cannot read. A word-mark tokenizer's first space of a
 * text is its dummy prefix. */
static void print_piece(const lg_tokenizer *t, const lg_piece_spelling *sp, int id,
                        int first_of_text, FILE *out)
{
    const lg_spm *spm = lg_tokenizer_spm(t);
    if (spm) {
        print_spm_piece(spm, id, first_of_text, out);
        return;
    }
    if (id >= t->ops->vocab_size(t) || id == t->ops->bos_id(t) || id == t->ops->eos_id(t) ||
        id == t->ops->pad_id(t))
        return;
    char buf[1024];
    long n = lg_piece_text(sp, t, id, buf, sizeof buf);
    if (n <= 0)
        return;
    const char *p = buf;
    if (first_of_text && !sp->byte_level && *p == ' ')
        p++, n--;
    fwrite(p, 1, (size_t)n, out);
}

typedef struct {
    const char *model, *tokenizer, *adapter, *prompt, *prompt_file, *pack, *lang, *script;
    long max_new;
    int threads;
    lg_sampling sampling;
    uint64_t seed;
    int ids_mode, no_bos, verbose;
} options;

/* Everything loaded and allocated for one run; freed by release(). */
typedef struct {
    lg_model *m;
    lg_tokenizer *spm;
    lg_piece_spelling spelling;
    lg_token_ids enc;
    char *prompt_text;
    int32_t *prompt;
    int n_prompt;
    int no_text;        /* the prompt holds no text (BOS alone) */
    lg_infer *infer;
    lg_sampler *sampler;
} run_state;

static void release(run_state *r)
{
    lg_sampler_free(r->sampler);
    lg_infer_free(r->infer);
    free(r->prompt);
    free(r->prompt_text);
    lg_token_ids_free(&r->enc);
    lg_tokenizer_free(r->spm);
    lg_model_free(r->m);
}

/* The prompt's token ids into r->prompt / r->n_prompt, checked against the model's size
 * before its weights are loaded. */
static int prepare_prompt(const options *o, const lg_config *c, run_state *r, lg_error *err)
{
    const char *text = o->prompt;
    if (o->prompt_file) {
        if (!(r->prompt_text = read_prompt_file(o->prompt_file, err)))
            return -1;
        text = r->prompt_text;
    }
    if (o->ids_mode) {
        if (!(r->prompt = parse_ids(text, c->vocab_size, &r->n_prompt, err)))
            return -1;
    } else {
        if (r->spm->ops->encode(r->spm, text, strlen(text), &r->enc, err) < 0)
            return lg_fail_context(err, "%s", o->prompt_file ? o->prompt_file : "--prompt");
        int bos = c->bos_token_id >= 0 ? c->bos_token_id : r->spm->ops->bos_id(r->spm);
        int add_bos = !o->no_bos && bos >= 0;
        r->prompt = malloc(((size_t)r->enc.n + 1) * sizeof *r->prompt);
        if (!r->prompt)
            return lg_fail(err, "out of memory");
        if (add_bos)
            r->prompt[r->n_prompt++] = bos;
        for (size_t i = 0; i < r->enc.n; i++)
            r->prompt[r->n_prompt++] = r->enc.ids[i];
        r->no_text = r->enc.n == 0;
    }
    if (r->n_prompt == 0)
        return lg_fail(err, "the prompt is empty (no tokens to continue)");
    long total = r->n_prompt + o->max_new;
    if ((c->max_position_embeddings > 0 && total > c->max_position_embeddings) ||
        total > INT_MAX)
        return lg_fail(err, "prompt of %d tokens + --max-new %ld = %ld positions exceed the "
                            "model's maximum of %d (max_position_embeddings)",
                       r->n_prompt, o->max_new, total, c->max_position_embeddings);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int lg_cmd_generate(int argc, char **argv)
{
    options o = {.max_new = 64, .sampling = {0.8f, 0, 0.95f}};
    lg_opt opts[] = {
        {LG_INPUT(&o.model), .name = "model", .short_name = 'm', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "Hugging Face model directory (llama, mistral,\nqwen2)"},
        {LG_INPUT(&o.tokenizer), .name = "tokenizer", .short_name = 'k', .arg = "FILE",
         .def = "the pack's",
         .help = ".model or tokenizer.json for encoding the\nprompt and decoding"},
        {LG_INPUT(&o.adapter), .name = "adapter", .short_name = 'a', .arg = "DIR",
         .help = "PEFT LoRA adapter, merged into the model"},
        {LG_INPUT(&o.pack), .name = "pack", .arg = "PACK",
         .help = "a language pack over the model (its adapter\nis merged)"},
        {LG_STRING(&o.lang), .name = "lang", .arg = "CODE",
         .help = "LangSAMP: add this language's vector (from the\npack) and"},
        {LG_STRING(&o.script), .name = "script", .arg = "CODE",
         .help = "this script's; without them the model runs\nuntagged"},
        {LG_STRING(&o.prompt), .name = "prompt", .short_name = 'p', .arg = "TEXT",
         .help = "the prompt"},
        {LG_INPUT(&o.prompt_file), .name = "prompt-file", .flags = LG_OPT_STDIO, .arg = "FILE",
         .help = "the prompt from a file ('-' = stdin; a final\nnewline dropped)"},
        {LG_FLAG(&o.ids_mode), .name = "ids",
         .help = "the prompt is token ids (\"1 15 27\") and ids\nare printed; no tokenizer "
                 "needed, no BOS added"},
        {LG_FLAG(&o.no_bos), .name = "no-bos",
         .help = "no BOS token before the encoded prompt"},
        {LG_SECTION("sampling")},
        {LG_LONG(&o.max_new), .name = "max-new", .min = 1, .max = 1 << 30, .arg = "N",
         .help = "at most N new tokens; prompt + N must fit the\nmodel's "
                 "max_position_embeddings"},
        {LG_FLOAT(&o.sampling.temperature), .name = "temperature", .min = 0, .max = 100,
         .arg = "T", .help = "0 = greedy (argmax)"},
        {LG_INT(&o.sampling.top_k), .name = "top-k", .min = 0, .max = 1 << 30, .arg = "K",
         .help = "sample among the K most probable tokens\n(0 = off)"},
        {LG_FLOAT(&o.sampling.top_p), .name = "top-p", .min = 0, .max = 1,
         .flags = LG_OPT_MIN_OPEN, .arg = "P",
         .help = "nucleus: the smallest set with mass >= P\n(1 = off)"},
        {LG_U64(&o.seed), .name = "seed", .min = 0, .max = 1.8446744073709552e19, .arg = "S",
         .help = "random seed: same seed, threads, model → same\ntext"},
        {LG_INT(&o.threads), .name = "threads", .short_name = 't', .min = 1, .max = 4096,
         .arg = "N", .def = "LG_THREADS or all CPUs",
         .help = "threads (results repeat for a given count)"},
        {LG_FLAG(&o.verbose), .name = "verbose", .short_name = 'v', .help = "speed on stderr"},
        {0}};
    lg_cli cli = {.prog = "lm", .name = "generate", .opts = opts,
                  .usage = "--model DIR (--tokenizer FILE.model | --ids)\n"
                           "                   (--prompt TEXT | --prompt-file FILE) [options]",
                  .about = "Continues the prompt and prints the continuation (not the prompt) "
                           "as it is made.\nStops at the end-of-sequence token (the model's or "
                           "the tokenizer's) or after\n--max-new tokens."};
    int rc = lg_cli_parse(&cli, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!o.prompt == !o.prompt_file)
        return lg_cli_finish(&cli, lg_cli_usage(&cli, "give one of --prompt or --prompt-file"));
    char pack_tokenizer[4096];
    if (!o.tokenizer && o.pack && !o.ids_mode && lg_pack_tokenizer_path(o.pack, pack_tokenizer))
        o.tokenizer = pack_tokenizer;
    if (!o.tokenizer && !o.ids_mode)
        return lg_cli_finish(&cli, lg_cli_usage(&cli, "--tokenizer FILE.model is required (or "
                                                      "--ids for token ids)"));
    lg_set_threads(lg_cli_threads(o.threads));
    lg_error err;
    run_state r = {0};
    /* everything that can be refused is checked before the weights are read */
    lg_config cfg;
    const lg_config *c = &cfg;
    if (o.pack) {
        /* a pack brings its own vocabulary: its shapes are known only once loaded */
        /* float32: the pack's adapter, if it has one, is merged into the weights below */
        if (!(r.m = lg_model_open(o.model, o.pack, &err)))
            goto fail;
        cfg = r.m->cfg;
        cfg.eos_token_id = -1; /* the base's id means nothing in the pack's vocabulary */
    } else if (lg_config_load_dir(o.model, &cfg, &err) < 0)
        goto fail;
    if (!o.ids_mode) {
        if ((o.pack && lg_pack_check_tokenizer(o.pack, o.tokenizer, &err) < 0) ||
            !(r.spm = lg_tokenizer_load(o.tokenizer, &err)) ||
            lg_piece_spelling_init(&r.spelling, r.spm, &err) < 0)
            goto fail;
        if (r.spm->ops->vocab_size(r.spm) > c->vocab_size) {
            lg_fail(&err, "%s: %d pieces, but %s has only %d token embeddings", o.tokenizer,
                    r.spm->ops->vocab_size(r.spm), o.model, c->vocab_size);
            goto fail;
        }
    }
    if (prepare_prompt(&o, c, &r, &err) < 0)
        goto fail;
    if (!(r.sampler = lg_sampler_create(c->vocab_size, &o.sampling, o.seed, &err)))
        goto fail;
    /* frozen weights stay as stored, unless an adapter is merged into them below */
    if (!r.m && !(r.m = lg_model_load_dir_ex(
                      o.model, o.adapter ? 0 : LG_LOAD_STORED | LG_LOAD_STORED_VOCAB, &err)))
        goto fail;
    if (o.adapter && !lg_lora_load_peft(r.m, o.adapter, &err))
        goto fail;
    /* inference reads plain weights (a no-op without an adapter) */
    if (lg_lora_merge(r.m, &err) < 0)
        goto fail;
    if ((o.lang || o.script) &&
        lg_model_tag_codes(r.m, o.lang, o.script, o.pack ? o.pack : o.model, &err) < 0)
        goto fail;
    if (!(r.infer = lg_infer_create(r.m, r.n_prompt + (int)o.max_new, 0, &err)))
        goto fail;
    /* the model's eos (config.json: the first when it lists several) and the tokenizer's */
    int eos = c->eos_token_id, spm_eos = r.spm ? r.spm->ops->eos_id(r.spm) : -1;

    double t0 = now_s();
    const float *logits = lg_infer_forward(r.infer, r.prompt, r.n_prompt, NULL, &err);
    if (!logits)
        goto fail;
    double t1 = now_s();
    long made = 0;
    for (; made < o.max_new; made++) {
        int32_t tok = lg_sample(r.sampler, logits);
        if (tok < 0) {
            lg_fail(&err, "the logits are not finite numbers");
            goto fail;
        }
        if (tok == eos || tok == spm_eos)
            break;
        if (o.ids_mode)
            printf(made ? " %d" : "%d", tok);
        else
            print_piece(r.spm, &r.spelling, tok, r.no_text && made == 0, stdout); /* no leading space */
        if (fflush(stdout) != 0) { /* a full disk, a closed pipe: stop, not generate on */
            lg_fail(&err, "standard output: %s", strerror(errno));
            goto fail;
        }
        if (made + 1 < o.max_new && !(logits = lg_infer_forward(r.infer, &tok, 1, NULL, &err)))
            goto fail;
    }
    putchar('\n');
    double t2 = now_s();
    if (o.verbose)
        fprintf(stderr, PROG ": prompt %d tokens in %.3f s (%.1f tok/s); %ld new tokens in "
                        "%.3f s (%.1f tok/s)\n",
                r.n_prompt, t1 - t0, r.n_prompt / (t1 - t0), made, t2 - t1,
                made / (t2 - t1 > 0 ? t2 - t1 : 1e-9));
    release(&r);
    return lg_cli_finish(&cli, 0);
fail:
    lg_cli_fail(&cli, &err);
    release(&r);
    return lg_cli_finish(&cli, 1);
}
