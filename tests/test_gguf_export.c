/* GGUF export of the HF fixtures, read back with the GGUF reader: every key against
 * config.json (read here with cJSON, not lg_config) and the SentencePiece model, every
 * tensor against the safetensors weights, and the q/k permutation checked by what it is
 * for: HF's rotate_half RoPE on the original rows and llama.cpp's adjacent-pair RoPE on
 * the exported rows must give the same attention scores. */
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

#include <cJSON.h>

#include "lg_export.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

#define FIX "tests/fixtures/hf/"
#define TOK301 "tests/data/gguf/tiny301.model"
#define TOK257 "tests/data/gguf/tiny257.model"
#define BPE301 "tests/data/gguf/bpe301.model"

/* for tests of other refusals: the unigram tiny301 allowed */
static const lg_gguf_export_options allow = {.allow_tokenizer_mismatch = 1};

static cJSON *load_config(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static int cfg_int(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

static double cfg_num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static double rope_theta(const cJSON *j)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "rope_parameters");
    return p ? cfg_num(p, "rope_theta") : cfg_num(j, "rope_theta");
}

static int head_dim(const cJSON *j)
{
    return cJSON_GetObjectItemCaseSensitive(j, "head_dim")
               ? cfg_int(j, "head_dim")
               : cfg_int(j, "hidden_size") / cfg_int(j, "num_attention_heads");
}

static uint32_t get_u32(const lg_gguf *g, const char *key)
{
    uint32_t v = 0;
    lg_error err;
    if (lg_gguf_get_u32(g, key, &v, &err) < 0)
        fail_msg("%s", err.msg);
    return v;
}

static float get_f32(const lg_gguf *g, const char *key)
{
    float v = 0;
    lg_error err;
    if (lg_gguf_get_f32(g, key, &v, &err) < 0)
        fail_msg("%s", err.msg);
    return v;
}

static lg_gguf *export_and_open(const char *model, const char *tok, const char *out, int f16)
{
    lg_error err;
    /* tiny301/tiny257 are unigram models (refused without the override, see
     * refuses_a_tokenizer_llama_cpp_would_not_reproduce): these tests check the rest */
    lg_gguf_export_options opt = {.f16 = f16, .allow_tokenizer_mismatch = 1};
    if (lg_gguf_export_hf(model, tok, out, &opt, &err) < 0)
        fail_msg("%s", err.msg);
    lg_gguf *g = lg_gguf_open(out, &err);
    if (!g)
        fail_msg("%s", err.msg);
    return g;
}

/* The exported tensor as floats (malloc'd). */
static float *gguf_floats(const lg_gguf *g, const char *name, const lg_gguf_tensor **out)
{
    const lg_gguf_tensor *t = lg_gguf_find_tensor(g, name);
    if (!t)
        fail_msg("tensor %s missing from the GGUF", name);
    float *f = malloc((size_t)t->numel * sizeof *f);
    lg_error err;
    assert_int_equal(lg_gguf_tensor_to_f32(t, f, &err), 0);
    if (out)
        *out = t;
    return f;
}

static float *hf_floats(const lg_weights *w, const char *name, const lg_tensor_info **out)
{
    const lg_tensor_info *t = lg_weights_find(w, name);
    if (!t)
        fail_msg("tensor %s missing from the HF model", name);
    float *f = malloc((size_t)t->numel * sizeof *f);
    lg_error err;
    assert_int_equal(lg_tensor_to_f32(t, f, &err), 0);
    if (out)
        *out = t;
    return f;
}

/* The GGUF tensor holds the HF tensor's values, rows in the same order; dims reversed. */
static void expect_same(const lg_gguf *g, const lg_weights *w, const char *gname,
                        const char *hname, double rel_tol)
{
    const lg_gguf_tensor *gt;
    const lg_tensor_info *ht;
    float *a = gguf_floats(g, gname, &gt);
    float *b = hf_floats(w, hname, &ht);
    assert_int_equal(gt->n_dims, ht->ndim);
    for (int d = 0; d < ht->ndim; d++)
        assert_int_equal(gt->dims[d], ht->shape[ht->ndim - 1 - d]);
    for (int64_t k = 0; k < ht->numel; k++)
        /* (+ half of F16's subnormal spacing, 2^-25, when rounding is allowed) */
        if (fabs((double)a[k] - b[k]) > rel_tol * fabs(b[k]) + (rel_tol > 0 ? 0x1p-25 : 0))
            fail_msg("%s[%lld] = %g, HF %s has %g", gname, (long long)k, a[k], hname, b[k]);
    free(a);
    free(b);
}

