/* Sparse translation tables: co-occurrence pattern by chunked sort + merge, CSR rows. */
#include "ttable.h"

#include <stdlib.h>
#include <string.h>

#include "pair_map.h"

void ttable_free(ttable *t)
{
    free(t->row_ptr);
    free(t->col);
    free(t->prob);
    memset(t, 0, sizeof *t);
}

/* Merges the sorted unique keys buf[0..u) into the sorted unique set *set of *n_set keys. */
static int merge_sets(uint64_t **set, int64_t *n_set, const uint64_t *buf, int64_t u,
                      lg_error *err)
{
    uint64_t *out = malloc((size_t)(*n_set + u) * sizeof *out + 1);
    if (!out)
        return lg_fail(err, "out of memory for %lld co-occurring token pairs",
                       (long long)(*n_set + u));
    int64_t a = 0, b = 0, k = 0;
    uint64_t *s = *set;
    while (a < *n_set || b < u) {
        uint64_t x;
        if (b >= u || (a < *n_set && s[a] < buf[b]))
            x = s[a++];
        else if (a >= *n_set || buf[b] < s[a])
            x = buf[b++];
        else {
            x = s[a++];
            b++;
        }
        out[k++] = x;
    }
    free(*set);
    *set = out;
    *n_set = k;
    return 0;
}

/* Sorts and deduplicates buf[0..n), then merges it into the sorted unique set *set of
 * *n_set keys.  Returns 0 or -1. */
static int merge_chunk(uint64_t **set, int64_t *n_set, uint64_t *buf, int64_t n, lg_error *err)
{
    if (pair_sort(buf, NULL, n, err) < 0)
        return -1;
    int64_t u = 0;
    for (int64_t i = 0; i < n; i++)
        if (u == 0 || buf[u - 1] != buf[i])
            buf[u++] = buf[i];
    return merge_sets(set, n_set, buf, u, err);
}

/* CSR from sorted unique keys row << 32 | col. */
static int csr_from_keys(ttable *t, int32_t n_rows, int32_t n_cols, const uint64_t *keys,
                         int64_t n, lg_error *err)
{
    memset(t, 0, sizeof *t);
    t->n_rows = n_rows;
    t->n_cols = n_cols;
    t->nnz = n;
    t->row_ptr = calloc((size_t)n_rows + 1, sizeof *t->row_ptr);
    t->col = malloc((size_t)n * sizeof *t->col + 1);
    t->prob = malloc((size_t)n * sizeof *t->prob + 1);
    if (!t->row_ptr || !t->col || !t->prob) {
        ttable_free(t);
        return lg_fail(err, "out of memory for a translation table of %lld entries", (long long)n);
    }
    float uniform = n_cols > 0 ? 1.0f / (float)n_cols : 1.0f;
    for (int64_t i = 0; i < n; i++) {
        t->row_ptr[(keys[i] >> 32) + 1]++;
        t->col[i] = (int32_t)(keys[i] & 0xffffffffu);
        t->prob[i] = uniform; /* first E-step = co-occurrence counting */
    }
    for (int32_t r = 0; r < n_rows; r++)
        t->row_ptr[r + 1] += t->row_ptr[r];
    return 0;
}

/* The sorted unique forward keys of pairs [begin, end): (src + 1, tgt) for co-occurring
 * tokens, (0, tgt) for NULL, collected chunk by chunk. */
static int pattern_of_range(const lg_parallel *pc, int64_t begin, int64_t end, uint64_t **set_out,
                            int64_t *n_out, lg_error *err)
{
    const int64_t chunk = (int64_t)1 << 23;
    uint64_t *buf = malloc((size_t)chunk * sizeof *buf);
    uint64_t *set = NULL;
    int64_t n_set = 0, n_buf = 0;
    if (!buf)
        return lg_fail(err, "out of memory");
    for (int64_t k = begin; k < end; k++) {
        const int32_t *s = pc->src_tok + pc->src_off[k], *t = pc->tgt_tok + pc->tgt_off[k];
        int ns = (int)(pc->src_off[k + 1] - pc->src_off[k]);
        int nt = (int)(pc->tgt_off[k + 1] - pc->tgt_off[k]);
        if ((int64_t)(ns + 1) * nt > chunk - n_buf) {
            if (merge_chunk(&set, &n_set, buf, n_buf, err) < 0)
                goto fail;
            n_buf = 0;
            if ((int64_t)(ns + 1) * nt > chunk) {
                lg_fail(err, "sentence pair %lld is too long to align (%d x %d tokens)",
                        (long long)k + 1, ns, nt);
                goto fail;
            }
        }
        for (int j = 0; j < nt; j++) {
            buf[n_buf++] = pair_key(0, (uint32_t)t[j]);
            for (int i = 0; i < ns; i++)
                buf[n_buf++] = pair_key((uint32_t)s[i] + 1, (uint32_t)t[j]);
        }
    }
    if (merge_chunk(&set, &n_set, buf, n_buf, err) < 0)
        goto fail;
    free(buf);
    *set_out = set;
    *n_out = n_set;
    return 0;
fail:
    free(buf);
    free(set);
    return -1;
}

