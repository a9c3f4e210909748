/* adapt pack: assemble a language pack directory. */
#include <getopt.h>
#include <stdio.h>

#include "lg_adapt_cli.h"
#include "lg_pack.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: adapt pack --base DIR --table FILE --tokenizer FILE.model [--adapter DIR]\n"
            "                  [--langsamp FILE] [--lang CODE] [--script CODE] -o OUT.pack\n"
            "Assembles a pack over an unchanged base model: the embedding table from\n"
            "`transfer init`, the language's tokenizer, optionally the PEFT adapter from\n"
            "`lm train --pack` (its trained embed_tokens/lm_head replace the table's at load)\n"
            "and language/script vectors. Checks the table against the tokenizer checksum\n"
            "and the base's shapes, records the base fingerprint in OUT/pack.json, and loads\n"
            "the result once before renaming it into place.\n");
}

int lg_adapt_pack(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", required_argument, NULL, 'b'},     {"table", required_argument, NULL, 't'},
        {"tokenizer", required_argument, NULL, 'k'}, {"adapter", required_argument, NULL, 'a'},
        {"langsamp", required_argument, NULL, 'L'},  {"lang", required_argument, NULL, 'l'},
        {"script", required_argument, NULL, 's'},    {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},            {0}};
    lg_pack_parts parts = {0};
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': parts.base_dir = optarg; break;
        case 't': parts.table = optarg; break;
        case 'k': parts.tokenizer = optarg; break;
        case 'a': parts.adapter_dir = optarg; break;
        case 'L': parts.langsamp = optarg; break;
        case 'l': parts.language = optarg; break;
        case 's': parts.script = optarg; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!out || !parts.base_dir || !parts.table || !parts.tokenizer || optind != argc) {
        usage(stderr);
        return 2;
    }
    lg_error err;
    if (lg_pack_assemble(out, &parts, &err) < 0) {
        lg_error_print("adapt pack", &err);
        return 1;
    }
    printf("%s: pack assembled over %s\n", out, parts.base_dir);
    return 0;
}
