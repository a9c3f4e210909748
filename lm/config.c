/* config.json of the Llama family: loading with HF's defaults and refusals of what the
 * core cannot compute faithfully; writing a config transformers loads. */
#include "lg_model.h"
#include "lg_arch.h"
#include "lg_io.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



static const cJSON *field(const cJSON *root, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(root, key);
}

static int present(const cJSON *item)
{
    return item && !cJSON_IsNull(item);
}

/* An integer field. `required`: absence is an error; otherwise *out keeps its default. */
static int get_int(const char *name, const cJSON *root, const char *key, int required,
                   int min, int *out, lg_error *err)
{
    const cJSON *v = field(root, key);
    if (!present(v)) {
        if (required)
            return lg_fail(err, "%s: missing required field '%s'", name, key);
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < min || v->valuedouble > INT_MAX)
        return lg_fail(err, "%s: field '%s' must be an integer ≥ %d", name, key, min);
    *out = (int)v->valuedouble;
    return 0;
}

static int get_bool(const char *name, const cJSON *root, const char *key, int *out,
                    lg_error *err)
{
    const cJSON *v = field(root, key);
    if (!present(v))
        return 0;
    if (!cJSON_IsBool(v))
        return lg_fail(err, "%s: field '%s' must be true or false", name, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* A token id: an integer, null (-1) or a list whose first element is taken (the others are
 * not used). The id taken must be below vocab: an id outside the vocabulary would make
 * every sequence it frames fail. */
static int get_token_id(const char *name, const cJSON *root, const char *key, int vocab,
                        int *out, lg_error *err)
{
    const cJSON *v = field(root, key);
    *out = -1;
    if (cJSON_IsArray(v))
        v = cJSON_GetArrayItem(v, 0);
    if (!present(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > INT_MAX)
        return lg_fail(err, "%s: field '%s' must be a token id", name, key);
    if (v->valuedouble >= vocab)
        return lg_fail(err, "%s: %s %.0f is outside the vocabulary (vocab_size %d)", name, key,
                       v->valuedouble, vocab);
    *out = (int)v->valuedouble;
    return 0;
}

static int get_double(const char *name, const cJSON *obj, const char *key, double *out,
                      lg_error *err)
{
    const cJSON *v = field(obj, key);
    if (!present(v))
        return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))
        return lg_fail(err, "%s: field '%s' must be a positive number", name, key);
    *out = v->valuedouble;
    return 0;
}

/* rope_scaling (older files) or rope_parameters (transformers 5): the RoPE variant and its
 * parameters. Anything else (yarn, longrope, dynamic, ...) is refused by name. */
static int get_rope(const char *name, const cJSON *obj, const char *key, lg_config *cfg,
                    lg_error *err)
{
    if (!present(obj))
        return 0;
    if (!cJSON_IsObject(obj))
        return lg_fail(err, "%s: field '%s' must be an object", name, key);
    const cJSON *type = field(obj, "rope_type");
    const char *type_key = "rope_type";
    if (!present(type)) {
        type = field(obj, "type");
        type_key = "type";
    }
    if (!present(type))
        return 0;
    if (!cJSON_IsString(type))
        return lg_fail(err, "%s: %s.%s must be a string", name, key, type_key);
    const char *t = type->valuestring;
    if (!strcmp(t, "default"))
        return 0;
    char sub[96];
    if (!strcmp(t, "linear") || !strcmp(t, "llama3")) {
        double factor = 0;
        snprintf(sub, sizeof sub, "%s.factor", key);
        if (!present(field(obj, "factor")))
            return lg_fail(err, "%s: %s.rope_type '%s' needs %s", name, key, t, sub);
        if (get_double(name, obj, "factor", &factor, err) < 0)
            return lg_fail(err, "%s: %s must be a positive number", name, sub);
        cfg->rope_factor = factor;
        cfg->rope_type = !strcmp(t, "linear") ? LG_ROPE_LINEAR : LG_ROPE_LLAMA3;
        if (cfg->rope_type == LG_ROPE_LINEAR)
            return 0;
        static const char *const need[] = {"low_freq_factor", "high_freq_factor",
                                           "original_max_position_embeddings"};
        for (int i = 0; i < 3; i++)
            if (!present(field(obj, need[i])))
                return lg_fail(err, "%s: %s.rope_type 'llama3' needs %s.%s", name, key, key,
                               need[i]);
        if (get_double(name, obj, "low_freq_factor", &cfg->rope_low_freq_factor, err) < 0 ||
            get_double(name, obj, "high_freq_factor", &cfg->rope_high_freq_factor, err) < 0)
            return lg_fail(err, "%s: %s.low_freq_factor and high_freq_factor must be positive "
                                "numbers", name, key);
        if (get_int(name, obj, "original_max_position_embeddings", 1, 1,
                    &cfg->rope_original_max_positions, err) < 0)
            return lg_fail(err, "%s: %s.original_max_position_embeddings must be an integer "
                                "≥ 1", name, key);
        if (!(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor))
            return lg_fail(err, "%s: %s.high_freq_factor %g must be greater than "
                                "low_freq_factor %g", name, key, cfg->rope_high_freq_factor,
                           cfg->rope_low_freq_factor);
        return 0;
    }
    return lg_fail(err, "%s: unsupported RoPE scaling %s.%s '%.32s'; lingraft implements "
                        "default, linear and llama3", name, key, type_key, t);
}

/* Sliding-window attention as one window for every layer (0: none). HF Qwen2 slides on
 * layers i ≥ max_window_layers when use_sliding_window; layer_types, when written, says it. */
static int get_sliding_window(const char *name, const cJSON *root, lg_config *cfg,
                              lg_error *err)
{
    int window = 0;
    if (get_int(name, root, "sliding_window", 0, 0, &window, err) != 0)
        return -1;
    if (cfg->arch == LG_ARCH_LLAMA)
        window = 0;
    if (cfg->arch == LG_ARCH_QWEN2 || cfg->arch == LG_ARCH_QWEN3) {
        int use = 0, max_window_layers = 28;
        if (get_bool(name, root, "use_sliding_window", &use, err) != 0 ||
            get_int(name, root, "max_window_layers", 0, 0, &max_window_layers, err) != 0)
            return -1;
        if (!use)
            window = 0;
        else if (window > 0 && max_window_layers >= cfg->n_layers)
            window = 0;               /* no layer reaches max_window_layers */
        else if (window > 0 && max_window_layers > 0)
            return lg_fail(err, "%s: sliding window on only some layers (max_window_layers "
                                "%d of %d) is not supported", name, max_window_layers,
                           cfg->n_layers);
    }
    const cJSON *types = field(root, "layer_types");
    if (cJSON_IsArray(types)) {
        int full = 0, sliding = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, types) {
            if (cJSON_IsString(t) && strcmp(t->valuestring, "full_attention") == 0)
                full++;
            else if (cJSON_IsString(t) && strcmp(t->valuestring, "sliding_attention") == 0)
                sliding++;
            else
                return lg_fail(err, "%s: unsupported entry in layer_types", name);
        }
        if (full && sliding)
            return lg_fail(err, "%s: layer_types mixes full and sliding attention; not "
                                "supported", name);
        if (sliding && window == 0)
            return lg_fail(err, "%s: layer_types asks for sliding attention but no "
                                "sliding_window is set", name);
        if (!sliding)
            window = 0;
    }
    if (window > cfg->max_position_embeddings)
        return lg_fail(err, "%s: sliding_window %d is larger than the context "
                            "(max_position_embeddings %d)", name, window,
                       cfg->max_position_embeddings);
    cfg->sliding_window = window;
    return 0;
}

