/* Export of a Hugging Face Llama-family model + its tokenizer (a SentencePiece .model, or a
 * byte-level BPE tokenizer.json) as a llama.cpp GGUF.
 *
 * Names, key types and the q/k permutation follow llama.cpp's own converter
 * (convert_hf_to_gguf.py, LlamaModel): HF applies RoPE with rotate_half (pairs j and
 * j + head_dim/2) while llama.cpp's "llama" graph pairs adjacent elements, so the rows
 * of q and k (and their biases) are reordered per head. Tensors are converted one at a
 * time while the file is written, so memory holds the mapped weights plus one tensor. */
#include "lg_export.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_io.h"
#include "lg_model.h"
#include "lg_safetensors.h"
#include "lg_spm.h"

int lg_gguf_permute_qk(const float *src, float *dst, int64_t rows, int64_t cols, int n_head,
                       lg_error *err)
{
    if (n_head <= 0 || rows % n_head != 0 || (rows / n_head) % 2 != 0)
        return lg_fail(err, "permute: %lld rows do not split into %d heads of even size",
                       (long long)rows, n_head);
    int64_t hd = rows / n_head, half = hd / 2;
    for (int64_t h = 0; h < n_head; h++)
        for (int64_t i = 0; i < half; i++)
            for (int64_t j = 0; j < 2; j++) {
                const float *from = src + (h * hd + j * half + i) * cols;
                float *to = dst + (h * hd + 2 * i + j) * cols;
                memcpy(to, from, (size_t)cols * sizeof *to);
            }
    return 0;
}

/* How one GGUF tensor is produced from one HF tensor. */
typedef struct {
    const lg_tensor_info *src;
    lg_ggml_type type;    /* stored type */
    int permute_heads;    /* 0: rows unchanged; else permute q/k rows for this many heads */
    int transpose;        /* stored [in, out] (Conv1D): written as [out, in] */
    float *data;          /* instead of src: computed F32 data (rope_freqs) */
    int64_t n_data;
    const lg_weights *weights; /* src's: its pages released once converted */
} tensor_job;

/* A tensor whose rows are written as they are: converted a piece at a time into dst. */
static int fill_plain(const lg_tensor_info *t, lg_ggml_type type, void *dst, lg_error *err)
{
    enum { PIECE = 1 << 20 };
    float *f = type == LG_GGML_F32 ? NULL : malloc(PIECE * sizeof *f);
    if (type != LG_GGML_F32 && !f)
        return lg_fail(err, "%s: out of memory for %s", t->file, t->name);
    int rc = 0;
    for (int64_t at = 0; at < t->numel && rc == 0; at += PIECE) {
        const int64_t n = t->numel - at < PIECE ? t->numel - at : PIECE;
        float *into = f ? f : (float *)dst + at;
        rc = lg_tensor_range_to_f32(t, at, n, into, err);
        if (rc == 0 && f)
            for (int64_t k = 0; k < n; k++)
                ((uint16_t *)dst)[at + k] = lg_f32_to_f16(f[k]);
    }
    free(f);
    return rc;
}

