/* lg_bench — the model shapes of `lm bench` and the multiply work one step performs.
 *
 * Shapes (issue 7): tiny (vocab 8000, hidden 256, 4 layers, 4 heads, 2 KV, intermediate 688),
 * small (16000, 512, 8, 8, 4, 1376), base (32000, 768, 12, 12, 4, 2048); llama, untied.
 * Architecture variants of small (issue 17): small-llama3 (rope_theta 500000, RoPE scaled as
 * Llama-3.1: rope_type llama3, factor 8, low/high frequency factors 1/4, original 8192) and
 * small-qwen3 (qwen3: q/k-norm, head_dim 128, rope_theta 1000000).
 * The FLOP count is the matrix-product work lingraft's step actually does (2 per multiply-add),
 * from the architecture's descriptor (lg_arch.h: every weight role of a block, lg_role_dims):
 * every linear forward 2·N·in·out; backward adds the input gradient (same again) and, when the
 * weight is trained, its weight gradient (same again); LoRA adds its two small products
 * forward and four backward on the roles it targets; attention counts the causal half (s ≤ t;
 * with a sliding window the last `window` keys) of QKᵀ and PV forward and of the four
 * backward products; the LM head is a linear like the others. Norms (q/k-norm included),
 * biases and activations are not matrix products and are not counted. */
#ifndef LG_BENCH_H
#define LG_BENCH_H

#include "lg_model.h"
#include "lg_error.h"

/* The shape names, as --shape's choices. */
#define LG_BENCH_SHAPE_CHOICES "tiny|small|base|small-llama3|small-qwen3"

typedef enum { LG_BENCH_FORWARD, LG_BENCH_TRAIN, LG_BENCH_LORA } lg_bench_mode;

/* Fills cfg with the named shape (one of LG_BENCH_SHAPE_CHOICES). */
int lg_bench_shape(const char *name, lg_config *cfg, lg_error *err);
/* The standard deviation of the shape's random q_proj and k_proj weights (lm bench draws every
 * other matrix N(0, 0.02), HF Llama's init): 0.02 for tiny, small and base; 0.08 for the
 * variants, whose check against PyTorch needs attention that depends on the positions. */
double lg_bench_qk_std(const char *name);
/* "forward", "train", "lora". */
int lg_bench_parse_mode(const char *name, lg_bench_mode *mode, lg_error *err);
const char *lg_bench_mode_name(lg_bench_mode mode);

/* Matrix-product FLOPs of one step on B × T tokens: forward (with loss), full training
 * (forward + backward), or LoRA training of rank `rank` on the targets in lora_mask
 * (bit per lg_lora_target) with every base weight frozen. */
double lg_bench_step_flops(const lg_config *cfg, int B, int T, lg_bench_mode mode, int rank,
                           unsigned lora_mask);

#endif
