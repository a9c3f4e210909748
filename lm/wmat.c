/* Products with weights kept in their stored dtype (lg_wmat.h). */
#include "lg_wmat.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_ops.h"

#ifdef LG_HAVE_DNNL
#include <dnnl.h>
#endif

/* Floats of one thread's converted block: 1 MiB, a quarter of this CPU's 4 MiB L2 (half of
 * a 2 MiB one), leaving room for the packed panels sgemm makes of it. */
#define TILE_FLOATS ((size_t)1 << 18)

static inline float bf16f(uint16_t h)
{
    union {
        uint32_t u;
        float f;
    } v = {.u = (uint32_t)h << 16};
    return v.f;
}

static void add_bias(float *out, const float *bias, int N, int OC)
{
    if (!bias)
        return;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
            out[(size_t)n * OC + o] += bias[o];
}

/* ---------------------------------------------------------------- which kernel ran */

static lg_wmat_kernel chosen = LG_WK_AUTO;
static int chosen_set;
static unsigned used_mask; /* 1 rows, 2 tiled, 4 onednn */

static lg_wmat_kernel env_kernel(void)
{
    const char *e = getenv("LG_BF16_KERNEL");
    if (e && !strcmp(e, "tiled"))
        return LG_WK_TILED;
    if (e && !strcmp(e, "onednn"))
        return LG_WK_ONEDNN;
    return LG_WK_AUTO;
}

void lg_wmat_set_kernel(lg_wmat_kernel k)
{
    chosen = k;
    chosen_set = 1;
}

lg_wmat_kernel lg_wmat_get_kernel(void)
{
    if (!chosen_set) {
        chosen = env_kernel();
        chosen_set = 1;
    }
    return chosen;
}

const char *lg_wmat_kernel_used(void)
{
    static const char *const names[8] = {"",           "rows",         "tiled",
                                         "rows+tiled", "onednn",       "rows+onednn",
                                         "tiled+onednn", "rows+tiled+onednn"};
    return names[__atomic_load_n(&used_mask, __ATOMIC_RELAXED) & 7];
}

void lg_wmat_reset_used(void)
{
    __atomic_store_n(&used_mask, 0, __ATOMIC_RELAXED);
}

static void mark(unsigned bit)
{
    __atomic_fetch_or(&used_mask, bit, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- rows: N ≤ 8 */

static void rows_forward(float *out, const float *in, const uint16_t *W, const float *bias,
                         int N, int rows, int cols, int add)
{
#pragma omp parallel for schedule(static)
    for (int o = 0; o < rows; o++) {
        const uint16_t *w = W + (size_t)o * cols;
        for (int n = 0; n < N; n++) {
            const float *x = in + (size_t)n * cols;
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int i = 0; i < cols; i++)
                s += x[i] * bf16f(w[i]);
            float *y = out + (size_t)n * rows + o;
            *y = (add ? *y : 0) + s + (bias ? bias[o] : 0);
        }
    }
}

static void rows_backward(float *din, const float *dout, const uint16_t *W, int N, int rows,
                          int cols)
{
    enum { CB = 512 };
#pragma omp parallel for schedule(static)
    for (int c0 = 0; c0 < cols; c0 += CB) {
        const int cn = cols - c0 < CB ? cols - c0 : CB;
        for (int n = 0; n < N; n++) {
            float acc[CB];
            memset(acc, 0, sizeof acc);
            const float *d = dout + (size_t)n * rows;
            for (int o = 0; o < rows; o++) {
                const uint16_t *w = W + (size_t)o * cols + c0;
                const float g = d[o];
#pragma omp simd
                for (int c = 0; c < cn; c++)
                    acc[c] += g * bf16f(w[c]);
            }
            float *x = din + (size_t)n * cols + c0;
            for (int c = 0; c < cn; c++)
                x[c] += acc[c];
        }
    }
}

/* ---------------------------------------------------------------- tiled: convert, sgemm */

static int round16_clamp(size_t v, int hi)
{
    v = v / 16 * 16;
    if (v < 16)
        v = 16;
    return v > (size_t)hi ? hi : (int)v;
}

/* Blocks of tr weight rows: each thread converts its block and runs a one-thread sgemm
 * (OpenBLAS's OpenMP build runs single-threaded inside a parallel region). */
static void tiled_forward(float *out, const float *in, const uint16_t *W, int N, int rows,
                          int cols, int add)
{
    const int tr = round16_clamp(TILE_FLOATS / (size_t)cols, rows);
    const int ntiles = (rows + tr - 1) / tr;
#pragma omp parallel
    {
        float *buf = malloc(sizeof(float) * (size_t)tr * cols);
#pragma omp for schedule(dynamic)
        for (int t = 0; t < ntiles; t++) {
            if (!buf)
                continue;
            const int o0 = t * tr, on = rows - o0 < tr ? rows - o0 : tr;
            const uint16_t *w = W + (size_t)o0 * cols;
            const size_t n = (size_t)on * cols;
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                buf[i] = bf16f(w[i]);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, on, cols, 1, in, cols, buf,
                        cols, add ? 1.0f : 0.0f, out + o0, rows);
        }
        free(buf);
    }
}

