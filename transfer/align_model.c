/* One alignment direction: EM for IBM Model 1 and fast_align's diagonal Model 2. */
#include "align_model.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lg_dist.h"
#include "pair_map.h"

/* A translation probability for a pair the beam pruned away: small but not zero, so a
 * position whose every candidate was pruned still has a defined posterior. */
#define PRUNED_PROB 1e-9

int align_model_init(align_model *am, const align_view *v, lg_error *err)
{
    memset(am, 0, sizeof *am);
    am->v = *v;
    am->k1 = v->n_pairs;
    pair_map sizes;
    if (pair_map_init(&sizes, 1024, err) < 0)
        return -1;
    int max_len = 0;
    for (int64_t k = 0; k < v->n_pairs; k++) {
        int m = (int)(v->gen_off[k + 1] - v->gen_off[k]);
        int n = (int)(v->cond_off[k + 1] - v->cond_off[k]);
        if (n > max_len)
            max_len = n;
        am->gen_tokens += m;
        if (m > 0 && n > 0 && pair_map_add(&sizes, pair_key((uint32_t)m, (uint32_t)n), 1.0, err) < 0) {
            pair_map_free(&sizes);
            return -1;
        }
    }
    am->max_len = max_len + 1;
    uint64_t *keys;
    double *counts;
    int64_t nc = pair_map_sorted(&sizes, &keys, &counts, err);
    pair_map_free(&sizes);
    if (nc < 0)
        return -1;
    am->n_classes = nc;
    am->class_m = malloc((size_t)nc * sizeof *am->class_m + 1);
    am->class_n = malloc((size_t)nc * sizeof *am->class_n + 1);
    if (!am->class_m || !am->class_n) {
        free(keys);
        free(counts);
        align_model_free(am);
        return lg_fail(err, "out of memory");
    }
    for (int64_t c = 0; c < nc; c++) {
        am->class_m[c] = (int32_t)(keys[c] >> 32);
        am->class_n[c] = (int32_t)(keys[c] & 0xffffffffu);
    }
    free(keys);
    am->class_count = counts;
    return 0;
}

void align_model_free(align_model *am)
{
    ttable_free(&am->t);
    free(am->cache_off);
    free(am->cache);
    free(am->class_m);
    free(am->class_n);
    free(am->class_count);
    memset(am, 0, sizeof *am);
}

/* Unnormalised diagonal weights w[j] = exp(-tension * |i/m - (j+1)/n|) for 1-based gen
 * position i over the n cond positions; returns their sum Z, and Σ h_j w_j in *dsum
 * (h_j = -|i/m - (j+1)/n|) when dsum is not NULL.  Three exps a row: going away from the
 * diagonal each step multiplies the weight by exp(-tension / n). */
static double diagonal_row(int i, int m, int n, double tension, double *w, double *dsum)
{
    double x = (double)i / m;
    int split = (int)floor(x * n); /* positions 1..split lie at or before the diagonal */
    if (split > n)
        split = n;
    double step = exp(-tension / n);
    double z = 0;
    if (split >= 1) {
        double v = exp(-tension * (x - (double)split / n));
        for (int j = split; j >= 1; j--) {
            w[j - 1] = v;
            z += v;
            v *= step;
        }
    }
    if (split < n) {
        double v = exp(-tension * ((double)(split + 1) / n - x));
        for (int j = split + 1; j <= n; j++) {
            w[j - 1] = v;
            z += v;
            v *= step;
        }
    }
    if (dsum) {
        double d = 0;
        for (int j = 1; j <= n; j++)
            d -= fabs(x - (double)j / n) * w[j - 1];
        *dsum = d;
    }
    return z;
}

/* Row i's priors: the null word's, and the factor of each conditioning word (times w[j],
 * which the diagonal model fills). */
