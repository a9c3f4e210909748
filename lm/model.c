/* The Llama-family decoder: parameter layout, loading, forward and backward over the
 * layer kernels of lg_ops.h. */
#include "lg_model.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_arch.h"
#include "lg_block.h"
#include "lg_io.h"
#include "lg_langsamp.h"
#include "lg_lora.h"
#include "lg_ops.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

void lg_set_threads(int n)
{
    if (n < 1)
        n = 1;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

/* ---- parameter layout ---- */

/* Walks the architecture in HF order. When base is non-NULL, points each field of t into
 * base and fills entries; otherwise only counts. Returns the number of floats. */
typedef struct {
    const lg_config *c;
    float *base;
    lg_tensors *t;
    lg_param_entry *entries;
    const int *trainable;  /* when set, entries with trainable[i] == 0 get no storage */
    int n;
    size_t offset;
    /* checking a weights set against the layout (lg_model_check_weights): nothing placed */
    const lg_weights *check;
    const char *where;
    int skip_vocab;
    unsigned char *seen;   /* [lg_weights_count]: the tensors the layout names */
    lg_error *err;
    int failed;
} layout;

static int is_vocab_tensor(const char *name)
{
    return !strcmp(name, "model.embed_tokens.weight") || !strcmp(name, "lm_head.weight") ||
           !strcmp(name, "transformer.wte.weight");
}

/* Index of the tensor named `name` in w (sorted by name), or -1. */
static int weights_index(const lg_weights *w, const char *name)
{
    int lo = 0, hi = lg_weights_count(w) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, lg_weights_tensor(w, mid)->name);
        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

/* The checking walk's step: the tensor is there, with this shape. */
static void check_place(layout *ly, const char *name, int64_t rows, int64_t cols)
{
    if (ly->failed || (ly->skip_vocab && is_vocab_tensor(name)))
        return;
    int i = weights_index(ly->check, name);
    if (i < 0) {
        ly->failed = lg_fail(ly->err, "%s: tensor %s is missing", ly->where, name);
        return;
    }
    ly->seen[i] = 1;
    const int64_t shape[2] = {rows, cols};
    if (lg_tensor_expect_shape(lg_weights_tensor(ly->check, i), cols ? 2 : 1, shape, ly->err) < 0)
        ly->failed = -1;
}

static void place(layout *ly, float **field, const char *name, int64_t rows, int64_t cols,
                  int is_matrix)
{
    if (ly->check) {
        check_place(ly, name, rows, cols);
        return;
    }
    size_t numel = (size_t)rows * (size_t)(cols ? cols : 1);
    int keep = !ly->trainable || ly->trainable[ly->n];
    if (ly->base)
        *field = keep ? ly->base + ly->offset : NULL;
    if (ly->entries) { /* entries without base: names and shapes, no storage */
        {
            lg_param_entry *e = &ly->entries[ly->n];
            snprintf(e->name, sizeof e->name, "%s", name);
            e->ndim = cols ? 2 : 1;
            e->shape[0] = rows;
            e->shape[1] = cols;
            e->numel = numel;
            e->offset = ly->offset;
            e->is_matrix = is_matrix;
            e->param = ly->base && keep ? ly->base + ly->offset : NULL;
            e->grad = NULL;
        }
    }
    if (keep)
        ly->offset += numel;
    ly->n++;
}

static void walk_layout(layout *ly)
{
    const lg_config *c = ly->c;
    const int64_t C = c->hidden_size, V = c->vocab_size;
    const lg_arch_desc *d = lg_arch_get(c->arch);
    lg_tensors none;
    lg_layer_tensors none_layer;
    lg_tensors *t = ly->base ? ly->t : &none;
    char name[96];
    place(ly, &t->embed, d->embed, V, C, 1);
    if (d->pos_embed)
        place(ly, &t->pos_embed, d->pos_embed, c->max_position_embeddings, C, 1);
    for (int l = 0; l < c->n_layers && !ly->failed; l++) {
        lg_layer_tensors *L = ly->base ? &t->layers[l] : &none_layer;
        for (int r = 0; r < LG_NROLES; r++) {
            if (!lg_role_present(c, (lg_role)r) || d->roles[r].fused_into != LG_NROLES)
                continue;
            int64_t rows, cols;
            lg_role_shape(c, (lg_role)r, &rows, &cols);
            snprintf(name, sizeof name, "%s%d.%s", d->layer_prefix, l, d->roles[r].hf);
            place(ly, lg_layer_role(L, (lg_role)r), name, rows, cols, cols != 0);
        }
        /* parts of a fused tensor point at it (lg_block_linear offsets them) */
        for (int r = 0; r < LG_NROLES && ly->base; r++)
            if (lg_role_present(c, (lg_role)r) && d->roles[r].fused_into != LG_NROLES)
                *lg_layer_role(L, (lg_role)r) = *lg_layer_role(L, d->roles[r].fused_into);
    }
    place(ly, &t->norm, d->norm_w, C, 0, 0);
    if (d->norm_bias)
        place(ly, &t->norm_b, d->norm_bias, C, 0, 0);
    if (c->tie_word_embeddings) {
        if (ly->base)
            t->lm_head = t->embed;
    } else {
        place(ly, &t->lm_head, d->head, V, C, 1);
    }
}

static int check_config(const lg_config *c, lg_error *err)
{
    if (!lg_arch_get(c->arch))
        return lg_fail(err, "config: unknown architecture");
    if (c->vocab_size <= 0 || c->hidden_size <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0 || c->intermediate_size <= 0)
        return lg_fail(err, "config: sizes must be positive");
    const struct { const char *key; int id; } special[] = {
        {"bos_token_id", c->bos_token_id}, {"eos_token_id", c->eos_token_id},
        {"pad_token_id", c->pad_token_id}};
    for (int i = 0; i < 3; i++)
        if (special[i].id >= c->vocab_size)
            return lg_fail(err, "config: %s %d is outside the vocabulary (vocab_size %d)",
                           special[i].key, special[i].id, c->vocab_size);
    if (c->n_heads % c->n_kv_heads)
        return lg_fail(err, "config: %d attention heads are not a multiple of %d KV heads",
                       c->n_heads, c->n_kv_heads);
    if (c->head_dim % 2 && lg_arch_get(c->arch)->pos == LG_POS_ROPE)
        return lg_fail(err, "config: head_dim %d is odd; RoPE needs pairs", c->head_dim);
    return 0;
}

/* The number of tensors the layout has, in 64 bits and without walking it. */
static int64_t layout_entries(const lg_config *c)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    int64_t per_layer = 0;
    for (int r = 0; r < LG_NROLES; r++)
        per_layer += lg_role_present(c, (lg_role)r) && d->roles[r].fused_into == LG_NROLES;
    return 2 + (c->tie_word_embeddings ? 0 : 1) + (d->pos_embed ? 1 : 0) +
           (d->norm_bias ? 1 : 0) + (int64_t)c->n_layers * per_layer;
}

