/* lg_wmat — a weight matrix kept in its stored dtype, and the products the model needs of it.
 *
 * A frozen weight (every weight under LoRA, in evaluation and generation) is read where the
 * safetensors file maps it, float32 or bfloat16, instead of being copied into float32. The
 * products take and give float32 activations:
 *   forward:  out[N, rows] (= or +=) in[N, cols] · Wᵀ + bias
 *   backward: din[N, cols] += dout[N, rows] · W      (frozen: no dW)
 * bf16 kernels (which one ran is told by lg_wmat_kernel_used):
 *   "rows"   N ≤ LG_WMAT_ROWS_MAX rows: each weight row converted on the fly inside a dot
 *            product (a matrix-vector product reads W once; the exact float32 products)
 *   "tiled"  blocks of W converted to float32 into an L2-sized buffer per thread, then
 *            OpenBLAS's sgemm on the block (the exact float32 products)
 *   "onednn" oneDNN's bf16 matmul (AVX512_BF16/AMX): the activations are rounded to bf16
 *            too, products of bf16 values accumulated in float32 (built when libdnnl is)
 * LG_BF16_KERNEL=tiled|onednn|auto in the environment (or lg_wmat_set_kernel) chooses; auto
 * takes, per shape, the kernel measured faster (lg_wmat_choose). */
#ifndef LG_WMAT_H
#define LG_WMAT_H

#include <stddef.h>
#include <stdint.h>

#include "lg_error.h"
#include "lg_safetensors.h"

typedef struct lg_wmat {
    lg_dtype dtype;     /* LG_DT_F32 or LG_DT_BF16 */
    const void *data;   /* [rows, cols] row-major: into a mapping, or memory owned elsewhere */
    int rows, cols;
} lg_wmat;

#define LG_WMAT_ROWS_MAX 8

typedef enum { LG_WK_AUTO, LG_WK_TILED, LG_WK_ONEDNN } lg_wmat_kernel;

/* Chooses the bf16 kernel for the larger products (auto by default, or LG_BF16_KERNEL). */
void lg_wmat_set_kernel(lg_wmat_kernel k);
lg_wmat_kernel lg_wmat_get_kernel(void);
/* 1 when oneDNN is built in and its bf16 matmul runs on this CPU. */
int lg_wmat_have_onednn(void);
/* Names of the bf16 kernels that have run since the last reset ("rows+tiled", "onednn", ...;
 * "" when none). */
const char *lg_wmat_kernel_used(void);
void lg_wmat_reset_used(void);

void lg_wmat_forward(float *out, const float *in, const lg_wmat *W, const float *bias, int N,
                     int add);
void lg_wmat_backward_in(float *din, const float *dout, const lg_wmat *W, int N);

/* The two large-product kernels by name, for tests and measurement (the "rows" kernel runs
 * under both for N ≤ LG_WMAT_ROWS_MAX). */
void lg_wmat_forward_with(lg_wmat_kernel k, float *out, const float *in, const lg_wmat *W,
                          const float *bias, int N, int add);
void lg_wmat_backward_in_with(lg_wmat_kernel k, float *din, const float *dout, const lg_wmat *W,
                              int N);

/* out[n, cols] = row ids[n] of W, in float32 (an embedding lookup). */
void lg_wmat_gather(float *out, const int32_t *ids, const lg_wmat *W, int N);

/* Whether tensor t can be used where it lies: F32 or BF16, 2-D, aligned for its dtype in the
 * mapping. */
int lg_wmat_usable(const lg_tensor_info *t);
/* The view of such a tensor, after checking every value is finite (as lg_tensor_to_f32 does
 * for a converted tensor: an error names the tensor and the element). */
int lg_wmat_from_tensor(lg_wmat *W, const lg_tensor_info *t, lg_error *err);
/* The same; release (not NULL: the weights set t is in) gives the pages of the mapping back
 * as the check goes, a piece at a time (lg_weights_release_bytes). */
int lg_wmat_from_tensor_ex(lg_wmat *W, const lg_tensor_info *t, const lg_weights *release,
                           lg_error *err);

/* One line on the bf16 kernels this build and CPU use, e.g. "oneDNN bf16 matmul
 * (brg:avx512_core_amx_bf16), tiled bf16->f32 + OpenBLAS sgemm as fallback; rows of <= 8:
 * converted in the dot product" (lm info, lm bench). */
void lg_wmat_describe(char *buf, size_t n);

/* Frees oneDNN's cached primitives (leak checks at exit). */
void lg_wmat_release(void);

#endif
