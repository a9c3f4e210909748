/* Materialising a plan: weighted sums of base rows, or draws from base statistics.
 * Base rows are read with lg_tensor_read (pread), never through the file's mapping: an
 * 8B base's 1 GiB embedding and head tables read row by row would otherwise stay resident
 * (every mapped page touched counts in the RSS, with the kernel's fault-around 64 KiB per
 * row), so the peak is the tables written plus a few rows per thread. */
#include "lg_transfer.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lg_rng.h"

/* LAPACK's Cholesky factorisation, shipped inside OpenBLAS. */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

/* Stored values of one row (raw, C cells of dtype dt) as float. */
static void raw_to_f32(lg_dtype dt, const void *raw, int C, float *dst)
{
    const unsigned char *p = raw;
    switch (dt) {
    case LG_DT_F32:
        memcpy(dst, p, (size_t)C * sizeof(float));
        break;
    case LG_DT_F64:
        for (int c = 0; c < C; c++) {
            double v;
            memcpy(&v, p + 8 * c, 8);
            dst[c] = (float)v;
        }
        break;
    case LG_DT_BF16: /* inline (the widening is exact: the bits moved up), so it vectorises */
        for (int c = 0; c < C; c++) {
            uint16_t h;
            memcpy(&h, p + 2 * c, 2);
            const uint32_t u = (uint32_t)h << 16;
            memcpy(&dst[c], &u, 4);
        }
        break;
    case LG_DT_F16:
        for (int c = 0; c < C; c++) {
            uint16_t h;
            memcpy(&h, p + 2 * c, 2);
            dst[c] = lg_f16_to_f32(h);
        }
        break;
    default:
        memset(dst, 0, (size_t)C * sizeof(float));
    }
}

void lg_tensor_row_f32(const lg_tensor_info *t, int64_t row, float *dst)
{
    const int64_t cols = t->shape[1];
    raw_to_f32(t->dtype, (const unsigned char *)t->data + (size_t)row * (size_t)cols *
                                                         lg_dtype_size(t->dtype),
               (int)cols, dst);
}

/* Mean, per-dimension std and (when cov is not NULL) covariance of rows 0..n-1, in double,
 * one streaming pass in blocks read with pread. */
static int base_stats(const lg_tensor_info *t, int64_t n, double *mean, double *std, double *cov,
                      lg_error *err)
{
    int C = (int)t->shape[1];
    enum { BLOCK = 256 };
    const size_t row_bytes = (size_t)C * lg_dtype_size(t->dtype);
    float *row = malloc((size_t)C * sizeof *row);
    unsigned char *raw = malloc((size_t)BLOCK * row_bytes);
    double *blk = cov ? malloc((size_t)BLOCK * C * sizeof *blk) : NULL;
    double *sq = calloc((size_t)C, sizeof *sq);
    if (!row || !raw || !sq || (cov && !blk)) {
        free(row);
        free(raw);
        free(blk);
        free(sq);
        return lg_fail(err, "out of memory for embedding statistics");
    }
    memset(mean, 0, (size_t)C * sizeof *mean);
    if (cov)
        memset(cov, 0, (size_t)C * C * sizeof *cov);
    for (int64_t r0 = 0; r0 < n; r0 += BLOCK) {
        int nb = (int)(n - r0 < BLOCK ? n - r0 : BLOCK);
        if (lg_tensor_read(t, (size_t)r0 * row_bytes, (size_t)nb * row_bytes, raw, err) < 0) {
            free(row);
            free(raw);
            free(blk);
            free(sq);
            return -1;
        }
        for (int i = 0; i < nb; i++) {
            raw_to_f32(t->dtype, raw + (size_t)i * row_bytes, C, row);
            for (int c = 0; c < C; c++) {
                mean[c] += row[c];
                sq[c] += (double)row[c] * row[c];
                if (blk)
                    blk[(size_t)i * C + c] = row[c];
            }
        }
        if (cov) /* upper triangle of X^T X (row-major, so "lower" for Fortran) */
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, C, nb, 1.0, blk, C, 1.0, cov, C);
    }
    double denom = n > 1 ? (double)(n - 1) : 1.0;
    for (int c = 0; c < C; c++) {
        double m = mean[c] / (double)n;
        mean[c] = m;
        double var = (sq[c] - (double)n * m * m) / denom;
        std[c] = var > 0 ? sqrt(var) : 0;
    }
    if (cov)
        for (int i = 0; i < C; i++)
            for (int j = i; j < C; j++) {
                double v = (cov[(size_t)i * C + j] - (double)n * mean[i] * mean[j]) / denom;
                cov[(size_t)i * C + j] = v;
                cov[(size_t)j * C + i] = v;
            }
    free(row);
    free(raw);
    free(blk);
    free(sq);
    return 0;
}

/* Lower Cholesky factor L (row-major, L L^T = a) in place; a little jitter on the
 * diagonal when the covariance is singular (fewer rows than dimensions). */