/* Blocks of tc weight columns (every row): each thread owns its columns of din. */
static void tiled_backward(float *din, const float *dout, const uint16_t *W, int N, int rows,
                           int cols)
{
    const int tc = round16_clamp(TILE_FLOATS / (size_t)rows, cols);
    const int ntiles = (cols + tc - 1) / tc;
#pragma omp parallel
    {
        float *buf = malloc(sizeof(float) * (size_t)tc * rows);
#pragma omp for schedule(dynamic)
        for (int t = 0; t < ntiles; t++) {
            if (!buf)
                continue;
            const int c0 = t * tc, cn = cols - c0 < tc ? cols - c0 : tc;
            for (int o = 0; o < rows; o++) {
                const uint16_t *w = W + (size_t)o * cols + c0;
                float *b = buf + (size_t)o * cn;
#pragma omp simd
                for (int c = 0; c < cn; c++)
                    b[c] = bf16f(w[c]);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, cn, rows, 1, dout, rows,
                        buf, cn, 1, din + c0, cols);
        }
        free(buf);
    }
}

/* ---------------------------------------------------------------- oneDNN */

#ifdef LG_HAVE_DNNL
static char dnnl_impl[64]; /* the implementation of the first primitive made */

typedef struct {
    int M, K, Nn, backward, add;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src, wei, dst;
} dnnl_entry;

enum { DNNL_CACHE = 64 };
static pthread_mutex_t dnnl_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t dnnl_eng;
static dnnl_stream_t dnnl_str;
static int dnnl_state; /* 0 untried, 1 ready, -1 unavailable */
static dnnl_entry dnnl_cache[DNNL_CACHE];
static int dnnl_n, dnnl_next;

static dnnl_primitive_t dnnl_make(dnnl_entry *e, int M, int K, int Nn, int backward, int add)
{
    dnnl_dims_t sd = {M, K}, wd = {K, Nn}, dd = {M, Nn};
    if (dnnl_memory_desc_init_by_tag(&e->src, 2, sd, dnnl_bf16, dnnl_ab) ||
        /* forward: W[Nn, K] row-major is the [K, Nn] weights transposed (ba) */
        dnnl_memory_desc_init_by_tag(&e->wei, 2, wd, dnnl_bf16, backward ? dnnl_ab : dnnl_ba) ||
        dnnl_memory_desc_init_by_tag(&e->dst, 2, dd, dnnl_f32, dnnl_ab))
        return NULL;
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &e->src, &e->wei, NULL, &e->dst))
        return NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    if (dnnl_primitive_attr_create(&attr))
        return NULL;
    if (add && (dnnl_post_ops_create(&po) || dnnl_post_ops_append_sum(po, 1.0f) ||
                dnnl_primitive_attr_set_post_ops(attr, po)))
        goto done;
    if (dnnl_primitive_desc_create(&pd, &md, attr, dnnl_eng, NULL))
        goto done;
    const char *impl = NULL;
    /* a reference (non-JIT) implementation would be far slower than the tiled kernel */
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) || !impl ||
        strstr(impl, "ref"))
        goto done;
    if (!dnnl_impl[0])
        snprintf(dnnl_impl, sizeof dnnl_impl, "%s", impl);
    if (getenv("LG_WMAT_DEBUG"))
        fprintf(stderr, "wmat: oneDNN %dx%dx%d %s: %s\n", M, K, Nn, backward ? "bwd" : "fwd", impl);
    if (dnnl_primitive_create(&prim, pd))
        prim = NULL;
done:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    e->M = M, e->K = K, e->Nn = Nn, e->backward = backward, e->add = add;
    e->prim = prim;
    return prim;
}

static int dnnl_init_locked(void)
{
    if (dnnl_state == 0) {
        dnnl_state = -1;
        if (dnnl_engine_create(&dnnl_eng, dnnl_cpu, 0) == dnnl_success) {
            if (dnnl_stream_create(&dnnl_str, dnnl_eng, dnnl_stream_default_flags) ==
                dnnl_success)
                dnnl_state = 1;
            else
                dnnl_engine_destroy(dnnl_eng);
        }
    }
    return dnnl_state == 1;
}

static dnnl_entry *dnnl_get(int M, int K, int Nn, int backward, int add)
{
    if (!dnnl_init_locked())
        return NULL;
    for (int i = 0; i < dnnl_n; i++) {
        dnnl_entry *e = &dnnl_cache[i];
        if (e->M == M && e->K == K && e->Nn == Nn && e->backward == backward && e->add == add)
            return e->prim ? e : NULL;
    }
    dnnl_entry *e;
    if (dnnl_n < DNNL_CACHE) {
        e = &dnnl_cache[dnnl_n++];
    } else {
        e = &dnnl_cache[dnnl_next];
        dnnl_next = (dnnl_next + 1) % DNNL_CACHE;
        if (e->prim)
            dnnl_primitive_destroy(e->prim);
    }
    dnnl_make(e, M, K, Nn, backward, add);
    return e->prim ? e : NULL;
}