static void row_priors(const align_model *am, int m, int n, int i, double *w, double *prior_null,
                       double *prior_scale)
{
    if (am->diagonal) {
        double z = diagonal_row(i + 1, m, n, am->tension, w, NULL);
        *prior_null = am->p_null;
        *prior_scale = (1.0 - am->p_null) / z;
    } else {
        *prior_null = 1.0 / (n + 1);
        *prior_scale = *prior_null;
    }
}

/* Scales post[0..n] to sum to 1; returns the sum before. */
static double normalise(double *post, int n)
{
    double sum = 0;
    for (int j = 0; j <= n; j++)
        sum += post[j];
    double inv = 1.0 / sum;
    for (int j = 0; j <= n; j++)
        post[j] *= inv;
    return sum;
}

double align_row_posterior(const align_model *am, const int32_t *gen, int m, const int32_t *cond,
                           int n, int i, double *w, double *post, int64_t *idx)
{
    const ttable *t = &am->t;
    int32_t g = gen[i];
    double prior_null, prior_scale;
    row_priors(am, m, n, i, w, &prior_null, &prior_scale);
    idx[0] = ttable_find(t, 0, g);
    post[0] = (idx[0] >= 0 ? t->prob[idx[0]] : PRUNED_PROB) * prior_null;
    for (int j = 0; j < n; j++) {
        int64_t k = ttable_find(t, cond[j] + 1, g);
        idx[j + 1] = k;
        double p = (k >= 0 ? t->prob[k] : PRUNED_PROB) * prior_scale;
        post[j + 1] = am->diagonal ? p * w[j] : p;
    }
    return normalise(post, n);
}

double align_row_posterior_at(const align_model *am, int m, int n, int i, double *w,
                              double *post, const int32_t *idx)
{
    const float *prob = am->t.prob;
    double prior_null, prior_scale;
    row_priors(am, m, n, i, w, &prior_null, &prior_scale);
    post[0] = (idx[0] >= 0 ? prob[idx[0]] : PRUNED_PROB) * prior_null;
    for (int j = 0; j < n; j++) {
        double p = (idx[j + 1] >= 0 ? prob[idx[j + 1]] : PRUNED_PROB) * prior_scale;
        post[j + 1] = am->diagonal ? p * w[j] : p;
    }
    return normalise(post, n);
}

/* Fills the entry cache when it fits the limit (see align_model.h). */
static int build_cache(align_model *am, int threads, lg_error *err)
{
    const align_view *v = &am->v;
    const int64_t k0 = am->k0, np = am->k1 - am->k0; /* this process's pairs */
    if (am->cache_limit <= 0 || am->t.nnz > INT32_MAX)
        return 0;
    int64_t total = 0;
    for (int64_t k = k0; k < am->k1; k++) {
        total += (v->gen_off[k + 1] - v->gen_off[k]) * (v->cond_off[k + 1] - v->cond_off[k] + 1);
        if (total > am->cache_limit)
            return 0;
    }
    am->cache_off = malloc(((size_t)np + 1) * sizeof *am->cache_off);
    am->cache = malloc((size_t)total * sizeof *am->cache + 1);
    if (!am->cache_off || !am->cache) {
        free(am->cache_off);
        free(am->cache);
        am->cache_off = NULL;
        am->cache = NULL;
        (void)err;
        return 0; /* not fatal: search each time */
    }
    am->cache_off[0] = 0;
    for (int64_t q = 0; q < np; q++) {
        int64_t k = k0 + q;
        am->cache_off[q + 1] = am->cache_off[q] + (v->gen_off[k + 1] - v->gen_off[k]) *
                                                  (v->cond_off[k + 1] - v->cond_off[k] + 1);
    }
    #pragma omp parallel for schedule(dynamic, 256) num_threads(threads)
    for (int64_t k = k0; k < am->k1; k++) {
        const int32_t *gen = v->gen_tok + v->gen_off[k], *cond = v->cond_tok + v->cond_off[k];
        int m = (int)(v->gen_off[k + 1] - v->gen_off[k]);
        int n = (int)(v->cond_off[k + 1] - v->cond_off[k]);
        int32_t *c = am->cache + am->cache_off[k - k0];
        for (int i = 0; i < m; i++, c += n + 1) {
            c[0] = (int32_t)ttable_find(&am->t, 0, gen[i]);
            for (int j = 0; j < n; j++)
                c[j + 1] = (int32_t)ttable_find(&am->t, cond[j] + 1, gen[i]);
        }
    }
    return 0;
}

