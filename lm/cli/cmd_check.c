/* `lm check MODEL_DIR REFERENCE.safetensors`: forward + backward against a HF reference. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "lg_check.h"
#include "lg_cli.h"
#include "lm_cmds.h"
#include "lg_lora.h"
#include "lg_model.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lm check [--adapter PEFT_DIR] [--threads N] MODEL_DIR REFERENCE.safetensors\n"
               "Runs the reference's input_ids through the model forward and backward and\n"
               "prints the largest relative error per tensor group (max |ours-ref| / max |ref|).\n"
               "Exits 1 when logits, loss or hidden states differ by more than 1e-5 or any\n"
               "gradient by more than 1e-4. With --adapter, a PEFT LoRA adapter is attached\n"
               "first; gradients are computed for exactly the parameters the reference has.\n");
}

int lg_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"threads", required_argument, NULL, 't'},
        {"adapter", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    int threads = 0, c;
    const char *adapter = NULL;
    while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        if (c == 't')
            threads = atoi(optarg);
        else if (c == 'a')
            adapter = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    lg_set_threads(lg_cli_threads(threads));
    lg_error err;
    lg_model *m = lg_model_load_dir(argv[optind], &err);
    if (!m) {
        lg_error_print("lm check", &err);
        return 1;
    }
    if (adapter && !lg_lora_load_peft(m, adapter, &err)) {
        lg_error_print("lm check", &err);
        lg_model_free(m);
        return 1;
    }
    lg_check_report r;
    if (lg_check_reference(m, argv[optind + 1], &r, &err) < 0) {
        lg_error_print("lm check", &err);
        lg_model_free(m);
        return 1;
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
    return r.passed ? 0 : 1;
}
