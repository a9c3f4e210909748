/* Choosing the next token from logits: greedy, temperature, top-k, top-p (nucleus), with
 * the project's seeded generator (lg_rng.h) so a seed means the same tokens everywhere. */
#include "lg_generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- sampler ---- */

lg_sampler *lg_sampler_create(int V, const lg_sampling *opt, uint64_t seed, lg_error *err)
{
    if (V <= 0) {
        lg_fail(err, "sampler: vocabulary of %d tokens", V);
        return NULL;
    }
    if (!(opt->temperature >= 0) || !isfinite(opt->temperature)) {
        lg_fail(err, "temperature %g: must be 0 (greedy) or positive", opt->temperature);
        return NULL;
    }
    if (opt->top_k < 0) {
        lg_fail(err, "top-k %d: must be 0 (off) or positive", opt->top_k);
        return NULL;
    }
    if (!(opt->top_p > 0 && opt->top_p <= 1)) {
        lg_fail(err, "top-p %g: must be in (0, 1]", opt->top_p);
        return NULL;
    }
    lg_sampler *s = calloc(1, sizeof *s);
    if (!s || !(s->cand = malloc((size_t)V * sizeof *s->cand))) {
        free(s);
        lg_fail(err, "out of memory for a sampler over %d tokens", V);
        return NULL;
    }
    s->opt = *opt;
    s->V = V;
    lg_rng_seed(&s->rng, seed);
    return s;
}

void lg_sampler_free(lg_sampler *s)
{
    if (!s)
        return;
    free(s->cand);
    free(s);
}

int32_t lg_argmax(const float *logits, int V)
{
    int32_t best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

/* 1 when every logit is a finite number: NaN or an infinity leaves nothing to draw from
 * (softmax and argmax over them are meaningless). */
static int all_finite(const float *logits, int V)
{
    uint32_t bad = 0;
    for (int i = 0; i < V; i++) {
        uint32_t u;
        memcpy(&u, &logits[i], 4);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    return !bad;
}

static int greedy(const lg_sampling *o)
{
    return o->temperature == 0 || o->top_k == 1;
}

/* cand[i] = {i, softmax(logits / temperature)[i]} (sum in double for large vocabularies) */
static void softmax_candidates(lg_sampler *s, const float *logits)
{
    const int V = s->V;
    const float mx = logits[lg_argmax(logits, V)];
    const double inv_t = 1.0 / s->opt.temperature;
    double sum = 0;
    for (int i = 0; i < V; i++) {
        double e = exp(((double)logits[i] - mx) * inv_t);
        s->cand[i].id = i;
        s->cand[i].prob = (float)e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < V; i++)
        s->cand[i].prob *= inv;
}

static int by_falling_prob(const void *a, const void *b)
{
    const lg_candidate *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob < y->prob ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

static void renormalise(lg_candidate *c, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += c[i].prob;
    for (int i = 0; i < n; i++)
        c[i].prob = (float)(c[i].prob / sum);
}

int lg_sampler_distribution(lg_sampler *s, const float *logits)
{
    const lg_sampling *o = &s->opt;
    if (!all_finite(logits, s->V))
        return 0;
    if (greedy(o)) {
        s->cand[0].id = lg_argmax(logits, s->V);
        s->cand[0].prob = 1;
        return 1;
    }
    softmax_candidates(s, logits);
    int n = s->V;
    if (o->top_k == 0 && o->top_p < 1 && n > 1) {
        /* Nucleus alone: a token below (1-p)/(V-1) can never be needed to reach mass p
         * (it and everything after it sum to at most (V-1)·q < 1-p), so leave it out of
         * the sort, which otherwise dominates for large vocabularies. */
        const float cutoff = (float)((1.0 - o->top_p) / (n - 1));
        int kept = 0, best = 0;
        for (int i = 0; i < n; i++) {
            if (s->cand[i].prob > s->cand[best].prob)
                best = i;
            if (s->cand[i].prob >= cutoff)
                s->cand[kept++] = s->cand[i];
        }
        /* the most probable token is always in the nucleus, even when p is below 1/V and a
         * flat distribution leaves every token under the cutoff */
        if (kept == 0)
            s->cand[kept++] = s->cand[best];
        n = kept;
    }
    qsort(s->cand, (size_t)n, sizeof *s->cand, by_falling_prob);
    if (o->top_k > 0 && o->top_k < n) {
        n = o->top_k;
        renormalise(s->cand, n);
    }
    if (o->top_p < 1) {
        /* keep token i while the mass before it is below p: the smallest set reaching p */
        double mass = 0;
        int kept = 0;
        while (kept < n && mass < o->top_p)
            mass += s->cand[kept++].prob;
        n = kept;
    }
    renormalise(s->cand, n);
    return n;
}

int32_t lg_sample(lg_sampler *s, const float *logits)
{
    const lg_sampling *o = &s->opt;
    if (!all_finite(logits, s->V))
        return -1;
    if (greedy(o))
        return lg_argmax(logits, s->V);
    int n;
    if (o->top_k == 0 && o->top_p >= 1) {
        softmax_candidates(s, logits); /* no truncation: no need to sort */
        n = s->V;
    } else {
        n = lg_sampler_distribution(s, logits);
    }
    if (n < 1)
        return -1;
    const float u = lg_rng_float(&s->rng);
    float cdf = 0;
    for (int i = 0; i < n; i++) {
        cdf += s->cand[i].prob;
        if (u < cdf)
            return s->cand[i].id;
    }
    return s->cand[n - 1].id; /* rounding left cdf just below u */
}
