/* config.json: the HF fixtures load with the values their README states, parameter counts
 * agree with the tensors HF stored, what the core cannot compute is refused by name, and
 * a written config loads back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cJSON.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg_arch.h"
#include "lg_model.h"
#include "lg_safetensors.h"

#define FIX "tests/fixtures/hf"

typedef struct {
    char dir[64];
} fixture;

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "build/test_cfg_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    return j;
}

/* The fixture's config with `edit` applied, written to DIR/NAME.json; returns its path. */
static const char *edited(fixture *fx, const char *fixture_dir, const char *name,
                          void (*edit)(cJSON *))
{
    static char path[256];
    char src[256];
    snprintf(src, sizeof src, "%s/%s/config.json", FIX, fixture_dir);
    cJSON *j = load_json(src);
    edit(j);
    char *text = cJSON_Print(j);
    snprintf(path, sizeof path, "%s/%s.json", fx->dir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    free(text);
    cJSON_Delete(j);
    return path;
}

static void expect_refusal(const char *path, const char *problem)
{
    lg_config cfg;
    lg_error err = {{0}};
    int rc = lg_config_load(path, &cfg, &err);
    if (rc != -1 || !strstr(err.msg, path) || !strstr(err.msg, problem))
        fail_msg("%s: expected a refusal mentioning '%s', got rc %d: '%s'", path, problem, rc,
                 err.msg);
}

/* Sum of the element counts HF stored, the oracle for lg_config_param_count. */
static long long stored_params(const char *dir)
{
    lg_error err = {{0}};
    lg_weights *w = lg_weights_open_dir(dir, &err);
    assert_non_null(w);
    long long n = 0;
    for (int i = 0; i < lg_weights_count(w); i++)
        n += lg_weights_tensor(w, i)->numel;
    lg_weights_close(w);
    return n;
}

static void llama_tiny(void **state)
{
    (void)state;
    lg_config c;
    lg_error err = {{0}};
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny", &c, &err), 0);
    assert_int_equal(c.arch, LG_ARCH_LLAMA);
    assert_string_equal(c.model_type, "llama");
    assert_int_equal(c.hidden_size, 64);
    assert_int_equal(c.n_layers, 2);
    assert_int_equal(c.n_heads, 4);
    assert_int_equal(c.n_kv_heads, 2);
    assert_int_equal(c.head_dim, 16);
    assert_int_equal(c.intermediate_size, 176);
    assert_int_equal(c.vocab_size, 301);
    assert_int_equal(c.tie_word_embeddings, 0);
    assert_true(c.rms_norm_eps == 1e-5f);
    assert_true(c.rope_theta == 10000.0);
    assert_int_equal(c.qkv_bias, 0);
    assert_int_equal(c.o_bias, 0);
    assert_int_equal(c.sliding_window, 0);
    assert_int_equal(c.max_position_embeddings, 128);
    assert_int_equal(c.bos_token_id, 1);
    assert_int_equal(c.eos_token_id, 2);
    assert_int_equal(c.pad_token_id, -1);
    assert_string_equal(c.torch_dtype, "float32");
    assert_int_equal(lg_config_param_count(&c), stored_params(FIX "/llama-tiny"));
}

static void llama_sharded_bf16(void **state)
{
    (void)state;
    lg_config c;
    lg_error err = {{0}};
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny-tied-bf16-sharded", &c, &err), 0);
    assert_int_equal(c.n_kv_heads, 1);
    assert_int_equal(c.tie_word_embeddings, 1);
    assert_true(c.rope_theta == 500000.0);
    assert_string_equal(c.torch_dtype, "bfloat16");
    /* The index's own total_parameters, written by HF. */
    cJSON *index = load_json(FIX "/llama-tiny-tied-bf16-sharded/model.safetensors.index.json");
    const cJSON *total = cJSON_GetObjectItem(cJSON_GetObjectItem(index, "metadata"),
                                             "total_parameters");
    assert_true(cJSON_IsNumber(total));
    assert_int_equal(lg_config_param_count(&c), (long long)total->valuedouble);
    assert_int_equal(lg_config_param_count(&c), stored_params(FIX "/llama-tiny-tied-bf16-sharded"));
    cJSON_Delete(index);
}

static void qwen2_tiny(void **state)
{
    (void)state;
    lg_config c;
    lg_error err = {{0}};
    assert_int_equal(lg_config_load_dir(FIX "/qwen2-tiny", &c, &err), 0);
    assert_int_equal(c.arch, LG_ARCH_QWEN2);
    assert_int_equal(c.qkv_bias, 1);
    assert_int_equal(c.o_bias, 0);
    assert_int_equal(c.tie_word_embeddings, 1);
    assert_int_equal(c.vocab_size, 257);
    assert_int_equal(c.intermediate_size, 160);
    assert_true(c.rms_norm_eps == 1e-6f);
    assert_int_equal(c.head_dim, 16);           /* 64 / 4: not written in the file */
    assert_int_equal(c.sliding_window, 0);      /* use_sliding_window false */
    assert_int_equal(c.bos_token_id, -1);
    assert_int_equal(lg_config_param_count(&c), stored_params(FIX "/qwen2-tiny"));
}

static void del_vocab(cJSON *j) { cJSON_DeleteItemFromObject(j, "vocab_size"); }
static void del_layers(cJSON *j) { cJSON_DeleteItemFromObject(j, "num_hidden_layers"); }
static void rope_linear(cJSON *j)
{
    cJSON *r = cJSON_AddObjectToObject(j, "rope_scaling");
    cJSON_AddStringToObject(r, "type", "linear");
    cJSON_AddNumberToObject(r, "factor", 2.0);
}
static void rope_yarn(cJSON *j)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "rope_parameters"), "rope_type",
                              cJSON_CreateString("yarn"));
}
static void rope_llama3(cJSON *j)
{
    cJSON_DeleteItemFromObject(j, "rope_parameters");
    cJSON *r = cJSON_AddObjectToObject(j, "rope_scaling");
    cJSON_AddStringToObject(r, "rope_type", "llama3");
}
/* Llama 3.1's rope_scaling, with `drop` removed and high_freq_factor `high` */
static void llama3_fields(cJSON *j, const char *drop, double high)
{
    cJSON_DeleteItemFromObject(j, "rope_parameters");
    cJSON *r = cJSON_AddObjectToObject(j, "rope_scaling");
    cJSON_AddStringToObject(r, "rope_type", "llama3");
    cJSON_AddNumberToObject(r, "factor", 8.0);
    cJSON_AddNumberToObject(r, "low_freq_factor", 1.0);
    cJSON_AddNumberToObject(r, "high_freq_factor", high);
    cJSON_AddNumberToObject(r, "original_max_position_embeddings", 8192);
    if (drop)
        cJSON_DeleteItemFromObject(r, drop);
}
static void rope_llama3_full(cJSON *j) { llama3_fields(j, NULL, 4.0); }
static void rope_llama3_no_orig(cJSON *j)
{
    llama3_fields(j, "original_max_position_embeddings", 4.0);
}
static void rope_llama3_high_low(cJSON *j) { llama3_fields(j, NULL, 1.0); }
static void rope_dynamic(cJSON *j)
{
    cJSON_DeleteItemFromObject(j, "rope_parameters");
    cJSON *r = cJSON_AddObjectToObject(j, "rope_scaling");
    cJSON_AddStringToObject(r, "type", "dynamic");
    cJSON_AddNumberToObject(r, "factor", 2.0);
}
static void act_gelu(cJSON *j)
{
    cJSON_ReplaceItemInObject(j, "hidden_act", cJSON_CreateString("gelu"));
}
static void mlp_bias(cJSON *j) { cJSON_ReplaceItemInObject(j, "mlp_bias", cJSON_CreateTrue()); }
static void kv_3(cJSON *j)
{
    cJSON_ReplaceItemInObject(j, "num_key_value_heads", cJSON_CreateNumber(3));
}
static void vocab_string(cJSON *j)
{
    cJSON_ReplaceItemInObject(j, "vocab_size", cJSON_CreateString("301"));
}
static void window_beyond_context(cJSON *j)
{
    cJSON_ReplaceItemInObject(j, "model_type", cJSON_CreateString("mistral"));
    cJSON_AddNumberToObject(j, "sliding_window", 4096);   /* max_position_embeddings 128 */
}
static void mixed_layers(cJSON *j)
{
    cJSON_ReplaceItemInObject(j, "use_sliding_window", cJSON_CreateTrue());
    cJSON_ReplaceItemInObject(j, "sliding_window", cJSON_CreateNumber(32));
    cJSON_ReplaceItemInObject(j, "max_window_layers", cJSON_CreateNumber(1));
    cJSON_DeleteItemFromObject(j, "layer_types");
}

