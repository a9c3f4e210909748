/* tokenize — SentencePiece tokenizers for a target language: train, encode, decode,
 * stats, extend.  `tokenize COMMAND --help` describes each command. */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_error.h"
#include "lg_progress.h"
#include "lg_spm.h"
#include "lg_text.h"
#include "spm_proto.h"
#include "token_stats.h"

static const char *const PROG = "tokenize";

static void usage(FILE *f)
{
    fputs("usage: tokenize COMMAND [options]\n"
          "  train   train a SentencePiece model (unigram or BPE) on a corpus\n"
          "  encode  text lines -> pieces or ids (as spm_encode)\n"
          "  decode  pieces or ids -> text lines (as spm_decode)\n"
          "  stats   fertility, characters per token, unknown/byte shares, scripts\n"
          "  extend  append a target model's new pieces to a base model\n"
          "`tokenize COMMAND --help` shows the options of a command.\n",
          f);
}

static int fail(const lg_error *err)
{
    lg_error_print(PROG, err);
    return 1;
}

static int bad_usage(const char *cmd, const char *what)
{
    fprintf(stderr, "%s %s: %s (see --help)\n", PROG, cmd, what);
    return 1;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Writes bytes to path through a temporary file; nothing under path on failure. */
static int write_file(const char *path, const void *data, size_t len, lg_error *err)
{
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    if (fwrite(data, 1, len, af.fp) != len) {
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: write failed: %s", path, strerror(errno));
    }
    return lg_atomic_commit(&af, err);
}

/* NAME.vocab: "piece<TAB>score" per id, as spm_train writes it. */
static int write_vocab(const char *path, const lg_spm *m, lg_error *err)
{
    lg_atomic_file af;
    if (lg_atomic_open(&af, path, err) < 0)
        return -1;
    for (int id = 0; id < lg_spm_vocab_size(m); id++)
        fprintf(af.fp, "%s\t%g\n", lg_spm_id_to_piece(m, id), (double)lg_spm_score(m, id));
    if (ferror(af.fp)) {
        lg_atomic_abort(&af);
        return lg_fail(err, "%s: write failed", path);
    }
    return lg_atomic_commit(&af, err);
}

/* Writes PREFIX.model and PREFIX.vocab from serialized bytes, after loading them back. */
static int write_model(const char *prefix, const uint8_t *bytes, size_t len, lg_error *err)
{
    char model_path[4096], vocab_path[4096];
    snprintf(model_path, sizeof model_path, "%s.model", prefix);
    snprintf(vocab_path, sizeof vocab_path, "%s.vocab", prefix);
    lg_spm *m = lg_spm_load_serialized(bytes, len, model_path, err);
    if (!m)
        return -1;
    int rc = write_vocab(vocab_path, m, err);
    if (rc == 0)
        rc = write_file(model_path, bytes, len, err);
    if (rc < 0)
        remove(vocab_path);
    lg_spm_free(m);
    return rc;
}

/* "out.model" -> "out"; other names unchanged. */
static void strip_model_suffix(const char *path, char *prefix, size_t size)
{
    snprintf(prefix, size, "%s", path);
    size_t n = strlen(prefix);
    if (n > 6 && strcmp(prefix + n - 6, ".model") == 0)
        prefix[n - 6] = '\0';
}

/* ---- train ------------------------------------------------------------------- */

typedef struct {
    char **paths;
    int n_paths, current;
    lg_corpus_reader *reader;
    lg_text_cleaner *cleaner;
    lg_progress progress;
    int64_t lines_read, lines_given;
} train_feed;

static int feed_next(void *ctx, const char **line, size_t *len, lg_error *err)
{
    train_feed *f = ctx;
    for (;;) {
        if (!f->reader) {
            if (f->current == f->n_paths)
                return 0;
            f->reader = lg_corpus_open(f->paths[f->current++], err);
            if (!f->reader)
                return -1;
        }
        const char *raw;
        size_t raw_len;
        int rc = lg_corpus_next(f->reader, &raw, &raw_len, err);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            lg_corpus_close(f->reader);
            f->reader = NULL;
            continue;
        }
        f->lines_read++;
        if (lg_text_clean(f->cleaner, raw, raw_len, line, len, err) < 0)
            return lg_fail_context(err, "%s: line %lld", lg_corpus_path(f->reader),
                                   (long long)lg_corpus_line_number(f->reader));
        if ((f->lines_read & 0xfff) == 0)
            lg_progress_update(&f->progress, f->lines_read, "%lld lines kept",
                               (long long)f->lines_given);
        /* Whitespace-only lines carry nothing to learn. */
        size_t k = 0;
        while (k < *len && (*line)[k] == ' ')
            k++;
        if (k == *len)
            continue;
        f->lines_given++;
        return 1;
    }
}