static int fill_tensor(void *ctx, void *dst, size_t nbytes, lg_error *err)
{
    const tensor_job *job = ctx;
    if (job->data) {
        if (nbytes != (size_t)job->n_data * sizeof(float))
            return lg_fail(err, "rope_freqs: size mismatch");
        memcpy(dst, job->data, nbytes);
        return 0;
    }
    const lg_tensor_info *t = job->src;
    int64_t n = t->numel;
    if (nbytes != (size_t)n * lg_ggml_type_size(job->type))
        return lg_fail(err, "%s: %s: size mismatch", t->file, t->name);
    if (!job->permute_heads && !job->transpose) {
        int rc = fill_plain(t, job->type, dst, err);
        lg_weights_release(job->weights, t);
        return rc;
    }
    float *f = malloc((size_t)n * sizeof *f);
    float *tmp = job->permute_heads || job->transpose ? malloc((size_t)n * sizeof *tmp) : NULL;
    if (!f || ((job->permute_heads || job->transpose) && !tmp)) {
        free(f);
        free(tmp);
        return lg_fail(err, "%s: out of memory for %s", t->file, t->name);
    }
    int rc = lg_tensor_to_f32(t, f, err);
    if (rc == 0 && job->permute_heads) {
        int64_t rows = t->shape[0], cols = t->ndim == 2 ? t->shape[1] : 1;
        rc = lg_gguf_permute_qk(f, tmp, rows, cols, job->permute_heads, err);
        float *swap = f;
        f = tmp;
        tmp = swap;
    }
    if (rc == 0 && job->transpose) {
        const int64_t rows = t->shape[0], cols = t->shape[1];
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                tmp[j * rows + i] = f[i * cols + j];
        float *swap = f;
        f = tmp;
        tmp = swap;
    }
    if (rc == 0) {
        if (job->type == LG_GGML_F32) {
            memcpy(dst, f, nbytes);
        } else {
            uint16_t *h = dst;
            for (int64_t k = 0; k < n; k++)
                h[k] = lg_f32_to_f16(f[k]);
        }
    }
    free(f);
    free(tmp);
    lg_weights_release(job->weights, t);
    return rc;
}

typedef struct {
    const char *model_dir;
    const lg_config *cfg;
    lg_weights *weights;
    lg_gguf_writer *w;
    int f16;
    tensor_job *jobs;
    int n_jobs, cap_jobs;
    char *used;           /* per HF tensor: exported (or deliberately ignored) */
} exporter;

/* Adds GGUF tensor `gguf_name` from HF tensor `hf_name`, whose shape must be
 * rows x cols (cols 0: a vector of rows). */
static int export_tensor_t(exporter *x, const char *hf_name, const char *gguf_name,
                           int64_t rows, int64_t cols, int permute_heads, int transpose,
                           lg_error *err);

static int export_tensor(exporter *x, const char *hf_name, const char *gguf_name, int64_t rows,
                         int64_t cols, int permute_heads, lg_error *err)
{
    return export_tensor_t(x, hf_name, gguf_name, rows, cols, permute_heads, 0, err);
}

/* The same; transpose: the HF tensor is [in, out] (rows in), written as [out, in]. */
static int export_tensor_t(exporter *x, const char *hf_name, const char *gguf_name,
                           int64_t rows, int64_t cols, int permute_heads, int transpose,
                           lg_error *err)
{
    const lg_tensor_info *t = lg_weights_find(x->weights, hf_name);
    if (!t)
        return lg_fail(err, "%s: tensor %s is missing", x->model_dir, hf_name);
    int64_t shape[2] = {rows, cols};
    if (lg_tensor_expect_shape(t, cols ? 2 : 1, shape, err) < 0)
        return -1;
    if (t->dtype != LG_DT_F32 && t->dtype != LG_DT_F16 && t->dtype != LG_DT_BF16 &&
        t->dtype != LG_DT_F64)
        return lg_fail(err, "%s: %s has dtype %s, expected a float type", t->file, hf_name,
                       lg_dtype_name(t->dtype));
    for (int i = 0; i < lg_weights_count(x->weights); i++)
        if (lg_weights_tensor(x->weights, i) == t)
            x->used[i] = 1;
    if (x->n_jobs == x->cap_jobs)
        return lg_fail(err, "%s: more tensors than expected", x->model_dir);
    tensor_job *job = &x->jobs[x->n_jobs++];
    job->src = t;
    job->weights = x->weights;
    /* Vectors (norms, biases) stay F32 as in llama.cpp's converter. */
    job->type = x->f16 && cols ? LG_GGML_F16 : LG_GGML_F32;
    job->permute_heads = permute_heads;
    job->transpose = transpose && cols;
    int64_t dims[2] = {cols ? cols : rows, rows};
    if (job->transpose) {   /* [out, in]: ggml's ne0 is the input dimension */
        dims[0] = rows;
        dims[1] = cols;
    }
    return lg_gguf_add_tensor_fill(x->w, gguf_name, job->type, cols ? 2 : 1, dims, fill_tensor,
                                   job, err);
}