static int parse_root(const char *name, const cJSON *root, lg_config *cfg, lg_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (!cJSON_IsObject(root))
        return lg_fail(err, "%s: not a JSON object", name);
    const cJSON *mt = field(root, "model_type");
    if (!present(mt))
        return lg_fail(err, "%s: missing required field 'model_type'", name);
    if (!cJSON_IsString(mt))
        return lg_fail(err, "%s: field 'model_type' must be a string", name);
    const lg_arch_desc *desc = lg_arch_find(mt->valuestring);
    if (!desc)
        return lg_fail(err, "%s: unsupported model_type '%.64s' (lingraft supports %s)", name,
                       mt->valuestring, lg_arch_names());
    cfg->arch = desc->arch;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", desc->model_type);

    if (get_int(name, root, "vocab_size", 1, 1, &cfg->vocab_size, err) ||
        get_int(name, root, "hidden_size", 1, 1, &cfg->hidden_size, err) ||
        get_int(name, root, "num_hidden_layers", 1, 1, &cfg->n_layers, err) ||
        get_int(name, root, "num_attention_heads", 1, 1, &cfg->n_heads, err) ||
        get_int(name, root, "intermediate_size", 1, 1, &cfg->intermediate_size, err))
        return -1;
    cfg->n_kv_heads = cfg->n_heads;
    if (get_int(name, root, "num_key_value_heads", 0, 1, &cfg->n_kv_heads, err))
        return -1;
    if (cfg->n_heads % cfg->n_kv_heads != 0)
        return lg_fail(err, "%s: num_attention_heads %d is not a multiple of "
                            "num_key_value_heads %d", name, cfg->n_heads, cfg->n_kv_heads);
    cfg->head_dim = 0;
    if (get_int(name, root, "head_dim", 0, 1, &cfg->head_dim, err))
        return -1;
    if (cfg->head_dim == 0) {
        if (cfg->hidden_size % cfg->n_heads != 0)
            return lg_fail(err, "%s: hidden_size %d is not divisible by num_attention_heads "
                                "%d and no head_dim is given", name, cfg->hidden_size,
                           cfg->n_heads);
        cfg->head_dim = cfg->hidden_size / cfg->n_heads;
    }
    if (cfg->head_dim % 2 != 0)
        return lg_fail(err, "%s: head_dim %d is odd; RoPE needs pairs", name, cfg->head_dim);
    cfg->max_position_embeddings = desc->max_position_embeddings;
    if (get_int(name, root, "max_position_embeddings", 0, 1, &cfg->max_position_embeddings,
                err))
        return -1;
    double eps = desc->rms_norm_eps;
    if (get_double(name, root, "rms_norm_eps", &eps, err))
        return -1;
    cfg->rms_norm_eps = (float)eps;

    const cJSON *rope_params = field(root, "rope_parameters");
    if (get_rope(name, field(root, "rope_scaling"), "rope_scaling", cfg, err) ||
        get_rope(name, rope_params, "rope_parameters", cfg, err))
        return -1;
    cfg->rope_theta = 10000.0;
    if (get_double(name, root, "rope_theta", &cfg->rope_theta, err))
        return -1;
    if (cJSON_IsObject(rope_params)) {
        if (!field(rope_params, "rope_theta") && !field(rope_params, "rope_type") &&
            cJSON_GetArraySize(rope_params) > 0)
            return lg_fail(err, "%s: rope_parameters per layer type are not supported", name);
        if (get_double(name, rope_params, "rope_theta", &cfg->rope_theta, err))
            return -1;
    }

    const cJSON *act = field(root, "hidden_act");
    if (present(act) && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0))
        return lg_fail(err, "%s: unsupported hidden_act '%.64s' (only silu)", name,
                       cJSON_IsString(act) ? act->valuestring : "?");
    int mlp_bias = 0, attention_bias = 0;
    if (get_bool(name, root, "mlp_bias", &mlp_bias, err) ||
        get_bool(name, root, "attention_bias", &attention_bias, err))
        return -1;
    if (mlp_bias)
        return lg_fail(err, "%s: mlp_bias true is not supported", name);
    if (cfg->arch == LG_ARCH_QWEN2) {
        cfg->qkv_bias = 1;
        cfg->o_bias = 0;
    } else {
        cfg->qkv_bias = cfg->o_bias = attention_bias;
    }
    cfg->tie_word_embeddings = 0;  /* LlamaConfig, MistralConfig and Qwen2Config: False */
    if (get_bool(name, root, "tie_word_embeddings", &cfg->tie_word_embeddings, err))
        return -1;
    if (get_sliding_window(name, root, cfg, err))
        return -1;
    if (get_token_id(name, root, "bos_token_id", cfg->vocab_size, &cfg->bos_token_id, err) ||
        get_token_id(name, root, "eos_token_id", cfg->vocab_size, &cfg->eos_token_id, err) ||
        get_token_id(name, root, "pad_token_id", cfg->vocab_size, &cfg->pad_token_id, err))
        return -1;
    const cJSON *dt = field(root, "torch_dtype");
    if (!cJSON_IsString(dt))
        dt = field(root, "dtype");     /* transformers 5 writes "dtype" */
    if (cJSON_IsString(dt))
        snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", dt->valuestring);
    if (lg_config_param_count(cfg) < 0)
        return lg_fail(err, "%s: the sizes give more parameters than lingraft can count", name);
    return 0;
}

