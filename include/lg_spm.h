/* lg_spm — a C interface to SentencePiece (Debian's libsentencepiece).
 *
 * Load a .model (from a file or from serialized ModelProto bytes), encode text to
 * ids or pieces, decode, look up pieces, ids, scores and types, and train a new
 * model from a stream of lines.  Nothing here exposes C++; exceptions and
 * SentencePiece status codes are turned into lg_error messages.
 * Ids are 0 .. lg_spm_vocab_size()-1; special ids are -1 when the model has none. */
#ifndef LG_SPM_H
#define LG_SPM_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"
#include "lg_tokenizer.h"

typedef struct lg_spm lg_spm;   /* a loaded model; read-only after loading */

/* SentencePiece's ModelProto.SentencePiece.Type values (as GGUF token_type uses them). */
enum lg_spm_type {
    LG_SPM_NORMAL = 1,
    LG_SPM_UNKNOWN = 2,
    LG_SPM_CONTROL = 3,
    LG_SPM_USER_DEFINED = 4,
    LG_SPM_UNUSED = 5,
    LG_SPM_BYTE = 6,
};

/* Pieces of one encoded text, each followed by '\0' in data, in order:
 *   const char *p = out.data; for (size_t i = 0; i < out.n; i++, p += strlen(p) + 1) ...
 * These are the strings `spm_encode --output_format=piece` prints (for an unknown
 * character without byte fallback, the character itself). */
typedef struct {
    char *data;
    size_t len, cap;
    size_t n;
} lg_spm_pieces;

lg_spm *lg_spm_load(const char *path, lg_error *err);
/* `name` is used in messages only (e.g. the file the bytes came from). */
lg_spm *lg_spm_load_serialized(const void *data, size_t len, const char *name, lg_error *err);
void lg_spm_free(lg_spm *m);

int lg_spm_vocab_size(const lg_spm *m);
/* The piece of id; "" when id is out of range.  Valid while m is loaded. */
const char *lg_spm_id_to_piece(const lg_spm *m, int id);
/* The id of exactly this piece, or -1 when the vocabulary lacks it (never unk). */
int lg_spm_piece_to_id(const lg_spm *m, const char *piece);
float lg_spm_score(const lg_spm *m, int id);
enum lg_spm_type lg_spm_type(const lg_spm *m, int id);
int lg_spm_unk_id(const lg_spm *m);
int lg_spm_bos_id(const lg_spm *m);
int lg_spm_eos_id(const lg_spm *m);
int lg_spm_pad_id(const lg_spm *m);

/* Encodes len bytes of UTF-8 text (no BOS/EOS added); out->n ids.  Returns 0 or -1.
 * Invalid UTF-8 is an error ("invalid UTF-8 at byte N"; the caller names file and line),
 * for the pieces too: one rule for every command that reads text. */
int lg_spm_encode(const lg_spm *m, const char *text, size_t len, lg_token_ids *out, lg_error *err);
int lg_spm_encode_pieces(const lg_spm *m, const char *text, size_t len, lg_spm_pieces *out,
                         lg_error *err);
/* Decodes ids or pieces back to text: a malloc'd NUL-terminated string, or NULL. */
char *lg_spm_decode(const lg_spm *m, const int *ids, size_t n, lg_error *err);
char *lg_spm_decode_pieces(const lg_spm *m, const char *const *pieces, size_t n, lg_error *err);
void lg_spm_pieces_free(lg_spm_pieces *pieces);

/* The model's serialized ModelProto (the bytes of a .model file): a malloc'd copy
 * in *data, its size in *len.  Returns 0 or -1. */
int lg_spm_serialized(const lg_spm *m, uint8_t **data, size_t *len, lg_error *err);

/* What the model does with text besides its pieces, from its ModelProto. */
typedef struct {
    char normalizer[64];          /* NormalizerSpec.name: "identity", "nmt_nfkc", ... ("" when
                                     the model names none) */
    size_t charsmap_bytes;        /* its character map; 0: no character is rewritten */
    int add_dummy_prefix;         /* a "▁" before the text */
    int remove_extra_whitespaces; /* leading, trailing and repeated spaces dropped */
    int escape_whitespaces;       /* spaces become "▁" */
    int model_type;               /* 1 unigram, 2 bpe, 3 word, 4 char */
    int treat_whitespace_as_suffix;
    int byte_pieces;              /* pieces of type BYTE (256 with byte fallback) */
    int user_defined_pieces;      /* pieces of type USER_DEFINED */
} lg_spm_info;

