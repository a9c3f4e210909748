/* Generation: the KV-cache forward equals lg_model_forward and the Hugging Face reference
 * at every position (token by token and in prompt chunks); the sampler's greedy, top-k,
 * top-p, seeding and frequencies behave as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_generate.h"
#include "lg_langsamp.h"
#include "lg_model.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf/"

/* max |a - b| / max |b| */
static double rel_err(const float *a, const float *b, size_t n)
{
    double d = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return d / (scale > 0 ? scale : 1);
}

typedef struct {
    int B, T, V;
    int32_t *ids;
    float *logits;
} reference;

static reference load_reference(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIX "%s/reference.safetensors", name);
    lg_error err;
    lg_safetensors *st = lg_st_open(path, &err);
    if (!st)
        fail_msg("%s", err.msg);
    const lg_tensor_info *ti = lg_st_find(st, "input_ids"), *tl = lg_st_find(st, "logits");
    assert_non_null(ti);
    assert_non_null(tl);
    reference r = {(int)ti->shape[0], (int)ti->shape[1], (int)tl->shape[2], NULL, NULL};
    int64_t *ids64 = malloc(sizeof(int64_t) * (size_t)ti->numel);
    r.ids = malloc(sizeof(int32_t) * (size_t)ti->numel);
    r.logits = malloc(sizeof(float) * (size_t)tl->numel);
    assert_int_equal(lg_tensor_to_i64(ti, ids64, &err), 0);
    assert_int_equal(lg_tensor_to_f32(tl, r.logits, &err), 0);
    for (int64_t i = 0; i < ti->numel; i++)
        r.ids[i] = (int32_t)ids64[i];
    free(ids64);
    lg_st_close(st);
    return r;
}

static void check_fixture(const char *name)
{
    char dir[256];
    snprintf(dir, sizeof dir, FIX "%s", name);
    lg_error err;
    lg_model *m = lg_model_load_dir(dir, &err);
    if (!m)
        fail_msg("%s", err.msg);
    reference ref = load_reference(name);
    const int T = ref.T, V = ref.V;
    assert_int_equal(V, m->cfg.vocab_size);
    float *one = malloc(sizeof(float) * (size_t)T * V);
    float *chunked = malloc(sizeof(float) * (size_t)T * V);
    /* max_chunk 5: a 17-token prompt runs as 5+5+5+2, crossing chunk boundaries */
    lg_infer *s = lg_infer_create(m, T, 5, &err);
    if (!s)
        fail_msg("%s", err.msg);
    double worst_full = 0, worst_ref = 0;
    for (int b = 0; b < ref.B; b++) {
        const int32_t *ids = ref.ids + (size_t)b * T;
        const float *want = ref.logits + (size_t)b * T * V;
        assert_int_equal(lg_model_forward(m, ids, NULL, 1, T, &err), 0);
        const float *full = m->a.logits;
        /* one token at a time, every position's logits */
        lg_infer_reset(s);
        for (int t = 0; t < T; t++) {
            const float *last = lg_infer_forward(s, ids + t, 1, one + (size_t)t * V, &err);
            assert_ptr_equal(last, one + (size_t)t * V);
        }
        assert_int_equal(s->cache->len, T);
        /* the whole sequence as one prompt, in chunks */
        lg_infer_reset(s);
        assert_non_null(lg_infer_forward(s, ids, T, chunked, &err));
        /* and only the last position's logits, as generation asks for them */
        lg_infer_reset(s);
        const float *last = lg_infer_forward(s, ids, T, NULL, &err);
        assert_ptr_equal(last, s->logits);
        for (int t = 0; t < T; t++) {
            const float *o = one + (size_t)t * V, *c = chunked + (size_t)t * V;
            double e1 = rel_err(o, full + (size_t)t * V, (size_t)V);
            double e2 = rel_err(c, full + (size_t)t * V, (size_t)V);
            double e3 = rel_err(o, want + (size_t)t * V, (size_t)V);
            double e4 = rel_err(c, want + (size_t)t * V, (size_t)V);
            double e5 = rel_err(full + (size_t)t * V, want + (size_t)t * V, (size_t)V);
            worst_full = fmax(worst_full, fmax(e1, e2));
            worst_ref = fmax(worst_ref, fmax(fmax(e3, e4), e5));
        }
        assert_true(rel_err(last, full + (size_t)(T - 1) * V, (size_t)V) <= 1e-5);
    }
    printf("%s: KV cache vs full forward %.2e, vs HF reference %.2e\n", name, worst_full,
           worst_ref);
    assert_true(worst_full <= 1e-5);
    assert_true(worst_ref <= 1e-5);
    lg_infer_free(s);
    free(one);
    free(chunked);
    free(ref.ids);
    free(ref.logits);
    lg_model_free(m);
}

