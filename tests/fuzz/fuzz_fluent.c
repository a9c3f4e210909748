/* libFuzzer harness: arbitrary text as a Mozilla localisation file, read by both of its
 * readers, lg_fluent_each (.ftl) and lg_properties_each (.properties), as `corpora mozilla`
 * does with a language pack's files; every message passed on has a key and a value.
 * Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_fluent.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_join(path, fuzz_dir("fluent"), "messages.ftl");
    return 0;
}

static int message(void *ctx, const char *key, const char *value)
{
    long *count = ctx;
    (*count)++;
    if (!key || !value || !key[0] || !value[0])
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(path, data, size);
    for (int kind = 0; kind < 2; kind++) {
        lg_error err = {{0}};
        long count = 0;
        long n = kind ? lg_properties_each(path, message, &count, &err)
                      : lg_fluent_each(path, message, &count, &err);
        if (n < 0)
            fuzz_refusal(&err, path);
        else if (n != count)
            abort();
    }
    return 0;
}