static void train_usage(FILE *f)
{
    fputs("usage: tokenize train [options] -o NAME CORPUS...\n"
          "Trains a SentencePiece model on CORPUS files (plain or gzip, - for stdin), one\n"
          "segment a line, and writes NAME.model and NAME.vocab.  Every line is cleaned\n"
          "(invalid UTF-8 is an error, control characters removed) and normalised with ICU\n"
          "(NFKC, or NFC with --nfc) before SentencePiece sees it.\n"
          "  -o, --output NAME           output prefix (required)\n"
          "  -t, --model-type TYPE       unigram (default) or bpe\n"
          "  -v, --vocab-size N          vocabulary size (default 8000)\n"
          "  -c, --character-coverage F  share of characters covered (default 0.9995)\n"
          "      --byte-fallback         unknown characters become UTF-8 byte pieces\n"
          "      --split-digits          every digit its own piece\n"
          "      --user-symbols A,B,...  pieces that are always kept whole\n"
          "      --nfc                   NFC instead of NFKC (the model then normalises\n"
          "                              nothing itself: rule 'identity')\n"
          "      --replace-invalid       replace invalid UTF-8 by U+FFFD instead of failing\n"
          "      --sample N              train on a sample of N lines (default 2000000, which\n"
          "                              bounds the trainer's memory; 0 = every line)\n"
          "      --no-shuffle            with --sample, take the first N lines\n"
          "      --max-sentence-length N skip lines longer than N bytes (default 4192)\n"
          "      --threads N             trainer threads (default 1)\n"
          "      --seed N                seed for sampling\n"
          "      --verbose               show SentencePiece's own log\n"
          "  -h, --help\n",
          f);
}

