/* align_model — one direction of the aligner: each generated token is explained by one
 * conditioning token of its sentence or by NULL, t(gen | cond) in a sparse table, and an
 * alignment prior that is uniform (IBM Model 1) or favours the diagonal (fast_align's
 * Model 2: p0 for NULL, otherwise proportional to exp(-tension * |i/m - j/n|)).
 * Internal to the transfer module. */
#ifndef LG_ALIGN_MODEL_H
#define LG_ALIGN_MODEL_H

#include <stdint.h>
#include "lg_transfer.h"
#include "lg_progress.h"
#include "ttable.h"

typedef struct {
    int64_t n_pairs;
    const int64_t *gen_off, *cond_off;
    const int32_t *gen_tok, *cond_tok;
} align_view;

typedef struct {
    align_view v;
    ttable t;
    int diagonal;          /* 0: Model 1, 1: diagonal Model 2 */
    double tension, p_null;
    int max_len;           /* longest cond side + 1, for buffers */
    /* (gen length, cond length) classes of the corpus with their pair counts, for the
     * tension's gradient */
    int64_t n_classes;
    int32_t *class_m, *class_n;
    double *class_count;
    int64_t gen_tokens;
    /* Table entries of every (gen position, NULL or cond position) of the corpus, found once
     * by binary search and remapped after pruning, so that EM iterations only gather:
     * pair k's m x (n + 1) entries start at cache_off[k].  NULL when it would exceed the
     * memory limit (then each iteration searches the table). */
    int64_t *cache_off;
    int32_t *cache;
    int64_t cache_limit;   /* entries; 0: never cache */
    int cache_tried;
    /* The split of the work (align_split): the E-step of pair k runs on the worker w with
     * bounds[w] <= k < bounds[w + 1]; workers are ranks × threads, this process runs
     * first_worker .. first_worker + threads - 1, the pairs [k0, k1) (the cache holds only
     * those). NULL bounds: one process, its threads splitting the pairs. */
    const int64_t *bounds;
    int first_worker;
    int64_t k0, k1;
} align_model;

/* Expected counts are summed in fixed point, as integers in units of 2^-30: integer sums
 * do not depend on their order, so the tables are the same for any number of threads and
 * ranks (exactly while a count stays below 2^33). */
#define ALIGN_FIXED_ONE 1073741824.0
static inline int64_t align_fixed(double x)
{
    return (int64_t)(x * ALIGN_FIXED_ONE + 0.5);
}

/* Boundaries of `workers` contiguous blocks of the corpus's pairs with about the same work
 * ((n_src + 1) × (n_tgt + 1) cells a pair) into bounds[0..workers]. */
void align_split(const lg_parallel *pc, int workers, int64_t *bounds);

int align_model_init(align_model *am, const align_view *v, lg_error *err);
void align_model_free(align_model *am);

/* Posterior of generated position i (0-based) of one pair: post[0] for NULL, post[1 + j]
 * for cond position j; idx[1 + j] (and idx[0]) the table entries, -1 when pruned.  w is
 * scratch of n + 1 doubles.  Returns the unnormalised sum (the position's likelihood). */
double align_row_posterior(const align_model *am, const int32_t *gen, int m, const int32_t *cond,
                           int n, int i, double *w, double *post, int64_t *idx);
/* The same with the entries given (idx[0] for NULL, idx[1 + j]; -1 when pruned). */
double align_row_posterior_at(const align_model *am, int m, int n, int i, double *w,
                              double *post, const int32_t *idx);

/* One EM iteration over the corpus with `threads` threads (and over the ranks of an MPI
 * job, lg_dist.h: each its pairs, the expected counts summed across them): E-step, tension
 * update (when diagonal and optimize_tension), M-step, pruning.  Sets *loglik (summed in
 * floating point: its last digits may depend on the split). The table does not depend on
 * the number of threads or ranks. */
int align_model_iterate(align_model *am, int threads, int optimize_tension, double beam,
                        lg_progress *progress, double *loglik, lg_error *err);

#endif
