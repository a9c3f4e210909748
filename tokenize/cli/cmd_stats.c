/* `tokenize stats`: fertility, characters per token, unknown and byte-fallback shares,
 * vocabulary used, and the text's scripts, for one or more models side by side. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "lg_io.h"
#include "lg_spm.h"
#include "lg_text.h"
#include "token_stats.h"
#include "tokenize_cmds.h"

enum { MAX_MODELS = 64 };

int tok_cmd_stats(int argc, char **argv)
{
    lg_cli_list models = {0}, texts = {0};
    int json = 0;
    lg_opt opts[] = {
        {.type = LG_OPT_INPUT, .dest = &models, .name = "model", .short_name = 'm',
         .flags = LG_OPT_REPEAT | LG_OPT_REQUIRED, .arg = "MODEL",
         .help = "a SentencePiece .model, a tokenizer.json or a\nmodel directory (repeat to compare, up to 64)"},
        {LG_FLAG(&json), .name = "json", .help = "one JSON object on stdout instead of the table"},
        {LG_INPUTS(&texts), .name = "TEXT", .flags = LG_OPT_REQUIRED | LG_OPT_STDIO,
         .help = "plain or gzip text (- is stdin)"},
        {0}};
    lg_cli c = {.prog = "tokenize", .name = "stats", .opts = opts,
                .usage = "-m MODEL [-m MODEL...] [--json] TEXT...",
                .about = "Encodes every line of TEXT with each model and shows, side by side:\n"
                         "tokens, tokens per whitespace word (fertility), characters and bytes\n"
                         "per token, share of unknown and byte-fallback tokens, vocabulary used;\n"
                         "then the text's script histogram (ISO 15924) by character and by line\n"
                         "(the script with most letters; Zyyy when none). Invalid UTF-8 is an\n"
                         "error."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (models.n > MAX_MODELS)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--model: at most %d models", MAX_MODELS));
    const int n_models = models.n;
    lg_error err;
    int loaded = 0;
    rc = 0;
    lg_tokenizer *spm[MAX_MODELS] = {0};
    lg_token_stats st[MAX_MODELS];
    int n_scripts = lg_text_script_count();
    int64_t *scripts = calloc((size_t)n_scripts, sizeof *scripts);
    int64_t *line_scripts = calloc((size_t)n_scripts, sizeof *line_scripts);
    if (!scripts || !line_scripts) {
        free(scripts);
        free(line_scripts);
        lg_fail(&err, "out of memory");
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    for (; loaded < n_models; loaded++) {
        spm[loaded] = lg_tokenizer_load(models.v[loaded], &err);
        if (!spm[loaded] || lg_token_stats_init_tokenizer(&st[loaded], spm[loaded], &err) < 0) {
            lg_tokenizer_free(spm[loaded]);
            rc = -1;
            break;
        }
    }
    for (int t = 0; rc == 0 && t < texts.n; t++) {
        lg_corpus_reader *r = lg_corpus_open(texts.v[t], &err);
        if (!r) {
            rc = -1;
            break;
        }
        const char *line;
        size_t len, bad;
        while (rc == 0 && (rc = lg_corpus_next(r, &line, &len, &err)) > 0) {
            rc = 0;
            if (!lg_utf8_valid(line, len, &bad)) {
                rc = lg_fail(&err, "%s: line %lld: invalid UTF-8 at byte %zu", texts.v[t],
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
        rc = lg_fail(&err, "%s: no lines", texts.v[0]);
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
                cJSON_AddStringToObject(o, "model", models.v[k]);
                cJSON_AddNumberToObject(o, "vocab_size", spm[k]->ops->vocab_size(spm[k]));
                cJSON_AddNumberToObject(o, "tokens", (double)s->tokens);
                cJSON_AddNumberToObject(o, "tokens_per_word", tok_ratio(s->tokens, s->words));
                cJSON_AddNumberToObject(o, "chars_per_token", tok_ratio(s->chars, s->tokens));
                cJSON_AddNumberToObject(o, "bytes_per_token", tok_ratio(s->bytes, s->tokens));
                cJSON_AddNumberToObject(o, "unknown_share", tok_ratio(s->unknown, s->tokens));
                cJSON_AddNumberToObject(o, "byte_fallback_share",
                                        tok_ratio(s->byte_fallback, s->tokens));
                cJSON_AddNumberToObject(o, "vocab_used", (double)s->vocab_used);
                cJSON_AddNumberToObject(o, "vocab_used_share",
                                        tok_ratio(s->vocab_used, spm[k]->ops->vocab_size(spm[k])));
                cJSON_AddItemToArray(arr, o);
            }
            char *out = cJSON_Print(root);
            if (out)
                puts(out);
            else
                rc = lg_fail(&err, "out of memory");
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
                       models.v[k], spm[k]->ops->vocab_size(spm[k]), (long long)s->tokens,
                       tok_ratio(s->tokens, s->words), tok_ratio(s->chars, s->tokens),
                       tok_ratio(s->bytes, s->tokens), 100 * tok_ratio(s->unknown, s->tokens),
                       100 * tok_ratio(s->byte_fallback, s->tokens), (long long)s->vocab_used,
                       100 * tok_ratio(s->vocab_used, spm[k]->ops->vocab_size(spm[k])));
            }
            printf("scripts (non-space characters):");
            for (int s = 0; s < n_scripts; s++)
                if (scripts[s])
                    printf(" %s %.1f%%", lg_text_script_code(s), 100 * tok_ratio(scripts[s], letters));
            printf("\nlines by main script:");
            for (int s = 0; s < n_scripts; s++)
                if (line_scripts[s])
                    printf(" %s %lld", lg_text_script_code(s), (long long)line_scripts[s]);
            putchar('\n');
        }
    }
    for (int k = 0; k < loaded; k++) {
        lg_token_stats_free(&st[k]);
        lg_tokenizer_free(spm[k]);
    }
    free(scripts);
    free(line_scripts);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