/* A scaled RoPE (linear, llama3) as llama.cpp reads it: rope_freqs.weight [head_dim/2],
 * the factor each frequency is divided by (convert_hf_to_gguf.py writes 1 for high
 * frequencies, factor for low ones and the blend between for llama3). The factors are
 * the ratio of the default inverse frequencies to the config's scaled ones. */
static int export_rope_freqs(exporter *x, lg_error *err)
{
    const lg_config *c = x->cfg;
    if (c->rope_type == LG_ROPE_DEFAULT)
        return 0;
    if (!lg_arch_get(c->arch)->gguf_permute_qk)   /* llama.cpp reads rope_freqs in "llama" */
        return lg_fail(err, "%s: RoPE scaling of a %s model cannot be exported to GGUF",
                       x->model_dir, c->model_type);
    const int half = c->head_dim / 2;
    if (x->n_jobs == x->cap_jobs)
        return lg_fail(err, "%s: more tensors than expected", x->model_dir);
    tensor_job *job = &x->jobs[x->n_jobs++];
    job->data = malloc(sizeof(float) * (size_t)half);
    if (!job->data)
        return lg_fail(err, "out of memory");
    job->n_data = half;
    job->type = LG_GGML_F32;
    lg_config plain = *c;
    plain.rope_type = LG_ROPE_DEFAULT;
    for (int i = 0; i < half; i++)
        job->data[i] = lg_rope_inv_freq_at(&plain, i) / lg_rope_inv_freq_at(c, i);
    int64_t dims[1] = {half};
    return lg_gguf_add_tensor_fill(x->w, "rope_freqs.weight", LG_GGML_F32, 1, dims, fill_tensor,
                                   job, err);
}

/* A block's tensors, named and shaped by the architecture's roles (lg_arch.h). */
static int export_layer(exporter *x, int l, lg_error *err)
{
    const lg_config *c = x->cfg;
    const lg_arch_desc *d = lg_arch_get(c->arch);
    char hf[256], gg[128];
    for (int r = 0; r < LG_NROLES; r++) {
        if (!lg_role_present(c, (lg_role)r) || d->roles[r].fused_into != LG_NROLES)
            continue;   /* a part of a fused tensor goes with it */
        const lg_role_desc *role = &d->roles[r];
        int64_t rows, cols;
        lg_role_shape(c, (lg_role)r, &rows, &cols);
        snprintf(hf, sizeof hf, "%s%d.%s", d->layer_prefix, l, role->hf);
        snprintf(gg, sizeof gg, "blk.%d.%s", l, role->gguf);
        int heads = !d->gguf_permute_qk ? 0
                    : role->permute_heads == 'q' ? c->n_heads
                    : role->permute_heads == 'k' ? c->n_kv_heads : 0;
        if (export_tensor_t(x, hf, gg, rows, cols, heads, role->in_out, err) < 0)
            return -1;
    }
    return 0;
}

/* Every HF tensor must have gone somewhere: a tensor this exporter does not know
 * (e.g. a bias the config does not announce) would otherwise be dropped silently. */
