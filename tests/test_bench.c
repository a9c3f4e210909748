/* The benchmark's shapes and its FLOP count, against numbers worked out by hand for toy
 * configurations (C 4, 2 heads of 2, 1 KV head, F 6, V 10, one layer, 1 × 3 tokens; the
 * same as Qwen3 with head_dim 3, as Mistral with a window of 2, and a GPT-2 of F 16), and,
 * on the Llama shapes, against the formula with the Llama matrices written out that the
 * count from the architecture descriptor replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_bench.h"
#include "lg_lora.h"

static lg_config toy(void)
{
    lg_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 10;
    c.hidden_size = 4;
    c.n_layers = 1;
    c.n_heads = 2;
    c.n_kv_heads = 1;
    c.head_dim = 2;
    c.intermediate_size = 6;
    return c;
}

static void test_flops_by_hand(void **state)
{
    (void)state;
    lg_config c = toy();
    /* linears 96+48+48+96+144+144+144 = 720; causal attention 4·hd·(1·2·3·4/2) = 96;
     * LM head 2·3·4·10 = 240 */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_FORWARD, 0, 0) == 1056.0);
    /* backward: twice the linears, the attention and the head */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_TRAIN, 0, 0) == 3168.0);
    /* LoRA r=1 on all seven: 2·3·(in+out) each = 348 forward, 696 backward; frozen linears
     * and head only their input gradient */
    unsigned all = (1u << LG_LORA_NTARGETS) - 1;
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_LORA, 1, all) == 3252.0);
    /* LoRA on q only: 48 forward, 96 backward */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_LORA, 1, 1u << LG_LORA_Q) ==
                1056.0 + 48 + 720 + 96 + 192 + 240);
}

/* lm/bench.c's count before the descriptor: Llama's seven matrices written out */
static double llama_formula(const lg_config *c, int B, int T, lg_bench_mode mode, int rank,
                            unsigned lora_mask)
{
    const double N = (double)B * T, C = c->hidden_size, F = c->intermediate_size;
    const double QD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    const double V = c->vocab_size, hd = c->head_dim;
    const double io[LG_LORA_NTARGETS][2] = {{C, QD}, {C, KD}, {C, KD}, {QD, C},
                                            {C, F},  {C, F},  {F, C}};
    double linear = 0, lora = 0;
    for (int t = 0; t < LG_LORA_NTARGETS; t++) {
        linear += 2 * N * io[t][0] * io[t][1];
        if (mode == LG_BENCH_LORA && (lora_mask & (1u << t)))
            lora += 2 * N * rank * (io[t][0] + io[t][1]);
    }
    const double pairs = (double)B * c->n_heads * T * (T + 1) / 2;
    const double attn = 2 * (2 * hd * pairs);
    const double head = 2 * N * C * V;
    const double L = c->n_layers;
    const double fwd = L * (linear + lora + attn) + head;
    if (mode == LG_BENCH_TRAIN)
        return fwd + L * (2 * linear + 2 * attn) + 2 * head;
    if (mode == LG_BENCH_LORA)
        return fwd + L * (linear + 2 * lora + 2 * attn) + head;
    return fwd;
}

static void test_flops_llama_shapes_unchanged(void **state)
{
    (void)state;
    const char *names[] = {"tiny", "small", "base", "small-llama3"};
    const unsigned all = (1u << LG_LORA_NTARGETS) - 1;
    const unsigned masks[] = {all, 1u << LG_LORA_Q, (1u << LG_LORA_V) | (1u << LG_LORA_DOWN)};
    for (int i = 0; i < 4; i++) {
        lg_config c;
        lg_error err;
        assert_int_equal(lg_bench_shape(names[i], &c, &err), 0);
        assert_int_equal(c.arch, LG_ARCH_LLAMA);
        for (int m = 0; m < 3; m++)
            for (int k = 0; k < 3; k++) {
                const double now = lg_bench_step_flops(&c, 4, 256, (lg_bench_mode)m, 8, masks[k]);
                const double before = llama_formula(&c, 4, 256, (lg_bench_mode)m, 8, masks[k]);
                if (now != before)
                    fail_msg("%s mode %d mask %u: %.17g FLOPs, the Llama formula %.17g",
                             names[i], m, masks[k], now, before);
            }
    }
}

/* Qwen3: head_dim 3 ≠ C / heads, so q and o are 4 × 6 and k, v 4 × 3; q/k-norm is no product */
static void test_flops_qwen3_by_hand(void **state)
{
    (void)state;
    lg_config c = toy();
    c.arch = LG_ARCH_QWEN3;
    c.head_dim = 3;
    /* linears q 2·3·4·6 = 144, k 72, v 72, o 144, gate/up/down 144 each: 864; attention
     * 4·hd·(1·2·3·4/2) = 144; LM head 240 */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_FORWARD, 0, 0) == 1248.0);
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_TRAIN, 0, 0) ==
                1248.0 + 2 * 864 + 2 * 144 + 2 * 240);
    /* LoRA r=1 on all seven: 2·3·(in+out) = 60, 42, 42, 60, 60, 60, 60 = 384 */
    unsigned all = (1u << LG_LORA_NTARGETS) - 1;
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_LORA, 1, all) ==
                1248.0 + 384 + 864 + 2 * 384 + 2 * 144 + 240);
}

