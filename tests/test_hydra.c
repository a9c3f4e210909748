/* Swappable packs: an identity pack reproduces the base exactly; a smaller vocabulary gives
 * the base's logits restricted to its rows; packs assemble atomically, carry the base
 * fingerprint, and are refused over another base or with another tokenizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_pack.h"
#include "lg_transfer.h"
#include "lg_model.h"
#include "lg_io.h"

#define FIX "tests/fixtures/hf/"
#define TOK "tests/data/gguf/tiny301.model"
enum { B = 2, T = 8 };

/* A table with the first n rows of the base's embeddings and head. */
static void write_table(const lg_model *base, int n, const char *path, const char *tok)
{
    char sha[65];
    lg_error err;
    assert_int_equal(lg_sha256_file(tok, sha, &err), 0);
    lg_pack_meta meta = {.base_model = "llama-tiny", .tokenizer_sha256 = sha, .language = "nld",
                         .script = "Latn", .method = "identity"};
    if (lg_pack_write(path, base->p.embed, base->p.lm_head, n, base->cfg.hidden_size, LG_DT_F32,
                      &meta, &err) < 0)
        fail_msg("%s", err.msg);
}

static void logits_for(lg_model *m, float *out, int cols)
{
    lg_error err;
    int32_t ids[B * T];
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 29 + 3) % 97;
    assert_int_equal(lg_model_forward(m, ids, NULL, B, T, &err), 0);
    for (int r = 0; r < B * T; r++)
        memcpy(out + (size_t)r * cols, m->a.logits + (size_t)r * m->cfg.vocab_size, sizeof(float) * cols);
}

static void pack_swaps_the_vocabulary(void **s)
{
    (void)s;
    lg_error err;
    lg_model *base = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(base);
    float *want = malloc(sizeof(float) * B * T * 120), *got = malloc(sizeof(float) * B * T * 120);
    logits_for(base, want, 120);
    write_table(base, 120, "build/test_hydra_table.safetensors", TOK);
    lg_model *m = lg_model_open(FIX "llama-tiny", "build/test_hydra_table.safetensors", &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(m->cfg.vocab_size, 120);
    logits_for(m, got, 120);
    /* same hidden states, the head restricted to the pack's rows: the same logits (up to
     * the summation order OpenBLAS picks for another matrix width) */
    for (int i = 0; i < B * T * 120; i++)
        assert_float_equal(want[i], got[i], 1e-5f * (1 + fabsf(want[i])));
    lg_model_free(m);
    lg_model_free(base);
    free(want);
    free(got);
}

static void assembled_pack_checks_its_base(void **s)
{
    (void)s;
    lg_error err;
    lg_model *base = lg_model_load_dir(FIX "llama-tiny", &err);
    write_table(base, 301, "build/test_hydra_full.safetensors", TOK);
    lg_pack_parts parts = {.table = "build/test_hydra_full.safetensors", .tokenizer = TOK,
                           .base_dir = FIX "llama-tiny"};
    system("rm -rf build/test_hydra.pack build/test_hydra_other");
    if (lg_pack_assemble("build/test_hydra.pack", &parts, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(access("build/test_hydra.pack/pack.json", F_OK), 0);
    assert_int_equal(access("build/test_hydra.pack/tokenizer.model", F_OK), 0);
    char tok[4096];
    assert_true(lg_pack_tokenizer_path("build/test_hydra.pack", tok));
    lg_model *m = lg_model_open(FIX "llama-tiny", "build/test_hydra.pack", &err);
    assert_non_null(m);
    size_t n = (size_t)301 * 64;
    assert_memory_equal(m->p.embed, base->p.embed, n * sizeof(float));
    lg_model_free(m);
    /* a base with another config (another checkpoint) has another fingerprint */
    assert_int_equal(system("mkdir -p build/test_hydra_other && cp " FIX "llama-tiny/model.safetensors "
                            "build/test_hydra_other/ && sed 's/1e-05/2e-05/' " FIX "llama-tiny/config.json "
                            "> build/test_hydra_other/config.json"), 0);
    assert_null(lg_model_open("build/test_hydra_other", "build/test_hydra.pack", &err));
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "fingerprint"));
    /* a pack for another tokenizer is refused and leaves nothing behind */
    parts.tokenizer = "tests/data/gguf/tiny257.model";
    assert_int_equal(lg_pack_assemble("build/test_hydra_bad.pack", &parts, &err), -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_int_not_equal(access("build/test_hydra_bad.pack", F_OK), 0);
    lg_model_free(base);
}

static void pack_for_another_hidden_size_is_refused(void **s)
{
    (void)s;
    lg_error err;
    float rows[4 * 32] = {0};
    lg_pack_meta meta = {.method = "test"};
    assert_int_equal(lg_pack_write("build/test_hydra_h32.safetensors", rows, rows, 4, 32, LG_DT_F32,
                                   &meta, &err), 0);
    assert_null(lg_model_open(FIX "llama-tiny", "build/test_hydra_h32.safetensors", &err));
    assert_non_null(strstr(err.msg, "hidden size 64"));
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_swaps_the_vocabulary),
        cmocka_unit_test(assembled_pack_checks_its_base),
        cmocka_unit_test(pack_for_another_hidden_size_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
