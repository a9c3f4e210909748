/* Finite-difference checks of every layer's backward, in float64.
 * For each layer: L = Σ r ⊙ forward(x) with a fixed random r; the analytic gradient from
 * _backward must match (L(x+h) − L(x−h)) / 2h for every input element and parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_ops.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0 * 2 - 1;
}
static double *rand_vec(size_t n)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = urand();
    return v;
}
static double *zeros(size_t n) { return calloc(n, sizeof(double)); }
static double dotd(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* A layer under test: loss(ctx) runs the forward and returns Σ r ⊙ out. */
typedef double (*loss_fn)(void *ctx);

/* Compares grad[i] with the central difference of loss w.r.t. x[i]. */
static void check_grad(const char *what, loss_fn loss, void *ctx, double *x, const double *grad,
                       size_t n)
{
    const double h = 1e-6;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = loss(ctx);
        x[i] = keep - h;
        double lm = loss(ctx);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double e = fabs(fd - grad[i]) / fmax(1.0, fabs(fd));
        if (e > worst)
            worst = e;
    }
    printf("%-28s max error %.3g over %zu elements\n", what, worst, n);
    assert_true(worst < 1e-6);
}

/* ---- RMSNorm ---- */
enum { N = 6, C = 8 };
typedef struct { double *x, *w, *r, *out, *rstd; } norm_ctx;
static double norm_loss(void *p)
{
    norm_ctx *c = p;
    lg_rmsnorm_forward_f64(c->out, c->rstd, c->x, c->w, N, C, 1e-5f);
    return dotd(c->r, c->out, N * C);
}
static void rmsnorm_backward_matches_fd(void **state)
{
    (void)state;
    norm_ctx c = {rand_vec(N * C), rand_vec(C), rand_vec(N * C), zeros(N * C), zeros(N)};
    double *dx = zeros(N * C), *dw = zeros(C);
    norm_loss(&c);
    lg_rmsnorm_backward_f64(dx, dw, c.r, c.x, c.w, c.rstd, N, C);
    check_grad("rmsnorm dx", norm_loss, &c, c.x, dx, N * C);
    check_grad("rmsnorm dw", norm_loss, &c, c.w, dw, C);
    free(c.x); free(c.w); free(c.r); free(c.out); free(c.rstd); free(dx); free(dw);
}

/* ---- matmul with bias ---- */
enum { IC = 5, OC = 7 };
typedef struct { double *in, *W, *b, *r, *out; } mm_ctx;
static double mm_loss(void *p)
{
    mm_ctx *c = p;
    lg_matmul_forward_f64(c->out, c->in, c->W, c->b, N, IC, OC);
    return dotd(c->r, c->out, N * OC);
}
static void matmul_backward_matches_fd(void **state)
{
    (void)state;
    mm_ctx c = {rand_vec(N * IC), rand_vec(OC * IC), rand_vec(OC), rand_vec(N * OC), zeros(N * OC)};
    double *din = zeros(N * IC), *dW = zeros(OC * IC), *db = zeros(OC);
    lg_matmul_backward_f64(din, dW, db, c.r, c.in, c.W, N, IC, OC);
    check_grad("matmul din", mm_loss, &c, c.in, din, N * IC);
    check_grad("matmul dW", mm_loss, &c, c.W, dW, OC * IC);
    check_grad("matmul dbias", mm_loss, &c, c.b, db, OC);
    free(c.in); free(c.W); free(c.b); free(c.r); free(c.out); free(din); free(dW); free(db);
}

/* ---- RoPE ---- */
enum { RT = 3, RB = 2, NH = 2, HD = 8 };
typedef struct { double *x, *work, *cos_t, *sin_t, *r; } rope_ctx;
static double rope_loss(void *p)
{
    rope_ctx *c = p;
    memcpy(c->work, c->x, sizeof(double) * RB * RT * NH * HD);
    lg_rope_forward_f64(c->work, c->cos_t, c->sin_t, RB * RT, RT, NH, HD);
    return dotd(c->r, c->work, RB * RT * NH * HD);
}
/* inv_freqs NULL: the default tables; else scaled ones (linear, llama3) */
static void rope_check(const float *inv_freqs)
{
    size_t n = RB * RT * NH * HD;
    rope_ctx c = {rand_vec(n), zeros(n), zeros(RT * HD / 2), zeros(RT * HD / 2), rand_vec(n)};
    lg_rope_tables_freq_f64(c.cos_t, c.sin_t, RT, HD, 10000.0, inv_freqs);
    double *dx = zeros(n);
    memcpy(dx, c.r, sizeof(double) * n);
    lg_rope_backward_f64(dx, c.cos_t, c.sin_t, RB * RT, RT, NH, HD);
    check_grad("rope dx", rope_loss, &c, c.x, dx, n);
    free(c.x); free(c.work); free(c.cos_t); free(c.sin_t); free(c.r); free(dx);
}
static void rope_backward_matches_fd(void **state)
{
    (void)state;
    rope_check(NULL);
}
/* RoPE scaling changes the angles only: backward with the scaled tables (a llama3-style
 * set: kept, blended and divided frequencies, at positions where they differ) */
