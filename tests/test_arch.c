/* The architectures of lg_arch.h in the model: for tiny random models of each (Llama-3
 * RoPE scaling with tied embeddings and head_dim ≠ hidden/heads, Qwen3's q/k-norm),
 *   - gradients of the weights each one adds or changes (q_norm, k_norm, q_proj, k_proj)
 *     match central finite differences of the model's loss (float32 model, so a relative
 *     tolerance; the f64 kernels are checked in test_ops_grad.c);
 *   - KV-cache decoding, one token at a time, gives the logits of the full forward;
 *   - the parameter count, the layout and the descriptor agree;
 *   - Mistral's sliding window: attention limited to the last `window` positions in
 *     training (finite differences), in the forward (a one-layer model's prediction at
 *     position t equals the unwindowed model's on the window's tokens alone, RoPE being
 *     relative) and in KV-cache decoding with a rolling cache;
 *   - GPT-2 (learned positions, LayerNorm, GELU, fused c_attn in Conv1D layout): gradients
 *     by finite differences, KV cache, weights in [out, in] layout refused;
 *   - GPT-2 LoRA as PEFT makes it (whole Conv1D modules, fan_in_fan_out): lora_A/lora_B
 *     gradients by finite differences, the adapted forward = the base with each Conv1D
 *     weight W[in, out] += scale·(B A)^T computed here element by element (c_attn's q, k and
 *     v columns together), = lg_lora_merge's, and the PEFT files' names and config;
 *   - q/k-norm weights of the wrong size are refused naming the tensor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_generate.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_model_init.h"
#include "lg_safetensors.h"

enum { B = 2, T = 12 };

static lg_config tiny(lg_arch arch)
{
    lg_config c = {0};
    c.arch = arch;
    snprintf(c.model_type, sizeof c.model_type, "%s", lg_arch_get(arch)->model_type);
    c.vocab_size = 53;
    c.hidden_size = 32;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 12;              /* 4 × 12 ≠ 32 */
    c.intermediate_size = 40;
    c.max_position_embeddings = 64;
    c.rms_norm_eps = 1e-6f;
    c.rope_theta = 10000.0;
    c.tie_word_embeddings = 1;
    c.bos_token_id = c.eos_token_id = c.pad_token_id = -1;
    return c;
}

static lg_config gpt2(void)
{
    lg_config c = tiny(LG_ARCH_GPT2);
    c.n_kv_heads = c.n_heads;
    c.head_dim = c.hidden_size / c.n_heads;
    c.qkv_bias = c.o_bias = 1;
    c.rms_norm_eps = 1e-5f;
    return c;
}

static lg_config llama3(void)
{
    lg_config c = tiny(LG_ARCH_LLAMA);
    c.rope_type = LG_ROPE_LLAMA3;
    c.rope_factor = 8;
    c.rope_low_freq_factor = 1;
    c.rope_high_freq_factor = 4;
    c.rope_original_max_positions = 16;
    return c;
}

static lg_model *make(const lg_config *c)
{
    lg_error err;
    lg_model *m = lg_model_create(c, &err);
    if (!m)
        fail_msg("%s", err.msg);
    lg_model_init_weights(m, 0.3f, 11);
    /* norms away from one, so their gradients are not a special case */
    for (int i = 0; i < m->n_entries; i++)
        if (!m->entries[i].is_matrix)
            for (size_t j = 0; j < m->entries[i].numel; j++)
                m->entries[i].param[j] = 1.0f + 0.1f * (float)((j * 7 + i) % 5) - 0.2f;
    return m;
}

static void batch(const lg_model *m, int32_t *ids, int32_t *tgt)
{
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 29 + 5) % m->cfg.vocab_size;
    lg_shift_targets(tgt, ids, B, T);
}

/* Entry e's gradient (after a backward over ids/tgt) against central differences of the
 * loss at every stride-th element, within 2% of the largest |gradient| plus 2%. */