/* keep[i] == 0: entry i has no float32 storage (a weight kept as stored), or NULL: all */
static lg_model *create(const lg_config *cfg, const int *keep, lg_error *err)
{
    if (check_config(cfg, err) < 0)
        return NULL;
    /* sizes in 64 bits from the config alone, and the memory taken, before any walk: a
     * config of 10^9 layers fails here at once, not after minutes of counting */
    const long long n_params = lg_config_param_count(cfg);
    const int64_t n_entries = layout_entries(cfg);
    if (n_params < 0 || (unsigned long long)n_params > SIZE_MAX / sizeof(float) ||
        n_entries > INT32_MAX) {
        lg_fail(err, "config: %d layers of hidden size %d give more parameters than can be "
                     "addressed", cfg->n_layers, cfg->hidden_size);
        return NULL;
    }
    lg_model *m = calloc(1, sizeof *m);
    if (!m) {
        lg_fail(err, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->n_params = (size_t)n_params;
    m->n_entries = (int)n_entries;
    if (keep) {
        layout count = {.c = cfg, .trainable = keep};
        walk_layout(&count);
        m->n_params = count.offset;
    }
    m->param_mem = calloc(m->n_params, sizeof(float));
    m->entries = calloc((size_t)m->n_entries, sizeof *m->entries);
    m->p.layers = calloc((size_t)cfg->n_layers, sizeof *m->p.layers);
    m->g.layers = calloc((size_t)cfg->n_layers, sizeof *m->g.layers);
    if (!m->param_mem || !m->entries || !m->p.layers || !m->g.layers) {
        lg_model_free(m);
        lg_fail(err, "out of memory for %zu parameters (%.1f GiB)", m->n_params,
                (double)m->n_params * 4 / (1 << 30));
        return NULL;
    }
    layout ly = {.c = cfg, .base = m->param_mem, .t = &m->p, .entries = m->entries,
                 .trainable = keep};
    walk_layout(&ly);
    if (ly.offset != m->n_params || ly.n != m->n_entries) { /* the two counts disagree */
        lg_model_free(m);
        lg_fail(err, "internal error: the layout has %zu parameters in %d tensors, the config "
                     "gives %lld in %lld", ly.offset, ly.n, n_params, (long long)n_entries);
        return NULL;
    }
    return m;
}

lg_model *lg_model_create(const lg_config *cfg, lg_error *err)
{
    return create(cfg, NULL, err);
}

void lg_model_free(lg_model *m)
{
    if (!m)
        return;
    lg_weights_close(m->held);
    free(m->stored);
    free(m->param_mem);
    free(m->grad_mem);
    free(m->entries);
    free(m->p.layers);
    free(m->g.layers);
    free(m->act_mem);
    free(m->a.layers);
    free(m->rope_cos);
    free(m->rope_sin);
    lg_lora_free(m->lora);
    lg_langsamp_free(m->langsamp);
    free(m->tags);
    free(m);
}

const lg_param_entry *lg_model_find(const lg_model *m, const char *name)
{
    for (int i = 0; i < m->n_entries; i++)
        if (!strcmp(m->entries[i].name, name))
            return &m->entries[i];
    return NULL;
}

int lg_model_alloc_grads(lg_model *m, lg_error *err)
{
    return lg_model_alloc_grads_for(m, NULL, err);
}

int lg_model_alloc_grads_for(lg_model *m, const int *trainable, lg_error *err)
{
    for (int i = 0; i < m->n_entries; i++)
        if (!m->entries[i].param && (!trainable || trainable[i]))
            return lg_fail(err, "%s is kept as stored (%s) and cannot be trained; full "
                                "training loads the weights as float32", m->entries[i].name,
                           lg_model_weight_dtype(m));
    layout count = {.c = &m->cfg, .trainable = trainable};
    walk_layout(&count);
    free(m->grad_mem);
    m->grad_mem = NULL;
    m->n_grads = count.offset;
    if (count.offset) {
        m->grad_mem = calloc(count.offset, sizeof(float));
        if (!m->grad_mem)
            return lg_fail(err, "out of memory for gradients (%zu floats)", count.offset);
    }
    lg_layer_tensors *layers = m->g.layers;
    memset(layers, 0, sizeof *layers * (size_t)m->cfg.n_layers);
    memset(&m->g, 0, sizeof m->g);
    m->g.layers = layers;
    if (m->grad_mem) {
        layout ly = {.c = &m->cfg, .base = m->grad_mem, .t = &m->g, .trainable = trainable};
        walk_layout(&ly);
    }
    size_t off = 0;
    for (int i = 0; i < m->n_entries; i++) {
        lg_param_entry *e = &m->entries[i];
        e->grad = NULL;
        if (!trainable || trainable[i]) {
            e->grad = m->grad_mem + off;
            off += e->numel;
        }
    }
    return 0;
}

void lg_model_zero_grads(lg_model *m)
{
    if (m->grad_mem)
        memset(m->grad_mem, 0, m->n_grads * sizeof(float));
    lg_lora_zero_grads(m->lora);
    if (m->langsamp && m->langsamp->dlang) {
        memset(m->langsamp->dlang, 0, sizeof(float) * (size_t)(m->langsamp->n_langs + 1) * m->langsamp->C);
        memset(m->langsamp->dscript, 0, sizeof(float) * (size_t)(m->langsamp->n_scripts + 1) * m->langsamp->C);
    }
}

int lg_model_trainable(const lg_model *m, lg_param_entry **out, int max)
{
    int n = 0;
    for (int i = 0; i < m->n_entries; i++)
        if (m->entries[i].grad && n < max)
            out[n++] = &m->entries[i];
    for (int i = 0; m->lora && i < m->lora->n_entries; i++)
        if (m->lora->entries[i].grad && n < max)
            out[n++] = &m->lora->entries[i];
    for (int i = 0; m->langsamp && i < 2; i++)
        if (m->langsamp->entries[i].grad && m->langsamp->entries[i].numel && n < max)
            out[n++] = &m->langsamp->entries[i];
    return n;
}

void lg_model_attach_langsamp(lg_model *m, lg_langsamp *ls)
{
    lg_langsamp_free(m->langsamp);
    m->langsamp = ls;
    m->tagged = 0;
}

int lg_model_set_tags(lg_model *m, const int32_t *lang_idx, const int32_t *script_idx, int B,
                      lg_error *err)
{
    if (!lang_idx && !script_idx) {
        m->tagged = 0;
        return 0;
    }
    if (!m->langsamp)
        return lg_fail(err, "sequences are tagged with a language/script but the model has no "
                            "language/script vectors");
    if (B > m->tag_cap) {
        int32_t *t = realloc(m->tags, sizeof(int32_t) * 2 * (size_t)B);
        if (!t)
            return lg_fail(err, "out of memory");
        m->tags = t;
        m->tag_cap = B;
    }
    for (int b = 0; b < B; b++) {
        int li = lang_idx ? lang_idx[b] : -1, si = script_idx ? script_idx[b] : -1;
        if (li >= m->langsamp->n_langs || si >= m->langsamp->n_scripts)
            return lg_fail(err, "sequence %d is tagged with a language/script index out of range", b);
        m->tags[b] = li;
        m->tags[m->tag_cap + b] = si;
    }
    m->tagged = B;
    return 0;
}

/* ---- loading ---- */

/* Tensors a checkpoint may carry that the computation does not use. */
static int ignorable_tensor(const lg_config *c, const char *name)
{
    size_t n = strlen(name);
    if (n > 9 && !strcmp(name + n - 9, ".inv_freq"))
        return 1; /* old checkpoints store the RoPE buffer */
    if (c->arch == LG_ARCH_GPT2 && ((n > 10 && !strcmp(name + n - 10, ".attn.bias")) ||
                                    (n > 17 && !strcmp(name + n - 17, ".attn.masked_bias"))))
        return 1; /* GPT-2's causal-mask buffers */
    return c->tie_word_embeddings && !strcmp(name, "lm_head.weight");
}

int lg_model_load_weights(lg_model *m, const lg_weights *w, const char *where, lg_error *err)
{
    return lg_model_load_weights_ex(m, w, where, 0, err);
}

/* The parameters from w; release: each tensor's mapped pages given back once converted. */
static int load_weights(lg_model *m, const lg_weights *w, const char *where, int skip_vocab,
                        int release, lg_error *err)
{
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        if (skip_vocab && is_vocab_tensor(e->name))
            continue;
        const lg_tensor_info *t = lg_weights_find(w, e->name);
        if (!t)
            return lg_fail(err, "%s: tensor %s is missing", where, e->name);
        if (lg_tensor_expect_shape(t, e->ndim, e->shape, err) < 0)
            return -1;
        if (e->param && lg_tensor_to_f32(t, e->param, err) < 0)
            return -1;
        if (release)
            lg_weights_release(w, t);
    }
    for (int i = 0; i < lg_weights_count(w); i++) {
        const lg_tensor_info *t = lg_weights_tensor(w, i);
        if (!lg_model_find(m, t->name) && !ignorable_tensor(&m->cfg, t->name) &&
            !(skip_vocab && is_vocab_tensor(t->name)))
            return lg_fail(err, "%s: unexpected tensor %s for a %s model with this config",
                           t->file, t->name, m->cfg.model_type);
    }
    return 0;
}

int lg_model_load_weights_ex(lg_model *m, const lg_weights *w, const char *where, int skip_vocab,
                             lg_error *err)
{
    return load_weights(m, w, where, skip_vocab, 0, err);
}

/* The layer count the tensor names give: 1 + the largest N of PREFIX "N." (the
 * architecture's "model.layers."), 0 when
 * there are none; -1 (with *name) when N does not fit an int. */
static int64_t index_layers(const lg_weights *w, const char *prefix, const char **name)
{
    const size_t k = strlen(prefix);
    int64_t n = 0;
    for (int i = 0; i < lg_weights_count(w); i++) {
        const char *s = lg_weights_tensor(w, i)->name;
        if (strncmp(s, prefix, k) || s[k] < '0' || s[k] > '9')
            continue;
        char *end;
        long long l = strtoll(s + k, &end, 10);
        if (l >= INT32_MAX) {
            *name = s;
            return -1;
        }
        if (l + 1 > n)
            n = l + 1;
    }
    return n;
}

int lg_model_check_weights(const lg_config *cfg, const lg_weights *w, const char *where,
                           int skip_vocab, lg_error *err)
{
    if (check_config(cfg, err) < 0)
        return lg_fail_context(err, "%s", where);
    /* the layer count first: walking a config's 10^9 layers takes minutes, the index has
     * as many layers as its file has tensors at most */
    const char *odd = NULL;
    const int64_t layers = index_layers(w, lg_arch_get(cfg->arch)->layer_prefix, &odd);
    if (layers < 0)
        return lg_fail(err, "%s: tensor %.96s names a layer beyond any model", where, odd);
    if (layers == 0 && cfg->n_layers > 0)   /* other names: say which were expected */
        return lg_fail(err, "%s: no tensor of a %s block (%sN.*)%s", where, cfg->model_type,
                       lg_arch_get(cfg->arch)->layer_prefix,
                       cfg->arch == LG_ARCH_GPT2 ? ", nor a GPT2Model checkpoint's h.N.* with "
                                                   "wte.weight and wpe.weight" : "");
    if (layers != cfg->n_layers)
        return lg_fail(err, "%s: config.json says num_hidden_layers %d, but the weights hold "
                            "%lld layers", where, cfg->n_layers, (long long)layers);
    const int n = lg_weights_count(w);
    layout ly = {.c = cfg, .check = w, .where = where, .skip_vocab = skip_vocab, .err = err,
                 .seen = calloc((size_t)n + 1, 1)};
    if (!ly.seen)
        return lg_fail(err, "out of memory");
    walk_layout(&ly); /* no base: nothing placed, each tensor looked up */
    for (int i = 0; i < n && !ly.failed; i++) {
        const lg_tensor_info *ti = lg_weights_tensor(w, i);
        if (ly.seen[i] || (skip_vocab && is_vocab_tensor(ti->name)))
            continue;
        if (ignorable_tensor(cfg, ti->name))
            continue;
        ly.failed = lg_fail(err, "%s: unexpected tensor %s for a %s model with this config",
                            ti->file, ti->name, cfg->model_type);
    }
    free(ly.seen);
    return ly.failed ? -1 : 0;
}

/* The stored views' slots: block l role r, then embed_tokens, then lm_head. */
#define STORED_EMBED(m) ((size_t)(m)->cfg.n_layers * LG_NROLES)
#define STORED_HEAD(m) (STORED_EMBED(m) + 1)

static int stored_candidate(const lg_tensor_info *t, const char *name, unsigned flags)
{
    if (!t || !lg_wmat_usable(t))
        return 0;
    return is_vocab_tensor(name) ? (flags & LG_LOAD_STORED_VOCAB) != 0
                                 : (flags & LG_LOAD_STORED) != 0;
}

/* Points m->stored at every matrix whose parameter create() left out (param NULL); release:
 * each one's mapped pages given back once checked. */
static int keep_views(lg_model *m, const lg_weights *w, int release, lg_error *err)
{
    const size_t n = STORED_HEAD(m) + 1;
    if (!(m->stored = calloc(n, sizeof *m->stored)))
        return lg_fail(err, "out of memory");
    const lg_arch_desc *a = lg_arch_get(m->cfg.arch);
    char name[160];
    for (size_t slot = 0; slot < n; slot++) {
        if (slot < STORED_EMBED(m)) {
            const int l = (int)(slot / LG_NROLES), r = (int)(slot % LG_NROLES);
            if (!lg_role_present(&m->cfg, (lg_role)r) || a->roles[r].cols == LG_DIM_NONE)
                continue;
            snprintf(name, sizeof name, "%s%d.%s", a->layer_prefix, l, a->roles[r].hf);
        } else {
            snprintf(name, sizeof name, "%s",
                     slot == STORED_EMBED(m) || m->cfg.tie_word_embeddings ? a->embed : a->head);
        }
        const lg_param_entry *e = lg_model_find(m, name);
        if (!e || e->param)
            continue;
        if (lg_wmat_from_tensor_ex(&m->stored[slot], lg_weights_find(w, name),
                                   release ? w : NULL, err) < 0)
            return -1;
    }
    return 0;
}

lg_model *lg_model_load_dir(const char *dir, lg_error *err)
{
    return lg_model_load_dir_ex(dir, 0, err);
}

const char *lg_model_weight_dtype(const lg_model *m)
{
    for (size_t i = 0; m->stored && i < STORED_EMBED(m); i++)
        if (m->stored[i].data)
            return lg_dtype_name(m->stored[i].dtype);
    return "f32";
}

lg_model *lg_model_load_dir_ex(const char *dir, unsigned flags, lg_error *err)
{
    lg_config cfg;
    if (lg_config_load_dir(dir, &cfg, err) < 0)
        return NULL;
    /* the config against the weights' index before anything is allocated or walked */
    lg_weights *w = lg_weights_open_dir(dir, err);
    if (!w || lg_model_check_weights(&cfg, w, dir, 0, err) < 0) {
        lg_weights_close(w);
        return NULL;
    }
    lg_model *m = lg_model_from_weights(&cfg, w, flags, 0, dir, err);
    if (!m)
        lg_fail_context(err, "%s", dir);
    return m;
}

lg_model *lg_model_from_weights(const lg_config *cfg, lg_weights *w, unsigned flags,
                                int skip_vocab, const char *where, lg_error *err)
{
    int *keep = NULL;
    const int release = (flags & LG_LOAD_RELEASE) != 0;
    flags &= LG_LOAD_STORED | LG_LOAD_STORED_VOCAB;
    const char *f32 = getenv("LG_F32_WEIGHTS"); /* measurement: the float32 path */
    if (f32 && *f32 && strcmp(f32, "0"))
        flags = 0;
    /* weights as stored are nn.Linear [out, in] matrices under model.layers.N (Llama, Mistral,
     * Qwen); GPT-2's Conv1D [in, out] and fused c_attn are read as float32 */
    if (strcmp(lg_arch_get(cfg->arch)->layer_prefix, "model.layers."))
        flags = 0;
    if (flags) { /* the entries' names first, then which of them stay where they are */
        const int64_t ne = layout_entries(cfg);
        lg_param_entry *names = calloc((size_t)ne, sizeof *names);
        keep = calloc((size_t)ne, sizeof *keep);
        if (!names || !keep) {
            free(names);
            free(keep);
            lg_weights_close(w);
            lg_fail(err, "out of memory");
            return NULL;
        }
        layout ly = {.c = cfg, .entries = names};
        walk_layout(&ly);
        for (int64_t i = 0; i < ne; i++)
            keep[i] = !(names[i].is_matrix && !(skip_vocab && is_vocab_tensor(names[i].name)) &&
                        stored_candidate(lg_weights_find(w, names[i].name), names[i].name, flags));
        free(names);
    }
    lg_model *m = create(cfg, keep, err);
    free(keep);
    if (!m) {
        lg_weights_close(w);
        return NULL;
    }
    if (load_weights(m, w, where, skip_vocab, release, err) < 0 ||
        (flags && keep_views(m, w, release, err) < 0)) {
        lg_weights_close(w);
        lg_model_free(m);
        return NULL;
    }
    if (flags)
        m->held = w; /* the views point into its mapping */
    else
        lg_weights_close(w);
    return m;
}

/* ---- activations ---- */

static void set_modes(lg_model *m, int inference, size_t loss_chunk)
{
    if (inference == m->inference && loss_chunk == m->loss_chunk)
        return;
    m->inference = inference;
    m->loss_chunk = loss_chunk;
    free(m->act_mem);
    m->act_mem = NULL;
    m->cap_B = m->cap_T = 0;
}

void lg_model_set_recompute(lg_model *m, int on)
{
    if (!on == !m->recompute)
        return;
    m->recompute = on != 0;
    free(m->act_mem); /* the next forward reserves again */
    m->act_mem = NULL;
    m->cap_B = m->cap_T = 0;
}

void lg_model_set_inference(lg_model *m, int on)
{
    set_modes(m, !!on, 0);
}

void lg_model_set_loss_only(lg_model *m, size_t chunk_floats)
{
    set_modes(m, 1, chunk_floats ? chunk_floats : LG_LOSS_CHUNK_FLOATS);
}

/* Rows of logits held at once: all N, or as many as fit the loss-only chunk. */
static size_t logit_rows(const lg_model *m, size_t N)
{
    /* recomputation: the LM head too runs over chunks, in forward and again in backward */
    if (!m->loss_chunk && !m->recompute)
        return N;
    size_t rows = (m->loss_chunk ? m->loss_chunk : LG_LOSS_CHUNK_FLOATS) / (size_t)m->cfg.vocab_size;
    return rows < 1 ? 1 : rows > N ? N : rows;
}

int lg_model_reserve(lg_model *m, int B, int T, lg_error *err)
{
    if (B <= m->cap_B && T <= m->cap_T && m->act_mem)
        return 0;
    const lg_config *c = &m->cfg;
    const size_t N = (size_t)B * T, C = c->hidden_size, V = c->vocab_size, F = c->intermediate_size;
    const size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim;
    const size_t ATT = (size_t)B * c->n_heads * T * T, L = c->n_layers;
    const int qk_norm = lg_arch_get(c->arch)->qk_norm;
    const size_t NH = N * (size_t)c->n_heads, NKV = N * (size_t)c->n_kv_heads;
    const size_t qk_acts = qk_norm ? N * QD + N * KD + NH + NKV : 0;
    const size_t per_layer = N * C + N + N * QD + 2 * N * KD + ATT + N * QD + N * C + N * C + N +
                             3 * N * F + qk_acts;
    /* inference: every layer reuses one set of buffers, and there is no backward scratch */
    /* (recomputation: one set too, each block's remade in backward from its input) */
    const size_t layer_sets = m->inference || m->recompute ? 1 : L;
    const size_t scratch = m->inference ? 0 : N * C * 2 + N * QD * 2 + N * KD * 2 + ATT + 3 * N * F +
                                              (qk_norm ? N * QD + N * KD : 0);
    /* inference keeps two residual-stream buffers (a layer's input and output), not L + 1 */
    const size_t res_sets = m->inference ? 2 : L + 1;
    const size_t total = res_sets * N * C + layer_sets * per_layer + N * C + N + logit_rows(m, N) * V +
                         N /* targets */ + N /* lse */ + scratch;
    free(m->act_mem);
    free(m->a.layers);
    free(m->rope_cos);
    free(m->rope_sin);
    m->act_mem = malloc(total * sizeof(float));
    m->a.layers = calloc(L, sizeof *m->a.layers);
    size_t half = (size_t)c->head_dim / 2;
    m->rope_cos = malloc((size_t)T * half * sizeof(float));
    m->rope_sin = malloc((size_t)T * half * sizeof(float));
    if (!m->act_mem || !m->a.layers || !m->rope_cos || !m->rope_sin) {
        m->cap_B = m->cap_T = 0;
        return lg_fail(err, "out of memory for activations of %d × %d tokens (%.1f GiB)", B, T,
                       (double)total * 4 / (1 << 30));
    }
    float *p = m->act_mem;
#define TAKE(n) (p += (n), p - (n))
    m->a.res = TAKE(res_sets * N * C);
    for (size_t l = 0; l < L; l++) {
        lg_layer_acts *a = &m->a.layers[l];
        if ((m->inference || m->recompute) && l > 0) {
            *a = m->a.layers[0];
            continue;
        }
        a->ln1 = TAKE(N * C);
        a->rstd1 = TAKE(N);
        a->q = TAKE(N * QD);
        a->k = TAKE(N * KD);
        a->v = TAKE(N * KD);
        a->att = TAKE(ATT);
        a->atty = TAKE(N * QD);
        a->mid = TAKE(N * C);
        a->ln2 = TAKE(N * C);
        a->rstd2 = TAKE(N);
        a->gate = TAKE(N * F);
        a->up = TAKE(N * F);
        a->h = TAKE(N * F);
        a->qraw = a->kraw = a->rstdq = a->rstdk = NULL;
        if (qk_norm) {
            a->qraw = TAKE(N * QD);
            a->kraw = TAKE(N * KD);
            a->rstdq = TAKE(NH);
            a->rstdk = TAKE(NKV);
        }
    }
    m->a.lnf = TAKE(N * C);
    m->a.rstdf = TAKE(N);
    m->a.logits = TAKE(logit_rows(m, N) * V);
    m->a.targets = (int32_t *)TAKE(N);
    m->a.lse = TAKE(N);
    if (m->inference) {
        memset(&m->a.dres, 0, sizeof m->a - offsetof(lg_acts, dres));
        goto tables;
    }
    m->a.dres = TAKE(N * C);
    m->a.dln = TAKE(N * C);
    m->a.dq = TAKE(N * QD);
    m->a.datty = TAKE(N * QD);
    m->a.dk = TAKE(N * KD);
    m->a.dv = TAKE(N * KD);
    m->a.datt = TAKE(ATT);
    m->a.dgate = TAKE(N * F);
    m->a.dup = TAKE(N * F);
    m->a.dh = TAKE(N * F);
    m->a.dqraw = qk_norm ? TAKE(N * QD) : NULL;
    m->a.dkraw = qk_norm ? TAKE(N * KD) : NULL;
tables:
#undef TAKE
    lg_rope_tables_cfg(c, m->rope_cos, m->rope_sin, T);
    m->cap_B = B;
    m->cap_T = T;
    return 0;
}

/* ---- products with the weights (lg_block.h) ---- */

static const float *role_tensor(const lg_tensors *t, int l, lg_role r)
{
    return r < LG_NROLES ? *lg_layer_role(&t->layers[l], r) : NULL;
}

/* A role's weight as its product reads it: [in, out] columns col0.. of rows ld wide
 * (Conv1D, parts of a fused tensor) or nn.Linear's [out, in]; its bias from bias0. */
typedef struct {
    int IC, OC, in_out, ld, col0, bias0;
    lg_role bias;
} weight_view;

static weight_view view_of(const lg_config *c, lg_role r)
{
    const lg_role_desc *d = &lg_arch_get(c->arch)->roles[r];
    weight_view v = {.in_out = d->in_out, .bias = d->bias};
    lg_role_dims(c, r, &v.IC, &v.OC);
    if (v.in_out) {
        int64_t rows, cols;
        lg_role_shape(c, d->fused_into != LG_NROLES ? d->fused_into : r, &rows, &cols);
        v.ld = (int)cols;
        v.col0 = d->part * v.OC;
    }
    if (v.bias < LG_NROLES)
        v.bias0 = lg_arch_get(c->arch)->roles[v.bias].part * v.OC;
    return v;
}

/* out (+)= in · W[IC, cols col0..col0+OC) + bias, W rows ld wide (Conv1D layout) */
static void linear_in_out(float *out, const float *in, const float *W, int ld, const float *bias,
                          int n, int IC, int OC, int add)
{
    if (bias)
        for (int i = 0; i < n; i++) {
            float *o = out + (size_t)i * OC;
            for (int j = 0; j < OC; j++)
                o[j] = add ? o[j] + bias[j] : bias[j];
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, OC, IC, 1, in, IC, W, ld,
                bias || add ? 1 : 0, out, OC);
}

/* The weight of block l's role r (slot < STORED_EMBED) or of embed/head: as stored, or the
 * float32 parameter. */
static lg_wmat stored_or_param(const lg_model *m, size_t slot, const float *param, int64_t rows,
                           int64_t cols)
{
    if (m->stored && m->stored[slot].data)
        return m->stored[slot];
    return (lg_wmat){LG_DT_F32, param, (int)rows, (int)cols};
}

void lg_model_embed(const lg_model *m, float *out, const int32_t *ids, int n)
{
    const lg_wmat W = stored_or_param(m, STORED_EMBED(m), m->p.embed, m->cfg.vocab_size,
                                  m->cfg.hidden_size);
    lg_wmat_gather(out, ids, &W, n);
}

void lg_block_linear(const lg_model *m, int l, lg_role r, float *out, const float *in, int n,
                     int add)
{
    const lg_role_desc *d = &lg_arch_get(m->cfg.arch)->roles[r];
    const weight_view v = view_of(&m->cfg, r);
    const float *W = role_tensor(&m->p, l, r), *b = role_tensor(&m->p, l, v.bias);
    if (b)
        b += v.bias0;
    if (v.in_out) {
        linear_in_out(out, in, W + v.col0, v.ld, b, n, v.IC, v.OC, add);
    } else { /* [out, in]: as stored (lg_wmat) or the float32 parameter */
        const lg_wmat Wm = stored_or_param(m, (size_t)l * LG_NROLES + r, W, v.OC, v.IC);
        lg_wmat_forward(out, in, &Wm, b, n, add);
    }
    if (m->lora && d->lora_target >= 0)
        lg_lora_forward(m->lora, l, (lg_lora_target)d->lora_target, out, in, n, v.IC, v.OC,
                        d->part * v.OC);
}

void lg_block_linear_backward(lg_model *m, int l, lg_role r, float *din, const float *dout,
                              const float *in, int n)
{
    const lg_role_desc *d = &lg_arch_get(m->cfg.arch)->roles[r];
    const weight_view v = view_of(&m->cfg, r);
    const float *W = role_tensor(&m->p, l, r);
    float *dW = (float *)role_tensor(&m->g, l, r), *db = (float *)role_tensor(&m->g, l, v.bias);
    if (db)
        db += v.bias0;
    const size_t slot = (size_t)l * LG_NROLES + r;
    if (!v.in_out && m->stored && m->stored[slot].data) { /* frozen: no weight gradient */
        lg_wmat_backward_in(din, dout, &m->stored[slot], n);
        lg_matmul_backward_f32(NULL, NULL, db, dout, in, NULL, n, v.IC, v.OC);
    } else if (!v.in_out) {
        lg_matmul_backward_f32(din, dW, db, dout, in, W, n, v.IC, v.OC);
    } else {
        if (din)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, v.IC, v.OC, 1, dout, v.OC,
                        W + v.col0, v.ld, 1, din, v.IC);
        if (dW)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, v.IC, v.OC, n, 1, in, v.IC,
                        dout, v.OC, 1, dW + v.col0, v.ld);
        if (db)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < v.OC; j++)
                    db[j] += dout[(size_t)i * v.OC + j];
    }
    if (m->lora && d->lora_target >= 0)
        lg_lora_backward(m->lora, l, (lg_lora_target)d->lora_target, din, dout, in, n, v.IC,
                         v.OC, d->part * v.OC);
}

