/* adapt info: what a pack holds, and whether it fits a base model. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_adapt_cli.h"
#include "lg_export.h"
#include "lg_pack.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: adapt info PACK [--base DIR]\n"
               "       adapt info FILE.gguf\n"
               "Prints the pack's metadata, tensors, adapter and language/script vectors.\n"
               "With --base, loads the pack over the base model: exits 1 when the shapes or the\n"
               "base fingerprint do not match. A .gguf file is validated and its keys and\n"
               "tensors listed.\n");
}

static void print_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        printf("  %s", line);
    fclose(f);
}

int lg_adapt_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"base", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *base = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'b')
            base = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    const char *pack = argv[optind];
    size_t len = strlen(pack);
    if (len > 5 && !strcmp(pack + len - 5, ".gguf")) {
        lg_error gerr;
        lg_gguf *g = lg_gguf_open(pack, &gerr);
        if (!g) {
            lg_error_print("adapt info", &gerr);
            return 1;
        }
        lg_gguf_describe(g, stdout);
        lg_gguf_close(g);
        return 0;
    }
    char table[4096], path[4200];
    lg_pack_table_path(pack, table);
    lg_error err;
    lg_safetensors *st = lg_st_open(table, &err);
    if (!st) {
        lg_error_print("adapt info", &err);
        return 1;
    }
    printf("pack %s\n", pack);
    snprintf(path, sizeof path, "%s/pack.json", pack);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        printf("pack.json:\n");
        print_file(path);
    }
    printf("table %s:\n", table);
    const char *keys[] = {"language", "script", "method", "base_model", "tokenizer_sha256",
                          "init_counts", "langsamp.langs", "langsamp.scripts"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = lg_st_metadata(st, keys[i]);
        if (v)
            printf("  %-18s %s\n", keys[i], v);
    }
    for (int i = 0; i < lg_st_count(st); i++) {
        const lg_tensor_info *t = lg_st_tensor(st, i);
        printf("  tensor %-28s %s [", t->name, lg_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
        printf("]\n");
    }
    lg_st_close(st);
    snprintf(path, sizeof path, "%s/adapter/adapter_config.json", pack);
    if (stat(path, &sb) == 0)
        printf("adapter: %s/adapter (PEFT LoRA)\n", pack);
    snprintf(path, sizeof path, "%s/langsamp.safetensors", pack);
    if (stat(path, &sb) == 0)
        printf("language/script vectors: %s\n", path);
    if (!base)
        return 0;
    lg_model *m = lg_model_open(base, pack, &err);
    if (!m) {
        lg_error_print("adapt info", &err);
        return 1;
    }
    printf("fits base %s: vocabulary %d, hidden %d, %s head%s%s\n", base, m->cfg.vocab_size,
           m->cfg.hidden_size, m->cfg.tie_word_embeddings ? "tied" : "untied",
           m->lora ? ", LoRA adapter" : "", m->langsamp ? ", language/script vectors" : "");
    lg_model_free(m);
    return 0;
}
