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

/* ---- How a tokenizer's pieces spell text --------------------------------------------
 * SentencePiece and SentencePiece-style tokenizer.json models write a space as the word
 * mark U+2581 and a byte without a piece as <0xNN>; byte-level BPE (GPT-2, Llama-3, Qwen)
 * writes every byte as one character of a 256-character alphabet (a space is U+0120). */
typedef struct {
    int byte_level;   /* 1: byte-level alphabet, 0: word mark and <0xNN> pieces */
    const char *mark; /* the word mark as UTF-8: U+0120 or U+2581 */
    int byte_id[256]; /* the id of the piece of each byte alone, -1 when none */
} lg_piece_spelling;

/* The code point the byte-level alphabet writes byte b as; the byte of code point c in that
 * alphabet, or -1. */
unsigned lg_byte_level_char(unsigned b);
int lg_byte_level_byte(unsigned c);
/* How t spells text: byte-level when every one of the 256 alphabet characters is a piece
 * and the piece of a space decodes to " "; else the word mark and byte-fallback pieces.
 * Returns 0 or -1 (out of memory while decoding). */
int lg_piece_spelling_init(lg_piece_spelling *s, const lg_tokenizer *t, lg_error *err);
/* The byte the piece of id stands for alone (a byte piece: <0xNN>, or a character of the
 * byte-level alphabet), or -1. */
int lg_piece_byte(const lg_piece_spelling *s, const lg_tokenizer *t, int id);
/* The text the piece of id stands for (word marks as spaces, a byte piece as its byte),
 * written NUL-terminated into out; its length, or -1 when it does not fit in cap bytes or is
 * not spelled in s (a character outside the byte-level alphabet). */
long lg_piece_text(const lg_piece_spelling *s, const lg_tokenizer *t, int id, char *out,
                   size_t cap);
/* text (len bytes) as a piece would spell it in s, NUL-terminated into out: its length, or
 * -1 when it does not fit. (Word marks for spaces; a byte-level alphabet character a byte.) */
long lg_piece_spell(const lg_piece_spelling *s, const char *text, size_t len, char *out,
                    size_t cap);

/* Closes and frees t (NULL is fine). */
void lg_tokenizer_free(lg_tokenizer *t);

#endif
