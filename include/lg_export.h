/* lg_export — a base model with a pack (or a plain model) as a standalone Hugging Face
 * model directory: config.json with the pack's vocabulary size and special-token ids,
 * model.safetensors, the SentencePiece tokenizer.model with a tokenizer_config.json and
 * special_tokens_map.json that transformers' LlamaTokenizer loads, generation_config.json.
 * LoRA is merged, or kept beside the model as a PEFT adapter in DIR/adapter.
 * Language/script vectors have no place in an HF Llama; the export leaves them out (they
 * are optional at inference) and says so. */
#ifndef LG_EXPORT_H
#define LG_EXPORT_H

#include "lg_error.h"

typedef struct {
    const char *base_dir;
    const char *pack;           /* NULL: the base alone */
    const char *tokenizer;      /* NULL: the pack's tokenizer.model */
    int keep_adapter;           /* write DIR/adapter instead of merging */
    int stored_dtype;           /* lg_dtype: F32, F16 or BF16 */
} lg_export_opts;

int lg_export_hf(const lg_export_opts *o, const char *out_dir, lg_error *err);

#endif
