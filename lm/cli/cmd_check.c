/* `lm check MODEL_DIR REFERENCE.safetensors`: forward + backward against a HF reference. */
#include <stdio.h>
#include <stdlib.h>

#include "lg_check.h"
#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"

int lg_cmd_check(int argc, char **argv)
{
    const char *model = NULL, *reference = NULL, *adapter = NULL;
    int threads = 0;
    lg_opt opts[] = {
        {LG_INPUT(&model), .name = "MODEL_DIR", .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "a Hugging Face model directory"},
        {LG_INPUT(&reference), .name = "REFERENCE.safetensors",
         .flags = LG_OPT_POSITIONAL | LG_OPT_REQUIRED,
         .help = "input_ids and the reference's outputs and\ngradients (tests/fixtures/hf)"},
        {LG_INPUT(&adapter), .name = "adapter", .arg = "PEFT_DIR",
         .help = "a PEFT LoRA adapter attached first; gradients\nare computed for exactly the "
                 "parameters the\nreference has"},
        LG_THREADS_OPT(&threads),
        {0}};
    lg_cli c = {.prog = "lm", .name = "check", .opts = opts,
                .about = "Runs the reference's input_ids through the model forward and backward "
                         "and\nprints the largest relative error per tensor group (max "
                         "|ours-ref| / max |ref|).\nExits 1 when logits, loss or hidden states "
                         "differ by more than 1e-5 or any\ngradient by more than 1e-4."};
    int rc = lg_cli_parse(&c, argc, argv);
    if (rc != LG_CLI_RUN)
        return rc;
    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
    lg_model *m = lg_model_load_dir(model, &err);
    if (!m)
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    lg_check_report r;
    if ((adapter && !lg_lora_load_peft(m, adapter, &err)) ||
        lg_check_reference(m, reference, &r, &err) < 0) {
        lg_model_free(m);
        return lg_cli_finish(&c, lg_cli_fail(&c, &err));
    }
    printf("%-14s %12s %10s  %s\n", "group", "max rel err", "tolerance", "worst tensor");
    for (int g = 0; g < LG_GROUP_COUNT; g++) {
        if (!r.tensors[g])
            continue;
        printf("%-14s %12.3e %10.0e  %s%s\n", lg_check_group_name(g), r.max_err[g], r.tolerance[g],
               r.worst[g], r.max_err[g] <= r.tolerance[g] ? "" : "  FAIL");
    }
    printf("%s\n", r.passed ? "check passed" : "check FAILED");
    lg_model_free(m);
    return lg_cli_finish(&c, r.passed ? 0 : 1);
}
