/* LoRA against PEFT: the fixture adapter's forward and gradients match HF, merging matches
 * PEFT's merge_and_unload(), save → load round-trips, a fresh adapter changes nothing,
 * and an adapter for another base is refused; a model whose weights are kept as stored is
 * refused by lg_lora_merge and merged by lg_model_save_dir_ex as the float32 one is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_check.h"
#include "lg_io.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf/"

static lg_model *load(const char *dir)
{
    lg_error err;
    lg_model *m = lg_model_load_dir(dir, &err);
    if (!m)
        fail_msg("%s", err.msg);
    return m;
}

static void adapter_matches_peft_reference(void **s)
{
    (void)s;
    lg_model *m = load(FIX "llama-tiny");
    lg_error err;
    assert_non_null(lg_lora_load_peft(m, FIX "llama-tiny-lora", &err));
    assert_int_equal(m->lora->cfg.rank, 4);
    assert_true(m->lora->scale == 2.0f); /* alpha 8 / r 4 */
    lg_check_report r;
    if (lg_check_reference(m, FIX "llama-tiny-lora/reference.safetensors", &r, &err) < 0)
        fail_msg("%s", err.msg);
    for (int g = 0; g < LG_GROUP_COUNT; g++) {
        printf("%-14s %.3e over %d tensors (worst %s)\n", lg_check_group_name(g), r.max_err[g],
               r.tensors[g], r.worst[g]);
        assert_true(r.max_err[g] <= r.tolerance[g]);
    }
    /* 2 layers × 7 targets × (A, B) + embed_tokens + lm_head */
    assert_int_equal(r.tensors[LG_GROUP_GRADS], 2 * 7 * 2 + 2);
    /* the base stays frozen: only modules_to_save have base gradients */
    for (int i = 0; i < m->n_entries; i++) {
        int saved = !strcmp(m->entries[i].name, "model.embed_tokens.weight") ||
                    !strcmp(m->entries[i].name, "lm_head.weight");
        assert_int_equal(m->entries[i].grad != NULL, saved);
    }
    lg_model_free(m);
}

static void merge_equals_peft_merge_and_unload(void **s)
{
    (void)s;
    lg_model *m = load(FIX "llama-tiny");
    lg_error err;
    assert_non_null(lg_lora_load_peft(m, FIX "llama-tiny-lora", &err));
    assert_int_equal(lg_lora_merge(m, &err), 0);
    assert_null(m->lora);
    lg_weights *w = lg_weights_open_dir(FIX "llama-tiny-lora/merged", &err);
    assert_non_null(w);
    double worst = 0;
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        const lg_tensor_info *t = lg_weights_find(w, e->name);
        assert_non_null(t);
        float *ref = malloc(e->numel * sizeof *ref);
        assert_int_equal(lg_tensor_to_f32(t, ref, &err), 0);
        for (size_t j = 0; j < e->numel; j++)
            worst = fmax(worst, fabs((double)ref[j] - e->param[j]));
        free(ref);
    }
    printf("merged weights: max abs difference %.3g\n", worst);
    assert_true(worst <= 1e-6);
    lg_weights_close(w);
    lg_model_free(m);
}

static void save_then_load_round_trips(void **s)
{
    (void)s;
    lg_model *m = load(FIX "llama-tiny");
    lg_error err;
    assert_non_null(lg_lora_load_peft(m, FIX "llama-tiny-lora", &err));
    const char *dir = "build/test_lora_saved";
    if (lg_lora_save_peft(m, dir, "llama-tiny", &err) < 0)
        fail_msg("%s", err.msg);
    lg_model *m2 = load(FIX "llama-tiny");
    assert_non_null(lg_lora_load_peft(m2, dir, &err));
    assert_int_equal(m2->lora->n_params, m->lora->n_params);
    assert_memory_equal(m2->lora->param_mem, m->lora->param_mem, m->lora->n_params * sizeof(float));
    assert_memory_equal(m2->p.embed, m->p.embed, m->entries[0].numel * sizeof(float));
    assert_memory_equal(m2->p.lm_head, m->p.lm_head, m->entries[0].numel * sizeof(float));
    assert_true(m2->lora->cfg.save_embed_tokens && m2->lora->cfg.save_lm_head);
    assert_int_equal(m2->lora->cfg.target_mask, m->lora->cfg.target_mask);
    lg_model_free(m);
    lg_model_free(m2);
}

static void fresh_adapter_changes_nothing(void **s)
{
    (void)s;
    lg_model *m = load(FIX "llama-tiny");
    lg_error err;
    int32_t ids[12];
    for (int i = 0; i < 12; i++)
        ids[i] = (i * 31 + 7) % m->cfg.vocab_size;
    assert_int_equal(lg_model_forward(m, ids, NULL, 2, 6, &err), 0);
    size_t n = (size_t)12 * m->cfg.vocab_size;
    float *before = malloc(n * sizeof *before);
    memcpy(before, m->a.logits, n * sizeof *before);
    lg_lora_config cfg = {.rank = 8, .alpha = 16, .target_mask = (1u << LG_LORA_NTARGETS) - 1};
    lg_lora *l = lg_lora_attach(m, &cfg, 42, &err);
    assert_non_null(l);
    /* A ~ U(−1/√in, 1/√in), not all zero; B = 0 */
    const lg_param_entry *A = &l->entries[0], *B = &l->entries[1];
    double bound = 1 / sqrt((double)A->shape[1]), amax = 0;
    for (size_t j = 0; j < A->numel; j++)
        amax = fmax(amax, fabs(A->param[j]));
    assert_true(amax > 0.5 * bound && amax <= bound);
    for (size_t j = 0; j < B->numel; j++)
        assert_true(B->param[j] == 0);
    assert_int_equal(lg_model_forward(m, ids, NULL, 2, 6, &err), 0);
    assert_memory_equal(before, m->a.logits, n * sizeof *before);
    free(before);
    lg_model_free(m);
}