static void rope_scaled_backward_matches_fd(void **state)
{
    (void)state;
    float inv[HD / 2];
    for (int i = 0; i < HD / 2; i++)
        inv[i] = powf(10000.0f, -(float)(2 * i) / HD) / (i == 0 ? 1.0f : i == 1 ? 3.5f : 8.0f);
    rope_check(inv);
}

/* ---- attention with GQA ---- */
typedef struct { int B, T, nh, nkv, hd, window; double *q, *k, *v, *att, *out, *r; } att_ctx;
static double att_loss(void *p)
{
    att_ctx *c = p;
    lg_attention_forward_f64(c->out, c->att, c->q, c->k, c->v, c->B, c->T, c->nh, c->nkv, c->hd,
                             c->window);
    return dotd(c->r, c->out, (size_t)c->B * c->T * c->nh * c->hd);
}
static void attention_matches_fd(int B, int T, int nh, int nkv, int hd, int window)
{
    size_t nq = (size_t)B * T * nh * hd, nk = (size_t)B * T * nkv * hd,
           na = (size_t)B * nh * T * T;
    att_ctx c = {B, T, nh, nkv, hd, window, rand_vec(nq), rand_vec(nk), rand_vec(nk), zeros(na),
                 zeros(nq), rand_vec(nq)};
    att_loss(&c);
    /* causal: probabilities above the diagonal are zero, each row sums to 1; with a window,
     * those of positions window or more before the query too, and the others are not */
    for (int row = 0; row < B * nh * T; row++) {
        int t = row % T;
        double s = 0;
        for (int j = 0; j < T; j++) {
            s += c.att[(size_t)row * T + j];
            const int outside = j > t || (window > 0 && j <= t - window);
            assert_true((c.att[(size_t)row * T + j] == 0) == outside);
        }
        assert_true(fabs(s - 1) < 1e-12);
    }
    double *dq = zeros(nq), *dk = zeros(nk), *dv = zeros(nk), *datt = zeros(na);
    lg_attention_backward_f64(dq, dk, dv, datt, c.r, c.att, c.q, c.k, c.v, B, T, nh, nkv, hd);
    check_grad("attention dq", att_loss, &c, c.q, dq, nq);
    check_grad("attention dk", att_loss, &c, c.k, dk, nk);
    check_grad("attention dv", att_loss, &c, c.v, dv, nk);
    free(c.q); free(c.k); free(c.v); free(c.att); free(c.out); free(c.r);
    free(dq); free(dk); free(dv); free(datt);
}
static void attention_backward_matches_fd(void **state)
{
    (void)state;
    attention_matches_fd(2, 5, 4, 2, 3, 0);
}
/* Mistral's sliding window: each query sees its last 3 positions */
static void windowed_attention_matches_fd(void **state)
{
    (void)state;
    attention_matches_fd(2, 7, 4, 2, 3, 3);
    attention_matches_fd(1, 70, 2, 1, 2, 5);   /* across query blocks */
}
/* longer than one block of query rows (LG_ATTN_QBLOCK = 64), with a partial last block */
static void attention_blocks_match_fd(void **state)
{
    (void)state;
    attention_matches_fd(1, 70, 2, 1, 2, 0);
}

/* ---- SwiGLU ---- */
typedef struct { double *g, *u, *h, *r; } glu_ctx;
static double glu_loss(void *p)
{
    glu_ctx *c = p;
    lg_swiglu_forward_f64(c->h, c->g, c->u, N * C);
    return dotd(c->r, c->h, N * C);
}
static void swiglu_backward_matches_fd(void **state)
{
    (void)state;
    glu_ctx c = {rand_vec(N * C), rand_vec(N * C), zeros(N * C), rand_vec(N * C)};
    for (int i = 0; i < N * C; i++)
        c.g[i] *= 4; /* exercise the sigmoid's tails */
    double *dg = zeros(N * C), *du = zeros(N * C);
    lg_swiglu_backward_f64(dg, du, c.r, c.g, c.u, N * C);
    check_grad("swiglu dgate", glu_loss, &c, c.g, dg, N * C);
    check_grad("swiglu dup", glu_loss, &c, c.u, du, N * C);
    free(c.g); free(c.u); free(c.h); free(c.r); free(dg); free(du);
}