static void norm_params(const lg_tensors *t, int l, int which, float **w, float **b)
{
    if (which == 2) {
        *w = t->norm;
        *b = t->norm_b;
    } else {
        const lg_layer_tensors *L = &t->layers[l];
        *w = which ? L->mlp_norm : L->attn_norm;
        *b = which ? L->mlp_norm_b : L->attn_norm_b;
    }
}

void lg_block_norm(const lg_model *m, int l, int which, float *out, float *rstd, const float *x,
                   int n)
{
    float *w, *b;
    norm_params(&m->p, l, which, &w, &b);
    const lg_config *c = &m->cfg;
    if (lg_arch_get(c->arch)->norm == LG_NORM_LAYER)
        lg_layernorm_forward_f32(out, rstd, x, w, b, n, c->hidden_size, c->rms_norm_eps);
    else
        lg_rmsnorm_forward_f32(out, rstd, x, w, n, c->hidden_size, c->rms_norm_eps);
}

void lg_block_norm_backward(lg_model *m, int l, int which, float *dx, const float *dout,
                            const float *x, const float *rstd, int n)
{
    float *w, *b, *dw, *db;
    norm_params(&m->p, l, which, &w, &b);
    norm_params(&m->g, l, which, &dw, &db);
    const int C = m->cfg.hidden_size;
    if (lg_arch_get(m->cfg.arch)->norm == LG_NORM_LAYER)
        lg_layernorm_backward_f32(dx, dw, db, dout, x, w, rstd, n, C);
    else
        lg_rmsnorm_backward_f32(dx, dw, dout, x, w, rstd, n, C);
}

