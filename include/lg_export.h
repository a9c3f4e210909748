/* lg_export — out of lingraft: a Hugging Face model directory or PEFT adapter
 * (lg_export_hf) and GGUF v3 files for llama.cpp (lg_gguf_*). */
#ifndef LG_EXPORT_H
#define LG_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"

/* ---- lg_export — a base model with a pack (or a plain model) as a standalone Hugging Face
 * model directory: config.json with the pack's vocabulary size and special-token ids,
 * model.safetensors, the SentencePiece tokenizer.model with a tokenizer_config.json and
 * special_tokens_map.json that transformers' LlamaTokenizer loads, generation_config.json.
 * LoRA is merged, or kept beside the model as a PEFT adapter in DIR/adapter.
 * Language/script vectors have no place in an HF Llama; the export leaves them out (they
 * are optional at inference) and says so. */

typedef struct {
    const char *base_dir;
    const char *pack;           /* NULL: the base alone */
    const char *tokenizer;      /* NULL: the pack's tokenizer.model */
    int keep_adapter;           /* write DIR/adapter instead of merging */
    int stored_dtype;           /* lg_dtype: F32, F16 or BF16 */
} lg_export_opts;

int lg_export_hf(const lg_export_opts *o, const char *out_dir, lg_error *err);

/* ---- lg_gguf — GGUF v3 files, the format llama.cpp loads.
 *
 * A writer (typed key/values, F32/F16/BF16 tensors given as data or filled by a
 * callback at write time so a big model never sits in memory twice; committed
 * atomically), a validating reader (magic, version, counts bounded by the file size,
 * string lengths, value types, tensor shapes, offsets and alignment inside the file),
 * and the export of a Hugging Face Llama-family model + SentencePiece tokenizer as a
 * llama.cpp "llama" model (q/k rows permuted from HF's rotate_half layout). */

/* Value types as the GGUF specification numbers them. */
typedef enum {
    LG_GGUF_UINT8 = 0, LG_GGUF_INT8 = 1, LG_GGUF_UINT16 = 2, LG_GGUF_INT16 = 3,
    LG_GGUF_UINT32 = 4, LG_GGUF_INT32 = 5, LG_GGUF_FLOAT32 = 6, LG_GGUF_BOOL = 7,
    LG_GGUF_STRING = 8, LG_GGUF_ARRAY = 9, LG_GGUF_UINT64 = 10, LG_GGUF_INT64 = 11,
    LG_GGUF_FLOAT64 = 12,
} lg_gguf_type;

/* The ggml tensor types lingraft writes and reads (ggml's numbering). */
typedef enum { LG_GGML_F32 = 0, LG_GGML_F16 = 1, LG_GGML_BF16 = 30 } lg_ggml_type;

#define LG_GGUF_VERSION 3
#define LG_GGUF_DEFAULT_ALIGNMENT 32
#define LG_GGUF_MAX_DIMS 4

const char *lg_gguf_type_name(lg_gguf_type t);     /* "UINT32", ... ("?" if unknown) */
const char *lg_ggml_type_name(lg_ggml_type t);     /* "F32", "F16", "BF16" ("?") */
size_t lg_ggml_type_size(lg_ggml_type t);          /* bytes per element; 0 if unknown */

/* ---- Writer ------------------------------------------------------------------- */

typedef struct lg_gguf_writer lg_gguf_writer;

/* Fills dst (nbytes, the tensor's size in its stored type) at write time. */
typedef int (*lg_gguf_fill_fn)(void *ctx, void *dst, size_t nbytes, lg_error *err);

lg_gguf_writer *lg_gguf_writer_new(void);
void lg_gguf_writer_free(lg_gguf_writer *w);

/* Key/values, written in the order set; a key may be set once. The tensor data is
 * aligned to "general.alignment" when set (a power of two), else to 32. */