static void entry_matches_fd(lg_model *m, const lg_param_entry *e, const int32_t *ids,
                             const int32_t *tgt, size_t stride)
{
    lg_error err;
    double gmax = 0;
    for (size_t j = 0; j < e->numel; j++)
        gmax = fmax(gmax, fabs(e->grad[j]));
    assert_true(gmax > 0);
    for (size_t j = 0; j < e->numel; j += stride) {
        const float h = 1e-2f, keep = e->param[j];
        e->param[j] = keep + h;
        assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
        const double lp = m->last_loss;
        e->param[j] = keep - h;
        assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
        const double lm = m->last_loss;
        e->param[j] = keep;
        const double fd = (lp - lm) / (2 * h), g = e->grad[j];
        if (!(fabs(fd - g) <= 0.02 * gmax + 0.02 * fabs(g)))
            fail_msg("%s %s[%zu]: analytic %.6g, finite difference %.6g (max |g| %.3g)",
                     m->cfg.model_type, e->name, j, g, fd, gmax);
    }
}

static void gradients_match_fd(const lg_config *c, const char *const *names, int n_names)
{
    lg_model *m = make(c);
    lg_error err;
    int32_t ids[B * T], tgt[B * T];
    batch(m, ids, tgt);
    assert_int_equal(lg_model_alloc_grads(m, &err), 0);
    lg_model_zero_grads(m);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    lg_model_backward(m, ids, 1.0f);
    for (int k = 0; k < n_names; k++) {
        const lg_param_entry *e = lg_model_find(m, names[k]);
        if (!e)
            fail_msg("no tensor %s", names[k]);
        entry_matches_fd(m, e, ids, tgt, e->numel / 5 + 1);
    }
    lg_model_free(m);
}

static void qwen3_qk_norm_gradients(void **state)
{
    (void)state;
    lg_config c = tiny(LG_ARCH_QWEN3);
    const char *names[] = {"model.layers.0.self_attn.q_norm.weight",
                           "model.layers.1.self_attn.k_norm.weight",
                           "model.layers.0.self_attn.q_proj.weight",
                           "model.layers.0.self_attn.k_proj.weight"};
    gradients_match_fd(&c, names, 4);
}

static void gpt2_gradients(void **state)
{
    (void)state;
    lg_config c = gpt2();
    const char *names[] = {"transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight",
                           "transformer.h.1.attn.c_attn.bias", "transformer.h.0.ln_1.bias",
                           "transformer.h.1.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.bias",
                           "transformer.ln_f.weight", "transformer.wte.weight"};
    gradients_match_fd(&c, names, 8);
}

/* A GPT-2 model with a LoRA adapter on every target ("all": c_attn, attn.c_proj, c_fc,
 * mlp.c_proj), B away from zero so that every term counts. */
static lg_model *gpt2_with_lora(void)
{
    lg_config c = gpt2();
    lg_model *m = make(&c);
    lg_error err;
    lg_lora_config lc = {.rank = 3, .alpha = 6, .target_mask = (1u << LG_LORA_NTARGETS) - 1};
    if (!lg_lora_attach(m, &lc, 5, &err))
        fail_msg("%s", err.msg);
    for (int i = 1; i < m->lora->n_entries; i += 2)
        for (size_t j = 0; j < m->lora->entries[i].numel; j++)
            m->lora->entries[i].param[j] = 0.2f * (float)((j * 13 + (size_t)i * 7) % 11) / 11 - 0.1f;
    return m;
}