/* dst[M, Nn] (= or +=) src[M, K] · weights; 0 when it ran. */
static int dnnl_run(float *dst, const float *src, const uint16_t *W, int M, int K, int Nn,
                    int backward, int add)
{
    pthread_mutex_lock(&dnnl_lock);
    dnnl_entry *e = dnnl_get(M, K, Nn, backward, add);
    int rc = -1;
    uint16_t *s16 = e ? malloc(sizeof(uint16_t) * (size_t)M * K) : NULL;
    if (s16) {
        const size_t n = (size_t)M * K;
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++)
            s16[i] = lg_f32_to_bf16(src[i]);
        dnnl_memory_t ms = NULL, mw = NULL, md = NULL;
        if (!dnnl_memory_create(&ms, &e->src, dnnl_eng, s16) &&
            !dnnl_memory_create(&mw, &e->wei, dnnl_eng, (void *)W) &&
            !dnnl_memory_create(&md, &e->dst, dnnl_eng, dst)) {
            dnnl_exec_arg_t args[3] = {
                {DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
            if (!dnnl_primitive_execute(e->prim, dnnl_str, 3, args) &&
                !dnnl_stream_wait(dnnl_str))
                rc = 0;
        }
        if (ms)
            dnnl_memory_destroy(ms);
        if (mw)
            dnnl_memory_destroy(mw);
        if (md)
            dnnl_memory_destroy(md);
        free(s16);
    }
    pthread_mutex_unlock(&dnnl_lock);
    return rc;
}

int lg_wmat_have_onednn(void)
{
    pthread_mutex_lock(&dnnl_lock);
    int ok = dnnl_get(64, 64, 64, 0, 0) != NULL;
    pthread_mutex_unlock(&dnnl_lock);
    return ok;
}

void lg_wmat_release(void)
{
    pthread_mutex_lock(&dnnl_lock);
    for (int i = 0; i < dnnl_n; i++)
        if (dnnl_cache[i].prim)
            dnnl_primitive_destroy(dnnl_cache[i].prim);
    dnnl_n = dnnl_next = 0;
    if (dnnl_state == 1) {
        dnnl_stream_destroy(dnnl_str);
        dnnl_engine_destroy(dnnl_eng);
    }
    dnnl_state = 0;
    pthread_mutex_unlock(&dnnl_lock);
}
#else
static int dnnl_run(float *dst, const float *src, const uint16_t *W, int M, int K, int Nn,
                    int backward, int add)
{
    (void)dst, (void)src, (void)W, (void)M, (void)K, (void)Nn, (void)backward, (void)add;
    return -1;
}

int lg_wmat_have_onednn(void)
{
    return 0;
}

void lg_wmat_release(void)
{
}
#endif

void lg_wmat_describe(char *buf, size_t n)
{
    const lg_wmat_kernel k = lg_wmat_get_kernel();
    const int dnnl = k != LG_WK_TILED && lg_wmat_have_onednn();
#ifdef LG_HAVE_DNNL
    const char *impl = dnnl_impl;
#else
    const char *impl = "";
#endif
    if (dnnl)
        snprintf(buf, n, "oneDNN bf16 matmul (%s), tiled bf16->f32 + OpenBLAS sgemm as "
                         "fallback; <= %d rows: converted in the dot product", impl,
                 LG_WMAT_ROWS_MAX);
    else
        snprintf(buf, n, "tiled bf16->f32 + OpenBLAS sgemm (%s); <= %d rows: converted in "
                         "the dot product",
                 k == LG_WK_TILED ? "LG_BF16_KERNEL=tiled" : "oneDNN not available",
                 LG_WMAT_ROWS_MAX);
}

/* ---------------------------------------------------------------- views, lookups */

int lg_wmat_usable(const lg_tensor_info *t)
{
    const size_t a = t->dtype == LG_DT_BF16 ? 2 : t->dtype == LG_DT_F32 ? 4 : 0;
    return a && t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= INT32_MAX &&
           t->shape[1] > 0 && t->shape[1] <= INT32_MAX && (uintptr_t)t->data % a == 0 &&
           t->nbytes == (size_t)t->numel * a;
}

int lg_wmat_from_tensor(lg_wmat *W, const lg_tensor_info *t, lg_error *err)
{
    return lg_wmat_from_tensor_ex(W, t, NULL, err);
}

int lg_wmat_from_tensor_ex(lg_wmat *W, const lg_tensor_info *t, const lg_weights *release,
                           lg_error *err)
{
    if (!lg_wmat_usable(t))
        return lg_fail(err, "%s: tensor %s (%s) cannot be used as stored", t->file, t->name,
                       lg_dtype_name(t->dtype));
    const size_t n = (size_t)t->numel, step = release ? (size_t)1 << 22 : n;
    const size_t esz = lg_dtype_size(t->dtype);
    size_t bad = n;
    for (size_t at = 0; at < n && bad == n; at += step) { /* a piece at a time when released */
        const size_t end = n - at < step ? n : at + step;
        if (t->dtype == LG_DT_BF16) {
            const uint16_t *h = t->data;
#pragma omp parallel for schedule(static) reduction(min : bad)
            for (size_t i = at; i < end; i++)
                if ((h[i] & 0x7f80u) == 0x7f80u && i < bad)
                    bad = i;
        } else {
            const uint32_t *u = t->data;
#pragma omp parallel for schedule(static) reduction(min : bad)
            for (size_t i = at; i < end; i++)
                if ((u[i] & 0x7f800000u) == 0x7f800000u && i < bad)
                    bad = i;
        }
        lg_weights_release_bytes(release, t, at * esz, (end - at) * esz);
    }
    if (bad < n)
        return lg_fail(err, "%s: tensor %s has a NaN or infinite value at element %zu", t->file,
                       t->name, bad);
    W->dtype = t->dtype;
    W->data = t->data;
    W->rows = (int)t->shape[0];
    W->cols = (int)t->shape[1];
    return 0;
}

void lg_wmat_gather(float *out, const int32_t *ids, const lg_wmat *W, int N)
{
    const int C = W->cols;
    if (W->dtype == LG_DT_F32) {
        lg_embedding_forward_f32(out, ids, W->data, N, C);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const uint16_t *w = (const uint16_t *)W->data + (size_t)ids[n] * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = bf16f(w[c]);
    }
}

/* ---------------------------------------------------------------- dispatch */

/* auto: the kernel measured faster for the shape (README, "bf16 kernels"): */
static lg_wmat_kernel auto_kernel(int N, int rows, int cols)
{
    /* oneDNN's AMX/AVX512_BF16 matmul was faster at every 1B-model shape measured (README),
     * up to 2-4x the float32 sgemm; where it cannot run, dnnl_run fails and the tiled
     * kernel runs instead */
    (void)N, (void)rows, (void)cols;
    return LG_WK_ONEDNN;
}

void lg_wmat_forward_with(lg_wmat_kernel k, float *out, const float *in, const lg_wmat *W,
                          const float *bias, int N, int add)
{
    const int rows = W->rows, cols = W->cols;
    if (W->dtype == LG_DT_F32 && N == 1) {
        /* a matrix-vector product: sgemv reads W once, where sgemm would first copy (pack)
         * all of W for a single row */
        if (bias) {
            if (add)
                for (int o = 0; o < rows; o++)
                    out[o] += bias[o];
            else
                memcpy(out, bias, sizeof(float) * (size_t)rows);
        }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1, W->data, cols, in, 1,
                    bias || add ? 1 : 0, out, 1);
        return;
    }
    if (W->dtype == LG_DT_F32) {
        if (add)
            lg_matmul_forward_add_f32(out, in, W->data, bias, N, cols, rows);
        else
            lg_matmul_forward_f32(out, in, W->data, bias, N, cols, rows);
        return;
    }
    const uint16_t *w = W->data;
    if (N <= LG_WMAT_ROWS_MAX) {
        mark(1);
        rows_forward(out, in, w, bias, N, rows, cols, add);
        return;
    }
    if (k == LG_WK_AUTO)
        k = auto_kernel(N, rows, cols);
    if (k == LG_WK_ONEDNN && dnnl_run(out, in, w, N, cols, rows, 0, add) == 0) {
        mark(4);
        add_bias(out, bias, N, rows);
        return;
    }
    mark(2);
    tiled_forward(out, in, w, N, rows, cols, add);
    add_bias(out, bias, N, rows);
}

