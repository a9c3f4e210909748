/* The core's tokenizer interface (lg_tokenizer.h) over a SentencePiece model. */
#include <stdio.h>
#include <stdlib.h>

#include "lg_spm.h"

static const lg_spm *spm_of(const lg_tokenizer *t) { return t->impl; }

static int spm_vocab_size(const lg_tokenizer *t) { return lg_spm_vocab_size(spm_of(t)); }
static int spm_bos(const lg_tokenizer *t) { return lg_spm_bos_id(spm_of(t)); }
static int spm_eos(const lg_tokenizer *t) { return lg_spm_eos_id(spm_of(t)); }
static int spm_pad(const lg_tokenizer *t) { return lg_spm_pad_id(spm_of(t)); }

static int spm_encode(const lg_tokenizer *t, const char *text, size_t len, lg_token_ids *out,
                      lg_error *err)
{
    return lg_spm_encode(spm_of(t), text, len, out, err);
}

static char *spm_decode(const lg_tokenizer *t, const int *ids, size_t n, lg_error *err)
{
    return lg_spm_decode(spm_of(t), ids, n, err);
}

static const char *spm_piece(const lg_tokenizer *t, int id)
{
    return lg_spm_id_to_piece(spm_of(t), id);
}

static void spm_close(lg_tokenizer *t) { lg_spm_free(t->impl); }

static const lg_tokenizer_ops spm_ops = {
    .kind = "sentencepiece",
    .vocab_size = spm_vocab_size,
    .encode = spm_encode,
    .decode = spm_decode,
    .piece = spm_piece,
    .bos_id = spm_bos,
    .eos_id = spm_eos,
    .pad_id = spm_pad,
    .close = spm_close,
};

lg_tokenizer *lg_tokenizer_load(const char *path, lg_error *err)
{
    lg_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    if (!(t->impl = lg_spm_load(path, err))) {
        free(t);
        return NULL;
    }
    t->ops = &spm_ops;
    snprintf(t->path, sizeof t->path, "%s", path);
    return t;
}

const lg_spm *lg_tokenizer_spm(const lg_tokenizer *t)
{
    return t && t->ops == &spm_ops ? t->impl : NULL;
}
