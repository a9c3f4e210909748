/* lg_eval — how well a model predicts held-out text: loss, perplexity, bits per byte.
 *
 * The token stream is read in windows of `window` tokens. Chunked (stride 0): each token is
 * predicted once and the context restarts every window − 1 tokens (consecutive windows
 * share only the token the next one starts from). Sliding (stride S < window): windows
 * start every S tokens and each predicts only its last S tokens, so every prediction has at
 * least window − S tokens of context. The first token of the stream is never predicted.
 * Bits per byte = total nats / ln 2 / UTF-8 bytes of the text: the measure that compares
 * models with different tokenizers. */
#ifndef LG_EVAL_H
#define LG_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"
#include "lg_model.h"

typedef struct {
    double nats;           /* summed over the predicted tokens */
    size_t tokens;         /* predicted tokens */
    size_t bytes;          /* UTF-8 bytes of the text; 0 when unknown */
    double loss;           /* nats per predicted token */
    double perplexity;     /* exp(loss) */
    double bits_per_byte;  /* NAN when bytes is 0 */
    int window, stride;    /* stride as used: window − 1 for chunked */
    size_t windows;        /* forward passes */
} lg_eval_result;

/* Evaluates ids[0..n) (n ≥ 2); window ≤ the model's maximum sequence length. */
int lg_eval_tokens(lg_model *m, const int32_t *ids, size_t n, size_t n_bytes, int window,
                   int stride, lg_eval_result *out, lg_error *err);

#endif
