/* lg_hf_trainer — a byte-level BPE tokenizer (as Llama-3 and Qwen2/3: the ByteLevel byte
 * alphabet, a Split pre-tokenizer with their regex, a ByteLevel decoder, merges) trained on
 * text and written as a Hugging Face tokenizer.json.
 *
 * Every line goes through the very tokenizer the file describes (its added tokens,
 * normalizer and pre-tokenizer, run by lingraft's tokenizer.json reader), so the words the
 * merges are learned from are exactly the words encoding gives the model. Training is the
 * classic BPE merge count over word counts: pair counts with the words each pair occurs in,
 * a max-heap of pairs updated lazily, each merge rewriting only the words that hold its pair.
 * Ties: the higher count first, then the smaller left id, then the smaller right id (ids in
 * vocabulary order: the 256 bytes in GPT-2's order, then merges in the order learned), so
 * the result depends only on the text and the options.
 * Module-private (tokenize); the program is `tokenize train --format hf-bpe`. */
#ifndef LG_HF_TRAIN_H
#define LG_HF_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

typedef struct {
    int vocab_size;            /* every id: 256 bytes + merged tokens + special tokens */
    int min_frequency;         /* pairs seen fewer times are never merged (>= 1) */
    const char *pre_tokenizer; /* "llama3", "qwen2" or "gpt2" */
    const char *normalizer;    /* "none", "nfc" or "nfkc" */
    /* instead of those two: the normalizer and pre-tokenizer of another tokenizer.json (a
     * base's), as JSON text ("null" for none); its pre-tokenizer must be byte-level */
    const char *normalizer_json, *pre_tokenizer_json;
    const char *bos, *eos;     /* special tokens (NULL or "": none) */
    const char *const *specials; /* more special tokens, after BOS and EOS */
    int n_specials;
    int add_bos, add_eos;      /* the post-processor puts BOS / EOS around a sequence */
} lg_hf_train_options;

void lg_hf_train_defaults(lg_hf_train_options *o);

typedef struct {
    int64_t words;        /* pre-tokenized words counted */
    int64_t unique_words;
    int merges;           /* merges learned */
    int model_vocab;      /* bytes + merged tokens (ids 0 .. model_vocab-1) */
    int vocab_size;       /* model_vocab + special tokens */
    int64_t last_count;   /* the count of the last pair merged */
    int64_t tokens;       /* tokens of the training words after the merges (count-weighted) */
    int64_t chars;        /* characters of the training words (count-weighted) */
} lg_hf_train_stats;

typedef struct lg_hf_trainer lg_hf_trainer;

/* Checks the options (a vocabulary below 256 + specials, an unknown pre-tokenizer, one that
 * is not byte-level, a special token given twice are errors) and builds the tokenizer the
 * text is read through. */
lg_hf_trainer *lg_hf_trainer_new(const lg_hf_train_options *o, lg_error *err);
void lg_hf_trainer_free(lg_hf_trainer *t);
/* Counts the words of len bytes of UTF-8 text (one line; invalid UTF-8 is an error). */
int lg_hf_trainer_add(lg_hf_trainer *t, const char *text, size_t len, lg_error *err);
/* Learns the merges and returns tokenizer.json (*json, malloc'd, NUL-terminated) and
 * tokenizer_config.json (*config). No words counted is an error. */
int lg_hf_trainer_train(lg_hf_trainer *t, char **json, char **config, lg_hf_train_stats *st,
                        lg_error *err);

#endif
