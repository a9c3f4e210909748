/* adapt — language/script vectors, table packs and export. */
#include <stdio.h>
#include <string.h>

#include "lg_adapt_cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} command;

static const command commands[] = {
    {"langsamp", lg_adapt_langsamp, "create language/script vectors (LangSAMP) for a pack"},
    {"pack", lg_adapt_pack, "assemble a language pack: table + tokenizer (+ adapter, vectors)"},
    {"info", lg_adapt_info, "show what a pack holds and check it against a base model"},
    {"export", lg_adapt_export, "write a Hugging Face model directory or a GGUF file"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: adapt COMMAND [OPTIONS]   (adapt COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "adapt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
