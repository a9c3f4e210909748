/* pair_map — an open-addressing hash map from a (row, col) pair of 32-bit ids to a double,
 * used to collect co-occurring token pairs and expected link counts in memory proportional
 * to the number of distinct pairs.  Internal to the transfer module. */
#ifndef LG_PAIR_MAP_H
#define LG_PAIR_MAP_H

#include <stdint.h>
#include "lg_error.h"

typedef struct {
    uint64_t *keys;    /* row << 32 | col; PAIR_MAP_EMPTY marks a free slot */
    double *vals;
    int64_t cap;       /* power of two */
    int64_t n;
} pair_map;

#define PAIR_MAP_EMPTY UINT64_MAX

static inline uint64_t pair_key(uint32_t row, uint32_t col)
{
    return (uint64_t)row << 32 | col;
}

int pair_map_init(pair_map *m, int64_t expected, lg_error *err);
void pair_map_free(pair_map *m);
/* Adds v to the value of key (inserting it with 0 first). */
int pair_map_add(pair_map *m, uint64_t key, double v, lg_error *err);
/* Adds every entry of src into dst. */
int pair_map_merge(pair_map *dst, const pair_map *src, lg_error *err);
/* Moves the entries out as arrays sorted by key (caller frees) and returns their number,
 * or -1; the map is left empty. */
int64_t pair_map_sorted(pair_map *m, uint64_t **keys, double **vals, lg_error *err);
/* Sorts n keys (and their values, when vals is not NULL) ascending. */
int pair_sort(uint64_t *keys, double *vals, int64_t n, lg_error *err);

#endif
