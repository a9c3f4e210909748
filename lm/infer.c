/* Incremental inference: the forward pass of new tokens only, over a KV cache.
 * The same computation as lg_model_forward (the same block, lg_block_forward), restricted
 * to the rows of the new tokens:
 * their keys and values go into the cache (RoPE applied at their absolute positions) and
 * each query attends over every cached position up to its own (the last sliding_window
 * ones under a sliding window, whose cache is a ring of window + chunk - 1 rows). */
#include "lg_generate.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lg_block.h"
#include "lg_langsamp.h"
#include "lg_ops.h"

#define DEFAULT_CHUNK 32

lg_infer *lg_infer_create(const lg_model *m, int max_T, int max_chunk, lg_error *err)
{
    const lg_config *c = &m->cfg;
    if (m->lora) {
        lg_fail(err, "inference reads the base weights only: merge the LoRA adapter first "
                     "(lg_lora_merge)");
        return NULL;
    }
    if (max_T <= 0) {
        lg_fail(err, "inference for %d positions requested", max_T);
        return NULL;
    }
    if (c->max_position_embeddings > 0 && max_T > c->max_position_embeddings) {
        lg_fail(err, "%d positions exceed the model's maximum of %d (max_position_embeddings)",
                max_T, c->max_position_embeddings);
        return NULL;
    }
    if (max_chunk <= 0)
        max_chunk = DEFAULT_CHUNK;
    if (max_chunk > max_T)
        max_chunk = max_T;
    lg_infer *s = calloc(1, sizeof *s);
    if (!s) {
        lg_fail(err, "out of memory for inference state");
        return NULL;
    }
    s->m = m;
    s->max_chunk = max_chunk;
    /* a sliding window needs the last `window` keys of every query of a chunk: the
     * window plus the chunk's other rows */
    int slots = max_T;
    if (c->sliding_window > 0 && (long)c->sliding_window + max_chunk - 1 < max_T)
        slots = c->sliding_window + max_chunk - 1;
    s->cache = lg_kv_cache_create_rolling(c, max_T, slots, err);
    if (!s->cache) {
        free(s);
        return NULL;
    }
    const size_t N = (size_t)max_chunk, C = c->hidden_size, F = c->intermediate_size;
    const size_t QD = (size_t)c->n_heads * c->head_dim, half = (size_t)c->head_dim / 2;
    s->n_score_rows = omp_get_max_threads();
    s->x = malloc(N * C * sizeof(float));
    s->xn = malloc(N * C * sizeof(float));
    s->rstd = malloc(N * sizeof(float));
    s->rstd_qk = malloc(N * (size_t)c->n_heads * sizeof(float));
    s->knew = malloc(N * (size_t)c->n_kv_heads * c->head_dim * sizeof(float));
    s->vnew = malloc(N * (size_t)c->n_kv_heads * c->head_dim * sizeof(float));
    s->q = malloc(N * QD * sizeof(float));
    s->atty = malloc(N * QD * sizeof(float));
    s->gate = malloc(N * F * sizeof(float));
    s->up = malloc(N * F * sizeof(float));
    s->scores = malloc((size_t)s->n_score_rows * max_T * sizeof(float));
    s->rope_cos = malloc((size_t)max_T * half * sizeof(float));
    s->rope_sin = malloc((size_t)max_T * half * sizeof(float));
    s->logits = malloc((size_t)c->vocab_size * sizeof(float));
    if (!s->x || !s->xn || !s->rstd || !s->rstd_qk || !s->knew || !s->vnew || !s->q || !s->atty || !s->gate || !s->up || !s->scores ||
        !s->rope_cos || !s->rope_sin || !s->logits) {
        lg_infer_free(s);
        lg_fail(err, "out of memory for inference buffers");
        return NULL;
    }
    /* the angles depend on the position only, so one table of max_T rows serves every
     * chunk: rows pos0.. of it are the table of a chunk starting at pos0 */
    lg_rope_tables_cfg(c, s->rope_cos, s->rope_sin, max_T);
    return s;
}

