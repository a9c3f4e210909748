/* Open addressing with linear probing over a mixed 64-bit key; grows at 1/2 load. */
#include "pair_map.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static int alloc_slots(pair_map *m, int64_t cap, lg_error *err)
{
    m->keys = malloc((size_t)cap * sizeof *m->keys);
    m->vals = malloc((size_t)cap * sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return lg_fail(err, "out of memory for a table of %lld token pairs", (long long)cap);
    }
    memset(m->keys, 0xff, (size_t)cap * sizeof *m->keys);
    m->cap = cap;
    m->n = 0;
    return 0;
}

int pair_map_init(pair_map *m, int64_t expected, lg_error *err)
{
    int64_t cap = 64;
    while (cap < 2 * expected)
        cap *= 2;
    return alloc_slots(m, cap, err);
}

void pair_map_free(pair_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void insert_new(pair_map *m, uint64_t key, double v)
{
    uint64_t mask = (uint64_t)m->cap - 1;
    uint64_t h = mix(key) & mask;
    while (m->keys[h] != PAIR_MAP_EMPTY && m->keys[h] != key)
        h = (h + 1) & mask;
    if (m->keys[h] == key) {
        m->vals[h] += v;
    } else {
        m->keys[h] = key;
        m->vals[h] = v;
        m->n++;
    }
}

static int rehash(pair_map *m, lg_error *err)
{
    pair_map old = *m;
    if (alloc_slots(m, old.cap * 2, err) < 0) {
        *m = old;
        return -1;
    }
    for (int64_t i = 0; i < old.cap; i++)
        if (old.keys[i] != PAIR_MAP_EMPTY)
            insert_new(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
    return 0;
}

int pair_map_add(pair_map *m, uint64_t key, double v, lg_error *err)
{
    if (2 * (m->n + 1) > m->cap && rehash(m, err) < 0)
        return -1;
    insert_new(m, key, v);
    return 0;
}

int pair_map_merge(pair_map *dst, const pair_map *src, lg_error *err)
{
    for (int64_t i = 0; i < src->cap; i++)
        if (src->keys[i] != PAIR_MAP_EMPTY && pair_map_add(dst, src->keys[i], src->vals[i], err) < 0)
            return -1;
    return 0;
}

/* LSD radix sort of keys with their values, 16 bits a pass. */
int pair_sort(uint64_t *k, double *v, int64_t n, lg_error *err)
{
    uint64_t *k2 = malloc((size_t)n * sizeof *k2 + 1);
    double *v2 = v ? malloc((size_t)n * sizeof *v2 + 1) : NULL;
    int64_t *cnt = malloc(65536 * sizeof *cnt);
    if (!k2 || (v && !v2) || !cnt) {
        free(k2);
        free(v2);
        free(cnt);
        return lg_fail(err, "out of memory sorting %lld token pairs", (long long)n);
    }
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (int64_t i = 0; i < n; i++)
            cnt[(k[i] >> shift) & 0xffff]++;
        if (cnt[(n ? (k[0] >> shift) & 0xffff : 0)] == n)
            continue; /* every key shares these bits */
        int64_t sum = 0;
        for (int b = 0; b < 65536; b++) {
            int64_t c = cnt[b];
            cnt[b] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t d = cnt[(k[i] >> shift) & 0xffff]++;
            k2[d] = k[i];
            if (v)
                v2[d] = v[i];
        }
        memcpy(k, k2, (size_t)n * sizeof *k);
        if (v)
            memcpy(v, v2, (size_t)n * sizeof *v);
    }
    free(k2);
    free(v2);
    free(cnt);
    return 0;
}

int64_t pair_map_sorted(pair_map *m, uint64_t **keys, double **vals, lg_error *err)
{
    int64_t n = 0;
    for (int64_t i = 0; i < m->cap; i++)
        if (m->keys[i] != PAIR_MAP_EMPTY) {
            m->keys[n] = m->keys[i];
            m->vals[n] = m->vals[i];
            n++;
        }
    if (pair_sort(m->keys, m->vals, n, err) < 0)
        return -1;
    *keys = m->keys;
    *vals = m->vals;
    m->keys = NULL;
    m->vals = NULL;
    m->cap = 0;
    m->n = 0;
    return n;
}
