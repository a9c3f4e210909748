/* libFuzzer harness: arbitrary bytes through the safetensors parser (lg_st_open_memory, the
 * parser lg_st_open runs over its mapping); whatever it accepts must be safe to look up and
 * convert. Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    lg_safetensors *st = lg_st_open_memory(data, size, "fuzz.safetensors", &err);
    if (!st) {
        fuzz_refusal(&err, "fuzz.safetensors");
        return 0;
    }
    lg_st_metadata(st, "format");
    for (int i = 0; i < lg_st_count(st); i++) {
        const lg_tensor_info *t = lg_st_tensor(st, i);
        if (lg_st_find(st, t->name) != t)
            abort();
        /* data lie inside the buffer: nbytes = numel × dtype size ≤ size */
        if ((const uint8_t *)t->data < data || (const uint8_t *)t->data + t->nbytes > data + size)
            abort();
        if (t->nbytes != (size_t)t->numel * lg_dtype_size(t->dtype))
            abort();
        size_t n = t->numel ? (size_t)t->numel : 1;
        void *buf = malloc(n * 8);
        if (!buf)
            abort();
        if (lg_tensor_to_f32(t, buf, &err) != 0)
            lg_tensor_to_i64(t, buf, &err);
        lg_tensor_expect_shape(t, t->ndim, t->shape, &err);
        free(buf);
    }
    lg_st_close(st);
    return 0;
}
