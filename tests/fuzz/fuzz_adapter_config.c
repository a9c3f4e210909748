/* libFuzzer harness: arbitrary text as a PEFT adapter's adapter_config.json, beside the
 * adapter_model.safetensors of tests/fixtures/hf/llama-tiny-lora, loaded onto its base
 * (tests/fixtures/hf/llama-tiny) with lg_lora_load_peft, as `lm` does with --adapter or
 * with a pack's adapter/. An accepted adapter must be attached and consistent; every
 * refusal names the adapter directory or a file in it. Built by `make fuzz-build`, run by
 * tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_lora.h"
#include "lg_model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], config_path[4096];
static lg_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    lg_error err = {{0}};
    if (!(model = lg_model_load_dir(FUZZ_FIXTURE("tests/fixtures/hf/llama-tiny"), &err))) {
        fprintf(stderr, "fuzz harness: %s\n", err.msg);
        abort();
    }
    char path[4096];
    fuzz_join(dir, fuzz_dir("adapter"), "adapter");
    fuzz_mkdir(dir);
    fuzz_symlink(FUZZ_FIXTURE("tests/fixtures/hf/llama-tiny-lora/adapter_model.safetensors"),
                 fuzz_join(path, dir, "adapter_model.safetensors"));
    fuzz_join(config_path, dir, "adapter_config.json");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    fuzz_write(config_path, data, size);
    lg_lora *l = lg_lora_load_peft(model, dir, &err);
    if (!l) {
        fuzz_refusal(&err, dir);
        if (model->lora)
            abort();                    /* a refused adapter is not left attached */
        return 0;
    }
    if (model->lora != l || l->cfg.rank < 1 || !l->cfg.target_mask || !(l->scale == l->scale))
        abort();
    for (int i = 0; i < l->n_entries; i++)
        if (lg_lora_find(l, l->entries[i].name) != &l->entries[i])
            abort();
    model->lora = NULL;
    lg_lora_free(l);
    return 0;
}
