/* `corpora dictd`: a FreeDict dictionary (dictd .index + .dict.dz) to english<TAB>target. */
#include <stdio.h>
#include <string.h>

#include "corpora_cmds.h"
#include "lg_dictd.h"
#include "lg_io.h"

int cor_cmd_dictd(int argc, char **argv)
{
    const char *out = NULL, *index = NULL, *dict = NULL;
    int reverse = 0;
    lg_opt opts[] = {
        {LG_OUTPUT(&out), .name = "output", .short_name = 'o',
         .flags = LG_OPT_REQUIRED | LG_OPT_STDIO, .arg = "OUT.tsv",
         .help = "english<TAB>target lines (- is standard output)"},
        {LG_FLAG(&reverse), .name = "reverse", .short_name = 'r',
         .help = "a target->english dictionary: columns swapped"},
        {LG_INPUT(&index), .name = "INDEX", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "the dictd .index"},
        {LG_INPUT(&dict), .name = "DICT.dz", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "the dictd data (dictzip or gzip)"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "dictd", .opts = opts,
                .about = "A FreeDict dictionary in dictd form to english<TAB>target lines, one a\n"
                         "translation of a headword."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    const int to_stdout = !strcmp(out, "-");
    lg_atomic_file af = {0};
    if (!to_stdout && lg_atomic_open(&af, out, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    long n = lg_dictd_pairs(index, dict, reverse, to_stdout ? stdout : af.fp, &err);
    if (n < 0) {
        if (!to_stdout)
            lg_atomic_abort(&af);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    fprintf(stderr, "corpora dictd: %ld translation pairs\n", n);
    /* standard output is checked by lg_cli_main when it closes it */
    rc = to_stdout ? 0 : lg_atomic_commit(&af, &err);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
