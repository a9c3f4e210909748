/* ttable — a sparse translation table t(gen | cond) for one alignment direction: rows are
 * conditioning tokens (row 0 is NULL, row c + 1 is token c), each row holds only the
 * generated tokens that co-occur with it in some sentence pair, columns ascending (CSR).
 * Internal to the transfer module. */
#ifndef LG_TTABLE_H
#define LG_TTABLE_H

#include <stdint.h>
#include "lg_transfer.h"

typedef struct {
    int32_t n_rows;      /* conditioning vocabulary + 1 */
    int32_t n_cols;      /* generated vocabulary */
    int64_t nnz;
    int64_t *row_ptr;    /* n_rows + 1 */
    int32_t *col;
    float *prob;
} ttable;

/* Builds both directions' tables from the corpus's co-occurrences, probabilities uniform:
 * fwd has rows src (+ NULL) and columns tgt, rev the transpose.  Memory: 12 bytes per
 * distinct co-occurring pair and direction, plus a sort buffer a thread. The result does
 * not depend on the thread count. */
int ttable_build(const lg_parallel *pc, ttable *fwd, ttable *rev, int threads, lg_error *err);
void ttable_free(ttable *t);

/* Index of (row, col) or -1 (binary search within the row). */
static inline int64_t ttable_find(const ttable *t, int32_t row, int32_t col)
{
    int64_t lo = t->row_ptr[row], hi = t->row_ptr[row + 1];
    while (lo < hi) {
        int64_t mid = lo + ((hi - lo) >> 1);
        int32_t c = t->col[mid];
        if (c == col)
            return mid;
        if (c < col)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* prob[k] = counts[k] / (sum of counts in k's row); a row whose counts are all zero keeps
 * its probabilities. */
void ttable_normalize(ttable *t, const double *counts);
/* The same from fixed-point counts (integers in units of ALIGN_FIXED_ONE, align_model.h):
 * the row sums are exact, so the result does not depend on the order of the additions. */
void ttable_normalize_fixed(ttable *t, const int64_t *counts);
/* Drops entries with prob < beam * (row maximum), renormalises the survivors, shrinks
 * the arrays.  When remap is not NULL (nnz entries) it receives each old entry's new index
 * or -1.  Returns the number of entries dropped, or -1. */
int64_t ttable_prune(ttable *t, double beam, int32_t *remap, lg_error *err);

#endif
