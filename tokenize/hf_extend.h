/* lg_hf_extend — a byte-level BPE tokenizer.json (Llama-3, Qwen2/3) extended with a target
 * tokenizer's pieces: every base id keeps its token, the new tokens get the ids after the
 * base's last one, and merges that build them are appended after the base's merges.
 *
 * Merge paths: a new token T is added only when the base's own pre-tokenizer keeps T's text
 * as one word (else no word could ever hold it). The current tokenizer (the base's merges
 * and those appended so far) encodes T's bytes as t1 .. tk; merges (t1, t2) -> u1,
 * (u1, t3) -> u2, ..., (u(k-2), tk) -> T are appended, the u's added as intermediate
 * tokens when the vocabulary lacks them. Appended merges rank after every base merge, so they
 * fire only on what the base's merges leave: a word spelled exactly T encodes as T, and base
 * text changes only where it holds the new sequences. Target pieces come in the target's id
 * order (frequent and shorter pieces first for a BPE target), so the u's are mostly target
 * pieces already added.
 * Module-private (tokenize); the program is `tokenize extend` with a tokenizer.json base. */
#ifndef LG_HF_EXTEND_H
#define LG_HF_EXTEND_H

#include <stddef.h>

#include "lg_error.h"
#include "lg_tokenizer.h"

typedef struct {
    char *bytes; /* the piece's text as bytes (malloc'd) */
    size_t len;
    int source_id; /* its id in the target */
} lg_hf_new_piece;

/* The pieces of a target tokenizer as text bytes, in id order: a SentencePiece model's
 * normal and user-defined pieces (U+2581 a space), a tokenizer.json's vocabulary (byte-level
 * strings as their bytes; Metaspace-style pieces with U+2581 a space; <0xNN> byte pieces and
 * added tokens left out). */
int lg_hf_target_pieces(const lg_tokenizer *target, lg_hf_new_piece **out, size_t *n,
                        lg_error *err);
void lg_hf_new_pieces_free(lg_hf_new_piece *p, size_t n);

typedef struct {
    int base_size;          /* ids 0 .. base_size-1 kept */
    int size;               /* ids of the result */
    int added_target;       /* target pieces added */
    int added_intermediate; /* tokens added only as steps of a merge path */
    int present;            /* target pieces the base has already */
    int split;              /* target pieces the base's pre-tokenizer would split */
    int new_merges;
    int whole;              /* added target pieces that their own text encodes to, alone */
} lg_hf_extend_stats;

/* base_json: the base tokenizer.json's bytes (name for messages). *out_json: the extended
 * file (malloc'd); *source: for each new id base_size + k, the index into pieces it came
 * from, or -1 for an intermediate token. A base that is not byte-level BPE is refused. */
int lg_hf_extend(const char *base_json, size_t base_len, const char *base_name,
                 const lg_hf_new_piece *pieces, size_t n, char **out_json, int **source,
                 lg_hf_extend_stats *st, lg_error *err);

#endif
