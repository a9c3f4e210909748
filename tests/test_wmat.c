/* Products with bf16 weights kept as stored (lm/wmat.c) against the float32 path on the same
 * bf16-valued weights: forward (x·Wᵀ + bias, = and +=) and the backward product to the
 * activations (dX += dY·W), for the "rows" kernel (N ≤ 8), the tiled kernel (shapes spanning
 * several blocks, the last one partial) and oneDNN's when it runs on this machine.
 * Tolerances, per element with S = Σ_i |x_i|·|w_i| (the magnitude of the sum):
 *   rows and tiled: the same float32 products, summed in another order: |Δ| ≤ 1e-5·S
 *   oneDNN: the activations rounded to bf16 (relative error ≤ 2^-9 each): |Δ| ≤ 2^-8·S */
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

#include "lg_lora.h"
#include "lg_model.h"
#include "lg_model_init.h"
#include "lg_ops.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

typedef struct {
    int rows, cols;
    uint16_t *w16;
    float *w32; /* the same values in float32 */
} weights;

static weights make_weights(int rows, int cols, uint64_t seed)
{
    weights w = {rows, cols, malloc(sizeof(uint16_t) * (size_t)rows * cols),
                 malloc(sizeof(float) * (size_t)rows * cols)};
    assert_non_null(w.w16);
    assert_non_null(w.w32);
    lg_rng r;
    lg_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)rows * cols; i++) {
        w.w16[i] = lg_f32_to_bf16((float)(lg_rng_normal(&r) * 0.5));
        w.w32[i] = lg_bf16_to_f32(w.w16[i]);
    }
    return w;
}

static void free_weights(weights *w)
{
    free(w->w16);
    free(w->w32);
}

static float *randn(size_t n, uint64_t seed)
{
    float *v = malloc(sizeof(float) * n);
    assert_non_null(v);
    lg_rng r;
    lg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)lg_rng_normal(&r);
    return v;
}

/* max over elements of |got − want| / S, S = Σ|a_i||b_i| of that element's sum */
static double forward_err(lg_wmat_kernel k, const weights *w, int N, int add, int bias)
{
    const int R = w->rows, C = w->cols;
    float *x = randn((size_t)N * C, 11 + N), *b = bias ? randn((size_t)R, 12) : NULL;
    float *want = randn((size_t)N * R, 13), *got = malloc(sizeof(float) * (size_t)N * R);
    assert_non_null(got);
    memcpy(got, want, sizeof(float) * (size_t)N * R);
    if (add)
        lg_matmul_forward_add_f32(want, x, w->w32, b, N, C, R);
    else
        lg_matmul_forward_f32(want, x, w->w32, b, N, C, R);
    lg_wmat W = {LG_DT_BF16, w->w16, R, C};
    lg_wmat_forward_with(k, got, x, &W, b, N, add);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < R; o++) {
            double s = 1e-30;
            for (int i = 0; i < C; i++)
                s += fabs((double)x[(size_t)n * C + i] * w->w32[(size_t)o * C + i]);
            const double e = fabs((double)got[(size_t)n * R + o] - want[(size_t)n * R + o]) / s;
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
    free(x);
    free(b);
    free(want);
    free(got);
    return worst;
}

static double backward_err(lg_wmat_kernel k, const weights *w, int N)
{
    const int R = w->rows, C = w->cols;
    float *dy = randn((size_t)N * R, 21 + N), *want = randn((size_t)N * C, 22);
    float *got = malloc(sizeof(float) * (size_t)N * C);
    assert_non_null(got);
    memcpy(got, want, sizeof(float) * (size_t)N * C);
    lg_matmul_backward_f32(want, NULL, NULL, dy, NULL, w->w32, N, C, R);
    lg_wmat W = {LG_DT_BF16, w->w16, R, C};
    lg_wmat_backward_in_with(k, got, dy, &W, N);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++) {
            double s = 1e-30;
            for (int o = 0; o < R; o++)
                s += fabs((double)dy[(size_t)n * R + o] * w->w32[(size_t)o * C + i]);
            const double e = fabs((double)got[(size_t)n * C + i] - want[(size_t)n * C + i]) / s;
            if (!(e <= worst))
                worst = isnan(e) ? INFINITY : e;
        }
    free(dy);
    free(want);
    free(got);
    return worst;
}

/* 600 × 1000: three 256-row blocks forward, three column blocks backward, each last one partial */
static const int shapes[][2] = {{48, 80}, {600, 1000}, {33, 1100}};
static const int batches[] = {1, 3, 8, 9, 64, 130};

