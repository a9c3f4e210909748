/* The aligner: both directions trained, then one pass that symmetrises and collects the
 * expected link counts n(tgt, src) and, when asked, Pharaoh links. */
#include "lg_transfer.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align_model.h"
#include "lg_dist.h"
#include "lg_progress.h"
#include "pair_map.h"

/* Posterior link mass below this is not worth a table entry. */
#define MIN_LINK_MASS 1e-4

void lg_align_opts_default(lg_align_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model1_iters = 5;
    o->model2_iters = 5;
    o->p_null = 0.08;
    o->tension = 4.0;
    o->optimize_tension = 1;
    o->direction = LG_DIR_BOTH;
    o->sym = LG_SYM_POSTERIOR;
    o->beam = 1e-4;
    o->link_threshold = 0.5;
    o->cache_mb = 1024;
}

void lg_align_result_free(lg_align_result *res)
{
    free(res->row);
    free(res->src);
    free(res->count);
    free(res->link_off);
    free(res->link_src);
    free(res->link_tgt);
    memset(res, 0, sizeof *res);
}

double lg_align_row_total(const lg_align_result *res, int32_t tgt)
{
    if (tgt < 0 || tgt >= res->tgt_vocab)
        return 0;
    double s = 0;
    for (int64_t k = res->row[tgt]; k < res->row[tgt + 1]; k++)
        s += res->count[k];
    return s;
}

static int train_direction(align_model *am, const char *name, const lg_align_opts *o,
                           int threads, lg_error *err)
{
    int total = o->model1_iters + o->model2_iters;
    for (int it = 0; it < total; it++) {
        am->diagonal = it >= o->model1_iters;
        char label[64];
        snprintf(label, sizeof label, "align %s %d/%d", name, it + 1, total);
        lg_progress p;
        lg_progress_start(&p, label, am->v.n_pairs);
        p.enabled &= lg_dist_rank() == 0;
        double ll;
        double t0 = lg_now();
        int rc = align_model_iterate(am, threads, o->optimize_tension, o->beam, &p, &ll, err);
        lg_progress_finish(&p);
        if (rc < 0)
            return -1;
        if (o->verbose && lg_dist_rank() == 0)
            fprintf(stderr, "align %s iteration %d (%s): log-likelihood %.6g, perplexity per "
                    "token %.4g, tension %.3f, %lld table entries, %.2f s\n", name, it + 1,
                    am->diagonal ? "model 2" : "model 1", ll,
                    am->gen_tokens ? exp(-ll / (double)am->gen_tokens) : 0.0,
                    am->diagonal ? am->tension : 0.0, (long long)am->t.nnz, lg_now() - t0);
    }
    return 0;
}

/* Per-thread output of the final pass. */
typedef struct {
    pair_map counts;                /* tgt << 32 | src -> expected links */
    int32_t *ls, *lt;               /* links in pair order */
    int64_t n_links, cap_links;
    int failed;
    lg_error err;
} pass_out;

static int push_link(pass_out *po, int i, int j)
{
    if (po->n_links == po->cap_links) {
        int64_t nc = po->cap_links ? po->cap_links * 2 : 4096;
        int32_t *a = realloc(po->ls, (size_t)nc * sizeof *a);
        if (!a)
            return lg_fail(&po->err, "out of memory for links");
        po->ls = a;
        int32_t *b = realloc(po->lt, (size_t)nc * sizeof *b);
        if (!b)
            return lg_fail(&po->err, "out of memory for links");
        po->lt = b;
        po->cap_links = nc;
    }
    po->ls[po->n_links] = i;
    po->lt[po->n_links] = j;
    po->n_links++;
    return 0;
}

/* Links and counts of pair k.  pf: n_tgt x (n_src + 1) forward posteriors (NULL first),
 * pr: n_src x (n_tgt + 1) reverse posteriors; either NULL when not trained. */
