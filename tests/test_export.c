/* adapt export --hf: the exported directory reloads in lm with the same logits, merged or
 * with the adapter kept, and carries the tokenizer files LlamaTokenizer reads. */
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

#include "lg_io.h"
#include "lg_model.h"
#include "lg_export.h"
#include "lg_pack.h"
#include "lg_transfer.h"
#include "lg_lora.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf/"
#define TOK "tests/data/gguf/tiny301.model"
#define PACK "build/test_export.pack"
enum { B = 2, T = 7 };

static float *logits_of(lg_model *m)
{
    lg_error err;
    int32_t ids[B * T];
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 41 + 2) % m->cfg.vocab_size;
    if (lg_model_forward(m, ids, NULL, B, T, &err) < 0)
        fail_msg("%s", err.msg);
    size_t n = (size_t)B * T * m->cfg.vocab_size;
    float *out = malloc(n * sizeof *out);
    memcpy(out, m->a.logits, n * sizeof *out);
    return out;
}

static void assert_close(const float *a, const float *b, size_t n, float tol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]) / (1 + fabs(a[i])));
    printf("max relative difference %.3g\n", worst);
    assert_true(worst <= tol);
}

/* A pack over llama-tiny: its own embeddings as the table, plus the fixture's adapter. */
static void make_pack(void)
{
    lg_error err;
    lg_model *base = lg_model_load_dir(FIX "llama-tiny", &err);
    char sha[65];
    assert_int_equal(lg_sha256_file(TOK, sha, &err), 0);
    lg_pack_meta meta = {.base_model = FIX "llama-tiny", .tokenizer_sha256 = sha, .language = "nld",
                         .method = "test"};
    assert_int_equal(lg_pack_write("build/test_export_table.safetensors", base->p.embed,
                                   base->p.lm_head, 301, 64, LG_DT_F32, &meta, &err), 0);
    lg_pack_parts parts = {.table = "build/test_export_table.safetensors", .tokenizer = TOK,
                           .base_dir = FIX "llama-tiny", .adapter_dir = FIX "llama-tiny-lora"};
    lg_remove_tree(PACK);
    if (lg_pack_assemble(PACK, &parts, &err) < 0)
        fail_msg("%s", err.msg);
    lg_model_free(base);
}

static void merged_export_reloads_with_same_logits(void **s)
{
    (void)s;
    make_pack();
    lg_error err;
    lg_model *m = lg_model_open(FIX "llama-tiny", PACK, &err);
    assert_non_null(m);
    assert_non_null(m->lora);
    float *want = logits_of(m);
    lg_model_free(m);
    lg_export_opts o = {.base_dir = FIX "llama-tiny", .pack = PACK, .stored_dtype = LG_DT_F32};
    lg_remove_tree("build/test_export_hf");
    if (lg_export_hf(&o, "build/test_export_hf", &err) < 0)
        fail_msg("%s", err.msg);
    const char *files[] = {"config.json", "model.safetensors", "tokenizer.model",
                           "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[256];
        snprintf(p, sizeof p, "build/test_export_hf/%s", files[i]);
        assert_int_equal(access(p, F_OK), 0);
    }
    lg_config cfg;
    assert_int_equal(lg_config_load_dir("build/test_export_hf", &cfg, &err), 0);
    assert_int_equal(cfg.vocab_size, 301);
    assert_int_equal(cfg.bos_token_id, 1); /* the tokenizer's <s> */
    lg_model *back = lg_model_load_dir("build/test_export_hf", &err);
    assert_non_null(back);
    assert_null(back->lora);
    float *got = logits_of(back);
    assert_close(want, got, (size_t)B * T * 301, 1e-5f);
    free(want);
    free(got);
    lg_model_free(back);
}

static void export_keeping_the_adapter(void **s)
{
    (void)s;
    lg_error err;
    lg_model *m = lg_model_open(FIX "llama-tiny", PACK, &err);
    assert_non_null(m);
    float *want = logits_of(m);
    lg_model_free(m);
    lg_export_opts o = {.base_dir = FIX "llama-tiny", .pack = PACK, .keep_adapter = 1,
                        .stored_dtype = LG_DT_F32};
    lg_remove_tree("build/test_export_peft");
    if (lg_export_hf(&o, "build/test_export_peft", &err) < 0)
        fail_msg("%s", err.msg);
    lg_model *back = lg_model_load_dir("build/test_export_peft", &err);
    assert_non_null(back);
    assert_non_null(lg_lora_load_peft(back, "build/test_export_peft/adapter", &err));
    float *got = logits_of(back);
    assert_close(want, got, (size_t)B * T * 301, 1e-6f);
    free(want);
    free(got);
    lg_model_free(back);
}

static void export_without_tokenizer_fails_cleanly(void **s)
{
    (void)s;
    lg_error err;
    lg_export_opts o = {.base_dir = FIX "llama-tiny", .stored_dtype = LG_DT_F32};
    lg_remove_tree("build/test_export_none");
    assert_int_equal(lg_export_hf(&o, "build/test_export_none", &err), -1);
    assert_non_null(strstr(err.msg, "tokenizer"));
    assert_int_not_equal(access("build/test_export_none", F_OK), 0);
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merged_export_reloads_with_same_logits),
        cmocka_unit_test(export_keeping_the_adapter),
        cmocka_unit_test(export_without_tokenizer_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