int ttable_build(const lg_parallel *pc, ttable *fwd, ttable *rev, int threads, lg_error *err)
{
    /* Each thread collects the pattern of its share of the pairs; the shares' sets are then
     * merged: the union does not depend on how the pairs were shared. */
    if (threads < 1)
        threads = 1;
    if (pc->n_pairs < 4096)
        threads = 1;
    uint64_t **sets = calloc((size_t)threads, sizeof *sets);
    int64_t *n_sets = calloc((size_t)threads, sizeof *n_sets);
    lg_error *errs = calloc((size_t)threads, sizeof *errs);
    int *failed = calloc((size_t)threads, sizeof *failed);
    if (!sets || !n_sets || !errs || !failed) {
        free(sets);
        free(n_sets);
        free(errs);
        free(failed);
        return lg_fail(err, "out of memory");
    }
    #pragma omp parallel for schedule(static, 1) num_threads(threads)
    for (int th = 0; th < threads; th++)
        failed[th] = pattern_of_range(pc, pc->n_pairs * th / threads,
                                      pc->n_pairs * (th + 1) / threads, &sets[th], &n_sets[th],
                                      &errs[th]) < 0;
    uint64_t *set = sets[0];
    int64_t n_set = n_sets[0];
    int rc = 0;
    for (int th = 0; th < threads && rc == 0; th++)
        if (failed[th]) {
            *err = errs[th];
            rc = -1;
        }
    for (int th = 1; th < threads && rc == 0; th++)
        rc = merge_sets(&set, &n_set, sets[th], n_sets[th], err);
    for (int th = 1; th < threads; th++)
        free(sets[th]);
    free(sets);
    free(n_sets);
    free(errs);
    free(failed);
    if (rc < 0)
        goto fail;
    if (csr_from_keys(fwd, pc->src_vocab + 1, pc->tgt_vocab, set, n_set, err) < 0)
        goto fail;

    /* The reverse pattern: transpose (stable counting sort by tgt keeps src ascending),
     * with the NULL row holding every source token seen. */
    {
        int64_t n_real = n_set - fwd->row_ptr[1];
        int64_t n_src_seen = 0;
        for (int32_t r = 1; r < fwd->n_rows; r++)
            n_src_seen += fwd->row_ptr[r + 1] > fwd->row_ptr[r];
        int64_t n_rev = n_real + n_src_seen;
        uint64_t *rk = malloc((size_t)n_rev * sizeof *rk + 1);
        int64_t *start = calloc((size_t)pc->tgt_vocab + 2, sizeof *start);
        if (!rk || !start) {
            free(rk);
            free(start);
            lg_fail(err, "out of memory for the reverse translation table");
            goto fail;
        }
        int64_t w = 0;
        for (int32_t r = 1; r < fwd->n_rows; r++)
            if (fwd->row_ptr[r + 1] > fwd->row_ptr[r])
                rk[w++] = pair_key(0, (uint32_t)(r - 1));
        for (int64_t i = fwd->row_ptr[1]; i < n_set; i++)
            start[fwd->col[i] + 1]++;
        start[0] = w;
        for (int32_t c = 0; c < pc->tgt_vocab; c++)
            start[c + 1] += start[c];
        for (int32_t r = 1; r < fwd->n_rows; r++)
            for (int64_t i = fwd->row_ptr[r]; i < fwd->row_ptr[r + 1]; i++)
                rk[start[fwd->col[i]]++] = pair_key((uint32_t)fwd->col[i] + 1, (uint32_t)(r - 1));
        free(start);
        free(set);
        set = NULL;
        int rc = csr_from_keys(rev, pc->tgt_vocab + 1, pc->src_vocab, rk, n_rev, err);
        free(rk);
        if (rc < 0) {
            ttable_free(fwd);
            return -1;
        }
    }
    return 0;
fail:
    free(set);
    return -1;
}

void ttable_normalize_fixed(ttable *t, const int64_t *counts)
{
    #pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < t->n_rows; r++) {
        int64_t sum = 0;
        for (int64_t i = t->row_ptr[r]; i < t->row_ptr[r + 1]; i++)
            sum += counts[i];
        if (sum <= 0)
            continue;
        const double total = (double)sum;
        for (int64_t i = t->row_ptr[r]; i < t->row_ptr[r + 1]; i++)
            t->prob[i] = (float)((double)counts[i] / total);
    }
}

void ttable_normalize(ttable *t, const double *counts)
{
    #pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < t->n_rows; r++) {
        double sum = 0;
        for (int64_t i = t->row_ptr[r]; i < t->row_ptr[r + 1]; i++)
            sum += counts[i];
        if (sum <= 0)
            continue;
        for (int64_t i = t->row_ptr[r]; i < t->row_ptr[r + 1]; i++)
            t->prob[i] = (float)(counts[i] / sum);
    }
}

int64_t ttable_prune(ttable *t, double beam, int32_t *remap, lg_error *err)
{
    (void)err;
    if (beam <= 0)
        return 0;
    int64_t w = 0, dropped = 0;
    int64_t begin = 0;
    for (int32_t r = 0; r < t->n_rows; r++) {
        int64_t end = t->row_ptr[r + 1];
        float max = 0;
        for (int64_t i = begin; i < end; i++)
            if (t->prob[i] > max)
                max = t->prob[i];
        float cut = (float)(beam * max);
        double kept = 0;
        int64_t row_start = w;
        for (int64_t i = begin; i < end; i++) {
            if (t->prob[i] >= cut && t->prob[i] > 0) {
                if (remap)
                    remap[i] = (int32_t)w;
                t->col[w] = t->col[i];
                t->prob[w] = t->prob[i];
                kept += t->prob[i];
                w++;
            } else {
                if (remap)
                    remap[i] = -1;
                dropped++;
            }
        }
        if (kept > 0)
            for (int64_t i = row_start; i < w; i++)
                t->prob[i] = (float)(t->prob[i] / kept);
        t->row_ptr[r] = row_start;
        begin = end;
    }
    t->row_ptr[t->n_rows] = w;
    t->nnz = w;
    /* Shrinking may fail harmlessly: keep the larger arrays then. */
    int32_t *c = realloc(t->col, (size_t)w * sizeof *c + 1);
    if (c)
        t->col = c;
    float *p = realloc(t->prob, (size_t)w * sizeof *p + 1);
    if (p)
        t->prob = p;
    return dropped;
}
