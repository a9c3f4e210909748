/* The tokenizer interface's own helpers (implementations live in the tokenize module). */
#include "lg_tokenizer.h"

#include <stdlib.h>

void lg_token_ids_free(lg_token_ids *ids)
{
    free(ids->ids);
    ids->ids = NULL;
    ids->n = ids->cap = 0;
}

void lg_tokenizer_free(lg_tokenizer *t)
{
    if (!t)
        return;
    if (t->ops && t->ops->close)
        t->ops->close(t);
    free(t);
}