static int check_all_used(exporter *x, lg_error *err)
{
    for (int i = 0; i < lg_weights_count(x->weights); i++) {
        if (x->used[i])
            continue;
        const char *name = lg_weights_tensor(x->weights, i)->name;
        size_t n = strlen(name);
        const char *inv_freq = "rotary_emb.inv_freq";   /* a buffer older checkpoints save */
        if (n >= strlen(inv_freq) && strcmp(name + n - strlen(inv_freq), inv_freq) == 0)
            continue;
        if (x->cfg->tie_word_embeddings && strcmp(name, "lm_head.weight") == 0)
            continue;
        if (x->cfg->arch == LG_ARCH_GPT2 && (strstr(name, ".attn.bias") ||
                                             strstr(name, ".attn.masked_bias")) &&
            !strstr(name, "c_attn"))
            continue;   /* GPT-2's causal-mask buffers */
        return lg_fail(err, "%s: tensor %s has no place in a %s GGUF", x->model_dir, name,
                       lg_arch_get(x->cfg->arch)->gguf_arch);
    }
    return 0;
}

/* tokenizer.ggml.*: the SentencePiece pieces, scores and types, padded with unused
 * "[PADn]" pieces up to the model's vocabulary (as llama.cpp's converter does). */
static int set_vocab(lg_gguf_writer *w, const lg_spm *spm, const char *spm_path,
                     const lg_config *cfg, lg_error *err)
{
    int n_spm = lg_spm_vocab_size(spm), V = cfg->vocab_size;
    if (n_spm > V)
        return lg_fail(err, "%s: the tokenizer has %d pieces but the model's vocabulary has "
                       "%d rows", spm_path, n_spm, V);
    /* llama.cpp's SentencePiece vocabulary looks up the newline as "<0x0A>" (or "\n")
     * when it loads and aborts without one. */
    if (lg_spm_piece_to_id(spm, "<0x0A>") < 0 && lg_spm_piece_to_id(spm, "\n") < 0)
        return lg_fail(err, "%s: the tokenizer has no newline piece (<0x0A>), which llama.cpp "
                       "requires; train it with byte_fallback", spm_path);
    char **tokens = calloc((size_t)V, sizeof *tokens);
    float *scores = malloc((size_t)V * sizeof *scores);
    int32_t *types = malloc((size_t)V * sizeof *types);
    int rc = -1;
    if (!tokens || !scores || !types) {
        lg_fail(err, "%s: out of memory", spm_path);
        goto done;
    }
    for (int id = 0; id < V; id++) {
        if (id < n_spm) {
            tokens[id] = strdup(lg_spm_id_to_piece(spm, id));
            scores[id] = lg_spm_score(spm, id);
            types[id] = (int32_t)lg_spm_type(spm, id);
        } else {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", id - n_spm + 1);
            tokens[id] = strdup(pad);
            scores[id] = -1000.0f;
            types[id] = LG_SPM_UNUSED;
        }
        if (!tokens[id]) {
            lg_fail(err, "%s: out of memory", spm_path);
            goto done;
        }
    }
    int bos = lg_spm_bos_id(spm), eos = lg_spm_eos_id(spm), unk = lg_spm_unk_id(spm);
    int pad = lg_spm_pad_id(spm);
    if (bos < 0)
        bos = cfg->bos_token_id;
    if (eos < 0)
        eos = cfg->eos_token_id;
    if (lg_gguf_set_str(w, "tokenizer.ggml.model", "llama", err) < 0 ||
        lg_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, (size_t)V,
                            err) < 0 ||
        lg_gguf_set_arr_f32(w, "tokenizer.ggml.scores", scores, (size_t)V, err) < 0 ||
        lg_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", types, (size_t)V, err) < 0)
        goto done;
    if ((bos >= 0 && lg_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos, err) < 0) ||
        (eos >= 0 && lg_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos, err) < 0) ||
        (unk >= 0 &&
         lg_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk, err) < 0) ||
        (pad >= 0 &&
         lg_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad, err) < 0))
        goto done;
    /* Llama's SentencePiece tokenizers prepend BOS and never append EOS; the "▁" before
     * the text is the model's add_dummy_prefix (llama.cpp's default is true). */
    lg_spm_info info;
    lg_spm_get_info(spm, &info);
    if (lg_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", info.add_dummy_prefix, err) < 0 ||
        lg_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1, err) < 0 ||
        lg_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 0, err) < 0)
        goto done;
    rc = 0;