/* RoPE in HF's convention (rotate_half: j pairs with j + hd/2) on one head vector. */
static void rope_hf(double *v, int hd, int pos, double theta)
{
    for (int i = 0; i < hd / 2; i++) {
        double a = pos * pow(theta, -2.0 * i / hd), c = cos(a), s = sin(a);
        double x = v[i], y = v[i + hd / 2];
        v[i] = x * c - y * s;
        v[i + hd / 2] = y * c + x * s;
    }
}

/* RoPE in llama.cpp's "normal" mode: elements 2i and 2i+1 form a pair. */
static void rope_adjacent(double *v, int hd, int pos, double theta)
{
    for (int i = 0; i < hd / 2; i++) {
        double a = pos * pow(theta, -2.0 * i / hd), c = cos(a), s = sin(a);
        double x = v[2 * i], y = v[2 * i + 1];
        v[2 * i] = x * c - y * s;
        v[2 * i + 1] = y * c + x * s;
    }
}

/* scores[h] = <rope(W_q x + b_q)_h at pos_q, rope(W_k y + b_k)_{h's kv head} at pos_k>. */
static void attention_scores(const float *wq, const float *bq, const float *wk, const float *bk,
                             const double *x, const double *y, int C, int n_head, int n_kv,
                             int hd, double theta, int adjacent, double *scores)
{
    double *q = calloc((size_t)n_head * hd, sizeof *q);
    double *k = calloc((size_t)n_kv * hd, sizeof *k);
    for (int r = 0; r < n_head * hd; r++) {
        q[r] = bq ? bq[r] : 0;
        for (int c = 0; c < C; c++)
            q[r] += (double)wq[(size_t)r * C + c] * x[c];
    }
    for (int r = 0; r < n_kv * hd; r++) {
        k[r] = bk ? bk[r] : 0;
        for (int c = 0; c < C; c++)
            k[r] += (double)wk[(size_t)r * C + c] * y[c];
    }
    for (int h = 0; h < n_head; h++)
        (adjacent ? rope_adjacent : rope_hf)(q + h * hd, hd, 7, theta);
    for (int h = 0; h < n_kv; h++)
        (adjacent ? rope_adjacent : rope_hf)(k + h * hd, hd, 3, theta);
    for (int h = 0; h < n_head; h++) {
        const double *kh = k + (h / (n_head / n_kv)) * hd;
        scores[h] = 0;
        for (int i = 0; i < hd; i++)
            scores[h] += q[h * hd + i] * kh[i];
    }
    free(q);
    free(k);
}

/* For every layer: exported q/k (+ biases) with llama.cpp's RoPE give HF's scores, and the
 * unpermuted rows with llama.cpp's RoPE do not (so the comparison can fail). */
