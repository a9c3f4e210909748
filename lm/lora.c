/* LoRA adapters as PEFT defines them: parameters, forward/backward beside the frozen
 * linear layers, PEFT file I/O, merging. */
#include "lg_lora.h"
#include "lg_arch.h"

#include <cJSON.h>
#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_io.h"
#include "lg_rng.h"
#include "lg_safetensors.h"
#include "lg_wmat.h"

static const char *target_names[LG_LORA_NTARGETS] = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                     "gate_proj", "up_proj", "down_proj"};
static const char *short_names[LG_LORA_NTARGETS] = {"q", "k", "v", "o", "gate", "up", "down"};

/* GPT-2's modules (PEFT's names): c_attn holds q, k and v; c_proj names both attn.c_proj
 * and mlp.c_proj, as PEFT's suffix match does */
static const struct {
    const char *name;
    unsigned mask;
} conv1d_names[] = {
    {"c_attn", 1u << LG_LORA_Q}, {"attn.c_proj", 1u << LG_LORA_O}, {"c_fc", 1u << LG_LORA_UP},
    {"mlp.c_proj", 1u << LG_LORA_DOWN}, {"c_proj", 1u << LG_LORA_O | 1u << LG_LORA_DOWN}};

const char *lg_lora_target_name(lg_lora_target t) { return target_names[t]; }

int lg_lora_parse_targets(const char *list, unsigned *mask, lg_error *err)
{
    *mask = 0;
    if (!strcmp(list, "all")) {
        *mask = (1u << LG_LORA_NTARGETS) - 1;
        return 0;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        unsigned found = 0;
        for (int t = 0; t < LG_LORA_NTARGETS; t++)
            if (!strcmp(tok, target_names[t]) || !strcmp(tok, short_names[t]))
                found = 1u << t;
        for (size_t i = 0; i < sizeof conv1d_names / sizeof conv1d_names[0]; i++)
            if (!strcmp(tok, conv1d_names[i].name))
                found = conv1d_names[i].mask;
        if (!found)
            return lg_fail(err, "unknown LoRA target '%s' (use q,k,v,o,gate,up,down; GPT-2: "
                                "c_attn,attn.c_proj,c_fc,mlp.c_proj)", tok);
        *mask |= found;
    }
    if (!*mask)
        return lg_fail(err, "no LoRA targets given");
    return 0;
}

/* in and out features of target t: its weight's whole tensor (lg_arch.h), so GPT-2's
 * c_attn adapter has 3·hidden outputs, q, k and v together, as PEFT adapts the module */
static void target_dims(const lg_config *c, lg_lora_target t, int *in, int *out)
{
    const lg_role r = lg_lora_role(t);
    int64_t rows, cols;
    lg_role_shape(c, r, &rows, &cols);
    const int in_out = lg_arch_get(c->arch)->roles[r].in_out;
    *in = (int)(in_out ? rows : cols);
    *out = (int)(in_out ? cols : rows);
}

/* The module target t adapts, after "<layer prefix>N.": its weight's name without
 * ".weight" ("self_attn.q_proj", GPT-2's "attn.c_attn"). */
static void target_path(const lg_config *c, lg_lora_target t, char *buf, size_t n)
{
    const char *hf = lg_arch_get(c->arch)->roles[lg_lora_role(t)].hf;
    snprintf(buf, n, "%.*s", (int)(strlen(hf) - strlen(".weight")), hf);
}

/* Its name in PEFT's target_modules: the module's own name ("q_proj", "c_attn"), or with
 * its parent where another target's module has the same name (GPT-2's attn.c_proj and
 * mlp.c_proj: PEFT matches a name against the end of the module's path). */
static void peft_target_name(const lg_config *c, lg_lora_target t, char *buf, size_t n)
{
    char path[128], other[128];
    target_path(c, t, path, sizeof path);
    const char *last = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
    for (int u = 0; u < LG_LORA_NTARGETS; u++) {
        if (u == (int)t || !lg_role_present(c, lg_lora_role(u)) ||
            lg_arch_get(c->arch)->roles[lg_lora_role(u)].lora_target != u)
            continue;
        target_path(c, (lg_lora_target)u, other, sizeof other);
        const char *o = strrchr(other, '.') ? strrchr(other, '.') + 1 : other;
        if (!strcmp(o, last)) {
            snprintf(buf, n, "%s", path);
            return;
        }
    }
    snprintf(buf, n, "%s", last);
}