void lg_block_forward(const lg_model *m, int l, const lg_block_io *io, int n)
{
    const lg_config *c = &m->cfg;
    const lg_arch_desc *desc = lg_arch_get(c->arch);
    const lg_layer_tensors *w = &m->p.layers[l];
    const int C = c->hidden_size, F = c->intermediate_size;
    const int nh = c->n_heads, nkv = c->n_kv_heads, hd = c->head_dim;
    lg_block_norm(m, l, 0, io->ln1, io->rstd1, io->x, n);
    if (w->q_norm) {
        /* qwen3: RMSNorm over each head of q and k, before RoPE */
        float *qr = io->qraw ? io->qraw : io->q, *kr = io->kraw ? io->kraw : io->k;
        lg_block_linear(m, l, LG_ROLE_Q, qr, io->ln1, n, 0);
        lg_block_linear(m, l, LG_ROLE_K, kr, io->ln1, n, 0);
        lg_rmsnorm_forward_f32(io->q, io->rstdq, qr, w->q_norm, n * nh, hd, c->rms_norm_eps);
        lg_rmsnorm_forward_f32(io->k, io->rstdk, kr, w->k_norm, n * nkv, hd, c->rms_norm_eps);
    } else {
        lg_block_linear(m, l, LG_ROLE_Q, io->q, io->ln1, n, 0);
        lg_block_linear(m, l, LG_ROLE_K, io->k, io->ln1, n, 0);
    }
    lg_block_linear(m, l, LG_ROLE_V, io->v, io->ln1, n, 0);
    if (desc->pos == LG_POS_ROPE) {
        lg_rope_forward_f32(io->q, io->rope_cos, io->rope_sin, n, io->rope_T, nh, hd);
        lg_rope_forward_f32(io->k, io->rope_cos, io->rope_sin, n, io->rope_T, nkv, hd);
    }
    io->attend(io->ctx, l, io->q, io->k, io->v, io->atty, n);
    if (io->mid != io->x)
        memcpy(io->mid, io->x, sizeof(float) * (size_t)n * C);
    lg_block_linear(m, l, LG_ROLE_O, io->mid, io->atty, n, 1); /* mid = x + o(...) */
    lg_block_norm(m, l, 1, io->ln2, io->rstd2, io->mid, n);
    lg_block_linear(m, l, LG_ROLE_UP, io->up, io->ln2, n, 0);
    if (desc->act == LG_ACT_GELU_TANH) {
        lg_gelu_forward_f32(io->h, io->up, (long)n * F);
    } else {
        lg_block_linear(m, l, LG_ROLE_GATE, io->gate, io->ln2, n, 0);
        lg_swiglu_forward_f32(io->h, io->gate, io->up, (long)n * F); /* h may be gate */
    }
    if (io->out != io->mid)
        memcpy(io->out, io->mid, sizeof(float) * (size_t)n * C);
    lg_block_linear(m, l, LG_ROLE_DOWN, io->out, io->h, n, 1); /* out = mid + down(...) */
}