static void gpt2_lora_gradients(void **state)
{
    (void)state;
    lg_model *m = gpt2_with_lora();
    lg_error err;
    const int C = m->cfg.hidden_size;
    /* PEFT's modules and shapes: c_attn's lora_B covers q, k and v */
    assert_int_equal(m->lora->cfg.target_mask, 1u << LG_LORA_Q | 1u << LG_LORA_O |
                                                   1u << LG_LORA_UP | 1u << LG_LORA_DOWN);
    const lg_param_entry *e = lg_lora_find(m->lora, "transformer.h.1.attn.c_attn.lora_B.weight");
    assert_non_null(e);
    assert_int_equal(e->shape[0], 3 * C);
    assert_int_equal(e->shape[1], 3);
    assert_non_null(lg_lora_find(m->lora, "transformer.h.0.mlp.c_proj.lora_A.weight"));
    e = lg_lora_find(m->lora, "transformer.h.0.mlp.c_fc.lora_B.weight");
    assert_int_equal(e->shape[0], m->cfg.intermediate_size);
    assert_int_equal(m->lora->n_entries, 2 * 4 * 2);
    /* GPT-2 has no gate; k alone means c_attn, as q does */
    lg_config c = gpt2();
    lg_model *other = make(&c);
    lg_lora_config lc = {.rank = 2, .alpha = 2, .target_mask = 1u << LG_LORA_GATE};
    assert_null(lg_lora_attach(other, &lc, 1, &err));
    assert_non_null(strstr(err.msg, "gate_proj is not available for gpt2"));
    lc.target_mask = 1u << LG_LORA_K;
    assert_non_null(lg_lora_attach(other, &lc, 1, &err));
    assert_int_equal(other->lora->cfg.target_mask, 1u << LG_LORA_Q);
    lg_model_free(other);
    int32_t ids[B * T], tgt[B * T];
    batch(m, ids, tgt);
    int *none = calloc((size_t)m->n_entries, sizeof *none);
    assert_int_equal(lg_model_alloc_grads_for(m, none, &err), 0);
    free(none);
    assert_int_equal(lg_lora_alloc_grads(m->lora, &err), 0);
    lg_model_zero_grads(m);
    assert_int_equal(lg_model_forward(m, ids, tgt, B, T, &err), 0);
    lg_model_backward(m, ids, 1.0f);
    for (int k = 0; k < m->lora->n_entries; k++) {
        e = &m->lora->entries[k];
        /* c_attn's B: rows of q, k and v each */
        entry_matches_fd(m, e, ids, tgt, strstr(e->name, "c_attn.lora_B") ? 11 : e->numel / 4 + 1);
    }
    lg_model_free(m);
}

/* The adapted forward = the base whose Conv1D weights W[in, out] get scale·(B A)^T, PEFT's
 * merge with fan_in_fan_out, computed here element by element; lg_lora_merge the same. */
static void gpt2_lora_merge_equals_forward(void **state)
{
    (void)state;
    lg_model *m = gpt2_with_lora(), *ref = gpt2_with_lora();
    lg_error err;
    int32_t ids[B * T], tgt[B * T];
    batch(m, ids, tgt);
    const lg_lora *l = ref->lora;
    const int r = l->cfg.rank;
    for (int k = 0; k < l->n_entries; k += 2) {
        const lg_param_entry *A = &l->entries[k], *Bm = &l->entries[k + 1];
        char name[160];
        snprintf(name, sizeof name, "%.*s.weight",
                 (int)(strstr(A->name, ".lora_A") - A->name), A->name);
        const lg_param_entry *W = lg_model_find(ref, name);
        assert_non_null(W);
        const int64_t in = W->shape[0], out = W->shape[1];
        assert_int_equal(A->shape[1], in);
        assert_int_equal(Bm->shape[0], out);
        for (int64_t i = 0; i < in; i++)
            for (int64_t o = 0; o < out; o++) {
                double d = 0;
                for (int q = 0; q < r; q++)
                    d += (double)Bm->param[o * r + q] * A->param[q * in + i];
                W->param[i * out + o] += (float)(l->scale * d);
            }
    }
    lg_lora_free(ref->lora);
    ref->lora = NULL;
    const size_t n = (size_t)B * T * m->cfg.vocab_size;
    assert_int_equal(lg_model_forward(m, ids, NULL, B, T, &err), 0);
    float *adapted = malloc(n * sizeof *adapted);
    memcpy(adapted, m->a.logits, n * sizeof *adapted);
    assert_int_equal(lg_model_forward(ref, ids, NULL, B, T, &err), 0);
    assert_int_equal(lg_lora_merge(m, &err), 0);
    assert_null(m->lora);
    assert_int_equal(lg_model_forward(m, ids, NULL, B, T, &err), 0);
    double worst = 0, worst_merge = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(adapted[i] - ref->a.logits[i]));
        worst_merge = fmax(worst_merge, fabs(m->a.logits[i] - ref->a.logits[i]));
        scale = fmax(scale, fabs(ref->a.logits[i]));
    }
    printf("gpt2 LoRA: adapted forward against merged weights max |dlogit| %.3g, "
           "lg_lora_merge %.3g (logits up to %.3g)\n", worst, worst_merge, scale);
    assert_true(worst <= 1e-5 * (1 + scale));
    assert_true(worst_merge <= 1e-5 * (1 + scale));
    free(adapted);
    lg_model_free(m);
    lg_model_free(ref);
}