static void llama_kv_matches_full_and_hf(void **st) { (void)st; check_fixture("llama-tiny"); }
static void qwen2_kv_matches_full_and_hf(void **st) { (void)st; check_fixture("qwen2-tiny"); }
static void llama_tied_one_kv_head_matches(void **st)
{
    (void)st;
    check_fixture("llama-tiny-tied-bf16-sharded");
}

/* Greedy decoding with the cache picks the same tokens as re-running the full forward on
 * the growing sequence (the quadratic way). */
static void greedy_cache_equals_greedy_full(void **st)
{
    (void)st;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    enum { P = 3, NEW = 12 };
    int32_t seq[P + NEW] = {1, 17, 42};
    lg_infer *s = lg_infer_create(m, P + NEW, 0, &err);
    assert_non_null(s);
    const float *logits = lg_infer_forward(s, seq, P, NULL, &err);
    int32_t cached[NEW];
    for (int i = 0; i < NEW; i++) {
        cached[i] = lg_argmax(logits, m->cfg.vocab_size);
        if (i + 1 < NEW)
            logits = lg_infer_forward(s, &cached[i], 1, NULL, &err);
        assert_non_null(logits);
    }
    for (int i = 0; i < NEW; i++) {
        int T = P + i;
        assert_int_equal(lg_model_forward(m, seq, NULL, 1, T, &err), 0);
        seq[T] = lg_argmax(m->a.logits + (size_t)(T - 1) * m->cfg.vocab_size, m->cfg.vocab_size);
        assert_int_equal(seq[T], cached[i]);
    }
    lg_infer_free(s);
    lg_model_free(m);
}

/* With LangSAMP vectors attached and sequence 0 tagged, the cache path adds them as the
 * full forward does (and they change the logits). */
static void langsamp_tags_are_honoured(void **st)
{
    (void)st;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    const int C = m->cfg.hidden_size, V = m->cfg.vocab_size;
    enum { T = 9 };
    const int32_t ids[T] = {1, 5, 77, 12, 200, 3, 3, 150, 42};
    float *plain = malloc(sizeof(float) * T * V), *tagged = malloc(sizeof(float) * T * V);
    lg_infer *s = lg_infer_create(m, T, 4, &err);
    assert_non_null(s);
    assert_non_null(lg_infer_forward(s, ids, T, plain, &err));
    lg_langsamp *ls = lg_langsamp_create(C, "nld,eng", "Latn", &err);
    if (!ls)
        fail_msg("%s", err.msg);
    lg_rng r;
    lg_rng_seed(&r, 5);
    for (int i = 0; i < 2 * C; i++)
        ls->lang[i] = lg_rng_float(&r) - 0.5f;
    for (int i = 0; i < C; i++)
        ls->script[i] = lg_rng_float(&r) - 0.5f;
    lg_model_attach_langsamp(m, ls);
    const int32_t lang = 1, script = 0;
    assert_int_equal(lg_model_set_tags(m, &lang, &script, 1, &err), 0);
    assert_int_equal(lg_model_forward(m, ids, NULL, 1, T, &err), 0);
    lg_infer_reset(s);
    for (int t = 0; t < T; t++)
        assert_non_null(lg_infer_forward(s, ids + t, 1, tagged + (size_t)t * V, &err));
    double e = rel_err(tagged, m->a.logits, (size_t)T * V);
    printf("LangSAMP: KV cache vs full forward %.2e, tagged vs plain %.2e\n", e,
           rel_err(tagged, plain, (size_t)T * V));
    assert_true(e <= 1e-5);
    assert_true(rel_err(tagged, plain, (size_t)T * V) > 1e-2);
    lg_infer_free(s);
    free(plain);
    free(tagged);
    lg_model_free(m);
}

