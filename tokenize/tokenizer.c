/* The core's tokenizer interface (lg_tokenizer.h) over a SentencePiece model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf_tokenizer.h"
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
static int spm_unk(const lg_tokenizer *t) { return lg_spm_unk_id(spm_of(t)); }
static int spm_byte_of(const lg_tokenizer *t, int id)
{
    if (lg_spm_type(spm_of(t), id) != LG_SPM_BYTE)
        return -1;
    unsigned v;
    return sscanf(lg_spm_id_to_piece(spm_of(t), id), "<0x%2X>", &v) == 1 ? (int)v : -1;
}
static int spm_piece_to_id(const lg_tokenizer *t, const char *p)
{
    return lg_spm_piece_to_id(spm_of(t), p);
}

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
    .unk_id = spm_unk,
    .byte_of = spm_byte_of,
    .piece_to_id = spm_piece_to_id,
};

int lg_tokenizer_file_is_json(const char *path)
{
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".json"))
        return 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c;
    while ((c = getc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        ;
    fclose(f);
    return c == '{';
}

/* A tokenizer.json by name or content: a directory holding one, a file named *.json, or
 * a file whose first non-blank byte is '{' (a SentencePiece .model is protobuf). */
static int is_hf_json(const char *path, char *file, size_t cap)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (snprintf(file, cap, "%s/tokenizer.json", path) >= (int)cap)
            return 0;
        if (stat(file, &st) == 0)
            return 1;
        snprintf(file, cap, "%s/tokenizer.model", path);
        return 0;
    }
    snprintf(file, cap, "%s", path);
    return lg_tokenizer_file_is_json(path);
}

lg_tokenizer *lg_tokenizer_load(const char *path, lg_error *err)
{
    lg_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    char file[sizeof t->path];
    if (is_hf_json(path, file, sizeof file)) {
        free(t);
        lg_hf *h = lg_hf_load(file, err);
        return h ? lg_hf_tokenizer(h, file, err) : NULL;
    }
    path = file;
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
