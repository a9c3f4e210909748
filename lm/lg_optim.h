/* lg_optim — AdamW exactly as torch.optim.AdamW computes it, plus the learning-rate schedule.
 *
 * One slot per trainable tensor (lg_param_entry with a gradient); its two moments live in
 * two flat buffers. Each slot belongs to a learning-rate group (LG_GROUP_BODY or
 * LG_GROUP_EMBED for embed_tokens / lm_head) and may update only the rows ≥ row_from
 * (new-token rows): the other rows, their moments and their weight decay are untouched.
 * Weight decay applies to 2-D weights only (is_matrix). Global-norm clipping as
 * torch.nn.utils.clip_grad_norm_. The state (moments, step) is saved into a safetensors
 * writer and read back bit for bit. Schedule: linear warmup, cosine decay to a floor. */
#ifndef LG_OPTIM_H
#define LG_OPTIM_H

#include <stddef.h>

#include "lg_error.h"
#include "lg_model.h"
#include "lg_safetensors.h"

enum { LG_GROUP_BODY, LG_GROUP_EMBED, LG_N_GROUPS };

typedef struct {
    float beta1, beta2, eps, weight_decay;
} lg_adamw_hparams;

/* torch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
lg_adamw_hparams lg_adamw_defaults(void);

typedef struct {
    lg_param_entry *entry;
    int group;              /* LG_GROUP_* */
    size_t row_from;        /* first updated row; 0 = the whole tensor */
    size_t offset;          /* first updated element = row_from × row length */
    float *m, *v;           /* moments of the updated elements */
} lg_adamw_slot;

typedef struct {
    lg_adamw_hparams h;
    lg_adamw_slot *slots;
    int n_slots;
    float *m_mem, *v_mem;
    size_t n_state;         /* floats in each moment buffer */
    long step;              /* updates done so far */
} lg_adamw;

/* Which group an entry belongs to: embed_tokens and lm_head go to LG_GROUP_EMBED. */
int lg_param_group(const lg_param_entry *e);

/* Slots for entries[0..n) (all need a gradient). Entries of LG_GROUP_EMBED update only
 * rows ≥ embed_row_from (0: all rows). */
int lg_adamw_init(lg_adamw *opt, lg_param_entry **entries, int n, lg_adamw_hparams h,
                  size_t embed_row_from, lg_error *err);
void lg_adamw_free(lg_adamw *opt);

/* The global L2 norm of the gradients the optimizer updates (double, in a fixed order so
 * that it does not depend on the thread count). */
double lg_adamw_grad_norm(const lg_adamw *opt);
/* When max_norm > 0 and the norm exceeds it, scales the gradients by
 * max_norm / (norm + 1e-6) as clip_grad_norm_ does. Returns the norm before clipping. */
double lg_adamw_clip(lg_adamw *opt, double max_norm);

/* One update with learning rate group_lr[g] for group g; increments opt->step. */
void lg_adamw_step(lg_adamw *opt, const float group_lr[LG_N_GROUPS]);

/* Adds "optimizer.exp_avg.NAME" and "optimizer.exp_avg_sq.NAME" tensors (referenced, not
 * copied: opt must outlive the write). */
int lg_adamw_save(const lg_adamw *opt, lg_st_writer *w, lg_error *err);
/* Restores the moments from a file lg_adamw_save wrote; every slot must be present with
 * its shape. The step is restored by the caller (it lives in the checkpoint's JSON). */
int lg_adamw_load(lg_adamw *opt, const lg_safetensors *st, const char *path, lg_error *err);

/* Learning-rate schedule: for step s (0-based),
 *   s < warmup:        peak · (s + 1) / warmup
 *   otherwise:         peak · (min_ratio + (1 − min_ratio) · ½ (1 + cos(π · p))),
 *                      p = (s − warmup) / max(1, total − warmup), capped at 1. */
typedef struct {
    long warmup_steps, total_steps;
    float min_ratio;
} lg_lr_schedule;

/* The factor by which the peak learning rates are multiplied at step s. */
float lg_lr_factor(const lg_lr_schedule *s, long step);

#endif