/* ---- cross-entropy with an ignored row ---- */
enum { V = 11 };
typedef struct { double *logits; int32_t *tgt; } ce_ctx;
static double ce_loss(void *p)
{
    ce_ctx *c = p;
    return lg_cross_entropy_forward_f64(NULL, NULL, c->logits, c->tgt, N, V, NULL);
}
static void cross_entropy_backward_matches_fd(void **state)
{
    (void)state;
    int32_t tgt[N] = {3, 0, LG_IGNORE_INDEX, 10, 7, 7};
    ce_ctx c = {rand_vec(N * V), tgt};
    int counted = 0;
    double lse[N];
    lg_cross_entropy_forward_f64(NULL, lse, c.logits, tgt, N, V, &counted);
    assert_int_equal(counted, N - 1);
    double *d = zeros(N * V), *d_kept = zeros(N * V);
    lg_cross_entropy_backward_f64(d, c.logits, NULL, tgt, N, V, 1.0 / counted);
    check_grad("cross-entropy dlogits", ce_loss, &c, c.logits, d, N * V);
    for (int j = 0; j < V; j++)
        assert_true(d[2 * V + j] == 0); /* the ignored row gets no gradient */
    /* with the forward's log-sum-exp kept: the same gradient, exactly */
    lg_cross_entropy_backward_f64(d_kept, c.logits, lse, tgt, N, V, 1.0 / counted);
    assert_memory_equal(d, d_kept, sizeof(double) * N * V);
    free(c.logits); free(d); free(d_kept);
}

/* ---- cross-entropy over a vocabulary of several chunks whose maximum keeps growing ---- */
static void cross_entropy_long_rows(void **state)
{
    (void)state;
    enum { LV = 5000 };
    double *row = rand_vec(LV);
    for (int j = 0; j < LV; j++)
        row[j] = 30.0 * j / LV + row[j]; /* each chunk's max exceeds the last */
    double mx = row[0], s = 0;
    for (int j = 1; j < LV; j++)
        mx = fmax(mx, row[j]);
    for (int j = 0; j < LV; j++)
        s += exp(row[j] - mx);
    const int32_t tgt[1] = {17};
    double lse = 0;
    double loss = lg_cross_entropy_forward_f64(NULL, &lse, row, tgt, 1, LV, NULL);
    assert_true(fabs(lse - (mx + log(s))) < 1e-12 * fabs(lse));
    assert_true(fabs(loss - (mx + log(s) - row[17])) < 1e-12 * fabs(loss));
    free(row);
}

/* ---- embedding (a repeated id accumulates) ---- */
typedef struct { double *table, *out, *r; const int32_t *ids; } emb_ctx;
static double emb_loss(void *p)
{
    emb_ctx *c = p;
    lg_embedding_forward_f64(c->out, c->ids, c->table, N, C);
    return dotd(c->r, c->out, N * C);
}
static void embedding_backward_matches_fd(void **state)
{
    (void)state;
    const int32_t ids[N] = {1, 4, 1, 0, 2, 4};
    emb_ctx c = {rand_vec(5 * C), zeros(N * C), rand_vec(N * C), ids};
    double *dt = zeros(5 * C);
    lg_embedding_backward_f64(dt, c.r, ids, N, C);
    check_grad("embedding dtable", emb_loss, &c, c.table, dt, 5 * C);
    free(c.table); free(c.out); free(c.r); free(dt);
}

/* ---- per-sequence vector add (LangSAMP); two sequences share index 1, one has none ---- */
enum { SB = 4, ST = 3 };
typedef struct { double *x, *table, *work, *r; const int32_t *idx; } seq_ctx;
static double seq_loss(void *p)
{
    seq_ctx *c = p;
    memcpy(c->work, c->x, sizeof(double) * SB * ST * C);
    lg_sequence_add_forward_f64(c->work, c->table, c->idx, SB, ST, C);
    return dotd(c->r, c->work, SB * ST * C);
}
static void sequence_add_backward_matches_fd(void **state)
{
    (void)state;
    const int32_t idx[SB] = {1, -1, 0, 1};
    seq_ctx c = {rand_vec(SB * ST * C), rand_vec(2 * C), zeros(SB * ST * C), rand_vec(SB * ST * C), idx};
    double *dt = zeros(2 * C);
    lg_sequence_add_backward_f64(dt, c.r, idx, SB, ST, C);
    check_grad("sequence add dtable", seq_loss, &c, c.table, dt, 2 * C);
    seq_loss(&c);
    for (int j = 0; j < ST * C; j++) /* the untagged sequence is untouched */
        assert_true(c.work[ST * C + j] == c.x[ST * C + j]);
    free(c.x); free(c.table); free(c.work); free(c.r); free(dt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rmsnorm_backward_matches_fd),
        cmocka_unit_test(matmul_backward_matches_fd),
        cmocka_unit_test(rope_backward_matches_fd),
        cmocka_unit_test(rope_scaled_backward_matches_fd),
        cmocka_unit_test(attention_backward_matches_fd),
        cmocka_unit_test(attention_blocks_match_fd),
        cmocka_unit_test(windowed_attention_matches_fd),
        cmocka_unit_test(swiglu_backward_matches_fd),
        cmocka_unit_test(cross_entropy_backward_matches_fd),
        cmocka_unit_test(cross_entropy_long_rows),
        cmocka_unit_test(embedding_backward_matches_fd),
        cmocka_unit_test(sequence_add_backward_matches_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
