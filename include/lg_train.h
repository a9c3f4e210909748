/* lg_train — training and evaluation: the token stream of a corpus (lg_dataset), held-out
 * loss and bits per byte (lg_eval), and the training loop of `lm train` (lg_train_run). */
#ifndef LG_TRAIN_H
#define LG_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"
#include "lg_model.h"
#include "lg_tokenizer.h"

/* ---- lg_dataset — training and evaluation text as one stream of token ids.
 *
 * Input is either a token-id file (one document a line, ids separated by spaces, as
 * `spm_encode --output_format=id` or `tokenize encode --ids` print) or UTF-8 text (one
 * document a line) encoded with a tokenizer (lg_tokenizer.h). Each document becomes
 * [bos] ids [eos] (the markers the model has) in one stream held in memory (4 bytes a
 * token). For training the stream is cut into sequences of seq_len tokens (the tail that
 * does not fill one is dropped, as HF's group_texts does), visited in an order shuffled
 * per epoch from the seed; the position (epoch, sequence) can be saved and restored. */

typedef struct {
    int seq_len;        /* tokens a sequence; 0: no packing (evaluation reads `tokens`) */
    int vocab_size;     /* every id must be below it */
    int bos_id, eos_id; /* put around each document when ≥ 0 */
    uint64_t seed;      /* order of the sequences in each epoch */
    int shuffle;        /* 0: sequences in file order */
} lg_dataset_options;

typedef struct {
    long epoch;         /* completed passes over the data */
    size_t next;        /* index into this epoch's order of the next sequence */
} lg_data_position;

typedef struct {
    char path[4096];
    lg_dataset_options opt;
    int32_t *tokens;    /* the whole stream */
    size_t n_tokens;
    size_t n_docs;      /* non-empty documents */
    size_t n_bytes;     /* UTF-8 bytes of the text, newlines included (0 for id files) */
    size_t n_seqs;      /* n_tokens / seq_len */
    size_t *order;      /* this epoch's order of the sequences */
    lg_data_position pos;
} lg_dataset;

/* Reads a token-id file ("-" for stdin). Errors: an empty file or one without tokens, a
 * field that is not an id or an id ≥ vocab_size ("data.ids:12: token id 512 is outside
 * the vocabulary (500)"), fewer tokens than one sequence. */
lg_dataset *lg_dataset_load_ids(const char *path, const lg_dataset_options *opt, lg_error *err);
/* Reads UTF-8 text and encodes each line with the tokenizer. */
lg_dataset *lg_dataset_load_text(const char *path, const lg_tokenizer *tok,
                                 const lg_dataset_options *opt, lg_error *err);
void lg_dataset_free(lg_dataset *ds);

/* Copies the next B sequences into ids[B × seq_len], starting a new, reshuffled epoch when
 * one ends. Allocates nothing. */
void lg_dataset_next_batch(lg_dataset *ds, int32_t *ids, int B);
/* Data parallelism: of the next world × B sequences (those one process with batch world × B
 * would read), rank's B (sequences rank·B .. rank·B + B − 1) into ids[B × seq_len]; the
 * position advances past all world × B on every rank, so it means the same on each and for
 * any world size. world 1: lg_dataset_next_batch. */
void lg_dataset_next_batch_shard(lg_dataset *ds, int32_t *ids, int B, int rank, int world);

/* Moves to a saved position (the order of its epoch is recomputed from the seed). */
int lg_dataset_seek(lg_dataset *ds, lg_data_position pos, lg_error *err);

/* ---- lg_eval — how well a model predicts held-out text: loss, perplexity, bits per byte.
 *
 * The token stream is read in windows of `window` tokens. Chunked (stride 0): each token is
 * predicted once and the context restarts every window − 1 tokens (consecutive windows
 * share only the token the next one starts from). Sliding (stride S < window): windows
 * start every S tokens and each predicts only its last S tokens, so every prediction has at
 * least window − S tokens of context. The first token of the stream is never predicted.
 * Bits per byte = total nats / ln 2 / UTF-8 bytes of the text: the measure that compares
 * models with different tokenizers. */

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

/* ---- lg_train — the training loop of `lm train`: full training, LoRA with a frozen base,
 * and trainable embeddings (whole, or only the rows of new tokens).
 *
 * Each step: B × accum sequences of T tokens, forward and backward (each micro-batch's
 * loss scaled by 1/accum), global-norm clipping, AdamW at the scheduled learning rate
 * (embeddings and lm_head may have their own), a JSON log line, held-out evaluation every
 * eval_every steps and a checkpoint (lg_checkpoint.h) every save_every steps and at the end
 * in OUT/checkpoint-STEP, with OUT/last pointing at the newest. Nothing is allocated inside
 * a step. Given the seed and thread count, a run resumed from a checkpoint reproduces the
 * uninterrupted run's losses bit for bit. */

