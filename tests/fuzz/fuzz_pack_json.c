/* libFuzzer harness: arbitrary text as a language pack's pack.json, in a pack assembled at
 * start-up by lg_pack_assemble (an embedding table made from the base's own rows, the
 * tokenizer tests/data/gguf/tiny301.model, the adapter tests/fixtures/hf/llama-tiny-lora),
 * loaded over its base tests/fixtures/hf/llama-tiny with lg_model_open, as `lm eval --pack`,
 * `lm train --pack` and `adapt export` do. Every refusal names the pack or a file in it.
 * Built by `make fuzz-build`, run by tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lg_model.h"
#include "lg_pack.h"
#include "lg_safetensors.h"

#define BASE FUZZ_FIXTURE("tests/fixtures/hf/llama-tiny")
#define TOKENIZER FUZZ_FIXTURE("tests/data/gguf/tiny301.model")
#define SEED FUZZ_FIXTURE("tests/fuzz/seeds/pack_json/pack.json")

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char pack[4096], pack_json[4096];

static void check(int ok, const lg_error *err)
{
    if (!ok) {
        fprintf(stderr, "fuzz harness: cannot make the pack: %s\n", err->msg);
        abort();
    }
}

/* A table as `transfer init` writes one: the base's embeddings and head, the tokenizer's
 * checksum, the base's fingerprint and the language in the metadata. */
static void write_table(const char *path)
{
    lg_error err = {{0}};
    lg_safetensors *base = lg_st_open(BASE "/model.safetensors", &err);
    check(base != NULL, &err);
    lg_st_writer *w = lg_st_writer_new();
    const char *names[] = {"model.embed_tokens.weight", "lm_head.weight"};
    float *rows[2];
    for (int i = 0; i < 2; i++) {
        const lg_tensor_info *t = lg_st_find(base, names[i]);
        check(t && (rows[i] = malloc((size_t)t->numel * sizeof(float))) &&
                  lg_tensor_to_f32(t, rows[i], &err) == 0 &&
                  lg_st_writer_add_f32(w, names[i], LG_DT_F32, 2, t->shape, rows[i], &err) == 0,
              &err);
    }
    char sha[65], fingerprint[65];
    check(lg_sha256_file(TOKENIZER, sha, &err) == 0 &&
              lg_base_fingerprint(BASE, fingerprint, &err) == 0 &&
              lg_st_writer_set_metadata(w, "tokenizer_sha256", sha, &err) == 0 &&
              lg_st_writer_set_metadata(w, "base_fingerprint", fingerprint, &err) == 0 &&
              lg_st_writer_set_metadata(w, "language", "xx", &err) == 0 &&
              lg_st_writer_set_metadata(w, "script", "Latn", &err) == 0 &&
              lg_st_writer_write(w, path, &err) == 0,
          &err);
    lg_st_writer_free(w);
    free(rows[0]);
    free(rows[1]);
    lg_st_close(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = fuzz_dir("pack");
    char table[4096];
    write_table(fuzz_join(table, dir, "table.safetensors"));
    lg_pack_parts parts = {.table = table, .tokenizer = TOKENIZER, .base_dir = BASE,
                           .adapter_dir = FUZZ_FIXTURE("tests/fixtures/hf/llama-tiny-lora")};
    lg_error err = {{0}};
    fuzz_join(pack, dir, "xx.pack");
    check(lg_pack_assemble(pack, &parts, &err) == 0, &err);
    fuzz_join(pack_json, pack, "pack.json");
    /* LG_FUZZ_SEED_OUT=FILE: write the assembled pack.json there (the seed) and stop */
    const char *seed_out = getenv("LG_FUZZ_SEED_OUT");
    if (seed_out && *seed_out) {
        size_t len;
        char *text = lg_read_file(pack_json, 1 << 20, &len, &err);
        check(text != NULL, &err);
        fuzz_write(seed_out, (const uint8_t *)text, len);
        free(text);
        exit(0);
    }
    /* the committed seed must be a pack.json this pack accepts, or the run explores
     * refusals only (it went stale once when tables gained base_fingerprint) */
    size_t len;
    char *seed = lg_read_file(SEED, 1 << 20, &len, &err);
    check(seed != NULL, &err);
    fuzz_write(pack_json, (const uint8_t *)seed, len);
    free(seed);
    lg_model *m = lg_model_open(BASE, pack, &err);
    if (!m) {
        fprintf(stderr, "fuzz harness: the seed %s is not accepted (%s); write it again with "
                        "LG_FUZZ_SEED_OUT=%s build/fuzz/fuzz_pack_json\n", SEED, err.msg, SEED);
        abort();
    }
    lg_model_free(m);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lg_error err = {{0}};
    fuzz_write(pack_json, data, size);
    lg_model *m = lg_model_open(BASE, pack, &err);
    if (!m) {
        fuzz_refusal(&err, pack);
        return 0;
    }
    if (m->cfg.vocab_size != 301 || !m->lora)
        abort();                        /* the pack's table and adapter are what was loaded */
    lg_model_free(m);
    return 0;
}