static void refusals_name_file_and_problem(void **state)
{
    fixture *fx = *state;
    expect_refusal(edited(fx, "llama-tiny", "no_vocab", del_vocab),
                   "missing required field 'vocab_size'");
    expect_refusal(edited(fx, "qwen2-tiny", "no_layers", del_layers),
                   "missing required field 'num_hidden_layers'");
    expect_refusal(FIX "/gpt2-tiny/config.json", "unsupported model_type 'gpt2'");
    expect_refusal(edited(fx, "llama-tiny", "yarn", rope_yarn),
                   "unsupported RoPE scaling rope_parameters.rope_type 'yarn'");
    expect_refusal(edited(fx, "llama-tiny", "dynamic", rope_dynamic),
                   "unsupported RoPE scaling rope_scaling.type 'dynamic'");
    expect_refusal(edited(fx, "llama-tiny", "llama3", rope_llama3),
                   "rope_type 'llama3' needs rope_scaling.factor");
    expect_refusal(edited(fx, "llama-tiny", "llama3_no_orig", rope_llama3_no_orig),
                   "needs rope_scaling.original_max_position_embeddings");
    expect_refusal(edited(fx, "llama-tiny", "llama3_high_low", rope_llama3_high_low),
                   "rope_scaling.high_freq_factor 1 must be greater than low_freq_factor 1");
    expect_refusal(edited(fx, "llama-tiny", "gelu", act_gelu), "unsupported hidden_act 'gelu'");
    expect_refusal(edited(fx, "llama-tiny", "mlp_bias", mlp_bias), "mlp_bias");
    expect_refusal(edited(fx, "llama-tiny", "kv3", kv_3), "not a multiple");
    expect_refusal(edited(fx, "llama-tiny", "vocab_string", vocab_string),
                   "'vocab_size' must be an integer");
    expect_refusal(edited(fx, "qwen2-tiny", "mixed", mixed_layers), "only some layers");
    expect_refusal(edited(fx, "llama-tiny", "window", window_beyond_context),
                   "sliding_window 4096 is larger than the context (max_position_embeddings "
                   "128)");
    char path[128];
    snprintf(path, sizeof path, "%s/broken.json", fx->dir);
    FILE *f = fopen(path, "wb");
    fputs("{\"model_type\": \"llama\",", f);
    fclose(f);
    expect_refusal(path, "not valid JSON");
    snprintf(path, sizeof path, "%s/absent.json", fx->dir);
    expect_refusal(path, "cannot open");
}

