/* lm check: the model against a Hugging Face reference output. */
#include "lg_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_lora.h"
#include "lg_ops.h"
#include "lg_safetensors.h"

const char *lg_check_group_name(lg_check_group g)
{
    static const char *names[] = {"logits", "loss", "hidden states", "gradients"};
    return names[g];
}

/* A reference gradient name in HF or PEFT form → the parameter's name in lg_model/lg_lora:
 * drops "grad.", the PEFT prefix "base_model.model." and the adapter segments
 * ".default" and ".modules_to_save". */
static void internal_name(const char *ref, char *out, size_t n)
{
    if (!strncmp(ref, "grad.", 5))
        ref += 5;
    if (!strncmp(ref, "base_model.model.", 17))
        ref += 17;
    snprintf(out, n, "%s", ref);
    const char *drop[] = {".modules_to_save", ".default"};
    for (int i = 0; i < 2; i++) {
        char *at = strstr(out, drop[i]);
        if (at)
            memmove(at, at + strlen(drop[i]), strlen(at + strlen(drop[i])) + 1);
    }
}

static const lg_param_entry *find_param(const lg_model *m, const char *name)
{
    const lg_param_entry *e = lg_model_find(m, name);
    return e ? e : lg_lora_find(m->lora, name);
}

/* Gradients exactly for the parameters the reference has gradients of. */
static int alloc_reference_grads(lg_model *m, const lg_safetensors *st, const char *path,
                                 lg_error *err)
{
    int *trainable = calloc((size_t)m->n_entries, sizeof *trainable);
    if (!trainable)
        return lg_fail(err, "out of memory");
    char name[256];
    for (int i = 0; i < lg_st_count(st); i++) {
        const char *ref = lg_st_tensor(st, i)->name;
        if (strncmp(ref, "grad.", 5))
            continue;
        internal_name(ref, name, sizeof name);
        const lg_param_entry *e = lg_model_find(m, name);
        if (e)
            trainable[e - m->entries] = 1;
        else if (!lg_lora_find(m->lora, name)) {
            free(trainable);
            return lg_fail(err, "%s: %s names no parameter of this model%s", path, ref,
                           m->lora ? " or adapter" : " (an adapter's reference needs --adapter)");
        }
    }
    int rc = lg_model_alloc_grads_for(m, trainable, err);
    free(trainable);
    if (rc == 0 && m->lora)
        rc = lg_lora_alloc_grads(m->lora, err);
    return rc;
}

static double rel_error(const float *ours, const float *ref, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ours[i] - ref[i]);
        if (d > diff || isnan(d))
            diff = isnan(d) ? INFINITY : d;
        if (fabs(ref[i]) > scale)
            scale = fabs(ref[i]);
    }
    return scale > 0 ? diff / scale : diff;
}

static void record(lg_check_report *r, lg_check_group g, const char *name, double e)
{
    r->tensors[g]++;
    if (e > r->max_err[g] || r->tensors[g] == 1) {
        r->max_err[g] = e;
        snprintf(r->worst[g], sizeof r->worst[g], "%s", name);
    }
}

