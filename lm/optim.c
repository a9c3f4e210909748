/* AdamW as torch.optim.AdamW (decoupled weight decay), global-norm clipping, and the
 * warmup + cosine schedule. */
#include "lg_optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lg_adamw_hparams lg_adamw_defaults(void)
{
    return (lg_adamw_hparams){.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
}

int lg_param_group(const lg_param_entry *e)
{
    if (!strcmp(e->name, "model.embed_tokens.weight") || !strcmp(e->name, "lm_head.weight") ||
        !strcmp(e->name, "transformer.wte.weight"))    /* GPT-2's token embeddings */
        return LG_GROUP_EMBED;
    return LG_GROUP_BODY;
}

int lg_adamw_init(lg_adamw *opt, lg_param_entry **entries, int n, lg_adamw_hparams h,
                  size_t embed_row_from, lg_error *err)
{
    memset(opt, 0, sizeof *opt);
    opt->h = h;
    opt->slots = calloc((size_t)(n > 0 ? n : 1), sizeof *opt->slots);
    if (!opt->slots)
        return lg_fail(err, "out of memory for the optimizer");
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        lg_param_entry *e = entries[i];
        lg_adamw_slot *s = &opt->slots[i];
        if (!e->grad) {
            lg_adamw_free(opt);
            return lg_fail(err, "optimizer: %s has no gradient", e->name);
        }
        s->entry = e;
        s->group = lg_param_group(e);
        if (s->group == LG_GROUP_EMBED && embed_row_from > 0) {
            if (e->ndim != 2 || embed_row_from >= (size_t)e->shape[0]) {
                lg_adamw_free(opt);
                return lg_fail(err, "optimizer: first trained row %zu is not inside %s (%lld rows)",
                               embed_row_from, e->name, (long long)e->shape[0]);
            }
            s->row_from = embed_row_from;
            s->offset = embed_row_from * (size_t)e->shape[1];
        }
        total += e->numel - s->offset;
    }
    opt->n_slots = n;
    opt->n_state = total;
    opt->m_mem = calloc(total ? total : 1, sizeof(float));
    opt->v_mem = calloc(total ? total : 1, sizeof(float));
    if (!opt->m_mem || !opt->v_mem) {
        lg_adamw_free(opt);
        return lg_fail(err, "out of memory for the optimizer's moments (%zu floats)", total);
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        lg_adamw_slot *s = &opt->slots[i];
        s->m = opt->m_mem + at;
        s->v = opt->v_mem + at;
        at += s->entry->numel - s->offset;
    }
    return 0;
}

void lg_adamw_free(lg_adamw *opt)
{
    free(opt->slots);
    free(opt->m_mem);
    free(opt->v_mem);
    memset(opt, 0, sizeof *opt);
}

/* Partial sums over a fixed number of chunks, added in order: the same result for any
 * thread count. */
#define NORM_CHUNKS 64

double lg_adamw_grad_norm(const lg_adamw *opt)
{
    double total = 0;
    for (int i = 0; i < opt->n_slots; i++) {
        const lg_adamw_slot *s = &opt->slots[i];
        const float *g = s->entry->grad + s->offset;
        const size_t n = s->entry->numel - s->offset;
        double part[NORM_CHUNKS];
#pragma omp parallel for schedule(static)
        for (int c = 0; c < NORM_CHUNKS; c++) {
            size_t lo = n * (size_t)c / NORM_CHUNKS, hi = n * (size_t)(c + 1) / NORM_CHUNKS;
            double acc = 0;
            for (size_t j = lo; j < hi; j++)
                acc += (double)g[j] * g[j];
            part[c] = acc;
        }
        for (int c = 0; c < NORM_CHUNKS; c++)
            total += part[c];
    }
    return sqrt(total);
}

double lg_adamw_clip(lg_adamw *opt, double max_norm)
{
    double norm = lg_adamw_grad_norm(opt);
    if (max_norm <= 0)
        return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef >= 1.0)
        return norm;
    const float fc = (float)coef;
    for (int i = 0; i < opt->n_slots; i++) {
        lg_adamw_slot *s = &opt->slots[i];
        float *g = s->entry->grad + s->offset;
        const long n = (long)(s->entry->numel - s->offset);
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++)
            g[j] *= fc;
    }
    return norm;
}

