/* `lm merge`: base model + PEFT LoRA adapter → a full model directory. */
#include <stdio.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

int lg_cmd_merge(int argc, char **argv)
{
    const char *model = NULL, *adapter = NULL, *out = NULL, *dtype = "f32";
    lg_opt opts[] = {
        {LG_INPUT(&model), .name = "model", .short_name = 'm', .flags = LG_OPT_REQUIRED,
         .arg = "BASE_DIR", .help = "the base model directory (never modified)"},
        {LG_INPUT(&adapter), .name = "adapter", .short_name = 'a', .flags = LG_OPT_REQUIRED,
         .arg = "PEFT_DIR", .help = "a PEFT LoRA adapter for it"},
        {LG_CHOICE(&dtype), .name = "dtype", .short_name = 'd', .choices = "f32|f16|bf16",
         .help = "the stored dtype of the weights"},
        {LG_OUTDIR(&out), .name = "output", .short_name = 'o', .flags = LG_OPT_REQUIRED,
         .arg = "DIR", .help = "the merged model directory to write"},
        {0}};
    lg_cli c = {.prog = "lm", .name = "merge", .opts = opts,
                .about = "Folds W += scale·B·A into every adapted matrix, takes "
                         "embed_tokens/lm_head from\nthe adapter's modules_to_save, and writes "
                         "a Hugging Face model directory\n(config.json + model.safetensors) "
                         "atomically."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    const lg_dtype stored = !strcmp(dtype, "f16")    ? LG_DT_F16
                            : !strcmp(dtype, "bf16") ? LG_DT_BF16
                                                     : LG_DT_F32;
    lg_error err;
    /* the base's matrices as stored, each merged into the dtype written as it is written
     * (no float32 copy of the model); a base read as float32 (GPT-2) is merged in place */
    lg_model *m = lg_model_load_dir_ex(model, LG_LOAD_STORED | LG_LOAD_RELEASE, &err);
    if (!m || !lg_lora_load_peft(m, adapter, &err)) {
        lg_model_free(m);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    rc = m->stored ? 0 : lg_lora_merge(m, &err);
    if (rc == 0)
        rc = lg_model_save_dir_ex(m, out, stored, LG_SAVE_MERGE_LORA, &err);
    lg_model_free(m);
    if (rc < 0)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    printf("merged %s + %s -> %s\n", model, adapter, out);
    return lg_cli_finish(&c, 0);
}