void lg_spm_get_info(const lg_spm *m, lg_spm_info *out);
/* "unigram", "bpe", "word", "char". */
const char *lg_spm_model_type_name(int model_type);
/* One phrase for messages: "identity (text is encoded as given)" or
 * "nmt_nfkc (NFKC inside the model), collapses spaces", ... */
void lg_spm_describe_normalizer(const lg_spm *m, char *buf, size_t n);
/* The code points (of planes 0-3 and 14, surrogates excepted) that m encodes, each alone,
 * into other ids than the same model without its normaliser does (identity, spaces kept):
 * the characters its normaliser rewrites or drops. *count, and up to `n_examples` of
 * them as UTF-8 separated by spaces in examples (NUL-terminated, examples_len bytes at
 * most). 0 for a model whose normaliser changes nothing. Returns 0 or -1. */
int lg_spm_count_normalized(const lg_spm *m, long *count, char *examples, size_t examples_len,
                            int n_examples, lg_error *err);
/* Whether llama.cpp's SentencePiece tokenizer (GGUF tokenizer.ggml.model "llama") can
 * encode every text as m does. It runs SentencePiece's BPE merge over the text as given,
 * spaces escaped to "▁" and a "▁" prepended (tokenizer.ggml.add_space_prefix), with
 * byte fallback for characters outside the pieces; it applies no normaliser, and it cuts
 * the text at user-defined pieces and prepends "▁" to the text after each. Returns 1
 * when it can, 0 when it cannot, with the reasons in why (counts included), -1 on
 * error. */
int lg_spm_llama_cpp_check(const lg_spm *m, char *why, size_t why_len, lg_error *err);

/* The tokenizer at path behind the core's interface (lg_tokenizer.h): a SentencePiece
 * .model. Free it with lg_tokenizer_free. */
lg_tokenizer *lg_tokenizer_load(const char *path, lg_error *err);
/* 1 when the file at path is a tokenizer.json by name (*.json) or content (its first
 * non-blank byte is '{'; a SentencePiece .model is protobuf), else 0. */
int lg_tokenizer_file_is_json(const char *path);
/* The SentencePiece model behind t, or NULL when t is of another kind. */
const lg_spm *lg_tokenizer_spm(const lg_tokenizer *t);

/* ---- Training ---------------------------------------------------------------- */

/* Gives the trainer the next line (without newline): returns 1 and sets *line and *len
 * (valid until the next call), 0 at the end, -1 on error (message in err). */
typedef int (*lg_spm_next_line)(void *ctx, const char **line, size_t *len, lg_error *err);

typedef struct {
    const char *model_type;          /* "unigram" (default) or "bpe" */
    int vocab_size;                  /* default 8000 */
    double character_coverage;       /* default 0.9995 */
    int byte_fallback;               /* 0/1 */
    int split_digits;                /* 0/1 */
    const char *user_defined_symbols;/* comma-separated, or NULL */
    const char *normalization_rule;  /* SentencePiece rule inside the model: "identity"
                                        (default: none), "nmt_nfkc", "nfkc", ... */
    int keep_extra_whitespaces;      /* 1 (default): the model keeps leading, trailing and
                                        repeated spaces (remove_extra_whitespaces false);
                                        with identity, text is encoded exactly as given,
                                        as llama.cpp's SentencePiece tokenizer does */
    int64_t input_sentence_size;     /* sample at most this many lines (0 = all) */
    int shuffle_input_sentence;      /* reservoir-sample rather than take the first N */
    int max_sentence_length;         /* bytes; default 4192, longer lines are skipped */
    int num_threads;                 /* default 1 */
    int seed;                        /* for sampling; SentencePiece's own default when 0 */
    int verbose;                     /* 1: let SentencePiece log to stderr */
} lg_spm_train_options;

/* Fills opt with the defaults above.  (SentencePiece's log level and sampling seed are
 * process-wide inside the library: concurrent trainings share them.) */
void lg_spm_train_defaults(lg_spm_train_options *opt);

/* Trains a model on the lines next() yields (streamed: the trainer keeps only its
 * sample).  On success *model and *model_len hold the serialized model (malloc'd); the
 * caller writes NAME.model / NAME.vocab.  `corpus_name` is used in messages.
 * Returns 0 or -1 (e.g. "vocabulary size 8000 is larger than corpus.txt supports"). */
int lg_spm_train(const lg_spm_train_options *opt, lg_spm_next_line next, void *ctx,
                 const char *corpus_name, uint8_t **model, size_t *model_len, lg_error *err);

#endif