/* The targets a request means for this architecture: GPT-2's q, k and v are parts of
 * c_attn, which is adapted whole; "all" is every target the architecture has. */
static int resolve_targets(const lg_config *c, unsigned want, unsigned *mask, lg_error *err)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    *mask = 0;
    for (int t = 0; t < LG_LORA_NTARGETS; t++) {
        if (!(want & (1u << t)))
            continue;
        const lg_role r = lg_lora_role(t);
        const int to = lg_role_present(c, r) ? d->roles[r].lora_target : -1;
        if (to < 0 && want != (1u << LG_LORA_NTARGETS) - 1)
            return lg_fail(err, "LoRA target %s is not available for %s models", target_names[t],
                           c->model_type);
        if (to >= 0)
            *mask |= 1u << to;
    }
    return *mask ? 0 : lg_fail(err, "LoRA needs at least one target module");
}

/* The full names of the tensors outside the blocks an adapter may save (modules_to_save),
 * and their module names ("embed_tokens", GPT-2's "wte"; "lm_head"). */
#define PEFT_PREFIX "base_model.model."
static void peft_vocab_name(const lg_config *c, int head, char *buf, size_t n)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    snprintf(buf, n, PEFT_PREFIX "%s", head ? d->head : d->embed);
}

static void vocab_module(const lg_config *c, int head, char *buf, size_t n)
{
    const lg_arch_desc *d = lg_arch_get(c->arch);
    const char *full = head ? d->head : d->embed;
    const char *end = full + strlen(full) - strlen(".weight"), *start = end;
    while (start > full && start[-1] != '.')
        start--;
    snprintf(buf, n, "%.*s", (int)(end - start), start);
}

static float *base_weight(lg_model *m, int l, lg_lora_target t)
{
    return *lg_layer_role(&m->p.layers[l], lg_lora_role(t));
}

void lg_lora_free(lg_lora *l)
{
    if (!l)
        return;
    free(l->param_mem);
    free(l->grad_mem);
    free(l->p);
    free(l->g);
    free(l->entries);
    free(l->act_mem);
    free(l->xa);
    free(l);
}

/* max_params > 0: refuse (before allocating) an adapter of more values than that, the
 * number a file to load it from holds. */