/* Σ over the corpus's (m, n) classes and rows of the prior's mean E[h] and variance Var[h]
 * of the diagonal feature h = -|i/m - j/n| at a tension; per-class results are summed in
 * class order, so the threads do not change the sums. */
static void prior_moments(const align_model *am, double tension, int threads, double *per_class,
                          double *mean_out, double *var_out)
{
    #pragma omp parallel num_threads(threads)
    {
        int max_n = 1;
        for (int64_t c = 0; c < am->n_classes; c++)
            if (am->class_n[c] > max_n)
                max_n = am->class_n[c];
        double *w = malloc((size_t)max_n * sizeof *w);
        #pragma omp for schedule(dynamic, 64)
        for (int64_t c = 0; c < am->n_classes; c++) {
            int m = am->class_m[c], n = am->class_n[c];
            double mean = 0, var = 0;
            for (int i = 1; w && i <= m; i++) {
                double d;
                double z = diagonal_row(i, m, n, tension, w, &d);
                double x = (double)i / m, mu = d / z, sq = 0;
                for (int j = 1; j <= n; j++) {
                    double h = -fabs(x - (double)j / n) - mu;
                    sq += h * h * w[j - 1];
                }
                mean += mu;
                var += sq / z;
            }
            per_class[2 * c] = am->class_count[c] * mean;
            per_class[2 * c + 1] = am->class_count[c] * var;
        }
        free(w);
    }
    double mean = 0, var = 0;
    for (int64_t c = 0; c < am->n_classes; c++) {
        mean += per_class[2 * c];
        var += per_class[2 * c + 1];
    }
    *mean_out = mean;
    *var_out = var;
}

/* The tension's M-step: the expected diagonal feature under the posteriors must equal its
 * expectation under the prior.  Like fast_align we take the prior's expectation over the
 * corpus's (m, n) classes rather than per position, but weight it by the fraction of mass
 * that is not on NULL (fast_align assumes 1), and solve the condition f(t) = emp - frac * E_t[h]
 * = 0 exactly: f decreases with t (its derivative is -frac * Var_t[h]), so Newton steps from
 * the current tension, kept inside a shrinking bracket, converge in a few evaluations.  The
 * result is clamped to [0.1, 14] as fast_align's is. */
static double solve_tension(const align_model *am, double emp_feat, double nonnull_mass,
                            int threads)
{
    double frac = am->gen_tokens > 0 ? nonnull_mass / (double)am->gen_tokens : 0;
    double *per_class = malloc((size_t)am->n_classes * 2 * sizeof *per_class);
    if (!per_class)
        return am->tension; /* keep the old tension rather than fail the run */
    double lo = 0.1, hi = 14.0, t = am->tension;
    if (t < lo || t > hi)
        t = 4.0;
    int have_lo = 0, have_hi = 0; /* whether f's sign at the bounds is known */
    for (int it = 0; it < 60; it++) {
        double mean, var;
        prior_moments(am, t, threads, per_class, &mean, &var);
        double f = emp_feat - frac * mean, fp = -frac * var;
        if (f > 0) {
            lo = t;
            have_lo = 1;
        } else {
            hi = t;
            have_hi = 1;
        }
        if (hi - lo < 1e-6)
            break;
        double next = fp < 0 ? t - f / fp : 0.5 * (lo + hi);
        if (fabs(next - t) < 1e-7)
            break;
        if (next <= lo || next >= hi) {
            /* a step out of the bracket: try the bound itself once, then bisect */
            if (next >= hi && !have_hi)
                next = hi;
            else if (next <= lo && !have_lo)
                next = lo;
            else
                next = 0.5 * (lo + hi);
            if (next == t)
                break;
        }
        t = next;
    }
    free(per_class);
    return t;
}