void lg_infer_free(lg_infer *s)
{
    if (!s)
        return;
    lg_kv_cache_free(s->cache);
    free(s->x);
    free(s->xn);
    free(s->rstd);
    free(s->rstd_qk);
    free(s->knew);
    free(s->vnew);
    free(s->q);
    free(s->atty);
    free(s->gate);
    free(s->up);
    free(s->scores);
    free(s->rope_cos);
    free(s->rope_sin);
    free(s->logits);
    free(s);
}

void lg_infer_reset(lg_infer *s)
{
    lg_kv_cache_reset(s->cache);
}

/* atty[n, nh·hd] for the n queries of the chunk at positions pos0.., each over cached
 * positions lo..its own (causal; lo = 0, or under a sliding window the first of its last
 * `window` positions), query head h reading KV head h / (nh / nkv). Position j is row
 * j % slots of the cache. */
static void attend(lg_infer *s, int layer, int pos0, int n)
{
    const lg_config *c = &s->m->cfg;
    const int nh = c->n_heads, hd = c->head_dim, group = c->n_heads / c->n_kv_heads;
    const int qd = nh * hd, kd = s->cache->kv_dim, max_T = s->cache->max_T;
    const int slots = s->cache->slots, window = c->sliding_window;
    const float *K = s->cache->k[layer], *V = s->cache->v[layer];
    const float scale = (float)(1.0 / sqrt((double)hd));
    const int tasks = n * nh;
#pragma omp parallel for schedule(static) num_threads(s->n_score_rows)
    for (int task = 0; task < tasks; task++) {
        const int i = task / nh, h = task % nh, g = h / group, t = pos0 + i;
        const int lo = window > 0 && t - window + 1 > 0 ? t - window + 1 : 0;
        float *p = s->scores + (size_t)omp_get_thread_num() * max_T; /* p[j - lo] */
        const float *qt = s->q + (size_t)i * qd + (size_t)h * hd;
        float mx = -INFINITY;
        for (int j = lo; j <= t; j++) {
            const float *kj = K + (size_t)(j % slots) * kd + (size_t)g * hd;
            float dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int d = 0; d < hd; d++)
                dot += qt[d] * kj[d];
            p[j - lo] = dot * scale;
            if (p[j - lo] > mx)
                mx = p[j - lo];
        }
        double sum = 0;
        for (int j = lo; j <= t; j++) {
            p[j - lo] = (float)exp((double)(p[j - lo] - mx));
            sum += p[j - lo];
        }
        const float inv = (float)(1.0 / sum);
        float *ot = s->atty + (size_t)i * qd + (size_t)h * hd;
        memset(ot, 0, sizeof(float) * (size_t)hd);
        for (int j = lo; j <= t; j++) {
            const float w = p[j - lo] * inv, *vj = V + (size_t)(j % slots) * kd + (size_t)g * hd;
#pragma omp simd
            for (int d = 0; d < hd; d++)
                ot[d] += w * vj[d];
        }
    }
}

/* Decoding's attention (lg_block_io.attend): the chunk's keys and values into the cache,
 * position p at row p % slots, then every query over the cache. */
typedef struct {
    lg_infer *s;
    int pos0;
} decode_ctx;

static void decode_attend(void *ctx, int l, float *q, float *k, float *v, float *atty, int n)
{
    const decode_ctx *d = ctx;
    lg_infer *s = d->s;
    const int KD = s->cache->kv_dim;
    (void)q;
    (void)atty;   /* attend() reads s->q and writes s->atty, the buffers given */
    for (int i = 0; i < n; i++) {
        const size_t row = (size_t)((d->pos0 + i) % s->cache->slots) * KD;
        memcpy(s->cache->k[l] + row, k + (size_t)i * KD, sizeof(float) * (size_t)KD);
        memcpy(s->cache->v[l] + row, v + (size_t)i * KD, sizeof(float) * (size_t)KD);
    }
    attend(s, l, d->pos0, n);
}