static int cmd_train(int argc, char **argv)
{
    enum { O_BYTE = 256, O_DIGITS, O_USER, O_NFC, O_REPLACE, O_SAMPLE, O_NOSHUF, O_MAXLEN,
           O_THREADS, O_SEED, O_VERBOSE };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},      {"model-type", required_argument, 0, 't'},
        {"vocab-size", required_argument, 0, 'v'},  {"character-coverage", required_argument, 0, 'c'},
        {"byte-fallback", no_argument, 0, O_BYTE},  {"split-digits", no_argument, 0, O_DIGITS},
        {"user-symbols", required_argument, 0, O_USER}, {"nfc", no_argument, 0, O_NFC},
        {"replace-invalid", no_argument, 0, O_REPLACE}, {"sample", required_argument, 0, O_SAMPLE},
        {"no-shuffle", no_argument, 0, O_NOSHUF},   {"max-sentence-length", required_argument, 0, O_MAXLEN},
        {"threads", required_argument, 0, O_THREADS}, {"seed", required_argument, 0, O_SEED},
        {"verbose", no_argument, 0, O_VERBOSE},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    /* SentencePiece keeps every training line in memory: sample big corpora by default. */
    opt.input_sentence_size = 2000000;
    const char *output = NULL;
    int nfc = 0, replace = 0, c;
    long v;
    while ((c = getopt_long(argc, argv, "o:t:v:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 't':
            if (strcmp(optarg, "unigram") && strcmp(optarg, "bpe"))
                return bad_usage("train", "--model-type must be unigram or bpe");
            opt.model_type = optarg;
            break;
        case 'v':
            if (parse_int(optarg, 2, 10000000, &v) < 0)
                return bad_usage("train", "--vocab-size needs a number >= 2");
            opt.vocab_size = (int)v;
            break;
        case 'c': {
            char *end;
            opt.character_coverage = strtod(optarg, &end);
            if (*end || end == optarg || opt.character_coverage <= 0 || opt.character_coverage > 1)
                return bad_usage("train", "--character-coverage needs a number in (0, 1]");
            break;
        }
        case O_BYTE: opt.byte_fallback = 1; break;
        case O_DIGITS: opt.split_digits = 1; break;
        case O_USER: opt.user_defined_symbols = optarg; break;
        case O_NFC: nfc = 1; break;
        case O_REPLACE: replace = 1; break;
        case O_SAMPLE:
            if (parse_int(optarg, 0, 2000000000L, &v) < 0)
                return bad_usage("train", "--sample needs a number >= 0");
            opt.input_sentence_size = v;
            break;
        case O_NOSHUF: opt.shuffle_input_sentence = 0; break;
        case O_MAXLEN:
            if (parse_int(optarg, 1, 1000000000L, &v) < 0)
                return bad_usage("train", "--max-sentence-length needs a positive number");
            opt.max_sentence_length = (int)v;
            break;
        case O_THREADS:
            if (parse_int(optarg, 1, 1024, &v) < 0)
                return bad_usage("train", "--threads needs a positive number");
            opt.num_threads = (int)v;
            break;
        case O_SEED:
            if (parse_int(optarg, 1, 2000000000L, &v) < 0)
                return bad_usage("train", "--seed needs a positive number");
            opt.seed = (int)v;
            break;
        case O_VERBOSE: opt.verbose = 1; break;
        case 'h': train_usage(stdout); return 0;
        default: train_usage(stderr); return 1;
        }
    }
    if (!output)
        return bad_usage("train", "missing -o NAME");
    if (optind >= argc)
        return bad_usage("train", "missing CORPUS");
    opt.normalization_rule = nfc ? "identity" : "nmt_nfkc";

    lg_error err;
    /* Fail before a long training when the outputs cannot be written. */
    char probe_path[4200];
    snprintf(probe_path, sizeof probe_path, "%s.model", output);
    lg_atomic_file probe;
    if (lg_atomic_open(&probe, probe_path, &err) < 0)
        return fail(&err);
    lg_atomic_abort(&probe);
    train_feed feed = {.paths = argv + optind, .n_paths = argc - optind};
    feed.cleaner = lg_text_cleaner_new(nfc ? LG_TEXT_NFC : LG_TEXT_NFKC, replace, &err);
    if (!feed.cleaner)
        return fail(&err);
    lg_progress_start(&feed.progress, "read", 0);
    uint8_t *model = NULL;
    size_t model_len = 0;
    const char *name = feed.n_paths == 1 ? feed.paths[0] : "corpus";
    int rc = lg_spm_train(&opt, feed_next, &feed, name, &model, &model_len, &err);
    lg_progress_finish(&feed.progress);
    if (feed.reader)
        lg_corpus_close(feed.reader);
    lg_text_cleaner_free(feed.cleaner);
    if (rc == 0)
        rc = write_model(output, model, model_len, &err);
    free(model);
    if (rc < 0)
        return fail(&err);
    fprintf(stderr, "%s: %s.model and %s.vocab: %d pieces (%s); %lld lines read, %lld not blank",
            PROG, output, output, opt.vocab_size, opt.model_type, (long long)feed.lines_read,
            (long long)feed.lines_given);
    if (opt.input_sentence_size > 0 && opt.input_sentence_size < feed.lines_given)
        fprintf(stderr, ", %s %lld of them trained on", opt.shuffle_input_sentence ? "a sample of"
                                                                                   : "the first",
                (long long)opt.input_sentence_size);
    fputc('\n', stderr);
    return 0;
}

/* ---- encode / decode --------------------------------------------------------- */