done:
    if (tokens)
        for (int id = 0; id < V; id++)
            free(tokens[id]);
    free(tokens);
    free(scores);
    free(types);
    return rc;
}

/* ---- byte-level BPE (a tokenizer.json): llama.cpp's "gpt2" vocabulary ------------------ */

/* The pre-tokenizer regexes llama.cpp writes by hand, by the name its GGUF files give them
 * (tokenizer.ggml.pre; llama-vocab.cpp), with whether it ignores merges for a word that is
 * a token itself (BPE ignore_merges). */
static const struct {
    const char *pre, *regex;
    int ignore_merges;
} KNOWN_PRE[] = {
    {"llama-bpe",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     1},
    {"qwen2",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     0},
};

static const char *json_type(const cJSON *o)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static int json_true(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The llama.cpp pre-tokenizer name for a byte-level tokenizer.json, or NULL with the
 * reasons llama.cpp would encode text otherwise in why. */
static const char *bpe_pre_name(const cJSON *doc, char *why, size_t why_len)
{
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(doc, "normalizer");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(doc, "pre_tokenizer");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    int ignore_merges = json_true(model, "ignore_merges");
    const char *name = NULL;
    if (norm && !cJSON_IsNull(norm)) {
        snprintf(why, why_len, "a normalizer (%s), which llama.cpp's BPE tokenizer does not apply",
                 json_type(norm));
        return NULL;
    }
    if (!strcmp(json_type(pre), "ByteLevel") && json_true(pre, "use_regex") &&
        !json_true(pre, "add_prefix_space")) {
        if (ignore_merges) {
            snprintf(why, why_len, "GPT-2's pre-tokenizer with ignore_merges, which llama.cpp's "
                                   "gpt-2 tokenizer does not set");
            return NULL;
        }
        return "gpt-2";
    }
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
    const cJSON *split = cJSON_GetArrayItem(seq, 0), *bl = cJSON_GetArrayItem(seq, 1);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex");
    const cJSON *beh = cJSON_GetObjectItemCaseSensitive(split, "behavior");
    if (!strcmp(json_type(pre), "Sequence") && cJSON_GetArraySize(seq) == 2 &&
        !strcmp(json_type(split), "Split") && cJSON_IsString(pat) && cJSON_IsString(beh) &&
        !strcmp(beh->valuestring, "Isolated") && !json_true(split, "invert") &&
        !strcmp(json_type(bl), "ByteLevel") && !json_true(bl, "use_regex") &&
        !json_true(bl, "add_prefix_space"))
        for (size_t i = 0; i < sizeof KNOWN_PRE / sizeof *KNOWN_PRE; i++)
            if (!strcmp(pat->valuestring, KNOWN_PRE[i].regex)) {
                name = KNOWN_PRE[i].pre;
                if (ignore_merges != KNOWN_PRE[i].ignore_merges) {
                    snprintf(why, why_len, "ignore_merges %s, which llama.cpp's %s tokenizer "
                                           "does not set", ignore_merges ? "true" : "false", name);
                    return NULL;
                }
                return name;
            }
    snprintf(why, why_len, "a pre-tokenizer llama.cpp does not know by name (it knows GPT-2's "
                           "ByteLevel and the Split regexes of Llama-3 and Qwen2 followed by "
                           "ByteLevel)");
    return NULL;
}

int lg_gguf_tokenizer_check(const char *path, char *why, size_t why_len, lg_error *err)
{
    lg_tokenizer *t = lg_tokenizer_load(path, err);
    if (!t)
        return -1;
    const lg_spm *spm = lg_tokenizer_spm(t);
    int rc;
    if (spm) {
        rc = lg_spm_llama_cpp_check(spm, why, why_len, err);
    } else {
        lg_piece_spelling sp;
        cJSON *doc = NULL;
        rc = lg_piece_spelling_init(&sp, t, err) < 0 ? -1 : 0;
        if (rc == 0 && !sp.byte_level)
            rc = lg_fail(err, "%s: a tokenizer.json that is not byte-level BPE (word marks and "
                              "byte-fallback pieces, as Llama-2's and Gemma-3's): its GGUF export "
                              "is not supported yet; export a SentencePiece .model", path);
        if (rc == 0 && !(doc = lg_json_read(t->path, (size_t)1 << 31, err)))
            rc = -1;
        if (rc == 0)
            rc = bpe_pre_name(doc, why, why_len) ? 1 : 0;
        cJSON_Delete(doc);
    }
    lg_tokenizer_free(t);
    return rc;
}

/* tokenizer.ggml.*: the tokens, merges ("a b") and types of a byte-level tokenizer.json
 * (added special tokens CONTROL, other added tokens USER_DEFINED), padded with unused
 * "[PADn]" tokens up to the model's vocabulary; tokenizer.ggml.pre names the regex. */
static int set_vocab_bpe(lg_gguf_writer *w, const lg_tokenizer *t, const char *tok_path,
                         const lg_config *cfg, lg_error *err)
{
    int n_tok = t->ops->vocab_size(t), V = cfg->vocab_size;
    if (n_tok > V)
        return lg_fail(err, "%s: the tokenizer has %d pieces but the model's vocabulary has "
                       "%d rows", tok_path, n_tok, V);
    cJSON *doc = lg_json_read(t->path, (size_t)1 << 31, err);
    if (!doc)
        return -1;
    char why[512];
    const char *pre = bpe_pre_name(doc, why, sizeof why);
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "model"), "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(doc, "added_tokens");
    int n_merges = cJSON_GetArraySize(merges);
    char **tokens = calloc((size_t)V, sizeof *tokens);
    char **pairs = calloc((size_t)n_merges + 1, sizeof *pairs);
    int32_t *types = malloc((size_t)V * sizeof *types);
    int rc = -1;
    if (!tokens || !pairs || !types) {
        lg_fail(err, "%s: out of memory", tok_path);
        goto done;
    }
    for (int id = 0; id < V; id++) {
        types[id] = id < n_tok ? 1 : 5; /* NORMAL, UNUSED */
        if (id < n_tok) {
            tokens[id] = strdup(t->ops->piece(t, id));
        } else {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", id - n_tok + 1);
            tokens[id] = strdup(pad);
        }
        if (!tokens[id]) {
            lg_fail(err, "%s: out of memory", tok_path);
            goto done;
        }
    }
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < n_tok)
            types[(int)id->valuedouble] = json_true(a, "special") ? 3 : 4;
    }
    int k = 0;
    for (const cJSON *m = merges ? merges->child : NULL; m; m = m->next, k++) {
        const char *l = NULL, *r = NULL;
        if (cJSON_IsString(m)) {
            pairs[k] = strdup(m->valuestring);
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
                   cJSON_IsString(m->child->next)) {
            l = m->child->valuestring;
            r = m->child->next->valuestring;
            size_t n = strlen(l) + strlen(r) + 2;
            if ((pairs[k] = malloc(n)))
                snprintf(pairs[k], n, "%s %s", l, r);
        } else {
            lg_fail(err, "%s: model.merges[%d]: not a merge", tok_path, k);
            goto done;
        }
        if (!pairs[k]) {
            lg_fail(err, "%s: out of memory", tok_path);
            goto done;
        }
    }
    int bos = t->ops->bos_id(t), eos = t->ops->eos_id(t), pad = t->ops->pad_id(t);
    if (bos < 0)
        bos = cfg->bos_token_id;
    if (eos < 0)
        eos = cfg->eos_token_id;
    if (lg_gguf_set_str(w, "tokenizer.ggml.model", "gpt2", err) < 0 ||
        (pre && lg_gguf_set_str(w, "tokenizer.ggml.pre", pre, err) < 0) ||
        lg_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, (size_t)V,
                            err) < 0 ||
        lg_gguf_set_arr_i32(w, "tokenizer.ggml.token_type", types, (size_t)V, err) < 0 ||
        lg_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)pairs,
                            (size_t)n_merges, err) < 0)
        goto done;
    if ((bos >= 0 && lg_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos, err) < 0) ||
        (eos >= 0 && lg_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos, err) < 0) ||
        (pad >= 0 &&
         lg_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad, err) < 0))
        goto done;
    /* lingraft's datasets put BOS first when the tokenizer has one, and never EOS */
    if (lg_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", bos >= 0, err) < 0 ||
        lg_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 0, err) < 0)
        goto done;
    rc = 0;