static int cholesky(double *a, int C, lg_error *err)
{
    double trace = 0;
    for (int i = 0; i < C; i++)
        trace += a[(size_t)i * C + i];
    double *work = malloc((size_t)C * C * sizeof *work);
    if (!work)
        return lg_fail(err, "out of memory for the covariance factor");
    double jitter = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        memcpy(work, a, (size_t)C * C * sizeof *work);
        for (int i = 0; i < C; i++)
            work[(size_t)i * C + i] += jitter;
        int info = 0;
        /* row-major upper = column-major lower: dpotrf("U") on the transpose gives U with
         * U^T U = a, i.e. row-major L = U^T read as rows */
        dpotrf_("U", &C, work, &C, &info);
        if (info == 0) {
            /* column-major U stored: element (i, j), i <= j at work[j * C + i]; row-major
             * L(j, i) = U(i, j) lives at the same address: keep j >= i, zero the rest */
            for (int r = 0; r < C; r++)
                for (int c = r + 1; c < C; c++)
                    work[(size_t)r * C + c] = 0;
            memcpy(a, work, (size_t)C * C * sizeof *a);
            free(work);
            return 0;
        }
        jitter = jitter == 0 ? 1e-6 * (trace / C + 1e-12) : jitter * 10;
    }
    free(work);
    return lg_fail(err, "the base embeddings' covariance is not positive definite");
}

int lg_init_materialize(const lg_init_plan *plan, const lg_tensor_info *base, const lg_init_opts *o,
                        float *out, lg_error *err)
{
    return lg_init_materialize_as(plan, base, o, out, LG_DT_F32, err);
}

/* Row t of out (of dtype dt) from the float row v. */
static void store_row(void *out, lg_dtype dt, int32_t t, int C, const float *v)
{
    if (dt == LG_DT_F32) {
        memcpy((float *)out + (size_t)t * C, v, (size_t)C * sizeof *v);
        return;
    }
    uint16_t *h = (uint16_t *)out + (size_t)t * C;
    for (int c = 0; c < C; c++)
        h[c] = dt == LG_DT_BF16 ? lg_f32_to_bf16(v[c]) : lg_f32_to_f16(v[c]);
}

/* Row t of a combination plan into dst: Σ weight[k] * row[base_id[k]] in double, in the
 * plan's order, each row read with pread into raw and widened to float in row. */
static int combine_row(const lg_init_plan *plan, const lg_tensor_info *base, int32_t t, void *raw,
                       float *row, double *acc, float *dst, lg_error *err)
{
    const int C = (int)base->shape[1];
    const size_t row_bytes = (size_t)C * lg_dtype_size(base->dtype);
    memset(acc, 0, (size_t)C * sizeof *acc);
    for (int64_t k = plan->off[t]; k < plan->off[t + 1]; k++) {
        if (lg_tensor_read(base, (size_t)plan->base_id[k] * row_bytes, row_bytes, raw, err) < 0)
            return -1;
        raw_to_f32(base->dtype, raw, C, row);
        double w = plan->weight[k];
        for (int c = 0; c < C; c++)
            acc[c] += w * row[c];
    }
    for (int c = 0; c < C; c++)
        dst[c] = (float)acc[c];
    return 0;
}

struct lg_init_rows {
    const lg_init_plan *plan;
    const lg_tensor_info *base;
    lg_init_opts o;
    int have_stats;
    double *mean, *std, *cov; /* the draws' statistics, made at the first rows asked */
};

lg_init_rows *lg_init_rows_new(const lg_init_plan *plan, const lg_tensor_info *base,
                               const lg_init_opts *o, lg_error *err)
{
    if (base->ndim != 2) {
        lg_fail(err, "%s: %s is not a matrix", base->file, base->name);
        return NULL;
    }
    if (base->dtype != LG_DT_F32 && base->dtype != LG_DT_F16 && base->dtype != LG_DT_BF16 &&
        base->dtype != LG_DT_F64) {
        lg_fail(err, "%s: %s has dtype %s, not a float type", base->file, base->name,
                lg_dtype_name(base->dtype));
        return NULL;
    }
    if (base->shape[0] < plan->n_base) {
        lg_fail(err, "%s: %s has %lld rows but the base tokenizer has %d pieces", base->file,
                base->name, (long long)base->shape[0], plan->n_base);
        return NULL;
    }
    lg_init_rows *r = calloc(1, sizeof *r);
    if (!r) {
        lg_fail(err, "out of memory");
        return NULL;
    }
    r->plan = plan;
    r->base = base;
    r->o = *o;
    return r;
}

void lg_init_rows_free(lg_init_rows *r)
{
    if (!r)
        return;
    free(r->mean);
    free(r->std);
    free(r->cov);
    free(r);
}