static void codec_usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "usage: tokenize %s -m MODEL [--ids|--pieces] [INPUT]\n"
            "%s one line at a time from INPUT (default -, stdin; gzip read too) to stdout,\n"
            "exactly as `spm_%s --model MODEL --%s_format=id|piece` does (no ICU step:\n"
            "the model's own normaliser applies).\n"
            "  -m, --model MODEL   the .model file\n"
            "      --ids           ids (default: pieces)\n"
            "      --pieces        pieces\n"
            "  -h, --help\n",
            cmd, strcmp(cmd, "encode") ? "Decodes space-separated pieces or ids" : "Encodes text",
            cmd, strcmp(cmd, "encode") ? "input" : "output");
}

static int cmd_codec(int argc, char **argv, int encode)
{
    const char *cmd = encode ? "encode" : "decode";
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"ids", no_argument, 0, 'i'},
                                         {"pieces", no_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model_path = NULL;
    int ids_mode = 0, c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'i': ids_mode = 1; break;
        case 'p': ids_mode = 0; break;
        case 'h': codec_usage(stdout, cmd); return 0;
        default: codec_usage(stderr, cmd); return 1;
        }
    }
    if (!model_path)
        return bad_usage(cmd, "missing -m MODEL");
    if (argc - optind > 1)
        return bad_usage(cmd, "at most one INPUT");
    const char *input = optind < argc ? argv[optind] : "-";
    lg_error err;
    lg_spm *m = lg_spm_load(model_path, &err);
    if (!m)
        return fail(&err);
    lg_corpus_reader *r = lg_corpus_open(input, &err);
    if (!r) {
        lg_spm_free(m);
        return fail(&err);
    }
    lg_token_ids ids = {0};
    lg_spm_pieces pieces = {0};
    const char **piece_ptrs = NULL;
    size_t piece_cap = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = lg_corpus_next(r, &line, &len, &err)) > 0) {
        if (encode && ids_mode) {
            if ((rc = lg_spm_encode(m, line, len, &ids, &err)) < 0) {
                lg_fail_context(&err, "%s: line %lld", input, (long long)lg_corpus_line_number(r));
                break;
            }
            for (size_t i = 0; i < ids.n; i++)
                printf(i ? " %d" : "%d", ids.ids[i]);
        } else if (encode) {
            if ((rc = lg_spm_encode_pieces(m, line, len, &pieces, &err)) < 0) {
                lg_fail_context(&err, "%s: line %lld", input, (long long)lg_corpus_line_number(r));
                break;
            }
            const char *p = pieces.data;
            for (size_t i = 0; i < pieces.n; p += strlen(p) + 1, i++)
                printf(i ? " %s" : "%s", p);
        } else {
            /* Split the line on spaces in place (it is ours until the next call). */
            char *s = (char *)line;
            size_t n = 0;
            ids.n = 0;
            for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) {
                if (n == piece_cap) {
                    piece_cap = piece_cap ? 2 * piece_cap : 64;
                    const char **grown = realloc(piece_ptrs, piece_cap * sizeof *grown);
                    int *grown_ids = realloc(ids.ids, piece_cap * sizeof *grown_ids);
                    if (grown)
                        piece_ptrs = grown;
                    if (grown_ids)
                        ids.ids = grown_ids;
                    if (!grown || !grown_ids) {
                        rc = lg_fail(&err, "%s: out of memory", input);
                        break;
                    }
                }
                piece_ptrs[n] = tok;
                if (ids_mode) {
                    long v;
                    if (parse_int(tok, 0, lg_spm_vocab_size(m) - 1, &v) < 0) {
                        rc = lg_fail(&err, "%s: line %lld: '%s' is not an id of %s (0..%d)",
                                     input, (long long)lg_corpus_line_number(r), tok,
                                     model_path, lg_spm_vocab_size(m) - 1);
                        break;
                    }
                    ids.ids[n] = (int)v;
                }
                n++;
            }
            if (rc < 0)
                break;
            char *text = ids_mode ? lg_spm_decode(m, ids.ids, n, &err)
                                  : lg_spm_decode_pieces(m, piece_ptrs, n, &err);
            if (!text) {
                rc = -1;
                break;
            }
            fputs(text, stdout);
            free(text);
        }
        putchar('\n');
    }
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = lg_fail(&err, "stdout: write failed");
    lg_corpus_close(r);
    lg_token_ids_free(&ids);
    lg_spm_pieces_free(&pieces);
    free(piece_ptrs);
    lg_spm_free(m);
    return rc < 0 ? fail(&err) : 0;
}

