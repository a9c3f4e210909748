/* `corpora import`: downloaded corpora (Moses/OPUS pairs, TMX, TSV, plain text, JSON Lines;
 * gzip, xz or zstd) into a language's corpus directory (lg_import.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpora_cmds.h"
#include "lg_import.h"
#include "lg_io.h"

int cor_cmd_import(int argc, char **argv)
{
    lg_import_run run = {.heldout_permille = 20, .rules = lg_segment_default_rules()};
    lg_import_options *ro = &run.read;
    ro->doc_size = 100;
    ro->tsv_en_col = 1;
    ro->tsv_target_col = 2;
    ro->json_field = "text";
    const char *lang = NULL, *out = NULL, *text_docs = "line";
    lg_cli_list tmx = {0}, tsv = {0}, moses = {0}, text = {0}, jsonl = {0};
    lg_opt opts[] = {
        {LG_STRING(&lang), .name = "lang", .flags = LG_OPT_REQUIRED, .arg = "L",
         .help = "the target language's code (en: English text only);\n"
                 "TMX languages match it with a region: nl-NL, nl_BE"},
        {LG_OUTDIR(&out), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "the corpus directory, written whole or not at all"},
        {LG_SECTION("Parallel input (English and the target; repeatable)")},
        {.type = LG_OPT_INPUT, .dest = &tmx, .name = "tmx", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "a TMX file (OPUS): the <tuv> of en and L of each <tu>"},
        {.type = LG_OPT_INPUT, .dest = &tsv, .name = "tsv", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "tab-separated lines, English and target columns"},
        {LG_STRINGS(&moses), .name = "moses", .arg = "PREFIX",
         .help = "line-aligned PREFIX.en and PREFIX.L (Moses, OPUS;\n"
                 "PREFIX.en.gz/.xz/.zst too)"},
        {LG_SECTION("Monolingual input (the target, or English for --lang en)")},
        {.type = LG_OPT_INPUT, .dest = &text, .name = "text", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "plain text (see --text-docs)"},
        {.type = LG_OPT_INPUT, .dest = &jsonl, .name = "jsonl", .flags = LG_OPT_REPEAT,
         .arg = "FILE", .help = "JSON Lines: a document an object, its text in\n"
                                "--field (HF datasets, CulturaX, FineWeb-2, MADLAD)"},
        {LG_SECTION("Reading")},
        {LG_STRING(&ro->json_field), .name = "field", .arg = "NAME",
         .help = "the JSON Lines field holding the text"},
        {LG_CHOICE(&text_docs), .name = "text-docs", .choices = "line|blank", .arg = "HOW",
         .help = "line: a document a line; blank: blank lines\n"
                 "separate documents, a segment a line (CC-100)"},
        {LG_FLAG(&ro->text_join_lines), .name = "join-lines",
         .help = "with --text-docs blank: a document's lines joined\n"
                 "into one segment (hard-wrapped text)"},
        {LG_INT(&ro->tsv_en_col), .name = "en-column", .min = 1, .max = 64, .arg = "N",
         .help = "the TSV column of the English text"},
        {LG_INT(&ro->tsv_target_col), .name = "target-column", .min = 1, .max = 64, .arg = "N",
         .help = "the TSV column of the target text"},
        {LG_FLAG(&ro->tmx_skip_incomplete), .name = "skip-incomplete",
         .help = "TMX: skip (and count) a <tu> without en or L\n"
                 "instead of stopping (multilingual memories)"},
        {LG_INT(&ro->doc_size), .name = "doc-size", .min = 1, .max = 1000000000, .arg = "N",
         .help = "Moses, TMX and TSV have no documents: N pairs in a\n"
                 "row make one for the held-out split"},
        {LG_SECTION("Corpus")},
        {LG_INT(&run.heldout_permille), .name = "heldout-permille", .min = 0, .max = 1000,
         .arg = "N", .help = "documents held out, in 1/1000"},
        {LG_INT(&run.rules.min_letters), .name = "min-letters", .min = 0, .max = 1000,
         .arg = "N", .help = "segments with fewer letters (a side) are dropped"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "import", .opts = opts,
                .usage = "--lang L -o DIR INPUT-OPTION... [options]",
                .about = "Turns downloaded corpora into a lingraft corpus: DIR/mono.txt.gz,\n"
                         "en-L.tsv.gz, heldout.txt, heldout.en-L.tsv, counts.json, SHA256SUMS and\n"
                         "MANIFEST.json (each input's sha256, format and counts), with the Debian\n"
                         "recipes' cleaning, filters, duplicate removal and held-out split by\n"
                         "document. Files may be gzip, xz or zstd (told by their first bytes).\n"
                         "Input that is not what its format says (invalid UTF-8, a <tu> without\n"
                         "the target, a JSON line without the field, Moses files of different\n"
                         "lengths) stops the import with the file and line; nothing is written."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!cor_valid_lang(lang))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--lang: '%s' is not a language code (letters, "
                                                  "digits, - and _)", lang));
    int n = tmx.n + tsv.n + moses.n + text.n + jsonl.n;
    if (n == 0)
        return lg_cli_finish(&c, lg_cli_usage(&c, "no input: give --tmx, --tsv, --moses, --text "
                                                  "or --jsonl"));
    if (ro->text_join_lines && strcmp(text_docs, "blank"))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--join-lines needs --text-docs blank"));
    if (ro->tsv_en_col == ro->tsv_target_col)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--en-column and --target-column are both %d",
                                              ro->tsv_en_col));
    if (!*ro->json_field)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--field: an empty name"));
    int english = !strcmp(lang, "en");
    if (english && tmx.n + tsv.n + moses.n)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--lang en takes monolingual input only "
                                                  "(--text, --jsonl)"));
    ro->lang = lang;
    ro->text_blank_docs = !strcmp(text_docs, "blank");

    lg_import_source *src = calloc((size_t)n, sizeof *src);
    char (*moses_files)[2][4096] = calloc((size_t)moses.n + 1, sizeof *moses_files);
    const char **moses_paths = calloc((size_t)moses.n * 2 + 1, sizeof *moses_paths);
    if (!src || !moses_files || !moses_paths) {
        free(src), free(moses_files), free(moses_paths);
        lg_error err;
        lg_fail(&err, "out of memory");
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    int k = 0;
    rc = 0;
    for (int i = 0; i < moses.n && rc == 0; i++) {
        const char *codes[2] = {"en", lang};
        for (int s = 0; s < 2 && rc == 0; s++)
            if (lg_import_moses_file(moses.v[i], codes[s], moses_files[i][s], 4096) < 0)
                rc = lg_cli_usage(&c, "--moses %s: no file %s (PREFIX.en and PREFIX.%s are read)",
                                  moses.v[i], moses_files[i][s], lang);
        moses_paths[2 * i] = moses_files[i][0];
        moses_paths[2 * i + 1] = moses_files[i][1];
        src[k++] = (lg_import_source){LG_IMPORT_MOSES, moses_files[i][0], moses_files[i][1]};
    }
    /* the Moses files are inputs the kit did not see: the output rule against them too */
    if (rc == 0 && moses.n) {
        lg_error err;
        if (lg_output_check(out, LG_OUT_DIR, "corpora import", c.force, moses_paths, 2 * moses.n,
                            &err) < 0)
            rc = lg_cli_fail(&c, &err);
    }
    for (int i = 0; i < tmx.n; i++)
        src[k++] = (lg_import_source){LG_IMPORT_TMX, tmx.v[i], NULL};
    for (int i = 0; i < tsv.n; i++)
        src[k++] = (lg_import_source){LG_IMPORT_TSV, tsv.v[i], NULL};
    for (int i = 0; i < text.n; i++)
        src[k++] = (lg_import_source){LG_IMPORT_TEXT, text.v[i], NULL};
    for (int i = 0; i < jsonl.n; i++)
        src[k++] = (lg_import_source){LG_IMPORT_JSONL, jsonl.v[i], NULL};
    if (rc == 0) {
        run.sources = src;
        run.n_sources = n;
        run.out_dir = out;
        lg_error err;
        rc = lg_import_corpus(&run, &err) < 0 ? lg_cli_fail(&c, &err) : 0;
    }
    free(src);
    free(moses_files);
    free(moses_paths);
    return lg_cli_finish(&c, rc);
}
