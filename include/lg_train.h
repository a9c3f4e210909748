/* lg_train — the training loop of `lm train`: full training, LoRA with a frozen base,
 * and trainable embeddings (whole, or only the rows of new tokens).
 *
 * Each step: B × accum sequences of T tokens, forward and backward (each micro-batch's
 * loss scaled by 1/accum), global-norm clipping, AdamW at the scheduled learning rate
 * (embeddings and lm_head may have their own), a JSON log line, held-out evaluation every
 * eval_every steps and a checkpoint (lg_checkpoint.h) every save_every steps and at the end
 * in OUT/checkpoint-STEP, with OUT/last pointing at the newest. Nothing is allocated inside
 * a step. Given the seed and thread count, a run resumed from a checkpoint reproduces the
 * uninterrupted run's losses bit for bit. */
#ifndef LG_TRAIN_H
#define LG_TRAIN_H

#include <stdint.h>

#include "lg_error.h"

typedef struct {
    const char *model_dir;      /* base model (HF directory) */
    const char *pack;           /* a language pack or table swapped into it (lg_hydra.h), or NULL */
    const char *lang, *script;  /* LangSAMP: tag every sequence with these codes and train
                                   their vectors (NULL: none) */
    const char *data_ids;       /* token-id file, or */
    const char *data_text;      /* text, with */
    const char *tokenizer;      /* a SentencePiece model (also for eval_text) */
    const char *eval_text;      /* held-out text for bits per byte (NULL: none) */
    const char *out_dir;
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

int lg_train_run(const lg_train_options *o, lg_error *err);

#endif