static int emit_pair(const lg_align_opts *o, const int32_t *s, int ns, const int32_t *t, int nt,
                     const double *pf, const double *pr, int *fwd, int *rev, unsigned char *grid,
                     int64_t *n_links_k, pass_out *po)
{
    int64_t before = po->n_links;
    int hard = pf && pr && o->sym != LG_SYM_POSTERIOR;
    if (pf)
        for (int j = 0; j < nt; j++) {
            int best = -1;
            double bp = pf[j * (ns + 1)];
            for (int i = 0; i < ns; i++)
                if (pf[j * (ns + 1) + 1 + i] > bp) {
                    bp = pf[j * (ns + 1) + 1 + i];
                    best = i;
                }
            fwd[j] = best;
        }
    if (pr)
        for (int i = 0; i < ns; i++) {
            int best = -1;
            double bp = pr[i * (nt + 1)];
            for (int j = 0; j < nt; j++)
                if (pr[i * (nt + 1) + 1 + j] > bp) {
                    bp = pr[i * (nt + 1) + 1 + j];
                    best = j;
                }
            rev[i] = best;
        }
    if (hard)
        lg_align_symmetrize(o->sym, ns, nt, fwd, rev, grid);
    for (int i = 0; i < ns; i++)
        for (int j = 0; j < nt; j++) {
            double c, link;
            if (hard) {
                c = grid[i * nt + j];
                link = c;
            } else if (pf && pr) {
                c = 0.5 * (pf[j * (ns + 1) + 1 + i] + pr[i * (nt + 1) + 1 + j]);
                link = c >= o->link_threshold;
            } else if (pf) {
                c = pf[j * (ns + 1) + 1 + i];
                link = fwd[j] == i;
            } else {
                c = pr[i * (nt + 1) + 1 + j];
                link = rev[i] == j;
            }
            /* in fixed point (align_model.h): sums exact in any order while below 2^23 */
            if (c >= MIN_LINK_MASS &&
                pair_map_add(&po->counts, pair_key((uint32_t)t[j], (uint32_t)s[i]),
                             (double)align_fixed(c) / ALIGN_FIXED_ONE, &po->err) < 0)
                return -1;
            if (o->want_links && link != 0 && push_link(po, i, j) < 0)
                return -1;
        }
    *n_links_k = po->n_links - before;
    return 0;
}

/* Merges sorted (key, value) lists: b into *a (values of equal keys added). */
static int merge_sorted(uint64_t **ak, double **av, int64_t *an, const uint64_t *bk,
                        const double *bv, int64_t bn, lg_error *err)
{
    uint64_t *k = malloc((size_t)(*an + bn) * sizeof *k + 1);
    double *v = malloc((size_t)(*an + bn) * sizeof *v + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return lg_fail(err, "out of memory merging the ranks' counts");
    }
    int64_t i = 0, j = 0, n = 0;
    while (i < *an || j < bn) {
        if (j >= bn || (i < *an && (*ak)[i] < bk[j])) {
            k[n] = (*ak)[i];
            v[n++] = (*av)[i++];
        } else if (i >= *an || bk[j] < (*ak)[i]) {
            k[n] = bk[j];
            v[n++] = bv[j++];
        } else {
            k[n] = (*ak)[i];
            v[n++] = (*av)[i++] + bv[j++];
        }
    }
    free(*ak);
    free(*av);
    *ak = k;
    *av = v;
    *an = n;
    return 0;
}

/* The ranks of an MPI job: rank 0 receives every rank's counts (sorted keys and values) and
 * links (a count for each of its pairs, then the links), in rank order, and merges them into
 * its own; the other ranks send theirs and keep nothing. Pairs [k0, k1) are this rank's. */
