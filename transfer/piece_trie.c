/* Byte trie with first-child / next-sibling links. */
#include "piece_trie.h"

#include <stdlib.h>
#include <string.h>

static int32_t new_node(piece_trie *t, uint8_t byte, lg_error *err)
{
    if (t->n == t->cap) {
        int32_t nc = t->cap ? t->cap * 2 : 1024;
        int32_t *a = realloc(t->first_child, (size_t)nc * sizeof *a);
        if (a) t->first_child = a;
        int32_t *b = a ? realloc(t->next_sibling, (size_t)nc * sizeof *b) : NULL;
        if (b) t->next_sibling = b;
        int32_t *c = b ? realloc(t->token, (size_t)nc * sizeof *c) : NULL;
        if (c) t->token = c;
        uint8_t *d = c ? realloc(t->byte, (size_t)nc) : NULL;
        if (d) t->byte = d;
        if (!d)
            return lg_fail(err, "out of memory for the piece trie");
        t->cap = nc;
    }
    int32_t id = t->n++;
    t->first_child[id] = -1;
    t->next_sibling[id] = -1;
    t->token[id] = -1;
    t->byte[id] = byte;
    return id;
}

int piece_trie_init(piece_trie *t, lg_error *err)
{
    memset(t, 0, sizeof *t);
    return new_node(t, 0, err) < 0 ? -1 : 0;
}

void piece_trie_free(piece_trie *t)
{
    free(t->first_child);
    free(t->next_sibling);
    free(t->token);
    free(t->byte);
    memset(t, 0, sizeof *t);
}

static int32_t child(const piece_trie *t, int32_t node, uint8_t b)
{
    for (int32_t c = t->first_child[node]; c >= 0; c = t->next_sibling[c])
        if (t->byte[c] == b)
            return c;
    return -1;
}

int piece_trie_insert(piece_trie *t, const char *s, size_t len, int32_t token, lg_error *err)
{
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)s[i];
        int32_t c = child(t, node, b);
        if (c < 0) {
            if ((c = new_node(t, b, err)) < 0)
                return -1;
            t->next_sibling[c] = t->first_child[node];
            t->first_child[node] = c;
        }
        node = c;
    }
    t->token[node] = token;
    return 0;
}

int32_t piece_trie_find(const piece_trie *t, const char *s, size_t len)
{
    int32_t node = 0;
    for (size_t i = 0; i < len && node >= 0; i++)
        node = child(t, node, (uint8_t)s[i]);
    return node;
}

int piece_trie_below(const piece_trie *t, int32_t node, int32_t *out, int max)
{
    /* breadth first with a bounded queue of nodes */
    enum { QUEUE = 4096 };
    int32_t queue[QUEUE];
    int head = 0, tail = 0, n = 0;
    for (int32_t c = t->first_child[node]; c >= 0 && tail < QUEUE; c = t->next_sibling[c])
        queue[tail++] = c;
    while (head < tail && n < max) {
        int32_t x = queue[head++];
        if (t->token[x] >= 0)
            out[n++] = t->token[x];
        for (int32_t c = t->first_child[x]; c >= 0 && tail < QUEUE; c = t->next_sibling[c])
            queue[tail++] = c;
    }
    return n;
}

int piece_trie_prefixes(const piece_trie *t, const char *s, size_t len, size_t min_len,
                        int32_t *tokens, int *lens, int max)
{
    int32_t node = 0;
    int n = 0;
    for (size_t i = 0; i < len && n < max; i++) {
        node = child(t, node, (uint8_t)s[i]);
        if (node < 0)
            break;
        if (t->token[node] >= 0 && i + 1 >= min_len) {
            tokens[n] = t->token[node];
            lens[n] = (int)(i + 1);
            n++;
        }
    }
    return n;
}