typedef struct lg_train_options {
    const char *model_dir;      /* base model (HF directory): named in messages and checkpoints */
    const char *pack;           /* the pack swapped into it (lg_pack.h), or NULL: its tokenizer's
                                   bos/eos then replace the base config's */
    const char *lang, *script;  /* LangSAMP: tag every sequence with these codes and train
                                   their vectors (NULL: none) */
    const char *data_ids;       /* token-id file, or */
    const char *data_text;      /* text, with */
    const char *tokenizer;      /* the tokenizer's path (the caller loads it) */
    const char *eval_text;      /* held-out text for bits per byte (NULL: none) */
    const char *out_dir;        /* checkpoints; created (with its parents' existing) when the
                                   first one is saved, so a run failing before leaves none */
    const char *out_marker;     /* when not NULL, OUT is marked as this writer's output
                                   (lg_output_mark) when a checkpoint is saved, so that a run
                                   stopped before its end may be resumed into it */
    const char *resume_dir;     /* a checkpoint directory or NULL */
    const char *log_path;       /* JSON lines, appended (NULL: none) */
    int batch, seq_len, accum;
    long steps, warmup, save_every, eval_every, keep_checkpoints;
    float lr, embed_lr, min_lr_ratio, clip;
    float beta1, beta2, eps, weight_decay;
    uint64_t seed;
    int threads;
    /* LoRA (lora_rank 0: none) */
    int lora_rank;
    float lora_alpha;
    unsigned lora_targets;
    int rslora;
    /* embeddings: train embed_tokens + lm_head (with LoRA: as modules_to_save; without:
     * only them, the rest frozen); train_rows_from ≥ 0 restricts them to rows ≥ it */
    int train_embeddings;
    long train_rows_from;
    int quiet;                  /* no summary lines on stderr */
} lg_train_options;

/* Defaults (as `lm train --help` lists them): batch 8, seq_len 256, accum 1, 1000 steps,
 * lr 3e-4 (embeddings the same), no warmup, cosine to 0.1 of the peak, clip 1.0, AdamW
 * betas (0.9, 0.999), eps 1e-8, no weight decay (HF Trainer), LoRA alpha 16 on q,v,
 * keep 2 checkpoints. */
void lg_train_defaults(lg_train_options *o);

/* Trains m (the base, already opened with its pack: lg_model_open in lg_pack.h) in place;
 * tok encodes --text and --eval-file (NULL when the data are ids). m stays the caller's. */
int lg_train_run(const lg_train_options *o, lg_model *m, const lg_tokenizer *tok, lg_error *err);

/* ---- lg_train_mixture — one adapter over a mixture of languages (issue 15).
 *
 * ms[0..n) are one base model opened n times, each with a language's vocabulary swapped in
 * (lg_model_open with its pack; no adapter or vectors yet), toks[i] that language's
 * tokenizer. One LoRA adapter (o->lora_*, initialised from o->seed as lm train does) is
 * shared by all; with vectors, one table of language and script vectors too (LangSAMP: the
 * codes of parts[], each language's sequences tagged with its own). Each step reads
 * o->batch sequences of o->seq_len tokens of every language (each language's order as lm
 * train with the same seed would read its data alone, so each sees the same tokens as its
 * separate run), forward and backward through that language's model, the mean of the
 * languages' losses, then one clipped AdamW step over the adapter, the vectors and (with
 * o->train_embeddings) every language's embeddings and head. Held-out bits per byte of
 * each language every o->eval_every steps into o->log_path (JSON lines with "lang").
 * Writes o->out_dir whole (atomically): LANG/adapter/ per language (PEFT: the shared
 * adapter, that language's embeddings and head as modules_to_save) and, with vectors,
 * langsamp.safetensors. No checkpoints or resume. The models stay the caller's, unchanged
 * in what they own (the shared adapter and vectors are detached from ms[1..n)). */
typedef struct {
    const char *lang, *script;  /* codes: lang names OUT/LANG; both tag with vectors */
    const char *text;           /* training text, one document a line */
    const char *eval_text;      /* held-out text or NULL */
} lg_mixture_part;

int lg_train_mixture(const lg_train_options *o, lg_model **ms, const lg_tokenizer *const *toks,
                     const lg_mixture_part *parts, int n, int vectors, lg_error *err);

#endif