static void bad_inputs_are_refused(void **st)
{
    (void)st;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    /* more positions than max_position_embeddings (128) */
    assert_null(lg_infer_create(m, 129, 0, &err));
    assert_non_null(strstr(err.msg, "128"));
    lg_infer *s = lg_infer_create(m, 4, 0, &err);
    assert_non_null(s);
    int32_t ids[5] = {1, 2, 3, 4, 5};
    assert_null(lg_infer_forward(s, ids, 5, NULL, &err)); /* does not fit */
    assert_non_null(strstr(err.msg, "4 positions"));
    assert_int_equal(s->cache->len, 0);
    int32_t bad[2] = {1, 301};
    assert_null(lg_infer_forward(s, bad, 2, NULL, &err));
    assert_non_null(strstr(err.msg, "301"));
    assert_non_null(lg_infer_forward(s, ids, 4, NULL, &err));
    assert_null(lg_infer_forward(s, ids, 1, NULL, &err)); /* cache full */
    lg_infer_free(s);
    /* a sliding window shorter than the sequence: a rolling cache of window + chunk - 1
     * rows (decoding under a window is checked against the forward in test_arch.c) */
    m->cfg.sliding_window = 8;
    assert_non_null(s = lg_infer_create(m, 100, 4, &err));
    assert_int_equal(s->cache->slots, 11);
    lg_infer_free(s);
    assert_non_null(s = lg_infer_create(m, 8, 0, &err));
    assert_int_equal(s->cache->slots, 8);
    lg_infer_free(s);
    lg_model_free(m);
}

/* ---- sampler ---- */

static const float logits5[5] = {1.0f, 3.0f, 2.5f, -1.0f, 3.0f}; /* tie at 1 and 4 */

static lg_sampler *sampler(int V, float temperature, int top_k, float top_p, uint64_t seed)
{
    lg_error err;
    lg_sampling o = {temperature, top_k, top_p};
    lg_sampler *s = lg_sampler_create(V, &o, seed, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

static void greedy_is_argmax(void **st)
{
    (void)st;
    assert_int_equal(lg_argmax(logits5, 5), 1); /* the first of the tie */
    lg_sampler *t0 = sampler(5, 0, 0, 1, 7), *k1 = sampler(5, 1.0f, 1, 1, 7);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(lg_sample(t0, logits5), 1);
        assert_int_equal(lg_sample(k1, logits5), 1);
    }
    assert_int_equal(lg_sampler_distribution(k1, logits5), 1);
    assert_int_equal(k1->cand[0].id, 1);
    lg_sampler_free(t0);
    lg_sampler_free(k1);
}

static void options_are_checked(void **st)
{
    (void)st;
    lg_error err;
    lg_sampling bad[] = {{-1, 0, 1}, {1, -2, 1}, {1, 0, 0}, {1, 0, 1.5f}, {NAN, 0, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_null(lg_sampler_create(5, &bad[i], 1, &err));
}

static void top_k_keeps_the_k_most_probable(void **st)
{
    (void)st;
    lg_sampler *s = sampler(5, 1.0f, 3, 1, 1);
    int n = lg_sampler_distribution(s, logits5);
    assert_int_equal(n, 3);
    assert_int_equal(s->cand[0].id, 1); /* ties: lower id first */
    assert_int_equal(s->cand[1].id, 4);
    assert_int_equal(s->cand[2].id, 2);
    /* renormalised over the three: e^3, e^3, e^2.5 */
    double z = 2 * exp(3.0) + exp(2.5);
    assert_float_equal(s->cand[0].prob, exp(3.0) / z, 1e-6);
    assert_float_equal(s->cand[2].prob, exp(2.5) / z, 1e-6);
    for (int i = 0; i < 500; i++) {
        int32_t t = lg_sample(s, logits5);
        assert_true(t == 1 || t == 4 || t == 2);
    }
    lg_sampler_free(s);
}

/* probabilities 0.5, 0.3, 0.15, 0.05 (as log-probabilities at temperature 1) */
static void top_p_keeps_smallest_set_reaching_p(void **st)
{
    (void)st;
    const float lp[4] = {logf(0.15f), logf(0.5f), logf(0.05f), logf(0.3f)};
    const struct { float p; int n; } cases[] = {
        /* (exactly at a boundary, e.g. p = 0.8, float rounding of the mass decides) */
        {0.49f, 1}, {0.51f, 2}, {0.79f, 2}, {0.81f, 3}, {0.94f, 3}, {0.96f, 4}, {1.0f, 4},
        {0.01f, 1},
    };
    const int order[4] = {1, 3, 0, 2};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lg_sampler *s = sampler(4, 1.0f, 0, cases[c].p, 3);
        int n = lg_sampler_distribution(s, lp);
        assert_int_equal(n, cases[c].n);
        double mass = 0, kept = 0;
        const double prob[4] = {0.15, 0.5, 0.05, 0.3};
        for (int i = 0; i < n; i++) {
            assert_int_equal(s->cand[i].id, order[i]);
            mass += prob[order[i]];
            kept += s->cand[i].prob;
        }
        assert_true(mass >= cases[c].p - 1e-6);                         /* reaches p */
        assert_true(n == 1 || mass - prob[order[n - 1]] < cases[c].p);  /* and is smallest */
        assert_float_equal(kept, 1.0, 1e-6);                            /* renormalised */
        /* draws stay inside the set */
        for (int i = 0; i < 200; i++) {
            int32_t t = lg_sample(s, lp);
            int inside = 0;
            for (int j = 0; j < n; j++)
                inside |= t == order[j];
            assert_true(inside);
        }
        lg_sampler_free(s);
    }
    /* top-k first, then top-p on the renormalised rest: k=2 leaves 0.625, 0.375 */
    lg_sampler *s = sampler(4, 1.0f, 2, 0.6f, 3);
    assert_int_equal(lg_sampler_distribution(s, lp), 1);
    lg_sampler_free(s);
    s = sampler(4, 1.0f, 2, 0.7f, 3);
    assert_int_equal(lg_sampler_distribution(s, lp), 2);
    lg_sampler_free(s);
}

/* With a large vocabulary the nucleus path prunes before sorting: same result as sorting
 * everything (checked against a direct computation). */
static void top_p_on_a_large_vocabulary(void **st)
{
    (void)st;
    enum { V = 5000 };
    static float lg[V];
    lg_rng r;
    lg_rng_seed(&r, 99);
    for (int i = 0; i < V; i++)
        lg[i] = 4 * lg_rng_float(&r);
    lg_sampler *s = sampler(V, 0.7f, 0, 0.9f, 5);
    int n = lg_sampler_distribution(s, lg);
    /* direct: probabilities, then count how many of the largest reach 0.9 */
    static double p[V];
    double z = 0, mx = 4;
    for (int i = 0; i < V; i++)
        z += p[i] = exp((lg[i] - mx) / 0.7);
    double mass = 0;
    int want = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            assert_true(s->cand[i].prob <= s->cand[i - 1].prob);
    }
    /* greedy selection of the largest until the mass reaches 0.9 */
    static char used[V];
    memset(used, 0, sizeof used);
    while (mass < 0.9) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (!used[i] && (best < 0 || p[i] > p[best]))
                best = i;
        used[best] = 1;
        mass += p[best] / z;
        want++;
    }
    assert_true(abs(n - want) <= 1); /* float vs double rounding at the boundary */
    assert_true(n > 100 && n < V);
    lg_sampler_free(s);
}

