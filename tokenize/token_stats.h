/* token_stats — how a tokenizer cuts a text: fertility and friends (internal to tokenize).
 *
 * Fertility is tokens per whitespace-separated word; characters are Unicode code points.
 * Unknown and byte-fallback shares are fractions of all tokens; vocabulary used is the
 * number of distinct ids seen. */
#ifndef LG_TOKEN_STATS_H
#define LG_TOKEN_STATS_H

#include <stdint.h>
#include "lg_error.h"
#include "lg_spm.h"

typedef struct {
    const lg_spm *model;        /* a SentencePiece model, or */
    const lg_tokenizer *tok;    /* any tokenizer (lg_token_stats_init_tokenizer) */
    int64_t lines, words, chars, bytes, tokens, unknown, byte_fallback, vocab_used;
    uint8_t *seen;      /* one flag per id */
    lg_token_ids ids;     /* reused encoding buffer */
} lg_token_stats;

int lg_token_stats_init(lg_token_stats *s, const lg_spm *model, lg_error *err);
int lg_token_stats_init_tokenizer(lg_token_stats *s, const lg_tokenizer *tok, lg_error *err);
/* Encodes one line and adds it to the counts. */
int lg_token_stats_add(lg_token_stats *s, const char *line, size_t len, lg_error *err);
void lg_token_stats_free(lg_token_stats *s);

/* Whitespace-separated words in a UTF-8 line (ASCII and Unicode spaces). */
int64_t lg_count_words(const char *line, size_t len);

#endif