static void expect_rope_equivalent(const lg_gguf *g, const lg_weights *w, const cJSON *cfg,
                                   int with_bias)
{
    int C = cfg_int(cfg, "hidden_size"), L = cfg_int(cfg, "num_hidden_layers");
    int nh = cfg_int(cfg, "num_attention_heads"), nkv = cfg_int(cfg, "num_key_value_heads");
    int hd = head_dim(cfg);
    double theta = rope_theta(cfg);
    double *x = malloc((size_t)C * sizeof *x), *y = malloc((size_t)C * sizeof *y);
    for (int c = 0; c < C; c++) {
        x[c] = sin(0.7 * c + 0.3);
        y[c] = cos(1.3 * c) - 0.2;
    }
    double hf[64], gg[64], wrong[64];
    assert_true(nh <= 64);
    for (int l = 0; l < L; l++) {
        char name[128];
        float *hq, *hk, *gq, *gk, *hbq = NULL, *hbk = NULL, *gbq = NULL, *gbk = NULL;
        snprintf(name, sizeof name, "model.layers.%d.self_attn.q_proj.weight", l);
        hq = hf_floats(w, name, NULL);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.k_proj.weight", l);
        hk = hf_floats(w, name, NULL);
        snprintf(name, sizeof name, "blk.%d.attn_q.weight", l);
        gq = gguf_floats(g, name, NULL);
        snprintf(name, sizeof name, "blk.%d.attn_k.weight", l);
        gk = gguf_floats(g, name, NULL);
        if (with_bias) {
            snprintf(name, sizeof name, "model.layers.%d.self_attn.q_proj.bias", l);
            hbq = hf_floats(w, name, NULL);
            snprintf(name, sizeof name, "model.layers.%d.self_attn.k_proj.bias", l);
            hbk = hf_floats(w, name, NULL);
            snprintf(name, sizeof name, "blk.%d.attn_q.bias", l);
            gbq = gguf_floats(g, name, NULL);
            snprintf(name, sizeof name, "blk.%d.attn_k.bias", l);
            gbk = gguf_floats(g, name, NULL);
        }
        attention_scores(hq, hbq, hk, hbk, x, y, C, nh, nkv, hd, theta, 0, hf);
        attention_scores(gq, gbq, gk, gbk, x, y, C, nh, nkv, hd, theta, 1, gg);
        attention_scores(hq, hbq, hk, hbk, x, y, C, nh, nkv, hd, theta, 1, wrong);
        double scale = 0, worst = 0, wrong_dist = 0;
        for (int h = 0; h < nh; h++) {
            scale = fmax(scale, fabs(hf[h]));
            worst = fmax(worst, fabs(hf[h] - gg[h]));
            wrong_dist = fmax(wrong_dist, fabs(hf[h] - wrong[h]));
        }
        if (worst > 1e-5 * scale)
            fail_msg("layer %d: attention scores differ by %g (scale %g)", l, worst, scale);
        if (wrong_dist < 1e-3 * scale)
            fail_msg("layer %d: the check cannot tell permuted from unpermuted rows", l);
        free(hq); free(hk); free(gq); free(gk);
        free(hbq); free(hbk); free(gbq); free(gbk);
    }
    free(x);
    free(y);
}

static void expect_vocab(const lg_gguf *g, const char *tok_path, int V)
{
    lg_error err;
    lg_spm *spm = lg_spm_load(tok_path, &err);
    assert_non_null(spm);
    int n = lg_spm_vocab_size(spm);
    const lg_gguf_kv *tokens = lg_gguf_get_arr(g, "tokenizer.ggml.tokens", LG_GGUF_STRING, &err);
    const lg_gguf_kv *scores = lg_gguf_get_arr(g, "tokenizer.ggml.scores", LG_GGUF_FLOAT32, &err);
    const lg_gguf_kv *types = lg_gguf_get_arr(g, "tokenizer.ggml.token_type", LG_GGUF_INT32, &err);
    assert_non_null(tokens);
    assert_non_null(scores);
    assert_non_null(types);
    assert_int_equal(tokens->arr_count, V);
    assert_int_equal(scores->arr_count, V);
    assert_int_equal(types->arr_count, V);
    const float *sc = scores->arr;
    const int32_t *ty = types->arr;
    int bytes = 0;
    for (int id = 0; id < V; id++) {
        if (id < n) {
            assert_string_equal(tokens->arr_str[id], lg_spm_id_to_piece(spm, id));
            assert_true(sc[id] == lg_spm_score(spm, id));
            assert_int_equal(ty[id], (int)lg_spm_type(spm, id));
            bytes += ty[id] == 6;
        } else {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", id - n + 1);
            assert_string_equal(tokens->arr_str[id], pad);
            assert_int_equal(ty[id], 5);   /* unused */
        }
    }
    /* GGUF's token_type numbers: 2 unknown, 3 control, 6 byte (as SentencePiece's). */
    assert_int_equal(ty[get_u32(g, "tokenizer.ggml.unknown_token_id")], 2);
    if (n >= 259) {
        assert_int_equal(bytes, 256);
        assert_string_equal(tokens->arr_str[get_u32(g, "tokenizer.ggml.bos_token_id")], "<s>");
        assert_string_equal(tokens->arr_str[get_u32(g, "tokenizer.ggml.eos_token_id")], "</s>");
        assert_int_equal(ty[get_u32(g, "tokenizer.ggml.bos_token_id")], 3);
    }
    assert_string_equal(lg_gguf_get_str(g, "tokenizer.ggml.model", &err), "llama");
    int add_bos = 0;
    assert_int_equal(lg_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos, &err), 0);
    assert_int_equal(add_bos, 1);
    lg_spm_free(spm);
}