/* One pass over n <= max_chunk tokens. Logits: all n rows into `all` when given, else the
 * last row into s->logits when want_last. */
static void run_chunk(lg_infer *s, const int32_t *ids, int n, float *all, int want_last)
{
    const lg_model *m = s->m;
    const lg_config *c = &m->cfg;
    const int C = c->hidden_size, half = c->head_dim / 2;
    const int pos0 = s->cache->len;
    const float *cos_t = s->rope_cos + (size_t)pos0 * half, *sin_t = s->rope_sin + (size_t)pos0 * half;
    float *x = s->x, *xn = s->xn;
    lg_model_embed(m, x, ids, n);
    if (m->p.pos_embed) /* GPT-2: learned positions pos0.. */
        lg_position_add_forward_f32(x, m->p.pos_embed, n, n, pos0, C);
    decode_ctx dctx = {s, pos0};
    const lg_block_io io = {
        .x = x, .mid = x, .out = x, /* in place: x += attention, x += MLP */
        .ln1 = xn, .rstd1 = s->rstd, .ln2 = xn, .rstd2 = s->rstd,
        .q = s->q, .k = s->knew, .v = s->vnew, .rstdq = s->rstd_qk, .rstdk = s->rstd_qk,
        .atty = s->atty, .gate = s->gate, .up = s->up, .h = s->gate,
        /* the chunk's rows are positions pos0..pos0+n-1: a table of n rows from pos0 */
        .rope_cos = cos_t, .rope_sin = sin_t, .rope_T = n,
        .attend = decode_attend, .ctx = &dctx};
    for (int l = 0; l < c->n_layers; l++)
        lg_block_forward(m, l, &io, n);
    if (m->langsamp && m->tagged) /* LangSAMP: sequence 0's language/script vectors */
        for (int i = 0; i < 2; i++)
            lg_sequence_add_forward_f32(x, i ? m->langsamp->script : m->langsamp->lang,
                                        m->tags + (size_t)i * m->tag_cap, 1, n, C);
    s->cache->len += n;
    if (all) {
        lg_block_norm(m, 0, 2, xn, s->rstd, x, n);
        lg_head_linear(m, all, xn, n);
    } else if (want_last) {
        /* a prompt needs only its last token's prediction: skip the LM head elsewhere */
        lg_block_norm(m, 0, 2, xn, s->rstd, x + (size_t)(n - 1) * C, 1);
        lg_head_linear(m, s->logits, xn, 1);
    }
}

const float *lg_infer_forward(lg_infer *s, const int32_t *ids, int n, float *all_logits,
                              lg_error *err)
{
    const int V = s->m->cfg.vocab_size;
    if (n <= 0) {
        lg_fail(err, "inference: no tokens given");
        return NULL;
    }
    if (n > s->cache->max_T - s->cache->len) {
        lg_fail(err, "inference: %d more tokens after %d do not fit the %d positions reserved",
                n, s->cache->len, s->cache->max_T);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V) {
            lg_fail(err, "token id %d at position %d is outside the vocabulary (%d)", ids[i],
                    s->cache->len + i, V);
            return NULL;
        }
    for (int done = 0; done < n;) {
        int k = n - done < s->max_chunk ? n - done : s->max_chunk;
        run_chunk(s, ids + done, k, all_logits ? all_logits + (size_t)done * V : NULL,
                  done + k == n);
        done += k;
    }
    /* a NaN or infinity would make the sampler's choice meaningless */
    if (lg_logits_finite(all_logits ? all_logits : s->logits,
                         (size_t)(all_logits ? n : 1) * V, V, err) < 0)
        return NULL;
    return all_logits ? all_logits + (size_t)(n - 1) * V : s->logits;
}
