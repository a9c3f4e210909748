/* libFuzzer harness: arbitrary bytes through the GGUF reader (lg_gguf_open_memory, the
 * parser lg_gguf_open runs over its mapping); whatever it accepts must be safe to look up,
 * describe and convert. Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void typed_lookups(const lg_gguf *g, const lg_gguf_kv *kv)
{
    lg_error err = {{0}};
    uint32_t u;
    int32_t i;
    float f;
    int b;
    int got = lg_gguf_get_u32(g, kv->key, &u, &err) == 0;
    got += lg_gguf_get_i32(g, kv->key, &i, &err) == 0;
    got += lg_gguf_get_f32(g, kv->key, &f, &err) == 0;
    got += lg_gguf_get_bool(g, kv->key, &b, &err) == 0;
    got += lg_gguf_get_str(g, kv->key, &err) != NULL;
    got += lg_gguf_get_arr(g, kv->key, kv->arr_type, &err) != NULL;
    if (got > 1)
        abort();                        /* a value has one type */
    if (kv->type == LG_GGUF_ARRAY) {
        if (kv->arr_type == LG_GGUF_STRING)
            for (uint64_t k = 0; k < kv->arr_count; k++)
                (void)strlen(kv->arr_str[k]);
        else if (kv->arr_count) {
            volatile uint8_t last = ((const uint8_t *)kv->arr)[kv->arr_count - 1];
            (void)last;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    lg_gguf *g = lg_gguf_open_memory(data, size, "fuzz.gguf", &err);
    if (!g) {
        fuzz_refusal(&err, "fuzz.gguf");
        return 0;
    }
    uint32_t align = lg_gguf_alignment(g);
    if (!align || (align & (align - 1)) || lg_gguf_data_offset(g) % align)
        abort();
    for (int k = 0; k < lg_gguf_kv_count(g); k++) {
        const lg_gguf_kv *kv = lg_gguf_kv_at(g, k);
        if (!kv || lg_gguf_find_kv(g, kv->key) != kv)
            abort();                    /* keys are unique */
        typed_lookups(g, kv);
    }
    for (int k = 0; k < lg_gguf_tensor_count(g); k++) {
        const lg_gguf_tensor *t = lg_gguf_tensor_at(g, k);
        if (!t || lg_gguf_find_tensor(g, t->name) != t)
            abort();                    /* names are unique */
        if ((const uint8_t *)t->data < data || t->nbytes > size ||
            (const uint8_t *)t->data + t->nbytes > data + size)
            abort();                    /* the data lie inside the file */
        float *dst = malloc((size_t)t->numel * sizeof(float));
        if (!dst || lg_gguf_tensor_to_f32(t, dst, &err) != 0)
            abort();
        free(dst);
    }
    lg_gguf_describe(g, fuzz_null());
    lg_gguf_close(g);
    return 0;
}