/* Loads a reference tensor as floats, checking its element count. */
static float *load_ref(const lg_tensor_info *t, size_t expect, const char *path, lg_error *err)
{
    if ((size_t)t->numel != expect) {
        lg_fail(err, "%s: %s has %lld elements, the model produces %zu", path, t->name,
                (long long)t->numel, expect);
        return NULL;
    }
    float *buf = malloc(expect * sizeof(float));
    if (!buf) {
        lg_fail(err, "out of memory");
        return NULL;
    }
    if (lg_tensor_to_f32(t, buf, err) < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int compare(lg_check_report *r, lg_check_group g, const lg_tensor_info *t,
                   const float *ours, size_t n, const char *path, lg_error *err)
{
    float *ref = load_ref(t, n, path, err);
    if (!ref)
        return -1;
    record(r, g, t->name, rel_error(ours, ref, n));
    free(ref);
    return 0;
}

int32_t *lg_check_read_ids(const lg_tensor_info *t, int vocab_size, const char *path, int *B,
                           int *T, int64_t **ids64_out, lg_error *err)
{
    if (!t || t->ndim != 2) {
        lg_fail(err, "%s: no 2-D input_ids tensor", path);
        return NULL;
    }
    if (t->shape[0] < 1 || t->shape[1] < 1) {
        lg_fail(err, "%s: input_ids has shape [%lld, %lld]: no tokens to run", path,
                (long long)t->shape[0], (long long)t->shape[1]);
        return NULL;
    }
    if (t->numel > INT32_MAX) {
        lg_fail(err, "%s: input_ids has %lld tokens, more than one forward pass takes", path,
                (long long)t->numel);
        return NULL;
    }
    int64_t *ids64 = malloc(sizeof *ids64 * (size_t)t->numel);
    int32_t *ids = malloc(sizeof *ids * (size_t)t->numel);
    if (!ids64 || !ids) {
        lg_fail(err, "out of memory");
        goto fail;
    }
    if (lg_tensor_to_i64(t, ids64, err) < 0) {
        lg_fail_context(err, "%s", path);
        goto fail;
    }
    /* checked in 64 bits: an id of 2^40 must not become id 0 */
    for (int64_t i = 0; i < t->numel; i++) {
        if (ids64[i] < 0 || ids64[i] >= vocab_size) {
            lg_fail(err, "%s: token id %lld at position %lld is outside the vocabulary (%d)", path,
                    (long long)ids64[i], (long long)i, vocab_size);
            goto fail;
        }
        ids[i] = (int32_t)ids64[i];
    }
    *B = (int)t->shape[0];
    *T = (int)t->shape[1];
    if (ids64_out)
        *ids64_out = ids64;
    else
        free(ids64);
    return ids;
fail:
    free(ids64);
    free(ids);
    return NULL;
}

int lg_check_reference(lg_model *m, const char *path, lg_check_report *r, lg_error *err)
{
    memset(r, 0, sizeof *r);
    r->tolerance[LG_GROUP_LOGITS] = 1e-5;
    r->tolerance[LG_GROUP_LOSS] = 1e-5;
    r->tolerance[LG_GROUP_HIDDEN] = 1e-5;
    r->tolerance[LG_GROUP_GRADS] = 1e-4;
    lg_safetensors *st = lg_st_open(path, err);
    if (!st)
        return -1;
    int rc = -1;
    int32_t *ids = NULL, *targets = NULL;
    int B, T;
    if (!(ids = lg_check_read_ids(lg_st_find(st, "input_ids"), m->cfg.vocab_size, path, &B, &T,
                                  NULL, err)))
        goto done;
    const int N = B * T;
    int compared = 0;
    for (int i = 0; i < lg_st_count(st); i++) {
        const char *name = lg_st_tensor(st, i)->name;
        compared += !strcmp(name, "logits") || !strcmp(name, "loss") ||
                    !strncmp(name, "hidden.", 7) || !strncmp(name, "grad.", 5);
    }
    if (!compared) {
        lg_fail(err, "%s: nothing to compare: no logits, loss, hidden.N or grad.* tensor "
                     "beside input_ids", path);
        goto done;
    }
    targets = malloc(sizeof *targets * (size_t)N);
    if (!targets) {
        lg_fail(err, "out of memory");
        goto done;
    }
    lg_shift_targets(targets, ids, B, T);
    if (alloc_reference_grads(m, st, path, err) < 0)
        goto done;
    lg_model_zero_grads(m);
    if (lg_model_forward(m, ids, targets, B, T, err) < 0) {
        lg_fail_context(err, "%s", path);
        goto done;
    }
    const size_t V = m->cfg.vocab_size, C = m->cfg.hidden_size;
    const lg_tensor_info *t;
    if ((t = lg_st_find(st, "logits")) &&
        compare(r, LG_GROUP_LOGITS, t, m->a.logits, (size_t)N * V, path, err) < 0)
        goto done;
    if ((t = lg_st_find(st, "loss"))) {
        float loss = m->last_loss;
        if (compare(r, LG_GROUP_LOSS, t, &loss, 1, path, err) < 0)
            goto done;
    }
    for (int l = 0; l <= m->cfg.n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "hidden.%d", l);
        if ((t = lg_st_find(st, name)) &&
            compare(r, LG_GROUP_HIDDEN, t, lg_model_hidden(m, l), (size_t)N * C, path, err) < 0)
            goto done;
    }
    lg_model_backward(m, ids, 1.0f);
    for (int i = 0; i < lg_st_count(st); i++) {
        t = lg_st_tensor(st, i);
        if (strncmp(t->name, "grad.", 5))
            continue;
        char name[256];
        internal_name(t->name, name, sizeof name);
        const lg_param_entry *e = find_param(m, name);
        if (compare(r, LG_GROUP_GRADS, t, e->grad, e->numel, path, err) < 0)
            goto done;
    }
    int groups = 0;
    for (int g = 0; g < LG_GROUP_COUNT; g++)
        groups += r->tensors[g] > 0;
    if (!groups) { /* e.g. only hidden.N for layers this model does not have */
        lg_fail(err, "%s: nothing compared: none of its tensors matches this model", path);
        goto done;
    }
    r->passed = 1;
    for (int g = 0; g < LG_GROUP_COUNT; g++)
        if (r->tensors[g] && !(r->max_err[g] <= r->tolerance[g]))
            r->passed = 0;
    rc = 0;
done:
    free(ids);
    free(targets);
    lg_st_close(st);
    return rc;
}