static lg_lora *lora_create(const lg_config *c, const lg_lora_config *cfg, size_t max_params,
                            lg_error *err)
{
    if (cfg->rank <= 0)
        return lg_fail(err, "LoRA rank must be positive, got %d", cfg->rank), NULL;
    if (!cfg->target_mask)
        return lg_fail(err, "LoRA needs at least one target module"), NULL;
    /* the architecture's description says which products LoRA can adapt */
    unsigned mask;
    if (resolve_targets(c, cfg->target_mask, &mask, err) < 0)
        return NULL;
    lg_lora *l = calloc(1, sizeof *l);
    int slots = c->n_layers * LG_LORA_NTARGETS;
    if (!l || !(l->p = calloc((size_t)slots, sizeof *l->p)) ||
        !(l->g = calloc((size_t)slots, sizeof *l->g)) ||
        !(l->xa = calloc((size_t)slots, sizeof *l->xa)) ||
        !(l->entries = calloc((size_t)slots * 2, sizeof *l->entries))) {
        lg_lora_free(l);
        return lg_fail(err, "out of memory"), NULL;
    }
    l->cfg = *cfg;
    l->cfg.target_mask = mask;
    cfg = &l->cfg;
    l->n_layers = c->n_layers;
    l->scale = cfg->use_rslora ? cfg->alpha / sqrtf((float)cfg->rank) : cfg->alpha / (float)cfg->rank;
    const int r = cfg->rank;
    for (int layer = 0; layer < c->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++) {
            if (!(cfg->target_mask & (1u << t)))
                continue;
            int in, out;
            target_dims(c, t, &in, &out);
            char path[64];
            target_path(c, t, path, sizeof path);
            const char *ab[2] = {"lora_A", "lora_B"};
            int64_t shapes[2][2] = {{r, in}, {out, r}};
            for (int k = 0; k < 2; k++) {
                lg_param_entry *e = &l->entries[l->n_entries++];
                snprintf(e->name, sizeof e->name, "%s%d.%s.%s.weight",
                         lg_arch_get(c->arch)->layer_prefix, layer, path, ab[k]);
                e->ndim = 2;
                e->shape[0] = shapes[k][0];
                e->shape[1] = shapes[k][1];
                e->numel = (size_t)(shapes[k][0] * shapes[k][1]);
                e->offset = l->n_params;
                e->is_matrix = 1;
                l->n_params += e->numel;
            }
        }
    if (max_params && l->n_params > max_params) {
        lg_fail(err, "LoRA of rank %d on these modules has %zu values, the weights only %zu",
                cfg->rank, l->n_params, max_params);
        lg_lora_free(l);
        return NULL;
    }
    l->param_mem = calloc(l->n_params, sizeof(float));
    if (!l->param_mem) {
        lg_fail(err, "out of memory for %zu LoRA parameters", l->n_params);
        lg_lora_free(l);
        return NULL;
    }
    int i = 0;
    for (int layer = 0; layer < c->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++) {
            if (!(cfg->target_mask & (1u << t)))
                continue;
            lg_lora_pair *p = &l->p[layer * LG_LORA_NTARGETS + t];
            l->entries[i].param = p->A = l->param_mem + l->entries[i].offset;
            i++;
            l->entries[i].param = p->B = l->param_mem + l->entries[i].offset;
            i++;
        }
    return l;
}

lg_lora *lg_lora_attach(lg_model *m, const lg_lora_config *cfg, uint64_t seed, lg_error *err)
{
    if (m->lora)
        return lg_fail(err, "the model already has a LoRA adapter"), NULL;
    lg_lora *l = lora_create(&m->cfg, cfg, 0, err);
    if (!l)
        return NULL;
    /* PEFT: A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in); B = 0 */
    lg_rng rng;
    lg_rng_seed(&rng, seed);
    for (int i = 0; i < l->n_entries; i += 2) {
        lg_param_entry *A = &l->entries[i];
        double bound = 1.0 / sqrt((double)A->shape[1]);
        for (size_t j = 0; j < A->numel; j++)
            A->param[j] = (float)((2 * lg_rng_uniform(&rng) - 1) * bound);
    }
    m->lora = l;
    return l;
}

int lg_lora_alloc_grads(lg_lora *l, lg_error *err)
{
    if (l->grad_mem)
        return 0;
    l->grad_mem = calloc(l->n_params, sizeof(float));
    if (!l->grad_mem)
        return lg_fail(err, "out of memory for LoRA gradients");
    int i = 0;
    for (int layer = 0; layer < l->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++) {
            if (!(l->cfg.target_mask & (1u << t)))
                continue;
            lg_lora_pair *g = &l->g[layer * LG_LORA_NTARGETS + t];
            l->entries[i].grad = g->A = l->grad_mem + l->entries[i].offset;
            i++;
            l->entries[i].grad = g->B = l->grad_mem + l->entries[i].offset;
            i++;
        }
    return 0;
}

void lg_lora_zero_grads(lg_lora *l)
{
    if (l && l->grad_mem)
        memset(l->grad_mem, 0, l->n_params * sizeof(float));
}

const lg_param_entry *lg_lora_find(const lg_lora *l, const char *name)
{
    for (int i = 0; l && i < l->n_entries; i++)
        if (!strcmp(l->entries[i].name, name))
            return &l->entries[i];
    return NULL;
}

