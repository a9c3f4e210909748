/* adapt langsamp: zero-initialised language/script vectors for a model or pack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_model.h"
#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_text.h"

/* The dominant script of a text's letters. */
static int detect_script(const char *path, char *code, size_t n, lg_error *err)
{
    lg_corpus_reader *r = lg_corpus_open(path, err);
    if (!r)
        return -1;
    int scripts = lg_text_script_count();
    int64_t *counts = calloc((size_t)scripts, sizeof *counts);
    const char *line;
    size_t len;
    int rc, lines = 0;
    while (counts && (rc = lg_corpus_next(r, &line, &len, err)) > 0 && lines++ < 100000)
        lg_text_script_histogram(line, len, counts);
    lg_corpus_close(r);
    if (!counts)
        return lg_fail(err, "out of memory");
    int best = -1;
    for (int s = 0; s < scripts; s++) {
        const char *c = lg_text_script_code(s);
        /* Zyyy (common) and Zinh (inherited) are punctuation, digits and marks */
        if (!c || !strcmp(c, "Zyyy") || !strcmp(c, "Zinh") || !strcmp(c, "Zzzz"))
            continue;
        if (counts[s] > 0 && (best < 0 || counts[s] > counts[best]))
            best = s;
    }
    free(counts);
    if (best < 0)
        return lg_fail(err, "%s: no letters to detect a script from", path);
    snprintf(code, n, "%s", lg_text_script_code(best));
    return 0;
}

/* The largest hidden size accepted: above every published model's (16384 for the largest
 * Llama); a vector table is (languages + scripts) × hidden floats. */
#define MAX_HIDDEN 65536

int lg_adapt_langsamp(int argc, char **argv)
{
    const char *base = NULL, *lang = NULL, *script = NULL, *detect = NULL, *out = NULL;
    int hidden = 0;
    lg_opt opts[] = {
        {LG_INT(&hidden), .name = "hidden-size", .min = 1, .max = MAX_HIDDEN, .arg = "N",
         .def = "", .help = "the model's hidden size (checked against\n--base when both are "
                           "given)"},
        {LG_INPUT(&base), .name = "base", .arg = "DIR",
         .help = "take the hidden size from DIR/config.json"},
        {LG_STRING(&lang), .name = "lang", .flags = LG_OPT_REQUIRED, .arg = "CODES",
         .help = "ISO 639-3 codes, comma-separated (e.g. nld or\nnld,eng)"},
        {LG_STRING(&script), .name = "script", .arg = "CODES",
         .help = "ISO 15924 codes (e.g. Latn)"},
        {LG_INPUT(&detect), .name = "detect-from", .flags = LG_OPT_STDIO, .arg = "TEXT",
         .help = "detect the script of a text file (plain, gzip\nor -) with ICU: the most "
                 "frequent script of\nits letters"},
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "FILE.safetensors", .help = "the vectors to write"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "langsamp", .opts = opts,
                .usage = "(--hidden-size N | --base DIR) --lang CODES\n"
                         "                      [--script CODES | --detect-from TEXT] "
                         "-o FILE.safetensors",
                .about = "Writes learnable language and script vectors (LangSAMP), "
                         "zero-initialised so that\nthey change nothing until `lm train --lang L "
                         "--script S` trains them."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!hidden && !base)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give --hidden-size or --base"));
    if (script && detect)
        return lg_cli_finish(&c, lg_cli_usage(&c, "give --script or --detect-from, not both"));
    lg_error err = {{0}};
    if (base) {
        lg_config cfg;
        if (lg_config_load_dir(base, &cfg, &err) < 0)
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
        if (hidden && hidden != cfg.hidden_size)
            return lg_cli_finish(&c, lg_cli_usage(&c, "--hidden-size %d differs from the hidden "
                                                      "size of %s (%d)", hidden, base,
                                                  cfg.hidden_size));
        if (cfg.hidden_size < 1 || cfg.hidden_size > MAX_HIDDEN) {
            lg_fail(&err, "%s: hidden size %d is outside [1, %d]", base, cfg.hidden_size,
                    MAX_HIDDEN);
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
        }
        hidden = cfg.hidden_size;
    }
    char detected[16];
    if (detect) {
        if (detect_script(detect, detected, sizeof detected, &err) < 0)
            return lg_cli_finish(&c, lg_cli_fail(&c, &err));
        script = detected;
        fprintf(stderr, "adapt langsamp: %s is written in %s\n", detect, detected);
    }
    lg_langsamp *ls = lg_langsamp_create(hidden, lang, script, &err);
    rc = ls ? 0 : -1;
    lg_st_writer *w = lg_st_writer_new();
    if (rc == 0 && !w)
        rc = lg_fail(&err, "out of memory");
    if (rc == 0)
        rc = lg_langsamp_add_to_writer(ls, w, &err);
    if (rc == 0)
        rc = lg_st_writer_write(w, out, &err);
    lg_st_writer_free(w);
    lg_langsamp_free(ls);
    if (rc < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    printf("%s: language %s, script %s, hidden size %d\n", out, lang, script ? script : "-",
           hidden);
    return lg_cli_finish(&c, 0);
}