void lg_adamw_step(lg_adamw *opt, const float group_lr[LG_N_GROUPS])
{
    const lg_adamw_hparams h = opt->h;
    opt->step++;
    /* torch.optim.AdamW (single-tensor path):
     *   p ← p (1 − lr·wd);  m ← m + (1 − β1)(g − m);  v ← β2 v + (1 − β2) g²
     *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
     * The bias corrections are per step, not per element: computed here once. */
    const double bc1 = 1.0 - pow(h.beta1, (double)opt->step);
    const double bc2 = 1.0 - pow(h.beta2, (double)opt->step);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float b1 = h.beta1, b2 = h.beta2, eps = h.eps;
    for (int i = 0; i < opt->n_slots; i++) {
        lg_adamw_slot *s = &opt->slots[i];
        const float lr = group_lr[s->group];
        const float step_size = (float)(lr / bc1);
        const float keep = s->entry->is_matrix ? 1.0f - lr * h.weight_decay : 1.0f;
        float *p = s->entry->param + s->offset;
        const float *g = s->entry->grad + s->offset;
        float *m = s->m, *v = s->v;
        const long n = (long)(s->entry->numel - s->offset);
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) {
            const float gj = g[j];
            float pj = p[j] * keep;
            float mj = m[j] + (1.0f - b1) * (gj - m[j]);
            float vj = b2 * v[j] + (1.0f - b2) * gj * gj;
            pj -= step_size * mj / (sqrtf(vj) / bc2_sqrt + eps);
            m[j] = mj;
            v[j] = vj;
            p[j] = pj;
        }
    }
}

/* The shape of a slot's moments: the updated rows only. */
static void moment_shape(const lg_adamw_slot *s, int *ndim, int64_t shape[2])
{
    *ndim = s->entry->ndim;
    shape[0] = s->entry->shape[0] - (int64_t)s->row_from;
    shape[1] = s->entry->shape[1];
}

int lg_adamw_save(const lg_adamw *opt, lg_st_writer *w, lg_error *err)
{
    char name[160];
    for (int i = 0; i < opt->n_slots; i++) {
        const lg_adamw_slot *s = &opt->slots[i];
        int ndim;
        int64_t shape[2];
        moment_shape(s, &ndim, shape);
        snprintf(name, sizeof name, "optimizer.exp_avg.%s", s->entry->name);
        if (lg_st_writer_add(w, name, LG_DT_F32, ndim, shape, s->m, err) < 0)
            return -1;
        snprintf(name, sizeof name, "optimizer.exp_avg_sq.%s", s->entry->name);
        if (lg_st_writer_add(w, name, LG_DT_F32, ndim, shape, s->v, err) < 0)
            return -1;
    }
    return 0;
}

static int load_moment(const lg_safetensors *st, const char *path, const char *name, int ndim,
                       const int64_t *shape, float *dst, lg_error *err)
{
    const lg_tensor_info *t = lg_st_find(st, name);
    if (!t)
        return lg_fail(err, "%s: %s is missing (a checkpoint of another run or model?)", path,
                       name);
    if (t->dtype != LG_DT_F32)
        return lg_fail(err, "%s: %s is %s, expected F32", path, name, lg_dtype_name(t->dtype));
    if (lg_tensor_expect_shape(t, ndim, shape, err) < 0)
        return lg_fail_context(err, "%s", path);
    return lg_tensor_to_f32(t, dst, err); /* a NaN moment would poison every later step */
}

int lg_adamw_load(lg_adamw *opt, const lg_safetensors *st, const char *path, lg_error *err)
{
    char name[160];
    int expected = 0;
    for (int i = 0; i < opt->n_slots; i++) {
        const lg_adamw_slot *s = &opt->slots[i];
        int ndim;
        int64_t shape[2];
        moment_shape(s, &ndim, shape);
        snprintf(name, sizeof name, "optimizer.exp_avg.%s", s->entry->name);
        if (load_moment(st, path, name, ndim, shape, s->m, err) < 0)
            return -1;
        snprintf(name, sizeof name, "optimizer.exp_avg_sq.%s", s->entry->name);
        if (load_moment(st, path, name, ndim, shape, s->v, err) < 0)
            return -1;
        expected += 2;
    }
    int present = 0;
    for (int i = 0; i < lg_st_count(st); i++)
        present += !strncmp(lg_st_tensor(st, i)->name, "optimizer.", 10);
    if (present != expected)
        return lg_fail(err, "%s: holds moments of %d tensors, this run trains %d "
                            "(a checkpoint of another training mode?)", path, present / 2,
                       expected / 2);
    return 0;
}

float lg_lr_factor(const lg_lr_schedule *s, long step)
{
    if (step < s->warmup_steps)
        return (float)(step + 1) / (float)s->warmup_steps;
    long span = s->total_steps - s->warmup_steps;
    double p = (double)(step - s->warmup_steps) / (double)(span > 1 ? span : 1);
    if (p > 1)
        p = 1;
    return (float)(s->min_ratio + (1.0 - s->min_ratio) * 0.5 * (1.0 + cos(M_PI * p)));
}