void align_split(const lg_parallel *pc, int workers, int64_t *bounds)
{
    double total = 0;
    for (int64_t k = 0; k < pc->n_pairs; k++)
        total += (double)(pc->src_off[k + 1] - pc->src_off[k] + 1) *
                 (double)(pc->tgt_off[k + 1] - pc->tgt_off[k] + 1);
    bounds[0] = 0;
    double done = 0;
    int w = 1;
    for (int64_t k = 0; k < pc->n_pairs && w < workers; k++) {
        done += (double)(pc->src_off[k + 1] - pc->src_off[k] + 1) *
                (double)(pc->tgt_off[k + 1] - pc->tgt_off[k] + 1);
        while (w < workers && done >= total * w / workers)
            bounds[w++] = k + 1;
    }
    while (w <= workers)
        bounds[w++] = pc->n_pairs;
}

/* The pairs of this process's worker w (0 .. threads - 1). */
static void worker_range(const align_model *am, int w, int threads, int64_t *begin, int64_t *end)
{
    if (am->bounds) {
        *begin = am->bounds[am->first_worker + w];
        *end = am->bounds[am->first_worker + w + 1];
    } else {
        *begin = am->v.n_pairs * w / threads;
        *end = am->v.n_pairs * (w + 1) / threads;
    }
}