done:
    if (tokens)
        for (int id = 0; id < V; id++)
            free(tokens[id]);
    if (pairs)
        for (int i = 0; i < n_merges; i++)
            free(pairs[i]);
    free(tokens);
    free(pairs);
    free(types);
    cJSON_Delete(doc);
    return rc;
}

static int set_hparams(lg_gguf_writer *w, const lg_config *c, const char *name, int f16,
                       lg_error *err)
{
    /* Types exactly as llama.cpp reads them: counts UINT32, epsilon and base FLOAT32; the
     * keys are prefixed with the architecture's GGUF name. */
    const char *arch = lg_arch_get(c->arch)->gguf_arch;
    char k[12][96];
    static const char *const keys[12] = {
        "vocab_size", "context_length", "embedding_length", "block_count",
        "feed_forward_length", "attention.head_count", "attention.head_count_kv",
        "attention.key_length", "attention.value_length", "rope.dimension_count",
        "attention.layer_norm_rms_epsilon", "rope.freq_base"};
    for (int i = 0; i < 12; i++)
        snprintf(k[i], sizeof k[i], "%s.%s", arch, keys[i]);
    const uint32_t u[10] = {
        (uint32_t)c->vocab_size, (uint32_t)c->max_position_embeddings,
        (uint32_t)c->hidden_size, (uint32_t)c->n_layers, (uint32_t)c->intermediate_size,
        (uint32_t)c->n_heads, (uint32_t)c->n_kv_heads, (uint32_t)c->head_dim,
        (uint32_t)c->head_dim, (uint32_t)c->head_dim};
    if (lg_gguf_set_str(w, "general.architecture", arch, err) < 0 ||
        lg_gguf_set_str(w, "general.name", name, err) < 0 ||
        lg_gguf_set_u32(w, "general.alignment", LG_GGUF_DEFAULT_ALIGNMENT, err) < 0 ||
        /* llama_ftype: 0 all F32, 1 mostly F16 */
        lg_gguf_set_u32(w, "general.file_type", f16 ? 1 : 0, err) < 0 ||
        lg_gguf_set_u32(w, "general.quantization_version", 2, err) < 0)
        return -1;
    for (int i = 0; i < 10; i++)
        if (lg_gguf_set_u32(w, k[i], u[i], err) < 0)
            return -1;
    if (lg_arch_get(c->arch)->norm == LG_NORM_LAYER)
        snprintf(k[10], sizeof k[10], "%s.attention.layer_norm_epsilon", arch);
    return lg_gguf_set_f32(w, k[10], c->rms_norm_eps, err) < 0 ||
           lg_gguf_set_f32(w, k[11], (float)c->rope_theta, err) < 0
               ? -1 : 0;
}

