/* adapt — language packs, language/script vectors and export. */
#include "lg_adapt_cli.h"
#include "lg_cli.h"

static const lg_cli_command commands[] = {
    {"langsamp", lg_adapt_langsamp, "create language/script vectors (LangSAMP) for a pack"},
    {"pack", lg_adapt_pack, "assemble a language pack: table + tokenizer (+ adapter, vectors)"},
    {"list", lg_adapt_list, "list the packs a base carries and check each against it"},
    {"mixture", lg_adapt_mixture, "train one LoRA over several languages, each through its pack"},
    {"eval", lg_adapt_eval, "evaluate packs in turn over one loaded base, switching them"},
    {"info", lg_adapt_info, "show what a pack holds and check it against a base model"},
    {"export", lg_adapt_export, "write a Hugging Face model directory or a GGUF file"},
};

int main(int argc, char **argv)
{
    return lg_cli_main("adapt", "Language packs over one unchanged base model, and export.",
                       commands, (int)(sizeof commands / sizeof *commands), argc, argv);
}