static void older_and_variant_fields(void **state)
{
    (void)state;
    lg_config c;
    lg_error err = {{0}};
    /* A Mistral config as most hub checkpoints have it: top-level rope_theta, eos as list,
     * torch_dtype, no head_dim, a sliding window. */
    const char *mistral =
        "{\"architectures\":[\"MistralForCausalLM\"],\"model_type\":\"mistral\","
        "\"vocab_size\":32000,\"hidden_size\":4096,\"intermediate_size\":14336,"
        "\"num_hidden_layers\":32,\"num_attention_heads\":32,\"num_key_value_heads\":8,"
        "\"rope_theta\":1000000.0,\"rope_scaling\":null,\"sliding_window\":4096,"
        "\"eos_token_id\":[2,32000],\"bos_token_id\":1,\"torch_dtype\":\"bfloat16\","
        "\"rms_norm_eps\":1e-05,\"hidden_act\":\"silu\"}";
    assert_int_equal(lg_config_parse(mistral, strlen(mistral), "mistral.json", &c, &err), 0);
    assert_int_equal(c.arch, LG_ARCH_MISTRAL);
    assert_true(c.rope_theta == 1e6);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.sliding_window, 4096);
    assert_int_equal(c.eos_token_id, 2);
    assert_int_equal(c.tie_word_embeddings, 0);
    assert_string_equal(c.torch_dtype, "bfloat16");
    /* Mistral 7B v0.1 has 7,241,732,096 parameters. */
    assert_int_equal(lg_config_param_count(&c), 7241732096LL);

    /* attention_bias on a llama puts biases on q, k, v and o. */
    const char *biased =
        "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,\"intermediate_size\":16,"
        "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"attention_bias\":true}";
    assert_int_equal(lg_config_parse(biased, strlen(biased), "b.json", &c, &err), 0);
    assert_int_equal(c.qkv_bias, 1);
    assert_int_equal(c.o_bias, 1);
    assert_int_equal(c.n_kv_heads, 2);
    assert_true(c.rope_theta == 10000.0);
}