/* ---- stats ------------------------------------------------------------------- */

static void stats_usage(FILE *f)
{
    fputs("usage: tokenize stats -m MODEL [-m MODEL...] [--json] TEXT...\n"
          "Encodes every line of TEXT (plain or gzip, - for stdin) with each model and shows,\n"
          "side by side: tokens, tokens per whitespace word (fertility), characters and\n"
          "bytes per token, share of unknown and byte-fallback tokens, vocabulary used;\n"
          "then the text's script histogram (ISO 15924) by character and by line (the\n"
          "script with most letters; Zyyy when none).  Invalid UTF-8 is an error.\n"
          "  -m, --model MODEL   a .model file (repeat to compare)\n"
          "      --json          one JSON object on stdout instead of the table\n"
          "  -h, --help\n",
          f);
}

static double ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : 0.0; }

static int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *models[64];
    int n_models = 0, json = 0, c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (n_models == 64)
                return bad_usage("stats", "at most 64 models");
            models[n_models++] = optarg;
            break;
        case 'j': json = 1; break;
        case 'h': stats_usage(stdout); return 0;
        default: stats_usage(stderr); return 1;
        }
    }
    if (n_models == 0)
        return bad_usage("stats", "missing -m MODEL");
    if (optind >= argc)
        return bad_usage("stats", "missing TEXT");

    lg_error err;
    int rc = 0, loaded = 0;
    lg_spm *spm[64] = {0};
    lg_token_stats st[64];
    int n_scripts = lg_text_script_count();
    int64_t *scripts = calloc((size_t)n_scripts, sizeof *scripts);
    int64_t *line_scripts = calloc((size_t)n_scripts, sizeof *line_scripts);
    if (!scripts || !line_scripts) {
        free(scripts);
        free(line_scripts);
        lg_fail(&err, "stats: out of memory");
        return fail(&err);
    }
    for (; loaded < n_models; loaded++) {
        spm[loaded] = lg_spm_load(models[loaded], &err);
        if (!spm[loaded] || lg_token_stats_init(&st[loaded], spm[loaded], &err) < 0) {
            lg_spm_free(spm[loaded]);
            rc = -1;
            break;
        }
    }
    for (int t = optind; rc == 0 && t < argc; t++) {
        lg_corpus_reader *r = lg_corpus_open(argv[t], &err);
        if (!r) {
            rc = -1;
            break;
        }
        const char *line;
        size_t len, bad;
        while (rc == 0 && (rc = lg_corpus_next(r, &line, &len, &err)) > 0) {
            rc = 0;
            if (!lg_utf8_valid(line, len, &bad)) {
                rc = lg_fail(&err, "%s: line %lld: invalid UTF-8 at byte %zu", argv[t],
                             (long long)lg_corpus_line_number(r), bad);
                break;
            }
            lg_text_script_histogram(line, len, scripts);
            line_scripts[lg_text_line_script(line, len)]++;
            for (int k = 0; k < n_models && rc == 0; k++)
                rc = lg_token_stats_add(&st[k], line, len, &err);
        }
        lg_corpus_close(r);
    }
    if (rc == 0 && st[0].lines == 0)
        rc = lg_fail(&err, "%s: no lines", argv[optind]);
    if (rc == 0) {
        int64_t letters = 0;
        for (int s = 0; s < n_scripts; s++)
            letters += scripts[s];
        const lg_token_stats *t0 = &st[0];
        if (json) {
            cJSON *root = cJSON_CreateObject(), *text = cJSON_AddObjectToObject(root, "text");
            cJSON_AddNumberToObject(text, "lines", (double)t0->lines);
            cJSON_AddNumberToObject(text, "words", (double)t0->words);
            cJSON_AddNumberToObject(text, "chars", (double)t0->chars);
            cJSON_AddNumberToObject(text, "bytes", (double)t0->bytes);
            cJSON *sc = cJSON_AddObjectToObject(text, "scripts");
            for (int s = 0; s < n_scripts; s++)
                if (scripts[s])
                    cJSON_AddNumberToObject(sc, lg_text_script_code(s), (double)scripts[s]);
            cJSON *ls = cJSON_AddObjectToObject(text, "line_scripts");
            for (int s = 0; s < n_scripts; s++)
                if (line_scripts[s])
                    cJSON_AddNumberToObject(ls, lg_text_script_code(s), (double)line_scripts[s]);
            cJSON *arr = cJSON_AddArrayToObject(root, "tokenizers");
            for (int k = 0; k < n_models; k++) {
                const lg_token_stats *s = &st[k];
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "model", models[k]);
                cJSON_AddNumberToObject(o, "vocab_size", lg_spm_vocab_size(spm[k]));
                cJSON_AddNumberToObject(o, "tokens", (double)s->tokens);
                cJSON_AddNumberToObject(o, "tokens_per_word", ratio(s->tokens, s->words));
                cJSON_AddNumberToObject(o, "chars_per_token", ratio(s->chars, s->tokens));
                cJSON_AddNumberToObject(o, "bytes_per_token", ratio(s->bytes, s->tokens));
                cJSON_AddNumberToObject(o, "unknown_share", ratio(s->unknown, s->tokens));
                cJSON_AddNumberToObject(o, "byte_fallback_share",
                                        ratio(s->byte_fallback, s->tokens));
                cJSON_AddNumberToObject(o, "vocab_used", (double)s->vocab_used);
                cJSON_AddNumberToObject(o, "vocab_used_share",
                                        ratio(s->vocab_used, lg_spm_vocab_size(spm[k])));
                cJSON_AddItemToArray(arr, o);
            }
            char *out = cJSON_Print(root);
            if (out)
                puts(out);
            free(out);
            cJSON_Delete(root);
        } else {
            printf("text: %lld lines, %lld words, %lld characters, %lld bytes\n",
                   (long long)t0->lines, (long long)t0->words, (long long)t0->chars,
                   (long long)t0->bytes);
            printf("%-28s %7s %10s %9s %9s %9s %7s %7s %12s\n", "tokenizer", "vocab", "tokens",
                   "tok/word", "char/tok", "byte/tok", "unk%", "byte%", "vocab used");
            for (int k = 0; k < n_models; k++) {
                const lg_token_stats *s = &st[k];
                printf("%-28s %7d %10lld %9.3f %9.3f %9.3f %7.3f %7.3f %6lld %4.1f%%\n",
                       models[k], lg_spm_vocab_size(spm[k]), (long long)s->tokens,
                       ratio(s->tokens, s->words), ratio(s->chars, s->tokens),
                       ratio(s->bytes, s->tokens), 100 * ratio(s->unknown, s->tokens),
                       100 * ratio(s->byte_fallback, s->tokens), (long long)s->vocab_used,
                       100 * ratio(s->vocab_used, lg_spm_vocab_size(spm[k])));
            }
            printf("scripts (non-space characters):");
            for (int s = 0; s < n_scripts; s++)
                if (scripts[s])
                    printf(" %s %.1f%%", lg_text_script_code(s), 100 * ratio(scripts[s], letters));
            printf("\nlines by main script:");
            for (int s = 0; s < n_scripts; s++)
                if (line_scripts[s])
                    printf(" %s %lld", lg_text_script_code(s), (long long)line_scripts[s]);
            putchar('\n');
        }
    }
    for (int k = 0; k < loaded; k++) {
        lg_token_stats_free(&st[k]);
        lg_spm_free(spm[k]);
    }
    free(scripts);
    free(line_scripts);
    return rc < 0 ? fail(&err) : 0;
}

