/* lg_check — compare the model's forward and backward with a reference written by
 * Hugging Face (tests/fixtures/hf/NAME/reference.safetensors: input_ids, logits, loss,
 * hidden.0..L, grad.<parameter name>). Errors are max |ours − ref| / max |ref| per tensor,
 * reported per group with the worst tensor; tolerances: logits, loss and hidden states
 * 1e-5, gradients 1e-4. */
#ifndef LG_CHECK_H
#define LG_CHECK_H

#include "lg_error.h"
#include "lg_model.h"

typedef enum { LG_GROUP_LOGITS, LG_GROUP_LOSS, LG_GROUP_HIDDEN, LG_GROUP_GRADS, LG_GROUP_COUNT } lg_check_group;

typedef struct {
    double max_err[LG_GROUP_COUNT];
    char worst[LG_GROUP_COUNT][128];
    int tensors[LG_GROUP_COUNT];   /* how many reference tensors were compared */
    double tolerance[LG_GROUP_COUNT];
    int passed;
} lg_check_report;





/* Runs reference input_ids through m (grads are allocated and zeroed) and fills report. */
int lg_check_reference(lg_model *m, const char *reference_path, lg_check_report *report,
                       lg_error *err);
const char *lg_check_group_name(lg_check_group g);

#endif
