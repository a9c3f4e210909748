/* Token streams from id files or text, packed into sequences, shuffled per epoch. */
#include "lg_train.h"

#include "lg_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg_rng.h"
#include "lg_tokenizer.h"

/* A growing token stream. */
static int push(lg_dataset *ds, size_t *cap, int32_t id, lg_error *err)
{
    if (ds->n_tokens == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1 << 16;
        int32_t *t = realloc(ds->tokens, ncap * sizeof *t);
        if (!t)
            return lg_fail(err, "%s: out of memory after %zu tokens", ds->path, ds->n_tokens);
        ds->tokens = t;
        *cap = ncap;
    }
    ds->tokens[ds->n_tokens++] = id;
    return 0;
}

static lg_dataset *dataset_new(const char *path, const lg_dataset_options *opt, lg_error *err)
{
    /* the markers framing every document must be tokens of the model */
    if (opt->bos_id >= opt->vocab_size || opt->eos_id >= opt->vocab_size) {
        lg_fail(err, "%s: the %s id %d is outside the vocabulary (%d)", path,
                opt->bos_id >= opt->vocab_size ? "bos" : "eos",
                opt->bos_id >= opt->vocab_size ? opt->bos_id : opt->eos_id, opt->vocab_size);
        return NULL;
    }
    lg_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        lg_fail(err, "%s: out of memory", path);
        return NULL;
    }
    snprintf(ds->path, sizeof ds->path, "%s", path);
    ds->opt = *opt;
    return ds;
}