static void seeds_repeat_and_differ(void **st)
{
    (void)st;
    enum { V = 64, N = 40 };
    float lg[V];
    for (int i = 0; i < V; i++)
        lg[i] = (float)(i % 7) * 0.1f;
    lg_sampler *a = sampler(V, 1.0f, 0, 1, 1234), *b = sampler(V, 1.0f, 0, 1, 1234),
               *c = sampler(V, 1.0f, 0, 1, 1235);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < N; i++) {
        int32_t x = lg_sample(a, lg), y = lg_sample(b, lg), z = lg_sample(c, lg);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    assert_true(same_ab);
    assert_false(same_ac); /* 40 draws over ~64 tokens: equal by chance ~ 64^-40 */
    lg_sampler_free(a);
    lg_sampler_free(b);
    lg_sampler_free(c);
    /* the generator itself: seed 0 works and floats stay in [0, 1) */
    lg_rng r;
    lg_rng_seed(&r, 0);
    double mean = 0;
    for (int i = 0; i < 10000; i++) {
        float u = lg_rng_float(&r);
        assert_true(u >= 0 && u < 1);
        mean += u / 10000;
    }
    assert_true(fabs(mean - 0.5) < 0.02);
}

/* At temperature T the frequencies follow softmax(logits / T). */
static void frequencies_follow_softmax(void **st)
{
    (void)st;
    const float lg[6] = {0.0f, 1.0f, -0.5f, 2.0f, 0.3f, -3.0f};
    const float temps[2] = {1.0f, 0.5f};
    for (int k = 0; k < 2; k++) {
        enum { DRAWS = 40000 };
        lg_sampler *s = sampler(6, temps[k], 0, 1, 42 + k);
        int count[6] = {0};
        for (int i = 0; i < DRAWS; i++)
            count[lg_sample(s, lg)]++;
        double z = 0, p[6];
        for (int i = 0; i < 6; i++)
            z += p[i] = exp(lg[i] / temps[k]);
        for (int i = 0; i < 6; i++) {
            double want = p[i] / z, got = (double)count[i] / DRAWS;
            double sigma = sqrt(want * (1 - want) / DRAWS);
            assert_true(fabs(got - want) <= 5 * sigma + 1e-4);
        }
        lg_sampler_free(s);
    }
}

