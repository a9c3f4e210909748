/* lg_safetensors — read and write Hugging Face safetensors files.
 *
 * Reading mmaps the file and validates the header before anything is used:
 * header length ≤ 100 MB, valid JSON, known dtypes, data offsets contiguous from 0
 * with no holes or overlaps, end − begin = numel × dtype size, file size =
 * 8 + header + last end. A model directory (one file, or shards listed in
 * model.safetensors.index.json) is opened as one lg_weights set.
 * Writing pads the header with spaces to a multiple of 8, puts
 * "__metadata__": {"format": "pt", ...} first and commits atomically. */
#ifndef LG_SAFETENSORS_H
#define LG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "lg_error.h"

typedef enum {
    LG_DT_F32, LG_DT_F16, LG_DT_BF16, LG_DT_F64,
    LG_DT_I64, LG_DT_I32, LG_DT_I16, LG_DT_I8, LG_DT_U8, LG_DT_BOOL,
} lg_dtype;

#define LG_MAX_DIMS 8

typedef struct lg_safetensors lg_safetensors;

typedef struct {
    const char *name;
    lg_dtype dtype;
    int ndim;
    int64_t shape[LG_MAX_DIMS];
    int64_t numel;
    const void *data;   /* points into the mapping; valid while the file is open */
    size_t nbytes;
    const char *file;   /* path of the file holding it, for messages */
    const lg_safetensors *owner; /* the open file it was read from (lg_tensor_read), NULL
                                  * for bytes given in memory or an info made by hand */
} lg_tensor_info;

size_t lg_dtype_size(lg_dtype dt);
const char *lg_dtype_name(lg_dtype dt);        /* "F32", "BF16", ... */
int lg_dtype_parse(const char *name, lg_dtype *dt);

/* One file (kept open for lg_tensor_read until lg_st_close). */
lg_safetensors *lg_st_open(const char *path, lg_error *err);
/* Parses safetensors bytes already in memory (not copied: they must outlive the
 * result); `name` stands for the file in messages. Used by the fuzz harness. */
lg_safetensors *lg_st_open_memory(const void *bytes, size_t len, const char *name,
                                  lg_error *err);
void lg_st_close(lg_safetensors *st);
int lg_st_count(const lg_safetensors *st);
const lg_tensor_info *lg_st_tensor(const lg_safetensors *st, int i);
const lg_tensor_info *lg_st_find(const lg_safetensors *st, const char *name);
/* A string value of __metadata__, or NULL. */
const char *lg_st_metadata(const lg_safetensors *st, const char *key);

/* Converts F32/F16/BF16/F64 to float (dst holds numel floats). A NaN or infinite value is
 * an error naming the tensor and the element (checked block by block as it is converted):
 * no computation starts from weights that cannot give a number. */
int lg_tensor_to_f32(const lg_tensor_info *t, float *dst, lg_error *err);
/* Copies n bytes of a tensor's data from byte `at` into dst. A tensor of an open file is
 * read with pread, not through the mapping: what is read this way never becomes resident
 * in the process (file pages touched through a mapping stay counted in its RSS until it is
 * unmapped), so rows read one by one from a large table cost only the caller's buffer.
 * Other tensors (lg_st_open_memory, made by hand) are copied from data. Errors: a range
 * outside the tensor, a read error or a file shorter than when it was opened. */
int lg_tensor_read(const lg_tensor_info *t, size_t at, size_t n, void *dst, lg_error *err);
/* The same for elements first..first+count-1 of the tensor (row-major), into dst[count]: a
 * tensor read in pieces; an error names the element's index in the whole tensor. */
int lg_tensor_range_to_f32(const lg_tensor_info *t, int64_t first, int64_t count, float *dst,
                           lg_error *err);
/* Converts I64/I32 to int64 (dst holds numel values). */
int lg_tensor_to_i64(const lg_tensor_info *t, int64_t *dst, lg_error *err);
/* Checks a tensor's shape, e.g. lg_tensor_expect_shape(t, 2, (int64_t[]){V, C}, err):
 * "model.safetensors: model.embed_tokens.weight has shape [300, 64], expected [301, 64]". */