int align_model_iterate(align_model *am, int threads, int optimize_tension, double beam,
                        lg_progress *progress, double *loglik, lg_error *err)
{
    const align_view *v = &am->v;
    if (threads < 1)
        threads = 1;
    if (!am->cache && !am->cache_tried) {
        am->cache_tried = 1;
        if (build_cache(am, threads, err) < 0)
            return -1;
    }
    int64_t nnz = am->t.nnz;
    /* one table of fixed-point counts a worker (thread), then their sum */
    int64_t **counts = calloc((size_t)threads, sizeof *counts);
    double *part_ll = calloc((size_t)threads, sizeof *part_ll);
    int64_t *part = calloc((size_t)threads * 2, sizeof *part); /* emp, nonnull a worker */
    int failed = !counts || !part || !part_ll;
    for (int th = 0; th < threads && !failed; th++) {
        counts[th] = calloc((size_t)nnz + 1, sizeof **counts);
        failed = !counts[th];
    }
    if (failed) {
        if (counts)
            for (int th = 0; th < threads; th++)
                free(counts[th]);
        free(counts);
        free(part);
        free(part_ll);
        return lg_fail(err, "out of memory for expected counts (%lld entries x %d threads)",
                       (long long)nnz, threads);
    }
    const int64_t n_here = am->k1 - am->k0;
    int alloc_failed = 0;
    #pragma omp parallel num_threads(threads)
    {
        int th = omp_get_thread_num(), nth = omp_get_num_threads();
        double *w = malloc((size_t)am->max_len * sizeof *w);
        double *post = malloc((size_t)am->max_len * sizeof *post);
        int64_t *idx = malloc((size_t)am->max_len * sizeof *idx);
        if (!w || !post || !idx) {
            #pragma omp atomic write
            alloc_failed = 1;
        }
        /* worker wk's pairs are a contiguous block balanced by work (align_split); with
         * fewer threads than asked for, a thread runs several workers */
        for (int wk = th; wk < threads && w && post && idx; wk += nth) {
            int64_t begin, end;
            worker_range(am, wk, threads, &begin, &end);
            int64_t *cnt = counts[wk];
            double ll = 0;
            int64_t emp = 0, nonnull = 0;
            for (int64_t k = begin; k < end; k++) {
                const int32_t *gen = v->gen_tok + v->gen_off[k], *cond = v->cond_tok + v->cond_off[k];
                int m = (int)(v->gen_off[k + 1] - v->gen_off[k]);
                int n = (int)(v->cond_off[k + 1] - v->cond_off[k]);
                const int32_t *cached = am->cache ? am->cache + am->cache_off[k - am->k0] : NULL;
                for (int i = 0; i < m; i++) {
                    double sum;
                    if (cached) {
                        const int32_t *ci = cached + (size_t)i * (n + 1);
                        sum = align_row_posterior_at(am, m, n, i, w, post, ci);
                        for (int j = 0; j <= n; j++)
                            idx[j] = ci[j];
                    } else {
                        sum = align_row_posterior(am, gen, m, cond, n, i, w, post, idx);
                    }
                    ll += log(sum);
                    if (idx[0] >= 0)
                        cnt[idx[0]] += align_fixed(post[0]);
                    double x = (double)(i + 1) / m, row_emp = 0, row_nonnull = 0;
                    for (int j = 1; j <= n; j++) {
                        if (idx[j] >= 0)
                            cnt[idx[j]] += align_fixed(post[j]);
                        row_emp += fabs(x - (double)j / n) * post[j];
                        row_nonnull += post[j];
                    }
                    emp -= align_fixed(row_emp);
                    nonnull += align_fixed(row_nonnull);
                }
                if (th == 0 && progress && ((k - begin) & 255) == 0)
                    lg_progress_update(progress, (k - begin) * threads * v->n_pairs /
                                                     (n_here > 0 ? n_here : 1),
                                       "%s", am->diagonal ? "model 2" : "model 1");
            }
            part_ll[wk] = ll;
            part[2 * wk] = emp;
            part[2 * wk + 1] = nonnull;
        }
        free(w);
        free(post);
        free(idx);
    }
    if (alloc_failed) {
        for (int th = 0; th < threads; th++)
            free(counts[th]);
        free(counts);
        free(part);
        free(part_ll);
        return lg_fail(err, "out of memory for alignment buffers");
    }
    double ll = 0;
    int64_t sums[2] = {0, 0};
    for (int th = 0; th < threads; th++) {
        ll += part_ll[th];
        sums[0] += part[2 * th];
        sums[1] += part[2 * th + 1];
    }
    int64_t *total = counts[0];
    if (threads > 1) {
        #pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t e = 0; e < nnz; e++)
            for (int th = 1; th < threads; th++)
                total[e] += counts[th][e];
    }
    for (int th = 1; th < threads; th++)
        free(counts[th]);
    free(part);
    free(part_ll);
    /* the ranks of an MPI job: every rank gets the same sums (integers: exact) */
    if (lg_dist_sum_i64(total, (size_t)nnz, "expected counts", err) < 0 ||
        lg_dist_sum_i64(sums, 2, "diagonal statistics", err) < 0 ||
        lg_dist_sum_f64(&ll, 1, "log-likelihood", err) < 0) {
        free(total);
        free(counts);
        return -1;
    }
    const double emp = (double)sums[0] / ALIGN_FIXED_ONE, nonnull = (double)sums[1] / ALIGN_FIXED_ONE;
    if (progress)
        lg_progress_update(progress, v->n_pairs, "%s", am->diagonal ? "model 2" : "model 1");
    *loglik = ll;

    if (am->diagonal && optimize_tension && am->n_classes > 0)
        am->tension = solve_tension(am, emp, nonnull, threads);
    ttable_normalize_fixed(&am->t, total);
    free(total);
    free(counts);
    if (beam > 0) {
        int32_t *remap = NULL;
        if (am->cache && !(remap = malloc((size_t)am->t.nnz * sizeof *remap + 1)))
            return lg_fail(err, "out of memory pruning the translation table");
        if (ttable_prune(&am->t, beam, remap, err) < 0) {
            free(remap);
            return -1;
        }
        if (remap) {
            int64_t total = am->cache_off[am->k1 - am->k0];
            #pragma omp parallel for schedule(static) num_threads(threads)
            for (int64_t e = 0; e < total; e++)
                if (am->cache[e] >= 0)
                    am->cache[e] = remap[am->cache[e]];
            free(remap);
        }
    }
    return 0;
}
