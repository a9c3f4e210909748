/* `tokenize train --format hf-bpe`: a byte-level BPE tokenizer (Llama-3 / Qwen2 / GPT-2
 * style) trained on corpora and written as a Hugging Face tokenizer.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "hf_tokenizer.h"
#include "hf_train.h"
#include "lg_io.h"
#include "lg_progress.h"
#include "lg_text.h"
#include "tokenize_cmds.h"

#include <cJSON.h>

/* The normalizer and pre-tokenizer of the tokenizer.json at path (or DIR/tokenizer.json) as
 * JSON text ("null" when absent); the file must load as a tokenizer. */
static int like_components(const char *path, char **norm, char **pre, lg_error *err)
{
    char file[4200];
    struct stat st;
    snprintf(file, sizeof file, stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "%s/tokenizer.json"
                                                                            : "%s", path);
    lg_hf *h = lg_hf_load(file, err);
    if (!h)
        return -1;
    lg_hf_free(h);
    size_t len;
    char *text = lg_read_file(file, (size_t)1 << 30, &len, err);
    if (!text)
        return -1;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    if (!doc)
        return lg_fail(err, "%s: out of memory", file);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(doc, "normalizer");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "pre_tokenizer");
    *norm = n ? cJSON_PrintUnformatted(n) : strdup("null");
    *pre = p ? cJSON_PrintUnformatted(p) : strdup("null");
    cJSON_Delete(doc);
    if (!*norm || !*pre) {
        free(*norm);
        free(*pre);
        return lg_fail(err, "%s: out of memory", file);
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A comma-separated list split in place into v (at most cap entries); the count, or -1. */
static int split_list(char *s, const char **v, int cap)
{
    int n = 0;
    for (char *save = NULL, *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (n == cap)
            return -1;
        v[n++] = p;
    }
    return n;
}

/* Lines of spaces only carry nothing to learn (as SentencePiece training skips them). */
static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ')
            return 0;
    return 1;
}

static int write_in(const char *dir, const char *name, const char *text, lg_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return lg_fail(err, "%s: cannot write", name);
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, fp) != n || fputc('\n', fp) == EOF;
    if (fclose(fp) != 0 || bad)
        return lg_fail(err, "%s: write failed", name);
    return 0;
}

