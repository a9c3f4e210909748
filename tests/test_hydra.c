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
#include "lg_safetensors.h"
#include "lg_spm.h"

#define FIX "tests/fixtures/hf/"
#define TOK "tests/data/gguf/tiny301.model"
enum { B = 2, T = 8 };

/* A table with the first n rows of the base's embeddings and head. */
static void write_table(const lg_model *base, int n, const char *path, const char *tok)
{
    char sha[65];
    lg_error err;
    assert_int_equal(lg_sha256_file(tok, sha, &err), 0);
    lg_pack_meta meta = {.base_model = FIX "llama-tiny", .tokenizer_sha256 = sha, .language = "nld",
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
    lg_pack_meta meta = {.method = "test", .base_fingerprint = "another"};
    assert_int_equal(lg_pack_write("build/test_hydra_h32.safetensors", rows, rows, 4, 32, LG_DT_F32,
                                   &meta, &err), 0);
    assert_null(lg_model_open(FIX "llama-tiny", "build/test_hydra_h32.safetensors", &err));
    assert_non_null(strstr(err.msg, "hidden size 64"));
}

static void refused_with(const char *base, const char *pack, const char *want)
{
    lg_error err = {{0}};
    lg_model *m = lg_model_open(base, pack, &err);
    if (m)
        fail_msg("%s over %s was accepted", pack, base);
    printf("refused: %s\n", err.msg);
    if (!strstr(err.msg, want))
        fail_msg("'%s' lacks '%s'", err.msg, want);
}

/* Every load verifies what it reads: the checksums pack.json lists, pack.json itself, the
 * base fingerprint of a pack and of a bare table; a tokenizer named beside a pack must be
 * the pack's. Before, each of these loaded with silently wrong results. */
static void loads_verify_checksums_and_fingerprints(void **s)
{
    (void)s;
    lg_error err = {{0}};
    lg_model *base = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(base);
    const char *table = "build/test_hydra_verify.safetensors";
    write_table(base, 301, table, TOK);
    /* the table carries its base's fingerprint */
    char fp[65];
    assert_int_equal(lg_base_fingerprint(FIX "llama-tiny", fp, &err), 0);
    lg_safetensors *st = lg_st_open(table, &err);
    assert_non_null(st);
    assert_string_equal(lg_st_metadata(st, "base_fingerprint"), fp);
    lg_st_close(st);
    /* ... and is refused over another base */
    assert_int_equal(system("rm -rf build/test_hydra_v_other && mkdir -p build/test_hydra_v_other && "
                            "cp " FIX "llama-tiny/model.safetensors build/test_hydra_v_other/ && "
                            "sed 's/1e-05/3e-05/' " FIX "llama-tiny/config.json "
                            "> build/test_hydra_v_other/config.json"), 0);
    refused_with("build/test_hydra_v_other", table, "fingerprint");
    /* a table without one (written before fingerprints) is refused, not trusted */
    lg_st_writer *w = lg_st_writer_new();
    const int64_t shape[2] = {301, 64};
    assert_int_equal(lg_st_writer_add_f32(w, "model.embed_tokens.weight", LG_DT_F32, 2, shape,
                                          base->p.embed, &err), 0);
    assert_int_equal(lg_st_writer_add_f32(w, "lm_head.weight", LG_DT_F32, 2, shape,
                                          base->p.lm_head, &err), 0);
    assert_int_equal(lg_st_writer_write(w, "build/test_hydra_nofp.safetensors", &err), 0);
    lg_st_writer_free(w);
    refused_with(FIX "llama-tiny", "build/test_hydra_nofp.safetensors", "no base fingerprint");
    /* rows that are not finite are never written */
    float *rows = malloc(sizeof(float) * 301 * 64);
    memcpy(rows, base->p.embed, sizeof(float) * 301 * 64);
    rows[64 * 7 + 3] = NAN;
    lg_pack_meta meta = {.base_model = FIX "llama-tiny", .method = "test"};
    assert_int_equal(lg_pack_write("build/test_hydra_nan.safetensors", rows, NULL, 301, 64,
                                   LG_DT_F32, &meta, &err), -1);
    assert_non_null(strstr(err.msg, "row 7"));
    assert_int_not_equal(access("build/test_hydra_nan.safetensors", F_OK), 0);
    free(rows);

    /* an assembled pack, then damaged copies of it */
    lg_pack_parts parts = {.table = table, .tokenizer = TOK, .base_dir = FIX "llama-tiny"};
    assert_int_equal(system("rm -rf build/test_hydra_v.pack build/test_hydra_v2.pack"), 0);
    if (lg_pack_assemble("build/test_hydra_v.pack", &parts, &err) < 0)
        fail_msg("%s", err.msg);
    lg_model *m = lg_model_open(FIX "llama-tiny", "build/test_hydra_v.pack", &err);
    assert_non_null(m);
    lg_model_free(m);
    assert_int_equal(lg_pack_check_tokenizer("build/test_hydra_v.pack", TOK, &err), 0);
    assert_int_equal(lg_pack_check_tokenizer("build/test_hydra_v.pack",
                                             "tests/data/gguf/bpe301.model", &err), -1);
    assert_non_null(strstr(err.msg, "bpe301.model"));
    assert_int_equal(lg_pack_check_tokenizer(table, "tests/data/gguf/bpe301.model", &err), -1);
    lg_tokenizer *tok = lg_pack_tokenizer("tests/data/gguf/bpe301.model", "build/test_hydra_v.pack",
                                          &err);
    assert_null(tok);
    tok = lg_pack_tokenizer(NULL, "build/test_hydra_v.pack", &err);
    assert_non_null(tok);
    lg_tokenizer_free(tok);
    const struct {
        const char *damage, *want;
    } cases[] = {
        {"printf 'x' | dd of=build/test_hydra_v2.pack/pack.safetensors bs=1 seek=4000 "
         "conv=notrunc 2>/dev/null", "pack.safetensors: sha256"},
        {"cp tests/data/gguf/bpe301.model build/test_hydra_v2.pack/tokenizer.model",
         "tokenizer.model: sha256"},
        {"rm build/test_hydra_v2.pack/pack.json", "pack.json: missing"},
        {"rm build/test_hydra_v2.pack/tokenizer.model", "tokenizer.model: missing"},
        {"mkdir build/test_hydra_v2.pack/adapter && "
         "cp " FIX "llama-tiny-lora/adapter_config.json build/test_hydra_v2.pack/adapter/",
         "adapter_config.json: not listed"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        assert_int_equal(system("rm -rf build/test_hydra_v2.pack && "
                                "cp -r build/test_hydra_v.pack build/test_hydra_v2.pack"), 0);
        assert_int_equal(system(cases[k].damage), 0);
        refused_with(FIX "llama-tiny", "build/test_hydra_v2.pack", cases[k].want);
    }
    assert_int_equal(system("rm -rf build/test_hydra_v.pack build/test_hydra_v2.pack "
                            "build/test_hydra_v_other build/test_hydra_nofp.safetensors"), 0);
    remove(table);
    lg_model_free(base);
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_swaps_the_vocabulary),
        cmocka_unit_test(assembled_pack_checks_its_base),
        cmocka_unit_test(pack_for_another_hidden_size_is_refused),
        cmocka_unit_test(loads_verify_checksums_and_fingerprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
