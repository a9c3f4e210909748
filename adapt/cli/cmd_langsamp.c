/* adapt langsamp: zero-initialised language/script vectors for a model or pack. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_adapt_cli.h"
#include "lg_model.h"
#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_text.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: adapt langsamp --hidden-size N | --base DIR  --lang CODES\n"
            "                      [--script CODES | --detect-from TEXT] -o FILE.safetensors\n"
            "Writes learnable language and script vectors (LangSAMP), zero-initialised so that\n"
            "they change nothing until `lm train --lang L --script S` trains them.\n"
            "  --lang CODES         ISO 639-3 codes, comma-separated (e.g. nld or nld,eng)\n"
            "  --script CODES       ISO 15924 codes (e.g. Latn)\n"
            "  --detect-from TEXT   detect the script of a text file (plain, gzip or -) with ICU:\n"
            "                       the most frequent script of its letters\n"
            "  --base DIR           take the hidden size from DIR/config.json\n");
}

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

int lg_adapt_langsamp(int argc, char **argv)
{
    static const struct option opts[] = {{"hidden-size", required_argument, NULL, 'c'},
                                         {"base", required_argument, NULL, 'b'},
                                         {"lang", required_argument, NULL, 'l'},
                                         {"script", required_argument, NULL, 's'},
                                         {"detect-from", required_argument, NULL, 'd'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *base = NULL, *lang = NULL, *script = NULL, *detect = NULL, *out = NULL;
    int hidden = 0, c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': hidden = atoi(optarg); break;
        case 'b': base = optarg; break;
        case 'l': lang = optarg; break;
        case 's': script = optarg; break;
        case 'd': detect = optarg; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!out || !lang || (!hidden && !base) || (script && detect) || optind != argc) {
        usage(stderr);
        return 2;
    }
    lg_error err = {{0}};
    if (base) {
        lg_config cfg;
        if (lg_config_load_dir(base, &cfg, &err) < 0) {
            lg_error_print("adapt langsamp", &err);
            return 1;
        }
        hidden = cfg.hidden_size;
    }
    char detected[16];
    if (detect) {
        if (detect_script(detect, detected, sizeof detected, &err) < 0) {
            lg_error_print("adapt langsamp", &err);
            return 1;
        }
        script = detected;
        fprintf(stderr, "adapt langsamp: %s is written in %s\n", detect, detected);
    }
    lg_langsamp *ls = lg_langsamp_create(hidden, lang, script, &err);
    int rc = ls ? 0 : -1;
    lg_st_writer *w = lg_st_writer_new();
    if (rc == 0)
        rc = lg_langsamp_add_to_writer(ls, w, &err);
    if (rc == 0)
        rc = lg_st_writer_write(w, out, &err);
    lg_st_writer_free(w);
    lg_langsamp_free(ls);
    if (rc < 0) {
        lg_error_print("adapt langsamp", &err);
        return 1;
    }
    printf("%s: language %s, script %s, hidden size %d\n", out, lang, script ? script : "-", hidden);
    return 0;
}