static void check_kernel(lg_wmat_kernel k, double tol)
{
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        weights w = make_weights(shapes[s][0], shapes[s][1], 100 + s);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            const int N = batches[b];
            for (int add = 0; add < 2; add++) {
                const double e = forward_err(k, &w, N, add, add);
                if (!(e <= tol))
                    fail_msg("forward %dx%d N=%d add=%d: error %.3g > %.3g", w.rows, w.cols, N,
                             add, e, tol);
            }
            const double e = backward_err(k, &w, N);
            if (!(e <= tol))
                fail_msg("backward %dx%d N=%d: error %.3g > %.3g", w.rows, w.cols, N, e, tol);
        }
        free_weights(&w);
    }
}

static void tiled_matches_f32(void **state)
{
    (void)state;
    lg_wmat_reset_used();
    check_kernel(LG_WK_TILED, 1e-5);
    assert_string_equal(lg_wmat_kernel_used(), "rows+tiled");
}

static void onednn_matches_f32_within_bf16(void **state)
{
    (void)state;
    if (!lg_wmat_have_onednn()) {
        lg_wmat_release();
        skip();
    }
    lg_wmat_reset_used();
    check_kernel(LG_WK_ONEDNN, 1.0 / 256);
    assert_string_equal(lg_wmat_kernel_used(), "rows+onednn");
    lg_wmat_release();
}

/* f32 weights go through the f32 product unchanged */
static void f32_weights_are_the_f32_product(void **state)
{
    (void)state;
    weights w = make_weights(20, 30, 7);
    float *x = randn(5 * 30, 8), *a = calloc(5 * 20, sizeof(float)), *b = calloc(5 * 20, 4);
    lg_matmul_forward_f32(a, x, w.w32, NULL, 5, 30, 20);
    lg_wmat W = {LG_DT_F32, w.w32, 20, 30};
    lg_wmat_forward(b, x, &W, NULL, 5, 0);
    assert_memory_equal(a, b, sizeof(float) * 5 * 20);
    free(x);
    free(a);
    free(b);
    free_weights(&w);
}

/* ---- a model whose weights are kept as stored, against the same file read as float32 ---- */

static char tmpdir[64];

/* A micro llama (tied or not) written as BF16 into tmpdir/NAME; returns the path. */
static const char *write_bf16_model(const char *name, int tied, char *path, size_t n)
{
    lg_config cfg;
    lg_error err;
    assert_int_equal(lg_config_preset("micro", 97, &cfg, &err), 0);
    cfg.tie_word_embeddings = tied;
    lg_model *m = lg_model_create(&cfg, &err);
    assert_non_null(m);
    lg_model_init_weights(m, 0.2f, 5);
    snprintf(path, n, "%s/%s", tmpdir, name);
    assert_int_equal(lg_model_save_dir(m, path, LG_DT_BF16, &err), 0);
    lg_model_free(m);
    return path;
}

/* Logits of both loads and LoRA gradients of both: the tiled kernel (exact products) within
 * float32 rounding; the bf16 file read as float32 is the same values. */
static void stored_model_matches_f32_load(void **state)
{
    (void)state;
    for (int tied = 0; tied < 2; tied++) {
        char path[128];
        write_bf16_model(tied ? "tied" : "untied", tied, path, sizeof path);
        lg_error err;
        lg_model *f = lg_model_load_dir(path, &err);
        lg_model *b = lg_model_load_dir_ex(path, LG_LOAD_STORED | LG_LOAD_STORED_VOCAB, &err);
        assert_non_null(f);
        if (!b)
            fail_msg("%s", err.msg);
        assert_string_equal(lg_model_weight_dtype(f), "f32");
        assert_string_equal(lg_model_weight_dtype(b), "BF16");
        assert_null(b->p.embed);
        assert_null(b->p.layers[0].wq);
        assert_non_null(b->p.layers[0].attn_norm);
        assert_true(b->n_params < f->n_params / 10);
        enum { B = 2, T = 12 };
        int32_t ids[B * T], tgt[B * T];
        for (int i = 0; i < B * T; i++)
            ids[i] = (i * 37 + 5) % 97;
        lg_shift_targets(tgt, ids, B, T);
        lg_model *ms[2] = {f, b};
        lg_lora_config lc = {.rank = 4, .alpha = 8, .target_mask = (1u << LG_LORA_NTARGETS) - 1};
        for (int k = 0; k < 2; k++) {
            assert_non_null(lg_lora_attach(ms[k], &lc, 3, &err));
            for (size_t i = 0; i < ms[k]->lora->n_params; i++) /* B away from zero */
                ms[k]->lora->param_mem[i] = 0.05f * (float)((i * 7919) % 13) - 0.3f;
            assert_int_equal(lg_lora_alloc_grads(ms[k]->lora, &err), 0);
            int *none = calloc((size_t)ms[k]->n_entries, sizeof *none);
            assert_int_equal(lg_model_alloc_grads_for(ms[k], none, &err), 0);
            free(none);
            lg_model_zero_grads(ms[k]);
            lg_wmat_set_kernel(LG_WK_TILED);
            assert_int_equal(lg_model_forward(ms[k], ids, tgt, B, T, &err), 0);
            lg_model_backward(ms[k], ids, 1.0f);
        }
        assert_float_equal(f->last_loss, b->last_loss, 1e-5 * fabs(f->last_loss));
        double gmax = 0, gdiff = 0;
        for (size_t i = 0; i < f->lora->n_params; i++) {
            gmax = fmax(gmax, fabs(f->lora->grad_mem[i]));
            gdiff = fmax(gdiff, fabs(f->lora->grad_mem[i] - b->lora->grad_mem[i]));
        }
        assert_true(gmax > 0);
        if (!(gdiff <= 1e-4 * gmax))
            fail_msg("LoRA gradients differ by %g (largest %g)", gdiff, gmax);
        /* and oneDNN's products within the bf16 tolerance of the loss */
        if (lg_wmat_have_onednn()) {
            lg_wmat_set_kernel(LG_WK_ONEDNN);
            assert_int_equal(lg_model_forward(b, ids, tgt, B, T, &err), 0);
            assert_float_equal(f->last_loss, b->last_loss, 1e-2 * fabs(f->last_loss));
        }
        lg_wmat_set_kernel(LG_WK_AUTO);
        /* frozen: a stored matrix cannot get a gradient */
        assert_int_equal(lg_model_alloc_grads(b, &err), -1);
        assert_non_null(strstr(err.msg, "kept as stored (BF16)"));
        lg_model_free(f);
        lg_model_free(b);
        lg_wmat_release();
    }
}

