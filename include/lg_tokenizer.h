/* lg_tokenizer — what the core needs of a tokenizer, whatever its kind.
 *
 * The core (datasets, evaluation, training) encodes and decodes through this table of
 * functions and never names an implementation; the tokenize module provides them
 * (lg_tokenizer_load in lg_spm.h: a SentencePiece .model, or a Hugging Face tokenizer.json
 * with a BPE model). An implementation fills an lg_tokenizer_ops once and returns
 * lg_tokenizer values pointing at it. */
#ifndef LG_TOKENIZER_H
#define LG_TOKENIZER_H

#include <stddef.h>

#include "lg_error.h"

/* Ids of one encoded text; reuse one across calls to avoid reallocation. */
typedef struct {
    int *ids;
    size_t n, cap;
} lg_token_ids;

void lg_token_ids_free(lg_token_ids *ids);

typedef struct lg_tokenizer lg_tokenizer;

typedef struct {
    const char *kind;                      /* "sentencepiece" or "tokenizer.json" */
    int (*vocab_size)(const lg_tokenizer *t);
    /* len bytes of UTF-8 text to ids (no BOS/EOS added); 0 or -1. Invalid UTF-8 is an
     * error ("invalid UTF-8 at byte N"), never replaced: the caller names file and line */
    int (*encode)(const lg_tokenizer *t, const char *text, size_t len, lg_token_ids *out,
                  lg_error *err);
    /* ids to text: malloc'd, NUL-terminated, or NULL */
    char *(*decode)(const lg_tokenizer *t, const int *ids, size_t n, lg_error *err);
    /* the piece of an id ("" out of range), valid while t is open */
    const char *(*piece)(const lg_tokenizer *t, int id);
    int (*bos_id)(const lg_tokenizer *t); /* -1 when the tokenizer has none */
    int (*eos_id)(const lg_tokenizer *t);
    int (*pad_id)(const lg_tokenizer *t);
    void (*close)(lg_tokenizer *t);
    /* optional (NULL: -1 for every id / piece) */
    int (*unk_id)(const lg_tokenizer *t);
    /* the byte of a byte-fallback piece (<0xNN>), or -1 */
    int (*byte_of)(const lg_tokenizer *t, int id);
    /* the id of exactly this piece, or -1 */
    int (*piece_to_id)(const lg_tokenizer *t, const char *piece);
} lg_tokenizer_ops;

struct lg_tokenizer {
    const lg_tokenizer_ops *ops;
    void *impl;
    char path[4096]; /* where it was loaded from, for messages */
};

static inline int lg_tokenizer_unk_id(const lg_tokenizer *t)
{
    return t->ops->unk_id ? t->ops->unk_id(t) : -1;
}
static inline int lg_tokenizer_byte_of(const lg_tokenizer *t, int id)
{
    return t->ops->byte_of ? t->ops->byte_of(t, id) : -1;
}
static inline int lg_tokenizer_piece_to_id(const lg_tokenizer *t, const char *piece)
{
    return t->ops->piece_to_id ? t->ops->piece_to_id(t, piece) : -1;
}

/* Closes and frees t (NULL is fine). */
void lg_tokenizer_free(lg_tokenizer *t);

#endif