static void write_then_load_is_identity(void **state)
{
    fixture *fx = *state;
    const char *dirs[] = {"llama-tiny", "llama-tiny-tied-bf16-sharded", "qwen2-tiny"};
    for (int i = 0; i < 3; i++) {
        char src[256], dst[256];
        snprintf(src, sizeof src, "%s/%s", FIX, dirs[i]);
        snprintf(dst, sizeof dst, "%s/written-%d.json", fx->dir, i);
        lg_config a, b;
        lg_error err = {{0}};
        assert_int_equal(lg_config_load_dir(src, &a, &err), 0);
        if (lg_config_write(dst, &a, &err) != 0)
            fail_msg("%s", err.msg);
        if (lg_config_load(dst, &b, &err) != 0)
            fail_msg("%s", err.msg);
        /* the dtype is written as given: the caller states how it stores the weights */
        assert_string_equal(b.torch_dtype, a.torch_dtype[0] ? a.torch_dtype : "float32");
        memcpy(b.torch_dtype, a.torch_dtype, sizeof b.torch_dtype);
        assert_memory_equal(&a, &b, sizeof a);
        /* What transformers looks at, read independently. */
        cJSON *j = load_json(dst);
        const char *arch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "architectures"), 0)
                               ->valuestring;
        assert_string_equal(arch, i == 2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        assert_true(cJSON_GetObjectItem(j, "rms_norm_eps")->valuedouble == (i == 2 ? 1e-6 : 1e-5));
        assert_true(cJSON_GetObjectItem(j, "rope_theta")->valuedouble == a.rope_theta);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(j, "tie_word_embeddings")),
                         a.tie_word_embeddings);
        cJSON_Delete(j);
    }
    lg_config c;
    lg_error err = {{0}};
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny", &c, &err), 0);
    assert_int_equal(lg_config_write("build/no/such/dir/config.json", &c, &err), -1);
    assert_non_null(strstr(err.msg, "build/no/such/dir/config.json"));
}

/* linear and llama3 RoPE scaling: read, written back, and the inverse frequencies as
 * transformers' _compute_llama3_parameters gives them */
