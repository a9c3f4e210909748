/* Evaluation windows on the llama-tiny fixture: one window equals a plain forward with the
 * HF shift; chunked and sliding windows predict every token but the first exactly once;
 * a sliding window of stride 1 equals the sum of per-token forwards with that much context;
 * bits per byte is nats / ln 2 / bytes; bad windows are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lg_train.h"
#include "lg_ops.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf/llama-tiny"

typedef struct {
    lg_model *m;
    int32_t ids[17];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    lg_error err;
    fx->m = lg_model_load_dir(FIX, &err);
    lg_safetensors *st = lg_st_open(FIX "/reference.safetensors", &err);
    if (!fx->m || !st)
        return -1;
    int64_t ids[34];
    if (lg_tensor_to_i64(lg_st_find(st, "input_ids"), ids, &err) < 0)
        return -1;
    for (int i = 0; i < 17; i++)
        fx->ids[i] = (int32_t)ids[i];
    lg_st_close(st);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    lg_model_free(fx->m);
    free(fx);
    return 0;
}

static void one_window_is_a_plain_forward(void **state)
{
    fixture *fx = *state;
    lg_error err;
    int32_t targets[17];
    lg_shift_targets(targets, fx->ids, 1, 17);
    assert_int_equal(lg_model_forward(fx->m, fx->ids, targets, 1, 17, &err), 0);
    double nats = (double)fx->m->last_loss * fx->m->counted;
    lg_eval_result r;
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 100, 17, 0, &r, &err), 0);
    assert_int_equal(r.tokens, 16);
    assert_int_equal(r.windows, 1);
    assert_true(fabs(r.nats - nats) < 1e-9 * fabs(nats));
    assert_true(fabs(r.loss - nats / 16) < 1e-9);
    assert_true(fabs(r.perplexity - exp(nats / 16)) < 1e-6 * r.perplexity);
    assert_true(fabs(r.bits_per_byte - nats / log(2.0) / 100) < 1e-12);
}

static void every_token_but_the_first_is_predicted_once(void **state)
{
    fixture *fx = *state;
    lg_error err;
    lg_eval_result r;
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 0, 5, 0, &r, &err), 0);
    assert_int_equal(r.tokens, 16);
    assert_int_equal(r.stride, 4);
    assert_int_equal(r.windows, 4); /* 16 predictions, 4 a window */
    assert_true(isnan(r.bits_per_byte));
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 0, 5, 2, &r, &err), 0);
    assert_int_equal(r.tokens, 16);
    assert_int_equal(r.windows, 7); /* 4 in the first window, then 2 each */
}

static void stride_one_sums_per_token_forwards(void **state)
{
    fixture *fx = *state;
    lg_error err;
    /* window 3: token j ≥ 2 is predicted from tokens j−2, j−1; token 1 from token 0 */
    double nats = 0;
    int32_t targets[3];
    for (int j = 1; j < 17; j++) {
        int begin = j >= 2 ? j - 2 : 0, T = j - begin + 1;
        for (int t = 0; t < T; t++)
            targets[t] = t == T - 2 ? fx->ids[j] : LG_IGNORE_INDEX;
        assert_int_equal(lg_model_forward(fx->m, fx->ids + begin, targets, 1, T, &err), 0);
        assert_int_equal(fx->m->counted, 1);
        nats += fx->m->last_loss;
    }
    lg_eval_result r;
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 0, 3, 1, &r, &err), 0);
    assert_int_equal(r.tokens, 16);
    assert_true(fabs(r.nats - nats) < 1e-5 * fabs(nats));
}

static void bad_windows_are_refused(void **state)
{
    fixture *fx = *state;
    lg_error err;
    lg_eval_result r;
    int max = fx->m->cfg.max_position_embeddings;
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 0, max + 1, 0, &r, &err), -1);
    assert_non_null(strstr(err.msg, "exceeds the model's maximum"));
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 1, 0, 4, 0, &r, &err), -1);
    assert_non_null(strstr(err.msg, "at least 2 tokens"));
    assert_int_equal(lg_eval_tokens(fx->m, fx->ids, 17, 0, 4, 4, &r, &err), -1);
    assert_non_null(strstr(err.msg, "stride 4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_window_is_a_plain_forward),
        cmocka_unit_test(every_token_but_the_first_is_predicted_once),
        cmocka_unit_test(stride_one_sums_per_token_forwards),
        cmocka_unit_test(bad_windows_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