/* Hyperparameters against config.json, with the types llama.cpp insists on. */
static void expect_hparams(const lg_gguf *g, const cJSON *cfg, int f16)
{
    lg_error err;
    assert_int_equal(lg_gguf_version(g), 3);
    assert_string_equal(lg_gguf_get_str(g, "general.architecture", &err), "llama");
    assert_non_null(lg_gguf_get_str(g, "general.name", &err));
    assert_int_equal(get_u32(g, "general.alignment"), 32);
    assert_int_equal(get_u32(g, "general.file_type"), f16 ? 1 : 0);
    assert_int_equal(get_u32(g, "llama.vocab_size"), cfg_int(cfg, "vocab_size"));
    assert_int_equal(get_u32(g, "llama.context_length"), cfg_int(cfg, "max_position_embeddings"));
    assert_int_equal(get_u32(g, "llama.embedding_length"), cfg_int(cfg, "hidden_size"));
    assert_int_equal(get_u32(g, "llama.block_count"), cfg_int(cfg, "num_hidden_layers"));
    assert_int_equal(get_u32(g, "llama.feed_forward_length"), cfg_int(cfg, "intermediate_size"));
    assert_int_equal(get_u32(g, "llama.attention.head_count"),
                     cfg_int(cfg, "num_attention_heads"));
    assert_int_equal(get_u32(g, "llama.attention.head_count_kv"),
                     cfg_int(cfg, "num_key_value_heads"));
    assert_int_equal(get_u32(g, "llama.rope.dimension_count"), head_dim(cfg));
    assert_true(get_f32(g, "llama.attention.layer_norm_rms_epsilon") ==
                (float)cfg_num(cfg, "rms_norm_eps"));
    assert_true(get_f32(g, "llama.rope.freq_base") == (float)rope_theta(cfg));
    /* every key is one llama.cpp knows the type of: a wrong type fails the typed get */
    for (int i = 0; i < lg_gguf_kv_count(g); i++) {
        const lg_gguf_kv *kv = lg_gguf_kv_at(g, i);
        assert_true(strncmp(kv->key, "general.", 8) == 0 || strncmp(kv->key, "llama.", 6) == 0 ||
                    strncmp(kv->key, "tokenizer.ggml.", 15) == 0);
    }
}

/* The exact tensor set llama.cpp's llama graph loads: nothing missing, nothing extra. */
static void expect_tensor_names(const lg_gguf *g, int L, int tied, int bias, int f16)
{
    static const char *const per_layer[] = {
        "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
        "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight",
        "ffn_down.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
    };
    int n_per_layer = bias ? 12 : 9;
    assert_int_equal(lg_gguf_tensor_count(g), 2 + (tied ? 0 : 1) + L * n_per_layer);
    assert_non_null(lg_gguf_find_tensor(g, "token_embd.weight"));
    assert_non_null(lg_gguf_find_tensor(g, "output_norm.weight"));
    if (tied)
        assert_null(lg_gguf_find_tensor(g, "output.weight"));
    else
        assert_non_null(lg_gguf_find_tensor(g, "output.weight"));
    for (int l = 0; l < L; l++)
        for (int k = 0; k < n_per_layer; k++) {
            char name[96];
            snprintf(name, sizeof name, "blk.%d.%s", l, per_layer[k]);
            assert_non_null(lg_gguf_find_tensor(g, name));
        }
    for (int i = 0; i < lg_gguf_tensor_count(g); i++) {
        const lg_gguf_tensor *t = lg_gguf_tensor_at(g, i);
        lg_ggml_type want = t->n_dims == 2 && f16 ? LG_GGML_F16 : LG_GGML_F32;
        if (t->type != want)
            fail_msg("%s is %s, expected %s", t->name, lg_ggml_type_name(t->type),
                     lg_ggml_type_name(want));
        assert_int_equal(t->offset % 32, 0);
    }
}

