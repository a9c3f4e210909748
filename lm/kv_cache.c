/* The KV cache of incremental inference: per layer, the keys (after RoPE) and values of
 * every position seen so far (or, under a sliding window, of the last ones: a ring of
 * `slots` rows), so a new token attends without recomputing them. */
#include "lg_generate.h"

#include <stdlib.h>

lg_kv_cache *lg_kv_cache_create(const lg_config *cfg, int max_T, lg_error *err)
{
    return lg_kv_cache_create_rolling(cfg, max_T, max_T, err);
}

lg_kv_cache *lg_kv_cache_create_rolling(const lg_config *cfg, int max_T, int slots,
                                        lg_error *err)
{
    if (max_T <= 0 || slots <= 0 || slots > max_T) {
        lg_fail(err, "KV cache: %d positions in %d rows requested", max_T, slots);
        return NULL;
    }
    lg_kv_cache *c = calloc(1, sizeof *c);
    if (!c) {
        lg_fail(err, "out of memory for the KV cache");
        return NULL;
    }
    c->n_layers = cfg->n_layers;
    c->max_T = max_T;
    c->slots = slots;
    c->kv_dim = cfg->n_kv_heads * cfg->head_dim;
    size_t per = (size_t)slots * c->kv_dim;
    c->mem = malloc(2 * per * cfg->n_layers * sizeof(float));
    c->k = calloc((size_t)cfg->n_layers, sizeof *c->k);
    c->v = calloc((size_t)cfg->n_layers, sizeof *c->v);
    if (!c->mem || !c->k || !c->v) {
        double gib = 2.0 * (double)per * cfg->n_layers * sizeof(float) / (1 << 30);
        lg_kv_cache_free(c);
        lg_fail(err, "out of memory for a KV cache of %d positions (%.2f GiB)", slots, gib);
        return NULL;
    }
    for (int l = 0; l < cfg->n_layers; l++) {
        c->k[l] = c->mem + (size_t)2 * l * per;
        c->v[l] = c->k[l] + per;
    }
    return c;
}

void lg_kv_cache_reset(lg_kv_cache *c)
{
    c->len = 0;
}

void lg_kv_cache_free(lg_kv_cache *c)
{
    if (!c)
        return;
    free(c->mem);
    free(c->k);
    free(c->v);
    free(c);
}