int lg_config_parse(const char *json, size_t len, const char *name, lg_config *cfg,
                    lg_error *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return lg_fail(err, "%s: not valid JSON", name);
    int rc = parse_root(name, root, cfg, err);
    cJSON_Delete(root);
    return rc;
}

int lg_config_load(const char *path, lg_config *cfg, lg_error *err)
{
    size_t len;
    char *buf = lg_read_file(path, LG_CONFIG_MAX_BYTES, &len, err);
    if (!buf)
        return -1;
    int rc = lg_config_parse(buf, len, path, cfg, err);
    free(buf);
    return rc;
}

int lg_config_load_dir(const char *dir, lg_config *cfg, lg_error *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/config.json", dir) >= sizeof path)
        return lg_fail(err, "%s: path too long", dir);
    return lg_config_load(path, cfg, err);
}

/* Saturating arithmetic: -1 once the count overflows. */
static long long mul_ll(long long a, long long b)
{
    long long r;
    return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? -1 : r;
}

static long long add_ll(long long a, long long b)
{
    long long r;
    return a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) ? -1 : r;
}

long long lg_config_param_count(const lg_config *cfg)
{
    long long C = cfg->hidden_size, V = cfg->vocab_size;
    long long layer = 0;
    for (int r = 0; r < LG_NROLES; r++) {
        if (!lg_role_present(cfg, (lg_role)r))
            continue;
        int64_t rows, cols;
        lg_role_shape(cfg, (lg_role)r, &rows, &cols);
        layer = add_ll(layer, mul_ll(rows, cols ? cols : 1));
    }
    long long total = add_ll(mul_ll(V, C), mul_ll(cfg->n_layers, layer));
    total = add_ll(total, C);                                              /* final norm */
    if (!cfg->tie_word_embeddings)
        total = add_ll(total, mul_ll(V, C));                               /* lm_head */
    return total;
}