/* GPT-2: q, k, v as the three parts of c_attn (4 × 4 each), c_proj 4 × 4, c_fc 4 × 16,
 * mlp.c_proj 16 × 4, no gate; the tied head is still a product. LoRA (PEFT's modules):
 * c_attn's one adapter is applied part by part (x·Aᵀ made for each of q, k, v, B's rows of
 * that part), so r=1 costs 2·3·(4+4) = 48 for each part, c_proj 48, c_fc 120, mlp.c_proj 120:
 * 432 */
static void test_flops_gpt2_by_hand(void **state)
{
    (void)state;
    lg_config c = toy();
    c.arch = LG_ARCH_GPT2;
    c.n_kv_heads = 2;
    c.intermediate_size = 16;
    c.tie_word_embeddings = 1;
    /* 3·96 + 96 + 384 + 384 = 1152; attention 4·2·(2·6) = 96; head 240 */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_FORWARD, 0, 0) == 1488.0);
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_TRAIN, 0, 0) ==
                1488.0 + 2 * 1152 + 2 * 96 + 2 * 240);
    unsigned all = (1u << LG_LORA_NTARGETS) - 1;
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_LORA, 1, all) ==
                1488.0 + 432 + 1152 + 2 * 432 + 2 * 96 + 240);
}

/* Mistral with a window of 2: the third query sees 2 keys, not 3 (5 pairs per head, not 6) */
static void test_flops_window_by_hand(void **state)
{
    (void)state;
    lg_config c = toy();
    c.arch = LG_ARCH_MISTRAL;
    c.sliding_window = 2;
    /* linears 720; attention 4·2·(2·5) = 80; head 240 */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_FORWARD, 0, 0) == 1040.0);
    c.sliding_window = 3; /* as wide as the sequence: the causal count */
    assert_true(lg_bench_step_flops(&c, 1, 3, LG_BENCH_FORWARD, 0, 0) == 1056.0);
}

static void test_shapes(void **state)
{
    (void)state;
    lg_config c;
    lg_error err;
    assert_int_equal(lg_bench_shape("tiny", &c, &err), 0);
    assert_int_equal(lg_config_param_count(&c), 6998272);
    assert_int_equal(lg_bench_shape("small", &c, &err), 0);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(lg_bench_shape("base", &c, &err), 0);
    assert_int_equal(c.head_dim, 64);
    /* the variants: small's sizes with Llama-3.1's RoPE scaling, or Qwen3's q/k-norm */
    assert_int_equal(lg_bench_shape("small-llama3", &c, &err), 0);
    assert_int_equal(c.rope_type, LG_ROPE_LLAMA3);
    assert_true(c.rope_factor == 8 && c.rope_low_freq_factor == 1 &&
                c.rope_high_freq_factor == 4 && c.rope_original_max_positions == 8192);
    assert_true(c.rope_theta == 500000.0);
    assert_int_equal(lg_config_param_count(&c), 39592448); /* as small */
    assert_int_equal(lg_bench_shape("small-qwen3", &c, &err), 0);
    assert_int_equal(c.arch, LG_ARCH_QWEN3);
    assert_int_equal(c.head_dim, 128);
    assert_true(c.rope_theta == 1000000.0);
    /* embed + head 2·16000·512, final norm 512, per layer q 512·1024, k and v 512·512,
     * o 1024·512, q/k-norm 2·128, MLP 3·512·1376, two norms 2·512 */
    assert_int_equal(lg_config_param_count(&c), 45885952);
    /* HF's 0.02 for q and k of the Llama shapes, wider for the variants (lm/bench.c) */
    assert_true(lg_bench_qk_std("small") == 0.02 && lg_bench_qk_std("base") == 0.02);
    assert_true(lg_bench_qk_std("small-llama3") == 0.08 && lg_bench_qk_std("small-qwen3") == 0.08);
    assert_true(lg_bench_shape("huge", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "huge"));
    lg_bench_mode m;
    assert_int_equal(lg_bench_parse_mode("lora", &m, &err), 0);
    assert_int_equal(m, LG_BENCH_LORA);
    assert_string_equal(lg_bench_mode_name(m), "lora");
    assert_true(lg_bench_parse_mode("fast", &m, &err) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flops_by_hand),
        cmocka_unit_test(test_flops_llama_shapes_unchanged),
        cmocka_unit_test(test_flops_qwen3_by_hand),
        cmocka_unit_test(test_flops_gpt2_by_hand),
        cmocka_unit_test(test_flops_window_by_hand),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