static void rope_scaling_read_written_applied(void **state)
{
    fixture *fx = *state;
    lg_config c, b;
    lg_error err = {{0}};
    if (lg_config_load(edited(fx, "llama-tiny", "l3", rope_llama3_full), &c, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(c.rope_type, LG_ROPE_LLAMA3);
    assert_true(c.rope_factor == 8.0 && c.rope_low_freq_factor == 1.0 &&
                c.rope_high_freq_factor == 4.0 && c.rope_original_max_positions == 8192);
    char dst[256];
    snprintf(dst, sizeof dst, "%s/l3-written.json", fx->dir);
    assert_int_equal(lg_config_write(dst, &c, &err), 0);
    assert_int_equal(lg_config_load(dst, &b, &err), 0);
    memcpy(b.torch_dtype, c.torch_dtype, sizeof b.torch_dtype);
    assert_memory_equal(&c, &b, sizeof c);
    /* head_dim 16, theta 10000, wavelengths 2π·10000^(i/8): 6.3 .. 19869; original
     * context 8192 → low-frequency wavelength 8192, high 2048: only i = 7 (19869) is
     * divided by 8, i = 6 (6283) is blended, the others are kept. */
    lg_config plain = c;
    plain.rope_type = LG_ROPE_DEFAULT;
    for (int i = 0; i < 6; i++)
        assert_true(lg_rope_inv_freq_at(&c, i) == lg_rope_inv_freq_at(&plain, i));
    assert_float_equal(lg_rope_inv_freq_at(&c, 7), lg_rope_inv_freq_at(&plain, 7) / 8, 1e-12);
    const double f6 = lg_rope_inv_freq_at(&plain, 6), wavelen = 2 * M_PI / f6;
    const double smooth = (8192 / wavelen - 1) / (4 - 1);
    assert_float_equal(lg_rope_inv_freq_at(&c, 6), (1 - smooth) * f6 / 8 + smooth * f6, 1e-9);
    assert_true(smooth > 0 && smooth < 1);
    if (lg_config_load(edited(fx, "llama-tiny", "linear", rope_linear), &c, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(c.rope_type, LG_ROPE_LINEAR);
    for (int i = 0; i < 8; i++)
        assert_true(lg_rope_inv_freq_at(&c, i) == lg_rope_inv_freq_at(&plain, i) / 2.0f);
}

/* Qwen3: q/k-norm, explicit head_dim, no q/k/v bias unless attention_bias; read and
 * written back */
static void qwen3_read_and_written(void **state)
{
    fixture *fx = *state;
    const char *json =
        "{\"model_type\":\"qwen3\",\"vocab_size\":151936,\"hidden_size\":1024,"
        "\"intermediate_size\":3072,\"num_hidden_layers\":28,\"num_attention_heads\":16,"
        "\"num_key_value_heads\":8,\"head_dim\":128,\"max_position_embeddings\":40960,"
        "\"rms_norm_eps\":1e-06,\"rope_theta\":1000000,\"attention_bias\":false,"
        "\"use_sliding_window\":false,\"sliding_window\":null,\"max_window_layers\":28,"
        "\"tie_word_embeddings\":true,\"hidden_act\":\"silu\"}";
    lg_config c, b;
    lg_error err = {{0}};
    if (lg_config_parse(json, strlen(json), "qwen3.json", &c, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(c.arch, LG_ARCH_QWEN3);
    assert_int_equal(c.head_dim, 128);      /* ≠ 1024 / 16 */
    assert_int_equal(c.qkv_bias, 0);
    assert_int_equal(c.tie_word_embeddings, 1);
    assert_true(lg_role_present(&c, LG_ROLE_Q_NORM) && lg_role_present(&c, LG_ROLE_K_NORM));
    /* Qwen3-0.6B: 596,049,920 parameters (tied), as transformers counts them */
    assert_int_equal(lg_config_param_count(&c), 596049920LL);
    char dst[256];
    snprintf(dst, sizeof dst, "%s/qwen3-written.json", fx->dir);
    assert_int_equal(lg_config_write(dst, &c, &err), 0);
    assert_int_equal(lg_config_load(dst, &b, &err), 0);
    memcpy(b.torch_dtype, c.torch_dtype, sizeof b.torch_dtype);
    assert_memory_equal(&c, &b, sizeof c);
}

/* bos/eos/pad ids must be tokens of the vocabulary (an eos beyond it trained as loss 0). */
static void special_ids_outside_the_vocabulary(void **state)
{
    (void)state;
    const char *keys[] = {"bos_token_id", "eos_token_id", "pad_token_id"};
    for (int k = 0; k < 3; k++) {
        char json[512];
        lg_config c;
        lg_error err = {{0}};
        for (int list = 0; list < 2; list++) {
            snprintf(json, sizeof json,
                     "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,"
                     "\"intermediate_size\":16,\"num_hidden_layers\":1,"
                     "\"num_attention_heads\":2,\"%s\":%s}", keys[k], list ? "[10, 2]" : "10");
            assert_int_equal(lg_config_parse(json, strlen(json), "s.json", &c, &err), -1);
            assert_non_null(strstr(err.msg, keys[k]));
            assert_non_null(strstr(err.msg, "outside the vocabulary (vocab_size 10)"));
        }
        snprintf(json, sizeof json,
                 "{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":8,"
                 "\"intermediate_size\":16,\"num_hidden_layers\":1,"
                 "\"num_attention_heads\":2,\"%s\":9}", keys[k]);
        assert_int_equal(lg_config_parse(json, strlen(json), "s.json", &c, &err), 0);
        /* a config made in code is checked where every model starts */
        c.bos_token_id = k == 0 ? 10 : -1;
        c.eos_token_id = k == 1 ? 10 : -1;
        c.pad_token_id = k == 2 ? 10 : -1;
        assert_null(lg_model_create(&c, &err));
        assert_non_null(strstr(err.msg, keys[k]));
    }
}

/* The config is compared with the weights' index before anything is allocated or walked:
 * 10^9 layers are refused at once (they took minutes), other layer counts, shapes and
 * tensors by name. */
static void config_against_the_weights_index(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_config c;
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny", &c, &err), 0);
    lg_weights *w = lg_weights_open_dir(FIX "/llama-tiny", &err);
    assert_non_null(w);
    assert_int_equal(lg_model_check_weights(&c, w, "tiny", 0, &err), 0);
    lg_config bad = c;
    bad.n_layers = 1000000000;
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 0, &err), -1);
    assert_non_null(strstr(err.msg, "num_hidden_layers 1000000000"));
    assert_non_null(strstr(err.msg, "2 layers"));
    bad = c;
    bad.n_layers = 1;
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 0, &err), -1);
    bad = c;
    bad.intermediate_size = 1 << 30; /* 2^30 × 64 floats: refused before any allocation */
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 0, &err), -1);
    assert_non_null(strstr(err.msg, "gate_proj.weight has shape [176, 64], expected [1073741824, 64]"));
    bad = c;
    bad.tie_word_embeddings = 0;
    bad.qkv_bias = 1;
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 0, &err), -1);
    assert_non_null(strstr(err.msg, "q_proj.bias is missing"));
    bad = c;
    bad.vocab_size = 5;
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 1, &err), 0); /* vocabulary skipped */
    assert_int_equal(lg_model_check_weights(&bad, w, "tiny", 0, &err), -1);
    lg_weights_close(w);
    /* an untied config over tied weights: lm_head missing */
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny-tied-bf16-sharded", &c, &err), 0);
    w = lg_weights_open_dir(FIX "/llama-tiny-tied-bf16-sharded", &err);
    assert_non_null(w);
    assert_int_equal(lg_model_check_weights(&c, w, "tied", 0, &err), 0);
    c.tie_word_embeddings = 0;
    assert_int_equal(lg_model_check_weights(&c, w, "tied", 0, &err), -1);
    assert_non_null(strstr(err.msg, "lm_head.weight is missing"));
    lg_weights_close(w);
    /* qwen2 without its q/k/v biases: a tensor the config does not have */
    assert_int_equal(lg_config_load_dir(FIX "/qwen2-tiny", &c, &err), 0);
    w = lg_weights_open_dir(FIX "/qwen2-tiny", &err);
    assert_non_null(w);
    c.qkv_bias = 0;
    assert_int_equal(lg_model_check_weights(&c, w, "qwen2", 0, &err), -1);
    assert_non_null(strstr(err.msg, "unexpected tensor"));
    assert_non_null(strstr(err.msg, "_proj.bias"));
    lg_weights_close(w);
}

