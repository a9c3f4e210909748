/* `lm generate`: a prompt → its continuation, sampled token by token over a KV cache. */
#include <errno.h>
#include <getopt.h>
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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lm generate --model DIR (--tokenizer FILE.model | --ids)\n"
            "                   (--prompt TEXT | --prompt-file FILE) [options]\n"
            "Continues the prompt and prints the continuation (not the prompt) as it is made.\n"
            "Stops at the end-of-sequence token (the model's or the tokenizer's) or after\n"
            "--max-new tokens.\n"
            "\n"
            "  --model DIR          Hugging Face model directory (llama, mistral, qwen2)\n"
            "  --tokenizer FILE     SentencePiece .model for encoding the prompt and decoding\n"
            "  --adapter DIR        PEFT LoRA adapter, merged into the model before generating\n"
            "  --pack PACK          a language pack over the model (its tokenizer.model is the\n"
            "                       default --tokenizer; its adapter is merged)\n"
            "  --lang CODE          LangSAMP: add this language's vector (from the pack) and\n"
            "  --script CODE        this script's; without them the model runs untagged\n"
            "  --prompt TEXT        the prompt\n"
            "  --prompt-file FILE   the prompt from a file ('-' = stdin; a final newline dropped)\n"
            "  --ids                the prompt is token ids (\"1 15 27\") and ids are printed;\n"
            "                       no tokenizer needed, no BOS added\n"
            "  --no-bos             do not put the BOS token before the encoded prompt\n"
            "  --max-new N          at most N new tokens (default 64); prompt + N must fit\n"
            "                       the model's max_position_embeddings\n"
            "  --temperature T      0 = greedy (argmax); default 0.8\n"
            "  --top-k K            sample among the K most probable tokens (0 = off, default)\n"
            "  --top-p P            nucleus: the smallest set with mass >= P (default 0.95; 1 = off)\n"
            "  --seed S             random seed (default 0): same seed, threads, model → same text\n"
            "  --threads N          threads (default LG_THREADS or all CPUs)\n"
            "  --verbose            speed on stderr\n");
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, PROG ": --%s '%s': expected an integer in [%ld, %ld]\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_float(const char *opt, const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        fprintf(stderr, PROG ": --%s '%s': expected a number\n", opt, s);
        return -1;
    }
    *out = (float)v;
    return 0;
}

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
static void print_piece(const lg_spm *spm, int id, int first_of_text, FILE *out)
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

typedef struct {
    const char *model, *tokenizer, *adapter, *prompt, *prompt_file, *pack, *lang, *script;
    long max_new, threads;
    lg_sampling sampling;
    uint64_t seed;
    int ids_mode, no_bos, verbose;
} options;

static int parse_options(int argc, char **argv, options *o)
{
    enum { O_PROMPT_FILE = 256, O_MAX_NEW, O_TEMP, O_TOP_K, O_TOP_P, O_SEED, O_IDS, O_NO_BOS,
           O_PACK, O_LANG, O_SCRIPT };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"tokenizer", required_argument, NULL, 'k'},
        {"adapter", required_argument, NULL, 'a'},
        {"pack", required_argument, NULL, O_PACK},
        {"lang", required_argument, NULL, O_LANG},
        {"script", required_argument, NULL, O_SCRIPT},
        {"prompt", required_argument, NULL, 'p'},
        {"prompt-file", required_argument, NULL, O_PROMPT_FILE},
        {"max-new", required_argument, NULL, O_MAX_NEW},
        {"temperature", required_argument, NULL, O_TEMP},
        {"top-k", required_argument, NULL, O_TOP_K},
        {"top-p", required_argument, NULL, O_TOP_P},
        {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, 't'},
        {"ids", no_argument, NULL, O_IDS},
        {"no-bos", no_argument, NULL, O_NO_BOS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    *o = (options){.max_new = 64, .sampling = {0.8f, 0, 0.95f}};
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "m:k:a:p:t:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'k': o->tokenizer = optarg; break;
        case 'a': o->adapter = optarg; break;
        case O_PACK: o->pack = optarg; break;
        case O_LANG: o->lang = optarg; break;
        case O_SCRIPT: o->script = optarg; break;
        case 'p': o->prompt = optarg; break;
        case O_PROMPT_FILE: o->prompt_file = optarg; break;
        case O_MAX_NEW:
            if (parse_int("max-new", optarg, 1, 1L << 30, &o->max_new) < 0)
                return 2;
            break;
        case O_TEMP:
            if (parse_float("temperature", optarg, &o->sampling.temperature) < 0)
                return 2;
            break;
        case O_TOP_K:
            if (parse_int("top-k", optarg, 0, 1L << 30, &v) < 0)
                return 2;
            o->sampling.top_k = (int)v;
            break;
        case O_TOP_P:
            if (parse_float("top-p", optarg, &o->sampling.top_p) < 0)
                return 2;
            break;
        case O_SEED:
            if (parse_int("seed", optarg, 0, __LONG_MAX__, &v) < 0)
                return 2;
            o->seed = (uint64_t)v;
            break;
        case 't':
            if (parse_int("threads", optarg, 1, 4096, &o->threads) < 0)
                return 2;
            break;
        case O_IDS: o->ids_mode = 1; break;
        case O_NO_BOS: o->no_bos = 1; break;
        case 'v': o->verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->model || (!o->prompt == !o->prompt_file)) {
        fprintf(stderr, PROG ": --model and one of --prompt or --prompt-file are required\n");
        usage(stderr);
        return 2;
    }
    static char pack_tokenizer[4096];
    if (!o->tokenizer && o->pack && lg_pack_tokenizer_path(o->pack, pack_tokenizer))
        o->tokenizer = pack_tokenizer;
    if (!o->tokenizer && !o->ids_mode) {
        fprintf(stderr, PROG ": --tokenizer FILE.model is required (or --ids for token ids)\n");
        return 2;
    }
    return -1; /* go on */
}

