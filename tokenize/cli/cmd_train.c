/* `tokenize train`: a SentencePiece model (unigram or BPE) from corpora, one segment a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_progress.h"
#include "lg_spm.h"
#include "lg_text.h"
#include "tokenize_cmds.h"

typedef struct {
    const char **paths;
    int n_paths, current;
    lg_corpus_reader *reader;
    lg_text_cleaner *cleaner;
    lg_progress progress;
    int64_t lines_read, lines_given;
    char *squeezed;             /* the line with runs of spaces made one, trimmed */
    size_t squeezed_cap;
} train_feed;

/* Runs of spaces become one and the ends are trimmed, as SentencePiece's own
 * remove_extra_whitespaces would do: the model keeps spaces as given when it encodes
 * (llama.cpp does too), but learns its pieces from text written the usual way. */
static int squeeze_spaces(train_feed *f, const char **line, size_t *len, lg_error *err)
{
    if (*len + 1 > f->squeezed_cap) {
        size_t cap = *len + *len / 2 + 64;
        char *grown = realloc(f->squeezed, cap);
        if (!grown)
            return lg_fail(err, "line of %zu bytes: out of memory", *len);
        f->squeezed = grown;
        f->squeezed_cap = cap;
    }
    size_t n = 0;
    for (size_t i = 0; i < *len; i++)
        if ((*line)[i] != ' ' || (n > 0 && f->squeezed[n - 1] != ' '))
            f->squeezed[n++] = (*line)[i];
    while (n > 0 && f->squeezed[n - 1] == ' ')
        n--;
    f->squeezed[n] = 0;
    *line = f->squeezed;
    *len = n;
    return 0;
}

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
        if (lg_text_clean(f->cleaner, raw, raw_len, line, len, err) < 0 ||
            squeeze_spaces(f, line, len, err) < 0)
            return lg_fail_context(err, "%s: line %lld", lg_corpus_path(f->reader),
                                   (long long)lg_corpus_line_number(f->reader));
        if ((f->lines_read & 0xfff) == 0)
            lg_progress_update(&f->progress, f->lines_read, "%lld lines kept",
                               (long long)f->lines_given);
        /* Whitespace-only lines carry nothing to learn. */
        if (*len == 0)
            continue;
        f->lines_given++;
        return 1;
    }
}

/* 1 when argv asks for --format hf-bpe (that table is another command's: cmd_train_hf.c) */
static int wants_hf(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if ((!strcmp(argv[i], "--format") && i + 1 < argc && !strcmp(argv[i + 1], "hf-bpe")) ||
            !strcmp(argv[i], "--format=hf-bpe"))
            return 1;
    }
    return 0;
}