int lg_lora_reserve(lg_lora *l, int N, lg_error *err)
{
    if (N <= l->cap_N)
        return 0;
    int targets = __builtin_popcount(l->cfg.target_mask);
    size_t per = (size_t)N * l->cfg.rank;
    free(l->act_mem);
    l->act_mem = malloc(sizeof(float) * per * ((size_t)l->n_layers * targets + 1));
    if (!l->act_mem)
        return lg_fail(err, "out of memory for LoRA activations");
    float *p = l->act_mem;
    for (int layer = 0; layer < l->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++)
            if (l->cfg.target_mask & (1u << t)) {
                l->xa[layer * LG_LORA_NTARGETS + t] = p;
                p += per;
            }
    l->dxa = p;
    l->cap_N = N;
    return 0;
}

void lg_lora_forward(lg_lora *l, int layer, lg_lora_target t, float *out, const float *in, int N,
                     int IC, int OC, int row0)
{
    if (!(l->cfg.target_mask & (1u << t)))
        return;
    const lg_lora_pair *p = &l->p[layer * LG_LORA_NTARGETS + t];
    float *xa = l->xa[layer * LG_LORA_NTARGETS + t];
    const int r = l->cfg.rank;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, r, IC, 1, in, IC, p->A, IC, 0, xa, r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, r, l->scale, xa, r,
                p->B + (size_t)row0 * r, r, 1, out, OC);
}

void lg_lora_backward(lg_lora *l, int layer, lg_lora_target t, float *din, const float *dout,
                      const float *in, int N, int IC, int OC, int row0)
{
    if (!(l->cfg.target_mask & (1u << t)))
        return;
    const lg_lora_pair *p = &l->p[layer * LG_LORA_NTARGETS + t];
    const lg_lora_pair *g = &l->g[layer * LG_LORA_NTARGETS + t];
    const float *xa = l->xa[layer * LG_LORA_NTARGETS + t];
    const int r = l->cfg.rank;
    if (g->B)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, r, N, l->scale, dout, OC, xa, r, 1,
                    g->B + (size_t)row0 * r, r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, r, OC, l->scale, dout, OC,
                p->B + (size_t)row0 * r, r, 0, l->dxa, r);
    if (g->A)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, IC, N, 1, l->dxa, r, in, IC, 1, g->A,
                    IC);
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, r, 1, l->dxa, r, p->A, IC, 1,
                    din, IC);
}

void lg_lora_add_delta(const lg_lora *l, const lg_config *c, int layer, lg_lora_target t,
                       float *W)
{
    int in, out;
    target_dims(c, t, &in, &out);
    const int r = l->cfg.rank;
    const lg_lora_pair *p = &l->p[layer * LG_LORA_NTARGETS + t];
    if (lg_arch_get(c->arch)->roles[lg_lora_role(t)].in_out) /* Conv1D W[in, out] += (BA)^T */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, in, out, r, l->scale, p->A, in, p->B,
                    r, 1, W, out);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, r, l->scale, p->B, r,
                    p->A, in, 1, W, in);
}

int lg_lora_merge(lg_model *m, lg_error *err)
{
    lg_lora *l = m->lora;
    if (!l)
        return 0;
    /* a weight kept as stored is read where its file is mapped: nothing to add to */
    for (int layer = 0; layer < l->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++)
            if ((l->cfg.target_mask & (1u << t)) && !base_weight(m, layer, t)) {
                const lg_role r = lg_lora_role(t);
                const size_t slot = (size_t)layer * LG_NROLES + r;
                return lg_fail(err, "%s%d.%s is kept as stored (%s), not in float32: the LoRA "
                                    "adapter cannot be merged into it (load the model without "
                                    "LG_LOAD_STORED, or write the merged weights with "
                                    "lg_model_save_dir_ex and LG_SAVE_MERGE_LORA)",
                               lg_arch_get(m->cfg.arch)->layer_prefix, layer,
                               lg_arch_get(m->cfg.arch)->roles[r].hf,
                               m->stored ? lg_dtype_name(m->stored[slot].dtype) : "?");
            }
    for (int layer = 0; layer < l->n_layers; layer++)
        for (int t = 0; t < LG_LORA_NTARGETS; t++)
            if (l->cfg.target_mask & (1u << t))
                lg_lora_add_delta(l, &m->cfg, layer, t, base_weight(m, layer, t));
    m->lora = NULL;
    lg_lora_free(l);
    return 0;
}

/* ---- PEFT files ---- */