/* The statistics the plan's draws need, once. */
static int rows_stats(lg_init_rows *r, lg_error *err)
{
    const lg_init_plan *plan = r->plan;
    const int C = (int)r->base->shape[1];
    int need_mean = plan->counts[LG_ROW_MEAN] || plan->counts[LG_ROW_RANDOM] || plan->counts[LG_ROW_MVN];
    int need_cov = plan->counts[LG_ROW_MVN] > 0;
    r->have_stats = 1;
    if (!need_mean)
        return 0;
    r->mean = malloc((size_t)C * sizeof *r->mean);
    r->std = malloc((size_t)C * sizeof *r->std);
    r->cov = need_cov ? malloc((size_t)C * C * sizeof *r->cov) : NULL;
    if (!r->mean || !r->std || (need_cov && !r->cov))
        return lg_fail(err, "out of memory for embedding statistics");
    /* statistics of the rows the base tokenizer uses (padding rows are often untrained) */
    if (base_stats(r->base, plan->n_base, r->mean, r->std, r->cov, err) < 0)
        return -1;
    if (need_cov) {
        for (size_t i = 0; i < (size_t)C * C; i++)
            r->cov[i] *= r->o.mvn_scale;
        if (cholesky(r->cov, C, err) < 0)
            return -1;
    }
    return 0;
}

int lg_init_rows_make(lg_init_rows *r, int32_t t0, int32_t t1, void *out, lg_dtype out_dtype,
                      lg_error *err)
{
    if (out_dtype != LG_DT_F32 && out_dtype != LG_DT_BF16 && out_dtype != LG_DT_F16)
        return lg_fail(err, "tables are made as F32, BF16 or F16, not %s",
                       lg_dtype_name(out_dtype));
    if (t0 < 0 || t1 < t0 || t1 > r->plan->n_new)
        return lg_fail(err, "rows %d..%d asked of a plan of %d", t0, t1, r->plan->n_new);
    if (!r->have_stats && rows_stats(r, err) < 0)
        return -1;
    const lg_init_plan *plan = r->plan;
    const lg_tensor_info *base = r->base;
    const lg_init_opts *o = &r->o;
    const int C = (int)base->shape[1];
    const double *mean = r->mean, *std = r->std, *cov = r->cov;
    int failed = 0, read_failed = 0;
    #pragma omp parallel
    {
        float *row = malloc((size_t)C * sizeof *row);
        void *raw = malloc((size_t)C * lg_dtype_size(base->dtype)); /* a stored row */
        double *acc = malloc((size_t)C * sizeof *acc);
        double *z = malloc((size_t)C * sizeof *z);
        float *dst = malloc((size_t)C * sizeof *dst); /* the row made, then stored */
        lg_error rerr = {{0}};
        if (!row || !raw || !acc || !z || !dst) {
            #pragma omp atomic write
            failed = 1;
        }
        #pragma omp for schedule(dynamic, 64)
        for (int32_t t = t0; t < t1; t++) {
            int stop;
            #pragma omp atomic read
            stop = read_failed;
            if (!row || !raw || !acc || !z || !dst || stop)
                continue;
            if (plan->off[t + 1] > plan->off[t]) {
                if (combine_row(plan, base, t, raw, row, acc, dst, &rerr) < 0) {
                    #pragma omp critical(lg_materialize_err)
                    {
                        if (!read_failed)
                            *err = rerr;
                        #pragma omp atomic write
                        read_failed = 1;
                    }
                    continue;
                }
                store_row(out, out_dtype, t - t0, C, dst);
                continue;
            }
            /* a draw: its own generator per token, so threads do not change the result */
            lg_rng rng;
            lg_rng_seed(&rng, o->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)t);
            switch ((lg_row_source)plan->source[t]) {
            case LG_ROW_RANDOM:
                for (int c = 0; c < C; c++)
                    dst[c] = (float)(mean[c] + std[c] * lg_rng_normal(&rng));
                break;
            case LG_ROW_MVN:
                for (int c = 0; c < C; c++)
                    z[c] = lg_rng_normal(&rng);
                for (int i = 0; i < C; i++) {
                    double v = mean[i];
                    const double *l = cov + (size_t)i * C;
                    for (int c = 0; c <= i; c++)
                        v += l[c] * z[c];
                    dst[i] = (float)v;
                }
                break;
            default:
                for (int c = 0; c < C; c++)
                    dst[c] = (float)mean[c];
            }
            store_row(out, out_dtype, t - t0, C, dst);
        }
        free(dst);
        free(row);
        free(raw);
        free(acc);
        free(z);
    }
    if (read_failed)
        return -1;
    if (failed)
        return lg_fail(err, "out of memory for embedding rows");
    return 0;
}

int lg_init_materialize_as(const lg_init_plan *plan, const lg_tensor_info *base,
                           const lg_init_opts *o, void *out, lg_dtype out_dtype, lg_error *err)
{
    if (out_dtype != LG_DT_F32 && out_dtype != LG_DT_BF16 && out_dtype != LG_DT_F16)
        return lg_fail(err, "tables are made as F32, BF16 or F16, not %s",
                       lg_dtype_name(out_dtype));
    lg_init_rows *r = lg_init_rows_new(plan, base, o, err);
    if (!r)
        return -1;
    int rc = lg_init_rows_make(r, 0, plan->n_new, out, out_dtype, err);
    lg_init_rows_free(r);
    return rc;
}