/* The PEFT files: fan_in_fan_out, PEFT's module names and tensor names; read back equal;
 * the token embeddings saved under GPT-2's name (modules_to_save "wte") */
static void gpt2_lora_peft_files(void **state)
{
    (void)state;
    lg_model *m = gpt2_with_lora();
    lg_error err;
    m->lora->cfg.save_embed_tokens = 1;
    const char *dir = "build/test_arch.gpt2-lora";
    if (lg_lora_save_peft(m, dir, "gpt2-tiny", &err) < 0)
        fail_msg("%s", err.msg);
    FILE *f = fopen("build/test_arch.gpt2-lora/adapter_config.json", "r");
    assert_non_null(f);
    char json[4096] = {0};
    assert_true(fread(json, 1, sizeof json - 1, f) > 0);
    fclose(f);
    printf("%s\n", json);
    assert_non_null(strstr(json, "\"fan_in_fan_out\":\ttrue"));
    assert_non_null(strstr(json, "[\"c_attn\", \"attn.c_proj\", \"c_fc\", \"mlp.c_proj\"]"));
    assert_non_null(strstr(json, "[\"wte\"]"));
    lg_safetensors *st = lg_st_open("build/test_arch.gpt2-lora/adapter_model.safetensors", &err);
    assert_non_null(st);
    const lg_tensor_info *t =
        lg_st_find(st, "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight");
    assert_non_null(t);
    assert_int_equal(t->shape[0], 3 * m->cfg.hidden_size);
    assert_non_null(lg_st_find(st, "base_model.model.transformer.h.1.attn.c_proj.lora_A.weight"));
    assert_non_null(lg_st_find(st, "base_model.model.transformer.wte.weight"));
    assert_int_equal(lg_st_count(st), 2 * 4 * 2 + 1);
    lg_st_close(st);
    lg_config c = gpt2();
    lg_model *m2 = make(&c);
    if (!lg_lora_load_peft(m2, dir, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(m2->lora->n_params, m->lora->n_params);
    assert_memory_equal(m2->lora->param_mem, m->lora->param_mem,
                        m->lora->n_params * sizeof(float));
    assert_true(m2->lora->cfg.save_embed_tokens && !m2->lora->cfg.save_lm_head);
    /* a llama model does not take it */
    lg_config lc = tiny(LG_ARCH_LLAMA);
    lg_model *m3 = make(&lc);
    assert_null(lg_lora_load_peft(m3, dir, &err));
    printf("llama refuses it: %s\n", err.msg);
    lg_model_free(m);
    lg_model_free(m2);
    lg_model_free(m3);
}

static void llama3_scaled_rope_gradients(void **state)
{
    (void)state;
    lg_config c = llama3();
    const char *names[] = {"model.layers.0.self_attn.q_proj.weight",
                           "model.layers.1.self_attn.k_proj.weight",
                           "model.embed_tokens.weight"};
    gradients_match_fd(&c, names, 3);
}

/* KV-cache decoding token by token = the full forward, per architecture */
static void kv_cache_matches_forward_chunks(const lg_config *c, int chunk)
{
    lg_model *m = make(c);
    lg_error err;
    int32_t ids[B * T], tgt[B * T];
    batch(m, ids, tgt);
    lg_model_set_inference(m, 1);
    assert_int_equal(lg_model_forward(m, ids, NULL, 1, T, &err), 0);
    const int V = c->vocab_size;
    float *full = malloc(sizeof(float) * (size_t)T * V), *step = malloc(sizeof(float) * V);
    memcpy(full, m->a.logits, sizeof(float) * (size_t)T * V);
    lg_infer *s = lg_infer_create(m, T, chunk, &err);
    assert_non_null(s);
    if (c->sliding_window)
        assert_int_equal(s->cache->slots, c->sliding_window + chunk - 1);
    double worst = 0;
    float *rows = malloc(sizeof(float) * (size_t)T * V);
    for (int t = 0; t < T; t += chunk) {
        /* the first pass one token, then chunks: rows of a chunk see each other */
        const int n = t == 0 ? 1 : T - t < chunk ? T - t : chunk;
        assert_non_null(lg_infer_forward(s, ids + t, n, rows, &err));
        for (int i = 0; i < n; i++)
            for (int v = 0; v < V; v++)
                worst = fmax(worst, fabs(rows[(size_t)i * V + v] - full[(size_t)(t + i) * V + v]));
        if (t == 0)
            t = 1 - chunk;
    }
    free(rows);
    (void)step;
    printf("%s (window %d, chunk %d): KV cache against forward, max |dlogit| %.3g\n",
           c->model_type, c->sliding_window, chunk, worst);
    assert_true(worst < 1e-4);
    lg_infer_free(s);
    free(full);
    free(step);
    lg_model_free(m);
}

static lg_config mistral(int window)
{
    lg_config c = tiny(LG_ARCH_MISTRAL);
    c.sliding_window = window;
    return c;
}

static void kv_cache_each_architecture(void **state)
{
    (void)state;
    lg_config q3 = tiny(LG_ARCH_QWEN3), l3 = llama3(), mw = mistral(4), g2 = gpt2();
    kv_cache_matches_forward_chunks(&g2, 1);
    kv_cache_matches_forward_chunks(&g2, 5);
    kv_cache_matches_forward_chunks(&q3, 1);
    kv_cache_matches_forward_chunks(&l3, 1);
    kv_cache_matches_forward_chunks(&l3, 5);
    kv_cache_matches_forward_chunks(&mw, 1);   /* ring of 4 rows */
    kv_cache_matches_forward_chunks(&mw, 3);   /* ring of 6 rows, chunks across its end */
}

static void sliding_window_gradients(void **state)
{
    (void)state;
    lg_config c = mistral(4);
    const char *names[] = {"model.layers.0.self_attn.q_proj.weight",
                           "model.layers.0.self_attn.v_proj.weight",
                           "model.layers.1.self_attn.k_proj.weight"};
    gradients_match_fd(&c, names, 3);
}

/* one layer, window W: the prediction at t from ids[0..t] equals the unwindowed model's at
 * the last of ids[t-W+1..t] alone (attention sees the same tokens at the same relative
 * positions); and it differs from the unwindowed prediction at t */
static void sliding_window_sees_only_the_window(void **state)
{
    (void)state;
    const int W = 4;
    lg_config cw = mistral(W), c0 = mistral(0);
    cw.n_layers = c0.n_layers = 1;
    lg_model *mw = make(&cw), *m0 = make(&c0);
    lg_model_set_inference(mw, 1);
    lg_model_set_inference(m0, 1);
    lg_error err;
    int32_t ids[T], tgt[T];
    for (int i = 0; i < T; i++)
        ids[i] = (i * 29 + 5) % cw.vocab_size;
    (void)tgt;
    const int V = cw.vocab_size;
    assert_int_equal(lg_model_forward(mw, ids, NULL, 1, T, &err), 0);
    float *win = malloc(sizeof(float) * (size_t)T * V);
    memcpy(win, mw->a.logits, sizeof(float) * (size_t)T * V);
    assert_int_equal(lg_model_forward(m0, ids, NULL, 1, T, &err), 0);
    double same_before = 0, differ_after = 0, worst = 0;
    for (int t = 0; t < T; t++) {
        for (int v = 0; v < V; v++) {
            const double d = fabs(win[(size_t)t * V + v] - m0->a.logits[(size_t)t * V + v]);
            if (t < W)
                same_before = fmax(same_before, d);
            else
                differ_after = fmax(differ_after, d);
        }
    }
    assert_true(same_before < 1e-5);
    assert_true(differ_after > 1e-2);
    for (int t = W; t < T; t++) {
        assert_int_equal(lg_model_forward(m0, ids + t - W + 1, NULL, 1, W, &err), 0);
        for (int v = 0; v < V; v++)
            worst = fmax(worst, fabs(win[(size_t)t * V + v] -
                                     m0->a.logits[(size_t)(W - 1) * V + v]));
    }
    printf("window %d: max |dlogit| against the window alone %.3g (unwindowed: %.3g)\n", W,
           worst, differ_after);
    assert_true(worst < 1e-4);
    free(win);
    lg_model_free(mw);
    lg_model_free(m0);
}

/* the descriptor, the parameter count and the layout agree */
static void descriptor_counts(void **state)
{
    (void)state;
    lg_config c = tiny(LG_ARCH_QWEN3);
    lg_model *m = make(&c);
    long long sum = 0;
    for (int i = 0; i < m->n_entries; i++)
        sum += (long long)m->entries[i].numel;
    assert_int_equal(sum, lg_config_param_count(&c));
    const lg_param_entry *qn = lg_model_find(m, "model.layers.1.self_attn.q_norm.weight");
    assert_non_null(qn);
    assert_int_equal(qn->shape[0], c.head_dim);
    assert_null(lg_model_find(m, "model.layers.0.self_attn.q_proj.bias"));
    assert_non_null(m->p.layers[0].q_norm);
    lg_model_free(m);
    c.arch = LG_ARCH_LLAMA;
    assert_int_equal(sum - lg_config_param_count(&c), 2LL * 2 * c.head_dim);
}

/* q_norm of the wrong size, everything else right: refused naming the tensor */
static void wrong_qk_norm_size_refused(void **state)
{
    (void)state;
    lg_config c = tiny(LG_ARCH_QWEN3);
    lg_model *m = make(&c);
    lg_error err;
    const char *dir = "build/test_arch.bad";
    assert_int_equal(lg_model_save_dir(m, dir, LG_DT_F32, &err), 0);
    lg_st_writer *w = lg_st_writer_new();
    float big[64] = {0};
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        int64_t shape[2] = {e->shape[0], e->shape[1]};
        const float *data = e->param;
        if (!strcmp(e->name, "model.layers.1.self_attn.k_norm.weight")) {
            shape[0] = c.head_dim + 2;
            data = big;
        }
        assert_int_equal(lg_st_writer_add_f32(w, e->name, LG_DT_F32, e->ndim, shape, data, &err),
                         0);
    }
    assert_int_equal(lg_st_writer_write(w, "build/test_arch.bad/model.safetensors", &err), 0);
    lg_st_writer_free(w);
    lg_model_free(m);
    lg_weights *ws = lg_weights_open_dir(dir, &err);
    assert_non_null(ws);
    assert_int_equal(lg_model_check_weights(&c, ws, dir, 0, &err), -1);
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "model.layers.1.self_attn.k_norm.weight"));
    assert_non_null(strstr(err.msg, "[14]"));
    lg_weights_close(ws);
    assert_null(lg_model_load_dir(dir, &err));
    assert_non_null(strstr(err.msg, "k_norm.weight"));
}

