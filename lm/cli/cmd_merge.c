/* `lm merge`: base model + PEFT LoRA adapter → a full model directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"
#include "lg_safetensors.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lm merge --model BASE_DIR --adapter PEFT_DIR -o OUT_DIR [--dtype f32|f16|bf16]\n"
               "Folds W += scale·B·A into every adapted matrix, takes embed_tokens/lm_head from\n"
               "the adapter's modules_to_save, and writes a Hugging Face model directory\n"
               "(config.json + model.safetensors) atomically.\n");
}

int lg_cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"adapter", required_argument, NULL, 'a'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"dtype", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model = NULL, *adapter = NULL, *out = NULL, *dtype = "f32";
    int c;
    while ((c = getopt_long(argc, argv, "m:a:o:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'a': adapter = optarg; break;
        case 'o': out = optarg; break;
        case 'd': dtype = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!model || !adapter || !out || optind != argc) {
        usage(stderr);
        return 2;
    }
    lg_dtype stored;
    if (!strcmp(dtype, "f32"))
        stored = LG_DT_F32;
    else if (!strcmp(dtype, "f16"))
        stored = LG_DT_F16;
    else if (!strcmp(dtype, "bf16"))
        stored = LG_DT_BF16;
    else {
        fprintf(stderr, "lm merge: unknown --dtype '%s' (f32, f16 or bf16)\n", dtype);
        return 2;
    }
    lg_error err;
    lg_model *m = lg_model_load_dir(model, &err);
    if (!m || !lg_lora_load_peft(m, adapter, &err) ) {
        lg_error_print("lm merge", &err);
        lg_model_free(m);
        return 1;
    }
    lg_lora_merge(m);
    int rc = lg_model_save_dir(m, out, stored, &err);
    if (rc < 0)
        lg_error_print("lm merge", &err);
    else
        printf("merged %s + %s -> %s\n", model, adapter, out);
    lg_model_free(m);
    return rc < 0 ? 1 : 0;
}
