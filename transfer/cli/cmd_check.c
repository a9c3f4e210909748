/* `transfer check`: does an embedding table pack fit a tokenizer and a base model? */
#include "lg_cli.h"
#include "lg_transfer.h"
#include "transfer_cmds.h"

int tr_cmd_check(int argc, char **argv)
{
    const char *pack = NULL, *tok = NULL, *base = NULL;
    lg_opt opts[] = {
        {LG_INPUT(&pack), .name = "pack", .flags = LG_OPT_REQUIRED, .arg = "PACK",
         .help = "the table from transfer init (.safetensors)"},
        {LG_INPUT(&tok), .name = "tokenizer", .arg = "FILE",
         .help = "the tokenizer (.model or tokenizer.json) it\nshould be made for"},
        {LG_INPUT(&base), .name = "base", .arg = "DIR",
         .help = "the base model directory it should fit"},
        {0}};
    lg_cli c = {.prog = "transfer", .name = "check", .opts = opts,
                .about = "Checks that an embedding table pack was made for this tokenizer (sha256)\n"
                         "and fits this base model (hidden size, untied head). Exit 0 when it does,\n"
                         "1 when it does not."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_error err;
    if (lg_pack_check(pack, tok, base, &err) < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    return lg_cli_finish(&c, 0);
}