/* The shortest decimal text that reads back as the same float / double. */
static cJSON *float_number(float v)
{
    char buf[48];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(buf);
}

static cJSON *double_number(double v)
{
    char buf[48];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEn"))              /* rope_theta reads as a float in Python */
        strcat(buf, ".0");
    return cJSON_CreateRaw(buf);
}

static void add_token_id(cJSON *root, const char *key, int id)
{
    if (id >= 0)
        cJSON_AddNumberToObject(root, key, id);
    else
        cJSON_AddNullToObject(root, key);
}

int lg_config_write(const char *path, const lg_config *cfg, lg_error *err)
{
    const lg_arch_desc *desc = lg_arch_get(cfg->arch);
    if (!desc)
        return lg_fail(err, "%s: cannot write a config for an unknown architecture", path);
    if (cfg->arch == LG_ARCH_QWEN2 && (!cfg->qkv_bias || cfg->o_bias))
        return lg_fail(err, "%s: qwen2 has biases on q/k/v and none on o; this config "
                            "differs", path);
    if (cfg->arch != LG_ARCH_QWEN2 && cfg->qkv_bias != cfg->o_bias)
        return lg_fail(err, "%s: %s has one attention_bias for q/k/v/o; this config "
                            "differs", path, desc->model_type);
    cJSON *root = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(root, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(desc->hf_class));
    cJSON_AddStringToObject(root, "model_type", desc->model_type);
    cJSON_AddNumberToObject(root, "vocab_size", cfg->vocab_size);
    cJSON_AddNumberToObject(root, "hidden_size", cfg->hidden_size);
    cJSON_AddNumberToObject(root, "intermediate_size", cfg->intermediate_size);
    cJSON_AddNumberToObject(root, "num_hidden_layers", cfg->n_layers);
    cJSON_AddNumberToObject(root, "num_attention_heads", cfg->n_heads);
    cJSON_AddNumberToObject(root, "num_key_value_heads", cfg->n_kv_heads);
    cJSON_AddNumberToObject(root, "head_dim", cfg->head_dim);
    cJSON_AddNumberToObject(root, "max_position_embeddings", cfg->max_position_embeddings);
    cJSON_AddItemToObject(root, "rms_norm_eps", float_number(cfg->rms_norm_eps));
    cJSON_AddItemToObject(root, "rope_theta", double_number(cfg->rope_theta));
    if (cfg->rope_type == LG_ROPE_DEFAULT) {
        cJSON_AddNullToObject(root, "rope_scaling");
    } else {
        cJSON *rs = cJSON_AddObjectToObject(root, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type",
                                cfg->rope_type == LG_ROPE_LINEAR ? "linear" : "llama3");
        cJSON_AddItemToObject(rs, "factor", double_number(cfg->rope_factor));
        if (cfg->rope_type == LG_ROPE_LLAMA3) {
            cJSON_AddItemToObject(rs, "low_freq_factor", double_number(cfg->rope_low_freq_factor));
            cJSON_AddItemToObject(rs, "high_freq_factor",
                                  double_number(cfg->rope_high_freq_factor));
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings",
                                    cfg->rope_original_max_positions);
        }
    }
    cJSON_AddStringToObject(root, "hidden_act", "silu");
    cJSON_AddBoolToObject(root, "tie_word_embeddings", cfg->tie_word_embeddings != 0);
    if (cfg->arch == LG_ARCH_QWEN3)
        cJSON_AddBoolToObject(root, "attention_bias", cfg->o_bias != 0);
    if (cfg->arch == LG_ARCH_QWEN2 || cfg->arch == LG_ARCH_QWEN3) {
        cJSON_AddBoolToObject(root, "use_sliding_window", cfg->sliding_window > 0);
        if (cfg->sliding_window > 0) {
            cJSON_AddNumberToObject(root, "sliding_window", cfg->sliding_window);
            cJSON_AddNumberToObject(root, "max_window_layers", 0);
        } else {
            cJSON_AddNullToObject(root, "sliding_window");
        }
    } else {
        cJSON_AddBoolToObject(root, "attention_bias", cfg->o_bias != 0);
        cJSON_AddBoolToObject(root, "mlp_bias", 0);
        if (cfg->arch == LG_ARCH_MISTRAL) {
            if (cfg->sliding_window > 0)
                cJSON_AddNumberToObject(root, "sliding_window", cfg->sliding_window);
            else
                cJSON_AddNullToObject(root, "sliding_window");
        }
    }
    add_token_id(root, "bos_token_id", cfg->bos_token_id);
    add_token_id(root, "eos_token_id", cfg->eos_token_id);
    add_token_id(root, "pad_token_id", cfg->pad_token_id);
    /* the caller says how it stores the weights (lg_model_save_dir sets it) */
    cJSON_AddStringToObject(root, "torch_dtype", cfg->torch_dtype[0] ? cfg->torch_dtype : "float32");
    int rc = lg_json_write(path, root, err);
    cJSON_Delete(root);
    return rc;
}
