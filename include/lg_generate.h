/* lg_generate — autoregressive inference over lg_model: a KV cache, a forward pass for new
 * tokens only, and a token sampler.
 *
 * lg_infer runs one token (or a chunk of prompt tokens) at the next free positions of the
 * cache: each layer appends its post-RoPE keys and values to the cache and attends over all
 * cached positions, so generating n tokens costs O(n) matrix-vector products instead of the
 * O(n²) of re-running lg_model_forward. It reads the model's parameters (m->p), and its
 * language/script vectors when lg_model_set_tags tagged sequence 0, and leaves the model
 * untouched; all buffers are allocated once by lg_infer_create.
 * lg_sampler draws the next token from logits: temperature (0 = greedy argmax), top-k, top-p
 * (nucleus), drawing from a seeded lg_rng, so a seed gives the same tokens on any machine. */
#ifndef LG_GENERATE_H
#define LG_GENERATE_H

#include <stdint.h>

#include "lg_model.h"
#include "lg_error.h"
#include "lg_rng.h"

/* ---- KV cache (lm/kv_cache.c) ---- */

typedef struct {
    int n_layers;
    int max_T;          /* positions a sequence may have */
    int slots;          /* rows held per layer: position p is row p % slots (a rolling cache
                           under a sliding window; max_T otherwise) */
    int kv_dim;         /* n_kv_heads · head_dim */
    int len;            /* positions filled: the next token goes at position len */
    float *mem;
    float **k, **v;     /* per layer [slots, kv_dim]; k after RoPE */
} lg_kv_cache;

lg_kv_cache *lg_kv_cache_create(const lg_config *cfg, int max_T, lg_error *err);
/* The same holding only `slots` rows (1 <= slots <= max_T), reused in turn. */
lg_kv_cache *lg_kv_cache_create_rolling(const lg_config *cfg, int max_T, int slots,
                                        lg_error *err);
/* Forgets every position (a new sequence); keeps the memory. */
void lg_kv_cache_reset(lg_kv_cache *c);
void lg_kv_cache_free(lg_kv_cache *c);

/* ---- inference forward (lm/infer.c) ---- */

typedef struct {
    const lg_model *m;
    lg_kv_cache *cache;
    int max_chunk;              /* tokens per pass; longer inputs are split */
    /* scratch for max_chunk rows */
    float *x, *xn, *rstd, *q, *atty, *gate, *up;
    float *rstd_qk;             /* [max_chunk × heads]: q/k-norm (qwen3) */
    float *knew, *vnew;         /* [max_chunk, kv_dim]: the chunk's keys and values */
    float *scores;              /* [n_score_rows, max_T]: one row per OpenMP thread */
    int n_score_rows;
    float *rope_cos, *rope_sin; /* [max_T, head_dim/2] */
    float *logits;              /* [V]: the last token's logits */
} lg_infer;

/* State for sequences of up to max_T positions, fed max_chunk tokens per pass
 * (max_chunk <= 0: 32). max_T may not exceed max_position_embeddings. Under a sliding
 * window the KV cache holds only window + max_chunk - 1 positions (rolling). */
lg_infer *lg_infer_create(const lg_model *m, int max_T, int max_chunk, lg_error *err);
void lg_infer_free(lg_infer *s);
/* Starts a new sequence at position 0. */
void lg_infer_reset(lg_infer *s);
/* Runs ids[n] at positions cache->len .. cache->len+n-1 and appends them to the cache.
 * With all_logits (n × V floats) every position's logits are written there; otherwise only
 * the last token's are computed (into s->logits). Returns the last token's logits, or NULL
 * (id outside the vocabulary, cache full, logits that are not finite numbers). */
const float *lg_infer_forward(lg_infer *s, const int32_t *ids, int n, float *all_logits,
                              lg_error *err);

/* ---- sampling (lm/sampler.c) ---- */

/* random numbers: lg_rng.h (the project's one seeded generator) */

typedef struct {
    float temperature;  /* 0: greedy (argmax) */
    int top_k;          /* 0: off */
    float top_p;        /* 1: off */
} lg_sampling;

typedef struct {
    int32_t id;
    float prob;
} lg_candidate;

typedef struct {
    lg_sampling opt;
    int V;
    lg_rng rng;
    lg_candidate *cand; /* [V] scratch */
} lg_sampler;

/* Checks the options: temperature >= 0, top_k >= 0, 0 < top_p <= 1. */
lg_sampler *lg_sampler_create(int V, const lg_sampling *opt, uint64_t seed, lg_error *err);
void lg_sampler_free(lg_sampler *s);
/* The distribution sampling draws from: softmax(logits / temperature), cut to the top_k
 * most probable tokens (ties at the k-th: exactly k, lower ids first), then to the smallest
 * most-probable set whose mass is >= top_p (in Hugging Face's order), renormalised. Writes s->cand[0..n-1]
 * sorted by falling probability (ties: lower id first) and returns n. Temperature 0 gives
 * the single argmax. Returns 0 (no candidate) when a logit is NaN or infinite. */
int lg_sampler_distribution(lg_sampler *s, const float *logits);
/* Draws the next token. Allocates nothing. Returns -1 when a logit is NaN or infinite. */
int32_t lg_sample(lg_sampler *s, const float *logits);
/* Index of the largest logit (the first on ties). */
int32_t lg_argmax(const float *logits, int V);

#endif