static int gather_ranks(int64_t k0, int64_t k1, uint64_t **keys, double **vals, int64_t *n,
                        int64_t *n_links, int32_t **ls, int32_t **lt, int64_t *total_links,
                        int want_links, lg_error *err)
{
    const int64_t nr = want_links ? k1 - k0 : 0, nl = want_links ? *total_links : 0;
    size_t bytes = 3 * sizeof(int64_t) + (size_t)*n * (sizeof **keys + sizeof **vals) +
                   (size_t)nr * sizeof(int64_t) + (size_t)nl * 2 * sizeof(int32_t);
    char *buf = malloc(bytes), *p = buf;
    if (!buf)
        return lg_fail(err, "out of memory sending the alignment counts");
    const int64_t head[3] = {*n, nr, nl};
#define PUT(src, size) (memcpy(p, (src), (size)), p += (size))
    PUT(head, sizeof head);
    PUT(*keys, (size_t)*n * sizeof **keys);
    PUT(*vals, (size_t)*n * sizeof **vals);
    PUT(n_links + k0, (size_t)nr * sizeof(int64_t));
    PUT(*ls, (size_t)nl * sizeof(int32_t));
    PUT(*lt, (size_t)nl * sizeof(int32_t));
#undef PUT
    void *all;
    size_t *sizes;
    int rc = lg_dist_gather(buf, bytes, &all, &sizes, "alignment counts", err);
    free(buf);
    if (rc < 0)
        return -1;
    if (lg_dist_rank() != 0) {
        free(*keys);
        free(*vals);
        *keys = NULL;
        *vals = NULL;
        *n = 0;
        *total_links = 0;
        return 0;
    }
    /* rank 0: its own part again first, then the others' */
    free(*keys);
    free(*vals);
    free(*ls);
    free(*lt);
    *keys = NULL;
    *vals = NULL;
    *ls = NULL;
    *lt = NULL;
    *n = 0;
    int64_t links = 0, at_pair = 0; /* rank 0's pairs start the corpus */
    const char *q = all;
    for (int r = 0; r < lg_dist_size() && rc == 0; q += sizes[r], r++) {
        int64_t h[3];
        memcpy(h, q, sizeof h);
        const char *d = q + sizeof h;
        const uint64_t *rk = (const uint64_t *)d;
        const double *rv = (const double *)(d + (size_t)h[0] * sizeof(uint64_t));
        d += (size_t)h[0] * (sizeof(uint64_t) + sizeof(double));
        rc = merge_sorted(keys, vals, n, rk, rv, h[0], err);
        if (rc < 0 || !want_links)
            continue;
        memcpy(n_links + at_pair, d, (size_t)h[1] * sizeof(int64_t));
        at_pair += h[1];
        d += (size_t)h[1] * sizeof(int64_t);
        int32_t *a = realloc(*ls, (size_t)(links + h[2]) * sizeof *a + 1);
        if (a)
            *ls = a;
        int32_t *b = realloc(*lt, (size_t)(links + h[2]) * sizeof *b + 1);
        if (b)
            *lt = b;
        if (!a || !b) {
            rc = lg_fail(err, "out of memory for links");
            break;
        }
        memcpy(*ls + links, d, (size_t)h[2] * sizeof(int32_t));
        memcpy(*lt + links, d + (size_t)h[2] * sizeof(int32_t), (size_t)h[2] * sizeof(int32_t));
        links += h[2];
    }
    *total_links = links;
    free(all);
    free(sizes);
    return rc;
}

