/* adapt pack: assemble a language pack directory. */
#include <stdio.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_pack.h"

int lg_adapt_pack(int argc, char **argv)
{
    lg_pack_parts parts = {0};
    const char *out = NULL;
    lg_opt opts[] = {
        {LG_INPUT(&parts.base_dir), .name = "base", .flags = LG_OPT_REQUIRED, .arg = "DIR",
         .help = "the base model the pack goes over (never\nmodified)"},
        {LG_INPUT(&parts.table), .name = "table", .flags = LG_OPT_REQUIRED, .arg = "FILE",
         .help = "the embedding table from `transfer init`"},
        {LG_INPUT(&parts.tokenizer), .name = "tokenizer", .flags = LG_OPT_REQUIRED,
         .arg = "FILE", .help = "the language's tokenizer: a SentencePiece\n.model or a tokenizer.json"},
        {LG_INPUT(&parts.adapter_dir), .name = "adapter", .arg = "DIR",
         .help = "the PEFT adapter of `lm train --pack` (its\ntrained embed_tokens/lm_head "
                 "replace the\ntable's at load)"},
        {LG_INPUT(&parts.langsamp), .name = "langsamp", .arg = "FILE",
         .help = "language/script vectors (adapt langsamp, or a\ncheckpoint's "
                 "langsamp.safetensors)"},
        {LG_STRING(&parts.language), .name = "lang", .arg = "CODE",
         .help = "the language recorded in pack.json"},
        {LG_STRING(&parts.script), .name = "script", .arg = "CODE",
         .help = "the script recorded in pack.json"},
        {LG_OUTDIR(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "OUT.pack", .help = "the pack directory to write"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "pack", .opts = opts,
                .about = "Assembles a pack over an unchanged base model: the embedding table "
                         "from\n`transfer init`, the language's tokenizer, optionally the PEFT "
                         "adapter and\nlanguage/script vectors. Checks the table against the "
                         "tokenizer checksum\nand the base's shapes, records the base "
                         "fingerprint in OUT/pack.json, and loads\nthe result once before "
                         "renaming it into place."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    if (lg_pack_assemble(out, &parts, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    printf("%s: pack assembled over %s\n", out, parts.base_dir);
    return lg_cli_finish(&c, 0);
}