/* ---- extend ------------------------------------------------------------------ */

static void extend_usage(FILE *f)
{
    fputs("usage: tokenize extend BASE.model TARGET.model -o MERGED.model [options]\n"
          "Appends the pieces of TARGET that BASE lacks (normal and user-defined ones) after\n"
          "BASE's last piece: every BASE id keeps its piece, score and type, and every other\n"
          "field of BASE's model is kept byte for byte.  Writes MERGED.model, MERGED.vocab\n"
          "and a TSV of the new ids (merged_id, piece, target_id, score).\n"
          "  -o, --output FILE     the merged .model (required)\n"
          "      --map FILE        the new-id TSV (default: MERGED.new-ids.tsv)\n"
          "      --score POLICY    below (default): new pieces score below every base piece,\n"
          "                        in the target's order; zero: score 0 (Chinese-LLaMA)\n"
          "      --measure TEXT    report the share of TEXT's lines that encode differently\n"
          "                        with MERGED than with BASE (e.g. English text)\n"
          "  -h, --help\n",
          f);
}

static int read_whole(const char *path, uint8_t **data, size_t *len, lg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lg_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return lg_fail(err, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return lg_fail(err, "%s: read error", path);
    }
    if (n == 0) {
        free(buf);
        return lg_fail(err, "%s: empty file, not a SentencePiece model", path);
    }
    *data = buf;
    *len = n;
    return 0;
}

