/* libFuzzer harness: arbitrary text as DIR/model.safetensors.index.json beside the eight
 * shards of tests/fixtures/hf/llama-tiny-tied-bf16-sharded, opened as a model directory
 * with lg_weights_open_dir (what lm and adapt do with a sharded download). Whatever it
 * accepts must be a consistent weights set; every refusal names the directory or a file in
 * it. Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_safetensors.h"

#define SHARDED FUZZ_FIXTURE("tests/fixtures/hf/llama-tiny-tied-bf16-sharded")

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], index_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_join(dir, fuzz_dir("st-index"), "model");
    fuzz_mkdir(dir);
    for (int i = 1; i <= 8; i++) {
        char name[64], from[4096], to[4096];
        snprintf(name, sizeof name, "model-%05d-of-00008.safetensors", i);
        fuzz_symlink(fuzz_join(from, SHARDED, name), fuzz_join(to, dir, name));
    }
    fuzz_join(index_path, dir, "model.safetensors.index.json");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    fuzz_write(index_path, data, size);
    lg_weights *w = lg_weights_open_dir(dir, &err);
    if (!w) {
        fuzz_refusal(&err, dir);
        return 0;
    }
    const lg_tensor_info *prev = NULL;
    for (int i = 0; i < lg_weights_count(w); i++) {
        const lg_tensor_info *t = lg_weights_tensor(w, i);
        if (!t || lg_weights_find(w, t->name) != t)
            abort();
        if (prev && strcmp(prev->name, t->name) >= 0)   /* sorted, no name twice */
            abort();
        if (!t->file || strncmp(t->file, dir, strlen(dir)) != 0)
            abort();                                      /* never outside the directory */
        prev = t;
    }
    if (lg_weights_tensor(w, lg_weights_count(w)) || lg_weights_find(w, "no such tensor"))
        abort();
    lg_weights_close(w);
    return 0;
}