void lg_head_linear(const lg_model *m, float *logits, const float *in, int n)
{
    const lg_wmat W = stored_or_param(m, STORED_HEAD(m), m->p.lm_head, m->cfg.vocab_size,
                                  m->cfg.hidden_size);
    lg_wmat_forward(logits, in, &W, NULL, n, 0);
}

void lg_head_linear_backward(lg_model *m, float *din, const float *dlogits, const float *in,
                             int n)
{
    if (m->stored && m->stored[STORED_HEAD(m)].data) {
        lg_wmat_backward_in(din, dlogits, &m->stored[STORED_HEAD(m)], n);
        return;
    }
    lg_matmul_backward_f32(din, m->g.lm_head, NULL, dlogits, in, m->p.lm_head, n,
                           m->cfg.hidden_size, m->cfg.vocab_size);
}

/* ---- forward ---- */

int lg_logits_finite(const float *logits, size_t n, int V, lg_error *err)
{
    uint32_t bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad)
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &logits[i], 4);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    if (!bad)
        return 0;
    size_t i = 0;
    while (i < n && isfinite(logits[i]))
        i++;
    return lg_fail(err, "the logits are not finite numbers (%s at position %zu, token %zu): "
                        "the model's weights or inputs overflow",
                   isnan(logits[i]) ? "NaN" : "infinity", i / (size_t)V, i % (size_t)V);
}