int lg_gguf_set_u32(lg_gguf_writer *w, const char *key, uint32_t v, lg_error *err);
int lg_gguf_set_i32(lg_gguf_writer *w, const char *key, int32_t v, lg_error *err);
int lg_gguf_set_u64(lg_gguf_writer *w, const char *key, uint64_t v, lg_error *err);
int lg_gguf_set_f32(lg_gguf_writer *w, const char *key, float v, lg_error *err);
int lg_gguf_set_bool(lg_gguf_writer *w, const char *key, int v, lg_error *err);
int lg_gguf_set_str(lg_gguf_writer *w, const char *key, const char *v, lg_error *err);
int lg_gguf_set_arr_str(lg_gguf_writer *w, const char *key, const char *const *v, size_t n,
                        lg_error *err);
int lg_gguf_set_arr_f32(lg_gguf_writer *w, const char *key, const float *v, size_t n,
                        lg_error *err);
int lg_gguf_set_arr_i32(lg_gguf_writer *w, const char *key, const int32_t *v, size_t n,
                        lg_error *err);

/* A tensor; dims are ggml's order, innermost first (an HF [out, in] matrix is
 * {in, out} with the same bytes). `data` (nbytes of `type`) is referenced, not copied:
 * it must stay valid until lg_gguf_writer_write(). */
int lg_gguf_add_tensor(lg_gguf_writer *w, const char *name, lg_ggml_type type, int n_dims,
                       const int64_t *dims, const void *data, lg_error *err);
/* The same, but the bytes come from fill(ctx, ...) while the file is written. */
int lg_gguf_add_tensor_fill(lg_gguf_writer *w, const char *name, lg_ggml_type type, int n_dims,
                            const int64_t *dims, lg_gguf_fill_fn fill, void *ctx,
                            lg_error *err);

/* Writes the file atomically (a failed fill leaves no file). */
int lg_gguf_writer_write(lg_gguf_writer *w, const char *path, lg_error *err);

/* ---- Reader ------------------------------------------------------------------- */

typedef struct {
    char *key;
    lg_gguf_type type;
    /* scalars: the value in the member matching `type` (BOOL in u, 0 or 1) */
    uint64_t u;
    int64_t i;
    double f;
    char *str;                  /* STRING: NUL-terminated copy (may hold inner NULs: str_len) */
    uint64_t str_len;
    /* ARRAY: element type, count, and the elements: numbers decoded into `arr`
     * (as the C type of arr_type, e.g. float for FLOAT32, uint8_t for BOOL),
     * strings in arr_str (NUL-terminated copies). Nested arrays are refused. */
    lg_gguf_type arr_type;
    uint64_t arr_count;
    void *arr;
    char **arr_str;
} lg_gguf_kv;

typedef struct {
    char *name;
    int n_dims;
    int64_t dims[LG_GGUF_MAX_DIMS];   /* innermost first */
    int64_t numel;
    lg_ggml_type type;
    uint64_t offset;                  /* from the start of the data section */
    const void *data;                 /* into the file mapping */
    size_t nbytes;
} lg_gguf_tensor;

typedef struct lg_gguf lg_gguf;

/* Opens (mmaps) and validates a GGUF file; every problem is an error naming the file. */
lg_gguf *lg_gguf_open(const char *path, lg_error *err);
/* Parses bytes already in memory (not copied: they must outlive the result). */
lg_gguf *lg_gguf_open_memory(const void *bytes, size_t len, const char *name, lg_error *err);
void lg_gguf_close(lg_gguf *g);

uint32_t lg_gguf_version(const lg_gguf *g);
uint32_t lg_gguf_alignment(const lg_gguf *g);
uint64_t lg_gguf_data_offset(const lg_gguf *g);   /* file offset of the data section */
int lg_gguf_kv_count(const lg_gguf *g);
const lg_gguf_kv *lg_gguf_kv_at(const lg_gguf *g, int i);
const lg_gguf_kv *lg_gguf_find_kv(const lg_gguf *g, const char *key);
int lg_gguf_tensor_count(const lg_gguf *g);
const lg_gguf_tensor *lg_gguf_tensor_at(const lg_gguf *g, int i);
const lg_gguf_tensor *lg_gguf_find_tensor(const lg_gguf *g, const char *name);