/* Lines of text whose ids differ between two models; token totals too. */
static int measure_change(const lg_spm *a, const lg_spm *b, const char *path, lg_error *err)
{
    lg_corpus_reader *r = lg_corpus_open(path, err);
    if (!r)
        return -1;
    lg_token_ids ia = {0}, ib = {0};
    int64_t lines = 0, changed = 0, tokens_a = 0, tokens_b = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = lg_corpus_next(r, &line, &len, err)) > 0) {
        if (lg_spm_encode(a, line, len, &ia, err) < 0 || lg_spm_encode(b, line, len, &ib, err) < 0) {
            rc = -1;
            break;
        }
        lines++;
        tokens_a += (int64_t)ia.n;
        tokens_b += (int64_t)ib.n;
        if (ia.n != ib.n || (ia.n && memcmp(ia.ids, ib.ids, ia.n * sizeof *ia.ids)))
            changed++;
    }
    if (rc == 0)
        printf("%s: %lld of %lld lines (%.2f%%) encode differently; tokens %lld -> %lld\n",
               path, (long long)changed, (long long)lines, 100 * ratio(changed, lines),
               (long long)tokens_a, (long long)tokens_b);
    lg_token_ids_free(&ia);
    lg_token_ids_free(&ib);
    lg_corpus_close(r);
    return rc;
}

