/* lg_hf — a Hugging Face tokenizer.json (model BPE) read and run by lingraft, exactly as
 * Hugging Face's tokenizers library (0.23) encodes and decodes:
 *   added tokens (special or not; lstrip, rstrip, single_word, normalized) split out first,
 *   then the normalizer (NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence),
 *   the pre-tokenizer (Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit,
 *   Punctuation, Sequence) and the BPE model (merges as strings or pairs, ignore_merges,
 *   byte_fallback, unk_token or none, fuse_unk, continuing_subword_prefix,
 *   end_of_word_suffix); decoding through its decoder (ByteLevel, Metaspace, ByteFallback,
 *   Fuse, Strip, Replace, Sequence). Any other component is refused, naming it and the file.
 * Module-private (tokenize): the rest of lingraft reaches it through lg_tokenizer_load. */
#ifndef LG_HF_TOKENIZER_H
#define LG_HF_TOKENIZER_H

#include <stddef.h>

#include "lg_error.h"
#include "lg_tokenizer.h"

typedef struct lg_hf lg_hf;

/* The tokenizer.json at path; a directory means DIR/tokenizer.json. */
lg_hf *lg_hf_load(const char *path, lg_error *err);
/* From the file's bytes; `name` is used in messages. */
lg_hf *lg_hf_load_json(const char *text, size_t len, const char *name, lg_error *err);
void lg_hf_free(lg_hf *t);

/* Ids 0 .. size-1: the model's vocabulary and the added tokens past it. */
int lg_hf_vocab_size(const lg_hf *t);
/* The piece of id ("" out of range): the vocabulary's string, or the added token's. */
const char *lg_hf_piece(const lg_hf *t, int id);
/* The id of exactly this piece (an added token's content first), or -1. */
int lg_hf_piece_to_id(const lg_hf *t, const char *piece);
int lg_hf_unk_id(const lg_hf *t);
/* The byte of a byte-fallback piece <0xNN> (only when the model has byte_fallback), or -1. */
int lg_hf_byte_of(const lg_hf *t, int id);
/* 1 when id is an added token marked special. */
int lg_hf_is_special(const lg_hf *t, int id);
/* BOS from the post-processor (TemplateProcessing's first special token) or a known name
 * (<s>, <bos>, <|begin_of_text|>); EOS and PAD by known names; -1 when none. */
int lg_hf_bos_id(const lg_hf *t);
int lg_hf_eos_id(const lg_hf *t);
int lg_hf_pad_id(const lg_hf *t);

/* Encodes len bytes of UTF-8 (no special tokens added): ids appended to out after clearing
 * it. Invalid UTF-8 is an error ("invalid UTF-8 at byte N"). */
int lg_hf_encode(lg_hf *t, const char *text, size_t len, lg_token_ids *out, lg_error *err);
/* Runs the added-token split, normalizer and pre-tokenizer of t over len bytes of UTF-8 and
 * calls word() for each pre-tokenized word (in the model's alphabet: byte-level strings for a
 * ByteLevel pre-tokenizer) instead of the BPE model; added tokens are skipped. For a
 * trainer: words counted this way are what encoding gives the model. Not thread-safe on one
 * t. word returns 0, or -1 with err set (which stops the walk). */
int lg_hf_pretokenize(lg_hf *t, const char *text, size_t len,
                      int (*word)(void *ctx, const char *w, size_t n, lg_error *err), void *ctx,
                      lg_error *err);
/* The post-processor's special tokens for one sequence (TemplateProcessing's "single",
 * inside a Sequence or not; ByteLevel adds none) put around ids, as tokenizers'
 * add_special_tokens does. -1 when the post-processor is of another kind (named). */
int lg_hf_add_special(const lg_hf *t, lg_token_ids *ids, lg_error *err);
/* Decodes ids through the decoder (special tokens kept unless skip_special): malloc'd. */
char *lg_hf_decode(const lg_hf *t, const int *ids, size_t n, int skip_special, lg_error *err);

/* t behind the core's interface (kind "tokenizer.json"); takes ownership of t. */
lg_tokenizer *lg_hf_tokenizer(lg_hf *t, const char *path, lg_error *err);
/* The lg_hf behind a tokenizer, or NULL when it is of another kind. */
lg_hf *lg_tokenizer_hf(const lg_tokenizer *t);

#endif
