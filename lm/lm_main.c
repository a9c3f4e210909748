/* lm — the transformer core on the command line: check, info (train, eval, generate, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} command;

static const command commands[] = {
    {"check", lg_cmd_check, "compare forward/backward with a Hugging Face reference output"},
    {"info", lg_cmd_info, "architecture, parameter count, dtypes and memory of a model"},
    {"merge", lg_cmd_merge, "fold a PEFT LoRA adapter into a full model directory"},
    {"logits", lg_cmd_logits, "write the logits of a batch as a reference file"},
    {"bench", lg_cmd_bench, "tokens/s, memory and FLOPs of a training step; sgemm peak"},
    {"generate", lg_cmd_generate, "continue a prompt: sampling over a KV cache"},
    {"init", lg_cmd_init, "write a randomly initialised model directory (pretraining)"},
    {"train", lg_cmd_train, "full, LoRA or embedding training with checkpoints and resume"},
    {"eval", lg_cmd_eval, "loss, perplexity and bits per byte of held-out text"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: lm COMMAND [OPTIONS]   (lm COMMAND --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
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
    fprintf(stderr, "lm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
