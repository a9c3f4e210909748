/* The benchmark's shapes and its FLOP count, against numbers worked out by hand for a toy
 * configuration (C 4, 2 heads of 2, 1 KV head, F 6, V 10, one layer, 1 × 3 tokens). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

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
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
