/* adapt info: what a pack holds, and whether it fits a base model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lg_adapt_cli.h"
#include "lg_cli.h"
#include "lg_export.h"
#include "lg_pack.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

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
    const char *pack = NULL, *base = NULL;
    lg_opt opts[] = {
        {LG_INPUT(&pack), .name = "PACK", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "a pack directory, a `transfer init` table, or\na .gguf file"},
        {LG_INPUT(&base), .name = "base", .arg = "DIR",
         .help = "load the pack over this base model: exit 1\nwhen the shapes or the base "
                 "fingerprint do not\nmatch"},
        {0}};
    lg_cli c = {.prog = "adapt", .name = "info", .opts = opts,
                .usage = "PACK [--base DIR]\n       adapt info FILE.gguf",
                .about = "Prints the pack's metadata, tensors, adapter and language/script "
                         "vectors.\nA .gguf file is validated and its keys and tensors listed."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    size_t len = strlen(pack);
    if (len > 5 && !strcmp(pack + len - 5, ".gguf")) {
        lg_error gerr;
        lg_gguf *g = lg_gguf_open(pack, &gerr);
        if (!g)
            return lg_cli_finish(&c, lg_cli_fail(&c, &gerr));
        lg_gguf_describe(g, stdout);
        lg_gguf_close(g);
        return lg_cli_finish(&c, 0);
    }
    char table[4096], path[4200];
    lg_pack_table_path(pack, table);
    lg_error err;
    lg_safetensors *st = lg_st_open(table, &err);
    if (!st)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
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
        return lg_cli_finish(&c, 0);
    lg_model *m = lg_model_open(base, pack, &err);
    if (!m)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    printf("fits base %s: vocabulary %d, hidden %d, %s head%s%s\n", base, m->cfg.vocab_size,
           m->cfg.hidden_size, m->cfg.tie_word_embeddings ? "tied" : "untied",
           m->lora ? ", LoRA adapter" : "", m->langsamp ? ", language/script vectors" : "");
    lg_model_free(m);
    return lg_cli_finish(&c, 0);
}