/* Typed look-ups: an absent key or a different type is an error
 * ("m.gguf: llama.block_count is INT32, expected UINT32"). */
int lg_gguf_get_u32(const lg_gguf *g, const char *key, uint32_t *v, lg_error *err);
int lg_gguf_get_i32(const lg_gguf *g, const char *key, int32_t *v, lg_error *err);
int lg_gguf_get_f32(const lg_gguf *g, const char *key, float *v, lg_error *err);
int lg_gguf_get_bool(const lg_gguf *g, const char *key, int *v, lg_error *err);
const char *lg_gguf_get_str(const lg_gguf *g, const char *key, lg_error *err);
/* An array whose elements have type elem. */
const lg_gguf_kv *lg_gguf_get_arr(const lg_gguf *g, const char *key, lg_gguf_type elem,
                                  lg_error *err);

/* Converts an F32/F16/BF16 tensor to float (dst holds numel floats). */
int lg_gguf_tensor_to_f32(const lg_gguf_tensor *t, float *dst, lg_error *err);

/* Prints the header (key/values, arrays abbreviated, and tensor infos) to f. */
void lg_gguf_describe(const lg_gguf *g, void *file /* FILE * */);

/* ---- Export ------------------------------------------------------------------- */

typedef struct {
    int f16;              /* store matrices as F16 (vectors stay F32, as llama.cpp's converter) */
    const char *name;     /* general.name; default: the model directory's base name */
    /* A tokenizer that llama.cpp cannot reproduce (lg_spm_llama_cpp_check: a normaliser
     * such as NFKC, a unigram model, no byte fallback) is an error unless this is set;
     * then the reasons are copied to warning (when not NULL) and the file is written. */
    int allow_tokenizer_mismatch;
    char *warning;
    size_t warning_len;
} lg_gguf_export_options;

/* Writes the HF model in model_dir (config.json + safetensors, llama/mistral/qwen2;
 * q/k/v biases are kept, llama.cpp's llama graph adds them) with the SentencePiece
 * vocabulary of spm_path as a llama.cpp "llama" GGUF. A tokenizer with fewer pieces
 * than the model's vocab_size is padded with unused "[PADn]" tokens; more pieces is an
 * error, and so is one llama.cpp would tokenize text differently with (see above). */
int lg_gguf_export_hf(const char *model_dir, const char *spm_path, const char *out_path,
                      const lg_gguf_export_options *opt, lg_error *err);

/* Whether llama.cpp would encode every text as the tokenizer at path does: a SentencePiece
 * .model by lg_spm_llama_cpp_check; a byte-level BPE tokenizer.json (written as GGUF
 * tokenizer.ggml.model "gpt2" with its merges) when it has no normalizer and its
 * pre-tokenizer is one llama.cpp knows by name (GPT-2's ByteLevel "gpt-2", the Split regex
 * of Llama-3 "llama-bpe" or Qwen2 "qwen2" then ByteLevel) with that name's ignore_merges.
 * 1 yes, 0 no (reasons in why), -1 on error (a tokenizer.json that is not byte-level is
 * refused: its GGUF export is not supported). */
int lg_gguf_tokenizer_check(const char *path, char *why, size_t why_len, lg_error *err);

/* Row permutation of a q or k projection (rows = n_head * head_dim) from HF's
 * rotate_half layout to llama.cpp's interleaved pairs: output row h*hd + 2i + j is
 * input row h*hd + j*hd/2 + i. Works for weights (cols > 1) and biases (cols = 1). */
int lg_gguf_permute_qk(const float *src, float *dst, int64_t rows, int64_t cols, int n_head,
                       lg_error *err);

#endif