/* The default general.name: the last path component of the model directory. */
static void base_name(const char *dir, char *out, size_t n)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    size_t k = len - start < n - 1 ? len - start : n - 1;
    memcpy(out, dir + start, k);
    out[k] = 0;
    if (!*out)
        snprintf(out, n, "model");
}

int lg_gguf_export_hf(const char *model_dir, const char *spm_path, const char *out_path,
                      const lg_gguf_export_options *opt, lg_error *err)
{
    lg_gguf_export_options defaults = {0};
    if (!opt)
        opt = &defaults;
    lg_config cfg;
    if (lg_config_load_dir(model_dir, &cfg, err) < 0)
        return -1;
    if (cfg.head_dim % 2 != 0 && lg_arch_get(cfg.arch)->pos == LG_POS_ROPE)
        return lg_fail(err, "%s: head_dim %d is odd; RoPE needs pairs", model_dir, cfg.head_dim);
    /* llama.cpp must turn text into the ids the model was trained on */
    char why[1024];
    int same = lg_gguf_tokenizer_check(spm_path, why, sizeof why, err);
    if (same < 0 || (!same && !opt->allow_tokenizer_mismatch)) {
        if (same == 0)
            lg_fail(err, "%s: llama.cpp would tokenize text differently from lingraft: %s", spm_path,
                    why);
        return -1;
    }
    lg_tokenizer *tok = lg_tokenizer_load(spm_path, err);
    if (!tok)
        return -1;
    const lg_spm *spm = lg_tokenizer_spm(tok);
    if (!same && opt->warning && opt->warning_len)
        snprintf(opt->warning, opt->warning_len, "%s", why);
    exporter x = {.model_dir = model_dir, .cfg = &cfg, .f16 = opt->f16};
    int rc = -1;
    x.weights = lg_weights_open_dir(model_dir, err);
    if (!x.weights)
        goto done;
    x.w = lg_gguf_writer_new();
    x.cap_jobs = 6 + LG_NROLES * cfg.n_layers;   /* embeddings, final norm, head, rope_freqs; a block's roles at most */
    x.jobs = calloc((size_t)x.cap_jobs, sizeof *x.jobs);
    x.used = calloc((size_t)lg_weights_count(x.weights) + 1, 1);
    if (!x.w || !x.jobs || !x.used) {
        lg_fail(err, "%s: out of memory", out_path);
        goto done;
    }
    char name[256];
    base_name(model_dir, name, sizeof name);
    if (set_hparams(x.w, &cfg, opt->name ? opt->name : name, opt->f16, err) < 0 ||
        (spm ? set_vocab(x.w, spm, spm_path, &cfg, err)
             : set_vocab_bpe(x.w, tok, spm_path, &cfg, err)) < 0)
        goto done;
    int64_t V = cfg.vocab_size, C = cfg.hidden_size;
    const lg_arch_desc *desc = lg_arch_get(cfg.arch);
    if (export_tensor(&x, desc->embed, "token_embd.weight", V, C, 0, err) < 0)
        goto done;
    if (desc->pos_embed && export_tensor(&x, desc->pos_embed, "position_embd.weight",
                                         cfg.max_position_embeddings, C, 0, err) < 0)
        goto done;
    if (export_rope_freqs(&x, err) < 0)
        goto done;
    for (int l = 0; l < cfg.n_layers; l++)
        if (export_layer(&x, l, err) < 0)
            goto done;
    if (export_tensor(&x, desc->norm_w, "output_norm.weight", C, 0, 0, err) < 0)
        goto done;
    if (desc->norm_bias &&
        export_tensor(&x, desc->norm_bias, "output_norm.bias", C, 0, 0, err) < 0)
        goto done;
    /* Tied: llama.cpp reuses token_embd when output.weight is absent. */
    if (!cfg.tie_word_embeddings &&
        export_tensor(&x, desc->head, "output.weight", V, C, 0, err) < 0)
        goto done;
    if (check_all_used(&x, err) < 0)
        goto done;
    rc = lg_gguf_writer_write(x.w, out_path, err);
done:
    lg_gguf_writer_free(x.w);
    for (int i = 0; x.jobs && i < x.n_jobs; i++)
        free(x.jobs[i].data);
    free(x.jobs);
    free(x.used);
    lg_weights_close(x.weights);
    lg_tokenizer_free(tok);
    return rc;
}
