/* libFuzzer harness: arbitrary text as a FreeDict dictionary's dictd index, over a fixed
 * data file of three articles (gzip, written at start-up as tests/corpora_pipeline.sh
 * writes its own), through lg_dictd_pairs as `corpora dictd` runs it, both directions.
 * Every refusal names the index. Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_common.h"
#include "lg_dictd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Three articles of dict-freedict-eng-nld; the seed index (tests/fuzz/seeds/dictd) points
 * at them: offset/length 0/37, 37/41, 78/36, in dictd's base64 A/l, l/p, BO/k. */
static const char articles[] =
    "able /eibl/\n1. in staat om\n2. bereid\n"
    "always /\311\224\313\220lweiz/\nalt\304\263d, immer, steeds\n"
    "about /\311\231baut/\n1. over\n2. aangaande\n";

static char index_path[4096], dict_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = fuzz_dir("dictd");
    fuzz_join(index_path, dir, "nld.index");
    fuzz_join(dict_path, dir, "nld.dict.dz");
    gzFile z = gzopen(dict_path, "wb9");
    if (!z || gzwrite(z, articles, sizeof articles - 1) != (int)(sizeof articles - 1) ||
        gzclose(z) != Z_OK)
        fuzz_die("cannot write", dict_path);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write(index_path, data, size);
    for (int reverse = 0; reverse < 2; reverse++) {
        lg_error err = {{0}};
        long n = lg_dictd_pairs(index_path, dict_path, reverse, fuzz_null(), &err);
        if (n < 0)
            fuzz_refusal(&err, index_path);
    }
    return 0;
}
