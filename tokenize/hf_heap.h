/* hf_heap — a binary heap of fixed-size items in a growing array: the item that comes out
 * first is the one `before` puts before every other. Written for strict orders (no two items
 * equal), so that what comes out, in which order, is the same whatever the heap's shape:
 * the BPE trainer's pairs by count (hf_train.c) and the encoder's merges by rank (hf_bpe.c).
 * Inline, so that each caller's comparator and item size are known where the heap runs. */
#ifndef HF_HEAP_H
#define HF_HEAP_H

#include <stdlib.h>
#include <string.h>

typedef struct {
    void *v;
    size_t n, cap;
} hf_heap;

/* Non-zero when item x comes out before item y. */
typedef int (*hf_heap_before)(const void *x, const void *y);

/* Adds a copy of item (size bytes), growing the array from first_cap items; -1 when out of
 * memory (the heap as it was). */
static inline int hf_heap_push(hf_heap *h, const void *item, size_t size, size_t first_cap,
                               hf_heap_before before)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : first_cap;
        void *grown = realloc(h->v, cap * size);
        if (!grown)
            return -1;
        h->v = grown;
        h->cap = cap;
    }
    char *v = h->v;
    size_t i = h->n++;
    while (i > 0) { /* the hole moves up while item comes before its parent */
        size_t up = (i - 1) / 2;
        if (!before(item, v + up * size))
            break;
        memcpy(v + i * size, v + up * size, size);
        i = up;
    }
    memcpy(v + i * size, item, size);
    return 0;
}

/* Takes the first item out into top (size bytes); the heap must not be empty. */
static inline void hf_heap_pop(hf_heap *h, void *top, size_t size, hf_heap_before before)
{
    char *v = h->v;
    memcpy(top, v, size);
    const char *last = v + --h->n * size; /* past the heap now: only slots before it move */
    size_t i = 0;
    for (;;) { /* the hole moves down to the earlier child while that comes before last */
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(v + (c + 1) * size, v + c * size))
            c++;
        if (!before(v + c * size, last))
            break;
        memcpy(v + i * size, v + c * size, size);
        i = c;
    }
    if (h->n)
        memcpy(v + i * size, last, size);
}

#endif