void lg_wmat_backward_in_with(lg_wmat_kernel k, float *din, const float *dout, const lg_wmat *W,
                              int N)
{
    const int rows = W->rows, cols = W->cols;
    if (W->dtype == LG_DT_F32) {
        lg_matmul_backward_f32(din, NULL, NULL, dout, NULL, W->data, N, cols, rows);
        return;
    }
    const uint16_t *w = W->data;
    if (N <= LG_WMAT_ROWS_MAX) {
        mark(1);
        rows_backward(din, dout, w, N, rows, cols);
        return;
    }
    if (k == LG_WK_AUTO)
        k = auto_kernel(N, cols, rows);
    if (k == LG_WK_ONEDNN && dnnl_run(din, dout, w, N, rows, cols, 1, 1) == 0) {
        mark(4);
        return;
    }
    mark(2);
    tiled_backward(din, dout, w, N, rows, cols);
}

void lg_wmat_forward(float *out, const float *in, const lg_wmat *W, const float *bias, int N,
                     int add)
{
    lg_wmat_forward_with(lg_wmat_get_kernel(), out, in, W, bias, N, add);
}

void lg_wmat_backward_in(float *din, const float *dout, const lg_wmat *W, int N)
{
    lg_wmat_backward_in_with(lg_wmat_get_kernel(), din, dout, W, N);
}
