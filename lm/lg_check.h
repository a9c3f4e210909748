/* lg_check — compare the model's forward and backward with a reference written by
 * Hugging Face (tests/fixtures/hf/NAME/reference.safetensors: input_ids, logits, loss,
 * hidden.0..L, grad.<parameter name>). Errors are max |ours − ref| / max |ref| per tensor,
 * reported per group with the worst tensor; tolerances: logits, loss and hidden states
 * 1e-5, gradients 1e-4. */
#ifndef LG_CHECK_H
#define LG_CHECK_H

#include "lg_error.h"
#include "lg_model.h"
#include "lg_safetensors.h"

typedef enum { LG_GROUP_LOGITS, LG_GROUP_LOSS, LG_GROUP_HIDDEN, LG_GROUP_GRADS, LG_GROUP_COUNT } lg_check_group;

typedef struct {
    double max_err[LG_GROUP_COUNT];
    char worst[LG_GROUP_COUNT][128];
    int tensors[LG_GROUP_COUNT];   /* how many reference tensors were compared */
    double tolerance[LG_GROUP_COUNT];
    int passed;
} lg_check_report;





/* The ids of an input_ids tensor [B, T] (any integer dtype) as int32, each checked in 64
 * bits against the vocabulary (an id of 2^40 is refused, not computed as id 0); also the
 * 64-bit values in *ids64 when not NULL (free both). NULL with an error naming path for a
 * missing or non-2-D tensor, no rows or columns, or an id outside [0, vocab_size). */
int32_t *lg_check_read_ids(const lg_tensor_info *t, int vocab_size, const char *path, int *B,
                           int *T, int64_t **ids64, lg_error *err);

/* Runs reference input_ids through m (grads are allocated and zeroed) and fills report.
 * A reference with nothing to compare (input_ids alone, no rows) is an error, not a pass. */
int lg_check_reference(lg_model *m, const char *reference_path, lg_check_report *report,
                       lg_error *err);
const char *lg_check_group_name(lg_check_group g);

#endif
