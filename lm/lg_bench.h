/* lg_bench — the model shapes of `lm bench` and the multiply work one step performs.
 *
 * Shapes (issue 7): tiny (vocab 8000, hidden 256, 4 layers, 4 heads, 2 KV, intermediate 688),
 * small (16000, 512, 8, 8, 4, 1376), base (32000, 768, 12, 12, 4, 2048); llama, untied.
 * The FLOP count is the matrix-product work lingraft's step actually does (2 per multiply-add):
 * every linear forward 2·N·in·out; backward adds the input gradient (same again) and, when the
 * weight is trained, its weight gradient (same again); LoRA adds its two small products
 * forward and four backward; attention counts the causal half (s ≤ t) of QKᵀ and PV forward
 * and of the four backward products; the LM head is a linear like the others. */
#ifndef LG_BENCH_H
#define LG_BENCH_H

#include "lg_model.h"
#include "lg_error.h"

typedef enum { LG_BENCH_FORWARD, LG_BENCH_TRAIN, LG_BENCH_LORA } lg_bench_mode;

/* Fills cfg with the named shape ("tiny", "small", "base"). */
int lg_bench_shape(const char *name, lg_config *cfg, lg_error *err);
/* "forward", "train", "lora". */
int lg_bench_parse_mode(const char *name, lg_bench_mode *mode, lg_error *err);
const char *lg_bench_mode_name(lg_bench_mode mode);

/* Matrix-product FLOPs of one step on B × T tokens: forward (with loss), full training
 * (forward + backward), or LoRA training of rank `rank` on the targets in lora_mask
 * (bit per lg_lora_target) with every base weight frozen. */
double lg_bench_step_flops(const lg_config *cfg, int B, int T, lg_bench_mode mode, int rank,
                           unsigned lora_mask);

#endif
