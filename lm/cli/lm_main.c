/* lm — the transformer core on the command line: one subcommand per lm/cli/cmd_*.c. */
#include "lg_cli.h"
#include "lm_cmds.h"

static const lg_cli_command commands[] = {
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

int main(int argc, char **argv)
{
    return lg_cli_main("lm", "The transformer core of lingraft: Hugging Face Llama-family models "
                             "on the CPU.",
                       commands, (int)(sizeof commands / sizeof *commands), argc, argv);
}
