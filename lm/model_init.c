/* Random initialisation as Hugging Face's LlamaPreTrainedModel._init_weights, and presets. */
#include "lg_model_init.h"

#include <stdio.h>
#include <string.h>

#include "lg_rng.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

void lg_model_init_weights(lg_model *m, float initializer_range, uint64_t seed)
{
    lg_rng rng;
    lg_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_entries; i++) {
        lg_param_entry *e = &m->entries[i];
        if (ends_with(e->name, ".bias")) {
            memset(e->param, 0, e->numel * sizeof(float));
        } else if (!e->is_matrix) { /* RMSNorm weights */
            for (size_t j = 0; j < e->numel; j++)
                e->param[j] = 1.0f;
        } else {
            for (size_t j = 0; j < e->numel; j++)
                e->param[j] = (float)(lg_rng_normal(&rng) * initializer_range);
        }
    }
    const int pad = m->cfg.pad_token_id;
    if (pad >= 0 && pad < m->cfg.vocab_size)
        memset(m->p.embed + (size_t)pad * m->cfg.hidden_size, 0,
               (size_t)m->cfg.hidden_size * sizeof(float));
}

typedef struct {
    const char *name;
    int hidden, layers, heads, kv_heads, intermediate, max_positions;
} preset;

/* micro is for tests; tiny and small are the demo's English base models. */
static const preset presets[] = {
    {"micro", 64, 2, 4, 2, 176, 512},
    {"tiny", 256, 4, 4, 2, 688, 1024},
    {"small", 512, 8, 8, 4, 1376, 2048},
};

const char *lg_config_preset_names(void)
{
    return "micro, tiny, small";
}

int lg_config_preset(const char *name, int vocab_size, lg_config *cfg, lg_error *err)
{
    const preset *p = NULL;
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
        if (!strcmp(presets[i].name, name))
            p = &presets[i];
    if (!p)
        return lg_fail(err, "unknown preset '%s' (known: %s)", name, lg_config_preset_names());
    if (vocab_size <= 0)
        return lg_fail(err, "preset %s needs a vocabulary size", name);
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = LG_ARCH_LLAMA;
    snprintf(cfg->model_type, sizeof cfg->model_type, "llama");
    cfg->vocab_size = vocab_size;
    cfg->hidden_size = p->hidden;
    cfg->n_layers = p->layers;
    cfg->n_heads = p->heads;
    cfg->n_kv_heads = p->kv_heads;
    cfg->head_dim = p->hidden / p->heads;
    cfg->intermediate_size = p->intermediate;
    cfg->max_position_embeddings = p->max_positions;
    cfg->rms_norm_eps = 1e-5f;
    cfg->rope_theta = 10000.0;
    cfg->bos_token_id = cfg->eos_token_id = cfg->pad_token_id = -1;
    snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "float32");
    return 0;
}