/* c: the model the adapter is for (its architecture's module names) */
static int parse_peft_config(const char *path, const lg_config *c, lg_lora_config *cfg,
                             lg_error *err)
{
    cJSON *j = lg_json_read(path, 1 << 20, err);
    if (!j)
        return -1;
    int rc = -1;
    memset(cfg, 0, sizeof *cfg);
    const cJSON *v;
    if (!(v = cJSON_GetObjectItem(j, "peft_type")) || !cJSON_IsString(v) ||
        strcmp(v->valuestring, "LORA")) {
        lg_fail(err, "%s: peft_type is not LORA", path);
        goto done;
    }
    if (!(v = cJSON_GetObjectItem(j, "r")) || !cJSON_IsNumber(v) ||
        !(v->valuedouble >= 1 && v->valuedouble <= INT_MAX) ||
        v->valuedouble != floor(v->valuedouble)) {
        lg_fail(err, "%s: missing or invalid r (a whole number from 1 to %d)", path, INT_MAX);
        goto done;
    }
    cfg->rank = v->valueint;
    if (!(v = cJSON_GetObjectItem(j, "lora_alpha")) || !cJSON_IsNumber(v)) {
        lg_fail(err, "%s: missing lora_alpha", path);
        goto done;
    }
    if (!(fabs(v->valuedouble) <= FLT_MAX)) {
        lg_fail(err, "%s: lora_alpha %g is not a finite float", path, v->valuedouble);
        goto done;
    }
    cfg->alpha = (float)v->valuedouble;
    cfg->use_rslora = cJSON_IsTrue(cJSON_GetObjectItem(j, "use_rslora"));
    /* fan_in_fan_out: the weights are stored [in, out] (GPT-2's Conv1D), as PEFT sets it
     * for them; the adapter's A and B are the same either way */
    const int conv1d = lg_arch_get(c->arch)->roles[LG_ROLE_Q].in_out;
    const char *unsupported[] = {"use_dora", "fan_in_fan_out"};
    for (int i = 0; i < 2 - conv1d; i++)
        if (cJSON_IsTrue(cJSON_GetObjectItem(j, unsupported[i]))) {
            lg_fail(err, "%s: %s adapters are not supported", path, unsupported[i]);
            goto done;
        }
    const char *patterns[] = {"rank_pattern", "alpha_pattern"};
    for (int i = 0; i < 2; i++) {
        v = cJSON_GetObjectItem(j, patterns[i]);
        if (v && cJSON_IsObject(v) && v->child) {
            lg_fail(err, "%s: per-module %s is not supported", path, patterns[i]);
            goto done;
        }
    }
    if ((v = cJSON_GetObjectItem(j, "layers_to_transform")) && !cJSON_IsNull(v)) {
        lg_fail(err, "%s: layers_to_transform is not supported", path);
        goto done;
    }
    if ((v = cJSON_GetObjectItem(j, "bias")) && cJSON_IsString(v) && strcmp(v->valuestring, "none")) {
        lg_fail(err, "%s: bias '%s' is not supported (only \"none\")", path, v->valuestring);
        goto done;
    }
    v = cJSON_GetObjectItem(j, "target_modules");
    if (cJSON_IsString(v)) {
        if (lg_lora_parse_targets(v->valuestring, &cfg->target_mask, err) < 0) {
            lg_fail_context(err, "%s", path);
            goto done;
        }
    } else if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            unsigned bit;
            if (!cJSON_IsString(it) || lg_lora_parse_targets(it->valuestring, &bit, err) < 0) {
                lg_fail(err, "%s: unsupported target module in target_modules", path);
                goto done;
            }
            cfg->target_mask |= bit;
        }
    } else {
        lg_fail(err, "%s: missing target_modules", path);
        goto done;
    }
    v = cJSON_GetObjectItem(j, "modules_to_save");
    char embed[64], head[64];
    vocab_module(c, 0, embed, sizeof embed);
    vocab_module(c, 1, head, sizeof head);
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, embed))
                cfg->save_embed_tokens = 1;
            else if (cJSON_IsString(it) && !strcmp(it->valuestring, head))
                cfg->save_lm_head = 1;
            else {
                lg_fail(err, "%s: unsupported module in modules_to_save", path);
                goto done;
            }
        }
    }
    rc = 0;