/* Backward with recomputation gives the gradients backward gives from kept activations:
 * every parameter trainable, and a LoRA adapter on a model kept as stored. */
static void recompute_gives_the_same_gradients(void **state)
{
    (void)state;
    char path[128];
    write_bf16_model("recompute", 0, path, sizeof path);
    enum { B = 2, T = 10 };
    int32_t ids[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 31 + 7) % 97;
    lg_shift_targets(tgt, ids, B, T);
    lg_error err;
    for (int stored = 0; stored < 2; stored++) {
        float *g[2] = {NULL, NULL};
        size_t n = 0;
        for (int rc = 0; rc < 2; rc++) {
            lg_model *m = stored ? lg_model_load_dir_ex(path, LG_LOAD_STORED, &err)
                                 : lg_model_load_dir(path, &err);
            assert_non_null(m);
            lg_model_set_recompute(m, rc);
            if (rc)
                m->loss_chunk = (size_t)m->cfg.vocab_size * 7; /* the head in chunks of 7 rows */
            if (stored) {
                lg_lora_config lc = {.rank = 2, .alpha = 4, .target_mask = 0x7f};
                assert_non_null(lg_lora_attach(m, &lc, 1, &err));
                for (size_t i = 0; i < m->lora->n_params; i++)
                    m->lora->param_mem[i] = 0.01f * (float)(i % 17) - 0.08f;
                assert_int_equal(lg_lora_alloc_grads(m->lora, &err), 0);
                int *none = calloc((size_t)m->n_entries, sizeof *none);
                assert_int_equal(lg_model_alloc_grads_for(m, none, &err), 0);
                free(none);
            } else {
                assert_int_equal(lg_model_alloc_grads(m, &err), 0);
            }
            lg_model_zero_grads(m);
            assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
            lg_model_backward(m, ids, 1.0f);
            const float *src = stored ? m->lora->grad_mem : m->grad_mem;
            n = stored ? m->lora->n_params : m->n_grads;
            g[rc] = malloc(n * sizeof(float));
            memcpy(g[rc], src, n * sizeof(float));
            lg_model_free(m);
        }
        double big = 0, diff = 0;
        for (size_t i = 0; i < n; i++) {
            big = fmax(big, fabs(g[0][i]));
            diff = fmax(diff, fabs(g[0][i] - g[1][i]));
        }
        assert_true(big > 0);
        if (!(diff <= 1e-6 * big))
            fail_msg("%s: gradients differ by %g (largest %g)", stored ? "LoRA" : "full", diff,
                     big);
        free(g[0]);
        free(g[1]);
    }
    lg_wmat_release();
}