static int cmd_extend(int argc, char **argv)
{
    enum { O_MAP = 256, O_SCORE, O_MEASURE };
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"map", required_argument, 0, O_MAP},
                                         {"score", required_argument, 0, O_SCORE},
                                         {"measure", required_argument, 0, O_MEASURE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *output = NULL, *map_path = NULL, *measure = NULL;
    lg_spm_score_policy policy = LG_SPM_SCORE_BELOW;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case O_MAP: map_path = optarg; break;
        case O_SCORE:
            if (strcmp(optarg, "below") == 0)
                policy = LG_SPM_SCORE_BELOW;
            else if (strcmp(optarg, "zero") == 0)
                policy = LG_SPM_SCORE_ZERO;
            else
                return bad_usage("extend", "--score must be below or zero");
            break;
        case O_MEASURE: measure = optarg; break;
        case 'h': extend_usage(stdout); return 0;
        default: extend_usage(stderr); return 1;
        }
    }
    if (!output)
        return bad_usage("extend", "missing -o MERGED.model");
    if (argc - optind != 2)
        return bad_usage("extend", "needs BASE.model and TARGET.model");
    const char *base_path = argv[optind], *target_path = argv[optind + 1];
    char prefix[4096], default_map[4200];
    strip_model_suffix(output, prefix, sizeof prefix);
    snprintf(default_map, sizeof default_map, "%s.new-ids.tsv", prefix);
    if (!map_path)
        map_path = default_map;

    lg_error err;
    uint8_t *base = NULL, *target = NULL, *merged = NULL;
    size_t base_len, target_len, merged_len = 0, n_added = 0;
    int *target_ids = NULL, rc = -1;
    lg_spm *base_m = NULL, *target_m = NULL, *merged_m = NULL;
    lg_atomic_file map;
    map.fp = NULL;
    if (read_whole(base_path, &base, &base_len, &err) < 0 ||
        read_whole(target_path, &target, &target_len, &err) < 0)
        goto done;
    /* Both must be models SentencePiece accepts, not just parseable protobuf. */
    if (!(base_m = lg_spm_load_serialized(base, base_len, base_path, &err)) ||
        !(target_m = lg_spm_load_serialized(target, target_len, target_path, &err)))
        goto done;
    if (lg_spm_proto_extend(base, base_len, base_path, target, target_len, target_path, policy,
                            &merged, &merged_len, &target_ids, &n_added, &err) < 0)
        goto done;
    if (!(merged_m = lg_spm_load_serialized(merged, merged_len, output, &err)))
        goto done;
    /* The promise of extension: every base id unchanged, the new ones after them. */
    int base_n = lg_spm_vocab_size(base_m);
    if (lg_spm_vocab_size(merged_m) != base_n + (int)n_added) {
        lg_fail(&err, "%s: merged model has %d pieces, expected %d", output,
                lg_spm_vocab_size(merged_m), base_n + (int)n_added);
        goto done;
    }
    for (int id = 0; id < base_n; id++)
        if (strcmp(lg_spm_id_to_piece(base_m, id), lg_spm_id_to_piece(merged_m, id)) ||
            lg_spm_type(base_m, id) != lg_spm_type(merged_m, id)) {
            lg_fail(&err, "%s: id %d changed from '%s'", output, id,
                    lg_spm_id_to_piece(base_m, id));
            goto done;
        }
    if (lg_atomic_open(&map, map_path, &err) < 0) {
        map.fp = NULL;
        goto done;
    }
    fprintf(map.fp, "merged_id\tpiece\ttarget_id\tscore\n");
    for (size_t k = 0; k < n_added; k++) {
        int id = base_n + (int)k;
        fprintf(map.fp, "%d\t%s\t%d\t%g\n", id, lg_spm_id_to_piece(merged_m, id), target_ids[k],
                (double)lg_spm_score(merged_m, id));
    }
    if (ferror(map.fp)) {
        lg_fail(&err, "%s: write failed", map_path);
        goto done;
    }
    if (write_model(prefix, merged, merged_len, &err) < 0)
        goto done;
    if (lg_atomic_commit(&map, &err) < 0) {
        map.fp = NULL;
        goto done;
    }
    map.fp = NULL;
    fprintf(stderr, "%s: %s: %d base pieces + %zu from %s = %d; new ids in %s\n", PROG, output,
            base_n, n_added, target_path, base_n + (int)n_added, map_path);
    rc = 0;
    if (measure && measure_change(base_m, merged_m, measure, &err) < 0)
        rc = -1;
done:
    if (map.fp)
        lg_atomic_abort(&map);
    lg_spm_free(base_m);
    lg_spm_free(target_m);
    lg_spm_free(merged_m);
    free(base);
    free(target);
    free(merged);
    free(target_ids);
    return rc < 0 ? fail(&err) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    /* Each command parses argv[1..]: its own name is argv[0] for getopt. */
    argc--;
    argv++;
    if (!strcmp(cmd, "train"))
        return cmd_train(argc, argv);
    if (!strcmp(cmd, "encode"))
        return cmd_codec(argc, argv, 1);
    if (!strcmp(cmd, "decode"))
        return cmd_codec(argc, argv, 0);
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc, argv);
    if (!strcmp(cmd, "extend"))
        return cmd_extend(argc, argv);
    fprintf(stderr, "%s: unknown command '%s'\n", PROG, cmd);
    usage(stderr);
    return 1;
}