done:
    cJSON_Delete(j);
    return rc;
}

/* Copies a full tensor from the adapter file into dst after checking its shape. */
static int load_full(const lg_safetensors *st, const char *name, float *dst, int64_t rows,
                     int64_t cols, lg_error *err)
{
    const lg_tensor_info *t = lg_st_find(st, name);
    if (!t)
        return -2;
    if (lg_tensor_expect_shape(t, 2, (int64_t[]){rows, cols}, err) < 0)
        return -1;
    return lg_tensor_to_f32(t, dst, err);
}

lg_lora *lg_lora_load_peft(lg_model *m, const char *dir, lg_error *err)
{
    char path[4096];
    lg_lora_config cfg;
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    if (parse_peft_config(path, &m->cfg, &cfg, err) < 0)
        return NULL;
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    lg_safetensors *st = lg_st_open(path, err);
    if (!st)
        return NULL;
    size_t in_file = 0;   /* the adapter's values must be in the file: bounds r before allocating */
    for (int i = 0; i < lg_st_count(st); i++)
        in_file += (size_t)lg_st_tensor(st, i)->numel;
    lg_lora *l = lora_create(&m->cfg, &cfg, in_file ? in_file : 1, err);
    if (!l) {
        lg_fail_context(err, "%s", path);
        lg_st_close(st);
        return NULL;
    }
    char name[160];
    int used = 0;
    for (int i = 0; i < l->n_entries; i++) {
        lg_param_entry *e = &l->entries[i];
        snprintf(name, sizeof name, PEFT_PREFIX "%s", e->name);
        int rc = load_full(st, name, e->param, e->shape[0], e->shape[1], err);
        if (rc == -2)
            lg_fail(err, "%s: tensor %s is missing", path, name);
        if (rc < 0)
            goto fail;
        used++;
    }
    const int64_t V = m->cfg.vocab_size, C = m->cfg.hidden_size;
    char peft_embed[160], peft_head[160], module[64];
    peft_vocab_name(&m->cfg, 0, peft_embed, sizeof peft_embed);
    peft_vocab_name(&m->cfg, 1, peft_head, sizeof peft_head);
    if (cfg.save_embed_tokens) {
        int rc = load_full(st, peft_embed, m->p.embed, V, C, err);
        vocab_module(&m->cfg, 0, module, sizeof module);
        if (rc == -2)
            lg_fail(err, "%s: modules_to_save names %s but %s is missing", path, module,
                    peft_embed);
        if (rc < 0)
            goto fail;
        used++;
    }
    if (cfg.save_lm_head) {
        int rc = load_full(st, peft_head, m->p.lm_head, V, C, err);
        if (rc == -2)
            lg_fail(err, "%s: modules_to_save names lm_head but %s is missing", path, peft_head);
        if (rc < 0)
            goto fail;
        used++;
    }
    if (used != lg_st_count(st)) {
        for (int i = 0; i < lg_st_count(st); i++) {
            const char *n = lg_st_tensor(st, i)->name;
            const char *inner = strncmp(n, PEFT_PREFIX, strlen(PEFT_PREFIX)) ? n : n + strlen(PEFT_PREFIX);
            if (!lg_lora_find(l, inner) && strcmp(n, peft_embed) && strcmp(n, peft_head)) {
                lg_fail(err, "%s: unexpected tensor %s (not in adapter_config.json)", path, n);
                goto fail;
            }
        }
    }
    lg_st_close(st);
    if (m->lora) {
        lg_fail(err, "%s: the model already has a LoRA adapter", dir);
        lg_lora_free(l);
        return NULL;
    }
    m->lora = l;
    return l;
fail:
    lg_st_close(st);
    lg_lora_free(l);
    return NULL;
}

