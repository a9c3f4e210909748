/* transfer — token alignment of parallel text and initialisation of new-language
 * embeddings: one subcommand per transfer/cli/cmd_*.c. */
#include "lg_cli.h"
#include "transfer_cmds.h"

static const lg_cli_command commands[] = {
    {"align", tr_cmd_align, "learn P(src | tgt) from parallel token ids"},
    {"init", tr_cmd_init, "initialise a new tokenizer's embeddings (trans, hull, ...)"},
    {"check", tr_cmd_check, "check that an embedding table fits a tokenizer and a base"},
};

int main(int argc, char **argv)
{
    return lg_cli_main("transfer", "Token alignment and new-language embedding initialisation.",
                       commands, (int)(sizeof commands / sizeof *commands), argc, argv);
}