int lg_tensor_expect_shape(const lg_tensor_info *t, int ndim, const int64_t *shape, lg_error *err);

/* A model directory: DIR/model.safetensors, or the shards named by
 * DIR/model.safetensors.index.json (each shard validated; a missing shard or a
 * tensor the index names but no shard holds is an error). A GPT2Model checkpoint's
 * tensors (wte.weight, wpe.weight, h.N.*: the hub's gpt2 files) are named as in
 * GPT2LMHeadModel, under "transformer.". */
typedef struct lg_weights lg_weights;
lg_weights *lg_weights_open_dir(const char *dir, lg_error *err);
void lg_weights_close(lg_weights *w);
int lg_weights_count(const lg_weights *w);
const lg_tensor_info *lg_weights_tensor(const lg_weights *w, int i);
const lg_tensor_info *lg_weights_find(const lg_weights *w, const char *name);
/* Leaves tensor `name` out of the set (it stays in its file, and a pointer to it found before
 * stays valid while the set is open): a tool's own tensor beside a model's (lm bench's input
 * ids). -1 when the set has no such tensor. */
int lg_weights_drop(lg_weights *w, const char *name);
/* Gives the pages of the mapping that tensor t of w lies in back to the kernel (madvise): a
 * model streamed through once (converted, checked or copied tensor by tensor) then holds
 * one tensor's pages at a time instead of the whole file. The data stay readable: the
 * pages are read again from the file when touched. */
void lg_weights_release(const lg_weights *w, const lg_tensor_info *t);
/* The same for bytes at..at+n-1 of t's data (a tensor read a piece at a time). The pages are
 * found through t's own file (owner); w NULL releases nothing. */
void lg_weights_release_bytes(const lg_weights *w, const lg_tensor_info *t, size_t at, size_t n);

/* Writer. Tensors are referenced, not copied, until lg_st_writer_write(). */
typedef struct lg_st_writer lg_st_writer;
lg_st_writer *lg_st_writer_new(void);
void lg_st_writer_free(lg_st_writer *w);
int lg_st_writer_add(lg_st_writer *w, const char *name, lg_dtype dtype, int ndim,
                     const int64_t *shape, const void *data, lg_error *err);
/* Adds float data stored as F32, F16 or BF16 (converted, round-to-nearest-even, at write). */
int lg_st_writer_add_f32(lg_st_writer *w, const char *name, lg_dtype stored_as, int ndim,
                         const int64_t *shape, const float *data, lg_error *err);
/* A tensor whose bytes are made while the file is written, never held whole:
 * fill(ctx, at, n, dst, err) puts bytes at .. at+n-1 of its data into dst. It is asked in
 * order, for whole rows (of the last dimension) of at most LG_ST_FILL_PIECE bytes together,
 * or one row at a time where a row is larger. A fill that fails (returns < 0, err set)
 * stops the write with its message: nothing is written. */
#define LG_ST_FILL_PIECE ((size_t)4 << 20)
typedef int (*lg_st_fill_fn)(void *ctx, size_t at, size_t n, void *dst, lg_error *err);
int lg_st_writer_add_fill(lg_st_writer *w, const char *name, lg_dtype dtype, int ndim,
                          const int64_t *shape, lg_st_fill_fn fill, void *ctx, lg_error *err);
int lg_st_writer_set_metadata(lg_st_writer *w, const char *key, const char *value, lg_error *err);
int lg_st_writer_write(lg_st_writer *w, const char *path, lg_error *err);

/* Half-precision conversions (round to nearest even). */
float lg_bf16_to_f32(uint16_t h);
uint16_t lg_f32_to_bf16(float f);
float lg_f16_to_f32(uint16_t h);
uint16_t lg_f32_to_f16(float f);

#endif
