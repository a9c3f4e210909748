/* piece_trie — a byte trie over token pieces, answering the two questions of the
 * trans-tokenization fallback without scanning the vocabulary: which pieces start with a
 * given piece (its subtree) and which pieces occur inside it (walks from each offset).
 * Internal to the transfer module. */
#ifndef LG_PIECE_TRIE_H
#define LG_PIECE_TRIE_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

typedef struct {
    int32_t *first_child, *next_sibling, *token; /* token: -1 when no piece ends here */
    uint8_t *byte;
    int32_t n, cap;
} piece_trie;

int piece_trie_init(piece_trie *t, lg_error *err);
void piece_trie_free(piece_trie *t);
int piece_trie_insert(piece_trie *t, const char *s, size_t len, int32_t token, lg_error *err);
/* The node spelling s[0..len), or -1. */
int32_t piece_trie_find(const piece_trie *t, const char *s, size_t len);
/* Tokens strictly below node, shortest first (breadth first), at most max; returns how many. */
int piece_trie_below(const piece_trie *t, int32_t node, int32_t *out, int max);
/* Tokens whose pieces are prefixes of s[0..len) (length >= min_len), with their lengths;
 * returns how many (at most max). */
int piece_trie_prefixes(const piece_trie *t, const char *s, size_t len, size_t min_len,
                        int32_t *tokens, int *lens, int max);

#endif