/* Everything that is not q/k is copied unchanged. */
static void expect_plain_copies(const lg_gguf *g, const lg_weights *w, int L, int tied,
                                int bias, double tol)
{
    expect_same(g, w, "token_embd.weight", "model.embed_tokens.weight", tol);
    expect_same(g, w, "output_norm.weight", "model.norm.weight", 0);
    if (!tied)
        expect_same(g, w, "output.weight", "lm_head.weight", tol);
    static const char *const pairs[][2] = {
        {"attn_norm.weight", "input_layernorm.weight"},
        {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_output.weight", "self_attn.o_proj.weight"},
        {"ffn_norm.weight", "post_attention_layernorm.weight"},
        {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"},
        {"ffn_down.weight", "mlp.down_proj.weight"},
        {"attn_v.bias", "self_attn.v_proj.bias"},
    };
    int n = bias ? 8 : 7;
    for (int l = 0; l < L; l++)
        for (int k = 0; k < n; k++) {
            char gname[96], hname[128];
            snprintf(gname, sizeof gname, "blk.%d.%s", l, pairs[k][0]);
            snprintf(hname, sizeof hname, "model.layers.%d.%s", l, pairs[k][1]);
            /* vectors are always F32: exact */
            expect_same(g, w, gname, hname, strstr(pairs[k][0], "norm") || k == 7 ? 0 : tol);
        }
}

static void exports_llama_tiny_f32(void **state)
{
    (void)state;
    const char *dir = FIX "llama-tiny";
    const char *out = "build/test_gguf_export_llama.gguf";
    lg_gguf *g = export_and_open(dir, TOK301, out, 0);
    cJSON *cfg = load_config(dir);
    lg_error err;
    lg_weights *w = lg_weights_open_dir(dir, &err);
    assert_non_null(w);
    int L = cfg_int(cfg, "num_hidden_layers");
    expect_hparams(g, cfg, 0);
    assert_string_equal(lg_gguf_get_str(g, "general.name", &err), "llama-tiny");
    expect_vocab(g, TOK301, cfg_int(cfg, "vocab_size"));
    expect_tensor_names(g, L, 0, 0, 0);
    expect_plain_copies(g, w, L, 0, 0, 0);
    expect_rope_equivalent(g, w, cfg, 0);
    lg_weights_close(w);
    cJSON_Delete(cfg);
    lg_gguf_close(g);
    unlink(out);
}

static void exports_tied_bf16_sharded_as_f16(void **state)
{
    (void)state;
    const char *dir = FIX "llama-tiny-tied-bf16-sharded";
    const char *out = "build/test_gguf_export_tied.gguf";
    lg_gguf *g = export_and_open(dir, TOK301, out, 1);
    cJSON *cfg = load_config(dir);
    lg_error err;
    lg_weights *w = lg_weights_open_dir(dir, &err);
    assert_non_null(w);
    int L = cfg_int(cfg, "num_hidden_layers");
    expect_hparams(g, cfg, 1);
    expect_vocab(g, TOK301, cfg_int(cfg, "vocab_size"));
    expect_tensor_names(g, L, 1, 0, 1);
    /* F16 keeps 11 significant bits: relative error at most 2^-11 (normal range) */
    expect_plain_copies(g, w, L, 1, 0, 1.0 / 2048);
    expect_rope_equivalent(g, w, cfg, 0);
    lg_weights_close(w);
    cJSON_Delete(cfg);
    lg_gguf_close(g);
    unlink(out);
}

static void exports_qwen2_biases(void **state)
{
    (void)state;
    const char *dir = FIX "qwen2-tiny";
    const char *out = "build/test_gguf_export_qwen2.gguf";
    lg_gguf *g = export_and_open(dir, TOK257, out, 0);
    cJSON *cfg = load_config(dir);
    lg_error err;
    lg_weights *w = lg_weights_open_dir(dir, &err);
    assert_non_null(w);
    int L = cfg_int(cfg, "num_hidden_layers");
    expect_hparams(g, cfg, 0);
    expect_vocab(g, TOK257, cfg_int(cfg, "vocab_size"));
    expect_tensor_names(g, L, 1, 1, 0);
    expect_plain_copies(g, w, L, 1, 1, 0);
    /* biases take part in the scores: their permutation is checked with the weights' */
    expect_rope_equivalent(g, w, cfg, 1);
    lg_weights_close(w);
    cJSON_Delete(cfg);
    lg_gguf_close(g);
    unlink(out);
}

/* A one-layer untied synthetic Llama with attention_bias (q/k/v/o biases) in dir; `extra` adds a
 * tensor no GGUF slot takes. */
static void write_synthetic_llama(const char *dir, int extra)
{
    char path[512];
    snprintf(path, sizeof path, "mkdir -p %s", dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
          "\"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
          "\"num_key_value_heads\": 1, \"head_dim\": 4, \"intermediate_size\": 12, "
          "\"vocab_size\": 301, \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-6, "
          "\"rope_theta\": 1000.0, \"hidden_act\": \"silu\", \"attention_bias\": true, "
          "\"tie_word_embeddings\": false, \"torch_dtype\": \"float32\"}\n", f);
    fclose(f);
    static const struct { const char *name; int64_t rows, cols; } shapes[] = {
        {"model.embed_tokens.weight", 301, 8},
        {"model.norm.weight", 8, 0},
        {"lm_head.weight", 301, 8},
        {"model.layers.0.input_layernorm.weight", 8, 0},
        {"model.layers.0.post_attention_layernorm.weight", 8, 0},
        {"model.layers.0.self_attn.q_proj.weight", 8, 8},
        {"model.layers.0.self_attn.k_proj.weight", 4, 8},
        {"model.layers.0.self_attn.v_proj.weight", 4, 8},
        {"model.layers.0.self_attn.o_proj.weight", 8, 8},
        {"model.layers.0.self_attn.q_proj.bias", 8, 0},
        {"model.layers.0.self_attn.k_proj.bias", 4, 0},
        {"model.layers.0.self_attn.v_proj.bias", 4, 0},
        {"model.layers.0.self_attn.o_proj.bias", 8, 0},
        {"model.layers.0.mlp.gate_proj.weight", 12, 8},
        {"model.layers.0.mlp.up_proj.weight", 12, 8},
        {"model.layers.0.mlp.down_proj.weight", 8, 12},
        {"model.layers.0.mlp.extra.weight", 3, 0},
    };
    int n = extra ? 17 : 16;
    static float data[17][301 * 8];
    lg_st_writer *w = lg_st_writer_new();
    lg_error err;
    for (int i = 0; i < n; i++) {
        int64_t numel = shapes[i].rows * (shapes[i].cols ? shapes[i].cols : 1);
        for (int64_t k = 0; k < numel; k++)
            data[i][k] = (float)sin(0.37 * (double)k + i);
        int64_t shape[2] = {shapes[i].rows, shapes[i].cols};
        assert_int_equal(lg_st_writer_add_f32(w, shapes[i].name, LG_DT_F32,
                                              shapes[i].cols ? 2 : 1, shape, data[i], &err), 0);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (lg_st_writer_write(w, path, &err) < 0)
        fail_msg("%s", err.msg);
    lg_st_writer_free(w);
}

static void exports_every_llama_bias(void **state)
{
    (void)state;
    const char *dir = "build/test_gguf_export_bias";
    const char *out = "build/test_gguf_export_bias.gguf";
    write_synthetic_llama(dir, 0);
    lg_gguf *g = export_and_open(dir, TOK301, out, 0);
    cJSON *cfg = load_config(dir);
    lg_error err;
    lg_weights *w = lg_weights_open_dir(dir, &err);
    assert_non_null(w);
    assert_int_equal(lg_gguf_tensor_count(g), 3 + 13);
    expect_same(g, w, "output.weight", "lm_head.weight", 0);
    expect_hparams(g, cfg, 0);
    expect_same(g, w, "blk.0.attn_output.bias", "model.layers.0.self_attn.o_proj.bias", 0);
    expect_same(g, w, "blk.0.attn_v.bias", "model.layers.0.self_attn.v_proj.bias", 0);
    expect_rope_equivalent(g, w, cfg, 1);
    lg_weights_close(w);
    cJSON_Delete(cfg);
    lg_gguf_close(g);
    unlink(out);

    write_synthetic_llama(dir, 1);
    assert_int_equal(lg_gguf_export_hf(dir, TOK301, out, &allow, &err), -1);
    assert_non_null(strstr(err.msg, "model.layers.0.mlp.extra.weight"));
    assert_int_not_equal(access(out, F_OK), 0);
    assert_int_equal(system("rm -rf build/test_gguf_export_bias"), 0);
}

/* A tokenizer llama.cpp would segment text differently with is an error unless allowed;
 * then the reasons come back as a warning. One it reproduces (BPE, byte fallback, no
 * normaliser, spaces kept) is written with add_space_prefix from its add_dummy_prefix. */
static void refuses_a_tokenizer_llama_cpp_would_not_reproduce(void **state)
{
    (void)state;
    const char *out = "build/test_gguf_export_tok.gguf";
    unlink(out);
    lg_error err;
    assert_int_equal(lg_gguf_export_hf(FIX "llama-tiny", TOK301, out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, TOK301));
    assert_non_null(strstr(err.msg, "a unigram model"));
    assert_non_null(strstr(err.msg, "leading, trailing and repeated spaces removed"));
    assert_int_not_equal(access(out, F_OK), 0);
    char warning[1024] = "";
    lg_gguf_export_options opt = {.allow_tokenizer_mismatch = 1, .warning = warning,
                                  .warning_len = sizeof warning};
    assert_int_equal(lg_gguf_export_hf(FIX "llama-tiny", TOK301, out, &opt, &err), 0);
    assert_non_null(strstr(warning, "a unigram model"));
    unlink(out);
    assert_int_equal(lg_gguf_export_hf(FIX "llama-tiny", BPE301, out, NULL, &err), 0);
    lg_gguf *g = lg_gguf_open(out, &err);
    assert_non_null(g);
    int add_space = 0;
    assert_int_equal(lg_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &add_space, &err), 0);
    assert_int_equal(add_space, 1);
    lg_gguf_close(g);
    unlink(out);
}

static void pads_a_smaller_tokenizer(void **state)
{
    (void)state;
    const char *out = "build/test_gguf_export_pad.gguf";
    lg_gguf *g = export_and_open(FIX "llama-tiny", TOK257, out, 0);
    expect_vocab(g, TOK257, 301);    /* 257 pieces + [PAD1] .. [PAD44] */
    lg_gguf_close(g);
    unlink(out);
}

static void refuses_what_it_cannot_export(void **state)
{
    (void)state;
    const char *out = "build/test_gguf_export_refused.gguf";
    unlink(out);
    lg_error err;
    /* 301 pieces for a 257-row model */
    assert_int_equal(lg_gguf_export_hf(FIX "qwen2-tiny", TOK301, out, &allow, &err), -1);
    assert_non_null(strstr(err.msg, "301 pieces"));
    assert_non_null(strstr(err.msg, "257"));
    assert_int_not_equal(access(out, F_OK), 0);
    /* not a Llama-family model */
    assert_int_equal(lg_gguf_export_hf(FIX "gpt2-tiny", TOK301, out, NULL, &err), -1);
    assert_int_not_equal(access(out, F_OK), 0);
    assert_int_equal(lg_gguf_export_hf("build/no/such/model", TOK301, out, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "build/no/such/model"));
    assert_int_equal(lg_gguf_export_hf(FIX "llama-tiny", "build/no/such.model", out, NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "build/no/such.model"));
    assert_int_not_equal(access(out, F_OK), 0);
}

static void permute_qk_moves_rows_per_head(void **state)
{
    (void)state;
    /* 2 heads of dim 4, 1 column: HF rows (h, j) with j < 2 pair with (h, j + 2). */
    const float src[8] = {0, 1, 2, 3, 10, 11, 12, 13};
    const float want[8] = {0, 2, 1, 3, 10, 12, 11, 13};
    float dst[8];
    lg_error err;
    assert_int_equal(lg_gguf_permute_qk(src, dst, 8, 1, 2, &err), 0);
    assert_memory_equal(dst, want, sizeof want);
    assert_int_equal(lg_gguf_permute_qk(src, dst, 8, 1, 3, &err), -1);
    assert_int_equal(lg_gguf_permute_qk(src, dst, 6, 1, 2, &err), -1);  /* odd head size */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(permute_qk_moves_rows_per_head),
        cmocka_unit_test(exports_llama_tiny_f32),
        cmocka_unit_test(exports_tied_bf16_sharded_as_f16),
        cmocka_unit_test(exports_qwen2_biases),
        cmocka_unit_test(exports_every_llama_bias),
        cmocka_unit_test(pads_a_smaller_tokenizer),
        cmocka_unit_test(refuses_what_it_cannot_export),
        cmocka_unit_test(refuses_a_tokenizer_llama_cpp_would_not_reproduce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