/* Everything loaded and allocated for one run; freed by release(). */
typedef struct {
    lg_model *m;
    lg_spm *spm;
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
    lg_spm_free(r->spm);
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
        if (lg_spm_encode(r->spm, text, strlen(text), &r->enc, err) < 0)
            return lg_fail_context(err, "%s", o->prompt_file ? o->prompt_file : "--prompt");
        int bos = c->bos_token_id >= 0 ? c->bos_token_id : lg_spm_bos_id(r->spm);
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
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    lg_set_threads(lg_cli_threads((int)o.threads));
    lg_error err;
    run_state r = {0};
    /* everything that can be refused is checked before the weights are read */
    lg_config cfg;
    const lg_config *c = &cfg;
    if (o.pack) {
        /* a pack brings its own vocabulary: its shapes are known only once loaded */
        if (!(r.m = lg_model_open(o.model, o.pack, &err)))
            goto fail;
        cfg = r.m->cfg;
        cfg.eos_token_id = -1; /* the base's id means nothing in the pack's vocabulary */
    } else if (lg_config_load_dir(o.model, &cfg, &err) < 0)
        goto fail;
    if (!o.ids_mode) {
        if ((o.pack && lg_pack_check_tokenizer(o.pack, o.tokenizer, &err) < 0) ||
            !(r.spm = lg_spm_load(o.tokenizer, &err)))
            goto fail;
        if (lg_spm_vocab_size(r.spm) > c->vocab_size) {
            lg_fail(&err, "%s: %d pieces, but %s has only %d token embeddings", o.tokenizer,
                    lg_spm_vocab_size(r.spm), o.model, c->vocab_size);
            goto fail;
        }
    }
    if (prepare_prompt(&o, c, &r, &err) < 0)
        goto fail;
    if (!(r.sampler = lg_sampler_create(c->vocab_size, &o.sampling, o.seed, &err)))
        goto fail;
    if (!r.m && !(r.m = lg_model_load_dir(o.model, &err)))
        goto fail;
    if (o.adapter && !lg_lora_load_peft(r.m, o.adapter, &err))
        goto fail;
    lg_lora_merge(r.m); /* inference reads plain weights (a no-op without an adapter) */
    if ((o.lang || o.script) &&
        lg_model_tag_codes(r.m, o.lang, o.script, o.pack ? o.pack : o.model, &err) < 0)
        goto fail;
    if (!(r.infer = lg_infer_create(r.m, r.n_prompt + (int)o.max_new, 0, &err)))
        goto fail;
    /* the model's eos (config.json: the first when it lists several) and the tokenizer's */
    int eos = c->eos_token_id, spm_eos = r.spm ? lg_spm_eos_id(r.spm) : -1;

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
            print_piece(r.spm, tok, r.no_text && made == 0, stdout); /* no leading space */
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
    return 0;
fail:
    lg_error_print(PROG, &err);
    release(&r);
    return 1;
}
