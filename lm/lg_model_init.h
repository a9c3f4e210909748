/* lg_model_init — fresh models for pretraining from scratch.
 *
 * Hugging Face's _init_weights for the Llama family: every linear and embedding weight
 * drawn from normal(0, initializer_range), RMSNorm weights one, biases zero, the padding
 * row of the embeddings zero; repeatable from a seed. Presets name the sizes of the
 * project's own small English base models. */
#ifndef LG_MODEL_INIT_H
#define LG_MODEL_INIT_H

#include <stdint.h>

#include "lg_model.h"
#include "lg_error.h"

/* Fills every parameter of m as above; the same seed gives the same weights. */
void lg_model_init_weights(lg_model *m, float initializer_range, uint64_t seed);

/* A llama config for preset `name` ("micro", "tiny", "small") with vocab_size entries.
 * Errors name the preset and list the known ones. */
int lg_config_preset(const char *name, int vocab_size, lg_config *cfg, lg_error *err);
/* "micro, tiny, small" */
const char *lg_config_preset_names(void);

#endif