void lg_shift_targets(int32_t *targets, const int32_t *ids, int B, int T)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1] : LG_IGNORE_INDEX;
}

const float *lg_model_hidden(const lg_model *m, int l)
{
    size_t NC = (size_t)m->B * m->T * m->cfg.hidden_size;
    if (l == m->cfg.n_layers)
        return m->a.lnf;
    return m->inference ? NULL : m->a.res + (size_t)l * NC;
}

/* Tags given for fewer sequences than the batch repeat: sequence b uses tag b % tagged.
 * Rows at or beyond `tagged` only ever read rows before it, so this works in place. */
static int expand_tags(lg_model *m, int B, lg_error *err)
{
    if (B > m->tag_cap) {
        int32_t *t = malloc(sizeof(int32_t) * 2 * (size_t)B);
        if (!t)
            return lg_fail(err, "out of memory");
        memcpy(t, m->tags, sizeof(int32_t) * (size_t)m->tagged);
        memcpy(t + B, m->tags + m->tag_cap, sizeof(int32_t) * (size_t)m->tagged);
        free(m->tags);
        m->tags = t;
        m->tag_cap = B;
    }
    for (int b = m->tagged; b < B; b++) {
        m->tags[b] = m->tags[b % m->tagged];
        m->tags[m->tag_cap + b] = m->tags[m->tag_cap + b % m->tagged];
    }
    return 0;
}

/* The residual stream entering block l (l = n_layers: leaving the last block). Training keeps
 * every one for backward; inference alternates between two buffers. */
static float *residual_stream(const lg_model *m, int l)
{
    const size_t NC = (size_t)m->B * m->T * m->cfg.hidden_size;
    return m->a.res + (size_t)(m->inference ? l % 2 : l) * NC;
}

/* Training and evaluation: causal attention within each of the batch's B sequences of T,
 * keeping the probabilities for backward. */
typedef struct {
    lg_model *m;
    int B, T;
} train_attend_ctx;

static void train_attend(void *ctx, int l, float *q, float *k, float *v, float *atty, int n)
{
    const train_attend_ctx *t = ctx;
    const lg_config *c = &t->m->cfg;
    (void)n;
    lg_attention_forward_f32(atty, t->m->a.layers[l].att, q, k, v, t->B, t->T, c->n_heads,
                             c->n_kv_heads, c->head_dim, c->sliding_window);
}

/* Block l forward: residual stream l -> l + 1, its activations into m->a.layers[l] (and the
 * adapter's); B, T as the forward's. Backward with recomputation calls it again. */
static void block_forward(lg_model *m, int l, int B, int T)
{
    train_attend_ctx actx = {m, B, T};
    lg_layer_acts *a = &m->a.layers[l];
    const lg_block_io io = {
        .x = residual_stream(m, l), .mid = a->mid, .out = residual_stream(m, l + 1),
        .ln1 = a->ln1, .rstd1 = a->rstd1, .ln2 = a->ln2, .rstd2 = a->rstd2,
        .q = a->q, .k = a->k, .v = a->v, .qraw = a->qraw, .kraw = a->kraw,
        .rstdq = a->rstdq, .rstdk = a->rstdk, .atty = a->atty,
        .gate = a->gate, .up = a->up, .h = a->h,
        .rope_cos = m->rope_cos, .rope_sin = m->rope_sin, .rope_T = T,
        .attend = train_attend, .ctx = &actx};
    lg_block_forward(m, l, &io, B * T);
}

