/* `corpora manifest`: DIR/MANIFEST.json from the recipe's source table, DIR/counts.json
 * and DIR/SHA256SUMS. */
#include <math.h>
#include <stdio.h>

#include "corpora_cmds.h"
#include "lg_io.h"
#include "lg_manifest.h"

int cor_cmd_manifest(int argc, char **argv)
{
    const char *lang = NULL, *dir = NULL, *sources = NULL;
    double seconds = -1;
    lg_opt opts[] = {
        {LG_STRING(&lang), .name = "lang", .flags = LG_OPT_REQUIRED, .arg = "L",
         .help = "the corpus's language code"},
        {LG_STRING(&dir), .name = "dir", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the assembled corpus: reads counts.json and SHA256SUMS,\n"
                 "writes MANIFEST.json"},
        {LG_INPUT(&sources), .name = "sources", .flags = LG_OPT_REQUIRED, .arg = "SOURCES.tsv",
         .help = "the recipe's source table: name, status, packages,\nlicence, message"},
        {LG_DOUBLE(&seconds), .name = "seconds", .min = 0, .max = INFINITY, .arg = "S",
         .def = "", .help = "the build time to record"},
        {0}};
    lg_cli c = {.prog = "corpora", .name = "manifest", .opts = opts, .derived_outputs = 1,
                .about = "Writes DIR/MANIFEST.json: what went in, from which package versions, under\n"
                         "which licence, what failed and why, and how much text each source gave."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    char manifest[4200];
    if (snprintf(manifest, sizeof manifest, "%s/MANIFEST.json", dir) >= (int)sizeof manifest)
        return lg_cli_finish(&c, lg_cli_usage(&c, "--dir: the path is too long"));
    if ((rc = lg_cli_check_output(&c, manifest, LG_OUT_FILE, NULL)) != 0)
        return lg_cli_finish(&c, rc);
    lg_error err;
    rc = lg_manifest_write(lang, dir, sources, seconds, &err);
    return lg_cli_finish(&c, rc < 0 ? lg_cli_fail(&c, &err) : 0);
}