static void adapter_for_another_base_is_refused(void **s)
{
    (void)s;
    lg_model *m = load(FIX "qwen2-tiny");
    lg_error err = {{0}};
    assert_null(lg_lora_load_peft(m, FIX "llama-tiny-lora", &err));
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "adapter_model.safetensors"));
    assert_non_null(strstr(err.msg, "shape"));
    assert_null(m->lora);
    lg_model_free(m);
}

static void targets_parse(void **s)
{
    (void)s;
    unsigned mask;
    lg_error err;
    assert_int_equal(lg_lora_parse_targets("q,v", &mask, &err), 0);
    assert_int_equal(mask, (1u << LG_LORA_Q) | (1u << LG_LORA_V));
    assert_int_equal(lg_lora_parse_targets("gate_proj,down", &mask, &err), 0);
    assert_int_equal(mask, (1u << LG_LORA_GATE) | (1u << LG_LORA_DOWN));
    assert_int_equal(lg_lora_parse_targets("q,attn", &mask, &err), -1);
    assert_non_null(strstr(err.msg, "attn"));
    /* GPT-2's modules as PEFT names them; c_proj matches both, as PEFT's suffix match */
    assert_int_equal(lg_lora_parse_targets("c_attn,mlp.c_proj", &mask, &err), 0);
    assert_int_equal(mask, (1u << LG_LORA_Q) | (1u << LG_LORA_DOWN));
    assert_int_equal(lg_lora_parse_targets("c_proj,c_fc", &mask, &err), 0);
    assert_int_equal(mask, (1u << LG_LORA_O) | (1u << LG_LORA_DOWN) | (1u << LG_LORA_UP));
}

/* The bytes of a file (NULL when it cannot be read). */
static char *slurp(const char *path, size_t *len)
{
    lg_error err;
    return lg_read_file(path, (size_t)1 << 30, len, &err);
}

/* An adapter on every target with every value non-zero (PEFT's B starts at zero). */
static void attach_busy_adapter(lg_model *m)
{
    lg_error err;
    lg_lora_config cfg = {.rank = 2, .alpha = 4, .target_mask = (1u << LG_LORA_NTARGETS) - 1};
    lg_lora *l = lg_lora_attach(m, &cfg, 7, &err);
    if (!l)
        fail_msg("%s", err.msg);
    for (size_t i = 0; i < l->n_params; i++)
        l->param_mem[i] = 0.05f * sinf((float)i);
}

/* A model whose adapted weights are kept as stored: lg_lora_merge refuses it by name and
 * leaves the model as it was; lg_model_save_dir_ex merges tensor by tensor while writing,
 * byte for byte what the float32 model merged in place writes, in every dtype. */
static void stored_weights_merge_only_while_written(void **s)
{
    (void)s;
    const char *bases[] = {FIX "llama-tiny", FIX "llama-tiny-tied-bf16-sharded"};
    const lg_dtype dts[] = {LG_DT_F32, LG_DT_BF16, LG_DT_F16};
    for (int b = 0; b < 2; b++) {
        lg_error err = {{0}};
        lg_model *st = lg_model_load_dir_ex(bases[b], LG_LOAD_STORED | LG_LOAD_RELEASE, &err);
        if (!st)
            fail_msg("%s", err.msg);
        attach_busy_adapter(st);
        lg_lora *l = st->lora;
        assert_int_equal(lg_lora_merge(st, &err), -1);
        printf("refused: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "model.layers.0.self_attn.q_proj.weight is kept as "
                                        "stored"));
        assert_true(st->lora == l); /* still attached, nothing merged */
        for (int d = 0; d < 3; d++) {
            lg_model *f = load(bases[b]);
            attach_busy_adapter(f);
            assert_int_equal(lg_lora_merge(f, &err), 0);
            assert_null(f->lora);
            if (lg_model_save_dir(f, "build/test_lora_merged_f32", dts[d], &err) < 0 ||
                lg_model_save_dir_ex(st, "build/test_lora_merged_stored", dts[d],
                                     LG_SAVE_MERGE_LORA, &err) < 0)
                fail_msg("%s", err.msg);
            assert_true(st->lora == l);
            size_t na, nb;
            char *a = slurp("build/test_lora_merged_f32/model.safetensors", &na);
            char *c = slurp("build/test_lora_merged_stored/model.safetensors", &nb);
            assert_non_null(a);
            assert_non_null(c);
            assert_int_equal(na, nb);
            assert_memory_equal(a, c, na);
            free(a);
            free(c);
            lg_model_free(f);
        }
        lg_model_free(st);
    }
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adapter_matches_peft_reference),
        cmocka_unit_test(merge_equals_peft_merge_and_unload),
        cmocka_unit_test(save_then_load_round_trips),
        cmocka_unit_test(fresh_adapter_changes_nothing),
        cmocka_unit_test(adapter_for_another_base_is_refused),
        cmocka_unit_test(targets_parse),
        cmocka_unit_test(stored_weights_merge_only_while_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
