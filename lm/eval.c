/* Held-out evaluation in chunked or sliding windows. */
#include "lg_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lg_ops.h"

int lg_eval_tokens(lg_model *m, const int32_t *ids, size_t n, size_t n_bytes, int window,
                   int stride, lg_eval_result *out, lg_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 2)
        return lg_fail(err, "evaluation needs at least 2 tokens, the text has %zu", n);
    if (window < 2)
        return lg_fail(err, "evaluation window %d is too short (at least 2 tokens)", window);
    const int max = m->cfg.max_position_embeddings;
    if (max > 0 && window > max)
        return lg_fail(err, "evaluation window %d exceeds the model's maximum sequence "
                            "length %d", window, max);
    if (stride == 0)
        stride = window - 1;
    if (stride < 1 || stride > window - 1)
        return lg_fail(err, "stride %d must be between 1 and window − 1 = %d", stride,
                       window - 1);
    int32_t *targets = malloc((size_t)window * sizeof *targets);
    if (!targets)
        return lg_fail(err, "out of memory");
    out->window = window;
    out->stride = stride;
    out->bytes = n_bytes;
    /* `predicted` is the first token no window has predicted yet. */
    size_t predicted = 1;
    for (size_t begin = 0; predicted < n; begin += (size_t)stride) {
        size_t end = begin + (size_t)window < n ? begin + (size_t)window : n;
        int T = (int)(end - begin);
        for (int t = 0; t < T; t++) {
            size_t next = begin + (size_t)t + 1; /* position t predicts token next */
            targets[t] = next < end && next >= predicted ? ids[next] : LG_IGNORE_INDEX;
        }
        if (lg_model_forward(m, ids + begin, targets, 1, T, err) < 0) {
            free(targets);
            return -1;
        }
        out->nats += (double)m->last_loss * m->counted;
        out->tokens += (size_t)m->counted;
        out->windows++;
        predicted = end;
    }
    free(targets);
    out->loss = out->nats / (double)out->tokens;
    out->perplexity = exp(out->loss);
    out->bits_per_byte = n_bytes ? out->nats / log(2.0) / (double)n_bytes : NAN;
    return 0;
}