/* A model made from a config alone (lm init --config) sizes it in 64 bits before any walk
 * or allocation: beyond what can be addressed is refused at once. */
static void absurd_sizes_are_refused_at_once(void **state)
{
    (void)state;
    lg_error err = {{0}};
    lg_config c;
    assert_int_equal(lg_config_load_dir(FIX "/llama-tiny", &c, &err), 0);
    lg_config big = c;
    big.n_layers = 2147483647; /* 2·10^10 tensors: more than an int counts */
    assert_null(lg_model_create(&big, &err));
    assert_non_null(strstr(err.msg, "more parameters than can be addressed"));
    big = c;
    big.hidden_size = 1 << 30;
    big.intermediate_size = 1 << 30;
    big.head_dim = 1 << 26;
    big.n_layers = 1 << 20; /* the parameter count overflows 64 bits */
    assert_true(lg_config_param_count(&big) < 0);
    assert_null(lg_model_create(&big, &err));
    assert_non_null(strstr(err.msg, "more parameters than can be addressed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llama_tiny),
        cmocka_unit_test(llama_sharded_bf16),
        cmocka_unit_test(qwen2_tiny),
        cmocka_unit_test(refusals_name_file_and_problem),
        cmocka_unit_test(older_and_variant_fields),
        cmocka_unit_test(write_then_load_is_identity),
        cmocka_unit_test(rope_scaling_read_written_applied),
        cmocka_unit_test(qwen3_read_and_written),
        cmocka_unit_test(special_ids_outside_the_vocabulary),
        cmocka_unit_test(config_against_the_weights_index),
        cmocka_unit_test(absurd_sizes_are_refused_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