int lg_model_forward(lg_model *m, const int32_t *ids, const int32_t *targets, int B, int T,
                     lg_error *err)
{
    const lg_config *c = &m->cfg;
    if ((m->loss_chunk || m->recompute) && !targets)
        return lg_fail(err, "the model is in loss-only or recomputation mode: forward needs "
                            "targets");
    if (T > c->max_position_embeddings && c->max_position_embeddings > 0)
        return lg_fail(err, "sequence length %d exceeds the model's maximum %d", T,
                       c->max_position_embeddings);
    if (lg_model_reserve(m, B, T, err) < 0)
        return -1;
    if (T != m->T)
        lg_rope_tables_cfg(c, m->rope_cos, m->rope_sin, T);
    const int N = B * T, C = c->hidden_size, V = c->vocab_size;
    for (int i = 0; i < N; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return lg_fail(err, "token id %d at position %d is outside the vocabulary (%d)",
                           ids[i], i, V);
    if (m->lora && lg_lora_reserve(m->lora, N, err) < 0)
        return -1;
    m->B = B;
    m->T = T;
    lg_model_embed(m, m->a.res, ids, N);
    if (m->p.pos_embed) /* GPT-2: learned positions */
        lg_position_add_forward_f32(m->a.res, m->p.pos_embed, N, T, 0, C);
    for (int l = 0; l < c->n_layers; l++)
        block_forward(m, l, B, T);
    float *last = residual_stream(m, c->n_layers);
    if (m->langsamp && m->tagged) {
        if (expand_tags(m, B, err) < 0)
            return -1;
        /* LangSAMP: language and script vectors join the last block's output */
        lg_sequence_add_forward_f32(last, m->langsamp->lang, m->tags, B, T, C);
        lg_sequence_add_forward_f32(last, m->langsamp->script, m->tags + m->tag_cap, B, T, C);
    }
    lg_block_norm(m, 0, 2, m->a.lnf, m->a.rstdf, last, N);
    m->counted = 0;
    m->last_loss = NAN;
    if (!targets) {
        lg_head_linear(m, m->a.logits, m->a.lnf, N);
        return lg_logits_finite(m->a.logits, (size_t)N * V, V, err);
    }
    memcpy(m->a.targets, targets, sizeof(int32_t) * (size_t)N);
    /* the head and the loss over chunks of rows (one chunk of all N unless loss-only) */
    const int rows = (int)logit_rows(m, (size_t)N);
    double total = 0, mean = 0;
    for (int r0 = 0; r0 < N; r0 += rows) {
        const int n = N - r0 < rows ? N - r0 : rows;
        int counted = 0;
        lg_head_linear(m, m->a.logits, m->a.lnf + (size_t)r0 * C, n);
        mean = lg_cross_entropy_forward_f32(NULL, m->a.lse + r0, m->a.logits, targets + r0,
                                                   n, V, &counted);
        total += mean * counted;
        m->counted += counted;
    }
    m->last_loss = (float)(rows >= N ? mean : m->counted ? total / m->counted : 0.0);
    if (!isfinite(m->last_loss))
        return lg_fail(err, "the loss is %s: the model's outputs are not finite numbers",
                       isnan(m->last_loss) ? "NaN" : "infinite");
    return 0;
}

/* ---- backward ---- */

void lg_model_backward(lg_model *m, const int32_t *ids, float loss_scale)
{
    const lg_config *c = &m->cfg;
    const lg_arch_desc *desc = lg_arch_get(c->arch);
    const int B = m->B, T = m->T, N = B * T, C = c->hidden_size, V = c->vocab_size;
    const int F = c->intermediate_size, nh = c->n_heads, nkv = c->n_kv_heads, hd = c->head_dim;
    const int QD = nh * hd, KD = nkv * hd;
    lg_acts *a = &m->a;
    const size_t NC = (size_t)N * C;
    if (m->counted == 0 || m->inference)
        return; /* nothing to learn from, or no activations kept for it */
    /* the head over the forward's chunks of rows: all N at once unless recomputing, when each
     * chunk's logits are made again; dlogits in place */
    memset(a->dln, 0, NC * sizeof(float));
    const int rows = (int)logit_rows(m, (size_t)N);
    for (int r0 = 0; r0 < N; r0 += rows) {
        const int n = N - r0 < rows ? N - r0 : rows;
        if (rows < N)
            lg_head_linear(m, a->logits, a->lnf + (size_t)r0 * C, n);
        lg_cross_entropy_backward_f32(a->logits, a->logits, a->lse + r0, a->targets + r0, n, V,
                                      (double)loss_scale / m->counted);
        lg_head_linear_backward(m, a->dln + (size_t)r0 * C, a->logits, a->lnf + (size_t)r0 * C,
                                n);
    }
    memset(a->dres, 0, NC * sizeof(float));
    float *last = a->res + (size_t)c->n_layers * NC;
    lg_block_norm_backward(m, 0, 2, a->dres, a->dln, last, a->rstdf, N);
    if (m->langsamp && m->tagged && m->langsamp->dlang) {
        lg_sequence_add_backward_f32(m->langsamp->dlang, a->dres, m->tags, B, T, C);
        lg_sequence_add_backward_f32(m->langsamp->dscript, a->dres, m->tags + m->tag_cap, B, T, C);
    }
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const lg_layer_tensors *w = &m->p.layers[l];
        lg_layer_tensors *g = &m->g.layers[l];
        lg_layer_acts *la = &a->layers[l];
        const float *x = a->res + (size_t)l * NC;
        if (m->recompute) /* the block's activations again, from its input */
            block_forward(m, l, B, T);
        /* MLP: out = mid + down(swiglu(gate(ln2), up(ln2))); dres is d(out) = d(mid) so far */
        memset(a->dh, 0, (size_t)N * F * sizeof(float));
        lg_block_linear_backward(m, l, LG_ROLE_DOWN, a->dh, a->dres, la->h, N);
        memset(a->dln, 0, NC * sizeof(float));
        if (desc->act == LG_ACT_GELU_TANH) {
            lg_gelu_backward_f32(a->dup, a->dh, la->up, (long)N * F);
        } else {
            lg_swiglu_backward_f32(a->dgate, a->dup, a->dh, la->gate, la->up, (long)N * F);
            lg_block_linear_backward(m, l, LG_ROLE_GATE, a->dln, a->dgate, la->ln2, N);
        }
        lg_block_linear_backward(m, l, LG_ROLE_UP, a->dln, a->dup, la->ln2, N);
        lg_block_norm_backward(m, l, 1, a->dres, a->dln, la->mid, la->rstd2, N);
        /* attention: mid = x + o(attention(rope(q), rope(k), v)); dres is now d(mid) */
        memset(a->datty, 0, (size_t)N * QD * sizeof(float));
        lg_block_linear_backward(m, l, LG_ROLE_O, a->datty, a->dres, la->atty, N);
        memset(a->dq, 0, (size_t)N * QD * sizeof(float));
        memset(a->dk, 0, (size_t)N * KD * sizeof(float));
        memset(a->dv, 0, (size_t)N * KD * sizeof(float));
        lg_attention_backward_f32(a->dq, a->dk, a->dv, a->datt, a->datty, la->att, la->q, la->k,
                                  la->v, B, T, nh, nkv, hd);
        if (desc->pos == LG_POS_ROPE) {
            lg_rope_backward_f32(a->dq, m->rope_cos, m->rope_sin, N, T, nh, hd);
            lg_rope_backward_f32(a->dk, m->rope_cos, m->rope_sin, N, T, nkv, hd);
        }
        float *dq = a->dq, *dk = a->dk;
        if (w->q_norm) {
            memset(a->dqraw, 0, (size_t)N * QD * sizeof(float));
            memset(a->dkraw, 0, (size_t)N * KD * sizeof(float));
            lg_rmsnorm_backward_f32(a->dqraw, g->q_norm, a->dq, la->qraw, w->q_norm, la->rstdq,
                                    N * nh, hd);
            lg_rmsnorm_backward_f32(a->dkraw, g->k_norm, a->dk, la->kraw, w->k_norm, la->rstdk,
                                    N * nkv, hd);
            dq = a->dqraw;
            dk = a->dkraw;
        }
        memset(a->dln, 0, NC * sizeof(float));
        lg_block_linear_backward(m, l, LG_ROLE_Q, a->dln, dq, la->ln1, N);
        lg_block_linear_backward(m, l, LG_ROLE_K, a->dln, dk, la->ln1, N);
        lg_block_linear_backward(m, l, LG_ROLE_V, a->dln, a->dv, la->ln1, N);
        lg_block_norm_backward(m, l, 0, a->dres, a->dln, x, la->rstd1, N);
    }
    if (m->g.embed)
        lg_embedding_backward_f32(m->g.embed, a->dres, ids, N, C);
    if (m->g.pos_embed)
        lg_position_add_backward_f32(m->g.pos_embed, a->dres, N, T, C);
}