/* Rewrites tensor NAME's first value in PATH/model.safetensors with the bytes given. */
static void patch_first_value(const char *path, const char *name, const void *bytes, size_t n)
{
    char file[256];
    snprintf(file, sizeof file, "%s/model.safetensors", path);
    lg_error err;
    lg_safetensors *st = lg_st_open(file, &err);
    assert_non_null(st);
    const lg_tensor_info *t = lg_st_find(st, name);
    assert_non_null(t);
    FILE *fp = fopen(file, "r+b");
    assert_non_null(fp);
    lg_st_close(st);
    uint64_t hlen;
    assert_int_equal(fread(&hlen, 8, 1, fp), 1);
    /* data offsets count from the data section: the tensor's, from its header entry */
    char *hdr = malloc(hlen + 1);
    assert_int_equal(fread(hdr, 1, hlen, fp), hlen);
    hdr[hlen] = 0;
    char key[160];
    snprintf(key, sizeof key, "\"%s\"", name);
    const char *at = strstr(hdr, key), *offs = at ? strstr(at, "data_offsets") : NULL;
    assert_non_null(offs);
    long begin = strtol(strchr(offs, '[') + 1, NULL, 10);
    assert_int_equal(fseek(fp, (long)(8 + hlen) + begin, SEEK_SET), 0);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
    free(hdr);
}

/* A NaN in a weight kept as stored is refused, naming the tensor, as a converted one is. */
static void stored_nan_names_the_tensor(void **state)
{
    (void)state;
    char path[128];
    write_bf16_model("nan", 0, path, sizeof path);
    const uint16_t nan = 0x7fc0;
    patch_first_value(path, "model.layers.1.mlp.up_proj.weight", &nan, 2);
    lg_error err;
    assert_null(lg_model_load_dir_ex(path, LG_LOAD_STORED, &err));
    assert_non_null(strstr(err.msg, "model.layers.1.mlp.up_proj.weight"));
    assert_non_null(strstr(err.msg, "NaN"));
    assert_null(lg_model_load_dir(path, &err)); /* the same as the float32 load */
    assert_non_null(strstr(err.msg, "model.layers.1.mlp.up_proj.weight"));
}

/* Replaces `from` by `to` (the same length) in tensor NAME's header entry. */
static void patch_header(const char *path, const char *name, const char *from, const char *to)
{
    assert_int_equal(strlen(from), strlen(to));
    char file[256];
    snprintf(file, sizeof file, "%s/model.safetensors", path);
    FILE *fp = fopen(file, "r+b");
    assert_non_null(fp);
    uint64_t hlen;
    assert_int_equal(fread(&hlen, 8, 1, fp), 1);
    char *hdr = malloc(hlen + 1);
    assert_int_equal(fread(hdr, 1, hlen, fp), hlen);
    hdr[hlen] = 0;
    char key[160];
    snprintf(key, sizeof key, "\"%s\":{", name);
    char *at = strstr(hdr, key), *end = at ? strchr(at, '}') : NULL, *hit = at ? strstr(at, from) : NULL;
    assert_non_null(hit);
    assert_true(hit < end);
    memcpy(hit, to, strlen(to));
    assert_int_equal(fseek(fp, 8, SEEK_SET), 0);
    assert_int_equal(fwrite(hdr, 1, hlen, fp), hlen);
    fclose(fp);
    free(hdr);
}

/* A bf16 tensor whose shape does not match its bytes, and a weight of a dtype that is not a
 * float: each refused by the loader that keeps weights as stored, naming the tensor. */
static void stored_bad_tensors_are_named(void **state)
{
    (void)state;
    char path[128];
    lg_error err;
    write_bf16_model("lying", 0, path, sizeof path);
    const char *q = "model.layers.0.self_attn.q_proj.weight";
    lg_model *ok = lg_model_load_dir(path, &err);
    assert_non_null(ok);
    char shape[64], lie[64];
    snprintf(shape, sizeof shape, "[%d,%d]", ok->cfg.n_heads * ok->cfg.head_dim,
             ok->cfg.hidden_size);
    snprintf(lie, sizeof lie, "[%d,%d]", ok->cfg.n_heads * ok->cfg.head_dim,
             ok->cfg.hidden_size + 1); /* 64 -> 65: same length */
    lg_model_free(ok);
    patch_header(path, q, shape, lie);
    assert_null(lg_model_load_dir_ex(path, LG_LOAD_STORED | LG_LOAD_STORED_VOCAB, &err));
    assert_non_null(strstr(err.msg, q));
    write_bf16_model("int16", 0, path, sizeof path);
    patch_header(path, q, "\"BF16\"", "\"I16\"\x20");
    assert_null(lg_model_load_dir_ex(path, LG_LOAD_STORED | LG_LOAD_STORED_VOCAB, &err));
    assert_non_null(strstr(err.msg, q));
    assert_non_null(strstr(err.msg, "I16"));
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_wmat.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiled_matches_f32),
        cmocka_unit_test(onednn_matches_f32_within_bf16),
        cmocka_unit_test(f32_weights_are_the_f32_product),
        cmocka_unit_test(stored_model_matches_f32_load),
        cmocka_unit_test(stored_nan_names_the_tensor),
        cmocka_unit_test(stored_bad_tensors_are_named),
        cmocka_unit_test(recompute_gives_the_same_gradients),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
