/* `corpora assemble`: extracted records cleaned, filtered, deduplicated and split into a
 * language's corpus files (lg_corpus_assemble.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "corpora_cmds.h"
#include "lg_corpus_assemble.h"

int cor_cmd_assemble(int argc, char **argv)
{
    lg_assemble_options opt = {.heldout_permille = 20, .rules = lg_segment_default_rules()};
    const char *lang = NULL, *out = NULL;
    lg_cli_list inputs = {0};
    lg_opt opts[] = {
        {LG_STRING(&lang), .name = "lang", .flags = LG_OPT_REQUIRED, .arg = "L",
         .help = "the target language's code (en: English text only)"},
        {LG_OUTTREE(&out), .name = "out", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory the corpus files are written into\n"
                               "(made when missing)"},
        {LG_INT(&opt.heldout_permille), .name = "heldout-permille", .min = 0, .max = 1000,
         .arg = "N", .help = "documents held out, in 1/1000, in [0, 1000]"},
        {LG_INT(&opt.rules.min_letters), .name = "min-letters", .min = 0, .max = 1000,
         .arg = "N", .help = "segments with fewer letters (a side) are dropped"},
        {LG_INPUTS(&inputs), .name = "INPUT", .flags = LG_OPT_REQUIRED,
         .help = "SOURCE.pairs or SOURCE.mono files (gzip too)"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "assemble", .opts = opts,
                .usage = "--lang L -o DIR [options] INPUT...",
                .about = "Cleans, filters, deduplicates and splits the records and writes into DIR:\n"
                         "mono.txt.gz, en-LANG.tsv.gz, heldout.txt, heldout.en-LANG.tsv and\n"
                         "counts.json (for lang en: mono.txt.gz, heldout.txt, counts.json). Whole\n"
                         "documents go to the held-out split by a fixed hash of source/document; no\n"
                         "held-out segment reaches a training file."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    if (!cor_valid_lang(lang))
        return lg_cli_finish(&c, lg_cli_usage(&c, "--lang: '%s' is not a language code (letters, "
                                                  "digits, - and _)", lang));
    lg_error err;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        lg_fail(&err, "%s: cannot make the directory: %s", out, strerror(errno));
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    opt.lang = lang;
    opt.out_dir = out;
    opt.inputs = inputs.v;
    opt.n_inputs = inputs.n;
    rc = lg_corpus_assemble(&opt, &err);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