/* One document's ids (already checked) framed by the model's markers. */
static int add_document(lg_dataset *ds, size_t *cap, const int *ids, size_t n, lg_error *err)
{
    if (n == 0)
        return 0;
    if (ds->opt.bos_id >= 0 && push(ds, cap, ds->opt.bos_id, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (push(ds, cap, ids[i], err) < 0)
            return -1;
    if (ds->opt.eos_id >= 0 && push(ds, cap, ds->opt.eos_id, err) < 0)
        return -1;
    ds->n_docs++;
    return 0;
}

/* Shuffles 0..n_seqs-1 for ds->pos.epoch: Fisher–Yates driven by seed and epoch. */
static void make_order(lg_dataset *ds)
{
    for (size_t i = 0; i < ds->n_seqs; i++)
        ds->order[i] = i;
    if (!ds->opt.shuffle)
        return;
    lg_rng rng;
    lg_rng_seed(&rng, ds->opt.seed * 0x100000001B3ull + (uint64_t)ds->pos.epoch);
    for (size_t i = ds->n_seqs; i > 1; i--) {
        size_t j = (size_t)(lg_rng_next(&rng) % i);
        size_t t = ds->order[i - 1];
        ds->order[i - 1] = ds->order[j];
        ds->order[j] = t;
    }
}

/* Checks the stream and cuts it into sequences. */
static lg_dataset *finish(lg_dataset *ds, lg_error *err)
{
    if (ds->n_tokens == 0) {
        lg_fail(err, "%s: empty: no tokens to %s", ds->path,
                ds->opt.seq_len > 0 ? "train on" : "evaluate");
        lg_dataset_free(ds);
        return NULL;
    }
    if (ds->opt.seq_len > 0) {
        ds->n_seqs = ds->n_tokens / (size_t)ds->opt.seq_len;
        if (ds->n_seqs == 0) {
            lg_fail(err, "%s: %zu tokens, fewer than one sequence of %d", ds->path,
                    ds->n_tokens, ds->opt.seq_len);
            lg_dataset_free(ds);
            return NULL;
        }
        ds->order = malloc(ds->n_seqs * sizeof *ds->order);
        if (!ds->order) {
            lg_fail(err, "%s: out of memory", ds->path);
            lg_dataset_free(ds);
            return NULL;
        }
        make_order(ds);
    }
    return ds;
}

/* One line, one document, to its token ids (valid until the next call): what the id and the
 * text loaders differ in. */
typedef int (*line_parser)(void *ctx, lg_dataset *ds, const char *line, size_t len, long lineno,
                           const int **ids, size_t *n, lg_error *err);

/* Reads path line by line, each line a document turned into ids by parse. */
static lg_dataset *load_lines(const char *path, const lg_dataset_options *opt, line_parser parse,
                              void *ctx, lg_error *err)
{
    lg_corpus_reader *in = lg_corpus_open(path, err);
    if (!in)
        return NULL;
    lg_dataset *ds = dataset_new(path, opt, err);
    size_t cap = 0;
    long lineno = 0;
    const char *line;
    size_t len;
    int failed = !ds, rc;
    while (!failed && (rc = lg_corpus_next(in, &line, &len, err)) != 0) {
        const int *ids;
        size_t n;
        failed = rc < 0 || parse(ctx, ds, line, len, ++lineno, &ids, &n, err) < 0 ||
                 add_document(ds, &cap, ids, n, err) < 0;
    }
    lg_corpus_close(in);
    if (failed) {
        lg_dataset_free(ds);
        return NULL;
    }
    return finish(ds, err);
}

typedef struct {
    int *doc; /* the line's ids, reused from line to line */
    size_t cap;
} id_line;

/* Decimal ids separated by white space, each below the vocabulary size. */
static int parse_ids(void *ctx, lg_dataset *ds, const char *line, size_t len, long lineno,
                     const int **ids, size_t *n, lg_error *err)
{
    (void)len;
    id_line *b = ctx;
    size_t doc_n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long long id = strtoll(p, &end, 10);
        if (end == p || errno || (*end && !strchr(" \t\r\n", *end)) || *p == '-' || *p == '+') {
            const char *stop = p;
            while (*stop && !strchr(" \t\r\n", *stop))
                stop++;
            return lg_fail(err, "%s:%ld: '%.*s' is not a token id", ds->path, lineno,
                           (int)(stop - p > 40 ? 40 : stop - p), p);
        }
        if (id >= ds->opt.vocab_size)
            return lg_fail(err, "%s:%ld: token id %lld is outside the vocabulary (%d)", ds->path,
                           lineno, id, ds->opt.vocab_size);
        if (doc_n == b->cap) {
            size_t ncap = b->cap ? b->cap * 2 : 256;
            int *d = realloc(b->doc, ncap * sizeof *d);
            if (!d)
                return lg_fail(err, "%s:%ld: out of memory", ds->path, lineno);
            b->doc = d;
            b->cap = ncap;
        }
        b->doc[doc_n++] = (int)id;
        p = end;
    }
    *ids = b->doc;
    *n = doc_n;
    return 0;
}

lg_dataset *lg_dataset_load_ids(const char *path, const lg_dataset_options *opt, lg_error *err)
{
    id_line b = {0};
    lg_dataset *ds = load_lines(path, opt, parse_ids, &b, err);
    free(b.doc);
    return ds;
}

typedef struct {
    const lg_tokenizer *tok;
    lg_token_ids ids; /* reused from line to line */
} text_line;

static int parse_text(void *ctx, lg_dataset *ds, const char *line, size_t len, long lineno,
                      const int **ids, size_t *n, lg_error *err)
{
    text_line *t = ctx;
    ds->n_bytes += len + 1; /* the line and its newline */
    if (t->tok->ops->encode(t->tok, line, len, &t->ids, err) < 0)
        return lg_fail_context(err, "%s:%ld", ds->path, lineno);
    *ids = t->ids.ids;
    *n = t->ids.n;
    return 0;
}

lg_dataset *lg_dataset_load_text(const char *path, const lg_tokenizer *tok,
                                 const lg_dataset_options *opt, lg_error *err)
{
    const int n_pieces = tok->ops->vocab_size(tok);
    if (n_pieces > opt->vocab_size) {
        lg_fail(err, "%s: the tokenizer %s has %d pieces, more than the model's vocabulary (%d)",
                path, tok->path, n_pieces, opt->vocab_size);
        return NULL;
    }
    text_line t = {.tok = tok};
    lg_dataset *ds = load_lines(path, opt, parse_text, &t, err);
    lg_token_ids_free(&t.ids);
    return ds;
}

void lg_dataset_free(lg_dataset *ds)
{
    if (!ds)
        return;
    free(ds->tokens);
    free(ds->order);
    free(ds);
}

void lg_dataset_next_batch(lg_dataset *ds, int32_t *ids, int B)
{
    lg_dataset_next_batch_shard(ds, ids, B, 0, 1);
}

void lg_dataset_next_batch_shard(lg_dataset *ds, int32_t *ids, int B, int rank, int world)
{
    const size_t T = (size_t)ds->opt.seq_len;
    const long first = (long)rank * B, end = first + B;
    for (long b = 0; b < (long)world * B; b++) {
        if (ds->pos.next == ds->n_seqs) {
            ds->pos.epoch++;
            ds->pos.next = 0;
            make_order(ds);
        }
        size_t s = ds->order[ds->pos.next++];
        if (b >= first && b < end)
            memcpy(ids + (size_t)(b - first) * T, ds->tokens + s * T, T * sizeof *ids);
    }
}

int lg_dataset_seek(lg_dataset *ds, lg_data_position pos, lg_error *err)
{
    if (pos.epoch < 0 || pos.next > ds->n_seqs)
        return lg_fail(err, "%s: position (epoch %ld, sequence %zu) is outside the data "
                            "(%zu sequences); was the checkpoint made on other data?",
                       ds->path, pos.epoch, pos.next, ds->n_seqs);
    ds->pos = pos;
    make_order(ds);
    return 0;
}