static int final_pass(const lg_parallel *pc, const lg_align_opts *o, int threads,
                      const int64_t *bounds, int first_worker, const align_model *fm,
                      const align_model *rm, lg_align_result *res, lg_error *err)
{
    int max_s = 1, max_t = 1;
    for (int64_t k = 0; k < pc->n_pairs; k++) {
        int ns = (int)(pc->src_off[k + 1] - pc->src_off[k]);
        int nt = (int)(pc->tgt_off[k + 1] - pc->tgt_off[k]);
        if (ns > max_s)
            max_s = ns;
        if (nt > max_t)
            max_t = nt;
    }
    pass_out *outs = calloc((size_t)threads, sizeof *outs);
    int64_t *n_links = calloc((size_t)pc->n_pairs + 1, sizeof *n_links);
    if (!outs || !n_links) {
        free(outs);
        free(n_links);
        return lg_fail(err, "out of memory");
    }
    #pragma omp parallel num_threads(threads)
    {
        int th = omp_get_thread_num(), nth = omp_get_num_threads();
        size_t cells_f = (size_t)max_t * (max_s + 1), cells_r = (size_t)max_s * (max_t + 1);
        int maxl = (max_s > max_t ? max_s : max_t) + 1;
        double *pf = fm ? malloc(cells_f * sizeof *pf) : NULL;
        double *pr = rm ? malloc(cells_r * sizeof *pr) : NULL;
        double *w = malloc((size_t)maxl * sizeof *w);
        int64_t *idx = malloc((size_t)maxl * sizeof *idx);
        int *fwd = malloc((size_t)max_t * sizeof *fwd);
        int *rev = malloc((size_t)max_s * sizeof *rev);
        unsigned char *grid = malloc((size_t)max_s * max_t);
        int ok = !((fm && !pf) || (rm && !pr) || !w || !idx || !fwd || !rev || !grid);
        /* the workers of the E-step (align_split), each with its own counts and links */
        for (int wk = th; wk < threads; wk += nth) {
            pass_out *po = &outs[wk];
            if (!ok || pair_map_init(&po->counts, 1 << 16, &po->err) < 0) {
                po->failed = 1;
                lg_fail(&po->err, "out of memory for the final alignment pass");
                continue;
            }
            int64_t begin = bounds[first_worker + wk], end = bounds[first_worker + wk + 1];
            for (int64_t k = begin; k < end && !po->failed; k++) {
                const int32_t *s = pc->src_tok + pc->src_off[k], *t = pc->tgt_tok + pc->tgt_off[k];
                int ns = (int)(pc->src_off[k + 1] - pc->src_off[k]);
                int nt = (int)(pc->tgt_off[k + 1] - pc->tgt_off[k]);
                if (ns == 0 || nt == 0)
                    continue;
                if (fm)
                    for (int j = 0; j < nt; j++)
                        align_row_posterior(fm, t, nt, s, ns, j, w, pf + (size_t)j * (ns + 1), idx);
                if (rm)
                    for (int i = 0; i < ns; i++)
                        align_row_posterior(rm, s, ns, t, nt, i, w, pr + (size_t)i * (nt + 1), idx);
                if (emit_pair(o, s, ns, t, nt, pf, pr, fwd, rev, grid, &n_links[k], po) < 0)
                    po->failed = 1;
            }
        }
        free(pf);
        free(pr);
        free(w);
        free(idx);
        free(fwd);
        free(rev);
        free(grid);
    }
    int rc = 0;
    for (int th = 0; th < threads && rc == 0; th++)
        if (outs[th].failed) {
            *err = outs[th].err;
            rc = -1;
        }
    /* merge the workers' counts (fixed-point values: exact in any order), then CSR by tgt */
    for (int th = 1; th < threads && rc == 0; th++)
        rc = pair_map_merge(&outs[0].counts, &outs[th].counts, err);
    for (int th = 1; th < threads; th++)
        pair_map_free(&outs[th].counts);
    uint64_t *keys = NULL;
    double *vals = NULL;
    int64_t n = 0;
    if (rc == 0 && (n = pair_map_sorted(&outs[0].counts, &keys, &vals, err)) < 0)
        rc = -1;
    pair_map_free(&outs[0].counts);
    /* this process's links, in pair order */
    int32_t *ls = NULL, *lt = NULL;
    int64_t total = 0;
    if (rc == 0 && o->want_links) {
        for (int th = 0; th < threads; th++)
            total += outs[th].n_links;
        ls = malloc((size_t)total * sizeof *ls + 1);
        lt = malloc((size_t)total * sizeof *lt + 1);
        if (!ls || !lt) {
            rc = lg_fail(err, "out of memory for links");
        } else {
            int64_t w = 0;
            for (int th = 0; th < threads; th++) {
                memcpy(ls + w, outs[th].ls, (size_t)outs[th].n_links * sizeof(int32_t));
                memcpy(lt + w, outs[th].lt, (size_t)outs[th].n_links * sizeof(int32_t));
                w += outs[th].n_links;
            }
        }
    }
    for (int th = 0; th < threads; th++) {
        free(outs[th].ls);
        free(outs[th].lt);
    }
    free(outs);
    if (rc == 0 && lg_dist_size() > 1)
        rc = gather_ranks(bounds[first_worker], bounds[first_worker + threads], &keys, &vals, &n,
                          n_links, &ls, &lt, &total, o->want_links, err);
    if (rc == 0 && lg_dist_rank() == 0) {
        res->nnz = n;
        res->row = calloc((size_t)res->tgt_vocab + 1, sizeof *res->row);
        res->src = malloc((size_t)n * sizeof *res->src + 1);
        if (!res->row || !res->src) {
            rc = lg_fail(err, "out of memory for the alignment table");
        } else {
            for (int64_t e = 0; e < n; e++) {
                res->row[(keys[e] >> 32) + 1]++;
                res->src[e] = (int32_t)(keys[e] & 0xffffffffu);
            }
            for (int32_t r = 0; r < res->tgt_vocab; r++)
                res->row[r + 1] += res->row[r];
            res->count = vals;
            vals = NULL;
        }
    }
    free(keys);
    free(vals);
    if (rc == 0 && o->want_links && lg_dist_rank() == 0) {
        res->link_off = malloc(((size_t)pc->n_pairs + 1) * sizeof *res->link_off);
        if (!res->link_off) {
            rc = lg_fail(err, "out of memory for links");
        } else {
            res->n_pairs = pc->n_pairs;
            res->link_off[0] = 0;
            for (int64_t k = 0; k < pc->n_pairs; k++)
                res->link_off[k + 1] = res->link_off[k] + n_links[k];
            res->link_src = ls;
            res->link_tgt = lt;
            ls = lt = NULL;
        }
    }
    free(ls);
    free(lt);
    free(n_links);
    return rc;
}