int tok_cmd_train_hf(int argc, char **argv)
{
    lg_hf_train_options o;
    lg_hf_train_defaults(&o);
    const char *output = NULL, *format = "hf-bpe", *specials_arg = NULL, *like = NULL;
    o.pre_tokenizer = o.normalizer = NULL; /* defaults below, unless --like */
    int replace = 0, no_add_bos = 0, add_eos = 0, no_bos = 0, no_eos = 0;
    lg_cli_list corpora = {0};
    lg_opt opts[] = {
        {LG_OUTDIR(&output), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "writes DIR/tokenizer.json and\nDIR/tokenizer_config.json"},
        {LG_CHOICE(&format), .name = "format", .choices = "sentencepiece|hf-bpe", .arg = "FORMAT",
         .help = "hf-bpe: a byte-level BPE tokenizer.json"},
        {LG_INT(&o.vocab_size), .name = "vocab-size", .short_name = 'v', .min = 1,
         .max = 1 << 24, .arg = "N",
         .help = "every id: 256 bytes, merged tokens, specials"},
        {LG_INT(&o.min_frequency), .name = "min-frequency", .min = 1, .max = 2147483647,
         .arg = "N", .help = "never merge a pair seen fewer times"},
        {LG_CHOICE(&o.pre_tokenizer), .name = "pre-tokenizer", .choices = "llama3|qwen2|gpt2",
         .def = "llama3", .arg = "NAME", .help = "Split regex + ByteLevel of Llama-3 or Qwen2/3,\n"
                                "or GPT-2's ByteLevel"},
        {LG_CHOICE(&o.normalizer), .name = "normalizer", .choices = "none|nfc|nfkc",
         .def = "none", .arg = "FORM",
         .help = "the file's normalizer (Llama-3: none, Qwen: nfc);\n"
                 "training text goes through it too"},
        {LG_INPUT(&like), .name = "like", .arg = "BASE",
         .help = "the normalizer and pre-tokenizer of BASE (a\n"
                 "byte-level tokenizer.json or its directory)"},
        {LG_STRING(&o.bos), .name = "bos", .arg = "TOKEN",
         .help = "the BOS special token"},
        {LG_FLAG(&no_bos), .name = "no-bos", .help = "no BOS token"},
        {LG_STRING(&o.eos), .name = "eos", .arg = "TOKEN",
         .help = "the EOS special token"},
        {LG_FLAG(&no_eos), .name = "no-eos", .help = "no EOS token"},
        {LG_STRING(&specials_arg), .name = "special-tokens", .arg = "A,B,...",
         .help = "more special tokens, ids after BOS and EOS"},
        {LG_FLAG(&no_add_bos), .name = "no-add-bos",
         .help = "the post-processor adds no BOS (default: it does)"},
        {LG_FLAG(&add_eos), .name = "add-eos", .help = "the post-processor adds EOS"},
        {LG_FLAG(&replace), .name = "replace-invalid",
         .help = "replace invalid UTF-8 by U+FFFD instead of failing"},
        {LG_INPUTS(&corpora), .name = "CORPUS", .flags = LG_OPT_REQUIRED | LG_OPT_STDIO,
         .help = "text, plain or gzip, one segment a line (- is stdin)"},
        {0}};
    lg_cli c = {.prog = "tokenize", .name = "train", .opts = opts,
                .usage = "--format hf-bpe -o DIR [options] CORPUS...",
                .about = "Trains a byte-level BPE tokenizer (as Llama-3 and Qwen: the ByteLevel byte\n"
                         "alphabet, the Split pre-tokenizer with their regex, a ByteLevel decoder)\n"
                         "on CORPUS files and writes DIR/tokenizer.json and tokenizer_config.json,\n"
                         "which lingraft and Hugging Face's tokenizers encode identically. Each\n"
                         "line is cleaned (invalid UTF-8 is an error, control characters removed,\n"
                         "lines of spaces only skipped) and read through the written file's own\n"
                         "normalizer and pre-tokenizer;\n"
                         "merges are learned from the word counts, the most frequent pair first\n"
                         "(ties: the smaller left id, then the smaller right id; ids 0-255 are the\n"
                         "bytes in GPT-2's order). Special tokens get the ids after the merged\n"
                         "tokens. The outputs are written only when training succeeded."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (like && (o.pre_tokenizer || o.normalizer))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--like takes BASE's pre-tokenizer and "
                                                  "normalizer: give neither --pre-tokenizer nor "
                                                  "--normalizer with it"));
    if (!o.pre_tokenizer)
        o.pre_tokenizer = "llama3";
    if (!o.normalizer)
        o.normalizer = "none";
    const char *specials[1024];
    char *spec_copy = NULL;
    if (specials_arg) {
        if (!(spec_copy = strdup(specials_arg)))
            return lg_cli_finish(&c, 1);
        int n = split_list(spec_copy, specials, 1022);
        if (n < 0) {
            free(spec_copy);
            return lg_cli_finish(&c, lg_cli_usage(&c, "--special-tokens: more than 1022 tokens"));
        }
        o.specials = specials;
        o.n_specials = n;
    }
    if (no_bos)
        o.bos = NULL;
    if (no_eos)
        o.eos = NULL;
    o.add_bos = !no_add_bos && o.bos;
    o.add_eos = add_eos;
    if (add_eos && !o.eos) {
        free(spec_copy);
        return lg_cli_finish(&c, lg_cli_usage(&c, "--add-eos: no EOS token (--no-eos)"));
    }
    const char *all[1024 + 2];
    int n_special = 0;
    if (o.bos)
        all[n_special++] = o.bos;
    if (o.eos)
        all[n_special++] = o.eos;
    for (int k = 0; k < o.n_specials; k++)
        all[n_special++] = specials[k];
    for (int k = 0; k < n_special; k++)
        for (int j = 0; j < k; j++)
            if (!strcmp(all[j], all[k])) {
                rc = lg_cli_usage(&c, "special token \"%.60s\" is given twice (--bos, --eos, "
                                      "--special-tokens)", all[k]);
                free(spec_copy);
                return lg_cli_finish(&c, rc);
            }
    if (o.vocab_size < 256 + n_special) {
        free(spec_copy);
        return lg_cli_finish(&c, lg_cli_usage(&c, "--vocab-size: %d is smaller than the byte "
                                                  "alphabet (256) plus %d special token%s",
                                              o.vocab_size, n_special, n_special == 1 ? "" : "s"));
    }

    lg_error err;
    double t0 = now_s();
    char *like_norm = NULL, *like_pre = NULL;
    if (like && like_components(like, &like_norm, &like_pre, &err) < 0) {
        free(spec_copy);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    o.normalizer_json = like_norm;
    o.pre_tokenizer_json = like_pre;
    lg_hf_trainer *tr = lg_hf_trainer_new(&o, &err);
    if (!tr) {
        if (like)
            lg_fail_context(&err, "--like %s", like);
        free(like_norm);
        free(like_pre);
        free(spec_copy);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    /* fail before a long training when the output cannot be written */
    lg_atomic_dir d = {0};
    if (lg_atomic_dir_begin(&d, output, LG_ATOMIC_DIR_CLEAR_STALE, &err) < 0) {
        lg_hf_trainer_free(tr);
        free(spec_copy);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    lg_text_cleaner *cl = lg_text_cleaner_new(LG_TEXT_NO_NORMALIZATION, replace, &err);
    int64_t lines = 0, bytes = 0;
    char *json = NULL, *config = NULL;
    lg_hf_train_stats st;
    lg_progress progress;
    lg_progress_start(&progress, "read", 0);
    rc = cl ? 0 : -1;
    for (int f = 0; rc == 0 && f < corpora.n; f++) {
        lg_corpus_reader *r = lg_corpus_open(corpora.v[f], &err);
        if (!r) {
            rc = -1;
            break;
        }
        const char *raw, *line;
        size_t raw_len, len;
        int got;
        while ((got = lg_corpus_next(r, &raw, &raw_len, &err)) > 0) {
            lines++;
            bytes += (int64_t)raw_len + 1;
            if (lg_text_clean(cl, raw, raw_len, &line, &len, &err) < 0 ||
                (!blank(line, len) && lg_hf_trainer_add(tr, line, len, &err) < 0)) {
                lg_fail_context(&err, "%s: line %lld", corpora.v[f],
                                (long long)lg_corpus_line_number(r));
                got = -1;
                break;
            }
            if ((lines & 0xffff) == 0)
                lg_progress_update(&progress, lines, "%lld lines", (long long)lines);
        }
        if (got < 0)
            rc = -1;
        lg_corpus_close(r);
    }
    lg_progress_finish(&progress);
    double t_read = now_s() - t0;
    if (rc == 0 && (rc = lg_hf_trainer_train(tr, &json, &config, &st, &err)) < 0)
        lg_fail_context(&err, "%s", corpora.n == 1 ? corpora.v[0] : "the corpora");
    if (rc == 0 && (write_in(d.tmp, "tokenizer.json", json, &err) < 0 ||
                    write_in(d.tmp, "tokenizer_config.json", config, &err) < 0))
        rc = lg_fail_context(&err, "%s", output);
    /* the file as written must load */
    if (rc == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/tokenizer.json", d.tmp);
        lg_hf *back = lg_hf_load(path, &err);
        if (!back)
            rc = -1;
        else if (lg_hf_vocab_size(back) != st.vocab_size)
            rc = lg_fail(&err, "%s/tokenizer.json: reads back with %d ids, not %d", output,
                         lg_hf_vocab_size(back), st.vocab_size);
        lg_hf_free(back);
    }
    if (rc == 0)
        rc = lg_atomic_dir_commit(&d, &err);
    else
        lg_atomic_dir_abort(&d);
    free(json);
    free(config);
    lg_text_cleaner_free(cl);
    lg_hf_trainer_free(tr);
    free(spec_copy);
    free(like_norm);
    free(like_pre);
    if (rc < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "tokenize train: %s/tokenizer.json: %d ids (256 bytes, %d merged tokens, "
            "%d special), %d merges; %s%s%s%s\n",
            output, st.vocab_size, st.model_vocab - 256, st.vocab_size - st.model_vocab,
            st.merges, like ? "the pre-tokenizer and normalizer of " : "pre-tokenizer ",
            like ? like : o.pre_tokenizer, like ? "" : ", normalizer ", like ? "" : o.normalizer);
    if (st.vocab_size < o.vocab_size)
        fprintf(stderr, "tokenize train: note: %d ids, fewer than --vocab-size %d: no pair is seen "
                "%d times or more after that\n", st.vocab_size, o.vocab_size, o.min_frequency);
    fprintf(stderr, "tokenize train: %lld lines (%.1f MB), %lld words (%lld distinct); last merge "
            "seen %lld times; %.2f tokens per word and %.2f characters per token on the "
            "training words\n", (long long)lines, (double)bytes / 1e6, (long long)st.words,
            (long long)st.unique_words, (long long)st.last_count,
            tok_ratio(st.tokens, st.words), tok_ratio(st.chars, st.tokens));
    fprintf(stderr, "tokenize train: %.1f s (reading %.1f s, %.1f MB/s; merges %.1f s), peak "
            "RSS %.0f MB\n", secs, t_read, t_read > 0 ? (double)bytes / 1e6 / t_read : 0.0,
            secs - t_read, (double)ru.ru_maxrss / 1024.0);
    return lg_cli_finish(&c, 0);
}