int tok_cmd_train(int argc, char **argv)
{
    if (wants_hf(argc, argv))
        return tok_cmd_train_hf(argc, argv);
    lg_spm_train_options opt;
    lg_spm_train_defaults(&opt);
    /* SentencePiece keeps every training line in memory: sample big corpora by default. */
    long sample = 2000000;
    const char *output = NULL, *type = "unigram", *user_symbols = NULL, *rule = "identity",
               *format = "sentencepiece";
    int nfc = 0, replace = 0, no_shuffle = 0, threads = 0;
    lg_cli_list corpora = {0};
    lg_opt opts[] = {
        {LG_STRING(&output), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "NAME", .help = "writes NAME.model and NAME.vocab (NAME.model names\n"
                                "the same pair)"},
        {LG_CHOICE(&format), .name = "format", .choices = "sentencepiece|hf-bpe", .arg = "FORMAT",
         .help = "sentencepiece: NAME.model; hf-bpe: a byte-level\n"
                 "BPE tokenizer.json (its own options: --format\n"
                 "hf-bpe --help)"},
        {LG_CHOICE(&type), .name = "model-type", .short_name = 't', .choices = "unigram|bpe",
         .arg = "TYPE", .help = "unigram or bpe"},
        {LG_INT(&opt.vocab_size), .name = "vocab-size", .short_name = 'v', .min = 2,
         .max = 1 << 24, .arg = "N", .help = "vocabulary size"},
        {LG_DOUBLE(&opt.character_coverage), .name = "character-coverage", .short_name = 'c',
         .min = 0, .max = 1, .flags = LG_OPT_MIN_OPEN, .arg = "F",
         .help = "share of characters covered, in (0, 1]"},
        {LG_FLAG(&opt.byte_fallback), .name = "byte-fallback",
         .help = "unknown characters become UTF-8 byte pieces"},
        {LG_FLAG(&opt.split_digits), .name = "split-digits", .help = "every digit its own piece"},
        {LG_STRING(&user_symbols), .name = "user-symbols", .arg = "A,B,...",
         .help = "pieces that are always kept whole"},
        {LG_FLAG(&nfc), .name = "nfc", .help = "NFC instead of NFKC for the training text"},
        {LG_CHOICE(&rule), .name = "model-normalizer",
         .choices = "identity|nmt_nfkc|nfkc|nmt_nfkc_cf|nfkc_cf", .arg = "RULE",
         .help = "SentencePiece's rule inside the model, applied\n"
                 "to every text it encodes: identity (none, spaces\n"
                 "kept; llama.cpp does the same) or an NFKC rule\n"
                 "(spaces collapsed; adapt export --gguf refuses)"},
        {LG_FLAG(&replace), .name = "replace-invalid",
         .help = "replace invalid UTF-8 by U+FFFD instead of failing"},
        {LG_LONG(&sample), .name = "sample", .min = 0, .max = 1e12, .arg = "N",
         .help = "train on a sample of N lines (bounds the trainer's\nmemory; 0: every line)"},
        {LG_FLAG(&no_shuffle), .name = "no-shuffle", .help = "with --sample, take the first N lines"},
        {LG_INT(&opt.max_sentence_length), .name = "max-sentence-length", .min = 1,
         .max = 1000000000, .arg = "N", .help = "skip lines longer than N bytes"},
        LG_THREADS_OPT(&threads),
        {LG_INT(&opt.seed), .name = "seed", .min = 0, .max = 2147483647, .arg = "N",
         .help = "seed for sampling (0: SentencePiece's own)"},
        {LG_FLAG(&opt.verbose), .name = "verbose", .help = "show SentencePiece's own log"},
        {LG_INPUTS(&corpora), .name = "CORPUS", .flags = LG_OPT_REQUIRED | LG_OPT_STDIO,
         .help = "text, plain or gzip, one segment a line (- is stdin)"},
        {0}};
    lg_cli c = {.prog = "tokenize", .name = "train", .opts = opts, .derived_outputs = 1,
                .usage = "-o NAME [options] CORPUS...",
                .about = "Trains a SentencePiece model on CORPUS files and writes NAME.model and\n"
                         "NAME.vocab. Every line is cleaned (invalid UTF-8 is an error, control\n"
                         "characters removed) and normalised with ICU (NFKC, or NFC with --nfc),\n"
                         "runs of spaces made one, before SentencePiece sees it. The model itself\n"
                         "applies no normaliser (--model-normalizer identity): it encodes any text\n"
                         "as given, exactly as llama.cpp does with its GGUF export. The outputs are\n"
                         "written only when training succeeded; existing ones are replaced only\n"
                         "with --force."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    tok_model_paths paths;
    if ((rc = tok_model_paths_of(&c, output, &paths)) != 0 ||
        (rc = tok_model_paths_check(&c, &paths)) != 0)
        return lg_cli_finish(&c, rc);
    opt.model_type = type;
    opt.user_defined_symbols = user_symbols;
    opt.input_sentence_size = sample;
    opt.shuffle_input_sentence = !no_shuffle;
    opt.num_threads = lg_cli_threads(threads);
    opt.normalization_rule = rule;
    opt.keep_extra_whitespaces = !strcmp(rule, "identity");

    lg_error err;
    /* Fail before a long training when the outputs cannot be written. */
    lg_atomic_file probe;
    if (lg_atomic_open(&probe, paths.model, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    lg_atomic_abort(&probe);
    train_feed feed = {.paths = corpora.v, .n_paths = corpora.n};
    feed.cleaner = lg_text_cleaner_new(nfc ? LG_TEXT_NFC : LG_TEXT_NFKC, replace, &err);
    if (!feed.cleaner)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    lg_progress_start(&feed.progress, "read", 0);
    uint8_t *model = NULL;
    size_t model_len = 0;
    const char *name = feed.n_paths == 1 ? feed.paths[0] : "corpus";
    rc = lg_spm_train(&opt, feed_next, &feed, name, &model, &model_len, &err);
    lg_progress_finish(&feed.progress);
    if (feed.reader)
        lg_corpus_close(feed.reader);
    lg_text_cleaner_free(feed.cleaner);
    free(feed.squeezed);
    lg_spm *written = NULL;
    if (rc == 0 && (written = lg_spm_load_serialized(model, model_len, paths.model, &err)))
        rc = tok_write_model(&paths, model, model_len, &err);
    else
        rc = -1;
    free(model);
    if (rc < 0) {
        lg_spm_free(written);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    char desc[200];
    lg_spm_describe_normalizer(written, desc, sizeof desc);
    fprintf(stderr, "tokenize train: %s normalises text with %s; its pieces were learned from "
            "%s text\n", paths.model, desc, nfc ? "NFC" : "NFKC");
    tok_note_llama_cpp(written, "train", paths.model);
    lg_spm_free(written);
    fprintf(stderr, "tokenize train: %s and %s: %d pieces (%s); %lld lines read, %lld not blank",
            paths.model, paths.vocab, opt.vocab_size, opt.model_type, (long long)feed.lines_read,
            (long long)feed.lines_given);
    if (opt.input_sentence_size > 0 && opt.input_sentence_size < feed.lines_given)
        fprintf(stderr, ", %s %lld of them trained on",
                opt.shuffle_input_sentence ? "a sample of" : "the first",
                (long long)opt.input_sentence_size);
    fputc('\n', stderr);
    return lg_cli_finish(&c, 0);
}