/* ---- saving ---- */

/* A tensor lg_model_save_dir_ex makes while the file is written: a weight kept as stored
 * (converted to the dtype written a piece at a time, its pages released after), or one an
 * adapter is merged into (W + scale·B·A in float32, one tensor at a time). */
typedef struct {
    const lg_model *m;
    const lg_param_entry *e;
    const lg_tensor_info *held; /* the stored tensor, or NULL: e->param */
    int layer, target;          /* target >= 0: m->lora's delta is added */
    lg_dtype out;
    float *merged;              /* the merged tensor while it is written */
    float *scratch;             /* a piece's floats (save_scratch_floats), shared */
} save_job;

/* The floats a piece of a filled tensor may hold: LG_ST_FILL_PIECE bytes of 2-byte elements,
 * or one row where a row is larger (lg_st_writer_add_fill's pieces). */
static size_t save_scratch_floats(const lg_model *m)
{
    size_t most = LG_ST_FILL_PIECE / 2;
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        if (e->ndim > 0 && (size_t)e->shape[e->ndim - 1] > most)
            most = (size_t)e->shape[e->ndim - 1];
    }
    return most;
}

static int save_fill(void *ctx, size_t off, size_t n, void *dst, lg_error *err)
{
    save_job *j = ctx;
    const size_t osz = lg_dtype_size(j->out);
    const int64_t first = (int64_t)(off / osz), count = (int64_t)(n / osz);
    if (j->target >= 0 && off == 0) {
        free(j->merged);
        if (!(j->merged = malloc(j->e->numel * sizeof(float))))
            return lg_fail(err, "out of memory merging the adapter into %s", j->e->name);
        if (!j->held)
            memcpy(j->merged, j->e->param, j->e->numel * sizeof(float));
        else if (lg_tensor_to_f32(j->held, j->merged, err) < 0)
            return -1;
        lg_lora_add_delta(j->m->lora, &j->m->cfg, j->layer, (lg_lora_target)j->target, j->merged);
        lg_weights_release(j->m->held, j->held); /* read (no-op for a parameter) */
    }
    const float *f = j->merged ? j->merged + first : j->held ? NULL : j->e->param + first;
    if (!f && j->held->dtype == j->out) { /* as stored */
        memcpy(dst, (const char *)j->held->data + off, n);
    } else {
        float *into = j->out == LG_DT_F32 ? dst : j->scratch;
        if (!f && lg_tensor_range_to_f32(j->held, first, count, into, err) < 0)
            return -1;
        if (!f)
            f = into;
        uint16_t *h = dst;
        if (j->out == LG_DT_F32 && f != dst)
            memcpy(dst, f, n);
        else if (j->out == LG_DT_BF16)
            for (int64_t k = 0; k < count; k++)
                h[k] = lg_f32_to_bf16(f[k]);
        else if (j->out == LG_DT_F16)
            for (int64_t k = 0; k < count; k++)
                h[k] = lg_f32_to_f16(f[k]);
    }
    if (j->held && !j->merged) /* the piece's bytes of the mapping, read */
        lg_weights_release_bytes(j->m->held, j->held, (size_t)first * lg_dtype_size(j->held->dtype),
                                 (size_t)count * lg_dtype_size(j->held->dtype));
    if (off + n == j->e->numel * osz) { /* the last piece */
        free(j->merged);
        j->merged = NULL;
        if (j->held)
            lg_weights_release(j->m->held, j->held);
    }
    return 0;
}

/* Which tensors m->lora adapts: jobs[entry].layer/target. */
static int mark_merges(const lg_model *m, save_job *jobs, lg_error *err)
{
    const lg_arch_desc *a = lg_arch_get(m->cfg.arch);
    const lg_lora *l = m->lora;
    char name[160];
    for (int layer = 0; layer < l->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++) {
            if (!(l->cfg.target_mask & (1u << t)))
                continue;
            const lg_role r = lg_lora_role(t);
            snprintf(name, sizeof name, "%s%d.%s", a->layer_prefix, layer, a->roles[r].hf);
            const lg_param_entry *e = lg_model_find(m, name);
            if (!e || a->roles[r].in_out || a->roles[r].fused_into != LG_NROLES)
                return lg_fail(err, "%s: the adapter cannot be merged while it is written (%s "
                                    "models: merge it with lg_lora_merge)", name,
                               m->cfg.model_type);
            jobs[e - m->entries].layer = layer;
            jobs[e - m->entries].target = t;
        }
    return 0;
}

int lg_model_save_dir(const lg_model *m, const char *dir, int stored_dtype, lg_error *err)
{
    return lg_model_save_dir_ex(m, dir, stored_dtype, 0, err);
}

int lg_model_save_dir_ex(const lg_model *m, const char *dir, int stored_dtype, unsigned flags,
                         lg_error *err)
{
    if (stored_dtype != LG_DT_F32 && stored_dtype != LG_DT_F16 && stored_dtype != LG_DT_BF16)
        return lg_fail(err, "%s: weights are written as F32, F16 or BF16, not %s", dir,
                       lg_dtype_name((lg_dtype)stored_dtype));
    save_job *jobs = calloc((size_t)m->n_entries, sizeof *jobs);
    float *scratch = malloc(save_scratch_floats(m) * sizeof(float));
    if (!jobs || !scratch) {
        free(jobs);
        free(scratch);
        return lg_fail(err, "out of memory");
    }
    for (int i = 0; i < m->n_entries; i++)
        jobs[i] = (save_job){.m = m, .e = &m->entries[i], .target = -1,
                             .out = (lg_dtype)stored_dtype, .scratch = scratch};
    if ((flags & LG_SAVE_MERGE_LORA) && m->lora && mark_merges(m, jobs, err) < 0) {
        free(jobs);
        free(scratch);
        return -1;
    }
    lg_atomic_dir d;
    if (lg_atomic_dir_begin(&d, dir, 0, err) < 0) {
        free(jobs);
        free(scratch);
        return -1;
    }
    char path[4200];
    int rc = -1;
    lg_st_writer *w = lg_st_writer_new();
    for (int i = 0; i < m->n_entries; i++) {
        const lg_param_entry *e = &m->entries[i];
        save_job *j = &jobs[i];
        if (!e->param && !(j->held = lg_weights_find(m->held, e->name))) {
            lg_fail(err, "%s: %s has no data", dir, e->name);
            goto done;
        }
        if (e->param && j->target < 0 ? /* float32, converted as written */
                lg_st_writer_add_f32(w, e->name, (lg_dtype)stored_dtype, e->ndim, e->shape,
                                     e->param, err) < 0
              : lg_st_writer_add_fill(w, e->name, (lg_dtype)stored_dtype, e->ndim, e->shape,
                                      save_fill, j, err) < 0)
            goto done;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", d.tmp);
    if (lg_st_writer_write(w, path, err) < 0)
        goto done;
    lg_config cfg = m->cfg;
    snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s",
             stored_dtype == LG_DT_BF16 ? "bfloat16" : stored_dtype == LG_DT_F16 ? "float16" : "float32");
    snprintf(path, sizeof path, "%s/config.json", d.tmp);
    if (lg_config_write(path, &cfg, err) < 0)
        goto done;
    rc = lg_atomic_dir_commit(&d, err);
done:
    lg_st_writer_free(w);
    if (rc < 0)
        lg_atomic_dir_abort(&d);
    for (int i = 0; i < m->n_entries; i++)
        free(jobs[i].merged);
    free(jobs);
    free(scratch);
    return rc;
}
