/* tokenize — SentencePiece tokenizers for a target language: one subcommand per
 * tokenize/cli/cmd_*.c. */
#include "lg_cli.h"
#include "tokenize_cmds.h"

static const lg_cli_command commands[] = {
    {"train", tok_cmd_train, "train a SentencePiece model or a byte-level BPE tokenizer.json"},
    {"encode", tok_cmd_encode, "text lines -> pieces or ids (as spm_encode)"},
    {"decode", tok_cmd_decode, "pieces or ids -> text lines (as spm_decode)"},
    {"stats", tok_cmd_stats, "fertility, characters per token, unknown/byte shares, scripts"},
    {"extend", tok_cmd_extend, "append a target's new pieces to a base .model or tokenizer.json"},
};

int main(int argc, char **argv)
{
    return lg_cli_main("tokenize", "SentencePiece tokenizers for a target language.", commands,
                       (int)(sizeof commands / sizeof *commands), argc, argv);
}