static int write_peft_config(const char *path, const lg_config *c, const lg_lora_config *cfg,
                             const char *base, lg_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "peft_type", "LORA");
    cJSON_AddStringToObject(j, "task_type", "CAUSAL_LM");
    cJSON_AddStringToObject(j, "base_model_name_or_path", base ? base : "");
    cJSON_AddNumberToObject(j, "r", cfg->rank);
    cJSON_AddNumberToObject(j, "lora_alpha", cfg->alpha);
    cJSON_AddNumberToObject(j, "lora_dropout", 0.0);
    cJSON_AddBoolToObject(j, "use_rslora", cfg->use_rslora);
    cJSON_AddBoolToObject(j, "use_dora", 0);
    cJSON_AddBoolToObject(j, "fan_in_fan_out", lg_arch_get(c->arch)->roles[LG_ROLE_Q].in_out);
    cJSON_AddStringToObject(j, "bias", "none");
    cJSON_AddBoolToObject(j, "inference_mode", 1);
    cJSON_AddBoolToObject(j, "init_lora_weights", 1);
    cJSON *targets = cJSON_AddArrayToObject(j, "target_modules");
    char name[128];
    for (int t = 0; t < LG_LORA_NTARGETS; t++)
        if (cfg->target_mask & (1u << t)) {
            peft_target_name(c, (lg_lora_target)t, name, sizeof name);
            cJSON_AddItemToArray(targets, cJSON_CreateString(name));
        }
    if (cfg->save_embed_tokens || cfg->save_lm_head) {
        cJSON *mods = cJSON_AddArrayToObject(j, "modules_to_save");
        vocab_module(c, 0, name, sizeof name);
        if (cfg->save_embed_tokens)
            cJSON_AddItemToArray(mods, cJSON_CreateString(name));
        vocab_module(c, 1, name, sizeof name);
        if (cfg->save_lm_head)
            cJSON_AddItemToArray(mods, cJSON_CreateString(name));
    } else {
        cJSON_AddNullToObject(j, "modules_to_save");
    }
    int rc = lg_json_write(path, j, err);
    cJSON_Delete(j);
    return rc;
}

int lg_lora_save_peft(const lg_model *m, const char *dir, const char *base_model_name, lg_error *err)
{
    const lg_lora *l = m->lora;
    if (!l)
        return lg_fail(err, "%s: the model has no LoRA adapter to save", dir);
    lg_atomic_dir d;
    if (lg_atomic_dir_begin(&d, dir, 0, err) < 0)
        return -1;
    char path[4200];
    lg_st_writer *w = lg_st_writer_new();
    int rc = -1;
    char **owned = calloc((size_t)l->n_entries, sizeof *owned);
    for (int i = 0; owned && i < l->n_entries; i++) {
        const lg_param_entry *e = &l->entries[i];
        size_t n = strlen(PEFT_PREFIX) + strlen(e->name) + 1;
        owned[i] = malloc(n);
        snprintf(owned[i], n, PEFT_PREFIX "%s", e->name);
        if (lg_st_writer_add(w, owned[i], LG_DT_F32, 2, e->shape, e->param, err) < 0)
            goto done;
    }
    const int64_t shape[2] = {m->cfg.vocab_size, m->cfg.hidden_size};
    char peft_embed[160], peft_head[160];
    peft_vocab_name(&m->cfg, 0, peft_embed, sizeof peft_embed);
    peft_vocab_name(&m->cfg, 1, peft_head, sizeof peft_head);
    if (l->cfg.save_embed_tokens &&
        lg_st_writer_add(w, peft_embed, LG_DT_F32, 2, shape, m->p.embed, err) < 0)
        goto done;
    if (l->cfg.save_lm_head &&
        lg_st_writer_add(w, peft_head, LG_DT_F32, 2, shape, m->p.lm_head, err) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", d.tmp);
    if (lg_st_writer_write(w, path, err) < 0)
        goto done;
    snprintf(path, sizeof path, "%s/adapter_config.json", d.tmp);
    if (write_peft_config(path, &m->cfg, &l->cfg, base_model_name, err) < 0)
        goto done;
    rc = lg_atomic_dir_commit(&d, err);
done:
    lg_st_writer_free(w);
    for (int i = 0; owned && i < l->n_entries; i++)
        free(owned[i]);
    free(owned);
    if (rc < 0)
        lg_atomic_dir_abort(&d);
    return rc;
}
