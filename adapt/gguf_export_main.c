/* gguf_export — writes an HF Llama-family model + SentencePiece tokenizer as a llama.cpp
 * GGUF, or describes a GGUF file (--info). To be folded into `adapt export --gguf`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lg_error.h"
#include "lg_gguf.h"

static const char *const PROG = "gguf_export";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s --model DIR --tokenizer FILE.model -o FILE.gguf [--f16] [--name NAME]\n"
            "       %s --info FILE.gguf\n"
            "\n"
            "Writes the Hugging Face model in DIR (llama, mistral or qwen2: config.json and\n"
            "safetensors, one file or sharded) with the SentencePiece vocabulary of FILE.model\n"
            "as a GGUF v3 file that llama.cpp loads as architecture \"llama\".\n"
            "\n"
            "  --model DIR        Hugging Face model directory\n"
            "  --tokenizer FILE   SentencePiece .model (at most the model's vocab_size pieces;\n"
            "                     fewer are padded with unused [PADn] tokens)\n"
            "  -o, --output FILE  the GGUF to write (written whole or not at all)\n"
            "  --f16              store matrices as F16 (default F32; vectors stay F32)\n"
            "  --name NAME        general.name (default: the model directory's name)\n"
            "  --info FILE        validate a GGUF file and print its keys and tensors\n"
            "  -h, --help         this text\n",
            PROG, PROG);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"tokenizer", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"f16", no_argument, NULL, 'f'},
        {"name", required_argument, NULL, 'n'},
        {"info", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *tokenizer = NULL, *output = NULL, *info = NULL;
    lg_gguf_export_options opt = {0};
    int c;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': tokenizer = optarg; break;
        case 'o': output = optarg; break;
        case 'f': opt.f16 = 1; break;
        case 'n': opt.name = optarg; break;
        case 'i': info = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    lg_error err = {{0}};
    if (optind < argc) {
        lg_fail(&err, "unexpected argument %s (see --help)", argv[optind]);
        lg_error_print(PROG, &err);
        return 1;
    }
    if (info) {
        lg_gguf *g = lg_gguf_open(info, &err);
        if (!g) {
            lg_error_print(PROG, &err);
            return 1;
        }
        lg_gguf_describe(g, stdout);
        lg_gguf_close(g);
        return 0;
    }
    if (!model || !tokenizer || !output) {
        lg_fail(&err, "--model, --tokenizer and -o are required (see --help)");
        lg_error_print(PROG, &err);
        return 1;
    }
    if (lg_gguf_export_hf(model, tokenizer, output, &opt, &err) < 0) {
        lg_error_print(PROG, &err);
        return 1;
    }
    return 0;
}