/* NaN or infinite logits leave nothing to draw from: every mode says so (-1, or no
 * candidate) instead of reading before the candidate array, which the nucleus cut did when
 * it kept no token. */
static void non_finite_logits_are_refused(void **st)
{
    (void)st;
    const int V = 50;
    float lg[50];
    const float bad[] = {NAN, INFINITY, -INFINITY};
    const lg_sampling modes[] = {{0, 0, 1}, {1, 0, 1}, {1, 5, 1}, {0.8f, 0, 0.9f}, {1, 3, 0.5f}};
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++)
        for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
            for (int i = 0; i < V; i++)
                lg[i] = (float)(i % 7);
            lg[17] = bad[b];
            lg_sampler *s = sampler(V, modes[k].temperature, modes[k].top_k, modes[k].top_p, 3);
            assert_int_equal(lg_sample(s, lg), -1);
            assert_int_equal(lg_sampler_distribution(s, lg), 0);
            for (int i = 0; i < V; i++)
                lg[i] = NAN;
            assert_int_equal(lg_sample(s, lg), -1);
            lg_sampler_free(s);
        }
}

/* A nucleus below 1/V over a flat distribution: every token is under the cutoff that spares
 * the sort, but the most probable one still makes the nucleus. */
static void tiny_top_p_keeps_a_token(void **st)
{
    (void)st;
    enum { V = 1000 };
    float *lg = calloc(V, sizeof *lg);
    lg_sampler *s = sampler(V, 1.0f, 0, 1e-4f, 5);
    assert_int_equal(lg_sampler_distribution(s, lg), 1);
    for (int i = 0; i < 20; i++) {
        int32_t t = lg_sample(s, lg);
        assert_true(t >= 0 && t < V);
    }
    lg_sampler_free(s);
    free(lg);
}

/* The model's forward and the KV-cache forward fail on logits that are not finite (here:
 * a weight set to NaN after loading; a file with one is refused when loaded). */
static void forward_refuses_non_finite_outputs(void **st)
{
    (void)st;
    lg_error err;
    lg_model *m = lg_model_load_dir(FIX "llama-tiny", &err);
    assert_non_null(m);
    m->p.norm[5] = NAN;
    int32_t ids[4] = {1, 7, 9, 11}, targets[4];
    lg_shift_targets(targets, ids, 1, 4);
    assert_int_equal(lg_model_forward(m, ids, NULL, 1, 4, &err), -1);
    assert_non_null(strstr(err.msg, "not finite"));
    assert_int_equal(lg_model_forward(m, ids, targets, 1, 4, &err), -1);
    assert_non_null(strstr(err.msg, "loss"));
    assert_true(isnan(m->last_loss));
    lg_infer *inf = lg_infer_create(m, 8, 0, &err);
    assert_non_null(inf);
    assert_null(lg_infer_forward(inf, ids, 4, NULL, &err));
    assert_non_null(strstr(err.msg, "not finite"));
    lg_infer_free(inf);
    lg_model_free(m);
}

int main(void)
{
    lg_set_threads(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llama_kv_matches_full_and_hf),
        cmocka_unit_test(qwen2_kv_matches_full_and_hf),
        cmocka_unit_test(llama_tied_one_kv_head_matches),
        cmocka_unit_test(greedy_cache_equals_greedy_full),
        cmocka_unit_test(langsamp_tags_are_honoured),
        cmocka_unit_test(bad_inputs_are_refused),
        cmocka_unit_test(greedy_is_argmax),
        cmocka_unit_test(options_are_checked),
        cmocka_unit_test(top_k_keeps_the_k_most_probable),
        cmocka_unit_test(top_p_keeps_smallest_set_reaching_p),
        cmocka_unit_test(top_p_on_a_large_vocabulary),
        cmocka_unit_test(seeds_repeat_and_differ),
        cmocka_unit_test(frequencies_follow_softmax),
        cmocka_unit_test(non_finite_logits_are_refused),
        cmocka_unit_test(tiny_top_p_keeps_a_token),
        cmocka_unit_test(forward_refuses_non_finite_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
