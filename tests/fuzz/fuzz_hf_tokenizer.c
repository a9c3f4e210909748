/* libFuzzer harness: arbitrary text as a tokenizer.json (lg_hf_load_json, what lg_hf_load and
 * lg_tokenizer_load run over the file's bytes). Every refusal names the file; whatever it
 * accepts encodes a fixed text (ASCII, spaces and tabs, digits, contractions, accents, CJK,
 * emoji, its own added tokens) to ids inside its vocabulary and decodes them again.
 * Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "hf_tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
    "Hello, world! It's 2024:\t  12345678 d'Ac\xc3\xa7\xc3\xa3o  \r\n x",
    "\xce\x8c\xce\xa3\xce\x9f\xce\xa3 caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 <s>ab[X]</s>",
    "",
    "   ",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    lg_hf *t = lg_hf_load_json((const char *)data, size, "fuzz.json", &err);
    if (!t) {
        fuzz_refusal(&err, "fuzz.json");
        return 0;
    }
    int n = lg_hf_vocab_size(t);
    if (n < 0)
        abort();
    lg_token_ids ids = {0};
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        if (lg_hf_encode(t, texts[k], strlen(texts[k]), &ids, &err) < 0)
            continue; /* e.g. an ICU regex error: reported, not a crash */
        for (size_t i = 0; i < ids.n; i++)
            if (ids.ids[i] < 0 || ids.ids[i] >= n)
                abort();
        char *s = lg_hf_decode(t, ids.ids, ids.n, (int)(k & 1), &err);
        if (!s)
            abort(); /* every id of the vocabulary decodes */
        free(s);
    }
    for (int id = 0; id < n && id < 64; id++)
        (void)lg_hf_piece(t, id);
    lg_token_ids_free(&ids);
    lg_hf_free(t);
    return 0;
}
