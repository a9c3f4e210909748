/* lg_seen_set — remembers which strings have been seen, by 64-bit fingerprint.
 *
 * Used to drop duplicate segments and to keep held-out text out of training text.
 * Only fingerprints are stored (8 bytes a string); two different strings collide
 * with probability ~n²/2^65, about 1e-8 for a million segments. */
#ifndef LG_SEEN_SET_H
#define LG_SEEN_SET_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *slots; /* 0 marks an empty slot */
    size_t cap;      /* a power of two */
    size_t count;
} lg_seen_set;

void lg_seen_init(lg_seen_set *set);
void lg_seen_free(lg_seen_set *set);

/* 64-bit fingerprint of the bytes (never 0). */
uint64_t lg_fingerprint(const void *data, size_t n);

/* Adds the fingerprint; returns 1 when it was new, 0 when already present, -1 out of memory. */
int lg_seen_add(lg_seen_set *set, uint64_t fp);
int lg_seen_has(const lg_seen_set *set, uint64_t fp);

#endif