int lg_align_train(const lg_parallel *pc, const lg_align_opts *o, lg_align_result *res,
                   lg_error *err)
{
    memset(res, 0, sizeof *res);
    if (pc->n_pairs == 0)
        return lg_fail(err, "the parallel corpus is empty");
    if (o->model1_iters < 0 || o->model2_iters < 0 || o->model1_iters + o->model2_iters == 0)
        return lg_fail(err, "no EM iterations asked for");
    if (o->p_null <= 0 || o->p_null >= 1)
        return lg_fail(err, "NULL probability %g is not in (0, 1)", o->p_null);
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    res->tgt_vocab = pc->tgt_vocab;
    res->src_vocab = pc->src_vocab;
    /* the work split: ranks × threads workers, each a block of pairs of about equal work */
    const int rank = lg_dist_rank(), world = lg_dist_size(), workers = world * threads;
    const int first_worker = rank * threads;
    int64_t *bounds = malloc(((size_t)workers + 1) * sizeof *bounds);
    if (!bounds)
        return lg_fail(err, "out of memory");
    align_split(pc, workers, bounds);

    ttable tf, tr;
    double t0 = lg_now();
    if (ttable_build(pc, &tf, &tr, threads, err) < 0) {
        free(bounds);
        return -1;
    }
    if (o->verbose && rank == 0)
        fprintf(stderr, "align: %lld pairs, %lld co-occurring token pairs (%.2f s)\n",
                (long long)pc->n_pairs, (long long)tf.nnz - tf.row_ptr[1], lg_now() - t0);
    align_model fm, rm;
    int use_f = o->direction != LG_DIR_REVERSE, use_r = o->direction != LG_DIR_FORWARD;
    align_view vf = {pc->n_pairs, pc->tgt_off, pc->src_off, pc->tgt_tok, pc->src_tok};
    align_view vr = {pc->n_pairs, pc->src_off, pc->tgt_off, pc->src_tok, pc->tgt_tok};
    int rc = 0;
    memset(&fm, 0, sizeof fm);
    memset(&rm, 0, sizeof rm);
    if (use_f) {
        rc = align_model_init(&fm, &vf, err);
        fm.bounds = bounds;
        fm.first_worker = first_worker;
        fm.k0 = bounds[first_worker];
        fm.k1 = bounds[first_worker + threads];
        fm.cache_limit = (int64_t)o->cache_mb * (1 << 20) / (int64_t)sizeof(int32_t);
        fm.t = tf;
        fm.tension = o->tension;
        fm.p_null = o->p_null;
    } else {
        ttable_free(&tf);
    }
    if (rc == 0 && use_r) {
        rc = align_model_init(&rm, &vr, err);
        rm.bounds = bounds;
        rm.first_worker = first_worker;
        rm.k0 = bounds[first_worker];
        rm.k1 = bounds[first_worker + threads];
        rm.cache_limit = (int64_t)o->cache_mb * (1 << 20) / (int64_t)sizeof(int32_t);
        rm.t = tr;
        rm.tension = o->tension;
        rm.p_null = o->p_null;
    } else {
        ttable_free(&tr);
    }
    if (rc == 0 && use_f && (rc = train_direction(&fm, "fwd", o, threads, err)) == 0) {
        res->tension[0] = fm.diagonal ? fm.tension : 0;
        free(fm.cache); /* the final pass searches; keep one direction's cache at a time */
        fm.cache = NULL;
    }
    if (rc == 0 && use_r && (rc = train_direction(&rm, "rev", o, threads, err)) == 0) {
        res->tension[1] = rm.diagonal ? rm.tension : 0;
    }
    if (rc == 0)
        rc = final_pass(pc, o, threads, bounds, first_worker, use_f ? &fm : NULL,
                        use_r ? &rm : NULL, res, err);
    align_model_free(&fm);
    align_model_free(&rm);
    free(bounds);
    if (rc < 0)
        lg_align_result_free(res);
    return rc;
}
