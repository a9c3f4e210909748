/* libFuzzer harness: arbitrary text as a training checkpoint's trainer_state.json, read with
 * lg_checkpoint_read_state and compared with a run's state by lg_checkpoint_check, as
 * `lm train --resume` does. Every refusal names the checkpoint. Built by `make fuzz-build`,
 * run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_checkpoint.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], state_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_join(dir, fuzz_dir("state"), "step-000010");
    fuzz_mkdir(dir);
    fuzz_join(state_path, dir, "trainer_state.json");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    fuzz_write(state_path, data, size);
    lg_train_state st;
    if (lg_checkpoint_read_state(dir, &st, &err) < 0) {
        fuzz_refusal(&err, dir);
        return 0;
    }
    if (lg_checkpoint_check(dir, &st, &st, &err) != 0)
        abort();                        /* a state matches itself */
    /* the run of the seed tests/fuzz/seeds/trainer_state/full.json (tests/fixtures/hf/llama-tiny) */
    lg_train_state run = {.step = 2, .seed = 7, .batch = 2, .seq_len = 32, .accum = 1,
                          .train_rows_from = -1, .data_tokens = 19134,
                          .model = {.vocab_size = 301, .hidden_size = 64, .n_layers = 2,
                                    .n_heads = 4, .n_kv_heads = 2, .intermediate_size = 176}};
    snprintf(run.model.model_type, sizeof run.model.model_type, "llama");
    if (lg_checkpoint_check(dir, &st, &run, &err) != 0)
        fuzz_refusal(&err, dir);
    return 0;
}
