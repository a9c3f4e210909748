/* Open-addressing set of 64-bit fingerprints with linear probing. */
#include "lg_seen_set.h"

#include <stdlib.h>
#include <string.h>

void lg_seen_init(lg_seen_set *set)
{
    memset(set, 0, sizeof *set);
}

void lg_seen_free(lg_seen_set *set)
{
    free(set->slots);
    memset(set, 0, sizeof *set);
}

/* FNV-1a over the bytes, then a murmur-style finaliser to spread the bits. */
uint64_t lg_fingerprint(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= (uint64_t)n;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

static size_t probe(const uint64_t *slots, size_t cap, uint64_t fp)
{
    size_t i = (size_t)fp & (cap - 1);
    while (slots[i] && slots[i] != fp)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(lg_seen_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 1024;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < set->cap; i++)
        if (set->slots[i])
            slots[probe(slots, cap, set->slots[i])] = set->slots[i];
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return 0;
}

int lg_seen_add(lg_seen_set *set, uint64_t fp)
{
    if (!fp)
        fp = 1;
    if ((set->count + 1) * 2 > set->cap && grow(set) < 0)
        return -1;
    size_t i = probe(set->slots, set->cap, fp);
    if (set->slots[i])
        return 0;
    set->slots[i] = fp;
    set->count++;
    return 1;
}

int lg_seen_has(const lg_seen_set *set, uint64_t fp)
{
    if (!fp)
        fp = 1;
    return set->cap && set->slots[probe(set->slots, set->cap, fp)] == fp;
}
