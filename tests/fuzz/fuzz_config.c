/* libFuzzer harness: arbitrary text through the config.json parser (lg_config_parse, what
 * lg_config_load runs over the file's bytes); whatever it accepts must be self-consistent.
 * Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_config cfg;
    lg_error err = {{0}};
    if (lg_config_parse((const char *)data, size, "fuzz.json", &cfg, &err) != 0) {
        fuzz_refusal(&err, "fuzz.json");
        return 0;
    }
    if (cfg.vocab_size <= 0 || cfg.hidden_size <= 0 || cfg.n_layers <= 0 || cfg.n_heads <= 0 ||
        cfg.n_kv_heads <= 0 || cfg.n_heads % cfg.n_kv_heads != 0 || cfg.head_dim <= 0 ||
        cfg.intermediate_size <= 0 || !(cfg.rms_norm_eps >= 0) || !(cfg.rope_theta > 0) ||
        lg_config_param_count(&cfg) <= 0)
        abort();
    return 0;
}