/* GPT-2 weights in nn.Linear's [out, in] layout (as a TF or hand conversion may leave
 * them) rather than HF's Conv1D [in, out]: refused naming the tensor and both shapes */
static void gpt2_linear_layout_refused(void **state)
{
    (void)state;
    lg_config c = gpt2();
    lg_model *m = make(&c);
    lg_error err;
    const char *dir = "build/test_arch.gpt2";
    assert_int_equal(lg_model_save_dir(m, dir, LG_DT_F32, &err), 0);
    lg_st_writer *w = lg_st_writer_new();
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        int64_t shape[2] = {e->shape[0], e->shape[1]};
        if (strstr(e->name, "c_attn.weight")) {   /* [C, 3C] written as [3C, C] */
            shape[0] = e->shape[1];
            shape[1] = e->shape[0];
        }
        assert_int_equal(lg_st_writer_add_f32(w, e->name, LG_DT_F32, e->ndim, shape, e->param,
                                              &err), 0);
    }
    assert_int_equal(lg_st_writer_write(w, "build/test_arch.gpt2/model.safetensors", &err), 0);
    lg_st_writer_free(w);
    lg_model_free(m);
    assert_null(lg_model_load_dir(dir, &err));
    printf("refused: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "transformer.h.0.attn.c_attn.weight has shape [96, 32], "
                                    "expected [32, 96]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qwen3_qk_norm_gradients),
        cmocka_unit_test(llama3_scaled_rope_gradients),
        cmocka_unit_test(gpt2_gradients),
        cmocka_unit_test(gpt2_linear_layout_refused),
        cmocka_unit_test(gpt2_lora_gradients),
        cmocka_unit_test(gpt2_lora_merge_equals_forward),
        cmocka_unit_test(gpt2_lora_peft_files),
        cmocka_unit_test(kv_cache_each_architecture),
        cmocka_unit_test(sliding_window_gradients),
        cmocka_unit_test(sliding_window_sees_only_the_window),
        cmocka_unit_test(descriptor_counts),
        cmocka_unit_test(wrong_qk_norm_size_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
